/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The store: the queue, the document store and the profile database, shared by every program.
 * All SQL is written once here in portable form; the backend is chosen by the URI (db.c).
 *
 * Durability: every change is one transaction; SQLite runs WAL with synchronous=FULL, so a
 * commit that returned is on disk. Claims are leases (store_claim_due): a job is handed to one
 * node until lease_until; a node that dies stops renewing and the job becomes claimable again,
 * where a new attempt resumes it from the pages already confirmed (pages_done).
 */
#include "common/store_private.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"

void store_set_error(struct store *store, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_free(store->error);
	store->error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static int db_failed(struct store *store)
{
	store_set_error(store, "%s", db_error(store->db));
	return -1;
}

const char *store_error(const struct store *store)
{
	return store->error ? store->error : "no error";
}

struct db *store_db(struct store *store)
{
	return store->db;
}

int store_open_uri(const char *uri, int busy_timeout_ms, struct store **store_r, const char **error_r)
{
	static char error[600];
	if (g_str_has_prefix(uri, "sqlite:")) {
		g_autofree char *dir = g_path_get_dirname(uri + strlen("sqlite:"));
		if (g_mkdir_with_parents(dir, 0750) < 0) {
			snprintf(error, sizeof(error), "store %s: cannot create %s: %s", uri, dir, g_strerror(errno));
			*error_r = error;
			return -1;
		}
	}
	struct store *store = g_new0(struct store, 1);
	if (db_open(uri, busy_timeout_ms, &store->db, error_r) < 0) {
		g_free(store);
		return -1;
	}
	const char *why = NULL;
	if (store_migrate(store, &why) < 0) {
		snprintf(error, sizeof(error), "store %s: schema: %s", uri, why);
		*error_r = error;
		store_close(&store);
		return -1;
	}
	*store_r = store;
	return 0;
}

int store_open(const struct config *config, struct store **store_r, const char **error_r)
{
	return store_open_uri(config_str(config, "faxgate", "store"),
			      (int)config_int(config, "store", "busy_timeout_ms"), store_r, error_r);
}

void store_close(struct store **storep)
{
	struct store *store = *storep;
	if (store == NULL)
		return;
	db_close(&store->db);
	g_free(store->error);
	g_free(store);
	*storep = NULL;
}

int store_begin(struct store *store)
{
	return db_begin(store->db) < 0 ? db_failed(store) : 0;
}

int store_commit(struct store *store)
{
	return db_commit(store->db) < 0 ? db_failed(store) : 0;
}

void store_rollback(struct store *store)
{
	db_rollback(store->db);
}

/* End a function's transaction (or its part of the caller's): commit on 0, roll back on -1.
   The error text was set where the failure happened. */
static int finish(struct store *store, int ret)
{
	if (ret < 0) {
		store_rollback(store);
		return -1;
	}
	return store_commit(store);
}

/* ---- documents ---- */

int store_document_put(struct store *store, const char *kind, const char *content_type, const void *data,
		       size_t len, int64_t *id_r)
{
	if (store_begin(store) < 0)
		return -1;
	int ret = db_exec(store->db,
			  "INSERT INTO documents (kind, content_type, size, created_at, data) VALUES (?, ?, ?, ?, ?)",
			  "ssiib", kind, content_type, (int64_t)len, g_get_real_time() / G_USEC_PER_SEC, data, len);
	if (ret >= 0 && db_query_int(store->db, id_r, "SELECT max(id) FROM documents", NULL) <= 0)
		ret = -1;
	if (ret < 0)
		db_failed(store);
	return finish(store, ret);
}

int store_document_put_fd(struct store *store, const char *kind, const char *content_type, int fd, uint64_t size,
			  int64_t *id_r)
{
	if (store_begin(store) < 0)
		return -1;
	int ret = db_exec(store->db, "INSERT INTO documents (kind, content_type, size, created_at) VALUES (?, ?, ?, ?)",
			  "ssii", kind, content_type, (int64_t)size, g_get_real_time() / G_USEC_PER_SEC);
	if (ret >= 0 && db_query_int(store->db, id_r, "SELECT max(id) FROM documents", NULL) <= 0)
		ret = -1;
	if (ret >= 0 && db_blob_fill_fd(store->db, "documents", "data", *id_r, fd, size) < 0)
		ret = -1;
	if (ret < 0)
		db_failed(store);
	return finish(store, ret < 0 ? -1 : 0);
}

int store_document_get(struct store *store, int64_t id, void **data_r, size_t *len_r, char **content_type_r)
{
	struct db_rows *rows = db_query(store->db, "SELECT data, content_type FROM documents WHERE id = ?", "i", id);
	if (rows == NULL)
		return db_failed(store);
	int ret = db_next(rows);
	if (ret > 0) {
		size_t len = 0;
		const void *data = db_col_blob(rows, 0, &len);
		*data_r = g_memdup2(data ? data : "", len);
		*len_r = len;
		if (content_type_r != NULL)
			*content_type_r = g_strdup(db_col_text(rows, 1));
	} else if (ret < 0) {
		db_failed(store);
	}
	db_rows_free(&rows);
	return ret;
}

/* ---- jobs ---- */

enum column_type { COL_TEXT, COL_INT };
struct column {
	const char *name;
	enum column_type type;
	size_t offset;
};
#define TEXT(f) {#f, COL_TEXT, offsetof(struct job, f)}
#define INT(f) {#f, COL_INT, offsetof(struct job, f)}
/* Every column of jobs but id and state, in one list that drives SELECT, INSERT and UPDATE. */
static const struct column job_columns[] = {
	TEXT(owner), TEXT(sender), TEXT(number), TEXT(dial), TEXT(recipient_name), TEXT(recipient_company),
	TEXT(line), TEXT(resolution), TEXT(paper), TEXT(tsi), TEXT(header_line), TEXT(notify),
	TEXT(notify_to), TEXT(client_ref), TEXT(idempotency_key), TEXT(result_code), TEXT(result_text),
	TEXT(remote_ident), TEXT(lease_owner), TEXT(progress), INT(created_at), INT(updated_at), INT(send_at),
	INT(next_try_at), INT(expires_at), INT(lease_until), INT(completed_at), INT(message_doc),
	INT(pages_doc), INT(priority), INT(tries), INT(max_tries), INT(dials), INT(max_dials),
	INT(retry_interval), INT(pages_total), INT(pages_done), INT(disable_v17), INT(disable_ecm),
};
#undef TEXT
#undef INT
#define N_JOB_COLUMNS G_N_ELEMENTS(job_columns)

static char **text_field(struct job *job, const struct column *c)
{
	return (char **)((char *)job + c->offset);
}

static int64_t *int_field(struct job *job, const struct column *c)
{
	return (int64_t *)((char *)job + c->offset);
}

static const char *select_list(void)
{
	static char *list;
	if (list == NULL) {
		GString *s = g_string_new("id, state");
		for (size_t i = 0; i < N_JOB_COLUMNS; i++)
			g_string_append_printf(s, ", %s", job_columns[i].name);
		list = g_string_free(s, FALSE);
	}
	return list;
}

struct job *store_job_new(void)
{
	struct job *job = g_new0(struct job, 1);
	job->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return job;
}

void store_job_free(struct job **jobp)
{
	struct job *job = *jobp;
	if (job == NULL)
		return;
	for (size_t i = 0; i < N_JOB_COLUMNS; i++) {
		if (job_columns[i].type == COL_TEXT)
			g_free(*text_field(job, &job_columns[i]));
	}
	g_hash_table_destroy(job->fields);
	g_free(job);
	*jobp = NULL;
}

static struct job *job_from_row(struct db_rows *rows)
{
	struct job *job = store_job_new();
	g_strlcpy(job->id, db_col_text(rows, 0), sizeof(job->id));
	if (job_state_parse(db_col_text(rows, 1), &job->state) < 0)
		job->state = JOB_STATE_HELD; /* unknown state from a newer version: touch nothing */
	for (size_t i = 0; i < N_JOB_COLUMNS; i++) {
		const struct column *c = &job_columns[i];
		if (c->type == COL_TEXT)
			*text_field(job, c) = g_strdup(db_col_text(rows, (int)i + 2));
		else
			*int_field(job, c) = db_col_int(rows, (int)i + 2);
	}
	return job;
}

static int load_fields(struct store *store, struct job *job)
{
	struct db_rows *rows = db_query(store->db, "SELECT name, value FROM job_fields WHERE job_id = ?", "s", job->id);
	if (rows == NULL)
		return -1;
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_hash_table_replace(job->fields, g_strdup(db_col_text(rows, 0)), g_strdup(db_col_text(rows, 1)));
	db_rows_free(&rows);
	return ret;
}

static int save_fields(struct store *store, struct job *job)
{
	if (db_exec(store->db, "DELETE FROM job_fields WHERE job_id = ?", "s", job->id) < 0)
		return -1;
	GHashTableIter iter;
	gpointer name, value;
	g_hash_table_iter_init(&iter, job->fields);
	while (g_hash_table_iter_next(&iter, &name, &value)) {
		if (db_exec(store->db, "INSERT INTO job_fields (job_id, name, value) VALUES (?, ?, ?)", "sss",
			    job->id, (const char *)name, (const char *)value) < 0)
			return -1;
	}
	return 0;
}

static int add_event(struct store *store, const char *id, const char *node, const char *from, const char *to,
		     const char *text)
{
	return db_exec(store->db,
		       "INSERT INTO job_events (job_id, at, node, from_state, to_state, text) VALUES (?, ?, ?, ?, ?, ?)",
		       "sissss", id, (int64_t)(g_get_real_time() / G_USEC_PER_SEC), node, from, to, text);
}

/* Write all columns of job with one parameterised statement (INSERT or UPDATE). */
static int write_job(struct store *store, struct job *job, bool insert)
{
	GString *sql = g_string_new(NULL);
	struct db_param params[N_JOB_COLUMNS + 3];
	memset(params, 0, sizeof(params));
	if (insert) {
		g_string_printf(sql, "INSERT INTO jobs (%s) VALUES (?, ?", select_list());
		for (size_t i = 0; i < N_JOB_COLUMNS; i++)
			g_string_append(sql, ", ?");
		g_string_append(sql, ") ON CONFLICT (id) DO NOTHING");
	} else {
		g_string_append(sql, "UPDATE jobs SET id = ?, state = ?");
		for (size_t i = 0; i < N_JOB_COLUMNS; i++)
			g_string_append_printf(sql, ", %s = ?", job_columns[i].name);
		g_string_append(sql, " WHERE id = ?");
	}
	int n = 0;
	params[n++] = (struct db_param){.type = 's', .text = job->id};
	params[n++] = (struct db_param){.type = 's', .text = job_state_name(job->state)};
	for (size_t i = 0; i < N_JOB_COLUMNS; i++) {
		const struct column *c = &job_columns[i];
		if (c->type == COL_TEXT)
			params[n++] = (struct db_param){.type = 's', .text = *text_field(job, c)};
		else
			params[n++] = (struct db_param){.type = 'i', .integer = *int_field(job, c)};
	}
	if (!insert)
		params[n++] = (struct db_param){.type = 's', .text = job->id};
	struct db_rows *rows = db_query_params(store->db, sql->str, params, n);
	g_string_free(sql, TRUE);
	if (rows == NULL)
		return -1;
	int ret;
	while ((ret = db_next(rows)) > 0)
		;
	if (ret == 0)
		ret = db_rows_changes(rows);
	db_rows_free(&rows);
	return ret;
}

static int64_t now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

int store_job_insert(struct store *store, struct job *job, const char *node)
{
	if (store_begin(store) < 0)
		return -1;
	bool fresh = job->id[0] == '\0';
	job->created_at = job->created_at ? job->created_at : now_s();
	job->updated_at = job->created_at;
	int ret = 0;
	/* A fresh id collides only when two hosts draw the same 9 random bits in the same tenth of
	   a second: draw again. */
	for (int tries = 0; tries < 16; tries++) {
		if (fresh)
			jobid_new(JOBID_PREFIX_JOB, job->id);
		ret = write_job(store, job, true);
		if (ret != 0 || !fresh)
			break;
	}
	if (ret == 0) {
		store_set_error(store, "job id %s exists", job->id);
		ret = -1;
	} else if (ret < 0 || save_fields(store, job) < 0 ||
		   add_event(store, job->id, node, NULL, job_state_name(job->state), "submitted") < 0) {
		ret = db_failed(store);
	}
	return finish(store, ret);
}

int store_job_get(struct store *store, const char *id, struct job **job_r)
{
	char canonical[JOBID_SIZE];
	if (jobid_normalize(id, canonical) < 0)
		return 0;
	g_autofree char *sql = g_strdup_printf("SELECT %s FROM jobs WHERE id = ?", select_list());
	struct db_rows *rows = db_query(store->db, sql, "s", canonical);
	if (rows == NULL)
		return db_failed(store);
	int ret = db_next(rows);
	struct job *job = ret > 0 ? job_from_row(rows) : NULL;
	if (ret < 0)
		db_failed(store);
	db_rows_free(&rows);
	if (job != NULL && load_fields(store, job) < 0) {
		store_job_free(&job);
		return db_failed(store);
	}
	*job_r = job;
	return ret;
}

/* In the open transaction: the stored state of id, or -1 (not found or error, with message). */
static int current_state(struct store *store, const char *id, enum job_state *state_r)
{
	struct db_rows *rows = db_query(store->db, "SELECT state FROM jobs WHERE id = ?", "s", id);
	if (rows == NULL)
		return db_failed(store);
	int ret = db_next(rows);
	if (ret > 0 && job_state_parse(db_col_text(rows, 0), state_r) < 0)
		ret = -1;
	if (ret < 0)
		db_failed(store);
	else if (ret == 0)
		store_set_error(store, "no job %s", id);
	db_rows_free(&rows);
	return ret > 0 ? 0 : -1;
}

static int check_move(struct store *store, const char *id, enum job_state stored, enum job_state expected,
		      enum job_state to)
{
	if (stored != expected) {
		store_set_error(store, "job %s: state is now %s", id, job_state_name(stored));
		return -1;
	}
	if (stored != to && !job_transition_allowed(stored, to)) {
		store_set_error(store, "job %s: cannot go from %s to %s", id, job_state_name(stored),
				job_state_name(to));
		return -1;
	}
	return 0;
}

int store_job_save(struct store *store, struct job *job, enum job_state expected, const char *node,
		   const char *event_text)
{
	if (store_begin(store) < 0)
		return -1;
	enum job_state stored;
	int ret = current_state(store, job->id, &stored);
	if (ret == 0)
		ret = check_move(store, job->id, stored, expected, job->state);
	if (ret == 0) {
		job->updated_at = now_s();
		if (write_job(store, job, false) < 0 || save_fields(store, job) < 0 ||
		    add_event(store, job->id, node, job_state_name(stored), job_state_name(job->state), event_text) < 0)
			ret = db_failed(store);
	}
	return finish(store, ret);
}

int store_job_set_state(struct store *store, const char *id, enum job_state to, const char *node,
			const char *event_text)
{
	char canonical[JOBID_SIZE];
	if (jobid_normalize(id, canonical) < 0) {
		store_set_error(store, "%s is not a job id", id);
		return -1;
	}
	if (store_begin(store) < 0)
		return -1;
	enum job_state stored;
	int ret = current_state(store, canonical, &stored);
	if (ret == 0 && stored == to) {
		store_set_error(store, "job %s is %s already", canonical, job_state_name(to));
		ret = -1;
	} else if (ret == 0) {
		ret = check_move(store, canonical, stored, stored, to);
	}
	if (ret == 0) {
		int64_t t = now_s();
		/* A job brought back by an operator is due now, with fresh counters. */
		const char *sql = to == JOB_STATE_QUEUED
					  ? "UPDATE jobs SET state = ?, updated_at = ?, next_try_at = ?, tries = 0, dials = 0,"
					    " lease_owner = NULL, lease_until = NULL WHERE id = ?"
					  : "UPDATE jobs SET state = ?, updated_at = ?, completed_at = ? WHERE id = ?";
		int64_t third = to == JOB_STATE_QUEUED ? t : (job_state_final(to) ? t : 0);
		if (db_exec(store->db, sql, "siis", job_state_name(to), t, third, canonical) < 0 ||
		    add_event(store, canonical, node, job_state_name(stored), job_state_name(to), event_text) < 0)
			ret = db_failed(store);
	}
	return finish(store, ret);
}

static int list_jobs(struct store *store, const char *sql, const char *types, const char *arg1, int64_t arg2,
		     GPtrArray **jobs_r)
{
	struct db_rows *rows = types[0] == 's' ? db_query(store->db, sql, types, arg1, arg2)
					       : db_query(store->db, sql, types, arg2);
	if (rows == NULL)
		return db_failed(store);
	GPtrArray *jobs = g_ptr_array_new();
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_ptr_array_add(jobs, job_from_row(rows));
	db_rows_free(&rows);
	for (guint i = 0; ret == 0 && i < jobs->len; i++)
		ret = load_fields(store, jobs->pdata[i]);
	if (ret < 0) {
		store_jobs_free(&jobs);
		return db_failed(store);
	}
	*jobs_r = jobs;
	return 0;
}

int store_job_list(struct store *store, int state, int limit, GPtrArray **jobs_r)
{
	g_autofree char *sql = NULL;
	if (state >= 0) {
		sql = g_strdup_printf("SELECT %s FROM jobs WHERE state = ? ORDER BY id DESC LIMIT ?", select_list());
		return list_jobs(store, sql, "si", job_state_name((enum job_state)state), limit, jobs_r);
	}
	sql = g_strdup_printf("SELECT %s FROM jobs ORDER BY id DESC LIMIT ?", select_list());
	return list_jobs(store, sql, "i", NULL, limit, jobs_r);
}

void store_jobs_free(GPtrArray **jobsp)
{
	GPtrArray *jobs = *jobsp;
	if (jobs == NULL)
		return;
	for (guint i = 0; i < jobs->len; i++) {
		struct job *job = jobs->pdata[i];
		store_job_free(&job);
	}
	g_ptr_array_free(jobs, TRUE);
	*jobsp = NULL;
}

int store_job_events(struct store *store, const char *id, GPtrArray **events_r)
{
	struct db_rows *rows = db_query(store->db,
					"SELECT at, from_state, to_state, text, node FROM job_events WHERE job_id = ? ORDER BY id",
					"s", id);
	if (rows == NULL)
		return db_failed(store);
	GPtrArray *events = g_ptr_array_new();
	int ret;
	while ((ret = db_next(rows)) > 0) {
		struct job_event *ev = g_new0(struct job_event, 1);
		ev->at = db_col_int(rows, 0);
		ev->from_state = g_strdup(db_col_text(rows, 1));
		ev->to_state = g_strdup(db_col_text(rows, 2));
		ev->text = g_strdup(db_col_text(rows, 3));
		ev->node = g_strdup(db_col_text(rows, 4));
		g_ptr_array_add(events, ev);
	}
	db_rows_free(&rows);
	*events_r = events;
	if (ret < 0) {
		store_events_free(events_r);
		return db_failed(store);
	}
	return 0;
}

void store_events_free(GPtrArray **eventsp)
{
	GPtrArray *events = *eventsp;
	for (guint i = 0; events != NULL && i < events->len; i++) {
		struct job_event *ev = events->pdata[i];
		g_free(ev->from_state);
		g_free(ev->to_state);
		g_free(ev->text);
		g_free(ev->node);
		g_free(ev);
	}
	if (events != NULL)
		g_ptr_array_free(events, TRUE);
	*eventsp = NULL;
}

/* ---- claims ---- */

static const char claim_candidates[] =
	"SELECT id, state FROM jobs j WHERE"
	" ((state IN ('queued', 'deferred') AND (next_try_at IS NULL OR next_try_at <= ?))"
	"  OR (state = 'sending' AND lease_until < ?))"
	" AND (expires_at IS NULL OR expires_at = 0 OR expires_at > ?)"
	" AND (SELECT count(*) FROM jobs a WHERE a.state = 'sending' AND a.lease_until >= ?"
	"      AND a.number = j.number) < ?"
	" ORDER BY priority DESC, next_try_at, id LIMIT 1";

int store_claim_due(struct store *store, const char *node, int64_t now, int64_t lease_s,
		    int max_per_destination, struct job **job_r)
{
	/* SQLite: BEGIN IMMEDIATE holds the write lock, so the pick and the update are atomic.
	   PostgreSQL will add FOR UPDATE SKIP LOCKED to the same query. */
	if (store_begin(store) < 0)
		return -1;
	struct db_rows *rows = db_query(store->db, claim_candidates, "iiiii", now, now, now, now,
					(int64_t)max_per_destination);
	char id[JOBID_SIZE] = "", from[16] = "";
	int ret = rows ? db_next(rows) : -1;
	if (ret > 0) {
		g_strlcpy(id, db_col_text(rows, 0), sizeof(id));
		g_strlcpy(from, db_col_text(rows, 1), sizeof(from));
	}
	db_rows_free(&rows);
	if (ret > 0) {
		bool reclaim = strcmp(from, "sending") == 0;
		g_autofree char *text = g_strdup_printf(reclaim ? "lease expired; claimed by %s" : "claimed by %s", node);
		if (db_exec(store->db,
			    "UPDATE jobs SET state = 'sending', lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ?",
			    "siis", node, now + lease_s, now, id) != 1 ||
		    add_event(store, id, node, from, "sending", text) < 0)
			ret = -1;
	}
	if (ret < 0)
		db_failed(store);
	if (finish(store, ret < 0 ? -1 : 0) < 0)
		return -1;
	if (ret == 0)
		return 0;
	return store_job_get(store, id, job_r) > 0 ? 1 : -1;
}

int store_claim_rendering(struct store *store, const char *node, int64_t now, int64_t lease_s, struct job **job_r)
{
	if (store_begin(store) < 0)
		return -1;
	char id[JOBID_SIZE] = "";
	struct db_rows *rows = db_query(store->db,
					"SELECT id FROM jobs WHERE state = 'rendering' AND (lease_until IS NULL OR lease_until < ?)"
					" ORDER BY priority DESC, id LIMIT 1",
					"i", now);
	int ret = rows ? db_next(rows) : -1;
	if (ret > 0)
		g_strlcpy(id, db_col_text(rows, 0), sizeof(id));
	db_rows_free(&rows);
	if (ret > 0 && db_exec(store->db, "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ?", "sis", node,
			       now + lease_s, id) != 1)
		ret = -1;
	if (ret < 0)
		db_failed(store);
	if (finish(store, ret < 0 ? -1 : 0) < 0)
		return -1;
	if (ret == 0)
		return 0;
	return store_job_get(store, id, job_r) > 0 ? 1 : -1;
}

int store_lease_renew(struct store *store, const char *id, const char *node, int64_t until)
{
	int changed = db_exec(store->db,
			      "UPDATE jobs SET lease_until = ? WHERE id = ? AND state IN ('sending', 'rendering') AND lease_owner = ?",
			      "iss", until, id, node);
	if (changed < 0)
		return db_failed(store);
	if (changed == 0) {
		store_set_error(store, "job %s is no longer held by %s", id, node);
		return -1;
	}
	return 0;
}

int store_job_progress(struct store *store, const char *id, const char *node, int64_t pages_done,
		       const char *progress)
{
	int changed = db_exec(store->db,
			      "UPDATE jobs SET pages_done = ?, progress = ? WHERE id = ? AND state = 'sending' AND lease_owner = ?",
			      "isss", pages_done, progress, id, node);
	if (changed < 0)
		return db_failed(store);
	if (changed == 0) {
		store_set_error(store, "job %s is no longer held by %s", id, node);
		return -1;
	}
	return 0;
}

int store_release_leases(struct store *store, const char *node)
{
	if (store_begin(store) < 0)
		return -1;
	int ret = db_exec(store->db,
			  "INSERT INTO job_events (job_id, at, node, from_state, to_state, text)"
			  " SELECT id, ?, ?, 'sending', 'sending', 'lease given up: its holder restarted'"
			  " FROM jobs WHERE state = 'sending' AND lease_owner = ?",
			  "iss", now_s(), node, node);
	if (ret >= 0)
		ret = db_exec(store->db, "UPDATE jobs SET lease_until = 0 WHERE state = 'sending' AND lease_owner = ?",
			      "s", node);
	if (ret < 0)
		db_failed(store);
	return finish(store, ret < 0 ? -1 : 0) < 0 ? -1 : ret;
}

int store_expire_due(struct store *store, int64_t now, const char *node)
{
	if (store_begin(store) < 0)
		return -1;
	struct db_rows *rows = db_query(store->db,
					"SELECT id, state FROM jobs WHERE state IN ('queued', 'deferred', 'held', 'rendering')"
					" AND expires_at IS NOT NULL AND expires_at > 0 AND expires_at <= ?",
					"i", now);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free), *states = g_ptr_array_new_with_free_func(g_free);
	int ret = rows ? 0 : -1;
	while (rows && (ret = db_next(rows)) > 0) {
		g_ptr_array_add(ids, g_strdup(db_col_text(rows, 0)));
		g_ptr_array_add(states, g_strdup(db_col_text(rows, 1)));
	}
	db_rows_free(&rows);
	for (guint i = 0; ret == 0 && i < ids->len; i++) {
		if (db_exec(store->db, "UPDATE jobs SET state = 'expired', updated_at = ?, completed_at = ?,"
				       " result_code = 'expired', result_text = 'not sent before it expired' WHERE id = ?",
			    "iis", now, now, (const char *)ids->pdata[i]) < 0 ||
		    add_event(store, ids->pdata[i], node, states->pdata[i], "expired", "expiry time reached") < 0)
			ret = -1;
	}
	int count = (int)ids->len;
	g_ptr_array_free(ids, TRUE);
	g_ptr_array_free(states, TRUE);
	if (ret < 0)
		db_failed(store);
	return finish(store, ret) < 0 ? -1 : count;
}

