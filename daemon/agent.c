/* SPDX-License-Identifier: ISC */
/*
 * The agent broker: one thread, one libevent loop, every link and relay.  A
 * link is one connection to a real agent.  A relay joins the broker's end
 * of a socketpair (the client: libssh, or a forwarding channel's bridge) to
 * a link.  agent_relay_open makes a relay on a private link that lives and
 * dies with it; agent_link_open makes a shared link that many relays attach
 * to, freed once its holder released it and its last relay closed.
 *
 * The agent protocol answers in order on one stream, so a link has one
 * request at the agent at a time, with a deadline.  Each relay queues what
 * its client sends (at most max_queued) and answers here, in its turn so
 * its replies stay in order, what the agent must not or need not see:
 * requests its mode or its pin refuses, listings it already has (its pin,
 * a fresh agent_list, the link's listing) and, once the link is dead,
 * everything.  When the link is idle it sends the head of the first relay
 * of its list that has one and moves that relay to the list's tail, so
 * relays take turns and none starves another.  An agent that misses a
 * deadline, closes or sends garbage is dropped for every relay of the link:
 * the request at it and every later one is answered SSH_AGENT_FAILURE here,
 * at once, and listings get the reason.
 *
 * A pinned relay (agent_relay_attach with a key blob) answers every
 * REQUEST_IDENTITIES with that key alone and passes only SIGN_REQUESTs for
 * it, so the key libssh offers, and the one that logged in, is known.
 *
 * This file has the relays, the operations and the thread; agent_link.c
 * the links, their turns and their listing; agent_link.h what they share.
 *
 * Other threads only post operations (MSG_AGENT_OP) to the broker's inbox;
 * links and relays live and die on the broker.  A relay that must die
 * inside one of its callbacks is flagged and freed by the loop (agent_reap);
 * a link is freed only with its last relay or by an operation, never inside
 * its own callbacks.  Besides counters, the one thing other threads read is
 * the registry of held link ids (agent_link.c), so that agent_relay_attach
 * can refuse an unknown or released link at once.
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
#include "agent_link.h"
#include "agentmsg.h"
#include "clock.h"
#include "inbox.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

enum agent_op_kind {
	AGENT_OP_OPEN,
	AGENT_OP_CLOSE,
	AGENT_OP_LIST,
	AGENT_OP_LINK_OPEN,
	AGENT_OP_LINK_CLOSE,
	AGENT_OP_ATTACH,
	AGENT_OP_LINK_LIST
};

/* What another thread asks of the broker (MSG_AGENT_OP's arg). */
struct agent_op {
	enum agent_op_kind kind;
	uint64_t id;                /* the relay or the link */
	uint64_t link;              /* ATTACH */
	enum agent_relay_mode mode; /* OPEN, ATTACH */
	int cfd, afd;               /* taken: OPEN both, ATTACH cfd,
				     * LINK_OPEN afd */
	uint8_t *pin;               /* ATTACH: a copy, or NULL */
	size_t pin_len;
	struct inbox *reply_to; /* LIST, LINK_LIST */
	uint64_t cookie;        /* LIST, LINK_LIST */
};

struct agent_broker agent_broker;

static int agent_take_requests(struct agent_relay *);

static struct agent_relay *
agent_find(uint64_t id)
{
	struct agent_relay *r;

	TAILQ_FOREACH(r, &agent_broker.relays, entry)
	if (r->id == id && !r->closing)
		return r;
	return NULL;
}

void
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

struct agent_req *
agent_req_new(const uint8_t *msg, size_t len, struct inbox *reply_to,
	      uint64_t cookie)
{
	struct agent_req *q = xcalloc(1, sizeof(*q));

	if (len > 0) {
		q->msg = xmalloc(len);
		memcpy(q->msg, msg, len);
		q->len = len;
		q->cls = agentmsg_classify(msg, len);
	}
	q->reply_to = reply_to;
	q->cookie = cookie;
	return q;
}

void
agent_req_free(struct agent_req *q)
{
	free(q->msg);
	free(q);
}

/* Answer a request without the agent: FAILURE, or the error for a
 * listing. */
void
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
	event_active(agent_broker.reap, EV_READ, 0);
}

