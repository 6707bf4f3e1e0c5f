/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bin/faxgate: `faxgate run [-c FILE]` starts and watches every faxgate program. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/supervisor.h"

static void usage(void)
{
	fprintf(stderr, "usage: faxgate [-c FILE] run\n"
			"  run    start every configured program in the foreground; SIGTERM stops, SIGHUP reloads\n");
}

static void print_first_steps(void)
{
	fprintf(stderr,
		"faxgate: running on %s. Send a first fax from another terminal:\n"
		"  bin/faxctl send --wait --to +12125550100 FILE.tiff        (a TIFF-F page, e.g. from tests)\n"
		"  swaks --server 127.0.0.1:2525 --to +12125550100@fax.localhost --attach doc.pdf\n"
		"  bin/faxctl jobs                                             (what is queued and sent)\n"
		"The loop line's far end saves what it receives under var/loop/. Ctrl-C stops.\n",
		getenv("FAXGATE_CONFIG") ? getenv("FAXGATE_CONFIG") : "the configuration (embedded default if none)");
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
	if (optind >= argc || strcmp(argv[optind], "run") != 0) {
		usage();
		return 64;
	}
	log_open("faxgate", true);
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *bindir = g_path_get_dirname(exe ? exe : argv[0]);
	if (isatty(STDERR_FILENO))
		print_first_steps();
	struct supervisor *sup = supervisor_create(config_path, bindir);
	int ret = supervisor_run(sup);
	supervisor_free(&sup);
	return ret;
}
