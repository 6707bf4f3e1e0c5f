/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Channel benchmark for faxd's media layer: how many concurrent fax calls (ITU-T T.30 over G.711
 * audio, and over ITU-T T.38/UDPTL) one media thread carries in real time, what a channel costs
 * in CPU and memory, and how that compares with the floor: the same call run unpaced through two
 * bare fax sessions (spandsp and nothing else).
 *
 * - floor: one sender/receiver pair back to back, unpaced, one thread; CPU per simulated
 *   pair-second (minimum of 3 runs), heap per sending and per receiving endpoint in mid-page
 *   (mallinfo2, main arena + mmap), and sizeof spandsp's state.
 * - capacity: a loop line with pacing = realtime, N call pairs started over a few seconds; the
 *   window runs until every call has finished its first (fine, dense) page, so every call's
 *   page-end burst falls inside it. A trial passes when no 20 ms deadline was missed. N is
 *   searched (grow x2 from an estimate, then bisect) within a time budget.
 *
 *   bench_channels [--budget SECONDS] [--mode audio|t38|both] [--max N]
 * Prints a markdown summary on stdout.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "faxd/fax_session.h"
#include "faxd/line.h"
#include "faxd/tiffpages.h"
#include "faxd/udptl.h"

#define BLOCK 160
#define STAGGER_S 10.0 /* calls start spread over about one page time */

static char *tmpdir, *doc;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---------------------------------------------------------------------------------------- */
/* Floor: bare sessions back to back */

struct end {
	struct fax_session *s;
	bool done;
	struct udptl *enc, *dec;
	GQueue out;
	struct end *peer;
};

static void e_done(void *ctx, const struct fax_report *r)
{
	struct end *e = ctx;
	e->done = true;
	if (r->outcome != FAX_OUTCOME_OK)
		fprintf(stderr, "floor call: %s %s\n", fax_outcome_name(r->outcome), r->text);
}

static void e_t38(void *ctx, const uint8_t *ifp, size_t len, int count)
{
	struct end *e = ctx;
	uint8_t buf[UDPTL_MAX_DATAGRAM];
	int n = udptl_encode(e->enc, ifp, len, buf, sizeof(buf));
	for (int i = 0; i < count && n > 0; i++)
		g_queue_push_tail(&e->out, g_bytes_new(buf, (size_t)n));
}

static void e_deliver(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	fax_session_rx_ifp(ctx, ifp, len, seq);
}

static void e_flush(struct end *from)
{
	GBytes *b;
	while ((b = g_queue_pop_head(&from->out)) != NULL) {
		gsize n;
		const uint8_t *d = g_bytes_get_data(b, &n);
		udptl_decode(from->peer->dec, d, n, e_deliver, from->peer->s);
		g_bytes_unref(b);
	}
}

struct pair {
	struct end tx, rx;
	char *rx_file;
};

static void pair_open(struct pair *p, enum fax_transport tr, int idx)
{
	memset(p, 0, sizeof(*p));
	p->rx_file = g_strdup_printf("%s/floor-%d.tiff", tmpdir, idx);
	struct fax_session_settings a, b;
	fax_session_settings_default(&a);
	fax_session_settings_default(&b);
	a.transport = b.transport = tr;
	a.calling = true;
	a.tx_file = doc;
	b.rx_file = p->rx_file;
	a.log_tag = b.log_tag = "bench";
	struct fax_session_callbacks ca = {.done = e_done, .t38_tx = e_t38, .ctx = &p->tx};
	struct fax_session_callbacks cb = {.done = e_done, .t38_tx = e_t38, .ctx = &p->rx};
	p->tx.peer = &p->rx;
	p->rx.peer = &p->tx;
	for (struct end *e = &p->tx; e != NULL; e = e == &p->tx ? &p->rx : NULL) {
		g_queue_init(&e->out);
		e->enc = udptl_create(NULL);
		e->dec = udptl_create(NULL);
	}
	const char *err;
	p->tx.s = fax_session_create(&a, &ca, &err);
	p->rx.s = fax_session_create(&b, &cb, &err);
}

