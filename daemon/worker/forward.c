/* SPDX-License-Identifier: ISC */
/*
 * Agent forwarding: an auth-agent@openssh.com channel that the server
 * opened for a job with ForwardAgent, bridged to the daemon's own agent
 * (IdentityAgent), or for a request with forward_agent to the client's
 * own (a relay on its request's link, which dies with the request),
 * through a FORWARD relay of the agent broker, which lets only listings
 * and signatures reach the agent.  The bytes go through a bridge
 * (bridge.c) on the connection's worker; when either side ends, both
 * close.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "agent.h"
#include "bridge.h"
#include "log.h"
#include "msg.h"
#include "conn.h"
#include "forward.h"
#include "host.h"
#include "xmalloc.h"

struct forward *
forward_new(struct conn *c, int num, const char *path, uint64_t link)
{
	struct forward *f;
	ssh_channel chan;

	/* Only allocates: libssh accepts the open with it on return. */
	if ((chan = ssh_channel_new(c->session)) == NULL)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->conn = c;
	f->num = num;
	f->chan = chan;
	f->state = FORWARD_CONNECT;
	f->link = link;
	snprintf(f->agent, sizeof(f->agent), "%s",
		 link != 0 || path == NULL ? "" : path);
	return f;
}

ssh_channel
forward_channel(const struct forward *f)
{
	return f->chan;
}

int
forward_done(const struct forward *f)
{
	return f->state == FORWARD_DONE;
}

static const char *
forward_key(const struct forward *f)
{
	return f->conn->host->params->key;
}

/* Let go of the relay: its socket closes, and the broker the relay. */
static void
forward_unrelay(struct forward *f)
{
	if (f->bridged)
		bridge_stop(&f->br);
	f->bridged = 0;
	if (f->relay != 0)
		agent_relay_close(f->relay);
	f->relay = 0;
}

void
forward_free(struct forward *f)
{
	if (f == NULL)
		return;
	forward_unrelay(f);
	/* A bridge freed before DONE goes with its session: ssh_free frees
	 * the channel. */
	if (f->chan != NULL && f->state == FORWARD_DONE)
		ssh_channel_free(f->chan);
	free(f);
}

static void
forward_close(struct forward *f, const char *why)
{
	log_verbose("host=%s conn=%llu: agent channel %d closed: %s",
		    forward_key(f), f->conn->id, f->num, why);
	forward_unrelay(f);
	f->state = FORWARD_CLOSING;
}

/* A FORWARD relay on the client's agent, or on a connection to the
 * daemon's: 0, or -1 (logged). */
static int
forward_relay(struct forward *f, int *fd_out)
{
	struct sockaddr_un sa;
	int fd;

	if (f->link != 0) {
		f->relay = agent_relay_attach(f->link, AGENT_RELAY_FORWARD,
					      NULL, 0, fd_out);
		if (f->relay == 0)
			log_info("host=%s conn=%llu: agent channel %d: the "
				 "client's agent is gone, or the broker is at "
				 "its limit",
				 forward_key(f), f->conn->id, f->num);
		return f->relay != 0 ? 0 : -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->agent);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		log_info("host=%s conn=%llu: agent channel %d: agent %s: %s",
			 forward_key(f), f->conn->id, f->num, f->agent,
			 strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	f->relay = agent_relay_open(fd, AGENT_RELAY_FORWARD, fd_out);
	if (f->relay == 0) {
		log_info("host=%s conn=%llu: agent channel %d: no relay free "
			 "(the daemon's agent broker is at its limit)",
			 forward_key(f), f->conn->id, f->num);
		return -1;
	}
	return 0;
}

/* Open the relay and bridge the channel to it; -1 when not. */
static int
forward_connect(struct forward *f)
{
	int fd;

	if (forward_relay(f, &fd) == -1)
		return -1;
	if (bridge_start(&f->br, f->conn, f->chan, fd) == -1)
		return -1;
	f->bridged = 1;
	log_verbose("host=%s conn=%llu: agent channel %d forwarded to %s",
		    forward_key(f), f->conn->id, f->num,
		    f->link != 0 ? "the client's agent" : f->agent);
	return 0;
}

int
forward_step(struct forward *f)
{
	const char *why;
	int moved;

	switch (f->state) {
	case FORWARD_CONNECT:
		if (forward_connect(f) == -1)
			forward_close(f, "the agent cannot be used");
		else
			f->state = FORWARD_OPEN;
		return 1;
	case FORWARD_OPEN:
		moved = bridge_step(&f->br);
		if ((why = bridge_ended(&f->br)) != NULL)
			forward_close(f, why);
		return moved || f->state != FORWARD_OPEN;
	case FORWARD_CLOSING:
		if (ssh_channel_close(f->chan) == SSH_AGAIN)
			return 0;
		f->state = FORWARD_DONE;
		return 1;
	case FORWARD_DONE:
		break;
	}
	return 0;
}
