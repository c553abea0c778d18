/* SPDX-License-Identifier: ISC */
/*
 * A channel bridged to a socket.  The socket is watched only for what the
 * buffers and the window allow: it is not read while the buffer toward the
 * channel is full or the channel's window is closed, and the channel is not
 * read while the buffer toward the socket is full; the other side's flow
 * control then stops the writer.  libssh buffers without bound whatever it
 * is given, so the channel is handed more only once the session's output
 * went to its socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "bridge.h"
#include "conn.h"
#include "log.h"

static void bridge_io_cb(evutil_socket_t, short, void *);

int
bridge_start(struct bridge *b, struct conn *c, ssh_channel chan, int fd)
{
	int fl;

	memset(b, 0, offsetof(struct bridge, to_sock));
	b->to_sock_len = b->to_chan_len = 0;
	b->conn = c;
	b->chan = chan;
	b->fd = fd;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("conn=%llu: bridge: fcntl", c->id);
		close(fd);
		b->fd = -1;
		return -1;
	}
	if ((b->ev = event_new(c->w->base, -1, 0, bridge_io_cb, b)) == NULL)
		fatalx("%s: event_new failed", __func__);
	return 0;
}

void
bridge_stop(struct bridge *b)
{
	if (b->ev != NULL) {
		event_free(b->ev);
		b->ev = NULL;
	}
	if (b->fd != -1)
		close(b->fd);
	b->fd = -1;
}

/* Watch the socket for what the buffers and the window allow (no libssh
 * call: also from the loop). */
static void
bridge_watch(struct bridge *b)
{
	short flags = 0;

	if (b->ev == NULL)
		return;
	if (!b->sock_eof && b->to_chan_len < BRIDGE_BUF_MAX && !b->shut)
		flags |= EV_READ;
	if (b->to_sock_len > 0 && !b->sock_eof)
		flags |= EV_WRITE;
	if (flags == b->ev_flags)
		return;
	event_del(b->ev);
	b->ev_flags = flags;
	if (flags == 0)
		return;
	event_assign(b->ev, b->conn->w->base, b->fd, flags | EV_PERSIST,
		     bridge_io_cb, b);
	event_add(b->ev, NULL);
}

/* Socket side: read into to_chan, write out to_sock; 1 if anything
 * moved.  No libssh call. */
static int
bridge_sock_io(struct bridge *b, short what)
{
	ssize_t n;
	int moved = 0;

	if ((what & EV_READ) && !b->sock_eof &&
	    b->to_chan_len < BRIDGE_BUF_MAX) {
		n = read(b->fd, b->to_chan + b->to_chan_len,
			 BRIDGE_BUF_MAX - b->to_chan_len);
		if (n > 0) {
			b->to_chan_len += (size_t)n;
			moved = 1;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			b->sock_eof = 1;
			moved = 1;
		}
	}
	while (b->to_sock_len > 0 && !b->sock_eof) {
		n = write(b->fd, b->to_sock, b->to_sock_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			b->sock_eof = 1;
			break;
		}
		memmove(b->to_sock, b->to_sock + n, b->to_sock_len - (size_t)n);
		b->to_sock_len -= (size_t)n;
		moved = 1;
	}
	return moved;
}

/* The socket is ready: move its bytes, and let the pump take them to the
 * channel. */
static void
bridge_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;

	(void)fd;
	if (bridge_sock_io(b, what))
		conn_poke(b->conn);
	else
		bridge_watch(b);
}

/* Channel side; 1 if anything moved. */
static int
bridge_chan_io(struct bridge *b)
{
	uint32_t window;
	size_t len;
	int n, moved = 0;

	while (!b->chan_eof && b->to_sock_len < BRIDGE_BUF_MAX) {
		n = ssh_channel_read_nonblocking(
		    b->chan, b->to_sock + b->to_sock_len,
		    (uint32_t)(BRIDGE_BUF_MAX - b->to_sock_len), 0);
		if (n == SSH_EOF || n == SSH_ERROR) {
			b->chan_eof = 1;
			moved = 1;
			break;
		}
		if (n <= 0)
			break;
		b->to_sock_len += (size_t)n;
		moved = 1;
	}
	len = b->to_chan_len;
	if (len > 0 &&
	    !(ssh_get_poll_flags(b->conn->session) & SSH_WRITE_PENDING)) {
		window = ssh_channel_window_size(b->chan);
		if (len > window)
			len = window;
		n = len > 0
			? ssh_channel_write(b->chan, b->to_chan, (uint32_t)len)
			: 0;
		if (n == SSH_ERROR)
			b->chan_eof = 1;
		else if (n > 0) {
			memmove(b->to_chan, b->to_chan + n,
				b->to_chan_len - (size_t)n);
			b->to_chan_len -= (size_t)n;
			moved = 1;
		}
	}
	return moved;
}

int
bridge_step(struct bridge *b)
{
	int moved;

	moved = bridge_chan_io(b);
	/* A closed window: the socket is not read (bridge_watch). */
	b->shut = ssh_channel_window_size(b->chan) == 0;
	moved |= bridge_sock_io(b, EV_WRITE | (b->shut ? 0 : EV_READ));
	/* What the socket gave may go to the channel at once. */
	if (moved)
		moved |= bridge_chan_io(b);
	if (bridge_ended(b) == NULL)
		bridge_watch(b);
	return moved;
}

const char *
bridge_ended(const struct bridge *b)
{
	/* The channel's last bytes reach the socket before it closes. */
	if ((b->chan_eof || ssh_channel_is_closed(b->chan)) &&
	    (b->to_sock_len == 0 || b->sock_eof))
		return "the server closed the channel";
	if (b->sock_eof && b->to_chan_len == 0)
		return "the socket closed";
	return NULL;
}
