/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filter escaping (RFC 4515) and [ldap] settings: what reaches a filter can never widen it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "ldapsync/ldapconn.h"

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"jdoe@example.com", "jdoe@example.com"},
	    {"*", "\\2a"},
	    {"star*user@example.com", "star\\2auser@example.com"},
	    {")(", "\\29\\28"},
	    {"x)(objectClass=*", "x\\29\\28objectClass=\\2a"},
	    {"back\\slash", "back\\5cslash"},
	    {"cn=Smith\\, Anna", "cn=Smith\\5c, Anna"},
	    {"", ""},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *e = ldapconn_escape(cases[i].in);
		assert_true(g_ascii_strcasecmp(e, cases[i].out) == 0);
	}
	g_autofree char *null = ldapconn_escape(NULL);
	assert_string_equal(null, "");
	/* a NUL byte inside the value */
	g_autofree char *nul = ldapconn_escape_len("a\0b", 3);
	assert_true(g_ascii_strcasecmp(nul, "a\\00b") == 0);
	/* non-ASCII: escaped or kept as UTF-8, but never a bare special */
	g_autofree char *utf8 = ldapconn_escape("J\xc3\xbcrgen");
	assert_null(strpbrk(utf8, "*()"));
	/* very long: every byte a special, three characters each */
	size_t n = 100000;
	char *stars = g_malloc(n + 1);
	memset(stars, '*', n);
	stars[n] = '\0';
	g_autofree char *long_e = ldapconn_escape(stars);
	assert_int_equal(strlen(long_e), 3 * n);
	assert_null(strchr(long_e, '*'));
	g_free(stars);
}

static struct config *load(const char *text)
{
	struct config *config = NULL;
	char *errors = NULL;
	assert_int_equal(config_load_data(text, "test", &config, &errors), 0);
	return config;
}

static void test_settings(void **state)
{
	struct ldapconn_settings s;
	const char *error = NULL;
	struct config *config =
	    load("[ldap]\nuri = ldap://127.0.0.1:1 ldap://b:389, ldaps://c\nbind = simple\n"
		 "bind_dn = cn=faxsync,dc=example,dc=com\nbind_password = pw\nbase = dc=example,dc=com\n"
		 "scope = one\ntimeout = 5s\n");
	assert_true(ldapconn_configured(config));
	assert_int_equal(ldapconn_settings_load(config, &s, &error), 0);
	assert_string_equal(s.uris, "ldap://127.0.0.1:1 ldap://b:389 ldaps://c");
	assert_int_equal(s.bind, LDAPCONN_BIND_SIMPLE);
	assert_string_equal(s.bind_password, "pw");
	assert_int_equal(s.scope, LDAP_SCOPE_ONELEVEL);
	assert_int_equal(s.timeout_ms, 5000);
	assert_int_equal(s.network_timeout_ms, 2000);
	assert_null(s.ca_file);
	assert_true(s.tls_verify);
	ldapconn_settings_clear(&s);
	config_free(&config);

	/* no uri: not configured */
	config = load("[faxgate]\n");
	assert_false(ldapconn_configured(config));
	assert_int_equal(ldapconn_settings_load(config, &s, &error), -1);
	config_free(&config);

	/* simple bind needs a DN and a password */
	config = load("[ldap]\nuri = ldap://x\nbind_dn = cn=a\n");
	assert_int_equal(ldapconn_settings_load(config, &s, &error), -1);
	assert_non_null(strstr(error, "password"));
	config_free(&config);
	config = load("[ldap]\nuri = ldap://x\nbind_password = x\n");
	assert_int_equal(ldapconn_settings_load(config, &s, &error), -1);
	assert_non_null(strstr(error, "bind_dn"));
	config_free(&config);

	/* the password file's first line */
	char path[] = "/tmp/ldapconn-pw-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\nignored\n", 15), 15);
	close(fd);
	g_autofree char *text =
	    g_strdup_printf("[ldap]\nuri = ldap://x\nbind_dn = cn=a\nbind_password_file = %s\n", path);
	config = load(text);
	assert_int_equal(ldapconn_settings_load(config, &s, &error), 0);
	assert_string_equal(s.bind_password, "s3cret");
	ldapconn_settings_clear(&s);
	config_free(&config);
	unlink(path);
	config = load(text);
	assert_int_equal(ldapconn_settings_load(config, &s, &error), -1);
	config_free(&config);

	/* anonymous and EXTERNAL need no password */
	config = load("[ldap]\nuri = ldapi://%2Frun%2Fslapd%2Fldapi\nbind = external\n");
	assert_int_equal(ldapconn_settings_load(config, &s, &error), 0);
	assert_int_equal(s.bind, LDAPCONN_BIND_EXTERNAL);
	ldapconn_settings_clear(&s);
	config_free(&config);
}

static void test_unavailable_codes(void **state)
{
	assert_true(ldapconn_rc_unavailable(LDAP_SERVER_DOWN));
	assert_true(ldapconn_rc_unavailable(LDAP_TIMEOUT));
	assert_true(ldapconn_rc_unavailable(LDAP_CONNECT_ERROR));
	assert_true(ldapconn_rc_unavailable(LDAP_UNAVAILABLE));
	assert_true(ldapconn_rc_unavailable(LDAP_BUSY));
	assert_false(ldapconn_rc_unavailable(LDAP_SUCCESS));
	assert_false(ldapconn_rc_unavailable(LDAP_INVALID_CREDENTIALS));
	assert_false(ldapconn_rc_unavailable(LDAP_NO_SUCH_OBJECT));
	assert_false(ldapconn_rc_unavailable(LDAP_SIZELIMIT_EXCEEDED));
}

static void test_closed_port(void **state)
{
	/* connection refused: unavailable at once, and the password check says so too */
	struct config *config = load("[ldap]\nuri = ldap://127.0.0.1:1\nbind = none\nnetwork_timeout = 1s\n");
	struct ldapconn_settings s;
	const char *error = NULL;
	assert_int_equal(ldapconn_settings_load(config, &s, &error), 0);
	struct ldapconn *conn = ldapconn_create(&s);
	assert_int_equal(ldapconn_open(conn, &error), -1);
	assert_non_null(error);
	LDAPMessage *res = (LDAPMessage *)1;
	int rc = ldapconn_search(conn, "", LDAP_SCOPE_BASE, "(objectClass=*)", NULL, 0, &res, &error);
	assert_true(ldapconn_rc_unavailable(rc));
	assert_null(res);
	assert_int_equal(ldapconn_check_password(&s, "cn=x", "pw", &error), LDAPCONN_CHECK_UNAVAILABLE);
	assert_int_equal(ldapconn_check_password(&s, "cn=x", "", &error), LDAPCONN_CHECK_INVALID);
	ldapconn_free(&conn);
	assert_null(conn);
	ldapconn_settings_clear(&s);
	config_free(&config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_unavailable_codes),
	    cmocka_unit_test(test_closed_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
