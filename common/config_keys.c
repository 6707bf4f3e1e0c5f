/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Every configuration key faxgate knows, with its type, default and meaning: the one table.
 * docs/config.md documents the same keys (a unit test checks that each key here is there).
 * Groups ending in " *" have named instances: [line loop], [line trunk1].
 */
#include "common/config.h"

#include <stddef.h>
#include <stdint.h>

#define STR(g, k, d, doc) {g, k, CONFIG_TYPE_STRING, d, NULL, 0, 0, doc}
#define INT(g, k, d, lo, hi, doc) {g, k, CONFIG_TYPE_INT, d, NULL, lo, hi, doc}
#define BOOL(g, k, d, doc) {g, k, CONFIG_TYPE_BOOL, d, NULL, 0, 0, doc}
#define DUR(g, k, d, lo, hi, doc) {g, k, CONFIG_TYPE_DURATION, d, NULL, lo, hi, doc}
#define ENUM(g, k, d, choices, doc) {g, k, CONFIG_TYPE_ENUM, d, choices, 0, 0, doc}
#define LIST(g, k, d, doc) {g, k, CONFIG_TYPE_LIST, d, NULL, 0, 0, doc}
#define ADDR(g, k, d, doc) {g, k, CONFIG_TYPE_ADDRESS, d, NULL, 0, 0, doc}
#define DAY (86400LL)

