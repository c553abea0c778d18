/*
 * Requests of clients: the table of operations with one exec function each,
 * the routing of run and connect jobs to the workers, and the accounting that
 * ends every request with exactly one terminal reply.  A request outlives its
 * client when it has to: it is freed only when the last terminal event of its
 * jobs (or the last status reply) has come back, because workers hold its
 * address as a token until then.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "log.h"
#include "xmalloc.h"

static struct request_list requests_all = TAILQ_HEAD_INITIALIZER(requests_all);

static int request_hello(struct peer *, struct proto_request *);
static int request_run(struct peer *, struct proto_request *);
static int request_connect(struct peer *, struct proto_request *);
static int request_cancel(struct peer *, struct proto_request *);
static int request_status(struct peer *, struct proto_request *);
static void request_status_timeout(evutil_socket_t, short, void *);

static const struct request_op {
	enum proto_op op;
	int (*exec)(struct peer *, struct proto_request *);
} request_ops[] = {
    {PROTO_OP_HELLO, request_hello},     {PROTO_OP_RUN, request_run},
    {PROTO_OP_CONNECT, request_connect}, {PROTO_OP_CANCEL, request_cancel},
    {PROTO_OP_STATUS, request_status},
};

static int
request_has_jobs(const struct request *req)
{
	return req->op == PROTO_OP_RUN || req->op == PROTO_OP_CONNECT;
}

static struct request *
request_find(struct peer *peer, const char *id)
{
	struct request *req;

	TAILQ_FOREACH(req, &peer->requests, peer_entry)
	{
		if (strcmp(req->id, id) == 0)
			return req;
	}
	return NULL;
}

static struct request *
request_new(struct peer *peer, const struct proto_request *preq, size_t pending)
{
	struct request *req;

	req = xcalloc(1, sizeof(*req));
	req->peer = peer;
	snprintf(req->id, sizeof(req->id), "%s", preq->id);
	req->op = preq->op;
	req->start_ms = now_ms();
	req->hosts = preq->nhosts;
	req->pending = pending;
	TAILQ_INSERT_TAIL(&peer->requests, req, peer_entry);
	peer->nrequests++;
	TAILQ_INSERT_TAIL(&requests_all, req, all_entry);
	return req;
}

static void
request_unlink_peer(struct request *req)
{
	if (req->peer == NULL)
		return;
	TAILQ_REMOVE(&req->peer->requests, req, peer_entry);
	req->peer->nrequests--;
	req->peer = NULL;
}

static void
request_free(struct request *req)
{
	size_t i;

	request_unlink_peer(req);
	TAILQ_REMOVE(&requests_all, req, all_entry);
	for (i = 0; i < req->nreplies; i++)
		msg_free(req->replies[i]);
	free(req->replies);
	if (req->timer != NULL)
		event_free(req->timer);
	free(req);
}

/* A new tracked request must fit under the client's limit. */
static int
request_admit(struct peer *peer, const struct proto_request *preq)
{
	if (peer->nrequests < PEER_MAX_REQUESTS)
		return 0;
	peer_error(peer, preq->id, PROTO_E_LIMIT,
		   "too many requests in flight (at most %d)",
		   PEER_MAX_REQUESTS);
	return -1;
}

void
request_dispatch(struct peer *peer, struct proto_request *preq)
{
	size_t i;

	if (request_find(peer, preq->id) != NULL) {
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST, "duplicate id");
		return;
	}
	for (i = 0; i < sizeof(request_ops) / sizeof(request_ops[0]); i++) {
		if (request_ops[i].op != preq->op)
			continue;
		log_debug("client fd=%d id=%s op=%s", peer->fd, preq->id,
			  proto_op_name(preq->op));
		if (request_ops[i].exec(peer, preq) != 0)
			log_debug("client fd=%d id=%s refused", peer->fd,
				  preq->id);
		return;
	}
	peer_error(peer, preq->id, PROTO_E_INTERNAL,
		   "operation %s is not implemented", proto_op_name(preq->op));
}

