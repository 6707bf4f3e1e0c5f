/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Test helper shared by the render unit tests: write decoded fax pages back as TIFF Class F
 * variants other programs produce (TIFF 6.0 §11 / RFC 3949): G3 1-D/2-D with EOL fill bits and
 * FillOrder 2 (spandsp 0.0.6's receive format), MinIsBlack G4, many strips per page,
 * uncompressed, without resolution tags.
 */
#ifndef TESTS_RENDER_TIFFVARIANT_H
#define TESTS_RENDER_TIFFVARIANT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "faxd/tiffpages.h"

struct tiffvariant {
	uint16_t compression;	 /* COMPRESSION_CCITTFAX4, _CCITTFAX3, _NONE, _LZW... */
	uint32_t g3opts;	 /* GROUP3OPT_* for G3 */
	uint16_t fill;		 /* FILLORDER_MSB2LSB or _LSB2MSB */
	uint16_t photometric;	 /* PHOTOMETRIC_MINISWHITE or _MINISBLACK */
	uint32_t rows_per_strip; /* 0: one strip per page */
	bool no_resolution;
};

/* Pages are 1 = black bitmaps (tiffpages_read); their x_dpi/y_dpi go into the tags. 0 or -1. */
static inline int tiffvariant_write(const char *path, struct tiffpages_bitmap *const *pages, int n,
				    const struct tiffvariant *v)
{
	TIFF *t = TIFFOpen(path, "w");
	if (t == NULL)
		return -1;
	for (int p = 0; p < n; p++) {
		const struct tiffpages_bitmap *b = pages[p];
		TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
		TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)b->width);
		TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)b->height);
		TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(t, TIFFTAG_COMPRESSION, v->compression);
		if (v->compression == COMPRESSION_CCITTFAX3)
			TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, v->g3opts);
		TIFFSetField(t, TIFFTAG_PHOTOMETRIC, v->photometric);
		TIFFSetField(t, TIFFTAG_FILLORDER, v->fill ? v->fill : FILLORDER_MSB2LSB);
		TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
		if (!v->no_resolution) {
			TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)b->x_dpi);
			TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)b->y_dpi);
			TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
		}
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP,
			     v->rows_per_strip ? v->rows_per_strip : (uint32_t)b->height);
		TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)p, (uint16_t)n);
		uint8_t *row = malloc(b->stride);
		for (int y = 0; y < b->height; y++) {
			memcpy(row, b->bits + (size_t)y * b->stride, b->stride);
			if (v->photometric == PHOTOMETRIC_MINISBLACK)
				for (size_t i = 0; i < b->stride; i++)
					row[i] = (uint8_t)~row[i];
			if (TIFFWriteScanline(t, row, (uint32_t)y, 0) < 0) {
				free(row);
				TIFFClose(t);
				return -1;
			}
		}
		free(row);
		if (!TIFFWriteDirectory(t)) {
			TIFFClose(t);
			return -1;
		}
	}
	TIFFClose(t);
	return 0;
}

/* A white page of w x h at the given resolution (free with tiffpages_bitmap_free). */
static inline struct tiffpages_bitmap *tiffvariant_page(int w, int h, int x_dpi, int y_dpi)
{
	struct tiffpages_bitmap *b = calloc(1, sizeof(*b));
	b->width = w;
	b->height = h;
	b->x_dpi = x_dpi;
	b->y_dpi = y_dpi;
	b->stride = ((size_t)w + 7) / 8;
	b->bits = calloc(b->stride, (size_t)h);
	return b;
}

static inline void tiffvariant_fill(struct tiffpages_bitmap *b, int x0, int y0, int x1, int y1)
{
	for (int y = y0; y < y1 && y < b->height; y++)
		for (int x = x0; x < x1 && x < b->width; x++)
			b->bits[(size_t)y * b->stride + (size_t)(x >> 3)] |= (uint8_t)(0x80 >> (x & 7));
}

#endif
