/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One LDAP connection built from [ldap]: failover URIs, simple bind or SASL EXTERNAL, StartTLS
 * or ldaps with a CA file, network and operation timeouts, no referral chasing, nothing read
 * from ldap.conf or LDAP* variables. A connection that died is rebuilt and the operation tried
 * once more (research/ldap.md §3.6). Not thread-safe: one per thread.
 */
#ifndef LDAPSYNC_LDAPCONN_H
#define LDAPSYNC_LDAPCONN_H

#include <sys/time.h> /* before ldap.h, which uses struct timeval */

#include <ldap.h>
#include <stdbool.h>

struct config;

/* Once per process and before any other libldap call (the other functions here call it):
   libldap then ignores ldap.conf, ldaprc and LDAP* variables (research/ldap.md §4.2). */
void ldapconn_library_init(void);

enum ldapconn_bind {
	LDAPCONN_BIND_NONE,
	LDAPCONN_BIND_SIMPLE,
	LDAPCONN_BIND_EXTERNAL,
};

/* [ldap]'s connection keys, strings owned (ldapconn_settings_clear). */
struct ldapconn_settings {
	char *uris;             /* space-separated, as ldap_initialize() wants them */
	enum ldapconn_bind bind;
	char *bind_dn, *bind_password;
	bool starttls;
	char *ca_file;          /* NULL: the system's */
	bool tls_verify;
	int network_timeout_ms, timeout_ms;
	char *base;
	int scope;              /* LDAP_SCOPE_* */
};

/* 0, or -1 with *error_r (static or g_free'd by nobody: a string of this call's thread) when
   [ldap] is incomplete (no uri, simple bind without DN, unreadable password file). */
int ldapconn_settings_load(const struct config *config, struct ldapconn_settings *settings_r, const char **error_r);
void ldapconn_settings_clear(struct ldapconn_settings *settings);
/* Whether [ldap] uri names a directory at all. */
bool ldapconn_configured(const struct config *config);

struct ldapconn;

/* No I/O yet: the first operation connects. settings are copied. */
struct ldapconn *ldapconn_create(const struct ldapconn_settings *settings);
void ldapconn_free(struct ldapconn **connp);

/* Connect and bind now unless connected. 0, or -1 with *error_r (valid until the next call). */
int ldapconn_open(struct ldapconn *conn, const char **error_r);
/* The bound handle (after ldapconn_open() returned 0), borrowed. */
LDAP *ldapconn_handle(struct ldapconn *conn);
/* Drop the handle (the next operation reconnects). */
void ldapconn_close(struct ldapconn *conn);

/* A search under the settings' timeout, reconnecting and retrying once when the connection was
   dead. *res_r is always set (ldap_msgfree it, even on error). Returns the LDAP result code
   (LDAP_SUCCESS, LDAP_SIZELIMIT_EXCEEDED with the entries there, ...) or a negative API code;
   *error_r describes a failure. */
int ldapconn_search(struct ldapconn *conn, const char *base, int scope, const char *filter, char **attrs,
		    int sizelimit, LDAPMessage **res_r, const char **error_r);

/* The same with server controls (paged results, ...). retry: reconnect and try once more when a
   reused connection was dead; false for a request tied to the connection (the next page of a
   paged search). */
int ldapconn_search_ext(struct ldapconn *conn, const char *base, int scope, const char *filter, char **attrs,
			LDAPControl **serverctrls, bool retry, int sizelimit, LDAPMessage **res_r, const char **error_r);
/* The settings the connection was made with, borrowed. */
const struct ldapconn_settings *ldapconn_settings(const struct ldapconn *conn);

/* Whether rc means the server or the connection is gone (so: unavailable, try later). */
bool ldapconn_rc_unavailable(int rc);

enum ldapconn_check {
	LDAPCONN_CHECK_OK,
	LDAPCONN_CHECK_INVALID,     /* 49 invalidCredentials, or an empty password (refused here) */
	LDAPCONN_CHECK_UNAVAILABLE, /* directory down, timeout, TLS failure, anything else */
};
/* Password check by a simple bind as dn on a separate, short-lived handle (the service
   connection keeps its identity). */
enum ldapconn_check ldapconn_check_password(const struct ldapconn_settings *settings, const char *dn,
					    const char *password, const char **error_r);

/* value escaped for a filter (RFC 4515: * ( ) \ NUL and non-ASCII); g_free. */
char *ldapconn_escape(const char *value);
/* The same for len bytes that may contain NUL. */
char *ldapconn_escape_len(const char *value, size_t len);

#endif
