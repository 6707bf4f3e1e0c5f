/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The job state machine (every legal and illegal transition) and job ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/job.h"
#include "common/jobid.h"

#define S(x) JOB_STATE_##x
/* The legal moves, written out independently of job.c's table. */
static const struct {
	enum job_state from, to;
} legal[] = {
	{S(SUBMITTED), S(RENDERING)}, {S(SUBMITTED), S(QUEUED)}, {S(SUBMITTED), S(FAILED)},
	{S(SUBMITTED), S(CANCELLED)}, {S(SUBMITTED), S(HELD)},
	{S(RENDERING), S(QUEUED)}, {S(RENDERING), S(FAILED)}, {S(RENDERING), S(CANCELLED)},
	{S(RENDERING), S(EXPIRED)}, {S(RENDERING), S(HELD)}, {S(RENDERING), S(SUBMITTED)},
	{S(QUEUED), S(SENDING)}, {S(QUEUED), S(CANCELLED)}, {S(QUEUED), S(EXPIRED)}, {S(QUEUED), S(HELD)},
	{S(QUEUED), S(FAILED)},
	{S(SENDING), S(DONE)}, {S(SENDING), S(FAILED)}, {S(SENDING), S(CANCELLED)}, {S(SENDING), S(EXPIRED)},
	{S(SENDING), S(DEFERRED)}, {S(SENDING), S(QUEUED)}, {S(SENDING), S(RENDERING)},
	{S(DEFERRED), S(SENDING)}, {S(DEFERRED), S(QUEUED)}, {S(DEFERRED), S(CANCELLED)},
	{S(DEFERRED), S(EXPIRED)}, {S(DEFERRED), S(HELD)}, {S(DEFERRED), S(FAILED)},
	{S(HELD), S(QUEUED)}, {S(HELD), S(DEFERRED)}, {S(HELD), S(RENDERING)}, {S(HELD), S(CANCELLED)},
	{S(HELD), S(EXPIRED)},
	{S(FAILED), S(QUEUED)}, {S(EXPIRED), S(QUEUED)},
};

static bool listed(enum job_state from, enum job_state to)
{
	for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
		if (legal[i].from == from && legal[i].to == to)
			return true;
	return false;
}

static void test_every_transition(void **state)
{
	int legal_count = 0;
	for (int from = 0; from < JOB_STATE_COUNT; from++) {
		for (int to = 0; to < JOB_STATE_COUNT; to++) {
			bool want = listed((enum job_state)from, (enum job_state)to);
			if (job_transition_allowed((enum job_state)from, (enum job_state)to) != want)
				fail_msg("%s -> %s: expected %s", job_state_name(from), job_state_name(to),
					 want ? "allowed" : "refused");
			legal_count += want;
		}
	}
	assert_int_equal(legal_count, (int)(sizeof(legal) / sizeof(legal[0])));
	assert_false(job_transition_allowed((enum job_state)-1, S(QUEUED)));
	assert_false(job_transition_allowed(S(QUEUED), (enum job_state)JOB_STATE_COUNT));
}

static void test_final_states_are_final(void **state)
{
	assert_true(job_state_final(S(DONE)));
	assert_true(job_state_final(S(CANCELLED)));
	for (int to = 0; to < JOB_STATE_COUNT; to++) {
		assert_false(job_transition_allowed(S(DONE), (enum job_state)to));
		assert_false(job_transition_allowed(S(CANCELLED), (enum job_state)to));
	}
	assert_false(job_state_final(S(DEFERRED)));
}

static void test_state_names_round_trip(void **state)
{
	for (int s = 0; s < JOB_STATE_COUNT; s++) {
		enum job_state parsed;
		assert_int_equal(job_state_parse(job_state_name((enum job_state)s), &parsed), 0);
		assert_int_equal(parsed, s);
	}
	enum job_state parsed;
	assert_int_equal(job_state_parse("bogus", &parsed), -1);
}

static void test_jobid_bursts_unique_and_ordered(void **state)
{
	char prev[JOBID_SIZE] = "", id[JOBID_SIZE];
	for (int i = 0; i < 5000; i++) { /* far more than 512 in one 100 ms tick */
		jobid_new('M', id);
		assert_true(jobid_valid(id));
		assert_true(strcmp(id, prev) > 0);
		memcpy(prev, id, sizeof(id));
	}
}

static void test_jobid_format_and_order(void **state)
{
	char a[JOBID_SIZE], b[JOBID_SIZE];
	jobid_make('J', 1763856000000LL, a);
	jobid_make('J', 1763856000000LL + 1000, b);
	assert_int_equal(strlen(a), JOBID_LEN);
	assert_int_equal(a[0], 'J');
	assert_true(strcmp(a, b) < 0); /* later id sorts later */
	assert_true(jobid_valid(a));
	for (const char *p = a + 1; *p; p++)
		assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p));
}

static void test_jobid_unique(void **state)
{
	/* 200 ids in the same tenth of a second: random bits differ in most; the store retries the rest. */
	char ids[200][JOBID_SIZE];
	int same = 0;
	for (int i = 0; i < 200; i++) {
		jobid_make('J', 1763856000000LL, ids[i]);
		for (int j = 0; j < i; j++)
			same += strcmp(ids[i], ids[j]) == 0;
	}
	assert_true(same < 100);
}

static void test_jobid_normalize(void **state)
{
	char id[JOBID_SIZE];
	assert_int_equal(jobid_normalize("j0kx3m9q4t", id), 0);
	assert_string_equal(id, "J0KX3M9Q4T");
	assert_int_equal(jobid_normalize("JOKX3M9Q4L", id), 0); /* O -> 0, L -> 1 */
	assert_string_equal(id, "J0KX3M9Q41");
	assert_int_equal(jobid_normalize("J0KX3M9Q4U", id), -1);
	assert_int_equal(jobid_normalize("J0KX3M9Q4", id), -1);
	assert_int_equal(jobid_normalize("X0KX3M9Q4T", id), -1);
	assert_int_equal(jobid_normalize(NULL, id), -1);
	assert_false(jobid_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transition),
		cmocka_unit_test(test_final_states_are_final),
		cmocka_unit_test(test_state_names_round_trip),
		cmocka_unit_test(test_jobid_format_and_order),
		cmocka_unit_test(test_jobid_bursts_unique_and_ordered),
		cmocka_unit_test(test_jobid_unique),
		cmocka_unit_test(test_jobid_normalize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
