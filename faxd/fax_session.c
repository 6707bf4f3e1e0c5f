/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fax session: one T.30 endpoint (ITU-T T.30 phases A-E, T.4 2-D / T.6 image coding, V.21
 * control and V.27ter/V.29/V.17 image modems) over 8 kHz audio with spandsp's fax_state_t, or over
 * ITU-T T.38 IFP packets with t38_terminal_state_t. This is the only file that includes spandsp
 * (0.0.6, Debian 12); /work/shared/research/spandsp.md holds the measurements behind the choices.
 *
 * - Time: spandsp's T.30 timers run only inside fax_rx/fax_rx_fillin (audio) and
 *   t38_terminal_send_timeout (T.38), so time is the samples the caller feeds. The watchdog
 *   (maximum duration, no phase B/D progress) counts the same samples.
 * - Hang-ups: T.30 can wait forever (continuous noise, a lost final DCN over T.38), so every
 *   hang-up and watchdog expiry calls t30_terminate(), which fires phase E at once.
 * - Callbacks: spandsp calls phase B/D/E handlers from inside fax_rx()/tx()/...; only the phase B
 *   policy hook (it must return a verdict) runs there. Page and done events are queued and
 *   delivered after the spandsp call returns, so a callback may hang up or free the session.
 * - Logging: 0.0.6's message handler has no user_data; a thread-local "current session" is set
 *   around every spandsp call and its tag (the job id) goes in front of each line. libtiff's error
 *   and warning handlers are routed the same way.
 * - Results: one table maps every T30_ERR_* code to an outcome class (fax_outcome_from_t30),
 *   refined by what only the session knows (who hung up, the watchdog, our phase B policy, a
 *   V.17 page that never trained).
 */
#include "faxd/fax_session.h"

#include <glib.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Only for sizeof(fax_state_t) in fax_session_engine_bytes(); no field is touched. */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>
#include <tiffio.h>

#include "common/log.h"

#define BLOCK 160 /* 20 ms */
#define MAX_PENDING_PAGES 8

struct fax_session {
	char tag[64]; /* spandsp keeps the pointer: lives as long as the session */
	enum fax_transport transport;
	bool calling, sending;
	fax_state_t *fax;
	t38_terminal_state_t *t38;
	t30_state_t *t30;
	struct fax_session_callbacks cb;
	unsigned modems;

	int tx_x_dpi, tx_y_dpi; /* the document's first page sent */

	int64_t samples;
	int64_t last_progress;
	int64_t max_samples, idle_samples;

	bool finished; /* phase E happened (or document error) */
	bool done_fired;
	bool terminated; /* t30_terminate() called: spandsp is not fed any more */
	bool hanging_up;
	enum fax_outcome hangup_cause;
	char hangup_text[96];
	bool refused_by_policy;
	bool firing;

	struct fax_page_info pending[MAX_PENDING_PAGES];
	int n_pending;

	struct fax_report report;
	size_t engine_bytes;
};

/* ---------------------------------------------------------------------------------------- */
/* The outcome table */

struct t30_code_entry {
	int code;
	const char *name;
	enum fax_outcome outcome;
};

#define E(c, o)                                                                                              \
	{                                                                                                    \
		c, #c, o                                                                                     \
	}
