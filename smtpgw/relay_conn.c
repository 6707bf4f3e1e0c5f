/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The connection to a relay, made by us rather than by libESMTP.
 *
 * libESMTP 1.1 connects by itself with a blocking connect() that has no timeout (a relay behind a
 * firewall that drops packets would hold a delivery for minutes), and it speaks TLS only through
 * STARTTLS: it has no implicit TLS (SMTPS, RFC 8314, port 465). So relay_conn makes the
 * connection (resolve; a non-blocking connect bounded by the route's timeout, per address; for
 * tls = implicit the TLS handshake and the certificate check) and hands it to libESMTP through
 * the loopback:
 *
 *     libESMTP --plain--> 127.0.0.1:ephemeral --bridge thread--> relay (TCP, or TLS when implicit)
 *
 * The listening socket takes one connection. The bridge thread accepts it and pumps bytes both
 * ways in a poll loop until libESMTP closes, relay.c says the session is over, or nothing moves
 * for longer than the timeout (libESMTP's own timeouts, the same number, normally end it first).
 * When the relay hangs up, the bridge half-closes toward libESMTP so that it still reads what the
 * relay said last (a 421). With STARTTLS the TLS session runs end to end between libESMTP and the
 * relay through the bridge, which then only sees ciphertext. Every connection takes this path, so
 * the connect timeout and its error texts are the same for all tls modes.
 *
 * Names: libESMTP checks a STARTTLS certificate against the server it was given, which is now
 * 127.0.0.1, and it ignores IP address SANs. So the name is checked by OpenSSL, against the relay's
 * real name or address, set in the SSL_CTX (X509_VERIFY_PARAM) that both TLS paths use; relay.c
 * reads that verify result in libESMTP's certificate events and overrides libESMTP's own name
 * comparison.
 *
 * XXX: another local process could connect to the loopback port before libESMTP does. It would
 * get a connection to the relay like one it could open itself, and no credentials (libESMTP's
 * connection would then never be accepted and the delivery would time out). 127.0.0.1, an
 * ephemeral port and a single accept keep that window small.
 *
 * STANDARDS: RFC 8314 (implicit TLS), RFC 6125 (server identity, by OpenSSL), RFC 6066 (SNI).
 */
#include "smtpgw/relay_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
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

struct relay_conn {
	const char *host;
	int timeout_ms;
	int relay_fd;
	SSL *ssl;          /* implicit TLS on relay_fd, or NULL */
	bool tls_open;     /* a close_notify is owed to the relay */
	int listen_fd;
	int stop_fd[2];    /* relay_conn_finish writes to [1] */
	char local[32];
	GThread *thread;
	char error[256];   /* written by the thread, read after the join */
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

/* One address within the timeout: the socket, or -1 with errno. */
static int connect_address(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
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

/* ---- TLS ---- */

/* XXX: libESMTP makes the SSL of a STARTTLS itself and sends no SNI; the start of the handshake
   is the one hook before its ClientHello is written, and OpenSSL passes it a const SSL. */
static void sni_callback(const SSL *ssl, int where, int ret)
{
	const char *host = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if ((where & SSL_CB_HANDSHAKE_START) && host != NULL &&
	    SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) == NULL)
		SSL_set_tlsext_host_name((SSL *)ssl, host);
}

/* The relay's name goes into the context: it must not outlive settings (relay_send frees both). */
SSL_CTX *relay_conn_tls_ctx(const struct relay_settings *st, const char **error_r)
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
	if ((own ? SSL_CTX_load_verify_locations(ctx, st->ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
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
		SSL_CTX_set_app_data(ctx, (void *)st->host);
		SSL_CTX_set_info_callback(ctx, sni_callback);
	}
	return ctx;
}

const char *relay_conn_cert_problem(const struct relay_settings *st, long verify_result)
{
	if (verify_result == X509_V_OK)
		return NULL;
	bool own = st->ca_file != NULL && *st->ca_file != '\0';
	return error_format("TLS: certificate of %s not accepted: %s (verify = yes, ca_file = %s)", st->host,
			    X509_verify_cert_error_string(verify_result), own ? st->ca_file : "the system's");
}

/* The handshake on c->relay_fd (non-blocking) within the timeout, then the certificate. */
static int tls_connect(struct relay_conn *c, SSL_CTX *ctx, const struct relay_settings *st, const char **error_r)
{
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->relay_fd) != 1)
		return error_set(error_r, "TLS: %s", openssl_error());
	gint64 deadline = deadline_after(c->timeout_ms);
	int r;
	ERR_clear_error();
	while ((r = SSL_connect(c->ssl)) != 1) {
		int e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return error_set(error_r, "TLS handshake with %s failed: %s", st->host,
					 e == SSL_ERROR_SYSCALL && errno != 0 ? g_strerror(errno) : openssl_error());
		if (wait_fd(c->relay_fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) <= 0)
			return error_set(error_r, "TLS handshake with %s: no answer within %d s", st->host,
					 c->timeout_ms / 1000);
	}
	c->tls_open = true;
	if (!st->verify)
		return 0;
	const char *problem = relay_conn_cert_problem(st, SSL_get_verify_result(c->ssl));
	if (problem == NULL && SSL_get0_peer_certificate(c->ssl) == NULL)
		problem = error_format("TLS: %s sent no certificate (verify = yes)", st->host);
	return problem != NULL ? error_set(error_r, "%s", problem) : 0;
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
	struct pollfd p[2] = {{.fd = c->listen_fd, .events = POLLIN}, {.fd = c->stop_fd[0], .events = POLLIN}};
	int n;
	while ((n = poll(p, 2, c->timeout_ms + BRIDGE_GRACE_MS)) < 0 && errno == EINTR)
		;
	int fd = n > 0 && p[1].revents == 0 ? accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
	close(c->listen_fd);
	c->listen_fd = -1;
	return fd;
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
	bool relay_open = true, going = true;
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
				bridge_error(c, error_format("nothing from the relay for %d s", c->timeout_ms / 1000));
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

struct relay_conn *relay_conn_open(const struct relay_settings *st, SSL_CTX *ctx, const char **error_r)
{
	struct relay_conn *c = g_new0(struct relay_conn, 1);
	c->host = st->host;
	c->timeout_ms = MAX(st->timeout_s, 1) * 1000;
	c->listen_fd = c->stop_fd[0] = c->stop_fd[1] = -1;
	c->relay_fd = connect_relay(st, c->timeout_ms, error_r);
	if (c->relay_fd < 0 || (st->tls == RELAY_TLS_IMPLICIT && tls_connect(c, ctx, st, error_r) < 0) ||
	    listen_loopback(c, error_r) < 0 || start_bridge(c, error_r) < 0) {
		relay_conn_close(&c);
		return NULL;
	}
	return c;
}

const char *relay_conn_local(const struct relay_conn *conn)
{
	return conn->local;
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
	g_free(c);
}
