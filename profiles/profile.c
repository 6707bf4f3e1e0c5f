/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Profiles: users and groups with their addresses (proxy addresses), DIDs, group members,
 * permission to send and the dial classes allowed, the defaults of their jobs, and an optional
 * password for SMTP AUTH, stored as a crypt(3) string (yescrypt, salted and slow, from
 * libxcrypt). Addresses are matched case-insensitively: they are stored lower-case. This file:
 * the struct and passwords; profile_store.c keeps them, profile_field.c names their fields.
 */
#include "profiles/profile_private.h"

#include <crypt.h>
#include <string.h>

struct profile *profile_new(const char *primary_address)
{
	struct profile *p = g_new0(struct profile, 1);
	p->primary_address = g_ascii_strdown(primary_address, -1);
	p->kind = g_strdup("user");
	p->may_send = true;
	p->source = g_strdup("local");
	p->addresses = g_ptr_array_new_with_free_func(g_free);
	p->dids = g_ptr_array_new_with_free_func(g_free);
	p->members = g_ptr_array_new_with_free_func(g_free);
	return p;
}

void profile_free(struct profile **profilep)
{
	struct profile *p = *profilep;
	if (p == NULL)
		return;
	g_free(p->id);
	PROFILE_FIELD_EACH(d)
	{
		if (PROFILE_FIELD_IS_STRING(d))
			g_free(PROFILE_MEMBER(p, d, char *));
	}
	g_ptr_array_free(p->addresses, TRUE);
	g_ptr_array_free(p->dids, TRUE);
	g_ptr_array_free(p->members, TRUE);
	g_free(p);
	*profilep = NULL;
}

static void copy_list(GPtrArray *to, const GPtrArray *from)
{
	for (guint i = 0; i < from->len; i++)
		g_ptr_array_add(to, g_strdup(from->pdata[i]));
}

struct profile *profile_copy(const struct profile *from)
{
	struct profile *p = g_new0(struct profile, 1);
	p->id = g_strdup(from->id);
	PROFILE_FIELD_EACH(d)
	{
		if (PROFILE_FIELD_IS_STRING(d))
			PROFILE_MEMBER(p, d, char *) = g_strdup(PROFILE_MEMBER(from, d, char *));
	}
	p->may_send = from->may_send;
	p->addresses = g_ptr_array_new_with_free_func(g_free);
	p->dids = g_ptr_array_new_with_free_func(g_free);
	p->members = g_ptr_array_new_with_free_func(g_free);
	copy_list(p->addresses, from->addresses);
	copy_list(p->dids, from->dids);
	copy_list(p->members, from->members);
	return p;
}

char *profile_hash_password(const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return NULL;
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *hash = crypt_r(password, salt, &data);
	if (hash == NULL || hash[0] == '*')
		return NULL;
	return g_strdup(hash);
}

bool profile_check_password(const struct profile *p, const char *password)
{
	if (p->password_hash == NULL || *p->password_hash == '\0')
		return false;
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *hash = crypt_r(password, p->password_hash, &data);
	if (hash == NULL || hash[0] == '*')
		return false;
	size_t len = strlen(p->password_hash);
	if (strlen(hash) != len)
		return false;
	unsigned diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)hash[i] ^ (unsigned char)p->password_hash[i];
	return diff == 0;
}

bool profile_owns_address(const struct profile *p, const char *address)
{
	for (guint i = 0; i < p->addresses->len; i++)
		if (g_ascii_strcasecmp(p->addresses->pdata[i], address) == 0)
			return true;
	return g_ascii_strcasecmp(p->primary_address, address) == 0;
}
