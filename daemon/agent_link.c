/* SPDX-License-Identifier: ISC */
/*
 * The agent broker's links (see agent.c's top comment): a connection to an
 * agent, the one request at it with its deadline, and the turns of the
 * relays that share it.  A link that fails is dropped for all its relays
 * at once.  A shared link's listing (agent_link_list) is asked once and
 * kept for the link's life; agent_link_list's callers waiting meanwhile
 * all get that one answer.
 */
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agent.h"
#include "agent_link.h"
#include "agentmsg.h"
#include "inbox.h"
#include "log.h"
#include "xmalloc.h"

/* Why a released link's relays fail. */
#define AGENT_RELEASED "the client's agent was released"

/* Shared links opened and not yet released, for any thread. */
static struct {
	pthread_mutex_t lock;
	uint64_t ids[AGENT_MAX_RELAYS];
	int n;
} held = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The registry of held links: any thread, under held.lock. */
void
agent_link_hold(uint64_t id)
{
	pthread_mutex_lock(&held.lock);
	/* Room: a held link holds one of max_relays' slots. */
	if (held.n == AGENT_MAX_RELAYS)
		fatalx("%s: more held links than slots", __func__);
	held.ids[held.n++] = id;
	pthread_mutex_unlock(&held.lock);
}

/* 1 if id is held (and no more when release), else 0. */
int
agent_link_held(uint64_t id, int release)
{
	int i, found = 0;

	pthread_mutex_lock(&held.lock);
	for (i = 0; i < held.n && !found; i++) {
		if (held.ids[i] != id)
			continue;
		found = 1;
		if (release)
			held.ids[i] = held.ids[--held.n];
	}
	pthread_mutex_unlock(&held.lock);
	return found;
}

struct agent_link *
agent_link_find(uint64_t id)
{
	struct agent_link *l;

	TAILQ_FOREACH(l, &agent_broker.links, entry)
	if (l->id == id)
		return l;
	return NULL;
}

/* For logs: a private link is known by its relay's id. */
const char *
agent_link_kind(const struct agent_link *l)
{
	return l->shared ? "link" : "relay";
}

/* Answer every agent_link_list waiting: the listing, or why not. */
static void
agent_link_answer_listers(struct agent_link *l, const char *why)
{
	struct agent_req *q;

	while ((q = TAILQ_FIRST(&l->listers)) != NULL) {
		TAILQ_REMOVE(&l->listers, q, entry);
		agent_post_list(q->reply_to, q->cookie, l->cache, l->cache_len,
				why);
		agent_req_free(q);
	}
}

void
agent_link_free(struct agent_link *l)
{
	struct agent_req *q;

	if (l->shared)
		TAILQ_REMOVE(&agent_broker.links, l, entry);
	if (l->inflight != NULL)
		agent_req_free(l->inflight);
	/* Listers left are agent_stop's, which are not answered. */
	while ((q = TAILQ_FIRST(&l->listers)) != NULL) {
		TAILQ_REMOVE(&l->listers, q, entry);
		agent_req_free(q);
	}
	event_free(l->aread);
	event_free(l->awrite);
	event_free(l->timer);
	evbuffer_free(l->ain);
	evbuffer_free(l->aout);
	if (l->afd != -1)
		close(l->afd);
	free(l->cache);
	if (l->shared) {
		log_debug("agent link=%llu: closed", (unsigned long long)l->id);
		atomic_fetch_sub(&agent_broker.nlinks, 1);
		atomic_fetch_sub(&agent_broker.nslots, 1);
	}
	free(l);
}

/*
 * The agent is no longer asked: the request at it and every later one of
 * every relay of the link are answered here with why.  Its socket is closed
 * at once, so a late answer can never be taken for the reply to a later
 * request.  warn: a failure of the agent, not a release.
 */
