/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Maildir delivery (smtpgw/maildir.c): a message lands whole in new/ under a unique name with
 * nothing left in tmp/, missing directories are made, names stay unique across threads, and a
 * file where new/ should be is a permanent error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpgw/maildir.h"

#define THREADS 8
#define PER_THREAD 40

static char *tmp_root(void)
{
	char *dir = g_dir_make_tmp("test_maildir-XXXXXX", NULL);
	assert_non_null(dir);
	return dir;
}

static void rm_rf(const char *path)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static guint count_files(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	guint n = 0;
	assert_non_null(d);
	while (g_dir_read_name(d) != NULL)
		n++;
	g_dir_close(d);
	return n;
}

static void test_deliver(void **state)
{
	g_autofree char *root = tmp_root();
	g_autofree char *md = g_build_filename(root, "a", "b", "Maildir", NULL);
	const char msg[] = "From: a@b\nSubject: hi\n\nbody\n";
	char *name = NULL;
	bool temporary = true;
	const char *error = NULL;
	assert_int_equal(maildir_deliver(md, msg, strlen(msg), &name, &temporary, &error), 0);
	assert_non_null(name);
	assert_null(strchr(name, '/'));
	assert_non_null(strstr(name, ".M"));
	g_autofree char *path = g_build_filename(md, "new", name, NULL),
			*tmp = g_build_filename(md, "tmp", NULL);
	g_autofree char *cur = g_build_filename(md, "cur", NULL), *text = NULL;
	gsize len = 0;
	assert_true(g_file_get_contents(path, &text, &len, NULL));
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(text, msg, len);
	assert_int_equal(count_files(tmp), 0);
	assert_true(g_file_test(cur, G_FILE_TEST_IS_DIR));
	g_free(name);
	rm_rf(root);
}

static gpointer deliver_many(gpointer dir)
{
	GPtrArray *names = g_ptr_array_new();
	for (int i = 0; i < PER_THREAD; i++) {
		char *name = NULL;
		bool temporary;
		const char *error = NULL;
		if (maildir_deliver(dir, "x\n", 2, &name, &temporary, &error) == 0)
			g_ptr_array_add(names, name);
	}
	return names;
}

static void test_unique_across_threads(void **state)
{
	g_autofree char *root = tmp_root();
	GThread *threads[THREADS];
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < THREADS; i++)
		threads[i] = g_thread_new("deliver", deliver_many, root);
	for (int i = 0; i < THREADS; i++) {
		GPtrArray *names = g_thread_join(threads[i]);
		assert_int_equal(names->len, PER_THREAD);
		for (guint j = 0; j < names->len; j++)
			assert_true(g_hash_table_add(seen, names->pdata[j]));
		g_ptr_array_free(names, TRUE);
	}
	g_autofree char *newdir = g_build_filename(root, "new", NULL),
			*tmp = g_build_filename(root, "tmp", NULL);
	assert_int_equal(g_hash_table_size(seen), THREADS * PER_THREAD);
	assert_int_equal(count_files(newdir), THREADS * PER_THREAD);
	assert_int_equal(count_files(tmp), 0);
	g_hash_table_destroy(seen);
	rm_rf(root);
}

static void test_file_where_new_should_be(void **state)
{
	g_autofree char *root = tmp_root();
	g_autofree char *blocker = g_build_filename(root, "new", NULL);
	assert_true(g_file_set_contents(blocker, "not a directory", -1, NULL));
	char *name = NULL;
	bool temporary = true;
	const char *error = NULL;
	assert_int_equal(maildir_deliver(root, "x\n", 2, &name, &temporary, &error), -1);
	assert_null(name);
	assert_false(temporary);
	assert_non_null(strstr(error, "Not a directory"));
	rm_rf(root);
}

static void test_file_where_maildir_should_be(void **state)
{
	g_autofree char *root = tmp_root();
	g_autofree char *md = g_build_filename(root, "Maildir", NULL),
			*under = g_build_filename(md, "sub", NULL);
	assert_true(g_file_set_contents(md, "a file", -1, NULL));
	char *name = NULL;
	bool temporary = true;
	const char *error = NULL;
	assert_int_equal(maildir_deliver(md, "x\n", 2, &name, &temporary, &error), -1);
	assert_false(temporary);
	assert_int_equal(maildir_deliver(under, "x\n", 2, &name, &temporary, &error), -1);
	assert_false(temporary);
	rm_rf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deliver),
	    cmocka_unit_test(test_unique_across_threads),
	    cmocka_unit_test(test_file_where_new_should_be),
	    cmocka_unit_test(test_file_where_maildir_should_be),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
