/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fax page writer (render/faxwriter.c): page geometry per paper and resolution (ITU-T T.4
 * lengths as spandsp uses them), TIFF Class F tags (TIFF 6.0 §11 / RFC 3949: 1728 wide, G4,
 * X/YResolution in inches, PageNumber n/total), page limits, blank pages, and appending other
 * TIFF-F files raw or re-encoded, all or nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <tiffio.h>

#include "faxd/tiffpages.h"
#include "render/faxwriter.h"
#include "tests/unit/render/tiffvariant.h"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = g_dir_make_tmp("test_faxwriter-XXXXXX", NULL);
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	for (const char *e; d && (e = g_dir_read_name(d)) != NULL;) {
		char *p = g_build_filename(tmpdir, e, NULL);
		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return 0;
}

static char *tmp_path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static void set_px(struct fax_bitmap *b, int x, int y)
{
	b->bits[(size_t)y * b->stride + (size_t)(x >> 3)] |= (uint8_t)(0x80 >> (x & 7));
}

static void fill(struct fax_bitmap *b, int x0, int y0, int x1, int y1)
{
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			set_px(b, x, y);
}

/* ---------------------------------------------------------------------------------------- */

static void test_geometry_table(void **state)
{
	(void)state;
	static const struct {
		enum fax_res res;
		enum fax_paper paper;
		int rows, y_dpi;
	} cases[] = {
	    {FAX_RES_STD, FAX_PAPER_A4, 1143, 98},	 {FAX_RES_FINE, FAX_PAPER_A4, 2286, 196},
	    {FAX_RES_SUPER, FAX_PAPER_A4, 4573, 391},	 {FAX_RES_STD, FAX_PAPER_LETTER, 1078, 98},
	    {FAX_RES_FINE, FAX_PAPER_LETTER, 2156, 196}, {FAX_RES_SUPER, FAX_PAPER_LETTER, 4301, 391},
	    {FAX_RES_STD, FAX_PAPER_LEGAL, 1369, 98},	 {FAX_RES_FINE, FAX_PAPER_LEGAL, 2738, 196},
	    {FAX_RES_SUPER, FAX_PAPER_LEGAL, 5476, 391},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fax_geometry g;
		fax_geometry_get(cases[i].res, cases[i].paper, 0, &g);
		assert_int_equal(g.width, 1728);
		assert_int_equal(g.x_dpi, 204);
		assert_int_equal(g.y_dpi, cases[i].y_dpi);
		assert_int_equal(g.rows, cases[i].rows);
		assert_int_equal(g.res, cases[i].res);
		assert_int_equal(g.paper, cases[i].paper);
		/* The header line's rows come off so that the sent page keeps its paper length. */
		fax_geometry_get(cases[i].res, cases[i].paper, 32, &g);
		assert_int_equal(g.rows, cases[i].rows - 32);
	}
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, TIFFPAGES_HEADER_ROWS_FINE, &g);
	assert_int_equal(g.rows, 2254);
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, -5, &g);
	assert_int_equal(g.rows, 2286);
}

static void test_parse(void **state)
{
	(void)state;
	enum fax_res r = FAX_RES_FINE;
	enum fax_paper p = FAX_PAPER_A4;
	assert_int_equal(fax_res_parse("standard", &r), 0);
	assert_int_equal(r, FAX_RES_STD);
	assert_int_equal(fax_res_parse("FINE", &r), 0);
	assert_int_equal(r, FAX_RES_FINE);
	assert_int_equal(fax_res_parse("superfine", &r), 0);
	assert_int_equal(r, FAX_RES_SUPER);
	assert_int_equal(fax_res_parse("ultra", &r), -1);
	assert_int_equal(fax_res_parse("", &r), -1);
	assert_int_equal(fax_res_parse(NULL, &r), -1);
	assert_int_equal(fax_paper_parse("a4", &p), 0);
	assert_int_equal(p, FAX_PAPER_A4);
	assert_int_equal(fax_paper_parse("Letter", &p), 0);
	assert_int_equal(p, FAX_PAPER_LETTER);
	assert_int_equal(fax_paper_parse("legal", &p), 0);
	assert_int_equal(p, FAX_PAPER_LEGAL);
	assert_int_equal(fax_paper_parse("a3", &p), -1);
	assert_int_equal(fax_paper_parse(NULL, &p), -1);
}

