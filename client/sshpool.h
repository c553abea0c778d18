/* SPDX-License-Identifier: ISC */
/*
 * libsshpool: client library for sshpoold, the pooled SSH command runner.
 *
 * The core is non-blocking in the style of libpq's async API and curl's
 * multi interface: requests are queued with sp_send_*(), the caller watches
 * sp_fd() in its own event loop (for writing only while sp_want_write() is
 * true), calls sp_flush() when writable and sp_consume() when readable, then
 * takes events with sp_next_event() until it returns 0.  sp_connect(),
 * sp_wait() and sp_run_wait() are blocking conveniences built on that core.
 *
 * Many requests may run at once on one connection; the library assigns each
 * a positive integer id and every event names the id of its request.  One
 * sp_client must be used by one thread at a time.  Functions report failure
 * as a return value and leave a message in sp_client_error(); none of them
 * aborts on bad input or on daemon trouble.
 */
#ifndef SSHPOOL_H
#define SSHPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SP_PROTOCOL_VERSION 1

typedef struct sp_client sp_client;
typedef struct sp_event sp_event;
typedef struct sp_run_opts sp_run_opts;

/* ---- Connection ---- */

/*
 * Write the socket path used when none is given and $SSHPOOL_SOCKET is unset:
 * /run/sshpool/sshpoold.sock for root, else
 * $XDG_RUNTIME_DIR/sshpool/sshpoold.sock or /tmp/sshpool-$UID/sshpoold.sock.
 * Returns the length of the full path like snprintf (truncated if >= size).
 */
size_t sp_default_socket_path(char *buf, size_t size);

/*
 * Connect and exchange hello, blocking (bounded by an internal timeout).
 * path NULL means $SSHPOOL_SOCKET, else sp_default_socket_path().  Returns
 * NULL on failure with a message in err (which may be NULL).
 */
sp_client *sp_connect(const char *path, char *err, size_t errlen);

/*
 * Non-blocking variants: connect (or adopt an already connected stream
 * socket, which the client then owns and closes, also when sp_adopt_fd
 * fails) and queue a hello without
 * waiting for the reply; it arrives later as an SP_EV_HELLO event (or an
 * SP_EV_ERROR if the daemon refuses the protocol version).  Requests may be
 * sent before the reply.
 */
sp_client *sp_connect_start(const char *path, char *err, size_t errlen);
sp_client *sp_adopt_fd(int fd, char *err, size_t errlen);

void sp_close(sp_client *);

/* The socket, for poll()/epoll/libevent.  Always watch it for reading;
 * watch for writing only while sp_want_write() is non-zero. */
int sp_fd(const sp_client *);
int sp_want_write(const sp_client *);

/* Write queued requests without blocking: 0 all written, 1 some remain,
 * -1 error (connection lost). */
int sp_flush(sp_client *);

/* Read what is available without blocking: 0, or -1 on end of file or
 * error.  Events read before the end are still returned by sp_next_event. */
int sp_consume(sp_client *);

/*
 * Take the next event: 1 with *out set (free it with sp_event_free), 0 when
 * none is buffered, -1 when none is buffered and the connection is closed
 * or broken (see sp_client_error).  Call it until it returns 0 after every
 * sp_consume(): the library stops reading while much input is unclaimed.
 */
int sp_next_event(sp_client *, sp_event **out);

/* Requests sent whose final event has not been taken yet. */
size_t sp_pending(const sp_client *);

/*
 * Block until an event is available (1), timeout_ms passes (0; negative
 * waits forever), a signal interrupts the wait (0), or the connection fails
 * (-1).  Flushes queued requests meanwhile.
 */
int sp_wait(sp_client *, int timeout_ms);

/* Text of the last error; "" if none. */
const char *sp_client_error(const sp_client *);

/* From the daemon's hello reply: NULL / 0 until it arrived. */
const char *sp_server_name(const sp_client *);
size_t sp_server_max_hosts(const sp_client *);
size_t sp_server_max_stdin(const sp_client *); /* bytes of stdin per run */

/*
 * Cap of one incoming event line (default and maximum 16 MiB).  A longer
 * line breaks the connection.  Returns -1 if bytes is out of range.
 */
