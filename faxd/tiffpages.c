/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TIFF-F page tools: page count, page decode to a 1-bit bitmap, page compare, and a generator of
 * test documents (TIFF Class F, ITU-T T.6 "G4" coding, 1728 pixels wide, 204 dpi across and
 * 98/196/391 dpi down as ITU-T T.4 standard/fine/superfine). libtiff does the coding; this file
 * only normalises photometric interpretation (1 = black) and draws the test pages.
 */
#include "faxd/tiffpages.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>
#include <tiffio.h>

#define FAX_WIDTH 1728

int tiffpages_count(const char *path, const char **error_r)
{
	TIFF *tif = TIFFOpen(path, "r");
	if (tif == NULL) {
		*error_r = "cannot open TIFF file";
		return -1;
	}
	int n = TIFFNumberOfDirectories(tif);
	TIFFClose(tif);
	return n;
}

static int to_dpi(float v, uint16_t unit)
{
	if (v <= 0)
		return 0;
	return (int)(unit == RESUNIT_CENTIMETER ? v * 2.54f + 0.5f : v + 0.5f);
}

int tiffpages_read(const char *path, int page, struct tiffpages_bitmap **bitmap_r, const char **error_r)
{
	TIFF *tif = TIFFOpen(path, "r");
	if (tif == NULL) {
		*error_r = "cannot open TIFF file";
		return -1;
	}
	if (page < 1 || !TIFFSetDirectory(tif, (tdir_t)(page - 1))) {
		TIFFClose(tif);
		*error_r = "no such page";
		return -1;
	}
	uint32_t w = 0, h = 0;
	uint16_t bps = 1, spp = 1, photo = PHOTOMETRIC_MINISWHITE, unit = RESUNIT_INCH;
	float xres = 0, yres = 0;
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo);
	TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
	TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres);
	TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres);
	if (bps != 1 || spp != 1 || w == 0 || w > 100000 || h > 1000000) {
		TIFFClose(tif);
		*error_r = "not a bilevel page";
		return -1;
	}
	struct tiffpages_bitmap *bm = g_new0(struct tiffpages_bitmap, 1);
	bm->width = (int)w;
	bm->height = (int)h;
	bm->x_dpi = to_dpi(xres, unit);
	bm->y_dpi = to_dpi(yres, unit);
	bm->stride = (w + 7) / 8;
	bm->bits = g_malloc0(bm->stride * (h > 0 ? h : 1));
	tmsize_t sl = TIFFScanlineSize(tif);
	uint8_t *row = g_malloc0((size_t)(sl > (tmsize_t)bm->stride ? sl : (tmsize_t)bm->stride));
	for (uint32_t y = 0; y < h; y++) {
		if (TIFFReadScanline(tif, row, y, 0) < 0) {
			g_free(row);
			tiffpages_bitmap_free(&bm);
			TIFFClose(tif);
			*error_r = "cannot decode page";
			return -1;
		}
		uint8_t *dst = bm->bits + y * bm->stride;
		memcpy(dst, row, bm->stride);
		if (photo == PHOTOMETRIC_MINISBLACK)
			for (size_t i = 0; i < bm->stride; i++)
				dst[i] = (uint8_t)~dst[i];
		if (w % 8 != 0) /* padding bits are not image */
			dst[bm->stride - 1] &= (uint8_t)(0xFF << (8 - w % 8));
	}
	g_free(row);
	TIFFClose(tif);
	*bitmap_r = bm;
	return 0;
}

void tiffpages_bitmap_free(struct tiffpages_bitmap **bitmapp)
{
	struct tiffpages_bitmap *bm = *bitmapp;
	if (bm == NULL)
		return;
	*bitmapp = NULL;
	g_free(bm->bits);
	g_free(bm);
}

int tiffpages_compare(const struct tiffpages_bitmap *a, int a_skip, const struct tiffpages_bitmap *b,
		      int b_skip)
{
	int ha = a->height - a_skip, hb = b->height - b_skip;
	if (ha < 0)
		ha = 0;
	if (hb < 0)
		hb = 0;
	int common = ha < hb ? ha : hb;
	int diff = (ha > hb ? ha - hb : hb - ha);
	if (a->width != b->width)
		return diff + common;
	for (int y = 0; y < common; y++)
		if (memcmp(a->bits + (size_t)(y + a_skip) * a->stride,
			   b->bits + (size_t)(y + b_skip) * b->stride, a->stride) != 0)
			diff++;
	return diff;
}

/* ---------------------------------------------------------------------------------------- */
/* Test pages */

int tiffpages_rows(enum tiffpages_res res, enum tiffpages_paper paper)
{
	static const int rows[2][3] = {{1143, 2286, 4573}, {1078, 2156, 4301}};
	return rows[paper == TIFFPAGES_PAPER_LETTER][res <= TIFFPAGES_RES_SUPERFINE ? res : 1];
}