static void test_bitmap(void **state)
{
	(void)state;
	struct fax_bitmap *b = fax_bitmap_new(1728, 1000);
	assert_non_null(b);
	assert_int_equal(b->stride, 216);
	assert_true(fax_bitmap_blank(b, 0.0));
	/* 1728000 pixels: 0.0005 allows 864 black ones (specks), not 865. */
	fill(b, 0, 0, 864, 1);
	assert_true(fax_bitmap_blank(b, 0.0005));
	set_px(b, 1727, 999);
	assert_false(fax_bitmap_blank(b, 0.0005));
	fax_bitmap_free(&b);
	assert_null(b);
	fax_bitmap_free(&b); /* NULL is fine */
	/* An odd width: padding bits do not count. */
	b = fax_bitmap_new(13, 2);
	assert_int_equal(b->stride, 2);
	b->bits[1] = 0x07; /* padding only */
	assert_true(fax_bitmap_blank(b, 0.0));
	fax_bitmap_free(&b);
	assert_null(fax_bitmap_new(0, 10));
	assert_null(fax_bitmap_new(1728, -1));
}

/* Read back every directory and check the TIFF-F tags. */
static void check_tags(const char *path, int pages, int rows, int y_dpi)
{
	TIFF *t = TIFFOpen(path, "r");
	assert_non_null(t);
	assert_int_equal(TIFFNumberOfDirectories(t), pages);
	for (int p = 0; p < pages; p++) {
		assert_true(TIFFSetDirectory(t, (tdir_t)p));
		uint32_t w = 0, h = 0, rps = 0;
		uint16_t comp = 0, photo = 0, unit = 0, fill_order = 0, bps = 0, n = 99, total = 99;
		float xr = 0, yr = 0;
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
		TIFFGetField(t, TIFFTAG_ROWSPERSTRIP, &rps);
		TIFFGetField(t, TIFFTAG_COMPRESSION, &comp);
		TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
		TIFFGetField(t, TIFFTAG_RESOLUTIONUNIT, &unit);
		TIFFGetField(t, TIFFTAG_FILLORDER, &fill_order);
		TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bps);
		TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr);
		TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr);
		assert_true(TIFFGetField(t, TIFFTAG_PAGENUMBER, &n, &total));
		assert_int_equal(w, 1728);
		assert_int_equal(h, rows);
		assert_int_equal(rps, rows);
		assert_int_equal(TIFFNumberOfStrips(t), 1);
		assert_int_equal(comp, COMPRESSION_CCITTFAX4);
		assert_int_equal(photo, PHOTOMETRIC_MINISWHITE);
		assert_int_equal(fill_order, FILLORDER_MSB2LSB);
		assert_int_equal(bps, 1);
		assert_int_equal(unit, RESUNIT_INCH);
		assert_true(xr > 203.9f && xr < 204.1f);
		assert_true(yr > y_dpi - 0.1f && yr < y_dpi + 0.1f);
		assert_int_equal(n, p);
		assert_int_equal(total, pages);
	}
	TIFFClose(t);
}

static void test_writer_pages_and_tags(void **state)
{
	(void)state;
	char *path = tmp_path("tags.tif");
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
	const char *error = NULL;
	struct fax_writer *w = fax_writer_create(path, &g, &error);
	assert_non_null(w);
	assert_int_equal(fax_writer_geometry(w)->rows, 2286);
	struct fax_bitmap *pages[3];
	for (int i = 0; i < 3; i++) {
		pages[i] = fax_bitmap_new(1728, g.rows);
		fill(pages[i], 100 + i * 300, 200, 300 + i * 300, 400 + i * 100);
		assert_int_equal(fax_writer_add_bitmap(w, pages[i], &error), 0);
		assert_int_equal(fax_writer_pages(w), i + 1);
	}
	assert_int_equal(fax_writer_close(w, &error), 3);
	fax_writer_free(&w);
	assert_null(w);
	check_tags(path, 3, 2286, 196);
	for (int i = 0; i < 3; i++) {
		struct tiffpages_bitmap *b = NULL;
		assert_int_equal(tiffpages_read(path, i + 1, &b, &error), 0);
		assert_int_equal(b->x_dpi, 204);
		assert_int_equal(b->y_dpi, 196);
		assert_memory_equal(b->bits, pages[i]->bits, 216 * (size_t)g.rows);
		tiffpages_bitmap_free(&b);
		fax_bitmap_free(&pages[i]);
	}
	g_free(path);
}

