/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Notifications of sent fax jobs (research/conventions.md §3.3): which state change gets one,
 * whether the submitter's policy wants it, and the message itself.
 *
 * Layout. The human part is multipart/alternative (text from NAME.LANG.txt, HTML from .html);
 * the JSON part and the fax (PDF, first-page PNG or TIFF) join it in a multipart/mixed. With a
 * DSN, that whole human part is the first part of a multipart/report; report-type=
 * delivery-status and message/delivery-status the second: RFC 6522 §3 allows a report two or
 * three parts (the third being the returned message), so the §3.3 proposal of JSON and fax as
 * parts 3 and 4 of the report would not be a valid report; inside its first part they are.
 *
 * Numbers. X-Fax-Duration is the time on the line summed over every attempt (what a call costs
 * and what InterFAX's Duration means), in whole seconds; X-Fax-Attempts counts the calls the
 * store recorded (job->tries when no list is given). X-Fax-Bit-Rate and -ECM are those of the
 * last call. DSN Status codes are RFC 3463 per the §3.3 mapping table (dsn_status below).
 *
 * STANDARDS: RFC 3464 (delivery status notifications), RFC 6522 (multipart/report), RFC 3463
 * (enhanced status codes), RFC 3461 (NOTIFY words), RFC 3834 (Auto-Submitted), RFC 5322
 * (In-Reply-To/References), RFC 3339 (X-Fax-* times), RFC 8259 (JSON).
 */
#include "smtpgw/notice.h"

#include <string.h>

#include "common/error.h"
#include "smtpgw/mailmime.h"
#include "smtpgw/mailtemplate.h"

#define DSN_TEXT_MAX 200 /* characters of a result text in Diagnostic-Code */

enum want { WANT_SUCCESS = 1, WANT_FAILURE = 2, WANT_DELAY = 4 };

/* Template names, by kind; also the X-Fax-Status words but for "partial". */
static const char *const kind_names[] = {
    [NOTICE_SENT] = "sent",	      [NOTICE_FAILED] = "failed",   [NOTICE_RETRYING] = "retrying",
    [NOTICE_CANCELLED] = "cancelled", [NOTICE_EXPIRED] = "expired", [NOTICE_FORMAT_FAILED] = "format-failed",
};

/* RFC 3463 status of a failed job by its result code (§3.3 table; codes the table has no row
   for are ours: incompatible is "conversion required but not supported", document a local
   error). */
static const struct {
	const char *code, *status;
} failed_status[] = {
    {"too-many-tries", "4.4.7"}, {"too-many-dials", "4.4.7"}, {"expired", "4.4.7"},
    {"busy", "4.4.1"},		 {"no-answer", "4.4.1"},      {"protocol", "4.4.2"},
    {"training", "4.4.2"},	 {"hangup", "4.4.2"},	      {"timeout", "4.4.2"},
    {"line", "4.4.2"},		 {"no-fax", "5.1.1"},	      {"invalid-number", "5.1.3"},
    {"rejected", "5.7.1"},	 {"incompatible", "5.6.3"},   {"document", "5.3.0"},
};

/* What the attempts say, gathered once. */
struct facts {
	const struct attempt *last; /* NULL: no call */
	int64_t attempts, duration, completed;
	const char *status, *result_code, *remote_csid;
};

static const char *job_field(const struct job *job, const char *name)
{
	return job->fields ? g_hash_table_lookup(job->fields, name) : NULL;
}

/* --- which notice, and whether wanted ----------------------------------------------------- */

const char *notice_status(enum notice_kind kind, const struct job *job)
{
	if ((size_t)kind >= G_N_ELEMENTS(kind_names))
		return "failed";
	if (kind == NOTICE_FAILED && job != NULL && job->pages_done > 0)
		return "partial";
	return kind_names[kind];
}

int notice_kind_for(const struct job *job, enum job_state to, enum notice_kind *kind_r)
{
	const char *code = job ? job->result_code : NULL;
	switch (to) {
	case JOB_STATE_DONE:
		*kind_r = NOTICE_SENT;
		return 0;
	case JOB_STATE_DEFERRED:
		*kind_r = NOTICE_RETRYING;
		return 0;
	case JOB_STATE_CANCELLED:
		*kind_r = NOTICE_CANCELLED;
		return 0;
	case JOB_STATE_EXPIRED:
		*kind_r = NOTICE_EXPIRED;
		return 0;
	case JOB_STATE_FAILED:
		*kind_r = g_strcmp0(code, "format-failed") == 0 ? NOTICE_FORMAT_FAILED
			  : g_strcmp0(code, "expired") == 0	? NOTICE_EXPIRED
								: NOTICE_FAILED;
		return 0;
	default:
		return -1;
	}
}

/* The WANT_* bits of a policy; "never" anywhere wins, and a policy of unknown words only is
   taken as the default rather than as "never" (a typo should not silence failures). */
static unsigned policy_bits(const char *policy)
{
	if (policy == NULL || *policy == '\0')
		return WANT_SUCCESS | WANT_FAILURE;
	g_auto(GStrv) words = g_strsplit_set(policy, ",+ \t", -1);
	unsigned bits = 0;
	bool known = false;
	for (char **w = words; *w != NULL; w++) {
		unsigned b = g_ascii_strcasecmp(*w, "success") == 0   ? WANT_SUCCESS
			     : g_ascii_strcasecmp(*w, "failure") == 0 ? WANT_FAILURE
			     : g_ascii_strcasecmp(*w, "delay") == 0   ? WANT_DELAY
			     : g_ascii_strcasecmp(*w, "always") == 0  ? WANT_SUCCESS | WANT_FAILURE
								      : 0;
		if (g_ascii_strcasecmp(*w, "never") == 0)
			return 0;
		known = known || b != 0;
		bits |= b;
	}
	return known ? bits : WANT_SUCCESS | WANT_FAILURE;
}

bool notice_wanted(const char *policy, enum notice_kind kind)
{
	unsigned bits = policy_bits(policy);
	switch (kind) {
	case NOTICE_SENT:
		return bits & WANT_SUCCESS;
	case NOTICE_RETRYING:
		return bits & WANT_DELAY;
	default:
		return bits & WANT_FAILURE;
	}
}

/* --- facts and fields --------------------------------------------------------------------- */

static void gather(const struct job *job, const GPtrArray *attempts, enum notice_kind kind, struct facts *f)
{
	*f = (struct facts){.attempts = attempts ? attempts->len : job->tries,
			    .status = notice_status(kind, job)};
	for (guint i = 0; attempts != NULL && i < attempts->len; i++) {
		const struct attempt *a = attempts->pdata[i];
		if (a->ended_at >= a->started_at && a->started_at > 0)
			f->duration += a->ended_at - a->started_at;
		f->last = a;
	}
	f->result_code = job->result_code;
	if (f->result_code == NULL && (kind == NOTICE_CANCELLED || kind == NOTICE_EXPIRED))
		f->result_code = kind_names[kind];
	f->remote_csid = job->remote_ident && *job->remote_ident ? job->remote_ident
			 : f->last				 ? f->last->remote_ident
								 : NULL;
	if (kind != NOTICE_RETRYING)
		f->completed = job->completed_at ? job->completed_at : job->updated_at;
}

static void add_time(GArray *x, const char *header, const char *key, int64_t t)
{
	g_autofree char *s = mail_mime_rfc3339(t);
	mail_mime_fields_add(x, header, key, MAIL_FIELD_TEXT, s);
}

/* The X-Fax-* headers of §3.3, which are also the JSON part. */
static GArray *xfax_fields(const struct job *job, const struct facts *f, enum notice_kind kind)
{
	GArray *x = mail_mime_fields_new();
	mail_mime_fields_add(x, "X-Fax-Job-ID", "job_id", MAIL_FIELD_TEXT, job->id);
	mail_mime_fields_add(x, "X-Fax-Client-Ref", "client_ref", MAIL_FIELD_TEXT, job->client_ref);
	mail_mime_fields_add(x, "X-Fax-Status", "status", MAIL_FIELD_TEXT, f->status);
	mail_mime_fields_add(x, "X-Fax-Result-Code", "result_code", MAIL_FIELD_TEXT, f->result_code);
	mail_mime_fields_add(x, "X-Fax-Result-Text", "result_text", MAIL_FIELD_TEXT, job->result_text);
	mail_mime_fields_add(x, "X-Fax-Number", "number", MAIL_FIELD_TEXT, job->number);
	g_autofree char *pages =
	    g_strdup_printf("%lld/%lld", (long long)job->pages_done, (long long)job->pages_total);
	mail_mime_fields_add(x, "X-Fax-Pages", NULL, MAIL_FIELD_TEXT, pages);
	mail_mime_fields_add_int(x, NULL, "pages_sent", job->pages_done);
	mail_mime_fields_add_int(x, NULL, "pages_total", job->pages_total);
	mail_mime_fields_add(x, "X-Fax-Remote-CSID", "remote_csid", MAIL_FIELD_TEXT, f->remote_csid);
	if (f->last != NULL)
		mail_mime_fields_add_int(x, "X-Fax-Duration", "duration", f->duration);
	mail_mime_fields_add_int(x, "X-Fax-Attempts", "attempts", f->attempts);
	add_time(x, "X-Fax-Submitted", "submitted", job->created_at);
	add_time(x, "X-Fax-Completed", "completed", f->completed);
	if (kind == NOTICE_RETRYING)
		add_time(x, "X-Fax-Next-Try", "next_try", job->next_try_at);
	if (f->last != NULL && f->last->bit_rate > 0) {
		mail_mime_fields_add_int(x, "X-Fax-Bit-Rate", "bit_rate", f->last->bit_rate);
		mail_mime_fields_add(x, "X-Fax-ECM", "ecm", MAIL_FIELD_BOOL, f->last->ecm ? "yes" : "no");
	}
	mail_mime_fields_add(x, "X-Fax-Resolution", "resolution", MAIL_FIELD_TEXT, job->resolution);
	mail_mime_fields_add(x, "X-Fax-Billing-Code", "billing_code", MAIL_FIELD_TEXT,
			     job_field(job, "billing_code"));
	return x;
}

static void put(GHashTable *t, const char *key, const char *value)
{
	if (value != NULL && *value != '\0')
		g_hash_table_replace(t, (gpointer)key, g_strdup(value));
}

static void put_take(GHashTable *t, const char *key, char *value)
{
	put(t, key, value);
	g_free(value);
}

/* A phrase for key prefix+word, else fallback. */
static const char *phrase_or(const char *lang, const char *prefix, const char *word, const char *fallback)
{
	g_autofree char *key = g_strconcat(prefix, word ? word : "", NULL);
	const char *p = mail_template_phrase(lang, key);
	return p ? p : fallback;
}

/* "Name, Company (+4930123456)", as much of it as is known. */
static char *destination(const struct job *job)
{
	GString *s = g_string_new(job->recipient_name);
	if (job->recipient_company && *job->recipient_company)
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", job->recipient_company);
	if (job->number)
		g_string_append_printf(s, s->len ? " (%s)" : "%s", job->number);
	return g_string_free(s, FALSE);
}

static void put_times(GHashTable *t, const struct job *job, const struct facts *f, enum notice_kind kind,
		      const char *lang)
{
	put_take(t, "submitted", mail_mime_human_time(job->created_at, lang));
	put_take(t, "completed", mail_mime_human_time(f->completed, lang));
	if (kind == NOTICE_RETRYING)
		put_take(t, "next_try", mail_mime_human_time(job->next_try_at, lang));
	put_take(t, "expires", mail_mime_human_time(job->expires_at, lang));
	if (f->last != NULL)
		put_take(t, "duration", g_strdup_printf("%lld", (long long)f->duration));
}

/* The template fields (docs/mail-templates.md): what people read, in their language. */
static GHashTable *template_fields(const struct job *job, const struct facts *f, enum notice_kind kind,
				   const char *lang, const char *attachment_note)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	put(t, "job_id", job->id);
	put(t, "number", job->number);
	put(t, "recipient_name", job->recipient_name);
	put(t, "recipient_company", job->recipient_company);
	put_take(t, "to", destination(job));
	put(t, "sender_name", job_field(job, "sender_name"));
	const char *status_text = phrase_or(lang, "status.", f->status, f->status);
	put(t, "status", f->status);
	put(t, "status_text", status_text);
	put(t, "result_code", f->result_code);
	put(t, "result_text", job->result_text);
	/* the reason in words: the result code's phrase, else the engine's text, else the status */
	put(t, "reason",
	    phrase_or(lang, "result.", f->result_code, job->result_text ? job->result_text : status_text));
	if (job->pages_total > 0) {
		put_take(t, "pages_sent", g_strdup_printf("%lld", (long long)job->pages_done));
		put_take(t, "pages_total", g_strdup_printf("%lld", (long long)job->pages_total));
	}
	put(t, "remote_csid", f->remote_csid);
	if (f->attempts > 0)
		put_take(t, "attempts", g_strdup_printf("%lld", (long long)f->attempts));
	put_times(t, job, f, kind, lang);
	put(t, "subject", job_field(job, "subject"));
	put(t, "client_ref", job->client_ref);
	put(t, "billing_code", job_field(job, "billing_code"));
	put(t, "resolution", phrase_or(lang, "res.", job->resolution, job->resolution));
	if (f->last != NULL && f->last->bit_rate > 0) {
		put_take(t, "bit_rate", g_strdup_printf("%lld", (long long)f->last->bit_rate));
		put(t, "ecm", mail_template_phrase(lang, f->last->ecm ? "yes" : "no"));
	}
	put(t, "attachment_note", attachment_note);
	return t;
}

