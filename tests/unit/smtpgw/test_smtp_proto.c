/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the SMTP/LMTP protocol core (smtpgw/smtp_proto.c; RFC 5321, 2033, 1870, 2920, 6152,
 * 2034/3463, 3207, 4954, 4616, 3461). Table-driven sessions: a script of client input (and
 * tls_started/timeout steps), the exact bytes the core must send and the exact events it must
 * raise. Every session runs fed whole, one byte at a time and in random-sized pieces (several
 * seeds), and all runs must give byte-identical output and the same events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpgw/smtp_proto.h"

/* ---- the scripted client and the recording session ---- */

enum step_op { STEP_END, STEP_IN, STEP_TLS, STEP_TIMEOUT };

struct step {
	enum step_op op;
	const char *data;
	size_t len; /* 0: strlen(data) */
};

/* Settings switches. */
#define F_NO_GREET 0x01u
#define F_REFUSE 0x02u
#define F_LMTP 0x04u
#define F_TLS_AVAILABLE 0x08u
#define F_TLS_ACTIVE 0x10u
#define F_AUTH 0x20u
#define F_AUTH_PLAINTEXT 0x40u
#define F_AUTH_REQUIRED 0x80u
#define F_DATA_BEGIN_REFUSE 0x100u
#define F_DATA_END_EMPTY 0x200u /* data_end leaves the replies alone */

#define MAX_STEPS 12

struct session_case {
	const char *name;
	unsigned flags;
	uint64_t max_size; /* 0: default */
	int max_rcpt;	   /* 0: default */
	int max_errors;	   /* 0: default */
	struct step steps[MAX_STEPS];
	const char *output; /* everything the core sends, greeting included */
	const char *events;
	int ret; /* what the last input() returned: 1 (default, given as 0 here) or 0 closed */
	bool closed;
};

struct recorder {
	unsigned flags;
	GString *out;
	GString *ev;
	struct smtp_proto *p;
};

static void ev_escaped(GString *ev, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			g_string_append(ev, "\\r");
		else if (c == '\n')
			g_string_append(ev, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			g_string_append_printf(ev, "\\x%02x", c);
		else
			g_string_append_c(ev, (char)c);
	}
}

static void rec_output(void *ctx, const char *data, size_t len)
{
	struct recorder *r = ctx;
	assert_true(len >= 6);
	assert_memory_equal(data + len - 2, "\r\n", 2);
	g_string_append_len(r->out, data, len);
}

static void rec_helo(void *ctx, const char *name)
{
	struct recorder *r = ctx;
	g_string_append_printf(r->ev, "helo %s\n", name);
}

static int rec_auth(void *ctx, const char *mech, const char *authzid, const char *user, const char *pass,
		    struct smtp_reply *reply)
{
	struct recorder *r = ctx;
	g_string_append_printf(r->ev, "auth %s [%s] [%s] [%s]\n", mech, authzid, user, pass);
	if (strcmp(user, "alice") == 0 && strcmp(pass, "secret") == 0)
		return 0;
	reply->code = 535;
	strcpy(reply->text, "5.7.8 Authentication credentials invalid");
	return -1;
}

static void ev_path(GString *ev, const struct smtp_path *p)
{
	g_string_append_printf(ev, "<%s> local=[%s] local_raw=[%s] domain=[%s]%s", p->raw, p->local,
			       p->local_raw, p->domain, p->null_path ? " null" : "");
}

static int rec_mail(void *ctx, const struct smtp_mail *m, struct smtp_reply *reply)
{
	struct recorder *r = ctx;
	g_string_append(r->ev, "mail ");
	ev_path(r->ev, &m->from);
	g_string_append_printf(r->ev, " size=%" G_GUINT64_FORMAT " 8bit=%d ret=%d envid=%s\n", m->size,
			       m->body_8bit, (int)m->ret, m->envid != NULL ? m->envid : "-");
	if (strcmp(m->from.local, "refuse") == 0) {
		reply->code = 550;
		strcpy(reply->text, "5.7.1 Sender refused");
		return -1;
	}
	if (strcmp(m->from.local, "custom") == 0) {
		reply->code = 250;
		strcpy(reply->text, "2.1.0 Sender custom ok");
	}
	return 0;
}

static int rec_rcpt(void *ctx, const struct smtp_rcpt *rc, struct smtp_reply *reply)
{
	struct recorder *r = ctx;
	g_string_append_printf(r->ev, "rcpt #%d ", rc->index);
	ev_path(r->ev, &rc->to);
	g_string_append_printf(r->ev, " notify=%u", rc->notify);
	if (rc->orcpt != NULL)
		g_string_append_printf(r->ev, " orcpt=%s;%s", rc->orcpt_type, rc->orcpt);
	g_string_append_c(r->ev, '\n');
	if (strncmp(rc->to.local, "bad", 3) == 0) {
		reply->code = 550;
		strcpy(reply->text, "5.1.3 Bad fax number: letters are not allowed");
		return -1;
	}
	if (strcmp(rc->to.local, "multi") == 0) {
		reply->code = 550;
		strcpy(reply->text, "5.1.1 First line\nsecond line\r\n5.1.2 third\tline\n");
		return -1;
	}
	if (strcmp(rc->to.local, "nocode") == 0) {
		reply->code = 0; /* a refusal without a code: internal error */
		return -1;
	}
	if (strcmp(rc->to.local, "temp") == 0) {
		reply->code = 451;
		strcpy(reply->text, "4.3.0 Store unavailable");
		return -1;
	}
	return 0;
}

static int rec_data_begin(void *ctx, struct smtp_reply *reply)
{
	struct recorder *r = ctx;
	g_string_append(r->ev, "data_begin\n");
	if (r->flags & F_DATA_BEGIN_REFUSE) {
		reply->code = 451;
		strcpy(reply->text, "4.3.0 Spool unavailable");
		return -1;
	}
	return 0;
}

static int rec_data_chunk(void *ctx, const char *data, size_t len)
{
	struct recorder *r = ctx;
	g_string_append_printf(r->ev, "chunk %zu [", len);
	ev_escaped(r->ev, data, MIN(len, (size_t)200));
	g_string_append(r->ev, len > 200 ? "...]\n" : "]\n");
	return g_strstr_len(data, (gssize)len, "FAILWRITE") != NULL ? -1 : 0;
}

static void rec_data_end(void *ctx, bool too_big, bool bare_lf, bool failed, struct smtp_reply *replies,
			 int n)
{
	struct recorder *r = ctx;
	const struct smtp_data_info *info = smtp_proto_data_info(r->p);
	g_string_append_printf(r->ev,
			       "data_end too_big=%d bare_lf=%d failed=%d n=%d size=%" G_GUINT64_FORMAT
			       " longest=%zu long=%d 8bit=%d bare_cr=%d\n",
			       too_big, bare_lf, failed, n, info->size, info->longest_line, info->long_lines,
			       info->eight_bit, info->bare_cr);
	if (r->flags & F_DATA_END_EMPTY)
		return;
	for (int i = 0; i < n; i++) {
		if (too_big || bare_lf || failed) {
			/* tries to acknowledge anyway: the core must put its refusal back */
			replies[i].code = 250;
			strcpy(replies[i].text, "2.0.0 Ok");
		} else if (i == 1) {
			replies[i].code = 452;
			strcpy(replies[i].text, "4.2.2 Fax queue full for this recipient");
		} else {
			replies[i].code = 250;
			g_snprintf(replies[i].text, sizeof(replies[i].text), "2.0.0 Ok: queued as J%d", i);
		}
	}
}

static void rec_rset(void *ctx)
{
	struct recorder *r = ctx;
	g_string_append(r->ev, "rset\n");
}

static void rec_starttls(void *ctx)
{
	struct recorder *r = ctx;
	g_string_append(r->ev, "starttls\n");
}

static void rec_quit(void *ctx)
{
	struct recorder *r = ctx;
	g_string_append(r->ev, "quit\n");
}

/* splitmix64: the same stream on every platform */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

enum feed_mode { FEED_WHOLE, FEED_BYTES, FEED_RANDOM };

