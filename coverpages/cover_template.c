/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The cover template filler (SVG 1.1, XML 1.0): placeholders, the note area and text boxes.
 *
 * A template is an SVG document. Three things in it are ours, all documented for template
 * authors in docs/coverpages.md:
 *
 *   {{name}}            a placeholder, in text or in an attribute value; "{{a|b|'text'}}" takes
 *                       the first alternative that is not empty. The value is XML-escaped, so a
 *                       name like <Tom & "Jerry"> cannot break the document; control characters
 *                       and line breaks become spaces (SVG 1.1 would drop a line break, gluing
 *                       the words on either side together). Unknown fields are empty.
 *   <text id="note" data-width=".." data-lines=".."|data-height="..">
 *                       the note area: its content is replaced by the lines of the note that fit
 *                       on this page, one <tspan x y> per line, with xml:space="preserve".
 *   <text data-width=".." [data-lines=".."]>
 *                       a text box: after filling, text wider than data-width is shrunk (down to
 *                       COVER_TEMPLATE_MIN_SCALE of its size), wrapped onto data-lines lines
 *                       (default 1), and only then cut with an ellipsis.
 *
 * librsvg 2.54 knows no SVG 2 text wrapping (inline-size, shape-inside), so we break lines
 * ourselves, measuring with Pango as librsvg does (unhinted metrics, fonts from fontconfig). The
 * font is read from the element itself (attributes or its style attribute); what it inherits is
 * not seen, so when the element names no font-family or font-size we write the ones we measured
 * with onto it. Measurement happens at a fixed large size and is scaled back, so that glyph
 * rounding does not depend on the template's user units (points, millimetres, pixels).
 *
 * This is not an XML parser: it finds <text> elements and placeholders in the text, skipping
 * comments, CDATA sections, processing instructions and the DOCTYPE, and respects quoted
 * attribute values. Everything else is copied as it is; librsvg judges the result.
 */
#include "coverpages/cover_template.h"

#include <glib.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PLACEHOLDER_MAX 512    /* longest {{...}} read as a placeholder */
#define MEASURE_SIZE 100.0     /* text is measured at this font size (Pango device units) */
#define DEFAULT_FONT_SIZE 12.0 /* librsvg's "medium" in user units */
#define DEFAULT_FONT_FAMILY "sans-serif"

struct attr {
	char *name;
	char *value; /* as written (entities not decoded) */
	char quote;
};

struct element {
	size_t start;	    /* the '<' of <text */
	size_t tag_end;	    /* after the '>' of the start tag */
	size_t content_end; /* the '<' of </text> (= tag_end when self-closing) */
	size_t end;	    /* after the '>' of </text> */
	bool self_closing;
	GPtrArray *attrs; /* struct attr * */
};

struct font {
	char *family; /* CSS list as Pango reads it ("DejaVu Sans,sans-serif"), never NULL */
	bool family_given, size_given;
	double size; /* user units */
	double letter_spacing;
	PangoWeight weight;
	PangoStyle style;
	PangoStretch stretch;
};

/* A note area or text box, in the user units of its element. */
struct box {
	struct font font;
	double x, y;
	double width, line_height;
	int lines;
};

struct cover_template {
	char *svg;
	size_t len;
	bool has_note;
	struct box note;
	PangoContext *pango; /* made when first needed */
};

enum subst_mode {
	SUBST_XML,  /* output is SVG: values escaped, line breaks become spaces */
	SUBST_TEXT, /* output is text for layout: template entities decoded, tags dropped, line breaks kept */
	SUBST_PLAIN, /* plain text template: copied as is, line breaks become spaces */
};

/* ---- XML scanning ---------------------------------------------------------------------- */

