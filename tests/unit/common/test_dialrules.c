/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Dial rules: numbers as written -> E.164, dial string, class (ITU-T E.164/E.123, RFC 3966
 * separators, ITU-T T.33 subaddress) for US, German, UK, Italian, Danish and PBX profiles;
 * permission (allow, deny, premium, classes); every rejection; settings and [dial] config;
 * arbitrary bytes never crash and always give a printable reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/dialrules.h"

static const char *const us_premium[] = {"+1900", "+1976", NULL};
static const char *const de_premium[] = {"+49900", "+49137", NULL};
static const char *const uk_premium[] = {"+4490", "+4491", NULL};

enum profile { US, US_PBX, DE, DE_PBX, UK, IT, DK, PROFILE_COUNT };

static const struct dialrules_settings profiles[PROFILE_COUNT] = {
    [US] = {.country_code = "1",
	    .area_code = "212",
	    .national_prefix = "1",
	    .international_prefix = "011",
	    .min_digits = 7,
	    .max_digits = 15,
	    .national_digits = 10,
	    .premium = us_premium},
    [US_PBX] = {.country_code = "1",
		.area_code = "212",
		.national_prefix = "1",
		.international_prefix = "011",
		.outside_prefix = "9",
		.internal_digits = 4,
		.min_digits = 7,
		.max_digits = 15,
		.national_digits = 10,
		.premium = us_premium},
    [DE] = {.country_code = "49",
	    .area_code = "30",
	    .national_prefix = "0",
	    .international_prefix = "00",
	    .min_digits = 3,
	    .premium = de_premium},
    [DE_PBX] = {.country_code = "49",
		.area_code = "30",
		.national_prefix = "0",
		.international_prefix = "00",
		.outside_prefix = "0",
		.internal_digits = 3,
		.min_digits = 3,
		.premium = de_premium},
    [UK] = {.country_code = "44",
	    .area_code = "20",
	    .national_prefix = "0",
	    .international_prefix = "00",
	    .min_digits = 5,
	    .premium = uk_premium},
    /* No trunk prefix: the leading 0 belongs to the number. */
    [IT] = {.country_code = "39",
	    .area_code = "06",
	    .national_prefix = "",
	    .international_prefix = "00",
	    .min_digits = 6},
    /* Closed 8-digit plan, no area codes, no trunk prefix. */
    [DK] = {.country_code = "45", .international_prefix = "00", .national_digits = 8},
};

static struct dialrules *rules[PROFILE_COUNT];

static int setup(void **state)
{
	for (int i = 0; i < PROFILE_COUNT; i++) {
		const char *error = NULL;
		if (dialrules_settings_check(&profiles[i], &error) < 0) {
			fprintf(stderr, "profile %d: %s\n", i, error);
			return -1;
		}
		rules[i] = dialrules_create(&profiles[i]);
		if (rules[i] == NULL)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < PROFILE_COUNT; i++) {
		dialrules_free(&rules[i]);
		assert_null(rules[i]);
	}
	return 0;
}

struct norm_case {
	enum profile profile;
	const char *text;
	const char *e164;
	const char *dial;
	enum dial_class dial_class;
	const char *subaddress;
};

