/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SQL layer: portable statements with '?' placeholders and typed parameters, nested write
 * transactions, and dispatch to a backend (db_sqlite.c; PostgreSQL later). The store (store.c)
 * writes its SQL once on top of this; only the claim query differs by dialect.
 */
#include "common/db_private.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

void db_set_error(struct db *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_free(db->error);
	db->error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

int db_open(const char *uri, int busy_timeout_ms, struct db **db_r, const char **error_r)
{
	static char error[512];
	struct db *db = g_new0(struct db, 1);
	if (g_str_has_prefix(uri, "sqlite:")) {
		db->ops = &db_sqlite_ops;
		db->dialect = DB_DIALECT_SQLITE;
	} else {
		snprintf(error, sizeof(error), "store %s: unsupported (use sqlite:PATH)", uri);
		*error_r = error;
		g_free(db);
		return -1;
	}
	const char *backend_error = NULL;
	if (db->ops->open(db, strchr(uri, ':') + 1, busy_timeout_ms, &backend_error) < 0) {
		snprintf(error, sizeof(error), "store %s: %s", uri, backend_error);
		*error_r = error;
		g_free(db->error);
		g_free(db);
		return -1;
	}
	*db_r = db;
	return 0;
}

void db_close(struct db **dbp)
{
	struct db *db = *dbp;
	if (db == NULL)
		return;
	if (db->depth > 0)
		db->ops->exec_raw(db, "ROLLBACK");
	db->ops->close(db);
	g_free(db->error);
	g_free(db);
	*dbp = NULL;
}

enum db_dialect db_dialect(const struct db *db)
{
	return db->dialect;
}

const char *db_error(const struct db *db)
{
	return db->error ? db->error : "no error";
}

int db_begin(struct db *db)
{
	if (db->depth++ > 0)
		return 0;
	db->failed = false;
	if (db->ops->exec_raw(db, db->ops->begin_sql) < 0) {
		db->depth = 0;
		return -1;
	}
	return 0;
}

int db_commit(struct db *db)
{
	if (db->depth == 0) {
		db_set_error(db, "commit without a transaction");
		return -1;
	}
	if (--db->depth > 0)
		return db->failed ? -1 : 0;
	if (db->failed) {
		db_set_error(db, "transaction was rolled back");
		return -1;
	}
	if (db->ops->exec_raw(db, "COMMIT") < 0) {
		db->ops->exec_raw(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

void db_rollback(struct db *db)
{
	if (db->depth == 0)
		return;
	if (!db->failed)
		db->ops->exec_raw(db, "ROLLBACK");
	db->failed = true;
	db->depth--;
}

bool db_in_transaction(const struct db *db)
{
	return db->depth > 0;
}

static int collect_params(struct db *db, const char *types, va_list ap, struct db_param *params, int max)
{
	int n = 0;
	for (const char *t = types ? types : ""; *t != '\0'; t++) {
		if (n == max) {
			db_set_error(db, "too many parameters");
			return -1;
		}
		struct db_param *p = &params[n++];
		memset(p, 0, sizeof(*p));
		p->type = *t;
		switch (*t) {
		case 's': p->text = va_arg(ap, const char *); break;
		case 'i': p->integer = va_arg(ap, int64_t); break;
		case 'b':
			p->blob = va_arg(ap, const void *);
			p->len = va_arg(ap, size_t);
			break;
		case 'n': break;
		default:
			db_set_error(db, "bad parameter type '%c'", *t);
			return -1;
		}
	}
	return n;
}

#define DB_MAX_PARAMS 64

static struct db_rows *queryv(struct db *db, const char *sql, const char *types, va_list ap)
{
	struct db_param params[DB_MAX_PARAMS];
	int n = collect_params(db, types, ap, params, DB_MAX_PARAMS);
	if (n < 0)
		return NULL;
	return db->ops->query(db, sql, params, n);
}

struct db_rows *db_query(struct db *db, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct db_rows *rows = queryv(db, sql, types, ap);
	va_end(ap);
	return rows;
}

int db_exec(struct db *db, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct db_rows *rows = queryv(db, sql, types, ap);
	va_end(ap);
	if (rows == NULL)
		return -1;
	int ret;
	while ((ret = db->ops->next(rows)) > 0)
		;
	if (ret == 0)
		ret = db->ops->changes(rows);
	db->ops->rows_free(rows);
	return ret;
}

int db_query_int(struct db *db, int64_t *value_r, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct db_rows *rows = queryv(db, sql, types, ap);
	va_end(ap);
	if (rows == NULL)
		return -1;
	int ret = db->ops->next(rows);
	if (ret > 0)
		*value_r = db->ops->col_int(rows, 0);
	db->ops->rows_free(rows);
	return ret;
}

struct db_rows *db_query_params(struct db *db, const char *sql, const struct db_param *params, int n)
{
	return db->ops->query(db, sql, params, n);
}

int db_rows_changes(struct db_rows *rows)
{
	return (*(const struct db_ops **)rows)->changes(rows);
}

int db_next(struct db_rows *rows)
{
	/* the ops pointer is the first member of every backend's rows struct */
	return (*(const struct db_ops **)rows)->next(rows);
}

#define ROWS_OPS(rows) (*(const struct db_ops **)(rows))

bool db_col_null(struct db_rows *rows, int col)
{
	return ROWS_OPS(rows)->col_null(rows, col);
}

const char *db_col_text(struct db_rows *rows, int col)
{
	return ROWS_OPS(rows)->col_text(rows, col);
}

int64_t db_col_int(struct db_rows *rows, int col)
{
	return ROWS_OPS(rows)->col_int(rows, col);
}

const void *db_col_blob(struct db_rows *rows, int col, size_t *len_r)
{
	return ROWS_OPS(rows)->col_blob(rows, col, len_r);
}

void db_rows_free(struct db_rows **rowsp)
{
	if (*rowsp == NULL)
		return;
	ROWS_OPS(*rowsp)->rows_free(*rowsp);
	*rowsp = NULL;
}

int db_blob_fill_fd(struct db *db, const char *table, const char *column, int64_t id, int fd, uint64_t size)
{
	return db->ops->blob_fill_fd(db, table, column, id, fd, size);
}

int db_exec_script(struct db *db, const char *script)
{
	return db->ops->exec_raw(db, script);
}
