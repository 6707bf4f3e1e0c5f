/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Confined child processes for the converters (research/rendering.md §2.3 and §6 "Untrusted
 * input": Ghostscript and LibreOffice run as separate programs with a wall-clock timeout and
 * resource limits, never linked and never through a shell). POSIX fork/execve; the child gets a
 * process group of its own so that a timeout kills everything it started (LibreOffice's oosplash
 * starts soffice.bin).
 */
#include "common/error.h"
#include "render/runproc.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The environment for the child, built before fork: environ with limits->env on top. */
static char **build_env(const char *const *extra)
{
	GPtrArray *env = g_ptr_array_new();
	for (char **e = environ; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		size_t name_len = eq ? (size_t)(eq - *e) : strlen(*e);
		bool overridden = false;
		for (const char *const *x = extra; x != NULL && *x != NULL; x++)
			if (strncmp(*x, *e, name_len) == 0 && (*x)[name_len] == '=')
				overridden = true;
		if (!overridden)
			g_ptr_array_add(env, g_strdup(*e));
	}
	for (const char *const *x = extra; x != NULL && *x != NULL; x++)
		g_ptr_array_add(env, g_strdup(*x));
	g_ptr_array_add(env, NULL);
	return (char **)g_ptr_array_free(env, FALSE);
}

static void set_limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};
	(void)setrlimit(resource, &rl);
}

int runproc_run(const char *const *argv, const struct runproc_limits *limits, struct runproc_result *result_r,
		const char **error_r)
{
	memset(result_r, 0, sizeof(*result_r));
	int timeout_s = limits && limits->timeout_s > 0 ? limits->timeout_s : 60;
	char *exe = g_find_program_in_path(argv[0]);
	if (exe == NULL) {
		error_set(error_r, "%s is not installed", argv[0]);
		return -1;
	}
	char **envp = build_env(limits ? limits->env : NULL);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		error_set(error_r, "pipe: %s", g_strerror(errno));
		g_free(exe);
		g_strfreev(envp);
		return -1;
	}
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	double start = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		/* Child: async-signal-safe calls only. */
		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close_range(3, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		set_limit(RLIMIT_CORE, 0);
		set_limit(RLIMIT_CPU, (rlim_t)timeout_s + 2);
		if (limits && limits->max_memory_mb > 0)
			set_limit(RLIMIT_AS, (rlim_t)limits->max_memory_mb << 20);
		if (limits && limits->max_file_mb > 0)
			set_limit(RLIMIT_FSIZE, (rlim_t)limits->max_file_mb << 20);
		if (limits && limits->no_network)
			(void)unshare(CLONE_NEWUSER | CLONE_NEWNET);
		if (limits && limits->cwd && chdir(limits->cwd) < 0)
			_exit(126);
		execve(exe, (char *const *)argv, envp);
		_exit(127);
	}
	int fork_errno = errno;
	close(fds[1]);
	if (devnull >= 0)
		close(devnull);
	g_free(exe);
	g_strfreev(envp);
	if (pid < 0) {
		close(fds[0]);
		error_set(error_r, "fork: %s", g_strerror(fork_errno));
		return -1;
	}
	setpgid(pid, pid); /* also from here, so that the kill below cannot miss the group */

	GString *out = g_string_new(NULL);
	double deadline = start + timeout_s;
	bool pipe_open = true, exited = false;
	int status = 0;
	while (!exited) {
		double left = deadline - now_s();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			result_r->timed_out = true;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			exited = true;
			break;
		}
		if (pipe_open) {
			struct pollfd p = {.fd = fds[0], .events = POLLIN};
			/* At most 100 ms: a grandchild may hold the pipe after the child has gone. */
			int r = poll(&p, 1, MIN((int)(left * 1000) + 1, 100));
			if (r < 0 && errno != EINTR)
				pipe_open = false;
			if (r > 0) {
				char buf[8192];
				ssize_t n = read(fds[0], buf, sizeof(buf));
				if (n > 0) {
					if (out->len < RUNPROC_OUTPUT_CAP)
						g_string_append_len(
						    out, buf,
						    MIN((gssize)n, (gssize)(RUNPROC_OUTPUT_CAP - out->len)));
				} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
					pipe_open = false;
				}
			}
		}
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			exited = true;
		} else if (w < 0 && errno == ECHILD) { /* SIGCHLD ignored: reaped already, status lost */
			status = 0;
			exited = true;
		} else if (!pipe_open) {
			g_usleep(5000);
		}
	}
	/* Drain what is left (the child is gone; a grandchild holding the pipe is killed with the group). */
	kill(-pid, SIGKILL);
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		if (poll(&p, 1, 0) <= 0)
			break;
		char buf[8192];
		ssize_t n = read(fds[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		if (out->len < RUNPROC_OUTPUT_CAP)
			g_string_append_len(out, buf,
					    MIN((gssize)n, (gssize)(RUNPROC_OUTPUT_CAP - out->len)));
	}
	close(fds[0]);
	result_r->seconds = now_s() - start;
	if (WIFEXITED(status)) {
		result_r->exit_code = WEXITSTATUS(status);
	} else {
		result_r->exit_code = -1;
		result_r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	result_r->output_len = out->len;
	result_r->output = g_string_free(out, FALSE);
	return 0;
}

void runproc_result_clear(struct runproc_result *r)
{
	g_free(r->output);
	memset(r, 0, sizeof(*r));
}

const char *runproc_reason(const struct runproc_result *r, char *buf, size_t max_len)
{
	const char *best = NULL, *last = NULL;
	size_t best_len = 0, last_len = 0;
	const char *p = r->output ? r->output : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		bool blank = true;
		for (size_t i = 0; i < len; i++)
			if (!g_ascii_isspace(p[i]))
				blank = false;
		if (!blank) {
			if (best == NULL && g_strstr_len(p, (gssize)len, "rror") != NULL) {
				best = p;
				best_len = len;
			}
			last = p;
			last_len = len;
		}
		p += len + (nl ? 1 : 0);
	}
	if (best == NULL) {
		best = last;
		best_len = last_len;
	}
	size_t o = 0;
	if (max_len == 0)
		return buf;
	for (size_t i = 0; best && i < best_len && o + 1 < max_len; i++) {
		unsigned char c = (unsigned char)best[i];
		if (c == '*' && o == 0)
			continue; /* Ghostscript's "**** Error" stars */
		if (o == 0 && c == ' ')
			continue;
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[o] = '\0';
	return buf;
}
