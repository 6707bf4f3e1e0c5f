/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Profiles as CSV (RFC 4180), for `faxctl profile import|export`. The reader is strict where the
 * RFC is (a quote only opens a field or is doubled inside a quoted one; nothing may follow a
 * closing quote but a comma or a line end), lenient where writers differ: CRLF, LF or a lone CR
 * end a line, a UTF-8 byte order mark is skipped, empty lines are skipped. Pure: bytes in, rows
 * out; the columns are the field table's (profile_field.c), so set/get and CSV cannot drift.
 */
#include "profiles/profile_csv.h"

#include <string.h>

#include "common/error.h"
#include "profiles/profile.h"

struct csv_row {
	unsigned line;
	GPtrArray *values; /* char *, one per column */
};

struct profile_csv {
	GPtrArray *columns; /* const char *, spelt as profile_field_names() does (static) */
	GPtrArray *rows;    /* struct csv_row * */
};

struct reader {
	const char *p, *end;
	unsigned line;
};

static void row_free(gpointer data)
{
	struct csv_row *row = data;
	g_ptr_array_free(row->values, TRUE);
	g_free(row);
}

void profile_csv_free(struct profile_csv **csvp)
{
	struct profile_csv *csv = *csvp;
	if (csv == NULL)
		return;
	g_ptr_array_free(csv->columns, TRUE);
	g_ptr_array_free(csv->rows, TRUE);
	g_free(csv);
	*csvp = NULL;
}

static bool at_eol(const struct reader *r)
{
	return r->p < r->end && (*r->p == '\r' || *r->p == '\n');
}

static void skip_eol(struct reader *r)
{
	if (*r->p++ == '\r' && r->p < r->end && *r->p == '\n')
		r->p++;
	r->line++;
}

static int read_quoted(struct reader *r, GString *field, const char **error_r)
{
	unsigned start = r->line;
	for (r->p++;; r->p++) {
		if (r->p == r->end)
			return error_set(error_r, "line %u: unterminated quoted field", start);
		char c = *r->p;
		if (c == '"' && r->p + 1 < r->end && r->p[1] == '"')
			r->p++;
		else if (c == '"')
			break;
		else if (c == '\0')
			return error_set(error_r, "line %u: NUL byte", r->line);
		else if (c == '\n' || (c == '\r' && (r->p + 1 == r->end || r->p[1] != '\n')))
			r->line++;
		g_string_append_c(field, c);
	}
	r->p++;
	if (r->p < r->end && *r->p != ',' && !at_eol(r))
		return error_set(error_r, "line %u: text after a closing quote", r->line);
	return 0;
}

static int read_field(struct reader *r, GString *field, const char **error_r)
{
	if (r->p < r->end && *r->p == '"')
		return read_quoted(r, field, error_r);
	for (; r->p < r->end && *r->p != ',' && !at_eol(r); r->p++) {
		if (*r->p == '"')
			return error_set(error_r, "line %u: a quote inside an unquoted field", r->line);
		if (*r->p == '\0')
			return error_set(error_r, "line %u: NUL byte", r->line);
		g_string_append_c(field, *r->p);
	}
	return 0;
}

/* One record: 1 and *fields_r (char *) and *line_r, 0 at the end, -1 error. */
static int read_record(struct reader *r, GPtrArray **fields_r, unsigned *line_r, const char **error_r)
{
	while (at_eol(r))
		skip_eol(r);
	if (r->p == r->end)
		return 0;
	GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
	*line_r = r->line;
	for (;;) {
		GString *field = g_string_new(NULL);
		if (read_field(r, field, error_r) < 0) {
			g_string_free(field, TRUE);
			g_ptr_array_free(fields, TRUE);
			return -1;
		}
		g_ptr_array_add(fields, g_string_free(field, FALSE));
		if (r->p == r->end || at_eol(r))
			break;
		r->p++; /* the comma */
	}
	if (r->p < r->end)
		skip_eol(r);
	*fields_r = fields;
	return 1;
}

static const char *column_name(const char *name)
{
	for (const char *const *n = profile_field_names(); *n != NULL; n++)
		if (g_ascii_strcasecmp(*n, name) == 0)
			return *n;
	return NULL;
}

static int column_index(const struct profile_csv *csv, const char *name)
{
	for (guint i = 0; i < csv->columns->len; i++)
		if (g_ascii_strcasecmp(csv->columns->pdata[i], name) == 0)
			return (int)i;
	return -1;
}

