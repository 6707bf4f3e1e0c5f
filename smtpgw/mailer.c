/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The mailer's second half: delivering the outbox. The main thread owns the store: it claims rows
 * (with a lease), reads their message and hands each to the delivery thread pool of its route;
 * threads only talk SMTP or write the Maildir and send the outcome back through a queue and an
 * eventfd. A row ends "sent" only after the relay's 250 (or the Maildir link). Temporary failures
 * wait with exponential backoff and jitter until the row expires; a 4.7.x reply or the route's
 * messages-per-minute pauses the whole route ("rate limited until", shown by faxctl status);
 * permanent failures are reported to the admin mailbox.
 */
#include "smtpgw/mailer.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/store.h"
#include "smtpgw/mailer_private.h"
#include "smtpgw/mailroute.h"
#include "smtpgw/mailtemplate.h"
#include "smtpgw/outbox.h"

#define PAUSE_PREFIX "mailroute:"
#define PAUSE_SUFFIX ":paused_until"
#define DUPLICATES_NAME "mailer:possible_duplicates"

struct route_state {
	const struct mailroute *route;
	GThreadPool *pool;
	int in_flight;
	int64_t paused_until; /* a 4.7.x reply, or the route's rate_per_minute */
	GQueue starts;        /* start times (int64_t in pointers) within the last minute */
};

struct delivery {
	struct mailer *m;
	struct route_state *rs;
	struct outbox_msg *msg;
	void *data;
	size_t len;
	struct relay_result result;
};

static int64_t now_s(void)
{
	return time(NULL);
}

/* ---- the delivery threads ---- */