static bool starts(const char *s, size_t len, size_t i, const char *lit)
{
	size_t n = strlen(lit);
	return i + n <= len && memcmp(s + i, lit, n) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_name_end(const char *s, size_t len, size_t i)
{
	return i >= len || is_space(s[i]) || s[i] == '>' || s[i] == '/';
}

/* i is at "<": the index after this piece of markup, or len when it does not end. */
static size_t skip_markup(const char *s, size_t len, size_t i)
{
	const char *end, *lit;
	if (starts(s, len, i, "<!--"))
		lit = "-->";
	else if (starts(s, len, i, "<![CDATA["))
		lit = "]]>";
	else if (starts(s, len, i, "<?"))
		lit = "?>";
	else
		lit = NULL;
	if (lit) {
		end = g_strstr_len(s + i + 2, (gssize)(len - i - 2), lit);
		return end ? (size_t)(end - s) + strlen(lit) : len;
	}
	if (starts(s, len, i, "<!")) { /* DOCTYPE, perhaps with an internal subset */
		int depth = 0;
		char quote = 0;
		for (size_t j = i + 2; j < len; j++) {
			if (quote) {
				if (s[j] == quote)
					quote = 0;
			} else if (s[j] == '"' || s[j] == '\'')
				quote = s[j];
			else if (s[j] == '[')
				depth++;
			else if (s[j] == ']')
				depth--;
			else if (s[j] == '>' && depth <= 0)
				return j + 1;
		}
		return len;
	}
	char quote = 0;
	for (size_t j = i + 1; j < len; j++) {
		if (quote) {
			if (s[j] == quote)
				quote = 0;
		} else if (s[j] == '"' || s[j] == '\'')
			quote = s[j];
		else if (s[j] == '>')
			return j + 1;
	}
	return len;
}

static void attr_free(gpointer p)
{
	struct attr *a = p;
	g_free(a->name);
	g_free(a->value);
	g_free(a);
}

static void element_clear(struct element *e)
{
	if (e->attrs)
		g_ptr_array_free(e->attrs, TRUE);
	memset(e, 0, sizeof(*e));
}

/* Parse the start tag at i ("<name"): attributes and where it ends. false when it does not end. */
static bool parse_start_tag(const char *s, size_t len, size_t i, struct element *e)
{
	size_t j = i + 1;
	while (!is_name_end(s, len, j))
		j++;
	e->start = i;
	e->attrs = g_ptr_array_new_with_free_func(attr_free);
	for (;;) {
		while (j < len && is_space(s[j]))
			j++;
		if (j >= len)
			return false;
		if (s[j] == '>') {
			e->tag_end = j + 1;
			return true;
		}
		if (s[j] == '/' && j + 1 < len && s[j + 1] == '>') {
			e->tag_end = j + 2;
			e->self_closing = true;
			return true;
		}
		size_t n0 = j;
		while (j < len && !is_space(s[j]) && s[j] != '=' && s[j] != '>' && s[j] != '/')
			j++;
		if (j == n0) { /* a stray '/' */
			j++;
			continue;
		}
		struct attr *a = g_new0(struct attr, 1);
		a->name = g_strndup(s + n0, j - n0);
		while (j < len && is_space(s[j]))
			j++;
		if (j < len && s[j] == '=') {
			j++;
			while (j < len && is_space(s[j]))
				j++;
			if (j < len && (s[j] == '"' || s[j] == '\'')) {
				char q = s[j++];
				size_t v0 = j;
				while (j < len && s[j] != q)
					j++;
				if (j >= len) {
					attr_free(a);
					return false;
				}
				a->value = g_strndup(s + v0, j - v0);
				a->quote = q;
				j++;
			} else {
				size_t v0 = j;
				while (j < len && !is_space(s[j]) && s[j] != '>')
					j++;
				a->value = g_strndup(s + v0, j - v0);
				a->quote = '"';
			}
		} else {
			a->value = g_strdup("");
			a->quote = '"';
		}
		g_ptr_array_add(e->attrs, a);
	}
}

/* A pass over the document: where it is, and the open elements around it (struct element *),
   whose font properties a <text> inherits. */
struct scan {
	const char *s;
	size_t len, pos;
	GPtrArray *open;
};

static void element_free(gpointer p)
{
	struct element *e = p;
	element_clear(e);
	g_free(e);
}

static void scan_init(struct scan *sc, const char *s, size_t len)
{
	sc->s = s;
	sc->len = len;
	sc->pos = 0;
	sc->open = g_ptr_array_new_with_free_func(element_free);
}

static void scan_clear(struct scan *sc)
{
	g_ptr_array_free(sc->open, TRUE);
	sc->open = NULL;
}

/* The next <text> element: 1 found (*e filled, the pass goes on after it), 0 none (or the rest
   does not parse: it is then copied as it is and librsvg reports it). */
static int scan_next_text(struct scan *sc, struct element *e)
{
	const char *s = sc->s;
	size_t len = sc->len, i = sc->pos;
	memset(e, 0, sizeof(*e));
	while (i < len) {
		const char *lt = memchr(s + i, '<', len - i);
		if (!lt)
			break;
		i = (size_t)(lt - s);
		if (starts(s, len, i, "<text") && is_name_end(s, len, i + 5)) {
			if (!parse_start_tag(s, len, i, e))
				break;
			if (e->self_closing) {
				e->content_end = e->end = e->tag_end;
				sc->pos = e->end;
				return 1;
			}
			size_t j = e->tag_end;
			while (j < len) {
				lt = memchr(s + j, '<', len - j);
				if (!lt)
					break;
				j = (size_t)(lt - s);
				if (starts(s, len, j, "</text") &&
				    (j + 6 >= len || s[j + 6] == '>' || is_space(s[j + 6]))) {
					const char *gt = memchr(s + j, '>', len - j);
					if (!gt)
						break;
					e->content_end = j;
					e->end = (size_t)(gt - s) + 1;
					sc->pos = e->end;
					return 1;
				}
				j = skip_markup(s, len, j);
			}
			break;
		}
		size_t next = skip_markup(s, len, i);
		if (i + 1 < len && s[i + 1] == '/') {
			if (sc->open->len)
				g_ptr_array_remove_index(sc->open, sc->open->len - 1);
		} else if (i + 1 < len && (g_ascii_isalpha(s[i + 1]) || s[i + 1] == '_')) {
			struct element *open = g_new0(struct element, 1);
			if (parse_start_tag(s, len, i, open) && !open->self_closing)
				g_ptr_array_add(sc->open, open);
			else
				element_free(open);
		}
		i = next;
	}
	element_clear(e);
	sc->pos = len;
	return 0;
}

static const struct attr *attr_find(const struct element *e, const char *name)
{
	for (guint i = 0; i < e->attrs->len; i++) {
		const struct attr *a = g_ptr_array_index(e->attrs, i);
		if (strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/* ---- XML text ---------------------------------------------------------------------------- */

static void append_escaped(GString *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&apos;");
			break;
		default:
			g_string_append_c(out, s[i]);
		}
	}
}

/* Append text with its entity and character references decoded (the five XML ones and &#..;);
   an unknown reference is kept as it is. */
static void append_unescaped(GString *out, const char *s, size_t len)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	size_t i = 0;
	while (i < len) {
		if (s[i] != '&') {
			g_string_append_c(out, s[i++]);
			continue;
		}
		bool done = false;
		for (size_t k = 0; k < G_N_ELEMENTS(ents) && !done; k++)
			if (starts(s, len, i + 1, ents[k].name)) {
				g_string_append_c(out, ents[k].c);
				i += 1 + strlen(ents[k].name);
				done = true;
			}
		if (!done && i + 2 < len && s[i + 1] == '#') {
			size_t j = i + 2;
			int base = 10;
			if (s[j] == 'x' || s[j] == 'X') {
				base = 16;
				j++;
			}
			guint64 v = 0;
			size_t d0 = j;
			while (j < len && j - d0 < 8 && g_ascii_isxdigit(s[j]) &&
			       (base == 16 || g_ascii_isdigit(s[j])))
				v = v * (guint64)base + (guint64)g_ascii_xdigit_value(s[j++]);
			if (j > d0 && j < len && s[j] == ';' && v > 0 && v <= 0x10FFFF &&
			    g_unichar_validate((gunichar)v)) {
				g_string_append_unichar(out, (gunichar)v);
				i = j + 1;
				done = true;
			}
		}
		if (!done)
			g_string_append_c(out, s[i++]);
	}
}

static char *unescape(const char *s)
{
	GString *g = g_string_new(NULL);
	append_unescaped(g, s, strlen(s));
	return g_string_free(g, FALSE);
}

/* A field value made safe: valid UTF-8, no control characters (XML 1.0 forbids most, SVG drops
   the rest); '\n' kept when keep_newlines, else a space. */
static void append_value(GString *out, const char *v, bool keep_newlines, bool escape)
{
	char *valid = g_utf8_make_valid(v, -1);
	GString *clean = g_string_sized_new(strlen(valid));
	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '\r' && p[1] == '\n')
			continue;
		if (c == '\n' || c == '\r' || c == '\f' || c == '\v')
			g_string_append_c(clean, keep_newlines ? '\n' : ' ');
		else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0xFFFE || c == 0xFFFF)
			g_string_append_c(clean, ' ');
		else
			g_string_append_len(clean, p, g_utf8_next_char(p) - p);
	}
	if (escape)
		append_escaped(out, clean->str, clean->len);
	else
		g_string_append_len(out, clean->str, (gssize)clean->len);
	g_string_free(clean, TRUE);
	g_free(valid);
}

