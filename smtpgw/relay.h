/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_RELAY_H
#define SMTPGW_RELAY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* How the mailer talks to a relay: SMTP through libesmtp. */
enum relay_tls {
	RELAY_TLS_NONE,          /* never TLS */
	RELAY_TLS_OPPORTUNISTIC, /* STARTTLS when offered */
	RELAY_TLS_STARTTLS,      /* STARTTLS or give up (temporary failure) */
	RELAY_TLS_IMPLICIT,      /* TLS from the first byte (SMTPS, port 465) */
};

struct relay_settings {
	const char *host;
	int port;
	enum relay_tls tls;
	const char *ca_file;       /* NULL or "": the system's CA store */
	bool verify;               /* verify the certificate chain and the host name */
	const char *user, *password; /* user NULL or "": no AUTH */
	int timeout_s;
	const char *helo;
};

enum relay_status {
	RELAY_OK,        /* the relay said 250 to the end of data */
	RELAY_TEMPORARY, /* try again later: 4xx, no connection, TLS or network trouble */
	RELAY_PERMANENT, /* 5xx: do not try again */
};

/* What decided one delivery. */
struct relay_result {
	enum relay_status status;
	int code;          /* the SMTP reply code, 0 when there was none (connect failed...) */
	char enhanced[16]; /* "4.7.0", or "" */
	char text[512];    /* the reply text, or the local error */
	bool rate_limited; /* 421/450/451 with enhanced code 4.7.x: the relay wants us slower */
};

/* Deliver one message (an RFC 5322 message, CRLF or LF line ends) from sender ("" for the null
   reverse path) to one recipient. dialogue, when not NULL, gets the SMTP dialogue line by line
   ("C: EHLO ...", "S: 250 ..."), AUTH secrets masked. Thread-safe: many deliveries may run at once
   in different threads. Always fills result; returns 0 when status is RELAY_OK, else -1. */
int relay_send(const struct relay_settings *settings, const char *sender, const char *recipient, const void *msg,
	       size_t len, struct relay_result *result, GString *dialogue);

const char *relay_tls_name(enum relay_tls tls);
int relay_tls_parse(const char *name, enum relay_tls *tls_r);

#endif