static void pair_step(struct pair *p, enum fax_transport tr)
{
	if (tr == FAX_TRANSPORT_AUDIO) {
		int16_t ab[BLOCK], ba[BLOCK];
		uint8_t g[BLOCK];
		fax_session_tx_audio(p->tx.s, ab, BLOCK);
		fax_session_tx_audio(p->rx.s, ba, BLOCK);
		fax_codec_encode(FAX_CODEC_ALAW, ab, BLOCK, g);
		fax_codec_decode(FAX_CODEC_ALAW, g, BLOCK, ab);
		fax_codec_encode(FAX_CODEC_ALAW, ba, BLOCK, g);
		fax_codec_decode(FAX_CODEC_ALAW, g, BLOCK, ba);
		fax_session_rx_audio(p->rx.s, ab, BLOCK);
		fax_session_rx_audio(p->tx.s, ba, BLOCK);
	} else {
		fax_session_tick(p->tx.s, BLOCK);
		fax_session_tick(p->rx.s, BLOCK);
		e_flush(&p->tx);
		e_flush(&p->rx);
	}
}

static void pair_close(struct pair *p)
{
	fax_session_free(&p->tx.s);
	fax_session_free(&p->rx.s);
	for (struct end *e = &p->tx; e != NULL; e = e == &p->tx ? &p->rx : NULL) {
		udptl_free(&e->enc);
		udptl_free(&e->dec);
		g_queue_clear_full(&e->out, (GDestroyNotify)g_bytes_unref);
	}
	g_unlink(p->rx_file);
	g_free(p->rx_file);
}

struct floor_result {
	double cpu_per_pair_s; /* CPU-s per simulated pair-second */
	double call_s;	       /* simulated call length */
	double cpu_per_call;
	size_t state_bytes;
	size_t heap_tx, heap_rx; /* per endpoint, mid-page */
	long rss_per_pair_kb;	 /* from the best realtime trial */
};

