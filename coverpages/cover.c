/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fax cover pages: pick the template, lay the note out over the cover and as many continuation
 * pages as it needs, fill the fields, render each page with librsvg (SVG 1.1) at the fax
 * resolution and make it 1 bit for ITU-T T.4/T.6 coding; and the per-page header line text for
 * spandsp (ITU-T T.30 page header, 50 characters at most).
 *
 * Templates. A job names a template family ("default", or NAME from X-Fax-Cover, the profile or
 * the configuration). For paper P (a4, letter, legal) the cover page is the first of NAME-P.svg,
 * (for legal also NAME-letter.svg), NAME.svg found in the template folders, in their order, then
 * among the built-in templates. The continuation page is found the same way under the name
 * NAME-continued, and failing that default-continued. So a site overrides a built-in template
 * by putting a file of the same name in /etc/faxgate/covers.
 *
 * The note is X-Fax-Cover-Note (cover_note) and/or the mail body the worker passes (body_text).
 * What does not fit in the cover's note area goes on continuation pages; nothing is dropped, and
 * a note that would need more than COVER_MAX_PAGES pages is an error rather than a cut.
 *
 * Rendering. The template is drawn at its physical size (its width/height, at 96 CSS px per
 * inch), centred across the 1728 pixels and reduced when it is larger than the page (A4 is
 * 1687 px wide, Letter 1734 px; the T.30 header line takes rows off the page), as
 * research/rendering.md §6 does for documents. The fax grid is not square (204 dpi across,
 * 98/196/391 down), but librsvg must draw at a uniform scale: under a non-uniform one it misplaces
 * anchored text (text-anchor="end" ran off the page at 204 x 98). So it draws antialiased at the
 * finer of the two resolutions in both directions, and the grey image is area-averaged down to
 * the fax grid. Then pixels of flat grey (fills) are dithered with a clustered dot and all others
 * thresholded with a bias to ink, so that thin strokes survive at 98 dpi.
 *
 * A file template is loaded with its own file as base, so it may refer to images next to it
 * (librsvg allows files in that folder and below); a built-in template has no base and may
 * refer to nothing outside itself.
 */
#include "coverpages/cover.h"

#include "common/error.h"

#include "coverpages/cover_builtin.h"
#include "coverpages/cover_template.h"

#include <cairo.h>
#include <math.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <librsvg/rsvg.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TAB_WIDTH 8
#define INK_THRESHOLD 160 /* grey level (0 black .. 255 white) below which an edge pixel is ink */
#define FLAT_DELTA 6	  /* neighbours within this many grey levels: a flat area, dithered */
#define FLAT_MIN 40	  /* flat areas darker than this are simply black, */
#define FLAT_MAX 232	  /* lighter than this simply white */

struct cover_page {
	char *svg;
	size_t len;
	char *path;  /* the template file (base for relative references), NULL when built in */
	char **note; /* NULL-terminated */
	int note_count;
};

struct cover {
	char *source;
	int pages;
	struct cover_page *page;
};

/* A template as found: its text and where it came from. */
struct found {
	char *svg;
	size_t len;
	char *path;   /* NULL for a built-in one */
	char *source; /* path or "builtin:NAME" */
};

static void found_clear(struct found *f)
{
	g_free(f->svg);
	g_free(f->path);
	g_free(f->source);
	memset(f, 0, sizeof(*f));
}

static const char *paper_name(enum fax_paper paper)
{
	switch (paper) {
	case FAX_PAPER_LETTER:
		return "letter";
	case FAX_PAPER_LEGAL:
		return "legal";
	case FAX_PAPER_A4:
	default:
		return "a4";
	}
}

/* A template name as X-Fax-Cover allows it: A-Z a-z 0-9 . _ -, not starting with ".", so it
   never leaves the template folders. */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > COVER_TEMPLATE_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return false;
	return true;
}

