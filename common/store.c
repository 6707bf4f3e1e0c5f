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

/* ---- rows <-> structs ---- */

/* A table described once: each column's name, type and place in the struct. SELECT lists,
   INSERTs, row loading and freeing are all driven by it. */
enum column_type { COL_TEXT, COL_INT, COL_ID /* char[JOBID_SIZE] */ };
struct column {
	const char *name;
	enum column_type type;
	size_t offset;
};
struct table {
	const char *name;
	const struct column *columns;
	size_t n;
};

#define TEXT(s, f) {#f, COL_TEXT, offsetof(struct s, f)}
#define INT(s, f) {#f, COL_INT, offsetof(struct s, f)}
#define ID(s, f) {#f, COL_ID, offsetof(struct s, f)}
/* Every column of jobs but id and state (kept apart: state is an enum). */
static const struct column job_columns[] = {
	TEXT(job, owner), TEXT(job, sender), TEXT(job, number), TEXT(job, dial), TEXT(job, recipient_name),
	TEXT(job, recipient_company), TEXT(job, line), TEXT(job, resolution), TEXT(job, paper), TEXT(job, tsi),
	TEXT(job, header_line), TEXT(job, notify), TEXT(job, notify_to), TEXT(job, client_ref),
	TEXT(job, idempotency_key), TEXT(job, result_code), TEXT(job, result_text), TEXT(job, remote_ident),
	TEXT(job, lease_owner), TEXT(job, progress), INT(job, created_at), INT(job, updated_at), INT(job, send_at),
	INT(job, next_try_at), INT(job, expires_at), INT(job, lease_until), INT(job, completed_at),
	INT(job, message_doc), INT(job, pages_doc), INT(job, priority), INT(job, tries), INT(job, max_tries),
	INT(job, dials), INT(job, max_dials), INT(job, retry_interval), INT(job, pages_total), INT(job, pages_done),
	INT(job, disable_v17), INT(job, disable_ecm),
};
/* attempts without their generated id */
static const struct column attempt_columns[] = {
	ID(attempt, job_id), TEXT(attempt, line), INT(attempt, started_at), INT(attempt, ended_at),
	TEXT(attempt, outcome), INT(attempt, result_code), TEXT(attempt, result_text), INT(attempt, first_page),
	INT(attempt, pages_sent), INT(attempt, pages_total), INT(attempt, bit_rate), INT(attempt, ecm),
	TEXT(attempt, remote_ident),
};
static const struct column inbound_columns[] = {
	ID(inbound, id), INT(inbound, received_at), TEXT(inbound, line), TEXT(inbound, did), TEXT(inbound, caller_id),
	TEXT(inbound, remote_csid), INT(inbound, pages), TEXT(inbound, resolution), INT(inbound, duration_ms),
	INT(inbound, result_code), TEXT(inbound, result_text), INT(inbound, partial), INT(inbound, document_id),
	TEXT(inbound, state),
};
#undef TEXT
#undef INT
#undef ID
static const struct table jobs_table = {"jobs", job_columns, G_N_ELEMENTS(job_columns)};
static const struct table attempts_table = {"attempts", attempt_columns, G_N_ELEMENTS(attempt_columns)};
static const struct table inbound_table = {"inbound", inbound_columns, G_N_ELEMENTS(inbound_columns)};
#define N_JOB_COLUMNS G_N_ELEMENTS(job_columns)

static void *field(const void *obj, const struct column *c)
{
	return (char *)obj + c->offset;
}

/* "a, b, c" (g_free). */
static char *column_list(const struct table *t)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < t->n; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", t->columns[i].name);
	return g_string_free(s, FALSE);
}

/* Fill obj's columns from the row, starting at column `first` of the result. */
static void load_columns(void *obj, const struct table *t, struct db_rows *rows, int first)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct column *c = &t->columns[i];
		int col = first + (int)i;
		if (c->type == COL_TEXT)
			*(char **)field(obj, c) = g_strdup(db_col_text(rows, col));
		else if (c->type == COL_INT)
			*(int64_t *)field(obj, c) = db_col_int(rows, col);
		else
			g_strlcpy(field(obj, c), db_col_text(rows, col) ? db_col_text(rows, col) : "", JOBID_SIZE);
	}
}

