/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the UDPTL codec (faxd/udptl.c; ITU-T T.38 §9.1 UDPTLPacket in X.691 aligned PER):
 * hand-checked byte vectors, recovery through a lossy, duplicating, reordering channel,
 * sequence wrap-around, malformed and truncated datagrams, and the T38FaxMaxDatagram limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/udptl.h"

/* ---- helpers ---- */

/* splitmix64: the same stream on every platform and glib version. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *state, unsigned n)
{
	return (unsigned)(rng_next(state) % n);
}

static bool rng_chance(uint64_t *state, double p)
{
	return (double)(rng_next(state) >> 11) / 9007199254740992.0 < p;
}

/* Records what the decoder delivers. */
struct sink {
	size_t n, cap;
	uint16_t *seq;
	size_t *len;
	uint8_t (*data)[UDPTL_MAX_IFP];
};

static void sink_deliver(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	struct sink *s = ctx;
	assert_true(s->n < s->cap);
	assert_true(len >= 1 && len <= UDPTL_MAX_IFP);
	s->seq[s->n] = seq;
	s->len[s->n] = len;
	memcpy(s->data[s->n], ifp, len);
	s->n++;
}

static struct sink *sink_new_cap(size_t cap)
{
	struct sink *s = g_new0(struct sink, 1);
	s->cap = cap;
	s->seq = g_new0(uint16_t, cap);
	s->len = g_new0(size_t, cap);
	s->data = g_malloc0(cap * sizeof(*s->data));
	return s;
}

static struct sink *sink_new(void)
{
	return sink_new_cap(2048);
}

static void sink_free(struct sink *s)
{
	g_free(s->seq);
	g_free(s->len);
	g_free(s->data);
	g_free(s);
}

static struct udptl *make(enum udptl_ec ec, int depth)
{
	struct udptl_settings set;
	udptl_settings_default(&set);
	set.ec = ec;
	set.redundancy_depth = depth;
	return udptl_create(&set);
}

static struct udptl *make_fec(int span, int entries)
{
	struct udptl_settings set;
	udptl_settings_default(&set);
	set.ec = UDPTL_EC_FEC;
	set.fec_span = span;
	set.fec_entries = entries;
	return udptl_create(&set);
}

/* Decodes a heap copy of exactly len octets, so ASan builds catch any read past the end. */
static int decode_exact(struct udptl *u, const uint8_t *d, size_t len, struct sink *s)
{
	uint8_t *copy = g_malloc(len ? len : 1);
	memcpy(copy, d, len);
	int r = udptl_decode(u, copy, len, s != NULL ? sink_deliver : NULL, s);
	g_free(copy);
	return r;
}

/* ---- settings ---- */

static void test_settings_default(void **state)
{
	struct udptl_settings set;
	memset(&set, 0xff, sizeof(set));
	udptl_settings_default(&set);
	assert_int_equal(set.ec, UDPTL_EC_REDUNDANCY);
	assert_int_equal(set.redundancy_depth, 3);
	assert_int_equal(set.fec_span, 3);
	assert_int_equal(set.fec_entries, 3);
	assert_int_equal(set.max_datagram, UDPTL_MAX_DATAGRAM);

	struct udptl *u = udptl_create(NULL);
	assert_non_null(u);
	udptl_free(&u);

	/* an unknown error-recovery kind sends none */
	set.ec = (enum udptl_ec)7;
	u = udptl_create(&set);
	uint8_t ifp = 0x02, out[16];
	assert_int_equal(udptl_encode(u, &ifp, 1, out, sizeof(out)), 6);
	assert_int_equal(udptl_encode(u, &ifp, 1, out, sizeof(out)), 6);
	assert_int_equal(out[4], 0x00);
	assert_int_equal(out[5], 0x00);
	udptl_free(&u);
	assert_null(u);
	udptl_free(&u);
	udptl_free(NULL);
}

/* ---- byte vectors ---- */

struct vec {
	const char *name;
	enum udptl_ec ec;
	int depth; /* redundancy depth, or span*10+entries for FEC */
	size_t n;  /* IFPs / datagrams */
	struct {
		size_t ifp_len;
		uint8_t ifp[8];
		size_t out_len;
		uint8_t out[40];
	} step[6];
};

/* Each datagram checked by hand against T.38 §9.1 / research/sip-t38.md §2.3:
   seq (2 octets BE) | primary open type (len, octets) | 0x00 count {len, octets} newest first
						      | 0x80 0x01 span count {len, xor}. */
