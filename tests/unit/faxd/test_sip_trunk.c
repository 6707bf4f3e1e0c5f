/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Trunks of a SIP line: loading from [trunk] sections or sip_peer, priority order, failover
   picks, channel limits, refused registrations, URIs, and the learned T.38 fallback's expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "faxd/sip_trunk.h"

static const char *const three_trunks = "[line sip]\ntype = sip\nmedia = t38\n"
					"[trunk backup]\nline = sip\nhost = 192.0.2.2:5070\npriority = 20\n"
					"transport = tcp\nt38_offer = none\n"
					"[trunk main]\nline = sip\nhost = sip:192.0.2.1\npriority = 10\nmax_channels = 1\n"
					"username = fax\npassword = pw\nregister = yes\nudptl_ec = fec\n"
					"[trunk other]\nline = elsewhere\nhost = 192.0.2.9\n"
					"[trunk last]\nline = sip\nhost = gw.example\npriority = 20\n";

static struct sip_trunk_defaults defaults(void)
{
	struct sip_trunk_defaults d = {.t38 = true, .t38_offer = SIP_T38_OFFER_FIRST, .fallback_ttl_s = 3600};
	udptl_settings_default(&d.udptl);
	return d;
}

static struct sip_trunks *load(const char *text)
{
	struct config *config;
	char *errors = NULL;
	assert_int_equal(config_load_data(text, "test", &config, &errors), 0);
	struct sip_trunks *trunks = NULL;
	const char *error = NULL;
	struct sip_trunk_defaults d = defaults();
	int ret = sip_trunks_load(config, "sip", "line sip", &d, &trunks, &error);
	config_free(&config);
	if (ret < 0) {
		assert_non_null(error);
		return NULL;
	}
	return trunks;
}

static void test_priority_order_and_settings(void **state)
{
	struct sip_trunks *trunks = load(three_trunks);
	assert_non_null(trunks);
	assert_int_equal(sip_trunks_count(trunks), 3); /* "other" belongs to another line */
	struct sip_trunk *main_t = sip_trunks_get(trunks, 0), *backup = sip_trunks_get(trunks, 1);
	assert_string_equal(main_t->name, "main");
	assert_string_equal(main_t->host, "192.0.2.1");
	assert_string_equal(main_t->registrar, "sip:192.0.2.1");
	assert_true(main_t->do_register);
	assert_int_equal(main_t->udptl.ec, UDPTL_EC_FEC);
	assert_int_equal(main_t->t38_offer, SIP_T38_OFFER_FIRST); /* "line": the line's */
	assert_string_equal(backup->name, "backup");		  /* equal priorities keep file order */
	assert_int_equal(backup->t38_offer, SIP_T38_OFFER_NONE);
	assert_string_equal(sip_trunks_get(trunks, 2)->name, "last");
	assert_null(sip_trunks_get(trunks, 3));

	char *uri = sip_trunk_uri(backup, "+15551234567");
	assert_string_equal(uri, "sip:+15551234567@192.0.2.2:5070;transport=tcp");
	free(uri);
	uri = sip_trunk_uri(main_t, "100");
	assert_string_equal(uri, "sip:100@192.0.2.1");
	free(uri);
	sip_trunks_free(&trunks);
	assert_null(trunks);
}

static void test_failover_picks(void **state)
{
	struct sip_trunks *trunks = load(three_trunks);
	assert_int_equal(sip_trunks_pick(trunks, 0), 0);
	assert_int_equal(sip_trunks_pick(trunks, 1u << 0), 1); /* main tried (503): backup */
	assert_int_equal(sip_trunks_pick(trunks, 3u), 2);
	assert_int_equal(sip_trunks_pick(trunks, 7u), -1); /* all tried */

	struct sip_trunk *main_t = sip_trunks_get(trunks, 0);
	main_t->active = 1; /* max_channels = 1: full */
	assert_int_equal(sip_trunks_pick(trunks, 0), 1);
	main_t->active = 0;
	main_t->reg_status = 403; /* the registrar refused us */
	assert_int_equal(sip_trunks_pick(trunks, 0), 1);
	main_t->reg_status = 200;
	assert_int_equal(sip_trunks_pick(trunks, 0), 0);
	sip_trunks_free(&trunks);
}

static void test_line_peer_is_the_only_trunk(void **state)
{
	struct sip_trunks *trunks = load("[line sip]\ntype = sip\nsip_peer = sip:127.0.0.1:5062\n");
	assert_int_equal(sip_trunks_count(trunks), 1);
	assert_string_equal(sip_trunks_get(trunks, 0)->name, "sip");
	assert_string_equal(sip_trunks_get(trunks, 0)->host, "127.0.0.1:5062");
	sip_trunks_free(&trunks);

	trunks = load("[line sip]\ntype = sip\n"); /* incoming calls only */
	assert_int_equal(sip_trunks_count(trunks), 0);
	assert_int_equal(sip_trunks_pick(trunks, 0), -1);
	sip_trunks_free(&trunks);
}

static void test_bad_trunks_are_refused(void **state)
{
	assert_null(load("[line sip]\ntype = sip\nsip_peer = a@b\n"));
	assert_null(load("[line sip]\ntype = sip\n[trunk t]\nline = sip\nhost = \n"));
	assert_null(load("[line sip]\ntype = sip\n[trunk t]\nline = sip\nhost = h;x=y\n"));
	assert_null(load("[line sip]\ntype = sip\n[trunk t]\nline = sip\nhost = h\nregister = yes\n"));
}

static void test_learned_fallback_expires(void **state)
{
	struct sip_trunks *trunks = load(three_trunks);
	struct sip_trunk *main_t = sip_trunks_get(trunks, 0), *backup = sip_trunks_get(trunks, 1);
	time_t now = 1800000000;
	assert_false(sip_trunks_no_t38(trunks, main_t, "+15551234567", now));
	sip_trunks_learn_no_t38(trunks, main_t, "+15551234567", now);
	assert_true(sip_trunks_no_t38(trunks, main_t, "+15551234567", now + 3599));
	assert_false(sip_trunks_no_t38(trunks, backup, "+15551234567", now)); /* per trunk */
	assert_false(sip_trunks_no_t38(trunks, main_t, "+15551234568", now)); /* per number */
	assert_false(sip_trunks_no_t38(trunks, main_t, "+15551234567", now + 3600)); /* expired */
	assert_false(sip_trunks_no_t38(trunks, main_t, "+15551234567", now)); /* and forgotten */
	sip_trunks_free(&trunks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_order_and_settings),
		cmocka_unit_test(test_failover_picks),
		cmocka_unit_test(test_line_peer_is_the_only_trunk),
		cmocka_unit_test(test_bad_trunks_are_refused),
		cmocka_unit_test(test_learned_fallback_expires),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
