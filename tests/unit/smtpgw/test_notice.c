/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Composed mails (smtpgw/notice.c, faxmail.c, bounce.c), each parsed back with GMime:
 * notifications of every kind with their headers, In-Reply-To, the DSN fields and the §3.3
 * status mapping, the JSON part (checked by Python's json module), the fax as PDF (page count)
 * or PNG, and a missing or broken fax said in the text; received faxes with the §3.4 headers,
 * the reply-to-fax From, every attachment format and partial or failed receptions; reports to
 * the admin with the original attached whole or as headers. Every message has CRLF line ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <string.h>

#include "common/store.h"
#include "faxd/tiffpages.h"
#include "smtpgw/mailtemplate.h"
#include "smtpgw/notice.h"

#define T0 INT64_C(1750000000) /* 2025-06-15T15:06:40Z */
#define FAX_PAGES 3

static struct mail_templates *templates;
static struct mail_env env;
static char *tmp_dir;
static char *fax;
static size_t fax_len;

/* --- fixtures ----------------------------------------------------------------------------- */

static int setup(void **state)
{
	const char *error = NULL;
	g_setenv("TZ", "UTC", TRUE);
	if (mail_templates_load(NULL, &templates, &error) < 0)
		fail_msg("templates: %s", error);
	tmp_dir = g_dir_make_tmp("notice-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(tmp_dir, "fax.tif", NULL);
	if (tiffpages_write_test(path, FAX_PAGES, TIFFPAGES_RES_FINE, TIFFPAGES_PAPER_A4, 7, &error) < 0)
		fail_msg("mkfaxtiff: %s", error);
	assert_true(g_file_get_contents(path, &fax, &fax_len, NULL));
	g_unlink(path);
	env = (struct mail_env){templates, "Fax Gateway <postmaster@fax.example.com>", "gw.example.com",
				"fax.example.com", tmp_dir};
	return 0;
}

static int teardown(void **state)
{
	/* every scratch file of a conversion is gone again */
	assert_int_equal(g_rmdir(tmp_dir), 0);
	g_free(tmp_dir);
	g_free(fax);
	mail_templates_free(&templates);
	return 0;
}

static struct job *make_job(void)
{
	struct job *job = store_job_new();
	g_strlcpy(job->id, "J0KX3M9Q4T", sizeof(job->id));
	job->state = JOB_STATE_DONE;
	job->number = g_strdup("+4930123456");
	job->recipient_name = g_strdup("J\xc3\xbcrgen M\xc3\xbcller");
	job->recipient_company = g_strdup("M\xc3\xbcller & <S\xc3\xb6hne>");
	job->resolution = g_strdup("fine");
	job->client_ref = g_strdup("INV-7 \"q\" \\b");
	job->result_code = g_strdup("sent");
	job->result_text = g_strdup("sent 3 pages");
	job->remote_ident = g_strdup("+49 30 123456");
	job->created_at = T0;
	job->completed_at = job->updated_at = T0 + 300;
	job->next_try_at = T0 + 480;
	job->expires_at = T0 + 86400;
	job->pages_total = job->pages_done = FAX_PAGES;
	job->tries = 2;
	GHashTable *f = job->fields;
	g_hash_table_insert(f, g_strdup("message_id"), g_strdup("<orig-1@client.example>"));
	g_hash_table_insert(f, g_strdup("subject"), g_strdup("Rechnung M\xc3\xa4rz"));
	g_hash_table_insert(f, g_strdup("billing_code"), g_strdup("CC-42"));
	g_hash_table_insert(f, g_strdup("rcpt"), g_strdup("+4930123456@fax.example.com"));
	g_hash_table_insert(f, g_strdup("dsn_envid"), g_strdup("ENV-1"));
	g_hash_table_insert(f, g_strdup("dsn_orcpt"), g_strdup("fax-30123456@client.example"));
	return job;
}

static void set_result(struct job *job, const char *code, const char *text)
{
	g_free(job->result_code);
	job->result_code = g_strdup(code);
	g_free(job->result_text);
	job->result_text = g_strdup(text);
}

/* A job that has not got through: state, no page confirmed, the result. */
static struct job *make_unsent_job(enum job_state state, const char *code, const char *text)
{
	struct job *job = make_job();
	job->state = state;
	job->pages_done = 0;
	set_result(job, code, text);
	return job;
}

static struct attempt *attempt(int64_t start, int64_t end, int64_t rate, const char *csid)
{
	struct attempt *a = g_new0(struct attempt, 1);
	a->started_at = start;
	a->ended_at = end;
	a->bit_rate = rate;
	a->ecm = rate > 0;
	a->remote_ident = g_strdup(csid);
	return a;
}

/* A busy call (30 s) and one that went through (62 s). */
static GPtrArray *make_attempts(void)
{
	GPtrArray *a = g_ptr_array_new();
	g_ptr_array_add(a, attempt(T0 + 10, T0 + 40, 0, NULL));
	g_ptr_array_add(a, attempt(T0 + 200, T0 + 262, 14400, "+49 30 123456"));
	return a;
}

/* --- reading the result back -------------------------------------------------------------- */

/* CRLF only, no line over 998 octets (RFC 5322 §2.1.1). */
static void check_lines(const GByteArray *raw)
{
	size_t line = 0;
	for (guint i = 0; i < raw->len; i++) {
		if (raw->data[i] == '\n') {
			if (i == 0 || raw->data[i - 1] != '\r')
				fail_msg("bare LF at byte %u", i);
			line = 0;
		} else if (++line > 999) {
			fail_msg("line over 998 octets at byte %u", i);
		}
	}
}

static GMimeMessage *parse(GByteArray *raw)
{
	check_lines(raw);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)raw->data, raw->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(s);
	g_byte_array_unref(raw);
	assert_non_null(m);
	return m;
}

static const char *header(GMimeMessage *m, const char *name)
{
	return g_mime_object_get_header((GMimeObject *)m, name);
}

static void assert_header(GMimeMessage *m, const char *name, const char *value)
{
	const char *got = header(m, name);
	if (g_strcmp0(got, value) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", name, got ? got : "(none)", value ? value : "(none)");
}

struct finder {
	const char *type;
	int skip;
	GMimeObject *found;
	int count;
};

static void find_cb(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct finder *f = data;
	const char *type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(part));
	g_autofree char *t = (char *)type;
	if (g_ascii_strcasecmp(t, f->type) == 0 && f->count++ == f->skip)
		f->found = part;
}

/* The n-th (0-based) part of a content type, anywhere in the message. */
static GMimeObject *find_nth(GMimeMessage *m, const char *type, int n)
{
	struct finder f = {type, n, NULL, 0};
	g_mime_message_foreach(m, find_cb, &f);
	return f.found;
}

static GMimeObject *find_part(GMimeMessage *m, const char *type)
{
	return find_nth(m, type, 0);
}

static int count_parts(GMimeMessage *m, const char *type)
{
	struct finder f = {type, -1, NULL, 0};
	g_mime_message_foreach(m, find_cb, &f);
	return f.count;
}

/* The decoded content of a leaf part. */
static GByteArray *content(GMimeObject *part)
{
	assert_non_null(part);
	GMimeStream *mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(part)), mem);
	GByteArray *copy = g_byte_array_new();
	GByteArray *b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_byte_array_append(copy, b->data, b->len);
	g_object_unref(mem);
	return copy;
}

