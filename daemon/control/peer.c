/* SPDX-License-Identifier: ISC */
/*
 * One client connection: its bufferevent, the framing of request lines, and
 * the accounting of its output against struct flow.  Input is cut at '\n',
 * a line longer than MaxLineLength is answered with one error and skipped,
 * and each callback handles a bounded amount of input so one busy client
 * cannot starve the others.  A client whose output is over the high water
 * mark is not read until it drains: it gets no new work while it does not
 * read its replies; one whose output stays over the hard limit for the
 * configured time is disconnected.  Closed peers are freed from the loop,
 * never from the middle of a callback that may still use them.  A client's
 * limits and flow thresholds are fixed when it connects, so a reload applies
 * to new connections only.
 *
 * A client that half-closes its socket has sent its last request: the lines
 * it sent are served, its running requests finish and their output is
 * written, then the connection is closed.  One that closed both ways is
 * gone, and its jobs are cancelled at once.
 *
 * Admission happens at accept: the client's credentials (SO_PEERCRED),
 * name and groups are checked against DenyUsers, AllowUsers, DenyGroups and
 * AllowGroups and the connection count
 * of its uid against MaxConnectionsPerUser; a refused client gets one error
 * line and is closed at once.  Its name and groups are looked up once, here;
 * the access policy's view of it is made once per policy.
 */
#include <sys/socket.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control.h"
#include "log.h"
#include "policy.h"
#include "xmalloc.h"

/* getpwuid_r buffer: first size, and the most it grows to. */
#define PEER_NSS_BUF 4096
#define PEER_NSS_BUF_MAX (1024 * 1024)
/* First guess of a user's group count for getgrouplist. */
#define PEER_GROUPS_GUESS 32

TAILQ_HEAD(peer_list, peer);
static struct peer_list peers = TAILQ_HEAD_INITIALIZER(peers);
static struct peer_list peers_dead = TAILQ_HEAD_INITIALIZER(peers_dead);
static struct event *peer_reap_ev;

/* Open connections per uid, for MaxConnectionsPerUser.  Few distinct users
 * connect to one daemon, so a short array does. */
struct peer_uid_count {
	uid_t uid;
	size_t n;
};
static struct peer_uid_count *peer_uids;
static size_t peer_nuids;

static void peer_process(struct peer *);
static void peer_check_finished(struct peer *);
static void peer_last_line(struct peer *, struct evbuffer *);
static void peer_identity_free(struct peer *);

static struct peer_uid_count *
peer_uid_find(uid_t uid, int create)
{
	size_t i;

	for (i = 0; i < peer_nuids; i++) {
		if (peer_uids[i].uid == uid)
			return &peer_uids[i];
	}
	if (!create)
		return NULL;
	peer_uids =
	    xreallocarray(peer_uids, peer_nuids + 1, sizeof(*peer_uids));
	peer_uids[peer_nuids].uid = uid;
	peer_uids[peer_nuids].n = 0;
	return &peer_uids[peer_nuids++];
}

static size_t
peer_uid_connections(uid_t uid)
{
	struct peer_uid_count *c = peer_uid_find(uid, 0);

	return c != NULL ? c->n : 0;
}

static void
peer_uid_release(uid_t uid)
{
	struct peer_uid_count *c = peer_uid_find(uid, 0);

	if (c == NULL || c->n == 0)
		return;
	if (--c->n == 0) {
		*c = peer_uids[--peer_nuids];
		if (peer_nuids == 0) {
			free(peer_uids);
			peer_uids = NULL;
		}
	}
}

static void
peer_unwatch(struct peer *peer)
{
	struct evbuffer *out = bufferevent_get_output(peer->bev);

	if (peer->drain_cb != NULL)
		evbuffer_remove_cb_entry(out, peer->drain_cb);
	peer->drain_cb = NULL;
}

