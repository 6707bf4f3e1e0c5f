/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Profiles: save and look up by any address, passwords (yescrypt), address ownership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store.h"
#include "profiles/profile.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/fgprof-XXXXXX");
	if (g_mkdtemp(dir) == NULL)
		return -1;
	g_autofree char *uri = g_strdup_printf("sqlite:%s/faxgate.db", dir);
	struct store *st = NULL;
	const char *error = NULL;
	if (store_open_uri(uri, 1000, &st, &error) < 0)
		return -1;
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	struct store *st = *state;
	store_close(&st);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_save_and_lookup(void **state)
{
	struct store *st = *state;
	struct profile *p = profile_new("Alice@Example.COM");
	p->name = g_strdup("Alice Smith");
	p->permission_class = g_strdup("local,national");
	g_ptr_array_add(p->addresses, g_strdup("asmith@example.com"));
	g_ptr_array_add(p->dids, g_strdup("100"));
	p->password_hash = profile_hash_password("s3cret pass");
	assert_non_null(p->password_hash);
	assert_true(g_str_has_prefix(p->password_hash, "$y$"));
	const char *error = NULL;
	assert_int_equal(profile_save(st, p, &error), 0);
	struct profile *got = NULL;
	assert_int_equal(profile_lookup(st, "ASMITH@example.com", &got, &error), 1);
	assert_string_equal(got->primary_address, "alice@example.com");
	assert_string_equal(got->name, "Alice Smith");
	assert_string_equal(got->permission_class, "local,national");
	assert_int_equal(got->addresses->len, 2);
	assert_int_equal(got->dids->len, 1);
	assert_true(got->may_send);
	assert_true(profile_check_password(got, "s3cret pass"));
	assert_false(profile_check_password(got, "s3cret pasS"));
	assert_false(profile_check_password(got, ""));
	assert_true(profile_owns_address(got, "Alice@example.com"));
	assert_true(profile_owns_address(got, "asmith@EXAMPLE.com"));
	assert_false(profile_owns_address(got, "bob@example.com"));
	/* saving again replaces the addresses */
	g_ptr_array_set_size(got->addresses, 0);
	assert_int_equal(profile_save(st, got, &error), 0);
	struct profile *none = NULL;
	assert_int_equal(profile_lookup(st, "asmith@example.com", &none, &error), 0);
	assert_null(none);
	profile_free(&got);
	profile_free(&p);
	assert_null(p);
}

static void test_no_password_never_matches(void **state)
{
	struct profile *p = profile_new("nopass@example.com");
	assert_false(profile_check_password(p, ""));
	assert_false(profile_check_password(p, "anything"));
	p->password_hash = g_strdup("garbage");
	assert_false(profile_check_password(p, "garbage"));
	profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_save_and_lookup, setup, teardown),
		cmocka_unit_test(test_no_password_never_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
