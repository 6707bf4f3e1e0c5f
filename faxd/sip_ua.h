/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SIP signalling for the SIP line driver: calls in and out, re-INVITE both ways, BYE and CANCEL,
 * over sofia-sip's NUA with its media engine switched off. SDP bodies are opaque strings here
 * (faxd/sdp.c writes and reads them). One agent per bound address; it runs on its own su_root,
 * which the owner drives with sip_ua_step() from one thread.
 *
 * Every call object ends with exactly one of the callbacks failed() (an outgoing call whose
 * INVITE got a final non-2xx) or ended() (everything else: BYE either way, CANCEL, a rejected
 * incoming call, a transport or session-timer failure). The struct sip_call is freed when that
 * callback returns; it must not be used afterwards.
 */
#ifndef FAXD_SIP_UA_H
#define FAXD_SIP_UA_H

#include <stdbool.h>
#include <stddef.h>

#define SIP_UA_DEFAULT_ADDR "127.0.0.1"
#define SIP_UA_DEFAULT_PORT 5060
#define SIP_UA_DEFAULT_SESSION_EXPIRES 1800 /* s, RFC 4028 Session-Expires we ask for */
#define SIP_UA_DEFAULT_MIN_SE 90            /* s, RFC 4028 §5 minimum */
#define SIP_UA_DEFAULT_USER_AGENT "faxgate"
#define SIP_UA_MAX_INFO 128                 /* bytes kept of each sip_invite_info field */

struct sip_ua;
struct sip_call;

struct sip_ua_settings {
	const char *addr;          /* numeric address to bind (default SIP_UA_DEFAULT_ADDR) */
	int port;                  /* 0 = a free port chosen by the system (see sip_ua_port()) */
	bool tcp;                  /* also listen on TCP (UDP always) */
	const char *tls_dir;       /* also listen on TLS (sips:, port + 1) with the certificate
				      agent.pem (and CA cafile.pem) of this directory; NULL = no TLS */
	unsigned transaction_timeout_ms; /* RFC 3261 Timer B/F (64 x T1): a request with no
					    response at all fails with 408 after this; 0 = 32 s */
	unsigned session_expires;  /* RFC 4028 interval; 0 = no session timer */
	unsigned min_se;
	const char *user_agent;
};

/* Named defaults; pointers are static strings. */
void sip_ua_settings_default(struct sip_ua_settings *set);

struct sip_invite_info {
	char request_user[SIP_UA_MAX_INFO]; /* user part of the Request-URI (the number called) */
	char to_user[SIP_UA_MAX_INFO];
	char from_user[SIP_UA_MAX_INFO];
	char from_display[SIP_UA_MAX_INFO];
	char diversion[SIP_UA_MAX_INFO];    /* the first Diversion header's value, or "" */
	const char *sdp;                    /* the offer, NUL-terminated; NULL if none. Borrowed until
					       the callback returns */
};

enum sip_end {
	SIP_END_BYE_REMOTE,  /* the far end hung up */
	SIP_END_BYE_LOCAL,   /* our sip_call_bye() completed */
	SIP_END_CANCELLED,   /* incoming call cancelled by the caller before we answered */
	SIP_END_REJECTED,    /* incoming call we rejected (sip_call_reject) */
	SIP_END_ERROR,       /* transport failure, session timer expiry, a request that timed out */
};

enum sip_failure {
	SIP_FAILURE_OTHER,
	SIP_FAILURE_BUSY,           /* 486, 600 */
	SIP_FAILURE_INVALID_NUMBER, /* 404, 484, 604 */
	SIP_FAILURE_NO_ANSWER,      /* 408, 480, 487 */
	SIP_FAILURE_TRY_NEXT,       /* 503 and the other 5xx: another trunk may do */
	SIP_FAILURE_NOT_ACCEPTABLE, /* 415, 488, 606: the media offer was refused */
};

/* All callbacks run from inside sip_ua_step(). Strings are borrowed until the callback returns. */
struct sip_ua_callbacks {
	void *ctx;
	/* A new call: answer it now or later with sip_call_answer/_reject (_ringing meanwhile). When
	   NULL, calls are refused with 480. */
	void (*incoming)(void *ctx, struct sip_call *call, const struct sip_invite_info *info);
	/* The far end offers new media on an established call: reply with sip_call_answer_reoffer().
	   A re-INVITE whose SDP is byte-identical to the far end's previous one (a session refresh)
	   is answered with our last SDP and does not come here. */
	void (*reoffer)(void *ctx, struct sip_call *call, const char *sdp);
	/* The final answer to our INVITE or re-INVITE: a 2xx with the answer SDP, or, for a
	   re-INVITE only, a refusal (488, 415, ...; sdp NULL) after which the call stays up with the
	   media it had. */
	void (*answered)(void *ctx, struct sip_call *call, int status, const char *sdp);
	/* Final non-2xx to our initial INVITE (the call is over). */
	void (*failed)(void *ctx, struct sip_call *call, int status, const char *phrase);
	void (*ended)(void *ctx, struct sip_call *call, enum sip_end why);
};