static void settings_for(const struct session_case *c, struct smtp_proto_settings *set)
{
	smtp_proto_settings_default(set);
	set->hostname = "mx.example";
	set->lmtp = c->flags & F_LMTP;
	set->tls_available = c->flags & F_TLS_AVAILABLE;
	set->tls_active = c->flags & F_TLS_ACTIVE;
	set->auth_enabled = c->flags & F_AUTH;
	set->auth_plaintext = c->flags & F_AUTH_PLAINTEXT;
	set->auth_required = c->flags & F_AUTH_REQUIRED;
	if (c->max_size != 0)
		set->max_message_size = c->max_size;
	if (c->max_rcpt != 0)
		set->max_recipients = c->max_rcpt;
	if (c->max_errors != 0)
		set->max_errors = c->max_errors;
}

/* Run one session in one feeding mode; returns what the last input() returned. */
static int run_session(const struct session_case *c, enum feed_mode mode, uint64_t seed, struct recorder *r)
{
	struct smtp_proto_settings set;
	struct smtp_proto_callbacks cb = {
	    .output = rec_output,
	    .helo = rec_helo,
	    .auth = rec_auth,
	    .mail = rec_mail,
	    .rcpt = rec_rcpt,
	    .data_begin = rec_data_begin,
	    .data_chunk = rec_data_chunk,
	    .data_end = rec_data_end,
	    .rset = rec_rset,
	    .starttls = rec_starttls,
	    .quit = rec_quit,
	    .ctx = r,
	};
	int ret = 1;

	settings_for(c, &set);
	r->flags = c->flags;
	r->out = g_string_new(NULL);
	r->ev = g_string_new(NULL);
	r->p = smtp_proto_create(&set, &cb);
	if (c->flags & F_REFUSE)
		smtp_proto_refuse(r->p, "5.7.1 mx.example No service for you");
	else if (!(c->flags & F_NO_GREET))
		smtp_proto_greet(r->p);
	for (int s = 0; s < MAX_STEPS && c->steps[s].op != STEP_END; s++) {
		const struct step *st = &c->steps[s];
		if (st->op == STEP_TLS) {
			smtp_proto_tls_started(r->p);
			continue;
		}
		if (st->op == STEP_TIMEOUT) {
			smtp_proto_timeout(r->p);
			continue;
		}
		size_t len = st->len != 0 ? st->len : strlen(st->data);
		/* an exact-size heap copy per piece, so a read past its end is caught by ASan */
		for (size_t off = 0; off < len || (len == 0 && off == 0);) {
			size_t n = len - off;
			if (mode == FEED_BYTES)
				n = MIN(n, 1);
			else if (mode == FEED_RANDOM) {
				size_t k = 1 + (size_t)(rng_next(&seed) % 97); /* MIN() evaluates twice */
				n = MIN(n, k);
			}
			char *piece = g_memdup2(st->data + off, n);
			ret = smtp_proto_input(r->p, piece, n);
			g_free(piece);
			assert_true(ret == 0 || ret == 1);
			off += n;
			if (len == 0)
				break;
		}
	}
	if (smtp_proto_closed(r->p) != (ret == 0 || c->closed))
		print_error("%s: closed=%d ret=%d\n", c->name, smtp_proto_closed(r->p), ret);
	assert_int_equal(smtp_proto_closed(r->p), ret == 0 || c->closed);
	smtp_proto_free(&r->p);
	assert_null(r->p);
	return ret;
}

static void show_diff(const char *what, const char *name, const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return;
	GString *g = g_string_new(NULL), *w = g_string_new(NULL);
	ev_escaped(g, got, strlen(got));
	ev_escaped(w, want, strlen(want));
	print_error("%s: %s differs\n got: %s\nwant: %s\n", name, what, g->str, w->str);
	g_string_free(g, TRUE);
	g_string_free(w, TRUE);
}

static void check_session(const struct session_case *c)
{
	int want_ret = c->ret == 0 && !c->closed ? 1 : c->ret;
	if (c->closed)
		want_ret = 0;
	for (int mode = FEED_WHOLE; mode <= FEED_RANDOM; mode++) {
		int seeds = mode == FEED_RANDOM ? 5 : 1;
		for (int s = 0; s < seeds; s++) {
			struct recorder r = {0};
			int ret = run_session(c, (enum feed_mode)mode, 1000 + (uint64_t)s, &r);
			show_diff("output", c->name, r.out->str, c->output);
			show_diff("events", c->name, r.ev->str, c->events);
			assert_string_equal(r.out->str, c->output);
			assert_string_equal(r.ev->str, c->events);
			assert_int_equal(ret, want_ret);
			g_string_free(r.out, TRUE);
			g_string_free(r.ev, TRUE);
		}
	}
}

/* clang-format off */
/* ---- expected replies ---- */

#define GREETING "220 mx.example ESMTP faxgate\r\n"
#define EHLO_HEAD(size)                                                                                      \
	"250-mx.example\r\n250-PIPELINING\r\n250-SIZE " size "\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
#define EHLO_REPLY EHLO_HEAD("26214400") "250 DSN\r\n"
#define EHLO_REPLY_TLS EHLO_HEAD("26214400") "250-STARTTLS\r\n250 DSN\r\n"
#define EHLO_REPLY_AUTH EHLO_HEAD("26214400") "250-AUTH PLAIN LOGIN\r\n250 DSN\r\n"
#define EHLO_REPLY_TLS_AUTH EHLO_HEAD("26214400") "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 DSN\r\n"
#define OK_MAIL "250 2.1.0 Ok\r\n"
#define OK_RCPT "250 2.1.5 Ok\r\n"
#define OK "250 2.0.0 Ok\r\n"
#define GO_AHEAD "354 End data with <CR><LF>.<CR><LF>\r\n"
#define BYE "221 2.0.0 Bye\r\n"
#define QUEUED "250 2.0.0 Ok: queued as J0\r\n"
#define EV_MAIL(addr, local, domain) "mail <" addr "> local=[" local "] local_raw=[" local "] domain=[" domain "]"
#define EV_MAIL0(addr, local, domain) EV_MAIL(addr, local, domain) " size=0 8bit=0 ret=0 envid=-\n"
#define EV_RCPT(i, addr, local, domain)                                                                      \
	"rcpt #" #i " <" addr "> local=[" local "] local_raw=[" local "] domain=[" domain "] notify=0\n"
#define EV_END(n, size, longest) "data_end too_big=0 bare_lf=0 failed=0 n=" #n " size=" #size " longest=" #longest " long=0 8bit=0 bare_cr=0\n"

#define IN(s)                                                                                                \
	{                                                                                                    \
		STEP_IN, s, 0                                                                                \
	}

/* ---- the table ---- */

