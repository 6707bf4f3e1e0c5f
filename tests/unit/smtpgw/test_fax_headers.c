/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * X-Fax-* job-control headers (smtpgw/fax_headers.c): every header of the schema
 * (research/conventions.md §3.2) with good and bad values, RFC 2047 text, RFC 3339 and local
 * times, tel: URIs, trust and admin filtering, Importance:/X-Priority: mapping, duplicates,
 * indexed per-recipient headers, the precedence merge (each level beating the ones below,
 * caps as ceilings), header-line expansion, and every prefix of every input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpgw/fax_address.h"
#include "smtpgw/fax_headers.h"

#define NOW INT64_C(1750000000) /* 2025-06-15T15:06:40Z */
#define T_0625_1530Z "1750865400"

struct good_case {
	const char *name, *value;
	const char *field, *expected;
};

/* Added trusted and admin, one per fresh set of headers. */
static const struct good_case good[] = {
    {"X-Fax-Number", "+1 (555) 123-4567", "numbers", "+1 (555) 123-4567"},
    {"X-Fax-Number", "5551234567, +4930 1234567", "numbers", "5551234567,+4930 1234567"},
    {"X-Fax-Number", "tel:+1-555-123-4567", "numbers", "+1-555-123-4567"},
    {"X-Fax-Number", "TEL:+1-555-123-4567;isub=6377", "numbers", "+1-555-123-4567#6377"},
    {"x-fax-number", " 5551234567 ,, ", "numbers", "5551234567"},
    {"X-Fax-Recipient-Name", "John Doe", "recipient_name", "John Doe"},
    {"X-Fax-Recipient-Name", "=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=", "recipient_name",
     "J\xc3\xbcrgen M\xc3\xbcller"},
    {"X-Fax-Recipient-Name", "=?ISO-8859-1?B?SvxyZ2Vu?= Schmidt", "recipient_name", "J\xc3\xbcrgen Schmidt"},
    {"X-Fax-Recipient-Name", "Jos\xc3\xa9", "recipient_name", "Jos\xc3\xa9"},
    {"X-Fax-Recipient-Name",
     "Bad\xff"
     "Byte",
     "recipient_name",
     "Bad\xef\xbf\xbd"
     "Byte"},
    {"X-Fax-Recipient-Name-2", "Ann Lee", "recipient_name#2", "Ann Lee"},
    {"X-FAX-RECIPIENT-NAME-100", "Last", "recipient_name#100", "Last"},
    {"X-Fax-Recipient-Company", "Doe Sprockets", "recipient_company", "Doe Sprockets"},
    {"X-Fax-Recipient-Company-3", "Acme", "recipient_company#3", "Acme"},
    {"X-Fax-Recipient-Voice", "+1 555 123 0000", "recipient_voice", "+1 555 123 0000"},
    {"X-Fax-Sender-Name", "Jane Roe", "sender_name", "Jane Roe"},
    {"X-Fax-Sender-Company", "Roe & Co", "sender_company", "Roe & Co"},
    {"X-Fax-Sender-Department", "Sales", "sender_department", "Sales"},
    {"X-Fax-Sender-Phone", "+1 555 000 1111", "sender_phone", "+1 555 000 1111"},
    {"X-Fax-Sender-Fax", "+1 555 000 2222", "sender_fax", "+1 555 000 2222"},
    {"X-Fax-Sender-Email", "jane@example.com", "sender_email", "jane@example.com"},
    {"X-Fax-Sender-Address", "1 Main St,\r\n Springfield", "sender_address", "1 Main St, Springfield"},
    {"X-Fax-Resolution", "fine", "resolution", "fine"},
    {"X-Fax-Resolution", "SuperFine", "resolution", "superfine"},
    {"X-Fax-Resolution", "coarse", "resolution", "standard"},
    {"X-Fax-Paper-Size", "A4", "paper", "a4"},
    {"X-Fax-Paper-Size", "b4", "paper", "b4"},
    {"X-Fax-Image-Conversion", "halftone", "image_conversion", "halftone"},
    {"X-Fax-Retries", "0", "retries", "0"},
    {"X-Fax-Retries", "20", "retries", "20"},
    {"X-Fax-Retry-Interval", "120", "retry_interval", "120"},
    {"X-Fax-Retry-Interval", "5m", "retry_interval", "300"},
    {"X-Fax-Send-At", "2025-06-25T15:30:00Z", "send_at", T_0625_1530Z},
    {"X-Fax-Send-At", "2025-06-25 15:30", "send_at", T_0625_1530Z},
    {"X-Fax-Send-At", "2025-06-25T17:30:00+02:00", "send_at", T_0625_1530Z},
    {"X-Fax-Send-At", "2025-06-25t15:30:00.123z", "send_at", T_0625_1530Z},
    {"X-Fax-Send-At", "2025-06-25T11:30-0400", "send_at", T_0625_1530Z},
    {"X-Fax-Send-At", "2025-06-01T00:00:00Z", "send_at", "1748736000"}, /* past: send now */
    {"X-Fax-Expires", "3600", "expires_at", "1750003600"},
    {"X-Fax-Expires", "2025-06-25T15:30:00Z", "expires_at", T_0625_1530Z},
    {"X-Fax-Economy", "yes", "economy", "yes"},
    {"X-Fax-Economy", "OFF", "economy", "no"},
    {"X-Fax-Priority", "7", "priority", "7"},
    {"X-Fax-Priority", "High", "priority", "8"},
    {"X-Fax-Priority", "low", "priority", "2"},
    {"X-Fax-Cover", "none", "cover", "none"},
    {"X-Fax-Cover", "no", "cover", "none"},
    {"X-Fax-Cover", "yes", "cover", "default"},
    {"X-Fax-Cover", "Default", "cover", "default"},
    {"X-Fax-Cover", "legal-2025.v1", "cover", "legal-2025.v1"},
    {"X-Fax-Cover-Subject", "Quarterly figures", "cover_subject", "Quarterly figures"},
    {"X-Fax-Cover-Note", "Please call\tme", "cover_note", "Please call me"},
    {"X-Fax-Body", "page", "body", "page"},
    {"X-Fax-Cover-Custom-1", "one", "cover_custom_1", "one"},
    {"X-Fax-Cover-Custom-2", "two", "cover_custom_2", "two"},
    {"X-Fax-Cover-Custom-3", "three", "cover_custom_3", "three"},
    {"X-Fax-Cover-Custom-4", "four", "cover_custom_4", "four"},
    {"X-Fax-Cover-Custom-5", "five", "cover_custom_5", "five"},
    {"X-Fax-Cover-Custom-6", "six", "cover_custom_6", "six"},
    {"X-Fax-Cover-Custom-7", "seven", "cover_custom_7", "seven"},
    {"X-Fax-Cover-Custom-8", "eight", "cover_custom_8", "eight"},
    {"X-Fax-Cover-Custom-9", "=?utf-8?b?bmV1bg==?=", "cover_custom_9", "neun"},
    {"X-Fax-Header-Line", "ACME Corp %d.%m.%Y %H:%M to %n", "header_line", "ACME Corp %d.%m.%Y %H:%M to %n"},
    {"X-Fax-Header-Line", "NONE", "header_line", "none"},
    {"X-Fax-Header-Line", "100%% sure", "header_line", "100%% sure"},
    {"X-Fax-TSI", "+1 212 555 0100", "tsi", "+1 212 555 0100"},
    {"X-Fax-TSI", "ACME Corp Fax Dept 1", "tsi", "ACME Corp Fax Dept 1"},
    {"X-Fax-Caller-ID", "+1 (212) 555-0100", "caller_id", "+12125550100"},
    {"X-Fax-Caller-ID", "tel:+4930123456", "caller_id", "+4930123456"},
    {"X-Fax-Billing-Code", "CC-4711", "billing_code", "CC-4711"},
    {"X-Fax-Billing-Code-2", "P-42", "billing_code_2", "P-42"},
    {"X-Fax-Client-Ref", "<jobId>42</jobId>", "client_ref", "<jobId>42</jobId>"},
    {"X-Fax-Tags", "invoice, customer=4711 ,,urgent", "tags", "invoice,customer=4711,urgent"},
    {"X-Fax-Notify", "failure", "notify", "failure"},
    {"X-Fax-Notify", "never", "notify", "never"},
    {"X-Fax-Notify", "Always", "notify", "always"},
    {"X-Fax-Notify", "failure+delay", "notify", "failure+delay"},
    {"X-Fax-Notify", "SUCCESS,FAILURE,DELAY", "notify", "always+delay"},
    {"X-Fax-Notify", "delay", "notify", "delay"},
    {"X-Fax-Notify-To", "a@example.com", "notify_to", "a@example.com"},
    {"X-Fax-Notify-To", "\"Ann Lee\" <ann@example.com>, bob@example.org, ANN@example.com", "notify_to",
     "ann@example.com,bob@example.org"},
    {"X-Fax-Notify-To", "team: c@example.com, d@example.com;", "notify_to", "c@example.com,d@example.com"},
    {"X-Fax-Notify-Format", "JSON", "notify_format", "json"},
    {"X-Fax-Notify-Attach", "first-page", "notify_attach", "first-page"},
    {"X-Fax-Security-Code", "s3cret!", "security_code", "s3cret!"},
    {"X-Fax-Suppress-Blank-Pages", "true", "suppress_blank_pages", "yes"},
    {"X-Fax-Port", "line-2", "line", "line-2"},
    {"X-Fax-No-Prefix", "1", "no_prefix", "yes"},
    {"X-Fax-Max-Speed", "9600", "max_speed", "9600"},
    {"X-Fax-Attach-Library", "PRICEGUIDE, terms_2025.pdf", "attach_library", "PRICEGUIDE,terms_2025.pdf"},
    {"X-Fax-Idempotency-Key", "order-4711-v1", "idempotency_key", "order-4711-v1"},
};

