/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The configuration: one INI file read with GLib's GKeyFile and checked against the table of
 * documented keys (config_keys.c). Every unknown group or key and every bad value is reported
 * with file, line and key, and the caller refuses to start. With no file, every key has its
 * default: the embedded default runs everything under $FAXGATE_HOME (./var).
 */
#include "common/config.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct config {
	GKeyFile *file;
	char *path;                /* NULL: embedded default */
	char *home;
	GHashTable *line_numbers;  /* "group\nkey" or "group" -> line (GINT_TO_POINTER) */
	GHashTable *cache;         /* "group\nkey" -> expanded string or strv, owned */
	GPtrArray *owned;          /* strvs handed out */
};

/* Groups that have one instance on the embedded default when the file names none. */
static const struct {
	const char *kind, *name;
} default_instances[] = {
	{"line", "loop"},
	{"mailroute", "default"},
};

static const char *schema_group_of(const char *group)
{
	for (const struct config_key *k = config_keys; k->key != NULL; k++) {
		if (strcmp(k->group, group) == 0)
			return k->group;
		size_t len = strlen(k->group);
		if (len > 2 && strcmp(k->group + len - 2, " *") == 0 &&
		    strncmp(group, k->group, len - 1) == 0 && group[len - 1] != '\0')
			return k->group;
	}
	return NULL;
}

static const struct config_key *schema_key(const char *group, const char *key)
{
	const char *sgroup = schema_group_of(group);
	if (sgroup == NULL)
		return NULL;
	const struct config_key *any = NULL; /* key "*": a table whose keys are data ([routes]) */
	for (const struct config_key *k = config_keys; k->key != NULL; k++) {
		if (strcmp(k->group, sgroup) != 0)
			continue;
		if (strcmp(k->key, key) == 0)
			return k;
		if (strcmp(k->key, "*") == 0)
			any = k;
	}
	return any;
}

int config_parse_bool(const char *text, bool *value_r)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	return -1;
}

static int parse_int(const char *text, int64_t *value_r)
{
	char *end;
	if (*text == '\0')
		return -1;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*value_r = v;
	return 0;
}

int config_parse_duration(const char *text, int64_t *seconds_r)
{
	char *end;
	if (!g_ascii_isdigit(*text))
		return -1;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno != 0)
		return -1;
	int64_t unit = 1;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > INT64_MAX / unit)
		return -1;
	*seconds_r = v * unit;
	return 0;
}

static bool enum_has(const char *choices, const char *value)
{
	g_auto(GStrv) words = g_strsplit(choices, "|", -1);
	return g_strv_contains((const char *const *)words, value);
}

static int check_address(const char *value)
{
	if (*value == '\0')
		return 0; /* not listening */
	if (g_str_has_prefix(value, "unix:"))
		return value[5] == '/' ? 0 : -1;
	const char *colon = strrchr(value, ':');
	int64_t port;
	if (colon == NULL || colon == value || parse_int(colon + 1, &port) < 0 || port < 0 || port > 65535)
		return -1;
	return 0;
}

/* NULL when the value fits the key's type, else why not. */
static const char *check_value(const struct config_key *k, const char *value, char *why, size_t whysize)
{
	int64_t n;
	bool b;
	switch (k->type) {
	case CONFIG_TYPE_STRING:
	case CONFIG_TYPE_LIST:
		return NULL;
	case CONFIG_TYPE_BOOL:
		return config_parse_bool(value, &b) < 0 ? "expected yes or no" : NULL;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_DURATION:
		if ((k->type == CONFIG_TYPE_INT ? parse_int(value, &n) : config_parse_duration(value, &n)) < 0)
			return k->type == CONFIG_TYPE_INT ? "expected a whole number" : "expected a duration such as 90s, 5m, 2h, 1d";
		if (n < k->min || n > k->max) {
			snprintf(why, whysize, "%s out of range %lld..%lld", value, (long long)k->min, (long long)k->max);
			return why;
		}
		return NULL;
	case CONFIG_TYPE_ENUM:
		if (enum_has(k->choices, value))
			return NULL;
		snprintf(why, whysize, "expected one of %s", k->choices);
		return why;
	case CONFIG_TYPE_ADDRESS:
		return check_address(value) < 0 ? "expected HOST:PORT or unix:/PATH" : NULL;
	}
	return "unknown type";
}