/* clang-format off */
static const struct vec vectors[] = {
	{"no EC",
	 UDPTL_EC_NONE,
	 3,
	 2,
	 {{1, {0x02}, 6, {0x00, 0x00, 0x01, 0x02, 0x00, 0x00}},
	  {3, {0xc0, 0x01, 0x80}, 8, {0x00, 0x01, 0x03, 0xc0, 0x01, 0x80, 0x00, 0x00}}}},
	{"depth 0",
	 UDPTL_EC_REDUNDANCY,
	 0,
	 2,
	 {{1, {0x02}, 6, {0x00, 0x00, 0x01, 0x02, 0x00, 0x00}}, {1, {0x04}, 6, {0x00, 0x01, 0x01, 0x04, 0x00, 0x00}}}},
	{"depth 1",
	 UDPTL_EC_REDUNDANCY,
	 1,
	 3,
	 {{1, {0x02}, 6, {0x00, 0x00, 0x01, 0x02, 0x00, 0x00}},
	  {1, {0x04}, 8, {0x00, 0x01, 0x01, 0x04, 0x00, 0x01, 0x01, 0x02}},
	  {2, {0x06, 0x07}, 9, {0x00, 0x02, 0x02, 0x06, 0x07, 0x00, 0x01, 0x01, 0x04}}}},
	{"depth 3",
	 UDPTL_EC_REDUNDANCY,
	 3,
	 5,
	 {{1, {0x02}, 6, {0x00, 0x00, 0x01, 0x02, 0x00, 0x00}},
	  {1, {0x04}, 8, {0x00, 0x01, 0x01, 0x04, 0x00, 0x01, 0x01, 0x02}},
	  {1, {0x06}, 10, {0x00, 0x02, 0x01, 0x06, 0x00, 0x02, 0x01, 0x04, 0x01, 0x02}},
	  {2, {0x08, 0x09}, 13, {0x00, 0x03, 0x02, 0x08, 0x09, 0x00, 0x03, 0x01, 0x06, 0x01, 0x04, 0x01, 0x02}},
	  /* depth reached: seq 0 drops out */
	  {1, {0x0a}, 13, {0x00, 0x04, 0x01, 0x0a, 0x00, 0x03, 0x02, 0x08, 0x09, 0x01, 0x06, 0x01, 0x04}}}},
	{"FEC span 3 entries 3, wind-up",
	 UDPTL_EC_FEC,
	 33,
	 5,
	 {{1, {0x01}, 8, {0x00, 0x00, 0x01, 0x01, 0x80, 0x01, 0x00, 0x00}},
	  {2, {0x02, 0x20}, 9, {0x00, 0x01, 0x02, 0x02, 0x20, 0x80, 0x01, 0x00, 0x00}},
	  {1, {0x04}, 8, {0x00, 0x02, 0x01, 0x04, 0x80, 0x01, 0x00, 0x00}},
	  /* 3 sent: one entry over seq 0..2 = 01^02^04, 20 */
	  {3, {0x08, 0x80, 0xff}, 13, {0x00, 0x03, 0x03, 0x08, 0x80, 0xff, 0x80, 0x01, 0x03, 0x01, 0x02, 0x07, 0x20}},
	  /* one entry over seq 1..3 = 02^04^08, 20^80, ff */
	  {1, {0x10}, 12, {0x00, 0x04, 0x01, 0x10, 0x80, 0x01, 0x03, 0x01, 0x03, 0x0e, 0xa0, 0xff}}}},
};
/* clang-format on */

static void test_vectors(void **state)
{
	for (size_t t = 0; t < G_N_ELEMENTS(vectors); t++) {
		const struct vec *v = &vectors[t];
		struct udptl *enc =
		    v->ec == UDPTL_EC_FEC ? make_fec(v->depth / 10, v->depth % 10) : make(v->ec, v->depth);
		struct udptl *dec = make(UDPTL_EC_NONE, 0);
		struct sink *s = sink_new();
		for (size_t i = 0; i < v->n; i++) {
			uint8_t out[64];
			int len = udptl_encode(enc, v->step[i].ifp, v->step[i].ifp_len, out, sizeof(out));
			if (len != (int)v->step[i].out_len || memcmp(out, v->step[i].out, (size_t)len) != 0) {
				print_error("vector '%s' step %zu: got", v->name, i);
				for (int k = 0; k < len; k++)
					print_error(" %02x", out[k]);
				print_error("\n");
			}
			assert_int_equal(len, v->step[i].out_len);
			assert_memory_equal(out, v->step[i].out, v->step[i].out_len);
			/* and back */
			assert_int_equal(decode_exact(dec, v->step[i].out, v->step[i].out_len, s), 1);
			assert_int_equal(s->seq[s->n - 1], i);
			assert_int_equal(s->len[s->n - 1], v->step[i].ifp_len);
			assert_memory_equal(s->data[s->n - 1], v->step[i].ifp, v->step[i].ifp_len);
		}
		sink_free(s);
		udptl_free(&enc);
		udptl_free(&dec);
	}
}

/* Lengths 127 and 128 around the short/long determinant boundary, 200 and 1024. */
static void test_length_determinant(void **state)
{
	static const struct {
		size_t len;
		uint8_t hdr[2];
		size_t hdr_len;
	} cases[] = {{127, {0x7f}, 1},
		     {128, {0x80, 0x80}, 2},
		     {200, {0x80, 0xc8}, 2},
		     {300, {0x81, 0x2c}, 2},
		     {1024, {0x84, 0x00}, 2}};
	for (size_t t = 0; t < G_N_ELEMENTS(cases); t++) {
		struct udptl *enc = make(UDPTL_EC_REDUNDANCY, 1);
		uint8_t ifp[UDPTL_MAX_IFP], small = 0x02, out[UDPTL_MAX_DATAGRAM];
		for (size_t i = 0; i < cases[t].len; i++)
			ifp[i] = (uint8_t)(i * 7 + 1);
		int len = udptl_encode(enc, ifp, cases[t].len, out, sizeof(out));
		assert_int_equal(len, 2 + cases[t].hdr_len + cases[t].len + 2);
		assert_memory_equal(out + 2, cases[t].hdr, cases[t].hdr_len);
		assert_memory_equal(out + 2 + cases[t].hdr_len, ifp, cases[t].len);

		/* the same IFP as a secondary of the next datagram */
		len = udptl_encode(enc, &small, 1, out, sizeof(out));
		assert_int_equal(len, 2 + 2 + 1 + 1 + cases[t].hdr_len + cases[t].len);
		static const uint8_t head[] = {0x00, 0x01, 0x01, 0x02, 0x00, 0x01};
		assert_memory_equal(out, head, sizeof(head));
		assert_memory_equal(out + 6, cases[t].hdr, cases[t].hdr_len);
		assert_memory_equal(out + 6 + cases[t].hdr_len, ifp, cases[t].len);

		/* lose the first: the second datagram brings it back */
		struct udptl *dec = make(UDPTL_EC_NONE, 0);
		struct sink *s = sink_new();
		assert_int_equal(decode_exact(dec, out, (size_t)len, s), 2);
		assert_int_equal(s->seq[0], 0);
		assert_int_equal(s->len[0], cases[t].len);
		assert_memory_equal(s->data[0], ifp, cases[t].len);
		assert_int_equal(s->seq[1], 1);
		struct udptl_stats st;
		udptl_get_stats(dec, &st);
		assert_int_equal(st.recovered, 1);
		assert_int_equal(st.delivered, 2);
		sink_free(s);
		udptl_free(&dec);
		udptl_free(&enc);
	}
}

