/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Online directory lookups (research/ldap.md §3): filters built only from escaped values
 * (RFC 4515), a lookup must find exactly one entry (sizelimit 2: two hits are ambiguous, never
 * "the first"), AUTH by a bind as the user's DN on a separate handle (RFC 4513 §5.1.2: an empty
 * password is an unauthenticated bind that many servers accept, so it is refused here first).
 * Results are remembered for [ldap] cache_ttl: found and not-found lookups, and successful binds
 * keyed by a hash of user and password (the password itself is never kept). Failures are not
 * cached, so a directory that comes back is used at once.
 *
 * XXX: the calls block their caller for up to network_timeout + timeout per server; smtpgw's
 * event loop waits that long when the directory hangs. The cache and synced profiles keep that
 * rare; a lookup thread would remove it.
 */
#include "ldapsync/directory.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "ldapsync/dirmap.h"
#include "ldapsync/ldapconn.h"
#include "profiles/profile.h"

struct directory {
	struct ldapconn_settings settings;
	struct ldapconn *conn;
	struct dirmap *map;
	struct dirmap_groups *groups;
	int64_t groups_until; /* monotonic µs */
	int64_t ttl_us;
	GHashTable *cache;    /* key -> struct cached */
	char error[256];
};

struct cached {
	int64_t until;
	int result;               /* enum directory_result or enum directory_auth */
	struct profile *profile;  /* NULL when none */
};

static void cached_free(gpointer p)
{
	struct cached *c = p;
	profile_free(&c->profile);
	g_free(c);
}

struct directory *directory_create(const struct config *config, const struct dialrules *rules, const char **error_r)
{
	*error_r = NULL;
	if (!ldapconn_configured(config))
		return NULL;
	struct directory *dir = g_new0(struct directory, 1);
	if (ldapconn_settings_load(config, &dir->settings, error_r) < 0 ||
	    (dir->map = dirmap_create(config, rules, error_r)) == NULL) {
		ldapconn_settings_clear(&dir->settings);
		g_free(dir);
		return NULL;
	}
	dir->conn = ldapconn_create(&dir->settings);
	dir->ttl_us = config_int(config, "ldap", "cache_ttl") * G_USEC_PER_SEC;
	dir->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_free);
	return dir;
}

void directory_free(struct directory **dirp)
{
	struct directory *dir = *dirp;
	if (dir == NULL)
		return;
	ldapconn_free(&dir->conn);
	dirmap_groups_free(&dir->groups);
	dirmap_free(&dir->map);
	ldapconn_settings_clear(&dir->settings);
	g_hash_table_destroy(dir->cache);
	g_free(dir);
	*dirp = NULL;
}

/* ---- cache ---- */

static const struct cached *cache_get(struct directory *dir, const char *key)
{
	struct cached *c = g_hash_table_lookup(dir->cache, key);
	if (c != NULL && c->until < g_get_monotonic_time()) {
		g_hash_table_remove(dir->cache, key);
		c = NULL;
	}
	return c;
}

static void cache_put(struct directory *dir, const char *key, int result, const struct profile *p)
{
	if (dir->ttl_us <= 0)
		return;
	struct cached *c = g_new0(struct cached, 1);
	c->until = g_get_monotonic_time() + dir->ttl_us;
	c->result = result;
	c->profile = p ? profile_copy(p) : NULL;
	g_hash_table_replace(dir->cache, g_strdup(key), c);
}

/* ---- filters ---- */

/* "(a1=v)(a2=v)..." for the attributes of a role, with prefix before the escaped value and
   suffix after it (suffix is not escaped: "*" for a deliberate substring). */
static void add_terms(GString *f, const char *const *attrs, const char *prefix, const char *escaped,
		      const char *suffix)
{
	for (int i = 0; attrs && attrs[i]; i++)
		g_string_append_printf(f, "(%s=%s%s%s)", attrs[i], prefix, escaped, suffix);
}

static char *user_filter(const struct directory *dir, const GString *terms)
{
	return g_strdup_printf("(&%s(|%s))", dirmap_filter(dir->map), terms->str);
}

