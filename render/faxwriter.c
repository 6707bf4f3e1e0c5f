/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fax page writer: one multi-page TIFF Class F file (TIFF 6.0 §11 / RFC 3949 profile F) that
 * every converter appends pages to. Each page is bilevel, ITU-T T.6 (G4) coded by libtiff,
 * exactly 1728 pixels wide (ITU-T T.4 §2.2 at 204 dpi), X/YResolution in inches (spandsp treats a
 * page without them as standard resolution, research/spandsp.md §7), MinIsWhite, FillOrder 1, one
 * strip per page, PageNumber n/total (0-based, TIFF 6.0) patched in place at close.
 *
 * Pages from another TIFF-F file (Ghostscript's output, a fax attachment) are copied as raw
 * strips when they are G3/G4 in one strip, decode cleanly and match the writer's width and
 * resolution; otherwise they are decoded (libtiff tolerates damaged rows) and re-encoded, so what
 * reaches the line or a PDF is always data libtiff wrote (research/rendering.md §4 caveats).
 * fax_writer_add_tiff is all or nothing: it checks every page before it appends the first.
 */
#include "common/error.h"
#include "render/faxwriter.h"
#include "render/faxwriter_private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

/* Longest page accepted, in rows (a Legal superfine page is 5476). */
#define MAX_ROWS 32768
/* Resolution tolerance when matching a page to the writer, as spandsp's ±5 % window. */
#define RES_TOLERANCE 0.05

struct fax_writer {
	TIFF *tif;
	int fd;
	char *path;
	bool regular; /* a regular file: removed when unfinished; else (a device such as /dev/null) never */
	struct fax_geometry g;
	int pages, max_pages;
	bool drop_blank;
	char tiff_error[200]; /* last libtiff error on this handle */
};

void fax_geometry_get(enum fax_res res, enum fax_paper paper, int header_rows, struct fax_geometry *g_r)
{
	/* spandsp T4_LENGTH_* (A4, Legal) and research/rendering.md §6 (Letter). */
	static const int rows[3][3] = {{1143, 2286, 4573}, {1078, 2156, 4301}, {1369, 2738, 5476}};
	static const int y_dpi[3] = {98, 196, 391};
	if ((unsigned)res > FAX_RES_SUPER)
		res = FAX_RES_FINE;
	if ((unsigned)paper > FAX_PAPER_LEGAL)
		paper = FAX_PAPER_A4;
	if (header_rows < 0)
		header_rows = 0;
	g_r->res = res;
	g_r->paper = paper;
	g_r->width = FAX_WIDTH;
	g_r->x_dpi = 204;
	g_r->y_dpi = y_dpi[res];
	g_r->rows = rows[paper][res] - header_rows;
	if (g_r->rows < rows[paper][res] / 2)
		g_r->rows = rows[paper][res] / 2;
}

int fax_res_parse(const char *name, enum fax_res *res_r)
{
	static const struct {
		const char *name;
		enum fax_res res;
	} names[] = {{"standard", FAX_RES_STD}, {"std", FAX_RES_STD},	      {"normal", FAX_RES_STD},
		     {"fine", FAX_RES_FINE},	{"superfine", FAX_RES_SUPER}, {"super", FAX_RES_SUPER}};
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(name, names[i].name) == 0) {
			*res_r = names[i].res;
			return 0;
		}
	return -1;
}

int fax_paper_parse(const char *name, enum fax_paper *paper_r)
{
	static const char *const names[] = {"a4", "letter", "legal"};
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(name, names[i]) == 0) {
			*paper_r = (enum fax_paper)i;
			return 0;
		}
	return -1;
}

struct fax_bitmap *fax_bitmap_new(int width, int height)
{
	if (width <= 0 || height <= 0 || width > 65536 || height > 65536)
		return NULL;
	struct fax_bitmap *b = g_try_new0(struct fax_bitmap, 1);
	if (b == NULL)
		return NULL;
	b->width = width;
	b->height = height;
	b->stride = ((size_t)width + 7) / 8;
	b->bits = g_try_malloc0(b->stride * (size_t)height);
	if (b->bits == NULL) {
		g_free(b);
		return NULL;
	}
	return b;
}

void fax_bitmap_free(struct fax_bitmap **bp)
{
	struct fax_bitmap *b = *bp;
	if (b == NULL)
		return;
	*bp = NULL;
	g_free(b->bits);
	g_free(b);
}

