/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The render daemon (bin/render, started by `faxgate run`). Untrusted content — MIME, PDFs,
 * images, office files — is never parsed here: each job is converted by a fresh process
 * (`render convert DIR`, conversion.c) that runs as an unprivileged user when we are root, in a
 * session of its own (so Ghostscript or LibreOffice under it die with it), with limits on
 * memory, CPU time, file size and open files, and a wall-clock timeout after which the whole
 * group is killed. No shell is involved. Up to [render] workers conversions run at once.
 * The daemon holds a lease on each job it converts; when it dies the lease runs out and another
 * worker takes the job. Only after the pages are stored does the job move to `queued`.
 */
#include "render/worker.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/store.h"
#include "coverpages/cover.h"

struct running {
	struct job *job;
	pid_t pid;
	char *dir;
	int64_t deadline; /* monotonic seconds */
	bool killed;
};

struct worker {
	const struct config *config;
	struct store *store;
	char *bin_path, *node, *spool;
	GHashTable *running; /* pid -> struct running * */
	int max_running, sigfd, chldfd; /* chldfd: SIGCHLD wakes the loop when a conversion ends */
	int64_t timeout, lease;
	uid_t uid;
	gid_t gid;
	bool drop_privileges;
};

static int64_t now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static int64_t mono_s(void)
{
	return g_get_monotonic_time() / G_USEC_PER_SEC;
}

static int lookup_user(struct worker *w, const char **error_r)
{
	static char error[200];
	if (getuid() != 0)
		return 0;
	const char *name = config_str(w->config, "render", "user");
	struct passwd *pw = getpwnam(name);
	if (pw == NULL || pw->pw_uid == 0) {
		snprintf(error, sizeof(error), "[render] user %s: no such unprivileged user", name);
		*error_r = error;
		return -1;
	}
	w->uid = pw->pw_uid;
	w->gid = pw->pw_gid;
	w->drop_privileges = true;
	return 0;
}

static void remove_tree(const char *path)
{
	gchar *argv[] = {"rm", "-rf", "--", (gchar *)path, NULL};
	g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
		     NULL, NULL, NULL, NULL, NULL);
}

/* Work directories of render daemons that are no longer running (killed, crashed). */
static void remove_stale_work_dirs(void)
{
	GDir *dir = g_dir_open(g_get_tmp_dir(), 0, NULL);
	const char *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		char *end = NULL;
		if (!g_str_has_prefix(name, "faxgate-render-"))
			continue;
		long pid = strtol(name + strlen("faxgate-render-"), &end, 10);
		if (end == NULL || *end != '\0' || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		g_autofree char *path = g_build_filename(g_get_tmp_dir(), name, NULL);
		remove_tree(path);
	}
	if (dir != NULL)
		g_dir_close(dir);
}

struct worker *worker_create(const struct config *config, const char *bin_path, const char **error_r)
{
	static char error[400];
	struct worker *w = g_new0(struct worker, 1);
	/* Signals first: a SIGTERM during start-up must not kill us with a child (rm) running. */
	w->sigfd = signals_block_fd();
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	w->chldfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	w->config = config;
	w->bin_path = g_strdup(bin_path);
	const char *node = config_str(config, "faxgate", "node");
	w->node = g_strdup(*node ? node : g_get_host_name());
	/* Work directories live apart from $FAXGATE_HOME: the render user must reach them, and
	   nothing of the store or the spool should be reachable from a conversion. One directory per
	   daemon, named by its pid, so those of daemons that died can be recognised and removed. */
	remove_stale_work_dirs();
	w->spool = g_strdup_printf("%s/faxgate-render-%ld", g_get_tmp_dir(), (long)getpid());
	remove_tree(w->spool);
	if (g_mkdir(w->spool, 0711) < 0) {
		g_free(w->spool);
		w->spool = NULL;
	}
	w->running = g_hash_table_new(g_direct_hash, g_direct_equal);

	int workers = (int)config_int(config, "render", "workers");
	w->max_running = workers > 0 ? workers : (int)g_get_num_processors();
	w->timeout = config_int(config, "render", "timeout");
	w->lease = w->timeout * 2 + 30;
	if (w->spool == NULL || g_chmod(w->spool, 0711) < 0) {
		snprintf(error, sizeof(error), "cannot create a render work directory: %s", g_strerror(errno));
		*error_r = error;
		worker_free(&w);
		return NULL;
	}
	if (w->sigfd < 0 || lookup_user(w, error_r) < 0 || store_open(config, &w->store, error_r) < 0) {
		worker_free(&w);
		return NULL;
	}
	return w;
}

