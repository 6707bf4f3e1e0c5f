/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the SIP signalling layer (faxd/sip_ua.c) with two real sofia-sip agents on 127.0.0.1,
 * stepped from one loop: INVITE/200 with opaque SDP byte-exact both ways, a T.38 re-INVITE
 * accepted, a re-INVITE refused with 488 (the call stays up), a session refresh (same SDP) that
 * never reaches the application, 486, CANCEL before the answer, and the status classes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "faxd/sip_ua.h"

#define DEADLINE_MS 5000

static const char AUDIO_A[] = "v=0\r\no=A 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			      "m=audio 41000 RTP/AVP 8 0\r\na=sendrecv\r\n";
static const char AUDIO_B[] = "v=0\r\no=B 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			      "m=audio 40000 RTP/AVP 8\r\na=ptime:20\r\n";
static const char T38_A[] = "v=0\r\no=A 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			    "m=image 41002 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n"
			    "a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxDatagram:400\r\n"
			    "a=T38FaxUdpEC:t38UDPRedundancy\r\n";
static const char T38_B[] = "v=0\r\no=B 7 8 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			    "m=image 40002 udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxMaxDatagram:400\r\n";
/* B's own offer in the glare test: unlike T38_B (its answer), so it is not taken for a refresh. */
static const char T38_B_OFFER[] = "v=0\r\no=B 7 9 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
				  "m=image 40004 udptl t38\r\na=T38FaxVersion:0\r\n";

enum action { ACT_NONE, ACT_ANSWER, ACT_REJECT_486, ACT_ACCEPT, ACT_REFUSE_488 };

/* What one agent saw, and how it reacts. */
struct side {
	struct sip_ua *ua;
	enum action on_incoming, on_reoffer;
	struct sip_call *call;
	int incoming, reoffers, answered, failed, ended;
	int answered_status, failed_status;
	enum sip_end why;
	char info_request_user[SIP_UA_MAX_INFO], info_from_user[SIP_UA_MAX_INFO], info_diversion[SIP_UA_MAX_INFO];
	char offer[1024], reoffer[1024], answer[1024];
};

struct pair {
	struct side a, b;
};

static void copy_sdp(char *out, const char *sdp)
{
	snprintf(out, 1024, "%s", sdp != NULL ? sdp : "");
}

static void on_incoming(void *ctx, struct sip_call *call, const struct sip_invite_info *info)
{
	struct side *s = ctx;
	s->incoming++;
	s->call = call;
	snprintf(s->info_request_user, sizeof(s->info_request_user), "%s", info->request_user);
	snprintf(s->info_from_user, sizeof(s->info_from_user), "%s", info->from_user);
	snprintf(s->info_diversion, sizeof(s->info_diversion), "%s", info->diversion);
	copy_sdp(s->offer, info->sdp);
	if (s->on_incoming == ACT_ANSWER)
		assert_int_equal(sip_call_answer(call, 200, AUDIO_B), 0);
	else if (s->on_incoming == ACT_REJECT_486)
		assert_int_equal(sip_call_reject(call, 486), 0);
	else
		assert_int_equal(sip_call_ringing(call), 0);
}

static void on_reoffer(void *ctx, struct sip_call *call, const char *sdp)
{
	struct side *s = ctx;
	s->reoffers++;
	copy_sdp(s->reoffer, sdp);
	if (s->on_reoffer == ACT_ACCEPT)
		assert_int_equal(sip_call_answer_reoffer(call, 200, T38_B), 0);
	else
		assert_int_equal(sip_call_answer_reoffer(call, 488, NULL), 0);
}

static void on_answered(void *ctx, struct sip_call *call, int status, const char *sdp)
{
	struct side *s = ctx;
	s->answered++;
	s->answered_status = status;
	copy_sdp(s->answer, sdp);
}

static void on_failed(void *ctx, struct sip_call *call, int status, const char *phrase)
{
	struct side *s = ctx;
	s->failed++;
	s->failed_status = status;
	s->call = NULL;
}

static void on_ended(void *ctx, struct sip_call *call, enum sip_end why)
{
	struct side *s = ctx;
	s->ended++;
	s->why = why;
	s->call = NULL;
}