static const struct norm_case accepted[] = {
    /* research/conventions.md §2.8, number parts (US profile) */
    {US, "+15551234567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "5551234567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "+1-555-123-4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "+1.555.123.4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "1-555-123-4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "+1 (555) 123-4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "+15551234567#6377", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, "6377"},
    {US, "+4930 1234567", "+49301234567", "01149301234567", DIAL_CLASS_INTERNATIONAL, ""},
    /* more US forms */
    {US, "(555) 123-4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "555.123.4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, " 555 123 4567 ", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "1 (555) 123-4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "+1 1 555 123 4567", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, ""},
    {US, "123-4567", "+12121234567", "2121234567", DIAL_CLASS_LOCAL, ""},
    {US, "555-1234", "+12125551234", "2125551234", DIAL_CLASS_LOCAL, ""},
    {US, "212-555-1234", "+12125551234", "2125551234", DIAL_CLASS_LOCAL, ""},
    {US, "1-212-555-1234", "+12125551234", "2125551234", DIAL_CLASS_LOCAL, ""},
    {US, "+1 212 555 1234", "+12125551234", "2125551234", DIAL_CLASS_LOCAL, ""},
    {US, "011 44 20 7946 0000", "+442079460000", "011442079460000", DIAL_CLASS_INTERNATIONAL, ""},
    {US, "+44 (0)20 7946 0000", "+442079460000", "011442079460000", DIAL_CLASS_INTERNATIONAL, ""},
    {US, "+44 ( 0 ) 20 7946 0000", "+442079460000", "011442079460000", DIAL_CLASS_INTERNATIONAL, ""},
    {US, "011 49 (0)30 1234567", "+49301234567", "01149301234567", DIAL_CLASS_INTERNATIONAL, ""},
    {US, "+1 416 555 0100", "+14165550100", "14165550100", DIAL_CLASS_NATIONAL, ""},
    {US, "1-900-555-1234", "+19005551234", "19005551234", DIAL_CLASS_PREMIUM, ""},
    {US, "+1 976 555 1234", "+19765551234", "19765551234", DIAL_CLASS_PREMIUM, ""},
    {US, "5551234567#1-2.3", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL, "123"},
    {US, "555 123 4567 # 12345678901234567890", "+15551234567", "15551234567", DIAL_CLASS_NATIONAL,
     "12345678901234567890"},
    {US, "+86 10 1234 5678", "+861012345678", "011861012345678", DIAL_CLASS_INTERNATIONAL, ""},
    {US, "+999999999999999", "+999999999999999", "011999999999999999", DIAL_CLASS_INTERNATIONAL, ""},
    /* PBX: outside line 9, 4-digit extensions */
    {US_PBX, "4711", "4711", "4711", DIAL_CLASS_INTERNAL, ""},
    {US_PBX, "47-11", "4711", "4711", DIAL_CLASS_INTERNAL, ""},
    {US_PBX, "4711#99", "4711", "4711", DIAL_CLASS_INTERNAL, "99"},
    {US_PBX, "555-123-4567", "+15551234567", "915551234567", DIAL_CLASS_NATIONAL, ""},
    {US_PBX, "123-4567", "+12121234567", "92121234567", DIAL_CLASS_LOCAL, ""},
    {US_PBX, "+44 20 7946 0000", "+442079460000", "9011442079460000", DIAL_CLASS_INTERNATIONAL, ""},
    {US_PBX, "1-900-555-1234", "+19005551234", "919005551234", DIAL_CLASS_PREMIUM, ""},
    /* Germany: open plan, trunk prefix 0, international 00 */
    {DE, "030 1234567", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "0049 30 1234567", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "+49 (0)30 1234567", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "+49(0)30-1234567", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "+49 030 1234567", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "+49 30 1234567", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "(030) 123 45 67", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "1234567", "+49301234567", "1234567", DIAL_CLASS_LOCAL, ""},
    {DE, "123", "+4930123", "123", DIAL_CLASS_LOCAL, ""},
    {DE, "089 123456", "+4989123456", "089123456", DIAL_CLASS_NATIONAL, ""},
    {DE, "+49 89 123456", "+4989123456", "089123456", DIAL_CLASS_NATIONAL, ""},
    {DE, "0170 1234567", "+491701234567", "01701234567", DIAL_CLASS_NATIONAL, ""},
    {DE, "0900 1234567", "+499001234567", "09001234567", DIAL_CLASS_PREMIUM, ""},
    {DE, "+1 212 555 1234", "+12125551234", "0012125551234", DIAL_CLASS_INTERNATIONAL, ""},
    {DE, "001 212 555 1234", "+12125551234", "0012125551234", DIAL_CLASS_INTERNATIONAL, ""},
    {DE, "+44 (0)20 7946 0000", "+442079460000", "00442079460000", DIAL_CLASS_INTERNATIONAL, ""},
    {DE, "030 1234567#42", "+49301234567", "1234567", DIAL_CLASS_LOCAL, "42"},
    /* German PBX: outside line 0, 3-digit extensions */
    {DE_PBX, "123", "123", "123", DIAL_CLASS_INTERNAL, ""},
    {DE_PBX, "030 1234567", "+49301234567", "01234567", DIAL_CLASS_LOCAL, ""},
    {DE_PBX, "089 123456", "+4989123456", "0089123456", DIAL_CLASS_NATIONAL, ""},
    {DE_PBX, "+1 212 555 1234", "+12125551234", "00012125551234", DIAL_CLASS_INTERNATIONAL, ""},
    /* UK-ish */
    {UK, "020 7946 0000", "+442079460000", "79460000", DIAL_CLASS_LOCAL, ""},
    {UK, "+44 (0)20 7946 0000", "+442079460000", "79460000", DIAL_CLASS_LOCAL, ""},
    {UK, "0044 20 7946 0000", "+442079460000", "79460000", DIAL_CLASS_LOCAL, ""},
    {UK, "7946 0000", "+442079460000", "79460000", DIAL_CLASS_LOCAL, ""},
    {UK, "01632 960123", "+441632960123", "01632960123", DIAL_CLASS_NATIONAL, ""},
    {UK, "0909 8790000", "+449098790000", "09098790000", DIAL_CLASS_PREMIUM, ""},
    {UK, "+33 1 23 45 67 89", "+33123456789", "0033123456789", DIAL_CLASS_INTERNATIONAL, ""},
    /* Italy: no trunk prefix, numbers always written in full */
    {IT, "06 1234 5678", "+390612345678", "0612345678", DIAL_CLASS_LOCAL, ""},
    {IT, "+39 06 1234 5678", "+390612345678", "0612345678", DIAL_CLASS_LOCAL, ""},
    {IT, "02 1234 5678", "+390212345678", "0212345678", DIAL_CLASS_NATIONAL, ""},
    {IT, "0049 30 1234567", "+49301234567", "0049301234567", DIAL_CLASS_INTERNATIONAL, ""},
    /* Denmark: closed plan, no area codes: every number of the country is local */
    {DK, "12 34 56 78", "+4512345678", "12345678", DIAL_CLASS_LOCAL, ""},
    {DK, "+45 12 34 56 78", "+4512345678", "12345678", DIAL_CLASS_LOCAL, ""},
    {DK, "0046 8 123 456 78", "+46812345678", "0046812345678", DIAL_CLASS_INTERNATIONAL, ""},
};

struct reject_case {
	enum profile profile;
	const char *text;
	const char *reason; /* substring of the reason */
};

static const struct reject_case rejected[] = {
    {US, "+1555ABC4567", "letters are not allowed in a fax number: \"+1555ABC4567\""},
    {US, "1-800-FLOWERS", "letters are not allowed in a fax number"},
    {US, "5551234567p123", "letters are not allowed"},
    {US, "", "the fax number is empty"},
    {US, "   ", "the fax number is empty"},
    {US, "-.()", "the fax number is empty"},
    {US, "+", "no digits after '+'"},
    {US, "+ ", "no digits after '+'"},
    {US, "#6377", "no fax number before '#'"},
    {US, "555123", "too few digits in fax number: 6 (at least 7)"},
    {US, "+1 555", "too few digits in fax number: 4 (at least 7)"},
    {US, "55512345", "wrong number of digits in fax number: 8"},
    {US, "555123456", "wrong number of digits in fax number: 9"},
    {US, "555123456789", "too many digits in fax number: 12"},
    {US, "+1 555 123 456", "too few digits after the country code +1: 9"},
    {US, "+1 555 123 45678", "too many digits after the country code +1: 11"},
    {US, "+1234567890123456", "too many digits in fax number: +1234567890123456 has 16 (at most 15)"},
    {US, "+44 1234 5678 9012 34", "has 16 (at most 15)"},
    {US, "011 44 1234 5678 9012 34", "has 16 (at most 15)"},
    {US, "+0049 30 1234567", "a country code never begins with 0"},
    {US, "011 0 44 20 7946", "a country code never begins with 0"},
    {US, "+1 155 512 3456", "cannot begin with 1 after the country code or the national prefix"},
    {US, "1 155 512 3456", "cannot begin with 1 after the country code or the national prefix"},
    {US, "5551234567#", "'#' must be followed by a subaddress"},
    {US, "5551234567#1#2", "only one '#'"},
    {US, "5551234567#123456789012345678901", "subaddress too long: 21 digits (at most 20)"},
    {US, "555*1234567", "character '*' is not allowed in a fax number"},
    {US, "555,1234567", "character ',' is not allowed"},
    {US, "555/1234567", "character '/' is not allowed"},
    {US, "555\t123\t4567", "character \\x09 is not allowed"},
    {US,
     "555\xef\xbc\x95"
     "1234567",
     "character \\xEF is not allowed"},
    {US, "555 123 4567\r\n", "character \\x0D is not allowed"},
    {US, "+1 555 +123 4567", "'+' may only stand at the start of a fax number"},
    {US, "++15551234567", "'+' may only stand at the start"},
    {US, "5551234567#+1", "'+' may only stand at the start"},
    {US_PBX, "+4711", "too few digits in fax number: 4"},
    {DE, "+49 0 030 1234567", "a number in country +49 cannot begin with 0"},
    {DE, "030", "no subscriber number after the area code 30"},
    {DE, "+49 30", "no subscriber number after the area code 30"},
    {DE, "+49 (0)", "too few digits in fax number: 2 (at least 3)"},
    {UK, "+44 0 (0)60", "too few digits in fax number: 4 (at least 5)"},
    {UK, "+44 (0) 0 0 20 7946 0000", "a number in country +44 cannot begin with 0"},
    {DK, "+45", "no digits after the country code +45"},
    {DK, "00", "no digits after the international prefix 00"},
    {US, "011 44 1234", "too few digits in fax number: 6 (at least 7)"},
    {DE, "12", "too few digits in fax number: 2 (at least 3)"},
    {DE, "0049 0000 1234567", "cannot begin with 0"},
    {DK, "1234567", "too few digits in fax number: 7 (a number in country +45 has 8 digits)"},
    {DK, "+45 1234 5678 9", "too many digits after the country code +45: 9"},
};

static void test_accepted(void **state)
{
	int bad = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(accepted); i++) {
		const struct norm_case *c = &accepted[i];
		struct dial_number num;
		const char *error = NULL;
		if (dialrules_normalize(rules[c->profile], c->text, &num, &error) < 0) {
			print_error("profile %d \"%s\": rejected: %s\n", c->profile, c->text, error);
			bad++;
			continue;
		}
		if (strcmp(num.e164, c->e164) != 0 || strcmp(num.dial, c->dial) != 0 ||
		    num.dial_class != c->dial_class || strcmp(num.subaddress, c->subaddress) != 0 ||
		    num.postdial[0] != '\0') {
			print_error(
			    "profile %d \"%s\": got e164=%s dial=%s class=%s sub=%s, want %s %s %s %s\n",
			    c->profile, c->text, num.e164, num.dial, dial_class_name(num.dial_class),
			    num.subaddress, c->e164, c->dial, dial_class_name(c->dial_class), c->subaddress);
			bad++;
		}
	}
	if (bad > 0)
		fail_msg("%d of %zu cases wrong", bad, G_N_ELEMENTS(accepted));
}

