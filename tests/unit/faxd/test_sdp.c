/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the SDP core (faxd/sdp.c; RFC 4566, RFC 3264, T.38 Annex D / RFC 3362): offers in the
 * style of real peers (Cisco, AudioCodes, FreeSWITCH, Asterisk, plain G.711, audio + image,
 * declined streams, IPv6), written from the attribute notes in research/sip-t38.md §2.1; their
 * parse results and our answers (exact text for some, properties for all); every prefix of every
 * offer; malformed input with its error text; our offers; the T.38 answer rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/sdp.h"

/* ---- offers ---- */

static const char cisco_reinvite[] = "v=0\r\n"
				     "o=CiscoSystemsSIP-GW-UserAgent 4557 1234 IN IP4 192.0.2.10\r\n"
				     "s=SIP Call\r\n"
				     "c=IN IP4 192.0.2.10\r\n"
				     "t=0 0\r\n"
				     "m=image 17420 udptl t38\r\n"
				     "c=IN IP4 192.0.2.11\r\n"
				     "a=T38FaxVersion:0\r\n"
				     "a=T38MaxBitRate:14400\r\n"
				     "a=T38FaxFillBitRemoval:0\r\n"
				     "a=T38FaxTranscodingMMR:0\r\n"
				     "a=T38FaxTranscodingJBIG:0\r\n"
				     "a=T38FaxRateManagement:transferredTCF\r\n"
				     "a=T38FaxMaxBuffer:200\r\n"
				     "a=T38FaxMaxDatagram:320\r\n"
				     "a=T38FaxUdpEC:t38UDPRedundancy\r\n";

static const char audiocodes[] = "v=0\r\n"
				 "o=AudiocodesGW 1906 1605 IN IP4 198.51.100.7\r\n"
				 "s=Phone-Call\r\n"
				 "c=IN IP4 198.51.100.7\r\n"
				 "t=0 0\r\n"
				 "m=image 6010 udptl t38\r\n"
				 "a=T38FaxVersion:3\r\n"
				 "a=T38MaxBitRate:33600\r\n"
				 "a=T38FaxMaxBuffer:3000\r\n"
				 "a=T38FaxMaxDatagram:122\r\n"
				 "a=T38FaxRateManagement:transferredTCF\r\n"
				 "a=T38FaxUdpEC:t38UDPFEC\r\n"
				 "a=T38FaxTranscodingJBIG\r\n"
				 "a=sendrecv\r\n";

static const char freeswitch_audio[] = "v=0\r\n"
				       "o=FreeSWITCH 1700000000 1700000001 IN IP4 203.0.113.20\r\n"
				       "s=FreeSWITCH\r\n"
				       "c=IN IP4 203.0.113.20\r\n"
				       "t=0 0\r\n"
				       "m=audio 16384 RTP/AVP 9 0 8 101 13\r\n"
				       "a=rtpmap:9 G722/8000\r\n"
				       "a=rtpmap:0 PCMU/8000\r\n"
				       "a=rtpmap:8 PCMA/8000\r\n"
				       "a=rtpmap:101 telephone-event/8000\r\n"
				       "a=fmtp:101 0-16\r\n"
				       "a=rtpmap:13 CN/8000\r\n"
				       "a=ptime:20\r\n";

static const char freeswitch_t38[] = "v=0\r\n"
				     "o=FreeSWITCH 1700000000 1700000002 IN IP4 203.0.113.20\r\n"
				     "s=FreeSWITCH\r\n"
				     "c=IN IP4 203.0.113.20\r\n"
				     "t=0 0\r\n"
				     "m=image 24000 udptl t38\r\n"
				     "a=T38FaxVersion:0\r\n"
				     "a=T38MaxBitRate:14400\r\n"
				     "a=T38FaxFillBitRemoval\r\n"
				     "a=T38FaxRateManagement:transferredTCF\r\n"
				     "a=T38FaxMaxBuffer:2000\r\n"
				     "a=T38FaxMaxDatagram:400\r\n"
				     "a=T38FaxUdpEC:t38UDPRedundancy\r\n"
				     "a=T38VendorInfo:0 0 0\r\n";

/* Older spellings, LF line ends, an oversized datagram and a rate management to echo. */
static const char asterisk_t38[] = "v=0\n"
				   "o=- 1000 1002 IN IP4 192.0.2.50\n"
				   "s=Asterisk\n"
				   "c=IN IP4 192.0.2.50\n"
				   "t=0 0\n"
				   "m=image 4000 udptl t38\n"
				   "a=T38FaxVersion:1\n"
				   "a=T38FaxMaxRate:9600\n"
				   "a=T38FaxFillBitRemoval:0\n"
				   "a=T38FaxRateManagement:localTCF\n"
				   "a=T38MaxDatagram:1600\n"
				   "a=T38FaxUdpEC:t38UDPRedundancy\n";

