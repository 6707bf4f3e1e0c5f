/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Trunks of a SIP line (faxd/sip_trunk.h): configuration, the order calls try them in, and the
 * memory of destinations that refused T.38.
 *
 * Failover. A call tries the trunks in priority order; one answered 503 or another 5xx (or that
 * never answered) is skipped for the next, as RFC 3261 §16.7 / RFC 3263 do for servers of one
 * domain. A trunk whose registrar refused us (a final non-2xx to REGISTER) is skipped until a
 * refresh succeeds: calls through it would be refused too. One with registration still pending
 * is tried, since many carriers take calls from a known address anyway.
 *
 * Learned fallback. Gateways that cannot do T.38 answer the offer 488 or 415 (research/
 * sip-t38.md): calling them again with T.38 costs a failed attempt or a refused re-INVITE every
 * time. The refusal is remembered per trunk and number for fallback_ttl, in memory (a restart
 * forgets it, which costs one more refused offer).
 */
#include "faxd/sip_trunk.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"

struct sip_trunks {
	GPtrArray *list; /* struct sip_trunk, in the order calls try them */
	GHashTable *no_t38; /* "trunk\tnumber" -> expiry (time_t as gint64 *) */
	unsigned fallback_ttl_s;
};

static void trunk_free(gpointer data)
{
	struct sip_trunk *t = data;
	g_free(t->name);
	g_free(t->host);
	g_free(t->transport);
	g_free(t->proxy);
	g_free(t->username);
	g_free(t->password);
	g_free(t->from_user);
	g_free(t->from_domain);
	g_free(t->registrar);
	g_free(t);
}

static char *nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? g_strdup(s) : NULL;
}

/* HOST[:PORT] without a scheme; NULL when it would not fit in a URI. */
static char *host_of(const char *text)
{
	if (g_str_has_prefix(text, "sip:"))
		text += 4;
	if (text[0] == '\0' || strpbrk(text, "@;?<> \t\"") != NULL)
		return NULL;
	return g_strdup(text);
}

static enum sip_t38_offer t38_offer_of(const char *text, enum sip_t38_offer inherited)
{
	if (strcmp(text, "first") == 0)
		return SIP_T38_OFFER_FIRST;
	if (strcmp(text, "reinvite") == 0)
		return SIP_T38_OFFER_REINVITE;
	if (strcmp(text, "none") == 0)
		return SIP_T38_OFFER_NONE;
	return inherited; /* "line" */
}

static void udptl_of(const struct config *config, const char *group, struct udptl_settings *us)
{
	const char *ec = config_str(config, group, "udptl_ec");
	if (strcmp(ec, "redundancy") == 0)
		us->ec = UDPTL_EC_REDUNDANCY;
	else if (strcmp(ec, "fec") == 0)
		us->ec = UDPTL_EC_FEC;
	else if (strcmp(ec, "none") == 0)
		us->ec = UDPTL_EC_NONE;
	int depth = (int)config_int(config, group, "udptl_redundancy");
	if (depth >= 0)
		us->redundancy_depth = depth;
}

static struct sip_trunk *trunk_from_section(const struct config *config, const char *name,
					    const struct sip_trunk_defaults *defaults, const char **error_r)
{
	g_autofree char *group = g_strdup_printf("trunk %s", name);
	struct sip_trunk *t = g_new0(struct sip_trunk, 1);
	t->name = g_strdup(name);
	t->host = host_of(config_str(config, group, "host"));
	if (t->host == NULL) {
		*error_r = "[trunk] host must be HOST[:PORT]";
		trunk_free(t);
		return NULL;
	}
	t->transport = g_strdup(config_str(config, group, "transport"));
	t->proxy = nonempty(config_str(config, group, "outbound_proxy"));
	t->username = nonempty(config_str(config, group, "username"));
	t->password = g_strdup(config_str(config, group, "password"));
	t->from_user = nonempty(config_str(config, group, "from_user"));
	t->from_domain = nonempty(config_str(config, group, "from_domain"));
	t->do_register = config_bool(config, group, "register");
	const char *registrar = config_str(config, group, "registrar");
	t->registrar = registrar[0] != '\0' ? g_strdup(registrar) : g_strdup_printf("sip:%s", t->host);
	t->register_expires = (unsigned)config_int(config, group, "register_expires");
	t->priority = (int)config_int(config, group, "priority");
	t->max_channels = (int)config_int(config, group, "max_channels");
	t->t38 = defaults->t38;
	t->t38_offer = t38_offer_of(config_str(config, group, "t38_offer"), defaults->t38_offer);
	t->udptl = defaults->udptl;
	udptl_of(config, group, &t->udptl);
	if (t->do_register && t->username == NULL) {
		*error_r = "[trunk] register = yes needs a username";
		trunk_free(t);
		return NULL;
	}
	return t;
}

static gint by_priority(gconstpointer a, gconstpointer b)
{
	const struct sip_trunk *x = *(struct sip_trunk *const *)a, *y = *(struct sip_trunk *const *)b;
	return (x->priority > y->priority) - (x->priority < y->priority);
}

