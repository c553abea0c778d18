/* SPDX-License-Identifier: ISC */
/*
 * One SSH connection to a host and its state machine:
 *
 *	RESOLVE -> TCP -> KEX -> HOSTKEY -> AUTH -> READY -> DEAD
 *
 * Every state but READY runs under a deadline (ConnectTimeout), armed anew
 * for RESOLVE, each TCP address, KEX and HOSTKEY; AUTH runs on under the
 * one of HOSTKEY.  Names are resolved and known_hosts is read on the offload
 * threads, each kind on its own queue; the TCP connect is our own
 * non-blocking socket (all addresses in turn, TCP_NODELAY and keepalives
 * set), handed to libssh with SSH_OPTIONS_FD once connected.
 * libssh runs non-blocking: a call returning SSH_AGAIN is repeated when the
 * socket is ready.  After the hand-over the socket belongs to libssh, which
 * closes it on some errors (then ssh_get_fd() no longer returns it and we
 * drop our event at once) and in ssh_free().
 *
 * A connection is freed only at the end of the callback that killed it
 * (conn_finish), never while a caller up the stack still uses it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "alive.h"
#include "auth.h"
#include "knownhosts.h"
#include "log.h"
#include "clock.h"
#include "msg.h"
#include "throttle.h"
#include "conn.h"
#include "forward.h"
#include "host.h"
#include "job.h"
#include "worker.h"
#include "xmalloc.h"

/* Kernel-level dead peer detection under the SSH keepalives. */
#define CONN_TCP_KEEPIDLE_S 30
#define CONN_TCP_KEEPINTVL_S 10
#define CONN_TCP_KEEPCNT 3
#define CONN_TCP_USER_TIMEOUT_MS 60000
/*
 * libssh 0.10's default host key algorithms, which follow the ones
 * known_hosts records for a host: an unknown host is offered them all.
 */
#define CONN_DEFAULT_HOSTKEYS                                                  \
	"ssh-ed25519,ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,"                 \
	"ecdsa-sha2-nistp256,sk-ssh-ed25519@openssh.com,"                      \
	"sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
/* Pump rounds per callback before yielding to other connections. */
#define CONN_PUMP_ROUNDS 64
/* After a refused channel open with nothing else open, the connection
 * takes no new channel for this long times the job's refusals so far. */
#define CONN_REFUSED_HOLD_MS 25
/* A server that closes a connection this soon after its last channel, with
 * none open, closes it after a number of channels (its limit), in order. */
#define CONN_SERVER_CLOSE_MS 1000

static const char *conn_state_names[] = {"resolve", "tunnel", "tcp",   "kex",
					 "hostkey", "auth",   "ready", "dead"};

enum conn_offload_kind {
	OFFLOAD_RESOLVE,
	OFFLOAD_HOSTKEY_TYPES,
	OFFLOAD_HOSTKEY_CHECK,
	OFFLOAD_HOSTKEY_ADD
};

struct conn_offload {
	struct conn *conn;    /* NULL once the conn is gone */
	atomic_int cancelled; /* set with conn = NULL: do not run */
	enum conn_offload_kind kind;
	/* resolve */
	char *host;
	char port[8];
	struct addrinfo *res;
	int gai_error;
	/* known_hosts */
	char *path;
	char *keytype;
	char *b64;
	int port_num;
	enum knownhosts_result result;
	char known_fp[128];
	char err[KNOWNHOSTS_MAX_ERR];
	/* key types recorded for the host, as host key algorithms */
	int ntypes;
	char algs[KNOWNHOSTS_MAX_ALGS];
};

static void conn_io_cb(evutil_socket_t, short, void *);
static void conn_deadline_cb(evutil_socket_t, short, void *);
static void conn_kick_cb(evutil_socket_t, short, void *);
static void conn_hold_cb(evutil_socket_t, short, void *);
static void conn_idle_cb(evutil_socket_t, short, void *);
static void conn_idle_arm(struct conn *);
static void conn_kex_start(struct conn *);
static void conn_start(struct conn *);
static void conn_tcp_next(struct conn *);
static void conn_kex_step(struct conn *);
static void conn_auth_step(struct conn *);

void
conn_finish(struct conn *c)
{
	if (c->state == CONN_DEAD && c->busy == 0)
		conn_free(c);
}

int
conn_unused(const struct conn *c)
{
	return c->nchans == 0 && c->ntunnels == 0;
}

int
conn_has_room(const struct conn *c)
{
	return c->state == CONN_READY && c->nchans < c->cap &&
	       (c->hold_until_ms == 0 || clock_ms() >= c->hold_until_ms);
}

static void
conn_deadline(struct conn *c, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(c->deadline, &tv);
}

/* Watch fd for flags (0 = stop watching). */
static void
conn_watch(struct conn *c, short flags)
{
	if (c->io_flags == flags &&
	    (flags == 0 || event_pending(c->io, EV_READ | EV_WRITE, NULL)))
		return;
	event_del(c->io);
	c->io_flags = flags;
	if (flags == 0 || c->fd == -1)
		return;
	event_assign(c->io, c->w->base, c->fd, flags | EV_PERSIST, conn_io_cb,
		     c);
	event_add(c->io, NULL);
}

/* Read and write interest of a session, from libssh's own view; a held
 * connection is not polled, so it watches nothing (conn_held). */
static void
conn_watch_session(struct conn *c)
{
	short flags = c->held ? 0 : EV_READ;

	if (!c->held && (ssh_get_poll_flags(c->session) & SSH_WRITE_PENDING))
		flags |= EV_WRITE;
	conn_watch(c, flags);
}

/* After every libssh call: has libssh closed our socket? */
static int
conn_fd_lost(struct conn *c)
{
	if (c->fd == -1 || ssh_get_fd(c->session) == c->fd)
		return 0;
	event_del(c->io);
	c->io_flags = 0;
	c->fd = -1;
	return 1;
}