/* 1 found, 0 not found, -1 a file exists but cannot be used (*error_r). */
static int find_template(const struct cover_request *req, const char *name, enum fax_paper paper,
			 struct found *out, const char **error_r)
{
	char *cands[4];
	int n = 0;
	cands[n++] = g_strdup_printf("%s-%s", name, paper_name(paper));
	if (paper == FAX_PAPER_LEGAL)
		cands[n++] = g_strdup_printf("%s-letter", name);
	cands[n++] = g_strdup(name);
	cands[n] = NULL;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	for (const char *const *dir = req->template_dirs; dir && *dir && rc == 0; dir++) {
		for (int i = 0; i < n && rc == 0; i++) {
			char *file = g_strconcat(cands[i], ".svg", NULL);
			char *path = g_build_filename(*dir, file, NULL);
			g_free(file);
			GStatBuf st;
			if (g_stat(path, &st) != 0) {
				g_free(path);
				continue;
			}
			GError *err = NULL;
			if (!S_ISREG(st.st_mode)) {
				*error_r = error_format("cover template %s: not a file", path);
				rc = -1;
			} else if (st.st_size > COVER_TEMPLATE_MAX_BYTES) {
				*error_r = error_format("cover template %s: larger than %d bytes", path,
						     COVER_TEMPLATE_MAX_BYTES);
				rc = -1;
			} else if (!g_file_get_contents(path, &out->svg, &out->len, &err)) {
				*error_r = error_format("cover template %s: %s", path, err->message);
				g_error_free(err);
				rc = -1;
			} else {
				out->path = g_strdup(path);
				out->source = g_strdup(path);
				rc = 1;
			}
			g_free(path);
		}
	}
	for (int i = 0; i < n && rc == 0; i++) {
		const char *svg = cover_builtin_find(cands[i]);
		if (svg) {
			out->svg = g_strdup(svg);
			out->len = strlen(svg);
			out->source = g_strconcat("builtin:", cands[i], NULL);
			rc = 1;
		}
	}
	for (int i = 0; i < n; i++)
		g_free(cands[i]);
	return rc;
}

/* ---- Fields ------------------------------------------------------------------------------ */

struct lookup {
	GHashTable *fields;   /* the job's, borrowed; may be NULL */
	GHashTable *computed; /* ours: date, pages, ... */
};

static const char *field(GHashTable *fields, const char *name)
{
	const char *v = fields ? g_hash_table_lookup(fields, name) : NULL;
	if (!v)
		return NULL;
	for (const char *p = v; *p; p++)
		if (!g_ascii_isspace(*p))
			return v;
	return NULL;
}

static const char *lookup_field(void *context, const char *name)
{
	struct lookup *l = context;
	const char *v = g_hash_table_lookup(l->computed, name);
	return v ? v : field(l->fields, name);
}

static void put(GHashTable *h, const char *name, char *value)
{
	g_hash_table_replace(h, g_strdup(name), value);
}

static GDateTime *date_time(int64_t t, const char *tzid)
{
	GDateTime *utc = g_date_time_new_from_unix_utc(t);
	if (!utc)
		utc = g_date_time_new_from_unix_utc(0);
	GTimeZone *tz = tzid ? g_time_zone_new_identifier(tzid) : g_time_zone_new_local();
	if (!tz)
		tz = g_time_zone_new_utc(); /* an unknown zone is not worth failing a fax for */
	GDateTime *dt = g_date_time_to_timezone(utc, tz);
	g_time_zone_unref(tz);
	g_date_time_unref(utc);
	return dt;
}

static void put_dates(GHashTable *h, int64_t t, const char *tzid)
{
	static const char *const months[] = {"January",	  "February", "March",	  "April",
					     "May",	  "June",     "July",	  "August",
					     "September", "October",  "November", "December"};
	GDateTime *dt = date_time(t, tzid);
	put(h, "date", g_date_time_format(dt, "%Y-%m-%d"));
	put(h, "time", g_date_time_format(dt, "%H:%M"));
	put(h, "timezone", g_strdup(g_date_time_get_timezone_abbreviation(dt)));
	put(h, "date_long",
	    g_strdup_printf("%d %s %d", g_date_time_get_day_of_month(dt),
			    months[g_date_time_get_month(dt) - 1], g_date_time_get_year(dt)));
	put(h, "datetime",
	    g_strdup_printf("%s %s %s", (char *)g_hash_table_lookup(h, "date"),
			    (char *)g_hash_table_lookup(h, "time"),
			    (char *)g_hash_table_lookup(h, "timezone")));
	g_date_time_unref(dt);
}

