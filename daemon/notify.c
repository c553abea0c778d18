/* SPDX-License-Identifier: ISC */
/*
 * sd_notify(3) and sd_listen_fds(3) done by hand, so the daemon needs no
 * libsystemd.  The settings are read once from the environment before any
 * thread runs and are read-only afterwards; the send path only formats into
 * a stack buffer and calls sendto(2) on a socket opened at start-up, which
 * keeps it usable from every thread and after the service's sandbox is
 * in place.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

/* Decimal digits of the largest value parsed (UINT64_MAX has 20). */
#define NOTIFY_MAX_DIGITS 20

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;
static uint64_t notify_watchdog;

/*
 * Strict unsigned decimal: digits only, no sign, spaces or trailing text,
 * no overflow past max.
 */
static int
notify_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > NOTIFY_MAX_DIGITS)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
notify_parse_pid(const char *s, pid_t *out)
{
	uint64_t v;

	if (notify_parse_u64(s, INT_MAX, &v) == -1 || v == 0)
		return -1;
	*out = (pid_t)v;
	return 0;
}

/* "/path" or "@abstract" into notify_addr. */
static int
notify_parse_addr(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	if (s[0] != '/' && s[0] != '@') {
		snprintf(err, errlen,
			 "NOTIFY_SOCKET is neither an absolute path nor an "
			 "abstract address (@name): %s",
			 s);
		return -1;
	}
	if (len < 2 || len >= sizeof(notify_addr.sun_path)) {
		snprintf(err, errlen,
			 "NOTIFY_SOCKET must be 2 to %zu bytes (is %zu)",
			 sizeof(notify_addr.sun_path) - 1, len);
		return -1;
	}
	memcpy(notify_addr.sun_path, s, len);
	notify_addrlen =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (s[0] == '@')
		notify_addr.sun_path[0] = '\0';
	else
		notify_addrlen++; /* the path's terminating NUL */
	return 0;
}

/* WATCHDOG_USEC applies unless WATCHDOG_PID names another process. */
static int
notify_parse_watchdog(const char *usec, const char *pid, char *err,
		      size_t errlen)
{
	uint64_t v;
	pid_t p;

	notify_watchdog = 0;
	if (usec == NULL)
		return 0;
	if (notify_parse_u64(usec, UINT64_MAX, &v) == -1 || v == 0) {
		snprintf(err, errlen,
			 "WATCHDOG_USEC is not a positive "
			 "number of microseconds: \"%s\"",
			 usec);
		return -1;
	}
	if (pid != NULL) {
		if (notify_parse_pid(pid, &p) == -1) {
			snprintf(err, errlen,
				 "WATCHDOG_PID is not a process id: \"%s\"",
				 pid);
			return -1;
		}
		if (p != getpid())
			return 0;
	}
	notify_watchdog = v;
	return 0;
}

int
notify_init(char *err, size_t errlen)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	int rc = 0;

	notify_close();
	if (notify_parse_watchdog(getenv("WATCHDOG_USEC"),
				  getenv("WATCHDOG_PID"), err, errlen) == -1)
		rc = -1;
	else if (sock != NULL && notify_parse_addr(sock, err, errlen) == -1)
		rc = -1;
	else if (sock != NULL) {
		/* Non-blocking: a stalled manager must not stall the loop. */
		notify_fd = socket(
		    AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (notify_fd == -1) {
			snprintf(err, errlen, "notify socket: %s",
				 strerror(errno));
			rc = -1;
		}
	}
	if (rc == -1)
		notify_close();
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return rc;
}

void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
	notify_addrlen = 0;
	notify_watchdog = 0;
}

int
notify_enabled(void)
{
	return notify_fd != -1;
}

uint64_t
notify_watchdog_usec(void)
{
	return notify_watchdog;
}

int
notify_send(const char *fmt, ...)
{
	char buf[NOTIFY_MAX_DATAGRAM];
	va_list ap;
	ssize_t sent;
	int n;

	if (notify_fd == -1)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf)) {
		errno = EMSGSIZE;
		return -1;
	}
	sent = sendto(notify_fd, buf, (size_t)n, MSG_NOSIGNAL,
		      (const struct sockaddr *)&notify_addr, notify_addrlen);
	if (sent == -1)
		return -1;
	if (sent != n) { /* datagrams are all or nothing; be safe anyway */
		errno = EMSGSIZE;
		return -1;
	}
	return 1;
}

