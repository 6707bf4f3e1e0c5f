/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fax lines, channels and the media thread: the layer between faxd's queue runner and the fax
 * sessions (ITU-T T.30 over audio, or ITU-T T.38 over UDPTL), whatever carries the calls.
 *
 * Drivers. Each [line NAME] names a driver (`type`). A driver is a struct line_driver vtable
 * (line_private.h): init/deinit/dispatch on the main thread; place, answer, reject, tick, hangup,
 * t38_tx, call_free on the media thread. The driver moves media between the network (or, for the
 * loop driver, a simulated far-end fax machine) and the call's near fax_session, which this file
 * creates (call_connect) and whose events it turns into progress and results. A SIP driver fits
 * the same ops: place = send INVITE, tick = read RTP/UDPTL from its sockets into the session and
 * send what the session produced, hangup = BYE, answer = 200 OK, reject = 486/603, dispatch =
 * its signalling socket or a registration timer; a re-INVITE to T.38 swaps call->session for a
 * T.38 one (a new session: spandsp 0.0.6 has no in-call hand-over). faxd/line_sip.c is that
 * driver; because its signalling stack must run even with no calls, a driver may have a `poll`
 * op, called on its media thread every tick (such a thread never idles longer than a tick), and
 * `media_stop` when that thread exits; a call's transport (call->transport) starts as the line's
 * and the driver may change it before call_connect() (T.38 offered, G.711 answered).
 *
 * Threads. The main thread (faxd's loop) calls every public function; every callback to it runs
 * inside lines_dispatch(). Media threads own the active calls: one for lines with
 * `pacing = realtime`, ticking every 20 ms against absolute CLOCK_MONOTONIC deadlines
 * (clock_nanosleep TIMER_ABSTIME, so sleeps never drift; a tick that ends after the next deadline
 * counts as missed, and more than 200 ms behind re-bases the clock instead of bursting), and one
 * for `pacing = fast` lines that steps every call by 20 ms of simulated time as fast as the CPU
 * allows. Time inside a call is the samples fed to its sessions, so fast and real time run the
 * same T.30 code with the same timers.
 *
 * Hand-over. Main -> media: commands (place, answer, reject, hangup) on a queue under
 * lines->lock, with a condition variable to wake an idle thread. Media -> main: events (progress,
 * done, freed) on a queue under the same lock, and an eventfd that lines_fd() returns so faxd can
 * poll it. A call belongs to the media thread from its place/answer command until it posts its
 * end (call->media_done, set under the lock, after which no command for it is queued and pending
 * ones are dropped); main frees it after dispatching that end. The media threads also make the
 * eventfd readable about once a second so the periodic work (the loop line's originate spool)
 * runs without a timer of faxd's own.
 */
#include "faxd/line.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "faxd/line_private.h"
#include "faxd/tiffpages.h"

#define TICK_NS 20000000LL
#define RESYNC_NS 200000000LL
#define KICK_NS 1000000000LL
#define OFFER_TIMEOUT_S 60
#define SPOOL_INTERVAL_NS 100000000LL

enum cmd_kind { CMD_PLACE, CMD_ANSWER, CMD_REJECT, CMD_HANGUP };

struct cmd {
	enum cmd_kind kind;
	struct call *call;
	enum fax_outcome cause;
};

enum event_kind { EVENT_PROGRESS, EVENT_DONE, EVENT_FREED };

struct event {
	enum event_kind kind;
	struct call *call;
	struct call_progress progress;
	struct fax_report report;
};

struct media {
	struct lines *lines;
	bool realtime;
	pthread_t thread;
	bool started;
	pthread_cond_t cond;
	GQueue cmds;		  /* under lock */
	GPtrArray *active;	  /* media thread only */
	GPtrArray *pollers;	  /* lines with a poll op; fixed once the thread runs */
	struct lines_stats stats; /* under lock */
	double cpu_s;
	int64_t tick_ns; /* realtime: 20 ms, divided by [faxd] media_speed */
};

struct lines {
	const struct config *config;
	struct lines_callbacks cb;
	GPtrArray *lines;
	GList *calls; /* (D) every call not yet freed */
	uint64_t next_call_id;
	pthread_mutex_t lock;
	GQueue events; /* under lock */
	bool stop;     /* under lock */
	int efd;
	struct media media[2]; /* [0] realtime, [1] fast */
	int64_t last_spool_ns;
	int dispatch_now; /* atomic: a driver asked for its dispatch (line_kick) */
};

static const struct line_driver *const drivers[] = {&line_driver_loop, &line_driver_sip};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint32_t line_rand(uint32_t *state)
{
	uint32_t x = *state != 0 ? *state : 0x12345678u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void kick(struct lines *lines)
{
	uint64_t one = 1;
	ssize_t n = write(lines->efd, &one, sizeof(one));
	(void)n; /* EAGAIN: the counter is already non-zero, readable anyway */
}

void line_kick(struct line *line)
{
	__atomic_store_n(&line->lines->dispatch_now, 1, __ATOMIC_RELEASE);
	kick(line->lines);
}

/* under lock */
static void post_locked(struct lines *lines, const struct event *ev)
{
	g_queue_push_tail(&lines->events, g_memdup2(ev, sizeof(*ev)));
}

static void post(struct lines *lines, const struct event *ev)
{
	pthread_mutex_lock(&lines->lock);
	post_locked(lines, ev);
	pthread_mutex_unlock(&lines->lock);
	kick(lines);
}

/* ---------------------------------------------------------------------------------------- */
/* Calls: helpers for drivers (media thread) */

void call_post_phase(struct call *call, const char *phase)
{
	struct event ev = {.kind = EVENT_PROGRESS, .call = call};
	ev.progress.phase = phase;
	ev.progress.pages = call->pages_total;
	post(call->lines, &ev);
}

static int near_phase_b(void *ctx, const char *remote_ident)
{
	call_post_phase(ctx, "training");
	return 0;
}

static void near_page(void *ctx, const struct fax_page_info *page)
{
	struct call *call = ctx;
	struct event ev = {.kind = EVENT_PROGRESS, .call = call};
	ev.progress.phase = "page";
	ev.progress.page = page->pages_done;
	ev.progress.pages = call->pages_total;
	ev.progress.bit_rate = page->bit_rate;
	post(call->lines, &ev);
	if (call->line->driver->near_page != NULL)
		call->line->driver->near_page(call, page);
}

static void near_done(void *ctx, const struct fax_report *report)
{
	struct call *call = ctx;
	call->near_report = *report;
	call->near_done = true;
}

static void near_t38_tx(void *ctx, const uint8_t *ifp, size_t len, int count)
{
	struct call *call = ctx;
	if (call->line->driver->t38_tx != NULL)
		call->line->driver->t38_tx(call, ifp, len, count);
}

int call_connect(struct call *call, const char **error_r)
{
	struct line *line = call->line;
	struct fax_session_settings set;
	fax_session_settings_default(&set);
	set.log_tag = call->job_id != NULL ? call->job_id : line->name;
	set.transport = call->transport;
	set.log_flow = line->t30_trace;
	set.calling = call->outgoing;
	set.ident = call->ident != NULL ? call->ident : line->ident;
	set.ecm = line->ecm && !call->disable_ecm;
	set.modems = FAX_MODEM_V27TER | FAX_MODEM_V29;
	if (line->v17 && !call->disable_v17)
		set.modems |= FAX_MODEM_V17;
	if (call->outgoing) {
		set.tx_file = call->tiff;
		set.first_page = call->first_page;
		set.last_page = call->last_page;
		set.header_info = call->header_info;
		set.max_duration_s = call->max_duration_s;
	} else {
		set.rx_file = call->rx_file;
	}
	struct fax_session_callbacks cb = {
	    .phase_b = near_phase_b,
	    .page = near_page,
	    .done = near_done,
	    .t38_tx = near_t38_tx,
	    .ctx = call,
	};
	call->session = fax_session_create(&set, &cb, error_r);
	return call->session != NULL ? 0 : -1;
}

void call_finish(struct call *call, const struct fax_report *report)
{
	if (call->finished)
		return;
	call->finished = true;
	call->report = *report;
}

/* ---------------------------------------------------------------------------------------- */
/* The media thread */

static void free_call_media(struct call *call)
{
	if (call->line->driver->call_free != NULL)
		call->line->driver->call_free(call);
	call->drv = NULL;
	fax_session_free(&call->session);
}

/* Drop queued commands for a call that has ended (under lock). */
static void scrub_cmds_locked(struct media *m, struct call *call)
{
	for (GList *l = m->cmds.head; l != NULL;) {
		GList *next = l->next;
		struct cmd *c = l->data;
		if (c->call == call) {
			g_free(c);
			g_queue_delete_link(&m->cmds, l);
		}
		l = next;
	}
}

static void end_call(struct media *m, struct call *call)
{
	struct lines *lines = m->lines;
	free_call_media(call);
	g_ptr_array_remove_fast(m->active, call);
	struct event ev = {.kind = EVENT_PROGRESS, .call = call};
	ev.progress.phase = "done";
	ev.progress.page = call->report.pages_done;
	ev.progress.pages = call->pages_total;
	ev.progress.bit_rate = call->report.bit_rate;
	struct event done = {.kind = EVENT_DONE, .call = call, .report = call->report};
	pthread_mutex_lock(&lines->lock);
	post_locked(lines, &ev);
	post_locked(lines, &done);
	call->media_done = true;
	scrub_cmds_locked(m, call);
	pthread_mutex_unlock(&lines->lock);
	kick(lines);
}

static void run_cmd(struct media *m, struct cmd *c)
{
	struct call *call = c->call;
	const struct line_driver *drv = call->line->driver;
	switch (c->kind) {
	case CMD_PLACE:
		g_ptr_array_add(m->active, call);
		call_post_phase(call, "dialing");
		drv->place(call);
		break;
	case CMD_ANSWER:
		g_ptr_array_add(m->active, call);
		drv->answer(call);
		break;
	case CMD_REJECT: {
		if (drv->reject != NULL)
			drv->reject(call);
		free_call_media(call);
		struct event ev = {.kind = EVENT_FREED, .call = call};
		pthread_mutex_lock(&m->lines->lock);
		post_locked(m->lines, &ev);
		call->media_done = true;
		scrub_cmds_locked(m, call);
		pthread_mutex_unlock(&m->lines->lock);
		kick(m->lines);
		break;
	}
	case CMD_HANGUP:
		if (!call->finished)
			drv->hangup(call, c->cause);
		break;
	}
	if (call->finished && c->kind != CMD_REJECT)
		end_call(m, call);
}

static void step_calls(struct media *m)
{
	for (guint i = 0; i < m->active->len;) {
		struct call *call = g_ptr_array_index(m->active, i);
		if (!call->finished)
			call->line->driver->tick(call, LINE_TICK_SAMPLES);
		if (call->finished) {
			end_call(m, call); /* removes index i (swapped with the last) */
			continue;
		}
		i++;
	}
}

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *media_main(void *arg)
{
	struct media *m = arg;
	struct lines *lines = m->lines;
	int64_t deadline = now_ns();
	int64_t next_kick = deadline + KICK_NS;
	GQueue local = G_QUEUE_INIT;
	bool stopping = false;
	for (;;) {
		pthread_mutex_lock(&lines->lock);
		if (lines->stop && !stopping) {
			stopping = true;
			/* hang up everything still running */
			for (guint i = 0; i < m->active->len; i++) {
				struct cmd *c = g_new0(struct cmd, 1);
				c->kind = CMD_HANGUP;
				c->call = g_ptr_array_index(m->active, i);
				c->cause = FAX_OUTCOME_CANCELLED;
				g_queue_push_tail(&m->cmds, c);
			}
		}
		if (m->active->len == 0 && g_queue_is_empty(&m->cmds) && (stopping || m->pollers->len == 0)) {
			if (stopping) {
				pthread_mutex_unlock(&lines->lock);
				for (guint i = 0; i < m->pollers->len; i++) {
					struct line *line = g_ptr_array_index(m->pollers, i);
					if (line->driver->media_stop != NULL)
						line->driver->media_stop(line);
				}
				break;
			}
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&m->cond, &lines->lock, &until);
			pthread_mutex_unlock(&lines->lock);
			int64_t t = now_ns();
			if (t >= next_kick) {
				next_kick = t + KICK_NS;
				kick(lines);
			}
			deadline = now_ns();
			continue;
		}
		while (!g_queue_is_empty(&m->cmds))
			g_queue_push_tail(&local, g_queue_pop_head(&m->cmds));
		pthread_mutex_unlock(&lines->lock);

		int64_t start = now_ns();
		for (guint i = 0; i < m->pollers->len; i++) {
			struct line *line = g_ptr_array_index(m->pollers, i);
			line->driver->poll(line);
		}
		struct cmd *c;
		while ((c = g_queue_pop_head(&local)) != NULL) {
			run_cmd(m, c);
			g_free(c);
		}
		if (stopping) {
			/* new calls placed while stopping end at once */
			for (guint i = 0; i < m->active->len; i++) {
				struct call *call = g_ptr_array_index(m->active, i);
				if (!call->finished)
					call->line->driver->hangup(call, FAX_OUTCOME_CANCELLED);
			}
		}
		step_calls(m);
		int64_t end = now_ns();

		bool missed = false;
		if (m->realtime) {
			deadline += m->tick_ns;
			if (end > deadline) {
				missed = true;
				if (end - deadline > RESYNC_NS)
					deadline = end;
			} else {
				struct timespec ts = {.tv_sec = deadline / 1000000000LL,
						      .tv_nsec = deadline % 1000000000LL};
				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
					;
			}
		}
		double tick_ms = (double)(end - start) / 1e6;
		pthread_mutex_lock(&lines->lock);
		m->stats.ticks++;
		if (missed)
			m->stats.missed_deadlines++;
		if (missed && deadline == end)
			m->stats.late_ticks++;
		if (tick_ms > m->stats.max_tick_ms)
			m->stats.max_tick_ms = tick_ms;
		m->stats.active_calls = (int)m->active->len;
		m->cpu_s = thread_cpu();
		pthread_mutex_unlock(&lines->lock);
		if (end >= next_kick) {
			next_kick = end + KICK_NS;
			kick(lines);
		}
	}
	return NULL;
}

static void queue_cmd(struct call *call, enum cmd_kind kind, enum fax_outcome cause)
{
	struct lines *lines = call->lines;
	struct media *m = call->line->media;
	struct cmd *c = g_new0(struct cmd, 1);
	c->kind = kind;
	c->call = call;
	c->cause = cause;
	pthread_mutex_lock(&lines->lock);
	if (call->media_done) {
		g_free(c);
	} else {
		g_queue_push_tail(&m->cmds, c);
		pthread_cond_signal(&m->cond);
	}
	pthread_mutex_unlock(&lines->lock);
}

/* ---------------------------------------------------------------------------------------- */
/* Lines */

static void line_free(struct line *line)
{
	if (line->driver != NULL && line->driver->deinit != NULL)
		line->driver->deinit(line);
	g_strfreev(line->dids);
	g_free(line->name);
	g_free(line);
}

static void call_destroy(struct call *call)
{
	g_free(call->job_id);
	g_free(call->number);
	g_free(call->tiff);
	g_free(call->ident);
	g_free(call->header_info);
	g_free(call->did);
	g_free(call->caller_id);
	g_free(call->rx_file);
	g_free(call);
}

struct lines *lines_create(const struct config *config, const struct lines_callbacks *cb,
			   const char **error_r)
{
	struct lines *lines = g_new0(struct lines, 1);
	lines->config = config;
	if (cb != NULL)
		lines->cb = *cb;
	lines->lines = g_ptr_array_new();
	lines->next_call_id = 1;
	pthread_mutex_init(&lines->lock, NULL);
	g_queue_init(&lines->events);
	lines->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (lines->efd < 0) {
		*error_r = "eventfd failed";
		g_ptr_array_free(lines->lines, TRUE);
		g_free(lines);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		struct media *m = &lines->media[i];
		m->lines = lines;
		m->realtime = i == 0;
		/* tests run both ends of a SIP call N times faster: T.30's timers count samples, so
		   they scale with it; only the wall clock of the calls shrinks */
		m->tick_ns = TICK_NS / config_int(config, "faxd", "media_speed");
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&m->cond, &ca);
		pthread_condattr_destroy(&ca);
		g_queue_init(&m->cmds);
		m->active = g_ptr_array_new();
		m->pollers = g_ptr_array_new();
	}

	const char *const *names = config_instances(config, "line");
	for (int i = 0; names[i] != NULL; i++) {
		g_autofree char *group = g_strdup_printf("line %s", names[i]);
		struct line *line = g_new0(struct line, 1);
		line->lines = lines;
		line->name = g_strdup(names[i]);
		const char *type = config_str(config, group, "type");
		for (size_t d = 0; d < G_N_ELEMENTS(drivers); d++)
			if (strcmp(drivers[d]->type, type) == 0)
				line->driver = drivers[d];
		if (line->driver == NULL) {
			*error_r = "unknown line type";
			line_free(line);
			goto fail;
		}
		const char *dir = config_str(config, group, "direction");
		line->direction = strcmp(dir, "send") == 0	? LINE_DIRECTION_SEND
				  : strcmp(dir, "receive") == 0 ? LINE_DIRECTION_RECEIVE
								: LINE_DIRECTION_BOTH;
		line->transport = strcmp(config_str(config, group, "media"), "t38") == 0
				      ? FAX_TRANSPORT_T38
				      : FAX_TRANSPORT_AUDIO;
		line->realtime = strcmp(config_str(config, group, "pacing"), "realtime") == 0;
		line->channels = (int)config_int(config, group, "channels");
		fax_ident_sanitise(line->ident, config_str(config, group, "ident"));
		line->ecm = config_bool(config, group, "ecm");
		line->v17 = config_bool(config, group, "v17");
		line->t30_trace = config_bool(config, group, "t30_trace");
		const char *const *dids = config_list(config, group, "dids");
		line->dids = g_strdupv((char **)dids);
		if (line->driver->init(line, config, group, error_r) < 0) {
			line->driver = NULL;
			line_free(line);
			goto fail;
		}
		/* after init: a driver may insist on a pacing (SIP lines are always realtime) */
		line->media = &lines->media[line->realtime ? 0 : 1];
		if (line->driver->poll != NULL)
			g_ptr_array_add(line->media->pollers, line);
		g_ptr_array_add(lines->lines, line);
	}
	for (guint i = 0; i < lines->lines->len; i++) {
		struct line *line = g_ptr_array_index(lines->lines, i);
		struct media *m = line->media;
		if (m->started)
			continue;
		if (pthread_create(&m->thread, NULL, media_main, m) != 0) {
			*error_r = "cannot start the media thread";
			goto fail;
		}
		m->started = true;
	}
	return lines;
fail:
	lines_free(&lines);
	return NULL;
}

static void dispatch_events(struct lines *lines);

void lines_free(struct lines **linesp)
{
	struct lines *lines = *linesp;
	if (lines == NULL)
		return;
	*linesp = NULL;
	pthread_mutex_lock(&lines->lock);
	lines->stop = true;
	for (int i = 0; i < 2; i++)
		pthread_cond_signal(&lines->media[i].cond);
	pthread_mutex_unlock(&lines->lock);
	for (int i = 0; i < 2; i++)
		if (lines->media[i].started)
			pthread_join(lines->media[i].thread, NULL);
	/* Every placed call gets its done(), as promised. */
	dispatch_events(lines);
	for (GList *l = lines->calls; l != NULL; l = l->next) {
		struct call *call = l->data;
		if (call->drv != NULL && call->line->driver->call_free != NULL)
			call->line->driver->call_free(call);
		call_destroy(call);
	}
	g_list_free(lines->calls);
	for (int i = 0; i < 2; i++) {
		struct media *m = &lines->media[i];
		struct cmd *c;
		while ((c = g_queue_pop_head(&m->cmds)) != NULL)
			g_free(c);
		g_ptr_array_free(m->active, TRUE);
		g_ptr_array_free(m->pollers, TRUE);
		pthread_cond_destroy(&m->cond);
	}
	for (guint i = 0; i < lines->lines->len; i++)
		line_free(g_ptr_array_index(lines->lines, i));
	g_ptr_array_free(lines->lines, TRUE);
	if (lines->efd >= 0)
		close(lines->efd);
	pthread_mutex_destroy(&lines->lock);
	g_free(lines);
}

static bool can_place(const struct line *line)
{
	return line->direction != LINE_DIRECTION_RECEIVE && line->busy < line->channels;
}

struct line *lines_pick(struct lines *lines, const char *name)
{
	if (name != NULL) {
		struct line *line = lines_get(lines, name);
		if (line != NULL && can_place(line))
			return line;
	}
	for (guint i = 0; i < lines->lines->len; i++) {
		struct line *line = g_ptr_array_index(lines->lines, i);
		if (can_place(line))
			return line;
	}
	return NULL;
}

struct line *lines_get(struct lines *lines, const char *name)
{
	for (guint i = 0; i < lines->lines->len; i++) {
		struct line *line = g_ptr_array_index(lines->lines, i);
		if (strcmp(line->name, name) == 0)
			return line;
	}
	return NULL;
}

const char *line_name(const struct line *line)
{
	return line->name;
}

int line_free_channels(const struct line *line)
{
	return line->channels - line->busy;
}

bool line_accepts_did(const struct line *line, const char *did)
{
	if (line->dids == NULL || line->dids[0] == NULL)
		return true;
	for (int i = 0; line->dids[i] != NULL; i++)
		if (did != NULL && strcmp(line->dids[i], did) == 0)
			return true;
	return false;
}

int line_place_call(struct line *line, const struct call_request *req, struct call **call_r,
		    const char **error_r)
{
	if (line->direction == LINE_DIRECTION_RECEIVE) {
		*error_r = "line only receives";
		return -1;
	}
	if (line->busy >= line->channels) {
		*error_r = "no free channel";
		return -1;
	}
	if (req->tiff == NULL || req->number == NULL || req->done == NULL) {
		*error_r = "call request needs tiff, number and done";
		return -1;
	}
	struct lines *lines = line->lines;
	struct call *call = g_new0(struct call, 1);
	call->lines = lines;
	call->line = line;
	call->id = lines->next_call_id++;
	call->outgoing = true;
	call->transport = line->transport;
	call->job_id = g_strdup(req->job_id);
	call->number = g_strdup(req->number);
	call->tiff = g_strdup(req->tiff);
	call->ident = g_strdup(req->ident);
	call->header_info = g_strdup(req->header_info);
	call->first_page = req->first_page > 0 ? req->first_page : 1;
	call->last_page = req->last_page > 0 ? req->last_page : 0;
	/* Pages of this call, for progress "page n/m" and the default duration. An unreadable
	   document is reported by the session (outcome document), not here. */
	const char *terr;
	int n = g_file_test(call->tiff, G_FILE_TEST_IS_REGULAR) ? tiffpages_count(call->tiff, &terr) : -1;
	int last = call->last_page > 0 && (n < 0 || call->last_page < n) ? call->last_page : n;
	call->pages_total = last >= call->first_page ? last - call->first_page + 1 : 0;
	call->disable_v17 = req->disable_v17;
	call->disable_ecm = req->disable_ecm;
	call->max_duration_s = req->max_duration_s > 0
				   ? req->max_duration_s
				   : 60 + 60 * (call->pages_total > 0 ? call->pages_total : 1);
	call->progress = req->progress;
	call->done = req->done;
	call->ctx = req->ctx;
	call->state = CALL_STATE_ACTIVE;
	call->phase = "dialing";
	line->busy++;
	lines->calls = g_list_prepend(lines->calls, call);
	if (call_r != NULL)
		*call_r = call;
	queue_cmd(call, CMD_PLACE, FAX_OUTCOME_OK);
	return 0;
}

void call_hangup(struct call *call)
{
	if (call->state == CALL_STATE_OFFERED) {
		call_reject(call);
		return;
	}
	if (call->state != CALL_STATE_ACTIVE)
		return;
	queue_cmd(call, CMD_HANGUP, FAX_OUTCOME_CANCELLED);
}

int call_answer(struct call *call, const char *rx_file, const char *ident, const char **error_r)
{
	if (call->state != CALL_STATE_OFFERED) {
		*error_r = "call is not waiting for an answer";
		return -1;
	}
	if (rx_file == NULL) {
		*error_r = "no rx_file";
		return -1;
	}
	call->rx_file = g_strdup(rx_file);
	g_free(call->ident);
	call->ident = g_strdup(ident);
	call->state = CALL_STATE_ACTIVE;
	call->phase = "training";
	queue_cmd(call, CMD_ANSWER, FAX_OUTCOME_OK);
	return 0;
}

void call_reject(struct call *call)
{
	if (call->state != CALL_STATE_OFFERED)
		return;
	call->state = CALL_STATE_ENDED;
	queue_cmd(call, CMD_REJECT, FAX_OUTCOME_REJECTED);
}

uint64_t call_id(const struct call *call)
{
	return call->id;
}

struct call *line_offer_call(struct line *line, const char *did, const char *caller_id, void *drv)
{
	if (line->busy >= line->channels || line->direction == LINE_DIRECTION_SEND)
		return NULL;
	struct lines *lines = line->lines;
	struct call *call = g_new0(struct call, 1);
	call->lines = lines;
	call->line = line;
	call->id = lines->next_call_id++;
	call->outgoing = false;
	call->transport = line->transport;
	call->did = g_strdup(did);
	call->caller_id = g_strdup(caller_id);
	call->number = g_strdup(caller_id);
	call->drv = drv;
	call->state = CALL_STATE_OFFERED;
	call->phase = "ringing";
	clock_gettime(CLOCK_MONOTONIC, &call->offered_at);
	line->busy++;
	lines->calls = g_list_prepend(lines->calls, call);
	struct inbound_offer offer = {
	    .line = line->name,
	    .did = call->did,
	    .caller_id = call->caller_id,
	    .call_id = call->id,
	};
	if (lines->cb.incoming != NULL)
		lines->cb.incoming(lines->cb.ctx, call, &offer);
	else
		call_reject(call);
	return call;
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch */

int lines_fd(struct lines *lines)
{
	return lines->efd;
}

static void forget_call(struct lines *lines, struct call *call)
{
	lines->calls = g_list_remove(lines->calls, call);
	call->line->busy--;
	call_destroy(call);
}

static void dispatch_events(struct lines *lines)
{
	GQueue local = G_QUEUE_INIT;
	pthread_mutex_lock(&lines->lock);
	local = lines->events;
	g_queue_init(&lines->events);
	pthread_mutex_unlock(&lines->lock);
	struct event *ev;
	while ((ev = g_queue_pop_head(&local)) != NULL) {
		struct call *call = ev->call;
		switch (ev->kind) {
		case EVENT_PROGRESS:
			call->phase = ev->progress.phase;
			if (ev->progress.page > 0)
				call->page = ev->progress.page;
			if (ev->progress.bit_rate > 0)
				call->bit_rate = ev->progress.bit_rate;
			if (call->outgoing && call->progress != NULL)
				call->progress(call->ctx, &ev->progress);
			break;
		case EVENT_DONE: {
			call->state = CALL_STATE_ENDED;
			char level_text[LOG_PEER_TEXT_MAX];
			log_printable(level_text, sizeof(level_text), ev->report.remote_ident,
				      strlen(ev->report.remote_ident));
			/* debug: the queue runner and the receiver write the one line per attempt */
			log_job(LOG_LEVEL_DEBUG, call->job_id,
				"call %s=%s line=%s pages=%d/%d rate=%d ecm=%d result=%s remote_ident=\"%s\" "
				"time=%.1f",
				call->outgoing ? "to" : "from", call->number != NULL ? call->number : "",
				call->line->name, ev->report.pages_done, ev->report.pages_total,
				ev->report.bit_rate, ev->report.ecm, fax_outcome_name(ev->report.outcome),
				level_text, ev->report.duration_s);
			if (call->outgoing) {
				call->done(call->ctx, &ev->report);
			} else if (lines->cb.incoming_done != NULL) {
				const char *rx =
				    call->rx_file != NULL && g_file_test(call->rx_file, G_FILE_TEST_EXISTS)
					? call->rx_file
					: NULL;
				lines->cb.incoming_done(lines->cb.ctx, call, &ev->report, rx);
			}
			forget_call(lines, call);
			break;
		}
		case EVENT_FREED:
			forget_call(lines, call);
			break;
		}
		g_free(ev);
	}
}

void lines_dispatch(struct lines *lines)
{
	uint64_t v;
	while (read(lines->efd, &v, sizeof(v)) == sizeof(v))
		;
	dispatch_events(lines);
	int64_t t = now_ns();
	bool asked = __atomic_exchange_n(&lines->dispatch_now, 0, __ATOMIC_ACQ_REL) != 0;
	if (asked || t - lines->last_spool_ns >= SPOOL_INTERVAL_NS || lines->last_spool_ns == 0) {
		lines->last_spool_ns = t;
		/* offers nobody answered */
		for (GList *l = lines->calls; l != NULL;) {
			GList *next = l->next;
			struct call *call = l->data;
			if (call->state == CALL_STATE_OFFERED &&
			    t - ((int64_t)call->offered_at.tv_sec * 1000000000LL + call->offered_at.tv_nsec) >
				(int64_t)OFFER_TIMEOUT_S * 1000000000LL) {
				log_warning("line=%s call=%llu offered call not answered in %d s, rejected",
					    call->line->name, (unsigned long long)call->id, OFFER_TIMEOUT_S);
				call_reject(call);
			}
			l = next;
		}
		for (guint i = 0; i < lines->lines->len; i++) {
			struct line *line = g_ptr_array_index(lines->lines, i);
			if (line->driver->dispatch != NULL)
				line->driver->dispatch(line);
		}
	}
}

void call_set_info(struct call *call, const char *text)
{
	pthread_mutex_lock(&call->lines->lock);
	snprintf(call->info, sizeof(call->info), "%s", text);
	pthread_mutex_unlock(&call->lines->lock);
}

int lines_snapshot(struct lines *lines, char **text_r)
{
	GString *s = g_string_new(NULL);
	for (GList *l = g_list_last(lines->calls); l != NULL; l = l->prev) {
		struct call *call = l->data;
		if (call->state == CALL_STATE_ENDED)
			continue;
		char num[64];
		log_printable(num, sizeof(num), call->number != NULL ? call->number : "",
			      call->number ? strlen(call->number) : 0);
		pthread_mutex_lock(&lines->lock);
		char info[CALL_INFO_MAX];
		snprintf(info, sizeof(info), "%s", call->info);
		pthread_mutex_unlock(&lines->lock);
		g_string_append_printf(s, "%s %s %s %s page %d/%d rate %d%s%s%s%s\n", call->line->name,
				       call->outgoing ? "out" : "in", num[0] != '\0' ? num : "-",
				       call->phase != NULL ? call->phase : "-", call->page, call->pages_total,
				       call->bit_rate, info[0] != '\0' ? " " : "", info,
				       call->job_id != NULL ? " job " : "", call->job_id != NULL ? call->job_id : "");
	}
	*text_r = g_string_free(s, FALSE);
	return 0;
}

void lines_get_stats(struct lines *lines, struct lines_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	pthread_mutex_lock(&lines->lock);
	for (int i = 0; i < 2; i++) {
		const struct lines_stats *st = &lines->media[i].stats;
		stats_r->ticks += st->ticks;
		stats_r->missed_deadlines += st->missed_deadlines;
		stats_r->late_ticks += st->late_ticks;
		stats_r->active_calls += st->active_calls;
		if (st->max_tick_ms > stats_r->max_tick_ms)
			stats_r->max_tick_ms = st->max_tick_ms;
		stats_r->media_cpu_s += lines->media[i].cpu_s;
	}
	pthread_mutex_unlock(&lines->lock);
}

void lines_reset_stats(struct lines *lines)
{
	pthread_mutex_lock(&lines->lock);
	for (int i = 0; i < 2; i++) {
		struct lines_stats *st = &lines->media[i].stats;
		st->ticks = st->missed_deadlines = st->late_ticks = 0;
		st->max_tick_ms = 0;
	}
	pthread_mutex_unlock(&lines->lock);
}
