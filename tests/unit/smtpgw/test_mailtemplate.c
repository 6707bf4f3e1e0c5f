/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Mail templates (smtpgw/mailtemplate.c): the built-in copies match smtpgw/templates/, every
 * template loads and expands, languages are chosen and fall back to English, a folder's file
 * replaces the built-in one, broken templates are refused naming file and line, and the
 * expansion rules (literal braces, lines of empty fields left out, one-line subjects, HTML
 * escaping, control characters) hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "smtpgw/mailtemplate.h"
#include "smtpgw/mailtemplate_builtin.h"

static const char *const names[] = {"sent",    "failed",	"retrying", "cancelled",
				    "expired", "format-failed", "received", "bounce"};

static void write_file(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, n, NULL);
		g_unlink(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
}

static GHashTable *fields_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
}

/* The built-in C strings are the files, and every file is built in. */
static void test_builtin_matches_files(void **state)
{
	int count = 0;
	for (int i = 0; mail_template_builtin_name(i); i++, count++) {
		const char *file = mail_template_builtin_name(i);
		g_autofree char *path = g_build_filename("smtpgw/templates", file, NULL);
		g_autofree char *text = NULL;
		if (!g_file_get_contents(path, &text, NULL, NULL))
			fail_msg("%s: cannot read (run the test from the top folder)", path);
		if (strcmp(text, mail_template_builtin_find(file)) != 0)
			fail_msg("%s differs from smtpgw/mailtemplate_builtin.c: run "
				 "smtpgw/templates/mkbuiltin.py",
				 path);
	}
	GDir *d = g_dir_open("smtpgw/templates", 0, NULL);
	assert_non_null(d);
	int files = 0;
	const char *n;
	while ((n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".txt") || g_str_has_suffix(n, ".html")) {
			if (!mail_template_builtin_find(n))
				fail_msg(
				    "smtpgw/templates/%s is not built in: run smtpgw/templates/mkbuiltin.py",
				    n);
			files++;
		}
	g_dir_close(d);
	assert_int_equal(files, count);
	assert_int_equal(count, (int)G_N_ELEMENTS(names) * 2 * 2);
	assert_null(mail_template_builtin_find("nosuch.en.txt"));
	assert_null(mail_template_builtin_find(NULL));
	assert_null(mail_template_builtin_name(-1));
}

/* Every built-in template loads and expands in both languages with no fields at all. */
static void test_load_builtin(void **state)
{
	struct mail_templates *t = NULL;
	const char *error = NULL;
	assert_int_equal(mail_templates_load(NULL, &t, &error), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		for (int de = 0; de <= 1; de++) {
			char *subject, *text, *html;
			assert_int_equal(mail_template_expand(t, names[i], de ? "de" : "en", NULL, &subject,
							      &text, &html, &error),
					 0);
			assert_true(*subject != '\0');
			assert_null(strchr(subject, '\n'));
			assert_non_null(strstr(text, de ? "automatische Nachricht" : "automatic message"));
			assert_true(g_str_has_prefix(html, "<!DOCTYPE html>"));
			assert_null(strchr(html, '{'));
			g_free(subject);
			g_free(text);
			g_free(html);
		}
	}
	assert_string_equal(mail_template_source(t, "sent", "en", "txt"), "built-in:sent.en.txt");
	assert_string_equal(mail_template_source(t, "bounce", "de", "html"), "built-in:bounce.de.html");
	char *s, *x, *h;
	assert_int_equal(mail_template_expand(t, "nosuch", "en", NULL, &s, &x, &h, &error), -1);
	assert_non_null(strstr(error, "nosuch"));
	mail_templates_free(&t);
	assert_null(t);
	mail_templates_free(&t);
}

static void expand_sent(struct mail_templates *t, const char *language, char **subject, char **text,
			char **html)
{
	GHashTable *f = fields_new();
	g_hash_table_insert(f, "number", "+4930123456");
	g_hash_table_insert(f, "to", "Anna Schmidt (+4930123456)");
	g_hash_table_insert(f, "pages_sent", "3");
	g_hash_table_insert(f, "pages_total", "3");
	g_hash_table_insert(f, "job_id", "J0KX3M9Q4T");
	const char *error = NULL;
	assert_int_equal(mail_template_expand(t, "sent", language, f, subject, text, html, &error), 0);
	g_hash_table_destroy(f);
}

