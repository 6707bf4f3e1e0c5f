/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Document converters for the mail-to-fax direction, and fax to PDF/PNG for the other one.
 *
 * Design (research/rendering.md §0): every input becomes bilevel pages exactly 1728 pixels wide
 * at 204 x 98/196/391 dpi (ITU-T T.4 §2.2; spandsp neither scales nor guesses, research/spandsp.md
 * §7), appended to a fax_writer that stores them as TIFF Class F with T.6 coding (TIFF 6.0 §11,
 * RFC 3949 profile F).
 *
 *  - PDF and PostScript: Ghostscript's `tiffg4` device in a confined child (exec, never linked:
 *    crash/CVE isolation, a timeout, AGPL kept at arm's length). It is the fastest renderer measured
 *    and the only one that keeps grey text and hairlines at 1 bit. -dFIXEDMEDIA with fit-page
 *    centres A4 and fits Letter/Legal and absurd page sizes alike. pdfinfo runs first: it names
 *    encrypted files and counts pages, so a 10,000-page file is refused before Ghostscript starts
 *    (and -dLastPage=max+1 stops PostScript, which pdfinfo cannot count).
 *  - Plain text: Pango/Cairo drawn straight into a CAIRO_FORMAT_A1 surface (no antialiasing:
 *    solid 2 px strokes at both resolutions), UTF-8 with font fallback, wrapping, tabs at 8, form
 *    feed starts a page. The layout context is not bound to the non-uniform 204x98 CTM (empty lines
 *    would shrink); glyphs are drawn through the scaled cairo context.
 *  - Images: gdk-pixbuf restricted to PNG/JPEG/GIF/BMP/TIFF/WebP loaders by magic number, declared
 *    size checked before any pixel is decoded, fitted to the page with square physical pixels,
 *    grey, then clustered-dot or Floyd–Steinberg dither (render/dither.c).
 *  - Fax TIFF: passed through (raw strips) at the writer's width and resolution, else decoded and
 *    re-scaled by area coverage (render/bitscale.c).
 *  - Office documents and HTML: LibreOffice headless to PDF with a throw-away profile, then the PDF
 *    path.
 *  - Fax to PDF (PDF 1.4, ISO 32000-1 §7.4.6 CCITTFaxDecode): each G3/G4 strip is embedded as it
 *    is, bit-reversed for FillOrder 2; other codings are decoded and Flate-compressed.
 *
 * Converters that add several pages stage them in a private TIFF file and append it at the end, so
 * a conversion that fails adds nothing to the caller's writer.
 */
#include "common/error.h"
#include "render/convert.h"

#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "faxd/tiffpages.h"
#include "render/bitscale.h"
#include "render/dither.h"
#include "render/faxwriter_private.h"
#include "render/runproc.h"

/* Limits (named defaults; docs/rendering.md lists them). */
#define TEXT_MAX_BYTES (16u << 20) /* a text body larger than this is refused */
#define TEXT_MAX_PARAGRAPH 65536   /* longer paragraphs are laid out in pieces */
#define IMAGE_MAX_FILE_BYTES (256u << 20)
#define IMAGE_MAX_UPSCALE 4.0
#define IMAGE_MARGIN_MM 5.0
#define TIFF_MAX_SIDE 30000	     /* a bilevel page side above this is not a document */
#define GS_MAX_MEMORY_MB 2048	     /* RLIMIT_AS for Ghostscript */
#define GS_FILE_MB_PER_PAGE 8	     /* RLIMIT_FSIZE for its output */
#define RESCALE_BLACK_COVERAGE 0.35f /* a re-scaled pixel is black from this much black beneath it */
#define PREVIEW_DPI 100

/* Pass on an error text from another module (it may live in a buffer that the next call reuses). */
static int fail_with(const char **error_r, const char *prefix, const char *error)
{
	return error_set(error_r, "%s%s", prefix ? prefix : "", error ? error : "unknown error");
}

void render_options_default(struct render_options *o)
{
	memset(o, 0, sizeof(*o));
	o->halftone = false;
	o->font = RENDER_TEXT_FONT_DEFAULT;
	o->timeout_s = RENDER_TIMEOUT_S_DEFAULT;
	o->tmpdir = NULL;
}

static int opt_timeout(const struct render_options *o)
{
	return o && o->timeout_s > 0 ? o->timeout_s : RENDER_TIMEOUT_S_DEFAULT;
}

