/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Numeric UDP addresses (faxd/udpaddr.h). */
#include "faxd/udpaddr.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int udpaddr_split(const char *text, char *host, size_t size, int *port_r)
{
	const char *colon = strrchr(text, ':');
	if (colon == NULL)
		return -1;
	const char *h = text;
	size_t len = (size_t)(colon - text);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (len == 0 || len >= size)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		return -1;
	*port_r = (int)port;
	return 0;
}

int udpaddr_resolve(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len_r)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *res;
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(addr, service, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len_r = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
