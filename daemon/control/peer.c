/* SPDX-License-Identifier: ISC */
/*
 * One client connection: its input (read here with recvmsg, descriptors
 * included), its output bufferevent, the framing of request lines, and
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
 * Input is read with recvmsg rather than by the bufferevent (which is for
 * output only), because requests may carry descriptors (SCM_RIGHTS,
 * PROTOCOL.md section 1.8).  Each received descriptor is queued with the
 * stream offset of the last byte of the data it arrived with, and the line
 * holding that byte takes it: the kernel may deliver earlier bytes (the end
 * of a previous line) in the same read, never later ones.  A line whose
 * descriptors do not match its "fds" member is refused and every descriptor
 * no request takes is closed at once.
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
#include <sys/uio.h>

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
	size_t agents; /* client agents its requests hold (MaxAgentsPerUser) */
};
static struct peer_uid_count *peer_uids;
static size_t peer_nuids;

static void peer_process(struct peer *);
static void peer_check_finished(struct peer *);
static void peer_last_line(struct peer *, struct evbuffer *);
static void peer_identity_free(struct peer *);
static void peer_read_update(struct peer *);
static ssize_t peer_find_eol(struct peer *, struct evbuffer *);

/* The descriptors one line took from the queue. */
struct peer_line_fds {
	int fd[PEER_MAX_QUEUED_FDS];
	size_t n;
	size_t dropped; /* closed before the line ended (queue full) */
	int cut;        /* some were cut off by the kernel (MSG_CTRUNC) */
};

static void
peer_fds_close(const int *fd, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		peer_fd_close(fd[i]);
}

/* Close a descriptor a client passed.  A socket left with SO_LINGER set
 * and data unsent would make close() wait on the control thread: that is
 * dropped first (ENOTSOCK for anything else is harmless). */
void
peer_fd_close(int fd)
{
	struct linger off = {0, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
	close(fd);
}

static size_t
peer_fdq_room(const struct peer *peer)
{
	return PEER_MAX_QUEUED_FDS - peer->fdq_len;
}

static struct peer_fd *
peer_fdq_at(struct peer *peer, size_t i)
{
	return &peer->fdq[(peer->fdq_head + i) % PEER_MAX_QUEUED_FDS];
}

/* Queue fd (or a mark, fd -1); a full queue closes it and counts it on
 * the newest entry, which belongs to the same line. */
static void
peer_fdq_push(struct peer *peer, int fd, int cut, unsigned long long off)
{
	struct peer_fd *q;

	if (peer_fdq_room(peer) == 0) {
		q = peer_fdq_at(peer, peer->fdq_len - 1);
		if (fd >= 0) {
			peer_fd_close(fd);
			q->dropped++;
		}
		q->cut |= cut;
		return;
	}
	q = peer_fdq_at(peer, peer->fdq_len++);
	q->fd = fd;
	q->cut = cut;
	q->dropped = 0;
	q->off = off;
}

/* Take the queued descriptors of the line ending before offset end. */
static void
peer_fdq_take(struct peer *peer, unsigned long long end,
	      struct peer_line_fds *lf)
{
	struct peer_fd *q;

	lf->n = lf->dropped = 0;
	lf->cut = 0;
	while (peer->fdq_len > 0 && (q = peer_fdq_at(peer, 0))->off < end) {
		if (q->fd >= 0)
			lf->fd[lf->n++] = q->fd;
		lf->dropped += q->dropped;
		lf->cut |= q->cut;
		peer->fdq_head = (peer->fdq_head + 1) % PEER_MAX_QUEUED_FDS;
		peer->fdq_len--;
	}
}

/* Descriptors of input consumed without a request taking them (an
 * overlong or empty line) are closed. */
static void
peer_fdq_discard(struct peer *peer, unsigned long long end)
{
	struct peer_line_fds lf;

	peer_fdq_take(peer, end, &lf);
	if (lf.n == 0)
		return;
	log_debug("client fd=%d: %zu descriptors closed with discarded input",
		  peer->fd, lf.n);
	peer_fds_close(lf.fd, lf.n);
}

/*
 * The queue is full and no complete line is buffered: everything queued
 * belongs to the unfinished line, which has more descriptors than any
 * request takes.  Close them and keep one mark that counts them, so that
 * reading goes on to that line's end and the line is refused.
 */
static void
peer_fdq_collapse(struct peer *peer)
{
	struct peer_line_fds lf;
	unsigned long long off = peer_fdq_at(peer, peer->fdq_len - 1)->off;

	peer_fdq_take(peer, off + 1, &lf);
	peer_fds_close(lf.fd, lf.n);
	peer_fdq_push(peer, -1, lf.cut, off);
	peer_fdq_at(peer, 0)->dropped = (unsigned)(lf.n + lf.dropped);
}

static void
peer_fdq_free(struct peer *peer)
{
	struct peer_line_fds lf;

	peer_fdq_take(peer, ~0ull, &lf);
	peer_fds_close(lf.fd, lf.n);
}

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
	peer_uids[peer_nuids].agents = 0;
	return &peer_uids[peer_nuids++];
}

