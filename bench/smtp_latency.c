/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Accept-latency probe for the SMTP benchmark (bench/smtp_bench.sh): CLIENTS threads, each with
 * one SMTP session to HOST:PORT, send MESSAGES messages one after the other (no pipelining, as
 * smtp-source), and time each transaction from the moment MAIL FROM is written to the moment
 * the reply to the final "." has been read. smtp-source gives a rate but no latency; this gives
 * the distribution (p50, p90, p99, max) of what a client waits for its 250.
 *
 *   smtp_latency HOST PORT CLIENTS MESSAGES FILE FROM TO
 *
 * FILE is the message with CRLF line ends; lines starting with '.' are dot-stuffed here
 * (RFC 5321 §4.5.2). Every reply other than the expected 250/354 counts as a failure. One line
 * of key=value results goes to stdout. Bounded: MESSAGES per client and a 30 s socket timeout,
 * so it stops by itself when a server hangs. IPv4 loopback only by intent: it is a local bench.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int fd;
	char buf[8192];
	size_t len;
};

struct client {
	pthread_t thread;
	int index;
	double *lat_ms; /* one per message sent with a 250 */
	int ok, failed;
	char error[200];
};

static struct sockaddr_in server_addr;
static int n_clients, n_messages;
static char *message;
static size_t message_len;
static const char *mail_from, *rcpt_to;
static pthread_barrier_t start_barrier;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one (possibly multi-line) reply; its code, or -1 on I/O error or timeout. */
static int read_reply(struct conn *c, char *text, size_t text_size)
{
	for (;;) {
		char *eol;
		while ((eol = memchr(c->buf, '\n', c->len)) != NULL) {
			size_t line_len = (size_t)(eol - c->buf) + 1;
			int last = line_len >= 4 && c->buf[3] != '-';
			int code = line_len >= 4 ? atoi(c->buf) : -1;
			if (last && text != NULL) {
				size_t n = line_len < text_size ? line_len : text_size - 1;
				memcpy(text, c->buf, n);
				text[n] = '\0';
				text[strcspn(text, "\r\n")] = '\0';
			}
			memmove(c->buf, c->buf + line_len, c->len - line_len);
			c->len -= line_len;
			if (last)
				return code;
		}
		if (c->len == sizeof(c->buf))
			return -1; /* a line longer than any SMTP reply line may be */
		ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

/* Send a command and check the reply code; 0, or -1 with the error noted. */
static int command(struct client *cl, struct conn *c, const char *line, int expect)
{
	char text[160];
	if (line != NULL && write_all(c->fd, line, strlen(line)) < 0) {
		snprintf(cl->error, sizeof(cl->error), "write: %s", strerror(errno));
		return -2;
	}
	int code = read_reply(c, text, sizeof(text));
	if (code < 0) {
		snprintf(cl->error, sizeof(cl->error), "read: %s", errno ? strerror(errno) : "connection closed");
		return -2;
	}
	if (code != expect) {
		snprintf(cl->error, sizeof(cl->error), "after %.20s: %s", line ? line : "connect", text);
		return -1;
	}
	return 0;
}

static void *client_main(void *arg)
{
	struct client *cl = arg;
	struct conn c = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
	struct timeval tv = {.tv_sec = 30};
	int one = 1;
	char mail[600], rcpt[600], ehlo[64];
	snprintf(mail, sizeof(mail), "MAIL FROM:<%s>\r\n", mail_from);
	snprintf(rcpt, sizeof(rcpt), "RCPT TO:<%s>\r\n", rcpt_to);
	snprintf(ehlo, sizeof(ehlo), "EHLO probe%d.localdomain\r\n", cl->index);
	int ready = c.fd >= 0 && setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
		    setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
		    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
		    connect(c.fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) == 0;
	if (!ready)
		snprintf(cl->error, sizeof(cl->error), "connect: %s", strerror(errno));
	else if (command(cl, &c, NULL, 220) < 0 || command(cl, &c, ehlo, 250) < 0)
		ready = 0;
	pthread_barrier_wait(&start_barrier);
	int broken = !ready;
	for (int i = 0; i < n_messages; i++) {
		if (broken) {
			cl->failed++;
			continue;
		}
		double t0 = now_ms();
		int ret = command(cl, &c, mail, 250);
		if (ret == 0)
			ret = command(cl, &c, rcpt, 250);
		if (ret == 0)
			ret = command(cl, &c, "DATA\r\n", 354);
		if (ret == 0) {
			if (write_all(c.fd, message, message_len) < 0) {
				snprintf(cl->error, sizeof(cl->error), "write: %s", strerror(errno));
				ret = -2;
			} else {
				ret = command(cl, &c, ".\r\n", 250);
			}
		}
		double t1 = now_ms();
		if (ret == 0) {
			cl->lat_ms[cl->ok++] = t1 - t0;
		} else {
			cl->failed++;
			if (ret == -2)
				broken = 1;
			else if (command(cl, &c, "RSET\r\n", 250) < -1)
				broken = 1;
		}
	}
	if (!broken)
		command(cl, &c, "QUIT\r\n", 221);
	if (c.fd >= 0)
		close(c.fd);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *v, int n, double q)
{
	if (n == 0)
		return 0;
	int rank = (int)(q * n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

/* The message dot-stuffed and ending in CRLF, ready to be written after DATA's 354. */
static int load_message(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t cap = 65536, len = 0;
	char *raw = malloc(cap);
	size_t n;
	while ((n = fread(raw + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap)
			raw = realloc(raw, cap *= 2);
	}
	fclose(f);
	message = malloc(len * 2 + 3);
	int bol = 1;
	for (size_t i = 0; i < len; i++) {
		if (bol && raw[i] == '.')
			message[message_len++] = '.';
		message[message_len++] = raw[i];
		bol = raw[i] == '\n';
	}
	if (message_len < 2 || memcmp(message + message_len - 2, "\r\n", 2) != 0) {
		message[message_len++] = '\r';
		message[message_len++] = '\n';
	}
	free(raw);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: %s HOST PORT CLIENTS MESSAGES FILE FROM TO\n", argv[0]);
		return 64;
	}
	server_addr.sin_family = AF_INET;
	server_addr.sin_port = htons((unsigned short)atoi(argv[2]));
	n_clients = atoi(argv[3]);
	n_messages = atoi(argv[4]);
	mail_from = argv[6];
	rcpt_to = argv[7];
	if (inet_pton(AF_INET, argv[1], &server_addr.sin_addr) != 1 || n_clients < 1 || n_clients > 1000 ||
	    n_messages < 1 || n_messages > 100000) {
		fprintf(stderr, "%s: bad host, client count (1-1000) or message count (1-100000)\n", argv[0]);
		return 64;
	}
	if (load_message(argv[5]) < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[5], strerror(errno));
		return 66;
	}
	struct client *clients = calloc((size_t)n_clients, sizeof(*clients));
	pthread_barrier_init(&start_barrier, NULL, (unsigned)n_clients + 1);
	for (int i = 0; i < n_clients; i++) {
		clients[i].index = i;
		clients[i].lat_ms = calloc((size_t)n_messages, sizeof(double));
		if (pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) != 0) {
			fprintf(stderr, "%s: cannot start thread %d\n", argv[0], i);
			return 71;
		}
	}
	pthread_barrier_wait(&start_barrier);
	double t0 = now_ms();
	for (int i = 0; i < n_clients; i++)
		pthread_join(clients[i].thread, NULL);
	double wall = now_ms() - t0;
	int ok = 0, failed = 0;
	double *all = malloc(sizeof(double) * (size_t)n_clients * (size_t)n_messages);
	for (int i = 0; i < n_clients; i++) {
		memcpy(all + ok, clients[i].lat_ms, sizeof(double) * (size_t)clients[i].ok);
		ok += clients[i].ok;
		failed += clients[i].failed;
		if (clients[i].error[0] != '\0')
			fprintf(stderr, "client %d: %s\n", i, clients[i].error);
	}
	qsort(all, (size_t)ok, sizeof(double), cmp_double);
	double sum = 0;
	for (int i = 0; i < ok; i++)
		sum += all[i];
	printf("clients=%d sent=%d ok=%d failed=%d size=%zu wall_s=%.3f rate=%.1f mean_ms=%.2f p50_ms=%.2f p90_ms=%.2f "
	       "p99_ms=%.2f max_ms=%.2f\n",
	       n_clients, n_clients * n_messages, ok, failed, message_len, wall / 1e3, ok / (wall / 1e3),
	       ok ? sum / ok : 0.0, percentile(all, ok, 0.50), percentile(all, ok, 0.90), percentile(all, ok, 0.99),
	       ok ? all[ok - 1] : 0.0);
	return failed ? 1 : 0;
}