static void deliver_in_thread(gpointer data, gpointer user_data)
{
	struct delivery *d = data;
	mailroute_deliver(d->rs->route, d->msg->sender, d->msg->recipient, d->data, d->len, &d->result, NULL);
	g_async_queue_push(d->m->done, d);
	uint64_t one = 1;
	if (write(d->m->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("mailer: wake: %m");
}

static void delivery_free(struct delivery *d)
{
	outbox_msg_free(&d->msg);
	g_free(d->data);
	g_free(d);
}

/* ---- route pauses ---- */

static void set_paused(struct mailer *m, struct route_state *rs, int64_t until, const char *why)
{
	if (until <= rs->paused_until)
		return;
	rs->paused_until = until;
	char name[256], value[24];
	const char *error = NULL;
	snprintf(name, sizeof(name), PAUSE_PREFIX "%s" PAUSE_SUFFIX, rs->route->name);
	snprintf(value, sizeof(value), "%lld", (long long)until);
	if (outbox_state_set(m->store, name, value, &error) < 0)
		log_warning("mailer: route %s: pause not recorded: %s", rs->route->name, error);
	log_info("mailer: route=%s paused for %llds: %s", rs->route->name, (long long)(until - now_s()), why);
}

/* Whether the route may start one more delivery now (capacity, pause, messages per minute). */
static bool route_ready(struct mailer *m, struct route_state *rs, int64_t now)
{
	if (rs->in_flight >= rs->route->connections || rs->paused_until > now)
		return false;
	while (!g_queue_is_empty(&rs->starts) && (int64_t)(intptr_t)g_queue_peek_head(&rs->starts) <= now - 60)
		g_queue_pop_head(&rs->starts);
	int rate = rs->route->rate_per_minute;
	if (rate > 0 && (int)g_queue_get_length(&rs->starts) >= rate) {
		set_paused(m, rs, (int64_t)(intptr_t)g_queue_peek_head(&rs->starts) + 60, "rate_per_minute reached");
		return false;
	}
	return true;
}

/* ---- outcomes ---- */

static int64_t backoff(const struct mailer *m, int64_t tries)
{
	int64_t wait = m->retry_min;
	for (int64_t i = 1; i < tries && wait < m->retry_max; i++)
		wait *= 2;
	if (wait > m->retry_max)
		wait = m->retry_max;
	/* jitter of +-20 %, so that messages deferred together do not come back together */
	return wait + (wait * g_random_int_range(-200, 201)) / 1000;
}

static void report_to_admin(struct mailer *m, const struct delivery *d, const char *reason)
{
	if (strcmp(d->msg->kind, "bounce") == 0) {
		log_job(LOG_LEVEL_ERROR, d->msg->id, "mailer: report to the admin not delivered either: %s", reason);
		return;
	}
	const char *admin = config_str(m->config, "mail", "admin"), *error = NULL;
	char id[JOBID_SIZE];
	jobid_new(JOBID_PREFIX_MAIL, id);
	g_autofree char *msgid = mailer_message_id(m, id);
	GByteArray *msg = NULL;
	if (bounce_compose(&m->env, admin, d->msg->recipient, reason, msgid, d->data, d->len, &msg, &error) < 0) {
		log_job(LOG_LEVEL_ERROR, d->msg->id, "mailer: report to the admin not composed: %s", error);
		return;
	}
	mailer_queue(m, id, "bounce", d->msg->job_id, d->msg->inbound_id, "", admin, msg);
	g_byte_array_unref(msg);
}

static void finish(struct mailer *m, struct delivery *d, const char *state, int64_t next_try, const char *reason)
{
	const char *error = NULL;
	if (outbox_finish(m->store, d->msg, m->node, state, next_try, reason, &error) < 0)
		log_job(LOG_LEVEL_WARNING, d->msg->id, "mailer: outcome not recorded: %s", error);
}

static void apply_outcome(struct mailer *m, struct delivery *d)
{
	const struct relay_result *r = &d->result;
	const struct outbox_msg *msg = d->msg;
	g_autofree char *reason = g_strdup_printf("%d%s%s %s", r->code, *r->enhanced ? " " : "", r->enhanced, r->text);
	int64_t now = now_s();
	log_job(r->status == RELAY_OK ? LOG_LEVEL_INFO : LOG_LEVEL_WARNING, msg->id,
		"mailer: to=<%s> route=%s try=%lld status=%s reply=\"%s\"", msg->recipient, msg->route,
		(long long)msg->tries,
		r->status == RELAY_OK ? "sent" : r->status == RELAY_TEMPORARY ? "deferred" : "failed", reason);
	if (r->status == RELAY_OK) {
		finish(m, d, "sent", 0, reason);
		return;
	}
	if (r->status == RELAY_TEMPORARY && r->rate_limited)
		set_paused(m, d->rs, now + m->rate_pause, reason);
	int64_t next = r->rate_limited ? d->rs->paused_until : now + backoff(m, msg->tries);
	if (r->status == RELAY_TEMPORARY && next <= msg->expires_at) {
		finish(m, d, "deferred", next, reason);
		return;
	}
	g_autofree char *why = r->status == RELAY_TEMPORARY ? g_strdup_printf("expired: %s", reason) : g_strdup(reason);
	if (store_begin(m->store) == 0) {
		finish(m, d, "failed", 0, why);
		report_to_admin(m, d, why);
		if (store_commit(m->store) < 0)
			store_rollback(m->store);
	}
}

static void collect(struct mailer *m)
{
	uint64_t n;
	if (read(m->wakefd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("mailer: wake: %m");
	struct delivery *d = g_async_queue_try_pop(m->done);
	if (d == NULL)
		return;
	/* every outcome that came back in one transaction: one sync, however many finished */
	bool txn = store_begin(m->store) == 0;
	for (; d != NULL; d = g_async_queue_try_pop(m->done)) {
		d->rs->in_flight--;
		apply_outcome(m, d);
		delivery_free(d);
	}
	if (txn && store_commit(m->store) < 0) {
		log_error("mailer: outcomes not recorded: %s", store_error(m->store));
		store_rollback(m->store); /* the rows stay ours until the lease runs out: sent again then */
	}
}

/* ---- claiming ---- */

static const char **ready_routes(struct mailer *m, int64_t now)
{
	GPtrArray *names = g_ptr_array_new();
	for (guint i = 0; i < m->routes->len; i++) {
		const struct mailroute *r = m->routes->pdata[i];
		if (route_ready(m, g_hash_table_lookup(m->route_states, r->name), now))
			g_ptr_array_add(names, r->name);
	}
	g_ptr_array_add(names, NULL);
	return (const char **)g_ptr_array_free(names, FALSE);
}

/* Read the claimed row's message; NULL (and the row failed) when it cannot be read. */
static struct delivery *prepare(struct mailer *m, struct outbox_msg *msg, int64_t now)
{
	struct delivery *d = g_new0(struct delivery, 1);
	const char *error = NULL;
	d->m = m;
	d->msg = msg;
	d->rs = g_hash_table_lookup(m->route_states, msg->route);
	if (outbox_message(m->store, msg, &d->data, &d->len, &error) < 0) {
		log_job(LOG_LEVEL_ERROR, msg->id, "mailer: %s", error);
		finish(m, d, "failed", 0, error);
		delivery_free(d);
		return NULL;
	}
	d->rs->in_flight++;
	g_queue_push_tail(&d->rs->starts, (gpointer)(intptr_t)now);
	return d;
}

/* Claim every row the ready routes can take now, in one transaction; the deliveries start only
   once the claims are durable, so a crash can never leave a delivery that no lease covers. */
static int claim(struct mailer *m)
{
	GPtrArray *ready = g_ptr_array_new();
	int64_t now = now_s();
	int ret = store_begin(m->store);
	while (ret == 0) {
		g_autofree const char **routes = ready_routes(m, now);
		struct outbox_msg *msg = NULL;
		const char *error = NULL;
		if (routes[0] == NULL)
			break;
		int got = outbox_claim(m->store, m->node, now, m->lease, routes, &msg, &error);
		if (got < 0)
			log_error("mailer: claim: %s", error);
		if (got <= 0) {
			ret = got;
			break;
		}
		struct delivery *d = prepare(m, msg, now);
		if (d != NULL)
			g_ptr_array_add(ready, d);
	}
	if (ret == 0 && store_commit(m->store) == 0) {
		for (guint i = 0; i < ready->len; i++) {
			struct delivery *d = ready->pdata[i];
			g_thread_pool_push(d->rs->pool, d, NULL);
		}
	} else {
		store_rollback(m->store);
		for (guint i = 0; i < ready->len; i++) {
			struct delivery *d = ready->pdata[i];
			d->rs->in_flight--;
			delivery_free(d);
		}
		ret = -1;
	}
	g_ptr_array_free(ready, TRUE);
	return ret;
}

/* ---- set-up ---- */

static void route_state_free(struct route_state *rs)
{
	if (rs->pool != NULL)
		g_thread_pool_free(rs->pool, FALSE, TRUE); /* waits for deliveries under way */
	g_queue_clear(&rs->starts);
	g_free(rs);
}

static char *addr_spec(const char *from)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	return lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strstrip(g_strdup(from));
}

static int load_pauses(struct mailer *m, const char **error_r)
{
	GHashTable *values = NULL;
	if (outbox_state_list(m->store, PAUSE_PREFIX, &values, error_r) < 0)
		return -1;
	for (guint i = 0; i < m->routes->len; i++) {
		const struct mailroute *r = m->routes->pdata[i];
		g_autofree char *name = g_strdup_printf(PAUSE_PREFIX "%s" PAUSE_SUFFIX, r->name);
		const char *v = g_hash_table_lookup(values, name);
		struct route_state *rs = g_hash_table_lookup(m->route_states, r->name);
		rs->paused_until = v ? g_ascii_strtoll(v, NULL, 10) : 0;
	}
	g_hash_table_unref(values);
	return 0;
}

static int start_routes(struct mailer *m, const char **error_r)
{
	if (mailroutes_load(m->config, &m->routes, error_r) < 0)
		return -1;
	m->route_states = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)route_state_free);
	for (guint i = 0; i < m->routes->len; i++) {
		const struct mailroute *r = m->routes->pdata[i];
		struct route_state *rs = g_new0(struct route_state, 1);
		rs->route = r;
		g_queue_init(&rs->starts);
		rs->pool = g_thread_pool_new(deliver_in_thread, NULL, r->connections, FALSE, NULL);
		g_hash_table_insert(m->route_states, r->name, rs);
	}
	return load_pauses(m, error_r);
}

static void read_settings(struct mailer *m)
{
	const struct config *c = m->config;
	const char *node = config_str(c, "faxgate", "node"), *host = config_str(c, "mail", "hostname");
	const char *domain = config_str(c, "mail", "fax_domain");
	const char *const *domains = config_list(c, "smtp", "domains");
	m->node = g_strdup(*node ? node : g_get_host_name());
	m->envelope_from = addr_spec(config_str(c, "mail", "from"));
	m->lease = config_int(c, "mail", "lease");
	m->retry_min = config_int(c, "mail", "retry_min");
	m->retry_max = config_int(c, "mail", "retry_max");
	m->expire = config_int(c, "mail", "expire");
	m->rate_pause = config_int(c, "mail", "rate_pause");
	m->poll_ms = (int)config_int(c, "mail", "poll_interval_ms");
	m->env.from = config_str(c, "mail", "from");
	m->env.hostname = *host ? host : g_get_host_name();
	m->env.fax_domain = *domain ? domain : domains[0] ? domains[0] : "fax.localhost";
}

static int release_leases(struct mailer *m, const char **error_r)
{
	int count = 0;
	if (outbox_release_leases(m->store, m->node, &count, error_r) < 0)
		return -1;
	if (count == 0)
		return 0;
	/* each of these was being delivered when we died: the relay may have said 250 already */
	g_autofree char *old = NULL;
	if (outbox_state_get(m->store, DUPLICATES_NAME, &old, error_r) < 0)
		return -1;
	char total[24];
	snprintf(total, sizeof(total), "%lld", (long long)(old ? g_ascii_strtoll(old, NULL, 10) : 0) + count);
	log_warning("mailer: %d messages were being delivered when the mailer stopped: each is sent again and may "
		    "arrive twice (possible duplicates so far: %s)",
		    count, total);
	return outbox_state_set(m->store, DUPLICATES_NAME, total, error_r);
}

int mailer_create(const struct config *config, struct mailer **mailer_r, const char **error_r)
{
	struct mailer *m = g_new0(struct mailer, 1);
	*mailer_r = m;
	m->sigfd = signals_block_fd(); /* before any thread */
	m->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->done = g_async_queue_new();
	m->config = config;
	read_settings(m);
	m->tmp_dir = g_dir_make_tmp("faxgate-mailer-XXXXXX", NULL);
	m->env.tmp_dir = m->tmp_dir ? m->tmp_dir : g_get_tmp_dir();
	if (mail_templates_load(config_list(config, "mail", "template_dirs"), &m->templates, error_r) < 0)
		return -1;
	m->env.templates = m->templates;
	if (store_open(config, &m->store, error_r) < 0 || start_routes(m, error_r) < 0 || mailer_load_cursor(m) < 0 ||
	    release_leases(m, error_r) < 0)
		return -1;
	return 0;
}

static bool stop_requested(struct mailer *m)
{
	struct signalfd_siginfo si;
	bool stop = false;
	while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo != SIGHUP)
			stop = true;
	return stop;
}

