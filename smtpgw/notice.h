/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SMTPGW_NOTICE_H
#define SMTPGW_NOTICE_H

#include <glib.h>
#include <stdbool.h>

#include "common/store.h"

struct mail_templates;

/* What every composed mail needs from the gateway. */
struct mail_env {
	const struct mail_templates *templates;
	const char *from;       /* [mail] from: "Fax Gateway <postmaster@fax.example.com>" */
	const char *hostname;   /* Reporting-MTA, Message-ID domain */
	const char *fax_domain; /* received faxes come From "+CALLER@fax_domain" */
	const char *tmp_dir;    /* scratch files of conversions (TIFF -> PDF/PNG) */
};

/* ---- notifications of sent jobs (research/conventions.md §3.3) ---- */

enum notice_kind {
	NOTICE_SENT,
	NOTICE_FAILED,
	NOTICE_RETRYING,
	NOTICE_CANCELLED,
	NOTICE_EXPIRED,
	NOTICE_FORMAT_FAILED,
};

/* The X-Fax-Status word: "sent", "failed" ("partial" when some pages went), "retrying",
   "cancelled", "expired", "format-failed". */
const char *notice_status(enum notice_kind kind, const struct job *job);
/* The notice a job gets when it moves into state to: 0 and *kind_r, or -1 when none (queued,
   sending, held...). deferred -> retrying; failed with result_code "format-failed" -> format-failed. */
int notice_kind_for(const struct job *job, enum job_state to, enum notice_kind *kind_r);
/* Whether policy asks for kind. policy: "never", "failure", "success", "always", optionally with
   "delay" ("failure,delay", "always+delay"); RFC 3461 NOTIFY words (SUCCESS, FAILURE, DELAY, NEVER,
   comma separated) too. Failure covers failed, cancelled, expired and format-failed; delay covers
   retrying. NULL or "": "always". */
bool notice_wanted(const char *policy, enum notice_kind kind);

struct notice_options {
	const char *language; /* "en", "de" */
	bool dsn;             /* add a message/delivery-status part (multipart/report, RFC 3464) */
	bool json;            /* add an application/json part with the same fields */
	const char *attach;   /* "none", "pdf" (the sent fax), "png" (first-page preview) */
};

/* The notification of kind for job to recipient, as an RFC 5322 message with CRLF line ends:
   human text and HTML from the templates; the headers of §3.3 (X-Fax-Job-ID, X-Fax-Client-Ref,
   X-Fax-Status, X-Fax-Result-Code/-Text, X-Fax-Number, X-Fax-Pages sent/total, X-Fax-Remote-CSID,
   X-Fax-Duration, X-Fax-Attempts, X-Fax-Submitted/-Completed, X-Fax-Bit-Rate, X-Fax-ECM,
   X-Fax-Resolution, X-Fax-Billing-Code); In-Reply-To/References to the job's original Message-ID
   (job field "message_id"); Message-ID message_id. fax: the sent pages (fax TIFF) for
   attachments, may be NULL. *msg_r is the message. */
int notice_compose(const struct mail_env *env, const struct job *job, const GPtrArray *attempts, enum notice_kind kind,
		   const char *recipient, const char *message_id, const struct notice_options *options, const void *fax,
		   size_t fax_len, GByteArray **msg_r, const char **error_r);

/* ---- received faxes (research/conventions.md §3.4) ---- */

/* A received fax as mail to recipient: Subject and text from the "received" template; headers
   Content-Class: fax, Message-Context: fax-message, X-CallingTelephoneNumber, X-FaxNumberOfPages,
   X-Fax-Called-Number, X-Fax-Caller-ID, X-Fax-Remote-TSI, X-Fax-Pages, X-Fax-Resolution,
   X-Fax-Received-At, X-Fax-Duration, X-Fax-Receive-Status, X-Fax-Job-ID, X-Fax-Line,
   X-Fax-Routed-By; From "CSID <+CALLER@fax_domain>" so a reply sends a fax back; the fax
   attached per format ("pdf", "tiff", "both", "none"). */
int faxmail_compose(const struct mail_env *env, const struct inbound *in, const char *recipient, const char *format,
		    const char *language, const char *routed_by, const char *message_id, const void *tiff,
		    size_t tiff_len, GByteArray **msg_r, const char **error_r);

/* ---- reports to the admin ---- */

/* A message that could not be delivered, reported to admin: the reason in text (template
   "bounce"), the original attached as message/rfc822 (text/rfc822-headers when over 1 MB). */
int bounce_compose(const struct mail_env *env, const char *admin, const char *failed_recipient, const char *reason,
		   const char *message_id, const void *original, size_t len, GByteArray **msg_r, const char **error_r);

#endif
