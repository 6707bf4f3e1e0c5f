/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A received fax as mail (research/conventions.md §3.4): the "received" template for subject
 * and text, the headers Outlook/Exchange read for faxes (Content-Class, X-CallingTelephoneNumber,
 * X-FaxNumberOfPages) and our X-Fax-* ones, From "CSID <+CALLER@fax_domain>" so that replying
 * sends a fax back, and the fax attached as PDF, TIFF, both or not at all.
 *
 * A fax is never lost to a conversion: when no PDF can be made the TIFF goes instead, and the
 * text says why. A reception that ended early or failed is mailed too, saying so.
 *
 * STANDARDS: MS-OXCMAIL §2.2.3.2.15 (Content-Class: fax and the UM headers), RFC 3458
 * (Message-Context), RFC 3834 (Auto-Submitted), RFC 3192 (fax numbers as mailbox local parts),
 * RFC 3339 (X-Fax-Received-At), TIFF-F (RFC 3949's profile S) for image/tiff.
 */
#include "smtpgw/notice.h"

#include <string.h>

#include "common/error.h"
#include "smtpgw/mailmime.h"
#include "smtpgw/mailtemplate.h"

#define PHONE_DIGITS_MIN 3
#define PHONE_DIGITS_MAX 20

/* "complete", "partial" or "failed": what X-Fax-Receive-Status says. */
static const char *receive_status(const struct inbound *in)
{
	if (in->partial)
		return "partial";
	if (in->result_code != 0)
		return in->pages > 0 ? "partial" : "failed";
	return "complete";
}

/* The digits of a phone number ("+49 30 1234-56" -> "+4930123456"), keeping a leading "+";
   NULL when s is not one. g_free(). */
static char *phone_number(const char *s)
{
	if (s == NULL)
		return NULL;
	GString *n = g_string_new(NULL);
	for (const char *c = s; *c != '\0'; c++) {
		if (g_ascii_isdigit(*c) || (*c == '+' && n->len == 0))
			g_string_append_c(n, *c);
		else if (!strchr(" -./()", *c)) {
			g_string_truncate(n, 0);
			break;
		}
	}
	size_t digits = n->len - (n->str[0] == '+' ? 1 : 0);
	if (digits < PHONE_DIGITS_MIN || digits > PHONE_DIGITS_MAX) {
		g_string_free(n, TRUE);
		return NULL;
	}
	return g_string_free(n, FALSE);
}

/* "+CALLER@fax_domain" when the caller id, else the CSID, is a number; else the gateway's From. */
static char *reply_address(const struct mail_env *env, const struct inbound *in)
{
	g_autofree char *number = phone_number(in->caller_id);
	if (number == NULL)
		number = phone_number(in->remote_csid);
	if (number != NULL && env->fax_domain != NULL && *env->fax_domain != '\0')
		return g_strdup_printf("%s@%s", number, env->fax_domain);
	return g_strdup(env->from);
}

static const char *first_set(const char *a, const char *b)
{
	return a && *a ? a : b && *b ? b : NULL;
}

static GArray *rx_headers(const struct inbound *in, const char *status, const char *routed_by)
{
	GArray *x = mail_mime_fields_new();
	mail_mime_fields_add(x, "X-CallingTelephoneNumber", NULL, MAIL_FIELD_TEXT, in->caller_id);
	mail_mime_fields_add_int(x, "X-FaxNumberOfPages", NULL, in->pages);
	mail_mime_fields_add(x, "X-Fax-Called-Number", "did", MAIL_FIELD_TEXT, in->did);
	mail_mime_fields_add(x, "X-Fax-Caller-ID", "caller_id", MAIL_FIELD_TEXT, in->caller_id);
	mail_mime_fields_add(x, "X-Fax-Remote-TSI", "remote_tsi", MAIL_FIELD_TEXT, in->remote_csid);
	mail_mime_fields_add_int(x, "X-Fax-Pages", "pages", in->pages);
	mail_mime_fields_add(x, "X-Fax-Resolution", "resolution", MAIL_FIELD_TEXT, in->resolution);
	g_autofree char *at = mail_mime_rfc3339(in->received_at);
	mail_mime_fields_add(x, "X-Fax-Received-At", "received_at", MAIL_FIELD_TEXT, at);
	mail_mime_fields_add_int(x, "X-Fax-Duration", "duration", (in->duration_ms + 500) / 1000);
	mail_mime_fields_add(x, "X-Fax-Receive-Status", "receive_status", MAIL_FIELD_TEXT, status);
	if (strcmp(status, "complete") != 0)
		mail_mime_fields_add(x, "X-Fax-Result-Text", "result_text", MAIL_FIELD_TEXT, in->result_text);
	mail_mime_fields_add(x, "X-Fax-Job-ID", "job_id", MAIL_FIELD_TEXT, in->id);
	mail_mime_fields_add(x, "X-Fax-Line", "line", MAIL_FIELD_TEXT, in->line);
	mail_mime_fields_add(x, "X-Fax-Routed-By", "routed_by", MAIL_FIELD_TEXT, routed_by);
	return x;
}

static void put(GHashTable *t, const char *key, const char *value)
{
	if (value != NULL && *value != '\0')
		g_hash_table_replace(t, (gpointer)key, g_strdup(value));
}

/* The fields of the "received" template (docs/mail-templates.md). */
static GHashTable *rx_fields(const struct inbound *in, const GArray *x, const char *lang, const char *note)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	const char *status = mail_mime_fields_get(x, "receive_status");
	put(t, "job_id", in->id);
	put(t, "sender",
	    first_set(first_set(in->remote_csid, in->caller_id),
		      mail_template_phrase(lang, "sender.unknown")));
	put(t, "csid", in->remote_csid);
	put(t, "caller_id", in->caller_id);
	put(t, "did", in->did);
	put(t, "pages", mail_mime_fields_get(x, "pages"));
	g_hash_table_replace(
	    t, "pages_text",
	    g_strdup_printf(mail_template_phrase(lang, in->pages == 1 ? "pages.one" : "pages.many"),
			    (int)in->pages));
	g_autofree char *res_key = g_strconcat("res.", in->resolution ? in->resolution : "", NULL);
	put(t, "resolution", first_set(mail_template_phrase(lang, res_key), in->resolution));
	g_hash_table_replace(t, "received_at", mail_mime_human_time(in->received_at, lang));
	put(t, "duration", mail_mime_fields_get(x, "duration"));
	put(t, "receive_status", status);
	g_autofree char *rx_key = g_strconcat("rx.", status, NULL);
	put(t, "receive_status_text", mail_template_phrase(lang, rx_key));
	put(t, "result_text", mail_mime_fields_get(x, "result_text"));
	put(t, "line", in->line);
	put(t, "routed_by", mail_mime_fields_get(x, "routed_by"));
	put(t, "attachment_note", note);
	return t;
}

