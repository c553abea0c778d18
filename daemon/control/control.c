/* SPDX-License-Identifier: ISC */
/*
 * The control thread's plumbing: its event_base, the listening Unix socket
 * with its accept loop, and the control inbox through which the workers hand
 * back event lines and status replies.  Binding refuses to steal the socket
 * of a running daemon, removes the socket a dead one left behind, and refuses
 * a socket directory that others could write to; a socket passed by the
 * service manager is served as it is and left in place.  The configuration
 * in force is held here with its compiled access policy (a reload swaps
 * both), and the configured limits are read here: every value as the
 * configuration says, 0 included (the configuration holds the defaults).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "control.h"
#include "log.h"
#include "policy.h"
#include "xmalloc.h"

/* How long accepting stops when the process is out of descriptors. */
#define CONTROL_ACCEPT_PAUSE_MS 1000

/* getgrnam_r buffer: first size, and the most it grows to. */
#define CONTROL_NSS_BUF 4096
#define CONTROL_NSS_BUF_MAX (1024 * 1024)

/* Who may reach the socket: its directory's and its own mode and group. */
struct control_sockdir {
	int has_group;
	const char *group; /* SocketGroup as configured */
	gid_t gid;
	mode_t dir_mode;
	mode_t sock_mode;
};

static struct event_base *control_evbase;
static const struct config *control_cfg;
static struct policy *control_pol; /* control_cfg's, freed before it */
static struct inbox control_inbox;
static int control_inbox_ready;
static const struct shards *control_shards_v; /* the workers */
static int control_fd = -1;
static char *control_path;
static int control_owned; /* the socket file is ours to remove */
static int control_stop;  /* graceful stop: no new requests */
static struct event *control_accept_ev;
static struct event *control_pause_ev;
static int control_accept_warned;

/* Resolve SocketGroup: a group name, or else a numeric gid. */
static int
control_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	unsigned long long v;
	size_t len = CONTROL_NSS_BUF;
	char *buf, *end;
	int rc;

	for (;;) {
		buf = xmalloc(len);
		rc = getgrnam_r(name, &gr, buf, len, &res);
		if (rc != ERANGE || len >= CONTROL_NSS_BUF_MAX)
			break;
		free(buf);
		len *= 2;
	}
	if (rc == 0 && res != NULL) {
		*gid = gr.gr_gid;
		free(buf);
		return 0;
	}
	free(buf);
	errno = 0;
	v = strtoull(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && *end == '\0' && errno == 0 &&
	    v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	if (rc != 0)
		snprintf(err, errlen, "SocketGroup %s: %s", name, strerror(rc));
	else
		snprintf(err, errlen, "SocketGroup %s: no such group", name);
	return -1;
}

