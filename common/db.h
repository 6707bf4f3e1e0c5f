/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_DB_H
#define COMMON_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A thin SQL layer with one backend per database (SQLite now, PostgreSQL later). Callers write
 * portable SQL with '?' placeholders; parameters are given by a type string:
 *   's' text (const char *, NULL binds NULL), 'i' int64_t, 'b' blob (const void *, size_t),
 *   'n' NULL (no argument).
 */
enum db_dialect {
	DB_DIALECT_SQLITE,
	DB_DIALECT_POSTGRESQL,
};

struct db;
struct db_rows;

/* One parameter, for statements whose parameter list is built at run time. */
struct db_param {
	char type; /* s i b n */
	const char *text;
	int64_t integer;
	const void *blob;
	size_t len;
};

/* uri: "sqlite:/path/file.db". */
int db_open(const char *uri, int busy_timeout_ms, struct db **db_r, const char **error_r);
void db_close(struct db **dbp);
enum db_dialect db_dialect(const struct db *db);
/* The last error of this connection; owned by db, valid until the next call. */
const char *db_error(const struct db *db);

/* Write transactions nest: only the outermost begin/commit talks to the database; a rollback at
   any depth rolls back the whole transaction and makes every enclosing commit fail. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
bool db_in_transaction(const struct db *db);

/* Run a statement that returns no rows. Returns rows changed (>= 0) or -1. */
int db_exec(struct db *db, const char *sql, const char *types, ...);
/* Run a query; NULL on error. Step with db_next: 1 row, 0 done, -1 error. */
struct db_rows *db_query(struct db *db, const char *sql, const char *types, ...);
struct db_rows *db_query_params(struct db *db, const char *sql, const struct db_param *params, int n);
int db_next(struct db_rows *rows);
/* Rows changed by the statement, once db_next returned 0. */
int db_rows_changes(struct db_rows *rows);
bool db_col_null(struct db_rows *rows, int col);
const char *db_col_text(struct db_rows *rows, int col); /* NULL for NULL; valid until db_next */
int64_t db_col_int(struct db_rows *rows, int col);
const void *db_col_blob(struct db_rows *rows, int col, size_t *len_r);
void db_rows_free(struct db_rows **rowsp);

/* Convenience: first column of the first row as an integer; 1 found, 0 no row, -1 error. */
int db_query_int(struct db *db, int64_t *value_r, const char *sql, const char *types, ...);

/* Fill column `column` of row `id` (an integer primary key named id) of `table` with `size`
   bytes read from fd, in chunks: the value is never held in memory whole. 0 or -1. */
int db_blob_fill_fd(struct db *db, const char *table, const char *column, int64_t id, int fd, uint64_t size);

/* Run a script of ';'-separated DDL statements (migrations). */
int db_exec_script(struct db *db, const char *script);

#endif
