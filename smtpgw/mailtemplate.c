/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Mail templates: the subject and the text and HTML bodies of every mail the gateway writes
 * (notifications of sent faxes, received faxes, reports to the admin), in English and German,
 * and the short translated phrases the composers put into fields. A template is parsed once, at
 * load: literal text and {field} references checked against the fields of its name, so a typo
 * is a start-up error naming file and line, never a mail with a hole in it. Expansion does no
 * I/O.
 *
 * Syntax: {name} is a field; {{ and }} are literal braces; a line that has fields, all of them
 * empty, is left out, so "Reference: {client_ref}" disappears for a job without a reference.
 * A text template begins "Subject: ..." and a blank line. Files are UTF-8 (RFC 3629); a BOM and
 * CRLF line ends are taken. The HTML is escaped per the HTML Living Standard's text rules.
 */
#include "smtpgw/mailtemplate.h"

#include <stdbool.h>
#include <string.h>

#include "common/error.h"
#include "smtpgw/mailtemplate_builtin.h"

#define TEMPLATE_MAX_BYTES (256 * 1024) /* a template file larger than this is refused */
#define FIELD_NAME_MAX 64

/* The fields of each template (docs/mail-templates.md describes them). */
static const char *const notice_fields[] = {
    "job_id",	   "number",	  "recipient_name",  "recipient_company",
    "to",	   "sender_name", "status",	     "status_text",
    "result_code", "result_text", "reason",	     "pages_sent",
    "pages_total", "remote_csid", "duration",	     "attempts",
    "submitted",   "completed",	  "next_try",	     "expires",
    "subject",	   "client_ref",  "billing_code",    "resolution",
    "bit_rate",	   "ecm",	  "attachment_note", NULL};
static const char *const received_fields[] = {
    "job_id",	   "sender",   "csid",		 "caller_id",
    "did",	   "pages",    "pages_text",	 "resolution",
    "received_at", "duration", "receive_status", "receive_status_text",
    "result_text", "line",     "routed_by",	 "attachment_note",
    NULL};
static const char *const bounce_fields[] = {"recipient", "reason", "message_id",    "subject",
					    "from",	 "size",   "original_note", NULL};

static const struct {
	const char *name;
	const char *const *fields;
} kinds[] = {
    {"sent", notice_fields},	   {"failed", notice_fields},  {"retrying", notice_fields},
    {"cancelled", notice_fields},  {"expired", notice_fields}, {"format-failed", notice_fields},
    {"received", received_fields}, {"bounce", bounce_fields},
};

static const char *const languages[] = {"en", "de"};

