/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bin/faxgate: `faxgate run [-c FILE]` starts and watches every faxgate program. */
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

static void usage(void)
{
	fprintf(stderr, "usage: faxgate [-c FILE] run|start\n"
			"  run    start every configured program in the foreground, logging to stderr;\n"
			"         SIGTERM or Ctrl-C stops, SIGHUP reloads\n"
			"  start  the same, detached, logging to syslog (facility mail)\n");
}

/* Detach from the terminal as a daemon: the programs log to syslog from here on. */
static int detach(void)
{
	if (daemon(1, 0) < 0) {
		perror("faxgate: daemon");
		return -1;
	}
	setenv("FAXGATE_LOG", "syslog", 1);
	return 0;
}

static void print_first_steps(const char *config_path)
{
	const char *file = config_path ? config_path : getenv("FAXGATE_CONFIG");
	fprintf(stderr,
		"faxgate: running on %s. Send a first fax from another terminal:\n"
		"  bin/faxctl send --wait --to +12125550100 var/sample.tiff  (make run writes that 2-page sample)\n"
		"  bin/faxctl loop-call --did 100 var/sample.tiff            (the loop line calls in: faxctl inbound)\n"
		"  swaks --server 127.0.0.1:2525 --to +12125550100@fax.localhost --attach doc.pdf   (mail in)\n"
		"  bin/faxctl jobs                                             (what is queued and sent)\n"
		"The loop line's far end saves what it receives under var/loop/. Ctrl-C stops.\n",
		file ? file : "the embedded default (no configuration file)");
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "c:h")) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		default: usage(); return opt == 'h' ? 0 : 64;
		}
	}
	bool start = optind < argc && strcmp(argv[optind], "start") == 0;
	if (optind >= argc || (!start && strcmp(argv[optind], "run") != 0)) {
		usage();
		return 64;
	}
	if (start && detach() < 0)
		return 71;
	log_open_child("faxgate");
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *bindir = g_path_get_dirname(exe ? exe : argv[0]);
	if (!start)
		print_first_steps(config_path);
	struct supervisor *sup = supervisor_create(config_path, bindir);
	int ret = supervisor_run(sup);
	supervisor_free(&sup);
	return ret;
}
