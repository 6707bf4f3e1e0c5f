/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The line layer with the SIP driver (faxd/line_sip.c): two SIP lines, "a" and "b", in one lines
 * object on 127.0.0.1, each the other's peer, so every call a places arrives on b. Checks the
 * signalling paths a full fax does not reach in a few seconds: 486 from a line that only sends
 * (busy), a DID the line does not take (404: invalid number), a refused offer (480: no answer), a call
 * cancelled while it rings, and a call connected over G.711 and then hung up by the caller (cancelled on a,
 * hangup on b), each with done() exactly once; and, with a plain sip_ua agent as the far end, T.38 re-INVITEs
 * both ways (the far end's taken by a T.38 line; ours sent after answering a G.711-only offer, accepted or
 * refused). A whole fax over SIP is tests/integration/test_sip.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "faxd/fax_session.h"
#include "faxd/line.h"
#include "faxd/sip_ua.h"
#include "faxd/tiffpages.h"

static char *tmpdir;
static char *doc1;
static int port_base;

static int setup_all(void **state)
{
	tmpdir = g_strdup("/tmp/faxsip-XXXXXX");
	if (g_mkdtemp(tmpdir) == NULL)
		return -1;
	doc1 = g_build_filename(tmpdir, "doc1.tiff", NULL);
	const char *err;
	if (tiffpages_write_test(doc1, 1, TIFFPAGES_RES_STANDARD, TIFFPAGES_PAPER_A4, 1, &err) < 0)
		return -1;
	port_base = 40000 + (int)(getpid() % 5000) * 4;
	return 0;
}

