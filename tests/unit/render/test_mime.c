/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The MIME walk over the client-shaped corpus in tests/data/mail/ (expected.txt says what each
   message must give), plus hostile structure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/mime.h"

static char *workdir(void)
{
	char *dir = g_strdup("/tmp/fgmime-XXXXXX");
	assert_non_null(g_mkdtemp(dir));
	return dir;
}

static void remove_dir(char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	g_free(dir);
}

/* "*text/plain, application/pdf:name" for the parts found. */
static char *describe(const struct mime_walk *walk)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < walk->parts->len; i++) {
		const struct mime_part *p = walk->parts->pdata[i];
		g_string_append_printf(s, "%s%s%s", i ? ", " : "", p->is_body ? "*" : "", p->content_type);
		if (!g_str_has_prefix(p->name, "part-"))
			g_string_append_printf(s, ":%s", p->name);
		assert_true(g_file_test(p->path, G_FILE_TEST_IS_REGULAR));
	}
	return g_string_free(s, FALSE);
}

static void check_message(const char *name, const char *parts, int skipped, const char *body)
{
	g_autofree char *path = g_strdup_printf("tests/data/mail/%s", name);
	char *dir = workdir();
	struct mime_walk *walk = NULL;
	const char *error = NULL;
	if (mime_walk(path, dir, &walk, &error) < 0)
		fail_msg("%s: %s", name, error);
	g_autofree char *got = describe(walk);
	if (strcmp(got, parts) != 0)
		fail_msg("%s: parts\n  got  %s\n  want %s", name, got, parts);
	if ((int)walk->skipped->len != skipped)
		fail_msg("%s: %u skipped, want %d", name, walk->skipped->len, skipped);
	if (strcmp(body, "-") == 0)
		assert_null(walk->body_text);
	else if (walk->body_text == NULL || strstr(walk->body_text, body) == NULL)
		fail_msg("%s: body \"%s\" lacks \"%s\"", name, walk->body_text ? walk->body_text : "(none)", body);
	assert_non_null(walk->subject);
	mime_walk_free(&walk);
	assert_null(walk);
	remove_dir(dir);
}

static void test_corpus(void **state)
{
	gchar *text = NULL;
	assert_true(g_file_get_contents("tests/data/mail/expected.txt", &text, NULL, NULL));
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	int checked = 0;
	for (int i = 0; lines[i]; i++) {
		if (lines[i][0] == '#' || lines[i][0] == '\0')
			continue;
		g_auto(GStrv) f = g_strsplit(lines[i], "|", 5);
		assert_non_null(f[3]);
		check_message(g_strstrip(f[0]), g_strstrip(f[1]), atoi(f[2]), g_strstrip(f[3]));
		assert_non_null(f[4]);
		checked++;
	}
	assert_true(checked >= 10);
	g_free(text);
}

static void write_message(const char *path, const char *text)
{
	assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void test_hostile_nesting(void **state)
{
	char *dir = workdir();
	GString *msg = g_string_new("From: a@b\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");
	for (int i = 0; i < 200; i++)
		g_string_append_printf(msg, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	g_string_append(msg, "Content-Type: text/plain\r\n\r\nbottom\r\n");
	g_autofree char *path = g_strdup_printf("%s/deep.eml", dir);
	write_message(path, msg->str);
	g_string_free(msg, TRUE);
	struct mime_walk *walk = NULL;
	const char *error = NULL;
	assert_int_equal(mime_walk(path, dir, &walk, &error), 0);
	assert_true(walk->skipped->len >= 1); /* nested too deep, reported */
	mime_walk_free(&walk);
	remove_dir(dir);
}

static void test_garbage_and_missing(void **state)
{
	char *dir = workdir();
	struct mime_walk *walk = NULL;
	const char *error = NULL;
	assert_int_equal(mime_walk("/nonexistent/msg.eml", dir, &walk, &error), -1);
	assert_non_null(error);
	g_autofree char *path = g_strdup_printf("%s/junk.eml", dir);
	write_message(path, "\x01\x02 not a message at all");
	if (mime_walk(path, dir, &walk, &error) == 0)
		mime_walk_free(&walk); /* GMime reads anything as a message: no crash is what counts */
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_hostile_nesting),
		cmocka_unit_test(test_garbage_and_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
