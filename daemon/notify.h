/* SPDX-License-Identifier: ISC */
/*
 * The daemon's side of the systemd service protocol, without libsystemd:
 * readiness and status notifications to $NOTIFY_SOCKET, the watchdog
 * interval from $WATCHDOG_USEC, and listening sockets passed by socket
 * activation ($LISTEN_PID, $LISTEN_FDS, $LISTEN_FDNAMES).  Under any other
 * supervisor, or none, every call is a harmless no-op.
 */
#ifndef SSHPOOL_NOTIFY_H
#define SSHPOOL_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#define NOTIFY_MAX_ERR 256
#define NOTIFY_MAX_DATAGRAM 4096  /* bytes of one notification */
#define NOTIFY_LISTEN_FDS_START 3 /* SD_LISTEN_FDS_START */
#define NOTIFY_MAX_LISTEN_FDS 16
#define NOTIFY_MAX_FDNAME 255 /* systemd's FileDescriptorName= limit */

/*
 * Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, open the notification
 * socket and unset the three variables so that child processes do not
 * inherit them.  Call once, before any thread starts (it changes the
 * environment).  Without NOTIFY_SOCKET it succeeds and notify_send() does
 * nothing.  Returns -1 with a message in err when a variable is malformed;
 * nothing is then enabled.
 */
int notify_init(char *err, size_t errlen);

/* Close the notification socket and forget the settings. */
void notify_close(void);

/* 1 if notifications go somewhere. */
int notify_enabled(void);

/*
 * Send one datagram of newline-separated KEY=VALUE assignments, e.g.
 * notify_send("READY=1\nSTATUS=%d hosts up", n).  Safe from any thread;
 * never allocates and never blocks.  Returns 1 when sent, 0 when there is
 * no NOTIFY_SOCKET, -1 with errno set on failure (EMSGSIZE when the text
 * exceeds NOTIFY_MAX_DATAGRAM, EAGAIN when the manager's queue is full).
 */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval in microseconds, 0 when the service has none (or
 * WATCHDOG_PID names another process).  Send WATCHDOG=1 at about half of
 * it.
 */
uint64_t notify_watchdog_usec(void);

struct notify_listen_fd {
	int fd;
	char
	    name[NOTIFY_MAX_FDNAME + 1]; /* FileDescriptorName=, or "unknown" */
};

/*
 * Take the sockets passed by socket activation: when LISTEN_PID is this
 * process, LISTEN_FDS sockets starting at fd 3, named by LISTEN_FDNAMES
 * (colon-separated).  Each must be a listening AF_UNIX SOCK_STREAM socket;
 * each is made close-on-exec and non-blocking.  The three variables are
 * unset in every case.  Call before any thread starts.
 *
 * Returns the number of sockets stored in fds (0 when the process was not
 * socket-activated, or LISTEN_PID names another process), or -1 with a
 * message in err when a variable is malformed, there are more than max
 * sockets, or one is not of the expected kind.  On error the descriptors
 * are left open as they were.
 */
int notify_listen_fds(struct notify_listen_fd *fds, size_t max, char *err,
		      size_t errlen);

#endif
