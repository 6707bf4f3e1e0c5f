/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The outbox table: the mailer's durable queue. Every change of a row is one statement or one
 * transaction, so a crash leaves each row either still ours (released at the next start) or ended.
 */
#include "smtpgw/outbox.h"

#include <string.h>
#include <time.h>

#include "common/db.h"
#include "common/error.h"
#include "common/store.h"

#define COLUMNS                                                                                                \
	"id, kind, job_id, inbound_id, route, sender, recipients, state, last_error, created_at, document_id, " \
	"tries, next_try_at, expires_at"

static int failed(struct store *store, const char **error_r)
{
	error_set(error_r, "%s", db_error(store_db(store)));
	return -1;
}

void outbox_msg_free(struct outbox_msg **msgp)
{
	struct outbox_msg *m = *msgp;
	if (m == NULL)
		return;
	g_free(m->kind);
	g_free(m->job_id);
	g_free(m->inbound_id);
	g_free(m->route);
	g_free(m->sender);
	g_free(m->recipient);
	g_free(m->state);
	g_free(m->last_error);
	g_free(m);
	*msgp = NULL;
}

int outbox_enqueue(struct store *store, struct outbox_msg *msg, const void *data, size_t len, const char **error_r)
{
	if (msg->id[0] == '\0')
		jobid_new(JOBID_PREFIX_MAIL, msg->id);
	if (msg->created_at == 0)
		msg->created_at = time(NULL);
	if (store_begin(store) < 0)
		return failed(store, error_r);
	if (store_document_put(store, "mail", "message/rfc822", data, len, &msg->document_id) < 0 ||
	    db_exec(store_db(store),
		    "INSERT INTO outbox (id, created_at, kind, job_id, inbound_id, route, sender, recipients,"
		    " document_id, state, tries, next_try_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,'queued',0,?,?)",
		    "sissssssiii", msg->id, msg->created_at, msg->kind, msg->job_id, msg->inbound_id, msg->route,
		    msg->sender ? msg->sender : "", msg->recipient, msg->document_id, msg->created_at,
		    msg->expires_at) != 1) {
		const char *why = error_format("%s", db_error(store_db(store)));
		store_rollback(store);
		error_set(error_r, "%s", why);
		return -1;
	}
	return store_commit(store) < 0 ? failed(store, error_r) : 0;
}

static struct outbox_msg *row_to_msg(struct db_rows *rows)
{
	struct outbox_msg *m = g_new0(struct outbox_msg, 1);
	g_strlcpy(m->id, db_col_text(rows, 0), sizeof(m->id));
	char **texts[] = {&m->kind,   &m->job_id,    &m->inbound_id, &m->route,
			  &m->sender, &m->recipient, &m->state,      &m->last_error};
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++)
		*texts[i] = g_strdup(db_col_text(rows, (int)i + 1));
	int64_t *ints[] = {&m->created_at, &m->document_id, &m->tries, &m->next_try_at, &m->expires_at};
	for (size_t i = 0; i < G_N_ELEMENTS(ints); i++)
		*ints[i] = db_col_int(rows, (int)(i + 1 + G_N_ELEMENTS(texts)));
	return m;
}

static int load_msg(struct store *store, const char *id, struct outbox_msg **msg_r)
{
	struct db_rows *rows = db_query(store_db(store), "SELECT " COLUMNS " FROM outbox WHERE id = ?", "s", id);
	int ret = rows ? db_next(rows) : -1;
	if (ret > 0)
		*msg_r = row_to_msg(rows);
	db_rows_free(&rows);
	return ret;
}

/* The id of the oldest due row of the given routes, "" when none. */
static int find_due(struct store *store, int64_t now, const char *const *routes, char id_r[JOBID_SIZE])
{
	GString *sql = g_string_new("SELECT id FROM outbox WHERE (state = 'queued' OR (state = 'deferred' AND"
				    " next_try_at <= ?) OR (state = 'sending' AND lease_until < ?))");
	GArray *params = g_array_new(FALSE, TRUE, sizeof(struct db_param));
	struct db_param p = {.type = 'i', .integer = now};
	g_array_append_val(params, p);
	g_array_append_val(params, p);
	if (routes != NULL) {
		g_string_append(sql, " AND route IN (NULL"); /* never matches: a list that may be empty */
		for (int i = 0; routes[i] != NULL; i++) {
			g_string_append(sql, ",?");
			struct db_param r = {.type = 's', .text = routes[i]};
			g_array_append_val(params, r);
		}
		g_string_append(sql, ")");
	}
	g_string_append(sql, " ORDER BY next_try_at, id LIMIT 1");
	struct db_rows *rows =
		db_query_params(store_db(store), sql->str, (const struct db_param *)params->data, (int)params->len);
	int ret = rows ? db_next(rows) : -1;
	if (ret > 0)
		g_strlcpy(id_r, db_col_text(rows, 0), JOBID_SIZE);
	db_rows_free(&rows);
	g_string_free(sql, TRUE);
	g_array_free(params, TRUE);
	return ret;
}

