/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * X-Fax-* job-control headers -> validated, normalised job settings, and the precedence merge
 * of admin caps, address options, headers, sender profile and defaults. Pure: no I/O except
 * that fax_headers_set_timezone() reads the zone's tzdata once.
 *
 * Standards: RFC 5322 §2.2.3 (unfolding), §3.4 (address lists); RFC 2047 (encoded-words in
 * human text, decoded with GMime); RFC 3339 (times; we also take "yyyy-mm-dd hh:mm" without a
 * zone in the submitter's zone, as InterFAX does); RFC 3966 (tel: URIs in X-Fax-Number);
 * RFC 3461 (NOTIFY words in X-Fax-Notify); ITU-T T.30 (TSI, 20 characters; page header 50);
 * RFC 2156 Importance: and the X-Priority: of common MUAs (priority when no X-Fax-Priority).
 * The schema is research/conventions.md §3.2; docs/x-fax-headers.md is the user reference.
 *
 * Trust (§3.1): headers marked trusted_only (TSI, caller id, notification addresses) are
 * ignored and noted for untrusted submitters, as is a priority above normal (lowered to
 * normal); admin_only ones (port, no prefix, max speed) are honoured for admins only. Whether
 * X-Fax-* from outside the organisation are read at all is the session's decision.
 */
#include "common/error.h"
#include "smtpgw/fax_headers.h"

#include <gmime/gmime.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "smtpgw/fax_address.h"

#define IGNORED_MAX 512	      /* characters of the ignored-names note */
#define NAME_SHOWN_MAX 64     /* characters of an unknown header name kept in the note */
#define LIST_ITEM_MAX 64      /* characters of one X-Fax-Tags / X-Fax-Attach-Library item */
#define ADDRESS_MAX 254	      /* RFC 5321 path limit */
#define NUMBER_MAX 128	      /* characters of one X-Fax-Number */
#define PRIORITY_NORMAL 5     /* the highest an untrusted submitter gets */
#define HEADER_LINE_NUMBER 16 /* width %n counts for: "+" and 15 digits */

#define DEF(n, t, c, f, mn, mx)                                                                              \
	{                                                                                                    \
		n, t, c, f, false, false, mn, mx, false                                                      \
	}
#define TEXT(n, f, mx)                                                                                       \
	{                                                                                                    \
		n, FAX_HDR_TEXT, NULL, f, false, false, 0, mx, false                                         \
	}
#define TEXT_INDEXED(n, f, mx)                                                                               \
	{                                                                                                    \
		n, FAX_HDR_TEXT, NULL, f, false, false, 0, mx, true                                          \
	}
#define TRUSTED(n, t, f, mx)                                                                                 \
	{                                                                                                    \
		n, t, NULL, f, false, true, 0, mx, false                                                     \
	}
#define ADMIN(n, t, c, f, mx)                                                                                \
	{                                                                                                    \
		n, t, c, f, true, false, 0, mx, false                                                        \
	}

const struct fax_header_def fax_header_defs[] = {
    DEF("X-Fax-Number", FAX_HDR_NUMBER, NULL, "numbers", 0, FAX_HEADERS_MAX_NUMBERS),
    TEXT_INDEXED("X-Fax-Recipient-Name", "recipient_name", 128),
    TEXT_INDEXED("X-Fax-Recipient-Company", "recipient_company", 128),
    TEXT_INDEXED("X-Fax-Recipient-Voice", "recipient_voice", 64),
    TEXT("X-Fax-Sender-Name", "sender_name", 128),
    TEXT("X-Fax-Sender-Company", "sender_company", 128),
    TEXT("X-Fax-Sender-Department", "sender_department", 128),
    TEXT("X-Fax-Sender-Phone", "sender_phone", 64),
    TEXT("X-Fax-Sender-Fax", "sender_fax", 64),
    TEXT("X-Fax-Sender-Email", "sender_email", 254),
    TEXT("X-Fax-Sender-Address", "sender_address", 512),
    DEF("X-Fax-Resolution", FAX_HDR_ENUM, "standard|fine|superfine", "resolution", 0, 0),
    DEF("X-Fax-Paper-Size", FAX_HDR_ENUM, "a4|letter|legal|b4", "paper", 0, 0),
    DEF("X-Fax-Image-Conversion", FAX_HDR_ENUM, "auto|halftone|monochrome", "image_conversion", 0, 0),
    DEF("X-Fax-Retries", FAX_HDR_INT, NULL, "retries", 0, 20),
    DEF("X-Fax-Retry-Interval", FAX_HDR_DURATION, NULL, "retry_interval", 10, 86400),
    DEF("X-Fax-Send-At", FAX_HDR_TIME, NULL, "send_at", 0, FAX_HEADERS_MAX_SCHEDULE),
    DEF("X-Fax-Expires", FAX_HDR_TIME_OR_SECONDS, NULL, "expires_at", 1, FAX_HEADERS_MAX_SCHEDULE),
    DEF("X-Fax-Economy", FAX_HDR_BOOL, NULL, "economy", 0, 0),
    DEF("X-Fax-Priority", FAX_HDR_PRIORITY, NULL, "priority", 0, 9),
    DEF("X-Fax-Cover", FAX_HDR_COVER, NULL, "cover", 0, 64),
    TEXT("X-Fax-Cover-Subject", "cover_subject", 256),
    TEXT("X-Fax-Cover-Note", "cover_note", 2000),
    DEF("X-Fax-Body", FAX_HDR_ENUM, "cover|page|ignore|auto", "body", 0, 0),
    TEXT("X-Fax-Cover-Custom-1", "cover_custom_1", 256),
    TEXT("X-Fax-Cover-Custom-2", "cover_custom_2", 256),
    TEXT("X-Fax-Cover-Custom-3", "cover_custom_3", 256),
    TEXT("X-Fax-Cover-Custom-4", "cover_custom_4", 256),
    TEXT("X-Fax-Cover-Custom-5", "cover_custom_5", 256),
    TEXT("X-Fax-Cover-Custom-6", "cover_custom_6", 256),
    TEXT("X-Fax-Cover-Custom-7", "cover_custom_7", 256),
    TEXT("X-Fax-Cover-Custom-8", "cover_custom_8", 256),
    TEXT("X-Fax-Cover-Custom-9", "cover_custom_9", 256),
    DEF("X-Fax-Header-Line", FAX_HDR_HEADER_LINE, NULL, "header_line", 0, FAX_HEADERS_HEADER_LINE_MAX),
    TRUSTED("X-Fax-TSI", FAX_HDR_IDENT, "tsi", FAX_HEADERS_IDENT_MAX),
    TRUSTED("X-Fax-Caller-ID", FAX_HDR_E164, "caller_id", 15),
    TEXT("X-Fax-Billing-Code", "billing_code", 64),
    TEXT("X-Fax-Billing-Code-2", "billing_code_2", 64),
    DEF("X-Fax-Client-Ref", FAX_HDR_OPAQUE, NULL, "client_ref", 0, 128),
    DEF("X-Fax-Tags", FAX_HDR_LIST, NULL, "tags", 0, 32),
    DEF("X-Fax-Notify", FAX_HDR_NOTIFY, NULL, "notify", 0, 0),
    TRUSTED("X-Fax-Notify-To", FAX_HDR_ADDRESS_LIST, "notify_to", 10),
    DEF("X-Fax-Notify-Format", FAX_HDR_ENUM, "text|html|json|xml|csv|dsn", "notify_format", 0, 0),
    DEF("X-Fax-Notify-Attach", FAX_HDR_ENUM, "none|pdf|tiff|first-page", "notify_attach", 0, 0),
    DEF("X-Fax-Security-Code", FAX_HDR_OPAQUE, NULL, "security_code", 0, 64),
    DEF("X-Fax-Suppress-Blank-Pages", FAX_HDR_BOOL, NULL, "suppress_blank_pages", 0, 0),
    ADMIN("X-Fax-Port", FAX_HDR_TOKEN, NULL, "line", 32),
    ADMIN("X-Fax-No-Prefix", FAX_HDR_BOOL, NULL, "no_prefix", 0),
    ADMIN("X-Fax-Max-Speed", FAX_HDR_ENUM, "2400|4800|7200|9600|12000|14400", "max_speed", 0),
    /* choices "token": every item is a document name [A-Za-z0-9._-] */
    DEF("X-Fax-Attach-Library", FAX_HDR_LIST, "token", "attach_library", 0, 16),
    DEF("X-Fax-Idempotency-Key", FAX_HDR_OPAQUE, NULL, "idempotency_key", 0, 128),
    {NULL, FAX_HDR_TEXT, NULL, NULL, false, false, 0, 0, false},
};

/* Words taken for an enum value besides its choices. */
static const struct {
	const char *field, *alias, *value;
} enum_aliases[] = {
    {"resolution", "coarse", "standard"},
    {"resolution", "normal", "standard"},
    {"resolution", "low", "standard"},
    {"resolution", "high", "fine"},
};

/* Where the priority came from, weakest first. */
enum prio_source { PRIO_IMPORTANCE, PRIO_X_PRIORITY, PRIO_X_FAX, PRIO_SOURCES };

struct fax_headers {
	GHashTable *fields; /* char * -> char * */
	GString *ignored;
	GPtrArray *numbers; /* char *, in order */
	GTimeZone *tz;
	int prio[PRIO_SOURCES]; /* -1 unset */
};

static gpointer gmime_init_once(gpointer unused)
{
	g_mime_init();
	return NULL;
}

static void gmime_init(void)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, gmime_init_once, NULL);
}

