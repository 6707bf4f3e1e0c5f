/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_POLICY_H
#define SMTPGW_POLICY_H

#include <stdbool.h>
#include <sys/socket.h>

/* A list of networks in CIDR notation ("127.0.0.0/8,::1/128,10.1.2.3"). */
struct cidr_list;

/* NULL with *error_r naming the bad entry. */
struct cidr_list *cidr_list_parse(const char *const *items, const char **error_r);
void cidr_list_free(struct cidr_list **listp);
bool cidr_list_match(const struct cidr_list *list, const struct sockaddr *addr);

#endif