/* Binds sip:ADDR:PORT. NULL and *error_r on failure. cb is copied. */
struct sip_ua *sip_ua_create(const struct sip_ua_settings *set, const struct sip_ua_callbacks *cb,
			     const char **error_r);
/* Hangs up what is left (without callbacks), shuts the agent down, frees it. Accepts NULL. */
void sip_ua_free(struct sip_ua **uap);
/* Runs timers and I/O for up to timeout_ms: the milliseconds left of it, or -1. */
int sip_ua_step(struct sip_ua *ua, int timeout_ms);
/* Hand the agent to another thread: the thread using it releases it, the next one obtains it
   before its first sip_ua_step (sofia binds a root to its thread). 0, or -1 when sofia refuses. */
int sip_ua_release(struct sip_ua *ua);
int sip_ua_obtain(struct sip_ua *ua);
/* The UDP port actually bound. */
int sip_ua_port(const struct sip_ua *ua);

/* Digest credentials (RFC 3261 §22, RFC 2617): answer one 401/407 challenge per request, for
   whatever realm the challenge names. */
struct sip_credentials {
	const char *username; /* NULL = no credentials: a challenge is a final failure */
	const char *password;
};

struct sip_invite_params {
	const char *to_uri;    /* sip:NUMBER@HOST[:PORT][;transport=tcp|tls] */
	const char *from_user; /* NULL = "faxgate" */
	const char *from_host; /* NULL = our address and port */
	const char *proxy;     /* outbound proxy URI (every request of the call goes there), or NULL */
	struct sip_credentials auth;
	const char *sdp;
	void *ctx; /* the application's */
};

/* A new outgoing call; NULL if a URI cannot be used. */
struct sip_call *sip_ua_call(struct sip_ua *ua, const struct sip_invite_params *params);
/* The same with only a destination, a From user and the SDP. */
struct sip_call *sip_ua_invite(struct sip_ua *ua, const char *to_uri, const char *from_user, const char *sdp,
			       void *call_ctx);

/* Registration (RFC 3261 §10) of sip:USER@DOMAIN at a registrar, refreshed by sofia before it
   expires and removed when the agent shuts down. state() is called after every final answer to a
   REGISTER (after a digest challenge has been answered): status 200 = registered. */
struct sip_reg;
struct sip_register_params {
	const char *registrar; /* sip:HOST[:PORT][;transport=...] */
	const char *user, *domain;
	const char *proxy; /* or NULL */
	struct sip_credentials auth;
	unsigned expires; /* s asked for; the registrar may grant less */
	void (*state)(void *ctx, struct sip_reg *reg, int status, const char *phrase);
	void *ctx;
};
struct sip_reg *sip_ua_register(struct sip_ua *ua, const struct sip_register_params *params);
/* Registrations are freed with the agent; the last state, 0 before any answer. */
int sip_reg_status(const struct sip_reg *reg);
void *sip_call_ctx(const struct sip_call *call);
void sip_call_set_ctx(struct sip_call *call, void *call_ctx);

/* Incoming call. */
int sip_call_ringing(struct sip_call *call);
int sip_call_answer(struct sip_call *call, int status, const char *sdp);
int sip_call_reject(struct sip_call *call, int status);

/* Established call. A re-INVITE we send while one is pending is refused (-1); one refused by the
   far end with 491 is sent again after the RFC 3261 §14.1 delay, without the application. */
int sip_call_reinvite(struct sip_call *call, const char *sdp);
/* A 2xx to the far end's re-offer drops a re-INVITE of ours that is waiting out a 491 (theirs
   won the glare): no answered() comes for ours. */
int sip_call_answer_reoffer(struct sip_call *call, int status, const char *sdp);
int sip_call_bye(struct sip_call *call);
/* Outgoing call not answered yet. */
int sip_call_cancel(struct sip_call *call);

/* After failed(): true when the far end never answered (sofia made the status itself: 408
   for a timeout, 503 for a transport error), so another trunk may well do. */
bool sip_call_no_response(const struct sip_call *call);

/* The user part of the first sip:, sips: or tel: URI in a header value such as Diversion's
   (`"Desk" <sip:+15551234567@pbx;user=phone>;reason=unconditional`, RFC 5806) into out (at most
   size - 1 bytes, NUL-terminated): 0, or -1 when there is no such URI or its user is empty or
   does not fit. */
int sip_uri_user(const char *value, char *out, size_t size);

enum sip_failure sip_ua_status_class(int status);
const char *sip_ua_failure_name(enum sip_failure failure);

#endif