/* --- schema lookup ------------------------------------------------------------------------ */

const struct fax_header_def *fax_header_def_find(const char *name, int *index_r)
{
	int dummy;
	if (index_r == NULL)
		index_r = &dummy;
	*index_r = 0;
	if (name == NULL)
		return NULL;
	size_t len = strlen(name);
	for (const struct fax_header_def *d = fax_header_defs; d->name != NULL; d++) {
		if (g_ascii_strcasecmp(d->name, name) == 0)
			return d;
	}
	/* <Name>-N for indexed headers: N in 1..FAX_HEADERS_MAX_INDEX, no leading zero. */
	const char *dash = strrchr(name, '-');
	if (dash == NULL || dash[1] < '1' || dash[1] > '9' || len - (size_t)(dash + 1 - name) > 3)
		return NULL;
	int index = 0;
	for (const char *c = dash + 1; *c != '\0'; c++) {
		if (!g_ascii_isdigit(*c))
			return NULL;
		index = index * 10 + (*c - '0');
	}
	if (index > FAX_HEADERS_MAX_INDEX)
		return NULL;
	size_t base = (size_t)(dash - name);
	for (const struct fax_header_def *d = fax_header_defs; d->name != NULL; d++) {
		if (d->indexed && strlen(d->name) == base && g_ascii_strncasecmp(d->name, name, base) == 0) {
			*index_r = index;
			return d;
		}
	}
	return NULL;
}

/* --- object ------------------------------------------------------------------------------- */

struct fax_headers *fax_headers_create(void)
{
	struct fax_headers *h = g_new0(struct fax_headers, 1);
	h->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	h->numbers = g_ptr_array_new_with_free_func(g_free);
	h->tz = g_time_zone_new_utc();
	for (int i = 0; i < PRIO_SOURCES; i++)
		h->prio[i] = -1;
	return h;
}

void fax_headers_free(struct fax_headers **hp)
{
	struct fax_headers *h = *hp;
	if (h == NULL)
		return;
	g_hash_table_unref(h->fields);
	g_ptr_array_unref(h->numbers);
	if (h->ignored != NULL)
		g_string_free(h->ignored, TRUE);
	g_time_zone_unref(h->tz);
	g_free(h);
	*hp = NULL;
}

