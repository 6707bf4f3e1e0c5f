/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxpeer: a bare fax media endpoint for the SIP tests. SIPp (sip-tester) plays the far end's
 * signalling and its SDP points at faxpeer's two UDP ports: G.711 audio over RTP (RFC 3550/3551,
 * PCMA or PCMU) and T.38 IFPs over UDPTL (ITU-T T.38 §9). faxpeer knows nothing of SIP; it runs a
 * real spandsp T.30 endpoint (faxd/fax_session.c) on those ports exactly as faxd's SIP line does
 * each 20 ms tick (faxd/line_sip.c media_tick, t38_tick, sip_t38_tx), so faxd is tested against
 * the same fax engine it uses, not against a model of it.
 *
 *   faxpeer --bind ADDR --audio-port P --image-port Q (--receive OUT.tif | --send DOC.tif)
 *           [--ident TEXT] [--codec alaw|ulaw] [--speed N] [--timeout SECONDS]
 *           [--loss FRACTION] [--seed N] [--ec redundancy|fec|none] [--no-ecm]
 *           [--remote-audio HOST:PORT] [--remote-image HOST:PORT] [--start-t38] [--verbose]
 *
 * Media is symmetric: with no --remote-*, each socket sends to the source of the first datagram it
 * receives and sends nothing before. The call starts on G.711; the first valid UDPTL datagram on
 * the image port switches it to T.38, a new session whose T.30 starts again from phase A (as
 * faxd's switch_to_t38: spandsp 0.0.6 cannot hand a call over). --start-t38 begins on T.38.
 *
 * Time is paced against absolute CLOCK_MONOTONIC deadlines (clock_nanosleep TIMER_ABSTIME), one
 * tick every 20 ms / speed, so faxd and faxpeer at the same --speed keep the same media clock.
 *
 * stdout carries exactly two lines: "ready" once both sockets are bound, and at the end one JSON
 * object with the outcome. Exit 0 whenever a call was run (the JSON says how it went), 2 for bad
 * arguments or a socket that cannot be bound. Logs go to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "faxd/udpaddr.h"
#include "faxd/fax_session.h"
#include "faxd/rtp.h"
#include "faxd/udptl.h"

#define TICK_SAMPLES (FAX_SAMPLE_RATE / 50) /* 20 ms */
#define TICK_NS 20000000LL
#define RESYNC_TICKS 10	 /* further behind than this: re-base the clock instead of bursting */
#define END_GRACE_MS 500 /* media kept running after T.30 ends, so the last frames go out */
#define RX_TIMEOUT_S 20	 /* no datagram for this long (media time) after the first: line lost */
#define MAX_DRAIN 64	 /* datagrams read per socket per tick at most */
#define DATAGRAM_BUF 1500
#define DEFAULT_TIMEOUT_S 120
#define MAX_SPEED 100

struct peer_options {
	const char *bind_addr;
	int audio_port, image_port;
	const char *rx_file, *tx_file;
	const char *ident;
	enum fax_codec codec;
	int speed;
	double timeout_s;
	double loss;
	guint32 seed;
	enum udptl_ec ec;
	bool ecm;
	const char *remote_audio, *remote_image; /* HOST:PORT, or NULL to latch */
	bool start_t38;
	bool verbose;
};

/* One UDP socket and where its datagrams go: remote_len is 0 until latched or given. */
struct media_socket {
	int fd;
	struct sockaddr_storage remote;
	socklen_t remote_len;
};

struct peer {
	struct peer_options opt;
	struct media_socket audio, image;
	struct fax_session *session;
	bool t38, switched;
	struct udptl *udptl;
	struct rtp_sender sender;
	struct rtp_jitter jitter;
	GRand *rng;
	int64_t t;	 /* media time, samples */
	int64_t last_rx; /* media time of the last datagram; -1 before the first */
	int64_t end_at;	 /* stop once t reaches it; -1 while the call runs */
};

static volatile sig_atomic_t stop_signal;

/* ---------------------------------------------------------------------------------------- */
/* Options */

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: faxpeer --bind ADDR --audio-port P --image-port Q (--receive OUT.tif | --send DOC.tif)\n"
	    "               [--ident TEXT] [--codec alaw|ulaw] [--speed N] [--timeout SECONDS]\n"
	    "               [--loss FRACTION] [--seed N] [--ec redundancy|fec|none] [--no-ecm]\n"
	    "               [--remote-audio HOST:PORT] [--remote-image HOST:PORT] [--start-t38] "
	    "[--verbose]\n");
}

