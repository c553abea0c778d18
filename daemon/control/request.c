/* SPDX-License-Identifier: ISC */
/*
 * Requests of clients: the table of operations with one exec function each,
 * the routing of run and connect jobs to the workers, and the accounting that
 * ends every request with exactly one terminal reply.  A request outlives its
 * client when it has to: it is freed only when the last terminal event of its
 * jobs (or the last status reply) has come back, because workers hold its
 * address as a token until then.
 *
 * Here too the per-request rules: the limits on requests and jobs in flight
 * (per client and daemon-wide), the per-user host policy (UserHosts,
 * GroupHosts, decided by policy.c), whose refused hosts end with
 * "forbidden" without reaching a worker, and the audit log of every run and
 * connect.
 *
 * The descriptors a run or connect brings (PROTOCOL.md section 1.8) are
 * checked here without blocking and kept on the request; the workers take
 * none yet, so a request closes them once its jobs are posted.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent.h"
#include "clock.h"
#include "control.h"
#include "jump.h"
#include "log.h"
#include "policy.h"
#include "xmalloc.h"

/*
 * The hosts of one request, each spec parsed once and read by the checks,
 * the policy and the posting of jobs.  The parts are copied into one buffer
 * the size of the specs' own text, which is bounded by MaxHostsPerRequest
 * specs of PROTO_MAX_HOSTSPEC bytes, rather than one struct proto_hostspec
 * per host.
 */
struct request_host {
	const char *user; /* "" = not given */
	const char *host;
	int port; /* 0 = not given */
};

struct request_hosts {
	struct request_host *v; /* in the order of preq->hosts */
	char *text;
	size_t n;
};

static struct request_list requests_all = TAILQ_HEAD_INITIALIZER(requests_all);
/* Host jobs handed to the workers whose terminal event has not come back,
 * over every client (MaxJobs). */
static size_t request_jobs_running;

static int request_hello(struct peer *, struct proto_request *,
			 struct request_fds *);
static int request_run(struct peer *, struct proto_request *,
		       struct request_fds *);
static int request_connect(struct peer *, struct proto_request *,
			   struct request_fds *);
static int request_cancel(struct peer *, struct proto_request *,
			  struct request_fds *);
static int request_status(struct peer *, struct proto_request *,
			  struct request_fds *);
static int request_disconnect(struct peer *, struct proto_request *,
			      struct request_fds *);
static void request_status_timeout(evutil_socket_t, short, void *);
static void request_done(struct request *);

static const struct request_op {
	enum proto_op op;
	int (*exec)(struct peer *, struct proto_request *,
		    struct request_fds *);
} request_ops[] = {
    {PROTO_OP_HELLO, request_hello},
    {PROTO_OP_RUN, request_run},
    {PROTO_OP_CONNECT, request_connect},
    {PROTO_OP_CANCEL, request_cancel},
    {PROTO_OP_STATUS, request_status},
    {PROTO_OP_DISCONNECT, request_disconnect},
};

static int
request_has_jobs(const struct request *req)
{
	return req->op == PROTO_OP_RUN || req->op == PROTO_OP_CONNECT ||
	       req->op == PROTO_OP_DISCONNECT;
}

static struct request *
request_find(struct peer *peer, const char *id)
{
	struct request *req;

	TAILQ_FOREACH(req, &peer->requests, peer_entry)
	{
		/* An answered status waits only for a late worker: its id is
		 * the client's again. */
		if (req->answered)
			continue;
		if (strcmp(req->id, id) == 0)
			return req;
	}
	return NULL;
}

/* MSG_CANCEL to the shards that still run jobs of req, and no other. */
static void
request_cancel_jobs(struct request *req)
{
	const struct shards *shards = control_shards();
	struct msg *m;
	int k;

	for (k = 0; k < shards->n; k++) {
		if (req->shard_jobs[k] == 0)
			continue;
		m = msg_new(MSG_CANCEL);
		m->req = req;
		shards_post(shards, k, m);
	}
}

static struct request *
request_new(struct peer *peer, const struct proto_request *preq, size_t pending)
{
	struct request *req;

	req = xcalloc(1, sizeof(*req));
	req->peer = peer;
	req->uid = peer->uid;
	req->pid = peer->pid;
	snprintf(req->id, sizeof(req->id), "%s", preq->id);
	req->op = preq->op;
	req->start_ms = clock_ms();
	req->hosts = preq->nhosts;
	req->pending = pending;
	if (request_has_jobs(req))
		req->shard_jobs =
		    xcalloc(control_shards()->n, sizeof(*req->shard_jobs));
	TAILQ_INSERT_TAIL(&peer->requests, req, peer_entry);
	peer->nrequests++;
	TAILQ_INSERT_TAIL(&requests_all, req, all_entry);
	if (req->op == PROTO_OP_STATUS)
		peer->nstatus++;
	return req;
}

