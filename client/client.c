/* SPDX-License-Identifier: ISC */
/*
 * libsshpool: the client side of the sshpool protocol.  This file owns the
 * connection handle: finding the daemon's socket, connecting (or adopting
 * a descriptor), making sure the daemon found there is one we may trust,
 * the hello that opens every connection, closing, the error text and the
 * accessors.  Writing and reading the socket is client-io.c,
 * requests client-send.c, events client-event.c, the blocking calls
 * client-wait.c; the wire codec is proto/.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* ---- Whom the library talks to ---- */

/* The uid of the daemon's service user, or (uid_t)-1 without one. */
static uid_t
client_daemon_uid(void)
{
	struct passwd pw, *res = NULL;
	uid_t uid = (uid_t)-1;
	char *buf;

	if ((buf = malloc(SP_NSS_BUF)) == NULL)
		return uid;
	if (getpwnam_r(SP_DAEMON_USER, &pw, buf, SP_NSS_BUF, &res) == 0 &&
	    res != NULL)
		uid = pw.pw_uid;
	free(buf);
	return uid;
}

/* Requests, environment and stdin may go only to root, the daemon's
 * service user or ourselves; anyone else could forge every result. */
static int
client_trusted_uid(uid_t uid)
{
	uid_t du;

	if (uid == 0 || uid == geteuid())
		return 1;
	du = client_daemon_uid();
	return du != (uid_t)-1 && uid == du;
}

/*
 * Whoever may write to the socket's directory may put a socket of their
 * own there (the daemon checks the same when it binds): the directory must
 * be a real directory of a trusted user that nobody else may write to.  A
 * directory that cannot be examined is left to connect(2) to report.
 */
static int
client_check_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *p;
	struct stat st;

	snprintf(dir, sizeof dir, "%s", path);
	if ((p = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	if (lstat(dir, &st) == -1)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		client_seterr(err, errlen,
			      "socket directory %s is a symbolic link (owned "
			      "by uid %u): refusing to use %s",
			      dir, (unsigned)st.st_uid, path);
		return -1;
	}
	if (!client_trusted_uid(st.st_uid)) {
		client_seterr(err, errlen,
			      "socket directory %s belongs to uid %u, not to "
			      "root, " SP_DAEMON_USER " or you (uid %u): "
			      "refusing to use %s",
			      dir, (unsigned)st.st_uid, (unsigned)geteuid(),
			      path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		client_seterr(err, errlen,
			      "socket directory %s is writable by its group "
			      "or by others (mode %04o): refusing to use %s",
			      dir, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* The process that listens on the socket must run as a trusted user. */
static int
client_check_peer(int fd, const char *path, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		client_seterr(err, errlen,
			      "cannot identify the daemon at %s (SO_PEERCRED): "
			      "%s",
			      path, strerror(errno));
		return -1;
	}
	if (!client_trusted_uid(cred.uid)) {
		client_seterr(err, errlen,
			      "%s is served by uid %u (pid %ld), not by "
			      "root, " SP_DAEMON_USER
			      " or you (uid %u): refusing to "
			      "talk to it",
			      path, (unsigned)cred.uid, (long)cred.pid,
			      (unsigned)geteuid());
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
			       errlen) == -1 ||
	    client_check_dir(sun.sun_path, err, errlen) == -1)
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
	if (client_check_peer(fd, sun.sun_path, err, errlen) == -1) {
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
	client_io_attach_free(c);
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
