/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The relay client (smtpgw/relay.c, relay_conn.c) against a scripted SMTP server in a thread:
 * the tls names, how replies map to results (MAIL/RCPT refusals before the DATA reply, 421 at the
 * greeting, enhanced codes parsed by libESMTP or read from the text, rate limits), the message as
 * it arrives (CRLF, dot-stuffed), AUTH masked in the dialogue, STARTTLS not offered, refused or
 * followed by injected bytes, a refused connection within the timeout, and deliveries from
 * several threads at once. TLS and AUTH against a real server are in
 * tests/integration/test_mail_transport.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtpgw/relay.h"

#define EHLO_PLAIN "250-fake\r\n250 SIZE 1000000\r\n"
#define EHLO_ENHANCED "250-fake\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN\r\n"

/* One SMTP session: fixed replies, the message kept. */
struct fake {
	const char *greeting, *ehlo, *starttls, *rcpt, *data;
	int listen_fd, port;
	GString *received; /* the DATA lines as sent, dot-stuffing and all */
	GString *commands;
	GThread *thread;
};

static void reply(FILE *f, const char *text)
{
	fputs(text, f);
	if (!g_str_has_suffix(text, "\n"))
		fputs("\r\n", f);
	fflush(f);
}

static void serve_data(struct fake *fk, FILE *in, FILE *f)
{
	char line[2048];
	reply(f, "354 go ahead");
	while (fgets(line, sizeof(line), in) != NULL && strcmp(line, ".\r\n") != 0)
		g_string_append(fk->received, line);
	reply(f, fk->data ? fk->data : "250 2.0.0 queued");
}

static gpointer fake_run(gpointer data)
{
	struct fake *fk = data;
	int fd = accept(fk->listen_fd, NULL, NULL);
	FILE *in = fd >= 0 ? fdopen(fd, "r") : NULL, *f = fd >= 0 ? fdopen(dup(fd), "w") : NULL;
	char line[2048];
	if (in == NULL || f == NULL)
		return NULL;
	reply(f, fk->greeting ? fk->greeting : "220 fake ESMTP");
	while (fgets(line, sizeof(line), in) != NULL) {
		g_string_append(fk->commands, line);
		if (g_str_has_prefix(line, "EHLO"))
			reply(f, fk->ehlo ? fk->ehlo : EHLO_PLAIN);
		else if (g_str_has_prefix(line, "STARTTLS"))
			reply(f, fk->starttls ? fk->starttls : "454 4.7.0 TLS not available");
		else if (g_str_has_prefix(line, "AUTH"))
			reply(f, "235 2.7.0 ok");
		else if (g_str_has_prefix(line, "RCPT"))
			reply(f, fk->rcpt ? fk->rcpt : "250 2.1.5 ok");
		else if (g_str_has_prefix(line, "DATA") && strstr(fk->commands->str, "RCPT") != NULL &&
			 (fk->rcpt == NULL || fk->rcpt[0] == '2'))
			serve_data(fk, in, f);
		else if (g_str_has_prefix(line, "DATA"))
			reply(f, "554 5.5.1 no valid recipients");
		else if (g_str_has_prefix(line, "QUIT"))
			break;
		else
			reply(f, "250 2.0.0 ok");
	}
	reply(f, "221 bye");
	fclose(f);
	fclose(in);
	return NULL;
}

static void fake_start(struct fake *fk)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	fk->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fk->listen_fd >= 0);
	assert_int_equal(bind(fk->listen_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fk->listen_fd, 4), 0);
	assert_int_equal(getsockname(fk->listen_fd, (struct sockaddr *)&sin, &len), 0);
	fk->port = ntohs(sin.sin_port);
	fk->received = g_string_new(NULL);
	fk->commands = g_string_new(NULL);
	fk->thread = g_thread_new("fake-smtp", fake_run, fk);
}

static void fake_stop(struct fake *fk)
{
	g_thread_join(fk->thread);
	close(fk->listen_fd);
	g_string_free(fk->received, TRUE);
	g_string_free(fk->commands, TRUE);
}

static struct relay_settings settings_for(int port)
{
	struct relay_settings st = {
	    .host = "127.0.0.1", .port = port, .tls = RELAY_TLS_NONE, .timeout_s = 5, .helo = "client.test"};
	return st;
}

static const char message[] = "From: a@b.test\nSubject: dots\n\n.leading dot\nplain\r\n..two\n";

/* Deliver message to a fake server run with fk's replies. */
static int send_to(struct fake *fk, struct relay_settings *st, struct relay_result *r, GString *dialogue)
{
	fake_start(fk);
	struct relay_settings local = st ? *st : settings_for(fk->port);
	local.port = fk->port;
	return relay_send(&local, "a@b.test", "c@d.test", message, strlen(message), r, dialogue);
}