/* Translations of the phrases (mail_template_phrase). "%s"/"%d" where the composer formats. */
static const struct {
	const char *key, *en, *de;
} phrases[] = {
    {"status.sent", "sent", "gesendet"},
    {"status.partial", "partly sent", "teilweise gesendet"},
    {"status.failed", "failed", "fehlgeschlagen"},
    {"status.retrying", "not sent yet, will be retried", "noch nicht gesendet, wird erneut versucht"},
    {"status.cancelled", "cancelled", "abgebrochen"},
    {"status.expired", "expired", "abgelaufen"},
    {"status.format-failed", "document could not be converted", "Dokument konnte nicht umgewandelt werden"},
    {"result.sent", "every page was confirmed by the receiving machine",
     "alle Seiten wurden vom Empfangsgerät bestätigt"},
    {"result.busy", "the line was busy", "die Leitung war besetzt"},
    {"result.no-answer", "nobody answered", "es hat niemand abgenommen"},
    {"result.no-fax", "the call was answered, but not by a fax machine",
     "der Anruf wurde angenommen, aber nicht von einem Faxgerät"},
    {"result.protocol", "the fax machines could not agree on the transmission",
     "die Faxgeräte konnten sich nicht über die Übertragung verständigen"},
    {"result.training", "the line quality was too poor", "die Leitungsqualität war zu schlecht"},
    {"result.hangup", "the call was cut off during the transmission",
     "die Verbindung wurde während der Übertragung unterbrochen"},
    {"result.incompatible", "the receiving machine cannot take this document (resolution or paper size)",
     "das Empfangsgerät kann dieses Dokument nicht annehmen (Auflösung oder Papierformat)"},
    {"result.rejected", "the receiving machine refused the call",
     "das Empfangsgerät hat den Anruf abgewiesen"},
    {"result.invalid-number", "the fax number is not valid", "die Faxnummer ist ungültig"},
    {"result.document", "the fax pages could not be read on the gateway",
     "die Faxseiten konnten auf dem Gateway nicht gelesen werden"},
    {"result.timeout", "the transmission took too long and was stopped",
     "die Übertragung dauerte zu lange und wurde abgebrochen"},
    {"result.line", "the gateway's telephone line had a fault",
     "die Telefonleitung des Gateways war gestört"},
    {"result.too-many-tries", "the highest number of tries was reached",
     "die Höchstzahl an Versuchen wurde erreicht"},
    {"result.too-many-dials", "the highest number of dials was reached",
     "die Höchstzahl an Wählversuchen wurde erreicht"},
    {"result.expired", "the time allowed for sending ran out", "die Frist für den Versand ist abgelaufen"},
    {"result.format-failed", "the document could not be converted into fax pages",
     "das Dokument konnte nicht in Faxseiten umgewandelt werden"},
    {"result.cancelled", "the job was cancelled", "der Auftrag wurde abgebrochen"},
    {"rx.complete", "received completely", "vollständig empfangen"},
    {"rx.partial", "received only in part: the call ended early",
     "nur teilweise empfangen: die Verbindung endete vorzeitig"},
    {"rx.failed", "not received", "nicht empfangen"},
    {"pages.one", "1 page", "1 Seite"},
    {"pages.many", "%d pages", "%d Seiten"},
    {"yes", "yes", "ja"},
    {"no", "no", "nein"},
    {"res.standard", "standard", "Standard"},
    {"res.fine", "fine", "fein"},
    {"res.superfine", "superfine", "superfein"},
    {"sender.unknown", "an unknown sender", "unbekanntem Absender"},
    {"attach.missing", "The fax pages are not available, so they are not attached.",
     "Die Faxseiten liegen nicht vor und sind daher nicht angehängt."},
    {"attach.failed", "The fax could not be attached: %s.", "Das Fax konnte nicht angehängt werden: %s."},
    {"attach.tiff", "No PDF could be made (%s); the fax is attached as a TIFF file.",
     "Es konnte keine PDF-Datei erstellt werden (%s); das Fax ist als TIFF-Datei angehängt."},
    {"orig.full", "The original message is attached.", "Die ursprüngliche Nachricht ist angehängt."},
    {"orig.headers", "The original message has %s bytes, so only its headers are attached.",
     "Die ursprüngliche Nachricht hat %s Bytes, daher ist nur ihr Kopf angehängt."},
    {"date.format", "%Y-%m-%d %H:%M %Z", "%d.%m.%Y %H:%M %Z"},
};

enum seg_kind { SEG_TEXT, SEG_FIELD, SEG_NEWLINE };

struct segment {
	enum seg_kind kind;
	char *text; /* literal text or field name; NULL for a line end */
};

struct mail_template {
	char *source;
	GArray *subject; /* struct segment; NULL in an HTML template */
	GArray *body;
};

struct mail_templates {
	GHashTable *by_file; /* "sent.en.txt" -> struct mail_template * */
};

/* Where the parser is, for its error messages. */
struct parser {
	const char *source;
	int line;
	const char *const *fields;
	const char **error_r;
};

enum expand_mode { EXPAND_SUBJECT, EXPAND_TEXT, EXPAND_HTML };

/* --- languages and phrases ---------------------------------------------------------------- */

const char *mail_template_language(const char *language)
{
	for (size_t i = 0; language != NULL && i < G_N_ELEMENTS(languages); i++) {
		size_t n = strlen(languages[i]);
		if (g_ascii_strncasecmp(language, languages[i], n) == 0 &&
		    (language[n] == '\0' || language[n] == '-' || language[n] == '_'))
			return languages[i];
	}
	return "en";
}

const char *mail_template_phrase(const char *language, const char *key)
{
	bool de = strcmp(mail_template_language(language), "de") == 0;
	for (size_t i = 0; key != NULL && i < G_N_ELEMENTS(phrases); i++)
		if (strcmp(phrases[i].key, key) == 0)
			return de && phrases[i].de ? phrases[i].de : phrases[i].en;
	return NULL;
}

