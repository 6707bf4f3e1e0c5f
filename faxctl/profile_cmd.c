/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxctl profile: add, set, show, list, del, import and export users and groups (docs/profiles.md).
 * Fields are set by name through profile_set_field(), so the command line, `set` and the CSV
 * columns (RFC 4180) check values alike. A password is read from standard input (one line),
 * never from the command line, and never exported. Exit codes: 64 usage, 65 bad data or no such
 * profile, 74 output error, 75 store unavailable.
 */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/store.h"
#include "faxctl/faxctl.h"
#include "faxctl/output.h"
#include "profiles/profile.h"
#include "profiles/profile_csv.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_IOERR 74
#define EXIT_TEMPFAIL 75

static const char add_usage[] =
    "usage: faxctl profile add ADDRESS [--name N] [--company C] [--department D] [--phone P] [--fax F]\n"
    "         [--address A]... [--did D]... [--group] [--member A]... [--classes local,national,...]\n"
    "         [--no-send] [--password-stdin] [--language en|de] [--notify POLICY]\n"
    "         [--rx-format pdf|tiff|both|none] [--cover NAME] [--resolution standard|fine|superfine]\n"
    "         [--paper a4|letter|legal] [--tsi TSI] [--billing-code B] [--header-line TEMPLATE]\n";

/* Options of `add` that set a field; a list (addresses, dids, members) may be given again. */
static const struct {
	const char *option, *field;
	bool list;
} add_fields[] = {
    {"name", "name", false},
    {"company", "company", false},
    {"department", "department", false},
    {"phone", "phone", false},
    {"fax", "fax", false},
    {"classes", "classes", false},
    {"language", "language", false},
    {"notify", "notify", false},
    {"rx-format", "rx_format", false},
    {"cover", "cover", false},
    {"resolution", "resolution", false},
    {"paper", "paper", false},
    {"tsi", "tsi", false},
    {"billing-code", "billing_code", false},
    {"header-line", "header_line", false},
    {"address", "addresses", true},
    {"did", "dids", true},
    {"member", "members", true},
};

enum { OPT_PASSWORD = 1000, OPT_NO_SEND, OPT_GROUP, OPT_FIELD };

