/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What happens to a job after a call: done, retried later (deferred, with a wait per failure
 * class), or ended (failed, expired). The classes and waits follow HylaFAX: busy 180 s, no answer
 * 300 s, protocol 60 s. A call that ended in a failed training drops V.17 for the next try
 * (spandsp 0.0.6 does not fall back by itself). Busy and no-answer count as dials, not tries;
 * everything that reached (or tried to reach) a fax machine counts as a try.
 */
#include "faxd/retry.h"

#include <stdio.h>

#include "common/config.h"
#include "common/store.h"

void retry_policy_from_config(const struct config *config, struct retry_policy *p)
{
	p->busy = config_int(config, "retry", "busy");
	p->no_answer = config_int(config, "retry", "no_answer");
	p->no_fax = config_int(config, "retry", "no_fax");
	p->protocol = config_int(config, "retry", "protocol");
	p->hangup = config_int(config, "retry", "hangup");
	p->max_tries = config_int(config, "retry", "max_tries");
	p->max_dials = config_int(config, "retry", "max_dials");
}

/* The wait for a retryable outcome, or -1 when the outcome ends the job. */
static int64_t class_wait(const struct retry_policy *p, enum fax_outcome o, bool *counts_as_try)
{
	*counts_as_try = true;
	switch (o) {
	case FAX_OUTCOME_BUSY: *counts_as_try = false; return p->busy;
	case FAX_OUTCOME_NO_ANSWER: *counts_as_try = false; return p->no_answer;
	case FAX_OUTCOME_LINE: *counts_as_try = false; return p->protocol;
	case FAX_OUTCOME_NO_FAX: return p->no_fax;
	case FAX_OUTCOME_PROTOCOL:
	case FAX_OUTCOME_TRAINING:
	case FAX_OUTCOME_TIMEOUT: return p->protocol;
	case FAX_OUTCOME_HANGUP:
	case FAX_OUTCOME_OK: /* OK with pages missing: the far end hung up early */
		return p->hangup;
	case FAX_OUTCOME_INCOMPATIBLE:
	case FAX_OUTCOME_REJECTED:
	case FAX_OUTCOME_INVALID_NUMBER:
	case FAX_OUTCOME_DOCUMENT:
	case FAX_OUTCOME_CANCELLED:
		break;
	}
	return -1;
}

void retry_decide(const struct retry_policy *policy, const struct job *job, const struct fax_report *r,
		  int64_t now, struct retry_decision *d)
{
	*d = (struct retry_decision){0};
	d->disable_v17 = job->disable_v17 || r->outcome == FAX_OUTCOME_TRAINING;
	if (r->outcome == FAX_OUTCOME_OK && job->pages_done >= job->pages_total) {
		d->counts_as_try = true;
		d->state = JOB_STATE_DONE;
		d->result_code = "sent";
		snprintf(d->result_text, sizeof(d->result_text), "sent %lld pages", (long long)job->pages_total);
		return;
	}
	int64_t wait = class_wait(policy, r->outcome, &d->counts_as_try);
	if (wait < 0) {
		d->state = r->outcome == FAX_OUTCOME_CANCELLED ? JOB_STATE_CANCELLED : JOB_STATE_FAILED;
		d->result_code = fax_outcome_name(r->outcome);
		snprintf(d->result_text, sizeof(d->result_text), "%s", r->text);
		return;
	}
	int64_t max_tries = job->max_tries > 0 ? job->max_tries : policy->max_tries;
	int64_t max_dials = job->max_dials > 0 ? job->max_dials : policy->max_dials;
	int64_t tries = job->tries + (d->counts_as_try ? 1 : 0), dials = job->dials + 1;
	if (job->retry_interval > 0)
		wait = job->retry_interval;
	d->next_try_at = now + wait;
	if (tries >= max_tries || dials >= max_dials) {
		d->state = JOB_STATE_FAILED;
		d->result_code = tries >= max_tries ? "too-many-tries" : "too-many-dials";
		snprintf(d->result_text, sizeof(d->result_text), "gave up after %lld tries and %lld dials; last: %s",
			 (long long)tries, (long long)dials, r->text);
	} else if (job->expires_at > 0 && d->next_try_at >= job->expires_at) {
		d->state = JOB_STATE_EXPIRED;
		d->result_code = "expired";
		snprintf(d->result_text, sizeof(d->result_text), "expires before the next try; last: %s", r->text);
	} else {
		d->state = JOB_STATE_DEFERRED;
		d->result_code = fax_outcome_name(r->outcome == FAX_OUTCOME_OK ? FAX_OUTCOME_HANGUP : r->outcome);
		snprintf(d->result_text, sizeof(d->result_text), "%s; retry in %llds", r->text, (long long)wait);
	}
}
