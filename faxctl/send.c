/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxctl send, loop-call and watch: submit a TIFF-F document as a fax job (the number goes
 * through the dial rules; the pages through tiffcat's checks) and, with --wait, follow the job
 * with a progress line until it ends: exit 0 only when every page was delivered.
 */
#include <errno.h>
#include <getopt.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dialrules.h"
#include "common/store.h"
#include "faxctl/faxctl.h"
#include "faxctl/tiffcat.h"
#include "faxd/line.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_TEMPFAIL 75

struct send_options {
	const char *to, *line, *header;
	int priority;
	const char *cover;
	int64_t expires; /* seconds from now; 0: [retry] expire */
	int64_t send_at; /* Unix time; 0: now */
	bool wait;
};

/* RFC 3339 / ISO 8601 ("2026-11-24T08:00:00Z", local time without a zone), or "+DURATION". */
static int parse_send_at(const char *text, int64_t *at_r)
{
	int64_t delay;
	if (text[0] == '+' && config_parse_duration(text + 1, &delay) == 0) {
		*at_r = g_get_real_time() / G_USEC_PER_SEC + delay;
		return 0;
	}
	g_autoptr(GTimeZone) local = g_time_zone_new_local();
	g_autoptr(GDateTime) when = g_date_time_new_from_iso8601(text, local);
	if (when == NULL)
		return -1;
	*at_r = g_date_time_to_unix(when);
	return 0;
}

static int parse_send(int argc, char **argv, struct send_options *o)
{
	static const struct option opts[] = {
		{"to", required_argument, NULL, 't'},     {"line", required_argument, NULL, 'l'},
		{"wait", no_argument, NULL, 'w'},         {"header", required_argument, NULL, 'H'},
		{"priority", required_argument, NULL, 'p'}, {"expires", required_argument, NULL, 'e'},
		{"at", required_argument, NULL, 'a'}, {"cover", required_argument, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "t:l:wH:p:e:a:C:", opts, NULL)) != -1) {
		switch (opt) {
		case 't': o->to = optarg; break;
		case 'l': o->line = optarg; break;
		case 'w': o->wait = true; break;
		case 'H': o->header = optarg; break;
		case 'p': o->priority = atoi(optarg); break;
		case 'C': o->cover = optarg; break;
		case 'a':
			if (parse_send_at(optarg, &o->send_at) < 0)
				return -1;
			break;
		case 'e':
			if (config_parse_duration(optarg, &o->expires) < 0 || o->expires <= 0)
				return -1;
			break;
		default: return -1;
		}
	}
	return o->to != NULL && optind < argc ? 0 : -1;
}

/* The pages as one TIFF in memory (g_free), or NULL (why in *error_r, g_free) when the files are
   not all fax pages already. */
static gchar *join_pages(char **files, int n, int *pages_r, gsize *len_r, char **error_r)
{
	g_autofree char *tmp = g_build_filename(g_get_tmp_dir(), "faxctl-XXXXXX", NULL);
	int fd = g_mkstemp(tmp);
	if (fd < 0) {
		perror("faxctl: temporary file");
		return NULL;
	}
	close(fd);
	gchar *data = NULL;
	*pages_r = tiffcat((const char *const *)files, n, tmp, error_r);
	if (*pages_r >= 0 && !g_file_get_contents(tmp, &data, len_r, NULL))
		*error_r = g_strdup_printf("cannot read back %s", tmp);
	g_unlink(tmp);
	return data;
}

/* Documents that are not fax pages yet go to the render worker as a mail would: a MIME message
   with the files as attachments (no cover page unless --cover). g_free. */