static const char pcmu_only[] = "v=0\r\n"
				"o=user 53655765 2353687637 IN IP4 192.0.2.77\r\n"
				"s=-\r\n"
				"c=IN IP4 192.0.2.77\r\n"
				"t=0 0\r\n"
				"m=audio 49170 RTP/AVP 0\r\n";

static const char audio_and_image[] = "v=0\r\n"
				      "o=gw 77 1 IN IP4 198.51.100.30\r\n"
				      "s=-\r\n"
				      "c=IN IP4 198.51.100.30\r\n"
				      "t=0 0\r\n"
				      "m=audio 5004 RTP/AVP 8 101\r\n"
				      "a=rtpmap:8 PCMA/8000\r\n"
				      "a=rtpmap:101 telephone-event/8000\r\n"
				      "a=fmtp:101 0-15\r\n"
				      "m=image 5006 udptl t38\r\n"
				      "a=T38FaxVersion:2\r\n"
				      "a=T38MaxBitRate:14400\r\n"
				      "a=T38FaxUdpEC:t38UDPFEC\r\n";

static const char declined[] = "v=0\r\n"
			       "o=- 5 6 IN IP4 192.0.2.90\r\n"
			       "s=-\r\n"
			       "c=IN IP4 192.0.2.90\r\n"
			       "t=0 0\r\n"
			       "m=audio 0 RTP/AVP 8\r\n"
			       "m=video 0 RTP/AVP 31\r\n"
			       "m=image 5008 udptl t38\r\n"
			       "a=T38FaxVersion:0\r\n";

static const char ipv6[] = "v=0\r\n"
			   "o=- 1 1 IN IP6 2001:db8::5\r\n"
			   "s=-\r\n"
			   "c=IN IP6 2001:db8::5\r\n"
			   "t=0 0\r\n"
			   "m=audio 30000 RTP/AVP 8 0\r\n"
			   "a=sendonly\r\n"
			   "a=ptime:30\r\n";

/* A dynamic payload type mapped to PCMA, after one we do not do. */
static const char dynamic_pcma[] = "v=0\r\n"
				   "o=x 1 1 IN IP4 192.0.2.1\r\n"
				   "s=-\r\n"
				   "t=0 0\r\n"
				   "m=audio 7000 RTP/AVP 18 96\r\n"
				   "c=IN IP4 192.0.2.2\r\n"
				   "a=rtpmap:18 G729/8000\r\n"
				   "a=rtpmap:96 pcma/8000\r\n";

static const char g729_only[] = "v=0\r\n"
				"o=x 1 1 IN IP4 192.0.2.1\r\n"
				"s=-\r\n"
				"c=IN IP4 192.0.2.1\r\n"
				"t=0 0\r\n"
				"m=audio 7000 RTP/AVP 18\r\n"
				"a=rtpmap:18 G729/8000\r\n";

/* ---- helpers ---- */

/* Parses an exact-size heap copy, so ASan builds catch reads past the end. */
static int parse_exact(const char *text, size_t len, struct sdp_session *s, const char **error_r)
{
	char *copy = g_malloc(len ? len : 1);
	memcpy(copy, text, len);
	*error_r = NULL;
	int r = sdp_parse(copy, len, s, error_r);
	g_free(copy);
	return r;
}

/* Parses sdp, which must parse, and answers it: sdp_answer()'s return value. */
static int parse_and_answer(const char *sdp, const struct sdp_local *l, struct sdp_session *s,
			    struct sdp_answer_result *r, char *out, size_t size)
{
	const char *error;
	assert_int_equal(parse_exact(sdp, strlen(sdp), s, &error), 0);
	return sdp_answer(l, s, r, out, size);
}

static void local4(struct sdp_local *l)
{
	sdp_local_default(l);
	l->addr.family = SDP_FAMILY_IP4;
	strcpy(l->addr.addr, "192.0.2.200");
	l->audio_port = 40000;
	l->image_port = 40002;
	l->session_id = 42;
	l->session_version = 1;
	l->t38 = true;
}

static void local6(struct sdp_local *l)
{
	local4(l);
	l->addr.family = SDP_FAMILY_IP6;
	strcpy(l->addr.addr, "2001:db8::200");
}

/* The properties every answer has: it parses, matches the offer line for line, takes exactly
   one stream on our port and claims nothing we do not do. */