/* The decoded content as a string, CR LF as LF (the raw lines are checked by check_lines). */
static char *text_of(GMimeObject *part)
{
	GByteArray *b = content(part);
	GString *s = g_string_sized_new(b->len);
	for (guint i = 0; i < b->len; i++)
		if (b->data[i] != '\r' || i + 1 >= b->len || b->data[i + 1] != '\n')
			g_string_append_c(s, (char)b->data[i]);
	g_byte_array_unref(b);
	return g_string_free(s, FALSE);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (haystack == NULL || strstr(haystack, needle) == NULL)
		fail_msg("\"%s\" not in:\n%s", needle, haystack ? haystack : "(null)");
}

static int count_of(const char *haystack, size_t len, const char *needle)
{
	int n = 0;
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= len; i++)
		n += memcmp(haystack + i, needle, k) == 0;
	return n;
}

static GMimeMessage *compose(const struct job *job, const GPtrArray *attempts, enum notice_kind kind,
			     const struct notice_options *o, const void *data, size_t len)
{
	GByteArray *raw = NULL;
	const char *error = NULL;
	if (notice_compose(&env, job, attempts, kind, "Anna <anna@client.example>",
			   "M0KX3M9Q4T@gw.example.com", o, data, len, &raw, &error) < 0)
		fail_msg("notice_compose: %s", error);
	return parse(raw);
}

/* JSON through Python's parser; returns what script prints for the parsed object d. */
static char *python_json(const char *json, const char *expr)
{
	g_autofree char *script = g_strdup_printf("import json,sys\nd=json.load(sys.stdin)\nprint(%s)", expr);
	GError *err = NULL;
	GSubprocess *p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
					  &err, "/usr/bin/python3", "-c", script, NULL);
	if (p == NULL)
		fail_msg("python3: %s", err->message);
	char *out = NULL;
	assert_true(g_subprocess_communicate_utf8(p, json, NULL, &out, NULL, &err));
	assert_true(g_subprocess_get_if_exited(p));
	if (g_subprocess_get_exit_status(p) != 0)
		fail_msg("not JSON:\n%s", json);
	g_object_unref(p);
	return g_strchomp(out);
}

/* --- notifications ------------------------------------------------------------------------ */

