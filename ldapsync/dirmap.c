/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The attribute map: one directory entry -> one profile, by [ldap] schema (inetOrgPerson,
 * RFC 2798, or Active Directory) and the attr_* keys that override it; and [ldapgroup] member
 * lists -> may_send and the dial classes.
 *
 * Rules (docs/directory.md):
 * - the identity is entryUUID (text) or objectGUID (16 bytes, written in the usual
 *   {d1-d2-d3-d4} form with the first three fields little-endian, [MS-DTYP] 2.3.4);
 * - the primary address is the first value of the first mail attribute present (AD: else the
 *   "SMTP:" proxyAddresses value); aliases are the other mail values or the "smtp:" proxy
 *   addresses (other prefixes such as X500: or SIP: are not mail); all lower-case;
 * - fax values are free text with an optional "$fineResolution" (RFC 4517 3.3.11, Facsimile
 *   Telephone Number); the number is normalised to E.164 by the dial rules;
 * - an entry without an address, or with a number the rules refuse, is not mapped: the caller
 *   reports it with the reason and skips it. Nothing is guessed.
 */
#include "ldapsync/dirmap.h"

#include <glib.h>
#include <string.h>

#include "common/config.h"
#include "common/dialrules.h"
#include "common/error.h"
#include "profiles/profile.h"

/* Longest value of a mapped text attribute kept (names, company, ...). */
#define DIRMAP_TEXT_MAX 256

enum map_field {
	F_UUID,
	F_MAIL,
	F_ALIASES,
	F_LOGIN,
	F_NAME,
	F_COMPANY,
	F_DEPARTMENT,
	F_PHONE,
	F_FAX,
	F_DIDS,
	F_BILLING,
	F_LANGUAGE,
	F_COUNT,
};

static const char *const field_keys[F_COUNT] = {
    "attr_uuid",       "attr_mail",  "attr_aliases", "attr_login", "attr_name",		"attr_company",
    "attr_department", "attr_phone", "attr_fax",     "attr_dids",  "attr_billing_code", "attr_language",
};

/* Defaults per schema: [0] inetOrgPerson, [1] Active Directory. */
static const char *const field_defaults[F_COUNT][2] = {
    [F_UUID] = {"entryUUID", "objectGUID"},
    [F_MAIL] = {"mail", "mail"},
    [F_ALIASES] = {"mail", "proxyAddresses"},
    [F_LOGIN] = {"uid", "sAMAccountName,userPrincipalName"},
    [F_NAME] = {"displayName,cn", "displayName,cn"},
    [F_COMPANY] = {"o", "company"},
    [F_DEPARTMENT] = {"ou,departmentNumber", "department"},
    [F_PHONE] = {"telephoneNumber", "telephoneNumber"},
    [F_FAX] = {"facsimileTelephoneNumber", "facsimileTelephoneNumber"},
    [F_DIDS] = {"facsimileTelephoneNumber", "facsimileTelephoneNumber,otherFacsimileTelephoneNumber"},
    [F_BILLING] = {"", ""},
    [F_LANGUAGE] = {"preferredLanguage", "preferredLanguage"},
};

static const char *const schema_filters[2] = {
    "(objectClass=inetOrgPerson)",
    "(&(objectCategory=person)(objectClass=user))",
};

struct group_def {
	char *name, *dn;
	bool send;
	char **classes;
};

struct dirmap {
	const struct dialrules *rules;
	char *filter;
	char **fields[F_COUNT]; /* attribute names per field, NULL-terminated */
	char **attrs;		/* the union, for the search */
	bool default_send;
	char *default_classes; /* comma list or NULL */
	GPtrArray *groups;     /* struct group_def * */
};

struct dirmap_groups {
	const struct dirmap *map;
	GPtrArray *members; /* per map->groups: GHashTable of normalised member DNs */
};

static void group_def_free(gpointer p)
{
	struct group_def *g = p;
	g_free(g->name);
	g_free(g->dn);
	g_strfreev(g->classes);
	g_free(g);
}

static char **list_dup(const char *const *list)
{
	return g_strdupv((char **)list);
}

