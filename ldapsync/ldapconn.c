/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One LDAP connection from [ldap] (LDAPv3, RFC 4511): failover over the URI list in order,
 * StartTLS (RFC 4513 §3) or ldaps with a CA file of its own, simple bind or SASL EXTERNAL
 * (RFC 4422 appendix A), bounded connect and operation times, no referral chasing, filter
 * values escaped by RFC 4515.
 *
 * Nothing comes from the host: libldap would read ldap.conf, ~/.ldaprc, ./ldaprc and LDAP*
 * variables on its first use, so LDAPNOINIT is set once before the first handle
 * (research/ldap.md §4.2) and every option the gateway relies on is set on each handle. TLS
 * options are per handle and need LDAP_OPT_X_TLS_NEWCTX to take effect (§3.1).
 *
 * A handle whose server went away stays dead (§3.6): it is dropped and the operation tried once
 * more on a new connection, unless the handle was new (then the server is down: report it) or
 * the failure was a timeout (a frozen server: retrying only doubles the wait).
 */
#include "ldapsync/ldapconn.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"

/* TCP keepalive of the service connection: a dead peer is noticed within about 90 s. */
#define LDAPCONN_KEEPALIVE_IDLE_S 60
#define LDAPCONN_KEEPALIVE_PROBES 3
#define LDAPCONN_KEEPALIVE_INTERVAL_S 10
/* Longest password file line read. */
#define LDAPCONN_PASSWORD_MAX 1024

struct ldapconn {
	struct ldapconn_settings set;
	LDAP *ld;
};

void ldapconn_library_init(void)
{
	/* Set, even empty, LDAPNOINIT makes libldap skip ldap.conf, ldaprc and LDAP* variables. */
	static gsize done;
	if (g_once_init_enter(&done)) {
		setenv("LDAPNOINIT", "1", 1);
		g_once_init_leave(&done, 1);
	}
}

bool ldapconn_configured(const struct config *config)
{
	const char *const *uris = config_list(config, "ldap", "uri");
	return uris[0] != NULL;
}