static char *address_filter(const struct directory *dir, const char *address, bool with_login)
{
	g_autofree char *v = ldapconn_escape(address);
	GString *t = g_string_new(NULL);
	add_terms(t, dirmap_role_attrs(dir->map, DIRMAP_ROLE_MAIL), "", v, "");
	const char *const *aliases = dirmap_role_attrs(dir->map, DIRMAP_ROLE_ALIASES);
	for (int i = 0; aliases && aliases[i]; i++) {
		const char *one[] = {aliases[i], NULL};
		bool proxy = g_ascii_strcasecmp(aliases[i], "proxyAddresses") == 0; /* "smtp:addr" values */
		add_terms(t, one, proxy ? "smtp:" : "", v, "");
	}
	if (with_login)
		add_terms(t, dirmap_role_attrs(dir->map, DIRMAP_ROLE_LOGIN), "", v, "");
	char *f = user_filter(dir, t);
	g_string_free(t, TRUE);
	return f;
}

/* "(&USERFILTER(|(attr=value suffix)...))" over the attributes of the roles given. */
static char *roles_filter(const struct directory *dir, const enum dirmap_role *roles, const char *const *suffixes,
			  int n, const char *value)
{
	g_autofree char *v = ldapconn_escape(value);
	GString *t = g_string_new(NULL);
	for (int i = 0; i < n; i++)
		add_terms(t, dirmap_role_attrs(dir->map, roles[i]), "", v, suffixes[i]);
	char *f = user_filter(dir, t);
	g_string_free(t, TRUE);
	return f;
}

/* By identity: the mail local part or the login. */
static char *recipient_id_filter(const struct directory *dir, const char *local_part)
{
	static const enum dirmap_role roles[] = {DIRMAP_ROLE_MAIL, DIRMAP_ROLE_LOGIN};
	static const char *const suffixes[] = {"@*", ""};
	return roles_filter(dir, roles, suffixes, 2, local_part);
}

/* By name, . and _ read as spaces. */
static char *recipient_name_filter(const struct directory *dir, const char *local_part)
{
	static const enum dirmap_role roles[] = {DIRMAP_ROLE_NAME};
	static const char *const suffixes[] = {""};
	g_autofree char *spaced = g_strdup(local_part);
	g_strdelimit(spaced, "._", ' ');
	return roles_filter(dir, roles, suffixes, 1, spaced);
}

/* ---- searching ---- */

static const char *fail(struct directory *dir, const char *fmt, const char *detail)
{
	snprintf(dir->error, sizeof(dir->error), fmt, detail ? detail : "");
	return dir->error;
}

/* Group memberships, reloaded when older than the cache TTL. 0 or -1 (unavailable). */
static int fresh_groups(struct directory *dir, const char **error_r)
{
	int64_t now = g_get_monotonic_time();
	if (dir->groups != NULL && now < dir->groups_until)
		return 0;
	struct dirmap_groups *groups = NULL;
	if (dirmap_groups_load(dir->map, dir->conn, &groups, error_r) < 0)
		return -1;
	dirmap_groups_free(&dir->groups);
	dir->groups = groups;
	dir->groups_until = now + dir->ttl_us;
	return 0;
}

/* The one entry the filter finds, mapped. *dn_r (g_free) when asked. */
static enum directory_result search_one(struct directory *dir, const char *filter, struct profile **profile_r,
					char **dn_r, const char **error_r)
{
	*profile_r = NULL;
	LDAPMessage *res = NULL;
	int rc = ldapconn_search(dir->conn, dir->settings.base, dir->settings.scope, filter, dirmap_attrs(dir->map), 2,
				 &res, error_r);
	enum directory_result result = DIRECTORY_NOT_FOUND;
	LDAP *ld = ldapconn_handle(dir->conn);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT) {
		result = DIRECTORY_UNAVAILABLE;
	} else if (rc == LDAP_SIZELIMIT_EXCEEDED || ldap_count_entries(ld, res) > 1) {
		result = DIRECTORY_AMBIGUOUS;
	} else if (rc == LDAP_SUCCESS) {
		LDAPMessage *entry = ldap_first_entry(ld, res);
		if (entry != NULL) {
			g_autofree char *why = NULL;
			if (dn_r != NULL) {
				char *dn = ldap_get_dn(ld, entry);
				*dn_r = g_strdup(dn);
				ldap_memfree(dn);
			}
			if (dirmap_entry(dir->map, ld, entry, profile_r, &why) == 0)
				result = DIRECTORY_FOUND;
			else
				*error_r = fail(dir, "entry cannot be mapped: %s", why);
		}
	}
	ldap_msgfree(res);
	return result;
}