static void test_writer_all_geometries(void **state)
{
	(void)state;
	for (int res = FAX_RES_STD; res <= FAX_RES_SUPER; res++)
		for (int paper = FAX_PAPER_A4; paper <= FAX_PAPER_LEGAL; paper++) {
			char *path = tmp_path("geom.tif");
			struct fax_geometry g;
			fax_geometry_get((enum fax_res)res, (enum fax_paper)paper, 0, &g);
			const char *error = NULL;
			struct fax_writer *w = fax_writer_create(path, &g, &error);
			assert_non_null(w);
			struct fax_bitmap *b = fax_bitmap_new(1728, g.rows);
			fill(b, 500, 10, 600, g.rows - 10);
			assert_int_equal(fax_writer_add_bitmap(w, b, &error), 0);
			assert_int_equal(fax_writer_add_bitmap(w, b, &error), 0);
			assert_int_equal(fax_writer_close(w, &error), 2);
			fax_writer_free(&w);
			check_tags(path, 2, g.rows, g.y_dpi);
			fax_bitmap_free(&b);
			g_free(path);
		}
}

static void test_writer_max_pages(void **state)
{
	(void)state;
	char *path = tmp_path("max.tif");
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_STD, FAX_PAPER_LETTER, 0, &g);
	const char *error = NULL;
	struct fax_writer *w = fax_writer_create(path, &g, &error);
	fax_writer_set_max_pages(w, 2);
	assert_int_equal(fax_writer_max_pages(w), 2);
	struct fax_bitmap *b = fax_bitmap_new(1728, g.rows);
	fill(b, 0, 0, 10, 10);
	assert_int_equal(fax_writer_add_bitmap(w, b, &error), 0);
	assert_int_equal(fax_writer_add_bitmap(w, b, &error), 0);
	assert_int_equal(fax_writer_add_bitmap(w, b, &error), -1);
	assert_string_equal(error, "more than 2 pages");
	assert_int_equal(fax_writer_pages(w), 2);
	assert_int_equal(fax_writer_close(w, &error), 2);
	fax_writer_free(&w);
	check_tags(path, 2, 1078, 98);
	fax_bitmap_free(&b);
	g_free(path);
}

static void test_writer_drop_blank(void **state)
{
	(void)state;
	char *path = tmp_path("blank.tif");
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
	const char *error = NULL;
	struct fax_writer *w = fax_writer_create(path, &g, &error);
	fax_writer_set_drop_blank(w, true);
	struct fax_bitmap *blank = fax_bitmap_new(1728, g.rows), *speck = fax_bitmap_new(1728, g.rows),
			  *ink = fax_bitmap_new(1728, g.rows);
	fill(speck, 10, 10, 20, 20); /* 100 px: dust */
	fill(ink, 100, 100, 400, 400);
	assert_int_equal(fax_writer_add_bitmap(w, blank, &error), 0);
	assert_int_equal(fax_writer_add_bitmap(w, ink, &error), 0);
	assert_int_equal(fax_writer_add_bitmap(w, speck, &error), 0);
	assert_int_equal(fax_writer_pages(w), 1);
	fax_writer_set_drop_blank(w, false);
	assert_int_equal(fax_writer_add_bitmap(w, blank, &error), 0);
	assert_int_equal(fax_writer_close(w, &error), 2);
	fax_writer_free(&w);
	check_tags(path, 2, 2286, 196);

	/* Blank pages of an appended file go too. */
	char *path2 = tmp_path("blank2.tif");
	w = fax_writer_create(path2, &g, &error);
	fax_writer_set_drop_blank(w, true);
	assert_int_equal(fax_writer_add_tiff(w, path, &error), 0);
	assert_int_equal(fax_writer_pages(w), 1);
	assert_int_equal(fax_writer_close(w, &error), 1);
	fax_writer_free(&w);
	fax_bitmap_free(&blank);
	fax_bitmap_free(&speck);
	fax_bitmap_free(&ink);
	g_free(path);
	g_free(path2);
}

/* The raw coded strip of page p (0-based). */
static GBytes *raw_strip(const char *path, int p, uint16_t *comp_r)
{
	TIFF *t = TIFFOpen(path, "r");
	assert_non_null(t);
	assert_true(TIFFSetDirectory(t, (tdir_t)p));
	TIFFGetField(t, TIFFTAG_COMPRESSION, comp_r);
	uint64_t *sizes = NULL;
	TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &sizes);
	uint8_t *buf = g_malloc(sizes[0]);
	tmsize_t n = TIFFReadRawStrip(t, 0, buf, (tmsize_t)sizes[0]);
	TIFFClose(t);
	return g_bytes_new_take(buf, (gsize)n);
}