/* A directory we created gets its mode exactly, whatever the umask. */
static int
control_own_dir(const char *dir, const struct control_sockdir *sd, char *err,
		size_t errlen)
{
	if (sd->has_group && chown(dir, (uid_t)-1, sd->gid) == -1) {
		snprintf(err, errlen, "chown %s to group %s: %s", dir,
			 sd->group, strerror(errno));
		return -1;
	}
	if (chmod(dir, sd->dir_mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Create the missing directories up to and including dir. */
static int
control_mkdirs(const char *dir, const struct control_sockdir *sd, char *err,
	       size_t errlen)
{
	char *d, *p, c;
	int rc = 0;

	d = xstrdup(dir);
	for (p = d + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(d, sd->dir_mode) == 0) {
			if (control_own_dir(d, sd, err, errlen) == -1) {
				rc = -1;
				break;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", d,
				 strerror(errno));
			rc = -1;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(d);
	return rc;
}

/*
 * Whoever may write to the socket's directory may replace the socket with
 * one of their own and collect the clients' requests: the directory must
 * belong to us (or root) and be writable by nobody else.  It must not be a
 * symbolic link: one planted in /tmp by another user would lead the socket,
 * and the mode changes below, into a directory of that user's choosing.
 * Its ancestors are not checked, so a private directory under /tmp is fine
 * (the sticky bit keeps others from replacing it there).  With SocketGroup
 * the group must be able to reach the socket through it.
 */
static int
control_check_dir(const char *dir, const struct control_sockdir *sd, char *err,
		  size_t errlen)
{
	struct stat st;
	uid_t euid = geteuid();
	mode_t mode;

	if (lstat(dir, &st) == -1) {
		snprintf(err, errlen, "socket directory %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen,
			 "socket directory %s is a symbolic link (owned by uid "
			 "%u): refusing to use it; name the real directory",
			 dir, (unsigned)st.st_uid);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "socket directory %s is not a directory",
			 dir);
		return -1;
	}
	if (st.st_uid != euid && st.st_uid != 0) {
		snprintf(err, errlen,
			 "socket directory %s belongs to uid %u, not to the "
			 "daemon's user (uid %u) or root: refusing to use it",
			 dir, (unsigned)st.st_uid, (unsigned)euid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "socket directory %s is writable by its group or by "
			 "others (mode %04o): refusing to use it; choose a "
			 "private directory or chmod go-w it",
			 dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (!sd->has_group || st.st_uid != euid)
		return 0;
	if (st.st_gid != sd->gid && chown(dir, (uid_t)-1, sd->gid) == -1) {
		snprintf(err, errlen, "chown %s to group %s: %s", dir,
			 sd->group, strerror(errno));
		return -1;
	}
	mode = (st.st_mode & 07777) | S_IRGRP | S_IXGRP;
	if (mode != (st.st_mode & 07777) && chmod(dir, mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
control_prepare_dir(const char *path, struct control_sockdir *sd, char *err,
		    size_t errlen)
{
	char *dir, *p;
	int rc;

	dir = xstrdup(path);
	if ((p = strrchr(dir, '/')) == NULL) {
		free(dir);
		snprintf(err, errlen, "socket path %s is not absolute", path);
		return -1;
	}
	if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	rc = control_mkdirs(dir, sd, err, errlen);
	if (rc == 0)
		rc = control_check_dir(dir, sd, err, errlen);
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
control_bind(int fd, const struct sockaddr_un *sun,
	     const struct control_sockdir *sd, char *err, size_t errlen)
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
	/* The group first: the mode then opens the socket to it alone. */
	if (sd->has_group && chown(path, (uid_t)-1, sd->gid) == -1) {
		snprintf(err, errlen, "chown %s to group %s: %s", path,
			 sd->group, strerror(errno));
		return -1;
	}
	if (chmod(path, sd->sock_mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Bind and listen on path; returns the non-blocking listening socket.  With
 * a group (SocketGroup) the socket is 0660 in a 0750 directory of that
 * group, else 0600 in a 0700 directory.
 */
int
control_listen(const char *path, const char *group, char *err, size_t errlen)
{
	struct control_sockdir sd;
	struct sockaddr_un sun;
	size_t len = strlen(path);
	int fd;

	memset(&sd, 0, sizeof(sd));
	sd.dir_mode = 0700;
	sd.sock_mode = 0600;
	if (group != NULL && group[0] != '\0') {
		if (control_group(group, &sd.gid, err, errlen) == -1)
			return -1;
		sd.has_group = 1;
		sd.group = group;
		sd.dir_mode = 0750;
		sd.sock_mode = 0660;
	}

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
			 "socket path must be 1 to %zu bytes (is %zu): %s",
			 sizeof(sun.sun_path) - 1, len, path);
		return -1;
	}
	memcpy(sun.sun_path, path, len + 1);
	if (control_prepare_dir(path, &sd, err, errlen) == -1 ||
	    control_clear_stale(&sun, err, errlen) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (control_bind(fd, &sun, &sd, err, errlen) == -1) {
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

struct inbox *
control_reply_inbox(void)
{
	return &control_inbox;
}

void
control_set_shards(const struct shards *shards)
{
	control_shards_v = shards;
}

const struct shards *
control_shards(void)
{
	return control_shards_v;
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
	     const char *path, int owned)
{
	control_evbase = base;
	control_cfg = cfg;
	control_pol = policy_new(cfg, NULL);
	control_fd = fd;
	control_path = xstrdup(path);
	control_owned = owned;
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

const struct policy *
control_policy(void)
{
	return control_pol;
}

/*
 * Peers keep what they need of the configuration at accept (limits, flow
 * thresholds) and requests copy host settings into their jobs, so once the
 * pointer moves nothing refers to the old configuration any more.  A
 * peer's view of the old policy is made again under the new one when the
 * peer next needs it (peer_policy).
 */
const struct config *
control_set_config(const struct config *cfg)
{
	const struct config *old = control_cfg;

	policy_free(control_pol);
	control_pol = policy_new(cfg, NULL);
	control_cfg = cfg;
	return old;
}

void
control_set_stopping(void)
{
	control_stop = 1;
}

int
control_stopping(void)
{
	return control_stop;
}

void
control_limits(struct proto_limits *lim)
{
	config_proto_limits(control_cfg, lim);
}

size_t
control_max_requests(void)
{
	return (size_t)control_cfg->max_requests_per_client;
}

size_t
control_max_jobs_per_client(void)
{
	return control_cfg->max_jobs_per_client;
}

size_t
control_max_jobs(void)
{
	return control_cfg->max_jobs;
}

size_t
control_max_agents_per_user(void)
{
	return (size_t)control_cfg->max_agents_per_user;
}

size_t
control_max_connections_per_user(void)
{
	return (size_t)control_cfg->max_connections_per_user;
}

size_t
control_queue_hard(void)
{
	return control_cfg->client_queue_hard;
}

int
control_queue_hard_ms(void)
{
	return control_cfg->client_queue_hard_time_ms;
}

size_t
control_audit_command_max(void)
{
	return control_cfg->audit_command_max;
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
	policy_free(control_pol);
	control_pol = NULL;
	if (control_inbox_ready) {
		inbox_destroy(&control_inbox);
		control_inbox_ready = 0;
	}
	if (control_path != NULL) {
		/* A passed socket belongs to the socket unit, which serves
		 * it again while the daemon is not running. */
		if (control_owned && unlink(control_path) == -1 &&
		    errno != ENOENT)
			log_warn("unlink %s", control_path);
		free(control_path);
		control_path = NULL;
	}
}
