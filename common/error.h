/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_ERROR_H
#define COMMON_ERROR_H

#include <glib.h>

/* Error messages of library code that returns them through `const char **error_r`: formatted
   into a per-thread ring of buffers and made printable ASCII (they end up in SMTP replies, job
   results and logs). A message stays valid until the same thread has set ERROR_RING more. */
#define ERROR_RING 4
#define ERROR_MAX 512

/* Sets *error_r (when not NULL) and returns -1. */
int error_set(const char **error_r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Returns the message. */
const char *error_format(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif
