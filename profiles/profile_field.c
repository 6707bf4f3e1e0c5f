/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A profile's fields by name. One table (profile_field_defs) names each field, its column, type
 * and check; it drives profile_set_field()/profile_get_field(), the CSV columns (profile_csv.c)
 * and the store's column list (profile.c). As text: lists comma-separated, booleans yes/no, and
 * an empty value clears. Also the job fields a profile gives to the X-Fax-* merge, whose headers
 * override them (research/conventions.md §3.1); the TSI is at most 20 printable ASCII
 * characters (ITU-T T.30).
 */
#include "profiles/profile_private.h"

#include <string.h>

#include "common/dialrules.h"
#include "common/error.h"

#define TSI_MAX 20	    /* ITU-T T.30 (spandsp T30_MAX_IDENT_LEN) */
#define HEADER_LINE_MAX 128 /* the template; expanded it is cut to 50 (fax_headers.h) */
#define ADDRESS_MAX 254	    /* RFC 5321 path, less the brackets */

static int check_address(const char *value, const char **why_r);
static int check_did(const char *value, const char **why_r);
static int check_classes(const char *value, const char **why_r);
static int check_notify(const char *value, const char **why_r);
static int check_ascii(const char *value, const char **why_r);

#define AT(member) offsetof(struct profile, member)
#define FIELD(field, col, kind, member, ...)                                                                 \
	{                                                                                                    \
		.name = field, .column = col, .type = kind, .offset = AT(member), __VA_ARGS__                \
	}
#define TEXT(field, member, ...) FIELD(field, #member, PROFILE_FIELD_TEXT, member, __VA_ARGS__)
#define LIST(field, member, ...) FIELD(field, NULL, PROFILE_FIELD_LIST, member, __VA_ARGS__)

/* In CSV column order. */
const struct profile_field_def profile_field_defs[] = {
    FIELD("address", "primary_address", PROFILE_FIELD_PRIMARY, primary_address, .check = check_address,
	  .max = ADDRESS_MAX, .lower = true),
    TEXT("kind", kind, .values = "user|group", .empty = "user"),
    TEXT("name", name),
    TEXT("company", company),
    TEXT("department", department),
    TEXT("phone", phone, .max = 64),
    TEXT("fax", fax, .max = 64),
    FIELD("addresses", NULL, PROFILE_FIELD_ADDRESSES, addresses, .check = check_address, .max = ADDRESS_MAX,
	  .lower = true),
    LIST("dids", dids, .check = check_did, .max = 32),
    LIST("members", members, .check = check_address, .max = ADDRESS_MAX, .lower = true),
    FIELD("may_send", "may_send", PROFILE_FIELD_BOOL, may_send),
    TEXT("classes", permission_class, .check = check_classes),
    TEXT("cover", cover),
    TEXT("resolution", resolution, .values = "standard|fine|superfine"),
    TEXT("paper", paper, .values = "a4|letter|legal"),
    TEXT("header_line", header_line, .max = HEADER_LINE_MAX),
    TEXT("tsi", tsi, .check = check_ascii, .max = TSI_MAX),
    TEXT("billing_code", billing_code, .max = 64),
    TEXT("notify", notify, .check = check_notify),
    TEXT("rx_format", rx_format, .values = "pdf|tiff|both|none"),
    TEXT("language", language, .values = "en|de"),
    TEXT("source", source, .values = "local|directory", .empty = "local"),
    TEXT("source_uuid", source_uuid),
    TEXT("source_dn", source_dn, .max = 1024),
    TEXT(NULL, password_hash),
    {.name = NULL, .column = NULL},
};

G_STATIC_ASSERT(G_N_ELEMENTS(profile_field_defs) <= PROFILE_FIELD_DEFS_MAX);

