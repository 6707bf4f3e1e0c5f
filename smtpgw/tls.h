/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_TLS_H
#define SMTPGW_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_server;
struct tls_conn;

/* A server context from a PEM certificate chain and key. NULL with *error_r (a start-up error:
   missing file, bad PEM, key not matching the certificate). */
struct tls_server *tls_server_create(const char *cert_file, const char *key_file, const char **error_r);
void tls_server_free(struct tls_server **serverp);

/* TLS on a connected non-blocking socket. */
struct tls_conn *tls_conn_create(struct tls_server *server, int fd);
void tls_conn_free(struct tls_conn **connp);

/* Results of the non-blocking calls. */
#define TLS_WANT_READ (-2)
#define TLS_WANT_WRITE (-3)
#define TLS_CLOSED 0
#define TLS_ERROR (-1)
/* 1 handshake done, or TLS_WANT_READ/TLS_WANT_WRITE/TLS_ERROR. */
int tls_conn_handshake(struct tls_conn *conn);
/* Bytes read/written (> 0), or TLS_CLOSED, TLS_WANT_*, TLS_ERROR. */
ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t len);
ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t len);
/* Bytes already decrypted and waiting (poll will not say so). */
int tls_conn_pending(struct tls_conn *conn);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for the log. */
const char *tls_conn_describe(struct tls_conn *conn, char *buf, size_t size);
/* Why the last call failed, for the log. */
const char *tls_last_error(void);

#endif