/* A datagram built literally from the layout in research/sip-t38.md §2.3 (an image-data IFP of
   130 octets with two secondaries, one of them long), compared with the encoder's. */
static void test_layout_sip_t38(void **state)
{
	uint8_t a[130], b[3] = {0xc0, 0x01, 0x80}, c[1] = {0x0c}, out[512];
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(0xa0 ^ i);
	struct udptl *enc = make(UDPTL_EC_REDUNDANCY, 2);
	assert_true(udptl_encode(enc, a, sizeof(a), out, sizeof(out)) > 0); /* seq 0 */
	assert_true(udptl_encode(enc, b, sizeof(b), out, sizeof(out)) > 0); /* seq 1 */
	int len = udptl_encode(enc, c, sizeof(c), out, sizeof(out));	    /* seq 2 */

	uint8_t want[512];
	size_t n = 0;
	want[n++] = 0x00; /* seq-number: 2 octets, big endian */
	want[n++] = 0x02;
	want[n++] = 0x01; /* primary-ifp: length < 0x80 in one octet */
	want[n++] = 0x0c;
	want[n++] = 0x00; /* error-recovery: secondary-ifp-packets */
	want[n++] = 0x02; /* count */
	want[n++] = 0x03; /* newest first: seq 1 */
	memcpy(want + n, b, sizeof(b));
	n += sizeof(b);
	want[n++] = 0x80 | (sizeof(a) >> 8); /* seq 0: length >= 0x80: 0x80 | len >> 8, len & 0xff */
	want[n++] = sizeof(a) & 0xff;
	memcpy(want + n, a, sizeof(a));
	n += sizeof(a);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
	udptl_free(&enc);
}

/* Datagrams as another implementation might send them. */
static void test_decode_foreign(void **state)
{
	struct sink *s = sink_new();
	struct udptl_stats st;

	/* Asterisk without EC, starting late: seq 5, 0..4 lost */
	static const uint8_t noec[] = {0x00, 0x05, 0x01, 0x02, 0x00, 0x00};
	struct udptl *dec = make(UDPTL_EC_NONE, 0);
	assert_int_equal(decode_exact(dec, noec, sizeof(noec), s), 1);
	assert_int_equal(s->seq[0], 5);
	udptl_get_stats(dec, &st);
	assert_int_equal(st.lost, 5);
	udptl_free(&dec);

	/* redundancy with a non-minimal long-form length (0x80 0x01) and padding bits set */
	static const uint8_t odd[] = {0x00, 0x01, 0x80, 0x01, 0x04, 0x7f, 0x01, 0x01, 0x02};
	s->n = 0;
	dec = make(UDPTL_EC_NONE, 0);
	assert_int_equal(decode_exact(dec, odd, sizeof(odd), s), 2);
	assert_int_equal(s->seq[0], 0);
	assert_int_equal(s->data[0][0], 0x02);
	assert_int_equal(s->seq[1], 1);
	assert_int_equal(s->data[1][0], 0x04);
	udptl_free(&dec);

	/* a stream that starts far from 0 is taken as it is, nothing counted lost */
	static const uint8_t far[] = {0x9c, 0x40, 0x01, 0x06, 0x00, 0x02, 0x01, 0x04, 0x01, 0x02};
	s->n = 0;
	dec = make(UDPTL_EC_NONE, 0);
	assert_int_equal(decode_exact(dec, far, sizeof(far), s), 3);
	assert_int_equal(s->seq[0], 39998);
	assert_int_equal(s->seq[2], 40000);
	udptl_get_stats(dec, &st);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.resyncs, 0);
	udptl_free(&dec);
	sink_free(s);
}

/* ---- lossy channel ---- */

/* A T.38-shaped IFP (spandsp's v1+ encoding): mostly image data with one field of 1..max octets,
   sometimes an indicator or a field without data; the last data octet is often zero, which is
   what makes FEC length recovery hard. */
static size_t make_ifp(uint64_t *rng, uint8_t *ifp, size_t max)
{
	unsigned kind = rng_below(rng, 10);
	if (kind == 0) {
		ifp[0] = (uint8_t)(rng_below(rng, 16) << 1); /* t30-indicator */
		return 1;
	}
	if (kind == 1) {
		ifp[0] = (uint8_t)(0xc0 | 0x06);	    /* data, V.27ter 4800 */
		ifp[1] = 0x01;				    /* one field */
		ifp[2] = (uint8_t)(rng_below(rng, 8) << 3); /* field type, no data */
		return 3;
	}
	size_t n = 1 + rng_below(rng, (unsigned)(max - 5));
	ifp[0] = (uint8_t)(0xc0 | (rng_below(rng, 9) << 1));
	ifp[1] = 0x01;
	ifp[2] = (uint8_t)(0x80 | (rng_below(rng, 8) << 3));
	ifp[3] = (uint8_t)((n - 1) >> 8);
	ifp[4] = (uint8_t)((n - 1) & 0xff);
	for (size_t i = 0; i < n; i++)
		ifp[5 + i] = (uint8_t)rng_next(rng);
	if (rng_chance(rng, 0.3))
		ifp[5 + n - 1] = 0;
	return 5 + n;
}

struct dgram {
	uint64_t key; /* arrival order */
	size_t len;
	uint8_t *data;
};

