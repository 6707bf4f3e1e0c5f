/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef PROFILES_PROFILE_CSV_H
#define PROFILES_PROFILE_CSV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct profile;
struct store;

/* Profiles as CSV (RFC 4180): a header row naming columns of profile_field_names() in any order
   (address required), then one profile a row; fields quoted when they hold , " CR or LF, quotes
   doubled; lines end in CRLF or LF. Parsing and writing are pure (no store). */
struct profile_csv;

#define PROFILE_CSV_MAX_ROWS 1000000

/* Parse a whole document. 0 and *csv_r, or -1 and *error_r ("line 3: unterminated quoted
   field", "line 1: unknown column 'foo'"; error.h's ring). Values are not checked here
   (profile_csv_apply does). */
int profile_csv_parse(const char *data, size_t len, struct profile_csv **csv_r, const char **error_r);
void profile_csv_free(struct profile_csv **csvp);
unsigned profile_csv_rows(const struct profile_csv *csv);
/* The line where row (0-based, the header not counted) starts, 1-based as an editor shows it. */
unsigned profile_csv_line(const struct profile_csv *csv, unsigned row);
/* The row's value of column field; NULL when the document has no such column. Borrowed. */
const char *profile_csv_value(const struct profile_csv *csv, unsigned row, const char *field);
/* Set the row's columns on profile by profile_set_field(), the address first. 0, or -1 and
 *error_r ("line 4: resolution: expected one of standard, fine, superfine"). */
int profile_csv_apply(const struct profile_csv *csv, unsigned row, struct profile *profile,
		      const char **error_r);
/* A new profile from a row (profile_new + profile_csv_apply). 0 or -1 as apply. */
int profile_csv_profile(const struct profile_csv *csv, unsigned row, struct profile **profile_r,
			const char **error_r);

/* Append the header (every column) and one row a profile (array of struct profile *), CRLF. */
void profile_csv_write(GString *out, const GPtrArray *profiles);

struct profile_import_stats {
	unsigned rows, added, changed, unchanged;
};

/* Upsert every row by its address in one transaction (nesting in the caller's): a row whose
   address is an existing profile's primary address changes that profile (its id, password and
   any column the document lacks are kept); otherwise a new profile. All or nothing: on -1
   (*error_r names the line) nothing is changed and the caller's transaction is rolled back too.
   dry_run: everything is checked and counted, then rolled back (call it outside a transaction). */
int profile_import(struct store *store, const struct profile_csv *csv, bool dry_run,
		   struct profile_import_stats *stats_r, const char **error_r);

#endif