static int teardown_all(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	g_free(doc1);
	g_free(tmpdir);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

enum policy { POLICY_ANSWER, POLICY_REJECT, POLICY_HOLD };

struct rig {
	struct config *config;
	struct lines *lines;
	struct line *a, *b;
	int pb; /* b's SIP port */
	enum policy policy;
	/* b's side */
	int offers, in_done;
	char did[32], caller[32];
	struct call *in_call;
	struct fax_report in_report;
	/* a's side */
	int done;
	struct fax_report report;
	bool saw_training;
};

static void on_incoming(void *ctx, struct call *call, const struct inbound_offer *offer)
{
	struct rig *rig = ctx;
	rig->offers++;
	assert_string_equal(offer->line, "b");
	g_strlcpy(rig->did, offer->did != NULL ? offer->did : "", sizeof(rig->did));
	g_strlcpy(rig->caller, offer->caller_id != NULL ? offer->caller_id : "", sizeof(rig->caller));
	rig->in_call = call;
	if (rig->policy == POLICY_ANSWER) {
		g_autofree char *rx = g_build_filename(tmpdir, "rx.tiff", NULL);
		const char *err;
		assert_int_equal(call_answer(call, rx, NULL, &err), 0);
	} else if (rig->policy == POLICY_REJECT) {
		call_reject(call);
	}
}

static void on_incoming_done(void *ctx, struct call *call, const struct fax_report *report,
			     const char *rx_file)
{
	struct rig *rig = ctx;
	rig->in_done++;
	rig->in_report = *report;
}

static void on_progress(void *ctx, const struct call_progress *p)
{
	struct rig *rig = ctx;
	if (strcmp(p->phase, "training") == 0)
		rig->saw_training = true;
}

static void on_done(void *ctx, const struct fax_report *report)
{
	struct rig *rig = ctx;
	rig->done++;
	rig->report = *report;
}

/* a_peer: where line a calls (0: line b); a_extra, b_extra: more keys for each line. */
static void rig_open_with(struct rig *rig, enum policy policy, int a_peer, const char *a_extra,
			  const char *b_extra)
{
	memset(rig, 0, sizeof(*rig));
	rig->policy = policy;
	int pa = port_base, pb = port_base + 1;
	port_base += 2; /* a fresh pair per test: no late datagram of the last one arrives */
	rig->pb = pb;
	g_autofree char *text =
	    g_strdup_printf("[faxgate]\nhome = %s\n"
			    "[line a]\ntype = sip\nident = +1 212 555 0101\nsip_listen = "
			    "127.0.0.1:%d\nsip_peer = 127.0.0.1:%d\n"
			    "rtp_port_min = 36000\nrtp_port_max = 36099\n%s"
			    "[line b]\ntype = sip\nident = +1 212 555 0102\nsip_listen = "
			    "127.0.0.1:%d\nsip_peer = 127.0.0.1:%d\n"
			    "rtp_port_min = 36100\nrtp_port_max = 36199\n%s\n",
			    tmpdir, pa, a_peer > 0 ? a_peer : pb, a_extra, pb, pa, b_extra);
	char *errors = NULL;
	if (config_load_data(text, "test.conf", &rig->config, &errors) < 0)
		fail_msg("config: %s", errors);
	struct lines_callbacks cb = {.incoming = on_incoming, .incoming_done = on_incoming_done, .ctx = rig};
	const char *err;
	rig->lines = lines_create(rig->config, &cb, &err);
	if (rig->lines == NULL)
		fail_msg("lines_create: %s", err);
	rig->a = lines_get(rig->lines, "a");
	rig->b = lines_get(rig->lines, "b");
	assert_non_null(rig->a);
	assert_non_null(rig->b);
}

static void rig_open(struct rig *rig, enum policy policy, const char *b_extra)
{
	rig_open_with(rig, policy, 0, "", b_extra);
}

static void rig_close(struct rig *rig)
{
	lines_free(&rig->lines);
	config_free(&rig->config);
}

/* Run the main thread's side (dispatch) for a while. */
static void pump(struct rig *rig)
{
	struct pollfd pfd = {.fd = lines_fd(rig->lines), .events = POLLIN};
	poll(&pfd, 1, 20);
	lines_dispatch(rig->lines);
}

static void wait_until(struct rig *rig, const int *count, int want, double timeout_s)
{
	double until = now_s() + timeout_s;
	while (*count < want) {
		if (now_s() > until)
			fail_msg("timed out waiting");
		pump(rig);
	}
}

static struct call *place(struct rig *rig)
{
	struct call_request req = {
	    .job_id = "JTESTSIP01",
	    .number = "+12125550100",
	    .dial = "12125550100",
	    .tiff = doc1,
	    .progress = on_progress,
	    .done = on_done,
	    .ctx = rig,
	};
	struct call *call = NULL;
	const char *err;
	if (line_place_call(rig->a, &req, &call, &err) < 0)
		fail_msg("place: %s", err);
	return call;
}

static void test_busy_from_a_send_only_line(void **state)
{
	struct rig rig;
	rig_open(&rig, POLICY_ANSWER, "direction = send\n");
	place(&rig);
	wait_until(&rig, &rig.done, 1, 5);
	assert_int_equal(rig.report.outcome, FAX_OUTCOME_BUSY);
	assert_non_null(strstr(rig.report.text, "486"));
	assert_int_equal(rig.offers, 0);
	rig_close(&rig);
	assert_int_equal(rig.done, 1);
}

static void test_refused_offer_is_temporary(void **state)
{
	struct rig rig;
	rig_open(&rig, POLICY_REJECT, "");
	place(&rig);
	wait_until(&rig, &rig.done, 1, 5);
	assert_int_equal(rig.report.outcome, FAX_OUTCOME_NO_ANSWER); /* 480: try again later */
	assert_non_null(strstr(rig.report.text, "480"));
	assert_int_equal(rig.offers, 1);
	assert_string_equal(rig.did, "+12125550100");
	assert_string_equal(rig.caller, "+12125550101");
	assert_int_equal(rig.in_done, 0); /* a refused offer has no incoming_done */
	rig_close(&rig);
}

static void test_did_not_on_the_line_is_invalid(void **state)
{
	struct rig rig;
	rig_open(&rig, POLICY_ANSWER, "dids = 100, 101\n");
	place(&rig);
	wait_until(&rig, &rig.done, 1, 5);
	assert_int_equal(rig.report.outcome, FAX_OUTCOME_INVALID_NUMBER);
	assert_non_null(strstr(rig.report.text, "404"));
	assert_int_equal(rig.offers, 0);
	rig_close(&rig);
}

static void test_cancel_while_ringing(void **state)
{
	struct rig rig;
	rig_open(&rig, POLICY_HOLD, "");
	struct call *call = place(&rig);
	wait_until(&rig, &rig.offers, 1, 5);
	double t0 = now_s();
	call_hangup(call);
	wait_until(&rig, &rig.done, 1, 3);
	assert_true(now_s() - t0 < 2.0);
	assert_int_equal(rig.report.outcome, FAX_OUTCOME_CANCELLED);
	/* b's offer learns that the caller has gone when it is answered */
	const char *err;
	g_autofree char *rx = g_build_filename(tmpdir, "rx-cancelled.tiff", NULL);
	assert_int_equal(call_answer(rig.in_call, rx, NULL, &err), 0);
	wait_until(&rig, &rig.in_done, 1, 3);
	assert_int_equal(rig.in_report.outcome, FAX_OUTCOME_HANGUP);
	rig_close(&rig);
}

static void test_connected_then_hung_up(void **state)
{
	struct rig rig;
	rig_open(&rig, POLICY_ANSWER, "");
	struct call *call = place(&rig);
	wait_until(&rig, &rig.offers, 1, 5);
	/* let T.30 start over the RTP both ways: CNG/CED, DIS */
	double until = now_s() + 2.5;
	while (now_s() < until)
		pump(&rig);
	assert_int_equal(rig.done, 0);
	call_hangup(call);
	wait_until(&rig, &rig.done, 1, 3);
	assert_int_equal(rig.report.outcome, FAX_OUTCOME_CANCELLED);
	wait_until(&rig, &rig.in_done, 1, 3); /* BYE reached b */
	assert_true(rig.in_report.outcome == FAX_OUTCOME_HANGUP ||
		    rig.in_report.outcome == FAX_OUTCOME_NO_FAX ||
		    rig.in_report.outcome == FAX_OUTCOME_PROTOCOL);
	rig_close(&rig);
	assert_int_equal(rig.done, 1);
	assert_int_equal(rig.in_done, 1);
}

/* A plain SIP agent as the far end: answers G.711 only, then re-INVITEs to T.38 (as a gateway
   does when it hears fax tones); a T.38 line takes it. */
static const char FAR_AUDIO[] = "v=0\r\no=far 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
				"m=audio 36300 RTP/AVP 8\r\nm=image 0 udptl t38\r\n";
static const char FAR_T38[] = "v=0\r\no=far 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			      "m=audio 0 RTP/AVP 8\r\nm=image 36302 udptl t38\r\na=T38FaxVersion:0\r\n"
			      "a=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n"
			      "a=T38FaxMaxDatagram:400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n";

struct far {
	struct sip_call *call;
	bool refuse_t38; /* answer our re-INVITE 488 */
	int incoming, answered, status, ended, reoffers;
	char offer[2048], answer[2048], reoffer[2048];
};

/* Our re-INVITE to T.38 reaches the far end: it accepts. */
static void far_reoffer(void *ctx, struct sip_call *call, const char *sdp)
{
	struct far *f = ctx;
	f->reoffers++;
	g_strlcpy(f->reoffer, sdp != NULL ? sdp : "", sizeof(f->reoffer));
	if (f->refuse_t38)
		assert_int_equal(sip_call_answer_reoffer(call, 488, NULL), 0);
	else
		assert_int_equal(sip_call_answer_reoffer(call, 200, FAR_T38), 0);
}

static void far_incoming(void *ctx, struct sip_call *call, const struct sip_invite_info *info)
{
	struct far *f = ctx;
	f->incoming++;
	f->call = call;
	g_strlcpy(f->offer, info->sdp != NULL ? info->sdp : "", sizeof(f->offer));
	assert_int_equal(sip_call_answer(call, 200, FAR_AUDIO), 0);
}

static void far_answered(void *ctx, struct sip_call *call, int status, const char *sdp)
{
	struct far *f = ctx;
	f->answered++;
	f->status = status;
	g_strlcpy(f->answer, sdp != NULL ? sdp : "", sizeof(f->answer));
}

static void far_ended(void *ctx, struct sip_call *call, enum sip_end why)
{
	struct far *f = ctx;
	f->ended++;
	f->call = NULL;
}

static void wait_far(struct rig *rig, struct sip_ua *ua, const int *count, int want, double timeout_s)
{
	double until = now_s() + timeout_s;
	while (*count < want) {
		if (now_s() > until)
			fail_msg("timed out waiting");
		sip_ua_step(ua, 0);
		pump(rig);
	}
}

static struct sip_ua *far_open(struct far *f)
{
	struct sip_ua_settings set;
	sip_ua_settings_default(&set);
	set.port = 0;
	struct sip_ua_callbacks cb = {.ctx = f,
				      .incoming = far_incoming,
				      .reoffer = far_reoffer,
				      .answered = far_answered,
				      .ended = far_ended};
	const char *err;
	struct sip_ua *ua = sip_ua_create(&set, &cb, &err);
	if (ua == NULL)
		fail_msg("far agent: %s", err);
	return ua;
}

/* Both sides run for a while. */
static void run_far(struct rig *rig, struct sip_ua *ua, double seconds)
{
	double until = now_s() + seconds;
	while (now_s() < until) {
		sip_ua_step(ua, 0);
		pump(rig);
	}
}

static void test_t38_reinvite_taken(void **state)
{
	struct far f = {0};
	struct sip_ua *ua = far_open(&f);
	struct rig rig;
	rig_open_with(&rig, POLICY_ANSWER, sip_ua_port(ua), "media = t38\n", "");
	place(&rig);
	wait_far(&rig, ua, &f.incoming, 1, 5);
	assert_non_null(strstr(f.offer, "m=audio "));
	assert_non_null(strstr(f.offer, "m=image ")); /* T.38 offered in the first INVITE */
	/* give a's media a few ticks on G.711, then switch */
	run_far(&rig, ua, 0.3);
	assert_non_null(f.call);
	assert_int_equal(sip_call_reinvite(f.call, FAR_T38), 0);
	wait_far(&rig, ua, &f.answered, 1, 5);
	assert_int_equal(f.status, 200);
	assert_non_null(strstr(f.answer, "m=image "));
	assert_null(strstr(f.answer, "m=image 0 "));
	assert_int_equal(rig.done, 0); /* the call goes on, now over T.38 */
	assert_int_equal(sip_call_bye(f.call), 0);
	wait_far(&rig, ua, &rig.done, 1, 5);
	assert_int_equal(rig.report.outcome, FAX_OUTCOME_HANGUP);
	rig_close(&rig);
	sip_ua_free(&ua);
}

/* A plain agent calls a T.38 line offering G.711 only: the line answers PCMA, then asks for
   T.38 with a re-INVITE (m=audio 0, m=image) and goes over to it when the far end agrees, or
   stays on G.711 when it refuses. */
static void reinvite_sent(bool refuse)
{
	struct far f = {.refuse_t38 = refuse};
	struct sip_ua *ua = far_open(&f);
	struct rig rig;
	rig_open_with(&rig, POLICY_ANSWER, 0, "", "media = t38\n");
	g_autofree char *uri = g_strdup_printf("sip:+12125550100@127.0.0.1:%d", rig.pb);
	static const char offer[] = "v=0\r\no=far 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				    "t=0 0\r\nm=audio 36300 RTP/AVP 8\r\n";
	f.call = sip_ua_invite(ua, uri, "+12125550199", offer, &f);
	assert_non_null(f.call);
	wait_far(&rig, ua, &f.answered, 1, 5);
	assert_int_equal(f.status, 200);
	assert_non_null(strstr(f.answer, "m=audio "));
	wait_far(&rig, ua, &f.reoffers, 1, 5);
	assert_non_null(strstr(f.reoffer, "m=audio 0 "));
	assert_non_null(strstr(f.reoffer, "m=image "));
	run_far(&rig, ua, 0.3);
	assert_int_equal(rig.in_done, 0); /* the call goes on, over T.38 or still G.711 */
	assert_int_equal(sip_call_bye(f.call), 0);
	wait_far(&rig, ua, &rig.in_done, 1, 5);
	assert_int_equal(rig.in_report.outcome, FAX_OUTCOME_HANGUP);
	rig_close(&rig);
	sip_ua_free(&ua);
}

static void test_t38_reinvite_sent(void **state)
{
	reinvite_sent(false);
}

static void test_t38_reinvite_refused(void **state)
{
	reinvite_sent(true);
}

/* On G.711, the far end re-offers G.711 (a new port, PCMU: a gateway's "fax fallback" to VBD
   after T.38, or a resume): taken, 200 with audio; a T.38 re-offer on an audio-only line: 488. */
static void test_g711_reoffer_taken(void **state)
{
	struct far f = {0};
	struct sip_ua *ua = far_open(&f);
	struct rig rig;
	rig_open_with(&rig, POLICY_ANSWER, sip_ua_port(ua), "", "");
	place(&rig);
	wait_far(&rig, ua, &f.incoming, 1, 5);
	run_far(&rig, ua, 0.3);
	static const char again[] = "v=0\r\no=far 1 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				    "t=0 0\r\nm=audio 36310 RTP/AVP 0\r\n";
	assert_int_equal(sip_call_reinvite(f.call, again), 0);
	wait_far(&rig, ua, &f.answered, 1, 5);
	assert_int_equal(f.status, 200);
	assert_non_null(strstr(f.answer, "m=audio "));
	assert_non_null(strstr(f.answer, "RTP/AVP 0"));
	assert_null(strstr(f.answer, "m=audio 0 "));
	assert_int_equal(sip_call_reinvite(f.call, FAR_T38), 0);
	wait_far(&rig, ua, &f.answered, 2, 5);
	assert_int_equal(f.status, 488); /* no T.38 on an audio line */
	assert_int_equal(rig.done, 0);	 /* and the call goes on */
	assert_int_equal(sip_call_bye(f.call), 0);
	wait_far(&rig, ua, &rig.done, 1, 5);
	rig_close(&rig);
	sip_ua_free(&ua);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_busy_from_a_send_only_line),
	    cmocka_unit_test(test_refused_offer_is_temporary),
	    cmocka_unit_test(test_did_not_on_the_line_is_invalid),
	    cmocka_unit_test(test_cancel_while_ringing),
	    cmocka_unit_test(test_connected_then_hung_up),
	    cmocka_unit_test(test_t38_reinvite_taken),
	    cmocka_unit_test(test_t38_reinvite_sent),
	    cmocka_unit_test(test_t38_reinvite_refused),
	    cmocka_unit_test(test_g711_reoffer_taken),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
