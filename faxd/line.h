/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fax lines and their channels behind one interface: every [line NAME] of the config with its
 * driver (loop, or SIP with G.711 RTP or T.38/UDPTL), one media thread driving all
 * active calls (T.30 over audio or ITU-T T.38 through faxd/fax_session), and a queue of results
 * handed to the main thread. The design essay is at the top of faxd/line.c.
 */
#ifndef FAXD_LINE_H
#define FAXD_LINE_H

#include <stdbool.h>
#include <stdint.h>

#include "faxd/fax_session.h"

struct config;
struct lines;
struct line;
struct call;

struct call_progress {
	const char *phase; /* "dialing","ringing","training","page","done" */
	int page, pages;
	int bit_rate;
};

struct call_request {
	const char *job_id; /* log tag */
	const char *number; /* E.164 */
	const char *dial;   /* dial string */
	const char *tiff;   /* TIFF-F document, all pages */
	int first_page,
	    last_page;		 /* 1-based; last_page 0 = to the end: page-level resume sends first..last */
	const char *ident;	 /* TSI; NULL = the line's ident */
	const char *header_info; /* page header line; NULL = none */
	bool disable_v17, disable_ecm;
	int max_duration_s; /* 0 = 60 s + 60 s per page */
	void (*progress)(void *ctx, const struct call_progress *p);
	void (*done)(void *ctx, const struct fax_report *report); /* exactly once per placed call */
	void *ctx;
};

struct inbound_offer {
	const char *line;
	const char *did;
	const char *caller_id;
	uint64_t call_id;
};

struct lines_callbacks {
	/* an incoming call: answer it with call_answer() or refuse with call_reject(), now or later */
	void (*incoming)(void *ctx, struct call *call, const struct inbound_offer *offer);
	/* the end of an answered incoming call; rx_file holds what arrived (may be partial, or absent when 0
	 * pages) */
	void (*incoming_done)(void *ctx, struct call *call, const struct fax_report *report,
			      const char *rx_file);
	void *ctx;
};

/* Every [line NAME] of the config (config_instances(cfg, "line")), each with its driver. Starts
   the media thread(s). config must outlive lines. */
struct lines *lines_create(const struct config *config, const struct lines_callbacks *cb,
			   const char **error_r);
void lines_free(struct lines **linesp); /* hangs up every call, joins the thread */

/* A line that can place a call now (direction send/both, a free channel), preferring `name` when
   non-NULL. Borrowed, lives as long as lines. */
struct line *lines_pick(struct lines *lines, const char *name);
/* The line called name, or NULL. */
struct line *lines_get(struct lines *lines, const char *name);
const char *line_name(const struct line *line);
int line_free_channels(const struct line *line);

/* Place a call; *call_r (optional) is borrowed and valid until done() has returned. Returns -1
   with *error_r when the line cannot take it (no free channel, direction receive, bad request):
   then done() is not called. */
int line_place_call(struct line *line, const struct call_request *req, struct call **call_r,
		    const char **error_r);
void call_hangup(struct call *call); /* cancel: the far end sees the hang-up and done() follows within 2 s */
/* Answer an offered call; what arrives is written to rx_file (TIFF T.6). ident NULL = the
   line's. An answered call ends with incoming_done(). */
int call_answer(struct call *call, const char *rx_file, const char *ident, const char **error_r);
/* Refuse an offered call; the call is freed: do not use it afterwards. */
void call_reject(struct call *call);
uint64_t call_id(const struct call *call);

/* All callbacks run on the caller's thread inside lines_dispatch(); lines_fd() becomes readable
   (eventfd) when there is something to dispatch, so faxd's main loop can poll it. lines_dispatch
   also does the periodic work (the loop line's originate spool); the fd also becomes readable
   about once a second for it. */
int lines_fd(struct lines *lines);
void lines_dispatch(struct lines *lines);

/* List of active calls for `faxctl watch` style views. */
int lines_snapshot(struct lines *lines,
		   char **text_r); /* g_free; one line per call: line, dir, number, phase, page n/m, rate */

/* Media thread statistics (benchmarks, faxctl): ticks run, 20 ms deadlines missed (realtime
   pacing), calls active. */
struct lines_stats {
	uint64_t ticks, missed_deadlines, late_ticks; /* late: >200 ms behind, clock re-based */
	int active_calls;
	double max_tick_ms; /* longest tick's work */
	double media_cpu_s; /* CPU time of the media threads so far */
};
void lines_get_stats(struct lines *lines, struct lines_stats *stats_r);
/* Zero ticks, missed deadlines and max_tick_ms (benchmarks measure a window). */
void lines_reset_stats(struct lines *lines);

/* loop line: ask the simulated far end of [line `line`] to call faxd: writes
   <save_dir>/originate/<unique>.call atomically (tmp + rename). from = caller id, did = number
   called, tiff = absolute path of the document to send. */
int loop_originate_request(const struct config *config, const char *line, const char *from, const char *did,
			   const char *tiff, const char **error_r);

#endif
