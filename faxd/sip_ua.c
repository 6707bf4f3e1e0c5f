/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SIP signalling over sofia-sip's NUA (faxd/sip_ua.h). STANDARDS: RFC 3261 (INVITE, re-INVITE,
 * BYE, CANCEL; §14.1 491 back-off), RFC 3264 offer/answer as far as who offers when, RFC 4028
 * session timers (left to sofia), RFC 5806 Diversion (read only).
 *
 * Media is off in sofia (NUTAG_MEDIA_ENABLE(0)), so there is no soa engine: our SDP goes out as
 * a Content-Type + payload on nua_invite()/nua_respond() and the far end's is read from
 * sip->sip_payload (research/sip-t38.md §1.1). Each call keeps the last SDP each side sent; that
 * is how a refresh re-INVITE (same SDP again, or none) is answered here without the application.
 *
 * Lifetime: a struct sip_call is bound to its nua handle as the handle magic. The call ends when
 * sofia reports nua_callstate_terminated; then exactly one of failed()/ended() is called (failed()
 * may come earlier, with the final response) and the handle and the call are freed.
 */
#include "faxd/sip_ua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faxd/sip_ua_private.h"

#define SHUTDOWN_WAIT_MS 2000 /* how long sip_ua_free waits for BYEs to be answered */

struct sip_ua {
	su_home_t home[1];
	su_root_t *root;
	nua_t *nua;
	struct sip_ua_callbacks cb;
	int port;
	char addr[64];
	bool closing, shutdown_done;
	struct sip_call *calls;
	struct sip_reg *regs;
};

struct sip_reg {
	struct sip_reg *next;
	struct sip_call *handle; /* holds the nua handle; reg points back here */
	int status;
	void (*state)(void *ctx, struct sip_reg *reg, int status, const char *phrase);
	void *ctx;
};

struct sip_call {
	struct sip_ua *ua;
	struct sip_call *prev, *next;
	nua_handle_t *nh;
	void *ctx;
	bool outgoing;       /* we sent the initial INVITE, so we own the Call-ID */
	bool established;    /* the initial INVITE got a 2xx (ours) or we answered 2xx */
	bool final_reported; /* failed() was called */
	bool reinvite_pending;
	bool provisional_seen; /* a 1xx to our INVITE: the far end is there */
	bool no_response;      /* the final failure was sofia's own (timeout, transport error) */
	enum sip_end why;
	char *local_sdp, *remote_sdp; /* the last SDP each side sent and the other accepted */
	char *offer_out;              /* our INVITE/re-INVITE SDP awaiting its answer */
	char *offer_in;               /* the far end's re-INVITE SDP awaiting our answer */
	su_timer_t *retry_timer;      /* 491 back-off */
	char *auth_user, *auth_pass;  /* digest credentials, or NULL */
	bool auth_tried;              /* one challenge answered for the pending request */
	struct sip_reg *reg;          /* a registration's handle, not a call */
};

void sip_ua_settings_default(struct sip_ua_settings *set)
{
	*set = (struct sip_ua_settings){
		.addr = SIP_UA_DEFAULT_ADDR,
		.port = SIP_UA_DEFAULT_PORT,
		.session_expires = SIP_UA_DEFAULT_SESSION_EXPIRES,
		.min_se = SIP_UA_DEFAULT_MIN_SE,
		.user_agent = SIP_UA_DEFAULT_USER_AGENT,
	};
}

static char *xstrdup_or_null(const char *s)
{
	if (s == NULL)
		return NULL;
	char *copy = strdup(s);
	if (copy == NULL)
		abort();
	return copy;
}

static void replace(char **slot, char *value)
{
	free(*slot);
	*slot = value;
}

/* The message body as a NUL-terminated copy (owned by the caller), or NULL if there is none. */
static char *payload_dup(const sip_t *sip)
{
	if (sip == NULL || sip->sip_payload == NULL || sip->sip_payload->pl_len == 0)
		return NULL;
	size_t len = sip->sip_payload->pl_len;
	char *copy = malloc(len + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, sip->sip_payload->pl_data, len);
	copy[len] = '\0';
	return copy;
}