struct bad_case {
	const char *name, *value;
	const char *error; /* the whole reason, or a prefix of it when it ends in '*' */
};

static const struct bad_case bad[] = {
    {"X-Fax-Number", "+1555ABC4567", "X-Fax-Number: letters are not allowed in a fax number"},
    {"X-Fax-Number", "555*123", "X-Fax-Number: expected fax numbers*"},
    {"X-Fax-Number", "555#123", "X-Fax-Number: write a subaddress as tel:NUMBER;isub=DIGITS"},
    {"X-Fax-Number", "tel:+15551234567;ext=12", "X-Fax-Number: tel: URI parameters other than isub=*"},
    {"X-Fax-Number",
     "tel:+155512#4\x15"
     "67;isub=12",
     "X-Fax-Number: write a subaddress as tel:NUMBER;isub=DIGITS"},
    {"X-Fax-Number", "tel:+15551234567;isub=1;isub=2", "X-Fax-Number: tel: URI parameters other than isub=*"},
    {"X-Fax-Number",
     "tel:+1555\x01"
     "1234567",
     "X-Fax-Number: expected fax numbers*"},
    {"X-Fax-Number", "tel:", "X-Fax-Number: expected a number after tel:"},
    {"X-Fax-Number", ",,", "X-Fax-Number: expected fax numbers separated by commas"},
    {"X-Fax-Number", "-", "X-Fax-Number: expected fax numbers*"},
    {"X-Fax-Recipient-Name", "=?UTF-8?Q?x?=", NULL}, /* fine */
    {"X-Fax-Resolution", "ultra", "X-Fax-Resolution: expected standard, fine or superfine"},
    {"X-Fax-Paper-Size", "a3", "X-Fax-Paper-Size: expected a4, letter, legal or b4"},
    {"X-Fax-Image-Conversion", "colour", "X-Fax-Image-Conversion: expected auto, halftone or monochrome"},
    {"X-Fax-Retries", "21", "X-Fax-Retries: expected a whole number from 0 to 20"},
    {"X-Fax-Retries", "-1", "X-Fax-Retries: expected a whole number from 0 to 20"},
    {"X-Fax-Retries", "3 times", "X-Fax-Retries: expected a whole number from 0 to 20"},
    {"X-Fax-Retries", "99999999999999999999", "X-Fax-Retries: expected a whole number from 0 to 20"},
    {"X-Fax-Retry-Interval", "5", "X-Fax-Retry-Interval: expected seconds*"},
    {"X-Fax-Retry-Interval", "2d", "X-Fax-Retry-Interval: expected seconds*"},
    {"X-Fax-Retry-Interval", "soon", "X-Fax-Retry-Interval: expected seconds*"},
    {"X-Fax-Send-At", "tomorrow", "X-Fax-Send-At: expected a time such as*"},
    {"X-Fax-Send-At", "2025-02-30T10:00:00Z", "X-Fax-Send-At: expected a time such as*"},
    {"X-Fax-Send-At", "2025-06-25T24:00:00Z", "X-Fax-Send-At: expected a time such as*"},
    {"X-Fax-Send-At", "2025-06-25T15:30:00+25:00", "X-Fax-Send-At: expected a time such as*"},
    {"X-Fax-Send-At", "2025-06-25T15:30:00Z junk", "X-Fax-Send-At: expected a time such as*"},
    {"X-Fax-Send-At", "1969-12-31T23:59:59Z", "X-Fax-Send-At: expected a time such as*"},
    {"X-Fax-Send-At", "3600", "X-Fax-Send-At: expected a time such as*"},
    {"X-Fax-Send-At", "2026-06-25T15:30:00Z", "X-Fax-Send-At: more than 90 days ahead"},
    {"X-Fax-Expires", "2025-06-01T00:00:00Z", "X-Fax-Expires: already past"},
    {"X-Fax-Expires", "0", "X-Fax-Expires: expected a time or 1 to 7776000 seconds"},
    {"X-Fax-Expires", "99999999", "X-Fax-Expires: expected a time or 1 to 7776000 seconds"},
    {"X-Fax-Economy", "maybe", "X-Fax-Economy: expected yes or no"},
    {"X-Fax-Priority", "10", "X-Fax-Priority: expected 0 to 9, low, normal or high"},
    {"X-Fax-Priority", "urgent", "X-Fax-Priority: expected 0 to 9, low, normal or high"},
    {"X-Fax-Cover", "../../etc/passwd", "X-Fax-Cover: expected none, default or a template name*"},
    {"X-Fax-Cover", ".hidden", "X-Fax-Cover: expected none, default or a template name*"},
    {"X-Fax-Body", "both", "X-Fax-Body: expected cover, page, ignore or auto"},
    {"X-Fax-Header-Line", "%q", "X-Fax-Header-Line: expected printable ASCII*"},
    {"X-Fax-Header-Line", "50%", "X-Fax-Header-Line: expected printable ASCII*"},
    {"X-Fax-Header-Line", "Caf\xc3\xa9", "X-Fax-Header-Line: expected printable ASCII*"},
    {"X-Fax-Header-Line", "%n %n %n %n", "X-Fax-Header-Line: longer than 50 characters after expansion*"},
    {"X-Fax-Header-Line", "123456789012345678901234567890123456789012345678901",
     "X-Fax-Header-Line: longer than 50*"},
    {"X-Fax-TSI", "123456789012345678901", "X-Fax-TSI: expected at most 20 printable ASCII characters"},
    {"X-Fax-TSI", "J\xc3\xbcrgen", "X-Fax-TSI: expected at most 20 printable ASCII characters"},
    {"X-Fax-Caller-ID", "2125550100", "X-Fax-Caller-ID: expected an international number*"},
    {"X-Fax-Caller-ID", "+1234567890123456", "X-Fax-Caller-ID: expected an international number*"},
    {"X-Fax-Caller-ID", "+0123", "X-Fax-Caller-ID: expected an international number*"},
    {"X-Fax-Caller-ID", "+1 555 CALL", "X-Fax-Caller-ID: expected an international number*"},
    {"X-Fax-Client-Ref", "caf\xc3\xa9", "X-Fax-Client-Ref: expected at most 128 printable ASCII characters"},
    {"X-Fax-Tags", "a,\x01", "X-Fax-Tags: expected items*"},
    {"X-Fax-Tags", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,1,2,3,4,5,6,7",
     "X-Fax-Tags: more than 32 items"},
    {"X-Fax-Notify", "sometimes",
     "X-Fax-Notify: expected never, failure, success or always, optionally +delay"},
    {"X-Fax-Notify", "never,failure", "X-Fax-Notify: expected never*"},
    {"X-Fax-Notify", ",", "X-Fax-Notify: expected never*"},
    {"X-Fax-Notify-To", "not an address", "X-Fax-Notify-To: expected mail addresses*"},
    {"X-Fax-Notify-To", "a@", "X-Fax-Notify-To: expected mail addresses*"},
    {"X-Fax-Notify-To", "@b", "X-Fax-Notify-To: expected mail addresses*"},
    {"X-Fax-Notify-To", "a1@x.y,a2@x.y,a3@x.y,a4@x.y,a5@x.y,a6@x.y,a7@x.y,a8@x.y,a9@x.y,a10@x.y,a11@x.y",
     "X-Fax-Notify-To: more than 10 addresses"},
    {"X-Fax-Notify-Format", "pdf", "X-Fax-Notify-Format: expected text, html, json, xml, csv or dsn"},
    {"X-Fax-Notify-Attach", "png", "X-Fax-Notify-Attach: expected none, pdf, tiff or first-page"},
    {"X-Fax-Security-Code", "\xc3\xa9",
     "X-Fax-Security-Code: expected at most 64 printable ASCII characters"},
    {"X-Fax-Suppress-Blank-Pages", "sure", "X-Fax-Suppress-Blank-Pages: expected yes or no"},
    {"X-Fax-Port", "line 2", "X-Fax-Port: expected a name of letters*"},
    {"X-Fax-No-Prefix", "please", "X-Fax-No-Prefix: expected yes or no"},
    {"X-Fax-Max-Speed", "28800", "X-Fax-Max-Speed: expected 2400, 4800, 7200, 9600, 12000 or 14400"},
    {"X-Fax-Attach-Library", "../secret", "X-Fax-Attach-Library: expected names*"},
    {"X-Fax-Idempotency-Key", "k\x7f", "X-Fax-Idempotency-Key: expected at most 128*"},
};