static const char *opt_tmpdir(const struct render_options *o)
{
	return o && o->tmpdir && *o->tmpdir ? o->tmpdir : g_get_tmp_dir();
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Remove a partly written output, only ever a regular file (never /dev/null or a device). */
static void unlink_regular(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		unlink(path);
}

/* A path that no program mistakes for an option ("-x.pdf") or an argument file ("@x"). */
static char *arg_path(const char *path)
{
	if (path[0] == '-' || path[0] == '@')
		return g_strconcat("./", path, NULL);
	return g_strdup(path);
}

/* ---------------------------------------------------------------------------------------- */
/* Scratch directories */

static char *make_tmpdir(const struct render_options *o, const char **error_r)
{
	char *tmpl = g_build_filename(opt_tmpdir(o), "faxgate-convert-XXXXXX", NULL);
	if (g_mkdtemp_full(tmpl, 0700) == NULL) {
		error_set(error_r, "cannot create a scratch directory in %s: %s", opt_tmpdir(o),
		     g_strerror(errno));
		g_free(tmpl);
		return NULL;
	}
	return tmpl;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(char **dirp)
{
	if (*dirp == NULL)
		return;
	nftw(*dirp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	g_free(*dirp);
	*dirp = NULL;
}

/* Pages are staged in a writer on a scratch file and appended to the caller's at the end. */
struct stage {
	struct fax_writer *target, *w;
	char *dir, *path;
};

static int stage_begin(struct stage *st, struct fax_writer *target, const struct render_options *o,
		       bool drop_blank, const char **error_r)
{
	memset(st, 0, sizeof(*st));
	st->target = target;
	if (fax_writer_max_pages(target) > 0 && fax_writer_pages(target) >= fax_writer_max_pages(target))
		return error_set(error_r, "more than %d pages", fax_writer_max_pages(target));
	st->dir = make_tmpdir(o, error_r);
	if (st->dir == NULL)
		return -1;
	st->path = g_build_filename(st->dir, "stage.tif", NULL);
	const char *error = NULL;
	st->w = fax_writer_create(st->path, fax_writer_geometry(target), &error);
	if (st->w == NULL) {
		fail_with(error_r, NULL, error);
		remove_tree(&st->dir);
		g_free(st->path);
		return -1;
	}
	fax_writer_set_drop_blank(st->w, drop_blank);
	return 0;
}

/* Room for one more page in the target, counting staged ones. */
static int stage_room(struct stage *st, const char **error_r)
{
	int max = fax_writer_max_pages(st->target);
	if (max > 0 && fax_writer_pages(st->target) + fax_writer_pages(st->w) >= max)
		return error_set(error_r, "more than %d pages", max);
	return 0;
}

/* ok: append what was staged (nothing when no page was kept). Always cleans up. */
static int stage_end(struct stage *st, bool ok, const char **error_r)
{
	int ret = ok ? 0 : -1;
	if (ok && fax_writer_pages(st->w) > 0) {
		const char *error = NULL;
		if (fax_writer_close(st->w, &error) < 0 ||
		    fax_writer_add_tiff_from(st->target, st->path, true, &error) < 0)
			ret = fail_with(error_r, NULL, error);
	}
	fax_writer_free(&st->w);
	g_free(st->path);
	st->path = NULL;
	remove_tree(&st->dir);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Plain text */

static uint8_t bit_reverse[256];

static gpointer make_bit_reverse(gpointer unused)
{
	(void)unused;
	for (int i = 0; i < 256; i++) {
		int r = 0;
		for (int b = 0; b < 8; b++)
			if (i & (1 << b))
				r |= 0x80 >> b;
		bit_reverse[i] = (uint8_t)r;
	}
	return NULL;
}

/* Valid UTF-8 with only \n and \f as controls, tabs expanded to 8 columns, CR/CRLF as \n. */
static GString *text_normalise(const char *utf8, size_t len)
{
	char *valid = g_utf8_make_valid(utf8, (gssize)len);
	GString *out = g_string_sized_new(len + len / 8 + 16);
	int col = 0;
	for (const char *p = valid; *p;) {
		gunichar c = g_utf8_get_char(p);
		const char *next = g_utf8_next_char(p);
		if (c == '\r') {
			if (*next != '\n')
				g_string_append_c(out, '\n');
			col = 0;
		} else if (c == '\n' || c == '\f') {
			g_string_append_c(out, (char)c);
			col = 0;
		} else if (c == '\t') {
			do
				g_string_append_c(out, ' ');
			while (++col % 8 != 0);
		} else if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029) {
			g_string_append_c(out, ' '); /* other controls would show as hex boxes */
			col++;
		} else {
			g_string_append_len(out, p, next - p);
			col += g_unichar_iswide(c) ? 2 : 1;
		}
		p = next;
	}
	g_free(valid);
	return out;
}

struct text_job {
	struct stage stage;
	cairo_surface_t *surface;
	cairo_t *cr;
	PangoLayout *layout;
	struct fax_bitmap *page;
	double margin_left, margin_top, text_height; /* points */
	double y;				     /* next line's top, from the text area top */
	bool page_used;				     /* something (even an empty line) is on the page */
};

static void text_clear(struct text_job *t)
{
	cairo_surface_flush(t->surface);
	memset(cairo_image_surface_get_data(t->surface), 0,
	       (size_t)cairo_image_surface_get_stride(t->surface) *
		   (size_t)cairo_image_surface_get_height(t->surface));
	cairo_surface_mark_dirty(t->surface);
	t->y = 0;
	t->page_used = false;
}

static int text_emit(struct text_job *t, const char **error_r)
{
	if (stage_room(&t->stage, error_r) < 0)
		return -1;
	cairo_surface_flush(t->surface);
	const uint8_t *data = cairo_image_surface_get_data(t->surface);
	int stride = cairo_image_surface_get_stride(t->surface);
	/* CAIRO_FORMAT_A1 packs pixels from the least significant bit of native 32-bit words. */
	for (int y = 0; y < t->page->height; y++) {
		const uint8_t *src = data + (size_t)y * (size_t)stride;
		uint8_t *dst = t->page->bits + (size_t)y * t->page->stride;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
		for (size_t i = 0; i < t->page->stride; i++)
			dst[i] = bit_reverse[src[i]];
#else
		memcpy(dst, src, t->page->stride);
#endif
	}
	const char *error = NULL;
	if (fax_writer_add_bitmap(t->stage.w, t->page, &error) < 0)
		return fail_with(error_r, NULL, error);
	text_clear(t);
	return 0;
}

/* Lay out one paragraph and draw its lines, starting pages as needed. */
static int text_paragraph(struct text_job *t, const char *para, int len, const char **error_r)
{
	pango_layout_set_text(t->layout, para, len);
	PangoLayoutIter *it = pango_layout_get_iter(t->layout);
	int ret = 0;
	do {
		PangoRectangle logical;
		pango_layout_iter_get_line_extents(it, NULL, &logical);
		double h = (double)logical.height / PANGO_SCALE;
		double baseline = (double)(pango_layout_iter_get_baseline(it) - logical.y) / PANGO_SCALE;
		PangoLayoutLine *line = pango_layout_iter_get_line_readonly(it);
		if (t->page_used && t->y + h > t->text_height + 0.01) {
			if ((ret = text_emit(t, error_r)) < 0)
				break;
			if (len == 0)
				continue; /* no empty line at the top of a page it overflowed onto */
		}
		if (len > 0) {
			cairo_move_to(t->cr, t->margin_left + (double)logical.x / PANGO_SCALE,
				      t->margin_top + t->y + baseline);
			pango_cairo_show_layout_line(t->cr, line);
		}
		t->y += h;
		t->page_used = true;
	} while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	return ret;
}

static bool all_space(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isspace(p[i]))
			return false;
	return true;
}

static int text_run(struct text_job *t, const GString *text, const char **error_r)
{
	const char *p = text->str, *end = text->str + text->len;
	int pages_begun = 0;
	while (p <= end) {
		const char *ff = memchr(p, '\f', (size_t)(end - p));
		const char *chunk_end = ff ? ff : end;
		bool last = ff == NULL;
		if (last && all_space(p, (size_t)(chunk_end - p)) && pages_begun > 0)
			break; /* trailing newlines after the last form feed */
		/* A final newline ends the last line; it does not start another one. */
		const char *stop = chunk_end;
		if (stop > p && stop[-1] == '\n')
			stop--;
		for (const char *q = p;;) {
			const char *nl = memchr(q, '\n', (size_t)(stop - q));
			const char *para_end = nl ? nl : stop;
			/* Very long paragraphs are laid out in pieces (at a character boundary). */
			while (para_end - q > TEXT_MAX_PARAGRAPH) {
				const char *cut = g_utf8_find_prev_char(q, q + TEXT_MAX_PARAGRAPH);
				if (text_paragraph(t, q, (int)(cut - q), error_r) < 0)
					return -1;
				q = cut;
			}
			if (text_paragraph(t, q, (int)(para_end - q), error_r) < 0)
				return -1;
			if (nl == NULL)
				break;
			q = nl + 1;
		}
		if (text_emit(t, error_r) < 0)
			return -1;
		pages_begun++;
		if (last)
			break;
		p = ff + 1;
	}
	return 0;
}

int render_text(struct fax_writer *w, const struct render_options *o, const char *utf8, size_t len,
		const char **error_r)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, make_bit_reverse, NULL);
	if (len > TEXT_MAX_BYTES)
		return error_set(error_r, "text too large: %zu bytes (limit %u)", len, TEXT_MAX_BYTES);
	const struct fax_geometry *g = fax_writer_geometry(w);
	struct text_job t;
	memset(&t, 0, sizeof(t));
	if (stage_begin(&t.stage, w, o, false, error_r) < 0)
		return -1;
	const double mm = 72 / 25.4;
	double width_pt = FAX_WIDTH * 72.0 / g->x_dpi, height_pt = g->rows * 72.0 / g->y_dpi;
	t.margin_left = 10 * mm;
	t.margin_top = 12 * mm; /* leaves room for the T.30 header line */
	t.text_height = height_pt - t.margin_top - 10 * mm;
	double text_width = width_pt - 2 * 10 * mm;

	t.page = fax_bitmap_new(FAX_WIDTH, g->rows);
	t.surface = cairo_image_surface_create(CAIRO_FORMAT_A1, FAX_WIDTH, g->rows);
	if (t.page == NULL || cairo_surface_status(t.surface) != CAIRO_STATUS_SUCCESS) {
		fax_bitmap_free(&t.page);
		cairo_surface_destroy(t.surface);
		stage_end(&t.stage, false, error_r);
		return error_set(error_r, "out of memory");
	}
	t.cr = cairo_create(t.surface);
	cairo_scale(t.cr, g->x_dpi / 72.0, g->y_dpi / 72.0);
	cairo_set_antialias(t.cr, CAIRO_ANTIALIAS_NONE);
	cairo_set_source_rgba(t.cr, 0, 0, 0, 1);

	PangoFontMap *fontmap = pango_cairo_font_map_get_default(); /* per thread, not ours */
	PangoContext *ctx = pango_font_map_create_context(fontmap);
	pango_cairo_context_set_resolution(ctx, 72);
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_NONE);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	pango_cairo_context_set_font_options(ctx, fo);
	cairo_font_options_destroy(fo);
	t.layout = pango_layout_new(ctx);
	PangoFontDescription *desc =
	    pango_font_description_from_string(o && o->font && *o->font ? o->font : RENDER_TEXT_FONT_DEFAULT);
	if (pango_font_description_get_size(desc) <= 0)
		pango_font_description_set_size(desc, 10 * PANGO_SCALE);
	pango_layout_set_font_description(t.layout, desc);
	pango_font_description_free(desc);
	pango_layout_set_width(t.layout, (int)(text_width * PANGO_SCALE));
	pango_layout_set_wrap(t.layout, PANGO_WRAP_WORD_CHAR);

	GString *text = text_normalise(utf8 ? utf8 : "", utf8 ? len : 0);
	text_clear(&t);
	int ret = text_run(&t, text, error_r);
	g_string_free(text, TRUE);

	g_object_unref(t.layout);
	g_object_unref(ctx);
	cairo_destroy(t.cr);
	cairo_surface_destroy(t.surface);
	fax_bitmap_free(&t.page);
	if (ret < 0) {
		stage_end(&t.stage, false, error_r);
		return -1;
	}
	return stage_end(&t.stage, true, error_r);
}

/* ---------------------------------------------------------------------------------------- */
/* PDF and PostScript through Ghostscript */

enum doc_kind { DOC_UNKNOWN, DOC_PDF, DOC_PS };

static enum doc_kind sniff_document(const char *path, const char **error_r, bool *truncated_r)
{
	*truncated_r = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_set(error_r, "cannot open %s: %s", path, g_strerror(errno));
		return DOC_UNKNOWN;
	}
	char head[1025];
	ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
	enum doc_kind kind = DOC_UNKNOWN;
	if (n > 0) {
		head[n] = '\0';
		const unsigned char *u = (const unsigned char *)head;
		if (memmem(head, (size_t)n, "%PDF-", 5) != NULL)
			kind = DOC_PDF;
		else if ((n >= 2 && head[0] == '%' && head[1] == '!') ||
			 (n >= 3 && u[0] == 0x04 && head[1] == '%' && head[2] == '!') ||
			 (n >= 4 && u[0] == 0xC5 && u[1] == 0xD0 && u[2] == 0xD3 && u[3] == 0xC6))
			kind = DOC_PS;
	}
	if (kind == DOC_PDF) {
		/* ISO 32000-1 §7.5.5: the file ends with %%EOF. A cut-off file does not, and Ghostscript
		   would "repair" it into whatever pages it can find. */
		struct stat st;
		char tail[1024];
		if (fstat(fd, &st) == 0) {
			off_t from = st.st_size > (off_t)sizeof(tail) ? st.st_size - (off_t)sizeof(tail) : 0;
			ssize_t t = pread(fd, tail, sizeof(tail), from);
			if (t <= 0 || memmem(tail, (size_t)t, "%%EOF", 5) == NULL)
				*truncated_r = true;
		}
	}
	close(fd);
	if (kind == DOC_UNKNOWN && n >= 0)
		error_set(error_r, "not a PDF or PostScript file");
	else if (n < 0)
		error_set(error_r, "cannot read %s: %s", path, g_strerror(errno));
	return kind;
}

