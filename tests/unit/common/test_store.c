/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store on SQLite: jobs, events, state checks, documents, claims and leases (two processes
   claiming concurrently), expiry, attempts, received faxes, and durability across SIGKILL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/db.h"
#include "common/store.h"

static char dir[] = "/tmp/fgstore-XXXXXX";
static char uri[256];

static int setup(void **state)
{
	strcpy(dir, "/tmp/fgstore-XXXXXX");
	if (g_mkdtemp(dir) == NULL)
		return -1;
	snprintf(uri, sizeof(uri), "sqlite:%s/sub/faxgate.db", dir);
	return 0;
}

static int teardown(void **state)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_store(void)
{
	struct store *st = NULL;
	const char *error = NULL;
	if (store_open_uri(uri, 10000, &st, &error) < 0)
		fail_msg("store_open: %s", error);
	return st;
}

static struct job *queued_job(const char *number, int64_t next_try)
{
	struct job *job = store_job_new();
	job->state = JOB_STATE_QUEUED;
	job->number = g_strdup(number);
	job->owner = g_strdup("alice@example.com");
	job->next_try_at = next_try;
	job->pages_total = 3;
	return job;
}

static void insert(struct store *st, struct job *job)
{
	if (store_job_insert(st, job, "test") < 0)
		fail_msg("insert: %s", store_error(st));
}

static void test_schema_and_reopen(void **state)
{
	struct store *st = open_store();
	assert_int_equal(store_schema_version(st), 3);
	store_close(&st);
	st = open_store(); /* migrations run once */
	assert_int_equal(store_schema_version(st), 3);
	store_close(&st);
	assert_null(st);
}

static void test_job_round_trip(void **state)
{
	struct store *st = open_store();
	struct job *job = queued_job("+15551234567", 0);
	job->recipient_name = g_strdup("John Doe");
	job->priority = 5;
	g_hash_table_insert(job->fields, g_strdup("cover_note"), g_strdup("Please sign"));
	insert(st, job);
	assert_true(jobid_valid(job->id));
	struct job *got = NULL;
	assert_int_equal(store_job_get(st, job->id, &got), 1);
	assert_string_equal(got->number, "+15551234567");
	assert_string_equal(got->recipient_name, "John Doe");
	assert_null(got->line);
	assert_int_equal(got->priority, 5);
	assert_int_equal(got->state, JOB_STATE_QUEUED);
	assert_string_equal(g_hash_table_lookup(got->fields, "cover_note"), "Please sign");
	assert_true(got->created_at > 0);
	/* lower case and Crockford look-alikes find it too */
	struct job *again = NULL;
	g_autofree char *lower = g_ascii_strdown(job->id, -1);
	assert_int_equal(store_job_get(st, lower, &again), 1);
	store_job_free(&again);
	assert_int_equal(store_job_get(st, "J000000000", &again), 0);
	assert_int_equal(store_job_get(st, "garbage", &again), 0);
	store_job_free(&got);
	store_job_free(&job);
	store_close(&st);
}

static void test_state_machine_enforced(void **state)
{
	struct store *st = open_store();
	struct job *job = queued_job("+15551234567", 0);
	insert(st, job);
	job->state = JOB_STATE_DONE; /* queued -> done is not a legal move */
	assert_int_equal(store_job_save(st, job, JOB_STATE_QUEUED, "test", "x"), -1);
	assert_non_null(strstr(store_error(st), "cannot go from queued to done"));
	assert_int_equal(store_job_set_state(st, job->id, JOB_STATE_CANCELLED, "test", "by operator"), 0);
	/* someone else cancelled it: a save that expected queued is refused */
	job->state = JOB_STATE_SENDING;
	assert_int_equal(store_job_save(st, job, JOB_STATE_QUEUED, "test", "x"), -1);
	assert_non_null(strstr(store_error(st), "state is now cancelled"));
	assert_int_equal(store_job_set_state(st, job->id, JOB_STATE_QUEUED, "test", "retry"), -1);
	GPtrArray *events = NULL;
	assert_int_equal(store_job_events(st, job->id, &events), 0);
	assert_int_equal(events->len, 2);
	struct job_event *ev = events->pdata[1];
	assert_string_equal(ev->from_state, "queued");
	assert_string_equal(ev->to_state, "cancelled");
	assert_string_equal(ev->text, "by operator");
	store_events_free(&events);
	store_job_free(&job);
	store_close(&st);
}