static void test_status_and_kind(void **state)
{
	struct job *job = make_job();
	assert_string_equal(notice_status(NOTICE_SENT, job), "sent");
	assert_string_equal(notice_status(NOTICE_RETRYING, job), "retrying");
	assert_string_equal(notice_status(NOTICE_CANCELLED, job), "cancelled");
	assert_string_equal(notice_status(NOTICE_EXPIRED, job), "expired");
	assert_string_equal(notice_status(NOTICE_FORMAT_FAILED, job), "format-failed");
	assert_string_equal(notice_status(NOTICE_FAILED, job), "partial");
	job->pages_done = 0;
	assert_string_equal(notice_status(NOTICE_FAILED, job), "failed");
	static const struct {
		enum job_state to;
		const char *code;
		int ret;
		enum notice_kind kind;
	} cases[] = {
	    {JOB_STATE_DONE, "sent", 0, NOTICE_SENT},
	    {JOB_STATE_DEFERRED, "busy", 0, NOTICE_RETRYING},
	    {JOB_STATE_FAILED, "no-fax", 0, NOTICE_FAILED},
	    {JOB_STATE_FAILED, "format-failed", 0, NOTICE_FORMAT_FAILED},
	    {JOB_STATE_FAILED, "expired", 0, NOTICE_EXPIRED},
	    {JOB_STATE_FAILED, NULL, 0, NOTICE_FAILED},
	    {JOB_STATE_CANCELLED, NULL, 0, NOTICE_CANCELLED},
	    {JOB_STATE_EXPIRED, "expired", 0, NOTICE_EXPIRED},
	    {JOB_STATE_QUEUED, NULL, -1, 0},
	    {JOB_STATE_SENDING, NULL, -1, 0},
	    {JOB_STATE_HELD, NULL, -1, 0},
	    {JOB_STATE_RENDERING, NULL, -1, 0},
	    {JOB_STATE_SUBMITTED, NULL, -1, 0},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		set_result(job, cases[i].code, NULL);
		enum notice_kind kind = 99;
		assert_int_equal(notice_kind_for(job, cases[i].to, &kind), cases[i].ret);
		if (cases[i].ret == 0)
			assert_int_equal(kind, cases[i].kind);
	}
	store_job_free(&job);
}

static void test_wanted(void **state)
{
	static const struct {
		const char *policy;
		bool sent, failed, retrying, expired;
	} cases[] = {
	    {NULL, true, true, false, true},
	    {"", true, true, false, true},
	    {"always", true, true, false, true},
	    {"always+delay", true, true, true, true},
	    {"never", false, false, false, false},
	    {"NEVER", false, false, false, false},
	    {"failure", false, true, false, true},
	    {"failure,delay", false, true, true, true},
	    {"success", true, false, false, false},
	    {"SUCCESS,FAILURE", true, true, false, true},
	    {"success,failure,delay", true, true, true, true},
	    {"delay", false, false, true, false},
	    {" failure + delay ", false, true, true, true},
	    {"bogus", true, true, false, true},
	    {"success,bogus", true, false, false, false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *p = cases[i].policy;
		if (notice_wanted(p, NOTICE_SENT) != cases[i].sent ||
		    notice_wanted(p, NOTICE_FAILED) != cases[i].failed ||
		    notice_wanted(p, NOTICE_RETRYING) != cases[i].retrying ||
		    notice_wanted(p, NOTICE_EXPIRED) != cases[i].expired ||
		    notice_wanted(p, NOTICE_CANCELLED) != cases[i].failed ||
		    notice_wanted(p, NOTICE_FORMAT_FAILED) != cases[i].failed)
			fail_msg("policy \"%s\"", p ? p : "(null)");
	}
}

/* A sent notice, text and HTML only: the headers of §3.3 and the reply headers. */
static void test_sent(void **state)
{
	struct job *job = make_job();
	GPtrArray *attempts = make_attempts();
	GMimeMessage *m = compose(job, attempts, NOTICE_SENT, NULL, NULL, 0);
	assert_string_equal(g_mime_message_get_subject(m), "Your fax to +4930123456 was sent");
	assert_string_equal(g_mime_message_get_message_id(m), "M0KX3M9Q4T@gw.example.com");
	assert_header(m, "Message-Id", "<M0KX3M9Q4T@gw.example.com>");
	assert_header(m, "From", "Fax Gateway <postmaster@fax.example.com>");
	assert_header(m, "To", "Anna <anna@client.example>");
	assert_non_null(header(m, "Date"));
	assert_header(m, "In-Reply-To", "<orig-1@client.example>");
	assert_header(m, "References", "<orig-1@client.example>");
	assert_header(m, "Auto-Submitted", "auto-replied");
	assert_header(m, "X-Fax-Job-ID", "J0KX3M9Q4T");
	assert_header(m, "X-Fax-Client-Ref", "INV-7 \"q\" \\b");
	assert_header(m, "X-Fax-Status", "sent");
	assert_header(m, "X-Fax-Result-Code", "sent");
	assert_header(m, "X-Fax-Result-Text", "sent 3 pages");
	assert_header(m, "X-Fax-Number", "+4930123456");
	assert_header(m, "X-Fax-Pages", "3/3");
	assert_header(m, "X-Fax-Remote-CSID", "+49 30 123456");
	assert_header(m, "X-Fax-Duration", "92");
	assert_header(m, "X-Fax-Attempts", "2");
	assert_header(m, "X-Fax-Submitted", "2025-06-15T15:06:40Z");
	assert_header(m, "X-Fax-Completed", "2025-06-15T15:11:40Z");
	assert_header(m, "X-Fax-Next-Try", NULL);
	assert_header(m, "X-Fax-Bit-Rate", "14400");
	assert_header(m, "X-Fax-ECM", "yes");
	assert_header(m, "X-Fax-Resolution", "fine");
	assert_header(m, "X-Fax-Billing-Code", "CC-42");
	GMimeContentType *ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(m));
	assert_string_equal(g_mime_content_type_get_media_subtype(ct), "alternative");
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	g_autofree char *html = text_of(find_part(m, "text/html"));
	assert_contains(text, "Your fax to J\xc3\xbcrgen M\xc3\xbcller, M\xc3\xbcller & <S\xc3\xb6hne> "
			      "(+4930123456) was sent.");
	assert_contains(text, "Subject:          Rechnung M\xc3\xa4rz\n");
	assert_contains(text, "Time on the line: 92 s");
	assert_contains(text, "Submitted:        2025-06-15 15:06 UTC");
	assert_contains(text, "14400 bit/s, error correction: yes");
	assert_contains(html, "M\xc3\xbcller &amp; &lt;S\xc3\xb6hne&gt;");
	assert_null(strstr(text, "{"));
	assert_null(find_part(m, "message/delivery-status"));
	assert_null(find_part(m, "application/json"));
	g_object_unref(m);
	store_attempts_free(&attempts);
	store_job_free(&job);
}

