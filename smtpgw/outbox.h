/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_OUTBOX_H
#define SMTPGW_OUTBOX_H

#include <glib.h>
#include <stdint.h>

#include "common/jobid.h"

struct store;

/*
 * The mailer's queue: one row per message and recipient, the composed message a document. A row
 * is queued or deferred until a mailer claims it (sending, with a lease); it ends sent (after the
 * relay's 250 or the Maildir link) or failed. Messages are composed when they are queued, so a
 * delivery never depends on anything but the row and its document.
 */
struct outbox_msg {
	char id[JOBID_SIZE];
	char *kind;        /* notice | fax | bounce | test */
	char *job_id;      /* the job a notice is about, or NULL */
	char *inbound_id;  /* the received fax, or NULL */
	char *route;       /* [mailroute NAME] chosen when queued */
	char *sender;      /* envelope sender ("" = <>) */
	char *recipient;
	char *state;       /* queued | deferred | sending | sent | failed */
	char *last_error;
	int64_t created_at, document_id, tries, next_try_at, expires_at;
};

void outbox_msg_free(struct outbox_msg **msgp);

/* Queue msg (id given here) with its message; runs in the caller's transaction when one is open. */
int outbox_enqueue(struct store *store, struct outbox_msg *msg, const void *data, size_t len, const char **error_r);
/* Claim the oldest due row (queued, or deferred with next_try_at <= now) of one of routes (NULL:
   any route). 1 claimed (*msg_r), 0 none, -1 error. */
int outbox_claim(struct store *store, const char *node, int64_t now, int64_t lease_s, const char *const *routes,
		 struct outbox_msg **msg_r, const char **error_r);
/* The row's message, g_malloc'd. */
int outbox_message(struct store *store, const struct outbox_msg *msg, void **data_r, size_t *len_r,
		   const char **error_r);
/* End a claimed row: state sent, deferred (next_try_at) or failed, with the reason. The row must
   still be ours (sending, lease_owner node); -1 otherwise. */
int outbox_finish(struct store *store, const struct outbox_msg *msg, const char *node, const char *state,
		  int64_t next_try_at, const char *reason, const char **error_r);
/* At start a node has no deliveries running: rows it held in an earlier life go back to the queue
   at once. *count_r is how many: each may have been delivered already (a relay that said 250
   just before we died) and may arrive twice. */
int outbox_release_leases(struct store *store, const char *node, int *count_r, const char **error_r);
/* Rows per state: state name -> count (GINT_TO_POINTER). */
int outbox_counts(struct store *store, GHashTable **counts_r, const char **error_r);

/* Small named values the mailer keeps (route pauses, the event cursor, counters): the store's
   sync_state table. *value_r g_malloc'd, NULL when unset. */
int outbox_state_get(struct store *store, const char *name, char **value_r, const char **error_r);
int outbox_state_set(struct store *store, const char *name, const char *value, const char **error_r);
/* Every named value whose name starts with prefix: name -> value. */
int outbox_state_list(struct store *store, const char *prefix, GHashTable **values_r, const char **error_r);

#endif
