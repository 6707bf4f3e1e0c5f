/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TLS for the SMTP listeners with OpenSSL 3: STARTTLS (RFC 3207) and implicit TLS (RFC 8314),
 * on non-blocking sockets driven by the event loop. TLS 1.2 at least; the certificate and key are
 * checked at start so a bad pair is a clear start-up error, not a failed handshake later.
 */
#include "smtpgw/tls.h"

#include <glib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>

struct tls_server {
	SSL_CTX *ctx;
};

struct tls_conn {
	SSL *ssl;
};

static char last_error[256];

static const char *openssl_error(void)
{
	unsigned long e = ERR_get_error();
	if (e == 0)
		g_strlcpy(last_error, "unknown TLS error", sizeof(last_error));
	else
		ERR_error_string_n(e, last_error, sizeof(last_error));
	ERR_clear_error();
	return last_error;
}

const char *tls_last_error(void)
{
	return last_error;
}

struct tls_server *tls_server_create(const char *cert_file, const char *key_file, const char **error_r)
{
	static char error[600];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = openssl_error();
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	const char *what = NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
		what = cert_file;
	else if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
		what = key_file;
	else if (SSL_CTX_check_private_key(ctx) != 1)
		what = "the key does not match the certificate";
	if (what != NULL) {
		snprintf(error, sizeof(error), "TLS: %s: %s", what, openssl_error());
		*error_r = error;
		SSL_CTX_free(ctx);
		return NULL;
	}
	struct tls_server *server = g_new0(struct tls_server, 1);
	server->ctx = ctx;
	return server;
}

void tls_server_free(struct tls_server **serverp)
{
	if (*serverp == NULL)
		return;
	SSL_CTX_free((*serverp)->ctx);
	g_free(*serverp);
	*serverp = NULL;
}

struct tls_conn *tls_conn_create(struct tls_server *server, int fd)
{
	SSL *ssl = SSL_new(server->ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		openssl_error();
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	struct tls_conn *conn = g_new0(struct tls_conn, 1);
	conn->ssl = ssl;
	return conn;
}

void tls_conn_free(struct tls_conn **connp)
{
	if (*connp == NULL)
		return;
	SSL_free((*connp)->ssl);
	g_free(*connp);
	*connp = NULL;
}

static int classify(struct tls_conn *conn, int ret)
{
	switch (SSL_get_error(conn->ssl, ret)) {
	case SSL_ERROR_WANT_READ: return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE: return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN: return TLS_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			g_strlcpy(last_error, "connection closed during TLS", sizeof(last_error));
			return TLS_CLOSED;
		}
		openssl_error();
		return TLS_ERROR;
	default:
		openssl_error();
		return TLS_ERROR;
	}
}

int tls_conn_handshake(struct tls_conn *conn)
{
	int ret = SSL_do_handshake(conn->ssl);
	if (ret == 1)
		return 1;
	int c = classify(conn, ret);
	return c == TLS_CLOSED ? TLS_ERROR : c;
}

ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t len)
{
	size_t n = 0;
	int ret = SSL_read_ex(conn->ssl, buf, len, &n);
	return ret == 1 ? (ssize_t)n : classify(conn, ret);
}

ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t len)
{
	size_t n = 0;
	int ret = SSL_write_ex(conn->ssl, buf, len, &n);
	return ret == 1 ? (ssize_t)n : classify(conn, ret);
}

int tls_conn_pending(struct tls_conn *conn)
{
	return SSL_pending(conn->ssl);
}

const char *tls_conn_describe(struct tls_conn *conn, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s", SSL_get_version(conn->ssl), SSL_get_cipher_name(conn->ssl));
	return buf;
}
