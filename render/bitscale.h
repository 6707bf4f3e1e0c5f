/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Area-coverage resampling of bilevel fax images (ITU-T T.4 pages decoded to 1 bit per pixel):
 * each destination pixel gets the fraction of its source area that is black. The converters
 * threshold it to re-scale a fax page (300 dpi scans, fine to standard) and shade it to grey for
 * previews.
 */
#ifndef RENDER_BITSCALE_H
#define RENDER_BITSCALE_H

#include <stddef.h>
#include <stdint.h>

/* Source: sw x sh pixels, MSB first, 1 = black, `stride` bytes per row; destination dw x dh.
   row_fn is called once per destination row, top to bottom, with dw coverages in 0..1 (borrowed
   for the call). */
void bitscale_rows(const uint8_t *bits, size_t stride, int sw, int sh, int dw, int dh,
		   void (*row_fn)(int dy, const float *coverage, void *ctx), void *ctx);

#endif
