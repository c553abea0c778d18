/* SPDX-License-Identifier: ISC */
/*
 * The integration tests' raw protocol client, fleet description and daemon
 * process control (see tclient.h).  Everything here blocks with a deadline:
 * a test that waits for something that never comes fails with a message
 * instead of hanging until the CTest timeout.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tclient.h"
#include "testutil.h"

#define TCLIENT_READ_CHUNK (256u * 1024)
#define TCLIENT_ERR 512
#define TCLIENT_LOG_TAIL 60    /* lines of the daemon log shown on failure */
#define TCLIENT_MAX_DAEMONS 8  /* running at once in one test */
#define TCLIENT_MAX_REPORT 400 /* lines of a valgrind report shown */

struct tclient {
	int fd;
	char *buf; /* bytes read, not yet returned */
	size_t len;
	size_t cap;
	size_t read_size; /* 0 = TCLIENT_READ_CHUNK */
	char err[TCLIENT_ERR];
};

const char *
tclient_wrapper(void)
{
	const char *w = getenv("SSHPOOL_TEST_WRAPPER");

	if (w == NULL || w[strspn(w, " ")] == '\0')
		return NULL;
	return w;
}

double
tclient_slowdown(void)
{
	const char *s = getenv("SSHPOOL_TEST_SLOWDOWN");
	char *end;
	double f;

	if (s == NULL || *s == '\0')
		return 1;
	f = strtod(s, &end);
	if (*end != '\0' || !(f >= 1))
		return 1;
	return f > TCLIENT_MAX_SLOWDOWN ? TCLIENT_MAX_SLOWDOWN : f;
}

int
tclient_scaled_ms(int ms)
{
	return (int)(ms * tclient_slowdown());
}

static void
tclient_seterr(struct tclient *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

static int
tclient_unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct tclient *
tclient_connect(const char *path)
{
	struct tclient *c;
	int fd;

	if ((fd = tclient_unix_connect(path)) == -1)
		return NULL;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	return c;
}

void
tclient_close(struct tclient *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

int
tclient_fd(const struct tclient *c)
{
	return c->fd;
}

const char *
tclient_error(const struct tclient *c)
{
	return c->err;
}

void
tclient_set_read_size(struct tclient *c, size_t n)
{
	c->read_size = n;
}

int
tclient_send_raw(struct tclient *c, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			tclient_seterr(c, "send: %s", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
tclient_send_fds(struct tclient *c, const void *data, size_t len,
		 const int *fds, size_t n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = {(void *)(uintptr_t)data, len};
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t w;

	if (n > 64) {
		tclient_seterr(c, "sendmsg: %zu descriptors", n);
		return -1;
	}
	memset(&mh, 0, sizeof mh);
	memset(ctl, 0, sizeof ctl);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (n > 0) {
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	do
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)len) {
		tclient_seterr(c, "sendmsg: %zd of %zu: %s", w, len,
			       strerror(errno));
		return -1;
	}
	return 0;
}

int
tclient_send(struct tclient *c, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		tclient_seterr(c, "out of memory");
		return -1;
	}
	rc = tclient_send_raw(c, line, (size_t)n);
	if (rc == 0)
		rc = tclient_send_raw(c, "\n", 1);
	free(line);
	return rc;
}

/* Read once, waiting at most until deadline.  1 = got bytes, 0 = timeout,
 * -1 = error or end of file. */
static int
tclient_fill(struct tclient *c, long long deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	size_t want = c->read_size ? c->read_size : TCLIENT_READ_CHUNK;
	long long left;
	ssize_t n;
	int rc;

	for (;;) {
		left = deadline - testutil_now_ms();
		if (left < 0)
			left = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1) {
			tclient_seterr(c, "poll: %s", strerror(errno));
			return -1;
		}
		if (rc == 0) {
			tclient_seterr(c, "timeout waiting for an event");
			return 0;
		}
		break;
	}
	if (c->cap - c->len < want) {
		size_t ncap = c->len + want;
		char *nbuf;

		if (ncap > TCLIENT_MAX_LINE + want) {
			tclient_seterr(c, "event line longer than %u bytes",
				       TCLIENT_MAX_LINE);
			return -1;
		}
		if ((nbuf = realloc(c->buf, ncap)) == NULL) {
			tclient_seterr(c, "out of memory");
			return -1;
		}
		c->buf = nbuf;
		c->cap = ncap;
	}
	do
		n = read(c->fd, c->buf + c->len, want);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		tclient_seterr(c, "read: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		tclient_seterr(c, "end of file from the daemon");
		return -1;
	}
	c->len += (size_t)n;
	return 1;
}

int
tclient_next(struct tclient *c, int timeout_ms, struct proto_event **ev,
	     char **linep)
{
	long long deadline = testutil_now_ms() + timeout_ms;
	struct proto_error perr;
	size_t scanned = 0, linelen;
	char *nl;
	int rc;

	*ev = NULL;
	if (linep != NULL)
		*linep = NULL;
	for (;;) {
		nl = NULL;
		if (c->len > scanned)
			nl = memchr(c->buf + scanned, '\n', c->len - scanned);
		if (nl != NULL)
			break;
		scanned = c->len;
		if ((rc = tclient_fill(c, deadline)) != 1)
			return -1;
	}
	linelen = (size_t)(nl - c->buf);
	rc = proto_event_parse(c->buf, linelen, ev, &perr);
	if (rc == -1) {
		tclient_seterr(c, "undecodable event (%s): %.*s", perr.message,
			       (int)(linelen > 300 ? 300 : linelen), c->buf);
		*ev = NULL;
	} else if (linep != NULL) {
		if ((*linep = strndup(c->buf, linelen)) == NULL) {
			proto_event_free(*ev);
			*ev = NULL;
			tclient_seterr(c, "out of memory");
			rc = -1;
		}
	}
	memmove(c->buf, nl + 1, c->len - linelen - 1);
	c->len -= linelen + 1;
	return rc == -1 ? -1 : 0;
}

/* ---- The fleet ---- */

static void
tclient_strlcpy(char *dst, const char *src, size_t size)
{
	snprintf(dst, size, "%s", src);
}

/* Split a space separated list into fixed-size slots; returns the count. */
static size_t
tfleet_split(const char *list, char *slots, size_t slotlen, size_t max)
{
	const char *p = list, *end;
	size_t n = 0, len;

	while (*p != '\0' && n < max) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ' ');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len >= slotlen)
			len = slotlen - 1;
		memcpy(slots + n * slotlen, p, len);
		slots[n * slotlen + len] = '\0';
		n++;
		p += len;
	}
	return n;
}