static int dgram_cmp(const void *a, const void *b)
{
	const struct dgram *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

#define STREAM 1000
#define TAIL 3

struct channel_result {
	size_t delivered; /* of the first STREAM IFPs */
	struct udptl_stats rx;
};

/* Sends STREAM (+TAIL) IFPs through a channel that loses each copy with probability loss, sends
   20% of datagrams 3 times (spandsp's count), and delays 5% of copies by 1..3 places. Asserts that
   what arrives is in order, at most once, and intact. */
static struct channel_result run_channel(const struct udptl_settings *set, double loss, uint64_t seed)
{
	static uint8_t ifps[STREAM + TAIL][UDPTL_MAX_IFP];
	static size_t ifp_len[STREAM + TAIL];
	static struct dgram q[(STREAM + TAIL) * 3];
	uint64_t rng = seed;
	size_t nq = 0;

	struct udptl *enc = udptl_create(set);
	for (size_t i = 0; i < STREAM + TAIL; i++) {
		ifp_len[i] = make_ifp(&rng, ifps[i], 300);
		uint8_t out[UDPTL_MAX_DATAGRAM];
		int len = udptl_encode(enc, ifps[i], ifp_len[i], out, sizeof(out));
		assert_true(len > 0 && (size_t)len <= set->max_datagram);
		unsigned count = rng_chance(&rng, 0.2) ? 3 : 1;
		for (unsigned c = 0; c < count; c++) {
			if (rng_chance(&rng, loss))
				continue;
			uint64_t pos = i * 3 + c;
			if (rng_chance(&rng, 0.05))
				pos += 3 * (1 + rng_below(&rng, 3)) + 1;
			q[nq].key = pos << 20 | nq;
			q[nq].len = (size_t)len;
			q[nq].data = g_memdup2(out, (size_t)len);
			nq++;
		}
	}
	udptl_free(&enc);
	qsort(q, nq, sizeof(q[0]), dgram_cmp);

	struct udptl *dec = make(UDPTL_EC_NONE, 0);
	struct sink *s = sink_new();
	int total = 0;
	for (size_t i = 0; i < nq; i++) {
		int r = udptl_decode(dec, q[i].data, q[i].len, sink_deliver, s);
		assert_true(r >= 0);
		total += r;
		g_free(q[i].data);
	}
	assert_int_equal(total, s->n);

	struct channel_result res = {0};
	for (size_t k = 0; k < s->n; k++) {
		if (k > 0)
			assert_true(s->seq[k] > s->seq[k - 1]); /* in order, once each (no wrap here) */
		assert_true(s->seq[k] < STREAM + TAIL);
		assert_int_equal(s->len[k], ifp_len[s->seq[k]]);
		assert_memory_equal(s->data[k], ifps[s->seq[k]], s->len[k]);
		if (s->seq[k] < STREAM)
			res.delivered++;
	}
	udptl_get_stats(dec, &res.rx);
	assert_int_equal(res.rx.delivered, s->n);
	assert_int_equal(res.rx.malformed, 0);
	if (s->n > 0)
		assert_int_equal(res.rx.delivered + res.rx.lost, s->seq[s->n - 1] + 1);
	sink_free(s);
	udptl_free(&dec);
	return res;
}

static void test_channel_redundancy(void **state)
{
	struct udptl_settings set;
	udptl_settings_default(&set); /* redundancy, depth 3 */
	static const double losses[] = {0.02, 0.05, 0.20};
	static const double want[] = {1.0, 0.998, 0.98}; /* delivered fraction, worst seed */
	for (size_t l = 0; l < G_N_ELEMENTS(losses); l++) {
		size_t worst = STREAM, sum = 0;
		uint64_t recovered = 0, dups = 0;
		for (uint64_t seed = 1; seed <= 10; seed++) {
			struct channel_result r = run_channel(&set, losses[l], seed * 7919 + l);
			worst = MIN(worst, r.delivered);
			sum += r.delivered;
			recovered += r.rx.recovered;
			dups += r.rx.duplicates;
			assert_true(r.rx.duplicates > 0);
		}
		print_message("  depth 3, loss %4.1f%%: worst %zu/%d, mean %.1f, recovered %.1f/run, "
			      "duplicates %.1f/run\n",
			      losses[l] * 100, worst, STREAM, sum / 10.0, recovered / 10.0, dups / 10.0);
		if (l == 0)
			assert_int_equal(worst, STREAM); /* every IFP exactly once, in order */
		assert_true(worst >= want[l] * STREAM);
	}

	/* Without redundancy the loss shows: sanity check of the channel itself. */
	set.redundancy_depth = 0;
	struct channel_result r = run_channel(&set, 0.20, 42);
	print_message("  depth 0, loss 20.0%%: %zu/%d\n", r.delivered, STREAM);
	assert_true(r.delivered < 0.95 * STREAM && r.delivered > 0.70 * STREAM);
	assert_int_equal(r.rx.recovered, 0);
}

static void test_channel_fec(void **state)
{
	struct udptl_settings set;
	udptl_settings_default(&set);
	set.ec = UDPTL_EC_FEC; /* span 3, entries 3 */
	static const double losses[] = {0.02, 0.05, 0.20};
	static const double want[] = {0.995, 0.98, 0.80};
	for (size_t l = 0; l < G_N_ELEMENTS(losses); l++) {
		size_t worst = STREAM, sum = 0;
		uint64_t recovered = 0;
		for (uint64_t seed = 1; seed <= 10; seed++) {
			struct channel_result r = run_channel(&set, losses[l], seed * 104729 + l);
			worst = MIN(worst, r.delivered);
			sum += r.delivered;
			recovered += r.rx.recovered;
		}
		print_message("  FEC 3x3, loss %4.1f%%: worst %zu/%d, mean %.1f, recovered %.1f/run\n",
			      losses[l] * 100, worst, STREAM, sum / 10.0, recovered / 10.0);
		assert_true(worst >= want[l] * STREAM);
	}
}

/* Isolated single losses are all rebuilt by FEC, lengths included. */
static void test_fec_single_losses(void **state)
{
	static const int shapes[][2] = {{3, 3}, {1, 1}, {2, 4}, {5, 5}, {4, 1}};
	for (size_t t = 0; t < G_N_ELEMENTS(shapes); t++) {
		int span = shapes[t][0], entries = shapes[t][1];
		struct udptl *enc = make_fec(span, entries);
		struct udptl *dec = make(UDPTL_EC_NONE, 0);
		struct sink *s = sink_new();
		static uint8_t ifps[600][UDPTL_MAX_IFP];
		static size_t lens[600];
		uint64_t rng = 99 + t;
		int gap = span * entries + 1; /* one loss per FEC window */
		for (size_t i = 0; i < 600; i++) {
			lens[i] = make_ifp(&rng, ifps[i], 200);
			uint8_t out[UDPTL_MAX_DATAGRAM];
			int len = udptl_encode(enc, ifps[i], lens[i], out, sizeof(out));
			assert_true(len > 0);
			if (i % (size_t)gap == (size_t)gap - 1 && i > (size_t)(span * entries) && i < 599)
				continue;
			assert_true(decode_exact(dec, out, (size_t)len, s) >= 1);
		}
		assert_int_equal(s->n, 600);
		for (size_t k = 0; k < 600; k++) {
			assert_int_equal(s->seq[k], k);
			assert_int_equal(s->len[k], lens[k]);
			assert_memory_equal(s->data[k], ifps[k], lens[k]);
		}
		struct udptl_stats st;
		udptl_get_stats(dec, &st);
		assert_true(st.recovered > 600 / (size_t)gap - 3);
		assert_int_equal(st.lost, 0);
		sink_free(s);
		udptl_free(&enc);
		udptl_free(&dec);
	}
}

static int encode_one(struct udptl *enc, const uint8_t *ifp, size_t len, uint8_t *out)
{
	int r = udptl_encode(enc, ifp, len, out, UDPTL_MAX_DATAGRAM);
	assert_true(r > 0);
	return r;
}

/* The rebuilt IFP is shorter than another of its chain and ends in zeros: its length comes from
   its T.38 structure, v1+ and v0. */
static void test_fec_length_recovery(void **state)
{
	/* v1+: data V.29 9600, one field t4-non-ecm-data (5 << 3) with 3 octets ending in 00 */
	static const uint8_t v1_short[] = {0xca, 0x01, 0xa8, 0x00, 0x02, 0x55, 0xaa, 0x00};
	static const uint8_t v1_long[] = {0xca, 0x01, 0xa8, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55};
	/* v0: field 4 without data in the top half of an octet, field 5 with 2 octets (ab 00) in
	   the low half; read as v1+ it would end after 5 octets with ab 00 left over */
	static const uint8_t v0_short[] = {0xca, 0x02, 0x4d, 0x00, 0x01, 0xab, 0x00};
	/* v0: field 5 with 1 octet, then field 4 without data ending in half an octet */
	static const uint8_t v0_half[] = {0xca, 0x02, 0xd0, 0x00, 0x00, 0xab, 0x40};
	static const uint8_t indicator[] = {0x04};
	static const uint8_t *const missing[] = {v1_short, v0_short, v0_half, indicator};
	static const size_t missing_len[] = {sizeof(v1_short), sizeof(v0_short), sizeof(v0_half),
					     sizeof(indicator)};

	for (size_t t = 0; t < G_N_ELEMENTS(missing); t++) {
		struct udptl *enc = make_fec(3, 1); /* chains: the previous 3 IFPs */
		struct udptl *dec = make(UDPTL_EC_NONE, 0);
		struct sink *s = sink_new();
		uint8_t out[UDPTL_MAX_DATAGRAM];
		int len;
		len = encode_one(enc, v1_long, sizeof(v1_long), out); /* 0 */
		assert_int_equal(decode_exact(dec, out, (size_t)len, s), 1);
		len = encode_one(enc, v1_long, sizeof(v1_long), out); /* 1 */
		assert_int_equal(decode_exact(dec, out, (size_t)len, s), 1);
		encode_one(enc, missing[t], missing_len[t], out);	  /* 2: lost */
		len = encode_one(enc, indicator, sizeof(indicator), out); /* 3: FEC over 0..2 */
		assert_int_equal(decode_exact(dec, out, (size_t)len, s), 2);
		assert_int_equal(s->seq[2], 2);
		assert_int_equal(s->len[2], missing_len[t]);
		assert_memory_equal(s->data[2], missing[t], missing_len[t]);
		sink_free(s);
		udptl_free(&enc);
		udptl_free(&dec);
	}
}

/* ---- sequence numbers ---- */

static void test_wraparound(void **state)
{
	struct udptl *enc = make(UDPTL_EC_REDUNDANCY, 3);
	struct udptl *dec = make(UDPTL_EC_NONE, 0);
	struct sink *s = sink_new();
	uint8_t out[UDPTL_MAX_DATAGRAM], ifp[2];
	for (uint32_t i = 0; i < 65536 + 20; i++) {
		ifp[0] = 0xc0;
		ifp[1] = (uint8_t)i;
		int len = encode_one(enc, ifp, 2, out);
		assert_int_equal(out[0] << 8 | out[1], i & 0xffff);
		/* lose 65533..65535 and 1: all come back from 0 and 2 */
		uint32_t seq = i & 0xffff;
		if (i >= 65536 && (seq == 1))
			continue;
		if (seq >= 65533)
			continue;
		if (i >= 65500 || i < 3)
			assert_true(decode_exact(dec, out, (size_t)len, s) >= 1);
		else
			assert_true(udptl_decode(dec, out, (size_t)len, NULL, NULL) == 1);
	}
	/* s holds 0, 1, 2, then 65500.. 65535, 0.. 19 */
	assert_int_equal(s->n, 3 + 36 + 20);
	for (size_t k = 3; k < s->n; k++) {
		uint16_t want = (uint16_t)(65500 + (k - 3));
		assert_int_equal(s->seq[k], want);
		assert_int_equal(s->data[k][1], (uint8_t)want);
	}
	struct udptl_stats st;
	udptl_get_stats(dec, &st);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.recovered, 4);
	assert_int_equal(st.resyncs, 0);

	/* a copy from before the wrap is dropped (a duplicate: 65530 is still in the ring) */
	uint8_t old[] = {0xff, 0xfa, 0x01, 0x02, 0x00, 0x00};
	assert_int_equal(decode_exact(dec, old, sizeof(old), s), 0);
	udptl_get_stats(dec, &st);
	assert_int_equal(st.duplicates, 1);
	sink_free(s);
	udptl_free(&enc);
	udptl_free(&dec);

	/* FEC across the wrap, decoder starting just before it */
	enc = make_fec(3, 3);
	dec = make(UDPTL_EC_NONE, 0);
	s = sink_new();
	for (uint32_t i = 0; i < 65536 + 20; i++) {
		ifp[0] = 0xc0;
		ifp[1] = (uint8_t)(i * 3);
		int len = encode_one(enc, ifp, 2, out);
		uint32_t seq = i & 0xffff;
		if (i < 65520 || (i >= 65536 && seq == 0) || (i >= 65536 && seq == 5))
			continue;
		assert_true(decode_exact(dec, out, (size_t)len, s) >= 1);
	}
	assert_int_equal(s->n, 36);
	for (size_t k = 0; k < s->n; k++) {
		uint16_t want = (uint16_t)(65520 + k);
		assert_int_equal(s->seq[k], want);
		assert_int_equal(s->data[k][1], (uint8_t)((65520 + k) * 3));
	}
	sink_free(s);
	udptl_free(&enc);
	udptl_free(&dec);
}

