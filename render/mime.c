/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The MIME walk: from a mail message to the ordered list of things that become fax pages.
 * GMime parses; the choices are ours (docs/rendering.md): text before HTML in alternatives,
 * inline images referenced from HTML left out, attachments in the order the sender attached
 * them, forwarded messages rendered, signatures skipped, winmail.dat unpacked (libytnef).
 *
 * STANDARDS: RFC 2045-2049 (MIME), RFC 2387 (multipart/related), RFC 2183 (Content-Disposition),
 * RFC 2231 (parameter values), RFC 1847 and RFC 8551 (signed multiparts, S/MIME), RFC 5322,
 * MS-OXTNEF (Transport Neutral Encapsulation Format).
 */
#include "render/mime.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <gmime/gmime.h>
#include <openssl/cms.h>
#include <openssl/bio.h>
#include <stdio.h>
#include <string.h>
#include <ytnef.h>

/* Walking stops this deep: a message nested in a message nested … is hostile. */
#define MIME_MAX_DEPTH 16
#define MIME_MAX_PARTS 500

struct walker {
	struct mime_walk *walk;
	const char *dir;
	int counter;
	GHashTable *referenced_cids; /* content ids an HTML root refers to */
};

static gpointer init_once(gpointer unused)
{
	(void)unused;
	g_mime_init();
	return NULL;
}

static void mime_init(void)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, init_once, NULL);
}

static void part_free(gpointer p)
{
	struct mime_part *part = p;
	g_free(part->path);
	g_free(part->content_type);
	g_free(part->name);
	g_free(part);
}

void mime_walk_free(struct mime_walk **walkp)
{
	struct mime_walk *walk = *walkp;
	if (walk == NULL)
		return;
	g_ptr_array_free(walk->parts, TRUE);
	g_ptr_array_free(walk->skipped, TRUE);
	g_free(walk->body_text);
	g_free(walk->subject);
	g_free(walk);
	*walkp = NULL;
}

/* A safe file name in dir for the next part: the sender's name is only kept as metadata. */
static char *next_path(struct walker *w, const char *suffix)
{
	return g_strdup_printf("%s/part-%03d%s", w->dir, ++w->counter, suffix);
}

static const char *extension_of(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	return dot && strlen(dot) <= 6 && !strchr(dot, '/') ? dot : "";
}

static void add_part(struct walker *w, const char *path, const char *type, const char *name, bool is_body)
{
	if (w->walk->parts->len >= MIME_MAX_PARTS)
		return;
	struct mime_part *p = g_new0(struct mime_part, 1);
	p->path = g_strdup(path);
	p->content_type = g_ascii_strdown(type, -1);
	p->name = g_strdup(name ? name : strrchr(path, '/') + 1);
	p->is_body = is_body;
	g_ptr_array_add(w->walk->parts, p);
}

static void skip(struct walker *w, const char *name, const char *type, const char *why)
{
	g_ptr_array_add(w->walk->skipped, g_strdup_printf("%s (%s, %s)", name ? name : "unnamed", type, why));
}

static int write_file(const char *path, const void *data, size_t len)
{
	return g_file_set_contents(path, data, (gssize)len, NULL) ? 0 : -1;
}

/* An extension for content that came without a file name: converters (LibreOffice above all)
   decide by it. */
static const char *extension_for(const char *name, const char *type)
{
	static const char *const known[][2] = {
		{"text/html", ".html"}, {"text/plain", ".txt"}, {"application/pdf", ".pdf"},
		{"application/postscript", ".ps"}, {"image/png", ".png"}, {"image/jpeg", ".jpg"},
		{"image/gif", ".gif"}, {"image/tiff", ".tif"}, {"image/bmp", ".bmp"}, {"text/rtf", ".rtf"},
	};
	const char *ext = extension_of(name);
	for (size_t i = 0; *ext == '\0' && type != NULL && i < G_N_ELEMENTS(known); i++)
		if (g_ascii_strcasecmp(type, known[i][0]) == 0)
			ext = known[i][1];
	return ext;
}

