/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fax recipient addresses (smtpgw/fax_address.c): every test vector of research/conventions.md
 * §2.8 (number checked through the dial rules of a US profile, country 1, area 212), and more
 * per family: RFC 3191/3192 and RFC 2846 keywords, eFax/Cisco/FaxFinder/RightFax keyed options,
 * FaxBack caret flags, Faximum name fields, name.number, Exchange IMCEA (MS-OXCMAIL) and MAPI
 * FAX/MSFAX addresses, Notes/Domino foreign domains, RFC 5321 quoted local parts; strict and
 * lenient unknown options, overlong and non-ASCII input, and every prefix of every input.
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

#include "common/dialrules.h"
#include "smtpgw/fax_address.h"

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

static int setup(void **state)
{
	us = dialrules_create(&us_profile);
	return us == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	dialrules_free(&us);
	return 0;
}

/* The options of an address in a fixed order, "key=value;..." ("" when none): one string to
   compare per case. Number, name and form are checked separately. */
static char *describe(const struct fax_address *a)
{
	GString *s = g_string_new(NULL);
#define OPT(key, v)                                                                                          \
	do {                                                                                                 \
		if ((v) != NULL)                                                                             \
			g_string_append_printf(s, "%s%s=%s", s->len ? ";" : "", key, (const char *)(v));     \
	} while (0)
	OPT("company", a->company);
	OPT("from", a->from);
	OPT("cover", a->cover);
	OPT("res", a->resolution);
	OPT("paper", a->paper);
	OPT("t33s", a->t33s);
	OPT("isub", a->isub);
	OPT("postd", a->postd);
	OPT("billing", a->billing);
	if (a->priority >= 0)
		g_string_append_printf(s, "%spriority=%d", s->len ? ";" : "", a->priority);
	if (a->retries >= 0)
		g_string_append_printf(s, "%sretries=%d", s->len ? ";" : "", a->retries);
	OPT("comments", a->comments);
	for (guint i = 0; i < a->custom->len; i++) {
		char key[24];
		snprintf(key, sizeof(key), "custom%u", i + 1);
		OPT(key, a->custom->pdata[i]);
	}
	OPT("port", a->port);
	if (a->noprefix)
		g_string_append_printf(s, "%snoprefix", s->len ? ";" : "");
	if (a->admin_options)
		g_string_append_printf(s, "%sadmin", s->len ? ";" : "");
#undef OPT
	return g_string_free(s, FALSE);
}

struct good_case {
	const char *local;
	const char *number; /* as written */
	const char *e164;   /* after the US dial rules */
	const char *name;
	const char *form;
	const char *options; /* describe() */
};