static void assert_same_pages(const char *a, int a_first, const char *b, int b_first, int n)
{
	const char *error = NULL;
	for (int i = 0; i < n; i++) {
		struct tiffpages_bitmap *pa = NULL, *pb = NULL;
		assert_int_equal(tiffpages_read(a, a_first + i, &pa, &error), 0);
		assert_int_equal(tiffpages_read(b, b_first + i, &pb, &error), 0);
		assert_int_equal(tiffpages_compare(pa, 0, pb, 0), 0);
		tiffpages_bitmap_free(&pa);
		tiffpages_bitmap_free(&pb);
	}
}

static void test_writer_add_tiff_raw(void **state)
{
	(void)state;
	char *src = tmp_path("src.tif"), *out = tmp_path("out.tif");
	const char *error = NULL;
	assert_int_equal(tiffpages_write_test(src, 3, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 7, &error), 0);
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
	struct fax_writer *w = fax_writer_create(out, &g, &error);
	struct fax_bitmap *b = fax_bitmap_new(1728, g.rows);
	fill(b, 10, 10, 1000, 1000);
	assert_int_equal(fax_writer_add_bitmap(w, b, &error), 0);
	assert_int_equal(fax_writer_add_tiff(w, src, &error), 0);
	assert_int_equal(fax_writer_pages(w), 4);
	assert_int_equal(fax_writer_close(w, &error), 4);
	fax_writer_free(&w);
	check_tags(out, 4, 2286, 196);
	assert_same_pages(src, 1, out, 2, 3);
	/* Copied, not re-encoded: the coded strips are the same bytes. */
	for (int p = 0; p < 3; p++) {
		uint16_t ca, cb;
		GBytes *ra = raw_strip(src, p, &ca), *rb = raw_strip(out, p + 1, &cb);
		assert_true(g_bytes_equal(ra, rb));
		g_bytes_unref(ra);
		g_bytes_unref(rb);
	}
	fax_bitmap_free(&b);
	g_free(src);
	g_free(out);
}

/* spandsp 0.0.6's receive format: G3 2-D with EOL fill bits, FillOrder 2; also MinIsBlack G4 and
   64-row strips (re-encoded to one strip). */
static void test_writer_add_tiff_variants(void **state)
{
	(void)state;
	char *ref = tmp_path("ref.tif");
	const char *error = NULL;
	assert_int_equal(tiffpages_write_test(ref, 2, TIFFPAGES_RES_STANDARD, TIFFPAGES_PAPER_A4, 3, &error),
			 0);
	struct tiffpages_bitmap *pages[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++)
		assert_int_equal(tiffpages_read(ref, i + 1, &pages[i], &error), 0);
	static const struct tiffvariant variants[] = {
	    {.compression = COMPRESSION_CCITTFAX3,
	     .g3opts = GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS,
	     .fill = FILLORDER_LSB2MSB,
	     .photometric = PHOTOMETRIC_MINISWHITE},
	    {.compression = COMPRESSION_CCITTFAX3,
	     .g3opts = 0,
	     .fill = FILLORDER_MSB2LSB,
	     .photometric = PHOTOMETRIC_MINISWHITE},
	    {.compression = COMPRESSION_CCITTFAX4,
	     .fill = FILLORDER_MSB2LSB,
	     .photometric = PHOTOMETRIC_MINISBLACK},
	    {.compression = COMPRESSION_CCITTFAX4,
	     .photometric = PHOTOMETRIC_MINISWHITE,
	     .rows_per_strip = 64},
	    {.compression = COMPRESSION_NONE, .photometric = PHOTOMETRIC_MINISWHITE},
	    {.compression = COMPRESSION_LZW, .photometric = PHOTOMETRIC_MINISWHITE},
	};
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		char *src = tmp_path("variant.tif"), *out = tmp_path("variant-out.tif");
		assert_int_equal(tiffvariant_write(src, pages, 2, &variants[v]), 0);
		struct fax_geometry g;
		fax_geometry_get(FAX_RES_STD, FAX_PAPER_A4, 0, &g);
		struct fax_writer *w = fax_writer_create(out, &g, &error);
		assert_int_equal(fax_writer_add_tiff(w, src, &error), 0);
		assert_int_equal(fax_writer_close(w, &error), 2);
		fax_writer_free(&w);
		assert_same_pages(ref, 1, out, 1, 2);
		/* G3/G4 in one strip is kept as it is; the rest becomes G4 in one strip. */
		uint16_t comp = 0;
		GBytes *r = raw_strip(out, 0, &comp);
		bool single_ccitt =
		    variants[v].rows_per_strip == 0 && (variants[v].compression == COMPRESSION_CCITTFAX3 ||
							variants[v].compression == COMPRESSION_CCITTFAX4);
		assert_int_equal(comp, single_ccitt ? variants[v].compression : COMPRESSION_CCITTFAX4);
		g_bytes_unref(r);
		TIFF *t = TIFFOpen(out, "r");
		assert_int_equal(TIFFNumberOfStrips(t), 1);
		TIFFClose(t);
		g_free(src);
		g_free(out);
	}
	for (int i = 0; i < 2; i++)
		tiffpages_bitmap_free(&pages[i]);
	g_free(ref);
}

