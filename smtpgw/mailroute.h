/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_MAILROUTE_H
#define SMTPGW_MAILROUTE_H

#include <glib.h>

#include "smtpgw/relay.h"

struct config;

enum mailroute_transport {
	MAILROUTE_MAILDIR,
	MAILROUTE_SMTP,
};

/* One [mailroute NAME] of the configuration. */
struct mailroute {
	char *name;
	enum mailroute_transport transport;
	char **domains;  /* recipient domains, "*" any */
	char *maildir;
	struct relay_settings relay; /* strings owned by the route */
	int connections;
	int rate_per_minute;
};

/* Every [mailroute NAME] in file order ("default" on the embedded default), array of struct
   mailroute *, freed by g_ptr_array_unref. -1 with *error_r on a route that cannot work (smtp with
   an empty host, a password without a user...). */
int mailroutes_load(const struct config *config, GPtrArray **routes_r, const char **error_r);
/* The first route whose domains take address (domains compared case-insensitively), or NULL. */
const struct mailroute *mailroute_for(const GPtrArray *routes, const char *address);
/* "smtp relay.example:587 tls=starttls" or "maildir /var/mail/fax", for people (g_free). */
char *mailroute_describe(const struct mailroute *route);
/* Deliver through the route's transport. Maildir outcomes are mapped into result (temporary or
   permanent, code 0). dialogue as in relay_send (for maildir: one line naming the file written).
   0 when delivered, else -1. */
int mailroute_deliver(const struct mailroute *route, const char *sender, const char *recipient, const void *msg,
		      size_t len, struct relay_result *result, GString *dialogue);

#endif
