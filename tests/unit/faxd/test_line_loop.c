/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The line layer with the loop driver: real ITU-T T.30 against the simulated far-end fax machine,
 * over G.711 audio and over ITU-T T.38/UDPTL with loss, unpaced (pacing = fast) except the cancel
 * test. Checks what the queue runner relies on: done() exactly once with the right outcome,
 * progress phases, busy / no answer / incompatible far end, drop after page N and page-level
 * resume (every page saved by the far end exactly once), receiving via the originate spool,
 * DID filtering, reject, cancel within 2 s, channel accounting and shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "faxd/fax_session.h"
#include "faxd/line.h"
#include "faxd/tiffpages.h"

static char *tmpdir;
static char *doc3; /* 3 pages fine */
static char *doc4; /* 4 pages fine */
static int seq;

static int setup_all(void **state)
{
	tmpdir = g_strdup("/tmp/faxline-XXXXXX");
	if (g_mkdtemp(tmpdir) == NULL)
		return -1;
	doc3 = g_build_filename(tmpdir, "doc3.tiff", NULL);
	doc4 = g_build_filename(tmpdir, "doc4.tiff", NULL);
	const char *err;
	if (tiffpages_write_test(doc3, 3, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 3, &err) < 0 ||
	    tiffpages_write_test(doc4, 4, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_LETTER, 4, &err) < 0)
		return -1;
	return 0;
}

static int teardown_all(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	g_free(doc3);
	g_free(doc4);
	g_free(tmpdir);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------------------------- */

struct result {
	int done_count;
	struct fax_report report;
	double done_at;
	bool saw_dialing, saw_ringing, saw_training, saw_done;
	int last_page, pages;
	int bit_rate;
};

static void on_progress(void *ctx, const struct call_progress *p)
{
	struct result *r = ctx;
	if (strcmp(p->phase, "dialing") == 0)
		r->saw_dialing = true;
	else if (strcmp(p->phase, "ringing") == 0)
		r->saw_ringing = true;
	else if (strcmp(p->phase, "training") == 0)
		r->saw_training = true;
	else if (strcmp(p->phase, "done") == 0)
		r->saw_done = true;
	else if (strcmp(p->phase, "page") == 0) {
		assert_int_equal(p->page, r->last_page + 1);
		r->last_page = p->page;
		r->pages = p->pages;
		r->bit_rate = p->bit_rate;
	} else
		fail_msg("unknown phase %s", p->phase);
}

static void on_done(void *ctx, const struct fax_report *report)
{
	struct result *r = ctx;
	r->done_count++;
	r->report = *report;
	r->done_at = now_s();
}

struct inbox {
	bool answer; /* answer in the callback, else reject */
	char *rx_file;
	int offers;
	char line[32], did[32], caller[32];
	uint64_t call_id;
	struct call *call;
	int done_count;
	struct fax_report report;
	bool rx_present;
};

static void on_incoming(void *ctx, struct call *call, const struct inbound_offer *offer)
{
	struct inbox *in = ctx;
	in->offers++;
	g_strlcpy(in->line, offer->line, sizeof(in->line));
	g_strlcpy(in->did, offer->did != NULL ? offer->did : "", sizeof(in->did));
	g_strlcpy(in->caller, offer->caller_id != NULL ? offer->caller_id : "", sizeof(in->caller));
	in->call_id = offer->call_id;
	assert_int_equal(call_id(call), offer->call_id);
	in->call = call;
	if (in->answer) {
		const char *err;
		assert_int_equal(call_answer(call, in->rx_file, "+1 212 555 0100", &err), 0);
		assert_int_equal(call_answer(call, in->rx_file, NULL, &err), -1); /* only once */
	} else {
		call_reject(call);
	}
}

static void on_incoming_done(void *ctx, struct call *call, const struct fax_report *report,
			     const char *rx_file)
{
	struct inbox *in = ctx;
	assert_ptr_equal(call, in->call);
	in->done_count++;
	in->report = *report;
	in->rx_present = rx_file != NULL;
	if (rx_file != NULL)
		assert_string_equal(rx_file, in->rx_file);
}

struct rig {
	struct config *config;
	struct lines *lines;
	struct line *line;
	char *save_dir;
	struct inbox inbox;
};

static void rig_open(struct rig *rig, const char *extra)
{
	memset(rig, 0, sizeof(*rig));
	rig->save_dir = g_strdup_printf("%s/save%d", tmpdir, ++seq);
	g_autofree char *text =
	    g_strdup_printf("[faxgate]\nhome = %s\n[line loop]\ntype = loop\npacing = fast\n"
			    "save_dir = %s\n%s\n",
			    tmpdir, rig->save_dir, extra);
	char *errors = NULL;
	if (config_load_data(text, "test.conf", &rig->config, &errors) < 0)
		fail_msg("config: %s", errors);
	struct lines_callbacks cb = {
	    .incoming = on_incoming, .incoming_done = on_incoming_done, .ctx = &rig->inbox};
	const char *err;
	rig->lines = lines_create(rig->config, &cb, &err);
	if (rig->lines == NULL)
		fail_msg("lines_create: %s", err);
	rig->line = lines_get(rig->lines, "loop");
	assert_non_null(rig->line);
	assert_string_equal(line_name(rig->line), "loop");
}

static void rig_close(struct rig *rig)
{
	lines_free(&rig->lines);
	assert_null(rig->lines);
	config_free(&rig->config);
	g_free(rig->save_dir);
	g_free(rig->inbox.rx_file);
}

/* Dispatch until *count reaches want or timeout. */
static void wait_count(struct rig *rig, const int *count, int want, double timeout_s)
{
	double until = now_s() + timeout_s;
	while (*count < want) {
		if (now_s() > until)
			fail_msg("timed out waiting");
		struct pollfd pfd = {.fd = lines_fd(rig->lines), .events = POLLIN};
		poll(&pfd, 1, 50);
		lines_dispatch(rig->lines);
	}
}

static struct call *place(struct rig *rig, const char *job, const char *tiff, int first, struct result *r)
{
	struct call_request req = {
	    .job_id = job,
	    .number = "+12125550199",
	    .dial = "12125550199",
	    .tiff = tiff,
	    .first_page = first,
	    .progress = on_progress,
	    .done = on_done,
	    .ctx = r,
	};
	struct call *call = NULL;
	const char *err;
	if (line_place_call(rig->line, &req, &call, &err) < 0)
		fail_msg("place: %s", err);
	assert_non_null(call);
	return call;
}

static gint cmp_paths(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The far end's saved files (*.tiff) in call order, with their .txt. */
static GPtrArray *saved_files(const char *dir, const char *suffix)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	DIR *d = opendir(dir);
	if (d == NULL)
		return names;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (g_str_has_suffix(de->d_name, suffix))
			g_ptr_array_add(names, g_build_filename(dir, de->d_name, NULL));
	closedir(d);
	g_ptr_array_sort(names, cmp_paths);
	return names;
}

static char *txt_value(const char *txt, const char *key)
{
	g_autofree char *text = NULL;
	assert_true(g_file_get_contents(txt, &text, NULL, NULL));
	g_autofree char *k = g_strdup_printf("%s=", key);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++)
		if (g_str_has_prefix(lines[i], k))
			return g_strdup(lines[i] + strlen(k));
	return NULL;
}