static void test_failed_transaction_leaves_nothing(void **state)
{
	struct store *st = open_store();
	GPtrArray *before = NULL, *after = NULL;
	assert_int_equal(store_job_list(st, -1, 1000, &before), 0);
	assert_int_equal(store_begin(st), 0);
	struct job *a = queued_job("+15550000001", 0), *b = queued_job("+15550000002", 0);
	insert(st, a);
	insert(st, b);
	store_rollback(st);
	assert_int_equal(store_commit(st), -1); /* nothing left to commit */
	assert_int_equal(store_job_list(st, -1, 1000, &after), 0);
	assert_int_equal(after->len, before->len);
	store_jobs_free(&before);
	store_jobs_free(&after);
	store_job_free(&a);
	store_job_free(&b);
	store_close(&st);
}

static void test_documents(void **state)
{
	struct store *st = open_store();
	int64_t id = 0;
	const char data[] = "From: a@b\r\n\r\nbody\0with nul";
	if (store_document_put(st, "message", "message/rfc822", data, sizeof(data), &id) < 0)
		fail_msg("document_put: %s", store_error(st));
	assert_true(id > 0);
	void *got = NULL;
	size_t len = 0;
	char *ctype = NULL;
	assert_int_equal(store_document_get(st, id, &got, &len, &ctype), 1);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(got, data, sizeof(data));
	assert_string_equal(ctype, "message/rfc822");
	g_free(got);
	g_free(ctype);
	assert_int_equal(store_document_get(st, id + 100, &got, &len, NULL), 0);
	store_close(&st);
}

/* A large document streamed from a file arrives intact, in chunks. */
static void test_document_from_fd(void **state)
{
	struct store *st = open_store();
	g_autofree char *path = g_strdup_printf("%s/big", dir);
	GString *big = g_string_sized_new(300000);
	for (int i = 0; big->len < 300000; i++)
		g_string_append_printf(big, "line %d of a long message\r\n", i);
	assert_true(g_file_set_contents(path, big->str, (gssize)big->len, NULL));
	FILE *f = fopen(path, "rb");
	int64_t id = 0;
	if (store_document_put_fd(st, "message", "message/rfc822", fileno(f), big->len, &id) < 0)
		fail_msg("put_fd: %s", store_error(st));
	fclose(f);
	void *got = NULL;
	size_t len = 0;
	assert_int_equal(store_document_get(st, id, &got, &len, NULL), 1);
	assert_int_equal(len, big->len);
	assert_memory_equal(got, big->str, len);
	g_free(got);
	/* a file shorter than announced fails cleanly and leaves no document */
	f = fopen(path, "rb");
	assert_int_equal(store_document_put_fd(st, "message", "message/rfc822", fileno(f), big->len + 10, &id), -1);
	fclose(f);
	assert_non_null(strstr(store_error(st), "shorter"));
	assert_int_equal(store_document_get(st, id, &got, &len, NULL), 0); /* rolled back */
	g_string_free(big, TRUE);
	store_close(&st);
}

