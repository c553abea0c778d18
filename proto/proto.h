/* SPDX-License-Identifier: ISC */
/*
 * sshpool wire protocol v1: a pure codec shared by sshpoold and libsshpool.
 *
 * Messages are JSON objects, one per line (NDJSON), over a stream Unix
 * socket.  This module turns request lines into validated structs and
 * structs into lines; it performs no I/O and keeps no global state, so it
 * is safe to call from any thread.  proto/PROTOCOL.md is the specification.
 *
 * Errors are values: every parser returns 0 or -1 and fills a struct
 * proto_error with a stable code and a human message.
 */
#ifndef SSHPOOL_PROTO_H
#define SSHPOOL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1

/* Codec limits.  The daemon may configure lower values (struct proto_limits)
 * but never higher ones. */
#define PROTO_MAX_LINE (16u * 1024 * 1024)        /* hard cap of a line */
#define PROTO_DEFAULT_MAX_LINE (2u * 1024 * 1024) /* MaxLineLength */
#define PROTO_MAX_DEPTH 16                        /* JSON nesting depth */
#define PROTO_MAX_ID 64                           /* bytes of a string id */
#define PROTO_MAX_HOSTSPEC 320 /* bytes of "[user@]host[:port]" */
#define PROTO_MAX_USER 64
#define PROTO_MAX_PASSWORD 1024 /* bytes of a client's password */
#define PROTO_MAX_HOST 255
#define PROTO_MAX_COMMAND (64u * 1024)
#define PROTO_MAX_ENV 64 /* entries */
#define PROTO_MAX_ENV_NAME 128
#define PROTO_MAX_ENV_VALUE 4096
#define PROTO_MAX_TIMEOUT_MS (7LL * 24 * 3600 * 1000)
#define PROTO_MAX_MESSAGE 1024                 /* bytes of an error message */
#define PROTO_DEFAULT_MAX_HOSTS 10000          /* MaxHostsPerRequest */
#define PROTO_DEFAULT_MAX_STDIN (1024u * 1024) /* MaxStdinBytes */
#define PROTO_MAX_CHUNK (64u * 1024) /* raw bytes in one output event */
#define PROTO_MAX_FDS 16             /* descriptors passed with one request */

/* Stable error codes: the "code" member of an error event. */
enum proto_code {
	PROTO_E_NONE = 0,
	PROTO_E_BAD_REQUEST,
	PROTO_E_UNSUPPORTED_VERSION,
	PROTO_E_RESOLVE_FAILED,
	PROTO_E_CONNECT_FAILED,
	PROTO_E_CONNECT_TIMEOUT,
	PROTO_E_HOSTKEY_UNKNOWN,
	PROTO_E_HOSTKEY_MISMATCH,
	PROTO_E_AUTH_FAILED,
	PROTO_E_CHANNEL_FAILED,
	PROTO_E_CONNECTION_LOST,
	PROTO_E_TIMEOUT,
	PROTO_E_CANCELLED,
	PROTO_E_HOST_DOWN,
	PROTO_E_FORBIDDEN,
	PROTO_E_LIMIT,
	PROTO_E_SHUTDOWN,
	PROTO_E_INTERNAL,
	PROTO_E_PROXY_FAILED,  /* a jump host could not be reached or
				* logged in to (the message names it) */
	PROTO_E_PROXY_REFUSED, /* a jump host refused the direct-tcpip
				* channel to the next hop or the target */
	PROTO_E_COUNT
};
const char *proto_code_name(enum proto_code); /* "bad_request", ... */
enum proto_code
proto_code_from_name(const char *); /* PROTO_E_NONE if unknown */

struct proto_error {
	enum proto_code code;
	char message[PROTO_MAX_MESSAGE];
	/* The request's id as JSON text if it could be read, else "" (then
	 * the error reply carries "id": null). */
	char id[PROTO_MAX_ID + 3];
};

