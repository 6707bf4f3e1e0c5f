/* SPDX-License-Identifier: GPL-3.0-or-later */
/* faxctl preview JOB [--page N] --out FILE.png|FILE.pdf: what will be (or was) sent. */
#include <getopt.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/store.h"
#include "faxctl/faxctl.h"
#include "render/convert.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_TEMPFAIL 75

/* The job's pages in a temporary file (g_free, unlink), or NULL with a message printed. */
static char *pages_file(struct faxctl *ctl, const char *id)
{
	struct store *st = faxctl_store(ctl);
	struct job *job = NULL;
	if (st == NULL || store_job_get(st, id, &job) <= 0) {
		fprintf(stderr, "faxctl: no job %s\n", id);
		return NULL;
	}
	void *data = NULL;
	size_t len = 0;
	int found = job->pages_doc > 0 ? store_document_get(st, job->pages_doc, &data, &len, NULL) : 0;
	if (found <= 0)
		fprintf(stderr, "faxctl: job %s has no pages yet (state %s)\n", job->id, job_state_name(job->state));
	store_job_free(&job);
	if (found <= 0)
		return NULL;
	char *path = g_build_filename(g_get_tmp_dir(), "faxctl-preview-XXXXXX", NULL);
	int fd = g_mkstemp(path);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	g_free(data);
	if (!ok) {
		g_free(path);
		return NULL;
	}
	return path;
}

int faxctl_cmd_preview(struct faxctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"page", required_argument, NULL, 'p'}, {"out", required_argument, NULL, 'o'},
					     {NULL, 0, NULL, 0}};
	int page = 0, opt;
	const char *out = NULL;
	while ((opt = getopt_long(argc, argv, "p:o:", opts, NULL)) != -1) {
		if (opt == 'p')
			page = atoi(optarg);
		else if (opt == 'o')
			out = optarg;
		else
			return EXIT_USAGE;
	}
	bool pdf = out && g_str_has_suffix(out, ".pdf");
	if (optind != argc - 1 || out == NULL || (!pdf && !g_str_has_suffix(out, ".png"))) {
		fprintf(stderr, "usage: faxctl preview JOB [--page N] --out FILE.png|FILE.pdf\n");
		return EXIT_USAGE;
	}
	g_autofree char *tiff = pages_file(ctl, argv[optind]);
	if (tiff == NULL)
		return EXIT_DATAERR;
	const char *error = NULL;
	int ret = pdf ? fax_to_pdf(tiff, out, &error) : fax_preview_png(tiff, page > 0 ? page : 1, out, &error);
	g_unlink(tiff);
	if (ret < 0) {
		fprintf(stderr, "faxctl: %s\n", error);
		return EXIT_DATAERR;
	}
	if (!ctl->json)
		printf("%s\n", out);
	return 0;
}