static const struct good_case good[] = {
    /* research/conventions.md §2.8 */
    {"+15551234567", "+15551234567", "+15551234567", NULL, "plain", ""},
    {"5551234567", "5551234567", "+15551234567", NULL, "plain", ""},
    {"FAX=+1-555-123-4567", "+1-555-123-4567", "+15551234567", NULL, "rfc3192", ""},
    {"/FAX=+1.555.123.4567/", "+1.555.123.4567", "+15551234567", NULL, "rfc3192", ""},
    {"FAX=+15551234567/T33S=6377", "+15551234567", "+15551234567", NULL, "rfc3192", "t33s=6377"},
    {"fax=+15551234567/cover=no", "+15551234567", "+15551234567", NULL, "rfc3192", "cover=no"},
    {"5551234567/to=John_Doe/co=Doe_Sprockets/cp=off", "5551234567", "+15551234567", "John Doe", "keyed",
     "company=Doe Sprockets;cover=no"},
    {"/name=John%20Smith/fax=5551234567", "5551234567", "+15551234567", "John Smith", "keyed", ""},
    {"5551234567^COMPANY=FaxBack^NOCOVER", "5551234567", "+15551234567", NULL, "caret",
     "company=FaxBack;cover=no"},
    {"Jane_Doe/Company_Name/FAX=1-555-123-4567", "1-555-123-4567", "+15551234567", "Jane Doe", "keyed",
     "company=Company Name"},
    {"Corporate_Fax.5551234567", "5551234567", "+15551234567", "Corporate Fax", "named", ""},
    {"\"John Doe@+1 (555) 123-4567\"", "+1 (555) 123-4567", "+15551234567", "John Doe", "quoted-mapi", ""},
    {"IMCEAFAX-John+20Doe+40+2B1+20+28555+29+20123-4567", "+1 (555) 123-4567", "+15551234567", "John Doe",
     "imcea", ""},
    {"imceafax-5551234567", "5551234567", "+15551234567", NULL, "imcea", ""},
    {"+15551234567%FAX", "+15551234567", "+15551234567", NULL, "notes", ""},
    {"John_Smith%5551234567%FAX", "5551234567", "+15551234567", "John Smith", "notes", ""},
    {"FAX=+15551234567/POSTD=ww123%23", "+15551234567", "+15551234567", NULL, "rfc3192", "postd=ww123#"},

    /* RFC 3191/3192, RFC 2846 */
    {"FAX=+12027653000/T33S=6377", "+12027653000", "+12027653000", NULL, "rfc3192", "t33s=6377"},
    {"/FAX=+15551234567/t33s=63-77/", "+15551234567", "+15551234567", NULL, "rfc3192", "t33s=6377"},
    {"FAX=+15551234567/ISUB=123/POSTD=p1234", "+15551234567", "+15551234567", NULL, "rfc3192",
     "isub=123;postd=p1234"},
    {"Fax=555-123-4567", "555-123-4567", "+15551234567", NULL, "rfc3192", ""},
    {"FAX=+15551234567/sub=42", "+15551234567", "+15551234567", NULL, "rfc3192", "t33s=42"},
    /* Cisco, FaxFinder */
    {"FAX=+1-312-555-3260/cover=yes", "+1-312-555-3260", "+13125553260", NULL, "rfc3192", "cover=yes"},
    {"FAX=+1-312-555-3260/COVER-PAGE-ENABLED=1/FAX-PRIORITY=0/INLINE-COMMENTS=false", "+1-312-555-3260",
     "+13125553260", NULL, "rfc3192", "cover=yes;priority=9;comments=no"},
    {"FAX=+13125553260/FAX-PRIORITY=5", "+13125553260", "+13125553260", NULL, "rfc3192", "priority=0"},
    {"FAX=+13125553260/FAX-PRIORITY=2", "+13125553260", "+13125553260", NULL, "rfc3192", "priority=5"},
    /* eFax */
    {"5551234567/to=John_Doe/fr=Jane_Roe/co=Doe_Sprockets/cp=on", "5551234567", "+15551234567", "John Doe",
     "keyed", "company=Doe Sprockets;from=Jane Roe;cover=yes"},
    {"5551234567/TO=Ann__Lee/CP=OFF", "5551234567", "+15551234567", "Ann_Lee", "keyed", "cover=no"},
    {"5551234567/to=O%5FBrien", "5551234567", "+15551234567", "O_Brien", "keyed", ""},
    /* RightFax %20 */
    {"/name=Mary%20Ann%20O'Neil/fax=5551234567/company=Acme%20Corp", "5551234567", "+15551234567",
     "Mary Ann O'Neil", "keyed", "company=Acme Corp"},
    {"/fax=555%20123%204567/", "555 123 4567", "+15551234567", NULL, "rfc3192", ""},
    {"/number=5551234567/name=Bob/", "5551234567", "+15551234567", "Bob", "keyed", ""},
    /* FaxBack flags */
    {"5551234567^STANDARD^A4^RETRIES=3^BILLING=X42^TEMPLATE=legal_form", "5551234567", "+15551234567", NULL,
     "caret", "cover=legal_form;res=standard;paper=a4;billing=X42;retries=3"},
    {"5551234567^COARSE^LEGAL", "5551234567", "+15551234567", NULL, "caret", "res=standard;paper=legal"},
    {"5551234567^fine^letter", "5551234567", "+15551234567", NULL, "caret", "res=fine;paper=letter"},
    {"5551234567^NOPREFIX^PORT=line2", "5551234567", "+15551234567", NULL, "caret",
     "port=line2;noprefix;admin"},
    {"5551234567^COMPANY=Doe_%26_Sons", "5551234567", "+15551234567", NULL, "caret", "company=Doe & Sons"},
    /* Faximum name fields */
    {"Jane_Doe/Acme_Ltd/Sales/Room_4/5551234567", "5551234567", "+15551234567", "Jane Doe", "keyed",
     "company=Acme Ltd;custom1=Sales;custom2=Room 4"},
    {"Jane_Doe/FAX=1-604-926-8182", "1-604-926-8182", "+16049268182", "Jane Doe", "keyed", ""},
    {"3M_Sales/5551234567", "5551234567", "+15551234567", "3M Sales", "keyed", ""},
    /* other keyed options */
    {"5551234567/priority=high/res=Fine/paper=A4/retries=0", "5551234567", "+15551234567", NULL, "keyed",
     "res=fine;paper=a4;priority=8;retries=0"},
    {"5551234567/priority=3/resolution=superfine/comments", "5551234567", "+15551234567", NULL, "keyed",
     "res=superfine;priority=3;comments=yes"},
    {"5551234567/cover=Quarterly.v2", "5551234567", "+15551234567", NULL, "keyed", "cover=Quarterly.v2"},
    {"5551234567/nocover/nocover", "5551234567", "+15551234567", NULL, "keyed", "cover=no"},
    {"5551234567//cover=no", "5551234567", "+15551234567", NULL, "keyed", "cover=no"},
    /* name.number */
    {"J.Smith.555.123.4567", "555.123.4567", "+15551234567", "J.Smith", "named", ""},
    {"Front_Desk.+15551234567", "+15551234567", "+15551234567", "Front Desk", "named", ""},
    /* plain with keypad subaddress */
    {"5551234567#6377", "5551234567#6377", "+15551234567", NULL, "plain", ""},
    {"555.123.4567", "555.123.4567", "+15551234567", NULL, "plain", ""},
    /* IMCEA */
    {"IMCEAFAX-+2B1+2E555+2E123+2E4567", "+1.555.123.4567", "+15551234567", NULL, "imcea", ""},
    {"IMCEAFAX-Sales_Support+405551234567", "5551234567", "+15551234567", "Sales/Support", "imcea", ""},
    {"ImceaFax-Bob+405551234567", "5551234567", "+15551234567", "Bob", "imcea", ""},
    {"IMCEAFAX-A+G1B+405551234567", "5551234567", "+15551234567", "A+G1B", "imcea", ""},
    {"IMCEAFAX-Somebody+20at+20The+20Office+402505555555", "2505555555", "+12505555555",
     "Somebody at The Office", "imcea", ""},
    {"IMCEAFAX-+5BFAX+3A+2B1+20+28555+29+201234567+7C+23546+5D", "+1 (555) 1234567", "+15551234567", NULL,
     "imcea", "t33s=546"},
    {"IMCEAFAX-J+C3+BCrgen+405551234567", "5551234567", "+15551234567", "J\xc3\xbcrgen", "imcea", ""},
    {"IMCEAFAX-J+FCrgen+405551234567", "5551234567", "+15551234567", "J\xc3\xbcrgen", "imcea", ""},
    {"IMCEAFAX-A+40B+405551234567", "5551234567", "+15551234567", "A@B", "imcea", ""},
    /* quoted MAPI */
    {"\"[FAX:+1 (555) 1234567|#546]\"", "+1 (555) 1234567", "+15551234567", NULL, "quoted-mapi", "t33s=546"},
    {"\"[FAX:936-7329 | tedst@+1 (555) 936-7329]\"", "+1 (555) 936-7329", "+15559367329", "tedst",
     "quoted-mapi", ""},
    {"\"[FAX:555-1234567]\"", "555-1234567", "+15551234567", NULL, "quoted-mapi", ""},
    {"\"[MSFAX:Bob@+1 555 123 4567|,,,,567]\"", "+1 555 123 4567", "+15551234567", "Bob", "quoted-mapi",
     "postd=,,,,567"},
    {"\"a@b@+15551234567\"", "+15551234567", "+15551234567", "a@b", "quoted-mapi", ""},
    {"John Doe@+1 (555) 123-4567", "+1 (555) 123-4567", "+15551234567", "John Doe", "quoted-mapi", ""},
    {"\"John \\\"JD\\\" Doe@5551234567\"", "5551234567", "+15551234567", "John \"JD\" Doe", "quoted-mapi",
     ""},
    {"\"@5551234567\"", "5551234567", "+15551234567", NULL, "quoted-mapi", ""},
    /* quoted non-MAPI: spaces allowed */
    {"\"+4930 1234567\"", "+4930 1234567", "+49301234567", NULL, "plain", ""},
    {"\"FAX=+1 555 123 4567/T33S=12\"", "+1 555 123 4567", "+15551234567", NULL, "rfc3192", "t33s=12"},
    /* Notes / Domino */
    {"Anne__Marie_Smith%5551234567%ExtraFax", "5551234567", "+15551234567", "Anne_Marie Smith", "notes", ""},
    {"John_Smith%Acme_Inc%5551234567%rightfax", "5551234567", "+15551234567", "John Smith", "notes",
     "company=Acme Inc"},
    {"John%20Smith%5551234567%FAX", "5551234567", "+15551234567", "John", "notes", "company=20Smith"},
    {"\"John Smith@5551234567@FAX\"", "5551234567", "+15551234567", "John Smith", "notes", ""},
    /* non-ASCII names */
    {"J\xc3\xbcrgen_M\xc3\xbcller/5551234567", "5551234567", "+15551234567", "J\xc3\xbcrgen M\xc3\xbcller",
     "keyed", ""},
    {"J\xfcrgen/5551234567", "5551234567", "+15551234567", "J\xc3\xbcrgen", "keyed", ""},
    {"5551234567/to=Ren%C3%A9", "5551234567", "+15551234567", "Ren\xc3\xa9", "keyed", ""},
};