/* --- the delivery status (RFC 3464) ------------------------------------------------------- */

static bool busy_like(const char *code)
{
	return g_strcmp0(code, "busy") == 0 || g_strcmp0(code, "no-answer") == 0 ||
	       g_strcmp0(code, "no-fax") == 0;
}

static const char *format_failed_status(const char *text)
{
	if (text != NULL && g_str_has_prefix(text, "unsupported type"))
		return "5.6.1";
	if (text != NULL && (strstr(text, "too large") || strstr(text, "more than")))
		return "5.3.4";
	return "5.6.5";
}

static const char *dsn_status(enum notice_kind kind, const struct job *job, const char *code)
{
	switch (kind) {
	case NOTICE_SENT:
		return "2.0.0";
	case NOTICE_RETRYING:
		return busy_like(code) ? "4.4.1" : "4.4.2";
	case NOTICE_EXPIRED:
		return "4.4.7";
	case NOTICE_FORMAT_FAILED:
		return format_failed_status(job->result_text);
	case NOTICE_CANCELLED:
		return "5.0.0";
	default:
		break;
	}
	if (job->pages_done > 0)
		return "4.4.2";
	for (size_t i = 0; code != NULL && i < G_N_ELEMENTS(failed_status); i++)
		if (strcmp(failed_status[i].code, code) == 0)
			return failed_status[i].status;
	return "5.0.0";
}

