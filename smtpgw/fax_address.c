/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fax recipient addresses: the local part of RCPT TO -> number as written, name, company and
 * per-recipient options. Pure parser: no I/O, no clock, no dial rules (the caller runs the
 * number through dialrules_normalize()).
 *
 * Standards and precedents: RFC 5321 §4.1.2 (quoted local parts) and RFC 5322 §3.2.4;
 * RFC 3191/3192 minimal GSTN address (FAX=, /T33S=, optional leading and trailing "/");
 * RFC 2846 (ISUB, POSTD); MS-OXCMAIL §2.1.3.1.8 / §2.2.3.1.2 (IMCEA encapsulation: "_" is "/",
 * "+HH" is an octet, prefix matched in any case); the MAPI FAX/MSFAX address
 * "[FAX:Dialable|Name@Canonical|SpecialDialing]" split at the LAST "@"; Notes/Domino foreign
 * domains (name%number%FAX, never percent-decoded); product forms: eFax and Cisco /key=value,
 * RightFax /name=John%20Smith/fax=..., FaxBack number^FLAG^KEY=value, Faximum name fields,
 * name.number. docs/addressing.md is the user reference.
 *
 * The forms are tried in the order of research/conventions.md §2.3, first full match wins:
 *   1. quoted local part -> unquote (\-escapes dropped); spaces and ( ) may then appear in the
 *      number, which an unquoted local part cannot carry (RFC 5321 dot-atom);
 *   2. IMCEA<type>-... -> decode -> a MAPI address (3), done;
 *   3. contains "@" or starts with "[" -> MAPI address: Name@Number, [FAX:...], done;
 *   4. ends with %<Notes domain> -> name%...%number (underscores mean spaces), done;
 *   5. strip one leading and one trailing "/";
 *   6. FAX=... -> RFC 3192 (then as keyed); contains "^" -> caret; contains "/" or "=" -> keyed;
 *      letters "." number -> named; else plain.
 * Option values are percent-decoded (RightFax %20, POSTD %23). In name-type values (name,
 * company, from, name fields) "_" means space and "__" an underscore; that mapping is done
 * before percent-decoding so that %5F stays an underscore.
 * Text is made valid UTF-8 (Windows-1252, then ISO-8859-1, as fallbacks for 8-bit bytes) and
 * control characters become spaces.
 */
#include "common/error.h"
#include "smtpgw/fax_address.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"

#define VALUE_MAX 256	  /* characters of one option value */
#define TEMPLATE_MAX 64	  /* a cover template name */
#define PORT_MAX 32	  /* a line name */
#define SUBADDRESS_MAX 20 /* T.33 SUB digits */
#define POSTD_MAX 40	  /* RFC 2846 post-dial, as dialrules */
#define KEY_MAX 32	  /* an option name */
#define IGNORED_MAX 256	  /* characters of the ignored-keys note */

static const char *const default_imcea_types[] = {"FAX", NULL};
static const char *const default_notes_domains[] = {"FAX", "ExtraFax", "RightFax", NULL};

/* The public struct and what only this file sees. */
struct address_box {
	struct fax_address a;
	GString *ignored;
};

struct parse {
	const struct fax_address_settings *set;
	struct address_box *box;
	struct fax_address *a;
	bool allow_spaces; /* quoted or MAPI: space and ( ) may appear in the number */
	int name_fields;
	const char **error_r;
};

/* A short printable copy of user text for an error message. */
static const char *shown(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[o++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
	}
	if (len > 0 && o + 4 >= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

void fax_address_settings_default(struct fax_address_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->imcea_types = default_imcea_types;
	set->notes_domains = default_notes_domains;
	set->strict = false;
}

void fax_address_free(struct fax_address **addressp)
{
	struct fax_address *a = *addressp;
	if (a == NULL)
		return;
	struct address_box *box = (struct address_box *)a;
	g_free(a->number);
	g_free(a->name);
	g_free(a->company);
	g_free(a->from);
	g_free(a->cover);
	g_free(a->resolution);
	g_free(a->paper);
	g_free(a->t33s);
	g_free(a->isub);
	g_free(a->postd);
	g_free(a->billing);
	g_free(a->comments);
	g_free(a->port);
	if (a->custom != NULL)
		g_ptr_array_unref(a->custom);
	if (box->ignored != NULL)
		g_string_free(box->ignored, TRUE);
	g_free(box);
	*addressp = NULL;
}

const char *fax_address_ignored(const struct fax_address *address)
{
	const struct address_box *box = (const struct address_box *)address;
	return box->ignored != NULL && box->ignored->len > 0 ? box->ignored->str : NULL;
}

/* --- text helpers ------------------------------------------------------------------------- */

/* Valid UTF-8 without control characters, trimmed; NULL when nothing is left. */
static char *clean_text(const char *s, size_t len)
{
	char *u = NULL;
	if (g_utf8_validate(s, (gssize)len, NULL))
		u = g_strndup(s, len);
	if (u == NULL)
		u = g_convert(s, (gssize)len, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
	if (u == NULL)
		u = g_convert(s, (gssize)len, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
	if (u == NULL)
		u = g_utf8_make_valid(s, (gssize)len);
	GString *out = g_string_sized_new(len);
	for (const char *c = u; *c != '\0'; c = g_utf8_next_char(c)) {
		gunichar ch = g_utf8_get_char(c);
		if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0))
			ch = ' ';
		g_string_append_unichar(out, ch);
	}
	g_free(u);
	char *text = g_strstrip(g_string_free(out, FALSE));
	if (*text == '\0') {
		g_free(text);
		return NULL;
	}
	return text;
}

/* "%HH" -> octet (%00 dropped); a "%" not followed by two hex digits stays as it is. */
static GString *percent_decode(const char *s, size_t len)
{
	GString *out = g_string_sized_new(len);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && g_ascii_isxdigit(s[i + 1]) && g_ascii_isxdigit(s[i + 2])) {
			char c = (char)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2]));
			if (c != '\0')
				g_string_append_c(out, c);
			i += 2;
		} else {
			g_string_append_c(out, s[i]);
		}
	}
	return out;
}

