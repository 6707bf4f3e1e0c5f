/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_STORE_H
#define COMMON_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/job.h"
#include "common/jobid.h"

struct config;
struct db;
struct store;

/* A fax job as stored. Strings are owned by the struct (store_job_free). Times are Unix
   seconds; 0 means unset. */
struct job {
	char id[JOBID_SIZE];
	enum job_state state;
	char *owner;          /* the submitting user (address or login) */
	char *sender;         /* envelope sender */
	char *number;         /* E.164 */
	char *dial;           /* dial string */
	char *recipient_name, *recipient_company;
	char *line;           /* requested line, NULL = any */
	char *resolution;     /* standard | fine | superfine */
	char *paper;          /* a4 | letter | legal */
	char *tsi, *header_line;
	char *notify, *notify_to, *client_ref, *idempotency_key;
	char *result_code, *result_text, *remote_ident;
	char *lease_owner;
	char *progress;       /* while sending: "phase=page page=2 pages=3 rate=14400" */
	int64_t created_at, updated_at, send_at, next_try_at, expires_at, lease_until, completed_at;
	int64_t message_doc, pages_doc; /* document ids, 0 none */
	int64_t priority, tries, max_tries, dials, max_dials, retry_interval;
	int64_t pages_total, pages_done; /* pages_done: confirmed by the far end, in order */
	int64_t disable_v17, disable_ecm;
	GHashTable *fields; /* more named values (cover fields, tags, billing codes): name -> value */
};

/* One call of a job. */
struct attempt {
	int64_t id;
	char job_id[JOBID_SIZE];
	char *line, *outcome, *result_text, *remote_ident;
	int64_t started_at, ended_at, result_code;
	int64_t pages_sent, pages_total, bit_rate, ecm, first_page;
};

/* A received fax. */
struct inbound {
	char id[JOBID_SIZE];
	char *line, *did, *caller_id, *remote_csid, *resolution, *result_text, *state;
	int64_t received_at, pages, duration_ms, result_code, partial, document_id;
};

struct job_event {
	int64_t id;
	char job_id[JOBID_SIZE];
	int64_t at;
	char *from_state, *to_state, *text, *node;
};

int store_open(const struct config *config, struct store **store_r, const char **error_r);
int store_open_uri(const char *uri, int busy_timeout_ms, struct store **store_r, const char **error_r);
void store_close(struct store **storep);
/* The SQL connection, for modules with tables of their own (profiles, outbox). */
struct db *store_db(struct store *store);
const char *store_error(const struct store *store);
int store_schema_version(struct store *store);

/* Transactions (nesting, see db.h). Every function below runs in one transaction of its own,
   or inside the caller's when one is open. */
int store_begin(struct store *store);
int store_commit(struct store *store);
void store_rollback(struct store *store);

/* Documents: the raw message, the rendered pages, received faxes. */
int store_document_put(struct store *store, const char *kind, const char *content_type, const void *data,
		       size_t len, int64_t *id_r);
/* The same from an open file (a spooled message) of size bytes, copied in chunks. */
int store_document_put_fd(struct store *store, const char *kind, const char *content_type, int fd, uint64_t size,
			  int64_t *id_r);
/* *data_r is g_malloc'd. */
int store_document_get(struct store *store, int64_t id, void **data_r, size_t *len_r, char **content_type_r);

struct job *store_job_new(void);
void store_job_free(struct job **jobp);
/* Give the job a fresh id (unless it has one) and insert it with an event "submitted". */
int store_job_insert(struct store *store, struct job *job, const char *node);
/* 1 found, 0 not found, -1 error. */
int store_job_get(struct store *store, const char *id, struct job **job_r);
/* Write every field of job back. The stored state must be `expected`; a change of state must be
   one the state machine allows. Adds an event with text. -1 and store_error() otherwise
   (a job changed by someone else, e.g. cancelled, gives "state is now X"). */
int store_job_save(struct store *store, struct job *job, enum job_state expected, const char *node,
		   const char *event_text);
/* Change only the state (operator actions: cancel, hold, retry) with the same checks. */
int store_job_set_state(struct store *store, const char *id, enum job_state to, const char *node,
			const char *event_text);
/* Jobs, newest first; state < 0 means any. Array of struct job *, free with store_jobs_free. */
int store_job_list(struct store *store, int state, int limit, GPtrArray **jobs_r);
void store_jobs_free(GPtrArray **jobsp);
int store_job_events(struct store *store, const char *id, GPtrArray **events_r); /* struct job_event * */
void store_events_free(GPtrArray **eventsp);
/* Events of every job after event id `after` that moved a job into to_state (NULL: any), oldest
   first, at most limit: how the mailer follows jobs without missing one. */
int store_events_after(struct store *store, int64_t after, const char *to_state, int limit, GPtrArray **events_r);

/* Hand one due job to this node: queued or deferred with next_try_at <= now, or sending with an
   expired lease; not expired; not a number already at max_per_destination active calls. The job
   becomes sending with lease_owner = node, lease_until = now + lease_s. 1 claimed (job_r), 0 none,
   -1 error. Two processes never claim the same job. */
int store_claim_due(struct store *store, const char *node, int64_t now, int64_t lease_s,
		    int max_per_destination, struct job **job_r);
/* Hand one job waiting in `rendering` to a render worker of this node: a lease without a change
   of state (the job stays rendering until its pages are stored). Same return values. */
int store_claim_rendering(struct store *store, const char *node, int64_t now, int64_t lease_s, struct job **job_r);
/* Extend a lease held by node; -1 when the job is no longer ours (cancelled, reclaimed). */
int store_lease_renew(struct store *store, const char *id, const char *node, int64_t until);
/* Record a call's progress on a job held by node: pages confirmed so far and a progress text.
   Persisting pages_done per page is what lets a retry after a crash resume at the right page. */
int store_job_progress(struct store *store, const char *id, const char *node, int64_t pages_done,
		       const char *progress);
/* At start, a node has no calls: its own leases from an earlier life are given up at once. */
int store_release_leases(struct store *store, const char *node);
/* Move queued/deferred/held jobs past their expires_at to expired; returns how many, or -1. */
int store_expire_due(struct store *store, int64_t now, const char *node);

int store_attempt_add(struct store *store, const struct attempt *attempt);
int store_attempt_list(struct store *store, const char *job_id, GPtrArray **attempts_r); /* struct attempt * */
void store_attempts_free(GPtrArray **attemptsp);

int store_inbound_insert(struct store *store, struct inbound *inbound);
int store_inbound_list(struct store *store, int limit, GPtrArray **inbound_r); /* struct inbound * */
void store_inbound_list_free(GPtrArray **inboundp);
/* Received faxes in state (e.g. "received": not yet mailed), oldest first. */
int store_inbound_in_state(struct store *store, const char *state, int limit, GPtrArray **inbound_r);
/* Move a received fax from one state to another: 1 moved, 0 it was not in `from`, -1 error. */
int store_inbound_set_state(struct store *store, const char *id, const char *from, const char *to);

#endif
