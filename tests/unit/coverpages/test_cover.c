/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Cover pages (SVG 1.1 templates rendered with librsvg): page size per paper and resolution,
 * fields in the pixels and in the filled SVG, XML escaping of hostile values, template lookup
 * and errors, the note wrapped onto continuation pages with nothing lost, text boxes, the
 * built-in templates equal to the .svg files in coverpages/templates/, and the T.30 header line text.
 * Run from the top folder. With COVER_PNG_DIR set, the default covers are also written there
 * as PNG files, to look at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverpages/cover.h"
#include "coverpages/cover_builtin.h"
#include "coverpages/cover_template.h"
#include "render/faxwriter.h"

#define DATE_2025_06_25_1330Z 1750858200

static GHashTable *sample_fields(void)
{
	GHashTable *f = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	static const char *const kv[][2] = {
	    {"recipient_name", "Jürgen Müller"},
	    {"recipient_company", "Doe Sprockets GmbH"},
	    {"recipient_voice", "+49 30 1234560"},
	    {"number", "+4930123456"},
	    {"sender_name", "Anne Anderson"},
	    {"sender_company", "Example Trading Ltd"},
	    {"sender_department", "Accounts"},
	    {"sender_phone", "+44 20 7946 0000"},
	    {"sender_fax", "+44 20 7946 0001"},
	    {"sender_email", "anne@example.co.uk"},
	    {"sender_address", "12 Harbour Street, London EC1A 1BB"},
	    {"subject", "Invoice 4711"},
	    {"cover_note", "Dear Mr Müller,\n\nplease find our invoice attached.\n\nKind regards,\nAnne"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(kv); i++)
		g_hash_table_insert(f, g_strdup(kv[i][0]), g_strdup(kv[i][1]));
	return f;
}

static void set(GHashTable *f, const char *k, const char *v)
{
	g_hash_table_insert(f, g_strdup(k), g_strdup(v));
}

static struct cover_request request(GHashTable *fields)
{
	struct cover_request r = {.template_name = "default",
				  .fields = fields,
				  .document_pages = 2,
				  .date = DATE_2025_06_25_1330Z,
				  .tzid = "Europe/Berlin"};
	return r;
}

static long black_in(const struct fax_bitmap *b, int x0, int y0, int x1, int y1)
{
	long n = 0;
	for (int y = y0; y < y1 && y < b->height; y++)
		for (int x = x0; x < x1 && x < b->width; x++)
			if (b->bits[(size_t)y * b->stride + (size_t)(x >> 3)] & (0x80 >> (x & 7)))
				n++;
	return n;
}

static bool same_bits(const struct fax_bitmap *a, const struct fax_bitmap *b)
{
	return a->width == b->width && a->height == b->height && a->stride == b->stride &&
	       memcmp(a->bits, b->bits, a->stride * (size_t)a->height) == 0;
}

static void write_png(const struct fax_bitmap *b, const char *path)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, b->width, b->height);
	uint8_t *d = cairo_image_surface_get_data(s);
	int st = cairo_image_surface_get_stride(s);
	for (int y = 0; y < b->height; y++) {
		uint32_t *row = (uint32_t *)(void *)(d + (size_t)y * (size_t)st);
		for (int x = 0; x < b->width; x++)
			row[x] = (b->bits[(size_t)y * b->stride + (size_t)(x >> 3)] & (0x80 >> (x & 7)))
				     ? 0
				     : 0xFFFFFF;
	}
	cairo_surface_mark_dirty(s);
	assert_int_equal(cairo_surface_write_to_png(s, path), CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
}

static struct fax_bitmap *render_page(const struct cover_request *req, enum fax_res res, enum fax_paper paper,
				      int page, struct fax_geometry *g_r)
{
	const char *error = NULL;
	fax_geometry_get(res, paper, 0, g_r);
	struct cover *c = cover_create(req, paper, &error);
	assert_non_null(c);
	struct fax_bitmap *b = cover_page_bitmap(c, page, g_r, &error);
	if (!b)
		fail_msg("render: %s", error);
	cover_free(&c);
	assert_null(c);
	return b;
}

/* Every default cover at A4/Letter x standard/fine: 1728 x rows, ink in the title, white margins. */
static void test_default_geometry(void **state)
{
	GHashTable *f = sample_fields();
	struct cover_request req = request(f);
	const char *png_dir = getenv("COVER_PNG_DIR");
	for (int paper = FAX_PAPER_A4; paper <= FAX_PAPER_LEGAL; paper++)
		for (int res = FAX_RES_STD; res <= FAX_RES_FINE; res++) {
			struct fax_geometry g;
			struct fax_bitmap *b =
			    render_page(&req, (enum fax_res)res, (enum fax_paper)paper, 0, &g);
			assert_int_equal(b->width, FAX_WIDTH);
			assert_int_equal(b->height, g.rows);
			/* "FAX": about 48..230 pt across, 52..104 pt down */
			int y0 = (int)(50.0 / 72 * g.y_dpi), y1 = (int)(106.0 / 72 * g.y_dpi);
			long title = black_in(b, 100, y0, 700, y1);
			long area = (long)600 * (y1 - y0);
			assert_true(title > area / 5);
			/* margins: nothing in the first 10 mm across or the first 8 mm down */
			assert_int_equal(black_in(b, 0, 0, (int)(10 / 25.4 * 204), b->height), 0);
			assert_int_equal(black_in(b, 0, 0, b->width, (int)(8 / 25.4 * g.y_dpi)), 0);
			if (png_dir && res == FAX_RES_FINE && paper != FAX_PAPER_LEGAL) {
				char *path = g_strdup_printf("%s/cover-default-%s-fine.png", png_dir,
							     paper == FAX_PAPER_A4 ? "a4" : "letter");
				write_png(b, path);
				g_free(path);
			}
			fax_bitmap_free(&b);
			assert_null(b);
		}
	g_hash_table_destroy(f);
}