/* A failed notice with DSN and JSON: multipart/report [mixed [alternative, json], status]. */
static void test_failed_dsn_json(void **state)
{
	struct job *job =
	    make_unsent_job(JOB_STATE_FAILED, "no-fax", "answered, no fax tone\r\nX-Injected: yes");
	g_free(job->remote_ident);
	job->remote_ident = g_strdup("M\xc3\xbcller\tGmbH");
	GPtrArray *attempts = make_attempts();
	struct notice_options o = {"en", true, true, "none"};
	GMimeMessage *m = compose(job, attempts, NOTICE_FAILED, &o, NULL, 0);
	assert_string_equal(g_mime_message_get_subject(m), "Your fax to +4930123456 could not be sent");
	assert_header(m, "X-Injected", NULL);
	assert_header(m, "X-Fax-Result-Text", "answered, no fax tone  X-Injected: yes");
	assert_header(m, "X-Fax-Remote-CSID", "M\xc3\xbcller GmbH");
	assert_header(m, "X-Fax-Status", "failed");
	GMimeObject *top = g_mime_message_get_mime_part(m);
	GMimeContentType *ct = g_mime_object_get_content_type(top);
	assert_string_equal(g_mime_content_type_get_media_subtype(ct), "report");
	assert_string_equal(g_mime_content_type_get_parameter(ct, "report-type"), "delivery-status");
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(top)), 2);
	GMimeObject *first = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
	assert_string_equal(g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(first)),
			    "mixed");
	GMimeObject *second = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
	assert_string_equal(g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(second)),
			    "delivery-status");
	g_autofree char *dsn = text_of(second);
	assert_contains(dsn, "Reporting-MTA: dns; gw.example.com\n"
			     "Original-Envelope-Id: ENV-1\n"
			     "Arrival-Date: Sun, 15 Jun 2025 15:06:40 +0000\n"
			     "\n"
			     "Original-Recipient: rfc822; fax-30123456@client.example\n"
			     "Final-Recipient: rfc822; +4930123456@fax.example.com\n"
			     "Action: failed\n"
			     "Status: 5.1.1\n"
			     "Diagnostic-Code: X-Fax; no-fax answered, no fax tone??X-Injected: yes\n"
			     "Last-Attempt-Date: Sun, 15 Jun 2025 15:11:02 +0000\n"
			     "X-Fax-Remote-CSID: M??ller?GmbH\n"
			     "X-Fax-Pages: 0/3\n");
	assert_null(strstr(dsn, "Will-Retry-Until"));
	g_autofree char *json = text_of(find_part(m, "application/json"));
	g_autofree char *got =
	    python_json(json, "'|'.join(str(d[k]) for k in ('job_id','client_ref','status','result_code',"
			      "'pages_sent','pages_total','remote_csid','duration','attempts','ecm',"
			      "'bit_rate','submitted','billing_code','number'))");
	assert_string_equal(got,
			    "J0KX3M9Q4T|INV-7 \"q\" \\b|failed|no-fax|0|3|M\xc3\xbcller GmbH|92|2|True|14400|"
			    "2025-06-15T15:06:40Z|CC-42|+4930123456");
	assert_contains(json, "\"client_ref\": \"INV-7 \\\"q\\\" \\\\b\"");
	assert_contains(json, "\"pages_sent\": 0,");
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	assert_contains(text, "could not be sent: the call was answered, but not by a fax machine.");
	g_object_unref(m);
	store_attempts_free(&attempts);
	store_job_free(&job);
}