/* The last zone asked for, kept: reading tzdata for every message costs an mmap and a parse. */
static GTimeZone *zone_by_id(const char *tzid)
{
	static GMutex lock;
	static char *cached_id;
	static GTimeZone *cached;
	g_mutex_lock(&lock);
	if (cached == NULL || g_strcmp0(cached_id, tzid) != 0) {
		GTimeZone *tz = g_time_zone_new_identifier(tzid);
		if (tz != NULL) {
			if (cached != NULL)
				g_time_zone_unref(cached);
			g_free(cached_id);
			cached = tz;
			cached_id = g_strdup(tzid);
		}
	}
	GTimeZone *result = cached != NULL && g_strcmp0(cached_id, tzid) == 0 ? g_time_zone_ref(cached) : NULL;
	g_mutex_unlock(&lock);
	return result;
}

void fax_headers_set_timezone(struct fax_headers *h, const char *tzid)
{
	GTimeZone *tz = tzid != NULL ? zone_by_id(tzid) : NULL;
	g_time_zone_unref(h->tz);
	h->tz = tz != NULL ? tz : g_time_zone_new_utc();
}

GHashTable *fax_headers_fields(const struct fax_headers *h)
{
	return h->fields;
}

const char *fax_headers_ignored(const struct fax_headers *h)
{
	return h->ignored != NULL && h->ignored->len > 0 ? h->ignored->str : NULL;
}

static void note_ignored(struct fax_headers *h, const char *name)
{
	char shown[NAME_SHOWN_MAX + 1];
	size_t o = 0;
	for (const char *c = name; *c != '\0' && o < NAME_SHOWN_MAX; c++)
		shown[o++] = (unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f && *c != ',' ? *c : '?';
	shown[o] = '\0';
	if (h->ignored == NULL)
		h->ignored = g_string_new(NULL);
	if (h->ignored->len + o + 1 > IGNORED_MAX)
		return;
	g_auto(GStrv) seen = g_strsplit(h->ignored->str, ",", -1);
	for (char **s = seen; *s != NULL; s++) {
		if (g_ascii_strcasecmp(*s, shown) == 0)
			return;
	}
	if (h->ignored->len > 0)
		g_string_append_c(h->ignored, ',');
	g_string_append(h->ignored, shown);
}

/* --- value parsers ------------------------------------------------------------------------ */

/* Each returns a new normalised value, or NULL with *error_r set. `hn` is the header name as
   shown in messages. */

static bool printable_ascii(const char *s, bool space)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < (space ? 0x20 : 0x21) || c >= 0x7f)
			return false;
	}
	return true;
}

static char *parse_text(const struct fax_header_def *d, const char *hn, const char *v, const char **error_r)
{
	char *decoded;
	if (strstr(v, "=?") != NULL) {
		gmime_init();
		decoded = g_mime_utils_header_decode_text(NULL, v);
	} else {
		decoded = g_strdup(v);
	}
	if (decoded == NULL)
		decoded = g_strdup(v);
	char *valid = g_utf8_make_valid(decoded, -1);
	g_free(decoded);
	GString *out = g_string_sized_new(strlen(valid));
	for (const char *c = valid; *c != '\0'; c = g_utf8_next_char(c)) {
		gunichar ch = g_utf8_get_char(c);
		if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0))
			ch = ' ';
		g_string_append_unichar(out, ch);
	}
	g_free(valid);
	char *text = g_strstrip(g_string_free(out, FALSE));
	if (d->max > 0 && g_utf8_strlen(text, -1) > d->max) {
		g_free(text);
		error_set(error_r, "%s: longer than %lld characters", hn, (long long)d->max);
		return NULL;
	}
	return text;
}

/* A number as written: digits, leading +, separators - . space ( ). */
static int check_number_text(const char *hn, const char *s, const char **error_r)
{
	int digits = 0;
	bool letters = false, other = false;
	if (strlen(s) > NUMBER_MAX)
		return error_set(error_r, "%s: a number is longer than %d characters", hn, NUMBER_MAX);
	for (size_t i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (g_ascii_isdigit(c))
			digits++;
		else if (g_ascii_isalpha(c))
			letters = true;
		else if (!((c == '+' && i == 0) || strchr("-. ()", c) != NULL))
			other = true;
	}
	if (letters)
		return error_set(error_r, "%s: letters are not allowed in a fax number", hn);
	if (other || digits == 0)
		return error_set(error_r,
			    "%s: expected fax numbers (digits, +, - . ( ) and spaces), "
			    "separated by commas",
			    hn);
	return 0;
}

/* One X-Fax-Number item: "+1 555 123 4567" or "tel:+1-555-123-4567;isub=12". */
static char *parse_number_item(const char *hn, const char *item, const char **error_r)
{
	if (g_ascii_strncasecmp(item, "tel:", 4) == 0) {
		g_auto(GStrv) parts = g_strsplit(item + 4, ";", -1);
		if (parts[0] == NULL) {
			error_set(error_r, "%s: expected a number after tel:", hn);
			return NULL;
		}
		char *num = g_strstrip(parts[0]);
		if (strchr(num, '#') != NULL) {
			error_set(error_r, "%s: write a subaddress as tel:NUMBER;isub=DIGITS", hn);
			return NULL;
		}
		if (check_number_text(hn, num, error_r) < 0)
			return NULL;
		GString *out = g_string_new(num);
		bool isub = false;
		for (char **p = parts + 1; *p != NULL; p++) {
			char *param = g_strstrip(*p);
			if (!isub && (isub = g_ascii_strncasecmp(param, "isub=", 5) == 0) &&
			    param[5] != '\0' && strspn(param + 5, "0123456789-.") == strlen(param + 5)) {
				g_string_append_printf(out, "#%s", param + 5);
				continue;
			}
			g_string_free(out, TRUE);
			error_set(error_r, "%s: tel: URI parameters other than isub= are not supported", hn);
			return NULL;
		}
		return g_string_free(out, FALSE);
	}
	if (strchr(item, '#') != NULL) {
		error_set(error_r, "%s: write a subaddress as tel:NUMBER;isub=DIGITS", hn);
		return NULL;
	}
	return check_number_text(hn, item, error_r) < 0 ? NULL : g_strdup(item);
}

