/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for the dial rules (common/dialrules.c: E.164/E.123 numbers, RFC 3966
 * separators, ITU-T T.33 subaddress, RFC 2846 post-dial). The input, as a NUL-terminated string,
 * is read under a US, a US PBX, a German PBX, a UK and a Danish profile, then permitted, and
 * also tried as a subaddress and a post-dial string. Beyond crashes and sanitizer reports it
 * aborts when a result breaks an invariant: a reason that is missing or unprintable, an
 * unterminated or empty field, or an E.164 result that does not read back as itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dialrules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const us_premium[] = {"+1900", "+1976", NULL};
static const char *const de_premium[] = {"+49900", "+49137", NULL};
static const char *const allow[] = {"+1212", "+4930", NULL};
static const char *const deny[] = {"+44", "+1900555", NULL};

static const struct dialrules_settings profiles[] = {
    {.country_code = "1",
     .area_code = "212",
     .national_prefix = "1",
     .international_prefix = "011",
     .min_digits = 7,
     .max_digits = 15,
     .national_digits = 10,
     .premium = us_premium},
    {.country_code = "1",
     .area_code = "212",
     .national_prefix = "1",
     .international_prefix = "011",
     .outside_prefix = "9,",
     .internal_digits = 4,
     .min_digits = 7,
     .national_digits = 10,
     .premium = us_premium,
     .allow = allow,
     .deny = deny},
    {.country_code = "49",
     .area_code = "30",
     .national_prefix = "0",
     .international_prefix = "00",
     .outside_prefix = "0",
     .internal_digits = 3,
     .min_digits = 3,
     .premium = de_premium,
     .allow = allow,
     .deny = deny},
    {.country_code = "44",
     .area_code = "20",
     .national_prefix = "0",
     .international_prefix = "00",
     .min_digits = 5},
    {.country_code = "45", .international_prefix = "00", .national_digits = 8},
};
#define PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static struct dialrules *rules[PROFILES];

static void check(int ok, const char *what, const char *text)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s (input \"%s\")\n", what, text);
		abort();
	}
}

static void check_reason(int ret, const char *error, const char *text)
{
	check(ret == -1, "return is 0 or -1", text);
	check(error != NULL && error[0] != '\0', "a reason comes with -1", text);
	for (const char *e = error; *e != '\0'; e++)
		check(*e >= 0x20 && *e < 0x7f, "the reason is printable ASCII", text);
}

static void check_terminated(const char *field, size_t size, const char *text)
{
	check(memchr(field, '\0', size) != NULL, "fields are NUL-terminated", text);
}

static void run(struct dialrules *r, const char *text)
{
	struct dial_number num;
	const char *error = NULL;
	int ret = dialrules_normalize(r, text, &num, &error);
	if (ret != 0) {
		check_reason(ret, error, text);
		check(num.e164[0] == '\0' && num.dial[0] == '\0', "a rejected result is cleared", text);
	} else {
		check_terminated(num.e164, sizeof(num.e164), text);
		check_terminated(num.dial, sizeof(num.dial), text);
		check_terminated(num.subaddress, sizeof(num.subaddress), text);
		check(num.e164[0] != '\0' && num.dial[0] != '\0', "an accepted number has e164 and dial",
		      text);
		check((unsigned)num.dial_class < DIAL_CLASS_COUNT, "the class is known", text);
		if (num.e164[0] == '+') {
			struct dial_number again;
			check(dialrules_normalize(r, num.e164, &again, &error) == 0,
			      "the E.164 form is accepted", text);
			check(strcmp(again.e164, num.e164) == 0 && strcmp(again.dial, num.dial) == 0,
			      "the E.164 form reads back as itself", text);
		}
		static const char *const some[] = {"local", "premium", NULL};
		ret = dialrules_permit(r, &num, NULL, &error);
		if (ret != 0)
			check_reason(ret, error, text);
		ret = dialrules_permit(r, &num, some, &error);
		if (ret != 0)
			check_reason(ret, error, text);
	}
	/* The same text as an address option's value. */
	ret = dialrules_set_subaddress(&num, text, &error);
	if (ret != 0)
		check_reason(ret, error, text);
	ret = dialrules_set_postdial(&num, text, &error);
	if (ret != 0)
		check_reason(ret, error, text);
	check_terminated(num.dial, sizeof(num.dial), text);
	check_terminated(num.postdial, sizeof(num.postdial), text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (rules[0] == NULL) {
		for (size_t i = 0; i < PROFILES; i++) {
			rules[i] = dialrules_create(&profiles[i]);
			if (rules[i] == NULL) {
				const char *error = "";
				dialrules_settings_check(&profiles[i], &error);
				fprintf(stderr, "fuzz_dialrules: profile %zu: %s\n", i, error);
				abort();
			}
		}
	}
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < PROFILES; i++)
		run(rules[i], text);
	free(text);
	return 0;
}
