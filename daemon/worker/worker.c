/* SPDX-License-Identifier: ISC */
/*
 * Worker threads.  Each worker owns one event_base and the hosts whose pool
 * key hashes to it, with every libssh session, channel and key copy of those
 * hosts; nothing else ever touches them.  The control thread talks to a
 * worker only through its inbox.
 */
#include <sys/resource.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "agent.h"
#include "clock.h"
#include "keys.h"
#include "log.h"
#include "msg.h"
#include "offload.h"
#include "conn.h"
#include "host.h"
#include "job.h"
#include "tunnel.h"
#include "worker.h"
#include "workers.h"
#include "xmalloc.h"

static struct worker *workers;
static int nworkers;
static struct shards worker_shards; /* handed to the control thread */
static atomic_int worker_pools;     /* pools of every worker (MaxPools) */
static atomic_int worker_sessions;  /* sessions of every worker */
static int worker_sessions_cap;     /* from RLIMIT_NOFILE, at start */

static void worker_sessions_init(void);

/* libssh's log goes through ours; its level and callback are per thread. */
static void
worker_ssh_log(int prio, const char *function, const char *buffer,
	       void *userdata)
{
	(void)prio;
	(void)userdata;
	log_debug("libssh: %s: %s", function, buffer);
}

/* Run fn(arg) on an offload thread of q, then done(arg) here; -1 when the
 * queue is full or the worker is stopping (nothing runs). */
int
worker_offload(struct worker *w, enum offload_queue q, void (*fn)(void *),
	       void (*done)(void *), void (*discard)(void *), void *arg,
	       const atomic_int *cancel)
{
	if (w->stopping ||
	    offload_submit(q, &w->inbox, fn, done, discard, arg, cancel) == -1)
		return -1;
	w->offloads++;
	return 0;
}

/* Queue a message for the control thread; order is kept. */
static void
worker_send(struct worker *w, struct msg *m)
{
	if (TAILQ_EMPTY(&w->outbox))
		event_active(w->flush, EV_TIMEOUT, 0);
	TAILQ_INSERT_TAIL(&w->outbox, m, entry);
}

static void
worker_flush(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	inbox_post_list(w->reply, &w->outbox);
}

void
worker_emit(struct worker *w, struct job_spec *spec, struct proto_buf *b,
	    int terminal, enum job_result result)
{
	struct msg *m = msg_new(MSG_EVENT);

	m->worker = w->index;
	m->req = spec->req;
	m->terminal = terminal;
	m->result = result;
	m->flow = flow_ref(spec->flow);
	/* The buffer's memory moves into the message. */
	m->buf = *b;
	proto_buf_init(b);
	atomic_fetch_add(&m->flow->queued, m->buf.len);
	worker_send(w, m);
}

static void
worker_cancel(struct worker *w, struct request *req)
{
	struct job *j, *next;
	char id[PROTO_MAX_ID + 3] = "";
	int n = 0;

	for (j = TAILQ_FIRST(&w->jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, wentry);
		if (j->spec->req != req || j->ended)
			continue;
		memcpy(id, j->spec->id, sizeof(id));
		job_stop(j, PROTO_E_CANCELLED, "cancelled by the client");
		n++;
	}
	/* Only the shards that run jobs of the request are asked. */
	log_verbose("worker %d: cancel of id=%s stopped %d jobs", w->index,
		    n > 0 ? id : "?", n);
}

static void
worker_stop_jobs(struct worker *w)
{
	struct job *j, *next;

	for (j = TAILQ_FIRST(&w->jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, wentry);
		if (!j->ended)
			job_stop(j, PROTO_E_SHUTDOWN,
				 "the daemon is shutting down");
	}
}

static void
worker_resume(struct worker *w)
{
	struct host *h;
	struct conn *c, *cnext;
	size_t i;

	for (i = 0; i < w->nbuckets; i++) {
		TAILQ_FOREACH(h, &w->buckets[i], entry)
		{
			for (c = TAILQ_FIRST(&h->conns); c != NULL; c = cnext) {
				cnext = TAILQ_NEXT(c, entry);
				if (c->state == CONN_READY && c->nchans > 0)
					conn_resume(c);
			}
		}
	}
}

