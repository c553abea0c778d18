/* SPDX-License-Identifier: ISC */
/*
 * The pool of one "user@host:port": its connections, the queue of jobs
 * waiting for a channel (in arrival order) and the warm-up waiters.  Opens
 * connections lazily, up to MaxSessionsPerHost, only while the queue holds
 * more jobs than the connections being opened will carry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "clock.h"
#include "msg.h"
#include "conn.h"
#include "host.h"
#include "job.h"
#include "worker.h"
#include "xmalloc.h"

static const char *host_health_names[] = {"idle",     "connecting", "up",
					  "degraded", "backoff",    "down"};

/* Something waits for a session: jobs, warm-ups or a lost session's
 * reconnect. */
static int
host_wanted(const struct host *h)
{
	return h->nqueued > 0 || !TAILQ_EMPTY(&h->waiters) || h->reconnect ||
	       h->ntunnels_queued > 0;
}

/*
 * When the next attempt may start.  Work that waits goes after a failed
 * attempt's backoff only; a reconnect that no job asked for also waits for
 * the backoff of the loss.
 */
static long long
host_next_attempt_ms(const struct host *h)
{
	long long at = h->retry_at_ms;

	if (h->nqueued == 0 && TAILQ_EMPTY(&h->waiters) &&
	    h->ntunnels_queued == 0 && h->reconnect_at_ms > at)
		at = h->reconnect_at_ms;
	return at;
}

static enum host_health
host_health(const struct host *h)
{
	if (h->nready > 0)
		return h->backoff_streak > 0 ? HOST_DEGRADED : HOST_UP;
	if (h->nconns > 0)
		return HOST_CONNECTING;
	if (h->fail_streak >= h->params->host_down_after)
		return HOST_DOWN;
	if (host_wanted(h) && host_next_attempt_ms(h) > clock_ms())
		return HOST_BACKOFF;
	return HOST_IDLE;
}

static void
host_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct host *h = arg;

	(void)fd;
	(void)what;
	host_dispatch(h);
}