static void check_reason(const char *error)
{
	assert_non_null(error);
	assert_true(error[0] != '\0');
	for (const char *c = error; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c < 0x7f);
}

static void expect_error(const char *error, const char *expected, const char *what)
{
	check_reason(error);
	size_t n = strlen(expected);
	bool ok = n > 0 && expected[n - 1] == '*' ? strncmp(error, expected, n - 1) == 0
						  : strcmp(error, expected) == 0;
	if (!ok)
		fail_msg("%s: \"%s\", expected \"%s\"", what, error, expected);
}

static void test_good(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		const struct good_case *c = &good[i];
		struct fax_headers *h = fax_headers_create();
		const char *error = NULL;
		if (fax_headers_add(h, c->name, c->value, true, true, NOW, &error) != 0)
			fail_msg("case %zu %s: %s", i, c->name, error);
		const char *v = g_hash_table_lookup(fax_headers_fields(h), c->field);
		if (v == NULL || strcmp(v, c->expected) != 0)
			fail_msg("case %zu %s: %s = \"%s\", expected \"%s\"", i, c->name, c->field,
				 v ? v : "(none)", c->expected);
		assert_int_equal(g_hash_table_size(fax_headers_fields(h)), 1);
		assert_null(fax_headers_ignored(h));
		fax_headers_free(&h);
		assert_null(h);
	}
}