static char *parse_enum(const struct fax_header_def *d, const char *hn, const char *v, const char **error_r)
{
	g_auto(GStrv) words = g_strsplit(d->choices, "|", -1);
	for (char **w = words; *w != NULL; w++) {
		if (g_ascii_strcasecmp(*w, v) == 0)
			return g_strdup(*w);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(enum_aliases); i++) {
		if (strcmp(enum_aliases[i].field, d->field) == 0 &&
		    g_ascii_strcasecmp(enum_aliases[i].alias, v) == 0)
			return g_strdup(enum_aliases[i].value);
	}
	GString *expect = g_string_new(NULL);
	guint n = g_strv_length(words);
	for (guint i = 0; i < n; i++) {
		if (i > 0)
			g_string_append(expect, i + 1 == n ? " or " : ", ");
		g_string_append(expect, words[i]);
	}
	error_set(error_r, "%s: expected %s", hn, expect->str);
	g_string_free(expect, TRUE);
	return NULL;
}

static int parse_int_range(const char *v, int64_t min, int64_t max, int64_t *n_r)
{
	if (*v == '\0' || strlen(v) > 12 || strspn(v, "0123456789") != strlen(v))
		return -1;
	int64_t n = g_ascii_strtoll(v, NULL, 10);
	if (n < min || n > max)
		return -1;
	*n_r = n;
	return 0;
}

static int two_digits(const char *s, int *v_r)
{
	if (!g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]))
		return -1;
	*v_r = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

/* RFC 3339 date-time, seconds and zone optional ("2025-06-25T15:30:00Z",
   "2025-06-25 15:30" in tz). */
static int parse_time(GTimeZone *tz, const char *s, int64_t *t_r)
{
	int y1, y2, mo, d, hh, mi, ss = 0;
	if (strlen(s) < 16 || two_digits(s, &y1) < 0 || two_digits(s + 2, &y2) < 0 || s[4] != '-' ||
	    two_digits(s + 5, &mo) < 0 || s[7] != '-' || two_digits(s + 8, &d) < 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || two_digits(s + 11, &hh) < 0 || s[13] != ':' ||
	    two_digits(s + 14, &mi) < 0)
		return -1;
	int year = y1 * 100 + y2;
	const char *p = s + 16;
	if (*p == ':') {
		if (two_digits(p + 1, &ss) < 0)
			return -1;
		p += 3;
		if (*p == '.') {
			p++;
			size_t frac = strspn(p, "0123456789");
			if (frac == 0 || frac > 9)
				return -1;
			p += frac;
		}
	}
	bool zone = false;
	int offset = 0;
	if (*p == 'Z' || *p == 'z') {
		zone = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		if (two_digits(p + 1, &oh) < 0)
			return -1;
		p += 3;
		if (*p == ':')
			p++;
		if (two_digits(p, &om) < 0 || oh > 23 || om > 59)
			return -1;
		p += 2;
		zone = true;
		offset = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		return -1;
	if (year < 1970 || mo < 1 || mo > 12 || hh > 23 || mi > 59 || ss > 60 ||
	    !g_date_valid_dmy((GDateDay)d, (GDateMonth)mo, (GDateYear)year))
		return -1;
	if (ss == 60)
		ss = 59; /* a leap second: the second before */
	GDateTime *dt = zone ? g_date_time_new_utc(year, mo, d, hh, mi, ss)
			     : g_date_time_new(tz, year, mo, d, hh, mi, ss);
	if (dt == NULL)
		return -1;
	*t_r = g_date_time_to_unix(dt) - offset;
	g_date_time_unref(dt);
	return 0;
}

static char *parse_priority(const char *v)
{
	if (g_ascii_strcasecmp(v, "low") == 0)
		return g_strdup("2");
	if (g_ascii_strcasecmp(v, "normal") == 0)
		return g_strdup("5");
	if (g_ascii_strcasecmp(v, "high") == 0)
		return g_strdup("8");
	if (v[0] >= '0' && v[0] <= '9' && v[1] == '\0')
		return g_strdup(v);
	return NULL;
}

/* The worst-case expanded width of a header-line template, -1 when it is invalid. */
static int header_line_width(const char *t)
{
	int width = 0;
	for (; *t != '\0'; t++) {
		unsigned char c = (unsigned char)*t;
		if (c < 0x20 || c >= 0x7f)
			return -1;
		if (c != '%') {
			width++;
			continue;
		}
		switch (*++t) {
		case 'd':
		case 'm':
		case 'y':
		case 'H':
		case 'M':
			width += 2;
			break;
		case 'Y':
			width += 4;
			break;
		case 'n':
			width += HEADER_LINE_NUMBER;
			break;
		case '%':
			width++;
			break;
		default:
			return -1;
		}
	}
	return width;
}

static char *parse_notify(const char *hn, const char *v, const char **error_r)
{
	bool never = false, failure = false, success = false, delay = false, bad = false, any = false;
	g_auto(GStrv) words = g_strsplit_set(v, ",+ ", -1);
	for (char **w = words; *w != NULL; w++) {
		if (**w == '\0')
			continue;
		any = true;
		if (g_ascii_strcasecmp(*w, "never") == 0)
			never = true;
		else if (g_ascii_strcasecmp(*w, "failure") == 0)
			failure = true;
		else if (g_ascii_strcasecmp(*w, "success") == 0)
			success = true;
		else if (g_ascii_strcasecmp(*w, "always") == 0)
			failure = success = true;
		else if (g_ascii_strcasecmp(*w, "delay") == 0)
			delay = true;
		else
			bad = true;
	}
	if (!any || bad || (never && (failure || success || delay))) {
		error_set(error_r, "%s: expected never, failure, success or always, optionally +delay", hn);
		return NULL;
	}
	if (never)
		return g_strdup("never");
	const char *base = failure && success ? "always" : failure ? "failure" : success ? "success" : NULL;
	if (base == NULL)
		return g_strdup("delay");
	return g_strdup_printf("%s%s", base, delay ? "+delay" : "");
}

static int collect_addresses(InternetAddressList *list, GPtrArray *out, int depth)
{
	int n = internet_address_list_length(list);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *members =
			    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
			if (depth > 0 || members == NULL || collect_addresses(members, out, depth + 1) < 0)
				return -1;
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			return -1;
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
		if (at == NULL || at == addr || at[1] == '\0' || strlen(addr) > ADDRESS_MAX ||
		    !printable_ascii(addr, false) || strpbrk(addr, ",<>()[]\\\";:") != NULL)
			return -1;
		bool dup = false;
		for (guint j = 0; j < out->len; j++)
			dup |= g_ascii_strcasecmp(out->pdata[j], addr) == 0;
		if (!dup)
			g_ptr_array_add(out, g_strdup(addr));
	}
	return 0;
}

