/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The daemons' signals arrive through a signalfd in their main loop, never in a handler. */
#include "common/signals.h"

#include <signal.h>
#include <sys/signalfd.h>

int signals_block_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}