struct host *
host_get(struct worker *w, const struct host_params *p)
{
	struct host *h;

	if ((h = worker_find_host(w, p->pool)) != NULL) {
		if (!host_params_equal(h->params, p))
			host_set_params(h, p);
		return h;
	}
	if (!worker_pool_take(p->max_pools))
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->w = w;
	h->params = host_params_dup(p);
	h->used_ms = clock_ms();
	TAILQ_INIT(&h->queue);
	TAILQ_INIT(&h->waiters);
	TAILQ_INIT(&h->tunnels);
	TAILQ_INIT(&h->conns);
	h->rtt_ms = -1;
	if ((h->retry = evtimer_new(w->base, host_retry_cb, h)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	worker_add_host(w, h);
	log_debug("host=%s worker=%d: new pool", p->key, w->index);
	return h;
}

/* Down, its next attempt not yet due: 1 and why in buf. */
static int
host_down(const struct host *h, char *buf, size_t len)
{
	long long wait = h->retry_at_ms - clock_ms();

	if (host_health(h) != HOST_DOWN || wait <= 0)
		return 0;
	snprintf(buf, len,
		 "host is down after %d failed attempts "
		 "(last: %s); next attempt in %lld ms",
		 h->fail_streak, h->last_error, wait);
	return 1;
}

/* In backoff after repeated failures: say so now rather than later. */
static int
host_fail_fast(struct host *h, struct job *j)
{
	char why[400];

	if (!host_down(h, why, sizeof(why)))
		return 0;
	job_fail(j, PROTO_E_HOST_DOWN, why);
	return 1;
}

/* Used within IdleTimeout (0: forever), so worth a session. */
static int
host_in_use(const struct host *h)
{
	return h->params->idle_timeout_ms == 0 ||
	       clock_ms() - h->used_ms < h->params->idle_timeout_ms;
}

void
host_touch(struct host *h)
{
	h->used_ms = clock_ms();
}

int
host_expired(const struct host *h)
{
	return h->nconns == 0 && h->nqueued == 0 && TAILQ_EMPTY(&h->waiters) &&
	       h->ntunnels_queued == 0 && !h->reconnect && !host_in_use(h);
}

/* A pool of a client's agent: its sessions are each a key's, and it has
 * no credential of its own to reconnect with. */
static int
host_agent_pool(const struct host *h)
{
	return h->params->cred != NULL && h->params->cred->agent_link != 0;
}

/* c may carry j: any session of the pool, but one a client agent's key
 * opened only for a job whose agent holds that key now. */
static int
host_serves(const struct conn *c, const struct job *j)
{
	const struct job *o;
	uint64_t link = job_agent_link(j), other;

	if (c->agent_keyed && !job_holds_key(j, c->agent_key))
		return 0;
	/* Agent channels go to the session's forwarding job: never two of
	 * different agents on one session. */
	if (link == 0)
		return 1;
	TAILQ_FOREACH(o, &c->jobs, entry)
	{
		other = job_agent_link(o);
		if (other != 0 && other != link)
			return 0;
	}
	return 1;
}

/* A session is up that may carry j. */
static int
host_ready_for(const struct host *h, const struct job *j)
{
	const struct conn *c;

	if (!host_agent_pool(h))
		return h->nready > 0;
	TAILQ_FOREACH(c, &h->conns, entry)
	{
		if (c->state == CONN_READY && !c->draining && host_serves(c, j))
			return 1;
	}
	return 0;
}

void
host_submit(struct host *h, struct job *j)
{
	h->used_ms = clock_ms();
	if (host_fail_fast(h, j))
		return;
	if (job_kind(j) == JOB_CONNECT) {
		if (host_ready_for(h, j)) {
			job_connected(j, h->nready);
			return;
		}
		TAILQ_INSERT_TAIL(&h->waiters, j, entry);
		host_dispatch(h);
		return;
	}
	TAILQ_INSERT_TAIL(&h->queue, j, entry);
	h->nqueued++;
	host_dispatch(h);
}

void
host_tunnel_submit(struct host *h, struct tunnel *t)
{
	char why[400];

	h->used_ms = clock_ms();
	if (host_down(h, why, sizeof(why))) {
		tunnel_fail(t, PROTO_E_HOST_DOWN, why);
		return;
	}
	TAILQ_INSERT_TAIL(&h->tunnels, t, entry);
	h->ntunnels_queued++;
	h->hop = 1;
	host_dispatch(h);
}

void
host_tunnel_requeue(struct host *h, struct tunnel *t)
{
	TAILQ_INSERT_HEAD(&h->tunnels, t, entry);
	h->ntunnels_queued++;
}

/* The ready connection with the fewest tunnels that has room for one. */
static struct conn *
host_pick_tunnel(struct host *h)
{
	struct conn *c, *best = NULL;

	TAILQ_FOREACH(c, &h->conns, entry)
	{
		if (conn_has_tunnel_room(c) &&
		    (best == NULL || c->ntunnels < best->ntunnels))
			best = c;
	}
	return best;
}

/* Every session it may open carries its limit of tunnels: those waiting
 * fail now rather than at their deadline. */
static void
host_tunnels_full(struct host *h)
{
	struct tunnel *t;
	char why[256];

	snprintf(why, sizeof(why),
		 "it carries its limit of %d tunnels (MaxSessionsPerHost %d "
		 "x MaxTunnelsPerSession %d)",
		 h->params->max_sessions * h->params->max_tunnels,
		 h->params->max_sessions, h->params->max_tunnels);
	while ((t = TAILQ_FIRST(&h->tunnels)) != NULL) {
		TAILQ_REMOVE(&h->tunnels, t, entry);
		h->ntunnels_queued--;
		tunnel_fail(t, PROTO_E_LIMIT, why);
	}
}

/* Tunnels to the sessions with room; 1 if more sessions are needed for
 * the rest than those in their handshake will bring. */
static int
host_dispatch_tunnels(struct host *h)
{
	struct tunnel *t;
	struct conn *c;
	int coming = 0;

	/* Those whose askers gave up go (they are at the front, oldest). */
	while ((t = TAILQ_FIRST(&h->tunnels)) != NULL && tunnel_expired(t)) {
		TAILQ_REMOVE(&h->tunnels, t, entry);
		h->ntunnels_queued--;
		tunnel_fail(t, PROTO_E_CONNECT_TIMEOUT,
			    "no session of the jump host in time");
	}
	while ((t = TAILQ_FIRST(&h->tunnels)) != NULL &&
	       (c = host_pick_tunnel(h)) != NULL) {
		TAILQ_REMOVE(&h->tunnels, t, entry);
		h->ntunnels_queued--;
		h->used_ms = clock_ms();
		conn_attach_tunnel(c, t);
	}
	TAILQ_FOREACH(c, &h->conns, entry)
	if (c->state != CONN_READY && c->state != CONN_DEAD && !c->draining)
		coming += h->params->max_tunnels;
	if (h->ntunnels_queued > 0 && coming == 0 &&
	    h->nconns >= h->params->max_sessions)
		host_tunnels_full(h);
	return h->ntunnels_queued > coming;
}

/* A job's connection was lost before its command was sent: it goes first. */
void
host_requeue(struct host *h, struct job *j)
{
	TAILQ_INSERT_HEAD(&h->queue, j, entry);
	h->nqueued++;
}

/* The server refused the job's channel: it goes first, and it did not
 * start. */
void
host_refused(struct host *h, struct job *j)
{
	h->jobs--;
	host_requeue(h, j);
}

/* A queued job or warm-up leaves the host (cancelled, timed out). */
void
host_unqueue(struct host *h, struct job *j)
{
	if (job_kind(j) == JOB_CONNECT)
		TAILQ_REMOVE(&h->waiters, j, entry);
	else {
		TAILQ_REMOVE(&h->queue, j, entry);
		h->nqueued--;
	}
}

/* The last keepalive round trip of any of its sessions. */
void
host_rtt(struct host *h, long long ms)
{
	h->rtt_ms = ms;
}

/* The ready connection with the most free channels that may carry j, or
 * NULL. */
static struct conn *
host_pick(struct host *h, const struct job *j)
{
	struct conn *c, *best = NULL;

	TAILQ_FOREACH(c, &h->conns, entry)
	{
		if (!conn_has_room(c) || c->draining || !host_serves(c, j))
			continue;
		if (best == NULL ||
		    c->cap - c->nchans > best->cap - best->nchans)
			best = c;
	}
	return best;
}

static void
host_retry_arm(struct host *h)
{
	long long ms = host_next_attempt_ms(h) - clock_ms();
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(h->retry, &tv);
}

/* Fail what waits for this host's first session with code. */
static void
host_fail_all(struct host *h, enum proto_code code, const char *why)
{
	struct tunnel *t;
	struct job *j;

	while ((t = TAILQ_FIRST(&h->tunnels)) != NULL) {
		TAILQ_REMOVE(&h->tunnels, t, entry);
		h->ntunnels_queued--;
		tunnel_fail(t, code, why);
	}
	while ((j = TAILQ_FIRST(&h->waiters)) != NULL) {
		TAILQ_REMOVE(&h->waiters, j, entry);
		job_fail(j, code, why);
	}
	while ((j = TAILQ_FIRST(&h->queue)) != NULL) {
		TAILQ_REMOVE(&h->queue, j, entry);
		h->nqueued--;
		job_fail(j, code, why);
	}
}

/*
 * The daemon holds as many sessions as its descriptors allow: the daemon's
 * limit, not the host's failure.  Jobs of a host with a session wait for
 * it; the others fail with limit.
 */
static void
host_session_limit(struct host *h)
{
	char why[256];

	if (h->nconns > 0)
		return;
	snprintf(why, sizeof(why),
		 "the daemon holds its limit of %d sessions (RLIMIT_NOFILE "
		 "less a reserve of descriptors)",
		 worker_session_max());
	h->reconnect = 0;
	host_fail_all(h, PROTO_E_LIMIT, why);
}

/* The credential of the job the next connection opens for: its agent
 * link is one that lives. */
static struct cred *
host_next_cred(struct host *h)
{
	struct job *j;

	if ((j = TAILQ_FIRST(&h->queue)) == NULL)
		j = TAILQ_FIRST(&h->waiters);
	return j != NULL ? j->spec->params->cred : h->params->cred;
}

/*
 * MaxSessionsPerHost sessions, and the first job waits for a session none
 * of them may carry (their keys are not in its agent): an idle one makes
 * room, or the job would wait for good.
 */
static void
host_make_room(struct host *h)
{
	struct job *j = TAILQ_FIRST(&h->queue);
	struct conn *c;

	if (j == NULL || !host_agent_pool(h))
		return;
	TAILQ_FOREACH(c, &h->conns, entry)
	{
		if (c->state != CONN_READY || !conn_unused(c) || c->draining ||
		    host_serves(c, j))
			continue;
		log_verbose("host=%s conn=%llu: closed to make room for a "
			    "session of another agent key",
			    h->params->key, c->id);
		conn_drain(c);
		return;
	}
}

void
host_dispatch(struct host *h)
{
	struct conn *c;
	struct job *j;
	int coming, need, tunnels;

	while ((j = TAILQ_FIRST(&h->queue)) != NULL) {
		if ((c = host_pick(h, j)) == NULL)
			break;
		TAILQ_REMOVE(&h->queue, j, entry);
		h->nqueued--;
		h->jobs++;
		h->used_ms = clock_ms();
		conn_attach(c, j);
	}
	tunnels = host_dispatch_tunnels(h);
	/* Nobody used the host for IdleTimeout: no more reconnects. */
	if (h->reconnect && !host_in_use(h))
		h->reconnect = 0;
	if ((h->nqueued == 0 && TAILQ_EMPTY(&h->waiters) && !h->reconnect &&
	     !tunnels) ||
	    h->w->stopping)
		return;
	if (clock_ms() < host_next_attempt_ms(h)) {
		host_retry_arm(h);
		return;
	}
	/* Channels that connections still in their handshake will bring. */
	coming = 0;
	TAILQ_FOREACH(c, &h->conns, entry)
	if (c->state != CONN_READY && c->state != CONN_DEAD && !c->draining)
		coming += c->cap;
	/* Warm-ups need one connection; queued jobs need channels. */
	need = h->nqueued > coming || tunnels ||
	       (h->nconns == 0 && (!TAILQ_EMPTY(&h->waiters) || h->reconnect));
	if (need && h->nconns >= h->params->max_sessions)
		host_make_room(h);
	while (need && h->nconns < h->params->max_sessions) {
		if (!worker_session_take()) {
			host_session_limit(h);
			break;
		}
		c = conn_new(h, host_next_cred(h));
		TAILQ_INSERT_TAIL(&h->conns, c, entry);
		h->nconns++;
		coming += c->cap;
		tunnels = host_dispatch_tunnels(h);
		need = h->nqueued > coming || tunnels;
	}
}

void
host_conn_ready(struct host *h, struct conn *c)
{
	struct job *j, *next;

	h->nready++;
	h->connects++;
	if (h->reconnect) {
		h->reconnects++;
		h->reconnect = 0;
	}
	h->last_error[0] = '\0';
	h->fail_streak = 0;
	h->backoff_streak = 0;
	h->retry_at_ms = 0;
	h->reconnect_at_ms = 0;
	for (j = TAILQ_FIRST(&h->waiters); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (!host_ready_for(h, j))
			continue; /* another agent key's session */
		TAILQ_REMOVE(&h->waiters, j, entry);
		job_connected(j, h->nready);
	}
	host_dispatch(h);
}

/* The next attempt waits: exponential from ReconnectBaseDelay up to
 * ReconnectMaxDelay, with full jitter so a fleet's retries spread out.
 * Failed attempts and lost sessions both raise the exponent. */
static void
host_backoff(struct host *h, long long *at)
{
	long long delay = h->params->reconnect_base_ms;

	if (h->backoff_streak < 30)
		delay <<= h->backoff_streak;
	if (delay > h->params->reconnect_max_ms)
		delay = h->params->reconnect_max_ms;
	h->backoff_streak++;
	*at = clock_ms() + arc4random_uniform(delay + 1);
}

/* Failures that another attempt cannot cure.  A jump host's failure
 * comes after the hop's own ConnectionAttempts. */
static int
host_retryable(enum proto_code code)
{
	return code != PROTO_E_AUTH_FAILED && code != PROTO_E_HOSTKEY_UNKNOWN &&
	       code != PROTO_E_HOSTKEY_MISMATCH &&
	       code != PROTO_E_PROXY_FAILED && code != PROTO_E_PROXY_REFUSED;
}

/*
 * A client agent's login was refused: that agent's keys, not the host.
 * It counts for neither the breaker nor the backoff.  The jobs of the
 * same request (the same agent) that no session up can carry end with the
 * refusal; other requests' jobs wait for logins with their own agents, and
 * the sessions up serve on.
 */
static void
host_agent_denied(struct host *h, struct conn *dead, const char *why)
{
	struct job *j, *next;

	for (j = TAILQ_FIRST(&h->queue); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->spec->params->cred != dead->cred || host_ready_for(h, j))
			continue;
		TAILQ_REMOVE(&h->queue, j, entry);
		h->nqueued--;
		job_fail(j, PROTO_E_AUTH_FAILED, why);
	}
	for (j = TAILQ_FIRST(&h->waiters); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->spec->params->cred != dead->cred || host_ready_for(h, j))
			continue;
		TAILQ_REMOVE(&h->waiters, j, entry);
		job_fail(j, PROTO_E_AUTH_FAILED, why);
	}
}