static char *parse_address_list(const struct fax_header_def *d, const char *hn, const char *v,
				const char **error_r)
{
	gmime_init();
	InternetAddressList *list = internet_address_list_parse(NULL, v);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	int ret = list != NULL ? collect_addresses(list, out, 0) : -1;
	if (list != NULL)
		g_object_unref(list);
	char *value = NULL;
	if (ret < 0 || out->len == 0)
		error_set(error_r, "%s: expected mail addresses separated by commas (user@example.com)", hn);
	else if (out->len > (guint)d->max)
		error_set(error_r, "%s: more than %lld addresses", hn, (long long)d->max);
	else {
		g_ptr_array_add(out, NULL);
		value = g_strjoinv(",", (char **)out->pdata);
	}
	g_ptr_array_unref(out);
	return value;
}

/* Items of a list value, trimmed, empty ones dropped; NULL with *error_r when one is bad. */
static GPtrArray *list_items(const struct fax_header_def *d, const char *hn, const char *v,
			     const char **error_r)
{
	bool tokens = d->choices != NULL && strcmp(d->choices, "token") == 0;
	GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) parts = g_strsplit(v, ",", -1);
	for (char **p = parts; *p != NULL; p++) {
		char *item = g_strstrip(*p);
		if (*item == '\0')
			continue;
		bool ok = tokens
			      ? fax_address_is_token(item, LIST_ITEM_MAX)
			      : g_utf8_validate(item, -1, NULL) && g_utf8_strlen(item, -1) <= LIST_ITEM_MAX;
		for (const char *c = item; ok && *c != '\0'; c++)
			ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
		if (!ok) {
			g_ptr_array_unref(items);
			if (tokens)
				error_set(error_r,
				     "%s: expected names (letters, digits, . _ -) separated by commas", hn);
			else
				error_set(error_r, "%s: expected items of up to %d characters separated by commas",
				     hn, LIST_ITEM_MAX);
			return NULL;
		}
		g_ptr_array_add(items, g_strdup(item));
	}
	return items;
}

/* --- add ---------------------------------------------------------------------------------- */

static void update_priority(struct fax_headers *h)
{
	for (int s = PRIO_SOURCES - 1; s >= 0; s--) {
		if (h->prio[s] >= 0) {
			g_hash_table_replace(h->fields, g_strdup("priority"),
					     g_strdup_printf("%d", h->prio[s]));
			return;
		}
	}
	g_hash_table_remove(h->fields, "priority");
}

/* Importance: high/normal/low; X-Priority: 1 (highest) .. 5 (lowest), maybe "2 (High)". */
static int add_mua_priority(struct fax_headers *h, const char *name, const char *v, bool trusted)
{
	int prio = -1;
	enum prio_source src;
	if (g_ascii_strcasecmp(name, "Importance") == 0) {
		src = PRIO_IMPORTANCE;
		if (g_ascii_strcasecmp(v, "high") == 0)
			prio = 8;
		else if (g_ascii_strcasecmp(v, "normal") == 0)
			prio = 5;
		else if (g_ascii_strcasecmp(v, "low") == 0)
			prio = 2;
	} else {
		static const int map[] = {9, 8, 5, 2, 1};
		src = PRIO_X_PRIORITY;
		if (v[0] >= '1' && v[0] <= '5' && !g_ascii_isdigit(v[1]))
			prio = map[v[0] - '1'];
	}
	if (prio < 0)
		return 0; /* not ours to reject */
	if (!trusted && prio > PRIORITY_NORMAL)
		prio = PRIORITY_NORMAL;
	h->prio[src] = prio;
	update_priority(h);
	return 0;
}

/* Store a single value; the same value again is fine, another is an error. */
static int store_single(struct fax_headers *h, const char *hn, const char *field, char *value,
			const char **error_r)
{
	const char *old = g_hash_table_lookup(h->fields, field);
	if (old != NULL) {
		bool same = strcmp(old, value) == 0;
		g_free(value);
		return same ? 0 : error_set(error_r, "%s: given twice with different values", hn);
	}
	g_hash_table_replace(h->fields, g_strdup(field), value);
	return 0;
}

static int store_list(struct fax_headers *h, const struct fax_header_def *d, const char *hn,
		      const char *field, GPtrArray *items, const char **error_r)
{
	const char *old = g_hash_table_lookup(h->fields, field);
	g_auto(GStrv) have = g_strsplit(old != NULL ? old : "", ",", -1);
	GPtrArray *all = g_ptr_array_new();
	for (char **p = have; *p != NULL; p++) {
		if (**p != '\0')
			g_ptr_array_add(all, *p);
	}
	for (guint i = 0; i < items->len; i++) {
		bool dup = false;
		for (guint j = 0; j < all->len; j++)
			dup |= strcmp(all->pdata[j], items->pdata[i]) == 0;
		if (!dup)
			g_ptr_array_add(all, items->pdata[i]);
	}
	int ret = 0;
	if (all->len > (guint)d->max) {
		ret = error_set(error_r, "%s: more than %lld items", hn, (long long)d->max);
	} else if (all->len > 0) {
		g_ptr_array_add(all, NULL);
		g_hash_table_replace(h->fields, g_strdup(field), g_strjoinv(",", (char **)all->pdata));
	}
	g_ptr_array_free(all, TRUE);
	return ret;
}