/* §3.3's DSN table: Action and Status for each outcome. */
static void test_dsn_mapping(void **state)
{
	static const struct {
		enum notice_kind kind;
		const char *code, *text;
		int64_t pages_done;
		const char *action, *status;
	} cases[] = {
	    {NOTICE_SENT, "sent", NULL, 3, "delivered", "2.0.0"},
	    {NOTICE_RETRYING, "busy", NULL, 0, "delayed", "4.4.1"},
	    {NOTICE_RETRYING, "no-answer", NULL, 0, "delayed", "4.4.1"},
	    {NOTICE_RETRYING, "hangup", NULL, 1, "delayed", "4.4.2"},
	    {NOTICE_RETRYING, "training", NULL, 0, "delayed", "4.4.2"},
	    {NOTICE_FAILED, "too-many-tries", NULL, 0, "failed", "4.4.7"},
	    {NOTICE_FAILED, "too-many-dials", NULL, 0, "failed", "4.4.7"},
	    {NOTICE_EXPIRED, "expired", NULL, 0, "failed", "4.4.7"},
	    {NOTICE_EXPIRED, NULL, NULL, 0, "failed", "4.4.7"},
	    {NOTICE_FAILED, "no-fax", NULL, 0, "failed", "5.1.1"},
	    {NOTICE_FAILED, "invalid-number", NULL, 0, "failed", "5.1.3"},
	    {NOTICE_FAILED, "too-many-tries", NULL, 2, "failed", "4.4.2"},
	    {NOTICE_FAILED, "rejected", NULL, 0, "failed", "5.7.1"},
	    {NOTICE_FAILED, "incompatible", NULL, 0, "failed", "5.6.3"},
	    {NOTICE_FAILED, "document", NULL, 0, "failed", "5.3.0"},
	    {NOTICE_FAILED, "weird", NULL, 0, "failed", "5.0.0"},
	    {NOTICE_FORMAT_FAILED, "format-failed", "unsupported type: application/x-foo", 0, "failed",
	     "5.6.1"},
	    {NOTICE_FORMAT_FAILED, "format-failed", "more than 50 pages", 0, "failed", "5.3.4"},
	    {NOTICE_FORMAT_FAILED, "format-failed", "corrupt PDF", 0, "failed", "5.6.5"},
	    {NOTICE_CANCELLED, NULL, NULL, 0, "failed", "5.0.0"},
	};
	struct notice_options o = {"de", true, false, "none"};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct job *job = make_job();
		set_result(job, cases[i].code, cases[i].text);
		job->pages_done = cases[i].pages_done;
		GMimeMessage *m = compose(job, NULL, cases[i].kind, &o, NULL, 0);
		g_autofree char *dsn = text_of(find_part(m, "message/delivery-status"));
		g_autofree char *want =
		    g_strdup_printf("Action: %s\nStatus: %s\n", cases[i].action, cases[i].status);
		if (strstr(dsn, want) == NULL)
			fail_msg("case %zu: want %s in\n%s", i, want, dsn);
		assert_true((strstr(dsn, "Will-Retry-Until: ") != NULL) ==
			    (cases[i].kind == NOTICE_RETRYING));
		assert_true((strstr(dsn, "Diagnostic-Code: X-Fax; ") != NULL) ==
			    (cases[i].code != NULL || cases[i].kind == NOTICE_EXPIRED ||
			     cases[i].kind == NOTICE_CANCELLED));
		assert_null(strstr(dsn, "Last-Attempt-Date")); /* no attempts given */
		g_object_unref(m);
		store_job_free(&job);
	}
}

/* Retrying, in German: subject encoded and decoded, next try in the text and the headers. */
static void test_retrying_german(void **state)
{
	struct job *job = make_unsent_job(JOB_STATE_DEFERRED, "busy", "busy; retry in 180s");
	struct notice_options o = {"de-DE", true, false, "none"};
	GByteArray *raw = NULL;
	assert_int_equal(notice_compose(&env, job, NULL, NOTICE_RETRYING, "anna@client.example", NULL, &o,
					NULL, 0, &raw, NULL),
			 0);
	assert_non_null(
	    g_strstr_len((const char *)raw->data, raw->len, "Subject: Ihr Fax an +4930123456 =?UTF-8?"));
	GMimeMessage *m = parse(raw);
	assert_string_equal(g_mime_message_get_subject(m), "Ihr Fax an +4930123456 verz\xc3\xb6gert sich");
	assert_header(m, "X-Fax-Status", "retrying");
	assert_header(m, "X-Fax-Next-Try", "2025-06-15T15:14:40Z");
	assert_header(m, "X-Fax-Completed", NULL);
	assert_header(m, "X-Fax-Attempts", "2"); /* job->tries: no list given */
	assert_contains(g_mime_message_get_message_id(m), "@gw.example.com");
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	assert_contains(text,
			"wurde noch nicht gesendet: die Leitung war besetzt. Das Gateway versucht es am "
			"15.06.2025 15:14 UTC erneut.\n");
	assert_contains(text, "Frist:            16.06.2025 15:06 UTC");
	assert_contains(text, "Seiten:           0 von 3");
	g_autofree char *dsn = text_of(find_part(m, "message/delivery-status"));
	assert_contains(dsn, "Will-Retry-Until: Mon, 16 Jun 2025 15:06:40 +0000\n");
	g_object_unref(m);
	store_job_free(&job);
}

/* Every kind composes in both languages; lines of fields that are empty are left out. */
static void test_every_kind(void **state)
{
	for (int kind = NOTICE_SENT; kind <= NOTICE_FORMAT_FAILED; kind++) {
		for (int de = 0; de <= 1; de++) {
			struct job *job = make_job();
			g_free(job->client_ref);
			job->client_ref = NULL;
			struct notice_options o = {de ? "de" : "en", false, true, "none"};
			GMimeMessage *m = compose(job, NULL, kind, &o, NULL, 0);
			assert_header(m, "X-Fax-Status", notice_status(kind, job));
			assert_header(m, "X-Fax-Client-Ref", NULL);
			g_autofree char *text = text_of(find_part(m, "text/plain"));
			assert_null(strstr(text, de ? "Referenz:" : "Reference:"));
			assert_null(strstr(text, "{"));
			g_autofree char *json = text_of(find_part(m, "application/json"));
			g_autofree char *got = python_json(json, "d['status']");
			assert_string_equal(got, notice_status(kind, job));
			g_object_unref(m);
			store_job_free(&job);
		}
	}
}