/* Free r; its listings are answered when post, else dropped (agent_stop,
 * see agent.h).  Its link goes with it when nothing else keeps it. */
static void
agent_relay_free(struct agent_relay *r, int post)
{
	struct agent_link *l = r->link;
	struct agent_req *q;

	TAILQ_REMOVE(&agent_broker.relays, r, entry);
	TAILQ_REMOVE(&l->relays, r, lentry);
	if (l->owner == r) {
		/* The agent's answer is read and dropped when it comes. */
		l->owner = NULL;
		if (post && l->inflight->reply_to != NULL)
			agent_post_list(l->inflight->reply_to,
					l->inflight->cookie, NULL, 0,
					"agent relay closed");
	}
	while ((q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		if (post && q->reply_to != NULL)
			agent_post_list(q->reply_to, q->cookie, NULL, 0,
					"agent relay closed");
		agent_req_free(q);
	}
	event_free(r->cread);
	event_free(r->cwrite);
	evbuffer_free(r->cin);
	evbuffer_free(r->cout);
	close(r->cfd);
	free(r->pin);
	free(r->pin_answer);
	free(r->cache);
	log_debug("agent relay=%llu: closed", (unsigned long long)r->id);
	free(r);
	atomic_fetch_sub(&agent_broker.nrelays, 1);
	atomic_fetch_sub(&agent_broker.nslots, 1);
	if (--l->refs == 0 && !l->held)
		agent_link_free(l);
}

static void
agent_reap(evutil_socket_t fd, short what, void *arg)
{
	struct agent_relay *r, *next;

	(void)fd;
	(void)what;
	(void)arg;
	for (r = TAILQ_FIRST(&agent_broker.relays); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->closing)
			agent_relay_free(r, 1);
	}
}

uint8_t *
agent_dup(const uint8_t *p, size_t len)
{
	uint8_t *copy = xmalloc(len);

	memcpy(copy, p, len);
	return copy;
}

/* The agent's reply to relay r's request q. */
void
agent_relay_answered(struct agent_relay *r, struct agent_req *q,
		     const uint8_t *msg, size_t len)
{
	char why[AGENT_MAX_ERR];

	if (q->reply_to == NULL) {
		evbuffer_add(r->cout, msg, len);
	} else if (agent_link_check_listing(r->link, msg, len, why,
					    sizeof(why)) == -1) {
		agent_post_list(q->reply_to, q->cookie, NULL, 0, why);
	} else {
		free(r->cache);
		r->cache = agent_dup(msg, len);
		r->cache_len = len;
		r->cache_ms = clock_ms();
		agent_post_list(q->reply_to, q->cookie, msg, len, NULL);
	}
	agent_req_free(q);
}

/* Whole messages in buf, one at a time: 1 and the message taken out, 0
 * when none is complete, -1 when the stream is broken. */
int
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

static int
agent_cache_fresh(const struct agent_relay *r)
{
	return r->cache != NULL &&
	       clock_ms() - r->cache_ms < AGENT_IDENTITIES_FRESH_MS;
}

/*
 * A FORWARD relay passes listings and signatures only, and only
 * well-formed ones: a remote host's bytes reach the agent only when they
 * parse.  A pinned relay passes signatures for its pin only (its listings
 * it answers itself).
 */
static int
agent_allowed(const struct agent_relay *r, const struct agent_req *q)
{
	struct agentmsg_sign_request sr;

	if (q->reply_to != NULL ||
	    (r->mode == AGENT_RELAY_AUTH && r->pin == NULL))
		return 1;
	if (q->cls == AGENTMSG_C_LIST)
		return r->mode == AGENT_RELAY_AUTH || q->len == AGENTMSG_HEADER;
	if (q->cls != AGENTMSG_C_SIGN ||
	    agentmsg_parse_sign_request(q->msg, q->len, &sr, NULL, 0) == -1)
		return 0;
	return r->pin == NULL || (sr.blob_len == r->pin_len &&
				  memcmp(sr.blob, r->pin, r->pin_len) == 0);
}

/* Answer q here if the agent must not or need not see it: 1 when done (q
 * is freed), 0 when it is for the agent. */
