/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Profiles as CSV (RFC 4180), no store: the parser, table-driven (quotes, doubled quotes,
   embedded line ends, CRLF/LF/CR, empty lines, a byte order mark, bad documents with their line
   numbers); rows applied to profiles; export -> parse -> export byte for byte. The import into a
   store is tested in test_profile.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "profiles/profile.h"
#include "profiles/profile_csv.h"

/* "LINE: field=value ..." a row, rows separated by newlines; CR and LF in values as \r \n. */
static char *dump(const struct profile_csv *csv)
{
	GString *s = g_string_new(NULL);
	for (unsigned r = 0; r < profile_csv_rows(csv); r++) {
		g_string_append_printf(s, "%s%u:", r ? "\n" : "", profile_csv_line(csv, r));
		for (const char *const *name = profile_field_names(); *name != NULL; name++) {
			const char *v = profile_csv_value(csv, r, *name);
			if (v == NULL)
				continue;
			g_string_append_printf(s, " %s=", *name);
			for (; *v != '\0'; v++) {
				if (*v == '\n' || *v == '\r')
					g_string_append(s, *v == '\n' ? "\\n" : "\\r");
				else
					g_string_append_c(s, *v);
			}
		}
	}
	return g_string_free(s, FALSE);
}

#define DOC(text) text, sizeof(text) - 1

/* input (with its length: NUL bytes count), and the rows or the error */
static const struct {
	const char *in;
	size_t len;
	const char *rows, *error;
} parse_cases[] = {
    {DOC("address,name\na@x.com,Alice\n"), "2: address=a@x.com name=Alice", NULL},
    {DOC("address,name\r\na@x.com,Alice\r\nb@x.com,Bob"),
     "2: address=a@x.com name=Alice\n3: address=b@x.com name=Bob", NULL},
    {DOC("address,company\na@x.com,\"ACME, \"\"the\"\" Inc.\"\n"),
     "2: address=a@x.com company=ACME, \"the\" Inc.", NULL},
    {DOC("address,name\na@x.com,\"two\nlines\"\nb@x.com,B\n"),
     "2: address=a@x.com name=two\\nlines\n4: address=b@x.com name=B", NULL},
    {DOC("address,name\r\na@x.com,\"x\r\ny\"\r\nb@x.com,B\r\n"),
     "2: address=a@x.com name=x\\r\\ny\n4: address=b@x.com name=B", NULL},
    {DOC("Name , ADDRESS\nAlice,a@x.com\n"), "2: address=a@x.com name=Alice", NULL},
    {DOC("\n\naddress\n\na@x.com\n\n"), "5: address=a@x.com", NULL},
    {DOC("\xef\xbb\xbf"
	 "address\na@x.com\n"),
     "2: address=a@x.com", NULL},
    {DOC("address,name\na@x.com,\"\"\n"), "2: address=a@x.com name=", NULL},
    {DOC("\"address\",\"name\"\n\"a@x.com\",\n"), "2: address=a@x.com name=", NULL},
    {DOC("address\ra@x.com\rb@x.com"), "2: address=a@x.com\n3: address=b@x.com", NULL},
    {DOC("address,name\r\n"), "", NULL},
    {DOC(""), NULL, "line 1: no header row"},
    {DOC("\n\n"), NULL, "line 3: no header row"},
    {DOC("name\nAlice\n"), NULL, "line 1: no address column"},
    {DOC("address,nme\n"), NULL, "line 1: unknown column 'nme'"},
    {DOC("address,password_hash\n"), NULL, "line 1: unknown column 'password_hash'"},
    {DOC("address,name,Name\n"), NULL, "line 1: column 'name' twice"},
    {DOC("address,name\na@x.com\n"), NULL, "line 2: 1 fields, the header has 2"},
    {DOC("address,name\na@x.com,b,c\n"), NULL, "line 2: 3 fields, the header has 2"},
    {DOC("address,name\na@x.com,\"open\n\nmore"), NULL, "line 2: unterminated quoted field"},
    {DOC("address,name\na@x.com,\"x\"y\n"), NULL, "line 2: text after a closing quote"},
    {DOC("address,name\na@x.com,ab\"c\n"), NULL, "line 2: a quote inside an unquoted field"},
    {DOC("address,name\nb@x.com,\"multi\nline\"\n,Bob\n"), NULL, "line 4: no address"},
    {DOC("address\na\0b\n"), NULL, "line 2: NUL byte"},
    {DOC("address\n\"a\0b\"\n"), NULL, "line 2: NUL byte"},
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		struct profile_csv *csv = NULL;
		const char *error = NULL;
		int ret = profile_csv_parse(parse_cases[i].in, parse_cases[i].len, &csv, &error);
		if (parse_cases[i].error != NULL) {
			if (ret != -1 || strcmp(error, parse_cases[i].error) != 0)
				fail_msg("case %zu: got %d '%s', expected '%s'", i, ret, ret < 0 ? error : "",
					 parse_cases[i].error);
			assert_null(csv);
			continue;
		}
		if (ret != 0)
			fail_msg("case %zu: %s", i, error);
		g_autofree char *got = dump(csv);
		if (strcmp(got, parse_cases[i].rows) != 0)
			fail_msg("case %zu: got\n%s\nexpected\n%s", i, got, parse_cases[i].rows);
		profile_csv_free(&csv);
		assert_null(csv);
	}
}