static int add_numbers(struct fax_headers *h, const char *hn, const char *v, const char **error_r)
{
	/* All or nothing: a bad item leaves the list as it was. */
	g_autoptr(GPtrArray) fresh = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) parts = g_strsplit(v, ",", -1);
	for (char **p = parts; *p != NULL; p++) {
		char *item = g_strstrip(*p);
		if (*item == '\0')
			continue;
		char *num = parse_number_item(hn, item, error_r);
		if (num == NULL)
			return -1;
		bool dup = false;
		for (guint j = 0; j < h->numbers->len; j++)
			dup |= strcmp(h->numbers->pdata[j], num) == 0;
		for (guint j = 0; j < fresh->len; j++)
			dup |= strcmp(fresh->pdata[j], num) == 0;
		if (dup) {
			g_free(num);
			continue;
		}
		if (h->numbers->len + fresh->len >= FAX_HEADERS_MAX_NUMBERS) {
			g_free(num);
			return error_set(error_r, "%s: more than %d numbers", hn, FAX_HEADERS_MAX_NUMBERS);
		}
		g_ptr_array_add(fresh, num);
	}
	if (h->numbers->len + fresh->len == 0)
		return error_set(error_r, "%s: expected fax numbers separated by commas", hn);
	for (guint j = 0; j < fresh->len; j++)
		g_ptr_array_add(h->numbers, g_steal_pointer(&fresh->pdata[j]));
	GString *joined = g_string_new(NULL);
	for (guint j = 0; j < h->numbers->len; j++)
		g_string_append_printf(joined, "%s%s", j > 0 ? "," : "", (const char *)h->numbers->pdata[j]);
	g_hash_table_replace(h->fields, g_strdup("numbers"), g_string_free(joined, FALSE));
	return 0;
}

/* Send-at before expiry, whichever came last. */
static int check_times(struct fax_headers *h, const char **error_r)
{
	const char *send = g_hash_table_lookup(h->fields, "send_at");
	const char *exp = g_hash_table_lookup(h->fields, "expires_at");
	if (send != NULL && exp != NULL && g_ascii_strtoll(exp, NULL, 10) <= g_ascii_strtoll(send, NULL, 10))
		return error_set(error_r, "X-Fax-Expires: not after X-Fax-Send-At");
	return 0;
}

/* RFC 5322 unfolding (CR and LF dropped), then leading and trailing white space. */
static char *unfold(const char *value)
{
	GString *out = g_string_sized_new(strlen(value));
	for (const char *c = value; *c != '\0'; c++) {
		if (*c != '\r' && *c != '\n')
			g_string_append_c(out, *c == '\t' ? ' ' : *c);
	}
	return g_strstrip(g_string_free(out, FALSE));
}

