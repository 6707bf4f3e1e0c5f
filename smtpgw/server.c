/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * smtpgw's listeners and sessions on one epoll loop: SMTP with STARTTLS, implicit TLS (RFC
 * 8314), submission (AUTH required, RFC 6409) and LMTP (RFC 2033, TCP or a UNIX socket). Each
 * connection feeds its bytes to the protocol core (smtp_proto.c) and answers its questions:
 * who may send (trusted networks, AUTH against the profiles, the envelope sender owned by the
 * user, a rate limit per user), never relaying (a domain that is not a fax domain: 550 5.7.1),
 * and the recipients and the message (accept.c), which are only acknowledged after the store
 * committed them. Timeouts: idle between commands and a whole-session deadline.
 */
#include "smtpgw/server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/config.h"
#include "common/db.h"
#include "common/dialrules.h"
#include "ldapsync/directory.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/store.h"
#include "profiles/profile.h"
#include "smtpgw/accept.h"
#include "smtpgw/enrich.h"
#include "smtpgw/policy.h"
#include "smtpgw/smtp_proto.h"
#include "smtpgw/tls.h"

enum listener_kind { LISTENER_SMTP, LISTENER_SMTPS, LISTENER_SUBMISSION, LISTENER_LMTP };

struct listener {
	enum listener_kind kind;
	int fd;
	char *address;
};

struct server {
	const struct config *config;
	struct store *store;
	struct dialrules *rules;
	struct directory *directory; /* [ldap]: online lookups and AUTH by bind; NULL without one */
	bool directory_auth;
	struct tls_server *tls;
	struct cidr_list *trusted;
	GPtrArray *listeners; /* struct listener * */
	GHashTable *sessions; /* fd -> struct session * */
	struct accept_config accept_config;
	char *hostname, *spool_dir, *node;
	GHashTable *fax_domains; /* lower-case domain set */
	int epfd, sigfd;
	int64_t command_timeout, session_timeout;
	int max_connections;
	bool sender_check;
	int rate_limit;
};

struct session {
	struct server *server;
	const struct listener *listener;
	int fd;
	struct tls_conn *tls;
	bool handshaking, starttls_pending, closing;
	bool watching_write; /* EPOLLOUT in the epoll mask */
	struct smtp_proto *proto;
	GString *out;
	struct sockaddr_storage peer_addr;
	char peer[80];
	bool trusted_network;
	struct profile *auth_profile;
	struct profile *sender_profile; /* owner looked up by envelope sender (no AUTH) */
	struct accept *acc;
	struct accept_submitter sub;
	char *mail_from;
	int64_t last_activity, started;
};

static int64_t mono_s(void)
{
	return g_get_monotonic_time() / G_USEC_PER_SEC;
}

/* ---- sockets ---- */

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int bind_unix(const char *path, const char **error_r)
{
	static char error[300];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = "UNIX socket path too long";
		return -1;
	}
	strcpy(sun.sun_path, path);
	g_unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 128) < 0) {
		snprintf(error, sizeof(error), "listen on unix:%s: %s", path, g_strerror(errno));
		*error_r = error;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int bind_tcp(const char *address, const char **error_r)
{
	static char error[300];
	const char *colon = strrchr(address, ':');
	g_autofree char *host = g_strndup(address, (gsize)(colon - address));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
	int rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0) {
		snprintf(error, sizeof(error), "listen on %s: %s", address, gai_strerror(rc));
		*error_r = error;
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 512) < 0) {
		snprintf(error, sizeof(error), "listen on %s: %s", address, g_strerror(errno));
		*error_r = error;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int add_listener(struct server *srv, enum listener_kind kind, const char *key, const char **error_r)
{
	const char *address = config_str(srv->config, "smtp", key);
	if (*address == '\0')
		return 0;
	if ((kind == LISTENER_SMTPS || kind == LISTENER_SUBMISSION) && srv->tls == NULL && kind == LISTENER_SMTPS) {
		*error_r = "[smtp] smtps_listen needs tls_cert and tls_key";
		return -1;
	}
	int fd = g_str_has_prefix(address, "unix:") ? bind_unix(address + 5, error_r) : bind_tcp(address, error_r);
	if (fd < 0 || set_nonblocking(fd) < 0)
		return -1;
	struct listener *l = g_new0(struct listener, 1);
	l->kind = kind;
	l->fd = fd;
	l->address = g_strdup(address);
	g_ptr_array_add(srv->listeners, l);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
	epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev);
	log_info("listening=%s kind=%s", address, (const char *[]){"smtp", "smtps", "submission", "lmtp"}[kind]);
	return 0;
}