/* The sent fax as PDF (every page) and as a PNG of page 1. */
static void test_attachments(void **state)
{
	struct job *job = make_job();
	struct notice_options o = {"en", false, false, "pdf"};
	GMimeMessage *m = compose(job, NULL, NOTICE_SENT, &o, fax, fax_len);
	GMimeObject *pdf = find_part(m, "application/pdf");
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(pdf)), "fax-J0KX3M9Q4T.pdf");
	assert_string_equal(g_mime_object_get_disposition(pdf), "attachment");
	GByteArray *b = content(pdf);
	assert_memory_equal(b->data, "%PDF", 4);
	assert_int_equal(count_of((const char *)b->data, b->len, "/Type /Page "), FAX_PAGES);
	g_byte_array_unref(b);
	GMimeContentType *ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(m));
	assert_string_equal(g_mime_content_type_get_media_subtype(ct), "mixed");
	g_object_unref(m);

	o.attach = "png";
	m = compose(job, NULL, NOTICE_SENT, &o, fax, fax_len);
	GMimeObject *png = find_part(m, "image/png");
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(png)), "fax-J0KX3M9Q4T-page1.png");
	b = content(png);
	assert_memory_equal(b->data, "\x89PNG\r\n\x1a\n", 8);
	g_byte_array_unref(b);
	g_object_unref(m);

	o.attach = "tiff";
	o.dsn = true;
	m = compose(job, NULL, NOTICE_SENT, &o, fax, fax_len);
	b = content(find_part(m, "image/tiff"));
	assert_int_equal(b->len, fax_len);
	assert_memory_equal(b->data, fax, fax_len);
	g_byte_array_unref(b);
	g_object_unref(m);
	store_job_free(&job);
}

/* No fax, or one that cannot be converted: no attachment, and the text says so. */
static void test_attachment_missing(void **state)
{
	struct job *job = make_job();
	struct notice_options o = {"en", false, false, "pdf"};
	GMimeMessage *m = compose(job, NULL, NOTICE_SENT, &o, NULL, 0);
	assert_null(find_part(m, "application/pdf"));
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	assert_contains(text, "The fax pages are not available, so they are not attached.");
	g_object_unref(m);

	o.language = "de";
	o.attach = "png";
	m = compose(job, NULL, NOTICE_SENT, &o, "not a TIFF at all", 17);
	assert_null(find_part(m, "image/png"));
	g_autofree char *text2 = text_of(find_part(m, "text/plain"));
	assert_contains(text2, "Das Fax konnte nicht angeh\xc3\xa4ngt werden: ");
	g_autofree char *html = text_of(find_part(m, "text/html"));
	assert_contains(html, "Das Fax konnte nicht angeh\xc3\xa4ngt werden: ");
	g_object_unref(m);

	o.attach = "none";
	m = compose(job, NULL, NOTICE_SENT, &o, NULL, 0);
	g_autofree char *text3 = text_of(find_part(m, "text/plain"));
	assert_null(strstr(text3, "angeh\xc3\xa4ngt"));
	g_object_unref(m);
	store_job_free(&job);
}

static void test_bad_arguments(void **state)
{
	struct job *job = make_job();
	GByteArray *raw = NULL;
	const char *error = NULL;
	assert_int_equal(
	    notice_compose(&env, job, NULL, NOTICE_SENT, "not an address", NULL, NULL, NULL, 0, &raw, &error),
	    -1);
	assert_non_null(error);
	assert_int_equal(
	    notice_compose(&env, job, NULL, 42, "a@b.example", NULL, NULL, NULL, 0, &raw, &error), -1);
	assert_int_equal(
	    notice_compose(&env, NULL, NULL, NOTICE_SENT, "a@b.example", NULL, NULL, NULL, 0, &raw, &error),
	    -1);
	assert_null(raw);
	/* an original Message-ID without <> is still correlated; a broken one is left out */
	g_hash_table_replace(job->fields, g_strdup("message_id"), g_strdup(" bare-id@client.example "));
	assert_int_equal(
	    notice_compose(&env, job, NULL, NOTICE_SENT, "a@b.example", "<x@y>", NULL, NULL, 0, &raw, NULL),
	    0);
	GMimeMessage *m = parse(raw);
	assert_header(m, "In-Reply-To", "<bare-id@client.example>");
	assert_header(m, "Message-Id", "<x@y>");
	g_object_unref(m);
	g_hash_table_replace(job->fields, g_strdup("message_id"), g_strdup("<bad id@x>"));
	assert_int_equal(
	    notice_compose(&env, job, NULL, NOTICE_SENT, "a@b.example", NULL, NULL, NULL, 0, &raw, NULL), 0);
	m = parse(raw);
	assert_header(m, "In-Reply-To", NULL);
	g_object_unref(m);
	store_job_free(&job);
}

/* --- received faxes ----------------------------------------------------------------------- */

static struct inbound make_inbound(void)
{
	struct inbound in = {.line = "loop",
			     .did = "+4930999000",
			     .caller_id = "+49 30 555-1234",
			     .remote_csid = "ACME Corp",
			     .resolution = "fine",
			     .result_text = "OK",
			     .received_at = T0,
			     .pages = FAX_PAGES,
			     .duration_ms = 61600};
	g_strlcpy(in.id, "R0KX3M9Q4T", sizeof(in.id));
	return in;
}