/* --- parsing ------------------------------------------------------------------------------ */

static void segments_free(GArray *segs)
{
	for (guint i = 0; segs != NULL && i < segs->len; i++)
		g_free(g_array_index(segs, struct segment, i).text);
	if (segs != NULL)
		g_array_free(segs, TRUE);
}

static void template_free(gpointer data)
{
	struct mail_template *t = data;
	segments_free(t->subject);
	segments_free(t->body);
	g_free(t->source);
	g_free(t);
}

static void add_segment(GArray *segs, enum seg_kind kind, char *text)
{
	struct segment s = {kind, text};
	g_array_append_val(segs, s);
}

static void flush_literal(GArray *segs, GString *lit)
{
	if (lit->len > 0)
		add_segment(segs, SEG_TEXT, g_strndup(lit->str, lit->len));
	g_string_truncate(lit, 0);
}

static bool field_known(const struct parser *p, const char *name)
{
	for (const char *const *f = p->fields; *f != NULL; f++)
		if (strcmp(*f, name) == 0)
			return true;
	return false;
}

/* The field whose name starts at s (after the "{"); -1 with an error when it is not one. */
static int parse_field(struct parser *p, const char *s, size_t len, GArray *segs, size_t *used_r)
{
	const char *end = memchr(s, '}', len);
	if (end == NULL)
		return error_set(p->error_r, "%s:%d: unclosed brace (write {{ for a literal one)", p->source,
				 p->line);
	size_t n = (size_t)(end - s);
	if (n == 0 || n > FIELD_NAME_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return error_set(p->error_r, "%s:%d: bad field name {%.*s}", p->source, p->line,
				 (int)MIN(n, FIELD_NAME_MAX), s);
	g_autofree char *name = g_strndup(s, n);
	if (!field_known(p, name))
		return error_set(p->error_r, "%s:%d: unknown field {%s}", p->source, p->line, name);
	add_segment(segs, SEG_FIELD, g_steal_pointer(&name));
	*used_r = n + 1;
	return 0;
}

/* One line (without its line end) into segments. */
static int parse_line(struct parser *p, const char *s, size_t len, GArray *segs)
{
	g_autoptr(GString) lit = g_string_new(NULL);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if ((c == '{' || c == '}') && i + 1 < len && s[i + 1] == c) {
			g_string_append_c(lit, c);
			i++;
		} else if (c == '}') {
			return error_set(p->error_r, "%s:%d: '}' without '{' (write }} for a literal one)",
					 p->source, p->line);
		} else if (c == '{') {
			size_t used = 0;
			flush_literal(segs, lit);
			if (parse_field(p, s + i + 1, len - i - 1, segs, &used) < 0)
				return -1;
			i += used;
		} else {
			g_string_append_c(lit, c);
		}
	}
	flush_literal(segs, lit);
	return 0;
}

/* The next line of text from *pos: its start and length without CR LF; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line_r, size_t *n_r)
{
	if (*pos >= len)
		return false;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	*line_r = s;
	*n_r = n;
	return true;
}

static int parse_subject(struct parser *p, const char *line, size_t n, struct mail_template *t)
{
	if (n < 8 || g_ascii_strncasecmp(line, "Subject:", 8) != 0)
		return error_set(p->error_r, "%s:1: the first line must be \"Subject: ...\"", p->source);
	size_t skip = 8;
	while (skip < n && (line[skip] == ' ' || line[skip] == '\t'))
		skip++;
	t->subject = g_array_new(FALSE, FALSE, sizeof(struct segment));
	return parse_line(p, line + skip, n - skip, t->subject);
}

/* Where text stops being UTF-8, as a line number for the error. */
static int check_utf8(struct parser *p, const char *text, size_t len)
{
	const char *end;
	if (g_utf8_validate(text, (gssize)len, &end))
		return 0;
	int line = 1;
	for (const char *c = text; c < end; c++)
		line += *c == '\n';
	return error_set(p->error_r, "%s:%d: not UTF-8 text", p->source, line);
}