struct conn *
conn_new(struct host *h, struct cred *cred)
{
	struct worker *w = h->w;
	struct conn *c = xcalloc(1, sizeof(*c));

	c->host = h;
	c->cred = cred_ref(cred);
	c->w = w;
	c->id = ++w->next_conn_id;
	c->state = CONN_RESOLVE;
	c->started_ms = clock_ms();
	c->fd = -1;
	c->cap = h->params->max_channels;
	if (h->server_channels > 0 && h->server_channels < c->cap)
		c->cap = h->server_channels;
	TAILQ_INIT(&c->jobs);
	TAILQ_INIT(&c->forwards);
	TAILQ_INIT(&c->tunnels);
	c->io = event_new(w->base, -1, 0, conn_io_cb, c);
	c->deadline = evtimer_new(w->base, conn_deadline_cb, c);
	c->kick = evtimer_new(w->base, conn_kick_cb, c);
	c->alive = evtimer_new(w->base, alive_cb, c);
	c->hold = evtimer_new(w->base, conn_hold_cb, c);
	c->idle = evtimer_new(w->base, conn_idle_cb, c);
	if (c->io == NULL || c->deadline == NULL || c->kick == NULL ||
	    c->alive == NULL || c->hold == NULL || c->idle == NULL)
		fatalx("%s: event_new failed", __func__);
	w->nsessions++;
	log_debug("host=%s conn=%llu: connecting to %s", h->params->key, c->id,
		  h->params->hostname);
	/* Start from the loop, so that an early failure never runs inside
	 * the caller (host_dispatch). */
	event_active(c->kick, EV_TIMEOUT, 0);
	return c;
}

/*
 * The server opens an agent channel (a libssh callback: record only).  It
 * is accepted while a job that asked for agent forwarding runs here, and
 * bridged to that job's IdentityAgent from the pump; otherwise refused.
 */
static ssh_channel
conn_agent_open_cb(ssh_session session, void *userdata)
{
	struct conn *c = userdata;
	struct forward *f;
	struct job *j;

	(void)session;
	if (c->state != CONN_READY)
		return NULL;
	TAILQ_FOREACH(j, &c->jobs, entry)
	{
		if (job_forwards_agent(j))
			break;
	}
	if (j == NULL || c->nforwards >= FORWARD_MAX_PER_CONN) {
		log_info("host=%s conn=%llu: agent channel refused: %s",
			 c->host->params->key, c->id,
			 j == NULL ? "no job here forwards the agent"
				   : "too many agent channels open");
		return NULL;
	}
	f = forward_new(c, ++c->forwards_opened,
			j->spec->params->identity_agent, job_agent_link(j));
	if (f == NULL)
		return NULL;
	TAILQ_INSERT_TAIL(&c->forwards, f, entry);
	c->nforwards++;
	conn_poke(c);
	return forward_channel(f);
}

/* Step the agent channels and free those done (all of them when the
 * session goes); 1 if any moved. */
static int
conn_forwards(struct conn *c, int all)
{
	struct forward *f, *next;
	int progress = 0;

	for (f = TAILQ_FIRST(&c->forwards); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (!all)
			progress |= forward_step(f);
		if (!all && !forward_done(f))
			continue;
		TAILQ_REMOVE(&c->forwards, f, entry);
		c->nforwards--;
		forward_free(f);
	}
	return progress;
}

/*
 * Step the tunnels carried as a hop and free those done; 1 if any moved.
 * With all (the session goes), answered ones are freed, their sockets
 * closing under the targets, and the others go back to the host's queue.
 */
static int
conn_tunnels(struct conn *c, int all)
{
	struct tunnel *t, *next;
	int progress = 0;

	for (t = TAILQ_FIRST(&c->tunnels); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (!all)
			progress |= tunnel_step(t);
		if (!all && !tunnel_done(t))
			continue;
		TAILQ_REMOVE(&c->tunnels, t, entry);
		if (--c->ntunnels == 0 && c->nchans == 0)
			c->idle_ms = clock_ms();
		if (!all || tunnel_conn_gone(t))
			tunnel_free(t);
		else
			host_tunnel_requeue(c->host, t);
	}
	if (!all && c->ntunnels == 0 && c->nchans == 0 && progress)
		conn_idle_arm(c);
	return progress;
}

int
conn_has_tunnel_room(const struct conn *c)
{
	return c->state == CONN_READY && !c->draining &&
	       c->ntunnels < c->host->params->max_tunnels;
}

void
conn_attach_tunnel(struct conn *c, struct tunnel *t)
{
	TAILQ_INSERT_TAIL(&c->tunnels, t, entry);
	c->ntunnels++;
	tunnel_attach(t, c);
	conn_poke(c);
}

/* ---- TUNNEL ---- */

/* Hops before the target: its deadline waits for each one's handshake. */
static int
conn_hops(const struct host_params *p)
{
	int n = 0;

	for (p = p->via; p != NULL; p = p->via)
		n++;
	return n;
}

/* Ask the last hop for a tunnel to the target instead of connecting. */
static void
conn_tunnel_start(struct conn *c)
{
	struct host_params *p = c->host->params;
	struct tunnel_req *req = xcalloc(1, sizeof(*req));

	c->state = CONN_TUNNEL;
	req->hop = host_params_dup(p->via);
	req->host = xstrdup(p->hostname);
	req->port = p->port;
	req->target = xstrdup(p->key);
	req->reply_worker = c->w->index;
	req->cookie = c->id;
	req->deadline_ms =
	    clock_ms() + (long long)p->connect_timeout_ms * (conn_hops(p) + 1);
	c->tunnel_waiting = 1;
	TAILQ_INSERT_TAIL(&c->w->tunnel_waits, c, tunnel_entry);
	conn_deadline(c, p->connect_timeout_ms * (conn_hops(p) + 1));
	log_debug("host=%s conn=%llu: through jump host %s", p->key, c->id,
		  p->via->key);
	worker_post_tunnel(c->w, req);
}