/*
 * A connection attempt failed.  Jobs wait for other connections of the host
 * if any is open or opening, or for the next attempt while the host has
 * ConnectionAttempts left; otherwise they all get the error.
 */
void
host_conn_failed(struct host *h, struct conn *c, enum proto_code code,
		 const char *why)
{
	/* Out of descriptors or a bug: the daemon's trouble, which neither
	 * counts against the host nor makes it wait. */
	int own = code == PROTO_E_LIMIT || code == PROTO_E_INTERNAL;

	(void)c;
	if (code == PROTO_E_AUTH_FAILED && host_agent_pool(h)) {
		host_agent_denied(h, c, why);
		return;
	}
	if (own)
		h->reconnect = 0;
	else {
		h->failures++;
		h->fail_streak++;
		snprintf(h->last_error, sizeof(h->last_error), "%s: %s",
			 proto_code_name(code), why);
		host_backoff(h, &h->retry_at_ms);
		if (!host_retryable(code))
			h->reconnect = 0;
	}
	if (h->nconns > 1 || (!own && host_retryable(code) &&
			      h->fail_streak < h->params->connection_attempts))
		return;
	host_fail_all(h, code, why);
}

/*
 * A session died (dead peer, error, disconnect): open another later if the
 * host was used within IdleTimeout.  No attempt failed, so the circuit
 * breaker does not move; the reconnect backs off, and a job that comes
 * meanwhile connects at once.
 */
