/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Peer text in log lines: made printable, escaped and truncated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/log.h"

static void test_printable(void **state)
{
	char buf[32];
	assert_string_equal(log_printable(buf, sizeof(buf), "plain text", 10), "plain text");
	assert_string_equal(log_printable(buf, sizeof(buf), "a\r\nb\x01\x7f\xc3\xa9", 8), "a??b????");
	assert_string_equal(log_printable(buf, sizeof(buf), "say \"hi\" \\", 10), "say \\\"hi\\\" \\\\");
	assert_string_equal(log_printable(buf, sizeof(buf), "nul\0inside", 10), "nul?inside");
}

static void test_truncated(void **state)
{
	char buf[12];
	const char *long_text = "0123456789abcdefghij";
	log_printable(buf, sizeof(buf), long_text, strlen(long_text));
	assert_string_equal(buf, "01234567...");
	assert_true(strlen(buf) < sizeof(buf));
	/* an escape never splits across the cut */
	log_printable(buf, sizeof(buf), "1234567\"89", 10);
	assert_string_equal(buf, "1234567...");
}

static void test_levels(void **state)
{
	enum log_level level;
	assert_int_equal(log_level_parse("warning", &level), 0);
	assert_int_equal(level, LOG_LEVEL_WARNING);
	assert_int_equal(log_level_parse("verbose", &level), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
