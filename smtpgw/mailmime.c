/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The pieces every composed mail is made of, built with GMime: messages and their headers,
 * text, alternative, attachment and raw parts, the X-Fax-* field list (headers and JSON), times,
 * and the fax converted for attaching. Messages leave here with CRLF line ends, ready for SMTP
 * or a Maildir that the mailer's transports treat alike.
 *
 * STANDARDS: RFC 5322 (message format, dates, msg-id), RFC 2045-2047 (MIME, quoted-printable,
 * base64, encoded-words), RFC 2183 (Content-Disposition), RFC 3834 (Auto-Submitted),
 * RFC 3339 (timestamps), RFC 8259 (JSON).
 */
#include "smtpgw/mailmime.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "render/convert.h"
#include "smtpgw/mailtemplate.h"

static gpointer init_once(gpointer unused)
{
	(void)unused;
	g_mime_init();
	return NULL;
}

void mail_mime_init(void)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, init_once, NULL);
}

/* --- headers ------------------------------------------------------------------------------ */

/* One line of valid UTF-8 without control characters, at most max bytes (cut at a character). */
static char *one_line(const char *value, size_t max)
{
	char *s = g_utf8_make_valid(value, -1);
	for (char *c = s; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	if (strlen(s) > max)
		*g_utf8_find_prev_char(s, s + max + 1) = '\0';
	return g_strstrip(s);
}

void mail_mime_set_header(GMimeObject *obj, const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	g_autofree char *clean = one_line(value, MAIL_MIME_HEADER_MAX);
	if (*clean != '\0')
		g_mime_object_set_header(obj, name, clean, "utf-8");
}

char *mail_mime_msgid(const char *value)
{
	if (value == NULL)
		return NULL;
	const char *start = strchr(value, '<'), *end = NULL;
	if (start != NULL) {
		start++;
		end = strchr(start, '>');
	} else {
		start = value + strspn(value, " \t\r\n");
		end = start + strcspn(start, " \t\r\n");
	}
	if (end == NULL || end == start)
		return NULL;
	for (const char *c = start; c < end; c++)
		if (*c <= 0x20 || *c >= 0x7f || *c == '<')
			return NULL;
	return g_strdup_printf("<%.*s>", (int)(end - start), start);
}

static int add_addresses(GMimeMessage *msg, GMimeAddressType type, const char *text, const char *name)
{
	InternetAddressList *list = text ? internet_address_list_parse(NULL, text) : NULL;
	int ret = list != NULL && internet_address_list_length(list) > 0 ? 0 : -1;
	if (ret == 0 && name != NULL) {
		InternetAddress *first = internet_address_list_get_address(list, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(first)) {
			g_autofree char *clean = one_line(name, MAIL_MIME_HEADER_MAX);
			internet_address_set_name(first, clean);
		}
	}
	if (ret == 0)
		internet_address_list_append(g_mime_message_get_addresses(msg, type), list);
	if (list != NULL)
		g_object_unref(list);
	return ret;
}

int mail_mime_message(const struct mail_mime_head *head, GMimeMessage **msg_r, const char **error_r)
{
	mail_mime_init();
	GMimeMessage *msg = g_mime_message_new(TRUE);
	if (add_addresses(msg, GMIME_ADDRESS_TYPE_FROM, head->from, head->from_name) < 0 ||
	    add_addresses(msg, GMIME_ADDRESS_TYPE_TO, head->to, NULL) < 0) {
		g_object_unref(msg);
		return error_set(error_r, "not an address: \"%s\" or \"%s\"", head->from ? head->from : "",
				 head->to ? head->to : "");
	}
	GDateTime *date =
	    g_date_time_new_from_unix_local(head->date ? head->date : g_get_real_time() / G_USEC_PER_SEC);
	g_mime_message_set_date(msg, date);
	g_date_time_unref(date);
	g_autofree char *subject = one_line(head->subject ? head->subject : "", MAIL_MIME_HEADER_MAX);
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_autofree char *id = mail_mime_msgid(head->message_id);
	g_autofree char *made =
	    id ? g_strndup(id + 1, strlen(id) - 2)
	       : g_mime_utils_generate_message_id(head->hostname ? head->hostname : "localhost");
	g_mime_message_set_message_id(msg, made);
	mail_mime_set_header((GMimeObject *)msg, "Auto-Submitted", head->auto_submitted);
	/* Exchange and Outlook answer Auto-Submitted with nothing only when told so: no out-of-office
	   replies to a notification, nor a fax sent back to the caller of a received one. */
	mail_mime_set_header((GMimeObject *)msg, "X-Auto-Response-Suppress", "All");
	*msg_r = msg;
	return 0;
}

/* --- parts -------------------------------------------------------------------------------- */

static void set_content(GMimePart *part, const void *data, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeDataWrapper *wrapper =
	    g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, wrapper);
	g_object_unref(wrapper);
	g_object_unref(stream);
}

