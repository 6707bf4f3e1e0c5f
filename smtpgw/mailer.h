/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_MAILER_H
#define SMTPGW_MAILER_H

struct config;
struct mailer;

/* bin/mailer: composes notifications of jobs and mails of received faxes into the outbox, and
   delivers the outbox through the [mailroute] transports. */
int mailer_create(const struct config *config, struct mailer **mailer_r, const char **error_r);
/* Until SIGTERM/SIGINT: 0, or 1 on a store failure that cannot be waited out. */
int mailer_run(struct mailer *mailer);
void mailer_free(struct mailer **mailerp);

#endif
