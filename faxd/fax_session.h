/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One fax call endpoint: ITU-T T.30 (phases A-E) with T.4/T.6 image coding, over 8 kHz audio
 * (V.21/V.27ter/V.29/V.17 modems) or over ITU-T T.38 IFP packets. The only module that includes
 * spandsp; no spandsp type appears here. The caller owns the clock: it feeds audio blocks (or
 * IFPs and ticks) and time passes only by the samples it feeds, so a call can run in real time
 * or as fast as the CPU allows. A watchdog (maximum duration, no progress) calls t30_terminate()
 * so no call can hang. Not thread-safe: one thread at a time per session.
 */
#ifndef FAXD_FAX_SESSION_H
#define FAXD_FAX_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAX_SAMPLE_RATE 8000
#define FAX_IDENT_MAX 20       /* T.30 TSI/CSI */
#define FAX_HEADER_INFO_MAX 50 /* page header text */
#define FAX_SESSION_DEFAULT_MAX_DURATION_S 3600
#define FAX_SESSION_DEFAULT_IDLE_TIMEOUT_S 120 /* no phase B/D event for this long */
#define FAX_SESSION_DEFAULT_T38_VERSION 0
#define FAX_SESSION_DEFAULT_T38_MAX_DATAGRAM 400
#define FAX_SESSION_DEFAULT_T38_MAX_BUFFER 400
#define FAX_SESSION_DEFAULT_T38_MAX_BITRATE 14400

enum fax_outcome {
	FAX_OUTCOME_OK,
	FAX_OUTCOME_BUSY,
	FAX_OUTCOME_NO_ANSWER,
	FAX_OUTCOME_NO_FAX,	  /* answered but no fax tone / voice / T0 timeout */
	FAX_OUTCOME_PROTOCOL,	  /* negotiation / T.30 protocol failure: retry */
	FAX_OUTCOME_TRAINING,	  /* failed training (V.17 weak line): retry with V.17 disabled */
	FAX_OUTCOME_HANGUP,	  /* far end hung up / carrier lost mid-document: retry remaining pages */
	FAX_OUTCOME_INCOMPATIBLE, /* far end cannot take this resolution/size/width: permanent for this
				     document */
	FAX_OUTCOME_REJECTED,	  /* refused (phase B policy, call rejected) */
	FAX_OUTCOME_INVALID_NUMBER,
	FAX_OUTCOME_DOCUMENT,  /* local file cannot be read: permanent */
	FAX_OUTCOME_CANCELLED, /* we hung up on request */
	FAX_OUTCOME_TIMEOUT,   /* watchdog */
	FAX_OUTCOME_LINE,      /* line/channel trouble on our side: retry */
};
#define FAX_OUTCOME_COUNT (FAX_OUTCOME_LINE + 1)

/* "ok", "busy", "no-answer", "no-fax", "protocol", "training", "hangup", "incompatible",
   "rejected", "invalid-number", "document", "cancelled", "timeout", "line". */
const char *fax_outcome_name(enum fax_outcome o);
/* The reverse of fax_outcome_name; -1 when unknown. */
int fax_outcome_parse(const char *name, enum fax_outcome *outcome_r);

struct fax_report {
	enum fax_outcome outcome;
	int t30_code;	 /* raw T30_ERR_* (0 when the call never reached T.30) */
	char text[128];	 /* t30_completion_code_to_str or our reason */
	int pages_done;	 /* pages of this call confirmed by the far end (sender) / received (receiver) */
	int pages_total; /* pages this call tried to send (sender) */
	int bit_rate;
	bool ecm;
	int x_res, y_res; /* dpi */
	int bad_rows;
	char remote_ident[21];
	double duration_s; /* call time, in the call's own (sample) clock */
};

/* The outcome class of a spandsp T30_ERR_* completion code (the one table, docs/fax-engine.md).
   Unknown codes map to FAX_OUTCOME_PROTOCOL. */
