/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Directory -> profiles sync (RFC 4533 refreshOnly; RFC 2696 paged results; research/ldap.md
 * §2.3, §2.4).
 *
 * A run reads, then writes:
 * 1. Read. The root DSE says what the server offers. With RFC 4533 and a stored cookie for the
 *    same query, an incremental refresh: changed entries in full, deletes either listed
 *    (syncIdSet/delete state, refreshDeletes TRUE) or implied by a present phase (refreshDeletes
 *    FALSE: whatever was not named present is gone). Otherwise a full read, by RFC 4533 without
 *    a cookie or by a paged search: everything not read is gone. The server's answers are kept
 *    in memory; no store transaction is open while the network is slow.
 * 2. Plan, in memory against every stored profile: which directory profiles are added,
 *    changed, left alone, deleted; which entries are skipped because they cannot be mapped, or
 *    claim an address of a local profile or of another directory entry (the first claimant
 *    keeps it). "Mark and sweep" is done here: the seen set is the mark, the stored directory
 *    profiles outside it are swept. (The sync_seen column is not needed for that: a dry run
 *    computes the same plan without writing anything.)
 * 3. Write the plan and the new cookie in one store transaction, so a run killed at any point
 *    leaves either the old state with the old cookie or the new state with the new cookie.
 *
 * A full reload replaces the incremental refresh on e-syncRefreshRequired (4096), on 53
 * "consumer state is newer than provider" (a restored server), on an empty cookie back, when
 * the query changed (the cookie belongs to base, scope, filter and attributes), on --full, and
 * every [ldap] full_sync_interval. Sync and paging are never combined (§2.2: silently cut).
 *
 * libldap's ldap_sync_init() loops without a deadline on a server that accepts and then stays
 * silent (a frozen slapd), so a watchdog thread shuts the socket down after [ldap] timeout
 * without any message, which ends the loop with an error.
 */
#include "ldapsync/dirsync.h"

#include <glib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "common/config.h"
#include "common/db.h"
#include "common/error.h"
#include "common/log.h"
#include "common/store.h"
#include "ldapsync/dirmap.h"
#include "ldapsync/ldapconn.h"
#include "profiles/profile.h"

#define OID_SYNC "1.3.6.1.4.1.4203.1.9.1.1" /* RFC 4533 */
#define OID_PAGED "1.2.840.113556.1.4.319"  /* RFC 2696 */

#define STATE_COOKIE "ldapsync:cookie"
#define STATE_QUERY "ldapsync:query"
#define STATE_LAST_FULL "ldapsync:last_full"

/* One entry as read: mapped (profile) or not (why). */
struct read_entry {
	char *uuid, *dn;
	struct profile *profile;
	char *why;
};

/* What the server said in one run. */
struct answer {
	GPtrArray *entries;  /* struct read_entry *, in the order received */
	GHashTable *seen;    /* uuids named present or sent (mapped or not) */
	GHashTable *deleted; /* uuids the server said are gone */
	bool sweep;	     /* everything not in seen is gone (full read, present phase) */
	bool present_phase;
	int refresh_deletes; /* of the final syncDone: 1, 0, -1 none */
	char *cookie;	     /* the new cookie; NULL: none came back */
};

struct watchdog {
	GMutex lock;
	GCond cond;
	GThread *thread;
	bool stop, fired;
	gint64 progress_at; /* monotonic us of the last message, atomic */
	gint64 stall_us;
	int fd;
};

struct run {
	const struct dirmap *map;
	struct answer *answer;
	struct watchdog *dog;
};

static void read_entry_free(gpointer p)
{
	struct read_entry *e = p;
	g_free(e->uuid);
	g_free(e->dn);
	g_free(e->why);
	profile_free(&e->profile);
	g_free(e);
}

static struct answer *answer_new(void)
{
	struct answer *a = g_new0(struct answer, 1);
	a->entries = g_ptr_array_new_with_free_func(read_entry_free);
	a->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->deleted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	a->refresh_deletes = -1;
	return a;
}

static void answer_free(struct answer **ap)
{
	struct answer *a = *ap;
	if (a == NULL)
		return;
	g_ptr_array_free(a->entries, TRUE);
	g_hash_table_destroy(a->seen);
	g_hash_table_destroy(a->deleted);
	g_free(a->cookie);
	g_free(a);
	*ap = NULL;
}

/* ---- watchdog ------------------------------------------------------------------------------- */

static void watchdog_touch(struct watchdog *dog)
{
	if (dog != NULL)
		__atomic_store_n(&dog->progress_at, g_get_monotonic_time(), __ATOMIC_RELAXED);
}

static gpointer watchdog_main(gpointer data)
{
	struct watchdog *dog = data;
	g_mutex_lock(&dog->lock);
	while (!dog->stop) {
		gint64 deadline = __atomic_load_n(&dog->progress_at, __ATOMIC_RELAXED) + dog->stall_us;
		if (g_get_monotonic_time() >= deadline) {
			/* ldap_result() then fails and ldap_sync_init() returns -1. */
			shutdown(dog->fd, SHUT_RDWR);
			dog->fired = true;
			break;
		}
		g_cond_wait_until(&dog->cond, &dog->lock, deadline);
	}
	g_mutex_unlock(&dog->lock);
	return NULL;
}