static const struct t30_code_entry t30_codes[] = {
    E(T30_ERR_OK, FAX_OUTCOME_OK),
    /* link problems */
    E(T30_ERR_CEDTONE, FAX_OUTCOME_NO_FAX),
    E(T30_ERR_T0_EXPIRED, FAX_OUTCOME_NO_FAX),
    E(T30_ERR_T1_EXPIRED, FAX_OUTCOME_NO_FAX),
    E(T30_ERR_T3_EXPIRED, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_HDLC_CARRIER, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_CANNOT_TRAIN, FAX_OUTCOME_TRAINING),
    E(T30_ERR_OPER_INT_FAIL, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_INCOMPATIBLE, FAX_OUTCOME_INCOMPATIBLE),
    E(T30_ERR_RX_INCAPABLE, FAX_OUTCOME_INCOMPATIBLE),
    E(T30_ERR_TX_INCAPABLE, FAX_OUTCOME_INCOMPATIBLE),
    E(T30_ERR_NORESSUPPORT, FAX_OUTCOME_INCOMPATIBLE),
    E(T30_ERR_NOSIZESUPPORT, FAX_OUTCOME_INCOMPATIBLE),
    E(T30_ERR_UNEXPECTED, FAX_OUTCOME_PROTOCOL),
    /* transmitter */
    E(T30_ERR_TX_BADDCS, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_TX_BADPG, FAX_OUTCOME_HANGUP),
    E(T30_ERR_TX_ECMPHD, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_TX_GOTDCN, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_TX_INVALRSP, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_TX_NODIS, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_TX_PHBDEAD, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_TX_PHDDEAD, FAX_OUTCOME_HANGUP),
    E(T30_ERR_TX_T5EXP, FAX_OUTCOME_PROTOCOL),
    /* receiver */
    E(T30_ERR_RX_ECMPHD, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_RX_GOTDCS, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_RX_INVALCMD, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_RX_NOCARRIER, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_NOEOL, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_RX_NOFAX, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_RX_T2EXPDCN, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_T2EXPD, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_T2EXPFAX, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_T2EXPMPS, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_T2EXPRR, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_T2EXP, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_RX_DCNWHY, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_RX_DCNDATA, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_DCNFAX, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_DCNPHD, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_DCNRRD, FAX_OUTCOME_HANGUP),
    E(T30_ERR_RX_DCNNORTN, FAX_OUTCOME_HANGUP),
    /* TIFF file problems */
    E(T30_ERR_FILEERROR, FAX_OUTCOME_DOCUMENT),
    E(T30_ERR_NOPAGE, FAX_OUTCOME_DOCUMENT),
    E(T30_ERR_BADTIFF, FAX_OUTCOME_DOCUMENT),
    E(T30_ERR_BADPAGE, FAX_OUTCOME_DOCUMENT),
    E(T30_ERR_BADTAG, FAX_OUTCOME_DOCUMENT),
    E(T30_ERR_BADTIFFHDR, FAX_OUTCOME_DOCUMENT),
    E(T30_ERR_NOMEM, FAX_OUTCOME_LINE),
    /* general */
    E(T30_ERR_RETRYDCN, FAX_OUTCOME_PROTOCOL),
    E(T30_ERR_CALLDROPPED, FAX_OUTCOME_HANGUP),
    /* feature negotiation */
    E(T30_ERR_NOPOLL, FAX_OUTCOME_REJECTED),
    E(T30_ERR_IDENT_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_SUB_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_SEP_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_PSA_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_SID_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_PWD_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_TSA_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_IRA_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_CIA_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_ISP_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
    E(T30_ERR_CSA_UNACCEPTABLE, FAX_OUTCOME_REJECTED),
};
#undef E

static const char *const outcome_names[FAX_OUTCOME_COUNT] = {
    [FAX_OUTCOME_OK] = "ok",
    [FAX_OUTCOME_BUSY] = "busy",
    [FAX_OUTCOME_NO_ANSWER] = "no-answer",
    [FAX_OUTCOME_NO_FAX] = "no-fax",
    [FAX_OUTCOME_PROTOCOL] = "protocol",
    [FAX_OUTCOME_TRAINING] = "training",
    [FAX_OUTCOME_HANGUP] = "hangup",
    [FAX_OUTCOME_INCOMPATIBLE] = "incompatible",
    [FAX_OUTCOME_REJECTED] = "rejected",
    [FAX_OUTCOME_INVALID_NUMBER] = "invalid-number",
    [FAX_OUTCOME_DOCUMENT] = "document",
    [FAX_OUTCOME_CANCELLED] = "cancelled",
    [FAX_OUTCOME_TIMEOUT] = "timeout",
    [FAX_OUTCOME_LINE] = "line",
};

const char *fax_outcome_name(enum fax_outcome o)
{
	if ((unsigned)o >= FAX_OUTCOME_COUNT)
		return "unknown";
	return outcome_names[o];
}

int fax_outcome_parse(const char *name, enum fax_outcome *outcome_r)
{
	for (int i = 0; i < FAX_OUTCOME_COUNT; i++) {
		if (strcmp(name, outcome_names[i]) == 0) {
			*outcome_r = (enum fax_outcome)i;
			return 0;
		}
	}
	return -1;
}

static const struct t30_code_entry *t30_lookup(int code)
{
	for (size_t i = 0; i < G_N_ELEMENTS(t30_codes); i++)
		if (t30_codes[i].code == code)
			return &t30_codes[i];
	return NULL;
}

enum fax_outcome fax_outcome_from_t30(int t30_code)
{
	const struct t30_code_entry *e = t30_lookup(t30_code);
	return e != NULL ? e->outcome : FAX_OUTCOME_PROTOCOL;
}

const char *fax_t30_code_text(int t30_code)
{
	return t30_completion_code_to_str(t30_code);
}

const char *fax_t30_code_name(int t30_code)
{
	const struct t30_code_entry *e = t30_lookup(t30_code);
	return e != NULL ? e->name : NULL;
}

int fax_t30_codes(int *codes, int max)
{
	int n = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(t30_codes) && n < max; i++)
		codes[n++] = t30_codes[i].code;
	return n;
}

