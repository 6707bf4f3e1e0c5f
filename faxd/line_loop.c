/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The loop line (`type = loop`): every call is answered (or originated) by a simulated remote
 * fax machine, a second fax_session in the same process, so faxd can be demonstrated and tested
 * end to end with real ITU-T T.30 on both sides and no telephony.
 *
 * Media: `media = audio` passes 20 ms blocks both ways through the line codec (G.711 A-law or
 * mu-law, or linear), with white noise (`noise_dbm0`) and block loss (`loss_permille`, the
 * receiver fills in with fax_rx_fillin as after lost RTP). `media = t38` passes each side's IFPs
 * through UDPTL (ITU-T T.38 §9: faxd/udptl.c, redundancy `udptl_redundancy` or parity FEC
 * `udptl_fec`), one sequence number per IFP and spandsp's repeat `count` copies, across a path
 * that loses `loss_permille` of the datagrams and delivers the rest one tick later.
 *
 * The far end: `far_ident`, `far_ecm`, `far_fine` (no: standard resolution only, so a fine
 * document is refused as incompatible). Scripted trouble, counted per faxd run: the first
 * `busy_calls` outgoing calls are busy, the next `no_answer_calls` ring out; on the first
 * `drop_calls` connected calls the far end hangs up once page `drop_after_page` is confirmed.
 * It saves what it receives as <save_dir>/<YYYYmmddTHHMMSS>-<job>-<call id>.tiff with a
 * key=value .txt beside it (number, job, call, remote_ident, pages, result, text, file).
 *
 * Originate spool: <save_dir>/originate/NAME.call files (key=value lines: from, did, file,
 * optional ident), written atomically by loop_originate_request(); lines_dispatch() takes them
 * (rename then unlink) and offers each as an incoming call; once answered, the far end sends
 * `file` to faxd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "faxd/line_private.h"
#include "faxd/udptl.h"

#define RING_ANSWER_S 1	   /* realtime: rings before the far end answers */
#define RING_BUSY_S 3	   /* realtime: busy tone heard for */
#define RING_NO_ANSWER_S 8 /* realtime: rings before giving up */
#define END_GRACE_S 5	   /* after one side ended, the other gets this long to end */
#define NOISE_REF_DB 6.16  /* spandsp's DBM0_MAX_POWER: dBm0 -> dBov */

struct loop_line {
	enum fax_codec codec;
	char far_ident[FAX_IDENT_MAX + 1];
	bool far_fine, far_ecm;
	int loss_permille;
	double noise_rms; /* 0 = none */
	int busy_calls, no_answer_calls, drop_after_page, drop_calls;
	char *save_dir, *spool_dir;
	struct udptl_settings udptl;
	/* media thread */
	int placed, connected;
	uint32_t seed;
};

enum loop_state { LOOP_RINGING, LOOP_CONNECTED };

struct dgram {
	size_t len;
	uint8_t data[];
};

struct loop_call {
	enum loop_state state;
	int64_t t; /* samples since place/answer */
	int64_t ring_until;
	enum fax_outcome ring_outcome;
	uint32_t rng;
	double gauss_spare;
	bool have_spare;

	struct fax_session *far;
	bool far_done;
	struct fax_report far_report;
	int far_pages, near_pages;
	int64_t grace_until; /* -1: not started */
	bool drop_armed, dropped;

	/* incoming: what the far end sends */
	char *far_tiff, *far_ident;
	/* outgoing: where the far end saves */
	char *save_tiff, *save_txt;

	/* T.38: each end's UDPTL context ([0] ours, [1] the far end's: it frames what that end
	   sends and decodes what reaches it), and the datagrams in flight ([0] near -> far,
	   [1] far -> near) */
	struct udptl *udptl[2];
	GQueue inflight[2];
};

static int64_t seconds(double s)
{
	return (int64_t)(s * FAX_SAMPLE_RATE);
}

/* ---------------------------------------------------------------------------------------- */
/* Line set-up (main thread) */