static bool same_page(const char *src, int src_page, const char *rx, int rx_page)
{
	struct tiffpages_bitmap *a = NULL, *b = NULL;
	const char *err;
	assert_int_equal(tiffpages_read(src, src_page, &a, &err), 0);
	assert_int_equal(tiffpages_read(rx, rx_page, &b, &err), 0);
	bool same = tiffpages_compare(a, 0, b, 0) == 0;
	tiffpages_bitmap_free(&a);
	tiffpages_bitmap_free(&b);
	return same;
}

static void assert_document(const char *src, int first, const char *rx, int pages)
{
	const char *err;
	assert_int_equal(tiffpages_count(rx, &err), pages);
	for (int p = 0; p < pages; p++)
		if (!same_page(src, first + p, rx, p + 1))
			fail_msg("page %d of %s is not page %d of %s", p + 1, rx, first + p, src);
}

/* One successful 3-page call; checks the far end's saved copy. */
static void send_ok(const char *extra, int expect_rate)
{
	struct rig rig;
	rig_open(&rig, extra);
	struct result r = {0};
	assert_int_equal(line_free_channels(rig.line), 4);
	place(&rig, "J0B1", doc3, 1, &r);
	assert_int_equal(line_free_channels(rig.line), 3);
	wait_count(&rig, &r.done_count, 1, 20);
	if (r.report.outcome != FAX_OUTCOME_OK)
		fail_msg("outcome %s: %s", fax_outcome_name(r.report.outcome), r.report.text);
	assert_int_equal(r.report.pages_done, 3);
	assert_int_equal(r.report.pages_total, 3);
	assert_string_equal(r.report.remote_ident, "+1 212 555 0199");
	if (expect_rate > 0)
		assert_int_equal(r.report.bit_rate, expect_rate);
	assert_true(r.saw_dialing && r.saw_ringing && r.saw_training && r.saw_done);
	assert_int_equal(r.last_page, 3);
	assert_int_equal(r.pages, 3);
	assert_int_equal(line_free_channels(rig.line), 4);
	g_autoptr(GPtrArray) tiffs = saved_files(rig.save_dir, ".tiff");
	g_autoptr(GPtrArray) txts = saved_files(rig.save_dir, ".txt");
	assert_int_equal(tiffs->len, 1);
	assert_int_equal(txts->len, 1);
	assert_non_null(strstr(g_ptr_array_index(tiffs, 0), "-J0B1-"));
	assert_document(doc3, 1, g_ptr_array_index(tiffs, 0), 3);
	g_autofree char *pages = txt_value(g_ptr_array_index(txts, 0), "pages");
	g_autofree char *result = txt_value(g_ptr_array_index(txts, 0), "result");
	g_autofree char *number = txt_value(g_ptr_array_index(txts, 0), "number");
	g_autofree char *ident = txt_value(g_ptr_array_index(txts, 0), "remote_ident");
	assert_string_equal(pages, "3");
	assert_string_equal(result, "ok");
	assert_string_equal(number, "+12125550199");
	assert_string_equal(ident, "+1 212 555 0100");
	rig_close(&rig);
	assert_int_equal(r.done_count, 1);
}