static void
request_unlink_peer(struct request *req)
{
	int k;

	if (req->peer == NULL)
		return;
	TAILQ_REMOVE(&req->peer->requests, req, peer_entry);
	req->peer->nrequests--;
	if (req->op == PROTO_OP_STATUS)
		req->peer->nstatus--;
	else if (request_has_jobs(req)) {
		req->peer->njobs -= req->pending;
		for (k = 0; k < control_shards()->n; k++)
			req->peer->shard_jobs[k] -= req->shard_jobs[k];
	}
	req->peer = NULL;
}

/* Close what fds holds; it holds nothing then. */
static void
request_fds_close(struct request_fds *fds)
{
	size_t i;

	for (i = 0; i < fds->n; i++)
		if (fds->fd[i] != -1)
			peer_fd_close(fds->fd[i]);
	fds->n = 0;
}

static void
request_fds_move(struct request_fds *to, struct request_fds *from)
{
	request_fds_close(to);
	*to = *from;
	from->n = 0;
}

/* What is wrong with descriptor i for its role, or NULL.  fstat and
 * getsockopt do not block, whatever the descriptor is. */
static const char *
request_fd_problem(const struct request_fds *fds, size_t i, char *buf,
		   size_t len)
{
	struct stat st;
	int fl, domain;
	socklen_t sl = sizeof(domain);

	if (fstat(fds->fd[i], &st) == -1) {
		snprintf(buf, len, "fstat: %s", strerror(errno));
		return buf;
	}
	switch (fds->role[i]) {
	case PROTO_FD_KEY:
		if (!S_ISREG(st.st_mode))
			return "not a regular file";
		if (st.st_size > REQUEST_MAX_KEY_BYTES) {
			snprintf(buf, len, "%lld bytes, more than %d",
				 (long long)st.st_size, REQUEST_MAX_KEY_BYTES);
			return buf;
		}
		fl = fcntl(fds->fd[i], F_GETFL);
		if (fl == -1 || (fl & O_ACCMODE) == O_WRONLY)
			return "not open for reading";
		return NULL;
	case PROTO_FD_AGENT:
		if (!S_ISSOCK(st.st_mode))
			return "not a socket";
		if (getsockopt(fds->fd[i], SOL_SOCKET, SO_DOMAIN, &domain,
			       &sl) == -1 ||
		    domain != AF_UNIX)
			return "not a Unix socket";
		return NULL;
	default:
		return "unknown role";
	}
}

/* Descriptor i of the request's, by role: the first index of role, and
 * -1 (answered) when there are two. */
static int
request_fd_of(struct peer *peer, const struct proto_request *preq,
	      const struct request_fds *fds, enum proto_fd_role role,
	      size_t *at)
{
	size_t i;

	*at = fds->n;
	for (i = 0; i < fds->n; i++) {
		if (fds->role[i] != role)
			continue;
		if (*at != fds->n) {
			peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
				   "fds[%zu] (%s): one per request", i,
				   proto_fd_role_name(role));
			return -1;
		}
		*at = i;
	}
	return 0;
}

/* The whole key file at fds[key] in buf (a regular file of at most
 * REQUEST_MAX_KEY_BYTES, checked before: no wait), its length in *n; -1
 * once answered. */
static int
request_read_key(struct peer *peer, const struct proto_request *preq,
		 const struct request_fds *fds, size_t key, char *buf,
		 size_t size, size_t *n)
{
	ssize_t got;

	*n = 0;
	while (*n < size - 1 && (got = pread(fds->fd[key], buf + *n,
					     size - 1 - *n, (off_t)*n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
				   "fds[%zu] (key): %s", key, strerror(errno));
			explicit_bzero(buf, *n);
			return -1;
		}
		*n += (size_t)got;
	}
	buf[*n] = '\0';
	return 0;
}

/* Release a credential made by request_cred that no request holds: its
 * agent link goes with it. */
static void
request_cred_drop(struct cred *cred)
{
	if (cred != NULL && cred->agent_link != 0) {
		agent_link_close(cred->agent_link);
		peer_uid_agent_put((uid_t)cred->uid);
	}
	cred_unref(cred);
}

/* The agent at fds[i] (taken) as a shared link of the broker, within the
 * user's MaxAgentsPerUser: its id, or 0 once the request was answered. */
static uint64_t
request_agent_link(struct peer *peer, const struct proto_request *preq,
		   struct request_fds *fds, size_t i)
{
	size_t max = control_max_agents_per_user();
	uint64_t link;
	int fd = fds->fd[i];

	fds->fd[i] = -1;
	if (!peer_uid_agent_take(peer->uid, max)) {
		peer_fd_close(fd);
		peer_error(peer, preq->id, PROTO_E_LIMIT,
			   "fds[%zu] (agent): the user's running requests "
			   "hold %zu agents, the limit (MaxAgentsPerUser)",
			   i, max);
		return 0;
	}
	if ((link = agent_link_open(fd)) == 0) {
		peer_uid_agent_put(peer->uid);
		peer_error(peer, preq->id, PROTO_E_LIMIT,
			   "fds[%zu] (agent): the daemon's agent broker holds "
			   "its limit of agent connections",
			   i);
	}
	return link;
}

