/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Dial rules: read a fax number as a user wrote it, turn it into an E.164 number (ITU-T E.164,
 * written forms of ITU-T E.123, visual separators of RFC 3966) plus the string the line dials,
 * put it in a class (internal, local, national, international, premium), and decide whether it
 * may be dialled. A "#" after the number starts an ITU-T T.33 subaddress.
 *
 * Everything depends on the settings alone; there is no country-specific code. The number is
 * read in this order:
 *
 *   1. Separators (space - . ( )) are dropped, a leading "+" marks an international number, a
 *      "#" starts the subaddress; letters and other characters are refused.
 *   2. Without "+": exactly internal_digits digits make an internal extension. Digits that
 *      begin with the international prefix are an international number (as after "+").
 *   3. An international number that begins with our country code is ours: what follows is the
 *      national significant number (NSN). A national prefix written there ("+49 (0)30",
 *      "+49 030") is dropped; "(0)" is dropped in any international number (E.123 says not to
 *      write it, people do).
 *   4. Other numbers are domestic. In a closed plan (national_digits > 0, NANP: 10) the length
 *      decides: national_prefix + national_digits, national_digits (the area code written
 *      without the prefix: "5551234567"), or national_digits minus the area code's length
 *      (a subscriber: the area code is added). In an open plan (national_digits = 0, Germany)
 *      a number that begins with the national prefix is national, any other one is a subscriber
 *      number in our area; without a national prefix (Italy, Denmark) numbers are always
 *      written in full.
 *
 * Classes: premium (a premium prefix matches: checked first), internal, international (another
 * country code), local (our country, the NSN begins with our area code; every number of our
 * country when no area code is set), national.
 *
 * Dial strings: outside_prefix first, except for internal extensions, then
 *   international: international_prefix + country code + NSN
 *   national:      national_prefix + NSN
 *   local:         the NSN in a closed plan (NANP ten-digit dialling works everywhere, seven
 *                  digits no longer does in overlay areas such as 212) or without a national
 *                  prefix; else the subscriber number alone (the NSN less the area code)
 * then any post-dial string. The subaddress is not dialled: it travels in the T.30 SUB frame.
 *
 * Error strings are formatted into a thread-local buffer rather than one owned by the rules:
 * faxd and smtpgw may share one const rules object between threads, and a buffer inside it
 * would be written by all of them.
 */
#include "common/dialrules.h"

#include "common/error.h"

#include "common/config.h"
#include "common/log.h"

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dialrules {
	char *country_code, *area_code, *national_prefix, *international_prefix, *outside_prefix;
	int internal_digits, min_digits, max_digits, national_digits;
	char **allow, **deny, **premium; /* normalised: optional '+', then digits */
	bool classes[DIAL_CLASS_COUNT];
};

static const char *const class_names[DIAL_CLASS_COUNT] = {
    "internal", "local", "national", "international", "premium",
};
static const char *const class_phrases[DIAL_CLASS_COUNT] = {
    "internal extensions",   "local numbers",	     "national numbers",
    "international numbers", "premium-rate numbers",
};

/* Characters a user may write between digits (RFC 3966 visual-separator, plus space). */
static const char separators[] = " -.()";
/* What an outside prefix may hold: digits, DTMF * #, pause ',' 'p', wait 'w'. */
static const char outside_chars[] = "0123456789*#,pw";

static int fail_static(const char **error_r, const char *msg)
{
	if (error_r != NULL)
		*error_r = msg;
	return -1;
}

static void panic(const char *what)
{
	fprintf(stderr, "panic: dialrules: %s\n", what);
	abort();
}

static const char *str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static bool digits_between(const char *s, size_t min, size_t max)
{
	size_t len = strlen(s);
	if (len < min || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
	}
	return true;
}

static bool is_separator(char c)
{
	return c != '\0' && strchr(separators, c) != NULL;
}

/* A list entry with separators dropped ("+1 900" -> "+1900"), or NULL when it is not an
   optional '+' followed by 1 to 15 digits. */
