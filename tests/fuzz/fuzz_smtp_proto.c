/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for the SMTP/LMTP protocol core (smtpgw/smtp_proto.c; RFC 5321, 2033, 1870,
 * 2920, 6152, 2034/3463, 3207, 4954, 3461).
 *
 * Input: byte 0 picks the settings (LMTP, STARTTLS available/active, AUTH enabled/plaintext/
 * required, small limits), byte 1 how the callbacks behave (refusals, a failing spool, replies
 * with bad codes and injected CR/LF), bytes 2..4 where the rest is cut into pieces; the rest is
 * the client. Each piece is one input() call; between pieces a pending STARTTLS completes
 * (tls_started()), and with a bit of byte 1 the session times out at the end.
 *
 * The session runs twice, once piece by piece and once one byte at a time within the same pieces
 * (after a STARTTLS the rest of the piece is skipped, as the core skips it), and both runs must
 * give the same output and the same events. Checks on every run: the output is well-formed reply
 * lines (3 digits 2xx-5xx, '-' or ' ', printable text, CRLF, at most 512 octets, one code per
 * reply, 4xx/5xx after the greeting with an enhanced code of their class); nothing after the
 * session closed; message pieces only inside DATA, of SMTP_PROTO_DATA_CHUNK octets but the last,
 * never more than the size limit; recipients numbered in order; data_end gets one reply per
 * accepted recipient in LMTP; paths within their limits and printable.
 */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpgw/smtp_proto.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* byte 1 */
#define B_REFUSE_SOME 0x01u  /* refuse MAIL/RCPT by a property of the address */
#define B_FAIL_SPOOL 0x02u   /* data_chunk fails on a piece containing 'F' */
#define B_EVIL_REPLIES 0x04u /* callbacks hand back bad codes and text with CR/LF/controls */
#define B_REFUSE_DATA 0x08u  /* data_begin refuses */
#define B_TIMEOUT 0x10u	     /* timeout after the last piece */
#define B_NO_GREET 0x20u     /* early talker */
#define B_REFUSE_GREET 0x40u /* 554 greeting */
#define B_LEAVE_ZERO 0x80u   /* data_end leaves code 0 */

struct run {
	unsigned behave;
	struct smtp_proto *p;
	struct smtp_proto_settings set;
	GString *out, *ev;
	bool closed;	   /* input() returned 0 or timeout */
	bool in_data;	   /* between 354 and data_end */
	bool tls_pending;  /* starttls callback seen, tls_started() not yet called */
	bool greeted;	   /* first reply seen */
	int rcpt_accepted; /* in the current transaction */
	bool mail_accepted;
	uint64_t data_bytes;
	size_t last_chunk; /* length of the previous chunk in this message */
	bool refused_greeting;
	unsigned counter;
};

static void check_reply(struct run *r, const char *d, size_t n)
{
	size_t pos = 0;
	int code = -1;
	CHECK(n >= 6);
	while (pos < n) {
		const char *line = d + pos;
		const char *crlf = NULL;
		for (size_t i = pos; i + 1 < n; i++)
			if (d[i] == '\r' && d[i + 1] == '\n') {
				crlf = d + i;
				break;
			}
		CHECK(crlf != NULL);
		size_t len = (size_t)(crlf - line);
		CHECK(len >= 3 && len + 2 <= 512);
		CHECK(line[0] >= '2' && line[0] <= '5' && g_ascii_isdigit(line[1]) &&
		      g_ascii_isdigit(line[2]));
		int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		CHECK(code == -1 || code == c);
		code = c;
		bool last = crlf + 2 == d + n;
		if (len > 3)
			CHECK(line[3] == (last ? ' ' : '-'));
		else
			CHECK(last);
		for (size_t i = 4; i < len; i++)
			CHECK(line[i] >= 0x20 && line[i] < 0x7f);
		/* RFC 2034: 4xx/5xx after the greeting carry c.x.y of their class */
		if (r->greeted && (c >= 400)) {
			CHECK(len >= 9 && line[4] == line[0] && line[5] == '.');
		}
		pos = (size_t)(crlf - d) + 2;
	}
	r->greeted = true;
}

