/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The [mailroute NAME] groups: how mail leaves, chosen by the recipient's domain in file order
 * (the first route whose domains take it), and the one call that delivers through a route's
 * transport (a Maildir, or an SMTP relay through relay.c).
 */
#include "smtpgw/mailroute.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "smtpgw/maildir.h"

static void route_free(gpointer p)
{
	struct mailroute *r = p;
	g_free(r->name);
	g_strfreev(r->domains);
	g_free(r->maildir);
	g_free((char *)r->relay.host);
	g_free((char *)r->relay.ca_file);
	g_free((char *)r->relay.user);
	g_free((char *)r->relay.password);
	g_free((char *)r->relay.helo);
	g_free(r);
}

static void load_relay(const struct config *config, const char *group, struct relay_settings *relay)
{
	const char *helo = config_str(config, group, "helo"),
		   *hostname = config_str(config, "mail", "hostname");
	relay->host = g_strdup(config_str(config, group, "host"));
	relay->port = (int)config_int(config, group, "port");
	if (relay_tls_parse(config_str(config, group, "tls"), &relay->tls) < 0)
		relay->tls = RELAY_TLS_OPPORTUNISTIC; /* unreachable: the config checked the word */
	relay->ca_file = g_strdup(config_str(config, group, "ca_file"));
	relay->verify = config_bool(config, group, "verify");
	relay->user = g_strdup(config_str(config, group, "user"));
	relay->password = g_strdup(config_str(config, group, "password"));
	relay->timeout_s = (int)config_int(config, group, "timeout");
	relay->helo = g_strdup(*helo != '\0' ? helo : *hostname != '\0' ? hostname : g_get_host_name());
}

/* A route that cannot work is a configuration error, found at start rather than at the first mail. */
static int check_route(const struct mailroute *r, const char **error_r)
{
	if (r->transport == MAILROUTE_SMTP && *r->relay.host == '\0')
		return error_set(error_r, "[mailroute %s] host: empty, and transport = smtp needs a relay",
				 r->name);
	if (*r->relay.password != '\0' && *r->relay.user == '\0')
		return error_set(error_r, "[mailroute %s] password: set without a user", r->name);
	if (r->transport == MAILROUTE_MAILDIR && *r->maildir == '\0')
		return error_set(error_r, "[mailroute %s] maildir: empty, and transport = maildir needs one",
				 r->name);
	return 0;
}

static struct mailroute *load_route(const struct config *config, const char *name)
{
	g_autofree char *group = g_strdup_printf("mailroute %s", name);
	struct mailroute *r = g_new0(struct mailroute, 1);
	r->name = g_strdup(name);
	r->transport =
	    strcmp(config_str(config, group, "transport"), "smtp") == 0 ? MAILROUTE_SMTP : MAILROUTE_MAILDIR;
	r->domains = g_strdupv((char **)config_list(config, group, "domains"));
	r->maildir = g_strdup(config_str(config, group, "maildir"));
	load_relay(config, group, &r->relay);
	r->connections = (int)config_int(config, group, "connections");
	r->rate_per_minute = (int)config_int(config, group, "rate_per_minute");
	return r;
}

int mailroutes_load(const struct config *config, GPtrArray **routes_r, const char **error_r)
{
	GPtrArray *routes = g_ptr_array_new_with_free_func(route_free);
	for (const char *const *name = config_instances(config, "mailroute"); *name != NULL; name++) {
		struct mailroute *r = load_route(config, *name);
		g_ptr_array_add(routes, r);
		if (check_route(r, error_r) < 0) {
			g_ptr_array_unref(routes);
			*routes_r = NULL;
			return -1;
		}
	}
	*routes_r = routes;
	return 0;
}

static bool takes(const struct mailroute *r, const char *domain)
{
	for (char **d = r->domains; d != NULL && *d != NULL; d++)
		if (strcmp(*d, "*") == 0 || g_ascii_strcasecmp(*d, domain) == 0)
			return true;
	return false;
}

const struct mailroute *mailroute_for(const GPtrArray *routes, const char *address)
{
	const char *at = strrchr(address, '@');
	const char *domain = at != NULL ? at + 1 : "";
	for (guint i = 0; i < routes->len; i++)
		if (takes(routes->pdata[i], domain))
			return routes->pdata[i];
	return NULL;
}

char *mailroute_describe(const struct mailroute *route)
{
	const struct relay_settings *st = &route->relay;
	if (route->transport == MAILROUTE_MAILDIR)
		return g_strdup_printf("maildir %s", route->maildir);
	return g_strdup_printf("smtp %s:%d tls=%s%s%s", st->host, st->port, relay_tls_name(st->tls),
			       *st->user != '\0' ? " user=" : "", st->user);
}

/* Maildir files end lines with LF alone (the convention of every Maildir reader); the composed
   message has CRLF, as SMTP wants. *len is updated. */
static char *crlf_to_lf(const void *msg, size_t *len)
{
	const char *in = msg;
	char *out = g_malloc(*len + 1);
	size_t n = 0;
	for (size_t i = 0; i < *len; i++)
		if (!(in[i] == '\r' && i + 1 < *len && in[i + 1] == '\n'))
			out[n++] = in[i];
	*len = n;
	return out;
}

static int deliver_maildir(const struct mailroute *route, const void *msg, size_t len,
			   struct relay_result *result, GString *dialogue)
{
	char *name = NULL;
	bool temporary = false;
	const char *error = NULL;
	memset(result, 0, sizeof(*result));
	g_autofree char *lf = crlf_to_lf(msg, &len);
	if (maildir_deliver(route->maildir, lf, len, &name, &temporary, &error) < 0) {
		result->status = temporary ? RELAY_TEMPORARY : RELAY_PERMANENT;
		g_strlcpy(result->text, error, sizeof(result->text));
	} else {
		result->status = RELAY_OK;
		snprintf(result->text, sizeof(result->text), "delivered to new/%s", name);
	}
	if (dialogue != NULL)
		g_string_append_printf(dialogue, "maildir %s: %s\n", route->maildir, result->text);
	g_free(name);
	return result->status == RELAY_OK ? 0 : -1;
}

int mailroute_deliver(const struct mailroute *route, const char *sender, const char *recipient,
		      const void *msg, size_t len, struct relay_result *result, GString *dialogue)
{
	if (route->transport == MAILROUTE_MAILDIR)
		return deliver_maildir(route, msg, len, result, dialogue);
	return relay_send(&route->relay, sender, recipient, msg, len, result, dialogue);
}