/* "Name: value" in printable ASCII (a DSN is 7bit text), left out when value is empty. */
static void dsn_field(GString *d, const char *name, const char *prefix, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	g_string_append_printf(d, "%s: %s", name, prefix);
	size_t start = d->len;
	for (const char *c = value; *c != '\0' && d->len - start < DSN_TEXT_MAX; c++)
		g_string_append_c(d, *c > 0x20 && *c < 0x7f ? *c : *c == ' ' ? ' ' : '?');
	g_string_append_c(d, '\n');
}

static void dsn_date(GString *d, const char *name, int64_t t)
{
	g_autofree char *s = mail_mime_rfc5322(t);
	dsn_field(d, name, "", s);
}

static void dsn_recipient(GString *d, const struct mail_env *env, const struct job *job)
{
	const char *orcpt = job_field(job, "dsn_orcpt"), *rcpt = job_field(job, "rcpt");
	dsn_field(d, "Original-Recipient", orcpt && strchr(orcpt, ';') ? "" : "rfc822; ", orcpt);
	g_autofree char *made = NULL;
	if (rcpt == NULL || *rcpt == '\0')
		rcpt = made =
		    g_strdup_printf("%s@%s", job->number ? job->number : job->id,
				    env->fax_domain && *env->fax_domain ? env->fax_domain : env->hostname);
	dsn_field(d, "Final-Recipient", "rfc822; ", rcpt);
}

