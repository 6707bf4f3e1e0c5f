/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Joining TIFF Class F files (RFC 3949 profile F / TIFF 6.0 §11) page by page, copying the coded
 * strips raw as `tiffcp` does, after checking that each page is one spandsp can send: 1 bit per
 * sample, exactly 1728 pixels wide, X/Y resolution present (research/spandsp.md §7: spandsp
 * neither scales nor guesses).
 */
#include "faxctl/tiffcat.h"

#include <glib.h>
#include <stdint.h>
#include <tiffio.h>

static void quiet(const char *module, const char *fmt, va_list ap)
{
	(void)module;
	(void)fmt;
	(void)ap;
}

static int check_page(TIFF *in, const char *name, int page, char **error_r)
{
	uint32_t width = 0;
	uint16_t bps = 1, spp = 1;
	float xres = 0, yres = 0;
	TIFFGetField(in, TIFFTAG_IMAGEWIDTH, &width);
	TIFFGetFieldDefaulted(in, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(in, TIFFTAG_SAMPLESPERPIXEL, &spp);
	if (bps != 1 || spp != 1) {
		*error_r = g_strdup_printf("%s page %d is not black and white (%u bits x %u samples)", name, page, bps, spp);
		return -1;
	}
	if (width != 1728) {
		*error_r = g_strdup_printf("%s page %d is %u pixels wide; a fax page is 1728", name, page, width);
		return -1;
	}
	if (!TIFFGetField(in, TIFFTAG_XRESOLUTION, &xres) || !TIFFGetField(in, TIFFTAG_YRESOLUTION, &yres) ||
	    xres <= 0 || yres <= 0) {
		*error_r = g_strdup_printf("%s page %d has no resolution", name, page);
		return -1;
	}
	return 0;
}

static void copy_tags(TIFF *in, TIFF *out, int page)
{
	uint32_t u32;
	uint16_t u16;
	float f;
	static const uint32_t u32_tags[] = {TIFFTAG_IMAGEWIDTH, TIFFTAG_IMAGELENGTH, TIFFTAG_ROWSPERSTRIP,
					    TIFFTAG_GROUP3OPTIONS, TIFFTAG_GROUP4OPTIONS};
	static const uint16_t u16_tags[] = {TIFFTAG_BITSPERSAMPLE, TIFFTAG_SAMPLESPERPIXEL, TIFFTAG_COMPRESSION,
					    TIFFTAG_PHOTOMETRIC, TIFFTAG_FILLORDER, TIFFTAG_RESOLUTIONUNIT};
	for (size_t i = 0; i < G_N_ELEMENTS(u32_tags); i++)
		if (TIFFGetField(in, u32_tags[i], &u32))
			TIFFSetField(out, u32_tags[i], u32);
	for (size_t i = 0; i < G_N_ELEMENTS(u16_tags); i++)
		if (TIFFGetField(in, u16_tags[i], &u16))
			TIFFSetField(out, u16_tags[i], u16);
	if (TIFFGetField(in, TIFFTAG_XRESOLUTION, &f))
		TIFFSetField(out, TIFFTAG_XRESOLUTION, f);
	if (TIFFGetField(in, TIFFTAG_YRESOLUTION, &f))
		TIFFSetField(out, TIFFTAG_YRESOLUTION, f);
	TIFFSetField(out, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
	TIFFSetField(out, TIFFTAG_PAGENUMBER, (uint16_t)page, (uint16_t)0);
}

static int copy_strips(TIFF *in, TIFF *out)
{
	tmsize_t cap = 0;
	uint8_t *buf = NULL;
	int ret = 0;
	for (tstrip_t s = 0; s < TIFFNumberOfStrips(in) && ret == 0; s++) {
		uint64_t *sizes = NULL;
		TIFFGetField(in, TIFFTAG_STRIPBYTECOUNTS, &sizes);
		tmsize_t size = sizes ? (tmsize_t)sizes[s] : 0;
		if (size > cap)
			buf = g_realloc(buf, (gsize)(cap = size));
		tmsize_t got = TIFFReadRawStrip(in, s, buf, size);
		if (got < 0 || TIFFWriteRawStrip(out, s, buf, got) < 0)
			ret = -1;
	}
	g_free(buf);
	return ret;
}

int tiffcat(const char *const *inputs, int n_inputs, const char *out_path, char **error_r)
{
	TIFFErrorHandler old_err = TIFFSetErrorHandler(quiet), old_warn = TIFFSetWarningHandler(quiet);
	TIFF *out = TIFFOpen(out_path, "w");
	int pages = 0, ret = out ? 0 : -1;
	if (out == NULL)
		*error_r = g_strdup_printf("cannot write %s", out_path);
	for (int i = 0; ret == 0 && i < n_inputs; i++) {
		TIFF *in = TIFFOpen(inputs[i], "r");
		if (in == NULL) {
			*error_r = g_strdup_printf("%s is not a readable TIFF file", inputs[i]);
			ret = -1;
			break;
		}
		int page = 0;
		do {
			page++;
			if (check_page(in, inputs[i], page, error_r) < 0) {
				ret = -1;
				break;
			}
			copy_tags(in, out, pages + 1);
			if (copy_strips(in, out) < 0 || !TIFFWriteDirectory(out)) {
				*error_r = g_strdup_printf("%s page %d cannot be copied", inputs[i], page);
				ret = -1;
				break;
			}
			pages++;
		} while (TIFFReadDirectory(in));
		TIFFClose(in);
	}
	if (out != NULL)
		TIFFClose(out);
	TIFFSetErrorHandler(old_err);
	TIFFSetWarningHandler(old_warn);
	return ret < 0 ? -1 : pages;
}
