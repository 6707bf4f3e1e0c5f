/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Mail to jobs, durably (the 250 rule). A transaction collects its recipients as the client
 * gives them (each checked at RCPT time: fax address grammar, dial rules, the owner's permission
 * classes), spools the message to a file as it arrives (a 25 MB message never sits in memory),
 * and at the end of DATA reads the header block (X-Fax-* job control, research/conventions.md
 * §3), then in ONE store transaction writes the raw message and one job per fax number in state
 * `rendering`. Only after that COMMIT does any recipient get 250 "queued as"; a failed commit is
 * 451 4.3.0 and leaves nothing behind. A resubmission with the same X-Fax-Idempotency-Key by the
 * same owner returns the jobs it made the first time and sends nothing twice.
 *
 * STANDARDS: RFC 5321 (replies), RFC 3463 (enhanced codes), RFC 3461 (DSN parameters kept on
 * the job), RFC 5322 (header block), RFC 3191/3192 (fax addresses, via fax_address.c).
 */
#include "smtpgw/accept.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/db.h"
#include "common/log.h"
#include "common/store.h"
#include "profiles/profile.h"
#include "smtpgw/fax_address.h"
#include "smtpgw/enrich.h"
#include "smtpgw/fax_headers.h"

/* The header block read at the end of DATA; beyond it the message is the renderer's business. */
#define ACCEPT_MAX_HEADER_BLOCK (256 * 1024)

struct accept {
	const struct accept_config *ac;
	struct accept_submitter sub;
	char *sender, *auth_user, *client, *envid;
	struct profile *owner_profile;
	GHashTable *profile_fields; /* the owner's job defaults (profile level of the merge), or NULL */
	GHashTable *domain_fields;  /* [domain NAME] of the owner's domain (defaults level), or NULL */
	char *owner;
	GPtrArray *rcpts; /* struct accept_rcpt * */
	struct fax_address_settings address_settings;
	int spool_fd;
	char *spool_path;
	uint64_t size;
	bool spool_failed;
};

static void rcpt_free(gpointer p)
{
	struct accept_rcpt *r = p;
	g_free(r->address);
	fax_address_free(&r->fax);
	g_free(r->orcpt);
	g_free(r);
}

struct accept *accept_begin(const struct accept_config *ac, const struct accept_submitter *sub, struct profile *owner)
{
	struct accept *acc = g_new0(struct accept, 1);
	acc->ac = ac;
	acc->sub = *sub;
	acc->sender = g_strdup(sub->sender);
	acc->auth_user = g_strdup(sub->auth_user);
	acc->client = g_strdup(sub->client);
	acc->envid = g_strdup(sub->envid);
	acc->sub.sender = acc->sender;
	acc->sub.auth_user = acc->auth_user;
	acc->sub.client = acc->client;
	acc->sub.envid = acc->envid;
	acc->owner_profile = owner;
	acc->owner = g_strdup(owner ? owner->primary_address : (*sub->sender ? sub->sender : "<>"));
	acc->profile_fields = owner ? profile_job_fields(owner) : NULL;
	acc->domain_fields = enrich_domain_defaults(ac->config, acc->owner);
	acc->rcpts = g_ptr_array_new_with_free_func(rcpt_free);
	fax_address_settings_default(&acc->address_settings);
	acc->address_settings.strict = config_bool(ac->config, "smtp", "strict_addresses");
	acc->spool_fd = -1;
	return acc;
}

void accept_free(struct accept **accp)
{
	struct accept *acc = *accp;
	if (acc == NULL)
		return;
	if (acc->spool_fd >= 0)
		close(acc->spool_fd);
	if (acc->spool_path != NULL)
		g_unlink(acc->spool_path);
	g_ptr_array_free(acc->rcpts, TRUE);
	g_free(acc->spool_path);
	g_free(acc->sender);
	g_free(acc->auth_user);
	g_free(acc->client);
	g_free(acc->envid);
	g_free(acc->owner);
	if (acc->profile_fields)
		g_hash_table_unref(acc->profile_fields);
	if (acc->domain_fields)
		g_hash_table_unref(acc->domain_fields);
	g_free(acc);
	*accp = NULL;
}

