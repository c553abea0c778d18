/* SPDX-License-Identifier: ISC */
/*
 * Requests: request id assignment, the table of requests still in flight,
 * and the sp_send_* calls, each of which encodes one request, checks it
 * with the daemon's own parser and limits, queues it (with duplicates of
 * the descriptors it passes, for sp_flush) and tries to write it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-int.h"

/* Queue the descriptors of the line about to be appended at out.len; the
 * client gets duplicates of the options' own. */
static int
client_send_attach(sp_client *c, const int *fds, size_t nfds, size_t len)
{
	struct sp_attach *a;
	size_t cap, i;

	if (nfds == 0)
		return 0;
	if (c->nattach == c->attach_cap) {
		cap = c->attach_cap == 0 ? 4 : c->attach_cap * 2;
		if ((a = realloc(c->attach, cap * sizeof *a)) == NULL) {
			client_seterr(c->err, sizeof c->err, "out of memory");
			return -1;
		}
		c->attach = a;
		c->attach_cap = cap;
	}
	a = &c->attach[c->nattach];
	a->off = c->out.len;
	a->end = c->out.len + len;
	for (a->nfds = 0; a->nfds < nfds; a->nfds++) {
		a->fds[a->nfds] = fcntl(fds[a->nfds], F_DUPFD_CLOEXEC, 0);
		if (a->fds[a->nfds] == -1) {
			client_seterr(c->err, sizeof c->err,
				      "descriptor %d: %s", fds[a->nfds],
				      strerror(errno));
			for (i = 0; i < a->nfds; i++)
				close(a->fds[i]);
			return -1;
		}
	}
	c->nattach++;
	return 0;
}

/* Undo the last client_send_attach. */
static void
client_send_attach_drop(sp_client *c)
{
	struct sp_attach *a = &c->attach[--c->nattach];
	size_t i;

	for (i = 0; i < a->nfds; i++)
		close(a->fds[i]);
}

static int
client_send_add_pending(sp_client *c, uint64_t id, enum proto_op op)
{
	struct sp_pending *p;
	size_t cap;

	if (c->npending == c->pending_cap) {
		cap = c->pending_cap == 0 ? 16 : c->pending_cap * 2;
		p = realloc(c->pending, cap * sizeof *p);
		if (p == NULL) {
			client_seterr(c->err, sizeof c->err, "out of memory");
			return -1;
		}
		c->pending = p;
		c->pending_cap = cap;
	}
	c->pending[c->npending].id = id;
	c->pending[c->npending].op = op;
	c->npending++;
	return 0;
}

void
client_send_remove_pending(sp_client *c, uint64_t id)
{
	size_t i;

	for (i = 0; i < c->npending; i++) {
		if (c->pending[i].id == id) {
			c->pending[i] = c->pending[--c->npending];
			return;
		}
	}
}

/*
 * Encode, validate with the daemon's parser and limits, queue and try to
 * write one request.  Validating our own line means a bad host spec or an
 * oversized request is reported here, with the daemon's exact wording.
 */
static int
client_send_request_fds(sp_client *c, struct proto_request *req, const int *fds,
			uint64_t *request_id)
{
	struct proto_buf line;
	struct proto_request *check = NULL;
	struct proto_error perr;
	uint64_t id;

	if (c->failed || c->closed) {
		if (c->err[0] == '\0')
			client_seterr(c->err, sizeof c->err,
				      "connection closed");
		return -1;
	}
	if (c->next_id > SP_MAX_ID) {
		client_seterr(c->err, sizeof c->err, "request ids exhausted");
		return -1;
	}
	id = c->next_id;
	proto_id_from_u64(req->id, id);

	proto_buf_init(&line);
	if (proto_request_encode(&line, req) == -1) {
		client_seterr(c->err, sizeof c->err,
			      "cannot encode %s request: %s",
			      proto_op_name(req->op), strerror(errno));
		proto_buf_free(&line);
		return -1;
	}
	if (line.len == 0 || line.data[line.len - 1] != '\n') {
		client_seterr(c->err, sizeof c->err,
			      "encoded %s request is not a line",
			      proto_op_name(req->op));
		proto_buf_free(&line);
		return -1;
	}
	if (line.len - 1 > c->limits.max_line) {
		client_seterr(c->err, sizeof c->err,
			      "%s request is %zu bytes, the daemon accepts "
			      "at most %zu",
			      proto_op_name(req->op), line.len - 1,
			      c->limits.max_line);
		proto_buf_free(&line);
		return -1;
	}
	memset(&perr, 0, sizeof perr);
	if (proto_request_parse(line.data, line.len - 1, &c->limits, &check,
				&perr) == -1) {
		client_seterr(c->err, sizeof c->err, "%s", perr.message);
		proto_buf_free(&line);
		return -1;
	}
	proto_request_free(check);

	if (client_send_add_pending(c, id, req->op) == -1) {
		client_seterr(c->err, sizeof c->err, "out of memory");
		proto_buf_free(&line);
		return -1;
	}
	if (client_send_attach(c, fds, req->nfds, line.len) == -1) {
		client_send_remove_pending(c, id);
		proto_buf_free(&line);
		return -1;
	}
	if (proto_buf_append(&c->out, line.data, line.len) == -1) {
		if (req->nfds > 0)
			client_send_attach_drop(c);
		client_send_remove_pending(c, id);
		client_seterr(c->err, sizeof c->err, "out of memory");
		proto_buf_free(&line);
		return -1;
	}
	proto_buf_free(&line);
	c->next_id++;
	if (request_id != NULL)
		*request_id = id;
	if (sp_flush(c) == -1) {
		/* Queued but the connection is gone: the caller learns it
		 * now rather than from the next call. */
		return -1;
	}
	return 0;
}

