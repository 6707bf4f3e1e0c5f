/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_SIGNALS_H
#define COMMON_SIGNALS_H

/* Block SIGTERM, SIGINT and SIGHUP (and ignore SIGPIPE) in the calling thread — call it before
   any thread starts, threads inherit the mask — and return a non-blocking signalfd that delivers
   them to the main loop, or -1. */
int signals_block_fd(void);

#endif