static int
agent_answer_here(struct agent_relay *r, struct agent_req *q)
{
	const struct agent_link *l = r->link;
	const uint8_t *list = NULL;
	size_t list_len = 0;

	if (!agent_allowed(r, q)) {
		log_info("agent relay=%llu: refused a %s %s request "
			 "(type %d, %zu bytes)",
			 (unsigned long long)r->id,
			 r->pin != NULL ? "pinned" : "forwarded",
			 agentmsg_class_name(q->cls),
			 agentmsg_type(q->msg, q->len), q->len);
		agent_fail(r, q, NULL);
		return 1;
	}
	if (q->reply_to == NULL && q->cls == AGENTMSG_C_LIST) {
		if (r->pin != NULL) {
			list = r->pin_answer;
			list_len = r->pin_answer_len;
		} else if (agent_cache_fresh(r)) {
			list = r->cache;
			list_len = r->cache_len;
		} else if (l->cache != NULL) {
			list = l->cache;
			list_len = l->cache_len;
		}
	}
	if (list != NULL) {
		evbuffer_add(r->cout, list, list_len);
		agent_req_free(q);
		return 1;
	}
	if (l->dead[0] != '\0') {
		agent_fail(r, q, l->dead);
		return 1;
	}
	return 0;
}

/* Answer the requests at the head of the queue that need no agent; the
 * first that does stays there for its link's turn. */
