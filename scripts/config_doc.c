/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Prints the key tables of docs/config.md from common/config_keys.c: `make config-doc`. */
#include <stdio.h>
#include <string.h>
#include "common/config.h"
static const char *type_name(const struct config_key *k, char *buf) {
	switch (k->type) {
	case CONFIG_TYPE_STRING: return "text";
	case CONFIG_TYPE_INT: sprintf(buf, "integer %lld..%lld", (long long)k->min, (long long)k->max); return buf;
	case CONFIG_TYPE_BOOL: return "yes/no";
	case CONFIG_TYPE_DURATION: return "duration";
	case CONFIG_TYPE_ENUM: { char *o = buf; for (const char *c = k->choices; *c; c++) { if (*c == 0x7c) { strcpy(o, ", "); o += 2; } else *o++ = *c; } *o = 0; return buf; }
	case CONFIG_TYPE_LIST: return "list";
	case CONFIG_TYPE_ADDRESS: return "address";
	}
	return "";
}
int main(void) {
	const char *group = "";
	for (const struct config_key *k = config_keys; k->key; k++) {
		char buf[200];
		if (strcmp(group, k->group)) {
			group = k->group;
			printf("\n## [%s]\n\n| key | type | default | meaning |\n|---|---|---|---|\n", group);
		}
		printf("| `%s` | %s | %s%s%s | %s |\n", k->key, type_name(k, buf), k->default_value && *k->default_value ? "`" : "",
		       k->default_value ? (*k->default_value ? k->default_value : "(empty)") : "(see meaning)",
		       k->default_value && *k->default_value ? "`" : "", k->doc);
	}
}