int accept_rcpt_count(const struct accept *acc)
{
	return (int)acc->rcpts->len;
}

uint64_t accept_size(const struct accept *acc)
{
	return acc->size;
}

/* ---- recipients ---- */

static const char *const *owner_classes(const struct accept *acc, char ***owned_r)
{
	*owned_r = NULL;
	if (acc->owner_profile == NULL || acc->owner_profile->permission_class == NULL)
		return NULL; /* the [dial] default */
	*owned_r = g_strsplit(acc->owner_profile->permission_class, ",", -1);
	for (char **c = *owned_r; *c; c++)
		g_strstrip(*c);
	return (const char *const *)*owned_r;
}

/* Dial rules and permission for one number; 0 or -1 with the reply. */
static int check_number(struct accept *acc, const char *text, struct dial_number *num, int *code_r, char reply_r[512])
{
	const char *why = NULL;
	if (dialrules_normalize(acc->ac->rules, text, num, &why) < 0) {
		*code_r = 550;
		snprintf(reply_r, 512, "5.1.3 Bad fax number %s: %s", text, why);
		return -1;
	}
	char **owned = NULL;
	int ret = dialrules_permit(acc->ac->rules, num, owner_classes(acc, &owned), &why);
	g_strfreev(owned);
	if (ret < 0) {
		*code_r = 550;
		snprintf(reply_r, 512, "5.7.1 Fax to %s not allowed: %s", num->e164, why);
		return -1;
	}
	return 0;
}

static int apply_address_extras(struct accept_rcpt *r, int *code_r, char reply_r[512])
{
	const char *why = NULL;
	if ((r->fax->t33s && dialrules_set_subaddress(&r->number, r->fax->t33s, &why) < 0) ||
	    (r->fax->postd && dialrules_set_postdial(&r->number, r->fax->postd, &why) < 0)) {
		*code_r = 550;
		snprintf(reply_r, 512, "5.1.3 %s", why);
		return -1;
	}
	return 0;
}

/* Reply for a local part that names no fax number and no person with one. */
static int no_recipient(enum enrich_recipient found, const char *local, const char *parse_error, int *code_r,
			char reply_r[512])
{
	char who[96];
	log_printable(who, sizeof(who), local, strlen(local));
	*code_r = 550;
	if (found == ENRICH_RECIPIENT_AMBIGUOUS)
		snprintf(reply_r, 512, "5.1.4 %s names several people: give the fax number", who);
	else if (found == ENRICH_RECIPIENT_NO_FAX)
		snprintf(reply_r, 512, "5.1.1 %s has no fax number", who);
	else if (found == ENRICH_RECIPIENT_UNAVAILABLE) {
		*code_r = 451;
		snprintf(reply_r, 512, "4.4.3 Directory unavailable, try again later");
	} else
		snprintf(reply_r, 512, "5.1.3 Bad fax address: %s", parse_error);
	return -1;
}

/* "Fax a colleague by name": john.smith@fax.example.com -> that person's fax number. */
static int recipient_by_name(struct accept *acc, const char *local, const char *domain, const char *parse_error,
			     struct accept_rcpt *r, int *code_r, char reply_r[512])
{
	g_autofree char *why_copy = g_strdup(parse_error); /* thread-local: the next parse overwrites it */
	if (!config_bool(acc->ac->config, "smtp", "recipient_lookup"))
		return no_recipient(ENRICH_RECIPIENT_NONE, local, why_copy, code_r, reply_r);
	struct profile *p = NULL;
	const char *error = NULL, *why = NULL;
	enum enrich_recipient found = enrich_recipient(acc->ac, local, &p, &error);
	if (found != ENRICH_RECIPIENT_FOUND)
		return no_recipient(found, local, why_copy, code_r, reply_r);
	int ret = fax_address_parse(&acc->address_settings, p->fax, domain, &r->fax, &why);
	if (ret < 0) {
		*code_r = 550;
		snprintf(reply_r, 512, "5.1.3 The fax number of %s is not usable: %s", p->primary_address, why);
	} else {
		r->fax->name = g_strdup(p->name);
		r->fax->company = g_strdup(p->company);
		char who[96];
		log_info("rcpt=%s resolved=%s number=%s", log_printable(who, sizeof(who), local, strlen(local)),
			 p->primary_address, p->fax);
	}
	profile_free(&p);
	return ret;
}

