/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RTP packets and the G.711 jitter buffer (faxd/rtp.h). STANDARDS: RFC 3550 (packet format, §5.1
 * sequence and timestamp; §A.1 header validity), RFC 3551 (payload types 0 and 8, 8000 Hz).
 *
 * The jitter buffer works in samples, not packets: the ring is indexed by RTP timestamp relative
 * to the play-out point, so packets of 10, 20 or 30 ms mix freely with the 20 ms media tick, a
 * reordered packet lands where it belongs, and a lost one leaves its samples absent. Absent
 * samples are reported, not invented: a fax modem given silence for a lost packet mis-trains,
 * while spandsp's fax_rx_fillin keeps its timing (research/spandsp.md).
 */
#include "faxd/rtp.h"

#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

int rtp_decode(const uint8_t *buf, size_t len, struct rtp_packet *packet_r)
{
	if (len < RTP_HEADER_SIZE || buf[0] >> 6 != 2)
		return -1;
	size_t head = RTP_HEADER_SIZE + 4u * (buf[0] & 0x0F); /* CSRC list */
	if ((buf[0] & 0x10) != 0) {                         /* header extension: 4 octets + its words */
		if (len < head + 4)
			return -1;
		head += 4 + 4u * get16(buf + head + 2);
	}
	size_t padding = (buf[0] & 0x20) != 0 ? buf[len - 1] : 0;
	if (head > len || padding > len - head || ((buf[0] & 0x20) != 0 && padding == 0))
		return -1;
	size_t payload_len = len - head - padding;
	if (payload_len > RTP_MAX_PAYLOAD)
		return -1;
	*packet_r = (struct rtp_packet){
		.payload_type = buf[1] & 0x7F, .marker = (buf[1] & 0x80) != 0, .seq = get16(buf + 2),
		.timestamp = get32(buf + 4), .ssrc = get32(buf + 8), .payload = buf + head, .payload_len = payload_len,
	};
	return 0;
}

int rtp_encode(const struct rtp_packet *packet, uint8_t *out, size_t size)
{
	if (packet->payload_len > RTP_MAX_PAYLOAD || size < RTP_HEADER_SIZE + packet->payload_len)
		return -1;
	out[0] = 0x80; /* version 2, no padding, no extension, no CSRC */
	out[1] = (uint8_t)((packet->marker ? 0x80 : 0) | (packet->payload_type & 0x7F));
	put16(out + 2, packet->seq);
	put32(out + 4, packet->timestamp);
	put32(out + 8, packet->ssrc);
	if (packet->payload_len > 0)
		memcpy(out + RTP_HEADER_SIZE, packet->payload, packet->payload_len);
	return (int)(RTP_HEADER_SIZE + packet->payload_len);
}

void rtp_sender_init(struct rtp_sender *sender, uint8_t payload_type, uint32_t ssrc, uint16_t first_seq,
		     uint32_t first_timestamp)
{
	*sender = (struct rtp_sender){.payload_type = payload_type, .seq = first_seq, .timestamp = first_timestamp,
				      .ssrc = ssrc, .marker_next = true};
}

int rtp_sender_next(struct rtp_sender *sender, const uint8_t *samples, size_t len, uint8_t *out, size_t size)
{
	struct rtp_packet p = {.payload_type = sender->payload_type, .marker = sender->marker_next,
			       .seq = sender->seq, .timestamp = sender->timestamp, .ssrc = sender->ssrc,
			       .payload = samples, .payload_len = len};
	int n = rtp_encode(&p, out, size);
	if (n < 0)
		return -1;
	sender->seq++;
	sender->timestamp += (uint32_t)len; /* G.711: one sample per octet */
	sender->marker_next = false;
	return n;
}

/* ---- jitter buffer ---- */

void rtp_jitter_init(struct rtp_jitter *j, const struct rtp_jitter_settings *settings)
{
	memset(j, 0, sizeof(*j));
	j->set = *settings;
	if (j->set.prefill_samples <= 0)
		j->set.prefill_samples = 480;
	if (j->set.prefill_samples > RTP_JITTER_RING / 2)
		j->set.prefill_samples = RTP_JITTER_RING / 2;
}

/* Start over on this packet: everything stored so far is dropped. */
static void restart(struct rtp_jitter *j, const struct rtp_packet *p)
{
	memset(j->present, 0, sizeof(j->present));
	j->started = true;
	j->playing = false;
	j->ssrc = p->ssrc;
	j->read_ts = p->timestamp;
	j->read_idx = 0;
	j->newest_end = p->timestamp;
}

/* Store the samples of p at offset (from the play-out point); how many were new. */
static size_t store(struct rtp_jitter *j, const struct rtp_packet *p, int64_t offset)
{
	size_t fresh = 0;
	for (size_t i = 0; i < p->payload_len; i++) {
		int64_t pos = offset + (int64_t)i;
		if (pos < 0)
			continue; /* this part was played out already */
		unsigned idx = (j->read_idx + (unsigned)pos) % RTP_JITTER_RING;
		fresh += !j->present[idx];
		j->samples[idx] = p->payload[i];
		j->present[idx] = 1;
	}
	uint32_t end = p->timestamp + (uint32_t)p->payload_len;
	if ((int32_t)(end - j->newest_end) > 0)
		j->newest_end = end;
	return fresh;
}

enum rtp_jitter_put rtp_jitter_put(struct rtp_jitter *j, const struct rtp_packet *p)
{
	if (p->payload_type != j->set.payload_type)
		return RTP_JITTER_REFUSED;
	enum rtp_jitter_put result = RTP_JITTER_STORED;
	int64_t offset = j->started ? (int32_t)(p->timestamp - j->read_ts) : 0;
	if (!j->started || p->ssrc != j->ssrc || offset + (int64_t)p->payload_len > RTP_JITTER_RING ||
	    offset < -(int64_t)RTP_JITTER_RING) {
		result = j->started ? RTP_JITTER_RESYNC : RTP_JITTER_STORED;
		restart(j, p);
		offset = 0;
	}
	if (offset + (int64_t)p->payload_len <= 0 || store(j, p, offset) == 0) {
		j->late++;
		return RTP_JITTER_LATE;
	}
	j->stored++;
	return result;
}

int rtp_jitter_get(struct rtp_jitter *j, uint8_t *frame, int n)
{
	if (!j->started || n <= 0 || n > RTP_JITTER_RING / 2)
		return -1;
	if (j->playing && (int32_t)(j->newest_end - j->read_ts) <= 0) {
		/* Nothing at all is buffered: the far end is late (its media thread stalled, or the
		   network held its packets), not lost, since a lost packet leaves later ones behind it.
		   Wait for it as at the start instead of playing silence now and dropping its audio as
		   late when it comes: the stream arrives whole, a little more delayed. */
		j->playing = false;
		j->rebuffers++;
	}
	if (!j->playing) {
		if ((int32_t)(j->newest_end - j->read_ts) < j->set.prefill_samples)
			return -1;
		j->playing = true;
	}
	int arrived = 0;
	for (int i = 0; i < n; i++) {
		unsigned idx = (j->read_idx + (unsigned)i) % RTP_JITTER_RING;
		frame[i] = j->present[idx] ? j->samples[idx] : j->set.silence;
		arrived += j->present[idx];
		j->present[idx] = 0;
	}
	j->read_idx = (j->read_idx + (unsigned)n) % RTP_JITTER_RING;
	j->read_ts += (uint32_t)n;
	j->missing_samples += (uint64_t)(n - arrived);
	return arrived;
}