/* Save a leaf part's decoded content. */
static char *save_part(struct walker *w, GMimePart *part, const char *name)
{
	g_autofree char *type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(GMIME_OBJECT(part)));
	char *path = next_path(w, extension_for(name, type));
	GMimeStream *out = g_mime_stream_fs_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600, NULL);
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	int ret = out && content ? (int)g_mime_data_wrapper_write_to_stream(content, out) : -1;
	if (out != NULL) {
		g_mime_stream_flush(out);
		g_object_unref(out);
	}
	if (ret < 0) {
		g_free(path);
		return NULL;
	}
	return path;
}

static void walk_object(struct walker *w, GMimeObject *obj, int depth);

/* ---- text ---- */

static void add_text(struct walker *w, const char *text, const char *name, bool is_body)
{
	char *path = next_path(w, ".txt");
	if (write_file(path, text, strlen(text)) == 0) {
		add_part(w, path, "text/plain", name, is_body);
		if (is_body && w->walk->body_text == NULL)
			w->walk->body_text = g_strdup(text);
	}
	g_free(path);
}

static bool is_attachment(GMimeObject *obj)
{
	const char *disposition = g_mime_object_get_disposition(obj);
	return (disposition && g_ascii_strcasecmp(disposition, "attachment") == 0) ||
	       (GMIME_IS_PART(obj) && g_mime_part_get_filename(GMIME_PART(obj)) != NULL);
}

/* ---- TNEF (winmail.dat) ---- */

static void walk_tnef(struct walker *w, GMimePart *part)
{
	g_autofree char *path = save_part(w, part, "winmail.dat");
	gchar *data = NULL;
	gsize len = 0;
	if (path == NULL || !g_file_get_contents(path, &data, &len, NULL))
		return;
	TNEFStruct tnef;
	TNEFInitialize(&tnef);
	if (TNEFParseMemory((BYTE *)data, (long)len, &tnef) != 0) {
		skip(w, "winmail.dat", "application/ms-tnef", "not a TNEF file");
	} else {
		for (Attachment *a = tnef.starting_attach.next; a != NULL; a = a->next) {
			if (a->FileData.size == 0 || a->FileData.data == NULL)
				continue;
			variableLength *longname = MAPIFindProperty(&a->MAPI, PROP_TAG(PT_STRING8, PR_ATTACH_LONG_FILENAME));
			const char *name = longname != MAPI_UNDEFINED && longname->size > 0 ? (const char *)longname->data
												: (const char *)a->Title.data;
			g_autofree char *safe = name ? g_strndup(name, 200) : g_strdup("attachment");
			g_autofree char *out = next_path(w, extension_of(safe));
			if (write_file(out, a->FileData.data, a->FileData.size) == 0) {
				g_autofree char *type = g_content_type_guess(safe, a->FileData.data, a->FileData.size, NULL);
				g_autofree char *mime = g_content_type_get_mime_type(type);
				add_part(w, out, mime ? mime : "application/octet-stream", safe, false);
			}
		}
	}
	TNEFFree(&tnef);
	g_free(data);
}

/* ---- S/MIME opaque signed (application/pkcs7-mime; smime-type=signed-data) ---- */