static void check_answer_properties(const struct sdp_local *l, const struct sdp_session *offer,
				    const struct sdp_answer_result *r, const char *text, int len)
{
	struct sdp_session ans;
	const char *error;
	assert_int_equal(r->status, 200);
	assert_int_equal((int)strlen(text), len);
	assert_int_equal(parse_exact(text, (size_t)len, &ans, &error), 0);
	assert_int_equal(ans.nmedia, offer->nmedia);
	assert_string_equal(ans.conn.addr, l->addr.addr);
	int taken = 0;
	for (int i = 0; i < ans.nmedia; i++) {
		const struct sdp_media *a = &ans.media[i], *o = &offer->media[i];
		assert_string_equal(a->media, o->media);
		assert_string_equal(a->proto, o->proto);
		assert_false(a->t38.fill_bit_removal || a->t38.mmr || a->t38.jbig);
		if (a->port == 0)
			continue;
		taken++;
		assert_int_equal(i, r->media_index);
		assert_int_equal(a->kind, r->kind);
		assert_int_equal(a->dir, r->dir);
		if (a->kind == SDP_MEDIA_AUDIO) {
			assert_int_equal(a->port, l->audio_port);
			assert_int_equal(a->nformats, 1);
			assert_int_equal(a->formats[0].pt, r->payload_type);
			assert_int_equal(a->formats[0].codec, r->codec);
		} else {
			assert_int_equal(a->kind, SDP_MEDIA_IMAGE);
			assert_int_equal(a->port, l->image_port);
			assert_true(a->t38.version <= l->t38_version);
			assert_true(a->t38.version <= (o->t38.version < 0 ? 0 : o->t38.version));
			assert_int_equal(a->t38.max_datagram, l->t38_max_datagram);
			assert_int_equal(a->t38.ec, r->t38_ec);
			assert_true(a->t38.ec == UDPTL_EC_NONE || o->t38.ec != UDPTL_EC_NONE);
			assert_int_equal(a->t38.rate, r->t38_rate);
		}
	}
	assert_int_equal(taken, 1);
}

/* ---- table of real-world offers ---- */

struct offer_case {
	const char *name, *sdp;
	int nmedia;
	int image; /* index of the m=image section to check, -1 none */
	struct sdp_t38 t38;
	/* the answer with local4()/local6() (prefer T.38) */
	bool v6;
	int status, kind, index, pt, port, ptime;
	const char *remote;
	int version, datagram, ec, rate, bit_rate;
};

#define T38(v, br, rm, buf, dg, e, f, m, j)                                                                  \
	{                                                                                                    \
		v, br, SDP_T38_RATE_##rm, buf, dg, UDPTL_EC_##e, f, m, j                                     \
	}
#define NO_T38 T38(-1, 0, ABSENT, 0, 0, NONE, false, false, false)

static const struct offer_case offer_cases[] = {
    {"cisco", cisco_reinvite, 1, 0, T38(0, 14400, TRANSFERRED_TCF, 200, 320, REDUNDANCY, false, false, false),
     false, 200, SDP_MEDIA_IMAGE, 0, 0, 17420, 0, "192.0.2.11", 0, 320, UDPTL_EC_REDUNDANCY,
     SDP_T38_RATE_TRANSFERRED_TCF, 14400},
    {"audiocodes", audiocodes, 1, 0, T38(3, 33600, TRANSFERRED_TCF, 3000, 122, FEC, false, false, true),
     false, 200, SDP_MEDIA_IMAGE, 0, 0, 6010, 0, "198.51.100.7", 0, 122, UDPTL_EC_REDUNDANCY,
     SDP_T38_RATE_TRANSFERRED_TCF, 14400},
    {"freeswitch_audio", freeswitch_audio, 1, -1, NO_T38, false, 200, SDP_MEDIA_AUDIO, 0, 0, 16384, 20,
     "203.0.113.20", 0, 0, 0, 0, 0},
    {"freeswitch_t38", freeswitch_t38, 1, 0,
     T38(0, 14400, TRANSFERRED_TCF, 2000, 400, REDUNDANCY, true, false, false), false, 200, SDP_MEDIA_IMAGE,
     0, 0, 24000, 0, "203.0.113.20", 0, 400, UDPTL_EC_REDUNDANCY, SDP_T38_RATE_TRANSFERRED_TCF, 14400},
    {"asterisk_t38", asterisk_t38, 1, 0, T38(1, 9600, LOCAL_TCF, 0, 1600, REDUNDANCY, false, false, false),
     false, 200, SDP_MEDIA_IMAGE, 0, 0, 4000, 0, "192.0.2.50", 0, 400, UDPTL_EC_REDUNDANCY,
     SDP_T38_RATE_LOCAL_TCF, 9600},
    {"pcmu_only", pcmu_only, 1, -1, NO_T38, false, 200, SDP_MEDIA_AUDIO, 0, 0, 49170, 20, "192.0.2.77", 0, 0,
     0, 0, 0},
    {"audio_and_image", audio_and_image, 2, 1, T38(2, 14400, ABSENT, 0, 0, FEC, false, false, false), false,
     200, SDP_MEDIA_IMAGE, 1, 0, 5006, 0, "198.51.100.30", 0, 400, UDPTL_EC_REDUNDANCY,
     SDP_T38_RATE_TRANSFERRED_TCF, 14400},
    {"declined", declined, 3, 2, T38(0, 0, ABSENT, 0, 0, NONE, false, false, false), false, 200,
     SDP_MEDIA_IMAGE, 2, 0, 5008, 0, "192.0.2.90", 0, 400, UDPTL_EC_NONE, SDP_T38_RATE_TRANSFERRED_TCF,
     14400},
    {"ipv6", ipv6, 1, -1, NO_T38, true, 200, SDP_MEDIA_AUDIO, 0, 8, 30000, 30, "2001:db8::5", 0, 0, 0, 0, 0},
    {"dynamic_pcma", dynamic_pcma, 1, -1, NO_T38, false, 200, SDP_MEDIA_AUDIO, 0, 96, 7000, 20, "192.0.2.2",
     0, 0, 0, 0, 0},
    {"g729_only", g729_only, 1, -1, NO_T38, false, 488, 0, -1, 0, 0, 0, NULL, 0, 0, 0, 0, 0},
};

