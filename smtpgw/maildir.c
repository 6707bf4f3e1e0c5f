/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Delivery into a Maildir (the qmail layout, https://cr.yp.to/proto/maildir.html): the message is
 * written and fsynced under a unique name in tmp/, linked into new/ (link() never replaces an
 * existing file, where rename() would), new/ is fsynced so the link survives a crash, then the
 * tmp/ name goes. A reader of new/ never sees a partial message.
 *
 * Names are "<seconds>.M<microseconds>P<pid>Q<counter>.<host>": the counter is per process and
 * atomic, so threads of one process and processes of one host never collide; '/' and ':' in the
 * host name are written \057 and \072 as the convention asks.
 */
#include "smtpgw/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

/* Failures no retry will cure: the Maildir's place is taken by something that is not one. */
static bool errno_temporary(int err)
{
	return err != ENOTDIR && err != EISDIR && err != ELOOP && err != ENAMETOOLONG && err != EINVAL;
}

static int fail(int err, bool *temporary_r, const char **error_r, const char *what, const char *path)
{
	*temporary_r = errno_temporary(err);
	return error_set(error_r, "maildir: %s %s: %s", what, path, g_strerror(err));
}

/* dir/sub as a directory, made when missing. */
static int make_dir(const char *path, bool *temporary_r, const char **error_r)
{
	struct stat st;
	if (mkdir(path, 0700) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	return fail(errno == EEXIST ? ENOTDIR : errno, temporary_r, error_r, "cannot make", path);
}

static int make_maildir(const char *dir, bool *temporary_r, const char **error_r)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	if (g_mkdir_with_parents(dir, 0700) < 0)
		return fail(errno == EEXIST ? ENOTDIR : errno, temporary_r, error_r, "cannot make", dir);
	for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
		g_autofree char *path = g_build_filename(dir, subs[i], NULL);
		if (make_dir(path, temporary_r, error_r) < 0)
			return -1;
	}
	return 0;
}

static char *unique_name(void)
{
	static gint counter;
	gint64 now = g_get_real_time();
	GString *host = g_string_new(NULL);
	for (const char *h = g_get_host_name(); *h != '\0'; h++) {
		if (*h == '/')
			g_string_append(host, "\\057");
		else if (*h == ':')
			g_string_append(host, "\\072");
		else
			g_string_append_c(host, *h);
	}
	char *name = g_strdup_printf("%lld.M%06lldP%ldQ%d.%s", (long long)(now / G_USEC_PER_SEC),
				     (long long)(now % G_USEC_PER_SEC), (long)getpid(),
				     g_atomic_int_add(&counter, 1) + 1, host->str);
	g_string_free(host, TRUE);
	return name;
}

/* msg into a new file at path, on disk before this returns. */
static int write_file(const char *path, const void *msg, size_t len, bool *temporary_r, const char **error_r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(errno, temporary_r, error_r, "cannot create", path);
	const char *p = msg;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(fd);
			return fail(err, temporary_r, error_r, "cannot write", path);
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		int err = errno;
		close(fd);
		return fail(err, temporary_r, error_r, "cannot sync", path);
	}
	return close(fd) < 0 ? fail(errno, temporary_r, error_r, "cannot close", path) : 0;
}

static int sync_dir(const char *path, bool *temporary_r, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return fail(err, temporary_r, error_r, "cannot sync", path);
	}
	close(fd);
	return 0;
}

static int deliver(const char *dir, const char *name, const void *msg, size_t len, bool *temporary_r,
		   const char **error_r)
{
	g_autofree char *tmp = g_build_filename(dir, "tmp", name, NULL);
	g_autofree char *newdir = g_build_filename(dir, "new", NULL);
	g_autofree char *dest = g_build_filename(newdir, name, NULL);
	if (write_file(tmp, msg, len, temporary_r, error_r) < 0) {
		g_unlink(tmp);
		return -1;
	}
	if (link(tmp, dest) < 0) {
		int err = errno;
		g_unlink(tmp);
		return fail(err, temporary_r, error_r, "cannot link into", newdir);
	}
	if (sync_dir(newdir, temporary_r, error_r) < 0) {
		/* not known to be on disk: undone, so a retry cannot make a second copy */
		g_unlink(dest);
		g_unlink(tmp);
		return -1;
	}
	if (g_unlink(tmp) < 0) /* delivered all the same; the leftover is only clutter */
		log_warning("maildir: cannot remove %s: %s", tmp, g_strerror(errno));
	return 0;
}

int maildir_deliver(const char *dir, const void *msg, size_t len, char **name_r, bool *temporary_r,
		    const char **error_r)
{
	*name_r = NULL;
	*temporary_r = false;
	if (make_maildir(dir, temporary_r, error_r) < 0)
		return -1;
	char *name = unique_name();
	if (deliver(dir, name, msg, len, temporary_r, error_r) < 0) {
		g_free(name);
		return -1;
	}
	*name_r = name;
	return 0;
}