static char *dsn_report(const struct mail_env *env, const struct job *job, const struct facts *f,
			enum notice_kind kind)
{
	GString *d = g_string_new(NULL);
	dsn_field(d, "Reporting-MTA", "dns; ", env->hostname ? env->hostname : "localhost");
	dsn_field(d, "Original-Envelope-Id", "", job_field(job, "dsn_envid"));
	dsn_date(d, "Arrival-Date", job->created_at);
	g_string_append_c(d, '\n');
	dsn_recipient(d, env, job);
	dsn_field(d, "Action", "",
		  kind == NOTICE_SENT	    ? "delivered"
		  : kind == NOTICE_RETRYING ? "delayed"
					    : "failed");
	dsn_field(d, "Status", "", dsn_status(kind, job, f->result_code));
	g_autofree char *diag = f->result_code ? g_strdup_printf("%s %s", f->result_code,
								 job->result_text ? job->result_text : "")
					       : NULL;
	dsn_field(d, "Diagnostic-Code", "X-Fax; ", diag ? g_strstrip(diag) : NULL);
	if (f->last != NULL)
		dsn_date(d, "Last-Attempt-Date", f->last->ended_at ? f->last->ended_at : f->last->started_at);
	if (kind == NOTICE_RETRYING)
		dsn_date(d, "Will-Retry-Until", job->expires_at);
	dsn_field(d, "X-Fax-Remote-CSID", "", f->remote_csid);
	g_autofree char *pages =
	    g_strdup_printf("%lld/%lld", (long long)job->pages_done, (long long)job->pages_total);
	dsn_field(d, "X-Fax-Pages", "", pages);
	return g_string_free(d, FALSE);
}

