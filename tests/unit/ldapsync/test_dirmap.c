/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The attribute map's pure parts: fax values, AD proxyAddresses, objectGUID and syncUUID text,
   DN normalising, schema defaults, and group permissions without [ldapgroup]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "common/config.h"
#include "common/dialrules.h"
#include "ldapsync/dirmap.h"
#include "profiles/profile.h"

static void test_fax_value(void **state)
{
	static const struct {
		const char *in;
		int ret;
		const char *number;
		bool fine;
	} cases[] = {
	    {"+1 (555) 010-2001", 0, "+1 (555) 010-2001", false},
	    {"+1 (555) 010-2001$fineResolution", 0, "+1 (555) 010-2001", true},
	    {"+49 30 1234-199 $twoDimensional$fineResolution", 0, "+49 30 1234-199", true},
	    {"+49 30 1234-199$FINERESOLUTION", 0, "+49 30 1234-199", true},
	    {"  4711  ", 0, "4711", false},
	    {"$fineResolution", -1, NULL, false},
	    {"", -1, NULL, false},
	    {"no number", -1, NULL, false},
	    {"+1 555$b4Length", 0, "+1 555", false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *number = NULL;
		bool fine = true;
		int ret = dirmap_fax_value(cases[i].in, strlen(cases[i].in), &number, &fine);
		assert_int_equal(ret, cases[i].ret);
		if (ret == 0) {
			assert_string_equal(number, cases[i].number);
			assert_int_equal(fine, cases[i].fine);
		} else {
			assert_null(number);
		}
		g_free(number);
	}
	/* a NUL inside the number part is refused, one in the parameters ignored */
	char *number = NULL;
	bool fine;
	assert_int_equal(dirmap_fax_value("+1 5\0 55", 8, &number, &fine), -1);
	assert_int_equal(dirmap_fax_value("+1 555$x\0y", 10, &number, &fine), 0);
	assert_string_equal(number, "+1 555");
	g_free(number);
}

static void test_proxy_addresses(void **state)
{
	static const struct {
		const char *in;
		const char *address;
		bool primary;
	} cases[] = {
	    {"SMTP:John.Smith@Example.COM", "john.smith@example.com", true},
	    {"smtp:jsmith@example.com", "jsmith@example.com", false},
	    {"Smtp:mixed@example.com", "mixed@example.com", false},
	    {"X500:/o=Example/ou=Exchange/cn=Recipients/cn=jsmith", NULL, false},
	    {"SIP:jsmith@example.com", NULL, false},
	    {"smtp:", NULL, false},
	    {"SMTP:   ", NULL, false},
	    {"smtp", NULL, false},
	    {"", NULL, false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		bool primary = true;
		char *a = dirmap_proxy_address(cases[i].in, strlen(cases[i].in), &primary);
		if (cases[i].address == NULL) {
			assert_null(a);
		} else {
			assert_non_null(a);
			assert_string_equal(a, cases[i].address);
			assert_int_equal(primary, cases[i].primary);
		}
		g_free(a);
	}
	bool primary;
	assert_null(dirmap_proxy_address("smtp:a\0b@example.com", 20, &primary));
}

static void test_guid_text(void **state)
{
	/* objectGUID bytes as AD stores them for {c2a4d4a5-3fc6-4c2c-9a0b-3a3fc7c60e2b} */
	static const unsigned char guid[16] = {0xa5, 0xd4, 0xa4, 0xc2, 0xc6, 0x3f, 0x2c, 0x4c,
					       0x9a, 0x0b, 0x3a, 0x3f, 0xc7, 0xc6, 0x0e, 0x2b};
	char text[DIRMAP_UUID_TEXT_SIZE];
	dirmap_guid_text(guid, text);
	assert_string_equal(text, "c2a4d4a5-3fc6-4c2c-9a0b-3a3fc7c60e2b");
	/* RFC 4533 syncUUID: network order, as entryUUID prints it */
	static const unsigned char uuid[16] = {0xcc, 0x1e, 0xfd, 0x78, 0x7b, 0x14, 0x10, 0x41,
					       0x84, 0x4c, 0x0d, 0xe6, 0x89, 0xb9, 0x7d, 0x2d};
	dirmap_uuid_text(uuid, text);
	assert_string_equal(text, "cc1efd78-7b14-1041-844c-0de689b97d2d");
	static const unsigned char zero[16] = {0};
	dirmap_guid_text(zero, text);
	assert_string_equal(text, "00000000-0000-0000-0000-000000000000");
}

static void test_dn_normalize(void **state)
{
	g_autofree char *a = dirmap_dn_normalize("UID=JDoe, ou=People,DC=Example,dc=com");
	g_autofree char *b = dirmap_dn_normalize("uid=jdoe,ou=people,dc=example,dc=com");
	assert_string_equal(a, b);
	g_autofree char *c = dirmap_dn_normalize("cn=Smith\\, Anna,ou=People,dc=example,dc=com");
	g_autofree char *d = dirmap_dn_normalize("cn=Smith\\2C Anna,ou=People,dc=example,dc=com");
	assert_string_equal(c, d);
	g_autofree char *e = dirmap_dn_normalize("not a dn");
	assert_non_null(e);
}

static struct dirmap *map_from(const char *text, struct dialrules **rules_r, struct config **config_r)
{
	char *errors = NULL;
	assert_int_equal(config_load_data(text, "test", config_r, &errors), 0);
	*rules_r = dialrules_from_config(*config_r);
	assert_non_null(*rules_r);
	const char *error = NULL;
	struct dirmap *map = dirmap_create(*config_r, *rules_r, &error);
	assert_non_null(map);
	return map;
}

static bool has_attr(char **attrs, const char *name)
{
	for (int i = 0; attrs[i] != NULL; i++)
		if (g_ascii_strcasecmp(attrs[i], name) == 0)
			return true;
	return false;
}

static void test_schema_defaults(void **state)
{
	struct config *config = NULL;
	struct dialrules *rules = NULL;
	struct dirmap *map = map_from("[ldap]\nuri = ldap://127.0.0.1\n", &rules, &config);
	assert_string_equal(dirmap_filter(map), "(objectClass=inetOrgPerson)");
	assert_true(has_attr(dirmap_attrs(map), "entryUUID"));
	assert_true(has_attr(dirmap_attrs(map), "facsimileTelephoneNumber"));
	assert_false(has_attr(dirmap_attrs(map), "proxyAddresses"));
	dirmap_free(&map);
	assert_null(map);
	dialrules_free(&rules);
	config_free(&config);

	map = map_from(
	    "[ldap]\nuri = ldap://dc1\nschema = activedirectory\nattr_billing_code = extensionAttribute1\n",
	    &rules, &config);
	assert_string_equal(dirmap_filter(map), "(&(objectCategory=person)(objectClass=user))");
	char **attrs = dirmap_attrs(map);
	assert_true(has_attr(attrs, "objectGUID"));
	assert_true(has_attr(attrs, "proxyAddresses"));
	assert_true(has_attr(attrs, "otherFacsimileTelephoneNumber"));
	assert_true(has_attr(attrs, "extensionAttribute1"));
	assert_false(has_attr(attrs, "entryUUID"));
	/* each attribute once */
	for (int i = 0; attrs[i] != NULL; i++)
		for (int j = i + 1; attrs[j] != NULL; j++)
			assert_true(g_ascii_strcasecmp(attrs[i], attrs[j]) != 0);
	dirmap_free(&map);
	dialrules_free(&rules);
	config_free(&config);

	map = map_from("[ldap]\nuri = ldap://x\nfilter = (&(objectClass=person)(mail=*))\n", &rules, &config);
	assert_string_equal(dirmap_filter(map), "(&(objectClass=person)(mail=*))");
	dirmap_free(&map);
	dialrules_free(&rules);
	config_free(&config);
}

static void test_bad_group(void **state)
{
	struct config *config = NULL;
	char *errors = NULL;
	assert_int_equal(config_load_data("[ldap]\nuri = ldap://x\n[ldapgroup fax]\ndn = not a dn\n", "test",
					  &config, &errors),
			 0);
	struct dialrules *rules = dialrules_from_config(config);
	const char *error = NULL;
	assert_null(dirmap_create(config, rules, &error));
	assert_non_null(strstr(error, "[ldapgroup fax]"));
	dialrules_free(&rules);
	config_free(&config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fax_value),	    cmocka_unit_test(test_proxy_addresses),
	    cmocka_unit_test(test_guid_text),	    cmocka_unit_test(test_dn_normalize),
	    cmocka_unit_test(test_schema_defaults), cmocka_unit_test(test_bad_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