static int add_value(struct fax_headers *h, const struct fax_header_def *d, const char *hn, const char *field,
		     const char *v, bool trusted, int64_t now, const char **error_r)
{
	char *value = NULL;
	int64_t n, t;
	bool b;
	switch (d->type) {
	case FAX_HDR_TEXT:
		value = parse_text(d, hn, v, error_r);
		if (value != NULL && *value == '\0') {
			g_free(value);
			return 0;
		}
		break;
	case FAX_HDR_NUMBER:
		return add_numbers(h, hn, v, error_r);
	case FAX_HDR_ENUM:
		value = parse_enum(d, hn, v, error_r);
		break;
	case FAX_HDR_BOOL:
		if (config_parse_bool(v, &b) < 0)
			return error_set(error_r, "%s: expected yes or no", hn);
		value = g_strdup(b ? "yes" : "no");
		break;
	case FAX_HDR_INT:
		if (parse_int_range(v, d->min, d->max, &n) < 0)
			return error_set(error_r, "%s: expected a whole number from %lld to %lld", hn,
				    (long long)d->min, (long long)d->max);
		value = g_strdup_printf("%lld", (long long)n);
		break;
	case FAX_HDR_DURATION:
		if (strlen(v) > 12 || config_parse_duration(v, &n) < 0 || n < d->min || n > d->max)
			return error_set(error_r,
				    "%s: expected seconds (or a number with s, m, h or d) from %lld to %lld",
				    hn, (long long)d->min, (long long)d->max);
		value = g_strdup_printf("%lld", (long long)n);
		break;
	case FAX_HDR_TIME:
	case FAX_HDR_TIME_OR_SECONDS:
		if (d->type == FAX_HDR_TIME_OR_SECONDS && *v != '\0' &&
		    strspn(v, "0123456789") == strlen(v)) {
			if (parse_int_range(v, 1, FAX_HEADERS_MAX_SCHEDULE, &n) < 0)
				return error_set(error_r, "%s: expected a time or 1 to %d seconds", hn,
					    FAX_HEADERS_MAX_SCHEDULE);
			t = now + n;
		} else if (parse_time(h->tz, v, &t) < 0) {
			return error_set(error_r,
				    "%s: expected a time such as 2025-06-25T15:30:00Z or 2025-06-25 15:30%s",
				    hn, d->type == FAX_HDR_TIME_OR_SECONDS ? ", or seconds" : "");
		}
		if (t - now > FAX_HEADERS_MAX_SCHEDULE)
			return error_set(error_r, "%s: more than %d days ahead", hn,
				    FAX_HEADERS_MAX_SCHEDULE / 86400);
		if (d->type == FAX_HDR_TIME_OR_SECONDS && t <= now)
			return error_set(error_r, "%s: already past", hn);
		value = g_strdup_printf("%lld", (long long)t);
		break;
	case FAX_HDR_PRIORITY: {
		value = parse_priority(v);
		if (value == NULL)
			return error_set(error_r, "%s: expected 0 to 9, low, normal or high", hn);
		int prio = value[0] - '0';
		g_free(value);
		if (!trusted && prio > PRIORITY_NORMAL) {
			note_ignored(h, hn);
			prio = PRIORITY_NORMAL;
		}
		if (h->prio[PRIO_X_FAX] >= 0 && h->prio[PRIO_X_FAX] != prio)
			return error_set(error_r, "%s: given twice with different values", hn);
		h->prio[PRIO_X_FAX] = prio;
		update_priority(h);
		return 0;
	}
	case FAX_HDR_IDENT:
		if (strlen(v) > (size_t)d->max || !printable_ascii(v, true))
			return error_set(error_r, "%s: expected at most %lld printable ASCII characters", hn,
				    (long long)d->max);
		value = g_strdup(v);
		break;
	case FAX_HDR_HEADER_LINE: {
		if (g_ascii_strcasecmp(v, "none") == 0) {
			value = g_strdup("none");
			break;
		}
		int width = header_line_width(v);
		if (width < 0)
			return error_set(error_r,
				    "%s: expected printable ASCII with %%d %%m %%Y %%y %%H %%M %%n %%%% "
				    "(or none)",
				    hn);
		if (width > d->max)
			return error_set(error_r,
				    "%s: longer than %lld characters after expansion (%%n counts %d)", hn,
				    (long long)d->max, HEADER_LINE_NUMBER);
		value = g_strdup(v);
		break;
	}
	case FAX_HDR_LIST: {
		GPtrArray *items = list_items(d, hn, v, error_r);
		if (items == NULL)
			return -1;
		int ret = store_list(h, d, hn, field, items, error_r);
		g_ptr_array_unref(items);
		return ret;
	}
	case FAX_HDR_ADDRESS_LIST:
		value = parse_address_list(d, hn, v, error_r);
		break;
	case FAX_HDR_COVER:
		if (g_ascii_strcasecmp(v, "none") == 0 || (config_parse_bool(v, &b) == 0 && !b))
			value = g_strdup("none");
		else if (g_ascii_strcasecmp(v, "default") == 0 || config_parse_bool(v, &b) == 0)
			value = g_strdup("default");
		else if (fax_address_is_token(v, (size_t)d->max))
			value = g_strdup(v);
		else
			return error_set(error_r,
				    "%s: expected none, default or a template name (letters, digits, . _ -)",
				    hn);
		break;
	case FAX_HDR_NOTIFY:
		value = parse_notify(hn, v, error_r);
		break;
	case FAX_HDR_OPAQUE:
		if (strlen(v) > (size_t)d->max || !printable_ascii(v, true))
			return error_set(error_r, "%s: expected at most %lld printable ASCII characters", hn,
				    (long long)d->max);
		value = g_strdup(v);
		break;
	case FAX_HDR_E164: {
		const char *num = g_ascii_strncasecmp(v, "tel:", 4) == 0 ? v + 4 : v;
		GString *digits = g_string_new("+");
		bool ok = num[0] == '+';
		for (const char *c = num + 1; ok && *c != '\0'; c++) {
			if (g_ascii_isdigit(*c))
				g_string_append_c(digits, *c);
			else if (strchr("-. ()", *c) == NULL)
				ok = false;
		}
		if (!ok || digits->len < 3 || digits->len > (gsize)d->max + 1 || digits->str[1] == '0') {
			g_string_free(digits, TRUE);
			return error_set(error_r, "%s: expected an international number (+ and up to %lld digits)",
				    hn, (long long)d->max);
		}
		value = g_string_free(digits, FALSE);
		break;
	}
	case FAX_HDR_TOKEN:
		if (!fax_address_is_token(v, (size_t)d->max))
			return error_set(error_r, "%s: expected a name of letters, digits, . _ - (at most %lld)",
				    hn, (long long)d->max);
		value = g_strdup(v);
		break;
	}
	if (value == NULL)
		return -1;
	if (store_single(h, hn, field, value, error_r) < 0)
		return -1;
	return d->type == FAX_HDR_TIME || d->type == FAX_HDR_TIME_OR_SECONDS ? check_times(h, error_r) : 0;
}

int fax_headers_add(struct fax_headers *h, const char *name, const char *value, bool trusted, bool admin,
		    int64_t now, const char **error_r)
{
	if (name == NULL)
		return 0;
	g_autofree char *n = g_strstrip(g_strdup(name));
	if (strlen(value != NULL ? value : "") > FAX_HEADERS_MAX_VALUE) {
		int index;
		const struct fax_header_def *d = fax_header_def_find(n, &index);
		if (d != NULL)
			return error_set(error_r, "%s: longer than %d octets", d->name, FAX_HEADERS_MAX_VALUE);
		if (g_ascii_strncasecmp(n, "X-Fax-", 6) == 0)
			note_ignored(h, n);
		return 0;
	}
	g_autofree char *v = unfold(value != NULL ? value : "");
	if (g_ascii_strcasecmp(n, "Importance") == 0 || g_ascii_strcasecmp(n, "X-Priority") == 0)
		return add_mua_priority(h, n, v, trusted);
	if (g_ascii_strncasecmp(n, "X-Fax-", 6) != 0)
		return 0;
	int index;
	const struct fax_header_def *d = fax_header_def_find(n, &index);
	if (d == NULL) {
		note_ignored(h, n);
		return 0;
	}
	g_autofree char *hn = index > 0 ? g_strdup_printf("%s-%d", d->name, index) : g_strdup(d->name);
	if ((d->admin_only && !admin) || (d->trusted_only && !trusted)) {
		note_ignored(h, hn);
		return 0;
	}
	if (*v == '\0')
		return 0; /* an empty header says nothing */
	g_autofree char *field = index > 0 ? g_strdup_printf("%s#%d", d->field, index) : g_strdup(d->field);
	return add_value(h, d, hn, field, v, trusted, now, error_r);
}