static struct watchdog *watchdog_start(LDAP *ld, int stall_ms)
{
	int fd = -1;
	if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0)
		return NULL;
	struct watchdog *dog = g_new0(struct watchdog, 1);
	g_mutex_init(&dog->lock);
	g_cond_init(&dog->cond);
	dog->fd = fd;
	dog->stall_us = (gint64)stall_ms * 1000;
	watchdog_touch(dog);
	dog->thread = g_thread_new("ldapsync-watchdog", watchdog_main, dog);
	return dog;
}

/* Stop it; whether it cut the connection. */
static bool watchdog_stop(struct watchdog **dogp)
{
	struct watchdog *dog = *dogp;
	if (dog == NULL)
		return false;
	g_mutex_lock(&dog->lock);
	dog->stop = true;
	g_cond_signal(&dog->cond);
	g_mutex_unlock(&dog->lock);
	g_thread_join(dog->thread);
	bool fired = dog->fired;
	g_mutex_clear(&dog->lock);
	g_cond_clear(&dog->cond);
	g_free(dog);
	*dogp = NULL;
	return fired;
}

/* ---- reading -------------------------------------------------------------------------------- */

static void take_entry(struct run *run, LDAP *ld, LDAPMessage *msg, const char *sync_uuid)
{
	struct read_entry *e = g_new0(struct read_entry, 1);
	char *dn = ldap_get_dn(ld, msg);
	e->dn = g_strdup(dn != NULL ? dn : "");
	ldap_memfree(dn);
	if (dirmap_entry(run->map, ld, msg, &e->profile, &e->why) == 0 && sync_uuid != NULL) {
		/* The sync protocol's identity is authoritative: deletes and present lists use it. */
		g_free(e->profile->source_uuid);
		e->profile->source_uuid = g_strdup(sync_uuid);
	}
	e->uuid = g_strdup(e->profile != NULL ? e->profile->source_uuid : sync_uuid);
	if (e->uuid != NULL)
		g_hash_table_add(run->answer->seen, g_strdup(e->uuid));
	g_ptr_array_add(run->answer->entries, e);
}

static char *uuid_text(const struct berval *uuid)
{
	if (uuid->bv_len == 16) {
		char text[DIRMAP_UUID_TEXT_SIZE];
		dirmap_uuid_text((const unsigned char *)uuid->bv_val, text);
		return g_strdup(text);
	}
	return g_ascii_strdown(uuid->bv_val, (gssize)uuid->bv_len);
}

static int on_sync_entry(ldap_sync_t *ls, LDAPMessage *msg, struct berval *uuid, ldap_sync_refresh_t phase)
{
	struct run *run = ls->ls_private;
	watchdog_touch(run->dog);
	g_autofree char *text = uuid_text(uuid);
	switch (phase) {
	case LDAP_SYNC_CAPI_PRESENT:
		g_hash_table_add(run->answer->seen, g_steal_pointer(&text));
		break;
	case LDAP_SYNC_CAPI_DELETE:
		g_hash_table_add(run->answer->deleted, g_steal_pointer(&text));
		break;
	case LDAP_SYNC_CAPI_ADD:
	case LDAP_SYNC_CAPI_MODIFY:
		take_entry(run, ls->ls_ld, msg, text);
		break;
	default:
		break;
	}
	return LDAP_SUCCESS;
}

static int on_sync_intermediate(ldap_sync_t *ls, LDAPMessage *msg, BerVarray uuids, ldap_sync_refresh_t phase)
{
	struct run *run = ls->ls_private;
	watchdog_touch(run->dog);
	GHashTable *into = NULL;
	if (phase == LDAP_SYNC_CAPI_PRESENTS_IDSET) {
		into = run->answer->seen;
		run->answer->present_phase = true;
	} else if (phase == LDAP_SYNC_CAPI_DELETES_IDSET) {
		into = run->answer->deleted;
	} else if (phase == LDAP_SYNC_CAPI_PRESENTS) {
		run->answer->present_phase = true;
	}
	for (int i = 0; into != NULL && uuids != NULL && uuids[i].bv_val != NULL; i++)
		g_hash_table_add(into, uuid_text(&uuids[i]));
	return LDAP_SUCCESS;
}

static int on_sync_result(ldap_sync_t *ls, LDAPMessage *msg, int refresh_deletes)
{
	struct run *run = ls->ls_private;
	run->answer->refresh_deletes = refresh_deletes;
	return LDAP_SUCCESS;
}

static char **attrs_dup(char **attrs)
{
	int n = 0;
	while (attrs[n] != NULL)
		n++;
	char **out = ber_memcalloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		out[i] = ber_strdup(attrs[i]);
	return out;
}

