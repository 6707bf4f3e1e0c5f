/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SMTP/LMTP server protocol core: bytes from the client in, replies (bytes to send) and events
 * out through callbacks. No I/O, no clocks, no store: the session layer (smtpgw/server.c) owns
 * those. Grammar, state machine, limits and every reply code: docs/smtp.md.
 *
 * Threading: one object per connection, used from one thread. Callbacks must not call
 * smtp_proto_input() or smtp_proto_free() on the same object (input() returns -1 if re-entered);
 * they may call smtp_proto_tls_started() from the starttls callback.
 */
#ifndef SMTPGW_SMTP_PROTO_H
#define SMTPGW_SMTP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults of struct smtp_proto_settings; 0 in a settings field means its default. */
#define SMTP_PROTO_DEFAULT_MAX_LINE 2048		/* command line, CRLF included */
#define SMTP_PROTO_DEFAULT_MAX_DATA_LINE 1000		/* RFC 5321 4.5.3.1.6; only flagged */
#define SMTP_PROTO_DEFAULT_MAX_MESSAGE_SIZE (25u << 20) /* 25 MiB, after dot-unstuffing */
#define SMTP_PROTO_DEFAULT_MAX_RECIPIENTS 100
#define SMTP_PROTO_DEFAULT_MAX_ERRORS 10
/* Bounds a max_line setting is clamped to (RFC 5321 4.5.3.1.4 asks for at least 512). */
#define SMTP_PROTO_MIN_MAX_LINE 512
#define SMTP_PROTO_MAX_MAX_LINE 65536
/* RFC 5321 4.5.3.1.1/2 ask for 64 and 255; fax addresses need a longer local part. */
#define SMTP_PROTO_MAX_LOCAL_PART 512
#define SMTP_PROTO_MAX_DOMAIN 255
/* Message bytes are handed to data_chunk in pieces of exactly this size (the last one shorter),
   however the input was split. */
#define SMTP_PROTO_DATA_CHUNK 8192

struct smtp_proto;

struct smtp_proto_settings {
	const char *hostname;	   /* in the greeting and EHLO reply; copied; NULL = "localhost" */
	bool lmtp;		   /* RFC 2033: LHLO, per-recipient replies after DATA */
	size_t max_line;	   /* default SMTP_PROTO_DEFAULT_MAX_LINE 2048, clamped to 512..65536 */
	uint64_t max_message_size; /* SIZE; default 25 MiB */
	int max_recipients;	   /* default 100 */
	int max_errors;		   /* default 10 */
	bool tls_available;	   /* offer STARTTLS (when not active) */
	bool tls_active;	   /* this connection is TLS now */
	bool auth_enabled;	   /* offer AUTH PLAIN LOGIN */
	bool auth_plaintext;	   /* allow AUTH without TLS */
	bool auth_required;	   /* MAIL needs a successful AUTH (else 530 5.7.0) */
	size_t max_data_line;	   /* DATA lines longer than this (CRLF included) are accepted but
				      flagged in smtp_proto_data_info(); default 1000 */
};
void smtp_proto_settings_default(struct smtp_proto_settings *set);

enum smtp_proto_dsn_ret { SMTP_DSN_RET_UNSET, SMTP_DSN_RET_FULL, SMTP_DSN_RET_HDRS };

/* A reverse-path or forward-path. All strings are borrowed, valid during the callback only.
   raw: everything between < and > as sent (source route included);
   local: the local part, unquoted (quoted-pairs resolved); local_raw: the local part as sent
   (quotes included); domain: the domain or address literal (with its brackets) after the last
   route, "" for <Postmaster> (RCPT only) and for the null path <> (MAIL only, null_path set). */
struct smtp_path {
	const char *raw;
	const char *local;
	const char *domain;
	bool null_path;
	const char *local_raw;
};

struct smtp_mail {
	struct smtp_path from;
	uint64_t size;		     /* SIZE= as declared (already <= max_message_size); 0 if absent */
	bool body_8bit;		     /* BODY=8BITMIME */
	enum smtp_proto_dsn_ret ret; /* RET= */
	const char *envid;	     /* ENVID=, xtext-decoded; NULL if absent */
};

struct smtp_rcpt {
	struct smtp_path to;
	unsigned notify;	/* SMTP_DSN_NOTIFY_* bits; 0 if NOTIFY= absent */
	const char *orcpt;	/* ORCPT= address, xtext-decoded; NULL if absent */
	int index;		/* 0-based: the index this recipient gets among the accepted ones (the
				   replies[] slot in LMTP data_end) if the callback accepts it */
	const char *orcpt_type; /* ORCPT= addr-type ("rfc822"); NULL if absent */
};
#define SMTP_DSN_NOTIFY_NEVER 1u
#define SMTP_DSN_NOTIFY_SUCCESS 2u
#define SMTP_DSN_NOTIFY_FAILURE 4u
#define SMTP_DSN_NOTIFY_DELAY 8u

/* A reply the callbacks choose: code 0 = the core's default success reply. text is the
   enhanced code and text after the number, e.g. "5.1.3 Bad fax number: letters are not allowed";
   multi-line when it contains '\n'. The core copies it.
   The core sanitises what it is given: a refusal (-1) whose code is not 4xx/5xx becomes
   "451 4.3.0 Internal error"; an acceptance (0) whose code is not of the success class gets the
   default reply; a line without an enhanced code of the reply's class gets one (the first line's,
   or X.0.0); control bytes become '?'; lines are cut to fit RFC 5321's 512 octets. */
