/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef PROFILES_PROFILE_H
#define PROFILES_PROFILE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct store;

/* A user: who they are, what they may send, where their faxes go. Strings owned by the struct. */
struct profile {
	char *id;
	char *primary_address;
	char *name, *company, *department, *phone, *fax;
	bool may_send;
	char *permission_class; /* comma list of dial classes allowed; NULL = the [dial] default */
	char *password_hash;    /* crypt(3) string; NULL = no password (no SMTP AUTH) */
	char *source;           /* local | directory */
	char *language;         /* of notifications: en, de; NULL = [mail] language */
	char *notify;           /* notification policy; NULL = [mail] notify */
	char *rx_format;        /* received faxes: pdf | tiff | both | none; NULL = [mail] rx_format */
	GPtrArray *addresses;   /* every address, primary first (lower-case) */
	GPtrArray *dids;
};

struct profile *profile_new(const char *primary_address);
void profile_free(struct profile **profilep);

/* By any of its addresses (case-insensitive). 1 found, 0 none, -1 error (*error_r). */
int profile_lookup(struct store *store, const char *address, struct profile **profile_r, const char **error_r);
/* The profiles whose DIDs include did (exact), array of struct profile *. 1 some, 0 none, -1 error. */
int profile_for_did(struct store *store, const char *did, GPtrArray **profiles_r, const char **error_r);
/* Insert or replace the profile and its addresses and DIDs, in one transaction. */
int profile_save(struct store *store, struct profile *profile, const char **error_r);

/* A salted slow hash (yescrypt) of password; g_free. NULL on failure. */
char *profile_hash_password(const char *password);
/* Whether password matches the stored hash (constant-time compare). */
bool profile_check_password(const struct profile *profile, const char *password);
bool profile_owns_address(const struct profile *profile, const char *address);

#endif
