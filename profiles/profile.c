/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Profiles: users with their addresses (proxy addresses), DIDs, permission to send and the
 * number classes allowed, and an optional password for SMTP AUTH, stored as a crypt(3) string
 * (yescrypt, salted and slow, from libxcrypt). Addresses are matched case-insensitively: they
 * are stored lower-case.
 */
#include "profiles/profile.h"

#include <crypt.h>
#include <string.h>

#include "common/db.h"
#include "common/jobid.h"
#include "common/store.h"

struct profile *profile_new(const char *primary_address)
{
	struct profile *p = g_new0(struct profile, 1);
	p->primary_address = g_ascii_strdown(primary_address, -1);
	p->may_send = true;
	p->source = g_strdup("local");
	p->addresses = g_ptr_array_new_with_free_func(g_free);
	p->dids = g_ptr_array_new_with_free_func(g_free);
	return p;
}

static void profile_free_one(struct profile *p)
{
	profile_free(&p);
}

void profile_free(struct profile **profilep)
{
	struct profile *p = *profilep;
	if (p == NULL)
		return;
	char **strings[] = {&p->id, &p->primary_address, &p->name, &p->company, &p->department, &p->phone,
			    &p->fax, &p->permission_class, &p->password_hash, &p->source, &p->language,
			    &p->notify, &p->rx_format};
	for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
		g_free(*strings[i]);
	g_ptr_array_free(p->addresses, TRUE);
	g_ptr_array_free(p->dids, TRUE);
	g_free(p);
	*profilep = NULL;
}

static const char profile_columns[] =
	"p.id, p.primary_address, p.name, p.company, p.department, p.phone, p.fax, p.may_send,"
	" p.permission_class, p.password_hash, p.source, p.language, p.notify, p.rx_format";

static struct profile *profile_from_row(struct db_rows *rows)
{
	struct profile *p = profile_new(db_col_text(rows, 1));
	p->id = g_strdup(db_col_text(rows, 0));
	p->name = g_strdup(db_col_text(rows, 2));
	p->company = g_strdup(db_col_text(rows, 3));
	p->department = g_strdup(db_col_text(rows, 4));
	p->phone = g_strdup(db_col_text(rows, 5));
	p->fax = g_strdup(db_col_text(rows, 6));
	p->may_send = db_col_int(rows, 7) != 0;
	p->permission_class = g_strdup(db_col_text(rows, 8));
	p->password_hash = g_strdup(db_col_text(rows, 9));
	g_free(p->source);
	p->source = g_strdup(db_col_text(rows, 10));
	p->language = g_strdup(db_col_text(rows, 11));
	p->notify = g_strdup(db_col_text(rows, 12));
	p->rx_format = g_strdup(db_col_text(rows, 13));
	return p;
}

static int load_list(struct db *db, const char *sql, const char *id, GPtrArray *into)
{
	struct db_rows *rows = db_query(db, sql, "s", id);
	if (rows == NULL)
		return -1;
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_ptr_array_add(into, g_strdup(db_col_text(rows, 0)));
	db_rows_free(&rows);
	return ret;
}

int profile_lookup(struct store *store, const char *address, struct profile **profile_r, const char **error_r)
{
	struct db *db = store_db(store);
	g_autofree char *lower = g_ascii_strdown(address, -1);
	g_autofree char *sql = g_strdup_printf("SELECT %s FROM profiles p JOIN profile_addresses a ON a.profile_id = p.id"
					       " WHERE a.address = ?", profile_columns);
	struct db_rows *rows = db_query(db, sql, "s", lower);
	int ret = rows ? db_next(rows) : -1;
	struct profile *p = ret > 0 ? profile_from_row(rows) : NULL;
	db_rows_free(&rows);
	if (p != NULL &&
	    (load_list(db, "SELECT address FROM profile_addresses WHERE profile_id = ? ORDER BY address", p->id,
		       p->addresses) < 0 ||
	     load_list(db, "SELECT did FROM profile_dids WHERE profile_id = ? ORDER BY did", p->id, p->dids) < 0)) {
		profile_free(&p);
		ret = -1;
	}
	if (ret < 0)
		*error_r = db_error(db);
	*profile_r = p;
	return ret;
}

