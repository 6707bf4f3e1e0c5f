/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One message to one recipient through an SMTP relay. libESMTP 1.1 speaks the protocol (EHLO,
 * AUTH, PIPELINING, SIZE, dot-stuffing) in plain text; relay_conn.c makes the connection and does
 * all of the TLS, STARTTLS included (why: the top of relay_conn.c), and hands it over through a
 * loopback bridge. Each call has its own libESMTP session, connection and bridge thread, so
 * deliveries run in parallel threads; the only process-wide state is libESMTP's list of SASL
 * plugins (auth_client_init, once).
 *
 * What decides the result, in this order: a refused MAIL FROM; a refused RCPT TO (libESMTP still
 * sends DATA then, and the relay's "no valid recipients" is not the reason); the reply to the end
 * of DATA. When the session never got that far: the relay's last 4xx/5xx (a 421 greeting, a
 * refused EHLO or STARTTLS: libESMTP keeps those in a status it does not export, so its protocol
 * monitor is read), then relay_conn's verdict (the certificate, no STARTTLS under tls =
 * starttls, the connection's end), then libESMTP's error. A refused AUTH makes any failure
 * temporary with the AUTH reply, whatever the relay said to the MAIL FROM that followed (libESMTP
 * goes on without AUTH): credentials are the admin's to fix, and the mail should wait for that
 * rather than bounce (as Postfix's smtp_sasl_auth_soft_bounce).
 *
 * libESMTP, as its 1.1 source does it: it converts no line ends, so the message goes to it with
 * CRLF; it dot-stuffs by itself; it edits the header block a little (drops Return-Path, keeps the
 * first of a repeated Date/From/To/Cc/Subject..., adds Date, From and Message-Id when missing);
 * its protocol monitor is off during the message content and gets raw buffers (several commands
 * when pipelining, parts of lines), so lines are put together here. Its timeouts are per phase,
 * in milliseconds, raised to RFC 5321's minutes unless overridden: the route's timeout overrides
 * them (a relay is a known smarthost, and the admin's number is the one that should hold), above
 * libESMTP's floor of one second.
 *
 * STANDARDS: RFC 5321, RFC 4954 (AUTH), RFC 3463 (enhanced status codes), RFC 2920
 * (PIPELINING), RFC 1870 (SIZE).
 */
#include "smtpgw/relay.h"

#include <auth-client.h>
#include <libesmtp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "smtpgw/relay_conn.h"

/* libESMTP takes the message in pieces (its lengths are ints). */
#define MESSAGE_CHUNK (64 * 1024)

/* The final line of one reply of the relay. */
struct reply {
	int code;
	char text[512];
};

/* One delivery. */
struct session {
	const struct relay_settings *st;
	GString *msg;		   /* CRLF line ends */
	size_t pos;		   /* how much libESMTP has taken */
	GString *dialogue;	   /* the caller's, or NULL */
	GString *partial[2];	   /* an incomplete monitor line: [0] read, [1] written */
	struct reply last;	   /* the relay's last complete reply */
	struct reply refusal;	   /* its last 4xx or 5xx, code 0 when none */
	struct reply auth_refused; /* code 0 unless the relay refused AUTH */
	bool in_auth;		   /* the last command was AUTH or an answer to a 334 */
	size_t data_bytes;	   /* message bytes libESMTP sent so far */
	bool data_shown;
	int replayed; /* replies libESMTP reads that were shown already (the greeting) */
};

static const char *const tls_names[] = {"none", "opportunistic", "starttls", "implicit"};

const char *relay_tls_name(enum relay_tls tls)
{
	return (unsigned)tls < G_N_ELEMENTS(tls_names) ? tls_names[tls] : "?";
}

int relay_tls_parse(const char *name, enum relay_tls *tls_r)
{
	for (size_t i = 0; name != NULL && i < G_N_ELEMENTS(tls_names); i++)
		if (g_ascii_strcasecmp(name, tls_names[i]) == 0) {
			*tls_r = (enum relay_tls)i;
			return 0;
		}
	return -1;
}

/* ---- the dialogue ---- */

static void say(struct session *s, const char *who, const char *text)
{
	char clean[1024];
	if (s->dialogue != NULL)
		g_string_append_printf(s->dialogue, "%s: %s\n", who,
				       log_printable(clean, sizeof(clean), text, strlen(text)));
}

/* libESMTP does not monitor the message itself: one line says it went, before the reply to it. */
static void show_message(struct session *s)
{
	if (s->data_bytes == 0 || s->data_shown)
		return;
	s->data_shown = true;
	if (s->dialogue != NULL)
		g_string_append_printf(s->dialogue, "C: <message, %zu bytes>\n", s->msg->len);
}

/* AUTH secrets are masked: the initial response after the mechanism, and every answer to a 334. */
static void client_line(struct session *s, const char *line)
{
	bool answer = s->in_auth && s->last.code == 334;
	bool auth = g_ascii_strncasecmp(line, "AUTH ", 5) == 0;
	const char *space = auth ? strchr(line + 5, ' ') : NULL;
	if (answer) {
		say(s, "C", "****");
	} else if (space != NULL) {
		g_autofree char *masked = g_strdup_printf("%.*s ****", (int)(space - line), line);
		say(s, "C", masked);
	} else {
		say(s, "C", line);
	}
	s->in_auth = answer || auth;
}

static void server_line(struct session *s, const char *line)
{
	if (s->replayed > 0) {
		s->replayed -= line[3] != '-';
		return;
	}
	say(s, "S", line);
	if (!g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2]) ||
	    line[3] == '-')
		return;
	s->last.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	g_strlcpy(s->last.text, line[3] != '\0' ? line + 4 : "", sizeof(s->last.text));
	if (s->last.code >= 400)
		s->refusal = s->last;
	if (s->in_auth && s->last.code >= 400)
		s->auth_refused = s->last;
}

