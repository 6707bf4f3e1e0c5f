/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * UDPTL codec: T.38 IFP packets in UDPTL datagrams and back, with redundancy or parity FEC.
 * Standards: ITU-T T.38 §9.1 and its ASN.1 module (UDPTLPacket), encoded in ITU-T X.691 aligned
 * PER, octet for octet as Asterisk and FreeSWITCH put it on the wire (research/sip-t38.md §2.3).
 *
 *   UDPTLPacket ::= SEQUENCE {
 *     seq-number          INTEGER (0..65535),                  -- 2 octets, big endian
 *     primary-ifp-packet  open type (IFPPacket),               -- length determinant + octets
 *     error-recovery      CHOICE {                             -- 1 octet: 0x00 or 0x80
 *       secondary-ifp-packets  SEQUENCE OF open type,          -- count, then newest first
 *       fec-info  SEQUENCE { fec-npackets INTEGER,             -- 0x01, span
 *                            fec-data SEQUENCE OF OCTET STRING } } }  -- count, then entries
 *
 * Length determinants (X.691 §10.9): 0..127 in one octet, 128..16383 in two (0x80 | len >> 8,
 * len & 0xff); the fragmented form (first octet 0xC0..) is for 16384 or more, which nothing here
 * can carry, so it is rejected.
 *
 * FEC, as Asterisk and FreeSWITCH compute it: datagram s with span S and E entries carries, in
 * entry m (0 <= m < E), the XOR of the S IFPs s+m-S*E, s+m-S*E+E, ..., s+m-E (each zero-padded to
 * the longest). The E chains interleave over the previous S*E datagrams, so any single loss among
 * them, and up to E consecutive ones, can be rebuilt from the next datagram. The sender winds up
 * at the start of a stream as Asterisk does (E = sent/S, S = 0 while fewer than S were sent).
 *
 * Decoder design. It has no clock, so it never holds an IFP back hoping for a better datagram: when
 * datagram s arrives and the next undelivered sequence number is n < s, it rebuilds what it can of
 * n..s-1 from s's own redundancy or FEC (older datagrams' FEC only covers numbers below n), delivers
 * those and s in order, gives the rest up as lost and expects s+1. A datagram below the expected
 * number is a duplicate (its IFP was delivered) or late (given up) and is dropped; that is also how
 * the `count` copies spandsp asks for are absorbed. Sequence numbers are compared modulo 2^16
 * within a window of 2000 either way (spandsp's t38_core uses the same figure); a datagram outside
 * it is taken as a restarted stream: the decoder delivers its secondaries and primary and starts
 * again from there. The last 32 IFPs (delivered or given up) are kept in a ring for FEC and for
 * telling duplicates from late datagrams.
 *
 * XXX FEC carries no lengths. A rebuilt IFP is as long as its FEC entry, which is exact when it was
 * the longest of its chain; when another member was as long, the true length is read back from the
 * T.38 IFP structure itself (spandsp rejects an IFP with trailing octets), trying the T.38 v1+ and
 * then the v0 field encoding, and failing that the entry's length is used as Asterisk does.
 */
#include "faxd/udptl.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

/* Ring of past IFPs on each side: a power of two dividing 65536, deeper than any redundancy or
   FEC window we send (8, 5 * 5). */
#define RING 32
#define RING_MASK (RING - 1)
/* Sequence numbers this far ahead or behind are a gap or a late datagram; farther is a restart. */
#define SEQ_WINDOW 2000
/* Most items (secondaries or FEC entries) in one datagram. */
#define MAX_ITEMS                                                                                            \
	(UDPTL_MAX_REDUNDANCY > UDPTL_MAX_FEC_ENTRIES ? UDPTL_MAX_REDUNDANCY : UDPTL_MAX_FEC_ENTRIES)

G_STATIC_ASSERT((RING & RING_MASK) == 0 && 65536 % RING == 0);
G_STATIC_ASSERT(UDPTL_MAX_REDUNDANCY < RING && UDPTL_MAX_FEC_SPAN * UDPTL_MAX_FEC_ENTRIES < RING);
G_STATIC_ASSERT(UDPTL_MAX_IFP < 16384 && UDPTL_MAX_DATAGRAM < 65536);

enum slot_state { SLOT_EMPTY, SLOT_DELIVERED, SLOT_LOST };

struct slot {
	uint16_t seq;
	uint16_t len;
	uint8_t state; /* receive side only */
	uint8_t data[UDPTL_MAX_IFP];
};

struct udptl {
	struct udptl_settings set;

	uint16_t tx_seq;   /* number of the next datagram */
	uint32_t tx_count; /* IFPs sent so far (saturating): how much of the tx ring is history */
	struct slot tx[RING];

	bool rx_started;
	uint16_t rx_next; /* lowest sequence number neither delivered nor given up */
	struct slot rx[RING];

	struct udptl_stats stats;
};

/* One parsed datagram; pointers into it. */
struct view {
	uint16_t seq;
	const uint8_t *primary;
	size_t primary_len;
	bool fec;
	unsigned span; /* FEC only */
	size_t n;      /* secondaries (newest first) or FEC entries */
	const uint8_t *item[MAX_ITEMS];
	size_t item_len[MAX_ITEMS];
};

void udptl_settings_default(struct udptl_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->ec = UDPTL_EC_REDUNDANCY;
	set->redundancy_depth = UDPTL_DEFAULT_REDUNDANCY_DEPTH;
	set->fec_span = UDPTL_DEFAULT_FEC_SPAN;
	set->fec_entries = UDPTL_DEFAULT_FEC_ENTRIES;
	set->max_datagram = UDPTL_MAX_DATAGRAM;
}

struct udptl *udptl_create(const struct udptl_settings *set)
{
	struct udptl *u = g_new0(struct udptl, 1);
	if (set != NULL)
		u->set = *set;
	else
		udptl_settings_default(&u->set);
	if (u->set.ec != UDPTL_EC_NONE && u->set.ec != UDPTL_EC_REDUNDANCY && u->set.ec != UDPTL_EC_FEC)
		u->set.ec = UDPTL_EC_NONE;
	u->set.redundancy_depth = CLAMP(u->set.redundancy_depth, 0, UDPTL_MAX_REDUNDANCY);
	u->set.fec_span = CLAMP(u->set.fec_span, 1, UDPTL_MAX_FEC_SPAN);
	u->set.fec_entries = CLAMP(u->set.fec_entries, 1, UDPTL_MAX_FEC_ENTRIES);
	if (u->set.max_datagram == 0 || u->set.max_datagram > UDPTL_MAX_DATAGRAM)
		u->set.max_datagram = UDPTL_MAX_DATAGRAM;
	return u;
}

void udptl_free(struct udptl **up)
{
	if (up == NULL || *up == NULL)
		return;
	g_free(*up);
	*up = NULL;
}

void udptl_get_stats(const struct udptl *u, struct udptl_stats *stats_r)
{
	*stats_r = u->stats;
}

/* ---- PER primitives ---- */

static size_t length_size(size_t n)
{
	return n < 0x80 ? 1 : 2;
}

static size_t open_type_size(size_t n)
{
	return length_size(n) + n;
}

/* Callers have checked that n < 16384 and that the octets fit. */
static size_t put_length(uint8_t *out, size_t n)
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	out[0] = (uint8_t)(0x80 | (n >> 8));
	out[1] = (uint8_t)(n & 0xff);
	return 2;
}

