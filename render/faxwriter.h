/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fax page writer: every rendered page goes through it into one multi-page TIFF Class F file
 * (TIFF 6.0 §11 / RFC 3949 profile F): bilevel, ITU-T T.6 (G4) coded, exactly 1728 pixels wide
 * (ITU-T T.4 §2.2 at 204 dpi, 215 mm), X/YResolution in inches, one strip per page, PageNumber
 * n/total fixed when the file is closed. Page geometry per research/rendering.md §6 (spandsp's
 * T4_LENGTH_* rows) and research/spandsp.md §7 (spandsp neither scales nor guesses).
 */
#ifndef RENDER_FAXWRITER_H
#define RENDER_FAXWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fax_res { FAX_RES_STD, FAX_RES_FINE, FAX_RES_SUPER }; /* 204x98, 204x196, 204x391 */
enum fax_paper { FAX_PAPER_A4, FAX_PAPER_LETTER, FAX_PAPER_LEGAL };
#define FAX_WIDTH 1728

struct fax_geometry {
	enum fax_res res;
	enum fax_paper paper;
	int width;	  /* always FAX_WIDTH */
	int rows;	  /* rows of a rendered page, header_rows already taken off */
	int x_dpi, y_dpi; /* 204 x 98/196/391 */
};

/* Rows per page per research/rendering.md (A4 1143/2286/4573, Letter 1078/2156/4301, Legal
   1369/2738/5476, spandsp's T4_LENGTH_*_US_LEGAL); header_rows: rows the T.30 header line will
   add (spandsp adds 32 at fine) are taken off so the sent page keeps its paper length. */
void fax_geometry_get(enum fax_res res, enum fax_paper paper, int header_rows, struct fax_geometry *g_r);
/* "standard|fine|superfine" (also "std", "super"); 0 or -1. */
int fax_res_parse(const char *name, enum fax_res *res_r);
/* "a4|letter|legal", case-insensitive; 0 or -1. */
int fax_paper_parse(const char *name, enum fax_paper *paper_r);

/* A 1-bit page: rows of `width` bits, MSB first, 1 = black. */
struct fax_bitmap {
	int width, height;
	size_t stride;
	uint8_t *bits;
};
/* A white page; NULL when the size is out of range or memory runs out. */
struct fax_bitmap *fax_bitmap_new(int width, int height);
void fax_bitmap_free(struct fax_bitmap **bp);
/* True when at most max_black_fraction of the pixels are black (e.g. 0.0005). */
bool fax_bitmap_blank(const struct fax_bitmap *b, double max_black_fraction);

struct fax_writer;
/* A multi-page TIFF-F (G4, 1728 wide, X/YResolution in inches, PageNumber n/total fixed at close).
   Error texts from this module are static or thread-local: valid until the next call into the
   module from the same thread. path should be a regular file: an unfinished one is removed on
   failure or free; anything else (a device) is never removed. */
struct fax_writer *fax_writer_create(const char *path, const struct fax_geometry *g, const char **error_r);
/* Append one page; it must be FAX_WIDTH wide; any height (1..32768) is kept as is. */
int fax_writer_add_bitmap(struct fax_writer *w, const struct fax_bitmap *page, const char **error_r);
/* Append every page of an existing TIFF-F file already at the writer's geometry (raw strips copied
   when G3/G4 in one strip and they decode cleanly, else re-encoded). All or nothing: every page
   is checked (bilevel, 1728 wide, resolution within 5 %, decodable, room under max pages) before
   the first is appended. With drop_blank, blank pages are skipped. */
int fax_writer_add_tiff(struct fax_writer *w, const char *path, const char **error_r);
int fax_writer_pages(const struct fax_writer *w);
/* The geometry given at create (borrowed, valid until free). */
const struct fax_geometry *fax_writer_geometry(const struct fax_writer *w);
void fax_writer_set_max_pages(struct fax_writer *w, int max); /* adding past it fails: "more than N pages" */
int fax_writer_max_pages(const struct fax_writer *w);	      /* 0 = no limit */
void fax_writer_set_drop_blank(struct fax_writer *w, bool drop); /* blank bitmaps are skipped */
/* Close and check; returns pages written or -1. free accepts NULL and clears. */
int fax_writer_close(struct fax_writer *w, const char **error_r);
void fax_writer_free(struct fax_writer **wp);

#endif