int
tfleet_load(struct tfleet *f, char *err, size_t errlen)
{
	char path[PATH_MAX], *line = NULL, *eq, *val;
	const char *dir;
	size_t cap = 0, n;
	ssize_t len;
	FILE *fp;
	int seen = 0;

	memset(f, 0, sizeof *f);
	if ((dir = getenv("SSHPOOL_FLEET_DIR")) == NULL || *dir == '\0') {
		snprintf(err, errlen,
			 "SSHPOOL_FLEET_DIR is not set: run the "
			 "tests through ctest (fixture fleet_start)");
		return -1;
	}
	snprintf(path, sizeof path, "%s/fleet.env", dir);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		val = eq + 1;
		n = strlen(val);
		if (n >= 2 && val[0] == '\'' && val[n - 1] == '\'') {
			val[n - 1] = '\0';
			val++;
		}
		if (strcmp(line, "SSHPOOL_FLEET_DIR") == 0)
			tclient_strlcpy(f->dir, val, sizeof f->dir);
		else if (strcmp(line, "FLEET_USER") == 0)
			tclient_strlcpy(f->user, val, sizeof f->user);
		else if (strcmp(line, "FLEET_PORT") == 0) {
			f->port = atoi(val);
			seen++;
		} else if (strcmp(line, "FLEET_HOSTS") == 0)
			f->nhosts =
			    tfleet_split(val, &f->hosts[0][0],
					 sizeof f->hosts[0], TCLIENT_MAX_HOSTS);
		else if (strcmp(line, "FLEET_ADDRS") == 0)
			tfleet_split(val, &f->addrs[0][0], sizeof f->addrs[0],
				     TCLIENT_MAX_HOSTS);
		else if (strcmp(line, "FLEET_DEAD_HOST") == 0)
			tclient_strlcpy(f->dead_host, val, sizeof f->dead_host);
		else if (strcmp(line, "FLEET_V6_ADDR") == 0)
			tclient_strlcpy(f->v6_addr, val, sizeof f->v6_addr);
		else if (strcmp(line, "FLEET_V6_PORT") == 0)
			f->v6_port = atoi(val);
		else if (strcmp(line, "FLEET_KEY") == 0)
			tclient_strlcpy(f->key, val, sizeof f->key);
		else if (strcmp(line, "FLEET_WRONG_KEY") == 0)
			tclient_strlcpy(f->wrong_key, val, sizeof f->wrong_key);
		else if (strcmp(line, "FLEET_KNOWN_HOSTS") == 0)
			tclient_strlcpy(f->known_hosts, val,
					sizeof f->known_hosts);
		else if (strcmp(line, "FLEET_HOSTKEYS") == 0)
			tfleet_split(val, &f->hostkeys[0][0],
				     sizeof f->hostkeys[0], 3);
		else if (strcmp(line, "FLEET_WRONG_HOSTKEYS") == 0)
			tfleet_split(val, &f->wrong_hostkeys[0][0],
				     sizeof f->wrong_hostkeys[0], 3);
	}
	free(line);
	fclose(fp);
	if (f->v6_addr[0] == '\0' || f->v6_port <= 0) {
		f->v6_addr[0] = '\0';
		f->v6_port = 0;
	}
	if (!seen || f->port <= 0 || f->nhosts == 0 || f->key[0] == '\0' ||
	    f->known_hosts[0] == '\0' || f->user[0] == '\0') {
		snprintf(err, errlen, "%s: incomplete fleet description", path);
		return -1;
	}
	return 0;
}