/* The first line of path, without its line end. */
static int read_password_file(const char *path, char **password_r, const char **error_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return error_set(error_r, "[ldap] bind_password_file %s: %s", path, g_strerror(errno));
	char line[LDAPCONN_PASSWORD_MAX];
	bool got = fgets(line, sizeof(line), f) != NULL;
	bool bad = ferror(f);
	fclose(f);
	if (bad)
		return error_set(error_r, "[ldap] bind_password_file %s: read error", path);
	if (!got)
		line[0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	*password_r = g_strdup(line);
	return 0;
}

int ldapconn_settings_load(const struct config *config, struct ldapconn_settings *settings_r,
			   const char **error_r)
{
	struct ldapconn_settings *s = settings_r;
	memset(s, 0, sizeof(*s));
	/* A list item may itself hold several URIs separated by spaces, as ldap_initialize() takes them. */
	GString *uris = g_string_new(NULL);
	const char *const *items = config_list(config, "ldap", "uri");
	for (int i = 0; items[i] != NULL; i++) {
		g_auto(GStrv) words = g_strsplit_set(items[i], " \t", -1);
		for (int j = 0; words[j] != NULL; j++)
			if (*words[j] != '\0')
				g_string_append_printf(uris, "%s%s", uris->len > 0 ? " " : "", words[j]);
	}
	s->uris = g_string_free(uris, FALSE);
	const char *bind = config_str(config, "ldap", "bind");
	s->bind = strcmp(bind, "none") == 0	  ? LDAPCONN_BIND_NONE
		  : strcmp(bind, "external") == 0 ? LDAPCONN_BIND_EXTERNAL
						  : LDAPCONN_BIND_SIMPLE;
	const char *dn = config_str(config, "ldap", "bind_dn");
	s->bind_dn = *dn != '\0' ? g_strdup(dn) : NULL;
	s->starttls = config_bool(config, "ldap", "starttls");
	const char *ca = config_str(config, "ldap", "ca_file");
	s->ca_file = *ca != '\0' ? g_strdup(ca) : NULL;
	s->tls_verify = config_bool(config, "ldap", "tls_verify");
	s->network_timeout_ms = (int)config_int(config, "ldap", "network_timeout") * 1000;
	s->timeout_ms = (int)config_int(config, "ldap", "timeout") * 1000;
	s->base = g_strdup(config_str(config, "ldap", "base"));
	const char *scope = config_str(config, "ldap", "scope");
	s->scope = strcmp(scope, "base") == 0  ? LDAP_SCOPE_BASE
		   : strcmp(scope, "one") == 0 ? LDAP_SCOPE_ONELEVEL
					       : LDAP_SCOPE_SUBTREE;

	int ret = 0;
	if (*s->uris == '\0')
		ret = error_set(error_r, "[ldap] uri is empty: no directory configured");
	else if (s->bind == LDAPCONN_BIND_SIMPLE) {
		const char *file = config_str(config, "ldap", "bind_password_file");
		if (s->bind_dn == NULL)
			ret = error_set(error_r, "[ldap] bind = simple needs bind_dn");
		else if (*file != '\0')
			ret = read_password_file(file, &s->bind_password, error_r);
		else
			s->bind_password = g_strdup(config_str(config, "ldap", "bind_password"));
		/* A DN with an empty password is an unauthenticated bind, which some servers accept
		   as anonymous (RFC 4513 §5.1.2): never what the administrator meant. */
		if (ret == 0 && *s->bind_password == '\0')
			ret = error_set(error_r,
					"[ldap] bind = simple needs bind_password or bind_password_file");
	}
	if (ret == 0 && s->ca_file != NULL && !g_file_test(s->ca_file, G_FILE_TEST_IS_REGULAR))
		ret = error_set(error_r, "[ldap] ca_file %s: no such file", s->ca_file);
	if (ret < 0)
		ldapconn_settings_clear(s);
	return ret;
}

void ldapconn_settings_clear(struct ldapconn_settings *s)
{
	g_free(s->uris);
	g_free(s->bind_dn);
	if (s->bind_password != NULL)
		explicit_bzero(s->bind_password, strlen(s->bind_password));
	g_free(s->bind_password);
	g_free(s->ca_file);
	g_free(s->base);
	memset(s, 0, sizeof(*s));
}

static void settings_copy(struct ldapconn_settings *to, const struct ldapconn_settings *from)
{
	*to = *from;
	to->uris = g_strdup(from->uris);
	to->bind_dn = g_strdup(from->bind_dn);
	to->bind_password = g_strdup(from->bind_password);
	to->ca_file = g_strdup(from->ca_file);
	to->base = g_strdup(from->base);
}

struct ldapconn *ldapconn_create(const struct ldapconn_settings *settings)
{
	ldapconn_library_init();
	struct ldapconn *conn = g_new0(struct ldapconn, 1);
	settings_copy(&conn->set, settings);
	return conn;
}

void ldapconn_free(struct ldapconn **connp)
{
	struct ldapconn *conn = *connp;
	if (conn == NULL)
		return;
	ldapconn_close(conn);
	ldapconn_settings_clear(&conn->set);
	g_free(conn);
	*connp = NULL;
}

bool ldapconn_rc_unavailable(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:	  /* -1 */
	case LDAP_LOCAL_ERROR:	  /* -2 */
	case LDAP_ENCODING_ERROR: /* -3 */
	case LDAP_DECODING_ERROR: /* -4 */
	case LDAP_TIMEOUT:	  /* -5 */
	case LDAP_CONNECT_ERROR:  /* -11 */
	case LDAP_BUSY:		  /* 51 */
	case LDAP_UNAVAILABLE:	  /* 52 */
		return true;
	default:
		return false;
	}
}

/* "what: reason (server's diagnostic)" for rc on ld. */
static const char *describe(LDAP *ld, const char *what, int rc)
{
	char *diag = NULL;
	if (ld != NULL)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	const char *msg =
	    error_format("%s: %s (%d)%s%s%s", what, ldap_err2string(rc), rc, diag && *diag ? " (" : "",
			 diag && *diag ? diag : "", diag && *diag ? ")" : "");
	ldap_memfree(diag);
	return msg;
}