/* A growable output buffer.  Functions that append return 0, or -1 with
 * errno = ENOMEM (the buffer is then unchanged). */
struct proto_buf {
	char *data;
	size_t len;
	size_t cap;
};
void proto_buf_init(struct proto_buf *);
void proto_buf_reset(struct proto_buf *); /* len = 0, keeps memory */
void proto_buf_free(struct proto_buf *);
int proto_buf_append(struct proto_buf *, const void *, size_t);

/* "[user@]host[:port]", "[user@][v6addr][:port]" or a bare IPv6 address. */
struct proto_hostspec {
	char user[PROTO_MAX_USER + 1]; /* "" = not given */
	char host[PROTO_MAX_HOST + 1]; /* brackets removed */
	int port;                      /* 0 = not given */
};
int proto_hostspec_parse(const char *, struct proto_hostspec *,
			 struct proto_error *);

/*
 * A jump host chain as OpenSSH's ProxyJump writes it: host specs joined by
 * commas, "[user@]host[:port][,[user@]host[:port]...]", the first hop
 * first, or "none" (direct: no hops).  One syntax for the daemon's
 * configuration, the request member "jump" and the client library.
 */
#define PROTO_MAX_JUMP_HOPS 8
#define PROTO_MAX_JUMP (PROTO_MAX_JUMP_HOPS * (PROTO_MAX_HOSTSPEC + 1))
struct proto_jump {
	struct proto_hostspec hops[PROTO_MAX_JUMP_HOPS];
	size_t n; /* 0: "none" */
};
/* 0, or -1 with err naming the bad hop (PROTO_E_BAD_REQUEST). */
int proto_jump_parse(const char *, struct proto_jump *, struct proto_error *);

/*
 * Host sets.  A host pattern is a host spec in which bracketed numeric
 * ranges stand for many hosts: "web[01-20].example" (zero padding of the
 * lower bound kept), "web[1,3,5-7]", "10.0.[0-3].[1-254]" (the leftmost
 * range varies slowest).  Brackets holding anything but digits, ',' and '-'
 * are literal text, so "[::1]:22" is not a range.
 */
#define PROTO_MAX_HOSTPATTERN 1024  /* bytes of a pattern before expansion */
#define PROTO_MAX_HOSTSET_RANGES 16 /* bracketed ranges in one pattern */
#define PROTO_MAX_RANGE_DIGITS 9    /* digits of one range bound */

/*
 * Call emit once per host of the pattern, in order.  Returns the number of
 * hosts, or -1: a malformed pattern (PROTO_E_BAD_REQUEST), more than max
 * hosts (PROTO_E_LIMIT; nothing is emitted then), or emit returned
 * non-zero (err->code is then PROTO_E_NONE).  A pattern without ranges
 * yields itself.  The emitted strings are not validated as host specs.
 */
int proto_hostset_expand(const char *pattern,
			 int (*emit)(const char *host, void *arg), void *arg,
			 size_t max, struct proto_error *);
/* 1 if pattern holds at least one range (then it is not a plain spec). */
int proto_hostset_has_range(const char *pattern);

/*
 * Does an exclusion list name this host spec?  An entry matches when it
 * equals the whole spec or the spec's host name ("web1" excludes
 * "root@web1:2222"); an entry holding '*' or '?' is a shell glob matched
 * the same two ways.  Entries are already expanded (no ranges).
 */
int proto_hostspec_excluded(const char *spec, char *const *exclude,
			    size_t nexclude);

/*
 * The same list compiled for many hosts: exact entries hashed, each
 * distinct glob compiled once.  Compiling and matching count steps (one
 * per byte of pattern compiled, host looked up, glob tried or element
 * compared) against budget, so a
 * request's exclusions cost at most about budget steps in all, however
 * many hosts and patterns it names; PROTO_MAX_EXCLUDE_STEPS is the codec's
 * budget per request.  proto_exclude_new returns 0, or -1 with err: a glob
 * whose bracket expression the matcher does not take ("[=", "[.", an
 * unknown class, a range ending in '['; PROTO_E_BAD_REQUEST), over the
 * budget (PROTO_E_LIMIT), out of memory.  The entries are borrowed: they
 * must outlive the set.  proto_exclude_match returns 1 (excluded), 0, or
 * -1 once the budget is spent (the set answers -1 from then on).
 */
