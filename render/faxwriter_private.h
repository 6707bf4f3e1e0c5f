/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Page writer internals shared with the converters (render/convert.c), not part of its API:
 * appending TIFF Class F pages from a producer we trust (Ghostscript's tiffg4 output, our own
 * staging files) without decoding them first.
 */
#ifndef RENDER_FAXWRITER_PRIVATE_H
#define RENDER_FAXWRITER_PRIVATE_H

#include <stdbool.h>

#include "render/faxwriter.h"

/* fax_writer_add_tiff; with trusted, single-strip G3/G4 pages are copied after a check of their
   tags only (no decode; about 2 ms per fine page saved) unless blank pages are to be dropped. */
int fax_writer_add_tiff_from(struct fax_writer *w, const char *path, bool trusted, const char **error_r);

#endif
