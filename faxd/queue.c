/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxd's queue runner, one thread: poll the lines' eventfd and a signalfd, and once per
 * poll_interval expire overdue jobs, hang up calls whose job was cancelled, renew leases, and
 * claim due jobs while a line has a free channel. A claimed job's pages (a TIFF-F in the store)
 * are written to the spool and handed to the line; the line calls back (on this thread, from
 * lines_dispatch) with progress and the final report, and retry_decide() says what becomes of
 * the job. Every confirmed page is persisted at once (store_job_progress), so a retry — after a
 * hang-up or a crash of this process — sends only the pages the far end has not confirmed.
 * Received calls are answered on lines that take them and stored as inbound faxes (inbound.c).
 */
#include "faxd/queue.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/store.h"
#include "faxd/receiver.h"
#include "faxd/line.h"
#include "faxd/retry.h"

struct active_call {
	struct queue *queue;
	struct job *job;
	struct call *call;
	char *line;
	char *tiff;
	int64_t started_at, renewed_at;
	int first_page;
	bool hung_up;
	bool hung_up_by_operator;
};

struct queue {
	const struct config *config;
	struct store *store;
	struct lines *lines;
	struct receiver *receiver;
	struct retry_policy policy;
	char *node;
	char *spool;
	int64_t lease, poll_interval;
	int max_per_destination;
	GHashTable *active; /* job id -> struct active_call * */
	int sigfd;
	bool stopping;
	char *status_path;
};

static int64_t now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static char *node_name(const struct config *config)
{
	const char *node = config_str(config, "faxgate", "node");
	return g_strdup(*node != '\0' ? node : g_get_host_name());
}

struct queue *queue_create(const struct config *config, const char **error_r)
{
	static char error[600];
	struct queue *q = g_new0(struct queue, 1);
	q->config = config;
	q->node = node_name(config);
	q->spool = g_build_filename(config_home(config), "spool", NULL);
	q->status_path = g_build_filename(config_home(config), "run", "faxd.status", NULL);
	q->lease = config_int(config, "faxd", "lease");
	q->poll_interval = config_int(config, "faxd", "poll_interval");
	q->max_per_destination = (int)config_int(config, "faxd", "max_calls_per_destination");
	q->active = g_hash_table_new(g_str_hash, g_str_equal);
	q->sigfd = -1;
	retry_policy_from_config(config, &q->policy);
	if ((q->sigfd = signals_block_fd()) < 0) {
		snprintf(error, sizeof(error), "signalfd: %s", g_strerror(errno));
		*error_r = error;
		queue_free(&q);
		return NULL;
	}
	g_autofree char *run_dir = g_path_get_dirname(q->status_path);
	if (g_mkdir_with_parents(q->spool, 0750) < 0 || g_mkdir_with_parents(run_dir, 0750) < 0) {
		snprintf(error, sizeof(error), "cannot create %s: %s", q->spool, g_strerror(errno));
		*error_r = error;
		queue_free(&q);
		return NULL;
	}
	if (store_open(config, &q->store, error_r) < 0) {
		queue_free(&q);
		return NULL;
	}
	q->receiver = receiver_create(config, q->store, q->spool);
	struct lines_callbacks cb = {.incoming = receiver_offer, .incoming_done = receiver_done, .ctx = q->receiver};
	q->lines = lines_create(config, &cb, error_r);
	if (q->lines == NULL) {
		queue_free(&q);
		return NULL;
	}
	return q;
}

void queue_free(struct queue **queuep)
{
	struct queue *q = *queuep;
	if (q == NULL)
		return;
	lines_free(&q->lines); /* hangs up every call; each call still gets its done() (as cancelled) */
	receiver_free(&q->receiver);
	store_close(&q->store);
	g_hash_table_destroy(q->active);
	if (q->sigfd >= 0)
		close(q->sigfd);
	g_free(q->node);
	g_free(q->spool);
	g_free(q->status_path);
	g_free(q);
	*queuep = NULL;
}

static void active_free(struct active_call *ac)
{
	store_job_free(&ac->job);
	g_free(ac->line);
	g_free(ac->tiff);
	g_free(ac);
}

/* ---- after a call ---- */

static void record_attempt(struct queue *q, struct active_call *ac, const struct fax_report *r)
{
	struct attempt a = {
		.line = ac->line, .outcome = (char *)fax_outcome_name(r->outcome), .result_text = (char *)r->text,
		.remote_ident = (char *)r->remote_ident, .started_at = ac->started_at, .ended_at = now_s(),
		.result_code = r->t30_code, .first_page = ac->first_page, .pages_sent = r->pages_done,
		.pages_total = r->pages_total, .bit_rate = r->bit_rate, .ecm = r->ecm,
	};
	g_strlcpy(a.job_id, ac->job->id, sizeof(a.job_id));
	if (store_attempt_add(q->store, &a) < 0)
		log_job(LOG_LEVEL_ERROR, ac->job->id, "attempt not recorded: %s", store_error(q->store));
}

static void apply_decision(struct queue *q, struct job *job, const struct fax_report *r)
{
	struct retry_decision d;
	retry_decide(&q->policy, job, r, now_s(), &d);
	job->state = d.state;
	job->dials++;
	job->tries += d.counts_as_try;
	job->disable_v17 = d.disable_v17;
	g_free(job->result_code);
	job->result_code = g_strdup(d.result_code);
	g_free(job->result_text);
	job->result_text = g_strdup(d.result_text);
	g_free(job->lease_owner);
	job->lease_owner = NULL;
	job->lease_until = 0;
	g_free(job->progress);
	job->progress = NULL;
	if (r->remote_ident[0] != '\0') {
		g_free(job->remote_ident);
		job->remote_ident = g_strdup(r->remote_ident);
	}
	if (d.state == JOB_STATE_DEFERRED)
		job->next_try_at = d.next_try_at;
	if (job_state_final(d.state))
		job->completed_at = now_s();
}

/* A far end that cannot take the resolution gets the job again at standard, when the job's
   pages come from a message the render worker can render again. */
static bool wants_rerender(const struct job *job, const struct fax_report *r)
{
	return r->outcome == FAX_OUTCOME_INCOMPATIBLE && job->message_doc > 0 && g_strcmp0(job->resolution, "standard") != 0 &&
	       strstr(r->text, "resolution") != NULL;
}

static void call_done(void *ctx, const struct fax_report *r)
{
	struct active_call *ac = ctx;
	struct queue *q = ac->queue;
	struct job *job = ac->job;
	g_hash_table_remove(q->active, job->id);
	char remote[64];
	log_printable(remote, sizeof(remote), r->remote_ident, strlen(r->remote_ident));
	/* A hang-up we made because the job was cancelled: the store says cancelled already. */
	job->pages_done = MAX(job->pages_done, ac->first_page - 1 + r->pages_done);
	record_attempt(q, ac, r);
	if (q->stopping && !ac->hung_up_by_operator) {
		/* faxd is stopping: the job waits for the next faxd, with the pages already confirmed */
		job->state = JOB_STATE_QUEUED;
		job->next_try_at = now_s();
		g_free(job->lease_owner);
		job->lease_owner = NULL;
		job->lease_until = 0;
		g_free(job->result_text);
		job->result_text = g_strdup("faxd stopped during the call; back to the queue");
	} else if (wants_rerender(job, r)) {
		/* the far end refused the resolution: the render worker makes the pages again */
		job->state = JOB_STATE_RENDERING;
		g_free(job->resolution);
		job->resolution = g_strdup("standard");
		job->pages_done = 0;
		job->dials++;
		g_free(job->lease_owner);
		job->lease_owner = NULL;
		job->lease_until = 0;
		g_free(job->result_text);
		job->result_text = g_strdup_printf("%s; rendering again at standard resolution", r->text);
		if (ac->tiff != NULL)
			g_unlink(ac->tiff);
	} else {
		apply_decision(q, job, r);
	}
	log_job(LOG_LEVEL_INFO, job->id,
		"fax to=%s line=%s pages=%lld/%lld rate=%d ecm=%d result=%s remote_csid=\"%s\" state=%s text=\"%s\"",
		job->number, ac->line, (long long)job->pages_done, (long long)job->pages_total, r->bit_rate, r->ecm,
		fax_outcome_name(r->outcome), remote, job_state_name(job->state), job->result_text);
	if (store_job_save(q->store, job, JOB_STATE_SENDING, q->node, job->result_text) < 0)
		log_job(ac->hung_up_by_operator ? LOG_LEVEL_INFO : LOG_LEVEL_WARNING, job->id, "not saved: %s",
			store_error(q->store));
	if (ac->tiff != NULL && (job_state_final(job->state) || q->stopping))
		g_unlink(ac->tiff);
	active_free(ac);
}

static void call_progress(void *ctx, const struct call_progress *p)
{
	struct active_call *ac = ctx;
	struct queue *q = ac->queue;
	g_autofree char *text = g_strdup_printf("phase=%s page=%d pages=%d rate=%d", p->phase,
						ac->first_page - 1 + p->page, (int)ac->job->pages_total, p->bit_rate);
	int64_t confirmed = ac->job->pages_done;
	if (strcmp(p->phase, "page") == 0)
		confirmed = MAX(confirmed, ac->first_page - 1 + p->page);
	if (store_job_progress(q->store, ac->job->id, q->node, confirmed, text) < 0 && !ac->hung_up) {
		log_job(LOG_LEVEL_INFO, ac->job->id, "hanging up: %s", store_error(q->store));
		ac->hung_up = ac->hung_up_by_operator = true;
		call_hangup(ac->call);
	}
}

/* ---- starting a call ---- */

/* Write the job's pages to the spool (once per job; a retry reuses the file). */
static char *spool_document(struct queue *q, const struct job *job, const char **error_r)
{
	char *path = g_strdup_printf("%s/%s.tiff", q->spool, job->id);
	if (g_file_test(path, G_FILE_TEST_EXISTS))
		return path;
	void *data = NULL;
	size_t len = 0;
	int found = job->pages_doc > 0 ? store_document_get(q->store, job->pages_doc, &data, &len, NULL) : 0;
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	GError *error = NULL;
	if (found <= 0) {
		*error_r = found < 0 ? store_error(q->store) : "the job has no pages";
	} else if (!g_file_set_contents(tmp, data, (gssize)len, &error) || g_rename(tmp, path) < 0) {
		*error_r = error ? error->message : g_strerror(errno);
		found = -1;
	}
	g_free(data);
	if (found <= 0) {
		g_clear_error(&error);
		g_free(path);
		return NULL;
	}
	return path;
}

/* The job cannot be started (no pages): it ends here with a clear reason. */
static void fail_without_call(struct queue *q, struct job *job, const char *why)
{
	job->state = JOB_STATE_FAILED;
	g_free(job->result_code);
	job->result_code = g_strdup("document");
	g_free(job->result_text);
	job->result_text = g_strdup(why);
	job->completed_at = now_s();
	log_job(LOG_LEVEL_WARNING, job->id, "failed: %s", why);
	if (store_job_save(q->store, job, JOB_STATE_SENDING, q->node, why) < 0)
		log_job(LOG_LEVEL_WARNING, job->id, "not saved: %s", store_error(q->store));
}

/* Put a claimed job back without a call (no line free after all). */
static void unclaim(struct queue *q, struct job *job)
{
	job->state = JOB_STATE_QUEUED;
	g_free(job->lease_owner);
	job->lease_owner = NULL;
	job->lease_until = 0;
	job->next_try_at = now_s() + q->poll_interval;
	if (store_job_save(q->store, job, JOB_STATE_SENDING, q->node, "no line free; back to the queue") < 0)
		log_job(LOG_LEVEL_WARNING, job->id, "not saved: %s", store_error(q->store));
}

static void start_call(struct queue *q, struct line *line, struct job *job)
{
	const char *error = NULL;
	struct active_call *ac = g_new0(struct active_call, 1);
	ac->queue = q;
	ac->job = job;
	ac->line = g_strdup(line_name(line));
	ac->started_at = ac->renewed_at = now_s();
	ac->first_page = (int)job->pages_done + 1;
	ac->tiff = spool_document(q, job, &error);
	if (ac->tiff == NULL) {
		fail_without_call(q, job, error);
		active_free(ac);
		return;
	}
	struct call_request req = {
		.job_id = job->id, .number = job->number, .dial = job->dial ? job->dial : job->number,
		.tiff = ac->tiff, .first_page = ac->first_page, .last_page = 0, .ident = job->tsi,
		.header_info = job->header_line && *job->header_line ? job->header_line : NULL, .disable_v17 = job->disable_v17 != 0,
		.disable_ecm = job->disable_ecm != 0, .progress = call_progress, .done = call_done, .ctx = ac,
	};
	g_hash_table_insert(q->active, job->id, ac);
	if (line_place_call(line, &req, &ac->call, &error) < 0) {
		g_hash_table_remove(q->active, job->id);
		log_job(LOG_LEVEL_WARNING, job->id, "line=%s cannot call: %s", ac->line, error);
		ac->job = NULL;
		unclaim(q, job);
		store_job_free(&job);
		active_free(ac);
		return;
	}
	log_job(LOG_LEVEL_INFO, job->id, "dialing to=%s line=%s pages=%d-%lld try=%lld", job->number, ac->line,
		ac->first_page, (long long)job->pages_total, (long long)job->tries + 1);
}

