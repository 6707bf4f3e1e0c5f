/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Dial rules: a fax number as a user wrote it -> E.164 number, dial string and class, and whether
 * it may be dialled (ITU-T E.164, E.123, RFC 3966 visual separators, ITU-T T.33 subaddress).
 * docs/dialing.md describes the rules for users and administrators.
 */
#ifndef COMMON_DIALRULES_H
#define COMMON_DIALRULES_H

struct config;

enum dial_class {
	DIAL_CLASS_INTERNAL,	  /* an extension of our own PBX */
	DIAL_CLASS_LOCAL,	  /* same country, same area code */
	DIAL_CLASS_NATIONAL,	  /* same country */
	DIAL_CLASS_INTERNATIONAL, /* another country */
	DIAL_CLASS_PREMIUM,	  /* matches a premium prefix (checked before the others) */
};
#define DIAL_CLASS_COUNT (DIAL_CLASS_PREMIUM + 1)

/* Limits (digits unless said otherwise). */
#define DIALRULES_E164_MAX_DIGITS 15 /* ITU-T E.164 */
#define DIALRULES_TEXT_MAX 128	     /* characters of a number as written, subaddress included */
#define DIALRULES_SUBADDRESS_MAX 20  /* ITU-T T.30 SUB frame */
#define DIALRULES_POSTDIAL_MAX 40    /* RFC 2846 POSTD, after dropping separators */
#define DIALRULES_OUTSIDE_PREFIX_MAX 16
#define DIALRULES_INTERNATIONAL_PREFIX_MAX 6
#define DIALRULES_NATIONAL_PREFIX_MAX 4
#define DIALRULES_AREA_CODE_MAX 8
#define DIALRULES_INTERNAL_DIGITS_MAX 8

/* Borrowed by dialrules_create(), which copies what it keeps. NULL strings read as "" and NULL
   lists as empty, except classes: NULL = every class but premium. An int of 0 means: no
   internal extensions, an open numbering plan (national_digits), no minimum (min_digits),
   DIALRULES_E164_MAX_DIGITS (max_digits). */
struct dialrules_settings {
	const char *country_code;	  /* "1" */
	const char *area_code;		  /* "212"; "" = none */
	const char *national_prefix;	  /* trunk prefix: "1" NANP, "0" most of Europe, "" none */
	const char *international_prefix; /* "011" NANP, "00" elsewhere */
	const char *outside_prefix;	  /* "" or e.g. "9": dialled first for an outside line */
	int internal_digits;		  /* length of internal extensions, 0 = none */
	int min_digits, max_digits;	  /* digits of a number as written / of an E.164 number (<=15) */
	const char *const *allow;	  /* NULL-terminated E.164 prefixes ("+1212"), always allowed */
	const char *const *deny;	  /* never dialled */
	const char *const *premium;	  /* prefixes of the premium/special class */
	const char *const *classes;	  /* class names allowed by default ("internal","local",...) */
	/* Digits after the country code in a closed numbering plan (10 in NANP), 0 = open plan
	   (lengths vary, as in Germany). A closed plan tells "5551234567" (area code included)
	   from "1234567" (area code to add) by length. */
	int national_digits;
};

struct dial_number {
	char e164[17]; /* "+15551234567"; for internal extensions the extension digits */
	char dial[80]; /* what the line dials: outside prefix + national/international form, then post-dial */
	char subaddress[21]; /* T.33 subaddress digits, "" if none */
	char postdial[41];   /* post-dial DTMF (digits * # A-D p w ,), "" if none */
	enum dial_class dial_class;
};

struct dialrules;

/* 0 when the settings make sense, else -1 and *error_r (static) names the setting at fault. */
int dialrules_settings_check(const struct dialrules_settings *set, const char **error_r);
/* NULL when the settings are invalid (dialrules_settings_check() tells why). */
struct dialrules *dialrules_create(const struct dialrules_settings *set);
/* Reads group [dial]; NULL when its values are invalid, so check the result (or call
   dialrules_config_check() first, which tells why). */
struct dialrules *dialrules_from_config(const struct config *config);
/* 0 when group [dial] makes valid rules, else -1 and *error_r (static) names the key at fault. */
int dialrules_config_check(const struct config *config, const char **error_r);
/* Accepts NULL, clears *rulesp. */
void dialrules_free(struct dialrules **rulesp);

/* Read a number as written ("+1 (555) 123-4567", "030 1234567", "4711", "5551234567#6377").
   0 ok and *number_r filled; -1 with *error_r a reason a user can act on and *number_r zeroed.
   Error strings are static storage of this thread, valid until its next dialrules_* call.
   Safe for concurrent use of one rules from several threads. */
int dialrules_normalize(const struct dialrules *rules, const char *text, struct dial_number *number_r,
			const char **error_r);
/* Whether this number may be dialled by someone allowed `classes` (NULL = the configured default
   classes; unknown names are ignored). The deny list always wins, then the allow list, then the
   class. 0 ok, -1 + reason (as for dialrules_normalize()). */
int dialrules_permit(const struct dialrules *rules, const struct dial_number *number,
		     const char *const *classes, const char **error_r);

/* Set (or replace) the T.33 subaddress, e.g. from an address's /T33S= option: 1 to 20 digits,
   '-' and '.' ignored; NULL or "" clears it. 0 ok, -1 + reason (number unchanged). */
int dialrules_set_subaddress(struct dial_number *number, const char *subaddress, const char **error_r);
/* Set (or replace) the post-dial string, e.g. from an address's /POSTD= option (RFC 2846
   phone-string): DTMF 0-9 * # A-D, pause 'p' or ',', wait for tone 'w', in any case; '-' and '.'
   ignored; at most 40; NULL or "" clears it. It also ends number->dial. 0 ok, -1 + reason
   (number unchanged). */
int dialrules_set_postdial(struct dial_number *number, const char *postdial, const char **error_r);

/* "internal", "local", "national", "international", "premium"; "unknown" for other values. */
const char *dial_class_name(enum dial_class c);
/* Case-insensitive; 0 ok, -1 for an unknown name. */
int dial_class_parse(const char *name, enum dial_class *class_r);

#endif