static void run_floor(enum fax_transport tr, struct floor_result *fr)
{
	memset(fr, 0, sizeof(*fr));
	fr->cpu_per_pair_s = 1e9;
	for (int run = 0; run < 3; run++) {
		struct pair p;
		pair_open(&p, tr, 0);
		double c0 = thread_cpu();
		while (!p.tx.done || !p.rx.done)
			pair_step(&p, tr);
		double cpu = thread_cpu() - c0;
		double sim = fax_session_time(p.tx.s);
		if (cpu / sim < fr->cpu_per_pair_s) {
			fr->cpu_per_pair_s = cpu / sim;
			fr->cpu_per_call = cpu;
			fr->call_s = sim;
		}
		fr->state_bytes = fax_session_engine_bytes(p.tx.s);
		pair_close(&p);
	}
	/* Memory: K pairs in lockstep to a point of the call, then the receivers are freed: what
	   that releases is the receivers' share, the rest over the baseline the senders'. Sampled
	   at several points of the call (page start, middle, end), keeping the peak of each. */
	enum { K = 8, POINTS = 16 };
	for (int pt = 1; pt <= POINTS; pt++) {
		struct pair *ps = g_new0(struct pair, K);
		malloc_trim(0);
		size_t h0 = heap_in_use();
		for (int i = 0; i < K; i++)
			pair_open(&ps[i], tr, i + 1);
		double at = fr->call_s * pt / (POINTS + 1);
		while (fax_session_time(ps[0].tx.s) < at)
			for (int i = 0; i < K; i++)
				pair_step(&ps[i], tr);
		size_t h_all = heap_in_use();
		for (int i = 0; i < K; i++)
			fax_session_free(&ps[i].rx.s);
		size_t h_norx = heap_in_use();
		size_t rx = h_all > h_norx ? (h_all - h_norx) / K : 0;
		size_t txb = h_norx > h0 ? (h_norx - h0) / K : 0;
		if (rx > fr->heap_rx)
			fr->heap_rx = rx;
		if (txb > fr->heap_tx)
			fr->heap_tx = txb;
		for (int i = 0; i < K; i++)
			pair_close(&ps[i]);
		g_free(ps);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Capacity in real time */

struct cap_call {
	int pages;
	bool done;
	struct fax_report report;
};

static void c_progress(void *ctx, const struct call_progress *p)
{
	struct cap_call *c = ctx;
	if (strcmp(p->phase, "page") == 0)
		c->pages = p->page;
}

static void c_done(void *ctx, const struct fax_report *r)
{
	struct cap_call *c = ctx;
	c->done = true;
	c->report = *r;
}

struct trial {
	int n;
	bool pass;
	uint64_t ticks, missed;
	double max_tick_ms;
	double window_s;
	double cpu_per_pair_s;
	long rss_per_pair_kb;
	int failed_calls;
};

static void dispatch_for(struct lines *lines, double seconds)
{
	double until = mono() + seconds;
	for (;;) {
		double left = until - mono();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = lines_fd(lines), .events = POLLIN};
		poll(&pfd, 1, left * 1000 < 50 ? (int)(left * 1000) + 1 : 50);
		lines_dispatch(lines);
	}
}

static void run_trial(enum fax_transport tr, int n, double stagger_s, struct trial *t)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	g_autofree char *save = g_strdup_printf("%s/cap", tmpdir);
	g_autofree char *text =
	    g_strdup_printf("[faxgate]\nhome = %s\n[line bench]\ntype = loop\npacing = realtime\n"
			    "media = %s\nchannels = %d\nsave_dir = %s\n",
			    tmpdir, tr == FAX_TRANSPORT_T38 ? "t38" : "audio", n, save);
	struct config *cfg = NULL;
	char *errors = NULL;
	if (config_load_data(text, "bench.conf", &cfg, &errors) < 0) {
		fprintf(stderr, "config: %s\n", errors);
		exit(1);
	}
	const char *err;
	long rss0 = rss_kb();
	struct lines *lines = lines_create(cfg, NULL, &err);
	struct line *line = lines_get(lines, "bench");
	struct cap_call *calls = g_new0(struct cap_call, n);
	double t0 = mono();
	for (int i = 0; i < n; i++) {
		double at = t0 + stagger_s * i / n;
		if (mono() < at)
			dispatch_for(lines, at - mono());
		char job[16];
		snprintf(job, sizeof(job), "B%05d", i);
		struct call_request req = {.job_id = job,
					   .number = "+1",
					   .tiff = doc,
					   .first_page = 1,
					   .progress = c_progress,
					   .done = c_done,
					   .ctx = &calls[i]};
		if (line_place_call(line, &req, NULL, &err) < 0) {
			fprintf(stderr, "place: %s\n", err);
			exit(1);
		}
	}
	/* the window: from here until every call has finished page 1 */
	dispatch_for(lines, 0.5);
	lines_reset_stats(lines);
	struct lines_stats st0, st;
	lines_get_stats(lines, &st0);
	double w0 = mono();
	long rss_peak = 0;
	for (;;) {
		dispatch_for(lines, 0.25);
		long r = rss_kb();
		if (r > rss_peak)
			rss_peak = r;
		int first_page_done = 0, ended = 0;
		for (int i = 0; i < n; i++) {
			first_page_done += calls[i].pages >= 1;
			ended += calls[i].done;
		}
		if (first_page_done + ended >= n || mono() - w0 > 90)
			break;
	}
	lines_get_stats(lines, &st);
	t->window_s = mono() - w0;
	t->ticks = st.ticks;
	t->missed = st.missed_deadlines;
	t->max_tick_ms = st.max_tick_ms;
	t->cpu_per_pair_s = (st.media_cpu_s - st0.media_cpu_s) / (n * t->window_s);
	t->rss_per_pair_kb = (rss_peak - rss0) / n;
	for (int i = 0; i < n; i++)
		if (calls[i].done && calls[i].report.outcome != FAX_OUTCOME_OK)
			t->failed_calls++;
	t->pass = t->missed == 0 && t->failed_calls == 0;
	lines_free(&lines);
	config_free(&cfg);
	g_free(calls);
	g_autofree char *rm = g_strdup_printf("rm -rf '%s'", save);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", save);
	malloc_trim(0);
	fprintf(stderr,
		"  N=%d %s: window %.1f s, ticks %llu, missed %llu, max tick %.2f ms, cpu/pair-s %.5f, "
		"rss/pair %ld KB%s\n",
		n, t->pass ? "pass" : "FAIL", t->window_s, (unsigned long long)t->ticks,
		(unsigned long long)t->missed, t->max_tick_ms, t->cpu_per_pair_s, t->rss_per_pair_kb,
		t->failed_calls ? " (calls failed)" : "");
}

struct capacity {
	int best;
	struct trial best_trial;
	int trials;
	int first_fail;
};

static void search(enum fax_transport tr, const struct floor_result *fr, double budget_s, int max_n,
		   struct capacity *cap)
{
	memset(cap, 0, sizeof(*cap));
	double start = mono(), last_trial_s = 0;
	/* first guess: a tenth of a core at the floor's cost (page-end bursts of several ms per
	   call, not the average, decide when a 20 ms tick overruns) */
	int n = (int)(0.1 / fr->cpu_per_pair_s);
	n = n < 1 ? 1 : n > max_n ? max_n : n;
	int lo = 0, hi = 0; /* largest N that passed, smallest that failed (0 = none yet) */
	while (cap->trials == 0 || mono() - start + last_trial_s <= budget_s) {
		struct trial t;
		double t0 = mono();
		run_trial(tr, n, STAGGER_S, &t);
		last_trial_s = mono() - t0;
		cap->trials++;
		if (t.pass) {
			lo = n;
			cap->best = n;
			cap->best_trial = t;
		} else {
			hi = n;
			cap->first_fail = n;
		}
		int next;
		if (hi == 0)
			next = n * 2 > max_n ? max_n : n * 2;
		else if (lo == 0)
			next = n / 3;
		else
			next = (lo + hi) / 2;
		if (next < 1 || next == n || (hi != 0 && lo != 0 && hi - lo <= (lo / 20 > 1 ? lo / 20 : 1)))
			break;
		n = next;
	}
}

