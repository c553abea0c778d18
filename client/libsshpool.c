/*
 * libsshpool: the client side of the sshpool protocol.  Owns one connection
 * to sshpoold: the outgoing request queue, the bounded input buffer that is
 * cut into lines and decoded into events lazily (so unclaimed input stays in
 * the socket instead of growing memory), request id assignment and the
 * table of requests still in flight.  The wire codec is proto/; this file
 * only adds I/O and state.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

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

struct sp_pending {
	uint64_t id;
	enum proto_op op;
};

struct sp_client {
	int fd;
	int closed; /* no more input: EOF or read/write error */
	int failed; /* protocol broken: no more events either */
	char err[SP_ERRLEN];

	uint64_t next_id;
	uint64_t hello_id;
	struct proto_limits limits; /* announced by the daemon, else defaults */
	char *server;

	struct proto_buf out;
	size_t out_off; /* bytes of out already written */

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
	long long timeout_ms;
	long long idle_timeout_ms;
	struct proto_env *env;
	size_t nenv;
	int pty;
	unsigned char *stdin_data;
	size_t stdin_len;
	char err[SP_ERRLEN];
};

static void client_seterr(sp_client *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
client_seterr(sp_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

static void errbuf_set(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Request ids we assign are decimal integers; anything else is not ours. */
static uint64_t
client_parse_id(const char *text)
{
	uint64_t v = 0;
	const char *p;

	if (text == NULL || *text == '\0')
		return 0;
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

size_t
sp_default_socket_path(char *buf, size_t size)
{
	const char *xdg;
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, size, "/run/sshpool/sshpoold.sock");
	else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && *xdg == '/')
		n = snprintf(buf, size, "%s/sshpool/sshpoold.sock", xdg);
	else
		n = snprintf(buf, size, "/tmp/sshpool-%u/sshpoold.sock",
			     (unsigned)geteuid());
	return n < 0 ? 0 : (size_t)n;
}

/* ---- Client lifetime ---- */

static int client_queue_hello(sp_client *);

sp_client *
sp_adopt_fd(int fd, char *err, size_t errlen)
{
	sp_client *c;
	int flags;

	if (fd < 0) {
		errbuf_set(err, errlen, "invalid file descriptor");
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		errbuf_set(err, errlen, "fcntl: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->next_id = 1;
	c->in_eol = SP_NONE;
	c->max_line = PROTO_MAX_LINE;
	proto_limits_default(&c->limits);
	proto_buf_init(&c->out);
	if (client_queue_hello(c) == -1) {
		errbuf_set(err, errlen, "%s", c->err);
		sp_close(c);
		return NULL;
	}
	return c;
}

static int
client_socket_path(const char *path, char *buf, size_t size, char *err,
		   size_t errlen)
{
	const char *env;
	size_t n;

	if (path == NULL && (env = getenv("SSHPOOL_SOCKET")) != NULL &&
	    *env != '\0')
		path = env;
	if (path != NULL)
		n = (size_t)snprintf(buf, size, "%s", path);
	else
		n = sp_default_socket_path(buf, size);
	if (n == 0 || n >= size) {
		errbuf_set(err, errlen, "socket path is empty or too long");
		return -1;
	}
	return 0;
}

sp_client *
sp_connect_start(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (client_socket_path(path, sun.sun_path, sizeof sun.sun_path, err,
			       errlen) == -1)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		errbuf_set(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	/* A Unix stream connect completes at once or fails; blocking here
	 * only waits while the daemon's backlog is full. */
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno == EINTR)
			continue;
		errbuf_set(err, errlen, "connect to %s: %s", sun.sun_path,
			   strerror(errno));
		close(fd);
		return NULL;
	}
	return sp_adopt_fd(fd, err, errlen);
}

sp_client *
sp_connect(const char *path, char *err, size_t errlen)
{
	sp_client *c;
	int r;

	if ((c = sp_connect_start(path, err, errlen)) == NULL)
		return NULL;
	r = sp_request_wait(c, c->hello_id, NULL, NULL);
	if (r == 0 && c->server == NULL) {
		/* The final event of the hello was an error: its message is
		 * in c->err. */
		r = -1;
	}
	if (r != 0) {
		errbuf_set(err, errlen, "hello: %s", c->err);
		sp_close(c);
		return NULL;
	}
	c->err[0] = '\0';
	return c;
}

static void
client_free_event_list(struct sp_event *ev)
{
	struct sp_event *next;

	for (; ev != NULL; ev = next) {
		next = ev->next;
		sp_event_free(ev);
	}
}

void
sp_close(sp_client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	proto_buf_free(&c->out);
	free(c->in);
	free(c->server);
	free(c->pending);
	client_free_event_list(c->deferred);
	free(c);
}

int
sp_fd(const sp_client *c)
{
	return c->fd;
}

int
sp_want_write(const sp_client *c)
{
	return !c->closed && c->out_off < c->out.len;
}

const char *
sp_client_error(const sp_client *c)
{
	return c->err;
}

const char *
sp_server_name(const sp_client *c)
{
	return c->server;
}

size_t
sp_server_max_hosts(const sp_client *c)
{
	return c->server != NULL ? c->limits.max_hosts : 0;
}

size_t
sp_server_max_stdin(const sp_client *c)
{
	return c->server != NULL ? c->limits.max_stdin : 0;
}

int
sp_set_max_line(sp_client *c, size_t bytes)
{
	if (bytes < SP_MIN_MAX_LINE || bytes > PROTO_MAX_LINE) {
		client_seterr(c, "max line must be %u..%u bytes",
			      SP_MIN_MAX_LINE, PROTO_MAX_LINE);
		return -1;
	}
	c->max_line = bytes;
	return 0;
}

size_t
sp_pending(const sp_client *c)
{
	return c->npending;
}

/* ---- Output ---- */

int
sp_flush(sp_client *c)
{
	ssize_t n;

	if (c->closed) {
		if (c->err[0] == '\0')
			client_seterr(c, "connection closed");
		return -1;
	}
	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off,
			 c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			client_seterr(c, "write to daemon: %s",
				      strerror(errno));
			c->closed = 1;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	proto_buf_reset(&c->out);
	c->out_off = 0;
	return 0;
}

static int
client_add_pending(sp_client *c, uint64_t id, enum proto_op op)
{
	struct sp_pending *p;
	size_t cap;

	if (c->npending == c->pending_cap) {
		cap = c->pending_cap == 0 ? 16 : c->pending_cap * 2;
		p = realloc(c->pending, cap * sizeof *p);
		if (p == NULL) {
			client_seterr(c, "out of memory");
			return -1;
		}
		c->pending = p;
		c->pending_cap = cap;
	}
	c->pending[c->npending].id = id;
	c->pending[c->npending].op = op;
	c->npending++;
	return 0;
}

static void
client_remove_pending(sp_client *c, uint64_t id)
{
	size_t i;

	for (i = 0; i < c->npending; i++) {
		if (c->pending[i].id == id) {
			c->pending[i] = c->pending[--c->npending];
			return;
		}
	}
}

/*
 * Encode, validate with the daemon's parser and limits, queue and try to
 * write one request.  Validating our own line means a bad host spec or an
 * oversized request is reported here, with the daemon's exact wording.
 */
static int
client_send(sp_client *c, struct proto_request *req, uint64_t *request_id)
{
	struct proto_buf line;
	struct proto_request *check = NULL;
	struct proto_error perr;
	uint64_t id;

	if (c->failed || c->closed) {
		if (c->err[0] == '\0')
			client_seterr(c, "connection closed");
		return -1;
	}
	if (c->next_id > SP_MAX_ID) {
		client_seterr(c, "request ids exhausted");
		return -1;
	}
	id = c->next_id;
	proto_id_from_u64(req->id, id);

	proto_buf_init(&line);
	if (proto_request_encode(&line, req) == -1) {
		client_seterr(c, "cannot encode %s request: %s",
			      proto_op_name(req->op), strerror(errno));
		proto_buf_free(&line);
		return -1;
	}
	if (line.len == 0 || line.data[line.len - 1] != '\n') {
		client_seterr(c, "encoded %s request is not a line",
			      proto_op_name(req->op));
		proto_buf_free(&line);
		return -1;
	}
	if (line.len - 1 > c->limits.max_line) {
		client_seterr(c,
			      "%s request is %zu bytes, the daemon accepts "
			      "at most %zu",
			      proto_op_name(req->op), line.len - 1,
			      c->limits.max_line);
		proto_buf_free(&line);
		return -1;
	}
	memset(&perr, 0, sizeof perr);
	if (proto_request_parse(line.data, line.len - 1, &c->limits, &check,
				&perr) == -1) {
		client_seterr(c, "%s", perr.message);
		proto_buf_free(&line);
		return -1;
	}
	proto_request_free(check);

	if (client_add_pending(c, id, req->op) == -1 ||
	    proto_buf_append(&c->out, line.data, line.len) == -1) {
		client_remove_pending(c, id);
		client_seterr(c, "out of memory");
		proto_buf_free(&line);
		return -1;
	}
	proto_buf_free(&line);
	c->next_id++;
	if (request_id != NULL)
		*request_id = id;
	if (sp_flush(c) == -1) {
		/* Queued but the connection is gone: the caller learns it
		 * now rather than from the next call. */
		return -1;
	}
	return 0;
}

static int
client_queue_hello(sp_client *c)
{
	struct proto_request req;

	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_HELLO;
	req.version_min = req.version_max = PROTO_VERSION;
	req.client = (char *)SP_CLIENT_NAME;
	return client_send(c, &req, &c->hello_id);
}

int
sp_send_run(sp_client *c, const sp_run_opts *o, uint64_t *request_id)
{
	struct proto_request req;

	if (o == NULL) {
		client_seterr(c, "no run options");
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_RUN;
	req.hosts = o->hosts;
	req.nhosts = o->nhosts;
	req.exclude = o->exclude;
	req.nexclude = o->nexclude;
	req.user = o->user;
	req.command = o->command;
	req.timeout_ms = o->timeout_ms;
	req.idle_timeout_ms = o->idle_timeout_ms;
	req.pty = o->pty;
	req.env = o->env;
	req.nenv = o->nenv;
	req.stdin_data = o->stdin_data;
	req.stdin_len = o->stdin_len;
	if (o->nhosts == 0) {
		client_seterr(c, "run: no hosts");
		return -1;
	}
	if (o->command == NULL) {
		client_seterr(c, "run: no command");
		return -1;
	}
	return client_send(c, &req, request_id);
}

int
sp_send_connect(sp_client *c, const char *const *hosts, size_t nhosts,
		const char *user, uint64_t *request_id)
{
	struct proto_request req;

	if (hosts == NULL || nhosts == 0) {
		client_seterr(c, "connect: no hosts");
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_CONNECT;
	/* The codec takes char ** but only reads the strings. */
	req.hosts = (char **)(uintptr_t)hosts;
	req.nhosts = nhosts;
	req.user = (char *)(uintptr_t)user;
	return client_send(c, &req, request_id);
}

/* connect and disconnect take hosts, exclude and user from run options. */
static int
client_send_hosts(sp_client *c, enum proto_op op, const sp_run_opts *o,
		  uint64_t *request_id)
{
	struct proto_request req;

	if (o == NULL || o->nhosts == 0) {
		client_seterr(c, "%s: no hosts", proto_op_name(op));
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = op;
	req.hosts = o->hosts;
	req.nhosts = o->nhosts;
	req.exclude = o->exclude;
	req.nexclude = o->nexclude;
	req.user = o->user;
	return client_send(c, &req, request_id);
}

int
sp_send_connect_opts(sp_client *c, const sp_run_opts *o, uint64_t *request_id)
{
	return client_send_hosts(c, PROTO_OP_CONNECT, o, request_id);
}

int
sp_send_disconnect(sp_client *c, const sp_run_opts *o, uint64_t *request_id)
{
	return client_send_hosts(c, PROTO_OP_DISCONNECT, o, request_id);
}

int
sp_send_hello(sp_client *c, uint64_t *request_id)
{
	struct proto_request req;

	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_HELLO;
	req.version_min = req.version_max = PROTO_VERSION;
	req.client = (char *)SP_CLIENT_NAME;
	return client_send(c, &req, request_id);
}

int
sp_send_cancel(sp_client *c, uint64_t target, uint64_t *request_id)
{
	struct proto_request req;

	if (target == 0) {
		client_seterr(c, "cancel: invalid target id");
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_CANCEL;
	proto_id_from_u64(req.target, target);
	return client_send(c, &req, request_id);
}

int
sp_send_status(sp_client *c, uint64_t *request_id)
{
	struct proto_request req;

	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_STATUS;
	return client_send(c, &req, request_id);
}

/* ---- Input ---- */

/* Find the newline ending the first unclaimed line, scanning each byte
 * once however the input arrives. */
static int
client_have_line(sp_client *c)
{
	char *nl;

	if (c->in_eol != SP_NONE)
		return 1;
	if (c->in_scan < c->in_len) {
		nl = memchr(c->in + c->in_scan, '\n', c->in_len - c->in_scan);
		if (nl != NULL) {
			c->in_eol = (size_t)(nl - c->in);
			return 1;
		}
		c->in_scan = c->in_len;
	}
	return 0;
}

static int
client_make_room(sp_client *c)
{
	size_t used = c->in_len - c->in_off, cap;
	char *p;

	if (c->in_cap - c->in_len >= SP_READ_CHUNK)
		return 0;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, used);
		c->in_scan -= c->in_off;
		if (c->in_eol != SP_NONE)
			c->in_eol -= c->in_off;
		c->in_len = used;
		c->in_off = 0;
		if (c->in_cap - c->in_len >= SP_READ_CHUNK)
			return 0;
	}
	cap = c->in_cap == 0 ? 2 * SP_READ_CHUNK : c->in_cap * 2;
	if ((p = realloc(c->in, cap)) == NULL) {
		client_seterr(c, "out of memory");
		return -1;
	}
	c->in = p;
	c->in_cap = cap;
	return 0;
}

int
sp_consume(sp_client *c)
{
	ssize_t n;

	if (c->failed || c->closed)
		return -1;
	for (;;) {
		if (client_have_line(c)) {
			/* Backpressure: leave input in the socket until the
			 * caller claims what is buffered. */
			if (c->in_len - c->in_off >= SP_INBUF_HIGH)
				return 0;
		} else if (c->in_len - c->in_off > c->max_line) {
			client_seterr(c,
				      "daemon sent a line longer than %zu "
				      "bytes",
				      c->max_line);
			c->failed = 1;
			return -1;
		}
		if (client_make_room(c) == -1) {
			c->failed = 1;
			return -1;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			client_seterr(
			    c, c->in_len > c->in_off
				   ? "daemon closed the connection mid-line"
				   : "daemon closed the connection");
			c->closed = 1;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		client_seterr(c, "read from daemon: %s", strerror(errno));
		c->closed = 1;
		return -1;
	}
}

static enum sp_event_type
client_map_type(enum proto_event_type t)
{
	switch (t) {
	case PROTO_EV_HELLO:
		return SP_EV_HELLO;
	case PROTO_EV_START:
		return SP_EV_START;
	case PROTO_EV_STDOUT:
		return SP_EV_STDOUT;
	case PROTO_EV_STDERR:
		return SP_EV_STDERR;
	case PROTO_EV_EXIT:
		return SP_EV_EXIT;
	case PROTO_EV_CONNECTED:
		return SP_EV_CONNECTED;
	case PROTO_EV_DONE:
		return SP_EV_DONE;
	case PROTO_EV_CANCEL:
		return SP_EV_CANCEL;
	case PROTO_EV_STATUS:
		return SP_EV_STATUS;
	case PROTO_EV_DISCONNECTED:
		return SP_EV_DISCONNECTED;
	case PROTO_EV_ERROR:
	default:
		return SP_EV_ERROR;
	}
}

static int
client_check_status(sp_client *c, struct sp_event *ev)
{
	struct json_tokener *tok;
	json_object *hosts, *workers;

	if ((tok = json_tokener_new_ex(PROTO_MAX_DEPTH)) == NULL) {
		client_seterr(c, "out of memory");
		return -1;
	}
	ev->status = json_tokener_parse_ex(tok, ev->line, (int)ev->linelen);
	json_tokener_free(tok);
	if (ev->status == NULL ||
	    !json_object_is_type(ev->status, json_type_object) ||
	    !json_object_object_get_ex(ev->status, "hosts", &hosts) ||
	    !json_object_is_type(hosts, json_type_array) ||
	    !json_object_object_get_ex(ev->status, "workers", &workers) ||
	    !json_object_is_type(workers, json_type_array)) {
		client_seterr(c, "daemon sent a malformed status event");
		return -1;
	}
	return 0;
}

/* Record what the library itself tracks: hello limits, finished ids. */
static void
client_note_event(sp_client *c, struct sp_event *ev)
{
	struct proto_event *pe = ev->pe;

	if (ev->id != 0 && ev->id == c->hello_id) {
		if (ev->type == SP_EV_HELLO && c->server == NULL) {
			c->server =
			    strdup(pe->server != NULL ? pe->server : "");
			if (pe->limits.max_line > 0)
				c->limits = pe->limits;
		} else if (ev->type == SP_EV_ERROR && pe->host == NULL)
			client_seterr(c, "daemon refused hello: %s: %s",
				      proto_code_name(pe->code),
				      pe->message != NULL ? pe->message : "");
	}
	if (sp_event_is_final(ev))
		client_remove_pending(c, ev->id);
}

/* Decode the first complete line: 1 with *out, 0 if none, -1 if none and
 * there never will be. */
static int
client_parse_next(sp_client *c, struct sp_event **out)
{
	struct proto_error perr;
	struct sp_event *ev;
	const char *line;
	size_t len;

	*out = NULL;
	if (c->failed)
		return -1;
	if (!client_have_line(c))
		return c->closed ? -1 : 0;
	line = c->in + c->in_off;
	len = c->in_eol - c->in_off;
	c->in_off = c->in_eol + 1;
	c->in_scan = c->in_off;
	c->in_eol = SP_NONE;

	if ((ev = calloc(1, sizeof *ev)) == NULL ||
	    (ev->line = malloc(len + 1)) == NULL) {
		free(ev);
		client_seterr(c, "out of memory");
		c->failed = 1;
		return -1;
	}
	memset(&perr, 0, sizeof perr);
	if (proto_event_parse(line, len, &ev->pe, &perr) == -1) {
		client_seterr(c, "daemon sent a bad event: %s", perr.message);
		c->failed = 1;
		sp_event_free(ev);
		return -1;
	}
	ev->linelen = len;
	if (ev->pe->data_textlen > 0) {
		/* Output carries nearly every byte: copy only the rest. */
		memcpy(ev->line, line, ev->pe->data_off);
		ev->line_pending = 1;
	} else {
		memcpy(ev->line, line, len);
		ev->line[len] = '\0';
	}
	ev->type = client_map_type(ev->pe->type);
	ev->id = client_parse_id(ev->pe->id);
	if (ev->type == SP_EV_CANCEL)
		ev->target = client_parse_id(ev->pe->target);
	if (ev->type == SP_EV_STATUS && client_check_status(c, ev) == -1) {
		c->failed = 1;
		sp_event_free(ev);
		return -1;
	}
	client_note_event(c, ev);
	*out = ev;
	return 1;
}

int
sp_next_event(sp_client *c, sp_event **out)
{
	struct sp_event *ev;

	if ((ev = c->deferred) != NULL) {
		c->deferred = ev->next;
		if (c->deferred == NULL)
			c->deferred_tail = NULL;
		ev->next = NULL;
		*out = ev;
		return 1;
	}
	return client_parse_next(c, out);
}

/* Like sp_next_event, for one request: other requests' events are set
 * aside in arrival order. */
static int
client_next_for(sp_client *c, uint64_t id, struct sp_event **out)
{
	struct sp_event *ev, **pp, *prev = NULL;
	int r;

	for (pp = &c->deferred; (ev = *pp) != NULL; pp = &ev->next) {
		if (ev->id == id) {
			*pp = ev->next;
			if (c->deferred_tail == ev)
				c->deferred_tail = prev;
			ev->next = NULL;
			*out = ev;
			return 1;
		}
		prev = ev;
	}
	while ((r = client_parse_next(c, &ev)) == 1) {
		if (ev->id == id) {
			*out = ev;
			return 1;
		}
		if (c->deferred_tail != NULL)
			c->deferred_tail->next = ev;
		else
			c->deferred = ev;
		c->deferred_tail = ev;
	}
	return r;
}

static long long
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for a complete line (or, with deferred, a set-aside event). */
static int
client_wait(sp_client *c, int timeout_ms, int deferred)
{
	struct pollfd pfd;
	long long deadline = 0, left;
	int r, wait;

	if (timeout_ms >= 0)
		deadline = client_now_ms() + timeout_ms;
	for (;;) {
		if ((deferred && c->deferred != NULL) || client_have_line(c))
			return 1;
		if (c->failed || c->closed)
			return -1;
		if (sp_want_write(c) && sp_flush(c) == -1)
			return -1;
		wait = -1;
		if (timeout_ms >= 0) {
			left = deadline - client_now_ms();
			wait = left < 0 ? 0 : (int)left;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN | (sp_want_write(c) ? POLLOUT : 0);
		pfd.revents = 0;
		r = poll(&pfd, 1, wait);
		if (r == -1) {
			if (errno == EINTR)
				return 0;
			client_seterr(c, "poll: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			return 0;
		if ((pfd.revents & POLLOUT) && sp_flush(c) == -1)
			return -1;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			(void)sp_consume(c);
	}
}

int
sp_wait(sp_client *c, int timeout_ms)
{
	return client_wait(c, timeout_ms, 1);
}

/* Waiting is only sound for a request whose final event is still to
 * come, or already set aside; anything else would block forever. */
static int
client_is_waitable(const sp_client *c, uint64_t id)
{
	const struct sp_event *ev;
	size_t i;

	for (i = 0; i < c->npending; i++) {
		if (c->pending[i].id == id)
			return 1;
	}
	for (ev = c->deferred; ev != NULL; ev = ev->next) {
		if (ev->id == id)
			return 1;
	}
	return 0;
}

int
sp_request_wait(sp_client *c, uint64_t id, sp_event_cb cb, void *arg)
{
	struct sp_event *ev;
	int r, final, stop;
	long long deadline = 0;

	if (!client_is_waitable(c, id)) {
		client_seterr(c, "request %llu is not in flight",
			      (unsigned long long)id);
		return -1;
	}
	/* Only the hello has a deadline: it guards sp_connect against a
	 * socket that is not an sshpoold. */
	if (id == c->hello_id)
		deadline = client_now_ms() + SP_HELLO_TIMEOUT_MS;
	for (;;) {
		r = client_next_for(c, id, &ev);
		if (r == -1)
			return -1;
		if (r == 1) {
			final = sp_event_is_final(ev);
			stop = cb != NULL ? cb(ev, arg) : 0;
			sp_event_free(ev);
			if (final)
				return 0;
			if (stop)
				return 1;
			continue;
		}
		if (deadline != 0) {
			long long left = deadline - client_now_ms();

			if (left <= 0) {
				client_seterr(c,
					      "no reply from daemon within "
					      "%d ms",
					      SP_HELLO_TIMEOUT_MS);
				return -1;
			}
			r = client_wait(c, (int)left, 0);
		} else
			r = client_wait(c, -1, 0);
		if (r == -1) {
			/* Lines buffered before the end are still ours. */
			if (client_have_line(c) && !c->failed)
				continue;
			if (c->err[0] == '\0')
				client_seterr(c, "connection closed");
			return -1;
		}
	}
}

int
sp_run_wait(sp_client *c, const sp_run_opts *o, sp_event_cb cb, void *arg)
{
	uint64_t id;

	if (sp_send_run(c, o, &id) == -1)
		return -1;
	return sp_request_wait(c, id, cb, arg);
}

/* ---- Events ---- */

static const char *sp_event_names[] = {
    [SP_EV_HELLO] = "hello",
    [SP_EV_START] = "start",
    [SP_EV_STDOUT] = "stdout",
    [SP_EV_STDERR] = "stderr",
    [SP_EV_EXIT] = "exit",
    [SP_EV_ERROR] = "error",
    [SP_EV_CONNECTED] = "connected",
    [SP_EV_DONE] = "done",
    [SP_EV_CANCEL] = "cancel",
    [SP_EV_STATUS] = "status",
    [SP_EV_DISCONNECTED] = "disconnected",
};

const char *
sp_event_type_name(enum sp_event_type t)
{
	if ((size_t)t >= sizeof sp_event_names / sizeof sp_event_names[0])
		return "unknown";
	return sp_event_names[t];
}

enum sp_event_type
sp_event_type(const sp_event *ev)
{
	return ev->type;
}

uint64_t
sp_event_request_id(const sp_event *ev)
{
	return ev->id;
}

int
sp_event_is_final(const sp_event *ev)
{
	switch (ev->type) {
	case SP_EV_DONE:
	case SP_EV_CANCEL:
	case SP_EV_STATUS:
	case SP_EV_HELLO:
		return 1;
	case SP_EV_ERROR:
		return ev->pe->host == NULL;
	default:
		return 0;
	}
}

const char *
sp_event_host(const sp_event *ev)
{
	return ev->pe->host;
}

const void *
sp_event_data(const sp_event *ev, size_t *len)
{
	int output = ev->type == SP_EV_STDOUT || ev->type == SP_EV_STDERR;

	if (len != NULL)
		*len = output ? ev->pe->len : 0;
	if (!output)
		return NULL;
	/* Empty chunks still get a valid pointer. */
	return ev->pe->data != NULL ? (const void *)ev->pe->data : "";
}

int
sp_event_exit_status(const sp_event *ev)
{
	if (ev->type != SP_EV_EXIT || ev->pe->signal != NULL)
		return -1;
	return ev->pe->status;
}

const char *
sp_event_signal(const sp_event *ev)
{
	return ev->type == SP_EV_EXIT ? ev->pe->signal : NULL;
}

const char *
sp_event_error_code(const sp_event *ev)
{
	if (ev->type != SP_EV_ERROR)
		return NULL;
	return proto_code_name(ev->pe->code);
}

const char *
sp_event_message(const sp_event *ev)
{
	if (ev->type != SP_EV_ERROR)
		return NULL;
	return ev->pe->message != NULL ? ev->pe->message : "";
}

long long
sp_event_duration_ms(const sp_event *ev)
{
	switch (ev->type) {
	case SP_EV_EXIT:
	case SP_EV_ERROR:
	case SP_EV_CONNECTED:
	case SP_EV_DISCONNECTED:
	case SP_EV_DONE:
		return ev->pe->duration_ms;
	default:
		return -1;
	}
}

int
sp_event_sessions(const sp_event *ev)
{
	if (ev->type != SP_EV_CONNECTED && ev->type != SP_EV_DISCONNECTED)
		return -1;
	return ev->pe->sessions;
}

int
sp_event_draining(const sp_event *ev)
{
	return ev->type == SP_EV_DISCONNECTED ? ev->pe->draining : -1;
}

int
sp_event_done_counts(const sp_event *ev, size_t *hosts, size_t *ok,
		     size_t *failed, size_t *errors)
{
	if (ev->type != SP_EV_DONE)
		return -1;
	if (hosts != NULL)
		*hosts = ev->pe->done.hosts;
	if (ok != NULL)
		*ok = ev->pe->done.ok;
	if (failed != NULL)
		*failed = ev->pe->done.failed;
	if (errors != NULL)
		*errors = ev->pe->done.errors;
	return 0;
}

uint64_t
sp_event_cancel_target(const sp_event *ev)
{
	return ev->type == SP_EV_CANCEL ? ev->target : 0;
}

int
sp_event_cancel_found(const sp_event *ev)
{
	return ev->type == SP_EV_CANCEL ? ev->pe->found != 0 : 0;
}

const char *
sp_event_server(const sp_event *ev)
{
	return ev->type == SP_EV_HELLO ? ev->pe->server : NULL;
}

int
sp_event_version(const sp_event *ev)
{
	return ev->type == SP_EV_HELLO ? ev->pe->version : -1;
}

const char *
sp_event_json(const sp_event *ev, size_t *len)
{
	struct sp_event *e = (struct sp_event *)ev; /* filled in once */
	const struct proto_event *pe = ev->pe;

	if (e->line_pending) {
		/* What was received: the text, then "} (see proto.h). */
		proto_b64_encode(e->line + pe->data_off, pe->data, pe->len);
		memcpy(e->line + pe->data_off + pe->data_textlen, "\"}", 3);
		e->line_pending = 0;
	}
	if (len != NULL)
		*len = ev->linelen;
	return ev->line;
}

void
sp_event_free(sp_event *ev)
{
	if (ev == NULL)
		return;
	if (ev->pe != NULL)
		proto_event_free(ev->pe);
	if (ev->status != NULL)
		json_object_put(ev->status);
	free(ev->line);
	free(ev);
}

static json_object *
status_member(const sp_event *ev, const char *array, size_t i, const char *key)
{
	json_object *a, *o, *v;

	if (ev->type != SP_EV_STATUS || ev->status == NULL || key == NULL ||
	    !json_object_object_get_ex(ev->status, array, &a) ||
	    i >= json_object_array_length(a))
		return NULL;
	o = json_object_array_get_idx(a, i);
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static size_t
status_count(const sp_event *ev, const char *array)
{
	json_object *a;

	if (ev->type != SP_EV_STATUS || ev->status == NULL ||
	    !json_object_object_get_ex(ev->status, array, &a))
		return 0;
	return json_object_array_length(a);
}

/* Integers as they are, booleans as 0/1; -1 when absent or null. */
static long long
status_int(json_object *v)
{
	if (v != NULL && json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? 1 : 0;
	if (v == NULL || !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}

size_t
sp_status_nhosts(const sp_event *ev)
{
	return status_count(ev, "hosts");
}

size_t
sp_status_nworkers(const sp_event *ev)
{
	return status_count(ev, "workers");
}

const char *
sp_status_host_str(const sp_event *ev, size_t i, const char *key)
{
	json_object *v = status_member(ev, "hosts", i, key);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long long
sp_status_host_int(const sp_event *ev, size_t i, const char *key)
{
	return status_int(status_member(ev, "hosts", i, key));
}

long long
sp_status_worker_int(const sp_event *ev, size_t i, const char *key)
{
	return status_int(status_member(ev, "workers", i, key));
}

/* ---- Run options ---- */

static void opts_seterr(sp_run_opts *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
opts_seterr(sp_run_opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->err, sizeof o->err, fmt, ap);
	va_end(ap);
}

sp_run_opts *
sp_run_opts_new(void)
{
	return calloc(1, sizeof(sp_run_opts));
}

void
sp_run_opts_free(sp_run_opts *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nhosts; i++)
		free(o->hosts[i]);
	free(o->hosts);
	for (i = 0; i < o->nexclude; i++)
		free(o->exclude[i]);
	free(o->exclude);
	for (i = 0; i < o->nenv; i++) {
		free(o->env[i].name);
		free(o->env[i].value);
	}
	free(o->env);
	free(o->command);
	free(o->user);
	free(o->stdin_data);
	free(o);
}

const char *
sp_run_opts_error(const sp_run_opts *o)
{
	return o->err;
}

/* A comma outside brackets separates list items; inside it separates the
 * items of a range ("web[1,3]"). */
static const char *
opts_list_end(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth > 0)
			depth--;
		else if (*p == ',' && depth == 0)
			return p;
	}
	return p;
}

static int
opts_push(sp_run_opts *o, char ***v, size_t *n, size_t *capp, const char *s,
	  size_t len, const char *what)
{
	char **p, *copy;
	size_t cap;

	if (len == 0) {
		opts_seterr(o, "empty %s", what);
		return -1;
	}
	if (len > PROTO_MAX_HOSTPATTERN) {
		opts_seterr(o, "%s longer than %d bytes", what,
			    PROTO_MAX_HOSTPATTERN);
		return -1;
	}
	if (memchr(s, '\0', len) != NULL || opts_list_end(s) < s + len) {
		opts_seterr(o, "%s contains a comma outside brackets", what);
		return -1;
	}
	if (*n >= SP_MAX_HOSTS_OPTS) {
		opts_seterr(o, "too many hosts");
		return -1;
	}
	if (*n == *capp) {
		cap = *capp == 0 ? 16 : *capp * 2;
		if ((p = realloc(*v, cap * sizeof *p)) == NULL) {
			opts_seterr(o, "out of memory");
			return -1;
		}
		*v = p;
		*capp = cap;
	}
	if ((copy = strndup(s, len)) == NULL) {
		opts_seterr(o, "out of memory");
		return -1;
	}
	(*v)[(*n)++] = copy;
	return 0;
}

static int
opts_add_host_len(sp_run_opts *o, const char *host, size_t len)
{
	return opts_push(o, &o->hosts, &o->nhosts, &o->hosts_cap, host, len,
			 "host");
}

int
sp_run_opts_add_host(sp_run_opts *o, const char *host)
{
	if (host == NULL) {
		opts_seterr(o, "host is NULL");
		return -1;
	}
	return opts_add_host_len(o, host, strlen(host));
}

int
sp_run_opts_add_hosts(sp_run_opts *o, const char *list)
{
	const char *p, *end, *s, *e;
	size_t before = o->nhosts;

	if (list == NULL) {
		opts_seterr(o, "host list is NULL");
		return -1;
	}
	for (p = list;; p = end + 1) {
		end = opts_list_end(p);
		for (s = p; s < end && (*s == ' ' || *s == '\t'); s++)
			;
		for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (opts_add_host_len(o, s, (size_t)(e - s)) == -1) {
			/* All or nothing. */
			while (o->nhosts > before)
				free(o->hosts[--o->nhosts]);
			return -1;
		}
		if (*end == '\0')
			return 0;
	}
}

int
sp_run_opts_add_exclude(sp_run_opts *o, const char *pattern)
{
	if (pattern == NULL) {
		opts_seterr(o, "exclude pattern is NULL");
		return -1;
	}
	return opts_push(o, &o->exclude, &o->nexclude, &o->exclude_cap, pattern,
			 strlen(pattern), "exclude pattern");
}

size_t
sp_run_opts_nexclude(const sp_run_opts *o)
{
	return o->nexclude;
}

/* ---- Host sets ---- */

struct hostset_cb {
	sp_host_cb cb;
	void *arg;
};

static int
hostset_emit(const char *host, void *arg)
{
	struct hostset_cb *h = arg;

	return h->cb(host, h->arg);
}

long
sp_hostset_expand(const char *pattern, sp_host_cb cb, void *arg, size_t max,
		  char *err, size_t errlen)
{
	struct hostset_cb h;
	struct proto_error perr;
	int n;

	if (pattern == NULL || cb == NULL) {
		errbuf_set(err, errlen, "no pattern or callback");
		return -1;
	}
	h.cb = cb;
	h.arg = arg;
	if ((n = proto_hostset_expand(pattern, hostset_emit, &h, max, &perr)) ==
	    -1) {
		errbuf_set(err, errlen, "%s",
			   perr.code == PROTO_E_NONE ? "stopped by callback"
						     : perr.message);
		return -1;
	}
	return n;
}

int
sp_host_excluded(const char *spec, const char *const *exclude, size_t n)
{
	if (spec == NULL || exclude == NULL)
		return 0;
	/* The codec only reads the strings. */
	return proto_hostspec_excluded(spec, (char *const *)(uintptr_t)exclude,
				       n);
}

size_t
sp_run_opts_nhosts(const sp_run_opts *o)
{
	return o->nhosts;
}

const char *
sp_run_opts_host(const sp_run_opts *o, size_t i)
{
	return i < o->nhosts ? o->hosts[i] : NULL;
}

static int
opts_replace(sp_run_opts *o, char **slot, const char *s)
{
	char *copy = NULL;

	if (s != NULL && (copy = strdup(s)) == NULL) {
		opts_seterr(o, "out of memory");
		return -1;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

int
sp_run_opts_set_command(sp_run_opts *o, const char *command)
{
	size_t len;

	if (command == NULL || (len = strlen(command)) == 0) {
		opts_seterr(o, "empty command");
		return -1;
	}
	if (len > PROTO_MAX_COMMAND) {
		opts_seterr(o, "command longer than %u bytes",
			    PROTO_MAX_COMMAND);
		return -1;
	}
	return opts_replace(o, &o->command, command);
}

int
sp_run_opts_set_user(sp_run_opts *o, const char *user)
{
	if (user != NULL && (*user == '\0' || strlen(user) > PROTO_MAX_USER)) {
		opts_seterr(o, "user must be 1..%d bytes", PROTO_MAX_USER);
		return -1;
	}
	return opts_replace(o, &o->user, user);
}

/* Seconds (fractions allowed) to milliseconds; a positive value never
 * rounds down to 0 ("none"). */
static int
opts_seconds(sp_run_opts *o, const char *what, double seconds, long long *out)
{
	double max = (double)PROTO_MAX_TIMEOUT_MS / 1000;
	long long ms;

	/* Written so that NaN fails too. */
	if (!(seconds >= 0 && seconds <= max)) {
		opts_seterr(o, "%s must be 0..%.0f seconds", what, max);
		return -1;
	}
	ms = (long long)(seconds * 1000 + 0.5);
	if (seconds > 0 && ms == 0)
		ms = 1;
	*out = ms;
	return 0;
}

int
sp_run_opts_set_timeout(sp_run_opts *o, double seconds)
{
	return opts_seconds(o, "timeout", seconds, &o->timeout_ms);
}

int
sp_run_opts_set_idle_timeout(sp_run_opts *o, double seconds)
{
	return opts_seconds(o, "idle timeout", seconds, &o->idle_timeout_ms);
}

static int
opts_env_name_ok(const char *name)
{
	const char *p;

	if (!((*name >= 'A' && *name <= 'Z') ||
	      (*name >= 'a' && *name <= 'z') || *name == '_'))
		return 0;
	for (p = name + 1; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	}
	return p - name <= PROTO_MAX_ENV_NAME;
}

int
sp_run_opts_add_env(sp_run_opts *o, const char *name, const char *value)
{
	struct proto_env *p;
	char *n, *v;
	size_t i;

	if (name == NULL || !opts_env_name_ok(name)) {
		opts_seterr(o, "bad environment name \"%s\"",
			    name != NULL ? name : "(null)");
		return -1;
	}
	if (value == NULL || strlen(value) > PROTO_MAX_ENV_VALUE) {
		opts_seterr(o,
			    "environment value of %s missing or longer "
			    "than %d bytes",
			    name, PROTO_MAX_ENV_VALUE);
		return -1;
	}
	for (i = 0; i < o->nenv; i++) {
		if (strcmp(o->env[i].name, name) == 0)
			return opts_replace(o, &o->env[i].value, value);
	}
	if (o->nenv >= PROTO_MAX_ENV) {
		opts_seterr(o, "more than %d environment variables",
			    PROTO_MAX_ENV);
		return -1;
	}
	if ((p = realloc(o->env, (o->nenv + 1) * sizeof *p)) == NULL) {
		opts_seterr(o, "out of memory");
		return -1;
	}
	o->env = p;
	n = strdup(name);
	v = strdup(value);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		opts_seterr(o, "out of memory");
		return -1;
	}
	o->env[o->nenv].name = n;
	o->env[o->nenv].value = v;
	o->nenv++;
	return 0;
}

int
sp_run_opts_set_pty(sp_run_opts *o, int on)
{
	o->pty = on != 0;
	return 0;
}

int
sp_run_opts_set_stdin(sp_run_opts *o, const void *data, size_t len)
{
	unsigned char *copy = NULL;

	if (len > SP_MAX_STDIN) {
		opts_seterr(o, "stdin larger than %u bytes", SP_MAX_STDIN);
		return -1;
	}
	if (len > 0) {
		if (data == NULL) {
			opts_seterr(o, "stdin data is NULL");
			return -1;
		}
		if ((copy = malloc(len)) == NULL) {
			opts_seterr(o, "out of memory");
			return -1;
		}
		memcpy(copy, data, len);
	}
	free(o->stdin_data);
	o->stdin_data = copy;
	o->stdin_len = len;
	return 0;
}