int mailer_run(struct mailer *m)
{
	log_info("mailer: status=running routes=%u node=%s", m->routes->len, m->node);
	for (;;) {
		collect(m);
		if (mailer_compose_faxes(m) < 0 || mailer_compose_notices(m) < 0)
			g_usleep(500 * 1000); /* the store is busy or failing: do not spin */
		claim(m);
		struct pollfd pfd[2] = {{.fd = m->sigfd, .events = POLLIN}, {.fd = m->wakefd, .events = POLLIN}};
		if (poll(pfd, 2, m->poll_ms) > 0 && (pfd[0].revents & POLLIN) && stop_requested(m))
			break;
	}
	log_info("mailer: status=stopping");
	return 0;
}

static void join_deliveries(struct mailer *m)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, m->route_states);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct route_state *rs = v;
		g_thread_pool_free(rs->pool, FALSE, TRUE); /* waits for deliveries under way */
		rs->pool = NULL;
	}
}

void mailer_free(struct mailer **mailerp)
{
	struct mailer *m = *mailerp;
	if (m == NULL)
		return;
	if (m->route_states != NULL) {
		join_deliveries(m);
		if (m->store != NULL)
			collect(m); /* record what finished while we were stopping */
		g_hash_table_unref(m->route_states);
	}
	if (m->routes != NULL)
		g_ptr_array_unref(m->routes);
	mail_templates_free(&m->templates);
	store_close(&m->store);
	if (m->tmp_dir != NULL) {
		rmdir(m->tmp_dir);
		g_free(m->tmp_dir);
	}
	if (m->done != NULL)
		g_async_queue_unref(m->done);
	close(m->sigfd);
	close(m->wakefd);
	g_free(m->node);
	g_free(m->envelope_from);
	g_free(m);
	*mailerp = NULL;
}
