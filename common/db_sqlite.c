/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SQLite backend of the SQL layer: WAL with synchronous=FULL (a committed job survives a
 * crash or power cut), a busy timeout so concurrent writers wait instead of failing, and
 * BEGIN IMMEDIATE so a write transaction holds the write lock from its first statement (two
 * claimers can never read the same due job as free).
 *
 * Prepared statements are kept for reuse, keyed by their SQL text: preparing (parsing and
 * planning) was most of the cost of short statements, e.g. the ten per profile of a directory
 * sync. A statement is reset and its bindings cleared before it goes back, so an idle one holds
 * no lock; one in use is never handed out twice (a second user of the same SQL prepares its own).
 */
#include "common/db_private.h"

#include <glib.h>
#include <sqlite3.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define STATEMENT_CACHE_MAX 256

struct db_rows {
	const struct db_ops *ops; /* first: db.c dispatches through it */
	struct db *db;
	sqlite3_stmt *stmt;
	char *sql; /* the cache key */
	int changes;
};

/* db->handle: the connection and its idle prepared statements (threads may share a store). */
struct sqlite_conn {
	sqlite3 *conn;
	GMutex lock;
	GHashTable *idle; /* SQL text -> sqlite3_stmt * */
};

static sqlite3 *handle(struct db *db)
{
	return ((struct sqlite_conn *)db->handle)->conn;
}

static void finalize_statement(gpointer stmt)
{
	sqlite3_finalize(stmt);
}

static int sqlite_open(struct db *db, const char *path, int busy_timeout_ms, const char **error_r)
{
	sqlite3 *conn = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &conn, flags, NULL) != SQLITE_OK) {
		db_set_error(db, "%s", conn ? sqlite3_errmsg(conn) : "out of memory");
		*error_r = db->error;
		sqlite3_close(conn);
		return -1;
	}
	struct sqlite_conn *sc = g_new0(struct sqlite_conn, 1);
	sc->conn = conn;
	g_mutex_init(&sc->lock);
	sc->idle = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, finalize_statement);
	db->handle = sc;
	sqlite3_busy_timeout(conn, busy_timeout_ms);
	char *err = NULL;
	const char *setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
	if (sqlite3_exec(conn, setup, NULL, NULL, &err) != SQLITE_OK) {
		db_set_error(db, "%s", err ? err : sqlite3_errmsg(conn));
		sqlite3_free(err);
		*error_r = db->error;
		db->ops->close(db);
		db->handle = NULL;
		return -1;
	}
	return 0;
}

static void sqlite_close(struct db *db)
{
	struct sqlite_conn *sc = db->handle;
	g_hash_table_destroy(sc->idle); /* finalizes them */
	sqlite3_close(sc->conn);
	g_mutex_clear(&sc->lock);
	g_free(sc);
}

/* An idle prepared statement for sql, or a new one; NULL with the error set. *key_r: g_free'd. */
static sqlite3_stmt *statement_take(struct db *db, const char *sql, char **key_r)
{
	struct sqlite_conn *sc = db->handle;
	gpointer key = NULL, stmt = NULL;
	g_mutex_lock(&sc->lock);
	bool cached = g_hash_table_steal_extended(sc->idle, sql, &key, &stmt);
	g_mutex_unlock(&sc->lock);
	if (cached) {
		*key_r = key;
		return stmt;
	}
	sqlite3_stmt *fresh = NULL;
	if (sqlite3_prepare_v2(sc->conn, sql, -1, &fresh, NULL) != SQLITE_OK) {
		db_set_error(db, "%s", sqlite3_errmsg(sc->conn));
		sqlite3_finalize(fresh);
		return NULL;
	}
	*key_r = g_strdup(sql);
	return fresh;
}

/* Reset and keep for reuse (or finalize when the cache is full or holds one already). */
static void statement_give_back(struct db *db, sqlite3_stmt *stmt, char *key)
{
	struct sqlite_conn *sc = db->handle;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	g_mutex_lock(&sc->lock);
	bool keep = g_hash_table_size(sc->idle) < STATEMENT_CACHE_MAX && !g_hash_table_contains(sc->idle, key);
	if (keep)
		g_hash_table_insert(sc->idle, key, stmt);
	g_mutex_unlock(&sc->lock);
	if (!keep) {
		sqlite3_finalize(stmt);
		g_free(key);
	}
}

