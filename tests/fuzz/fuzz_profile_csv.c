/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for the profile CSV reader (profiles/profile_csv.c: RFC 4180 quoting, CRLF,
 * LF or CR line ends, the header row naming the columns) and the field checks the rows go
 * through (profiles/profile_field.c). No store is touched. Beyond crashes and sanitizer reports
 * it aborts when a result breaks an invariant: a reason that is missing, unprintable or names no
 * line; a row that does not start after the header or before the next row; or the export of the
 * rows that applied cleanly not reading back to the same export, byte for byte.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/profile.h"
#include "profiles/profile_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static void check_reason(const char *error)
{
	check(error != NULL && g_str_has_prefix(error, "line "), "a reason names its line");
	for (const char *e = error; *e != '\0'; e++)
		check(*e >= 0x20 && *e < 0x7f, "the reason is printable ASCII");
}

static void free_profile(gpointer p)
{
	profile_free((struct profile **)&p);
}

/* Parse an export: it must read back, every row apply, and write out the same bytes. */
static void check_export(const GString *export)
{
	struct profile_csv *csv = NULL;
	const char *error = NULL;
	check(profile_csv_parse(export->str, export->len, &csv, &error) == 0, "the export parses");
	GPtrArray *again = g_ptr_array_new_with_free_func(free_profile);
	for (unsigned r = 0; r < profile_csv_rows(csv); r++) {
		struct profile *p = NULL;
		check(profile_csv_profile(csv, r, &p, &error) == 0, "every exported row applies");
		g_ptr_array_add(again, p);
	}
	GString *second = g_string_new(NULL);
	profile_csv_write(second, again);
	check(second->len == export->len && memcmp(second->str, export->str, export->len) == 0,
	      "export -> import -> export is the same");
	g_string_free(second, TRUE);
	g_ptr_array_free(again, TRUE);
	profile_csv_free(&csv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile_csv *csv = NULL;
	const char *error = NULL;
	int ret = profile_csv_parse((const char *)data, size, &csv, &error);
	if (ret != 0) {
		check(ret == -1 && csv == NULL, "return is 0 or -1, no document on -1");
		check_reason(error);
		return 0;
	}
	GPtrArray *good = g_ptr_array_new_with_free_func(free_profile);
	unsigned last = 1;
	for (unsigned r = 0; r < profile_csv_rows(csv); r++) {
		struct profile *p = NULL;
		check(profile_csv_line(csv, r) > last, "rows start after the header and each other");
		last = profile_csv_line(csv, r);
		check(profile_csv_value(csv, r, "address") != NULL, "a row has an address");
		if (profile_csv_profile(csv, r, &p, &error) == 0)
			g_ptr_array_add(good, p);
		else
			check_reason(error);
	}
	GString *export = g_string_new(NULL);
	profile_csv_write(export, good);
	check_export(export);
	g_string_free(export, TRUE);
	g_ptr_array_free(good, TRUE);
	profile_csv_free(&csv);
	return 0;
}