static int loop_init(struct line *line, const struct config *config, const char *group, const char **error_r)
{
	struct loop_line *ll = g_new0(struct loop_line, 1);
	const char *codec = config_str(config, group, "codec");
	ll->codec = strcmp(codec, "ulaw") == 0	   ? FAX_CODEC_ULAW
		    : strcmp(codec, "linear") == 0 ? FAX_CODEC_LINEAR
						   : FAX_CODEC_ALAW;
	fax_ident_sanitise(ll->far_ident, config_str(config, group, "far_ident"));
	ll->far_fine = config_bool(config, group, "far_fine");
	ll->far_ecm = config_bool(config, group, "far_ecm");
	ll->loss_permille = (int)config_int(config, group, "loss_permille");
	int noise = (int)config_int(config, group, "noise_dbm0");
	ll->noise_rms = noise > -100 ? 32768.0 * pow(10.0, (noise - NOISE_REF_DB) / 20.0) : 0.0;
	ll->busy_calls = (int)config_int(config, group, "busy_calls");
	ll->no_answer_calls = (int)config_int(config, group, "no_answer_calls");
	ll->drop_after_page = (int)config_int(config, group, "drop_after_page");
	ll->drop_calls = (int)config_int(config, group, "drop_calls");
	ll->save_dir = g_strdup(config_str(config, group, "save_dir"));
	ll->spool_dir = g_build_filename(ll->save_dir, "originate", NULL);
	udptl_settings_default(&ll->udptl);
	int depth = (int)config_int(config, group, "udptl_redundancy");
	if (config_bool(config, group, "udptl_fec")) {
		ll->udptl.ec = UDPTL_EC_FEC;
	} else if (depth > 0) {
		ll->udptl.ec = UDPTL_EC_REDUNDANCY;
		ll->udptl.redundancy_depth = depth;
	} else {
		ll->udptl.ec = UDPTL_EC_NONE;
		ll->udptl.redundancy_depth = 0;
	}
	ll->seed = g_str_hash(line->name) | 1u;
	if (g_mkdir_with_parents(ll->spool_dir, 0750) < 0) {
		*error_r = "loop line: cannot create save_dir/originate";
		log_error("line=%s cannot create %s: %s", line->name, ll->spool_dir, g_strerror(errno));
		g_free(ll->save_dir);
		g_free(ll->spool_dir);
		g_free(ll);
		return -1;
	}
	line->drv = ll;
	return 0;
}

static void loop_deinit(struct line *line)
{
	struct loop_line *ll = line->drv;
	if (ll == NULL)
		return;
	g_free(ll->save_dir);
	g_free(ll->spool_dir);
	g_free(ll);
	line->drv = NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The far end's sessions */

static void far_page(void *ctx, const struct fax_page_info *page)
{
	struct call *call = ctx;
	struct loop_call *lc = call->drv;
	lc->far_pages = page->pages_done;
}

static void far_done(void *ctx, const struct fax_report *report)
{
	struct call *call = ctx;
	struct loop_call *lc = call->drv;
	lc->far_report = *report;
	lc->far_done = true;
}

static void path_send(struct call *call, int dir, const uint8_t *ifp, size_t len, int count)
{
	struct loop_call *lc = call->drv;
	struct loop_line *ll = call->line->drv;
	uint8_t buf[UDPTL_MAX_DATAGRAM];
	int n = udptl_encode(lc->udptl[dir], ifp, len, buf, sizeof(buf));
	if (n < 0) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "loop: IFP of %zu bytes not encodable", len);
		return;
	}
	for (int i = 0; i < count; i++) {
		if (ll->loss_permille > 0 && (int)(line_rand(&lc->rng) % 1000) < ll->loss_permille)
			continue;
		struct dgram *d = g_malloc(sizeof(*d) + (size_t)n);
		d->len = (size_t)n;
		memcpy(d->data, buf, (size_t)n);
		g_queue_push_tail(&lc->inflight[dir], d);
	}
}

static void far_t38_tx(void *ctx, const uint8_t *ifp, size_t len, int count)
{
	path_send(ctx, 1, ifp, len, count);
}

static void loop_t38_tx(struct call *call, const uint8_t *ifp, size_t len, int count)
{
	path_send(call, 0, ifp, len, count);
}

static void deliver_ifp(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	fax_session_rx_ifp(ctx, ifp, len, seq);
}

static void path_deliver(struct call *call, int dir, struct fax_session *to)
{
	struct loop_call *lc = call->drv;
	struct dgram *d;
	while ((d = g_queue_pop_head(&lc->inflight[dir])) != NULL) {
		if (to != NULL && udptl_decode(lc->udptl[1 - dir], d->data, d->len, deliver_ifp, to) < 0)
			log_job(LOG_LEVEL_WARNING, call->job_id, "loop: malformed UDPTL datagram");
		g_free(d);
	}
}