int
peer_uid_agent_take(uid_t uid, size_t max)
{
	struct peer_uid_count *c = peer_uid_find(uid, 0);

	/* A request's client is connected: its uid is counted. */
	if (c == NULL || c->agents >= max)
		return 0;
	c->agents++;
	return 1;
}

void
peer_uid_agent_put(uid_t uid)
{
	struct peer_uid_count *c = peer_uid_find(uid, 0);

	if (c != NULL && c->agents > 0)
		c->agents--;
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
	/* The read event goes before the bufferevent closes the socket. */
	event_free(peer->read_ev);
	bufferevent_free(peer->bev);
	evbuffer_free(peer->in);
	peer_fdq_free(peer);
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
	bufferevent_disable(peer->bev, EV_WRITE);
	peer_read_update(peer);
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
	peer_read_update(peer);
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
	peer->in_off += n;
	peer->scanned = 0;
	peer_fdq_discard(peer, peer->in_off);
	peer_read_update(peer);
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

/* 0 if the line brought the descriptors its "fds" announces, else it was
 * answered with an error. */
static int
peer_line_fds_match(struct peer *peer, const struct proto_request *req,
		    const struct peer_line_fds *lf)
{
	size_t got = lf->n + lf->dropped;

	if (!lf->cut && got == req->nfds)
		return 0;
	log_debug("client fd=%d id=%s: %zu descriptors announced, %zu%s "
		  "arrived",
		  peer->fd, req->id, req->nfds, got, lf->cut ? "+" : "");
	peer_error(peer, req->id, PROTO_E_BAD_REQUEST,
		   "request announces %zu descriptors, %s%zu arrived with it",
		   req->nfds, lf->cut ? "more than " : "", got);
	return -1;
}

/* A line [end - len - 1, end) and the descriptors that came with it. */
static void
peer_line(struct peer *peer, const char *line, size_t len,
	  unsigned long long end)
{
	struct proto_request *req;
	struct proto_error err;
	struct peer_line_fds lf;
	struct request_fds fds;
	size_t i;

	peer_fdq_take(peer, end, &lf);
	if (len == 0) {
		peer_fds_close(lf.fd, lf.n);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (proto_request_parse(line, len, &peer->limits, &req, &err) == -1) {
		peer_fds_close(lf.fd, lf.n);
		log_debug("client fd=%d: %s", peer->fd, err.message);
		if (err.code == PROTO_E_NONE)
			err.code = PROTO_E_BAD_REQUEST;
		peer_error(peer, err.id[0] != '\0' ? err.id : NULL, err.code,
			   "%s", err.message);
		return;
	}
	if (peer_line_fds_match(peer, req, &lf) == -1) {
		peer_fds_close(lf.fd, lf.n);
		proto_request_free(req);
		return;
	}
	fds.n = lf.n;
	for (i = 0; i < lf.n; i++) {
		fds.fd[i] = lf.fd[i];
		fds.role[i] = req->fds[i];
	}
	request_dispatch(peer, req, &fds);
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
	struct evbuffer *in = peer->in;
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
			peer_read_update(peer);
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
		peer_line(peer, (char *)evbuffer_pullup(in, eol + 1), eol,
			  peer->in_off + eol + 1);
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
		peer_line(peer, (char *)evbuffer_pullup(in, len), len,
			  peer->in_off + len);
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
	    evbuffer_get_length(peer->in) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(peer->bev)) > 0)
		return;
	peer_close(peer, "end of file, requests finished");
}

/*
 * Read while the client is served, its input holds less than one maximal
 * line and its newline (what a bufferevent's watermark did), and the queue
 * of descriptors can take another read's worth.  A full queue with no
 * complete line buffered belongs to that one line (peer_fdq_collapse).
 */
static void
peer_read_update(struct peer *peer)
{
	int want;

	want = !peer->dead && !peer->eof && !peer->stalled &&
	       evbuffer_get_length(peer->in) <= peer->limits.max_line &&
	       (peer_fdq_room(peer) >= PEER_FD_BATCH ||
		peer_find_eol(peer, peer->in) == -1);
	if (want && !peer->reading) {
		if (event_add(peer->read_ev, NULL) == -1)
			fatalx("client fd=%d: cannot watch its input",
			       peer->fd);
		peer->reading = 1;
	} else if (!want && peer->reading) {
		event_del(peer->read_ev);
		peer->reading = 0;
	}
}

/* Queue the descriptors that came with the data read last. */
static void
peer_recv_fds(struct peer *peer, struct msghdr *mh, unsigned long long off)
{
	struct cmsghdr *cm;
	size_t n, i, pushed = 0;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			peer_fdq_push(peer, fd, 0, off);
			pushed++;
		}
	}
	if (mh->msg_flags & MSG_CTRUNC) {
		if (pushed > 0)
			peer_fdq_at(peer, peer->fdq_len - 1)->cut = 1;
		else
			peer_fdq_push(peer, -1, 1, off);
	}
}

