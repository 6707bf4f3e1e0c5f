/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RTP for G.711 fax audio (RFC 3550 packets, RFC 3551 payload types 0 PCMU and 8 PCMA): packets
 * to and from bytes, a sender that numbers them, and a jitter buffer that gives the fax modem one
 * frame per media tick and says which samples never arrived, so the caller can tell spandsp
 * (fax_rx_fillin) instead of feeding it silence that would break the modem's timing. Pure: no
 * I/O, no clocks; the SIP line owns the sockets and the monotonic tick.
 */
#ifndef FAXD_RTP_H
#define FAXD_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_SIZE 12
#define RTP_MAX_PAYLOAD 1024       /* G.711 at 8000 Hz: 128 ms; more is refused */
#define RTP_PT_PCMU 0
#define RTP_PT_PCMA 8
#define RTP_SILENCE_PCMU 0xFF      /* G.711 zero level */
#define RTP_SILENCE_PCMA 0xD5

/* One packet; payload points into the buffer it was decoded from. */
struct rtp_packet {
	uint8_t payload_type;
	bool marker;
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	const uint8_t *payload;
	size_t payload_len;
};

/* 0 and *packet_r, or -1 for what is not an RTP version 2 packet we can read (too short, CSRC list,
   header extension or padding running past the end, payload larger than RTP_MAX_PAYLOAD). */
int rtp_decode(const uint8_t *buf, size_t len, struct rtp_packet *packet_r);
/* The packet's bytes (no CSRC, no extension): the length, or -1 when out is too small. */
int rtp_encode(const struct rtp_packet *packet, uint8_t *out, size_t size);

/* Our side of a stream: sequence numbers and timestamps from a random start (RFC 3550 §5.1). */
struct rtp_sender {
	uint8_t payload_type;
	uint16_t seq;
	uint32_t timestamp, ssrc;
	bool marker_next; /* set on the first packet of a talk spurt */
};
void rtp_sender_init(struct rtp_sender *sender, uint8_t payload_type, uint32_t ssrc, uint16_t first_seq,
		     uint32_t first_timestamp);
/* The next packet of len samples (G.711: one byte each): its length in out, or -1. */
int rtp_sender_next(struct rtp_sender *sender, const uint8_t *samples, size_t len, uint8_t *out, size_t size);

/* Jitter buffer. */
#define RTP_JITTER_RING 8000 /* samples kept: one second at 8000 Hz */

struct rtp_jitter_settings {
	uint8_t payload_type;  /* packets of another type are refused (telephone-event, comfort noise) */
	uint8_t silence;       /* what a missing sample reads as: RTP_SILENCE_PCMA / _PCMU */
	int prefill_samples;   /* held back before the first frame goes out (default 480: 60 ms) */
};

enum rtp_jitter_put {
	RTP_JITTER_STORED,
	RTP_JITTER_LATE,      /* its time has been played out already, or a duplicate: dropped */
	RTP_JITTER_RESYNC,    /* a new SSRC or a jump beyond the ring: the buffer restarted on it */
	RTP_JITTER_REFUSED,   /* another payload type */
};

/* Fixed size, so a call needs no allocation; the fields are the module's own. */
struct rtp_jitter {
	struct rtp_jitter_settings set;
	unsigned read_idx;     /* ring index of read_ts */
	bool started, playing;
	uint32_t ssrc;
	uint32_t read_ts;      /* RTP timestamp of the next sample to play */
	uint32_t newest_end;   /* timestamp after the newest sample stored */
	uint8_t samples[RTP_JITTER_RING];
	uint8_t present[RTP_JITTER_RING];
	uint64_t stored, late, missing_samples, rebuffers;
};

void rtp_jitter_init(struct rtp_jitter *jitter, const struct rtp_jitter_settings *settings);
enum rtp_jitter_put rtp_jitter_put(struct rtp_jitter *jitter, const struct rtp_packet *packet);
/* One media tick: n samples (n <= RTP_JITTER_RING / 2) into frame. Returns how many of them
   arrived (the rest read as silence); -1 while prefilling (nothing to play yet), which is also
   what an empty buffer does (the far end is late: play-out waits for prefill_samples again, so
   the delay grows by how late it was, less the prefill). A return of 0 means the whole frame was
   lost (later audio has arrived): call fax_rx_fillin(n) rather than feeding the frame. */
int rtp_jitter_get(struct rtp_jitter *jitter, uint8_t *frame, int n);

#endif