static char *normalize_prefix(const char *entry)
{
	char buf[DIALRULES_E164_MAX_DIGITS + 2];
	size_t len = 0, digits = 0;
	for (const char *p = entry; *p != '\0'; p++) {
		if (is_separator(*p))
			continue;
		if (*p == '+' && len == 0) {
			buf[len++] = '+';
			continue;
		}
		if (!g_ascii_isdigit(*p) || digits == DIALRULES_E164_MAX_DIGITS)
			return NULL;
		buf[len++] = *p;
		digits++;
	}
	if (digits == 0)
		return NULL;
	buf[len] = '\0';
	return g_strdup(buf);
}

static bool prefixes_valid(const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		g_autofree char *p = normalize_prefix(list[i]);
		if (p == NULL)
			return false;
	}
	return true;
}

static char **copy_prefixes(const char *const *list)
{
	GPtrArray *items = g_ptr_array_new();
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		char *p = normalize_prefix(list[i]);
		if (p == NULL)
			panic("prefix list not checked");
		g_ptr_array_add(items, p);
	}
	g_ptr_array_add(items, NULL);
	return (char **)g_ptr_array_free(items, FALSE);
}

/* The longest entry of list that begins e164, or NULL. */
static const char *match_prefix(char *const *list, const char *e164)
{
	const char *best = NULL;
	for (size_t i = 0; list[i] != NULL; i++) {
		if (g_str_has_prefix(e164, list[i]) && (best == NULL || strlen(list[i]) > strlen(best)))
			best = list[i];
	}
	return best;
}

/* Mark the classes named in names; -1 when one is unknown (all are still read). */
static int parse_classes(const char *const *names, bool allowed_r[DIAL_CLASS_COUNT])
{
	int ret = 0;
	for (size_t i = 0; i < DIAL_CLASS_COUNT; i++)
		allowed_r[i] = false;
	for (size_t i = 0; names[i] != NULL; i++) {
		enum dial_class c;
		if (dial_class_parse(names[i], &c) < 0)
			ret = -1;
		else
			allowed_r[c] = true;
	}
	return ret;
}

static void default_classes(bool allowed_r[DIAL_CLASS_COUNT])
{
	for (size_t i = 0; i < DIAL_CLASS_COUNT; i++)
		allowed_r[i] = i != DIAL_CLASS_PREMIUM;
}

const char *dial_class_name(enum dial_class c)
{
	return (unsigned)c < DIAL_CLASS_COUNT ? class_names[c] : "unknown";
}

int dial_class_parse(const char *name, enum dial_class *class_r)
{
	for (size_t i = 0; name != NULL && i < DIAL_CLASS_COUNT; i++) {
		if (g_ascii_strcasecmp(name, class_names[i]) == 0) {
			*class_r = (enum dial_class)i;
			return 0;
		}
	}
	return -1;
}