void fax_report_init(struct fax_report *report, enum fax_outcome outcome, const char *text)
{
	memset(report, 0, sizeof(*report));
	report->outcome = outcome;
	g_strlcpy(report->text, text != NULL ? text : fax_outcome_name(outcome), sizeof(report->text));
}

/* ---------------------------------------------------------------------------------------- */
/* Logging: spandsp and libtiff into common/log.h */

static __thread struct fax_session *current_session;

static void span_message(int level, const char *text)
{
	enum log_level our;
	switch (level & SPAN_LOG_SEVERITY_MASK) {
	case SPAN_LOG_ERROR:
		our = LOG_LEVEL_WARNING;
		break;
	case SPAN_LOG_WARNING: /* e.g. "ECM carrier not found" on every ECM call: not ours to warn about */
	case SPAN_LOG_PROTOCOL_ERROR:
	case SPAN_LOG_PROTOCOL_WARNING:
		our = LOG_LEVEL_INFO;
		break;
	default:
		our = LOG_LEVEL_DEBUG;
		break;
	}
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	struct fax_session *s = current_session;
	log_job(our, s != NULL ? s->tag : NULL, "spandsp: %.*s", (int)len, text);
}

static void span_error(const char *text)
{
	span_message(SPAN_LOG_ERROR, text);
}

static void tiff_message(enum log_level level, const char *module, const char *fmt, va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	struct fax_session *s = current_session;
	log_job(level, s != NULL ? s->tag : NULL, "libtiff: %s%s%s", module != NULL ? module : "",
		module != NULL ? ": " : "", text);
}

static void tiff_error(const char *module, const char *fmt, va_list ap)
{
	tiff_message(LOG_LEVEL_WARNING, module, fmt, ap);
}

static void tiff_warning(const char *module, const char *fmt, va_list ap)
{
	tiff_message(LOG_LEVEL_DEBUG, module, fmt, ap);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	span_set_message_handler(span_message);
	span_set_error_handler(span_error);
	TIFFSetErrorHandler(tiff_error);
	TIFFSetWarningHandler(tiff_warning);
}

static void setup_logging(struct fax_session *s, logging_state_t *ls, bool flow)
{
	if (ls == NULL)
		return;
	span_log_set_level(ls, flow ? SPAN_LOG_FLOW : SPAN_LOG_PROTOCOL_WARNING);
	span_log_set_tag(ls, s->tag);
	span_log_set_message_handler(ls, span_message);
	span_log_set_error_handler(ls, span_error);
}

/* Around every call into spandsp (and libtiff). */
static struct fax_session *enter(struct fax_session *s)
{
	struct fax_session *prev = current_session;
	current_session = s;
	return prev;
}

static void leave(struct fax_session *prev)
{
	current_session = prev;
}

/* ---------------------------------------------------------------------------------------- */

static int ppm_to_dpi(int ppm)
{
	return (int)lround(ppm * 0.0254);
}