/* pdfinfo's page count (0 when pdfinfo is not installed), or -1 with the reason. */
static int pdf_info(const char *path, double deadline, int *pages_r, const char **error_r)
{
	*pages_r = 0;
	char *exe = g_find_program_in_path("pdfinfo");
	if (exe == NULL)
		return 0;
	g_free(exe);
	char *arg = arg_path(path);
	const char *argv[] = {"pdfinfo", arg, NULL};
	struct runproc_limits lim = {.timeout_s = (int)ceil(deadline - now_s()),
				     .max_memory_mb = GS_MAX_MEMORY_MB};
	if (lim.timeout_s < 1)
		lim.timeout_s = 1;
	struct runproc_result res;
	const char *error = NULL;
	int ret = runproc_run(argv, &lim, &res, &error);
	g_free(arg);
	if (ret < 0)
		return 0; /* not fatal: Ghostscript decides */
	char reason[200];
	runproc_reason(&res, reason, sizeof(reason));
	if (res.timed_out) {
		ret = error_set(error_r, "PDF check timed out after %d s", lim.timeout_s);
	} else if (res.exit_code != 0) {
		if (strstr(res.output, "assword") != NULL)
			ret = error_set(error_r, "encrypted PDF: it needs a password to open");
		else
			ret = error_set(error_r, "broken PDF: %s", reason[0] ? reason : "pdfinfo cannot read it");
	} else {
		const char *p = strstr(res.output, "\nPages:");
		if (p == NULL && strncmp(res.output, "Pages:", 6) == 0)
			p = res.output - 1;
		if (p != NULL)
			*pages_r = atoi(p + 7);
		if (*pages_r <= 0)
			ret = error_set(error_r, "PDF has no pages");
	}
	runproc_result_clear(&res);
	return ret;
}

int render_pdf(struct fax_writer *w, const struct render_options *o, const char *path, const char **error_r)
{
	const struct fax_geometry *g = fax_writer_geometry(w);
	int timeout = opt_timeout(o);
	double deadline = now_s() + timeout;
	bool truncated;
	enum doc_kind kind = sniff_document(path, error_r, &truncated);
	if (kind == DOC_UNKNOWN)
		return -1;
	if (truncated)
		return error_set(error_r, "truncated PDF: no %%%%EOF at the end");
	int max = fax_writer_max_pages(w), room = max > 0 ? max - fax_writer_pages(w) : 0;
	if (max > 0 && room <= 0)
		return error_set(error_r, "more than %d pages", max);
	int expected = 0;
	if (kind == DOC_PDF) {
		if (pdf_info(path, deadline, &expected, error_r) < 0)
			return -1;
		if (max > 0 && expected > room)
			return error_set(error_r, "more than %d pages", max);
	}

	char *dir = make_tmpdir(o, error_r);
	if (dir == NULL)
		return -1;
	char *out = g_build_filename(dir, "gs.tif", NULL);
	char *a_out = g_strconcat("-sOutputFile=", out, NULL);
	char *a_res = g_strdup_printf("-r%dx%d", g->x_dpi, g->y_dpi);
	char *a_size = g_strdup_printf("-g%dx%d", FAX_WIDTH, g->rows);
	char *a_last = max > 0 ? g_strdup_printf("-dLastPage=%d", room + 1) : NULL;
	char *a_in = arg_path(path);
	char *a_tmp = g_strconcat("TMPDIR=", dir, NULL);
	const char *argv[24];
	int n = 0;
	argv[n++] = "gs";
	argv[n++] = "-q";
	argv[n++] = "-dSAFER";
	argv[n++] = "-dBATCH";
	argv[n++] = "-dNOPAUSE";
	argv[n++] = "-dNOPROMPT";
	argv[n++] = "-dNOINTERPOLATE";
	argv[n++] = "-sDEVICE=tiffg4";
	argv[n++] = a_res;
	argv[n++] = a_size;
	argv[n++] = "-dFIXEDMEDIA";
	argv[n++] = "-dPDFFitPage";
	argv[n++] = "-dPSFitPage";
	if (a_last)
		argv[n++] = a_last;
	argv[n++] = a_out;
	argv[n++] = a_in;
	argv[n] = NULL;
	const char *env[] = {a_tmp, "GS_OPTIONS=", NULL};
	int pages_budget = max > 0 ? room + 1 : 512;
	struct runproc_limits lim = {
	    .timeout_s = (int)ceil(deadline - now_s()),
	    .max_memory_mb = GS_MAX_MEMORY_MB,
	    .max_file_mb = 16 + (size_t)pages_budget * GS_FILE_MB_PER_PAGE,
	    .env = env,
	    .cwd = dir,
	};
	if (lim.timeout_s < 1)
		lim.timeout_s = 1;
	/* Relative input paths are resolved from our directory, not the scratch one. */
	char *abs_in = NULL;
	if (!g_path_is_absolute(path)) {
		char *cwd = g_get_current_dir();
		abs_in = g_build_filename(cwd, path, NULL);
		g_free(cwd);
		argv[n - 1] = abs_in;
	}
	struct runproc_result res;
	const char *error = NULL;
	int ret = 0;
	const char *what = kind == DOC_PDF ? "PDF" : "PostScript";
	if (runproc_run(argv, &lim, &res, &error) < 0) {
		ret = fail_with(error_r, "cannot run Ghostscript: ", error);
		goto out;
	}
	char reason[240];
	runproc_reason(&res, reason, sizeof(reason));
	int produced = 0;
	if (res.timed_out) {
		ret = error_set(error_r, "%s rendering timed out after %d s", what, timeout);
	} else if (res.signal != 0) {
		ret = error_set(error_r, "Ghostscript was killed by signal %d (%s)%s", res.signal,
			   g_strsignal(res.signal), res.signal == SIGXFSZ ? ": output too large" : "");
	} else if (res.exit_code != 0) {
		ret = error_set(error_r, "broken %s: Ghostscript failed: %s", what,
			   reason[0] ? reason : "no reason given");
	} else if (!g_file_test(out, G_FILE_TEST_EXISTS) || (produced = tiffpages_count(out, &error)) <= 0) {
		if (strstr(res.output, "assword") != NULL)
			ret = error_set(error_r, "encrypted PDF: it needs a password to open");
		else
			ret = error_set(error_r, "broken %s: no page could be rendered%s%s", what,
				   reason[0] ? ": " : "", reason);
	} else if (expected > 0 && produced < expected && (max <= 0 || produced <= room)) {
		ret = error_set(error_r, "broken PDF: only %d of %d pages could be rendered%s%s", produced,
			   expected, reason[0] ? ": " : "", reason);
	} else if (max > 0 && produced > room) {
		ret = error_set(error_r, "more than %d pages", max);
	} else if (fax_writer_add_tiff_from(w, out, true, &error) < 0) {
		ret = fail_with(error_r, NULL, error);
	}
	runproc_result_clear(&res);
out:
	remove_tree(&dir);
	g_free(out);
	g_free(a_out);
	g_free(a_res);
	g_free(a_size);
	g_free(a_last);
	g_free(a_in);
	g_free(a_tmp);
	g_free(abs_in);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Images */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* gdk-pixbuf's BMP loader sizes a buffer from the header-size field before it reports the image
   size (a 246-byte file asked for 3.6 GB in fuzzing): only known DIB header sizes get through. */
static bool bmp_header_ok(const uint8_t *d, size_t n)
{
	if (n < 26)
		return false;
	uint32_t data_offset = le32(d + 10), header = le32(d + 14);
	if (header != 12 && header != 16 && header != 40 && header != 52 && header != 56 && header != 64 &&
	    header != 108 && header != 124)
		return false;
	return data_offset <= n && data_offset >= 14 + header;
}

/* gdk-pixbuf's GIF loader trips over frames of zero width or height (GLib criticals, fatal
   under G_DEBUG=fatal-criticals): walk the block structure (GIF89a §17-§24) and refuse those. */
static bool gif_frames_ok(const uint8_t *d, size_t n)
{
	if (n < 13 || (d[6] | d[7]) == 0 || (d[8] | d[9]) == 0)
		return false;
	size_t p = 13;
	if (d[10] & 0x80)
		p += (size_t)3 << ((d[10] & 7) + 1);
	unsigned sw = (unsigned)(d[6] | d[7] << 8), sh = (unsigned)(d[8] | d[9] << 8);
	int frames = 0;
	while (p < n && d[p] != 0x3B) {
		if (d[p] == 0x21) { /* extension: label, then sub-blocks */
			p += 2;
		} else if (d[p] == 0x2C) { /* image descriptor: left, top, width, height */
			if (p + 10 > n)
				return true; /* cut short: the loader reports that */
			unsigned left = (unsigned)(d[p + 1] | d[p + 2] << 8),
				 top = (unsigned)(d[p + 3] | d[p + 4] << 8);
			unsigned fw = (unsigned)(d[p + 5] | d[p + 6] << 8),
				 fh = (unsigned)(d[p + 7] | d[p + 8] << 8);
			if (fw == 0 || fh == 0 || left >= sw || top >= sh || ++frames > 10000)
				return false;
			uint8_t flags = d[p + 9];
			p += 10;
			if (flags & 0x80)
				p += (size_t)3 << ((flags & 7) + 1);
			p++; /* LZW minimum code size */
		} else {
			p++; /* the loader skips stray bytes too */
			continue;
		}
		while (p < n && d[p] != 0) /* sub-blocks */
			p += (size_t)d[p] + 1;
		p++;
	}
	return true;
}

/* The gdk-pixbuf loader for these bytes, by magic number; NULL for anything else (no SVG, XPM,
   ICO, TGA... loaders are ever reached). */
static const char *image_loader(const uint8_t *d, size_t n)
{
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "png";
	if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
		return "jpeg";
	if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
		return "gif";
	if (n >= 2 && d[0] == 'B' && d[1] == 'M')
		return "bmp";
	if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0))
		return "tiff";
	if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
		return "webp";
	return NULL;
}