/* ---- attempts ---- */

int store_attempt_add(struct store *store, const struct attempt *a)
{
	int ret = db_exec(store->db,
			  "INSERT INTO attempts (job_id, line, started_at, ended_at, outcome, result_code, result_text,"
			  " first_page, pages_sent, pages_total, bit_rate, ecm, remote_ident)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			  "ssiisisiiiiis", a->job_id, a->line, a->started_at, a->ended_at, a->outcome, a->result_code,
			  a->result_text, a->first_page, a->pages_sent, a->pages_total, a->bit_rate, a->ecm,
			  a->remote_ident);
	return ret < 0 ? db_failed(store) : 0;
}

int store_attempt_list(struct store *store, const char *job_id, GPtrArray **attempts_r)
{
	struct db_rows *rows = db_query(store->db,
					"SELECT id, line, started_at, ended_at, outcome, result_code, result_text, first_page,"
					" pages_sent, pages_total, bit_rate, ecm, remote_ident FROM attempts"
					" WHERE job_id = ? ORDER BY id",
					"s", job_id);
	if (rows == NULL)
		return db_failed(store);
	GPtrArray *list = g_ptr_array_new();
	int ret;
	while ((ret = db_next(rows)) > 0) {
		struct attempt *a = g_new0(struct attempt, 1);
		a->id = db_col_int(rows, 0);
		g_strlcpy(a->job_id, job_id, sizeof(a->job_id));
		a->line = g_strdup(db_col_text(rows, 1));
		a->started_at = db_col_int(rows, 2);
		a->ended_at = db_col_int(rows, 3);
		a->outcome = g_strdup(db_col_text(rows, 4));
		a->result_code = db_col_int(rows, 5);
		a->result_text = g_strdup(db_col_text(rows, 6));
		a->first_page = db_col_int(rows, 7);
		a->pages_sent = db_col_int(rows, 8);
		a->pages_total = db_col_int(rows, 9);
		a->bit_rate = db_col_int(rows, 10);
		a->ecm = db_col_int(rows, 11);
		a->remote_ident = g_strdup(db_col_text(rows, 12));
		g_ptr_array_add(list, a);
	}
	db_rows_free(&rows);
	*attempts_r = list;
	if (ret < 0) {
		store_attempts_free(attempts_r);
		return db_failed(store);
	}
	return 0;
}