static void
peer_free(struct peer *peer)
{
	/* Freeing the buffer must not count as the client reading it. */
	peer_unwatch(peer);
	bufferevent_free(peer->bev);
	event_free(peer->yield_ev);
	event_free(peer->hard_ev);
	flow_unref(peer->flow);
	free(peer->shard_jobs);
	peer_identity_free(peer);
	policy_view_free(peer->policy);
	free(peer);
}

static void
peer_reap(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer;

	while ((peer = TAILQ_FIRST(&peers_dead)) != NULL) {
		TAILQ_REMOVE(&peers_dead, peer, entry);
		peer_free(peer);
	}
}

/* The client is gone: stop its jobs, keep its requests until they end. */
static void
peer_close(struct peer *peer, const char *why)
{
	if (peer->dead)
		return;
	peer->dead = 1;
	atomic_store(&peer->flow->closed, 1);
	request_detach_all(peer);
	bufferevent_disable(peer->bev, EV_READ | EV_WRITE);
	event_del(peer->yield_ev);
	event_del(peer->hard_ev);
	peer_uid_release(peer->uid);
	TAILQ_REMOVE(&peers, peer, entry);
	TAILQ_INSERT_TAIL(&peers_dead, peer, entry);
	event_active(peer_reap_ev, EV_TIMEOUT, 1);
	log_verbose("client fd=%d uid=%u pid=%ld closed: %s", peer->fd,
		    (unsigned)peer->uid, (long)peer->pid, why);
}

/* Over the hard limit, or paused (over high water and not yet drained
 * below low water): either one counts toward ClientQueueHardTime. */
static int
peer_over_hard(const struct peer *peer, size_t queued)
{
	return queued > control_queue_hard() || peer->paused;
}

/*
 * A client over the hard limit or holding its jobs paused arms a timer; one
 * back under the hard limit and below low water disarms it: only a client
 * that stays over the hard limit or paused for ClientQueueHardTime is
 * dropped.
 */
static void
peer_check_hard(struct peer *peer, size_t queued)
{
	struct timeval tv;
	int ms;

	if (peer->dead)
		return;
	if (!peer_over_hard(peer, queued)) {
		if (evtimer_pending(peer->hard_ev, NULL))
			evtimer_del(peer->hard_ev);
		return;
	}
	if (evtimer_pending(peer->hard_ev, NULL))
		return;
	ms = control_queue_hard_ms();
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(peer->hard_ev, &tv);
	log_verbose("client fd=%d uid=%u pid=%ld: %zu output bytes queued, "
		    "%s",
		    peer->fd, (unsigned)peer->uid, (long)peer->pid, queued,
		    queued > control_queue_hard() ? "over ClientQueueHardLimit"
						  : "jobs paused");
}

static void
peer_hard_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;
	size_t queued = atomic_load(&peer->flow->queued);
	char why[200];

	(void)fd;
	(void)what;
	if (peer->dead || !peer_over_hard(peer, queued))
		return;
	if (queued > control_queue_hard())
		snprintf(why, sizeof(why),
			 "%zu output bytes queued, over ClientQueueHardLimit "
			 "%zu for %d ms",
			 queued, control_queue_hard(), control_queue_hard_ms());
	else
		snprintf(why, sizeof(why),
			 "%zu output bytes queued, jobs paused over "
			 "ClientQueueHighWater %zu for %d ms",
			 queued, peer->flow->high, control_queue_hard_ms());
	log_info("client fd=%d uid=%u pid=%ld disconnected: %s", peer->fd,
		 (unsigned)peer->uid, (long)peer->pid, why);
	peer_close(peer, why);
}

/* Note a flow over high water so its draining below low water resumes it. */
static void
peer_check_high(struct peer *peer)
{
	size_t queued = atomic_load(&peer->flow->queued);

	if (queued >= peer->flow->high)
		peer->paused = 1;
	peer_check_hard(peer, queued);
}

static void
peer_resume_input(struct peer *peer)
{
	peer->stalled = 0;
	/* After the end of file there is nothing more to read. */
	if (!peer->eof)
		bufferevent_enable(peer->bev, EV_READ);
	/* Lines already buffered get no new read callback. */
	event_active(peer->yield_ev, EV_TIMEOUT, 1);
}