/* ---- The daemon ---- */

/* Daemons still running, so a test that fails (Check exits the test process
 * at once) does not leave them behind. */
static struct {
	pid_t pid;
	char log[PATH_MAX];
	char dir[TCLIENT_MAX_DIR];
} tdaemon_live[TCLIENT_MAX_DAEMONS];
static int tdaemon_atexit_set;

static void tdaemon_tail(const char *log);

static void
tdaemon_atexit(void)
{
	int i, status;

	for (i = 0; i < TCLIENT_MAX_DAEMONS; i++) {
		if (tdaemon_live[i].pid <= 0)
			continue;
		kill(tdaemon_live[i].pid, SIGKILL);
		waitpid(tdaemon_live[i].pid, &status, 0);
		fprintf(stderr,
			"test ended with sshpoold %ld running "
			"(killed); its files are in %s\n",
			(long)tdaemon_live[i].pid, tdaemon_live[i].dir);
		tdaemon_tail(tdaemon_live[i].log);
		tdaemon_live[i].pid = 0;
	}
}

static void
tdaemon_track(const struct tdaemon *d, int add)
{
	int i;

	if (!tdaemon_atexit_set) {
		atexit(tdaemon_atexit);
		tdaemon_atexit_set = 1;
	}
	for (i = 0; i < TCLIENT_MAX_DAEMONS; i++) {
		if (add && tdaemon_live[i].pid == 0) {
			tdaemon_live[i].pid = d->pid;
			tclient_strlcpy(tdaemon_live[i].log, d->log,
					sizeof tdaemon_live[i].log);
			tclient_strlcpy(tdaemon_live[i].dir, d->dir,
					sizeof tdaemon_live[i].dir);
			return;
		}
		if (!add && tdaemon_live[i].pid == d->pid) {
			tdaemon_live[i].pid = 0;
			return;
		}
	}
}

static int
tdaemon_copy(const char *from, const char *to, char *err, size_t errlen)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", from, strerror(errno));
		return -1;
	}
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out == -1) {
		snprintf(err, errlen, "%s: %s", to, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			snprintf(err, errlen, "%s: short write", to);
			n = -1;
			break;
		}
	}
	close(in);
	if (close(out) == -1 || n < 0) {
		if (n == 0)
			snprintf(err, errlen, "%s: %s", to, strerror(errno));
		return -1;
	}
	return 0;
}

int
tdaemon_prepare(struct tdaemon *d, const struct tfleet *f, char *err,
		size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	memset(d, 0, sizeof *d);
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(d->dir, sizeof d->dir, "%s/sshpool-it.XXXXXX", tmp);
	if (mkdtemp(d->dir) == NULL) {
		snprintf(err, errlen, "mkdtemp %s: %s", d->dir,
			 strerror(errno));
		return -1;
	}
	snprintf(d->conf, sizeof d->conf, "%s/sshpoold.conf", d->dir);
	snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir);
	snprintf(d->log, sizeof d->log, "%s/sshpoold.log", d->dir);
	snprintf(d->known_hosts, sizeof d->known_hosts, "%s/known_hosts",
		 d->dir);
	return tdaemon_copy(f->known_hosts, d->known_hosts, err, errlen);
}