static void test_claim_order_lease_and_limits(void **state)
{
	struct store *st = open_store();
	const int64_t now = 1800000000;
	struct job *later = queued_job("+15559990001", now + 100), *low = queued_job("+15559990002", now - 5),
		   *high = queued_job("+15559990003", now - 1), *same_dest = queued_job("+15559990003", now - 2),
		   *expired = queued_job("+15559990004", now - 10);
	high->priority = 9;
	expired->expires_at = now - 1;
	insert(st, later);
	insert(st, low);
	insert(st, high);
	insert(st, same_dest);
	insert(st, expired);
	struct job *c1 = NULL, *c2 = NULL, *c3 = NULL;
	assert_int_equal(store_claim_due(st, "nodeA", now, 60, 1, &c1), 1);
	assert_string_equal(c1->id, high->id); /* priority first */
	assert_int_equal(c1->state, JOB_STATE_SENDING);
	assert_string_equal(c1->lease_owner, "nodeA");
	assert_int_equal(c1->lease_until, now + 60);
	/* same_dest is due but its number has an active call already (limit 1): low comes next */
	assert_int_equal(store_claim_due(st, "nodeA", now, 60, 1, &c2), 1);
	assert_string_equal(c2->id, low->id);
	assert_int_equal(store_claim_due(st, "nodeA", now, 60, 1, &c3), 0); /* later: not due; expired: no */
	assert_int_equal(store_expire_due(st, now, "test"), 1);
	/* renew works for the holder only */
	assert_int_equal(store_lease_renew(st, c1->id, "nodeA", now + 120), 0);
	assert_int_equal(store_lease_renew(st, c1->id, "nodeB", now + 120), -1);
	/* nodeA dies: after its lease, nodeB gets the job back */
	assert_int_equal(store_claim_due(st, "nodeB", now + 100, 60, 1, &c3), 1);
	assert_string_equal(c3->id, c2->id);
	store_job_free(&c3);
	assert_int_equal(store_claim_due(st, "nodeB", now + 121, 60, 1, &c3), 1);
	assert_string_equal(c3->id, c1->id);
	assert_string_equal(c3->lease_owner, "nodeB");
	assert_int_equal(store_lease_renew(st, c1->id, "nodeA", now + 200), -1);
	GPtrArray *events = NULL;
	assert_int_equal(store_job_events(st, c1->id, &events), 0);
	struct job_event *last = events->pdata[events->len - 1];
	assert_non_null(strstr(last->text, "lease expired"));
	store_events_free(&events);
	struct job *e = NULL;
	assert_int_equal(store_job_get(st, expired->id, &e), 1);
	assert_int_equal(e->state, JOB_STATE_EXPIRED);
	store_job_free(&e);
	struct job *all[] = {later, low, high, same_dest, expired, c1, c2, c3};
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
		store_job_free(&all[i]);
	store_close(&st);
}

/* Two processes claim from one store at once: every job is claimed exactly once. */
static void test_concurrent_claims(void **state)
{
	enum { JOBS = 300 };
	struct store *st = open_store();
	const int64_t now = 1900000000;
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < JOBS; i++) {
		g_autofree char *num = g_strdup_printf("+1555700%04d", i);
		struct job *job = queued_job(num, now - 1);
		insert(st, job);
		g_hash_table_add(ids, g_strdup(job->id));
		store_job_free(&job);
	}
	store_close(&st);
	int fds[2][2], go[2];
	pid_t pids[2];
	assert_int_equal(pipe(go), 0); /* both start claiming at the same moment */
	for (int p = 0; p < 2; p++) {
		assert_int_equal(pipe(fds[p]), 0);
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			close(fds[p][0]);
			close(go[1]);
			struct store *cs = open_store();
			char b;
			if (read(go[0], &b, 1) != 0)
				_exit(4);
			g_autofree char *node = g_strdup_printf("node%d", p);
			struct job *job = NULL;
			int ret;
			while ((ret = store_claim_due(cs, node, now, 600, 5, &job)) == 1) {
				dprintf(fds[p][1], "%s\n", job->id);
				store_job_free(&job);
			}
			store_close(&cs);
			_exit(ret == 0 ? 0 : 3);
		}
		close(fds[p][1]);
	}
	close(go[0]);
	usleep(100000);
	close(go[1]);
	GString *out[2] = {g_string_new(NULL), g_string_new(NULL)};
	for (int p = 0; p < 2; p++) {
		char buf[4096];
		ssize_t n;
		while ((n = read(fds[p][0], buf, sizeof(buf))) > 0)
			g_string_append_len(out[p], buf, n);
		close(fds[p][0]);
		int status;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	int claimed[2] = {0, 0};
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int p = 0; p < 2; p++) {
		g_auto(GStrv) lines = g_strsplit(out[p]->str, "\n", -1);
		for (int i = 0; lines[i] && *lines[i]; i++) {
			if (!g_hash_table_contains(ids, lines[i]))
				fail_msg("claimed unknown job %s", lines[i]);
			if (!g_hash_table_add(seen, g_strdup(lines[i])))
				fail_msg("job %s claimed twice", lines[i]);
			claimed[p]++;
		}
		g_string_free(out[p], TRUE);
	}
	assert_int_equal(claimed[0] + claimed[1], JOBS);
	print_message("claims: process 0 got %d, process 1 got %d\n", claimed[0], claimed[1]);
	g_hash_table_destroy(seen);
	g_hash_table_destroy(ids);
}