/*
 * The client's own credential from the request's descriptors and its
 * password: 0 and *out (NULL when it passed none), or the code once the
 * request was answered.  One key and one agent at most.  The agent's
 * descriptor becomes a shared link of the agent broker, which the request
 * holds until it ends (request_free, or its client going away).
 * AllowClientCredentials no refuses them all.
 */
static enum proto_code
request_cred(struct peer *peer, const struct proto_request *preq,
	     struct request_fds *fds, struct cred **out)
{
	char buf[REQUEST_MAX_KEY_BYTES + 1], why[200];
	size_t key, agent, n = 0;
	uint64_t link = 0;

	*out = NULL;
	if ((fds->n > 0 || preq->password != NULL) &&
	    !control_config()->allow_client_creds) {
		peer_error(peer, preq->id, PROTO_E_FORBIDDEN,
			   "this daemon takes no credentials from clients "
			   "(AllowClientCredentials no)");
		return PROTO_E_FORBIDDEN;
	}
	if (request_fd_of(peer, preq, fds, PROTO_FD_KEY, &key) == -1 ||
	    request_fd_of(peer, preq, fds, PROTO_FD_AGENT, &agent) == -1)
		return PROTO_E_BAD_REQUEST;
	if (preq->forward_agent && agent == fds->n) {
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
			   "forward_agent: only the client's own agent is "
			   "forwarded, and the request passed none (an "
			   "\"agent\" descriptor)");
		return PROTO_E_BAD_REQUEST;
	}
	if (key == fds->n && agent == fds->n && preq->password == NULL)
		return PROTO_E_NONE;
	if (key != fds->n &&
	    request_read_key(peer, preq, fds, key, buf, sizeof(buf), &n) == -1)
		return PROTO_E_BAD_REQUEST;
	if (agent != fds->n &&
	    (link = request_agent_link(peer, preq, fds, agent)) == 0) {
		explicit_bzero(buf, n);
		return PROTO_E_LIMIT;
	}
	*out = cred_new((unsigned)peer->uid, key != fds->n ? buf : NULL, n,
			preq->password, link, why, sizeof(why));
	explicit_bzero(buf, n);
	if (*out == NULL) {
		if (link != 0) {
			agent_link_close(link);
			peer_uid_agent_put(peer->uid);
		}
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
			   "fds[%zu] (key): %s", key, why);
		return PROTO_E_BAD_REQUEST;
	}
	log_debug("client fd=%d id=%s: its own credential, %s", peer->fd,
		  preq->id, (*out)->id);
	return PROTO_E_NONE;
}

/* 0 if every descriptor fits its role, else the request is answered. */
static int
request_fds_check(struct peer *peer, const struct proto_request *preq,
		  const struct request_fds *fds)
{
	char buf[128], list[PROTO_MAX_FDS * 8] = "";
	const char *why;
	size_t i;

	for (i = 0; i < fds->n; i++) {
		if ((why = request_fd_problem(fds, i, buf, sizeof(buf))) ==
		    NULL)
			continue;
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
			   "fds[%zu] (%s): %s", i,
			   proto_fd_role_name(fds->role[i]), why);
		return -1;
	}
	if (fds->n == 0)
		return 0;
	for (i = 0; i < fds->n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i > 0 ? ", " : "",
			 proto_fd_role_name(fds->role[i]));
	log_debug("client fd=%d id=%s fds accepted: %s", peer->fd, preq->id,
		  list);
	return 0;
}

/* The client's agent serves the request only while both live. */
static void
request_release_agent(struct request *req)
{
	if (req->agent_link != 0) {
		agent_link_close(req->agent_link);
		peer_uid_agent_put(req->uid);
	}
	req->agent_link = 0;
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
	free(req->shard_jobs);
	if (req->timer != NULL)
		event_free(req->timer);
	request_fds_close(&req->fds);
	request_release_agent(req);
	free(req);
}

/* A new tracked request must fit under the client's limits. */
static int
request_admit(struct peer *peer, const struct proto_request *preq)
{
	size_t max = control_max_requests();

	if (peer->nrequests >= max) {
		peer_error(peer, preq->id, PROTO_E_LIMIT,
			   "too many requests in flight (MaxRequestsPerClient "
			   "%zu)",
			   max);
		return -1;
	}
	if (preq->op == PROTO_OP_STATUS &&
	    peer->nstatus >= REQUEST_MAX_STATUS) {
		peer_error(peer, preq->id, PROTO_E_LIMIT,
			   "too many status requests in flight (at most %d)",
			   REQUEST_MAX_STATUS);
		return -1;
	}
	return 0;
}

static void
request_exec(struct peer *peer, struct proto_request *preq,
	     struct request_fds *fds)
{
	size_t i;