void store_attempts_free(GPtrArray **attemptsp)
{
	GPtrArray *list = *attemptsp;
	for (guint i = 0; list != NULL && i < list->len; i++) {
		struct attempt *a = list->pdata[i];
		g_free(a->line);
		g_free(a->outcome);
		g_free(a->result_text);
		g_free(a->remote_ident);
		g_free(a);
	}
	if (list != NULL)
		g_ptr_array_free(list, TRUE);
	*attemptsp = NULL;
}

/* ---- received faxes ---- */

int store_inbound_insert(struct store *store, struct inbound *in)
{
	if (in->id[0] == '\0')
		jobid_new(JOBID_PREFIX_INBOUND, in->id);
	int ret = db_exec(store->db,
			  "INSERT INTO inbound (id, received_at, line, did, caller_id, remote_csid, pages, resolution,"
			  " duration_ms, result_code, result_text, partial, document_id, state)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			  "sissssisiisiis", in->id, in->received_at, in->line, in->did, in->caller_id, in->remote_csid,
			  in->pages, in->resolution, in->duration_ms, in->result_code, in->result_text, in->partial,
			  in->document_id, in->state ? in->state : "received");
	return ret < 0 ? db_failed(store) : 0;
}

int store_inbound_list(struct store *store, int limit, GPtrArray **inbound_r)
{
	struct db_rows *rows = db_query(store->db,
					"SELECT id, received_at, line, did, caller_id, remote_csid, pages, resolution,"
					" duration_ms, result_code, result_text, partial, document_id, state"
					" FROM inbound ORDER BY id DESC LIMIT ?",
					"i", (int64_t)limit);
	if (rows == NULL)
		return db_failed(store);
	GPtrArray *list = g_ptr_array_new();
	int ret;
	while ((ret = db_next(rows)) > 0) {
		struct inbound *in = g_new0(struct inbound, 1);
		g_strlcpy(in->id, db_col_text(rows, 0), sizeof(in->id));
		in->received_at = db_col_int(rows, 1);
		in->line = g_strdup(db_col_text(rows, 2));
		in->did = g_strdup(db_col_text(rows, 3));
		in->caller_id = g_strdup(db_col_text(rows, 4));
		in->remote_csid = g_strdup(db_col_text(rows, 5));
		in->pages = db_col_int(rows, 6);
		in->resolution = g_strdup(db_col_text(rows, 7));
		in->duration_ms = db_col_int(rows, 8);
		in->result_code = db_col_int(rows, 9);
		in->result_text = g_strdup(db_col_text(rows, 10));
		in->partial = db_col_int(rows, 11);
		in->document_id = db_col_int(rows, 12);
		in->state = g_strdup(db_col_text(rows, 13));
		g_ptr_array_add(list, in);
	}
	db_rows_free(&rows);
	*inbound_r = list;
	if (ret < 0) {
		store_inbound_list_free(inbound_r);
		return db_failed(store);
	}
	return 0;
}

void store_inbound_list_free(GPtrArray **inboundp)
{
	GPtrArray *list = *inboundp;
	for (guint i = 0; list != NULL && i < list->len; i++) {
		struct inbound *in = list->pdata[i];
		g_free(in->line);
		g_free(in->did);
		g_free(in->caller_id);
		g_free(in->remote_csid);
		g_free(in->resolution);
		g_free(in->result_text);
		g_free(in->state);
		g_free(in);
	}
	if (list != NULL)
		g_ptr_array_free(list, TRUE);
	*inboundp = NULL;
}
