/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Profiles: save and look up by any address, passwords (yescrypt), address ownership, the field
   table (set/get by name), every field through the store, recipients by local part or name,
   delete, groups, the job fields; the CSV import into the store (upsert, counts, all or nothing,
   dry run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/store.h"
#include "profiles/profile.h"
#include "profiles/profile_csv.h"

#include "tests/unit/store_fixture.h"


static void test_save_and_lookup(void **state)
{
	struct store *st = *state;
	struct profile *p = profile_new("Alice@Example.COM");
	p->name = g_strdup("Alice Smith");
	p->permission_class = g_strdup("local,national");
	g_ptr_array_add(p->addresses, g_strdup("asmith@example.com"));
	g_ptr_array_add(p->dids, g_strdup("100"));
	p->password_hash = profile_hash_password("s3cret pass");
	assert_non_null(p->password_hash);
	assert_true(g_str_has_prefix(p->password_hash, "$y$"));
	const char *error = NULL;
	assert_int_equal(profile_save(st, p, &error), 0);
	struct profile *got = NULL;
	assert_int_equal(profile_lookup(st, "ASMITH@example.com", &got, &error), 1);
	assert_string_equal(got->primary_address, "alice@example.com");
	assert_string_equal(got->name, "Alice Smith");
	assert_string_equal(got->permission_class, "local,national");
	assert_int_equal(got->addresses->len, 2);
	assert_int_equal(got->dids->len, 1);
	assert_true(got->may_send);
	assert_true(profile_check_password(got, "s3cret pass"));
	assert_false(profile_check_password(got, "s3cret pasS"));
	assert_false(profile_check_password(got, ""));
	assert_true(profile_owns_address(got, "Alice@example.com"));
	assert_true(profile_owns_address(got, "asmith@EXAMPLE.com"));
	assert_false(profile_owns_address(got, "bob@example.com"));
	/* saving again replaces the addresses */
	g_ptr_array_set_size(got->addresses, 0);
	assert_int_equal(profile_save(st, got, &error), 0);
	struct profile *none = NULL;
	assert_int_equal(profile_lookup(st, "asmith@example.com", &none, &error), 0);
	assert_null(none);
	profile_free(&got);
	profile_free(&p);
	assert_null(p);
}

static void test_no_password_never_matches(void **state)
{
	struct profile *p = profile_new("nopass@example.com");
	assert_false(profile_check_password(p, ""));
	assert_false(profile_check_password(p, "anything"));
	p->password_hash = g_strdup("garbage");
	assert_false(profile_check_password(p, "garbage"));
	profile_free(&p);
}

/* field, value given, value read back (NULL: unset) */
static const struct {
	const char *field, *value, *expect;
} field_cases[] = {
	{"name", "Jürgen Müller", "Jürgen Müller"},
	{"company", "ACME, Inc.", "ACME, Inc."},
	{"department", "Sales", "Sales"},
	{"phone", "+1 212 555 0100", "+1 212 555 0100"},
	{"fax", "+12125550199", "+12125550199"},
	{"kind", "GROUP", "group"},
	{"kind", "", "user"},
	{"addresses", " B@Example.com ,, c@example.com,b@example.com", "a@example.com,b@example.com,c@example.com"},
	{"addresses", "", "a@example.com"},
	{"dids", "+12125550100, 100,+12125550100", "+12125550100,100"},
	{"dids", "", NULL},
	{"members", "X@example.com,y@example.com", "x@example.com,y@example.com"},
	{"may_send", "no", "no"},
	{"may_send", "YES", "yes"},
	{"may_send", "", "yes"},
	{"classes", "local,national", "local,national"},
	{"cover", "confidential", "confidential"},
	{"resolution", "Fine", "fine"},
	{"paper", "letter", "letter"},
	{"header_line", "%d.%m.%Y ACME", "%d.%m.%Y ACME"},
	{"tsi", "+1 212 555 0100", "+1 212 555 0100"},
	{"tsi", "12345678901234567890", "12345678901234567890"},
	{"billing_code", "CC-4711", "CC-4711"},
	{"notify", "failure+delay", "failure+delay"},
	{"rx_format", "both", "both"},
	{"language", "de", "de"},
	{"source", "directory", "directory"},
	{"source", "", "local"},
	{"source_uuid", "0d5c7f5e-1b7e-4d55-9b4e-0e3c1c1c1c1c", "0d5c7f5e-1b7e-4d55-9b4e-0e3c1c1c1c1c"},
	{"source_dn", "uid=a,ou=people,dc=example,dc=com", "uid=a,ou=people,dc=example,dc=com"},
	{"name", "", NULL},
};

/* field, bad value, a part of the error */
static const struct {
	const char *field, *value, *error;
} bad_cases[] = {
	{"nosuch", "x", "unknown field 'nosuch'"},
	{"resolution", "ultra", "resolution: expected one of standard, fine, superfine"},
	{"paper", "b4", "paper: expected one of a4, letter, legal"},
	{"rx_format", "jpeg", "rx_format: expected one of pdf, tiff, both, none"},
	{"kind", "team", "kind: expected one of user, group"},
	{"language", "fr", "language: expected one of en, de"},
	{"may_send", "maybe", "may_send: expected yes or no"},
	{"tsi", "123456789012345678901", "tsi: longer than 20 characters"},
	{"tsi", "Müller", "tsi: printable ASCII only"},
	{"name", "two\nlines", "name: control characters are not allowed"},
	{"name", "\xff", "name: not UTF-8"},
	{"addresses", "a@example.com,not-an-address", "addresses: 'not-an-address' is not an address"},
	{"members", "b@", "members: 'b@' is not an address"},
	{"dids", "12a", "dids: '12a' is not a number"},
	{"classes", "local,galactic", "classes: unknown dial class 'galactic'"},
	{"notify", "sometimes", "notify: expected never, failure, success or always"},
	{"address", "", "address: an address is required"},
};

static void test_field_table(void **state)
{
	const char *const *names = profile_field_names();
	assert_string_equal(names[0], "address");
	for (size_t i = 0; names[i] != NULL; i++)
		assert_string_not_equal(names[i], "password_hash");
	for (size_t i = 0; i < G_N_ELEMENTS(field_cases); i++) {
		struct profile *p = profile_new("a@example.com");
		const char *error = NULL;
		if (profile_set_field(p, field_cases[i].field, field_cases[i].value, &error) < 0)
			fail_msg("%s=%s: %s", field_cases[i].field, field_cases[i].value, error);
		g_autofree char *got = profile_get_field(p, field_cases[i].field);
		if (field_cases[i].expect == NULL)
			assert_null(got);
		else
			assert_string_equal(got, field_cases[i].expect);
		profile_free(&p);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		struct profile *p = profile_new("a@example.com");
		const char *error = NULL;
		assert_int_equal(profile_set_field(p, bad_cases[i].field, bad_cases[i].value, &error), -1);
		if (strstr(error, bad_cases[i].error) == NULL)
			fail_msg("%s=%s: got '%s', expected '%s'", bad_cases[i].field, bad_cases[i].value, error,
				 bad_cases[i].error);
		profile_free(&p);
	}
}

static void test_primary_address_change(void **state)
{
	struct profile *p = profile_new("a@example.com");
	const char *error = NULL;
	assert_int_equal(profile_set_field(p, "addresses", "b@example.com", &error), 0);
	assert_int_equal(profile_set_field(p, "address", "B@example.com", &error), 0);
	assert_string_equal(p->primary_address, "b@example.com");
	g_autofree char *all = profile_get_field(p, "addresses");
	assert_string_equal(all, "b@example.com");
	assert_int_equal(p->addresses->len, 1);
	profile_free(&p);
}

/* A profile with every field set. */
static struct profile *full_profile(const char *address)
{
	struct profile *p = profile_new(address);
	const char *error = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(field_cases); i++)
		if (*field_cases[i].value != '\0' && strcmp(field_cases[i].field, "addresses") != 0)
			assert_int_equal(profile_set_field(p, field_cases[i].field, field_cases[i].value, &error), 0);
	g_autofree char *aliases = g_strdup_printf("%s,alias-%s", address, address);
	assert_int_equal(profile_set_field(p, "addresses", aliases, &error), 0);
	p->password_hash = g_strdup("$y$j9T$salt$hash");
	return p;
}