static void cb_output(void *ctx, const char *d, size_t n)
{
	struct run *r = ctx;
	CHECK(!r->closed);
	check_reply(r, d, n);
	g_string_append_len(r->out, d, n);
}

static void cb_helo(void *ctx, const char *name)
{
	struct run *r = ctx;
	CHECK(!r->closed && !r->in_data);
	CHECK(*name != '\0' && strlen(name) <= 255);
	g_string_append_printf(r->ev, "helo %s\n", name);
	r->mail_accepted = false;
	r->rcpt_accepted = 0;
}

static void evil_reply(struct run *r, struct smtp_reply *reply, int code)
{
	static const int codes[] = {0, 1, 99, 150, 250, 354, 421, 452, 550, 599, 600, 999, -5};
	static const char *texts[] = {
	    "5.1.1 ok\r\n421 injected",
	    "\r\n\r\n",
	    "2.0.0 a\nb\nc\n",
	    "",
	    "4.0.0",
	    "9.9.9 wrong class\n\x01\x7f\xff",
	    "5.1.1111 too many digits",
	};
	r->counter++;
	reply->code = (r->behave & B_EVIL_REPLIES) ? codes[r->counter % G_N_ELEMENTS(codes)] : code;
	const char *t = (r->behave & B_EVIL_REPLIES) ? texts[r->counter % G_N_ELEMENTS(texts)] : "5.7.1 No";
	g_strlcpy(reply->text, t, sizeof(reply->text));
	if ((r->behave & B_EVIL_REPLIES) && r->counter % 5 == 0)
		memset(reply->text, 'x', sizeof(reply->text)); /* not NUL-terminated */
}

static int cb_auth(void *ctx, const char *mech, const char *authzid, const char *user, const char *pass,
		   struct smtp_reply *reply)
{
	struct run *r = ctx;
	CHECK(!r->closed && !r->in_data);
	CHECK(r->set.auth_enabled);
	CHECK(strcmp(mech, "PLAIN") == 0 || strcmp(mech, "LOGIN") == 0);
	g_string_append_printf(r->ev, "auth %s %s %s %s\n", mech, authzid, user, pass);
	if (strlen(pass) % 2 == 0)
		return 0;
	evil_reply(r, reply, 535);
	return -1;
}

static void check_path(const struct smtp_path *p)
{
	CHECK(p->raw != NULL && p->local != NULL && p->local_raw != NULL && p->domain != NULL);
	CHECK(strlen(p->local_raw) <= SMTP_PROTO_MAX_LOCAL_PART);
	CHECK(strlen(p->local) <= strlen(p->local_raw));
	CHECK(strlen(p->domain) <= SMTP_PROTO_MAX_DOMAIN);
	for (const char *s = p->raw; *s; s++)
		CHECK(*s >= 0x20 && *s < 0x7f);
	if (p->null_path)
		CHECK(*p->raw == '\0');
}

static int cb_mail(void *ctx, const struct smtp_mail *m, struct smtp_reply *reply)
{
	struct run *r = ctx;
	CHECK(!r->closed && !r->in_data && !r->mail_accepted);
	check_path(&m->from);
	CHECK(m->size <= r->set.max_message_size);
	CHECK(m->envid == NULL || strlen(m->envid) <= 100);
	g_string_append_printf(r->ev, "mail <%s> %s %s %d %d %s\n", m->from.raw, m->from.local,
			       m->from.domain, (int)m->size, (int)m->ret, m->envid ? m->envid : "-");
	if ((r->behave & B_REFUSE_SOME) && strlen(m->from.local) % 3 == 1) {
		evil_reply(r, reply, 550);
		return -1;
	}
	r->mail_accepted = true;
	r->rcpt_accepted = 0;
	return 0;
}