static int get_length(const uint8_t *b, size_t len, size_t *pos, size_t *value_r)
{
	if (*pos >= len)
		return -1;
	uint8_t c = b[(*pos)++];
	if ((c & 0x80) == 0) {
		*value_r = c;
		return 0;
	}
	if ((c & 0x40) != 0)
		return -1; /* fragmented: 16K or more */
	if (*pos >= len)
		return -1;
	*value_r = ((size_t)(c & 0x3f) << 8) | b[(*pos)++];
	return 0;
}

static int get_open_type(const uint8_t *b, size_t len, size_t *pos, const uint8_t **p_r, size_t *n_r)
{
	size_t n;
	if (get_length(b, len, pos, &n) < 0 || n > UDPTL_MAX_IFP || n > len - *pos)
		return -1;
	*p_r = b + *pos;
	*n_r = n;
	*pos += n;
	return 0;
}

/* Checks the whole datagram before anything is delivered. */
static int parse(const uint8_t *b, size_t len, struct view *v)
{
	size_t pos = 2, count, span_len;

	if (b == NULL || len < 2)
		return -1;
	v->seq = (uint16_t)(b[0] << 8 | b[1]);
	if (get_open_type(b, len, &pos, &v->primary, &v->primary_len) < 0 || v->primary_len == 0)
		return -1;
	if (pos >= len)
		return -1;
	/* The CHOICE index is the top bit; the other seven are padding, ignored as Asterisk does. */
	v->fec = (b[pos++] & 0x80) != 0;
	v->span = 0;
	if (v->fec) {
		/* fec-npackets: an unconstrained INTEGER; every implementation sends one octet. */
		if (get_length(b, len, &pos, &span_len) < 0 || span_len != 1 || pos >= len)
			return -1;
		if ((b[pos] & 0x80) != 0)
			return -1; /* negative */
		v->span = b[pos++];
		if (get_length(b, len, &pos, &count) < 0 || count > UDPTL_MAX_FEC_ENTRIES)
			return -1;
	} else {
		if (get_length(b, len, &pos, &count) < 0 || count > UDPTL_MAX_REDUNDANCY)
			return -1;
	}
	v->n = count;
	for (size_t i = 0; i < count; i++) {
		if (get_open_type(b, len, &pos, &v->item[i], &v->item_len[i]) < 0)
			return -1;
		if (!v->fec && v->item_len[i] == 0)
			return -1; /* an IFP is never empty */
	}
	return pos == len ? 0 : -1;
}