static int
request_hello(struct peer *peer, struct proto_request *preq)
{
	struct proto_limits lim;
	struct proto_buf b;

	if (preq->version_min > PROTO_VERSION ||
	    preq->version_max < PROTO_VERSION) {
		peer_error(peer, preq->id, PROTO_E_UNSUPPORTED_VERSION,
			   "supported protocol versions: %d", PROTO_VERSION);
		return -1;
	}
	control_limits(&lim);
	proto_buf_init(&b);
	if (proto_ev_hello(&b, preq->id, PROTO_VERSION,
			   "sshpoold/" SSHPOOL_VERSION, &lim) == -1)
		fatalx("cannot encode a hello reply");
	peer_write_buf(peer, &b);
	return 0;
}

static int
request_cmp_host(const void *a, const void *b)
{
	char *const *ha = *(char *const *const *)a;
	char *const *hb = *(char *const *const *)b;
	int c;

	if ((c = strcmp(*ha, *hb)) != 0)
		return c;
	return ha < hb ? -1 : ha > hb;
}

/* Duplicates are found by sorting: requests may name thousands of hosts. */
static int
request_check_duplicates(struct peer *peer, const struct proto_request *preq)
{
	char ***v;
	size_t i, n = preq->nhosts, dup = n;

	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = &preq->hosts[i];
	qsort(v, n, sizeof(*v), request_cmp_host);
	for (i = 1; i < n; i++) {
		if (strcmp(*v[i - 1], *v[i]) == 0 &&
		    (size_t)(v[i] - preq->hosts) < dup)
			dup = v[i] - preq->hosts;
	}
	free(v);
	if (dup == n)
		return 0;
	peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
		   "hosts[%zu]: duplicate host \"%s\"", dup, preq->hosts[dup]);
	return -1;
}

/* Every host must be valid before any job is sent. */
static int
request_check_hosts(struct peer *peer, const struct proto_request *preq)
{
	struct proto_hostspec spec;
	struct proto_error err;
	size_t i;

	if (preq->nhosts == 0) {
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
			   "hosts: expected at least one host");
		return -1;
	}
	for (i = 0; i < preq->nhosts; i++) {
		if (proto_hostspec_parse(preq->hosts[i], &spec, &err) == 0)
			continue;
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
			   "hosts[%zu]: %s", i, err.message);
		return -1;
	}
	return request_check_duplicates(peer, preq);
}

/* Resolve the host's settings and hand its job to the owning worker. */
static void
request_post_job(struct request *req, const struct proto_request *preq,
		 size_t i, enum job_kind kind, struct job_input *input)
{
	struct proto_hostspec spec;
	struct proto_error err;
	struct config_host_opts opts;
	struct job_spec *job;
	struct msg *m;
	const char *user;
	int port;

	if (proto_hostspec_parse(preq->hosts[i], &spec, &err) == -1)
		fatalx("hosts[%zu] of a checked request: %s", i, err.message);
	config_host(control_config(), spec.host, &opts);
	if (spec.user[0] != '\0')
		user = spec.user;
	else if (preq->user != NULL)
		user = preq->user;
	else
		user = opts.user;
	port = spec.port != 0 ? spec.port : opts.port;

	job = xcalloc(1, sizeof(*job));
	job->kind = kind;
	job->req = req;
	job->flow = flow_ref(req->peer->flow);
	memcpy(job->id, req->id, sizeof(job->id));
	job->hostarg = xstrdup(preq->hosts[i]);
	job->params = host_params_new(&opts, user, spec.host, port);
	if (input != NULL)
		job->input = job_input_ref(input);

	m = msg_new(MSG_JOB);
	m->req = req;
	m->job = job;
	m->worker = workers_shard(job->params->key);
	workers_post(m->worker, m);
}

static int
request_jobs(struct peer *peer, struct proto_request *preq, enum job_kind kind)
{
	struct request *req;
	struct job_input *input = NULL;
	size_t i;

	if (request_admit(peer, preq) == -1 ||
	    request_check_hosts(peer, preq) == -1)
		return -1;
	req = request_new(peer, preq, preq->nhosts);
	/* One copy of command, env and stdin serves every host. */
	if (kind == JOB_RUN)
		input = job_input_new(preq);
	for (i = 0; i < preq->nhosts; i++)
		request_post_job(req, preq, i, kind, input);
	job_input_unref(input);
	log_debug("client fd=%d id=%s %s hosts=%zu", peer->fd, req->id,
		  proto_op_name(req->op), req->hosts);
	return 0;
}