/* --- the message -------------------------------------------------------------------------- */

/* The fax as options->attach asks ("pdf", "png", "tiff"), or NULL and a note saying why not. */
static GMimeObject *fax_attachment(const struct mail_env *env, const struct job *job, const char *attach,
				   const void *fax, size_t len, const char *lang, char **note_r)
{
	bool png = g_strcmp0(attach, "png") == 0 || g_strcmp0(attach, "first-page") == 0;
	if (!png && g_strcmp0(attach, "pdf") != 0 && g_strcmp0(attach, "tiff") != 0)
		return NULL;
	if (fax == NULL || len == 0) {
		*note_r = g_strdup(mail_template_phrase(lang, "attach.missing"));
		return NULL;
	}
	bool tiff = g_strcmp0(attach, "tiff") == 0;
	g_autofree char *name = g_strdup_printf("fax-%s%s", job->id,
						png    ? "-page1.png"
						: tiff ? ".tif"
						       : ".pdf");
	if (tiff)
		return mail_mime_attachment("image", "tiff", name, fax, len);
	GBytes *out = NULL;
	const char *error = NULL;
	if (mail_mime_fax_convert(env->tmp_dir, fax, len, png ? "png" : "pdf", &out, &error) < 0) {
		*note_r = g_strdup_printf(mail_template_phrase(lang, "attach.failed"), error);
		return NULL;
	}
	gsize n;
	const void *data = g_bytes_get_data(out, &n);
	GMimeObject *part =
	    mail_mime_attachment(png ? "image" : "application", png ? "png" : "pdf", name, data, n);
	g_bytes_unref(out);
	return part;
}