static void test_every_field_saved_and_loaded(void **state)
{
	struct store *st = *state;
	struct profile *p = full_profile("full@example.com"), *got = NULL, *by_uuid = NULL;
	const char *error = NULL;
	assert_int_equal(profile_save(st, p, &error), 0);
	assert_int_equal(profile_lookup(st, "ALIAS-full@example.com", &got, &error), 1);
	for (const char *const *name = profile_field_names(); *name != NULL; name++) {
		g_autofree char *want = profile_get_field(p, *name), *have = profile_get_field(got, *name);
		assert_non_null(want);
		if (g_strcmp0(want, have) != 0)
			fail_msg("%s: saved '%s', loaded '%s'", *name, want, have);
	}
	assert_string_equal(got->id, p->id);
	assert_string_equal(got->password_hash, p->password_hash);
	assert_string_equal(got->addresses->pdata[0], "full@example.com");
	assert_true(profile_fields_equal(p, got));
	assert_int_equal(profile_lookup_uuid(st, "0d5c7f5e-1b7e-4d55-9b4e-0e3c1c1c1c1c", &by_uuid, &error), 1);
	assert_string_equal(by_uuid->id, p->id);
	struct profile *copy = profile_copy(got);
	assert_true(profile_fields_equal(copy, got));
	assert_string_equal(copy->id, got->id);
	assert_string_equal(copy->password_hash, got->password_hash);
	/* saving again keeps the row (same id), changes the field */
	assert_int_equal(profile_set_field(copy, "name", "Renamed", &error), 0);
	assert_int_equal(profile_save(st, copy, &error), 0);
	profile_free(&got);
	assert_int_equal(profile_lookup(st, "full@example.com", &got, &error), 1);
	assert_string_equal(got->name, "Renamed");
	assert_string_equal(got->id, p->id);
	assert_false(profile_fields_equal(p, got));
	struct profile *none = NULL;
	assert_int_equal(profile_lookup_uuid(st, "no-such-uuid", &none, &error), 0);
	assert_null(none);
	profile_free(&copy);
	profile_free(&by_uuid);
	profile_free(&got);
	profile_free(&p);
}

