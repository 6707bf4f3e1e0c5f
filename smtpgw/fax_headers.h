/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * X-Fax-* job-control headers: one header at a time -> validated, normalised job settings
 * (field -> value), with the trust rules of docs/x-fax-headers.md; and the precedence merge of
 * admin caps, address options, headers, sender profile and defaults. Pure, no I/O.
 * Standards: RFC 5322 (unstructured values, address lists), RFC 2047 (encoded-words in text),
 * RFC 3339 (times), RFC 3966 (tel: URIs), RFC 3461 (NOTIFY words), ITU-T T.30 (TSI, 20 chars),
 * Importance:/X-Priority: (RFC 2156, common MUA practice).
 */
#ifndef SMTPGW_FAX_HEADERS_H
#define SMTPGW_FAX_HEADERS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct fax_address;

/* Limits. */
#define FAX_HEADERS_MAX_VALUE 4096	      /* octets of one raw header value */
#define FAX_HEADERS_MAX_NUMBERS 50	      /* X-Fax-Number entries, all headers together */
#define FAX_HEADERS_MAX_INDEX 100	      /* X-Fax-Recipient-Name-N: N in 1..100 */
#define FAX_HEADERS_MAX_SCHEDULE (90 * 86400) /* X-Fax-Send-At / X-Fax-Expires: at most 90 days ahead */
#define FAX_HEADERS_HEADER_LINE_MAX 50	      /* T.30 page header (spandsp T30_MAX_PAGE_HEADER_INFO) */
#define FAX_HEADERS_IDENT_MAX 20	      /* T.30 TSI */

/* The value type of a header the schema knows. */
enum fax_header_type {
	FAX_HDR_TEXT,		 /* human text, RFC 2047 decoded, UTF-8, <= max characters */
	FAX_HDR_NUMBER,		 /* gstn-number or tel: URI; repeatable, also comma-separated */
	FAX_HDR_ENUM,		 /* one of choices ("a|b|c"), case-insensitive, lower-cased */
	FAX_HDR_BOOL,		 /* yes/no true/false on/off 1/0 -> "yes"/"no" */
	FAX_HDR_INT,		 /* decimal in [min, max] */
	FAX_HDR_TIME,		 /* RFC 3339, or "yyyy-mm-dd hh:mm[:ss]" in the local zone -> Unix seconds */
	FAX_HDR_TIME_OR_SECONDS, /* a time as above, or seconds from now -> Unix seconds */
	FAX_HDR_PRIORITY,	 /* 0-9 or low/normal/high -> "0".."9" */
	FAX_HDR_IDENT,		 /* <= 20 printable ASCII (T.30 TSI) */
	FAX_HDR_HEADER_LINE,	 /* template, <= 50 printable ASCII after expansion, or "none" */
	FAX_HDR_LIST,		 /* comma list of printable items -> "a,b,c" */
	FAX_HDR_ADDRESS_LIST,	 /* RFC 5322 address list -> "a@x,b@y" (bare addresses) */
	/* added beyond the first design: */
	FAX_HDR_DURATION, /* seconds, or a number with s/m/h/d, in [min, max] -> seconds */
	FAX_HDR_COVER,	  /* none/no/off/false/0 -> "none", default/yes/on/true/1 -> "default",
			     else a template name [A-Za-z0-9._-], not starting with '.' */
	FAX_HDR_NOTIFY,	  /* never|failure|success|always [+delay], or RFC 3461 words
			     "success,failure,delay" -> "always+delay" */
	FAX_HDR_OPAQUE,	  /* printable ASCII token, <= max characters, kept as is (no decoding) */
	FAX_HDR_E164,	  /* one number starting with '+' (or tel:+...) -> "+digits" */
	FAX_HDR_TOKEN,	  /* [A-Za-z0-9._-], 1..max characters (a line name) */
};

/* One X-Fax-* header the schema knows: name, value type, and where it goes. */
struct fax_header_def {
	const char *name; /* "X-Fax-Resolution" */
	enum fax_header_type type;
	const char *choices; /* FAX_HDR_ENUM: "standard|fine|superfine" */
	const char *field;   /* the settings field: "resolution" */
	bool admin_only;     /* honoured only when admin (X-Fax-Port) */
	bool trusted_only;   /* honoured only when trusted (X-Fax-TSI) */
	/* added beyond the first design: */
	int64_t min, max; /* INT/DURATION range; TEXT/OPAQUE/LIST: max characters (items for LIST) */
	bool indexed;	  /* also X-Fax-<Name>-N for the Nth RCPT TO -> field "name#N" */
};

/* The whole schema (research §3.2, plus X-Fax-Idempotency-Key), ended by an entry with name NULL. */
extern const struct fax_header_def fax_header_defs[];

