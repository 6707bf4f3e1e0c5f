/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Profiles in the store: the columns of the profiles table come from the field table
 * (profile_field.c); addresses, DIDs and group members have tables of their own
 * (common/store_schema.c). A save is one transaction that nests in the caller's (common/db.h).
 */
#include "profiles/profile_private.h"

#include <stddef.h>
#include <string.h>

#include "common/db.h"
#include "common/error.h"
#include "common/jobid.h"
#include "common/store.h"

static void profile_free_one(struct profile *p)
{
	profile_free(&p);
}

/* "p.id, p.may_send, p.<text column>, ..." */
static char *select_columns(void)
{
	GString *s = g_string_new("p.id, p.may_send");
	PROFILE_FIELD_EACH(d)
	{
		if (PROFILE_FIELD_IS_STRING(d))
			g_string_append_printf(s, ", p.%s", d->column);
	}
	return g_string_free(s, FALSE);
}

static struct profile *profile_from_row(struct db_rows *rows)
{
	struct profile *p = profile_new("");
	p->id = g_strdup(db_col_text(rows, 0));
	p->may_send = db_col_int(rows, 1) != 0;
	int col = 2;
	PROFILE_FIELD_EACH(d)
	{
		if (!PROFILE_FIELD_IS_STRING(d))
			continue;
		char **member = &PROFILE_MEMBER(p, d, char *);
		g_free(*member);
		*member = g_strdup(db_col_text(rows, col++));
	}
	return p;
}

/* The lists, each in a table of (value, owner) rows. */
static const struct {
	const char *table, *value, *owner;
	size_t offset;
	bool lower;
} lists[] = {
    {"profile_addresses", "address", "profile_id", offsetof(struct profile, addresses), true},
    {"profile_dids", "did", "profile_id", offsetof(struct profile, dids), false},
    {"profile_members", "member", "group_id", offsetof(struct profile, members), true},
};

#define LIST_OF(p, i) (*(GPtrArray **)((char *)(p) + lists[i].offset))

static int load_list(struct db *db, struct profile *p, size_t i)
{
	g_autofree char *sql = g_strdup_printf("SELECT %s FROM %s WHERE %s = ? ORDER BY %s", lists[i].value,
					       lists[i].table, lists[i].owner, lists[i].value);
	struct db_rows *rows = db_query(db, sql, "s", p->id);
	if (rows == NULL)
		return -1;
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_ptr_array_add(LIST_OF(p, i), g_strdup(db_col_text(rows, 0)));
	db_rows_free(&rows);
	return ret;
}

static int load_lists(struct db *db, struct profile *p)
{
	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
		if (load_list(db, p, i) < 0)
			return -1;
	profile_primary_first(p);
	return 0;
}

/* The profiles WHERE where (one text parameter, or none when value is NULL), ordered by primary
   address, appended to into. 0 or -1 (db_error). */
static int load_where(struct db *db, const char *where, const char *value, GPtrArray *into)
{
	g_autofree char *columns = select_columns();
	g_autofree char *sql = g_strdup_printf("SELECT %s FROM profiles p%s%s ORDER BY p.primary_address",
					       columns, where ? " WHERE " : "", where ? where : "");
	struct db_rows *rows = db_query(db, sql, value ? "s" : NULL, value);
	if (rows == NULL)
		return -1;
	guint first = into->len;
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_ptr_array_add(into, profile_from_row(rows));
	db_rows_free(&rows);
	for (guint i = first; ret == 0 && i < into->len; i++)
		ret = load_lists(db, into->pdata[i]);
	return ret;
}

static GPtrArray *profile_array(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)profile_free_one);
}

/* At most one profile: 1 found, 0 none, -1 error. */
static int load_one(struct store *store, const char *where, const char *value, struct profile **profile_r,
		    const char **error_r)
{
	struct db *db = store_db(store);
	GPtrArray *found = profile_array();
	int ret = load_where(db, where, value, found);
	*profile_r = NULL;
	if (ret < 0)
		error_set(error_r, "%s", db_error(db));
	else if (found->len > 0)
		*profile_r = g_ptr_array_steal_index(found, 0);
	g_ptr_array_free(found, TRUE);
	return ret < 0 ? -1 : *profile_r != NULL;
}

int profile_lookup(struct store *store, const char *address, struct profile **profile_r, const char **error_r)
{
	g_autofree char *lower = g_ascii_strdown(address, -1);
	return load_one(store, "p.id IN (SELECT profile_id FROM profile_addresses WHERE address = ?)", lower,
			profile_r, error_r);
}

int profile_lookup_uuid(struct store *store, const char *uuid, struct profile **profile_r,
			const char **error_r)
{
	return load_one(store, "p.source_uuid = ?", uuid, profile_r, error_r);
}

