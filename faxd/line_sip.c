/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SIP line (`type = sip`): fax calls over SIP with G.711 audio on RTP or T.38 over UDPTL.
 * STANDARDS: RFC 3261 (through faxd/sip_ua.c), RFC 3264 offer/answer and RFC 4566 SDP
 * (faxd/sdp.c), RFC 3550/3551 RTP with PCMA/PCMU (faxd/rtp.c), ITU-T T.38 §9 UDPTL and Annex D
 * SDP (faxd/udptl.c, faxd/sdp.c); T.30 itself is faxd/fax_session.c's.
 *
 * Threads. Everything SIP and RTP runs on the line's media thread (M), which is always the
 * realtime one: the driver's poll op steps the agent (timeout 0) every 20 ms tick, with or
 * without calls, and the call ops (place, answer, reject, tick, hangup, call_free) use it from
 * the same thread. The agent is created in init and freed in deinit on the main thread (D),
 * before the media thread starts and after it has been joined, so one thread at a time uses it;
 * sofia binds a root to a thread, so init releases it, the first poll obtains it, and media_stop
 * releases it again for deinit.
 *
 * Incoming calls. The agent reports an INVITE on M, but calls are offered on D
 * (line_offer_call): the new call goes onto `offers` (under `lock`) with a 180 Ringing sent, D's
 * dispatch takes it from there and offers it; a call D cannot offer comes back on `refused` and
 * M answers it 404 (a DID not on the line) or 486 (no free channel). Until faxd answers, the
 * only thing M does with such a call is note that the caller gave up (CANCEL): the answer then
 * finishes it as a hang-up.
 *
 * Media. One UDP socket per call, bound to the listen address on an even port of
 * rtp_port_min..max. Each tick: the session's 20 ms of audio go out as one RTP packet, every
 * datagram waiting is read into the jitter buffer, and one frame comes out of it into the
 * session; a frame lost entirely is a fill-in (fax_session_rx_audio with NULL) so the modems
 * keep their timing. Packets are accepted from any source (symmetric RTP is not enforced).
 *
 * The end. Whoever's T.30 finishes first hangs up with BYE after END_GRACE_MS of silence, so
 * the last frames (DCN, MCF) reach the other side; a BYE from the far end lets the jitter buffer
 * play out for END_GRACE_MS first. A call whose far end sends no RTP for RTP_TIMEOUT_S is hung up.
 *
 * T.38 (`media = t38`): the first INVITE offers G.711 and T.38 (ITU-T T.38 Annex D, UDPTL on a
 * second port of the range); an answer with the image stream runs the session over T.38 (IFPs
 * through faxd/udptl.c with the EC the answer gave), one without it falls back to G.711. Answering,
 * a T.38 line takes T.38 when offered. call->transport tells call_connect() which was agreed.
 *
 * Re-INVITEs (calls still on G.711): the far end's to T.38 is taken on a T.38 line, its G.711
 * re-offer on any line (ua_reoffer); ours goes out t38_reinvite_delay_ms after the answer of an
 * incoming call (t38_request) or of an outgoing one on a trunk with t38_offer = reinvite
 * (m=audio 0, m=image), staying on G.711 if refused. Either way a new T.38 session replaces the
 * audio one (switch_to_t38). Any other re-offer is refused with 488.
 *
 * Trunks (faxd/sip_trunk.c): an outgoing call INVITEs the first usable trunk; a 5xx moves it to
 * the next (try_again), a 488/415 to an offer with T.38 sends it again on G.711 only, and such
 * refusals are remembered per trunk and number (learned fallback).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "faxd/line_private.h"
#include "faxd/rtp.h"
#include "faxd/sdp.h"
#include "faxd/sip_trunk.h"
#include "faxd/sip_ua.h"
#include "faxd/udpaddr.h"
#include "faxd/udptl.h"

#define SDP_MAX 2048
#define RTP_BUF 1500
#define END_GRACE_MS 500 /* media kept running around a hang-up, so the last frames arrive */
#define RTP_TIMEOUT_S 20 /* no RTP from the far end for this long: the call is lost */
#define MAX_DRAIN 64
/* datagrams read per tick at most */

struct sip_line {
	struct sip_ua *ua;
	bool obtained; /* (M) the media thread has taken the agent over */
	char addr[SDP_ADDR_SIZE];
	struct sip_trunks *trunks; /* where outgoing calls go; none: incoming only */
	char from_user[FAX_IDENT_MAX + 1];
	int rtp_min, rtp_max, rtp_next;
	bool pcmu_first;
	bool t38;	  /* media = t38: offer and accept T.38 besides G.711 */
	bool t38_request; /* incoming calls answered on G.711 ask for T.38 */
	int reinvite_delay_ms;
	int64_t ring_timeout_us;
	enum did_source { DID_REQUEST, DID_TO, DID_DIVERSION } did_source;
	int loss_permille; /* tests: received datagrams dropped */
	bool rtp_latch;	   /* send media to where the far end's comes from (symmetric RTP, NAT) */
	struct udptl_settings udptl;
	uint32_t seed;
	uint64_t sdp_version;
	pthread_mutex_t lock;
	GQueue offers, refused; /* struct sip_line_call, under lock */
};

enum sip_line_state { SLC_OFFERED, SLC_CALLING, SLC_MEDIA, SLC_ENDING };

struct sip_line_call {
	struct sip_line *sl;
	struct line *line;
	struct call *call;     /* NULL until place/answer/reject */
	struct sip_call *sip;  /* NULL once the agent is done with it */
	char *did, *caller_id; /* incoming: the offer */
	char *offer;	       /* incoming: their SDP */
	bool far_gone;	       /* BYE/CANCEL/error from the far end, or the agent ended the call */
	bool far_error;	       /* the end was a transport or timer failure, not a BYE */
	enum sip_line_state state;
	int fd, ufd;	      /* RTP, UDPTL (T.38 lines) */
	int port, image_port; /* ours, for answering a re-INVITE */
	int refuse_status;    /* (D) -> (M): an offer not made is answered this (404, 486) */
	bool t38;	      /* the stream in use is T.38 over UDPTL on ufd */
	struct udptl *udptl;
	struct sockaddr_storage remote;
	socklen_t remote_len;
	enum fax_codec codec;
	struct rtp_sender sender;
	struct rtp_jitter jitter;
	int64_t t, end_at, last_rx; /* samples of media time */
	int64_t reinvite_at;	    /* send our T.38 re-INVITE then; -1 none */
	bool reinvite_sent;	    /* waiting for its answer */
	const char *reinvite_state; /* for faxctl watch: none, sent, accepted, refused, theirs */
	/* outgoing */
	int trunk;		 /* index in sl->trunks, -1 none (incoming) */
	uint32_t tried;		 /* trunks tried by this call */
	bool offered_t38;	 /* the pending INVITE offers T.38 */
	bool t38_refused;	 /* 488/415 to T.38 on this call: G.711 only from now on */
	int64_t ring_deadline;	 /* monotonic µs: CANCEL the INVITE then */
	struct udptl_settings udptl_set; /* the trunk's (else the line's) */
	uint32_t rng;		 /* simulated loss */
	bool latched;		 /* rtp_latch: the remote address is the source of their media */
};

