/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A cmocka group fixture for tests that need a store: a fresh SQLite store in a temporary
 * folder per test (*state is the struct store *), removed afterwards.
 */
#ifndef TESTS_UNIT_STORE_FIXTURE_H
#define TESTS_UNIT_STORE_FIXTURE_H

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "common/store.h"

static char store_fixture_dir[64];

static int store_fixture_setup(void **state)
{
	strcpy(store_fixture_dir, "/tmp/fgtest-XXXXXX");
	if (g_mkdtemp(store_fixture_dir) == NULL)
		return -1;
	g_autofree char *uri = g_strdup_printf("sqlite:%s/faxgate.db", store_fixture_dir);
	struct store *st = NULL;
	const char *error = NULL;
	if (store_open_uri(uri, 10000, &st, &error) < 0)
		return -1;
	*state = st;
	return 0;
}

static int store_fixture_teardown(void **state)
{
	struct store *st = *state;
	store_close(&st);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", store_fixture_dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