/* ---- encoder ---- */

/* Longest IFP of FEC chain m for datagram seq with span s and e entries. */
static size_t chain_max(const struct udptl *u, uint16_t seq, unsigned m, unsigned s, unsigned e)
{
	size_t max = 0;
	for (unsigned j = 0; j < s; j++) {
		const struct slot *sl = &u->tx[(uint16_t)(seq + m - s * e + j * e) & RING_MASK];
		max = MAX(max, sl->len);
	}
	return max;
}

static size_t fec_size(const struct udptl *u, uint16_t seq, unsigned s, unsigned e)
{
	size_t need = 4; /* 0x80, 0x01, span, entry count */
	for (unsigned m = 0; m < e; m++)
		need += open_type_size(chain_max(u, seq, m, s, e));
	return need;
}

int udptl_encode(struct udptl *u, const uint8_t *ifp, size_t ifp_len, uint8_t *out, size_t out_size)
{
	if (u == NULL || ifp == NULL || out == NULL || ifp_len == 0 || ifp_len > UDPTL_MAX_IFP)
		return -1;

	const size_t limit = MIN(out_size, u->set.max_datagram);
	const uint16_t seq = u->tx_seq;
	const size_t base = 2 + open_type_size(ifp_len);
	unsigned k = 0, span = 0, entries = 0;
	size_t need;

	switch (u->set.ec) {
	case UDPTL_EC_REDUNDANCY:
		/* Drop the oldest secondaries until the datagram fits the far end's limit. */
		k = (unsigned)MIN((uint32_t)u->set.redundancy_depth, u->tx_count);
		for (;;) {
			need = base + 2;
			for (unsigned i = 1; i <= k; i++)
				need += open_type_size(u->tx[(uint16_t)(seq - i) & RING_MASK].len);
			if (need <= limit || k == 0)
				break;
			k--;
		}
		break;
	case UDPTL_EC_FEC:
		span = (unsigned)u->set.fec_span;
		entries = (unsigned)u->set.fec_entries;
		if (u->tx_count < span * entries) {
			/* Wind up as Asterisk does: only chains over IFPs already sent. */
			entries = u->tx_count / span;
			if (u->tx_count < span)
				span = 0;
		}
		for (;;) {
			need = base + fec_size(u, seq, span, entries);
			if (need <= limit || entries == 0)
				break;
			entries--;
		}
		if (entries == 0)
			span = 0;
		break;
	case UDPTL_EC_NONE:
	default:
		need = base + 2;
		break;
	}
	if (need > limit)
		return -1;

	/* Keep the IFP first, so ifp may even point into out. */
	struct slot *cur = &u->tx[seq & RING_MASK];
	memmove(cur->data, ifp, ifp_len);
	cur->len = (uint16_t)ifp_len;
	cur->seq = seq;

	size_t pos = 0;
	out[pos++] = (uint8_t)(seq >> 8);
	out[pos++] = (uint8_t)(seq & 0xff);
	pos += put_length(out + pos, ifp_len);
	memcpy(out + pos, cur->data, ifp_len);
	pos += ifp_len;
	if (u->set.ec == UDPTL_EC_FEC) {
		out[pos++] = 0x80;
		out[pos++] = 0x01;
		out[pos++] = (uint8_t)span;
		out[pos++] = (uint8_t)entries;
		for (unsigned m = 0; m < entries; m++) {
			size_t max = chain_max(u, seq, m, span, entries);
			pos += put_length(out + pos, max);
			memset(out + pos, 0, max);
			for (unsigned j = 0; j < span; j++) {
				const struct slot *sl =
				    &u->tx[(uint16_t)(seq + m - span * entries + j * entries) & RING_MASK];
				for (size_t i = 0; i < sl->len; i++)
					out[pos + i] ^= sl->data[i];
			}
			pos += max;
		}
	} else {
		out[pos++] = 0x00;
		pos += put_length(out + pos, k);
		for (unsigned i = 1; i <= k; i++) {
			const struct slot *sl = &u->tx[(uint16_t)(seq - i) & RING_MASK];
			pos += put_length(out + pos, sl->len);
			memcpy(out + pos, sl->data, sl->len);
			pos += sl->len;
		}
	}
	g_assert(pos == need);

	u->tx_seq++;
	if (u->tx_count < UINT32_MAX)
		u->tx_count++;
	u->stats.sent++;
	return (int)need;
}

