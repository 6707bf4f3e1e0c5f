/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_DB_PRIVATE_H
#define COMMON_DB_PRIVATE_H

#include <stdarg.h>

#include "common/db.h"

/* What a backend provides. */
struct db_ops {
	int (*open)(struct db *db, const char *target, int busy_timeout_ms, const char **error_r);
	void (*close)(struct db *db);
	int (*exec_raw)(struct db *db, const char *sql); /* BEGIN/COMMIT/scripts */
	struct db_rows *(*query)(struct db *db, const char *sql, const struct db_param *params, int n);
	int (*next)(struct db_rows *rows);
	bool (*col_null)(struct db_rows *rows, int col);
	const char *(*col_text)(struct db_rows *rows, int col);
	int64_t (*col_int)(struct db_rows *rows, int col);
	const void *(*col_blob)(struct db_rows *rows, int col, size_t *len_r);
	int (*changes)(struct db_rows *rows);
	void (*rows_free)(struct db_rows *rows);
	int (*blob_fill_fd)(struct db *db, const char *table, const char *column, int64_t id, int fd, uint64_t size);
	const char *begin_sql;
};

struct db {
	const struct db_ops *ops;
	enum db_dialect dialect;
	void *handle;
	char *error;
	int depth;
	bool failed; /* an inner rollback happened */
};

void db_set_error(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const struct db_ops db_sqlite_ops;

#endif