static enum directory_result lookup(struct directory *dir, const char *key, const char *filter,
				    struct profile **profile_r, const char **error_r)
{
	const struct cached *c = cache_get(dir, key);
	if (c != NULL) {
		*profile_r = c->profile ? profile_copy(c->profile) : NULL;
		return (enum directory_result)c->result;
	}
	enum directory_result r = search_one(dir, filter, profile_r, NULL, error_r);
	if (r == DIRECTORY_FOUND && fresh_groups(dir, error_r) < 0) {
		profile_free(profile_r);
		r = DIRECTORY_UNAVAILABLE;
	}
	if (r == DIRECTORY_FOUND)
		dirmap_groups_apply(dir->groups, *profile_r);
	if (r != DIRECTORY_UNAVAILABLE)
		cache_put(dir, key, r, *profile_r);
	return r;
}

enum directory_result directory_lookup_address(struct directory *dir, const char *address,
					       struct profile **profile_r, const char **error_r)
{
	g_autofree char *key = g_strconcat("a:", address, NULL);
	g_autofree char *filter = address_filter(dir, address, false);
	return lookup(dir, key, filter, profile_r, error_r);
}

enum directory_result directory_find_recipient(struct directory *dir, const char *local_part,
					       struct profile **profile_r, const char **error_r)
{
	g_autofree char *id_key = g_strconcat("r:", local_part, NULL);
	g_autofree char *id_filter = recipient_id_filter(dir, local_part);
	enum directory_result r = lookup(dir, id_key, id_filter, profile_r, error_r);
	if (r != DIRECTORY_NOT_FOUND)
		return r;
	g_autofree char *name_key = g_strconcat("n:", local_part, NULL);
	g_autofree char *name_filter = recipient_name_filter(dir, local_part);
	return lookup(dir, name_key, name_filter, profile_r, error_r);
}

/* ---- AUTH ---- */

static char *auth_key(const char *user, const char *password)
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, (const guchar *)user, (gssize)strlen(user) + 1); /* with the NUL: a separator */
	g_checksum_update(sum, (const guchar *)password, (gssize)strlen(password));
	char *key = g_strconcat("p:", g_checksum_get_string(sum), NULL);
	g_checksum_free(sum);
	return key;
}

enum directory_auth directory_authenticate(struct directory *dir, const char *user, const char *password,
					   struct profile **profile_r, const char **error_r)
{
	*profile_r = NULL;
	if (*password == '\0' || *user == '\0')
		return DIRECTORY_AUTH_INVALID;
	g_autofree char *key = auth_key(user, password);
	const struct cached *c = cache_get(dir, key);
	if (c != NULL) {
		*profile_r = c->profile ? profile_copy(c->profile) : NULL;
		return DIRECTORY_AUTH_OK;
	}
	g_autofree char *filter = address_filter(dir, user, true);
	g_autofree char *dn = NULL;
	enum directory_result found = search_one(dir, filter, profile_r, &dn, error_r);
	if (found == DIRECTORY_UNAVAILABLE && dn == NULL)
		return DIRECTORY_AUTH_UNAVAILABLE;
	if (dn == NULL)
		return DIRECTORY_AUTH_INVALID; /* unknown or ambiguous: the same answer as a bad password */
	enum ldapconn_check check = ldapconn_check_password(&dir->settings, dn, password, error_r);
	if (check == LDAPCONN_CHECK_OK && *profile_r != NULL) {
		if (fresh_groups(dir, error_r) < 0)
			check = LDAPCONN_CHECK_UNAVAILABLE; /* permissions unknown: not a guess */
		else
			dirmap_groups_apply(dir->groups, *profile_r);
	}
	if (check != LDAPCONN_CHECK_OK) {
		profile_free(profile_r);
		return check == LDAPCONN_CHECK_INVALID ? DIRECTORY_AUTH_INVALID : DIRECTORY_AUTH_UNAVAILABLE;
	}
	cache_put(dir, key, DIRECTORY_AUTH_OK, *profile_r);
	return DIRECTORY_AUTH_OK;
}