/* ---- decoder ---- */

/* Length of the T.38 IFPPacket at the start of b[0..n) as spandsp's t38_core parses it, with the
   v0 (original, typo'd ASN.1) or the v1+ data-field encoding; -1 if it does not parse. */
static long ifp_length(const uint8_t *b, size_t n, bool v0)
{
	size_t pos;
	if (n < 1)
		return -1;
	bool data_field = (b[0] & 0x80) != 0;
	pos = (b[0] & 0x20) ? 2 : 1; /* extension: a second octet */
	if (pos > n)
		return -1;
	if ((b[0] & 0x40) == 0) /* t30-indicator */
		return data_field ? -1 : (long)pos;
	if (!data_field)
		return (long)pos;
	if (pos >= n || (b[pos] & 0x80) != 0)
		return -1;
	size_t count = b[pos++];
	bool half = false;
	for (size_t i = 0; i < count; i++) {
		bool field_data;
		if (pos >= n)
			return -1;
		if (v0) {
			/* A field without data takes half an octet; the next one takes the other half. */
			if (half) {
				field_data = (b[pos] & 0x08) != 0;
				pos++;
				half = false;
			} else {
				field_data = (b[pos] & 0x80) != 0;
				if (field_data)
					pos++;
				else
					half = true;
			}
		} else {
			field_data = (b[pos] & 0x80) != 0;
			pos += (b[pos] & 0x40) ? 2 : 1;
		}
		if (field_data) {
			if (pos + 2 > n)
				return -1;
			pos += 2 + (((size_t)b[pos] << 8) | b[pos + 1]) + 1;
		}
		if (pos > n)
			return -1;
	}
	if (half)
		pos++;
	return pos <= n ? (long)pos : -1;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] != 0)
			return false;
	}
	return true;
}

/* True length of a rebuilt IFP of at most f octets whose tail past the true length is zero. */
static size_t resolve_length(const uint8_t *b, size_t f)
{
	for (int v0 = 0; v0 <= 1; v0++) {
		long l = ifp_length(b, f, v0 != 0);
		if (l > 0 && all_zero(b + l, f - (size_t)l))
			return (size_t)l;
	}
	return f;
}