/* Output fell below the low water: the shards that run this client's jobs
 * may read their channels again. */
static void
peer_resume_shards(struct peer *peer)
{
	const struct shards *shards = control_shards();
	int k;

	for (k = 0; k < shards->n; k++)
		if (peer->shard_jobs[k] > 0)
			shards_post(shards, k, msg_new(MSG_RESUME));
}

/* Bytes left the output buffer (written to the socket). */
static void
peer_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info,
	     void *arg)
{
	struct peer *peer = arg;
	size_t before, after;

	if (info->n_deleted == 0)
		return;
	before = atomic_fetch_sub(&peer->flow->queued, info->n_deleted);
	after = before - info->n_deleted;
	/* Workers may have seen the high level before its message got here. */
	if (before >= peer->flow->high)
		peer->paused = 1;
	if (after >= peer->flow->low) {
		peer_check_hard(peer, after);
		return;
	}
	if (peer->paused) {
		peer->paused = 0;
		peer_resume_shards(peer);
	}
	peer_check_hard(peer, after);
	if (peer->stalled && !peer->dead)
		peer_resume_input(peer);
	else if (peer->eof)
		peer_check_finished(peer);
}

void
peer_write(struct peer *peer, const void *data, size_t len)
{
	if (peer->dead || len == 0)
		return;
	atomic_fetch_add(&peer->flow->queued, len);
	if (bufferevent_write(peer->bev, data, len) == -1)
		fatalx("client fd=%d: cannot queue %zu bytes", peer->fd, len);
	peer_check_high(peer);
}

/* Write an encoded reply and release its buffer. */
void
peer_write_buf(struct peer *peer, struct proto_buf *b)
{
	peer_write(peer, b->data, b->len);
	proto_buf_free(b);
}

static void
peer_msg_cleanup(const void *data, size_t len, void *arg)
{
	msg_free(arg);
}

/* Queue a worker's event lines without copying; the worker counted them. */
void
peer_write_event(struct peer *peer, struct msg *m)
{
	struct evbuffer *out = bufferevent_get_output(peer->bev);
	size_t len = m->buf.len;

	if (len == 0) {
		msg_free(m);
		return;
	}
	if (evbuffer_add_reference(out, m->buf.data, len, peer_msg_cleanup,
				   m) == -1)
		fatalx("client fd=%d: cannot queue %zu bytes", peer->fd, len);
	peer_check_high(peer);
}

void
peer_error(struct peer *peer, const char *id, enum proto_code code,
	   const char *fmt, ...)
{
	char message[PROTO_MAX_MESSAGE];
	struct proto_buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	proto_buf_init(&b);
	if (proto_ev_error(&b, id, NULL, code, message, -1) == -1)
		fatalx("client fd=%d: cannot encode an error", peer->fd);
	peer_write_buf(peer, &b);
}

/* Offset of the next '\n' in the input, or -1; never rescans old bytes. */
static ssize_t
peer_find_eol(struct peer *peer, struct evbuffer *in)
{
	struct evbuffer_ptr start, p;
	size_t len = evbuffer_get_length(in);

	if (peer->scanned >= len)
		return -1;
	if (evbuffer_ptr_set(in, &start, peer->scanned, EVBUFFER_PTR_SET) == -1)
		fatalx("client fd=%d: bad input offset", peer->fd);
	p = evbuffer_search(in, "\n", 1, &start);
	if (p.pos == -1) {
		peer->scanned = len;
		return -1;
	}
	return p.pos;
}

static void
peer_consume(struct peer *peer, struct evbuffer *in, size_t n)
{
	evbuffer_drain(in, n);
	peer->scanned = 0;
}

/* Discard the rest of an overlong line; 0 once its newline was seen. */
static int
peer_skip(struct peer *peer, struct evbuffer *in)
{
	ssize_t eol;

	if ((eol = peer_find_eol(peer, in)) == -1) {
		peer_consume(peer, in, evbuffer_get_length(in));
		return -1;
	}
	peer_consume(peer, in, eol + 1);
	peer->skipping = 0;
	return 0;
}

