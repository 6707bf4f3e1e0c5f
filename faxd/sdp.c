/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDP core of the SIP channel driver: parses an offer into fixed-size structs, writes our offer,
 * and answers an offer. Standards: RFC 4566 (SDP), RFC 3264 (offer/answer), ITU-T T.38 Annex D
 * and RFC 3362 (m=image udptl t38 and its attributes), RFC 3551 (static payload types 0 and 8).
 * Compatibility choices follow what Asterisk and FreeSWITCH send and accept (research/sip-t38.md
 * §2.1); docs/sip.md has the attribute table.
 *
 * The parser takes the whole body (SIP hands it over with its Content-Length), so there is no
 * incremental state: every prefix of a body either parses or fails with an error text, which the
 * tests check. It never reads past len and needs no NUL. Lines end in LF or CRLF; empty lines,
 * unknown line types and unknown attributes are skipped; control characters, a missing v=0, a
 * malformed o=/c=/m= line, a known attribute with a bad number, more than SDP_MAX_MEDIA sections
 * or SDP_MAX_FORMATS formats, and a port != 0 without any c= are refused.
 *
 * Answers take exactly one stream (the fax engine drives one at a time); every other offered
 * stream is answered with port 0, so the m= lines match the offer one for one (RFC 3264 §6).
 * An answer never claims what we do not do: no telephone-event, no FillBitRemoval, MMR or JBIG
 * transcoding (spandsp 0.0.6 cannot), no T.38 version above ours.
 */
#include "faxd/sdp.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct tok {
	const char *p;
	size_t n;
};

/* ---- lexical helpers ---- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool tok_is(struct tok t, const char *s)
{
	size_t n = strlen(s);
	if (t.n != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (lower(t.p[i]) != lower(s[i]))
			return false;
	}
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Next space-separated token of *rest; false at its end. */
static bool next_tok(struct tok *rest, struct tok *t_r)
{
	while (rest->n > 0 && is_space(*rest->p)) {
		rest->p++;
		rest->n--;
	}
	if (rest->n == 0)
		return false;
	t_r->p = rest->p;
	while (rest->n > 0 && !is_space(*rest->p)) {
		rest->p++;
		rest->n--;
	}
	t_r->n = (size_t)(rest->p - t_r->p);
	return true;
}

static struct tok trim(struct tok t)
{
	while (t.n > 0 && is_space(t.p[0])) {
		t.p++;
		t.n--;
	}
	while (t.n > 0 && is_space(t.p[t.n - 1]))
		t.n--;
	return t;
}

/* Decimal 0..max, digits only; false if empty, not a number or above max. */
static bool parse_uint(struct tok t, long max, int *value_r)
{
	long v = 0;
	if (t.n == 0)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return false;
		v = v * 10 + (t.p[i] - '0');
		if (v > max)
			return false;
	}
	*value_r = (int)v;
	return true;
}

/* Split t at the first sep: head before it, tail after it (tail empty if none); true if found. */
static bool split(struct tok t, char sep, struct tok *head_r, struct tok *tail_r)
{
	const char *s = memchr(t.p, sep, t.n);
	if (s == NULL) {
		*head_r = t;
		tail_r->p = t.p + t.n;
		tail_r->n = 0;
		return false;
	}
	head_r->p = t.p;
	head_r->n = (size_t)(s - t.p);
	tail_r->p = s + 1;
	tail_r->n = t.n - head_r->n - 1;
	return true;
}

static bool copy_tok(struct tok t, char *dst, size_t size)
{
	if (t.n >= size)
		return false;
	memcpy(dst, t.p, t.n);
	dst[t.n] = '\0';
	return true;
}

/* ---- line parsers ---- */

struct parser {
	struct sdp_session *s;
	struct sdp_media *m; /* current media section, NULL at session level */
	const char *error;
};

static int fail(struct parser *ps, const char *error)
{
	ps->error = error;
	return -1;
}

static bool digits_only(struct tok t)
{
	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return false;
	}
	return t.n > 0;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
static int parse_origin(struct parser *ps, struct tok v)
{
	struct tok t[6];
	for (int i = 0; i < 6; i++) {
		if (!next_tok(&v, &t[i]))
			return fail(ps, "malformed o= line");
	}
	if (!digits_only(t[1]) || !digits_only(t[2]) ||
	    !copy_tok(t[1], ps->s->origin_id, sizeof(ps->s->origin_id)) ||
	    !copy_tok(t[2], ps->s->origin_version, sizeof(ps->s->origin_version)))
		return fail(ps, "o= session id or version is not a number of at most 31 digits");
	return 0;
}

