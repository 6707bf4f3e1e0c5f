/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_JOB_H
#define COMMON_JOB_H

#include <stdbool.h>

/* The life of a fax job. The one table of legal moves is in job.c. */
enum job_state {
	JOB_STATE_SUBMITTED, /* accepted, raw message stored */
	JOB_STATE_RENDERING, /* a render worker turns it into pages */
	JOB_STATE_QUEUED,    /* pages ready, waiting for its time and a line */
	JOB_STATE_SENDING,   /* a faxd holds it (lease) and is calling */
	JOB_STATE_DEFERRED,  /* waiting to retry at next_try */
	JOB_STATE_HELD,      /* stopped by an operator until released */
	JOB_STATE_DONE,      /* every page confirmed by the far end */
	JOB_STATE_FAILED,
	JOB_STATE_CANCELLED,
	JOB_STATE_EXPIRED,
};
#define JOB_STATE_COUNT (JOB_STATE_EXPIRED + 1)

const char *job_state_name(enum job_state state);
int job_state_parse(const char *name, enum job_state *state_r);
bool job_state_final(enum job_state state);
/* Whether the state machine allows from -> to. */
bool job_transition_allowed(enum job_state from, enum job_state to);

#endif