/* "_" -> space, "__" -> "_" (eFax, Faximum, Domino). */
static GString *underscores(const char *s, size_t len)
{
	GString *out = g_string_sized_new(len);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_' && i + 1 < len && s[i + 1] == '_') {
			g_string_append_c(out, '_');
			i++;
		} else {
			g_string_append_c(out, s[i] == '_' ? ' ' : s[i]);
		}
	}
	return out;
}

/* A name-type value: underscores, then (unless Notes) percent-decoding, then clean. */
static char *name_value(const char *s, size_t len, bool decode)
{
	GString *u = underscores(s, len);
	GString *d = decode ? percent_decode(u->str, u->len) : g_string_new_len(u->str, (gssize)u->len);
	char *text = clean_text(d->str, d->len);
	g_string_free(u, TRUE);
	g_string_free(d, TRUE);
	return text;
}

/* Any other value: percent-decoded and cleaned. */
static char *plain_value(const char *s, size_t len)
{
	GString *d = percent_decode(s, len);
	char *text = clean_text(d->str, d->len);
	g_string_free(d, TRUE);
	return text;
}

static bool strv_has_case(const char *const *list, const char *s, size_t len)
{
	for (; list != NULL && *list != NULL; list++) {
		if (strlen(*list) == len && g_ascii_strncasecmp(*list, s, len) == 0)
			return true;
	}
	return false;
}

bool fax_address_is_token(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || s[0] == '.')
		return false;
	for (; *s != '\0'; s++) {
		if (!g_ascii_isalnum(*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	}
	return true;
}

/* --- numbers ------------------------------------------------------------------------------ */

static int check_number(struct parse *p, const char *s, size_t len, bool allow_spaces)
{
	const char **error_r = p->error_r;
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return error_set(error_r, "no fax number in the address");
	if (len > FAX_ADDRESS_MAX_NUMBER)
		return error_set(error_r, "the fax number is longer than %d characters", FAX_ADDRESS_MAX_NUMBER);
	int digits = 0;
	bool letters = false, space = false, other = false;
	char bad = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (g_ascii_isdigit(c))
			digits++;
		else if (c == '+' && i == 0)
			;
		else if (c == '-' || c == '.' || c == '#')
			;
		else if (c == ' ' || c == '(' || c == ')')
			space = true;
		else if (g_ascii_isalpha(c))
			letters = true;
		else if (!other) {
			other = true;
			bad = c;
		}
	}
	if (letters)
		return error_set(error_r, "letters are not allowed in a fax number");
	if (other) {
		if (bad == '+')
			return error_set(error_r, "\"+\" may only begin a fax number");
		if ((unsigned char)bad > 0x20 && (unsigned char)bad < 0x7f)
			return error_set(error_r, "\"%c\" is not allowed in a fax number (use digits, +, - and .)",
				    bad);
		return error_set(error_r, "only digits, +, - and . are allowed in a fax number");
	}
	if (space && !allow_spaces)
		return error_set(error_r, "spaces and parentheses in a fax number need a quoted address "
				     "(\"+1 (555) 123-4567\"@domain); or leave them out");
	if (digits == 0)
		return error_set(error_r, "no digits in the fax number");
	if (p->a->number != NULL)
		return error_set(error_r, "more than one fax number in the address");
	p->a->number = g_strndup(s, len);
	return 0;
}

/* A bare segment that is meant as a number: starts with + or a digit, and either has no
   letters or at least 3 digits ("5551234567x" is a bad number, "3M" a name). */
static bool looks_like_number(const char *s, size_t len)
{
	if (len == 0 || (s[0] != '+' && !g_ascii_isdigit(s[0])))
		return false;
	int digits = 0;
	bool letters = false;
	for (size_t i = 0; i < len; i++) {
		digits += g_ascii_isdigit(s[i]) ? 1 : 0;
		letters |= g_ascii_isalpha(s[i]) != 0;
	}
	return !letters || digits >= 3;
}

/* --- options ------------------------------------------------------------------------------ */