struct bad_case {
	const char *local;
	const char *error; /* a substring of the reason */
};

static const struct bad_case bad[] = {
    /* research/conventions.md §2.8 */
    {"+4930 1234567", "need a quoted address"},
    {"FAX=+1555ABC4567", "letters are not allowed in a fax number"},
    /* numbers */
    {"5551234567x", "letters are not allowed"},
    {"john", "not a fax number"},
    {"john.doe", "not a fax number"},
    {"555+1234567", "\"+\" may only begin"},
    {"555*1234567", "\"*\" is not allowed"},
    {"5551234567%FA", "letters are not allowed"},
    {"555%1234567", "\"%\" is not allowed"},
    {"555\xc3\xa9"
     "1234567",
     "only digits"},
    {"---", "no digits"},
    {"+", "no digits"},
    {"5551234567/5551234568", "more than one fax number"},
    {"FAX=5551234567/fax=5551234568", "more than one fax number"},
    {"/name=John/", "no fax number"},
    {"/", "no fax number"},
    {"//", "no fax number"},
    {"FAX=", "needs a value"},
    {"\"\"", "empty local part"},
    {"\"   \"", "empty local part"},
    {"\"+1 555\" 1234567", "unbalanced quotes"},
    {"\"abc", "unbalanced quotes"},
    {"\"abc\\", "unbalanced quotes"},
    {"555\r1234567", "control characters"},
    {"555\t1234567", "control characters"},
    /* options */
    {"5551234567^FINE^STANDARD", "given twice"},
    {"5551234567/cover=yes/nocover", "given twice"},
    {"5551234567/to=A/name=B", "given twice"},
    {"5551234567/res=ultra", "res= expects standard, fine or superfine"},
    {"5551234567/paper=b5", "paper= expects a4, letter or legal"},
    {"5551234567/retries=21", "retries= expects a whole number from 0 to 20"},
    {"5551234567/retries=-1", "retries= expects"},
    {"5551234567/priority=10", "priority= expects 0 to 9"},
    {"FAX=+13125553260/FAX-PRIORITY=6", "fax-priority= expects 0 (highest) to 5"},
    {"5551234567/cp=maybe", "cp= expects yes or no"},
    {"5551234567/cover=../etc/passwd", "cover= expects yes, no or a template name"},
    {"5551234567^TEMPLATE=.hidden", "template= expects a template name"},
    {"5551234567/T33S=12a", "T33S= expects 1 to 20 digits"},
    {"5551234567/T33S=123456789012345678901", "T33S= expects 1 to 20 digits"},
    {"5551234567/ISUB=x1", "ISUB= expects digits"},
    {"FAX=+15551234567/POSTD=ww123#x", "POSTD= expects"},
    {"5551234567/port=a%20b", "port= expects a line name"},
    {"5551234567/name=", "needs a value"},
    {"5551234567/name=%00", "needs a value"},
    {"5551234567^TO", "to= needs a value"},
    {"5551234567/NOCOVER=1", "nocover takes no value"},
    {"5551234567/=x", "an option has no name"},
    {"5551234567/fo%6F=x", "is not an option name"},
    {"5551234567^", NULL}, /* fine: an empty caret segment */
    {"^NOCOVER", "before the first ^"},
    {"A/B/C/D/E/5551234567", "at most 4 name fields"},
    /* IMCEA / MAPI / Notes */
    {"IMCEAEX-_O=ORG_OU=SITE_CN=RECIPIENTS_CN=JDOE", "IMCEAEX addresses are not fax addresses"},
    {"IMCEAFAX-", "no fax number"},
    {"IMCEAFAX-John+20Doe+40", "no fax number"},
    {"IMCEAFAX-John+20Doe", "letters are not allowed"},
    {"\"[FAX:5551234567\"", "a [ without ]"},
    {"\"5551234567]\"", "\"]\" is not allowed"},
    {"\"Bob@5551234567]\"", "a ] without ["},
    {"\"[SMTP:a@b.c]\"", "not a fax address type"},
    {"\"[FAX5551234567]\"", "needs a type"},
    {"\"[FAX:1|2|3|4]\"", "too many | parts"},
    {"\"[FAX:5551234567|#12|#34]\"", "more than one special dialing part"},
    {"\"[FAX:a@5551234567|b@5551234567]\"", "more than one Name@Number"},
    {"\"[FAX:5551234567|hello]\"", "special dialing part"},
    {"\"John@\"", "no fax number"},
    {"\"John@FAX\"", "no fax number before the Notes domain"},
    {"%FAX", "not a fax number"},
    {"John%%FAX", "no fax number before the Notes domain"},
    {"John_Smith%555x%FAX", "letters are not allowed"},
};