static void listener_free(gpointer p)
{
	struct listener *l = p;
	close(l->fd);
	if (g_str_has_prefix(l->address, "unix:"))
		g_unlink(l->address + 5);
	g_free(l->address);
	g_free(l);
}

/* ---- setup ---- */

static int setup_tls(struct server *srv, const char **error_r)
{
	const char *cert = config_str(srv->config, "smtp", "tls_cert"), *key = config_str(srv->config, "smtp", "tls_key");
	if (*cert == '\0' && *key == '\0')
		return 0;
	if (*cert == '\0' || *key == '\0') {
		*error_r = "[smtp] tls_cert and tls_key go together";
		return -1;
	}
	srv->tls = tls_server_create(cert, key, error_r);
	return srv->tls ? 0 : -1;
}

static int setup_policy(struct server *srv, const char **error_r)
{
	srv->trusted = cidr_list_parse(config_list(srv->config, "smtp", "trusted_networks"), error_r);
	if (srv->trusted == NULL)
		return -1;
	if (dialrules_config_check(srv->config, error_r) < 0)
		return -1;
	srv->rules = dialrules_from_config(srv->config);
	srv->fax_domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (const char *const *d = config_list(srv->config, "smtp", "domains"); *d; d++)
		g_hash_table_add(srv->fax_domains, g_ascii_strdown(*d, -1));
	srv->sender_check = strcmp(config_str(srv->config, "smtp", "sender_check"), "reject") == 0;
	srv->rate_limit = (int)config_int(srv->config, "smtp", "rate_limit");
	srv->command_timeout = config_int(srv->config, "smtp", "command_timeout");
	srv->session_timeout = config_int(srv->config, "smtp", "session_timeout");
	srv->max_connections = (int)config_int(srv->config, "smtp", "max_connections");
	srv->directory = directory_create(srv->config, srv->rules, error_r);
	if (srv->directory == NULL && *error_r != NULL)
		return -1;
	srv->directory_auth = srv->directory != NULL && config_bool(srv->config, "ldap", "auth");
	return 0;
}

static int watch_signals(struct server *srv)
{
	srv->sigfd = signals_block_fd();
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	return srv->sigfd < 0 ? -1 : epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->sigfd, &ev);
}

struct server *server_create(const struct config *config, const char **error_r)
{
	static char error[600];
	struct server *srv = g_new0(struct server, 1);
	srv->config = config;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->sigfd = -1;
	srv->listeners = g_ptr_array_new_with_free_func(listener_free);
	srv->sessions = g_hash_table_new(g_direct_hash, g_direct_equal);
	const char *host = config_str(config, "smtp", "hostname"), *node = config_str(config, "faxgate", "node");
	srv->hostname = g_strdup(*host ? host : g_get_host_name());
	srv->node = g_strdup(*node ? node : g_get_host_name());
	srv->spool_dir = g_build_filename(config_home(config), "spool", "incoming", NULL);
	if (g_mkdir_with_parents(srv->spool_dir, 0750) < 0) {
		snprintf(error, sizeof(error), "cannot create %s: %s", srv->spool_dir, g_strerror(errno));
		*error_r = error;
		server_free(&srv);
		return NULL;
	}
	if (watch_signals(srv) < 0 || setup_tls(srv, error_r) < 0 || setup_policy(srv, error_r) < 0 ||
	    store_open(config, &srv->store, error_r) < 0 || add_listener(srv, LISTENER_SMTP, "listen", error_r) < 0 ||
	    add_listener(srv, LISTENER_SMTPS, "smtps_listen", error_r) < 0 ||
	    add_listener(srv, LISTENER_SUBMISSION, "submission_listen", error_r) < 0 ||
	    add_listener(srv, LISTENER_LMTP, "lmtp_listen", error_r) < 0) {
		server_free(&srv);
		return NULL;
	}
	srv->accept_config = (struct accept_config){
		.config = config, .store = srv->store, .rules = srv->rules, .spool_dir = srv->spool_dir,
		.node = srv->node, .directory = srv->directory,
		.refuse_untrusted_headers = strcmp(config_str(config, "smtp", "untrusted_headers"), "refuse") == 0,
	};
	return srv;
}

static void session_free(struct session *s);

