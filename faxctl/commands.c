/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxctl's job commands: jobs, show, cancel, retry, hold, release, inbound, check-config.
 * Exit codes follow sysexits: 0 ok, 64 usage, 65 bad input (no such job, illegal change),
 * 75 temporary (store unavailable), 78 configuration error.
 */
#include "faxctl/faxctl.h"

#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/store.h"
#include "faxctl/output.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_TEMPFAIL 75
#define EXIT_CONFIG 78

struct store *faxctl_store(struct faxctl *ctl)
{
	if (ctl->store != NULL)
		return ctl->store;
	const char *error = NULL;
	if (store_open(ctl->config, &ctl->store, &error) < 0) {
		fprintf(stderr, "faxctl: %s\n", error);
		return NULL;
	}
	return ctl->store;
}

static void job_row(struct output *out, const struct job *job)
{
	char t1[32], pages[48];
	snprintf(pages, sizeof(pages), "%lld/%lld", (long long)job->pages_done, (long long)job->pages_total);
	output_record_begin(out);
	output_str(out, "job", job->id);
	output_str(out, "state", job_state_name(job->state));
	output_str(out, "number", job->number);
	output_str(out, "pages", pages);
	output_int(out, "tries", job->tries);
	output_str(out, "owner", job->owner);
	output_str(out, "submitted", output_time(job->created_at, t1));
	output_str(out, "result", job->result_text ? job->result_text : job->result_code);
	output_record_end(out);
}

static int cmd_jobs(struct faxctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"state", required_argument, NULL, 's'},
					     {"limit", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
	int state = -1, limit = 100, opt;
	enum job_state parsed;
	while ((opt = getopt_long(argc, argv, "s:n:", opts, NULL)) != -1) {
		if (opt == 's' && job_state_parse(optarg, &parsed) == 0)
			state = (int)parsed;
		else if (opt == 'n' && atoi(optarg) > 0)
			limit = atoi(optarg);
		else {
			fprintf(stderr, "faxctl jobs: bad option (states: submitted rendering queued sending deferred held done failed cancelled expired)\n");
			return EXIT_USAGE;
		}
	}
	struct store *st = faxctl_store(ctl);
	GPtrArray *jobs = NULL;
	if (st == NULL || store_job_list(st, state, limit, &jobs) < 0) {
		if (st != NULL)
			fprintf(stderr, "faxctl: %s\n", store_error(st));
		return EXIT_TEMPFAIL;
	}
	struct output *out = output_create(ctl->json);
	for (guint i = 0; i < jobs->len; i++)
		job_row(out, jobs->pdata[i]);
	output_flush(out, true);
	if (!ctl->json && jobs->len == 0)
		printf("no jobs\n");
	output_free(&out);
	store_jobs_free(&jobs);
	return 0;
}

static void job_fields(struct output *out, const struct job *job)
{
	char t[32];
	output_str(out, "job", job->id);
	output_str(out, "state", job_state_name(job->state));
	output_str(out, "number", job->number);
	output_str(out, "dial", job->dial);
	output_str(out, "recipient", job->recipient_name);
	output_str(out, "company", job->recipient_company);
	output_str(out, "owner", job->owner);
	output_str(out, "sender", job->sender);
	output_str(out, "line", job->line);
	output_str(out, "resolution", job->resolution);
	output_str(out, "paper", job->paper);
	output_str(out, "tsi", job->tsi);
	output_str(out, "header_line", job->header_line);
	output_int(out, "priority", job->priority);
	output_int(out, "pages_total", job->pages_total);
	output_int(out, "pages_done", job->pages_done);
	output_int(out, "tries", job->tries);
	output_int(out, "max_tries", job->max_tries);
	output_int(out, "dials", job->dials);
	output_int(out, "max_dials", job->max_dials);
	output_str(out, "submitted", output_time(job->created_at, t));
	output_str(out, "updated", output_time(job->updated_at, t));
	output_str(out, "send_at", output_time(job->send_at, t));
	output_str(out, "next_try", output_time(job->next_try_at, t));
	output_str(out, "expires", output_time(job->expires_at, t));
	output_str(out, "completed", output_time(job->completed_at, t));
	output_str(out, "progress", job->progress);
	output_str(out, "lease_owner", job->lease_owner);
	output_str(out, "lease_until", output_time(job->lease_until, t));
	output_str(out, "notify", job->notify);
	output_str(out, "notify_to", job->notify_to);
	output_str(out, "client_ref", job->client_ref);
	output_str(out, "idempotency_key", job->idempotency_key);
	output_str(out, "result_code", job->result_code);
	output_str(out, "result_text", job->result_text);
	output_str(out, "remote_ident", job->remote_ident);
	g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(job->fields), (GCompareFunc)strcmp);
	for (GList *l = names; l != NULL; l = l->next)
		output_str(out, l->data, g_hash_table_lookup(job->fields, l->data));
}