/* Which built-in template "default" means for each paper. */
static void test_default_by_paper(void **state)
{
	GHashTable *f = sample_fields();
	struct cover_request req = request(f);
	const char *error = NULL;
	static const struct {
		enum fax_paper paper;
		const char *name, *source;
	} cases[] = {{FAX_PAPER_A4, "default", "builtin:default-a4"},
		     {FAX_PAPER_LETTER, "default", "builtin:default-letter"},
		     {FAX_PAPER_LEGAL, "default", "builtin:default-letter"},
		     {FAX_PAPER_A4, NULL, "builtin:default-a4"},
		     {FAX_PAPER_A4, "", "builtin:default-a4"},
		     {FAX_PAPER_LETTER, "DEFAULT", "builtin:default-letter"},
		     {FAX_PAPER_A4, "simple", "builtin:simple-a4"},
		     {FAX_PAPER_LETTER, "simple", "builtin:simple-letter"}};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		req.template_name = cases[i].name;
		struct cover *c = cover_create(&req, cases[i].paper, &error);
		assert_non_null(c);
		assert_string_equal(cover_source(c), cases[i].source);
		assert_int_equal(cover_pages(c), 1);
		cover_free(&c);
	}
	cover_free(NULL);
	g_hash_table_destroy(f);
}

/* The simple style and superfine render too. */
static void test_simple_and_superfine(void **state)
{
	GHashTable *f = sample_fields();
	struct cover_request req = request(f);
	req.template_name = "simple";
	struct fax_geometry g;
	struct fax_bitmap *b = render_page(&req, FAX_RES_SUPER, FAX_PAPER_A4, 0, &g);
	assert_int_equal(b->width, FAX_WIDTH);
	assert_int_equal(b->height, g.rows);
	assert_true(black_in(b, 0, 0, b->width, b->height / 5) > 1000);
	fax_bitmap_free(&b);
	g_hash_table_destroy(f);
}

/* Different fields give different pixels; the same fields the same pixels. */
static void test_fields_change_pixels(void **state)
{
	GHashTable *f = sample_fields();
	struct cover_request req = request(f);
	struct fax_geometry g;
	struct fax_bitmap *a = render_page(&req, FAX_RES_STD, FAX_PAPER_A4, 0, &g);
	struct fax_bitmap *a2 = render_page(&req, FAX_RES_STD, FAX_PAPER_A4, 0, &g);
	assert_true(same_bits(a, a2));
	set(f, "recipient_name", "Someone Else Entirely");
	struct fax_bitmap *b = render_page(&req, FAX_RES_STD, FAX_PAPER_A4, 0, &g);
	assert_false(same_bits(a, b));
	/* the change is where the recipient's name is (about 112..290 pt across, 160..178 pt down) */
	struct fax_bitmap *diff = fax_bitmap_new(a->width, a->height);
	for (size_t i = 0; i < a->stride * (size_t)a->height; i++)
		diff->bits[i] = a->bits[i] ^ b->bits[i];
	long inside = black_in(diff, (int)(100.0 / 72 * 204), (int)(158.0 / 72 * g.y_dpi),
			       (int)(300.0 / 72 * 204), (int)(180.0 / 72 * g.y_dpi));
	long all = black_in(diff, 0, 0, diff->width, diff->height);
	assert_true(inside > 0);
	assert_int_equal(inside, all);
	req.date += 86400; /* another day */
	struct fax_bitmap *c = render_page(&req, FAX_RES_STD, FAX_PAPER_A4, 0, &g);
	assert_false(same_bits(b, c));
	fax_bitmap_free(&a);
	fax_bitmap_free(&a2);
	fax_bitmap_free(&b);
	fax_bitmap_free(&c);
	fax_bitmap_free(&diff);
	g_hash_table_destroy(f);
}

