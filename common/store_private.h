/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_STORE_PRIVATE_H
#define COMMON_STORE_PRIVATE_H

#include "common/db.h"
#include "common/store.h"

struct store {
	struct db *db;
	char *error;
};

int store_migrate(struct store *store, const char **error_r);
void store_set_error(struct store *store, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
