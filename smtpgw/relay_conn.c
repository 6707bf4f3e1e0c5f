/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The connection to a relay, made by us rather than by libESMTP, and all of its TLS.
 *
 * libESMTP 1.1 connects by itself with a blocking connect() that has no timeout (a relay behind a
 * firewall that drops packets would hold a delivery for minutes); it has no implicit TLS (SMTPS,
 * RFC 8314, port 465); and its STARTTLS hangs now and then under TLS 1.3: the session tickets a
 * server sends after the handshake make the socket readable with no data behind them, libESMTP
 * then reads for a reply before it has flushed its next command, and both ends wait until the
 * timeout (seen against Python's SMTP server about one time in five under load, with and
 * without this bridge). So relay_conn makes the connection (resolve; a non-blocking connect
 * bounded by the route's timeout, per address), does TLS itself (for tls = implicit at once; for
 * STARTTLS after reading the greeting, EHLO and STARTTLS here, RFC 3207), checks the
 * certificate, and hands the result to libESMTP as plain SMTP through the loopback:
 *
 *     libESMTP --plain--> 127.0.0.1:ephemeral --bridge thread--> relay (TCP, or TLS)
 *
 * After a STARTTLS done here libESMTP is given the relay's greeting again, and it starts with its
 * own EHLO as RFC 3207 asks after TLS. The listening socket takes one connection; the bridge
 * thread accepts it and pumps bytes both ways in a poll loop until libESMTP closes, relay.c says
 * the session is over, or nothing moves for longer than the timeout (libESMTP's own timeouts,
 * the same number, normally end it first). When the relay hangs up, the bridge half-closes
 * toward libESMTP so that it still reads what the relay said last. Every connection takes this
 * path, so the connect timeout and the error texts are the same for all tls modes.
 *
 * Certificates are verified by OpenSSL against the relay's name or address as configured
 * (X509_VERIFY_PARAM: RFC 6125 names, IP address SANs); the handshake itself does not fail on
 * them, so the reason can be reported, and verify = no accepts a self-signed certificate.
 *
 * XXX: another local process could connect to the loopback port before libESMTP does. It would
 * get a connection to the relay like one it could open itself, and no credentials (libESMTP's
 * connection would then never be accepted and the delivery would time out). 127.0.0.1, an
 * ephemeral port and a single accept keep that window small.
 *
 * STANDARDS: RFC 3207 (STARTTLS, including §5: nothing the relay sent before TLS is kept), RFC
 * 8314 (implicit TLS), RFC 6125 (server identity, by OpenSSL), RFC 6066 (SNI).
 */
#include "smtpgw/relay_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"

/* Past the timeout libESMTP applies itself, for a peer that is stuck rather than slow. */
#define BRIDGE_GRACE_MS 2000
#define BRIDGE_BUFFER 16384

/* Longest reply line read before TLS. */
#define REPLY_LINE_MAX 2048

struct relay_conn {
	const struct relay_settings *st;
	void (*observe)(void *arg, char who, const char *line);
	void *arg;
	int timeout_ms;
	int relay_fd;
	SSL *ssl;	 /* TLS on relay_fd, or NULL */
	bool tls_open;	 /* a close_notify is owed to the relay */
	GString *in;	 /* read from the relay before TLS, not yet a whole line */
	GString *replay; /* the greeting again, for libESMTP after a STARTTLS done here */
	int listen_fd;
	int stop_fd[2]; /* relay_conn_finish writes to [1] */
	char local[32];
	GThread *thread;
	char error[256]; /* written by the thread, read after the join */
};

static gint64 deadline_after(int ms)
{
	return g_get_monotonic_time() + (gint64)ms * 1000;
}