static void index_lines(struct config *cfg, const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *group = NULL;
	for (int i = 0; lines[i] != NULL; i++) {
		char *line = g_strstrip(lines[i]);
		if (*line == '[') {
			char *end = strchr(line, ']');
			if (end == NULL)
				continue;
			g_free(group);
			group = g_strndup(line + 1, (gsize)(end - line - 1));
			g_hash_table_insert(cfg->line_numbers, g_strdup(group), GINT_TO_POINTER(i + 1));
		} else if (group != NULL && *line != '#' && *line != ';' && strchr(line, '=') != NULL) {
			g_autofree char *key = g_strndup(line, (gsize)(strchr(line, '=') - line));
			g_strstrip(key);
			g_hash_table_insert(cfg->line_numbers, g_strdup_printf("%s\n%s", group, key), GINT_TO_POINTER(i + 1));
		}
	}
}

static int line_of(const struct config *cfg, const char *group, const char *key)
{
	g_autofree char *id = key ? g_strdup_printf("%s\n%s", group, key) : g_strdup(group);
	return GPOINTER_TO_INT(g_hash_table_lookup(cfg->line_numbers, id));
}

static void validate_group(struct config *cfg, const char *group, GString *errors)
{
	const char *name = cfg->path ? cfg->path : "(config)";
	if (schema_group_of(group) == NULL) {
		g_string_append_printf(errors, "%s:%d: [%s]: unknown group\n", name, line_of(cfg, group, NULL), group);
		return;
	}
	g_auto(GStrv) keys = g_key_file_get_keys(cfg->file, group, NULL, NULL);
	for (int i = 0; keys && keys[i]; i++) {
		const struct config_key *k = schema_key(group, keys[i]);
		int line = line_of(cfg, group, keys[i]);
		if (k == NULL) {
			g_string_append_printf(errors, "%s:%d: [%s] %s: unknown key\n", name, line, group, keys[i]);
			continue;
		}
		g_autofree char *value = g_key_file_get_string(cfg->file, group, keys[i], NULL);
		char why[160];
		const char *problem = value ? check_value(k, value, why, sizeof(why)) : "unreadable value";
		if (problem != NULL)
			g_string_append_printf(errors, "%s:%d: [%s] %s: %s\n", name, line, group, keys[i], problem);
	}
}

static char *resolve_home(GKeyFile *file)
{
	g_autofree char *home = g_key_file_get_string(file, "faxgate", "home", NULL);
	if (home == NULL) {
		const char *env = getenv("FAXGATE_HOME");
		home = g_strdup(env && *env ? env : "./var");
	}
	return g_canonicalize_filename(home, NULL);
}

static struct config *config_new(GKeyFile *file, const char *path)
{
	struct config *cfg = g_new0(struct config, 1);
	cfg->file = file;
	cfg->path = g_strdup(path);
	cfg->home = resolve_home(file);
	cfg->line_numbers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cfg->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	cfg->owned = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	return cfg;
}

static int load_text(const char *text, const char *path, struct config **config_r, char **errors_r)
{
	GKeyFile *file = g_key_file_new();
	GError *error = NULL;
	if (text != NULL && !g_key_file_load_from_data(file, text, (gsize)-1, G_KEY_FILE_NONE, &error)) {
		*errors_r = g_strdup_printf("%s: %s\n", path ? path : "(config)", error->message);
		g_error_free(error);
		g_key_file_free(file);
		return -1;
	}
	struct config *cfg = config_new(file, text != NULL ? path : NULL);
	if (text != NULL)
		index_lines(cfg, text);
	GString *errors = g_string_new(NULL);
	g_auto(GStrv) groups = g_key_file_get_groups(file, NULL);
	for (int i = 0; groups[i] != NULL; i++)
		validate_group(cfg, groups[i], errors);
	if (errors->len > 0) {
		*errors_r = g_string_free(errors, FALSE);
		config_free(&cfg);
		return -1;
	}
	g_string_free(errors, TRUE);
	*config_r = cfg;
	return 0;
}

int config_load_data(const char *text, const char *name, struct config **config_r, char **errors_r)
{
	return load_text(text, name, config_r, errors_r);
}

int config_load(const char *path, struct config **config_r, char **errors_r)
{
	if (path == NULL || *path == '\0')
		path = getenv("FAXGATE_CONFIG");
	if (path == NULL || *path == '\0') {
		path = "/etc/faxgate/faxgate.conf";
		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			return load_text(NULL, NULL, config_r, errors_r);
	}
	g_autofree char *text = NULL;
	GError *error = NULL;
	if (!g_file_get_contents(path, &text, NULL, &error)) {
		*errors_r = g_strdup_printf("%s: %s\n", path, error->message);
		g_error_free(error);
		return -1;
	}
	return load_text(text, path, config_r, errors_r);
}