/* The note as laid out: cover_note, then body_text, as UTF-8 with '\n' line ends, tabs
   expanded, no control characters, no trailing blanks, runs of blank lines made one. */
static char *note_text(GHashTable *fields)
{
	const char *parts[2] = {field(fields, "cover_note"), field(fields, "body_text")};
	GString *out = g_string_new(NULL);
	for (int i = 0; i < 2; i++) {
		if (!parts[i])
			continue;
		if (out->len)
			g_string_append(out, "\n\n");
		char *valid = g_utf8_make_valid(parts[i], -1);
		int col = 0;
		for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
			gunichar c = g_utf8_get_char(p);
			if (c == '\r' && p[1] == '\n')
				continue;
			if (c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0x2028 || c == 0x2029) {
				while (out->len && out->str[out->len - 1] == ' ')
					g_string_truncate(out, out->len - 1);
				g_string_append_c(out, '\n');
				col = 0;
			} else if (c == '\t') {
				do
					g_string_append_c(out, ' ');
				while (++col % TAB_WIDTH);
			} else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0xFFFE || c == 0xFFFF) {
				g_string_append_c(out, ' ');
				col++;
			} else {
				g_string_append_len(out, p, g_utf8_next_char(p) - p);
				col++;
			}
		}
		g_free(valid);
	}
	/* no blank lines before or after, every run of them made one */
	while (out->len && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	char **lines = g_strsplit(out->str, "\n", -1);
	g_string_free(out, TRUE);
	GString *clean = g_string_new(NULL);
	bool blank = false;
	for (char **l = lines; *l; l++) {
		if (**l == '\0') {
			blank = clean->len > 0;
			continue;
		}
		if (clean->len)
			g_string_append(clean, blank ? "\n\n" : "\n");
		g_string_append(clean, *l);
		blank = false;
	}
	g_strfreev(lines);
	return g_string_free(clean, FALSE);
}

/* ---- Building the cover ------------------------------------------------------------------ */

static void page_clear(struct cover_page *p)
{
	g_free(p->svg);
	g_free(p->path);
	g_strfreev(p->note);
}

void cover_free(struct cover **cp)
{
	struct cover *c = cp ? *cp : NULL;
	if (!c)
		return;
	for (int i = 0; i < c->pages; i++)
		page_clear(&c->page[i]);
	g_free(c->page);
	g_free(c->source);
	g_free(c);
	*cp = NULL;
}

struct cover *cover_create(const struct cover_request *req, enum fax_paper paper, const char **error_r)
{
	const char *name = req->template_name;
	if (!name || !*name || g_ascii_strcasecmp(name, "default") == 0)
		name = "default";
	if (!name_ok(name)) {
		char shown[COVER_TEMPLATE_NAME_MAX + 1];
		size_t i = 0;
		for (; name[i] && i < COVER_TEMPLATE_NAME_MAX; i++) /* printable, for the log */
			shown[i] = name[i] > 0x20 && name[i] < 0x7F ? name[i] : '?';
		shown[i] = '\0';
		*error_r = error_format("cover template name \"%s\": expected letters, digits, . _ -", shown);
		return NULL;
	}

	struct found first, cont = {0};
	int rc = find_template(req, name, paper, &first, error_r);
	if (rc == 0)
		*error_r = error_format("cover template \"%s\" not found (looked for %s-%s.svg and %s.svg)",
				     name, name, paper_name(paper), name);
	if (rc <= 0)
		return NULL;
	struct cover_template *t1 = cover_template_create(first.svg, first.len, error_r), *t2 = NULL;
	if (!t1) {
		*error_r = error_format("cover template %s: %s", first.source, *error_r);
		found_clear(&first);
		return NULL;
	}