struct smtp_reply {
	int code;
	char text[512];
};

/* What the core measured of the last message: valid in data_end and until the next DATA. */
struct smtp_data_info {
	uint64_t size;	     /* octets after dot-unstuffing, the final "." line excluded */
	size_t longest_line; /* longest line as sent, CRLF included */
	bool long_lines;     /* some line was longer than max_data_line */
	bool eight_bit;	     /* some octet >= 0x80 (whatever BODY= said) */
	bool bare_cr;	     /* some CR not followed by LF (passed through) */
};

struct smtp_proto_callbacks {
	/* bytes to send to the client (replies); the session writes them out in order.
	   One call per complete reply (all lines of a multi-line reply). */
	void (*output)(void *ctx, const char *data, size_t len);
	/* EHLO/HELO/LHLO accepted: the client's name */
	void (*helo)(void *ctx, const char *name);
	/* AUTH finished: check the credentials; return 0 ok (235 2.7.0), or fill reply (e.g. 535 5.7.8)
	   and return -1. authzid is "" when none was given (always for LOGIN). */
	int (*auth)(void *ctx, const char *mechanism, const char *authzid, const char *user,
		    const char *password, struct smtp_reply *reply);
	int (*mail)(void *ctx, const struct smtp_mail *mail,
		    struct smtp_reply *reply); /* 0 accept, -1 reply set */
	int (*rcpt)(void *ctx, const struct smtp_rcpt *rcpt,
		    struct smtp_reply *reply); /* 0 accept, -1 reply set */
	/* DATA accepted (354 follows unless -1 with reply) */
	int (*data_begin)(void *ctx, struct smtp_reply *reply);
	/* message bytes as they arrive, dot-unstuffed, lines ending CRLF, the final "." line excluded.
	   Return -1 to fail the message (e.g. spool write error): the core keeps reading to the end and
	   then asks data_end with failed=true. No more chunks after -1, nor once the message is too
	   big or has a bare LF. */
	int (*data_chunk)(void *ctx, const char *data, size_t len);
	/* end of DATA: fill replies[0] (SMTP) or replies[i] per accepted recipient i (LMTP), n = count.
	   too_big / bare_lf / failed tell what the core saw (the core already set the replies for
	   too_big (552 5.3.4), bare_lf (550 5.6.0) and failed (451 4.3.0)). When any of the three is
	   set, a 2xx or 0 left in a reply is put back to the core's refusal: an incomplete or invalid
	   message is never acknowledged. Otherwise a reply left at code 0 means "250 2.0.0 Ok" —
	   leave it only once the message is committed. Details: smtp_proto_data_info(). */
	void (*data_end)(void *ctx, bool too_big, bool bare_lf, bool failed, struct smtp_reply *replies,
			 int n);
	/* transaction reset: on RSET (always), and when an accepted MAIL transaction (finished by
	   DATA or not) is dropped by a new MAIL, EHLO/HELO/LHLO or STARTTLS. */
	void (*rset)(void *ctx);
	/* after "220 2.0.0 Ready to start TLS" was output: switch the socket to TLS, then call
	   smtp_proto_tls_started(). Input until then is discarded. */
	void (*starttls)(void *ctx);
	void (*quit)(void *ctx); /* after the 221 */
	void *ctx;
};

/* set and cb are copied; any callback may be NULL (output: replies dropped; auth: every
   login refused with 535 5.7.8; the others: accept). Allocates with GLib (aborts on OOM). */
struct smtp_proto *smtp_proto_create(const struct smtp_proto_settings *set,
				     const struct smtp_proto_callbacks *cb);
/* Accepts NULL, clears *protop. */
void smtp_proto_free(struct smtp_proto **protop);
/* Send the 220 greeting. Input fed before this (or smtp_proto_refuse()) is an early talker:
   554 5.5.0 and close. A second greeting is ignored. */
void smtp_proto_greet(struct smtp_proto *p);
/* 554 greeting ("554 <text>", NULL text: "<hostname> Service not available"); then QUIT gets 221
   and everything else 503 5.5.1 (RFC 5321 3.1). */
void smtp_proto_refuse(struct smtp_proto *p, const char *text);
/* Feed bytes from the client. Returns 1 to go on, 0 when the session must close (after QUIT,
   421, 554 early talker), -1 on a broken invariant (re-entered from a callback). Once 0 was
   returned, later calls return 0 and do nothing. */
int smtp_proto_input(struct smtp_proto *p, const char *data, size_t len);
/* TLS is active: back to the initial state, EHLO again. Ignored unless STARTTLS was accepted. */
void smtp_proto_tls_started(struct smtp_proto *p);
/* idle/session deadline: 421 4.4.2 and close (input() returns 0 from then on). No data_end is
   called for a message in progress: the session drops it. */
void smtp_proto_timeout(struct smtp_proto *p);
/* true once smtp_proto_input() returned 0 or the session timed out */
bool smtp_proto_closed(const struct smtp_proto *p);
bool smtp_proto_authenticated(const struct smtp_proto *p);
/* NULL when not authenticated; borrowed, valid until the object is freed */
const char *smtp_proto_auth_user(const struct smtp_proto *p);
/* borrowed; see struct smtp_data_info */
const struct smtp_data_info *smtp_proto_data_info(const struct smtp_proto *p);

#endif