/* The definition of a header name (case-insensitive; an indexed "X-Fax-Recipient-Name-2" finds
   X-Fax-Recipient-Name and sets *index_r = 2, else *index_r = 0); NULL if unknown. index_r may
   be NULL. */
const struct fax_header_def *fax_header_def_find(const char *name, int *index_r);

struct fax_headers;

struct fax_headers *fax_headers_create(void);
/* Accepts NULL and clears *hp. */
void fax_headers_free(struct fax_headers **hp);
/* The zone of zone-less times ("2025-06-25 15:30"): an IANA name ("Europe/Berlin"); NULL or
   unknown = UTC (the default). */
void fax_headers_set_timezone(struct fax_headers *h, const char *tzid);

/* Add one header as it appeared (name case-insensitive, value raw: unfolded or not, RFC 2047
   encoded-words allowed for text). Not an X-Fax-* header, or an unknown X-Fax-*: returns 0 and
   is ignored (unknown X-Fax-* noted for the log). A bad value: -1 and *error_r, e.g.
   "X-Fax-Resolution: expected standard, fine or superfine" (printable ASCII, thread-local,
   valid until this thread's next fax_headers_* call), meant for "550 5.6.0" at the end of DATA.
   trusted=false: trusted_only headers are ignored (noted) and a priority above normal is
   lowered to normal (noted); admin_only ones are ignored (noted) unless admin=true.
   now = the current Unix time. Importance: and X-Priority: give the priority when no
   X-Fax-Priority is present (in any order; X-Priority beats Importance; bad values ignored).
   A header given twice with different values is an error (X-Fax-Number and lists add up). */
int fax_headers_add(struct fax_headers *h, const char *name, const char *value, bool trusted, bool admin,
		    int64_t now, const char **error_r);

/* The settings: field -> normalised value, both owned by h (valid until the next add or free).
   Fields (docs/x-fax-headers.md): numbers, recipient_name, recipient_company, recipient_voice
   (and "<field>#N" for indexed headers), sender_name, sender_company, sender_department,
   sender_phone, sender_fax, sender_email, sender_address, resolution, paper, image_conversion,
   retries, retry_interval, send_at, expires_at, economy, priority, cover, cover_subject,
   cover_note, body, cover_custom_1..9, header_line, tsi, caller_id, billing_code,
   billing_code_2, client_ref, tags, notify, notify_to, notify_format, notify_attach,
   security_code, suppress_blank_pages, line, no_prefix, max_speed, attach_library,
   idempotency_key. */
GHashTable *fax_headers_fields(const struct fax_headers *h);
/* Header names ignored: "X-Fax-Port,X-Fax-Foo" (unknown, untrusted, capped), or NULL; owned by h. */
const char *fax_headers_ignored(const struct fax_headers *h);

/* Merge by the precedence of research §3.1, highest first: admin caps (caps) -> address
   options (addr, this recipient's) -> headers -> sender profile (profile) -> domain/system
   defaults (defaults). Any argument may be NULL. Tables map field -> value (strings).
   Caps: "priority", "retries" and "max_speed" are ceilings (the lower of the cap and the merged
   value; no value is added when no level sets one); any other cap replaces the value; a cap
   of "" removes the field (forbids it).
   Address options map to: number -> "number", name -> recipient_name, company ->
   recipient_company, from -> sender_name, cover yes/no/template -> cover default/none/template,
   resolution, paper, t33s -> subaddress, isub, postd -> postdial, billing -> billing_code,
   priority, retries, comments yes/no -> body cover/page, custom[0..1] -> cover_custom_1..2,
   port -> line, noprefix -> no_prefix "yes" (the caller decides at RCPT whether a submitter may
   use admin options: address->admin_options).
   rcpt_index: 1-based RCPT TO position of this recipient; an indexed "field#N" with N ==
   rcpt_index beats the unindexed "field" of the same table; other indexed fields are dropped.
   0 = drop all indexed fields. Returns a new table (g_hash_table_unref). */
GHashTable *fax_headers_merge(GHashTable *caps, const struct fax_address *addr, GHashTable *headers,
			      GHashTable *profile, GHashTable *defaults, int rcpt_index);

/* Expand a header-line template (docs/x-fax-headers.md: %d %m %Y %y %H %M day, month, year,
   2-digit year, hour, minute of when (in tzid, NULL = UTC); %n the destination number; %%).
   Returns a new string of at most FAX_HEADERS_HEADER_LINE_MAX characters (g_free), or NULL for
   "none" or an invalid template. */
char *fax_headers_header_line_expand(const char *tmpl, int64_t when, const char *tzid, const char *number);

#endif
