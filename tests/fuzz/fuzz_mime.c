/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz harness for the MIME walk (render/mime.c): any bytes as a mail message. The walk must
   return a result or a clear error, extract only into its work directory, and leak nothing. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_tree(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			remove_tree(path);
		else
			unlink(path);
	}
	if (d != NULL)
		g_dir_close(d);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *dir = g_dir_make_tmp("fuzz_mime-XXXXXX", NULL);
	if (dir == NULL)
		abort();
	g_autofree char *msg = g_build_filename(dir, "message.eml", NULL);
	g_autofree char *parts = g_build_filename(dir, "parts", NULL);
	if (!g_file_set_contents(msg, (const char *)data, (gssize)size, NULL) || g_mkdir(parts, 0700) < 0)
		abort();
	struct mime_walk *walk = NULL;
	const char *error = NULL;
	if (mime_walk(msg, parts, &walk, &error) == 0) {
		for (guint i = 0; i < walk->parts->len; i++) {
			const struct mime_part *p = walk->parts->pdata[i];
			/* every extracted file is inside the work directory */
			if (!g_str_has_prefix(p->path, parts) || strstr(p->path, "/../") != NULL)
				abort();
		}
		mime_walk_free(&walk);
	} else if (error == NULL) {
		abort();
	}
	remove_tree(dir);
	g_free(dir);
	return 0;
}
