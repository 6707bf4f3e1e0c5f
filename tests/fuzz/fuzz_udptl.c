/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for the UDPTL codec (faxd/udptl.c; ITU-T T.38 §9.1 UDPTLPacket, X.691 aligned
 * PER). Two passes over each input:
 *
 * 1. Datagrams from the network: byte 0 gives the number of datagrams (1..16), then each is a
 *    2-octet big-endian length and that many octets (cut at the end of the input). All go to one
 *    decoder, each in an exact-size heap copy so ASan sees any read past its end. Checks: what is
 *    delivered is in order within a call, 1..UDPTL_MAX_IFP long, as many as the return value says,
 *    and the statistics add up.
 * 2. Round trip: byte 0 also picks the sender's error recovery, depth/span/entries and
 *    T38FaxMaxDatagram; the input is cut into IFPs (a 2-octet length, then octets), each encoded,
 *    dropped or not by one bit of the input, and the rest decoded. Everything delivered must be
 *    the IFP sent under that number: exactly, except that an IFP rebuilt by FEC may differ in
 *    trailing zero octets (FEC carries no lengths; see udptl.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/udptl.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IFPS 64

struct net_state {
	int calls;
	int last_seq; /* within one decode call; -1 before the first */
	int got;
};

static void net_deliver(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	struct net_state *st = ctx;
	CHECK(len >= 1 && len <= UDPTL_MAX_IFP);
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < len; i++) /* touch every octet */
		sink ^= ifp[i];
	(void)sink;
	if (st->last_seq >= 0)
		CHECK((uint16_t)(seq - (uint16_t)st->last_seq) >= 1 &&
		      (uint16_t)(seq - (uint16_t)st->last_seq) < 2000);
	st->last_seq = seq;
	st->got++;
}

static void pass_network(const uint8_t *data, size_t size)
{
	struct udptl *dec = udptl_create(NULL);
	struct net_state st = {0};
	size_t count = (size_t)(data[0] & 0x0f) + 1, pos = 1;
	int decoded = 0, calls = 0, delivered = 0;

	for (size_t i = 0; i < count && pos + 2 <= size; i++) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		uint8_t *copy = malloc(len ? len : 1);
		CHECK(copy != NULL);
		memcpy(copy, data + pos, len);
		pos += len;
		st.last_seq = -1;
		st.got = 0;
		int r = udptl_decode(dec, copy, len, net_deliver, &st);
		free(copy);
		calls++;
		CHECK(r >= -1);
		CHECK(r == -1 ? st.got == 0 : r == st.got);
		if (r >= 0) {
			decoded++;
			delivered += r;
		}
	}
	struct udptl_stats stats;
	udptl_get_stats(dec, &stats);
	CHECK(stats.received == (uint64_t)decoded);
	CHECK(stats.received + stats.malformed == (uint64_t)calls);
	CHECK(stats.delivered == (uint64_t)delivered);
	CHECK(stats.recovered <= stats.delivered);
	udptl_free(&dec);
}

struct rt_state {
	const uint8_t *ifp[MAX_IFPS];
	size_t len[MAX_IFPS];
	int received[MAX_IFPS]; /* its own datagram arrived */
	int next;		/* lowest number not yet delivered */
	int fec;
};

static void rt_deliver(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	struct rt_state *st = ctx;
	CHECK(seq < MAX_IFPS && (int)seq >= st->next);
	st->next = seq + 1;
	const uint8_t *orig = st->ifp[seq];
	size_t olen = st->len[seq];
	if (st->received[seq] || !st->fec) {
		CHECK(len == olen && memcmp(ifp, orig, len) == 0);
		return;
	}
	/* Rebuilt by FEC: orig padded with zeros, cut at some length. */
	size_t common = len < olen ? len : olen;
	CHECK(memcmp(ifp, orig, common) == 0);
	for (size_t i = common; i < len; i++)
		CHECK(ifp[i] == 0);
	for (size_t i = common; i < olen; i++)
		CHECK(orig[i] == 0);
}

static void pass_round_trip(const uint8_t *data, size_t size)
{
	struct udptl_settings set;
	udptl_settings_default(&set);
	uint8_t cfg = data[0];
	set.ec = (enum udptl_ec)((cfg >> 4) % 3);
	set.redundancy_depth = cfg & 0x07;
	set.fec_span = 1 + (cfg & 0x03);
	set.fec_entries = 1 + ((cfg >> 2) & 0x03);
	static const size_t limits[] = {UDPTL_MAX_DATAGRAM, 400, 160, 72};
	set.max_datagram = limits[(cfg >> 6) & 0x03];

	struct udptl *enc = udptl_create(&set);
	struct udptl *dec = udptl_create(NULL);
	struct rt_state st = {.fec = set.ec == UDPTL_EC_FEC};
	uint8_t out[UDPTL_MAX_DATAGRAM + 16];
	size_t pos = 1;
	int n = 0;

	while (n < MAX_IFPS && pos + 2 < size) {
		size_t len = ((size_t)(data[pos] & 0x03) << 8 | data[pos + 1]) + 1;
		int drop = (data[pos] & 0x80) != 0;
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		const uint8_t *ifp = data + pos;
		pos += len;

		int r = udptl_encode(enc, ifp, len, out, sizeof(out));
		size_t primary = 2 + (len < 128 ? 1 : 2) + len + (set.ec == UDPTL_EC_FEC ? 4 : 2);
		if (primary > set.max_datagram) {
			CHECK(r == -1);
			continue;
		}
		CHECK(r > 0 && (size_t)r <= set.max_datagram);
		CHECK(out[0] == 0 && out[1] == n);
		st.ifp[n] = ifp;
		st.len[n] = len;
		st.received[n] = !drop;
		n++;
		if (drop)
			continue;
		int before = st.next;
		int got = udptl_decode(dec, out, (size_t)r, rt_deliver, &st);
		CHECK(got >= 1);
		CHECK(st.next == n && got <= n - before);
	}
	struct udptl_stats es, ds;
	udptl_get_stats(enc, &es);
	udptl_get_stats(dec, &ds);
	CHECK(es.sent == (uint64_t)n);
	CHECK(ds.malformed == 0 && ds.duplicates == 0 && ds.late == 0);
	udptl_free(&enc);
	udptl_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	pass_network(data, size);
	pass_round_trip(data, size);
	return 0;
}
