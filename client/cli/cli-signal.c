/* SPDX-License-Identifier: ISC */
/*
 * Interrupts: SIGINT and SIGTERM are turned into bytes on a pipe that the
 * event loop polls, so that the loop decides what an interrupt does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int cli_signal_pipe[2] = {-1, -1};

static void
cli_signal_on(int sig)
{
	int saved = errno;
	char ch = (char)sig;

	if (write(cli_signal_pipe[1], &ch, 1) == -1) {
		/* The pipe is full: an interrupt is already pending. */
	}
	errno = saved;
}

int
cli_signal_catch(void)
{
	struct sigaction sa;

	if (pipe2(cli_signal_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		cli_warnx("pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cli_signal_on;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

/* The pipe's read end, or -1 before cli_signal_catch. */
int
cli_signal_fd(void)
{
	return cli_signal_pipe[0];
}

void
cli_signal_drain(void)
{
	char buf[64];

	while (read(cli_signal_pipe[0], buf, sizeof buf) > 0)
		;
}
