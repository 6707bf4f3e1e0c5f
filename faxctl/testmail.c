/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * faxctl test-mail ADDRESS [--route NAME] [--from ADDR]: one short message through a mail route,
 * the way the mailer sends, with the SMTP dialogue printed (AUTH secrets masked), so that a
 * relay's host, port, TLS and credentials can be checked before real mail depends on them.
 * The last line is "delivered" or "failed: CODE [ENHANCED] TEXT". Exit 0 delivered, 1 not,
 * 64 usage (also an unknown --route), 78 no route takes ADDRESS or a route cannot work.
 */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "faxctl/faxctl.h"
#include "smtpgw/mailroute.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 64
#define EXIT_CONFIG 78

/* The addr-spec of "Name <addr>", or the text itself. */
static char *envelope_address(const char *from)
{
	const char *lt = strrchr(from, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;
	return gt != NULL ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strstrip(g_strdup(from));
}

/* RFC 5322 date-time, in English whatever the locale. */
static char *mail_date(void)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;
	char zone[8];
	localtime_r(&now, &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	return g_strdup_printf("%s, %d %s %d %02d:%02d:%02d %s", days[tm.tm_wday], tm.tm_mday,
			       months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

static char *compose(const char *from, const char *to, const char *hostname, const struct mailroute *route)
{
	g_autofree char *date = mail_date(), *how = mailroute_describe(route);
	return g_strdup_printf("From: %s\nTo: %s\nSubject: faxgate test message\nDate: %s\n"
			       "Message-ID: <%08x%08x.%lld@%s>\nMIME-Version: 1.0\n"
			       "Content-Type: text/plain; charset=us-ascii\n\n"
			       "This is a test message from faxgate (faxctl test-mail).\n\n"
			       "Route: %s (%s)\nSent from: %s\n",
			       from, to, date, g_random_int(), g_random_int(), (long long)time(NULL),
			       hostname, route->name, how, hostname);
}

static const struct mailroute *pick_route(const GPtrArray *routes, const char *name, const char *address)
{
	if (name == NULL)
		return mailroute_for(routes, address);
	for (guint i = 0; i < routes->len; i++)
		if (strcmp(((const struct mailroute *)routes->pdata[i])->name, name) == 0)
			return routes->pdata[i];
	return NULL;
}

static int send_test(struct faxctl *ctl, const struct mailroute *route, const char *address, const char *from)
{
	const char *hostname = config_str(ctl->config, "mail", "hostname");
	g_autofree char *sender = envelope_address(from);
	g_autofree char *msg =
	    compose(from, address, *hostname != '\0' ? hostname : g_get_host_name(), route);
	GString *dialogue = g_string_new(NULL);
	struct relay_result r;
	int ret = mailroute_deliver(route, sender, address, msg, strlen(msg), &r, dialogue);
	fputs(dialogue->str, stdout);
	if (ret == 0)
		printf("delivered\n");
	else
		printf("failed: %d%s%s %s\n", r.code, r.enhanced[0] != '\0' ? " " : "", r.enhanced, r.text);
	g_string_free(dialogue, TRUE);
	return ret == 0 ? 0 : EXIT_FAILED;
}

int faxctl_cmd_test_mail(struct faxctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {{"route", required_argument, NULL, 'r'},
					     {"from", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	const char *route_name = NULL, *from = config_str(ctl->config, "mail", "from");
	int opt;
	while ((opt = getopt_long(argc, argv, "r:f:", opts, NULL)) != -1) {
		if (opt == 'r')
			route_name = optarg;
		else if (opt == 'f')
			from = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind != argc - 1 || strchr(argv[optind], '@') == NULL) {
		fprintf(stderr, "usage: faxctl test-mail ADDRESS [--route NAME] [--from ADDRESS]\n");
		return EXIT_USAGE;
	}
	const char *address = argv[optind], *error = NULL;
	GPtrArray *routes = NULL;
	if (mailroutes_load(ctl->config, &routes, &error) < 0) {
		fprintf(stderr, "faxctl: %s\n", error);
		return EXIT_CONFIG;
	}
	const struct mailroute *route = pick_route(routes, route_name, address);
	int ret = route_name != NULL ? EXIT_USAGE : EXIT_CONFIG;
	if (route != NULL)
		ret = send_test(ctl, route, address, from);
	else if (route_name != NULL)
		fprintf(stderr, "faxctl: no [mailroute %s]\n", route_name);
	else
		fprintf(stderr, "faxctl: no [mailroute] takes %s\n", address);
	g_ptr_array_unref(routes);
	return ret;
}