enum opt {
	OPT_FAX,
	OPT_NAME,
	OPT_COMPANY,
	OPT_FROM,
	OPT_COVER,
	OPT_CP,
	OPT_NOCOVER,
	OPT_TEMPLATE,
	OPT_PRIORITY,
	OPT_FAX_PRIORITY,
	OPT_RES,
	OPT_STANDARD,
	OPT_FINE,
	OPT_SUPERFINE,
	OPT_PAPER,
	OPT_A4,
	OPT_LETTER,
	OPT_LEGAL,
	OPT_RETRIES,
	OPT_BILLING,
	OPT_T33S,
	OPT_ISUB,
	OPT_POSTD,
	OPT_COMMENTS,
	OPT_PORT,
	OPT_NOPREFIX,
};

enum opt_shape {
	SHAPE_VALUE, /* key=value only */
	SHAPE_FLAG,  /* bare only */
	SHAPE_BOOL,  /* key=bool, or bare = yes */
};

struct opt_def {
	const char *key;
	enum opt opt;
	enum opt_shape shape;
};

/* research/conventions.md §2.2, keys case-insensitive. */
static const struct opt_def opt_defs[] = {
    {"fax", OPT_FAX, SHAPE_VALUE},
    {"number", OPT_FAX, SHAPE_VALUE},
    {"name", OPT_NAME, SHAPE_VALUE},
    {"to", OPT_NAME, SHAPE_VALUE},
    {"co", OPT_COMPANY, SHAPE_VALUE},
    {"company", OPT_COMPANY, SHAPE_VALUE},
    {"fr", OPT_FROM, SHAPE_VALUE},
    {"from", OPT_FROM, SHAPE_VALUE},
    {"cover", OPT_COVER, SHAPE_BOOL},
    {"cp", OPT_CP, SHAPE_BOOL},
    {"cover-page-enabled", OPT_CP, SHAPE_BOOL},
    {"nocover", OPT_NOCOVER, SHAPE_FLAG},
    {"template", OPT_TEMPLATE, SHAPE_VALUE},
    {"priority", OPT_PRIORITY, SHAPE_VALUE},
    {"fax-priority", OPT_FAX_PRIORITY, SHAPE_VALUE},
    {"res", OPT_RES, SHAPE_VALUE},
    {"resolution", OPT_RES, SHAPE_VALUE},
    {"standard", OPT_STANDARD, SHAPE_FLAG},
    {"coarse", OPT_STANDARD, SHAPE_FLAG},
    {"fine", OPT_FINE, SHAPE_FLAG},
    {"superfine", OPT_SUPERFINE, SHAPE_FLAG},
    {"paper", OPT_PAPER, SHAPE_VALUE},
    {"a4", OPT_A4, SHAPE_FLAG},
    {"letter", OPT_LETTER, SHAPE_FLAG},
    {"legal", OPT_LEGAL, SHAPE_FLAG},
    {"retries", OPT_RETRIES, SHAPE_VALUE},
    {"billing", OPT_BILLING, SHAPE_VALUE},
    {"t33s", OPT_T33S, SHAPE_VALUE},
    {"sub", OPT_T33S, SHAPE_VALUE},
    {"isub", OPT_ISUB, SHAPE_VALUE},
    {"postd", OPT_POSTD, SHAPE_VALUE},
    {"inline-comments", OPT_COMMENTS, SHAPE_BOOL},
    {"comments", OPT_COMMENTS, SHAPE_BOOL},
    {"port", OPT_PORT, SHAPE_VALUE},
    {"noprefix", OPT_NOPREFIX, SHAPE_FLAG},
};

static const struct opt_def *opt_find(const char *key, size_t len)
{
	for (size_t i = 0; i < G_N_ELEMENTS(opt_defs); i++) {
		if (strlen(opt_defs[i].key) == len && g_ascii_strncasecmp(opt_defs[i].key, key, len) == 0)
			return &opt_defs[i];
	}
	return NULL;
}

/* Set a string field once; the same value again is fine, a different one is an error. */
static int set_once(struct parse *p, char **slot, char *value, const char *what)
{
	if (value == NULL)
		return error_set(p->error_r, "%s needs a value", what);
	if (*slot != NULL) {
		bool same = strcmp(*slot, value) == 0;
		g_free(value);
		return same ? 0 : error_set(p->error_r, "%s is given twice with different values", what);
	}
	*slot = value;
	return 0;
}

static int set_int_once(struct parse *p, int *slot, int value, const char *what)
{
	if (*slot >= 0 && *slot != value)
		return error_set(p->error_r, "%s is given twice with different values", what);
	*slot = value;
	return 0;
}