static void
conn_tunnel_unwait(struct conn *c)
{
	if (!c->tunnel_waiting)
		return;
	c->tunnel_waiting = 0;
	TAILQ_REMOVE(&c->w->tunnel_waits, c, tunnel_entry);
}

void
conn_tunnel_done(struct conn *c, struct msg *m)
{
	conn_tunnel_unwait(c);
	if (c->state != CONN_TUNNEL)
		return; /* the message closes the socket */
	if (m->fd == -1) {
		conn_close(c, (enum proto_code)m->code,
			   m->buf2.len > 0 ? m->buf2.data : "no tunnel");
		conn_finish(c);
		return;
	}
	c->fd = m->fd;
	m->fd = -1;
	conn_kex_start(c);
	conn_finish(c);
}

/*
 * The connection failed or was lost.  Jobs whose command was never sent go
 * back to the host queue; the others end with the error.  The conn is freed
 * by conn_finish at the end of the current callback.
 */
void
conn_close(struct conn *c, enum proto_code code, const char *why)
{
	struct host *h = c->host;
	struct job *j, *next;
	int was_ready = c->ready;

	if (c->state == CONN_DEAD)
		return;
	if (code == PROTO_E_NONE)
		log_verbose("host=%s conn=%llu: session closed: %s",
			    h->params->key, c->id, why);
	else if (was_ready)
		log_info("host=%s conn=%llu: session closed: %s",
			 h->params->key, c->id, why);
	else
		log_info("host=%s conn=%llu: %s failed after %lld ms: %s: %s",
			 h->params->key, c->id, conn_state_names[c->state],
			 clock_ms() - c->started_ms, proto_code_name(code),
			 why);
	c->state = CONN_DEAD;
	/* The daemon's own decision (a disconnect request, a drain, the
	 * shutdown): the server is told, and logs a disconnect by the user
	 * rather than a lost connection. */
	c->bye =
	    was_ready && (code == PROTO_E_NONE || code == PROTO_E_SHUTDOWN);
	evtimer_del(c->deadline);
	evtimer_del(c->kick);
	evtimer_del(c->alive);
	evtimer_del(c->hold);
	evtimer_del(c->idle);
	conn_forwards(c, 1);
	conn_tunnels(c, 1);
	/* A session lost under running jobs was in use until now. */
	if (c->nchans > 0)
		host_touch(h);
	/* Walk backwards: requeued jobs go to the queue's front in order. */
	for (j = TAILQ_LAST(&c->jobs, job_list); j != NULL; j = next) {
		next = TAILQ_PREV(j, job_list, entry);
		TAILQ_REMOVE(&c->jobs, j, entry);
		c->nchans--;
		job_conn_closed(j, code, why);
	}
	/* PROTO_E_NONE: an orderly close (drained, disconnect request). */
	if (!was_ready && code != PROTO_E_NONE)
		host_conn_failed(h, c, code, why);
	else if (code == PROTO_E_CONNECTION_LOST && !c->orderly)
		host_conn_lost(h, c, why);
}

/*
 * Send SSH_MSG_DISCONNECT and close the socket exactly once.
 * ssh_disconnect() forgets a socket given with SSH_OPTIONS_FD without
 * closing it, but closes it itself on a write error.  A second descriptor
 * keeps the socket alive across the call, so that afterwards ours can be
 * told from a new socket another thread opened under the same number:
 * close ours only if libssh let go of it and it still is that socket.
 */