/* 1 when fd is ready for events before the deadline, 0 on timeout, -1 on error. */
static int wait_fd(int fd, short events, gint64 deadline)
{
	for (;;) {
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static const char *openssl_error(void)
{
	unsigned long e = ERR_get_error();
	char text[256];
	ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return e != 0 ? error_format("%s", text) : "the connection was closed";
}

/* ---- connect ---- */

/* The bridge relays each SMTP line as it comes: Nagle's algorithm would hold a short line until the
   peer's delayed ACK (40 ms on Linux), twice per command, once on each side of the bridge. */
static void no_delay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* One address within the timeout: the socket, or -1 with errno. */
static int connect_address(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	no_delay(fd);
	int err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
	if (err == EINPROGRESS) {
		socklen_t len = sizeof(err);
		int ready = wait_fd(fd, POLLOUT, deadline_after(timeout_ms));
		if (ready == 0)
			err = ETIMEDOUT;
		else if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
	}
	if (err != 0) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static const char *address_text(const struct addrinfo *ai, char *buf, size_t size)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return "?";
	snprintf(buf, size, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
	return buf;
}

/* The first of the relay's addresses that accepts; -1 with *error_r naming the last failure. */
static int connect_relay(const struct relay_settings *st, int timeout_ms, const char **error_r)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	char port[16], where[NI_MAXHOST + 16] = "";
	snprintf(port, sizeof(port), "%d", st->port);
	int gai = getaddrinfo(st->host, port, &hints, &res);
	if (gai != 0)
		return error_set(error_r, "cannot resolve relay %s: %s", st->host,
				 gai == EAI_SYSTEM ? g_strerror(errno) : gai_strerror(gai));
	int fd = -1, err = 0;
	for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = connect_address(ai, timeout_ms);
		err = errno;
		address_text(ai, where, sizeof(where));
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
	if (g_hostname_is_ip_address(st->host))
		return error_set(error_r, "connect to %s: %s", where, g_strerror(err));
	return error_set(error_r, "connect to %s (%s): %s", st->host, where, g_strerror(err));
}

/* All of buf to a non-blocking socket within the timeout (never SIGPIPE): 0, or -1 with errno. */
static int send_all(int fd, const char *buf, size_t len, int timeout_ms)
{
	gint64 deadline = deadline_after(timeout_ms);
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		} else if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* ---- TLS ---- */

static SSL_CTX *tls_ctx(const struct relay_settings *st, const char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		error_set(error_r, "TLS: %s", openssl_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* a relay that hangs up without close_notify has still said everything SMTP needs */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* decided after the handshake, with the reason at hand, and only when verify = yes */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	bool own = st->ca_file != NULL && *st->ca_file != '\0';
	if ((own ? SSL_CTX_load_verify_locations(ctx, st->ca_file, NULL)
		 : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		error_set(error_r, "TLS: cannot load CA certificates %s: %s", own ? st->ca_file : "(system)",
			  openssl_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
	if (g_hostname_is_ip_address(st->host)) {
		X509_VERIFY_PARAM_set1_ip_asc(param, st->host);
	} else {
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		X509_VERIFY_PARAM_set1_host(param, st->host, 0);
	}
	return ctx;
}

/* Why the relay's certificate is not acceptable, or NULL. */
static const char *cert_problem(struct relay_conn *c)
{
	const struct relay_settings *st = c->st;
	long result = SSL_get_verify_result(c->ssl);
	bool own = st->ca_file != NULL && *st->ca_file != '\0';
	if (SSL_get0_peer_certificate(c->ssl) == NULL)
		return error_format("TLS: %s sent no certificate (verify = yes)", st->host);
	if (result == X509_V_OK)
		return NULL;
	return error_format("TLS: certificate of %s not accepted: %s (verify = yes, ca_file = %s)", st->host,
			    X509_verify_cert_error_string(result), own ? st->ca_file : "the system's");
}

static int handshake(struct relay_conn *c, const char **error_r)
{
	const char *host = c->st->host;
	gint64 deadline = deadline_after(c->timeout_ms);
	int r;
	ERR_clear_error();
	while ((r = SSL_connect(c->ssl)) != 1) {
		int e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return error_set(error_r, "TLS handshake with %s failed: %s", host,
					 e == SSL_ERROR_SYSCALL && errno != 0 ? g_strerror(errno)
									      : openssl_error());
		if (wait_fd(c->relay_fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) <= 0)
			return error_set(error_r, "TLS handshake with %s: no answer within %d s", host,
					 c->timeout_ms / 1000);
	}
	return 0;
}

/* TLS on c->relay_fd, SNI and all; then the certificate, when verify = yes. */
static int tls_start(struct relay_conn *c, const char **error_r)
{
	SSL_CTX *ctx = tls_ctx(c->st, error_r);
	if (ctx == NULL)
		return -1;
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL holds it */
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->relay_fd) != 1)
		return error_set(error_r, "TLS: %s", openssl_error());
	if (!g_hostname_is_ip_address(c->st->host))
		SSL_set_tlsext_host_name(c->ssl, c->st->host);
	if (handshake(c, error_r) < 0)
		return -1;
	c->tls_open = true;
	const char *problem = c->st->verify ? cert_problem(c) : NULL;
	g_autofree char *agreed = g_strdup_printf(
	    "%s %s, certificate %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl),
	    c->st->verify ? problem ? "not accepted" : "verified" : "not checked (verify = no)");
	c->observe(c->arg, 'T', agreed);
	return problem != NULL ? error_set(error_r, "%s", problem) : 0;
}

/* ---- STARTTLS, before libESMTP ---- */

/* One reply line from the relay, observed: its code (> 0) and whether it is the last line of its
   reply; -1 with *error_r. */
static int read_line(struct relay_conn *c, gint64 deadline, char *line, size_t size, bool *last_r,
		     const char **error_r)
{
	char *nl, buf[1024];
	while ((nl = memchr(c->in->str, '\n', c->in->len)) == NULL) {
		if (c->in->len > REPLY_LINE_MAX)
			return error_set(error_r, "the relay sent a line longer than %d bytes",
					 REPLY_LINE_MAX);
		ssize_t n = recv(c->relay_fd, buf, sizeof(buf), 0);
		if (n > 0)
			g_string_append_len(c->in, buf, n);
		else if (n == 0)
			return error_set(error_r, "the relay closed the connection");
		else if (errno != EAGAIN && errno != EINTR)
			return error_set(error_r, "reading from the relay: %s", g_strerror(errno));
		else if (wait_fd(c->relay_fd, POLLIN, deadline) <= 0)
			return error_set(error_r, "no reply from the relay within %d s",
					 c->timeout_ms / 1000);
	}
	size_t len = (size_t)(nl - c->in->str);
	g_strlcpy(line, c->in->str, MIN(size, len + 1 - (len > 0 && nl[-1] == '\r')));
	g_string_erase(c->in, 0, (gssize)len + 1);
	c->observe(c->arg, 'S', line);
	if (!g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2]) ||
	    (line[3] != ' ' && line[3] != '-' && line[3] != '\0'))
		return error_set(error_r, "the relay does not speak SMTP");
	*last_r = line[3] != '-';
	return atoi(line);
}

/* A whole reply: its code, and whether it names the keyword (an EHLO reply); kept adds its lines. */
static int read_reply(struct relay_conn *c, const char *keyword, bool *named_r, GString *kept,
		      const char **error_r)
{
	gint64 deadline = deadline_after(c->timeout_ms);
	char line[REPLY_LINE_MAX + 1];
	bool last = false;
	int code = 0;
	while (!last) {
		if ((code = read_line(c, deadline, line, sizeof(line), &last, error_r)) < 0)
			return -1;
		if (kept != NULL)
			g_string_append_printf(kept, "%s\r\n", line);
		if (keyword != NULL && line[3] != '\0' &&
		    g_ascii_strncasecmp(line + 4, keyword, strlen(keyword)) == 0 &&
		    (line[4 + strlen(keyword)] == '\0' || line[4 + strlen(keyword)] == ' '))
			*named_r = true;
	}
	return code;
}

static int send_command(struct relay_conn *c, const char *command, const char **error_r)
{
	g_autofree char *line = g_strdup_printf("%s\r\n", command);
	c->observe(c->arg, 'C', command);
	if (send_all(c->relay_fd, line, strlen(line), c->timeout_ms) < 0)
		return error_set(error_r, "writing to the relay: %s", g_strerror(errno));
	return 0;
}

/* The session goes on without TLS (opportunistic): libESMTP gets the greeting and its own EHLO. */
static int go_plain(struct relay_conn *c)
{
	g_string_append_len(c->replay, c->in->str, (gssize)c->in->len);
	g_string_truncate(c->in, 0);
	return 0;
}

/* Greeting, EHLO, STARTTLS and TLS (RFC 3207). tls = starttls ends on whatever stands in the way;
   tls = opportunistic goes on without TLS when the relay offers none or refuses it. */
static int starttls(struct relay_conn *c, const char **error_r)
{
	bool required = c->st->tls == RELAY_TLS_STARTTLS, offered = false;
	g_autofree char *ehlo =
	    g_strdup_printf("EHLO %s", c->st->helo != NULL && *c->st->helo ? c->st->helo : g_get_host_name());
	int code = read_reply(c, NULL, NULL, c->replay, error_r);
	if (code < 0)
		return -1;
	if (code / 100 != 2)
		return error_set(error_r, "the relay refused the session");
	if (send_command(c, ehlo, error_r) < 0 ||
	    (code = read_reply(c, "STARTTLS", &offered, NULL, error_r)) < 0)
		return -1;
	if (code / 100 != 2 || !offered)
		return !required
			   ? go_plain(c)
			   : error_set(error_r, code / 100 != 2
						    ? "the relay refused EHLO (tls = starttls)"
						    : "the relay does not offer STARTTLS (tls = starttls)");
	if (send_command(c, "STARTTLS", error_r) < 0 || (code = read_reply(c, NULL, NULL, NULL, error_r)) < 0)
		return -1;
	if (code != 220)
		return !required ? go_plain(c)
				 : error_set(error_r, "the relay refused STARTTLS (tls = starttls)");
	/* RFC 3207 §5: what came with the 220 was sent before TLS and cannot be trusted after it */
	if (c->in->len > 0)
		return error_set(error_r, "the relay sent more than its reply to STARTTLS: not starting TLS");
	return tls_start(c, error_r);
}

/* ---- the bridge ---- */

static int listen_loopback(struct relay_conn *c, const char **error_r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	c->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(c->listen_fd, 1) < 0 || getsockname(c->listen_fd, (struct sockaddr *)&sin, &len) < 0)
		return error_set(error_r, "loopback socket for the relay connection: %s", g_strerror(errno));
	snprintf(c->local, sizeof(c->local), "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	return 0;
}

static void bridge_error(struct relay_conn *c, const char *text)
{
	if (c->error[0] == '\0')
		g_strlcpy(c->error, text, sizeof(c->error));
}

/* libESMTP's connection, or -1 when the session ended (or never came) first. */
static int accept_client(struct relay_conn *c)
{
	struct pollfd p[2] = {{.fd = c->listen_fd, .events = POLLIN},
			      {.fd = c->stop_fd[0], .events = POLLIN}};
	int n;
	while ((n = poll(p, 2, c->timeout_ms + BRIDGE_GRACE_MS)) < 0 && errno == EINTR)
		;
	int fd =
	    n > 0 && p[1].revents == 0 ? accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
	close(c->listen_fd);
	c->listen_fd = -1;
	if (fd >= 0)
		no_delay(fd);
	return fd;
}

/* From the relay: bytes (> 0), 0 when it closed, -1 on an error (c->error set), -2 nothing now. */
static ssize_t relay_read(struct relay_conn *c, char *buf, size_t size)
{
	if (c->ssl == NULL) {
		ssize_t n = recv(c->relay_fd, buf, size, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return -2;
		if (n < 0)
			bridge_error(c, error_format("reading from the relay: %s", g_strerror(errno)));
		return n;
	}
	ERR_clear_error();
	int n = SSL_read(c->ssl, buf, (int)MIN(size, (size_t)INT_MAX));
	if (n > 0)
		return n;
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_WRITE: /* a renegotiation wants to write first */
		wait_fd(c->relay_fd, POLLOUT, deadline_after(c->timeout_ms));
		return -2;
	case SSL_ERROR_WANT_READ:
		return -2;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		c->tls_open = false;
		bridge_error(c, error_format("TLS with the relay: %s", openssl_error()));
		return -1;
	}
}

/* All of buf to the relay: 0, or -1 with c->error set. */
static int relay_write(struct relay_conn *c, const char *buf, size_t len)
{
	if (c->ssl == NULL) {
		if (send_all(c->relay_fd, buf, len, c->timeout_ms) == 0)
			return 0;
		bridge_error(c, error_format("writing to the relay: %s", g_strerror(errno)));
		return -1;
	}
	gint64 deadline = deadline_after(c->timeout_ms);
	while (len > 0) {
		ERR_clear_error();
		int n = SSL_write(c->ssl, buf, (int)MIN(len, (size_t)INT_MAX));
		int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, n);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			c->tls_open = false;
			bridge_error(c, error_format("TLS with the relay: %s", openssl_error()));
			return -1;
		} else if (wait_fd(c->relay_fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) <= 0) {
			bridge_error(c, "writing to the relay: timed out");
			return -1;
		}
	}
	return 0;
}