void fax_ident_sanitise(char *out, const char *ident)
{
	size_t n = 0;
	for (const char *p = ident != NULL ? ident : ""; *p != '\0' && n < FAX_IDENT_MAX; p++) {
		unsigned char c = (unsigned char)*p;
		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[n] = '\0';
}

static void sanitise_text(char *out, size_t max, const char *text)
{
	size_t n = 0;
	for (const char *p = text; *p != '\0' && n < max; p++) {
		unsigned char c = (unsigned char)*p;
		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[n] = '\0';
}

static void fill_stats(struct fax_session *s, struct fax_report *r)
{
	t30_stats_t st;
	t30_get_transfer_statistics(s->t30, &st);
	r->pages_done = s->sending ? st.pages_tx : st.pages_rx;
	r->bit_rate = st.bit_rate;
	r->ecm = st.error_correcting_mode != 0;
	r->x_res = ppm_to_dpi(st.x_resolution);
	r->y_res = ppm_to_dpi(st.y_resolution);
	if (st.bad_rows > r->bad_rows)
		r->bad_rows = st.bad_rows;
	const char *remote = t30_get_rx_ident(s->t30);
	if (remote != NULL && remote[0] != '\0')
		fax_ident_sanitise(r->remote_ident, remote);
	r->duration_s = (double)s->samples / FAX_SAMPLE_RATE;
}

static const char *res_name(int y_dpi)
{
	if (y_dpi >= 300)
		return "superfine";
	if (y_dpi >= 150)
		return "fine";
	return "standard";
}

static int phase_b_handler(t30_state_t *t, void *user_data, int result)
{
	struct fax_session *s = user_data;
	s->last_progress = s->samples;
	char remote[FAX_IDENT_MAX + 1] = "";
	fax_ident_sanitise(remote, t30_get_rx_ident(t));
	g_strlcpy(s->report.remote_ident, remote, sizeof(s->report.remote_ident));
	log_job(LOG_LEVEL_DEBUG, s->tag, "fax phase=B frame=%s remote_ident=\"%s\"",
		t30_frametype((uint8_t)result), remote);
	if (s->cb.phase_b != NULL && s->cb.phase_b(s->cb.ctx, remote) != 0) {
		s->refused_by_policy = true;
		return T30_ERR_IDENT_UNACCEPTABLE;
	}
	return T30_ERR_OK;
}

static int phase_d_handler(t30_state_t *t, void *user_data, int result)
{
	struct fax_session *s = user_data;
	t30_stats_t st;
	t30_get_transfer_statistics(t, &st);
	s->last_progress = s->samples;
	struct fax_page_info info = {
	    .pages_done = s->sending ? st.pages_tx : st.pages_rx,
	    .bit_rate = st.bit_rate,
	    .ecm = st.error_correcting_mode != 0,
	    .x_res = ppm_to_dpi(st.x_resolution),
	    .y_res = ppm_to_dpi(st.y_resolution),
	    .bad_rows = st.bad_rows,
	    .width = st.width,
	    .length = st.length,
	};
	if (st.bad_rows > s->report.bad_rows)
		s->report.bad_rows = st.bad_rows;
	log_job(LOG_LEVEL_DEBUG, s->tag, "fax phase=D frame=%s pages=%d rate=%d ecm=%d res=%dx%d bad_rows=%d",
		t30_frametype((uint8_t)result), info.pages_done, info.bit_rate, info.ecm, info.x_res,
		info.y_res, info.bad_rows);
	/* Only report pages that moved the count (the sender's phase D also fires on
	   retransmission requests). */
	int last = s->n_pending > 0 ? s->pending[s->n_pending - 1].pages_done : s->report.pages_done;
	if (info.pages_done > last && s->n_pending < MAX_PENDING_PAGES) {
		s->pending[s->n_pending++] = info;
		s->report.pages_done = info.pages_done;
	}
	return T30_ERR_OK;
}

static void phase_e_handler(t30_state_t *t, void *user_data, int code)
{
	struct fax_session *s = user_data;
	struct fax_report *r = &s->report;
	if (s->finished)
		return;
	fill_stats(s, r);
	r->t30_code = code;
	enum fax_outcome o = fax_outcome_from_t30(code);
	g_strlcpy(r->text, t30_completion_code_to_str(code), sizeof(r->text));

	if (s->refused_by_policy && code != T30_ERR_OK) {
		o = FAX_OUTCOME_REJECTED;
		g_strlcpy(r->text, "refused by policy: far end's ident is not acceptable", sizeof(r->text));
	} else if (s->hanging_up && code != T30_ERR_OK) {
		/* we cut the call short: whatever T.30 was waiting for, the cause is ours */
		o = s->hangup_cause;
		if (code == T30_ERR_CALLDROPPED)
			g_strlcpy(r->text, s->hangup_text, sizeof(r->text));
		else
			snprintf(r->text, sizeof(r->text), "%s (%s)", s->hangup_text,
				 t30_completion_code_to_str(code));
	} else if (code == T30_ERR_NORESSUPPORT && s->sending) {
		snprintf(r->text, sizeof(r->text), "far end cannot receive %s resolution (%dx%d dpi)",
			 res_name(s->tx_y_dpi), s->tx_x_dpi, s->tx_y_dpi);
	} else if (code == T30_ERR_NOSIZESUPPORT && s->sending) {
		g_strlcpy(r->text, "far end cannot receive this page size or width", sizeof(r->text));
	}
	/* V.17 has no fallback when its short train fails (research/spandsp.md §6): a call that never
	   got a page through at a V.17-only rate is a training failure, retried without V.17. */
	if ((o == FAX_OUTCOME_PROTOCOL || o == FAX_OUTCOME_HANGUP) && !s->hanging_up && r->pages_done == 0 &&
	    r->bit_rate >= 12000 && (s->modems & FAX_MODEM_V17) &&
	    (code == T30_ERR_TX_PHBDEAD || code == T30_ERR_TX_PHDDEAD || code == T30_ERR_RX_NOCARRIER ||
	     code == T30_ERR_RX_NOFAX || code == T30_ERR_TX_INVALRSP))
		o = FAX_OUTCOME_TRAINING;
	r->outcome = o;
	s->finished = true;
}

static int t38_tx_handler(t38_core_state_t *core, void *user_data, const uint8_t *buf, int len, int count)
{
	struct fax_session *s = user_data;
	if (len > 0 && s->cb.t38_tx != NULL)
		s->cb.t38_tx(s->cb.ctx, buf, (size_t)len, count < 1 ? 1 : count);
	return 0;
}

/* Deliver queued page events and done(): the last thing every public entry point does. A page
   callback may call fax_session_hangup() (which re-enters here and returns at once); done() may
   free the session, so nothing touches s after it. */
static void fire_events(struct fax_session *s)
{
	if (s->firing)
		return;
	s->firing = true;
	while (s->n_pending > 0) {
		struct fax_page_info info = s->pending[0];
		memmove(&s->pending[0], &s->pending[1], (size_t)(s->n_pending - 1) * sizeof(s->pending[0]));
		s->n_pending--;
		if (s->cb.page != NULL)
			s->cb.page(s->cb.ctx, &info);
	}
	if (s->finished && !s->done_fired) {
		s->done_fired = true;
		s->firing = false;
		struct fax_report r = s->report;
		log_job(LOG_LEVEL_DEBUG, s->tag,
			"fax phase=E result=%s code=%d pages=%d/%d rate=%d ecm=%d text=\"%s\"",
			fax_outcome_name(r.outcome), r.t30_code, r.pages_done, r.pages_total, r.bit_rate,
			r.ecm, r.text);
		if (s->cb.done != NULL)
			s->cb.done(s->cb.ctx, &r);
		return;
	}
	s->firing = false;
}

/* ---------------------------------------------------------------------------------------- */

void fax_session_settings_default(struct fax_session_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->transport = FAX_TRANSPORT_AUDIO;
	set->first_page = 1;
	set->ecm = true;
	set->modems = FAX_MODEM_ALL;
	set->resolutions = FAX_RES_ALL;
	set->t38.version = FAX_SESSION_DEFAULT_T38_VERSION;
	set->t38.max_datagram = FAX_SESSION_DEFAULT_T38_MAX_DATAGRAM;
	set->t38.max_buffer = FAX_SESSION_DEFAULT_T38_MAX_BUFFER;
	set->t38.max_bitrate = FAX_SESSION_DEFAULT_T38_MAX_BITRATE;
	set->t38.transferred_tcf = true;
	set->max_duration_s = FAX_SESSION_DEFAULT_MAX_DURATION_S;
	set->idle_timeout_s = FAX_SESSION_DEFAULT_IDLE_TIMEOUT_S;
}

/* Check the document before dialling (research/spandsp.md §7: width 1728, bilevel, resolution
   tags): returns 0, or -1 with the reason. Counts pages and records the first page's dpi. */
static int check_document(struct fax_session *s, const char *path, int first, int *last, char *why,
			  size_t whysize)
{
	TIFF *tif = TIFFOpen(path, "r");
	if (tif == NULL) {
		snprintf(why, whysize, "cannot open document %s", path);
		return -1;
	}
	int pages = 0;
	int ret = 0;
	do {
		pages++;
		if (pages < first || (*last > 0 && pages > *last))
			continue;
		uint32_t width = 0;
		uint16_t bps = 1, spp = 1, unit = RESUNIT_INCH;
		float xres = 0, yres = 0;
		TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
		TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
		TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
		TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
		if (bps != 1 || spp != 1) {
			snprintf(why, whysize, "page %d is not bilevel (%u bits per sample)", pages, bps);
			ret = -1;
			break;
		}
		if (width != 1728) {
			snprintf(why, whysize, "page %d is %u pixels wide, fax pages must be 1728", pages,
				 width);
			ret = -1;
			break;
		}
		if (!TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) ||
		    !TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres) || xres <= 0 || yres <= 0) {
			snprintf(why, whysize, "page %d has no resolution tags", pages);
			ret = -1;
			break;
		}
		if (pages == first) {
			double f = unit == RESUNIT_CENTIMETER ? 2.54 : 1.0;
			s->tx_x_dpi = (int)lround(xres * f);
			s->tx_y_dpi = (int)lround(yres * f);
		}
	} while (TIFFReadDirectory(tif));
	TIFFClose(tif);
	if (ret < 0)
		return -1;
	if (first > pages) {
		snprintf(why, whysize, "document has %d pages, cannot start at page %d", pages, first);
		return -1;
	}
	if (*last == 0 || *last > pages)
		*last = pages;
	return 0;
}