static void save_ok(struct store *st, struct profile *p)
{
	const char *error = NULL;
	if (profile_save(st, p, &error) < 0)
		fail_msg("save %s: %s", p->primary_address, error);
}

static struct profile *make(const char *address, const char *name, const char *aliases)
{
	struct profile *p = profile_new(address);
	const char *error = NULL;
	if (name != NULL)
		assert_int_equal(profile_set_field(p, "name", name, &error), 0);
	if (aliases != NULL)
		assert_int_equal(profile_set_field(p, "addresses", aliases, &error), 0);
	return p;
}

static void test_address_of_another_profile(void **state)
{
	struct store *st = *state;
	struct profile *a = make("a@example.com", NULL, "shared@example.com");
	struct profile *b = make("b@example.com", NULL, "Shared@Example.com");
	struct profile *c = make("a@example.com", NULL, NULL), *got = NULL;
	const char *error = NULL;
	save_ok(st, a);
	assert_int_equal(profile_save(st, b, &error), -1);
	assert_string_equal(error, "address shared@example.com belongs to another profile (a@example.com)");
	assert_int_equal(profile_lookup(st, "b@example.com", &got, &error), 0);
	/* a new profile with another's primary address */
	assert_int_equal(profile_save(st, c, &error), -1);
	assert_string_equal(error, "address a@example.com belongs to another profile (a@example.com)");
	/* inside a caller's transaction: the failure rolls the whole of it back */
	struct db *db = store_db(st);
	struct profile *d = make("d@example.com", NULL, NULL);
	assert_int_equal(db_begin(db), 0);
	save_ok(st, d);
	assert_int_equal(profile_save(st, b, &error), -1);
	assert_int_equal(db_commit(db), -1);
	db_rollback(db);
	assert_false(db_in_transaction(db));
	assert_int_equal(profile_lookup(st, "d@example.com", &got, &error), 0);
	/* and a good one nests */
	assert_int_equal(db_begin(db), 0);
	save_ok(st, d);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(profile_lookup(st, "d@example.com", &got, &error), 1);
	profile_free(&got);
	profile_free(&a);
	profile_free(&b);
	profile_free(&c);
	profile_free(&d);
}

static int find(struct store *st, const char *local_part, const char *want)
{
	struct profile *p = NULL;
	const char *error = NULL;
	int ret = profile_find_recipient(st, local_part, &p, &error);
	if (ret < 0)
		fail_msg("%s: %s", local_part, error);
	if (ret == 1)
		assert_string_equal(p->primary_address, want);
	else
		assert_null(p);
	profile_free(&p);
	return ret;
}

