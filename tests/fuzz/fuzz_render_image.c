/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for the image path of the converters (render/convert.c render_image_data:
 * magic-number loader choice, the declared-size check before any pixel is decoded, truncation
 * detection, fitting to the page, grey conversion, both dithers) with the page writer
 * (render/faxwriter.c, TIFF Class F / ITU-T T.6 output) on a scratch file. gdk-pixbuf's PNG, JPEG,
 * GIF, BMP, TIFF and WebP loaders parse the bytes; everything around them is ours.
 *
 * The input is the image file as it is (so the corpus is ordinary image files); its length picks
 * the resolution (standard, fine, superfine) and the dither. Checks: success means exactly one
 * page 1728 wide, which the writer closes; failure means a reason; no GLib critical (gdk-pixbuf's
 * loaders emit them on inputs we ought to refuse first: zero-sized GIF frames); the image cap is
 * 4 Mpixel to keep each run fast (the code path is the same as with the 100 Mpixel default).
 * Findings so far (both kept in the corpus): a BMP header size that made the loader allocate
 * 3.6 GB, a GIF frame outside its canvas.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <unistd.h>

#include "render/convert.h"
#include "render/faxwriter.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_scratch(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (path[0] == '\0') {
		/* A GLib critical from a loader means an input we should have refused first. */
		g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
		strcpy(path, "/tmp/fuzz_render_image-XXXXXX");
		int fd = mkstemp(path);
		CHECK(fd >= 0);
		close(fd);
		atexit(remove_scratch);
	}
	struct fax_geometry g;
	fax_geometry_get((enum fax_res)(size % 3), FAX_PAPER_A4, 0, &g);
	struct render_options o;
	render_options_default(&o);
	o.halftone = (size / 3) % 2 == 1;
	o.image_max_pixels = 4 * 1000 * 1000;
	const char *error = NULL;
	struct fax_writer *w = fax_writer_create(path, &g, &error);
	CHECK(w != NULL);
	int r = render_image_data(w, &o, data, size, &error);
	if (r == 0) {
		CHECK(fax_writer_pages(w) == 1);
		CHECK(fax_writer_close(w, &error) == 1);
	} else {
		CHECK(r == -1);
		CHECK(error != NULL && error[0] != '\0');
		CHECK(fax_writer_pages(w) == 0);
	}
	fax_writer_free(&w);
	return 0;
}