static int parse_small_int(const char *s, int max)
{
	if (s == NULL || *s == '\0' || strlen(s) > 3)
		return -1;
	int v = 0;
	for (; *s != '\0'; s++) {
		if (!g_ascii_isdigit(*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
}

/* Digits with written separators ("-", "."), which are dropped; NULL when not that. */
static char *digits_only(const char *s, size_t max)
{
	GString *d = g_string_new(NULL);
	for (; *s != '\0'; s++) {
		if (g_ascii_isdigit(*s))
			g_string_append_c(d, *s);
		else if (*s != '-' && *s != '.') {
			g_string_free(d, TRUE);
			return NULL;
		}
	}
	if (d->len == 0 || d->len > max) {
		g_string_free(d, TRUE);
		return NULL;
	}
	return g_string_free(d, FALSE);
}

static int note_unknown(struct parse *p, const char *key, size_t len)
{
	char buf[KEY_MAX + 8];
	if (p->set->strict)
		return error_set(p->error_r, "unknown address option \"%s\"", shown(key, len, buf, sizeof(buf)));
	GString **ign = &p->box->ignored;
	if (*ign == NULL)
		*ign = g_string_new(NULL);
	if ((*ign)->len >= IGNORED_MAX)
		return 0;
	shown(key, len, buf, sizeof(buf));
	for (char *c = buf; *c != '\0'; c++) {
		*c = g_ascii_tolower(*c);
		if (*c == ',')
			*c = '?';
	}
	/* Once each. */
	g_auto(GStrv) seen = g_strsplit((*ign)->str, ",", -1);
	if (g_strv_contains((const char *const *)seen, buf))
		return 0;
	if ((*ign)->len > 0)
		g_string_append_c(*ign, ',');
	g_string_append(*ign, buf);
	return 0;
}

/* key[=value] (value raw, NULL for a bare key). 1 applied, 0 not a known key, -1 error. */
static int apply_option(struct parse *p, const char *key, size_t klen, const char *value, size_t vlen)
{
	const struct opt_def *d = opt_find(key, klen);
	struct fax_address *a = p->a;
	const char **error_r = p->error_r;
	if (d == NULL)
		return 0;
	const char *k = d->key;
	if (value == NULL && d->shape == SHAPE_VALUE)
		return error_set(error_r, "%s= needs a value", k);
	if (value != NULL && d->shape == SHAPE_FLAG)
		return error_set(error_r, "%s takes no value", k);
	if (value != NULL && vlen > VALUE_MAX)
		return error_set(error_r, "the value of %s= is longer than %d characters", k, VALUE_MAX);

	g_autofree char *v = NULL;
	bool b = true;
	if (value != NULL) {
		bool name_type = d->opt == OPT_NAME || d->opt == OPT_COMPANY || d->opt == OPT_FROM;
		v = name_type ? name_value(value, vlen, true) : plain_value(value, vlen);
		if (v == NULL)
			return error_set(error_r, "%s= needs a value", k);
		if (d->shape == SHAPE_BOOL && d->opt != OPT_COVER && config_parse_bool(v, &b) < 0)
			return error_set(error_r, "%s= expects yes or no (true/false, on/off, 1/0)", k);
	}
	int n;
	switch (d->opt) {
	case OPT_FAX: {
		bool decoded = memchr(value, '%', vlen) != NULL;
		return check_number(p, v, strlen(v), p->allow_spaces || decoded) < 0 ? -1 : 1;
	}
	case OPT_NAME:
		return set_once(p, &a->name, g_steal_pointer(&v), "the recipient name") < 0 ? -1 : 1;
	case OPT_COMPANY:
		return set_once(p, &a->company, g_steal_pointer(&v), "the company") < 0 ? -1 : 1;
	case OPT_FROM:
		return set_once(p, &a->from, g_steal_pointer(&v), "fr=") < 0 ? -1 : 1;
	case OPT_COVER:
		if (v != NULL && config_parse_bool(v, &b) < 0) {
			if (!fax_address_is_token(v, TEMPLATE_MAX))
				return error_set(error_r, "cover= expects yes, no or a template name "
						     "(letters, digits, . _ -)");
			return set_once(p, &a->cover, g_steal_pointer(&v), "the cover page") < 0 ? -1 : 1;
		}
		return set_once(p, &a->cover, g_strdup(b ? "yes" : "no"), "the cover page") < 0 ? -1 : 1;
	case OPT_CP:
		return set_once(p, &a->cover, g_strdup(b ? "yes" : "no"), "the cover page") < 0 ? -1 : 1;
	case OPT_NOCOVER:
		return set_once(p, &a->cover, g_strdup("no"), "the cover page") < 0 ? -1 : 1;
	case OPT_TEMPLATE:
		if (!fax_address_is_token(v, TEMPLATE_MAX))
			return error_set(error_r, "template= expects a template name (letters, digits, . _ -)");
		return set_once(p, &a->cover, g_steal_pointer(&v), "the cover page") < 0 ? -1 : 1;
	case OPT_PRIORITY:
		if (g_ascii_strcasecmp(v, "low") == 0)
			n = 2;
		else if (g_ascii_strcasecmp(v, "normal") == 0)
			n = 5;
		else if (g_ascii_strcasecmp(v, "high") == 0)
			n = 8;
		else if ((n = parse_small_int(v, 9)) < 0 || strlen(v) != 1)
			return error_set(error_r, "priority= expects 0 to 9, low, normal or high");
		return set_int_once(p, &a->priority, n, "the priority") < 0 ? -1 : 1;
	case OPT_FAX_PRIORITY: {
		static const int map[] = {9, 7, 5, 4, 2, 0};
		if ((n = parse_small_int(v, 5)) < 0 || strlen(v) != 1)
			return error_set(error_r, "fax-priority= expects 0 (highest) to 5 (lowest)");
		return set_int_once(p, &a->priority, map[n], "the priority") < 0 ? -1 : 1;
	}
	case OPT_RES: {
		const char *r = NULL;
		if (g_ascii_strcasecmp(v, "standard") == 0 || g_ascii_strcasecmp(v, "coarse") == 0 ||
		    g_ascii_strcasecmp(v, "normal") == 0 || g_ascii_strcasecmp(v, "low") == 0)
			r = "standard";
		else if (g_ascii_strcasecmp(v, "fine") == 0 || g_ascii_strcasecmp(v, "high") == 0)
			r = "fine";
		else if (g_ascii_strcasecmp(v, "superfine") == 0)
			r = "superfine";
		else
			return error_set(error_r, "res= expects standard, fine or superfine");
		return set_once(p, &a->resolution, g_strdup(r), "the resolution") < 0 ? -1 : 1;
	}
	case OPT_STANDARD:
		return set_once(p, &a->resolution, g_strdup("standard"), "the resolution") < 0 ? -1 : 1;
	case OPT_FINE:
		return set_once(p, &a->resolution, g_strdup("fine"), "the resolution") < 0 ? -1 : 1;
	case OPT_SUPERFINE:
		return set_once(p, &a->resolution, g_strdup("superfine"), "the resolution") < 0 ? -1 : 1;
	case OPT_PAPER:
		if (g_ascii_strcasecmp(v, "a4") != 0 && g_ascii_strcasecmp(v, "letter") != 0 &&
		    g_ascii_strcasecmp(v, "legal") != 0)
			return error_set(error_r, "paper= expects a4, letter or legal");
		return set_once(p, &a->paper, g_ascii_strdown(v, -1), "the paper size") < 0 ? -1 : 1;
	case OPT_A4:
		return set_once(p, &a->paper, g_strdup("a4"), "the paper size") < 0 ? -1 : 1;
	case OPT_LETTER:
		return set_once(p, &a->paper, g_strdup("letter"), "the paper size") < 0 ? -1 : 1;
	case OPT_LEGAL:
		return set_once(p, &a->paper, g_strdup("legal"), "the paper size") < 0 ? -1 : 1;
	case OPT_RETRIES:
		if ((n = parse_small_int(v, FAX_ADDRESS_MAX_RETRIES)) < 0)
			return error_set(error_r, "retries= expects a whole number from 0 to %d",
				    FAX_ADDRESS_MAX_RETRIES);
		return set_int_once(p, &a->retries, n, "retries=") < 0 ? -1 : 1;
	case OPT_BILLING:
		return set_once(p, &a->billing, g_steal_pointer(&v), "billing=") < 0 ? -1 : 1;
	case OPT_T33S: {
		char *digits = digits_only(v, SUBADDRESS_MAX);
		if (digits == NULL)
			return error_set(error_r, "T33S= expects 1 to %d digits (the T.33 subaddress)",
				    SUBADDRESS_MAX);
		return set_once(p, &a->t33s, digits, "the subaddress") < 0 ? -1 : 1;
	}
	case OPT_ISUB: {
		char *digits = digits_only(v, POSTD_MAX);
		if (digits == NULL)
			return error_set(error_r, "ISUB= expects digits (the ISDN subaddress)");
		g_free(digits);
		return set_once(p, &a->isub, g_steal_pointer(&v), "ISUB=") < 0 ? -1 : 1;
	}
	case OPT_POSTD:
		if (strlen(v) > POSTD_MAX || strspn(v, "0123456789*#ABCDabcdPpWw,-.") != strlen(v))
			return error_set(error_r,
				    "POSTD= expects up to %d of 0-9 * # A-D, p (pause), w (wait) "
				    "(write # as %%23)",
				    POSTD_MAX);
		return set_once(p, &a->postd, g_steal_pointer(&v), "POSTD=") < 0 ? -1 : 1;
	case OPT_COMMENTS:
		return set_once(p, &a->comments, g_strdup(b ? "yes" : "no"), "inline-comments=") < 0 ? -1 : 1;
	case OPT_PORT:
		if (!fax_address_is_token(v, PORT_MAX))
			return error_set(error_r, "port= expects a line name (letters, digits, . _ -)");
		a->admin_options = true;
		return set_once(p, &a->port, g_steal_pointer(&v), "port=") < 0 ? -1 : 1;
	case OPT_NOPREFIX:
		a->admin_options = true;
		a->noprefix = true;
		return 1;
	}
	return 0;
}

static bool valid_key(const char *key, size_t len)
{
	if (len == 0 || len > KEY_MAX || !g_ascii_isalpha(key[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isalnum(key[i]) && key[i] != '-' && key[i] != '_')
			return false;
	}
	return true;
}

/* A key=value or bare option segment where no name field can stand. */
static int option_segment(struct parse *p, const char *seg, size_t len)
{
	char buf[KEY_MAX + 8];
	const char *eq = memchr(seg, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - seg) : len;
	if (klen == 0)
		return error_set(p->error_r, "an option has no name (\"=%s\")",
			    shown(seg + 1, len - 1, buf, sizeof(buf)));
	if (!valid_key(seg, klen))
		return error_set(p->error_r, "\"%s\" is not an option name (letters, digits, - and _)",
			    shown(seg, klen, buf, sizeof(buf)));
	int ret = apply_option(p, seg, klen, eq != NULL ? eq + 1 : NULL, eq != NULL ? len - klen - 1 : 0);
	if (ret < 0)
		return -1;
	return ret == 0 ? note_unknown(p, seg, klen) : 0;
}

/* Name fields in order: recipient name, company, cover custom 1 and 2. */
static int name_field(struct parse *p, char *text)
{
	if (text == NULL)
		return 0;
	if (p->name_fields >= FAX_ADDRESS_MAX_NAME_FIELDS) {
		g_free(text);
		return error_set(p->error_r, "at most %d name fields may come before the number",
			    FAX_ADDRESS_MAX_NAME_FIELDS);
	}
	switch (p->name_fields++) {
	case 0:
		return set_once(p, &p->a->name, text, "the recipient name");
	case 1:
		return set_once(p, &p->a->company, text, "the company");
	default:
		g_ptr_array_add(p->a->custom, text);
		return 0;
	}
}

/* --- forms -------------------------------------------------------------------------------- */

/* RFC 3192 after FAX=, eFax, Cisco, RightFax, Faximum: "/"-separated segments. */
static int parse_keyed(struct parse *p, const char *s)
{
	g_auto(GStrv) segs = g_strsplit(s, "/", -1);
	for (char **seg = segs; *seg != NULL; seg++) {
		size_t len = strlen(*seg);
		if (len == 0)
			continue;
		if (strchr(*seg, '=') != NULL) {
			if (option_segment(p, *seg, len) < 0)
				return -1;
			continue;
		}
		const struct opt_def *d = opt_find(*seg, len);
		if (d != NULL && d->shape != SHAPE_VALUE) {
			if (apply_option(p, *seg, len, NULL, 0) < 0)
				return -1;
		} else if (looks_like_number(*seg, len)) {
			if (check_number(p, *seg, len, p->allow_spaces) < 0)
				return -1;
		} else if (name_field(p, name_value(*seg, len, true)) < 0) {
			return -1;
		}
	}
	return 0;
}

/* FaxBack: number^FLAG^KEY=value. */
static int parse_caret(struct parse *p, const char *s)
{
	g_auto(GStrv) segs = g_strsplit(s, "^", -1);
	if (segs[0][0] == '\0')
		return error_set(p->error_r, "the fax number must come before the first ^");
	if (check_number(p, segs[0], strlen(segs[0]), p->allow_spaces) < 0)
		return -1;
	for (char **seg = segs + 1; *seg != NULL; seg++) {
		if (**seg != '\0' && option_segment(p, *seg, strlen(*seg)) < 0)
			return -1;
	}
	return 0;
}

/* Name.Number: the first "." with a letter before it and only a number after it. */
static bool split_named(const char *s, size_t *dot_r)
{
	bool alpha = false;
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.' && alpha) {
			const char *rest = s + i + 1;
			size_t rlen = strlen(rest);
			if (rlen > 0 && (rest[0] == '+' || g_ascii_isdigit(rest[0])) &&
			    strspn(rest, "0123456789+-.") == rlen) {
				*dot_r = i;
				return true;
			}
		}
		alpha |= g_ascii_isalpha(s[i]) != 0 || (unsigned char)s[i] >= 0x80;
	}
	return false;
}

/* Notes/Domino: name%...%number (the Notes domain already cut off). Not percent-decoded. */
static int parse_notes(struct parse *p, const char *s, size_t len)
{
	g_autofree char *copy = g_strndup(s, len);
	g_auto(GStrv) parts = g_strsplit(copy, "%", -1);
	guint n = g_strv_length(parts);
	if (n == 0 || parts[n - 1][0] == '\0')
		return error_set(p->error_r, "no fax number before the Notes domain (name%%number%%FAX)");
	for (guint i = 0; i + 1 < n; i++) {
		if (parts[i][0] != '\0' && name_field(p, name_value(parts[i], strlen(parts[i]), false)) < 0)
			return -1;
	}
	return check_number(p, parts[n - 1], strlen(parts[n - 1]), p->allow_spaces);
}

/* The part after %/@ that names a Notes foreign domain: its length with the separator, or 0. */
static size_t notes_suffix(const struct parse *p, const char *s, size_t len, char sep)
{
	for (const char *const *d = p->set->notes_domains; d != NULL && *d != NULL; d++) {
		size_t dl = strlen(*d);
		if (dl > 0 && len > dl + 1 && s[len - dl - 1] == sep &&
		    g_ascii_strncasecmp(s + len - dl, *d, dl) == 0)
			return dl + 1;
	}
	return 0;
}

/* MS-OXCMAIL MAPI address: [FAX:Dialable|Name@Canonical|Special], [MSFAX:Name@Phone|Special],
   Name@Number (split at the last "@"), or a bare number. */
static int parse_mapi(struct parse *p, const char *text)
{
	const char **error_r = p->error_r;
	g_autofree char *s = g_strstrip(g_strdup(text));
	char *body = s;
	p->allow_spaces = true;
	if (*s == '[') {
		size_t len = strlen(s);
		if (len < 2 || s[len - 1] != ']')
			return error_set(error_r, "a [ without ] in the fax address");
		s[len - 1] = '\0';
		char *colon = strchr(s + 1, ':');
		if (colon == NULL)
			return error_set(error_r, "a MAPI fax address needs a type: [FAX:number]");
		*colon = '\0';
		const char *type = s + 1;
		if (g_ascii_strcasecmp(type, "FAX") != 0 && g_ascii_strcasecmp(type, "MSFAX") != 0 &&
		    !strv_has_case(p->set->imcea_types, type, strlen(type))) {
			char buf[24];
			return error_set(error_r, "[%s:...] is not a fax address type (FAX or MSFAX)",
				    shown(type, strlen(type), buf, sizeof(buf)));
		}
		body = colon + 1;
	} else if (strchr(s, ']') != NULL) {
		return error_set(error_r, "a ] without [ in the fax address");
	}
	g_auto(GStrv) parts = g_strsplit(body, "|", -1);
	if (g_strv_length(parts) > 3)
		return error_set(error_r, "too many | parts in the MAPI fax address");
	g_autofree char *name = NULL, *canonical = NULL, *dialable = NULL, *special = NULL;
	for (guint i = 0; parts[i] != NULL; i++) {
		char *part = g_strstrip(parts[i]);
		char *at = strrchr(part, '@');
		if (at != NULL) {
			if (canonical != NULL)
				return error_set(error_r, "more than one Name@Number in the MAPI fax address");
			*at = '\0';
			name = g_strdup(part);
			canonical = g_strdup(at + 1);
			/* Notes: Name@Number@FAX. */
			if (strv_has_case(p->set->notes_domains, canonical, strlen(canonical))) {
				char *at2 = strrchr(name, '@');
				if (at2 == NULL)
					return error_set(
					    error_r,
					    "no fax number before the Notes domain (Name@Number@FAX)");
				g_free(canonical);
				canonical = g_strdup(at2 + 1);
				*at2 = '\0';
				p->a->form = "notes";
			}
		} else if (i == 0) {
			dialable = g_strdup(part);
		} else if (special == NULL) {
			special = g_strdup(part);
		} else {
			return error_set(error_r, "more than one special dialing part in the MAPI fax address");
		}
	}
	if (name != NULL)
		p->a->name = clean_text(name, strlen(name));
	const char *number = canonical != NULL && canonical[0] != '\0' ? canonical : dialable;
	if (number == NULL || number[0] == '\0')
		return error_set(error_r, "no fax number in the address");
	if (check_number(p, number, strlen(number), true) < 0)
		return -1;
	if (special != NULL && special[0] != '\0') {
		char *digits = special[0] == '#' ? digits_only(special + 1, SUBADDRESS_MAX) : NULL;
		if (digits != NULL)
			p->a->t33s = digits;
		else if (strlen(special) <= POSTD_MAX &&
			 strspn(special, "0123456789*#ABCDabcdPpWw,-. ") == strlen(special))
			p->a->postd = g_strdup(special);
		else
			return error_set(error_r, "the special dialing part of the MAPI fax address must be "
					     "#subaddress or post-dial digits");
	}
	return 0;
}

/* MS-OXCMAIL §2.2.3.1.2: "_" -> "/", "+HH" -> octet; a malformed "+" stays literally. Other
   characters are not legal but are kept (tolerance). NUL octets are dropped. */
static char *imcea_decode(const char *s)
{
	GString *out = g_string_new(NULL);
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == '_') {
			g_string_append_c(out, '/');
		} else if (s[i] == '+' && g_ascii_isxdigit(s[i + 1]) && g_ascii_isxdigit(s[i + 2])) {
			char c = (char)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2]));
			if (c != '\0')
				g_string_append_c(out, c);
			i += 2;
		} else {
			g_string_append_c(out, s[i]);
		}
	}
	char *text = clean_text(out->str, out->len);
	g_string_free(out, TRUE);
	return text;
}

