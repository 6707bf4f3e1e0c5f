/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bin/mailer: the outbound half of smtpgw (started by `faxgate run`): notifications of jobs and
   received faxes, composed into the outbox and delivered to a relay or a Maildir. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "smtpgw/mailer.h"

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		config_path = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: mailer [-c FILE]\n");
		return 64;
	}
	log_open_child("mailer");
	struct config *config = NULL;
	char *errors = NULL;
	if (config_load(config_path, &config, &errors) < 0) {
		fprintf(stderr, "mailer: configuration errors:\n%s", errors);
		return 78;
	}
	struct mailer *mailer = NULL;
	const char *error = NULL;
	int ret = 78; /* a template or route that cannot work is a configuration error */
	if (mailer_create(config, &mailer, &error) < 0)
		log_error("mailer: %s", error);
	else
		ret = mailer_run(mailer);
	mailer_free(&mailer);
	config_free(&config);
	return ret;
}
