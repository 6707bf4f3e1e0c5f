/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Grey to bilevel: clustered-dot 8x8 ordered dither and Floyd–Steinberg error diffusion
 * (research/rendering.md §5.3: clustered dot gives ~177 KB/page of T.6 data against ~622 KB for
 * FS on a full-page photo, i.e. ~100 s against ~345 s of line time at 14.4 kbit/s).
 *
 * The clustered-dot matrix ranks the 64 cells of an 8x8 tile by the spot function
 * cos(2πx/8) + cos(2πy/8): dots grow from the tile corners and holes shrink around its centre,
 * which is a 45° screen of period 8/√2 px (~36 lines per inch at 204 dpi). At 204x98 the pixels
 * are twice as tall as wide, so the dots come out stretched; that was judged acceptable.
 */
#include "render/dither.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline void set_black(struct fax_bitmap *page, int x, int y)
{
	page->bits[(size_t)y * page->stride + (size_t)(x >> 3)] |= (uint8_t)(0x80 >> (x & 7));
}

struct cell {
	double spot;
	int index;
};

static int by_spot(const void *a, const void *b)
{
	const struct cell *ca = a, *cb = b;
	if (ca->spot != cb->spot)
		return ca->spot > cb->spot ? -1 : 1;
	return ca->index - cb->index;
}

/* threshold[y][x] in 1..255: a pixel is black when its grey value is below it. */
static uint8_t threshold[8][8];

static gpointer make_matrix(gpointer unused)
{
	(void)unused;
	struct cell cells[64];
	for (int i = 0; i < 64; i++) {
		int x = i % 8, y = i / 8;
		/* Rotated coordinates: two dots per tile, at (0,0) and (4,4). */
		double fu = 2 * M_PI * (x + y + 1) / 8, fv = 2 * M_PI * (x - y) / 8;
		/* The tiny second term breaks the ties so that dots grow evenly, one step each. */
		cells[i].spot = cos(fu) + cos(fv) + 1e-6 * (double)((i * 37) % 64);
		cells[i].index = i;
	}
	qsort(cells, 64, sizeof(cells[0]), by_spot);
	/* cells[0] turns black first, i.e. has the highest threshold. */
	for (int r = 0; r < 64; r++) {
		int t = (int)lround((63.5 - r) * 4.0);
		threshold[cells[r].index / 8][cells[r].index % 8] = (uint8_t)CLAMP(t, 1, 255);
	}
	return NULL;
}

void dither_clustered(const uint8_t *grey, int w, int h, size_t stride, struct fax_bitmap *page, int x0,
		      int y0)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, make_matrix, NULL);
	for (int y = 0; y < h; y++) {
		int py = y0 + y;
		if (py < 0 || py >= page->height)
			continue;
		const uint8_t *row = grey + (size_t)y * stride;
		const uint8_t *t = threshold[py & 7];
		for (int x = 0; x < w; x++) {
			int px = x0 + x;
			if (px < 0 || px >= page->width)
				continue;
			if (row[x] < t[px & 7])
				set_black(page, px, py);
		}
	}
}

void dither_floyd_steinberg(const uint8_t *grey, int w, int h, size_t stride, struct fax_bitmap *page, int x0,
			    int y0)
{
	/* Errors in 1/16 units, with a guard cell at each end. */
	int *cur = g_new0(int, (gsize)w + 2), *next = g_new0(int, (gsize)w + 2);
	for (int y = 0; y < h; y++) {
		const uint8_t *row = grey + (size_t)y * stride;
		bool ltr = (y & 1) == 0;
		int py = y0 + y;
		memset(next, 0, sizeof(int) * ((size_t)w + 2));
		for (int i = 0; i < w; i++) {
			int x = ltr ? i : w - 1 - i, d = ltr ? 1 : -1;
			int v = row[x] + cur[x + 1] / 16;
			int out = v < 128 ? 0 : 255;
			int err = v - out;
			if (out == 0 && py >= 0 && py < page->height && x0 + x >= 0 && x0 + x < page->width)
				set_black(page, x0 + x, py);
			cur[x + 1 + d] += err * 7;
			next[x + 1 - d] += err * 3;
			next[x + 1] += err * 5;
			next[x + 1 + d] += err * 1;
		}
		int *tmp = cur;
		cur = next;
		next = tmp;
	}
	g_free(cur);
	g_free(next);
}
