/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_DELIVER_H
#define SMTPGW_DELIVER_H

struct config;

/* Pipe mode for MTAs: the message on stdin, the envelope as arguments. Returns a sysexits
   code: 0 queued, 64 usage, 65 bad message, 67 bad recipient, 75 try again later, 77 not
   allowed. A message is queued for every recipient or for none. */
int deliver_run(const struct config *config, const char *sender, char **recipients, int n_recipients);

#endif
