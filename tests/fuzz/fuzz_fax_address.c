/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for fax recipient addresses (smtpgw/fax_address.c: RFC 3191/3192, RFC 2846,
 * RFC 5321 quoted local parts, MS-OXCMAIL IMCEA and MAPI FAX addresses, Notes/Domino, product
 * option forms). The first input byte picks strict or lenient mode and the default or a custom
 * IMCEA/Notes list; the rest, as a NUL-terminated string, is the local part. Beyond crashes and
 * sanitizer reports it aborts when a result breaks an invariant: a reason that is missing or
 * unprintable, an address returned with an error, an accepted address without a number or
 * form, text fields that are not valid UTF-8 or hold control characters, a number with
 * characters outside the number alphabet. Accepted numbers then go through the US dial rules
 * and the precedence merge.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dialrules.h"
#include "smtpgw/fax_address.h"
#include "smtpgw/fax_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct dialrules_settings us_profile = {
    .country_code = "1",
    .area_code = "212",
    .national_prefix = "1",
    .international_prefix = "011",
    .min_digits = 7,
    .max_digits = 15,
    .national_digits = 10,
};
static struct dialrules *us;
static const char *const types[] = {"FAX", "MSFAX", "Fax2", NULL};
static const char *const domains[] = {"FAX", "x", "Fax%", NULL};

static void check(int ok, const char *what, const char *text)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s (input \"%s\")\n", what, text);
		abort();
	}
}

static void check_text(const char *s, const char *what, const char *text)
{
	if (s == NULL)
		return;
	check(g_utf8_validate(s, -1, NULL), what, text);
	check(s[0] != '\0', what, text);
	for (const char *c = s; *c != '\0'; c++)
		check((unsigned char)*c >= 0x20 && *c != 0x7f, what, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (us == NULL) {
		g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
		us = dialrules_create(&us_profile);
		if (us == NULL)
			abort();
	}
	if (size == 0)
		return 0;
	struct fax_address_settings set;
	fax_address_settings_default(&set);
	set.strict = data[0] & 1;
	if (data[0] & 2) {
		set.imcea_types = types;
		set.notes_domains = domains;
	}
	if (data[0] & 4) {
		set.imcea_types = NULL;
		set.notes_domains = NULL;
	}
	char *text = g_strndup((const char *)data + 1, size - 1);
	struct fax_address *a = (struct fax_address *)&set;
	const char *error = NULL;
	int ret = fax_address_parse(&set, text, "fax.example.com", &a, &error);
	if (ret != 0) {
		check(ret == -1, "return is 0 or -1", text);
		check(a == NULL, "no address with an error", text);
		check(error != NULL && error[0] != '\0', "a reason comes with -1", text);
		for (const char *e = error; *e != '\0'; e++)
			check(*e >= 0x20 && *e < 0x7f, "the reason is printable ASCII", text);
	} else {
		check(a != NULL && a->number != NULL && a->form != NULL, "an address has a number and form",
		      text);
		check(strlen(a->number) <= FAX_ADDRESS_MAX_NUMBER, "the number is bounded", text);
		check(strspn(a->number, "0123456789+-.#() ") == strlen(a->number), "the number alphabet",
		      text);
		check(strpbrk(a->number, "0123456789") != NULL, "the number has digits", text);
		check_text(a->name, "name is clean UTF-8", text);
		check_text(a->company, "company is clean UTF-8", text);
		check_text(a->from, "from is clean UTF-8", text);
		check_text(a->billing, "billing is clean UTF-8", text);
		for (guint i = 0; i < a->custom->len; i++)
			check_text(a->custom->pdata[i], "custom fields are clean UTF-8", text);
		check(a->priority >= -1 && a->priority <= 9, "priority range", text);
		check(a->retries >= -1 && a->retries <= FAX_ADDRESS_MAX_RETRIES, "retries range", text);
		check(a->admin_options == (a->port != NULL || a->noprefix), "admin options flagged", text);
		const char *ign = fax_address_ignored(a);
		if (ign != NULL)
			check_text(ign, "the ignored note is printable", text);
		check(set.strict == false || ign == NULL, "strict mode ignores nothing", text);
		struct dial_number num;
		if (dialrules_normalize(us, a->number, &num, &error) == 0) {
			if (a->t33s != NULL)
				(void)dialrules_set_subaddress(&num, a->t33s, &error);
			if (a->postd != NULL)
				(void)dialrules_set_postdial(&num, a->postd, &error);
		}
		GHashTable *m = fax_headers_merge(NULL, a, NULL, NULL, NULL, 1);
		check(g_hash_table_contains(m, "number"), "the merge carries the number", text);
		g_hash_table_unref(m);
		fax_address_free(&a);
		check(a == NULL, "free clears the pointer", text);
	}
	g_free(text);
	return 0;
}