void worker_free(struct worker **workerp)
{
	struct worker *w = *workerp;
	if (w == NULL)
		return;
	if (w->spool != NULL)
		remove_tree(w->spool);
	store_close(&w->store);
	g_hash_table_destroy(w->running);
	if (w->sigfd >= 0)
		close(w->sigfd);
	if (w->chldfd >= 0)
		close(w->chldfd);
	g_free(w->bin_path);
	g_free(w->node);
	g_free(w->spool);
	g_free(w);
	*workerp = NULL;
}

/* ---- preparing a job ---- */

static void put_field(GKeyFile *kf, const char *name, const char *value)
{
	if (value != NULL && *value != '\0')
		g_key_file_set_string(kf, "fields", name, value);
}

/* The page header line text for spandsp: the job's own (already expanded at submission, "" for
   none) or the configured template filled from the job. NULL: no header line. */
static char *header_info_for(struct worker *w, const struct job *job)
{
	if (job->header_line != NULL && *job->header_line == '\0')
		return NULL;
	GHashTable *fields = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, job->fields);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_insert(fields, k, v);
	if (job->recipient_name)
		g_hash_table_insert(fields, "recipient_name", job->recipient_name);
	if (job->recipient_company)
		g_hash_table_insert(fields, "recipient_company", job->recipient_company);
	g_hash_table_insert(fields, "number", job->number);
	if (!g_hash_table_contains(fields, "sender_name") && job->owner)
		g_hash_table_insert(fields, "sender_name", job->owner);
	const char *tmpl = job->header_line ? job->header_line : config_str(w->config, "render", "header_line");
	char *info = cover_header_info(tmpl, fields);
	g_hash_table_destroy(fields);
	return info;
}

/* The job's settings and the cover fields, for the child. */
static GKeyFile *job_ini(struct worker *w, const struct job *job)
{
	const struct config *cfg = w->config;
	GKeyFile *kf = g_key_file_new();
	g_key_file_set_string(kf, "job", "id", job->id);
	g_key_file_set_string(kf, "job", "resolution", job->resolution ? job->resolution : config_str(cfg, "render", "resolution"));
	g_key_file_set_string(kf, "job", "paper", job->paper ? job->paper : config_str(cfg, "render", "paper"));
	g_key_file_set_string(kf, "job", "cover", config_str(cfg, "render", "cover"));
	g_key_file_set_string(kf, "job", "body", config_str(cfg, "render", "body"));
	g_autofree char *header = header_info_for(w, job);
	g_key_file_set_string(kf, "job", "header_info", header ? header : "");
	g_key_file_set_integer(kf, "job", "max_pages", (int)config_int(cfg, "render", "max_pages"));
	g_key_file_set_integer(kf, "job", "timeout", (int)w->timeout);
	const char *const *dirs = config_list(cfg, "render", "cover_dirs");
	g_key_file_set_string_list(kf, "job", "cover_dirs", dirs, g_strv_length((char **)dirs));
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, job->fields);
	while (g_hash_table_iter_next(&it, &k, &v))
		put_field(kf, k, v);
	put_field(kf, "number", job->number);
	put_field(kf, "recipient_name", job->recipient_name);
	put_field(kf, "recipient_company", job->recipient_company);
	if (!g_hash_table_contains(job->fields, "sender_email"))
		put_field(kf, "sender_email", job->owner);
	if (!g_hash_table_contains(job->fields, "sender_name"))
		put_field(kf, "sender_name", job->owner);
	return kf;
}

/* The work directory with message.eml and job.ini, owned by the conversion's user. */
static char *prepare(struct worker *w, const struct job *job, const char **error_r)
{
	char *dir = g_build_filename(w->spool, job->id, NULL);
	void *data = NULL;
	size_t len = 0;
	int found = store_document_get(w->store, job->message_doc, &data, &len, NULL);
	g_autofree char *msg = g_build_filename(dir, "message.eml", NULL), *ini = g_build_filename(dir, "job.ini", NULL);
	GKeyFile *kf = job_ini(w, job);
	int ret = found > 0 ? 0 : -1;
	*error_r = found < 0 ? store_error(w->store) : "the job has no message";
	if (ret == 0 && (g_mkdir_with_parents(dir, 0700) < 0 || !g_file_set_contents(msg, data, (gssize)len, NULL) ||
			 !g_key_file_save_to_file(kf, ini, NULL))) {
		*error_r = "cannot write the work directory";
		ret = -1;
	}
	if (ret == 0 && w->drop_privileges &&
	    (chown(dir, w->uid, w->gid) < 0 || chown(msg, w->uid, w->gid) < 0 || chown(ini, w->uid, w->gid) < 0)) {
		*error_r = "cannot hand the work directory to the render user";
		ret = -1;
	}
	g_key_file_free(kf);
	g_free(data);
	if (ret < 0) {
		g_free(dir);
		return NULL;
	}
	return dir;
}