void
host_conn_lost(struct host *h, struct conn *c, const char *why)
{
	(void)c;
	h->lost++;
	snprintf(h->last_error, sizeof(h->last_error), "%s: %s",
		 proto_code_name(PROTO_E_CONNECTION_LOST), why);
	host_backoff(h, &h->reconnect_at_ms);
	h->reconnect = host_in_use(h) && !host_agent_pool(h);
}

/*
 * The server closed a connection by itself right after its channels, with
 * none open: not a loss but its limit.  Later connections carry at most
 * that many channels and are closed by the daemon after them.
 */
void
host_server_channels(struct host *h, int channels)
{
	if (h->server_channels != 0 && h->server_channels <= channels)
		return;
	log_info("host=%s: the server closes a connection after %d "
		 "channels; each carries no more from now on",
		 h->params->key, channels);
	h->server_channels = channels;
}

/*
 * A client asked to close the host's sessions: idle ones close now, busy
 * ones take no new job and close after their last; connections still in
 * their handshake go on (queued jobs wait for them).  The host stops
 * reconnecting by itself.
 */
void
host_disconnect(struct worker *w, struct host *h, struct job *j)
{
	struct conn *c, *next;
	int closed = 0, draining = 0;

	(void)w;
	if (h != NULL) {
		h->reconnect = 0;
		for (c = TAILQ_FIRST(&h->conns); c != NULL; c = next) {
			next = TAILQ_NEXT(c, entry);
			if (c->state != CONN_READY)
				continue;
			if (!conn_unused(c)) {
				conn_drain(c);
				draining++;
				continue;
			}
			conn_close(c, PROTO_E_NONE,
				   "closed by a client's "
				   "disconnect request");
			conn_free(c);
			closed++;
		}
	}
	job_disconnected(j, closed, draining);
}