/* The E.164 form of every accepted number reads back as itself. */
static void test_e164_round_trip(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(accepted); i++) {
		const struct norm_case *c = &accepted[i];
		struct dial_number num, again;
		const char *error = NULL;
		assert_int_equal(dialrules_normalize(rules[c->profile], c->text, &num, &error), 0);
		if (dialrules_normalize(rules[c->profile], num.e164, &again, &error) < 0)
			fail_msg("\"%s\" -> %s rejected: %s", c->text, num.e164, error);
		assert_string_equal(again.e164, num.e164);
		assert_string_equal(again.dial, num.dial);
		assert_int_equal(again.dial_class, num.dial_class);
	}
}

static void test_rejected(void **state)
{
	int bad = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(rejected); i++) {
		const struct reject_case *c = &rejected[i];
		struct dial_number num;
		memset(&num, 'x', sizeof(num));
		const char *error = NULL;
		int ret = dialrules_normalize(rules[c->profile], c->text, &num, &error);
		if (ret != -1) {
			print_error("profile %d \"%s\": accepted as %s, want \"%s\"\n", c->profile, c->text,
				    num.e164, c->reason);
			bad++;
		} else if (error == NULL || strstr(error, c->reason) == NULL) {
			print_error("profile %d \"%s\": reason \"%s\", want \"%s\"\n", c->profile, c->text,
				    error ? error : "(null)", c->reason);
			bad++;
		} else if (num.e164[0] != '\0' || num.dial[0] != '\0') {
			print_error("profile %d \"%s\": result not cleared\n", c->profile, c->text);
			bad++;
		}
	}
	if (bad > 0)
		fail_msg("%d of %zu cases wrong", bad, G_N_ELEMENTS(rejected));
}