/* IMCEA<type>-: 1 and *rest_r when it is one of ours, 0 when not IMCEA at all, -1 other types. */
static int imcea_prefix(struct parse *p, const char *s, const char **rest_r)
{
	if (g_ascii_strncasecmp(s, "IMCEA", 5) != 0)
		return 0;
	const char *type = s + 5, *dash = type;
	while (g_ascii_isalnum(*dash))
		dash++;
	if (*dash != '-' || dash == type)
		return 0;
	if (!strv_has_case(p->set->imcea_types, type, (size_t)(dash - type))) {
		char buf[24];
		return error_set(p->error_r, "IMCEA%s addresses are not fax addresses",
			    shown(type, (size_t)(dash - type), buf, sizeof(buf)));
	}
	*rest_r = dash + 1;
	return 1;
}

/* RFC 5321 quoted-string -> its content; 0 not quoted, 1 unquoted into *out_r, -1 malformed. */
static int unquote(struct parse *p, const char *s, char **out_r)
{
	if (s[0] != '"')
		return 0;
	GString *out = g_string_new(NULL);
	size_t i = 1;
	for (; s[i] != '\0' && s[i] != '"'; i++) {
		if (s[i] == '\\') {
			if (s[i + 1] == '\0')
				break;
			i++;
		}
		g_string_append_c(out, s[i]);
	}
	if (s[i] != '"' || s[i + 1] != '\0') {
		g_string_free(out, TRUE);
		return error_set(p->error_r, "unbalanced quotes in the address");
	}
	*out_r = g_string_free(out, FALSE);
	return 1;
}