static void assert_result(const struct relay_result *r, enum relay_status status, int code,
			  const char *enhanced)
{
	assert_int_equal(r->status, status);
	assert_int_equal(r->code, code);
	assert_string_equal(r->enhanced, enhanced);
}

static void test_tls_names(void **state)
{
	static const char *const names[] = {"none", "opportunistic", "starttls", "implicit"};
	enum relay_tls tls;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(relay_tls_parse(names[i], &tls), 0);
		assert_int_equal(tls, i);
		assert_string_equal(relay_tls_name(tls), names[i]);
	}
	assert_int_equal(relay_tls_parse("STARTTLS", &tls), 0);
	assert_int_equal(tls, RELAY_TLS_STARTTLS);
	assert_int_equal(relay_tls_parse("ssl", &tls), -1);
	assert_int_equal(relay_tls_parse("", &tls), -1);
}

static void test_delivered_crlf_and_dots(void **state)
{
	struct fake fk = {.ehlo = EHLO_ENHANCED};
	struct relay_result r;
	GString *dialogue = g_string_new(NULL);
	assert_int_equal(send_to(&fk, NULL, &r, dialogue), 0);
	assert_result(&r, RELAY_OK, 250, "2.0.0");
	assert_string_equal(r.text, "queued");
	/* CRLF, dot-stuffed, and libESMTP added the Date and Message-Id the message lacked */
	assert_true(g_str_has_prefix(fk.received->str, "From: a@b.test\r\nSubject: dots\r\nDate: "));
	assert_non_null(strstr(fk.received->str, "\r\nMessage-Id: <"));
	assert_true(g_str_has_suffix(fk.received->str, "\r\n\r\n..leading dot\r\nplain\r\n...two\r\n"));
	assert_non_null(strstr(fk.commands->str, "EHLO client.test\r\n"));
	assert_non_null(strstr(dialogue->str, "C: MAIL FROM:<a@b.test>"));
	assert_non_null(strstr(dialogue->str, "C: <message, "));
	assert_null(strstr(dialogue->str, "leading dot"));
	g_string_free(dialogue, TRUE);
	fake_stop(&fk);
}

static void test_recipient_refused_before_data(void **state)
{
	struct fake fk = {.ehlo = EHLO_ENHANCED, .rcpt = "550 5.1.1 no such user"};
	struct relay_result r;
	assert_int_equal(send_to(&fk, NULL, &r, NULL), -1);
	assert_result(&r, RELAY_PERMANENT, 550, "5.1.1");
	assert_string_equal(r.text, "no such user");
	fake_stop(&fk);
}

static void test_rate_limited(void **state)
{
	struct fake fk = {.data = "451 4.7.1 slow down, please"};
	struct relay_result r;
	assert_int_equal(send_to(&fk, NULL, &r, NULL), -1);
	assert_result(&r, RELAY_TEMPORARY, 451, "4.7.1"); /* from the text: no ENHANCEDSTATUSCODES */
	assert_string_equal(r.text, "slow down, please");
	assert_true(r.rate_limited);
	fake_stop(&fk);
}

static void test_greeting_421(void **state)
{
	struct fake busy = {.greeting = "421 4.3.2 busy"},
		    limited = {.greeting = "421 4.7.0 too many connections"};
	struct relay_result r;
	assert_int_equal(send_to(&busy, NULL, &r, NULL), -1);
	assert_result(&r, RELAY_TEMPORARY, 421, "4.3.2");
	assert_string_equal(r.text, "busy");
	assert_false(r.rate_limited);
	fake_stop(&busy);
	assert_int_equal(send_to(&limited, NULL, &r, NULL), -1);
	assert_true(r.rate_limited);
	fake_stop(&limited);
}

static void test_data_refused_permanently(void **state)
{
	struct fake fk = {.data = "554 message refused"};
	struct relay_result r;
	assert_int_equal(send_to(&fk, NULL, &r, NULL), -1);
	assert_result(&r, RELAY_PERMANENT, 554, "");
	assert_string_equal(r.text, "message refused");
	fake_stop(&fk);
}

static void test_auth_masked(void **state)
{
	struct fake fk = {.ehlo = EHLO_ENHANCED};
	struct relay_settings st = settings_for(0);
	st.user = "user";
	st.password = "secret";
	struct relay_result r;
	GString *dialogue = g_string_new(NULL);
	assert_int_equal(send_to(&fk, &st, &r, dialogue), 0);
	assert_non_null(strstr(fk.commands->str, "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"));
	assert_non_null(strstr(dialogue->str, "C: AUTH PLAIN ****\nS: 235"));
	assert_null(strstr(dialogue->str, "AHVzZXIAc2VjcmV0"));
	g_string_free(dialogue, TRUE);
	fake_stop(&fk);
}

