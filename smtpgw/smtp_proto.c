/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SMTP/LMTP server protocol core: the command grammar, the session state machine, DATA
 * dot-unstuffing and every limit, with no I/O. Bytes from the client go in through
 * smtp_proto_input(); replies come out through the output callback and events (HELO, AUTH, MAIL,
 * RCPT, message bytes, end of data, reset, STARTTLS, QUIT) through the others. The session layer
 * (smtpgw/server.c) owns the socket, TLS, clocks and the store. The protocol as implemented, with
 * every reply code: docs/smtp.md.
 *
 * STANDARDS
 *	RFC 5321 (SMTP), RFC 2033 (LMTP), RFC 1870 (SIZE), RFC 2920 (PIPELINING),
 *	RFC 6152 (8BITMIME), RFC 2034 and RFC 3463 (ENHANCEDSTATUSCODES), RFC 3207 (STARTTLS),
 *	RFC 4954 (AUTH), RFC 4616 (PLAIN), draft-murchison-sasl-login (LOGIN),
 *	RFC 3461 (DSN: RET, ENVID, NOTIFY, ORCPT, xtext), RFC 4648 (base64).
 *
 * Design. Everything is decided one byte at a time by explicit state, never by where an input
 * call happens to end, so feeding one byte at a time or everything at once gives the same replies
 * and the same events; even message bytes go to data_chunk in fixed SMTP_PROTO_DATA_CHUNK pieces.
 * Outside DATA the input is cut into lines at every LF: a line is complete only with CRLF (bare
 * LF: 500 5.5.0), and one longer than max_line is dropped up to its LF with 500 5.5.2 so the
 * session stays in step (Postfix smtp_get() with SMTP_GET_FLAG_SKIP). Every complete line is
 * executed at once, in order, which is all PIPELINING (RFC 2920) asks of a server. In DATA only
 * CRLF "." CRLF ends the message; a bare LF never starts a line, so "\n.\n", "\n.\r\n" and
 * "\r\n.\n" are message content (the SMTP smuggling defence), and the message is then refused
 * with 550 5.6.0 anyway.
 *
 * Nothing is sized from a number the peer sends: the line buffer grows as bytes arrive up to
 * max_line, SIZE= is only compared with the limit, the message is never buffered here beyond one
 * chunk, and per-command strings (paths, decoded xtext) are at most as long as their line.
 *
 * SECURITY. This faces the Internet before any authentication. After STARTTLS the rest of the
 * input is discarded until the session reports TLS up (RFC 3207 §6, CVE-2011-0411). Passwords
 * are wiped from the line buffer and decode buffers after use.
 */
#include "smtpgw/smtp_proto.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdarg.h>
#include <string.h>

/* Longest reply line, CRLF included (RFC 5321 4.5.3.1.5). */
#define REPLY_LINE_MAX 512
/* RFC 3461: ENVID at most 100 characters, ORCPT at most 500 (both after decoding). */
#define ENVID_MAX 100
#define ORCPT_MAX 500
/* Upper bounds on settings (beyond them a setting is clamped). */
#define MAX_RECIPIENTS_CAP 100000
#define MAX_ERRORS_CAP 10000

enum state {
	STATE_NEW,	/* before greet(): any byte is an early talker */
	STATE_REFUSED,	/* 554 greeting sent: only QUIT */
	STATE_CMD,	/* reading commands */
	STATE_AUTH,	/* reading a response in the AUTH exchange */
	STATE_DATA,	/* reading the message */
	STATE_TLS_WAIT, /* 220 for STARTTLS sent: discard input until tls_started() */
	STATE_CLOSED,
};

/* Where DATA is within a line. */
enum data_state {
	DATA_BOL,    /* at the start of a line */
	DATA_DOT,    /* a "." at the start of a line */
	DATA_DOT_CR, /* ".\r" at the start of a line */
	DATA_TEXT,   /* inside a line */
	DATA_CR,     /* a CR inside a line */
};

enum auth_mech { AUTH_MECH_PLAIN, AUTH_MECH_LOGIN };

struct smtp_proto {
	struct smtp_proto_settings set;
	struct smtp_proto_callbacks cb;
	char *hostname;
	enum state state;
	bool in_input;
	bool discard_rest; /* STARTTLS accepted: drop the rest of this input call */
	int errors;

	/* the line being read (outside DATA), without its LF */
	char *line;
	size_t line_len, line_cap;
	bool line_overflow;

	/* session */
	bool helo_seen;
	bool extended; /* EHLO or LHLO, not HELO */
	bool authenticated;
	char *auth_user;
	bool tls_active;

	/* AUTH exchange in progress */
	enum auth_mech auth_mech;
	char *auth_login_user; /* LOGIN: the user name, until the password comes */

	/* transaction */
	bool mail_active; /* MAIL accepted, DATA not finished */
	bool tx_exists;	  /* the session was told about a MAIL and not yet told rset */
	int rcpt_count;	  /* accepted recipients */

	/* DATA */
	enum data_state ds;
	size_t data_line_len;
	bool data_too_big, data_bare_lf, data_failed;
	struct smtp_data_info info;
	char *chunk;
	size_t chunk_len;

	/* strings handed to one callback, freed after the command */
	GPtrArray *scratch;
};

/* ---- settings ---- */

void smtp_proto_settings_default(struct smtp_proto_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->hostname = "localhost";
	set->max_line = SMTP_PROTO_DEFAULT_MAX_LINE;
	set->max_data_line = SMTP_PROTO_DEFAULT_MAX_DATA_LINE;
	set->max_message_size = SMTP_PROTO_DEFAULT_MAX_MESSAGE_SIZE;
	set->max_recipients = SMTP_PROTO_DEFAULT_MAX_RECIPIENTS;
	set->max_errors = SMTP_PROTO_DEFAULT_MAX_ERRORS;
}

/* A host name fit for the greeting: printable, no spaces, not empty, not absurdly long. */
static bool hostname_ok(const char *s)
{
	size_t n = 0;
	if (s == NULL || *s == '\0')
		return false;
	for (; s[n] != '\0'; n++) {
		if (s[n] <= ' ' || s[n] >= 0x7f || n >= 255)
			return false;
	}
	return true;
}