int dialrules_settings_check(const struct dialrules_settings *set, const char **error_r)
{
	const char *cc = str_or_empty(set->country_code), *area = str_or_empty(set->area_code);
	const char *np = str_or_empty(set->national_prefix), *ip = str_or_empty(set->international_prefix);
	const char *op = str_or_empty(set->outside_prefix);
	int max = set->max_digits != 0 ? set->max_digits : DIALRULES_E164_MAX_DIGITS;

	if (!digits_between(cc, 1, 3) || cc[0] == '0')
		return fail_static(error_r,
				   "[dial] country_code: expected 1 to 3 digits, not beginning with 0");
	if (!digits_between(area, 0, DIALRULES_AREA_CODE_MAX))
		return fail_static(error_r, "[dial] area_code: expected up to 8 digits");
	if (!digits_between(np, 0, DIALRULES_NATIONAL_PREFIX_MAX))
		return fail_static(error_r, "[dial] national_prefix: expected up to 4 digits");
	if (!digits_between(ip, 1, DIALRULES_INTERNATIONAL_PREFIX_MAX))
		return fail_static(error_r, "[dial] international_prefix: expected 1 to 6 digits");
	if (*np != '\0' && g_str_has_prefix(np, ip))
		return fail_static(error_r,
				   "[dial] national_prefix: must not begin with the international prefix");
	if (*np != '\0' && g_str_has_prefix(area, np))
		return fail_static(
		    error_r, "[dial] area_code: must not begin with the national prefix (write 30, not 030)");
	if (strlen(op) > DIALRULES_OUTSIDE_PREFIX_MAX || strspn(op, outside_chars) != strlen(op))
		return fail_static(error_r, "[dial] outside_prefix: expected up to 16 of 0-9 * # , p w");
	if (set->internal_digits < 0 || set->internal_digits > DIALRULES_INTERNAL_DIGITS_MAX)
		return fail_static(error_r, "[dial] internal_digits: expected 0 to 8");
	if (set->min_digits < 0 || set->min_digits > DIALRULES_E164_MAX_DIGITS)
		return fail_static(error_r, "[dial] min_digits: expected 1 to 15");
	if (max < 0 || max > DIALRULES_E164_MAX_DIGITS)
		return fail_static(error_r, "[dial] max_digits: expected 1 to 15");
	if ((size_t)max <= strlen(cc))
		return fail_static(error_r, "[dial] max_digits: leaves no digits after the country code");
	if (set->min_digits > max)
		return fail_static(error_r, "[dial] min_digits: must not exceed max_digits");
	if (set->national_digits < 0 || (size_t)set->national_digits + strlen(cc) > (size_t)max)
		return fail_static(
		    error_r,
		    "[dial] national_digits: expected 0, or at most max_digits less the country code");
	if (set->national_digits > 0 && (size_t)set->national_digits <= strlen(area))
		return fail_static(error_r, "[dial] national_digits: must be longer than area_code");
	if (set->national_digits > 0 && set->internal_digits > 0 &&
	    (set->internal_digits == set->national_digits ||
	     (size_t)set->internal_digits == (size_t)set->national_digits - strlen(area)))
		return fail_static(
		    error_r,
		    "[dial] internal_digits: extensions would have the length of a local or national number");
	if (!prefixes_valid(set->allow))
		return fail_static(error_r, "[dial] allow: expected E.164 prefixes such as +1212");
	if (!prefixes_valid(set->deny))
		return fail_static(error_r, "[dial] deny: expected E.164 prefixes such as +1900");
	if (!prefixes_valid(set->premium))
		return fail_static(error_r, "[dial] premium: expected E.164 prefixes such as +1900");
	bool classes[DIAL_CLASS_COUNT];
	if (set->classes != NULL && parse_classes(set->classes, classes) < 0)
		return fail_static(
		    error_r,
		    "[dial] classes: expected names among internal, local, national, international, premium");
	return 0;
}

struct dialrules *dialrules_create(const struct dialrules_settings *set)
{
	const char *error;
	if (dialrules_settings_check(set, &error) < 0)
		return NULL;
	struct dialrules *rules = g_new0(struct dialrules, 1);
	rules->country_code = g_strdup(set->country_code);
	rules->area_code = g_strdup(str_or_empty(set->area_code));
	rules->national_prefix = g_strdup(str_or_empty(set->national_prefix));
	rules->international_prefix = g_strdup(set->international_prefix);
	rules->outside_prefix = g_strdup(str_or_empty(set->outside_prefix));
	rules->internal_digits = set->internal_digits;
	rules->min_digits = set->min_digits;
	rules->max_digits = set->max_digits != 0 ? set->max_digits : DIALRULES_E164_MAX_DIGITS;
	rules->national_digits = set->national_digits;
	rules->allow = copy_prefixes(set->allow);
	rules->deny = copy_prefixes(set->deny);
	rules->premium = copy_prefixes(set->premium);
	if (set->classes != NULL)
		(void)parse_classes(set->classes, rules->classes);
	else
		default_classes(rules->classes);
	return rules;
}

/* Strings and lists stay owned by config. */
static void settings_from_config(const struct config *config, struct dialrules_settings *set_r)
{
	memset(set_r, 0, sizeof(*set_r));
	set_r->country_code = config_str(config, "dial", "country_code");
	set_r->area_code = config_str(config, "dial", "area_code");
	set_r->national_prefix = config_str(config, "dial", "national_prefix");
	set_r->international_prefix = config_str(config, "dial", "international_prefix");
	set_r->outside_prefix = config_str(config, "dial", "outside_prefix");
	set_r->internal_digits = (int)config_int(config, "dial", "internal_digits");
	set_r->min_digits = (int)config_int(config, "dial", "min_digits");
	set_r->max_digits = (int)config_int(config, "dial", "max_digits");
	/* -1 (the default): a closed plan of 10 digits where the national prefix is the country
	   code, which is NANP alone ("1 212..." and "+1 212..." coincide), else an open plan. */
	set_r->national_digits = (int)config_int(config, "dial", "national_digits");
	if (set_r->national_digits < 0)
		set_r->national_digits = strcmp(set_r->national_prefix, set_r->country_code) == 0 ? 10 : 0;
	set_r->allow = config_list(config, "dial", "allow");
	set_r->deny = config_list(config, "dial", "deny");
	set_r->premium = config_list(config, "dial", "premium");
	set_r->classes = config_list(config, "dial", "classes");
}