GMimeObject *mail_mime_text(const char *subtype, const char *utf8)
{
	mail_mime_init();
	GMimePart *part = (GMimePart *)g_mime_text_part_new_with_subtype(subtype);
	g_mime_object_set_content_type_parameter((GMimeObject *)part, "charset", "utf-8");
	set_content(part, utf8, strlen(utf8));
	g_mime_part_set_content_encoding(
	    part, g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT));
	return (GMimeObject *)part;
}

GMimeObject *mail_mime_alternative(const char *text, const char *html)
{
	GMimeObject *parts[] = {mail_mime_text("plain", text), mail_mime_text("html", html)};
	return mail_mime_multipart("alternative", parts, G_N_ELEMENTS(parts));
}

GMimeObject *mail_mime_attachment(const char *type, const char *subtype, const char *filename,
				  const void *data, size_t len)
{
	mail_mime_init();
	GMimePart *part = g_mime_part_new_with_type(type, subtype);
	g_mime_object_set_disposition((GMimeObject *)part, GMIME_DISPOSITION_ATTACHMENT);
	g_mime_part_set_filename(part, filename);
	set_content(part, data, len);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	return (GMimeObject *)part;
}

GMimeObject *mail_mime_raw(const char *type, const char *subtype, const void *data, size_t len,
			   GMimeContentEncoding encoding)
{
	mail_mime_init();
	GMimePart *part = g_mime_part_new_with_type(type, subtype);
	set_content(part, data, len);
	g_mime_part_set_content_encoding(part, encoding);
	return (GMimeObject *)part;
}

GMimeObject *mail_mime_multipart(const char *subtype, GMimeObject **parts, size_t n)
{
	size_t count = 0;
	GMimeObject *only = NULL;
	for (size_t i = 0; i < n; i++)
		if (parts[i] != NULL) {
			count++;
			only = parts[i];
		}
	if (count == 1 && strcmp(subtype, "mixed") == 0)
		return only;
	GMimeMultipart *mp = g_mime_multipart_new_with_subtype(subtype);
	for (size_t i = 0; i < n; i++)
		if (parts[i] != NULL) {
			g_mime_multipart_add(mp, parts[i]);
			g_object_unref(parts[i]);
		}
	return (GMimeObject *)mp;
}

GByteArray *mail_mime_serialize(GMimeMessage *msg)
{
	GMimeFormatOptions *options = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
	GByteArray *bytes = g_byte_array_new();
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner((GMimeStreamMem *)stream, FALSE);
	g_mime_object_write_to_stream((GMimeObject *)msg, options, stream);
	g_object_unref(stream);
	g_mime_format_options_free(options);
	return bytes;
}

/* --- times -------------------------------------------------------------------------------- */

/* t in UTC or local time, in format (NULL: RFC 5322 by GMime); NULL when t is unset. */
static char *format_time(int64_t t, bool utc, const char *format)
{
	if (t == 0)
		return NULL;
	GDateTime *dt = utc ? g_date_time_new_from_unix_utc(t) : g_date_time_new_from_unix_local(t);
	char *s = format ? g_date_time_format(dt, format) : g_mime_utils_header_format_date(dt);
	g_date_time_unref(dt);
	return s;
}

char *mail_mime_rfc3339(int64_t t)
{
	return format_time(t, true, "%Y-%m-%dT%H:%M:%SZ");
}

char *mail_mime_rfc5322(int64_t t)
{
	return format_time(t, false, NULL);
}

char *mail_mime_human_time(int64_t t, const char *language)
{
	return format_time(t, false, mail_template_phrase(language, "date.format"));
}

/* --- the fax, converted ------------------------------------------------------------------- */