static const struct profile_field_def *field_find(const char *name)
{
	PROFILE_FIELD_EACH(d)
	{
		if (d->name != NULL && g_ascii_strcasecmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

const char *const *profile_field_names(void)
{
	static const char *names[G_N_ELEMENTS(profile_field_defs)];
	static gsize done;
	if (g_once_init_enter(&done)) {
		size_t n = 0;
		PROFILE_FIELD_EACH(d)
		{
			if (d->name != NULL)
				names[n++] = d->name;
		}
		names[n] = NULL;
		g_once_init_leave(&done, 1);
	}
	return names;
}

static int check_address(const char *value, const char **why_r)
{
	const char *at = strrchr(value, '@');
	if (at == NULL || at == value || at[1] == '\0' || strpbrk(value, " \t,;<>()[]\"\\") != NULL)
		return error_set(why_r, "'%s' is not an address (local@domain)", value);
	return 0;
}

static int check_did(const char *value, const char **why_r)
{
	if (strspn(value, "+0123456789 -().") != strlen(value) || strpbrk(value, "0123456789") == NULL ||
	    strchr(value + 1, '+') != NULL)
		return error_set(why_r, "'%s' is not a number (digits, a leading +, - ( ) . and spaces)",
				 value);
	return 0;
}

static int check_classes(const char *value, const char **why_r)
{
	g_auto(GStrv) words = g_strsplit_set(value, ", ", -1);
	enum dial_class c;
	for (char **w = words; *w != NULL; w++)
		if (**w != '\0' && dial_class_parse(*w, &c) < 0)
			return error_set(
			    why_r,
			    "unknown dial class '%s' (internal, local, national, international, premium)",
			    *w);
	return 0;
}

static int check_notify(const char *value, const char **why_r)
{
	static const char *const words_ok[] = {"never", "failure", "success", "always", "delay", NULL};
	g_auto(GStrv) words = g_strsplit_set(value, ",+ ", -1);
	for (char **w = words; *w != NULL; w++) {
		bool known = **w == '\0';
		for (size_t i = 0; !known && words_ok[i] != NULL; i++)
			known = g_ascii_strcasecmp(*w, words_ok[i]) == 0;
		if (!known)
			return error_set(why_r,
					 "expected never, failure, success or always, optionally +delay");
	}
	return 0;
}

static int check_ascii(const char *value, const char **why_r)
{
	for (const char *c = value; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			return error_set(why_r, "printable ASCII only");
	return 0;
}

/* UTF-8 without control characters, not too long, one of the allowed words, the field's check.
 *value_r: what to store (g_free), the allowed word or the value lower-cased where asked. */
static int check_value(const struct profile_field_def *d, const char *value, char **value_r,
		       const char **why_r)
{
	size_t max = d->max ? d->max : PROFILE_TEXT_MAX;
	if (!g_utf8_validate(value, -1, NULL))
		return error_set(why_r, "not UTF-8");
	for (const char *c = value; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return error_set(why_r, "control characters are not allowed");
	if (g_utf8_strlen(value, -1) > (glong)max)
		return error_set(why_r, "longer than %zu characters", max);
	if (d->values != NULL) {
		g_auto(GStrv) words = g_strsplit(d->values, "|", -1);
		for (char **w = words; *w != NULL; w++)
			if (g_ascii_strcasecmp(*w, value) == 0) {
				*value_r = g_strdup(*w);
				return 0;
			}
		g_autofree char *list = g_strjoinv(", ", words);
		return error_set(why_r, "expected one of %s", list);
	}
	if (d->check != NULL && d->check(value, why_r) < 0)
		return -1;
	*value_r = d->lower ? g_ascii_strdown(value, -1) : g_strdup(value);
	return 0;
}

/* The items of a comma list, checked, trimmed, empty ones and repeats dropped. */
static GPtrArray *parse_list(const struct profile_field_def *d, const char *value, const char **why_r)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) words = g_strsplit(value, ",", -1);
	for (char **w = words; *w != NULL; w++) {
		char *item = NULL;
		if (*g_strstrip(*w) == '\0')
			continue;
		if (check_value(d, *w, &item, why_r) < 0) {
			g_ptr_array_free(items, TRUE);
			return NULL;
		}
		if (g_ptr_array_find_with_equal_func(items, item, g_str_equal, NULL))
			g_free(item);
		else
			g_ptr_array_add(items, item);
	}
	return items;
}

void profile_primary_first(struct profile *p)
{
	guint i;
	while (g_ptr_array_find_with_equal_func(p->addresses, p->primary_address, g_str_equal, &i))
		g_ptr_array_remove_index(p->addresses, i);
	g_ptr_array_insert(p->addresses, 0, g_strdup(p->primary_address));
}

static void set_list(GPtrArray *list, GPtrArray *items)
{
	g_ptr_array_set_size(list, 0);
	for (guint i = 0; i < items->len; i++)
		g_ptr_array_add(list, g_strdup(items->pdata[i]));
}

static int set_text(struct profile *p, const struct profile_field_def *d, const char *value,
		    const char **why_r)
{
	char *stored = NULL;
	if (*value != '\0' && check_value(d, value, &stored, why_r) < 0)
		return -1;
	if (*value == '\0' && d->empty != NULL)
		stored = g_strdup(d->empty);
	if (d->type == PROFILE_FIELD_PRIMARY) {
		if (stored == NULL)
			return error_set(why_r, "an address is required");
		guint i;
		if (g_ptr_array_find_with_equal_func(p->addresses, p->primary_address, g_str_equal, &i))
			g_ptr_array_remove_index(p->addresses, i);
	}
	char **member = &PROFILE_MEMBER(p, d, char *);
	g_free(*member);
	*member = stored;
	if (d->type == PROFILE_FIELD_PRIMARY)
		profile_primary_first(p);
	return 0;
}

static int set_value(struct profile *p, const struct profile_field_def *d, const char *value,
		     const char **why_r)
{
	if (d->type == PROFILE_FIELD_BOOL) {
		bool yes = *value == '\0' || g_ascii_strcasecmp(value, "yes") == 0;
		if (!yes && g_ascii_strcasecmp(value, "no") != 0)
			return error_set(why_r, "expected yes or no");
		PROFILE_MEMBER(p, d, bool) = yes;
		return 0;
	}
	if (d->type == PROFILE_FIELD_TEXT || d->type == PROFILE_FIELD_PRIMARY)
		return set_text(p, d, value, why_r);
	GPtrArray *items = parse_list(d, value, why_r);
	if (items == NULL)
		return -1;
	set_list(PROFILE_MEMBER(p, d, GPtrArray *), items);
	g_ptr_array_free(items, TRUE);
	if (d->type == PROFILE_FIELD_ADDRESSES)
		profile_primary_first(p);
	return 0;
}

int profile_set_field(struct profile *p, const char *field, const char *value, const char **error_r)
{
	const struct profile_field_def *d = field_find(field);
	const char *why = NULL;
	if (d == NULL)
		return error_set(error_r, "unknown field '%s'", field);
	if (set_value(p, d, value ? value : "", &why) < 0)
		return error_set(error_r, "%s: %s", d->name, why);
	return 0;
}

static char *join(GPtrArray *list, const char *first)
{
	GString *s = g_string_new(first);
	for (guint i = 0; i < list->len; i++)
		if (first == NULL || strcmp(list->pdata[i], first) != 0)
			g_string_append_printf(s, "%s%s", s->len ? "," : "", (const char *)list->pdata[i]);
	if (s->len > 0)
		return g_string_free(s, FALSE);
	g_string_free(s, TRUE);
	return NULL;
}

char *profile_get_field(const struct profile *p, const char *field)
{
	const struct profile_field_def *d = field_find(field);
	if (d == NULL)
		return NULL;
	switch (d->type) {
	case PROFILE_FIELD_BOOL:
		return g_strdup(PROFILE_MEMBER(p, d, bool) ? "yes" : "no");
	case PROFILE_FIELD_ADDRESSES:
		return join(p->addresses, p->primary_address);
	case PROFILE_FIELD_LIST:
		return join(PROFILE_MEMBER(p, d, GPtrArray *), NULL);
	default:
		return g_strdup(PROFILE_MEMBER(p, d, char *));
	}
}

bool profile_fields_equal(const struct profile *a, const struct profile *b)
{
	for (const char *const *name = profile_field_names(); *name != NULL; name++) {
		g_autofree char *va = profile_get_field(a, *name);
		g_autofree char *vb = profile_get_field(b, *name);
		if (g_strcmp0(va, vb) != 0)
			return false;
	}
	return true;
}

static void put(GHashTable *t, const char *field, const char *value)
{
	if (value != NULL && *value != '\0')
		g_hash_table_replace(t, g_strdup(field), g_strdup(value));
}

GHashTable *profile_job_fields(const struct profile *p)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	put(t, "sender_name", p->name);
	put(t, "sender_company", p->company);
	put(t, "sender_department", p->department);
	put(t, "sender_phone", p->phone);
	put(t, "sender_fax", p->fax);
	put(t, "sender_email", p->primary_address);
	put(t, "tsi", p->tsi != NULL && *p->tsi != '\0' ? p->tsi : p->fax);
	put(t, "billing_code", p->billing_code);
	put(t, "cover", p->cover);
	put(t, "resolution", p->resolution);
	put(t, "paper", p->paper);
	put(t, "header_line", p->header_line);
	put(t, "notify", p->notify);
	return t;
}