static void
conn_bye(struct conn *c)
{
	struct stat before, after;
	int keep;

	if (!c->bye || c->fd == -1 || ssh_get_fd(c->session) != c->fd)
		return;
	if ((keep = fcntl(c->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return; /* out of descriptors: ssh_free closes it silently */
	if (fstat(keep, &before) == 0) {
		ssh_disconnect(c->session);
		if (ssh_get_fd(c->session) != c->fd &&
		    fstat(c->fd, &after) == 0 &&
		    after.st_dev == before.st_dev &&
		    after.st_ino == before.st_ino)
			close(c->fd);
		c->fd = -1;
	}
	close(keep);
}

void
conn_free(struct conn *c)
{
	struct worker *w = c->w;

	if (c->pending != NULL) {
		c->pending->conn = NULL;
		atomic_store(&c->pending->cancelled, 1);
	}
	event_free(c->io);
	event_free(c->deadline);
	event_free(c->kick);
	event_free(c->alive);
	event_free(c->hold);
	event_free(c->idle);
	if (c->sevent != NULL) {
		ssh_event_remove_session(c->sevent, c->session);
		ssh_event_free(c->sevent);
	}
	/*
	 * Once handed over, the socket is libssh's: ssh_free() closes it
	 * unless libssh already did, or conn_bye() closed it after saying
	 * goodbye.  A lost session just goes: the server sees the TCP close.
	 */
	if (c->session != NULL) {
		conn_bye(c);
		ssh_free(c->session);
	}
	if (c->fd != -1 && !c->handed)
		close(c->fd);
	if (c->addrs != NULL)
		freeaddrinfo(c->addrs);
	conn_forwards(c, 1);
	conn_tunnels(c, 1);
	conn_tunnel_unwait(c);
	auth_free(c->auth);
	cred_unref(c->cred);
	worker_agent_unwait(w, c);
	host_conn_gone(c->host, c);
	free(c);
	w->nsessions--;
	worker_session_put();
	worker_maybe_exit(w);
}

/* ---- RESOLVE ---- */

static void
conn_offload_free(struct conn_offload *o)
{
	if (o->res != NULL)
		freeaddrinfo(o->res);
	free(o->host);
	free(o->path);
	free(o->keytype);
	free(o->b64);
	free(o);
}

/*
 * An offload task is back on the worker: the conn it served, now no longer
 * waiting for it, or NULL when the conn is gone (the task is freed then).
 */
static struct conn *
conn_offload_back(struct conn_offload *o)
{
	struct conn *c = o->conn;

	if (c == NULL) {
		conn_offload_free(o);
		return NULL;
	}
	c->pending = NULL;
	return c;
}

/* A task abandoned by its worker ends here, on its offload thread. */
static void
conn_offload_discard(void *arg)
{
	conn_offload_free(arg);
}

/* Queue o for c; a full queue fails the connection (-1, o freed). */
static int
conn_offload(struct conn *c, struct conn_offload *o, enum offload_queue q,
	     void (*fn)(void *), void (*done)(void *))
{
	char why[256];

	o->conn = c;
	c->pending = o;
	if (worker_offload(c->w, q, fn, done, conn_offload_discard, o,
			   &o->cancelled) == 0)
		return 0;
	c->pending = NULL;
	conn_offload_free(o);
	snprintf(why, sizeof(why),
		 "the daemon's %s queue is full (%d tasks waiting) or "
		 "stopping",
		 q == OFFLOAD_Q_RESOLVE ? "name resolution" : "known_hosts",
		 OFFLOAD_QUEUE_MAX);
	conn_close(c, PROTO_E_LIMIT, why);
	return -1;
}

static void
conn_resolve_run(void *arg)
{
	struct conn_offload *o = arg;
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	o->gai_error = getaddrinfo(o->host, o->port, &hints, &o->res);
}

static void
conn_resolve_done(void *arg)
{
	struct conn_offload *o = arg;
	struct conn *c = conn_offload_back(o);
	char why[256];

	if (c == NULL)
		return;
	if (o->gai_error != 0) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s",
			 c->host->params->hostname, gai_strerror(o->gai_error));
		conn_close(c, PROTO_E_RESOLVE_FAILED, why);
	} else {
		c->addrs = o->res;
		o->res = NULL;
		c->addr = c->addrs;
		c->state = CONN_TCP;
		conn_tcp_next(c);
	}
	conn_offload_free(o);
	conn_finish(c);
}

static void
conn_resolve(struct conn *c)
{
	struct host_params *p = c->host->params;
	struct conn_offload *o;
	struct addrinfo hints;
	char port[8];

	conn_deadline(c, p->connect_timeout_ms);
	/* Addresses need no resolver: parse them right here. */
	snprintf(port, sizeof(port), "%d", p->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(p->hostname, port, &hints, &c->addrs) == 0) {
		c->addr = c->addrs;
		c->state = CONN_TCP;
		conn_tcp_next(c);
		return;
	}
	c->addrs = NULL;
	o = xcalloc(1, sizeof(*o));
	o->kind = OFFLOAD_RESOLVE;
	o->host = xstrdup(p->hostname);
	memcpy(o->port, port, sizeof(o->port));
	conn_offload(c, o, OFFLOAD_Q_RESOLVE, conn_resolve_run,
		     conn_resolve_done);
}

/* ---- TCP ---- */

static void
conn_tcp_options(int fd)
{
	int on = 1, v;
	unsigned int uto = CONN_TCP_USER_TIMEOUT_MS;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	v = CONN_TCP_KEEPIDLE_S;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
	v = CONN_TCP_KEEPINTVL_S;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
	v = CONN_TCP_KEEPCNT;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

static void conn_kex_start(struct conn *);

/* Try c->addr and the addresses after it until one connects or starts. */
static void
conn_tcp_next(struct conn *c)
{
	struct addrinfo *ai;
	char why[256];
	int fd;

	for (; (ai = c->addr) != NULL; c->addr = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd == -1 && (errno == EMFILE || errno == ENFILE)) {
			snprintf(why, sizeof(why),
				 "the daemon is out of file descriptors: "
				 "socket: %s",
				 strerror(errno));
			conn_close(c, PROTO_E_LIMIT, why);
			return;
		}
		if (fd == -1) {
			snprintf(c->tcp_error, sizeof(c->tcp_error),
				 "socket: %s", strerror(errno));
			continue;
		}
		conn_tcp_options(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			c->fd = fd;
			conn_kex_start(c);
			return;
		}
		if (errno == EINPROGRESS) {
			c->fd = fd;
			conn_watch(c, EV_WRITE);
			conn_deadline(c, c->host->params->connect_timeout_ms);
			return;
		}
		snprintf(c->tcp_error, sizeof(c->tcp_error), "%s",
			 strerror(errno));
		close(fd);
	}
	if (c->timed_out && c->tcp_error[0] == '\0') {
		snprintf(why, sizeof(why),
			 "no TCP connection to %s port %d "
			 "within %d ms",
			 c->host->params->hostname, c->host->params->port,
			 c->host->params->connect_timeout_ms);
		conn_close(c, PROTO_E_CONNECT_TIMEOUT, why);
	} else {
		snprintf(why, sizeof(why), "connect to %s port %d: %s",
			 c->host->params->hostname, c->host->params->port,
			 c->tcp_error[0] != '\0' ? c->tcp_error : "no address");
		conn_close(c, PROTO_E_CONNECT_FAILED, why);
	}
}

static void
conn_tcp_event(struct conn *c, short what)
{
	socklen_t len = sizeof(int);
	int err = 0;

	conn_watch(c, 0);
	if (what & EV_TIMEOUT) {
		c->timed_out = 1;
		err = ETIMEDOUT;
	} else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		conn_kex_start(c);
		return;
	}
	if (err != ETIMEDOUT)
		snprintf(c->tcp_error, sizeof(c->tcp_error), "%s",
			 strerror(err));
	close(c->fd);
	c->fd = -1;
	c->addr = c->addr->ai_next;
	conn_tcp_next(c);
}

/* ---- KEX ---- */

static void
conn_ssh_error(struct conn *c, enum proto_code code, const char *what)
{
	char why[512];
	const char *msg = ssh_get_error(c->session);

	snprintf(why, sizeof(why), "%s: %s", what,
		 msg != NULL && *msg != '\0' ? msg : "connection closed");
	conn_close(c, code, why);
}