static void check_reason(const char *error)
{
	assert_non_null(error);
	assert_true(error[0] != '\0');
	for (const char *c = error; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c < 0x7f);
}

static void test_good(void **state)
{
	struct fax_address_settings set;
	fax_address_settings_default(&set);
	set.strict = true;
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		const struct good_case *c = &good[i];
		struct fax_address *a = NULL;
		const char *error = NULL;
		int ret = fax_address_parse(&set, c->local, "fax.example.com", &a, &error);
		if (ret != 0)
			fail_msg("case %zu \"%s\": %s", i, c->local, error);
		assert_non_null(a);
		assert_string_equal(a->number, c->number);
		if (c->name == NULL) {
			if (a->name != NULL)
				fail_msg("case %zu \"%s\": name \"%s\"", i, c->local, a->name);
		} else {
			assert_non_null(a->name);
			assert_string_equal(a->name, c->name);
		}
		if (strcmp(a->form, c->form) != 0)
			fail_msg("case %zu \"%s\": form %s", i, c->local, a->form);
		g_autofree char *opts = describe(a);
		if (strcmp(opts, c->options) != 0)
			fail_msg("case %zu \"%s\": options \"%s\", expected \"%s\"", i, c->local, opts,
				 c->options);
		assert_null(fax_address_ignored(a));

		struct dial_number num;
		if (dialrules_normalize(us, a->number, &num, &error) != 0)
			fail_msg("case %zu \"%s\": dial rules: %s", i, c->local, error);
		assert_string_equal(num.e164, c->e164);
		if (a->t33s != NULL)
			assert_int_equal(dialrules_set_subaddress(&num, a->t33s, &error), 0);
		if (a->postd != NULL)
			assert_int_equal(dialrules_set_postdial(&num, a->postd, &error), 0);
		fax_address_free(&a);
		assert_null(a);
	}
}

