/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_RXROUTE_H
#define SMTPGW_RXROUTE_H

#include <glib.h>
#include <stdbool.h>

struct config;
struct inbound;
struct store;

/* Where one received fax goes. */
struct rx_target {
	char *address;
	char *format;   /* pdf | tiff | both | none */
	char *language; /* of the mail text */
};

/* The mailboxes a received fax goes to, in this order (the first that gives any wins):
   [rxrule NAME] groups whose did/caller_id/csid match ("rule"), the [routes] table ("route"),
   profiles with the DID ("profile"; a group's members, each once), else [mail] fallback or
   admin ("default"). Array of struct rx_target *; *routed_by_r names the step. */
int rxroute_resolve(const struct config *config, struct store *store, const struct inbound *in,
		    GPtrArray **targets_r, const char **routed_by_r, const char **error_r);
/* Whether a configured number matches a dialled one: the same digits (a leading + ignored),
   or a key of digits only that is the tail of the DID (an extension: "100" takes +12125550100). */
bool rxroute_did_matches(const char *key, const char *did);

#endif