static struct loop_call *loop_call_new(struct call *call)
{
	struct loop_line *ll = call->line->drv;
	struct loop_call *lc = g_new0(struct loop_call, 1);
	lc->grace_until = -1;
	lc->rng = (uint32_t)(ll->seed * 2654435761u) ^ (uint32_t)call->id * 40503u;
	if (lc->rng == 0)
		lc->rng = 1;
	ll->seed = line_rand(&ll->seed);
	for (int i = 0; i < 2; i++)
		g_queue_init(&lc->inflight[i]);
	return lc;
}

static int far_create(struct call *call, const char **error_r)
{
	struct loop_line *ll = call->line->drv;
	struct loop_call *lc = call->drv;
	struct fax_session_settings set;
	fax_session_settings_default(&set);
	g_autofree char *tag =
	    g_strdup_printf("%s/far", call->job_id != NULL ? call->job_id : call->line->name);
	set.log_tag = tag;
	set.transport = call->line->transport;
	set.calling = !call->outgoing;
	set.ident = lc->far_ident != NULL ? lc->far_ident : ll->far_ident;
	set.ecm = ll->far_ecm;
	set.modems = FAX_MODEM_ALL;
	if (call->outgoing) {
		set.rx_file = lc->save_tiff;
		set.resolutions = ll->far_fine ? FAX_RES_ALL : FAX_RES_STANDARD;
	} else {
		set.tx_file = lc->far_tiff;
	}
	struct fax_session_callbacks cb = {
	    .page = far_page,
	    .done = far_done,
	    .t38_tx = far_t38_tx,
	    .ctx = call,
	};
	lc->far = fax_session_create(&set, &cb, error_r);
	if (lc->far == NULL)
		return -1;
	if (call->line->transport == FAX_TRANSPORT_T38) {
		for (int i = 0; i < 2; i++)
			lc->udptl[i] = udptl_create(&ll->udptl);
	}
	return 0;
}

/* Both ends up: the far session, then ours. */
static void connect_call(struct call *call)
{
	struct loop_line *ll = call->line->drv;
	struct loop_call *lc = call->drv;
	const char *error;
	lc->drop_armed = ll->drop_after_page > 0 && ll->connected < ll->drop_calls;
	ll->connected++;
	if (call->outgoing) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
		g_autofree char *base =
		    call->job_id != NULL
			? g_strdup_printf("%s-%s-%llu", stamp, call->job_id, (unsigned long long)call->id)
			: g_strdup_printf("%s-call%llu", stamp, (unsigned long long)call->id);
		g_autofree char *tiff = g_strdup_printf("%s.tiff", base);
		g_autofree char *txt = g_strdup_printf("%s.txt", base);
		lc->save_tiff = g_build_filename(ll->save_dir, tiff, NULL);
		lc->save_txt = g_build_filename(ll->save_dir, txt, NULL);
	}
	if (far_create(call, &error) < 0 || call_connect(call, &error) < 0) {
		struct fax_report r;
		fax_report_init(&r, FAX_OUTCOME_LINE, error);
		call_finish(call, &r);
		return;
	}
	lc->state = LOOP_CONNECTED;
	lc->t = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Driver ops (media thread) */

static void loop_place(struct call *call)
{
	struct loop_line *ll = call->line->drv;
	struct loop_call *lc = loop_call_new(call);
	call->drv = lc;
	int n = ll->placed++;
	bool realtime = call->line->realtime;
	lc->state = LOOP_RINGING;
	if (n < ll->busy_calls) {
		lc->ring_outcome = FAX_OUTCOME_BUSY;
		lc->ring_until = realtime ? seconds(RING_BUSY_S) : 0;
	} else if (n < ll->busy_calls + ll->no_answer_calls) {
		lc->ring_outcome = FAX_OUTCOME_NO_ANSWER;
		lc->ring_until = realtime ? seconds(RING_NO_ANSWER_S) : 0;
	} else {
		lc->ring_outcome = FAX_OUTCOME_OK;
		lc->ring_until = realtime ? seconds(RING_ANSWER_S) : 0;
	}
	if (lc->ring_outcome != FAX_OUTCOME_BUSY)
		call_post_phase(call, "ringing");
}

