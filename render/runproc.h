/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Running a converter (Ghostscript, LibreOffice, pdfinfo) as a confined child: no shell (an argv
 * to execve), its own process group, stdin from /dev/null, stdout and stderr captured together up
 * to a cap, resource limits, and a wall-clock timeout after which the whole group is killed.
 * Safe to call from a threaded process: only async-signal-safe calls run between fork and exec.
 */
#ifndef RENDER_RUNPROC_H
#define RENDER_RUNPROC_H

#include <stdbool.h>
#include <stddef.h>

/* Captured output beyond this is read and dropped. */
#define RUNPROC_OUTPUT_CAP (48 * 1024)

struct runproc_limits {
	int timeout_s;		/* wall clock; <= 0: 60 */
	size_t max_memory_mb;	/* RLIMIT_AS; 0: none */
	size_t max_file_mb;	/* RLIMIT_FSIZE; 0: none */
	const char *const *env; /* NULL-terminated "NAME=value" set on top of the inherited environment */
	const char *cwd;	/* NULL: inherited */
	bool no_network;	/* run in new user + network namespaces (no interfaces) when the kernel
				   allows it; silently not otherwise */
};

struct runproc_result {
	int exit_code;	/* exit status, or -1 when killed by a signal */
	int signal;	/* the signal that ended it, or 0 */
	bool timed_out; /* killed because the timeout expired */
	char *output;	/* stdout + stderr, NUL-terminated, owned: runproc_result_clear */
	size_t output_len;
	double seconds; /* wall clock */
};

/* Run argv (argv[0] looked up on PATH). Returns 0 when the program ran (whatever its status; see
 *result_r) or -1 when it could not be started (not installed, fork failed). */
int runproc_run(const char *const *argv, const struct runproc_limits *limits, struct runproc_result *result_r,
		const char **error_r);
void runproc_result_clear(struct runproc_result *r);
/* The most telling line of a converter's output (one with "rror" in it, else the last non-empty
   one), made printable and cut to max_len. Returned in buf. */
const char *runproc_reason(const struct runproc_result *r, char *buf, size_t max_len);

#endif