	if (request_find(peer, preq->id) != NULL) {
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST, "duplicate id");
		return;
	}
	/* A cancel only makes a running request end sooner. */
	if (control_stopping() && preq->op != PROTO_OP_CANCEL) {
		peer_error(peer, preq->id, PROTO_E_SHUTDOWN,
			   "sshpoold is shutting down");
		return;
	}
	if (request_fds_check(peer, preq, fds) == -1)
		return;
	for (i = 0; i < sizeof(request_ops) / sizeof(request_ops[0]); i++) {
		if (request_ops[i].op != preq->op)
			continue;
		log_debug("client fd=%d id=%s op=%s", peer->fd, preq->id,
			  proto_op_name(preq->op));
		if (request_ops[i].exec(peer, preq, fds) != 0)
			log_debug("client fd=%d id=%s refused", peer->fd,
				  preq->id);
		return;
	}
	peer_error(peer, preq->id, PROTO_E_INTERNAL,
		   "operation %s is not implemented", proto_op_name(preq->op));
}

void
request_dispatch(struct peer *peer, struct proto_request *preq,
		 struct request_fds *fds)
{
	request_exec(peer, preq, fds);
	/* Whatever no request took: a refused line's, say. */
	request_fds_close(fds);
}

static int
request_hello(struct peer *peer, struct proto_request *preq,
	      struct request_fds *fds)
{
	struct proto_buf b;

	if (preq->version_min > PROTO_VERSION ||
	    preq->version_max < PROTO_VERSION) {
		peer_error(peer, preq->id, PROTO_E_UNSUPPORTED_VERSION,
			   "supported protocol versions: %d", PROTO_VERSION);
		return -1;
	}
	proto_buf_init(&b);
	if (proto_ev_hello(&b, preq->id, PROTO_VERSION,
			   "sshpoold/" SSHPOOL_VERSION, &peer->limits) == -1)
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

static void
request_hosts_free(struct request_hosts *hosts)
{
	free(hosts->v);
	free(hosts->text);
	memset(hosts, 0, sizeof(*hosts));
}

/* Copy s and its NUL to the buffer; a spec's parts never outgrow it. */
static const char *
request_hosts_copy(struct request_hosts *hosts, size_t *off, size_t size,
		   const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = hosts->text + *off;

	if (len > size - *off)
		fatalx("a host spec's parts are longer than the spec");
	memcpy(p, s, len);
	*off += len;
	return p;
}

/* Parse every host of preq, or answer the first bad one and return -1. */
static int
request_hosts_parse(struct peer *peer, const struct proto_request *preq,
		    struct request_hosts *hosts)
{
	struct proto_hostspec spec;
	struct proto_error err;
	struct request_host *h;
	size_t i, off = 0, size = 0;

	for (i = 0; i < preq->nhosts; i++)
		size += strlen(preq->hosts[i]) + 2;
	hosts->v = xcalloc(preq->nhosts, sizeof(*hosts->v));
	hosts->text = xmalloc(size);
	hosts->n = 0;
	for (i = 0; i < preq->nhosts; i++) {
		if (proto_hostspec_parse(preq->hosts[i], &spec, &err) == -1) {
			peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
				   "hosts[%zu]: %s", i, err.message);
			request_hosts_free(hosts);
			return -1;
		}
		h = &hosts->v[hosts->n++];
		h->user = request_hosts_copy(hosts, &off, size, spec.user);
		h->host = request_hosts_copy(hosts, &off, size, spec.host);
		h->port = spec.port;
	}
	return 0;
}

/* Every host must be valid before any job is sent; on success hosts holds
 * them parsed, for the caller to free. */
static int
request_check_hosts(struct peer *peer, const struct proto_request *preq,
		    struct request_hosts *hosts)
{
	if (preq->nhosts == 0) {
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
			   "hosts: expected at least one host");
		return -1;
	}
	if (request_hosts_parse(peer, preq, hosts) == -1)
		return -1;
	if (request_check_duplicates(peer, preq) == -1) {
		request_hosts_free(hosts);
		return -1;
	}
	return 0;
}

/* Resolve the host's settings and hand its job to the owning worker. */
static void
request_post_job(struct request *req, const struct proto_request *preq,
		 const struct request_hosts *hosts, size_t i,
		 enum job_kind kind, struct job_input *input, struct cred *cred)
{
	const struct request_host *spec = &hosts->v[i];
	struct config_host_opts opts;
	struct job_spec *job;
	struct msg *m;
	const char *user;
	int port, k;

	config_host(control_config(), spec->host, &opts);
	if (spec->user[0] != '\0')
		user = spec->user;
	else if (preq->user != NULL)
		user = preq->user;
	else
		user = opts.user;
	port = spec->port != 0 ? spec->port : opts.port;

	job = xcalloc(1, sizeof(*job));
	job->kind = kind;
	job->req = req;
	job->flow = flow_ref(req->peer->flow);
	memcpy(job->id, req->id, sizeof(job->id));
	job->uid = (unsigned)req->uid;
	job->hostarg = xstrdup(preq->hosts[i]);
	job->params = host_params_new(&opts, user, spec->host, port);
	if (cred != NULL)
		host_params_set_cred(job->params, cred);
	jump_chain(control_config(), preq->jump, job->params);
	if (input != NULL)
		job->input = job_input_ref(input);