	/* Lay the note out: the cover's note area, then continuation pages. */
	char *note = note_text(req->fields);
	GPtrArray *page_lines = g_ptr_array_new(); /* char ** per page */
	char **lines;
	size_t used;
	const char *rest = note;
	cover_template_note_layout(t1, rest, &lines, &used);
	g_ptr_array_add(page_lines, lines);
	rest += used;
	const char *error = NULL;
	while (!error) {
		while (*rest == '\n')
			rest++;
		if (!*rest)
			break;
		if (!t2) {
			char *cname = g_strconcat(name, "-continued", NULL);
			rc = find_template(req, cname, paper, &cont, &error);
			if (rc == 0)
				rc = find_template(req, "default-continued", paper, &cont, &error);
			g_free(cname);
			if (rc == 0)
				error = error_format("no continuation page template for \"%s\"", name);
			if (rc <= 0)
				break;
			t2 = cover_template_create(cont.svg, cont.len, &error);
			if (!t2) {
				error = error_format("cover template %s: %s", cont.source, error);
				break;
			}
			if (cover_template_note_lines(t2) == 0) {
				error = error_format("cover template %s: no note area (<text id=\"note\">)",
						  cont.source);
				break;
			}
		}
		if (page_lines->len >= COVER_MAX_PAGES) {
			error = error_format("the note needs more than %d cover pages", COVER_MAX_PAGES);
			break;
		}
		int n = cover_template_note_layout(t2, rest, &lines, &used);
		if (n == 0 || used == 0) {
			g_strfreev(lines);
			error = error_format("cover template %s: the note area holds no text", cont.source);
			break;
		}
		g_ptr_array_add(page_lines, lines);
		rest += used;
	}
	if (error) {
		*error_r = error;
		for (guint i = 0; i < page_lines->len; i++)
			g_strfreev(g_ptr_array_index(page_lines, i));
		g_ptr_array_free(page_lines, TRUE);
		cover_template_free(&t1);
		cover_template_free(&t2);
		found_clear(&first);
		found_clear(&cont);
		g_free(note);
		return NULL;
	}

	/* Fill each page. */
	struct cover *c = g_new0(struct cover, 1);
	c->pages = (int)page_lines->len;
	c->page = g_new0(struct cover_page, (gsize)c->pages);
	c->source = g_strdup(first.source);
	struct lookup l = {req->fields, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
	put_dates(l.computed, req->date, req->tzid);
	put(l.computed, "document_pages", g_strdup_printf("%d", MAX(req->document_pages, 0)));
	put(l.computed, "pages", g_strdup_printf("%d", MAX(req->document_pages, 0) + c->pages));
	put(l.computed, "cover_pages", g_strdup_printf("%d", c->pages));
	const char *subject = field(req->fields, "cover_subject");
	if (!subject)
		subject = field(req->fields, "subject");
	if (subject)
		put(l.computed, "cover_subject", g_strdup(subject));
	struct cover_template_fields f = {lookup_field, &l};
	for (int i = 0; i < c->pages; i++) {
		struct cover_page *p = &c->page[i];
		p->note = g_ptr_array_index(page_lines, (guint)i);
		p->note_count = (int)g_strv_length(p->note);
		p->path = g_strdup(i == 0 ? first.path : cont.path);
		put(l.computed, "cover_page", g_strdup_printf("%d", i + 1));
		put(l.computed, "note_more",
		    g_strdup(i + 1 < c->pages ? "(continued on the next page)" : ""));
		p->svg = cover_template_fill(i == 0 ? t1 : t2, &f, (const char *const *)p->note,
					     p->note_count, &p->len);
	}
	g_hash_table_destroy(l.computed);
	g_ptr_array_free(page_lines, TRUE);
	cover_template_free(&t1);
	cover_template_free(&t2);
	found_clear(&first);
	found_clear(&cont);
	g_free(note);
	return c;
}

int cover_pages(const struct cover *c)
{
	return c->pages;
}

const char *cover_source(const struct cover *c)
{
	return c->source;
}

const char *cover_page_svg(const struct cover *c, int n, size_t *len_r)
{
	if (n < 0 || n >= c->pages)
		return NULL;
	if (len_r)
		*len_r = c->page[n].len;
	return c->page[n].svg;
}

const char *const *cover_page_note(const struct cover *c, int n, int *count_r)
{
	*count_r = 0;
	if (n < 0 || n >= c->pages || c->page[n].note_count == 0)
		return NULL;
	*count_r = c->page[n].note_count;
	return (const char *const *)c->page[n].note;
}

/* ---- Rendering ----------------------------------------------------------------------------- */

/* The grey levels (0 black .. 255 white) of an RGB24 surface. */
static uint8_t *grey_of(cairo_surface_t *s)
{
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const uint8_t *data = cairo_image_surface_get_data(s);
	uint8_t *grey = g_malloc((size_t)w * (size_t)h);
	for (int y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			uint32_t px = row[x];
			unsigned r = (px >> 16) & 0xFF, g = (px >> 8) & 0xFF, b = px & 0xFF;
			grey[(size_t)y * (size_t)w + (size_t)x] = (uint8_t)((r * 77 + g * 151 + b * 28) >> 8);
		}
	}
	return grey;
}