#define PROTO_MAX_EXCLUDE_STEPS (1024u * 1024)
struct proto_exclude;
int proto_exclude_new(char *const *exclude, size_t nexclude, size_t budget,
		      struct proto_exclude **, struct proto_error *);
int proto_exclude_match(struct proto_exclude *, const char *spec);
size_t proto_exclude_steps(const struct proto_exclude *);
void proto_exclude_free(struct proto_exclude *);

/* Base64 (RFC 4648, with padding; proto_b64.c).  encode writes a
 * NUL-terminated string of proto_b64_len(n) bytes plus NUL; decode returns
 * the byte count or -1 on malformed input; dst needs
 * proto_b64_maxdecoded(srclen) bytes.  decoded_len gives the exact size of
 * well-padded input from its length and padding alone, or -1.  The _scalar
 * variants never use vector instructions (the reference for tests). */
size_t proto_b64_len(size_t n);
size_t proto_b64_maxdecoded(size_t n);
long proto_b64_decoded_len(const char *src, size_t srclen);
void proto_b64_encode(char *dst, const unsigned char *src, size_t n);
long proto_b64_decode(unsigned char *dst, const char *src, size_t srclen);
void proto_b64_encode_scalar(char *dst, const unsigned char *src, size_t n);
long proto_b64_decode_scalar(unsigned char *dst, const char *src,
			     size_t srclen);

/* ---- Requests (client -> daemon) ---- */

enum proto_op {
	PROTO_OP_HELLO,
	PROTO_OP_RUN,
	PROTO_OP_CONNECT,
	PROTO_OP_CANCEL,
	PROTO_OP_STATUS,
	PROTO_OP_DISCONNECT,
	PROTO_OP_COUNT
};
const char *proto_op_name(enum proto_op);

/*
 * What a descriptor passed with a request (SCM_RIGHTS, PROTOCOL.md section
 * 1.8) is, one per entry of its "fds" member.  proto_fds.c holds the table
 * of roles: a new role is one row there and one value here.
 */
enum proto_fd_role {
	PROTO_FD_AGENT, /* "agent": a connected socket to an ssh-agent */
	PROTO_FD_KEY,   /* "key": an open private key file */
	PROTO_FD_ROLE_COUNT
};
const char *proto_fd_role_name(enum proto_fd_role); /* "agent", ... */

struct proto_env {
	char *name;
	char *value;
};

/*
 * The limits a request is parsed under.  max_stdin and max_env are taken as
 * they are: 0 refuses standard input (any byte of it) or env (any entry).
 * max_line, max_hosts and max_depth cannot be 0: there 0 means the default.
 * Values above the codec's caps are capped.
 */
struct proto_limits {
	size_t max_line;
	size_t max_hosts;
	size_t max_stdin;
	size_t max_env;
	int max_depth;
};
void proto_limits_default(struct proto_limits *);

struct proto_request {
	enum proto_op op;
	/* The id as JSON text: a quoted string or a decimal integer; it is
	 * echoed verbatim in every event of the request. */
	char id[PROTO_MAX_ID + 3];

	/* hello */
	int version_min, version_max; /* from "versions": [..] */
	char *client;                 /* optional client name, NULL if absent */