static int cb_rcpt(void *ctx, const struct smtp_rcpt *rc, struct smtp_reply *reply)
{
	struct run *r = ctx;
	CHECK(!r->closed && !r->in_data && r->mail_accepted);
	check_path(&rc->to);
	CHECK(!rc->to.null_path);
	CHECK(rc->index == r->rcpt_accepted);
	CHECK(rc->index < r->set.max_recipients);
	CHECK((rc->orcpt == NULL) == (rc->orcpt_type == NULL));
	CHECK(!(rc->notify & SMTP_DSN_NOTIFY_NEVER) || rc->notify == SMTP_DSN_NOTIFY_NEVER);
	g_string_append_printf(r->ev, "rcpt %d <%s> %s %s %u %s\n", rc->index, rc->to.raw, rc->to.local,
			       rc->to.domain, rc->notify, rc->orcpt ? rc->orcpt : "-");
	if ((r->behave & B_REFUSE_SOME) && strlen(rc->to.local) % 2 == 1) {
		evil_reply(r, reply, 550);
		return -1;
	}
	r->rcpt_accepted++;
	return 0;
}

static int cb_data_begin(void *ctx, struct smtp_reply *reply)
{
	struct run *r = ctx;
	CHECK(!r->closed && !r->in_data && r->mail_accepted && r->rcpt_accepted > 0);
	g_string_append(r->ev, "data_begin\n");
	if (r->behave & B_REFUSE_DATA) {
		evil_reply(r, reply, 451);
		return -1;
	}
	r->in_data = true;
	r->data_bytes = 0;
	r->last_chunk = SMTP_PROTO_DATA_CHUNK;
	return 0;
}

static int cb_data_chunk(void *ctx, const char *d, size_t n)
{
	struct run *r = ctx;
	CHECK(!r->closed && r->in_data);
	CHECK(n > 0 && n <= SMTP_PROTO_DATA_CHUNK);
	CHECK(r->last_chunk == SMTP_PROTO_DATA_CHUNK); /* only the last piece is short */
	r->last_chunk = n;
	r->data_bytes += n;
	CHECK(r->data_bytes <= r->set.max_message_size);
	g_string_append_printf(r->ev, "chunk %zu\n", n);
	g_string_append_len(r->ev, d, (gssize)n);
	return (r->behave & B_FAIL_SPOOL) && memchr(d, 'F', n) != NULL ? -1 : 0;
}

static void cb_data_end(void *ctx, bool too_big, bool bare_lf, bool failed, struct smtp_reply *replies, int n)
{
	struct run *r = ctx;
	const struct smtp_data_info *info = smtp_proto_data_info(r->p);
	CHECK(!r->closed && r->in_data);
	CHECK(n == (r->set.lmtp ? r->rcpt_accepted : 1));
	CHECK(too_big == (info->size > r->set.max_message_size));
	if (!too_big && !bare_lf && !failed)
		CHECK(info->size == r->data_bytes);
	if (too_big || bare_lf || failed)
		for (int i = 0; i < n; i++)
			CHECK(replies[i].code >= 400);
	g_string_append_printf(r->ev, "data_end %d %d %d %d %d\n", too_big, bare_lf, failed, n,
			       (int)info->size);
	r->in_data = false;
	r->mail_accepted = false;
	r->rcpt_accepted = 0;
	for (int i = 0; i < n; i++) {
		if (r->behave & B_LEAVE_ZERO)
			continue;
		evil_reply(r, &replies[i], i % 2 ? 452 : 250);
	}
}

static void cb_rset(void *ctx)
{
	struct run *r = ctx;
	CHECK(!r->closed && !r->in_data);
	g_string_append(r->ev, "rset\n");
	r->mail_accepted = false;
	r->rcpt_accepted = 0;
}

static void cb_starttls(void *ctx)
{
	struct run *r = ctx;
	CHECK(!r->closed && !r->in_data && !r->tls_pending);
	CHECK(r->set.tls_available);
	g_string_append(r->ev, "starttls\n");
	r->tls_pending = true;
	r->mail_accepted = false;
	r->rcpt_accepted = 0;
}

static void cb_quit(void *ctx)
{
	struct run *r = ctx;
	g_string_append(r->ev, "quit\n");
}

