/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The mailer's first half: turning what happened to jobs (their events) and what was received
 * (inbound rows not yet mailed) into composed messages in the outbox. The event cursor moves in
 * the same transaction as the messages it produced, and a received fax becomes "mailed" in the
 * same transaction as its messages: a crash repeats a step whole or not at all.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "common/store.h"
#include "profiles/profile.h"
#include "smtpgw/mailer_private.h"
#include "smtpgw/mailroute.h"
#include "smtpgw/outbox.h"
#include "smtpgw/rxroute.h"

#define EVENT_BATCH 100
#define CURSOR_NAME "mailer:event_cursor"

char *mailer_message_id(const struct mailer *m, const char *id)
{
	return g_strdup_printf("<%s@%s>", id, m->env.hostname);
}

int mailer_queue(struct mailer *m, const char *id, const char *kind, const char *job_id, const char *inbound_id,
		 const char *sender, const char *recipient, const GByteArray *message)
{
	const struct mailroute *route = mailroute_for(m->routes, recipient);
	struct outbox_msg msg = {
		.kind = (char *)kind,
		.job_id = (char *)job_id,
		.inbound_id = (char *)inbound_id,
		.route = route ? route->name : "",
		.sender = (char *)sender,
		.recipient = (char *)recipient,
		.expires_at = time(NULL) + m->expire,
	};
	g_strlcpy(msg.id, id, sizeof(msg.id));
	const char *error = NULL;
	if (outbox_enqueue(m->store, &msg, message->data, message->len, &error) < 0) {
		log_job(LOG_LEVEL_ERROR, job_id ? job_id : inbound_id, "mailer: not queued: %s", error);
		return -1;
	}
	log_job(LOG_LEVEL_INFO, job_id ? job_id : inbound_id, "mailer: queued msgid=%s kind=%s to=<%s> route=%s size=%u",
		id, kind, recipient, msg.route, message->len);
	if (route == NULL)
		log_job(LOG_LEVEL_ERROR, id, "mailer: no [mailroute] takes <%s>: the message waits for one", recipient);
	return 0;
}

/* ---- notifications ---- */

static const char *field(const struct job *job, const char *name)
{
	return job->fields ? g_hash_table_lookup(job->fields, name) : NULL;
}

static const char *first_set(const char *a, const char *b, const char *c)
{
	return a && *a ? a : b && *b ? b : c;
}

/* The profile of the job's owner, for its language and policy (may be NULL). */
static struct profile *owner_profile(struct mailer *m, const struct job *job)
{
	struct profile *p = NULL;
	const char *error = NULL;
	const char *who = first_set(job->owner, job->sender, NULL);
	if (who != NULL && profile_lookup(m->store, who, &p, &error) < 0)
		log_job(LOG_LEVEL_WARNING, job->id, "mailer: profile of %s: %s", who, error);
	return p;
}

static void notice_options_for(struct mailer *m, const struct job *job, const struct profile *p,
			       struct notice_options *o)
{
	const struct config *c = m->config;
	const char *format = first_set(field(job, "notify_format"), NULL, config_str(c, "mail", "notify_format"));
	const char *attach = first_set(field(job, "notify_attach"), NULL, config_str(c, "mail", "notify_attach"));
	o->language = first_set(p ? p->language : NULL, NULL, config_str(c, "mail", "language"));
	o->dsn = strstr(format, "dsn") != NULL || field(job, "dsn_notify") != NULL;
	o->json = strstr(format, "json") != NULL;
	o->attach = strcmp(attach, "first-page") == 0 ? "png" : attach;
}

static int fax_pages(struct mailer *m, const struct job *job, const struct notice_options *o, void **data_r,
		     size_t *len_r)
{
	*data_r = NULL;
	*len_r = 0;
	if (strcmp(o->attach, "none") == 0 || job->pages_doc == 0)
		return 0;
	g_autofree char *type = NULL;
	return store_document_get(m->store, job->pages_doc, data_r, len_r, &type) < 0 ? -1 : 0;
}

/* Compose and queue the notice of kind for job; 1 queued, 0 composition failed (logged), -1 error. */
static int queue_notice(struct mailer *m, const struct job *job, enum notice_kind kind, const struct profile *p)
{
	struct notice_options o;
	notice_options_for(m, job, p, &o);
	GPtrArray *attempts = NULL;
	void *fax = NULL;
	size_t fax_len = 0;
	char id[JOBID_SIZE];
	jobid_new(JOBID_PREFIX_MAIL, id);
	g_autofree char *msgid = mailer_message_id(m, id);
	GByteArray *msg = NULL;
	const char *error = NULL;
	int ret = 0;
	if (store_attempt_list(m->store, job->id, &attempts) < 0 || fax_pages(m, job, &o, &fax, &fax_len) < 0)
		ret = -1;
	else if (notice_compose(&m->env, job, attempts, kind, job->notify_to, msgid, &o, fax, fax_len, &msg, &error) < 0)
		log_job(LOG_LEVEL_ERROR, job->id, "mailer: notice not composed: %s", error);
	else
		ret = mailer_queue(m, id, "notice", job->id, NULL, m->envelope_from, job->notify_to, msg) < 0 ? -1 : 1;
	if (msg != NULL)
		g_byte_array_unref(msg);
	g_free(fax);
	store_attempts_free(&attempts);
	return ret;
}

