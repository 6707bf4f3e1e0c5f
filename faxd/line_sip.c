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
 * Re-INVITEs (T.38 lines only, calls still on G.711): the far end's to T.38 is taken
 * (ua_reoffer); an incoming call offered G.711 only is answered on G.711 and asks for T.38 itself
 * REINVITE_DELAY_MS later (m=audio 0, m=image), staying on G.711 if refused. Either way a new
 * T.38 session replaces the audio one (switch_to_t38). Any other re-offer is refused with 488.
 *
 * XXX not yet: remembering peers that refuse T.38, registration, digest authentication, several
 * peers or failover.
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
#include "faxd/sip_ua.h"
#include "faxd/udptl.h"

#define SDP_MAX 2048
#define RTP_BUF 1500
#define END_GRACE_MS 500 /* media kept running around a hang-up, so the last frames arrive */
#define RTP_TIMEOUT_S 20 /* no RTP from the far end for this long: the call is lost */
#define MAX_DRAIN 64
#define REINVITE_DELAY_MS                                                                                    \
	200 /* answered on G.711 by a T.38 line: ask for T.38 after this */ /* datagrams read per tick at    \
									       most */

struct sip_line {
	struct sip_ua *ua;
	bool obtained; /* (M) the media thread has taken the agent over */
	char addr[SDP_ADDR_SIZE];
	char peer[256]; /* HOST[:PORT], no scheme; "" = no outgoing calls */
	char from_user[FAX_IDENT_MAX + 1];
	int rtp_min, rtp_max, rtp_next;
	bool pcmu_first;
	bool t38; /* media = t38: offer and accept T.38 besides G.711 */
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
};

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

/* HOST:PORT or [V6]:PORT into its parts; -1 when malformed. */
static int split_hostport(const char *text, char *host, size_t size, int *port_r)
{
	const char *colon = strrchr(text, ':');
	if (colon == NULL)
		return -1;
	const char *h = text;
	size_t len = (size_t)(colon - text);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (len == 0 || len >= size)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	*port_r = (int)port;
	return 0;
}