static void test_bad(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const struct bad_case *c = &bad[i];
		struct fax_headers *h = fax_headers_create();
		const char *error = NULL;
		int ret = fax_headers_add(h, c->name, c->value, true, true, NOW, &error);
		if (c->error == NULL) {
			assert_int_equal(ret, 0);
		} else {
			if (ret != -1)
				fail_msg("case %zu %s: \"%s\" accepted", i, c->name, c->value);
			char what[64];
			snprintf(what, sizeof(what), "case %zu", i);
			expect_error(error, c->error, what);
		}
		fax_headers_free(&h);
	}
}

/* Every header of the schema has a good and (except free text) a bad case above; every TEXT
   header takes its maximum and refuses one more character. */
static void test_schema_covered(void **state)
{
	size_t n = 0;
	for (const struct fax_header_def *d = fax_header_defs; d->name != NULL; d++, n++) {
		bool has_good = false, has_bad = d->type == FAX_HDR_TEXT;
		for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
			has_good |= g_ascii_strcasecmp(good[i].name, d->name) == 0;
		for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
			has_bad |= strcmp(bad[i].name, d->name) == 0 && bad[i].error != NULL;
		if (!has_good || !has_bad)
			fail_msg("%s: no %s case", d->name, has_good ? "bad" : "good");
		assert_non_null(d->field);
		assert_true(d->type != FAX_HDR_ENUM || d->choices != NULL);
		int index = -1;
		assert_ptr_equal(fax_header_def_find(d->name, &index), d);
		assert_int_equal(index, 0);
		if (d->type != FAX_HDR_TEXT)
			continue;
		struct fax_headers *h = fax_headers_create();
		const char *error = NULL;
		g_autofree char *max = g_strnfill((gsize)d->max, 'x');
		g_autofree char *over = g_strnfill((gsize)d->max + 1, 'x');
		assert_int_equal(fax_headers_add(h, d->name, max, true, true, NOW, &error), 0);
		fax_headers_free(&h);
		h = fax_headers_create();
		assert_int_equal(fax_headers_add(h, d->name, over, true, true, NOW, &error), -1);
		g_autofree char *expected =
		    g_strdup_printf("%s: longer than %lld characters", d->name, (long long)d->max);
		expect_error(error, expected, d->name);
		fax_headers_free(&h);
	}
	assert_true(n >= 50);
	/* the X-Fax-Idempotency-Key of the brief is there */
	assert_non_null(fax_header_def_find("x-fax-idempotency-key", NULL));
}

static void test_lookup(void **state)
{
	int index;
	const struct fax_header_def *d = fax_header_def_find("X-Fax-Recipient-Name-7", &index);
	assert_non_null(d);
	assert_string_equal(d->field, "recipient_name");
	assert_int_equal(index, 7);
	d = fax_header_def_find("X-Fax-Cover-Custom-3", &index);
	assert_string_equal(d->field, "cover_custom_3");
	assert_int_equal(index, 0);
	static const char *const unknown[] = {"X-Fax-Recipient-Name-0",
					      "X-Fax-Recipient-Name-01",
					      "X-Fax-Recipient-Name-101",
					      "X-Fax-Recipient-Name-",
					      "X-Fax-Resolution-2",
					      "X-Fax-Cover-Custom-10",
					      "X-Fax-Recipient-Name-1x",
					      "X-Fax-",
					      "-",
					      ""};
	for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++)
		assert_null(fax_header_def_find(unknown[i], &index));
	assert_null(fax_header_def_find(NULL, NULL));
}

