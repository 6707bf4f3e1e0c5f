/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for RTP packets and the G.711 jitter buffer (faxd/rtp.c; RFC 3550). The input
 * is a run of datagrams, each a 2-octet big-endian length and that many octets (cut at the end of
 * the input), each in an exact-size heap copy so ASan sees a read past its end. Every datagram
 * that decodes goes into one jitter buffer; after each, one frame of 80..240 samples (picked by
 * the datagram's first octet) is taken out. Checks: a decoded payload lies inside the datagram;
 * re-encoding a decoded packet without CSRC/extension/padding decodes to the same fields; the
 * buffer never reports more samples arrived than the frame holds, and missing samples read as
 * the silence byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/rtp.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct rtp_packet *p)
{
	uint8_t out[RTP_HEADER_SIZE + RTP_MAX_PAYLOAD];
	int n = rtp_encode(p, out, sizeof(out));
	CHECK(n == (int)(RTP_HEADER_SIZE + p->payload_len));
	struct rtp_packet q;
	CHECK(rtp_decode(out, (size_t)n, &q) == 0);
	CHECK(q.payload_type == p->payload_type && q.marker == p->marker && q.seq == p->seq);
	CHECK(q.timestamp == p->timestamp && q.ssrc == p->ssrc && q.payload_len == p->payload_len);
	CHECK(p->payload_len == 0 || memcmp(q.payload, p->payload, p->payload_len) == 0);
}

static void take_frame(struct rtp_jitter *jb, int n)
{
	uint8_t frame[240];
	int got = rtp_jitter_get(jb, frame, n);
	CHECK(got >= -1 && got <= n);
	if (got == 0)
		for (int i = 0; i < n; i++)
			CHECK(frame[i] == RTP_SILENCE_PCMA);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rtp_jitter jb;
	struct rtp_jitter_settings set = {.payload_type = RTP_PT_PCMA, .silence = RTP_SILENCE_PCMA,
					  .prefill_samples = size > 0 ? data[0] * 4 : 0};
	rtp_jitter_init(&jb, &set);
	size_t at = size > 0 ? 1 : 0;
	while (at + 2 <= size) {
		size_t len = (size_t)data[at] << 8 | data[at + 1];
		at += 2;
		if (len > size - at)
			len = size - at;
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, data + at, len);
		at += len;
		struct rtp_packet p;
		if (rtp_decode(copy, len, &p) == 0) {
			CHECK(p.payload >= copy && p.payload + p.payload_len <= copy + len);
			check_round_trip(&p);
			rtp_jitter_put(&jb, &p);
		}
		take_frame(&jb, 80 + (len ? copy[0] % 161 : 0));
		free(copy);
	}
	return 0;
}
