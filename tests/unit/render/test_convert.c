/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The converters (render/convert.c): every page they produce is a TIFF Class F page 1728 pixels
 * wide with the writer's resolution (ITU-T T.4 §2.2), content lands where the document put it,
 * text is laid out and wrapped as promised, images are fitted and dithered, hostile input (PDF
 * bombs, 10,000 pages, decompression bombs, corrupt, encrypted and truncated files) fails with a
 * reason within the timeout, and fax → PDF (PDF 1.4 CCITTFaxDecode) is bit-exact per pdfimages.
 *
 * Needs Ghostscript and poppler-utils (deps/packages.debian); the office cases are skipped, and
 * say so, when LibreOffice is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <zlib.h>

#include "faxd/tiffpages.h"
#include "render/convert.h"
#include "render/faxwriter.h"
#include "tests/unit/render/tiffvariant.h"

static char *tmpdir;

static int rm_tree_entry(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	for (const char *e; d && (e = g_dir_read_name(d)) != NULL;) {
		char *p = g_build_filename(dir, e, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			rm_tree_entry(p);
		else
			g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	return g_rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	tmpdir = g_dir_make_tmp("test_convert-XXXXXX", NULL);
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	/* No scratch directory of the converters may be left behind. */
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	int leftovers = 0;
	for (const char *e; d && (e = g_dir_read_name(d)) != NULL;)
		if (g_str_has_prefix(e, "faxgate-convert-"))
			leftovers++;
	if (d)
		g_dir_close(d);
	rm_tree_entry(tmpdir);
	g_free(tmpdir);
	if (leftovers) {
		fprintf(stderr, "%d scratch directories left behind\n", leftovers);
		return -1;
	}
	return 0;
}

static char *tmp_path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static struct render_options opts(void)
{
	struct render_options o;
	render_options_default(&o);
	o.tmpdir = tmpdir;
	o.timeout_s = 20;
	return o;
}

/* A writer on a fresh file; free with done(). */
struct out {
	char *path;
	struct fax_writer *w;
	struct fax_geometry g;
};

static struct out *out_new(const char *name, enum fax_res res, enum fax_paper paper, int header_rows)
{
	struct out *o = g_new0(struct out, 1);
	o->path = tmp_path(name);
	fax_geometry_get(res, paper, header_rows, &o->g);
	const char *error = NULL;
	o->w = fax_writer_create(o->path, &o->g, &error);
	assert_non_null(o->w);
	return o;
}

/* Close; returns the page count (or -1). */
static int out_close(struct out *o)
{
	const char *error = NULL;
	int n = fax_writer_close(o->w, &error);
	fax_writer_free(&o->w);
	return n;
}

static void out_free(struct out **op)
{
	struct out *o = *op;
	fax_writer_free(&o->w);
	g_unlink(o->path);
	g_free(o->path);
	g_free(o);
	*op = NULL;
}

static struct tiffpages_bitmap *page(const char *path, int n)
{
	struct tiffpages_bitmap *b = NULL;
	const char *error = NULL;
	assert_int_equal(tiffpages_read(path, n, &b, &error), 0);
	return b;
}

static bool px(const struct tiffpages_bitmap *b, int x, int y)
{
	return x >= 0 && y >= 0 && x < b->width && y < b->height &&
	       (b->bits[(size_t)y * b->stride + (size_t)(x >> 3)] & (0x80 >> (x & 7)));
}

static long black_in(const struct tiffpages_bitmap *b, int x0, int y0, int x1, int y1)
{
	long n = 0;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			n += px(b, x, y);
	return n;
}

/* Bands of rows holding ink, i.e. text lines (separated by at least `gap` white rows). */
static int count_bands(const struct tiffpages_bitmap *b, int gap)
{
	int bands = 0, white = gap;
	for (int y = 0; y < b->height; y++) {
		bool ink = black_in(b, 0, y, b->width, y + 1) > 0;
		if (ink && white >= gap)
			bands++;
		white = ink ? 0 : white + 1;
	}
	return bands;
}

static void check_page_tags(const char *path, int pages, int rows, int y_dpi)
{
	TIFF *t = TIFFOpen(path, "r");
	assert_non_null(t);
	assert_int_equal(TIFFNumberOfDirectories(t), pages);
	for (int p = 0; p < pages; p++) {
		assert_true(TIFFSetDirectory(t, (tdir_t)p));
		uint32_t w = 0, h = 0;
		uint16_t bps = 0, unit = 0;
		float xr = 0, yr = 0;
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
		TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bps);
		TIFFGetField(t, TIFFTAG_RESOLUTIONUNIT, &unit);
		assert_true(TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr));
		assert_true(TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr));
		assert_int_equal(w, 1728);
		if (rows > 0)
			assert_int_equal(h, rows);
		assert_int_equal(bps, 1);
		assert_int_equal(unit, RESUNIT_INCH);
		assert_true(fabsf(xr - 204) < 0.5f);
		assert_true(fabsf(yr - (float)y_dpi) < 0.5f);
	}
	TIFFClose(t);
}

/* ---------------------------------------------------------------------------------------- */
/* Documents made here */