struct smtp_proto *smtp_proto_create(const struct smtp_proto_settings *set,
				     const struct smtp_proto_callbacks *cb)
{
	struct smtp_proto *p = g_new0(struct smtp_proto, 1);
	if (set != NULL)
		p->set = *set;
	else
		smtp_proto_settings_default(&p->set);
	if (cb != NULL)
		p->cb = *cb;
	p->hostname = g_strdup(hostname_ok(p->set.hostname) ? p->set.hostname : "localhost");
	p->set.hostname = p->hostname;
	if (p->set.max_line == 0)
		p->set.max_line = SMTP_PROTO_DEFAULT_MAX_LINE;
	p->set.max_line = CLAMP(p->set.max_line, SMTP_PROTO_MIN_MAX_LINE, SMTP_PROTO_MAX_MAX_LINE);
	if (p->set.max_data_line == 0)
		p->set.max_data_line = SMTP_PROTO_DEFAULT_MAX_DATA_LINE;
	if (p->set.max_message_size == 0)
		p->set.max_message_size = SMTP_PROTO_DEFAULT_MAX_MESSAGE_SIZE;
	if (p->set.max_recipients <= 0)
		p->set.max_recipients = SMTP_PROTO_DEFAULT_MAX_RECIPIENTS;
	p->set.max_recipients = MIN(p->set.max_recipients, MAX_RECIPIENTS_CAP);
	if (p->set.max_errors <= 0)
		p->set.max_errors = SMTP_PROTO_DEFAULT_MAX_ERRORS;
	p->set.max_errors = MIN(p->set.max_errors, MAX_ERRORS_CAP);
	p->tls_active = p->set.tls_active;
	p->state = STATE_NEW;
	p->scratch = g_ptr_array_new_with_free_func(g_free);
	return p;
}

static void wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		g_free(s);
	}
}

void smtp_proto_free(struct smtp_proto **protop)
{
	struct smtp_proto *p = *protop;
	if (p == NULL)
		return;
	*protop = NULL;
	if (p->line != NULL)
		explicit_bzero(p->line, p->line_cap);
	g_free(p->line);
	g_free(p->hostname);
	g_free(p->auth_user);
	wipe_free(p->auth_login_user);
	g_free(p->chunk);
	g_ptr_array_free(p->scratch, TRUE);
	g_free(p);
}

/* ---- replies ---- */

static void output(struct smtp_proto *p, const char *data, size_t len)
{
	if (p->cb.output != NULL && len > 0)
		p->cb.output(p->cb.ctx, data, len);
}

/* Length of an RFC 3463 enhanced code "c.sss.ddd" at s with class c, followed by SP or the end;
   0 if there is none. */
static size_t enhanced_len(const char *s, size_t n, char cls)
{
	size_t i = 0, digits;
	if (n < 5 || s[0] != cls || s[1] != '.')
		return 0;
	i = 2;
	for (digits = 0; i < n && g_ascii_isdigit(s[i]) && digits < 3; i++)
		digits++;
	if (digits == 0 || i >= n || s[i] != '.')
		return 0;
	i++;
	for (digits = 0; i < n && g_ascii_isdigit(s[i]) && digits < 3; i++)
		digits++;
	if (digits == 0 || (i < n && s[i] != ' '))
		return 0;
	return i;
}

/* Format and send one reply, single or multi-line ('\n' separates lines). With enhanced, every
   line gets an enhanced code of the reply's class: its own, the first line's, or c.0.0. Control
   and 8-bit bytes become '?'; lines are cut to REPLY_LINE_MAX. */
