/* SPDX-License-Identifier: ISC */
/*
 * The agent broker: one thread, one libevent loop, every relay.  A relay
 * joins the broker's end of a socketpair (the client: libssh, or a
 * forwarding channel's bridge) to one connection to a real agent.  Requests
 * read from the client are queued and sent to the agent one at a time, as
 * the agent protocol answers in order; each has a deadline.  An agent that
 * misses one, closes or sends garbage is dropped: that request and every
 * later one is answered SSH_AGENT_FAILURE here, at once.  Requests a
 * FORWARD relay does not allow are answered FAILURE without reaching the
 * agent, in their turn so replies stay in order.
 *
 * Other threads only post operations (MSG_AGENT_OP) to the broker's inbox;
 * relays live and die on the broker.  A relay that must die inside one of
 * its callbacks is flagged and freed by the loop (agent_reap).
 */
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <pthread.h>

#include "agent.h"
#include "agentmsg.h"
#include "clock.h"
#include "inbox.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

/* Bytes read from a socket at a time. */
#define AGENT_READ_CHUNK 16384

enum agent_op_kind { AGENT_OP_OPEN, AGENT_OP_CLOSE, AGENT_OP_LIST };

/* What another thread asks of the broker (MSG_AGENT_OP's arg). */
struct agent_op {
	enum agent_op_kind kind;
	uint64_t id;
	enum agent_relay_mode mode; /* OPEN */
	int cfd, afd;               /* OPEN: taken */
	struct inbox *reply_to;     /* LIST */
	uint64_t cookie;            /* LIST */
};

/* One request waiting for, or at, the agent. */
struct agent_req {
	TAILQ_ENTRY(agent_req) entry;
	uint8_t *msg; /* framed */
	size_t len;
	enum agentmsg_class cls;
	struct inbox
	    *reply_to; /* a listing of agent_list; NULL: the client's */
	uint64_t cookie;
};
TAILQ_HEAD(agent_reqs, agent_req);

struct agent_relay {
	TAILQ_ENTRY(agent_relay) entry;
	uint64_t id;
	enum agent_relay_mode mode;
	int cfd; /* the broker's end of the socketpair */
	int afd; /* the agent; -1 once dropped */
	struct event *cread, *cwrite, *aread, *awrite, *timer;
	struct evbuffer *cin, *cout, *ain, *aout;
	int reading; /* cread is added */
	int closing; /* flagged: agent_reap frees it */
	struct agent_reqs queue;
	int nqueued;
	struct agent_req *inflight; /* sent to the agent, not answered */
	char dead[AGENT_MAX_ERR];   /* "" while the agent is asked */
	uint8_t *cache;             /* the last listing of agent_list */
	size_t cache_len;
	long long cache_ms;
};
TAILQ_HEAD(agent_relays, agent_relay);

static struct {
	struct event_base *base;
	struct inbox inbox;
	struct event *reap;
	pthread_t thread;
	struct agent_relays relays;
	struct agent_limits lim;
	atomic_int running;
	atomic_int nrelays;
	atomic_uint_least64_t next_id;
} agent;

static void agent_next(struct agent_relay *);
static void agent_flush_client(struct agent_relay *);
static int agent_take_requests(struct agent_relay *);

static struct agent_relay *
agent_find(uint64_t id)
{
	struct agent_relay *r;

	TAILQ_FOREACH(r, &agent.relays, entry)
	if (r->id == id && !r->closing)
		return r;
	return NULL;
}

static void
agent_post_list(struct inbox *to, uint64_t cookie, const uint8_t *msg,
		size_t len, const char *err)
{
	struct msg *m = msg_new(MSG_AGENT_LIST);

	m->cookie = cookie;
	if (err != NULL)
		proto_buf_append(&m->buf2, err, strlen(err) + 1);
	else
		proto_buf_append(&m->buf, msg, len);
	inbox_post(to, m);
}

static void
agent_req_free(struct agent_req *q)
{
	free(q->msg);
	free(q);
}

/* Answer a request without the agent: FAILURE, or the error for a
 * listing. */
static void
agent_fail(struct agent_relay *r, struct agent_req *q, const char *why)
{
	uint8_t fail[AGENTMSG_HEADER];

	if (q->reply_to != NULL) {
		agent_post_list(q->reply_to, q->cookie, NULL, 0, why);
	} else {
		agentmsg_build_simple(fail, AGENTMSG_FAILURE);
		evbuffer_add(r->cout, fail, sizeof(fail));
	}
	agent_req_free(q);
}