/* Area-average a w x h grey image down to dw x dh (dw <= w, dh <= h): rows first, each output
   row a weighted sum of whole source rows, so memory is read in order. */
static uint8_t *reduce(const uint8_t *grey, int w, int h, int dw, int dh)
{
	uint8_t *rows = g_malloc((size_t)w * (size_t)dh);
	float *acc = g_malloc(sizeof(float) * (size_t)MAX(w, 1));
	double step = (double)h / dh;
	for (int i = 0; i < dh; i++) {
		double a = i * step, b = a + step;
		memset(acc, 0, sizeof(float) * (size_t)w);
		for (int k = (int)a; k < h && k < b; k++) {
			float weight = (float)((MIN(b, k + 1.0) - MAX(a, (double)k)) / step);
			const uint8_t *src = grey + (size_t)k * (size_t)w;
			if (weight > 0)
				for (int x = 0; x < w; x++)
					acc[x] += weight * src[x];
		}
		uint8_t *dst = rows + (size_t)i * (size_t)w;
		for (int x = 0; x < w; x++)
			dst[x] = (uint8_t)MIN(acc[x] + 0.5f, 255.0f);
	}
	g_free(acc);
	if (dw == w)
		return rows;
	uint8_t *out = g_malloc((size_t)dw * (size_t)dh);
	step = (double)w / dw;
	for (int y = 0; y < dh; y++) {
		const uint8_t *src = rows + (size_t)y * (size_t)w;
		uint8_t *dst = out + (size_t)y * (size_t)dw;
		for (int i = 0; i < dw; i++) {
			double a = i * step, b = a + step, sum = 0;
			for (int k = (int)a; k < w && k < b; k++)
				sum += (MIN(b, k + 1.0) - MAX(a, (double)k)) * src[k];
			dst[i] = (uint8_t)MIN(sum / step + 0.5, 255.0);
		}
	}
	g_free(rows);
	return out;
}

/* Grey levels to bits: flat grey (a fill) dithered with a 4x4 clustered dot, the rest (text,
   lines, their antialiased edges) thresholded. */