static void send_reply(struct smtp_proto *p, int code, const char *text, size_t text_len, bool enhanced)
{
	GString *out = g_string_sized_new(64);
	char cls = (char)('0' + code / 100);
	char first_enh[16];
	size_t pos = 0;

	g_snprintf(first_enh, sizeof(first_enh), "%c.0.0", cls);
	if (text_len > 0 && text[text_len - 1] == '\n')
		text_len--; /* a final newline does not make an empty last line */
	for (int lineno = 0;; lineno++) {
		const char *nl = memchr(text + pos, '\n', text_len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : text_len;
		const char *l = text + pos;
		size_t n = end - pos, start = out->len;

		g_string_append_printf(out, "%03d%c", code, nl != NULL ? '-' : ' ');
		if (enhanced && code / 100 != 3) {
			size_t e = enhanced_len(l, n, cls);
			if (e > 0) {
				if (lineno == 0 && e < sizeof(first_enh))
					g_snprintf(first_enh, sizeof(first_enh), "%.*s", (int)e, l);
			} else {
				g_string_append(out, first_enh);
				if (n > 0)
					g_string_append_c(out, ' ');
			}
		}
		for (size_t i = 0; i < n && out->len - start < REPLY_LINE_MAX - 2; i++) {
			unsigned char c = (unsigned char)l[i];
			if (c == '\r' && i + 1 == n)
				break;
			g_string_append_c(out, c < 0x20 || c >= 0x7f ? '?' : (char)c);
		}
		g_string_truncate(out, MIN(out->len, start + REPLY_LINE_MAX - 2));
		g_string_append(out, "\r\n");
		if (nl == NULL)
			break;
		pos = end + 1;
	}
	output(p, out->str, out->len);
	g_string_free(out, TRUE);
}

/* A reply of the core to a command: a 5xx counts as an error (the hard error limit). */
static void reply(struct smtp_proto *p, int code, const char *text)
{
	send_reply(p, code, text, strlen(text), true);
	if (code >= 500)
		p->errors++;
}

static void replyf(struct smtp_proto *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void replyf(struct smtp_proto *p, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	reply(p, code, text);
	g_free(text);
}

/* The reply a callback chose. accepted: what it returned (0). ok_class: the class an acceptance
   reply must have (2, or 3 for 354); a refusal must be 4xx or 5xx. Otherwise dflt_code/dflt_text
   (for an acceptance) or 451 4.3.0 (for a refusal) is sent instead. */
static void callback_reply(struct smtp_proto *p, bool accepted, const struct smtp_reply *r, int ok_class,
			   int dflt_code, const char *dflt_text)
{
	if (accepted) {
		if (r->code / 100 == ok_class)
			send_reply(p, r->code, r->text, strnlen(r->text, sizeof(r->text)), true);
		else
			send_reply(p, dflt_code, dflt_text, strlen(dflt_text), true);
		return;
	}
	if (r->code >= 400 && r->code <= 599) {
		send_reply(p, r->code, r->text, strnlen(r->text, sizeof(r->text)), true);
		if (r->code >= 500)
			p->errors++;
	} else {
		reply(p, 451, "4.3.0 Internal error");
	}
}

static void set_reply(struct smtp_reply *r, int code, const char *text)
{
	r->code = code;
	g_strlcpy(r->text, text, sizeof(r->text));
}

static void close_session(struct smtp_proto *p)
{
	p->state = STATE_CLOSED;
}

/* ---- session and transaction state ---- */

static const char *scratch_strndup(struct smtp_proto *p, const char *s, size_t n)
{
	char *c = g_strndup(s, n);
	g_ptr_array_add(p->scratch, c);
	return c;
}

/* Drop the transaction: tell the session if it knows of one (or always, for RSET). */
static void drop_transaction(struct smtp_proto *p, bool always_tell)
{
	bool tell = p->tx_exists || always_tell;
	p->mail_active = false;
	p->tx_exists = false;
	p->rcpt_count = 0;
	if (tell && p->cb.rset != NULL)
		p->cb.rset(p->cb.ctx);
}

static void auth_reset(struct smtp_proto *p)
{
	wipe_free(p->auth_login_user);
	p->auth_login_user = NULL;
}

/* ---- address parsing (RFC 5321 4.1.2) ---- */

static bool is_atext(unsigned char c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]. Advances *sp. */
static bool parse_domain(const char **sp)
{
	const char *s = *sp, *start = s;
	for (;;) {
		const char *label = s;
		if (!g_ascii_isalnum(*s))
			return false;
		while (g_ascii_isalnum(*s) || *s == '-')
			s++;
		if (s[-1] == '-' || s - label > 63)
			return false;
		if (*s != '.')
			break;
		s++;
	}
	if ((size_t)(s - start) > SMTP_PROTO_MAX_DOMAIN)
		return false;
	*sp = s;
	return true;
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / Standardized-tag ":" 1*dcontent ) "]" */
static bool parse_address_literal(const char **sp)
{
	const char *s = *sp + 1, *start = s;
	char buf[64];
	while (*s != '\0' && *s != ']') {
		unsigned char c = (unsigned char)*s;
		if (c < 33 || c > 126 || c == '[' || c == '\\')
			return false;
		s++;
	}
	if (*s != ']' || s == start || (size_t)(s - *sp + 1) > SMTP_PROTO_MAX_DOMAIN)
		return false;
	size_t n = (size_t)(s - start);
	const char *colon = memchr(start, ':', n);
	if (colon == NULL) {
		struct in_addr a4;
		if (n >= sizeof(buf))
			return false;
		memcpy(buf, start, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, &a4) != 1)
			return false;
	} else if (n > 5 && g_ascii_strncasecmp(start, "IPv6:", 5) == 0) {
		struct in6_addr a6;
		if (n - 5 >= sizeof(buf))
			return false;
		memcpy(buf, start + 5, n - 5);
		buf[n - 5] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return false;
	} else {
		/* Standardized-tag = Ldh-str: letters, digits, hyphens, ending in a letter or digit */
		if (colon == start || colon[-1] == '-' || colon + 1 == s)
			return false;
		for (const char *t = start; t < colon; t++)
			if (!g_ascii_isalnum(*t) && *t != '-')
				return false;
	}
	*sp = s + 1;
	return true;
}

/* Parse a Path (or Reverse-path) at *sp: "<" [A-d-l ":"] Mailbox ">", or "<>" when allow_null, or
   "<Postmaster>" when allow_postmaster. Strings go to the scratch pool. Advances *sp past '>'. */
static bool parse_path(struct smtp_proto *p, const char **sp, struct smtp_path *path, bool allow_null,
		       bool allow_postmaster)
{
	const char *s = *sp, *raw_start, *local_start, *local_end, *dom_start;
	GString *local;

	memset(path, 0, sizeof(*path));
	if (*s != '<')
		return false;
	raw_start = ++s;
	if (*s == '>') {
		if (!allow_null)
			return false;
		path->raw = path->local = path->local_raw = path->domain = "";
		path->null_path = true;
		*sp = s + 1;
		return true;
	}
	if (*s == '@') { /* source route: A-d-l = At-domain *( "," At-domain ), dropped */
		for (;;) {
			if (*s != '@')
				return false;
			s++;
			if (!parse_domain(&s))
				return false;
			if (*s == ',') {
				s++;
				continue;
			}
			if (*s != ':')
				return false;
			s++;
			break;
		}
	}
	local_start = s;
	local = g_string_new(NULL);
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			unsigned char c = (unsigned char)*s;
			if (c == '\\') {
				c = (unsigned char)*++s;
				if (c < 32 || c > 126)
					goto fail;
			} else if (c < 32 || c > 126) {
				goto fail; /* also the end of the string */
			}
			g_string_append_c(local, (char)c);
		}
		s++;
	} else {
		for (;;) {
			const char *atom = s;
			while (is_atext((unsigned char)*s))
				s++;
			if (s == atom)
				goto fail;
			if (*s != '.')
				break;
			s++;
		}
		g_string_append_len(local, local_start, s - local_start);
	}
	local_end = s;
	if ((size_t)(local_end - local_start) > SMTP_PROTO_MAX_LOCAL_PART)
		goto fail;
	if (*s == '>' && allow_postmaster && local_start == raw_start &&
	    g_ascii_strncasecmp(local_start, "postmaster", 10) == 0 && local_end - local_start == 10) {
		dom_start = s;
	} else {
		if (*s != '@')
			goto fail;
		dom_start = ++s;
		if (*s == '[' ? !parse_address_literal(&s) : !parse_domain(&s))
			goto fail;
	}
	if (*s != '>')
		goto fail;
	path->raw = scratch_strndup(p, raw_start, s - raw_start);
	path->local = scratch_strndup(p, local->str, local->len);
	path->local_raw = scratch_strndup(p, local_start, local_end - local_start);
	path->domain = scratch_strndup(p, dom_start, s - dom_start);
	g_string_free(local, TRUE);
	*sp = s + 1;
	return true;
fail:
	g_string_free(local, TRUE);
	return false;
}

/* ---- ESMTP parameters ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode RFC 3461 xtext (hex digits in either case); the result must be printable US-ASCII and at
   most max long. NULL if not. */
static const char *xtext_decode(struct smtp_proto *p, const char *s, size_t n, size_t max)
{
	GString *out = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			int hi, lo;
			if (i + 2 >= n)
				goto fail;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				goto fail;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			goto fail;
		}
		if (c < 32 || c > 126 || out->len >= max)
			goto fail;
		g_string_append_c(out, (char)c);
	}
	const char *r = scratch_strndup(p, out->str, out->len);
	g_string_free(out, TRUE);
	return r;
fail:
	g_string_free(out, TRUE);
	return NULL;
}

/* One parameter: keyword and value (value NULL when there is no "="). */
struct param {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

/* Split "kw[=value] kw[=value]..." (esmtp-keyword, esmtp-value of RFC 5321 4.1.2).
   Returns the count, or -1 on bad syntax. Spaces between parameters may repeat. */
static int split_params(const char *s, struct param *params, int max)
{
	int n = 0;
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			return n;
		if (n == max)
			return -1;
		struct param *pa = &params[n++];
		pa->key = s;
		if (!g_ascii_isalnum(*s))
			return -1;
		while (g_ascii_isalnum(*s) || *s == '-')
			s++;
		pa->key_len = (size_t)(s - pa->key);
		pa->value = NULL;
		pa->value_len = 0;
		if (*s == '=') {
			pa->value = ++s;
			while (*s > 32 && *s < 127 && *s != '=')
				s++;
			pa->value_len = (size_t)(s - pa->value);
			if (pa->value_len == 0)
				return -1;
		}
		if (*s != ' ' && *s != '\0')
			return -1;
	}
}

