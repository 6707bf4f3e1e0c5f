/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of RTP packets and the G.711 jitter buffer (faxd/rtp.c; RFC 3550, RFC 3551): a
 * hand-checked packet, malformed headers, every truncation of a packet, the sender's numbering and
 * wrap-around, and the jitter buffer through loss, reordering, duplicates, late packets, mixed
 * packet sizes, an SSRC change and a timestamp jump.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "faxd/rtp.h"

static void test_decode_hand_checked_packet(void **state)
{
	/* V=2, marker, PT 8, seq 0x1234, ts 0x01020304, SSRC 0xCAFEBABE, 3 payload octets */
	const uint8_t bytes[] = {0x80, 0x88, 0x12, 0x34, 1, 2, 3, 4, 0xCA, 0xFE, 0xBA, 0xBE, 0xD5, 0x55, 0xD4};
	struct rtp_packet p;
	assert_int_equal(rtp_decode(bytes, sizeof(bytes), &p), 0);
	assert_int_equal(p.payload_type, RTP_PT_PCMA);
	assert_true(p.marker);
	assert_int_equal(p.seq, 0x1234);
	assert_int_equal(p.timestamp, 0x01020304);
	assert_int_equal(p.ssrc, 0xCAFEBABE);
	assert_int_equal(p.payload_len, 3);
	assert_ptr_equal(p.payload, bytes + 12);
	uint8_t out[64];
	assert_int_equal(rtp_encode(&p, out, sizeof(out)), (int)sizeof(bytes));
	assert_memory_equal(out, bytes, sizeof(bytes));
	assert_int_equal(rtp_encode(&p, out, sizeof(bytes) - 1), -1);
}

static void test_csrc_extension_and_padding(void **state)
{
	/* 1 CSRC, an extension of 1 word, 2 payload octets, 3 octets of padding */
	const uint8_t bytes[] = {0xB1, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, /* header */
				 0, 0, 0, 7,                                        /* CSRC */
				 0xBE, 0xDE, 0, 1, 0xAA, 0xAA, 0xAA, 0xAA,          /* extension */
				 0x11, 0x22, 0, 0, 3};
	struct rtp_packet p;
	assert_int_equal(rtp_decode(bytes, sizeof(bytes), &p), 0);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.payload[0], 0x11);
	assert_int_equal(p.payload[1], 0x22);
}

static void test_malformed_headers(void **state)
{
	struct rtp_packet p;
	const uint8_t v1[12] = {0x40};
	assert_int_equal(rtp_decode(v1, sizeof(v1), &p), -1); /* version 1 */
	const uint8_t csrc[16] = {0x8F};
	assert_int_equal(rtp_decode(csrc, sizeof(csrc), &p), -1); /* 15 CSRCs in 16 octets */
	uint8_t ext[20] = {0x90};
	ext[14] = 0xFF, ext[15] = 0xFF;                              /* 65535 extension words */
	assert_int_equal(rtp_decode(ext, sizeof(ext), &p), -1);
	uint8_t pad[14] = {0xA0};
	pad[13] = 200;                                               /* more padding than packet */
	assert_int_equal(rtp_decode(pad, sizeof(pad), &p), -1);
	pad[13] = 0;                                                 /* padding bit with count 0 */
	assert_int_equal(rtp_decode(pad, sizeof(pad), &p), -1);
	uint8_t big[RTP_HEADER_SIZE + RTP_MAX_PAYLOAD + 1] = {0x80};
	assert_int_equal(rtp_decode(big, sizeof(big), &p), -1);
	assert_int_equal(rtp_decode(big, sizeof(big) - 1, &p), 0);
}

/* Every prefix of a packet decodes or is refused; none reads past its end (ASan checks). */
static void test_every_truncation(void **state)
{
	uint8_t bytes[200];
	struct rtp_sender s;
	uint8_t payload[160];
	memset(payload, 0xD5, sizeof(payload));
	rtp_sender_init(&s, RTP_PT_PCMA, 1, 0, 0);
	int n = rtp_sender_next(&s, payload, sizeof(payload), bytes, sizeof(bytes));
	assert_int_equal(n, RTP_HEADER_SIZE + 160);
	for (int len = 0; len <= n; len++) {
		uint8_t *copy = g_memdup2(bytes, (gsize)len);
		struct rtp_packet p;
		int r = rtp_decode(copy, (size_t)len, &p);
		assert_int_equal(r, len >= RTP_HEADER_SIZE ? 0 : -1);
		if (r == 0)
			assert_int_equal(p.payload_len, (size_t)(len - RTP_HEADER_SIZE));
		g_free(copy);
	}
}

static void test_sender_numbers_and_wraps(void **state)
{
	struct rtp_sender s;
	rtp_sender_init(&s, RTP_PT_PCMU, 0x11223344, 65535, 0xFFFFFF00u);
	uint8_t samples[160] = {0}, out[200];
	struct rtp_packet a, b;
	assert_int_equal(rtp_sender_next(&s, samples, 160, out, sizeof(out)), 172);
	assert_int_equal(rtp_decode(out, 172, &a), 0);
	uint8_t out2[200];
	assert_int_equal(rtp_sender_next(&s, samples, 160, out2, sizeof(out2)), 172);
	assert_int_equal(rtp_decode(out2, 172, &b), 0);
	assert_true(a.marker);
	assert_false(b.marker);
	assert_int_equal(a.seq, 65535);
	assert_int_equal(b.seq, 0);
	assert_int_equal(b.timestamp, 0xFFFFFF00u + 160u);
	assert_int_equal(s.timestamp, (uint32_t)(0xFFFFFF00u + 320u)); /* wrapped */
	assert_int_equal(rtp_sender_next(&s, samples, 160, out, 100), -1);
}