int accept_add_rcpt(struct accept *acc, const char *raw, const char *local, const char *domain, unsigned notify,
		    const char *orcpt, int *code_r, char reply_r[512])
{
	struct accept_rcpt *r = g_new0(struct accept_rcpt, 1);
	r->address = g_strdup(raw);
	r->dsn_notify = notify;
	r->orcpt = g_strdup(orcpt);
	r->index = (int)acc->rcpts->len + 1;
	const char *service = config_str(acc->ac->config, "smtp", "service_mailbox");
	const char *why = NULL;
	int ret = 0;
	if (*service != '\0' && g_ascii_strcasecmp(local, service) == 0) {
		r->service_mailbox = true;
	} else if (fax_address_parse(&acc->address_settings, local, domain, &r->fax, &why) < 0 &&
		   recipient_by_name(acc, local, domain, why, r, code_r, reply_r) < 0) {
		ret = -1;
	} else if (r->fax->admin_options && !acc->sub.admin) {
		*code_r = 550;
		snprintf(reply_r, 512, "5.7.1 port= and noprefix are for administrators");
		ret = -1;
	} else if (check_number(acc, r->fax->number, &r->number, code_r, reply_r) < 0 ||
		   apply_address_extras(r, code_r, reply_r) < 0) {
		ret = -1;
	}
	if (ret < 0) {
		rcpt_free(r);
		return -1;
	}
	g_ptr_array_add(acc->rcpts, r);
	return 0;
}

/* ---- data ---- */

int accept_data(struct accept *acc, const char *data, size_t len)
{
	if (acc->spool_failed)
		return -1;
	if (acc->spool_fd < 0) {
		acc->spool_path = g_build_filename(acc->ac->spool_dir, "msg-XXXXXX", NULL);
		acc->spool_fd = g_mkstemp(acc->spool_path);
		if (acc->spool_fd < 0) {
			log_error("spool %s: %s", acc->spool_path, g_strerror(errno));
			acc->spool_failed = true;
			return -1;
		}
	}
	while (len > 0) {
		ssize_t n = write(acc->spool_fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("spool %s: %s", acc->spool_path, g_strerror(errno));
			acc->spool_failed = true;
			return -1;
		}
		data += n;
		len -= (size_t)n;
		acc->size += (uint64_t)n;
	}
	return 0;
}

/* The header block of the spooled message, unfolded: name/value pairs (NULL-terminated strv of
   alternating name, value). */