int dialrules_config_check(const struct config *config, const char **error_r)
{
	struct dialrules_settings set;
	settings_from_config(config, &set);
	return dialrules_settings_check(&set, error_r);
}

struct dialrules *dialrules_from_config(const struct config *config)
{
	struct dialrules_settings set;
	settings_from_config(config, &set);
	return dialrules_create(&set);
}

void dialrules_free(struct dialrules **rulesp)
{
	struct dialrules *rules = *rulesp;
	if (rules == NULL)
		return;
	g_free(rules->country_code);
	g_free(rules->area_code);
	g_free(rules->national_prefix);
	g_free(rules->international_prefix);
	g_free(rules->outside_prefix);
	g_strfreev(rules->allow);
	g_strfreev(rules->deny);
	g_strfreev(rules->premium);
	g_free(rules);
	*rulesp = NULL;
}

/* A number as written, after step 1. */
struct written {
	char digits[DIALRULES_TEXT_MAX + 1];
	bool trunk[DIALRULES_TEXT_MAX + 1]; /* this digit was written "(0)" */
	size_t ndigits;
	bool plus;
	bool hash; /* a '#' was written */
	char sub[DIALRULES_TEXT_MAX + 1];
	size_t nsub;
};

/* Length of a "(0)" at p, spaces allowed inside ("( 0 )"), or 0. */
static size_t paren_zero(const char *p)
{
	size_t j = 1;
	if (p[0] != '(')
		return 0;
	while (p[j] == ' ')
		j++;
	if (p[j++] != '0')
		return 0;
	while (p[j] == ' ')
		j++;
	return p[j] == ')' ? j + 1 : 0;
}

/* The user's text, printable and short enough to quote in a reply. */
static const char *quoted(char *buf, size_t size, const char *text)
{
	return log_printable(buf, size, text, strlen(text));
}

static int scan(const char *text, struct written *w, const char **error_r)
{
	char q[48];
	size_t len = strnlen(text, DIALRULES_TEXT_MAX + 1);
	if (len > DIALRULES_TEXT_MAX)
		return error_set(error_r, "fax number too long: more than %d characters", DIALRULES_TEXT_MAX);
	memset(w, 0, sizeof(*w));
	/* Letters first: "1-800-FLOWERS" or "+1555ABC4567" deserve this message, not a
	   complaint about whatever else is wrong with them. */
	for (size_t i = 0; i < len; i++) {
		if (g_ascii_isalpha(text[i]))
			return error_set(error_r, "letters are not allowed in a fax number: \"%s\"",
				    quoted(q, sizeof(q), text));
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		size_t skip;
		if (g_ascii_isdigit(c)) {
			if (w->hash)
				w->sub[w->nsub++] = (char)c;
			else
				w->digits[w->ndigits++] = (char)c;
		} else if (c == '+') {
			if (w->plus || w->ndigits > 0 || w->hash)
				return error_set(error_r,
					    "'+' may only stand at the start of a fax number: \"%s\"",
					    quoted(q, sizeof(q), text));
			w->plus = true;
		} else if (c == '(' && !w->hash && (skip = paren_zero(text + i)) > 0) {
			w->trunk[w->ndigits] = true;
			w->digits[w->ndigits++] = '0';
			i += skip - 1;
		} else if (is_separator((char)c)) {
			continue;
		} else if (c == '#') {
			if (w->hash)
				return error_set(
				    error_r,
				    "only one '#' (before the subaddress) may appear in a fax number");
			w->hash = true;
		} else if (c > 0x20 && c < 0x7f) {
			return error_set(error_r,
				    "character '%c' is not allowed in a fax number (digits, a leading '+', "
				    "'#' before a subaddress and the separators space - . ( ) are)",
				    c);
		} else {
			return error_set(
			    error_r,
			    "character \\x%02X is not allowed in a fax number (digits, a leading '+', "
			    "'#' before a subaddress and the separators space - . ( ) are)",
			    c);
		}
	}
	if (w->ndigits == 0) {
		if (w->plus)
			return fail_static(error_r, "no digits after '+' in the fax number");
		if (w->hash)
			return fail_static(error_r, "no fax number before '#' and the subaddress");
		return fail_static(error_r, "the fax number is empty");
	}
	if (w->hash && w->nsub == 0)
		return fail_static(error_r, "'#' must be followed by a subaddress of 1 to 20 digits");
	if (w->nsub > DIALRULES_SUBADDRESS_MAX)
		return error_set(error_r, "subaddress too long: %zu digits (at most %d)", w->nsub,
			    DIALRULES_SUBADDRESS_MAX);
	return 0;
}

