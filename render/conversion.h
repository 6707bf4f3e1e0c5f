/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef RENDER_CONVERSION_H
#define RENDER_CONVERSION_H

/* One job's conversion, run in its own unprivileged, rlimited process (`render convert DIR`):
   DIR/job.ini (settings and cover fields) and DIR/message.eml in; DIR/pages.tiff (cover first)
   and DIR/result.ini out. Returns the process exit code: 0 done, 65 the message cannot be
   faxed (result.ini says which part and why), 75 a temporary problem. */
int conversion_run(const char *dir);

#endif