static void
agent_dispatch(struct agent_relay *r)
{
	struct agent_req *q;

	while (!r->waiting && (q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		r->nqueued--;
		if (agent_answer_here(r, q))
			continue;
		TAILQ_INSERT_HEAD(&r->queue, q, entry);
		r->nqueued++;
		break;
	}
}

/* Move on: dispatch, take what the client sent meanwhile while there is
 * room, which may be answered at once in turn, and let the link send. */
void
agent_next(struct agent_relay *r)
{
	int before;

	if (r->closing)
		return;
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
	} while (!r->waiting && r->nqueued > before);
	/* Room again: read the client. */
	if (!r->reading && r->nqueued < agent_broker.lim.max_queued) {
		event_add(r->cread, NULL);
		r->reading = 1;
	}
	agent_link_kick(r->link);
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

	while (r->nqueued < agent_broker.lim.max_queued &&
	       (n = agent_take_msg(r->cin, &msg, &len)) == 1) {
		q = xcalloc(1, sizeof(*q));
		q->msg = msg;
		q->len = len;
		q->cls = agentmsg_classify(msg, len);
		agent_enqueue(r, q);
	}
	if (r->nqueued >= agent_broker.lim.max_queued) {
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
void
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

static struct agent_relay *
agent_relay_new(uint64_t id, enum agent_relay_mode mode, int cfd,
		struct agent_link *l)
{
	struct agent_relay *r = xcalloc(1, sizeof(*r));
	struct event_base *b = agent_broker.base;

	r->id = id;
	r->mode = mode;
	r->cfd = cfd;
	r->link = l;
	TAILQ_INIT(&r->queue);
	r->cread =
	    event_new(b, r->cfd, EV_READ | EV_PERSIST, agent_read_client, r);
	r->cwrite =
	    event_new(b, r->cfd, EV_WRITE | EV_PERSIST, agent_write_client, r);
	r->cin = evbuffer_new();
	r->cout = evbuffer_new();
	if (r->cread == NULL || r->cwrite == NULL || r->cin == NULL ||
	    r->cout == NULL)
		fatalx("%s: out of memory", __func__);
	l->refs++;
	TAILQ_INSERT_TAIL(&l->relays, r, lentry);
	TAILQ_INSERT_TAIL(&agent_broker.relays, r, entry);
	event_add(r->cread, NULL);
	r->reading = 1;
	return r;
}

static const char *
agent_mode_name(enum agent_relay_mode mode)
{
	return mode == AGENT_RELAY_AUTH ? "auth" : "forward";
}

static void
agent_do_open(struct agent_op *op)
{
	struct agent_link *l = agent_link_new(op->id, op->afd, 0);

	agent_relay_new(op->id, op->mode, op->cfd, l);
	log_debug("agent relay=%llu: open (%s)", (unsigned long long)op->id,
		  agent_mode_name(op->mode));
}

/* A pinned relay's listing: the pin alone, without a comment. */
static void
agent_pin(struct agent_relay *r, uint8_t *pin, size_t pin_len)
{
	struct agentmsg_identity one = {pin, pin_len, NULL, 0};
	struct agentmsg_identities ids = {1, &one};

	r->pin = pin;
	r->pin_len = pin_len;
	/* agent_relay_attach checked the pin against the limits. */
	if (agentmsg_build_identities(&ids, &r->pin_answer,
				      &r->pin_answer_len) == -1)
		fatalx("%s: pin of %zu bytes", __func__, pin_len);
}

static void
agent_do_attach(struct agent_op *op)
{
	struct agent_link *l = agent_link_find(op->link);
	struct agent_relay *r;

	if (l == NULL) {
		/* Released and freed meanwhile: libssh's end reads EOF. */
		log_warnx("agent relay=%llu: link=%llu is gone",
			  (unsigned long long)op->id,
			  (unsigned long long)op->link);
		close(op->cfd);
		atomic_fetch_sub(&agent_broker.nrelays, 1);
		atomic_fetch_sub(&agent_broker.nslots, 1);
		return;
	}
	r = agent_relay_new(op->id, op->mode, op->cfd, l);
	if (op->pin != NULL) {
		agent_pin(r, op->pin, op->pin_len);
		op->pin = NULL;
	}
	log_debug("agent relay=%llu: open on link=%llu (%s%s)",
		  (unsigned long long)r->id, (unsigned long long)l->id,
		  agent_mode_name(r->mode), r->pin != NULL ? ", pinned" : "");
}

static void
agent_do_list(struct agent_op *op)
{
	struct agent_relay *r = agent_find(op->id);
	uint8_t req[AGENTMSG_HEADER];

	if (r == NULL) {
		agent_post_list(op->reply_to, op->cookie, NULL, 0,
				"no such agent relay");
		return;
	}
	agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	/* Not bounded by max_queued: agent_list's callers are the daemon's
	 * own threads, one listing per connection being authenticated. */
	agent_enqueue(
	    r, agent_req_new(req, sizeof(req), op->reply_to, op->cookie));
	agent_next(r);
	agent_flush_client(r);
}

/* An operation the loop never ran (agent_stop): undo what its call took. */
static void
agent_op_free(struct agent_op *op)
{
	switch (op->kind) {
	case AGENT_OP_OPEN:
		close(op->afd);
		/* FALLTHROUGH */
	case AGENT_OP_ATTACH:
		close(op->cfd);
		atomic_fetch_sub(&agent_broker.nrelays, 1);
		atomic_fetch_sub(&agent_broker.nslots, 1);
		break;
	case AGENT_OP_LINK_OPEN:
		close(op->afd);
		atomic_fetch_sub(&agent_broker.nlinks, 1);
		atomic_fetch_sub(&agent_broker.nslots, 1);
		break;
	default:
		break;
	}
	free(op->pin);
	free(op);
}

static void
agent_run_op(struct agent_op *op)
{
	struct agent_relay *r;

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
	case AGENT_OP_LINK_OPEN:
		agent_link_do_open(op->id, op->afd);
		break;
	case AGENT_OP_LINK_CLOSE:
		agent_link_do_close(op->id);
		break;
	case AGENT_OP_ATTACH:
		agent_do_attach(op);
		break;
	case AGENT_OP_LINK_LIST:
		agent_link_do_list(op->id, op->reply_to, op->cookie);
		break;
	}
}

static void
agent_inbox_cb(struct msg_list *list, void *arg)
{
	struct agent_op *op;
	struct msg *m;

	(void)arg;
	while ((m = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, m, entry);
		op = m->arg;
		agent_run_op(op);
		free(op->pin);
		free(op);
		msg_free(m);
	}
}

static void *
agent_main(void *arg)
{
	(void)arg;
	event_base_loop(agent_broker.base, EVLOOP_NO_EXIT_ON_EMPTY);
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
	if (atomic_load(&agent_broker.running) || lim->timeout_ms < 1 ||
	    lim->max_relays < 1 || lim->max_relays > AGENT_MAX_RELAYS ||
	    lim->max_queued < 1 || lim->max_queued > AGENT_MAX_QUEUED)
		return -1;
	agent_broker.lim = *lim;
	TAILQ_INIT(&agent_broker.relays);
	TAILQ_INIT(&agent_broker.links);
	if ((agent_broker.base = event_base_new()) == NULL)
		fatalx("%s: event_base_new failed", __func__);
	inbox_init(&agent_broker.inbox, agent_broker.base, agent_inbox_cb,
		   NULL);
	agent_broker.reap =
	    event_new(agent_broker.base, -1, 0, agent_reap, NULL);
	if (agent_broker.reap == NULL)
		fatalx("%s: event_new failed", __func__);
	atomic_store(&agent_broker.nslots, 0);
	atomic_store(&agent_broker.nrelays, 0);
	atomic_store(&agent_broker.nlinks, 0);
	atomic_store(&agent_broker.next_id, 1);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&agent_broker.thread, NULL, agent_main, NULL) != 0)
		fatalx("%s: pthread_create failed", __func__);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	atomic_store(&agent_broker.running, 1);
	log_debug("agent broker started, timeout %d ms", lim->timeout_ms);
	return 0;
}

