/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxctl profile: add and show users (the profiles/LDAP issue adds set, list, del, import,
 * export). A password is read from standard input (one line), never from the command line.
 */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/store.h"
#include "faxctl/faxctl.h"
#include "faxctl/output.h"
#include "profiles/profile.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_TEMPFAIL 75

static char *read_password(void)
{
	char line[1024];
	if (fgets(line, sizeof(line), stdin) == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	return g_strdup(line);
}

static int profile_add(struct faxctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'}, {"address", required_argument, NULL, 'a'},
		{"did", required_argument, NULL, 'd'}, {"classes", required_argument, NULL, 'c'},
		{"password-stdin", no_argument, NULL, 'p'}, {"no-send", no_argument, NULL, 'x'},
		{"company", required_argument, NULL, 'o'}, {"language", required_argument, NULL, 'l'},
		{"notify", required_argument, NULL, 'N'}, {"rx-format", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	if (argc < 2) {
		fprintf(stderr, "usage: faxctl profile add ADDRESS [--name N] [--company C] [--address A]... [--did D]...\n"
				"                           [--classes local,national,...] [--no-send] [--password-stdin]\n"
				"                           [--language en|de] [--notify POLICY] [--rx-format pdf|tiff|both|none]\n");
		return EXIT_USAGE;
	}
	struct profile *p = profile_new(argv[1]);
	int opt, ret = 0;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': g_free(p->name); p->name = g_strdup(optarg); break;
		case 'o': g_free(p->company); p->company = g_strdup(optarg); break;
		case 'a': g_ptr_array_add(p->addresses, g_strdup(optarg)); break;
		case 'd': g_ptr_array_add(p->dids, g_strdup(optarg)); break;
		case 'c': g_free(p->permission_class); p->permission_class = g_strdup(optarg); break;
		case 'x': p->may_send = false; break;
		case 'l': g_free(p->language); p->language = g_strdup(optarg); break;
		case 'N': g_free(p->notify); p->notify = g_strdup(optarg); break;
		case 'r': g_free(p->rx_format); p->rx_format = g_strdup(optarg); break;
		case 'p': {
			g_autofree char *password = read_password();
			p->password_hash = password && *password ? profile_hash_password(password) : NULL;
			if (p->password_hash == NULL) {
				fprintf(stderr, "faxctl: no password on standard input\n");
				ret = EXIT_DATAERR;
			}
			break;
		}
		default: ret = EXIT_USAGE;
		}
	}
	struct store *st = ret == 0 ? faxctl_store(ctl) : NULL;
	const char *error = NULL;
	if (ret == 0 && st == NULL)
		ret = EXIT_TEMPFAIL;
	if (ret == 0 && profile_save(st, p, &error) < 0) {
		fprintf(stderr, "faxctl: %s\n", error);
		ret = EXIT_DATAERR;
	}
	if (ret == 0 && !ctl->json)
		printf("%s: profile %s\n", p->primary_address, p->id);
	profile_free(&p);
	return ret;
}

static int profile_show(struct faxctl *ctl, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: faxctl profile show ADDRESS\n");
		return EXIT_USAGE;
	}
	struct store *st = faxctl_store(ctl);
	struct profile *p = NULL;
	const char *error = NULL;
	if (st == NULL)
		return EXIT_TEMPFAIL;
	int found = profile_lookup(st, argv[1], &p, &error);
	if (found <= 0) {
		fprintf(stderr, "faxctl: %s\n", found < 0 ? error : "no such profile");
		return found < 0 ? EXIT_TEMPFAIL : EXIT_DATAERR;
	}
	GString *addresses = g_string_new(NULL);
	for (guint i = 0; i < p->addresses->len; i++)
		g_string_append_printf(addresses, "%s%s", i ? "," : "", (const char *)p->addresses->pdata[i]);
	struct output *out = output_create(ctl->json);
	output_record_begin(out);
	output_str(out, "id", p->id);
	output_str(out, "address", p->primary_address);
	output_str(out, "addresses", addresses->str);
	g_string_free(addresses, TRUE);
	output_str(out, "name", p->name);
	output_str(out, "company", p->company);
	output_str(out, "may_send", p->may_send ? "yes" : "no");
	output_str(out, "classes", p->permission_class);
	output_str(out, "password", p->password_hash ? "set" : "none");
	output_str(out, "language", p->language);
	output_str(out, "notify", p->notify);
	output_str(out, "rx_format", p->rx_format);
	output_str(out, "source", p->source);
	output_record_end(out);
	output_flush(out, false);
	output_free(&out);
	profile_free(&p);
	return 0;
}

int faxctl_cmd_profile(struct faxctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return profile_add(ctl, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return profile_show(ctl, argc - 1, argv + 1);
	fprintf(stderr, "usage: faxctl profile add|show ...\n");
	return EXIT_USAGE;
}
