/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Inside the line layer: the driver vtable, struct line and struct call, and the helpers line.c
 * offers to drivers. Only faxd/line*.c include this. The threading rules are in line.c's essay.
 */
#ifndef FAXD_LINE_PRIVATE_H
#define FAXD_LINE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "faxd/fax_session.h"
#include "faxd/line.h"

#define LINE_TICK_SAMPLES 160 /* 20 ms at 8 kHz */
#define CALL_INFO_MAX 160

enum line_direction { LINE_DIRECTION_BOTH, LINE_DIRECTION_SEND, LINE_DIRECTION_RECEIVE };

/* One channel driver. (M) runs on the media thread of the line, (D) on the thread that calls
   lines_dispatch(). A driver keeps its per-line state in line->drv and per-call state in
   call->drv. Every call a driver starts ends with exactly one call_finish(). */
struct line_driver {
	const char *type;
	/* (D) read [line NAME] keys (group = "line NAME"); set line->drv. */
	int (*init)(struct line *line, const struct config *config, const char *group, const char **error_r);
	void (*deinit)(struct line *line);
	/* (D) periodic work from lines_dispatch (e.g. look for incoming calls); may be NULL. */
	void (*dispatch)(struct line *line);
	/* (M) start dialling an outgoing call. */
	void (*place)(struct call *call);
	/* (M) an offered incoming call was answered: bring up media, then call_connect(). */
	void (*answer)(struct call *call);
	/* (M) an offered incoming call was refused. */
	void (*reject)(struct call *call);
	/* (M) advance the call by `samples` (one tick): move media in and out of call->session. */
	void (*tick)(struct call *call, int samples);
	/* (M) our side hangs up (cancel, shutdown): the far end must see it; then call_finish(). */
	void (*hangup)(struct call *call, enum fax_outcome cause);
	/* (M) the near session has a T.38 IFP to send, `count` copies with one sequence number. */
	void (*t38_tx)(struct call *call, const uint8_t *ifp, size_t len, int count);
	/* (M) the near session finished a page (optional). */
	void (*near_page)(struct call *call, const struct fax_page_info *page);
	/* (M) free call->drv once the call is finished. */
	void (*call_free)(struct call *call);
	/* (M) optional: called on the line's media thread once per tick (every 20 ms on a realtime
	   thread), with or without calls, e.g. to run a signalling stack; a media thread with a
	   polling line never sleeps longer than a tick. Not called once the thread is stopping and
	   has no calls left. */
	void (*poll)(struct line *line);
	/* (M) optional: the media thread is about to exit (after its last poll); deinit follows on
	   the main thread. */
	void (*media_stop)(struct line *line);
};

extern const struct line_driver line_driver_loop;
extern const struct line_driver line_driver_sip;

struct media;

struct line {
	struct lines *lines;
	char *name;
	const struct line_driver *driver;
	void *drv;
	struct media *media;
	enum line_direction direction;
	enum fax_transport transport;
	bool realtime;
	int channels;
	int busy; /* (D) calls placed or offered and not yet dispatched as ended */
	char ident[FAX_IDENT_MAX + 1];
	bool ecm, v17;
	bool t30_trace; /* spandsp's T.30 flow as debug log lines */
	char **dids; /* NULL-terminated; empty = any */
};

enum call_state { CALL_STATE_OFFERED, CALL_STATE_ACTIVE, CALL_STATE_ENDED };

struct call {
	struct lines *lines;
	struct line *line;
	uint64_t id;
	bool outgoing;

	/* the request (outgoing) or the offer (incoming); owned copies */
	char *job_id, *number, *tiff, *ident, *header_info, *did, *caller_id, *rx_file;
	int first_page, last_page, pages_total;
	bool disable_v17, disable_ecm;
	int max_duration_s;
	void (*progress)(void *ctx, const struct call_progress *p);
	void (*done)(void *ctx, const struct fax_report *report);
	void *ctx;

	/* (D) */
	enum call_state state;
	struct timespec offered_at;
	const char *phase;
	int page, bit_rate;

	/* under lines->lock */
	bool media_done; /* the end has been posted: no more commands */

	/* (M) */
	char info[CALL_INFO_MAX];     /* under lines->lock: the driver's words for faxctl watch */
	enum fax_transport transport; /* what call_connect() gives the session: the line's, unless the
					 driver negotiated otherwise (SIP: T.38 declined, audio taken) */
	struct fax_session *session;  /* the near end: ours */
	bool near_done;
	struct fax_report near_report;
	bool finished;
	struct fax_report report;
	void *drv;
};

/* Helpers for drivers. */

/* (M) Create the near fax session (sending for an outgoing call, receiving for an incoming one)
   with the line's transport; progress "training" follows from phase B. -1 on error. */
int call_connect(struct call *call, const char **error_r);
/* (M) The driver's state of the call for faxctl watch (e.g. "trunk=x media=t38"). */
void call_set_info(struct call *call, const char *text);
/* (M) Post a progress phase ("ringing", ...). */
void call_post_phase(struct call *call, const char *phase);
/* (M) The call is over with this report; the media thread frees media and posts done() after the
   driver op returns. */
void call_finish(struct call *call, const struct fax_report *report);
/* (D) A new incoming call on line: offered to lines_callbacks.incoming. drv becomes call->drv
   (freed by call_free if the call is rejected). Returns the call, or NULL when the line has no
   free channel. */
struct call *line_offer_call(struct line *line, const char *did, const char *caller_id, void *drv);
/* (M) or (D): make lines_fd() readable so lines_dispatch() (and the drivers' dispatch) runs
   soon, e.g. after the media thread queued an incoming call for dispatch. */
void line_kick(struct line *line);
/* (D) true when did is one of the line's dids (or the line has none). */
bool line_accepts_did(const struct line *line, const char *did);

/* Small shared helpers. */
uint32_t line_rand(uint32_t *state);

#endif
