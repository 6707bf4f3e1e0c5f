/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Online directory lookups for smtpgw: the submitter by address, a recipient by name, and
 * SMTP AUTH by binding as the user. One service connection, reused and rebuilt once when it
 * died; every call bounded by [ldap] network_timeout + timeout; results (and successful binds)
 * remembered for [ldap] cache_ttl. "Unavailable" is always told apart from "not found", so the
 * caller can fall back to synced profiles or answer 454 instead of 535.
 */
#ifndef LDAPSYNC_DIRECTORY_H
#define LDAPSYNC_DIRECTORY_H

#include <stdbool.h>

struct config;
struct dialrules;
struct profile;

struct directory;

/* NULL with *error_r = NULL when [ldap] uri is empty; NULL with *error_r on a bad [ldap]. No I/O.
   rules borrowed. */
struct directory *directory_create(const struct config *config, const struct dialrules *rules, const char **error_r);
void directory_free(struct directory **dirp);

enum directory_result {
	DIRECTORY_FOUND,
	DIRECTORY_NOT_FOUND,
	DIRECTORY_AMBIGUOUS,   /* several entries match: never "the first" */
	DIRECTORY_UNAVAILABLE, /* down, timed out, or the entry could not be mapped: *error_r says */
};

/* The user with this address (mail or alias), mapped and with group permissions applied.
   *profile_r owned by the caller on FOUND. */
enum directory_result directory_lookup_address(struct directory *dir, const char *address,
					       struct profile **profile_r, const char **error_r);
/* A recipient named by a fax address' local part ("john.smith", "John_Smith"): the one entry whose
   mail local part or login is that, else the one whose name is that with . and _ as spaces.
   A hit without a fax number is returned too (the caller says "has no fax number"). */
enum directory_result directory_find_recipient(struct directory *dir, const char *local_part,
					       struct profile **profile_r, const char **error_r);

enum directory_auth {
	DIRECTORY_AUTH_OK,
	DIRECTORY_AUTH_INVALID,     /* unknown user, wrong or empty password: the same answer */
	DIRECTORY_AUTH_UNAVAILABLE, /* the directory cannot tell now: 454 4.7.0 */
};
/* user: an address or the login attribute's value. On OK, *profile_r (may be NULL when the entry
   cannot be mapped to a profile) is the user. */
enum directory_auth directory_authenticate(struct directory *dir, const char *user, const char *password,
					   struct profile **profile_r, const char **error_r);

#endif