void
agent_stop(void)
{
	struct msg_list left;
	struct agent_relay *r;
	struct agent_link *l;
	struct msg *m;

	if (!atomic_exchange(&agent_broker.running, 0))
		return;
	event_base_loopbreak(agent_broker.base);
	pthread_join(agent_broker.thread, NULL);
	/* The loop is gone: what it did not get to is undone here. */
	TAILQ_INIT(&left);
	pthread_mutex_lock(&agent_broker.inbox.lock);
	TAILQ_CONCAT(&left, &agent_broker.inbox.msgs, entry);
	pthread_mutex_unlock(&agent_broker.inbox.lock);
	while ((m = TAILQ_FIRST(&left)) != NULL) {
		TAILQ_REMOVE(&left, m, entry);
		agent_op_free(m->arg);
		msg_free(m);
	}
	while ((r = TAILQ_FIRST(&agent_broker.relays)) != NULL)
		agent_relay_free(r, 0);
	/* Held links have no relay left. */
	while ((l = TAILQ_FIRST(&agent_broker.links)) != NULL)
		agent_link_free(l);
	agent_link_unhold_all();
	event_free(agent_broker.reap);
	inbox_destroy(&agent_broker.inbox);
	event_base_free(agent_broker.base);
	agent_broker.base = NULL;
	log_debug("agent broker stopped");
}

static int
agent_post_op(struct agent_op *op)
{
	struct msg *m;

	if (!atomic_load(&agent_broker.running)) {
		free(op->pin);
		free(op);
		return -1;
	}
	m = msg_new(MSG_AGENT_OP);
	m->arg = op;
	inbox_post(&agent_broker.inbox, m);
	return 0;
}

/* Take one slot of max_relays: 0, or -1 (logged) when there is none. */
static int
agent_reserve(const char *what)
{
	if (!atomic_load(&agent_broker.running)) {
		log_warnx("agent %s refused: broker not running", what);
		return -1;
	}
	if (atomic_fetch_add(&agent_broker.nslots, 1) >=
	    agent_broker.lim.max_relays) {
		atomic_fetch_sub(&agent_broker.nslots, 1);
		log_warnx("agent %s refused: too many relays", what);
		return -1;
	}
	return 0;
}

/* An agent's socket as the broker wants it: non-blocking, not inherited. */
static void
agent_prepare_fd(int fd)
{
	int flags;

	evutil_make_socket_nonblocking(fd);
	if ((flags = fcntl(fd, F_GETFD)) != -1)
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* A relay's socketpair: the broker's end non-blocking in *cfd, libssh's
 * blocking in *libssh_fd.  -1 (logged) when none could be made. */
static int
agent_pair(int *cfd, int *libssh_fd)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("agent relay refused: socketpair");
		return -1;
	}
	evutil_make_socket_nonblocking(sv[0]);
	*cfd = sv[0];
	*libssh_fd = sv[1];
	return 0;
}