static void test_send_alaw(void **state)
{
	send_ok("codec = alaw\n", 14400);
}

static void test_send_ulaw_noecm_v29(void **state)
{
	send_ok("codec = ulaw\necm = no\nv17 = no\n", 9600);
}

static void test_send_t38_loss(void **state)
{
	send_ok("media = t38\nloss_permille = 20\nudptl_redundancy = 3\n", 14400);
}

static void test_send_t38_fec(void **state)
{
	send_ok("media = t38\nloss_permille = 10\nudptl_fec = yes\necm = no\n", 14400);
}

static void test_busy_no_answer(void **state)
{
	struct rig rig;
	rig_open(&rig, "busy_calls = 1\nno_answer_calls = 1\n");
	struct result r1 = {0}, r2 = {0}, r3 = {0};
	place(&rig, "BUSY", doc3, 1, &r1);
	wait_count(&rig, &r1.done_count, 1, 5);
	place(&rig, "NOANS", doc3, 1, &r2);
	wait_count(&rig, &r2.done_count, 1, 5);
	place(&rig, "OK", doc3, 1, &r3);
	wait_count(&rig, &r3.done_count, 1, 20);
	assert_int_equal(r1.report.outcome, FAX_OUTCOME_BUSY);
	assert_int_equal(r1.report.pages_done, 0);
	assert_int_equal(r1.report.t30_code, 0);
	assert_false(r1.saw_ringing);
	assert_int_equal(r2.report.outcome, FAX_OUTCOME_NO_ANSWER);
	assert_true(r2.saw_ringing);
	assert_int_equal(r3.report.outcome, FAX_OUTCOME_OK);
	g_autoptr(GPtrArray) tiffs = saved_files(rig.save_dir, ".tiff");
	assert_int_equal(tiffs->len, 1); /* only the answered call reached the far end */
	rig_close(&rig);
}

static void test_far_without_fine(void **state)
{
	struct rig rig;
	rig_open(&rig, "far_fine = no\n");
	struct result r = {0};
	place(&rig, "NOFINE", doc3, 1, &r);
	wait_count(&rig, &r.done_count, 1, 10);
	assert_int_equal(r.report.outcome, FAX_OUTCOME_INCOMPATIBLE);
	assert_string_equal(r.report.text, "far end cannot receive fine resolution (204x196 dpi)");
	assert_int_equal(r.report.pages_done, 0);
	g_autoptr(GPtrArray) txts = saved_files(rig.save_dir, ".txt");
	assert_int_equal(txts->len, 1);
	g_autofree char *pages = txt_value(g_ptr_array_index(txts, 0), "pages");
	assert_string_equal(pages, "0");
	rig_close(&rig);
}

