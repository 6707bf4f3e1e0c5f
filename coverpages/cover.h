/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fax cover pages from SVG templates (SVG 1.1, rendered with librsvg) and the text of the
 * per-page header line (ITU-T T.30 page header, spandsp's t30_set_tx_page_header_info, at most
 * 50 characters). docs/coverpages.md describes the templates, the fields and the note area.
 *
 * The render worker builds the document pages first, then calls cover_render() with the real
 * page count and puts the cover pages first. cover_create() and the cover_page_*() functions are
 * the same work in steps, for tests, previews and logging.
 *
 * Error texts (const char **error_r) are static or live in a buffer of the calling thread, valid
 * until its next cover_* call; cover_render() may also pass on the writer's (valid until its next
 * call).
 */
#ifndef COVERPAGES_COVER_H
#define COVERPAGES_COVER_H

#include <glib.h>
#include <stdint.h>

#include "render/faxwriter.h"

/* Limits (named defaults). */
#define COVER_MAX_PAGES 25		   /* cover + continuation pages; a longer note is an error */
#define COVER_TEMPLATE_MAX_BYTES (4 << 20) /* a template file larger than this is refused */
#define COVER_TEMPLATE_NAME_MAX 64	   /* A-Z a-z 0-9 . _ -, not starting with "." */
#define COVER_HEADER_INFO_MAX 50	   /* spandsp T30_MAX_PAGE_HEADER_INFO */
#define COVER_HEADER_DEFAULT "FROM {{sender_name}} TO {{recipient_name}}"

struct cover_request {
	const char *template_name; /* "default" (also NULL or "") or a name; resolved in the template dirs */
	const char *const *template_dirs; /* NULL-terminated, searched in order before the built-in
					     templates: e.g. {"/etc/faxgate/covers",
					     "<share>/covers", NULL}; NULL = built-in only */
	GHashTable *fields;		  /* field -> value (UTF-8), the job's fields; NULL = none */
	int document_pages;		  /* pages after the cover ("pages" = document_pages + cover pages) */
	int64_t date;			  /* Unix time for {{date}} / {{time}} */
	const char *tzid;		  /* time zone (e.g. "Europe/Berlin"); NULL = local */
	const char *language;		  /* "en" (default, NULL); the only language so far */
};

/* Render the cover (1 page, or more when the note continues: never cut silently) and append it to
   w at geometry g (NULL = w's). *pages_r = cover pages. 0, or -1 with *error_r (unknown template,
   bad SVG, a note longer than COVER_MAX_PAGES pages); an unknown {{x}} is not an error (empty). */
int cover_render(const struct cover_request *req, struct fax_writer *w, const struct fax_geometry *g,
		 int *pages_r, const char **error_r);

/* The per-page header line info for spandsp (t30_set_tx_page_header_info: at most 50 printable
   ASCII characters; spandsp prints date, time, its ident and the page number around it). tmpl is
   the X-Fax-Header-Line value ({{field}} placeholders, and the %d %m %Y %y %H %M %n %% codes of
   docs/x-fax-headers.md), NULL for the default COVER_HEADER_DEFAULT. An empty name falls back to
   the company, then to the fax number. Longer text is cut at a word boundary. NULL for "none"
   (or a template that expands to nothing). g_free() the result. %-codes use the current time. */
char *cover_header_info(const char *tmpl, GHashTable *fields);
/* The same at a given time (Unix seconds) and zone (NULL = local). */
char *cover_header_info_at(const char *tmpl, GHashTable *fields, int64_t now, const char *tzid);

/* --- The same work in steps ------------------------------------------------------------- */

struct cover;

/* Resolve the template for this paper, lay out the note over as many pages as it needs and fill
   every page's SVG. NULL with *error_r when the template is unknown or unusable. */
struct cover *cover_create(const struct cover_request *req, enum fax_paper paper, const char **error_r);
/* Accepts NULL, clears *cp. */
void cover_free(struct cover **cp);

/* Cover pages (1 + continuation pages). */
int cover_pages(const struct cover *c);
/* Where the first page's template came from: a path, or "builtin:default-a4". Borrowed. */
const char *cover_source(const struct cover *c);
/* The filled SVG of page n (0 = the cover, 1.. continuation pages), NUL-terminated; borrowed
   until cover_free(). NULL when n is out of range. */
const char *cover_page_svg(const struct cover *c, int n, size_t *len_r);
/* The note lines laid out on page n, as placed (UTF-8, not escaped); *count_r lines. Borrowed
   until cover_free(); NULL and 0 when the page holds no note. */
const char *const *cover_page_note(const struct cover *c, int n, int *count_r);
/* Render page n at geometry g to a 1-bit page of exactly g->width x g->rows (the template is
   scaled to its physical size, centred, reduced to fit when larger than the page). */
struct fax_bitmap *cover_page_bitmap(const struct cover *c, int n, const struct fax_geometry *g,
				     const char **error_r);

#endif