/* Values that are XML markup, references, bad UTF-8 or control characters stay text. */
static void test_xml_hostile_values(void **state)
{
	GHashTable *f = sample_fields();
	set(f, "recipient_name", "<Tom & \"Jerry\">");
	set(f, "recipient_company", "]]> <!-- --> &amp; &#x41; '");
	set(f, "sender_name", "{{date}} {{recipient_name}}");
	set(f, "sender_company", "bad \xff\xfe utf-8 \x01\x02 and\nnew\rlines");
	set(f, "cover_note", "</text></svg><svg onload=\"x\"> & more\n<tspan>");
	set(f, "subject", "\"quoted\" 'single' <b>bold</b>");
	struct cover_request req = request(f);
	const char *error = NULL;
	struct cover *c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c);
	size_t len;
	const char *svg = cover_page_svg(c, 0, &len);
	assert_non_null(svg);
	assert_int_equal(strlen(svg), len);
	assert_non_null(strstr(svg, "&lt;Tom &amp; &quot;Jerry&quot;&gt;"));
	assert_non_null(strstr(svg, "]]&gt; &lt;!-- --&gt; &amp;amp; &amp;#x41; &apos;"));
	assert_non_null(strstr(svg, "{{date}} {{recipient_name}}")); /* values are not expanded again */
	assert_non_null(strstr(svg, "and, new, lines")); /* a one-line box joins lines with ", " */
	assert_null(strstr(svg, "<Tom"));
	assert_null(strstr(svg, "<svg onload"));
	assert_null(strstr(svg, "\x01"));
	assert_true(g_utf8_validate(svg, (gssize)len, NULL));
	assert_non_null(strstr(svg, "&lt;/text&gt;&lt;/svg&gt;&lt;svg onload=&quot;x&quot;&gt; &amp; more"));
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_STD, FAX_PAPER_A4, 0, &g);
	struct fax_bitmap *b = cover_page_bitmap(c, 0, &g, &error);
	if (!b)
		fail_msg("render: %s", error);
	assert_int_equal(b->height, g.rows);
	fax_bitmap_free(&b);
	cover_free(&c);
	g_hash_table_destroy(f);
}

static char *temp_dir(void)
{
	GError *err = NULL;
	char *d = g_dir_make_tmp("test_cover_XXXXXX", &err);
	assert_non_null(d);
	return d;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);
	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(path);
}

static void remove_dir(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, n, NULL);
		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
	g_free(dir);
}

/* Unknown or bad template names are clear errors, in cover_create and in cover_render. */
static void test_unknown_template(void **state)
{
	GHashTable *f = sample_fields();
	struct cover_request req = request(f);
	const char *error = NULL;
	req.template_name = "nosuch";
	assert_null(cover_create(&req, FAX_PAPER_A4, &error));
	assert_non_null(strstr(error, "\"nosuch\" not found"));
	static const char *const bad[] = {"../etc/passwd", ".hidden", "a/b", "a b", "x\n"};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		req.template_name = bad[i];
		error = NULL;
		assert_null(cover_create(&req, FAX_PAPER_A4, &error));
		assert_non_null(strstr(error, "expected letters, digits"));
	}
	/* through cover_render: -1, the reason, no page added */
	char *dir = temp_dir();
	char *path = g_build_filename(dir, "out.tif", NULL);
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
	struct fax_writer *w = fax_writer_create(path, &g, &error);
	assert_non_null(w);
	int pages = -7;
	req.template_name = "nosuch";
	assert_int_equal(cover_render(&req, w, &g, &pages, &error), -1);
	assert_int_equal(pages, 0);
	assert_non_null(strstr(error, "not found"));
	assert_int_equal(fax_writer_pages(w), 0);
	/* and a good one: 1 page */
	req.template_name = "default";
	if (cover_render(&req, w, NULL, &pages, &error) != 0)
		fail_msg("cover_render: %s", error);
	assert_int_equal(pages, 1);
	assert_int_equal(fax_writer_pages(w), 1);
	assert_int_equal(fax_writer_close(w, &error), 1);
	fax_writer_free(&w);
	g_free(path);
	remove_dir(dir);
	g_hash_table_destroy(f);
}

/* A note's characters other than white space, in order. */
static char *ink(const char *s)
{
	GString *g = g_string_new(NULL);
	for (; *s; s++)
		if (!g_ascii_isspace(*s))
			g_string_append_c(g, *s);
	return g_string_free(g, FALSE);
}

static char *long_note(size_t chars, unsigned seed)
{
	static const char *const words[] = {"fax",    "gateway",  "invoice",	"delivery", "amount",
					    "please", "attached", "regards",	"Müller",   "transmission",
					    "of",     "the",	  "resolution", "€100",	    "page",
					    "cover",  "number",	  "x"};
	GRand *r = g_rand_new_with_seed(seed);
	GString *g = g_string_new(NULL);
	size_t n = 0;
	while (n < chars) {
		const char *w = words[g_rand_int_range(r, 0, G_N_ELEMENTS(words))];
		g_string_append(g, w);
		n += (size_t)g_utf8_strlen(w, -1) + 1;
		int k = g_rand_int_range(r, 0, 40);
		g_string_append(g, k == 0 ? ".\n\n" : k == 1 ? "\n" : " ");
	}
	g_rand_free(r);
	return g_string_free(g, FALSE);
}

/* All note lines of a cover, as one string of their non-blank characters. */
static char *placed_ink(const struct cover *c, int *lines_per_page)
{
	GString *all = g_string_new(NULL);
	for (int p = 0; p < cover_pages(c); p++) {
		int n = 0;
		const char *const *lines = cover_page_note(c, p, &n);
		lines_per_page[p] = n;
		for (int i = 0; i < n; i++) {
			char *k = ink(lines[i]);
			g_string_append(all, k);
			g_free(k);
		}
	}
	return g_string_free(all, FALSE);
}