/* Write the formatted dial string; the limits make it fit, so not fitting is a bug. */
static void set_dial(struct dial_number *number, const char *a, const char *b, const char *c)
{
	int n = snprintf(number->dial, sizeof(number->dial), "%s%s%s", a, b, c);
	if (n < 0 || (size_t)n >= sizeof(number->dial))
		panic("dial string overflow");
}

/* How numbers of our country are written, for length complaints. */
static void describe_lengths(const struct dialrules *rules, char *buf, size_t size)
{
	size_t area = strlen(rules->area_code), np = strlen(rules->national_prefix);
	int n = rules->national_digits;
	if (area > 0 && np > 0)
		snprintf(buf, size,
			 "a number in country +%s has %zu digits without the area code, %d with it, %zu with "
			 "the national prefix %s",
			 rules->country_code, (size_t)n - area, n, (size_t)n + np, rules->national_prefix);
	else if (area > 0)
		snprintf(buf, size,
			 "a number in country +%s has %zu digits without the area code, %d with it",
			 rules->country_code, (size_t)n - area, n);
	else if (np > 0)
		snprintf(buf, size, "a number in country +%s has %d digits, %zu with the national prefix %s",
			 rules->country_code, n, (size_t)n + np, rules->national_prefix);
	else
		snprintf(buf, size, "a number in country +%s has %d digits", rules->country_code, n);
}

/* The national significant number of a domestic number (step 4), into nsn. */
static int domestic_nsn(const struct dialrules *rules, const char *d, char *nsn, size_t size,
			const char **error_r)
{
	const char *np = rules->national_prefix, *area = rules->area_code;
	size_t n = strlen(d), nplen = strlen(np);
	if (rules->national_digits > 0) {
		size_t nd = (size_t)rules->national_digits, arealen = strlen(area);
		/* By length alone: NANP subscriber numbers may be written beginning with 1. */
		if (nplen > 0 && g_str_has_prefix(d, np) && n == nplen + nd)
			g_strlcpy(nsn, d + nplen, size);
		else if (n == nd)
			g_strlcpy(nsn, d, size);
		else if (arealen > 0 && n == nd - arealen)
			g_snprintf(nsn, size, "%s%s", area, d);
		else {
			char how[200];
			describe_lengths(rules, how, sizeof(how));
			return error_set(error_r, "%s in fax number: %zu (%s)",
				    n > nd + nplen     ? "too many digits"
				    : n < nd - arealen ? "too few digits"
						       : "wrong number of digits",
				    n, how);
		}
		return 0;
	}
	if (nplen > 0 && g_str_has_prefix(d, np))
		g_strlcpy(nsn, d + nplen, size);
	else if (nplen > 0)
		g_snprintf(nsn, size, "%s%s", area, d);
	else
		g_strlcpy(nsn, d, size);
	return 0;
}