/*
 * One recvmsg of at most PEER_READ_CHUNK bytes into the input.  Returns the
 * bytes read, 0 at the end of file, -2 when nothing could be read now, -1
 * when the read failed (the peer is closed).
 */
static ssize_t
peer_recv(struct peer *peer)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * (PROTO_MAX_FDS + 1))];
	} ctl;
	struct evbuffer_iovec vec[2];
	struct iovec iov[2];
	struct msghdr mh;
	size_t want, left, len = evbuffer_get_length(peer->in);
	char why[128];
	ssize_t n;
	int nvec, i;

	want = peer->limits.max_line + 1 - len;
	if (want > PEER_READ_CHUNK)
		want = PEER_READ_CHUNK;
	if (peer_fdq_room(peer) < PEER_FD_BATCH) {
		/* Lines buffered first take their descriptors. */
		if (peer_find_eol(peer, peer->in) != -1)
			return -2;
		peer_fdq_collapse(peer);
	}
	if ((nvec = evbuffer_reserve_space(peer->in, want, vec, 2)) < 1)
		fatalx("client fd=%d: cannot grow its input", peer->fd);
	for (i = 0, left = want; i < nvec; i++) {
		if (vec[i].iov_len > left)
			vec[i].iov_len = left;
		left -= vec[i].iov_len;
		iov[i].iov_base = vec[i].iov_base;
		iov[i].iov_len = vec[i].iov_len;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = nvec;
	mh.msg_control = ctl.buf;
	/* The kernel fills what msg_controllen has room for; CMSG_SPACE is
	 * rounded up, so name exactly PROTO_MAX_FDS + 1. */
	mh.msg_controllen = CMSG_LEN(sizeof(int) * (PROTO_MAX_FDS + 1));
	n = recvmsg(peer->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -2;
		snprintf(why, sizeof(why), "read error: %s", strerror(errno));
		peer_close(peer, why);
		return -1;
	}
	for (i = 0, left = (size_t)n; i < nvec; i++) {
		if (vec[i].iov_len > left)
			vec[i].iov_len = left;
		left -= vec[i].iov_len;
	}
	if (evbuffer_commit_space(peer->in, vec, nvec) == -1)
		fatalx("client fd=%d: cannot keep its input", peer->fd);
	/* Descriptors with no data (the end of file) go to no line: the
	 * peer's end closes them. */
	peer_recv_fds(peer, &mh,
		      n > 0 ? peer->in_off + len + (size_t)n - 1 : ~0ull - 1);
	return n;
}

static void peer_end_of_file(struct peer *);

static void
peer_read(evutil_socket_t fd, short what, void *arg)
{
	struct peer *peer = arg;
	ssize_t n;

	(void)fd;
	(void)what;
	if ((n = peer_recv(peer)) == -1)
		return;
	if (n == 0) {
		peer_end_of_file(peer);
		return;
	}
	if (n > 0)
		peer_process(peer);
	if (!peer->dead)
		peer_read_update(peer);
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
	/* Reading stops; what is buffered is still served. */
	peer_read_update(peer);
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

	/* The bufferevent only writes: its errors are write errors. */
	(void)bev;
	if (!(what & BEV_EVENT_ERROR))
		return;
	snprintf(why, sizeof(why), "write error: %s", strerror(errno));
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
	peer->read_ev =
	    event_new(base, fd, EV_READ | EV_PERSIST, peer_read, peer);
	peer->in = evbuffer_new();
	peer->yield_ev = event_new(base, -1, 0, peer_yield, peer);
	peer->hard_ev = evtimer_new(base, peer_hard_timeout, peer);
	if (peer->bev == NULL || peer->read_ev == NULL || peer->in == NULL ||
	    peer->yield_ev == NULL || peer->hard_ev == NULL)
		fatalx("client fd=%d: cannot create its events", fd);
	peer->flow = peer_flow_new();
	peer->shard_jobs =
	    xcalloc(control_shards()->n, sizeof(*peer->shard_jobs));
	peer->drain_cb = evbuffer_add_cb(bufferevent_get_output(peer->bev),
					 peer_drained, peer);
	if (peer->drain_cb == NULL)
		fatalx("client fd=%d: cannot watch its output", fd);
	bufferevent_setcb(peer->bev, NULL, NULL, peer_event, peer);
	if (bufferevent_set_max_single_write(peer->bev, PEER_MAX_WRITE) == -1)
		fatalx("client fd=%d: cannot set its write size", fd);
	/* Input never goes through the bufferevent (peer_read_update). */
	bufferevent_disable(peer->bev, EV_READ);
	bufferevent_enable(peer->bev, EV_WRITE);
	TAILQ_INSERT_TAIL(&peers, peer, entry);
	peer_read_update(peer);
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