static bool key_is(const struct param *pa, const char *name)
{
	return pa->key_len == strlen(name) && g_ascii_strncasecmp(pa->key, name, pa->key_len) == 0;
}

static bool value_is(const char *v, size_t n, const char *name)
{
	return n == strlen(name) && g_ascii_strncasecmp(v, name, n) == 0;
}

#define MAX_PARAMS 16

enum param_result { PARAM_OK, PARAM_SYNTAX, PARAM_UNKNOWN, PARAM_TOO_BIG };

static enum param_result mail_params(struct smtp_proto *p, const char *s, struct smtp_mail *m)
{
	struct param params[MAX_PARAMS];
	bool seen_size = false, seen_body = false, seen_auth = false;
	int n = split_params(s, params, MAX_PARAMS);
	if (n < 0)
		return PARAM_SYNTAX;
	if (n > 0 && !p->extended)
		return PARAM_UNKNOWN; /* no extension was negotiated with HELO */
	for (int i = 0; i < n; i++) {
		const struct param *pa = &params[i];
		const char *v = pa->value;
		size_t vn = pa->value_len;
		if (key_is(pa, "SIZE")) {
			uint64_t size = 0;
			if (seen_size || v == NULL || vn > 20)
				return PARAM_SYNTAX;
			seen_size = true;
			for (size_t j = 0; j < vn; j++) {
				if (!g_ascii_isdigit(v[j]))
					return PARAM_SYNTAX;
				unsigned d = (unsigned)(v[j] - '0');
				size = size > (UINT64_MAX - d) / 10 ? UINT64_MAX : size * 10 + d;
			}
			m->size = size;
		} else if (key_is(pa, "BODY")) {
			if (seen_body || v == NULL)
				return PARAM_SYNTAX;
			seen_body = true;
			if (value_is(v, vn, "8BITMIME"))
				m->body_8bit = true;
			else if (!value_is(v, vn, "7BIT"))
				return PARAM_SYNTAX;
		} else if (key_is(pa, "RET")) {
			if (m->ret != SMTP_DSN_RET_UNSET || v == NULL)
				return PARAM_SYNTAX;
			if (value_is(v, vn, "FULL"))
				m->ret = SMTP_DSN_RET_FULL;
			else if (value_is(v, vn, "HDRS"))
				m->ret = SMTP_DSN_RET_HDRS;
			else
				return PARAM_SYNTAX;
		} else if (key_is(pa, "ENVID")) {
			if (m->envid != NULL || v == NULL)
				return PARAM_SYNTAX;
			m->envid = xtext_decode(p, v, vn, ENVID_MAX);
			if (m->envid == NULL)
				return PARAM_SYNTAX;
		} else if (key_is(pa, "AUTH")) {
			/* RFC 4954 5: accepted and ignored (we do not relay) */
			if (seen_auth || v == NULL)
				return PARAM_SYNTAX;
			seen_auth = true;
		} else {
			return PARAM_UNKNOWN;
		}
	}
	if (m->size > p->set.max_message_size)
		return PARAM_TOO_BIG;
	return PARAM_OK;
}

static enum param_result rcpt_params(struct smtp_proto *p, const char *s, struct smtp_rcpt *r)
{
	struct param params[MAX_PARAMS];
	bool seen_notify = false;
	int n = split_params(s, params, MAX_PARAMS);
	if (n < 0)
		return PARAM_SYNTAX;
	if (n > 0 && !p->extended)
		return PARAM_UNKNOWN;
	for (int i = 0; i < n; i++) {
		const struct param *pa = &params[i];
		const char *v = pa->value;
		size_t vn = pa->value_len;
		if (key_is(pa, "NOTIFY")) {
			if (seen_notify || v == NULL)
				return PARAM_SYNTAX;
			seen_notify = true;
			for (size_t j = 0; j < vn;) {
				const char *comma = memchr(v + j, ',', vn - j);
				size_t end = comma != NULL ? (size_t)(comma - v) : vn;
				const char *w = v + j;
				size_t wn = end - j;
				if (value_is(w, wn, "NEVER"))
					r->notify |= SMTP_DSN_NOTIFY_NEVER;
				else if (value_is(w, wn, "SUCCESS"))
					r->notify |= SMTP_DSN_NOTIFY_SUCCESS;
				else if (value_is(w, wn, "FAILURE"))
					r->notify |= SMTP_DSN_NOTIFY_FAILURE;
				else if (value_is(w, wn, "DELAY"))
					r->notify |= SMTP_DSN_NOTIFY_DELAY;
				else
					return PARAM_SYNTAX;
				if (comma != NULL && end + 1 == vn)
					return PARAM_SYNTAX; /* trailing comma */
				j = end + 1;
			}
			/* NEVER stands alone (RFC 3461 4.1) */
			if ((r->notify & SMTP_DSN_NOTIFY_NEVER) && r->notify != SMTP_DSN_NOTIFY_NEVER)
				return PARAM_SYNTAX;
		} else if (key_is(pa, "ORCPT")) {
			const char *semi = v != NULL ? memchr(v, ';', vn) : NULL;
			if (r->orcpt != NULL || semi == NULL || semi == v)
				return PARAM_SYNTAX;
			for (const char *t = v; t < semi; t++)
				if (!is_atext((unsigned char)*t))
					return PARAM_SYNTAX;
			r->orcpt_type = scratch_strndup(p, v, (size_t)(semi - v));
			r->orcpt = xtext_decode(p, semi + 1, vn - (size_t)(semi + 1 - v), ORCPT_MAX);
			if (r->orcpt == NULL || *r->orcpt == '\0')
				return PARAM_SYNTAX;
		} else {
			return PARAM_UNKNOWN;
		}
	}
	return PARAM_OK;
}

/* ---- commands ---- */

/* "FROM:" / "TO:" then optional spaces (RFC 5321 forbids them; Postfix and most servers take
   them, and they are harmless). Returns what follows, or NULL. */
