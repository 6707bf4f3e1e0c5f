/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bin/faxctl: the admin and user command line. `faxctl help` lists the commands. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/store.h"
#include "faxctl/faxctl.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: faxctl [-c FILE] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct faxctl_command *c = faxctl_commands; c->name != NULL; c++)
		fprintf(f, "  %s\n", c->usage);
}

int main(int argc, char **argv)
{
	struct faxctl ctl = {0};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			ctl.config_path = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			ctl.json = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 64;
		}
	}
	if (i >= argc || strcmp(argv[i], "help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 64 : 0;
	}
	const struct faxctl_command *cmd = faxctl_commands;
	while (cmd->name != NULL && strcmp(cmd->name, argv[i]) != 0)
		cmd++;
	if (cmd->name == NULL) {
		fprintf(stderr, "faxctl: unknown command %s\n", argv[i]);
		usage(stderr);
		return 64;
	}
	log_open("faxctl", true);
	log_set_level(LOG_LEVEL_WARNING);
	char *errors = NULL;
	if (config_load(ctl.config_path, &ctl.config, &errors) < 0) {
		fprintf(stderr, "faxctl: configuration errors:\n%s", errors);
		g_free(errors);
		return 78;
	}
	optind = 1;
	int ret = cmd->run(&ctl, argc - i, argv + i);
	store_close(&ctl.store);
	config_free(&ctl.config);
	return ret;
}