/* ASan reserves terabytes of address space for its shadow memory: an RLIMIT_AS makes a
   sanitizer build abort at start. */
#if defined(__SANITIZE_ADDRESS__)
#define RENDER_LIMIT_ADDRESS_SPACE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RENDER_LIMIT_ADDRESS_SPACE 0
#endif
#endif
#ifndef RENDER_LIMIT_ADDRESS_SPACE
#define RENDER_LIMIT_ADDRESS_SPACE 1
#endif

static void limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};
	setrlimit(resource, &rl);
}

/* In the child, before exec: own session, limits, unprivileged user. */
static void confine(struct worker *w, const char *dir)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (RENDER_LIMIT_ADDRESS_SPACE) /* XXX not under ASan (make check): see above */
		limit(RLIMIT_AS, (rlim_t)config_int(w->config, "render", "memory_limit_mb") << 20);
	limit(RLIMIT_CPU, (rlim_t)w->timeout + 5);
	limit(RLIMIT_FSIZE, (rlim_t)512 << 20);
	limit(RLIMIT_NOFILE, 256);
	limit(RLIMIT_CORE, 0);
	if (chdir(dir) < 0)
		_exit(75);
	if (w->drop_privileges && (setgroups(0, NULL) < 0 || setgid(w->gid) < 0 || setuid(w->uid) < 0))
		_exit(75);
	setenv("HOME", dir, 1);
	setenv("TMPDIR", dir, 1);
}

static void start(struct worker *w, struct job *job)
{
	const char *error = NULL;
	char *dir = prepare(w, job, &error);
	if (dir == NULL) {
		log_job(LOG_LEVEL_ERROR, job->id, "render: %s", error);
		store_job_free(&job);
		return; /* the lease runs out; it will be tried again */
	}
	pid_t pid = fork();
	if (pid == 0) {
		confine(w, dir);
		execl(w->bin_path, "render", "convert", dir, (char *)NULL);
		_exit(75);
	}
	if (pid < 0) {
		log_job(LOG_LEVEL_ERROR, job->id, "render: fork: %s", g_strerror(errno));
		store_job_free(&job);
		g_free(dir);
		return;
	}
	struct running *r = g_new0(struct running, 1);
	r->job = job;
	r->pid = pid;
	r->dir = dir;
	r->deadline = mono_s() + w->timeout;
	g_hash_table_insert(w->running, GINT_TO_POINTER(pid), r);
	log_job(LOG_LEVEL_INFO, job->id, "render: started pid=%ld resolution=%s", (long)pid,
		job->resolution ? job->resolution : config_str(w->config, "render", "resolution"));
}

/* ---- finishing a job ---- */

static void end_job(struct worker *w, struct job *job, enum job_state to, const char *code, const char *text)
{
	job->state = to;
	g_free(job->lease_owner);
	job->lease_owner = NULL;
	job->lease_until = 0;
	g_free(job->result_code);
	job->result_code = g_strdup(code);
	g_free(job->result_text);
	job->result_text = g_strdup(text);
	if (job_state_final(to))
		job->completed_at = now_s();
	if (store_job_save(w->store, job, JOB_STATE_RENDERING, w->node, text ? text : "rendered") < 0)
		log_job(LOG_LEVEL_WARNING, job->id, "render: not saved: %s", store_error(w->store));
}

static int store_pages(struct worker *w, struct job *job, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	struct stat st;
	int ret = fstat(fileno(f), &st) == 0 ? 0 : -1;
	if (ret == 0)
		ret = store_document_put_fd(w->store, "pages", "image/tiff", fileno(f), (uint64_t)st.st_size, &job->pages_doc);
	fclose(f);
	return ret;
}