void server_free(struct server **serverp)
{
	struct server *srv = *serverp;
	if (srv == NULL)
		return;
	GList *all = g_hash_table_get_values(srv->sessions);
	for (GList *l = all; l; l = l->next)
		session_free(l->data);
	g_list_free(all);
	g_hash_table_destroy(srv->sessions);
	g_ptr_array_free(srv->listeners, TRUE);
	store_close(&srv->store);
	directory_free(&srv->directory);
	dialrules_free(&srv->rules);
	tls_server_free(&srv->tls);
	cidr_list_free(&srv->trusted);
	if (srv->fax_domains)
		g_hash_table_destroy(srv->fax_domains);
	if (srv->sigfd >= 0)
		close(srv->sigfd);
	close(srv->epfd);
	g_free(srv->hostname);
	g_free(srv->spool_dir);
	g_free(srv->node);
	g_free(srv);
	*serverp = NULL;
}

/* ---- session output ---- */

static void watch(struct session *s, bool want_write)
{
	if (s->watching_write == want_write)
		return; /* an epoll_ctl per reply would cost more than the reply */
	s->watching_write = want_write;
	struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = s};
	epoll_ctl(s->server->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static ssize_t raw_write(struct session *s, const char *data, size_t len)
{
	if (s->tls != NULL)
		return tls_conn_write(s->tls, data, len);
	ssize_t n = write(s->fd, data, len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return TLS_WANT_WRITE;
	return n < 0 ? TLS_ERROR : n;
}

static void start_tls(struct session *s);

/* Write what is pending; -1 when the connection broke. */
static int flush(struct session *s)
{
	while (s->out->len > 0) {
		ssize_t n = raw_write(s, s->out->str, s->out->len);
		if (n == TLS_WANT_WRITE || n == TLS_WANT_READ) {
			watch(s, true);
			return 0;
		}
		if (n <= 0)
			return -1;
		g_string_erase(s->out, 0, n);
	}
	watch(s, false);
	if (s->starttls_pending) {
		s->starttls_pending = false;
		start_tls(s);
	}
	return 0;
}

/* ---- protocol callbacks ---- */

static void cb_output(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;
	g_string_append_len(s->out, data, (gssize)len);
}

static void drop_transaction(struct session *s)
{
	accept_free(&s->acc);
	profile_free(&s->sender_profile);
	g_free(s->mail_from);
	s->mail_from = NULL;
}

/* Check user and password: a local profile's own password first (an administrator's account works
   with the directory down), then a bind to the directory when [ldap] auth = yes. 1 right,
   0 wrong (or unknown user: the same answer), -1 cannot tell now (*error_r). */
static int check_credentials(struct server *srv, const char *user, const char *password, struct profile **profile_r,
			     const char **error_r)
{
	int found = profile_lookup(srv->store, user, profile_r, error_r);
	if (found < 0)
		return -1;
	if (found > 0 && (*profile_r)->password_hash != NULL)
		return profile_check_password(*profile_r, password) ? 1 : 0;
	if (!srv->directory_auth)
		return 0;
	struct profile *synced = *profile_r, *bound = NULL;
	*profile_r = NULL;
	enum directory_auth a = directory_authenticate(srv->directory, user, password, &bound, error_r);
	if (a == DIRECTORY_AUTH_OK) {
		/* the directory's view when it could be mapped, else the synced profile */
		*profile_r = bound ? bound : synced ? synced : profile_new(user);
		if (bound)
			profile_free(&synced);
		return 1;
	}
	profile_free(&synced);
	profile_free(&bound);
	return a == DIRECTORY_AUTH_INVALID ? 0 : -1;
}

static int cb_auth(void *ctx, const char *mech, const char *authzid, const char *user, const char *password,
		   struct smtp_reply *reply)
{
	struct session *s = ctx;
	struct profile *p = NULL;
	const char *error = NULL;
	int ok = check_credentials(s->server, user, password, &p, &error);
	char who[96];
	log_printable(who, sizeof(who), user, strlen(user));
	if (ok < 0) {
		profile_free(&p);
		reply->code = 454;
		g_strlcpy(reply->text, "4.7.0 Temporary authentication failure", sizeof(reply->text));
		log_error("client=%s auth=\"%s\" cannot check now: %s", s->peer, who, error ? error : "?");
		return -1;
	}
	if (ok == 0 || (*authzid && g_ascii_strcasecmp(authzid, user) != 0)) {
		profile_free(&p);
		reply->code = 535;
		g_strlcpy(reply->text, "5.7.8 Authentication credentials invalid", sizeof(reply->text));
		log_warning("client=%s auth=\"%s\" mechanism=%s result=failed", s->peer, who, mech);
		return -1;
	}
	profile_free(&s->auth_profile);
	s->auth_profile = p;
	log_info("client=%s auth=\"%s\" mechanism=%s result=ok", s->peer, who, mech);
	return 0;
}

static int refuse(struct smtp_reply *reply, int code, const char *text)
{
	reply->code = code;
	g_strlcpy(reply->text, text, sizeof(reply->text));
	return -1;
}

/* Messages this owner submitted in the last hour (every host sees the same count: the store). */
static int recent_messages(struct server *srv, const char *owner)
{
	int64_t count = 0;
	db_query_int(store_db(srv->store), &count,
		     "SELECT count(DISTINCT message_doc) FROM jobs WHERE owner = ? AND created_at > ?", "si", owner,
		     g_get_real_time() / G_USEC_PER_SEC - 3600);
	return (int)count;
}

static int cb_mail(void *ctx, const struct smtp_mail *mail, struct smtp_reply *reply)
{
	struct session *s = ctx;
	struct server *srv = s->server;
	bool authenticated = s->auth_profile != NULL;
	if (!authenticated && (!s->trusted_network || s->listener->kind == LISTENER_SUBMISSION))
		return refuse(reply, 530, "5.7.0 Authentication required");
	if (authenticated && !s->auth_profile->may_send)
		return refuse(reply, 550, "5.7.1 You may not send faxes");
	if (authenticated && srv->sender_check && !mail->from.null_path &&
	    !profile_owns_address(s->auth_profile, mail->from.raw))
		return refuse(reply, 553, "5.7.1 Sender address is not one of yours");
	struct profile *owner = s->auth_profile;
	struct profile *by_sender = NULL;
	const char *error = NULL;
	if (owner == NULL && !mail->from.null_path &&
	    enrich_sender(&srv->accept_config, mail->from.raw, &by_sender, &error) > 0)
		owner = by_sender;
	const char *owner_name = owner ? owner->primary_address : mail->from.raw;
	if (srv->rate_limit > 0 && recent_messages(srv, owner_name) >= srv->rate_limit) {
		profile_free(&by_sender);
		return refuse(reply, 450, "4.7.1 Too many faxes this hour, try again later");
	}
	drop_transaction(s);
	s->mail_from = g_strdup(mail->from.raw);
	s->sub = (struct accept_submitter){
		.sender = s->mail_from, .auth_user = authenticated ? s->auth_profile->primary_address : NULL,
		.trusted = s->trusted_network || authenticated, .admin = false, .client = s->peer,
		.envid = mail->envid, .dsn_ret = mail->ret == SMTP_DSN_RET_FULL ? 1 : mail->ret == SMTP_DSN_RET_HDRS ? 2 : 0,
	};
	s->sender_profile = by_sender; /* the transaction borrows it: freed with the transaction */
	s->acc = accept_begin(&srv->accept_config, &s->sub, owner);
	return 0;
}

static int cb_rcpt(void *ctx, const struct smtp_rcpt *rcpt, struct smtp_reply *reply)
{
	struct session *s = ctx;
	g_autofree char *domain = g_ascii_strdown(rcpt->to.domain, -1);
	if (!g_hash_table_contains(s->server->fax_domains, domain))
		return refuse(reply, 550, "5.7.1 Relaying denied: not a fax domain");
	int code = 0;
	char text[512];
	if (accept_add_rcpt(s->acc, rcpt->to.raw, rcpt->to.local, rcpt->to.domain, rcpt->notify, rcpt->orcpt, &code,
			    text) < 0)
		return refuse(reply, code, text);
	return 0;
}

static int cb_data_chunk(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;
	return accept_data(s->acc, data, len);
}

/* One log line per transaction, the first job id first (Postfix style). */
static void log_transaction(struct session *s, const struct accept_result *results, int n)
{
	GString *jobs = g_string_new(NULL);
	for (int i = 0; i < n; i++)
		for (guint j = 0; results[i].job_ids && j < results[i].job_ids->len; j++)
			g_string_append_printf(jobs, "%s%s", jobs->len ? "," : "", (const char *)results[i].job_ids->pdata[j]);
	char from[128], result[160];
	log_printable(from, sizeof(from), s->mail_from ? s->mail_from : "", s->mail_from ? strlen(s->mail_from) : 0);
	log_printable(result, sizeof(result), results[0].text, strlen(results[0].text));
	const char *first = jobs->len ? jobs->str : NULL;
	g_autofree char *first_id = first ? g_strndup(first, JOBID_LEN) : NULL;
	log_job(LOG_LEVEL_INFO, first_id, "client=%s auth=%s from=<%s> rcpts=%d size=%llu jobs=%s result=\"%d %s\"",
		s->peer, s->auth_profile ? s->auth_profile->primary_address : "-", from, accept_rcpt_count(s->acc),
		(unsigned long long)accept_size(s->acc), jobs->len ? jobs->str : "-", results[0].code, result);
	g_string_free(jobs, TRUE);
}

static void cb_data_end(void *ctx, bool too_big, bool bare_lf, bool failed, struct smtp_reply *replies, int n)
{
	struct session *s = ctx;
	struct accept_result *results = g_new0(struct accept_result, n);
	if (too_big || bare_lf || failed) {
		for (int i = 0; i < n; i++) {
			results[i].code = replies[i].code;
			g_strlcpy(results[i].text, replies[i].text, sizeof(results[i].text));
		}
	} else {
		accept_commit(s->acc, results, n);
		for (int i = 0; i < n; i++) {
			replies[i].code = results[i].code;
			g_strlcpy(replies[i].text, results[i].text, sizeof(replies[i].text));
		}
	}
	log_transaction(s, results, n);
	accept_results_clear(results, n);
	g_free(results);
	drop_transaction(s);
}

static void cb_rset(void *ctx)
{
	drop_transaction(ctx);
}

static void cb_starttls(void *ctx)
{
	struct session *s = ctx;
	s->starttls_pending = true; /* after the 220 is flushed in clear */
}

/* ---- connections ---- */

static void session_free(struct session *s)
{
	g_hash_table_remove(s->server->sessions, GINT_TO_POINTER(s->fd));
	epoll_ctl(s->server->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	drop_transaction(s);
	smtp_proto_free(&s->proto);
	tls_conn_free(&s->tls);
	profile_free(&s->auth_profile);
	close(s->fd);
	g_string_free(s->out, TRUE);
	g_free(s);
}

static void make_proto(struct session *s)
{
	struct server *srv = s->server;
	struct smtp_proto_settings set;
	smtp_proto_settings_default(&set);
	set.hostname = srv->hostname;
	set.lmtp = s->listener->kind == LISTENER_LMTP;
	set.max_message_size = (uint64_t)config_int(srv->config, "smtp", "max_message_size");
	set.max_recipients = (int)config_int(srv->config, "smtp", "max_recipients");
	set.max_errors = (int)config_int(srv->config, "smtp", "max_errors");
	set.tls_available = srv->tls != NULL && !set.lmtp;
	set.tls_active = s->listener->kind == LISTENER_SMTPS;
	set.auth_enabled = !set.lmtp;
	set.auth_plaintext = config_bool(srv->config, "smtp", "auth_plaintext");
	set.auth_required = s->listener->kind == LISTENER_SUBMISSION;
	struct smtp_proto_callbacks cb = {
		.output = cb_output, .auth = cb_auth, .mail = cb_mail, .rcpt = cb_rcpt, .data_chunk = cb_data_chunk,
		.data_end = cb_data_end, .rset = cb_rset, .starttls = cb_starttls, .ctx = s,
	};
	s->proto = smtp_proto_create(&set, &cb);
}

static void start_tls(struct session *s)
{
	s->tls = tls_conn_create(s->server->tls, s->fd);
	s->handshaking = s->tls != NULL;
	if (s->tls == NULL)
		s->closing = true;
}

static void describe_peer(struct session *s)
{
	char host[INET6_ADDRSTRLEN] = "local";
	if (s->peer_addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&s->peer_addr)->sin_addr, host, sizeof(host));
	else if (s->peer_addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&s->peer_addr)->sin6_addr, host, sizeof(host));
	snprintf(s->peer, sizeof(s->peer), "[%s]", host);
}

static void accept_connection(struct server *srv, const struct listener *l)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	int fd = accept4(l->fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct session *s = g_new0(struct session, 1);
	s->server = srv;
	s->listener = l;
	s->fd = fd;
	s->peer_addr = addr;
	s->out = g_string_new(NULL);
	s->started = s->last_activity = mono_s();
	describe_peer(s);
	s->trusted_network = cidr_list_match(srv->trusted, (struct sockaddr *)&addr);
	g_hash_table_insert(srv->sessions, GINT_TO_POINTER(fd), s);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
	epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev);
	make_proto(s);
	log_debug("client=%s connect listener=%s trusted=%d", s->peer, l->address, s->trusted_network);
	if (g_hash_table_size(srv->sessions) > (guint)srv->max_connections) {
		/* RFC 5321 3.1: a 421 greeting, then close; the client tries again later */
		g_string_append_printf(s->out, "421 4.7.0 %s Too many connections, try again later\r\n", srv->hostname);
		s->closing = true;
	} else if (l->kind == LISTENER_SMTPS) {
		start_tls(s); /* greet once the handshake is done */
		return;
	} else {
		smtp_proto_greet(s->proto);
	}
	if (flush(s) < 0 || s->closing)
		session_free(s);
}