/* One passed descriptor: a listening AF_UNIX stream socket, then CLOEXEC
 * and O_NONBLOCK set on it. */
static int
notify_check_fd(int fd, char *err, size_t errlen)
{
	int v, flags;
	socklen_t len;
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d: %s", fd,
			 strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d is not a socket", fd);
		return -1;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == -1 ||
	    v != AF_UNIX) {
		snprintf(err, errlen,
			 "LISTEN_FDS: fd %d is not an AF_UNIX socket", fd);
		return -1;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1 ||
	    v != SOCK_STREAM) {
		snprintf(err, errlen,
			 "LISTEN_FDS: fd %d is not a stream socket "
			 "(ListenStream=)",
			 fd);
		return -1;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == -1 ||
	    v == 0) {
		snprintf(err, errlen,
			 "LISTEN_FDS: fd %d is not listening (Accept=yes is "
			 "not supported)",
			 fd);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1 ||
	    (flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "LISTEN_FDS: fcntl fd %d: %s", fd,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Split LISTEN_FDNAMES over n entries; NULL names them all "unknown". */
static int
notify_names(const char *names, struct notify_listen_fd *fds, size_t n,
	     char *err, size_t errlen)
{
	const char *p = names, *end;
	size_t i, len;

	for (i = 0; i < n; i++) {
		if (names == NULL) {
			strcpy(fds[i].name, "unknown");
			continue;
		}
		if (p == NULL) {
			snprintf(err, errlen,
				 "LISTEN_FDNAMES names %zu sockets, "
				 "LISTEN_FDS passes %zu",
				 i, n);
			return -1;
		}
		end = strchr(p, ':');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len > NOTIFY_MAX_FDNAME) {
			snprintf(err, errlen,
				 "LISTEN_FDNAMES: name %zu is empty or longer "
				 "than %d bytes",
				 i + 1, NOTIFY_MAX_FDNAME);
			return -1;
		}
		memcpy(fds[i].name, p, len);
		fds[i].name[len] = '\0';
		p = end != NULL ? end + 1 : NULL;
	}
	if (names != NULL && p != NULL) {
		snprintf(err, errlen,
			 "LISTEN_FDNAMES names more sockets than the %zu of "
			 "LISTEN_FDS",
			 n);
		return -1;
	}
	return 0;
}

static int
notify_take_fds(struct notify_listen_fd *fds, size_t max, char *err,
		size_t errlen)
{
	const char *spid = getenv("LISTEN_PID");
	const char *sfds = getenv("LISTEN_FDS");
	uint64_t n;
	size_t i;
	pid_t pid;

	if (spid == NULL)
		return 0;
	if (notify_parse_pid(spid, &pid) == -1) {
		snprintf(err, errlen, "LISTEN_PID is not a process id: \"%s\"",
			 spid);
		return -1;
	}
	if (pid != getpid() || sfds == NULL)
		return 0; /* meant for another process */
	if (notify_parse_u64(sfds, INT_MAX - NOTIFY_LISTEN_FDS_START, &n) ==
	    -1) {
		snprintf(err, errlen, "LISTEN_FDS is not a count: \"%s\"",
			 sfds);
		return -1;
	}
	if (n > max) {
		snprintf(err, errlen,
			 "LISTEN_FDS passes %llu sockets, at most %zu are "
			 "supported",
			 (unsigned long long)n, max);
		return -1;
	}
	if (notify_names(getenv("LISTEN_FDNAMES"), fds, (size_t)n, err,
			 errlen) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		fds[i].fd = NOTIFY_LISTEN_FDS_START + (int)i;
		if (notify_check_fd(fds[i].fd, err, errlen) == -1)
			return -1;
	}
	return (int)n;
}

int
notify_listen_fds(struct notify_listen_fd *fds, size_t max, char *err,
		  size_t errlen)
{
	int n;

	n = notify_take_fds(fds, max, err, errlen);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return n;
}