static void test_duplicates_late_resync(void **state)
{
	struct udptl *enc = make(UDPTL_EC_REDUNDANCY, 1);
	struct udptl *dec = make(UDPTL_EC_NONE, 0);
	struct sink *s = sink_new();
	uint8_t d[6][UDPTL_MAX_DATAGRAM];
	int len[6];
	for (int i = 0; i < 6; i++) {
		uint8_t ifp = (uint8_t)(2 * i);
		len[i] = encode_one(enc, &ifp, 1, d[i]);
	}
	struct udptl_stats st;
	assert_int_equal(decode_exact(dec, d[0], (size_t)len[0], s), 1);
	assert_int_equal(decode_exact(dec, d[0], (size_t)len[0], s), 0); /* spandsp's count copy */
	assert_int_equal(decode_exact(dec, d[0], (size_t)len[0], s), 0);
	assert_int_equal(decode_exact(dec, d[3], (size_t)len[3], s), 2); /* 1 lost, 2 rebuilt */
	assert_int_equal(decode_exact(dec, d[1], (size_t)len[1], s), 0); /* late */
	assert_int_equal(decode_exact(dec, d[2], (size_t)len[2], s), 0); /* already rebuilt */
	assert_int_equal(decode_exact(dec, d[4], (size_t)len[4], s), 1);
	udptl_get_stats(dec, &st);
	assert_int_equal(st.received, 7);
	assert_int_equal(st.delivered, 4);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(st.duplicates, 3);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.lost, 1);
	static const uint16_t want[] = {0, 2, 3, 4};
	assert_int_equal(s->n, 4);
	for (size_t k = 0; k < 4; k++)
		assert_int_equal(s->seq[k], want[k]);

	/* a big jump forward within the window: deliver what can be, count the rest lost */
	uint8_t jump[] = {0x01, 0x00, 0x01, 0x22, 0x00, 0x01, 0x01, 0x20}; /* seq 256, secondary 255 */
	assert_int_equal(decode_exact(dec, jump, sizeof(jump), s), 2);
	udptl_get_stats(dec, &st);
	assert_int_equal(st.lost, 1 + (255 - 5));
	assert_int_equal(s->seq[s->n - 2], 255);
	assert_int_equal(s->seq[s->n - 1], 256);

	/* the peer restarts from 0: more than 2000 behind is a new stream, not a late datagram */
	uint8_t restart[] = {0x00, 0x00, 0x01, 0x02, 0x00, 0x00};
	assert_int_equal(decode_exact(dec, d[5], (size_t)len[5], s), 0); /* seq 5: late */
	uint8_t ahead[] = {0x30, 0x00, 0x01, 0x02, 0x00, 0x00};		 /* 12288: far ahead */
	assert_int_equal(decode_exact(dec, ahead, sizeof(ahead), s), 1);
	assert_int_equal(decode_exact(dec, restart, sizeof(restart), s), 1);
	udptl_get_stats(dec, &st);
	assert_int_equal(st.resyncs, 2);
	assert_int_equal(s->seq[s->n - 1], 0);
	assert_int_equal(decode_exact(dec, d[1], (size_t)len[1], s), 1); /* seq 1; its secondary 0 is old */
	sink_free(s);
	udptl_free(&enc);
	udptl_free(&dec);
}

