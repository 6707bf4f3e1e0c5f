/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * TIFF-F page tools (TIFF Class F: bilevel, ITU-T T.4/T.6 coded pages): count pages, decode one
 * page into a bitmap, compare two pages (optionally skipping the rows a T.30 page header line
 * added), and synthesise distinguishable test pages. Used by tests, the loop line, mkfaxtiff and
 * the benchmark. libtiff does the coding.
 */
#ifndef FAXD_TIFFPAGES_H
#define FAXD_TIFFPAGES_H

#include <stddef.h>
#include <stdint.h>

/* Rows spandsp adds for a page header line at fine resolution (research/spandsp.md §7). */
#define TIFFPAGES_HEADER_ROWS_FINE 32

/* One decoded page: 1 bit per pixel, MSB first, 1 = black, whatever the file's photometric and
   fill order. */
struct tiffpages_bitmap {
	int width, height;
	int x_dpi, y_dpi;
	size_t stride; /* bytes per row */
	uint8_t *bits;
};

/* Pages in the file, or -1 with *error_r (static text). */
int tiffpages_count(const char *path, const char **error_r);
/* Decode page `page` (1-based). Returns 0 and *bitmap_r (free with tiffpages_bitmap_free) or -1. */
int tiffpages_read(const char *path, int page, struct tiffpages_bitmap **bitmap_r, const char **error_r);
void tiffpages_bitmap_free(struct tiffpages_bitmap **bitmapp);
/* Compare a from row a_skip with b from row b_skip (e.g. TIFFPAGES_HEADER_ROWS_FINE for a page
   received with a header line). Returns the number of rows that differ, counting the rows one has
   beyond the other; 0 = identical image. */
int tiffpages_compare(const struct tiffpages_bitmap *a, int a_skip, const struct tiffpages_bitmap *b,
		      int b_skip);

enum tiffpages_res { TIFFPAGES_RES_STANDARD, TIFFPAGES_RES_FINE, TIFFPAGES_RES_SUPERFINE };
enum tiffpages_paper { TIFFPAGES_PAPER_A4, TIFFPAGES_PAPER_LETTER };

/* Rows of a full page: A4 1143/2286/4573, Letter 1078/2156/4301 (spandsp's lengths). */
int tiffpages_rows(enum tiffpages_res res, enum tiffpages_paper paper);
/* Y resolution in dpi: 98, 196, 391 (X is always 204). */
int tiffpages_y_dpi(enum tiffpages_res res);

/* Write a multi-page TIFF-F test document: G4, 1728 wide, rows for paper/resolution, X/Y
   resolution in inches, PageNumber, one strip per page. Each page shows its number in big
   blocks and pseudo-text strokes drawn from (seed, page), so pages differ from one another and
   from other seeds. Returns 0 or -1 with *error_r. */
int tiffpages_write_test(const char *path, int pages, enum tiffpages_res res, enum tiffpages_paper paper,
			 uint32_t seed, const char **error_r);

#endif
