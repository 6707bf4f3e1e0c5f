/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_MAILDIR_H
#define SMTPGW_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>

/* Deliver msg into the Maildir dir (dir/tmp, dir/new, dir/cur created when missing): written and
   fsynced in tmp/ under a unique name, then linked into new/ and the directory synced, so a reader
   never sees a partial message and a crash leaves none behind in new/. *name_r (g_free) is the file
   name in new/. 0, or -1 with *error_r and *temporary_r (true for ENOSPC, EIO, EDQUOT...; false
   when the Maildir can never be written, e.g. a file where a directory should be). */
int maildir_deliver(const char *dir, const void *msg, size_t len, char **name_r, bool *temporary_r,
		    const char **error_r);

#endif