static void claim_and_start(struct queue *q)
{
	for (;;) {
		struct line *line = lines_pick(q->lines, NULL);
		if (line == NULL)
			return;
		struct job *job = NULL;
		int ret = store_claim_due(q->store, q->node, now_s(), q->lease, q->max_per_destination, &job);
		if (ret < 0)
			log_error("claim: %s", store_error(q->store));
		if (ret <= 0)
			return;
		if (job->line != NULL && lines_get(q->lines, job->line) != NULL) {
			struct line *wanted = lines_pick(q->lines, job->line);
			if (wanted == NULL || strcmp(line_name(wanted), job->line) != 0) {
				unclaim(q, job); /* its line is busy: wait for it */
				store_job_free(&job);
				continue;
			}
			line = wanted;
		}
		start_call(q, line, job);
	}
}

/* ---- housekeeping ---- */

/* Hang up calls whose job is no longer ours (cancelled, expired by an operator) and renew the
   leases of the others. */
static void watch_active(struct queue *q)
{
	int64_t now = now_s();
	GHashTableIter iter;
	gpointer key, value;
	g_hash_table_iter_init(&iter, q->active);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		struct active_call *ac = value;
		struct job *current = NULL;
		bool ours = store_job_get(q->store, ac->job->id, &current) > 0 && current->state == JOB_STATE_SENDING &&
			    g_strcmp0(current->lease_owner, q->node) == 0;
		store_job_free(&current);
		if (!ours && !ac->hung_up) {
			log_job(LOG_LEVEL_INFO, ac->job->id, "hanging up: the job was changed by an operator");
			ac->hung_up = ac->hung_up_by_operator = true;
			call_hangup(ac->call);
		} else if (ours && now - ac->renewed_at >= q->lease / 3) {
			if (store_lease_renew(q->store, ac->job->id, q->node, now + q->lease) == 0)
				ac->renewed_at = now;
		}
	}
}

static void write_status(struct queue *q)
{
	char *calls = NULL;
	if (lines_snapshot(q->lines, &calls) < 0)
		return;
	struct lines_stats st;
	lines_get_stats(q->lines, &st);
	/* the media clock's health under the calls: missed 20 ms deadlines, longest tick */
	g_autofree char *text = g_strdup_printf("%smedia: calls %d ticks %llu missed %llu late %llu longest %.1f ms cpu %.1f s\n",
						*calls != '\0' ? calls : "no calls\n", st.active_calls,
						(unsigned long long)st.ticks, (unsigned long long)st.missed_deadlines,
						(unsigned long long)st.late_ticks, st.max_tick_ms, st.media_cpu_s);
	g_free(calls);
	g_autofree char *tmp = g_strconcat(q->status_path, ".tmp", NULL);
	if (g_file_set_contents(tmp, text, -1, NULL))
		g_rename(tmp, q->status_path);
}

static void housekeeping(struct queue *q)
{
	int expired = store_expire_due(q->store, now_s(), q->node);
	if (expired > 0)
		log_info("expired=%d", expired);
	watch_active(q);
	if (!q->stopping)
		claim_and_start(q);
	write_status(q);
}


/* Stop: hang up every call and let their reports come back (bounded wait). */
static void drain(struct queue *q)
{
	q->stopping = true;
	GHashTableIter iter;
	gpointer key, value;
	g_hash_table_iter_init(&iter, q->active);
	while (g_hash_table_iter_next(&iter, &key, &value))
		call_hangup(((struct active_call *)value)->call);
	int64_t deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
	while (g_hash_table_size(q->active) > 0 && g_get_monotonic_time() < deadline) {
		struct pollfd pfd = {.fd = lines_fd(q->lines), .events = POLLIN};
		poll(&pfd, 1, 100);
		lines_dispatch(q->lines);
	}
}

int queue_run(struct queue *q)
{
	int released = store_release_leases(q->store, q->node);
	if (released > 0)
		log_info("node=%s released=%d leases from an earlier run", q->node, released);
	log_info("status=running node=%s", q->node);
	int64_t next_housekeeping = 0;
	for (;;) {
		int64_t now_ms = g_get_monotonic_time() / 1000;
		if (now_ms >= next_housekeeping) {
			housekeeping(q);
			next_housekeeping = now_ms + q->poll_interval * 1000;
		}
		struct pollfd pfds[2] = {{.fd = lines_fd(q->lines), .events = POLLIN}, {.fd = q->sigfd, .events = POLLIN}};
		int n = poll(pfds, 2, (int)MAX(0, next_housekeeping - g_get_monotonic_time() / 1000));
		if (n < 0 && errno != EINTR)
			break;
		if (pfds[0].revents & POLLIN)
			lines_dispatch(q->lines);
		if (pfds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(q->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGHUP)
				break;
		}
	}
	log_info("status=stopping calls=%u", g_hash_table_size(q->active));
	drain(q);
	return 0;
}
