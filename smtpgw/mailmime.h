/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the mail composers (notice.c, faxmail.c, bounce.c) share: GMime parts built the same
 * way everywhere, sanitized header values, the X-Fax-* field list that becomes both headers and
 * JSON, times in the three forms mail needs, the fax TIFF converted for attaching, and the
 * message serialized with CRLF line ends.
 */
#ifndef SMTPGW_MAILMIME_H
#define SMTPGW_MAILMIME_H

#include <glib.h>
#include <gmime/gmime.h>
#include <stdint.h>

#define MAIL_MIME_HEADER_MAX 512 /* bytes of one header value we write, before encoding */

/* GMime is set up once, from any thread. */
void mail_mime_init(void);

/* A message with From, To, Date (date, or now when 0), Subject (RFC 2047 encoded as needed),
   Message-ID (message_id with or without <>; a new one on hostname when NULL) and
   Auto-Submitted (RFC 3834). from and to are address lists as in a header; from_name, when set,
   replaces the display name of the first From address. */
struct mail_mime_head {
	const char *from, *from_name, *to, *subject, *message_id, *hostname, *auto_submitted;
	int64_t date;
};
int mail_mime_message(const struct mail_mime_head *head, GMimeMessage **msg_r, const char **error_r);

/* An unstructured header value: control characters (CR, LF) as spaces, valid UTF-8, at most
   MAIL_MIME_HEADER_MAX bytes; non-ASCII text is RFC 2047 encoded by GMime. NULL or "" sets
   nothing. */
void mail_mime_set_header(GMimeObject *obj, const char *name, const char *value);
/* "<id>" from "<id>", "id" or " <id> junk"; NULL when there is no usable msg-id. g_free(). */
char *mail_mime_msgid(const char *value);

/* text/SUBTYPE; charset=utf-8, 7bit when ASCII, else quoted-printable. */
GMimeObject *mail_mime_text(const char *subtype, const char *utf8);
/* multipart/alternative of text/plain and text/html. */
GMimeObject *mail_mime_alternative(const char *text, const char *html);
/* An attachment (base64, Content-Disposition: attachment; filename). */
GMimeObject *mail_mime_attachment(const char *type, const char *subtype, const char *filename,
				  const void *data, size_t len);
/* A part whose content goes out as it is, in encoding (7bit, 8bit): message/delivery-status,
   message/rfc822, text/rfc822-headers. */
GMimeObject *mail_mime_raw(const char *type, const char *subtype, const void *data, size_t len,
			   GMimeContentEncoding encoding);
/* multipart/SUBTYPE of parts (taken: the caller's references are dropped); NULL entries are
   skipped; a single part is returned as it is when subtype is "mixed". */
GMimeObject *mail_mime_multipart(const char *subtype, GMimeObject **parts, size_t n);

/* The message as bytes with CRLF line ends. */
GByteArray *mail_mime_serialize(GMimeMessage *msg);

/* Times: "2025-06-15T15:06:40Z" (RFC 3339, UTC); "Sun, 15 Jun 2025 17:06:40 +0200" (RFC 5322,
   local); for people in language ("2025-06-15 17:06 CEST", "15.06.2025 17:06 CEST"). NULL when
   t is 0. g_free(). */
char *mail_mime_rfc3339(int64_t t);
char *mail_mime_rfc5322(int64_t t);
char *mail_mime_human_time(int64_t t, const char *language);

/* The fax TIFF as "pdf" (every page) or "png" (page 1 preview), through scratch files in
   tmp_dir (NULL: the system's) that are removed again. */
int mail_mime_fax_convert(const char *tmp_dir, const void *tiff, size_t len, const char *to, GBytes **out_r,
			  const char **error_r);

/* ---- X-Fax-* fields: one list, written as headers and as JSON ---- */

enum mail_field_type { MAIL_FIELD_TEXT, MAIL_FIELD_NUMBER, MAIL_FIELD_BOOL };

struct mail_field {
	const char *header; /* "X-Fax-Job-ID", NULL: JSON only */
	const char *key;    /* "job_id", NULL: header only */
	enum mail_field_type type;
	char *value; /* numbers in decimal, booleans "yes"/"no" */
};

GArray *mail_mime_fields_new(void); /* of struct mail_field; g_array_unref() frees the values */
/* Add a field; NULL or "" values are left out. */
void mail_mime_fields_add(GArray *fields, const char *header, const char *key, enum mail_field_type type,
			  const char *value);
void mail_mime_fields_add_int(GArray *fields, const char *header, const char *key, int64_t value);
const char *mail_mime_fields_get(const GArray *fields, const char *key);
void mail_mime_fields_to_headers(const GArray *fields, GMimeObject *obj);
/* One JSON object of the fields that have a key; strings escaped (quotes, backslashes, control
   characters), non-ASCII left as UTF-8. g_free(). */
char *mail_mime_fields_json(const GArray *fields);

#endif