static int
client_send_request(sp_client *c, struct proto_request *req,
		    uint64_t *request_id)
{
	return client_send_request_fds(c, req, NULL, request_id);
}

/* The options' descriptors and their roles into req (run, connect). */
static void
client_send_opts_fds(struct proto_request *req, const sp_run_opts *o)
{
	memcpy(req->fds, o->fd_roles, o->nfds * sizeof req->fds[0]);
	req->nfds = o->nfds;
}

int
client_send_hello(sp_client *c)
{
	struct proto_request req;

	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_HELLO;
	req.version_min = req.version_max = PROTO_VERSION;
	req.client = (char *)SP_CLIENT_NAME;
	return client_send_request(c, &req, &c->hello_id);
}

int
sp_send_run(sp_client *c, const sp_run_opts *o, uint64_t *request_id)
{
	struct proto_request req;

	if (o == NULL) {
		client_seterr(c->err, sizeof c->err, "no run options");
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_RUN;
	req.hosts = o->hosts;
	req.nhosts = o->nhosts;
	req.exclude = o->exclude;
	req.nexclude = o->nexclude;
	req.user = o->user;
	req.jump = o->jump;
	req.password = o->password;
	req.command = o->command;
	req.timeout_ms = o->timeout_ms;
	req.idle_timeout_ms = o->idle_timeout_ms;
	req.pty = o->pty;
	req.forward_agent = o->forward_agent;
	req.env = o->env;
	req.nenv = o->nenv;
	req.stdin_data = o->stdin_data;
	req.stdin_len = o->stdin_len;
	client_send_opts_fds(&req, o);
	if (o->nhosts == 0) {
		client_seterr(c->err, sizeof c->err, "run: no hosts");
		return -1;
	}
	if (o->command == NULL) {
		client_seterr(c->err, sizeof c->err, "run: no command");
		return -1;
	}
	return client_send_request_fds(c, &req, o->fds, request_id);
}

int
sp_send_connect(sp_client *c, const char *const *hosts, size_t nhosts,
		const char *user, uint64_t *request_id)
{
	struct proto_request req;

	if (hosts == NULL || nhosts == 0) {
		client_seterr(c->err, sizeof c->err, "connect: no hosts");
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_CONNECT;
	/* The codec takes char ** but only reads the strings. */
	req.hosts = (char **)(uintptr_t)hosts;
	req.nhosts = nhosts;
	req.user = (char *)(uintptr_t)user;
	return client_send_request(c, &req, request_id);
}

/* connect and disconnect take hosts, exclude and user from run options. */
static int
client_send_hosts(sp_client *c, enum proto_op op, const sp_run_opts *o,
		  uint64_t *request_id)
{
	struct proto_request req;

	if (o == NULL || o->nhosts == 0) {
		client_seterr(c->err, sizeof c->err, "%s: no hosts",
			      proto_op_name(op));
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = op;
	req.hosts = o->hosts;
	req.nhosts = o->nhosts;
	req.exclude = o->exclude;
	req.nexclude = o->nexclude;
	req.user = o->user;
	req.jump = o->jump;
	req.password = o->password;
	/* A disconnect's key names the pools it opened. */
	client_send_opts_fds(&req, o);
	return client_send_request_fds(c, &req, o->fds, request_id);
}

int
sp_send_connect_opts(sp_client *c, const sp_run_opts *o, uint64_t *request_id)
{
	return client_send_hosts(c, PROTO_OP_CONNECT, o, request_id);
}

int
sp_send_disconnect(sp_client *c, const sp_run_opts *o, uint64_t *request_id)
{
	return client_send_hosts(c, PROTO_OP_DISCONNECT, o, request_id);
}

int
sp_send_hello(sp_client *c, uint64_t *request_id)
{
	struct proto_request req;

	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_HELLO;
	req.version_min = req.version_max = PROTO_VERSION;
	req.client = (char *)SP_CLIENT_NAME;
	return client_send_request(c, &req, request_id);
}

int
sp_send_cancel(sp_client *c, uint64_t target, uint64_t *request_id)
{
	struct proto_request req;

	if (target == 0) {
		client_seterr(c->err, sizeof c->err,
			      "cancel: invalid target id");
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_CANCEL;
	proto_id_from_u64(req.target, target);
	return client_send_request(c, &req, request_id);
}

int
sp_send_status(sp_client *c, uint64_t *request_id)
{
	struct proto_request req;

	memset(&req, 0, sizeof req);
	req.op = PROTO_OP_STATUS;
	return client_send_request(c, &req, request_id);
}
