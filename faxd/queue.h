/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FAXD_QUEUE_H
#define FAXD_QUEUE_H

struct config;
struct queue;

/* The queue runner of one faxd: owns the store connection and the lines. */
struct queue *queue_create(const struct config *config, const char **error_r);
void queue_free(struct queue **queuep);
/* Run until SIGTERM/SIGINT; returns the exit code. Calls in progress are hung up on stop and
   their jobs go back to the queue with the pages already confirmed. */
int queue_run(struct queue *queue);

#endif