/*
 * The host key algorithms to offer: those of the keys known_hosts records
 * for the host first, as ssh(1) does, so that a host recorded with only its
 * ECDSA or RSA key is not asked for an Ed25519 one; then the rest of the
 * defaults, so that an unknown host (accept-new) negotiates as usual.
 */
static void
conn_hostkey_algs(const char *known, char *out, size_t outlen)
{
	char defaults[] = CONN_DEFAULT_HOSTKEYS, *cp = defaults, *alg;
	char seen[KNOWNHOSTS_MAX_ALGS + 2], needle[64];
	size_t off;

	snprintf(out, outlen, "%s", known);
	snprintf(seen, sizeof(seen), ",%s,", known);
	off = strlen(out);
	while ((alg = strsep(&cp, ",")) != NULL) {
		snprintf(needle, sizeof(needle), ",%s,", alg);
		if (strstr(seen, needle) != NULL)
			continue;
		if (off + strlen(alg) + 2 > outlen)
			break;
		off += (size_t)snprintf(out + off, outlen - off, "%s%s",
					off > 0 ? "," : "", alg);
	}
}

/* Give the connected socket to a new libssh session and start KEX. */
static void
conn_kex_begin(struct conn *c, const char *known_algs)
{
	struct host_params *p = c->host->params;
	char algs[2 * KNOWNHOSTS_MAX_ALGS];
	int off = 0;

	if ((c->session = ssh_new()) == NULL)
		fatalx("%s: ssh_new failed", __func__);
	conn_hostkey_algs(known_algs, algs, sizeof(algs));
	if (ssh_options_set(c->session, SSH_OPTIONS_FD, &c->fd) != 0 ||
	    ssh_options_set(c->session, SSH_OPTIONS_HOST, p->hostname) != 0 ||
	    ssh_options_set(c->session, SSH_OPTIONS_PORT, &p->port) != 0 ||
	    ssh_options_set(c->session, SSH_OPTIONS_USER, p->user) != 0 ||
	    ssh_options_set(c->session, SSH_OPTIONS_PROCESS_CONFIG, &off) !=
		0 ||
	    ssh_options_set(c->session, SSH_OPTIONS_HOSTKEYS, algs) != 0 ||
	    /* Host keys are checked by knownhosts.c, off this thread. */
	    ssh_options_set(c->session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") !=
		0 ||
	    ssh_options_set(c->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
			    "/dev/null") != 0) {
		conn_ssh_error(c, PROTO_E_INTERNAL, "ssh_options_set");
		return;
	}
	ssh_set_blocking(c->session, 0);
	/* ssh_connect() adopts the socket on its first call. */
	c->handed = 1;
	conn_kex_step(c);
}

static void
conn_kex_types_run(void *arg)
{
	struct conn_offload *o = arg;

	o->ntypes = knownhosts_types(o->path, o->host, o->port_num, o->algs,
				     sizeof(o->algs), o->err, sizeof(o->err));
}

static void
conn_kex_types_done(void *arg)
{
	struct conn_offload *o = arg;
	struct conn *c = conn_offload_back(o);

	if (c == NULL)
		return;
	/* An unreadable file is reported by the host key check after KEX. */
	if (o->ntypes < 0) {
		log_debug("host=%s conn=%llu: known host key types: %s",
			  c->host->params->key, c->id, o->err);
		o->algs[0] = '\0';
	} else if (o->ntypes > 0)
		log_debug("host=%s conn=%llu: host key algorithms %s first",
			  c->host->params->key, c->id, o->algs);
	conn_kex_begin(c, o->algs);
	conn_offload_free(o);
	conn_finish(c);
}

/*
 * TCP is up.  The key types known_hosts records for the host decide the
 * host key algorithms to offer, and reading it is file I/O: the lookup
 * runs on an offload thread while the server's banner waits in the socket.
 */
static void
conn_kex_start(struct conn *c)
{
	struct host_params *p = c->host->params;
	struct conn_offload *o;

	c->state = CONN_KEX;
	conn_watch(c, 0);
	conn_deadline(c, p->connect_timeout_ms);
	o = xcalloc(1, sizeof(*o));
	o->kind = OFFLOAD_HOSTKEY_TYPES;
	o->host = xstrdup(p->hostname);
	o->port_num = p->port;
	o->path = xstrdup(p->known_hosts_file);
	conn_offload(c, o, OFFLOAD_Q_FILES, conn_kex_types_run,
		     conn_kex_types_done);
}

static void conn_hostkey_start(struct conn *);

static void
conn_kex_step(struct conn *c)
{
	int rc;

	if (c->session == NULL) { /* host key types still being read */
		conn_watch(c, 0);
		return;
	}
	rc = ssh_connect(c->session);
	if (conn_fd_lost(c) || rc == SSH_ERROR) {
		conn_ssh_error(c, PROTO_E_CONNECT_FAILED, "ssh handshake");
		return;
	}
	if (rc == SSH_AGAIN) {
		conn_watch_session(c);
		return;
	}
	conn_hostkey_start(c);
}

/* ---- HOSTKEY ---- */

static void
conn_hostkey_run(void *arg)
{
	struct conn_offload *o = arg;

	if (o->kind == OFFLOAD_HOSTKEY_ADD)
		o->result =
		    knownhosts_add(o->path, o->host, o->port_num, o->keytype,
				   o->b64, o->err, sizeof(o->err));
	else
		o->result = knownhosts_check(
		    o->path, o->host, o->port_num, o->keytype, o->b64,
		    o->known_fp, sizeof(o->known_fp), o->err, sizeof(o->err));
}

static void conn_hostkey_done(void *);

static int
conn_hostkey_submit(struct conn *c, struct conn_offload *o,
		    enum conn_offload_kind kind)
{
	o->kind = kind;
	return conn_offload(c, o, OFFLOAD_Q_FILES, conn_hostkey_run,
			    conn_hostkey_done);
}

static void
conn_hostkey_start(struct conn *c)
{
	struct host_params *p = c->host->params;
	struct conn_offload *o;
	ssh_key key = NULL;
	char *b64 = NULL;

	c->state = CONN_HOSTKEY;
	/* The host key check has a deadline of its own. */
	conn_deadline(c, p->connect_timeout_ms);
	/* The server waits for us now; nothing to read until we answer. */
	conn_watch(c, 0);
	if (ssh_get_server_publickey(c->session, &key) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		ssh_key_free(key);
		conn_ssh_error(c, PROTO_E_CONNECT_FAILED, "server host key");
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->host = xstrdup(p->hostname);
	o->port_num = p->port;
	o->path = xstrdup(p->known_hosts_file);
	o->keytype = xstrdup(ssh_key_type_to_char(ssh_key_type(key)));
	o->b64 = xstrdup(b64);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	conn_hostkey_submit(c, o, OFFLOAD_HOSTKEY_CHECK);
}

static void
conn_hostkey_refuse(struct conn *c, struct conn_offload *o)
{
	struct host_params *p = c->host->params;
	char fp[128], why[1024];

	if (knownhosts_fingerprint(o->b64, fp, sizeof(fp)) == -1)
		snprintf(fp, sizeof(fp), "(unknown fingerprint)");
	switch (o->result) {
	case KNOWNHOSTS_MISMATCH:
		snprintf(
		    why, sizeof(why),
		    "host key for %s has changed: the "
		    "server offers %s %s, %s records %s; refusing to connect",
		    p->hostname, o->keytype, fp, p->known_hosts_file,
		    o->known_fp);
		conn_close(c, PROTO_E_HOSTKEY_MISMATCH, why);
		break;
	case KNOWNHOSTS_REVOKED:
		snprintf(why, sizeof(why),
			 "host key %s %s of %s is marked "
			 "@revoked in %s",
			 o->keytype, fp, p->hostname, p->known_hosts_file);
		conn_close(c, PROTO_E_HOSTKEY_MISMATCH, why);
		break;
	case KNOWNHOSTS_OTHER_TYPE:
		snprintf(why, sizeof(why),
			 "%s records another key type for "
			 "%s; the server offers %s %s, which is not recorded",
			 p->known_hosts_file, p->hostname, o->keytype, fp);
		conn_close(c, PROTO_E_HOSTKEY_UNKNOWN, why);
		break;
	case KNOWNHOSTS_ERROR:
		snprintf(why, sizeof(why),
			 "cannot verify the host key of %s: "
			 "%s",
			 p->hostname, o->err);
		conn_close(c, PROTO_E_HOSTKEY_UNKNOWN, why);
		break;
	default:
		snprintf(why, sizeof(why),
			 "host key %s %s of %s is not in %s "
			 "(StrictHostKeyChecking yes)",
			 o->keytype, fp, p->hostname, p->known_hosts_file);
		conn_close(c, PROTO_E_HOSTKEY_UNKNOWN, why);
		break;
	}
}

static void
conn_hostkey_done(void *arg)
{
	struct conn_offload *o = arg;
	struct conn *c = conn_offload_back(o);

	if (c == NULL)
		return;
	if (o->result == KNOWNHOSTS_UNKNOWN &&
	    o->kind == OFFLOAD_HOSTKEY_CHECK &&
	    c->host->params->strict == CONFIG_STRICT_ACCEPT_NEW) {
		log_info("host=%s: learning new host key %s of %s (accept-new)",
			 c->host->params->key, o->keytype,
			 c->host->params->hostname);
		if (conn_hostkey_submit(c, o, OFFLOAD_HOSTKEY_ADD) == -1)
			conn_finish(c);
		return;
	}
	if (o->result == KNOWNHOSTS_OK) {
		c->state = CONN_AUTH;
		conn_auth_step(c);
	} else
		conn_hostkey_refuse(c, o);
	conn_offload_free(o);
	conn_finish(c);
}

/* ---- AUTH ---- */

static void
conn_ready(struct conn *c)
{
	struct host *h = c->host;

	evtimer_del(c->deadline);
	if ((c->sevent = ssh_event_new()) == NULL ||
	    ssh_event_add_session(c->sevent, c->session) != SSH_OK) {
		conn_close(c, PROTO_E_INTERNAL, "ssh_event_add_session failed");
		return;
	}
	ssh_set_counters(c->session, NULL, &c->packets);
	memset(&c->scb, 0, sizeof(c->scb));
	c->scb.userdata = c;
	c->scb.channel_open_request_auth_agent_function = conn_agent_open_cb;
	ssh_callbacks_init(&c->scb);
	ssh_set_callbacks(c->session, &c->scb);
	c->agent_keyed = auth_agent_key(c->auth, c->agent_key);
	auth_free(c->auth);
	c->auth = NULL;
	cred_unref(c->cred);
	c->cred = NULL;
	c->state = CONN_READY;
	c->ready = 1;
	c->ready_ms = c->last_rx_ms = c->idle_ms = clock_ms();
	conn_idle_arm(c);
	c->rx_seen = c->packets.in_packets;
	conn_watch_session(c);
	/* A random first tick spreads thousands of sessions' keepalives. */
	if (h->params->alive_interval_ms > 0)
		worker_timer_add(c->w, c->alive,
				 arc4random_uniform(alive_tick(c) + 1), 0);
	log_verbose("host=%s conn=%llu: session up in %lld ms", h->params->key,
		    c->id, clock_ms() - c->started_ms);
	host_conn_ready(h, c);
}

static void
conn_auth_step(struct conn *c)
{
	char msg[AUTH_MAX_MESSAGE];
	enum auth_result r;

	if (c->auth == NULL)
		c->auth = auth_new(c->host->params, c->cred, c->w->keys,
				   c->session, c->id, &c->w->inbox);
	r = auth_step(c->auth);
	/* A listing asked for is answered whatever becomes of us: count it. */
	if (r == AUTH_WAIT)
		worker_agent_wait(c->w, c);
	/* Only the server's refusal of every method is auth_failed; a
	 * socket lost or a protocol error on the way is a failed attempt
	 * like any other in the handshake, and another may succeed. */
	if (conn_fd_lost(c)) {
		conn_ssh_error(c, PROTO_E_CONNECT_FAILED, "authentication");
		return;
	}
	switch (r) {
	case AUTH_AGAIN:
		conn_watch_session(c);
		return;
	case AUTH_WAIT:
		/* Nothing to read meanwhile; the deadline still runs. */
		conn_watch(c, 0);
		return;
	case AUTH_SUCCESS:
		log_debug("host=%s conn=%llu: authenticated with %s",
			  c->host->params->key, c->id,
			  auth_method_name(c->auth));
		conn_ready(c);
		return;
	case AUTH_DENIED:
		auth_message(c->auth, msg, sizeof(msg));
		conn_close(c, PROTO_E_AUTH_FAILED, msg);
		return;
	default:
		conn_ssh_error(c, PROTO_E_CONNECT_FAILED, "authentication");
		return;
	}
}

/* The agent's keys are listed (worker.c, for AUTH_WAIT). */
void
conn_agent_listed(struct conn *c, const struct msg *m)
{
	if (c->state != CONN_AUTH || c->auth == NULL)
		return;
	auth_agent_listed(c->auth, m);
	conn_auth_step(c);
	conn_finish(c);
}

/* ---- READY ---- */

/* Did the server close the connection after its channels (its limit)?
 * Only jobs still opening their channel may be on it. */
static int
conn_server_done(const struct conn *c)
{
	struct job *j;

	if (c->opened == 0 || clock_ms() - c->idle_ms > CONN_SERVER_CLOSE_MS)
		return 0;
	TAILQ_FOREACH(j, &c->jobs, entry)
	{
		if (j->state != JOB_OPEN)
			return 0;
	}
	return 1;
}

static void
conn_lost(struct conn *c)
{
	const char *msg = ssh_get_error(c->session);
	char why[512];

	if (conn_server_done(c)) {
		/* Jobs still opening run on the next connection. */
		c->orderly = 1;
		host_server_channels(c->host, c->opened);
		snprintf(why, sizeof(why),
			 "the server closed the connection after %d "
			 "channels",
			 c->opened);
		conn_close(c, PROTO_E_CONNECTION_LOST, why);
		return;
	}

	snprintf(why, sizeof(why), "connection to %s lost: %s",
		 c->host->params->host,
		 msg != NULL && *msg != '\0' ? msg : "closed by the server");
	conn_close(c, PROTO_E_CONNECTION_LOST, why);
}

/*
 * Is every job here paused for a client that does not read?  libssh would
 * otherwise take in up to a channel window (about 1.2 MiB in 0.10, not
 * settable) per paused channel; unread, TCP stops the server instead.  A
 * job that still needs the server (opening, sending input, closing) and an
 * agent channel (which reads the socket anyway) keep the connection
 * reading.  Output libssh has not sent waits too (it leaves only from
 * libssh's poll), so a held connection watches nothing.
 */
static int
conn_held(const struct conn *c)
{
	struct job *j;

	if (TAILQ_EMPTY(&c->jobs) || c->nforwards > 0 || c->ntunnels > 0)
		return 0;
	TAILQ_FOREACH(j, &c->jobs, entry)
	{
		if (!job_paused(j))
			return 0;
	}
	return 1;
}

/*
 * Process what the server sent, then let every job on this connection move
 * on (open, exec, read, close) until nobody makes progress.
 */
void
conn_pump(struct conn *c)
{
	struct job *j, *next;
	uint64_t packets;
	int progress, rounds = 0, freed = 0;

	if (c->state != CONN_READY)
		return;
	c->busy++;
	do {
		progress = 0;
		packets = c->packets.in_packets;
		c->held = conn_held(c);
		if ((!c->held && ssh_event_dopoll(c->sevent, 0) == SSH_ERROR) ||
		    conn_fd_lost(c) || !ssh_is_connected(c->session)) {
			conn_lost(c);
			break;
		}
		for (j = TAILQ_FIRST(&c->jobs); j != NULL; j = next) {
			next = TAILQ_NEXT(j, entry);
			progress |= job_step(j);
		}
		progress |= conn_forwards(c, 0);
		progress |= conn_tunnels(c, 0);
		if (conn_fd_lost(c) || !ssh_is_connected(c->session)) {
			conn_lost(c);
			break;
		}
		/* A step may have read packets for a job stepped before it. */
		if (c->packets.in_packets != packets)
			progress = 1;
		for (j = TAILQ_FIRST(&c->jobs); j != NULL; j = next) {
			next = TAILQ_NEXT(j, entry);
			if (j->state != JOB_CLOSED)
				continue;
			TAILQ_REMOVE(&c->jobs, j, entry);
			c->nchans--;
			job_free(j);
			freed = 1;
			if (c->nchans == 0) {
				c->idle_ms = clock_ms();
				host_touch(c->host);
				conn_idle_arm(c);
			}
		}
	} while (progress && ++rounds < CONN_PUMP_ROUNDS);
	c->busy--;
	if (c->state != CONN_READY)
		return;
	alive_saw_packets(c);
	c->held = conn_held(c);
	conn_watch_session(c);
	/* Out of rounds with work left: continue after the others. */
	if (progress)
		event_active(c->kick, EV_TIMEOUT, 0);
	if (c->draining && conn_unused(c)) {
		conn_close(c, PROTO_E_NONE, "drained: its last job ended");
		return;
	}
	if (freed || c->host->nqueued > 0)
		host_dispatch(c->host);
}

/*
 * Take no new job; close once the last one has ended.  A connection still
 * in its handshake has no job and closes at once.
 */
void
conn_drain(struct conn *c)
{
	c->draining = 1;
	if (conn_unused(c)) {
		conn_close(c, PROTO_E_NONE, "drained");
		/* Not from this conn's callbacks: free it from the loop. */
		event_active(c->kick, EV_TIMEOUT, 0);
	}
}

/* A channel opened here.  A server known to close its connections after
 * that many channels gets no more on this one, which closes after them. */
void
conn_opened(struct conn *c)
{
	int limit = c->host->server_channels;

	c->opened++;
	if (limit > 0 && c->opened >= limit)
		c->draining = 1;
}

/* Carry job j: it opens its channel on the next pump. */
void
conn_attach(struct conn *c, struct job *j)
{
	TAILQ_INSERT_TAIL(&c->jobs, j, entry);
	c->nchans++;
	job_attach(j, c);
	conn_poke(c);
}

/*
 * The server refused to open j's channel (its refusals-th refusal while
 * alone), and j leaves.  With others open this is the server's MaxSessions:
 * carry no more than the others.  Alone, the server has not yet freed the
 * slot of a channel that just closed: take no channel for a moment, which
 * grows with the job's refusals.
 */
void
conn_refused(struct conn *c, struct job *j, int refusals)
{
	int others = c->nchans - 1;
	long long ms = (long long)CONN_REFUSED_HOLD_MS * refusals;

	if (others >= 1 && c->cap > others) {
		log_info("host=%s conn=%llu: server refused channel %d; "
			 "carrying at most %d channels on this connection",
			 c->host->params->key, c->id, c->nchans, others);
		c->cap = others;
	} else if (others < 1) {
		log_verbose("host=%s conn=%llu: server refused a channel "
			    "with none open; no new channel for %lld ms",
			    c->host->params->key, c->id, ms);
		c->hold_until_ms = clock_ms() + ms;
		worker_timer_add(c->w, c->hold, ms, 0);
	}
	TAILQ_REMOVE(&c->jobs, j, entry);
	c->nchans--;
}

/* The pause after a refusal is over: serve the host's queue. */
static void
conn_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->hold_until_ms = 0;
	if (c->state == CONN_READY)
		host_dispatch(c->host);
}

/* IdleTimeout from now, if the session stays without a channel. */
static void
conn_idle_arm(struct conn *c)
{
	int ms = c->host->params->idle_timeout_ms;

	if (ms > 0)
		worker_timer_add(c->w, c->idle, ms, 1);
}

/*
 * ControlPersist: a session without a channel for IdleTimeout closes.  A
 * job is attached on this thread in one step (host_dispatch), so a session
 * that carries a channel at this moment is simply kept; it is looked at
 * again when its last channel goes.
 */
static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int ms = c->host->params->idle_timeout_ms;
	long long left = c->idle_ms + ms - clock_ms();
	char why[128];

	(void)fd;
	(void)what;
	if (c->state != CONN_READY || !conn_unused(c) || c->busy)
		return;
	if (left > 0) {
		worker_timer_add(c->w, c->idle, left, 0);
		return;
	}
	snprintf(why, sizeof(why), "no channel for %d ms (IdleTimeout)", ms);
	conn_close(c, PROTO_E_NONE, why);
	conn_finish(c);
}

