/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxctl's output: the same records as a human table (columns sized to their content) or as
 * JSON for scripts (RFC 8259; strings escaped, integers bare).
 */
#include "faxctl/output.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct field {
	char *name, *value;
	bool is_int;
	GPtrArray *nested; /* of GPtrArray records, for nested lists */
};

struct output {
	bool json;
	GPtrArray *records;   /* GPtrArray of struct field * */
	GPtrArray *current;   /* record being filled */
	GPtrArray *parent;    /* record holding the nested list being filled */
	struct field *nested; /* the nested field */
};

static void field_free(gpointer p)
{
	struct field *f = p;
	g_free(f->name);
	g_free(f->value);
	if (f->nested)
		g_ptr_array_free(f->nested, TRUE);
	g_free(f);
}

static GPtrArray *record_new(void)
{
	return g_ptr_array_new_with_free_func(field_free);
}

struct output *output_create(bool json)
{
	struct output *out = g_new0(struct output, 1);
	out->json = json;
	out->records = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	return out;
}

void output_record_begin(struct output *out)
{
	out->current = record_new();
}

static void add(struct output *out, const char *name, char *value, bool is_int)
{
	struct field *f = g_new0(struct field, 1);
	f->name = g_strdup(name);
	f->value = value;
	f->is_int = is_int;
	g_ptr_array_add(out->current, f);
}

void output_str(struct output *out, const char *name, const char *value)
{
	add(out, name, value ? g_strdup(value) : NULL, false);
}

void output_int(struct output *out, const char *name, int64_t value)
{
	add(out, name, g_strdup_printf("%lld", (long long)value), true);
}

void output_nested_begin(struct output *out, const char *name)
{
	struct field *f = g_new0(struct field, 1);
	f->name = g_strdup(name);
	f->nested = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	g_ptr_array_add(out->current, f);
	out->parent = out->current;
	out->nested = f;
	out->current = NULL;
}

void output_nested_end(struct output *out)
{
	out->current = out->parent;
	out->parent = NULL;
	out->nested = NULL;
}

void output_record_end(struct output *out)
{
	if (out->nested != NULL)
		g_ptr_array_add(out->nested->nested, out->current);
	else
		g_ptr_array_add(out->records, out->current);
	out->current = NULL;
}

void output_json_string(GString *s, const char *text)
{
	g_string_append_c(s, '"');
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		switch (*p) {
		case '"': g_string_append(s, "\\\""); break;
		case '\\': g_string_append(s, "\\\\"); break;
		case '\n': g_string_append(s, "\\n"); break;
		case '\r': g_string_append(s, "\\r"); break;
		case '\t': g_string_append(s, "\\t"); break;
		default:
			if (*p < 0x20)
				g_string_append_printf(s, "\\u%04x", *p);
			else
				g_string_append_c(s, (char)*p);
		}
	}
	g_string_append_c(s, '"');
}

static void json_record(GString *s, GPtrArray *rec)
{
	g_string_append_c(s, '{');
	for (guint i = 0; i < rec->len; i++) {
		struct field *f = rec->pdata[i];
		if (i > 0)
			g_string_append(s, ", ");
		output_json_string(s, f->name);
		g_string_append(s, ": ");
		if (f->nested != NULL) {
			g_string_append_c(s, '[');
			for (guint j = 0; j < f->nested->len; j++) {
				if (j > 0)
					g_string_append(s, ", ");
				json_record(s, f->nested->pdata[j]);
			}
			g_string_append_c(s, ']');
		} else if (f->value == NULL) {
			g_string_append(s, "null");
		} else if (f->is_int) {
			g_string_append(s, f->value);
		} else {
			output_json_string(s, f->value);
		}
	}
	g_string_append_c(s, '}');
}

static void print_table(GPtrArray *records, const char *indent)
{
	if (records->len == 0)
		return;
	GPtrArray *first = records->pdata[0];
	size_t widths[64] = {0};
	guint cols = MIN(first->len, G_N_ELEMENTS(widths));
	for (guint c = 0; c < cols; c++)
		widths[c] = strlen(((struct field *)first->pdata[c])->name);
	for (guint r = 0; r < records->len; r++) {
		GPtrArray *rec = records->pdata[r];
		for (guint c = 0; c < cols && c < rec->len; c++) {
			struct field *f = rec->pdata[c];
			if (f->nested == NULL && f->value)
				widths[c] = MAX(widths[c], (size_t)g_utf8_strlen(f->value, -1));
		}
	}
	printf("%s", indent);
	for (guint c = 0; c < cols; c++) {
		struct field *f = first->pdata[c];
		if (f->nested == NULL)
			printf("%-*s%s", (int)widths[c], f->name, c + 1 < cols ? "  " : "\n");
	}
	for (guint r = 0; r < records->len; r++) {
		GPtrArray *rec = records->pdata[r];
		printf("%s", indent);
		for (guint c = 0; c < cols && c < rec->len; c++) {
			struct field *f = rec->pdata[c];
			if (f->nested == NULL)
				printf("%-*s%s", (int)widths[c], f->value ? f->value : "-", c + 1 < cols ? "  " : "\n");
		}
	}
}

static void print_blocks(GPtrArray *records)
{
	for (guint r = 0; r < records->len; r++) {
		GPtrArray *rec = records->pdata[r];
		for (guint c = 0; c < rec->len; c++) {
			struct field *f = rec->pdata[c];
			if (f->nested != NULL) {
				printf("%s:\n", f->name);
				print_table(f->nested, "  ");
			} else if (f->value != NULL && *f->value != '\0') {
				printf("%-16s %s\n", f->name, f->value);
			}
		}
	}
}

void output_flush(struct output *out, bool as_table)
{
	if (out->json) {
		GString *s = g_string_new(NULL);
		if (as_table) {
			g_string_append_c(s, '[');
			for (guint i = 0; i < out->records->len; i++) {
				if (i > 0)
					g_string_append(s, ",\n ");
				json_record(s, out->records->pdata[i]);
			}
			g_string_append(s, "]");
		} else if (out->records->len > 0) {
			json_record(s, out->records->pdata[0]);
		}
		printf("%s\n", s->str);
		g_string_free(s, TRUE);
	} else if (as_table) {
		print_table(out->records, "");
	} else {
		print_blocks(out->records);
	}
	fflush(stdout);
}

void output_free(struct output **outp)
{
	if (*outp == NULL)
		return;
	g_ptr_array_free((*outp)->records, TRUE);
	g_free(*outp);
	*outp = NULL;
}

const char *output_time(int64_t t, char buf[32])
{
	if (t <= 0)
		return "-";
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}