static void to_bitmap(const uint8_t *grey, struct fax_bitmap *b)
{
	static const uint8_t dot[4][4] = {{12, 5, 6, 13}, {4, 0, 1, 7}, {11, 3, 2, 8}, {15, 10, 9, 14}};
	int w = b->width, h = b->height;
	for (int y = 0; y < h; y++) {
		const uint8_t *row = grey + (size_t)y * (size_t)w;
		uint8_t *out = b->bits + (size_t)y * b->stride;
		for (int x = 0; x < w; x++) {
			int v = row[x];
			bool ink;
			if (v >= FLAT_MIN && v <= FLAT_MAX) {
				bool flat = (x == 0 || abs(row[x - 1] - v) <= FLAT_DELTA) &&
					    (x == w - 1 || abs(row[x + 1] - v) <= FLAT_DELTA) &&
					    (y == 0 || abs(row[x - w] - v) <= FLAT_DELTA) &&
					    (y == h - 1 || abs(row[x + w] - v) <= FLAT_DELTA);
				ink = flat ? v < dot[y & 3][x & 3] * 16 + 8 : v < INK_THRESHOLD;
			} else
				ink = v < INK_THRESHOLD;
			if (ink)
				out[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
		}
	}
}

struct fax_bitmap *cover_page_bitmap(const struct cover *c, int n, const struct fax_geometry *g,
				     const char **error_r)
{
	if (n < 0 || n >= c->pages) {
		*error_r = "cover page out of range";
		return NULL;
	}
	if (g->width <= 0 || g->rows <= 0 || g->x_dpi <= 0 || g->y_dpi <= 0) {
		*error_r = "bad page geometry";
		return NULL;
	}
	const struct cover_page *p = &c->page[n];
	GError *err = NULL;
	GInputStream *in = g_memory_input_stream_new_from_data(p->svg, (gssize)p->len, NULL);
	GFile *base = p->path ? g_file_new_for_path(p->path) : NULL;
	RsvgHandle *h = rsvg_handle_new_from_stream_sync(in, base, RSVG_HANDLE_FLAGS_NONE, NULL, &err);
	g_object_unref(in);
	if (base)
		g_object_unref(base);
	if (!h) {
		*error_r = error_format("cover template %s: %s", c->source, err ? err->message : "bad SVG");
		g_clear_error(&err);
		return NULL;
	}
	rsvg_handle_set_dpi(h, 96);
	double wpx, hpx; /* CSS px, 96 per inch */
	if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &wpx, &hpx) || wpx <= 0 || hpx <= 0) {
		/* no absolute size: the template is meant to fill the paper */
		static const double size[][2] = {{793.7, 1122.5}, {816, 1056}, {816, 1344}};
		int i = g->paper == FAX_PAPER_LETTER ? 1 : g->paper == FAX_PAPER_LEGAL ? 2 : 0;
		wpx = size[i][0];
		hpx = size[i][1];
	}
	/* librsvg draws at a uniform scale: under a non-uniform one it places anchored text
	   (text-anchor="end") wrongly. So draw at dpi x dpi, the finer of the two, and reduce. */
	int dpi = MAX(g->x_dpi, g->y_dpi);
	int sw = (int)lround((double)g->width * dpi / g->x_dpi),
	    sh = (int)lround((double)g->rows * dpi / g->y_dpi);
	double dw = wpx / 96 * dpi, dh = hpx / 96 * dpi;
	double f = 1.0;
	if (dw > sw)
		f = sw / dw;
	if (dh * f > sh)
		f = sh / dh;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, sw, sh);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_translate(cr, (sw - dw * f) / 2, 0);
	cairo_scale(cr, f * dpi / 96, f * dpi / 96);
	RsvgRectangle vp = {0, 0, wpx, hpx};
	gboolean ok = rsvg_handle_render_document(h, cr, &vp, &err);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	g_object_unref(h);
	struct fax_bitmap *b = NULL;
	if (!ok || st != CAIRO_STATUS_SUCCESS) {
		*error_r = error_format("cover template %s: %s", c->source,
				     err ? err->message : cairo_status_to_string(st));
		g_clear_error(&err);
	} else if (!(b = fax_bitmap_new(g->width, g->rows))) {
		*error_r = "out of memory for a cover page";
	} else {
		cairo_surface_flush(s);
		uint8_t *grey = grey_of(s);
		if (sw != g->width || sh != g->rows) {
			uint8_t *r = reduce(grey, sw, sh, g->width, g->rows);
			g_free(grey);
			grey = r;
		}
		to_bitmap(grey, b);
		g_free(grey);
	}
	cairo_surface_destroy(s);
	return b;
}

int cover_render(const struct cover_request *req, struct fax_writer *w, const struct fax_geometry *g,
		 int *pages_r, const char **error_r)
{
	*pages_r = 0;
	if (!g)
		g = fax_writer_geometry(w);
	struct cover *c = cover_create(req, g->paper, error_r);
	if (!c)
		return -1;
	/* Every page first, so that a failure leaves the writer as it was. */
	struct fax_bitmap **bm = g_new0(struct fax_bitmap *, (gsize)c->pages);
	int rc = 0;
	for (int i = 0; i < c->pages && rc == 0; i++)
		if (!(bm[i] = cover_page_bitmap(c, i, g, error_r)))
			rc = -1;
	for (int i = 0; i < c->pages && rc == 0; i++)
		rc = fax_writer_add_bitmap(w, bm[i], error_r);
	if (rc == 0)
		*pages_r = c->pages;
	for (int i = 0; i < c->pages; i++)
		fax_bitmap_free(&bm[i]);
	g_free(bm);
	cover_free(&c);
	return rc;
}

/* ---- The header line ------------------------------------------------------------------------ */