static char *read_password(void)
{
	char line[1024];
	if (fgets(line, sizeof(line), stdin) == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	return g_strdup(line);
}

static struct profile *find(struct faxctl *ctl, const char *address, int *ret_r)
{
	struct store *st = faxctl_store(ctl);
	struct profile *p = NULL;
	const char *error = NULL;
	int found = st ? profile_lookup(st, address, &p, &error) : -1;
	if (found <= 0 && st != NULL)
		fprintf(stderr, "faxctl: %s\n", found < 0 ? error : "no such profile");
	*ret_r = found > 0 ? 0 : found == 0 ? EXIT_DATAERR : EXIT_TEMPFAIL;
	return p;
}

/* Set a field, or add to it for the lists (value appended to what is there). */
static int add_field(struct profile *p, const char *field, const char *value, bool append)
{
	g_autofree char *old = append ? profile_get_field(p, field) : NULL;
	g_autofree char *joined = old ? g_strconcat(old, ",", value, NULL) : g_strdup(value);
	const char *error = NULL;
	if (profile_set_field(p, field, joined, &error) == 0)
		return 0;
	fprintf(stderr, "faxctl: %s\n", error);
	return EXIT_DATAERR;
}

static int add_option(struct profile *p, int opt)
{
	switch (opt) {
	case OPT_NO_SEND:
		return add_field(p, "may_send", "no", false);
	case OPT_GROUP:
		return add_field(p, "kind", "group", false);
	case OPT_PASSWORD: {
		g_autofree char *password = read_password();
		g_free(p->password_hash);
		p->password_hash = password && *password ? profile_hash_password(password) : NULL;
		if (p->password_hash != NULL)
			return 0;
		fprintf(stderr, "faxctl: no password on standard input\n");
		return EXIT_DATAERR;
	}
	default:
		if (opt < OPT_FIELD || opt >= OPT_FIELD + (int)G_N_ELEMENTS(add_fields))
			return EXIT_USAGE;
		return add_field(p, add_fields[opt - OPT_FIELD].field, optarg,
				 add_fields[opt - OPT_FIELD].list);
	}
}

static int save(struct faxctl *ctl, struct profile *p)
{
	struct store *st = faxctl_store(ctl);
	const char *error = NULL;
	if (st == NULL)
		return EXIT_TEMPFAIL;
	if (profile_save(st, p, &error) == 0)
		return 0;
	fprintf(stderr, "faxctl: %s\n", error);
	return EXIT_DATAERR;
}

static int profile_add(struct faxctl *ctl, int argc, char **argv)
{
	struct option opts[G_N_ELEMENTS(add_fields) + 4] = {
	    {"password-stdin", no_argument, NULL, OPT_PASSWORD},
	    {"no-send", no_argument, NULL, OPT_NO_SEND},
	    {"group", no_argument, NULL, OPT_GROUP},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(add_fields); i++)
		opts[3 + i] =
		    (struct option){add_fields[i].option, required_argument, NULL, OPT_FIELD + (int)i};
	if (argc < 2 || argv[1][0] == '-') {
		fputs(add_usage, stderr);
		return EXIT_USAGE;
	}
	struct profile *p = profile_new(argv[1]);
	int opt, ret = add_field(p, "address", argv[1], false);
	optind = 2;
	while (ret == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		ret = add_option(p, opt);
	if (ret == 0 && optind < argc)
		ret = EXIT_USAGE;
	if (ret == EXIT_USAGE)
		fputs(add_usage, stderr);
	if (ret == 0)
		ret = save(ctl, p);
	if (ret == 0 && !ctl->json)
		printf("%s: profile %s\n", p->primary_address, p->id);
	profile_free(&p);
	return ret;
}

static bool field_known(const char *field)
{
	for (const char *const *name = profile_field_names(); *name != NULL; name++)
		if (strcmp(*name, field) == 0)
			return true;
	return false;
}

static int profile_set(struct faxctl *ctl, int argc, char **argv)
{
	if (argc < 3) {
		fprintf(
		    stderr,
		    "usage: faxctl profile set ADDRESS FIELD=VALUE... (fields: see faxctl profile show)\n");
		return EXIT_USAGE;
	}
	int ret;
	struct profile *p = find(ctl, argv[1], &ret);
	for (int i = 2; ret == 0 && i < argc; i++) {
		g_auto(GStrv) kv = g_strsplit(argv[i], "=", 2);
		if (kv[0] == NULL || kv[1] == NULL || !field_known(kv[0])) {
			fprintf(stderr,
				"faxctl: expected FIELD=VALUE with a field of faxctl profile show, not %s\n",
				argv[i]);
			ret = EXIT_USAGE;
		} else {
			ret = add_field(p, kv[0], kv[1], false);
		}
	}
	if (ret == 0 && g_strcmp0(p->source, "directory") == 0)
		fprintf(stderr,
			"faxctl: warning: %s comes from the directory: the next ldapsync overwrites it\n",
			p->primary_address);
	if (ret == 0)
		ret = save(ctl, p);
	profile_free(&p);
	return ret;
}

static int profile_show(struct faxctl *ctl, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: faxctl profile show ADDRESS\n");
		return EXIT_USAGE;
	}
	int ret;
	struct profile *p = find(ctl, argv[1], &ret);
	if (p == NULL)
		return ret;
	struct output *out = output_create(ctl->json);
	output_record_begin(out);
	output_str(out, "id", p->id);
	for (const char *const *name = profile_field_names(); *name != NULL; name++) {
		g_autofree char *value = profile_get_field(p, *name);
		output_str(out, *name, value);
	}
	output_str(out, "password", p->password_hash ? "set" : "none");
	output_record_end(out);
	output_flush(out, false);
	output_free(&out);
	profile_free(&p);
	return 0;
}

/* --source local|directory: 0 and *source_r (NULL = all), or EXIT_USAGE. */
static int source_option(int argc, char **argv, const char *usage, const char **source_r)
{
	static const struct option opts[] = {{"source", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
	int opt;
	*source_r = NULL;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 's' || (strcmp(optarg, "local") != 0 && strcmp(optarg, "directory") != 0)) {
			fprintf(stderr, "%s", usage);
			return EXIT_USAGE;
		}
		*source_r = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "%s", usage);
		return EXIT_USAGE;
	}
	return 0;
}

static GPtrArray *list_profiles(struct faxctl *ctl, const char *source, int *ret_r)
{
	struct store *st = faxctl_store(ctl);
	GPtrArray *profiles = NULL;
	const char *error = NULL;
	*ret_r = EXIT_TEMPFAIL;
	if (st != NULL && profile_list(st, source, &profiles, &error) < 0)
		fprintf(stderr, "faxctl: %s\n", error);
	else if (st != NULL)
		*ret_r = 0;
	return profiles;
}