static int load_many(struct store *store, const char *where, const char *value, GPtrArray **profiles_r,
		     const char **error_r)
{
	struct db *db = store_db(store);
	*profiles_r = profile_array();
	if (load_where(db, where, value, *profiles_r) == 0)
		return (*profiles_r)->len > 0 ? 1 : 0;
	error_set(error_r, "%s", db_error(db));
	g_ptr_array_free(*profiles_r, TRUE);
	*profiles_r = NULL;
	return -1;
}

int profile_for_did(struct store *store, const char *did, GPtrArray **profiles_r, const char **error_r)
{
	return load_many(store, "p.id IN (SELECT profile_id FROM profile_dids WHERE did = ?)", did,
			 profiles_r, error_r);
}

int profile_list(struct store *store, const char *source, GPtrArray **profiles_r, const char **error_r)
{
	return load_many(store, source ? "p.source = ?" : NULL, source, profiles_r, error_r) < 0 ? -1 : 0;
}

/* "john.smith" -> the LIKE pattern "john.smith@%" (escaped) and the name "john smith". */
static void recipient_keys(const char *local_part, char **pattern_r, char **name_r)
{
	g_autofree char *lower = g_ascii_strdown(local_part, -1);
	GString *pattern = g_string_new(NULL);
	for (const char *c = lower; *c != '\0'; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			g_string_append_c(pattern, '\\');
		g_string_append_c(pattern, *c);
	}
	g_string_append(pattern, "@%");
	*pattern_r = g_string_free(pattern, FALSE);
	*name_r = g_strdelimit(g_strdup(lower), "._", ' ');
}

/* The distinct first-column values of a one-parameter query into ids; 0 or -1. */
static int collect_ids(struct db *db, const char *sql, const char *param, GPtrArray *ids)
{
	struct db_rows *rows = db_query(db, sql, "s", param);
	int ret = rows ? 0 : -1;
	while (rows != NULL && (ret = db_next(rows)) > 0)
		g_ptr_array_add(ids, g_strdup(db_col_text(rows, 0)));
	db_rows_free(&rows);
	return ret;
}

/* By identity (an address' local part) first; by name only when no address matches, so
   jo.twin finds jo.twin@ even when two people are called Jo Twin. */
int profile_find_recipient(struct store *store, const char *local_part, struct profile **profile_r,
			   const char **error_r)
{
	struct db *db = store_db(store);
	g_autofree char *pattern = NULL, *name = NULL;
	*profile_r = NULL;
	if (*local_part == '\0')
		return 0;
	recipient_keys(local_part, &pattern, &name);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	int ret = collect_ids(db, "SELECT DISTINCT profile_id FROM profile_addresses WHERE address LIKE ? ESCAPE '\\'",
			      pattern, ids);
	if (ret == 0 && ids->len == 0)
		ret = collect_ids(db, "SELECT id FROM profiles WHERE lower(name) = ?", name, ids);
	if (ret < 0)
		error_set(error_r, "%s", db_error(db));
	else if (ids->len == 1)
		ret = load_one(store, "p.id = ?", ids->pdata[0], profile_r, error_r);
	else
		ret = ids->len > 1 ? 2 : 0;
	g_ptr_array_free(ids, TRUE);
	return ret;
}

/* ---- saving ---- */

/* Run a statement with a parameter array; rows changed or -1. */
static int exec_params(struct db *db, const char *sql, const struct db_param *params, int n)
{
	struct db_rows *rows = db_query_params(db, sql, params, n);
	int ret = rows ? db_next(rows) : -1;
	if (ret == 0)
		ret = db_rows_changes(rows);
	db_rows_free(&rows);
	return ret < 0 ? -1 : ret;
}

/* UPDATE, or INSERT when no row has the id: created_at and sync_seen (ldapsync's) are kept. */
static int save_row(struct db *db, const struct profile *p)
{
	struct db_param params[PROFILE_FIELD_DEFS_MAX + 4] = {{0}};
	GString *update = g_string_new("UPDATE profiles SET may_send = ?");
	GString *insert = g_string_new("INSERT INTO profiles (may_send"), *values = g_string_new("?");
	int n = 0;
	params[n++] = (struct db_param){.type = 'i', .integer = p->may_send};
	PROFILE_FIELD_EACH(d)
	{
		if (!PROFILE_FIELD_IS_STRING(d))
			continue;
		const char *v = PROFILE_MEMBER(p, d, char *);
		params[n++] = (struct db_param){.type = 's', .text = v ? v : d->empty};
		g_string_append_printf(update, ", %s = ?", d->column);
		g_string_append_printf(insert, ", %s", d->column);
		g_string_append(values, ", ?");
	}
	params[n++] = (struct db_param){.type = 'i', .integer = g_get_real_time() / G_USEC_PER_SEC};
	params[n++] = (struct db_param){.type = 's', .text = p->id};
	g_string_append(update, ", updated_at = ? WHERE id = ?");
	int ret = exec_params(db, update->str, params, n);
	if (ret == 0) {
		/* the same parameters, with created_at = updated_at */
		params[n] = params[n - 2];
		g_string_append_printf(insert, ", updated_at, id, created_at) VALUES (%s, ?, ?, ?)",
				       values->str);
		ret = exec_params(db, insert->str, params, n + 1);
	}
	g_string_free(update, TRUE);
	g_string_free(insert, TRUE);
	g_string_free(values, TRUE);
	return ret < 0 ? -1 : 0;
}