static void free_columns(void *obj, const struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->columns[i].type == COL_TEXT)
			g_free(*(char **)field(obj, &t->columns[i]));
}

static struct db_param column_param(const void *obj, const struct column *c)
{
	if (c->type == COL_INT)
		return (struct db_param){.type = 'i', .integer = *(const int64_t *)field(obj, c)};
	const char *text = c->type == COL_TEXT ? *(char *const *)field(obj, c) : (const char *)field(obj, c);
	return (struct db_param){.type = 's', .text = text};
}

/* INSERT every column of obj into t. Rows changed or -1. */
static int insert_row(struct db *db, const struct table *t, const void *obj)
{
	g_autofree char *columns = column_list(t);
	GString *sql = g_string_new(NULL);
	g_string_printf(sql, "INSERT INTO %s (%s) VALUES (", t->name, columns);
	struct db_param *params = g_new0(struct db_param, t->n);
	for (size_t i = 0; i < t->n; i++) {
		g_string_append(sql, i ? ", ?" : "?");
		params[i] = column_param(obj, &t->columns[i]);
	}
	g_string_append_c(sql, ')');
	struct db_rows *rows = db_query_params(db, sql->str, params, (int)t->n);
	int ret = rows ? 0 : -1;
	while (rows && (ret = db_next(rows)) > 0)
		;
	if (ret == 0)
		ret = db_rows_changes(rows);
	db_rows_free(&rows);
	g_free(params);
	g_string_free(sql, TRUE);
	return ret;
}

/* ---- jobs ---- */

static char **text_field(struct job *job, const struct column *c)
{
	return field(job, c);
}

static int64_t *int_field(struct job *job, const struct column *c)
{
	return field(job, c);
}