bool fax_bitmap_blank(const struct fax_bitmap *b, double max_black_fraction)
{
	size_t full = (size_t)b->width / 8;
	uint8_t tail = (uint8_t)(0xFF << (8 - b->width % 8));
	uint64_t black = 0;
	uint64_t limit = (uint64_t)(max_black_fraction * (double)b->width * (double)b->height);
	for (int y = 0; y < b->height; y++) {
		const uint8_t *row = b->bits + (size_t)y * b->stride;
		size_t i = 0;
		for (; i + 8 <= full; i += 8) {
			uint64_t v;
			memcpy(&v, row + i, 8);
			black += (uint64_t)__builtin_popcountll(v);
		}
		for (; i < full; i++)
			black += (uint64_t)__builtin_popcount(row[i]);
		if (b->width % 8)
			black += (uint64_t)__builtin_popcount(row[full] & tail);
		if (black > limit)
			return false;
	}
	return true;
}

static int tiff_error_handler(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)module;
	char *buf = user_data;
	g_vsnprintf(buf, 200, fmt, ap);
	return 1;
}

static int tiff_warning_quiet(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)user_data;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

struct fax_writer *fax_writer_create(const char *path, const struct fax_geometry *g, const char **error_r)
{
	if (g->width != FAX_WIDTH || g->rows <= 0 || g->rows > MAX_ROWS || g->x_dpi <= 0 || g->y_dpi <= 0) {
		error_set(error_r, "bad page geometry %dx%d", g->width, g->rows);
		return NULL;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		error_set(error_r, "cannot create %s: %s", path, g_strerror(errno));
		return NULL;
	}
	struct stat st;
	struct fax_writer *w = g_new0(struct fax_writer, 1);
	w->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	w->fd = fd;
	w->g = *g;
	w->path = g_strdup(path);
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_error_handler, w->tiff_error);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_warning_quiet, NULL);
	w->tif = TIFFFdOpenExt(fd, path, "w", opts);
	TIFFOpenOptionsFree(opts);
	if (w->tif == NULL) {
		error_set(error_r, "cannot write TIFF %s: %s", path, w->tiff_error);
		close(fd);
		if (w->regular)
			unlink(path);
		g_free(w->path);
		g_free(w);
		return NULL;
	}
	return w;
}

int fax_writer_pages(const struct fax_writer *w)
{
	return w->pages;
}

const struct fax_geometry *fax_writer_geometry(const struct fax_writer *w)
{
	return &w->g;
}

void fax_writer_set_max_pages(struct fax_writer *w, int max)
{
	w->max_pages = max > 0 ? max : 0;
}

int fax_writer_max_pages(const struct fax_writer *w)
{
	return w->max_pages;
}

void fax_writer_set_drop_blank(struct fax_writer *w, bool drop)
{
	w->drop_blank = drop;
}

static int check_room(struct fax_writer *w, int adding, const char **error_r)
{
	if (w->tif == NULL) {
		error_set(error_r, "fax writer is closed");
		return -1;
	}
	if (w->max_pages > 0 && w->pages + adding > w->max_pages) {
		error_set(error_r, "more than %d pages", w->max_pages);
		return -1;
	}
	return 0;
}

static void set_page_tags(struct fax_writer *w, uint32_t rows)
{
	TIFF *t = w->tif;
	TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)FAX_WIDTH);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
	TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)w->g.x_dpi);
	TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)w->g.y_dpi);
	TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows);
	TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)w->pages, (uint16_t)0);
	TIFFSetField(t, TIFFTAG_SOFTWARE, "faxgate");
}