/* One RFC 4533 refreshOnly search from cookie (NULL: everything). The LDAP result code. */
static int sync_refresh(struct run *run, struct ldapconn *conn, const char *cookie, const char **error_r)
{
	const struct ldapconn_settings *set = ldapconn_settings(conn);
	LDAP *ld = ldapconn_handle(conn);
	/* The server-side time limit of the handle is for lookups; a big refresh may take longer. */
	int nolimit = LDAP_NO_LIMIT;
	ldap_set_option(ld, LDAP_OPT_TIMELIMIT, &nolimit);
	ldap_sync_t ls;
	ldap_sync_initialize(&ls);
	/* ldap_sync_destroy() frees these with ldap_memfree and unbinds ls_ld (§2.3.8): they are
	   libldap's own copies, and ls_ld is cleared before it is called. */
	ls.ls_base = ber_strdup(set->base);
	ls.ls_scope = set->scope;
	ls.ls_filter = ber_strdup(dirmap_filter(run->map));
	ls.ls_attrs = attrs_dup(dirmap_attrs(run->map));
	ls.ls_ld = ld;
	ls.ls_private = run;
	ls.ls_search_entry = on_sync_entry;
	ls.ls_intermediate = on_sync_intermediate;
	ls.ls_search_result = on_sync_result;
	if (cookie != NULL)
		ber_str2bv(cookie, 0, 1, &ls.ls_cookie);
	run->dog = watchdog_start(ld, set->timeout_ms);
	int rc = ldap_sync_init_refresh_only(&ls);
	bool cut = watchdog_stop(&run->dog);
	if (ls.ls_cookie.bv_val != NULL && (cookie == NULL || strlen(cookie) != ls.ls_cookie.bv_len ||
					    memcmp(cookie, ls.ls_cookie.bv_val, ls.ls_cookie.bv_len) != 0))
		run->answer->cookie = g_strndup(ls.ls_cookie.bv_val, ls.ls_cookie.bv_len);
	else if (ls.ls_cookie.bv_val == NULL && cookie != NULL)
		run->answer->cookie = g_strdup(""); /* cannot happen with libldap's code; be safe */
	if (rc != LDAP_SUCCESS) {
		if (cut)
			*error_r = error_format("sync refresh: no answer from the server for %d ms",
						set->timeout_ms);
		else {
			char *diag = NULL;
			ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
			*error_r = error_format("sync refresh: %s (%d)%s%s", ldap_err2string(rc), rc,
						diag && *diag ? ": " : "", diag && *diag ? diag : "");
			ldap_memfree(diag);
		}
	}
	ls.ls_ld = NULL;
	ldap_sync_destroy(&ls, 0);
	if (rc != LDAP_SUCCESS)
		ldapconn_close(conn); /* a cut or failed refresh leaves the handle unusable */
	return rc;
}

/* Everything by paged searches (RFC 2696), or one plain search when the server has no paging.
   0, or -1 with *error_r. */
static int paged_read(struct run *run, struct ldapconn *conn, bool paging, int page_size,
		      const char **error_r)
{
	const struct ldapconn_settings *set = ldapconn_settings(conn);
	struct berval *cookie = NULL;
	int ret = 0;
	bool first = true;
	do {
		LDAPControl *page = NULL;
		if (paging && ldap_create_page_control(ldapconn_handle(conn), page_size, cookie, 1, &page) !=
				  LDAP_SUCCESS) {
			ret = error_set(error_r, "cannot build the paged results control");
			break;
		}
		LDAPControl *ctrls[] = {page, NULL};
		LDAPMessage *res = NULL;
		int rc = ldapconn_search_ext(conn, set->base, set->scope, dirmap_filter(run->map),
					     dirmap_attrs(run->map), paging ? ctrls : NULL, first, 0, &res,
					     error_r);
		ldap_control_free(page);
		first = false;
		ber_bvfree(cookie);
		cookie = NULL;
		LDAP *ld = ldapconn_handle(conn);
		if (rc == LDAP_SIZELIMIT_EXCEEDED)
			*error_r = error_format(
			    "search %s: size limit exceeded: give the sync account no size limit%s",
			    set->base, paging ? "" : " (the server offers no paging)");
		if (rc != LDAP_SUCCESS || ld == NULL) {
			ldap_msgfree(res);
			ret = -1;
			break;
		}
		for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e))
			take_entry(run, ld, e, NULL);
		LDAPControl **rctrls = NULL;
		int err = LDAP_SUCCESS;
		if (paging &&
		    ldap_parse_result(ld, res, &err, NULL, NULL, NULL, &rctrls, 0) == LDAP_SUCCESS) {
			LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
			ber_int_t estimate;
			struct berval next = {0, NULL};
			if (c != NULL &&
			    ldap_parse_pageresponse_control(ld, c, &estimate, &next) == LDAP_SUCCESS) {
				if (next.bv_len > 0)
					cookie = ber_dupbv(NULL, &next);
				ber_memfree(next.bv_val);
			}
			ldap_controls_free(rctrls);
		}
		ldap_msgfree(res);
	} while (cookie != NULL);
	ber_bvfree(cookie);
	return ret;
}