static int setup_timers(void **state, unsigned session_expires, unsigned min_se)
{
	struct pair *p = g_new0(struct pair, 1);
	struct sip_ua_settings set;
	sip_ua_settings_default(&set);
	set.port = 0;
	set.session_expires = session_expires;
	set.min_se = min_se;
	const char *error = NULL;
	struct side *sides[] = {&p->a, &p->b};
	for (int i = 0; i < 2; i++) {
		struct sip_ua_callbacks cb = {.ctx = sides[i], .incoming = on_incoming, .reoffer = on_reoffer,
					      .answered = on_answered, .failed = on_failed, .ended = on_ended};
		sides[i]->ua = sip_ua_create(&set, &cb, &error);
		if (sides[i]->ua == NULL)
			fail_msg("sip_ua_create: %s", error);
		assert_true(sip_ua_port(sides[i]->ua) > 0);
	}
	assert_int_not_equal(sip_ua_port(p->a.ua), sip_ua_port(p->b.ua));
	p->b.on_incoming = ACT_ANSWER;
	p->b.on_reoffer = ACT_ACCEPT;
	*state = p;
	return 0;
}

static int setup(void **state)
{
	return setup_timers(state, SIP_UA_DEFAULT_SESSION_EXPIRES, SIP_UA_DEFAULT_MIN_SE);
}

/* Session timer of 2 s so sofia refreshes within the test (RFC 4028 asks for 90 s at least). */
static int setup_short_timer(void **state)
{
	return setup_timers(state, 2, 1);
}

static int teardown(void **state)
{
	struct pair *p = *state;
	sip_ua_free(&p->a.ua);
	sip_ua_free(&p->b.ua);
	assert_null(p->a.ua);
	g_free(p);
	return 0;
}

/* Steps both agents until *counter reaches want (NULL: never) or ms have passed. */
static void step_for(struct pair *p, const int *counter, int want, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	while ((counter == NULL || *counter < want) && g_get_monotonic_time() < end) {
		sip_ua_step(p->a.ua, 2);
		sip_ua_step(p->b.ua, 2);
	}
}

static void run_until(struct pair *p, const int *counter, int want)
{
	step_for(p, counter, want, DEADLINE_MS);
	assert_int_equal(*counter, want);
}

static struct sip_call *invite_b(struct pair *p, void *ctx)
{
	char uri[64];
	snprintf(uri, sizeof(uri), "sip:+4930123456@127.0.0.1:%d", sip_ua_port(p->b.ua));
	struct sip_call *call = sip_ua_invite(p->a.ua, uri, "faxout", AUDIO_A, ctx);
	assert_non_null(call);
	assert_ptr_equal(sip_call_ctx(call), ctx);
	p->a.call = call;
	return call;
}

/* A calls B, B answers: both sides hold the call. */
static void establish(struct pair *p)
{
	int ctx;
	invite_b(p, &ctx);
	run_until(p, &p->a.answered, 1);
	assert_int_equal(p->b.incoming, 1);
	assert_string_equal(p->b.offer, AUDIO_A);
	assert_string_equal(p->b.info_request_user, "+4930123456");
	assert_string_equal(p->b.info_from_user, "faxout");
	assert_string_equal(p->b.info_diversion, "");
	assert_int_equal(p->a.answered_status, 200);
	assert_string_equal(p->a.answer, AUDIO_B);
}

static void test_invite_reinvite_t38_bye_from_b(void **state)
{
	struct pair *p = *state;
	establish(p);
	assert_int_equal(sip_call_reinvite(p->a.call, T38_A), 0);
	assert_int_equal(sip_call_reinvite(p->a.call, T38_A), -1); /* one at a time */
	run_until(p, &p->a.answered, 2);
	assert_int_equal(p->b.reoffers, 1);
	assert_string_equal(p->b.reoffer, T38_A);
	assert_int_equal(p->a.answered_status, 200);
	assert_string_equal(p->a.answer, T38_B);

	assert_int_equal(sip_call_bye(p->b.call), 0);
	run_until(p, &p->a.ended, 1);
	run_until(p, &p->b.ended, 1);
	assert_int_equal(p->a.why, SIP_END_BYE_REMOTE);
	assert_int_equal(p->b.why, SIP_END_BYE_LOCAL);
	assert_int_equal(p->a.failed, 0);
}

