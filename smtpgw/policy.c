/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Who may send without AUTH: the trusted networks, as CIDR blocks (RFC 4632) for IPv4 and IPv6
 * (RFC 4291); an IPv4-mapped IPv6 client (::ffff:a.b.c.d) matches the IPv4 blocks.
 */
#include "smtpgw/policy.h"

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

struct cidr {
	int family;
	unsigned char addr[16];
	int prefix;
};

struct cidr_list {
	GArray *items; /* struct cidr */
};

static int parse_one(const char *text, struct cidr *c)
{
	g_autofree char *copy = g_strdup(text);
	char *slash = strchr(copy, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, copy, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, copy, c->addr) == 1)
		c->family = AF_INET6;
	else
		return -1;
	int max = c->family == AF_INET ? 32 : 128;
	c->prefix = max;
	if (slash != NULL) {
		char *end;
		long p = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || p < 0 || p > max)
			return -1;
		c->prefix = (int)p;
	}
	return 0;
}

struct cidr_list *cidr_list_parse(const char *const *items, const char **error_r)
{
	static char error[160];
	struct cidr_list *list = g_new0(struct cidr_list, 1);
	list->items = g_array_new(FALSE, FALSE, sizeof(struct cidr));
	for (int i = 0; items && items[i]; i++) {
		struct cidr c;
		if (parse_one(items[i], &c) < 0) {
			snprintf(error, sizeof(error), "not a network in CIDR notation: %s", items[i]);
			*error_r = error;
			cidr_list_free(&list);
			return NULL;
		}
		g_array_append_val(list->items, c);
	}
	return list;
}

void cidr_list_free(struct cidr_list **listp)
{
	if (*listp == NULL)
		return;
	g_array_free((*listp)->items, TRUE);
	g_free(*listp);
	*listp = NULL;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool cidr_list_match(const struct cidr_list *list, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family = sa->sa_family;
	if (family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			memcpy(addr, a6->s6_addr + 12, 4);
		} else {
			memcpy(addr, a6->s6_addr, 16);
		}
	} else {
		return family == AF_UNIX; /* a local socket is as trusted as its file permissions */
	}
	for (guint i = 0; i < list->items->len; i++) {
		const struct cidr *c = &g_array_index(list->items, struct cidr, i);
		if (c->family == family && prefix_match(addr, c->addr, c->prefix))
			return true;
	}
	return false;
}