/* ---- sync state ----------------------------------------------------------------------------- */

/* The value (g_free) or NULL. 0 or -1. */
static int state_get(struct db *db, const char *name, char **value_r)
{
	*value_r = NULL;
	struct db_rows *rows = db_query(db, "SELECT value FROM sync_state WHERE name = ?", "s", name);
	int ret = rows != NULL ? db_next(rows) : -1;
	if (ret > 0)
		*value_r = g_strdup(db_col_text(rows, 0));
	db_rows_free(&rows);
	return ret < 0 ? -1 : 0;
}

static int state_set(struct db *db, const char *name, const char *value)
{
	if (value == NULL)
		return db_exec(db, "DELETE FROM sync_state WHERE name = ?", "s", name) < 0 ? -1 : 0;
	return db_exec(db,
		       "INSERT INTO sync_state (name, value, updated_at) VALUES (?, ?, ?)"
		       " ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = "
		       "excluded.updated_at",
		       "ssi", name, value, (int64_t)(g_get_real_time() / G_USEC_PER_SEC)) < 0
		   ? -1
		   : 0;
}

/* What a cookie belongs to: servers, base, scope, filter, attributes. */
static char *query_hash(const struct ldapconn_settings *set, const struct dirmap *map)
{
	GString *q = g_string_new(NULL);
	g_string_append_printf(q, "%s\n%s\n%d\n%s\n", set->uris, set->base, set->scope, dirmap_filter(map));
	for (char **a = dirmap_attrs(map); *a != NULL; a++)
		g_string_append_printf(q, "%s,", *a);
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, q->str, (gssize)q->len);
	g_string_free(q, TRUE);
	return hash;
}

/* ---- planning ------------------------------------------------------------------------------- */

static void profile_free_ptr(struct profile *p)
{
	profile_free(&p);
}

