/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Grey to bilevel for fax pages (ITU-T T.4 pages are black and white only): an 8x8 clustered-dot
 * ordered dither (45° screen, compact and robust on thermal printers) and serpentine
 * Floyd–Steinberg error diffusion (more detail, 2-3x larger pages). research/rendering.md §5.3.
 */
#ifndef RENDER_DITHER_H
#define RENDER_DITHER_H

#include <stddef.h>
#include <stdint.h>

#include "render/faxwriter.h"

/* grey: w x h samples, 0 = black .. 255 = white, `stride` bytes per row. The result is drawn into
   page at (x0, y0), clipped to the page; pixels are only ever set black. The screen's phase is
   tied to page coordinates. */
void dither_clustered(const uint8_t *grey, int w, int h, size_t stride, struct fax_bitmap *page, int x0,
		      int y0);
void dither_floyd_steinberg(const uint8_t *grey, int w, int h, size_t stride, struct fax_bitmap *page, int x0,
			    int y0);

#endif
