/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The cover template filler: an SVG 1.1 document with {{field}} placeholders in, the filled
 * document out. No I/O: the caller reads the file and renders the result. It also finds the
 * note area (the <text id="note"> element), breaks text into the lines that fit there, and
 * fits text boxes (<text data-width=...>) by shrinking or, as a last resort, an ellipsis.
 * Text is measured with Pango, the library librsvg lays text out with, unhinted.
 */
#ifndef COVERPAGES_COVER_TEMPLATE_H
#define COVERPAGES_COVER_TEMPLATE_H

#include <stddef.h>

/* Text boxes are shrunk down to this fraction of their font size before they are cut. */
#define COVER_TEMPLATE_MIN_SCALE 0.7
/* Line height when neither data-line-height nor a CSS line-height says: font size times this. */
#define COVER_TEMPLATE_LINE_HEIGHT 1.25
/* Text is measured this much narrower than the box, against rounding in the renderer. */
#define COVER_TEMPLATE_WIDTH_SLACK 0.985

/* Field values for the placeholders. lookup returns the value of a field (UTF-8, not escaped;
   borrowed until the fill returns) or NULL when the field is unknown. */
struct cover_template_fields {
	const char *(*lookup)(void *context, const char *name);
	void *context;
};

struct cover_template;

/* Parse svg (a copy is kept). NULL with *error_r (static) when a <text> element is not closed,
   or the note area is incomplete (no data-width, or neither data-lines nor data-height). */
struct cover_template *cover_template_create(const char *svg, size_t len, const char **error_r);
/* Accepts NULL, clears *tp. */
void cover_template_free(struct cover_template **tp);

/* Lines the note area holds, 0 when the template has none. */
int cover_template_note_lines(const struct cover_template *t);
/* Break text (UTF-8, '\n' between paragraphs) into the lines of one page's note area, as many
   as fit. *lines_r: a NULL-terminated g_strfreev() vector of the lines (white space at the
   breaks dropped); *used_r: the bytes of text they took; the rest starts there (the caller
   skips its leading line breaks). Returns the number of lines. */
int cover_template_note_layout(const struct cover_template *t, const char *text, char ***lines_r,
			       size_t *used_r);
/* The filled document: every {{...}} replaced (values XML-escaped, line breaks as spaces),
   the note element's content replaced by note_lines (n lines, may be 0), text boxes fitted.
   g_free() the result; *len_r its length. */
char *cover_template_fill(const struct cover_template *t, const struct cover_template_fields *f,
			  const char *const *note_lines, int n, size_t *len_r);

/* Expand the {{...}} placeholders of a plain text (no escaping, line breaks kept). g_free(). */
char *cover_template_expand(const char *text, const struct cover_template_fields *f);

#endif