int main(int argc, char **argv)
{
	double budget = 250;
	int max_n = 2000;
	const char *mode = "both";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
			budget = atof(argv[++i]);
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max_n = atoi(argv[++i]);
		else {
			fprintf(
			    stderr,
			    "usage: bench_channels [--budget SECONDS] [--mode audio|t38|both] [--max N]\n");
			return 2;
		}
	}
	log_open("bench_channels", true);
	log_set_level(LOG_LEVEL_ERROR);
	tmpdir = g_strdup("/tmp/bench-channels-XXXXXX");
	if (g_mkdtemp(tmpdir) == NULL)
		return 1;
	doc = g_build_filename(tmpdir, "doc.tiff", NULL);
	const char *err;
	if (tiffpages_write_test(doc, 2, TIFFPAGES_RES_STANDARD, TIFFPAGES_PAPER_A4, 1, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	bool do_audio = strcmp(mode, "t38") != 0, do_t38 = strcmp(mode, "audio") != 0;
	int modes = do_audio + do_t38;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	printf("bench_channels: host %s, %ld CPUs online, document 2 standard A4 pages (test pattern), V.17 "
	       "ECM\n\n",
	       host, sysconf(_SC_NPROCESSORS_ONLN));
	printf("| media | floor CPU-s per pair-s (unpaced) | call (sim s) | max pairs, 0 missed 20 ms "
	       "deadlines | smallest N that missed | faxd CPU-s per pair-s at max | ratio to floor | max "
	       "tick ms | trials |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	struct floor_result frs[2];
	for (int m = 0; m < 2; m++) {
		enum fax_transport tr = m == 0 ? FAX_TRANSPORT_AUDIO : FAX_TRANSPORT_T38;
		if ((m == 0 && !do_audio) || (m == 1 && !do_t38))
			continue;
		run_floor(tr, &frs[m]);
		fprintf(stderr, "%s floor: %.5f CPU-s per pair-s, call %.1f s, %.1f ms CPU per call\n",
			m == 0 ? "G.711" : "T.38", frs[m].cpu_per_pair_s, frs[m].call_s,
			frs[m].cpu_per_call * 1000);
		struct capacity cap;
		search(tr, &frs[m], budget / modes, max_n, &cap);
		const struct trial *t = &cap.best_trial;
		char first_fail[32] = "none";
		if (cap.first_fail > 0)
			snprintf(first_fail, sizeof(first_fail), "%d", cap.first_fail);
		printf("| %s | %.5f | %.1f | %d pairs (%d endpoints) | %s | %.5f | %.2f | %.2f | %d |\n",
		       m == 0 ? "G.711 A-law" : "T.38 UDPTL red. 3", frs[m].cpu_per_pair_s, frs[m].call_s,
		       cap.best, 2 * cap.best, first_fail, t->cpu_per_pair_s,
		       t->cpu_per_pair_s / frs[m].cpu_per_pair_s, t->max_tick_ms, cap.trials);
		fflush(stdout);
		frs[m].rss_per_pair_kb = t->rss_per_pair_kb;
	}
	printf("\n| media | spandsp state (sizeof) | heap per sending endpoint (peak of 16 sample points) | "
	       "heap per receiving endpoint (peak of 16 sample points) | process RSS per pair in the "
	       "realtime run |\n");
	printf("|---|---|---|---|---|\n");
	for (int m = 0; m < 2; m++) {
		if ((m == 0 && !do_audio) || (m == 1 && !do_t38))
			continue;
		printf("| %s | %zu B | %zu KB (%.2fx state) | %zu KB (%.2fx state) | %ld KB |\n",
		       m == 0 ? "G.711" : "T.38", frs[m].state_bytes, frs[m].heap_tx / 1024,
		       (double)frs[m].heap_tx / frs[m].state_bytes, frs[m].heap_rx / 1024,
		       (double)frs[m].heap_rx / frs[m].state_bytes, frs[m].rss_per_pair_kb);
	}
	g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmpdir);
	if (system(rm) != 0)
		return 1;
	return 0;
}
