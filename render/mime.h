/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef RENDER_MIME_H
#define RENDER_MIME_H

#include <glib.h>
#include <stdbool.h>

/* One thing to put on fax pages, extracted from a message into a file. */
struct mime_part {
	char *path;         /* the decoded content in the work directory */
	char *content_type; /* "application/pdf" */
	char *name;         /* file name as the sender gave it, or a made-up one ("part-3.txt") */
	bool is_body;       /* the message's own text (not an attachment) */
};

/* What a message holds, in order. */
struct mime_walk {
	GPtrArray *parts;   /* struct mime_part *: attachments in order; a body part first if any */
	char *body_text;    /* the body as UTF-8 text (from text/plain, or HTML reduced to text), or NULL */
	char *subject;      /* decoded, UTF-8 */
	GPtrArray *skipped; /* char *: "logo.png (image/png, inline image referenced from HTML)" */
};

/* Read the RFC 5322 message at path and extract its parts into dir:
   - multipart/alternative prefers text/plain; HTML only when there is no text part;
   - multipart/related: the root part; inline images it references are skipped (logos, signatures);
   - multipart/mixed: every part in order; text without a file name is the body;
   - message/rfc822 attachments: their headers and body as text, then their own attachments;
   - multipart/signed and S/MIME opaque-signed data: the signed content, signatures skipped;
   - Outlook's winmail.dat (application/ms-tnef): unpacked into its attachments;
   - transfer encodings and charsets decoded (text to UTF-8).
   0, or -1 with *error_r (unreadable message). */
int mime_walk(const char *path, const char *dir, struct mime_walk **walk_r, const char **error_r);
void mime_walk_free(struct mime_walk **walkp);

#endif
