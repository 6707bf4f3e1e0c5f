/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bin/ldapsync: directory users -> profiles (ldapsync/dirsync.c). Started by `faxgate run` when
 * [ldap] uri is set: one run every [ldap] sync_interval (SIGHUP: re-read the configuration and
 * run now; SIGTERM/SIGINT: stop at once between runs, or when the run in progress has ended: a
 * run writes in one transaction, so even a kill -9 leaves the store as it was). A failed run is
 * logged and tried again after a back-off.
 *
 *   ldapsync [--once] [--dry-run] [--full] [-c|--config FILE]
 *
 * Exit codes: 0 done (or no directory configured), 64 usage, 75 a run failed (--once), 78 bad
 * configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dialrules.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/store.h"
#include "ldapsync/dirmap.h"
#include "ldapsync/dirsync.h"
#include "ldapsync/ldapconn.h"

#define EXIT_USAGE 64
#define EXIT_TEMPFAIL 75
#define EXIT_CONFIG 78
/* First retry after a failed run; doubles up to sync_interval. */
#define RETRY_FIRST_S 15

struct setup {
	struct config *config;
	struct dialrules *rules;
};

static void setup_clear(struct setup *s)
{
	dialrules_free(&s->rules);
	config_free(&s->config);
}

/* Load and check everything a run needs from the configuration. 0, 1 (no directory: nothing
   to do) or -1 (said on stderr). */
static int setup_load(const char *path, struct setup *s)
{
	char *errors = NULL;
	if (config_load(path, &s->config, &errors) < 0) {
		fprintf(stderr, "ldapsync: configuration errors:\n%s", errors);
		g_free(errors);
		return -1;
	}
	enum log_level level;
	if (log_level_parse(config_str(s->config, "faxgate", "log_level"), &level) == 0)
		log_set_level(level);
	if (!ldapconn_configured(s->config))
		return 1;
	const char *error = NULL;
	struct ldapconn_settings set;
	if (dialrules_config_check(s->config, &error) < 0) {
		fprintf(stderr, "ldapsync: [dial]: %s\n", error);
		return -1;
	}
	s->rules = dialrules_from_config(s->config);
	if (ldapconn_settings_load(s->config, &set, &error) < 0) {
		fprintf(stderr, "ldapsync: %s\n", error);
		return -1;
	}
	ldapconn_settings_clear(&set);
	struct dirmap *map = dirmap_create(s->config, s->rules, &error);
	if (map == NULL) {
		fprintf(stderr, "ldapsync: %s\n", error);
		return -1;
	}
	dirmap_free(&map);
	if (*config_str(s->config, "ldap", "base") == '\0') {
		fprintf(stderr, "ldapsync: [ldap] base is empty\n");
		return -1;
	}
	return 0;
}

static int run_once(struct store *store, const struct setup *s, const struct dirsync_options *opt)
{
	struct dirsync_stats st;
	const char *error = NULL;
	int ret = dirsync_run(store, s->config, s->rules, opt, &st, &error);
	if (ret < 0) {
		log_error("ldapsync failed mode=%s seconds=%.2f error=\"%s\"",
			  st.incremental ? "incremental" : "full", st.seconds, error);
		return -1;
	}
	if (st.present_phase)
		log_info("ldapsync: the server sent a present list: profiles it did not name were deleted");
	log_info("ldapsync mode=%s added=%d changed=%d deleted=%d unchanged=%d skipped=%d seconds=%.2f%s",
		 st.incremental ? "incremental" : "full", st.added, st.changed, st.deleted, st.unchanged,
		 st.skipped, st.seconds, opt->dry_run ? " dry_run=yes" : "");
	return 0;
}

/* Wait up to seconds for a signal: 0 timeout, SIGHUP, or SIGTERM/SIGINT. */
static int wait_signal(int sigfd, int64_t seconds)
{
	int64_t deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
	for (;;) {
		int64_t left_ms = (deadline - g_get_monotonic_time()) / 1000;
		if (left_ms <= 0)
			return 0;
		struct pollfd pfd = {.fd = sigfd, .events = POLLIN};
		int n = poll(&pfd, 1, (int)MIN(left_ms, 60000));
		if (n < 0 && errno != EINTR)
			return SIGTERM;
		struct signalfd_siginfo si;
		if (n > 0 && read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"once", no_argument, NULL, 'o'}, {"dry-run", no_argument, NULL, 'n'},
	    {"full", no_argument, NULL, 'f'}, {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool once = false;
	struct dirsync_options opt = {0};
	int c;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = true;
			break;
		case 'n':
			opt.dry_run = true;
			break;
		case 'f':
			opt.full = true;
			break;
		case 'c':
			config_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: ldapsync [--once] [--dry-run] [--full] [-c|--config FILE]\n");
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: ldapsync [--once] [--dry-run] [--full] [-c|--config FILE]\n");
		return EXIT_USAGE;
	}
	log_open_child("ldapsync");
	int sigfd = signals_block_fd();
	struct setup s = {0};
	int loaded = setup_load(config_path, &s);
	if (loaded != 0) {
		if (loaded > 0)
			printf("ldapsync: no directory configured ([ldap] uri)\n");
		setup_clear(&s);
		return loaded > 0 ? 0 : EXIT_CONFIG;
	}
	struct store *store = NULL;
	const char *error = NULL;
	if (store_open(s.config, &store, &error) < 0) {
		log_error("ldapsync: %s", error);
		setup_clear(&s);
		return EXIT_TEMPFAIL;
	}
	if (opt.dry_run)
		opt.report = stdout;
	int64_t interval = config_int(s.config, "ldap", "sync_interval");
	int ret = 0;
	if (once || opt.dry_run || interval == 0) {
		ret = run_once(store, &s, &opt) < 0 ? EXIT_TEMPFAIL : 0;
	} else {
		int64_t retry = RETRY_FIRST_S;
		for (;;) {
			int64_t wait = interval;
			if (run_once(store, &s, &opt) < 0) {
				wait = MIN(retry, interval);
				retry = MIN(retry * 2, interval);
				log_info("ldapsync: next try in %llds", (long long)wait);
			} else {
				retry = RETRY_FIRST_S;
			}
			opt.full = false;
			if (interval == 0) /* made run-once by a reload */
				break;
			int sig = wait_signal(sigfd, wait);
			if (sig == SIGTERM || sig == SIGINT)
				break;
			if (sig == SIGHUP) {
				struct setup fresh = {0};
				if (setup_load(config_path, &fresh) == 0) {
					setup_clear(&s);
					s = fresh;
					interval = config_int(s.config, "ldap", "sync_interval");
					log_info("ldapsync: configuration re-read");
				} else {
					setup_clear(&fresh);
					log_error(
					    "ldapsync: reload refused, keeping the running configuration");
				}
			}
		}
	}
	store_close(&store);
	setup_clear(&s);
	if (sigfd >= 0)
		close(sigfd);
	return ret;
}