static int parse_long(const char *text, long min, long max, long *value_r)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return -1;
	*value_r = v;
	return 0;
}

static int parse_double(const char *text, double min, double max, double *value_r)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !(v >= min && v <= max))
		return -1;
	*value_r = v;
	return 0;
}

static int parse_port(const char *text, int *port_r)
{
	long v;
	if (parse_long(text, 1, 65535, &v) < 0)
		return -1;
	*port_r = (int)v;
	return 0;
}

static int parse_codec(const char *text, enum fax_codec *codec_r)
{
	if (strcmp(text, "alaw") == 0)
		*codec_r = FAX_CODEC_ALAW;
	else if (strcmp(text, "ulaw") == 0)
		*codec_r = FAX_CODEC_ULAW;
	else
		return -1;
	return 0;
}

static int parse_ec(const char *text, enum udptl_ec *ec_r)
{
	if (strcmp(text, "redundancy") == 0)
		*ec_r = UDPTL_EC_REDUNDANCY;
	else if (strcmp(text, "fec") == 0)
		*ec_r = UDPTL_EC_FEC;
	else if (strcmp(text, "none") == 0)
		*ec_r = UDPTL_EC_NONE;
	else
		return -1;
	return 0;
}

enum {
	OPT_BIND = 256,
	OPT_AUDIO_PORT,
	OPT_IMAGE_PORT,
	OPT_RECEIVE,
	OPT_SEND,
	OPT_IDENT,
	OPT_CODEC,
	OPT_SPEED,
	OPT_TIMEOUT,
	OPT_LOSS,
	OPT_SEED,
	OPT_EC,
	OPT_NO_ECM,
	OPT_REMOTE_AUDIO,
	OPT_REMOTE_IMAGE,
	OPT_START_T38,
	OPT_VERBOSE,
};

static const struct option long_options[] = {
    {"bind", required_argument, NULL, OPT_BIND},
    {"audio-port", required_argument, NULL, OPT_AUDIO_PORT},
    {"image-port", required_argument, NULL, OPT_IMAGE_PORT},
    {"receive", required_argument, NULL, OPT_RECEIVE},
    {"send", required_argument, NULL, OPT_SEND},
    {"ident", required_argument, NULL, OPT_IDENT},
    {"codec", required_argument, NULL, OPT_CODEC},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"ec", required_argument, NULL, OPT_EC},
    {"no-ecm", no_argument, NULL, OPT_NO_ECM},
    {"remote-audio", required_argument, NULL, OPT_REMOTE_AUDIO},
    {"remote-image", required_argument, NULL, OPT_REMOTE_IMAGE},
    {"start-t38", no_argument, NULL, OPT_START_T38},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {NULL, 0, NULL, 0},
};

/* One option's value into opt: 0, or -1 when it is not valid. */
static int apply_option(struct peer_options *opt, int c, const char *arg)
{
	long v;
	switch (c) {
	case OPT_BIND:
		opt->bind_addr = arg;
		return 0;
	case OPT_AUDIO_PORT:
		return parse_port(arg, &opt->audio_port);
	case OPT_IMAGE_PORT:
		return parse_port(arg, &opt->image_port);
	case OPT_RECEIVE:
		opt->rx_file = arg;
		return 0;
	case OPT_SEND:
		opt->tx_file = arg;
		return 0;
	case OPT_IDENT:
		opt->ident = arg;
		return 0;
	case OPT_CODEC:
		return parse_codec(arg, &opt->codec);
	case OPT_SPEED:
		if (parse_long(arg, 1, MAX_SPEED, &v) < 0)
			return -1;
		opt->speed = (int)v;
		return 0;
	case OPT_TIMEOUT:
		return parse_double(arg, 0.001, 86400, &opt->timeout_s);
	case OPT_LOSS:
		return parse_double(arg, 0, 0.999, &opt->loss);
	case OPT_SEED:
		if (parse_long(arg, 0, 0xffffffffL, &v) < 0)
			return -1;
		opt->seed = (guint32)v;
		return 0;
	case OPT_EC:
		return parse_ec(arg, &opt->ec);
	case OPT_NO_ECM:
		opt->ecm = false;
		return 0;
	case OPT_REMOTE_AUDIO:
		opt->remote_audio = arg;
		return 0;
	case OPT_REMOTE_IMAGE:
		opt->remote_image = arg;
		return 0;
	case OPT_START_T38:
		opt->start_t38 = true;
		return 0;
	case OPT_VERBOSE:
		opt->verbose = true;
		return 0;
	default:
		return -1;
	}
}