static void test_bad(void **state)
{
	struct fax_address_settings set;
	fax_address_settings_default(&set);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const struct bad_case *c = &bad[i];
		struct fax_address *a = (struct fax_address *)&set; /* must be cleared */
		const char *error = NULL;
		int ret = fax_address_parse(&set, c->local, "fax.example.com", &a, &error);
		if (c->error == NULL) {
			assert_int_equal(ret, 0);
			fax_address_free(&a);
			continue;
		}
		if (ret != -1)
			fail_msg("case %zu \"%s\": accepted (number \"%s\")", i, c->local, a->number);
		assert_null(a);
		check_reason(error);
		if (strstr(error, c->error) == NULL)
			fail_msg("case %zu \"%s\": \"%s\", expected \"%s\"", i, c->local, error, c->error);
	}
}

/* §2.8's last two rows come from the E.164 column: the parser's output is also checked by the
   dial rules, which reject what the parser lets through as text. */
static void test_dialrules_rejects(void **state)
{
	static const char *const locals[] = {"5551234", "+999", "12345678901234567890"};
	for (size_t i = 0; i < G_N_ELEMENTS(locals); i++) {
		struct fax_address *a = NULL;
		const char *error = NULL;
		assert_int_equal(fax_address_parse(NULL, locals[i], "fax.example.com", &a, &error), 0);
		struct dial_number num;
		if (strcmp(locals[i], "5551234") == 0) {
			/* 7 digits: the area code is added */
			assert_int_equal(dialrules_normalize(us, a->number, &num, &error), 0);
			assert_string_equal(num.e164, "+12125551234");
		} else {
			assert_int_equal(dialrules_normalize(us, a->number, &num, &error), -1);
			check_reason(error);
		}
		fax_address_free(&a);
	}
}

