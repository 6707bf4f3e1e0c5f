/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FAXD_RECEIVER_H
#define FAXD_RECEIVER_H

struct call;
struct config;
struct fax_report;
struct inbound_offer;
struct store;
struct receiver;

/* Receiving: answers the calls lines offer and stores what arrives as inbound faxes. */
struct receiver *receiver_create(const struct config *config, struct store *store, const char *spool);
void receiver_free(struct receiver **receiverp);
/* The lines_callbacks of faxd (ctx = struct receiver *). */
void receiver_offer(void *ctx, struct call *call, const struct inbound_offer *offer);
void receiver_done(void *ctx, struct call *call, const struct fax_report *report, const char *rx_file);

#endif