static void
peer_overlong(struct peer *peer)
{
	size_t max = peer->limits.max_line;

	log_debug("client fd=%d: line over %zu bytes", peer->fd, max);
	peer_error(peer, NULL, PROTO_E_BAD_REQUEST,
		   "line exceeds MaxLineLength (%zu bytes)", max);
	peer->skipping = 1;
}

static void
peer_line(struct peer *peer, const char *line, size_t len)
{
	struct proto_request *req;
	struct proto_error err;

	if (len == 0)
		return;
	memset(&err, 0, sizeof(err));
	if (proto_request_parse(line, len, &peer->limits, &req, &err) == -1) {
		log_debug("client fd=%d: %s", peer->fd, err.message);
		if (err.code == PROTO_E_NONE)
			err.code = PROTO_E_BAD_REQUEST;
		peer_error(peer, err.id[0] != '\0' ? err.id : NULL, err.code,
			   "%s", err.message);
		return;
	}
	request_dispatch(peer, req);
	proto_request_free(req);
}

static int
peer_output_full(struct peer *peer)
{
	return atomic_load(&peer->flow->queued) >= peer->flow->high;
}

/* Handle buffered lines until the input is used up or the budget is. */
static void
peer_process(struct peer *peer)
{
	struct evbuffer *in = bufferevent_get_input(peer->bev);
	size_t max = peer->limits.max_line;
	size_t lines = 0, bytes = 0;
	ssize_t eol;

	while (!peer->dead) {
		if (peer->skipping && peer_skip(peer, in) == -1) {
			peer_check_finished(peer);
			return;
		}
		if (peer_output_full(peer)) {
			peer->stalled = 1;
			bufferevent_disable(peer->bev, EV_READ);
			return;
		}
		if (lines >= PEER_BUDGET_LINES || bytes >= PEER_BUDGET_BYTES) {
			event_active(peer->yield_ev, EV_TIMEOUT, 1);
			return;
		}
		if ((eol = peer_find_eol(peer, in)) == -1) {
			if (evbuffer_get_length(in) > max) {
				peer_overlong(peer);
				continue;
			}
			if (peer->eof)
				peer_last_line(peer, in);
			return;
		}
		if ((size_t)eol > max) {
			peer_overlong(peer);
			continue;
		}
		peer_line(peer, (char *)evbuffer_pullup(in, eol + 1), eol);
		peer_consume(peer, in, eol + 1);
		lines++;
		bytes += eol + 1;
	}
}

/*
 * After the end of file: a last line without its newline is served like
 * any other, then the client is closed once nothing of it is left.
 */
static void
peer_last_line(struct peer *peer, struct evbuffer *in)
{
	size_t len = evbuffer_get_length(in);

	if (len > 0) {
		peer_line(peer, (char *)evbuffer_pullup(in, len), len);
		peer_consume(peer, in, len);
	}
	peer_check_finished(peer);
}

/* Requests that still owe the client events (an answered status only
 * waits for stuck workers and owes nothing). */
static int
peer_busy(const struct peer *peer)
{
	const struct request *req;

	TAILQ_FOREACH(req, &peer->requests, peer_entry)
	{
		if (!req->answered)
			return 1;
	}
	return 0;
}

/* A half-closed client is done once its requests ended, its input is
 * used up and its output written. */
