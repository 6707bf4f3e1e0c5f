/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bin/faxd: the fax engine. Started by `faxgate run`; stops on SIGTERM. */
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "faxd/queue.h"

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fprintf(stderr, "usage: faxd [-c FILE]\n");
			return 64;
		}
		config_path = optarg;
	}
	log_open_child("faxd");
	struct config *config = NULL;
	char *errors = NULL;
	if (config_load(config_path, &config, &errors) < 0) {
		fprintf(stderr, "faxd: configuration errors:\n%s", errors);
		return 78;
	}
	enum log_level level;
	if (log_level_parse(config_str(config, "faxgate", "log_level"), &level) == 0)
		log_set_level(level);
	const char *error = NULL;
	struct queue *queue = queue_create(config, &error);
	if (queue == NULL)
		log_fatal("%s", error);
	int ret = queue_run(queue);
	queue_free(&queue);
	config_free(&config);
	return ret;
}