/* Post a relay's OPEN or ATTACH: its id, or 0 with everything undone. */
static uint64_t
agent_post_relay(struct agent_op *op, int sfd, int *libssh_fd)
{
	uint64_t id = atomic_fetch_add(&agent_broker.next_id, 1);

	op->id = id;
	*libssh_fd = sfd;
	/* Cannot fail: running was checked and only agent_stop clears it,
	 * after every caller (agent.h). */
	if (agent_post_op(op) == -1) {
		close(sfd);
		*libssh_fd = -1;
		return 0;
	}
	/* op is the broker's now, maybe already freed. */
	return id;
}

uint64_t
agent_relay_open(int agent_fd, enum agent_relay_mode mode, int *libssh_fd)
{
	struct agent_op *op;
	int cfd, sfd;

	*libssh_fd = -1;
	if (agent_reserve("relay") == -1) {
		close(agent_fd);
		return 0;
	}
	if (agent_pair(&cfd, &sfd) == -1) {
		atomic_fetch_sub(&agent_broker.nslots, 1);
		close(agent_fd);
		return 0;
	}
	atomic_fetch_add(&agent_broker.nrelays, 1);
	agent_prepare_fd(agent_fd);
	op = xcalloc(1, sizeof(*op));
	op->kind = AGENT_OP_OPEN;
	op->mode = mode;
	op->cfd = cfd;
	op->afd = agent_fd;
	return agent_post_relay(op, sfd, libssh_fd);
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

uint64_t
agent_link_open(int agent_fd)
{
	struct agent_op *op;
	uint64_t id;

	if (agent_reserve("link") == -1) {
		close(agent_fd);
		return 0;
	}
	atomic_fetch_add(&agent_broker.nlinks, 1);
	agent_prepare_fd(agent_fd);
	id = atomic_fetch_add(&agent_broker.next_id, 1);
	op = xcalloc(1, sizeof(*op));
	op->kind = AGENT_OP_LINK_OPEN;
	op->id = id;
	op->afd = agent_fd;
	agent_link_hold(id);
	/* Cannot fail, as in agent_post_relay. */
	if (agent_post_op(op) == -1) {
		agent_link_held(id, 1);
		close(agent_fd);
		return 0;
	}
	return id;
}

void
agent_link_close(uint64_t link)
{
	struct agent_op *op;

	if (!agent_link_held(link, 1))
		return;
	op = xcalloc(1, sizeof(*op));
	op->kind = AGENT_OP_LINK_CLOSE;
	op->id = link;
	agent_post_op(op);
}

uint64_t
agent_relay_attach(uint64_t link, enum agent_relay_mode mode,
		   const uint8_t *pin, size_t pin_len, int *libssh_fd)
{
	struct agent_op *op;
	int cfd, sfd;

	*libssh_fd = -1;
	if (pin != NULL && (pin_len == 0 || pin_len > AGENTMSG_MAX_BLOB)) {
		log_warnx("agent relay refused: a pin of %zu bytes", pin_len);
		return 0;
	}
	if (agent_reserve("relay") == -1)
		return 0;
	if (!agent_link_held(link, 0)) {
		atomic_fetch_sub(&agent_broker.nslots, 1);
		log_warnx("agent relay refused: no agent link=%llu",
			  (unsigned long long)link);
		return 0;
	}
	if (agent_pair(&cfd, &sfd) == -1) {
		atomic_fetch_sub(&agent_broker.nslots, 1);
		return 0;
	}
	atomic_fetch_add(&agent_broker.nrelays, 1);
	op = xcalloc(1, sizeof(*op));
	op->kind = AGENT_OP_ATTACH;
	op->link = link;
	op->mode = mode;
	op->cfd = cfd;
	if (pin != NULL) {
		op->pin = agent_dup(pin, pin_len);
		op->pin_len = pin_len;
	}
	return agent_post_relay(op, sfd, libssh_fd);
}

int
agent_link_list(uint64_t link, struct inbox *reply_to, uint64_t cookie)
{
	struct agent_op *op = xcalloc(1, sizeof(*op));

	op->kind = AGENT_OP_LINK_LIST;
	op->id = link;
	op->reply_to = reply_to;
	op->cookie = cookie;
	return agent_post_op(op);
}

int
agent_relays(void)
{
	return atomic_load(&agent_broker.nrelays);
}