/* Pump outside of this connection's own callbacks (flow resumed). */
void
conn_resume(struct conn *c)
{
	conn_pump(c);
	conn_finish(c);
}

/* A job was attached or changed state outside the pump: pump soon. */
void
conn_poke(struct conn *c)
{
	if (c->state == CONN_READY)
		event_active(c->kick, EV_TIMEOUT, 0);
}

/* The socket is ready. */
static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	switch (c->state) {
	case CONN_TCP:
		conn_tcp_event(c, what);
		break;
	case CONN_KEX:
		conn_kex_step(c);
		break;
	case CONN_AUTH:
		conn_auth_step(c);
		break;
	case CONN_READY:
		conn_pump(c);
		break;
	default:
		conn_watch(c, 0);
		break;
	}
	conn_finish(c);
}

/* The current state's deadline passed. */
static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char why[256];

	(void)fd;
	(void)what;
	/* Waiting on a known_hosts read is told as such: the file is slow,
	 * not the server. */
	if (c->pending != NULL && c->pending->kind != OFFLOAD_RESOLVE)
		snprintf(why, sizeof(why),
			 "reading known_hosts %s did not complete within %d "
			 "ms",
			 c->host->params->known_hosts_file,
			 c->host->params->connect_timeout_ms);
	else
		snprintf(why, sizeof(why), "%s did not complete within %d ms",
			 conn_state_names[c->state],
			 c->host->params->connect_timeout_ms);
	switch (c->state) {
	case CONN_RESOLVE:
		conn_close(c, PROTO_E_RESOLVE_FAILED, why);
		break;
	case CONN_TCP:
		conn_tcp_event(c, EV_TIMEOUT);
		break;
	case CONN_TUNNEL:
	case CONN_KEX:
	case CONN_HOSTKEY:
	case CONN_AUTH:
		conn_close(c, PROTO_E_CONNECT_TIMEOUT, why);
		break;
	default:
		break;
	}
	conn_finish(c);
}

/* Begin the handshake when the daemon-wide budget allows. */
static void
conn_start(struct conn *c)
{
	long long wait;

	if ((wait = throttle_take()) > 0) {
		worker_timer_add(c->w, c->kick, wait, 0);
		return;
	}
	if (c->host->params->via != NULL)
		conn_tunnel_start(c);
	else
		conn_resolve(c);
}

/* Work scheduled from inside the loop: the first step, or more pumping. */
static void
conn_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_RESOLVE && c->addrs == NULL && c->pending == NULL)
		conn_start(c);
	else if (c->state == CONN_READY)
		conn_pump(c);
	conn_finish(c);
}
