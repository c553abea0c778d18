/* SPDX-License-Identifier: ISC */
/*
 * A small blocking client of the sshpool wire protocol for the integration
 * tests, plus what those tests need around it: the fleet description
 * written by tests/fleet/fleet.sh, and a sshpoold child process with its own
 * configuration and socket in a fresh temporary directory.
 *
 * It speaks the raw protocol on purpose (requests are written as literal
 * JSON text, events are decoded with proto_event_parse) so the tests see
 * exactly what any client would see, malformed input included.
 *
 * Two environment variables adapt the tests to a slow daemon:
 * SSHPOOL_TEST_WRAPPER is a command, split on spaces, that the daemon is
 * started under (e.g. "valgrind --error-exitcode=99 -q"), and
 * SSHPOOL_TEST_SLOWDOWN (a number >= 1, default 1) stretches every wait.
 */
#ifndef SSHPOOL_TCLIENT_H
#define SSHPOOL_TCLIENT_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

#include "proto.h"

#define TCLIENT_MAX_LINE (32u * 1024 * 1024) /* longest event accepted */
#define TCLIENT_MAX_HOSTS 253
/* Both waits are stretched by the slowdown factor. */
#define TCLIENT_START_WAIT_MS 10000 /* daemon socket must accept by then */
#define TCLIENT_STOP_WAIT_MS 10000  /* SIGTERM to exit, then SIGKILL */
#define TCLIENT_MAX_WRAPPER_ARGS 32 /* words of SSHPOOL_TEST_WRAPPER */
#define TCLIENT_MAX_SLOWDOWN 100    /* larger factors are clamped */
/* The daemon directory is short: its socket path must fit sun_path. */
#define TCLIENT_MAX_DIR 80

/* ---- Client connection ---- */

struct tclient;

/* Connect to a Unix socket; NULL with errno on failure. */
struct tclient *tclient_connect(const char *path);
void tclient_close(struct tclient *);
int tclient_fd(const struct tclient *);
/* The last error of this connection, for assertion messages. */
const char *tclient_error(const struct tclient *);

/* Write all bytes (no newline added).  0, or -1 on error. */
int tclient_send_raw(struct tclient *, const void *, size_t);
/* len bytes in one sendmsg with n descriptors (SCM_RIGHTS, at most 64);
 * 0, or -1 when not all of it went. */
int tclient_send_fds(struct tclient *, const void *, size_t len, const int *fds,
		     size_t n);
/* printf-style request line; the newline is appended.  0 or -1. */
int tclient_send(struct tclient *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Read the next event line within timeout_ms and decode it.  Returns 0 with
 * *ev set (free with proto_event_free), or -1 on timeout, end of file, read
 * error or an undecodable line (see tclient_error).  If line is not NULL it
 * receives a copy of the raw line (free it).
 */
int tclient_next(struct tclient *, int timeout_ms, struct proto_event **ev,
		 char **line);

/* Limit each read(2) to at most n bytes (0 = no limit): a slow reader. */
void tclient_set_read_size(struct tclient *, size_t n);

/* ---- The fleet ---- */

struct tfleet {
	char dir[PATH_MAX];
	char user[64];
	int port;
	size_t nhosts;
	char hosts[TCLIENT_MAX_HOSTS][32]; /* "127.0.0.2:PORT" */
	char addrs[TCLIENT_MAX_HOSTS][16]; /* "127.0.0.2" */
	char dead_host[32];       /* an address:port where nothing listens */
	char v6_addr[64];         /* the IPv6 host, "::1"; "" without IPv6 */
	int v6_port;              /* its port; 0 when the fleet has none */
	char key[PATH_MAX];       /* authorized user key */
	char wrong_key[PATH_MAX]; /* user key that is not authorized */
	char known_hosts[PATH_MAX];
	char hostkeys[3][PATH_MAX];       /* .pub of ed25519, ecdsa, rsa */
	char wrong_hostkeys[3][PATH_MAX]; /* unrelated host keys */
};

/* Load $SSHPOOL_FLEET_DIR/fleet.env; 0, or -1 with a message in err. */
int tfleet_load(struct tfleet *, char *err, size_t errlen);

/* ---- The daemon ---- */

struct tdaemon_opts {
	const char *identity; /* NULL: the fleet's key */
	const char *strict;   /* NULL: "yes" */
	int max_channels;     /* MaxChannelsPerSession, 0 = daemon default */
	int max_sessions;     /* MaxSessionsPerHost, 0 = daemon default */
	int workers;          /* 0: 2 */
	const char *extra;    /* more config text, may be NULL */
};

struct tdaemon {
	pid_t pid;                 /* 0 when not running */
	char dir[TCLIENT_MAX_DIR]; /* private mkdtemp directory */
	char conf[PATH_MAX];
	char sock[PATH_MAX];
	char log[PATH_MAX];         /* the daemon's stderr */
	char known_hosts[PATH_MAX]; /* UserKnownHostsFile, a copy */
};

/*
 * Create the daemon's directory with a copy of the fleet's known_hosts; the
 * caller may edit that copy before starting.  0, or -1 with err.
 */
int tdaemon_prepare(struct tdaemon *, const struct tfleet *, char *err,
		    size_t errlen);
/*
 * Write the configuration and start `$SSHPOOLD -d -f CONF -s SOCK`, under
 * the wrapper command if one is set; return once the socket accepts
 * (bounded).  The daemon is killed if the test process dies first.  0, or
 * -1 with err (the log's tail included).
 */
int tdaemon_start(struct tdaemon *, const struct tfleet *,
		  const struct tdaemon_opts *, char *err, size_t errlen);
/*
 * SIGTERM, wait (bounded), then SIGKILL.  Returns the wait status, or -1 if
 * the daemon was not running.
 */
int tdaemon_stop(struct tdaemon *);
/* Stop if running, and remove the directory. */
void tdaemon_cleanup(struct tdaemon *);
/* Resident set size of a process in KiB from /proc/PID/status, or -1. */
long tdaemon_rss_kb(pid_t);
/* Open descriptors of a process, or -1. */
int tdaemon_fd_count(pid_t);
/* Print the last lines of the daemon's log to stderr. */
void tdaemon_dump_log(const struct tdaemon *);
/* Lines of the daemon's log that contain text, or -1 if it is unreadable. */
int tdaemon_log_count(const struct tdaemon *, const char *text);

/* SSHPOOL_TEST_WRAPPER, or NULL when the daemon runs directly. */
const char *tclient_wrapper(void);
/* SSHPOOL_TEST_SLOWDOWN: 1 unless set to a larger number. */
double tclient_slowdown(void);
/* A wait of ms milliseconds stretched by the slowdown factor. */
int tclient_scaled_ms(int ms);

#endif