static void loop_answer(struct call *call)
{
	connect_call(call);
}

static void loop_reject(struct call *call)
{
	struct loop_call *lc = call->drv;
	log_info("line=%s call=%llu from=%s did=%s: rejected", call->line->name, (unsigned long long)call->id,
		 call->caller_id != NULL ? call->caller_id : "", call->did != NULL ? call->did : "");
	(void)lc;
}

static double gauss(struct loop_call *lc)
{
	if (lc->have_spare) {
		lc->have_spare = false;
		return lc->gauss_spare;
	}
	double u, v, s;
	do {
		u = (line_rand(&lc->rng) / 4294967296.0) * 2.0 - 1.0;
		v = (line_rand(&lc->rng) / 4294967296.0) * 2.0 - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	double m = sqrt(-2.0 * log(s) / s);
	lc->gauss_spare = v * m;
	lc->have_spare = true;
	return u * m;
}

/* One 20 ms block across the simulated line: noise, codec, loss. Returns false if lost. */
static bool audio_path(struct call *call, int16_t *block, int n)
{
	struct loop_line *ll = call->line->drv;
	struct loop_call *lc = call->drv;
	if (ll->loss_permille > 0 && (int)(line_rand(&lc->rng) % 1000) < ll->loss_permille)
		return false;
	if (ll->noise_rms > 0) {
		for (int i = 0; i < n; i++) {
			double v = block[i] + gauss(lc) * ll->noise_rms;
			block[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		}
	}
	uint8_t coded[LINE_TICK_SAMPLES * 2];
	fax_codec_encode(ll->codec, block, n, coded);
	fax_codec_decode(ll->codec, coded, n, block);
	return true;
}

static void write_far_txt(struct call *call)
{
	struct loop_call *lc = call->drv;
	if (lc->save_txt == NULL || lc->far == NULL)
		return;
	struct fax_report r;
	fax_session_get_report(lc->far, &r);
	if (lc->far_done)
		r = lc->far_report;
	char ident[LOG_PEER_TEXT_MAX];
	log_printable(ident, sizeof(ident), r.remote_ident, strlen(r.remote_ident));
	bool have_file = g_file_test(lc->save_tiff, G_FILE_TEST_EXISTS);
	g_autofree char *text = g_strdup_printf(
	    "number=%s\njob=%s\ncall=%llu\nremote_ident=%s\npages=%d\nresult=%s\ndropped=%d\ntext=%s\nfile=%"
	    "s\n",
	    call->number != NULL ? call->number : "", call->job_id != NULL ? call->job_id : "",
	    (unsigned long long)call->id, ident, r.pages_done, fax_outcome_name(r.outcome), lc->dropped,
	    r.text, have_file ? lc->save_tiff : "");
	GError *err = NULL;
	if (!g_file_set_contents(lc->save_txt, text, -1, &err)) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "loop: cannot write %s: %s", lc->save_txt,
			err->message);
		g_error_free(err);
	}
}

static void loop_tick(struct call *call, int n)
{
	struct loop_line *ll = call->line->drv;
	struct loop_call *lc = call->drv;
	lc->t += n;
	if (lc->state == LOOP_RINGING) {
		if (lc->t < lc->ring_until)
			return;
		if (lc->ring_outcome != FAX_OUTCOME_OK) {
			struct fax_report r;
			fax_report_init(&r, lc->ring_outcome,
					lc->ring_outcome == FAX_OUTCOME_BUSY ? "busy" : "no answer");
			r.duration_s = (double)lc->t / FAX_SAMPLE_RATE;
			call_finish(call, &r);
			return;
		}
		connect_call(call);
		return;
	}

	struct fax_session *near = call->session, *far = lc->far;
	if (call->line->transport == FAX_TRANSPORT_AUDIO) {
		int16_t to_far[LINE_TICK_SAMPLES], to_near[LINE_TICK_SAMPLES];
		fax_session_tx_audio(near, to_far, n);
		fax_session_tx_audio(far, to_near, n);
		bool ok_far = audio_path(call, to_far, n);
		bool ok_near = audio_path(call, to_near, n);
		fax_session_rx_audio(far, ok_far ? to_far : NULL, n);
		fax_session_rx_audio(near, ok_near ? to_near : NULL, n);
	} else {
		fax_session_tick(near, n);
		fax_session_tick(far, n);
		path_deliver(call, 0, far);
		path_deliver(call, 1, near);
	}

	/* scripted drop: the far end hangs up once page N is confirmed */
	int confirmed = call->outgoing ? lc->near_pages : lc->far_pages;
	if (lc->drop_armed && !lc->dropped && confirmed >= ll->drop_after_page) {
		lc->dropped = true;
		log_job(LOG_LEVEL_INFO, call->job_id, "loop: far end hangs up after page %d", confirmed);
		fax_session_hangup(far, call->outgoing ? FAX_OUTCOME_CANCELLED : FAX_OUTCOME_HANGUP);
		fax_session_hangup(near, FAX_OUTCOME_HANGUP);
	}

	bool near_ended = call->near_done;
	if (near_ended && lc->far_done) {
		call_finish(call, &call->near_report);
		return;
	}
	if ((near_ended || lc->far_done) && lc->grace_until < 0)
		lc->grace_until = lc->t + seconds(END_GRACE_S);
	if (lc->grace_until >= 0 && lc->t >= lc->grace_until) {
		/* one side is stuck (e.g. a lost final DCN): it sees the other hang up */
		if (!near_ended)
			fax_session_hangup(near, FAX_OUTCOME_HANGUP);
		if (!lc->far_done)
			fax_session_hangup(far, FAX_OUTCOME_HANGUP);
		call_finish(call, &call->near_report);
	}
}