static char **read_headers(struct accept *acc)
{
	GPtrArray *out = g_ptr_array_new();
	/* read in steps until the blank line: the header block is usually under 2 KB */
	GString *block = g_string_new(NULL);
	char step[8192];
	ssize_t n;
	while (acc->spool_fd >= 0 && block->len < ACCEPT_MAX_HEADER_BLOCK &&
	       (n = pread(acc->spool_fd, step, sizeof(step), (off_t)block->len)) > 0) {
		g_string_append_len(block, step, n);
		if (strstr(block->str + (block->len > (gsize)n + 3 ? block->len - (gsize)n - 3 : 0), "\r\n\r\n") != NULL)
			break;
	}
	char *buf = g_string_free(block, FALSE);
	char *end = strstr(buf, "\r\n\r\n");
	if (end != NULL)
		end[2] = '\0';
	GString *current = NULL;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strstr(line, "\r\n");
		if (next != NULL) {
			*next = '\0';
			next += 2;
		}
		if ((*line == ' ' || *line == '\t') && current != NULL) {
			g_string_append(current, line); /* folded: RFC 5322 §2.2.3 */
			continue;
		}
		if (current != NULL)
			g_ptr_array_add(out, g_string_free(current, FALSE));
		current = g_string_new(line);
	}
	if (current != NULL)
		g_ptr_array_add(out, g_string_free(current, FALSE));
	g_free(buf);
	GPtrArray *pairs = g_ptr_array_new();
	for (guint i = 0; i < out->len; i++) {
		char *h = out->pdata[i], *colon = strchr(h, ':');
		if (colon != NULL) {
			g_ptr_array_add(pairs, g_strstrip(g_strndup(h, (gsize)(colon - h))));
			g_ptr_array_add(pairs, g_strstrip(g_strdup(colon + 1)));
		}
		g_free(h);
	}
	g_ptr_array_free(out, TRUE);
	g_ptr_array_add(pairs, NULL);
	return (char **)g_ptr_array_free(pairs, FALSE);
}