	m = msg_new(MSG_JOB);
	m->req = req;
	m->job = job;
	k = shards_index(control_shards(), job->params->pool);
	req->shard_jobs[k]++;
	req->peer->shard_jobs[k]++;
	shards_post(control_shards(), k, m);
}

/*
 * The command for the audit log: at most max bytes (not cutting a UTF-8
 * sequence), "..." when cut, quotes, backslashes and control characters
 * escaped so one request stays one parseable log line.
 */
static char *
request_audit_command(const char *cmd, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(cmd), n = len < max ? len : max, i;
	unsigned char c;
	char *out, *o;

	while (n < len && n > 0 && ((unsigned char)cmd[n] & 0xc0) == 0x80)
		n--;
	o = out = xmalloc(n * 4 + sizeof("..."));
	for (i = 0; i < n; i++) {
		c = (unsigned char)cmd[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else
			*o++ = (char)c;
	}
	if (n < len) {
		memcpy(o, "...", 3);
		o += 3;
	}
	*o = '\0';
	return out;
}

/*
 * Never the values of env or the bytes of stdin: only how many.  With
 * AuditCommandLength 0 the command's text is left out, its length kept.
 */
static void
request_audit_start(const struct request *req, const struct proto_request *preq,
		    size_t nforbidden)
{
	size_t max = control_audit_command_max();
	char *cmd;

	if (preq->op == PROTO_OP_RUN && preq->command != NULL && max == 0) {
		log_info("audit: client uid=%u pid=%ld id=%s op=%s hosts=%zu "
			 "command_bytes=%zu env=%zu stdin_bytes=%zu "
			 "forbidden=%zu",
			 (unsigned)req->uid, (long)req->pid, req->id,
			 proto_op_name(req->op), req->hosts,
			 strlen(preq->command), preq->nenv,
			 preq->stdin_data != NULL ? preq->stdin_len : 0,
			 nforbidden);
		return;
	}
	if (preq->op != PROTO_OP_RUN || preq->command == NULL) {
		log_info("audit: client uid=%u pid=%ld id=%s op=%s hosts=%zu "
			 "forbidden=%zu",
			 (unsigned)req->uid, (long)req->pid, req->id,
			 proto_op_name(req->op), req->hosts, nforbidden);
		return;
	}
	cmd = request_audit_command(preq->command, max);
	log_info("audit: client uid=%u pid=%ld id=%s op=%s hosts=%zu "
		 "command=\"%s\" env=%zu stdin_bytes=%zu forbidden=%zu",
		 (unsigned)req->uid, (long)req->pid, req->id,
		 proto_op_name(req->op), req->hosts, cmd, preq->nenv,
		 preq->stdin_data != NULL ? preq->stdin_len : 0, nforbidden);
	free(cmd);
}

static void
request_audit_refused(const struct peer *peer, const struct proto_request *preq,
		      enum proto_code code)
{
	log_info("audit: refused uid=%u pid=%ld id=%s op=%s hosts=%zu code=%s",
		 (unsigned)peer->uid, (long)peer->pid, preq->id,
		 proto_op_name(preq->op), preq->nhosts, proto_code_name(code));
}

static void
request_audit_done(const struct request *req, const struct proto_done *d,
		   const char *end)
{
	log_info("audit: done uid=%u pid=%ld id=%s hosts=%zu ok=%zu "
		 "failed=%zu errors=%zu forbidden=%zu duration_ms=%lld%s",
		 (unsigned)req->uid, (long)req->pid, req->id, d->hosts, d->ok,
		 d->failed, d->errors, req->forbidden, d->duration_ms, end);
}

/* The remote user a job on host i logs in as, and the host's own. */
static const char *
request_login(const struct proto_request *preq,
	      const struct request_hosts *hosts, size_t i,
	      const char **def_user)
{
	const struct request_host *spec = &hosts->v[i];
	struct config_host_opts opts;

	config_host(control_config(), spec->host, &opts);
	*def_user = opts.user;
	if (spec->user[0] != '\0')
		return spec->user;
	if (preq->user != NULL)
		return preq->user;
	return opts.user;
}

/* In a forbidden verdict: the refused one is a jump host of the target. */
#define REQUEST_FORBIDDEN_HOP 0x10

/*
 * A jump host of host the client may not use (each hop passes the
 * policy as a target would): 1 with the first such hop in *hop (unless
 * NULL) and its verdict in *v, else 0.
 */
static int
request_refused_hop(struct peer *peer, const struct proto_request *preq,
		    const char *host, struct jump_hop *hop,
		    enum policy_verdict *v)
{
	struct jump_hop hops[CONFIG_MAX_JUMP_HOPS];
	size_t n, which = 0;

	n = jump_hops(control_config(), preq->jump, host, hops);
	*v = policy_allows_hops(control_policy(), peer_policy(peer), hops, n,
				&which);
	if (*v == POLICY_OK)
		return 0;
	if (hop != NULL)
		*hop = hops[which];
	return 1;
}

/* The refusal of host's jump host, for its error event. */
static void
request_forbid_hop(struct peer *peer, const struct proto_request *preq,
		   const char *host, char *message, size_t size)
{
	struct jump_hop hop;
	enum policy_verdict v;

	if (!request_refused_hop(peer, preq, host, &hop, &v)) {
		snprintf(message, size, "user %s may not use a jump host of %s",
			 peer->user, host);
		return;
	}
	if (v == POLICY_USER)
		snprintf(message, size,
			 "user %s may not log in as %s on jump host %s of %s "
			 "(%s users=)",
			 peer->user, hop.user, hop.host, host,
			 policy_view_kind(peer_policy(peer)));
	else
		snprintf(message, size,
			 "user %s may not use jump host %s to reach %s (%s)",
			 peer->user, hop.host, host,
			 policy_view_kind(peer_policy(peer)));
}

/*
 * Mark the hosts the client may not use with the policy's verdict (a
 * POLICY_* other than POLICY_OK, with REQUEST_FORBIDDEN_HOP when it is
 * about one of the host's jump hosts); returns how many.
 */
static size_t
request_policy(struct peer *peer, const struct proto_request *preq,
	       const struct request_hosts *hosts, char *forbidden)
{
	const struct policy *pol = control_policy();
	const struct policy_view *view = peer_policy(peer);
	const char *user, *def_user;
	enum policy_verdict v;
	size_t i, n = 0;

	if (!policy_view_limited(view))
		return 0;
	for (i = 0; i < hosts->n; i++) {
		user = request_login(preq, hosts, i, &def_user);
		v = policy_allows(pol, view, hosts->v[i].host, user, def_user);
		if (v == POLICY_OK &&
		    request_refused_hop(peer, preq, hosts->v[i].host, NULL, &v))
			forbidden[i] = (char)(v | REQUEST_FORBIDDEN_HOP);
		else if (v != POLICY_OK)
			forbidden[i] = (char)v;
		else
			continue;
		n++;
	}
	return n;
}

/* A refused host ends here, as if a worker had reported the error. */
static void
request_forbid(struct request *req, const struct proto_request *preq,
	       const struct request_hosts *hosts, size_t i,
	       enum policy_verdict v)
{
	const char *host = hosts->v[i].host, *user, *def_user;
	struct peer *peer = req->peer;
	char message[PROTO_MAX_MESSAGE];
	const char *verb = req->op == PROTO_OP_RUN       ? "run on"
			   : req->op == PROTO_OP_CONNECT ? "connect to"
							 : "disconnect from";
	struct proto_buf b;

	if ((int)v & REQUEST_FORBIDDEN_HOP)
		request_forbid_hop(peer, preq, host, message, sizeof(message));
	else if (v == POLICY_USER) {
		user = request_login(preq, hosts, i, &def_user);
		snprintf(message, sizeof(message),
			 "user %s may not log in as %s on %s (%s users=)",
			 peer->user, user, host,
			 policy_view_kind(peer_policy(peer)));
	} else if (v == POLICY_UNKNOWN)
		snprintf(message, sizeof(message),
			 "user %s may not %s %s: its account or groups "
			 "cannot be looked up (UserHosts/GroupHosts)",
			 peer->user, verb, host);
	else
		snprintf(message, sizeof(message), "user %s may not %s %s (%s)",
			 peer->user, verb, host,
			 policy_view_kind(peer_policy(peer)));
	proto_buf_init(&b);
	if (proto_ev_error(&b, req->id, preq->hosts[i], PROTO_E_FORBIDDEN,
			   message, 0) == -1)
		fatalx("cannot encode an error event");
	peer_write_buf(peer, &b);
	log_verbose("client uid=%u pid=%ld id=%s host=%s forbidden: %s",
		    (unsigned)peer->uid, (long)peer->pid, req->id, host,
		    message);
	req->forbidden++;
	req->errors++;
	req->pending--;
}

/* The jobs must fit under MaxJobsPerClient and MaxJobs. */
static void
request_hosts_push(char ***v, size_t *n, size_t *cap, const char *host)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 64 : *cap * 2;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = xstrdup(host);
}