/* Encode one page from MSB-first rows, 1 = black. */
static int write_bits(struct fax_writer *w, const uint8_t *bits, size_t stride, int height,
		      const char **error_r)
{
	const size_t row_bytes = FAX_WIDTH / 8;
	if (height <= 0 || height > MAX_ROWS) {
		error_set(error_r, "page of %d rows", height);
		return -1;
	}
	set_page_tags(w, (uint32_t)height);
	TIFFSetField(w->tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
	TIFFSetField(w->tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(w->tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
	uint8_t *packed = NULL;
	const uint8_t *src = bits;
	if (stride != row_bytes) {
		packed = g_try_malloc(row_bytes * (size_t)height);
		if (packed == NULL) {
			error_set(error_r, "out of memory");
			return -1;
		}
		for (int y = 0; y < height; y++)
			memcpy(packed + (size_t)y * row_bytes, bits + (size_t)y * stride, row_bytes);
		src = packed;
	}
	/* libtiff encodes from a buffer it may not modify for CCITT, but takes a non-const pointer. */
	tmsize_t n =
	    TIFFWriteEncodedStrip(w->tif, 0, (void *)(uintptr_t)src, (tmsize_t)(row_bytes * (size_t)height));
	g_free(packed);
	if (n < 0 || !TIFFWriteDirectory(w->tif)) {
		error_set(error_r, "cannot write page: %s", w->tiff_error[0] ? w->tiff_error : "I/O error");
		return -1;
	}
	w->pages++;
	return 0;
}

int fax_writer_add_bitmap(struct fax_writer *w, const struct fax_bitmap *page, const char **error_r)
{
	if (page->width != FAX_WIDTH || page->stride < FAX_WIDTH / 8) {
		error_set(error_r, "page is %d pixels wide; a fax page is %d", page->width, FAX_WIDTH);
		return -1;
	}
	if (w->drop_blank && fax_bitmap_blank(page, 0.0005))
		return 0;
	if (check_room(w, 1, error_r) < 0)
		return -1;
	return write_bits(w, page->bits, page->stride, page->height, error_r);
}

/* ---------------------------------------------------------------------------------------- */
/* Pages from another TIFF file */

struct in_page {
	bool raw; /* copy the coded strip as it is */
};

static bool res_close(double have, double want)
{
	return have >= want * (1 - RES_TOLERANCE) && have <= want * (1 + RES_TOLERANCE);
}

static double to_dpi(float v, uint16_t unit)
{
	return unit == RESUNIT_CENTIMETER ? v * 2.54 : v;
}

/* Check the current directory of `in` against the writer; decode it into buf (FAX_WIDTH/8 per
   row, as libtiff gives it: MSB first, photometric as stored). Sets *raw when the coded strip
   can be copied as it is. */
static int check_in_page(struct fax_writer *w, TIFF *in, const char *in_error, int page, bool decode,
			 uint8_t **buf, uint32_t *rows_r, bool *raw_r, const char **error_r)
{
	uint32_t width = 0, rows = 0;
	uint16_t bps = 1, spp = 1, comp = COMPRESSION_NONE, photo = PHOTOMETRIC_MINISWHITE,
		 unit = RESUNIT_INCH;
	float xres = 0, yres = 0;
	TIFFGetField(in, TIFFTAG_IMAGEWIDTH, &width);
	TIFFGetField(in, TIFFTAG_IMAGELENGTH, &rows);
	TIFFGetFieldDefaulted(in, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(in, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(in, TIFFTAG_COMPRESSION, &comp);
	TIFFGetField(in, TIFFTAG_PHOTOMETRIC, &photo);
	TIFFGetFieldDefaulted(in, TIFFTAG_RESOLUTIONUNIT, &unit);
	if (bps != 1 || spp != 1) {
		error_set(error_r, "page %d is not black and white (%u bits x %u samples)", page, bps, spp);
		return -1;
	}
	if (width != FAX_WIDTH) {
		error_set(error_r, "page %d is %u pixels wide; a fax page is %d", page, width, FAX_WIDTH);
		return -1;
	}
	if (rows == 0 || rows > MAX_ROWS) {
		error_set(error_r, "page %d has %u rows", page, rows);
		return -1;
	}
	if (!TIFFGetField(in, TIFFTAG_XRESOLUTION, &xres) || !TIFFGetField(in, TIFFTAG_YRESOLUTION, &yres)) {
		error_set(error_r, "page %d has no resolution", page);
		return -1;
	}
	if (!res_close(to_dpi(xres, unit), w->g.x_dpi) || !res_close(to_dpi(yres, unit), w->g.y_dpi)) {
		error_set(error_r, "page %d is %.0fx%.0f dpi; the document is %dx%d", page, to_dpi(xres, unit),
		     to_dpi(yres, unit), w->g.x_dpi, w->g.y_dpi);
		return -1;
	}
	if (photo != PHOTOMETRIC_MINISWHITE && photo != PHOTOMETRIC_MINISBLACK) {
		error_set(error_r, "page %d has photometric %u", page, photo);
		return -1;
	}
	const size_t row_bytes = FAX_WIDTH / 8;
	if (TIFFScanlineSize(in) != (tmsize_t)row_bytes) {
		error_set(error_r, "page %d: odd row size", page);
		return -1;
	}
	if (TIFFIsTiled(in)) {
		error_set(error_r, "page %d is tiled", page);
		return -1;
	}
	tstrip_t nstrips = TIFFNumberOfStrips(in);
	bool ccitt = comp == COMPRESSION_CCITTFAX4 || comp == COMPRESSION_CCITTFAX3;
	*rows_r = rows;
	if (!decode && nstrips == 1 && ccitt) { /* our own or Ghostscript's page: tags are enough */
		*raw_r = true;
		return 0;
	}
	*buf = g_try_realloc(*buf, row_bytes * rows);
	if (*buf == NULL) {
		error_set(error_r, "out of memory");
		return -1;
	}
	/* Decode everything: a strip that fails is fatal, one that needs repair is re-encoded. */
	bool clean = true;
	uint32_t rps = rows;
	TIFFGetFieldDefaulted(in, TIFFTAG_ROWSPERSTRIP, &rps);
	if (rps == 0 || rps > rows)
		rps = rows;
	size_t off = 0;
	for (tstrip_t s = 0; s < nstrips && off < row_bytes * rows; s++) {
		size_t left = row_bytes * rows - off;
		size_t expect = row_bytes * rps < left ? row_bytes * rps : left;
		tmsize_t n = TIFFReadEncodedStrip(in, s, *buf + off, (tmsize_t)expect);
		if (n < 0) {
			error_set(error_r, "page %d cannot be decoded: %s", page,
			     in_error[0] ? in_error : "corrupt data");
			return -1;
		}
		if ((size_t)n < expect)
			clean = false;
		off += (size_t)n;
	}
	if (off < row_bytes * rows) {
		memset(*buf + off, photo == PHOTOMETRIC_MINISBLACK ? 0xFF : 0, row_bytes * rows - off);
		clean = false;
	}
	*raw_r = clean && nstrips == 1 && ccitt;
	return 0;
}

static int count_warning(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)module;
	(void)fmt;
	(void)ap;
	(*(int *)user_data)++;
	return 1;
}

/* As fax_bitmap_blank(.., 0.0005) on a decoded page as libtiff gives it. */
static bool page_blank(const uint8_t *buf, uint32_t rows, bool min_is_black)
{
	struct fax_bitmap b = {
	    .width = FAX_WIDTH, .height = (int)rows, .stride = FAX_WIDTH / 8, .bits = (uint8_t *)buf};
	if (!min_is_black)
		return fax_bitmap_blank(&b, 0.0005);
	size_t len = (size_t)rows * (FAX_WIDTH / 8);
	uint8_t *inv = g_malloc(len);
	for (size_t i = 0; i < len; i++)
		inv[i] = (uint8_t)~buf[i];
	b.bits = inv;
	bool blank = fax_bitmap_blank(&b, 0.0005);
	g_free(inv);
	return blank;
}

static TIFF *open_in(const char *path, char *error_buf_in, int *warnings, const char **error_r)
{
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_error_handler, error_buf_in);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, count_warning, warnings);
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, 64 << 20);
	TIFF *in = TIFFOpenExt(path, "r", opts);
	TIFFOpenOptionsFree(opts);
	if (in == NULL)
		error_set(error_r, "not a TIFF file: %s", error_buf_in[0] ? error_buf_in : "cannot open");
	return in;
}

static int copy_raw(struct fax_writer *w, TIFF *in, uint32_t rows, const char **error_r)
{
	uint16_t comp = COMPRESSION_CCITTFAX4, photo = PHOTOMETRIC_MINISWHITE, fill = FILLORDER_MSB2LSB;
	uint32_t g3opts = 0;
	TIFFGetFieldDefaulted(in, TIFFTAG_COMPRESSION, &comp);
	TIFFGetField(in, TIFFTAG_PHOTOMETRIC, &photo);
	TIFFGetFieldDefaulted(in, TIFFTAG_FILLORDER, &fill);
	set_page_tags(w, rows);
	TIFFSetField(w->tif, TIFFTAG_COMPRESSION, comp);
	TIFFSetField(w->tif, TIFFTAG_PHOTOMETRIC, photo);
	TIFFSetField(w->tif, TIFFTAG_FILLORDER, fill);
	if (comp == COMPRESSION_CCITTFAX3 && TIFFGetField(in, TIFFTAG_GROUP3OPTIONS, &g3opts))
		TIFFSetField(w->tif, TIFFTAG_GROUP3OPTIONS, g3opts);
	uint64_t *sizes = NULL;
	if (!TIFFGetField(in, TIFFTAG_STRIPBYTECOUNTS, &sizes) || sizes == NULL || sizes[0] == 0 ||
	    sizes[0] > (uint64_t)64 << 20) {
		error_set(error_r, "bad strip size");
		return -1;
	}
	uint8_t *raw = g_try_malloc((gsize)sizes[0]);
	if (raw == NULL) {
		error_set(error_r, "out of memory");
		return -1;
	}
	tmsize_t got = TIFFReadRawStrip(in, 0, raw, (tmsize_t)sizes[0]);
	int ret = 0;
	if (got <= 0 || TIFFWriteRawStrip(w->tif, 0, raw, got) < 0 || !TIFFWriteDirectory(w->tif)) {
		error_set(error_r, "cannot copy page: %s", w->tiff_error[0] ? w->tiff_error : "I/O error");
		ret = -1;
	}
	g_free(raw);
	if (ret == 0)
		w->pages++;
	return ret;
}

/* Directory p (0-based) of `in`: the next one is read on from the current one, which keeps a walk
   through a long file linear (TIFFSetDirectory starts from the first directory every time). */
static bool goto_page(TIFF *in, int p)
{
	if (p > 0 && TIFFCurrentDirectory(in) == (tdir_t)(p - 1))
		return TIFFReadDirectory(in) == 1;
	return TIFFSetDirectory(in, (tdir_t)p) == 1;
}

int fax_writer_add_tiff(struct fax_writer *w, const char *path, const char **error_r)
{
	return fax_writer_add_tiff_from(w, path, false, error_r);
}

int fax_writer_add_tiff_from(struct fax_writer *w, const char *path, bool trusted, const char **error_r)
{
	/* Pages must be decoded to be checked, or to tell blank ones. */
	bool decode = !trusted || w->drop_blank;
	char in_error[200] = "";
	int warnings = 0;
	if (check_room(w, 0, error_r) < 0)
		return -1;
	TIFF *in = open_in(path, in_error, &warnings, error_r);
	if (in == NULL)
		return -1;
	int n = TIFFNumberOfDirectories(in);
	if (n <= 0) {
		TIFFClose(in);
		error_set(error_r, "TIFF file has no pages");
		return -1;
	}
	if (!w->drop_blank && check_room(w, n, error_r) < 0) {
		TIFFClose(in);
		return -1;
	}
	bool *raw = g_new0(bool, (gsize)n), *skip = g_new0(bool, (gsize)n);
	int kept = n;
	uint8_t *buf = NULL;
	uint32_t rows = 0;
	int ret = 0;
	/* Pass 1: every page must be usable before anything is appended. */
	for (int p = 0; p < n && ret == 0; p++) {
		if (!goto_page(in, p)) {
			error_set(error_r, "page %d cannot be read: %s", p + 1,
			     in_error[0] ? in_error : "corrupt");
			ret = -1;
			break;
		}
		warnings = 0;
		ret = check_in_page(w, in, in_error, p + 1, decode, &buf, &rows, &raw[p], error_r);
		if (warnings > 0) /* libtiff repaired rows (bad lengths, premature EOL): re-encode */
			raw[p] = false;
		if (ret == 0 && w->drop_blank) {
			uint16_t photo = PHOTOMETRIC_MINISWHITE;
			TIFFGetField(in, TIFFTAG_PHOTOMETRIC, &photo);
			skip[p] = page_blank(buf, rows, photo == PHOTOMETRIC_MINISBLACK);
			kept -= skip[p];
		}
	}
	if (ret == 0 && check_room(w, kept, error_r) < 0)
		ret = -1;
	/* Pass 2: append. */
	for (int p = 0; p < n && ret == 0; p++) {
		if (skip[p])
			continue;
		if (!goto_page(in, p)) {
			error_set(error_r, "page %d cannot be read", p + 1);
			ret = -1;
			break;
		}
		if (raw[p]) {
			TIFFGetField(in, TIFFTAG_IMAGELENGTH, &rows);
			ret = copy_raw(w, in, rows, error_r);
			continue;
		}
		bool dummy;
		ret = check_in_page(w, in, in_error, p + 1, true, &buf, &rows, &dummy, error_r);
		if (ret < 0)
			break;
		uint16_t photo = PHOTOMETRIC_MINISWHITE;
		TIFFGetField(in, TIFFTAG_PHOTOMETRIC, &photo);
		if (photo == PHOTOMETRIC_MINISBLACK)
			for (size_t i = 0; i < (size_t)rows * (FAX_WIDTH / 8); i++)
				buf[i] = (uint8_t)~buf[i];
		ret = write_bits(w, buf, FAX_WIDTH / 8, (int)rows, error_r);
	}
	g_free(buf);
	g_free(raw);
	g_free(skip);
	TIFFClose(in);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Close: PageNumber n/total patched into each directory in place (SHORT[2] fits the entry). */

static uint32_t get32(const uint8_t *p, bool le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
		  : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static uint16_t get16(const uint8_t *p, bool le)
{
	return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[1] | p[0] << 8);
}

static void put16(uint8_t *p, uint16_t v, bool le)
{
	p[le ? 0 : 1] = (uint8_t)v;
	p[le ? 1 : 0] = (uint8_t)(v >> 8);
}

static int patch_page_numbers(int fd, int pages, const char **error_r)
{
	uint8_t hdr[8];
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || !(hdr[0] == hdr[1]) ||
	    (hdr[0] != 'I' && hdr[0] != 'M')) {
		error_set(error_r, "cannot read back the TIFF header");
		return -1;
	}
	bool le = hdr[0] == 'I';
	if (get16(hdr + 2, le) != 42) {
		error_set(error_r, "not a classic TIFF");
		return -1;
	}
	uint32_t off = get32(hdr + 4, le);
	for (int p = 0; p < pages; p++) {
		uint8_t cnt[2];
		if (off == 0 || pread(fd, cnt, 2, off) != 2) {
			error_set(error_r, "TIFF directory %d missing", p + 1);
			return -1;
		}
		uint16_t n = get16(cnt, le);
		size_t len = (size_t)n * 12 + 4;
		uint8_t *ifd = g_malloc(len);
		if (pread(fd, ifd, len, off + 2) != (ssize_t)len) {
			g_free(ifd);
			error_set(error_r, "TIFF directory %d short", p + 1);
			return -1;
		}
		for (uint16_t i = 0; i < n; i++) {
			uint8_t *e = ifd + (size_t)i * 12;
			if (get16(e, le) == TIFFTAG_PAGENUMBER && get16(e + 2, le) == TIFF_SHORT &&
			    get32(e + 4, le) == 2) {
				uint8_t v[4];
				put16(v, (uint16_t)p, le);
				put16(v + 2, (uint16_t)pages, le);
				if (pwrite(fd, v, 4, (off_t)off + 2 + (off_t)i * 12 + 8) != 4) {
					g_free(ifd);
					error_set(error_r, "cannot write page numbers: %s", g_strerror(errno));
					return -1;
				}
			}
		}
		off = get32(ifd + (size_t)n * 12, le);
		g_free(ifd);
	}
	return 0;
}

/* Remove an unfinished output file; only ever a regular file (tests write to /dev/null). */
static void discard(struct fax_writer *w)
{
	struct stat st;
	if (w->regular && lstat(w->path, &st) == 0 && S_ISREG(st.st_mode))
		unlink(w->path);
}

int fax_writer_close(struct fax_writer *w, const char **error_r)
{
	if (w->tif == NULL) {
		error_set(error_r, "fax writer is closed");
		return -1;
	}
	bool ok = TIFFFlush(w->tif) == 1;
	TIFFCleanup(w->tif); /* frees the handle; the descriptor stays ours */
	w->tif = NULL;
	int fd = w->fd;
	w->fd = -1;
	if (!ok) {
		error_set(error_r, "cannot write %s: %s", w->path, w->tiff_error[0] ? w->tiff_error : "I/O error");
		close(fd);
		discard(w);
		return -1;
	}
	if (w->pages == 0) {
		close(fd);
		discard(w);
		error_set(error_r, "no pages");
		return -1;
	}
	if (!w->regular) { /* a device: nothing to read back or sync */
		close(fd);
		return w->pages;
	}
	if (patch_page_numbers(fd, w->pages, error_r) < 0) {
		close(fd);
		discard(w);
		return -1;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		error_set(error_r, "cannot write %s: %s", w->path, g_strerror(errno));
		discard(w);
		return -1;
	}
	return w->pages;
}

void fax_writer_free(struct fax_writer **wp)
{
	struct fax_writer *w = *wp;
	if (w == NULL)
		return;
	*wp = NULL;
	if (w->tif != NULL) { /* never closed: the file is incomplete */
		TIFFCleanup(w->tif);
		discard(w);
	}
	if (w->fd >= 0)
		close(w->fd);
	g_free(w->path);
	g_free(w);
}