/* A 3000-character note: a continuation page, every character placed once, in order. */
static void test_long_note(void **state)
{
	GHashTable *f = sample_fields();
	char *note = long_note(3000, 1);
	set(f, "cover_note", note);
	struct cover_request req = request(f);
	const char *error = NULL;
	for (int paper = FAX_PAPER_A4; paper <= FAX_PAPER_LETTER; paper++) {
		struct cover *c = cover_create(&req, (enum fax_paper)paper, &error);
		assert_non_null(c);
		assert_int_equal(cover_pages(c), 2);
		int lines[COVER_MAX_PAGES] = {0};
		char *placed = placed_ink(c, lines);
		char *want = ink(note);
		assert_string_equal(placed, want);
		assert_int_equal(lines[0], paper == FAX_PAPER_A4 ? 24 : 20); /* the cover's area is full */
		assert_true(lines[1] > 0);
		g_free(placed);
		g_free(want);
		/* both pages render, and cover_render reports 2 */
		struct fax_geometry g;
		fax_geometry_get(FAX_RES_STD, (enum fax_paper)paper, 0, &g);
		for (int p = 0; p < 2; p++) {
			struct fax_bitmap *b = cover_page_bitmap(c, p, &g, &error);
			assert_non_null(b);
			assert_int_equal(b->height, g.rows);
			fax_bitmap_free(&b);
		}
		assert_null(cover_page_bitmap(c, 2, &g, &error));
		assert_null(cover_page_svg(c, 2, NULL));
		cover_free(&c);
	}
	/* cover_render counts the continuation page */
	char *dir = temp_dir();
	char *path = g_build_filename(dir, "out.tif", NULL);
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
	struct fax_writer *w = fax_writer_create(path, &g, &error);
	assert_non_null(w);
	int pages = 0;
	if (cover_render(&req, w, &g, &pages, &error) != 0)
		fail_msg("cover_render: %s", error);
	assert_int_equal(pages, 2);
	assert_int_equal(fax_writer_close(w, &error), 2);
	fax_writer_free(&w);
	g_free(path);
	remove_dir(dir);
	g_free(note);

	/* cover_note and body_text together, long enough for several continuation pages */
	note = long_note(12000, 2);
	set(f, "cover_note", "Short note.");
	set(f, "body_text", note);
	struct cover *c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c);
	assert_true(cover_pages(c) >= 3);
	int lines[COVER_MAX_PAGES] = {0};
	char *placed = placed_ink(c, lines);
	char *want_body = ink(note);
	char *want = g_strconcat("Shortnote.", want_body, NULL);
	assert_string_equal(placed, want);
	for (int p = 1; p < cover_pages(c) - 1; p++)
		assert_int_equal(lines[p], 44); /* full continuation pages */
	g_free(placed);
	g_free(want);
	g_free(want_body);
	cover_free(&c);
	g_free(note);

	/* more than COVER_MAX_PAGES pages: an error, not a cut */
	note = long_note(200000, 3);
	set(f, "body_text", note);
	assert_null(cover_create(&req, FAX_PAPER_A4, &error));
	assert_non_null(strstr(error, "more than"));
	g_free(note);
	g_hash_table_destroy(f);
}

/* A very long word (a URL) is broken, not lost; blank lines are kept as one. */
static void test_note_edges(void **state)
{
	GHashTable *f = sample_fields();
	GString *word = g_string_new("https://example.com/");
	for (int i = 0; i < 400; i++)
		g_string_append_c(word, (char)('a' + i % 26));
	char *note = g_strdup_printf("\n\n  \nfirst\r\n\r\n\r\n\r\nsecond\t\ttabbed   \n%s\n\n\n", word->str);
	set(f, "cover_note", note);
	struct cover_request req = request(f);
	const char *error = NULL;
	struct cover *c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c);
	int n = 0;
	const char *const *lines = cover_page_note(c, 0, &n);
	assert_true(n >= 5);
	assert_string_equal(lines[0], "first");
	assert_string_equal(lines[1], "");
	assert_string_equal(lines[2], "second          tabbed");
	GString *joined = g_string_new(NULL);
	for (int i = 3; i < n; i++)
		g_string_append(joined, lines[i]);
	assert_string_equal(joined->str, word->str);
	g_string_free(joined, TRUE);
	g_string_free(word, TRUE);
	cover_free(&c);
	g_free(note);
	/* no note at all: one page, an empty note area */
	g_hash_table_remove(f, "cover_note");
	c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c);
	assert_int_equal(cover_pages(c), 1);
	assert_null(cover_page_note(c, 0, &n));
	assert_int_equal(n, 0);
	cover_free(&c);
	g_hash_table_destroy(f);
}

/* Lines as wide as the note area allows stay inside it as librsvg draws them: the measuring
   matches the drawing. Wide glyphs, bold boxes and right-aligned text, at both resolutions. */