static void
agent_link_drop(struct agent_link *l, const char *why, int warn)
{
	struct agent_relay *r;
	struct agent_req *q;

	if (warn && l->dead[0] == '\0')
		log_warnx("agent %s=%llu: %s", agent_link_kind(l),
			  (unsigned long long)l->id, why);
	snprintf(l->dead, sizeof(l->dead), "%s", why);
	if (l->afd != -1) {
		event_del(l->aread);
		event_del(l->awrite);
		close(l->afd);
		l->afd = -1;
	}
	evbuffer_drain(l->ain, evbuffer_get_length(l->ain));
	evbuffer_drain(l->aout, evbuffer_get_length(l->aout));
	event_del(l->timer);
	if ((q = l->inflight) != NULL) {
		l->inflight = NULL;
		if ((r = l->owner) != NULL) {
			r->waiting = 0;
			agent_fail(r, q, l->dead);
		} else {
			agent_req_free(q);
		}
		l->owner = NULL;
		l->listing = 0;
	}
	agent_link_answer_listers(l, l->dead);
	TAILQ_FOREACH(r, &l->relays, lentry)
	{
		agent_next(r);
		agent_flush_client(r);
	}
}

/* A listing from the agent: 0, or -1 and why not in why. */
int
agent_link_check_listing(const struct agent_link *l, const uint8_t *msg,
			 size_t len, char *why, size_t whylen)
{
	struct agentmsg_identities ids;
	char err[AGENTMSG_MAX_ERR];

	if (agentmsg_type(msg, len) == AGENTMSG_FAILURE) {
		snprintf(why, whylen, "agent refused to list its keys");
		return -1;
	}
	if (agentmsg_parse_identities(msg, len, &ids, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "agent sent a bad listing: %s", err);
		log_warnx("agent %s=%llu: %s", agent_link_kind(l),
			  (unsigned long long)l->id, why);
		return -1;
	}
	log_debug("agent %s=%llu: %zu identities", agent_link_kind(l),
		  (unsigned long long)l->id, ids.n);
	agentmsg_identities_free(&ids);
	return 0;
}

/* The agent's reply to the request in flight. */
static void
agent_link_answered(struct agent_link *l, const uint8_t *msg, size_t len)
{
	struct agent_req *q = l->inflight;
	struct agent_relay *r = l->owner;
	char why[AGENT_MAX_ERR];

	l->inflight = NULL;
	l->owner = NULL;
	event_del(l->timer);
	if (l->listing) {
		l->listing = 0;
		if (agent_link_check_listing(l, msg, len, why, sizeof(why)) ==
		    0) {
			l->cache = agent_dup(msg, len);
			l->cache_len = len;
			agent_link_answer_listers(l, NULL);
		} else {
			/* Not kept: the next agent_link_list asks again. */
			agent_link_answer_listers(l, why);
		}
		agent_req_free(q);
	} else if (r != NULL) {
		r->waiting = 0;
		agent_relay_answered(r, q, msg, len);
	} else {
		agent_req_free(q);
	}
}

static void
agent_link_send(struct agent_link *l, struct agent_req *q,
		struct agent_relay *owner)
{
	struct timeval tv;

	evbuffer_add(l->aout, q->msg, q->len);
	event_add(l->awrite, NULL);
	tv.tv_sec = agent_broker.lim.timeout_ms / 1000;
	tv.tv_usec = (agent_broker.lim.timeout_ms % 1000) * 1000;
	event_add(l->timer, &tv);
	l->inflight = q;
	l->owner = owner;
}

/*
 * An idle link sends the next request: the link's own listing first (one
 * per link), else the head of the first relay in turn, which then goes to
 * the back.  A relay's head is always one the agent must answer: agent_next
 * answered the others.
 */
void
agent_link_kick(struct agent_link *l)
{
	uint8_t req[AGENTMSG_HEADER];
	struct agent_relay *r;
	struct agent_req *q;

	if (l->inflight != NULL || l->afd == -1)
		return;
	if (!TAILQ_EMPTY(&l->listers)) {
		agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
		l->listing = 1;
		agent_link_send(l, agent_req_new(req, sizeof(req), NULL, 0),
				NULL);
		return;
	}
	TAILQ_FOREACH(r, &l->relays, lentry)
	{
		if (r->closing || r->waiting ||
		    (q = TAILQ_FIRST(&r->queue)) == NULL)
			continue;
		TAILQ_REMOVE(&r->queue, q, entry);
		r->nqueued--;
		r->waiting = 1;
		TAILQ_REMOVE(&l->relays, r, lentry);
		TAILQ_INSERT_TAIL(&l->relays, r, lentry);
		agent_link_send(l, q, r);
		return;
	}
}

