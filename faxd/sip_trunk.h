/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The trunks of a SIP line: where outgoing calls go ([trunk NAME] sections naming the line, or
 * the line's own sip_peer), in which order, how each is reached (transport, outbound proxy,
 * digest credentials, registration), how it does T.38, and which destinations refused T.38
 * lately (learned fallback). Pure bookkeeping: faxd/line_sip.c does the signalling; everything
 * here runs on the line's media thread.
 */
#ifndef FAXD_SIP_TRUNK_H
#define FAXD_SIP_TRUNK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "faxd/udptl.h"

struct config;
struct sip_reg;

#define SIP_TRUNK_MAX 32 /* trunks per line (a call remembers the ones it tried in a bitmask) */

/* How an outgoing call gets to T.38. */
enum sip_t38_offer {
	SIP_T38_OFFER_NONE,	/* G.711 only; the far end's re-INVITE to T.38 is still taken */
	SIP_T38_OFFER_FIRST,	/* audio and image in the first INVITE */
	SIP_T38_OFFER_REINVITE, /* G.711 first, our re-INVITE to T.38 once the call is up */
};

struct sip_trunk {
	char *name;
	char *host;	 /* HOST[:PORT] of the Request-URI */
	char *transport; /* "udp", "tcp" or "tls" */
	char *proxy;	 /* outbound proxy URI, or NULL */
	char *username, *password;
	char *from_user, *from_domain; /* NULL = the line's ident digits, our address */
	bool do_register;
	char *registrar; /* sip: URI */
	unsigned register_expires;
	int priority, max_channels, active;
	bool t38; /* the trunk does T.38 at all */
	enum sip_t38_offer t38_offer;
	struct udptl_settings udptl;
	struct sip_reg *reg; /* owned by the SIP agent */
	int reg_status;	     /* last final answer to REGISTER; 0 = none yet */
};

struct sip_trunks;

/* Line-level T.38 defaults the trunks inherit. */
struct sip_trunk_defaults {
	bool t38;
	enum sip_t38_offer t38_offer;
	struct udptl_settings udptl;
	unsigned fallback_ttl_s; /* how long a refusal of T.38 is remembered; 0 = never */
};

/* The trunks of [line `line`] (group `line_group`): every [trunk NAME] whose `line` is it, in
   priority order (lower first, then as configured), else one trunk named after the line from its
   sip_peer, else none (the line takes incoming calls only). -1 and *error_r on a bad key. */
int sip_trunks_load(const struct config *config, const char *line, const char *line_group,
		    const struct sip_trunk_defaults *defaults, struct sip_trunks **trunks_r, const char **error_r);
void sip_trunks_free(struct sip_trunks **trunksp);
int sip_trunks_count(const struct sip_trunks *trunks);
struct sip_trunk *sip_trunks_get(struct sip_trunks *trunks, int index);

/* The index of the trunk to try next: the first by priority not in `tried` (bit i = trunk i),
   with a free channel and not refused by its registrar; -1 when none is left. */
int sip_trunks_pick(const struct sip_trunks *trunks, uint32_t tried);

/* The Request-URI for `user` on the trunk: sip:USER@HOST[;transport=tcp|tls]. */
char *sip_trunk_uri(const struct sip_trunk *trunk, const char *user);

/* Learned fallback: a destination that refused T.38 (488/415) is called on G.711 only until
   the line's fallback_ttl has passed. */
void sip_trunks_learn_no_t38(struct sip_trunks *trunks, const struct sip_trunk *trunk, const char *number,
			     time_t now);
bool sip_trunks_no_t38(struct sip_trunks *trunks, const struct sip_trunk *trunk, const char *number, time_t now);

#endif