/* drop after page 2, then page-level resume from page 3: every page arrives exactly once. */
static void test_drop_and_resume(void **state)
{
	struct rig rig;
	rig_open(&rig, "drop_after_page = 2\ndrop_calls = 1\n");
	struct result r1 = {0}, r2 = {0};
	place(&rig, "DROP", doc4, 1, &r1);
	wait_count(&rig, &r1.done_count, 1, 20);
	assert_int_equal(r1.report.outcome, FAX_OUTCOME_HANGUP);
	assert_int_equal(r1.report.pages_done, 2);
	assert_int_equal(r1.report.pages_total, 4);
	place(&rig, "DROP", doc4, 1 + r1.report.pages_done, &r2);
	wait_count(&rig, &r2.done_count, 1, 20);
	assert_int_equal(r2.report.outcome, FAX_OUTCOME_OK);
	assert_int_equal(r2.report.pages_done, 2);
	assert_int_equal(r2.report.pages_total, 2);
	assert_int_equal(r2.pages, 2);

	g_autoptr(GPtrArray) tiffs = saved_files(rig.save_dir, ".tiff");
	assert_int_equal(tiffs->len, 2);
	int seen[5] = {0};
	int total = 0;
	const char *err;
	for (guint f = 0; f < tiffs->len; f++) {
		const char *rx = g_ptr_array_index(tiffs, f);
		int n = tiffpages_count(rx, &err);
		for (int p = 1; p <= n; p++) {
			total++;
			int match = 0;
			for (int s = 1; s <= 4; s++)
				if (same_page(doc4, s, rx, p)) {
					seen[s]++;
					match++;
				}
			assert_int_equal(match, 1);
		}
	}
	assert_int_equal(total, 4);
	for (int s = 1; s <= 4; s++)
		assert_int_equal(seen[s], 1);
	g_autoptr(GPtrArray) txts = saved_files(rig.save_dir, ".txt");
	assert_int_equal(txts->len, 2);
	g_autofree char *dropped = txt_value(g_ptr_array_index(txts, 0), "dropped");
	assert_string_equal(dropped, "1");
	rig_close(&rig);
}

static void test_receive(void **state)
{
	struct rig rig;
	rig_open(&rig, "dids = 100, 101\n");
	rig.inbox.answer = true;
	rig.inbox.rx_file = g_build_filename(tmpdir, "received.tiff", NULL);
	const char *err;
	assert_int_equal(loop_originate_request(rig.config, "loop", "+12125550199", "100", doc3, &err), 0);
	g_autofree char *spool = g_build_filename(rig.save_dir, "originate", NULL);
	g_autoptr(GPtrArray) reqs = saved_files(spool, ".call");
	assert_int_equal(reqs->len, 1);
	wait_count(&rig, &rig.inbox.done_count, 1, 20);
	assert_int_equal(rig.inbox.offers, 1);
	assert_string_equal(rig.inbox.line, "loop");
	assert_string_equal(rig.inbox.did, "100");
	assert_string_equal(rig.inbox.caller, "+12125550199");
	assert_int_equal(rig.inbox.report.outcome, FAX_OUTCOME_OK);
	assert_int_equal(rig.inbox.report.pages_done, 3);
	assert_string_equal(rig.inbox.report.remote_ident, "+1 212 555 0199");
	assert_true(rig.inbox.rx_present);
	assert_document(doc3, 1, rig.inbox.rx_file, 3);
	g_autoptr(GPtrArray) left = saved_files(spool, ".call");
	assert_int_equal(left->len, 0); /* the request was taken */
	assert_int_equal(line_free_channels(rig.line), 4);
	rig_close(&rig);
}

static void test_reject_and_did(void **state)
{
	struct rig rig;
	rig_open(&rig, "dids = 100\n");
	rig.inbox.answer = false;
	const char *err;
	/* not our DID: dropped without an offer */
	assert_int_equal(loop_originate_request(rig.config, "loop", "+1555", "200", doc3, &err), 0);
	for (int i = 0; i < 5; i++) {
		lines_dispatch(rig.lines);
		g_usleep(30000);
	}
	assert_int_equal(rig.inbox.offers, 0);
	/* ours, refused */
	assert_int_equal(loop_originate_request(rig.config, "loop", "+1555", "100", doc3, &err), 0);
	wait_count(&rig, &rig.inbox.offers, 1, 5);
	double until = now_s() + 5;
	while (line_free_channels(rig.line) != 4 && now_s() < until) {
		g_usleep(10000);
		lines_dispatch(rig.lines);
	}
	assert_int_equal(line_free_channels(rig.line), 4);
	assert_int_equal(rig.inbox.done_count, 0);
	/* request errors */
	assert_int_equal(loop_originate_request(rig.config, "nope", "+1555", "100", doc3, &err), -1);
	assert_int_equal(loop_originate_request(rig.config, "loop", "+1555", "100", "relative.tiff", &err),
			 -1);
	assert_int_equal(loop_originate_request(rig.config, "loop", "+1\n555", "100", doc3, &err), -1);
	rig_close(&rig);
}