static bool same_sdp(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void copy_field(char *out, const char *in)
{
	size_t n = 0;
	if (in != NULL) {
		if (*in == '"') /* a quoted display name */
			in++;
		for (; in[n] != '\0' && n < SIP_UA_MAX_INFO - 1; n++)
			out[n] = in[n];
		if (n > 0 && out[n - 1] == '"')
			n--;
	}
	out[n] = '\0';
}

static struct sip_call *call_new(struct sip_ua *ua, nua_handle_t *nh, void *ctx, bool outgoing)
{
	struct sip_call *call = calloc(1, sizeof(*call));
	if (call == NULL)
		abort();
	*call = (struct sip_call){.ua = ua, .nh = nh, .ctx = ctx, .outgoing = outgoing, .why = SIP_END_ERROR};
	call->next = ua->calls;
	if (ua->calls != NULL)
		ua->calls->prev = call;
	ua->calls = call;
	return call;
}

static void call_free(struct sip_call *call)
{
	struct sip_ua *ua = call->ua;
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		ua->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	if (call->retry_timer != NULL)
		su_timer_destroy(call->retry_timer);
	if (call->nh != NULL) {
		nua_handle_bind(call->nh, NULL);
		nua_handle_destroy(call->nh);
	}
	free(call->local_sdp);
	free(call->remote_sdp);
	free(call->offer_out);
	free(call->offer_in);
	free(call->auth_user);
	free(call->auth_pass);
	free(call);
}

static void send_invite(struct sip_call *call)
{
	nua_invite(call->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(call->offer_out),
		   TAG_END());
}

static void respond_sdp(nua_handle_t *nh, int status, const char *sdp)
{
	if (sdp != NULL)
		nua_respond(nh, status, sip_status_phrase(status), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	else
		nua_respond(nh, status, sip_status_phrase(status), TAG_END());
}

static void retry_reinvite(struct sip_ua *ua, su_timer_t *timer, struct sip_call *call)
{
	if (call->established && call->offer_out != NULL)
		send_invite(call);
}

/* A 401/407 to our request: answer the challenge once with the handle's credentials, for the
   realm it names (sofia's format "scheme:\"realm\":user:password", the realm with its quotes).
   True when the request went out again. */
static bool authenticate(struct sip_call *call, int status, const sip_t *sip)
{
	if ((status != 401 && status != 407) || call->auth_user == NULL || call->auth_tried || sip == NULL)
		return false;
	const msg_auth_t *au = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
	const char *realm = au != NULL ? msg_params_find(au->au_params, "realm=") : NULL;
	if (realm == NULL || au->au_scheme == NULL)
		return false;
	char *credentials = su_sprintf(NULL, "%s:%s:%s:%s", au->au_scheme, realm, call->auth_user,
				       call->auth_pass != NULL ? call->auth_pass : "");
	call->auth_tried = true;
	nua_authenticate(call->nh, NUTAG_AUTH(credentials), TAG_END());
	su_free(NULL, credentials);
	return true;
}

static void incoming_invite(struct sip_ua *ua, nua_handle_t *nh, const sip_t *sip)
{
	if (ua->cb.incoming == NULL) {
		nua_respond(nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	struct sip_call *call = call_new(ua, nh, NULL, false);
	nua_handle_bind(nh, call);
	struct sip_invite_info info;
	memset(&info, 0, sizeof(info));
	if (sip->sip_request != NULL)
		copy_field(info.request_user, sip->sip_request->rq_url->url_user);
	if (sip->sip_to != NULL)
		copy_field(info.to_user, sip->sip_to->a_url->url_user);
	if (sip->sip_from != NULL) {
		copy_field(info.from_user, sip->sip_from->a_url->url_user);
		copy_field(info.from_display, sip->sip_from->a_display);
	}
	for (const sip_unknown_t *un = sip->sip_unknown; un != NULL; un = un->un_next)
		if (un->un_name != NULL && strcasecmp(un->un_name, "Diversion") == 0) {
			copy_field(info.diversion, un->un_value);
			break;
		}
	call->remote_sdp = payload_dup(sip);
	info.sdp = call->remote_sdp;
	ua->cb.incoming(ua->cb.ctx, call, &info);
}

static void reinvite_in(struct sip_call *call, nua_handle_t *nh, const sip_t *sip)
{
	char *sdp = payload_dup(sip);
	/* A refresh: the same offer again (RFC 4028 §7.4 lets it repeat the SDP), or none at all, in
	   which case our SDP is the offer and the ACK's answer is not looked at.
	   XXX: an offerless re-INVITE that means to change media is treated as a refresh too. */
	if (sdp == NULL || same_sdp(sdp, call->remote_sdp) || call->ua->cb.reoffer == NULL) {
		if (sdp != NULL && !same_sdp(sdp, call->remote_sdp))
			respond_sdp(nh, 488, NULL);
		else
			respond_sdp(nh, 200, call->local_sdp);
		free(sdp);
		return;
	}
	replace(&call->offer_in, sdp);
	call->ua->cb.reoffer(call->ua->cb.ctx, call, sdp);
}

static void invite_response(struct sip_call *call, int status, const char *phrase, const sip_t *sip)
{
	struct sip_ua *ua = call->ua;
	if (status < 200) {
		call->provisional_seen = true;
		return;
	}
	if (authenticate(call, status, sip))
		return;
	call->auth_tried = false;
	if (call->established && !call->reinvite_pending)
		return; /* a session refresh sofia sent on its own */
	if (!call->established) {
		if (status >= 300) {
			call->final_reported = true;
			/* sofia makes up a complete response (To tag and all) for a timeout or a
			   transport error: what tells them apart is that nothing, not even 100
			   Trying, came before */
			call->no_response = !call->provisional_seen && (status == 408 || status == 503);
			if (ua->cb.failed != NULL)
				ua->cb.failed(ua->cb.ctx, call, status, phrase);
			return;
		}
		call->established = true;
	} else if (status == 491 && call->reinvite_pending) {
		/* RFC 3261 §14.1: 2.1-4 s if we own the Call-ID, else 0-2 s, in 10 ms units */
		int delay = call->outgoing ? su_randint(210, 400) * 10 : su_randint(0, 200) * 10;
		if (call->retry_timer == NULL)
			call->retry_timer = su_timer_create(su_root_task(ua->root), 0);
		if (call->retry_timer != NULL && su_timer_set_interval(call->retry_timer, retry_reinvite, call, delay) == 0)
			return;
	}
	call->reinvite_pending = false;
	char *answer = NULL;
	if (status < 300) {
		answer = payload_dup(sip);
		replace(&call->local_sdp, call->offer_out);
		call->offer_out = NULL;
		replace(&call->remote_sdp, answer);
	} else {
		replace(&call->offer_out, NULL);
	}
	if (ua->cb.answered != NULL)
		ua->cb.answered(ua->cb.ctx, call, status, status < 300 ? answer : NULL);
}

static void register_response(struct sip_call *handle, int status, const char *phrase, const sip_t *sip)
{
	if (status < 200 || authenticate(handle, status, sip))
		return;
	handle->auth_tried = false; /* the refresh may be challenged again */
	struct sip_reg *reg = handle->reg;
	reg->status = status;
	if (reg->state != NULL && !handle->ua->closing)
		reg->state(reg->ctx, reg, status, phrase);
}

static void call_terminated(struct sip_call *call)
{
	struct sip_ua *ua = call->ua;
	if (!call->final_reported && !ua->closing && ua->cb.ended != NULL)
		ua->cb.ended(ua->cb.ctx, call, call->why);
	call_free(call);
}

static void nua_event(nua_event_t event, int status, const char *phrase, nua_t *nua, struct sip_ua *ua,
		      nua_handle_t *nh, struct sip_call *call, const sip_t *sip, tagi_t tags[])
{
	switch (event) {
	case nua_i_invite:
		if (call == NULL)
			incoming_invite(ua, nh, sip);
		else
			reinvite_in(call, nh, sip);
		break;
	case nua_r_invite:
		if (call != NULL && call->reg == NULL)
			invite_response(call, status, phrase, sip);
		break;
	case nua_r_register:
		if (call != NULL && call->reg != NULL)
			register_response(call, status, phrase, sip);
		break;
	case nua_i_bye:
		if (call != NULL)
			call->why = SIP_END_BYE_REMOTE;
		break;
	case nua_i_cancel:
		if (call != NULL)
			call->why = SIP_END_CANCELLED;
		break;
	case nua_i_state: {
		int state = nua_callstate_init;
		tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
		if (state != nua_callstate_terminated)
			break;
		if (call != NULL)
			call_terminated(call);
		else if (nh != NULL)
			nua_handle_destroy(nh);
		break;
	}
	case nua_r_get_params: {
		const sip_contact_t *contact = NULL;
		tl_gets(tags, NTATAG_CONTACT_REF(contact), TAG_END());
		if (ua->port > 0)
			break; /* known from the settings */
		ua->port = 0;
		if (contact != NULL && contact->m_url->url_port != NULL)
			ua->port = atoi(contact->m_url->url_port);
		break;
	}
	case nua_r_shutdown:
		if (status >= 200)
			ua->shutdown_done = true;
		break;
	case nua_i_options:
	case nua_i_message:
	case nua_i_subscribe:
	case nua_i_refer:
	case nua_i_notify:
	case nua_i_publish:
	case nua_i_register:
		/* answered by sofia or refused by NUTAG_ALLOW; the handle is ours to drop */
		if (call == NULL && nh != NULL)
			nua_handle_destroy(nh);
		break;
	default:
		break;
	}
}

struct sip_ua *sip_ua_create(const struct sip_ua_settings *set, const struct sip_ua_callbacks *cb,
			     const char **error_r)
{
	struct sip_ua_settings defaults;
	if (set == NULL) {
		sip_ua_settings_default(&defaults);
		set = &defaults;
	}
	struct sip_ua *ua = calloc(1, sizeof(*ua));
	if (ua == NULL)
		abort();
	if (cb != NULL)
		ua->cb = *cb;
	snprintf(ua->addr, sizeof(ua->addr), "%s", set->addr != NULL ? set->addr : SIP_UA_DEFAULT_ADDR);
	su_init();
	su_home_init(ua->home);
	ua->root = su_root_create(ua);
	if (ua->root == NULL) {
		*error_r = "sip: su_root_create failed";
		goto fail;
	}
	char port[16], url[128];
	if (set->port == 0)
		snprintf(port, sizeof(port), "*");
	else
		snprintf(port, sizeof(port), "%d", set->port);
	snprintf(url, sizeof(url), "sip:%s:%s%s", ua->addr, port, set->tcp ? "" : ";transport=udp");
	char sips[128] = "";
	if (set->tls_dir != NULL && set->port != 0)
		snprintf(sips, sizeof(sips), "sips:%s:%d", ua->addr, set->port + 1);
	ua->nua = nua_create(ua->root, nua_event, ua, NUTAG_URL(url), NUTAG_MEDIA_ENABLE(0),
			     TAG_IF(sips[0] != '\0', NUTAG_SIPS_URL(sips)),
			     TAG_IF(set->tls_dir != NULL, NUTAG_CERTIFICATE_DIR(set->tls_dir)),
			     /* no RFC 5626 keep-alives or NAT probing towards trunks: plain RFC 3261 */
			     NUTAG_OUTBOUND("no-options-keepalive no-validate no-natify"),
			     TAG_IF(set->transaction_timeout_ms != 0, NTATAG_SIP_T1X64(set->transaction_timeout_ms)),
			     NUTAG_SESSION_TIMER(set->session_expires), NUTAG_MIN_SE(set->min_se),
			     NUTAG_SESSION_REFRESHER(nua_any_refresher), NUTAG_UPDATE_REFRESH(1),
			     SIPTAG_USER_AGENT_STR(set->user_agent != NULL ? set->user_agent : SIP_UA_DEFAULT_USER_AGENT),
			     TAG_END());
	if (ua->nua == NULL) {
		*error_r = "sip: cannot bind the SIP address (nua_create failed)";
		goto fail;
	}
	/* The port bound, from the agent's Contact, when port 0 asked for any (with TLS the first
	   Contact would be the sips: one, hence only then). */
	ua->port = set->port != 0 ? set->port : -1;
	if (ua->port < 0)
		nua_get_params(ua->nua, TAG_ANY(), TAG_END());
	for (int i = 0; i < 100 && ua->port < 0; i++)
		su_root_step(ua->root, 10);
	if (ua->port <= 0) {
		*error_r = "sip: cannot learn the bound port";
		goto fail;
	}
	return ua;
fail:
	sip_ua_free(&ua);
	return NULL;
}

static void reg_handle_free(struct sip_call *handle)
{
	if (handle->nh != NULL) {
		nua_handle_bind(handle->nh, NULL);
		nua_handle_destroy(handle->nh);
	}
	free(handle->auth_user);
	free(handle->auth_pass);
	free(handle);
}

void sip_ua_free(struct sip_ua **uap)
{
	struct sip_ua *ua = *uap;
	if (ua == NULL)
		return;
	*uap = NULL;
	ua->closing = true;
	if (ua->nua != NULL) {
		nua_shutdown(ua->nua); /* BYE or CANCEL for what is still up */
		for (int waited = 0; !ua->shutdown_done && waited < SHUTDOWN_WAIT_MS; waited += 10)
			su_root_step(ua->root, 10);
	}
	while (ua->calls != NULL)
		call_free(ua->calls);
	while (ua->regs != NULL) {
		struct sip_reg *reg = ua->regs;
		ua->regs = reg->next;
		reg_handle_free(reg->handle);
		free(reg);
	}
	if (ua->nua != NULL)
		nua_destroy(ua->nua);
	if (ua->root != NULL)
		su_root_destroy(ua->root);
	su_home_deinit(ua->home);
	free(ua);
}

int sip_ua_step(struct sip_ua *ua, int timeout_ms)
{
	return (int)su_root_step(ua->root, timeout_ms);
}

int sip_ua_release(struct sip_ua *ua)
{
	return su_root_release(ua->root) < 0 ? -1 : 0;
}

int sip_ua_obtain(struct sip_ua *ua)
{
	return su_root_obtain(ua->root) < 0 ? -1 : 0;
}

int sip_ua_port(const struct sip_ua *ua)
{
	return ua->port;
}

/* A URI as sofia's To header, checked: NULL when it is not a usable SIP URI. In brackets, so
   ";transport=tcp" stays a URI parameter rather than one of the To header's. */
static sip_to_t *make_uri(su_home_t *home, const char *uri)
{
	char *bracketed = su_sprintf(home, uri[0] == '<' ? "%s" : "<%s>", uri);
	sip_to_t *to = sip_to_make(home, bracketed);
	su_free(home, bracketed);
	if (to == NULL || (to->a_url->url_type != url_sip && to->a_url->url_type != url_sips) ||
	    to->a_url->url_host == NULL) {
		su_free(home, to);
		return NULL;
	}
	return to;
}

/* The outbound proxy as a pre-loaded Route (RFC 3261 §8.1.2): loose routing, so ";lr". */
static char *route_for(const char *proxy)
{
	if (proxy == NULL || proxy[0] == '\0')
		return NULL;
	bool lr = strstr(proxy, ";lr") != NULL;
	return su_sprintf(NULL, "<%s%s%s>", strncmp(proxy, "sip", 3) == 0 ? "" : "sip:", proxy, lr ? "" : ";lr");
}

static void set_credentials(struct sip_call *call, const struct sip_credentials *auth)
{
	if (auth->username == NULL || auth->username[0] == '\0')
		return;
	call->auth_user = xstrdup_or_null(auth->username);
	call->auth_pass = xstrdup_or_null(auth->password != NULL ? auth->password : "");
}

struct sip_call *sip_ua_call(struct sip_ua *ua, const struct sip_invite_params *params)
{
	sip_to_t *to = make_uri(ua->home, params->to_uri);
	if (to == NULL)
		return NULL;
	char from[256];
	const char *user = params->from_user != NULL ? params->from_user : "faxgate";
	if (params->from_host != NULL && params->from_host[0] != '\0')
		snprintf(from, sizeof(from), "<sip:%s@%s>", user, params->from_host);
	else
		snprintf(from, sizeof(from), "<sip:%s@%s:%d>", user, ua->addr, ua->port);
	char *route = route_for(params->proxy);
	struct sip_call *call = call_new(ua, NULL, params->ctx, true);
	call->nh = nua_handle(ua->nua, call, SIPTAG_TO(to), SIPTAG_FROM_STR(from),
			      TAG_IF(route != NULL, SIPTAG_ROUTE_STR(route)), TAG_END());
	su_free(ua->home, to);
	su_free(NULL, route);
	if (call->nh == NULL) {
		call_free(call);
		return NULL;
	}
	set_credentials(call, &params->auth);
	call->offer_out = xstrdup_or_null(params->sdp);
	send_invite(call);
	return call;
}

struct sip_call *sip_ua_invite(struct sip_ua *ua, const char *to_uri, const char *from_user, const char *sdp,
			       void *call_ctx)
{
	struct sip_invite_params params = {.to_uri = to_uri, .from_user = from_user, .sdp = sdp, .ctx = call_ctx};
	return sip_ua_call(ua, &params);
}

struct sip_reg *sip_ua_register(struct sip_ua *ua, const struct sip_register_params *params)
{
	char aor[256];
	snprintf(aor, sizeof(aor), "sip:%s@%s", params->user, params->domain);
	sip_to_t *to = make_uri(ua->home, aor);
	sip_to_t *registrar = make_uri(ua->home, params->registrar);
	su_free(ua->home, registrar);
	if (to == NULL || registrar == NULL) {
		su_free(ua->home, to);
		return NULL;
	}
	struct sip_reg *reg = calloc(1, sizeof(*reg));
	struct sip_call *handle = calloc(1, sizeof(*handle));
	if (reg == NULL || handle == NULL)
		abort();
	*reg = (struct sip_reg){.handle = handle, .state = params->state, .ctx = params->ctx, .next = ua->regs};
	ua->regs = reg;
	handle->ua = ua;
	handle->reg = reg;
	set_credentials(handle, &params->auth);
	char *route = route_for(params->proxy);
	char expires[16];
	snprintf(expires, sizeof(expires), "%u", params->expires);
	handle->nh = nua_handle(ua->nua, handle, SIPTAG_TO(to), SIPTAG_FROM(to), TAG_END());
	if (handle->nh != NULL)
		nua_register(handle->nh, NUTAG_REGISTRAR(params->registrar), SIPTAG_EXPIRES_STR(expires),
			     TAG_IF(route != NULL, SIPTAG_ROUTE_STR(route)), TAG_END());
	su_free(ua->home, to);
	su_free(NULL, route);
	return reg;
}

int sip_reg_status(const struct sip_reg *reg)
{
	return reg->status;
}

void *sip_call_ctx(const struct sip_call *call)
{
	return call->ctx;
}

void sip_call_set_ctx(struct sip_call *call, void *call_ctx)
{
	call->ctx = call_ctx;
}

int sip_call_ringing(struct sip_call *call)
{
	if (call->outgoing || call->established)
		return -1;
	nua_respond(call->nh, SIP_180_RINGING, TAG_END());
	return 0;
}

int sip_call_answer(struct sip_call *call, int status, const char *sdp)
{
	if (call->outgoing || call->established || status < 200 || status >= 300 || sdp == NULL)
		return -1;
	call->established = true;
	replace(&call->local_sdp, xstrdup_or_null(sdp));
	respond_sdp(call->nh, status, sdp);
	return 0;
}

int sip_call_reject(struct sip_call *call, int status)
{
	if (call->outgoing || call->established || status < 300 || status > 699)
		return -1;
	call->why = SIP_END_REJECTED;
	respond_sdp(call->nh, status, NULL);
	return 0;
}

int sip_call_reinvite(struct sip_call *call, const char *sdp)
{
	if (!call->established || call->reinvite_pending || call->offer_in != NULL || sdp == NULL)
		return -1;
	call->reinvite_pending = true;
	replace(&call->offer_out, xstrdup_or_null(sdp));
	send_invite(call);
	return 0;
}

int sip_call_answer_reoffer(struct sip_call *call, int status, const char *sdp)
{
	if (call->offer_in == NULL || status < 200 || (status < 300 && sdp == NULL))
		return -1;
	if (status < 300) {
		if (call->reinvite_pending && call->retry_timer != NULL) {
			/* ours is waiting out a 491 and theirs won the glare: ours is dropped */
			su_timer_reset(call->retry_timer);
			call->reinvite_pending = false;
			replace(&call->offer_out, NULL);
		}
		replace(&call->remote_sdp, call->offer_in);
		call->offer_in = NULL;
		replace(&call->local_sdp, xstrdup_or_null(sdp));
		respond_sdp(call->nh, status, sdp);
	} else {
		replace(&call->offer_in, NULL);
		respond_sdp(call->nh, status, NULL);
	}
	return 0;
}

int sip_call_bye(struct sip_call *call)
{
	if (!call->established)
		return -1;
	call->why = SIP_END_BYE_LOCAL;
	nua_bye(call->nh, TAG_END());
	return 0;
}

int sip_call_cancel(struct sip_call *call)
{
	if (!call->outgoing || call->established)
		return -1;
	nua_cancel(call->nh, TAG_END());
	return 0;
}

int sip_uri_user(const char *value, char *out, size_t size)
{
	static const char *const schemes[] = {"sip:", "sips:", "tel:"};
	const char *first = NULL, *user = NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		const char *p = strcasestr(value, schemes[i]);
		if (p != NULL && (first == NULL || p < first)) {
			first = p;
			user = p + strlen(schemes[i]);
		}
	}
	if (user == NULL)
		return -1;
	size_t n = strcspn(user, "@;>?, \t\"");
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, user, n);
	out[n] = '\0';
	return 0;
}

bool sip_call_no_response(const struct sip_call *call)
{
	return call->no_response;
}

enum sip_failure sip_ua_status_class(int status)
{
	switch (status) {
	case 486:
	case 600:
		return SIP_FAILURE_BUSY;
	case 404:
	case 484:
	case 604:
		return SIP_FAILURE_INVALID_NUMBER;
	case 408:
	case 480:
	case 487:
		return SIP_FAILURE_NO_ANSWER;
	case 415:
	case 488:
	case 606:
		return SIP_FAILURE_NOT_ACCEPTABLE;
	default:
		return status >= 500 && status < 600 ? SIP_FAILURE_TRY_NEXT : SIP_FAILURE_OTHER;
	}
}

const char *sip_ua_failure_name(enum sip_failure failure)
{
	switch (failure) {
	case SIP_FAILURE_BUSY:
		return "busy";
	case SIP_FAILURE_INVALID_NUMBER:
		return "invalid-number";
	case SIP_FAILURE_NO_ANSWER:
		return "no-answer";
	case SIP_FAILURE_TRY_NEXT:
		return "try-next";
	case SIP_FAILURE_NOT_ACCEPTABLE:
		return "not-acceptable";
	case SIP_FAILURE_OTHER:
		break;
	}
	return "other";
}