static gchar *files_as_message(char **files, int n, const char *owner, const char *cover, gsize *len_r, char **error_r)
{
	GString *m = g_string_new(NULL);
	g_string_append_printf(m, "From: %s\r\nSubject: faxctl send\r\nX-Fax-Cover: %s\r\nX-Fax-Body: ignore\r\n"
				  "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"faxctl-send\"\r\n\r\n",
			       owner, cover ? cover : "none");
	for (int i = 0; i < n; i++) {
		gchar *data = NULL;
		gsize len = 0;
		if (!g_file_get_contents(files[i], &data, &len, NULL)) {
			*error_r = g_strdup_printf("%s: cannot read it", files[i]);
			g_string_free(m, TRUE);
			return NULL;
		}
		g_autofree char *guess = g_content_type_guess(files[i], (const guchar *)data, len, NULL);
		g_autofree char *type = g_content_type_get_mime_type(guess);
		g_autofree char *base = g_path_get_basename(files[i]);
		g_autofree char *b64 = g_base64_encode((const guchar *)data, len);
		g_string_append_printf(m, "--faxctl-send\r\nContent-Type: %s; name=\"%s\"\r\n"
					  "Content-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
				       type ? type : "application/octet-stream", base, base);
		for (size_t off = 0, total = strlen(b64); off < total; off += 76)
			g_string_append_printf(m, "%.76s\r\n", b64 + off);
		g_free(data);
	}
	g_string_append(m, "--faxctl-send--\r\n");
	*len_r = m->len;
	return g_string_free(m, FALSE);
}

static char *owner_name(void)
{
	const char *user = g_get_user_name();
	return g_strdup_printf("%s@%s", user ? user : "faxctl", g_get_host_name());
}

/* Store the pages and the job in one transaction. */
static int submit(struct faxctl *ctl, const struct send_options *o, const struct dial_number *num,
		  const gchar *data, gsize len, int pages, bool is_message, char id_r[JOBID_SIZE])
{
	struct store *st = faxctl_store(ctl);
	if (st == NULL)
		return EXIT_TEMPFAIL;
	struct job *job = store_job_new();
	job->state = is_message ? JOB_STATE_RENDERING : JOB_STATE_QUEUED;
	job->number = g_strdup(num->e164);
	job->dial = g_strdup(num->dial);
	job->owner = owner_name();
	job->line = g_strdup(o->line);
	job->header_line = g_strdup(o->header);
	job->priority = o->priority;
	job->pages_total = pages;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	job->send_at = o->send_at;
	job->next_try_at = MAX(now, o->send_at);
	job->expires_at = job->next_try_at + (o->expires > 0 ? o->expires : config_int(ctl->config, "retry", "expire"));
	int ret = store_begin(st);
	if (ret == 0)
		ret = is_message ? store_document_put(st, "message", "message/rfc822", data, len, &job->message_doc)
				 : store_document_put(st, "pages", "image/tiff", data, len, &job->pages_doc);
	if (ret == 0)
		ret = store_job_insert(st, job, "faxctl");
	if (ret == 0)
		ret = store_commit(st);
	else
		store_rollback(st);
	if (ret < 0)
		fprintf(stderr, "faxctl: not queued: %s\n", store_error(st));
	else
		g_strlcpy(id_r, job->id, JOBID_SIZE);
	store_job_free(&job);
	return ret < 0 ? EXIT_TEMPFAIL : 0;
}

static void show_progress(const struct job *job, bool tty)
{
	if (!tty)
		return;
	int width = 30, done = job->pages_total > 0 ? (int)(width * job->pages_done / job->pages_total) : 0;
	char bar[64];
	memset(bar, '#', (size_t)done);
	memset(bar + done, '.', (size_t)(width - done));
	bar[width] = '\0';
	fprintf(stderr, "\r%s [%s] %lld/%lld %-10s %s\033[K", job->id, bar, (long long)job->pages_done,
		(long long)job->pages_total, job_state_name(job->state), job->progress ? job->progress : "");
}

/* Follow the job until it ends. */
static int wait_for_job(struct faxctl *ctl, const char *id)
{
	bool tty = isatty(STDERR_FILENO);
	for (;;) {
		struct job *job = NULL;
		if (store_job_get(ctl->store, id, &job) <= 0) {
			fprintf(stderr, "\nfaxctl: job %s: %s\n", id, store_error(ctl->store));
			return EXIT_TEMPFAIL;
		}
		show_progress(job, tty);
		if (job_state_final(job->state)) {
			if (tty)
				fputc('\n', stderr);
			int ret = job->state == JOB_STATE_DONE ? 0 : EXIT_FAILED;
			printf("%s: %s: %s\n", job->id, job_state_name(job->state), job->result_text ? job->result_text : "");
			store_job_free(&job);
			return ret;
		}
		store_job_free(&job);
		g_usleep(200000);
	}
}

