/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Document converters: each input kind becomes fax pages appended to a fax_writer (TIFF Class F,
 * ITU-T T.4/T.6 bilevel pages, see render/faxwriter.h); received fax TIFF becomes PDF 1.4 with the
 * CCITT data embedded as-is (/CCITTFaxDecode) or a grey PNG preview. docs/rendering.md describes
 * what each input becomes and the limits.
 *
 * Every function returns 0, or -1 with a reason in *error_r: a static or thread-local text,
 * valid until the next call into this module from the same thread. Converters that add several
 * pages (text, PDF, fax TIFF, office) add all of them or none.
 */
#ifndef RENDER_CONVERT_H
#define RENDER_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

#include "render/faxwriter.h"

/* Limits (named defaults). */
#define RENDER_TIMEOUT_S_DEFAULT 60
#define RENDER_IMAGE_MAX_PIXELS (100LL * 1000 * 1000) /* declared width*height above it is refused */
#define RENDER_TEXT_FONT_DEFAULT "DejaVu Sans Mono 10"

struct render_options {
	bool halftone;	    /* X-Fax-Image-Conversion: halftone → Floyd–Steinberg, else clustered dot */
	const char *font;   /* text: default "DejaVu Sans Mono 10" */
	int timeout_s;	    /* subprocesses (gs, libreoffice): default 60 */
	const char *tmpdir; /* scratch files; NULL: g_get_tmp_dir() */
	long long image_max_pixels; /* declared width*height cap; 0: RENDER_IMAGE_MAX_PIXELS */
};
/* Every field may be left zero/NULL for its default, so `struct render_options o = {0}` works. */
void render_options_default(struct render_options *o);

/* Plain text (UTF-8, font fallback, wrapping, tabs at 8, form feed = new page) with Pango/Cairo
   straight into a CAIRO_FORMAT_A1 surface (no antialiasing), margins ~10 mm. */
int render_text(struct fax_writer *w, const struct render_options *o, const char *utf8, size_t len,
		const char **error_r);
/* PDF or PostScript via Ghostscript `tiffg4` as a subprocess: -dSAFER -dBATCH -dNOPAUSE
   -sDEVICE=tiffg4 -r204xY -g1728xROWS -dFIXEDMEDIA -dPDFFitPage (centred, fitted), no shell
   (posix_spawn/fork+execvp with an argv), a timeout (kill), stdout/stderr captured for the reason.
   Encrypted, truncated or broken PDFs fail with a clear reason (Ghostscript exits 0 on some of
   them: check the pages it produced, e.g. with pdfinfo first or by counting output pages). */
int render_pdf(struct fax_writer *w, const struct render_options *o, const char *path, const char **error_r);
/* PNG, JPEG, GIF, BMP, colour/grey TIFF via gdk-pixbuf: fit to page keeping aspect, grey
   conversion, clustered-dot 8x8 dither (default) or Floyd–Steinberg (halftone). Refuse images
   whose declared size is absurd (decompression bombs: check width*height before decoding the
   pixels — gdk_pixbuf_get_file_info — cap e.g. 100 Mpixel). */
int render_image(struct fax_writer *w, const struct render_options *o, const char *path,
		 const char **error_r);
/* The same from memory (the fuzz harness's entry; render_image reads the file and calls it). */
int render_image_data(struct fax_writer *w, const struct render_options *o, const void *data, size_t len,
		      const char **error_r);
/* A fax TIFF (bilevel): passed through raw when already 1728 wide at the writer's resolution,
   else re-scaled (e.g. 2480-wide 300 dpi scans, or fine→standard: row pairs merged) through a
   bitmap. A grey or colour TIFF goes to render_image (its first page). */
int render_fax_tiff(struct fax_writer *w, const struct render_options *o, const char *path,
		    const char **error_r);
/* Office documents and HTML (docx, xlsx, odt, rtf, doc, html) through
   `libreoffice --headless --convert-to pdf` (or `soffice`) when installed, then render_pdf;
   when LibreOffice is not installed: -1 "unsupported type: LibreOffice is not installed". Use a
   private -env:UserInstallation=file:///tmp/... profile dir per call, the timeout, no shell. */
int render_office(struct fax_writer *w, const struct render_options *o, const char *path,
		  const char **error_r);
/* True when libreoffice or soffice is on PATH. */
bool render_office_available(void);
/* By content type (and file name extension as a hint): dispatches to the above; "unsupported
   type: application/x-foo" otherwise. content_type and filename may be NULL. */
int render_file(struct fax_writer *w, const struct render_options *o, const char *path,
		const char *content_type, const char *filename, const char **error_r);
/* Received fax → PDF: the CCITT G4 (and G3) data embedded as-is (/CCITTFaxDecode with the right
   K, Columns, Rows, BlackIs1/EncodedByteAlign as needed), page size from the resolution. */
int fax_to_pdf(const char *tiff_path, const char *pdf_path, const char **error_r);
/* A PNG preview of page n (1-based) of a fax TIFF, scaled to square pixels (e.g. 100 dpi), grey. */
int fax_preview_png(const char *tiff_path, int page, const char *png_path, const char **error_r);

#endif