static void test_null_and_long(void **state)
{
	struct dial_number num;
	const char *error = NULL;
	assert_int_equal(dialrules_normalize(rules[US], NULL, &num, &error), -1);
	assert_string_equal(error, "no fax number given");
	/* error_r may be NULL */
	assert_int_equal(dialrules_normalize(rules[US], "abc", &num, NULL), -1);

	char text[DIALRULES_TEXT_MAX + 2];
	memset(text, ' ', sizeof(text));
	memcpy(text + 10, "5551234567", 10);
	text[DIALRULES_TEXT_MAX] = '\0';
	assert_int_equal(dialrules_normalize(rules[US], text, &num, &error), 0);
	assert_string_equal(num.e164, "+15551234567");
	text[DIALRULES_TEXT_MAX] = ' ';
	text[DIALRULES_TEXT_MAX + 1] = '\0';
	assert_int_equal(dialrules_normalize(rules[US], text, &num, &error), -1);
	assert_non_null(strstr(error, "fax number too long: more than 128 characters"));

	/* Long quoted text is cut short in the reason. */
	char letters[DIALRULES_TEXT_MAX + 1];
	memset(letters, 'A', DIALRULES_TEXT_MAX);
	letters[DIALRULES_TEXT_MAX] = '\0';
	assert_int_equal(dialrules_normalize(rules[US], letters, &num, &error), -1);
	assert_non_null(strstr(error, "letters are not allowed"));
	assert_true(strlen(error) < 120);
	/* ... and made printable. */
	assert_int_equal(dialrules_normalize(rules[US], "55\"5\\X\x01", &num, &error), -1);
	assert_non_null(strstr(error, "letters are not allowed in a fax number: \"55\\\"5\\\\X?\""));
}

struct permit_case {
	enum profile profile;
	const char *text;
	const char *const *classes; /* NULL: the default */
	const char *reason;	    /* NULL: permitted */
};

static const char *const only_local[] = {"local", NULL};
static const char *const none[] = {NULL};
static const char *const with_premium[] = {"Local", "NATIONAL", "international", "premium", NULL};
static const char *const unknown_and_national[] = {"galactic", "national", NULL};
static const char *const only_internal[] = {"internal", NULL};

