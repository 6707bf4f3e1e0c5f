/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDP core of the SIP channel driver (RFC 4566 syntax, RFC 3264 offer/answer, T.38 Annex D /
 * RFC 3362 for `m=image <port> udptl t38`). Pure: bytes in, fixed-size structs out; structs in,
 * SDP text out. No I/O, no allocation. What we offer and answer: docs/sip.md.
 */
#ifndef FAXD_SDP_H
#define FAXD_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faxd/udptl.h"

#define SDP_MAX_MEDIA 8	   /* more m= sections is refused */
#define SDP_MAX_FORMATS 32 /* more formats on one m= line is refused */
#define SDP_ADDR_SIZE 46   /* INET6_ADDRSTRLEN */
#define SDP_TOKEN_SIZE 32  /* media name, proto, first format, o= id/version */

/* Defaults of struct sdp_local. */
#define SDP_DEFAULT_PTIME 20
#define SDP_DEFAULT_T38_VERSION 0
#define SDP_DEFAULT_T38_MAX_BIT_RATE 14400
#define SDP_DEFAULT_T38_MAX_DATAGRAM 400
/* Their T38FaxMaxDatagram, absent or above UDPTL_MAX_DATAGRAM, is taken as this (as Asterisk). */
#define SDP_T38_FALLBACK_DATAGRAM 400

enum sdp_family { SDP_FAMILY_NONE, SDP_FAMILY_IP4, SDP_FAMILY_IP6 };

struct sdp_addr {
	enum sdp_family family;
	char addr[SDP_ADDR_SIZE]; /* checked with inet_pton; NUL-terminated */
};

enum sdp_media_kind { SDP_MEDIA_OTHER, SDP_MEDIA_AUDIO, SDP_MEDIA_IMAGE };
enum sdp_dir { SDP_DIR_SENDRECV, SDP_DIR_SENDONLY, SDP_DIR_RECVONLY, SDP_DIR_INACTIVE };
enum sdp_codec { SDP_CODEC_UNKNOWN, SDP_CODEC_PCMU, SDP_CODEC_PCMA, SDP_CODEC_TELEPHONE_EVENT };
enum sdp_t38_rate { SDP_T38_RATE_ABSENT, SDP_T38_RATE_LOCAL_TCF, SDP_T38_RATE_TRANSFERRED_TCF };

struct sdp_format {
	int pt;		      /* 0..127 */
	enum sdp_codec codec; /* from a=rtpmap, else static 0 = PCMU, 8 = PCMA */
	int clock;	      /* Hz; 8000 for the static types */
};

/* T.38 attributes of an m=image line; -1 / 0 / ABSENT where not given. */
struct sdp_t38 {
	int version;	  /* T38FaxVersion, -1 absent */
	int max_bit_rate; /* T38MaxBitRate or T38FaxMaxRate, 0 absent */
	enum sdp_t38_rate rate;
	int max_buffer;			  /* T38FaxMaxBuffer, 0 absent */
	int max_datagram;		  /* T38FaxMaxDatagram or T38MaxDatagram, 0 absent */
	enum udptl_ec ec;		  /* T38FaxUdpEC; absent = UDPTL_EC_NONE */
	bool fill_bit_removal, mmr, jbig; /* present without value or with a value other than 0 */
};

struct sdp_media {
	enum sdp_media_kind kind; /* AUDIO: m=audio .. RTP/AVP; IMAGE: m=image .. udptl t38 */
	char media[SDP_TOKEN_SIZE], proto[SDP_TOKEN_SIZE], first_fmt[SDP_TOKEN_SIZE]; /* as offered */
	int port;								      /* 0 = declined */
	struct sdp_addr conn; /* media-level c=, else the session's */
	enum sdp_dir dir;     /* media-level attribute, else the session's */
	int ptime;	      /* a=ptime, 0 absent */
	int nformats;	      /* RTP/AVP only */
	struct sdp_format formats[SDP_MAX_FORMATS];
	struct sdp_t38 t38; /* IMAGE only */
};

