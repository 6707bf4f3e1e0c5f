/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bin/render: the render daemon (started by `faxgate run`), and `render convert DIR`, the
   confined child that converts one job (run by the daemon, not by hand). */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "render/conversion.h"
#include "render/worker.h"

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "convert") == 0) {
		log_open_child("render");
		return conversion_run(argv[2]);
	}
	const char *config_path = NULL;
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		config_path = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: render [-c FILE]\n");
		return 64;
	}
	log_open_child("render");
	struct config *config = NULL;
	char *errors = NULL;
	if (config_load(config_path, &config, &errors) < 0) {
		fprintf(stderr, "render: configuration errors:\n%s", errors);
		return 78;
	}
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	const char *error = NULL;
	struct worker *worker = worker_create(config, exe ? exe : argv[0], &error);
	if (worker == NULL)
		log_fatal("%s", error);
	int ret = worker_run(worker);
	worker_free(&worker);
	config_free(&config);
	return ret;
}