static struct relay_settings with_tls(enum relay_tls tls)
{
	struct relay_settings st = settings_for(0);
	st.tls = tls;
	st.verify = false;
	return st;
}

static void test_starttls_not_offered(void **state)
{
	struct fake fk = {0};
	struct relay_settings st = with_tls(RELAY_TLS_STARTTLS);
	struct relay_result r;
	assert_int_equal(send_to(&fk, &st, &r, NULL), -1);
	assert_result(&r, RELAY_TEMPORARY, 0, "");
	assert_string_equal(r.text, "the relay does not offer STARTTLS (tls = starttls)");
	assert_null(strstr(fk.commands->str, "MAIL"));
	fake_stop(&fk);
}

static void test_starttls_refused(void **state)
{
	struct fake required = {.ehlo = "250-fake\r\n250 STARTTLS\r\n"},
		    maybe = {.ehlo = "250-fake\r\n250 STARTTLS\r\n"};
	struct relay_settings st = with_tls(RELAY_TLS_STARTTLS);
	struct relay_result r;
	assert_int_equal(send_to(&required, &st, &r, NULL), -1);
	assert_result(&r, RELAY_TEMPORARY, 454, "4.7.0");
	fake_stop(&required);
	/* opportunistic: on without TLS, and the greeting libESMTP is given again is shown once */
	st = with_tls(RELAY_TLS_OPPORTUNISTIC);
	GString *dialogue = g_string_new(NULL);
	assert_int_equal(send_to(&maybe, &st, &r, dialogue), 0);
	assert_non_null(
	    strstr(dialogue->str, "C: STARTTLS\nS: 454 4.7.0 TLS not available\nC: EHLO client.test\n"));
	assert_true(g_str_has_prefix(dialogue->str, "S: 220 fake ESMTP\nC: EHLO"));
	assert_null(strstr(dialogue->str + 1, "S: 220 fake"));
	g_string_free(dialogue, TRUE);
	fake_stop(&maybe);
}

/* RFC 3207 §5: bytes that come with the 220 to STARTTLS were sent in clear; they end the session. */
static void test_starttls_injection(void **state)
{
	struct fake fk = {.ehlo = "250-fake\r\n250 STARTTLS\r\n",
			  .starttls = "220 go ahead\r\n250 injected\r\n"};
	struct relay_settings st = with_tls(RELAY_TLS_OPPORTUNISTIC);
	struct relay_result r;
	assert_int_equal(send_to(&fk, &st, &r, NULL), -1);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.text, "more than its reply to STARTTLS"));
	fake_stop(&fk);
}

static void test_connection_refused(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd); /* bound once, never listened on: nobody is there */
	struct relay_settings st = settings_for(ntohs(sin.sin_port));
	st.timeout_s = 2;
	struct relay_result r;
	gint64 start = g_get_monotonic_time();
	assert_int_equal(relay_send(&st, "", "c@d.test", "x\n", 2, &r, NULL), -1);
	assert_true(g_get_monotonic_time() - start < 2 * G_USEC_PER_SEC);
	assert_result(&r, RELAY_TEMPORARY, 0, "");
	assert_non_null(strstr(r.text, "Connection refused"));
	assert_false(r.rate_limited);
}

static gpointer deliver_in_thread(gpointer data)
{
	struct fake *fk = data;
	struct relay_result r;
	int ret = send_to(fk, NULL, &r, NULL);
	return GINT_TO_POINTER(ret == 0 && r.code == 250);
}

static void test_parallel(void **state)
{
	struct fake fakes[6] = {{0}};
	GThread *threads[6];
	for (int i = 0; i < 6; i++)
		threads[i] = g_thread_new("deliver", deliver_in_thread, &fakes[i]);
	for (int i = 0; i < 6; i++) {
		assert_true(GPOINTER_TO_INT(g_thread_join(threads[i])));
		fake_stop(&fakes[i]);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* the fake server may answer a client that has gone */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_names),
	    cmocka_unit_test(test_delivered_crlf_and_dots),
	    cmocka_unit_test(test_recipient_refused_before_data),
	    cmocka_unit_test(test_rate_limited),
	    cmocka_unit_test(test_greeting_421),
	    cmocka_unit_test(test_data_refused_permanently),
	    cmocka_unit_test(test_auth_masked),
	    cmocka_unit_test(test_starttls_not_offered),
	    cmocka_unit_test(test_starttls_refused),
	    cmocka_unit_test(test_starttls_injection),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_parallel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