/* A handle with every option set and TLS started, not yet bound. rc, *ld_r set on success. */
static int handle_new(const struct ldapconn_settings *s, LDAP **ld_r, const char **error_r)
{
	ldapconn_library_init();
	*ld_r = NULL;
	LDAP *ld = NULL;
	int rc = ldap_initialize(&ld, s->uris);
	if (rc != LDAP_SUCCESS) {
		*error_r = describe(NULL, error_format("ldap_initialize %s", s->uris), rc);
		return rc;
	}
	int v3 = LDAP_VERSION3;
	struct timeval nt = {s->network_timeout_ms / 1000, (s->network_timeout_ms % 1000) * 1000};
	struct timeval ot = {s->timeout_ms / 1000, (s->timeout_ms % 1000) * 1000};
	int timelimit = (s->timeout_ms + 999) / 1000;
	unsigned int user_timeout = (unsigned int)(s->network_timeout_ms + s->timeout_ms);
	int idle = LDAPCONN_KEEPALIVE_IDLE_S, probes = LDAPCONN_KEEPALIVE_PROBES,
	    intvl = LDAPCONN_KEEPALIVE_INTERVAL_S;
	int deref = LDAP_DEREF_NEVER, nolimit = LDAP_NO_LIMIT;
	int require = s->tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
	int zero = 0;
	bool ok = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_DEREF, &deref) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_SIZELIMIT, &nolimit) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &nt) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_TIMEOUT, &ot) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_TIMELIMIT, &timelimit) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &idle) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &probes) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &intvl) == LDAP_OPT_SUCCESS &&
		  ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require) == LDAP_OPT_SUCCESS &&
		  (s->ca_file == NULL ||
		   ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, s->ca_file) == LDAP_OPT_SUCCESS) &&
		  ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) == LDAP_OPT_SUCCESS;
	/* Linux only; libldap ignores it elsewhere. Not fatal when refused. */
	ldap_set_option(ld, LDAP_OPT_TCP_USER_TIMEOUT, &user_timeout);
	if (!ok) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		*error_r = error_format("%s: setting the LDAP options failed", s->uris);
		return LDAP_LOCAL_ERROR;
	}
	/* Connect now (failover happens here) so that StartTLS knows whether ldaps is already on. */
	rc = ldap_connect(ld);
	if (rc == LDAP_SUCCESS && s->starttls && !ldap_tls_inplace(ld))
		rc = ldap_start_tls_s(ld, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		*error_r = describe(ld, error_format("%s%s", s->uris, s->starttls ? " (StartTLS)" : ""), rc);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return rc;
	}
	*ld_r = ld;
	return LDAP_SUCCESS;
}

static int handle_bind(LDAP *ld, enum ldapconn_bind how, const char *dn, const char *password)
{
	switch (how) {
	case LDAPCONN_BIND_NONE:
		return LDAP_SUCCESS;
	case LDAPCONN_BIND_EXTERNAL: {
		/* An empty credential, not NULL: with NULL slapd answers 14 saslBindInProgress (§3.2). */
		struct berval empty = {0, (char *)""};
		return ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &empty, NULL, NULL, NULL);
	}
	case LDAPCONN_BIND_SIMPLE:
	default: {
		struct berval cred = {strlen(password), (char *)password};
		return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	}
	}
}

/* Connect and bind unless connected: the LDAP result code. */
static int conn_open(struct ldapconn *conn, const char **error_r)
{
	if (conn->ld != NULL)
		return LDAP_SUCCESS;
	LDAP *ld = NULL;
	int rc = handle_new(&conn->set, &ld, error_r);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = handle_bind(ld, conn->set.bind, conn->set.bind_dn, conn->set.bind_password);
	if (rc != LDAP_SUCCESS) {
		*error_r = describe(ld,
				    error_format("bind as %s", conn->set.bind == LDAPCONN_BIND_EXTERNAL
								   ? "SASL EXTERNAL"
							       : conn->set.bind_dn != NULL ? conn->set.bind_dn
											   : "anonymous"),
				    rc);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return rc;
	}
	conn->ld = ld;
	return LDAP_SUCCESS;
}

