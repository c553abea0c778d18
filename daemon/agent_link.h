/* SPDX-License-Identifier: ISC */
/*
 * Inside the agent broker: what agent.c (relays, operations, the thread)
 * and agent_link.c (links: agent connections and their turns) share.  Only
 * those two include it; everything here runs on the broker's thread, but
 * for the registry of held links (agent_link_hold, agent_link_held).
 */
#ifndef SSHPOOL_AGENT_LINK_H
#define SSHPOOL_AGENT_LINK_H

#include <sys/queue.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "agent.h"
#include "agentmsg.h"
#include "inbox.h"

/* Bytes read from a socket at a time. */
#define AGENT_READ_CHUNK 16384

struct event;
struct event_base;
struct evbuffer;

/* One request waiting for, or at, the agent. */
struct agent_req {
	TAILQ_ENTRY(agent_req) entry;
	uint8_t *msg; /* framed */
	size_t len;
	enum agentmsg_class cls;
	struct inbox *reply_to; /* a listing of agent_list or agent_link_list;
				 * NULL: the client's */
	uint64_t cookie;
};
TAILQ_HEAD(agent_reqs, agent_req);

struct agent_relay;
TAILQ_HEAD(agent_relays, agent_relay);

/* One connection to an agent, and the requests of its relays at it. */
struct agent_link {
	TAILQ_ENTRY(agent_link)
	entry;       /* agent_broker.links: shared ones only */
	uint64_t id; /* a private link's is its relay's */
	int shared;  /* agent_link_open's */
	int held;    /* not yet released by its opener */
	int refs;    /* relays on it */
	int afd;     /* -1 once dropped */
	struct event *aread, *awrite, *timer;
	struct evbuffer *ain, *aout;
	struct agent_relays relays; /* on it; the next in turn first */
	struct agent_req *inflight; /* sent to the agent, not answered */
	struct agent_relay *owner;  /* inflight's; NULL: the link's own
				     * listing, or its relay closed */
	int listing;                /* inflight is the link's listing */
	struct agent_reqs listers;  /* agent_link_list's, waiting for it */
	char dead[AGENT_MAX_ERR];   /* "" while the agent is asked */
	uint8_t *cache;             /* a shared link's listing, for life */
	size_t cache_len;
};
TAILQ_HEAD(agent_links, agent_link);

/* One client of a link. */
struct agent_relay {
	TAILQ_ENTRY(agent_relay) entry;  /* agent_broker.relays */
	TAILQ_ENTRY(agent_relay) lentry; /* its link's relays */
	uint64_t id;
	enum agent_relay_mode mode;
	struct agent_link *link;
	int cfd; /* the broker's end of the socketpair */
	struct event *cread, *cwrite;
	struct evbuffer *cin, *cout;
	int reading; /* cread is added */
	int closing; /* flagged: agent_reap frees it */
	int waiting; /* its request is its link's inflight */
	struct agent_reqs queue;
	int nqueued;
	uint8_t *pin; /* the one key it offers and signs with, or NULL */
	size_t pin_len;
	uint8_t *pin_answer; /* IDENTITIES_ANSWER of the pin alone */
	size_t pin_answer_len;
	uint8_t *cache; /* the last listing of agent_list */
	size_t cache_len;
	long long cache_ms;
};

/* The broker's state: agent.c's, and agent_link.c's links. */
struct agent_broker {
	struct event_base *base;
	struct inbox inbox;
	struct event *reap;
	pthread_t thread;
	struct agent_relays relays;
	struct agent_links links;
	struct agent_limits lim;
	atomic_int running;
	atomic_int nslots; /* relays and shared links, up to max_relays */
	atomic_int nrelays;
	atomic_int nlinks;
	atomic_uint_least64_t next_id;
};
extern struct agent_broker agent_broker;

/* agent.c, for links. */
void agent_next(struct agent_relay *);
void agent_flush_client(struct agent_relay *);
void agent_fail(struct agent_relay *, struct agent_req *, const char *why);
void agent_relay_answered(struct agent_relay *, struct agent_req *,
			  const uint8_t *msg, size_t len);
void agent_post_list(struct inbox *, uint64_t cookie, const uint8_t *msg,
		     size_t len, const char *err);
struct agent_req *agent_req_new(const uint8_t *msg, size_t len,
				struct inbox *reply_to, uint64_t cookie);
void agent_req_free(struct agent_req *);
int agent_take_msg(struct evbuffer *, uint8_t **msg, size_t *len);
uint8_t *agent_dup(const uint8_t *, size_t);

/* agent_link.c. */
struct agent_link *agent_link_new(uint64_t id, int afd, int shared);
void agent_link_free(struct agent_link *);
struct agent_link *agent_link_find(uint64_t id);
const char *agent_link_kind(const struct agent_link *);
void agent_link_kick(struct agent_link *);
int agent_link_check_listing(const struct agent_link *, const uint8_t *msg,
			     size_t len, char *why, size_t whylen);
void agent_link_do_open(uint64_t id, int afd);
void agent_link_do_close(uint64_t id);
void agent_link_do_list(uint64_t id, struct inbox *reply_to, uint64_t cookie);
/* The registry of held links, for any thread. */
void agent_link_hold(uint64_t id);
int agent_link_held(uint64_t id, int release);
void agent_link_unhold_all(void);

#endif