static void test_offers(void **state)
{
	for (size_t c = 0; c < G_N_ELEMENTS(offer_cases); c++) {
		const struct offer_case *oc = &offer_cases[c];
		struct sdp_session s;
		struct sdp_local l;
		struct sdp_answer_result r;
		const char *error;
		char out[2048];

		print_message("offer %s\n", oc->name);
		assert_int_equal(parse_exact(oc->sdp, strlen(oc->sdp), &s, &error), 0);
		assert_int_equal(s.nmedia, oc->nmedia);
		if (oc->image >= 0) {
			const struct sdp_t38 *t = &s.media[oc->image].t38, *e = &oc->t38;
			assert_int_equal(s.media[oc->image].kind, SDP_MEDIA_IMAGE);
			assert_int_equal(t->version, e->version);
			assert_int_equal(t->max_bit_rate, e->max_bit_rate);
			assert_int_equal(t->rate, e->rate);
			assert_int_equal(t->max_buffer, e->max_buffer);
			assert_int_equal(t->max_datagram, e->max_datagram);
			assert_int_equal(t->ec, e->ec);
			assert_int_equal(t->fill_bit_removal, e->fill_bit_removal);
			assert_int_equal(t->mmr, e->mmr);
			assert_int_equal(t->jbig, e->jbig);
		}

		if (oc->v6)
			local6(&l);
		else
			local4(&l);
		int n = sdp_answer(&l, &s, &r, out, sizeof(out));
		assert_int_equal(r.status, oc->status);
		if (oc->status == 488) {
			assert_int_equal(n, 0);
			assert_string_equal(out, "");
			continue;
		}
		check_answer_properties(&l, &s, &r, out, n);
		assert_int_equal(r.kind, oc->kind);
		assert_int_equal(r.media_index, oc->index);
		assert_int_equal(r.remote_port, oc->port);
		assert_string_equal(r.remote.addr, oc->remote);
		if (r.kind == SDP_MEDIA_AUDIO) {
			assert_int_equal(r.payload_type, oc->pt);
			assert_int_equal(r.ptime, oc->ptime);
		} else {
			assert_int_equal(r.t38_version, oc->version);
			assert_int_equal(r.t38_max_datagram, oc->datagram);
			assert_int_equal(r.t38_ec, oc->ec);
			assert_int_equal(r.t38_rate, oc->rate);
			assert_int_equal(r.t38_max_bit_rate, oc->bit_rate);
		}

		/* Every output size short of the answer fails cleanly. */
		for (size_t size = 0; size <= (size_t)n; size++) {
			char small[2048];
			struct sdp_answer_result r2;
			assert_int_equal(sdp_answer(&l, &s, &r2, small, size), -1);
		}
		assert_int_equal(sdp_answer(&l, &s, &r, out, (size_t)n + 1), n);
	}
}