static void test_writer_add_tiff_refused(void **state)
{
	(void)state;
	char *std = tmp_path("std.tif"), *wide = tmp_path("wide.tif"), *out = tmp_path("refused.tif");
	char *junk = tmp_path("junk.tif"), *noreso = tmp_path("noreso.tif");
	const char *error = NULL;
	assert_int_equal(tiffpages_write_test(std, 2, TIFFPAGES_RES_STANDARD, TIFFPAGES_PAPER_A4, 1, &error),
			 0);
	struct tiffpages_bitmap *p = tiffvariant_page(2480, 3508, 300, 300);
	struct tiffpages_bitmap *pages[] = {p};
	struct tiffvariant g4 = {.compression = COMPRESSION_CCITTFAX4, .photometric = PHOTOMETRIC_MINISWHITE};
	assert_int_equal(tiffvariant_write(wide, pages, 1, &g4), 0);
	tiffpages_bitmap_free(&p);
	p = tiffvariant_page(1728, 2286, 204, 196);
	pages[0] = p;
	g4.no_resolution = true;
	assert_int_equal(tiffvariant_write(noreso, pages, 1, &g4), 0);
	tiffpages_bitmap_free(&p);
	g_file_set_contents(junk, "II*\0garbage that is not a TIFF directory", 40, NULL);

	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
	struct fax_writer *w = fax_writer_create(out, &g, &error);
	assert_int_equal(fax_writer_add_tiff(w, std, &error), -1);
	assert_non_null(strstr(error, "dpi"));
	assert_int_equal(fax_writer_add_tiff(w, wide, &error), -1);
	assert_non_null(strstr(error, "2480 pixels wide"));
	assert_int_equal(fax_writer_add_tiff(w, noreso, &error), -1);
	assert_non_null(strstr(error, "no resolution"));
	assert_int_equal(fax_writer_add_tiff(w, junk, &error), -1);
	assert_int_equal(fax_writer_add_tiff(w, "/nonexistent/x.tif", &error), -1);
	assert_int_equal(fax_writer_pages(w), 0);

	/* All or nothing: a 3-page file does not fit under 4 pages after 2. */
	char *three = tmp_path("three.tif");
	assert_int_equal(tiffpages_write_test(three, 3, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 2, &error),
			 0);
	fax_writer_set_max_pages(w, 4);
	assert_int_equal(fax_writer_add_tiff(w, three, &error), 0);
	assert_int_equal(fax_writer_add_tiff(w, three, &error), -1);
	assert_string_equal(error, "more than 4 pages");
	assert_int_equal(fax_writer_pages(w), 3);
	assert_int_equal(fax_writer_close(w, &error), 3);
	fax_writer_free(&w);
	g_free(std);
	g_free(wide);
	g_free(out);
	g_free(junk);
	g_free(noreso);
	g_free(three);
}

/* A page whose coded data is damaged is decoded as libtiff can and re-encoded, or refused; what
   is appended always decodes cleanly. */
