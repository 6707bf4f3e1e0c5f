/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for the X-Fax-* job-control headers (smtpgw/fax_headers.c: RFC 5322
 * unstructured values and address lists, RFC 2047 encoded-words via GMime, RFC 3339 times,
 * RFC 3966 tel: URIs). The first input byte gives trusted (bit 0), admin (bit 1) and a local
 * time zone (bit 2); the rest is a header block, one "Name: value" per line (a line starting
 * with white space continues the previous value). Every header is added, then the fields are
 * merged and a header line expanded. Beyond crashes and sanitizer reports it aborts when a
 * result breaks an invariant: a reason that is missing or unprintable, a field value that is not
 * valid UTF-8 or holds control characters, an ignored note that is unprintable or unbounded.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpgw/fax_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW INT64_C(1750000000)

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static void check_clean(const char *s, const char *what)
{
	check(s != NULL && g_utf8_validate(s, -1, NULL), what);
	for (const char *c = s; *c != '\0'; c++)
		check((unsigned char)*c >= 0x20 && *c != 0x7f, what);
}

static void add(struct fax_headers *h, const char *line, bool trusted, bool admin)
{
	const char *colon = strchr(line, ':');
	if (colon == NULL)
		return;
	char *name = g_strndup(line, (gsize)(colon - line));
	const char *error = NULL;
	int ret = fax_headers_add(h, name, colon + 1, trusted, admin, NOW, &error);
	if (ret != 0) {
		check(ret == -1, "return is 0 or -1");
		check(error != NULL && error[0] != '\0', "a reason comes with -1");
		for (const char *e = error; *e != '\0'; e++)
			check(*e >= 0x20 && *e < 0x7f, "the reason is printable ASCII");
	}
	g_free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
		/* Held for the run, so GLib's zone cache keeps them and tzdata is read once. */
		(void)g_time_zone_new_identifier("America/New_York");
		(void)g_time_zone_new_identifier("Europe/Berlin");
		init = true;
	}
	if (size == 0)
		return 0;
	bool trusted = data[0] & 1, admin = data[0] & 2;
	struct fax_headers *h = fax_headers_create();
	if (data[0] & 4)
		fax_headers_set_timezone(h, "America/New_York");
	char *text = g_strndup((const char *)data + 1, size - 1);
	/* Header block: continuation lines are folded into the value, CRLF kept as the parser
	   must unfold it. */
	GString *cur = NULL;
	char **lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		if ((**l == ' ' || **l == '\t') && cur != NULL) {
			g_string_append_printf(cur, "\r\n%s", *l);
			continue;
		}
		if (cur != NULL) {
			add(h, cur->str, trusted, admin);
			g_string_free(cur, TRUE);
		}
		cur = g_string_new(*l);
	}
	if (cur != NULL) {
		add(h, cur->str, trusted, admin);
		g_string_free(cur, TRUE);
	}
	g_strfreev(lines);

	GHashTable *fields = fax_headers_fields(h);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, fields);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		check_clean(k, "field names are clean");
		check_clean(v, "field values are clean UTF-8");
	}
	const char *ign = fax_headers_ignored(h);
	if (ign != NULL) {
		check_clean(ign, "the ignored note is printable");
		check(strlen(ign) <= 512, "the ignored note is bounded");
	}
	check(trusted || !g_hash_table_contains(fields, "tsi"), "untrusted: no TSI");
	check(admin || !g_hash_table_contains(fields, "line"), "no admin: no port");
	const char *prio = g_hash_table_lookup(fields, "priority");
	check(prio == NULL || (prio[0] >= '0' && prio[0] <= (trusted ? '9' : '5') && prio[1] == '\0'),
	      "priority 0-9, untrusted at most 5");
	GHashTable *m = fax_headers_merge(fields, NULL, fields, fields, fields, (int)(size % 4));
	g_hash_table_unref(m);
	const char *hl = g_hash_table_lookup(fields, "header_line");
	if (hl != NULL) {
		char *line = fax_headers_header_line_expand(hl, NOW, "Europe/Berlin", "+15551234567");
		check(strcmp(hl, "none") == 0 ? line == NULL : line != NULL,
		      "an accepted header line expands");
		if (line != NULL)
			check(strlen(line) <= FAX_HEADERS_HEADER_LINE_MAX, "an expanded line fits");
		g_free(line);
	}
	fax_headers_free(&h);
	g_free(text);
	return 0;
}