static void
worker_status(struct worker *w, struct request *req)
{
	struct proto_status_worker sw;
	struct msg *m = msg_new(MSG_STATUS_REPLY);
	struct host *h;
	size_t i;

	m->worker = w->index;
	m->req = req;
	for (i = 0; i < w->nbuckets; i++) {
		TAILQ_FOREACH(h, &w->buckets[i], entry)
		{
			if (m->buf.len > 0 &&
			    proto_buf_append(&m->buf, ",", 1) == -1)
				fatalx("%s: out of memory", __func__);
			host_status(h, &m->buf);
		}
	}
	memset(&sw, 0, sizeof(sw));
	sw.index = w->index;
	sw.hosts = w->nhosts;
	sw.sessions = w->nsessions;
	sw.jobs = w->njobs;
	sw.heartbeat_age_ms = clock_ms() - atomic_load(&w->shard->heartbeat);
	sw.stuck = sw.heartbeat_age_ms > WORKER_STUCK_MS;
	if (proto_status_worker(&m->buf2, &sw) == -1)
		fatalx("%s: out of memory", __func__);
	worker_send(w, m);
}

void
worker_maybe_exit(struct worker *w)
{
	if (w->stopping && w->nsessions == 0 && w->offloads == 0 &&
	    w->agent_lists == 0)
		event_base_loopexit(w->base, NULL);
}

void
worker_agent_wait(struct worker *w, struct conn *c)
{
	if (c->agent_waiting)
		return;
	c->agent_waiting = 1;
	TAILQ_INSERT_TAIL(&w->agent_waits, c, agent_entry);
	w->agent_lists++;
}

void
worker_agent_unwait(struct worker *w, struct conn *c)
{
	if (!c->agent_waiting)
		return;
	c->agent_waiting = 0;
	TAILQ_REMOVE(&w->agent_waits, c, agent_entry);
}

void
worker_agent_unwait_job(struct worker *w, struct job *j)
{
	TAILQ_REMOVE(&w->agent_jobs, j, entry);
}

static void worker_job_place(struct worker *, struct job *);

/* A job's listing: the keys its agent holds decide which sessions it may
 * use; then it goes to its host as any job. */
static void
worker_agent_job_listed(struct worker *w, const struct msg *m)
{
	struct job *j;

	TAILQ_FOREACH(j, &w->agent_jobs, entry)
	{
		if (j->agent_cookie == m->cookie)
			break;
	}
	if (j == NULL)
		return;
	TAILQ_REMOVE(&w->agent_jobs, j, entry);
	if (job_agent_listed(j, m) == 0)
		worker_job_place(w, j);
}

/* Park a job of a client's agent until the agent's keys are listed. */
static void
worker_agent_job(struct worker *w, struct job *j)
{
	uint64_t link = j->spec->params->cred->agent_link;

	j->agent_cookie = ++w->next_agent_cookie | WORKER_JOB_COOKIE;
	if (agent_link_list(link, &w->inbox, j->agent_cookie) == -1) {
		job_fail(j, PROTO_E_INTERNAL,
			 "the agent broker is not running");
		return;
	}
	w->agent_lists++;
	job_listing(j);
	TAILQ_INSERT_TAIL(&w->agent_jobs, j, entry);
}

/* An agent listing: to the connection or job that awaits it, if still
 * there. */
static void
worker_agent_listed(struct worker *w, const struct msg *m)
{
	struct conn *c;

	w->agent_lists--;
	if (m->cookie & WORKER_JOB_COOKIE) {
		worker_agent_job_listed(w, m);
		worker_maybe_exit(w);
		return;
	}
	TAILQ_FOREACH(c, &w->agent_waits, agent_entry)
	{
		if (c->id == m->cookie)
			break;
	}
	if (c != NULL) {
		worker_agent_unwait(w, c);
		conn_agent_listed(c, m);
	}
	worker_maybe_exit(w);
}

/* Close every session, fail what waits, free every host. */
static void
worker_shutdown(struct worker *w)
{
	struct host *h;
	struct job *j;
	size_t i;

	w->stopping = 1;
	while ((j = TAILQ_FIRST(&w->agent_jobs)) != NULL)
		job_stop(j, PROTO_E_SHUTDOWN, "the daemon is shutting down");
	for (i = 0; i < w->nbuckets; i++)
		while ((h = TAILQ_FIRST(&w->buckets[i])) != NULL)
			host_free(h, PROTO_E_SHUTDOWN,
				  "the daemon is shutting down");
	/* Lookups that may never return are not waited for. */
	w->offloads -= offload_abandon(&w->inbox);
	worker_maybe_exit(w);
}