static void monitor_cb(const char *buf, int len, int writing, void *arg)
{
	struct session *s = arg;
	if (writing == SMTP_CB_HEADERS)
		return;
	if (writing == SMTP_CB_READING)
		show_message(s);
	GString *p = s->partial[writing == SMTP_CB_WRITING];
	g_string_append_len(p, buf, len);
	size_t start = 0;
	char *nl;
	while ((nl = memchr(p->str + start, '\n', p->len - start)) != NULL) {
		*nl = '\0';
		if (nl > p->str + start && nl[-1] == '\r')
			nl[-1] = '\0';
		if (writing == SMTP_CB_WRITING)
			client_line(s, p->str + start);
		else
			server_line(s, p->str + start);
		start = (size_t)(nl + 1 - p->str);
	}
	g_string_erase(p, 0, (gssize)start);
}

/* ---- libESMTP's callbacks ---- */

/* The message went out (the monitor does not see it). */
static void event_cb(smtp_session_t session, int event, void *arg, ...)
{
	struct session *s = arg;
	va_list ap;
	va_start(ap, arg);
	if (event == SMTP_EV_MESSAGEDATA) {
		(void)va_arg(ap, smtp_message_t);
		s->data_bytes += (size_t)va_arg(ap, int);
	}
	va_end(ap);
}

/* The exchange relay_conn does before libESMTP (STARTTLS), in the same dialogue. */
static void observe(void *arg, char who, const char *line)
{
	struct session *s = arg;
	if (who == 'C')
		client_line(s, line);
	else if (who == 'S')
		server_line(s, line);
	else
		say(s, "TLS", line);
}

/* The message from memory; a NULL len asks to start again. */
static const char *message_cb(void **ctx, int *len, void *arg)
{
	struct session *s = arg;
	if (len == NULL) {
		s->pos = 0;
		return NULL;
	}
	size_t n = MIN(s->msg->len - s->pos, (size_t)MESSAGE_CHUNK);
	const char *p = s->msg->str + s->pos;
	s->pos += n;
	*len = (int)n;
	return n > 0 ? p : NULL;
}

static int interact_cb(auth_client_request_t request, char **result, int fields, void *arg)
{
	struct session *s = arg;
	for (int i = 0; i < fields; i++) {
		const char *v = (request[i].flags & AUTH_USER)	 ? s->st->user
				: (request[i].flags & AUTH_PASS) ? s->st->password
								 : "";
		result[i] = (char *)(v != NULL ? v : "");
	}
	return 1;
}

/* The message with CRLF line ends (a lone LF gets its CR), ending in one. */
static GString *crlf_message(const char *msg, size_t len)
{
	GString *out = g_string_sized_new(len + len / 32 + 2);
	const char *end = msg + len, *nl;
	while ((nl = memchr(msg, '\n', (size_t)(end - msg))) != NULL) {
		g_string_append_len(out, msg, nl - msg);
		g_string_append(out, out->len > 0 && out->str[out->len - 1] == '\r' ? "\n" : "\r\n");
		msg = nl + 1;
	}
	g_string_append_len(out, msg, end - msg);
	if (out->len < 2 || memcmp(out->str + out->len - 2, "\r\n", 2) != 0)
		g_string_append(out, "\r\n");
	return out;
}