static void test_writer_add_tiff_damaged(void **state)
{
	(void)state;
	static const uint8_t scribbles[] = {0x00, 0xFF, 0x5A};
	for (size_t s = 0; s < sizeof(scribbles); s++) {
		char *src = tmp_path("damaged.tif"), *out = tmp_path("damaged-out.tif");
		const char *error = NULL;
		assert_int_equal(
		    tiffpages_write_test(src, 1, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 9, &error), 0);
		TIFF *t = TIFFOpen(src, "r");
		uint64_t *offs = NULL, *sizes = NULL;
		TIFFGetField(t, TIFFTAG_STRIPOFFSETS, &offs);
		TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &sizes);
		uint64_t off = offs[0], size = sizes[0];
		TIFFClose(t);
		FILE *f = fopen(src, "r+b");
		fseek(f, (long)(off + size / 2), SEEK_SET);
		for (int i = 0; i < 64; i++)
			fputc(scribbles[s], f);
		fclose(f);

		struct fax_geometry g;
		fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
		struct fax_writer *w = fax_writer_create(out, &g, &error);
		int r = fax_writer_add_tiff(w, src, &error);
		if (r == 0) {
			assert_int_equal(fax_writer_close(w, &error), 1);
			/* The output decodes without a single complaint from libtiff. */
			TIFF *o = TIFFOpen(out, "r");
			tmsize_t len = TIFFStripSize(o);
			uint8_t *buf = g_malloc((gsize)len);
			assert_int_equal(TIFFReadEncodedStrip(o, 0, buf, len), len);
			g_free(buf);
			TIFFClose(o);
		} else {
			assert_non_null(strstr(error, "decoded"));
			assert_int_equal(fax_writer_pages(w), 0);
		}
		fax_writer_free(&w);
		g_free(src);
		g_free(out);
	}
}

static void test_writer_misuse(void **state)
{
	(void)state;
	struct fax_geometry g;
	fax_geometry_get(FAX_RES_FINE, FAX_PAPER_A4, 0, &g);
	const char *error = NULL;
	assert_null(fax_writer_create("/nonexistent/dir/x.tif", &g, &error));
	assert_non_null(strstr(error, "cannot create"));
	struct fax_geometry bad = g;
	bad.width = 1700;
	assert_null(fax_writer_create("/tmp/never.tif", &bad, &error));

	char *path = tmp_path("misuse.tif");
	struct fax_writer *w = fax_writer_create(path, &g, &error);
	struct fax_bitmap *narrow = fax_bitmap_new(1700, 100);
	assert_int_equal(fax_writer_add_bitmap(w, narrow, &error), -1);
	assert_non_null(strstr(error, "1700 pixels wide"));
	fax_bitmap_free(&narrow);
	/* Nothing written: close fails and leaves no file. */
	assert_int_equal(fax_writer_close(w, &error), -1);
	assert_string_equal(error, "no pages");
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	assert_int_equal(fax_writer_close(w, &error), -1);
	struct fax_bitmap *b = fax_bitmap_new(1728, 100);
	assert_int_equal(fax_writer_add_bitmap(w, b, &error), -1);
	fax_writer_free(&w);
	fax_writer_free(&w);

	/* Freed without close: the half-written file goes. */
	w = fax_writer_create(path, &g, &error);
	fill(b, 0, 0, 100, 100);
	assert_int_equal(fax_writer_add_bitmap(w, b, &error), 0);
	fax_writer_free(&w);
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	/* A device is written to but never removed (it once was: /dev/null). */
	GStatBuf st;
	if (g_stat("/dev/null", &st) != 0 || !S_ISCHR(st.st_mode)) {
		fax_bitmap_free(&b);
		g_free(path);
		fail_msg("/dev/null is not a character device on this machine");
	}
	/* libtiff cannot seek in it, so pages fail; the point is that nothing is unlinked. */
	w = fax_writer_create("/dev/null", &g, &error);
	if (w != NULL && fax_writer_add_bitmap(w, b, &error) == 0)
		fax_writer_close(w, &error);
	fax_writer_free(&w);
	w = fax_writer_create("/dev/null", &g, &error);
	fax_writer_free(&w);
	assert_int_equal(g_stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	fax_bitmap_free(&b);
	g_free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_geometry_table),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_bitmap),
	    cmocka_unit_test(test_writer_pages_and_tags),
	    cmocka_unit_test(test_writer_all_geometries),
	    cmocka_unit_test(test_writer_max_pages),
	    cmocka_unit_test(test_writer_drop_blank),
	    cmocka_unit_test(test_writer_add_tiff_raw),
	    cmocka_unit_test(test_writer_add_tiff_variants),
	    cmocka_unit_test(test_writer_add_tiff_refused),
	    cmocka_unit_test(test_writer_add_tiff_damaged),
	    cmocka_unit_test(test_writer_misuse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
