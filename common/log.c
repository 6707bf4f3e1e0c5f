/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Logging in the Postfix style: one line per event, the job id first, then key=value fields,
 * to stderr when a program runs in the foreground and to syslog (facility mail) otherwise.
 * Text that came from a peer goes through log_printable() first (Postfix printable()).
 */
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_progname = "faxgate";
static bool log_foreground = true;
static enum log_level log_min_level = LOG_LEVEL_INFO;

void log_open(const char *progname, bool foreground)
{
	log_progname = progname;
	log_foreground = foreground;
	if (!foreground)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_open_child(const char *progname)
{
	const char *mode = getenv("FAXGATE_LOG");
	log_open(progname, mode == NULL || strcmp(mode, "syslog") != 0);
}

void log_set_level(enum log_level level)
{
	log_min_level = level;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	static const char *const names[] = {"debug", "info", "warning", "error"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG: return LOG_DEBUG;
	case LOG_LEVEL_INFO: return LOG_INFO;
	case LOG_LEVEL_WARNING: return LOG_WARNING;
	case LOG_LEVEL_ERROR: break;
	}
	return LOG_ERR;
}

void log_jobv(enum log_level level, const char *job_id, const char *fmt, va_list ap)
{
	char text[2048];
	if (level < log_min_level)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (!log_foreground) {
		syslog(syslog_priority(level), "%s%s%s", job_id ? job_id : "", job_id ? ": " : "", text);
		return;
	}
	char stamp[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line so lines of concurrent processes do not interleave. */
	fprintf(stderr, "%s.%03ld %s[%ld]: %s%s%s%s\n", stamp, now.tv_nsec / 1000000, log_progname,
		(long)getpid(), level >= LOG_LEVEL_WARNING ? (level == LOG_LEVEL_ERROR ? "error: " : "warning: ") : "",
		job_id ? job_id : "", job_id ? ": " : "", text);
}

void log_job(enum log_level level, const char *job_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_jobv(level, job_id, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!log_foreground)
		syslog(LOG_CRIT, "fatal: %s", text);
	fprintf(stderr, "%s: fatal: %s\n", log_progname, text);
	exit(1);
}

char *log_printable(char *buf, size_t bufsize, const char *text, size_t len)
{
	size_t out = 0;
	const size_t room = bufsize - 4; /* keep space for "..." and NUL */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		bool escape = c == '"' || c == '\\';
		if (out + (escape ? 2 : 1) > room) {
			memcpy(buf + out, "...", 4);
			return buf;
		}
		if (escape)
			buf[out++] = '\\';
		buf[out++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[out] = '\0';
	return buf;
}