static void list_row(struct output *out, const struct profile *p)
{
	static const char *const columns[] = {"address", "name", "fax", "dids", "source", "may_send"};
	output_record_begin(out);
	for (size_t i = 0; i < G_N_ELEMENTS(columns); i++) {
		g_autofree char *value = profile_get_field(p, columns[i]);
		output_str(out, columns[i], value);
	}
	output_record_end(out);
}

static int profile_list_cmd(struct faxctl *ctl, int argc, char **argv)
{
	const char *source = NULL;
	int ret =
	    source_option(argc, argv, "usage: faxctl profile list [--source local|directory]\n", &source);
	GPtrArray *profiles = ret == 0 ? list_profiles(ctl, source, &ret) : NULL;
	if (profiles == NULL)
		return ret;
	struct output *out = output_create(ctl->json);
	for (guint i = 0; i < profiles->len; i++)
		list_row(out, profiles->pdata[i]);
	output_flush(out, true);
	if (!ctl->json && profiles->len == 0)
		printf("no profiles\n");
	output_free(&out);
	g_ptr_array_free(profiles, TRUE);
	return 0;
}

static int profile_del(struct faxctl *ctl, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: faxctl profile del ADDRESS\n");
		return EXIT_USAGE;
	}
	struct store *st = faxctl_store(ctl);
	const char *error = NULL;
	int ret = st ? profile_delete(st, argv[1], &error) : -1;
	if (ret < 0 && st != NULL)
		fprintf(stderr, "faxctl: %s\n", error);
	if (ret == 0)
		fprintf(stderr, "faxctl: no such profile\n");
	if (ret > 0 && !ctl->json)
		printf("%s: deleted\n", argv[1]);
	return ret > 0 ? 0 : ret == 0 ? EXIT_DATAERR : EXIT_TEMPFAIL;
}

static int import_file(struct faxctl *ctl, const char *path, bool dry_run)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	struct profile_csv *csv = NULL;
	const char *error = NULL;
	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		fprintf(stderr, "faxctl: %s\n", gerr->message);
		g_error_free(gerr);
		return EXIT_DATAERR;
	}
	if (profile_csv_parse(data, len, &csv, &error) < 0) {
		fprintf(stderr, "faxctl: %s: %s\n", path, error);
		return EXIT_DATAERR;
	}
	struct store *st = faxctl_store(ctl);
	struct profile_import_stats stats;
	int ret = st ? profile_import(st, csv, dry_run, &stats, &error) : 0;
	profile_csv_free(&csv);
	if (st == NULL)
		return EXIT_TEMPFAIL;
	if (ret < 0) {
		fprintf(stderr, "faxctl: %s: %s (nothing imported)\n", path, error);
		return EXIT_DATAERR;
	}
	printf("%s %u profiles (%u added, %u changed)\n", dry_run ? "would import" : "imported", stats.rows,
	       stats.added, stats.changed);
	return 0;
}

static int profile_import_cmd(struct faxctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
	bool dry_run = false, bad = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		dry_run = dry_run || opt == 'n';
		bad = bad || opt != 'n';
	}
	if (bad || optind != argc - 1) {
		fprintf(stderr, "usage: faxctl profile import [--dry-run] FILE.csv\n");
		return EXIT_USAGE;
	}
	return import_file(ctl, argv[optind], dry_run);
}

static int profile_export(struct faxctl *ctl, int argc, char **argv)
{
	const char *source = NULL;
	int ret = source_option(
	    argc, argv, "usage: faxctl profile export [--source local|directory] > FILE.csv\n", &source);
	GPtrArray *profiles = ret == 0 ? list_profiles(ctl, source, &ret) : NULL;
	if (profiles == NULL)
		return ret;
	GString *csv = g_string_new(NULL);
	profile_csv_write(csv, profiles);
	g_ptr_array_free(profiles, TRUE);
	if (fwrite(csv->str, 1, csv->len, stdout) != csv->len || fflush(stdout) != 0) {
		perror("faxctl: standard output");
		ret = EXIT_IOERR;
	}
	g_string_free(csv, TRUE);
	return ret;
}

static const struct {
	const char *name;
	int (*run)(struct faxctl *ctl, int argc, char **argv);
} subcommands[] = {
    {"add", profile_add},	{"set", profile_set}, {"show", profile_show},
    {"list", profile_list_cmd}, {"del", profile_del}, {"import", profile_import_cmd},
    {"export", profile_export},
};

int faxctl_cmd_profile(struct faxctl *ctl, int argc, char **argv)
{
	for (size_t i = 0; argc >= 2 && i < G_N_ELEMENTS(subcommands); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(ctl, argc - 1, argv + 1);
	fprintf(stderr, "usage: faxctl profile add|set|show|list|del|import|export ...\n");
	return EXIT_USAGE;
}