static void test_find_recipient(void **state)
{
	struct store *st = *state;
	struct profile *ps[] = {
		make("john.smith@example.com", "John Smith", NULL),
		make("jdoe@example.com", "Jane Doe", "jane@example.org"),
		make("jane.doe@example.net", "Jane Doe", NULL),
		make("js_2@example.com", "Other", NULL),
		make("jsx2@example.com", "Another", NULL),
	};
	for (size_t i = 0; i < G_N_ELEMENTS(ps); i++) {
		save_ok(st, ps[i]);
		profile_free(&ps[i]);
	}
	assert_int_equal(find(st, "John.Smith", "john.smith@example.com"), 1);
	assert_int_equal(find(st, "john_smith", "john.smith@example.com"), 1); /* by name */
	assert_int_equal(find(st, "JANE", "jdoe@example.com"), 1);             /* an alias' local part */
	assert_int_equal(find(st, "jane.doe", "jane.doe@example.net"), 1);    /* the address first */
	assert_int_equal(find(st, "Jane_Doe", NULL), 2);                      /* two Jane Does */
	assert_int_equal(find(st, "js_2", "js_2@example.com"), 1);            /* _ is no wildcard */
	assert_int_equal(find(st, "j%", NULL), 0);
	assert_int_equal(find(st, "nobody", NULL), 0);
	assert_int_equal(find(st, "", NULL), 0);
}

static void test_delete(void **state)
{
	struct store *st = *state;
	struct profile *p = make("del@example.com", NULL, "del2@example.com"), *got = NULL;
	g_ptr_array_add(p->dids, g_strdup("300"));
	const char *error = NULL;
	save_ok(st, p);
	assert_int_equal(profile_delete(st, "DEL2@example.com", &error), 1);
	assert_int_equal(profile_lookup(st, "del@example.com", &got, &error), 0);
	assert_int_equal(profile_lookup(st, "del2@example.com", &got, &error), 0);
	GPtrArray *found = NULL;
	assert_int_equal(profile_for_did(st, "300", &found, &error), 0);
	g_ptr_array_free(found, TRUE);
	assert_int_equal(profile_delete(st, "del@example.com", &error), 0);
	/* the address is free again */
	profile_free(&p);
	p = make("new@example.com", NULL, "del2@example.com");
	save_ok(st, p);
	profile_free(&p);
}

static void test_groups_and_list(void **state)
{
	struct store *st = *state;
	struct profile *g = make("sales@example.com", "Sales", NULL), *u = make("bob@example.com", NULL, NULL);
	const char *error = NULL;
	assert_int_equal(profile_set_field(g, "kind", "group", &error), 0);
	assert_int_equal(profile_set_field(g, "members", "Bob@example.com,carol@example.org,bob@example.com", &error),
			 0);
	assert_int_equal(profile_set_field(g, "dids", "+12125550100", &error), 0);
	assert_int_equal(profile_set_field(u, "dids", "+12125550100", &error), 0);
	assert_int_equal(profile_set_field(u, "source", "directory", &error), 0);
	save_ok(st, g);
	save_ok(st, u);
	GPtrArray *found = NULL;
	assert_int_equal(profile_for_did(st, "+12125550100", &found, &error), 1);
	assert_int_equal(found->len, 2);
	const struct profile *first = found->pdata[0], *second = found->pdata[1];
	assert_string_equal(first->primary_address, "bob@example.com");
	assert_string_equal(second->kind, "group");
	assert_int_equal(second->members->len, 2);
	assert_string_equal(second->members->pdata[0], "bob@example.com");
	assert_string_equal(second->members->pdata[1], "carol@example.org");
	g_ptr_array_free(found, TRUE);
	assert_int_equal(profile_list(st, NULL, &found, &error), 0);
	assert_int_equal(found->len, 2);
	g_ptr_array_free(found, TRUE);
	assert_int_equal(profile_list(st, "directory", &found, &error), 0);
	assert_int_equal(found->len, 1);
	assert_string_equal(((struct profile *)found->pdata[0])->primary_address, "bob@example.com");
	g_ptr_array_free(found, TRUE);
	profile_free(&g);
	profile_free(&u);
}

static void test_job_fields(void **state)
{
	struct profile *p = make("ann@example.com", "Ann", NULL);
	const char *error = NULL;
	assert_int_equal(profile_set_field(p, "fax", "+12125550199", &error), 0);
	assert_int_equal(profile_set_field(p, "billing_code", "CC1", &error), 0);
	GHashTable *t = profile_job_fields(p);
	assert_string_equal(g_hash_table_lookup(t, "sender_name"), "Ann");
	assert_string_equal(g_hash_table_lookup(t, "sender_email"), "ann@example.com");
	assert_string_equal(g_hash_table_lookup(t, "sender_fax"), "+12125550199");
	assert_string_equal(g_hash_table_lookup(t, "tsi"), "+12125550199"); /* the fax number */
	assert_string_equal(g_hash_table_lookup(t, "billing_code"), "CC1");
	assert_null(g_hash_table_lookup(t, "sender_company"));
	assert_null(g_hash_table_lookup(t, "resolution"));
	g_hash_table_unref(t);
	assert_int_equal(profile_set_field(p, "tsi", "ACME FAX", &error), 0);
	t = profile_job_fields(p);
	assert_string_equal(g_hash_table_lookup(t, "tsi"), "ACME FAX");
	g_hash_table_unref(t);
	profile_free(&p);
}