static void job_history(struct output *out, GPtrArray *events, GPtrArray *attempts)
{
	char t[32];
	output_nested_begin(out, "events");
	for (guint i = 0; i < events->len; i++) {
		struct job_event *ev = events->pdata[i];
		output_record_begin(out);
		output_str(out, "time", output_time(ev->at, t));
		output_str(out, "from", ev->from_state);
		output_str(out, "to", ev->to_state);
		output_str(out, "node", ev->node);
		output_str(out, "text", ev->text);
		output_record_end(out);
	}
	output_nested_end(out);
	output_nested_begin(out, "attempts");
	for (guint i = 0; i < attempts->len; i++) {
		struct attempt *a = attempts->pdata[i];
		output_record_begin(out);
		output_str(out, "started", output_time(a->started_at, t));
		output_int(out, "seconds", a->ended_at > a->started_at ? a->ended_at - a->started_at : 0);
		output_str(out, "line", a->line);
		output_str(out, "outcome", a->outcome);
		output_int(out, "first_page", a->first_page);
		output_int(out, "pages_sent", a->pages_sent);
		output_int(out, "pages_total", a->pages_total);
		output_int(out, "bit_rate", a->bit_rate);
		output_int(out, "ecm", a->ecm);
		output_str(out, "remote_ident", a->remote_ident);
		output_str(out, "result", a->result_text);
		output_record_end(out);
	}
	output_nested_end(out);
}

static int load_job(struct faxctl *ctl, const char *id, struct job **job_r)
{
	struct store *st = faxctl_store(ctl);
	if (st == NULL)
		return EXIT_TEMPFAIL;
	int found = store_job_get(st, id, job_r);
	if (found < 0) {
		fprintf(stderr, "faxctl: %s\n", store_error(st));
		return EXIT_TEMPFAIL;
	}
	if (found == 0) {
		fprintf(stderr, "faxctl: no job %s\n", id);
		return EXIT_DATAERR;
	}
	return 0;
}

static int cmd_show(struct faxctl *ctl, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: faxctl show JOB\n");
		return EXIT_USAGE;
	}
	struct job *job = NULL;
	int ret = load_job(ctl, argv[1], &job);
	if (ret != 0)
		return ret;
	GPtrArray *events = NULL, *attempts = NULL;
	if (store_job_events(ctl->store, job->id, &events) < 0 || store_attempt_list(ctl->store, job->id, &attempts) < 0) {
		fprintf(stderr, "faxctl: %s\n", store_error(ctl->store));
		store_events_free(&events);
		store_job_free(&job);
		return EXIT_TEMPFAIL;
	}
	struct output *out = output_create(ctl->json);
	output_record_begin(out);
	job_fields(out, job);
	job_history(out, events, attempts);
	output_record_end(out);
	output_flush(out, false);
	output_free(&out);
	store_events_free(&events);
	store_attempts_free(&attempts);
	store_job_free(&job);
	return 0;
}

/* cancel, retry, hold, release: one state change each, checked by the store. */
static int change_state(struct faxctl *ctl, int argc, char **argv, enum job_state to, const char *text)
{
	if (argc < 2) {
		fprintf(stderr, "usage: faxctl %s JOB...\n", argv[0]);
		return EXIT_USAGE;
	}
	int ret = 0;
	for (int i = 1; i < argc; i++) {
		struct job *job = NULL;
		int r = load_job(ctl, argv[i], &job);
		if (r == 0) {
			if (store_job_set_state(ctl->store, job->id, to, "faxctl", text) < 0) {
				fprintf(stderr, "faxctl: %s\n", store_error(ctl->store));
				r = EXIT_DATAERR;
			} else if (!ctl->json) {
				printf("%s: %s\n", job->id, job_state_name(to));
			}
		}
		store_job_free(&job);
		ret = ret ? ret : r;
	}
	return ret;
}