static void settings_from(uint8_t b, struct smtp_proto_settings *set)
{
	smtp_proto_settings_default(set);
	set->hostname = "fuzz.example";
	set->lmtp = b & 0x01;
	set->tls_available = b & 0x02;
	set->tls_active = b & 0x04;
	set->auth_enabled = b & 0x08;
	set->auth_plaintext = b & 0x10;
	set->auth_required = b & 0x20;
	if (b & 0x40) {
		set->max_message_size = 64;
		set->max_recipients = 3;
		set->max_errors = 3;
		set->max_line = 512;
		set->max_data_line = 20;
	}
	if (b & 0x80)
		set->max_errors = 1000; /* let long sessions run on */
}

/* Run the client bytes cut at cuts[]; bytewise feeds each piece one byte at a time. */
static void run_once(struct run *r, uint8_t setb, unsigned behave, const char *client, size_t len,
		     const size_t *cuts, int ncuts, bool bytewise)
{
	struct smtp_proto_callbacks cb = {
	    .output = cb_output,
	    .helo = cb_helo,
	    .auth = cb_auth,
	    .mail = cb_mail,
	    .rcpt = cb_rcpt,
	    .data_begin = cb_data_begin,
	    .data_chunk = cb_data_chunk,
	    .data_end = cb_data_end,
	    .rset = cb_rset,
	    .starttls = cb_starttls,
	    .quit = cb_quit,
	    .ctx = r,
	};
	memset(r, 0, sizeof(*r));
	r->behave = behave;
	settings_from(setb, &r->set);
	r->out = g_string_new(NULL);
	r->ev = g_string_new(NULL);
	r->p = smtp_proto_create(&r->set, &cb);
	if (behave & B_REFUSE_GREET) {
		smtp_proto_refuse(r->p, (behave & B_EVIL_REPLIES) ? "x\r\n250 injected\n\x01" : NULL);
	} else if (!(behave & B_NO_GREET)) {
		smtp_proto_greet(r->p);
	}
	size_t start = 0;
	for (int c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : len;
		size_t off = start;
		while (off < end) {
			size_t n = bytewise ? 1 : end - off;
			/* an exact-size copy so ASan sees reads past the piece */
			char *piece = g_memdup2(client + off, n);
			int ret = smtp_proto_input(r->p, piece, n);
			g_free(piece);
			CHECK(ret == 0 || ret == 1);
			if (r->closed)
				CHECK(ret == 0);
			if (ret == 0)
				r->closed = true;
			CHECK(smtp_proto_closed(r->p) == r->closed);
			off += n;
			if (r->tls_pending)
				break; /* the rest of this piece is discarded: skip it in both runs */
		}
		if (r->tls_pending) {
			r->tls_pending = false;
			smtp_proto_tls_started(r->p);
		}
		start = end;
	}
	if ((behave & B_TIMEOUT) && !r->closed) {
		smtp_proto_timeout(r->p);
		r->closed = true;
		CHECK(smtp_proto_input(r->p, "QUIT\r\n", 6) == 0);
	}
	if (smtp_proto_authenticated(r->p))
		CHECK(smtp_proto_auth_user(r->p) != NULL);
	else
		CHECK(smtp_proto_auth_user(r->p) == NULL);
	smtp_proto_free(&r->p);
	CHECK(r->p == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cuts[3];
	int ncuts = 0;
	struct run a, b;

	if (size < 5)
		return 0;
	const char *client = (const char *)data + 5;
	size_t len = size - 5;
	for (int i = 0; i < 3; i++) {
		size_t c = len > 0 ? (size_t)data[2 + i] * len / 256 : 0;
		if (ncuts == 0 || c > cuts[ncuts - 1])
			cuts[ncuts++] = c;
	}
	run_once(&a, data[0], data[1], client, len, cuts, ncuts, false);
	run_once(&b, data[0], data[1], client, len, cuts, ncuts, true);
	CHECK(a.out->len == b.out->len && memcmp(a.out->str, b.out->str, a.out->len) == 0);
	CHECK(a.ev->len == b.ev->len && memcmp(a.ev->str, b.ev->str, a.ev->len) == 0);
	g_string_free(a.out, TRUE);
	g_string_free(a.ev, TRUE);
	g_string_free(b.out, TRUE);
	g_string_free(b.ev, TRUE);
	return 0;
}