static int parse_body(struct parser *p, const char *text, size_t len, size_t pos, struct mail_template *t)
{
	const char *line;
	size_t n;
	t->body = g_array_new(FALSE, FALSE, sizeof(struct segment));
	while (next_line(text, len, &pos, &line, &n)) {
		p->line++;
		if (parse_line(p, line, n, t->body) < 0)
			return -1;
		add_segment(t->body, SEG_NEWLINE, NULL);
	}
	return 0;
}

/* Parse one template file; html: a body without a Subject line. */
static struct mail_template *template_parse(const char *source, const char *text, size_t len, bool html,
					    const char *const *fields, const char **error_r)
{
	struct parser p = {source, 0, fields, error_r};
	if (check_utf8(&p, text, len) < 0)
		return NULL;
	size_t pos = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	struct mail_template *t = g_new0(struct mail_template, 1);
	t->source = g_strdup(source);
	const char *line = "";
	size_t n = 0, body_start = pos;
	bool have = next_line(text, len, &pos, &line, &n);
	int ret = 0;
	if (html && have && n >= 8 && g_ascii_strncasecmp(line, "Subject:", 8) == 0) {
		ret = error_set(error_r,
				"%s:1: an HTML template has no Subject line (the subject is the .txt one's)",
				source);
	} else if (!html) {
		p.line = 1;
		ret = parse_subject(&p, line, have ? n : 0, t);
		p.line = 2;
		if (ret == 0 && next_line(text, len, &pos, &line, &n) && n > 0)
			ret = error_set(error_r, "%s:2: a blank line must follow the Subject line", source);
		body_start = pos;
	}
	if (ret == 0)
		ret = parse_body(&p, text, len, body_start, t);
	if (ret < 0) {
		template_free(t);
		return NULL;
	}
	return t;
}

/* --- loading ------------------------------------------------------------------------------ */

/* The file from the first folder that has it: 1 found (*text_r, *source_r), 0 none, -1 error. */
static int read_from_dirs(const char *const *dirs, const char *file, char **text_r, size_t *len_r,
			  char **source_r, const char **error_r)
{
	for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++) {
		g_autofree char *path = g_build_filename(dirs[i], file, NULL);
		g_autoptr(GError) gerr = NULL;
		gsize len;
		if (!g_file_get_contents(path, text_r, &len, &gerr)) {
			if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
				continue;
			return error_set(error_r, "%s", gerr->message);
		}
		if (len > TEMPLATE_MAX_BYTES) {
			g_clear_pointer(text_r, g_free);
			return error_set(error_r, "%s: larger than %d bytes", path, TEMPLATE_MAX_BYTES);
		}
		*len_r = len;
		*source_r = g_steal_pointer(&path);
		return 1;
	}
	return 0;
}

static int load_one(struct mail_templates *t, const char *const *dirs, const char *file, bool html,
		    const char *const *fields, const char **error_r)
{
	char *text = NULL, *source = NULL;
	size_t len = 0;
	int found = read_from_dirs(dirs, file, &text, &len, &source, error_r);
	if (found < 0)
		return -1;
	if (found == 0) {
		const char *builtin = mail_template_builtin_find(file);
		if (builtin == NULL)
			return error_set(error_r, "no template %s (not built in)", file);
		text = g_strdup(builtin);
		len = strlen(text);
		source = g_strconcat("built-in:", file, NULL);
	}
	struct mail_template *tp = template_parse(source, text, len, html, fields, error_r);
	g_free(text);
	g_free(source);
	if (tp == NULL)
		return -1;
	g_hash_table_replace(t->by_file, g_strdup(file), tp);
	return 0;
}

int mail_templates_load(const char *const *dirs, struct mail_templates **templates_r, const char **error_r)
{
	struct mail_templates *t = g_new0(struct mail_templates, 1);
	t->by_file = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, template_free);
	for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++)
		for (size_t l = 0; l < G_N_ELEMENTS(languages); l++)
			for (int html = 0; html <= 1; html++) {
				g_autofree char *file = g_strdup_printf("%s.%s.%s", kinds[k].name,
									languages[l], html ? "html" : "txt");
				if (load_one(t, dirs, file, html, kinds[k].fields, error_r) < 0) {
					mail_templates_free(&t);
					return -1;
				}
			}
	*templates_r = t;
	return 0;
}