static bool only_space(const char *s)
{
	for (; *s; s++)
		if (!is_space(*s))
			return false;
	return true;
}

static bool name_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '.' || c == '#';
}

/* s[0..len) is what is between "{{" and "}}". Appends the value and returns true, or returns
   false when it is not a placeholder (then the caller copies it as text). */
static bool placeholder(GString *out, const char *s, size_t len, const struct cover_template_fields *f,
			enum subst_mode mode)
{
	/* First check the syntax of every alternative, then take the first non-empty one. */
	size_t i = 0;
	for (;;) {
		while (i < len && is_space(s[i]))
			i++;
		if (i < len && s[i] == '\'') {
			const char *q = memchr(s + i + 1, '\'', len - i - 1);
			if (!q)
				return false;
			i = (size_t)(q - s) + 1;
		} else {
			size_t n0 = i;
			while (i < len && name_char(s[i]))
				i++;
			if (i == n0)
				return false;
		}
		while (i < len && is_space(s[i]))
			i++;
		if (i == len)
			break;
		if (s[i] != '|')
			return false;
		i++;
	}
	i = 0;
	while (i < len) {
		while (i < len && (is_space(s[i]) || s[i] == '|'))
			i++;
		if (i >= len)
			break;
		if (s[i] == '\'') {
			const char *q = memchr(s + i + 1, '\'', len - i - 1);
			size_t l0 = i + 1, l1 = (size_t)(q - s);
			if (l1 > l0) {
				if (mode == SUBST_TEXT)
					append_unescaped(out, s + l0, l1 - l0);
				else
					g_string_append_len(out, s + l0, (gssize)(l1 - l0));
				return true;
			}
			i = l1 + 1;
			continue;
		}
		size_t n0 = i;
		while (i < len && name_char(s[i]))
			i++;
		char *name = g_ascii_strdown(s + n0, (gssize)(i - n0));
		const char *v = f && f->lookup ? f->lookup(f->context, name) : NULL;
		g_free(name);
		if (v && !only_space(v)) {
			append_value(out, v, mode == SUBST_TEXT, mode == SUBST_XML);
			return true;
		}
	}
	return true; /* all empty: nothing */
}

