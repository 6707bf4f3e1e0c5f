/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Receiving faxes: every offered call is answered into a spool file; when the call ends, the
 * TIFF (T.6) and a record with DID, caller id, remote CSID, pages, resolution, duration and the
 * result go into the store in one transaction, then the spool file is removed. A partial
 * reception is kept and marked partial; a call that brought no page is recorded too (pages 0),
 * so nothing a caller sent disappears without a trace. Routing to mailboxes is the mailer's.
 */
#include "faxd/receiver.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/store.h"
#include "faxd/fax_session.h"
#include "faxd/line.h"

struct receiver {
	const struct config *config;
	struct store *store;
	char *spool;
	GHashTable *calls; /* call id -> struct rx * */
};

struct rx {
	char *did, *caller_id, *line, *path;
};

static void rx_free(gpointer p)
{
	struct rx *rx = p;
	g_free(rx->did);
	g_free(rx->caller_id);
	g_free(rx->line);
	g_free(rx->path);
	g_free(rx);
}

struct receiver *receiver_create(const struct config *config, struct store *store, const char *spool)
{
	struct receiver *rv = g_new0(struct receiver, 1);
	rv->config = config;
	rv->store = store;
	rv->spool = g_strdup(spool);
	rv->calls = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, rx_free);
	return rv;
}

void receiver_free(struct receiver **receiverp)
{
	struct receiver *rv = *receiverp;
	if (rv == NULL)
		return;
	g_hash_table_destroy(rv->calls);
	g_free(rv->spool);
	g_free(rv);
	*receiverp = NULL;
}

void receiver_offer(void *ctx, struct call *call, const struct inbound_offer *offer)
{
	struct receiver *rv = ctx;
	struct rx *rx = g_new0(struct rx, 1);
	rx->did = g_strdup(offer->did);
	rx->caller_id = g_strdup(offer->caller_id);
	rx->line = g_strdup(offer->line);
	rx->path = g_strdup_printf("%s/rx-%llu-%lld.tiff", rv->spool, (unsigned long long)offer->call_id,
				   (long long)g_get_real_time());
	const char *error = NULL;
	if (call_answer(call, rx->path, NULL, &error) < 0) {
		log_warning("line=%s did=%s caller=%s cannot answer: %s", offer->line, offer->did, offer->caller_id, error);
		call_reject(call);
		rx_free(rx);
		return;
	}
	log_info("line=%s did=%s caller=%s status=answered", offer->line, offer->did ? offer->did : "-",
		 offer->caller_id ? offer->caller_id : "-");
	int64_t *key = g_new(int64_t, 1);
	*key = (int64_t)offer->call_id;
	g_hash_table_insert(rv->calls, key, rx);
}

static const char *resolution_name(int y_res)
{
	return y_res >= 350 ? "superfine" : y_res >= 150 ? "fine" : y_res > 0 ? "standard" : NULL;
}

/* The fax and its record, in one transaction. */
static int store_fax(struct receiver *rv, const struct rx *rx, const char *file, const struct fax_report *r,
		     struct inbound *rec)
{
	gchar *data = NULL;
	gsize len = 0;
	bool have_pages = file != NULL && r->pages_done > 0 && g_file_get_contents(file, &data, &len, NULL);
	rec->received_at = g_get_real_time() / G_USEC_PER_SEC;
	rec->line = rx->line;
	rec->did = rx->did;
	rec->caller_id = rx->caller_id;
	rec->remote_csid = (char *)r->remote_ident;
	rec->pages = r->pages_done;
	rec->resolution = (char *)resolution_name(r->y_res);
	rec->duration_ms = (int64_t)(r->duration_s * 1000);
	rec->result_code = r->t30_code;
	rec->result_text = (char *)r->text;
	rec->partial = r->outcome != FAX_OUTCOME_OK;
	rec->state = "received";
	int ret = store_begin(rv->store);
	if (ret == 0 && have_pages)
		ret = store_document_put(rv->store, "inbound", "image/tiff", data, len, &rec->document_id);
	if (ret == 0)
		ret = store_inbound_insert(rv->store, rec);
	if (ret == 0)
		ret = store_commit(rv->store);
	else
		store_rollback(rv->store);
	g_free(data);
	return ret;
}

void receiver_done(void *ctx, struct call *call, const struct fax_report *r, const char *rx_file)
{
	struct receiver *rv = ctx;
	int64_t key = (int64_t)call_id(call);
	struct rx *rx = g_hash_table_lookup(rv->calls, &key);
	if (rx == NULL) {
		log_error("call %lld ended but was never answered here", (long long)key);
		return;
	}
	const char *file = rx_file != NULL ? rx_file : rx->path;
	struct inbound rec = {0};
	char csid[64];
	log_printable(csid, sizeof(csid), r->remote_ident, strlen(r->remote_ident));
	if (store_fax(rv, rx, file, r, &rec) < 0) {
		/* Keep the spool file: the fax is not lost, an operator can recover it. */
		log_error("line=%s did=%s fax not stored, kept in %s: %s", rx->line, rx->did, file, store_error(rv->store));
	} else {
		log_job(LOG_LEVEL_INFO, rec.id, "fax from=%s did=%s line=%s pages=%d remote_csid=\"%s\" result=%s partial=%d",
			rx->caller_id ? rx->caller_id : "-", rx->did ? rx->did : "-", rx->line, r->pages_done, csid,
			fax_outcome_name(r->outcome), (int)rec.partial);
		g_unlink(file);
	}
	g_hash_table_remove(rv->calls, &key);
}