/* The addr-spec of a From:/Reply-To: value ("Name <a@b>" or "a@b"), g_free; NULL when none. */
static char *first_address(const char *value)
{
	if (value == NULL)
		return NULL;
	const char *lt = strchr(value, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char *addr = lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strdup(value);
	char *comma = strchr(addr, ',');
	if (comma)
		*comma = '\0';
	g_strstrip(addr);
	if (strchr(addr, '@') == NULL || strchr(addr, ' ') != NULL) {
		g_free(addr);
		return NULL;
	}
	return addr;
}

struct message_info {
	struct fax_headers *headers;
	GHashTable *fields;   /* borrowed from headers */
	char *subject, *message_id, *from, *reply_to;
	bool has_fax_headers;
};

static void message_info_clear(struct message_info *mi)
{
	fax_headers_free(&mi->headers);
	g_free(mi->subject);
	g_free(mi->message_id);
	g_free(mi->from);
	g_free(mi->reply_to);
}

static gpointer local_zone_id(gpointer unused)
{
	(void)unused;
	GTimeZone *local = g_time_zone_new_local();
	char *id = g_strdup(g_time_zone_get_identifier(local));
	g_time_zone_unref(local);
	return id;
}

/* Parse the headers; -1 with a reply when one is bad. */
static int parse_message(struct accept *acc, struct message_info *mi, int *code_r, char reply_r[512])
{
	g_auto(GStrv) pairs = read_headers(acc);
	mi->headers = fax_headers_create();
	/* times written without a zone are the gateway's local time (looked up once) */
	static GOnce local_zone = G_ONCE_INIT;
	fax_headers_set_timezone(mi->headers, g_once(&local_zone, local_zone_id, NULL));
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	for (int i = 0; pairs[i] && pairs[i + 1]; i += 2) {
		const char *name = pairs[i], *value = pairs[i + 1], *why = NULL;
		if (g_ascii_strncasecmp(name, "X-Fax-", 6) == 0)
			mi->has_fax_headers = true;
		if (g_ascii_strcasecmp(name, "Subject") == 0 && mi->subject == NULL)
			mi->subject = g_strdup(value);
		else if (g_ascii_strcasecmp(name, "Message-ID") == 0 && mi->message_id == NULL)
			mi->message_id = g_strdup(value);
		else if (g_ascii_strcasecmp(name, "From") == 0 && mi->from == NULL)
			mi->from = first_address(value);
		else if (g_ascii_strcasecmp(name, "Reply-To") == 0 && mi->reply_to == NULL)
			mi->reply_to = first_address(value);
		if (fax_headers_add(mi->headers, name, value, acc->sub.trusted, acc->sub.admin, now, &why) < 0) {
			*code_r = 550;
			snprintf(reply_r, 512, "5.6.0 %s", why);
			return -1;
		}
	}
	if (mi->has_fax_headers && !acc->sub.trusted && acc->ac->refuse_untrusted_headers) {
		*code_r = 550;
		snprintf(reply_r, 512, "5.7.1 X-Fax-* headers are not accepted from this sender");
		return -1;
	}
	mi->fields = fax_headers_fields(mi->headers);
	return 0;
}

/* ---- jobs ---- */

static char *take(GHashTable *t, const char *name)
{
	const char *v = g_hash_table_lookup(t, name);
	char *copy = v && *v ? g_strdup(v) : NULL;
	g_hash_table_remove(t, name);
	return copy;
}

static int64_t take_int(GHashTable *t, const char *name, int64_t fallback)
{
	g_autofree char *v = take(t, name);
	return v ? g_ascii_strtoll(v, NULL, 10) : fallback;
}

/* Fill the job from the merged settings; what has no column goes to job->fields. */
static void job_from_fields(struct accept *acc, struct job *job, GHashTable *f, const struct message_info *mi)
{
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	job->state = JOB_STATE_RENDERING;
	job->owner = g_strdup(acc->owner);
	job->sender = g_strdup(acc->sender);
	job->recipient_name = take(f, "recipient_name");
	job->recipient_company = take(f, "recipient_company");
	job->resolution = take(f, "resolution");
	job->paper = take(f, "paper");
	job->tsi = take(f, "tsi");
	/* X-Fax-Header-Line is expanded now (date of submission, the number); "none" is kept as "". */
	g_autofree char *header_tmpl = take(f, "header_line");
	if (header_tmpl != NULL) {
		char *line = fax_headers_header_line_expand(header_tmpl, now, NULL, job->number);
		job->header_line = line ? line : g_strdup("");
	}
	/* a shared secret is checked, never stored */
	g_free(take(f, "security_code"));
	job->line = take(f, "line");
	job->notify = take(f, "notify");
	job->notify_to = take(f, "notify_to");
	if (job->notify_to == NULL)
		job->notify_to = g_strdup(mi->reply_to ? mi->reply_to : mi->from ? mi->from : (*acc->sender ? acc->sender : NULL));
	job->client_ref = take(f, "client_ref");
	job->idempotency_key = take(f, "idempotency_key");
	job->priority = take_int(f, "priority", 5);
	job->send_at = take_int(f, "send_at", 0);
	job->next_try_at = MAX(now, job->send_at);
	job->expires_at = take_int(f, "expires_at", job->next_try_at + config_int(acc->ac->config, "retry", "expire"));
	int64_t retries = take_int(f, "retries", -1);
	job->max_tries = retries >= 0 ? retries + 1 : 0; /* retries after the first try */
	job->retry_interval = take_int(f, "retry_interval", 0);
	g_hash_table_remove(f, "number");
	g_hash_table_remove(f, "numbers");
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, f);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (v != NULL && *(const char *)v != '\0')
			g_hash_table_replace(job->fields, g_strdup(k), g_strdup(v));
	if (mi->subject)
		g_hash_table_replace(job->fields, g_strdup("subject"), g_strdup(mi->subject));
	if (mi->message_id)
		g_hash_table_replace(job->fields, g_strdup("message_id"), g_strdup(mi->message_id));
	if (acc->envid)
		g_hash_table_replace(job->fields, g_strdup("dsn_envid"), g_strdup(acc->envid));
	if (acc->sub.dsn_ret)
		g_hash_table_replace(job->fields, g_strdup("dsn_ret"), g_strdup(acc->sub.dsn_ret == 1 ? "full" : "hdrs"));
	if (acc->auth_user)
		g_hash_table_replace(job->fields, g_strdup("auth_user"), g_strdup(acc->auth_user));
}