void
worker_post_tunnel(struct worker *w, struct tunnel_req *req)
{
	struct msg *m = msg_new(MSG_TUNNEL);

	(void)w;
	m->tunnel = req;
	shards_post(&worker_shards,
		    shards_index(&worker_shards, req->hop->pool), m);
}

void
worker_tunnel_answer(struct worker *w, const struct tunnel_req *req, int fd,
		     enum proto_code code, const char *why)
{
	struct msg *m = msg_new(MSG_TUNNEL_DONE);

	(void)w;
	m->cookie = req->cookie;
	m->fd = fd;
	m->code = code;
	if (why != NULL &&
	    proto_buf_append(&m->buf2, why, strlen(why) + 1) != 0)
		fatalx("%s: out of memory", __func__);
	shards_post(&worker_shards, req->reply_worker, m);
}

/* A tunnel asked of a pool of ours: to its hop's host. */
static void
worker_tunnel(struct worker *w, struct tunnel_req *req)
{
	struct host *h;

	if (w->stopping) {
		worker_tunnel_answer(w, req, -1, PROTO_E_SHUTDOWN,
				     "the daemon is shutting down");
		tunnel_req_free(req);
		return;
	}
	/* An existing pool keeps its settings: the asker's copy may be older
	 * than the configuration the pool runs on (jobs, not tunnels, bring
	 * a reload's settings). */
	if ((h = worker_find_host(w, req->hop->pool)) == NULL &&
	    (h = host_get(w, req->hop)) == NULL) {
		worker_tunnel_answer(w, req, -1, PROTO_E_LIMIT,
				     "the daemon keeps its limit of pools "
				     "(MaxPools): no pool for the jump host");
		tunnel_req_free(req);
		return;
	}
	host_tunnel_submit(h, tunnel_new(w, h, req));
}

/* A tunnel's answer: to the connection that awaits it, if still there
 * (else the message closes the socket with it). */
static void
worker_tunnel_done(struct worker *w, struct msg *m)
{
	struct conn *c;

	TAILQ_FOREACH(c, &w->tunnel_waits, tunnel_entry)
	{
		if (c->id == m->cookie)
			break;
	}
	if (c != NULL)
		conn_tunnel_done(c, m);
}

/* A job to its host, or failed when the daemon holds MaxPools. */
static void
worker_job_place(struct worker *w, struct job *j)
{
	const struct host_params *p = j->spec->params;
	char why[256];
	struct host *h;

	if ((h = host_get(w, p)) == NULL) {
		snprintf(why, sizeof(why),
			 "the daemon keeps %d pools, its limit (MaxPools); "
			 "a new user@host:port waits until an idle one expires "
			 "(IdleTimeout)",
			 p->max_pools);
		job_fail(j, PROTO_E_LIMIT, why);
		return;
	}
	job_place(j, h);
	host_submit(h, j);
}

/* A job from the control thread: to its host, or refused while stopping. */
static void
worker_job(struct worker *w, struct job_spec *spec)
{
	struct host *h;
	struct job *j;

	if (w->stopping) {
		j = job_new(w, spec, NULL);
		job_fail(j, PROTO_E_SHUTDOWN, "the daemon is shutting down");
	} else if (spec->kind == JOB_DISCONNECT) {
		h = worker_find_host(w, spec->params->pool);
		host_disconnect(w, h, job_new(w, spec, h));
	} else if (spec->params->cred != NULL &&
		   spec->params->cred->agent_link != 0)
		worker_agent_job(w, job_new(w, spec, NULL));
	else
		worker_job_place(w, job_new(w, spec, NULL));
}

static void
worker_inbox(struct msg_list *list, void *arg)
{
	struct worker *w = arg;
	struct msg *m;

	while ((m = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, m, entry);
		switch (m->type) {
		case MSG_JOB:
			worker_job(w, m->job);
			m->job = NULL;
			break;
		case MSG_CANCEL:
			worker_cancel(w, m->req);
			break;
		case MSG_RESUME:
			worker_resume(w);
			break;
		case MSG_STATUS:
			worker_status(w, m->req);
			break;
		case MSG_SHUTDOWN:
			worker_shutdown(w);
			break;
		case MSG_OFFLOAD_DONE:
			w->offloads--;
			m->done(m->arg);
			worker_maybe_exit(w);
			break;
		case MSG_RELOAD:
			/* Conns authenticating keep the old copy alive. */
			keystore_unref(w->keys);
			w->keys = m->keys;
			m->keys = NULL;
			break;
		case MSG_AGENT_LIST:
			worker_agent_listed(w, m);
			break;
		case MSG_TUNNEL:
			worker_tunnel(w, m->tunnel);
			m->tunnel = NULL;
			break;
		case MSG_TUNNEL_DONE:
			worker_tunnel_done(w, m);
			break;
		case MSG_STOP_JOBS:
			worker_stop_jobs(w);
			break;
		case MSG_STALL:
			log_warnx("worker %d: stalling for %lld ms (test hook)",
				  w->index, m->ms);
			usleep((useconds_t)m->ms * 1000);
			break;
		default:
			log_warnx("worker %d: unexpected message %d", w->index,
				  m->type);
			break;
		}
		msg_free(m);
	}
}