static void
peer_check_finished(struct peer *peer)
{
	if (peer->dead || !peer->eof || peer->stalled || peer_busy(peer) ||
	    evbuffer_get_length(bufferevent_get_input(peer->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(peer->bev)) > 0)
		return;
	peer_close(peer, "end of file, requests finished");
}

static void
peer_read(struct bufferevent *bev, void *arg)
{
	peer_process(arg);
}

/*
 * The end of file on a Unix stream socket: POLLHUP only when the client
 * closed both directions (it is gone), not when it only shut down its
 * writing (it still reads the replies).
 */
static int
peer_half_closed(struct peer *peer)
{
	struct pollfd pfd = {.fd = peer->fd, .events = POLLOUT};

	if (poll(&pfd, 1, 0) == -1)
		return 0;
	return !(pfd.revents & (POLLHUP | POLLERR));
}

static void
peer_end_of_file(struct peer *peer)
{
	if (!peer_half_closed(peer)) {
		peer_close(peer, "end of file");
		return;
	}
	if (peer->eof)
		return;
	peer->eof = 1;
	log_verbose("client fd=%d uid=%u pid=%ld: end of input, finishing "
		    "%zu requests",
		    peer->fd, (unsigned)peer->uid, (long)peer->pid,
		    peer->nrequests);
	/* libevent stopped reading; what is buffered is still served. */
	if (!peer->stalled)
		peer_process(peer);
}

static void
peer_yield(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;

	if (!peer->stalled)
		peer_process(peer);
}

static void
peer_event(struct bufferevent *bev, short what, void *arg)
{
	char why[128];

	if (what & BEV_EVENT_EOF) {
		peer_end_of_file(arg);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "%s error: %s",
			 (what & BEV_EVENT_WRITING) ? "write" : "read",
			 strerror(errno));
	else
		return;
	peer_close(arg, why);
}

/* 0 with the client's uid, pid and gid, or -1. */
static int
peer_credentials(int fd, uid_t *uid, pid_t *pid, gid_t *gid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("client fd=%d: SO_PEERCRED", fd);
		return -1;
	}
	*uid = cred.uid;
	*pid = cred.pid;
	*gid = cred.gid;
	return 0;
}

static void
peer_add_gid(struct peer *peer, gid_t gid)
{
	size_t i;

	for (i = 0; i < peer->ngids; i++) {
		if (peer->gids[i] == gid)
			return;
	}
	peer->gids =
	    xreallocarray(peer->gids, peer->ngids + 1, sizeof(*peer->gids));
	peer->gids[peer->ngids++] = gid;
}

/* Groups of a user as the system knows them, at most PEER_MAX_GROUPS. */
static void
peer_grouplist(struct peer *peer, const char *name, gid_t primary)
{
	gid_t *g = NULL;
	int n = PEER_GROUPS_GUESS, got, i;

	for (;;) {
		g = xreallocarray(g, n, sizeof(*g));
		got = n;
		if (getgrouplist(name, primary, g, &got) != -1)
			break;
		if (got <= n || n >= PEER_MAX_GROUPS) {
			/* Truncated to what fits: the user is in more
			 * groups than anyone should be, and the policy
			 * fails closed on the groups it cannot see. */
			got = n;
			peer->groups_partial = 1;
			break;
		}
		n = got < PEER_MAX_GROUPS ? got : PEER_MAX_GROUPS;
	}
	for (i = 0; i < got; i++)
		peer_add_gid(peer, g[i]);
	free(g);
}

/* The name of group gid, or NULL when it has none or the lookup failed. */
static char *
peer_group_name(gid_t gid)
{
	struct group gr, *res = NULL;
	size_t len = PEER_NSS_BUF;
	char *buf, *name = NULL;
	int rc;

	for (;;) {
		buf = xmalloc(len);
		rc = getgrgid_r(gid, &gr, buf, len, &res);
		if (rc != ERANGE || len >= PEER_NSS_BUF_MAX)
			break;
		free(buf);
		len *= 2;
	}
	if (rc == 0 && res != NULL)
		name = xstrdup(gr.gr_name);
	free(buf);
	return name;
}

/*
 * The client's name and groups, looked up once per connection: its primary
 * group, the supplementary groups of its passwd entry, and the gid its
 * process runs with, each with its name.  A uid whose passwd entry cannot
 * be found (no entry, or the lookup failed) has only the latter, and the
 * policy treats it as unknown: it fails closed.
 */