static void add_dsn_fields(struct job *job, const struct accept_rcpt *r)
{
	if (r->dsn_notify != 0) {
		GString *n = g_string_new(NULL);
		static const char *const names[] = {"never", "success", "failure", "delay"};
		for (int b = 0; b < 4; b++)
			if (r->dsn_notify & (1u << b))
				g_string_append_printf(n, "%s%s", n->len ? "," : "", names[b]);
		g_hash_table_replace(job->fields, g_strdup("dsn_notify"), g_string_free(n, FALSE));
	}
	if (r->orcpt)
		g_hash_table_replace(job->fields, g_strdup("dsn_orcpt"), g_strdup(r->orcpt));
	g_hash_table_replace(job->fields, g_strdup("rcpt"), g_strdup(r->address));
}

/* The fax numbers of one recipient: its address, or X-Fax-Number for the service mailbox. */
static int rcpt_numbers(struct accept *acc, struct accept_rcpt *r, GHashTable *fields, GArray *numbers, int *code_r,
			char reply_r[512])
{
	if (!r->service_mailbox) {
		g_array_append_val(numbers, r->number);
		return 0;
	}
	const char *list = g_hash_table_lookup(fields, "numbers");
	if (list == NULL || *list == '\0') {
		*code_r = 550;
		snprintf(reply_r, 512, "5.1.3 Mail to the fax service mailbox needs an X-Fax-Number header");
		return -1;
	}
	g_auto(GStrv) items = g_strsplit(list, ",", -1);
	for (int i = 0; items[i]; i++) {
		struct dial_number num;
		if (check_number(acc, g_strstrip(items[i]), &num, code_r, reply_r) < 0)
			return -1;
		g_array_append_val(numbers, num);
	}
	return 0;
}

/* Jobs for one recipient, inside the open transaction. */
static int make_jobs(struct accept *acc, struct accept_rcpt *r, const struct message_info *mi, int64_t message_doc,
		     struct accept_result *res)
{
	GArray *numbers = g_array_new(FALSE, FALSE, sizeof(struct dial_number));
	int ret = rcpt_numbers(acc, r, mi->fields, numbers, &res->code, res->text);
	for (guint i = 0; ret == 0 && i < numbers->len; i++) {
		struct dial_number *num = &g_array_index(numbers, struct dial_number, i);
		GHashTable *merged = fax_headers_merge(NULL, r->fax, mi->fields, acc->profile_fields, acc->domain_fields,
						      r->index);
		struct job *job = store_job_new();
		job->number = g_strdup(num->e164);
		job->dial = g_strdup(num->dial);
		job_from_fields(acc, job, merged, mi);
		add_dsn_fields(job, r);
		job->message_doc = message_doc;
		if (store_job_insert(acc->ac->store, job, acc->ac->node) < 0) {
			res->code = 451;
			snprintf(res->text, sizeof(res->text), "4.3.0 Cannot queue the fax now, try again later");
			log_error("store: %s", store_error(acc->ac->store));
			ret = -1;
		} else {
			g_ptr_array_add(res->job_ids, g_strdup(job->id));
		}
		store_job_free(&job);
		g_hash_table_unref(merged);
	}
	g_array_free(numbers, TRUE);
	return ret;
}

/* Jobs an earlier submission with the same key made; 1 found (ids in res), 0, -1 error. */
static int find_idempotent(struct accept *acc, const char *key, struct accept_result *res)
{
	struct db_rows *rows = db_query(store_db(acc->ac->store), "SELECT id FROM jobs WHERE owner = ? AND idempotency_key = ? ORDER BY id",
					"ss", acc->owner, key);
	if (rows == NULL)
		return -1;
	int ret;
	while ((ret = db_next(rows)) > 0)
		g_ptr_array_add(res->job_ids, g_strdup(db_col_text(rows, 0)));
	db_rows_free(&rows);
	return ret < 0 ? -1 : res->job_ids->len > 0;
}

static void set_all(struct accept_result *results, int n, int code, const char *text)
{
	for (int i = 0; i < n; i++) {
		results[i].code = code;
		g_strlcpy(results[i].text, text, sizeof(results[i].text));
	}
}

