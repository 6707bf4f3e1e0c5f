/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The mailer's queue (outbox) on SQLite: enqueue, claim by route, finish, deferral, leases given
   back at start; the named values; received-fax routing by DID, rule and fallback, and by a
   group profile's DID to its members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/store.h"
#include "profiles/profile.h"
#include "smtpgw/outbox.h"
#include "smtpgw/rxroute.h"

#include "tests/unit/store_fixture.h"


static void enqueue(struct store *st, const char *route, const char *to, char id_r[JOBID_SIZE])
{
	struct outbox_msg m = {.kind = "notice", .route = (char *)route, .sender = "", .recipient = (char *)to,
			       .expires_at = 4000000000};
	const char *error = NULL;
	assert_int_equal(outbox_enqueue(st, &m, "Subject: x\r\n\r\nbody\r\n", 21, &error), 0);
	g_strlcpy(id_r, m.id, JOBID_SIZE);
}

static void test_claim_finish_and_defer(void **state)
{
	struct store *st = *state;
	char a[JOBID_SIZE], b[JOBID_SIZE];
	enqueue(st, "relay", "a@example.com", a);
	enqueue(st, "local", "b@localhost", b);
	const char *error = NULL, *only_local[] = {"local", NULL}, *none[] = {NULL};
	struct outbox_msg *m = NULL;
	assert_int_equal(outbox_claim(st, "n1", 1000, 60, none, &m, &error), 0);
	assert_int_equal(outbox_claim(st, "n1", 1000, 60, only_local, &m, &error), 1);
	assert_string_equal(m->id, b);
	assert_string_equal(m->recipient, "b@localhost");
	assert_string_equal(m->route, "local");
	assert_int_equal(m->expires_at, 4000000000);
	assert_int_equal(m->tries, 1);
	void *data = NULL;
	size_t len = 0;
	assert_int_equal(outbox_message(st, m, &data, &len, &error), 0);
	assert_int_equal(len, 21);
	g_free(data);
	assert_int_equal(outbox_finish(st, m, "n2", "sent", 0, "250 ok", &error), -1); /* not n2's */
	assert_int_equal(outbox_finish(st, m, "n1", "sent", 0, "250 ok", &error), 0);
	outbox_msg_free(&m);
	assert_int_equal(outbox_claim(st, "n1", 1000, 60, NULL, &m, &error), 1);
	assert_string_equal(m->id, a);
	assert_int_equal(outbox_finish(st, m, "n1", "deferred", 2000, "451 later", &error), 0);
	outbox_msg_free(&m);
	assert_int_equal(outbox_claim(st, "n1", 1999, 60, NULL, &m, &error), 0);
	assert_int_equal(outbox_claim(st, "n1", 2000, 60, NULL, &m, &error), 1);
	assert_int_equal(m->tries, 2);
	outbox_msg_free(&m);
	GHashTable *counts = NULL;
	assert_int_equal(outbox_counts(st, &counts, &error), 0);
	assert_int_equal(GPOINTER_TO_INT(g_hash_table_lookup(counts, "sent")), 1);
	assert_int_equal(GPOINTER_TO_INT(g_hash_table_lookup(counts, "sending")), 1);
	g_hash_table_unref(counts);
}

static void test_leases_released_and_expired_leases_reclaimed(void **state)
{
	struct store *st = *state;
	char a[JOBID_SIZE], b[JOBID_SIZE];
	enqueue(st, "relay", "a@example.com", a);
	enqueue(st, "relay", "b@example.com", b);
	const char *error = NULL;
	struct outbox_msg *m = NULL;
	assert_int_equal(outbox_claim(st, "n1", 1000, 60, NULL, &m, &error), 1);
	outbox_msg_free(&m);
	assert_int_equal(outbox_claim(st, "n2", 1000, 60, NULL, &m, &error), 1);
	outbox_msg_free(&m);
	assert_int_equal(outbox_claim(st, "n3", 1030, 60, NULL, &m, &error), 0); /* both held */
	assert_int_equal(outbox_claim(st, "n3", 1061, 60, NULL, &m, &error), 1); /* n1's lease ran out */
	outbox_msg_free(&m);
	int count = -1;
	assert_int_equal(outbox_release_leases(st, "n2", &count, &error), 0);
	assert_int_equal(count, 1);
	assert_int_equal(outbox_claim(st, "n2", 1062, 60, NULL, &m, &error), 1);
	assert_int_equal(m->tries, 2);
	outbox_msg_free(&m);
}

static void test_named_values(void **state)
{
	struct store *st = *state;
	const char *error = NULL;
	char *v = NULL;
	assert_int_equal(outbox_state_get(st, "x:a", &v, &error), 0);
	assert_null(v);
	assert_int_equal(outbox_state_set(st, "x:a", "1", &error), 0);
	assert_int_equal(outbox_state_set(st, "x:a", "2", &error), 0);
	assert_int_equal(outbox_state_set(st, "y:b", "3", &error), 0);
	assert_int_equal(outbox_state_get(st, "x:a", &v, &error), 0);
	assert_string_equal(v, "2");
	g_free(v);
	GHashTable *values = NULL;
	assert_int_equal(outbox_state_list(st, "x:", &values, &error), 0);
	assert_int_equal(g_hash_table_size(values), 1);
	g_hash_table_unref(values);
}

