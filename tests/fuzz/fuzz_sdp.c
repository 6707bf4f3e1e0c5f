/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness for the SDP core (faxd/sdp.c; RFC 4566, RFC 3264, T.38 Annex D). The input is
 * an SDP body, parsed from an exact-size heap copy so ASan sees any read past its end. If it
 * parses, it is answered under two local settings (prefer T.38 with redundancy, prefer audio with
 * FEC and T.38 version 3), and each answer must parse back with as many m= lines as the offer,
 * exactly one stream on our port, and no FillBitRemoval/MMR/JBIG claim.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faxd/sdp.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_answer(const struct sdp_local *l, const struct sdp_session *offer)
{
	static char out[8192];
	struct sdp_answer_result r;
	struct sdp_session ans;
	const char *error = NULL;

	int n = sdp_answer(l, offer, &r, out, sizeof(out));
	CHECK(n >= 0);
	if (n == 0) {
		CHECK(r.status == 488);
		return;
	}
	CHECK(r.status == 200 && (size_t)n == strlen(out));
	if (sdp_parse(out, (size_t)n, &ans, &error) != 0) {
		fprintf(stderr, "our answer does not parse: %s\n%s", error, out);
		abort();
	}
	CHECK(ans.nmedia == offer->nmedia);
	int taken = 0;
	for (int i = 0; i < ans.nmedia; i++) {
		const struct sdp_media *a = &ans.media[i];
		CHECK(!a->t38.fill_bit_removal && !a->t38.mmr && !a->t38.jbig);
		CHECK(strcasecmp(a->media, offer->media[i].media) == 0); /* we write "image" for "Image" */
		if (a->port == 0)
			continue;
		taken++;
		CHECK(i == r.media_index && a->kind == r.kind);
		if (a->kind == SDP_MEDIA_AUDIO) {
			CHECK(a->nformats == 1 && a->formats[0].pt == r.payload_type);
		} else {
			CHECK(a->kind == SDP_MEDIA_IMAGE);
			CHECK(a->t38.version >= 0 && a->t38.version <= l->t38_version);
			CHECK(r.t38_max_datagram > 0 && r.t38_max_datagram <= UDPTL_MAX_DATAGRAM);
		}
	}
	CHECK(taken == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_session s;
	const char *error = NULL;
	char *copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	int r = sdp_parse(copy, size, &s, &error);
	free(copy);
	if (r != 0) {
		CHECK(r == -1 && error != NULL && error[0] != '\0');
		return 0;
	}
	CHECK(s.nmedia >= 0 && s.nmedia <= SDP_MAX_MEDIA);
	for (int i = 0; i < s.nmedia; i++)
		CHECK(s.media[i].nformats >= 0 && s.media[i].nformats <= SDP_MAX_FORMATS);

	struct sdp_local l;
	sdp_local_default(&l);
	l.addr.family = SDP_FAMILY_IP4;
	strcpy(l.addr.addr, "192.0.2.200");
	l.audio_port = 40000;
	l.image_port = 40002;
	l.t38 = true;
	check_answer(&l, &s);

	l.addr.family = SDP_FAMILY_IP6;
	strcpy(l.addr.addr, "2001:db8::200");
	l.prefer_t38 = false;
	l.pcma = false;
	l.t38_ec = UDPTL_EC_FEC;
	l.t38_version = 3;
	check_answer(&l, &s);
	return 0;
}