int faxctl_cmd_send(struct faxctl *ctl, int argc, char **argv)
{
	struct send_options o = {0};
	if (parse_send(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: faxctl send --to NUMBER [--line L] [--header TEXT] [--priority N] [--at WHEN] [--expires TIME] [--cover NAME] [--wait] FILE...\n");
		return EXIT_USAGE;
	}
	const char *why = NULL;
	if (dialrules_config_check(ctl->config, &why) < 0) {
		fprintf(stderr, "faxctl: configuration: %s\n", why);
		return 78;
	}
	struct dialrules *rules = dialrules_from_config(ctl->config);
	struct dial_number num;
	int ret = 0;
	if (dialrules_normalize(rules, o.to, &num, &why) < 0 || dialrules_permit(rules, &num, NULL, &why) < 0) {
		fprintf(stderr, "faxctl: %s: %s\n", o.to, why);
		ret = EXIT_DATAERR;
	}
	dialrules_free(&rules);
	if (ret != 0)
		return ret;
	for (int i = optind; i < argc; i++) {
		if (access(argv[i], R_OK) < 0) {
			fprintf(stderr, "faxctl: %s: %s\n", argv[i], g_strerror(errno));
			return EXIT_NOINPUT;
		}
	}
	int pages = 0;
	gsize len = 0;
	char *problem = NULL;
	gchar *data = o.cover ? NULL : join_pages(argv + optind, argc - optind, &pages, &len, &problem);
	bool is_message = data == NULL;
	g_free(problem);
	problem = NULL;
	g_autofree char *owner = owner_name();
	if (is_message)
		data = files_as_message(argv + optind, argc - optind, owner, o.cover, &len, &problem);
	if (data == NULL) {
		fprintf(stderr, "faxctl: %s\n", problem);
		g_free(problem);
		return EXIT_NOINPUT;
	}
	char id[JOBID_SIZE] = "";
	ret = submit(ctl, &o, &num, data, len, pages, is_message, id);
	g_free(data);
	if (ret != 0)
		return ret;
	if (is_message)
		printf("%s: queued to %s, to be rendered\n", id, num.e164);
	else
		printf("%s: queued to %s, %d page%s\n", id, num.e164, pages, pages == 1 ? "" : "s");
	fflush(stdout);
	return o.wait ? wait_for_job(ctl, id) : 0;
}

int faxctl_cmd_loop_call(struct faxctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'}, {"did", required_argument, NULL, 'd'},
					     {"line", required_argument, NULL, 'l'}, {NULL, 0, NULL, 0}};
	const char *from = "+12125550199", *did = NULL, *line = "loop";
	int opt;
	while ((opt = getopt_long(argc, argv, "f:d:l:", opts, NULL)) != -1) {
		if (opt == 'f')
			from = optarg;
		else if (opt == 'd')
			did = optarg;
		else if (opt == 'l')
			line = optarg;
		else
			optind = argc + 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: faxctl loop-call [--from CALLER] [--did DID] [--line LOOP] FILE.tiff\n");
		return EXIT_USAGE;
	}
	g_autofree char *file = g_canonicalize_filename(argv[optind], NULL);
	const char *error = NULL;
	if (loop_originate_request(ctl->config, line, from, did ? did : "", file, &error) < 0) {
		fprintf(stderr, "faxctl: %s\n", error);
		return EXIT_DATAERR;
	}
	printf("the loop line's far end will call from %s to DID %s with %s\n", from, did ? did : "(any)", file);
	return 0;
}

int faxctl_cmd_watch(struct faxctl *ctl, int argc, char **argv)
{
	bool once = argc > 1 && strcmp(argv[1], "--once") == 0;
	g_autofree char *path = g_build_filename(config_home(ctl->config), "run", "faxd.status", NULL);
	bool tty = isatty(STDOUT_FILENO);
	for (;;) {
		g_autofree char *text = NULL;
		if (tty && !once)
			printf("\033[H\033[J");
		if (!g_file_get_contents(path, &text, NULL, NULL))
			printf("faxd is not running (no %s)\n", path);
		else
			printf("%s", *text ? text : "no calls\n");
		fflush(stdout);
		if (once)
			return text ? 0 : EXIT_TEMPFAIL;
		g_usleep(G_USEC_PER_SEC);
	}
}