int sp_set_max_line(sp_client *, size_t bytes);

/* ---- Requests ---- */

/*
 * Options of a run request.  Setters return 0, or -1 with a message in
 * sp_run_opts_error() and the options unchanged.  Strings are copied.
 */
sp_run_opts *sp_run_opts_new(void);
void sp_run_opts_free(sp_run_opts *);
const char *sp_run_opts_error(const sp_run_opts *);
/*
 * One "[user@]host[:port]", "[user@][v6addr]:port" or bare IPv6 address, a
 * host pattern with ranges ("web[01-20].example", "10.0.[0-3].[1-254]",
 * expanded by the daemon; see sp_hostset_expand) or "@NAME", a host group
 * of the daemon's configuration.
 */
int sp_run_opts_add_host(sp_run_opts *, const char *host);
/* A comma-separated list of the above; spaces around items are ignored and
 * commas inside brackets belong to a range ("web[1,3],db1"). */
int sp_run_opts_add_hosts(sp_run_opts *, const char *list);
/*
 * Leave out hosts matching this pattern (ranges allowed): it matches a host
 * spec equal to it or whose host name equals it, or, holding '*' or '?',
 * matching it as a shell glob.  The daemon applies it after expanding
 * ranges and groups.
 */
int sp_run_opts_add_exclude(sp_run_opts *, const char *pattern);
size_t sp_run_opts_nexclude(const sp_run_opts *);
size_t sp_run_opts_nhosts(const sp_run_opts *);
const char *sp_run_opts_host(const sp_run_opts *, size_t i);
int sp_run_opts_set_command(sp_run_opts *, const char *command);
/* Default user for hosts given without "user@"; NULL clears it. */
int sp_run_opts_set_user(sp_run_opts *, const char *user);
/*
 * Jump hosts for every host of the request, replacing the daemon's
 * ProxyJump for them: "[user@]host[:port][,...]" (the first hop first, at
 * most 8, an IPv6 address in brackets) or "none" to connect directly.
 * Checked here as the daemon checks it.  Hops log in with the daemon's
 * own credentials; a key, agent or password passed with the request is
 * for the hosts only.  Sent with run, connect and disconnect requests (a
 * disconnect through hops names the pools reached through them).  NULL
 * clears it: the daemon's configuration decides.
 */
int sp_run_opts_set_jump(sp_run_opts *, const char *spec);
/* Seconds (fractions allowed), 0 = no timeout.  When it passes, the remote
 * command is stopped (TERM, then KILL) and the host ends with an error
 * "timeout". */
int sp_run_opts_set_timeout(sp_run_opts *, double seconds);
/* Seconds without any output after which a host's command is stopped the
 * same way; 0 = none. */
int sp_run_opts_set_idle_timeout(sp_run_opts *, double seconds);
/* Adding a name again replaces its value. */
int sp_run_opts_add_env(sp_run_opts *, const char *name, const char *value);
int sp_run_opts_set_pty(sp_run_opts *, int on);
/* Bytes fed to every host's standard input; NULL/0 clears. */
int sp_run_opts_set_stdin(sp_run_opts *, const void *data, size_t len);

/* What a descriptor passed to the daemon is. */
enum sp_fd_role {
	SP_FD_AGENT, /* a connected socket to the caller's ssh-agent */
	SP_FD_KEY    /* an open private key file (OpenSSH or PEM format) */
};
/*
 * Pass a descriptor with the request, over the socket (SCM_RIGHTS): the
 * daemon never opens a file the client names.  The library duplicates fd
 * (close-on-exec): the caller keeps its own and may close it at once; the
 * duplicate is closed by sp_run_opts_free.  Each request sent with these
 * options carries a further duplicate, closed once it is written.  Sent
 * by sp_send_run, sp_send_connect_opts, sp_send_disconnect (whose key
 * names the pools it opened) and sp_run_wait.  At most 16 per request.  The
 * daemon checks each against its role (a key is a regular file of at most 64
 * KiB, an agent a Unix socket) and refuses the request otherwise.
 */