static int invite_next_trunk(struct sip_line_call *slc, const char **error_r);

/* ---------------------------------------------------------------------------------------- */
/* Helpers */

static int64_t ms_samples(int ms)
{
	return (int64_t)ms * FAX_SAMPLE_RATE / 1000;
}

static void finish(struct call *call, enum fax_outcome outcome, const char *text)
{
	struct fax_report r;
	fax_report_init(&r, outcome, text);
	call_finish(call, &r);
}

static struct sip_trunk *call_trunk(const struct sip_line_call *slc)
{
	return slc->sl->trunks != NULL ? sip_trunks_get(slc->sl->trunks, slc->trunk) : NULL;
}

/* What faxctl watch shows of the call: trunk, media, re-INVITE state. */
static void show_state(struct sip_line_call *slc)
{
	if (slc->call == NULL)
		return;
	const struct sip_trunk *trunk = call_trunk(slc);
	const char *media = slc->state != SLC_MEDIA ? "-" : slc->t38 ? "t38"
			    : slc->codec == FAX_CODEC_ULAW		     ? "pcmu"
									     : "pcma";
	char text[CALL_INFO_MAX];
	int n = snprintf(text, sizeof(text), "trunk=%s media=%s reinvite=%s", trunk != NULL ? trunk->name : "-",
			 media, slc->reinvite_state);
	if (slc->state == SLC_MEDIA && !slc->t38 && n > 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, " rtp_lost=%llu late=%llu rebuffered=%llu",
			 (unsigned long long)(slc->jitter.missing_samples / LINE_TICK_SAMPLES),
			 (unsigned long long)slc->jitter.late, (unsigned long long)slc->jitter.rebuffers);
	call_set_info(slc->call, text);
}

/* A non-blocking UDP socket on an even port of the line's RTP range; *port_r. -1 when none is free. */
static int rtp_open(struct sip_line *sl, int *port_r)
{
	int span = (sl->rtp_max - sl->rtp_min) / 2 + 1;
	for (int i = 0; i < span; i++) {
		int port = sl->rtp_min + 2 * ((sl->rtp_next + i) % span);
		struct sockaddr_storage ss;
		socklen_t len;
		if (udpaddr_resolve(sl->addr, port, &ss, &len) < 0)
			return -1;
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
			sl->rtp_next = (sl->rtp_next + i + 1) % span;
			*port_r = port;
			return fd;
		}
		close(fd);
	}
	return -1;
}

static void local_sdp(struct sip_line *sl, int port, int image_port, struct sdp_local *local)
{
	sdp_local_default(local);
	local->addr.family = strchr(sl->addr, ':') != NULL ? SDP_FAMILY_IP6 : SDP_FAMILY_IP4;
	snprintf(local->addr.addr, sizeof(local->addr.addr), "%s", sl->addr);
	local->audio_port = port;
	local->session_id = sl->seed;
	local->session_version = ++sl->sdp_version;
	local->pcmu_first = sl->pcmu_first;
	if (image_port > 0) {
		local->t38 = true;
		local->image_port = image_port;
		local->offer_mode = SDP_OFFER_AUDIO_T38;
		local->t38_ec = sl->udptl.ec;
	}
}

/* The call's sockets: RTP, and UDPTL on a T.38 line; the ports, or -1 when the range is full. */
static int open_sockets(struct sip_line_call *slc, int *port_r, int *image_port_r)
{
	*image_port_r = 0;
	slc->fd = rtp_open(slc->sl, port_r);
	if (slc->fd < 0)
		return -1;
	if (slc->sl->t38 && (slc->ufd = rtp_open(slc->sl, image_port_r)) < 0)
		return -1;
	slc->port = *port_r;
	slc->image_port = *image_port_r;
	return 0;
}

/* The offers and refused queues are shared by both threads. */
static void queue_push(struct sip_line *sl, GQueue *q, struct sip_line_call *slc)
{
	pthread_mutex_lock(&sl->lock);
	g_queue_push_tail(q, slc);
	pthread_mutex_unlock(&sl->lock);
}

static struct sip_line_call *queue_pop(struct sip_line *sl, GQueue *q)
{
	pthread_mutex_lock(&sl->lock);
	struct sip_line_call *slc = g_queue_pop_head(q);
	pthread_mutex_unlock(&sl->lock);
	return slc;
}

static struct sip_line_call *slc_new(struct line *line)
{
	struct sip_line_call *slc = g_new0(struct sip_line_call, 1);
	slc->sl = line->drv;
	slc->line = line;
	slc->fd = slc->ufd = -1;
	slc->reinvite_at = -1;
	slc->reinvite_state = "none";
	slc->trunk = -1;
	slc->udptl_set = slc->sl->udptl;
	slc->rng = line_rand(&slc->sl->seed) | 1;
	return slc;
}

static void slc_free(struct sip_line_call *slc)
{
	if (slc == NULL)
		return;
	if (slc->sip != NULL)
		sip_call_set_ctx(slc->sip, NULL);
	struct sip_trunk *trunk = call_trunk(slc);
	if (trunk != NULL)
		trunk->active--; /* the channel it held on its trunk */
	if (slc->fd >= 0)
		close(slc->fd);
	if (slc->ufd >= 0)
		close(slc->ufd);
	udptl_free(&slc->udptl);
	g_free(slc->did);
	g_free(slc->caller_id);
	g_free(slc->offer);
	g_free(slc);
}

/* What was agreed for the call: the stream, and where the far end takes it. */
struct media_choice {
	enum sdp_media_kind kind;
	const struct sdp_addr *addr;
	int port;
	enum sdp_codec codec; /* AUDIO */
	int pt;
	enum udptl_ec ec; /* IMAGE: what we send */
	int max_datagram; /* IMAGE: theirs, 0 = unknown */
};

