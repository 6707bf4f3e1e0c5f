/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for sip_uri_user() (faxd/sip_ua.c): the number in a header value the far end
 * sends (Diversion, RFC 5806), which routes an incoming call with did_source = diversion. The
 * input is the header value, NUL-terminated in an exact-size heap copy; the output buffer size is
 * taken from the first octet (1..64) so short buffers are tried too. Checks: on success the user
 * is non-empty, fits, is a substring of the input and holds none of the delimiters; on failure
 * nothing is claimed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/sip_ua.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t out_size = 1 + data[0] % 64;
	char *value = malloc(size);
	if (value == NULL)
		return 0;
	memcpy(value, data + 1, size - 1);
	value[size - 1] = '\0';
	char *out = malloc(out_size);
	if (out == NULL) {
		free(value);
		return 0;
	}
	if (sip_uri_user(value, out, out_size) == 0) {
		size_t n = strlen(out);
		CHECK(n > 0 && n < out_size);
		CHECK(strstr(value, out) != NULL);
		CHECK(strpbrk(out, "@;>?, \t\"") == NULL);
	}
	free(out);
	free(value);
	return 0;
}