/* Copy s[0..len) to out with the placeholders filled. */
static void subst(GString *out, const char *s, size_t len, const struct cover_template_fields *f,
		  enum subst_mode mode)
{
	size_t i = 0;
	while (i < len) {
		if (s[i] == '{' && i + 1 < len && s[i + 1] == '{') {
			size_t lim = MIN(len, i + 2 + PLACEHOLDER_MAX);
			const char *close = g_strstr_len(s + i + 2, (gssize)(lim - i - 2), "}}");
			if (close && placeholder(out, s + i + 2, (size_t)(close - s) - i - 2, f, mode)) {
				i = (size_t)(close - s) + 2;
				continue;
			}
			g_string_append_c(out, '{'); /* "{{{x}}}" is "{" and "{{x}}}" */
			i++;
			continue;
		}
		if (mode == SUBST_TEXT && s[i] == '<') { /* markup inside a text box: dropped */
			i = skip_markup(s, len, i);
			continue;
		}
		size_t j = i + 1;
		while (j < len && s[j] != '{' && !(mode == SUBST_TEXT && (s[j] == '<' || s[j] == '&')))
			j++;
		if (mode == SUBST_TEXT)
			append_unescaped(out, s + i, j - i);
		else
			g_string_append_len(out, s + i, (gssize)(j - i));
		i = j;
	}
}

char *cover_template_expand(const char *text, const struct cover_template_fields *f)
{
	GString *out = g_string_new(NULL);
	if (text)
		subst(out, text, strlen(text), f, SUBST_PLAIN);
	return g_string_free(out, FALSE);
}

/* ---- Styles and lengths -------------------------------------------------------------------- */

/* A declaration of a style attribute value (as written): decoded, trimmed, "!important"
   dropped. g_free(); NULL when not there. */