/* Media up with the far end as agreed: the session next. */
static int start_media(struct sip_line_call *slc, const struct media_choice *mc, const char **error_r)
{
	if (udpaddr_resolve(mc->addr->addr, mc->port, &slc->remote, &slc->remote_len) < 0) {
		*error_r = "sip: the far end's media address is not usable";
		return -1;
	}
	slc->t38 = mc->kind == SDP_MEDIA_IMAGE;
	slc->latched = false; /* a new stream (or socket): latch again */
	slc->call->transport = slc->t38 ? FAX_TRANSPORT_T38 : FAX_TRANSPORT_AUDIO;
	if (slc->t38) {
		struct udptl_settings us = slc->udptl_set;
		us.ec = mc->ec;
		if (mc->ec == UDPTL_EC_REDUNDANCY && us.redundancy_depth == 0)
			us.redundancy_depth = UDPTL_DEFAULT_REDUNDANCY_DEPTH;
		us.max_datagram = mc->max_datagram > 0 ? (size_t)mc->max_datagram : SDP_T38_FALLBACK_DATAGRAM;
		slc->udptl = udptl_create(&us);
	}
	enum sdp_codec codec = mc->codec;
	int pt = mc->pt;
	slc->codec = codec == SDP_CODEC_PCMU ? FAX_CODEC_ULAW : FAX_CODEC_ALAW;
	uint32_t r = line_rand(&slc->sl->seed);
	rtp_sender_init(&slc->sender, (uint8_t)pt, r, (uint16_t)line_rand(&slc->sl->seed),
			line_rand(&slc->sl->seed));
	struct rtp_jitter_settings js = {
	    .payload_type = (uint8_t)pt,
	    .silence = codec == SDP_CODEC_PCMU ? RTP_SILENCE_PCMU : RTP_SILENCE_PCMA,
	};
	rtp_jitter_init(&slc->jitter, &js);
	char where[SDP_ADDR_SIZE + 8];
	log_printable(where, sizeof(where), mc->addr->addr, strlen(mc->addr->addr));
	const char *media = slc->t38 ? "t38" : codec == SDP_CODEC_PCMU ? "pcmu" : "pcma";
	if (slc->call->job_id != NULL)
		log_job(LOG_LEVEL_INFO, slc->call->job_id, "sip: media=%s remote=%s:%d", media, where,
			mc->port);
	else
		log_info("line=%s call=%llu sip: media=%s remote=%s:%d", slc->line->name,
			 (unsigned long long)slc->call->id, media, where, mc->port);
	if (call_connect(slc->call, error_r) < 0)
		return -1;
	slc->state = SLC_MEDIA;
	show_state(slc);
	slc->t = slc->last_rx = 0;
	slc->end_at = -1;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Agent callbacks (M) */

/* The number the caller dialled, from where the line's did_source says. */
static char *called_number(const struct sip_line *sl, const struct sip_invite_info *info)
{
	char user[SIP_UA_MAX_INFO];
	if (sl->did_source == DID_DIVERSION && sip_uri_user(info->diversion, user, sizeof(user)) == 0)
		return g_strdup(user);
	if (sl->did_source == DID_TO && info->to_user[0] != '\0')
		return g_strdup(info->to_user);
	return g_strdup(info->request_user[0] != '\0' ? info->request_user : info->to_user);
}

static void ua_incoming(void *ctx, struct sip_call *sip, const struct sip_invite_info *info)
{
	struct line *line = ctx;
	struct sip_line *sl = line->drv;
	struct sip_line_call *slc = slc_new(line);
	slc->sip = sip;
	slc->state = SLC_OFFERED;
	slc->did = called_number(sl, info);
	slc->caller_id = g_strdup(info->from_user[0] != '\0' ? info->from_user : info->from_display);
	slc->offer = g_strdup(info->sdp);
	sip_call_set_ctx(sip, slc);
	sip_call_ringing(sip);
	char did[64], from[64];
	log_printable(did, sizeof(did), slc->did, strlen(slc->did));
	log_printable(from, sizeof(from), slc->caller_id, strlen(slc->caller_id));
	log_info("line=%s incoming SIP call from=%s did=%s", line->name, from, did);
	queue_push(sl, &sl->offers, slc);
	line_kick(line);
}

/* The stream to use from an answer: T.38 if we offered it and it was taken, else G.711. */
static bool choose_media(const struct sip_line_call *slc, const struct sdp_session *ans,
			 struct media_choice *mc)
{
	mc->kind = SDP_MEDIA_OTHER;
	for (int i = 0; i < ans->nmedia; i++) {
		const struct sdp_media *m = &ans->media[i];
		if (m->port == 0)
			continue;
		if (m->kind == SDP_MEDIA_IMAGE && slc->ufd >= 0) {
			*mc = (struct media_choice){.kind = SDP_MEDIA_IMAGE,
						    .addr = &m->conn,
						    .port = m->port,
						    .ec = m->t38.ec,
						    .max_datagram = m->t38.max_datagram};
			return true; /* T.38 wins over audio */
		}
		for (int f = 0; f < m->nformats && m->kind == SDP_MEDIA_AUDIO && mc->kind == SDP_MEDIA_OTHER;
		     f++) {
			enum sdp_codec c = m->formats[f].codec;
			if (c == SDP_CODEC_PCMA || c == SDP_CODEC_PCMU)
				*mc = (struct media_choice){.kind = SDP_MEDIA_AUDIO,
							    .addr = &m->conn,
							    .port = m->port,
							    .codec = c,
							    .pt = m->formats[f].pt};
		}
	}
	return mc->kind != SDP_MEDIA_OTHER;
}

/* A call on G.711 goes over to T.38 (a re-INVITE either way): a new session replaces the audio
   one, its T.30 starting again from phase A (spandsp 0.0.6 cannot hand a call over). */
static void switch_to_t38(struct sip_line_call *slc, const struct media_choice *mc)
{
	struct call *call = slc->call;
	const char *error;
	fax_session_free(&call->session);
	call->near_done = false;
	memset(&call->near_report, 0, sizeof(call->near_report));
	if (start_media(slc, mc, &error) < 0) {
		if (slc->sip != NULL)
			sip_call_bye(slc->sip);
		finish(call, FAX_OUTCOME_LINE, error);
	}
}

/* Ask the far end for T.38 (m=audio 0, then our m=image). */
static void send_t38_reinvite(struct sip_line_call *slc)
{
	struct sdp_local local;
	local_sdp(slc->sl, slc->port, slc->image_port, &local);
	local.offer_mode = SDP_OFFER_T38;
	local.audio_declined = true;
	char sdp[SDP_MAX];
	if (slc->sip != NULL && sdp_write_offer(&local, sdp, sizeof(sdp)) > 0 &&
	    sip_call_reinvite(slc->sip, sdp) == 0) {
		log_info("line=%s call=%llu sip: asking for T.38 by re-INVITE (%s call)", slc->line->name,
			 (unsigned long long)slc->call->id, slc->call->outgoing ? "outgoing" : "incoming");
		slc->reinvite_sent = true;
		slc->reinvite_state = "sent";
		show_state(slc);
	}
}

/* The far end re-INVITEs. On a T.38 line a call still on audio takes T.38 when offered (the
   gateway heard our CNG or CED): a new T.38 session replaces the audio one, whose T.30 starts
   again from phase A (spandsp 0.0.6 cannot hand a call over). Anything else is refused with 488
   and the call goes on as it was. */
/* A re-offer of G.711 while on G.711 (a hold/resume, a new address, or a gateway's "fax
   fallback" re-INVITE to G.711 VBD after T.38 was refused): the session goes on, the RTP now to
   where the new answer says and in its codec. */
static void update_audio(struct sip_line_call *slc, const struct sdp_answer_result *res)
{
	struct sockaddr_storage remote;
	socklen_t len;
	if (udpaddr_resolve(res->remote.addr, res->remote_port, &remote, &len) == 0) {
		slc->remote = remote;
		slc->remote_len = len;
		slc->latched = false; /* rtp_latch: learn the new stream's source again */
	}
	if (res->payload_type != slc->sender.payload_type) {
		slc->codec = res->codec == SDP_CODEC_PCMU ? FAX_CODEC_ULAW : FAX_CODEC_ALAW;
		slc->sender.payload_type = (uint8_t)res->payload_type;
		struct rtp_jitter_settings js = {
		    .payload_type = (uint8_t)res->payload_type,
		    .silence = res->codec == SDP_CODEC_PCMU ? RTP_SILENCE_PCMU : RTP_SILENCE_PCMA,
		};
		rtp_jitter_init(&slc->jitter, &js);
	}
	log_info("line=%s call=%llu sip: re-offer on G.711 taken (pt %d)", slc->line->name,
		 (unsigned long long)slc->call->id, res->payload_type);
	show_state(slc);
}

/* The far end re-INVITEs. A call still on G.711 takes T.38 when offered on a T.38 line (the
   gateway heard our CNG or CED): a new T.38 session replaces the audio one, whose T.30 starts
   again from phase A (spandsp 0.0.6 cannot hand a call over); G.711 offered again keeps the
   session (update_audio). Anything else (T.38 back to audio, an offer we cannot take) is
   refused with 488 and the call goes on as it was. */
static void ua_reoffer(void *ctx, struct sip_call *sip, const char *sdp)
{
	struct sip_line_call *slc = sip_call_ctx(sip);
	if (slc == NULL || slc->state != SLC_MEDIA || slc->t38 || slc->end_at >= 0 || sdp == NULL) {
		sip_call_answer_reoffer(sip, 488, NULL);
		return;
	}
	struct sdp_session *offer = g_new0(struct sdp_session, 1);
	struct sdp_answer_result res;
	char answer[SDP_MAX];
	const char *error;
	int n = -1;
	if (sdp_parse(sdp, strlen(sdp), offer, &error) == 0) {
		struct sdp_local local;
		local_sdp(slc->sl, slc->port, slc->ufd >= 0 ? slc->image_port : 0, &local);
		n = sdp_answer(&local, offer, &res, answer, sizeof(answer));
	}
	g_free(offer);
	if (n <= 0 || (res.kind != SDP_MEDIA_IMAGE && res.kind != SDP_MEDIA_AUDIO)) {
		sip_call_answer_reoffer(sip, 488, NULL);
		return;
	}
	if (sip_call_answer_reoffer(sip, 200, answer) < 0)
		return;
	if (res.kind == SDP_MEDIA_AUDIO) {
		update_audio(slc, &res);
		return;
	}
	slc->reinvite_at = -1; /* ours is not needed any more (and one waiting out a 491 is dropped) */
	slc->reinvite_sent = false;
	slc->reinvite_state = "theirs";
	struct media_choice mc = {.kind = SDP_MEDIA_IMAGE,
				  .addr = &res.remote,
				  .port = res.remote_port,
				  .ec = res.t38_ec,
				  .max_datagram = res.t38_max_datagram};
	switch_to_t38(slc, &mc);
}

/* The far end refused our T.38 re-INVITE: the call stays on G.711; a destination that said
   488/415 is remembered (outgoing calls: per trunk and number). */
static void t38_reinvite_refused(struct sip_line_call *slc, int status)
{
	struct call *call = slc->call;
	slc->reinvite_state = "refused";
	log_info("line=%s call=%llu sip: T.38 refused (%d), staying on G.711", slc->line->name,
		 (unsigned long long)call->id, status);
	const struct sip_trunk *trunk = call_trunk(slc);
	if (trunk != NULL && sip_ua_status_class(status) == SIP_FAILURE_NOT_ACCEPTABLE)
		sip_trunks_learn_no_t38(slc->sl->trunks, trunk, call->number, time(NULL));
}

static void ua_answered(void *ctx, struct sip_call *sip, int status, const char *sdp)
{
	struct sip_line_call *slc = sip_call_ctx(sip);
	if (slc == NULL)
		return; /* a call already finished */
	struct call *call = slc->call;
	struct sdp_session *ans = g_new0(struct sdp_session, 1);
	struct media_choice mc;
	const char *error = "sip: the answer has no SDP";
	bool parsed = sdp != NULL && status / 100 == 2 && sdp_parse(sdp, strlen(sdp), ans, &error) == 0;
	if (slc->state == SLC_MEDIA && slc->reinvite_sent) { /* our T.38 re-INVITE */
		slc->reinvite_sent = false;
		if (parsed && !slc->t38 && slc->end_at < 0 && choose_media(slc, ans, &mc) &&
		    mc.kind == SDP_MEDIA_IMAGE) {
			slc->reinvite_state = "accepted";
			switch_to_t38(slc, &mc);
		} else if (!slc->t38) {
			t38_reinvite_refused(slc, status);
		}
		show_state(slc);
		g_free(ans);
		return;
	}
	if (slc->state != SLC_CALLING) {
		g_free(ans);
		return;
	}
	int ok = -1;
	if (parsed) {
		error = "sip: the answer has no G.711 or T.38 stream";
		if (choose_media(slc, ans, &mc))
			ok = start_media(slc, &mc, &error);
	}
	g_free(ans);
	if (ok < 0) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "%s", error);
		sip_call_bye(sip);
		finish(call, FAX_OUTCOME_LINE, error);
		return;
	}
	const struct sip_trunk *trunk = call_trunk(slc);
	if (!slc->t38 && trunk != NULL && trunk->t38 && slc->ufd >= 0 && !slc->t38_refused &&
	    trunk->t38_offer == SIP_T38_OFFER_REINVITE)
		slc->reinvite_at = ms_samples(slc->sl->reinvite_delay_ms);
}