static int parse_options(int argc, char **argv, struct peer_options *opt)
{
	*opt = (struct peer_options){.codec = FAX_CODEC_ALAW,
				     .speed = 1,
				     .timeout_s = DEFAULT_TIMEOUT_S,
				     .seed = 1,
				     .ec = UDPTL_EC_REDUNDANCY,
				     .ecm = true};
	int c;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (apply_option(opt, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, "faxpeer: bad value for --%s: %s\n",
					long_options[c - OPT_BIND].name, optarg);
			return -1;
		}
	}
	if (optind != argc || opt->bind_addr == NULL || opt->audio_port == 0 || opt->image_port == 0 ||
	    (opt->rx_file == NULL) == (opt->tx_file == NULL)) {
		fprintf(stderr, "faxpeer: --bind, --audio-port, --image-port and one of --receive or --send "
				"are required\n");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Sockets */

/* "HOST:PORT" or "[V6HOST]:PORT" into a socket address. */
static int parse_hostport(const char *text, struct sockaddr_storage *ss, socklen_t *len_r)
{
	char host[64];
	int port;
	if (udpaddr_split(text, host, sizeof(host), &port) < 0 || port == 0)
		return -1;
	return udpaddr_resolve(host, port, ss, len_r);
}

/* A non-blocking UDP socket bound to addr:port; -1 with the reason on stderr. */
static int bind_socket(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (udpaddr_resolve(addr, port, &ss, &len) < 0) {
		fprintf(stderr, "faxpeer: %s is not a numeric address\n", addr);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "faxpeer: cannot bind %s port %d: %s\n", addr, port, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int open_media_socket(struct media_socket *ms, const char *bind_addr, int port, const char *remote)
{
	ms->remote_len = 0;
	if (remote != NULL && parse_hostport(remote, &ms->remote, &ms->remote_len) < 0) {
		fprintf(stderr, "faxpeer: bad HOST:PORT %s\n", remote);
		return -1;
	}
	ms->fd = bind_socket(bind_addr, port);
	return ms->fd < 0 ? -1 : 0;
}

static void send_datagram(struct media_socket *ms, const uint8_t *buf, size_t len)
{
	if (ms->remote_len == 0)
		return; /* nobody to send to until the far end's first datagram latches it */
	if (sendto(ms->fd, buf, len, 0, (struct sockaddr *)&ms->remote, ms->remote_len) < 0 &&
	    errno != EAGAIN && errno != ECONNREFUSED)
		log_debug("send: %s", g_strerror(errno));
}

/* The next datagram waiting on ms that the simulated loss lets through, latching the far end's
   address on the first: its length, or -1 when none is left. */
static ssize_t next_datagram(struct peer *p, struct media_socket *ms, uint8_t *buf, size_t size)
{
	for (int i = 0; i < MAX_DRAIN; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t got = recvfrom(ms->fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
		if (got < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			return -1;
		}
		/* a lost datagram never arrived: it neither latches nor counts */
		if (p->opt.loss > 0 && g_rand_double(p->rng) < p->opt.loss)
			continue;
		if (ms->remote_len == 0) {
			ms->remote = from;
			ms->remote_len = from_len;
		}
		return got;
	}
	return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* The fax session */

static void peer_t38_tx(void *ctx, const uint8_t *ifp, size_t len, int count)
{
	struct peer *p = ctx;
	if (!p->t38)
		return;
	uint8_t buf[UDPTL_MAX_DATAGRAM];
	int n = udptl_encode(p->udptl, ifp, len, buf, sizeof(buf));
	if (n < 0) {
		log_warning("IFP of %zu bytes not encodable", len);
		return;
	}
	for (int i = 0; i < count; i++)
		send_datagram(&p->image, buf, (size_t)n);
}

/* The settings faxd's call_connect() would give this call. */
static int start_session(struct peer *p, enum fax_transport transport)
{
	struct fax_session_settings set;
	fax_session_settings_default(&set);
	set.log_tag = "faxpeer";
	set.transport = transport;
	set.calling = p->opt.tx_file != NULL;
	set.ident = p->opt.ident;
	set.ecm = p->opt.ecm;
	set.tx_file = p->opt.tx_file;
	set.rx_file = p->opt.rx_file;
	set.log_flow = p->opt.verbose;
	struct fax_session_callbacks cb = {.t38_tx = peer_t38_tx, .ctx = p};
	const char *error;
	p->t38 = transport == FAX_TRANSPORT_T38;
	p->session = fax_session_create(&set, &cb, &error);
	if (p->session == NULL) {
		fprintf(stderr, "faxpeer: %s\n", error);
		return -1;
	}
	return 0;
}

static void init_rtp(struct peer *p)
{
	bool ulaw = p->opt.codec == FAX_CODEC_ULAW;
	uint8_t pt = ulaw ? RTP_PT_PCMU : RTP_PT_PCMA;
	rtp_sender_init(&p->sender, pt, g_rand_int(p->rng), (uint16_t)g_rand_int(p->rng), g_rand_int(p->rng));
	struct rtp_jitter_settings js = {
	    .payload_type = pt,
	    .silence = ulaw ? RTP_SILENCE_PCMU : RTP_SILENCE_PCMA,
	};
	rtp_jitter_init(&p->jitter, &js);
}

/* The far end has gone over to T.38: a new session replaces the audio one. */
static void switch_to_t38(struct peer *p)
{
	log_info("first UDPTL datagram: switching to T.38");
	fax_session_free(&p->session);
	p->switched = true;
	if (start_session(p, FAX_TRANSPORT_T38) < 0)
		abort(); /* the same settings just worked for audio */
}

/* ---------------------------------------------------------------------------------------- */
/* Media ticks, as faxd/line_sip.c's */

static void deliver_ifp(void *ctx, uint16_t seq, const uint8_t *ifp, size_t len)
{
	struct peer *p = ctx;
	if (!p->t38)
		switch_to_t38(p);
	fax_session_rx_ifp(p->session, ifp, len, seq);
}

static void read_image(struct peer *p)
{
	uint8_t buf[DATAGRAM_BUF];
	ssize_t got;
	for (int i = 0; i < MAX_DRAIN && (got = next_datagram(p, &p->image, buf, sizeof(buf))) >= 0; i++) {
		/* once the audio call is ending, a late switch would only restart T.30 */
		if (!p->t38 && p->end_at >= 0)
			continue;
		if (udptl_decode(p->udptl, buf, (size_t)got, deliver_ifp, p) >= 0)
			p->last_rx = p->t;
	}
}

static void read_audio(struct peer *p)
{
	uint8_t buf[DATAGRAM_BUF];
	ssize_t got;
	for (int i = 0; i < MAX_DRAIN && (got = next_datagram(p, &p->audio, buf, sizeof(buf))) >= 0; i++) {
		struct rtp_packet pkt;
		if (!p->t38 && rtp_decode(buf, (size_t)got, &pkt) == 0 &&
		    rtp_jitter_put(&p->jitter, &pkt) != RTP_JITTER_REFUSED)
			p->last_rx = p->t;
	}
}

static void audio_tick(struct peer *p, int n)
{
	int16_t pcm[TICK_SAMPLES];
	uint8_t coded[TICK_SAMPLES], buf[DATAGRAM_BUF];
	fax_session_tx_audio(p->session, pcm, n);
	fax_codec_encode(p->opt.codec, pcm, n, coded);
	int len = rtp_sender_next(&p->sender, coded, (size_t)n, buf, sizeof(buf));
	if (len > 0)
		send_datagram(&p->audio, buf, (size_t)len);

	read_audio(p);
	read_image(p); /* may switch to T.38 */
	if (p->t38)
		return;
	uint8_t frame[TICK_SAMPLES];
	int arrived = rtp_jitter_get(&p->jitter, frame, n);
	if (arrived > 0) {
		fax_codec_decode(p->opt.codec, frame, n, pcm);
		fax_session_rx_audio(p->session, pcm, n);
	} else if (arrived == 0) {
		fax_session_rx_audio(p->session, NULL, n); /* the modems keep their timing */
	}
}

static void t38_tick(struct peer *p, int n)
{
	fax_session_tick(p->session, n); /* IFPs go out through peer_t38_tx */
	read_image(p);
	read_audio(p); /* drained and dropped: the audio stream is over */
}

/* One tick of media; false once the call is over. */
static bool peer_tick(struct peer *p)
{
	p->t += TICK_SAMPLES;
	if (p->t38)
		t38_tick(p, TICK_SAMPLES);
	else
		audio_tick(p, TICK_SAMPLES);

	if (p->end_at < 0 && !fax_session_active(p->session)) {
		p->end_at = p->t + (int64_t)END_GRACE_MS * FAX_SAMPLE_RATE / 1000;
	} else if (p->end_at < 0 && p->last_rx >= 0 &&
		   p->t - p->last_rx > (int64_t)RX_TIMEOUT_S * FAX_SAMPLE_RATE) {
		log_warning("no datagram from the far end for %d s", RX_TIMEOUT_S);
		fax_session_hangup(p->session, FAX_OUTCOME_LINE);
		p->end_at = p->t;
	}
	return p->end_at < 0 || p->t < p->end_at;
}

/* ---------------------------------------------------------------------------------------- */
/* Pacing and the run */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000LL, .tv_nsec = deadline_ns % 1000000000LL};
	/* EINTR: a signal; the loop looks at stop_signal and sleeps again if need be */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void run(struct peer *p)
{
	int64_t tick_ns = TICK_NS / p->opt.speed;
	int64_t start = now_ns(), deadline = start;
	int64_t timeout_ns = (int64_t)(p->opt.timeout_s * 1e9);
	while (peer_tick(p)) {
		deadline += tick_ns;
		int64_t now = now_ns();
		if (now - start >= timeout_ns || stop_signal != 0) {
			log_warning(stop_signal != 0 ? "signal: hanging up" : "timeout: hanging up");
			fax_session_hangup(p->session,
					   stop_signal != 0 ? FAX_OUTCOME_CANCELLED : FAX_OUTCOME_TIMEOUT);
			return;
		}
		if (now - deadline > RESYNC_TICKS * tick_ns)
			deadline = now;
		while (now_ns() < deadline && stop_signal == 0)
			sleep_until(deadline);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* The result */

/* text as a JSON string: quotes and backslashes escaped, every byte outside printable ASCII
   as \u00XX, so whatever the far end sent as its ident the line stays valid JSON. */
static void print_json_string(const char *text)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20 || *c >= 0x7f)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

static void print_report(const struct peer *p)
{
	struct fax_report r;
	fax_session_get_report(p->session, &r);
	printf("{\"outcome\": \"%s\", \"pages\": %d, \"media\": \"%s\", \"switched\": %s, \"remote_ident\": ",
	       fax_outcome_name(r.outcome), r.pages_done, p->t38 ? "t38" : "audio",
	       p->switched ? "true" : "false");
	print_json_string(r.remote_ident);
	printf(", \"bit_rate\": %d, \"ecm\": %s, \"t30_code\": %d, \"text\": ", r.bit_rate,
	       r.ecm ? "true" : "false", r.t30_code);
	print_json_string(r.text);
	printf("}\n");
	fflush(stdout);
}

static int open_peer(struct peer *p)
{
	const struct peer_options *o = &p->opt;
	p->audio.fd = p->image.fd = -1;
	p->last_rx = p->end_at = -1;
	p->rng = g_rand_new_with_seed(o->seed);
	if (open_media_socket(&p->audio, o->bind_addr, o->audio_port, o->remote_audio) < 0 ||
	    open_media_socket(&p->image, o->bind_addr, o->image_port, o->remote_image) < 0)
		return -1;
	struct udptl_settings us;
	udptl_settings_default(&us);
	us.ec = o->ec;
	p->udptl = udptl_create(&us);
	init_rtp(p);
	return start_session(p, o->start_t38 ? FAX_TRANSPORT_T38 : FAX_TRANSPORT_AUDIO);
}

static void close_peer(struct peer *p)
{
	fax_session_free(&p->session);
	udptl_free(&p->udptl);
	if (p->audio.fd >= 0)
		close(p->audio.fd);
	if (p->image.fd >= 0)
		close(p->image.fd);
	g_rand_free(p->rng);
}

int main(int argc, char **argv)
{
	struct peer p = {0};
	if (parse_options(argc, argv, &p.opt) < 0) {
		usage();
		return 2;
	}
	log_open("faxpeer", true);
	log_set_level(p.opt.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING);
	catch_signals();
	if (open_peer(&p) < 0) {
		close_peer(&p);
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	run(&p);
	print_report(&p);
	close_peer(&p);
	return 0;
}