/* A PDF with `pages` pages showing `content`, Helvetica as /F1, fonts not embedded. */
static char *make_pdf(const char *name, int pages, const char *content, const char *mediabox,
		      const char *page_extra)
{
	GString *pdf = g_string_new("%PDF-1.4\n");
	GArray *offs = g_array_new(FALSE, FALSE, sizeof(gsize));
	GString *kids = g_string_new(NULL);
	for (int i = 0; i < pages; i++)
		g_string_append_printf(kids, "%d 0 R ", 5 + i);
	char *objs[4];
	objs[0] = g_strdup("<< /Type /Catalog /Pages 2 0 R >>");
	objs[1] = g_strdup_printf("<< /Type /Pages /Kids [%s] /Count %d >>", kids->str, pages);
	objs[2] = g_strdup("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
	objs[3] = g_strdup_printf("<< /Length %zu >>\nstream\n%s\nendstream", strlen(content), content);
	for (int i = 0; i < 4 + pages; i++) {
		gsize off = pdf->len;
		g_array_append_val(offs, off);
		if (i < 4)
			g_string_append_printf(pdf, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
		else
			g_string_append_printf(
			    pdf,
			    "%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Resources << /Font << "
			    "/F1 3 0 R >> >> /Contents 4 0 R %s >>\nendobj\n",
			    i + 1, mediabox ? mediabox : "0 0 595 842", page_extra ? page_extra : "");
	}
	gsize xref = pdf->len;
	g_string_append_printf(pdf, "xref\n0 %u\n0000000000 65535 f \n", offs->len + 1);
	for (guint i = 0; i < offs->len; i++)
		g_string_append_printf(pdf, "%010zu 00000 n \n", g_array_index(offs, gsize, i));
	g_string_append_printf(pdf, "trailer\n<< /Size %u /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
			       offs->len + 1, xref);
	char *path = tmp_path(name);
	assert_true(g_file_set_contents(path, pdf->str, (gssize)pdf->len, NULL));
	for (int i = 0; i < 4; i++)
		g_free(objs[i]);
	g_string_free(pdf, TRUE);
	g_string_free(kids, TRUE);
	g_array_free(offs, TRUE);
	return path;
}

static char *make_file(const char *name, const void *data, size_t len)
{
	char *path = tmp_path(name);
	assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
	return path;
}

/* A w x h RGB image: white, with a black square of `side` in the middle, or uniform `grey`. */
static GdkPixbuf *make_pixbuf(int w, int h, int side, int grey)
{
	GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
	int rs = gdk_pixbuf_get_rowstride(pb);
	guchar *p = gdk_pixbuf_get_pixels(pb);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int v = grey;
			if (side > 0)
				v = (abs(x - w / 2) < side / 2 && abs(y - h / 2) < side / 2) ? 0 : 255;
			p[y * rs + x * 3] = p[y * rs + x * 3 + 1] = p[y * rs + x * 3 + 2] = (guchar)v;
		}
	return pb;
}

static char *save_pixbuf(GdkPixbuf *pb, const char *name, const char *type)
{
	char *path = tmp_path(name);
	assert_true(gdk_pixbuf_save(pb, path, type, NULL, NULL));
	return path;
}

static void png_chunk(GByteArray *a, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	g_byte_array_append(a, be, 4);
	g_byte_array_append(a, (const uint8_t *)type, 4);
	if (len)
		g_byte_array_append(a, data, len);
	uLong crc = crc32(0, (const Bytef *)type, 4);
	if (len)
		crc = crc32(crc, data, len);
	uint8_t c[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
	g_byte_array_append(a, c, 4);
}

static double elapsed_since(gint64 start)
{
	return (double)(g_get_monotonic_time() - start) / 1e6;
}

/* ---------------------------------------------------------------------------------------- */
/* PDF and PostScript */

static const char rect_content[] = "0 g 100 600 200 100 re f";

static void test_pdf_geometry(void **state)
{
	(void)state;
	char *pdf = make_pdf("geom.pdf", 2, rect_content, NULL, NULL);
	struct render_options o = opts();
	for (int res = FAX_RES_STD; res <= FAX_RES_SUPER; res++)
		for (int paper = FAX_PAPER_A4; paper <= FAX_PAPER_LEGAL; paper++)
			for (int header = 0; header <= 32; header += 32) {
				if (header && res != FAX_RES_FINE)
					continue;
				struct out *out =
				    out_new("geom.tif", (enum fax_res)res, (enum fax_paper)paper, header);
				const char *error = NULL;
				int r = render_pdf(out->w, &o, pdf, &error);
				if (r < 0)
					fail_msg("render_pdf: %s", error);
				int rows = out->g.rows, y_dpi = out->g.y_dpi;
				assert_int_equal(out_close(out), 2);
				check_page_tags(out->path, 2, rows, y_dpi);
				out_free(&out);
			}
	g_free(pdf);
}

/* Where a PDF rectangle lands: Ghostscript fits the page (-dPDFFitPage) and centres it. */
static void expected_rect(const struct fax_geometry *g, double pw, double ph, double x, double y, double w,
			  double h, int r[4])
{
	double nat_w = pw / 72 * g->x_dpi, nat_h = ph / 72 * g->y_dpi;
	double s = fmin(FAX_WIDTH / nat_w, g->rows / nat_h);
	double ox = (FAX_WIDTH - nat_w * s) / 2, oy = (g->rows - nat_h * s) / 2;
	r[0] = (int)lround(ox + x / 72 * g->x_dpi * s);
	r[2] = (int)lround(ox + (x + w) / 72 * g->x_dpi * s);
	r[1] = (int)lround(oy + (ph - y - h) / 72 * g->y_dpi * s);
	r[3] = (int)lround(oy + (ph - y) / 72 * g->y_dpi * s);
}

static void check_rect(const struct tiffpages_bitmap *b, const int r[4])
{
	int m = 3; /* pixels of slack for rounding */
	long inner_area = (long)(r[2] - r[0] - 2 * m) * (r[3] - r[1] - 2 * m);
	long inner = black_in(b, r[0] + m, r[1] + m, r[2] - m, r[3] - m);
	long all = black_in(b, 0, 0, b->width, b->height);
	long outer = black_in(b, r[0] - m, r[1] - m, r[2] + m, r[3] + m);
	assert_int_equal(inner, inner_area);	/* solid inside */
	assert_int_equal(all, outer);		/* nothing outside */
	assert_true(outer < inner_area * 1.25); /* and about the right size */
}

static void test_pdf_content_position(void **state)
{
	(void)state;
	struct render_options o = opts();
	static const struct {
		const char *mediabox;
		double pw, ph;
		enum fax_res res;
		enum fax_paper paper;
	} cases[] = {
	    {"0 0 595 842", 595, 842, FAX_RES_FINE, FAX_PAPER_A4},
	    {"0 0 612 792", 612, 792, FAX_RES_FINE, FAX_PAPER_LETTER},
	    {"0 0 612 792", 612, 792, FAX_RES_STD, FAX_PAPER_A4},
	    {"0 0 595 842", 595, 842, FAX_RES_SUPER, FAX_PAPER_LEGAL},
	    {"0 0 1190 1684", 1190, 1684, FAX_RES_FINE, FAX_PAPER_A4}, /* A2: scaled down */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char content[128];
		double x = 100, y = cases[i].ph - 242, w = 200, h = 100;
		g_snprintf(content, sizeof(content), "0 g %g %g %g %g re f", x, y, w, h);
		char *pdf = make_pdf("pos.pdf", 1, content, cases[i].mediabox, NULL);
		struct out *out = out_new("pos.tif", cases[i].res, cases[i].paper, 0);
		const char *error = NULL;
		assert_int_equal(render_pdf(out->w, &o, pdf, &error), 0);
		assert_int_equal(out_close(out), 1);
		struct tiffpages_bitmap *b = page(out->path, 1);
		int r[4];
		expected_rect(&out->g, cases[i].pw, cases[i].ph, x, y, w, h, r);
		check_rect(b, r);
		tiffpages_bitmap_free(&b);
		out_free(&out);
		g_free(pdf);
	}
}

/* 55 % grey text still leaves black pixels where the text is (halftoned, not thresholded away). */
static void test_pdf_grey_text(void **state)
{
	(void)state;
	struct render_options o = opts();
	char *black =
	    make_pdf("black.pdf", 1, "BT /F1 36 Tf 0 g 100 600 Td (Grey text survives) Tj ET", NULL, NULL);
	char *grey =
	    make_pdf("grey.pdf", 1, "BT /F1 36 Tf 0.55 g 100 600 Td (Grey text survives) Tj ET", NULL, NULL);
	long counts[2];
	char *pdfs[2] = {black, grey};
	for (int i = 0; i < 2; i++) {
		struct out *out = out_new("grey.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
		const char *error = NULL;
		assert_int_equal(render_pdf(out->w, &o, pdfs[i], &error), 0);
		assert_int_equal(out_close(out), 1);
		struct tiffpages_bitmap *b = page(out->path, 1);
		int r[4];
		expected_rect(&out->g, 595, 842, 95, 590, 420, 50, r);
		counts[i] = black_in(b, r[0], r[1], r[2], r[3]);
		assert_int_equal(black_in(b, 0, 0, b->width, b->height), counts[i]); /* only there */
		tiffpages_bitmap_free(&b);
		out_free(&out);
	}
	assert_true(counts[0] > 5000);
	assert_true(counts[1] > counts[0] / 5);
	assert_true(counts[1] < counts[0]);
	g_free(black);
	g_free(grey);
}

static void test_pdf_max_pages(void **state)
{
	(void)state;
	struct render_options o = opts();
	/* 10,000 PostScript pages: Ghostscript stops at max + 1. */
	const char ps[] = "%!PS\n1 1 10000 {pop showpage} for\n";
	char *many = make_file("many.ps", ps, strlen(ps));
	struct out *out = out_new("many.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	fax_writer_set_max_pages(out->w, 5);
	const char *error = NULL;
	gint64 start = g_get_monotonic_time();
	assert_int_equal(render_pdf(out->w, &o, many, &error), -1);
	assert_string_equal(error, "more than 5 pages");
	assert_true(elapsed_since(start) < 10);
	assert_int_equal(fax_writer_pages(out->w), 0);
	/* A PDF is counted before Ghostscript runs. */
	char *seven = make_pdf("seven.pdf", 7, rect_content, NULL, NULL);
	start = g_get_monotonic_time();
	assert_int_equal(render_pdf(out->w, &o, seven, &error), -1);
	assert_string_equal(error, "more than 5 pages");
	assert_true(elapsed_since(start) < 5);
	/* Within the limit it goes in; the next one would not fit. */
	char *four = make_pdf("four.pdf", 4, rect_content, NULL, NULL);
	assert_int_equal(render_pdf(out->w, &o, four, &error), 0);
	assert_int_equal(fax_writer_pages(out->w), 4);
	char *two = make_pdf("two.pdf", 2, rect_content, NULL, NULL);
	assert_int_equal(render_pdf(out->w, &o, two, &error), -1);
	assert_string_equal(error, "more than 5 pages");
	assert_int_equal(fax_writer_pages(out->w), 4);
	assert_int_equal(out_close(out), 4);
	out_free(&out);
	g_free(many);
	g_free(seven);
	g_free(four);
	g_free(two);
}

static void test_pdf_hostile(void **state)
{
	(void)state;
	struct render_options o = opts();
	o.timeout_s = 2;
	const char *error = NULL;
	struct out *out = out_new("hostile.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);

	/* Encrypted (user password). */
	gint64 start = g_get_monotonic_time();
	assert_int_equal(render_pdf(out->w, &o, "tests/data/render/encrypted.pdf", &error), -1);
	assert_non_null(strstr(error, "encrypted PDF"));

	/* Truncated. */
	char *good = make_pdf("good.pdf", 1, rect_content, NULL, NULL);
	gchar *data;
	gsize len;
	assert_true(g_file_get_contents(good, &data, &len, NULL));
	char *cut = make_file("cut.pdf", data, len / 2);
	assert_int_equal(render_pdf(out->w, &o, cut, &error), -1);
	assert_non_null(strstr(error, "truncated PDF"));
	g_free(data);

	/* Broken: a header, garbage and an end marker. */
	const char broken[] = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage garbage\n%%EOF\n";
	char *bad = make_file("broken.pdf", broken, strlen(broken));
	assert_int_equal(render_pdf(out->w, &o, bad, &error), -1);
	assert_non_null(strstr(error, "PDF"));

	/* Not a document at all. */
	char *junk = make_file("junk.pdf", "hello, world\n", 13);
	assert_int_equal(render_pdf(out->w, &o, junk, &error), -1);
	assert_string_equal(error, "not a PDF or PostScript file");
	assert_int_equal(render_pdf(out->w, &o, "/nonexistent.pdf", &error), -1);

	/* A bomb: content nested 200,000 arrays deep keeps the interpreters busy; the timeout ends it. */
	GString *nest = g_string_new("0 g ");
	for (int i = 0; i < 200000; i++)
		g_string_append_c(nest, '[');
	for (int i = 0; i < 200000; i++)
		g_string_append_c(nest, ']');
	g_string_append(nest, " 100 100 200 200 re f");
	char *bomb = make_pdf("nested.pdf", 1, nest->str, NULL, NULL);
	g_string_free(nest, TRUE);
	gint64 bomb_start = g_get_monotonic_time();
	int r = render_pdf(out->w, &o, bomb, &error);
	double bomb_s = elapsed_since(bomb_start);
	if (r == 0) /* a faster Ghostscript may get through it; then it must be a proper page */
		assert_int_equal(fax_writer_pages(out->w), 1);
	else
		assert_non_null(strstr(error, "timed out"));
	assert_true(bomb_s < o.timeout_s + 2);

	/* PostScript that never ends. */
	const char loop[] = "%!PS\n{ 1 pop } loop\n";
	char *forever = make_file("loop.ps", loop, strlen(loop));
	gint64 loop_start = g_get_monotonic_time();
	assert_int_equal(render_pdf(out->w, &o, forever, &error), -1);
	assert_string_equal(error, "PostScript rendering timed out after 2 s");
	assert_true(elapsed_since(loop_start) < o.timeout_s + 2);

	/* A page 1,000,000 inches square (UserUnit): -dFIXEDMEDIA fits it, no giant bitmap. */
	char *huge = make_pdf("huge.pdf", 1, rect_content, "0 0 14400 14400", "/UserUnit 75000");
	int before = fax_writer_pages(out->w);
	gint64 huge_start = g_get_monotonic_time();
	assert_int_equal(render_pdf(out->w, &o, huge, &error), 0);
	assert_true(elapsed_since(huge_start) < 3);
	assert_int_equal(fax_writer_pages(out->w), before + 1);
	(void)start;
	if (fax_writer_pages(out->w) > 0) {
		int n = out_close(out);
		check_page_tags(out->path, n, 2286, 196);
	}
	out_free(&out);
	g_free(good);
	g_free(cut);
	g_free(bad);
	g_free(junk);
	g_free(bomb);
	g_free(forever);
	g_free(huge);
}

/* ---------------------------------------------------------------------------------------- */
/* Text */

static struct tiffpages_bitmap *render_text_page(const char *text, enum fax_res res, int *pages_r)
{
	struct render_options o = opts();
	struct out *out = out_new("text.tif", res, FAX_PAPER_A4, 0);
	const char *error = NULL;
	assert_int_equal(render_text(out->w, &o, text, strlen(text), &error), 0);
	int n = out_close(out);
	if (pages_r)
		*pages_r = n;
	check_page_tags(out->path, n, out->g.rows, out->g.y_dpi);
	struct tiffpages_bitmap *b = page(out->path, 1);
	out_free(&out);
	return b;
}

static void test_text_basic(void **state)
{
	(void)state;
	int pages = 0;
	struct tiffpages_bitmap *b = render_text_page("Hello, fax world!\n", FAX_RES_FINE, &pages);
	assert_int_equal(pages, 1);
	assert_int_equal(b->height, 2286);
	long ink = black_in(b, 0, 0, b->width, b->height);
	assert_true(ink > 500);
	/* Margins: nothing within ~9 mm of the left, right and bottom edges, or ~11 mm of the top. */
	int mx = 9 * 204 / 25, top = 11 * 196 / 25;
	assert_int_equal(black_in(b, 0, 0, mx, b->height), 0);
	assert_int_equal(black_in(b, b->width - mx, 0, b->width, b->height), 0);
	assert_int_equal(black_in(b, 0, 0, b->width, top), 0);
	assert_int_equal(count_bands(b, 3), 1);
	/* The same text twice gives the same page. */
	struct tiffpages_bitmap *again = render_text_page("Hello, fax world!\n", FAX_RES_FINE, NULL);
	assert_int_equal(tiffpages_compare(b, 0, again, 0), 0);
	/* Another text does not. */
	struct tiffpages_bitmap *other = render_text_page("Hello, fax world?\n", FAX_RES_FINE, NULL);
	assert_true(tiffpages_compare(b, 0, other, 0) > 0);
	tiffpages_bitmap_free(&b);
	tiffpages_bitmap_free(&again);
	tiffpages_bitmap_free(&other);
}

static void test_text_lines_and_wrapping(void **state)
{
	(void)state;
	/* Capitals only: no descender joins two lines. */
	GString *t = g_string_new(NULL);
	for (int i = 0; i < 10; i++)
		g_string_append_printf(t, "LINE NUMBER %d\n", i);
	struct tiffpages_bitmap *b = render_text_page(t->str, FAX_RES_FINE, NULL);
	assert_int_equal(count_bands(b, 3), 10);
	tiffpages_bitmap_free(&b);
	/* Empty lines take a line's height. */
	struct tiffpages_bitmap *gap = render_text_page("AAA\n\n\nBBB\n", FAX_RES_FINE, NULL);
	struct tiffpages_bitmap *nogap = render_text_page("AAA\nBBB\n", FAX_RES_FINE, NULL);
	int y_gap = 0, y_nogap = 0;
	for (int y = gap->height - 1; y >= 0 && !y_gap; y--)
		if (black_in(gap, 0, y, gap->width, y + 1))
			y_gap = y;
	for (int y = nogap->height - 1; y >= 0 && !y_nogap; y--)
		if (black_in(nogap, 0, y, nogap->width, y + 1))
			y_nogap = y;
	int line = y_gap - y_nogap;		     /* two line heights */
	assert_true(line > 2 * 25 && line < 2 * 40); /* 10 pt + leading at 196 dpi: ~32 rows */
	tiffpages_bitmap_free(&gap);
	tiffpages_bitmap_free(&nogap);

	/* 300 characters of words wrap onto 4 lines of at most ~91 columns at 10 pt. */
	g_string_truncate(t, 0);
	while (t->len < 300)
		g_string_append(t, "WORD ");
	b = render_text_page(t->str, FAX_RES_FINE, NULL);
	assert_int_equal(count_bands(b, 3), 4);
	tiffpages_bitmap_free(&b);
	/* One unbreakable 300-character word wraps too (never cut off at the margin). */
	g_string_truncate(t, 0);
	while (t->len < 300)
		g_string_append_c(t, 'X');
	b = render_text_page(t->str, FAX_RES_FINE, NULL);
	assert_int_equal(count_bands(b, 3), 4);
	assert_int_equal(black_in(b, b->width - 70, 0, b->width, b->height), 0);
	tiffpages_bitmap_free(&b);
	g_string_free(t, TRUE);
}

static void test_text_pages(void **state)
{
	(void)state;
	GString *t = g_string_new(NULL);
	for (int i = 0; i < 200; i++)
		g_string_append_printf(t, "LINE %d\n", i);
	struct render_options o = opts();
	struct out *out = out_new("pages.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	const char *error = NULL;
	assert_int_equal(render_text(out->w, &o, t->str, t->len, &error), 0);
	int n = out_close(out);
	struct tiffpages_bitmap *first = page(out->path, 1), *last = page(out->path, n);
	int per_page = count_bands(first, 3);
	assert_true(per_page > 55 && per_page < 80); /* ~275 mm of 4.1 mm lines */
	assert_int_equal(n, (200 + per_page - 1) / per_page);
	assert_int_equal(count_bands(last, 3), 200 - (n - 1) * per_page);
	tiffpages_bitmap_free(&first);
	tiffpages_bitmap_free(&last);
	out_free(&out);

	/* Form feeds: a page each; a trailing one adds no page; two in a row leave a blank page. */
	static const struct {
		const char *text;
		int pages;
	} ff[] = {{"ONE\fTWO\n", 2}, {"ONE\fTWO\f", 2}, {"ONE\f\fTHREE", 3}, {"ONE\n\f\n", 1}, {"", 1}};
	for (size_t i = 0; i < sizeof(ff) / sizeof(ff[0]); i++) {
		out = out_new("ff.tif", FAX_RES_STD, FAX_PAPER_LETTER, 0);
		assert_int_equal(render_text(out->w, &o, ff[i].text, strlen(ff[i].text), &error), 0);
		assert_int_equal(out_close(out), ff[i].pages);
		check_page_tags(out->path, ff[i].pages, 1078, 98);
		out_free(&out);
	}

	/* The page limit: nothing is added when the text does not fit. */
	out = out_new("limit.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	fax_writer_set_max_pages(out->w, 3);
	gint64 start = g_get_monotonic_time();
	g_string_truncate(t, 0);
	for (int i = 0; i < 100000; i++)
		g_string_append(t, "LINE\n");
	assert_int_equal(render_text(out->w, &o, t->str, t->len, &error), -1);
	assert_string_equal(error, "more than 3 pages");
	assert_true(elapsed_since(start) < 5);
	assert_int_equal(fax_writer_pages(out->w), 0);
	assert_int_equal(render_text(out->w, &o, "short", 5, &error), 0);
	assert_int_equal(out_close(out), 1);
	out_free(&out);
	g_string_free(t, TRUE);
}

static void test_text_tabs_utf8_resolution(void **state)
{
	(void)state;
	struct tiffpages_bitmap *tab = render_text_page("A\tB\n12345678\tC\n", FAX_RES_FINE, NULL);
	struct tiffpages_bitmap *spaces =
	    render_text_page("A       B\n12345678        C\n", FAX_RES_FINE, NULL);
	assert_int_equal(tiffpages_compare(tab, 0, spaces, 0), 0);
	tiffpages_bitmap_free(&tab);
	tiffpages_bitmap_free(&spaces);

	/* UTF-8 beyond Latin-1 renders (DejaVu covers Greek and Cyrillic); CRLF is a newline. */
	struct tiffpages_bitmap *u =
	    render_text_page("Grüße € Привет Ελληνικά\r\nSECOND\r\n", FAX_RES_FINE, NULL);
	assert_int_equal(count_bands(u, 3), 2);
	struct tiffpages_bitmap *q =
	    render_text_page("????? ? ?????? ????????\nSECOND\n", FAX_RES_FINE, NULL);
	assert_true(tiffpages_compare(u, 0, q, 0) > 0);
	tiffpages_bitmap_free(&u);
	tiffpages_bitmap_free(&q);
	/* Invalid UTF-8 and control characters do not stop it. */
	const char junk[] = "ok \xff\xfe\xc3 \x01\x02\x1b[31m \x7f end\n";
	struct tiffpages_bitmap *j = render_text_page(junk, FAX_RES_FINE, NULL);
	assert_true(black_in(j, 0, 0, j->width, j->height) > 100);
	tiffpages_bitmap_free(&j);

	/* Standard resolution: the same lines, half the rows. */
	int pages = 0;
	struct tiffpages_bitmap *s =
	    render_text_page("LINE ONE\nLINE TWO\nLINE THREE\n", FAX_RES_STD, &pages);
	assert_int_equal(s->height, 1143);
	assert_int_equal(count_bands(s, 2), 3);
	tiffpages_bitmap_free(&s);
	s = render_text_page("LINE ONE\n", FAX_RES_SUPER, &pages);
	assert_int_equal(s->height, 4573);
	assert_int_equal(s->y_dpi, 391);
	tiffpages_bitmap_free(&s);
}

/* ---------------------------------------------------------------------------------------- */
/* Images */

static void test_image_fit(void **state)
{
	(void)state;
	struct render_options o = opts();
	const char *error = NULL;
	/* 400x300 with a 100 px black square in the middle: centred, fitted to the width (4x),
	   square on paper although the pixels are 204x98. */
	GdkPixbuf *pb = make_pixbuf(400, 300, 100, 0);
	char *png = save_pixbuf(pb, "square.png", "png");
	g_object_unref(pb);
	for (int res = FAX_RES_STD; res <= FAX_RES_FINE; res++) {
		struct out *out = out_new("img.tif", (enum fax_res)res, FAX_PAPER_A4, 0);
		assert_int_equal(render_image(out->w, &o, png, &error), 0);
		assert_int_equal(out_close(out), 1);
		check_page_tags(out->path, 1, out->g.rows, out->g.y_dpi);
		struct tiffpages_bitmap *b = page(out->path, 1);
		int cx = 864, cy = out->g.rows / 2;
		assert_true(px(b, cx, cy));
		/* The square's extent across and down, in millimetres. */
		int x0 = cx, x1 = cx, y0 = cy, y1 = cy;
		while (px(b, x0 - 1, cy))
			x0--;
		while (px(b, x1 + 1, cy))
			x1++;
		while (px(b, cx, y0 - 1))
			y0--;
		while (px(b, cx, y1 + 1))
			y1++;
		double w_mm = (x1 - x0 + 1) * 25.4 / 204, h_mm = (y1 - y0 + 1) * 25.4 / out->g.y_dpi;
		assert_true(fabs(w_mm - h_mm) < 1.5);
		assert_true(w_mm > 45 && w_mm < 55); /* 100 of 400 px over ~205 mm */
		/* The white rest of the image stays white: only the square is black. */
		assert_true(black_in(b, 0, 0, b->width, b->height) <= (long)(x1 - x0 + 3) * (y1 - y0 + 3));
		tiffpages_bitmap_free(&b);
		out_free(&out);
	}
	g_free(png);
}

static void test_image_dither(void **state)
{
	(void)state;
	GdkPixbuf *pb = make_pixbuf(600, 600, 0, 128);
	char *png = save_pixbuf(pb, "grey.png", "png");
	g_object_unref(pb);
	struct tiffpages_bitmap *pages[2];
	for (int halftone = 0; halftone < 2; halftone++) {
		struct render_options o = opts();
		o.halftone = halftone;
		struct out *out = out_new("dither.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
		const char *error = NULL;
		assert_int_equal(render_image(out->w, &o, png, &error), 0);
		assert_int_equal(out_close(out), 1);
		pages[halftone] = page(out->path, 1);
		out_free(&out);
	}
	/* The middle of the picture: about half black either way, in different patterns. */
	int x0 = 664, x1 = 1064, y0 = 943, y1 = 1343;
	long area = (long)(x1 - x0) * (y1 - y0), differ = 0;
	for (int i = 0; i < 2; i++) {
		double f = (double)black_in(pages[i], x0, y0, x1, y1) / (double)area;
		assert_true(f > 0.45 && f < 0.55);
	}
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			differ += px(pages[0], x, y) != px(pages[1], x, y);
	assert_true(differ > area / 5);
	/* Clustered dots compress far better than error diffusion. */
	tiffpages_bitmap_free(&pages[0]);
	tiffpages_bitmap_free(&pages[1]);
	g_free(png);
}

static void test_image_formats(void **state)
{
	(void)state;
	struct render_options o = opts();
	GdkPixbuf *pb = make_pixbuf(120, 80, 40, 0);
	const char *types[] = {"png", "jpeg", "bmp", "tiff"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char name[32];
		g_snprintf(name, sizeof(name), "img.%s", types[i]);
		char *path = save_pixbuf(pb, name, types[i]);
		struct out *out = out_new("fmt.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
		const char *error = NULL;
		if (render_image(out->w, &o, path, &error) < 0)
			fail_msg("%s: %s", types[i], error);
		assert_int_equal(out_close(out), 1);
		struct tiffpages_bitmap *b = page(out->path, 1);
		assert_true(px(b, 864, 1143));
		tiffpages_bitmap_free(&b);
		out_free(&out);
		g_free(path);
	}
	g_object_unref(pb);
	/* A 1x1 GIF. */
	static const uint8_t gif[] = {'G', 'I', 'F', '8', '9',	'a',  1,    0,	  1, 0, 0x80, 0,
				      0,   0,	0,   0,	  0xff, 0xff, 0xff, 0x2c, 0, 0, 0,    0,
				      1,   0,	1,   0,	  0,	2,    2,    0x44, 1, 0, 0x3b};
	char *g = make_file("one.gif", gif, sizeof(gif));
	struct out *out = out_new("gif.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	const char *error = NULL;
	if (render_image(out->w, &o, g, &error) < 0)
		fail_msg("gif: %s", error);
	assert_int_equal(fax_writer_pages(out->w), 1);
	out_free(&out);
	g_free(g);
}

static void test_image_hostile(void **state)
{
	(void)state;
	struct render_options o = opts();
	const char *error = NULL;
	struct out *out = out_new("bad-img.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);

	/* A decompression bomb: 57 bytes declaring 50000 x 50000 RGB (7.5 GB of pixels). */
	GByteArray *a = g_byte_array_new();
	g_byte_array_append(a, (const uint8_t *)"\x89PNG\r\n\x1a\n", 8);
	uint8_t ihdr[13] = {0, 0, 0xC3, 0x50, 0, 0, 0xC3, 0x50, 8, 2, 0, 0, 0};
	png_chunk(a, "IHDR", ihdr, 13);
	uint8_t raw[64] = {0}, z[128];
	uLongf zlen = sizeof(z);
	compress2(z, &zlen, raw, sizeof(raw), 9);
	png_chunk(a, "IDAT", z, (uint32_t)zlen);
	png_chunk(a, "IEND", NULL, 0);
	char *bomb = make_file("bomb.png", a->data, a->len);
	gint64 start = g_get_monotonic_time();
	assert_int_equal(render_image(out->w, &o, bomb, &error), -1);
	assert_string_equal(error, "image too large: 50000x50000 pixels (limit 100 Mpixel)");
	assert_true(elapsed_since(start) < 1);
	/* The cap is an option. */
	struct render_options small = o;
	small.image_max_pixels = 1000;
	GdkPixbuf *pb = make_pixbuf(100, 100, 10, 0);
	char *hundred = save_pixbuf(pb, "hundred.png", "png");
	g_object_unref(pb);
	assert_int_equal(render_image(out->w, &small, hundred, &error), -1);
	assert_non_null(strstr(error, "image too large: 100x100"));

	/* Truncated and corrupt. */
	gchar *data;
	gsize len;
	assert_true(g_file_get_contents(hundred, &data, &len, NULL));
	char *cut = make_file("cut.png", data, len / 2);
	assert_int_equal(render_image(out->w, &o, cut, &error), -1);
	assert_string_equal(error, "truncated png image");
	data[40] ^= 0x55;
	char *flipped = make_file("flipped.png", data, len);
	assert_int_equal(render_image(out->w, &o, flipped, &error), -1);
	assert_non_null(strstr(error, "corrupt png image"));
	g_free(data);
	/* Formats we do not hand to gdk-pixbuf at all. */
	const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>";
	char *s = make_file("x.svg", svg, strlen(svg));
	assert_int_equal(render_image(out->w, &o, s, &error), -1);
	assert_string_equal(error, "unsupported image format");
	assert_int_equal(render_image(out->w, &o, "/nonexistent.png", &error), -1);
	assert_int_equal(fax_writer_pages(out->w), 0);
	out_free(&out);
	g_byte_array_free(a, TRUE);
	g_free(bomb);
	g_free(hundred);
	g_free(cut);
	g_free(flipped);
	g_free(s);
}

/* ---------------------------------------------------------------------------------------- */
/* Fax TIFF */

static void test_fax_tiff_passthrough(void **state)
{
	(void)state;
	struct render_options o = opts();
	char *src = tmp_path("pass-src.tif");
	const char *error = NULL;
	assert_int_equal(tiffpages_write_test(src, 3, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 5, &error), 0);
	struct out *out = out_new("pass.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	assert_int_equal(render_fax_tiff(out->w, &o, src, &error), 0);
	assert_int_equal(out_close(out), 3);
	for (int p = 1; p <= 3; p++) {
		struct tiffpages_bitmap *a = page(src, p), *b = page(out->path, p);
		assert_int_equal(tiffpages_compare(a, 0, b, 0), 0);
		tiffpages_bitmap_free(&a);
		tiffpages_bitmap_free(&b);
	}
	out_free(&out);
	g_free(src);
}

static void test_fax_tiff_rescale(void **state)
{
	(void)state;
	struct render_options o = opts();
	const char *error = NULL;
	/* An A4 scan at 300 dpi, 2480 x 3508, with a black box 50..100 mm across, 50..80 mm down. */
	struct tiffpages_bitmap *scan = tiffvariant_page(2480, 3508, 300, 300);
	tiffvariant_fill(scan, (int)lround(50 / 25.4 * 300), (int)lround(50 / 25.4 * 300),
			 (int)lround(100 / 25.4 * 300), (int)lround(80 / 25.4 * 300));
	struct tiffpages_bitmap *pages[] = {scan};
	struct tiffvariant g4 = {.compression = COMPRESSION_CCITTFAX4, .photometric = PHOTOMETRIC_MINISWHITE};
	char *src = tmp_path("scan.tif");
	assert_int_equal(tiffvariant_write(src, pages, 1, &g4), 0);
	tiffpages_bitmap_free(&scan);
	struct out *out = out_new("scan-out.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	assert_int_equal(render_fax_tiff(out->w, &o, src, &error), 0);
	assert_int_equal(out_close(out), 1);
	check_page_tags(out->path, 1, 0, 196);
	struct tiffpages_bitmap *b = page(out->path, 1);
	assert_true(b->height <= 2286 && b->height >= 2280);
	/* Same physical size: 210 mm is 1687 px at 204 dpi, centred in 1728. */
	int ox = (1728 - 1687) / 2;
	int r[4] = {ox + (int)lround(50 / 25.4 * 204), (int)lround(50 / 25.4 * 196),
		    ox + (int)lround(100 / 25.4 * 204), (int)lround(80 / 25.4 * 196)};
	check_rect(b, r);
	tiffpages_bitmap_free(&b);
	out_free(&out);

	/* Fine to standard: half the rows, the same drawing. */
	char *fine = tmp_path("fine.tif");
	assert_int_equal(tiffpages_write_test(fine, 2, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 11, &error),
			 0);
	out = out_new("std.tif", FAX_RES_STD, FAX_PAPER_A4, 0);
	assert_int_equal(render_fax_tiff(out->w, &o, fine, &error), 0);
	assert_int_equal(out_close(out), 2);
	check_page_tags(out->path, 2, 1143, 98);
	struct tiffpages_bitmap *f = page(fine, 1), *s = page(out->path, 1);
	double bf = (double)black_in(f, 0, 0, f->width, f->height) / 2,
	       bs = (double)black_in(s, 0, 0, s->width, s->height);
	assert_true(bs > bf * 0.8 && bs < bf * 1.3);
	/* Every standard row is the OR of the two fine rows it covers. */
	int mismatched = 0;
	for (int y = 0; y < 1143; y++)
		for (int x = 0; x < 1728; x += 7)
			mismatched += px(s, x, y) != (px(f, x, 2 * y) || px(f, x, 2 * y + 1));
	assert_true(mismatched < 1728 / 7 * 1143 / 100);
	tiffpages_bitmap_free(&f);
	tiffpages_bitmap_free(&s);
	out_free(&out);
	g_free(src);
	g_free(fine);
}

static void test_fax_tiff_hostile(void **state)
{
	(void)state;
	struct render_options o = opts();
	const char *error = NULL;
	struct out *out = out_new("bad-tiff.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	char *src = tmp_path("corrupt-src.tif");
	assert_int_equal(tiffpages_write_test(src, 2, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 5, &error), 0);
	gchar *data;
	gsize len;
	assert_true(g_file_get_contents(src, &data, &len, NULL));
	/* The first directory offset pointing past the end. */
	char *c1 = make_file("c1.tif", data, len);
	FILE *f = fopen(c1, "r+b");
	fseek(f, 4, SEEK_SET);
	fputc(0xF0, f), fputc(0xFF, f), fputc(0xFF, f), fputc(0x7F, f);
	fclose(f);
	assert_int_equal(render_fax_tiff(out->w, &o, c1, &error), -1);
	assert_non_null(strstr(error, "corrupt TIFF"));
	/* Just a header. */
	char *c2 = make_file("c2.tif", data, 8);
	assert_int_equal(render_fax_tiff(out->w, &o, c2, &error), -1);
	assert_non_null(strstr(error, "corrupt TIFF"));
	/* Random bytes over the image data. */
	GRand *rnd = g_rand_new_with_seed(42);
	for (gsize i = len / 4; i < len * 3 / 4; i++)
		data[i] = (char)g_rand_int_range(rnd, 0, 256);
	g_rand_free(rnd);
	char *c3 = make_file("c3.tif", data, len);
	int r = render_fax_tiff(out->w, &o, c3, &error);
	assert_true(r == 0 || strstr(error, "TIFF") != NULL || strstr(error, "page") != NULL);
	g_free(data);
	/* A page declaring 1728 x 1,000,000 rows: refused before anything is allocated. */
	struct tiffpages_bitmap *tall = tiffvariant_page(1728, 8, 204, 196);
	struct tiffpages_bitmap *pages[] = {tall};
	struct tiffvariant g4 = {.compression = COMPRESSION_CCITTFAX4, .photometric = PHOTOMETRIC_MINISWHITE};
	char *c4 = tmp_path("tall.tif");
	assert_int_equal(tiffvariant_write(c4, pages, 1, &g4), 0);
	tiffpages_bitmap_free(&tall);
	TIFF *t = TIFFOpen(c4, "r+");
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)1000000);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)1000000);
	TIFFRewriteDirectory(t);
	TIFFClose(t);
	assert_int_equal(render_fax_tiff(out->w, &o, c4, &error), -1);
	assert_non_null(strstr(error, "not a document page"));
	/* Max pages, all or nothing. */
	fax_writer_set_max_pages(out->w, 1);
	assert_int_equal(render_fax_tiff(out->w, &o, src, &error), -1);
	assert_string_equal(error, "more than 1 pages");
	assert_true(fax_writer_pages(out->w) <= 1);
	out_free(&out);
	g_free(src);
	g_free(c1);
	g_free(c2);
	g_free(c3);
	g_free(c4);
}

/* ---------------------------------------------------------------------------------------- */
/* Fax to PDF and preview */

static int run(const char *const *argv, char **out_r)
{
	int status = -1;
	GError *err = NULL;
	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
			  NULL, out_r, NULL, &status, &err)) {
		g_clear_error(&err);
		return -1;
	}
	return g_spawn_check_wait_status(status, NULL) ? 0 : -1;
}

/* pdfimages -tiff of the PDF, compared image by image with the rows of the source pages. */
static void check_pdf_bits(const char *pdf, struct tiffpages_bitmap *const *pages, int n, int rows_per_strip)
{
	char *info = NULL;
	const char *a1[] = {"pdfinfo", pdf, NULL};
	assert_int_equal(run(a1, &info), 0);
	char want[32];
	g_snprintf(want, sizeof(want), "Pages:           %d\n", n);
	assert_non_null(strstr(info, want));
	/* Page size from the resolution: 1728/204 x rows/y_dpi inches. */
	const char *ps = strstr(info, "Page size:");
	assert_non_null(ps);
	double w = 0, h = 0;
	assert_int_equal(sscanf(ps, "Page size: %lf x %lf", &w, &h), 2);
	assert_true(fabs(w - 1728 * 72.0 / 204) < 0.01);
	assert_true(fabs(h - pages[0]->height * 72.0 / pages[0]->y_dpi) < 0.01);
	g_free(info);
	char *prefix = tmp_path("img");
	const char *a2[] = {"pdfimages", "-tiff", pdf, prefix, NULL};
	assert_int_equal(run(a2, NULL), 0);
	int img = 0;
	for (int p = 0; p < n; p++) {
		int strip_rows = rows_per_strip ? rows_per_strip : pages[p]->height;
		for (int row0 = 0; row0 < pages[p]->height; row0 += strip_rows, img++) {
			char *name = g_strdup_printf("%s-%03d.tif", prefix, img);
			struct tiffpages_bitmap *b = page(name, 1);
			int rows = MIN(strip_rows, pages[p]->height - row0);
			assert_int_equal(b->width, pages[p]->width);
			assert_int_equal(b->height, rows);
			for (int y = 0; y < rows; y++)
				assert_memory_equal(b->bits + (size_t)y * b->stride,
						    pages[p]->bits + (size_t)(row0 + y) * pages[p]->stride,
						    b->stride);
			tiffpages_bitmap_free(&b);
			g_unlink(name);
			g_free(name);
		}
	}
	char *extra = g_strdup_printf("%s-%03d.tif", prefix, img);
	assert_false(g_file_test(extra, G_FILE_TEST_EXISTS));
	g_free(extra);
	g_free(prefix);
}

static void test_fax_to_pdf(void **state)
{
	(void)state;
	const char *error = NULL;
	/* Two distinct pages: a test page and a text page. */
	char *ref = tmp_path("ref.tif");
	struct render_options o = opts();
	struct out *out = out_new("pdfsrc.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	char *tp = tmp_path("testpage.tif");
	assert_int_equal(tiffpages_write_test(tp, 1, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 77, &error), 0);
	assert_int_equal(fax_writer_add_tiff(out->w, tp, &error), 0);
	assert_int_equal(render_text(out->w, &o, "PAGE TWO\nof the fax\n", 20, &error), 0);
	assert_int_equal(out_close(out), 2);
	struct tiffpages_bitmap *pages[2] = {page(out->path, 1), page(out->path, 2)};
	static const struct {
		struct tiffvariant v;
		const char *what;
	} variants[] = {
	    {{.compression = COMPRESSION_CCITTFAX4,
	      .fill = FILLORDER_MSB2LSB,
	      .photometric = PHOTOMETRIC_MINISWHITE},
	     "G4"},
	    {{.compression = COMPRESSION_CCITTFAX4,
	      .fill = FILLORDER_LSB2MSB,
	      .photometric = PHOTOMETRIC_MINISWHITE},
	     "G4 fill 2"},
	    {{.compression = COMPRESSION_CCITTFAX3,
	      .g3opts = GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS,
	      .fill = FILLORDER_LSB2MSB,
	      .photometric = PHOTOMETRIC_MINISWHITE},
	     "G3 2-D, EOL fill bits, fill 2 (spandsp 0.0.6)"},
	    {{.compression = COMPRESSION_CCITTFAX3,
	      .fill = FILLORDER_MSB2LSB,
	      .photometric = PHOTOMETRIC_MINISWHITE},
	     "G3 1-D"},
	    {{.compression = COMPRESSION_CCITTRLE, .photometric = PHOTOMETRIC_MINISWHITE},
	     "modified Huffman RLE"},
	    {{.compression = COMPRESSION_CCITTFAX4, .photometric = PHOTOMETRIC_MINISBLACK},
	     "G4 min-is-black"},
	    {{.compression = COMPRESSION_CCITTFAX4,
	      .photometric = PHOTOMETRIC_MINISWHITE,
	      .rows_per_strip = 256},
	     "G4, 256-row strips"},
	    {{.compression = COMPRESSION_NONE, .photometric = PHOTOMETRIC_MINISWHITE},
	     "uncompressed (Flate)"},
	    {{.compression = COMPRESSION_LZW, .photometric = PHOTOMETRIC_MINISBLACK},
	     "LZW min-is-black (Flate)"},
	};
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		assert_int_equal(tiffvariant_write(ref, pages, 2, &variants[i].v), 0);
		char *pdf = tmp_path("fax.pdf");
		if (fax_to_pdf(ref, pdf, &error) < 0)
			fail_msg("%s: %s", variants[i].what, error);
		bool flate = variants[i].v.compression == COMPRESSION_NONE ||
			     variants[i].v.compression == COMPRESSION_LZW;
		check_pdf_bits(pdf, pages, 2, flate ? 0 : (int)variants[i].v.rows_per_strip);
		g_unlink(pdf);
		g_free(pdf);
	}
	/* Standard resolution keeps the paper size (rows are twice as tall). */
	assert_int_equal(
	    tiffpages_write_test(ref, 1, TIFFPAGES_RES_STANDARD, TIFFPAGES_PAPER_LETTER, 1, &error), 0);
	char *pdf = tmp_path("std.pdf");
	assert_int_equal(fax_to_pdf(ref, pdf, &error), 0);
	struct tiffpages_bitmap *std = page(ref, 1);
	check_pdf_bits(pdf, &std, 1, 0);
	tiffpages_bitmap_free(&std);
	/* Refusals. */
	assert_int_equal(fax_to_pdf("/nonexistent.tif", pdf, &error), -1);
	assert_non_null(strstr(error, "corrupt TIFF"));
	char *junk = make_file("junk.tif", "not a tiff at all", 17);
	assert_int_equal(fax_to_pdf(junk, pdf, &error), -1);
	GdkPixbuf *pb = make_pixbuf(20, 20, 0, 128);
	char *colour = save_pixbuf(pb, "colour.tif", "tiff");
	g_object_unref(pb);
	assert_int_equal(fax_to_pdf(colour, pdf, &error), -1);
	assert_non_null(strstr(error, "not black and white"));
	assert_false(g_file_test(pdf, G_FILE_TEST_EXISTS)); /* no half-written PDF is left */
	assert_int_equal(fax_to_pdf(ref, "/nonexistent/dir/x.pdf", &error), -1);
	tiffpages_bitmap_free(&pages[0]);
	tiffpages_bitmap_free(&pages[1]);
	out_free(&out);
	g_free(ref);
	g_free(tp);
	g_free(pdf);
	g_free(junk);
	g_free(colour);
}

static void test_fax_preview(void **state)
{
	(void)state;
	const char *error = NULL;
	char *src = tmp_path("preview.tif"), *png = tmp_path("preview.png");
	assert_int_equal(tiffpages_write_test(src, 2, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 3, &error), 0);
	assert_int_equal(fax_preview_png(src, 2, png, &error), 0);
	GdkPixbuf *pb = gdk_pixbuf_new_from_file(png, NULL);
	assert_non_null(pb);
	/* 100 dpi, square pixels: 1728/204 x 2286/196 inches. */
	assert_int_equal(gdk_pixbuf_get_width(pb), 847);
	assert_int_equal(gdk_pixbuf_get_height(pb), 1166);
	int rs = gdk_pixbuf_get_rowstride(pb), nch = gdk_pixbuf_get_n_channels(pb);
	const guchar *p = gdk_pixbuf_read_pixels(pb);
	long white = 0, mid = 0, dark = 0;
	for (int y = 0; y < 1166; y++)
		for (int x = 0; x < 847; x++) {
			const guchar *c = p + y * rs + x * nch;
			assert_int_equal(c[0], c[1]); /* grey */
			white += c[0] == 255;
			mid += c[0] > 30 && c[0] < 225;
			dark += c[0] < 128;
		}
	assert_true(white > 847L * 1166 / 2);
	assert_true(mid > 100);	  /* anti-aliased by the area average */
	assert_true(dark > 1000); /* the page's drawing */
	g_object_unref(pb);
	/* A standard page is not squashed. */
	assert_int_equal(tiffpages_write_test(src, 1, TIFFPAGES_RES_STANDARD, TIFFPAGES_PAPER_A4, 3, &error),
			 0);
	assert_int_equal(fax_preview_png(src, 1, png, &error), 0);
	pb = gdk_pixbuf_new_from_file(png, NULL);
	assert_int_equal(gdk_pixbuf_get_height(pb), 1166);
	g_object_unref(pb);
	assert_int_equal(fax_preview_png(src, 2, png, &error), -1);
	assert_string_equal(error, "no page 2");
	assert_int_equal(fax_preview_png("/nonexistent.tif", 1, png, &error), -1);
	g_free(src);
	g_free(png);
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch and office documents */

static void test_render_file(void **state)
{
	(void)state;
	struct render_options o = opts();
	const char *error = NULL;
	struct out *out = out_new("file.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	char *pdf = make_pdf("doc.pdf", 1, rect_content, NULL, NULL);
	char *txt = make_file("body",
			      "Gr\xfc\xdf"
			      "e\n",
			      6); /* ISO-8859-1 */
	GdkPixbuf *pb = make_pixbuf(50, 50, 20, 0);
	char *png = save_pixbuf(pb, "pic", "png");
	g_object_unref(pb);
	char *fax = tmp_path("fax-attachment");
	assert_int_equal(tiffpages_write_test(fax, 1, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 1, &error), 0);

	assert_int_equal(render_file(out->w, &o, pdf, "application/pdf", NULL, &error), 0);
	assert_int_equal(render_file(out->w, &o, pdf, "Application/PDF; name=\"doc.pdf\"", NULL, &error), 0);
	assert_int_equal(render_file(out->w, &o, pdf, "application/octet-stream", "scan.PDF", &error), 0);
	assert_int_equal(render_file(out->w, &o, pdf, NULL, NULL, &error), 0); /* by its first bytes */
	assert_int_equal(render_file(out->w, &o, txt, "text/plain; charset=iso-8859-1", NULL, &error), 0);
	assert_int_equal(render_file(out->w, &o, png, "image/png", NULL, &error), 0);
	assert_int_equal(render_file(out->w, &o, png, "application/octet-stream", "photo", &error), 0);
	assert_int_equal(render_file(out->w, &o, fax, "image/tiff", NULL, &error), 0);
	assert_int_equal(fax_writer_pages(out->w), 8);

	assert_int_equal(render_file(out->w, &o, pdf, "application/x-foo", "x.foo", &error), -1);
	assert_string_equal(error, "unsupported type: application/x-foo");
	assert_int_equal(render_file(out->w, &o, txt, "application/octet-stream", "data.bin", &error), -1);
	assert_string_equal(error, "unsupported type: application/octet-stream");
	assert_int_equal(render_file(out->w, &o, pdf, "video/mp4", "doc.pdf", &error), -1);
	assert_string_equal(error, "unsupported type: video/mp4");
	assert_int_equal(out_close(out), 8);
	check_page_tags(out->path, 8, 0, 196);
	out_free(&out);
	g_free(pdf);
	g_free(txt);
	g_free(png);
	g_free(fax);
}

static void test_office_missing(void **state)
{
	(void)state;
	/* With LibreOffice off the PATH the answer is the documented one. */
	struct render_options o = opts();
	const char *error = NULL;
	char *old = g_strdup(g_getenv("PATH"));
	g_setenv("PATH", "/nonexistent", TRUE);
	struct out *out = out_new("nolo.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	char *rtf = make_file("x.rtf", "{\\rtf1 hi}", 10);
	int r = render_file(out->w, &o, rtf, "application/rtf", NULL, &error);
	bool available = render_office_available();
	g_setenv("PATH", old, TRUE);
	assert_int_equal(r, -1);
	assert_false(available);
	assert_string_equal(error, "unsupported type: LibreOffice is not installed");
	out_free(&out);
	g_free(old);
	g_free(rtf);
}

static void test_office(void **state)
{
	(void)state;
	if (!render_office_available()) {
		fprintf(stderr, "LibreOffice is not installed: office documents not tested\n");
		skip();
	}
	struct render_options o = opts();
	o.timeout_s = 60;
	const char *error = NULL;
	const char rtf[] =
	    "{\\rtf1\\ansi{\\fonttbl\\f0\\fswiss Helvetica;}\\f0\\fs48 Hello office world\\par}";
	const char html[] = "<html><body><h1>Hello HTML</h1><p>A paragraph with <b>bold</b> text.</p>"
			    "<img src=\"http://192.0.2.1/tracker.png\"></body></html>";
	char *r = make_file("letter.rtf", rtf, strlen(rtf));
	char *h = make_file("mail-body", html, strlen(html));
	struct out *out = out_new("office.tif", FAX_RES_FINE, FAX_PAPER_A4, 0);
	gint64 start = g_get_monotonic_time();
	if (render_file(out->w, &o, r, "application/rtf", "letter.rtf", &error) < 0)
		fail_msg("rtf: %s", error);
	if (render_file(out->w, &o, h, "text/html; charset=utf-8", NULL, &error) < 0)
		fail_msg("html: %s", error);
	assert_true(elapsed_since(start) < 60);
	int n = out_close(out);
	assert_int_equal(n, 2);
	check_page_tags(out->path, 2, 2286, 196);
	for (int p = 1; p <= 2; p++) {
		struct tiffpages_bitmap *b = page(out->path, p);
		assert_true(black_in(b, 0, 0, b->width, b->height / 4) > 1000); /* text near the top */
		tiffpages_bitmap_free(&b);
	}
	out_free(&out);
	g_free(r);
	g_free(h);
}

/* fontconfig and pango keep their configuration and caches until the process ends; under
   LeakSanitizer that is not our leak (tests/lsan.supp says the same for make check). Unused
   without ASan. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\nleak:FcConfig\nleak:libpango\n";
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pdf_geometry),
	    cmocka_unit_test(test_pdf_content_position),
	    cmocka_unit_test(test_pdf_grey_text),
	    cmocka_unit_test(test_pdf_max_pages),
	    cmocka_unit_test(test_pdf_hostile),
	    cmocka_unit_test(test_text_basic),
	    cmocka_unit_test(test_text_lines_and_wrapping),
	    cmocka_unit_test(test_text_pages),
	    cmocka_unit_test(test_text_tabs_utf8_resolution),
	    cmocka_unit_test(test_image_fit),
	    cmocka_unit_test(test_image_dither),
	    cmocka_unit_test(test_image_formats),
	    cmocka_unit_test(test_image_hostile),
	    cmocka_unit_test(test_fax_tiff_passthrough),
	    cmocka_unit_test(test_fax_tiff_rescale),
	    cmocka_unit_test(test_fax_tiff_hostile),
	    cmocka_unit_test(test_fax_to_pdf),
	    cmocka_unit_test(test_fax_preview),
	    cmocka_unit_test(test_render_file),
	    cmocka_unit_test(test_office_missing),
	    cmocka_unit_test(test_office),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
