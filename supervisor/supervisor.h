/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SUPERVISOR_SUPERVISOR_H
#define SUPERVISOR_SUPERVISOR_H

struct config;
struct supervisor;

/* config_path: the -c argument (NULL: the usual search); bindir: where the programs are. */
struct supervisor *supervisor_create(const char *config_path, const char *bindir);
void supervisor_free(struct supervisor **supp);
/* Start every configured program, restart those that die, stop all on SIGTERM/SIGINT, reload on
   SIGHUP. Returns the process exit code. */
int supervisor_run(struct supervisor *sup);

#endif
