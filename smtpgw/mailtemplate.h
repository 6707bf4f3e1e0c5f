/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_MAILTEMPLATE_H
#define SMTPGW_MAILTEMPLATE_H

#include <glib.h>

/* The mail templates an administrator can edit: for each name ("sent", "failed", "retrying",
   "cancelled", "expired", "format-failed", "received", "bounce") and language ("en", "de") a text
   template NAME.LANG.txt and an HTML template NAME.LANG.html. A text template starts with a
   "Subject: ..." line and a blank line (the mail's subject); an HTML template is only the body.
   {field} is replaced by a value, {{ and }} are literal braces; a line whose fields all expand
   to nothing is left out. The fields of each name are listed in docs/mail-templates.md. */
struct mail_templates;

/* Load every template: from the first of dirs that has the file, else the built-in one. Each is
   parsed here, so an unknown {field}, an unclosed brace or a missing Subject line is an error
   naming the file and line (a start-up error, not a broken mail). dirs: NULL-terminated, may be
   NULL (built-in only); a folder that does not exist is skipped. */
int mail_templates_load(const char *const *dirs, struct mail_templates **templates_r, const char **error_r);
void mail_templates_free(struct mail_templates **templatesp);

/* Expand template name in language (unknown languages fall back to "en"). fields: field name ->
   value (missing fields expand to ""). The subject is one line (CR/LF in values become spaces);
   in the HTML body values are HTML-escaped. All three results are g_malloc'd. */
int mail_template_expand(const struct mail_templates *templates, const char *name, const char *language,
			 GHashTable *fields, char **subject_r, char **text_r, char **html_r,
			 const char **error_r);

/* Where a template came from: the file's path or "built-in:NAME.LANG.txt" (static or owned by
   templates); NULL when there is no such template. ext: "txt" or "html". */
const char *mail_template_source(const struct mail_templates *templates, const char *name,
				 const char *language, const char *ext);

/* The language templates are chosen by: "de", "de-DE", "DE_at" -> "de"; anything else -> "en". */
const char *mail_template_language(const char *language);

/* The short texts the composers put into fields (a status in words, the reason for a result code,
   "3 pages"), translated: key -> static text in language, English when there is no translation,
   NULL when the key is unknown. Keys are listed in mailtemplate.c. */
const char *mail_template_phrase(const char *language, const char *key);

#endif
