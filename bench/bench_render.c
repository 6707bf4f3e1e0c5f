/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Benchmark driver for the converters (render/convert.c): one conversion per process, as the
 * render worker runs them, so that bench/bench_render.sh can time it side by side with the tool
 * it replaces (gs, textfmt | gs, tiff2pdf) run directly. Output is TIFF Class F (ITU-T T.6, 1728
 * wide) or PDF 1.4 with CCITTFaxDecode images.
 *
 *   bench_render pdf|text|image|faxtiff IN OUT.tif [standard|fine|superfine]
 *   bench_render topdf IN.tif OUT.pdf
 *   bench_render preview IN.tif OUT.png
 *
 * Prints the number of pages on success; exits 1 with the reason otherwise.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/tiffpages.h"
#include "render/convert.h"
#include "render/faxwriter.h"

static int usage(void)
{
	fprintf(stderr, "usage: bench_render pdf|text|image|faxtiff IN OUT.tif [standard|fine|superfine]\n"
			"       bench_render topdf IN.tif OUT.pdf | preview IN.tif OUT.png\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	const char *cmd = argv[1], *in = argv[2], *out = argv[3], *error = NULL;
	if (strcmp(cmd, "topdf") == 0) {
		if (fax_to_pdf(in, out, &error) < 0) {
			fprintf(stderr, "bench_render: %s\n", error);
			return 1;
		}
		printf("%d\n", tiffpages_count(in, &error));
		return 0;
	}
	if (strcmp(cmd, "preview") == 0) {
		if (fax_preview_png(in, 1, out, &error) < 0) {
			fprintf(stderr, "bench_render: %s\n", error);
			return 1;
		}
		printf("1\n");
		return 0;
	}
	enum fax_res res = FAX_RES_FINE;
	if (argc > 4 && fax_res_parse(argv[4], &res) < 0)
		return usage();
	struct fax_geometry g;
	fax_geometry_get(res, FAX_PAPER_A4, 0, &g);
	struct render_options o;
	render_options_default(&o);
	struct fax_writer *w = fax_writer_create(out, &g, &error);
	if (w == NULL) {
		fprintf(stderr, "bench_render: %s\n", error);
		return 1;
	}
	int r;
	if (strcmp(cmd, "pdf") == 0) {
		r = render_pdf(w, &o, in, &error);
	} else if (strcmp(cmd, "image") == 0) {
		r = render_image(w, &o, in, &error);
	} else if (strcmp(cmd, "faxtiff") == 0) {
		r = render_fax_tiff(w, &o, in, &error);
	} else if (strcmp(cmd, "text") == 0) {
		char *text = NULL;
		gsize len = 0;
		if (!g_file_get_contents(in, &text, &len, NULL)) {
			fprintf(stderr, "bench_render: cannot read %s\n", in);
			return 1;
		}
		r = render_text(w, &o, text, len, &error);
		g_free(text);
	} else {
		fax_writer_free(&w);
		return usage();
	}
	int pages = r == 0 ? fax_writer_close(w, &error) : -1;
	fax_writer_free(&w);
	if (pages < 0) {
		fprintf(stderr, "bench_render: %s\n", error);
		return 1;
	}
	printf("%d\n", pages);
	return 0;
}