static const struct permit_case permits[] = {
    {US, "123-4567", NULL, NULL},
    {US, "5551234567", NULL, NULL},
    {US, "+44 20 7946 0000", NULL, NULL},
    {US, "1-900-555-1234", NULL, "sending faxes to premium-rate numbers is not allowed: +19005551234"},
    {US, "1-900-555-1234", with_premium, NULL},
    {US, "123-4567", only_local, NULL},
    {US, "5551234567", only_local, "sending faxes to national numbers is not allowed: +15551234567"},
    {US, "+44 20 7946 0000", only_local, "international numbers is not allowed: +442079460000"},
    {US, "123-4567", none, "local numbers is not allowed"},
    {US, "5551234567", unknown_and_national, NULL},
    {US, "123-4567", unknown_and_national, "local numbers is not allowed"},
    {US_PBX, "4711", NULL, NULL},
    {US_PBX, "4711", only_internal, NULL},
    {US_PBX, "4711", only_local, "sending faxes to internal extensions is not allowed: 4711"},
    {US_PBX, "123-4567", only_internal, "local numbers is not allowed"},
    {DE, "0900 1234567", NULL, "premium-rate numbers is not allowed: +499001234567"},
    {DE, "030 1234567", NULL, NULL},
};

static void test_permit(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(permits); i++) {
		const struct permit_case *c = &permits[i];
		struct dial_number num;
		const char *error = NULL;
		if (dialrules_normalize(rules[c->profile], c->text, &num, &error) < 0)
			fail_msg("\"%s\": %s", c->text, error);
		int ret = dialrules_permit(rules[c->profile], &num, c->classes, &error);
		if (c->reason == NULL && ret != 0)
			fail_msg("\"%s\" refused: %s", c->text, error);
		if (c->reason != NULL && (ret != -1 || strstr(error, c->reason) == NULL))
			fail_msg("\"%s\": ret %d reason \"%s\", want \"%s\"", c->text, ret, ret ? error : "",
				 c->reason);
	}
}