static void continue_handshake(struct session *s)
{
	int ret = tls_conn_handshake(s->tls);
	if (ret == TLS_WANT_READ || ret == TLS_WANT_WRITE) {
		watch(s, ret == TLS_WANT_WRITE);
		return;
	}
	if (ret != 1) {
		log_info("client=%s TLS handshake failed: %s", s->peer, tls_last_error());
		s->closing = true;
		return;
	}
	s->handshaking = false;
	char desc[96];
	log_debug("client=%s tls=\"%s\"", s->peer, tls_conn_describe(s->tls, desc, sizeof(desc)));
	if (s->listener->kind == LISTENER_SMTPS)
		smtp_proto_greet(s->proto);
	else
		smtp_proto_tls_started(s->proto);
}

/* Read what the client sent and feed it to the protocol core. */
static void read_input(struct session *s)
{
	char buf[16384];
	for (;;) {
		ssize_t n;
		if (s->tls != NULL) {
			n = tls_conn_read(s->tls, buf, sizeof(buf));
		} else {
			n = read(s->fd, buf, sizeof(buf));
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				n = TLS_WANT_READ;
			else if (n < 0)
				n = TLS_ERROR;
		}
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE)
			return;
		if (n <= 0) {
			if (s->acc != NULL)
				log_info("client=%s disconnected in a transaction: nothing queued", s->peer);
			s->closing = true;
			return;
		}
		s->last_activity = mono_s();
		if (smtp_proto_input(s->proto, buf, (size_t)n) <= 0)
			s->closing = true;
		/* after STARTTLS, what followed in the same read is discarded by the core */
		if (s->closing || s->starttls_pending)
			return;
	}
}

