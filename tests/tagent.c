/* SPDX-License-Identifier: ISC */
/*
 * A real ssh-agent for the tests that need one: the agent broker's, the
 * daemon's IdentityAgent and agent forwarding.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "tagent.h"
#include "testutil.h"

#define TAGENT_START_MS 10000

pid_t
tagent_start(const char *sock)
{
	long long end = testutil_now_ms() + TAGENT_START_MS;
	struct stat st;
	pid_t pid;
	int fd;

	unlink(sock);
	pid = fork();
	ck_assert(pid != -1);
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
			_exit(126);
		/* It prints its environment lines on stdout. */
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock,
		       (char *)NULL);
		_exit(127);
	}
	while (testutil_now_ms() < end && stat(sock, &st) == -1)
		usleep(20000);
	ck_assert_msg(stat(sock, &st) == 0, "ssh-agent did not start on %s",
		      sock);
	return pid;
}

void
tagent_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

size_t
tagent_pub_blob(const char *path, unsigned char *blob, size_t size)
{
	char line[4096], b64[3072];
	long n;
	FILE *f;

	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s", path);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	ck_assert_int_eq(sscanf(line, "%*s %3071s", b64), 1);
	ck_assert_uint_ge(size, proto_b64_maxdecoded(strlen(b64)));
	n = proto_b64_decode(blob, b64, strlen(b64));
	ck_assert_msg(n > 0, "%s: not a public key line", path);
	return (size_t)n;
}

int
tagent_connect(const char *sock)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	ck_assert_msg(strlen(sock) < sizeof sa.sun_path, "%s: too long", sock);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(fd != -1);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0,
		      "%s: %s", sock, strerror(errno));
	return fd;
}

int
tagent_add(const char *sock, const char *args)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof cmd,
		 "SSH_AUTH_SOCK='%s' ssh-add %s >/dev/null 2>&1", sock, args);
	return system(cmd) == 0 ? 0 : -1;
}