struct size_check {
	long long max_pixels;
	int width, height;
	bool refused;
	int min_y, max_y; /* rows the decoder delivered */
};

static void on_size_prepared(GdkPixbufLoader *loader, int width, int height, gpointer data)
{
	struct size_check *sc = data;
	sc->width = width;
	sc->height = height;
	if (width <= 0 || height <= 0 || (long long)width * height > sc->max_pixels) {
		/* (an empty image is reported as corrupt by image_decode) */
		sc->refused = true;
		gdk_pixbuf_loader_set_size(loader, 0, 0); /* the loader stops before allocating pixels */
	}
}

/* Loaders hand out pixel memory they have not written yet: make it white, so that a partial
   image never shows stale heap contents. */
static void on_area_prepared(GdkPixbufLoader *loader, gpointer data)
{
	(void)data;
	GdkPixbuf *pb = gdk_pixbuf_loader_get_pixbuf(loader);
	if (pb != NULL)
		gdk_pixbuf_fill(pb, 0xFFFFFFFF);
}

static void on_area_updated(GdkPixbufLoader *loader, int x, int y, int width, int height, gpointer data)
{
	(void)loader;
	(void)x;
	(void)width;
	struct size_check *sc = data;
	if (y < sc->min_y)
		sc->min_y = y;
	if (y + height > sc->max_y)
		sc->max_y = y + height;
}

/* Decode with the declared size checked first. Returns a pixbuf (owned) or NULL with *error_r. */
static GdkPixbuf *image_decode(const void *data, size_t len, long long max_pixels, const char **error_r)
{
	const char *type = image_loader(data, len);
	if (type == NULL) {
		error_set(error_r, "unsupported image format");
		return NULL;
	}
	if ((strcmp(type, "gif") == 0 && !gif_frames_ok(data, len)) ||
	    (strcmp(type, "bmp") == 0 && !bmp_header_ok(data, len))) {
		error_set(error_r, "corrupt %s image: bad header", type);
		return NULL;
	}
	GError *gerr = NULL;
	GdkPixbufLoader *loader = gdk_pixbuf_loader_new_with_type(type, &gerr);
	if (loader == NULL) {
		error_set(error_r, "unsupported image format: no %s loader", type);
		g_clear_error(&gerr);
		return NULL;
	}
	struct size_check sc = {.max_pixels = max_pixels, .min_y = INT_MAX, .max_y = -1};
	g_signal_connect(loader, "size-prepared", G_CALLBACK(on_size_prepared), &sc);
	g_signal_connect(loader, "area-prepared", G_CALLBACK(on_area_prepared), NULL);
	g_signal_connect(loader, "area-updated", G_CALLBACK(on_area_updated), &sc);
	bool ok = gdk_pixbuf_loader_write(loader, data, len, &gerr);
	if (!sc.refused) {
		if (ok)
			ok = gdk_pixbuf_loader_close(loader, &gerr);
		else
			gdk_pixbuf_loader_close(loader, NULL);
	} else {
		gdk_pixbuf_loader_close(loader, NULL);
	}
	GdkPixbuf *pb = NULL;
	if (sc.refused && (sc.width <= 0 || sc.height <= 0)) {
		error_set(error_r, "corrupt %s image: %dx%d pixels", type, sc.width, sc.height);
	} else if (sc.refused) {
		error_set(error_r, "image too large: %dx%d pixels (limit %lld Mpixel)", sc.width, sc.height,
		     max_pixels / 1000000);
	} else if (!ok) {
		error_set(error_r, "corrupt %s image: %s", type, gerr ? gerr->message : "cannot decode");
	} else if ((pb = gdk_pixbuf_loader_get_pixbuf(loader)) == NULL) {
		error_set(error_r, "corrupt %s image: no picture", type);
	} else if (strcmp(type, "gif") != 0 /* frames may cover part of the canvas */ &&
		   (sc.min_y > 0 || sc.max_y < gdk_pixbuf_get_height(pb))) {
		/* The decoder stopped early without saying so (gdk-pixbuf's PNG loader does). */
		pb = NULL;
		error_set(error_r, "truncated %s image", type);
	} else {
		g_object_ref(pb);
		if (gdk_pixbuf_get_bits_per_sample(pb) != 8 ||
		    gdk_pixbuf_get_colorspace(pb) != GDK_COLORSPACE_RGB ||
		    gdk_pixbuf_get_n_channels(pb) < 3) {
			g_clear_object(&pb);
			error_set(error_r, "unsupported %s pixel format", type);
		}
	}
	g_clear_error(&gerr);
	g_object_unref(loader);
	return pb;
}

int render_image_data(struct fax_writer *w, const struct render_options *o, const void *data, size_t len,
		      const char **error_r)
{
	const struct fax_geometry *g = fax_writer_geometry(w);
	if (fax_writer_max_pages(w) > 0 && fax_writer_pages(w) >= fax_writer_max_pages(w))
		return error_set(error_r, "more than %d pages", fax_writer_max_pages(w));
	long long max_pixels = o && o->image_max_pixels > 0 ? o->image_max_pixels : RENDER_IMAGE_MAX_PIXELS;
	GdkPixbuf *src = image_decode(data, len, max_pixels, error_r);
	if (src == NULL)
		return -1;
	GdkPixbuf *oriented = gdk_pixbuf_apply_embedded_orientation(src);
	g_object_unref(src);
	if (oriented == NULL)
		return error_set(error_r, "out of memory");
	int iw = gdk_pixbuf_get_width(oriented), ih = gdk_pixbuf_get_height(oriented);

	/* Fit into the page less margins, square physical pixels, centred. */
	int mx = (int)lround(IMAGE_MARGIN_MM / 25.4 * g->x_dpi),
	    my = (int)lround(IMAGE_MARGIN_MM / 25.4 * g->y_dpi);
	double avail_w = FAX_WIDTH - 2 * mx, avail_h = g->rows - 2 * my; /* device pixels */
	double aspect = (double)g->y_dpi / g->x_dpi; /* rows per column of the same length */
	double s = MIN(avail_w / iw, avail_h / (ih * aspect));
	if (s > IMAGE_MAX_UPSCALE)
		s = IMAGE_MAX_UPSCALE;
	int dw = MAX(1, (int)lround(iw * s)), dh = MAX(1, (int)lround(ih * s * aspect));
	dw = MIN(dw, (int)avail_w);
	dh = MIN(dh, (int)avail_h);
	GdkPixbuf *scaled = gdk_pixbuf_scale_simple(oriented, dw, dh, GDK_INTERP_BILINEAR);
	g_object_unref(oriented);
	if (scaled == NULL)
		return error_set(error_r, "out of memory");

	/* Grey (ITU-R BT.601 luma), transparency over white. */
	int nch = gdk_pixbuf_get_n_channels(scaled), rs = gdk_pixbuf_get_rowstride(scaled);
	bool alpha = gdk_pixbuf_get_has_alpha(scaled);
	const uint8_t *px = gdk_pixbuf_read_pixels(scaled);
	uint8_t *grey = g_try_malloc((size_t)dw * (size_t)dh);
	struct fax_bitmap *page = fax_bitmap_new(FAX_WIDTH, g->rows);
	int ret = 0;
	if (grey == NULL || page == NULL) {
		ret = error_set(error_r, "out of memory");
	} else {
		for (int y = 0; y < dh; y++) {
			const uint8_t *r = px + (size_t)y * (size_t)rs;
			uint8_t *out = grey + (size_t)y * (size_t)dw;
			for (int x = 0; x < dw; x++, r += nch) {
				int l = (299 * r[0] + 587 * r[1] + 114 * r[2] + 500) / 1000;
				if (alpha)
					l = (l * r[3] + 255 * (255 - r[3]) + 127) / 255;
				out[x] = (uint8_t)l;
			}
		}
		int x0 = (FAX_WIDTH - dw) / 2, y0 = (g->rows - dh) / 2;
		if (o && o->halftone)
			dither_floyd_steinberg(grey, dw, dh, (size_t)dw, page, x0, y0);
		else
			dither_clustered(grey, dw, dh, (size_t)dw, page, x0, y0);
		const char *error = NULL;
		if (fax_writer_add_bitmap(w, page, &error) < 0)
			ret = fail_with(error_r, NULL, error);
	}
	g_free(grey);
	fax_bitmap_free(&page);
	g_object_unref(scaled);
	return ret;
}