/* The relay's side is over: libESMTP reads what it has, then sees the end. */
static void relay_gone(int client, bool *relay_open)
{
	*relay_open = false;
	shutdown(client, SHUT_WR);
}

/* Relay to client; false when the client is gone. */
static bool pump_from_relay(struct relay_conn *c, int client, char *buf, bool *relay_open)
{
	ssize_t n = relay_read(c, buf, BRIDGE_BUFFER);
	if (n > 0)
		return send_all(client, buf, (size_t)n, c->timeout_ms) == 0;
	if (n == 0) {
		c->tls_open = false;
		bridge_error(c, "the relay closed the connection");
	}
	if (n != -2)
		relay_gone(client, relay_open);
	return true;
}

/* Client to relay; false when libESMTP closed (the session is over). */
static bool pump_to_relay(struct relay_conn *c, int client, char *buf, bool *relay_open)
{
	ssize_t n = recv(client, buf, BRIDGE_BUFFER, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	if (*relay_open && relay_write(c, buf, (size_t)n) < 0)
		relay_gone(client, relay_open);
	return true;
}

static gpointer bridge_run(gpointer data)
{
	struct relay_conn *c = data;
	int client = accept_client(c);
	if (client < 0) {
		bridge_error(c, "the SMTP client did not connect to the bridge");
		return NULL;
	}
	char *buf = g_malloc(BRIDGE_BUFFER);
	bool relay_open = true;
	bool going = send_all(client, c->replay->str, c->replay->len, c->timeout_ms) == 0;
	while (going) {
		bool pending = relay_open && c->ssl != NULL && SSL_pending(c->ssl) > 0;
		struct pollfd p[3] = {{.fd = client, .events = POLLIN},
				      {.fd = c->stop_fd[0], .events = POLLIN},
				      {.fd = relay_open ? c->relay_fd : -1, .events = POLLIN}};
		int n = poll(p, 3, pending ? 0 : c->timeout_ms + BRIDGE_GRACE_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[1].revents != 0 || (n == 0 && !pending)) {
			if (n == 0 && relay_open)
				bridge_error(
				    c, error_format("nothing from the relay for %d s", c->timeout_ms / 1000));
			break;
		}
		if (pending || p[2].revents != 0)
			going = pump_from_relay(c, client, buf, &relay_open);
		if (going && p[0].revents != 0)
			going = pump_to_relay(c, client, buf, &relay_open);
	}
	close(client);
	g_free(buf);
	return NULL;
}

static int start_bridge(struct relay_conn *c, const char **error_r)
{
	GError *gerr = NULL;
	if (pipe2(c->stop_fd, O_CLOEXEC) < 0)
		return error_set(error_r, "relay bridge: %s", g_strerror(errno));
	c->thread = g_thread_try_new("relay-bridge", bridge_run, c, &gerr);
	if (c->thread != NULL)
		return 0;
	error_set(error_r, "relay bridge: %s", gerr->message);
	g_error_free(gerr);
	return -1;
}

/* ---- the object ---- */

struct relay_conn *relay_conn_open(const struct relay_settings *st,
				   void (*observe)(void *arg, char who, const char *line), void *arg,
				   const char **error_r)
{
	struct relay_conn *c = g_new0(struct relay_conn, 1);
	c->st = st;
	c->observe = observe;
	c->arg = arg;
	c->timeout_ms = MAX(st->timeout_s, 1) * 1000;
	c->in = g_string_new(NULL);
	c->replay = g_string_new(NULL);
	c->listen_fd = c->stop_fd[0] = c->stop_fd[1] = -1;
	c->relay_fd = connect_relay(st, c->timeout_ms, error_r);
	bool ok = c->relay_fd >= 0;
	if (ok && st->tls == RELAY_TLS_IMPLICIT)
		ok = tls_start(c, error_r) == 0;
	else if (ok && (st->tls == RELAY_TLS_STARTTLS || st->tls == RELAY_TLS_OPPORTUNISTIC))
		ok = starttls(c, error_r) == 0;
	if (!ok || listen_loopback(c, error_r) < 0 || start_bridge(c, error_r) < 0) {
		relay_conn_close(&c);
		return NULL;
	}
	return c;
}

const char *relay_conn_local(const struct relay_conn *conn)
{
	return conn->local;
}

bool relay_conn_replays_greeting(const struct relay_conn *conn)
{
	return conn->replay->len > 0;
}

const char *relay_conn_error(const struct relay_conn *conn)
{
	return conn->thread == NULL && conn->error[0] != '\0' ? conn->error : NULL;
}

void relay_conn_finish(struct relay_conn *conn)
{
	if (conn->thread == NULL)
		return;
	char stop = 1;
	if (write(conn->stop_fd[1], &stop, 1) != 1)
		abort(); /* a pipe nobody else writes to: cannot be full */
	g_thread_join(conn->thread);
	conn->thread = NULL;
}

static void close_fd(int *fdp)
{
	if (*fdp >= 0)
		close(*fdp);
	*fdp = -1;
}

void relay_conn_close(struct relay_conn **connp)
{
	struct relay_conn *c = *connp;
	if (c == NULL)
		return;
	*connp = NULL;
	relay_conn_finish(c);
	if (c->tls_open)
		SSL_shutdown(c->ssl); /* one try: the close_notify is a courtesy */
	SSL_free(c->ssl);
	close_fd(&c->relay_fd);
	close_fd(&c->listen_fd);
	close_fd(&c->stop_fd[0]);
	close_fd(&c->stop_fd[1]);
	g_string_free(c->in, TRUE);
	g_string_free(c->replay, TRUE);
	g_free(c);
}
