/*
 * libsshpool: the client side of the sshpool protocol.  This file owns the
 * connection handle: finding the daemon's socket, connecting (or adopting
 * a descriptor), the hello that opens every connection, closing, the error
 * text and the accessors.  Writing and reading the socket is client-io.c,
 * requests client-send.c, events client-event.c, the blocking calls
 * client-wait.c; the wire codec is proto/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client-int.h"

/* The one way an error text is set: the handle's, a run option set's or a
 * caller's buffer. */
void
client_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

size_t
sp_default_socket_path(char *buf, size_t size)
{
	const char *xdg;
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, size, "/run/sshpool/sshpoold.sock");
	else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && *xdg == '/')
		n = snprintf(buf, size, "%s/sshpool/sshpoold.sock", xdg);
	else
		n = snprintf(buf, size, "/tmp/sshpool-%u/sshpoold.sock",
			     (unsigned)geteuid());
	return n < 0 ? 0 : (size_t)n;
}

/* ---- Client lifetime ---- */

sp_client *
sp_adopt_fd(int fd, char *err, size_t errlen)
{
	sp_client *c;
	int flags;

	if (fd < 0) {
		client_seterr(err, errlen, "invalid file descriptor");
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		client_seterr(err, errlen, "fcntl: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		client_seterr(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->next_id = 1;
	c->in_eol = SP_NONE;
	c->max_line = PROTO_MAX_LINE;
	proto_limits_default(&c->limits);
	proto_buf_init(&c->out);
	if (client_send_hello(c) == -1) {
		client_seterr(err, errlen, "%s", c->err);
		sp_close(c);
		return NULL;
	}
	return c;
}

static int
client_socket_path(const char *path, char *buf, size_t size, char *err,
		   size_t errlen)
{
	const char *env;
	size_t n;

	if (path == NULL && (env = getenv("SSHPOOL_SOCKET")) != NULL &&
	    *env != '\0')
		path = env;
	if (path != NULL)
		n = (size_t)snprintf(buf, size, "%s", path);
	else
		n = sp_default_socket_path(buf, size);
	if (n == 0 || n >= size) {
		client_seterr(err, errlen, "socket path is empty or too long");
		return -1;
	}
	return 0;
}

sp_client *
sp_connect_start(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (client_socket_path(path, sun.sun_path, sizeof sun.sun_path, err,
			       errlen) == -1)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		client_seterr(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	/* A Unix stream connect completes at once or fails; blocking here
	 * only waits while the daemon's backlog is full. */
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno == EINTR)
			continue;
		client_seterr(err, errlen, "connect to %s: %s", sun.sun_path,
			      strerror(errno));
		close(fd);
		return NULL;
	}
	return sp_adopt_fd(fd, err, errlen);
}

sp_client *
sp_connect(const char *path, char *err, size_t errlen)
{
	sp_client *c;
	int r;

	if ((c = sp_connect_start(path, err, errlen)) == NULL)
		return NULL;
	r = sp_request_wait(c, c->hello_id, NULL, NULL);
	if (r == 0 && c->server == NULL) {
		/* The final event of the hello was an error: its message is
		 * in c->err. */
		r = -1;
	}
	if (r != 0) {
		client_seterr(err, errlen, "hello: %s", c->err);
		sp_close(c);
		return NULL;
	}
	c->err[0] = '\0';
	return c;
}

static void
client_free_event_list(struct sp_event *ev)
{
	struct sp_event *next;

	for (; ev != NULL; ev = next) {
		next = ev->next;
		sp_event_free(ev);
	}
}

void
sp_close(sp_client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	proto_buf_free(&c->out);
	free(c->in);
	free(c->server);
	free(c->pending);
	client_free_event_list(c->deferred);
	free(c);
}

int
sp_fd(const sp_client *c)
{
	return c->fd;
}

int
sp_want_write(const sp_client *c)
{
	return !c->closed && c->out_off < c->out.len;
}

const char *
sp_client_error(const sp_client *c)
{
	return c->err;
}

const char *
sp_server_name(const sp_client *c)
{
	return c->server;
}

size_t
sp_server_max_hosts(const sp_client *c)
{
	return c->server != NULL ? c->limits.max_hosts : 0;
}

size_t
sp_server_max_stdin(const sp_client *c)
{
	return c->server != NULL ? c->limits.max_stdin : 0;
}

int
sp_set_max_line(sp_client *c, size_t bytes)
{
	if (bytes < SP_MIN_MAX_LINE || bytes > PROTO_MAX_LINE) {
		client_seterr(c->err, sizeof c->err,
			      "max line must be %u..%u bytes", SP_MIN_MAX_LINE,
			      PROTO_MAX_LINE);
		return -1;
	}
	c->max_line = bytes;
	return 0;
}

size_t
sp_pending(const sp_client *c)
{
	return c->npending;
}
