/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxctl status: one screen of how the gateway is doing — jobs, received faxes and the outbox by
 * state, each mail route and whether it is paused ("rate limited until"), and the messages that
 * may have been delivered twice after a mailer crash.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/db.h"
#include "common/store.h"
#include "faxctl/faxctl.h"
#include "faxctl/output.h"
#include "smtpgw/mailroute.h"
#include "smtpgw/outbox.h"

#define EXIT_TEMPFAIL 75

static int count_by_state(struct store *st, const char *table, struct output *out, const char *what)
{
	g_autofree char *sql = g_strdup_printf("SELECT state, COUNT(*) FROM %s GROUP BY state ORDER BY state", table);
	struct db_rows *rows = db_query(store_db(st), sql, "");
	if (rows == NULL)
		return -1;
	int ret;
	while ((ret = db_next(rows)) > 0) {
		output_record_begin(out);
		output_str(out, "what", what);
		output_str(out, "name", db_col_text(rows, 0));
		char count[24];
		snprintf(count, sizeof(count), "%lld", (long long)db_col_int(rows, 1));
		output_str(out, "value", count);
		output_record_end(out);
	}
	db_rows_free(&rows);
	return ret;
}

static void route_record(struct output *out, const struct mailroute *r, GHashTable *state, int64_t now)
{
	g_autofree char *key = g_strdup_printf("mailroute:%s:paused_until", r->name);
	const char *v = g_hash_table_lookup(state, key);
	int64_t until = v ? g_ascii_strtoll(v, NULL, 10) : 0;
	char t[32];
	g_autofree char *value = until > now ? g_strdup_printf("rate limited until %s (%llds)", output_time(until, t),
								 (long long)(until - now))
					     : g_strdup("ready");
	g_autofree char *how = mailroute_describe(r);
	g_autofree char *name = g_strdup_printf("%s (%s)", r->name, how);
	output_record_begin(out);
	output_str(out, "what", "route");
	output_str(out, "name", name);
	output_str(out, "value", value);
	output_record_end(out);
}

static int mail_routes(struct faxctl *ctl, struct store *st, struct output *out)
{
	GPtrArray *routes = NULL;
	GHashTable *state = NULL;
	const char *error = NULL;
	if (mailroutes_load(ctl->config, &routes, &error) < 0 || outbox_state_list(st, "", &state, &error) < 0) {
		fprintf(stderr, "faxctl: %s\n", error);
		if (routes != NULL)
			g_ptr_array_unref(routes);
		return -1;
	}
	for (guint i = 0; i < routes->len; i++)
		route_record(out, routes->pdata[i], state, time(NULL));
	const char *dups = g_hash_table_lookup(state, "mailer:possible_duplicates");
	output_record_begin(out);
	output_str(out, "what", "mailer");
	output_str(out, "name", "possible duplicates");
	output_str(out, "value", dups ? dups : "0");
	output_record_end(out);
	g_hash_table_unref(state);
	g_ptr_array_unref(routes);
	return 0;
}

int faxctl_cmd_status(struct faxctl *ctl, int argc, char **argv)
{
	struct store *st = faxctl_store(ctl);
	if (st == NULL)
		return EXIT_TEMPFAIL;
	struct output *out = output_create(ctl->json);
	int ret = 0;
	if (count_by_state(st, "jobs", out, "jobs") < 0 || count_by_state(st, "inbound", out, "received") < 0 ||
	    count_by_state(st, "outbox", out, "outbox") < 0) {
		fprintf(stderr, "faxctl: %s\n", store_error(st));
		ret = EXIT_TEMPFAIL;
	} else if (mail_routes(ctl, st, out) < 0) {
		ret = 1;
	}
	output_flush(out, true);
	output_free(&out);
	return ret;
}