static int import(struct store *st, const char *doc, bool dry_run, struct profile_import_stats *stats,
		  const char **error_r)
{
	struct profile_csv *csv = NULL;
	if (profile_csv_parse(doc, strlen(doc), &csv, error_r) < 0)
		fail_msg("%s", *error_r);
	int ret = profile_import(st, csv, dry_run, stats, error_r);
	profile_csv_free(&csv);
	return ret;
}

static bool exists(struct store *st, const char *address)
{
	struct profile *p = NULL;
	const char *error = NULL;
	int ret = profile_lookup(st, address, &p, &error);
	assert_true(ret >= 0);
	profile_free(&p);
	return ret > 0;
}

static void test_import_upserts(void **state)
{
	struct store *st = *state;
	struct profile *alice = profile_new("alice@example.com"), *got = NULL;
	const char *error = NULL;
	alice->company = g_strdup("ACME");
	alice->password_hash = g_strdup("$y$j9T$salt$hash");
	assert_int_equal(profile_save(st, alice, &error), 0);
	const char *doc = "address,name,dids\r\nALICE@example.com,Alice New,100\r\nbob@example.com,Bob,\r\n"
			  "carol@example.com,Carol,200\r\n";
	struct profile_import_stats stats;
	assert_int_equal(import(st, doc, false, &stats, &error), 0);
	assert_int_equal(stats.rows, 3);
	assert_int_equal(stats.added, 2);
	assert_int_equal(stats.changed, 1);
	assert_int_equal(stats.unchanged, 0);
	assert_int_equal(profile_lookup(st, "alice@example.com", &got, &error), 1);
	assert_string_equal(got->id, alice->id);		     /* the id is kept */
	assert_string_equal(got->password_hash, "$y$j9T$salt$hash"); /* and the password */
	assert_string_equal(got->company, "ACME");		     /* and what the document lacks */
	assert_string_equal(got->name, "Alice New");
	profile_free(&got);
	assert_int_equal(import(st, doc, false, &stats, &error), 0);
	assert_int_equal(stats.unchanged, 3);
	assert_int_equal(stats.added + stats.changed, 0);
	profile_free(&alice);
}

static void test_import_is_all_or_nothing(void **state)
{
	struct store *st = *state;
	struct profile_import_stats stats;
	const char *error = NULL;
	assert_int_equal(import(st, "address\nalice@example.com\n", false, &stats, &error), 0);
	static const struct {
		const char *doc, *error;
	} bad[] = {
	    {"address,name\ndave@example.com,Dave\neve@example.com,\"E\nve\"\n",
	     "line 3: name: control characters are not allowed"},
	    {"address,addresses\ndave@example.com,\nfrank@example.com,\"frank@example.com,Alice@example."
	     "com\"\n",
	     "line 3: address alice@example.com belongs to another profile (alice@example.com)"},
	    {"address\ndave@example.com\r\nDave@example.com\r\n",
	     "line 3: dave@example.com is on line 2 already"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		assert_int_equal(import(st, bad[i].doc, false, &stats, &error), -1);
		if (strcmp(error, bad[i].error) != 0)
			fail_msg("case %zu: got '%s', expected '%s'", i, error, bad[i].error);
		assert_false(exists(st, "dave@example.com"));
		assert_false(db_in_transaction(store_db(st)));
	}
	/* a dry run counts and changes nothing */
	assert_int_equal(import(st, "address\nhank@example.com\nalice@example.com\n", true, &stats, &error),
			 0);
	assert_int_equal(stats.added, 1);
	assert_int_equal(stats.unchanged, 1);
	assert_false(exists(st, "hank@example.com"));
	assert_false(db_in_transaction(store_db(st)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_save_and_lookup, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test(test_no_password_never_matches),
		cmocka_unit_test(test_field_table),
		cmocka_unit_test(test_primary_address_change),
		cmocka_unit_test_setup_teardown(test_every_field_saved_and_loaded, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_address_of_another_profile, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_find_recipient, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_delete, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_groups_and_list, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test(test_job_fields),
		cmocka_unit_test_setup_teardown(test_import_upserts, store_fixture_setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_import_is_all_or_nothing, store_fixture_setup, store_fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