static void test_reject_486_busy(void **state)
{
	struct pair *p = *state;
	p->b.on_incoming = ACT_REJECT_486;
	int ctx;
	invite_b(p, &ctx);
	run_until(p, &p->a.failed, 1);
	assert_int_equal(p->a.failed_status, 486);
	assert_int_equal(sip_ua_status_class(p->a.failed_status), SIP_FAILURE_BUSY);
	run_until(p, &p->b.ended, 1);
	assert_int_equal(p->b.why, SIP_END_REJECTED);
	assert_int_equal(p->a.ended, 0);
	assert_int_equal(p->a.answered, 0);
}

static void test_reinvite_refused_488_call_stays_up(void **state)
{
	struct pair *p = *state;
	p->b.on_reoffer = ACT_REFUSE_488;
	establish(p);
	assert_int_equal(sip_call_reinvite(p->a.call, T38_A), 0);
	run_until(p, &p->a.answered, 2);
	assert_int_equal(p->a.answered_status, 488);
	assert_string_equal(p->a.answer, "");
	assert_int_equal(p->b.reoffers, 1);
	/* still up, and BYE from A ends both sides */
	step_for(p, NULL, 0, 100);
	assert_int_equal(p->a.ended + p->b.ended, 0);
	assert_int_equal(sip_call_bye(p->a.call), 0);
	run_until(p, &p->a.ended, 1);
	run_until(p, &p->b.ended, 1);
	assert_int_equal(p->a.why, SIP_END_BYE_LOCAL);
	assert_int_equal(p->b.why, SIP_END_BYE_REMOTE);
}

/* A re-INVITE with the SDP the far end has already (what a session refresh looks like) is answered
   with the answerer's last SDP, without its application. */
static void test_refresh_same_sdp_not_an_offer(void **state)
{
	struct pair *p = *state;
	establish(p);
	assert_int_equal(sip_call_reinvite(p->a.call, AUDIO_A), 0);
	run_until(p, &p->a.answered, 2);
	assert_int_equal(p->a.answered_status, 200);
	assert_string_equal(p->a.answer, AUDIO_B);
	assert_int_equal(p->b.reoffers, 0);
	assert_int_equal(sip_call_bye(p->a.call), 0);
	run_until(p, &p->b.ended, 1);
}

/* Glare: both re-INVITE at once. Whichever INVITE sofia sees second is refused with 491 (on the
   wire, or locally when the far end's arrived first) and is sent again after the RFC 3261 §14.1
   delay: at most 2 s for B, 2.1-4 s for A (the caller owns the Call-ID). Either way each offer
   reaches the other application once and both end with a 200. */
static void test_glare_491_retried(void **state)
{
	struct pair *p = *state;
	establish(p);
	p->a.on_reoffer = ACT_ACCEPT;
	gint64 start = g_get_monotonic_time();
	assert_int_equal(sip_call_reinvite(p->a.call, T38_A), 0);
	assert_int_equal(sip_call_reinvite(p->b.call, T38_B_OFFER), 0);
	/* both get 491; B (not the Call-ID's owner) retries first, after 0-2 s, and A takes it */
	run_until(p, &p->b.answered, 1);
	run_until(p, &p->a.reoffers, 1);
	assert_true(g_get_monotonic_time() - start < 2500 * 1000);
	assert_int_equal(p->b.answered_status, 200);
	assert_string_equal(p->a.reoffer, T38_B_OFFER);
	/* A's own re-INVITE, waiting out its 2.1-4 s, is dropped: theirs won the glare. (When the
	   two agents' stacks happen to order it the other way, A's reached B before B's went out and
	   was taken: then A has its answer and B saw it as a re-offer.) */
	step_for(p, NULL, 0, 4200 - (int)((g_get_monotonic_time() - start) / 1000));
	if (p->a.answered == 2)
		assert_int_equal(p->b.reoffers, 1);
	else
		assert_int_equal(p->b.reoffers, 0);
	assert_int_equal(p->a.reoffers, 1); /* and never a late retry of A's */
	assert_int_equal(sip_call_bye(p->a.call), 0);
	run_until(p, &p->b.ended, 1);
}