static enum fax_outcome failure_outcome(int status)
{
	switch (sip_ua_status_class(status)) {
	case SIP_FAILURE_BUSY:
		return FAX_OUTCOME_BUSY;
	case SIP_FAILURE_INVALID_NUMBER:
		return FAX_OUTCOME_INVALID_NUMBER;
	case SIP_FAILURE_NO_ANSWER:
		return FAX_OUTCOME_NO_ANSWER;
	case SIP_FAILURE_OTHER:
		return status == 403 || status == 603 ? FAX_OUTCOME_REJECTED : FAX_OUTCOME_LINE;
	default: /* TRY_NEXT, NOT_ACCEPTABLE: our side or the trunk, worth another try */
		return FAX_OUTCOME_LINE;
	}
}

/* The call no longer holds a channel of its trunk. */
static void leave_trunk(struct sip_line_call *slc)
{
	struct sip_trunk *trunk = call_trunk(slc);
	if (trunk != NULL)
		trunk->active--;
	slc->trunk = -1;
}

/* A final refusal of our INVITE that another INVITE may get past: T.38 refused (488/415 to an
   offer with T.38: the same trunk again on G.711 only, and the destination remembered), or the
   trunk failing (5xx, or no response at all: the next trunk). True when a new INVITE went out. */
static bool try_again(struct sip_line_call *slc, int status, bool no_response)
{
	struct sip_trunk *trunk = call_trunk(slc);
	enum sip_failure class = sip_ua_status_class(status);
	const char *error;
	if (class == SIP_FAILURE_NOT_ACCEPTABLE && status != 606 && slc->offered_t38) {
		log_job(LOG_LEVEL_INFO, slc->call->job_id, "sip: %d to T.38 from trunk=%s, again on G.711 only",
			status, trunk->name);
		sip_trunks_learn_no_t38(slc->sl->trunks, trunk, slc->call->number, time(NULL));
		slc->t38_refused = true;
		slc->tried &= ~(1u << slc->trunk);
	} else if (class != SIP_FAILURE_TRY_NEXT && !no_response) {
		return false; /* the trunk answered: busy, no such number, ... is the destination's word */
	}
	leave_trunk(slc);
	if (invite_next_trunk(slc, &error) < 0)
		return false;
	return true;
}