/* Every prefix parses or fails with an error text; LF-only gives the same answer as CRLF. */
static void test_prefixes_and_line_ends(void **state)
{
	for (size_t c = 0; c < G_N_ELEMENTS(offer_cases); c++) {
		const char *sdp = offer_cases[c].sdp;
		size_t len = strlen(sdp);
		struct sdp_session s;
		const char *error;
		for (size_t n = 0; n <= len; n++) {
			if (parse_exact(sdp, n, &s, &error) < 0) {
				assert_non_null(error);
				assert_true(error[0] != '\0');
			} else {
				assert_true(s.nmedia <= SDP_MAX_MEDIA);
			}
		}

		GString *lf = g_string_new(NULL);
		for (size_t i = 0; i < len; i++) {
			if (sdp[i] != '\r')
				g_string_append_c(lf, sdp[i]);
		}
		struct sdp_session a, b;
		struct sdp_local l;
		struct sdp_answer_result ra, rb;
		char out_a[2048], out_b[2048];
		offer_cases[c].v6 ? local6(&l) : local4(&l);
		assert_int_equal(parse_exact(sdp, len, &a, &error), 0);
		assert_int_equal(parse_exact(lf->str, lf->len, &b, &error), 0);
		assert_int_equal(sdp_answer(&l, &a, &ra, out_a, sizeof(out_a)),
				 sdp_answer(&l, &b, &rb, out_b, sizeof(out_b)));
		assert_string_equal(out_a, out_b);
		g_string_free(lf, TRUE);
	}
}

static void test_answer_text(void **state)
{
	struct sdp_session s;
	struct sdp_local l;
	struct sdp_answer_result r;
	char out[2048];

	local4(&l);
	assert_true(parse_and_answer(pcmu_only, &l, &s, &r, out, sizeof(out)) > 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=faxgate 42 1 IN IP4 192.0.2.200\r\n"
				 "s=faxgate\r\n"
				 "c=IN IP4 192.0.2.200\r\n"
				 "t=0 0\r\n"
				 "m=audio 40000 RTP/AVP 0\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n");

	assert_true(parse_and_answer(audio_and_image, &l, &s, &r, out, sizeof(out)) > 0);
	assert_string_equal(out, "v=0\r\n"
				 "o=faxgate 42 1 IN IP4 192.0.2.200\r\n"
				 "s=faxgate\r\n"
				 "c=IN IP4 192.0.2.200\r\n"
				 "t=0 0\r\n"
				 "m=audio 0 RTP/AVP 8\r\n"
				 "m=image 40002 udptl t38\r\n"
				 "a=T38FaxVersion:0\r\n"
				 "a=T38MaxBitRate:14400\r\n"
				 "a=T38FaxRateManagement:transferredTCF\r\n"
				 "a=T38FaxMaxDatagram:400\r\n"
				 "a=T38FaxUdpEC:t38UDPRedundancy\r\n");

	/* Preferring audio, or without T.38, the same offer gets PCMA and a declined image. */
	l.prefer_t38 = false;
	assert_true(sdp_answer(&l, &s, &r, out, sizeof(out)) > 0);
	assert_int_equal(r.kind, SDP_MEDIA_AUDIO);
	assert_int_equal(r.codec, SDP_CODEC_PCMA);
	assert_non_null(strstr(out, "m=audio 40000 RTP/AVP 8\r\n"));
	assert_non_null(strstr(out, "m=image 0 udptl t38\r\n"));
	l.prefer_t38 = true;
	l.t38 = false;
	assert_true(sdp_answer(&l, &s, &r, out, sizeof(out)) > 0);
	assert_int_equal(r.kind, SDP_MEDIA_AUDIO);

	/* sendonly is answered recvonly. */
	local6(&l);
	assert_true(parse_and_answer(ipv6, &l, &s, &r, out, sizeof(out)) > 0);
	assert_int_equal(r.dir, SDP_DIR_RECVONLY);
	assert_non_null(strstr(out, "c=IN IP6 2001:db8::200\r\n"));
	assert_non_null(strstr(out, "a=recvonly\r\n"));
}

static void test_answer_refusals(void **state)
{
	struct sdp_session s;
	struct sdp_local l;
	struct sdp_answer_result r;
	char out[2048];

	/* An IPv6 offer to an IPv4-only side. */
	local4(&l);
	assert_int_equal(parse_and_answer(ipv6, &l, &s, &r, out, sizeof(out)), 0);
	assert_int_equal(r.status, 488);
	/* T.38 only, and we do not do T.38. */
	l.t38 = false;
	assert_int_equal(parse_and_answer(cisco_reinvite, &l, &s, &r, out, sizeof(out)), 0);
	assert_int_equal(r.status, 488);
	/* PCMU only, and we do only PCMA. */
	local4(&l);
	l.pcmu = false;
	assert_int_equal(parse_and_answer(pcmu_only, &l, &s, &r, out, sizeof(out)), 0);
	assert_int_equal(r.status, 488);
	/* No usable local address. */
	local4(&l);
	strcpy(l.addr.addr, "not-an-address");
	assert_int_equal(sdp_answer(&l, &s, &r, out, sizeof(out)), -1);
}

