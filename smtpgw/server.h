/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_SERVER_H
#define SMTPGW_SERVER_H

struct config;
struct server;

/* Every configured listener, bound; NULL with *error_r on a start-up error (address in use,
   bad certificate, bad trusted_networks). */
struct server *server_create(const struct config *config, const char **error_r);
void server_free(struct server **serverp);
/* Serve until SIGTERM/SIGINT; returns the exit code. */
int server_run(struct server *server);

#endif