/* A process killed with SIGKILL right after its insert committed: the job is there. */
static void test_sigkill_after_commit(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct store *cs = open_store();
		struct job *job = queued_job("+15558880000", 0);
		if (store_job_insert(cs, job, "child") < 0)
			_exit(3);
		if (write(fds[1], job->id, JOBID_LEN) != JOBID_LEN)
			_exit(4);
		for (;;)
			pause(); /* killed here, store still open */
	}
	close(fds[1]);
	char id[JOBID_SIZE] = "";
	assert_int_equal(read(fds[0], id, JOBID_LEN), JOBID_LEN);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	struct store *st = open_store();
	struct job *job = NULL;
	assert_int_equal(store_job_get(st, id, &job), 1);
	assert_string_equal(job->number, "+15558880000");
	store_job_free(&job);
	store_close(&st);
}

static void test_attempts_and_inbound(void **state)
{
	struct store *st = open_store();
	struct job *job = queued_job("+15551112222", 0);
	insert(st, job);
	struct attempt a = {.line = "loop", .outcome = "hangup", .result_text = "far end hung up",
			    .remote_ident = "+1 555", .started_at = 10, .ended_at = 20, .result_code = 42,
			    .first_page = 1, .pages_sent = 2, .pages_total = 3, .bit_rate = 14400, .ecm = 1};
	g_strlcpy(a.job_id, job->id, sizeof(a.job_id));
	assert_int_equal(store_attempt_add(st, &a), 0);
	GPtrArray *list = NULL;
	assert_int_equal(store_attempt_list(st, job->id, &list), 0);
	assert_int_equal(list->len, 1);
	struct attempt *got = list->pdata[0];
	assert_string_equal(got->outcome, "hangup");
	assert_int_equal(got->pages_sent, 2);
	assert_int_equal(got->bit_rate, 14400);
	store_attempts_free(&list);

	struct inbound in = {.line = "loop", .did = "100", .caller_id = "+12125550199", .remote_csid = "FAR",
			     .pages = 3, .resolution = "fine", .received_at = 1800000000, .partial = 0};
	assert_int_equal(store_inbound_insert(st, &in), 0);
	assert_int_equal(in.id[0], 'R');
	GPtrArray *rx = NULL;
	assert_int_equal(store_inbound_list(st, 10, &rx), 0);
	assert_int_equal(rx->len, 1);
	struct inbound *r = rx->pdata[0];
	assert_string_equal(r->did, "100");
	assert_string_equal(r->state, "received");
	store_inbound_list_free(&rx);
	store_job_free(&job);
	store_close(&st);
}

static void test_open_errors(void **state)
{
	struct store *st = NULL;
	const char *error = NULL;
	assert_int_equal(store_open_uri("mysql://x", 100, &st, &error), -1);
	assert_non_null(strstr(error, "unsupported"));
	assert_int_equal(store_open_uri("sqlite:/proc/nope/x.db", 100, &st, &error), -1);
	assert_non_null(strstr(error, "/proc/nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_machine_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_transaction_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_documents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_document_from_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_order_lease_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempts_and_inbound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
