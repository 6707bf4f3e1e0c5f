/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The submitter's and named recipients' data for a job (smtpgw/enrich.h). The directory is asked
 * first only when [ldap] online = yes: most sites sync it (bin/ldapsync) so that accepting mail
 * does not depend on it being up; a directory that is down or slow falls back to the synced
 * profile, and its failure is logged, not returned to the client.
 */
#include "smtpgw/enrich.h"

#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "ldapsync/directory.h"
#include "profiles/profile.h"
#include "smtpgw/accept.h"

static bool online(const struct accept_config *ac)
{
	return ac->directory != NULL && config_bool(ac->config, "ldap", "online");
}

int enrich_sender(const struct accept_config *ac, const char *address, struct profile **profile_r,
		  const char **error_r)
{
	*profile_r = NULL;
	if (address == NULL || *address == '\0')
		return 0;
	if (online(ac)) {
		const char *why = NULL;
		enum directory_result r = directory_lookup_address(ac->directory, address, profile_r, &why);
		if (r == DIRECTORY_FOUND)
			return 1;
		if (r == DIRECTORY_UNAVAILABLE)
			log_warning("directory: sender lookup failed, using synced profiles: %s", why ? why : "?");
	}
	return profile_lookup(ac->store, address, profile_r, error_r);
}

static enum enrich_recipient with_fax(struct profile **profile_r)
{
	if ((*profile_r)->fax != NULL && *(*profile_r)->fax != '\0')
		return ENRICH_RECIPIENT_FOUND;
	profile_free(profile_r);
	return ENRICH_RECIPIENT_NO_FAX;
}

enum enrich_recipient enrich_recipient(const struct accept_config *ac, const char *local_part,
				       struct profile **profile_r, const char **error_r)
{
	*profile_r = NULL;
	bool directory_down = false;
	if (online(ac)) {
		enum directory_result r = directory_find_recipient(ac->directory, local_part, profile_r, error_r);
		if (r == DIRECTORY_FOUND)
			return with_fax(profile_r);
		if (r == DIRECTORY_AMBIGUOUS)
			return ENRICH_RECIPIENT_AMBIGUOUS;
		directory_down = r == DIRECTORY_UNAVAILABLE;
		if (directory_down)
			log_warning("directory: recipient lookup failed, using synced profiles: %s",
				    *error_r ? *error_r : "?");
	}
	switch (profile_find_recipient(ac->store, local_part, profile_r, error_r)) {
	case 1: return with_fax(profile_r);
	case 2: return ENRICH_RECIPIENT_AMBIGUOUS;
	case 0: return directory_down ? ENRICH_RECIPIENT_UNAVAILABLE : ENRICH_RECIPIENT_NONE;
	default: return ENRICH_RECIPIENT_UNAVAILABLE;
	}
}

GHashTable *enrich_domain_defaults(const struct config *config, const char *address)
{
	const char *at = address ? strrchr(address, '@') : NULL;
	if (at == NULL || at[1] == '\0')
		return NULL;
	g_autofree char *domain = g_ascii_strdown(at + 1, -1);
	const char *const *names = config_instances(config, "domain");
	for (int i = 0; names != NULL && names[i] != NULL; i++) {
		if (g_ascii_strcasecmp(names[i], domain) != 0)
			continue;
		g_autofree char *group = g_strconcat("domain ", names[i], NULL);
		static const struct { const char *key, *field; } keys[] = {
			{"company", "sender_company"}, {"cover", "cover"}, {"resolution", "resolution"},
			{"paper", "paper"}, {"header_line", "header_line"}, {"tsi", "tsi"},
			{"billing_code", "billing_code"}, {"notify", "notify"},
		};
		GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
			const char *v = config_str(config, group, keys[k].key);
			if (v != NULL && *v != '\0')
				g_hash_table_replace(t, g_strdup(keys[k].field), g_strdup(v));
		}
		return t;
	}
	return NULL;
}