/* The line's own sip_peer as a trunk named after the line (the one-peer set-up). */
static struct sip_trunk *trunk_from_line(const struct config *config, const char *line, const char *line_group,
					 const struct sip_trunk_defaults *defaults, const char **error_r)
{
	const char *peer = config_str(config, line_group, "sip_peer");
	struct sip_trunk *t = g_new0(struct sip_trunk, 1);
	t->name = g_strdup(line);
	t->host = host_of(peer);
	if (t->host == NULL) {
		*error_r = "sip line: sip_peer must be HOST[:PORT]";
		trunk_free(t);
		return NULL;
	}
	t->transport = g_strdup("udp");
	t->password = g_strdup("");
	t->t38 = defaults->t38;
	t->t38_offer = defaults->t38_offer;
	t->udptl = defaults->udptl;
	return t;
}

int sip_trunks_load(const struct config *config, const char *line, const char *line_group,
		    const struct sip_trunk_defaults *defaults, struct sip_trunks **trunks_r, const char **error_r)
{
	struct sip_trunks *trunks = g_new0(struct sip_trunks, 1);
	trunks->list = g_ptr_array_new_with_free_func(trunk_free);
	trunks->no_t38 = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	trunks->fallback_ttl_s = defaults->fallback_ttl_s;
	const char *const *names = config_instances(config, "trunk");
	for (int i = 0; names[i] != NULL; i++) {
		g_autofree char *group = g_strdup_printf("trunk %s", names[i]);
		if (strcmp(config_str(config, group, "line"), line) != 0)
			continue;
		struct sip_trunk *t = trunk_from_section(config, names[i], defaults, error_r);
		if (t == NULL)
			goto fail;
		g_ptr_array_add(trunks->list, t);
	}
	if (trunks->list->len == 0 && config_str(config, line_group, "sip_peer")[0] != '\0') {
		struct sip_trunk *t = trunk_from_line(config, line, line_group, defaults, error_r);
		if (t == NULL)
			goto fail;
		g_ptr_array_add(trunks->list, t);
	}
	if (trunks->list->len > SIP_TRUNK_MAX) {
		*error_r = "sip line: more than 32 trunks";
		goto fail;
	}
	g_ptr_array_sort(trunks->list, by_priority); /* stable: equal priorities keep file order */
	*trunks_r = trunks;
	return 0;
fail:
	sip_trunks_free(&trunks);
	return -1;
}

void sip_trunks_free(struct sip_trunks **trunksp)
{
	struct sip_trunks *trunks = *trunksp;
	if (trunks == NULL)
		return;
	*trunksp = NULL;
	g_ptr_array_free(trunks->list, TRUE);
	g_hash_table_destroy(trunks->no_t38);
	g_free(trunks);
}

int sip_trunks_count(const struct sip_trunks *trunks)
{
	return (int)trunks->list->len;
}

struct sip_trunk *sip_trunks_get(struct sip_trunks *trunks, int index)
{
	return index >= 0 && index < (int)trunks->list->len ? g_ptr_array_index(trunks->list, index) : NULL;
}

static bool usable(const struct sip_trunk *t)
{
	bool refused = t->do_register && t->reg_status >= 300;
	bool full = t->max_channels > 0 && t->active >= t->max_channels;
	return !refused && !full;
}

int sip_trunks_pick(const struct sip_trunks *trunks, uint32_t tried)
{
	for (guint i = 0; i < trunks->list->len; i++)
		if ((tried & (1u << i)) == 0 && usable(g_ptr_array_index(trunks->list, i)))
			return (int)i;
	return -1;
}

char *sip_trunk_uri(const struct sip_trunk *trunk, const char *user)
{
	bool udp = strcmp(trunk->transport, "udp") == 0;
	return g_strdup_printf("sip:%s@%s%s%s", user, trunk->host, udp ? "" : ";transport=",
			       udp ? "" : trunk->transport);
}

static char *fallback_key(const struct sip_trunk *trunk, const char *number)
{
	return g_strdup_printf("%s\t%s", trunk->name, number);
}

void sip_trunks_learn_no_t38(struct sip_trunks *trunks, const struct sip_trunk *trunk, const char *number,
			     time_t now)
{
	if (trunks->fallback_ttl_s == 0)
		return;
	gint64 *expiry = g_new(gint64, 1);
	*expiry = (gint64)now + trunks->fallback_ttl_s;
	g_hash_table_replace(trunks->no_t38, fallback_key(trunk, number), expiry);
}

bool sip_trunks_no_t38(struct sip_trunks *trunks, const struct sip_trunk *trunk, const char *number, time_t now)
{
	g_autofree char *key = fallback_key(trunk, number);
	const gint64 *expiry = g_hash_table_lookup(trunks->no_t38, key);
	if (expiry == NULL)
		return false;
	if (*expiry > (gint64)now)
		return true;
	g_hash_table_remove(trunks->no_t38, key); /* expired: offer T.38 again */
	return false;
}