static void session_event(struct session *s, uint32_t events)
{
	if (s->handshaking)
		continue_handshake(s);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_input(s);
	if (flush(s) < 0)
		s->closing = true;
	if (s->handshaking && !s->closing)
		continue_handshake(s);
	if (s->closing && (s->out->len == 0 || (events & (EPOLLHUP | EPOLLERR)))) {
		flush(s);
		session_free(s);
	}
}

static void check_timeouts(struct server *srv)
{
	int64_t now = mono_s();
	GList *all = g_hash_table_get_values(srv->sessions);
	for (GList *l = all; l; l = l->next) {
		struct session *s = l->data;
		if (now - s->last_activity < srv->command_timeout && now - s->started < srv->session_timeout)
			continue;
		log_info("client=%s timeout", s->peer);
		smtp_proto_timeout(s->proto);
		flush(s);
		session_free(s);
	}
	g_list_free(all);
}

int server_run(struct server *srv)
{
	log_info("status=running hostname=%s", srv->hostname);
	int64_t last_check = mono_s();
	for (;;) {
		struct epoll_event events[64];
		int n = epoll_wait(srv->epfd, events, 64, 1000);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			void *ptr = events[i].data.ptr;
			if (ptr == NULL) {
				log_info("status=stopping");
				return 0;
			}
			bool is_listener = false;
			for (guint j = 0; j < srv->listeners->len; j++)
				if (srv->listeners->pdata[j] == ptr)
					is_listener = true;
			if (is_listener)
				accept_connection(srv, ptr);
			else
				session_event(ptr, events[i].events);
		}
		if (mono_s() != last_check) {
			last_check = mono_s();
			check_timeouts(srv);
		}
	}
	return 1;
}