/* the document, the row to apply, the error */
static const struct {
	const char *in, *error;
	unsigned row;
} apply_cases[] = {
    {"address,resolution\n\"a@x.com\",fine\nb@x.com,\"ultra\"\n",
     "line 3: resolution: expected one of standard, fine, superfine", 1},
    {"address,company\na@x.com,\"multi\nline\"\n", "line 2: company: control characters are not allowed", 0},
    {"address,dids\na@x.com,\"1\n\"\nb@x.com,12x\n",
     "line 4: dids: '12x' is not a number (digits, a leading +, - ( ) . and spaces)", 1},
    {"address\nnot-an-address\n", "line 2: address: 'not-an-address' is not an address (local@domain)", 0},
    {"name,address,may_send\r\n\"Ann\",ann@x.com,perhaps\r\n", "line 2: may_send: expected yes or no", 0},
};

static void test_apply_errors_name_the_line(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(apply_cases); i++) {
		struct profile_csv *csv = NULL;
		struct profile *p = NULL;
		const char *error = NULL;
		if (profile_csv_parse(apply_cases[i].in, strlen(apply_cases[i].in), &csv, &error) < 0)
			fail_msg("case %zu: %s", i, error);
		assert_int_equal(profile_csv_profile(csv, apply_cases[i].row, &p, &error), -1);
		assert_null(p);
		if (strcmp(error, apply_cases[i].error) != 0)
			fail_msg("case %zu: got '%s', expected '%s'", i, error, apply_cases[i].error);
		profile_csv_free(&csv);
	}
}

static void free_profile(gpointer p)
{
	profile_free((struct profile **)&p);
}

static struct profile *tricky(const char *address, const char *name, const char *company)
{
	struct profile *p = profile_new(address);
	const char *error = NULL;
	assert_int_equal(profile_set_field(p, "name", name, &error), 0);
	assert_int_equal(profile_set_field(p, "company", company, &error), 0);
	assert_int_equal(profile_set_field(p, "dids", "+4930123456,200", &error), 0);
	assert_int_equal(profile_set_field(p, "header_line", "\"%d\" , ''", &error), 0);
	return p;
}

static void test_write_parse_round_trip(void **state)
{
	GPtrArray *profiles = g_ptr_array_new();
	g_ptr_array_add(profiles, tricky("a@x.com", "Müller, \"Jürgen\"", ""));
	g_ptr_array_add(profiles, tricky("b@x.com", " leading and trailing ", "x,y,,z"));
	struct profile *g = tricky("g@x.com", "\"", ",");
	const char *error = NULL;
	assert_int_equal(profile_set_field(g, "kind", "group", &error), 0);
	assert_int_equal(profile_set_field(g, "members", "a@x.com,b@x.com", &error), 0);
	assert_int_equal(profile_set_field(g, "may_send", "no", &error), 0);
	g_ptr_array_add(profiles, g);
	GString *first = g_string_new(NULL), *second = g_string_new(NULL);
	profile_csv_write(first, profiles);
	assert_true(g_str_has_prefix(first->str, "address,kind,name,"));
	assert_true(g_str_has_suffix(first->str, "\r\n"));
	struct profile_csv *csv = NULL;
	if (profile_csv_parse(first->str, first->len, &csv, &error) < 0)
		fail_msg("%s\n%s", error, first->str);
	assert_int_equal(profile_csv_rows(csv), 3);
	GPtrArray *again = g_ptr_array_new_with_free_func(free_profile);
	for (unsigned r = 0; r < profile_csv_rows(csv); r++) {
		struct profile *p = NULL;
		if (profile_csv_profile(csv, r, &p, &error) < 0)
			fail_msg("%s", error);
		assert_true(profile_fields_equal(p, profiles->pdata[r]));
		g_ptr_array_add(again, p);
	}
	profile_csv_write(second, again);
	assert_string_equal(first->str, second->str);
	profile_csv_free(&csv);
	g_ptr_array_free(again, TRUE);
	for (guint i = 0; i < profiles->len; i++) {
		struct profile *p = profiles->pdata[i];
		profile_free(&p);
	}
	g_ptr_array_free(profiles, TRUE);
	g_string_free(first, TRUE);
	g_string_free(second, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_apply_errors_name_the_line),
	    cmocka_unit_test(test_write_parse_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
