/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

/* Longest peer-supplied text kept in one log field. */
#define LOG_PEER_TEXT_MAX 200

/* foreground: lines go to stderr; else to syslog (facility mail). */
void log_open(const char *progname, bool foreground);
/* For the programs `faxgate` starts: syslog when $FAXGATE_LOG is "syslog" (the supervisor runs
   detached: `faxgate start`), else stderr. */
void log_open_child(const char *progname);
void log_set_level(enum log_level level);
int log_level_parse(const char *name, enum log_level *level_r);

/* One line "JOBID: text"; job_id may be NULL for process-wide messages. */
void log_job(enum log_level level, const char *job_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_jobv(enum log_level level, const char *job_id, const char *fmt, va_list ap);

#define log_debug(...) log_job(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_job(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_warning(...) log_job(LOG_LEVEL_WARNING, NULL, __VA_ARGS__)
#define log_error(...) log_job(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)

/* Print "fatal: ..." and exit(1): for a process that cannot go on (bad config, no store). */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Copy untrusted text into buf (size > 4) made printable: control and non-ASCII bytes become
   '?', a double quote or backslash is escaped, and text longer than fits ends in "...".
   Returns buf. */
char *log_printable(char *buf, size_t bufsize, const char *text, size_t len);

#endif