int render_image(struct fax_writer *w, const struct render_options *o, const char *path, const char **error_r)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return error_set(error_r, "cannot open %s: %s", path, g_strerror(errno));
	if (st.st_size > (off_t)IMAGE_MAX_FILE_BYTES)
		return error_set(error_r, "image file too large: %lld bytes", (long long)st.st_size);
	char *data = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		error_set(error_r, "cannot read %s: %s", path, gerr->message);
		g_error_free(gerr);
		return -1;
	}
	int ret = render_image_data(w, o, data, len, error_r);
	g_free(data);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Fax TIFF */

struct tiff_page_info {
	uint32_t width, height;
	uint16_t bps, spp;
	double x_dpi, y_dpi; /* 0 when the file does not say */
};

static int tiff_quiet(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)user_data;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

static int tiff_keep_error(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)module;
	g_vsnprintf(user_data, 200, fmt, ap);
	return 1;
}

static TIFF *tiff_open_read(const char *path, char *err200)
{
	err200[0] = '\0';
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_keep_error, err200);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_quiet, NULL);
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, 256 << 20);
	TIFF *t = TIFFOpenExt(path, "r", opts);
	TIFFOpenOptionsFree(opts);
	return t;
}

static void tiff_page_info(TIFF *t, struct tiff_page_info *pi)
{
	uint16_t unit = RESUNIT_INCH;
	float xr = 0, yr = 0;
	memset(pi, 0, sizeof(*pi));
	pi->bps = 1;
	pi->spp = 1;
	TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &pi->width);
	TIFFGetField(t, TIFFTAG_IMAGELENGTH, &pi->height);
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &pi->bps);
	TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &pi->spp);
	TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
	if (unit != RESUNIT_NONE && TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr) &&
	    TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr) && xr > 0 && yr > 0 && isfinite(xr) && isfinite(yr)) {
		pi->x_dpi = unit == RESUNIT_CENTIMETER ? xr * 2.54 : xr;
		pi->y_dpi = unit == RESUNIT_CENTIMETER ? yr * 2.54 : yr;
		if (pi->x_dpi < 20 || pi->x_dpi > 2400 || pi->y_dpi < 20 || pi->y_dpi > 2400)
			pi->x_dpi = pi->y_dpi = 0;
	}
}

/* What a page without resolution tags probably is. */
static void guess_resolution(uint32_t width, uint32_t height, double *x_r, double *y_r)
{
	if (width == FAX_WIDTH) {
		*x_r = 204;
		*y_r = height > 3000 ? 391 : height > 1500 ? 196 : 98;
	} else {
		*x_r = *y_r = width / 8.27; /* an A4-wide page */
	}
}

static bool near(double have, double want)
{
	return have >= want * 0.95 && have <= want * 1.05;
}

struct rescale_ctx {
	struct fax_bitmap *page;
	int x0, width; /* where the dw coverages go */
};

static void rescale_row(int dy, const float *cov, void *data)
{
	struct rescale_ctx *c = data;
	if (dy >= c->page->height)
		return;
	uint8_t *row = c->page->bits + (size_t)dy * c->page->stride;
	for (int x = 0; x < c->width && c->x0 + x < c->page->width; x++)
		if (cov[x] >= RESCALE_BLACK_COVERAGE)
			row[(c->x0 + x) >> 3] |= (uint8_t)(0x80 >> ((c->x0 + x) & 7));
}

/* Decode page `p` and draw it re-scaled to the writer's geometry. */
static int rescale_page(struct stage *st, const char *path, int p, const struct tiff_page_info *pi,
			const char **error_r)
{
	const struct fax_geometry *g = fax_writer_geometry(st->w);
	struct tiffpages_bitmap *src = NULL;
	const char *error = NULL;
	if (tiffpages_read(path, p, &src, &error) < 0)
		return error_set(error_r, "corrupt TIFF: page %d: %s", p, error);
	double xd = pi->x_dpi, yd = pi->y_dpi;
	if (xd <= 0 || yd <= 0)
		guess_resolution(pi->width, pi->height, &xd, &yd);
	/* Natural size on the fax grid, then fitted: scale down to the width; to the length only
	   when it is more than 3 % too long (else the white bottom is cut, like gs's 2292 rows
	   against spandsp's 2286). */
	double nat_w = src->width * g->x_dpi / xd, nat_h = src->height * g->y_dpi / yd;
	double s = MIN(1.0, FAX_WIDTH / nat_w);
	if (nat_h * s > g->rows * 1.03)
		s = MIN(s, g->rows / nat_h);
	int dw = MIN(FAX_WIDTH, MAX(1, (int)lround(nat_w * s)));
	int dh = MAX(1, (int)lround(nat_h * s));
	int rows = MIN(dh, g->rows);
	struct fax_bitmap *page = fax_bitmap_new(FAX_WIDTH, rows);
	if (page == NULL) {
		tiffpages_bitmap_free(&src);
		return error_set(error_r, "out of memory");
	}
	struct rescale_ctx c = {.page = page, .x0 = (FAX_WIDTH - dw) / 2, .width = dw};
	bitscale_rows(src->bits, src->stride, src->width, src->height, dw, dh, rescale_row, &c);
	tiffpages_bitmap_free(&src);
	int ret = stage_room(st, error_r);
	if (ret == 0 && fax_writer_add_bitmap(st->w, page, &error) < 0)
		ret = fail_with(error_r, NULL, error);
	fax_bitmap_free(&page);
	return ret;
}