static int cmd_cancel(struct faxctl *ctl, int argc, char **argv)
{
	return change_state(ctl, argc, argv, JOB_STATE_CANCELLED, "cancelled by operator");
}

static int cmd_retry(struct faxctl *ctl, int argc, char **argv)
{
	return change_state(ctl, argc, argv, JOB_STATE_QUEUED, "retry now, by operator");
}

static int cmd_hold(struct faxctl *ctl, int argc, char **argv)
{
	return change_state(ctl, argc, argv, JOB_STATE_HELD, "held by operator");
}

static int cmd_release(struct faxctl *ctl, int argc, char **argv)
{
	return change_state(ctl, argc, argv, JOB_STATE_QUEUED, "released by operator");
}

static int cmd_inbound(struct faxctl *ctl, int argc, char **argv)
{
	struct store *st = faxctl_store(ctl);
	GPtrArray *list = NULL;
	if (st == NULL || store_inbound_list(st, 100, &list) < 0) {
		if (st != NULL)
			fprintf(stderr, "faxctl: %s\n", store_error(st));
		return EXIT_TEMPFAIL;
	}
	struct output *out = output_create(ctl->json);
	char t[32];
	for (guint i = 0; i < list->len; i++) {
		struct inbound *in = list->pdata[i];
		output_record_begin(out);
		output_str(out, "id", in->id);
		output_str(out, "received", output_time(in->received_at, t));
		output_str(out, "line", in->line);
		output_str(out, "did", in->did);
		output_str(out, "caller_id", in->caller_id);
		output_str(out, "remote_csid", in->remote_csid);
		output_int(out, "pages", in->pages);
		output_str(out, "resolution", in->resolution);
		output_int(out, "seconds", in->duration_ms / 1000);
		output_str(out, "partial", in->partial ? "yes" : "no");
		output_str(out, "state", in->state);
		output_str(out, "result", in->result_text);
		output_record_end(out);
	}
	output_flush(out, true);
	if (!ctl->json && list->len == 0)
		printf("no received faxes\n");
	output_free(&out);
	store_inbound_list_free(&list);
	return 0;
}

/* Loaded in main already; a bad file never gets here (main prints the errors, exit 78). */
static int cmd_check_config(struct faxctl *ctl, int argc, char **argv)
{
	const char *file = config_file(ctl->config);
	if (ctl->json)
		printf("{\"valid\": true, \"file\": %s%s%s}\n", file ? "\"" : "", file ? file : "null", file ? "\"" : "");
	else
		printf("configuration ok: %s (home %s)\n", file ? file : "embedded default", config_home(ctl->config));
	return 0;
}

const struct faxctl_command faxctl_commands[] = {
	{"jobs", "jobs [--state STATE] [--limit N]   list jobs, newest first", cmd_jobs},
	{"show", "show JOB                            every field, events and attempts of a job", cmd_show},
	{"cancel", "cancel JOB...                       cancel (a call in progress is hung up)", cmd_cancel},
	{"retry", "retry JOB...                        send again now (failed, expired or deferred jobs)", cmd_retry},
	{"hold", "hold JOB...                         keep a job from being sent", cmd_hold},
	{"release", "release JOB...                      let a held job go", cmd_release},
	{"inbound", "inbound                             received faxes", cmd_inbound},
	{"status", "status                              jobs, received faxes, outbox and mail routes", faxctl_cmd_status},
	{"send", "send --to NUMBER [--wait] [--cover NAME] FILE...  queue a fax (TIFF, PDF, text, images, office)", faxctl_cmd_send},
	{"watch", "watch [--once]                      live view of the calls in progress", faxctl_cmd_watch},
	{"loop-call", "loop-call [--from N] [--did D] FILE.tiff  the loop line's far end calls in", faxctl_cmd_loop_call},
	{"preview", "preview JOB [--page N] --out F.png|F.pdf  the pages a job sends", faxctl_cmd_preview},
	{"profile", "profile add|set|show|list|del|import|export ...  users and groups (AUTH, permissions, defaults, DIDs)", faxctl_cmd_profile},
	{"test-mail", "test-mail ADDRESS [--route NAME] [--from ADDR]  send a test message through a mail route", faxctl_cmd_test_mail},
	{"check-config", "check-config                        exit 0 when the configuration is valid", cmd_check_config},
	{NULL, NULL, NULL},
};
