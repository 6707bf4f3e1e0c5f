/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FAXCTL_FAXCTL_H
#define FAXCTL_FAXCTL_H

#include <stdbool.h>

struct config;
struct store;

/* What every command gets. The store is opened on first use. */
struct faxctl {
	const char *config_path;
	struct config *config;
	struct store *store;
	bool json;
};

struct faxctl_command {
	const char *name;
	const char *usage;
	/* argv[0] is the command name; returns the exit code. */
	int (*run)(struct faxctl *ctl, int argc, char **argv);
};

/* NULL-terminated table of every command (commands.c and the files of later commands). */
extern const struct faxctl_command faxctl_commands[];

int faxctl_cmd_send(struct faxctl *ctl, int argc, char **argv);
int faxctl_cmd_loop_call(struct faxctl *ctl, int argc, char **argv);
int faxctl_cmd_preview(struct faxctl *ctl, int argc, char **argv);
int faxctl_cmd_profile(struct faxctl *ctl, int argc, char **argv);
int faxctl_cmd_watch(struct faxctl *ctl, int argc, char **argv);
int faxctl_cmd_test_mail(struct faxctl *ctl, int argc, char **argv);
int faxctl_cmd_status(struct faxctl *ctl, int argc, char **argv);

/* Open the store or print why not; NULL then (the caller exits 75). */
struct store *faxctl_store(struct faxctl *ctl);

#endif
