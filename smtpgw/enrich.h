/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Who the submitter and a recipient named in a fax address are, by the lookup order of
 * docs/profiles.md: the directory online (when [ldap] online = yes and it answers) -> the synced
 * or local profile -> the [domain NAME] defaults of the sender's mail domain. The result fills
 * the job under research/conventions.md §3.1: address options and X-Fax-* headers override it.
 */
#ifndef SMTPGW_ENRICH_H
#define SMTPGW_ENRICH_H

#include <glib.h>

struct accept_config;
struct config;
struct profile;

/* The submitter's profile. 1 found (*profile_r owned by the caller), 0 none, -1 the store failed
   (*error_r). The directory being down is not an error: the store answers then. */
int enrich_sender(const struct accept_config *ac, const char *address, struct profile **profile_r,
		  const char **error_r);

enum enrich_recipient {
	ENRICH_RECIPIENT_FOUND,
	ENRICH_RECIPIENT_NONE,
	ENRICH_RECIPIENT_AMBIGUOUS,
	ENRICH_RECIPIENT_NO_FAX,      /* the person exists but has no fax number */
	ENRICH_RECIPIENT_UNAVAILABLE, /* directory and store cannot tell now */
};
/* A recipient named by a local part ("john.smith"): the one person with a fax number. */
enum enrich_recipient enrich_recipient(const struct accept_config *ac, const char *local_part,
				       struct profile **profile_r, const char **error_r);

/* The [domain NAME] defaults for address' domain as job fields (table of g_strdup'd strings), or
   NULL when that domain has none. */
GHashTable *enrich_domain_defaults(const struct config *config, const char *address);

#endif