static GMimeMessage *fax_mail(const struct inbound *in, const char *format, const char *language,
			      const void *tiff, size_t len)
{
	GByteArray *raw = NULL;
	const char *error = NULL;
	if (faxmail_compose(&env, in, "office@client.example", format, language, "rule",
			    "<F1@gw.example.com>", tiff, len, &raw, &error) < 0)
		fail_msg("faxmail_compose: %s", error);
	return parse(raw);
}

static void test_faxmail(void **state)
{
	struct inbound in = make_inbound();
	GMimeMessage *m = fax_mail(&in, "pdf", "en", fax, fax_len);
	assert_string_equal(g_mime_message_get_subject(m), "Fax from ACME Corp (3 pages)");
	assert_header(m, "From", "ACME Corp <+49305551234@fax.example.com>");
	assert_header(m, "To", "office@client.example");
	assert_header(m, "Message-Id", "<F1@gw.example.com>");
	assert_header(m, "Date", "Sun, 15 Jun 2025 15:06:40 +0000");
	assert_header(m, "Auto-Submitted", "auto-generated");
	assert_header(m, "Message-Context", "fax-message");
	/* GMime files Content-* headers of the top level under the body part */
	assert_string_equal(g_mime_object_get_header(g_mime_message_get_mime_part(m), "Content-Class"),
			    "fax");
	assert_header(m, "X-CallingTelephoneNumber", "+49 30 555-1234");
	assert_header(m, "X-FaxNumberOfPages", "3");
	assert_header(m, "X-Fax-Called-Number", "+4930999000");
	assert_header(m, "X-Fax-Caller-ID", "+49 30 555-1234");
	assert_header(m, "X-Fax-Remote-TSI", "ACME Corp");
	assert_header(m, "X-Fax-Pages", "3");
	assert_header(m, "X-Fax-Resolution", "fine");
	assert_header(m, "X-Fax-Received-At", "2025-06-15T15:06:40Z");
	assert_header(m, "X-Fax-Duration", "62");
	assert_header(m, "X-Fax-Receive-Status", "complete");
	assert_header(m, "X-Fax-Result-Text", NULL);
	assert_header(m, "X-Fax-Job-ID", "R0KX3M9Q4T");
	assert_header(m, "X-Fax-Line", "loop");
	assert_header(m, "X-Fax-Routed-By", "rule");
	GMimeObject *pdf = find_part(m, "application/pdf");
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(pdf)), "fax-R0KX3M9Q4T.pdf");
	GByteArray *b = content(pdf);
	assert_int_equal(count_of((const char *)b->data, b->len, "/Type /Page "), FAX_PAGES);
	g_byte_array_unref(b);
	assert_null(find_part(m, "image/tiff"));
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	assert_contains(text, "You have received a fax from ACME Corp: 3 pages, received completely.");
	assert_contains(text, "Called number:    +4930999000");
	g_object_unref(m);
}

/* tiff, both, none; German; and a PDF that cannot be made sends the TIFF instead. */
static void test_faxmail_formats(void **state)
{
	struct inbound in = make_inbound();
	GMimeMessage *m = fax_mail(&in, "tiff", "de", fax, fax_len);
	assert_string_equal(g_mime_message_get_subject(m), "Fax von ACME Corp (3 Seiten)");
	GMimeObject *tif = find_part(m, "image/tiff");
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(tif)), "fax-R0KX3M9Q4T.tif");
	GByteArray *b = content(tif);
	assert_int_equal(b->len, fax_len);
	assert_memory_equal(b->data, fax, fax_len);
	g_byte_array_unref(b);
	assert_null(find_part(m, "application/pdf"));
	g_object_unref(m);

	m = fax_mail(&in, "both", "en", fax, fax_len);
	assert_int_equal(count_parts(m, "application/pdf"), 1);
	assert_int_equal(count_parts(m, "image/tiff"), 1);
	g_object_unref(m);

	m = fax_mail(&in, "none", "en", fax, fax_len);
	assert_int_equal(count_parts(m, "application/pdf") + count_parts(m, "image/tiff"), 0);
	GMimeContentType *ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(m));
	assert_string_equal(g_mime_content_type_get_media_subtype(ct), "alternative");
	g_object_unref(m);

	m = fax_mail(&in, NULL, "en", "II*\0broken", 10);
	assert_int_equal(count_parts(m, "image/tiff"), 1);
	assert_null(find_part(m, "application/pdf"));
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	assert_contains(text, "No PDF could be made (");
	assert_contains(text, "); the fax is attached as a TIFF file.");
	g_object_unref(m);

	GByteArray *raw = NULL;
	const char *error = NULL;
	assert_int_equal(
	    faxmail_compose(&env, &in, "a@b.example", "gif", "en", NULL, NULL, fax, fax_len, &raw, &error),
	    -1);
	assert_contains(error, "gif");
}

