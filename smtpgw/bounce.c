/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A message the mailer gave up on, reported to the admin: the reason from the "bounce" template
 * and the original attached untouched as message/rfc822, or only its header section as
 * text/rfc822-headers when it is over BOUNCE_ORIGINAL_MAX (the admin needs to know what it was,
 * not a second copy of a large fax). An original that no MIME part may carry as it is (NUL bytes,
 * lines over 998 octets) goes base64 as application/octet-stream.
 *
 * The report is in English: bounce_compose() has no language, and admins share one mailbox.
 *
 * STANDARDS: RFC 2046 §5.2.1 (message/rfc822: 7bit, 8bit or binary only), RFC 6522 §4
 * (text/rfc822-headers), RFC 5322 §2.1.1 (998 octets a line), RFC 3834 (Auto-Submitted).
 */
#include "smtpgw/notice.h"

#include <string.h>

#include "common/error.h"
#include "smtpgw/mailmime.h"
#include "smtpgw/mailtemplate.h"

#define BOUNCE_ORIGINAL_MAX (1024 * 1024) /* larger originals go as their headers only */
#define BOUNCE_LINE_MAX 998

/* Bytes of the header section, up to and including the blank line (all of it when none). */
static size_t header_length(const char *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (data[i] == '\n' && data[i + 1] == '\n')
			return i + 2;
		if (data[i] == '\n' && data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* 7bit, 8bit, or -1 when the data can only be carried as binary. */
static int content_encoding(const char *data, size_t len)
{
	bool eight = false;
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\0' || ++line > BOUNCE_LINE_MAX + 1)
			return -1;
		if (c == '\n')
			line = 0;
		eight = eight || c >= 0x80;
	}
	return eight ? GMIME_CONTENT_ENCODING_8BIT : GMIME_CONTENT_ENCODING_7BIT;
}

static GMimeObject *original_part(const char *data, size_t len)
{
	bool headers_only = len > BOUNCE_ORIGINAL_MAX;
	if (headers_only)
		len = header_length(data, len);
	int encoding = content_encoding(data, len);
	if (encoding < 0)
		return mail_mime_attachment("application", "octet-stream",
					    headers_only ? "headers.txt" : "original.eml", data, len);
	return mail_mime_raw(headers_only ? "text" : "message", headers_only ? "rfc822-headers" : "rfc822",
			     data, len, (GMimeContentEncoding)encoding);
}

static void put(GHashTable *t, const char *key, const char *value)
{
	if (value != NULL && *value != '\0')
		g_hash_table_replace(t, (gpointer)key, g_strdup(value));
}

/* Message-ID, From and Subject of the original, decoded, into the template fields. */
static void original_fields(GHashTable *t, const char *data, size_t len)
{
	size_t n = header_length(data, len);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, n);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	if (msg != NULL) {
		const char *id = g_mime_message_get_message_id(msg);
		g_autofree char *bracketed = id ? g_strdup_printf("<%s>", id) : NULL;
		put(t, "message_id", bracketed);
		put(t, "subject", g_mime_message_get_subject(msg));
		InternetAddressList *from = g_mime_message_get_from(msg);
		g_autofree char *text = from ? internet_address_list_to_string(from, NULL, FALSE) : NULL;
		put(t, "from", text);
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
}

static GHashTable *bounce_fields(const char *failed_recipient, const char *reason, const void *original,
				 size_t len)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	put(t, "recipient", failed_recipient);
	put(t, "reason", reason);
	if (original == NULL || len == 0)
		return t;
	original_fields(t, original, len);
	g_autofree char *size = g_strdup_printf("%zu", len);
	put(t, "size", size);
	if (len > BOUNCE_ORIGINAL_MAX)
		g_hash_table_replace(t, "original_note",
				     g_strdup_printf(mail_template_phrase("en", "orig.headers"), size));
	else
		put(t, "original_note", mail_template_phrase("en", "orig.full"));
	return t;
}

int bounce_compose(const struct mail_env *env, const char *admin, const char *failed_recipient,
		   const char *reason, const char *message_id, const void *original, size_t len,
		   GByteArray **msg_r, const char **error_r)
{
	if (env == NULL || admin == NULL)
		return error_set(error_r, "bounce: no admin address");
	mail_mime_init();
	GHashTable *fields = bounce_fields(failed_recipient, reason, original, len);
	g_autofree char *subject = NULL, *text = NULL, *html = NULL;
	int ret =
	    mail_template_expand(env->templates, "bounce", "en", fields, &subject, &text, &html, error_r);
	g_hash_table_destroy(fields);
	struct mail_mime_head head = {.from = env->from,
				      .to = admin,
				      .subject = subject,
				      .message_id = message_id,
				      .hostname = env->hostname,
				      .auto_submitted = "auto-generated"};
	GMimeMessage *msg = NULL;
	if (ret < 0 || mail_mime_message(&head, &msg, error_r) < 0)
		return -1;
	GMimeObject *parts[] = {mail_mime_alternative(text, html),
				original && len ? original_part(original, len) : NULL};
	GMimeObject *body = mail_mime_multipart("mixed", parts, G_N_ELEMENTS(parts));
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	*msg_r = mail_mime_serialize(msg);
	g_object_unref(msg);
	return 0;
}