static void walk_smime_signed(struct walker *w, GMimePart *part, int depth)
{
	g_autofree char *path = save_part(w, part, "smime.p7m");
	gchar *data = NULL;
	gsize len = 0;
	if (path == NULL || !g_file_get_contents(path, &data, &len, NULL))
		return;
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = d2i_CMS_bio(in, NULL);
	ASN1_OCTET_STRING **content = cms ? CMS_get0_content(cms) : NULL;
	if (content == NULL || *content == NULL) {
		skip(w, "smime.p7m", "application/pkcs7-mime", "not signed data we can open (encrypted?)");
	} else {
		GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)ASN1_STRING_get0_data(*content),
									 (size_t)ASN1_STRING_length(*content));
		GMimeParser *parser = g_mime_parser_new_with_stream(stream);
		GMimeObject *inner = g_mime_parser_construct_part(parser, NULL);
		if (inner != NULL) {
			walk_object(w, inner, depth + 1);
			g_object_unref(inner);
		}
		g_object_unref(parser);
		g_object_unref(stream);
	}
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	g_free(data);
}

/* ---- leaves ---- */

static void walk_leaf(struct walker *w, GMimePart *part, int depth)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	g_autofree char *type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
	const char *name = g_mime_part_get_filename(part);
	const char *cid = g_mime_object_get_content_id(obj);
	if (g_ascii_strcasecmp(type, "application/pgp-signature") == 0 ||
	    g_ascii_strcasecmp(type, "application/pkcs7-signature") == 0 ||
	    g_ascii_strcasecmp(type, "application/x-pkcs7-signature") == 0) {
		skip(w, name, type, "signature");
	} else if (cid != NULL && g_hash_table_contains(w->referenced_cids, cid)) {
		skip(w, name, type, "inline image referenced from HTML");
	} else if (g_ascii_strcasecmp(type, "application/ms-tnef") == 0 ||
		   (name && g_ascii_strcasecmp(name, "winmail.dat") == 0)) {
		walk_tnef(w, part);
	} else if (g_ascii_strcasecmp(type, "application/pkcs7-mime") == 0 ||
		   g_ascii_strcasecmp(type, "application/x-pkcs7-mime") == 0) {
		walk_smime_signed(w, part, depth);
	} else if (GMIME_IS_TEXT_PART(part) && g_ascii_strcasecmp(type, "text/plain") == 0) {
		g_autofree char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
		bool body = !is_attachment(obj) && w->walk->body_text == NULL;
		add_text(w, text ? text : "", name, body);
	} else {
		g_autofree char *path = save_part(w, part, name);
		bool body = g_ascii_strcasecmp(type, "text/html") == 0 && !is_attachment(obj);
		if (path != NULL)
			add_part(w, path, type, name, body);
	}
}

/* ---- containers ---- */

/* Content ids the HTML under obj refers to ("cid:..."), wherever it sits in the tree. */
static void collect_cids(struct walker *w, GMimeObject *obj, int depth)
{
	if (GMIME_IS_MULTIPART(obj) && depth < MIME_MAX_DEPTH) {
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(obj)); i++)
			collect_cids(w, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1);
		return;
	}
	if (!GMIME_IS_TEXT_PART(obj) || !g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "text", "html"))
		return;
	g_autofree char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
	for (const char *p = text; p && (p = strstr(p, "cid:")) != NULL;) {
		p += 4;
		size_t n = strcspn(p, "\"'> )");
		g_hash_table_add(w->referenced_cids, g_strndup(p, n));
	}
}

static GMimeObject *pick_alternative(GMimeMultipart *mp)
{
	GMimeObject *best = NULL;
	for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
		GMimeObject *alt = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(alt);
		if (g_mime_content_type_is_type(ct, "text", "plain"))
			return alt;
		if (best == NULL || g_mime_content_type_is_type(ct, "multipart", "*"))
			best = alt; /* HTML (or a related HTML bundle) when there is no text */
	}
	return best;
}

static void walk_related(struct walker *w, GMimeMultipart *mp, int depth)
{
	int n = g_mime_multipart_get_count(mp);
	if (n == 0)
		return;
	GMimeObject *root = g_mime_multipart_get_part(mp, 0);
	collect_cids(w, root, depth);
	walk_object(w, root, depth + 1);
	for (int i = 1; i < n; i++)
		walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1);
}