/* Replace the rows of list i by the list's values, each once (lower-cased where asked). */
static int save_list(struct db *db, const struct profile *p, size_t i)
{
	g_autofree char *del = g_strdup_printf("DELETE FROM %s WHERE %s = ?", lists[i].table, lists[i].owner);
	g_autofree char *ins = g_strdup_printf("INSERT INTO %s (%s, %s) VALUES (?, ?)", lists[i].table,
					       lists[i].value, lists[i].owner);
	GPtrArray *list = LIST_OF(p, i);
	GHashTable *done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int ret = db_exec(db, del, "s", p->id) < 0 ? -1 : 0;
	for (guint j = 0; ret == 0 && j < list->len; j++) {
		char *v = lists[i].lower ? g_ascii_strdown(list->pdata[j], -1) : g_strdup(list->pdata[j]);
		if (g_hash_table_add(done, v) && db_exec(db, ins, "ss", v, p->id) < 0)
			ret = -1;
	}
	g_hash_table_destroy(done);
	return ret;
}

static int save_lists(struct db *db, const struct profile *p)
{
	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
		if (save_list(db, p, i) < 0)
			return -1;
	return 0;
}

/* -1 with an error naming the address when another profile owns one of p's addresses. */
static int check_owner(struct db *db, const struct profile *p, const char *address, const char **error_r)
{
	g_autofree char *lower = g_ascii_strdown(address, -1);
	struct db_rows *rows = db_query(db,
					"SELECT p.primary_address FROM profile_addresses a JOIN profiles p"
					" ON p.id = a.profile_id WHERE a.address = ? AND a.profile_id <> ?",
					"ss", lower, p->id);
	int ret = rows ? db_next(rows) : -1;
	if (ret > 0)
		error_set(error_r, "address %s belongs to another profile (%s)", lower, db_col_text(rows, 0));
	else if (ret < 0)
		error_set(error_r, "%s", db_error(db));
	db_rows_free(&rows);
	return ret == 0 ? 0 : -1;
}

static int check_owners(struct db *db, const struct profile *p, const char **error_r)
{
	for (guint i = 0; i < p->addresses->len; i++)
		if (check_owner(db, p, p->addresses->pdata[i], error_r) < 0)
			return -1;
	return 0;
}

/* A new profile's id, checked free inside the write transaction: save_row updates by id, so a
   taken id would overwrite another profile. */
static int new_id(struct db *db, struct profile *p, const char **error_r)
{
	for (int tries = 0; tries < 8; tries++) {
		char id[JOBID_SIZE];
		jobid_random('U', id);
		int64_t taken = 0;
		int found = db_query_int(db, &taken, "SELECT count(*) FROM profiles WHERE id = ?", "s", id);
		if (found < 0)
			return error_set(error_r, "%s", db_error(db));
		if (taken == 0) {
			p->id = g_strdup(id);
			return 0;
		}
	}
	return error_set(error_r, "no free profile id");
}

int profile_save(struct store *store, struct profile *p, const char **error_r)
{
	struct db *db = store_db(store);
	if (p->primary_address == NULL || *p->primary_address == '\0')
		return error_set(error_r, "a profile needs an address");
	profile_primary_first(p); /* the primary address is one of the addresses */
	if (db_begin(db) < 0)
		return error_set(error_r, "%s", db_error(db));
	int ret = p->id == NULL ? new_id(db, p, error_r) : 0;
	if (ret == 0)
		ret = check_owners(db, p, error_r);
	if (ret == 0 && (save_row(db, p) < 0 || save_lists(db, p) < 0))
		ret = error_set(error_r, "%s", db_error(db));
	if (ret == 0)
		return db_commit(db) == 0 ? 0 : error_set(error_r, "%s", db_error(db));
	db_rollback(db);
	return -1;
}

int profile_delete(struct store *store, const char *address, const char **error_r)
{
	struct db *db = store_db(store);
	g_autofree char *lower = g_ascii_strdown(address, -1);
	/* the addresses, DIDs and members go with it (ON DELETE CASCADE) */
	int ret = db_exec(db,
			  "DELETE FROM profiles WHERE id IN (SELECT profile_id FROM profile_addresses"
			  " WHERE address = ?)",
			  "s", lower);
	if (ret < 0)
		return error_set(error_r, "%s", db_error(db));
	return ret > 0 ? 1 : 0;
}