void config_free(struct config **configp)
{
	struct config *cfg = *configp;
	if (cfg == NULL)
		return;
	g_key_file_free(cfg->file);
	g_hash_table_destroy(cfg->line_numbers);
	g_hash_table_destroy(cfg->cache);
	g_ptr_array_free(cfg->owned, TRUE);
	g_free(cfg->path);
	g_free(cfg->home);
	g_free(cfg);
	*configp = NULL;
}

const char *config_file(const struct config *config)
{
	return config->path;
}

const char *config_home(const struct config *config)
{
	return config->home;
}

static const struct config_key *require_key(const char *group, const char *key)
{
	const struct config_key *k = schema_key(group, key);
	if (k == NULL) {
		fprintf(stderr, "panic: config key [%s] %s is not in config_keys\n", group, key);
		abort();
	}
	return k;
}

const char *config_str(const struct config *config, const char *group, const char *key)
{
	const struct config_key *k = require_key(group, key);
	g_autofree char *id = g_strdup_printf("%s\n%s", group, key);
	const char *cached = g_hash_table_lookup(config->cache, id);
	if (cached != NULL)
		return cached;
	g_autofree char *raw = g_key_file_get_string(config->file, group, key, NULL);
	const char *value = raw ? raw : (k->default_value ? k->default_value : "");
	GString *expanded = g_string_new(NULL);
	for (const char *p = value; *p != '\0'; p++) {
		if (g_str_has_prefix(p, "${home}")) {
			g_string_append(expanded, config->home);
			p += strlen("${home}") - 1;
		} else {
			g_string_append_c(expanded, *p);
		}
	}
	char *result = g_string_free(expanded, FALSE);
	g_hash_table_insert(config->cache, g_steal_pointer(&id), result);
	return result;
}

int64_t config_int(const struct config *config, const char *group, const char *key)
{
	const struct config_key *k = require_key(group, key);
	const char *text = config_str(config, group, key);
	int64_t v = 0;
	int ret = k->type == CONFIG_TYPE_DURATION ? config_parse_duration(text, &v) : parse_int(text, &v);
	if (ret < 0) {
		fprintf(stderr, "panic: default of [%s] %s is not a number\n", group, key);
		abort();
	}
	return v;
}

bool config_bool(const struct config *config, const char *group, const char *key)
{
	bool v = false;
	if (config_parse_bool(config_str(config, group, key), &v) < 0) {
		fprintf(stderr, "panic: default of [%s] %s is not a boolean\n", group, key);
		abort();
	}
	return v;
}

static const char *const *own_strv(const struct config *config, GPtrArray *items)
{
	g_ptr_array_add(items, NULL);
	char **strv = (char **)g_ptr_array_free(items, FALSE);
	g_ptr_array_add(config->owned, strv);
	return (const char *const *)strv;
}

const char *const *config_list(const struct config *config, const char *group, const char *key)
{
	g_auto(GStrv) parts = g_strsplit(config_str(config, group, key), ",", -1);
	GPtrArray *items = g_ptr_array_new();
	for (int i = 0; parts[i] != NULL; i++) {
		char *word = g_strstrip(parts[i]);
		if (*word != '\0')
			g_ptr_array_add(items, g_strdup(word));
	}
	return own_strv(config, items);
}

const char *const *config_instances(const struct config *config, const char *kind)
{
	g_auto(GStrv) groups = g_key_file_get_groups(config->file, NULL);
	GPtrArray *items = g_ptr_array_new();
	size_t len = strlen(kind);
	for (int i = 0; groups[i] != NULL; i++) {
		if (strncmp(groups[i], kind, len) == 0 && groups[i][len] == ' ' && groups[i][len + 1] != '\0')
			g_ptr_array_add(items, g_strdup(groups[i] + len + 1));
	}
	for (size_t i = 0; items->len == 0 && i < G_N_ELEMENTS(default_instances); i++) {
		if (strcmp(default_instances[i].kind, kind) == 0)
			g_ptr_array_add(items, g_strdup(default_instances[i].name));
	}
	return own_strv(config, items);
}

const char *const *config_keys_of(const struct config *config, const char *group)
{
	g_auto(GStrv) keys = g_key_file_get_keys(config->file, group, NULL, NULL);
	GPtrArray *items = g_ptr_array_new();
	for (int i = 0; keys != NULL && keys[i] != NULL; i++)
		g_ptr_array_add(items, g_strdup(keys[i]));
	return own_strv(config, items);
}