int render_fax_tiff(struct fax_writer *w, const struct render_options *o, const char *path,
		    const char **error_r)
{
	const struct fax_geometry *g = fax_writer_geometry(w);
	char terr[200];
	TIFF *t = tiff_open_read(path, terr);
	if (t == NULL)
		return error_set(error_r, "corrupt TIFF: %s", terr[0] ? terr : "cannot open");
	int n = TIFFNumberOfDirectories(t);
	int max = fax_writer_max_pages(w);
	if (n <= 0) {
		TIFFClose(t);
		return error_set(error_r, "corrupt TIFF: no pages");
	}
	if (max > 0 && fax_writer_pages(w) + n > max) {
		TIFFClose(t);
		return error_set(error_r, "more than %d pages", max);
	}
	struct tiff_page_info *pages = g_new0(struct tiff_page_info, (gsize)n);
	bool pass = true, colour = false;
	int ret = 0;
	for (int p = 0; p < n; p++) {
		if (!TIFFSetDirectory(t, (tdir_t)p)) {
			ret =
			    error_set(error_r, "corrupt TIFF: page %d: %s", p + 1, terr[0] ? terr : "unreadable");
			break;
		}
		struct tiff_page_info *pi = &pages[p];
		tiff_page_info(t, pi);
		if (pi->bps != 1 || pi->spp != 1) {
			colour = true;
			break;
		}
		if (pi->width == 0 || pi->height == 0 || pi->width > TIFF_MAX_SIDE ||
		    pi->height > TIFF_MAX_SIDE) {
			ret = error_set(error_r, "TIFF page %d is %ux%u pixels: not a document page", p + 1,
				   pi->width, pi->height);
			break;
		}
		if (pi->width != FAX_WIDTH || !near(pi->x_dpi, g->x_dpi) || !near(pi->y_dpi, g->y_dpi))
			pass = false;
	}
	TIFFClose(t);
	if (ret == 0 && colour) {
		/* A grey or colour TIFF is a picture: gdk-pixbuf takes its first page. */
		g_free(pages);
		return render_image(w, o, path, error_r);
	}
	if (ret == 0 && pass) {
		const char *error = NULL;
		if (fax_writer_add_tiff(w, path, &error) < 0)
			ret = error_set(error_r, "%s%s", strstr(error, "pages") ? "" : "corrupt TIFF: ", error);
	} else if (ret == 0) {
		struct stage st;
		if (stage_begin(&st, w, o, false, error_r) < 0) {
			ret = -1;
		} else {
			for (int p = 0; p < n && ret == 0; p++)
				ret = rescale_page(&st, path, p + 1, &pages[p], error_r);
			ret = stage_end(&st, ret == 0, error_r);
		}
	}
	g_free(pages);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Office documents */

static char *office_program(void)
{
	char *exe = g_find_program_in_path("libreoffice");
	return exe ? exe : g_find_program_in_path("soffice");
}

bool render_office_available(void)
{
	char *exe = office_program();
	g_free(exe);
	return exe != NULL;
}

/* ext: the type to tell LibreOffice ("docx", "html"...), or NULL to keep the file's own name. */
static int office_convert(struct fax_writer *w, const struct render_options *o, const char *path,
			  const char *ext, const char **error_r)
{
	char *exe = office_program();
	if (exe == NULL)
		return error_set(error_r, "unsupported type: LibreOffice is not installed");
	int timeout = opt_timeout(o);
	char *dir = make_tmpdir(o, error_r);
	if (dir == NULL) {
		g_free(exe);
		return -1;
	}
	/* The input under a name that says what it is (LibreOffice picks its import filter by it). */
	char *in = NULL;
	char *cwd = g_get_current_dir();
	char *abs = g_path_is_absolute(path) ? g_strdup(path) : g_build_filename(cwd, path, NULL);
	g_free(cwd);
	if (ext != NULL) {
		char *name = g_strconcat("document.", ext, NULL);
		in = g_build_filename(dir, name, NULL);
		g_free(name);
	} else {
		char *base = g_path_get_basename(path);
		in = g_build_filename(dir, base[0] == '-' || base[0] == '.' ? "document" : base, NULL);
		if (strchr(base, '.') != NULL && (base[0] == '-' || base[0] == '.')) {
			g_free(in);
			char *name = g_strconcat("document", strrchr(base, '.'), NULL);
			in = g_build_filename(dir, name, NULL);
			g_free(name);
		}
		g_free(base);
	}
	char *profile = g_build_filename(dir, "profile", NULL);
	char *outdir = g_build_filename(dir, "out", NULL);
	char *a_env = g_strconcat("-env:UserInstallation=file://", profile, NULL);
	char *home = g_strconcat("HOME=", dir, NULL), *tmp = g_strconcat("TMPDIR=", dir, NULL);
	int ret = 0;
	if (symlink(abs, in) < 0) {
		ret = error_set(error_r, "cannot link %s: %s", path, g_strerror(errno));
		goto out;
	}
	/* HTML goes through Writer's own import (Writer/Web's drops headings), then the PDF export. */
	bool html = ext != NULL && strcmp(ext, "html") == 0;
	const char *argv[20];
	int n = 0;
	argv[n++] = exe;
	argv[n++] = "--headless";
	argv[n++] = "--invisible";
	argv[n++] = "--nocrashreport";
	argv[n++] = "--nodefault";
	argv[n++] = "--nofirststartwizard";
	argv[n++] = "--nologo";
	argv[n++] = "--norestore";
	argv[n++] = "--nolockcheck";
	argv[n++] = a_env;
	if (html)
		argv[n++] = "--infilter=HTML (StarWriter)";
	argv[n++] = "--convert-to";
	argv[n++] = html ? "pdf:writer_pdf_Export" : "pdf";
	argv[n++] = "--outdir";
	argv[n++] = outdir;
	argv[n++] = in;
	argv[n] = NULL;
	/* No fetching of remote images or links (web bugs, requests into our network): a network
	   namespace without interfaces where the kernel allows it, and a dead proxy in any case. */
	const char *env[] = {home,
			     tmp,
			     "http_proxy=http://127.0.0.1:9",
			     "https_proxy=http://127.0.0.1:9",
			     "HTTP_PROXY=http://127.0.0.1:9",
			     "HTTPS_PROXY=http://127.0.0.1:9",
			     "ftp_proxy=http://127.0.0.1:9",
			     "all_proxy=http://127.0.0.1:9",
			     "no_proxy=",
			     NULL};
	struct runproc_limits lim = {
	    .timeout_s = timeout, .max_file_mb = 1024, .env = env, .cwd = dir, .no_network = true};
	struct runproc_result res;
	const char *error = NULL;
	double start = now_s();
	if (runproc_run(argv, &lim, &res, &error) < 0) {
		ret = fail_with(error_r, "cannot run LibreOffice: ", error);
		goto out;
	}
	char reason[200];
	runproc_reason(&res, reason, sizeof(reason));
	char *pdf = NULL;
	GDir *d = g_dir_open(outdir, 0, NULL);
	for (const char *e; d && (e = g_dir_read_name(d)) != NULL;)
		if (g_str_has_suffix(e, ".pdf") && pdf == NULL)
			pdf = g_build_filename(outdir, e, NULL);
	if (d)
		g_dir_close(d);
	if (res.timed_out)
		ret = error_set(error_r, "document conversion timed out after %d s", timeout);
	else if (pdf == NULL)
		ret = error_set(error_r, "LibreOffice cannot convert the document%s%s", reason[0] ? ": " : "",
			   reason);
	runproc_result_clear(&res);
	if (ret == 0) {
		struct render_options left = o ? *o : (struct render_options){0};
		left.timeout_s = MAX(5, timeout - (int)(now_s() - start));
		ret = render_pdf(w, &left, pdf, error_r);
	}
	g_free(pdf);
out:
	remove_tree(&dir);
	g_free(exe);
	g_free(in);
	g_free(abs);
	g_free(profile);
	g_free(outdir);
	g_free(a_env);
	g_free(home);
	g_free(tmp);
	return ret;
}

int render_office(struct fax_writer *w, const struct render_options *o, const char *path,
		  const char **error_r)
{
	return office_convert(w, o, path, NULL, error_r);
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch */

enum kind { KIND_NONE, KIND_TEXT, KIND_PDF, KIND_IMAGE, KIND_TIFF, KIND_OFFICE };

static const struct {
	const char *type; /* content type, or ".ext" */
	enum kind kind;
	const char *ext; /* for LibreOffice */
} types[] = {
    {"text/plain", KIND_TEXT, NULL},
    {"application/pdf", KIND_PDF, NULL},
    {"application/x-pdf", KIND_PDF, NULL},
    {"application/postscript", KIND_PDF, NULL},
    {"application/ps", KIND_PDF, NULL},
    {"image/png", KIND_IMAGE, NULL},
    {"image/jpeg", KIND_IMAGE, NULL},
    {"image/jpg", KIND_IMAGE, NULL},
    {"image/pjpeg", KIND_IMAGE, NULL},
    {"image/gif", KIND_IMAGE, NULL},
    {"image/bmp", KIND_IMAGE, NULL},
    {"image/x-bmp", KIND_IMAGE, NULL},
    {"image/x-ms-bmp", KIND_IMAGE, NULL},
    {"image/webp", KIND_IMAGE, NULL},
    {"image/tiff", KIND_TIFF, NULL},
    {"image/tif", KIND_TIFF, NULL},
    {"image/x-tiff", KIND_TIFF, NULL},
    {"application/tiff", KIND_TIFF, NULL},
    {"text/html", KIND_OFFICE, "html"},
    {"application/xhtml+xml", KIND_OFFICE, "html"},
    {"application/rtf", KIND_OFFICE, "rtf"},
    {"text/rtf", KIND_OFFICE, "rtf"},
    {"application/msword", KIND_OFFICE, "doc"},
    {"application/vnd.ms-excel", KIND_OFFICE, "xls"},
    {"application/vnd.ms-powerpoint", KIND_OFFICE, "ppt"},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", KIND_OFFICE, "docx"},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", KIND_OFFICE, "xlsx"},
    {"application/vnd.openxmlformats-officedocument.presentationml.presentation", KIND_OFFICE, "pptx"},
    {"application/vnd.oasis.opendocument.text", KIND_OFFICE, "odt"},
    {"application/vnd.oasis.opendocument.spreadsheet", KIND_OFFICE, "ods"},
    {"application/vnd.oasis.opendocument.presentation", KIND_OFFICE, "odp"},
    {"text/csv", KIND_OFFICE, "csv"},
    {".txt", KIND_TEXT, NULL},
    {".text", KIND_TEXT, NULL},
    {".pdf", KIND_PDF, NULL},
    {".ps", KIND_PDF, NULL},
    {".eps", KIND_PDF, NULL},
    {".png", KIND_IMAGE, NULL},
    {".jpg", KIND_IMAGE, NULL},
    {".jpeg", KIND_IMAGE, NULL},
    {".gif", KIND_IMAGE, NULL},
    {".bmp", KIND_IMAGE, NULL},
    {".webp", KIND_IMAGE, NULL},
    {".tif", KIND_TIFF, NULL},
    {".tiff", KIND_TIFF, NULL},
    {".htm", KIND_OFFICE, "html"},
    {".html", KIND_OFFICE, "html"},
    {".rtf", KIND_OFFICE, "rtf"},
    {".doc", KIND_OFFICE, "doc"},
    {".docx", KIND_OFFICE, "docx"},
    {".xls", KIND_OFFICE, "xls"},
    {".xlsx", KIND_OFFICE, "xlsx"},
    {".ppt", KIND_OFFICE, "ppt"},
    {".pptx", KIND_OFFICE, "pptx"},
    {".odt", KIND_OFFICE, "odt"},
    {".ods", KIND_OFFICE, "ods"},
    {".odp", KIND_OFFICE, "odp"},
    {".csv", KIND_OFFICE, "csv"},
};

static enum kind lookup_kind(const char *key, const char **ext_r)
{
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
		if (g_ascii_strcasecmp(key, types[i].type) == 0) {
			*ext_r = types[i].ext;
			return types[i].kind;
		}
	return KIND_NONE;
}

/* By the first bytes, for application/octet-stream without a telling name. */
static enum kind sniff_kind(const char *path, const char **ext_r)
{
	uint8_t head[512];
	*ext_r = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return KIND_NONE;
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (n >= 5 && memmem(head, n, "%PDF-", 5) != NULL)
		return KIND_PDF;
	if (n >= 2 && head[0] == '%' && head[1] == '!')
		return KIND_PDF;
	if (n >= 4 && (memcmp(head, "II*\0", 4) == 0 || memcmp(head, "MM\0*", 4) == 0))
		return KIND_TIFF;
	if (image_loader(head, n) != NULL)
		return KIND_IMAGE;
	if (n >= 5 && memcmp(head, "{\\rtf", 5) == 0) {
		*ext_r = "rtf";
		return KIND_OFFICE;
	}
	/* Plain text under a generic type (a .md, .log or .csv sent as octet-stream): no NUL and
	   valid UTF-8, a character cut at the end of the sample allowed. */
	const gchar *bad = NULL;
	if (n > 0 && memchr(head, '\0', n) == NULL &&
	    (g_utf8_validate((const gchar *)head, (gssize)n, &bad) || (size_t)((const uint8_t *)bad - head) + 4 > n))
		return KIND_TEXT;
	return KIND_NONE;
}

static int render_text_file(struct fax_writer *w, const struct render_options *o, const char *path,
			    const char *charset, const char **error_r)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return error_set(error_r, "cannot open %s: %s", path, g_strerror(errno));
	if (st.st_size > (off_t)TEXT_MAX_BYTES)
		return error_set(error_r, "text too large: %lld bytes (limit %u)", (long long)st.st_size,
			    TEXT_MAX_BYTES);
	char *data = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		error_set(error_r, "cannot read %s: %s", path, gerr->message);
		g_error_free(gerr);
		return -1;
	}
	if (charset && *charset && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "utf8") != 0 && g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		gsize out_len = 0;
		char *conv =
		    g_convert_with_fallback(data, (gssize)len, "UTF-8", charset, "?", NULL, &out_len, NULL);
		if (conv != NULL) {
			g_free(data);
			data = conv;
			len = out_len;
		}
	}
	int ret = render_text(w, o, data, len, error_r);
	g_free(data);
	return ret;
}