/* ---- jitter buffer ---- */

static struct rtp_jitter jb;

static void jitter_start(int prefill)
{
	struct rtp_jitter_settings set = {.payload_type = RTP_PT_PCMA, .silence = RTP_SILENCE_PCMA,
					  .prefill_samples = prefill};
	rtp_jitter_init(&jb, &set);
}

/* Packet k of a stream of len-sample packets: every sample is (k + 1). */
static enum rtp_jitter_put put(uint32_t ssrc, uint32_t ts, size_t len, uint8_t value)
{
	static uint8_t payload[RTP_MAX_PAYLOAD];
	memset(payload, value, len);
	struct rtp_packet p = {.payload_type = RTP_PT_PCMA, .timestamp = ts, .ssrc = ssrc, .payload = payload,
			       .payload_len = len};
	return rtp_jitter_put(&jb, &p);
}

static void test_jitter_in_order_with_prefill(void **state)
{
	jitter_start(320);
	uint8_t frame[160];
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), -1); /* nothing yet */
	assert_int_equal(put(1, 1000, 160, 1), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), -1); /* 20 ms of 40 ms prefill */
	assert_int_equal(put(1, 1160, 160, 2), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(frame[0], 1);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(frame[159], 2);
	/* drained: the far end is late, not lost: wait for the prefill again, then play on */
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), -1);
	assert_int_equal(jb.rebuffers, 1);
	assert_int_equal(put(1, 1320, 160, 3), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), -1);
	assert_int_equal(put(1, 1480, 160, 4), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(frame[0], 3); /* nothing dropped as late */
	assert_int_equal(jb.late, 0);
	assert_int_equal(jb.missing_samples, 0);
	/* a frame missing with later audio behind it is lost: read as silence */
	assert_int_equal(put(1, 1800, 160, 6), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 0);
	assert_int_equal(frame[0], RTP_SILENCE_PCMA);
	assert_int_equal(jb.missing_samples, 160);
}

static void test_jitter_loss_reorder_duplicate_late(void **state)
{
	jitter_start(480);
	uint8_t frame[160];
	assert_int_equal(put(7, 0, 160, 1), RTP_JITTER_STORED);
	assert_int_equal(put(7, 320, 160, 3), RTP_JITTER_STORED); /* 2 comes later */
	assert_int_equal(put(7, 480, 160, 4), RTP_JITTER_STORED);
	assert_int_equal(put(7, 160, 160, 2), RTP_JITTER_STORED); /* reordered */
	assert_int_equal(put(7, 160, 160, 2), RTP_JITTER_LATE);   /* duplicate */
	/* 5 (640) is lost */
	assert_int_equal(put(7, 800, 160, 6), RTP_JITTER_STORED);
	for (uint8_t k = 1; k <= 4; k++) {
		assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
		assert_int_equal(frame[80], k);
	}
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 0); /* the lost one: fill in */
	assert_int_equal(put(7, 640, 160, 5), RTP_JITTER_LATE); /* too late now */
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(frame[0], 6);
	assert_int_equal(jb.late, 2);
}

/* 30 ms packets against a 20 ms tick, and a partly arrived frame. */
static void test_jitter_mixed_sizes(void **state)
{
	jitter_start(240);
	uint8_t frame[160];
	assert_int_equal(put(9, 0, 240, 1), RTP_JITTER_STORED);
	assert_int_equal(put(9, 240, 240, 2), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160); /* 80 of packet 1, 80 of packet 2 */
	assert_int_equal(frame[79], 1);
	assert_int_equal(frame[80], 2);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	/* of the frame 480..640 only 560..640 comes */
	assert_int_equal(put(9, 560, 80, 3), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 80);
	assert_int_equal(frame[0], RTP_SILENCE_PCMA);
	assert_int_equal(frame[80], 3);
}

static void test_jitter_wraps_ssrc_change_and_jump(void **state)
{
	jitter_start(160);
	uint8_t frame[160];
	uint32_t ts = 0xFFFFFF60u; /* wraps after one packet */
	assert_int_equal(put(1, ts, 160, 1), RTP_JITTER_STORED);
	assert_int_equal(put(1, ts + 160, 160, 2), RTP_JITTER_STORED);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(frame[0], 2);
	assert_int_equal(put(2, 5000, 160, 3), RTP_JITTER_RESYNC); /* a new source */
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(frame[0], 3);
	assert_int_equal(put(2, 5000 + 100000, 160, 4), RTP_JITTER_RESYNC); /* a jump past the ring */
	assert_int_equal(rtp_jitter_get(&jb, frame, 160), 160);
	assert_int_equal(frame[0], 4);
	struct rtp_packet dtmf = {.payload_type = 101, .ssrc = 2, .payload_len = 4, .payload = frame};
	assert_int_equal(rtp_jitter_put(&jb, &dtmf), RTP_JITTER_REFUSED);
	assert_int_equal(rtp_jitter_get(&jb, frame, RTP_JITTER_RING), -1); /* more than half the ring */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_hand_checked_packet),
		cmocka_unit_test(test_csrc_extension_and_padding),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_sender_numbers_and_wraps),
		cmocka_unit_test(test_jitter_in_order_with_prefill),
		cmocka_unit_test(test_jitter_loss_reorder_duplicate_late),
		cmocka_unit_test(test_jitter_mixed_sizes),
		cmocka_unit_test(test_jitter_wraps_ssrc_change_and_jump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
