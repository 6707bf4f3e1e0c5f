/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum config_type {
	CONFIG_TYPE_STRING,
	CONFIG_TYPE_INT,      /* decimal integer within [min, max] */
	CONFIG_TYPE_BOOL,     /* yes/no, true/false, on/off, 1/0 */
	CONFIG_TYPE_DURATION, /* seconds, or with a suffix s, m, h, d */
	CONFIG_TYPE_ENUM,     /* one of the words in .choices, separated by '|' */
	CONFIG_TYPE_LIST,     /* comma-separated words */
	CONFIG_TYPE_ADDRESS,  /* host:port or unix:/path */
};

/* One documented key. group "line *" means every group "[line NAME]". Defaults may name
   ${home}, expanded when read. */
struct config_key {
	const char *group;
	const char *key;
	enum config_type type;
	const char *default_value;
	const char *choices; /* CONFIG_TYPE_ENUM */
	int64_t min, max;    /* CONFIG_TYPE_INT, CONFIG_TYPE_DURATION */
	const char *doc;
};

/* The table of every key, ended by an entry with key NULL (common/config_keys.c). */
extern const struct config_key config_keys[];

struct config;

/* Find and read the configuration: path (from -c), else $FAXGATE_CONFIG, else
   /etc/faxgate/faxgate.conf when it exists, else the embedded default (no file).
   On error returns -1 and *errors_r is every problem, one per line as
   "FILE:LINE: [group] key: reason" (g_free it). */
int config_load(const char *path, struct config **config_r, char **errors_r);
/* An embedded-default configuration, or one parsed from text (tests). */
int config_load_data(const char *text, const char *name, struct config **config_r, char **errors_r);
void config_free(struct config **configp);

/* The file read, or NULL on the embedded default. */
const char *config_file(const struct config *config);
/* The absolute directory everything lives under ([faxgate] home). */
const char *config_home(const struct config *config);

/* Typed values; the group/key must be in config_keys (else it panics: a programming error).
   Returned strings are owned by config and live as long as it. */
const char *config_str(const struct config *config, const char *group, const char *key);
int64_t config_int(const struct config *config, const char *group, const char *key);
bool config_bool(const struct config *config, const char *group, const char *key);
/* NULL-terminated, owned by config. */
const char *const *config_list(const struct config *config, const char *group, const char *key);

/* Names of the instances of a group pattern such as "line" ([line loop] -> "loop"),
   NULL-terminated, owned by config. */
const char *const *config_instances(const struct config *config, const char *kind);

/* The keys present in a group, in file order (for tables whose keys are data, documented as key
   "*" such as [routes]), NULL-terminated, owned by config. */
const char *const *config_keys_of(const struct config *config, const char *group);

/* Parse helpers shared with other parsers. */
int config_parse_bool(const char *text, bool *value_r);
int config_parse_duration(const char *text, int64_t *seconds_r);

#endif