/* Rebuilds IFP x (missing, s-RING < x < s) from datagram s's FEC into x's ring slot. */
static bool fec_recover(struct udptl *u, const struct view *v, uint16_t x)
{
	unsigned off = (uint16_t)(v->seq - x);
	unsigned se = v->span * (unsigned)v->n;
	if (v->span == 0 || v->n == 0 || off > se)
		return false;
	unsigned m = (se - off) % (unsigned)v->n;
	size_t f = v->item_len[m];
	if (f == 0)
		return false;

	/* Every other member must be delivered and within the ring, so no slot aliases another. */
	for (unsigned j = 0; j < v->span; j++) {
		unsigned back = se - m - j * (unsigned)v->n; /* v->seq - member */
		uint16_t member = (uint16_t)(v->seq - back);
		if (member == x)
			continue;
		const struct slot *sl = &u->rx[member & RING_MASK];
		if (back >= RING || sl->state != SLOT_DELIVERED || sl->seq != member || sl->len > f)
			return false;
	}
	struct slot *dst = &u->rx[x & RING_MASK];
	size_t others_max = 0;
	memcpy(dst->data, v->item[m], f);
	for (unsigned j = 0; j < v->span; j++) {
		uint16_t member = (uint16_t)(v->seq - (se - m - j * (unsigned)v->n));
		if (member == x)
			continue;
		const struct slot *sl = &u->rx[member & RING_MASK];
		for (size_t i = 0; i < sl->len; i++)
			dst->data[i] ^= sl->data[i];
		others_max = MAX(others_max, sl->len);
	}
	dst->seq = x;
	dst->len = (uint16_t)(others_max < f ? f : resolve_length(dst->data, f));
	dst->state = SLOT_DELIVERED;
	return true;
}

static void keep(struct udptl *u, uint16_t seq, const uint8_t *ifp, size_t len)
{
	struct slot *sl = &u->rx[seq & RING_MASK];
	sl->seq = seq;
	sl->state = SLOT_DELIVERED;
	sl->len = (uint16_t)len;
	memcpy(sl->data, ifp, len);
}

int udptl_decode(struct udptl *u, const uint8_t *dgram, size_t len, udptl_deliver_fn *deliver, void *ctx)
{
	struct view v;

	if (u == NULL)
		return -1;
	if (parse(dgram, len, &v) < 0) {
		u->stats.malformed++;
		return -1;
	}
	u->stats.received++;

	const uint16_t s = v.seq;
	uint16_t d = (uint16_t)(s - u->rx_next);
	if (u->rx_started && d > 65536 - SEQ_WINDOW) {
		const struct slot *sl = &u->rx[s & RING_MASK];
		if (sl->seq == s && sl->state == SLOT_DELIVERED)
			u->stats.duplicates++;
		else
			u->stats.late++;
		return 0;
	}
	if (d >= SEQ_WINDOW) {
		/* A restarted stream (or a first datagram far from 0): take its secondaries as they are. */
		if (u->rx_started)
			u->stats.resyncs++;
		for (size_t i = 0; i < RING; i++)
			u->rx[i].state = SLOT_EMPTY;
		u->rx_next = (uint16_t)(s - (v.fec ? 0 : v.n));
		d = (uint16_t)(s - u->rx_next);
	}
	u->rx_started = true;

	int delivered = 0;
	uint16_t x = u->rx_next;
	if (d > RING - 1) {
		/* Nothing can rebuild these: redundancy and FEC reach back less than RING. */
		u->stats.lost += d - (RING - 1);
		x = (uint16_t)(s - (RING - 1));
	}
	for (; x != s; x++) {
		unsigned off = (uint16_t)(s - x);
		struct slot *sl = &u->rx[x & RING_MASK];
		bool ok;
		if (v.fec) {
			ok = fec_recover(u, &v, x);
		} else {
			ok = off <= v.n;
			if (ok)
				keep(u, x, v.item[off - 1], v.item_len[off - 1]);
		}
		if (!ok) {
			sl->seq = x;
			sl->state = SLOT_LOST;
			sl->len = 0;
			u->stats.lost++;
			continue;
		}
		u->stats.recovered++;
		u->stats.delivered++;
		delivered++;
		if (deliver != NULL)
			deliver(ctx, x, sl->data, sl->len);
	}
	keep(u, s, v.primary, v.primary_len);
	u->rx_next = (uint16_t)(s + 1);
	u->stats.delivered++;
	delivered++;
	if (deliver != NULL)
		deliver(ctx, s, v.primary, v.primary_len);
	return delivered;
}