static int
request_cmp_hostp(const void *a, const void *b)
{
	const char *const *x = *(const char *const *const *)a;
	const char *const *y = *(const char *const *const *)b;
	int c = strcmp(*x, *y);

	/* Equal names: the earlier one first, so it is the one kept. */
	return c != 0 ? c : (x > y) - (x < y);
}

/* Drop later repeats of a host, keeping the order of first appearance. */
static size_t
request_hosts_dedup(char **v, size_t n)
{
	char ***p;
	size_t i, k;

	if (n < 2)
		return n;
	p = xcalloc(n, sizeof(*p));
	for (i = 0; i < n; i++)
		p[i] = &v[i];
	qsort(p, n, sizeof(*p), request_cmp_hostp);
	for (i = 1; i < n; i++) {
		if (*p[i - 1] != NULL && *p[i] != NULL &&
		    strcmp(*p[i - 1], *p[i]) == 0) {
			free(*p[i]);
			*p[i] = NULL;
			p[i] = p[i - 1]; /* compare the next with the kept */
		}
	}
	free(p);
	for (i = k = 0; i < n; i++)
		if (v[i] != NULL)
			v[k++] = v[i];
	return k;
}

/*
 * "@NAME" stands for the members of HostGroup NAME, less the request's
 * "exclude"; a member the request already names is not repeated.  The
 * request's hosts are replaced by the expansion.
 */