static void
worker_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct host *h, *next;
	size_t i;
	int up = 0;

	(void)fd;
	(void)what;
	atomic_store(&w->shard->heartbeat, clock_ms());
	for (i = 0; i < w->nbuckets; i++) {
		for (h = TAILQ_FIRST(&w->buckets[i]); h != NULL; h = next) {
			next = TAILQ_NEXT(h, entry);
			if (!w->stopping && host_expired(h))
				host_free(h, PROTO_E_NONE, "idle");
			else
				up += h->nready > 0;
		}
	}
	atomic_store(&w->shard->hosts_up, up);
	atomic_store(&w->shard->jobs, w->njobs);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	ssh_set_log_callback(worker_ssh_log);
	ssh_set_log_level(log_getlevel() >= LOG_LEVEL_DEBUG ? SSH_LOG_PROTOCOL
							    : SSH_LOG_WARNING);
	atomic_store(&w->shard->heartbeat, clock_ms());
	log_debug("worker %d started", w->index);
	event_base_dispatch(w->base);
	inbox_post_list(w->reply, &w->outbox);
	log_debug("worker %d stopped", w->index);
	return NULL;
}

const struct shards *
workers_start(int n, const struct keystore *keys, struct inbox *reply)
{
	struct timeval tv = {WORKER_HEARTBEAT_MS / 1000,
			     (WORKER_HEARTBEAT_MS % 1000) * 1000};
	sigset_t all, old;
	struct worker *w;
	size_t i;
	int k;

	if (n < 1 || n > CONFIG_MAX_WORKERS)
		return NULL;
	if (ssh_init() != SSH_OK)
		fatalx("ssh_init failed");
	worker_sessions_init();
	workers = xcalloc(n, sizeof(*workers));
	nworkers = n;
	worker_shards.v = xcalloc(n, sizeof(*worker_shards.v));
	worker_shards.n = n;
	for (k = 0; k < n; k++) {
		w = &workers[k];
		w->index = k;
		w->shard = &worker_shards.v[k];
		w->shard->inbox = &w->inbox;
		w->reply = reply;
		if ((w->base = event_base_new()) == NULL)
			fatalx("%s: event_base_new failed", __func__);
		inbox_init(&w->inbox, w->base, worker_inbox, w);
		w->keys = keystore_dup(keys);
		w->nbuckets = 64;
		w->buckets = xcalloc(w->nbuckets, sizeof(*w->buckets));
		for (i = 0; i < w->nbuckets; i++)
			TAILQ_INIT(&w->buckets[i]);
		TAILQ_INIT(&w->jobs);
		TAILQ_INIT(&w->agent_waits);
		TAILQ_INIT(&w->agent_jobs);
		TAILQ_INIT(&w->tunnel_waits);
		TAILQ_INIT(&w->outbox);
		w->flush = event_new(w->base, -1, 0, worker_flush, w);
		if (w->flush == NULL)
			fatalx("%s: event_new failed", __func__);
		atomic_init(&w->shard->heartbeat, clock_ms());
		w->tick = event_new(w->base, -1, EV_PERSIST, worker_tick, w);
		event_add(w->tick, &tv);
	}
	/* Signals belong to the control thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (k = 0; k < n; k++) {
		if (pthread_create(&workers[k].thread, NULL, worker_main,
				   &workers[k]) != 0)
			fatalx("%s: pthread_create failed", __func__);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return &worker_shards;
}

void
workers_stop(void)
{
	int k;

	for (k = 0; k < nworkers; k++)
		inbox_post(&workers[k].inbox, msg_new(MSG_SHUTDOWN));
	for (k = 0; k < nworkers; k++)
		pthread_join(workers[k].thread, NULL);
	for (k = 0; k < nworkers; k++) {
		inbox_destroy(&workers[k].inbox);
		event_free(workers[k].tick);
		event_free(workers[k].flush);
		event_base_free(workers[k].base);
		keystore_unref(workers[k].keys);
		free(workers[k].buckets);
	}
	free(workers);
	workers = NULL;
	nworkers = 0;
	free(worker_shards.v);
	worker_shards.v = NULL;
	worker_shards.n = 0;
	ssh_finalize();
}

/*
 * Arm a timer.  Durations used by many events at once (common) go to one of
 * libevent's common-timeout queues, which keep identical timeouts in a list
 * instead of the heap.
 */
void
worker_timer_add(struct worker *w, struct event *ev, long long ms, int common)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	const struct timeval *ctv = NULL;
	int i;

	if (ms < 0)
		tv.tv_sec = tv.tv_usec = 0;
	if (common && ms > 0) {
		for (i = 0; i < w->ncommon; i++)
			if (w->common[i].ms == ms)
				ctv = w->common[i].tv;
		if (ctv == NULL && w->ncommon < WORKER_COMMON_TIMEOUTS) {
			ctv = event_base_init_common_timeout(w->base, &tv);
			if (ctv != NULL) {
				w->common[w->ncommon].ms = ms;
				w->common[w->ncommon++].tv = ctv;
			}
		}
	}
	evtimer_add(ev, ctv != NULL ? ctv : &tv);
}