static GMimeObject *json_part(const struct job *job, const GArray *x)
{
	g_autofree char *json = mail_mime_fields_json(x);
	g_autofree char *name = g_strdup_printf("fax-%s.json", job->id);
	GMimeObject *part = mail_mime_attachment("application", "json", name, json, strlen(json));
	/* readable in the raw message: 7bit, or quoted-printable for UTF-8 */
	g_mime_part_set_content_encoding(
	    GMIME_PART(part),
	    g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
	return part;
}

/* One notice being composed. */
struct compose {
	const struct mail_env *env;
	const struct job *job;
	enum notice_kind kind;
	const struct notice_options *o;
	struct facts f;
	char *subject, *text, *html;
	GMimeObject *attachment; /* taken by the body */
	GArray *x;		 /* the X-Fax-* fields */
};

static GMimeObject *notice_body(struct compose *c)
{
	GMimeObject *human[] = {mail_mime_alternative(c->text, c->html),
				c->o->json ? json_part(c->job, c->x) : NULL, g_steal_pointer(&c->attachment)};
	GMimeObject *top = mail_mime_multipart("mixed", human, G_N_ELEMENTS(human));
	if (!c->o->dsn)
		return top;
	g_autofree char *dsn = dsn_report(c->env, c->job, &c->f, c->kind);
	GMimeObject *report[] = {
	    top, mail_mime_raw("message", "delivery-status", dsn, strlen(dsn), GMIME_CONTENT_ENCODING_7BIT)};
	top = mail_mime_multipart("report", report, G_N_ELEMENTS(report));
	g_mime_object_set_content_type_parameter(top, "report-type", "delivery-status");
	return top;
}

static void reply_headers(GMimeObject *msg, const struct job *job)
{
	g_autofree char *orig = mail_mime_msgid(job_field(job, "message_id"));
	if (orig == NULL)
		return;
	g_mime_object_set_header(msg, "In-Reply-To", orig, NULL);
	g_mime_object_set_header(msg, "References", orig, NULL);
}

static int build(struct compose *c, const char *recipient, const char *message_id, GByteArray **msg_r,
		 const char **error_r)
{
	struct mail_mime_head head = {.from = c->env->from,
				      .to = recipient,
				      .subject = c->subject,
				      .message_id = message_id,
				      .hostname = c->env->hostname,
				      .auto_submitted = "auto-replied"};
	GMimeMessage *msg = NULL;
	if (mail_mime_message(&head, &msg, error_r) < 0)
		return -1;
	reply_headers((GMimeObject *)msg, c->job);
	mail_mime_fields_to_headers(c->x, (GMimeObject *)msg);
	GMimeObject *body = notice_body(c);
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	*msg_r = mail_mime_serialize(msg);
	g_object_unref(msg);
	return 0;
}

int notice_compose(const struct mail_env *env, const struct job *job, const GPtrArray *attempts,
		   enum notice_kind kind, const char *recipient, const char *message_id,
		   const struct notice_options *options, const void *fax, size_t fax_len, GByteArray **msg_r,
		   const char **error_r)
{
	static const struct notice_options defaults = {"en", false, false, "none"};
	if (env == NULL || job == NULL || recipient == NULL || (size_t)kind >= G_N_ELEMENTS(kind_names))
		return error_set(error_r, "notice: no job, recipient or kind");
	struct compose c = {.env = env, .job = job, .kind = kind, .o = options ? options : &defaults};
	const char *lang = mail_template_language(c.o->language);
	gather(job, attempts, kind, &c.f);
	g_autofree char *note = NULL;
	c.attachment = fax_attachment(env, job, c.o->attach, fax, fax_len, lang, &note);
	c.x = xfax_fields(job, &c.f, kind);
	GHashTable *fields = template_fields(job, &c.f, kind, lang, note);
	int ret = mail_template_expand(env->templates, kind_names[kind], lang, fields, &c.subject, &c.text,
				       &c.html, error_r);
	if (ret == 0)
		ret = build(&c, recipient, message_id, msg_r, error_r);
	g_hash_table_destroy(fields);
	g_array_unref(c.x);
	g_clear_object(&c.attachment);
	g_free(c.subject);
	g_free(c.text);
	g_free(c.html);
	return ret;
}
