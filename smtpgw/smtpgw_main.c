/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bin/smtpgw: the SMTP/LMTP server (started by `faxgate run`), or pipe mode for MTAs:
   `smtpgw [-c FILE] deliver -f SENDER RCPT...` with the message on stdin. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "smtpgw/deliver.h"
#include "smtpgw/server.h"

static int usage(void)
{
	fprintf(stderr, "usage: smtpgw [-c FILE]                          serve SMTP/LMTP\n"
			"       smtpgw [-c FILE] deliver -f SENDER RCPT...   queue the message on stdin\n");
	return 64;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		config_path = argv[i + 1];
		i += 2;
	}
	bool deliver = i < argc && strcmp(argv[i], "deliver") == 0;
	if (i < argc && !deliver)
		return usage();
	log_open_child("smtpgw");
	struct config *config = NULL;
	char *errors = NULL;
	if (config_load(config_path, &config, &errors) < 0) {
		fprintf(stderr, "smtpgw: configuration errors:\n%s", errors);
		return deliver ? 75 : 78;
	}
	enum log_level level;
	if (log_level_parse(config_str(config, "faxgate", "log_level"), &level) == 0)
		log_set_level(level);
	int ret;
	if (deliver) {
		i++;
		if (i + 3 > argc || strcmp(argv[i], "-f") != 0) {
			config_free(&config);
			return usage();
		}
		ret = deliver_run(config, argv[i + 1], argv + i + 2, argc - i - 2);
	} else {
		const char *error = NULL;
		struct server *server = server_create(config, &error);
		if (server == NULL)
			log_fatal("%s", error);
		ret = server_run(server);
		server_free(&server);
	}
	config_free(&config);
	return ret;
}