int tiffpages_y_dpi(enum tiffpages_res res)
{
	switch (res) {
	case TIFFPAGES_RES_STANDARD:
		return 98;
	case TIFFPAGES_RES_SUPERFINE:
		return 391;
	case TIFFPAGES_RES_FINE:
		break;
	}
	return 196;
}

/* 5x7 digits, one byte per row, bit 4 = leftmost column. */
static const uint8_t digit_font[10][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
};

static void fill_rect(uint8_t *bits, size_t stride, int rows, int x0, int y0, int w, int h)
{
	for (int y = y0; y < y0 + h && y < rows; y++) {
		if (y < 0)
			continue;
		uint8_t *r = bits + (size_t)y * stride;
		for (int x = x0; x < x0 + w && x < FAX_WIDTH; x++)
			if (x >= 0)
				r[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
	}
}

static uint32_t xorshift(uint32_t *st)
{
	uint32_t x = *st;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

static void draw_page(uint8_t *bits, size_t stride, int rows, int page, enum tiffpages_res res, uint32_t seed)
{
	/* Vertical scale so glyphs look alike at every resolution. */
	int vs = res == TIFFPAGES_RES_STANDARD ? 1 : res == TIFFPAGES_RES_FINE ? 2 : 4;
	/* The page number in big blocks, top left: 5x7 cells of 24 px across. */
	char num[12];
	snprintf(num, sizeof(num), "%d", page);
	int cell = 24;
	for (int d = 0; num[d] != '\0'; d++) {
		const uint8_t *g = digit_font[num[d] - '0'];
		for (int gy = 0; gy < 7; gy++)
			for (int gx = 0; gx < 5; gx++)
				if (g[gy] & (0x10 >> gx))
					fill_rect(bits, stride, rows, 120 + d * 6 * cell + gx * cell,
						  40 * vs + gy * cell * vs / 2, cell, cell * vs / 2);
	}
	/* Pseudo-text: lines of words made of letter-sized strokes. */
	uint32_t st = seed * 2654435761u ^ (uint32_t)page * 40503u ^ 0x9E3779B9u;
	if (st == 0)
		st = 1;
	int line_h = 12 * vs, pitch = 22 * vs;
	for (int y = 40 * vs + 9 * cell * vs / 2; y + line_h < rows - 30 * vs; y += pitch) {
		if (xorshift(&st) % 7 == 0) /* paragraph gap */
			continue;
		int x = 120;
		int right = 1608 - (int)(xorshift(&st) % 400);
		while (x < right) {
			int letters = 2 + (int)(xorshift(&st) % 8);
			for (int l = 0; l < letters && x < right; l++) {
				int lw = 6 + (int)(xorshift(&st) % 6);
				uint32_t shape = xorshift(&st);
				/* a letter: a stem, a bar at top, middle or bottom */
				fill_rect(bits, stride, rows, x, y + (shape & 1 ? 0 : line_h / 3), 2,
					  line_h - (shape & 1 ? 0 : line_h / 3));
				fill_rect(bits, stride, rows, x,
					  y + (int)((shape >> 1) % 3) * (line_h - vs) / 2, lw, vs);
				if (shape & 8)
					fill_rect(bits, stride, rows, x + lw - 2, y + line_h / 3, 2,
						  line_h - line_h / 3);
				x += lw + 3;
			}
			x += 14;
		}
	}
}

int tiffpages_write_test(const char *path, int pages, enum tiffpages_res res, enum tiffpages_paper paper,
			 uint32_t seed, const char **error_r)
{
	if (pages < 1 || pages > 10000) {
		*error_r = "page count out of range";
		return -1;
	}
	TIFF *tif = TIFFOpen(path, "w");
	if (tif == NULL) {
		*error_r = "cannot create TIFF file";
		return -1;
	}
	int rows = tiffpages_rows(res, paper);
	size_t stride = FAX_WIDTH / 8;
	uint8_t *bits = g_malloc(stride * (size_t)rows);
	int ret = 0;
	for (int p = 1; p <= pages && ret == 0; p++) {
		memset(bits, 0, stride * (size_t)rows);
		draw_page(bits, stride, rows, p, res, seed);
		TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
		TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, FAX_WIDTH);
		TIFFSetField(tif, TIFFTAG_IMAGELENGTH, rows);
		TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
		TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
		TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
		TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
		TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows);
		TIFFSetField(tif, TIFFTAG_XRESOLUTION, 204.0f);
		TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)tiffpages_y_dpi(res));
		TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
		TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)(p - 1), (uint16_t)pages);
		TIFFSetField(tif, TIFFTAG_SOFTWARE, "faxgate tiffpages");
		for (int y = 0; y < rows; y++) {
			if (TIFFWriteScanline(tif, bits + (size_t)y * stride, (uint32_t)y, 0) < 0) {
				*error_r = "cannot write TIFF row";
				ret = -1;
				break;
			}
		}
		if (ret == 0 && !TIFFWriteDirectory(tif)) {
			*error_r = "cannot write TIFF directory";
			ret = -1;
		}
	}
	g_free(bits);
	TIFFClose(tif);
	return ret;
}
