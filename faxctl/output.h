/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FAXCTL_OUTPUT_H
#define FAXCTL_OUTPUT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Records printed either as an aligned human table or as JSON (one array of objects). A record
   is a list of (name, value) pairs; values are strings, or integers printed bare in JSON. */
struct output;

struct output *output_create(bool json);
void output_record_begin(struct output *out);
void output_str(struct output *out, const char *name, const char *value);
void output_int(struct output *out, const char *name, int64_t value);
/* A nested list of records under name (JSON array; in a table, printed after the row). */
void output_nested_begin(struct output *out, const char *name);
void output_nested_end(struct output *out);
void output_record_end(struct output *out);
/* as_table: a table with a header row; else "name: value" blocks (for one job). */
void output_flush(struct output *out, bool as_table);
void output_free(struct output **outp);

/* JSON string literal of text (escaped, quoted), appended to s. */
void output_json_string(GString *s, const char *text);
/* "2026-11-23 10:00:00" in local time, or "-" for 0. */
const char *output_time(int64_t t, char buf[32]);

#endif
