/* SPDX-License-Identifier: ISC */
/*
 * Jump-host tunnels on the hop's side.  A tunnel waits in its host's
 * queue for a session with room (MaxTunnelsPerSession), opens a
 * direct-tcpip channel there to the target's address, and once the hop's
 * server accepts it bridges the channel to one end of a socketpair whose
 * other end goes back to the asking connection.  A refused open is the
 * target's proxy_refused; a hop that cannot be reached fails the tunnel
 * with proxy_failed, naming the hop.  When the hop's session goes, the
 * socket closes and the target's session reads end of file: its jobs end
 * as lost, as with a TCP connection that dies.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "clock.h"
#include "conn.h"
#include "host.h"
#include "log.h"
#include "msg.h"
#include "tunnel.h"
#include "worker.h"
#include "xmalloc.h"

struct tunnel *
tunnel_new(struct worker *w, struct host *h, struct tunnel_req *req)
{
	struct tunnel *t = xcalloc(1, sizeof(*t));

	t->w = w;
	t->host = h;
	t->req = req;
	t->state = TUNNEL_QUEUED;
	t->start_ms = clock_ms();
	return t;
}

void
tunnel_free(struct tunnel *t)
{
	if (t == NULL)
		return;
	if (t->bridged)
		bridge_stop(&t->br);
	if (!t->answered)
		worker_tunnel_answer(t->w, t->req, -1, PROTO_E_PROXY_FAILED,
				     "the jump host's pool went away");
	tunnel_req_free(t->req);
	free(t);
}

void
tunnel_fail(struct tunnel *t, enum proto_code code, const char *why)
{
	/* The hop's refusal and the daemon's own limit stay what they are;
	 * anything else is the hop failing. */
	enum proto_code out =
	    code == PROTO_E_PROXY_REFUSED || code == PROTO_E_LIMIT
		? code
		: PROTO_E_PROXY_FAILED;
	char msg[640];

	snprintf(msg, sizeof(msg), "jump host %s: %s%s%s", t->host->params->key,
		 out == PROTO_E_PROXY_FAILED ? proto_code_name(code) : "",
		 out == PROTO_E_PROXY_FAILED ? ": " : "", why);
	log_info("host=%s: tunnel to %s:%d for %s failed: %s",
		 t->host->params->key, t->req->host, t->req->port,
		 t->req->target, why);
	worker_tunnel_answer(t->w, t->req, -1, out, msg);
	t->answered = 1;
	tunnel_free(t);
}

void
tunnel_attach(struct tunnel *t, struct conn *c)
{
	t->conn = c;
	t->state = TUNNEL_OPENING;
	if ((t->chan = ssh_channel_new(c->session)) == NULL)
		fatalx("%s: ssh_channel_new failed", __func__);
}

int
tunnel_done(const struct tunnel *t)
{
	return t->state == TUNNEL_DONE;
}

int
tunnel_conn_gone(struct tunnel *t)
{
	if (t->answered)
		return 1;
	/* libssh frees the channel with its session. */
	t->chan = NULL;
	t->conn = NULL;
	t->state = TUNNEL_QUEUED;
	return 0;
}

/* The server accepted the channel: bridge it and hand the other end of
 * the socketpair over. */
static void
tunnel_opened(struct tunnel *t)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("host=%s: tunnel socketpair", t->host->params->key);
		worker_tunnel_answer(t->w, t->req, -1, PROTO_E_LIMIT,
				     "the daemon is out of file descriptors "
				     "for a tunnel");
		t->answered = 1;
		t->state = TUNNEL_CLOSING;
		return;
	}
	if (bridge_start(&t->br, t->conn, t->chan, sv[0]) == -1) {
		close(sv[1]);
		worker_tunnel_answer(t->w, t->req, -1, PROTO_E_INTERNAL,
				     "the tunnel's socket could not be set up");
		t->answered = 1;
		t->state = TUNNEL_CLOSING;
		return;
	}
	t->bridged = 1;
	log_verbose("host=%s conn=%llu: tunnel to %s:%d for %s open in %lld ms",
		    t->host->params->key, t->conn->id, t->req->host,
		    t->req->port, t->req->target, clock_ms() - t->start_ms);
	worker_tunnel_answer(t->w, t->req, sv[1], PROTO_E_NONE, NULL);
	t->answered = 1;
	t->state = TUNNEL_OPEN;
}

/* The open failed with the session still up: the hop's server refused. */
static void
tunnel_refused(struct tunnel *t)
{
	char why[512];

	snprintf(why, sizeof(why),
		 "jump host %s refused a channel to %s:%d: %s",
		 t->host->params->key, t->req->host, t->req->port,
		 ssh_get_error(t->conn->session));
	log_info("host=%s conn=%llu: %s", t->host->params->key, t->conn->id,
		 why);
	worker_tunnel_answer(t->w, t->req, -1, PROTO_E_PROXY_REFUSED, why);
	t->answered = 1;
	t->state = TUNNEL_CLOSING;
}

static int
tunnel_session_gone(const struct tunnel *t)
{
	ssh_session s = t->conn->session;

	return !ssh_is_connected(s) || ssh_get_fd(s) == -1;
}

int
tunnel_expired(const struct tunnel *t)
{
	return !t->answered && clock_ms() > t->req->deadline_ms;
}

int
tunnel_step(struct tunnel *t)
{
	const char *why;
	int rc, moved;

	switch (t->state) {
	case TUNNEL_OPENING:
		rc = ssh_channel_open_forward(t->chan, t->req->host,
					      t->req->port, "127.0.0.1", 0);
		if (rc == SSH_AGAIN && tunnel_expired(t)) {
			/* The asker gave up: its slot is not held longer. */
			worker_tunnel_answer(t->w, t->req, -1,
					     PROTO_E_CONNECT_TIMEOUT,
					     "the jump host did not open the "
					     "channel in time");
			t->answered = 1;
			t->state = TUNNEL_CLOSING;
			return 1;
		}
		if (rc == SSH_AGAIN)
			return 0;
		if (rc == SSH_OK)
			tunnel_opened(t);
		else if (!tunnel_session_gone(t))
			tunnel_refused(t);
		/* Else the pump finds the session lost and requeues it. */
		return 1;
	case TUNNEL_OPEN:
		moved = bridge_step(&t->br);
		if ((why = bridge_ended(&t->br)) != NULL) {
			log_debug("host=%s conn=%llu: tunnel to %s:%d closed: "
				  "%s",
				  t->host->params->key, t->conn->id,
				  t->req->host, t->req->port, why);
			bridge_stop(&t->br);
			t->bridged = 0;
			t->state = TUNNEL_CLOSING;
			return 1;
		}
		return moved;
	case TUNNEL_CLOSING:
		if (ssh_channel_is_closed(t->chan) ||
		    ssh_channel_close(t->chan) != SSH_AGAIN) {
			ssh_channel_free(t->chan);
			t->chan = NULL;
			t->state = TUNNEL_DONE;
			return 1;
		}
		return 0;
	case TUNNEL_QUEUED:
	case TUNNEL_DONE:
		break;
	}
	return 0;
}