struct fax_session *fax_session_create(const struct fax_session_settings *set,
				       const struct fax_session_callbacks *cb, const char **error_r)
{
	bool sending = set->tx_file != NULL;
	if (sending == (set->rx_file != NULL)) {
		*error_r = "exactly one of tx_file and rx_file must be set";
		return NULL;
	}
	if (set->transport == FAX_TRANSPORT_T38 && (cb == NULL || cb->t38_tx == NULL)) {
		*error_r = "T.38 needs a t38_tx callback";
		return NULL;
	}
	pthread_once(&global_once, global_init);

	struct fax_session *s = g_new0(struct fax_session, 1);
	g_strlcpy(s->tag, set->log_tag != NULL ? set->log_tag : "fax", sizeof(s->tag));
	s->transport = set->transport;
	s->calling = set->calling;
	s->sending = sending;
	if (cb != NULL)
		s->cb = *cb;
	s->modems = set->modems != 0 ? set->modems : FAX_MODEM_ALL;
	s->max_samples = (int64_t)set->max_duration_s * FAX_SAMPLE_RATE;
	s->idle_samples = (int64_t)set->idle_timeout_s * FAX_SAMPLE_RATE;

	int first = set->first_page > 0 ? set->first_page : 1;
	int last = set->last_page;
	if (sending) {
		char why[128];
		struct fax_session *prev = enter(s);
		int ret = check_document(s, set->tx_file, first, &last, why, sizeof(why));
		leave(prev);
		if (ret < 0) {
			/* done() follows at the first feed call, not from inside create. */
			log_job(LOG_LEVEL_WARNING, s->tag, "fax document unusable: %s", why);
			fax_report_init(&s->report, FAX_OUTCOME_DOCUMENT, why);
			s->finished = true;
			s->terminated = true;
			return s;
		}
		s->report.pages_total = last - first + 1;
	}

	struct fax_session *prev = enter(s);
	if (s->transport == FAX_TRANSPORT_AUDIO) {
		s->fax = fax_init(NULL, set->calling);
		s->t30 = fax_get_t30_state(s->fax);
		fax_set_transmit_on_idle(s->fax, TRUE);
		fax_set_tep_mode(s->fax, FALSE);
		setup_logging(s, fax_get_logging_state(s->fax), set->log_flow);
		s->engine_bytes = sizeof(fax_state_t);
	} else {
		s->t38 = t38_terminal_init(NULL, set->calling, t38_tx_handler, s);
		s->t30 = t38_terminal_get_t30_state(s->t38);
		t38_core_state_t *core = t38_terminal_get_t38_core_state(s->t38);
		t38_set_t38_version(core, set->t38.version);
		if (set->t38.max_datagram > 0)
			t38_set_max_datagram_size(core, set->t38.max_datagram);
		if (set->t38.max_buffer > 0)
			t38_set_max_buffer_size(core, set->t38.max_buffer);
		if (set->t38.max_bitrate > 0)
			t38_set_fastest_image_data_rate(core, set->t38.max_bitrate);
		t38_set_data_rate_management_method(core, set->t38.transferred_tcf ? 2 : 1);
		t38_terminal_set_config(s->t38, 0);
		t38_terminal_set_tep_mode(s->t38, FALSE);
		setup_logging(s, t38_terminal_get_logging_state(s->t38), set->log_flow);
		setup_logging(s, t38_core_get_logging_state(core), set->log_flow);
		s->engine_bytes = sizeof(t38_terminal_state_t);
	}
	setup_logging(s, t30_get_logging_state(s->t30), set->log_flow);

	char ident[FAX_IDENT_MAX + 1];
	fax_ident_sanitise(ident, set->ident);
	if (ident[0] != '\0')
		t30_set_tx_ident(s->t30, ident);
	if (set->header_info != NULL) {
		char info[FAX_HEADER_INFO_MAX + 1];
		sanitise_text(info, FAX_HEADER_INFO_MAX, set->header_info);
		t30_set_tx_page_header_info(s->t30, info);
	}
	t30_set_ecm_capability(s->t30, set->ecm);
	int modems = 0;
	if (s->modems & FAX_MODEM_V27TER)
		modems |= T30_SUPPORT_V27TER;
	if (s->modems & FAX_MODEM_V29)
		modems |= T30_SUPPORT_V29;
	if (s->modems & FAX_MODEM_V17)
		modems |= T30_SUPPORT_V17;
	t30_set_supported_modems(s->t30, modems);
	t30_set_supported_compressions(s->t30, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION |
						   T30_SUPPORT_T6_COMPRESSION);
	unsigned resm = set->resolutions != 0 ? set->resolutions : FAX_RES_ALL;
	int res = T30_SUPPORT_R8_RESOLUTION;
	if (resm & FAX_RES_STANDARD)
		res |= T30_SUPPORT_STANDARD_RESOLUTION;
	if (resm & FAX_RES_FINE)
		res |= T30_SUPPORT_FINE_RESOLUTION;
	if (resm & FAX_RES_SUPERFINE)
		res |= T30_SUPPORT_SUPERFINE_RESOLUTION;
	t30_set_supported_resolutions(s->t30, res);
	if (sending) {
		t30_set_tx_file(s->t30, set->tx_file, first - 1, last - 1);
	} else {
		t30_set_rx_file(s->t30, set->rx_file, -1);
		t30_set_rx_encoding(s->t30, T4_COMPRESSION_ITU_T6);
	}
	t30_set_phase_b_handler(s->t30, phase_b_handler, s);
	t30_set_phase_d_handler(s->t30, phase_d_handler, s);
	t30_set_phase_e_handler(s->t30, phase_e_handler, s);
	leave(prev);
	return s;
}