/* Deny always wins; allow beats the classes (premium included). */
static void test_allow_deny(void **state)
{
	const char *const allow[] = {"+1 900 555", "+4930", NULL};
	const char *const deny[] = {"+44", "+4930 666", "+1-976", NULL};
	const char *const classes[] = {"local", NULL};
	struct dialrules_settings set = profiles[US];
	set.allow = allow;
	set.deny = deny;
	set.classes = classes;
	struct dialrules *r = dialrules_create(&set);
	assert_non_null(r);
	const struct {
		const char *text;
		const char *const *classes;
		const char *reason;
	} cases[] = {
	    {"1-900-555-1234", NULL, NULL},		      /* allowed premium */
	    {"1-900-556-1234", NULL, "premium-rate numbers"}, /* premium, not in allow */
	    {"+49 30 1234567", NULL, NULL},		      /* allowed international */
	    {"+49 30 6661234", NULL,
	     "sending faxes to +49306661234 is not allowed: the destination is blocked"},
	    {"+49 30 6661234", with_premium, "destination is blocked"},
	    {"+44 20 7946 0000", with_premium, "destination is blocked"},
	    {"1-976-555-1234", with_premium, "destination is blocked"},
	    {"+49 89 123456", NULL, "international numbers is not allowed"},
	    {"+49 89 123456", with_premium, NULL},
	    {"123-4567", NULL, NULL},
	    {"555-123-4567", NULL, "national numbers is not allowed"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dial_number num;
		const char *error = NULL;
		if (dialrules_normalize(r, cases[i].text, &num, &error) < 0)
			fail_msg("\"%s\": %s", cases[i].text, error);
		int ret = dialrules_permit(r, &num, cases[i].classes, &error);
		if (cases[i].reason == NULL && ret != 0)
			fail_msg("\"%s\" refused: %s", cases[i].text, error);
		if (cases[i].reason != NULL && (ret != -1 || strstr(error, cases[i].reason) == NULL))
			fail_msg("\"%s\": ret %d, want \"%s\"", cases[i].text, ret, cases[i].reason);
	}
	/* A bad number struct is refused, not trusted. */
	struct dial_number empty = {0};
	const char *error = NULL;
	assert_int_equal(dialrules_permit(r, &empty, NULL, &error), -1);
	assert_int_equal(dialrules_permit(r, NULL, NULL, &error), -1);
	struct dial_number odd;
	memset(&odd, '7', sizeof(odd));
	odd.dial_class = (enum dial_class)99;
	assert_int_equal(dialrules_permit(r, &odd, NULL, &error), -1);
	dialrules_free(&r);
	dialrules_free(&r); /* NULL is fine */
}

static void test_subaddress_postdial(void **state)
{
	struct dial_number num;
	const char *error = NULL;
	assert_int_equal(dialrules_normalize(rules[US_PBX], "555-123-4567", &num, &error), 0);
	assert_int_equal(dialrules_set_subaddress(&num, "63-77", &error), 0);
	assert_string_equal(num.subaddress, "6377");
	assert_string_equal(num.dial, "915551234567"); /* the subaddress is not dialled */
	assert_int_equal(dialrules_set_subaddress(&num, "12a", &error), -1);
	assert_non_null(strstr(error, "a subaddress may only hold digits"));
	assert_int_equal(dialrules_set_subaddress(&num, "123456789012345678901", &error), -1);
	assert_non_null(strstr(error, "subaddress too long"));
	assert_string_equal(num.subaddress, "6377");
	assert_int_equal(dialrules_set_subaddress(&num, "12345678901234567890", &error), 0);
	assert_int_equal(dialrules_set_subaddress(&num, "", &error), 0);
	assert_string_equal(num.subaddress, "");

	/* RFC 2846 POSTD: ww123# (research §2.8), any case, separators dropped */
	assert_int_equal(dialrules_set_postdial(&num, "ww123#", &error), 0);
	assert_string_equal(num.postdial, "ww123#");
	assert_string_equal(num.dial, "915551234567ww123#");
	assert_int_equal(dialrules_set_postdial(&num, "P,1-2.3*a", &error), 0);
	assert_string_equal(num.postdial, "p,123*A");
	assert_string_equal(num.dial, "915551234567p,123*A");
	assert_int_equal(dialrules_set_postdial(&num, "12x", &error), -1);
	assert_non_null(
	    strstr(error, "post-dial may only hold digits, * # A-D, pauses (p or ,) and waits (w)"));
	assert_int_equal(dialrules_set_postdial(&num, "12345678901234567890123456789012345678901", &error),
			 -1);
	assert_non_null(strstr(error, "post-dial too long: more than 40"));
	assert_string_equal(num.dial, "915551234567p,123*A");
	assert_int_equal(dialrules_set_postdial(&num, "1234567890123456789012345678901234567890", &error), 0);
	assert_string_equal(num.dial, "9155512345671234567890123456789012345678901234567890");
	assert_int_equal(dialrules_set_postdial(&num, NULL, &error), 0);
	assert_string_equal(num.postdial, "");
	assert_string_equal(num.dial, "915551234567");

	/* The longest dial string still fits: outside prefix 16, international prefix 6, 15 digits,
	   post-dial 40. */
	const char *const none_list[] = {NULL};
	struct dialrules_settings set = {.country_code = "1",
					 .area_code = "212",
					 .national_prefix = "1",
					 .international_prefix = "999011",
					 .outside_prefix = "9,,,,,,,,,,,,,,w",
					 .national_digits = 10,
					 .premium = none_list};
	struct dialrules *r = dialrules_create(&set);
	assert_non_null(r);
	assert_int_equal(dialrules_normalize(r, "+999 999 999 999 999", &num, &error), 0);
	assert_string_equal(num.dial, "9,,,,,,,,,,,,,,w999011999999999999999");
	assert_int_equal(dialrules_set_postdial(&num, "1234567890123456789012345678901234567890", &error), 0);
	assert_int_equal(strlen(num.dial), 16 + 6 + 15 + 40);
	dialrules_free(&r);
}

static void test_settings_check(void **state)
{
	const char *const bad_prefix[] = {"+1212", "+12x", NULL};
	const char *const bad_class[] = {"local", "galactic", NULL};
	const struct {
		const char *field;
		const char *value;
		int n;
		const char *reason;
	} cases[] = {
	    {"country_code", "", 0, "[dial] country_code"},
	    {"country_code", "0", 0, "[dial] country_code"},
	    {"country_code", "1234", 0, "[dial] country_code"},
	    {"country_code", "4a", 0, "[dial] country_code"},
	    {"area_code", "12345678901", 0, "[dial] area_code"},
	    {"area_code", "1212", 0, "[dial] area_code: must not begin with the national prefix"},
	    {"national_prefix", "01a", 0, "[dial] national_prefix"},
	    {"national_prefix", "0112", 0,
	     "[dial] national_prefix: must not begin with the international prefix"},
	    {"international_prefix", "", 0, "[dial] international_prefix"},
	    {"international_prefix", "+", 0, "[dial] international_prefix"},
	    {"outside_prefix", "9;", 0, "[dial] outside_prefix"},
	    {"outside_prefix", "99999999999999999", 0, "[dial] outside_prefix"},
	    {"internal_digits", NULL, 9, "[dial] internal_digits"},
	    {"internal_digits", NULL, 7, "[dial] internal_digits: extensions would have the length"},
	    {"min_digits", NULL, 16, "[dial] min_digits"},
	    {"min_digits", NULL, -1, "[dial] min_digits"},
	    {"max_digits", NULL, 16, "[dial] max_digits"},
	    {"max_digits", NULL, 1, "[dial] max_digits"},
	    {"national_digits", NULL, 15, "[dial] national_digits"},
	    {"national_digits", NULL, 3, "[dial] national_digits: must be longer than area_code"},
	    {"allow", NULL, 0, "[dial] allow"},
	    {"deny", NULL, 0, "[dial] deny"},
	    {"premium", NULL, 0, "[dial] premium"},
	    {"classes", NULL, 0, "[dial] classes"},
	};
	const char *error = NULL;
	assert_int_equal(dialrules_settings_check(&profiles[US], &error), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dialrules_settings set = profiles[US];
		const char *f = cases[i].field;
		if (strcmp(f, "country_code") == 0)
			set.country_code = cases[i].value;
		else if (strcmp(f, "area_code") == 0)
			set.area_code = cases[i].value;
		else if (strcmp(f, "national_prefix") == 0)
			set.national_prefix = cases[i].value;
		else if (strcmp(f, "international_prefix") == 0)
			set.international_prefix = cases[i].value;
		else if (strcmp(f, "outside_prefix") == 0)
			set.outside_prefix = cases[i].value;
		else if (strcmp(f, "internal_digits") == 0)
			set.internal_digits = cases[i].n;
		else if (strcmp(f, "min_digits") == 0)
			set.min_digits = cases[i].n;
		else if (strcmp(f, "max_digits") == 0)
			set.max_digits = cases[i].n;
		else if (strcmp(f, "national_digits") == 0)
			set.national_digits = cases[i].n;
		else if (strcmp(f, "allow") == 0)
			set.allow = bad_prefix;
		else if (strcmp(f, "deny") == 0)
			set.deny = bad_prefix;
		else if (strcmp(f, "premium") == 0)
			set.premium = bad_prefix;
		else if (strcmp(f, "classes") == 0)
			set.classes = bad_class;
		error = NULL;
		if (dialrules_settings_check(&set, &error) != -1 || strstr(error, cases[i].reason) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", f, error ? error : "(ok)", cases[i].reason);
		assert_null(dialrules_create(&set));
	}
	/* A zeroed struct but for the two required prefixes is fine. */
	struct dialrules_settings minimal = {.country_code = "49", .international_prefix = "00"};
	struct dialrules *r = dialrules_create(&minimal);
	assert_non_null(r);
	struct dial_number num;
	assert_int_equal(dialrules_normalize(r, "301234567", &num, &error), 0);
	assert_string_equal(num.e164, "+49301234567");
	assert_int_equal(num.dial_class, DIAL_CLASS_LOCAL);
	dialrules_free(&r);
}

static struct config *load(const char *text)
{
	struct config *cfg = NULL;
	char *errors = NULL;
	if (config_load_data(text, "test.conf", &cfg, &errors) < 0)
		fail_msg("config: %s", errors);
	return cfg;
}

static void test_config(void **state)
{
	/* The embedded default: a US setup, area 212, premium refused. */
	struct config *cfg = load(NULL);
	const char *error = NULL;
	assert_int_equal(dialrules_config_check(cfg, &error), 0);
	struct dialrules *r = dialrules_from_config(cfg);
	assert_non_null(r);
	struct dial_number num;
	assert_int_equal(dialrules_normalize(r, "5551234567", &num, &error), 0);
	assert_string_equal(num.e164, "+15551234567");
	assert_int_equal(dialrules_normalize(r, "123-4567", &num, &error), 0);
	assert_string_equal(num.e164, "+12121234567");
	assert_int_equal(num.dial_class, DIAL_CLASS_LOCAL);
	assert_int_equal(dialrules_normalize(r, "1 900 555 1234", &num, &error), 0);
	assert_int_equal(num.dial_class, DIAL_CLASS_PREMIUM);
	assert_int_equal(dialrules_permit(r, &num, NULL, &error), -1);
	assert_int_equal(dialrules_normalize(r, "+44 20 7946 0000", &num, &error), 0);
	assert_int_equal(dialrules_permit(r, &num, NULL, &error), 0);
	dialrules_free(&r);
	config_free(&cfg);

	cfg =
	    load("[dial]\ncountry_code = 49\narea_code = 30\nnational_prefix = 0\ninternational_prefix = 00\n"
		 "outside_prefix = 0\ninternal_digits = 3\nmin_digits = 3\npremium = +49900, +49 137\n"
		 "deny = +4919\nclasses = internal, local, national\n");
	r = dialrules_from_config(cfg);
	assert_non_null(r);
	assert_int_equal(dialrules_normalize(r, "+49 (0)30 1234567", &num, &error), 0);
	assert_string_equal(num.e164, "+49301234567");
	assert_string_equal(num.dial, "01234567");
	assert_int_equal(dialrules_permit(r, &num, NULL, &error), 0);
	assert_int_equal(dialrules_normalize(r, "0137 123456", &num, &error), 0);
	assert_int_equal(num.dial_class, DIAL_CLASS_PREMIUM);
	assert_int_equal(dialrules_normalize(r, "+1 212 555 1234", &num, &error), 0);
	assert_string_equal(num.dial, "00012125551234");
	assert_int_equal(dialrules_permit(r, &num, NULL, &error), -1);
	assert_non_null(strstr(error, "international numbers"));
	assert_int_equal(dialrules_normalize(r, "019 123456", &num, &error), 0);
	assert_int_equal(dialrules_permit(r, &num, NULL, &error), -1);
	assert_non_null(strstr(error, "blocked"));
	assert_int_equal(dialrules_normalize(r, "555", &num, &error), 0);
	assert_int_equal(num.dial_class, DIAL_CLASS_INTERNAL);
	dialrules_free(&r);
	config_free(&cfg);

	cfg = load("[dial]\ncountry_code = +1\n");
	assert_null(dialrules_from_config(cfg));
	assert_int_equal(dialrules_config_check(cfg, &error), -1);
	assert_non_null(strstr(error, "[dial] country_code"));
	config_free(&cfg);

	cfg = load("[dial]\nclasses = local, everything\n");
	assert_int_equal(dialrules_config_check(cfg, &error), -1);
	assert_non_null(strstr(error, "[dial] classes"));
	config_free(&cfg);
}

static void test_class_names(void **state)
{
	for (int i = 0; i < DIAL_CLASS_COUNT; i++) {
		enum dial_class c;
		assert_int_equal(dial_class_parse(dial_class_name((enum dial_class)i), &c), 0);
		assert_int_equal(c, i);
	}
	enum dial_class c;
	assert_int_equal(dial_class_parse("International", &c), 0);
	assert_int_equal(c, DIAL_CLASS_INTERNATIONAL);
	assert_int_equal(dial_class_parse("premium-rate", &c), -1);
	assert_int_equal(dial_class_parse("", &c), -1);
	assert_int_equal(dial_class_parse(NULL, &c), -1);
	assert_string_equal(dial_class_name(DIAL_CLASS_PREMIUM), "premium");
	assert_string_equal(dial_class_name((enum dial_class)42), "unknown");
}

/* Checks one outcome: -1 with a printable reason, or 0 with a sane, stable result. */
static void check_outcome(enum profile p, const char *text)
{
	struct dial_number num;
	const char *error = NULL;
	int ret = dialrules_normalize(rules[p], text, &num, &error);
	if (ret != 0) {
		assert_int_equal(ret, -1);
		assert_non_null(error);
		assert_true(error[0] != '\0');
		for (const char *e = error; *e != '\0'; e++) {
			if (*e < 0x20 || *e > 0x7e)
				fail_msg("unprintable reason for input of %zu bytes: %s", strlen(text),
					 error);
		}
		assert_true(strlen(error) < 300);
		return;
	}
	size_t n = strlen(num.e164);
	assert_true(n >= 1 && n <= 16);
	assert_true(num.dial[0] != '\0');
	assert_true(strlen(num.subaddress) <= DIALRULES_SUBADDRESS_MAX);
	assert_true((unsigned)num.dial_class < DIAL_CLASS_COUNT);
	if (num.dial_class != DIAL_CLASS_INTERNAL) {
		struct dial_number again;
		if (dialrules_normalize(rules[p], num.e164, &again, &error) < 0)
			fail_msg("%s rejected: %s", num.e164, error);
		assert_string_equal(again.e164, num.e164);
	}
	(void)dialrules_permit(rules[p], &num, NULL, &error);
}

/* Arbitrary NUL-free bytes (long, non-ASCII) never crash and always end in 0 or -1 + reason. */
static void test_arbitrary_bytes(void **state)
{
	GRand *rand = g_rand_new_with_seed(20251123);
	static const char alphabet[] = "0123456789+#()-. *,/pwA\t\xc3\xa9\x80\xff";
	char text[512];
	for (int iter = 0; iter < 40000; iter++) {
		size_t len = (size_t)g_rand_int_range(rand, 0, iter % 10 == 0 ? 500 : 40);
		bool structured = iter % 2 == 0;
		for (size_t i = 0; i < len; i++) {
			if (structured)
				text[i] = alphabet[g_rand_int_range(rand, 0, (gint32)(sizeof(alphabet) - 1))];
			else
				text[i] = (char)g_rand_int_range(rand, 1, 256);
		}
		text[len] = '\0';
		check_outcome((enum profile)(iter % PROFILE_COUNT), text);
	}
	/* Plausible numbers: digits and separators only, mostly accepted. */
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)g_rand_int_range(rand, 1, 24);
		size_t i = 0;
		if (g_rand_boolean(rand))
			text[i++] = '+';
		for (; i < len; i++)
			text[i] = g_rand_int_range(rand, 0, 5) == 0
				      ? " -.()"[g_rand_int_range(rand, 0, 5)]
				      : (char)('0' + g_rand_int_range(rand, 0, 10));
		text[len] = '\0';
		check_outcome((enum profile)(iter % PROFILE_COUNT), text);
	}
	g_rand_free(rand);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_e164_round_trip),
	    cmocka_unit_test(test_rejected),
	    cmocka_unit_test(test_null_and_long),
	    cmocka_unit_test(test_permit),
	    cmocka_unit_test(test_allow_deny),
	    cmocka_unit_test(test_subaddress_postdial),
	    cmocka_unit_test(test_settings_check),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_class_names),
	    cmocka_unit_test(test_arbitrary_bytes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