static int
request_expand_groups(struct peer *peer, struct proto_request *preq)
{
	const struct config *cfg = control_config();
	const struct config_group *g;
	char **v = NULL;
	size_t i, k, n = 0, cap = 0, max;
	int r;

	for (i = 0; i < preq->nhosts; i++)
		if (preq->hosts[i][0] == '@')
			break;
	if (i == preq->nhosts)
		return 0;
	for (i = 0; i < preq->nhosts; i++) {
		if (preq->hosts[i][0] != '@') {
			request_hosts_push(&v, &n, &cap, preq->hosts[i]);
			continue;
		}
		if ((g = config_group_find(cfg, preq->hosts[i] + 1)) == NULL) {
			peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
				   "hosts[%zu]: unknown host group \"%s\"", i,
				   preq->hosts[i] + 1);
			goto fail;
		}
		for (k = 0; k < g->n_hosts; k++) {
			/* The request's exclude budget covers its groups. */
			r = proto_exclude_match(preq->exclude_set, g->hosts[k]);
			if (r == -1) {
				peer_error(peer, preq->id, PROTO_E_LIMIT,
					   "exclude: matching the patterns "
					   "takes more than %u steps",
					   PROTO_MAX_EXCLUDE_STEPS);
				goto fail;
			}
			if (r == 0)
				request_hosts_push(&v, &n, &cap, g->hosts[k]);
		}
	}
	n = request_hosts_dedup(v, n);
	max = peer->limits.max_hosts;
	if (n > max) {
		peer_error(peer, preq->id, PROTO_E_LIMIT,
			   "hosts: %zu hosts after group expansion exceed "
			   "MaxHostsPerRequest (%zu)",
			   n, max);
		goto fail;
	}
	if (n == 0) {
		peer_error(peer, preq->id, PROTO_E_BAD_REQUEST,
			   "hosts: every host is excluded");
		goto fail;
	}
	for (i = 0; i < preq->nhosts; i++)
		free(preq->hosts[i]);
	free(preq->hosts);
	preq->hosts = v;
	preq->nhosts = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -1;
}

static int
request_jobs_fit(struct peer *peer, const struct proto_request *preq,
		 size_t njobs)
{
	size_t max;

	max = control_max_jobs_per_client();
	if (njobs > max || peer->njobs > max - njobs) {
		peer_error(peer, preq->id, PROTO_E_LIMIT,
			   "too many jobs: this request needs %zu, the client "
			   "has %zu running (MaxJobsPerClient %zu)",
			   njobs, peer->njobs, max);
		return -1;
	}
	max = control_max_jobs();
	if (njobs > max || request_jobs_running > max - njobs) {
		peer_error(peer, preq->id, PROTO_E_LIMIT,
			   "too many jobs: this request needs %zu, the daemon "
			   "has %zu running (MaxJobs %zu)",
			   njobs, request_jobs_running, max);
		return -1;
	}
	return 0;
}

static int
request_jobs(struct peer *peer, struct proto_request *preq, enum job_kind kind,
	     struct request_fds *fds)
{
	struct request *req;
	struct request_hosts hosts;
	struct job_input *input = NULL;
	struct cred *cred;
	enum proto_code code;
	char *forbidden;
	size_t i, nforbidden, njobs;

	if (request_admit(peer, preq) == -1) {
		request_audit_refused(peer, preq, PROTO_E_LIMIT);
		return -1;
	}
	if (request_expand_groups(peer, preq) == -1) {
		request_audit_refused(peer, preq, PROTO_E_BAD_REQUEST);
		return -1;
	}
	if (request_check_hosts(peer, preq, &hosts) == -1) {
		request_audit_refused(peer, preq, PROTO_E_BAD_REQUEST);
		return -1;
	}
	if ((code = request_cred(peer, preq, fds, &cred)) != PROTO_E_NONE) {
		request_audit_refused(peer, preq, code);
		request_hosts_free(&hosts);
		return -1;
	}
	forbidden = xcalloc(preq->nhosts, 1);
	nforbidden = request_policy(peer, preq, &hosts, forbidden);
	njobs = preq->nhosts - nforbidden;
	if (request_jobs_fit(peer, preq, njobs) == -1) {
		request_audit_refused(peer, preq, PROTO_E_LIMIT);
		request_hosts_free(&hosts);
		free(forbidden);
		request_cred_drop(cred);
		return -1;
	}
	req = request_new(peer, preq, preq->nhosts);
	req->agent_link = cred != NULL ? cred->agent_link : 0;
	request_fds_move(&req->fds, fds);
	request_audit_start(req, preq, nforbidden);
	for (i = 0; i < preq->nhosts; i++) {
		if (forbidden[i])
			request_forbid(req, preq, &hosts, i,
				       (enum policy_verdict)forbidden[i]);
	}
	peer->njobs += njobs;
	request_jobs_running += njobs;
	/* One copy of command, env and stdin serves every host. */
	if (kind == JOB_RUN && njobs > 0)
		input = job_input_new(preq);
	for (i = 0; i < preq->nhosts; i++) {
		if (!forbidden[i])
			request_post_job(req, preq, &hosts, i, kind, input,
					 cred);
	}
	job_input_unref(input);
	cred_unref(cred);
	/* What the jobs need of the descriptors is in cred: once they are
	 * posted the request has no use for them. */
	request_fds_close(&req->fds);
	request_hosts_free(&hosts);
	free(forbidden);
	log_debug("client fd=%d id=%s %s hosts=%zu", peer->fd, req->id,
		  proto_op_name(req->op), req->hosts);
	/* Every host was refused: nothing will come back from the workers. */
	if (req->pending == 0)
		request_done(req);
	return 0;
}