/* --- merge -------------------------------------------------------------------------------- */

/* Copy a level into result: unindexed fields, then "field#rcpt_index" over them. */
static void apply_level(GHashTable *result, GHashTable *level, int rcpt_index)
{
	if (level == NULL)
		return;
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, level);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (k != NULL && v != NULL && strchr(k, '#') == NULL)
			g_hash_table_replace(result, g_strdup(k), g_strdup(v));
	}
	if (rcpt_index <= 0)
		return;
	g_hash_table_iter_init(&it, level);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *hash = k != NULL ? strchr(k, '#') : NULL;
		if (hash == NULL || v == NULL)
			continue;
		char *end;
		long idx = strtol(hash + 1, &end, 10);
		if (*end == '\0' && end != hash + 1 && idx == rcpt_index)
			g_hash_table_replace(result, g_strndup(k, (gsize)(hash - (const char *)k)),
					     g_strdup(v));
	}
}

static void put(GHashTable *t, const char *field, const char *value)
{
	if (value != NULL)
		g_hash_table_replace(t, g_strdup(field), g_strdup(value));
}

static GHashTable *address_level(const struct fax_address *a)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	put(t, "number", a->number);
	put(t, "recipient_name", a->name);
	put(t, "recipient_company", a->company);
	put(t, "sender_name", a->from);
	if (a->cover != NULL)
		put(t, "cover",
		    strcmp(a->cover, "yes") == 0  ? "default"
		    : strcmp(a->cover, "no") == 0 ? "none"
						  : a->cover);
	put(t, "resolution", a->resolution);
	put(t, "paper", a->paper);
	put(t, "subaddress", a->t33s);
	put(t, "isub", a->isub);
	put(t, "postdial", a->postd);
	put(t, "billing_code", a->billing);
	if (a->priority >= 0)
		g_hash_table_replace(t, g_strdup("priority"), g_strdup_printf("%d", a->priority));
	if (a->retries >= 0)
		g_hash_table_replace(t, g_strdup("retries"), g_strdup_printf("%d", a->retries));
	if (a->comments != NULL)
		put(t, "body", strcmp(a->comments, "yes") == 0 ? "cover" : "page");
	for (guint i = 0; a->custom != NULL && i < a->custom->len && i < 9; i++) {
		char field[32];
		snprintf(field, sizeof(field), "cover_custom_%u", i + 1);
		put(t, field, a->custom->pdata[i]);
	}
	put(t, "line", a->port);
	if (a->noprefix)
		put(t, "no_prefix", "yes");
	return t;
}

static bool is_ceiling(const char *field)
{
	return strcmp(field, "priority") == 0 || strcmp(field, "retries") == 0 ||
	       strcmp(field, "max_speed") == 0;
}

static bool as_int(const char *s, int64_t *n_r)
{
	if (s == NULL || *s == '\0' || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
		return false;
	*n_r = g_ascii_strtoll(s, NULL, 10);
	return true;
}

GHashTable *fax_headers_merge(GHashTable *caps, const struct fax_address *addr, GHashTable *headers,
			      GHashTable *profile, GHashTable *defaults, int rcpt_index)
{
	GHashTable *result = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	apply_level(result, defaults, rcpt_index);
	apply_level(result, profile, rcpt_index);
	apply_level(result, headers, rcpt_index);
	if (addr != NULL) {
		GHashTable *a = address_level(addr);
		apply_level(result, a, rcpt_index);
		g_hash_table_unref(a);
	}
	if (caps != NULL) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, caps);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			const char *field = k, *cap = v;
			if (field == NULL || cap == NULL || strchr(field, '#') != NULL)
				continue;
			if (*cap == '\0') {
				g_hash_table_remove(result, field);
				continue;
			}
			if (is_ceiling(field)) {
				int64_t c, have;
				const char *cur = g_hash_table_lookup(result, field);
				if (cur == NULL)
					continue;
				if (as_int(cap, &c) && as_int(cur, &have) && have <= c)
					continue;
			}
			g_hash_table_replace(result, g_strdup(field), g_strdup(cap));
		}
	}
	return result;
}

/* --- header line -------------------------------------------------------------------------- */

char *fax_headers_header_line_expand(const char *tmpl, int64_t when, const char *tzid, const char *number)
{
	if (tmpl == NULL || g_ascii_strcasecmp(tmpl, "none") == 0)
		return NULL;
	int width = header_line_width(tmpl);
	if (width < 0 || width > FAX_HEADERS_HEADER_LINE_MAX)
		return NULL;
	GTimeZone *tz = tzid != NULL ? g_time_zone_new_identifier(tzid) : NULL;
	if (tz == NULL)
		tz = g_time_zone_new_utc();
	GDateTime *utc = g_date_time_new_from_unix_utc(when);
	GDateTime *dt = utc != NULL ? g_date_time_to_timezone(utc, tz) : NULL;
	GString *out = g_string_new(NULL);
	for (const char *t = tmpl; *t != '\0'; t++) {
		if (*t != '%') {
			g_string_append_c(out, *t);
			continue;
		}
		char c = *++t;
		if (c == '%') {
			g_string_append_c(out, '%');
		} else if (c == 'n') {
			const char *p = number != NULL ? number : "";
			for (int i = 0; p[i] != '\0' && i < HEADER_LINE_NUMBER; i++)
				g_string_append_c(
				    out,
				    (unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f ? p[i] : '?');
		} else if (dt != NULL) {
			char fmt[3] = {'%', c, '\0'};
			char *s = g_date_time_format(dt, fmt);
			if (s != NULL)
				g_string_append(out, s);
			g_free(s);
		}
	}
	if (dt != NULL)
		g_date_time_unref(dt);
	if (utc != NULL)
		g_date_time_unref(utc);
	g_time_zone_unref(tz);
	if (out->len > FAX_HEADERS_HEADER_LINE_MAX)
		g_string_truncate(out, FAX_HEADERS_HEADER_LINE_MAX);
	return g_string_free(out, FALSE);
}