static const struct session_case cases[] = {
	{
		.name = "basic transaction, pipelined",
		.steps = {IN("EHLO client.example\r\nMAIL FROM:<fred@example.org>\r\n"
			     "RCPT TO:<+4930123456@fax.example>\r\nDATA\r\n"),
			  IN("Subject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD QUEUED BYE,
		.events = "helo client.example\n" EV_MAIL0("fred@example.org", "fred", "example.org")
			EV_RCPT(0, "+4930123456@fax.example", "+4930123456", "fax.example")
			"data_begin\nchunk 22 [Subject: hi\\r\\n\\r\\nHello\\r\\n]\n" EV_END(1, 22, 13) "quit\n",
		.closed = true,
	},
	{
		.name = "case-insensitive verbs, trailing spaces, space after colon",
		.steps = {IN("ehlo c\r\nmail from: <a@b.example>  \r\nrcpt to:<x@y.example>\r\nnoop  \r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT OK,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example"),
	},
	{
		.name = "HELO: no extensions, parameters refused",
		.steps = {IN("HELO old.example\r\nMAIL FROM:<a@b.example> SIZE=10\r\nMAIL FROM:<a@b.example>\r\n"
			     "RCPT TO:<x@y.example> NOTIFY=NEVER\r\nAUTH PLAIN\r\nSTARTTLS\r\n")},
		.flags = F_AUTH | F_TLS_ACTIVE,
		.output = GREETING "250 mx.example\r\n"
				   "555 5.5.4 Unsupported MAIL parameter\r\n" OK_MAIL "555 5.5.4 Unsupported RCPT parameter\r\n"
				   "503 5.5.1 Send EHLO first\r\n"
				   "503 5.5.1 TLS already active\r\n",
		.events = "helo old.example\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "HELO/EHLO syntax, and EHLO resets the transaction",
		.steps = {IN("EHLO\r\nEHLO a b\r\nHELO\r\nEHLO c\r\nMAIL FROM:<a@b.example>\r\nEHLO d\r\n"
			     "RCPT TO:<x@y.example>\r\n")},
		.output = GREETING "501 5.5.4 Syntax: EHLO hostname\r\n501 5.5.4 Syntax: EHLO hostname\r\n"
				   "501 5.5.4 Syntax: HELO hostname\r\n" EHLO_REPLY OK_MAIL EHLO_REPLY
				   "503 5.5.1 Need MAIL command\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") "rset\nhelo d\n",
	},
	{
		.name = "early talker",
		.flags = F_NO_GREET,
		.steps = {IN("EHLO hasty.example\r\n")},
		.output = "554 5.5.0 Talking before the greeting\r\n",
		.events = "",
		.closed = true,
	},
	{
		.name = "refused greeting: 503 to all but QUIT",
		.flags = F_REFUSE,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nbogus\r\nQUIT\r\nNOOP\r\n")},
		.output = "554 5.7.1 mx.example No service for you\r\n"
			  "503 5.5.1 Bad sequence of commands\r\n503 5.5.1 Bad sequence of commands\r\n"
			  "503 5.5.1 Bad sequence of commands\r\n" BYE,
		.events = "quit\n",
		.closed = true,
	},
	{
		.name = "sequence errors",
		.steps = {IN("MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\nEHLO c\r\n"
			     "RCPT TO:<x@y.example>\r\nMAIL FROM:<a@b.example>\r\nMAIL FROM:<a@b.example>\r\n"
			     "DATA\r\nDATA now\r\nRSET now\r\nQUIT now\r\n")},
		.output = GREETING "503 5.5.1 Send HELO/EHLO first\r\n503 5.5.1 Need MAIL command\r\n"
				   "503 5.5.1 Need MAIL command\r\n" EHLO_REPLY "503 5.5.1 Need MAIL command\r\n" OK_MAIL
				   "503 5.5.1 Nested MAIL command\r\n554 5.5.1 No valid recipients\r\n"
				   "501 5.5.4 Syntax: DATA\r\n501 5.5.4 Syntax: RSET\r\n"
				   "501 5.5.4 Syntax: QUIT\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "NOOP VRFY EXPN HELP unknown empty, invalid characters",
		.steps = {IN("NOOP\r\nNOOP anything\r\nVRFY fred\r\nVRFY\r\nEXPN list\r\nHELP\r\nBDAT 10\r\n\r\n"
			     "NO\x01OP\r\n"),
			  {STEP_IN, "NOOP\0\r\n", 7},
			  IN("NO\xc3\xa9OP\r\n")},
		.max_errors = 100,
		.output = GREETING OK OK
		"252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
		"501 5.5.4 Syntax: VRFY address\r\n502 5.5.1 EXPN not available\r\n"
		"214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n"
		"500 5.5.1 Command unrecognized\r\n500 5.5.2 Syntax error: empty command\r\n"
		"500 5.5.2 Syntax error: invalid character in command\r\n"
		"500 5.5.2 Syntax error: invalid character in command\r\n"
		"500 5.5.2 Syntax error: invalid character in command\r\n",
		.events = "",
	},
	{
		.name = "SIZE declared",
		.max_size = 1000,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example> SIZE=1001\r\n"
			     "MAIL FROM:<a@b.example> SIZE=99999999999999999999\r\n"
			     "MAIL FROM:<a@b.example> SIZE=123456789012345678901\r\n"
			     "MAIL FROM:<a@b.example> SIZE=1x\r\nMAIL FROM:<a@b.example> SIZE\r\n"
			     "MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\nMAIL FROM:<a@b.example> SIZE=1000\r\n")},
		.max_errors = 100,
		.output = GREETING EHLO_HEAD("1000") "250 DSN\r\n"
						      "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
						      "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
						      "501 5.5.4 Bad MAIL parameter syntax\r\n"
						      "501 5.5.4 Bad MAIL parameter syntax\r\n"
						      "501 5.5.4 Bad MAIL parameter syntax\r\n"
						      "501 5.5.4 Bad MAIL parameter syntax\r\n" OK_MAIL,
		.events = "helo c\n" EV_MAIL("a@b.example", "a", "b.example") " size=1000 8bit=0 ret=0 envid=-\n",
	},
	{
		.name = "actual size over the limit: read to the end, then 552",
		.max_size = 20,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n"
			     "0123456789\r\n0123456789\r\n.\r\nNOOP\r\n")},
		.output = GREETING EHLO_HEAD("20") "250 DSN\r\n" OK_MAIL OK_RCPT GO_AHEAD
						    "552 5.3.4 Message size exceeds fixed maximum message size\r\n" OK,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\ndata_end too_big=1 bare_lf=0 failed=0 n=1 size=24 longest=12 long=0 8bit=0 "
			"bare_cr=0\n",
	},
	{
		.name = "message exactly at the limit",
		.max_size = 24,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example> SIZE=24\r\nRCPT TO:<x@y.example>\r\nDATA\r\n"
			     "0123456789\r\n0123456789\r\n.\r\n")},
		.output = GREETING EHLO_HEAD("24") "250 DSN\r\n" OK_MAIL OK_RCPT GO_AHEAD QUEUED,
		.events = "helo c\n" EV_MAIL("a@b.example", "a", "b.example") " size=24 8bit=0 ret=0 envid=-\n"
			EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\nchunk 24 [0123456789\\r\\n0123456789\\r\\n]\n" EV_END(1, 24, 12),
	},
	{
		.name = "8BITMIME",
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example> BODY=8BITMIME\r\nRSET\r\n"
			     "MAIL FROM:<a@b.example> body=7bit\r\nRSET\r\nMAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"
			     "MAIL FROM:<a@b.example> BODY\r\nMAIL FROM:<a@b.example> BODY=8BITMIME BODY=7BIT\r\n"
			     "MAIL FROM:<a@b.example> BODY=8BITMIME\r\nRCPT TO:<x@y.example>\r\nDATA\r\n"
			     "caf\xc3\xa9\r\n.\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK OK_MAIL OK "501 5.5.4 Bad MAIL parameter syntax\r\n"
								     "501 5.5.4 Bad MAIL parameter syntax\r\n"
								     "501 5.5.4 Bad MAIL parameter syntax\r\n" OK_MAIL OK_RCPT
									     GO_AHEAD QUEUED,
		.events = "helo c\n" EV_MAIL("a@b.example", "a", "b.example") " size=0 8bit=1 ret=0 envid=-\nrset\n"
			EV_MAIL("a@b.example", "a", "b.example") " size=0 8bit=0 ret=0 envid=-\nrset\n"
			EV_MAIL("a@b.example", "a", "b.example") " size=0 8bit=1 ret=0 envid=-\n"
			EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\nchunk 7 [caf\\xc3\\xa9\\r\\n]\n"
			"data_end too_big=0 bare_lf=0 failed=0 n=1 size=7 longest=7 long=0 8bit=1 bare_cr=0\n",
	},
	{
		.name = "DSN parameters and xtext",
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example> RET=HDRS ENVID=QQ+2BAB+3dx AUTH=<>\r\n"
			     "RCPT TO:<x@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Bfax@example.com\r\n"
			     "RCPT TO:<z@y.example> notify=never\r\n"
			     "RCPT TO:<w@y.example> NOTIFY=DELAY ORCPT=rfc822;+22J+20D+22@example.com\r\n"
			     "RSET\r\nMAIL FROM:<a@b.example> RET=FULL AUTH=alice+2Bx@example.com\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT OK_RCPT OK_RCPT OK OK_MAIL,
		.events = "helo c\n" EV_MAIL("a@b.example", "a", "b.example") " size=0 8bit=0 ret=2 envid=QQ+AB=x\n"
			"rcpt #0 <x@y.example> local=[x] local_raw=[x] domain=[y.example] notify=6 "
			"orcpt=rfc822;bob+fax@example.com\n"
			"rcpt #1 <z@y.example> local=[z] local_raw=[z] domain=[y.example] notify=1\n"
			"rcpt #2 <w@y.example> local=[w] local_raw=[w] domain=[y.example] notify=8 "
			"orcpt=rfc822;\"J D\"@example.com\n"
			"rset\n" EV_MAIL("a@b.example", "a", "b.example") " size=0 8bit=0 ret=1 envid=-\n",
	},
	{
		.name = "DSN parameter errors and unknown parameters",
		.max_errors = 100,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example> ENVID=bad+ZZ\r\nMAIL FROM:<a@b.example> ENVID=a+2\r\n"
			     "MAIL FROM:<a@b.example> ENVID=a+00\r\nMAIL FROM:<a@b.example> RET=NONE\r\n"
			     "MAIL FROM:<a@b.example> RET=FULL RET=HDRS\r\nMAIL FROM:<a@b.example> FOO=bar\r\n"
			     "MAIL FROM:<a@b.example> X\r\nMAIL FROM:<a@b.example> =x\r\n"
			     "MAIL FROM:<a@b.example> SIZE==1\r\nMAIL FROM:<a@b.example>\r\n"
			     "RCPT TO:<x@y.example> NOTIFY=NEVER,SUCCESS\r\nRCPT TO:<x@y.example> NOTIFY=SOMETIMES\r\n"
			     "RCPT TO:<x@y.example> NOTIFY=SUCCESS,\r\nRCPT TO:<x@y.example> NOTIFY\r\n"
			     "RCPT TO:<x@y.example> ORCPT=noseparator\r\nRCPT TO:<x@y.example> ORCPT=rfc822;\r\n"
			     "RCPT TO:<x@y.example> ORCPT=;x\r\nRCPT TO:<x@y.example> FOO=1\r\n"
			     "RCPT TO:<x@y.example> SIZE=1\r\n")},
		.output = GREETING EHLO_REPLY "501 5.5.4 Bad MAIL parameter syntax\r\n"
					      "501 5.5.4 Bad MAIL parameter syntax\r\n"
					      "501 5.5.4 Bad MAIL parameter syntax\r\n"
					      "501 5.5.4 Bad MAIL parameter syntax\r\n"
					      "501 5.5.4 Bad MAIL parameter syntax\r\n"
					      "555 5.5.4 Unsupported MAIL parameter\r\n555 5.5.4 Unsupported MAIL parameter\r\n"
					      "501 5.5.4 Bad MAIL parameter syntax\r\n"
					      "501 5.5.4 Bad MAIL parameter syntax\r\n" OK_MAIL
					      "501 5.5.4 Bad RCPT parameter syntax\r\n501 5.5.4 Bad RCPT parameter syntax\r\n"
					      "501 5.5.4 Bad RCPT parameter syntax\r\n501 5.5.4 Bad RCPT parameter syntax\r\n"
					      "501 5.5.4 Bad RCPT parameter syntax\r\n501 5.5.4 Bad RCPT parameter syntax\r\n"
					      "501 5.5.4 Bad RCPT parameter syntax\r\n"
					      "555 5.5.4 Unsupported RCPT parameter\r\n555 5.5.4 Unsupported RCPT parameter\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "address forms",
		.steps = {IN("EHLO c\r\nMAIL FROM:<>\r\n"
			     "RCPT TO:<\"John Doe@+1 (555) 123-4567\"@fax.example.com>\r\n"
			     "RCPT TO:<@relay1.example,@relay2.example:+4930123@fax.example>\r\n"
			     "RCPT TO:<Postmaster>\r\nRCPT TO:<\"a\\\"b\\\\c\"@[192.0.2.1]>\r\n"
			     "RCPT TO:<o'neil.x+tag@[IPv6:2001:db8::1]>\r\nRCPT TO:<x@[tag:any-thing]>\r\n"
			     "RCPT TO:<\"\"@xn--bcher-kva.example>\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT OK_RCPT OK_RCPT OK_RCPT OK_RCPT OK_RCPT OK_RCPT,
		.events = "helo c\nmail <> local=[] local_raw=[] domain=[] null size=0 8bit=0 ret=0 envid=-\n"
			  "rcpt #0 <\"John Doe@+1 (555) 123-4567\"@fax.example.com> local=[John Doe@+1 (555) 123-4567] "
			  "local_raw=[\"John Doe@+1 (555) 123-4567\"] domain=[fax.example.com] notify=0\n"
			  "rcpt #1 <@relay1.example,@relay2.example:+4930123@fax.example> local=[+4930123] "
			  "local_raw=[+4930123] domain=[fax.example] notify=0\n"
			  "rcpt #2 <Postmaster> local=[Postmaster] local_raw=[Postmaster] domain=[] notify=0\n"
			  "rcpt #3 <\"a\\\"b\\\\c\"@[192.0.2.1]> local=[a\"b\\c] local_raw=[\"a\\\"b\\\\c\"] "
			  "domain=[[192.0.2.1]] notify=0\n"
			  "rcpt #4 <o'neil.x+tag@[IPv6:2001:db8::1]> local=[o'neil.x+tag] local_raw=[o'neil.x+tag] "
			  "domain=[[IPv6:2001:db8::1]] notify=0\n"
			  "rcpt #5 <x@[tag:any-thing]> local=[x] local_raw=[x] domain=[[tag:any-thing]] notify=0\n"
			  "rcpt #6 <\"\"@xn--bcher-kva.example> local=[] local_raw=[\"\"] domain=[xn--bcher-kva.example] "
			  "notify=0\n",
	},
	{
		.name = "bad addresses",
		.max_errors = 100,
		.steps = {IN("EHLO c\r\nMAIL FROM:a@b.example\r\nMAIL FROM:<a@b.example\r\nMAIL FROM:<a@b.example>x\r\n"
			     "MAIL FROM:<Postmaster>\r\nMAIL FROM <a@b.example>\r\nMAIL TO:<a@b.example>\r\n"
			     "MAIL FROM:<a@b.example>\r\n"
			     "RCPT TO:<>\r\nRCPT TO:<a..b@c.example>\r\nRCPT TO:<.a@c.example>\r\nRCPT TO:<a.@c.example>\r\n"
			     "RCPT TO:<a@-c.example>\r\nRCPT TO:<a@c-.example>\r\nRCPT TO:<a@c..example>\r\n"
			     "RCPT TO:<a@>\r\nRCPT TO:<@a.example:>\r\nRCPT TO:<@a.example,b@c.example>\r\n"
			     "RCPT TO:<\"unterminated@c.example>\r\nRCPT TO:<a b@c.example>\r\nRCPT TO:<a@[300.1.1.1]>\r\n"
			     "RCPT TO:<a@[IPv6:zz]>\r\nRCPT TO:<a@[]>\r\nRCPT TO:<a@[1.2.3.4>\r\nRCPT TO:<a(b)@c.example>\r\n"
			     "RCPT TO:<a@b_c.example>\r\nRCPT TO:<a@c.example> <b@c.example>\r\nRCPT TO:x@y.example\r\n"
			     "RCPT TO:<\"a\\\x7f\"@c.example>\r\nRCPT TO:<postmaster@>\r\nRCPT TO:<a@[x-:y]>\r\n")},
		.output = GREETING EHLO_REPLY "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
					      "501 5.1.7 Bad sender address syntax\r\n"
					      "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
					      "501 5.1.7 Bad sender address syntax\r\n"
					      "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
					      "501 5.5.4 Syntax: MAIL FROM:<address>\r\n" OK_MAIL
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
					      "501 5.5.4 Bad RCPT parameter syntax\r\n501 5.5.4 Syntax: RCPT TO:<address>\r\n"
					      "500 5.5.2 Syntax error: invalid character in command\r\n"
					      "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "recipient refused by the callback, callback replies sanitised",
		.steps = {IN("EHLO c\r\nMAIL FROM:<refuse@b.example>\r\nMAIL FROM:<custom@b.example>\r\n"
			     "RCPT TO:<bad@y.example>\r\nRCPT TO:<multi@y.example>\r\nRCPT TO:<nocode@y.example>\r\n"
			     "RCPT TO:<temp@y.example>\r\nDATA\r\n")},
		.output = GREETING EHLO_REPLY "550 5.7.1 Sender refused\r\n250 2.1.0 Sender custom ok\r\n"
					      "550 5.1.3 Bad fax number: letters are not allowed\r\n"
					      "550-5.1.1 First line\r\n550-5.1.1 second line\r\n550 5.1.2 third?line\r\n"
					      "451 4.3.0 Internal error\r\n451 4.3.0 Store unavailable\r\n"
					      "554 5.5.1 No valid recipients\r\n",
		.events = "helo c\n" EV_MAIL0("refuse@b.example", "refuse", "b.example")
			EV_MAIL0("custom@b.example", "custom", "b.example") EV_RCPT(0, "bad@y.example", "bad", "y.example")
			EV_RCPT(0, "multi@y.example", "multi", "y.example") EV_RCPT(0, "nocode@y.example", "nocode", "y.example")
			EV_RCPT(0, "temp@y.example", "temp", "y.example"),
	},
	{
		.name = "too many recipients: 452, not an error",
		.max_rcpt = 2,
		.max_errors = 2,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<r1@y.example>\r\nRCPT TO:<bad@y.example>\r\n"
			     "RCPT TO:<r2@y.example>\r\nRCPT TO:<r3@y.example>\r\nRCPT TO:<r4@y.example>\r\n"
			     "RCPT TO:<r5@y.example>\r\nDATA\r\nx\r\n.\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT "550 5.1.3 Bad fax number: letters are not allowed\r\n" OK_RCPT
			"452 4.5.3 Too many recipients\r\n452 4.5.3 Too many recipients\r\n"
			"452 4.5.3 Too many recipients\r\n" GO_AHEAD QUEUED,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "r1@y.example", "r1", "y.example")
			EV_RCPT(1, "bad@y.example", "bad", "y.example") EV_RCPT(1, "r2@y.example", "r2", "y.example")
			"data_begin\nchunk 3 [x\\r\\n]\n" EV_END(1, 3, 3),
	},
	{
		.name = "hard error limit: 421 after the 10th error",
		.steps = {IN("EHLO c\r\nfoo\r\nfoo\r\nfoo\r\nfoo\r\nfoo\r\nfoo\r\nNOOP\r\nfoo\r\nfoo\r\nfoo\r\n"),
			  IN("foo\r\nNOOP\r\n")},
		.output = GREETING EHLO_REPLY "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
					      "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
					      "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n" OK
					      "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
					      "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
					      "421 4.7.0 Too many errors\r\n",
		.events = "helo c\n",
		.closed = true,
	},
	{
		.name = "bare LF in a command",
		.steps = {IN("EHLO c\nNOOP\r\nNOOP\n\nNOOP\r\n")},
		.output = GREETING "500 5.5.0 Bare LF not allowed\r\n" OK "500 5.5.0 Bare LF not allowed\r\n"
				   "500 5.5.0 Bare LF not allowed\r\n" OK,
		.events = "",
	},
	{
		.name = "bare LF in DATA (and the smuggling forms): read to the end, then 550",
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n"
			     "Subject: x\r\n\r\nline\n.\nMAIL FROM:<evil@x.example>\r\n\n.\r\nRCPT TO:<v@x.example>\r\n"
			     ".\nDATA\r\n.\r\nNOOP\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD "550 5.6.0 Bare LF not allowed\r\n" OK,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\n"
			"data_end too_big=0 bare_lf=1 failed=0 n=1 size=83 longest=35 long=0 8bit=0 bare_cr=0\n",
	},
	{
		.name = "dot-stuffing, bare CR, the end in the middle of the input",
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n"
			     "..leading\r\n.x\r\n...\r\n. \r\na\rb\r\r\n.\rz\r\n..\r\n\r\n.\r\nNOOP\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD QUEUED OK,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\nchunk 35 [.leading\\r\\nx\\r\\n..\\r\\n \\r\\na\\rb\\r\\r\\n\\rz\\r\\n.\\r\\n\\r\\n]\n"
			"data_end too_big=0 bare_lf=0 failed=0 n=1 size=35 longest=11 long=0 8bit=0 bare_cr=1\n",
	},
	{
		.name = "empty message, then a second transaction (rset before the new MAIL)",
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n.\r\n"
			     "MAIL FROM:<b@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\nz\r\n.\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD QUEUED OK_MAIL OK_RCPT GO_AHEAD QUEUED,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\n" EV_END(1, 0, 0) "rset\n" EV_MAIL0("b@b.example", "b", "b.example")
				EV_RCPT(0, "x@y.example", "x", "y.example") "data_begin\nchunk 3 [z\\r\\n]\n" EV_END(1, 3, 3),
	},
	{
		.name = "spool write failure: 451 after the end, never 250",
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n"
			     "FAILWRITE\r\nmore\r\n.\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD "451 4.3.0 Error: message not stored\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\nchunk 17 [FAILWRITE\\r\\nmore\\r\\n]\n"
			"data_end too_big=0 bare_lf=0 failed=1 n=1 size=17 longest=11 long=0 8bit=0 bare_cr=0\n",
	},
	{
		.name = "data_begin refused",
		.flags = F_DATA_BEGIN_REFUSE,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\nRSET\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT "451 4.3.0 Spool unavailable\r\n" OK,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\nrset\n",
	},
	{
		.name = "data_end leaving code 0: 250 2.0.0 Ok",
		.flags = F_DATA_END_EMPTY,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n.\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD OK,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\n" EV_END(1, 0, 0),
	},
	{
		.name = "STARTTLS: pipelined commands after it are discarded, state reset",
		.flags = F_TLS_AVAILABLE | F_AUTH,
		.steps = {IN("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<v@x.example>\r\n"),
			  IN("NOOP\r\n"),
			  {STEP_TLS, NULL, 0},
			  IN("MAIL FROM:<a@b.example>\r\nEHLO c2\r\nSTARTTLS\r\n")},
		.output = GREETING EHLO_REPLY_TLS "220 2.0.0 Ready to start TLS\r\n"
					      "503 5.5.1 Send HELO/EHLO first\r\n" EHLO_REPLY_AUTH "503 5.5.1 TLS already active\r\n",
		.events = "helo c\nstarttls\nhelo c2\n",
	},
	{
		.name = "STARTTLS refusals",
		.flags = F_TLS_AVAILABLE,
		.steps = {IN("STARTTLS\r\nHELO c\r\nSTARTTLS\r\nEHLO c\r\nSTARTTLS now\r\nMAIL FROM:<a@b.example>\r\n"
			     "STARTTLS\r\nRSET\r\nSTARTTLS\r\n")},
		.output = GREETING "503 5.5.1 Send EHLO first\r\n250 mx.example\r\n503 5.5.1 Send EHLO first\r\n" EHLO_REPLY_TLS
				   "501 5.5.4 Syntax: STARTTLS\r\n" OK_MAIL "503 5.5.1 MAIL transaction in progress\r\n" OK
				   "220 2.0.0 Ready to start TLS\r\n",
		.events = "helo c\nhelo c\n" EV_MAIL0("a@b.example", "a", "b.example") "rset\nstarttls\n",
	},
	{
		.name = "STARTTLS not available",
		.steps = {IN("EHLO c\r\nSTARTTLS\r\n")},
		.output = GREETING EHLO_REPLY "502 5.5.1 STARTTLS not available\r\n",
		.events = "helo c\n",
	},
	{
		.name = "AUTH PLAIN with an initial response",
		.flags = F_TLS_ACTIVE | F_AUTH,
		.steps = {IN("EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nAUTH PLAIN\r\nMAIL FROM:<a@b.example>\r\n")},
		.output = GREETING EHLO_REPLY_AUTH "235 2.7.0 Authentication successful\r\n"
						   "503 5.5.1 Already authenticated\r\n" OK_MAIL,
		.events = "helo c\nauth PLAIN [] [alice] [secret]\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "AUTH PLAIN with the 334 exchange and an authzid",
		.flags = F_TLS_ACTIVE | F_AUTH,
		.steps = {IN("EHLO c\r\nAUTH plain\r\n"), IN("YWxpY2UAYWxpY2UAc2VjcmV0\r\n")},
		.output = GREETING EHLO_REPLY_AUTH "334 \r\n235 2.7.0 Authentication successful\r\n",
		.events = "helo c\nauth PLAIN [alice] [alice] [secret]\n",
	},
	{
		.name = "AUTH LOGIN",
		.flags = F_TLS_ACTIVE | F_AUTH,
		.steps = {IN("EHLO c\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n")},
		.output = GREETING EHLO_REPLY_AUTH "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
						   "235 2.7.0 Authentication successful\r\n",
		.events = "helo c\nauth LOGIN [] [alice] [secret]\n",
	},
	{
		.name = "AUTH LOGIN with an initial response, wrong password",
		.flags = F_TLS_ACTIVE | F_AUTH,
		.steps = {IN("EHLO c\r\nAUTH LOGIN YWxpY2U=\r\nd3Jvbmc=\r\nMAIL FROM:<a@b.example>\r\n")},
		.output = GREETING EHLO_REPLY_AUTH "334 UGFzc3dvcmQ6\r\n535 5.7.8 Authentication credentials invalid\r\n" OK_MAIL,
		.events = "helo c\nauth LOGIN [] [alice] [wrong]\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "AUTH cancelled, undecodable, malformed, unknown mechanism",
		.flags = F_TLS_ACTIVE | F_AUTH,
		.max_errors = 100,
		.steps = {IN("EHLO c\r\nAUTH LOGIN\r\n*\r\nAUTH PLAIN\r\n*\r\nAUTH LOGIN YWxpY2U=\r\n*\r\n"
			     "AUTH PLAIN !!!!\r\nAUTH PLAIN\r\nYWxp\r\nAUTH PLAIN YWxpY2U=\r\nAUTH PLAIN =\r\n"
			     "AUTH PLAIN\r\n\r\nAUTH PLAIN AGFsaWNlAA==\r\nAUTH CRAM-MD5\r\nAUTH\r\n"
			     "AUTH PLAIN a b\r\nAUTH LOGIN =\r\nAUTH LOGIN AA==\r\nAUTH PLAIN YWJj=\r\n"
			     "AUTH PLAIN YW=j\r\nAUTH LOGIN\r\nYWxpY2U=\n")},
		.output = GREETING EHLO_REPLY_AUTH "334 VXNlcm5hbWU6\r\n501 5.0.0 Authentication cancelled\r\n"
						   "334 \r\n501 5.0.0 Authentication cancelled\r\n"
						   "334 UGFzc3dvcmQ6\r\n501 5.0.0 Authentication cancelled\r\n"
						   "501 5.5.2 Cannot decode response\r\n"
						   "334 \r\n501 5.5.2 Invalid authentication response\r\n"
						   "501 5.5.2 Invalid authentication response\r\n"
						   "501 5.5.2 Invalid authentication response\r\n"
						   "334 \r\n501 5.5.2 Invalid authentication response\r\n"
						   "501 5.5.2 Invalid authentication response\r\n"
						   "504 5.5.4 Unrecognized authentication type\r\n"
						   "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n"
						   "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n"
						   "501 5.5.2 Invalid authentication response\r\n"
						   "501 5.5.2 Invalid authentication response\r\n"
						   "501 5.5.2 Cannot decode response\r\n"
						   "501 5.5.2 Cannot decode response\r\n"
						   "334 VXNlcm5hbWU6\r\n500 5.5.0 Bare LF not allowed\r\n",
		.events = "helo c\n",
	},
	{
		.name = "AUTH over plaintext refused, then allowed after STARTTLS",
		.flags = F_TLS_AVAILABLE | F_AUTH,
		.steps = {IN("EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nSTARTTLS\r\n"),
			  {STEP_TLS, NULL, 0},
			  IN("EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")},
		.output = GREETING EHLO_REPLY_TLS "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
						  "220 2.0.0 Ready to start TLS\r\n" EHLO_REPLY_AUTH
						  "235 2.7.0 Authentication successful\r\n",
		.events = "helo c\nstarttls\nhelo c\nauth PLAIN [] [alice] [secret]\n",
	},
	{
		.name = "AUTH over plaintext allowed by the settings",
		.flags = F_TLS_AVAILABLE | F_AUTH | F_AUTH_PLAINTEXT,
		.steps = {IN("EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")},
		.output = GREETING EHLO_REPLY_TLS_AUTH "235 2.7.0 Authentication successful\r\n",
		.events = "helo c\nauth PLAIN [] [alice] [secret]\n",
	},
	{
		.name = "AUTH not enabled, before EHLO, during a transaction",
		.flags = F_TLS_ACTIVE | F_AUTH,
		.steps = {IN("AUTH PLAIN\r\nEHLO c\r\nMAIL FROM:<a@b.example>\r\nAUTH PLAIN\r\n")},
		.output = GREETING "503 5.5.1 Send EHLO first\r\n" EHLO_REPLY_AUTH OK_MAIL
				   "503 5.5.1 MAIL transaction in progress\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "AUTH disabled",
		.steps = {IN("EHLO c\r\nAUTH PLAIN\r\n")},
		.output = GREETING EHLO_REPLY "503 5.5.1 AUTH not available\r\n",
		.events = "helo c\n",
	},
	{
		.name = "AUTH required",
		.flags = F_TLS_ACTIVE | F_AUTH | F_AUTH_REQUIRED,
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"
			     "MAIL FROM:<a@b.example>\r\n")},
		.output = GREETING EHLO_REPLY_AUTH "530 5.7.0 Authentication required\r\n"
						   "235 2.7.0 Authentication successful\r\n" OK_MAIL,
		.events = "helo c\nauth PLAIN [] [alice] [secret]\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "LMTP: LHLO, per-recipient replies in RCPT order",
		.flags = F_LMTP,
		.steps = {IN("EHLO c\r\nHELO c\r\nMAIL FROM:<a@b.example>\r\nLHLO c\r\nMAIL FROM:<a@b.example>\r\n"
			     "RCPT TO:<r0@y.example>\r\nRCPT TO:<bad@y.example>\r\nRCPT TO:<r1@y.example>\r\n"
			     "RCPT TO:<r2@y.example>\r\nDATA\r\nhi\r\n.\r\nHELP\r\n")},
		.output = "220 mx.example LMTP faxgate\r\n500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
			  "503 5.5.1 Send LHLO first\r\n" EHLO_REPLY OK_MAIL OK_RCPT
			  "550 5.1.3 Bad fax number: letters are not allowed\r\n" OK_RCPT OK_RCPT GO_AHEAD
			  "250 2.0.0 Ok: queued as J0\r\n452 4.2.2 Fax queue full for this recipient\r\n"
			  "250 2.0.0 Ok: queued as J2\r\n"
			  "214 2.0.0 Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "r0@y.example", "r0", "y.example")
			EV_RCPT(1, "bad@y.example", "bad", "y.example") EV_RCPT(1, "r1@y.example", "r1", "y.example")
				EV_RCPT(2, "r2@y.example", "r2", "y.example") "data_begin\nchunk 4 [hi\\r\\n]\n" EV_END(3, 4, 4),
	},
	{
		.name = "LMTP: too big, every recipient refused",
		.flags = F_LMTP,
		.max_size = 3,
		.steps = {IN("LHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<r0@y.example>\r\nRCPT TO:<r1@y.example>\r\n"
			     "DATA\r\nhello\r\n.\r\n")},
		.output = "220 mx.example LMTP faxgate\r\n" EHLO_HEAD("3") "250 DSN\r\n" OK_MAIL OK_RCPT OK_RCPT GO_AHEAD
			  "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
			  "552 5.3.4 Message size exceeds fixed maximum message size\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "r0@y.example", "r0", "y.example")
			EV_RCPT(1, "r1@y.example", "r1", "y.example")
			"data_begin\ndata_end too_big=1 bare_lf=0 failed=0 n=2 size=7 longest=7 long=0 8bit=0 bare_cr=0\n",
	},
	{
		.name = "RSET",
		.steps = {IN("RSET\r\nEHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRSET\r\n"
			     "RCPT TO:<x@y.example>\r\nDATA\r\nMAIL FROM:<a@b.example>\r\n")},
		.output = GREETING OK EHLO_REPLY OK_MAIL OK_RCPT OK "503 5.5.1 Need MAIL command\r\n"
									"503 5.5.1 Need MAIL command\r\n" OK_MAIL,
		.events = "rset\nhelo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"rset\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "QUIT: the rest is ignored",
		.steps = {IN("QUIT\r\nNOOP\r\n"), IN("NOOP\r\n")},
		.output = GREETING BYE,
		.events = "quit\n",
		.closed = true,
	},
	{
		.name = "timeout in DATA",
		.steps = {IN("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\npart"),
			  {STEP_TIMEOUT, NULL, 0},
			  IN("ial\r\n.\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD "421 4.4.2 Timeout, closing connection\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\n",
		.closed = true,
	},
	{
		.name = "odd corners: spaces, long mechanism, control byte in an AUTH response",
		.flags = F_TLS_ACTIVE | F_AUTH,
		.max_errors = 100,
		.steps = {IN("EHLO   c\r\nAUTH AVERYVERYVERYLONGMECHANISMNAMEXXXXX\r\nAUTH PLAIN\r\nAG\x01FsaWNl\r\n"
			     "MAIL FROM:<a@b.example>\r\nRCPT TO:x@y.example\r\nRCPT TO <x@y.example>\r\n")},
		.output = GREETING EHLO_REPLY_AUTH "504 5.5.4 Unrecognized authentication type\r\n"
						   "334 \r\n501 5.5.2 Cannot decode response\r\n" OK_MAIL
						   "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
						   "501 5.5.4 Syntax: RCPT TO:<address>\r\n",
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example"),
	},
	{
		.name = "a line split between the command and data parts",
		.steps = {IN("EHLO c\r"), IN("\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r"),
			  IN("\n.\r"), IN("\nNOOP\r\n")},
		.output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD QUEUED OK,
		.events = "helo c\n" EV_MAIL0("a@b.example", "a", "b.example") EV_RCPT(0, "x@y.example", "x", "y.example")
			"data_begin\n" EV_END(1, 0, 0),
	},
};

/* clang-format on */

static void test_sessions(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		check_session(&cases[i]);
}

/* ---- generated sessions (long inputs) ---- */

static char *repeat(char c, size_t n)
{
	char *s = g_malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* "NOOP " padded so that the line is exactly total bytes with its CRLF. */
static char *noop_line(size_t total)
{
	char *pad = repeat('x', total - 7);
	char *s = g_strdup_printf("NOOP %s\r\n", pad);
	g_free(pad);
	assert_int_equal(strlen(s), total);
	return s;
}

static void test_line_limits(void **state)
{
	(void)state;
	char *ok = noop_line(SMTP_PROTO_DEFAULT_MAX_LINE),
	     *too_long = noop_line(SMTP_PROTO_DEFAULT_MAX_LINE + 1);
	char *way_too_long = noop_line(100000);
	char *in = g_strconcat(ok, too_long, "NOOP\r\n", way_too_long, "NOOP\r\n", NULL);
	struct session_case c = {
	    .name = "2048 ok, 2049 too long, in step after",
	    .steps = {IN(in)},
	    .output = GREETING OK "500 5.5.2 Line too long\r\n" OK "500 5.5.2 Line too long\r\n" OK,
	    .events = "",
	};
	check_session(&c);
	g_free(in);

	/* a too long line ending in a bare LF is still "too long"; one without its end waits */
	char *pad = repeat('y', 100000);
	char *bare = g_strdup_printf("NOOP %s\nNOOP\r\nNOOP %s", pad, pad);
	g_free(pad);
	struct session_case c2 = {
	    .name = "too long with bare LF",
	    .steps = {IN(bare)},
	    .output = GREETING "500 5.5.2 Line too long\r\n" OK,
	    .events = "",
	};
	check_session(&c2);
	g_free(bare);
	g_free(ok);
	g_free(too_long);
	g_free(way_too_long);
}

static void test_long_address_parts(void **state)
{
	(void)state;
	char *l512 = repeat('a', SMTP_PROTO_MAX_LOCAL_PART),
	     *l513 = repeat('a', SMTP_PROTO_MAX_LOCAL_PART + 1);
	char *label63 = repeat('d', 63), *label64 = repeat('d', 64);
	/* 4 labels of 63 and 3 dots: 255; one more character: 256 */
	char *dom255 = g_strdup_printf("%s.%s.%s.%s", label63, label63, label63, label63);
	char *dom256 = g_strdup_printf("%s.%s.%s.%sd", label63, label63, label63, label63);
	char *in = g_strdup_printf("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<%s@y.example>\r\n"
				   "RCPT TO:<%s@y.example>\r\nRCPT TO:<x@%s.example>\r\nRCPT TO:<x@%s>\r\n"
				   "RCPT TO:<x@%s>\r\n",
				   l512, l513, label64, dom255, dom256);
	char *events = g_strdup_printf(
	    "helo c\n" EV_MAIL0(
		"a@b.example", "a",
		"b.example") "rcpt #0 <%s@y.example> local=[%s] local_raw=[%s] domain=[y.example] notify=0\n"
			     "rcpt #1 <x@%s> local=[x] local_raw=[x] domain=[%s] notify=0\n",
	    l512, l512, l512, dom255, dom255);
	struct session_case c = {
	    .name = "local part 512, domain 255",
	    .steps = {IN(in)},
	    .output = GREETING EHLO_REPLY OK_MAIL OK_RCPT "501 5.1.3 Bad recipient address syntax\r\n"
							  "501 5.1.3 Bad recipient address syntax\r\n" OK_RCPT
							  "501 5.1.3 Bad recipient address syntax\r\n",
	    .events = events,
	};
	check_session(&c);
	g_free(in);
	g_free(events);
	g_free(l512);
	g_free(l513);
	g_free(label63);
	g_free(label64);
	g_free(dom255);
	g_free(dom256);
}

static void test_default_max_recipients(void **state)
{
	(void)state;
	GString *in = g_string_new("EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
	GString *out = g_string_new(GREETING EHLO_REPLY OK_MAIL);
	GString *ev = g_string_new("helo c\n" EV_MAIL0("a@b.example", "a", "b.example"));
	for (int i = 0; i < SMTP_PROTO_DEFAULT_MAX_RECIPIENTS + 20; i++) {
		g_string_append_printf(in, "RCPT TO:<r%d@y.example>\r\n", i);
		if (i < SMTP_PROTO_DEFAULT_MAX_RECIPIENTS) {
			g_string_append(out, OK_RCPT);
			g_string_append_printf(
			    ev,
			    "rcpt #%d <r%d@y.example> local=[r%d] local_raw=[r%d] domain=[y.example] "
			    "notify=0\n",
			    i, i, i, i);
		} else {
			g_string_append(out, "452 4.5.3 Too many recipients\r\n");
		}
	}
	struct session_case c = {
	    .name = "default 100 recipients",
	    .steps = {IN(in->str)},
	    .output = out->str,
	    .events = ev->str,
	};
	check_session(&c);
	g_string_free(in, TRUE);
	g_string_free(out, TRUE);
	g_string_free(ev, TRUE);
}

static void test_big_message_chunks(void **state)
{
	(void)state;
	/* 3 * 8192 + 100 octets in lines of 1000 and one line of 1001 (flagged, accepted) */
	GString *body = g_string_new(NULL);
	while (body->len < 3 * SMTP_PROTO_DATA_CHUNK + 100) {
		char *line = repeat(body->len == 2000 ? 'L' : 'b', body->len == 2000 ? 999 : 998);
		g_string_append_printf(body, "%s\r\n", line);
		g_free(line);
	}
	char *in = g_strdup_printf(
	    "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n%s.\r\n", body->str);
	GString *ev = g_string_new("helo c\n" EV_MAIL0("a@b.example", "a", "b.example")
				       EV_RCPT(0, "x@y.example", "x", "y.example") "data_begin\n");
	for (size_t off = 0; off < body->len; off += SMTP_PROTO_DATA_CHUNK) {
		size_t n = MIN((size_t)SMTP_PROTO_DATA_CHUNK, body->len - off);
		g_string_append_printf(ev, "chunk %zu [", n);
		ev_escaped(ev, body->str + off, MIN(n, (size_t)200));
		g_string_append(ev, n > 200 ? "...]\n" : "]\n");
	}
	g_string_append_printf(
	    ev,
	    "data_end too_big=0 bare_lf=0 failed=0 n=1 size=%zu longest=1001 long=1 8bit=0 "
	    "bare_cr=0\n",
	    body->len);
	struct session_case c = {
	    .name = "big message, fixed chunks, a long line",
	    .steps = {IN(in)},
	    .output = GREETING EHLO_REPLY OK_MAIL OK_RCPT GO_AHEAD QUEUED,
	    .events = ev->str,
	};
	check_session(&c);
	g_free(in);
	g_string_free(body, TRUE);
	g_string_free(ev, TRUE);
}

/* ---- API edges ---- */

static int feed(struct smtp_proto *p, const char *s)
{
	return smtp_proto_input(p, s, strlen(s));
}

static struct smtp_proto *reentered;
static int reentry_ret;

static void reenter_helo(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	reentry_ret = feed(reentered, "NOOP\r\n");
}

static void capture(void *ctx, const char *data, size_t len)
{
	g_string_append_len(ctx, data, len);
}

static void test_api_edges(void **state)
{
	(void)state;
	struct smtp_proto *p = NULL;
	smtp_proto_free(&p);

	/* NULL settings and callbacks: defaults, nothing sent anywhere */
	p = smtp_proto_create(NULL, NULL);
	smtp_proto_greet(p);
	assert_int_equal(feed(p, "EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"), 1);
	assert_int_equal(feed(p, "DATA\r\nx\r\n.\r\n"), 1);
	assert_int_equal(feed(p, ""), 1);
	assert_int_equal(smtp_proto_input(p, NULL, 3), -1);
	assert_false(smtp_proto_authenticated(p));
	assert_null(smtp_proto_auth_user(p));
	assert_int_equal(feed(p, "QUIT\r\n"), 0);
	assert_int_equal(feed(p, "NOOP\r\n"), 0);
	smtp_proto_free(&p);

	/* re-entering input() from a callback is a broken invariant */
	struct smtp_proto_callbacks cb = {.helo = reenter_helo};
	p = smtp_proto_create(NULL, &cb);
	reentered = p;
	smtp_proto_greet(p);
	assert_int_equal(feed(p, "EHLO x\r\n"), 1);
	assert_int_equal(reentry_ret, -1);
	smtp_proto_free(&p);

	/* auth without a callback: refused; a host name unfit for the greeting becomes localhost */
	GString *out = g_string_new(NULL);
	struct smtp_proto_settings set;
	smtp_proto_settings_default(&set);
	set.auth_enabled = true;
	set.hostname = "bad host name";
	set.tls_active = true;
	struct smtp_proto_callbacks cb2 = {.output = capture, .ctx = out};
	p = smtp_proto_create(&set, &cb2);
	smtp_proto_greet(p);
	smtp_proto_greet(p);	   /* ignored */
	smtp_proto_refuse(p, "x"); /* ignored */
	assert_int_equal(feed(p, "EHLO x\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), 1);
	assert_string_equal(out->str, "220 localhost ESMTP faxgate\r\n250-localhost\r\n250-PIPELINING\r\n"
				      "250-SIZE 26214400\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
				      "250-AUTH PLAIN LOGIN\r\n250 DSN\r\n"
				      "535 5.7.8 Authentication credentials invalid\r\n");
	assert_false(smtp_proto_authenticated(p));
	smtp_proto_timeout(p);
	assert_string_equal(out->str + out->len - 39, "421 4.4.2 Timeout, closing connection\r\n");
	smtp_proto_timeout(p); /* once */
	assert_true(smtp_proto_closed(p));
	smtp_proto_tls_started(p); /* ignored */
	smtp_proto_free(&p);

	/* the default refusal text; QUIT still answered */
	g_string_truncate(out, 0);
	p = smtp_proto_create(&set, &cb2);
	smtp_proto_refuse(p, NULL);
	smtp_proto_greet(p); /* ignored */
	assert_int_equal(feed(p, "QUIT\r\n"), 0);
	assert_string_equal(out->str, "554 localhost Service not available\r\n221 2.0.0 Bye\r\n");
	smtp_proto_free(&p);
	g_string_free(out, TRUE);
}

/* starttls callback that finishes TLS at once (the session may do that) */
struct sync_ctx {
	struct smtp_proto *p;
	GString *out;
};

static void sync_out(void *ctx, const char *data, size_t len)
{
	struct sync_ctx *s = ctx;
	g_string_append_len(s->out, data, len);
}

static void sync_starttls(void *ctx)
{
	struct sync_ctx *s = ctx;
	smtp_proto_tls_started(s->p);
}

static int accept_auth(void *ctx, const char *mech, const char *authzid, const char *user, const char *pass,
		       struct smtp_reply *reply)
{
	(void)ctx;
	(void)mech;
	(void)authzid;
	(void)user;
	(void)pass;
	(void)reply;
	return 0;
}

static void test_starttls_synchronous(void **state)
{
	(void)state;
	struct sync_ctx s = {.out = g_string_new(NULL)};
	struct smtp_proto_settings set;
	smtp_proto_settings_default(&set);
	set.hostname = "mx.example";
	set.tls_available = true;
	set.auth_enabled = true;
	set.auth_required = true;
	struct smtp_proto_callbacks cb = {
	    .output = sync_out, .starttls = sync_starttls, .auth = accept_auth, .ctx = &s};
	s.p = smtp_proto_create(&set, &cb);
	smtp_proto_greet(s.p);
	assert_int_equal(feed(s.p, "EHLO c\r\nSTARTTLS\r\nEHLO evil\r\n"), 1);
	assert_int_equal(feed(s.p, "EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), 1);
	assert_true(smtp_proto_authenticated(s.p));
	assert_string_equal(smtp_proto_auth_user(s.p), "alice");
	assert_string_equal(s.out->str,
			    GREETING EHLO_REPLY_TLS "220 2.0.0 Ready to start TLS\r\n" EHLO_REPLY_AUTH
						    "235 2.7.0 Authentication successful\r\n");
	smtp_proto_free(&s.p);
	g_string_free(s.out, TRUE);
}

static void test_settings_default(void **state)
{
	(void)state;
	struct smtp_proto_settings set;
	smtp_proto_settings_default(&set);
	assert_int_equal(set.max_line, 2048);
	assert_int_equal(set.max_data_line, 1000);
	assert_true(set.max_message_size == 25u * 1024 * 1024);
	assert_int_equal(set.max_recipients, 100);
	assert_int_equal(set.max_errors, 10);
	assert_false(set.lmtp || set.tls_available || set.tls_active || set.auth_enabled ||
		     set.auth_plaintext || set.auth_required);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settings_default),
	    cmocka_unit_test(test_sessions),
	    cmocka_unit_test(test_line_limits),
	    cmocka_unit_test(test_long_address_parts),
	    cmocka_unit_test(test_default_max_recipients),
	    cmocka_unit_test(test_big_message_chunks),
	    cmocka_unit_test(test_api_edges),
	    cmocka_unit_test(test_starttls_synchronous),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