static void loop_near_page(struct call *call, const struct fax_page_info *page)
{
	struct loop_call *lc = call->drv;
	lc->near_pages = page->pages_done;
}

static void loop_hangup(struct call *call, enum fax_outcome cause)
{
	struct loop_call *lc = call->drv;
	if (lc == NULL || lc->state == LOOP_RINGING || call->session == NULL) {
		struct fax_report r;
		fax_report_init(&r, cause, cause == FAX_OUTCOME_CANCELLED ? "cancelled before answer" : NULL);
		if (lc != NULL)
			r.duration_s = (double)lc->t / FAX_SAMPLE_RATE;
		call_finish(call, &r);
		return;
	}
	fax_session_hangup(call->session, cause);
	if (lc->far != NULL)
		fax_session_hangup(lc->far, FAX_OUTCOME_HANGUP);
	call_finish(call, &call->near_report);
}

static void loop_call_free(struct call *call)
{
	struct loop_call *lc = call->drv;
	if (lc == NULL)
		return;
	if (lc->far != NULL && fax_session_active(lc->far))
		fax_session_hangup(lc->far, FAX_OUTCOME_HANGUP);
	write_far_txt(call);
	fax_session_free(&lc->far);
	for (int i = 0; i < 2; i++) {
		struct dgram *d;
		while ((d = g_queue_pop_head(&lc->inflight[i])) != NULL)
			g_free(d);
		udptl_free(&lc->udptl[i]);
	}
	g_free(lc->far_tiff);
	g_free(lc->far_ident);
	g_free(lc->save_tiff);
	g_free(lc->save_txt);
	g_free(lc);
	call->drv = NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The originate spool (main thread) */

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void take_request(struct line *line, const char *name)
{
	struct loop_line *ll = line->drv;
	g_autofree char *path = g_build_filename(ll->spool_dir, name, NULL);
	g_autofree char *taken = g_strdup_printf("%s.taken-%ld", path, (long)getpid());
	if (rename(path, taken) < 0)
		return; /* someone else took it */
	g_autofree char *text = NULL;
	GError *err = NULL;
	if (!g_file_get_contents(taken, &text, NULL, &err)) {
		log_warning("line=%s cannot read %s: %s", line->name, taken, err->message);
		g_error_free(err);
		g_unlink(taken);
		return;
	}
	if (g_unlink(taken) < 0)
		log_warning("line=%s cannot remove %s: %s", line->name, taken, g_strerror(errno));
	g_autofree char *from = NULL, *did = NULL, *file = NULL, *ident = NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++) {
		char *eq = strchr(lines[i], '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		char *k = g_strstrip(lines[i]), *v = g_strstrip(eq + 1);
		if (strcmp(k, "from") == 0)
			g_free(from), from = g_strdup(v);
		else if (strcmp(k, "did") == 0)
			g_free(did), did = g_strdup(v);
		else if (strcmp(k, "file") == 0)
			g_free(file), file = g_strdup(v);
		else if (strcmp(k, "ident") == 0)
			g_free(ident), ident = g_strdup(v);
	}
	if (file == NULL || !g_path_is_absolute(file)) {
		log_warning("line=%s originate request %s without an absolute file=, dropped", line->name,
			    name);
		return;
	}
	if (!line_accepts_did(line, did)) {
		log_info("line=%s originate request %s: did %s is not on this line, dropped", line->name,
			 name, did != NULL ? did : "");
		return;
	}
	struct loop_call *lc = g_new0(struct loop_call, 1);
	lc->grace_until = -1;
	lc->rng = (uint32_t)g_str_hash(name) | 1u;
	for (int i = 0; i < 2; i++)
		g_queue_init(&lc->inflight[i]);
	lc->far_tiff = g_steal_pointer(&file);
	if (ident != NULL) {
		lc->far_ident = g_malloc(FAX_IDENT_MAX + 1);
		fax_ident_sanitise(lc->far_ident, ident);
	}
	log_info("line=%s incoming call from=%s did=%s (loop originate %s)", line->name,
		 from != NULL ? from : "", did != NULL ? did : "", name);
	if (line_offer_call(line, did, from, lc) == NULL) {
		g_free(lc->far_tiff);
		g_free(lc->far_ident);
		g_free(lc);
	}
}

static void loop_dispatch(struct line *line)
{
	struct loop_line *ll = line->drv;
	if (line->direction == LINE_DIRECTION_SEND || line_free_channels(line) <= 0)
		return;
	DIR *d = opendir(ll->spool_dir);
	if (d == NULL)
		return;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (g_str_has_suffix(de->d_name, ".call") && de->d_name[0] != '.')
			g_ptr_array_add(names, g_strdup(de->d_name));
	closedir(d);
	g_ptr_array_sort(names, cmp_str);
	for (guint i = 0; i < names->len && line_free_channels(line) > 0; i++)
		take_request(line, g_ptr_array_index(names, i));
	g_ptr_array_free(names, TRUE);
}

int loop_originate_request(const struct config *config, const char *line, const char *from, const char *did,
			   const char *tiff, const char **error_r)
{
	const char *const *names = config_instances(config, "line");
	bool found = false;
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], line) == 0)
			found = true;
	g_autofree char *group = g_strdup_printf("line %s", line);
	if (!found || strcmp(config_str(config, group, "type"), "loop") != 0) {
		*error_r = "no such loop line";
		return -1;
	}
	if (tiff == NULL || !g_path_is_absolute(tiff)) {
		*error_r = "the document must be an absolute path";
		return -1;
	}
	for (const char *v[] = {from, did, tiff}, **p = v; p < v + 3; p++) {
		if (*p != NULL && strpbrk(*p, "\r\n") != NULL) {
			*error_r = "line breaks are not allowed in originate fields";
			return -1;
		}
	}
	g_autofree char *spool = g_build_filename(config_str(config, group, "save_dir"), "originate", NULL);
	if (g_mkdir_with_parents(spool, 0750) < 0) {
		*error_r = "cannot create the originate spool";
		return -1;
	}
	static unsigned counter;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	g_autofree char *base =
	    g_strdup_printf("%lld.%09ld-%ld-%u", (long long)ts.tv_sec, ts.tv_nsec, (long)getpid(),
			    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	g_autofree char *tmp = g_strdup_printf("%s/.%s.tmp", spool, base);
	g_autofree char *final = g_strdup_printf("%s/%s.call", spool, base);
	g_autofree char *text = g_strdup_printf("from=%s\ndid=%s\nfile=%s\n", from != NULL ? from : "",
						did != NULL ? did : "", tiff);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		*error_r = "cannot create the request file";
		return -1;
	}
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len;
	ok = fsync(fd) == 0 && ok;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, final) < 0) {
		g_unlink(tmp);
		*error_r = "cannot write the request file";
		return -1;
	}
	return 0;
}

const struct line_driver line_driver_loop = {
    .type = "loop",
    .init = loop_init,
    .deinit = loop_deinit,
    .dispatch = loop_dispatch,
    .place = loop_place,
    .answer = loop_answer,
    .reject = loop_reject,
    .tick = loop_tick,
    .hangup = loop_hangup,
    .t38_tx = loop_t38_tx,
    .near_page = loop_near_page,
    .call_free = loop_call_free,
};