static int
tdaemon_write_conf(const struct tdaemon *d, const struct tfleet *f,
		   const struct tdaemon_opts *o, char *err, size_t errlen)
{
	FILE *fp;

	if ((fp = fopen(d->conf, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", d->conf, strerror(errno));
		return -1;
	}
	fprintf(fp, "# sshpoold configuration of one integration test\n");
	fprintf(fp, "Socket %s\n", d->sock);
	fprintf(fp, "Workers %d\n", o->workers > 0 ? o->workers : 2);
	fprintf(fp, "LogLevel VERBOSE\n");
	fprintf(fp, "User %s\n", f->user);
	fprintf(fp, "Port %d\n", f->port);
	fprintf(fp, "IdentityFile %s\n", o->identity ? o->identity : f->key);
	fprintf(fp, "UserKnownHostsFile %s\n", d->known_hosts);
	fprintf(fp, "StrictHostKeyChecking %s\n",
		o->strict ? o->strict : "yes");
	fprintf(fp, "ConnectTimeout 10\n");
	if (o->max_channels > 0)
		fprintf(fp, "MaxChannelsPerSession %d\n", o->max_channels);
	if (o->max_sessions > 0)
		fprintf(fp, "MaxSessionsPerHost %d\n", o->max_sessions);
	if (o->extra != NULL)
		fprintf(fp, "%s\n", o->extra);
	if (fclose(fp) == EOF) {
		snprintf(err, errlen, "%s: %s", d->conf, strerror(errno));
		return -1;
	}
	return 0;
}

static void
tdaemon_exec(const struct tdaemon *d, pid_t parent)
{
	const char *path = getenv("SSHPOOLD"), *wrapper = tclient_wrapper();
	char *argv[TCLIENT_MAX_WRAPPER_ARGS + 7], *words = NULL, *w, *save;
	int fd, n = 0;

	/* Die with the test process, whatever way it ends. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(126);
	if ((fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600)) == -1)
		_exit(126);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, STDIN_FILENO);
		if (fd > STDIN_FILENO)
			close(fd);
	}
	signal(SIGPIPE, SIG_DFL);
	if (wrapper != NULL && (words = strdup(wrapper)) == NULL)
		_exit(126);
	for (w = words ? strtok_r(words, " ", &save) : NULL; w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		if (n == TCLIENT_MAX_WRAPPER_ARGS) {
			fprintf(stderr, "SSHPOOL_TEST_WRAPPER: over %d words\n",
				TCLIENT_MAX_WRAPPER_ARGS);
			_exit(126);
		}
		argv[n++] = w;
	}
	argv[n++] = (char *)path;
	argv[n++] = "-d";
	argv[n++] = "-f";
	argv[n++] = (char *)d->conf;
	argv[n++] = "-s";
	argv[n++] = (char *)d->sock;
	argv[n] = NULL;
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
tdaemon_start(struct tdaemon *d, const struct tfleet *f,
	      const struct tdaemon_opts *opts, char *err, size_t errlen)
{
	static const struct tdaemon_opts none;
	const char *path = getenv("SSHPOOLD");
	long long deadline;
	pid_t pid, parent = getpid();
	int fd, status, wait_ms = tclient_scaled_ms(TCLIENT_START_WAIT_MS);

	if (opts == NULL)
		opts = &none;
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "SSHPOOLD (path of the daemon) not set");
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (tdaemon_write_conf(d, f, opts, err, errlen) == -1)
		return -1;
	unlink(d->sock);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		tdaemon_exec(d, parent);
	d->pid = pid;
	tdaemon_track(d, 1);

	deadline = testutil_now_ms() + wait_ms;
	for (;;) {
		if ((fd = tclient_unix_connect(d->sock)) != -1) {
			close(fd);
			return 0;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			tdaemon_track(d, 0);
			d->pid = 0;
			snprintf(err, errlen,
				 "sshpoold exited at start "
				 "(status 0x%x), log %s",
				 status, d->log);
			tdaemon_dump_log(d);
			return -1;
		}
		if (testutil_now_ms() > deadline) {
			snprintf(err, errlen,
				 "sshpoold socket %s not accepting "
				 "after %d ms, log %s",
				 d->sock, wait_ms, d->log);
			tdaemon_dump_log(d);
			tdaemon_stop(d);
			return -1;
		}
		usleep(20 * 1000);
	}
}

int
tdaemon_stop(struct tdaemon *d)
{
	int status, wait_ms = tclient_scaled_ms(TCLIENT_STOP_WAIT_MS);
	long long deadline;
	pid_t rc;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	deadline = testutil_now_ms() + wait_ms;
	for (;;) {
		rc = waitpid(d->pid, &status, WNOHANG);
		if (rc == d->pid || (rc == -1 && errno != EINTR))
			break;
		if (testutil_now_ms() > deadline) {
			fprintf(stderr,
				"sshpoold %ld ignored SIGTERM for %d "
				"ms: killing it\n",
				(long)d->pid, wait_ms);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		usleep(10 * 1000);
	}
	if (rc == -1)
		status = -1;
	tdaemon_track(d, 0);
	d->pid = 0;
	return status;
}

static int
tdaemon_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
tdaemon_cleanup(struct tdaemon *d)
{
	if (d->pid > 0)
		tdaemon_stop(d);
	if (d->dir[0] != '\0')
		nftw(d->dir, tdaemon_rm, 16, FTW_DEPTH | FTW_PHYS);
	d->dir[0] = '\0';
}

int
tdaemon_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

long
tdaemon_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(fp);
	return kb;
}

/* A line of a valgrind report: "==PID== ...". */
static int
tdaemon_is_report(const char *line)
{
	size_t digits;

	if (strncmp(line, "==", 2) != 0)
		return 0;
	digits = strspn(line + 2, "0123456789");
	return digits > 0 && strncmp(line + 2 + digits, "==", 2) == 0;
}

/*
 * The log's last lines, preceded by the lines of a wrapper's report (a
 * valgrind stack) that are older than those: the report of an error is
 * what explains a failed exit status, however much was logged after it.
 */
static void
tdaemon_tail(const char *log)
{
	char *lines[TCLIENT_LOG_TAIL] = {0};
	char *line = NULL;
	size_t cap = 0, n = 0, i, first, shown = 0;
	FILE *fp;

	if ((fp = fopen(log, "r")) == NULL)
		return;
	while (getline(&line, &cap, fp) != -1) {
		free(lines[n % TCLIENT_LOG_TAIL]);
		lines[n % TCLIENT_LOG_TAIL] = strdup(line);
		n++;
	}
	first = n > TCLIENT_LOG_TAIL ? n - TCLIENT_LOG_TAIL : 0;
	if (tclient_wrapper() != NULL && first > 0) {
		rewind(fp);
		for (i = 0; i < first && getline(&line, &cap, fp) != -1; i++) {
			if (!tdaemon_is_report(line))
				continue;
			if (shown++ == 0)
				fprintf(stderr, "---- reports in %s ----\n",
					log);
			if (shown <= TCLIENT_MAX_REPORT)
				fputs(line, stderr);
		}
		if (shown > TCLIENT_MAX_REPORT)
			fprintf(stderr, "(%zu more report lines)\n",
				shown - TCLIENT_MAX_REPORT);
	}
	free(line);
	fclose(fp);
	fprintf(stderr, "---- last lines of %s ----\n", log);
	for (i = first; i < n; i++) {
		if (lines[i % TCLIENT_LOG_TAIL] != NULL)
			fputs(lines[i % TCLIENT_LOG_TAIL], stderr);
	}
	fprintf(stderr, "---- end of %s ----\n", log);
	for (i = 0; i < TCLIENT_LOG_TAIL; i++)
		free(lines[i]);
}

void
tdaemon_dump_log(const struct tdaemon *d)
{
	tdaemon_tail(d->log);
}

int
tdaemon_log_count(const struct tdaemon *d, const char *text)
{
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *fp;

	if ((fp = fopen(d->log, "r")) == NULL)
		return -1;
	while (getline(&line, &cap, fp) != -1)
		n += strstr(line, text) != NULL;
	free(line);
	fclose(fp);
	return n;
}
