/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Directory lookup latency through ldapsync/directory.c, as smtpgw pays it: N sender lookups
 * (user00001..) against the [ldap] of the config given, first with the cache off (each a search
 * on the reused service connection, and the entry mapped), then the same N again from the cache.
 * Prints median and 99th percentile in microseconds. bench/ldap_lookup_bench.py runs it beside
 * python-ldap doing the same searches.
 *   dirlookup_bench CONFIG COUNT
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"
#include "common/dialrules.h"
#include "ldapsync/directory.h"
#include "profiles/profile.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *us, int n)
{
	qsort(us, (size_t)n, sizeof(double), cmp_double);
	printf("%s: n=%d median_us=%.0f p99_us=%.0f\n", what, n, us[n / 2], us[(n * 99) / 100]);
}

static int run(struct directory *dir, int count, double *us)
{
	for (int i = 0; i < count; i++) {
		char address[64];
		snprintf(address, sizeof(address), "user%05d@example.com", i + 1);
		struct profile *p = NULL;
		const char *error = NULL;
		gint64 t = g_get_monotonic_time();
		enum directory_result r = directory_lookup_address(dir, address, &p, &error);
		us[i] = (double)(g_get_monotonic_time() - t);
		profile_free(&p);
		if (r != DIRECTORY_FOUND) {
			fprintf(stderr, "%s: not found (%s)\n", address, error ? error : "-");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: dirlookup_bench CONFIG COUNT\n");
		return 64;
	}
	int count = atoi(argv[2]);
	struct config *cfg = NULL;
	char *errors = NULL;
	if (count < 1 || config_load(argv[1], &cfg, &errors) < 0) {
		fprintf(stderr, "config: %s\n", errors ? errors : "bad count");
		return 78;
	}
	struct dialrules *rules = dialrules_from_config(cfg);
	const char *error = NULL;
	struct directory *dir = directory_create(cfg, rules, &error);
	if (dir == NULL) {
		fprintf(stderr, "directory: %s\n", error ? error : "no [ldap] uri");
		return 78;
	}
	double *us = g_new(double, count);
	int ret = run(dir, count, us);
	if (ret == 0)
		report("uncached_first", us, count);
	if (ret == 0 && (ret = run(dir, count, us)) == 0)
		report("cached", us, count);
	g_free(us);
	directory_free(&dir);
	dialrules_free(&rules);
	config_free(&cfg);
	return ret == 0 ? 0 : 1;
}
