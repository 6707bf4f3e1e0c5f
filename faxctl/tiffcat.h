/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FAXCTL_TIFFCAT_H
#define FAXCTL_TIFFCAT_H

/* Join the pages of several TIFF-F files into one multi-page file at out, copying each page's
   coded strips as they are (no re-encoding). Every page must be a fax page: bilevel, 1728 pixels
   wide, with a resolution; otherwise -1 and *error_r says which page of which file and why
   (g_free it). Returns the number of pages. */
int tiffcat(const char *const *inputs, int n_inputs, const char *out, char **error_r);

#endif