/* German by "de" and its regional forms; anything else is English. */
static void test_languages(void **state)
{
	struct mail_templates *t = NULL;
	assert_int_equal(mail_templates_load(NULL, &t, NULL), 0);
	static const struct {
		const char *language, *subject;
	} cases[] = {
	    {"de", "Ihr Fax an +4930123456 wurde gesendet"},
	    {"de-DE", "Ihr Fax an +4930123456 wurde gesendet"},
	    {"DE_at", "Ihr Fax an +4930123456 wurde gesendet"},
	    {"en", "Your fax to +4930123456 was sent"},
	    {"fr", "Your fax to +4930123456 was sent"},
	    {"", "Your fax to +4930123456 was sent"},
	    {NULL, "Your fax to +4930123456 was sent"},
	    {"deu", "Your fax to +4930123456 was sent"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *subject, *text, *html;
		expand_sent(t, cases[i].language, &subject, &text, &html);
		assert_string_equal(subject, cases[i].subject);
		bool de = strstr(cases[i].subject, "Ihr") != NULL;
		assert_non_null(strstr(text, de ? "Ihr Fax an Anna Schmidt (+4930123456) wurde gesendet."
						: "Your fax to Anna Schmidt (+4930123456) was sent."));
		assert_non_null(strstr(html, de ? "<html lang=\"de\">" : "<html lang=\"en\">"));
		g_free(subject);
		g_free(text);
		g_free(html);
	}
	assert_string_equal(mail_template_language("de-CH"), "de");
	assert_string_equal(mail_template_language("en-GB"), "en");
	assert_string_equal(mail_template_language("nl"), "en");
	assert_string_equal(mail_template_phrase("de", "status.sent"), "gesendet");
	assert_string_equal(mail_template_phrase("fr", "status.sent"), "sent");
	assert_string_equal(mail_template_phrase("de", "result.busy"), "die Leitung war besetzt");
	assert_null(mail_template_phrase("en", "nosuch"));
	mail_templates_free(&t);
}

/* A folder's file replaces the built-in one; the first folder that has it wins; a missing
   folder is no error. */
static void test_override(void **state)
{
	g_autofree char *a = g_dir_make_tmp("mailtpl-XXXXXX", NULL);
	g_autofree char *b = g_dir_make_tmp("mailtpl-XXXXXX", NULL);
	write_file(a, "sent.en.txt", "Subject: Fax {job_id} done\r\n\r\nAll {pages_sent} pages.\r\n");
	write_file(b, "sent.en.txt", "Subject: not this one\n\n");
	write_file(b, "sent.en.html", "<p>{job_id}</p>\n");
	const char *dirs[] = {"/nonexistent/mail-templates", a, b, NULL};
	struct mail_templates *t = NULL;
	const char *error = NULL;
	assert_int_equal(mail_templates_load(dirs, &t, &error), 0);
	g_autofree char *path_a = g_build_filename(a, "sent.en.txt", NULL);
	g_autofree char *path_b = g_build_filename(b, "sent.en.html", NULL);
	assert_string_equal(mail_template_source(t, "sent", "en", "txt"), path_a);
	assert_string_equal(mail_template_source(t, "sent", "en", "html"), path_b);
	assert_string_equal(mail_template_source(t, "sent", "de", "txt"), "built-in:sent.de.txt");
	char *subject, *text, *html;
	expand_sent(t, "en", &subject, &text, &html);
	assert_string_equal(subject, "Fax J0KX3M9Q4T done");
	assert_string_equal(text, "All 3 pages.\n");
	assert_string_equal(html, "<p>J0KX3M9Q4T</p>\n");
	g_free(subject);
	g_free(text);
	g_free(html);
	mail_templates_free(&t);
	remove_dir(a);
	remove_dir(b);
}

/* A broken template fails the load with FILE:LINE and what is wrong. */
static void test_errors(void **state)
{
	static const struct {
		const char *file, *text, *where, *what;
	} cases[] = {
	    {"sent.en.txt", "Subject: x\n\nHello {nosuch}\n", "sent.en.txt:3:", "unknown field {nosuch}"},
	    {"sent.en.txt", "Subject: x\n\nfine\nHello {job_id\n", "sent.en.txt:4:", "unclosed brace"},
	    {"sent.en.txt", "Hello\n\nbody\n", "sent.en.txt:1:", "Subject"},
	    {"sent.en.txt", "", "sent.en.txt:1:", "Subject"},
	    {"sent.en.txt", "Subject: x\nbody\n", "sent.en.txt:2:", "blank line"},
	    {"sent.en.txt", "Subject: {bad}\n\n", "sent.en.txt:1:", "unknown field {bad}"},
	    {"sent.en.txt", "Subject: x\n\n\n\nclose } here\n", "sent.en.txt:5:", "'}' without '{'"},
	    {"sent.en.txt", "Subject: x\n\n{Job_ID}\n", "sent.en.txt:3:", "bad field name {Job_ID}"},
	    {"sent.en.txt", "Subject: x\n\n{}\n", "sent.en.txt:3:", "bad field name {}"},
	    {"sent.en.txt", "Subject: x\n\n{ job_id }\n", "sent.en.txt:3:", "bad field name"},
	    {"sent.en.txt", "Subject: x\n\nFrom {csid}\n", "sent.en.txt:3:", "unknown field {csid}"},
	    {"received.de.txt", "Subject: x\n\n{csid} {job_id} {number}\n",
	     "received.de.txt:3:", "unknown field {number}"},
	    {"bounce.en.txt", "Subject: x\n\nline\n\xff\xfe\n", "bounce.en.txt:4:", "not UTF-8"},
	    {"sent.en.html", "Subject: x\n\n<p>\n", "sent.en.html:1:", "no Subject line"},
	    {"sent.de.html", "<p>\n{job_id} {nope}</p>\n", "sent.de.html:2:", "unknown field {nope}"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *dir = g_dir_make_tmp("mailtpl-XXXXXX", NULL);
		write_file(dir, cases[i].file, cases[i].text);
		const char *dirs[] = {dir, NULL};
		struct mail_templates *t = NULL;
		const char *error = NULL;
		assert_int_equal(mail_templates_load(dirs, &t, &error), -1);
		assert_null(t);
		g_autofree char *where = g_build_filename(dir, cases[i].where, NULL);
		if (!g_str_has_prefix(error, where) || !strstr(error, cases[i].what))
			fail_msg("case %zu: got \"%s\", want \"%s ... %s\"", i, error, where, cases[i].what);
		remove_dir(dir);
	}
}

static void load_custom(const char *txt, const char *html, char **dir_r, struct mail_templates **t_r)
{
	*dir_r = g_dir_make_tmp("mailtpl-XXXXXX", NULL);
	write_file(*dir_r, "sent.en.txt", txt);
	write_file(*dir_r, "sent.en.html", html);
	const char *dirs[] = {*dir_r, NULL};
	const char *error = NULL;
	assert_int_equal(mail_templates_load(dirs, t_r, &error), 0);
}

/* Literal braces, lines of empty fields left out, values made safe for where they go. */
static void test_expand_rules(void **state)
{
	char *dir;
	struct mail_templates *t = NULL;
	load_custom("\xef\xbb\xbfSubject:   {{Fax}} {subject} {job_id}\n\n"
		    "A {{literal}} }} brace\n"
		    "Ref: {client_ref}\n"
		    "Ref and job: {client_ref} {job_id}\n"
		    "\n"
		    "Note: {result_text}\n"
		    "no newline at the end {pages_sent}",
		    "<p>{result_text}</p>\n<td>{client_ref}</td>\n<i>{{x}}</i>\n", &dir, &t);
	GHashTable *f = fields_new();
	g_hash_table_insert(f, "subject", "Line1\r\nLine2\tTab");
	g_hash_table_insert(f, "job_id", "J1");
	g_hash_table_insert(f, "client_ref", "");
	g_hash_table_insert(f, "result_text", "a<b & \"c\" 'd'\r\nnext\rlast\x01 bad\xff");
	char *subject, *text, *html;
	const char *error = NULL;
	assert_int_equal(mail_template_expand(t, "sent", "en", f, &subject, &text, &html, &error), 0);
	assert_string_equal(subject, "{Fax} Line1 Line2 Tab J1");
	assert_string_equal(text, "A {literal} } brace\n"
				  "Ref and job:  J1\n"
				  "\n"
				  "Note: a<b & \"c\" 'd'\nnext\nlast  bad\xef\xbf\xbd\n");
	assert_string_equal(
	    html, "<p>a&lt;b &amp; &quot;c&quot; &#39;d&#39;<br>\nnext<br>\nlast  bad\xef\xbf\xbd</p>\n"
		  "<i>{x}</i>\n");
	g_free(subject);
	g_free(text);
	g_free(html);
	g_hash_table_destroy(f);
	mail_templates_free(&t);
	remove_dir(dir);
	g_free(dir);
}

/* A line with text only stays, however empty; a subject whose fields are empty stays too. */
static void test_empty_subject_and_lines(void **state)
{
	char *dir;
	struct mail_templates *t = NULL;
	load_custom("Subject: {subject}\n\n\n\nend\n", "{subject}\n", &dir, &t);
	char *subject, *text, *html;
	assert_int_equal(mail_template_expand(t, "sent", "en", NULL, &subject, &text, &html, NULL), 0);
	assert_string_equal(subject, "");
	assert_string_equal(text, "\n\nend\n");
	assert_string_equal(html, "");
	g_free(subject);
	g_free(text);
	g_free(html);
	mail_templates_free(&t);
	remove_dir(dir);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtin_matches_files),
	    cmocka_unit_test(test_load_builtin),
	    cmocka_unit_test(test_languages),
	    cmocka_unit_test(test_override),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_expand_rules),
	    cmocka_unit_test(test_empty_subject_and_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
