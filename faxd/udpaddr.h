/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Numeric UDP addresses for the media sockets (faxd/line_sip.c, tests/helpers/faxpeer.c):
 * "HOST:PORT" and "[V6]:PORT" split, and numeric host + port into a socket address. No name
 * lookups: SDP and our config give numeric addresses, and a lookup on the media thread would
 * stall every call.
 */
#ifndef FAXD_UDPADDR_H
#define FAXD_UDPADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* HOST:PORT or [V6]:PORT into host (NUL-terminated, without brackets) and port 0..65535;
   -1 when malformed or host does not fit in size. */
int udpaddr_split(const char *text, char *host, size_t size, int *port_r);
/* A numeric IPv4/IPv6 address and a port as a socket address; -1 when addr is not numeric. */
int udpaddr_resolve(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len_r);

#endif