static void test_unknown_options(void **state)
{
	static const struct {
		const char *local, *ignored;
	} cases[] = {
	    {"5551234567/foo=bar", "foo"},
	    {"5551234567^XYZ^COMPANY=A", "xyz"},
	    {"5551234567^XYZ^xyz=1^Abc", "xyz,abc"},
	    {"FAX=+15551234567/Colour=yes/T33S=1", "colour"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct fax_address_settings set;
		fax_address_settings_default(&set);
		struct fax_address *a = NULL;
		const char *error = NULL;
		/* lenient (the default) */
		assert_int_equal(fax_address_parse(&set, cases[i].local, "gw", &a, &error), 0);
		assert_non_null(fax_address_ignored(a));
		assert_string_equal(fax_address_ignored(a), cases[i].ignored);
		fax_address_free(&a);
		assert_int_equal(fax_address_parse(NULL, cases[i].local, "gw", &a, &error), 0);
		fax_address_free(&a);
		/* strict */
		set.strict = true;
		assert_int_equal(fax_address_parse(&set, cases[i].local, "gw", &a, &error), -1);
		assert_null(a);
		assert_non_null(strstr(error, "unknown address option"));
	}
}

static void test_settings(void **state)
{
	static const char *const types[] = {"FAX", "MSFAX", NULL};
	static const char *const domains[] = {"FaxGate", NULL};
	struct fax_address_settings set;
	fax_address_settings_default(&set);
	assert_string_equal(set.imcea_types[0], "FAX");
	assert_null(set.imcea_types[1]);
	assert_false(set.strict);
	set.imcea_types = types;
	set.notes_domains = domains;
	struct fax_address *a = NULL;
	const char *error = NULL;
	assert_int_equal(fax_address_parse(&set, "IMCEAMSFAX-Bob+405551234567", "gw", &a, &error), 0);
	assert_string_equal(a->name, "Bob");
	fax_address_free(&a);
	assert_int_equal(fax_address_parse(&set, "Bob%5551234567%faxgate", "gw", &a, &error), 0);
	assert_string_equal(a->form, "notes");
	fax_address_free(&a);
	/* FAX is no longer a Notes domain here */
	assert_int_equal(fax_address_parse(&set, "Bob%5551234567%FAX", "gw", &a, &error), -1);
	/* no lists at all */
	set.imcea_types = NULL;
	set.notes_domains = NULL;
	assert_int_equal(fax_address_parse(&set, "IMCEAFAX-5551234567", "gw", &a, &error), -1);
	assert_non_null(strstr(error, "IMCEAFAX addresses are not fax addresses"));
	assert_int_equal(fax_address_parse(&set, "5551234567%FAX", "gw", &a, &error), -1);
}

static void test_limits(void **state)
{
	struct fax_address *a = NULL;
	const char *error = NULL;
	/* FAX_ADDRESS_MAX_LOCAL: 512 accepted, 513 not */
	GString *s = g_string_new("IMCEAFAX-");
	while (s->len < FAX_ADDRESS_MAX_LOCAL - 11)
		g_string_append(s, "A");
	g_string_append(s, "+4055512345");
	assert_int_equal(s->len, FAX_ADDRESS_MAX_LOCAL);
	assert_int_equal(fax_address_parse(NULL, s->str, "gw", &a, &error), 0);
	assert_string_equal(a->number, "55512345");
	fax_address_free(&a);
	g_string_prepend(s, "x");
	assert_int_equal(fax_address_parse(NULL, s->str, "gw", &a, &error), -1);
	assert_non_null(strstr(error, "longer than 512"));
	g_string_free(s, TRUE);
	/* a long number */
	char num[200];
	memset(num, '5', sizeof(num) - 1);
	num[sizeof(num) - 1] = '\0';
	assert_int_equal(fax_address_parse(NULL, num, "gw", &a, &error), -1);
	assert_non_null(strstr(error, "longer than 128"));
	/* a long value */
	g_autofree char *longname = g_strdup_printf("5551234567/to=%0300d", 0);
	assert_int_equal(fax_address_parse(NULL, longname, "gw", &a, &error), -1);
	assert_non_null(strstr(error, "longer than 256"));
	/* missing parts */
	assert_int_equal(fax_address_parse(NULL, "5551234567", NULL, &a, &error), -1);
	assert_non_null(strstr(error, "no domain"));
	assert_int_equal(fax_address_parse(NULL, "5551234567", "", &a, &error), -1);
	assert_int_equal(fax_address_parse(NULL, NULL, "gw", &a, &error), -1);
	assert_int_equal(fax_address_parse(NULL, "", "gw", &a, &error), -1);
	assert_null(a);
	fax_address_free(&a); /* NULL is fine */
	/* many ignored keys: the note stays bounded */
	GString *many = g_string_new("5551234567");
	for (int i = 0; i < 60; i++)
		g_string_append_printf(many, "^k%d", i);
	assert_int_equal(fax_address_parse(NULL, many->str, "gw", &a, &error), 0);
	assert_true(strlen(fax_address_ignored(a)) < 300);
	fax_address_free(&a);
	g_string_free(many, TRUE);
}

/* Free-standing text fields are cleaned: control characters from %-escapes become spaces. */
static void test_cleaning(void **state)
{
	struct fax_address *a = NULL;
	const char *error = NULL;
	assert_int_equal(fax_address_parse(NULL, "5551234567/to=A%0D%0AB/co=%C3%28x", "gw", &a, &error), 0);
	assert_string_equal(a->name, "A  B");
	assert_true(g_utf8_validate(a->company, -1, NULL));
	fax_address_free(&a);
	assert_int_equal(fax_address_parse(NULL, "IMCEAFAX-A+0AB+00C+405551234567", "gw", &a, &error), 0);
	assert_string_equal(a->name, "A BC");
	fax_address_free(&a);
}

static void feed_prefixes(const char *local)
{
	size_t len = strlen(local);
	for (size_t n = 0; n <= len; n++) {
		g_autofree char *prefix = g_strndup(local, n);
		struct fax_address_settings set;
		fax_address_settings_default(&set);
		for (int strict = 0; strict < 2; strict++) {
			set.strict = strict;
			struct fax_address *a = NULL;
			const char *error = NULL;
			int ret = fax_address_parse(&set, prefix, "fax.example.com", &a, &error);
			if (ret == 0) {
				assert_non_null(a);
				assert_non_null(a->number);
				assert_non_null(a->form);
				assert_true(a->number[0] != '\0');
				fax_address_free(&a);
			} else {
				assert_int_equal(ret, -1);
				assert_null(a);
				check_reason(error);
			}
		}
	}
}

static void test_prefixes(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
		feed_prefixes(good[i].local);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		feed_prefixes(bad[i].local);
}

int main(void)
{
	/* A GLib critical or warning is a bug here (a NULL passed on, a bad conversion). */
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_dialrules_rejects),
	    cmocka_unit_test(test_unknown_options),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_cleaning),
	    cmocka_unit_test(test_prefixes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
