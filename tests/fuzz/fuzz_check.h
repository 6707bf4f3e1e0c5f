/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fuzz harnesses' invariant check: a failed one prints where and aborts, which libFuzzer and
 * the corpus replay (tests/fuzz/replay_main.c) both report as a crash with the input kept.
 */
#ifndef TESTS_FUZZ_FUZZ_CHECK_H
#define TESTS_FUZZ_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);             \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

#endif
