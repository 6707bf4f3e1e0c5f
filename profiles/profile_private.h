/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef PROFILES_PROFILE_PRIVATE_H
#define PROFILES_PROFILE_PRIVATE_H

#include <stddef.h>

#include "profiles/profile.h"

enum profile_field_type {
	PROFILE_FIELD_TEXT,	 /* char * */
	PROFILE_FIELD_PRIMARY,	 /* char *primary_address: also kept first in addresses */
	PROFILE_FIELD_ADDRESSES, /* GPtrArray *addresses: the primary always first */
	PROFILE_FIELD_LIST,	 /* GPtrArray * of char *, its own table */
	PROFILE_FIELD_BOOL,	 /* bool */
};

/* One field of struct profile: the table (profile_field.c) that drives set/get by name, the CSV
   columns and the store's columns of the profiles table. */
struct profile_field_def {
	const char *name;   /* field and CSV column; NULL: stored, never set by name (password_hash) */
	const char *column; /* column of the profiles table; NULL: a table of its own (lists) */
	enum profile_field_type type;
	size_t offset;	    /* of the member in struct profile */
	const char *values; /* the allowed words, "a|b|c" (stored lower-case); NULL: any */
	int (*check)(const char *value, const char **why_r); /* of a text or of each list item */
	size_t max;	   /* characters of a text or of a list item; 0: PROFILE_TEXT_MAX */
	bool lower;	   /* stored lower-case (addresses) */
	const char *empty; /* what an empty value sets; NULL: unset */
};

#define PROFILE_TEXT_MAX 256

/* Every field, ended by an entry with name and column NULL; at most PROFILE_FIELD_DEFS_MAX. */
#define PROFILE_FIELD_DEFS_MAX 32
extern const struct profile_field_def profile_field_defs[];

#define PROFILE_FIELD_EACH(d)                                                                                \
	for (const struct profile_field_def *d = profile_field_defs; d->name != NULL || d->column != NULL;   \
	     d++)

/* A char * member, kept in a text column of the profiles table (every string but the id). */
#define PROFILE_FIELD_IS_STRING(d) ((d)->column != NULL && (d)->type != PROFILE_FIELD_BOOL)

#define PROFILE_MEMBER(p, def, type) (*(type *)((char *)(p) + (def)->offset))

/* Put the primary address first in addresses, once. */
void profile_primary_first(struct profile *profile);

#endif