int sp_run_opts_add_fd(sp_run_opts *, enum sp_fd_role role, int fd);
/*
 * Forward the caller's agent (the SP_FD_AGENT passed with the request) to
 * the hosts for the command's life, like ssh -A: programs on the host
 * may list its keys and ask it to sign, nothing else.  The daemon refuses
 * a request with it and no agent.  Off by default.
 */
int sp_run_opts_set_forward_agent(sp_run_opts *, int on);
/*
 * The caller's own password for the hosts (password and
 * keyboard-interactive authentication): len bytes of password, 1..1024,
 * no NUL, copied; NULL clears.  The copy is wiped when replaced and by
 * sp_run_opts_free.  Sent with run, connect and disconnect requests: the
 * daemon keeps the sessions it opens apart for that user and password
 * (status says "client password"), and refuses it with forbidden under
 * AllowClientCredentials no.
 */
int sp_run_opts_set_password(sp_run_opts *, const void *password, size_t len);
size_t sp_run_opts_nfds(const sp_run_opts *);

/*
 * Queue a request and try to write it.  The request is validated locally
 * with the daemon's own rules and announced limits first, so a bad request
 * fails here (-1, sp_client_error) instead of on the daemon.  On success the
 * new request id is stored in *request_id (which may be NULL).
 */
int sp_send_run(sp_client *, const sp_run_opts *, uint64_t *request_id);
/* Warm up connections to hosts; user is the default user or NULL. */
int sp_send_connect(sp_client *, const char *const *hosts, size_t nhosts,
		    const char *user, uint64_t *request_id);
/* The same with hosts, exclusions and user taken from run options (the
 * command and the other options are ignored). */
int sp_send_connect_opts(sp_client *, const sp_run_opts *,
			 uint64_t *request_id);
/*
 * Close the pooled sessions to these hosts (hosts, exclusions and user from
 * the options): idle sessions at once, busy ones when their running jobs
 * end.  Each host gets an SP_EV_DISCONNECTED, then SP_EV_DONE.
 */
int sp_send_disconnect(sp_client *, const sp_run_opts *, uint64_t *request_id);
/* A hello round trip (its reply is an SP_EV_HELLO): a liveness probe. */
int sp_send_hello(sp_client *, uint64_t *request_id);
/* Cancel a run or connect sent on this connection. */
int sp_send_cancel(sp_client *, uint64_t target, uint64_t *request_id);
int sp_send_status(sp_client *, uint64_t *request_id);

/* ---- Events ---- */

enum sp_event_type {
	SP_EV_HELLO,
	SP_EV_START, /* a host got a channel */
	SP_EV_STDOUT,
	SP_EV_STDERR,
	SP_EV_EXIT,  /* a host's command ended: status or signal */
	SP_EV_ERROR, /* with a host: that host failed; without: the request */
	SP_EV_CONNECTED,   /* a host of a connect request is up */
	SP_EV_DONE,        /* a run or connect finished: counters */
	SP_EV_CANCEL,      /* reply to a cancel */
	SP_EV_STATUS,      /* reply to a status */
	SP_EV_DISCONNECTED /* a host of a disconnect request is done */
};

enum sp_event_type sp_event_type(const sp_event *);
const char *sp_event_type_name(enum sp_event_type); /* "stdout", ... */
/* The request id; 0 when the daemon could not tell (id null). */
uint64_t sp_event_request_id(const sp_event *);
/* 1 if this event ends its request (done, cancel, status, hello, or an
 * error without a host). */
int sp_event_is_final(const sp_event *);
/* Host spec exactly as the request gave it; NULL for request-level events. */
const char *sp_event_host(const sp_event *);
/* Output bytes of SP_EV_STDOUT / SP_EV_STDERR (any bytes, not terminated). */
const void *sp_event_data(const sp_event *, size_t *len);
/* SP_EV_EXIT: exit status, or -1 if killed by a signal (or not an exit). */
int sp_event_exit_status(const sp_event *);
/* SP_EV_EXIT: signal name without "SIG" ("KILL"), or NULL. */
const char *sp_event_signal(const sp_event *);
/* SP_EV_ERROR: stable code ("connect_failed", ...) and message; else NULL. */
const char *sp_event_error_code(const sp_event *);
const char *sp_event_message(const sp_event *);
/* exit, error, connected, done: elapsed milliseconds; else -1. */
long long sp_event_duration_ms(const sp_event *);
/* SP_EV_CONNECTED: open connections to the host; SP_EV_DISCONNECTED:
 * connections closed at once; else -1. */