enum fax_outcome fax_outcome_from_t30(int t30_code);
/* spandsp's text for a T30_ERR_* code. */
const char *fax_t30_code_text(int t30_code);
/* Every T30_ERR_* code of spandsp 0.0.6, for tests: fills up to max codes, returns the count. */
int fax_t30_codes(int *codes, int max);
/* The enumerator's name, "T30_ERR_OK"..., or NULL for an unknown code. */
const char *fax_t30_code_name(int t30_code);

/* Fill a report for a call that never reached T.30 (busy, no answer, line trouble). */
void fax_report_init(struct fax_report *report, enum fax_outcome outcome, const char *text);

enum fax_transport { FAX_TRANSPORT_AUDIO, FAX_TRANSPORT_T38 };

/* Modems (fax_session_settings.modems). */
#define FAX_MODEM_V27TER 0x01u
#define FAX_MODEM_V29 0x02u
#define FAX_MODEM_V17 0x04u
#define FAX_MODEM_ALL (FAX_MODEM_V27TER | FAX_MODEM_V29 | FAX_MODEM_V17)

/* Resolutions accepted as a receiver / usable as a sender (fax_session_settings.resolutions). */
#define FAX_RES_STANDARD 0x01u	/* 204x98 */
#define FAX_RES_FINE 0x02u	/* 204x196 */
#define FAX_RES_SUPERFINE 0x04u /* 204x391 */
#define FAX_RES_ALL (FAX_RES_STANDARD | FAX_RES_FINE | FAX_RES_SUPERFINE)

struct fax_t38_settings {
	int version;	      /* T38FaxVersion 0..3 */
	int max_datagram;     /* T38FaxMaxDatagram (IFP size limit given to spandsp) */
	int max_buffer;	      /* T38FaxMaxBuffer */
	int max_bitrate;      /* T38MaxBitRate */
	bool transferred_tcf; /* T38FaxRateManagement: transferredTCF (else localTCF) */
};

/* Per-page event (phase D). */
struct fax_page_info {
	int pages_done; /* pages of this call so far (sent and confirmed / received) */
	int bit_rate;
	bool ecm;
	int x_res, y_res; /* dpi */
	int bad_rows;
	int width, length; /* pixels, rows of the page just done */
};

struct fax_session_callbacks {
	/* Phase B, once the far end's ident is known (may be ""): non-zero refuses the call
	   (T30_ERR_IDENT_UNACCEPTABLE). NULL accepts all. */
	int (*phase_b)(void *ctx, const char *remote_ident);
	/* Phase D, once per page. */
	void (*page)(void *ctx, const struct fax_page_info *page);
	/* Phase E (or the watchdog, or a document error at create): exactly once. */
	void (*done)(void *ctx, const struct fax_report *report);
	/* T.38: send this IFP `count` times with ONE sequence number (the receiver drops the
	   copies). Required for FAX_TRANSPORT_T38. */
	void (*t38_tx)(void *ctx, const uint8_t *ifp, size_t len, int count);
	void *ctx;
};

struct fax_session_settings {
	const char *log_tag; /* copied; e.g. the job id */
	enum fax_transport transport;
	bool calling;		 /* we originate the call (CNG, wait for DIS) */
	const char *ident;	 /* local TSI/CSI, sanitised to <= 20 printable chars; NULL none */
	const char *header_info; /* page header line text (<= 50); NULL none */
	/* Sending: tx_file set (TIFF-F), pages first..last (1-based; last 0 = to the end).
	   Receiving: rx_file set (written as T.6; spandsp deletes it when 0 pages arrive). */
	const char *tx_file;
	int first_page, last_page;
	const char *rx_file;
	bool ecm;
	unsigned modems;      /* FAX_MODEM_* mask; 0 = all */
	unsigned resolutions; /* FAX_RES_* mask; 0 = all */
	struct fax_t38_settings t38;
	int max_duration_s; /* watchdog; 0 = none */
	int idle_timeout_s; /* watchdog: no phase B/D progress; 0 = none */
	bool log_flow;	    /* route spandsp's protocol flow (SPAN_LOG_FLOW) as debug lines, not
			       only its warnings and errors */
};

