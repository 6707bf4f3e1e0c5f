/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Received faxes to mailboxes: by rule (caller id, CSID), by the [routes] table, by the DIDs of
 * profiles (a group profile's fax goes to its members), else to the fallback mailbox, so that no
 * fax is ever without a reader.
 */
#include "smtpgw/rxroute.h"

#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/store.h"
#include "profiles/profile.h"

static void target_free(struct rx_target *t)
{
	g_free(t->address);
	g_free(t->format);
	g_free(t->language);
	g_free(t);
}

static void add_target(GPtrArray *targets, const char *address, const char *format, const char *language)
{
	struct rx_target *t = g_new0(struct rx_target, 1);
	t->address = g_strdup(address);
	t->format = g_strdup(format);
	t->language = g_strdup(language);
	g_ptr_array_add(targets, t);
}

static const char *digits_of(const char *number, char *buf, size_t size)
{
	size_t n = 0;
	for (const char *p = number ? number : ""; *p != '\0' && n + 1 < size; p++)
		if (g_ascii_isdigit(*p))
			buf[n++] = *p;
	buf[n] = '\0';
	return buf;
}

bool rxroute_did_matches(const char *key, const char *did)
{
	char k[64], d[64];
	digits_of(key, k, sizeof(k));
	digits_of(did, d, sizeof(d));
	if (k[0] == '\0' || d[0] == '\0')
		return false;
	if (strcmp(k, d) == 0)
		return true;
	size_t kl = strlen(k), dl = strlen(d);
	return key[0] != '+' && kl < dl && strcmp(d + dl - kl, k) == 0;
}

static bool glob_matches(const char *pattern, const char *value)
{
	return pattern == NULL || *pattern == '\0' || g_pattern_match_simple(pattern, value ? value : "");
}

/* Addresses of a list; "format=X" among them sets the format. */
static void add_list(GPtrArray *targets, const char *const *words, const char *format, const char *language)
{
	const char *fmt = format;
	for (int i = 0; words[i] != NULL; i++)
		if (g_str_has_prefix(words[i], "format="))
			fmt = words[i] + strlen("format=");
	for (int i = 0; words[i] != NULL; i++)
		if (strchr(words[i], '@') != NULL)
			add_target(targets, words[i], fmt, language);
}

static void by_rules(const struct config *cfg, const struct inbound *in, GPtrArray *targets, const char *format,
		     const char *language)
{
	const char *const *rules = config_instances(cfg, "rxrule");
	for (int i = 0; rules[i] != NULL && targets->len == 0; i++) {
		g_autofree char *group = g_strdup_printf("rxrule %s", rules[i]);
		const char *did = config_str(cfg, group, "did");
		if ((*did != '\0' && !rxroute_did_matches(did, in->did)) ||
		    !glob_matches(config_str(cfg, group, "caller_id"), in->caller_id) ||
		    !glob_matches(config_str(cfg, group, "csid"), in->remote_csid))
			continue;
		const char *fmt = config_str(cfg, group, "format");
		add_list(targets, config_list(cfg, group, "to"), *fmt ? fmt : format, language);
	}
}

static void by_routes(const struct config *cfg, const struct inbound *in, GPtrArray *targets, const char *format,
		      const char *language)
{
	const char *const *keys = config_keys_of(cfg, "routes");
	for (int i = 0; keys[i] != NULL && targets->len == 0; i++)
		if (rxroute_did_matches(keys[i], in->did))
			add_list(targets, config_list(cfg, "routes", keys[i]), format, language);
}

static void add_once(GPtrArray *targets, const char *address, const char *format, const char *language)
{
	for (guint i = 0; i < targets->len; i++)
		if (g_ascii_strcasecmp(((struct rx_target *)targets->pdata[i])->address, address) == 0)
			return;
	add_target(targets, address, format, language);
}

/* A user's faxes go to the user; a group's to each of its members (in the group's format and
   language), or to the group's own address when it has none. */
static void add_profile(GPtrArray *targets, const struct profile *p, const char *format, const char *language)
{
	const char *fmt = p->rx_format ? p->rx_format : format, *lang = p->language ? p->language : language;
	bool group = g_strcmp0(p->kind, "group") == 0 && p->members->len > 0;
	if (!group)
		add_once(targets, p->primary_address, fmt, lang);
	for (guint i = 0; group && i < p->members->len; i++)
		add_once(targets, p->members->pdata[i], fmt, lang);
}

static int by_profiles(struct store *store, const struct inbound *in, GPtrArray *targets, const char *format,
		       const char *language, const char **error_r)
{
	GPtrArray *profiles = NULL;
	if (in->did == NULL || *in->did == '\0')
		return 0;
	if (profile_for_did(store, in->did, &profiles, error_r) < 0)
		return -1;
	for (guint i = 0; i < profiles->len; i++)
		add_profile(targets, profiles->pdata[i], format, language);
	g_ptr_array_free(profiles, TRUE);
	return 0;
}

int rxroute_resolve(const struct config *cfg, struct store *store, const struct inbound *in, GPtrArray **targets_r,
		    const char **routed_by_r, const char **error_r)
{
	GPtrArray *targets = g_ptr_array_new_with_free_func((GDestroyNotify)target_free);
	const char *format = config_str(cfg, "mail", "rx_format"), *language = config_str(cfg, "mail", "language");
	*routed_by_r = "rule";
	by_rules(cfg, in, targets, format, language);
	if (targets->len == 0) {
		*routed_by_r = "route";
		by_routes(cfg, in, targets, format, language);
	}
	if (targets->len == 0) {
		*routed_by_r = "profile";
		if (by_profiles(store, in, targets, format, language, error_r) < 0) {
			g_ptr_array_free(targets, TRUE);
			return -1;
		}
	}
	if (targets->len == 0) {
		const char *fallback = config_str(cfg, "mail", "fallback");
		*routed_by_r = "default";
		add_target(targets, *fallback ? fallback : config_str(cfg, "mail", "admin"), format, language);
	}
	*targets_r = targets;
	return 0;
}
