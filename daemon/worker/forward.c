/* SPDX-License-Identifier: ISC */
/*
 * Agent forwarding: an auth-agent@openssh.com channel that the server
 * opened for a job with ForwardAgent, bridged to the daemon's own agent
 * (IdentityAgent), or for a request with forward_agent to the client's
 * own (a relay on its request's link, which dies with the request),
 * through a FORWARD relay of the agent broker, which lets only listings
 * and signatures reach the agent.  The bridge lives on its
 * connection's worker: the channel is read and written only from the
 * connection's pump (forward_step), the relay's socket from the loop too,
 * and each direction waits in one bounded buffer.  The channel is not read
 * while the socket's buffer is full, the socket not while the channel's is
 * (the SSH window or the session's unsent output holding it back); the
 * other side's flow control then stops the writer.  When either side ends,
 * both close.
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
#include "log.h"
#include "msg.h"
#include "conn.h"
#include "forward.h"
#include "host.h"
#include "xmalloc.h"

static void forward_io_cb(evutil_socket_t, short, void *);

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
	f->fd = -1;
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
	if (f->ev != NULL) {
		event_free(f->ev);
		f->ev = NULL;
	}
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
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
forward_relay(struct forward *f)
{
	struct sockaddr_un sa;
	int fd;

	if (f->link != 0) {
		f->relay = agent_relay_attach(f->link, AGENT_RELAY_FORWARD,
					      NULL, 0, &f->fd);
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
	f->relay = agent_relay_open(fd, AGENT_RELAY_FORWARD, &f->fd);
	if (f->relay == 0) {
		log_info("host=%s conn=%llu: agent channel %d: no relay free "
			 "(the daemon's agent broker is at its limit)",
			 forward_key(f), f->conn->id, f->num);
		return -1;
	}
	return 0;
}

/* Open the relay and watch its socket; -1 when not. */
static int
forward_connect(struct forward *f)
{
	int fl;

	if (forward_relay(f) == -1)
		return -1;
	if ((fl = fcntl(f->fd, F_GETFL)) == -1 ||
	    fcntl(f->fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("host=%s conn=%llu: agent channel %d: fcntl",
			 forward_key(f), f->conn->id, f->num);
		return -1;
	}
	f->ev = event_new(f->conn->w->base, -1, 0, forward_io_cb, f);
	if (f->ev == NULL)
		fatalx("%s: event_new failed", __func__);
	log_verbose("host=%s conn=%llu: agent channel %d forwarded to %s",
		    forward_key(f), f->conn->id, f->num,
		    f->link != 0 ? "the client's agent" : f->agent);
	return 0;
}

/* Watch the relay's socket for what the buffers and the window allow
 * (no libssh call: also from the loop). */
static void
forward_watch(struct forward *f)
{
	short flags = 0;

	if (f->ev == NULL)
		return;
	/* No room, or the window closed: the channel takes nothing now. */
	if (!f->sock_eof && f->to_chan_len < FORWARD_BUF_MAX && !f->shut)
		flags |= EV_READ;
	if (f->to_sock_len > 0)
		flags |= EV_WRITE;
	if (flags == f->ev_flags)
		return;
	event_del(f->ev);
	f->ev_flags = flags;
	if (flags == 0)
		return;
	event_assign(f->ev, f->conn->w->base, f->fd, flags | EV_PERSIST,
		     forward_io_cb, f);
	event_add(f->ev, NULL);
}

/* Socket side: read into to_chan, write out to_sock; 1 if anything
 * moved.  No libssh call. */
static int
forward_sock_io(struct forward *f, short what)
{
	ssize_t n;
	int moved = 0;

	if ((what & EV_READ) && !f->sock_eof &&
	    f->to_chan_len < FORWARD_BUF_MAX) {
		n = read(f->fd, f->to_chan + f->to_chan_len,
			 FORWARD_BUF_MAX - f->to_chan_len);
		if (n > 0) {
			f->to_chan_len += (size_t)n;
			moved = 1;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			f->sock_eof = 1;
			moved = 1;
		}
	}
	while (f->to_sock_len > 0 && !f->sock_eof) {
		n = write(f->fd, f->to_sock, f->to_sock_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			f->sock_eof = 1;
			break;
		}
		memmove(f->to_sock, f->to_sock + n, f->to_sock_len - (size_t)n);
		f->to_sock_len -= (size_t)n;
		moved = 1;
	}
	return moved;
}

/* The relay's socket is ready: move its bytes, and let the pump take
 * them to the channel. */
static void
forward_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward *f = arg;

	(void)fd;
	if (forward_sock_io(f, what))
		conn_poke(f->conn);
	else
		forward_watch(f);
}

/* Channel side; 1 if anything moved. */
static int
forward_chan_io(struct forward *f)
{
	uint32_t window;
	size_t len;
	int n, moved = 0;

	while (!f->chan_eof && f->to_sock_len < FORWARD_BUF_MAX) {
		n = ssh_channel_read_nonblocking(
		    f->chan, f->to_sock + f->to_sock_len,
		    (uint32_t)(FORWARD_BUF_MAX - f->to_sock_len), 0);
		if (n == SSH_EOF || n == SSH_ERROR) {
			f->chan_eof = 1;
			moved = 1;
			break;
		}
		if (n <= 0)
			break;
		f->to_sock_len += (size_t)n;
		moved = 1;
	}
	/* libssh buffers without bound what it is given: hand it more only
	 * once the session's output went to the socket. */
	len = f->to_chan_len;
	if (len > 0 &&
	    !(ssh_get_poll_flags(f->conn->session) & SSH_WRITE_PENDING)) {
		window = ssh_channel_window_size(f->chan);
		if (len > window)
			len = window;
		n = len > 0
			? ssh_channel_write(f->chan, f->to_chan, (uint32_t)len)
			: 0;
		if (n == SSH_ERROR)
			f->chan_eof = 1;
		else if (n > 0) {
			memmove(f->to_chan, f->to_chan + n,
				f->to_chan_len - (size_t)n);
			f->to_chan_len -= (size_t)n;
			moved = 1;
		}
	}
	return moved;
}

int
forward_step(struct forward *f)
{
	int moved;

	switch (f->state) {
	case FORWARD_CONNECT:
		if (forward_connect(f) == -1)
			forward_close(f, "the agent cannot be used");
		else
			f->state = FORWARD_OPEN;
		return 1;
	case FORWARD_OPEN:
		moved = forward_chan_io(f);
		/* A closed window: the socket is not read (forward_watch). */
		f->shut = ssh_channel_window_size(f->chan) == 0;
		moved |= forward_sock_io(f, EV_WRITE | (f->shut ? 0 : EV_READ));
		/* What the socket gave may go to the channel at once. */
		if (moved)
			moved |= forward_chan_io(f);
		if (f->chan_eof || ssh_channel_is_closed(f->chan))
			forward_close(f, "the server closed it");
		else if (f->sock_eof && f->to_chan_len == 0)
			forward_close(f, "the agent's relay closed");
		else
			forward_watch(f);
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
