/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The supervisor (after Postfix's master): starts every configured faxgate program in the
 * foreground as its child, restarts one that dies with a doubling back-off, logs why each one
 * ended, stops them all on SIGTERM/SIGINT (SIGKILL after [supervisor] stop_timeout), and on
 * SIGHUP re-reads the configuration, starts and stops programs to match it and passes SIGHUP on.
 * A bad configuration at reload is logged and the running one kept.
 *
 * One loop: signals arrive through a signalfd, so no work happens in a signal handler.
 */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/store.h"

/* A program that ran this long before dying counts as healthy: its back-off starts over. */
#define HEALTHY_RUN_SECONDS 60

struct child {
	char *name;
	pid_t pid;         /* 0: not running */
	int64_t started;   /* monotonic seconds */
	int64_t restart_at;
	int64_t delay;     /* next back-off */
	bool wanted;
};

struct supervisor {
	char *config_path;
	char *bindir;
	struct config *config;
	GPtrArray *children; /* struct child * */
	int sigfd;
	bool stopping;
};

static int64_t mono_s(void)
{
	return g_get_monotonic_time() / G_USEC_PER_SEC;
}

static void child_free(gpointer p)
{
	struct child *c = p;
	g_free(c->name);
	g_free(c);
}

struct supervisor *supervisor_create(const char *config_path, const char *bindir)
{
	struct supervisor *sup = g_new0(struct supervisor, 1);
	sup->config_path = g_strdup(config_path);
	sup->bindir = g_strdup(bindir);
	sup->children = g_ptr_array_new_with_free_func(child_free);
	sup->sigfd = -1;
	return sup;
}

void supervisor_free(struct supervisor **supp)
{
	struct supervisor *sup = *supp;
	if (sup == NULL)
		return;
	g_ptr_array_free(sup->children, TRUE);
	config_free(&sup->config);
	if (sup->sigfd >= 0)
		close(sup->sigfd);
	g_free(sup->config_path);
	g_free(sup->bindir);
	g_free(sup);
	*supp = NULL;
}

static struct child *find_child(struct supervisor *sup, const char *name)
{
	for (guint i = 0; i < sup->children->len; i++) {
		struct child *c = sup->children->pdata[i];
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* Programs that have nothing to do unless the configuration asks for them: started only then,
   so the embedded default's program list does not restart one that exits at once. */
static bool wanted_by_config(const struct config *config, const char *name)
{
	static const struct {
		const char *program, *group, *key; /* needs a non-empty [group] key */
	} needs[] = {
		{"ldapsync", "ldap", "uri"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(needs); i++)
		if (strcmp(name, needs[i].program) == 0)
			return *config_str(config, needs[i].group, needs[i].key) != '\0';
	return true;
}

/* Mark the programs the configuration names and that are installed beside us. */
static void plan_children(struct supervisor *sup)
{
	for (guint i = 0; i < sup->children->len; i++)
		((struct child *)sup->children->pdata[i])->wanted = false;
	const char *const *names = config_list(sup->config, "faxgate", "programs");
	for (int i = 0; names[i] != NULL; i++) {
		g_autofree char *path = g_build_filename(sup->bindir, names[i], NULL);
		if (!g_file_test(path, G_FILE_TEST_IS_EXECUTABLE)) {
			log_debug("program=%s status=not-installed", names[i]);
			continue;
		}
		if (!wanted_by_config(sup->config, names[i])) {
			log_debug("program=%s status=not-configured", names[i]);
			continue;
		}
		struct child *c = find_child(sup, names[i]);
		if (c == NULL) {
			c = g_new0(struct child, 1);
			c->name = g_strdup(names[i]);
			c->delay = config_int(sup->config, "supervisor", "restart_delay_min");
			g_ptr_array_add(sup->children, c);
		}
		c->wanted = true;
	}
}

static void start_child(struct supervisor *sup, struct child *c)
{
	g_autofree char *path = g_build_filename(sup->bindir, c->name, NULL);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("program=%s fork: %s", c->name, g_strerror(errno));
		c->restart_at = mono_s() + c->delay;
		return;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Children agree on the home directory whatever their working directory. */
		setenv("FAXGATE_HOME", config_home(sup->config), 1);
		const char *file = config_file(sup->config);
		if (file != NULL)
			execl(path, c->name, "-c", file, (char *)NULL);
		else
			execl(path, c->name, (char *)NULL);
		fprintf(stderr, "faxgate: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->started = mono_s();
	c->restart_at = 0;
	log_info("program=%s pid=%ld status=started", c->name, (long)pid);
}

static void describe_exit(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit=%d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal=%s%s", strsignal(WTERMSIG(status)), WCOREDUMP(status) ? " core=yes" : "");
	else
		snprintf(buf, size, "status=%d", status);
}

static void reap_children(struct supervisor *sup)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (guint i = 0; i < sup->children->len; i++) {
			struct child *c = sup->children->pdata[i];
			if (c->pid != pid)
				continue;
			char why[96];
			describe_exit(status, why, sizeof(why));
			c->pid = 0;
			if (sup->stopping || !c->wanted) {
				log_info("program=%s pid=%ld %s status=stopped", c->name, (long)pid, why);
				break;
			}
			int64_t min = config_int(sup->config, "supervisor", "restart_delay_min");
			int64_t max = config_int(sup->config, "supervisor", "restart_delay_max");
			if (mono_s() - c->started >= HEALTHY_RUN_SECONDS)
				c->delay = min;
			c->restart_at = mono_s() + c->delay;
			log_warning("program=%s pid=%ld %s status=died restart_in=%llds", c->name, (long)pid, why,
				    (long long)c->delay);
			c->delay = MIN(MAX(c->delay * 2, 1), max);
			break;
		}
	}
}

static void signal_children(struct supervisor *sup, int sig)
{
	for (guint i = 0; i < sup->children->len; i++) {
		struct child *c = sup->children->pdata[i];
		if (c->pid > 0)
			kill(c->pid, sig);
	}
}

static bool any_running(struct supervisor *sup)
{
	for (guint i = 0; i < sup->children->len; i++)
		if (((struct child *)sup->children->pdata[i])->pid > 0)
			return true;
	return false;
}

/* Start what is wanted and due, stop what is no longer wanted; the poll timeout until the next
   restart (ms, -1 none). */
static int converge(struct supervisor *sup)
{
	int64_t now = mono_s(), next = -1;
	for (guint i = 0; i < sup->children->len; i++) {
		struct child *c = sup->children->pdata[i];
		if (!c->wanted && c->pid > 0) {
			kill(c->pid, SIGTERM);
		} else if (c->wanted && c->pid == 0) {
			if (c->restart_at <= now)
				start_child(sup, c);
			else if (next < 0 || c->restart_at < next)
				next = c->restart_at;
		}
	}
	return next < 0 ? -1 : (int)MAX(0, (next - now) * 1000);
}

static void reload(struct supervisor *sup)
{
	struct config *fresh = NULL;
	char *errors = NULL;
	if (config_load(sup->config_path, &fresh, &errors) < 0) {
		log_error("reload refused, keeping the running configuration: %s", errors);
		g_free(errors);
		return;
	}
	config_free(&sup->config);
	sup->config = fresh;
	plan_children(sup);
	signal_children(sup, SIGHUP);
	log_info("status=reloaded config=%s", config_file(sup->config) ? config_file(sup->config) : "(embedded default)");
}

/* SIGTERM to all, then SIGKILL to whatever is left after stop_timeout. */
static void stop_all(struct supervisor *sup)
{
	sup->stopping = true;
	signal_children(sup, SIGTERM);
	int64_t deadline = g_get_monotonic_time() + config_int(sup->config, "supervisor", "stop_timeout") * G_USEC_PER_SEC;
	while (any_running(sup)) {
		int64_t left_ms = (deadline - g_get_monotonic_time()) / 1000;
		if (left_ms <= 0) {
			log_warning("status=killing reason=\"stop timeout\"");
			signal_children(sup, SIGKILL);
			deadline = G_MAXINT64;
			left_ms = 1000;
		}
		struct pollfd pfd = {.fd = sup->sigfd, .events = POLLIN};
		if (poll(&pfd, 1, (int)MIN(left_ms, 1000)) > 0) {
			struct signalfd_siginfo si;
			if (read(sup->sigfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
				break;
		}
		reap_children(sup);
	}
}

static int handle_signal(struct supervisor *sup)
{
	struct signalfd_siginfo si;
	if (read(sup->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	switch (si.ssi_signo) {
	case SIGCHLD:
		reap_children(sup);
		return 0;
	case SIGHUP:
		reload(sup);
		return 0;
	default:
		log_info("status=stopping signal=%s", strsignal((int)si.ssi_signo));
		return 1;
	}
}

int supervisor_run(struct supervisor *sup)
{
	char *errors = NULL;
	if (config_load(sup->config_path, &sup->config, &errors) < 0) {
		fprintf(stderr, "faxgate: configuration errors:\n%s", errors);
		g_free(errors);
		return 1;
	}
	if (g_mkdir_with_parents(config_home(sup->config), 0750) < 0) {
		fprintf(stderr, "faxgate: cannot create %s: %s\n", config_home(sup->config), g_strerror(errno));
		return 1;
	}
	/* Migrate the store once, before any program uses it; an unusable store stops us here. */
	struct store *store = NULL;
	const char *store_error_text = NULL;
	if (store_open(sup->config, &store, &store_error_text) < 0) {
		fprintf(stderr, "faxgate: %s\n", store_error_text);
		return 1;
	}
	store_close(&store);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sup->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sup->sigfd < 0) {
		fprintf(stderr, "faxgate: signalfd: %s\n", strerror(errno));
		return 1;
	}
	plan_children(sup);
	log_info("status=running home=%s config=%s programs=%u", config_home(sup->config),
		 config_file(sup->config) ? config_file(sup->config) : "(embedded default)", sup->children->len);
	for (;;) {
		int timeout = converge(sup);
		struct pollfd pfd = {.fd = sup->sigfd, .events = POLLIN};
		int n = poll(&pfd, 1, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("poll: %s", g_strerror(errno));
			break;
		}
		if (n > 0 && handle_signal(sup))
			break;
	}
	stop_all(sup);
	log_info("status=stopped");
	return 0;
}