/* Realtime: cancel during the call; the far end sees the hang-up and done() follows within 2 s. */
static void test_cancel_realtime(void **state)
{
	struct rig rig;
	rig_open(&rig, "pacing = realtime\n");
	struct result r = {0};
	double t0 = now_s();
	struct call *call = place(&rig, "CANCEL", doc3, 1, &r);
	/* ringing 1 s, then the fax tones */
	while (now_s() - t0 < 2.0) {
		struct pollfd pfd = {.fd = lines_fd(rig.lines), .events = POLLIN};
		poll(&pfd, 1, 50);
		lines_dispatch(rig.lines);
	}
	assert_int_equal(r.done_count, 0);
	assert_true(r.saw_ringing);
	char *snap = NULL;
	assert_int_equal(lines_snapshot(rig.lines, &snap), 0);
	assert_non_null(strstr(snap, "loop out +12125550199"));
	assert_non_null(strstr(snap, "job CANCEL"));
	g_free(snap);
	double t1 = now_s();
	call_hangup(call);
	wait_count(&rig, &r.done_count, 1, 2.0);
	assert_true(r.done_at - t1 < 2.0);
	assert_int_equal(r.report.outcome, FAX_OUTCOME_CANCELLED);
	assert_true(r.report.duration_s > 0.5 && r.report.duration_s < 3);
	struct lines_stats st;
	lines_get_stats(rig.lines, &st);
	assert_true(st.ticks > 50);
	g_autoptr(GPtrArray) txts = saved_files(rig.save_dir, ".txt");
	assert_int_equal(txts->len, 1);
	g_autofree char *result = txt_value(g_ptr_array_index(txts, 0), "result");
	assert_string_equal(result, "hangup"); /* what the far end saw */
	rig_close(&rig);
	assert_int_equal(r.done_count, 1);
}

/* Channels run out; shutting down with calls up still gives each its done(). */
static void test_channels_and_shutdown(void **state)
{
	struct rig rig;
	rig_open(&rig, "pacing = realtime\nchannels = 2\n[line rx]\ntype = loop\ndirection = receive\n");
	assert_ptr_equal(lines_pick(rig.lines, NULL), rig.line);
	assert_ptr_equal(lines_pick(rig.lines, "rx"), rig.line); /* rx cannot send */
	struct result r1 = {0}, r2 = {0}, r3 = {0};
	place(&rig, "C1", doc3, 1, &r1);
	place(&rig, "C2", doc3, 1, &r2);
	assert_int_equal(line_free_channels(rig.line), 0);
	assert_null(lines_pick(rig.lines, NULL));
	struct call_request req = {.number = "+1", .tiff = doc3, .done = on_done, .ctx = &r3};
	const char *err;
	assert_int_equal(line_place_call(rig.line, &req, NULL, &err), -1);
	assert_int_equal(line_place_call(lines_get(rig.lines, "rx"), &req, NULL, &err), -1);
	rig_close(&rig);
	assert_int_equal(r1.done_count, 1);
	assert_int_equal(r2.done_count, 1);
	assert_int_equal(r3.done_count, 0);
	assert_int_equal(r1.report.outcome, FAX_OUTCOME_CANCELLED);
}

static void test_bad_document(void **state)
{
	struct rig rig;
	rig_open(&rig, "");
	struct result r = {0};
	place(&rig, "BADDOC", "/nonexistent.tiff", 1, &r);
	wait_count(&rig, &r.done_count, 1, 5);
	assert_int_equal(r.report.outcome, FAX_OUTCOME_DOCUMENT);
	rig_close(&rig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_alaw),
	    cmocka_unit_test(test_send_ulaw_noecm_v29),
	    cmocka_unit_test(test_send_t38_loss),
	    cmocka_unit_test(test_send_t38_fec),
	    cmocka_unit_test(test_busy_no_answer),
	    cmocka_unit_test(test_far_without_fine),
	    cmocka_unit_test(test_drop_and_resume),
	    cmocka_unit_test(test_receive),
	    cmocka_unit_test(test_reject_and_did),
	    cmocka_unit_test(test_cancel_realtime),
	    cmocka_unit_test(test_channels_and_shutdown),
	    cmocka_unit_test(test_bad_document),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