/* Answers freeswitch_t38 with its EC and version replaced by theirs, under ours. */
static void answer_t38(enum udptl_ec our_ec, int our_version, enum udptl_ec their_ec, int their_version,
		       struct sdp_answer_result *r)
{
	struct sdp_session s;
	struct sdp_local l;
	const char *error;
	char out[2048];
	assert_int_equal(parse_exact(freeswitch_t38, strlen(freeswitch_t38), &s, &error), 0);
	s.media[0].t38.ec = their_ec;
	s.media[0].t38.version = their_version;
	local4(&l);
	l.t38_ec = our_ec;
	l.t38_version = our_version;
	int n = sdp_answer(&l, &s, r, out, sizeof(out));
	check_answer_properties(&l, &s, r, out, n);
}

/* T38FaxUdpEC in the answer: (ours, theirs) -> answered. */
static void test_t38_ec_rules(void **state)
{
	static const struct {
		enum udptl_ec ours, theirs, answered;
	} cases[] = {
	    {UDPTL_EC_REDUNDANCY, UDPTL_EC_REDUNDANCY, UDPTL_EC_REDUNDANCY},
	    {UDPTL_EC_REDUNDANCY, UDPTL_EC_FEC, UDPTL_EC_REDUNDANCY},
	    {UDPTL_EC_REDUNDANCY, UDPTL_EC_NONE, UDPTL_EC_NONE},
	    {UDPTL_EC_FEC, UDPTL_EC_FEC, UDPTL_EC_FEC},
	    {UDPTL_EC_FEC, UDPTL_EC_REDUNDANCY, UDPTL_EC_REDUNDANCY},
	    {UDPTL_EC_FEC, UDPTL_EC_NONE, UDPTL_EC_NONE},
	    {UDPTL_EC_NONE, UDPTL_EC_FEC, UDPTL_EC_NONE},
	    {UDPTL_EC_NONE, UDPTL_EC_REDUNDANCY, UDPTL_EC_NONE},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sdp_answer_result r;
		answer_t38(cases[i].ours, 0, cases[i].theirs, 0, &r);
		assert_int_equal(r.t38_ec, cases[i].answered);
	}
}

/* T38FaxVersion in the answer: min(ours, theirs), theirs absent = 0, ours at most 3. */
static void test_t38_version_rules(void **state)
{
	static const int cases[][3] = {{0, 3, 0}, {3, 1, 1}, {3, -1, 0}, {2, 2, 2}, {3, 200, 3}, {9, 5, 3}};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sdp_answer_result r;
		answer_t38(UDPTL_EC_REDUNDANCY, cases[i][0], UDPTL_EC_REDUNDANCY, cases[i][1], &r);
		assert_int_equal(r.t38_version, cases[i][2]);
	}
}

static void test_offer_text(void **state)
{
	struct sdp_local l;
	struct sdp_session s;
	const char *error;
	char out[2048];

	local4(&l);
	int n = sdp_write_offer(&l, out, sizeof(out));
	assert_string_equal(out, "v=0\r\n"
				 "o=faxgate 42 1 IN IP4 192.0.2.200\r\n"
				 "s=faxgate\r\n"
				 "c=IN IP4 192.0.2.200\r\n"
				 "t=0 0\r\n"
				 "m=audio 40000 RTP/AVP 8 0\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n");
	for (size_t size = 0; size <= (size_t)n; size++)
		assert_int_equal(sdp_write_offer(&l, out, size), -1);

	l.pcmu_first = true;
	l.offer_mode = SDP_OFFER_AUDIO_T38;
	l.t38_ec = UDPTL_EC_FEC;
	l.t38_max_bit_rate = 9600;
	assert_true(sdp_write_offer(&l, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "m=audio 40000 RTP/AVP 0 8\r\n"));
	assert_non_null(strstr(out, "m=image 40002 udptl t38\r\n"
				    "a=T38FaxVersion:0\r\n"
				    "a=T38MaxBitRate:9600\r\n"
				    "a=T38FaxRateManagement:transferredTCF\r\n"
				    "a=T38FaxMaxDatagram:400\r\n"
				    "a=T38FaxUdpEC:t38UDPFEC\r\n"));
	assert_int_equal(parse_exact(out, strlen(out), &s, &error), 0);
	assert_int_equal(s.nmedia, 2);
	assert_int_equal(s.media[1].t38.ec, UDPTL_EC_FEC);

	/* A T.38 re-INVITE, with the audio stream kept at port 0 or left out. */
	l.offer_mode = SDP_OFFER_T38;
	l.audio_declined = true;
	l.t38_ec = UDPTL_EC_NONE;
	assert_true(sdp_write_offer(&l, out, sizeof(out)) > 0);
	assert_int_equal(parse_exact(out, strlen(out), &s, &error), 0);
	assert_int_equal(s.nmedia, 2);
	assert_int_equal(s.media[0].port, 0);
	assert_int_equal(s.media[1].kind, SDP_MEDIA_IMAGE);
	assert_null(strstr(out, "T38FaxUdpEC"));
	l.audio_declined = false;
	assert_true(sdp_write_offer(&l, out, sizeof(out)) > 0);
	assert_int_equal(parse_exact(out, strlen(out), &s, &error), 0);
	assert_int_equal(s.nmedia, 1);
	assert_int_equal(s.media[0].kind, SDP_MEDIA_IMAGE);

	/* Nothing to offer. */
	l.t38 = false;
	assert_int_equal(sdp_write_offer(&l, out, sizeof(out)), -1);
	local6(&l);
	l.pcma = l.pcmu = false;
	assert_int_equal(sdp_write_offer(&l, out, sizeof(out)), -1);
	l.pcma = true;
	assert_true(sdp_write_offer(&l, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "c=IN IP6 2001:db8::200\r\n"));
}