static int parse_local(struct parse *p, const char *local)
{
	const char **error_r = p->error_r;
	g_autofree char *unquoted = NULL;
	int q = unquote(p, local, &unquoted);
	if (q < 0)
		return -1;
	const char *s = q > 0 ? unquoted : local;
	p->allow_spaces = q > 0;
	while (*s == ' ')
		s++;
	if (*s == '\0')
		return error_set(error_r, "the address has an empty local part");

	/* Exchange IMCEA. */
	const char *rest = NULL;
	int im = imcea_prefix(p, s, &rest);
	if (im < 0)
		return -1;
	if (im > 0) {
		p->a->form = "imcea";
		g_autofree char *decoded = imcea_decode(rest);
		if (decoded == NULL)
			return error_set(error_r, "no fax number in the IMCEA address");
		return parse_mapi(p, decoded);
	}
	/* MAPI Name@Number / [FAX:...] (quoted, or already unquoted by the caller). */
	if (strchr(s, '@') != NULL || s[0] == '[') {
		p->a->form = "quoted-mapi";
		return parse_mapi(p, s);
	}
	/* Notes foreign domain. */
	size_t len = strlen(s);
	size_t cut = notes_suffix(p, s, len, '%');
	if (cut > 0) {
		p->a->form = "notes";
		return parse_notes(p, s, len - cut);
	}
	/* RFC 3191: one optional leading and trailing "/". */
	g_autofree char *body = g_strdup(s);
	char *b = body;
	if (*b == '/')
		b++;
	len = strlen(b);
	if (len > 0 && b[len - 1] == '/')
		b[--len] = '\0';
	if (len == 0)
		return error_set(error_r, "no fax number in the address");

	if (g_ascii_strncasecmp(b, "FAX=", 4) == 0) {
		p->a->form = "rfc3192";
		if (parse_keyed(p, b) < 0)
			return -1;
	} else if (strchr(b, '^') != NULL) {
		p->a->form = "caret";
		if (parse_caret(p, b) < 0)
			return -1;
	} else if (strchr(b, '/') != NULL || strchr(b, '=') != NULL) {
		p->a->form = "keyed";
		if (parse_keyed(p, b) < 0)
			return -1;
	} else {
		size_t dot;
		if (split_named(b, &dot)) {
			p->a->form = "named";
			if (name_field(p, name_value(b, dot, true)) < 0)
				return -1;
			return check_number(p, b + dot + 1, len - dot - 1, p->allow_spaces);
		}
		p->a->form = "plain";
		bool digits = strpbrk(b, "0123456789") != NULL;
		bool alpha = false;
		for (const char *c = b; *c != '\0'; c++)
			alpha |= g_ascii_isalpha(*c) != 0;
		if (!digits && alpha)
			return error_set(error_r, "not a fax number: write the number before the @ "
					     "(+15551234567@domain)");
		return check_number(p, b, len, p->allow_spaces);
	}
	if (p->a->number == NULL)
		return error_set(error_r, "no fax number in the address (fax=... or the number before the @)");
	return 0;
}

