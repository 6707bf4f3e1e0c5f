/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fax session with real ITU-T T.30 on both ends: two fax_sessions back to back over audio
 * (V.17, V.29, V.27ter; ECM with T.6 and without) and over ITU-T T.38 through the UDPTL codec
 * with loss; received pages are decoded and compared row by row with the sent ones. Also the
 * T30_ERR_* -> outcome table (checked against spandsp's own header), phase B policy, page
 * ranges, hang-up, the watchdog against endless noise, and unusable documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/fax_session.h"
#include "faxd/tiffpages.h"
#include "faxd/udptl.h"

#define BLOCK 160

static char *tmpdir;
static char *doc_fine;	   /* 3 pages, fine, A4 */
static char *doc_standard; /* 2 pages, standard, letter */

static int setup_all(void **state)
{
	tmpdir = g_strdup("/tmp/faxsess-XXXXXX");
	if (g_mkdtemp(tmpdir) == NULL)
		return -1;
	doc_fine = g_build_filename(tmpdir, "fine.tiff", NULL);
	doc_standard = g_build_filename(tmpdir, "standard.tiff", NULL);
	const char *err;
	if (tiffpages_write_test(doc_fine, 3, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 11, &err) < 0 ||
	    tiffpages_write_test(doc_standard, 2, TIFFPAGES_RES_STANDARD, TIFFPAGES_PAPER_LETTER, 12, &err) <
		0)
		return -1;
	return 0;
}

static int teardown_all(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	g_free(doc_fine);
	g_free(doc_standard);
	g_free(tmpdir);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* A back-to-back pair */

struct end {
	struct fax_session *s;
	bool done;
	struct fax_report report;
	int pages_seen;
	/* T.38 */
	struct udptl *enc;
	GQueue out; /* datagrams to the other end */
	uint32_t *rng;
	int loss_permille;
};

struct pair_opts {
	enum fax_transport transport;
	unsigned modems;
	bool ecm;
	unsigned rx_resolutions;
	int loss_permille; /* T.38 datagrams */
	int redundancy;	   /* UDPTL depth */
	int first_page, last_page;
	const char *tx_file;
	const char *header_info;
	int (*rx_policy)(void *ctx, const char *remote_ident);
	int hangup_tx_after_pages; /* the sender's side hangs up once this many pages are confirmed */
	double max_sim_s;
};

static void on_page(void *ctx, const struct fax_page_info *page)
{
	struct end *e = ctx;
	assert_int_equal(page->pages_done, e->pages_seen + 1);
	e->pages_seen = page->pages_done;
}

static void on_done(void *ctx, const struct fax_report *r)
{
	struct end *e = ctx;
	assert_false(e->done); /* exactly once */
	e->done = true;
	e->report = *r;
}

static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void on_t38_tx(void *ctx, const uint8_t *ifp, size_t len, int count)
{
	struct end *e = ctx;
	uint8_t buf[UDPTL_MAX_DATAGRAM];
	int n = udptl_encode(e->enc, ifp, len, buf, sizeof(buf));
	assert_true(n > 0);
	for (int i = 0; i < count; i++) {
		if ((int)(rnd(e->rng) % 1000) < e->loss_permille)
			continue;
		GBytes *b = g_bytes_new(buf, (size_t)n);
		g_queue_push_tail(&e->out, b);
	}
}

static void deliver(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	fax_session_rx_ifp(ctx, ifp, len, seq);
}

static void flush(struct end *from, struct udptl *dec, struct fax_session *to)
{
	GBytes *b;
	while ((b = g_queue_pop_head(&from->out)) != NULL) {
		gsize n;
		const uint8_t *d = g_bytes_get_data(b, &n);
		assert_true(udptl_decode(dec, d, n, deliver, to) >= 0);
		g_bytes_unref(b);
	}
}

/* Run a call: tx (calling, sending) against rx (answering, receiving into rx_file). */
static void run_pair(const struct pair_opts *o, const char *rx_file, struct end *tx, struct end *rx)
{
	uint32_t rng = 12345;
	memset(tx, 0, sizeof(*tx));
	memset(rx, 0, sizeof(*rx));
	struct fax_session_settings a, b;
	fax_session_settings_default(&a);
	fax_session_settings_default(&b);
	a.log_tag = "TX";
	b.log_tag = "RX";
	a.transport = b.transport = o->transport;
	a.calling = true;
	a.tx_file = o->tx_file != NULL ? o->tx_file : doc_fine;
	a.first_page = o->first_page;
	a.last_page = o->last_page;
	a.header_info = o->header_info;
	a.ident = "+1 212 555 0100";
	a.ecm = b.ecm = o->ecm;
	a.modems = o->modems;
	b.rx_file = rx_file;
	b.ident = "+49 30 1234\x01\xff long ident that is cut";
	b.resolutions = o->rx_resolutions;
	struct fax_session_callbacks ca = {.page = on_page, .done = on_done, .t38_tx = on_t38_tx, .ctx = tx};
	struct fax_session_callbacks cb = {
	    .page = on_page, .done = on_done, .t38_tx = on_t38_tx, .ctx = rx, .phase_b = o->rx_policy};
	struct udptl_settings us;
	udptl_settings_default(&us);
	us.ec = o->redundancy > 0 ? UDPTL_EC_REDUNDANCY : UDPTL_EC_NONE;
	us.redundancy_depth = o->redundancy;
	struct udptl *dec_at_rx = udptl_create(&us), *dec_at_tx = udptl_create(&us);
	tx->enc = udptl_create(&us);
	rx->enc = udptl_create(&us);
	tx->rng = rx->rng = &rng;
	tx->loss_permille = rx->loss_permille = o->loss_permille;
	g_queue_init(&tx->out);
	g_queue_init(&rx->out);
	const char *err;
	tx->s = fax_session_create(&a, &ca, &err);
	assert_non_null(tx->s);
	rx->s = fax_session_create(&b, &cb, &err);
	assert_non_null(rx->s);
	double max_s = o->max_sim_s > 0 ? o->max_sim_s : 900;
	int16_t ab[BLOCK], ba[BLOCK];
	double grace_until = -1;
	while (!tx->done || !rx->done) {
		if (o->transport == FAX_TRANSPORT_AUDIO) {
			fax_session_tx_audio(tx->s, ab, BLOCK);
			fax_session_tx_audio(rx->s, ba, BLOCK);
			uint8_t g[BLOCK];
			fax_codec_encode(FAX_CODEC_ALAW, ab, BLOCK, g);
			fax_codec_decode(FAX_CODEC_ALAW, g, BLOCK, ab);
			fax_codec_encode(FAX_CODEC_ULAW, ba, BLOCK, g);
			fax_codec_decode(FAX_CODEC_ULAW, g, BLOCK, ba);
			fax_session_rx_audio(rx->s, ab, BLOCK);
			fax_session_rx_audio(tx->s, ba, BLOCK);
		} else {
			fax_session_tick(tx->s, BLOCK);
			fax_session_tick(rx->s, BLOCK);
			flush(tx, dec_at_rx, rx->s);
			flush(rx, dec_at_tx, tx->s);
		}
		if (o->hangup_tx_after_pages > 0 && tx->pages_seen >= o->hangup_tx_after_pages && !tx->done) {
			fax_session_hangup(tx->s, FAX_OUTCOME_CANCELLED);
			fax_session_hangup(rx->s, FAX_OUTCOME_HANGUP);
		}
		/* one side ended: give the other 10 s, then it sees the hang-up */
		if ((tx->done || rx->done) && grace_until < 0)
			grace_until = fax_session_time(tx->s) + 10;
		if ((grace_until >= 0 && fax_session_time(tx->s) > grace_until) ||
		    fax_session_time(tx->s) > max_s) {
			fax_session_hangup(tx->s, FAX_OUTCOME_HANGUP);
			fax_session_hangup(rx->s, FAX_OUTCOME_HANGUP);
		}
	}
	assert_false(fax_session_active(tx->s));
	assert_false(fax_session_active(rx->s));
	fax_session_free(&tx->s);
	fax_session_free(&rx->s);
	assert_null(tx->s);
	udptl_free(&tx->enc);
	udptl_free(&rx->enc);
	udptl_free(&dec_at_rx);
	udptl_free(&dec_at_tx);
	g_queue_clear_full(&tx->out, (GDestroyNotify)g_bytes_unref);
	g_queue_clear_full(&rx->out, (GDestroyNotify)g_bytes_unref);
}

/* Page `rx_page` of rx_file equals page `src_page` of src (rx may carry header rows on top). */
static void assert_same_page(const char *src, int src_page, const char *rx_file, int rx_page, int header_rows)
{
	struct tiffpages_bitmap *a = NULL, *b = NULL;
	const char *err;
	assert_int_equal(tiffpages_read(src, src_page, &a, &err), 0);
	assert_int_equal(tiffpages_read(rx_file, rx_page, &b, &err), 0);
	assert_int_equal(b->width, 1728);
	assert_int_equal(b->y_dpi, a->y_dpi);
	int diff = tiffpages_compare(a, 0, b, header_rows);
	if (diff != 0)
		fail_msg("page %d of %s differs from page %d of %s in %d rows", rx_page, rx_file, src_page,
			 src, diff);
	/* and it is not some other page: pages differ from one another */
	tiffpages_bitmap_free(&a);
	tiffpages_bitmap_free(&b);
}

static char *rx_path(const char *name)
{
	char *p = g_build_filename(tmpdir, name, NULL);
	g_unlink(p);
	return p;
}

static void check_ok_3_pages(const struct pair_opts *o, const char *name, int expect_rate)
{
	g_autofree char *rx_file = rx_path(name);
	struct end tx, rx;
	run_pair(o, rx_file, &tx, &rx);
	if (tx.report.outcome != FAX_OUTCOME_OK)
		fail_msg("%s: sender %s (%d: %s)", name, fax_outcome_name(tx.report.outcome),
			 tx.report.t30_code, tx.report.text);
	assert_int_equal(rx.report.outcome, FAX_OUTCOME_OK);
	assert_int_equal(tx.report.pages_done, 3);
	assert_int_equal(tx.report.pages_total, 3);
	assert_int_equal(rx.report.pages_done, 3);
	assert_int_equal(tx.pages_seen, 3);
	assert_int_equal(tx.report.ecm, o->ecm);
	assert_int_equal(tx.report.y_res, 196);
	assert_int_equal(tx.report.x_res, 204);
	if (expect_rate > 0)
		assert_int_equal(tx.report.bit_rate, expect_rate);
	/* idents: the far end's is sanitised and cut to 20 */
	assert_string_equal(tx.report.remote_ident, "+49 30 1234?? long i");
	assert_string_equal(rx.report.remote_ident, "+1 212 555 0100");
	assert_true(tx.report.duration_s > 20 && tx.report.duration_s < 400);
	const char *err;
	assert_int_equal(tiffpages_count(rx_file, &err), 3);
	for (int p = 1; p <= 3; p++)
		assert_same_page(doc_fine, p, rx_file, p, 0);
	/* the pages really are different */
	struct tiffpages_bitmap *p1, *p2;
	assert_int_equal(tiffpages_read(rx_file, 1, &p1, &err), 0);
	assert_int_equal(tiffpages_read(rx_file, 2, &p2, &err), 0);
	assert_true(tiffpages_compare(p1, 0, p2, 0) > 100);
	tiffpages_bitmap_free(&p1);
	tiffpages_bitmap_free(&p2);
}

static void test_audio_v17_ecm(void **state)
{
	struct pair_opts o = {.modems = FAX_MODEM_ALL, .ecm = true};
	check_ok_3_pages(&o, "v17-ecm.tiff", 14400);
}

static void test_audio_v17_noecm(void **state)
{
	struct pair_opts o = {.modems = FAX_MODEM_ALL, .ecm = false};
	check_ok_3_pages(&o, "v17-noecm.tiff", 14400);
}

static void test_audio_v29_ecm(void **state)
{
	struct pair_opts o = {.modems = FAX_MODEM_V29 | FAX_MODEM_V27TER, .ecm = true};
	check_ok_3_pages(&o, "v29-ecm.tiff", 9600);
}

static void test_audio_v29_noecm(void **state)
{
	struct pair_opts o = {.modems = FAX_MODEM_V29 | FAX_MODEM_V27TER, .ecm = false};
	check_ok_3_pages(&o, "v29-noecm.tiff", 9600);
}

static void test_audio_v27ter_ecm(void **state)
{
	struct pair_opts o = {.modems = FAX_MODEM_V27TER, .ecm = true};
	check_ok_3_pages(&o, "v27-ecm.tiff", 4800);
}

static void test_audio_v27ter_noecm(void **state)
{
	struct pair_opts o = {.modems = FAX_MODEM_V27TER, .ecm = false};
	check_ok_3_pages(&o, "v27-noecm.tiff", 4800);
}

static void test_t38_udptl_loss_ecm(void **state)
{
	struct pair_opts o = {
	    .transport = FAX_TRANSPORT_T38, .ecm = true, .loss_permille = 20, .redundancy = 3};
	check_ok_3_pages(&o, "t38-ecm.tiff", 14400);
}

static void test_t38_udptl_loss_noecm(void **state)
{
	struct pair_opts o = {
	    .transport = FAX_TRANSPORT_T38, .ecm = false, .loss_permille = 20, .redundancy = 3};
	check_ok_3_pages(&o, "t38-noecm.tiff", 14400);
}

/* Page-level resume: only pages 2..3, with a header line (32 rows on top at fine). */
static void test_page_range_and_header(void **state)
{
	g_autofree char *rx_file = rx_path("range.tiff");
	struct pair_opts o = {.ecm = true, .first_page = 2, .last_page = 3, .header_info = "ACME\tCorp"};
	struct end tx, rx;
	run_pair(&o, rx_file, &tx, &rx);
	assert_int_equal(tx.report.outcome, FAX_OUTCOME_OK);
	assert_int_equal(tx.report.pages_done, 2);
	assert_int_equal(tx.report.pages_total, 2);
	const char *err;
	assert_int_equal(tiffpages_count(rx_file, &err), 2);
	assert_same_page(doc_fine, 2, rx_file, 1, TIFFPAGES_HEADER_ROWS_FINE);
	assert_same_page(doc_fine, 3, rx_file, 2, TIFFPAGES_HEADER_ROWS_FINE);
}

static void test_standard_letter(void **state)
{
	g_autofree char *rx_file = rx_path("std.tiff");
	struct pair_opts o = {.ecm = false, .tx_file = doc_standard, .rx_resolutions = FAX_RES_STANDARD};
	struct end tx, rx;
	run_pair(&o, rx_file, &tx, &rx);
	assert_int_equal(tx.report.outcome, FAX_OUTCOME_OK);
	assert_int_equal(tx.report.pages_done, 2);
	assert_int_equal(tx.report.y_res, 98);
	assert_same_page(doc_standard, 1, rx_file, 1, 0);
	assert_same_page(doc_standard, 2, rx_file, 2, 0);
}

static void test_far_without_fine(void **state)
{
	g_autofree char *rx_file = rx_path("nofine.tiff");
	struct pair_opts o = {.ecm = true, .rx_resolutions = FAX_RES_STANDARD};
	struct end tx, rx;
	run_pair(&o, rx_file, &tx, &rx);
	assert_int_equal(tx.report.outcome, FAX_OUTCOME_INCOMPATIBLE);
	assert_string_equal(tx.report.text, "far end cannot receive fine resolution (204x196 dpi)");
	assert_int_equal(tx.report.pages_done, 0);
	assert_false(g_file_test(rx_file, G_FILE_TEST_EXISTS)); /* spandsp removes an empty rx file */
}

static int refuse_ident(void *ctx, const char *remote_ident)
{
	return strcmp(remote_ident, "+1 212 555 0100") == 0 ? -1 : 0;
}

static void test_phase_b_policy(void **state)
{
	g_autofree char *rx_file = rx_path("refused.tiff");
	struct pair_opts o = {.ecm = true, .rx_policy = refuse_ident};
	struct end tx, rx;
	run_pair(&o, rx_file, &tx, &rx);
	assert_int_equal(rx.report.outcome, FAX_OUTCOME_REJECTED);
	assert_int_equal(rx.report.pages_done, 0);
	assert_non_null(strstr(rx.report.text, "ident"));
	assert_int_not_equal(tx.report.outcome, FAX_OUTCOME_OK);
	assert_int_equal(tx.report.pages_done, 0);
}

static void test_hangup_mid_call(void **state)
{
	g_autofree char *rx_file = rx_path("hangup.tiff");
	struct pair_opts o = {.ecm = true, .hangup_tx_after_pages = 1};
	struct end tx, rx;
	run_pair(&o, rx_file, &tx, &rx);
	assert_int_equal(tx.report.outcome, FAX_OUTCOME_CANCELLED);
	assert_int_equal(tx.report.pages_done, 1);
	assert_int_equal(tx.report.pages_total, 3);
	assert_int_equal(rx.report.outcome, FAX_OUTCOME_HANGUP);
	assert_int_equal(rx.report.pages_done, 1);
	const char *err;
	assert_int_equal(tiffpages_count(rx_file, &err), 1); /* the partial document is kept */
	assert_same_page(doc_fine, 1, rx_file, 1, 0);
}

static void test_bad_documents(void **state)
{
	struct end e;
	memset(&e, 0, sizeof(e));
	struct fax_session_settings set;
	fax_session_settings_default(&set);
	set.calling = true;
	struct fax_session_callbacks cb = {.done = on_done, .ctx = &e};
	const char *err;
	/* missing file */
	set.tx_file = "/nonexistent/doc.tiff";
	struct fax_session *s = fax_session_create(&set, &cb, &err);
	assert_non_null(s);
	assert_false(e.done); /* not from inside create */
	assert_false(fax_session_active(s));
	int16_t buf[BLOCK] = {0};
	fax_session_rx_audio(s, buf, BLOCK);
	assert_true(e.done);
	assert_int_equal(e.report.outcome, FAX_OUTCOME_DOCUMENT);
	fax_session_free(&s);
	/* page out of range */
	memset(&e, 0, sizeof(e));
	set.tx_file = doc_fine;
	set.first_page = 5;
	s = fax_session_create(&set, &cb, &err);
	fax_session_tx_audio(s, buf, BLOCK);
	assert_true(e.done);
	assert_int_equal(e.report.outcome, FAX_OUTCOME_DOCUMENT);
	assert_non_null(strstr(e.report.text, "3 pages"));
	fax_session_free(&s);
	/* invalid settings */
	fax_session_settings_default(&set);
	assert_null(fax_session_create(&set, &cb, &err));
	set.rx_file = "/tmp/x.tiff";
	set.transport = FAX_TRANSPORT_T38;
	assert_null(fax_session_create(&set, &cb, &err)); /* no t38_tx */
	fax_session_free(&s);
}

/* research/spandsp.md §6: with continuous noise T.30 never ends; the watchdog must. */
static void test_watchdog_noise(void **state)
{
	g_autofree char *rx_file = rx_path("noise.tiff");
	struct end e;
	memset(&e, 0, sizeof(e));
	struct fax_session_settings set;
	fax_session_settings_default(&set);
	set.rx_file = rx_file;
	set.idle_timeout_s = 40;
	set.max_duration_s = 100;
	struct fax_session_callbacks cb = {.done = on_done, .ctx = &e};
	const char *err;
	struct fax_session *s = fax_session_create(&set, &cb, &err);
	assert_non_null(s);
	uint32_t rng = 99;
	int16_t in[BLOCK], out[BLOCK];
	double rms = 32768.0 * pow(10.0, (-30 - 6.16) / 20.0);
	while (!e.done && fax_session_time(s) < 1000) {
		for (int i = 0; i < BLOCK; i++) {
			double u = (rnd(&rng) + 1.0) / 4294967297.0, v = (rnd(&rng) + 1.0) / 4294967297.0;
			in[i] = (int16_t)(sqrt(-2 * log(u)) * cos(2 * M_PI * v) * rms);
		}
		fax_session_tx_audio(s, out, BLOCK);
		fax_session_rx_audio(s, in, BLOCK);
	}
	assert_true(e.done);
	assert_int_equal(e.report.outcome, FAX_OUTCOME_TIMEOUT);
	assert_non_null(strstr(e.report.text, "watchdog"));
	assert_true(e.report.duration_s >= 40 && e.report.duration_s <= 100.5);
	assert_false(fax_session_active(s));
	fax_session_hangup(s, FAX_OUTCOME_CANCELLED); /* harmless after the end */
	fax_session_free(&s);

	/* T.38 with no far end at all: the maximum duration ends it too */
	memset(&e, 0, sizeof(e));
	set.transport = FAX_TRANSPORT_T38;
	set.idle_timeout_s = 0;
	set.max_duration_s = 20;
	cb.t38_tx = on_t38_tx;
	struct end sink;
	memset(&sink, 0, sizeof(sink));
	cb.ctx = &e;
	e.enc = udptl_create(NULL);
	e.rng = &rng;
	g_queue_init(&e.out);
	s = fax_session_create(&set, &cb, &err);
	while (!e.done && fax_session_time(s) < 100)
		fax_session_tick(s, BLOCK);
	assert_int_equal(e.report.outcome, FAX_OUTCOME_TIMEOUT);
	assert_true(fax_session_time(s) <= 20.1);
	fax_session_free(&s);
	udptl_free(&e.enc);
	g_queue_clear_full(&e.out, (GDestroyNotify)g_bytes_unref);
}

/* ---------------------------------------------------------------------------------------- */
/* The outcome table */

/* Every enumerator of spandsp's T30_ERR_* enum, read from the installed header. */
static GPtrArray *header_codes(void)
{
	g_autofree char *text = NULL;
	const char *paths[] = {"/usr/include/spandsp/t30.h", "/usr/local/include/spandsp/t30.h"};
	for (size_t i = 0; i < G_N_ELEMENTS(paths) && text == NULL; i++)
		if (!g_file_get_contents(paths[i], &text, NULL, NULL))
			text = NULL;
	if (text == NULL)
		return NULL;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *p = strstr(text, "T30_ERR_OK = 0");
	assert_non_null(p);
	const char *end = strstr(p, "};");
	GRegex *re = g_regex_new("^\\s*(T30_ERR_[A-Z0-9_]+)\\s*(=\\s*0)?\\s*,?", G_REGEX_MULTILINE, 0, NULL);
	g_autofree char *body = g_strndup(p - strlen("    "), (gsize)(end - p) + 4);
	GMatchInfo *mi;
	g_regex_match(re, body, 0, &mi);
	while (g_match_info_matches(mi)) {
		g_ptr_array_add(names, g_match_info_fetch(mi, 1));
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	g_regex_unref(re);
	return names;
}

static void test_outcome_table(void **state)
{
	int codes[128];
	int n = fax_t30_codes(codes, 128);
	GPtrArray *names = header_codes();
	if (names == NULL)
		skip();
	/* every code spandsp 0.0.6 defines is mapped, by name and value */
	assert_int_equal((int)names->len, n);
	assert_true(n >= 60);
	for (int i = 0; i < n; i++) {
		assert_int_equal(codes[i], i); /* the enum counts from 0 without gaps */
		assert_string_equal(fax_t30_code_name(i), g_ptr_array_index(names, i));
		enum fax_outcome o = fax_outcome_from_t30(i);
		assert_true((int)o >= 0 && o < FAX_OUTCOME_COUNT);
		assert_true(strlen(fax_t30_code_text(i)) > 1);
	}
	g_ptr_array_free(names, TRUE);
	assert_null(fax_t30_code_name(n));
	assert_int_equal(fax_outcome_from_t30(n + 5), FAX_OUTCOME_PROTOCOL);

	/* the classes that drive retries */
	static const struct {
		const char *name;
		enum fax_outcome o;
	} cases[] = {
	    {"T30_ERR_OK", FAX_OUTCOME_OK},
	    {"T30_ERR_T0_EXPIRED", FAX_OUTCOME_NO_FAX},
	    {"T30_ERR_T1_EXPIRED", FAX_OUTCOME_NO_FAX},
	    {"T30_ERR_CANNOT_TRAIN", FAX_OUTCOME_TRAINING},
	    {"T30_ERR_NORESSUPPORT", FAX_OUTCOME_INCOMPATIBLE},
	    {"T30_ERR_NOSIZESUPPORT", FAX_OUTCOME_INCOMPATIBLE},
	    {"T30_ERR_TX_PHBDEAD", FAX_OUTCOME_PROTOCOL},
	    {"T30_ERR_TX_BADPG", FAX_OUTCOME_HANGUP},
	    {"T30_ERR_RX_NOCARRIER", FAX_OUTCOME_HANGUP},
	    {"T30_ERR_CALLDROPPED", FAX_OUTCOME_HANGUP},
	    {"T30_ERR_FILEERROR", FAX_OUTCOME_DOCUMENT},
	    {"T30_ERR_BADTIFF", FAX_OUTCOME_DOCUMENT},
	    {"T30_ERR_IDENT_UNACCEPTABLE", FAX_OUTCOME_REJECTED},
	    {"T30_ERR_RETRYDCN", FAX_OUTCOME_PROTOCOL},
	};
	for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
		int found = -1;
		for (int i = 0; i < n; i++)
			if (strcmp(fax_t30_code_name(i), cases[c].name) == 0)
				found = i;
		assert_true(found >= 0);
		if (fax_outcome_from_t30(found) != cases[c].o)
			fail_msg("%s -> %s", cases[c].name, fax_outcome_name(fax_outcome_from_t30(found)));
	}
}

static void test_outcome_names(void **state)
{
	assert_string_equal(fax_outcome_name(FAX_OUTCOME_OK), "ok");
	assert_string_equal(fax_outcome_name(FAX_OUTCOME_NO_ANSWER), "no-answer");
	assert_string_equal(fax_outcome_name(FAX_OUTCOME_INVALID_NUMBER), "invalid-number");
	assert_string_equal(fax_outcome_name((enum fax_outcome)99), "unknown");
	for (int i = 0; i < FAX_OUTCOME_COUNT; i++) {
		enum fax_outcome o;
		assert_int_equal(fax_outcome_parse(fax_outcome_name((enum fax_outcome)i), &o), 0);
		assert_int_equal(o, i);
	}
	enum fax_outcome o;
	assert_int_equal(fax_outcome_parse("nope", &o), -1);
	struct fax_report r;
	fax_report_init(&r, FAX_OUTCOME_BUSY, NULL);
	assert_string_equal(r.text, "busy");
	assert_int_equal(r.t30_code, 0);
}

static void test_ident_and_codec(void **state)
{
	char out[FAX_IDENT_MAX + 1];
	fax_ident_sanitise(out, "+1 (212) 555-0100 ext 12345");
	assert_int_equal(strlen(out), 20);
	fax_ident_sanitise(out, "a\nb");
	assert_string_equal(out, "a?b");
	fax_ident_sanitise(out, NULL);
	assert_string_equal(out, "");
	int16_t in[8] = {0, 1000, -1000, 32767, -32768, 5, -5, 20000}, back[8];
	uint8_t coded[16];
	for (int c = FAX_CODEC_LINEAR; c <= FAX_CODEC_ULAW; c++) {
		size_t n = fax_codec_encode((enum fax_codec)c, in, 8, coded);
		assert_int_equal(n, c == FAX_CODEC_LINEAR ? 16 : 8);
		fax_codec_decode((enum fax_codec)c, coded, 8, back);
		for (int i = 0; i < 8; i++)
			assert_true(abs(back[i] - in[i]) <= (c == FAX_CODEC_LINEAR ? 0 : 1100));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outcome_table),	 cmocka_unit_test(test_outcome_names),
	    cmocka_unit_test(test_ident_and_codec),	 cmocka_unit_test(test_audio_v17_ecm),
	    cmocka_unit_test(test_audio_v17_noecm),	 cmocka_unit_test(test_audio_v29_ecm),
	    cmocka_unit_test(test_audio_v29_noecm),	 cmocka_unit_test(test_audio_v27ter_ecm),
	    cmocka_unit_test(test_audio_v27ter_noecm),	 cmocka_unit_test(test_t38_udptl_loss_ecm),
	    cmocka_unit_test(test_t38_udptl_loss_noecm), cmocka_unit_test(test_page_range_and_header),
	    cmocka_unit_test(test_standard_letter),	 cmocka_unit_test(test_far_without_fine),
	    cmocka_unit_test(test_phase_b_policy),	 cmocka_unit_test(test_hangup_mid_call),
	    cmocka_unit_test(test_bad_documents),	 cmocka_unit_test(test_watchdog_noise),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