static void test_text_stays_inside(void **state)
{
	GHashTable *f = sample_fields();
	GString *note = g_string_new(NULL);
	for (int i = 0; i < 600; i++)
		g_string_append(note, i % 7 == 0 ? "WWMMWW " : i % 5 == 0 ? "mmmmmmmmmmmmmmm " : "Wm ");
	set(f, "cover_note", note->str);
	set(f, "sender_company", "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW");
	set(f, "sender_address",
	    "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM");
	set(f, "recipient_name", "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW");
	struct cover_request req = request(f);
	for (int paper = FAX_PAPER_A4; paper <= FAX_PAPER_LETTER; paper++)
		for (int res = FAX_RES_STD; res <= FAX_RES_FINE; res++)
			for (int page = 0; page < 2; page++) {
				struct fax_geometry g;
				struct fax_bitmap *b =
				    render_page(&req, (enum fax_res)res, (enum fax_paper)paper, page, &g);
				/* the right margin: 50 pt on A4 (centred, 22 px in), 54 pt on Letter */
				int right = paper == FAX_PAPER_A4 ? 22 + (int)(545.0 / 72 * 204)
								  : (int)(558.0 / 72 * 204);
				long outside = black_in(b, right + 4, 0, b->width, b->height);
				if (outside)
					fail_msg("paper %d res %d page %d: %ld black pixels right of x=%d",
						 paper, res, page, outside, right);
				assert_true(black_in(b, right - 40, 0, right + 4, b->height) > 0);
				/* the recipient's name box ends at 290 pt (A4) */
				if (paper == FAX_PAPER_A4 && page == 0)
					assert_int_equal(black_in(b, 22 + (int)(292.0 / 72 * 204),
								  (int)(160.0 / 72 * g.y_dpi),
								  22 + (int)(305.0 / 72 * 204),
								  (int)(178.0 / 72 * g.y_dpi)),
							 0);
				fax_bitmap_free(&b);
			}
	g_string_free(note, TRUE);
	g_hash_table_destroy(f);
}

/* {{pages}} = document pages + cover pages, in the filled SVG of each page. */
static void test_pages_field(void **state)
{
	GHashTable *f = sample_fields();
	struct cover_request req = request(f);
	req.document_pages = 5;
	const char *error = NULL;
	struct cover *c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c);
	const char *svg = cover_page_svg(c, 0, NULL);
	assert_non_null(strstr(svg, ">6 (including this cover)<"));
	assert_non_null(strstr(svg, "did not receive all 6 pages"));
	assert_non_null(strstr(svg, ">2025-06-25 15:30 CEST<"));
	cover_free(&c);
	char *note = long_note(3000, 4);
	set(f, "cover_note", note);
	c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c);
	assert_int_equal(cover_pages(c), 2);
	svg = cover_page_svg(c, 0, NULL);
	assert_non_null(strstr(svg, ">7 (including this cover)<"));
	assert_non_null(strstr(svg, "(continued on the next page)"));
	svg = cover_page_svg(c, 1, NULL);
	assert_non_null(strstr(svg, "page 2 of 7<"));
	assert_null(strstr(svg, "(continued on the next page)"));
	cover_free(&c);
	/* no document pages: the cover alone */
	req.document_pages = 0;
	g_hash_table_remove(f, "cover_note");
	c = cover_create(&req, FAX_PAPER_LETTER, &error);
	assert_non_null(c);
	assert_non_null(strstr(cover_page_svg(c, 0, NULL), ">1 (including this cover)<"));
	cover_free(&c);
	g_free(note);
	g_hash_table_destroy(f);
}

static const char *custom_cover =
    "<?xml version=\"1.0\"?>\n"
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" viewBox=\"0 0 595 842\""
    " font-family=\"DejaVu Sans\">\n"
    "<!-- a comment with <text> and {{sender_name}} -->\n"
    "<rect width=\"595\" height=\"842\" fill=\"white\"/>\n"
    "<text x=\"50\" y=\"100\" font-size=\"40\">{{ recipient_name | number }}</text>\n"
    "<text x=\"50\" y=\"150\" font-size='12'>[{{nosuch}}][{{recipient_voice|'n/a'}}][{{ bad syntax "
    "}}]</text>\n"
    "<text x=\"50\" y=\"170\" font-size=\"12\" data-width=\"100\">{{cover_custom_1}}</text>\n"
    "<text x=\"50\" y=\"190\" style=\"font-size:12px;font-weight:bold\" data-width=\"100\" data-lines=\"2\">"
    "{{cover_custom_2}}</text>\n"
    "<g><text id=\"note\" x=\"50\" y=\"300\" style=\"font-size:10px;line-height:1.5\" data-width=\"400\""
    " data-height=\"45\"><tspan>{{note}}</tspan></text></g>\n"
    "<rect x=\"10\" y=\"10\" width=\"20\" height=\"20\" fill=\"#808080\"/>\n"
    "</svg>\n";

/* A site's own template: placeholders, alternatives, unknown fields, text boxes, its note area
   (3 lines), continuation with its own page or default-continued; a site file beats a built-in. */
