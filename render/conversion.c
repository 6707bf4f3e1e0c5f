/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A job's conversion, in the child: the MIME walk (mime.c) gives the parts in order; the body
 * goes on the cover, on a page of its own or nowhere (X-Fax-Body, docs/rendering.md); every
 * attachment becomes pages at the job's resolution and paper (convert.c); then the cover page
 * (coverpages/) is made with the real page count and put first. Any part that cannot be turned
 * into pages fails the whole job with the part's name, type and the reason: a fax with a
 * missing attachment is worse than no fax.
 */
#include "render/conversion.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "coverpages/cover.h"
#include "render/convert.h"
#include "render/faxwriter.h"
#include "render/mime.h"

#define EXIT_DONE 0
#define EXIT_DATAERR 65
#define EXIT_TEMPFAIL 75

/* A body this short goes on the cover page when X-Fax-Body is auto. */
#define BODY_ON_COVER_MAX_CHARS 800
#define BODY_ON_COVER_MAX_LINES 15

struct conversion {
	const char *dir;
	GKeyFile *job;
	GHashTable *fields; /* cover fields */
	struct fax_geometry geometry;
	struct render_options options;
	int max_pages;
	GKeyFile *result;
};

static char *job_str(struct conversion *c, const char *key, const char *fallback)
{
	char *v = g_key_file_get_string(c->job, "job", key, NULL);
	if (v == NULL || *v == '\0') {
		g_free(v);
		return g_strdup(fallback);
	}
	return v;
}

static int finish(struct conversion *c, int code, const char *reason, const char *part, const char *type)
{
	g_key_file_set_string(c->result, "result", "status", code == EXIT_DONE ? "ok" : "failed");
	if (reason != NULL)
		g_key_file_set_string(c->result, "result", "reason", reason);
	if (part != NULL)
		g_key_file_set_string(c->result, "result", "part", part);
	if (type != NULL)
		g_key_file_set_string(c->result, "result", "type", type);
	g_autofree char *path = g_build_filename(c->dir, "result.ini", NULL);
	if (!g_key_file_save_to_file(c->result, path, NULL))
		return EXIT_TEMPFAIL;
	return code;
}

static int load_job(struct conversion *c)
{
	g_autofree char *path = g_build_filename(c->dir, "job.ini", NULL);
	if (!g_key_file_load_from_file(c->job, path, G_KEY_FILE_NONE, NULL))
		return -1;
	g_auto(GStrv) keys = g_key_file_get_keys(c->job, "fields", NULL, NULL);
	for (int i = 0; keys && keys[i]; i++)
		g_hash_table_replace(c->fields, g_strdup(keys[i]), g_key_file_get_string(c->job, "fields", keys[i], NULL));
	g_autofree char *res = job_str(c, "resolution", "fine"), *paper = job_str(c, "paper", "letter");
	enum fax_res r = FAX_RES_FINE;
	enum fax_paper p = FAX_PAPER_LETTER;
	fax_res_parse(res, &r);
	fax_paper_parse(paper, &p);
	g_autofree char *header = job_str(c, "header_info", "");
	/* spandsp's header line adds rows on top of the page: keep the paper length */
	int header_rows = *header ? (r == FAX_RES_STD ? 16 : r == FAX_RES_FINE ? 32 : 64) : 0;
	fax_geometry_get(r, p, header_rows, &c->geometry);
	render_options_default(&c->options);
	c->options.halftone = g_strcmp0(g_hash_table_lookup(c->fields, "image_conversion"), "halftone") == 0;
	c->options.tmpdir = c->dir;
	c->options.timeout_s = g_key_file_get_integer(c->job, "job", "timeout", NULL);
	if (c->options.timeout_s <= 0)
		c->options.timeout_s = 60;
	c->max_pages = g_key_file_get_integer(c->job, "job", "max_pages", NULL);
	return 0;
}

static bool body_is_short(const char *text)
{
	int lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	return g_utf8_strlen(text, -1) <= BODY_ON_COVER_MAX_CHARS && lines <= BODY_ON_COVER_MAX_LINES;
}

