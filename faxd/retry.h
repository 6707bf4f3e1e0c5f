/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FAXD_RETRY_H
#define FAXD_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/job.h"
#include "faxd/fax_session.h"

struct config;
struct job;

/* Waits per failure class and the limits, from [retry] (after HylaFAX's defaults). */
struct retry_policy {
	int64_t busy, no_answer, no_fax, protocol, hangup; /* seconds */
	int64_t max_tries, max_dials;
};

void retry_policy_from_config(const struct config *config, struct retry_policy *policy_r);

/* What becomes of a job after a call. */
struct retry_decision {
	enum job_state state;   /* done, deferred, failed, expired (or cancelled) */
	int64_t next_try_at;    /* deferred: when */
	const char *result_code;/* "sent", "busy", "too-many-tries", ... */
	char result_text[200];
	bool counts_as_try;     /* the call reached a fax machine (or tried to) */
	bool disable_v17;       /* the next try goes without V.17 */
};

/* Decide from the call's report. job holds the counts before this call (tries, dials,
   pages_done including the pages this call confirmed, pages_total, max_*, retry_interval,
   expires_at). Pure: no I/O, no clock but `now`. */
void retry_decide(const struct retry_policy *policy, const struct job *job, const struct fax_report *report,
		  int64_t now, struct retry_decision *decision_r);

#endif