static void test_custom_template(void **state)
{
	char *dir = temp_dir(), *dir2 = temp_dir();
	write_file(dir, "acme.svg", custom_cover);
	GHashTable *f = sample_fields();
	g_hash_table_remove(f, "recipient_name");
	g_hash_table_remove(f, "recipient_voice");
	set(f, "cover_custom_1", "A value much too long to fit into one hundred units");
	set(f, "cover_custom_2", "Short");
	set(f, "cover_note", "one\ntwo\nthree\nfour");
	const char *dirs[] = {dir2, dir, NULL};
	struct cover_request req = request(f);
	req.template_dirs = dirs;
	req.template_name = "acme";
	const char *error = NULL;
	struct cover *c = cover_create(&req, FAX_PAPER_LETTER, &error);
	if (!c)
		fail_msg("%s", error);
	char *path = g_build_filename(dir, "acme.svg", NULL);
	assert_string_equal(cover_source(c), path);
	g_free(path);
	assert_int_equal(cover_pages(c), 2); /* 3 lines here, "four" on default-continued */
	const char *svg = cover_page_svg(c, 0, NULL);
	assert_non_null(strstr(svg, ">+4930123456</text>"));
	assert_non_null(strstr(svg, ">[][n/a][{{ bad syntax }}]</text>"));
	assert_non_null(strstr(svg, "<!-- a comment with <text> and Anne Anderson -->"));
	assert_non_null(strstr(svg, "…</text>")); /* cut, at the smallest size */
	assert_non_null(strstr(svg, "font-size=\"8.4\""));
	assert_non_null(strstr(svg, "style=\"font-size:12px;font-weight:bold\""));
	assert_non_null(strstr(svg, ">Short</text>"));
	assert_non_null(strstr(svg,
			       "<tspan x=\"50\" y=\"300\">one</tspan><tspan x=\"50\" y=\"315\">two</tspan>"
			       "<tspan x=\"50\" y=\"330\">three</tspan></text>"));
	assert_non_null(strstr(svg, "xml:space=\"preserve\""));
	int n;
	assert_non_null(cover_page_note(c, 1, &n));
	assert_int_equal(n, 1);
	assert_string_equal(cover_page_note(c, 1, &n)[0], "four");
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_LETTER, 0, &g);
	for (int p = 0; p < 2; p++) {
		struct fax_bitmap *b = cover_page_bitmap(c, p, &g, &error);
		if (!b)
			fail_msg("%s", error);
		if (p == 0) { /* the grey square is dithered: some ink, not all */
			long k = black_in(b, 0, 0, 250, 120);
			if (!(k > 200 && k < 2500))
				fail_msg("grey square: %ld black pixels", k);
		}
		fax_bitmap_free(&b);
	}
	cover_free(&c);

	/* its own continuation page, found in another folder */
	write_file(
	    dir2, "acme-continued.svg",
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8.5in\" height=\"11in\" viewBox=\"0 0 612 "
	    "792\">"
	    "<text x=\"50\" y=\"50\" font-size=\"12\">ACME continued {{cover_page}}/{{cover_pages}}</text>"
	    "<text id=\"note\" x=\"50\" y=\"100\" font-size=\"10\" data-width=\"500\" "
	    "data-lines=\"1\"/></svg>");
	set(f, "cover_note", "one\ntwo\nthree\nfour\nfive");
	c = cover_create(&req, FAX_PAPER_LETTER, &error);
	assert_non_null(c);
	assert_int_equal(cover_pages(c), 3);
	assert_non_null(strstr(cover_page_svg(c, 1, NULL), "ACME continued 2/3"));
	assert_non_null(strstr(cover_page_svg(c, 2, NULL), ">five</tspan>"));
	cover_free(&c);

	/* a site file named like a built-in one replaces it */
	write_file(dir2, "default-a4.svg", custom_cover);
	req.template_name = "default";
	c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c);
	path = g_build_filename(dir2, "default-a4.svg", NULL);
	assert_string_equal(cover_source(c), path);
	g_free(path);
	cover_free(&c);
	c = cover_create(&req, FAX_PAPER_LETTER, &error); /* but not for Letter */
	assert_string_equal(cover_source(c), "builtin:default-letter");
	cover_free(&c);

	/* broken templates */
	write_file(dir, "nowidth.svg",
		   "<svg xmlns=\"http://www.w3.org/2000/svg\"><text id=\"note\" data-lines=\"3\">"
		   "{{note}}</text></svg>");
	req.template_name = "nowidth";
	assert_null(cover_create(&req, FAX_PAPER_A4, &error));
	assert_non_null(strstr(error, "needs data-width"));
	assert_non_null(strstr(error, "nowidth.svg"));
	write_file(dir, "nolines.svg",
		   "<svg xmlns=\"http://www.w3.org/2000/svg\"><text id=\"note\" data-width=\"9\">"
		   "{{note}}</text></svg>");
	req.template_name = "nolines";
	assert_null(cover_create(&req, FAX_PAPER_A4, &error));
	assert_non_null(strstr(error, "data-lines or data-height"));
	write_file(dir, "broken.svg",
		   "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"10\" height=</svg>");
	req.template_name = "broken";
	c = cover_create(&req, FAX_PAPER_A4, &error);
	assert_non_null(c); /* the filler does not judge SVG; librsvg does */
	assert_null(cover_page_bitmap(c, 0, &g, &error));
	assert_non_null(strstr(error, "broken.svg"));
	cover_free(&c);
	g_autofree char *scratch = g_build_filename(dir, "scratch.tiff", NULL);
	struct fax_writer *w = fax_writer_create(scratch, &g, &error);
	assert_non_null(w);
	int pages = 0;
	assert_int_equal(cover_render(&req, w, &g, &pages, &error), -1);
	assert_non_null(strstr(error, "broken.svg"));
	fax_writer_free(&w);

	g_hash_table_destroy(f);
	remove_dir(dir);
	remove_dir(dir2);
}