/*
 * The host's settings changed (configuration reloaded): connections made
 * with the old ones finish their jobs and close; new ones use the new.
 */
void
host_set_params(struct host *h, const struct host_params *p)
{
	struct conn *c, *next;

	host_params_free(h->params);
	h->params = host_params_dup(p);
	for (c = TAILQ_FIRST(&h->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state != CONN_DEAD)
			conn_drain(c);
	}
}

/* A connection is being freed: forget it, serve the queue elsewhere. */
void
host_conn_gone(struct host *h, struct conn *c)
{
	TAILQ_REMOVE(&h->conns, c, entry);
	h->nconns--;
	if (c->ready)
		h->nready--;
	if (!h->w->stopping)
		host_dispatch(h);
}

void
host_status(struct host *h, struct proto_buf *b)
{
	struct proto_status_host s;
	struct conn *c;
	char *jump;

	proto_status_host_init(&s);
	s.host = h->params->key;
	s.state = host_health_names[host_health(h)];
	s.lost = h->lost;
	s.reconnects = h->reconnects;
	s.rtt_ms = h->rtt_ms;
	s.retry_in_ms = host_wanted(h) && h->nready == 0 &&
				host_next_attempt_ms(h) > clock_ms()
			    ? host_next_attempt_ms(h) - clock_ms()
			    : -1;
	s.worker = h->w->index;
	TAILQ_FOREACH(c, &h->conns, entry)
	{
		if (c->state == CONN_READY) {
			s.sessions++;
			s.channels_busy += c->nchans;
			s.channels_max += c->cap;
		} else
			s.connecting++;
	}
	s.queued = h->nqueued;
	s.jobs = h->jobs;
	s.connects = h->connects;
	s.failures = h->failures;
	s.last_error = h->last_error[0] != '\0' ? h->last_error : NULL;
	s.credential = cred_kind_name(h->params->cred);
	s.credential_uid =
	    h->params->cred != NULL ? (long long)h->params->cred->uid : -1;
	if (strcmp(h->params->hostname, h->params->host) != 0)
		s.hostname = h->params->hostname;
	jump = host_params_jump_text(h->params);
	s.jump = jump;
	/* Shown for a pool that was ever asked for a tunnel. */
	s.tunnels = h->hop ? 0 : -1;
	TAILQ_FOREACH(c, &h->conns, entry)
	if (h->hop)
		s.tunnels += c->ntunnels;
	if (proto_status_host(b, &s) == -1)
		fatalx("%s: out of memory", __func__);
	free(jump);
}

/* Fail what waits, close every connection, free the pool. */
void
host_free(struct host *h, enum proto_code code, const char *why)
{
	struct conn *c;

	host_fail_all(h, code, why);
	while ((c = TAILQ_FIRST(&h->conns)) != NULL) {
		conn_close(c, code, why);
		conn_free(c);
	}
	/* Tunnels that were opening on them came back to the queue. */
	host_fail_all(h, code, why);
	worker_remove_host(h->w, h);
	event_free(h->retry);
	host_params_free(h->params);
	free(h);
}
