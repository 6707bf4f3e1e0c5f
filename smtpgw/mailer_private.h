/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_MAILER_PRIVATE_H
#define SMTPGW_MAILER_PRIVATE_H

#include <glib.h>
#include <stdint.h>

#include "smtpgw/notice.h"

struct config;
struct store;

struct mailer {
	const struct config *config;
	struct store *store;
	char *node;
	char *envelope_from; /* addr-spec of [mail] from */
	GPtrArray *routes;   /* struct mailroute * */
	GHashTable *route_states; /* name -> struct route_state * */
	struct mail_templates *templates;
	struct mail_env env;
	char *tmp_dir;
	int sigfd, wakefd;
	GAsyncQueue *done; /* struct delivery * back from the delivery threads */
	int64_t event_cursor;
	int64_t lease, retry_min, retry_max, expire, rate_pause;
	int poll_ms;
};

/* mailer_compose.c: new notifications and received faxes into the outbox. Each returns how many
   messages were queued, or -1 on a store error. */
int mailer_compose_notices(struct mailer *m);
int mailer_load_cursor(struct mailer *m);
int mailer_compose_faxes(struct mailer *m);
/* Queue one composed message for recipient through the route that takes it (a recipient that no
   route takes is recorded as failed). In the caller's transaction when one is open. */
int mailer_queue(struct mailer *m, const char *id, const char *kind, const char *job_id, const char *inbound_id,
		 const char *sender, const char *recipient, const GByteArray *message);
/* "<ID@hostname>" for the message queued as id. */
char *mailer_message_id(const struct mailer *m, const char *id);

#endif
