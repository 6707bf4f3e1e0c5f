/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_ACCEPT_H
#define SMTPGW_ACCEPT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/dialrules.h"
#include "common/jobid.h"

struct config;
struct directory;
struct fax_address;
struct profile;
struct store;

/* Who submits: decided by the session (trusted network, AUTH) or by pipe mode. */
struct accept_submitter {
	const char *sender;      /* envelope sender ("" for <>) */
	const char *auth_user;   /* authenticated login, NULL none */
	bool trusted;            /* trusted network, pipe mode or authenticated */
	bool admin;              /* may use admin-only options (port=, X-Fax-Port) */
	const char *client;      /* for the log: "host[addr]" or "pipe" */
	const char *envid;       /* DSN ENVID */
	int dsn_ret;             /* 0 unset, 1 FULL, 2 HDRS */
};

/* One accepted recipient. */
struct accept_rcpt {
	char *address;              /* as given in RCPT TO (raw path) */
	struct fax_address *fax;    /* NULL for the service mailbox */
	struct dial_number number;  /* when fax != NULL */
	bool service_mailbox;
	unsigned dsn_notify;        /* SMTP_DSN_NOTIFY_* bits, 0 unset */
	char *orcpt;
	int index;                  /* 1-based RCPT order */
};

/* The result per recipient: jobs created, or why not. */
struct accept_result {
	int code;            /* 250, 4xx, 5xx */
	char text[512];      /* "2.0.0 Ok: queued as J... J..." or the enhanced code and reason */
	GPtrArray *job_ids;  /* char * */
};

/* One mail transaction, from MAIL to the end of DATA. */
struct accept;

/* Settings the session reads once. */
struct accept_config {
	const struct config *config;
	struct store *store;
	struct dialrules *rules;
	const char *spool_dir;
	const char *node;
	bool refuse_untrusted_headers;
	struct directory *directory; /* online lookups ([ldap] online); NULL: profiles only */
};

struct accept *accept_begin(const struct accept_config *ac, const struct accept_submitter *sub,
			    struct profile *owner /* borrowed, may be NULL */);
void accept_free(struct accept **accp);
/* Check a recipient (grammar, dial rules, permission class of the owner); on success it is kept.
   0, or -1 with *code_r and reply_r ("5.1.3 ..."). */
int accept_add_rcpt(struct accept *acc, const char *raw, const char *local, const char *domain, unsigned notify,
		    const char *orcpt, int *code_r, char reply_r[512]);
int accept_rcpt_count(const struct accept *acc);
/* Message bytes, as they arrive (spooled to a file, never all in memory). -1: cannot spool. */
int accept_data(struct accept *acc, const char *data, size_t len);
/* End of DATA: read the headers, build and commit the jobs (raw message + one job per fax
   number, state rendering) in ONE store transaction, then fill results[i] per recipient
   (all the same for SMTP). Only after the commit is any result 250. */
void accept_commit(struct accept *acc, struct accept_result *results, int n);
void accept_results_clear(struct accept_result *results, int n);
/* For the transaction's log line. */
uint64_t accept_size(const struct accept *acc);

#endif