void mail_templates_free(struct mail_templates **templatesp)
{
	struct mail_templates *t = *templatesp;
	if (t == NULL)
		return;
	g_hash_table_destroy(t->by_file);
	g_free(t);
	*templatesp = NULL;
}

/* --- expansion ---------------------------------------------------------------------------- */

static const struct mail_template *find(const struct mail_templates *templates, const char *name,
					const char *language, const char *ext)
{
	if (templates == NULL || name == NULL)
		return NULL;
	g_autofree char *file = g_strdup_printf("%s.%s.%s", name, mail_template_language(language), ext);
	return g_hash_table_lookup(templates->by_file, file);
}

const char *mail_template_source(const struct mail_templates *templates, const char *name,
				 const char *language, const char *ext)
{
	const struct mail_template *t = find(templates, name, language, ext);
	return t ? t->source : NULL;
}

static void append_html_char(GString *out, gunichar c)
{
	switch (c) {
	case '&':
		g_string_append(out, "&amp;");
		break;
	case '<':
		g_string_append(out, "&lt;");
		break;
	case '>':
		g_string_append(out, "&gt;");
		break;
	case '"':
		g_string_append(out, "&quot;");
		break;
	case '\'':
		g_string_append(out, "&#39;");
		break;
	case '\n':
		g_string_append(out, "<br>\n");
		break;
	default:
		g_string_append_unichar(out, c);
	}
}

/* A value into the output: valid UTF-8, no control characters but line breaks (none at all in
   a subject), HTML-escaped in HTML. */
static void append_value(GString *out, const char *value, enum expand_mode mode)
{
	g_autofree char *valid = g_utf8_make_valid(value, -1);
	for (const char *s = valid; *s != '\0'; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);
		if (c == '\r')
			c = s[1] == '\n' ? 0 : '\n'; /* CR LF -> LF, a lone CR -> LF */
		if (c == 0)
			continue;
		if ((c == '\n' && mode == EXPAND_SUBJECT) || (c < 0x20 && c != '\n' && c != '\t') ||
		    c == 0x7f)
			c = ' ';
		if (mode == EXPAND_SUBJECT && c == '\t')
			c = ' ';
		if (mode == EXPAND_HTML)
			append_html_char(out, c);
		else
			g_string_append_unichar(out, c);
	}
}

/* The line so far goes out unless it had fields and every one was empty. */
static void end_line(GString *out, GString *line, bool *has_field, bool *filled, bool newline)
{
	if (!*has_field || *filled) {
		g_string_append_len(out, line->str, (gssize)line->len);
		if (newline)
			g_string_append_c(out, '\n');
	}
	g_string_truncate(line, 0);
	*has_field = *filled = false;
}

static char *expand(const GArray *segs, GHashTable *fields, enum expand_mode mode)
{
	GString *out = g_string_new(NULL);
	g_autoptr(GString) line = g_string_new(NULL);
	bool has_field = false, filled = false;
	for (guint i = 0; segs != NULL && i < segs->len; i++) {
		const struct segment *s = &g_array_index(segs, struct segment, i);
		const char *v = s->kind == SEG_FIELD && fields ? g_hash_table_lookup(fields, s->text) : NULL;
		if (s->kind == SEG_TEXT) {
			g_string_append(line, s->text);
		} else if (s->kind == SEG_FIELD) {
			has_field = true;
			filled = filled || (v != NULL && *v != '\0') || mode == EXPAND_SUBJECT;
			if (v != NULL)
				append_value(line, v, mode);
		} else {
			end_line(out, line, &has_field, &filled, true);
		}
	}
	end_line(out, line, &has_field, &filled, false);
	return g_string_free(out, FALSE);
}

int mail_template_expand(const struct mail_templates *templates, const char *name, const char *language,
			 GHashTable *fields, char **subject_r, char **text_r, char **html_r,
			 const char **error_r)
{
	const struct mail_template *text = find(templates, name, language, "txt");
	const struct mail_template *html = find(templates, name, language, "html");
	if (text == NULL || html == NULL)
		return error_set(error_r, "no mail template \"%s\"", name ? name : "(null)");
	*subject_r = g_strstrip(expand(text->subject, fields, EXPAND_SUBJECT));
	*text_r = expand(text->body, fields, EXPAND_TEXT);
	*html_r = expand(html->body, fields, EXPAND_HTML);
	return 0;
}
