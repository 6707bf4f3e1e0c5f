/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Separable box-filter resampling of 1-bit images (ITU-T T.4/T.6 pages after decoding): every
 * destination pixel covers a rectangle of the source; the fraction of black in it is the sum of
 * the source pixels it overlaps, weighted by overlap. Horizontal coverage is computed once per
 * source row (all-white rows are skipped, most of a fax page), then rows are blended.
 */
#include "render/bitscale.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

struct tap {
	int first, count; /* into src/weights */
};

/* For each destination index, the source indexes it overlaps and their weights (summing to 1). */
static void make_taps(int sn, int dn, struct tap *taps, int **src_r, float **w_r)
{
	double step = (double)sn / dn;
	size_t cap = (size_t)sn + 2 * (size_t)dn + 4, n = 0;
	int *src = g_new(int, cap);
	float *w = g_new(float, cap);
	for (int d = 0; d < dn; d++) {
		double a = d * step, b = (d + 1) * step;
		int i0 = (int)a, i1 = (int)b;
		if (i1 >= sn)
			i1 = sn - 1;
		taps[d].first = (int)n;
		for (int i = i0; i <= i1 && i < sn; i++) {
			double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
			if (hi <= lo)
				continue;
			if (n == cap) {
				cap *= 2;
				src = g_renew(int, src, cap);
				w = g_renew(float, w, cap);
			}
			src[n] = i;
			w[n] = (float)((hi - lo) / step);
			n++;
		}
		taps[d].count = (int)n - taps[d].first;
	}
	*src_r = src;
	*w_r = w;
}

static bool row_white(const uint8_t *row, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		if (row[i])
			return false;
	return true;
}

void bitscale_rows(const uint8_t *bits, size_t stride, int sw, int sh, int dw, int dh,
		   void (*row_fn)(int dy, const float *coverage, void *ctx), void *ctx)
{
	if (sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0)
		return;
	struct tap *xt = g_new(struct tap, (gsize)dw), *yt = g_new(struct tap, (gsize)dh);
	int *xs, *ys;
	float *xw, *yw;
	make_taps(sw, dw, xt, &xs, &xw);
	make_taps(sh, dh, yt, &ys, &yw);
	float *hcov = g_new(float, (gsize)dw), *acc = g_new(float, (gsize)dw);
	int cached = -1;
	bool cached_white = true;
	size_t row_bytes = ((size_t)sw + 7) / 8;
	for (int dy = 0; dy < dh; dy++) {
		memset(acc, 0, sizeof(float) * (size_t)dw);
		for (int k = 0; k < yt[dy].count; k++) {
			int sy = ys[yt[dy].first + k];
			float wy = yw[yt[dy].first + k];
			const uint8_t *row = bits + (size_t)sy * stride;
			if (sy != cached) {
				cached = sy;
				cached_white = row_white(row, row_bytes);
				if (!cached_white)
					for (int dx = 0; dx < dw; dx++) {
						float c = 0;
						for (int j = 0; j < xt[dx].count; j++) {
							int sx = xs[xt[dx].first + j];
							if (row[sx >> 3] & (0x80 >> (sx & 7)))
								c += xw[xt[dx].first + j];
						}
						hcov[dx] = c;
					}
			}
			if (!cached_white)
				for (int dx = 0; dx < dw; dx++)
					acc[dx] += wy * hcov[dx];
		}
		row_fn(dy, acc, ctx);
	}
	g_free(xt);
	g_free(yt);
	g_free(xs);
	g_free(xw);
	g_free(ys);
	g_free(yw);
	g_free(hcov);
	g_free(acc);
}
