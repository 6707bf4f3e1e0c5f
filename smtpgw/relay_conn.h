/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_RELAY_CONN_H
#define SMTPGW_RELAY_CONN_H

#include <openssl/ssl.h>

#include "smtpgw/relay.h"

/* The connection to a relay that relay.c hands to libESMTP through a loopback port (the design
   is described at the top of relay_conn.c). */
struct relay_conn;

/* The client TLS context for a relay: settings->ca_file or the system's CAs, TLS 1.2 at least,
   the relay's name (or address) as the name to verify, SNI. Verification results are read after
   the handshake (relay_conn_cert_problem), so the handshake itself does not fail on them.
   NULL with *error_r (a CA file that cannot be read). SSL_CTX_free it. */
SSL_CTX *relay_conn_tls_ctx(const struct relay_settings *settings, const char **error_r);
/* Why a verified peer is not acceptable (OpenSSL's verify result; the name is part of it), or NULL. */
const char *relay_conn_cert_problem(const struct relay_settings *settings, long verify_result);

/* Connect to the relay within settings->timeout_s; for RELAY_TLS_IMPLICIT also the TLS handshake
   with ctx and, when settings->verify, the certificate check. Then listen on 127.0.0.1 and bridge
   the one connection made there to the relay in a thread. NULL with *error_r. */
struct relay_conn *relay_conn_open(const struct relay_settings *settings, SSL_CTX *ctx, const char **error_r);
/* "127.0.0.1:PORT", for smtp_set_server(). */
const char *relay_conn_local(const struct relay_conn *conn);
/* What ended the relay's side when it was not the client leaving ("the relay closed the
   connection", a timeout, a TLS error), or NULL. Valid after relay_conn_close's join, so call
   relay_conn_finish first. */
const char *relay_conn_error(const struct relay_conn *conn);
/* Stop the bridge and wait for its thread (the session is over). */
void relay_conn_finish(struct relay_conn *conn);
/* Finish if not done, close both sides, free. Accepts NULL, clears *connp. */
void relay_conn_close(struct relay_conn **connp);

#endif