void fax_session_free(struct fax_session **sessionp)
{
	struct fax_session *s = *sessionp;
	if (s == NULL)
		return;
	*sessionp = NULL;
	/* No callbacks from here on: the owner is going away. */
	s->cb.page = NULL;
	s->cb.done = NULL;
	s->cb.t38_tx = NULL;
	struct fax_session *prev = enter(s);
	if (!s->terminated && !s->finished) {
		s->hanging_up = true;
		s->hangup_cause = FAX_OUTCOME_CANCELLED;
		t30_terminate(s->t30);
	}
	if (s->fax != NULL)
		fax_free(s->fax);
	if (s->t38 != NULL)
		t38_terminal_free(s->t38);
	leave(prev);
	g_free(s);
}

static void terminate(struct fax_session *s, enum fax_outcome cause, const char *text)
{
	if (s->terminated)
		return;
	s->terminated = true;
	if (s->finished)
		return;
	s->hanging_up = true;
	s->hangup_cause = cause;
	g_strlcpy(s->hangup_text, text, sizeof(s->hangup_text));
	struct fax_session *prev = enter(s);
	t30_terminate(s->t30);
	if (!s->finished) /* T.30 had already finished without telling */
		phase_e_handler(s->t30, s, T30_ERR_CALLDROPPED);
	leave(prev);
}