/* Defaults: audio, answering, ECM on, all modems and resolutions, T.38 v0 / 400 / 400 / 14400
   transferred TCF, watchdog FAX_SESSION_DEFAULT_*. */
void fax_session_settings_default(struct fax_session_settings *set);

struct fax_session;

/* Returns NULL with *error_r (static text) on invalid settings (no tx/rx file, both, T.38 without
   t38_tx). A tx document that cannot be used (missing, not bilevel, not 1728 wide, no such page)
   gives a session that is already finished with FAX_OUTCOME_DOCUMENT; its done() comes from the
   first feed call (never from inside create). Settings strings and cb are copied.
   Callbacks run from the feed functions, after spandsp has returned: page() may call
   fax_session_hangup(); done() may free the session; phase_b() must not call back in. */
struct fax_session *fax_session_create(const struct fax_session_settings *set,
				       const struct fax_session_callbacks *cb, const char **error_r);
/* Accepts NULL, clears *sessionp. Terminates an active call first, without callbacks. */
void fax_session_free(struct fax_session **sessionp);

/* Audio: `samples` linear 16-bit samples received from the line; samples NULL = a lost block
   (fill-in). Time advances by n samples and the watchdog runs here. */
void fax_session_rx_audio(struct fax_session *s, const int16_t *samples, int n);
/* Audio: n samples to send to the line (silence when idle or finished). */
void fax_session_tx_audio(struct fax_session *s, int16_t *samples, int n);

/* T.38: one received IFP with its UDPTL sequence number. */
void fax_session_rx_ifp(struct fax_session *s, const uint8_t *ifp, size_t len, uint16_t seq);
/* T.38: advance time by n samples (call every <= 20 ms = 160 samples); IFPs go out via t38_tx.
   Runs the watchdog. */
void fax_session_tick(struct fax_session *s, int n);

/* True until phase E (or the watchdog, or hang-up) has happened. */
bool fax_session_active(const struct fax_session *s);
/* The line went away. cause: FAX_OUTCOME_CANCELLED (we hung up), FAX_OUTCOME_HANGUP (the far end
   did), FAX_OUTCOME_LINE, FAX_OUTCOME_TIMEOUT. Calls t30_terminate(): phase E follows at once,
   and a call cut short is reported with `cause` (a finished one keeps its result). */
void fax_session_hangup(struct fax_session *s, enum fax_outcome cause);
/* The final report once !fax_session_active(), else a snapshot so far. */
void fax_session_get_report(const struct fax_session *s, struct fax_report *report_r);
/* Seconds of call time fed so far. */
double fax_session_time(const struct fax_session *s);

/* G.711 line codecs for the caller's audio path (spandsp's tables). */
enum fax_codec { FAX_CODEC_LINEAR, FAX_CODEC_ALAW, FAX_CODEC_ULAW };
/* linear -> coded bytes (LINEAR: 2 bytes per sample, host order). Returns bytes written. */
size_t fax_codec_encode(enum fax_codec codec, const int16_t *in, int n, uint8_t *out);
/* coded bytes -> linear; n samples. */
void fax_codec_decode(enum fax_codec codec, const uint8_t *in, int n, int16_t *out);

/* Sanitise an ident for T.30: printable ASCII, at most FAX_IDENT_MAX chars (out >= 21 bytes). */
void fax_ident_sanitise(char *out, const char *ident);

/* sizeof spandsp's own endpoint state (fax_state_t or t38_terminal_state_t), for benchmarks;
   the heap an endpoint uses in a call is several times more (page buffers). */
size_t fax_session_engine_bytes(const struct fax_session *s);

#endif