/* ---- the result ---- */

/* The RFC 3463 code at the start of text when its class matches code's, else "": its length. */
static int enhanced_prefix(int code, const char *text, char *out, size_t size)
{
	int cls = 0, subject = 0, detail = 0, n = 0;
	if (!g_ascii_isdigit(text[0]) || sscanf(text, "%1d.%3d.%3d%n", &cls, &subject, &detail, &n) != 3 ||
	    cls != code / 100 || (text[n] != '\0' && text[n] != ' '))
		return 0;
	snprintf(out, size, "%d.%d.%d", cls, subject, detail);
	return n;
}

/* A reply of the relay; enhanced "" when libESMTP did not parse one (the relay did not announce
   ENHANCEDSTATUSCODES): then it is read from the text. */
static void set_result(struct relay_result *r, int code, const char *enhanced, const char *text)
{
	g_autofree char *flat = g_strdup(text != NULL ? text : "");
	g_strdelimit(flat, "\r\n\t", ' ');
	const char *t = g_strstrip(flat);
	r->code = code;
	r->status = code / 100 == 2 ? RELAY_OK : code / 100 == 5 ? RELAY_PERMANENT : RELAY_TEMPORARY;
	g_strlcpy(r->enhanced, enhanced, sizeof(r->enhanced));
	if (r->enhanced[0] == '\0')
		t += enhanced_prefix(code, t, r->enhanced, sizeof(r->enhanced));
	else if (g_str_has_prefix(t, r->enhanced))
		t += strlen(r->enhanced);
	while (*t == ' ')
		t++;
	log_printable(r->text, sizeof(r->text), t, strlen(t));
	r->rate_limited =
	    (code == 421 || code == 450 || code == 451) && g_str_has_prefix(r->enhanced, "4.7.");
}

static void result_from_status(struct relay_result *r, const smtp_status_t *st)
{
	char enhanced[16] = "";
	if (st->enh_class > 0)
		snprintf(enhanced, sizeof(enhanced), "%d.%d.%d", st->enh_class, st->enh_subject,
			 st->enh_detail);
	set_result(r, st->code, enhanced, st->text);
}

/* No reply decided it: temporary, code 0. */
static void result_local(struct relay_result *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->status = RELAY_TEMPORARY;
	g_strlcpy(r->text, text != NULL ? text : "unknown error", sizeof(r->text));
}

static bool refused(const smtp_status_t *st)
{
	return st != NULL && st->code != 0 && st->code / 100 != 2;
}

static void decide(struct session *s, smtp_message_t message, smtp_recipient_t rcpt, const char *conn_error,
		   int smtp_err, struct relay_result *r)
{
	const smtp_status_t *mail = smtp_reverse_path_status(message), *to = smtp_recipient_status(rcpt);
	const smtp_status_t *data = smtp_message_transfer_status(message);
	char text[256];
	if (refused(mail))
		result_from_status(r, mail);
	else if (refused(to))
		result_from_status(r, to);
	else if (data != NULL && data->code != 0)
		result_from_status(r, data);
	else if (s->refusal.code != 0)
		set_result(r, s->refusal.code, "", s->refusal.text);
	else if (conn_error != NULL)
		result_local(r, conn_error);
	else if (smtp_err ==
		 SMTP_ERR_DROPPED_CONNECTION) /* libESMTP gave up waiting; the relay is still there */
		result_local(r,
			     error_format("no reply from the relay within %d s", MAX(s->st->timeout_s, 1)));
	else
		result_local(r, smtp_err != 0 ? smtp_strerror(smtp_err, text, sizeof(text))
					      : "the relay ended the session");
	if (r->status != RELAY_OK && s->auth_refused.code != 0) {
		set_result(r, s->auth_refused.code, "", s->auth_refused.text);
		r->status = RELAY_TEMPORARY;
	}
}

/* ---- the session ---- */

/* PLAIN and LOGIN send the password as it is. They are allowed on every connection, also one
   without TLS (tls = none, or opportunistic when the relay offers no STARTTLS), because the admin
   configured a user and password for this route; a route that must not send them in the clear
   says tls = starttls or implicit. */
static auth_context_t auth_create(struct session *s)
{
	auth_context_t auth = auth_create_context();
	if (auth != NULL) {
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, interact_cb, s);
	}
	return auth;
}

