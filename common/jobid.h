/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_JOBID_H
#define COMMON_JOBID_H

#include <stdbool.h>
#include <stdint.h>

/* A prefix letter and 9 Crockford base32 characters: "J0KX3M9Q4T". */
#define JOBID_LEN 10
#define JOBID_SIZE (JOBID_LEN + 1)

/* Kinds of id; the letter tells a job from a received fax or an outbox message. */
#define JOBID_PREFIX_JOB 'J'
#define JOBID_PREFIX_INBOUND 'R'
#define JOBID_PREFIX_MAIL 'M'

/* A new id: 36 bits of tenths of a second since 2025-01-01 then 9 random bits, so ids sort by
   time and are unique across hosts with high probability; the store's primary key catches the
   rare collision and the caller draws again. ms_since_epoch is wall-clock time. */
void jobid_make(char prefix, int64_t ms_since_epoch, char id_r[JOBID_SIZE]);
/* Same, at the current time. */
void jobid_new(char prefix, char id_r[JOBID_SIZE]);
/* The same shape with 45 random bits instead of the time: for records several processes create
   in bursts (profiles from a directory sync), where jobid_new's per-process counter can meet
   another process's ids in a shared tick. The caller checks the id is free. */
void jobid_random(char prefix, char id_r[JOBID_SIZE]);

/* True when text is a well-formed id; case-insensitive, and Crockford's O/I/L read as 0/1/1. */
bool jobid_valid(const char *text);
/* Canonical (upper-case, O->0, I/L->1) copy; returns -1 when not an id. */
int jobid_normalize(const char *text, char id_r[JOBID_SIZE]);

#endif