static char *style_property(const char *style_raw, const char *name)
{
	char *style = unescape(style_raw);
	char **decls = g_strsplit(style, ";", -1);
	char *found = NULL;
	for (char **d = decls; *d; d++) {
		char *colon = strchr(*d, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if (g_ascii_strcasecmp(g_strstrip(*d), name) == 0) {
			g_free(found);
			found = g_strdup(g_strstrip(colon + 1));
			char *imp = strstr(found, "!important");
			if (imp) {
				*imp = '\0';
				g_strstrip(found);
			}
		}
	}
	g_strfreev(decls);
	g_free(style);
	return found;
}

/* A property of the element: from its style attribute (which wins in CSS) or its presentation
   attribute; decoded and trimmed. g_free(); NULL when not given. */
static char *property(const struct element *e, const char *name)
{
	const struct attr *st = attr_find(e, "style");
	char *v = st ? style_property(st->value, name) : NULL;
	if (v)
		return v;
	const struct attr *a = attr_find(e, name);
	return a ? g_strstrip(unescape(a->value)) : NULL;
}

/* A length in user units: a number with an optional CSS unit (px = user unit), "em" relative to
   font_size. false when it is no such length. */
static bool parse_length(const char *s, double font_size, double *out)
{
	if (!s)
		return false;
	char *end;
	double v = g_ascii_strtod(s, &end);
	if (end == s || !isfinite(v))
		return false;
	while (is_space(*end))
		end++;
	static const struct {
		const char *unit;
		double factor; /* user units per unit; < 0: times the font size */
	} units[] = {{"px", 1},		  {"pt", 96.0 / 72}, {"pc", 16}, {"mm", 96.0 / 25.4},
		     {"cm", 96.0 / 2.54}, {"in", 96},	     {"em", -1}, {"ex", -0.5}};
	if (*end == '\0') {
		*out = v;
		return true;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		if (g_ascii_strncasecmp(end, units[i].unit, 2) != 0)
			continue;
		const char *rest = end + 2;
		while (is_space(*rest))
			rest++;
		if (*rest != '\0')
			return false;
		*out = units[i].factor < 0 ? v * font_size * -units[i].factor : v * units[i].factor;
		return true;
	}
	return false;
}

/* The first number of an attribute such as x="10 20 30" (librsvg reads only one). */
static double attr_coordinate(const struct element *e, const char *name, double font_size)
{
	const struct attr *a = attr_find(e, name);
	double v = 0;
	if (a) {
		char *s = unescape(a->value);
		char *sep = strpbrk(s, " ,\t\n");
		if (sep)
			*sep = '\0';
		if (!parse_length(s, font_size, &v))
			v = 0;
		g_free(s);
	}
	return v;
}

/* A property the element has or inherits from the open elements around it. */
static char *inherited(const struct element *e, const struct scan *sc, const char *name)
{
	char *v = property(e, name);
	for (guint i = sc->open->len; !v && i > 0; i--)
		v = property(g_ptr_array_index(sc->open, i - 1), name);
	return v;
}

static void read_font(const struct element *e, const struct scan *sc, struct font *f)
{
	char *v;
	memset(f, 0, sizeof(*f));
	f->size = DEFAULT_FONT_SIZE;
	f->weight = PANGO_WEIGHT_NORMAL;
	f->style = PANGO_STYLE_NORMAL;
	f->stretch = PANGO_STRETCH_NORMAL;
	if ((v = inherited(e, sc, "font-size"))) {
		double size;
		if (parse_length(v, DEFAULT_FONT_SIZE, &size) && size > 0) {
			f->size = size;
			f->size_given = true;
		}
		g_free(v);
	}
	if ((v = inherited(e, sc, "font-family")) && *v) {
		GString *fam = g_string_new(NULL);
		char **parts = g_strsplit(v, ",", -1);
		for (char **p = parts; *p; p++) {
			char *name = g_strstrip(*p);
			size_t n = strlen(name);
			if (n >= 2 && (name[0] == '\'' || name[0] == '"') && name[n - 1] == name[0]) {
				name[n - 1] = '\0';
				name++;
			}
			if (*name) {
				if (fam->len)
					g_string_append_c(fam, ',');
				g_string_append(fam, name);
			}
		}
		g_strfreev(parts);
		f->family = g_string_free(fam, FALSE);
		f->family_given = true;
	}
	g_free(v);
	if (!f->family)
		f->family = g_strdup(DEFAULT_FONT_FAMILY);
	if ((v = inherited(e, sc, "font-weight"))) {
		if (g_ascii_strcasecmp(v, "bold") == 0 || g_ascii_strcasecmp(v, "bolder") == 0)
			f->weight = PANGO_WEIGHT_BOLD;
		else if (g_ascii_strcasecmp(v, "lighter") == 0)
			f->weight = PANGO_WEIGHT_LIGHT;
		else if (g_ascii_isdigit(v[0]))
			f->weight = (PangoWeight)CLAMP(atoi(v), 100, 1000);
		g_free(v);
	}
	if ((v = inherited(e, sc, "font-style"))) {
		if (g_ascii_strcasecmp(v, "italic") == 0)
			f->style = PANGO_STYLE_ITALIC;
		else if (g_ascii_strcasecmp(v, "oblique") == 0)
			f->style = PANGO_STYLE_OBLIQUE;
		g_free(v);
	}
	if ((v = inherited(e, sc, "font-stretch"))) {
		static const struct {
			const char *name;
			PangoStretch stretch;
		} st[] = {{"ultra-condensed", PANGO_STRETCH_ULTRA_CONDENSED},
			  {"extra-condensed", PANGO_STRETCH_EXTRA_CONDENSED},
			  {"condensed", PANGO_STRETCH_CONDENSED},
			  {"semi-condensed", PANGO_STRETCH_SEMI_CONDENSED},
			  {"semi-expanded", PANGO_STRETCH_SEMI_EXPANDED},
			  {"expanded", PANGO_STRETCH_EXPANDED},
			  {"extra-expanded", PANGO_STRETCH_EXTRA_EXPANDED},
			  {"ultra-expanded", PANGO_STRETCH_ULTRA_EXPANDED}};
		for (size_t i = 0; i < G_N_ELEMENTS(st); i++)
			if (g_ascii_strcasecmp(v, st[i].name) == 0)
				f->stretch = st[i].stretch;
		g_free(v);
	}
	if ((v = inherited(e, sc, "letter-spacing"))) {
		double ls;
		if (parse_length(v, f->size, &ls))
			f->letter_spacing = ls;
		g_free(v);
	}
}

static void font_clear(struct font *f)
{
	g_free(f->family);
	f->family = NULL;
}

/* The layout box of a text element: font, position, width, line height, lines (data-lines, else
   data-height / line height, else default_lines). false when data-width is missing or bad. */
static bool read_box(const struct element *e, const struct scan *sc, int default_lines, struct box *b)
{
	char *v;
	memset(b, 0, sizeof(*b));
	read_font(e, sc, &b->font);
	b->x = attr_coordinate(e, "x", b->font.size);
	b->y = attr_coordinate(e, "y", b->font.size);
	v = property(e, "data-width");
	bool ok = parse_length(v, b->font.size, &b->width) && b->width > 0;
	g_free(v);
	if (!ok) {
		font_clear(&b->font);
		return false;
	}
	b->line_height = b->font.size * COVER_TEMPLATE_LINE_HEIGHT;
	if ((v = property(e, "data-line-height"))) {
		double lh;
		if (parse_length(v, b->font.size, &lh) && lh > 0)
			b->line_height = lh;
		g_free(v);
	} else if ((v = property(e, "line-height"))) { /* Inkscape's CSS line-height: a factor or a length */
		char *end;
		double lh = g_ascii_strtod(v, &end);
		if (end != v && *end == '\0' && lh > 0)
			b->line_height = lh * b->font.size;
		else if (end != v && *end == '%' && lh > 0)
			b->line_height = lh / 100 * b->font.size;
		else if (parse_length(v, b->font.size, &lh) && lh > 0)
			b->line_height = lh;
		g_free(v);
	}
	b->lines = default_lines;
	if ((v = property(e, "data-lines"))) {
		b->lines = CLAMP(atoi(v), 0, 10000);
		g_free(v);
	} else if ((v = property(e, "data-height"))) {
		double h;
		if (parse_length(v, b->font.size, &h))
			b->lines = (int)CLAMP(floor(h / b->line_height + 0.01), 0, 10000);
		g_free(v);
	}
	return true;
}

static bool is_note(const struct element *e)
{
	const struct attr *id = attr_find(e, "id");
	if (!id)
		return false;
	char *v = unescape(id->value);
	bool yes = strcmp(g_strstrip(v), "note") == 0;
	g_free(v);
	return yes;
}

/* ---- Measuring with Pango ------------------------------------------------------------------ */

static PangoContext *pango_context(struct cover_template *t)
{
	if (!t->pango) {
		/* pango_cairo_font_map_get_default() is per thread since Pango 1.32.6. */
		t->pango = pango_font_map_create_context(pango_cairo_font_map_get_default());
		cairo_font_options_t *fo = cairo_font_options_create();
		cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
		cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
		pango_cairo_context_set_font_options(t->pango, fo);
		cairo_font_options_destroy(fo);
		pango_context_set_round_glyph_positions(t->pango, FALSE);
	}
	return t->pango;
}

/* A layout of text at font f times scale, wrapped at width user units (0: not wrapped).
 *k_r: layout units per user unit. */
static PangoLayout *make_layout(struct cover_template *t, const struct font *f, double scale, double width,
				const char *text, gssize len, double *k_r)
{
	double size = f->size * scale;
	double k = MEASURE_SIZE / size * PANGO_SCALE;
	PangoFontDescription *d = pango_font_description_new();
	pango_font_description_set_family(d, f->family);
	pango_font_description_set_absolute_size(d, MEASURE_SIZE * PANGO_SCALE);
	pango_font_description_set_weight(d, f->weight);
	pango_font_description_set_style(d, f->style);
	pango_font_description_set_stretch(d, f->stretch);
	PangoLayout *l = pango_layout_new(pango_context(t));
	pango_layout_set_font_description(l, d);
	pango_font_description_free(d);
	if (f->letter_spacing != 0) {
		PangoAttrList *al = pango_attr_list_new();
		pango_attr_list_insert(
		    al, pango_attr_letter_spacing_new((int)lround(f->letter_spacing * scale * k)));
		pango_layout_set_attributes(l, al);
		pango_attr_list_unref(al);
	}
	if (width > 0) {
		double w = width * k * COVER_TEMPLATE_WIDTH_SLACK;
		pango_layout_set_width(l, w > INT_MAX / 2 ? INT_MAX / 2 : (int)w);
		pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	}
	pango_layout_set_text(l, text, (int)len);
	*k_r = k;
	return l;
}

static double text_width(struct cover_template *t, const struct font *f, double scale, const char *text,
			 gssize len)
{
	double k;
	PangoLayout *l = make_layout(t, f, scale, 0, text, len, &k);
	PangoRectangle ink, logical;
	pango_layout_get_extents(l, &ink, &logical);
	g_object_unref(l);
	return logical.width / k;
}

/* The lines of a wrapped layout as (start, length) byte pairs into its text. */
static GArray *layout_lines(PangoLayout *l)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(int) * 2);
	for (GSList *p = pango_layout_get_lines_readonly(l); p; p = p->next) {
		PangoLayoutLine *line = p->data;
		int se[2] = {line->start_index, line->length};
		g_array_append_val(a, se);
	}
	return a;
}