const struct config_key config_keys[] = {
	/* [faxgate]: the whole installation */
	STR("faxgate", "home", NULL, "directory everything lives under; default $FAXGATE_HOME, else ./var"),
	STR("faxgate", "store", "sqlite:${home}/faxgate.db", "the store: sqlite:PATH (later postgresql://...)"),
	STR("faxgate", "node", "", "this host's name in leases and logs; default the host name"),
	ENUM("faxgate", "log_level", "info", "debug|info|warning|error", "least important log lines written"),
	LIST("faxgate", "programs", "faxd,smtpgw,render,mailer,ldapsync",
	     "programs `faxgate run` starts (those installed beside it)"),

	/* [supervisor]: bin/faxgate run */
	DUR("supervisor", "restart_delay_min", "1s", 0, DAY, "wait before restarting a program that died"),
	DUR("supervisor", "restart_delay_max", "60s", 0, DAY, "longest wait after repeated deaths (doubles each time)"),
	DUR("supervisor", "stop_timeout", "4s", 1, 3600, "after SIGTERM, wait this long before SIGKILL"),

	/* [store] */
	INT("store", "busy_timeout_ms", "10000", 0, 600000, "how long a writer waits for the SQLite lock"),

	/* [smtp]: smtpgw */
	ADDR("smtp", "listen", "127.0.0.1:2525", "SMTP listener (STARTTLS offered when a certificate is set); empty: none"),
	ADDR("smtp", "smtps_listen", "", "implicit-TLS SMTP listener (port 465); empty: none"),
	ADDR("smtp", "submission_listen", "", "submission listener (port 587): AUTH required; empty: none"),
	ADDR("smtp", "lmtp_listen", "", "LMTP listener, HOST:PORT or unix:/PATH, for running behind an MTA; empty: none"),
	STR("smtp", "hostname", "", "name in the greeting; default the host name"),
	LIST("smtp", "domains", "fax.localhost", "mail domains whose recipients are fax numbers"),
	STR("smtp", "service_mailbox", "fax", "local part of the service mailbox that takes numbers from X-Fax-Number"),
	STR("smtp", "tls_cert", "", "PEM certificate chain for STARTTLS and implicit TLS"),
	STR("smtp", "tls_key", "", "PEM private key of tls_cert"),
	LIST("smtp", "trusted_networks", "127.0.0.0/8,::1/128", "clients that may submit without AUTH (CIDR list)"),
	BOOL("smtp", "auth_plaintext", "no", "allow AUTH on connections without TLS"),
	ENUM("smtp", "sender_check", "reject", "reject|ignore",
	     "an authenticated user's envelope sender must be one of their addresses (reject: 553 5.7.1)"),
	INT("smtp", "rate_limit", "200", 0, 1000000, "messages per user per hour (0: no limit); over it: 450 4.7.1"),
	INT("smtp", "max_message_size", "26214400", 1024, 1073741824, "largest message accepted, in bytes (SIZE)"),
	INT("smtp", "max_recipients", "100", 1, 10000, "recipients per message"),
	INT("smtp", "max_errors", "10", 1, 1000, "protocol errors before the session is closed with 421"),
	DUR("smtp", "command_timeout", "300s", 1, DAY, "idle time allowed between commands"),
	DUR("smtp", "session_timeout", "1h", 1, DAY, "longest session"),
	INT("smtp", "max_connections", "200", 1, 100000, "concurrent client connections"),
	ENUM("smtp", "untrusted_headers", "ignore", "ignore|refuse",
	     "X-Fax-* headers from senders outside the trusted networks that are not authenticated"),
	BOOL("smtp", "recipient_lookup", "yes",
	     "a fax address that is no number names a person (john.smith@fax...): their fax number from profiles or the directory"),
	BOOL("smtp", "strict_addresses", "no", "refuse unknown /key=value options in fax addresses (else ignore and log)"),

	/* [mail]: what the mailer (bin/mailer) sends: received faxes and notifications */
	STR("mail", "from", "Fax Gateway <postmaster@fax.localhost>", "From of notifications and of mail to the admin"),
	STR("mail", "admin", "postmaster@localhost", "admin mailbox: permanent delivery failures and faxes no route takes"),
	STR("mail", "fax_domain", "", "domain of the reply-to-fax From of received faxes (+CALLER@domain); default the first [smtp] domains"),
	STR("mail", "hostname", "", "name in Message-IDs and DSN Reporting-MTA; default the host name"),
	LIST("mail", "template_dirs", "/etc/faxgate/mail-templates,${home}/mail-templates",
	     "where mail templates are looked for before the built-in ones"),
	STR("mail", "language", "en", "language of notifications when the profile names none (en, de)"),
	STR("mail", "notify", "always", "notification policy when the job and profile name none: never|failure|success|always, plus ,delay"),
	ENUM("mail", "notify_format", "text", "text|dsn|json|dsn+json", "parts of a notification when the job names none"),
	ENUM("mail", "notify_attach", "none", "none|pdf|png", "what a notification carries when the job names none"),
	ENUM("mail", "rx_format", "pdf", "pdf|tiff|both|none", "how a received fax is attached when the route or profile names none"),
	STR("mail", "fallback", "", "mailbox for faxes to a number no route takes; default the admin mailbox"),
	INT("mail", "poll_interval_ms", "200", 10, 60000, "how often the mailer looks for new work (a cheap query)"),
	DUR("mail", "lease", "300s", 10, DAY, "a claimed message returns to the queue when its holder stops for this long"),
	DUR("mail", "retry_min", "60s", 1, DAY, "first wait after a temporary delivery failure (doubles, with jitter)"),
	DUR("mail", "retry_max", "1h", 1, DAY, "longest wait between delivery attempts"),
	DUR("mail", "expire", "5d", 60, 365 * DAY, "a message not delivered this long after it was queued fails to the admin"),
	DUR("mail", "rate_pause", "60s", 1, DAY, "pause of a route after a 4.7.x rate-limit reply"),

	/* [routes]: received faxes by dialled number */
	LIST("routes", "*", "", "DID = mailboxes: faxes to this number (E.164, or the last digits) go to these addresses; format=pdf|tiff|both|none may be one of the words"),

	/* [rxrule NAME]: received faxes by caller id or remote CSID (before [routes]) */
	STR("rxrule *", "did", "", "the rule applies to this DID only (empty: any)"),
	STR("rxrule *", "caller_id", "", "glob on the caller id (e.g. +1212555*); empty: any"),
	STR("rxrule *", "csid", "", "glob on the remote CSID; empty: any"),
	LIST("rxrule *", "to", "", "mailboxes that get the fax"),
	STR("rxrule *", "format", "", "attachment format pdf|tiff|both|none; empty: the default"),

	/* [mailroute NAME]: how mail leaves; "default" exists on the embedded default */
	ENUM("mailroute *", "transport", "maildir", "maildir|smtp", "maildir: write into a Maildir; smtp: hand to a relay"),
	LIST("mailroute *", "domains", "*", "recipient domains this route takes (* any); the first route that matches wins"),
	STR("mailroute *", "maildir", "${home}/mail", "maildir: the Maildir (created when missing)"),
	STR("mailroute *", "host", "localhost", "smtp: relay host"),
	INT("mailroute *", "port", "25", 1, 65535, "smtp: relay port (587 submission, 465 implicit TLS)"),
	ENUM("mailroute *", "tls", "opportunistic", "none|opportunistic|starttls|implicit",
	     "smtp: none; STARTTLS when offered; STARTTLS required; implicit TLS (SMTPS)"),
	STR("mailroute *", "ca_file", "", "smtp: CA certificates to verify the relay with; empty: the system's"),
	BOOL("mailroute *", "verify", "yes", "smtp: verify the relay's certificate and name"),
	STR("mailroute *", "user", "", "smtp: AUTH user (empty: no AUTH)"),
	STR("mailroute *", "password", "", "smtp: AUTH password"),
	DUR("mailroute *", "timeout", "60s", 1, 3600, "smtp: connect and command timeout"),
	STR("mailroute *", "helo", "", "smtp: EHLO name; default [mail] hostname"),
	INT("mailroute *", "connections", "2", 1, 64, "smtp: parallel connections to the relay"),
	INT("mailroute *", "rate_per_minute", "0", 0, 1000000, "messages per minute at most (0: no limit)"),

	/* [ldap]: the directory (bin/ldapsync, and smtpgw's online lookups and AUTH); docs/directory.md */
	LIST("ldap", "uri", "", "directory servers tried in order (ldap://, ldaps://, ldapi://); empty: no directory"),
	ENUM("ldap", "bind", "simple", "none|simple|external", "how faxgate binds: anonymous, DN and password, SASL EXTERNAL"),
	STR("ldap", "bind_dn", "", "simple: the service account's DN"),
	STR("ldap", "bind_password", "", "simple: its password"),
	STR("ldap", "bind_password_file", "", "simple: a file holding the password (first line), instead of bind_password"),
	BOOL("ldap", "starttls", "no", "StartTLS on ldap:// URIs (ldaps:// needs none)"),
	STR("ldap", "ca_file", "", "CA certificates for ldaps:// and StartTLS; empty: the system's"),
	BOOL("ldap", "tls_verify", "yes", "verify the server's certificate and name"),
	DUR("ldap", "network_timeout", "2s", 1, 300, "connect timeout per server (then the next URI)"),
	DUR("ldap", "timeout", "3s", 1, 3600, "longest wait for one operation's answer"),
	STR("ldap", "base", "", "search base of users (e.g. ou=People,dc=example,dc=com)"),
	ENUM("ldap", "scope", "sub", "base|one|sub", "search scope under base"),
	STR("ldap", "filter", "", "which entries are fax users; default per schema: (objectClass=inetOrgPerson) / (&(objectCategory=person)(objectClass=user))"),
	ENUM("ldap", "schema", "inetorgperson", "inetorgperson|activedirectory", "the attribute map's defaults"),
	LIST("ldap", "attr_uuid", "", "entry identity; default entryUUID / objectGUID"),
	LIST("ldap", "attr_mail", "", "primary address; default mail / mail"),
	LIST("ldap", "attr_aliases", "", "more addresses; default mail (its other values) / proxyAddresses (smtp: values)"),
	LIST("ldap", "attr_login", "", "user name for SMTP AUTH besides the addresses; default uid / sAMAccountName,userPrincipalName"),
	LIST("ldap", "attr_name", "", "name, the first present; default displayName,cn / displayName,cn"),
	LIST("ldap", "attr_company", "", "default o / company"),
	LIST("ldap", "attr_department", "", "default ou,departmentNumber / department"),
	LIST("ldap", "attr_phone", "", "default telephoneNumber / telephoneNumber"),
	LIST("ldap", "attr_fax", "", "the user's fax number ($fineResolution read); default facsimileTelephoneNumber"),
	LIST("ldap", "attr_dids", "", "numbers whose faxes come to the user; default facsimileTelephoneNumber / facsimileTelephoneNumber,otherFacsimileTelephoneNumber"),
	LIST("ldap", "attr_billing_code", "", "billing code; default none / none (e.g. extensionAttribute1)"),
	LIST("ldap", "attr_language", "", "notification language; default preferredLanguage / preferredLanguage"),
	INT("ldap", "page_size", "500", 1, 100000, "entries per page of a full sync (RFC 2696)"),
	DUR("ldap", "sync_interval", "15m", 0, DAY, "bin/ldapsync: time between incremental syncs (0: run once and exit)"),
	DUR("ldap", "full_sync_interval", "7d", 0, 365 * DAY, "bin/ldapsync: a full reload at least this often (0: never forced)"),
	BOOL("ldap", "online", "no", "look submitters and recipients up in the directory at submission (else synced profiles)"),
	BOOL("ldap", "auth", "no", "SMTP AUTH by binding to the directory as the user"),
	DUR("ldap", "cache_ttl", "60s", 0, DAY, "how long online lookups and successful AUTH binds are remembered"),
	BOOL("ldap", "default_send", "yes", "directory users may send when no [ldapgroup] decides"),
	LIST("ldap", "default_classes", "", "dial classes of directory users when no [ldapgroup] decides (empty: [dial] classes)"),

	/* [ldapgroup NAME]: directory groups whose members get permissions */
	STR("ldapgroup *", "dn", "", "the group's DN (groupOfNames/group with member values)"),
	BOOL("ldapgroup *", "send", "yes", "members may send faxes"),
	LIST("ldapgroup *", "classes", "", "dial classes members may use (their groups' classes add up)"),

	/* [domain NAME]: defaults for senders of one mail domain (below their profile) */
	STR("domain *", "company", "", "sender company on the cover page"),
	STR("domain *", "cover", "", "cover template"),
	STR("domain *", "resolution", "", "standard|fine|superfine"),
	STR("domain *", "paper", "", "a4|letter|legal"),
	STR("domain *", "header_line", "", "page header line template"),
	STR("domain *", "tsi", "", "TSI (20 characters at most)"),
	STR("domain *", "billing_code", "", "billing code"),
	STR("domain *", "notify", "", "notification policy"),

	/* [render]: the render workers (bin/render) */
	INT("render", "workers", "0", 0, 256, "conversions at once; 0: one per core"),
	DUR("render", "timeout", "120s", 5, 3600, "a conversion running longer is killed and the job fails"),
	INT("render", "memory_limit_mb", "4096", 64, 1048576, "address-space limit of a conversion (RLIMIT_AS)"),
	INT("render", "max_pages", "100", 1, 100000, "a job with more pages fails (cover page included)"),
	STR("render", "user", "nobody", "the unprivileged user conversions run as when started as root"),
	ENUM("render", "resolution", "fine", "standard|fine|superfine", "resolution when the job names none"),
	ENUM("render", "paper", "letter", "a4|letter|legal", "paper when the job names none"),
	STR("render", "cover", "default", "cover template when the job names none; none: no cover page"),
	ENUM("render", "body", "auto", "auto|cover|page|ignore",
	     "the mail body: on the cover, on its own page, or left out; auto: on the cover when short"),
	STR("render", "header_line", "FROM {{sender_name}} TO {{recipient_name}}",
	    "the page header line (spandsp adds date, time, ident and page number); none: no header line"),
	LIST("render", "cover_dirs", "/etc/faxgate/covers,${home}/covers", "where cover templates are looked for"),

	/* [faxd]: queue runner */
	DUR("faxd", "lease", "120s", 10, DAY, "a claimed job returns to the queue when its holder stops renewing for this long"),
	DUR("faxd", "poll_interval", "1s", 1, 3600, "how often the queue is polled for due jobs"),
	INT("faxd", "media_speed", "1", 1, 16,
	    "tests only: the real-time media clock runs this many times faster (both ends of a call must agree)"),
	INT("faxd", "max_calls_per_destination", "1", 1, 1000, "concurrent calls to one number"),

	/* [retry]: defaults per failure class (after HylaFAX) */
	DUR("retry", "busy", "180s", 0, DAY, "wait after a busy signal"),
	DUR("retry", "no_answer", "300s", 0, DAY, "wait after no answer"),
	DUR("retry", "no_fax", "300s", 0, DAY, "wait after a voice answer or no fax tone"),
	DUR("retry", "protocol", "60s", 0, DAY, "wait after a T.30 protocol or training failure"),
	DUR("retry", "hangup", "60s", 0, DAY, "wait after the far end hung up mid-page"),
	INT("retry", "max_tries", "3", 1, 100, "attempts that reached a fax machine, before the job fails"),
	INT("retry", "max_dials", "12", 1, 1000, "dials in all (busy and no answer count), before the job fails"),
	DUR("retry", "expire", "1d", 60, 365 * DAY, "a job not sent this long after submission expires"),

	/* [line NAME]: fax lines */
	ENUM("line *", "type", "loop", "loop|sip", "channel driver: loop (simulated remote fax machine) or sip (SIP with G.711 RTP)"),
	ENUM("line *", "media", "audio", "audio|t38", "audio (G.711 / PCM) or T.38 over UDPTL"),
	ENUM("line *", "codec", "alaw", "alaw|ulaw|linear", "audio coding on the line"),
	ENUM("line *", "direction", "both", "both|send|receive", "which calls the line takes"),
	INT("line *", "channels", "4", 1, 10000, "concurrent calls on the line"),
	ENUM("line *", "pacing", "fast", "fast|realtime", "loop: run calls in real time or as fast as the CPU allows (sip: always realtime)"),
	STR("line *", "ident", "+1 212 555 0100", "local TSI/CSI (20 characters at most)"),
	LIST("line *", "dids", "", "numbers answered on this line (empty: any)"),
	BOOL("line *", "ecm", "yes", "offer error correction mode"),
	BOOL("line *", "v17", "yes", "offer V.17 (14400 bit/s)"),
	BOOL("line *", "t30_trace", "no", "log spandsp's T.30 protocol flow (frames, timers, modems) as debug lines"),
	INT("line *", "udptl_redundancy", "3", 0, 8, "T.38: earlier IFPs repeated in each UDPTL datagram"),
	BOOL("line *", "udptl_fec", "no", "T.38: parity FEC instead of redundancy"),
	STR("line *", "far_ident", "+1 212 555 0199", "loop: the far end's ident"),
	BOOL("line *", "far_fine", "yes", "loop: the far end accepts fine resolution"),
	BOOL("line *", "far_ecm", "yes", "loop: the far end offers ECM"),
	INT("line *", "loss_permille", "0", 0, 1000, "loop, sip (tests): packets (T.38) or 20 ms blocks (audio) lost, per thousand"),
	INT("line *", "noise_dbm0", "-100", -100, 0, "loop: white noise level added to audio; -100 is none"),
	INT("line *", "busy_calls", "0", 0, 1000000, "loop: this many calls (counted per faxd run) get busy first"),
	INT("line *", "no_answer_calls", "0", 0, 1000000, "loop: then this many calls are not answered"),
	INT("line *", "drop_after_page", "0", 0, 10000, "loop: the far end hangs up after this page (0: never)"),
	INT("line *", "drop_calls", "1", 0, 1000000, "loop: how many calls drop_after_page applies to"),
	STR("line *", "save_dir", "${home}/loop", "loop: where the far end saves what it receives"),
	ADDR("line *", "sip_listen", "127.0.0.1:5060", "sip: numeric address and UDP port the SIP agent binds (RTP binds the same address)"),
	STR("line *", "sip_peer", "", "sip: HOST[:PORT] (or sip:HOST[:PORT]) of the far end or trunk; outgoing calls go to sip:NUMBER@HOST:PORT"),
	INT("line *", "rtp_port_min", "20000", 1024, 65534, "sip: lowest UDP port for RTP (even ports are used)"),
	INT("line *", "rtp_port_max", "29999", 1025, 65535, "sip: highest UDP port for RTP"),
	ENUM("line *", "t38_offer", "first", "first|reinvite|none",
	     "sip, media = t38: outgoing calls offer T.38 in the first INVITE, by our re-INVITE once up, or only take the far end's"),
	BOOL("line *", "t38_request", "yes", "sip, media = t38: an incoming call answered on G.711 asks for T.38 by re-INVITE"),
	INT("line *", "t38_reinvite_delay_ms", "1000", 0, 60000, "sip: how long after the answer our T.38 re-INVITE goes out"),
	DUR("line *", "t38_fallback_ttl", "1d", 0, 365 * DAY,
	    "sip: a destination that refused T.38 (488/415) is called on G.711 only this long (0: not remembered)"),
	DUR("line *", "ring_timeout", "60s", 1, 3600, "sip: an outgoing call not answered by then is cancelled (no answer)"),
	BOOL("line *", "rtp_latch", "no", "sip: send RTP/UDPTL to where the far end's comes from, not to its SDP address (symmetric RTP, for NAT)"),
	DUR("line *", "sip_timeout", "32s", 1, 64,
	    "sip: a request with no response at all fails after this (RFC 3261 Timer B/F); an INVITE then tries the next trunk"),
	DUR("line *", "session_expires", "1800s", 0, DAY, "sip: RFC 4028 session timer interval asked for (0: none)"),
	DUR("line *", "min_se", "90s", 90, DAY, "sip: smallest session interval accepted (RFC 4028 Min-SE)"),
	ENUM("line *", "did_source", "request", "request|to|diversion",
	     "sip: the number called is the Request-URI user, the To user, or the first Diversion's user (else the Request-URI's)"),
	STR("line *", "tls_certificate_dir", "", "sip: a directory with agent.pem (certificate and key) and cafile.pem; set: also listen for TLS on sip_listen's port + 1"),

	/* [trunk NAME]: SIP trunks of a SIP line (docs/sip.md) */
	STR("trunk *", "line", "", "the [line NAME] (type = sip) whose agent and media ports the trunk uses"),
	STR("trunk *", "host", "", "HOST[:PORT] of the trunk (the domain of the Request-URI)"),
	ENUM("trunk *", "transport", "udp", "udp|tcp|tls", "signalling transport to the trunk"),
	STR("trunk *", "outbound_proxy", "", "every request goes through this proxy (sip:HOST[:PORT][;transport=tcp])"),
	INT("trunk *", "priority", "100", 0, 1000000, "lower is tried first; a 5xx or no answer from the trunk moves the call to the next"),
	INT("trunk *", "max_channels", "0", 0, 10000, "concurrent calls through the trunk (0: only the line's channels)"),
	STR("trunk *", "username", "", "digest authentication user (401/407 challenges are answered)"),
	STR("trunk *", "password", "", "digest authentication password"),
	STR("trunk *", "from_user", "", "user part of From (default: the line ident's digits)"),
	STR("trunk *", "from_domain", "", "host part of From (default: our address and port)"),
	BOOL("trunk *", "register", "no", "register username@host (from_domain when set) at the registrar"),
	STR("trunk *", "registrar", "", "registrar URI (default sip:HOST of the trunk)"),
	DUR("trunk *", "register_expires", "3600s", 10, DAY, "registration interval asked for; refreshed before it runs out"),
	ENUM("trunk *", "t38_offer", "line", "line|first|reinvite|none", "like the line's t38_offer, for this trunk"),
	ENUM("trunk *", "udptl_ec", "line", "line|redundancy|fec|none", "T.38 error correction we send through this trunk"),
	INT("trunk *", "udptl_redundancy", "-1", -1, 8, "T.38 redundancy depth through this trunk (-1: the line's)"),

	/* [dial]: number normalisation and permission classes (common/dialrules.c) */
	STR("dial", "country_code", "1", "country code of local numbers"),
	STR("dial", "area_code", "212", "area code of numbers dialled without one"),
	STR("dial", "national_prefix", "1", "trunk prefix before a national number (1 in NANP, 0 in most of Europe)"),
	STR("dial", "international_prefix", "011", "prefix before an international number (011 in NANP, 00 elsewhere)"),
	STR("dial", "outside_prefix", "", "digits dialled first to reach an outside line (e.g. 9)"),
	INT("dial", "national_digits", "-1", -1, 14,
	    "digits after the country code in a fixed-length plan (NANP 10), 0 where lengths vary; -1: 10 when national_prefix equals country_code, else 0"),
	INT("dial", "internal_digits", "0", 0, 8, "length of internal extensions (0: none)"),
	INT("dial", "min_digits", "7", 1, 15, "fewest digits of a number as written"),
	INT("dial", "max_digits", "15", 1, 15, "most digits of an E.164 number"),
	LIST("dial", "allow", "", "E.164 prefixes always allowed (e.g. +1212,+1646)"),
	LIST("dial", "deny", "", "E.164 prefixes never dialled"),
	LIST("dial", "premium", "+1900,+1976", "E.164 prefixes of the premium/special class"),
	LIST("dial", "classes", "internal,local,national,international",
	     "permission classes allowed by default (premium is not)"),
	{NULL, NULL, CONFIG_TYPE_STRING, NULL, NULL, 0, 0, NULL},
};