int ldapconn_open(struct ldapconn *conn, const char **error_r)
{
	return conn_open(conn, error_r) == LDAP_SUCCESS ? 0 : -1;
}

LDAP *ldapconn_handle(struct ldapconn *conn)
{
	return conn->ld;
}

void ldapconn_close(struct ldapconn *conn)
{
	if (conn->ld != NULL)
		ldap_unbind_ext_s(conn->ld, NULL, NULL);
	conn->ld = NULL;
}

const struct ldapconn_settings *ldapconn_settings(const struct ldapconn *conn)
{
	return &conn->set;
}

int ldapconn_search_ext(struct ldapconn *conn, const char *base, int scope, const char *filter, char **attrs,
			LDAPControl **serverctrls, bool retry, int sizelimit, LDAPMessage **res_r,
			const char **error_r)
{
	*res_r = NULL;
	for (int attempt = 0;; attempt++) {
		bool reused = conn->ld != NULL;
		int rc = conn_open(conn, error_r);
		if (rc != LDAP_SUCCESS)
			return rc;
		rc = ldap_search_ext_s(conn->ld, base, scope, filter, attrs, 0, serverctrls, NULL, NULL,
				       sizelimit, res_r);
		if (rc == LDAP_SUCCESS)
			return rc;
		*error_r = describe(conn->ld, error_format("search %s", *base ? base : "(root DSE)"), rc);
		if (!ldapconn_rc_unavailable(rc))
			return rc;
		ldap_msgfree(*res_r);
		*res_r = NULL;
		ldapconn_close(conn);
		if (!retry || !reused || attempt > 0 || rc == LDAP_TIMEOUT)
			return rc;
	}
}

int ldapconn_search(struct ldapconn *conn, const char *base, int scope, const char *filter, char **attrs,
		    int sizelimit, LDAPMessage **res_r, const char **error_r)
{
	return ldapconn_search_ext(conn, base, scope, filter, attrs, NULL, true, sizelimit, res_r, error_r);
}

enum ldapconn_check ldapconn_check_password(const struct ldapconn_settings *settings, const char *dn,
					    const char *password, const char **error_r)
{
	if (password == NULL || *password == '\0') {
		*error_r = "empty password";
		return LDAPCONN_CHECK_INVALID;
	}
	LDAP *ld = NULL;
	int rc = handle_new(settings, &ld, error_r);
	if (rc != LDAP_SUCCESS)
		return LDAPCONN_CHECK_UNAVAILABLE;
	rc = handle_bind(ld, LDAPCONN_BIND_SIMPLE, dn, password);
	enum ldapconn_check result = rc == LDAP_SUCCESS		      ? LDAPCONN_CHECK_OK
				     : rc == LDAP_INVALID_CREDENTIALS ? LDAPCONN_CHECK_INVALID
								      : LDAPCONN_CHECK_UNAVAILABLE;
	if (rc != LDAP_SUCCESS)
		*error_r = describe(ld, error_format("bind as %s", dn), rc);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return result;
}

char *ldapconn_escape_len(const char *value, size_t len)
{
	ldapconn_library_init();
	struct berval in = {len, (char *)(value != NULL ? value : "")}, out = {0, NULL};
	if (value == NULL)
		in.bv_len = 0;
	if (ldap_bv2escaped_filter_value(&in, &out) != 0)
		g_error("ldap_bv2escaped_filter_value: out of memory");
	char *escaped = out.bv_val != NULL ? g_strndup(out.bv_val, out.bv_len) : g_strdup("");
	ber_memfree(out.bv_val);
	return escaped;
}

char *ldapconn_escape(const char *value)
{
	return ldapconn_escape_len(value, value != NULL ? strlen(value) : 0);
}
