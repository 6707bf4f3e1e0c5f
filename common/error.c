/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One home for the error texts that parsers and converters hand back to their callers. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>

static __thread char ring[ERROR_RING][ERROR_MAX];
static __thread unsigned next;

static const char *format(const char *fmt, va_list ap)
{
	char *buf = ring[next++ % ERROR_RING];
	vsnprintf(buf, ERROR_MAX, fmt, ap);
	for (char *c = buf; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return buf;
}

int error_set(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *msg = format(fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = msg;
	return -1;
}

const char *error_format(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *msg = format(fmt, ap);
	va_end(ap);
	return msg;
}