static void
peer_identity(struct peer *peer, gid_t cred_gid)
{
	struct passwd pw, *res = NULL;
	size_t len = PEER_NSS_BUF, i;
	char *buf;
	int rc;

	for (;;) {
		buf = xmalloc(len);
		rc = getpwuid_r(peer->uid, &pw, buf, len, &res);
		if (rc != ERANGE || len >= PEER_NSS_BUF_MAX)
			break;
		free(buf);
		len *= 2;
	}
	if (rc == 0 && res != NULL && strlen(pw.pw_name) < sizeof(peer->user)) {
		snprintf(peer->user, sizeof(peer->user), "%s", pw.pw_name);
		peer->user_known = 1;
		peer_add_gid(peer, pw.pw_gid);
		peer_grouplist(peer, pw.pw_name, pw.pw_gid);
	} else
		snprintf(peer->user, sizeof(peer->user), "%u",
			 (unsigned)peer->uid);
	free(buf);
	peer_add_gid(peer, cred_gid);
	peer->groups = xcalloc(peer->ngids, sizeof(*peer->groups));
	for (i = 0; i < peer->ngids; i++)
		peer->groups[i] = peer_group_name(peer->gids[i]);
}

static void
peer_identity_free(struct peer *peer)
{
	size_t i;

	for (i = 0; peer->groups != NULL && i < peer->ngids; i++)
		free(peer->groups[i]);
	free(peer->groups);
	free(peer->gids);
	peer->groups = NULL;
	peer->gids = NULL;
	peer->ngids = 0;
}

/* Who the client is, for the policy. */
static void
peer_client(const struct peer *peer, struct policy_client *c)
{
	c->uid = peer->uid;
	c->user = peer->user_known ? peer->user : NULL;
	c->gids = peer->gids;
	c->groups = peer->groups;
	c->ngids = peer->ngids;
	c->groups_partial = peer->groups_partial;
}

/*
 * Answer a client that may not be served with one error line and close.  The
 * line goes straight to the fresh socket, whose buffer takes it whole; what
 * the client already sent is read away first so the close is not a reset.
 */