static void ua_failed(void *ctx, struct sip_call *sip, int status, const char *phrase)
{
	struct sip_line_call *slc = sip_call_ctx(sip);
	if (slc == NULL)
		return;
	slc->sip = NULL;
	sip_call_set_ctx(sip, NULL);
	if (slc->call == NULL || slc->call->finished)
		return;
	char text[96], p[64];
	log_printable(p, sizeof(p), phrase != NULL ? phrase : "", phrase != NULL ? strlen(phrase) : 0);
	const struct sip_trunk *trunk = call_trunk(slc);
	snprintf(text, sizeof(text), "sip: %d %s", status, p);
	log_job(LOG_LEVEL_INFO, slc->call->job_id, "%s (trunk=%s)", text, trunk != NULL ? trunk->name : "-");
	if (try_again(slc, status, sip_call_no_response(sip)))
		return;
	finish(slc->call, failure_outcome(status), text);
}

static void ua_ended(void *ctx, struct sip_call *sip, enum sip_end why)
{
	struct sip_line_call *slc = sip_call_ctx(sip);
	if (slc == NULL)
		return;
	slc->sip = NULL;
	slc->far_gone = true;
	slc->far_error = why == SIP_END_ERROR;
	struct call *call = slc->call;
	if (call == NULL || call->finished)
		return; /* an offer: its answer or reject sees far_gone */
	if (slc->state == SLC_MEDIA) {
		if (slc->end_at < 0)
			slc->end_at = slc->t + ms_samples(END_GRACE_MS);
		return; /* the tick plays out what is buffered, then ends the call */
	}
	finish(call, why == SIP_END_ERROR ? FAX_OUTCOME_LINE : FAX_OUTCOME_HANGUP,
	       "sip: call ended before media");
}

/* ---------------------------------------------------------------------------------------- */
/* Line set-up (D) */

static void sl_free(struct sip_line *sl)
{
	struct sip_line_call *slc;
	while ((slc = g_queue_pop_head(&sl->offers)) != NULL)
		slc_free(slc);
	while ((slc = g_queue_pop_head(&sl->refused)) != NULL)
		slc_free(slc);
	if (sl->ua != NULL && sip_ua_obtain(sl->ua) < 0)
		log_error("sip: cannot take the SIP agent back from the media thread");
	sip_ua_free(&sl->ua); /* after the calls: their BYEs go out without callbacks */
	sip_trunks_free(&sl->trunks);
	pthread_mutex_destroy(&sl->lock);
	g_free(sl);
}

static void registered(void *ctx, struct sip_reg *reg, int status, const char *phrase)
{
	struct sip_trunk *trunk = ctx;
	bool changed = (trunk->reg_status / 100 == 2) != (status / 100 == 2) || trunk->reg_status == 0;
	trunk->reg_status = status;
	char p[64];
	log_printable(p, sizeof(p), phrase != NULL ? phrase : "", phrase != NULL ? strlen(phrase) : 0);
	if (status / 100 == 2 && changed)
		log_info("sip: trunk=%s registered (%d %s)", trunk->name, status, p);
	else if (status / 100 != 2)
		log_warning("sip: trunk=%s registration refused: %d %s", trunk->name, status, p);
}

/* REGISTER the trunks that want it; sofia refreshes them (on the media thread, which steps the agent). */
static void register_trunks(struct line *line, struct sip_line *sl)
{
	for (int i = 0; i < sip_trunks_count(sl->trunks); i++) {
		struct sip_trunk *t = sip_trunks_get(sl->trunks, i);
		if (!t->do_register)
			continue;
		g_autofree char *registrar = g_strdup(t->registrar);
		struct sip_register_params params = {
		    .registrar = registrar,
		    .user = t->username,
		    .domain = t->from_domain != NULL ? t->from_domain : t->host,
		    .proxy = t->proxy,
		    .auth = {.username = t->username, .password = t->password},
		    .expires = t->register_expires,
		    .state = registered,
		    .ctx = t,
		};
		t->reg = sip_ua_register(sl->ua, &params);
		if (t->reg == NULL)
			log_warning("line=%s trunk=%s: registrar %s is not a SIP URI", line->name, t->name,
				    t->registrar);
	}
}