/* ---- the host table ---- */

/* Bucket of a pool key.  The high bits: the low ones chose the shard. */
static size_t
worker_hash(const char *key)
{
	return (size_t)(shards_hash(key) >> 32);
}

static void
worker_grow(struct worker *w)
{
	struct host_list *nb;
	struct host *h;
	size_t i, n = w->nbuckets * 2;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < n; i++)
		TAILQ_INIT(&nb[i]);
	for (i = 0; i < w->nbuckets; i++) {
		while ((h = TAILQ_FIRST(&w->buckets[i])) != NULL) {
			TAILQ_REMOVE(&w->buckets[i], h, entry);
			TAILQ_INSERT_TAIL(&nb[worker_hash(h->params->pool) % n],
					  h, entry);
		}
	}
	free(w->buckets);
	w->buckets = nb;
	w->nbuckets = n;
}

struct host *
worker_find_host(struct worker *w, const char *key)
{
	struct host *h;

	TAILQ_FOREACH(h, &w->buckets[worker_hash(key) % w->nbuckets], entry)
	if (strcmp(h->params->pool, key) == 0)
		return h;
	return NULL;
}

void
worker_add_host(struct worker *w, struct host *h)
{
	if ((size_t)w->nhosts >= w->nbuckets * WORKER_HOST_LOAD)
		worker_grow(w);
	TAILQ_INSERT_TAIL(
	    &w->buckets[worker_hash(h->params->pool) % w->nbuckets], h, entry);
	w->nhosts++;
}

void
worker_remove_host(struct worker *w, struct host *h)
{
	TAILQ_REMOVE(&w->buckets[worker_hash(h->params->pool) % w->nbuckets], h,
		     entry);
	w->nhosts--;
	atomic_fetch_sub(&worker_pools, 1);
}

/* Every session holds a socket: the cap leaves a reserve of descriptors
 * so that running out is the daemon's own limit, never a host's error. */
static void
worker_sessions_init(void)
{
	struct rlimit rl;
	long long n = 1024, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		n = (long long)rl.rlim_cur;
	else if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = INT_MAX;
	reserve = n / 2 < WORKER_FD_RESERVE ? n / 2 : WORKER_FD_RESERVE;
	n -= reserve;
	worker_sessions_cap = n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
	log_verbose("workers: at most %d sessions (RLIMIT_NOFILE less %lld "
		    "descriptors)",
		    worker_sessions_cap, reserve);
}

int
worker_session_take(void)
{
	int n = atomic_load(&worker_sessions);

	do {
		if (n >= worker_sessions_cap)
			return 0;
	} while (!atomic_compare_exchange_weak(&worker_sessions, &n, n + 1));
	return 1;
}

void
worker_session_put(void)
{
	atomic_fetch_sub(&worker_sessions, 1);
}

int
worker_session_max(void)
{
	return worker_sessions_cap;
}

int
worker_pool_take(int max)
{
	int n = atomic_load(&worker_pools);

	do {
		if (n >= max)
			return 0;
	} while (!atomic_compare_exchange_weak(&worker_pools, &n, n + 1));
	return 1;
}
