/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The retry policy: every outcome class, limits, expiry, V.17 fallback, page-level resume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/store.h"
#include "faxd/retry.h"

static const struct retry_policy policy = {
	.busy = 180, .no_answer = 300, .no_fax = 300, .protocol = 60, .hangup = 60, .max_tries = 3, .max_dials = 12,
};
static const int64_t now = 1800000000;

static struct job job_with(int64_t tries, int64_t dials, int64_t done, int64_t total)
{
	struct job job = {0};
	job.tries = tries;
	job.dials = dials;
	job.pages_done = done;
	job.pages_total = total;
	return job;
}

static struct fax_report report(enum fax_outcome o, const char *text)
{
	struct fax_report r = {0};
	r.outcome = o;
	strcpy(r.text, text);
	return r;
}

static void test_classes(void **state)
{
	static const struct {
		enum fax_outcome outcome;
		enum job_state state;
		int64_t wait;
		bool counts;
		const char *code;
	} cases[] = {
		{FAX_OUTCOME_BUSY, JOB_STATE_DEFERRED, 180, false, "busy"},
		{FAX_OUTCOME_NO_ANSWER, JOB_STATE_DEFERRED, 300, false, "no-answer"},
		{FAX_OUTCOME_NO_FAX, JOB_STATE_DEFERRED, 300, true, "no-fax"},
		{FAX_OUTCOME_PROTOCOL, JOB_STATE_DEFERRED, 60, true, "protocol"},
		{FAX_OUTCOME_TRAINING, JOB_STATE_DEFERRED, 60, true, "training"},
		{FAX_OUTCOME_TIMEOUT, JOB_STATE_DEFERRED, 60, true, "timeout"},
		{FAX_OUTCOME_HANGUP, JOB_STATE_DEFERRED, 60, true, "hangup"},
		{FAX_OUTCOME_LINE, JOB_STATE_DEFERRED, 60, false, "line"},
		{FAX_OUTCOME_INCOMPATIBLE, JOB_STATE_FAILED, 0, true, "incompatible"},
		{FAX_OUTCOME_REJECTED, JOB_STATE_FAILED, 0, true, "rejected"},
		{FAX_OUTCOME_INVALID_NUMBER, JOB_STATE_FAILED, 0, true, "invalid-number"},
		{FAX_OUTCOME_DOCUMENT, JOB_STATE_FAILED, 0, true, "document"},
		{FAX_OUTCOME_CANCELLED, JOB_STATE_CANCELLED, 0, true, "cancelled"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job job = job_with(0, 0, 0, 3);
		struct fax_report r = report(cases[i].outcome, "why");
		struct retry_decision d;
		retry_decide(&policy, &job, &r, now, &d);
		if (d.state != cases[i].state || strcmp(d.result_code, cases[i].code) != 0)
			fail_msg("%s: got %s/%s", fax_outcome_name(cases[i].outcome), job_state_name(d.state), d.result_code);
		if (d.state == JOB_STATE_DEFERRED) {
			assert_int_equal(d.next_try_at, now + cases[i].wait);
			assert_int_equal(d.counts_as_try, cases[i].counts);
		}
	}
}

static void test_done_only_with_every_page(void **state)
{
	struct job job = job_with(0, 0, 3, 3);
	struct fax_report r = report(FAX_OUTCOME_OK, "OK");
	struct retry_decision d;
	retry_decide(&policy, &job, &r, now, &d);
	assert_int_equal(d.state, JOB_STATE_DONE);
	assert_string_equal(d.result_code, "sent");
	/* OK from T.30 but pages missing: the rest goes again */
	job = job_with(0, 0, 2, 3);
	retry_decide(&policy, &job, &r, now, &d);
	assert_int_equal(d.state, JOB_STATE_DEFERRED);
	assert_string_equal(d.result_code, "hangup");
}

static void test_limits(void **state)
{
	struct retry_decision d;
	struct fax_report r = report(FAX_OUTCOME_PROTOCOL, "Received no response to DCS or TCF");
	struct job job = job_with(2, 2, 0, 3); /* third try fails: max_tries 3 reached */
	retry_decide(&policy, &job, &r, now, &d);
	assert_int_equal(d.state, JOB_STATE_FAILED);
	assert_string_equal(d.result_code, "too-many-tries");
	assert_non_null(strstr(d.result_text, "Received no response to DCS or TCF"));
	/* busy does not use up tries but does use dials */
	r = report(FAX_OUTCOME_BUSY, "busy");
	job = job_with(0, 11, 0, 3);
	retry_decide(&policy, &job, &r, now, &d);
	assert_int_equal(d.state, JOB_STATE_FAILED);
	assert_string_equal(d.result_code, "too-many-dials");
	/* the job's own limits and interval win */
	job = job_with(2, 2, 0, 3);
	job.max_tries = 5;
	job.retry_interval = 30;
	r = report(FAX_OUTCOME_HANGUP, "hung up");
	retry_decide(&policy, &job, &r, now, &d);
	assert_int_equal(d.state, JOB_STATE_DEFERRED);
	assert_int_equal(d.next_try_at, now + 30);
}

static void test_expiry(void **state)
{
	struct retry_decision d;
	struct fax_report r = report(FAX_OUTCOME_BUSY, "busy");
	struct job job = job_with(0, 0, 0, 3);
	job.expires_at = now + 100; /* busy waits 180 */
	retry_decide(&policy, &job, &r, now, &d);
	assert_int_equal(d.state, JOB_STATE_EXPIRED);
	assert_string_equal(d.result_code, "expired");
}

static void test_v17_fallback_sticks(void **state)
{
	struct retry_decision d;
	struct fax_report r = report(FAX_OUTCOME_TRAINING, "training failed");
	struct job job = job_with(0, 0, 0, 3);
	retry_decide(&policy, &job, &r, now, &d);
	assert_true(d.disable_v17);
	job.disable_v17 = 1;
	r = report(FAX_OUTCOME_HANGUP, "hung up");
	retry_decide(&policy, &job, &r, now, &d);
	assert_true(d.disable_v17);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_done_only_with_every_page),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_v17_fallback_sticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