static void
agent_link_read(evutil_socket_t fd, short what, void *arg)
{
	struct agent_link *l = arg;
	struct agent_relay *r = NULL;
	uint8_t *msg;
	size_t len;
	int n;

	(void)what;
	n = evbuffer_read(l->ain, fd, AGENT_READ_CHUNK);
	if (n == 0) {
		agent_link_drop(l, "agent closed the connection", 1);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			agent_link_drop(l, "agent connection failed", 1);
		return;
	}
	while ((n = agent_take_msg(l->ain, &msg, &len)) == 1) {
		if (l->inflight == NULL) {
			free(msg);
			agent_link_drop(l, "agent sent an unrequested message",
					1);
			return;
		}
		r = l->owner;
		agent_link_answered(l, msg, len);
		free(msg);
	}
	if (n == -1) {
		agent_link_drop(l, "agent sent a malformed message", 1);
		return;
	}
	if (r != NULL) {
		agent_next(r);
		agent_flush_client(r);
	}
	agent_link_kick(l);
}

static void
agent_link_write(evutil_socket_t fd, short what, void *arg)
{
	struct agent_link *l = arg;

	(void)what;
	if (evbuffer_write(l->aout, fd) < 0 && errno != EAGAIN &&
	    errno != EINTR) {
		agent_link_drop(l, "agent connection failed", 1);
		return;
	}
	if (evbuffer_get_length(l->aout) == 0)
		event_del(l->awrite);
}

static void
agent_link_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct agent_link *l = arg;
	char why[AGENT_MAX_ERR];

	(void)fd;
	(void)what;
	if (l->inflight == NULL)
		return;
	snprintf(why, sizeof(why), "agent did not answer within %d ms",
		 agent_broker.lim.timeout_ms);
	agent_link_drop(l, why, 1);
}

struct agent_link *
agent_link_new(uint64_t id, int afd, int shared)
{
	struct agent_link *l = xcalloc(1, sizeof(*l));
	struct event_base *b = agent_broker.base;

	l->id = id;
	l->shared = shared;
	l->afd = afd;
	TAILQ_INIT(&l->relays);
	TAILQ_INIT(&l->listers);
	l->aread = event_new(b, afd, EV_READ | EV_PERSIST, agent_link_read, l);
	l->awrite =
	    event_new(b, afd, EV_WRITE | EV_PERSIST, agent_link_write, l);
	l->timer = evtimer_new(b, agent_link_timeout, l);
	l->ain = evbuffer_new();
	l->aout = evbuffer_new();
	if (l->aread == NULL || l->awrite == NULL || l->timer == NULL ||
	    l->ain == NULL || l->aout == NULL)
		fatalx("%s: out of memory", __func__);
	event_add(l->aread, NULL);
	return l;
}

void
agent_link_do_open(uint64_t id, int afd)
{
	struct agent_link *l = agent_link_new(id, afd, 1);

	l->held = 1;
	TAILQ_INSERT_TAIL(&agent_broker.links, l, entry);
	log_debug("agent link=%llu: open", (unsigned long long)l->id);
}

void
agent_link_do_close(uint64_t id)
{
	struct agent_link *l = agent_link_find(id);

	if (l == NULL || !l->held)
		return;
	l->held = 0;
	log_debug("agent link=%llu: released, %d relays on it",
		  (unsigned long long)l->id, l->refs);
	agent_link_drop(l, AGENT_RELEASED, 0);
	if (l->refs == 0)
		agent_link_free(l);
}

void
agent_link_do_list(uint64_t id, struct inbox *reply_to, uint64_t cookie)
{
	struct agent_link *l = agent_link_find(id);
	struct agent_req *q;

	if (l == NULL)
		agent_post_list(reply_to, cookie, NULL, 0,
				"no such agent link");
	else if (l->cache != NULL)
		agent_post_list(reply_to, cookie, l->cache, l->cache_len, NULL);
	else if (l->dead[0] != '\0')
		agent_post_list(reply_to, cookie, NULL, 0, l->dead);
	else {
		/* Unbounded like agent_list's; all get the one answer. */
		q = agent_req_new(NULL, 0, reply_to, cookie);
		TAILQ_INSERT_TAIL(&l->listers, q, entry);
		agent_link_kick(l);
	}
}

int
agent_links(void)
{
	return atomic_load(&agent_broker.nlinks);
}

void
agent_link_unhold_all(void)
{
	pthread_mutex_lock(&held.lock);
	held.n = 0;
	pthread_mutex_unlock(&held.lock);
}