/* c=IN IP4 <addr>[/ttl[/count]] or c=IN IP6 <addr>[/count] */
static int parse_conn(struct parser *ps, struct tok v)
{
	struct tok net, type, addr, rest;
	char buf[SDP_ADDR_SIZE];
	unsigned char bin[16];
	struct sdp_addr a = {0};

	if (!next_tok(&v, &net) || !next_tok(&v, &type) || !next_tok(&v, &addr))
		return fail(ps, "malformed c= line");
	if (!tok_is(net, "IN"))
		return fail(ps, "c= network type is not IN");
	split(addr, '/', &addr, &rest);
	if (tok_is(type, "IP4"))
		a.family = SDP_FAMILY_IP4;
	else if (tok_is(type, "IP6"))
		a.family = SDP_FAMILY_IP6;
	else
		return fail(ps, "c= address type is not IP4 or IP6");
	if (!copy_tok(addr, buf, sizeof(buf)) ||
	    inet_pton(a.family == SDP_FAMILY_IP4 ? AF_INET : AF_INET6, buf, bin) != 1)
		return fail(ps, a.family == SDP_FAMILY_IP4 ? "c= address is not an IPv4 address"
							   : "c= address is not an IPv6 address");
	memcpy(a.addr, buf, sizeof(buf));
	if (ps->m != NULL)
		ps->m->conn = a;
	else
		ps->s->conn = a;
	return 0;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
static int parse_media(struct parser *ps, struct tok v)
{
	struct sdp_session *s = ps->s;
	struct tok media, port, proto, fmt, count;
	int n;

	if (s->nmedia >= SDP_MAX_MEDIA)
		return fail(ps, "too many m= sections");
	struct sdp_media *m = &s->media[s->nmedia++];
	memset(m, 0, sizeof(*m));
	ps->m = m;
	m->conn = s->conn;
	m->dir = s->dir;
	m->t38.version = -1;

	if (!next_tok(&v, &media))
		return fail(ps, "m= line without media");
	if (!next_tok(&v, &port))
		return fail(ps, "m= line without port");
	if (!next_tok(&v, &proto))
		return fail(ps, "m= line without protocol");
	if (split(port, '/', &port, &count) && !parse_uint(count, 65535, &n))
		return fail(ps, "m= port count is not a number");
	if (!parse_uint(port, 65535, &m->port))
		return fail(ps, "m= port is not a number in 0..65535");
	if (!copy_tok(media, m->media, sizeof(m->media)) || !copy_tok(proto, m->proto, sizeof(m->proto)))
		return fail(ps, "m= media or protocol name too long");

	bool rtp = tok_is(media, "audio") && tok_is(proto, "RTP/AVP");
	bool udptl = tok_is(media, "image") && tok_is(proto, "udptl");
	bool t38 = false;
	int nfmt = 0;
	while (next_tok(&v, &fmt)) {
		if (nfmt == SDP_MAX_FORMATS)
			return fail(ps, "too many formats on an m= line");
		if (nfmt == 0 && !copy_tok(fmt, m->first_fmt, sizeof(m->first_fmt)))
			return fail(ps, "m= format too long");
		nfmt++;
		if (udptl && tok_is(fmt, "t38"))
			t38 = true;
		if (rtp) {
			struct sdp_format *f = &m->formats[m->nformats++];
			if (!parse_uint(fmt, 127, &f->pt))
				return fail(ps, "m= RTP payload type is not a number in 0..127");
			/* RFC 3551 static types; a=rtpmap may say otherwise. */
			f->codec = f->pt == 0	? SDP_CODEC_PCMU
				   : f->pt == 8 ? SDP_CODEC_PCMA
						: SDP_CODEC_UNKNOWN;
			f->clock = f->codec != SDP_CODEC_UNKNOWN ? 8000 : 0;
		}
	}
	if (nfmt == 0)
		return fail(ps, "m= line without formats");
	m->kind = rtp ? SDP_MEDIA_AUDIO : udptl && t38 ? SDP_MEDIA_IMAGE : SDP_MEDIA_OTHER;
	return 0;
}

/* a=rtpmap:<pt> <encoding>/<clock>[/<channels>] */
static int parse_rtpmap(struct parser *ps, struct tok v)
{
	struct tok pt, enc, name, clock, rest;
	int num, hz;

	if (!next_tok(&v, &pt) || !next_tok(&v, &enc) || !parse_uint(pt, 127, &num))
		return fail(ps, "malformed a=rtpmap");
	if (!split(enc, '/', &name, &rest))
		return fail(ps, "a=rtpmap without clock rate");
	split(rest, '/', &clock, &rest);
	if (!parse_uint(clock, 1000000, &hz) || hz == 0)
		return fail(ps, "a=rtpmap clock rate is not a number in 1..1000000");
	for (int i = 0; i < ps->m->nformats; i++) {
		struct sdp_format *f = &ps->m->formats[i];
		if (f->pt != num)
			continue;
		f->codec = tok_is(name, "PCMU")		     ? SDP_CODEC_PCMU
			   : tok_is(name, "PCMA")	     ? SDP_CODEC_PCMA
			   : tok_is(name, "telephone-event") ? SDP_CODEC_TELEPHONE_EVENT
							     : SDP_CODEC_UNKNOWN;
		f->clock = hz;
	}
	return 0;
}

/* Boolean T.38 attribute: true if present without a value or with one other than 0. */
static bool t38_bool(bool has_value, struct tok value)
{
	return !has_value || !tok_is(value, "0");
}

/* The numeric T.38 attributes, under both spellings where peers differ (research §2.1). */
static const struct {
	const char *name, *alias;
	long max;
	size_t offset; /* of the int in struct sdp_t38 */
	const char *error;
} t38_numbers[] = {
    {"T38FaxVersion", NULL, 255, offsetof(struct sdp_t38, version),
     "T38FaxVersion is not a number in 0..255"},
    {"T38MaxBitRate", "T38FaxMaxRate", 1000000, offsetof(struct sdp_t38, max_bit_rate),
     "T38MaxBitRate is not a number in 0..1000000"},
    {"T38FaxMaxBuffer", NULL, 1000000, offsetof(struct sdp_t38, max_buffer),
     "T38FaxMaxBuffer is not a number in 0..1000000"},
    {"T38FaxMaxDatagram", "T38MaxDatagram", 65535, offsetof(struct sdp_t38, max_datagram),
     "T38FaxMaxDatagram is not a number in 0..65535"},
};

static int parse_t38_attr(struct parser *ps, struct tok name, bool has_value, struct tok value)
{
	struct sdp_t38 *t = &ps->m->t38;

	for (size_t i = 0; i < sizeof(t38_numbers) / sizeof(t38_numbers[0]); i++) {
		if (!tok_is(name, t38_numbers[i].name) &&
		    (t38_numbers[i].alias == NULL || !tok_is(name, t38_numbers[i].alias)))
			continue;
		if (!parse_uint(value, t38_numbers[i].max, (int *)((char *)t + t38_numbers[i].offset)))
			return fail(ps, t38_numbers[i].error);
		return 0;
	}
	if (tok_is(name, "T38FaxRateManagement")) {
		if (tok_is(value, "localTCF"))
			t->rate = SDP_T38_RATE_LOCAL_TCF;
		else if (tok_is(value, "transferredTCF"))
			t->rate = SDP_T38_RATE_TRANSFERRED_TCF;
		else
			return fail(ps, "T38FaxRateManagement is not localTCF or transferredTCF");
	} else if (tok_is(name, "T38FaxUdpEC")) {
		/* Anything else (t38UDPNoEC, none, vendor words) is no error correction. */
		t->ec = tok_is(value, "t38UDPRedundancy") ? UDPTL_EC_REDUNDANCY
			: tok_is(value, "t38UDPFEC")	  ? UDPTL_EC_FEC
							  : UDPTL_EC_NONE;
	} else if (tok_is(name, "T38FaxFillBitRemoval")) {
		t->fill_bit_removal = t38_bool(has_value, value);
	} else if (tok_is(name, "T38FaxTranscodingMMR")) {
		t->mmr = t38_bool(has_value, value);
	} else if (tok_is(name, "T38FaxTranscodingJBIG")) {
		t->jbig = t38_bool(has_value, value);
	}
	return 0;
}

static int parse_attr(struct parser *ps, struct tok v)
{
	struct tok name, value;
	bool has_value = split(v, ':', &name, &value);
	name = trim(name);
	value = trim(value);

	static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	for (int d = 0; d < 4; d++) {
		if (tok_is(name, dirs[d])) {
			if (ps->m != NULL)
				ps->m->dir = (enum sdp_dir)d;
			else
				ps->s->dir = (enum sdp_dir)d;
			return 0;
		}
	}
	if (ps->m == NULL)
		return 0;
	if (tok_is(name, "rtpmap"))
		return ps->m->kind == SDP_MEDIA_AUDIO ? parse_rtpmap(ps, value) : 0;
	if (tok_is(name, "ptime")) {
		if (!parse_uint(value, 1000, &ps->m->ptime) || ps->m->ptime == 0)
			return fail(ps, "a=ptime is not a number in 1..1000");
		return 0;
	}
	if (ps->m->kind == SDP_MEDIA_IMAGE)
		return parse_t38_attr(ps, name, has_value, value);
	return 0;
}

int sdp_parse(const char *text, size_t len, struct sdp_session *out, const char **error_r)
{
	struct parser ps = {.s = out};
	const char *p = text, *end = text + len;
	bool seen_v = false;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		struct tok line = {p, (size_t)(eol - p)};
		p = nl != NULL ? nl + 1 : end;
		if (line.n > 0 && line.p[line.n - 1] == '\r')
			line.n--;
		if (line.n == 0)
			continue;
		for (size_t i = 0; i < line.n; i++) {
			unsigned char c = (unsigned char)line.p[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				*error_r = "control character in SDP";
				return -1;
			}
		}
		if (line.n < 2 || line.p[1] != '=') {
			*error_r = "SDP line is not <type>=<value>";
			return -1;
		}
		char type = line.p[0];
		struct tok v = {line.p + 2, line.n - 2};
		int r = 0;
		if (!seen_v) {
			if (type != 'v') {
				*error_r = "missing v= line";
				return -1;
			}
			if (!tok_is(trim(v), "0")) {
				*error_r = "SDP version is not 0";
				return -1;
			}
			seen_v = true;
			continue;
		}
		switch (type) {
		case 'o':
			r = ps.m == NULL ? parse_origin(&ps, v) : 0;
			break;
		case 'c':
			r = parse_conn(&ps, v);
			break;
		case 'm':
			r = parse_media(&ps, v);
			break;
		case 'a':
			r = parse_attr(&ps, v);
			break;
		default: /* s= i= u= e= p= b= t= r= z= k= and unknown types */
			break;
		}
		if (r < 0) {
			*error_r = ps.error;
			return -1;
		}
	}
	if (!seen_v) {
		*error_r = "missing v= line";
		return -1;
	}
	for (int i = 0; i < out->nmedia; i++) {
		if (out->media[i].port != 0 && out->media[i].conn.family == SDP_FAMILY_NONE) {
			*error_r = "m= section without c= line";
			return -1;
		}
	}
	return 0;
}