int dialrules_normalize(const struct dialrules *rules, const char *text, struct dial_number *number_r,
			const char **error_r)
{
	if (rules == NULL || number_r == NULL)
		panic("dialrules_normalize without rules or result");
	memset(number_r, 0, sizeof(*number_r));
	if (text == NULL)
		return fail_static(error_r, "no fax number given");

	struct written w;
	if (scan(text, &w, error_r) < 0)
		return -1;
	char q[48];
	const char *cc = rules->country_code, *np = rules->national_prefix, *ip = rules->international_prefix;
	const char *op = rules->outside_prefix, *area = rules->area_code;
	size_t cclen = strlen(cc), nplen = strlen(np);

	if (!w.plus && rules->internal_digits > 0 && w.ndigits == (size_t)rules->internal_digits) {
		g_strlcpy(number_r->e164, w.digits, sizeof(number_r->e164));
		g_strlcpy(number_r->dial, w.digits, sizeof(number_r->dial));
		number_r->dial_class =
		    match_prefix(rules->premium, w.digits) ? DIAL_CLASS_PREMIUM : DIAL_CLASS_INTERNAL;
		g_strlcpy(number_r->subaddress, w.sub, sizeof(number_r->subaddress));
		return 0;
	}

	/* Step 2/3: international numbers, with "(0)" dropped. */
	bool international = w.plus;
	size_t start = 0;
	if (!international && g_str_has_prefix(w.digits, ip)) {
		international = true;
		start = strlen(ip);
	}
	char d[DIALRULES_TEXT_MAX + 1];
	size_t dlen = 0;
	for (size_t i = start; i < w.ndigits; i++) {
		if (!(international && w.trunk[i]))
			d[dlen++] = w.digits[i];
	}
	d[dlen] = '\0';

	if (international && dlen == 0)
		return error_set(error_r, "no digits after the international prefix %s", ip);
	/* Counted without the international prefix, so "011 44 ..." and "+44 ..." agree. */
	if (dlen < (size_t)rules->min_digits)
		return error_set(error_r, "too few digits in fax number: %zu (at least %d)", dlen,
			    rules->min_digits);

	char nsn[DIALRULES_TEXT_MAX + 16];
	bool ours = true;
	if (international) {
		if (d[0] == '0')
			return error_set(error_r, "a country code never begins with 0: \"%s\" (%s)",
				    quoted(q, sizeof(q), text),
				    w.plus
					? "write '+' then the country code, without an international prefix"
					: "is an international prefix written twice?");
		ours = g_str_has_prefix(d, cc);
		if (ours) {
			g_strlcpy(nsn, d + cclen, sizeof(nsn));
			size_t n = strlen(nsn);
			if (nplen > 0 && g_str_has_prefix(nsn, np) &&
			    (rules->national_digits == 0 || n == nplen + (size_t)rules->national_digits))
				memmove(nsn, nsn + nplen, n - nplen + 1);
		}
	} else if (domestic_nsn(rules, d, nsn, sizeof(nsn), error_r) < 0) {
		return -1;
	}

	size_t e164_digits = ours ? cclen + strlen(nsn) : dlen;
	/* Again in E.164 form ("+44 0 60" loses its 0), so that form is accepted in turn. */
	if (e164_digits < (size_t)rules->min_digits)
		return error_set(error_r, "too few digits in fax number: %zu (at least %d)", e164_digits,
			    rules->min_digits);
	if (e164_digits > (size_t)rules->max_digits)
		return error_set(error_r, "too many digits in fax number: +%s%s has %zu (at most %d)",
			    ours ? cc : "", ours ? nsn : d, e164_digits, rules->max_digits);

	if (!ours) {
		g_snprintf(number_r->e164, sizeof(number_r->e164), "+%s", d);
		number_r->dial_class = DIAL_CLASS_INTERNATIONAL;
		set_dial(number_r, op, ip, d);
	} else {
		size_t n = strlen(nsn), arealen = strlen(area);
		if (n == 0)
			return error_set(error_r, "no digits after the country code +%s", cc);
		if (nplen > 0 && g_str_has_prefix(nsn, np))
			return error_set(error_r,
				    "a number in country +%s cannot begin with %s after the country code or "
				    "the national prefix: \"%s\"",
				    cc, np, quoted(q, sizeof(q), text));
		if (rules->national_digits > 0 && n != (size_t)rules->national_digits) {
			char how[200];
			describe_lengths(rules, how, sizeof(how));
			return error_set(error_r, "%s after the country code +%s: %zu (%s)",
				    n < (size_t)rules->national_digits ? "too few digits" : "too many digits",
				    cc, n, how);
		}
		if (arealen > 0 && n == arealen && g_str_has_prefix(nsn, area))
			return error_set(error_r, "no subscriber number after the area code %s", area);
		g_snprintf(number_r->e164, sizeof(number_r->e164), "+%s%s", cc, nsn);
		if (g_str_has_prefix(nsn, area)) {
			number_r->dial_class = DIAL_CLASS_LOCAL;
			bool whole = rules->national_digits > 0 || nplen == 0;
			set_dial(number_r, op, "", whole ? nsn : nsn + arealen);
		} else {
			number_r->dial_class = DIAL_CLASS_NATIONAL;
			set_dial(number_r, op, np, nsn);
		}
	}
	if (match_prefix(rules->premium, number_r->e164) != NULL)
		number_r->dial_class = DIAL_CLASS_PREMIUM;
	g_strlcpy(number_r->subaddress, w.sub, sizeof(number_r->subaddress));
	return 0;
}

