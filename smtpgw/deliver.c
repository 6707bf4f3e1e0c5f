/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * `smtpgw deliver -f SENDER RCPT...`: for Postfix pipe(8) or Exim's pipe transport. The MTA has
 * done its own authentication, so the submitter is trusted; recipients go through the same
 * checks as at RCPT time and the message through the same durable commit as over SMTP
 * (accept.c). The result is a sysexits(3) code the MTA turns into a bounce or a retry.
 */
#include "smtpgw/deliver.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dialrules.h"
#include "common/log.h"
#include "common/store.h"
#include "smtpgw/accept.h"

#define EX_OK 0
#define EX_DATAERR 65
#define EX_NOUSER 67
#define EX_TEMPFAIL 75
#define EX_NOPERM 77

/* An SMTP reply turned into the exit code an MTA understands. */
static int exit_code(int code, const char *text)
{
	if (code / 100 == 2)
		return EX_OK;
	if (code / 100 == 4)
		return EX_TEMPFAIL;
	if (g_str_has_prefix(text, "5.7"))
		return EX_NOPERM;
	if (g_str_has_prefix(text, "5.1"))
		return EX_NOUSER;
	return EX_DATAERR;
}

static int add_recipients(struct accept *acc, GHashTable *domains, char **rcpts, int n)
{
	for (int i = 0; i < n; i++) {
		char *at = strrchr(rcpts[i], '@');
		if (at == NULL) {
			fprintf(stderr, "smtpgw: %s: not an address\n", rcpts[i]);
			return EX_NOUSER;
		}
		g_autofree char *local = g_strndup(rcpts[i], (gsize)(at - rcpts[i]));
		g_autofree char *domain = g_ascii_strdown(at + 1, -1);
		if (!g_hash_table_contains(domains, domain)) {
			fprintf(stderr, "smtpgw: %s: 5.7.1 not a fax domain\n", rcpts[i]);
			return EX_NOUSER;
		}
		int code = 0;
		char reply[512];
		if (accept_add_rcpt(acc, rcpts[i], local, domain, 0, NULL, &code, reply) < 0) {
			fprintf(stderr, "smtpgw: %s: %s\n", rcpts[i], reply);
			return exit_code(code, reply);
		}
	}
	return EX_OK;
}

static int copy_stdin(struct accept *acc)
{
	char buf[65536];
	GString *line = g_string_new(NULL);
	ssize_t n;
	int ret = EX_OK;
	/* MTAs pipe with LF line ends: the stored message has CRLF like one received over SMTP. */
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 && ret == EX_OK) {
		g_string_truncate(line, 0);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
				g_string_append_c(line, '\r');
			g_string_append_c(line, buf[i]);
		}
		if (accept_data(acc, line->str, line->len) < 0)
			ret = EX_TEMPFAIL;
	}
	g_string_free(line, TRUE);
	return n < 0 ? EX_TEMPFAIL : ret;
}

int deliver_run(const struct config *config, const char *sender, char **rcpts, int n)
{
	const char *error = NULL;
	if (dialrules_config_check(config, &error) < 0) {
		fprintf(stderr, "smtpgw: configuration: %s\n", error);
		return EX_TEMPFAIL;
	}
	struct store *store = NULL;
	if (store_open(config, &store, &error) < 0) {
		fprintf(stderr, "smtpgw: %s\n", error);
		return EX_TEMPFAIL;
	}
	g_autofree char *spool = g_build_filename(config_home(config), "spool", "incoming", NULL);
	g_mkdir_with_parents(spool, 0750);
	struct dialrules *rules = dialrules_from_config(config);
	const char *node = config_str(config, "faxgate", "node");
	struct accept_config ac = {.config = config, .store = store, .rules = rules, .spool_dir = spool,
				   .node = *node ? node : g_get_host_name()};
	struct accept_submitter sub = {.sender = sender, .trusted = true, .admin = true, .client = "pipe"};
	GHashTable *domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (const char *const *d = config_list(config, "smtp", "domains"); *d; d++)
		g_hash_table_add(domains, g_ascii_strdown(*d, -1));
	struct accept *acc = accept_begin(&ac, &sub, NULL);
	int ret = add_recipients(acc, domains, rcpts, n);
	if (ret == EX_OK)
		ret = copy_stdin(acc);
	if (ret == EX_OK) {
		struct accept_result result = {0};
		accept_commit(acc, &result, 1);
		ret = exit_code(result.code, result.text);
		fprintf(ret == EX_OK ? stdout : stderr, "%d %s\n", result.code, result.text);
		log_job(LOG_LEVEL_INFO, result.job_ids && result.job_ids->len ? (const char *)result.job_ids->pdata[0] : NULL,
			"client=pipe from=<%s> rcpts=%d size=%llu result=\"%d %s\"", sender, n,
			(unsigned long long)accept_size(acc), result.code, result.text);
		accept_results_clear(&result, 1);
	}
	accept_free(&acc);
	g_hash_table_destroy(domains);
	dialrules_free(&rules);
	store_close(&store);
	return ret;
}