/* ---- writer ---- */

struct writer {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends a formatted line and CRLF. */
static void put(struct writer *w, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || w->overflow || w->size - w->len < (size_t)n + 3) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, line, (size_t)n);
	memcpy(w->buf + w->len + n, "\r\n", 3);
	w->len += (size_t)n + 2;
}

static int finish(struct writer *w)
{
	if (w->overflow || w->len > (size_t)INT32_MAX) {
		if (w->size > 0)
			w->buf[0] = '\0';
		return -1;
	}
	return (int)w->len;
}

static const char *ip_word(enum sdp_family f)
{
	return f == SDP_FAMILY_IP6 ? "IP6" : "IP4";
}

static bool local_addr_ok(const struct sdp_local *l)
{
	unsigned char bin[16];
	if (l->addr.family == SDP_FAMILY_NONE || memchr(l->addr.addr, '\0', sizeof(l->addr.addr)) == NULL)
		return false;
	return inet_pton(l->addr.family == SDP_FAMILY_IP6 ? AF_INET6 : AF_INET, l->addr.addr, bin) == 1;
}

static bool port_ok(int port)
{
	return port > 0 && port <= 65535;
}

static void put_header(struct writer *w, const struct sdp_local *l)
{
	const char *ip = ip_word(l->addr.family);
	put(w, "v=0");
	put(w, "o=faxgate %llu %llu IN %s %s", (unsigned long long)l->session_id,
	    (unsigned long long)l->session_version, ip, l->addr.addr);
	put(w, "s=faxgate");
	put(w, "c=IN %s %s", ip, l->addr.addr);
	put(w, "t=0 0");
}