static void
peer_refuse(int fd, uid_t uid, pid_t pid, enum proto_code code, const char *fmt,
	    ...)
{
	char message[PROTO_MAX_MESSAGE], sink[4096];
	struct proto_buf b;
	size_t drained = 0;
	ssize_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	log_info("client fd=%d uid=%u pid=%ld refused (%s): %s", fd,
		 (unsigned)uid, (long)pid, proto_code_name(code), message);
	proto_buf_init(&b);
	if (proto_ev_error(&b, NULL, NULL, code, message, -1) == 0)
		(void)send(fd, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	proto_buf_free(&b);
	shutdown(fd, SHUT_WR);
	while (drained < PEER_REFUSE_DRAIN &&
	       (n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		drained += (size_t)n;
	close(fd);
}

/* 0 if the client may be served, else it was refused and closed. */
static int
peer_admit(struct peer *peer)
{
	size_t max = control_max_connections_per_user();
	struct policy_client c;
	char why[128];

	peer_client(peer, &c);
	if (!policy_access_allows(control_policy(), &c, why, sizeof(why))) {
		peer_refuse(peer->fd, peer->uid, peer->pid, PROTO_E_FORBIDDEN,
			    "user %s (uid %u) may not use this daemon (%s)",
			    peer->user, (unsigned)peer->uid, why);
		return -1;
	}
	if (peer_uid_connections(peer->uid) >= max) {
		peer_refuse(peer->fd, peer->uid, peer->pid, PROTO_E_LIMIT,
			    "user %s (uid %u) has too many connections "
			    "(MaxConnectionsPerUser %zu)",
			    peer->user, (unsigned)peer->uid, max);
		return -1;
	}
	peer_uid_find(peer->uid, 1)->n++;
	return 0;
}

static struct flow *
peer_flow_new(void)
{
	const struct config *cfg = control_config();

	return flow_new(cfg->client_queue_high, cfg->client_queue_low);
}

void
peer_accept(int fd)
{
	struct event_base *base = control_base();
	struct peer *peer;
	uid_t uid;
	pid_t pid;
	gid_t gid;

	if (peer_reap_ev == NULL &&
	    (peer_reap_ev = event_new(base, -1, 0, peer_reap, NULL)) == NULL)
		fatalx("control: cannot create the reaper event");
	if (peer_credentials(fd, &uid, &pid, &gid) == -1) {
		peer_refuse(fd, (uid_t)-1, -1, PROTO_E_FORBIDDEN,
			    "cannot identify the client (SO_PEERCRED)");
		return;
	}
	peer = xcalloc(1, sizeof(*peer));
	peer->fd = fd;
	peer->uid = uid;
	peer->pid = pid;
	control_limits(&peer->limits);
	TAILQ_INIT(&peer->requests);
	peer_identity(peer, gid);
	if (peer_admit(peer) == -1) {
		peer_identity_free(peer);
		free(peer);
		return;
	}
	peer->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	peer->yield_ev = event_new(base, -1, 0, peer_yield, peer);
	peer->hard_ev = evtimer_new(base, peer_hard_timeout, peer);
	if (peer->bev == NULL || peer->yield_ev == NULL ||
	    peer->hard_ev == NULL)
		fatalx("client fd=%d: cannot create its events", fd);
	peer->flow = peer_flow_new();
	peer->shard_jobs =
	    xcalloc(control_shards()->n, sizeof(*peer->shard_jobs));
	peer->drain_cb = evbuffer_add_cb(bufferevent_get_output(peer->bev),
					 peer_drained, peer);
	if (peer->drain_cb == NULL)
		fatalx("client fd=%d: cannot watch its output", fd);
	bufferevent_setcb(peer->bev, peer_read, NULL, peer_event, peer);
	if (bufferevent_set_max_single_write(peer->bev, PEER_MAX_WRITE) == -1)
		fatalx("client fd=%d: cannot set its write size", fd);
	/* Never buffer more than one maximal line and its newline. */
	bufferevent_setwatermark(peer->bev, EV_READ, 0,
				 peer->limits.max_line + 1);
	bufferevent_enable(peer->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&peers, peer, entry);
	log_verbose("client fd=%d uid=%u user=%s pid=%ld connected", fd,
		    (unsigned)peer->uid, peer->user, (long)peer->pid);
}

const struct policy_view *
peer_policy(struct peer *peer)
{
	struct policy_client c;

	peer_client(peer, &c);
	return policy_view_update(&peer->policy, control_policy(), &c);
}

/*
 * At exit, after the workers stopped and their last events were queued:
 * write what the sockets take without blocking, then free every peer.
 * Requests must have been freed before.
 */
void
peer_shutdown_all(void)
{
	struct peer *peer;
	struct evbuffer *out;

	while ((peer = TAILQ_FIRST(&peers)) != NULL) {
		TAILQ_REMOVE(&peers, peer, entry);
		out = bufferevent_get_output(peer->bev);
		peer_unwatch(peer);
		/* The bufferevent keeps the start frozen for its own writes. */
		evbuffer_unfreeze(out, 1);
		while (evbuffer_get_length(out) > 0 &&
		       evbuffer_write(out, peer->fd) > 0)
			;
		atomic_store(&peer->flow->closed, 1);
		peer_uid_release(peer->uid);
		peer_free(peer);
	}
	peer_reap(-1, 0, NULL);
	if (peer_reap_ev != NULL) {
		event_free(peer_reap_ev);
		peer_reap_ev = NULL;
	}
}

size_t
peer_count(void)
{
	struct peer *peer;
	size_t n = 0;

	TAILQ_FOREACH(peer, &peers, entry)
	{
		n++;
	}
	return n;
}

/* Output the clients have not read yet, for the flush before exit. */
size_t
peer_output_pending(void)
{
	struct peer *peer;
	size_t n = 0;

	TAILQ_FOREACH(peer, &peers, entry)
	{
		n += evbuffer_get_length(bufferevent_get_output(peer->bev));
	}
	return n;
}