static smtp_session_t session_create(struct session *s, const char *server, auth_context_t *auth_r)
{
	static const int phases[] = {Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA, Timeout_TRANSFER,
				     Timeout_DATA2};
	const struct relay_settings *st = s->st;
	smtp_session_t session = smtp_create_session();
	if (session == NULL)
		return NULL;
	if (!smtp_set_server(session, server) ||
	    (st->helo != NULL && *st->helo != '\0' && !smtp_set_hostname(session, st->helo))) {
		smtp_destroy_session(session);
		return NULL;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(phases); i++)
		smtp_set_timeout(session, phases[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
				 (long)MAX(st->timeout_s, 1) * 1000);
	smtp_set_monitorcb(session, monitor_cb, s, 0);
	smtp_set_eventcb(session, event_cb, s);
	smtp_starttls_enable(session, Starttls_DISABLED); /* done before, by relay_conn */
	if (st->user != NULL && *st->user != '\0' && (*auth_r = auth_create(s)) != NULL)
		smtp_auth_set_context(session, *auth_r);
	return session;
}

static void run(struct session *s, struct relay_conn *conn, const char *sender, const char *recipient,
		struct relay_result *r)
{
	auth_context_t auth = NULL;
	smtp_session_t session = session_create(s, relay_conn_local(conn), &auth);
	smtp_message_t message = session != NULL ? smtp_add_message(session) : NULL;
	smtp_recipient_t rcpt = NULL;
	char text[256];
	if (message != NULL && smtp_set_reverse_path(message, sender != NULL ? sender : "") &&
	    smtp_set_messagecb(message, message_cb, s) && smtp_size_set_estimate(message, s->msg->len))
		rcpt = smtp_add_recipient(message, recipient);
	if (rcpt == NULL) {
		result_local(r, smtp_strerror(smtp_errno(), text, sizeof(text)));
	} else {
		smtp_start_session(session);
		int err = smtp_errno();
		relay_conn_finish(conn);
		show_message(s);
		decide(s, message, rcpt, relay_conn_error(conn), err, r);
	}
	if (session != NULL)
		smtp_destroy_session(session);
	if (auth != NULL)
		auth_destroy_context(auth);
}

/* libESMTP and OpenSSL write to sockets with write(): a relay that hangs up would raise SIGPIPE
   in a program that does not ignore it (faxctl). It is blocked for the delivery (the bridge
   thread inherits that), and one raised meanwhile is taken before the mask is restored. */
static bool sigpipe_block(sigset_t *old)
{
	sigset_t pipe_set, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, old);
	sigpending(&pending);
	return sigismember(&pending, SIGPIPE) == 1;
}

static void sigpipe_restore(const sigset_t *old, bool was_pending)
{
	sigset_t pipe_set, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	if (!was_pending && sigismember(&pending, SIGPIPE) == 1) {
		struct timespec now = {0, 0};
		sigtimedwait(&pipe_set, NULL, &now);
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void flush_partial(struct session *s)
{
	if (s->partial[0]->len > 0)
		say(s, "S", s->partial[0]->str);
	if (s->partial[1]->len > 0)
		say(s, "C", s->partial[1]->str);
	g_string_free(s->partial[0], TRUE);
	g_string_free(s->partial[1], TRUE);
}

int relay_send(const struct relay_settings *settings, const char *sender, const char *recipient,
	       const void *msg, size_t len, struct relay_result *result, GString *dialogue)
{
	static gsize sasl_ready;
	if (g_once_init_enter(&sasl_ready)) {
		auth_client_init();
		g_once_init_leave(&sasl_ready, 1);
	}
	memset(result, 0, sizeof(*result));
	struct session s = {.st = settings, .dialogue = dialogue};
	s.msg = crlf_message(msg, len);
	s.partial[0] = g_string_new(NULL);
	s.partial[1] = g_string_new(NULL);
	sigset_t old;
	bool was_pending = sigpipe_block(&old);
	const char *error = NULL;
	struct relay_conn *conn = relay_conn_open(settings, observe, &s, &error);
	if (conn != NULL) {
		s.replayed = relay_conn_replays_greeting(conn);
		run(&s, conn, sender, recipient, result);
	} else if (s.refusal.code != 0) {
		set_result(result, s.refusal.code, "", s.refusal.text);
	} else {
		result_local(result, error);
	}
	relay_conn_close(&conn);
	sigpipe_restore(&old, was_pending);
	flush_partial(&s);
	g_string_free(s.msg, TRUE);
	return result->status == RELAY_OK ? 0 : -1;
}
