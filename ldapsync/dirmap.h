/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The attribute map: a directory entry -> a profile, by [ldap] schema and attr_* keys
 * (inetOrgPerson or Active Directory defaults), and [ldapgroup] memberships -> permission to send
 * and dial classes. Fax numbers are free text in directories ("+1 (555) 010-2001$fineResolution"):
 * the part before '$' is normalised by the dial rules, fineResolution becomes the resolution
 * default; a number the rules refuse makes the entry reported, never guessed.
 */
#ifndef LDAPSYNC_DIRMAP_H
#define LDAPSYNC_DIRMAP_H

#include "ldapsync/ldapconn.h"

#include <glib.h>
#include <stdbool.h>

struct config;
struct dialrules;
struct profile;

struct dirmap;

/* NULL with *error_r when the map cannot be built. rules borrowed (must outlive the map). */
struct dirmap *dirmap_create(const struct config *config, const struct dialrules *rules, const char **error_r);
void dirmap_free(struct dirmap **mapp);

/* The user filter (configured or the schema's default), borrowed. */
const char *dirmap_filter(const struct dirmap *map);
/* The attributes to request, NULL-terminated, borrowed (for ldap_search_ext's attrs). */
char **dirmap_attrs(const struct dirmap *map);

/* The attributes that hold one kind of value (configured or the schema's default),
   NULL-terminated, borrowed: for the lookup filters of directory.c. */
enum dirmap_role {
	DIRMAP_ROLE_MAIL,    /* attr_mail */
	DIRMAP_ROLE_ALIASES, /* attr_aliases (proxyAddresses values carry "smtp:": see dirmap_proxy_address) */
	DIRMAP_ROLE_LOGIN,   /* attr_login */
	DIRMAP_ROLE_NAME,    /* attr_name */
};
const char *const *dirmap_role_attrs(const struct dirmap *map, enum dirmap_role role);

/* Map one entry of a search result. 0 and *profile_r (source "directory", source_uuid, source_dn,
   may_send/permission_class from the defaults; groups are applied by dirmap_groups_apply), or -1
   and *why_r (g_free) saying what is missing or wrong ("no mail attribute", "fax number
   '+1 55x': not a number ..."). */
int dirmap_entry(const struct dirmap *map, LDAP *ld, LDAPMessage *entry, struct profile **profile_r, char **why_r);

/* A fax attribute value: number before '$', and whether "fineResolution" follows. 0, or -1 when
   the value has no number at all. *number_r g_free'd by the caller (as written, not normalised). */
int dirmap_fax_value(const char *value, size_t len, char **number_r, bool *fine_r);

/* An AD proxyAddresses value: the address (lower-case, g_free) of an "smtp:" value, *primary_r
   for "SMTP:"; NULL for other prefixes (X500:, SIP:, ...) and empty values. */
char *dirmap_proxy_address(const char *value, size_t len, bool *primary_r);

#define DIRMAP_UUID_TEXT_SIZE 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and NUL */
/* AD objectGUID (16 bytes as stored) in its usual text form: the first three fields
   little-endian ([MS-DTYP] 2.3.4.2), lower-case. */
void dirmap_guid_text(const unsigned char guid[16], char out[DIRMAP_UUID_TEXT_SIZE]);
/* An RFC 4122 UUID in network order (RFC 4533 syncUUID) as entryUUID writes it. */
void dirmap_uuid_text(const unsigned char uuid[16], char out[DIRMAP_UUID_TEXT_SIZE]);
/* A DN in one comparable form (RFC 4514 normalised, case-folded); g_free. */
char *dirmap_dn_normalize(const char *dn);

/* Group memberships of the [ldapgroup] groups: loaded from the directory (each group's member
   values, DNs normalised) and applied to profiles by their source_dn. */
struct dirmap_groups;
/* 0, or -1 with *error_r (directory unavailable or a group DN not found). No [ldapgroup]: an
   empty set, and apply() leaves the defaults. */
int dirmap_groups_load(const struct dirmap *map, struct ldapconn *conn, struct dirmap_groups **groups_r,
		       const char **error_r);
void dirmap_groups_free(struct dirmap_groups **groupsp);
void dirmap_groups_apply(const struct dirmap_groups *groups, struct profile *profile);

#endif