int profile_for_did(struct store *store, const char *did, GPtrArray **profiles_r, const char **error_r)
{
	struct db *db = store_db(store);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	*profiles_r = g_ptr_array_new_with_free_func((GDestroyNotify)profile_free_one);
	int ret = load_list(db, "SELECT DISTINCT a.address FROM profile_dids d JOIN profiles p ON p.id = d.profile_id"
				" JOIN profile_addresses a ON a.address = p.primary_address WHERE d.did = ?"
				" ORDER BY a.address",
			    did, ids);
	for (guint i = 0; ret >= 0 && i < ids->len; i++) {
		struct profile *p = NULL;
		ret = profile_lookup(store, ids->pdata[i], &p, error_r);
		if (ret > 0)
			g_ptr_array_add(*profiles_r, p);
	}
	g_ptr_array_free(ids, TRUE);
	if (ret < 0) {
		*error_r = db_error(db);
		g_ptr_array_free(*profiles_r, TRUE);
		*profiles_r = NULL;
		return -1;
	}
	return (*profiles_r)->len > 0 ? 1 : 0;
}

static int save_lists(struct db *db, struct profile *p)
{
	if (db_exec(db, "DELETE FROM profile_addresses WHERE profile_id = ?", "s", p->id) < 0 ||
	    db_exec(db, "DELETE FROM profile_dids WHERE profile_id = ?", "s", p->id) < 0 ||
	    db_exec(db, "INSERT INTO profile_addresses (address, profile_id) VALUES (?, ?)", "ss", p->primary_address,
		    p->id) < 0)
		return -1;
	for (guint i = 0; i < p->addresses->len; i++) {
		g_autofree char *lower = g_ascii_strdown(p->addresses->pdata[i], -1);
		if (strcmp(lower, p->primary_address) != 0 &&
		    db_exec(db, "INSERT INTO profile_addresses (address, profile_id) VALUES (?, ?)", "ss", lower, p->id) < 0)
			return -1;
	}
	for (guint i = 0; i < p->dids->len; i++)
		if (db_exec(db, "INSERT INTO profile_dids (did, profile_id) VALUES (?, ?)", "ss",
			    (const char *)p->dids->pdata[i], p->id) < 0)
			return -1;
	return 0;
}

int profile_save(struct store *store, struct profile *p, const char **error_r)
{
	struct db *db = store_db(store);
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	if (p->id == NULL) {
		char id[JOBID_SIZE];
		jobid_new(JOBID_PREFIX_JOB, id);
		id[0] = 'U';
		p->id = g_strdup(id);
	}
	int ret = db_begin(db);
	if (ret == 0)
		ret = db_exec(db, "DELETE FROM profiles WHERE id = ?", "s", p->id) < 0 ? -1 : 0;
	if (ret == 0)
		ret = db_exec(db,
			      "INSERT INTO profiles (id, primary_address, name, company, department, phone, fax, may_send,"
			      " permission_class, password_hash, source, language, notify, rx_format, created_at, updated_at)"
			      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			      "sssssssissssssii", p->id, p->primary_address, p->name, p->company, p->department, p->phone,
			      p->fax, (int64_t)p->may_send, p->permission_class, p->password_hash, p->source, p->language,
			      p->notify, p->rx_format, now, now) < 0
			      ? -1
			      : 0;
	if (ret == 0)
		ret = save_lists(db, p);
	if (ret == 0 && db_commit(db) == 0)
		return 0;
	*error_r = db_error(db);
	db_rollback(db);
	return -1;
}

char *profile_hash_password(const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return NULL;
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *hash = crypt_r(password, salt, &data);
	if (hash == NULL || hash[0] == '*')
		return NULL;
	return g_strdup(hash);
}

bool profile_check_password(const struct profile *p, const char *password)
{
	if (p->password_hash == NULL || *p->password_hash == '\0')
		return false;
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *hash = crypt_r(password, p->password_hash, &data);
	if (hash == NULL || hash[0] == '*')
		return false;
	size_t len = strlen(p->password_hash);
	if (strlen(hash) != len)
		return false;
	unsigned diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)hash[i] ^ (unsigned char)p->password_hash[i];
	return diff == 0;
}

bool profile_owns_address(const struct profile *p, const char *address)
{
	for (guint i = 0; i < p->addresses->len; i++)
		if (g_ascii_strcasecmp(p->addresses->pdata[i], address) == 0)
			return true;
	return g_ascii_strcasecmp(p->primary_address, address) == 0;
}