/* Where the body goes: "cover", "page" or "ignore". */
static const char *body_place(struct conversion *c, const struct mime_walk *walk, bool cover)
{
	const char *asked = g_hash_table_lookup(c->fields, "body");
	g_autofree char *deflt = job_str(c, "body", "auto");
	const char *place = asked ? asked : deflt;
	if (strcmp(place, "auto") != 0)
		return strcmp(place, "cover") == 0 && !cover ? "page" : g_intern_string(place);
	if (walk->body_text == NULL)
		return "page"; /* an HTML-only body is a page */
	return cover && body_is_short(walk->body_text) ? "cover" : "page";
}

/* HTML reduced to text, when no office converter can render it. */
static char *html_to_text(const char *path)
{
	gchar *html = NULL;
	if (!g_file_get_contents(path, &html, NULL, NULL))
		return NULL;
	GString *out = g_string_new(NULL);
	bool in_tag = false;
	for (const char *p = html; *p; p++) {
		if (*p == '<') {
			in_tag = true;
			if (g_ascii_strncasecmp(p, "<br", 3) == 0 || g_ascii_strncasecmp(p, "<p", 2) == 0 ||
			    g_ascii_strncasecmp(p, "</h", 3) == 0 || g_ascii_strncasecmp(p, "<div", 4) == 0)
				g_string_append_c(out, '\n');
		} else if (*p == '>') {
			in_tag = false;
		} else if (!in_tag) {
			g_string_append_c(out, *p);
		}
	}
	g_free(html);
	static const char *const entities[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", " "}, {"&quot;", "\""}};
	for (size_t i = 0; i < G_N_ELEMENTS(entities); i++)
		g_string_replace(out, entities[i][0], entities[i][1], 0);
	return g_string_free(out, FALSE);
}

static int render_part(struct conversion *c, struct fax_writer *w, const struct mime_part *part, const char **error_r)
{
	if (render_file(w, &c->options, part->path, part->content_type, part->name, error_r) == 0)
		return 0;
	if (part->is_body && strcmp(part->content_type, "text/html") == 0) {
		g_autofree char *text = html_to_text(part->path);
		return text ? render_text(w, &c->options, text, strlen(text), error_r) : -1;
	}
	return -1;
}

/* The document pages (without the cover) into doc.tiff; -1 with the failing part named. */
static int render_document(struct conversion *c, const struct mime_walk *walk, const char *place, const char *path,
			   int *pages_r)
{
	const char *error = NULL;
	*pages_r = 0;
	bool any = false;
	for (guint i = 0; i < walk->parts->len; i++) {
		const struct mime_part *part = walk->parts->pdata[i];
		any = any || !part->is_body || strcmp(place, "page") == 0;
	}
	if (!any)
		return EXIT_DONE; /* the cover alone (a short note) */
	struct fax_writer *w = fax_writer_create(path, &c->geometry, &error);
	if (w == NULL)
		return finish(c, EXIT_TEMPFAIL, error, NULL, NULL);
	fax_writer_set_max_pages(w, c->max_pages);
	fax_writer_set_drop_blank(w, g_strcmp0(g_hash_table_lookup(c->fields, "suppress_blank_pages"), "yes") == 0);
	for (guint i = 0; i < walk->parts->len; i++) {
		const struct mime_part *part = walk->parts->pdata[i];
		if (part->is_body && strcmp(place, "page") != 0)
			continue;
		if (render_part(c, w, part, &error) < 0) {
			g_autofree char *reason = g_strdup(error ? error : "cannot be converted");
			fax_writer_free(&w);
			return finish(c, EXIT_DATAERR, reason, part->name, part->content_type);
		}
	}
	*pages_r = fax_writer_close(w, &error);
	fax_writer_free(&w);
	if (*pages_r < 0)
		return finish(c, EXIT_DATAERR, error, NULL, NULL);
	return EXIT_DONE;
}

