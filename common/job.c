/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The job state machine, in one place. Every state change goes through the store, which asks
 * job_transition_allowed() inside the transaction that makes the change.
 *
 *   submitted -> rendering -> queued -> sending -> done | failed | cancelled | expired
 *                   |            ^  \      |
 *                   |            |   \     v
 *                   |         deferred <- (retry later)     held <-> (queued, deferred, rendering)
 *                   v
 *                 failed (format-failed), cancelled, expired
 */
#include "common/job.h"

#include <string.h>

static const char *const state_names[JOB_STATE_COUNT] = {
	[JOB_STATE_SUBMITTED] = "submitted", [JOB_STATE_RENDERING] = "rendering",
	[JOB_STATE_QUEUED] = "queued",       [JOB_STATE_SENDING] = "sending",
	[JOB_STATE_DEFERRED] = "deferred",   [JOB_STATE_HELD] = "held",
	[JOB_STATE_DONE] = "done",           [JOB_STATE_FAILED] = "failed",
	[JOB_STATE_CANCELLED] = "cancelled", [JOB_STATE_EXPIRED] = "expired",
};

#define S(x) (1u << JOB_STATE_##x)
/* allowed[from] is the set of states reachable in one step. */
static const unsigned allowed[JOB_STATE_COUNT] = {
	[JOB_STATE_SUBMITTED] = S(RENDERING) | S(QUEUED) | S(FAILED) | S(CANCELLED) | S(HELD),
	[JOB_STATE_RENDERING] = S(QUEUED) | S(FAILED) | S(CANCELLED) | S(EXPIRED) | S(HELD) | S(SUBMITTED),
	[JOB_STATE_QUEUED] = S(SENDING) | S(CANCELLED) | S(EXPIRED) | S(HELD) | S(FAILED),
	/* sending -> queued: a lease expired or faxd stopped before dialling;
	   sending -> rendering: the far end refused the resolution, render again at standard */
	[JOB_STATE_SENDING] = S(DONE) | S(FAILED) | S(CANCELLED) | S(EXPIRED) | S(DEFERRED) | S(QUEUED) | S(RENDERING),
	[JOB_STATE_DEFERRED] = S(SENDING) | S(QUEUED) | S(CANCELLED) | S(EXPIRED) | S(HELD) | S(FAILED),
	[JOB_STATE_HELD] = S(QUEUED) | S(DEFERRED) | S(RENDERING) | S(CANCELLED) | S(EXPIRED),
	/* an operator's retry brings a failed or expired job back */
	[JOB_STATE_DONE] = 0,
	[JOB_STATE_FAILED] = S(QUEUED),
	[JOB_STATE_CANCELLED] = 0,
	[JOB_STATE_EXPIRED] = S(QUEUED),
};
#undef S

const char *job_state_name(enum job_state state)
{
	return (unsigned)state < JOB_STATE_COUNT ? state_names[state] : "invalid";
}

int job_state_parse(const char *name, enum job_state *state_r)
{
	for (int i = 0; i < JOB_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*state_r = (enum job_state)i;
			return 0;
		}
	}
	return -1;
}

bool job_state_final(enum job_state state)
{
	return state == JOB_STATE_DONE || state == JOB_STATE_FAILED || state == JOB_STATE_CANCELLED ||
	       state == JOB_STATE_EXPIRED;
}

bool job_transition_allowed(enum job_state from, enum job_state to)
{
	if ((unsigned)from >= JOB_STATE_COUNT || (unsigned)to >= JOB_STATE_COUNT)
		return false;
	return (allowed[from] & (1u << to)) != 0;
}