int sp_event_sessions(const sp_event *);
/* SP_EV_DISCONNECTED: connections that close when their jobs end; else
 * -1. */
int sp_event_draining(const sp_event *);
/* SP_EV_DONE: counters (any pointer may be NULL); -1 for other events. */
int sp_event_done_counts(const sp_event *, size_t *hosts, size_t *ok,
			 size_t *failed, size_t *errors);
/* SP_EV_CANCEL: the cancelled request id and whether it was found. */
uint64_t sp_event_cancel_target(const sp_event *);
int sp_event_cancel_found(const sp_event *);
/* SP_EV_HELLO: server name and protocol version. */
const char *sp_event_server(const sp_event *);
int sp_event_version(const sp_event *);
/* The event's line as received, without the newline.  For output events
 * the first call rebuilds the line's base64 text from the data (the
 * encoding is exact), so call it from the one thread using the event. */
const char *sp_event_json(const sp_event *, size_t *len);
void sp_event_free(sp_event *);

/*
 * SP_EV_STATUS contents, by member name as in the protocol ("host",
 * "state", "sessions", "connecting", "channels_busy", "channels_max",
 * "queued", "jobs", "connects", "failures", "lost", "reconnects", "rtt_ms",
 * "retry_in_ms", "last_error", "credential", "credential_uid", and when
 * present "hostname", "jump" and "tunnels"; workers: "index", "hosts",
 * "sessions",
 * "jobs", "heartbeat_age_ms", "stuck").  Booleans read as 0/1; missing
 * members, wrong types and nulls give NULL / -1.
 */
size_t sp_status_nhosts(const sp_event *);
const char *sp_status_host_str(const sp_event *, size_t i, const char *key);
long long sp_status_host_int(const sp_event *, size_t i, const char *key);
size_t sp_status_nworkers(const sp_event *);
long long sp_status_worker_int(const sp_event *, size_t i, const char *key);

/* ---- Host sets ---- */

/* Called once per host; return 0 to go on, non-zero to stop. */
typedef int (*sp_host_cb)(const char *host, void *arg);

/*
 * Expand a host pattern the way the daemon does: bracketed ranges
 * "web[01-20]" (zero padding kept), lists "web[1,3,5-7]", several ranges
 * "10.0.[0-3].[1-254]" (leftmost slowest); other brackets ("[::1]:22") are
 * literal.  Returns the number of hosts, or -1 with a message in err when
 * the pattern is malformed, expands to more than max hosts (then cb is
 * never called) or cb stopped the expansion.
 */
long sp_hostset_expand(const char *pattern, sp_host_cb cb, void *arg,
		       size_t max, char *err, size_t errlen);
/* Does an expanded exclusion list name this host spec?  (The rules of
 * sp_run_opts_add_exclude.) */
int sp_host_excluded(const char *spec, const char *const *exclude, size_t n);

/* ---- Blocking convenience ---- */

/* Called for every event of the request; return non-zero to stop waiting
 * (the request keeps running; cancel it if it should not). */
typedef int (*sp_event_cb)(const sp_event *, void *arg);

/*
 * Send a run and wait for its final event, calling cb (may be NULL) for each
 * of its events in order.  Events of other requests stay queued for
 * sp_next_event().  Returns 0 after the final event, 1 if cb stopped the
 * wait, -1 on failure (sp_client_error).
 */
int sp_run_wait(sp_client *, const sp_run_opts *, sp_event_cb cb, void *arg);

/* Same for any request already sent: wait for request_id's final event.
 * Fails at once if that request is not in flight. */
int sp_request_wait(sp_client *, uint64_t request_id, sp_event_cb cb,
		    void *arg);

#ifdef __cplusplus
}
#endif

#endif