/* The attachments format asks for, into parts[2]; a note when the fax is missing or could only
   go as TIFF. */
static void rx_attachments(const struct mail_env *env, const struct inbound *in, const char *format,
			   const void *tiff, size_t len, const char *lang, GMimeObject *parts[2],
			   char **note_r)
{
	bool pdf = strcmp(format, "pdf") == 0 || strcmp(format, "both") == 0;
	bool tif = strcmp(format, "tiff") == 0 || strcmp(format, "both") == 0;
	if (!pdf && !tif)
		return;
	if (tiff == NULL || len == 0) {
		*note_r = g_strdup(mail_template_phrase(lang, "attach.missing"));
		return;
	}
	g_autofree char *pdf_name = g_strdup_printf("fax-%s.pdf", in->id);
	g_autofree char *tif_name = g_strdup_printf("fax-%s.tif", in->id);
	GBytes *out = NULL;
	const char *error = NULL;
	if (pdf && mail_mime_fax_convert(env->tmp_dir, tiff, len, "pdf", &out, &error) < 0) {
		*note_r = g_strdup_printf(mail_template_phrase(lang, "attach.tiff"), error);
		tif = true;
	} else if (pdf) {
		gsize n;
		const void *data = g_bytes_get_data(out, &n);
		parts[0] = mail_mime_attachment("application", "pdf", pdf_name, data, n);
		g_bytes_unref(out);
	}
	if (tif)
		parts[1] = mail_mime_attachment("image", "tiff", tif_name, tiff, len);
}

static int rx_build(const struct mail_env *env, const struct inbound *in, const char *recipient,
		    const char *message_id, const GArray *x, const char *subject, GMimeObject *body,
		    GByteArray **msg_r, const char **error_r)
{
	g_autofree char *from = reply_address(env, in);
	struct mail_mime_head head = {.from = from,
				      .from_name = first_set(in->remote_csid, in->caller_id),
				      .to = recipient,
				      .subject = subject,
				      .message_id = message_id,
				      .hostname = env->hostname,
				      .auto_submitted = "auto-generated",
				      .date = in->received_at};
	GMimeMessage *msg = NULL;
	if (mail_mime_message(&head, &msg, error_r) < 0)
		return -1;
	mail_mime_set_header((GMimeObject *)msg, "Message-Context", "fax-message");
	mail_mime_fields_to_headers(x, (GMimeObject *)msg);
	g_mime_message_set_mime_part(msg, body);
	/* a Content-* header goes on the body part (GMime's rule), which heads the message too */
	mail_mime_set_header(body, "Content-Class", "fax");
	*msg_r = mail_mime_serialize(msg);
	g_object_unref(msg);
	return 0;
}

int faxmail_compose(const struct mail_env *env, const struct inbound *in, const char *recipient,
		    const char *format, const char *language, const char *routed_by, const char *message_id,
		    const void *tiff, size_t tiff_len, GByteArray **msg_r, const char **error_r)
{
	if (env == NULL || in == NULL || recipient == NULL)
		return error_set(error_r, "fax mail: no fax or recipient");
	if (format == NULL || *format == '\0')
		format = "pdf";
	if (strcmp(format, "pdf") != 0 && strcmp(format, "tiff") != 0 && strcmp(format, "both") != 0 &&
	    strcmp(format, "none") != 0)
		return error_set(error_r, "fax mail: unknown format \"%s\" (pdf, tiff, both, none)", format);
	const char *lang = mail_template_language(language);
	GArray *x = rx_headers(in, receive_status(in), routed_by);
	GMimeObject *parts[3] = {NULL, NULL, NULL};
	g_autofree char *note = NULL, *subject = NULL, *text = NULL, *html = NULL;
	rx_attachments(env, in, format, tiff, tiff_len, lang, parts + 1, &note);
	GHashTable *fields = rx_fields(in, x, lang, note);
	int ret =
	    mail_template_expand(env->templates, "received", lang, fields, &subject, &text, &html, error_r);
	g_hash_table_destroy(fields);
	if (ret == 0) {
		parts[0] = mail_mime_alternative(text, html);
		GMimeObject *body = mail_mime_multipart("mixed", parts, G_N_ELEMENTS(parts));
		ret = rx_build(env, in, recipient, message_id, x, subject, body, msg_r, error_r);
		g_object_unref(body);
	} else {
		g_clear_object(&parts[1]);
		g_clear_object(&parts[2]);
	}
	g_array_unref(x);
	return ret;
}