/* Refreshes sofia sends by itself reach neither application, and the call survives them. */
static void test_session_refresh_silent(void **state)
{
	struct pair *p = *state;
	establish(p);
	step_for(p, NULL, 0, 3500); /* refreshes every second or so (sofia: half the interval) */
	assert_int_equal(p->a.answered, 1);
	assert_int_equal(p->a.reoffers + p->b.reoffers, 0);
	assert_int_equal(p->a.ended + p->b.ended, 0);
	assert_int_equal(sip_call_reinvite(p->a.call, T38_A), 0);
	run_until(p, &p->a.answered, 2);
	assert_string_equal(p->a.answer, T38_B);
	assert_int_equal(sip_call_bye(p->a.call), 0);
	run_until(p, &p->b.ended, 1);
}

static void test_cancel_before_answer(void **state)
{
	struct pair *p = *state;
	p->b.on_incoming = ACT_NONE; /* B only rings */
	int ctx;
	struct sip_call *call = invite_b(p, &ctx);
	run_until(p, &p->b.incoming, 1);
	assert_int_equal(sip_call_bye(call), -1); /* not answered yet */
	assert_int_equal(sip_call_cancel(call), 0);
	run_until(p, &p->a.failed, 1);
	assert_int_equal(p->a.failed_status, 487);
	assert_int_equal(sip_ua_status_class(487), SIP_FAILURE_NO_ANSWER);
	run_until(p, &p->b.ended, 1);
	assert_int_equal(p->b.why, SIP_END_CANCELLED);
	assert_int_equal(p->a.ended, 0);
}

static void test_status_classes(void **state)
{
	static const struct {
		int status;
		enum sip_failure class;
	} cases[] = {
		{486, SIP_FAILURE_BUSY},           {600, SIP_FAILURE_BUSY},
		{404, SIP_FAILURE_INVALID_NUMBER}, {484, SIP_FAILURE_INVALID_NUMBER},
		{604, SIP_FAILURE_INVALID_NUMBER}, {480, SIP_FAILURE_NO_ANSWER},
		{408, SIP_FAILURE_NO_ANSWER},      {487, SIP_FAILURE_NO_ANSWER},
		{503, SIP_FAILURE_TRY_NEXT},       {500, SIP_FAILURE_TRY_NEXT},
		{599, SIP_FAILURE_TRY_NEXT},       {488, SIP_FAILURE_NOT_ACCEPTABLE},
		{415, SIP_FAILURE_NOT_ACCEPTABLE}, {606, SIP_FAILURE_NOT_ACCEPTABLE},
		{403, SIP_FAILURE_OTHER},          {603, SIP_FAILURE_OTHER},
		{401, SIP_FAILURE_OTHER},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sip_ua_status_class(cases[i].status), cases[i].class);
	assert_string_equal(sip_ua_failure_name(SIP_FAILURE_BUSY), "busy");
	assert_string_equal(sip_ua_failure_name(SIP_FAILURE_OTHER), "other");
}

static void test_bad_uri(void **state)
{
	struct pair *p = *state;
	assert_null(sip_ua_invite(p->a.ua, "not a uri", "x", AUDIO_A, NULL));
}

/* The user of the first SIP/tel URI in a header value (the Diversion header's number). */
static void test_uri_user(void **state)
{
	char user[16];
	assert_int_equal(sip_uri_user("<sip:+15551234567@pbx.example>;reason=unconditional", user, sizeof(user)), 0);
	assert_string_equal(user, "+15551234567");
	assert_int_equal(sip_uri_user("\"Desk\" <SIPS:4711@pbx;user=phone>", user, sizeof(user)), 0);
	assert_string_equal(user, "4711");
	assert_int_equal(sip_uri_user("<tel:+4930123;phone-context=x>, <sip:9@b>", user, sizeof(user)), 0);
	assert_string_equal(user, "+4930123"); /* the first one */
	assert_int_equal(sip_uri_user("<sip:@host>", user, sizeof(user)), -1);		   /* empty user */
	assert_int_equal(sip_uri_user("<sip:1234567890123456@h>", user, sizeof(user)), -1); /* too long */
	assert_int_equal(sip_uri_user("no uri here", user, sizeof(user)), -1);
	assert_int_equal(sip_uri_user("", user, sizeof(user)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_invite_reinvite_t38_bye_from_b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_486_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinvite_refused_488_call_stays_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_same_sdp_not_an_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glare_491_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_refresh_silent, setup_short_timer, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_answer, setup, teardown),
		cmocka_unit_test(test_status_classes),
		cmocka_unit_test(test_uri_user),
		cmocka_unit_test_setup_teardown(test_bad_uri, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
