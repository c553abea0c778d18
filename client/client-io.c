/* SPDX-License-Identifier: ISC */
/*
 * The connection's socket I/O: writing the queued requests without
 * blocking, and reading into the bounded input buffer that is cut into
 * lines only as events are claimed, so that unclaimed input stays in the
 * socket instead of growing memory.  When the connection ends, the reason
 * the daemon gave in its last line (a refusal, say) is reported rather than
 * the broken pipe or the end of file that follow it.  A line that passes
 * descriptors goes out with them in a sendmsg of its own, which starts at
 * the line's first byte and ends at most at its newline (PROTOCOL.md
 * section 1.8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-int.h"

static int client_io_make_room(sp_client *);

/* ---- The end of the connection ---- */

/*
 * The connection ended with what (a system error or the end of file): the
 * error text names the daemon's own reason if its last line gave one.
 */
static void
client_io_ended(sp_client *c, const char *what)
{
	char why[SP_ERRLEN];

	if (client_event_last_word(c, why, sizeof why))
		client_seterr(c->err, sizeof c->err,
			      "daemon closed the connection: %s", why);
	else
		client_seterr(c->err, sizeof c->err, "%s", what);
	c->closed = 1;
}

/* A write failed: take in what the daemon sent before it went away
 * (without blocking, bounded), since it may say why. */
static void
client_io_read_rest(sp_client *c)
{
	ssize_t n;

	while (c->in_len - c->in_off < SP_INBUF_HIGH &&
	       client_io_make_room(c) == 0) {
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len,
			 MSG_DONTWAIT);
		if (n > 0)
			c->in_len += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break;
	}
}

/* ---- Output ---- */

void
client_io_attach_free(sp_client *c)
{
	size_t i, j;

	for (i = 0; i < c->nattach; i++)
		for (j = 0; j < c->attach[i].nfds; j++)
			close(c->attach[i].fds[j]);
	free(c->attach);
	c->attach = NULL;
	c->nattach = c->attach_cap = 0;
}

/*
 * Write out[out_off, ...) once: plain bytes up to the next line with
 * descriptors, or that line with its descriptors, which then are sent and
 * closed here.
 */
static ssize_t
client_io_send(sp_client *c)
{
	struct sp_attach *a = c->nattach > 0 ? &c->attach[0] : NULL;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	size_t i;
	ssize_t n;

	if (a == NULL || c->out_off < a->off)
		return send(c->fd, c->out.data + c->out_off,
			    (a != NULL ? a->off : c->out.len) - c->out_off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	memset(&ctl, 0, sizeof ctl);
	memset(&mh, 0, sizeof mh);
	iov.iov_base = c->out.data + c->out_off;
	iov.iov_len = a->end - c->out_off;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * a->nfds);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * a->nfds);
	memcpy(CMSG_DATA(cm), a->fds, sizeof(int) * a->nfds);
	if ((n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT)) <= 0)
		return n;
	/* They went with the first byte; the rest of the line is plain. */
	for (i = 0; i < a->nfds; i++)
		close(a->fds[i]);
	memmove(c->attach, c->attach + 1, --c->nattach * sizeof *c->attach);
	return n;
}

int
sp_flush(sp_client *c)
{
	char what[SP_ERRLEN];
	ssize_t n;

	if (c->closed) {
		if (c->err[0] == '\0')
			client_seterr(c->err, sizeof c->err,
				      "connection closed");
		return -1;
	}
	while (c->out_off < c->out.len) {
		n = client_io_send(c);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			snprintf(what, sizeof what, "write to daemon: %s",
				 strerror(errno));
			if (!c->failed)
				client_io_read_rest(c);
			client_io_ended(c, what);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	proto_buf_reset(&c->out);
	c->out_off = 0;
	return 0;
}

/* ---- Input ---- */

/* Find the newline ending the first unclaimed line, scanning each byte
 * once however the input arrives. */
int
client_io_have_line(sp_client *c)
{
	char *nl;

	if (c->in_eol != SP_NONE)
		return 1;
	if (c->in_scan < c->in_len) {
		nl = memchr(c->in + c->in_scan, '\n', c->in_len - c->in_scan);
		if (nl != NULL) {
			c->in_eol = (size_t)(nl - c->in);
			return 1;
		}
		c->in_scan = c->in_len;
	}
	return 0;
}

static int
client_io_make_room(sp_client *c)
{
	size_t used = c->in_len - c->in_off, cap;
	char *p;

	if (c->in_cap - c->in_len >= SP_READ_CHUNK)
		return 0;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, used);
		c->in_scan -= c->in_off;
		if (c->in_eol != SP_NONE)
			c->in_eol -= c->in_off;
		c->in_len = used;
		c->in_off = 0;
		if (c->in_cap - c->in_len >= SP_READ_CHUNK)
			return 0;
	}
	cap = c->in_cap == 0 ? 2 * SP_READ_CHUNK : c->in_cap * 2;
	if ((p = realloc(c->in, cap)) == NULL) {
		client_seterr(c->err, sizeof c->err, "out of memory");
		return -1;
	}
	c->in = p;
	c->in_cap = cap;
	return 0;
}

int
sp_consume(sp_client *c)
{
	char what[SP_ERRLEN];
	ssize_t n;

	if (c->failed || c->closed)
		return -1;
	for (;;) {
		if (client_io_have_line(c)) {
			/* Backpressure: leave input in the socket until the
			 * caller claims what is buffered. */
			if (c->in_len - c->in_off >= SP_INBUF_HIGH)
				return 0;
		} else if (c->in_len - c->in_off > c->max_line) {
			client_seterr(c->err, sizeof c->err,
				      "daemon sent a line longer than %zu "
				      "bytes",
				      c->max_line);
			c->failed = 1;
			return -1;
		}
		if (client_io_make_room(c) == -1) {
			c->failed = 1;
			return -1;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			client_io_ended(
			    c, c->in_len > c->in_off &&
				       c->in[c->in_len - 1] != '\n'
				   ? "daemon closed the connection mid-line"
				   : "daemon closed the connection");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		snprintf(what, sizeof what, "read from daemon: %s",
			 strerror(errno));
		client_io_ended(c, what);
		return -1;
	}
}
