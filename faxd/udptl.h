/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * UDPTL codec (ITU-T T.38 §9.1 and its ASN.1 annex, X.691 aligned PER): frames T.38 IFP packets
 * into UDPTL datagrams with redundancy or parity FEC, and back. Pure codec: no I/O, no clocks,
 * no allocation after udptl_create(). Wire format and recovery rules: docs/udptl.md.
 */
#ifndef FAXD_UDPTL_H
#define FAXD_UDPTL_H

#include <stddef.h>
#include <stdint.h>

#define UDPTL_MAX_IFP 1024 /* largest IFP accepted or sent */
#define UDPTL_MAX_REDUNDANCY 8
#define UDPTL_MAX_DATAGRAM 1400

/* Defaults of struct udptl_settings. */
#define UDPTL_DEFAULT_REDUNDANCY_DEPTH 3
#define UDPTL_DEFAULT_FEC_SPAN 3
#define UDPTL_DEFAULT_FEC_ENTRIES 3
/* Largest FEC span and entry count we send (Asterisk's MAX_FEC_SPAN/MAX_FEC_ENTRIES); the decoder
   rejects more than UDPTL_MAX_FEC_ENTRIES entries and recovers only from chains that reach back at
   most 31 datagrams. */
#define UDPTL_MAX_FEC_SPAN 5
#define UDPTL_MAX_FEC_ENTRIES 5

enum udptl_ec { UDPTL_EC_NONE, UDPTL_EC_REDUNDANCY, UDPTL_EC_FEC };

struct udptl_settings {
	enum udptl_ec ec;	   /* what we SEND; the decoder accepts any kind */
	int redundancy_depth;	   /* 0..UDPTL_MAX_REDUNDANCY, default 3 */
	int fec_span, fec_entries; /* FEC: IFPs covered per parity, parity messages per datagram
				      (defaults 3, 3) */
	size_t max_datagram;	   /* T38FaxMaxDatagram from SDP; encoder drops redundancy entries to
				      fit; default UDPTL_MAX_DATAGRAM */
};

/* ec = UDPTL_EC_REDUNDANCY, depth 3, FEC 3/3, max_datagram UDPTL_MAX_DATAGRAM. */
void udptl_settings_default(struct udptl_settings *set);

struct udptl;

/* Out-of-range settings are clamped (depth to 0..UDPTL_MAX_REDUNDANCY, span/entries to
   1..UDPTL_MAX_FEC_*, max_datagram to at most UDPTL_MAX_DATAGRAM; 0 means the default).
   g_new0: aborts on OOM. set may be NULL for the defaults. */
struct udptl *udptl_create(const struct udptl_settings *set);
/* Accepts NULL, clears *up. */
void udptl_free(struct udptl **up);

/* Encode one IFP as the next datagram (sequence numbers start at 0 and wrap). Returns the
   datagram length, or -1 if the IFP is empty/too large or out is too small. The same datagram
   may be sent `count` times (spandsp's repeat count): the receiver drops the copies. */
int udptl_encode(struct udptl *u, const uint8_t *ifp, size_t ifp_len, uint8_t *out, size_t out_size);

/* Decode one received datagram; for every IFP newly available, in sequence order, calls
   deliver(ctx, seq, ifp, len) (the pointer is valid only during the call). Returns the number of
   IFPs delivered (0 for a duplicate or late datagram), or -1 for a malformed datagram. */
typedef void udptl_deliver_fn(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len);
int udptl_decode(struct udptl *u, const uint8_t *dgram, size_t len, udptl_deliver_fn *deliver, void *ctx);

/* sent: datagrams encoded; received: well-formed datagrams decoded (copies included); delivered:
   IFPs handed to deliver(), of which recovered came from redundancy or FEC; duplicates: datagrams
   whose IFP had been delivered; late: datagrams whose IFP had been given up; lost: sequence numbers
   skipped and never delivered; malformed: datagrams rejected; resyncs: sequence jumps of 2000 or
   more (a restarted peer), after which counting starts again. */
struct udptl_stats {
	uint64_t sent, received, delivered, recovered, duplicates, late, lost, malformed;
	uint64_t resyncs;
};
void udptl_get_stats(const struct udptl *u, struct udptl_stats *stats_r);

#endif
