/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Importing a parsed CSV document (profile_csv.c) into the store: one transaction, all or
 * nothing, each row upserted by its primary address. Kept apart from the parser, which touches
 * no store (and is fuzzed).
 */
#include <string.h>

#include "common/db.h"
#include "common/error.h"
#include "common/store.h"
#include "profiles/profile.h"
#include "profiles/profile_csv.h"

/* The profile a row becomes: the existing one with this primary address, changed, or a new one.
   1 and *old_r (NULL for a new profile) and *new_r, or -1. */
static int row_profile(struct store *store, const struct profile_csv *csv, unsigned row,
		       struct profile **old_r, struct profile **new_r, const char **error_r)
{
	g_autofree char *address = g_ascii_strdown(profile_csv_value(csv, row, "address"), -1);
	struct profile *old = NULL;
	const char *error = NULL;
	*old_r = *new_r = NULL;
	if (profile_lookup(store, address, &old, &error) < 0)
		return error_set(error_r, "line %u: %s", profile_csv_line(csv, row), error);
	if (old != NULL && strcmp(old->primary_address, address) != 0)
		profile_free(&old); /* an alias of another profile: saving says so */
	struct profile *p = old ? profile_copy(old) : profile_new(address);
	if (profile_csv_apply(csv, row, p, error_r) < 0) {
		profile_free(&old);
		profile_free(&p);
		return -1;
	}
	*old_r = old;
	*new_r = p;
	return 1;
}

static int import_row(struct store *store, const struct profile_csv *csv, unsigned row, GHashTable *seen,
		      struct profile_import_stats *stats, const char **error_r)
{
	unsigned line = profile_csv_line(csv, row);
	struct profile *old = NULL, *p = NULL;
	const char *error = NULL;
	if (row_profile(store, csv, row, &old, &p, error_r) < 0)
		return -1;
	unsigned first = GPOINTER_TO_UINT(g_hash_table_lookup(seen, p->primary_address));
	int ret = 0;
	if (first != 0)
		ret =
		    error_set(error_r, "line %u: %s is on line %u already", line, p->primary_address, first);
	else if (old != NULL && profile_fields_equal(old, p))
		stats->unchanged++;
	else if (profile_save(store, p, &error) < 0)
		ret = error_set(error_r, "line %u: %s", line, error);
	else if (old != NULL)
		stats->changed++;
	else
		stats->added++;
	g_hash_table_insert(seen, g_strdup(p->primary_address), GUINT_TO_POINTER(line));
	profile_free(&old);
	profile_free(&p);
	return ret;
}

int profile_import(struct store *store, const struct profile_csv *csv, bool dry_run,
		   struct profile_import_stats *stats_r, const char **error_r)
{
	struct db *db = store_db(store);
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	memset(stats_r, 0, sizeof(*stats_r));
	stats_r->rows = profile_csv_rows(csv);
	int ret = db_begin(db) < 0 ? error_set(error_r, "%s", db_error(db)) : 0;
	bool open = ret == 0;
	for (unsigned row = 0; ret == 0 && row < stats_r->rows; row++)
		ret = import_row(store, csv, row, seen, stats_r, error_r);
	g_hash_table_destroy(seen);
	if (ret == 0 && !dry_run)
		return db_commit(db) == 0 ? 0 : error_set(error_r, "%s", db_error(db));
	if (open)
		db_rollback(db);
	return ret;
}