static int sip_init(struct line *line, const struct config *config, const char *group, const char **error_r)
{
	struct sip_line *sl = g_new0(struct sip_line, 1);
	pthread_mutex_init(&sl->lock, NULL);
	g_queue_init(&sl->offers);
	g_queue_init(&sl->refused);
	line->drv = sl;
	line->realtime = true; /* the far end's clock is real */
	int port;
	if (udpaddr_split(config_str(config, group, "sip_listen"), sl->addr, sizeof(sl->addr), &port) < 0) {
		*error_r = "sip line: sip_listen must be ADDRESS:PORT";
		goto fail;
	}
	sl->rtp_min = (int)config_int(config, group, "rtp_port_min") & ~1;
	sl->rtp_max = (int)config_int(config, group, "rtp_port_max");
	if (sl->rtp_max < sl->rtp_min) {
		*error_r = "sip line: rtp_port_max is below rtp_port_min";
		goto fail;
	}
	sl->pcmu_first = strcmp(config_str(config, group, "codec"), "ulaw") == 0;
	sl->t38 = line->transport == FAX_TRANSPORT_T38;
	udptl_settings_default(&sl->udptl);
	int depth = (int)config_int(config, group, "udptl_redundancy");
	sl->udptl.ec = config_bool(config, group, "udptl_fec") ? UDPTL_EC_FEC
		       : depth > 0			       ? UDPTL_EC_REDUNDANCY
							       : UDPTL_EC_NONE;
	sl->udptl.redundancy_depth = depth;
	sl->t38_request = config_bool(config, group, "t38_request");
	sl->reinvite_delay_ms = (int)config_int(config, group, "t38_reinvite_delay_ms");
	sl->ring_timeout_us = config_int(config, group, "ring_timeout") * 1000000;
	const char *did_source = config_str(config, group, "did_source");
	sl->did_source = strcmp(did_source, "to") == 0		? DID_TO
			 : strcmp(did_source, "diversion") == 0 ? DID_DIVERSION
								: DID_REQUEST;
	sl->loss_permille = (int)config_int(config, group, "loss_permille");
	sl->rtp_latch = config_bool(config, group, "rtp_latch");
	const char *offer = config_str(config, group, "t38_offer");
	struct sip_trunk_defaults defaults = {
	    .t38 = sl->t38,
	    .t38_offer = strcmp(offer, "reinvite") == 0 ? SIP_T38_OFFER_REINVITE
			 : strcmp(offer, "none") == 0	    ? SIP_T38_OFFER_NONE
							    : SIP_T38_OFFER_FIRST,
	    .udptl = sl->udptl,
	    .fallback_ttl_s = (unsigned)config_int(config, group, "t38_fallback_ttl"),
	};
	if (sip_trunks_load(config, line->name, group, &defaults, &sl->trunks, error_r) < 0)
		goto fail;
	/* the ident's digits (and +) as our user name, e.g. +12125550100 */
	size_t n = 0;
	for (const char *p = line->ident; *p != '\0' && n < FAX_IDENT_MAX; p++)
		if ((*p >= '0' && *p <= '9') || (*p == '+' && n == 0))
			sl->from_user[n++] = *p;
	sl->from_user[n] = '\0';
	sl->seed = g_str_hash(line->name) ^ (uint32_t)getpid() ^ (uint32_t)g_get_monotonic_time();
	if (sl->seed == 0)
		sl->seed = 1;
	sl->rtp_next = (int)(line_rand(&sl->seed) % (uint32_t)((sl->rtp_max - sl->rtp_min) / 2 + 1));

	struct sip_ua_settings set;
	sip_ua_settings_default(&set);
	set.addr = sl->addr;
	set.port = port;
	set.transaction_timeout_ms = (unsigned)config_int(config, group, "sip_timeout") * 1000;
	set.session_expires = (unsigned)config_int(config, group, "session_expires");
	set.min_se = (unsigned)config_int(config, group, "min_se");
	const char *tls_dir = config_str(config, group, "tls_certificate_dir");
	set.tls_dir = tls_dir[0] != '\0' ? tls_dir : NULL;
	for (int i = 0; i < sip_trunks_count(sl->trunks); i++)
		if (strcmp(sip_trunks_get(sl->trunks, i)->transport, "udp") != 0)
			set.tcp = true; /* TCP (and TLS) connections need the stream transports */
	struct sip_ua_callbacks cb = {
	    .ctx = line,
	    .incoming = ua_incoming,
	    .reoffer = ua_reoffer,
	    .answered = ua_answered,
	    .failed = ua_failed,
	    .ended = ua_ended,
	};
	sl->ua = sip_ua_create(&set, &cb, error_r);
	if (sl->ua == NULL)
		goto fail;
	register_trunks(line, sl);
	if (sip_ua_release(sl->ua) < 0) {
		*error_r = "sip line: cannot hand the SIP agent to the media thread";
		goto fail;
	}
	log_info("line=%s SIP on %s:%d trunks=%d", line->name, sl->addr, sip_ua_port(sl->ua),
		 sip_trunks_count(sl->trunks));
	return 0;
fail:
	sl_free(sl);
	line->drv = NULL;
	return -1;
}

static void sip_deinit(struct line *line)
{
	if (line->drv != NULL)
		sl_free(line->drv);
	line->drv = NULL;
}