static int
request_run(struct peer *peer, struct proto_request *preq)
{
	return request_jobs(peer, preq, JOB_RUN);
}

static int
request_connect(struct peer *peer, struct proto_request *preq)
{
	return request_jobs(peer, preq, JOB_CONNECT);
}

static int
request_cancel(struct peer *peer, struct proto_request *preq)
{
	struct request *target;
	struct proto_buf b;

	target = request_find(peer, preq->target);
	if (target != NULL && request_has_jobs(target))
		workers_broadcast(MSG_CANCEL, target);
	proto_buf_init(&b);
	if (proto_ev_cancel(&b, preq->id, preq->target, target != NULL) == -1)
		fatalx("cannot encode a cancel reply");
	peer_write_buf(peer, &b);
	return 0;
}

static void
request_status_send(struct request *req)
{
	struct proto_buf b;

	proto_buf_init(&b);
	if (proto_ev_status(&b, req->id, "", "") == -1)
		fatalx("cannot encode a status reply");
	peer_write_buf(req->peer, &b);
}

static int
request_status(struct peer *peer, struct proto_request *preq)
{
	struct timeval tv = { STATUS_WAIT_MS / 1000,
		(STATUS_WAIT_MS % 1000) * 1000 };
	struct request *req;
	int n = workers_count();

	if (request_admit(peer, preq) == -1)
		return -1;
	req = request_new(peer, preq, n > 0 ? (size_t)n : 0);
	if (n <= 0) {
		request_status_send(req);
		request_free(req);
		return 0;
	}
	req->replies = xcalloc(n, sizeof(*req->replies));
	workers_broadcast(MSG_STATUS, req);
	req->timer = evtimer_new(control_base(), request_status_timeout, req);
	if (req->timer == NULL)
		fatalx("cannot create a status timer");
	evtimer_add(req->timer, &tv);
	return 0;
}

static int
request_cmp_reply(const void *a, const void *b)
{
	const struct msg *ma = *(const struct msg *const *)a;
	const struct msg *mb = *(const struct msg *const *)b;

	return (ma->worker > mb->worker) - (ma->worker < mb->worker);
}

static void
request_join(struct proto_buf *out, const struct proto_buf *part)
{
	if (part->len == 0)
		return;
	if ((out->len > 0 && proto_buf_append(out, ",", 1) == -1) ||
	    proto_buf_append(out, part->data, part->len) == -1)
		fatalx("cannot build a status reply");
}

/* Workers that have not answered are reported stuck. */
static void
request_status_stuck(struct request *req, struct proto_buf *workers)
{
	struct proto_status_worker sw;
	struct proto_buf b;
	size_t i;
	int k, seen;

	for (k = 0; k < workers_count(); k++) {
		seen = 0;
		for (i = 0; i < req->nreplies; i++)
			seen |= req->replies[i]->worker == k;
		if (seen)
			continue;
		memset(&sw, 0, sizeof(sw));
		sw.index = k;
		sw.hosts = sw.sessions = sw.jobs = -1;
		sw.heartbeat_age_ms = workers_heartbeat_age_ms(k);
		sw.stuck = 1;
		proto_buf_init(&b);
		if (proto_status_worker(&b, &sw) == -1)
			fatalx("cannot build a status reply");
		request_join(workers, &b);
		proto_buf_free(&b);
		log_warnx("worker %d did not answer status within %d ms "
		    "(heartbeat %lld ms old)", k, STATUS_WAIT_MS,
		    sw.heartbeat_age_ms);
	}
}