	/* run, connect, disconnect */
	/* Host specs with ranges expanded, excluded hosts dropped; "@NAME"
	 * group references are kept for the daemon to expand. */
	char **hosts;
	size_t nhosts;
	/* "exclude", ranges expanded: the daemon applies it to the members
	 * of groups (proto_hostspec_excluded); hosts is already filtered. */
	char **exclude;
	size_t nexclude;
	/* exclude compiled, with what is left of its budget; NULL when the
	 * request has no exclude or was not parsed by the codec. */
	struct proto_exclude *exclude_set;
	char *user;     /* default user, NULL if absent */
	char *password; /* the client's own, NULL if absent; wiped on free */
	char *jump;     /* "jump": a ProxyJump chain or "none" overriding the
			 * configuration's for the request's hosts; NULL absent */
	char *command;  /* run only */
	long long timeout_ms;      /* 0 = none */
	long long idle_timeout_ms; /* 0 = none: "idle_timeout" */
	int pty;
	int forward_agent; /* the client's agent (an "agent" fd) forwarded */
	struct proto_env *env;
	size_t nenv;
	unsigned char *stdin_data; /* decoded; NULL if absent */
	size_t stdin_len;
	/* run, connect: "fds", the role of each descriptor the line
	 * announces, in the order they were passed. */
	enum proto_fd_role fds[PROTO_MAX_FDS];
	size_t nfds;

	/* cancel */
	char target[PROTO_MAX_ID + 3]; /* id of the request to cancel */
};

/* Parse and fully validate one request line (without its newline).  On
 * error, err->id holds the request id when it was readable so the reply can
 * name it. */
int proto_request_parse(const char *line, size_t len,
			const struct proto_limits *, struct proto_request **out,
			struct proto_error *err);
void proto_request_free(struct proto_request *);

/* Encode a request as one line, newline included (client side).  The
 * request's id must already be valid JSON text (see proto_id_*). */
int proto_request_encode(struct proto_buf *, const struct proto_request *);

/* Build id text from a client value. */
void proto_id_from_u64(char id[PROTO_MAX_ID + 3], uint64_t);
int proto_id_from_string(char id[PROTO_MAX_ID + 3], const char *,
			 struct proto_error *);

/* ---- Events (daemon -> client) ---- */

enum proto_event_type {
	PROTO_EV_HELLO,
	PROTO_EV_START,
	PROTO_EV_STDOUT,
	PROTO_EV_STDERR,
	PROTO_EV_EXIT,
	PROTO_EV_ERROR,
	PROTO_EV_CONNECTED,
	PROTO_EV_DONE,
	PROTO_EV_CANCEL,
	PROTO_EV_STATUS,
	PROTO_EV_DISCONNECTED,
	PROTO_EV_COUNT
};
const char *proto_event_name(enum proto_event_type);

/*
 * Encoders append one complete line (newline included) to the buffer.  id is
 * JSON text as in struct proto_request, or NULL for null; host is the spec
 * exactly as the request gave it.  Strings are JSON-escaped; invalid UTF-8
 * in messages is replaced by U+FFFD so every line is valid JSON.
 */
int proto_ev_hello(struct proto_buf *, const char *id, int version,
		   const char *server, const struct proto_limits *);
int proto_ev_start(struct proto_buf *, const char *id, const char *host);
int proto_ev_output(struct proto_buf *, const char *id, const char *host,
		    int is_stderr, const void *data, size_t len);
/* signal == NULL: normal exit with status; else killed by signal ("TERM",
 * without "SIG") and status is ignored. */
int proto_ev_exit(struct proto_buf *, const char *id, const char *host,
		  int status, const char *signal, long long duration_ms);
/* host == NULL: a request-level error (ends the request). */
int proto_ev_error(struct proto_buf *, const char *id, const char *host,
		   enum proto_code, const char *message, long long duration_ms);
int proto_ev_connected(struct proto_buf *, const char *id, const char *host,
		       int sessions, long long duration_ms);
/* sessions: closed at once (idle); draining: close when their jobs end. */
int proto_ev_disconnected(struct proto_buf *, const char *id, const char *host,
			  int sessions, int draining, long long duration_ms);