/* (D) offer the calls the agent received. */
static void sip_dispatch(struct line *line)
{
	struct sip_line *sl = line->drv;
	struct sip_line_call *slc;
	while ((slc = queue_pop(sl, &sl->offers)) != NULL) {
		if (!line_accepts_did(line, slc->did)) {
			char did[64];
			log_printable(did, sizeof(did), slc->did, strlen(slc->did));
			log_info("line=%s SIP call for did=%s is not on this line, refused", line->name, did);
			slc->refuse_status = 404;
			queue_push(sl, &sl->refused, slc);
		} else if (line_offer_call(line, slc->did, slc->caller_id, slc) == NULL) {
			slc->refuse_status = 486; /* no free channel, or a line that only sends */
			queue_push(sl, &sl->refused, slc);
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Driver ops (M) */

static void sip_poll(struct line *line)
{
	struct sip_line *sl = line->drv;
	if (!sl->obtained) {
		if (sip_ua_obtain(sl->ua) < 0)
			abort(); /* released in init for this thread: nobody else can hold it */
		sl->obtained = true;
	}
	sip_ua_step(sl->ua, 0);
	struct sip_line_call *slc;
	while ((slc = queue_pop(sl, &sl->refused)) != NULL) {
		if (slc->sip != NULL)
			sip_call_reject(slc->sip, slc->refuse_status);
		slc_free(slc);
	}
}

/* (M) give the agent back for deinit on the main thread. */
static void sip_media_stop(struct line *line)
{
	struct sip_line *sl = line->drv;
	if (sl->obtained && sip_ua_release(sl->ua) == 0)
		sl->obtained = false;
}

/* The number as dialled: digits, * # + only, so it cannot break the URI. */
static void dial_user(const char *number, char *user, size_t size)
{
	size_t n = 0;
	for (const char *p = number; *p != '\0' && n + 1 < size; p++)
		if (strchr("0123456789*#+", *p) != NULL)
			user[n++] = *p;
	user[n] = '\0';
}

/* INVITE through the next trunk not tried yet: 0, or -1 when none is left or the request
   cannot be made (*error_r). */
static int invite_next_trunk(struct sip_line_call *slc, const char **error_r)
{
	struct sip_line *sl = slc->sl;
	struct call *call = slc->call;
	int index = sip_trunks_pick(sl->trunks, slc->tried);
	if (index < 0) {
		*error_r = "sip: no trunk left to try";
		return -1;
	}
	struct sip_trunk *trunk = sip_trunks_get(sl->trunks, index);
	slc->trunk = index;
	slc->tried |= 1u << index;
	trunk->active++;
	slc->udptl_set = trunk->udptl;
	if (sip_trunks_no_t38(sl->trunks, trunk, call->number, time(NULL)))
		slc->t38_refused = true;
	bool t38_ok = trunk->t38 && slc->ufd >= 0 && !slc->t38_refused;
	slc->offered_t38 = t38_ok && trunk->t38_offer == SIP_T38_OFFER_FIRST;
	struct sdp_local local;
	local_sdp(sl, slc->port, slc->offered_t38 ? slc->image_port : 0, &local);
	char sdp[SDP_MAX];
	if (sdp_write_offer(&local, sdp, sizeof(sdp)) < 0) {
		*error_r = "sip: cannot write our SDP offer";
		return -1;
	}
	char user[64];
	dial_user(call->number, user, sizeof(user));
	g_autofree char *uri = sip_trunk_uri(trunk, user);
	struct sip_invite_params params = {
	    .to_uri = uri,
	    .from_user = trunk->from_user != NULL	? trunk->from_user
			 : sl->from_user[0] != '\0' ? sl->from_user
						     : NULL,
	    .from_host = trunk->from_domain,
	    .proxy = trunk->proxy,
	    .auth = {.username = trunk->username, .password = trunk->password},
	    .sdp = sdp,
	    .ctx = slc,
	};
	slc->sip = sip_ua_call(sl->ua, &params);
	if (slc->sip == NULL) {
		*error_r = "sip: the URI cannot be used";
		return -1;
	}
	slc->ring_deadline = g_get_monotonic_time() + sl->ring_timeout_us;
	log_job(LOG_LEVEL_INFO, call->job_id, "sip: INVITE %s trunk=%s t38=%s rtp=%s:%d", uri, trunk->name,
		slc->offered_t38 ? "offered" : "no", sl->addr, slc->port);
	show_state(slc);
	return 0;
}

static void sip_place(struct call *call)
{
	struct sip_line *sl = call->line->drv;
	struct sip_line_call *slc = slc_new(call->line);
	slc->call = call;
	slc->state = SLC_CALLING;
	call->drv = slc;
	if (sip_trunks_count(sl->trunks) == 0) {
		finish(call, FAX_OUTCOME_LINE, "sip: the line has no trunk (sip_peer or [trunk])");
		return;
	}
	int port, image_port;
	if (open_sockets(slc, &port, &image_port) < 0) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "sip: no free RTP port in %d..%d", sl->rtp_min,
			sl->rtp_max);
		finish(call, FAX_OUTCOME_LINE, "sip: no free RTP port");
		return;
	}
	const char *error;
	if (invite_next_trunk(slc, &error) < 0) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "%s", error);
		finish(call, FAX_OUTCOME_LINE, error);
		return;
	}
	call_post_phase(call, "ringing");
}

static void sip_answer(struct call *call)
{
	struct sip_line *sl = call->line->drv;
	struct sip_line_call *slc = call->drv;
	slc->call = call;
	if (slc->sip == NULL) {
		finish(call, FAX_OUTCOME_HANGUP, "sip: the caller hung up before the answer");
		return;
	}
	struct sdp_session *offer = g_new0(struct sdp_session, 1);
	const char *error = "sip: the INVITE has no SDP offer";
	struct sdp_answer_result res;
	char sdp[SDP_MAX];
	int port, image_port, n = -1;
	if (slc->offer != NULL && sdp_parse(slc->offer, strlen(slc->offer), offer, &error) == 0) {
		if (open_sockets(slc, &port, &image_port) < 0) {
			error = "sip: no free RTP port";
		} else {
			struct sdp_local local;
			local_sdp(sl, port, image_port, &local);
			n = sdp_answer(&local, offer, &res, sdp, sizeof(sdp));
			if (n == 0) {
				n = -1;
				error = "sip: no G.711 audio or T.38 in the offer";
			} else if (n < 0) {
				error = "sip: cannot write our SDP answer";
			}
		}
	}
	g_free(offer);
	if (n < 0) {
		log_info("line=%s %s", call->line->name, error);
		sip_call_reject(slc->sip, 488);
		finish(call, FAX_OUTCOME_INCOMPATIBLE, error);
		return;
	}
	if (sip_call_answer(slc->sip, 200, sdp) < 0) {
		finish(call, FAX_OUTCOME_LINE, "sip: cannot answer");
		return;
	}
	struct media_choice mc = {.kind = res.kind,
				  .addr = &res.remote,
				  .port = res.remote_port,
				  .codec = res.codec,
				  .pt = res.payload_type,
				  .ec = res.t38_ec,
				  .max_datagram = res.t38_max_datagram};
	if (start_media(slc, &mc, &error) < 0) {
		sip_call_bye(slc->sip);
		finish(call, FAX_OUTCOME_LINE, error);
		return;
	}
	if (sl->t38 && sl->t38_request && !slc->t38) /* the caller offered G.711 only: ask for T.38 */
		slc->reinvite_at = ms_samples(sl->reinvite_delay_ms);
}

static void sip_reject(struct call *call)
{
	struct sip_line_call *slc = call->drv;
	slc->call = call;
	/* faxd refuses only for trouble of its own (no spool file, nobody answered in time): 480,
	   which the caller may try again, not 603 Decline */
	if (slc->sip != NULL)
		sip_call_reject(slc->sip, 480);
}

/* Send our BYE (or CANCEL before the answer) unless the far end has gone already. */
static void hang_up_sip(struct sip_line_call *slc)
{
	if (slc->sip == NULL || slc->far_gone)
		return;
	if (slc->state == SLC_CALLING)
		sip_call_cancel(slc->sip);
	else
		sip_call_bye(slc->sip);
}

/* rtp_latch (symmetric RTP, RFC 4961 §4): the first datagram of a stream fixes where ours go,
   whatever the SDP said; behind NAT the SDP names a private address the packets never come
   from. Once per stream (switching to T.38 latches again on the UDPTL socket). */
