/*
 * The control thread's plumbing: its event_base, the listening Unix socket
 * with its accept loop, and the control inbox through which the workers hand
 * back event lines and status replies.  Binding refuses to steal the socket
 * of a running daemon and removes the socket a dead one left behind.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "control.h"
#include "log.h"
#include "xmalloc.h"

/* How long accepting stops when the process is out of descriptors. */
#define CONTROL_ACCEPT_PAUSE_MS 1000

static struct event_base *control_evbase;
static const struct config *control_cfg;
static struct inbox control_inbox;
static int control_inbox_ready;
static int control_fd = -1;
static char *control_path;
static struct event *control_accept_ev;
static struct event *control_pause_ev;
static int control_accept_warned;

/* Create the missing directories above path, private to the daemon's user. */
static int
control_mkdirs(const char *path, char *err, size_t errlen)
{
	char *dir, *p, c;
	int rc = 0;

	dir = xstrdup(path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
				 strerror(errno));
			rc = -1;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return rc;
}

/*
 * A socket file that accepts connections belongs to a running daemon; one
 * that refuses them was left by a daemon that died and may be removed.
 */
static int
control_clear_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	const char *path = sun->sun_path;
	struct stat st;
	int fd, rc, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	if (rc == 0 || saved == EAGAIN) {
		snprintf(err, errlen, "another sshpoold is serving %s", path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		snprintf(err, errlen, "connect %s: %s", path, strerror(saved));
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("removed stale socket %s", path);
	return 0;
}

static int
control_bind(int fd, const struct sockaddr_un *sun, char *err, size_t errlen)
{
	const char *path = sun->sun_path;
	mode_t old;
	int rc;

	/* No window in which others may connect with the umask's mode. */
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	if (rc == -1) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		return -1;
	}
	if (chmod(path, 0600) == -1) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Bind and listen on path; returns the non-blocking listening socket. */
int
control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	size_t len = strlen(path);
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
			 "socket path must be 1 to %zu bytes (is %zu): %s",
			 sizeof(sun.sun_path) - 1, len, path);
		return -1;
	}
	memcpy(sun.sun_path, path, len + 1);
	if (control_mkdirs(path, err, errlen) == -1 ||
	    control_clear_stale(&sun, err, errlen) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (control_bind(fd, &sun, err, errlen) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static void
control_inbox_cb(struct msg_list *msgs, void *arg)
{
	struct msg *m;

	while ((m = TAILQ_FIRST(msgs)) != NULL) {
		TAILQ_REMOVE(msgs, m, entry);
		switch (m->type) {
		case MSG_EVENT:
			request_event(m);
			break;
		case MSG_STATUS_REPLY:
			request_status_reply(m);
			break;
		default:
			log_warnx("control: unexpected message type %d",
				  (int)m->type);
			msg_free(m);
			break;
		}
	}
}

void
control_post(struct msg *m)
{
	inbox_post(&control_inbox, m);
}

/*
 * Out of descriptors: the pending connection stays in the backlog and the
 * level-triggered listener would fire again at once, so stop listening for
 * a while instead of spinning (tmux's server_accept does the same).
 */
static void
control_pause_accept(void)
{
	struct timeval tv = {CONTROL_ACCEPT_PAUSE_MS / 1000,
			     (CONTROL_ACCEPT_PAUSE_MS % 1000) * 1000};

	if (!control_accept_warned)
		log_warn("accept on %s; not accepting for %d ms", control_path,
			 CONTROL_ACCEPT_PAUSE_MS);
	control_accept_warned = 1;
	event_del(control_accept_ev);
	evtimer_add(control_pause_ev, &tv);
}

static void
control_resume_accept(evutil_socket_t fd, short what, void *arg)
{
	event_add(control_accept_ev, NULL);
}

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	int fd, i;

	for (i = 0; i < CONTROL_ACCEPT_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			control_accept_warned = 0;
			peer_accept(fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE)
			control_pause_accept();
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("accept on %s", control_path);
		return;
	}
}

void
control_init(struct event_base *base, const struct config *cfg, int fd,
	     const char *path)
{
	control_evbase = base;
	control_cfg = cfg;
	control_fd = fd;
	control_path = xstrdup(path);
	inbox_init(&control_inbox, base, control_inbox_cb, NULL);
	control_inbox_ready = 1;
	control_accept_ev =
	    event_new(base, fd, EV_READ | EV_PERSIST, control_accept, NULL);
	control_pause_ev = evtimer_new(base, control_resume_accept, NULL);
	if (control_accept_ev == NULL || control_pause_ev == NULL)
		fatalx("control: cannot create the listener events");
	if (event_add(control_accept_ev, NULL) == -1)
		fatalx("control: cannot watch %s", path);
}

struct event_base *
control_base(void)
{
	return control_evbase;
}

const struct config *
control_config(void)
{
	return control_cfg;
}

void
control_limits(struct proto_limits *lim)
{
	proto_limits_default(lim);
	lim->max_line = control_cfg->max_line;
	lim->max_hosts = control_cfg->max_hosts;
	lim->max_stdin = control_cfg->max_stdin;
}

/* Stop accepting; the socket file stays until control_free. */
void
control_close(void)
{
	if (control_accept_ev != NULL) {
		event_free(control_accept_ev);
		control_accept_ev = NULL;
	}
	if (control_pause_ev != NULL) {
		event_free(control_pause_ev);
		control_pause_ev = NULL;
	}
	if (control_fd != -1) {
		close(control_fd);
		control_fd = -1;
	}
}

/*
 * Deliver what the workers posted before they stopped.  Only valid once no
 * other thread can post: the inbox's event will not run again.
 */
void
control_drain(void)
{
	struct msg_list msgs;

	if (!control_inbox_ready)
		return;
	TAILQ_INIT(&msgs);
	pthread_mutex_lock(&control_inbox.lock);
	TAILQ_CONCAT(&msgs, &control_inbox.msgs, entry);
	pthread_mutex_unlock(&control_inbox.lock);
	control_inbox_cb(&msgs, NULL);
}

void
control_free(void)
{
	control_close();
	if (control_inbox_ready) {
		inbox_destroy(&control_inbox);
		control_inbox_ready = 0;
	}
	if (control_path != NULL) {
		if (unlink(control_path) == -1 && errno != ENOENT)
			log_warn("unlink %s", control_path);
		free(control_path);
		control_path = NULL;
	}
}