int render_file(struct fax_writer *w, const struct render_options *o, const char *path,
		const char *content_type, const char *filename, const char **error_r)
{
	/* "Type/Subtype; charset=x" → "type/subtype" and the charset. */
	char type[128] = "", charset[64] = "";
	if (content_type != NULL) {
		size_t i = 0;
		const char *p = content_type;
		while (*p == ' ' || *p == '\t')
			p++;
		for (; *p && *p != ';' && *p != ' ' && *p != '\t' && i + 1 < sizeof(type); p++)
			type[i++] = g_ascii_tolower(*p);
		type[i] = '\0';
		const char *cs = strstr(content_type, "charset=");
		if (cs != NULL) {
			cs += 8;
			if (*cs == '"')
				cs++;
			size_t j = 0;
			for (; *cs && *cs != '"' && *cs != ';' && *cs != ' ' && j + 1 < sizeof(charset); cs++)
				charset[j++] = *cs;
			charset[j] = '\0';
		}
	}
	const char *ext = NULL;
	enum kind kind = type[0] ? lookup_kind(type, &ext) : KIND_NONE;
	bool generic = type[0] == '\0' || strcmp(type, "application/octet-stream") == 0 ||
		       strcmp(type, "application/binary") == 0 || strcmp(type, "application/unknown") == 0;
	if (kind == KIND_NONE && generic) {
		const char *dot = filename ? strrchr(filename, '.') : NULL;
		if (dot != NULL)
			kind = lookup_kind(dot, &ext);
		if (kind == KIND_NONE)
			kind = sniff_kind(path, &ext);
	}
	switch (kind) {
	case KIND_TEXT:
		return render_text_file(w, o, path, charset, error_r);
	case KIND_PDF:
		return render_pdf(w, o, path, error_r);
	case KIND_IMAGE:
		return render_image(w, o, path, error_r);
	case KIND_TIFF:
		return render_fax_tiff(w, o, path, error_r);
	case KIND_OFFICE:
		return office_convert(w, o, path, ext, error_r);
	case KIND_NONE:
		break;
	}
	return error_set(error_r, "unsupported type: %s", type[0] ? type : "unknown");
}

/* ---------------------------------------------------------------------------------------- */
/* Fax to PDF */

struct pdf_out {
	FILE *f;
	GArray *offsets; /* of objects 1.. (index 0 unused) */
	bool io_error;
};

static int pdf_new_obj(struct pdf_out *p)
{
	int64_t zero = 0;
	g_array_append_val(p->offsets, zero);
	return (int)p->offsets->len - 1;
}

static void pdf_begin_obj(struct pdf_out *p, int num)
{
	g_array_index(p->offsets, int64_t, num) = (int64_t)ftello(p->f);
	fprintf(p->f, "%d 0 obj\n", num);
}

static void pdf_write(struct pdf_out *p, const void *data, size_t len)
{
	if (len > 0 && fwrite(data, 1, len, p->f) != len)
		p->io_error = true;
}

static char *num(char *buf, double v)
{
	return g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.4f", v);
}

/* One image XObject: raw CCITT data (decode_parms set) or Flate data of 1 = black rows. */
static void pdf_image(struct pdf_out *p, int obj, uint32_t width, uint32_t rows, const char *filter,
		      const char *decode_parms, const char *extra, const uint8_t *data, size_t len)
{
	pdf_begin_obj(p, obj);
	fprintf(p->f,
		"<< /Type /XObject /Subtype /Image /Width %u /Height %u /BitsPerComponent 1 /ColorSpace "
		"/DeviceGray "
		"/Filter /%s%s%s%s /Length %zu >>\nstream\n",
		width, rows, filter, decode_parms ? " /DecodeParms " : "", decode_parms ? decode_parms : "",
		extra, len);
	pdf_write(p, data, len);
	fputs("\nendstream\nendobj\n", p->f);
}