static const char *codec_name(enum sdp_codec c)
{
	return c == SDP_CODEC_PCMA ? "PCMA" : "PCMU";
}

static const char *const dir_words[] = {"sendrecv", "sendonly", "recvonly", "inactive"};

static const char *ec_word(enum udptl_ec ec)
{
	return ec == UDPTL_EC_FEC ? "t38UDPFEC" : "t38UDPRedundancy";
}

static void put_t38(struct writer *w, int port, int version, int rate, enum sdp_t38_rate mgmt, int datagram,
		    enum udptl_ec ec)
{
	put(w, "m=image %d udptl t38", port);
	put(w, "a=T38FaxVersion:%d", version);
	put(w, "a=T38MaxBitRate:%d", rate);
	put(w, "a=T38FaxRateManagement:%s", mgmt == SDP_T38_RATE_LOCAL_TCF ? "localTCF" : "transferredTCF");
	put(w, "a=T38FaxMaxDatagram:%d", datagram);
	if (ec != UDPTL_EC_NONE)
		put(w, "a=T38FaxUdpEC:%s", ec_word(ec));
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int local_version(const struct sdp_local *l)
{
	return clamp(l->t38_version, 0, 3);
}

static int local_rate(const struct sdp_local *l)
{
	return l->t38_max_bit_rate > 0 ? l->t38_max_bit_rate : SDP_DEFAULT_T38_MAX_BIT_RATE;
}

static int local_datagram(const struct sdp_local *l)
{
	return l->t38_max_datagram > 0 ? clamp(l->t38_max_datagram, 1, UDPTL_MAX_DATAGRAM)
				       : SDP_DEFAULT_T38_MAX_DATAGRAM;
}

void sdp_local_default(struct sdp_local *local)
{
	memset(local, 0, sizeof(*local));
	local->pcma = true;
	local->pcmu = true;
	local->ptime = SDP_DEFAULT_PTIME;
	local->t38_version = SDP_DEFAULT_T38_VERSION;
	local->t38_max_bit_rate = SDP_DEFAULT_T38_MAX_BIT_RATE;
	local->t38_max_datagram = SDP_DEFAULT_T38_MAX_DATAGRAM;
	local->t38_ec = UDPTL_EC_REDUNDANCY;
	local->offer_mode = SDP_OFFER_AUDIO;
	local->prefer_t38 = true;
}

int sdp_write_offer(const struct sdp_local *l, char *out, size_t size)
{
	struct writer w = {out, size, 0, false};
	bool audio = l->offer_mode != SDP_OFFER_T38;
	bool image = l->offer_mode != SDP_OFFER_AUDIO;
	int pts[2], n = 0;

	if (l->pcma && !l->pcmu_first)
		pts[n++] = 8;
	if (l->pcmu)
		pts[n++] = 0;
	if (l->pcma && l->pcmu_first)
		pts[n++] = 8;
	if (!local_addr_ok(l) || (audio && (n == 0 || !port_ok(l->audio_port))) ||
	    (image && (!l->t38 || !port_ok(l->image_port))))
		return finish(&(struct writer){out, size, 0, true});

	put_header(&w, l);
	if (audio) {
		if (n == 2)
			put(&w, "m=audio %d RTP/AVP %d %d", l->audio_port, pts[0], pts[1]);
		else
			put(&w, "m=audio %d RTP/AVP %d", l->audio_port, pts[0]);
		for (int i = 0; i < n; i++)
			put(&w, "a=rtpmap:%d %s/8000", pts[i], pts[i] == 8 ? "PCMA" : "PCMU");
		if (l->ptime > 0)
			put(&w, "a=ptime:%d", l->ptime);
		put(&w, "a=sendrecv");
	} else if (l->audio_declined) {
		put(&w, "m=audio 0 RTP/AVP %d", n > 0 ? pts[0] : 8);
	}
	if (image)
		put_t38(&w, l->image_port, local_version(l), local_rate(l), SDP_T38_RATE_TRANSFERRED_TCF,
			local_datagram(l), l->t38_ec);
	return finish(&w);
}

/* The first offered format we do, or NULL. */
static const struct sdp_format *pick_codec(const struct sdp_local *l, const struct sdp_media *m)
{
	for (int i = 0; i < m->nformats; i++) {
		const struct sdp_format *f = &m->formats[i];
		if (f->clock == 8000 &&
		    ((f->codec == SDP_CODEC_PCMA && l->pcma) || (f->codec == SDP_CODEC_PCMU && l->pcmu)))
			return f;
	}
	return NULL;
}

static bool usable(const struct sdp_local *l, const struct sdp_media *m)
{
	return m->port != 0 && m->conn.family == l->addr.family;
}

/* RFC 3264 §6.1: our direction mirrors theirs. */
static enum sdp_dir mirror(enum sdp_dir d)
{
	return d == SDP_DIR_SENDONLY ? SDP_DIR_RECVONLY : d == SDP_DIR_RECVONLY ? SDP_DIR_SENDONLY : d;
}

static enum udptl_ec answer_ec(const struct sdp_local *l, enum udptl_ec theirs)
{
	if (theirs == UDPTL_EC_NONE || l->t38_ec == UDPTL_EC_NONE)
		return UDPTL_EC_NONE;
	if (theirs == UDPTL_EC_FEC && l->t38_ec == UDPTL_EC_FEC)
		return UDPTL_EC_FEC;
	return UDPTL_EC_REDUNDANCY;
}

static void fill_t38(const struct sdp_local *l, const struct sdp_t38 *t, struct sdp_answer_result *r)
{
	int ours = local_version(l), theirs = t->version >= 0 ? t->version : 0; /* Annex D default */
	r->t38_version = theirs < ours ? theirs : ours;
	r->t38_max_bit_rate =
	    t->max_bit_rate > 0 && t->max_bit_rate < local_rate(l) ? t->max_bit_rate : local_rate(l);
	r->t38_rate = t->rate != SDP_T38_RATE_ABSENT ? t->rate : SDP_T38_RATE_TRANSFERRED_TCF;
	r->t38_max_datagram = t->max_datagram > 0 && t->max_datagram <= UDPTL_MAX_DATAGRAM
				  ? t->max_datagram
				  : SDP_T38_FALLBACK_DATAGRAM;
	r->t38_ec = answer_ec(l, t->ec);
}

int sdp_answer(const struct sdp_local *l, const struct sdp_session *offer, struct sdp_answer_result *r,
	       char *out, size_t size)
{
	struct writer w = {out, size, 0, false};
	const struct sdp_format *codec = NULL;
	int audio = -1, image = -1, take;

	memset(r, 0, sizeof(*r));
	r->media_index = -1;
	if (!local_addr_ok(l))
		return finish(&(struct writer){out, size, 0, true});
	for (int i = 0; i < offer->nmedia; i++) {
		const struct sdp_media *m = &offer->media[i];
		if (!usable(l, m))
			continue;
		if (audio < 0 && m->kind == SDP_MEDIA_AUDIO && port_ok(l->audio_port) &&
		    (codec = pick_codec(l, m)) != NULL)
			audio = i;
		if (image < 0 && m->kind == SDP_MEDIA_IMAGE && l->t38 && port_ok(l->image_port))
			image = i;
	}
	take = audio >= 0 && image >= 0 ? (l->prefer_t38 ? image : audio) : audio >= 0 ? audio : image;
	if (take < 0) {
		r->status = 488;
		if (size > 0)
			out[0] = '\0';
		return 0;
	}

	const struct sdp_media *m = &offer->media[take];
	r->status = 200;
	r->kind = m->kind;
	r->media_index = take;
	r->remote = m->conn;
	r->remote_port = m->port;
	r->dir = mirror(m->dir);
	if (take == audio) {
		r->codec = codec->codec;
		r->payload_type = codec->pt;
		r->ptime = m->ptime > 0 ? m->ptime : SDP_DEFAULT_PTIME;
	} else {
		fill_t38(l, &m->t38, r);
	}

	put_header(&w, l);
	for (int i = 0; i < offer->nmedia; i++) {
		const struct sdp_media *o = &offer->media[i];
		if (i != take) {
			put(&w, "m=%s 0 %s %s", o->media, o->proto, o->first_fmt);
		} else if (take == audio) {
			put(&w, "m=audio %d RTP/AVP %d", l->audio_port, r->payload_type);
			put(&w, "a=rtpmap:%d %s/8000", r->payload_type, codec_name(r->codec));
			if (l->ptime > 0)
				put(&w, "a=ptime:%d", l->ptime);
			put(&w, "a=%s", dir_words[r->dir]);
		} else {
			put_t38(&w, l->image_port, r->t38_version, r->t38_max_bit_rate, r->t38_rate,
				local_datagram(l), r->t38_ec);
			if (r->dir != SDP_DIR_SENDRECV)
				put(&w, "a=%s", dir_words[r->dir]);
		}
	}
	return finish(&w);
}