/* Join the workers' replies in worker order into one status event. */
static void
request_status_join(struct request *req)
{
	struct proto_buf hosts, workers, b;
	size_t i;

	qsort(req->replies, req->nreplies, sizeof(*req->replies),
	      request_cmp_reply);
	proto_buf_init(&hosts);
	proto_buf_init(&workers);
	for (i = 0; i < req->nreplies; i++) {
		request_join(&hosts, &req->replies[i]->buf);
		request_join(&workers, &req->replies[i]->buf2);
	}
	request_status_stuck(req, &workers);
	if (proto_buf_append(&hosts, "", 1) == -1 ||
	    proto_buf_append(&workers, "", 1) == -1)
		fatalx("cannot build a status reply");
	proto_buf_init(&b);
	if (proto_ev_status(&b, req->id, hosts.data, workers.data) == -1)
		fatalx("cannot encode a status reply");
	proto_buf_free(&hosts);
	proto_buf_free(&workers);
	peer_write_buf(req->peer, &b);
}

void
request_status_reply(struct msg *m)
{
	struct request *req = m->req;

	if (req == NULL || req->op != PROTO_OP_STATUS || req->pending == 0) {
		log_warnx("control: stray status reply from worker %d",
			  m->worker);
		msg_free(m);
		return;
	}
	req->replies[req->nreplies++] = m;
	if (--req->pending > 0)
		return;
	if (req->peer != NULL && !req->answered)
		request_status_join(req);
	request_free(req);
}

/* Some worker is late: answer with what came, the rest reported stuck.  The
 * request lives on until the late replies arrive. */
static void
request_status_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct request *req = arg;

	(void)fd;
	(void)what;
	if (req->peer != NULL && !req->answered)
		request_status_join(req);
	req->answered = 1;
}

static void
request_done(struct request *req)
{
	struct proto_done d;
	struct proto_buf b;

	d.hosts = req->hosts;
	d.ok = req->ok;
	d.failed = req->failed;
	d.errors = req->errors;
	d.duration_ms = now_ms() - req->start_ms;
	log_debug("request id=%s done hosts=%zu ok=%zu failed=%zu errors=%zu "
		  "duration_ms=%lld",
		  req->id, d.hosts, d.ok, d.failed, d.errors, d.duration_ms);
	if (req->peer != NULL) {
		proto_buf_init(&b);
		if (proto_ev_done(&b, req->id, &d) == -1)
			fatalx("cannot encode a done reply");
		peer_write_buf(req->peer, &b);
	}
	request_free(req);
}

static void
request_count(struct request *req, enum job_result result)
{
	switch (result) {
	case JOB_RESULT_OK:
		req->ok++;
		break;
	case JOB_RESULT_FAILED:
		req->failed++;
		break;
	case JOB_RESULT_ERROR:
		req->errors++;
		break;
	}
}

/* Event lines of one job: forward them, and close the request after the
 * last job's terminal event. */
void
request_event(struct msg *m)
{
	struct request *req = m->req;
	int terminal = m->terminal;
	enum job_result result = m->result;

	if (req == NULL || !request_has_jobs(req) || req->pending == 0) {
		log_warnx("control: stray event from worker %d", m->worker);
		terminal = 0;
		req = NULL;
	}
	if (req != NULL && req->peer != NULL)
		peer_write_event(req->peer, m);
	else {
		/* Nobody will read these bytes: unblock the flow now. */
		if (m->flow != NULL)
			atomic_fetch_sub(&m->flow->queued, m->buf.len);
		msg_free(m);
	}
	if (!terminal)
		return;
	request_count(req, result);
	if (--req->pending == 0)
		request_done(req);
}

/* The client is gone: stop its jobs; requests end when their jobs do. */
void
request_detach_all(struct peer *peer)
{
	struct request *req;

	while ((req = TAILQ_FIRST(&peer->requests)) != NULL) {
		if (request_has_jobs(req))
			workers_broadcast(MSG_CANCEL, req);
		request_unlink_peer(req);
	}
}

/* At exit, requests still waiting for workers end with one error. */
void
request_shutdown_all(void)
{
	struct request *req;

	TAILQ_FOREACH(req, &requests_all, all_entry)
	{
		if (req->peer != NULL)
			peer_error(req->peer, req->id, PROTO_E_SHUTDOWN,
				   "sshpoold is shutting down");
	}
}

void
request_free_all(void)
{
	struct request *req;

	while ((req = TAILQ_FIRST(&requests_all)) != NULL)
		request_free(req);
}