static void test_malformed(void **state)
{
#define HEAD "v=0\r\nc=IN IP4 192.0.2.1\r\n"
#define IMG HEAD "m=image 5000 udptl t38\r\n"
	static const struct {
		const char *sdp, *error;
	} cases[] = {
	    {"", "missing v= line"},
	    {"\r\n\r\n", "missing v= line"},
	    {"s=x\r\nv=0\r\n", "missing v= line"},
	    {"garbage", "SDP line is not <type>=<value>"},
	    {"v=1\r\n", "SDP version is not 0"},
	    {"v=0\r\nx\r\n", "SDP line is not <type>=<value>"},
	    {"v=0\r\ns=a\001b\r\n", "control character in SDP"},
	    {"v=0\rs=x\r\n", "control character in SDP"},
	    {"v=0\r\no=foo 1\r\n", "malformed o= line"},
	    {"v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n",
	     "o= session id or version is not a number of at most 31 digits"},
	    {"v=0\r\nc=IN IP4\r\n", "malformed c= line"},
	    {"v=0\r\nc=ATM NSAP x\r\n", "c= network type is not IN"},
	    {"v=0\r\nc=IN IPX 1.2.3.4\r\n", "c= address type is not IP4 or IP6"},
	    {"v=0\r\nc=IN IP4 999.1.2.3\r\n", "c= address is not an IPv4 address"},
	    {"v=0\r\nc=IN IP4 gw.example.com\r\n", "c= address is not an IPv4 address"},
	    {"v=0\r\nc=IN IP6 192.0.2.1\r\n", "c= address is not an IPv6 address"},
	    {"v=0\r\nm=\r\n", "m= line without media"},
	    {"v=0\r\nm=audio\r\n", "m= line without port"},
	    {"v=0\r\nm=audio 5000\r\n", "m= line without protocol"},
	    {HEAD "m=audio 5000 RTP/AVP\r\n", "m= line without formats"},
	    {HEAD "m=audio 70000 RTP/AVP 0\r\n", "m= port is not a number in 0..65535"},
	    {HEAD "m=audio -1 RTP/AVP 0\r\n", "m= port is not a number in 0..65535"},
	    {HEAD "m=audio 5000/x RTP/AVP 0\r\n", "m= port count is not a number"},
	    {HEAD "m=audio 5000 RTP/AVP 128\r\n", "m= RTP payload type is not a number in 0..127"},
	    {HEAD "m=audio 5000 RTP/AVP PCMU\r\n", "m= RTP payload type is not a number in 0..127"},
	    {HEAD "m=audio 5000 RTP/AVP 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 "
		  "26 27 28 "
		  "29 30 31 32\r\n",
	     "too many formats on an m= line"},
	    {HEAD
	     "m=a 0 x y\r\nm=a 0 x y\r\nm=a 0 x y\r\nm=a 0 x y\r\nm=a 0 x y\r\nm=a 0 x y\r\nm=a 0 x y\r\n"
	     "m=a 0 x y\r\nm=a 0 x y\r\n",
	     "too many m= sections"},
	    {HEAD "m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", "a=rtpmap without clock rate"},
	    {HEAD "m=audio 5000 RTP/AVP 0\r\na=rtpmap:x PCMU/8000\r\n", "malformed a=rtpmap"},
	    {HEAD "m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/0\r\n",
	     "a=rtpmap clock rate is not a number in 1..1000000"},
	    {HEAD "m=audio 5000 RTP/AVP 0\r\na=ptime:0\r\n", "a=ptime is not a number in 1..1000"},
	    {HEAD "m=audio 5000 RTP/AVP 0\r\na=ptime:\r\n", "a=ptime is not a number in 1..1000"},
	    {IMG "a=T38FaxVersion:x\r\n", "T38FaxVersion is not a number in 0..255"},
	    {IMG "a=T38FaxMaxRate:99999999999\r\n", "T38MaxBitRate is not a number in 0..1000000"},
	    {IMG "a=T38FaxMaxBuffer\r\n", "T38FaxMaxBuffer is not a number in 0..1000000"},
	    {IMG "a=T38MaxDatagram:70000\r\n", "T38FaxMaxDatagram is not a number in 0..65535"},
	    {IMG "a=T38FaxRateManagement:someTCF\r\n",
	     "T38FaxRateManagement is not localTCF or transferredTCF"},
	    {"v=0\r\nm=audio 5000 RTP/AVP 0\r\n", "m= section without c= line"},
	    {"v=0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\nm=image 5002 udptl t38\r\n",
	     "m= section without c= line"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sdp_session s;
		const char *error;
		print_message("malformed %zu\n", i);
		assert_int_equal(parse_exact(cases[i].sdp, strlen(cases[i].sdp), &s, &error), -1);
		assert_string_equal(error, cases[i].error);
	}

	/* A NUL byte is a control character, not an end. */
	static const char nul[] = "v=0\r\ns=a\0b\r\n";
	struct sdp_session s;
	const char *error;
	assert_int_equal(parse_exact(nul, sizeof(nul) - 1, &s, &error), -1);
	assert_string_equal(error, "control character in SDP");
}

/* What is tolerated: unknown lines and attributes, a missing final newline, port 0 without c=,
   multicast suffixes, a value-less boolean, odd T38FaxUdpEC words, other protocols. */
static void test_tolerated(void **state)
{
	static const char sdp[] = "v=0\n\n"
				  "o=- 1 2 IN IP4 host.example.com\n"
				  "z=unknown\n"
				  "q=what\n"
				  "c=IN IP4 233.252.0.1/127\n"
				  "a=recvonly\n"
				  "m=video 0 RTP/AVP 31\n"
				  "m=audio 5000/2 RTP/SAVP 0\n"
				  "m=audio 5002 RTP/AVP 0 101\n"
				  "a=rtpmap:101 Telephone-Event/8000\n"
				  "a=rtpmap:55 PCMU/8000\n"
				  "a=x-vendor:anything at all\n"
				  "m=image 5004 udptl t38\n"
				  "a=T38FaxUdpEC:t38UDPNoEC\n"
				  "a=T38FaxTranscodingMMR:1\n"
				  "a=sendrecv";
	struct sdp_session s;
	const char *error;
	assert_int_equal(parse_exact(sdp, sizeof(sdp) - 1, &s, &error), 0);
	assert_int_equal(s.nmedia, 4);
	assert_string_equal(s.origin_version, "2");
	assert_int_equal(s.media[0].kind, SDP_MEDIA_OTHER);
	assert_int_equal(s.media[1].kind, SDP_MEDIA_OTHER);
	assert_int_equal(s.media[1].port, 5000);
	assert_int_equal(s.media[2].kind, SDP_MEDIA_AUDIO);
	assert_string_equal(s.media[2].conn.addr, "233.252.0.1");
	assert_int_equal(s.media[2].dir, SDP_DIR_RECVONLY);
	assert_int_equal(s.media[2].nformats, 2);
	assert_int_equal(s.media[2].formats[1].codec, SDP_CODEC_TELEPHONE_EVENT);
	assert_int_equal(s.media[3].kind, SDP_MEDIA_IMAGE);
	assert_int_equal(s.media[3].t38.ec, UDPTL_EC_NONE);
	assert_true(s.media[3].t38.mmr);
	assert_int_equal(s.media[3].dir, SDP_DIR_SENDRECV);

	/* The answer takes the image stream, echoes no MMR, and declines the rest line for line. */
	struct sdp_local l;
	struct sdp_answer_result r;
	char out[2048];
	local4(&l);
	int n = sdp_answer(&l, &s, &r, out, sizeof(out));
	check_answer_properties(&l, &s, &r, out, n);
	assert_non_null(
	    strstr(out, "m=video 0 RTP/AVP 31\r\nm=audio 0 RTP/SAVP 0\r\nm=audio 0 RTP/AVP 0\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offers),	 cmocka_unit_test(test_prefixes_and_line_ends),
	    cmocka_unit_test(test_answer_text),	 cmocka_unit_test(test_answer_refusals),
	    cmocka_unit_test(test_t38_ec_rules), cmocka_unit_test(test_t38_version_rules),
	    cmocka_unit_test(test_offer_text),	 cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_tolerated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
