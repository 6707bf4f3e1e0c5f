/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The store's schema and its versioned migrations. Each migration runs once, in a transaction
 * with the bump of schema_version, so a crash mid-migration leaves the old version intact.
 * The DDL is portable: {AUTOID} and {BLOB} are replaced per dialect.
 */
#include "common/store_private.h"

#include <string.h>

static const char *const migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE jobs ("
	" id TEXT PRIMARY KEY, state TEXT NOT NULL, owner TEXT, sender TEXT, number TEXT, dial TEXT,"
	" recipient_name TEXT, recipient_company TEXT, line TEXT, resolution TEXT, paper TEXT,"
	" tsi TEXT, header_line TEXT, notify TEXT, notify_to TEXT, client_ref TEXT, idempotency_key TEXT,"
	" result_code TEXT, result_text TEXT, remote_ident TEXT, lease_owner TEXT, progress TEXT,"
	" created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, send_at BIGINT, next_try_at BIGINT,"
	" expires_at BIGINT, lease_until BIGINT, completed_at BIGINT, message_doc BIGINT, pages_doc BIGINT,"
	" priority BIGINT NOT NULL DEFAULT 0, tries BIGINT NOT NULL DEFAULT 0, max_tries BIGINT,"
	" dials BIGINT NOT NULL DEFAULT 0, max_dials BIGINT, retry_interval BIGINT,"
	" pages_total BIGINT NOT NULL DEFAULT 0, pages_done BIGINT NOT NULL DEFAULT 0,"
	" disable_v17 BIGINT NOT NULL DEFAULT 0, disable_ecm BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX jobs_due ON jobs (state, next_try_at);"
	"CREATE INDEX jobs_idem ON jobs (owner, idempotency_key);"
	"CREATE TABLE job_fields (job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, value TEXT, PRIMARY KEY (job_id, name));"
	"CREATE TABLE job_events (id {AUTOID}, job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	" at BIGINT NOT NULL, node TEXT, from_state TEXT, to_state TEXT, text TEXT);"
	"CREATE INDEX job_events_job ON job_events (job_id, id);"
	"CREATE TABLE documents (id {AUTOID}, kind TEXT NOT NULL, content_type TEXT,"
	" size BIGINT NOT NULL, created_at BIGINT NOT NULL, data {BLOB});"
	"CREATE TABLE attempts (id {AUTOID}, job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	" line TEXT, started_at BIGINT, ended_at BIGINT, outcome TEXT, result_code BIGINT, result_text TEXT,"
	" first_page BIGINT, pages_sent BIGINT, pages_total BIGINT, bit_rate BIGINT, ecm BIGINT, remote_ident TEXT);"
	"CREATE INDEX attempts_job ON attempts (job_id, id);"
	"CREATE TABLE inbound (id TEXT PRIMARY KEY, received_at BIGINT NOT NULL, line TEXT, did TEXT,"
	" caller_id TEXT, remote_csid TEXT, pages BIGINT, resolution TEXT, duration_ms BIGINT,"
	" result_code BIGINT, result_text TEXT, partial BIGINT NOT NULL DEFAULT 0, document_id BIGINT,"
	" state TEXT NOT NULL);"
	"CREATE TABLE outbox (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL, kind TEXT NOT NULL,"
	" job_id TEXT, inbound_id TEXT, route TEXT, sender TEXT, recipients TEXT NOT NULL,"
	" document_id BIGINT, state TEXT NOT NULL, tries BIGINT NOT NULL DEFAULT 0, next_try_at BIGINT,"
	" expires_at BIGINT, lease_owner TEXT, lease_until BIGINT, last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox (state, next_try_at);"
	"CREATE TABLE profiles (id TEXT PRIMARY KEY, primary_address TEXT NOT NULL UNIQUE, name TEXT,"
	" company TEXT, department TEXT, phone TEXT, fax TEXT, may_send BIGINT NOT NULL DEFAULT 1,"
	" permission_class TEXT, cover TEXT, resolution TEXT, paper TEXT, notify TEXT, rx_format TEXT,"
	" language TEXT, header_line TEXT, tsi TEXT, password_hash TEXT, source TEXT NOT NULL DEFAULT 'local',"
	" source_uuid TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	"CREATE TABLE profile_addresses (address TEXT PRIMARY KEY,"
	" profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE);"
	"CREATE TABLE profile_dids (did TEXT NOT NULL,"
	" profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE, PRIMARY KEY (did, profile_id));"
	"CREATE TABLE sync_state (name TEXT PRIMARY KEY, value TEXT, updated_at BIGINT NOT NULL);",
	/* 2: profiles from the directory, groups sharing a DID */
	"ALTER TABLE profiles ADD COLUMN billing_code TEXT;"
	"ALTER TABLE profiles ADD COLUMN kind TEXT NOT NULL DEFAULT 'user';"
	"ALTER TABLE profiles ADD COLUMN source_dn TEXT;"
	"ALTER TABLE profiles ADD COLUMN sync_seen BIGINT NOT NULL DEFAULT 0;"
	"CREATE UNIQUE INDEX profiles_source_uuid ON profiles (source_uuid);"
	"CREATE TABLE profile_members (group_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,"
	" member TEXT NOT NULL, PRIMARY KEY (group_id, member));"
	"CREATE INDEX profile_dids_profile ON profile_dids (profile_id);",
	/* 3: a profile's addresses by profile: saving or deleting one (ON DELETE CASCADE) scanned the
	   whole table, which made a 10,000-user directory sync quadratic */
	"CREATE INDEX profile_addresses_profile ON profile_addresses (profile_id);",
};

static char *dialect_sql(const struct store *store, const char *sql)
{
	bool pg = db_dialect(store->db) == DB_DIALECT_POSTGRESQL;
	GString *out = g_string_new(sql);
	g_string_replace(out, "{AUTOID}", pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT", 0);
	g_string_replace(out, "{BLOB}", pg ? "BYTEA" : "BLOB", 0);
	return g_string_free(out, FALSE);
}

int store_schema_version(struct store *store)
{
	int64_t version = 0;
	if (db_query_int(store->db, &version, "SELECT version FROM schema_version", NULL) < 0)
		return -1;
	return (int)version;
}

int store_migrate(struct store *store, const char **error_r)
{
	if (db_exec(store->db, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)", NULL) < 0 ||
	    db_begin(store->db) < 0) {
		*error_r = db_error(store->db);
		return -1;
	}
	int64_t version = 0;
	int found = db_query_int(store->db, &version, "SELECT version FROM schema_version", NULL);
	if (found == 0 && db_exec(store->db, "INSERT INTO schema_version (version) VALUES (0)", NULL) < 0)
		found = -1;
	const int latest = (int)G_N_ELEMENTS(migrations);
	if (found >= 0 && version > latest) {
		db_rollback(store->db);
		*error_r = "the store's schema is newer than this program: upgrade faxgate";
		return -1;
	}
	for (int v = (int)version; found >= 0 && v < latest; v++) {
		g_autofree char *sql = dialect_sql(store, migrations[v]);
		if (db_exec_script(store->db, sql) < 0 ||
		    db_exec(store->db, "UPDATE schema_version SET version = ?", "i", (int64_t)(v + 1)) < 0)
			found = -1;
	}
	if (found < 0 || db_commit(store->db) < 0) {
		*error_r = db_error(store->db);
		db_rollback(store->db);
		return -1;
	}
	return 0;
}