static void test_did_matching(void **state)
{
	assert_true(rxroute_did_matches("+12125550100", "+12125550100"));
	assert_true(rxroute_did_matches("12125550100", "+1 212 555 0100"));
	assert_true(rxroute_did_matches("100", "+12125550100"));
	assert_true(rxroute_did_matches("100", "100"));
	assert_false(rxroute_did_matches("+100", "+12125550100")); /* a + means the whole number */
	assert_false(rxroute_did_matches("101", "+12125550100"));
	assert_false(rxroute_did_matches("", "100"));
	assert_false(rxroute_did_matches("100", NULL));
}

static const char *resolve(struct store *st, const char *conf, const char *did, const char *caller, GString *to)
{
	struct config *cfg = NULL;
	char *errors = NULL;
	if (config_load_data(conf, "test", &cfg, &errors) < 0)
		fail_msg("%s", errors);
	struct inbound in = {.did = (char *)did, .caller_id = (char *)caller, .remote_csid = "ACME"};
	GPtrArray *targets = NULL;
	const char *by = NULL, *error = NULL;
	assert_int_equal(rxroute_resolve(cfg, st, &in, &targets, &by, &error), 0);
	for (guint i = 0; i < targets->len; i++) {
		const struct rx_target *t = targets->pdata[i];
		g_string_append_printf(to, "%s%s:%s", i ? " " : "", t->address, t->format);
	}
	g_ptr_array_free(targets, TRUE);
	config_free(&cfg);
	return by;
}

static void test_routing_order(void **state)
{
	struct store *st = *state;
	struct profile *p = profile_new("dave@example.com");
	g_ptr_array_add(p->dids, g_strdup("+12125550177"));
	p->rx_format = g_strdup("tiff");
	const char *error = NULL;
	assert_int_equal(profile_save(st, p, &error), 0);
	profile_free(&p);
	const char *conf = "[mail]\nadmin = admin@example.com\n"
			   "[routes]\n100 = a@example.com, b@example.com, format=both\n"
			   "[rxrule spam]\ncsid = ACME*\ndid = 200\nto = junk@example.com\nformat = none\n";
	GString *to = g_string_new(NULL);
	assert_string_equal(resolve(st, conf, "+12125550100", "+1", to), "route");
	assert_string_equal(to->str, "a@example.com:both b@example.com:both");
	g_string_truncate(to, 0);
	assert_string_equal(resolve(st, conf, "200", "+1", to), "rule");
	assert_string_equal(to->str, "junk@example.com:none");
	g_string_truncate(to, 0);
	assert_string_equal(resolve(st, conf, "+12125550177", "+1", to), "profile");
	assert_string_equal(to->str, "dave@example.com:tiff");
	g_string_truncate(to, 0);
	assert_string_equal(resolve(st, conf, "555", "+1", to), "default");
	assert_string_equal(to->str, "admin@example.com:pdf");
	g_string_free(to, TRUE);
}

static void save_profile(struct store *st, const char *address, const char *kind, const char *did,
			 const char *members)
{
	struct profile *p = profile_new(address);
	const char *error = NULL;
	assert_int_equal(profile_set_field(p, "kind", kind, &error), 0);
	assert_int_equal(profile_set_field(p, "dids", did, &error), 0);
	assert_int_equal(profile_set_field(p, "members", members, &error), 0);
	assert_int_equal(profile_save(st, p, &error), 0);
	profile_free(&p);
}

static void test_group_profile_routes_to_its_members(void **state)
{
	struct store *st = *state;
	save_profile(st, "bob@example.com", "user", "300", "");
	save_profile(st, "sales@example.com", "group", "300", "carol@example.com,Bob@example.com");
	save_profile(st, "support@example.com", "group", "300", "carol@example.com,dan@example.com");
	save_profile(st, "empty@example.com", "group", "400", "");
	const char *conf = "[mail]\nadmin = admin@example.com\nrx_format = tiff\n";
	GString *to = g_string_new(NULL);
	/* a user and two groups share the DID: each address once */
	assert_string_equal(resolve(st, conf, "300", "+1", to), "profile");
	assert_string_equal(to->str, "bob@example.com:tiff carol@example.com:tiff dan@example.com:tiff");
	g_string_truncate(to, 0);
	/* a group without members: its own address */
	assert_string_equal(resolve(st, conf, "400", "+1", to), "profile");
	assert_string_equal(to->str, "empty@example.com:tiff");
	g_string_free(to, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claim_finish_and_defer, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_leases_released_and_expired_leases_reclaimed, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_named_values, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test(test_did_matching),
		cmocka_unit_test_setup_teardown(test_routing_order, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_group_profile_routes_to_its_members, store_fixture_setup, store_fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