int dialrules_permit(const struct dialrules *rules, const struct dial_number *number,
		     const char *const *classes, const char **error_r)
{
	if (rules == NULL)
		panic("dialrules_permit without rules");
	if (number == NULL || number->e164[0] == '\0')
		return fail_static(error_r, "no fax number given");
	/* The caller's copy might have lost its terminator. */
	char e164[sizeof(number->e164) + 1];
	memcpy(e164, number->e164, sizeof(number->e164));
	e164[sizeof(number->e164)] = '\0';
	if (match_prefix(rules->deny, e164) != NULL)
		return error_set(error_r, "sending faxes to %s is not allowed: the destination is blocked", e164);
	if (match_prefix(rules->allow, e164) != NULL)
		return 0;
	if ((unsigned)number->dial_class >= DIAL_CLASS_COUNT)
		return error_set(error_r, "sending faxes to %s is not allowed: unknown number class", e164);
	bool allowed[DIAL_CLASS_COUNT];
	if (classes != NULL)
		(void)parse_classes(classes, allowed);
	else
		memcpy(allowed, rules->classes, sizeof(allowed));
	if (!allowed[number->dial_class])
		return error_set(error_r, "sending faxes to %s is not allowed: %s",
			    class_phrases[number->dial_class], e164);
	return 0;
}

int dialrules_set_subaddress(struct dial_number *number, const char *subaddress, const char **error_r)
{
	char buf[DIALRULES_SUBADDRESS_MAX + 1];
	size_t n = 0;
	for (const char *p = str_or_empty(subaddress); *p != '\0'; p++) {
		if (*p == '-' || *p == '.')
			continue;
		if (!g_ascii_isdigit(*p))
			return fail_static(error_r, "a subaddress may only hold digits");
		if (n == DIALRULES_SUBADDRESS_MAX)
			return error_set(error_r, "subaddress too long: more than %d digits",
				    DIALRULES_SUBADDRESS_MAX);
		buf[n++] = *p;
	}
	buf[n] = '\0';
	g_strlcpy(number->subaddress, buf, sizeof(number->subaddress));
	return 0;
}

int dialrules_set_postdial(struct dial_number *number, const char *postdial, const char **error_r)
{
	char buf[DIALRULES_POSTDIAL_MAX + 1];
	size_t n = 0;
	for (const char *p = str_or_empty(postdial); *p != '\0'; p++) {
		char c = *p;
		if (c == '-' || c == '.')
			continue;
		if (c >= 'a' && c <= 'd')
			c = g_ascii_toupper(c);
		else if (c == 'P' || c == 'W')
			c = g_ascii_tolower(c);
		if (c == '\0' || strchr("0123456789*#ABCDpw,", c) == NULL)
			return fail_static(
			    error_r,
			    "post-dial may only hold digits, * # A-D, pauses (p or ,) and waits (w)");
		if (n == DIALRULES_POSTDIAL_MAX)
			return error_set(error_r, "post-dial too long: more than %d characters",
				    DIALRULES_POSTDIAL_MAX);
		buf[n++] = c;
	}
	buf[n] = '\0';
	/* Replace the post-dial the dial string already ends with, if any. */
	size_t dlen = strnlen(number->dial, sizeof(number->dial) - 1);
	size_t old = strnlen(number->postdial, sizeof(number->postdial) - 1);
	size_t base = dlen;
	if (old > 0 && old <= dlen && memcmp(number->dial + dlen - old, number->postdial, old) == 0)
		base = dlen - old;
	if (base + n >= sizeof(number->dial))
		return fail_static(error_r, "dial string too long with this post-dial");
	memcpy(number->dial + base, buf, n + 1);
	memcpy(number->postdial, buf, n + 1);
	return 0;
}