static void watchdog(struct fax_session *s)
{
	if (s->terminated || s->finished)
		return;
	const char *why = NULL;
	if (s->max_samples > 0 && s->samples >= s->max_samples)
		why = "watchdog: maximum call duration reached";
	else if (s->idle_samples > 0 && s->samples - s->last_progress >= s->idle_samples)
		why = "watchdog: no T.30 progress";
	if (why == NULL)
		return;
	log_job(LOG_LEVEL_WARNING, s->tag, "fax %s after %.0f s, terminating T.30", why,
		(double)s->samples / FAX_SAMPLE_RATE);
	terminate(s, FAX_OUTCOME_TIMEOUT, why);
}

/* After spandsp returned: notice a call that ended without phase E, run the watchdog, then
   deliver events (last: done() may free s). */
static void after_feed(struct fax_session *s)
{
	if (!s->terminated && !s->finished && !t30_call_active(s->t30)) {
		struct fax_session *prev = enter(s);
		phase_e_handler(s->t30, s, T30_ERR_CALLDROPPED);
		leave(prev);
	}
	watchdog(s);
	fire_events(s);
}

void fax_session_rx_audio(struct fax_session *s, const int16_t *samples, int n)
{
	if (s->transport != FAX_TRANSPORT_AUDIO)
		return;
	s->samples += n;
	if (!s->terminated) {
		struct fax_session *prev = enter(s);
		if (samples == NULL) {
			fax_rx_fillin(s->fax, n);
		} else {
			int16_t buf[BLOCK];
			for (int off = 0; off < n; off += BLOCK) {
				int k = n - off < BLOCK ? n - off : BLOCK;
				memcpy(buf, samples + off, (size_t)k * sizeof(int16_t));
				fax_rx(s->fax, buf, k);
			}
		}
		leave(prev);
	}
	after_feed(s);
}