/* Flag r for agent_reap; nothing of it runs any more. */
static void
agent_kill(struct agent_relay *r)
{
	if (r->closing)
		return;
	r->closing = 1;
	event_del(r->cread);
	event_del(r->cwrite);
	if (r->afd != -1) {
		event_del(r->aread);
		event_del(r->awrite);
	}
	event_del(r->timer);
	event_active(agent.reap, EV_READ, 0);
}

static void
agent_relay_free(struct agent_relay *r)
{
	struct agent_req *q;

	TAILQ_REMOVE(&agent.relays, r, entry);
	if (r->inflight != NULL)
		TAILQ_INSERT_HEAD(&r->queue, r->inflight, entry);
	while ((q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		if (q->reply_to != NULL)
			agent_post_list(q->reply_to, q->cookie, NULL, 0,
					"agent relay closed");
		agent_req_free(q);
	}
	event_free(r->cread);
	event_free(r->cwrite);
	event_free(r->aread);
	event_free(r->awrite);
	event_free(r->timer);
	evbuffer_free(r->cin);
	evbuffer_free(r->cout);
	evbuffer_free(r->ain);
	evbuffer_free(r->aout);
	close(r->cfd);
	if (r->afd != -1)
		close(r->afd);
	free(r->cache);
	log_debug("agent relay=%llu: closed", (unsigned long long)r->id);
	free(r);
	atomic_fetch_sub(&agent.nrelays, 1);
}

/* Unanswered listings are dropped, not posted (see agent_stop in
 * agent.h). */
static void
agent_discard(struct agent_relay *r)
{
	struct agent_req *q;

	if (r->inflight != NULL)
		TAILQ_INSERT_HEAD(&r->queue, r->inflight, entry);
	r->inflight = NULL;
	while ((q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		agent_req_free(q);
	}
}

static void
agent_reap(evutil_socket_t fd, short what, void *arg)
{
	struct agent_relay *r, *next;

	(void)fd;
	(void)what;
	(void)arg;
	for (r = TAILQ_FIRST(&agent.relays); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->closing)
			agent_relay_free(r);
	}
}

/*
 * The agent is no longer asked: the request at it and every later one are
 * answered here with why.  Its socket is closed at once, so a late answer
 * can never be taken for the reply to a later request.
 */
static void
agent_drop(struct agent_relay *r, const char *why)
{
	struct agent_req *q;

	if (r->dead[0] == '\0')
		log_warnx("agent relay=%llu: %s", (unsigned long long)r->id,
			  why);
	snprintf(r->dead, sizeof(r->dead), "%s", why);
	if (r->afd != -1) {
		event_del(r->aread);
		event_del(r->awrite);
		close(r->afd);
		r->afd = -1;
	}
	evbuffer_drain(r->ain, evbuffer_get_length(r->ain));
	evbuffer_drain(r->aout, evbuffer_get_length(r->aout));
	event_del(r->timer);
	if ((q = r->inflight) != NULL) {
		r->inflight = NULL;
		agent_fail(r, q, r->dead);
	}
	agent_next(r);
}

/* The agent's reply to the request in flight. */
static void
agent_answered(struct agent_relay *r, uint8_t *msg, size_t len)
{
	struct agent_req *q = r->inflight;
	struct agentmsg_identities ids;
	char err[AGENTMSG_MAX_ERR], why[AGENT_MAX_ERR];

	r->inflight = NULL;
	event_del(r->timer);
	if (q->reply_to == NULL) {
		evbuffer_add(r->cout, msg, len);
	} else if (agentmsg_type(msg, len) == AGENTMSG_FAILURE) {
		agent_post_list(q->reply_to, q->cookie, NULL, 0,
				"agent refused to list its keys");
	} else if (agentmsg_parse_identities(msg, len, &ids, err,
					     sizeof(err)) == -1) {
		snprintf(why, sizeof(why), "agent sent a bad listing: %s", err);
		log_warnx("agent relay=%llu: %s", (unsigned long long)r->id,
			  why);
		agent_post_list(q->reply_to, q->cookie, NULL, 0, why);
	} else {
		log_debug("agent relay=%llu: %zu identities",
			  (unsigned long long)r->id, ids.n);
		agentmsg_identities_free(&ids);
		free(r->cache);
		r->cache = xmalloc(len);
		memcpy(r->cache, msg, len);
		r->cache_len = len;
		r->cache_ms = clock_ms();
		agent_post_list(q->reply_to, q->cookie, msg, len, NULL);
	}
	agent_req_free(q);
}

/* Whole messages in buf, one at a time: 1 and the message taken out, 0
 * when none is complete, -1 when the stream is broken. */
static int
agent_take_msg(struct evbuffer *buf, uint8_t **msg, size_t *len)
{
	uint8_t hdr[4];
	size_t have = evbuffer_get_length(buf), flen;
	enum agentmsg_frame_result res;

	if (have < sizeof(hdr))
		return 0;
	evbuffer_copyout(buf, hdr, sizeof(hdr));
	/* The length alone says whether the stream is broken. */
	res = agentmsg_frame(hdr, sizeof(hdr), &flen);
	if (res == AGENTMSG_FRAME_BAD)
		return -1;
	flen = ((size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
		(size_t)hdr[2] << 8 | (size_t)hdr[3]) +
	       4;
	if (have < flen)
		return 0;
	*msg = xmalloc(flen);
	evbuffer_remove(buf, *msg, flen);
	*len = flen;
	return 1;
}

static void
agent_read_agent(evutil_socket_t fd, short what, void *arg)
{
	struct agent_relay *r = arg;
	uint8_t *msg;
	size_t len;
	int n;

	(void)what;
	if (r->closing)
		return;
	n = evbuffer_read(r->ain, fd, AGENT_READ_CHUNK);
	if (n == 0) {
		agent_drop(r, "agent closed the connection");
		goto out;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			agent_drop(r, "agent connection failed");
		goto out;
	}
	while ((n = agent_take_msg(r->ain, &msg, &len)) == 1) {
		if (r->inflight == NULL) {
			free(msg);
			agent_drop(r, "agent sent an unrequested message");
			goto out;
		}
		agent_answered(r, msg, len);
		free(msg);
	}
	if (n == -1) {
		agent_drop(r, "agent sent a malformed message");
		goto out;
	}
	agent_next(r);
out:
	agent_flush_client(r);
}

static void
agent_write_agent(evutil_socket_t fd, short what, void *arg)
{
	struct agent_relay *r = arg;

	(void)what;
	if (r->closing)
		return;
	if (evbuffer_write(r->aout, fd) < 0 && errno != EAGAIN &&
	    errno != EINTR) {
		agent_drop(r, "agent connection failed");
		agent_flush_client(r);
		return;
	}
	if (evbuffer_get_length(r->aout) == 0)
		event_del(r->awrite);
}

static void
agent_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct agent_relay *r = arg;
	char why[AGENT_MAX_ERR];

	(void)fd;
	(void)what;
	if (r->closing || r->inflight == NULL)
		return;
	snprintf(why, sizeof(why), "agent did not answer within %d ms",
		 agent.lim.timeout_ms);
	agent_drop(r, why);
	agent_flush_client(r);
}

static int
agent_cache_fresh(const struct agent_relay *r)
{
	return r->cache != NULL &&
	       clock_ms() - r->cache_ms < AGENT_IDENTITIES_FRESH_MS;
}

/* A FORWARD relay passes listings and signatures only, and only
 * well-formed ones: a remote host's bytes reach the agent only when they
 * parse. */
static int
agent_allowed(const struct agent_relay *r, const struct agent_req *q)
{
	struct agentmsg_sign_request sr;

	if (q->reply_to != NULL || r->mode == AGENT_RELAY_AUTH)
		return 1;
	if (q->cls == AGENTMSG_C_LIST)
		return q->len == AGENTMSG_HEADER;
	return q->cls == AGENTMSG_C_SIGN &&
	       agentmsg_parse_sign_request(q->msg, q->len, &sr, NULL, 0) == 0;
}

/* Send the next request to the agent, answering here those it must not
 * or cannot see, until one is in flight or none is left. */
static void
agent_dispatch(struct agent_relay *r)
{
	struct agent_req *q;
	struct timeval tv;

	while (r->inflight == NULL && (q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		r->nqueued--;
		if (!agent_allowed(r, q)) {
			log_info("agent relay=%llu: refused a forwarded %s "
				 "request (type %d, %zu bytes)",
				 (unsigned long long)r->id,
				 agentmsg_class_name(q->cls),
				 agentmsg_type(q->msg, q->len), q->len);
			agent_fail(r, q, NULL);
		} else if (q->reply_to == NULL && q->cls == AGENTMSG_C_LIST &&
			   agent_cache_fresh(r)) {
			evbuffer_add(r->cout, r->cache, r->cache_len);
			agent_req_free(q);
		} else if (r->dead[0] != '\0') {
			agent_fail(r, q, r->dead);
		} else {
			evbuffer_add(r->aout, q->msg, q->len);
			event_add(r->awrite, NULL);
			tv.tv_sec = agent.lim.timeout_ms / 1000;
			tv.tv_usec = (agent.lim.timeout_ms % 1000) * 1000;
			event_add(r->timer, &tv);
			r->inflight = q;
		}
	}
}

/* Move on: dispatch, and take what the client sent meanwhile while there
 * is room, which may be answered at once in turn. */
static void
agent_next(struct agent_relay *r)
{
	int before;

	do {
		agent_dispatch(r);
		before = r->nqueued;
		if (agent_take_requests(r) == -1) {
			log_warnx("agent relay=%llu: malformed request, "
				  "closing",
				  (unsigned long long)r->id);
			agent_kill(r);
			return;
		}
	} while (r->inflight == NULL && r->nqueued > before);
	/* Room again: read the client. */
	if (!r->reading && r->nqueued < agent.lim.max_queued) {
		event_add(r->cread, NULL);
		r->reading = 1;
	}
}

static void
agent_enqueue(struct agent_relay *r, struct agent_req *q)
{
	TAILQ_INSERT_TAIL(&r->queue, q, entry);
	r->nqueued++;
}

/* Queue the client's whole requests while there is room.  -1 when the
 * client broke the protocol. */
static int
agent_take_requests(struct agent_relay *r)
{
	struct agent_req *q;
	uint8_t *msg;
	size_t len;
	int n = 0;

	while (r->nqueued < agent.lim.max_queued &&
	       (n = agent_take_msg(r->cin, &msg, &len)) == 1) {
		q = xcalloc(1, sizeof(*q));
		q->msg = msg;
		q->len = len;
		q->cls = agentmsg_classify(msg, len);
		agent_enqueue(r, q);
	}
	if (r->nqueued >= agent.lim.max_queued) {
		if (r->reading)
			event_del(r->cread);
		r->reading = 0;
		return 0;
	}
	return n == -1 ? -1 : 0;
}

static void
agent_read_client(evutil_socket_t fd, short what, void *arg)
{
	struct agent_relay *r = arg;
	int n;

	(void)what;
	if (r->closing)
		return;
	n = evbuffer_read(r->cin, fd, AGENT_READ_CHUNK);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_debug("agent relay=%llu: client gone",
			  (unsigned long long)r->id);
		agent_kill(r);
		return;
	}
	agent_next(r);
	agent_flush_client(r);
}

static void
agent_write_client(evutil_socket_t fd, short what, void *arg)
{
	struct agent_relay *r = arg;

	(void)fd;
	(void)what;
	if (!r->closing)
		agent_flush_client(r);
}

/* Write the replies out; wait for EV_WRITE while the socket is full. */
static void
agent_flush_client(struct agent_relay *r)
{
	if (r->closing)
		return;
	if (evbuffer_get_length(r->cout) > 0 &&
	    evbuffer_write(r->cout, r->cfd) < 0 && errno != EAGAIN &&
	    errno != EINTR) {
		agent_kill(r);
		return;
	}
	if (evbuffer_get_length(r->cout) > 0)
		event_add(r->cwrite, NULL);
	else
		event_del(r->cwrite);
}

static void
agent_do_open(struct agent_op *op)
{
	struct agent_relay *r = xcalloc(1, sizeof(*r));
	struct event_base *b = agent.base;

	r->id = op->id;
	r->mode = op->mode;
	r->cfd = op->cfd;
	r->afd = op->afd;
	TAILQ_INIT(&r->queue);
	r->cread =
	    event_new(b, r->cfd, EV_READ | EV_PERSIST, agent_read_client, r);
	r->cwrite =
	    event_new(b, r->cfd, EV_WRITE | EV_PERSIST, agent_write_client, r);
	r->aread =
	    event_new(b, r->afd, EV_READ | EV_PERSIST, agent_read_agent, r);
	r->awrite =
	    event_new(b, r->afd, EV_WRITE | EV_PERSIST, agent_write_agent, r);
	r->timer = evtimer_new(b, agent_timeout, r);
	r->cin = evbuffer_new();
	r->cout = evbuffer_new();
	r->ain = evbuffer_new();
	r->aout = evbuffer_new();
	if (r->cread == NULL || r->cwrite == NULL || r->aread == NULL ||
	    r->awrite == NULL || r->timer == NULL || r->cin == NULL ||
	    r->cout == NULL || r->ain == NULL || r->aout == NULL)
		fatalx("%s: out of memory", __func__);
	TAILQ_INSERT_TAIL(&agent.relays, r, entry);
	event_add(r->cread, NULL);
	event_add(r->aread, NULL);
	r->reading = 1;
	log_debug("agent relay=%llu: open (%s)", (unsigned long long)r->id,
		  r->mode == AGENT_RELAY_AUTH ? "auth" : "forward");
}

static void
agent_do_list(struct agent_op *op)
{
	struct agent_relay *r = agent_find(op->id);
	struct agent_req *q;
	uint8_t req[AGENTMSG_HEADER];

	if (r == NULL) {
		agent_post_list(op->reply_to, op->cookie, NULL, 0,
				"no such agent relay");
		return;
	}
	q = xcalloc(1, sizeof(*q));
	q->len = agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	q->msg = xmalloc(q->len);
	memcpy(q->msg, req, q->len);
	q->cls = AGENTMSG_C_LIST;
	q->reply_to = op->reply_to;
	q->cookie = op->cookie;
	/* Not bounded by max_queued: agent_list's callers are the daemon's
	 * own threads, one listing per connection being authenticated. */
	agent_enqueue(r, q);
	agent_next(r);
	agent_flush_client(r);
}

static void
agent_op_free(struct agent_op *op)
{
	if (op->kind == AGENT_OP_OPEN) {
		close(op->cfd);
		close(op->afd);
		atomic_fetch_sub(&agent.nrelays, 1);
	}
	free(op);
}

static void
agent_inbox_cb(struct msg_list *list, void *arg)
{
	struct agent_relay *r;
	struct agent_op *op;
	struct msg *m;

	(void)arg;
	while ((m = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, m, entry);
		op = m->arg;
		switch (op->kind) {
		case AGENT_OP_OPEN:
			agent_do_open(op);
			break;
		case AGENT_OP_CLOSE:
			if ((r = agent_find(op->id)) != NULL)
				agent_kill(r);
			break;
		case AGENT_OP_LIST:
			agent_do_list(op);
			break;
		}
		free(op);
		msg_free(m);
	}
}

static void *
agent_main(void *arg)
{
	(void)arg;
	event_base_loop(agent.base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
agent_start(const struct agent_limits *lim)
{
	struct agent_limits def = {AGENT_DEFAULT_TIMEOUT_MS, AGENT_MAX_RELAYS,
				   AGENT_MAX_QUEUED};
	sigset_t all, old;

	if (lim == NULL)
		lim = &def;
	if (atomic_load(&agent.running) || lim->timeout_ms < 1 ||
	    lim->max_relays < 1 || lim->max_relays > AGENT_MAX_RELAYS ||
	    lim->max_queued < 1 || lim->max_queued > AGENT_MAX_QUEUED)
		return -1;
	agent.lim = *lim;
	TAILQ_INIT(&agent.relays);
	if ((agent.base = event_base_new()) == NULL)
		fatalx("%s: event_base_new failed", __func__);
	inbox_init(&agent.inbox, agent.base, agent_inbox_cb, NULL);
	agent.reap = event_new(agent.base, -1, 0, agent_reap, NULL);
	if (agent.reap == NULL)
		fatalx("%s: event_new failed", __func__);
	atomic_store(&agent.nrelays, 0);
	atomic_store(&agent.next_id, 1);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&agent.thread, NULL, agent_main, NULL) != 0)
		fatalx("%s: pthread_create failed", __func__);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	atomic_store(&agent.running, 1);
	log_debug("agent broker started, timeout %d ms", lim->timeout_ms);
	return 0;
}

void
agent_stop(void)
{
	struct msg_list left;
	struct agent_relay *r;
	struct msg *m;

	if (!atomic_exchange(&agent.running, 0))
		return;
	event_base_loopbreak(agent.base);
	pthread_join(agent.thread, NULL);
	/* The loop is gone: what it did not get to is undone here. */
	TAILQ_INIT(&left);
	pthread_mutex_lock(&agent.inbox.lock);
	TAILQ_CONCAT(&left, &agent.inbox.msgs, entry);
	pthread_mutex_unlock(&agent.inbox.lock);
	while ((m = TAILQ_FIRST(&left)) != NULL) {
		TAILQ_REMOVE(&left, m, entry);
		agent_op_free(m->arg);
		msg_free(m);
	}
	while ((r = TAILQ_FIRST(&agent.relays)) != NULL) {
		agent_discard(r);
		agent_relay_free(r);
	}
	event_free(agent.reap);
	inbox_destroy(&agent.inbox);
	event_base_free(agent.base);
	agent.base = NULL;
	log_debug("agent broker stopped");
}

static int
agent_post_op(struct agent_op *op)
{
	struct msg *m;

	if (!atomic_load(&agent.running)) {
		free(op);
		return -1;
	}
	m = msg_new(MSG_AGENT_OP);
	m->arg = op;
	inbox_post(&agent.inbox, m);
	return 0;
}

uint64_t
agent_relay_open(int agent_fd, enum agent_relay_mode mode, int *libssh_fd)
{
	struct agent_op *op;
	int sv[2], flags;
	uint64_t id;

	*libssh_fd = -1;
	if (!atomic_load(&agent.running) ||
	    atomic_fetch_add(&agent.nrelays, 1) >= agent.lim.max_relays) {
		if (atomic_load(&agent.running))
			atomic_fetch_sub(&agent.nrelays, 1);
		log_warnx("agent relay refused: %s",
			  atomic_load(&agent.running) ? "too many relays"
						      : "broker not running");
		close(agent_fd);
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("agent relay refused: socketpair");
		atomic_fetch_sub(&agent.nrelays, 1);
		close(agent_fd);
		return 0;
	}
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(agent_fd);
	if ((flags = fcntl(agent_fd, F_GETFD)) != -1)
		fcntl(agent_fd, F_SETFD, flags | FD_CLOEXEC);
	id = atomic_fetch_add(&agent.next_id, 1);
	op = xcalloc(1, sizeof(*op));
	op->kind = AGENT_OP_OPEN;
	op->id = id;
	op->mode = mode;
	op->cfd = sv[0];
	op->afd = agent_fd;
	*libssh_fd = sv[1];
	/* Cannot fail: running was checked and only agent_stop clears it,
	 * after every caller (agent.h). */
	if (agent_post_op(op) == -1) {
		close(sv[0]);
		close(sv[1]);
		close(agent_fd);
		*libssh_fd = -1;
		return 0;
	}
	/* op is the broker's now, maybe already freed. */
	return id;
}

void
agent_relay_close(uint64_t id)
{
	struct agent_op *op = xcalloc(1, sizeof(*op));

	op->kind = AGENT_OP_CLOSE;
	op->id = id;
	agent_post_op(op);
}

int
agent_list(uint64_t id, struct inbox *reply_to, uint64_t cookie)
{
	struct agent_op *op = xcalloc(1, sizeof(*op));

	op->kind = AGENT_OP_LIST;
	op->id = id;
	op->reply_to = reply_to;
	op->cookie = cookie;
	return agent_post_op(op);
}

int
agent_list_result(const struct msg *m, struct agentmsg_identities *ids,
		  char *err, size_t errlen)
{
	char perr[AGENTMSG_MAX_ERR];

	ids->n = 0;
	ids->v = NULL;
	if (m->buf2.len > 0) {
		snprintf(err, errlen, "%s", m->buf2.data);
		return -1;
	}
	if (agentmsg_parse_identities((const uint8_t *)m->buf.data, m->buf.len,
				      ids, perr, sizeof(perr)) == -1) {
		snprintf(err, errlen, "%s", perr);
		return -1;
	}
	return 0;
}

int
agent_relays(void)
{
	return atomic_load(&agent.nrelays);
}