/* "a,b" -> {"a","b",NULL}, words trimmed, empty ones dropped. */
static char **split_words(const char *text)
{
	g_auto(GStrv) parts = g_strsplit(text, ",", -1);
	GPtrArray *out = g_ptr_array_new();
	for (int i = 0; parts[i] != NULL; i++) {
		char *w = g_strstrip(parts[i]);
		if (*w != '\0')
			g_ptr_array_add(out, g_strdup(w));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static void attrs_add(GPtrArray *attrs, char *const *names)
{
	for (int i = 0; names[i] != NULL; i++) {
		bool have = false;
		for (guint j = 0; j < attrs->len && !have; j++)
			have = g_ascii_strcasecmp(attrs->pdata[j], names[i]) == 0;
		if (!have)
			g_ptr_array_add(attrs, g_strdup(names[i]));
	}
}

struct dirmap *dirmap_create(const struct config *config, const struct dialrules *rules, const char **error_r)
{
	ldapconn_library_init();
	struct dirmap *map = g_new0(struct dirmap, 1);
	map->rules = rules;
	int ad = strcmp(config_str(config, "ldap", "schema"), "activedirectory") == 0;
	const char *filter = config_str(config, "ldap", "filter");
	map->filter = g_strdup(*filter != '\0' ? filter : schema_filters[ad]);
	GPtrArray *attrs = g_ptr_array_new();
	for (int f = 0; f < F_COUNT; f++) {
		const char *const *configured = config_list(config, "ldap", field_keys[f]);
		map->fields[f] =
		    configured[0] != NULL ? list_dup(configured) : split_words(field_defaults[f][ad]);
		attrs_add(attrs, map->fields[f]);
	}
	g_ptr_array_add(attrs, NULL);
	map->attrs = (char **)g_ptr_array_free(attrs, FALSE);
	map->default_send = config_bool(config, "ldap", "default_send");
	const char *const *classes = config_list(config, "ldap", "default_classes");
	map->default_classes = classes[0] != NULL ? g_strjoinv(",", (char **)classes) : NULL;
	map->groups = g_ptr_array_new_with_free_func(group_def_free);
	const char *const *names = config_instances(config, "ldapgroup");
	for (int i = 0; names[i] != NULL; i++) {
		g_autofree char *group = g_strdup_printf("ldapgroup %s", names[i]);
		struct group_def *g = g_new0(struct group_def, 1);
		g->name = g_strdup(names[i]);
		g->dn = g_strdup(config_str(config, group, "dn"));
		g->send = config_bool(config, group, "send");
		g->classes = list_dup(config_list(config, group, "classes"));
		g_ptr_array_add(map->groups, g);
		if (*g->dn == '\0') {
			error_set(error_r, "[ldapgroup %s] dn is empty", names[i]);
			dirmap_free(&map);
			return NULL;
		}
		LDAPDN parsed = NULL;
		if (ldap_str2dn(g->dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
			error_set(error_r, "[ldapgroup %s] dn %s: not a DN", names[i], g->dn);
			dirmap_free(&map);
			return NULL;
		}
		ldap_dnfree(parsed);
	}
	return map;
}

void dirmap_free(struct dirmap **mapp)
{
	struct dirmap *map = *mapp;
	if (map == NULL)
		return;
	g_free(map->filter);
	for (int f = 0; f < F_COUNT; f++)
		g_strfreev(map->fields[f]);
	g_strfreev(map->attrs);
	g_free(map->default_classes);
	g_ptr_array_free(map->groups, TRUE);
	g_free(map);
	*mapp = NULL;
}

const char *dirmap_filter(const struct dirmap *map)
{
	return map->filter;
}

char **dirmap_attrs(const struct dirmap *map)
{
	return map->attrs;
}

/* ---- pure helpers --------------------------------------------------------------------------- */

int dirmap_fax_value(const char *value, size_t len, char **number_r, bool *fine_r)
{
	*number_r = NULL;
	*fine_r = false;
	const char *dollar = memchr(value, '$', len);
	size_t nlen = dollar != NULL ? (size_t)(dollar - value) : len;
	/* Parameters after the number: "$fineResolution", "$twoDimensional", ... (RFC 4517). */
	for (const char *p = dollar; p != NULL && p < value + len;) {
		const char *start = p + 1;
		const char *next = memchr(start, '$', (size_t)(value + len - start));
		size_t plen = (size_t)((next != NULL ? next : value + len) - start);
		g_autofree char *param = g_strstrip(g_strndup(start, plen));
		if (g_ascii_strcasecmp(param, "fineResolution") == 0)
			*fine_r = true;
		p = next;
	}
	g_autofree char *number = g_strndup(value, nlen);
	if (strlen(number) != nlen) /* a NUL inside */
		return -1;
	g_strstrip(number);
	bool digit = false;
	for (const char *c = number; *c != '\0'; c++)
		digit |= g_ascii_isdigit(*c);
	if (!digit)
		return -1;
	*number_r = g_steal_pointer(&number);
	return 0;
}

char *dirmap_proxy_address(const char *value, size_t len, bool *primary_r)
{
	*primary_r = false;
	if (len < 6 || memchr(value, '\0', len) != NULL || g_ascii_strncasecmp(value, "smtp:", 5) != 0)
		return NULL;
	*primary_r = strncmp(value, "SMTP:", 5) == 0;
	g_autofree char *address = g_strstrip(g_strndup(value + 5, len - 5));
	if (*address == '\0')
		return NULL;
	return g_ascii_strdown(address, -1);
}

/* 16 bytes taken in order[] as "8-4-4-4-12" hex digits. */
static void uuid_format(const unsigned char bytes[16], const int order[16], char out[DIRMAP_UUID_TEXT_SIZE])
{
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		o += g_snprintf(o, 3, "%02x", bytes[order[i]]);
	}
	*o = '\0';
}

void dirmap_guid_text(const unsigned char guid[16], char out[DIRMAP_UUID_TEXT_SIZE])
{
	/* Data1 (4 bytes), Data2, Data3 (2 each) little-endian; Data4 (8 bytes) as stored. */
	static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	uuid_format(guid, order, out);
}

void dirmap_uuid_text(const unsigned char uuid[16], char out[DIRMAP_UUID_TEXT_SIZE])
{
	static const int order[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	uuid_format(uuid, order, out);
}

char *dirmap_dn_normalize(const char *dn)
{
	char *norm = NULL;
	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAPV3, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    norm == NULL)
		return g_utf8_casefold(dn, -1);
	/* Attribute types and the usual naming attributes (cn, uid, ou, dc) compare case-insensitively. */
	char *folded = g_utf8_casefold(norm, -1);
	ldap_memfree(norm);
	return folded;
}

/* ---- one entry ------------------------------------------------------------------------------ */

/* The values of attribute name (NULL when absent): ldap_value_free_len. */
static struct berval **values_of(LDAP *ld, LDAPMessage *entry, const char *name)
{
	return ldap_get_values_len(ld, entry, name);
}

/* The first value of the first attribute of names present, as text (NUL-free, trimmed,
   at most DIRMAP_TEXT_MAX bytes), or NULL. */
static char *first_text(LDAP *ld, LDAPMessage *entry, char *const *names)
{
	for (int i = 0; names[i] != NULL; i++) {
		struct berval **v = values_of(ld, entry, names[i]);
		char *text = NULL;
		for (int j = 0; v != NULL && v[j] != NULL && text == NULL; j++) {
			size_t len = MIN(v[j]->bv_len, DIRMAP_TEXT_MAX);
			if (memchr(v[j]->bv_val, '\0', len) != NULL)
				continue;
			text = g_strstrip(g_strndup(v[j]->bv_val, len));
			if (*text == '\0' || !g_utf8_validate(text, -1, NULL))
				g_clear_pointer(&text, g_free);
		}
		ldap_value_free_len(v);
		if (text != NULL)
			return text;
	}
	return NULL;
}

static bool address_ok(const char *a)
{
	const char *at = strchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return false;
	for (const char *c = a; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == '<' || *c == '>' || *c == ',' || *c == '"' ||
		    *c == '\\')
			return false;
	return true;
}

static void add_unique(GPtrArray *list, char *item)
{
	for (guint i = 0; i < list->len; i++)
		if (strcmp(list->pdata[i], item) == 0) {
			g_free(item);
			return;
		}
	g_ptr_array_add(list, item);
}

/* Addresses of the entry: *primary_r and aliases (lower-case, primary not among them). */
static int map_addresses(const struct dirmap *map, LDAP *ld, LDAPMessage *entry, char **primary_r,
			 GPtrArray *aliases, char **why_r)
{
	char *primary = NULL, *proxy_primary = NULL;
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; map->fields[F_MAIL][i] != NULL && primary == NULL; i++) {
		struct berval **v = values_of(ld, entry, map->fields[F_MAIL][i]);
		if (v != NULL && v[0] != NULL && memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL)
			primary = g_strstrip(g_ascii_strdown(v[0]->bv_val, (gssize)v[0]->bv_len));
		ldap_value_free_len(v);
	}
	for (int i = 0; map->fields[F_ALIASES][i] != NULL; i++) {
		const char *name = map->fields[F_ALIASES][i];
		bool proxy = g_ascii_strcasecmp(name, "proxyAddresses") == 0;
		struct berval **v = values_of(ld, entry, name);
		for (int j = 0; v != NULL && v[j] != NULL; j++) {
			if (proxy) {
				bool is_primary;
				char *a = dirmap_proxy_address(v[j]->bv_val, v[j]->bv_len, &is_primary);
				if (a != NULL && is_primary && proxy_primary == NULL)
					proxy_primary = g_strdup(a);
				if (a != NULL)
					add_unique(all, a);
			} else if (memchr(v[j]->bv_val, '\0', v[j]->bv_len) == NULL) {
				add_unique(all,
					   g_strstrip(g_ascii_strdown(v[j]->bv_val, (gssize)v[j]->bv_len)));
			}
		}
		ldap_value_free_len(v);
	}
	if (primary == NULL || *primary == '\0') {
		g_free(primary);
		primary = g_steal_pointer(&proxy_primary);
	}
	g_free(proxy_primary);
	int ret = 0;
	if (primary == NULL || *primary == '\0') {
		*why_r = g_strdup_printf("no %s attribute",
					 map->fields[F_MAIL][0] ? map->fields[F_MAIL][0] : "mail");
		ret = -1;
	} else if (!address_ok(primary)) {
		*why_r = g_strdup_printf("mail '%s': not an address", primary);
		ret = -1;
	}
	for (guint i = 0; ret == 0 && i < all->len; i++) {
		const char *a = all->pdata[i];
		if (*a == '\0' || strcmp(a, primary) == 0)
			continue;
		if (!address_ok(a)) {
			*why_r = g_strdup_printf("alias '%s': not an address", a);
			ret = -1;
		} else
			g_ptr_array_add(aliases, g_strdup(a));
	}
	g_ptr_array_free(all, TRUE);
	if (ret < 0)
		g_free(primary);
	else
		*primary_r = primary;
	return ret;
}

/* One fax value -> E.164 (g_free), or -1 with *why_r. */
static int map_number(const struct dirmap *map, const struct berval *v, char **e164_r, bool *fine_r,
		      char **why_r)
{
	char *number = NULL;
	if (dirmap_fax_value(v->bv_val, v->bv_len, &number, fine_r) < 0) {
		g_autofree char *shown = g_strndup(v->bv_val, MIN(v->bv_len, 64));
		*why_r = g_strdup_printf(
		    "fax number '%s': no number",
		    g_strcanon(shown, G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS " +-()$./", '?'));
		return -1;
	}
	struct dial_number dn;
	const char *error = NULL;
	if (dialrules_normalize(map->rules, number, &dn, &error) < 0) {
		*why_r = g_strdup_printf("fax number '%s': %s", number, error);
		g_free(number);
		return -1;
	}
	g_free(number);
	*e164_r = g_strdup(dn.e164);
	return 0;
}

static int map_numbers(const struct dirmap *map, LDAP *ld, LDAPMessage *entry, struct profile *p,
		       char **why_r)
{
	for (int i = 0; map->fields[F_FAX][i] != NULL && p->fax == NULL; i++) {
		struct berval **v = values_of(ld, entry, map->fields[F_FAX][i]);
		int ret = 0;
		if (v != NULL && v[0] != NULL) {
			bool fine = false;
			ret = map_number(map, v[0], &p->fax, &fine, why_r);
			if (ret == 0 && fine)
				p->resolution = g_strdup("fine");
		}
		ldap_value_free_len(v);
		if (ret < 0)
			return -1;
	}
	for (int i = 0; map->fields[F_DIDS][i] != NULL; i++) {
		struct berval **v = values_of(ld, entry, map->fields[F_DIDS][i]);
		int ret = 0;
		for (int j = 0; v != NULL && v[j] != NULL && ret == 0; j++) {
			char *e164 = NULL;
			bool fine;
			ret = map_number(map, v[j], &e164, &fine, why_r);
			if (ret == 0)
				add_unique(p->dids, e164);
		}
		ldap_value_free_len(v);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* The entry's identity, text. */
static char *map_uuid(const struct dirmap *map, LDAP *ld, LDAPMessage *entry)
{
	for (int i = 0; map->fields[F_UUID][i] != NULL; i++) {
		const char *name = map->fields[F_UUID][i];
		struct berval **v = values_of(ld, entry, name);
		char *uuid = NULL;
		if (v != NULL && v[0] != NULL && v[0]->bv_len > 0) {
			char text[DIRMAP_UUID_TEXT_SIZE];
			if (g_ascii_strcasecmp(name, "objectGUID") == 0 && v[0]->bv_len == 16) {
				dirmap_guid_text((const unsigned char *)v[0]->bv_val, text);
				uuid = g_strdup(text);
			} else if (memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
				uuid =
				    g_ascii_strdown(v[0]->bv_val, (gssize)MIN(v[0]->bv_len, DIRMAP_TEXT_MAX));
			}
		}
		ldap_value_free_len(v);
		if (uuid != NULL)
			return uuid;
	}
	return NULL;
}

const char *const *dirmap_role_attrs(const struct dirmap *map, enum dirmap_role role)
{
	static const enum map_field fields[] = {
		[DIRMAP_ROLE_MAIL] = F_MAIL, [DIRMAP_ROLE_ALIASES] = F_ALIASES,
		[DIRMAP_ROLE_LOGIN] = F_LOGIN, [DIRMAP_ROLE_NAME] = F_NAME,
	};
	return (const char *const *)map->fields[fields[role]];
}

/* "de-DE, en;q=0.5" -> "de". */
static char *map_language(char *value)
{
	if (value == NULL)
		return NULL;
	size_t n = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
	char *lang = n >= 2 && n <= 3 ? g_ascii_strdown(value, (gssize)n) : NULL;
	g_free(value);
	return lang;
}

int dirmap_entry(const struct dirmap *map, LDAP *ld, LDAPMessage *entry, struct profile **profile_r,
		 char **why_r)
{
	*profile_r = NULL;
	*why_r = NULL;
	char *uuid = map_uuid(map, ld, entry);
	if (uuid == NULL) {
		*why_r = g_strdup_printf("no %s attribute",
					 map->fields[F_UUID][0] ? map->fields[F_UUID][0] : "entryUUID");
		return -1;
	}
	char *primary = NULL;
	GPtrArray *aliases = g_ptr_array_new_with_free_func(g_free);
	if (map_addresses(map, ld, entry, &primary, aliases, why_r) < 0) {
		g_ptr_array_free(aliases, TRUE);
		g_free(uuid);
		return -1;
	}
	struct profile *p = profile_new(primary);
	g_free(primary);
	g_ptr_array_add(p->addresses, g_strdup(p->primary_address));
	for (guint i = 0; i < aliases->len; i++)
		g_ptr_array_add(p->addresses, g_strdup(aliases->pdata[i]));
	g_ptr_array_free(aliases, TRUE);
	g_free(p->kind);
	p->kind = g_strdup("user");
	g_free(p->source);
	p->source = g_strdup("directory");
	p->source_uuid = uuid;
	char *dn = ldap_get_dn(ld, entry);
	p->source_dn = g_strdup(dn);
	ldap_memfree(dn);
	p->name = first_text(ld, entry, map->fields[F_NAME]);
	p->company = first_text(ld, entry, map->fields[F_COMPANY]);
	p->department = first_text(ld, entry, map->fields[F_DEPARTMENT]);
	p->phone = first_text(ld, entry, map->fields[F_PHONE]);
	p->billing_code = first_text(ld, entry, map->fields[F_BILLING]);
	/* a language faxgate has no templates for is left unset (the [mail] default) */
	g_autofree char *language = map_language(first_text(ld, entry, map->fields[F_LANGUAGE]));
	const char *ignored;
	if (language != NULL && profile_set_field(p, "language", language, &ignored) < 0)
		g_clear_pointer(&p->language, g_free);
	p->may_send = map->default_send;
	p->permission_class = g_strdup(map->default_classes);
	if (map_numbers(map, ld, entry, p, why_r) < 0) {
		profile_free(&p);
		return -1;
	}
	*profile_r = p;
	return 0;
}

/* ---- groups --------------------------------------------------------------------------------- */

int dirmap_groups_load(const struct dirmap *map, struct ldapconn *conn, struct dirmap_groups **groups_r,
		       const char **error_r)
{
	struct dirmap_groups *groups = g_new0(struct dirmap_groups, 1);
	groups->map = map;
	groups->members = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	*groups_r = NULL;
	/* XXX AD returns big groups' member values in ranges (member;range=0-1499); those are not
	   followed yet, so a group of more than 1500 members is cut there. */
	char *attrs[] = {(char *)"member", (char *)"uniqueMember", NULL};
	for (guint i = 0; i < map->groups->len; i++) {
		const struct group_def *g = map->groups->pdata[i];
		GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_ptr_array_add(groups->members, set);
		LDAPMessage *res = NULL;
		const char *error = NULL;
		int rc =
		    ldapconn_search(conn, g->dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, &res, &error);
		LDAP *ld = ldapconn_handle(conn);
		LDAPMessage *e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
		if (rc != LDAP_SUCCESS || e == NULL) {
			ldap_msgfree(res);
			error_set(error_r, "[ldapgroup %s] %s: %s", g->name, g->dn,
				  rc == LDAP_NO_SUCH_OBJECT || e == NULL ? "group not found" : error);
			dirmap_groups_free(&groups);
			return -1;
		}
		for (int a = 0; attrs[a] != NULL; a++) {
			struct berval **v = ldap_get_values_len(ld, e, attrs[a]);
			for (int j = 0; v != NULL && v[j] != NULL; j++) {
				g_autofree char *dn = g_strndup(v[j]->bv_val, v[j]->bv_len);
				g_hash_table_add(set, dirmap_dn_normalize(dn));
			}
			ldap_value_free_len(v);
		}
		ldap_msgfree(res);
	}
	*groups_r = groups;
	return 0;
}

void dirmap_groups_free(struct dirmap_groups **groupsp)
{
	struct dirmap_groups *groups = *groupsp;
	if (groups == NULL)
		return;
	g_ptr_array_free(groups->members, TRUE);
	g_free(groups);
	*groupsp = NULL;
}

void dirmap_groups_apply(const struct dirmap_groups *groups, struct profile *profile)
{
	const struct dirmap *map = groups->map;
	g_free(profile->permission_class);
	profile->permission_class = NULL;
	if (map->groups->len == 0) {
		profile->may_send = map->default_send;
		profile->permission_class = g_strdup(map->default_classes);
		return;
	}
	g_autofree char *dn = profile->source_dn != NULL ? dirmap_dn_normalize(profile->source_dn) : NULL;
	bool send = false;
	GPtrArray *classes = g_ptr_array_new();
	for (guint i = 0; dn != NULL && i < map->groups->len; i++) {
		const struct group_def *g = map->groups->pdata[i];
		if (!g_hash_table_contains(groups->members->pdata[i], dn))
			continue;
		send |= g->send;
		for (int c = 0; g->classes[c] != NULL; c++) {
			bool have = false;
			for (guint k = 0; k < classes->len && !have; k++)
				have = g_ascii_strcasecmp(classes->pdata[k], g->classes[c]) == 0;
			if (!have)
				g_ptr_array_add(classes, g->classes[c]);
		}
	}
	profile->may_send = send;
	if (classes->len > 0) {
		g_ptr_array_add(classes, NULL);
		profile->permission_class = g_strjoinv(",", (char **)classes->pdata);
	}
	g_ptr_array_free(classes, TRUE);
}
