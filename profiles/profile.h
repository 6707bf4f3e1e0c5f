/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef PROFILES_PROFILE_H
#define PROFILES_PROFILE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct store;

/* A user, or a group of users sharing DIDs (a department fax): who they are, what they may send,
   where their faxes go, and the defaults of their jobs. Strings owned by the struct; NULL = unset
   (the next level of docs/profiles.md's lookup order applies). */
struct profile {
	char *id;
	char *kind;             /* user | group */
	char *primary_address;  /* lower-case */
	char *name, *company, *department, *phone;
	char *fax;              /* the user's own fax number, E.164 when it could be normalised */
	bool may_send;
	char *permission_class; /* comma list of dial classes allowed; NULL = the [dial] default */
	/* defaults of the user's jobs (X-Fax-* headers override them) */
	char *cover, *resolution, *paper, *header_line, *tsi, *billing_code;
	char *notify;           /* notification policy; NULL = [mail] notify */
	char *rx_format;        /* received faxes: pdf | tiff | both | none; NULL = [mail] rx_format */
	char *language;         /* of notifications: en, de; NULL = [mail] language */
	char *password_hash;    /* crypt(3) string; NULL = no password (no local SMTP AUTH) */
	char *source;           /* local | directory */
	char *source_uuid;      /* directory: entryUUID / objectGUID of the entry */
	char *source_dn;        /* directory: the entry's DN as the server returned it */
	GPtrArray *addresses;   /* every address, primary first (lower-case) */
	GPtrArray *dids;        /* numbers whose faxes come to this profile (E.164) */
	GPtrArray *members;     /* group: the members' addresses (their faxes go to these) */
};

struct profile *profile_new(const char *primary_address);
void profile_free(struct profile **profilep);
struct profile *profile_copy(const struct profile *profile);

/* By any of its addresses (case-insensitive). 1 found, 0 none, -1 error (*error_r). */
int profile_lookup(struct store *store, const char *address, struct profile **profile_r, const char **error_r);
/* By directory UUID. 1 found, 0 none, -1 error. */
int profile_lookup_uuid(struct store *store, const char *uuid, struct profile **profile_r, const char **error_r);
/* A recipient named in a fax address' local part ("john.smith", "John_Smith"): the one profile
   with an address whose local part is that, or whose name is that with . and _ read as spaces
   (case-insensitive). 1 exactly one, 0 none, 2 ambiguous (several), -1 error. */
int profile_find_recipient(struct store *store, const char *local_part, struct profile **profile_r,
			   const char **error_r);
/* The profiles whose DIDs include did (exact), array of struct profile *. 1 some, 0 none, -1 error. */
int profile_for_did(struct store *store, const char *did, GPtrArray **profiles_r, const char **error_r);
/* Every profile ordered by primary address (struct profile *); source NULL = all. */
int profile_list(struct store *store, const char *source, GPtrArray **profiles_r, const char **error_r);
/* Insert or replace the profile and its addresses, DIDs and members, in one transaction (nests
   inside the caller's). An address another profile owns is an error naming it. */
int profile_save(struct store *store, struct profile *profile, const char **error_r);
/* 1 deleted, 0 no such profile, -1 error. */
int profile_delete(struct store *store, const char *address, const char **error_r);

/* Set one field by its name ("name", "company", "dids", "may_send", ...) from text: lists are
   comma-separated, booleans yes/no. 0, or -1 with *error_r (static) for an unknown field or bad
   value. An empty value clears the field. */
int profile_set_field(struct profile *profile, const char *field, const char *value, const char **error_r);
/* The field as text (lists comma-joined); g_free. NULL when unset. */
char *profile_get_field(const struct profile *profile, const char *field);
/* The names of the settable fields, NULL-terminated, in CSV column order. */
const char *const *profile_field_names(void);
/* Whether every settable field (profile_field_names()) of a and b reads the same. */
bool profile_fields_equal(const struct profile *a, const struct profile *b);

/* The job fields this profile supplies (sender_name, sender_company, sender_department,
   sender_phone, sender_fax, sender_email, tsi, billing_code, cover, resolution, paper,
   header_line, notify): a new table of g_strdup'd strings, for fax_headers_merge()'s profile
   level. The TSI defaults to the fax number when the profile names none. */
GHashTable *profile_job_fields(const struct profile *profile);

/* A salted slow hash (yescrypt) of password; g_free. NULL on failure. */
char *profile_hash_password(const char *password);
/* Whether password matches the stored hash (constant-time compare). */
bool profile_check_password(const struct profile *profile, const char *password);
bool profile_owns_address(const struct profile *profile, const char *address);

#endif