/* The built-in C strings are the .svg files, and every .svg file is built in. */
static void test_builtin_matches_files(void **state)
{
	int count = 0;
	for (int i = 0; cover_builtin_name(i); i++, count++) {
		const char *name = cover_builtin_name(i);
		char *path = g_strdup_printf("coverpages/templates/%s.svg", name);
		char *text = NULL;
		if (!g_file_get_contents(path, &text, NULL, NULL))
			fail_msg("%s: cannot read (run the test from the top folder)", path);
		if (strcmp(text, cover_builtin_find(name)) != 0)
			fail_msg("%s differs from coverpages/cover_builtin.c: run "
				 "coverpages/templates/mkbuiltin.py",
				 path);
		g_free(text);
		g_free(path);
	}
	GDir *d = g_dir_open("coverpages/templates", 0, NULL);
	assert_non_null(d);
	int files = 0;
	const char *n;
	while ((n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".svg")) {
			char *name = g_strndup(n, strlen(n) - 4);
			if (!cover_builtin_find(name))
				fail_msg("coverpages/templates/%s is not built in: run "
					 "coverpages/templates/mkbuiltin.py",
					 n);
			g_free(name);
			files++;
		}
	g_dir_close(d);
	assert_int_equal(files, count);
	assert_true(count >= 4);
	assert_non_null(cover_builtin_find("default-a4"));
	assert_non_null(cover_builtin_find("default-letter"));
	assert_null(cover_builtin_find("nosuch"));
	assert_null(cover_builtin_find(NULL));
	assert_null(cover_builtin_name(-1));
}

static const char *map_lookup(void *context, const char *name)
{
	return g_hash_table_lookup(context, name);
}

/* Placeholder syntax on plain text. */
static void test_expand(void **state)
{
	GHashTable *f = sample_fields();
	set(f, "empty", "   ");
	struct cover_template_fields tf = {map_lookup, f};
	static const char *const cases[][2] = {
	    {"{{sender_name}}", "Anne Anderson"},
	    {"{{ SENDER_NAME }}", "Anne Anderson"},
	    {"{{nosuch}}", ""},
	    {"{{empty|nosuch|number}}", "+4930123456"},
	    {"{{empty|'fallback text'}}", "fallback text"},
	    {"{{number|'x'}}", "+4930123456"},
	    {"{{a b}}", "{{a b}}"},
	    {"{{}}", "{{}}"},
	    {"{{ 'unclosed }}", "{{ 'unclosed }}"},
	    {"{{number", "{{number"},
	    {"{{{number}}}", "{+4930123456}"},
	    {"{{{{x}}", "{{"},
	    {"a {{number}} b {{number}} c", "a +4930123456 b +4930123456 c"},
	    {"no placeholders & <tags>", "no placeholders & <tags>"},
	    {"", ""},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *out = cover_template_expand(cases[i][0], &tf);
		assert_string_equal(out, cases[i][1]);
		g_free(out);
	}
	g_hash_table_destroy(f);
}

static void fill_any(const char *svg, size_t len, const struct cover_template_fields *tf)
{
	const char *error = NULL;
	struct cover_template *t = cover_template_create(svg, len, &error);
	if (!t) {
		assert_non_null(error);
		return;
	}
	char **lines;
	size_t used;
	int n = cover_template_note_layout(t, "a few words of a note\n\nand more", &lines, &used);
	assert_int_equal(n, (int)g_strv_length(lines));
	size_t out_len;
	char *out = cover_template_fill(t, tf, (const char *const *)lines, n, &out_len);
	assert_int_equal(strlen(out), out_len);
	g_free(out);
	g_strfreev(lines);
	cover_template_free(&t);
	assert_null(t);
}

/* Every prefix of a template, and templates with random damage, fill without harm. */
static void test_template_arbitrary(void **state)
{
	GHashTable *f = sample_fields();
	set(f, "cover_custom_1", "<x y=\"'\">&amp;{{");
	struct cover_template_fields tf = {map_lookup, f};
	size_t len = strlen(custom_cover);
	for (size_t i = 0; i <= len; i++)
		fill_any(custom_cover, i, &tf);
	static const char *const bits[] = {
	    "<",    ">",   "\"", "'",  "{{",	    "}}",	   "|",	 "<text",	   "</text>",
	    "<!--", "-->", "&",	 "&#", "<![CDATA[", "<!DOCTYPE [", "]>", " data-width=\"", " id=\"note\"",
	    "\xff", "/>",  "\0"};
	const char *base = cover_builtin_find("simple-a4");
	GRand *r = g_rand_new_with_seed(7);
	for (int iter = 0; iter < 300; iter++) {
		GString *g = g_string_new(base);
		for (int k = g_rand_int_range(r, 1, 6); k > 0; k--) {
			size_t at = (size_t)g_rand_int_range(r, 0, (gint32)g->len + 1);
			if (g_rand_boolean(r))
				g_string_erase(g, (gssize)at,
					       MIN((gssize)(g->len - at), g_rand_int_range(r, 1, 40)));
			else
				g_string_insert(g, (gssize)at,
						bits[g_rand_int_range(r, 0, G_N_ELEMENTS(bits))]);
		}
		fill_any(g->str, g->len, &tf);
		g_string_free(g, TRUE);
	}
	g_rand_free(r);
	g_hash_table_destroy(f);
}