static char *line_text(const char *text, const int se[2])
{
	char *s = g_strndup(text + se[0], (gsize)se[1]);
	size_t n = strlen(s);
	while (n > 0 && (is_space(s[n - 1])))
		s[--n] = '\0';
	return s;
}

/* ---- Public ---------------------------------------------------------------------------------- */

struct cover_template *cover_template_create(const char *svg, size_t len, const char **error_r)
{
	struct cover_template *t = g_new0(struct cover_template, 1);
	t->svg = g_strndup(svg, len);
	t->len = strlen(t->svg); /* a NUL ends the document */
	struct element e;
	struct scan sc;
	scan_init(&sc, t->svg, t->len);
	while (scan_next_text(&sc, &e) == 1) {
		if (is_note(&e) && !t->has_note) {
			if (!read_box(&e, &sc, -1, &t->note)) {
				element_clear(&e);
				scan_clear(&sc);
				*error_r = "the note area (<text id=\"note\">) needs data-width";
				cover_template_free(&t);
				return NULL;
			}
			if (t->note.lines < 0) {
				element_clear(&e);
				scan_clear(&sc);
				font_clear(&t->note.font);
				*error_r =
				    "the note area (<text id=\"note\">) needs data-lines or data-height";
				cover_template_free(&t);
				return NULL;
			}
			t->has_note = true;
		}
		element_clear(&e);
	}
	scan_clear(&sc);
	return t;
}

void cover_template_free(struct cover_template **tp)
{
	struct cover_template *t = tp ? *tp : NULL;
	if (!t)
		return;
	if (t->has_note)
		font_clear(&t->note.font);
	if (t->pango)
		g_object_unref(t->pango);
	g_free(t->svg);
	g_free(t);
	*tp = NULL;
}

int cover_template_note_lines(const struct cover_template *t)
{
	return t->has_note ? t->note.lines : 0;
}

int cover_template_note_layout(const struct cover_template *t, const char *text, char ***lines_r,
			       size_t *used_r)
{
	struct cover_template *mt = (struct cover_template *)t; /* the Pango context is a cache */
	GPtrArray *out = g_ptr_array_new();
	size_t len = strlen(text);
	*used_r = 0;
	if (t->has_note && t->note.lines > 0 && len > 0) {
		/* Pango breaks lines first-fit, so the first lines of a prefix of the text are the
		   first lines of the whole when the prefix makes more lines than the page holds: lay
		   out a growing prefix, not all of a long mail body for every page. */
		size_t prefix = MIN(len, (size_t)t->note.lines * 256);
		for (;;) {
			while (prefix > 0 && prefix < len && ((unsigned char)text[prefix] & 0xC0) == 0x80)
				prefix--; /* not inside a character */
			double k;
			PangoLayout *l =
			    make_layout(mt, &t->note.font, 1.0, t->note.width, text, (gssize)prefix, &k);
			GArray *lines = layout_lines(l);
			if (lines->len > (guint)t->note.lines || prefix >= len) {
				guint n = MIN(lines->len, (guint)t->note.lines);
				for (guint i = 0; i < n; i++)
					g_ptr_array_add(out,
							line_text(text, &g_array_index(lines, int, 2 * i)));
				*used_r = n < lines->len ? (size_t)g_array_index(lines, int, 2 * n) : len;
				g_array_free(lines, TRUE);
				g_object_unref(l);
				break;
			}
			g_array_free(lines, TRUE);
			g_object_unref(l);
			prefix = MIN(len, prefix * 2 + 256);
		}
	}
	int count = (int)out->len;
	g_ptr_array_add(out, NULL);
	*lines_r = (char **)g_ptr_array_free(out, FALSE);
	return count;
}

