/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_RELAY_CONN_H
#define SMTPGW_RELAY_CONN_H

#include <stdbool.h>

#include "smtpgw/relay.h"

/* The connection to a relay that relay.c hands to libESMTP through a loopback port, with all of
   the TLS (implicit, and STARTTLS) done here; the design is at the top of relay_conn.c. */
struct relay_conn;

/* Connect within settings->timeout_s; for RELAY_TLS_IMPLICIT TLS at once, for STARTTLS (required
   or opportunistic) greeting, EHLO and STARTTLS here and then TLS; with settings->verify the
   certificate chain and the relay's name. Then listen on 127.0.0.1 and bridge the one connection
   made there to the relay in a thread. observe sees the lines of the exchange done here: who 'C'
   a line sent, 'S' a line of the relay, 'T' the TLS agreed ("TLSv1.3 TLS_AES_256_GCM_SHA384,
   certificate verified"). NULL with *error_r; a reply of the relay that ended it (a 421
   greeting, a refused STARTTLS) was observed first. */
struct relay_conn *relay_conn_open(const struct relay_settings *settings,
				   void (*observe)(void *arg, char who, const char *line), void *arg,
				   const char **error_r);
/* "127.0.0.1:PORT", for smtp_set_server(). */
const char *relay_conn_local(const struct relay_conn *conn);
/* The relay's greeting, already observed, is given to libESMTP again (STARTTLS was done here). */
bool relay_conn_replays_greeting(const struct relay_conn *conn);
/* Stop the bridge and wait for its thread: the session is over. */
void relay_conn_finish(struct relay_conn *conn);
/* After relay_conn_finish: what ended the relay's side, when it was not the client leaving ("the
   relay closed the connection", a TLS error...), or NULL. */
const char *relay_conn_error(const struct relay_conn *conn);
/* Finish if not done, close both sides, free. Accepts NULL, clears *connp. */
void relay_conn_close(struct relay_conn **connp);

#endif