/* ---- malformed ---- */

static void check_malformed(const uint8_t *d, size_t len)
{
	struct udptl *dec = make(UDPTL_EC_NONE, 0);
	struct sink *s = sink_new_cap(4);
	assert_int_equal(decode_exact(dec, d, len, s), -1);
	assert_int_equal(s->n, 0);
	struct udptl_stats st;
	udptl_get_stats(dec, &st);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.received, 0);
	/* and the decoder is unharmed */
	static const uint8_t good[] = {0x00, 0x00, 0x01, 0x02, 0x00, 0x00};
	assert_int_equal(decode_exact(dec, good, sizeof(good), s), 1);
	sink_free(s);
	udptl_free(&dec);
}

/* Every proper prefix of a valid datagram is malformed (all of UDPTLPacket is mandatory), and
   decoding it never reads past its end (the ASan build checks that). */
static void test_truncations(void **state)
{
	struct udptl_settings set;
	udptl_settings_default(&set);
	uint8_t ifps[4][300];
	size_t lens[4] = {1, 200, 3, 129};
	for (size_t i = 0; i < 4; i++)
		for (size_t k = 0; k < lens[i]; k++)
			ifps[i][k] = (uint8_t)(i + k + 1);
	static const enum udptl_ec ecs[] = {UDPTL_EC_NONE, UDPTL_EC_REDUNDANCY, UDPTL_EC_FEC};
	int checked = 0;
	for (size_t e = 0; e < G_N_ELEMENTS(ecs); e++) {
		set.ec = ecs[e];
		set.fec_span = 2;
		set.fec_entries = 2;
		struct udptl *enc = udptl_create(&set);
		for (size_t i = 0; i < 8; i++) {
			uint8_t out[UDPTL_MAX_DATAGRAM];
			int len = encode_one(enc, ifps[i % 4], lens[i % 4], out);
			for (size_t cut = 0; cut < (size_t)len; cut++) {
				check_malformed(out, cut);
				checked++;
			}
			struct udptl *dec = make(UDPTL_EC_NONE, 0);
			assert_true(decode_exact(dec, out, (size_t)len, NULL) >= 1);
			udptl_free(&dec);
			/* trailing junk */
			out[len] = 0;
			check_malformed(out, (size_t)len + 1);
		}
		udptl_free(&enc);
	}
	print_message("  %d truncated datagrams rejected\n", checked);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *why;
		size_t len;
		uint8_t d[16];
	} bad[] = {
	    {"empty", 0, {0}},
	    {"seq only", 2, {0x00, 0x01}},
	    {"primary past the end", 6, {0x00, 0x01, 0x05, 0x02, 0x00, 0x00}},
	    {"long-form primary past the end", 7, {0x00, 0x01, 0x81, 0x00, 0x02, 0x00, 0x00}},
	    {"long form cut", 3, {0x00, 0x01, 0x81}},
	    {"fragmented primary", 8, {0x00, 0x01, 0xc1, 0x02, 0x00, 0x00, 0x00, 0x00}},
	    {"empty primary", 5, {0x00, 0x01, 0x00, 0x00, 0x00}},
	    {"no error-recovery", 4, {0x00, 0x01, 0x01, 0x02}},
	    {"no count", 5, {0x00, 0x01, 0x01, 0x02, 0x00}},
	    {"secondary past the end", 8, {0x00, 0x01, 0x01, 0x02, 0x00, 0x01, 0x02, 0x04}},
	    {"missing secondary", 8, {0x00, 0x01, 0x01, 0x02, 0x00, 0x02, 0x01, 0x04}},
	    {"empty secondary", 7, {0x00, 0x01, 0x01, 0x02, 0x00, 0x01, 0x00}},
	    {"fragmented count", 7, {0x00, 0x01, 0x01, 0x02, 0x00, 0xc1, 0x00}},
	    {"9 secondaries",
	     16,
	     {0x00, 0x09, 0x01, 0x02, 0x00, 0x09, 0x01, 1, 0x01, 2, 0x01, 3, 0x01, 4, 0x01, 5}},
	    {"trailing junk", 7, {0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00}},
	    {"FEC: no span", 5, {0x00, 0x01, 0x01, 0x02, 0x80}},
	    {"FEC: span of 2 octets", 9, {0x00, 0x01, 0x01, 0x02, 0x80, 0x02, 0x00, 0x03, 0x00}},
	    {"FEC: negative span", 8, {0x00, 0x01, 0x01, 0x02, 0x80, 0x01, 0xff, 0x00}},
	    {"FEC: no entry count", 7, {0x00, 0x01, 0x01, 0x02, 0x80, 0x01, 0x03}},
	    {"FEC: 6 entries",
	     14,
	     {0x00, 0x01, 0x01, 0x02, 0x80, 0x01, 0x03, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
	    {"FEC: entry past the end", 10, {0x00, 0x01, 0x01, 0x02, 0x80, 0x01, 0x03, 0x01, 0x03, 0x00}},
	    {"FEC: trailing junk", 10, {0x00, 0x01, 0x01, 0x02, 0x80, 0x01, 0x03, 0x01, 0x00, 0x00}},
	};
	for (size_t t = 0; t < G_N_ELEMENTS(bad); t++) {
		print_message("  %s\n", bad[t].why);
		check_malformed(bad[t].d, bad[t].len);
	}

	/* an IFP longer than UDPTL_MAX_IFP, as primary and as secondary */
	uint8_t big[2 + 2 + UDPTL_MAX_IFP + 1 + 4];
	memset(big, 0x11, sizeof(big));
	big[0] = 0;
	big[1] = 1;
	big[2] = 0x80 | ((UDPTL_MAX_IFP + 1) >> 8);
	big[3] = (UDPTL_MAX_IFP + 1) & 0xff;
	big[4 + UDPTL_MAX_IFP + 1] = 0x00;
	big[4 + UDPTL_MAX_IFP + 2] = 0x00;
	check_malformed(big, 4 + UDPTL_MAX_IFP + 3);
	big[2] = 0x80 | (UDPTL_MAX_IFP >> 8); /* the same at exactly the limit is fine, less one octet */
	big[3] = UDPTL_MAX_IFP & 0xff;
	struct udptl *dec = make(UDPTL_EC_NONE, 0);
	big[4 + UDPTL_MAX_IFP] = 0x00;
	big[4 + UDPTL_MAX_IFP + 1] = 0x00;
	assert_int_equal(decode_exact(dec, big, 4 + UDPTL_MAX_IFP + 2, NULL), 1);
	udptl_free(&dec);

	uint8_t sec[4 + 2 + 2 + UDPTL_MAX_IFP + 1];
	memset(sec, 0x22, sizeof(sec));
	sec[0] = 0;
	sec[1] = 1;
	sec[2] = 0x01;
	sec[3] = 0x02;
	sec[4] = 0x00;
	sec[5] = 0x01;
	sec[6] = 0x80 | ((UDPTL_MAX_IFP + 1) >> 8);
	sec[7] = (UDPTL_MAX_IFP + 1) & 0xff;
	check_malformed(sec, sizeof(sec));

	/* garbage: whatever comes out is well formed */
	uint64_t rng = 7;
	dec = make(UDPTL_EC_NONE, 0);
	struct sink *s = sink_new();
	int ok = 0;
	for (int i = 0; i < 20000; i++) {
		uint8_t g[64];
		size_t n = rng_below(&rng, sizeof(g) + 1);
		for (size_t k = 0; k < n; k++)
			g[k] = (uint8_t)rng_next(&rng);
		if (n > 4 && rng_chance(&rng, 0.5)) {
			g[2] = (uint8_t)rng_below(&rng, 8); /* plausible lengths, to get further in */
			g[n - 1] = 0;
		}
		s->n = 0;
		int r = decode_exact(dec, g, n, s);
		assert_true(r >= -1);
		assert_int_equal(r < 0 ? 0 : r, s->n);
		ok += r > 0;
	}
	print_message("  garbage: %d of 20000 decoded\n", ok);
	sink_free(s);
	udptl_free(&dec);
}

/* ---- encoder limits ---- */

static void test_encode_errors(void **state)
{
	struct udptl *enc = make(UDPTL_EC_REDUNDANCY, 3);
	uint8_t ifp[UDPTL_MAX_IFP + 1] = {0x02}, out[UDPTL_MAX_DATAGRAM];
	assert_int_equal(udptl_encode(enc, ifp, 0, out, sizeof(out)), -1);
	assert_int_equal(udptl_encode(enc, NULL, 1, out, sizeof(out)), -1);
	assert_int_equal(udptl_encode(enc, ifp, UDPTL_MAX_IFP + 1, out, sizeof(out)), -1);
	assert_int_equal(udptl_encode(enc, ifp, 1, out, 5), -1); /* needs 6 */
	assert_int_equal(udptl_encode(enc, ifp, 1, NULL, 100), -1);
	/* nothing was consumed: the first datagram is still seq 0 */
	assert_int_equal(udptl_encode(enc, ifp, 1, out, 6), 6);
	assert_int_equal(out[0] << 8 | out[1], 0);
	assert_int_equal(udptl_encode(enc, ifp, UDPTL_MAX_IFP, out, sizeof(out)),
			 2 + 2 + UDPTL_MAX_IFP + 2 + 2);
	struct udptl_stats st;
	udptl_get_stats(enc, &st);
	assert_int_equal(st.sent, 2);
	udptl_free(&enc);

	/* out of range settings are clamped */
	struct udptl_settings set;
	udptl_settings_default(&set);
	set.redundancy_depth = 99;
	set.max_datagram = 100000;
	enc = udptl_create(&set);
	for (int i = 0; i < 20; i++) {
		ifp[0] = (uint8_t)i;
		int len = udptl_encode(enc, ifp, 1, out, sizeof(out));
		assert_int_equal(out[5], MIN(i, UDPTL_MAX_REDUNDANCY));
		assert_int_equal(len, 6 + 2 * MIN(i, UDPTL_MAX_REDUNDANCY));
	}
	udptl_free(&enc);
}

static void test_max_datagram(void **state)
{
	struct udptl_settings set;
	udptl_settings_default(&set);
	set.max_datagram = 100;
	struct udptl *enc = udptl_create(&set);
	uint8_t ifp[UDPTL_MAX_IFP], out[UDPTL_MAX_DATAGRAM];
	memset(ifp, 0x5a, sizeof(ifp));

	/* 40-octet IFPs: 45 + 41 fits, a second secondary would make 127 */
	for (int i = 0; i < 4; i++) {
		int len = udptl_encode(enc, ifp, 40, out, sizeof(out));
		assert_int_equal(len, i == 0 ? 45 : 86);
		assert_int_equal(out[44], i == 0 ? 0 : 1); /* count, after seq, len, 40 octets, 0x00 */
	}
	/* the primary alone must fit */
	assert_int_equal(udptl_encode(enc, ifp, 95, out, sizeof(out)), 100);
	assert_int_equal(udptl_encode(enc, ifp, 96, out, sizeof(out)), -1);
	udptl_free(&enc);

	/* random sizes, every kind of EC: never over the limit, and lossless in order */
	static const enum udptl_ec ecs[] = {UDPTL_EC_NONE, UDPTL_EC_REDUNDANCY, UDPTL_EC_FEC};
	static const size_t limits[] = {60, 100, 400, 1400};
	uint64_t rng = 3;
	for (size_t e = 0; e < G_N_ELEMENTS(ecs); e++) {
		for (size_t l = 0; l < G_N_ELEMENTS(limits); l++) {
			set.ec = ecs[e];
			set.redundancy_depth = 5;
			set.max_datagram = limits[l];
			enc = udptl_create(&set);
			struct udptl *dec = make(UDPTL_EC_NONE, 0);
			struct sink *s = sink_new();
			size_t sent = 0, ec_min = ecs[e] == UDPTL_EC_FEC ? 4 : 2;
			for (int i = 0; i < 500; i++) {
				size_t n = 1 + rng_below(&rng, (unsigned)MIN(limits[l], UDPTL_MAX_IFP));
				ifp[0] = (uint8_t)i;
				int len = udptl_encode(enc, ifp, n, out, sizeof(out));
				if (n + 2 + (n < 128 ? 1 : 2) + ec_min > limits[l]) {
					assert_int_equal(len, -1);
					continue;
				}
				assert_true(len > 0 && (size_t)len <= limits[l]);
				assert_int_equal(decode_exact(dec, out, (size_t)len, s), 1);
				assert_int_equal(s->seq[s->n - 1], sent);
				assert_int_equal(s->len[s->n - 1], n);
				sent++;
			}
			sink_free(s);
			udptl_free(&dec);
			udptl_free(&enc);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settings_default),
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_length_determinant),
	    cmocka_unit_test(test_layout_sip_t38),
	    cmocka_unit_test(test_decode_foreign),
	    cmocka_unit_test(test_channel_redundancy),
	    cmocka_unit_test(test_channel_fec),
	    cmocka_unit_test(test_fec_single_losses),
	    cmocka_unit_test(test_fec_length_recovery),
	    cmocka_unit_test(test_wraparound),
	    cmocka_unit_test(test_duplicates_late_resync),
	    cmocka_unit_test(test_truncations),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_max_datagram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