static int read_header(struct reader *r, struct profile_csv *csv, const char **error_r)
{
	GPtrArray *names = NULL;
	unsigned line = 1;
	int ret = read_record(r, &names, &line, error_r);
	if (ret == 0)
		return error_set(error_r, "line %u: no header row", r->line);
	for (guint i = 0; ret > 0 && i < names->len; i++) {
		const char *name = column_name(g_strstrip((char *)names->pdata[i]));
		if (name == NULL)
			ret = error_set(error_r, "line %u: unknown column '%.64s'", line,
					(char *)names->pdata[i]);
		else if (column_index(csv, name) >= 0)
			ret = error_set(error_r, "line %u: column '%s' twice", line, name);
		else
			g_ptr_array_add(csv->columns, (gpointer)name);
	}
	if (ret > 0 && column_index(csv, "address") < 0)
		ret = error_set(error_r, "line %u: no address column", line);
	if (names != NULL)
		g_ptr_array_free(names, TRUE);
	return ret < 0 ? -1 : 0;
}

static int read_rows(struct reader *r, struct profile_csv *csv, const char **error_r)
{
	int address = column_index(csv, "address");
	struct csv_row row;
	int ret;
	while ((ret = read_record(r, &row.values, &row.line, error_r)) > 0) {
		if (row.values->len != csv->columns->len)
			ret = error_set(error_r, "line %u: %u fields, the header has %u", row.line,
					row.values->len, csv->columns->len);
		else if (*(const char *)row.values->pdata[address] == '\0')
			ret = error_set(error_r, "line %u: no address", row.line);
		else if (csv->rows->len >= PROFILE_CSV_MAX_ROWS)
			ret =
			    error_set(error_r, "line %u: more than %u rows", row.line, PROFILE_CSV_MAX_ROWS);
		if (ret < 0) {
			g_ptr_array_free(row.values, TRUE);
			return -1;
		}
		g_ptr_array_add(csv->rows, g_memdup2(&row, sizeof(row)));
	}
	return ret;
}

int profile_csv_parse(const char *data, size_t len, struct profile_csv **csv_r, const char **error_r)
{
	struct reader r = {.p = data, .end = data + len, .line = 1};
	struct profile_csv *csv = g_new0(struct profile_csv, 1);
	csv->columns = g_ptr_array_new();
	csv->rows = g_ptr_array_new_with_free_func(row_free);
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		r.p += 3;
	*csv_r = NULL;
	if (read_header(&r, csv, error_r) < 0 || read_rows(&r, csv, error_r) < 0) {
		profile_csv_free(&csv);
		return -1;
	}
	*csv_r = csv;
	return 0;
}

unsigned profile_csv_rows(const struct profile_csv *csv)
{
	return csv->rows->len;
}

unsigned profile_csv_line(const struct profile_csv *csv, unsigned row)
{
	return ((const struct csv_row *)csv->rows->pdata[row])->line;
}

const char *profile_csv_value(const struct profile_csv *csv, unsigned row, const char *field)
{
	int col = column_index(csv, field);
	return col < 0 ? NULL : ((const struct csv_row *)csv->rows->pdata[row])->values->pdata[col];
}

int profile_csv_apply(const struct profile_csv *csv, unsigned row, struct profile *p, const char **error_r)
{
	const struct csv_row *r = csv->rows->pdata[row];
	const char *why = NULL;
	int address = column_index(csv, "address");
	if (profile_set_field(p, "address", r->values->pdata[address], &why) < 0)
		return error_set(error_r, "line %u: %s", r->line, why);
	for (guint i = 0; i < csv->columns->len; i++)
		if ((int)i != address &&
		    profile_set_field(p, csv->columns->pdata[i], r->values->pdata[i], &why) < 0)
			return error_set(error_r, "line %u: %s", r->line, why);
	return 0;
}

int profile_csv_profile(const struct profile_csv *csv, unsigned row, struct profile **profile_r,
			const char **error_r)
{
	struct profile *p = profile_new(profile_csv_value(csv, row, "address"));
	if (profile_csv_apply(csv, row, p, error_r) < 0) {
		profile_free(&p);
		*profile_r = NULL;
		return -1;
	}
	*profile_r = p;
	return 0;
}

static void put_field(GString *out, const char *value)
{
	if (value == NULL)
		return;
	if (strpbrk(value, ",\"\r\n") == NULL) {
		g_string_append(out, value);
		return;
	}
	g_string_append_c(out, '"');
	for (const char *c = value; *c != '\0'; c++) {
		if (*c == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *c);
	}
	g_string_append_c(out, '"');
}

void profile_csv_write(GString *out, const GPtrArray *profiles)
{
	const char *const *names = profile_field_names();
	for (size_t i = 0; names[i] != NULL; i++)
		g_string_append_printf(out, "%s%s", i ? "," : "", names[i]);
	g_string_append(out, "\r\n");
	for (guint r = 0; r < profiles->len; r++) {
		for (size_t i = 0; names[i] != NULL; i++) {
			g_autofree char *value = profile_get_field(profiles->pdata[r], names[i]);
			if (i > 0)
				g_string_append_c(out, ',');
			put_field(out, value);
		}
		g_string_append(out, "\r\n");
	}
}
