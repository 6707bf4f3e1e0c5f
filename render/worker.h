/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef RENDER_WORKER_H
#define RENDER_WORKER_H

struct config;
struct worker;

/* The render daemon: takes jobs in `rendering`, converts each in a child process, stores the
   pages and queues the job (or fails it with the reason). bin_path: this program, exec'd as
   `render convert DIR` for each job. */
struct worker *worker_create(const struct config *config, const char *bin_path, const char **error_r);
void worker_free(struct worker **workerp);
int worker_run(struct worker *worker);

#endif