static int sqlite_exec_raw(struct db *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(handle(db), sql, NULL, NULL, &err) != SQLITE_OK) {
		db_set_error(db, "%s", err ? err : sqlite3_errmsg(handle(db)));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int bind_params(struct db *db, sqlite3_stmt *stmt, const struct db_param *params, int n)
{
	for (int i = 0; i < n; i++) {
		const struct db_param *p = &params[i];
		int rc = SQLITE_OK;
		switch (p->type) {
		case 's':
			rc = p->text ? sqlite3_bind_text(stmt, i + 1, p->text, -1, SQLITE_TRANSIENT)
				     : sqlite3_bind_null(stmt, i + 1);
			break;
		case 'i': rc = sqlite3_bind_int64(stmt, i + 1, p->integer); break;
		case 'b': rc = sqlite3_bind_blob64(stmt, i + 1, p->blob ? p->blob : "", p->len, SQLITE_TRANSIENT); break;
		default: rc = sqlite3_bind_null(stmt, i + 1); break;
		}
		if (rc != SQLITE_OK) {
			db_set_error(db, "bind %d: %s", i + 1, sqlite3_errmsg(handle(db)));
			return -1;
		}
	}
	return 0;
}

static struct db_rows *sqlite_query(struct db *db, const char *sql, const struct db_param *params, int n)
{
	char *key = NULL;
	sqlite3_stmt *stmt = statement_take(db, sql, &key);
	if (stmt == NULL)
		return NULL;
	if (bind_params(db, stmt, params, n) < 0) {
		statement_give_back(db, stmt, key);
		return NULL;
	}
	struct db_rows *rows = g_new0(struct db_rows, 1);
	rows->ops = &db_sqlite_ops;
	rows->db = db;
	rows->stmt = stmt;
	rows->sql = key;
	return rows;
}

static int sqlite_next(struct db_rows *rows)
{
	int rc = sqlite3_step(rows->stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		rows->changes = sqlite3_changes(handle(rows->db));
		return 0;
	}
	db_set_error(rows->db, "%s", sqlite3_errmsg(handle(rows->db)));
	return -1;
}

static bool sqlite_col_null(struct db_rows *rows, int col)
{
	return sqlite3_column_type(rows->stmt, col) == SQLITE_NULL;
}

static const char *sqlite_col_text(struct db_rows *rows, int col)
{
	return (const char *)sqlite3_column_text(rows->stmt, col);
}

static int64_t sqlite_col_int(struct db_rows *rows, int col)
{
	return sqlite3_column_int64(rows->stmt, col);
}

static const void *sqlite_col_blob(struct db_rows *rows, int col, size_t *len_r)
{
	const void *data = sqlite3_column_blob(rows->stmt, col);
	*len_r = (size_t)sqlite3_column_bytes(rows->stmt, col);
	return data;
}

static int sqlite_changes(struct db_rows *rows)
{
	return rows->changes;
}

static void sqlite_rows_free(struct db_rows *rows)
{
	statement_give_back(rows->db, rows->stmt, rows->sql);
	g_free(rows);
}

/* SQLite's incremental blob I/O: reserve the value with zeroblob(), then write it in chunks. */
static int sqlite_blob_fill_fd(struct db *db, const char *table, const char *column, int64_t id, int fd, uint64_t size)
{
	if (size > (uint64_t)INT32_MAX) {
		db_set_error(db, "blob of %llu bytes is too large", (unsigned long long)size);
		return -1;
	}
	char *sql = sqlite3_mprintf("UPDATE \"%w\" SET \"%w\" = zeroblob(%d) WHERE id = %lld", table, column, (int)size,
				    (long long)id);
	int rc = sqlite_exec_raw(db, sql);
	sqlite3_free(sql);
	if (rc < 0)
		return -1;
	sqlite3_blob *blob = NULL;
	if (sqlite3_blob_open(handle(db), "main", table, column, id, 1, &blob) != SQLITE_OK) {
		db_set_error(db, "%s", sqlite3_errmsg(handle(db)));
		return -1;
	}
	char buf[65536];
	uint64_t done = 0;
	int ret = 0;
	while (done < size && ret == 0) {
		ssize_t n = read(fd, buf, (size_t)MIN(sizeof(buf), size - done));
		if (n <= 0) {
			db_set_error(db, "reading the spooled data: %s", n < 0 ? g_strerror(errno) : "file is shorter than expected");
			ret = -1;
		} else if (sqlite3_blob_write(blob, buf, (int)n, (int)done) != SQLITE_OK) {
			db_set_error(db, "%s", sqlite3_errmsg(handle(db)));
			ret = -1;
		} else {
			done += (uint64_t)n;
		}
	}
	if (sqlite3_blob_close(blob) != SQLITE_OK && ret == 0) {
		db_set_error(db, "%s", sqlite3_errmsg(handle(db)));
		ret = -1;
	}
	return ret;
}

const struct db_ops db_sqlite_ops = {
	.open = sqlite_open,
	.close = sqlite_close,
	.exec_raw = sqlite_exec_raw,
	.query = sqlite_query,
	.next = sqlite_next,
	.col_null = sqlite_col_null,
	.col_text = sqlite_col_text,
	.col_int = sqlite_col_int,
	.col_blob = sqlite_col_blob,
	.changes = sqlite_changes,
	.blob_fill_fd = sqlite_blob_fill_fd,
	.rows_free = sqlite_rows_free,
	.begin_sql = "BEGIN IMMEDIATE",
};
