/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxpixels FILE.tiff...: one line per page of each bilevel TIFF, "WIDTHxHEIGHT CHECKSUM", the
 * checksum over the rows with 1 = black whatever the file's photometric interpretation and
 * compression: so a fax page and the same page pulled out of a PDF (pdfimages -tiff) compare equal.
 */
#include <glib.h>
#include <stdio.h>
#include <tiffio.h>

static int print_page(TIFF *tif)
{
	uint32_t w = 0, h = 0;
	uint16_t bps = 1, photometric = PHOTOMETRIC_MINISWHITE;
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
	if (bps != 1) {
		fprintf(stderr, "faxpixels: not bilevel\n");
		return -1;
	}
	tsize_t len = TIFFScanlineSize(tif);
	guchar *row = g_malloc(len);
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	int ret = 0;
	for (uint32_t y = 0; y < h && ret == 0; y++) {
		ret = TIFFReadScanline(tif, row, y, 0) < 0 ? -1 : 0;
		for (tsize_t i = 0; i < len && photometric == PHOTOMETRIC_MINISBLACK; i++)
			row[i] = (guchar)~row[i];
		if (w % 8 != 0)
			row[len - 1] &= (guchar)(0xff << (8 - w % 8));
		g_checksum_update(sum, row, len);
	}
	printf("%ux%u %s\n", w, h, g_checksum_get_string(sum));
	g_checksum_free(sum);
	g_free(row);
	return ret;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		TIFF *tif = TIFFOpen(argv[i], "r");
		if (tif == NULL)
			return 1;
		do {
			if (print_page(tif) < 0)
				return 1;
		} while (TIFFReadDirectory(tif));
		TIFFClose(tif);
	}
	return 0;
}