/* The notice one event asks for, into the outbox; 1 queued, 0 none wanted, -1 error. */
static int notice_for_event(struct mailer *m, const struct job_event *ev)
{
	enum job_state to;
	enum notice_kind kind;
	struct job *job = NULL;
	if (job_state_parse(ev->to_state, &to) < 0 || store_job_get(m->store, ev->job_id, &job) <= 0)
		return 0;
	int ret = 0;
	if (notice_kind_for(job, to, &kind) == 0 && job->notify_to != NULL && *job->notify_to != '\0') {
		struct profile *p = owner_profile(m, job);
		const char *profile_policy = first_set(p ? p->notify : NULL, NULL, config_str(m->config, "mail", "notify"));
		const char *policy = first_set(job->notify, field(job, "dsn_notify"), profile_policy);
		if (notice_wanted(policy, kind))
			ret = queue_notice(m, job, kind, p);
		profile_free(&p);
	}
	store_job_free(&job);
	return ret;
}

static int save_cursor(struct mailer *m, int64_t cursor)
{
	char text[24];
	const char *error = NULL;
	snprintf(text, sizeof(text), "%lld", (long long)cursor);
	if (outbox_state_set(m->store, CURSOR_NAME, text, &error) < 0) {
		log_error("mailer: event cursor: %s", error);
		return -1;
	}
	m->event_cursor = cursor;
	return 0;
}

int mailer_compose_notices(struct mailer *m)
{
	GPtrArray *events = NULL;
	if (store_events_after(m->store, m->event_cursor, NULL, EVENT_BATCH, &events) < 0) {
		log_error("mailer: events: %s", store_error(m->store));
		return -1;
	}
	/* one transaction for the batch: one sync for up to EVENT_BATCH notices */
	int queued = events->len > 0 ? store_begin(m->store) : 0;
	for (guint i = 0; i < events->len && queued >= 0; i++) {
		int ret = notice_for_event(m, events->pdata[i]);
		queued = ret < 0 ? -1 : queued + ret;
	}
	if (queued >= 0 && events->len > 0) {
		const struct job_event *last = events->pdata[events->len - 1];
		if (save_cursor(m, last->id) < 0 || store_commit(m->store) < 0)
			queued = -1;
	}
	if (queued < 0 && events->len > 0) {
		store_rollback(m->store);
		mailer_load_cursor(m);
	}
	store_events_free(&events);
	return queued;
}

int mailer_load_cursor(struct mailer *m)
{
	g_autofree char *value = NULL;
	const char *error = NULL;
	if (outbox_state_get(m->store, CURSOR_NAME, &value, &error) < 0) {
		log_error("mailer: event cursor: %s", error);
		return -1;
	}
	m->event_cursor = value ? g_ascii_strtoll(value, NULL, 10) : 0;
	return 0;
}

/* ---- received faxes ---- */

/* 0, -1 on a store error (try again), -2 when the fax cannot be composed. */
static int mail_one_fax(struct mailer *m, const struct inbound *in, const void *tiff, size_t len)
{
	GPtrArray *targets = NULL;
	const char *routed_by = NULL, *error = NULL;
	if (rxroute_resolve(m->config, m->store, in, &targets, &routed_by, &error) < 0) {
		log_job(LOG_LEVEL_ERROR, in->id, "mailer: routing: %s", error);
		return -1;
	}
	int ret = 0;
	for (guint i = 0; ret == 0 && i < targets->len; i++) {
		const struct rx_target *t = targets->pdata[i];
		char id[JOBID_SIZE];
		jobid_new(JOBID_PREFIX_MAIL, id);
		g_autofree char *msgid = mailer_message_id(m, id);
		GByteArray *msg = NULL;
		if (faxmail_compose(&m->env, in, t->address, t->format, t->language, routed_by, msgid, tiff, len, &msg,
				    &error) < 0) {
			log_job(LOG_LEVEL_ERROR, in->id, "mailer: fax mail to <%s> not composed: %s", t->address, error);
			ret = -2;
		} else {
			ret = mailer_queue(m, id, "fax", NULL, in->id, m->envelope_from, t->address, msg);
			g_byte_array_unref(msg);
		}
	}
	log_job(LOG_LEVEL_INFO, in->id, "mailer: fax did=%s routed_by=%s recipients=%u", in->did ? in->did : "",
		routed_by, targets->len);
	g_ptr_array_free(targets, TRUE);
	return ret;
}

static int mail_fax(struct mailer *m, const struct inbound *in)
{
	void *tiff = NULL;
	size_t len = 0;
	g_autofree char *type = NULL;
	if (in->document_id != 0 && store_document_get(m->store, in->document_id, &tiff, &len, &type) < 0)
		return -1;
	int ret = store_begin(m->store);
	if (ret == 0)
		ret = mail_one_fax(m, in, tiff, len);
	if (ret == 0 && store_inbound_set_state(m->store, in->id, "received", "mailed") != 1)
		ret = -1; /* another mailer took it: roll back what we queued */
	if (ret == 0)
		ret = store_commit(m->store);
	if (ret < 0)
		store_rollback(m->store);
	if (ret == -2 && store_inbound_set_state(m->store, in->id, "received", "mail-failed") == 1) {
		/* not the store's trouble but a fax that cannot be composed: kept, out of the way */
		log_job(LOG_LEVEL_ERROR, in->id, "mailer: fax kept in the store as mail-failed (faxctl inbound)");
		ret = 0;
	}
	g_free(tiff);
	return ret;
}

int mailer_compose_faxes(struct mailer *m)
{
	GPtrArray *list = NULL;
	if (store_inbound_in_state(m->store, "received", 20, &list) < 0) {
		log_error("mailer: received faxes: %s", store_error(m->store));
		return -1;
	}
	int done = 0;
	for (guint i = 0; i < list->len && done >= 0; i++)
		done = mail_fax(m, list->pdata[i]) < 0 ? -1 : done + 1;
	store_inbound_list_free(&list);
	return done;
}