static int to_sockaddr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len_r)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *res;
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(addr, service, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len_r = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* A non-blocking UDP socket on an even port of the line's RTP range; *port_r. -1 when none is free. */
static int rtp_open(struct sip_line *sl, int *port_r)
{
	int span = (sl->rtp_max - sl->rtp_min) / 2 + 1;
	for (int i = 0; i < span; i++) {
		int port = sl->rtp_min + 2 * ((sl->rtp_next + i) % span);
		struct sockaddr_storage ss;
		socklen_t len;
		if (to_sockaddr(sl->addr, port, &ss, &len) < 0)
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
	return slc;
}

static void slc_free(struct sip_line_call *slc)
{
	if (slc == NULL)
		return;
	if (slc->sip != NULL)
		sip_call_set_ctx(slc->sip, NULL);
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
	if (to_sockaddr(mc->addr->addr, mc->port, &slc->remote, &slc->remote_len) < 0) {
		*error_r = "sip: the far end's media address is not usable";
		return -1;
	}
	slc->t38 = mc->kind == SDP_MEDIA_IMAGE;
	slc->call->transport = slc->t38 ? FAX_TRANSPORT_T38 : FAX_TRANSPORT_AUDIO;
	if (slc->t38) {
		struct udptl_settings us = slc->sl->udptl;
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
	slc->t = slc->last_rx = 0;
	slc->end_at = -1;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Agent callbacks (M) */

static void ua_incoming(void *ctx, struct sip_call *sip, const struct sip_invite_info *info)
{
	struct line *line = ctx;
	struct sip_line *sl = line->drv;
	struct sip_line_call *slc = slc_new(line);
	slc->sip = sip;
	slc->state = SLC_OFFERED;
	slc->did = g_strdup(info->request_user[0] != '\0' ? info->request_user : info->to_user);
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
	    sip_call_reinvite(slc->sip, sdp) == 0)
		slc->reinvite_sent = true;
}

/* The far end re-INVITEs. On a T.38 line a call still on audio takes T.38 when offered (the
   gateway heard our CNG or CED): a new T.38 session replaces the audio one, whose T.30 starts
   again from phase A (spandsp 0.0.6 cannot hand a call over). Anything else is refused with 488
   and the call goes on as it was. */
static void ua_reoffer(void *ctx, struct sip_call *sip, const char *sdp)
{
	struct sip_line_call *slc = sip_call_ctx(sip);
	if (slc == NULL || slc->state != SLC_MEDIA || slc->t38 || slc->ufd < 0 || slc->end_at >= 0 ||
	    sdp == NULL) {
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
		local_sdp(slc->sl, slc->port, slc->image_port, &local);
		n = sdp_answer(&local, offer, &res, answer, sizeof(answer));
	}
	g_free(offer);
	if (n <= 0 || res.kind != SDP_MEDIA_IMAGE) {
		sip_call_answer_reoffer(sip, 488, NULL);
		return;
	}
	if (sip_call_answer_reoffer(sip, 200, answer) < 0)
		return;
	slc->reinvite_at = -1; /* ours is not needed any more */
	struct media_choice mc = {.kind = SDP_MEDIA_IMAGE,
				  .addr = &res.remote,
				  .port = res.remote_port,
				  .ec = res.t38_ec,
				  .max_datagram = res.t38_max_datagram};
	switch_to_t38(slc, &mc);
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
		    mc.kind == SDP_MEDIA_IMAGE)
			switch_to_t38(slc, &mc);
		else if (!slc->t38)
			log_info("line=%s call=%llu sip: T.38 refused (%d), staying on G.711",
				 slc->line->name, (unsigned long long)call->id, status);
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
	}
}

static void ua_failed(void *ctx, struct sip_call *sip, int status, const char *phrase)
{
	struct sip_line_call *slc = sip_call_ctx(sip);
	if (slc == NULL)
		return;
	slc->sip = NULL;
	if (slc->call == NULL || slc->call->finished)
		return;
	enum fax_outcome outcome;
	switch (sip_ua_status_class(status)) {
	case SIP_FAILURE_BUSY:
		outcome = FAX_OUTCOME_BUSY;
		break;
	case SIP_FAILURE_INVALID_NUMBER:
		outcome = FAX_OUTCOME_INVALID_NUMBER;
		break;
	case SIP_FAILURE_NO_ANSWER:
		outcome = FAX_OUTCOME_NO_ANSWER;
		break;
	case SIP_FAILURE_OTHER:
		outcome = status == 403 || status == 603 ? FAX_OUTCOME_REJECTED : FAX_OUTCOME_LINE;
		break;
	default: /* TRY_NEXT, NOT_ACCEPTABLE: our side or the trunk, worth another try */
		outcome = FAX_OUTCOME_LINE;
		break;
	}
	char text[96], p[64];
	log_printable(p, sizeof(p), phrase != NULL ? phrase : "", phrase != NULL ? strlen(phrase) : 0);
	snprintf(text, sizeof(text), "sip: %d %s", status, p);
	log_job(LOG_LEVEL_INFO, slc->call->job_id, "%s", text);
	finish(slc->call, outcome, text);
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
	pthread_mutex_destroy(&sl->lock);
	g_free(sl);
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
	if (split_hostport(config_str(config, group, "sip_listen"), sl->addr, sizeof(sl->addr), &port) < 0) {
		*error_r = "sip line: sip_listen must be ADDRESS:PORT";
		goto fail;
	}
	const char *peer = config_str(config, group, "sip_peer");
	if (g_str_has_prefix(peer, "sip:"))
		peer += 4;
	snprintf(sl->peer, sizeof(sl->peer), "%s", peer);
	if (strpbrk(sl->peer, "@;?<> \t") != NULL) {
		*error_r = "sip line: sip_peer must be HOST[:PORT]";
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
	if (sip_ua_release(sl->ua) < 0) {
		*error_r = "sip line: cannot hand the SIP agent to the media thread";
		goto fail;
	}
	log_info("line=%s SIP on %s:%d peer=%s", line->name, sl->addr, sip_ua_port(sl->ua),
		 sl->peer[0] != '\0' ? sl->peer : "-");
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

static void sip_place(struct call *call)
{
	struct sip_line *sl = call->line->drv;
	struct sip_line_call *slc = slc_new(call->line);
	slc->call = call;
	slc->state = SLC_CALLING;
	call->drv = slc;
	if (sl->peer[0] == '\0') {
		finish(call, FAX_OUTCOME_LINE, "sip: the line has no sip_peer");
		return;
	}
	int port, image_port;
	if (open_sockets(slc, &port, &image_port) < 0) {
		log_job(LOG_LEVEL_WARNING, call->job_id, "sip: no free RTP port in %d..%d", sl->rtp_min,
			sl->rtp_max);
		finish(call, FAX_OUTCOME_LINE, "sip: no free RTP port");
		return;
	}
	struct sdp_local local;
	local_sdp(sl, port, image_port, &local);
	char sdp[SDP_MAX];
	if (sdp_write_offer(&local, sdp, sizeof(sdp)) < 0) {
		finish(call, FAX_OUTCOME_LINE, "sip: cannot write our SDP offer");
		return;
	}
	/* the number as dialled: digits, * # + only, so it cannot break the URI */
	char user[64];
	size_t n = 0;
	for (const char *p = call->number; *p != '\0' && n + 1 < sizeof(user); p++)
		if (strchr("0123456789*#+", *p) != NULL)
			user[n++] = *p;
	user[n] = '\0';
	g_autofree char *uri = g_strdup_printf("sip:%s@%s", user, sl->peer);
	slc->sip = sip_ua_invite(sl->ua, uri, sl->from_user[0] != '\0' ? sl->from_user : NULL, sdp, slc);
	if (slc->sip == NULL) {
		finish(call, FAX_OUTCOME_INVALID_NUMBER, "sip: the URI cannot be used");
		return;
	}
	log_job(LOG_LEVEL_DEBUG, call->job_id, "sip: INVITE %s rtp=%s:%d", uri, sl->addr, port);
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
	if (sl->t38 && !slc->t38) /* the caller offered G.711 only: ask for T.38 once up */
		slc->reinvite_at = ms_samples(REINVITE_DELAY_MS);
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
		ssize_t got = recvfrom(slc->fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
		if (got < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			break;
		}
		struct rtp_packet pkt;
		if (rtp_decode(buf, (size_t)got, &pkt) == 0 &&
		    rtp_jitter_put(&slc->jitter, &pkt) != RTP_JITTER_REFUSED)
			slc->last_rx = slc->t;
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
		ssize_t got = recvfrom(slc->ufd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (udptl_decode(slc->udptl, buf, (size_t)got, deliver_ifp, call->session) >= 0)
			slc->last_rx = slc->t;
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