struct proto_done {
	size_t hosts;  /* hosts in the request */
	size_t ok;     /* exit status 0, or connected */
	size_t failed; /* exited non-zero or killed by a signal */
	size_t errors; /* error events */
	long long duration_ms;
};
int proto_ev_done(struct proto_buf *, const char *id,
		  const struct proto_done *);
int proto_ev_cancel(struct proto_buf *, const char *id, const char *target,
		    int found);
/*
 * status: the daemon builds the "hosts" and "workers" arrays itself (each
 * element a JSON object produced by proto_status_host / proto_status_worker)
 * and passes them joined by commas, without brackets.
 */
struct proto_status_host {
	const char *host;  /* "user@host:port" pool key */
	const char *state; /* idle, connecting, up, degraded, backoff, down */
	int worker;
	int sessions;   /* open connections */
	int connecting; /* connections still in handshake */
	int channels_busy;
	int channels_max;            /* sum of current caps of open sessions */
	int queued;                  /* jobs waiting for a channel */
	unsigned long long jobs;     /* jobs started on this host, ever */
	unsigned long long connects; /* successful handshakes, ever */
	unsigned long long failures; /* failed connection attempts, ever */
	unsigned long long reconnects; /* sessions re-opened after a loss */
	unsigned long long lost;       /* sessions lost (dead peer, error) */
	long long rtt_ms;         /* last keepalive round trip, -1 = none yet */
	long long retry_in_ms;    /* backoff/down: next attempt in; -1 = none */
	const char *last_error;   /* NULL if none */
	const char *credential;   /* "daemon" or "client key"; NULL: daemon */
	long long credential_uid; /* whose the client's credential is, -1
				   * (and not shown without credential) */
	const char *hostname;     /* HostName when it differs from the name;
				   * NULL: not shown */
	const char *jump;         /* the hops, "user@h1:port,user@h2:port";
				   * NULL: direct, not shown */
	int tunnels; /* tunnels this pool's sessions carry as a hop;
		      * negative: not shown */
};
/* Every member at its "not shown" value: what encoders start from. */
void proto_status_host_init(struct proto_status_host *);
int proto_status_host(struct proto_buf *, const struct proto_status_host *);
struct proto_status_worker {
	int index;
	int hosts;
	int sessions;
	int jobs;
	long long heartbeat_age_ms;
	int stuck; /* heartbeat older than the daemon's limit */
};
int proto_status_worker(struct proto_buf *, const struct proto_status_worker *);
int proto_ev_status(struct proto_buf *, const char *id, const char *hosts_json,
		    const char *workers_json);

/* A decoded event (client side).  Pointers point into the event's own
 * storage and live until proto_event_free. */
struct proto_event {
	enum proto_event_type type;
	char id[PROTO_MAX_ID + 3]; /* JSON text, "null" for null */
	char *host;                /* NULL if absent */
	unsigned char *data;       /* stdout/stderr, decoded */
	size_t len;
	/* stdout/stderr decoded by the split path: the base64 text was
	 * line[data_off, data_off + data_textlen), followed by "} and the
	 * end of the line, and is exactly what proto_b64_encode gives for
	 * data (the decoder accepts one encoding per byte string);
	 * data_textlen is 0 otherwise. */
	size_t data_off, data_textlen;
	int status;            /* exit; -1 if killed by a signal */
	char *signal;          /* exit; NULL if exited normally */
	enum proto_code code;  /* error */
	char *message;         /* error */
	long long duration_ms; /* exit, error, connected, done; -1 absent */
	int sessions;          /* connected, disconnected */
	int draining;          /* disconnected */
	int version;           /* hello */
	char *server;          /* hello */
	struct proto_limits limits;    /* hello */
	struct proto_done done;        /* done */
	char target[PROTO_MAX_ID + 3]; /* cancel */
	int found;                     /* cancel */
	char *json; /* status: the whole line, for callers that want it */
};
int proto_event_parse(const char *line, size_t len, struct proto_event **out,
		      struct proto_error *err);
void proto_event_free(struct proto_event *);

#endif