static void queued_text(struct accept_result *res, const char *prefix)
{
	GString *s = g_string_new(prefix);
	for (guint i = 0; i < res->job_ids->len; i++)
		g_string_append_printf(s, " %s", (const char *)res->job_ids->pdata[i]);
	res->code = 250;
	g_strlcpy(res->text, s->str, sizeof(res->text));
	g_string_free(s, TRUE);
}

/* Store the raw message and the jobs in one transaction. SMTP (n == 1): every recipient or
   nothing. LMTP (n == recipients): a recipient refused for its own reason fails alone; store
   trouble fails them all. */
static void commit_jobs(struct accept *acc, const struct message_info *mi, struct accept_result *results, int n)
{
	struct store *st = acc->ac->store;
	const bool per_rcpt = n > 1;
	int64_t doc = 0;
	if (lseek(acc->spool_fd, 0, SEEK_SET) < 0 || store_begin(st) < 0 ||
	    store_document_put_fd(st, "message", "message/rfc822", acc->spool_fd, acc->size, &doc) < 0) {
		log_error("store: %s", store_error(st));
		store_rollback(st);
		set_all(results, n, 451, "4.3.0 Cannot queue the fax now, try again later");
		return;
	}
	int queued = 0;
	bool store_trouble = false, refused = false;
	for (guint i = 0; i < acc->rcpts->len && !store_trouble && !(refused && !per_rcpt); i++) {
		struct accept_result *res = &results[per_rcpt ? (int)i : 0];
		if (make_jobs(acc, acc->rcpts->pdata[i], mi, doc, res) == 0)
			queued++;
		else if (res->code == 451)
			store_trouble = true;
		else
			refused = true;
	}
	bool keep = !store_trouble && !(refused && !per_rcpt) && queued > 0;
	if (keep && store_commit(st) == 0) {
		for (int i = 0; i < n; i++)
			if (results[i].code == 0)
				queued_text(&results[i], "2.0.0 Ok: queued as");
		return;
	}
	if (keep)
		log_error("store commit: %s", store_error(st));
	store_rollback(st);
	for (int i = 0; i < n; i++) {
		g_ptr_array_set_size(results[i].job_ids, 0);
		if (results[i].code == 0 || store_trouble || keep) {
			results[i].code = 451;
			g_strlcpy(results[i].text, "4.3.0 Cannot queue the fax now, try again later", sizeof(results[i].text));
		}
	}
}

void accept_commit(struct accept *acc, struct accept_result *results, int n)
{
	for (int i = 0; i < n; i++) {
		results[i].code = 0;
		results[i].text[0] = '\0';
		if (results[i].job_ids == NULL)
			results[i].job_ids = g_ptr_array_new_with_free_func(g_free);
	}
	if (acc->spool_failed || acc->spool_fd < 0) {
		set_all(results, n, 451, "4.3.0 Cannot spool the message now, try again later");
		return;
	}
	struct message_info mi = {0};
	int code = 0;
	char reply[512];
	if (parse_message(acc, &mi, &code, reply) < 0) {
		set_all(results, n, code, reply);
		message_info_clear(&mi);
		return;
	}
	const char *key = g_hash_table_lookup(mi.fields, "idempotency_key");
	int seen = key ? find_idempotent(acc, key, &results[0]) : 0;
	if (seen < 0) {
		set_all(results, n, 451, "4.3.0 Cannot queue the fax now, try again later");
	} else if (seen > 0) {
		queued_text(&results[0], "2.0.0 Ok: already queued as");
		for (int i = 1; i < n; i++) {
			results[i].code = results[0].code;
			g_strlcpy(results[i].text, results[0].text, sizeof(results[i].text));
		}
	} else {
		commit_jobs(acc, &mi, results, n);
	}
	message_info_clear(&mi);
}

void accept_results_clear(struct accept_result *results, int n)
{
	for (int i = 0; i < n; i++)
		if (results[i].job_ids != NULL) {
			g_ptr_array_free(results[i].job_ids, TRUE);
			results[i].job_ids = NULL;
		}
}