struct sdp_session {
	char origin_id[SDP_TOKEN_SIZE], origin_version[SDP_TOKEN_SIZE]; /* o= digits, "" absent */
	struct sdp_addr conn; /* session-level c=, family NONE if absent */
	enum sdp_dir dir;
	int nmedia;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/* Parse one SDP body of len bytes (no NUL needed; CRLF or LF). Returns 0, or -1 with a static
   English *error_r. Unknown lines and attributes are skipped; every port != 0 needs a c=. */
int sdp_parse(const char *text, size_t len, struct sdp_session *out, const char **error_r);

enum sdp_offer_mode {
	SDP_OFFER_AUDIO,     /* m=audio only */
	SDP_OFFER_AUDIO_T38, /* m=audio then m=image in the first INVITE */
	SDP_OFFER_T38,	     /* T.38 re-INVITE: m=image (after m=audio port 0 if audio_declined) */
};

struct sdp_local {
	struct sdp_addr addr;
	int audio_port, image_port;
	uint64_t session_id, session_version; /* the caller bumps the version per new offer/answer */
	bool pcma, pcmu, pcmu_first;	      /* offer order; the answer follows the offer's order */
	int ptime;			      /* sent as a=ptime; 0 = none */
	bool t38;			      /* offer/accept m=image udptl t38 (needs image_port) */
	int t38_version;		      /* 0..3 */
	int t38_max_bit_rate;		      /* 14400 or 9600 */
	int t38_max_datagram;		      /* what we receive, sent as T38FaxMaxDatagram */
	enum udptl_ec t38_ec;		      /* our preference; see sdp_answer() */
	enum sdp_offer_mode offer_mode;
	bool audio_declined; /* SDP_OFFER_T38: keep m=audio 0 first instead of omitting it */
	bool prefer_t38;     /* answering audio + image: take the image stream, else the audio */
};

/* PCMA then PCMU, ptime 20, T.38 off (version 0, 14400, datagram 400, redundancy), offer audio,
   prefer T.38; address, ports and ids are the caller's. */
void sdp_local_default(struct sdp_local *local);

/* Write our offer into out (NUL-terminated, CRLF). Returns its length, or -1 if it does not fit
   or local offers nothing (no codec and no T.38, bad address). */
int sdp_write_offer(const struct sdp_local *local, char *out, size_t size);

struct sdp_answer_result {
	int status;		  /* 200: answer written; 488: nothing acceptable, no text */
	enum sdp_media_kind kind; /* the stream taken: AUDIO or IMAGE */
	int media_index;	  /* its index in the offer */
	struct sdp_addr remote;
	int remote_port;
	enum sdp_dir dir; /* our direction in the answer */
	/* AUDIO */
	enum sdp_codec codec;
	int payload_type;
	int ptime; /* theirs, else SDP_DEFAULT_PTIME: what we send */
	/* IMAGE: what our T.38 engine and UDPTL encoder use */
	int t38_version;
	int t38_max_bit_rate;
	int t38_max_datagram; /* theirs; absent or > UDPTL_MAX_DATAGRAM: SDP_T38_FALLBACK_DATAGRAM */
	enum udptl_ec t38_ec; /* what we send, as answered */
	enum sdp_t38_rate t38_rate;
};

/* Answer offer (RFC 3264): one m= line per offered one in order; one stream taken, the rest get
   port 0. T38FaxVersion min(ours, theirs or 0 if absent); rate management echoed (transferredTCF if absent);
   our T38FaxMaxDatagram; EC FEC if both want FEC, else redundancy if they offered redundancy or
   FEC and we do not say none, else none; never FillBitRemoval/MMR/JBIG.
   Returns the answer's length with result->status 200, 0 with 488, -1 if out is too small. */
int sdp_answer(const struct sdp_local *local, const struct sdp_session *offer,
	       struct sdp_answer_result *result, char *out, size_t size);

#endif