int outbox_claim(struct store *store, const char *node, int64_t now, int64_t lease_s, const char *const *routes,
		 struct outbox_msg **msg_r, const char **error_r)
{
	*msg_r = NULL;
	if (store_begin(store) < 0)
		return failed(store, error_r);
	char id[JOBID_SIZE] = "";
	int ret = find_due(store, now, routes, id);
	if (ret > 0 && db_exec(store_db(store),
			       "UPDATE outbox SET state = 'sending', lease_owner = ?, lease_until = ?, tries = tries + 1"
			       " WHERE id = ?",
			       "sis", node, now + lease_s, id) != 1)
		ret = -1;
	if (ret > 0)
		ret = load_msg(store, id, msg_r);
	if (ret < 0) {
		const char *why = error_format("%s", db_error(store_db(store)));
		store_rollback(store);
		outbox_msg_free(msg_r);
		error_set(error_r, "%s", why);
		return -1;
	}
	if (store_commit(store) < 0) {
		outbox_msg_free(msg_r);
		return failed(store, error_r);
	}
	return ret;
}

int outbox_message(struct store *store, const struct outbox_msg *msg, void **data_r, size_t *len_r,
		   const char **error_r)
{
	g_autofree char *type = NULL;
	int ret = store_document_get(store, msg->document_id, data_r, len_r, &type);
	if (ret <= 0) {
		error_set(error_r, "message %s: document %lld: %s", msg->id, (long long)msg->document_id,
			     ret < 0 ? store_error(store) : "missing");
		return -1;
	}
	return 0;
}

int outbox_finish(struct store *store, const struct outbox_msg *msg, const char *node, const char *state,
		  int64_t next_try_at, const char *reason, const char **error_r)
{
	int changed = db_exec(store_db(store),
			      "UPDATE outbox SET state = ?, next_try_at = ?, last_error = ?, lease_owner = NULL,"
			      " lease_until = NULL WHERE id = ? AND state = 'sending' AND lease_owner = ?",
			      "sisss", state, next_try_at, reason, msg->id, node);
	if (changed < 0)
		return failed(store, error_r);
	if (changed == 0) {
		error_set(error_r, "message %s is no longer held by %s", msg->id, node);
		return -1;
	}
	return 0;
}

int outbox_release_leases(struct store *store, const char *node, int *count_r, const char **error_r)
{
	int changed = db_exec(store_db(store),
			      "UPDATE outbox SET state = 'queued', lease_owner = NULL, lease_until = NULL"
			      " WHERE state = 'sending' AND lease_owner = ?",
			      "s", node);
	if (changed < 0)
		return failed(store, error_r);
	*count_r = changed;
	return 0;
}

int outbox_counts(struct store *store, GHashTable **counts_r, const char **error_r)
{
	struct db_rows *rows = db_query(store_db(store), "SELECT state, COUNT(*) FROM outbox GROUP BY state", "");
	if (rows == NULL)
		return failed(store, error_r);
	GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_hash_table_insert(counts, g_strdup(db_col_text(rows, 0)), GINT_TO_POINTER((int)db_col_int(rows, 1)));
	db_rows_free(&rows);
	if (ret < 0) {
		g_hash_table_unref(counts);
		return failed(store, error_r);
	}
	*counts_r = counts;
	return 0;
}

int outbox_state_get(struct store *store, const char *name, char **value_r, const char **error_r)
{
	*value_r = NULL;
	struct db_rows *rows = db_query(store_db(store), "SELECT value FROM sync_state WHERE name = ?", "s", name);
	int ret = rows ? db_next(rows) : -1;
	if (ret > 0)
		*value_r = g_strdup(db_col_text(rows, 0));
	db_rows_free(&rows);
	return ret < 0 ? failed(store, error_r) : 0;
}

int outbox_state_set(struct store *store, const char *name, const char *value, const char **error_r)
{
	int64_t now = time(NULL);
	int changed = db_exec(store_db(store), "UPDATE sync_state SET value = ?, updated_at = ? WHERE name = ?", "sis",
			      value, now, name);
	if (changed == 0)
		changed = db_exec(store_db(store), "INSERT INTO sync_state (name, value, updated_at) VALUES (?,?,?)",
				  "ssi", name, value, now);
	return changed < 0 ? failed(store, error_r) : 0;
}

int outbox_state_list(struct store *store, const char *prefix, GHashTable **values_r, const char **error_r)
{
	g_autofree char *pattern = g_strdup_printf("%s%%", prefix);
	struct db_rows *rows = db_query(store_db(store), "SELECT name, value FROM sync_state WHERE name LIKE ?", "s",
					pattern);
	if (rows == NULL)
		return failed(store, error_r);
	GHashTable *values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_hash_table_insert(values, g_strdup(db_col_text(rows, 0)), g_strdup(db_col_text(rows, 1)));
	db_rows_free(&rows);
	if (ret < 0) {
		g_hash_table_unref(values);
		return failed(store, error_r);
	}
	*values_r = values;
	return 0;
}