static void finished(struct worker *w, struct running *r, int status)
{
	struct job *job = r->job;
	g_autofree char *result_path = g_build_filename(r->dir, "result.ini", NULL);
	g_autofree char *pages_path = g_build_filename(r->dir, "pages.tiff", NULL);
	GKeyFile *result = g_key_file_new();
	bool have_result = g_key_file_load_from_file(result, result_path, G_KEY_FILE_NONE, NULL);
	g_autofree char *status_text = have_result ? g_key_file_get_string(result, "result", "status", NULL) : NULL;
	if (r->killed) {
		g_autofree char *why = g_strdup_printf("conversion took longer than %llds and was stopped", (long long)w->timeout);
		end_job(w, job, JOB_STATE_FAILED, "format-failed", why);
	} else if (g_strcmp0(status_text, "ok") == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		job->pages_total = g_key_file_get_integer(result, "result", "pages", NULL);
		job->pages_done = 0;
		char *header = header_info_for(w, job);
		g_free(job->header_line);
		job->header_line = header ? header : g_strdup("");
		job->next_try_at = MAX(job->next_try_at, job->send_at);
		if (store_pages(w, job, pages_path) < 0) {
			log_job(LOG_LEVEL_ERROR, job->id, "render: pages not stored: %s", store_error(w->store));
		} else {
			end_job(w, job, JOB_STATE_QUEUED, NULL, NULL);
			log_job(LOG_LEVEL_INFO, job->id, "render: pages=%lld state=queued", (long long)job->pages_total);
		}
	} else if (have_result && WIFEXITED(status) && WEXITSTATUS(status) == 65) {
		g_autofree char *reason = g_key_file_get_string(result, "result", "reason", NULL);
		g_autofree char *part = g_key_file_get_string(result, "result", "part", NULL);
		g_autofree char *type = g_key_file_get_string(result, "result", "type", NULL);
		g_autofree char *text = part ? g_strdup_printf("%s (%s): %s", part, type ? type : "?", reason)
					     : g_strdup(reason ? reason : "cannot be converted");
		end_job(w, job, JOB_STATE_FAILED, "format-failed", text);
		log_job(LOG_LEVEL_INFO, job->id, "render: failed: %s", text);
	} else {
		/* the child crashed or hit a limit: the message is what killed it */
		g_autofree char *why = WIFSIGNALED(status)
					       ? g_strdup_printf("conversion killed by %s (a limit or a crash)", strsignal(WTERMSIG(status)))
					       : g_strdup_printf("conversion failed (exit %d)", WEXITSTATUS(status));
		end_job(w, job, JOB_STATE_FAILED, "format-failed", why);
		log_job(LOG_LEVEL_WARNING, job->id, "render: %s", why);
	}
	g_key_file_free(result);
	remove_tree(r->dir); /* it holds the message */
}

static void reap(struct worker *w)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct running *r = g_hash_table_lookup(w->running, GINT_TO_POINTER(pid));
		if (r == NULL)
			continue;
		g_hash_table_remove(w->running, GINT_TO_POINTER(pid));
		finished(w, r, status);
		store_job_free(&r->job);
		g_free(r->dir);
		g_free(r);
	}
}

static void enforce_timeouts(struct worker *w)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, w->running);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct running *r = v;
		if (!r->killed && mono_s() >= r->deadline) {
			r->killed = true;
			kill(-r->pid, SIGKILL); /* the whole session: gs, soffice */
			kill(r->pid, SIGKILL);
		} else if (!r->killed) {
			store_lease_renew(w->store, r->job->id, w->node, now_s() + w->lease);
		}
	}
}

static void claim(struct worker *w)
{
	while ((int)g_hash_table_size(w->running) < w->max_running) {
		struct job *job = NULL;
		int ret = store_claim_rendering(w->store, w->node, now_s(), w->lease, &job);
		if (ret < 0)
			log_error("render: claim: %s", store_error(w->store));
		if (ret <= 0)
			return;
		start(w, job);
	}
}

int worker_run(struct worker *w)
{
	log_info("status=running workers=%d", w->max_running);
	for (;;) {
		reap(w);
		enforce_timeouts(w);
		claim(w);
		struct pollfd pfd[2] = {{.fd = w->sigfd, .events = POLLIN}, {.fd = w->chldfd, .events = POLLIN}};
		if (poll(pfd, 2, 500) > 0) {
			struct signalfd_siginfo si;
			while (read(w->chldfd, &si, sizeof(si)) > 0)
				; /* reaped at the top of the loop */
			if ((pfd[0].revents & POLLIN) && read(w->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
			    si.ssi_signo != SIGHUP)
				break;
		}
	}
	log_info("status=stopping conversions=%u", g_hash_table_size(w->running));
	/* conversions in progress are abandoned: their leases run out and they are done again */
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, w->running);
	while (g_hash_table_iter_next(&it, &k, &v))
		kill(-((struct running *)v)->pid, SIGKILL);
	return 0;
}