/* Normalise white space of a text box: runs of blanks become one space, lines are trimmed and
   blank ones dropped. A box of max_lines lines keeps that many line breaks; the lines after
   them are joined to the last one with ", " (an address of four lines in a box of two). */
static char *box_text(const char *s, int max_lines)
{
	GString *out = g_string_new(NULL);
	char **lines = g_strsplit(s, "\n", -1);
	int n = 0;
	for (char **l = lines; *l; l++) {
		GString *line = g_string_new(NULL);
		bool space = false;
		for (const char *p = *l; *p; p++) {
			if (is_space(*p)) {
				space = true;
				continue;
			}
			if (space && line->len)
				g_string_append_c(line, ' ');
			space = false;
			g_string_append_c(line, *p);
		}
		if (line->len) {
			if (n > 0 && n < max_lines)
				g_string_append_c(out, '\n');
			else if (n > 0)
				g_string_append(out, strchr(",;:", out->str[out->len - 1]) ? " " : ", ");
			g_string_append_len(out, line->str, (gssize)line->len);
			n++;
		}
		g_string_free(line, TRUE);
	}
	g_strfreev(lines);
	return g_string_free(out, FALSE);
}

/* Fit text into a box: shrink, wrap into b->lines lines, ellipsize the last one. Returns the
   lines; *scale_r the font scale used. */
static GPtrArray *fit_box(struct cover_template *t, const struct box *b, const char *text, double *scale_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	size_t len = strlen(text);
	int max_lines = b->lines > 0 ? b->lines : 1;
	double scale = 1.0;
	for (;;) {
		double k;
		PangoLayout *l = make_layout(t, &b->font, scale, b->width, text, (gssize)len, &k);
		GArray *lines = layout_lines(l);
		bool last_try = scale <= COVER_TEMPLATE_MIN_SCALE + 1e-9;
		if ((int)lines->len <= max_lines || last_try) {
			for (guint i = 0; i < lines->len && (int)i < max_lines; i++)
				g_ptr_array_add(out, line_text(text, &g_array_index(lines, int, 2 * i)));
			if ((int)lines->len > max_lines) {
				/* Cut the rest of the text after the last line's start until it fits with
				 * "…". */
				size_t start = (size_t)g_array_index(lines, int, 2 * (max_lines - 1));
				char *rest = box_text(text + start, 1);
				glong chars = g_utf8_strlen(rest, -1);
				char *best = NULL;
				if (text_width(t, &b->font, scale, rest, -1) <=
				    b->width * COVER_TEMPLATE_WIDTH_SLACK)
					best =
					    g_strdup(rest); /* Pango broke it for a line break of the text */
				for (glong n = chars; n > 0 && !best; n--) {
					char *end = g_utf8_offset_to_pointer(rest, n);
					GString *cand = g_string_new_len(rest, end - rest);
					while (cand->len && is_space(cand->str[cand->len - 1]))
						g_string_truncate(cand, cand->len - 1);
					g_string_append(cand, "…");
					if (text_width(t, &b->font, scale, cand->str, (gssize)cand->len) <=
					    b->width * COVER_TEMPLATE_WIDTH_SLACK)
						best = g_string_free(cand, FALSE);
					else
						g_string_free(cand, TRUE);
				}
				if (!best)
					best = g_strdup("…");
				g_free(g_ptr_array_index(out, (guint)max_lines - 1));
				g_ptr_array_index(out, (guint)max_lines - 1) = best;
				g_free(rest);
			}
			g_array_free(lines, TRUE);
			g_object_unref(l);
			break;
		}
		g_array_free(lines, TRUE);
		g_object_unref(l);
		scale = MAX(COVER_TEMPLATE_MIN_SCALE, scale - 0.05);
	}
	*scale_r = scale;
	return out;
}

static void append_number(GString *out, double v)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];
	g_ascii_formatd(buf, sizeof(buf), "%.3f", v);
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	g_string_append(out, buf);
}

/* Write the start tag again: placeholders filled in its values, font-size scaled when scale != 1
   (in the style attribute when it is set there), the font written onto the element when it was
   not (see the top of the file), xml:space="preserve" when asked. */