/* Partial and failed receptions say so; who the mail is From when the caller has no number. */
static void test_faxmail_partial_failed(void **state)
{
	struct inbound in = make_inbound();
	in.partial = 1;
	in.pages = 1;
	in.result_code = 48;
	in.result_text = "far end hung up";
	GMimeMessage *m = fax_mail(&in, "pdf", "en", fax, fax_len);
	assert_string_equal(g_mime_message_get_subject(m), "Fax from ACME Corp (1 page)");
	assert_header(m, "X-Fax-Receive-Status", "partial");
	assert_header(m, "X-Fax-Result-Text", "far end hung up");
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	assert_contains(text, "1 page, received only in part: the call ended early.");
	assert_contains(text, "Details:          far end hung up");
	g_object_unref(m);

	in = make_inbound();
	in.pages = 0;
	in.result_code = 3;
	in.result_text = "no fax tone";
	in.caller_id = "anonymous";
	in.remote_csid = "0301234567";
	m = fax_mail(&in, "pdf", "de", NULL, 0);
	assert_header(m, "X-Fax-Receive-Status", "failed");
	assert_header(m, "From", "0301234567 <0301234567@fax.example.com>");
	g_autofree char *text2 = text_of(find_part(m, "text/plain"));
	assert_contains(text2, "0 Seiten, nicht empfangen.");
	assert_contains(text2, "Die Faxseiten liegen nicht vor und sind daher nicht angeh\xc3\xa4ngt.");
	g_object_unref(m);

	in = make_inbound();
	in.caller_id = NULL;
	in.remote_csid = "Hotel \"Zur Post\"";
	m = fax_mail(&in, "none", "en", fax, fax_len);
	InternetAddressList *from = g_mime_message_get_from(m);
	InternetAddress *a = internet_address_list_get_address(from, 0);
	assert_string_equal(internet_address_get_name(a), "Hotel \"Zur Post\"");
	assert_string_equal(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)),
			    "postmaster@fax.example.com");
	g_object_unref(m);

	in = make_inbound();
	in.caller_id = in.remote_csid = NULL;
	m = fax_mail(&in, "none", "de", fax, fax_len);
	assert_string_equal(g_mime_message_get_subject(m), "Fax von unbekanntem Absender (3 Seiten)");
	assert_header(m, "From", "Fax Gateway <postmaster@fax.example.com>");
	g_object_unref(m);
}

/* --- reports to the admin ----------------------------------------------------------------- */

static const char original[] = "From: Bob <bob@client.example>\r\n"
			       "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
			       "Message-ID: <orig-9@client.example>\r\n"
			       "\r\n"
			       "Hello.\r\n";

static GMimeMessage *bounce(const void *data, size_t len)
{
	GByteArray *raw = NULL;
	const char *error = NULL;
	if (bounce_compose(&env, "postmaster@localhost", "office@client.example", "550 5.1.1 no such user",
			   "<B1@gw.example.com>", data, len, &raw, &error) < 0)
		fail_msg("bounce_compose: %s", error);
	return parse(raw);
}

static void test_bounce(void **state)
{
	GMimeMessage *m = bounce(original, sizeof(original) - 1);
	assert_string_equal(g_mime_message_get_subject(m), "Undeliverable: mail to office@client.example");
	assert_header(m, "To", "postmaster@localhost");
	assert_header(m, "Auto-Submitted", "auto-generated");
	assert_header(m, "Message-Id", "<B1@gw.example.com>");
	g_autofree char *text = text_of(find_part(m, "text/plain"));
	assert_contains(text, "Reason:     550 5.1.1 no such user");
	assert_contains(text, "Message-ID: <orig-9@client.example>");
	assert_contains(text, "Subject:    Gr\xc3\xbc\xc3\x9f"
			      "e");
	assert_contains(text, "From:       Bob <bob@client.example>");
	assert_contains(text, "The original message is attached.");
	GMimeObject *part = find_part(m, "message/rfc822");
	assert_non_null(part);
	GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
	assert_string_equal(g_mime_message_get_message_id(inner), "orig-9@client.example");
	g_object_unref(m);

	/* over 1 MB: only the headers */
	GString *big = g_string_new(original);
	while (big->len <= 1024 * 1024)
		g_string_append(big,
				"0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
	m = bounce(big->str, big->len);
	assert_null(find_part(m, "message/rfc822"));
	g_autofree char *headers = text_of(find_part(m, "text/rfc822-headers"));
	assert_string_equal(headers, "From: Bob <bob@client.example>\n"
				     "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n"
				     "Message-ID: <orig-9@client.example>\n"
				     "\n");
	g_autofree char *text2 = text_of(find_part(m, "text/plain"));
	g_autofree char *note =
	    g_strdup_printf("The original message has %zu bytes, so only its headers", big->len);
	assert_contains(text2, note);
	g_string_free(big, TRUE);
	g_object_unref(m);

	/* NUL bytes: carried base64; nothing: no attachment */
	m = bounce("Subject: x\r\n\r\na\0b\r\n", 19);
	assert_non_null(find_part(m, "application/octet-stream"));
	g_object_unref(m);
	m = bounce(NULL, 0);
	GMimeContentType *ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(m));
	assert_string_equal(g_mime_content_type_get_media_subtype(ct), "alternative");
	g_object_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_and_kind),
	    cmocka_unit_test(test_wanted),
	    cmocka_unit_test(test_sent),
	    cmocka_unit_test(test_failed_dsn_json),
	    cmocka_unit_test(test_dsn_mapping),
	    cmocka_unit_test(test_retrying_german),
	    cmocka_unit_test(test_every_kind),
	    cmocka_unit_test(test_attachments),
	    cmocka_unit_test(test_attachment_missing),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_faxmail),
	    cmocka_unit_test(test_faxmail_formats),
	    cmocka_unit_test(test_faxmail_partial_failed),
	    cmocka_unit_test(test_bounce),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