static bool str_eq(const char *a, const char *b)
{
	return g_strcmp0(a, b) == 0;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool list_eq(GPtrArray *a, GPtrArray *b)
{
	if (a->len != b->len)
		return false;
	/* shallow copies: the copy would inherit the free function */
	GPtrArray *x = g_ptr_array_copy(a, NULL, NULL), *y = g_ptr_array_copy(b, NULL, NULL);
	g_ptr_array_set_free_func(x, NULL);
	g_ptr_array_set_free_func(y, NULL);
	g_ptr_array_sort(x, cmp_str);
	g_ptr_array_sort(y, cmp_str);
	bool eq = true;
	for (guint i = 0; i < x->len && eq; i++)
		eq = strcmp(x->pdata[i], y->pdata[i]) == 0;
	g_ptr_array_free(x, TRUE);
	g_ptr_array_free(y, TRUE);
	return eq;
}

/* Whether the fields the directory decides are the same. */
static bool mapped_eq(const struct profile *a, const struct profile *b)
{
	return str_eq(a->primary_address, b->primary_address) && str_eq(a->name, b->name) &&
	       str_eq(a->company, b->company) && str_eq(a->department, b->department) &&
	       str_eq(a->phone, b->phone) && str_eq(a->fax, b->fax) && a->may_send == b->may_send &&
	       str_eq(a->permission_class, b->permission_class) && str_eq(a->resolution, b->resolution) &&
	       str_eq(a->billing_code, b->billing_code) && str_eq(a->language, b->language) &&
	       str_eq(a->source_dn, b->source_dn) && str_eq(a->source_uuid, b->source_uuid) &&
	       str_eq(a->source, b->source) && str_eq(a->kind, b->kind) &&
	       list_eq(a->addresses, b->addresses) && list_eq(a->dids, b->dids);
}

/* Fields the directory does not hold stay as set locally (faxctl profile set). */
static void keep_local_fields(struct profile *to, const struct profile *from)
{
	char **fields[][2] = {
	    {&to->cover, (char **)&from->cover},
	    {&to->paper, (char **)&from->paper},
	    {&to->header_line, (char **)&from->header_line},
	    {&to->tsi, (char **)&from->tsi},
	    {&to->notify, (char **)&from->notify},
	    {&to->rx_format, (char **)&from->rx_format},
	    {&to->password_hash, (char **)&from->password_hash},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		g_free(*fields[i][0]);
		*fields[i][0] = g_strdup(*fields[i][1]);
	}
	g_free(to->id);
	to->id = g_strdup(from->id);
}

/* A stored profile as far as planning needs it: one cheap scan of the profiles and addresses,
   so an incremental run does not load every profile in full. */
struct stored {
	char *id, *source, *uuid, *dn, *primary, *classes;
	bool may_send;
	GPtrArray *addresses;
};

static void stored_free(gpointer p)
{
	struct stored *s = p;
	g_free(s->id);
	g_free(s->source);
	g_free(s->uuid);
	g_free(s->dn);
	g_free(s->primary);
	g_free(s->classes);
	g_ptr_array_free(s->addresses, TRUE);
	g_free(s);
}

static bool stored_directory(const struct stored *s)
{
	return s->uuid != NULL && str_eq(s->source, "directory");
}

enum op_kind {
	OP_ADD,
	OP_CHANGE,
	OP_DELETE,
};

struct op {
	enum op_kind kind;
	struct profile *profile;     /* ADD/CHANGE: what to save; NULL for DELETE */
	const struct stored *stored; /* CHANGE/DELETE: the stored version */
};

static void op_free(gpointer p)
{
	struct op *op = p;
	profile_free(&op->profile);
	g_free(op);
}

struct plan {
	struct store *store;
	GPtrArray *all;	     /* struct stored *, every profile */
	GHashTable *by_uuid; /* directory profiles: uuid -> struct stored * (borrowed from all) */
	GHashTable *full;    /* uuid -> struct profile *: stored directory profiles loaded whole */
	GPtrArray *ops;	     /* struct op * */
	struct dirsync_stats *stats;
	FILE *report;
};

static int plan_load(struct plan *plan, bool load_all, const char **error_r)
{
	struct db *db = store_db(plan->store);
	plan->all = g_ptr_array_new_with_free_func(stored_free);
	plan->by_uuid = g_hash_table_new(g_str_hash, g_str_equal);
	plan->full = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)profile_free_ptr);
	plan->ops = g_ptr_array_new_with_free_func(op_free);
	GHashTable *by_id = g_hash_table_new(g_str_hash, g_str_equal);
	struct db_rows *rows =
	    db_query(db,
		     "SELECT id, source, source_uuid, source_dn, primary_address, may_send,"
		     " permission_class FROM profiles",
		     NULL);
	int ret = rows != NULL ? 0 : -1;
	while (rows != NULL && (ret = db_next(rows)) > 0) {
		struct stored *s = g_new0(struct stored, 1);
		s->id = g_strdup(db_col_text(rows, 0));
		s->source = g_strdup(db_col_text(rows, 1));
		s->uuid = g_strdup(db_col_text(rows, 2));
		s->dn = g_strdup(db_col_text(rows, 3));
		s->primary = g_strdup(db_col_text(rows, 4));
		s->may_send = db_col_int(rows, 5) != 0;
		s->classes = g_strdup(db_col_text(rows, 6));
		s->addresses = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(plan->all, s);
		g_hash_table_insert(by_id, s->id, s);
		if (stored_directory(s))
			g_hash_table_insert(plan->by_uuid, s->uuid, s);
	}
	db_rows_free(&rows);
	rows = ret == 0 ? db_query(db, "SELECT address, profile_id FROM profile_addresses", NULL) : NULL;
	ret = rows != NULL ? 0 : -1;
	while (rows != NULL && (ret = db_next(rows)) > 0) {
		struct stored *s = g_hash_table_lookup(by_id, db_col_text(rows, 1));
		if (s != NULL)
			g_ptr_array_add(s->addresses, g_strdup(db_col_text(rows, 0)));
	}
	db_rows_free(&rows);
	g_hash_table_destroy(by_id);
	if (ret < 0) {
		*error_r = error_format("store: %s", db_error(db));
		return -1;
	}
	if (!load_all)
		return 0;
	/* A full read compares nearly every profile: one list is cheaper than a lookup each. */
	GPtrArray *list = NULL;
	if (profile_list(plan->store, "directory", &list, error_r) < 0)
		return -1;
	for (guint i = list->len; i-- > 0;) {
		struct profile *p = g_ptr_array_steal_index_fast(list, i);
		if (p->source_uuid != NULL)
			g_hash_table_replace(plan->full, p->source_uuid, p);
		else
			profile_free(&p);
	}
	g_ptr_array_free(list, TRUE);
	return 0;
}

static void plan_clear(struct plan *plan)
{
	if (plan->ops != NULL)
		g_ptr_array_free(plan->ops, TRUE);
	if (plan->full != NULL)
		g_hash_table_destroy(plan->full);
	if (plan->by_uuid != NULL)
		g_hash_table_destroy(plan->by_uuid);
	if (plan->all != NULL)
		g_ptr_array_free(plan->all, TRUE);
}

/* The stored directory profile with uuid, whole (borrowed from the plan); NULL none, and
 *failed on a store error. */
static const struct profile *stored_profile(struct plan *plan, const char *uuid, bool *failed,
					    const char **error_r)
{
	struct profile *p = g_hash_table_lookup(plan->full, uuid);
	if (p != NULL || !g_hash_table_contains(plan->by_uuid, uuid))
		return p;
	if (profile_lookup_uuid(plan->store, uuid, &p, error_r) < 0) {
		*failed = true;
		return NULL;
	}
	if (p != NULL)
		g_hash_table_replace(plan->full, p->source_uuid, p);
	return p;
}