static int
request_run(struct peer *peer, struct proto_request *preq,
	    struct request_fds *fds)
{
	return request_jobs(peer, preq, JOB_RUN, fds);
}

static int
request_connect(struct peer *peer, struct proto_request *preq,
		struct request_fds *fds)
{
	return request_jobs(peer, preq, JOB_CONNECT, fds);
}

static int
request_disconnect(struct peer *peer, struct proto_request *preq,
		   struct request_fds *fds)
{
	return request_jobs(peer, preq, JOB_DISCONNECT, fds);
}

static int
request_cancel(struct peer *peer, struct proto_request *preq,
	       struct request_fds *fds)
{
	struct request *target;
	struct proto_buf b;

	target = request_find(peer, preq->target);
	if (target != NULL && request_has_jobs(target))
		request_cancel_jobs(target);
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
request_status(struct peer *peer, struct proto_request *preq,
	       struct request_fds *fds)
{
	struct timeval tv = {STATUS_WAIT_MS / 1000,
			     (STATUS_WAIT_MS % 1000) * 1000};
	struct request *req;
	int n = control_shards()->n;

	if (request_admit(peer, preq) == -1)
		return -1;
	req = request_new(peer, preq, n > 0 ? (size_t)n : 0);
	if (n <= 0) {
		request_status_send(req);
		request_free(req);
		return 0;
	}
	req->replies = xcalloc(n, sizeof(*req->replies));
	shards_broadcast(control_shards(), MSG_STATUS, req);
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

	for (k = 0; k < control_shards()->n; k++) {
		seen = 0;
		for (i = 0; i < req->nreplies; i++)
			seen |= req->replies[i]->worker == k;
		if (seen)
			continue;
		memset(&sw, 0, sizeof(sw));
		sw.index = k;
		sw.hosts = sw.sessions = sw.jobs = -1;
		sw.heartbeat_age_ms =
		    shards_heartbeat_age_ms(control_shards(), k);
		sw.stuck = 1;
		proto_buf_init(&b);
		if (proto_status_worker(&b, &sw) == -1)
			fatalx("cannot build a status reply");
		request_join(workers, &b);
		proto_buf_free(&b);
		log_warnx("worker %d did not answer status within %d ms "
			  "(heartbeat %lld ms old)",
			  k, STATUS_WAIT_MS, sw.heartbeat_age_ms);
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
	d.duration_ms = clock_ms() - req->start_ms;
	request_audit_done(req, &d, "");
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
	int m_worker = m->worker;
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
	req->shard_jobs[m_worker]--;
	if (req->peer != NULL) {
		req->peer->njobs--;
		req->peer->shard_jobs[m_worker]--;
	}
	request_jobs_running--;
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
			request_cancel_jobs(req);
		request_release_agent(req);
		request_unlink_peer(req);
	}
}

/* At exit, requests still waiting for workers end with one error. */
void
request_shutdown_all(void)
{
	struct request *req;

	struct proto_done d;

	TAILQ_FOREACH(req, &requests_all, all_entry)
	{
		if (request_has_jobs(req)) {
			d.hosts = req->hosts;
			d.ok = req->ok;
			d.failed = req->failed;
			d.errors = req->errors;
			d.duration_ms = clock_ms() - req->start_ms;
			request_audit_done(req, &d, " ended=shutdown");
		}
		/* One terminal reply per request: an answered status has had
		 * it, and a status answered here gets no other. */
		if (req->peer != NULL && !req->answered)
			peer_error(req->peer, req->id, PROTO_E_SHUTDOWN,
				   "sshpoold is shutting down");
		if (req->op == PROTO_OP_STATUS)
			req->answered = 1;
	}
}

size_t
request_busy(void)
{
	struct request *req;
	size_t n = 0;

	TAILQ_FOREACH(req, &requests_all, all_entry)
	{
		if (request_has_jobs(req) ||
		    (req->peer != NULL && !req->answered))
			n++;
	}
	return n;
}

void
request_free_all(void)
{
	struct request *req;

	while ((req = TAILQ_FIRST(&requests_all)) != NULL)
		request_free(req);
}