static const char *select_list(void)
{
	static char *list;
	if (list == NULL) {
		g_autofree char *columns = column_list(&jobs_table);
		list = g_strdup_printf("id, state, %s", columns);
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
	free_columns(job, &jobs_table);
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
	load_columns(job, &jobs_table, rows, 2);
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

#define EVENT_COLUMNS "id, job_id, at, from_state, to_state, text, node"

static int load_events(struct store *store, struct db_rows *rows, GPtrArray **events_r)
{
	if (rows == NULL)
		return db_failed(store);
	GPtrArray *events = g_ptr_array_new();
	int ret;
	while ((ret = db_next(rows)) > 0) {
		struct job_event *ev = g_new0(struct job_event, 1);
		ev->id = db_col_int(rows, 0);
		g_strlcpy(ev->job_id, db_col_text(rows, 1), sizeof(ev->job_id));
		ev->at = db_col_int(rows, 2);
		ev->from_state = g_strdup(db_col_text(rows, 3));
		ev->to_state = g_strdup(db_col_text(rows, 4));
		ev->text = g_strdup(db_col_text(rows, 5));
		ev->node = g_strdup(db_col_text(rows, 6));
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

int store_job_events(struct store *store, const char *id, GPtrArray **events_r)
{
	return load_events(store,
			   db_query(store->db, "SELECT " EVENT_COLUMNS " FROM job_events WHERE job_id = ? ORDER BY id", "s", id),
			   events_r);
}

int store_events_after(struct store *store, int64_t after, const char *to_state, int limit, GPtrArray **events_r)
{
	return load_events(store,
			   db_query(store->db,
				    "SELECT " EVENT_COLUMNS " FROM job_events WHERE id > ? AND (? IS NULL OR to_state = ?)"
				    " ORDER BY id LIMIT ?",
				    "issi", after, to_state, to_state, (int64_t)limit),
			   events_r);
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

/* The end of a claim's transaction: commit, then load the claimed job. 1, 0 (none) or -1. */
static int end_claim(struct store *store, int ret, const char *id, struct job **job_r)
{
	if (ret < 0)
		db_failed(store);
	if (finish(store, ret < 0 ? -1 : 0) < 0)
		return -1;
	if (ret == 0)
		return 0;
	return store_job_get(store, id, job_r) > 0 ? 1 : -1;
}

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
	return end_claim(store, ret, id, job_r);
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
	return end_claim(store, ret, id, job_r);
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

/* ---- attempts and received faxes ---- */

int store_attempt_add(struct store *store, const struct attempt *a)
{
	return insert_row(store->db, &attempts_table, a) < 0 ? db_failed(store) : 0;
}

/* Rows of a query over t's columns (after `extra` leading columns handled by load_extra) into
   new structs of size `size`. */
static int load_list(struct store *store, const struct table *t, size_t size, struct db_rows *rows,
		     void (*load_extra)(void *obj, struct db_rows *rows), int extra, GPtrArray **list_r)
{
	if (rows == NULL)
		return db_failed(store);
	GPtrArray *list = g_ptr_array_new();
	int ret;
	while ((ret = db_next(rows)) > 0) {
		void *obj = g_malloc0(size);
		if (load_extra != NULL)
			load_extra(obj, rows);
		load_columns(obj, t, rows, extra);
		g_ptr_array_add(list, obj);
	}
	db_rows_free(&rows);
	*list_r = list;
	return ret < 0 ? db_failed(store) : 0;
}

static void free_list(GPtrArray **listp, const struct table *t)
{
	GPtrArray *list = *listp;
	for (guint i = 0; list != NULL && i < list->len; i++) {
		free_columns(list->pdata[i], t);
		g_free(list->pdata[i]);
	}
	if (list != NULL)
		g_ptr_array_free(list, TRUE);
	*listp = NULL;
}

static void load_attempt_id(void *obj, struct db_rows *rows)
{
	((struct attempt *)obj)->id = db_col_int(rows, 0);
}

int store_attempt_list(struct store *store, const char *job_id, GPtrArray **attempts_r)
{
	g_autofree char *columns = column_list(&attempts_table);
	g_autofree char *sql = g_strdup_printf("SELECT id, %s FROM attempts WHERE job_id = ? ORDER BY id", columns);
	int ret = load_list(store, &attempts_table, sizeof(struct attempt), db_query(store->db, sql, "s", job_id),
			    load_attempt_id, 1, attempts_r);
	if (ret < 0)
		store_attempts_free(attempts_r);
	return ret;
}

void store_attempts_free(GPtrArray **attemptsp)
{
	free_list(attemptsp, &attempts_table);
}

int store_inbound_insert(struct store *store, struct inbound *in)
{
	if (in->id[0] == '\0')
		jobid_new(JOBID_PREFIX_INBOUND, in->id);
	char *state = in->state;
	if (state == NULL)
		in->state = "received";
	int ret = insert_row(store->db, &inbound_table, in);
	in->state = state;
	return ret < 0 ? db_failed(store) : 0;
}

int store_inbound_list(struct store *store, int limit, GPtrArray **inbound_r)
{
	g_autofree char *columns = column_list(&inbound_table);
	g_autofree char *sql = g_strdup_printf("SELECT %s FROM inbound ORDER BY id DESC LIMIT ?", columns);
	int ret = load_list(store, &inbound_table, sizeof(struct inbound), db_query(store->db, sql, "i", (int64_t)limit),
			    NULL, 0, inbound_r);
	if (ret < 0)
		store_inbound_list_free(inbound_r);
	return ret;
}

int store_inbound_in_state(struct store *store, const char *state, int limit, GPtrArray **inbound_r)
{
	g_autofree char *columns = column_list(&inbound_table);
	g_autofree char *sql = g_strdup_printf("SELECT %s FROM inbound WHERE state = ? ORDER BY id LIMIT ?", columns);
	int ret = load_list(store, &inbound_table, sizeof(struct inbound),
			    db_query(store->db, sql, "si", state, (int64_t)limit), NULL, 0, inbound_r);
	if (ret < 0)
		store_inbound_list_free(inbound_r);
	return ret;
}

int store_inbound_set_state(struct store *store, const char *id, const char *from, const char *to)
{
	int changed = db_exec(store->db, "UPDATE inbound SET state = ? WHERE id = ? AND state = ?", "sss", to, id, from);
	return changed < 0 ? db_failed(store) : changed;
}

void store_inbound_list_free(GPtrArray **inboundp)
{
	free_list(inboundp, &inbound_table);
}