static void test_ignored(void **state)
{
	struct fax_headers *h = fax_headers_create();
	const char *error = NULL;
	/* not ours */
	assert_int_equal(fax_headers_add(h, "Subject", "hello", false, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Mailer", "x", false, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, NULL, "x", false, false, NOW, &error), 0);
	assert_null(fax_headers_ignored(h));
	/* unknown X-Fax-*, including notification headers sent back to us */
	assert_int_equal(fax_headers_add(h, "X-Fax-Foo", "bar", true, true, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "x-fax-status", "sent", true, true, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Foo", "again", true, true, NOW, &error), 0);
	assert_string_equal(fax_headers_ignored(h), "X-Fax-Foo,x-fax-status");
	/* an empty value says nothing */
	assert_int_equal(fax_headers_add(h, "X-Fax-Resolution", "  ", true, true, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Resolution", NULL, true, true, NOW, &error), 0);
	assert_int_equal(g_hash_table_size(fax_headers_fields(h)), 0);
	/* an overlong value of ours is an error, of an unknown one noted */
	g_autofree char *huge = g_strnfill(FAX_HEADERS_MAX_VALUE + 1, 'a');
	assert_int_equal(fax_headers_add(h, "X-Fax-Cover-Note", huge, true, true, NOW, &error), -1);
	expect_error(error, "X-Fax-Cover-Note: longer than 4096 octets", "huge");
	assert_int_equal(fax_headers_add(h, "X-Fax-Huge", huge, true, true, NOW, &error), 0);
	assert_non_null(strstr(fax_headers_ignored(h), "X-Fax-Huge"));
	assert_int_equal(fax_headers_add(h, "Subject", huge, true, true, NOW, &error), 0);
	/* unprintable names are shown safely, and the note stays bounded */
	assert_int_equal(fax_headers_add(h, "X-Fax-\x01\xff,", "v", true, true, NOW, &error), 0);
	assert_non_null(strstr(fax_headers_ignored(h), "X-Fax-???"));
	for (int i = 0; i < 200; i++) {
		char name[40];
		snprintf(name, sizeof(name), "X-Fax-Unknown-%d", i);
		assert_int_equal(fax_headers_add(h, name, "v", true, true, NOW, &error), 0);
	}
	assert_true(strlen(fax_headers_ignored(h)) <= 512);
	fax_headers_free(&h);
	fax_headers_free(&h); /* NULL is fine */
}

static void test_trust(void **state)
{
	static const struct {
		const char *name, *value;
		bool trusted, admin, kept;
	} cases[] = {
	    {"X-Fax-TSI", "+1 212 555 0100", false, false, false},
	    {"X-Fax-TSI", "+1 212 555 0100", false, true, false},
	    {"X-Fax-TSI", "+1 212 555 0100", true, false, true},
	    {"X-Fax-Caller-ID", "+12125550100", false, false, false},
	    {"X-Fax-Caller-ID", "+12125550100", true, false, true},
	    {"X-Fax-Notify-To", "a@example.com", false, false, false},
	    {"X-Fax-Notify-To", "a@example.com", true, false, true},
	    {"X-Fax-Port", "line2", true, false, false},
	    {"X-Fax-Port", "line2", false, true, true},
	    {"X-Fax-No-Prefix", "yes", true, false, false},
	    {"X-Fax-No-Prefix", "yes", true, true, true},
	    {"X-Fax-Max-Speed", "9600", true, false, false},
	    {"X-Fax-Max-Speed", "9600", true, true, true},
	    {"X-Fax-Resolution", "fine", false, false, true},
	    {"X-Fax-Security-Code", "1234", false, false, true},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct fax_headers *h = fax_headers_create();
		const char *error = NULL;
		assert_int_equal(fax_headers_add(h, cases[i].name, cases[i].value, cases[i].trusted,
						 cases[i].admin, NOW, &error),
				 0);
		if (cases[i].kept) {
			assert_int_equal(g_hash_table_size(fax_headers_fields(h)), 1);
			assert_null(fax_headers_ignored(h));
		} else {
			assert_int_equal(g_hash_table_size(fax_headers_fields(h)), 0);
			assert_string_equal(fax_headers_ignored(h), cases[i].name);
		}
		fax_headers_free(&h);
	}
	/* an ignored header's bad value is no error */
	struct fax_headers *h = fax_headers_create();
	const char *error = NULL;
	assert_int_equal(
	    fax_headers_add(h, "X-Fax-TSI", "far too long for a TSI field here", false, false, NOW, &error),
	    0);
	/* untrusted priority: at most normal, noted */
	assert_int_equal(fax_headers_add(h, "X-Fax-Priority", "9", false, false, NOW, &error), 0);
	assert_string_equal(g_hash_table_lookup(fax_headers_fields(h), "priority"), "5");
	assert_string_equal(fax_headers_ignored(h), "X-Fax-TSI,X-Fax-Priority");
	fax_headers_free(&h);
	h = fax_headers_create();
	assert_int_equal(fax_headers_add(h, "X-Fax-Priority", "low", false, false, NOW, &error), 0);
	assert_string_equal(g_hash_table_lookup(fax_headers_fields(h), "priority"), "2");
	assert_null(fax_headers_ignored(h));
	fax_headers_free(&h);
}

static const char *priority_after(const char *const *names, const char *const *values, size_t n, bool trusted)
{
	static char buf[8];
	struct fax_headers *h = fax_headers_create();
	const char *error = NULL;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fax_headers_add(h, names[i], values[i], trusted, false, NOW, &error), 0);
	const char *p = g_hash_table_lookup(fax_headers_fields(h), "priority");
	snprintf(buf, sizeof(buf), "%s", p != NULL ? p : "-");
	fax_headers_free(&h);
	return buf;
}

static void test_importance(void **state)
{
	const char *imp[] = {"Importance"}, *xp[] = {"X-Priority"};
	const char *high[] = {"high"}, *low[] = {"Low"}, *normal[] = {"normal"}, *junk[] = {"whatever"};
	assert_string_equal(priority_after(imp, high, 1, true), "8");
	assert_string_equal(priority_after(imp, low, 1, true), "2");
	assert_string_equal(priority_after(imp, normal, 1, true), "5");
	assert_string_equal(priority_after(imp, junk, 1, true), "-");
	assert_string_equal(priority_after(imp, high, 1, false), "5"); /* untrusted: at most normal */
	const char *x1[] = {"1 (Highest)"}, *x2[] = {"2"}, *x3[] = {"3 (Normal)"}, *x4[] = {"4"},
		   *x5[] = {"5 (Lowest)"}, *x0[] = {"0"}, *x12[] = {"12"};
	assert_string_equal(priority_after(xp, x1, 1, true), "9");
	assert_string_equal(priority_after(xp, x2, 1, true), "8");
	assert_string_equal(priority_after(xp, x3, 1, true), "5");
	assert_string_equal(priority_after(xp, x4, 1, true), "2");
	assert_string_equal(priority_after(xp, x5, 1, true), "1");
	assert_string_equal(priority_after(xp, x0, 1, true), "-");
	assert_string_equal(priority_after(xp, x12, 1, true), "-");
	/* X-Fax-Priority beats both, in any order; X-Priority beats Importance */
	const char *n3[] = {"Importance", "X-Fax-Priority", "X-Priority"};
	const char *v3[] = {"high", "3", "1"};
	assert_string_equal(priority_after(n3, v3, 3, true), "3");
	const char *n3b[] = {"X-Fax-Priority", "X-Priority", "Importance"};
	const char *v3b[] = {"3", "1", "high"};
	assert_string_equal(priority_after(n3b, v3b, 3, true), "3");
	const char *n2[] = {"X-Priority", "Importance"};
	const char *v2[] = {"5", "high"};
	assert_string_equal(priority_after(n2, v2, 2, true), "1");
	const char *n2b[] = {"Importance", "X-Priority"};
	const char *v2b[] = {"high", "5"};
	assert_string_equal(priority_after(n2b, v2b, 2, true), "1");
}

static void test_duplicates(void **state)
{
	struct fax_headers *h = fax_headers_create();
	const char *error = NULL;
	GHashTable *f = fax_headers_fields(h);
	assert_int_equal(fax_headers_add(h, "X-Fax-Resolution", "fine", true, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "x-fax-resolution", "FINE", true, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Resolution", "standard", true, false, NOW, &error), -1);
	expect_error(error, "X-Fax-Resolution: given twice with different values", "dup");
	assert_string_equal(g_hash_table_lookup(f, "resolution"), "fine");
	assert_int_equal(fax_headers_add(h, "X-Fax-Priority", "3", true, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Priority", "4", true, false, NOW, &error), -1);
	assert_int_equal(fax_headers_add(h, "X-Fax-Recipient-Name-2", "A", true, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Recipient-Name-2", "B", true, false, NOW, &error), -1);
	expect_error(error, "X-Fax-Recipient-Name-2: given twice with different values", "dup2");
	assert_int_equal(fax_headers_add(h, "X-Fax-Recipient-Name", "C", true, false, NOW, &error), 0);
	/* numbers and lists add up, without repeats */
	assert_int_equal(fax_headers_add(h, "X-Fax-Number", "5551234567", true, false, NOW, &error), 0);
	assert_int_equal(
	    fax_headers_add(h, "X-Fax-Number", "5551234568, 5551234567", true, false, NOW, &error), 0);
	assert_string_equal(g_hash_table_lookup(f, "numbers"), "5551234567,5551234568");
	assert_int_equal(fax_headers_add(h, "X-Fax-Tags", "a,b", true, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Tags", "b, c", true, false, NOW, &error), 0);
	assert_string_equal(g_hash_table_lookup(f, "tags"), "a,b,c");
	/* a bad number leaves the list as it was */
	assert_int_equal(fax_headers_add(h, "X-Fax-Number", "5551234569, junk", true, false, NOW, &error),
			 -1);
	assert_string_equal(g_hash_table_lookup(f, "numbers"), "5551234567,5551234568");
	fax_headers_free(&h);
	/* the number limit */
	h = fax_headers_create();
	GString *many = g_string_new(NULL);
	for (int i = 0; i < FAX_HEADERS_MAX_NUMBERS; i++)
		g_string_append_printf(many, "%s55512340%02d", i ? "," : "", i);
	assert_int_equal(fax_headers_add(h, "X-Fax-Number", many->str, true, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Number", "5559999999", true, false, NOW, &error), -1);
	expect_error(error, "X-Fax-Number: more than 50 numbers", "limit");
	g_string_free(many, TRUE);
	fax_headers_free(&h);
}

static void test_times(void **state)
{
	struct fax_headers *h = fax_headers_create();
	const char *error = NULL;
	GHashTable *f = fax_headers_fields(h);
	fax_headers_set_timezone(h, "Europe/Berlin");
	assert_int_equal(fax_headers_add(h, "X-Fax-Send-At", "2025-06-25 15:30", true, false, NOW, &error),
			 0);
	assert_string_equal(g_hash_table_lookup(f, "send_at"), "1750858200");
	/* zoned times ignore the local zone */
	assert_int_equal(
	    fax_headers_add(h, "X-Fax-Expires", "2025-06-25T15:30:00Z", true, false, NOW, &error), 0);
	assert_string_equal(g_hash_table_lookup(f, "expires_at"), T_0625_1530Z);
	fax_headers_free(&h);

	h = fax_headers_create();
	f = fax_headers_fields(h);
	fax_headers_set_timezone(h, "America/New_York");
	assert_int_equal(fax_headers_add(h, "X-Fax-Send-At", "2025-06-25 15:30:00", true, false, NOW, &error),
			 0);
	assert_string_equal(g_hash_table_lookup(f, "send_at"), "1750879800");
	/* expiry before the send time, in either order */
	assert_int_equal(
	    fax_headers_add(h, "X-Fax-Expires", "2025-06-25T15:30:00Z", true, false, NOW, &error), -1);
	expect_error(error, "X-Fax-Expires: not after X-Fax-Send-At", "order");
	fax_headers_free(&h);
	h = fax_headers_create();
	assert_int_equal(fax_headers_add(h, "X-Fax-Expires", "60", true, false, NOW, &error), 0);
	assert_int_equal(
	    fax_headers_add(h, "X-Fax-Send-At", "2025-06-25T15:30:00Z", true, false, NOW, &error), -1);
	expect_error(error, "X-Fax-Expires: not after X-Fax-Send-At", "order2");
	/* an unknown zone is UTC */
	fax_headers_set_timezone(h, "Nowhere/Atlantis");
	fax_headers_set_timezone(h, NULL);
	fax_headers_free(&h);
	/* leap second, and the exact 90-day limit */
	h = fax_headers_create();
	assert_int_equal(
	    fax_headers_add(h, "X-Fax-Send-At", "2025-06-30T23:59:60Z", true, false, NOW, &error), 0);
	fax_headers_free(&h);
	h = fax_headers_create();
	g_autofree char *limit = g_strdup_printf("%d", FAX_HEADERS_MAX_SCHEDULE);
	assert_int_equal(fax_headers_add(h, "X-Fax-Expires", limit, true, false, NOW, &error), 0);
	fax_headers_free(&h);
}

static void test_header_line_expand(void **state)
{
	char *s =
	    fax_headers_header_line_expand("ACME %d.%m.%Y %H:%M (%y) to %n %%", NOW, NULL, "+15551234567");
	assert_non_null(s);
	assert_string_equal(s, "ACME 15.06.2025 15:06 (25) to +15551234567 %");
	g_free(s);
	s = fax_headers_header_line_expand("%H:%M", NOW, "Europe/Berlin", NULL);
	assert_string_equal(s, "17:06");
	g_free(s);
	s = fax_headers_header_line_expand("%n", NOW, NULL, "+1234567890123456789\x01");
	assert_string_equal(s, "+123456789012345");
	g_free(s);
	assert_null(fax_headers_header_line_expand("none", NOW, NULL, NULL));
	assert_null(fax_headers_header_line_expand(NULL, NOW, NULL, NULL));
	assert_null(fax_headers_header_line_expand("%q", NOW, NULL, NULL));
	assert_null(fax_headers_header_line_expand("%n%n%n%n", NOW, NULL, NULL));
	/* 51 characters at worst */
	assert_null(fax_headers_header_line_expand("ACME %d.%m.%Y %H:%M (%y) to %n 100%%", NOW, NULL, NULL));
}

/* --- merge -------------------------------------------------------------------------------- */

static GHashTable *table(const char *const *kv)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (; kv != NULL && kv[0] != NULL; kv += 2)
		g_hash_table_replace(t, g_strdup(kv[0]), g_strdup(kv[1]));
	return t;
}

static void assert_field(GHashTable *t, const char *field, const char *expected)
{
	const char *v = g_hash_table_lookup(t, field);
	if (expected == NULL) {
		if (v != NULL)
			fail_msg("%s = \"%s\", expected none", field, v);
		return;
	}
	if (v == NULL || strcmp(v, expected) != 0)
		fail_msg("%s = \"%s\", expected \"%s\"", field, v ? v : "(none)", expected);
}

static void test_merge_levels(void **state)
{
	/* Field "resolution" set at each level from the bottom up: each new level wins. */
	static const char *const defaults_kv[] = {"resolution", "standard", "paper",   "letter", "notify",
						  "failure",	"cover",    "default", NULL};
	static const char *const profile_kv[] = {"resolution",	"fine", "paper", "a4",
						 "sender_name", "Jane", NULL};
	static const char *const headers_kv[] = {"resolution", "superfine", "notify", "always", NULL};
	static const char *const caps_kv[] = {"resolution", "fine", NULL};
	GHashTable *defaults = table(defaults_kv), *profile = table(profile_kv), *headers = table(headers_kv),
		   *caps = table(caps_kv);
	struct fax_address *addr = NULL;
	const char *error = NULL;

	GHashTable *m = fax_headers_merge(NULL, NULL, NULL, NULL, defaults, 1);
	assert_field(m, "resolution", "standard");
	assert_field(m, "cover", "default");
	g_hash_table_unref(m);
	m = fax_headers_merge(NULL, NULL, NULL, profile, defaults, 1);
	assert_field(m, "resolution", "fine");
	assert_field(m, "paper", "a4");
	g_hash_table_unref(m);
	m = fax_headers_merge(NULL, NULL, headers, profile, defaults, 1);
	assert_field(m, "resolution", "superfine");
	assert_field(m, "notify", "always");
	assert_field(m, "paper", "a4");
	assert_field(m, "sender_name", "Jane");
	g_hash_table_unref(m);
	assert_int_equal(fax_address_parse(NULL, "5551234567^STANDARD^NOCOVER^LEGAL", "gw", &addr, &error),
			 0);
	m = fax_headers_merge(NULL, addr, headers, profile, defaults, 1);
	assert_field(m, "resolution", "standard");
	assert_field(m, "cover", "none");
	assert_field(m, "paper", "legal");
	assert_field(m, "number", "5551234567");
	assert_field(m, "notify", "always");
	g_hash_table_unref(m);
	m = fax_headers_merge(caps, addr, headers, profile, defaults, 1);
	assert_field(m, "resolution", "fine");
	assert_field(m, "paper", "legal");
	g_hash_table_unref(m);
	fax_address_free(&addr);
	/* all NULL */
	m = fax_headers_merge(NULL, NULL, NULL, NULL, NULL, 0);
	assert_int_equal(g_hash_table_size(m), 0);
	g_hash_table_unref(m);
	g_hash_table_unref(defaults);
	g_hash_table_unref(profile);
	g_hash_table_unref(headers);
	g_hash_table_unref(caps);
}

static void test_merge_caps(void **state)
{
	static const char *const headers_kv[] = {"priority", "9", "retries", "2",    "max_speed", "14400",
						 "tsi",	     "X", "line",    "fast", NULL};
	static const char *const caps_kv[] = {"priority", "5",	 "retries", "3",       "max_speed",
					      "9600",	  "tsi", "",	    "economy", "yes",
					      "line",	  "",	 NULL};
	GHashTable *headers = table(headers_kv), *caps = table(caps_kv);
	GHashTable *m = fax_headers_merge(caps, NULL, headers, NULL, NULL, 0);
	assert_field(m, "priority", "5"); /* lowered to the ceiling */
	assert_field(m, "retries", "2");  /* below the ceiling: kept */
	assert_field(m, "max_speed", "9600");
	assert_field(m, "tsi", NULL); /* "" forbids */
	assert_field(m, "line", NULL);
	assert_field(m, "economy", "yes"); /* a plain cap is set */
	g_hash_table_unref(m);
	/* a ceiling adds nothing when no level sets the field */
	m = fax_headers_merge(caps, NULL, NULL, NULL, NULL, 0);
	assert_field(m, "priority", NULL);
	assert_field(m, "retries", NULL);
	assert_field(m, "economy", "yes");
	g_hash_table_unref(m);
	/* the address's priority and retries are capped too */
	struct fax_address *addr = NULL;
	const char *error = NULL;
	assert_int_equal(fax_address_parse(NULL, "5551234567/priority=high/retries=9", "gw", &addr, &error),
			 0);
	m = fax_headers_merge(caps, addr, NULL, NULL, NULL, 0);
	assert_field(m, "priority", "5");
	assert_field(m, "retries", "3");
	g_hash_table_unref(m);
	fax_address_free(&addr);
	g_hash_table_unref(headers);
	g_hash_table_unref(caps);
}

static void test_merge_address_fields(void **state)
{
	struct fax_address *addr = NULL;
	const char *error = NULL;
	assert_int_equal(
	    fax_address_parse(NULL,
			      "Jane_Doe/Acme/Sales/Room_4/FAX=+15551234567/T33S=12/ISUB=3/POSTD=ww1/"
			      "fr=Bob/fine/a4/billing=B7/fax-priority=1/retries=4/inline-comments=no",
			      "gw", &addr, &error),
	    0);
	GHashTable *m = fax_headers_merge(NULL, addr, NULL, NULL, NULL, 1);
	assert_field(m, "number", "+15551234567");
	assert_field(m, "recipient_name", "Jane Doe");
	assert_field(m, "recipient_company", "Acme");
	assert_field(m, "cover_custom_1", "Sales");
	assert_field(m, "cover_custom_2", "Room 4");
	assert_field(m, "subaddress", "12");
	assert_field(m, "isub", "3");
	assert_field(m, "postdial", "ww1");
	assert_field(m, "sender_name", "Bob");
	assert_field(m, "resolution", "fine");
	assert_field(m, "paper", "a4");
	assert_field(m, "billing_code", "B7");
	assert_field(m, "priority", "7");
	assert_field(m, "retries", "4");
	assert_field(m, "body", "page");
	assert_int_equal(g_hash_table_size(m), 15);
	g_hash_table_unref(m);
	fax_address_free(&addr);
	assert_int_equal(fax_address_parse(NULL, "5551234567^PORT=l2^NOPREFIX^TEMPLATE=blue^COMMENTS", "gw",
					   &addr, &error),
			 0);
	m = fax_headers_merge(NULL, addr, NULL, NULL, NULL, 1);
	assert_field(m, "line", "l2");
	assert_field(m, "no_prefix", "yes");
	assert_field(m, "cover", "blue");
	assert_field(m, "body", "cover");
	g_hash_table_unref(m);
	fax_address_free(&addr);
}

static void test_merge_indexed(void **state)
{
	struct fax_headers *h = fax_headers_create();
	const char *error = NULL;
	assert_int_equal(fax_headers_add(h, "X-Fax-Recipient-Name", "Everyone", true, false, NOW, &error), 0);
	assert_int_equal(fax_headers_add(h, "X-Fax-Recipient-Name-2", "Second", true, false, NOW, &error), 0);
	assert_int_equal(
	    fax_headers_add(h, "X-Fax-Recipient-Company-12", "Twelfth Inc", true, false, NOW, &error), 0);
	static const char *const profile_kv[] = {"recipient_name", "Profile", "recipient_company", "P Co",
						 NULL};
	GHashTable *profile = table(profile_kv);
	GHashTable *headers = fax_headers_fields(h);

	GHashTable *m = fax_headers_merge(NULL, NULL, headers, profile, NULL, 1);
	assert_field(m, "recipient_name", "Everyone");
	assert_field(m, "recipient_company", "P Co");
	assert_field(m, "recipient_name#2", NULL);
	g_hash_table_unref(m);
	m = fax_headers_merge(NULL, NULL, headers, profile, NULL, 2);
	assert_field(m, "recipient_name", "Second");
	g_hash_table_unref(m);
	m = fax_headers_merge(NULL, NULL, headers, profile, NULL, 12);
	assert_field(m, "recipient_name", "Everyone");
	assert_field(m, "recipient_company", "Twelfth Inc");
	g_hash_table_unref(m);
	m = fax_headers_merge(NULL, NULL, headers, profile, NULL, 0);
	assert_field(m, "recipient_name", "Everyone");
	assert_field(m, "recipient_company", "P Co");
	assert_int_equal(g_hash_table_size(m), 2);
	g_hash_table_unref(m);
	/* the address's name beats even the indexed header */
	struct fax_address *addr = NULL;
	assert_int_equal(fax_address_parse(NULL, "5551234567/to=Addressed", "gw", &addr, &error), 0);
	m = fax_headers_merge(NULL, addr, headers, profile, NULL, 2);
	assert_field(m, "recipient_name", "Addressed");
	g_hash_table_unref(m);
	fax_address_free(&addr);
	g_hash_table_unref(profile);
	fax_headers_free(&h);
}

/* --- robustness --------------------------------------------------------------------------- */

static void feed(const char *name, const char *value)
{
	for (int trust = 0; trust < 4; trust++) {
		struct fax_headers *h = fax_headers_create();
		const char *error = NULL;
		int ret = fax_headers_add(h, name, value, trust & 1, trust & 2, NOW, &error);
		if (ret != 0) {
			assert_int_equal(ret, -1);
			check_reason(error);
		}
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, fax_headers_fields(h));
		while (g_hash_table_iter_next(&it, &k, &v))
			assert_true(g_utf8_validate(v, -1, NULL));
		GHashTable *m = fax_headers_merge(NULL, NULL, fax_headers_fields(h), NULL, NULL, 2);
		g_hash_table_unref(m);
		fax_headers_free(&h);
	}
}

static void feed_prefixes(const char *name, const char *value)
{
	size_t len = strlen(value);
	for (size_t n = 0; n <= len; n++) {
		g_autofree char *prefix = g_strndup(value, n);
		feed(name, prefix);
	}
	len = strlen(name);
	for (size_t n = 0; n <= len; n++) {
		g_autofree char *prefix = g_strndup(name, n);
		feed(prefix, value);
	}
}

static void test_prefixes(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
		feed_prefixes(good[i].name, good[i].value);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		feed_prefixes(bad[i].name, bad[i].value);
	static const char *const odd[] = {"=?",
					  "=?utf-8?q?",
					  "=?utf-8?b?====?=",
					  "=?x-unknown?q?a?=",
					  "\xff\xfe",
					  "a\r\n\tb",
					  "\"",
					  "<>",
					  "a@b@c",
					  "tel:",
					  "tel:;isub=",
					  ";"};
	for (const struct fax_header_def *d = fax_header_defs; d->name != NULL; d++) {
		for (size_t i = 0; i < G_N_ELEMENTS(odd); i++)
			feed(d->name, odd[i]);
	}
}

int main(void)
{
	/* A GLib critical or warning is a bug here (a NULL passed on, a bad conversion). */
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_schema_covered),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_ignored),
	    cmocka_unit_test(test_trust),
	    cmocka_unit_test(test_importance),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_header_line_expand),
	    cmocka_unit_test(test_merge_levels),
	    cmocka_unit_test(test_merge_caps),
	    cmocka_unit_test(test_merge_address_fields),
	    cmocka_unit_test(test_merge_indexed),
	    cmocka_unit_test(test_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