/* One page: strips embedded as they are when CCITT-coded, else the decoded page Flate-coded. */
static int pdf_page(struct pdf_out *p, TIFF *t, int page, int pages_obj, GString *kids, const char **error_r)
{
	struct tiff_page_info pi;
	tiff_page_info(t, &pi);
	uint16_t comp = COMPRESSION_NONE, photo = PHOTOMETRIC_MINISWHITE, fill = FILLORDER_MSB2LSB;
	uint32_t g3opts = 0, rps = 0;
	TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &comp);
	TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
	TIFFGetFieldDefaulted(t, TIFFTAG_FILLORDER, &fill);
	TIFFGetField(t, TIFFTAG_GROUP3OPTIONS, &g3opts);
	TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rps);
	if (pi.bps != 1 || pi.spp != 1)
		return error_set(error_r, "page %d is not black and white", page);
	if (pi.width == 0 || pi.height == 0 || pi.width > TIFF_MAX_SIDE || pi.height > TIFF_MAX_SIDE)
		return error_set(error_r, "page %d is %ux%u pixels", page, pi.width, pi.height);
	if (TIFFIsTiled(t))
		return error_set(error_r, "page %d is tiled", page);
	if (photo != PHOTOMETRIC_MINISWHITE && photo != PHOTOMETRIC_MINISBLACK)
		return error_set(error_r, "page %d has photometric %u", page, photo);
	double xd = pi.x_dpi, yd = pi.y_dpi;
	if (xd <= 0 || yd <= 0)
		guess_resolution(pi.width, pi.height, &xd, &yd);
	double pw = pi.width * 72.0 / xd, ph = pi.height * 72.0 / yd;
	if (rps == 0 || rps > pi.height)
		rps = pi.height;
	tstrip_t nstrips = TIFFNumberOfStrips(t);
	bool ccitt =
	    comp == COMPRESSION_CCITTFAX4 || comp == COMPRESSION_CCITTFAX3 || comp == COMPRESSION_CCITTRLE;
	if (ccitt && nstrips != (pi.height + rps - 1) / rps)
		ccitt = false;
	if (comp == COMPRESSION_CCITTFAX3 && (g3opts & GROUP3OPT_UNCOMPRESSED))
		ccitt = false;
	uint64_t *sizes = NULL;
	if (ccitt && (!TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &sizes) || sizes == NULL))
		ccitt = false;

	GString *content = g_string_new(NULL);
	GString *xobjs = g_string_new(NULL);
	int page_obj = pdf_new_obj(p);
	g_string_append_printf(kids, "%d 0 R ", page_obj);
	char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];
	int ret = 0;
	if (ccitt) {
		int k = comp == COMPRESSION_CCITTFAX4	  ? -1
			: comp == COMPRESSION_CCITTRLE	  ? 0
			: (g3opts & GROUP3OPT_2DENCODING) ? 1
							  : 0;
		for (tstrip_t s = 0; s < nstrips && ret == 0; s++) {
			uint32_t row0 = s * rps, rows = MIN(rps, pi.height - row0);
			if (sizes[s] == 0 || sizes[s] > (uint64_t)64 << 20) {
				ret = error_set(error_r, "page %d: bad strip size", page);
				break;
			}
			uint8_t *raw = g_malloc((gsize)sizes[s]);
			tmsize_t got = TIFFReadRawStrip(t, s, raw, (tmsize_t)sizes[s]);
			if (got <= 0) {
				g_free(raw);
				ret = error_set(error_r, "page %d: cannot read strip %u", page, s);
				break;
			}
			if (fill == FILLORDER_LSB2MSB) /* PDF wants the first bit in the high bit */
				TIFFReverseBits(raw, got);
			char parms[160];
			g_snprintf(parms, sizeof(parms), "<< /K %d /Columns %u /Rows %u%s%s >>", k, pi.width,
				   rows, photo == PHOTOMETRIC_MINISBLACK ? " /BlackIs1 true" : "",
				   comp == COMPRESSION_CCITTRLE ? " /EncodedByteAlign true" : "");
			int img = pdf_new_obj(p);
			pdf_image(p, img, pi.width, rows, "CCITTFaxDecode", parms, "", raw, (size_t)got);
			g_free(raw);
			g_string_append_printf(xobjs, "/I%u %d 0 R ", s, img);
			g_string_append_printf(content, "q %s 0 0 %s 0 %s cm /I%u Do Q\n", num(a, pw),
					       num(b, rows * 72.0 / yd),
					       num(c, ph - (row0 + rows) * 72.0 / yd), s);
		}
	} else {
		/* Decode (libtiff hides fill order and coding), normalise to 1 = black, Flate. */
		size_t row_bytes = (pi.width + 7) / 8;
		tmsize_t sl = TIFFScanlineSize(t);
		uint8_t *bits = g_try_malloc0(row_bytes * pi.height);
		uint8_t *row = g_try_malloc0((gsize)MAX(sl, (tmsize_t)row_bytes));
		if (bits == NULL || row == NULL)
			ret = error_set(error_r, "out of memory");
		for (uint32_t y = 0; ret == 0 && y < pi.height; y++) {
			if (TIFFReadScanline(t, row, y, 0) < 0) {
				ret = error_set(error_r, "page %d cannot be decoded", page);
				break;
			}
			for (size_t i = 0; i < row_bytes; i++)
				bits[y * row_bytes + i] =
				    photo == PHOTOMETRIC_MINISBLACK ? (uint8_t)~row[i] : row[i];
		}
		if (ret == 0) {
			uLongf zlen = compressBound((uLong)(row_bytes * pi.height));
			uint8_t *z = g_malloc(zlen);
			if (compress2(z, &zlen, bits, (uLong)(row_bytes * pi.height), 6) != Z_OK) {
				ret = error_set(error_r, "page %d: compression failed", page);
			} else {
				int img = pdf_new_obj(p);
				pdf_image(p, img, pi.width, pi.height, "FlateDecode", NULL, " /Decode [1 0]",
					  z, zlen);
				g_string_append_printf(xobjs, "/I0 %d 0 R ", img);
				g_string_append_printf(content, "q %s 0 0 %s 0 0 cm /I0 Do Q\n", num(a, pw),
						       num(b, ph));
			}
			g_free(z);
		}
		g_free(bits);
		g_free(row);
	}
	if (ret == 0) {
		int content_obj = pdf_new_obj(p);
		pdf_begin_obj(p, content_obj);
		fprintf(p->f, "<< /Length %zu >>\nstream\n", content->len);
		pdf_write(p, content->str, content->len);
		fputs("\nendstream\nendobj\n", p->f);
		pdf_begin_obj(p, page_obj);
		fprintf(
		    p->f,
		    "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /XObject << %s>> >> "
		    "/Contents %d 0 R >>\nendobj\n",
		    pages_obj, num(a, pw), num(b, ph), xobjs->str, content_obj);
	}
	g_string_free(content, TRUE);
	g_string_free(xobjs, TRUE);
	return ret;
}

int fax_to_pdf(const char *tiff_path, const char *pdf_path, const char **error_r)
{
	char terr[200];
	TIFF *t = tiff_open_read(tiff_path, terr);
	if (t == NULL)
		return error_set(error_r, "corrupt TIFF: %s", terr[0] ? terr : "cannot open");
	int n = TIFFNumberOfDirectories(t);
	if (n <= 0) {
		TIFFClose(t);
		return error_set(error_r, "corrupt TIFF: no pages");
	}
	struct pdf_out p = {.offsets = g_array_new(FALSE, TRUE, sizeof(int64_t))};
	p.f = fopen(pdf_path, "wbe");
	if (p.f == NULL) {
		TIFFClose(t);
		g_array_free(p.offsets, TRUE);
		return error_set(error_r, "cannot create %s: %s", pdf_path, g_strerror(errno));
	}
	pdf_new_obj(&p); /* index 0: the free entry */
	int catalog = pdf_new_obj(&p), pages = pdf_new_obj(&p), info = pdf_new_obj(&p);
	fputs("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", p.f);
	GString *kids = g_string_new(NULL);
	int ret = 0;
	for (int i = 0; i < n && ret == 0; i++) {
		if (!TIFFSetDirectory(t, (tdir_t)i)) {
			ret =
			    error_set(error_r, "corrupt TIFF: page %d: %s", i + 1, terr[0] ? terr : "unreadable");
			break;
		}
		ret = pdf_page(&p, t, i + 1, pages, kids, error_r);
	}
	TIFFClose(t);
	if (ret == 0) {
		pdf_begin_obj(&p, pages);
		fprintf(p.f, "<< /Type /Pages /Kids [ %s] /Count %d >>\nendobj\n", kids->str, n);
		pdf_begin_obj(&p, catalog);
		fprintf(p.f, "<< /Type /Catalog /Pages %d 0 R >>\nendobj\n", pages);
		pdf_begin_obj(&p, info);
		fputs("<< /Producer (faxgate) >>\nendobj\n", p.f);
		int64_t xref = (int64_t)ftello(p.f);
		fprintf(p.f, "xref\n0 %u\n0000000000 65535 f \n", p.offsets->len);
		for (guint i = 1; i < p.offsets->len; i++)
			fprintf(p.f, "%010lld 00000 n \n", (long long)g_array_index(p.offsets, int64_t, i));
		fprintf(p.f, "trailer\n<< /Size %u /Root %d 0 R /Info %d 0 R >>\nstartxref\n%lld\n%%%%EOF\n",
			p.offsets->len, catalog, info, (long long)xref);
	}
	g_string_free(kids, TRUE);
	g_array_free(p.offsets, TRUE);
	bool io_ok = !p.io_error && !ferror(p.f);
	if (fclose(p.f) != 0)
		io_ok = false;
	if (ret == 0 && !io_ok)
		ret = error_set(error_r, "cannot write %s: %s", pdf_path, g_strerror(errno));
	if (ret < 0)
		unlink_regular(pdf_path);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Preview */

struct preview_ctx {
	uint8_t *grey;
	int width;
};

static void preview_row(int dy, const float *cov, void *data)
{
	struct preview_ctx *c = data;
	uint8_t *row = c->grey + (size_t)dy * (size_t)c->width;
	for (int x = 0; x < c->width; x++) {
		float v = 255.0f * (1.0f - cov[x]);
		row[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
	}
}

int fax_preview_png(const char *tiff_path, int page, const char *png_path, const char **error_r)
{
	char terr[200];
	TIFF *t = tiff_open_read(tiff_path, terr);
	if (t == NULL)
		return error_set(error_r, "corrupt TIFF: %s", terr[0] ? terr : "cannot open");
	if (page < 1 || !TIFFSetDirectory(t, (tdir_t)(page - 1))) {
		TIFFClose(t);
		return error_set(error_r, "no page %d", page);
	}
	struct tiff_page_info pi;
	tiff_page_info(t, &pi);
	TIFFClose(t);
	if (pi.bps != 1 || pi.spp != 1)
		return error_set(error_r, "page %d is not black and white", page);
	if (pi.width == 0 || pi.height == 0 || pi.width > TIFF_MAX_SIDE || pi.height > TIFF_MAX_SIDE)
		return error_set(error_r, "page %d is %ux%u pixels", page, pi.width, pi.height);
	struct tiffpages_bitmap *bm = NULL;
	const char *error = NULL;
	if (tiffpages_read(tiff_path, page, &bm, &error) < 0)
		return error_set(error_r, "corrupt TIFF: page %d: %s", page, error);
	double xd = pi.x_dpi, yd = pi.y_dpi;
	if (xd <= 0 || yd <= 0)
		guess_resolution(pi.width, pi.height, &xd, &yd);
	int dw = MAX(1, (int)lround(bm->width * PREVIEW_DPI / xd));
	int dh = MAX(1, (int)lround(bm->height * PREVIEW_DPI / yd));
	struct preview_ctx c = {.grey = g_malloc((size_t)dw * (size_t)dh), .width = dw};
	bitscale_rows(bm->bits, bm->stride, bm->width, bm->height, dw, dh, preview_row, &c);
	tiffpages_bitmap_free(&bm);
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)dw;
	img.height = (png_uint_32)dh;
	img.format = PNG_FORMAT_GRAY;
	int ret = 0;
	if (!png_image_write_to_file(&img, png_path, 0, c.grey, dw, NULL)) {
		ret = error_set(error_r, "cannot write %s: %s", png_path, img.message);
		unlink_regular(png_path);
	}
	png_image_free(&img);
	g_free(c.grey);
	return ret;
}