void fax_session_tx_audio(struct fax_session *s, int16_t *samples, int n)
{
	if (s->transport != FAX_TRANSPORT_AUDIO || s->terminated) {
		memset(samples, 0, (size_t)n * sizeof(int16_t));
	} else {
		struct fax_session *prev = enter(s);
		int got = fax_tx(s->fax, samples, n);
		if (got < n)
			memset(samples + got, 0, (size_t)(n - got) * sizeof(int16_t));
		leave(prev);
	}
	fire_events(s);
}

void fax_session_rx_ifp(struct fax_session *s, const uint8_t *ifp, size_t len, uint16_t seq)
{
	if (s->transport != FAX_TRANSPORT_T38)
		return;
	if (!s->terminated && len > 0) {
		struct fax_session *prev = enter(s);
		t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(s->t38), ifp, (int)len, seq);
		leave(prev);
	}
	fire_events(s);
}

void fax_session_tick(struct fax_session *s, int n)
{
	if (s->transport != FAX_TRANSPORT_T38)
		return;
	s->samples += n;
	if (!s->terminated) {
		struct fax_session *prev = enter(s);
		t38_terminal_send_timeout(s->t38, n);
		leave(prev);
	}
	after_feed(s);
}

bool fax_session_active(const struct fax_session *s)
{
	return !s->finished;
}

void fax_session_hangup(struct fax_session *s, enum fax_outcome cause)
{
	const char *text;
	switch (cause) {
	case FAX_OUTCOME_CANCELLED:
		text = "cancelled: we hung up";
		break;
	case FAX_OUTCOME_HANGUP:
		text = "the far end hung up";
		break;
	case FAX_OUTCOME_TIMEOUT:
		text = "watchdog: call timed out";
		break;
	case FAX_OUTCOME_LINE:
		text = "line trouble: channel lost";
		break;
	default:
		text = fax_outcome_name(cause);
		break;
	}
	terminate(s, cause, text);
	fire_events(s);
}

void fax_session_get_report(const struct fax_session *s, struct fax_report *report_r)
{
	*report_r = s->report;
	if (!s->finished && s->t30 != NULL) {
		fill_stats((struct fax_session *)s, report_r);
		report_r->pages_done = s->report.pages_done;
	}
}

double fax_session_time(const struct fax_session *s)
{
	return (double)s->samples / FAX_SAMPLE_RATE;
}

size_t fax_session_engine_bytes(const struct fax_session *s)
{
	return s->engine_bytes;
}

/* ---------------------------------------------------------------------------------------- */

size_t fax_codec_encode(enum fax_codec codec, const int16_t *in, int n, uint8_t *out)
{
	switch (codec) {
	case FAX_CODEC_ALAW:
		for (int i = 0; i < n; i++)
			out[i] = linear_to_alaw(in[i]);
		return (size_t)n;
	case FAX_CODEC_ULAW:
		for (int i = 0; i < n; i++)
			out[i] = linear_to_ulaw(in[i]);
		return (size_t)n;
	case FAX_CODEC_LINEAR:
		break;
	}
	memcpy(out, in, (size_t)n * sizeof(int16_t));
	return (size_t)n * sizeof(int16_t);
}

void fax_codec_decode(enum fax_codec codec, const uint8_t *in, int n, int16_t *out)
{
	switch (codec) {
	case FAX_CODEC_ALAW:
		for (int i = 0; i < n; i++)
			out[i] = alaw_to_linear(in[i]);
		return;
	case FAX_CODEC_ULAW:
		for (int i = 0; i < n; i++)
			out[i] = ulaw_to_linear(in[i]);
		return;
	case FAX_CODEC_LINEAR:
		break;
	}
	memcpy(out, in, (size_t)n * sizeof(int16_t));
}