/* Cover (with the real page count) then the document, into pages.tiff. */
static int assemble(struct conversion *c, const char *cover_name, const char *doc_path, int doc_pages)
{
	g_autofree char *out = g_build_filename(c->dir, "pages.tiff", NULL);
	const char *error = NULL;
	struct fax_writer *w = fax_writer_create(out, &c->geometry, &error);
	if (w == NULL)
		return finish(c, EXIT_TEMPFAIL, error, NULL, NULL);
	fax_writer_set_max_pages(w, c->max_pages);
	int cover_pages = 0;
	if (cover_name != NULL) {
		g_auto(GStrv) dirs = g_key_file_get_string_list(c->job, "job", "cover_dirs", NULL, NULL);
		struct cover_request req = {
			.template_name = cover_name, .template_dirs = (const char *const *)dirs, .fields = c->fields,
			.document_pages = doc_pages, .date = g_get_real_time() / G_USEC_PER_SEC,
		};
		if (cover_render(&req, w, &c->geometry, &cover_pages, &error) < 0) {
			g_autofree char *reason = g_strdup_printf("cover page: %s", error);
			fax_writer_free(&w);
			return finish(c, EXIT_DATAERR, reason, cover_name, "cover");
		}
	}
	if (doc_pages > 0 && fax_writer_add_tiff(w, doc_path, &error) < 0) {
		fax_writer_free(&w);
		return finish(c, EXIT_DATAERR, error, NULL, NULL);
	}
	int pages = fax_writer_close(w, &error);
	fax_writer_free(&w);
	if (pages <= 0)
		return finish(c, EXIT_DATAERR, pages == 0 ? "nothing to fax: no cover, no body, no attachment" : error, NULL, NULL);
	g_key_file_set_integer(c->result, "result", "pages", pages);
	g_key_file_set_integer(c->result, "result", "cover_pages", cover_pages);
	return finish(c, EXIT_DONE, NULL, NULL, NULL);
}

static int convert(struct conversion *c)
{
	if (load_job(c) < 0)
		return finish(c, EXIT_TEMPFAIL, "cannot read job.ini", NULL, NULL);
	g_autofree char *message = g_build_filename(c->dir, "message.eml", NULL);
	g_autofree char *parts_dir = g_build_filename(c->dir, "parts", NULL);
	g_mkdir(parts_dir, 0700);
	struct mime_walk *walk = NULL;
	const char *error = NULL;
	if (mime_walk(message, parts_dir, &walk, &error) < 0)
		return finish(c, EXIT_DATAERR, error, "message", "message/rfc822");
	const char *cover_field = g_hash_table_lookup(c->fields, "cover");
	g_autofree char *cover_default = job_str(c, "cover", "default");
	const char *cover = cover_field ? cover_field : cover_default;
	bool with_cover = strcmp(cover, "none") != 0;
	const char *place = body_place(c, walk, with_cover);
	if (strcmp(place, "cover") == 0 && walk->body_text && !g_hash_table_contains(c->fields, "cover_note"))
		g_hash_table_replace(c->fields, g_strdup("cover_note"), g_strdup(walk->body_text));
	if (walk->subject && !g_hash_table_contains(c->fields, "subject"))
		g_hash_table_replace(c->fields, g_strdup("subject"), g_strdup(walk->subject));
	for (guint i = 0; i < walk->skipped->len; i++) {
		char key[16];
		snprintf(key, sizeof(key), "%u", i + 1);
		g_key_file_set_string(c->result, "skipped", key, walk->skipped->pdata[i]);
	}
	g_autofree char *doc = g_build_filename(c->dir, "doc.tiff", NULL);
	int doc_pages = 0;
	int ret = render_document(c, walk, place, doc, &doc_pages);
	if (ret == EXIT_DONE)
		ret = assemble(c, with_cover ? (strcmp(cover, "default") == 0 ? "default" : cover) : NULL, doc, doc_pages);
	mime_walk_free(&walk);
	return ret;
}

int conversion_run(const char *dir)
{
	struct conversion c = {.dir = dir, .job = g_key_file_new(), .result = g_key_file_new(),
			       .fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
	int ret = convert(&c);
	g_key_file_free(c.job);
	g_key_file_free(c.result);
	g_hash_table_destroy(c.fields);
	return ret;
}