static void report(struct plan *plan, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void report(struct plan *plan, const char *fmt, ...)
{
	if (plan->report == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(plan->report, fmt, ap);
	va_end(ap);
	fputc('\n', plan->report);
}

static void skip(struct plan *plan, const char *dn, const char *why)
{
	char shown_dn[LOG_PEER_TEXT_MAX + 8], shown_why[LOG_PEER_TEXT_MAX + 8];
	log_printable(shown_dn, sizeof(shown_dn), dn, strlen(dn));
	log_printable(shown_why, sizeof(shown_why), why, strlen(why));
	log_warning("ldapsync skip dn=\"%s\" reason=\"%s\"", shown_dn, shown_why);
	report(plan, "skip %s: %s", dn, why);
	plan->stats->skipped++;
}

/* Who holds an address (a value of claims). */
struct claim {
	const char *uuid; /* directory entry, or NULL for a local profile */
	const char *who;  /* the local profile's primary address, or the entry's DN */
};

static void claim_add(GHashTable *claims, const char *address, const char *uuid, const char *who)
{
	struct claim *c = g_new0(struct claim, 1);
	c->uuid = uuid;
	c->who = who != NULL ? who : "";
	g_hash_table_insert(claims, (gpointer)address, c);
}

/* The entries that may not be saved (uuid -> why): each address is claimed once. Stored
   profiles that stay (not re-sent, not deleted) and local profiles keep theirs; among the
   entries read, the first claimant wins, and an entry that loses keeps its stored version, whose
   addresses may in turn beat a later one: repeated until nothing changes (losers only grow). */
static GHashTable *resolve_claims(struct plan *plan, GPtrArray *entries, GHashTable *gone, GHashTable *sent)
{
	GHashTable *losers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	for (bool changed = true; changed;) {
		changed = false;
		GHashTable *claims = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
		for (guint i = 0; i < plan->all->len; i++) {
			const struct stored *s = plan->all->pdata[i];
			bool directory = stored_directory(s);
			if (directory && (g_hash_table_contains(gone, s->uuid) ||
					  (g_hash_table_contains(sent, s->uuid) &&
					   !g_hash_table_contains(losers, s->uuid))))
				continue;
			for (guint j = 0; j < s->addresses->len; j++)
				claim_add(claims, s->addresses->pdata[j], directory ? s->uuid : NULL,
					  directory ? s->dn : s->primary);
		}
		for (guint i = 0; i < entries->len; i++) {
			const struct read_entry *e = entries->pdata[i];
			if (e->profile == NULL || g_hash_table_contains(losers, e->uuid) ||
			    g_hash_table_lookup(sent, e->uuid) != e)
				continue;
			char *why = NULL;
			for (guint j = 0; j < e->profile->addresses->len && why == NULL; j++) {
				const char *a = e->profile->addresses->pdata[j];
				const struct claim *c = g_hash_table_lookup(claims, a);
				if (c == NULL || str_eq(c->uuid, e->uuid))
					continue;
				why = c->uuid == NULL
					  ? g_strdup_printf("address %s belongs to the local profile %s", a,
							    c->who)
					  : g_strdup_printf("address %s is already claimed by %s", a, c->who);
			}
			if (why != NULL) {
				g_hash_table_insert(losers, e->uuid, why);
				changed = true;
				continue;
			}
			for (guint j = 0; j < e->profile->addresses->len; j++)
				claim_add(claims, e->profile->addresses->pdata[j], e->uuid, e->dn);
		}
		g_hash_table_destroy(claims);
	}
	return losers;
}

static void op_add(struct plan *plan, enum op_kind kind, struct profile *profile, const struct stored *stored)
{
	struct op *op = g_new0(struct op, 1);
	op->kind = kind;
	op->profile = profile;
	op->stored = stored;
	g_ptr_array_add(plan->ops, op);
}

static int plan_build(struct plan *plan, struct answer *answer, const struct dirmap_groups *groups,
		      const char **error_r)
{
	bool failed = false;
	/* The last version of each entry sent counts (a server may send one twice). */
	GHashTable *sent = g_hash_table_new(g_str_hash, g_str_equal); /* uuid -> struct read_entry * */
	for (guint i = 0; i < answer->entries->len; i++) {
		struct read_entry *e = answer->entries->pdata[i];
		if (e->profile == NULL) {
			skip(plan, e->dn, e->why);
			continue;
		}
		dirmap_groups_apply(groups, e->profile);
		g_hash_table_insert(sent, e->uuid, e);
	}
	/* gone: stored directory profiles the server deleted or (sweep) did not name */
	GHashTable *gone = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < plan->all->len; i++) {
		const struct stored *s = plan->all->pdata[i];
		if (!stored_directory(s) || g_hash_table_contains(sent, s->uuid))
			continue;
		if (g_hash_table_contains(answer->deleted, s->uuid) ||
		    (answer->sweep && !g_hash_table_contains(answer->seen, s->uuid))) {
			g_hash_table_add(gone, s->uuid);
			op_add(plan, OP_DELETE, NULL, s);
			report(plan, "delete %s %s", s->primary, s->dn ? s->dn : "");
			plan->stats->deleted++;
		}
	}
	GHashTable *losers = resolve_claims(plan, answer->entries, gone, sent);
	for (guint i = 0; i < answer->entries->len && !failed; i++) {
		struct read_entry *e = answer->entries->pdata[i];
		if (e->profile == NULL || g_hash_table_lookup(sent, e->uuid) != e)
			continue;
		const char *why = g_hash_table_lookup(losers, e->uuid);
		if (why != NULL) {
			skip(plan, e->dn, why);
			continue;
		}
		const struct profile *old = stored_profile(plan, e->uuid, &failed, error_r);
		if (old != NULL)
			keep_local_fields(e->profile, old);
		if (old != NULL && mapped_eq(e->profile, old)) {
			plan->stats->unchanged++;
			continue;
		}
		report(plan, "%s %s %s", old != NULL ? "change" : "add", e->profile->primary_address, e->dn);
		op_add(plan, old != NULL ? OP_CHANGE : OP_ADD, g_steal_pointer(&e->profile),
		       g_hash_table_lookup(plan->by_uuid, e->uuid));
		if (old != NULL)
			plan->stats->changed++;
		else
			plan->stats->added++;
	}
	/* Group changes reach the profiles the server did not re-send (and those whose new version
	   lost an address). */
	for (guint i = 0; i < plan->all->len && !failed; i++) {
		const struct stored *s = plan->all->pdata[i];
		if (!stored_directory(s) || g_hash_table_contains(gone, s->uuid) ||
		    (g_hash_table_contains(sent, s->uuid) && !g_hash_table_contains(losers, s->uuid)))
			continue;
		struct profile *probe = profile_new(s->primary);
		probe->source_dn = g_strdup(s->dn);
		dirmap_groups_apply(groups, probe);
		bool same = probe->may_send == s->may_send && str_eq(probe->permission_class, s->classes);
		profile_free(&probe);
		const struct profile *old = same ? NULL : stored_profile(plan, s->uuid, &failed, error_r);
		if (old == NULL)
			continue;
		struct profile *p = profile_copy(old);
		dirmap_groups_apply(groups, p);
		op_add(plan, OP_CHANGE, p, s);
		report(plan, "change %s %s (groups)", p->primary_address, p->source_dn ? p->source_dn : "");
		plan->stats->changed++;
	}
	g_hash_table_destroy(losers);
	g_hash_table_destroy(gone);
	g_hash_table_destroy(sent);
	return failed ? -1 : 0;
}

/* Deletes and the stored versions of changed profiles first (so an address may move from one
   entry to another within a run), then the saves (a changed profile keeps its id). */
static int plan_apply(struct plan *plan, const char **error_r)
{
	for (int pass = 0; pass < 2; pass++) {
		for (guint i = 0; i < plan->ops->len; i++) {
			struct op *op = plan->ops->pdata[i];
			if (pass == 0 && op->stored != NULL &&
			    profile_delete(plan->store, op->stored->primary, error_r) < 0)
				return -1;
			if (pass == 1 && op->profile != NULL &&
			    profile_save(plan->store, op->profile, error_r) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- the run -------------------------------------------------------------------------------- */

struct root_dse {
	bool sync, paged;
};

static int read_root_dse(struct ldapconn *conn, struct root_dse *dse_r, const char **error_r)
{
	char *attrs[] = {(char *)"supportedControl", NULL};
	LDAPMessage *res = NULL;
	memset(dse_r, 0, sizeof(*dse_r));
	int rc = ldapconn_search(conn, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, &res, error_r);
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return -1;
	}
	LDAP *ld = ldapconn_handle(conn);
	LDAPMessage *e = ldap_first_entry(ld, res);
	struct berval **v = e != NULL ? ldap_get_values_len(ld, e, "supportedControl") : NULL;
	for (int i = 0; v != NULL && v[i] != NULL; i++) {
		dse_r->sync |=
		    v[i]->bv_len == strlen(OID_SYNC) && memcmp(v[i]->bv_val, OID_SYNC, v[i]->bv_len) == 0;
		dse_r->paged |=
		    v[i]->bv_len == strlen(OID_PAGED) && memcmp(v[i]->bv_val, OID_PAGED, v[i]->bv_len) == 0;
	}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return 0;
}

/* Read the directory into *answer_r: incremental when allowed and possible. */
static int read_directory(struct run *run, struct ldapconn *conn, const struct root_dse *dse,
			  const char *cookie, int page_size, struct dirsync_stats *stats,
			  const char **error_r)
{
	if (dse->sync && cookie != NULL) {
		run->answer = answer_new();
		int rc = sync_refresh(run, conn, cookie, error_r);
		bool reload =
		    rc == LDAP_SYNC_REFRESH_REQUIRED || rc == LDAP_UNWILLING_TO_PERFORM ||
		    (rc == LDAP_SUCCESS && run->answer->cookie != NULL && *run->answer->cookie == '\0');
		if (rc == LDAP_SUCCESS && !reload) {
			stats->incremental = true;
			/* refreshDeletes FALSE: a present phase; whatever was not named is gone. */
			run->answer->sweep = run->answer->refresh_deletes == 0 || run->answer->present_phase;
			stats->present_phase = run->answer->sweep;
			return 0;
		}
		if (!reload)
			return -1;
		log_info("ldapsync: full reload: %s",
			 rc == LDAP_SUCCESS ? "the server returned an empty cookie" : *error_r);
		answer_free(&run->answer);
		if (ldapconn_open(conn, error_r) < 0)
			return -1;
	}
	run->answer = answer_new();
	run->answer->sweep = true;
	if (dse->sync) {
		int rc = sync_refresh(run, conn, NULL, error_r);
		if (rc == LDAP_SUCCESS && run->answer->cookie != NULL && *run->answer->cookie == '\0')
			g_clear_pointer(&run->answer->cookie, g_free);
		return rc == LDAP_SUCCESS ? 0 : -1;
	}
	return paged_read(run, conn, dse->paged, page_size, error_r);
}

int dirsync_run(struct store *store, const struct config *config, const struct dialrules *rules,
		const struct dirsync_options *options, struct dirsync_stats *stats_r, const char **error_r)
{
	gint64 t0 = g_get_monotonic_time();
	memset(stats_r, 0, sizeof(*stats_r));
	*error_r = NULL;
	struct ldapconn_settings set;
	if (ldapconn_settings_load(config, &set, error_r) < 0)
		return -1;
	if (*set.base == '\0') {
		ldapconn_settings_clear(&set);
		return error_set(error_r, "[ldap] base is empty");
	}
	struct dirmap *map = dirmap_create(config, rules, error_r);
	struct ldapconn *conn = ldapconn_create(&set);
	struct db *db = store_db(store);
	struct dirmap_groups *groups = NULL;
	struct run run = {.map = map};
	struct plan plan = {.stats = stats_r, .report = options->report};
	g_autofree char *cookie = NULL, *query = NULL, *last_full = NULL, *hash = NULL;
	struct root_dse dse;
	int ret = -1;
	if (map == NULL || ldapconn_open(conn, error_r) < 0 || read_root_dse(conn, &dse, error_r) < 0 ||
	    dirmap_groups_load(map, conn, &groups, error_r) < 0)
		goto out;
	if (state_get(db, STATE_COOKIE, &cookie) < 0 || state_get(db, STATE_QUERY, &query) < 0 ||
	    state_get(db, STATE_LAST_FULL, &last_full) < 0) {
		*error_r = error_format("store: %s", db_error(db));
		goto out;
	}
	hash = query_hash(&set, map);
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	int64_t interval = config_int(config, "ldap", "full_sync_interval");
	bool full = options->full || !str_eq(query, hash) || last_full == NULL ||
		    (interval > 0 && now - g_ascii_strtoll(last_full, NULL, 10) >= interval);
	if (full)
		g_clear_pointer(&cookie, g_free);
	if (read_directory(&run, conn, &dse, cookie, (int)config_int(config, "ldap", "page_size"), stats_r,
			   error_r) < 0)
		goto out;

	plan.store = store;
	if (plan_load(&plan, run.answer->sweep, error_r) < 0 ||
	    plan_build(&plan, run.answer, groups, error_r) < 0)
		goto out;
	if (options->dry_run) {
		ret = 0;
		goto out;
	}
	bool was_full = !stats_r->incremental;
	if (store_begin(store) < 0) {
		*error_r = error_format("store: %s", store_error(store));
		goto out;
	}
	ret = plan_apply(&plan, error_r);
	if (ret == 0) {
		/* The cookie goes with the data it describes; none back: the old one stays. */
		g_autofree char *stamp = g_strdup_printf("%lld", (long long)now);
		if ((run.answer->cookie != NULL && state_set(db, STATE_COOKIE, run.answer->cookie) < 0) ||
		    (was_full && run.answer->cookie == NULL && state_set(db, STATE_COOKIE, NULL) < 0) ||
		    state_set(db, STATE_QUERY, hash) < 0 ||
		    (was_full && state_set(db, STATE_LAST_FULL, stamp) < 0)) {
			*error_r = error_format("store: %s", db_error(db));
			ret = -1;
		}
	}
	if (ret == 0 && store_commit(store) < 0) {
		*error_r = error_format("store: commit: %s", store_error(store));
		ret = -1;
	}
	if (ret < 0) {
		store_rollback(store);
		int incremental = stats_r->incremental;
		memset(stats_r, 0, sizeof(*stats_r));
		stats_r->incremental = incremental;
	}
out:
	if (ret < 0 && *error_r == NULL)
		*error_r = "sync failed";
	plan_clear(&plan);
	answer_free(&run.answer);
	dirmap_groups_free(&groups);
	ldapconn_free(&conn);
	dirmap_free(&map);
	ldapconn_settings_clear(&set);
	stats_r->seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	return ret;
}