static const char *skip_keyword(const char *arg, const char *kw)
{
	size_t n = strlen(kw);
	if (arg == NULL || g_ascii_strncasecmp(arg, kw, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

static const char *helo_verb(const struct smtp_proto *p)
{
	return p->set.lmtp ? "LHLO" : "HELO/EHLO";
}

static bool auth_offered(const struct smtp_proto *p)
{
	return p->set.auth_enabled && (p->tls_active || p->set.auth_plaintext);
}

static bool starttls_offered(const struct smtp_proto *p)
{
	return p->set.tls_available && !p->tls_active;
}

static void cmd_helo(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	bool helo = g_ascii_strcasecmp(verb, "HELO") == 0;
	if (arg == NULL || strchr(arg, ' ') != NULL || strlen(arg) > 255) {
		replyf(p, 501, "5.5.4 Syntax: %s hostname", helo ? "HELO" : p->set.lmtp ? "LHLO" : "EHLO");
		return;
	}
	drop_transaction(p, false);
	p->helo_seen = true;
	p->extended = !helo;
	if (p->cb.helo != NULL)
		p->cb.helo(p->cb.ctx, arg);
	if (helo) {
		/* RFC 2034: no enhanced code in replies to HELO/EHLO */
		char *r = g_strdup_printf("250 %s\r\n", p->hostname);
		output(p, r, strlen(r));
		g_free(r);
		return;
	}
	GString *r = g_string_new(NULL);
	g_string_append_printf(r, "250-%s\r\n", p->hostname);
	g_string_append(r, "250-PIPELINING\r\n");
	g_string_append_printf(r, "250-SIZE %" G_GUINT64_FORMAT "\r\n", p->set.max_message_size);
	g_string_append(r, "250-8BITMIME\r\n");
	g_string_append(r, "250-ENHANCEDSTATUSCODES\r\n");
	if (starttls_offered(p))
		g_string_append(r, "250-STARTTLS\r\n");
	if (auth_offered(p))
		g_string_append(r, "250-AUTH PLAIN LOGIN\r\n");
	g_string_append(r, "250 DSN\r\n");
	output(p, r->str, r->len);
	g_string_free(r, TRUE);
}

static void cmd_mail(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	struct smtp_mail m;
	struct smtp_reply r = {0};
	const char *s;
	int ret = 0;

	if (!p->helo_seen) {
		replyf(p, 503, "5.5.1 Send %s first", helo_verb(p));
		return;
	}
	if (p->mail_active) {
		reply(p, 503, "5.5.1 Nested MAIL command");
		return;
	}
	if (p->set.auth_required && !p->authenticated) {
		reply(p, 530, "5.7.0 Authentication required");
		return;
	}
	memset(&m, 0, sizeof(m));
	s = skip_keyword(arg, "FROM:");
	if (s == NULL || *s != '<') {
		reply(p, 501, "5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (!parse_path(p, &s, &m.from, true, false)) {
		reply(p, 501, "5.1.7 Bad sender address syntax");
		return;
	}
	if (*s != ' ' && *s != '\0') {
		reply(p, 501, "5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	switch (mail_params(p, s, &m)) {
	case PARAM_OK:
		break;
	case PARAM_SYNTAX:
		reply(p, 501, "5.5.4 Bad MAIL parameter syntax");
		return;
	case PARAM_UNKNOWN:
		reply(p, 555, "5.5.4 Unsupported MAIL parameter");
		return;
	case PARAM_TOO_BIG:
		reply(p, 552, "5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	drop_transaction(p, false);
	if (p->cb.mail != NULL)
		ret = p->cb.mail(p->cb.ctx, &m, &r);
	if (ret == 0) {
		p->mail_active = true;
		p->tx_exists = true;
		p->rcpt_count = 0;
	}
	callback_reply(p, ret == 0, &r, 2, 250, "2.1.0 Ok");
}

static void cmd_rcpt(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	struct smtp_rcpt rc;
	struct smtp_reply r = {0};
	const char *s;
	int ret = 0;

	if (!p->mail_active) {
		reply(p, 503, "5.5.1 Need MAIL command");
		return;
	}
	memset(&rc, 0, sizeof(rc));
	s = skip_keyword(arg, "TO:");
	if (s == NULL || *s != '<') {
		reply(p, 501, "5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (!parse_path(p, &s, &rc.to, false, true)) {
		reply(p, 501, "5.1.3 Bad recipient address syntax");
		return;
	}
	if (*s != ' ' && *s != '\0') {
		reply(p, 501, "5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	switch (rcpt_params(p, s, &rc)) {
	case PARAM_OK:
		break;
	case PARAM_SYNTAX:
	case PARAM_TOO_BIG:
		reply(p, 501, "5.5.4 Bad RCPT parameter syntax");
		return;
	case PARAM_UNKNOWN:
		reply(p, 555, "5.5.4 Unsupported RCPT parameter");
		return;
	}
	if (p->rcpt_count >= p->set.max_recipients) {
		/* RFC 5321 4.5.3.1.10: the client sends the rest later; not counted as an error */
		reply(p, 452, "4.5.3 Too many recipients");
		return;
	}
	rc.index = p->rcpt_count;
	if (p->cb.rcpt != NULL)
		ret = p->cb.rcpt(p->cb.ctx, &rc, &r);
	if (ret == 0)
		p->rcpt_count++;
	callback_reply(p, ret == 0, &r, 2, 250, "2.1.5 Ok");
}

static void cmd_data(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	struct smtp_reply r = {0};
	int ret = 0;

	if (arg != NULL) {
		reply(p, 501, "5.5.4 Syntax: DATA");
		return;
	}
	if (!p->mail_active) {
		reply(p, 503, "5.5.1 Need MAIL command");
		return;
	}
	if (p->rcpt_count == 0) {
		reply(p, 554, "5.5.1 No valid recipients");
		return;
	}
	if (p->cb.data_begin != NULL)
		ret = p->cb.data_begin(p->cb.ctx, &r);
	if (ret != 0) {
		callback_reply(p, false, &r, 3, 0, NULL);
		return;
	}
	callback_reply(p, true, &r, 3, 354, "End data with <CR><LF>.<CR><LF>");
	p->state = STATE_DATA;
	p->ds = DATA_BOL;
	p->data_line_len = 0;
	p->data_too_big = p->data_bare_lf = p->data_failed = false;
	memset(&p->info, 0, sizeof(p->info));
	p->chunk_len = 0;
	if (p->chunk == NULL)
		p->chunk = g_malloc(SMTP_PROTO_DATA_CHUNK);
}

static void cmd_rset(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	if (arg != NULL) {
		reply(p, 501, "5.5.4 Syntax: RSET");
		return;
	}
	drop_transaction(p, true);
	reply(p, 250, "2.0.0 Ok");
}

static void cmd_noop(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	reply(p, 250, "2.0.0 Ok");
}

static void cmd_quit(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	if (arg != NULL) {
		reply(p, 501, "5.5.4 Syntax: QUIT");
		return;
	}
	reply(p, 221, "2.0.0 Bye");
	close_session(p);
	if (p->cb.quit != NULL)
		p->cb.quit(p->cb.ctx);
}

static void cmd_vrfy(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	if (arg == NULL) {
		reply(p, 501, "5.5.4 Syntax: VRFY address");
		return;
	}
	reply(p, 252, "2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	reply(p, 502, "5.5.1 EXPN not available");
}

static void cmd_help(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	replyf(p, 214, "2.0.0 Commands: %s MAIL RCPT DATA RSET NOOP QUIT VRFY HELP%s%s",
	       p->set.lmtp ? "LHLO" : "HELO EHLO", starttls_offered(p) ? " STARTTLS" : "",
	       auth_offered(p) ? " AUTH" : "");
}

static void cmd_starttls(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	if (arg != NULL) {
		reply(p, 501, "5.5.4 Syntax: STARTTLS");
		return;
	}
	if (p->tls_active) {
		reply(p, 503, "5.5.1 TLS already active");
		return;
	}
	if (!p->set.tls_available) {
		reply(p, 502, "5.5.1 STARTTLS not available");
		return;
	}
	if (!p->extended) {
		replyf(p, 503, "5.5.1 Send %s first", p->set.lmtp ? "LHLO" : "EHLO");
		return;
	}
	if (p->mail_active) {
		reply(p, 503, "5.5.1 MAIL transaction in progress");
		return;
	}
	reply(p, 220, "2.0.0 Ready to start TLS");
	/* RFC 3207 4.2: forget everything learnt from the client */
	drop_transaction(p, false);
	p->helo_seen = p->extended = false;
	p->authenticated = false;
	g_free(p->auth_user);
	p->auth_user = NULL;
	p->state = STATE_TLS_WAIT;
	p->discard_rest = true;
	p->line_len = 0;
	p->line_overflow = false;
	if (p->cb.starttls != NULL)
		p->cb.starttls(p->cb.ctx);
}

/* ---- AUTH (RFC 4954, RFC 4616 PLAIN, LOGIN) ---- */

static const unsigned char *b64_table(void)
{
	static unsigned char t[256];
	static bool done;
	if (!done) {
		const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		memset(t, 0xff, sizeof(t));
		for (int i = 0; i < 64; i++)
			t[(unsigned char)a[i]] = (unsigned char)i;
		done = true;
	}
	return t;
}

/* Strict base64 (RFC 4648 4): whole quads, '=' padding only at the end. Returns a NUL-terminated
   g_malloc'd buffer and its length in *len_r (it may contain NULs), or NULL. */
static char *b64_decode(const char *s, size_t n, size_t *len_r)
{
	const unsigned char *t = b64_table();
	char *out;
	size_t o = 0;

	if (n % 4 != 0)
		return NULL;
	out = g_malloc(n / 4 * 3 + 1);
	for (size_t i = 0; i < n; i += 4) {
		unsigned v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)s[i + k];
			if (c == '=' && i + 4 == n && k >= 2) {
				pad++;
				v[k] = 0;
			} else if (pad > 0 || t[c] == 0xff) {
				explicit_bzero(out, n / 4 * 3 + 1);
				g_free(out);
				return NULL;
			} else {
				v[k] = t[c];
			}
		}
		unsigned w = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
		out[o++] = (char)(w >> 16);
		if (pad < 2)
			out[o++] = (char)(w >> 8 & 0xff);
		if (pad < 1)
			out[o++] = (char)(w & 0xff);
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

static void b64_free(char *s, size_t len)
{
	if (s != NULL) {
		explicit_bzero(s, len);
		g_free(s);
	}
}

static void auth_finish(struct smtp_proto *p, const char *mech, const char *authzid, const char *user,
			const char *password)
{
	struct smtp_reply r = {0};
	int ret = -1;

	p->state = STATE_CMD;
	if (p->cb.auth != NULL)
		ret = p->cb.auth(p->cb.ctx, mech, authzid, user, password, &r);
	else
		set_reply(&r, 535, "5.7.8 Authentication credentials invalid");
	if (ret == 0) {
		p->authenticated = true;
		g_free(p->auth_user);
		p->auth_user = g_strdup(user);
	}
	callback_reply(p, ret == 0, &r, 2, 235, "2.7.0 Authentication successful");
	explicit_bzero(&r, sizeof(r));
}

static void auth_malformed(struct smtp_proto *p)
{
	p->state = STATE_CMD;
	auth_reset(p);
	reply(p, 501, "5.5.2 Invalid authentication response");
}

/* One client response (already base64-checked text, "=" for empty in an initial response). */
static void auth_response(struct smtp_proto *p, const char *resp)
{
	size_t len = 0;
	char *dec;

	if (strcmp(resp, "*") == 0) {
		p->state = STATE_CMD;
		auth_reset(p);
		reply(p, 501, "5.0.0 Authentication cancelled");
		return;
	}
	dec = b64_decode(resp, strlen(resp), &len);
	if (dec == NULL) {
		p->state = STATE_CMD;
		auth_reset(p);
		reply(p, 501, "5.5.2 Cannot decode response");
		return;
	}
	if (p->auth_mech == AUTH_MECH_PLAIN) {
		/* message = [authzid] NUL authcid NUL passwd (RFC 4616 2) */
		const char *authzid = dec, *user, *pass, *end = dec + len;
		const char *nul1 = memchr(dec, '\0', len);
		const char *nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1)) : NULL;
		if (nul1 == NULL || nul2 == NULL ||
		    memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1)) != NULL || nul2 == nul1 + 1 ||
		    nul2 + 1 == end) {
			b64_free(dec, len);
			auth_malformed(p);
			return;
		}
		user = nul1 + 1;
		pass = nul2 + 1;
		auth_finish(p, "PLAIN", authzid, user, pass);
		b64_free(dec, len);
		return;
	}
	/* LOGIN: user name, then password, each one response */
	if (len == 0 || memchr(dec, '\0', len) != NULL) {
		b64_free(dec, len);
		auth_malformed(p);
		return;
	}
	if (p->auth_login_user == NULL) {
		p->auth_login_user = g_strdup(dec);
		b64_free(dec, len);
		p->state = STATE_AUTH;
		output(p, "334 UGFzc3dvcmQ6\r\n", 18); /* "Password:" */
		return;
	}
	auth_finish(p, "LOGIN", "", p->auth_login_user, dec);
	b64_free(dec, len);
	auth_reset(p);
}

static void cmd_auth(struct smtp_proto *p, const char *verb G_GNUC_UNUSED, const char *arg G_GNUC_UNUSED)
{
	const char *sp;
	char mech[32];
	size_t mlen;

	if (!p->set.auth_enabled) {
		reply(p, 503, "5.5.1 AUTH not available");
		return;
	}
	if (!p->extended) {
		replyf(p, 503, "5.5.1 Send %s first", p->set.lmtp ? "LHLO" : "EHLO");
		return;
	}
	if (!auth_offered(p)) {
		reply(p, 538, "5.7.11 Encryption required for requested authentication mechanism");
		return;
	}
	if (p->authenticated) {
		reply(p, 503, "5.5.1 Already authenticated");
		return;
	}
	if (p->mail_active) {
		reply(p, 503, "5.5.1 MAIL transaction in progress");
		return;
	}
	if (arg == NULL) {
		reply(p, 501, "5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	sp = strchr(arg, ' ');
	mlen = sp != NULL ? (size_t)(sp - arg) : strlen(arg);
	if (sp != NULL && (sp[1] == '\0' || strchr(sp + 1, ' ') != NULL)) {
		reply(p, 501, "5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (mlen >= sizeof(mech)) {
		reply(p, 504, "5.5.4 Unrecognized authentication type");
		return;
	}
	memcpy(mech, arg, mlen);
	mech[mlen] = '\0';
	if (g_ascii_strcasecmp(mech, "PLAIN") == 0) {
		p->auth_mech = AUTH_MECH_PLAIN;
	} else if (g_ascii_strcasecmp(mech, "LOGIN") == 0) {
		p->auth_mech = AUTH_MECH_LOGIN;
	} else {
		reply(p, 504, "5.5.4 Unrecognized authentication type");
		return;
	}
	auth_reset(p);
	if (sp != NULL) {
		/* initial response (RFC 4954 4): "=" is an empty one */
		auth_response(p, strcmp(sp + 1, "=") == 0 ? "" : sp + 1);
		return;
	}
	p->state = STATE_AUTH;
	if (p->auth_mech == AUTH_MECH_PLAIN)
		output(p, "334 \r\n", 6);
	else
		output(p, "334 VXNlcm5hbWU6\r\n", 18); /* "Username:" */
}

/* ---- command dispatch ---- */

struct command {
	const char *name;
	void (*fn)(struct smtp_proto *p, const char *verb, const char *arg);
	bool lmtp_only, smtp_only;
};

/* clang-format off */
static const struct command commands[] = {
	{"EHLO", cmd_helo, false, true},
	{"HELO", cmd_helo, false, true},
	{"LHLO", cmd_helo, true, false},
	{"MAIL", cmd_mail, false, false},
	{"RCPT", cmd_rcpt, false, false},
	{"DATA", cmd_data, false, false},
	{"RSET", cmd_rset, false, false},
	{"NOOP", cmd_noop, false, false},
	{"QUIT", cmd_quit, false, false},
	{"VRFY", cmd_vrfy, false, false},
	{"EXPN", cmd_expn, false, false},
	{"HELP", cmd_help, false, false},
	{"STARTTLS", cmd_starttls, false, false},
	{"AUTH", cmd_auth, false, false},
};
/* clang-format on */

/* One complete command line (CRLF removed), in STATE_CMD or STATE_REFUSED. */
static void command_line(struct smtp_proto *p, char *line, size_t len)
{
	const struct command *cmd = NULL;
	char *arg;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c >= 0x7f) {
			reply(p, 500, "5.5.2 Syntax error: invalid character in command");
			return;
		}
	}
	while (len > 0 && line[len - 1] == ' ')
		len--;
	line[len] = '\0';
	if (len == 0) {
		reply(p, 500, "5.5.2 Syntax error: empty command");
		return;
	}
	arg = strchr(line, ' ');
	if (arg != NULL) {
		*arg++ = '\0';
		while (*arg == ' ')
			arg++;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_ascii_strcasecmp(line, commands[i].name) == 0) {
			cmd = &commands[i];
			break;
		}
	}
	if (cmd != NULL && ((cmd->lmtp_only && !p->set.lmtp) || (cmd->smtp_only && p->set.lmtp)))
		cmd = NULL;
	if (p->state == STATE_REFUSED && (cmd == NULL || cmd->fn != cmd_quit)) {
		reply(p, 503, "5.5.1 Bad sequence of commands");
		return;
	}
	if (cmd == NULL) {
		reply(p, 500, "5.5.1 Command unrecognized");
		return;
	}
	cmd->fn(p, line, arg);
}

/* A complete line outside DATA: line[0..len) without its LF. */
static void line_complete(struct smtp_proto *p)
{
	char *line = p->line;
	size_t len = p->line_len;
	bool overflow = p->line_overflow;
	bool secret = p->state == STATE_AUTH || (len >= 5 && g_ascii_strncasecmp(line, "AUTH ", 5) == 0);

	p->line_len = 0;
	p->line_overflow = false;
	if (overflow || len == 0 || line[len - 1] != '\r') {
		if (p->state == STATE_AUTH) {
			p->state = STATE_CMD;
			auth_reset(p);
		}
		if (overflow)
			reply(p, 500, "5.5.2 Line too long");
		else
			reply(p, 500, "5.5.0 Bare LF not allowed");
		goto out;
	}
	len--; /* the CR */
	if (p->state == STATE_AUTH) {
		line[len] = '\0';
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)line[i];
			if (c < 0x20 || c >= 0x7f) {
				line[0] = '!'; /* not base64: "Cannot decode" */
				break;
			}
		}
		auth_response(p, line);
	} else {
		command_line(p, line, len);
	}
out:
	if (secret && p->line != NULL)
		explicit_bzero(p->line, p->line_cap);
	g_ptr_array_set_size(p->scratch, 0);
	if (p->state != STATE_CLOSED && p->state != STATE_TLS_WAIT && p->errors >= p->set.max_errors) {
		output(p, "421 4.7.0 Too many errors\r\n", 27);
		close_session(p);
	}
}

/* Read line bytes; returns how many were used (through the LF, which completes the line). */
static size_t line_input(struct smtp_proto *p, const char *data, size_t len)
{
	const char *lf = memchr(data, '\n', len);
	size_t n = lf != NULL ? (size_t)(lf - data) : len;

	if (!p->line_overflow) {
		if (p->line_len + n > p->set.max_line - 1) {
			p->line_overflow = true;
		} else if (n > 0) {
			if (p->line_len + n + 1 > p->line_cap) {
				size_t cap = MAX(p->line_cap, 128);
				while (cap < p->line_len + n + 1)
					cap *= 2;
				cap = MIN(cap, p->set.max_line + 1);
				p->line = g_realloc(p->line, cap);
				p->line_cap = cap;
			}
			memcpy(p->line + p->line_len, data, n);
			p->line_len += n;
		}
	}
	if (lf == NULL)
		return len;
	if (p->line == NULL) { /* a lone LF */
		p->line = g_malloc(128);
		p->line_cap = 128;
	}
	line_complete(p);
	return n + 1;
}

/* ---- DATA ---- */

static void chunk_flush(struct smtp_proto *p)
{
	if (p->chunk_len == 0)
		return;
	if (!p->data_failed && !p->data_too_big && !p->data_bare_lf && p->cb.data_chunk != NULL &&
	    p->cb.data_chunk(p->cb.ctx, p->chunk, p->chunk_len) != 0)
		p->data_failed = true;
	p->chunk_len = 0;
}

/* Message bytes after unstuffing. Once the message is doomed nothing more is kept. */
static void emit(struct smtp_proto *p, const char *s, size_t n)
{
	p->info.size += n;
	if (p->info.size > p->set.max_message_size)
		p->data_too_big = true;
	if (p->data_failed || p->data_too_big || p->data_bare_lf) {
		p->chunk_len = 0;
		return;
	}
	while (n > 0) {
		size_t k = MIN(n, SMTP_PROTO_DATA_CHUNK - p->chunk_len);
		memcpy(p->chunk + p->chunk_len, s, k);
		p->chunk_len += k;
		s += k;
		n -= k;
		if (p->chunk_len == SMTP_PROTO_DATA_CHUNK)
			chunk_flush(p);
	}
}

static void data_line_end(struct smtp_proto *p)
{
	if (p->data_line_len > p->info.longest_line)
		p->info.longest_line = p->data_line_len;
	if (p->data_line_len > p->set.max_data_line)
		p->info.long_lines = true;
	p->data_line_len = 0;
}

static void data_finish(struct smtp_proto *p)
{
	int n = p->set.lmtp ? p->rcpt_count : 1;
	struct smtp_reply *replies = g_new0(struct smtp_reply, n), dflt = {0};
	bool doomed;

	chunk_flush(p); /* the last piece may fail the message */
	doomed = p->data_too_big || p->data_bare_lf || p->data_failed;
	if (p->data_bare_lf)
		set_reply(&dflt, 550, "5.6.0 Bare LF not allowed");
	else if (p->data_too_big)
		set_reply(&dflt, 552, "5.3.4 Message size exceeds fixed maximum message size");
	else if (p->data_failed)
		set_reply(&dflt, 451, "4.3.0 Error: message not stored");
	for (int i = 0; i < n; i++)
		replies[i] = dflt;
	if (p->cb.data_end != NULL)
		p->cb.data_end(p->cb.ctx, p->data_too_big, p->data_bare_lf, p->data_failed, replies, n);
	p->state = STATE_CMD;
	p->mail_active = false;
	p->rcpt_count = 0;
	for (int i = 0; i < n; i++) {
		struct smtp_reply *r = &replies[i];
		if (doomed && r->code < 400)
			*r = dflt;
		if (r->code == 0)
			set_reply(r, 250, "2.0.0 Ok");
		if (r->code < 200 || r->code > 599 || r->code / 100 == 3)
			set_reply(r, 451, "4.3.0 Internal error");
		send_reply(p, r->code, r->text, strnlen(r->text, sizeof(r->text)), true);
	}
	g_free(replies);
}

/* Read message bytes; returns how many were used (through the final CRLF "." CRLF). */
static size_t data_input(struct smtp_proto *p, const char *data, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)data[i];
		switch (p->ds) {
		case DATA_BOL:
			p->data_line_len = 0;
			if (c == '.') {
				p->ds = DATA_DOT;
				p->data_line_len++;
				i++;
			} else {
				p->ds = DATA_TEXT;
			}
			break;
		case DATA_DOT:
			if (c == '\r') {
				p->ds = DATA_DOT_CR;
				p->data_line_len++;
				i++;
			} else {
				p->ds = DATA_TEXT; /* the leading dot is dropped (RFC 5321 4.5.2) */
			}
			break;
		case DATA_DOT_CR:
			if (c == '\n') {
				i++;
				data_finish(p);
				return i;
			}
			p->ds = DATA_CR; /* ".\r" then not LF: a line "\r..." with the dot dropped */
			break;
		case DATA_TEXT: {
			size_t j = i;
			while (j < len && data[j] != '\r' && data[j] != '\n') {
				if ((unsigned char)data[j] >= 0x80)
					p->info.eight_bit = true;
				j++;
			}
			if (j > i) {
				emit(p, data + i, j - i);
				p->data_line_len += j - i;
				i = j;
				break;
			}
			if (c == '\r') {
				p->ds = DATA_CR;
			} else { /* a bare LF does not end a line: no ".\n" or "\n.\r\n" end */
				p->data_bare_lf = true;
				emit(p, "\n", 1);
			}
			p->data_line_len++;
			i++;
			break;
		}
		case DATA_CR:
			if (c == '\n') {
				emit(p, "\r\n", 2);
				p->data_line_len++;
				data_line_end(p);
				p->ds = DATA_BOL;
				i++;
			} else {
				p->info.bare_cr = true;
				emit(p, "\r", 1);
				if (c == '\r') {
					p->data_line_len++;
					i++;
				} else {
					p->ds = DATA_TEXT;
				}
			}
			break;
		}
	}
	return i;
}

/* ---- public ---- */

void smtp_proto_greet(struct smtp_proto *p)
{
	char *g;
	if (p->state != STATE_NEW)
		return;
	g = g_strdup_printf("220 %s %s faxgate\r\n", p->hostname, p->set.lmtp ? "LMTP" : "ESMTP");
	output(p, g, strlen(g));
	g_free(g);
	p->state = STATE_CMD;
}

void smtp_proto_refuse(struct smtp_proto *p, const char *text)
{
	if (p->state != STATE_NEW)
		return;
	if (text != NULL) {
		send_reply(p, 554, text, strlen(text), false);
	} else {
		char *t = g_strdup_printf("%s Service not available", p->hostname);
		send_reply(p, 554, t, strlen(t), false);
		g_free(t);
	}
	p->state = STATE_REFUSED;
}

int smtp_proto_input(struct smtp_proto *p, const char *data, size_t len)
{
	size_t i = 0;

	if (p == NULL || p->in_input || (data == NULL && len > 0))
		return -1;
	if (p->state == STATE_CLOSED)
		return 0;
	if (len == 0)
		return 1;
	if (p->state == STATE_NEW) {
		/* RFC 5321 4.3.1 is silent; Postfix postscreen calls it pregreet */
		output(p, "554 5.5.0 Talking before the greeting\r\n", 39);
		close_session(p);
		return 0;
	}
	if (p->state == STATE_TLS_WAIT)
		return 1;
	p->in_input = true;
	p->discard_rest = false;
	while (i < len && !p->discard_rest && p->state != STATE_CLOSED && p->state != STATE_TLS_WAIT) {
		if (p->state == STATE_DATA)
			i += data_input(p, data + i, len - i);
		else
			i += line_input(p, data + i, len - i);
	}
	p->discard_rest = false;
	p->in_input = false;
	return p->state == STATE_CLOSED ? 0 : 1;
}

void smtp_proto_tls_started(struct smtp_proto *p)
{
	if (p->state != STATE_TLS_WAIT)
		return;
	p->tls_active = true;
	p->line_len = 0;
	p->line_overflow = false;
	p->state = STATE_CMD;
}

void smtp_proto_timeout(struct smtp_proto *p)
{
	if (p->state == STATE_CLOSED)
		return;
	output(p, "421 4.4.2 Timeout, closing connection\r\n", 39);
	close_session(p);
}

bool smtp_proto_closed(const struct smtp_proto *p)
{
	return p->state == STATE_CLOSED;
}

bool smtp_proto_authenticated(const struct smtp_proto *p)
{
	return p->authenticated;
}

const char *smtp_proto_auth_user(const struct smtp_proto *p)
{
	return p->authenticated ? p->auth_user : NULL;
}

const struct smtp_data_info *smtp_proto_data_info(const struct smtp_proto *p)
{
	return &p->info;
}