int fax_address_parse(const struct fax_address_settings *set, const char *local, const char *domain,
		      struct fax_address **address_r, const char **error_r)
{
	struct fax_address_settings defaults;
	*address_r = NULL;
	if (set == NULL) {
		fax_address_settings_default(&defaults);
		set = &defaults;
	}
	if (local == NULL || *local == '\0')
		return error_set(error_r, "the address has an empty local part");
	if (domain == NULL || *domain == '\0')
		return error_set(error_r, "the address has no domain");
	if (strnlen(local, FAX_ADDRESS_MAX_LOCAL + 1) > FAX_ADDRESS_MAX_LOCAL)
		return error_set(error_r, "the address is longer than %d characters", FAX_ADDRESS_MAX_LOCAL);
	for (const char *c = local; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return error_set(error_r, "control characters are not allowed in the address");
	}

	struct address_box *box = g_new0(struct address_box, 1);
	struct fax_address *a = &box->a;
	a->priority = -1;
	a->retries = -1;
	a->custom = g_ptr_array_new_with_free_func(g_free);
	struct parse p = {.set = set, .box = box, .a = a, .error_r = error_r};
	if (parse_local(&p, local) < 0) {
		fax_address_free(&a);
		return -1;
	}
	if (a->number == NULL) {
		fax_address_free(&a);
		return error_set(error_r, "no fax number in the address");
	}
	*address_r = a;
	return 0;
}
