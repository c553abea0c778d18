/* SPDX-License-Identifier: ISC */
/*
 * What the files of libsshpool share and nothing outside it sees: the
 * bodies of the opaque handles (the connection, an event, run options),
 * the library's limits and the helpers one file offers the others.  The
 * public interface is sshpool.h.
 */
#ifndef SSHPOOL_CLIENT_INT_H
#define SSHPOOL_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "client-clock.h"
#include "proto.h"
#include "sshpool.h"

#define SP_ERRLEN 512
/* Room for one read from the socket: several output events (about 88 KiB
 * each at most) per system call, and fewer wake-ups of a daemon that
 * waits for the socket to drain. */
#define SP_READ_CHUNK (256u * 1024)
/* Stop reading from the socket while this much complete input waits to be
 * claimed with sp_next_event. */
#define SP_INBUF_HIGH (1024u * 1024)
#define SP_MIN_MAX_LINE 1024u
#define SP_HELLO_TIMEOUT_MS 10000
/* Largest stdin accepted by the setter; the daemon's limit is checked when
 * sending. */
#define SP_MAX_STDIN (PROTO_MAX_LINE / 4 * 3 - 4096)
#define SP_MAX_HOSTS_OPTS 1000000u
#define SP_CLIENT_NAME "libsshpool/" SSHPOOL_VERSION
#define SP_NONE ((size_t)-1)
/* The service user of the system daemon (systemd/sshpool.sysusers): besides
 * root and the client itself the only owner of a socket, or of its
 * directory, that the library talks to. */
#define SP_DAEMON_USER "sshpool"
#define SP_NSS_BUF 16384             /* getpwnam_r buffer */
#define SP_MAX_ID ((1ull << 53) - 1) /* largest integer id on the wire */

struct sp_event {
	struct proto_event *pe;
	enum sp_event_type type;
	uint64_t id;
	uint64_t target;
	char *line;
	size_t linelen;
	/* The base64 text of an output line is not copied into line until
	 * sp_event_json asks for it: it is re-encoded from the data. */
	int line_pending;
	json_object *status;   /* SP_EV_STATUS: the parsed line */
	struct sp_event *next; /* deferred queue */
};

/* Descriptors that go with the queued line out[off, end): sp_flush sends
 * that line's first bytes with them in one sendmsg. */
struct sp_attach {
	size_t off, end;
	int fds[PROTO_MAX_FDS]; /* duplicates, closed once sent */
	size_t nfds;
};

struct sp_pending {
	uint64_t id;
	enum proto_op op;
};

struct sp_client {
	int fd;
	int closed; /* no more input: EOF or read/write error */
	int failed; /* protocol broken: no more events either */
	char err[SP_ERRLEN];
	/* The last event decoded, if it was an error about the connection
	 * itself ("code: message"); else empty. */
	char last_error[SP_ERRLEN];

	uint64_t next_id;
	uint64_t hello_id;
	struct proto_limits limits; /* announced by the daemon, else defaults */
	char *server;

	struct proto_buf out;
	size_t out_off;           /* bytes of out already written */
	struct sp_attach *attach; /* by offset; all before out.len */
	size_t nattach, attach_cap;

	char *in;
	size_t in_cap, in_len;
	size_t in_off;  /* start of the first unclaimed line */
	size_t in_scan; /* scanned up to here without finding a newline */
	size_t in_eol;  /* newline ending the first line, or SP_NONE */
	size_t max_line;

	struct sp_pending *pending;
	size_t npending, pending_cap;

	/* Events taken off the input while waiting for another request. */
	struct sp_event *deferred, *deferred_tail;
};

struct sp_run_opts {
	char **hosts;
	size_t nhosts, hosts_cap;
	char **exclude;
	size_t nexclude, exclude_cap;
	char *command;
	char *user;
	char *password; /* sp_run_opts_set_password; wiped on free */
	long long timeout_ms;
	long long idle_timeout_ms;
	struct proto_env *env;
	size_t nenv;
	int pty;
	int forward_agent;
	char *jump; /* "jump": hops or "none", NULL for the daemon's */
	unsigned char *stdin_data;
	size_t stdin_len;
	int fds[PROTO_MAX_FDS]; /* the library's duplicates */
	enum proto_fd_role fd_roles[PROTO_MAX_FDS];
	size_t nfds;
	char err[SP_ERRLEN];
};

/* client.c */
/* Set an error text (the handle's, a run option set's or a caller's). */
void client_seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* client-io.c */
int client_io_have_line(sp_client *);

/* client-io.c: close the descriptors of lines not yet sent. */
void client_io_attach_free(sp_client *);

/* client-send.c */
int client_send_hello(sp_client *);
void client_send_remove_pending(sp_client *, uint64_t);

/* client-event.c */
int client_event_parse_next(sp_client *, struct sp_event **);
/* The daemon's reason for closing the connection, if its last line gave
 * one: 1 with "code: message" in buf, else 0. */
int client_event_last_word(const sp_client *, char *buf, size_t len);

#endif