static const char *header_lookup(void *context, const char *name)
{
	static const char *const sender[] = {"sender_name", "sender_company", "sender_fax", "sender_phone",
					     NULL};
	static const char *const recipient[] = {"recipient_name", "recipient_company", "number", NULL};
	GHashTable *fields = context;
	const char *v = field(fields, name);
	if (v)
		return v;
	const char *const *chain = strcmp(name, sender[0]) == 0	     ? sender
				   : strcmp(name, recipient[0]) == 0 ? recipient
								     : NULL;
	for (int i = 1; chain && chain[i]; i++)
		if ((v = field(fields, chain[i])))
			return v;
	return NULL;
}

/* The %-codes of X-Fax-Header-Line (docs/x-fax-headers.md). */
static char *percent_codes(const char *tmpl, GHashTable *fields, int64_t now, const char *tzid)
{
	GString *out = g_string_new(NULL);
	GDateTime *dt = NULL;
	for (const char *p = tmpl; *p; p++) {
		if (*p != '%' || !p[1]) {
			g_string_append_c(out, *p);
			continue;
		}
		const char *fmt = NULL;
		switch (p[1]) {
		case 'd':
			fmt = "%d";
			break;
		case 'm':
			fmt = "%m";
			break;
		case 'Y':
			fmt = "%Y";
			break;
		case 'y':
			fmt = "%y";
			break;
		case 'H':
			fmt = "%H";
			break;
		case 'M':
			fmt = "%M";
			break;
		case 'n': {
			const char *num = field(fields, "number");
			g_string_append(out, num ? num : "");
			p++;
			continue;
		}
		case '%':
			g_string_append_c(out, '%');
			p++;
			continue;
		default:
			g_string_append_c(out, '%');
			continue;
		}
		if (!dt)
			dt = date_time(now, tzid);
		char *s = g_date_time_format(dt, fmt);
		g_string_append(out, s);
		g_free(s);
		p++;
	}
	if (dt)
		g_date_time_unref(dt);
	return g_string_free(out, FALSE);
}

char *cover_header_info_at(const char *tmpl, GHashTable *fields, int64_t now, const char *tzid)
{
	if (!tmpl)
		tmpl = COVER_HEADER_DEFAULT;
	char *t = g_strstrip(g_strdup(tmpl));
	if (g_ascii_strcasecmp(t, "none") == 0) {
		g_free(t);
		return NULL;
	}
	char *coded = percent_codes(t, fields, now, tzid);
	g_free(t);
	struct cover_template_fields f = {header_lookup, fields};
	char *expanded = cover_template_expand(coded, &f);
	g_free(coded);
	/* spandsp prints the header with its own ASCII font: transliterate, then keep printable
	   ASCII, one space between words */
	char *valid = g_utf8_make_valid(expanded, -1);
	g_free(expanded);
	GString *ascii = g_string_new(NULL);
	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		if ((unsigned char)*p < 0x80) {
			g_string_append_c(ascii, *p);
			continue;
		}
		char *one = g_strndup(p, (gsize)(g_utf8_next_char(p) - p));
		char *tr = g_str_to_ascii(one, "C"); /* "ü" -> "u", "Æ" -> "AE", "中" -> "?" */
		g_string_append(ascii, strcmp(tr, "?") == 0 ? " " : tr);
		g_free(tr);
		g_free(one);
	}
	g_free(valid);
	GString *out = g_string_new(NULL);
	for (const char *p = ascii->str; *p; p++) {
		char c = *p >= 0x21 && *p <= 0x7E ? *p : ' ';
		if (c == ' ' && (out->len == 0 || out->str[out->len - 1] == ' '))
			continue;
		g_string_append_c(out, c);
	}
	g_string_free(ascii, TRUE);
	if (out->len > COVER_HEADER_INFO_MAX) {
		size_t cut = COVER_HEADER_INFO_MAX;
		if (out->str[cut] != ' ') {
			while (cut > 0 && out->str[cut - 1] != ' ')
				cut--;
			if (cut == 0) /* one long word */
				cut = COVER_HEADER_INFO_MAX;
		}
		g_string_truncate(out, cut);
	}
	while (out->len && strchr(" ,;:-/", out->str[out->len - 1]))
		g_string_truncate(out, out->len - 1);
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

char *cover_header_info(const char *tmpl, GHashTable *fields)
{
	return cover_header_info_at(tmpl, fields, g_get_real_time() / G_USEC_PER_SEC, NULL);
}
