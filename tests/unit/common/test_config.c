/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Configuration: defaults, good and bad files, error positions, docs coverage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

static struct config *load_ok(const char *text)
{
	struct config *cfg = NULL;
	char *errors = NULL;
	if (config_load_data(text, "test.conf", &cfg, &errors) < 0)
		fail_msg("unexpected errors: %s", errors);
	return cfg;
}

static char *load_bad(const char *text)
{
	struct config *cfg = NULL;
	char *errors = NULL;
	assert_int_equal(config_load_data(text, "test.conf", &cfg, &errors), -1);
	assert_null(cfg);
	assert_non_null(errors);
	return errors;
}

static void test_embedded_default(void **state)
{
	setenv("FAXGATE_HOME", "/tmp/fgtest-home", 1);
	struct config *cfg = load_ok(NULL);
	assert_string_equal(config_home(cfg), "/tmp/fgtest-home");
	assert_string_equal(config_str(cfg, "faxgate", "store"), "sqlite:/tmp/fgtest-home/faxgate.db");
	assert_string_equal(config_str(cfg, "smtp", "listen"), "127.0.0.1:2525");
	assert_string_equal(config_list(cfg, "smtp", "domains")[0], "fax.localhost");
	assert_string_equal(config_str(cfg, "mailroute default", "maildir"), "/tmp/fgtest-home/mail");
	const char *const *lines = config_instances(cfg, "line");
	assert_string_equal(lines[0], "loop");
	assert_null(lines[1]);
	assert_string_equal(config_str(cfg, "line loop", "type"), "loop");
	assert_string_equal(config_str(cfg, "line loop", "save_dir"), "/tmp/fgtest-home/loop");
	assert_int_equal(config_int(cfg, "retry", "busy"), 180);
	assert_int_equal(config_int(cfg, "retry", "expire"), 86400);
	assert_null(config_file(cfg));
	config_free(&cfg);
	assert_null(cfg);
	unsetenv("FAXGATE_HOME");
}

static void test_good_file(void **state)
{
	struct config *cfg = load_ok("# production\n[faxgate]\nhome = /srv/fax\n\n[retry]\nbusy = 5m\n"
				     "[smtp]\ndomains = fax.example.com, fax2.example.com\n"
				     "[line t38a]\nmedia = t38\nchannels = 30\necm = off\n[line b]\n");
	assert_string_equal(config_str(cfg, "faxgate", "store"), "sqlite:/srv/fax/faxgate.db");
	assert_int_equal(config_int(cfg, "retry", "busy"), 300);
	const char *const *domains = config_list(cfg, "smtp", "domains");
	assert_string_equal(domains[1], "fax2.example.com");
	assert_null(domains[2]);
	const char *const *lines = config_instances(cfg, "line");
	assert_string_equal(lines[0], "t38a");
	assert_string_equal(lines[1], "b");
	assert_int_equal(config_int(cfg, "line t38a", "channels"), 30);
	assert_false(config_bool(cfg, "line t38a", "ecm"));
	assert_true(config_bool(cfg, "line b", "ecm"));
	assert_string_equal(config_str(cfg, "line b", "media"), "audio");
	assert_string_equal(config_file(cfg), "test.conf");
	config_free(&cfg);
}

static void test_errors_name_file_line_key(void **state)
{
	char *errors = load_bad("[faxgate]\nlog_level = loud\n\n[retry]\nbusy = soon\nmax_tries = 0\n"
				"bogus = 1\n[nosuchgroup]\nx = 1\n[line x]\nmedia = carrier-pigeon\n[smtp]\nlisten = nowhere\n");
	assert_non_null(strstr(errors, "test.conf:2: [faxgate] log_level: expected one of debug|info|warning|error"));
	assert_non_null(strstr(errors, "test.conf:5: [retry] busy: expected a duration"));
	assert_non_null(strstr(errors, "test.conf:6: [retry] max_tries: 0 out of range 1..100"));
	assert_non_null(strstr(errors, "test.conf:7: [retry] bogus: unknown key"));
	assert_non_null(strstr(errors, "test.conf:8: [nosuchgroup]: unknown group"));
	assert_non_null(strstr(errors, "test.conf:11: [line x] media: expected one of audio|t38"));
	assert_non_null(strstr(errors, "test.conf:13: [smtp] listen: expected HOST:PORT"));
	g_free(errors);
}

static void test_syntax_error(void **state)
{
	char *errors = load_bad("[faxgate\nhome = x\n");
	assert_non_null(strstr(errors, "test.conf"));
	g_free(errors);
	errors = load_bad("key_before_group = 1\n");
	g_free(errors);
}

static void test_missing_file(void **state)
{
	struct config *cfg = NULL;
	char *errors = NULL;
	assert_int_equal(config_load("/nonexistent/faxgate.conf", &cfg, &errors), -1);
	assert_non_null(strstr(errors, "/nonexistent/faxgate.conf"));
	g_free(errors);
}

static void test_parsers(void **state)
{
	int64_t s;
	bool b;
	assert_int_equal(config_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(config_parse_duration("2h", &s), 0);
	assert_int_equal(s, 7200);
	assert_int_equal(config_parse_duration("1d", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(config_parse_duration("-5", &s), -1);
	assert_int_equal(config_parse_duration("5x", &s), -1);
	assert_int_equal(config_parse_duration("5ms", &s), -1);
	assert_int_equal(config_parse_duration("", &s), -1);
	assert_int_equal(config_parse_duration("99999999999999999999", &s), -1);
	assert_int_equal(config_parse_bool("On", &b), 0);
	assert_true(b);
	assert_int_equal(config_parse_bool("0", &b), 0);
	assert_false(b);
	assert_int_equal(config_parse_bool("maybe", &b), -1);
}

/* docs/config.md documents every key of the table. */
static void test_every_key_documented(void **state)
{
	char *doc = NULL;
	assert_true(g_file_get_contents("docs/config.md", &doc, NULL, NULL));
	for (const struct config_key *k = config_keys; k->key != NULL; k++) {
		g_autofree char *needle = g_strdup_printf("\n| `%s` |", k->key);
		g_autofree char *group = g_strdup_printf("\n## [%s]", k->group);
		const char *section = strstr(doc, group);
		if (section == NULL)
			fail_msg("docs/config.md has no section %s", group);
		const char *next = strstr(section + 1, "\n## ");
		const char *hit = strstr(section, needle);
		if (hit == NULL || (next != NULL && hit > next))
			fail_msg("docs/config.md does not document %s %s", group, k->key);
		g_autofree char *row = g_strndup(hit + 1, (gsize)(strchr(hit + 1, '\n') - hit - 1));
		g_autofree char *deflt = g_strdup_printf("`%s`", k->default_value ? k->default_value : "");
		if (k->default_value != NULL && *k->default_value != '\0' && strstr(row, deflt) == NULL)
			fail_msg("docs/config.md: %s %s: default is not %s", group, k->key, deflt);
	}
	g_free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_default),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_errors_name_file_line_key),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_every_key_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