static void walk_multipart(struct walker *w, GMimeMultipart *mp, int depth)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
		GMimeObject *alt = pick_alternative(mp);
		if (alt != NULL)
			walk_object(w, alt, depth + 1);
	} else if (g_mime_content_type_is_type(ct, "multipart", "related")) {
		walk_related(w, mp, depth);
	} else if (g_mime_content_type_is_type(ct, "multipart", "signed")) {
		if (g_mime_multipart_get_count(mp) > 0)
			walk_object(w, g_mime_multipart_get_part(mp, 0), depth + 1); /* the signed content */
		skip(w, "signature", "multipart/signed", "signature");
	} else {
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1);
	}
}

/* A forwarded message: a text page with its headers and body, then its attachments. */
static void walk_message_part(struct walker *w, GMimeMessagePart *mpart, int depth)
{
	GMimeMessage *msg = g_mime_message_part_get_message(mpart);
	if (msg == NULL)
		return;
	GString *head = g_string_new("---------- Forwarded message ----------\n");
	static const char *const names[] = {"From", "Date", "Subject", "To", "Cc"};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), names[i]);
		if (v != NULL) {
			g_autofree char *decoded = g_mime_utils_header_decode_text(NULL, v);
			g_string_append_printf(head, "%s: %s\n", names[i], decoded);
		}
	}
	g_string_append_c(head, '\n');
	struct mime_walk *outer = w->walk;
	struct mime_walk inner = {.parts = g_ptr_array_new_with_free_func(part_free), .skipped = outer->skipped};
	w->walk = &inner;
	walk_object(w, g_mime_message_get_mime_part(msg), depth + 1);
	w->walk = outer;
	if (inner.body_text)
		g_string_append(head, inner.body_text);
	add_text(w, head->str, "forwarded-message.txt", false);
	for (guint i = 0; i < inner.parts->len; i++) {
		struct mime_part *p = inner.parts->pdata[i];
		if (!(p->is_body && g_str_equal(p->content_type, "text/plain")))
			add_part(w, p->path, p->content_type, p->name, false);
	}
	g_ptr_array_free(inner.parts, TRUE);
	g_free(inner.body_text);
	g_string_free(head, TRUE);
}

static void walk_object(struct walker *w, GMimeObject *obj, int depth)
{
	if (obj == NULL)
		return;
	if (depth > MIME_MAX_DEPTH) {
		skip(w, NULL, "multipart", "nested too deep");
		return;
	}
	if (GMIME_IS_MULTIPART(obj))
		walk_multipart(w, GMIME_MULTIPART(obj), depth);
	else if (GMIME_IS_MESSAGE_PART(obj))
		walk_message_part(w, GMIME_MESSAGE_PART(obj), depth);
	else if (GMIME_IS_PART(obj))
		walk_leaf(w, GMIME_PART(obj), depth);
}

int mime_walk(const char *path, const char *dir, struct mime_walk **walk_r, const char **error_r)
{
	mime_init();
	GError *error = NULL;
	GMimeStream *stream = g_mime_stream_fs_open(path, O_RDONLY, 0, &error);
	if (stream == NULL) {
		*error_r = "cannot read the message";
		g_clear_error(&error);
		return -1;
	}
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL) {
		*error_r = "the message cannot be parsed as MIME";
		return -1;
	}
	struct mime_walk *walk = g_new0(struct mime_walk, 1);
	walk->parts = g_ptr_array_new_with_free_func(part_free);
	walk->skipped = g_ptr_array_new_with_free_func(g_free);
	const char *subject = g_mime_message_get_subject(msg);
	walk->subject = subject ? g_strdup(subject) : NULL;
	struct walker w = {.walk = walk, .dir = dir,
			   .referenced_cids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
	walk_object(&w, g_mime_message_get_mime_part(msg), 0);
	g_hash_table_destroy(w.referenced_cids);
	g_object_unref(msg);
	*walk_r = walk;
	return 0;
}