static void latch(struct sip_line_call *slc, const struct sockaddr_storage *src, socklen_t len)
{
	if (!slc->sl->rtp_latch || slc->latched || len == 0)
		return;
	slc->latched = true;
	if (len == slc->remote_len && memcmp(src, &slc->remote, len) == 0)
		return;
	memcpy(&slc->remote, src, len);
	slc->remote_len = len;
	char host[64] = "?", port[16] = "?";
	getnameinfo((const struct sockaddr *)src, len, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	log_info("line=%s call=%llu sip: media from %s:%s, sending there (rtp_latch)", slc->line->name,
		 (unsigned long long)slc->call->id, host, port);
}

/* Simulated loss of a received datagram (tests: loss_permille). */
static bool lost(struct sip_line_call *slc)
{
	return slc->sl->loss_permille > 0 && (int)(line_rand(&slc->rng) % 1000) < slc->sl->loss_permille;
}

static void media_tick(struct sip_line_call *slc, int n)
{
	struct call *call = slc->call;
	int16_t pcm[LINE_TICK_SAMPLES];
	uint8_t coded[LINE_TICK_SAMPLES], buf[RTP_BUF];

	fax_session_tx_audio(call->session, pcm, n);
	fax_codec_encode(slc->codec, pcm, n, coded);
	int len = rtp_sender_next(&slc->sender, coded, (size_t)n, buf, sizeof(buf));
	if (len > 0 &&
	    sendto(slc->fd, buf, (size_t)len, 0, (struct sockaddr *)&slc->remote, slc->remote_len) < 0 &&
	    errno != EAGAIN && errno != ECONNREFUSED)
		log_job(LOG_LEVEL_DEBUG, call->job_id, "sip: RTP send: %s", g_strerror(errno));

	for (int i = 0; i < MAX_DRAIN; i++) {
		struct sockaddr_storage src;
		socklen_t src_len = sizeof(src);
		ssize_t got = recvfrom(slc->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&src, &src_len);
		if (got < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			break;
		}
		struct rtp_packet pkt;
		if (lost(slc))
			continue;
		if (rtp_decode(buf, (size_t)got, &pkt) == 0 &&
		    rtp_jitter_put(&slc->jitter, &pkt) != RTP_JITTER_REFUSED) {
			slc->last_rx = slc->t;
			latch(slc, &src, src_len);
		}
	}

	uint8_t frame[LINE_TICK_SAMPLES];
	int arrived = rtp_jitter_get(&slc->jitter, frame, n);
	if (arrived > 0) {
		fax_codec_decode(slc->codec, frame, n, pcm);
		fax_session_rx_audio(call->session, pcm, n);
	} else if (arrived == 0) {
		fax_session_rx_audio(call->session, NULL, n);
	}
}

static void deliver_ifp(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	fax_session_rx_ifp(ctx, ifp, len, seq);
}

static void t38_tick(struct sip_line_call *slc, int n)
{
	struct call *call = slc->call;
	fax_session_tick(call->session, n); /* IFPs go out through sip_t38_tx */
	uint8_t buf[UDPTL_MAX_DATAGRAM];
	for (int i = 0; i < MAX_DRAIN; i++) {
		struct sockaddr_storage src;
		socklen_t src_len = sizeof(src);
		ssize_t got = recvfrom(slc->ufd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&src, &src_len);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (lost(slc))
			continue;
		if (udptl_decode(slc->udptl, buf, (size_t)got, deliver_ifp, call->session) >= 0) {
			slc->last_rx = slc->t;
			latch(slc, &src, src_len);
		}
	}
}

static void sip_t38_tx(struct call *call, const uint8_t *ifp, size_t len, int count)
{
	struct sip_line_call *slc = call->drv;
	if (slc == NULL || !slc->t38)
		return;
	uint8_t buf[UDPTL_MAX_DATAGRAM];
	int n = udptl_encode(slc->udptl, ifp, len, buf, sizeof(buf));
	if (n < 0) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "sip: IFP of %zu bytes not encodable", len);
		return;
	}
	for (int i = 0; i < count; i++)
		if (sendto(slc->ufd, buf, (size_t)n, 0, (struct sockaddr *)&slc->remote, slc->remote_len) <
			0 &&
		    errno != EAGAIN)
			break;
}

static void sip_tick(struct call *call, int n)
{
	struct sip_line_call *slc = call->drv;
	if (slc->state == SLC_CALLING && slc->sip != NULL && g_get_monotonic_time() >= slc->ring_deadline) {
		log_job(LOG_LEVEL_INFO, call->job_id, "sip: no answer in %lld s, CANCEL",
			(long long)(slc->sl->ring_timeout_us / 1000000));
		slc->ring_deadline = INT64_MAX; /* the 487 to the INVITE ends the call as no answer */
		sip_call_cancel(slc->sip);
	}
	if (slc->state != SLC_MEDIA)
		return; /* ringing: the agent's callbacks move the call on */
	slc->t += n;
	if (slc->reinvite_at >= 0 && slc->t >= slc->reinvite_at && !slc->t38 && slc->end_at < 0) {
		slc->reinvite_at = -1;
		send_t38_reinvite(slc);
	}
	if (slc->t38)
		t38_tick(slc, n);
	else
		media_tick(slc, n);
	if (slc->t % FAX_SAMPLE_RATE == 0)
		show_state(slc); /* once a second of media: the jitter buffer's counts */

	if (slc->end_at < 0 && call->near_done) {
		slc->end_at = slc->t + ms_samples(END_GRACE_MS);
	} else if (slc->end_at < 0 && slc->t - slc->last_rx > (int64_t)RTP_TIMEOUT_S * FAX_SAMPLE_RATE) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "sip: no RTP from the far end for %d s",
			RTP_TIMEOUT_S);
		fax_session_hangup(call->session, FAX_OUTCOME_LINE);
		slc->end_at = slc->t;
	}
	if (slc->end_at >= 0 && slc->t >= slc->end_at) {
		if (!call->near_done)
			fax_session_hangup(call->session,
					   slc->far_error ? FAX_OUTCOME_LINE : FAX_OUTCOME_HANGUP);
		hang_up_sip(slc);
		call_finish(call, &call->near_report);
	}
}

static void sip_hangup(struct call *call, enum fax_outcome cause)
{
	struct sip_line_call *slc = call->drv;
	hang_up_sip(slc);
	if (call->session == NULL) {
		finish(call, cause, cause == FAX_OUTCOME_CANCELLED ? "cancelled before answer" : NULL);
		return;
	}
	if (!call->near_done)
		fax_session_hangup(call->session, cause);
	call_finish(call, &call->near_report);
}

static void sip_call_free(struct call *call)
{
	slc_free(call->drv);
	call->drv = NULL;
}

const struct line_driver line_driver_sip = {
    .type = "sip",
    .init = sip_init,
    .deinit = sip_deinit,
    .dispatch = sip_dispatch,
    .place = sip_place,
    .answer = sip_answer,
    .reject = sip_reject,
    .tick = sip_tick,
    .hangup = sip_hangup,
    .t38_tx = sip_t38_tx,
    .call_free = sip_call_free,
    .poll = sip_poll,
    .media_stop = sip_media_stop,
};