static void write_start_tag(GString *out, const struct element *e, const struct font *font, double scale,
			    bool preserve, const struct cover_template_fields *f)
{
	const struct attr *st = attr_find(e, "style");
	char *style_size = st ? style_property(st->value, "font-size") : NULL;
	bool size_in_style = style_size != NULL;
	g_free(style_size);
	g_string_append(out, "<text");
	for (guint i = 0; i < e->attrs->len; i++) {
		const struct attr *a = g_ptr_array_index(e->attrs, i);
		if (preserve && strcmp(a->name, "xml:space") == 0)
			continue;
		g_string_append_printf(out, " %s=%c", a->name, a->quote);
		if (scale != 1.0 && size_in_style && a == st) {
			/* font-size:OLD -> font-size:NEW, other declarations as they are */
			char **decls = g_strsplit(a->value, ";", -1);
			bool first = true;
			for (char **d = decls; *d; d++) {
				char *colon = strchr(*d, ':');
				if (!colon && only_space(*d))
					continue;
				if (!first)
					g_string_append_c(out, ';');
				first = false;
				char *name = colon ? g_strstrip(g_strndup(*d, (gsize)(colon - *d))) : NULL;
				if (name && g_ascii_strcasecmp(name, "font-size") == 0) {
					g_string_append(out, "font-size:");
					append_number(out, font->size * scale);
					g_string_append(out, "px");
				} else
					subst(out, *d, strlen(*d), f, SUBST_XML);
				g_free(name);
			}
			g_strfreev(decls);
		} else if (scale != 1.0 && !size_in_style && strcmp(a->name, "font-size") == 0) {
			append_number(out, font->size * scale);
		} else
			subst(out, a->value, strlen(a->value), f, SUBST_XML);
		g_string_append_c(out, a->quote);
	}
	if (!font->size_given || (scale != 1.0 && !size_in_style && !attr_find(e, "font-size"))) {
		g_string_append(out, " font-size=\"");
		append_number(out, font->size * scale);
		g_string_append_c(out, '"');
	}
	if (!font->family_given) {
		g_string_append(out, " font-family=\"");
		append_escaped(out, font->family, strlen(font->family));
		g_string_append_c(out, '"');
	}
	if (preserve)
		g_string_append(out, " xml:space=\"preserve\"");
	g_string_append_c(out, '>');
}

static void write_lines(GString *out, const struct box *b, double scale, const char *const *lines, int n)
{
	for (int i = 0; i < n; i++) {
		g_string_append(out, "<tspan x=\"");
		append_number(out, b->x);
		g_string_append(out, "\" y=\"");
		append_number(out, b->y + i * b->line_height * scale);
		g_string_append(out, "\">");
		append_escaped(out, lines[i], strlen(lines[i]));
		g_string_append(out, "</tspan>");
	}
}

static void fill_box(struct cover_template *t, const struct element *e, const struct scan *sc, GString *out,
		     const struct cover_template_fields *f)
{
	struct box b;
	if (!read_box(e, sc, 1, &b) || e->self_closing) {
		if (b.font.family)
			font_clear(&b.font);
		subst(out, t->svg + e->start, e->end - e->start, f, SUBST_XML);
		return;
	}
	const char *content = t->svg + e->tag_end;
	size_t clen = e->content_end - e->tag_end;
	GString *raw = g_string_new(NULL);
	subst(raw, content, clen, f, SUBST_TEXT);
	bool mixed = memchr(content, '<', clen) != NULL;
	char *text = box_text(raw->str, mixed ? 1 : MAX(b.lines, 1));
	g_string_free(raw, TRUE);
	if (mixed) {
		/* Child elements: only shrink (their own positions and styles are kept). */
		double w = text_width(t, &b.font, 1.0, text, -1);
		double scale = 1.0;
		if (w > b.width * COVER_TEMPLATE_WIDTH_SLACK)
			scale = MAX(COVER_TEMPLATE_MIN_SCALE, b.width * COVER_TEMPLATE_WIDTH_SLACK / w);
		write_start_tag(out, e, &b.font, scale, false, f);
		subst(out, content, clen, f, SUBST_XML);
		g_string_append(out, "</text>");
	} else {
		double scale;
		GPtrArray *lines = fit_box(t, &b, text, &scale);
		write_start_tag(out, e, &b.font, scale, false, f);
		if (lines->len == 1)
			append_escaped(out, g_ptr_array_index(lines, 0), strlen(g_ptr_array_index(lines, 0)));
		else
			write_lines(out, &b, scale, (const char *const *)lines->pdata, (int)lines->len);
		g_string_append(out, "</text>");
		g_ptr_array_free(lines, TRUE);
	}
	g_free(text);
	font_clear(&b.font);
}

char *cover_template_fill(const struct cover_template *ct, const struct cover_template_fields *f,
			  const char *const *note_lines, int n, size_t *len_r)
{
	struct cover_template *t = (struct cover_template *)ct; /* the Pango context is a cache */
	GString *out = g_string_sized_new(t->len + 4096);
	struct element e;
	struct scan sc;
	size_t pos = 0;
	bool note_done = false;
	scan_init(&sc, t->svg, t->len);
	while (scan_next_text(&sc, &e) == 1) {
		subst(out, t->svg + pos, e.start - pos, f, SUBST_XML);
		if (t->has_note && !note_done && is_note(&e)) {
			write_start_tag(out, &e, &t->note.font, 1.0, true, f);
			write_lines(out, &t->note, 1.0, note_lines, n);
			g_string_append(out, "</text>");
			note_done = true;
		} else if (attr_find(&e, "data-width"))
			fill_box(t, &e, &sc, out, f);
		else
			subst(out, t->svg + e.start, e.end - e.start, f, SUBST_XML);
		pos = e.end;
		element_clear(&e);
	}
	scan_clear(&sc);
	subst(out, t->svg + pos, t->len - pos, f, SUBST_XML);
	if (len_r)
		*len_r = out->len;
	return g_string_free(out, FALSE);
}