/* The T.30 header line text. */
static void test_header_info(void **state)
{
	GHashTable *f = sample_fields();
	char *s = cover_header_info(NULL, f);
	assert_string_equal(s, "FROM Anne Anderson TO Jurgen Muller");
	g_free(s);
	assert_null(cover_header_info("none", f));
	assert_null(cover_header_info("  NONE ", f));
	assert_null(cover_header_info("", f));
	assert_null(cover_header_info("{{nosuch}}", f));
	/* fallbacks: company, then numbers */
	g_hash_table_remove(f, "sender_name");
	g_hash_table_remove(f, "recipient_name");
	s = cover_header_info(NULL, f);
	assert_string_equal(s, "FROM Example Trading Ltd TO Doe Sprockets GmbH");
	g_free(s);
	g_hash_table_remove(f, "sender_company");
	g_hash_table_remove(f, "recipient_company");
	s = cover_header_info(NULL, f);
	assert_string_equal(s, "FROM +44 20 7946 0001 TO +4930123456");
	g_free(s);
	s = cover_header_info(NULL, NULL);
	assert_string_equal(s, "FROM TO");
	g_free(s);
	/* at most 50, cut at a word */
	set(f, "sender_name", "Maximilian Alexander von und zu Irgendwo-Langername");
	set(f, "recipient_name", "Bob");
	s = cover_header_info(NULL, f);
	assert_true(strlen(s) <= COVER_HEADER_INFO_MAX);
	assert_string_equal(s, "FROM Maximilian Alexander von und zu");
	g_free(s);
	s = cover_header_info("{{sender_name}} {{sender_name}}", f);
	assert_true(strlen(s) <= COVER_HEADER_INFO_MAX);
	assert_string_equal(s, "Maximilian Alexander von und zu");
	g_free(s);
	s = cover_header_info("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", f);
	assert_int_equal(strlen(s), COVER_HEADER_INFO_MAX);
	g_free(s);
	/* exactly 50 is kept whole, also when a word follows */
	s = cover_header_info("aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeeee", f);
	assert_int_equal(strlen(s), 50);
	g_free(s);
	s = cover_header_info("aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeeee f", f);
	assert_int_equal(strlen(s), 50);
	g_free(s);
	s = cover_header_info("aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee ff", f);
	assert_string_equal(s, "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee");
	g_free(s);
	/* printable ASCII only, one space between words */
	set(f, "sender_name", "Ærøskøbing\t\x01 Straße");
	s = cover_header_info("{{sender_name}}   x", f);
	for (const char *p = s; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7E);
	assert_null(strstr(s, "  "));
	assert_string_equal(s, "AEroeskoebing Strasse x");
	g_free(s);
	set(f, "sender_name", "王 Wang?");
	s = cover_header_info("{{sender_name}}", f);
	assert_string_equal(s, "Wang?");
	g_free(s);
	/* the %-codes of X-Fax-Header-Line */
	s = cover_header_info_at("%d.%m.%Y %H:%M %y %n 100%% {{recipient_name}} %q", f, DATE_2025_06_25_1330Z,
				 "Europe/Berlin");
	assert_string_equal(s, "25.06.2025 15:30 25 +4930123456 100% Bob %q");
	g_free(s);
	s = cover_header_info_at("%H:%M", f, DATE_2025_06_25_1330Z, "UTC");
	assert_string_equal(s, "13:30");
	g_free(s);
	s = cover_header_info_at("%H:%M %", f, DATE_2025_06_25_1330Z, "No/Such_Zone");
	assert_string_equal(s, "13:30 %");
	g_free(s);
	g_hash_table_destroy(f);
}

/* fontconfig keeps its configuration until the process ends (pango and librsvg load it); under
   LeakSanitizer (make check) that is not our leak. Unused without ASan. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_geometry),
	    cmocka_unit_test(test_default_by_paper),
	    cmocka_unit_test(test_simple_and_superfine),
	    cmocka_unit_test(test_fields_change_pixels),
	    cmocka_unit_test(test_xml_hostile_values),
	    cmocka_unit_test(test_unknown_template),
	    cmocka_unit_test(test_long_note),
	    cmocka_unit_test(test_note_edges),
	    cmocka_unit_test(test_text_stays_inside),
	    cmocka_unit_test(test_pages_field),
	    cmocka_unit_test(test_custom_template),
	    cmocka_unit_test(test_builtin_matches_files),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_template_arbitrary),
	    cmocka_unit_test(test_header_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
