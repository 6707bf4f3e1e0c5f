/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Directory -> profiles sync. Incremental by RFC 4533 refreshOnly when the server offers it
 * (root DSE supportedControl 1.3.6.1.4.1.4203.1.9.1.1): the cookie is kept in sync_state and
 * written in the same transaction as the changes; explicit deletes (syncIdSet, refreshDeletes)
 * and the present phase (mark and sweep) both handled. Otherwise, and for a full reload, a paged
 * (RFC 2696) search of everything and a diff against the stored directory profiles. Profiles are
 * keyed by the entry's UUID, so renames and moves keep them. Never sync and paging together
 * (research/ldap.md §2.2: silently truncated).
 */
#ifndef LDAPSYNC_DIRSYNC_H
#define LDAPSYNC_DIRSYNC_H

#include <stdbool.h>
#include <stdio.h>

struct config;
struct dialrules;
struct store;

struct dirsync_options {
	bool dry_run;   /* compute and report, change nothing (cookie included) */
	bool full;      /* a full reload even when a cookie exists */
	FILE *report;   /* one line per add/change/delete/skip ("add jdoe@example.com uid=..."); NULL none */
};

struct dirsync_stats {
	int added, changed, deleted, unchanged, skipped;
	bool incremental;     /* an RFC 4533 refresh from a stored cookie */
	bool present_phase;   /* the server sent a present list: unseen profiles were swept */
	double seconds;
};

/* One sync run. 0, or -1 with *error_r (the store is unchanged then). */
int dirsync_run(struct store *store, const struct config *config, const struct dialrules *rules,
		const struct dirsync_options *options, struct dirsync_stats *stats_r, const char **error_r);

#endif