/* A new scratch file in dir with data in it (NULL data: empty); its path, or NULL. */
static char *scratch_file(const char *dir, const char *suffix, const void *data, size_t len,
			  const char **error_r)
{
	char *path = g_strdup_printf("%s/faxgate-mail-XXXXXX.%s", dir, suffix);
	int fd = g_mkstemp(path);
	if (fd < 0) {
		error_set(error_r, "cannot create a file in %s: %s", dir, g_strerror(errno));
		g_free(path);
		return NULL;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (close(fd) < 0 || done < len) {
		error_set(error_r, "cannot write %s: %s", path, g_strerror(errno));
		unlink(path);
		g_clear_pointer(&path, g_free);
	}
	return path;
}

int mail_mime_fax_convert(const char *tmp_dir, const void *tiff, size_t len, const char *to, GBytes **out_r,
			  const char **error_r)
{
	if (tiff == NULL || len == 0)
		return error_set(error_r, "no fax pages");
	bool pdf = strcmp(to, "pdf") == 0;
	const char *dir = tmp_dir ? tmp_dir : g_get_tmp_dir();
	g_autofree char *in = scratch_file(dir, "tif", tiff, len, error_r);
	g_autofree char *out = in ? scratch_file(dir, pdf ? "pdf" : "png", NULL, 0, error_r) : NULL;
	int ret = out ? 0 : -1;
	if (ret == 0)
		ret = pdf ? fax_to_pdf(in, out, error_r) : fax_preview_png(in, 1, out, error_r);
	char *data = NULL;
	gsize n = 0;
	if (ret == 0 && !g_file_get_contents(out, &data, &n, NULL))
		ret = error_set(error_r, "cannot read %s", out);
	if (ret == 0)
		*out_r = g_bytes_new_take(data, n);
	if (in != NULL)
		unlink(in);
	if (out != NULL)
		unlink(out);
	return ret;
}

/* --- X-Fax-* fields ----------------------------------------------------------------------- */

static void field_clear(gpointer data)
{
	g_free(((struct mail_field *)data)->value);
}

GArray *mail_mime_fields_new(void)
{
	GArray *fields = g_array_new(FALSE, TRUE, sizeof(struct mail_field));
	g_array_set_clear_func(fields, field_clear);
	return fields;
}

void mail_mime_fields_add(GArray *fields, const char *header, const char *key, enum mail_field_type type,
			  const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	struct mail_field f = {header, key, type, one_line(value, MAIL_MIME_HEADER_MAX)};
	g_array_append_val(fields, f);
}

void mail_mime_fields_add_int(GArray *fields, const char *header, const char *key, int64_t value)
{
	char text[24];
	g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT, value);
	mail_mime_fields_add(fields, header, key, MAIL_FIELD_NUMBER, text);
}

const char *mail_mime_fields_get(const GArray *fields, const char *key)
{
	for (guint i = 0; i < fields->len; i++) {
		const struct mail_field *f = &g_array_index(fields, struct mail_field, i);
		if (f->key != NULL && strcmp(f->key, key) == 0)
			return f->value;
	}
	return NULL;
}

void mail_mime_fields_to_headers(const GArray *fields, GMimeObject *obj)
{
	for (guint i = 0; i < fields->len; i++) {
		const struct mail_field *f = &g_array_index(fields, struct mail_field, i);
		if (f->header != NULL)
			mail_mime_set_header(obj, f->header, f->value);
	}
}

static void json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		switch (*c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (*c < 0x20 || *c == 0x7f)
				g_string_append_printf(out, "\\u%04x", *c);
			else
				g_string_append_c(out, (char)*c);
		}
	}
	g_string_append_c(out, '"');
}

/* A number as JSON takes an optional minus and digits only; anything else goes as a string. */
static bool json_number(const char *s)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	return *d != '\0' && strspn(d, "0123456789") == strlen(d) && (d[0] != '0' || d[1] == '\0');
}

static void json_value(GString *out, const struct mail_field *f)
{
	if (f->type == MAIL_FIELD_NUMBER && json_number(f->value))
		g_string_append(out, f->value);
	else if (f->type == MAIL_FIELD_BOOL)
		g_string_append(out, strcmp(f->value, "yes") == 0 ? "true" : "false");
	else
		json_string(out, f->value);
}

char *mail_mime_fields_json(const GArray *fields)
{
	GString *out = g_string_new("{");
	const char *sep = "\n";
	for (guint i = 0; i < fields->len; i++) {
		const struct mail_field *f = &g_array_index(fields, struct mail_field, i);
		if (f->key == NULL)
			continue;
		g_string_append_printf(out, "%s  ", sep);
		json_string(out, f->key);
		g_string_append(out, ": ");
		json_value(out, f);
		sep = ",\n";
	}
	g_string_append(out, "\n}\n");
	return g_string_free(out, FALSE);
}
