/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fax recipient addresses: the local part of RCPT TO -> number as written, recipient name and
 * company, per-recipient options. Pure parser, no I/O. Forms: RFC 3191/3192 (FAX=, /T33S=),
 * RFC 2846 (ISUB, POSTD), keyed /key=value (eFax, RightFax, Cisco, FaxFinder), caret flags
 * (FaxBack), name fields (Faximum), name.number, plain numbers, Exchange IMCEA (MS-OXCMAIL
 * §2.2.3.1.2) carrying MAPI FAX addresses, Notes/Domino foreign domains (name%number%FAX), and
 * RFC 5321 quoted local parts. docs/addressing.md is the user reference.
 */
#ifndef SMTPGW_FAX_ADDRESS_H
#define SMTPGW_FAX_ADDRESS_H

#include <glib.h>
#include <stdbool.h>

/* Octets of a local part we read (IMCEA addresses exceed RFC 5321's 64). */
#define FAX_ADDRESS_MAX_LOCAL 512
/* Name fields of the keyed/named forms: name, company, cover custom 1 and 2 (Faximum has 4). */
#define FAX_ADDRESS_MAX_NAME_FIELDS 4
/* Characters of the number as written (dialrules reads at most DIALRULES_TEXT_MAX). */
#define FAX_ADDRESS_MAX_NUMBER 128

/* A parsed address. Every string is owned by the struct (fax_address_free); NULL = not given.
   Text values are UTF-8 (invalid bytes are replaced), control characters removed. */
struct fax_address {
	char *number;	    /* the number as written, separators kept, before dial rules
			       ("+1-555-123-4567", "5551234567", "+1 (555) 123-4567") */
	char *name;	    /* recipient name (name=, to=, 1st name field, Notes/IMCEA name part) */
	char *company;	    /* co=, company=, 2nd name field */
	char *from;	    /* fr= (sender name for the cover page) */
	char *cover;	    /* "yes", "no" or a template name (cover=, cp=, cover-page-enabled=,
			       NOCOVER, template=) */
	char *resolution;   /* "standard", "fine" or "superfine" (STANDARD, COARSE, FINE, res=) */
	char *paper;	    /* "a4", "letter" or "legal" */
	char *t33s;	    /* T.33 subaddress digits (/T33S=, sub=; MAPI "|#546") */
	char *isub, *postd; /* RFC 2846 ISDN subaddress, post-dial string (percent-decoded) */
	char *billing;	    /* billing= */
	int priority;	    /* -1 unset, else 0..9, 9 highest: low=2 normal=5 high=8; FaxFinder
			       FAX-PRIORITY 0..5 (0 highest) maps to 9,7,5,4,2,0 */
	int retries;	    /* -1 unset, else 0..FAX_ADDRESS_MAX_RETRIES */
	char *comments;	    /* inline-comments: "yes" (body -> cover comments) or "no" */
	GPtrArray *custom;  /* char *: name fields beyond the 2nd (cover custom 1, 2); never NULL */
	bool admin_options; /* port= or noprefix given: honour only for trusted submitters */
	char *port;	    /* port= (a line name) */
	bool noprefix;	    /* NOPREFIX: dial without the outside-line prefix */
	/* The form recognised: "rfc3192", "keyed", "caret", "named", "plain", "imcea", "notes",
	   "quoted-mapi" (static storage). */
	const char *form;
};

#define FAX_ADDRESS_MAX_RETRIES 20

/* Borrowed by fax_address_parse(). */
struct fax_address_settings {
	const char *const *imcea_types;	  /* address types after IMCEA, default {"FAX", NULL};
					     matched case-insensitively */
	const char *const *notes_domains; /* Notes foreign domains, default {"FAX", "ExtraFax",
					     "RightFax", NULL}; case-insensitive */
	bool strict;			  /* unknown option keys: reject (true) or ignore and note
					     them (false, default) */
};

/* A name token (cover template, line): 1..max of [A-Za-z0-9._-], not starting with a dot. */
bool fax_address_is_token(const char *s, size_t max);

void fax_address_settings_default(struct fax_address_settings *set);

/* Parse local@domain (the domain is only checked to be present: the session matched it).
   local may be the raw RFC 5321 quoted form ("\"John Doe@+1 (555) 123-4567\"") or already
   unquoted; both are accepted. set NULL = defaults.
   0 ok and *address_r (free with fax_address_free); -1 and *error_r a reason a user can act on
   (printable ASCII, thread-local storage valid until this thread's next fax_address_parse()),
   meant for "550 5.1.3 <reason>". */
int fax_address_parse(const struct fax_address_settings *set, const char *local, const char *domain,
		      struct fax_address **address_r, const char **error_r);
/* Accepts NULL and clears *addressp. */
void fax_address_free(struct fax_address **addressp);

/* Unknown option keys ignored in lenient mode ("key1,key2", printable, for the log) or NULL;
   owned by address. */
const char *fax_address_ignored(const struct fax_address *address);

#endif
