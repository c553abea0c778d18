/* SPDX-License-Identifier: ISC */
/*
 * Fault injection into the test fleet through /proc (see faultutil.h).
 * Nothing here signals a process it has not just found below one of the
 * fleet's own sshd listeners, or (for the command checks) only reads.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faultutil.h"
#include "testutil.h"

#define FU_SSHD "/usr/sbin/sshd"
#define FU_MAX_DEPTH 64   /* ancestors walked up from one process */
#define FU_MAX_INODES 256 /* sockets of one host address */
#define FU_MAX_ADDRS 64   /* ListenAddress lines of one instance */
#define FU_POLL_MS 20
#define FU_TCP_ESTABLISHED 1 /* "st" column of /proc/net/tcp */

struct fu_proc {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	char state;
	char comm[32];
	char cmd[FU_CMD_MAX];
	int root;  /* index of its per-connection root, -1 if none */
	int depth; /* below the listener */
};

struct fu_snap {
	struct fu_proc *p;
	size_t n;
};

/* Read a small file whole; -1 if it cannot be read. */
static ssize_t
fu_read(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - (size_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

/* One process from /proc; -1 if it vanished meanwhile. */
static int
fu_proc_read(pid_t pid, struct fu_proc *p)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	struct stat st;
	ssize_t n, i;
	int ppid;

	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->root = -1;
	snprintf(path, sizeof path, "/proc/%ld", (long)pid);
	if (stat(path, &st) == -1)
		return -1;
	p->uid = st.st_uid;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (fu_read(path, buf, sizeof buf) <= 0)
		return -1;
	/* The command name may hold spaces and parentheses. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (open_paren == NULL || close_paren == NULL ||
	    close_paren < open_paren)
		return -1;
	snprintf(p->comm, sizeof p->comm, "%.*s",
		 (int)(close_paren - open_paren - 1), open_paren + 1);
	if (sscanf(close_paren + 1, " %c %d", &p->state, &ppid) != 2)
		return -1;
	p->ppid = ppid;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	if ((n = fu_read(path, p->cmd, sizeof p->cmd)) < 0)
		n = 0;
	while (n > 0 && p->cmd[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (p->cmd[i] == '\0')
			p->cmd[i] = ' ';
	p->cmd[n] = '\0';
	return 0;
}

static int
fu_proc_cmp(const void *a, const void *b)
{
	const struct fu_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int
fu_snap_take(struct fu_snap *s, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	char *end;
	long pid;

	s->n = 0;
	if ((s->p = calloc(FU_MAX_PROCS, sizeof *s->p)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((d = opendir("/proc")) == NULL) {
		snprintf(err, errlen, "/proc: %s", strerror(errno));
		free(s->p);
		s->p = NULL;
		return -1;
	}
	while ((de = readdir(d)) != NULL && s->n < FU_MAX_PROCS) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (fu_proc_read((pid_t)pid, &s->p[s->n]) == 0)
			s->n++;
	}
	closedir(d);
	qsort(s->p, s->n, sizeof *s->p, fu_proc_cmp);
	return 0;
}

static void
fu_snap_free(struct fu_snap *s)
{
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

static int
fu_snap_find(const struct fu_snap *s, pid_t pid)
{
	struct fu_proc key = {.pid = pid}, *p;

	p = bsearch(&key, s->p, s->n, sizeof *s->p, fu_proc_cmp);
	return p == NULL ? -1 : (int)(p - s->p);
}

/* The live listener of instance name, or 0. */
static pid_t
fu_listener(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[64], want[PATH_MAX + 8];
	struct fu_proc p;
	long pid;

	snprintf(path, sizeof path, "%s/sshd.%s.pid", dir, name);
	if (fu_read(path, buf, sizeof buf) <= 0)
		return 0;
	pid = strtol(buf, NULL, 10);
	if (pid <= 0 || fu_proc_read((pid_t)pid, &p) == -1 || p.state == 'Z')
		return 0;
	/* The listener's title keeps its arguments: never trust a pid file
	 * alone, the pid may belong to another process by now. */
	snprintf(want, sizeof want, "-f %s/sshd.%s.conf ", dir, name);
	strncat(p.cmd, " ", sizeof p.cmd - strlen(p.cmd) - 1);
	if (strstr(p.cmd, want) == NULL)
		return 0;
	return (pid_t)pid;
}

/* The instance names of the fleet: the N of every DIR/sshd.N.conf. */
static size_t
fu_instances(const char *dir, char names[][32], size_t max)
{
	char pattern[PATH_MAX];
	const char *base, *dot;
	glob_t g;
	size_t i, n = 0;

	snprintf(pattern, sizeof pattern, "%s/sshd.*.conf", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (i = 0; i < g.gl_pathc && n < max; i++) {
		base = strrchr(g.gl_pathv[i], '/');
		base = base ? base + 1 : g.gl_pathv[i];
		base += strlen("sshd.");
		dot = strrchr(base, '.');
		if (dot == NULL || dot <= base || (size_t)(dot - base) >= 32)
			continue;
		snprintf(names[n++], 32, "%.*s", (int)(dot - base), base);
	}
	globfree(&g);
	return n;
}

/*
 * Mark every process below one of the listeners with its per-connection
 * root (the listener's child it descends from) and its depth.
 */
static void
fu_snap_roots(struct fu_snap *s, const pid_t *listeners, size_t nl)
{
	size_t i, k;
	int cur, up, depth, is_l;

	for (i = 0; i < s->n; i++) {
		cur = (int)i;
		for (depth = 0; depth < FU_MAX_DEPTH; depth++) {
			is_l = 0;
			for (k = 0; k < nl; k++)
				if (s->p[cur].ppid == listeners[k])
					is_l = 1;
			if (is_l) {
				s->p[i].root = cur;
				s->p[i].depth = depth;
				break;
			}
			if ((up = fu_snap_find(s, s->p[cur].ppid)) == -1)
				break;
			cur = up;
		}
	}
}

/* Socket inodes of established TCP connections whose local end is
 * addr:port. */
static size_t
fu_inodes(const char *addr, int port, unsigned long *ino, size_t max)
{
	char line[512];
	struct in_addr in;
	unsigned int laddr, lport, raddr, rport, st;
	unsigned long inode;
	size_t n = 0;
	FILE *fp;

	if (inet_pton(AF_INET, addr, &in) != 1)
		return 0;
	if ((fp = fopen("/proc/net/tcp", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL && n < max) {
		/* The address is the raw network-order word in hex, the port
		 * is in host order. */
		if (sscanf(line,
			   " %*d: %x:%x %x:%x %x %*x:%*x %*x:%*x %*x %*u "
			   "%*d %lu",
			   &laddr, &lport, &raddr, &rport, &st, &inode) != 6)
			continue;
		if (laddr == in.s_addr && (int)lport == port &&
		    st == FU_TCP_ESTABLISHED && inode != 0)
			ino[n++] = inode;
	}
	fclose(fp);
	return n;
}

static int
fu_holds_socket(pid_t pid, const unsigned long *ino, size_t nino)
{
	char path[320], link[PATH_MAX], want[64];
	struct dirent *de;
	ssize_t len;
	size_t i;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%ld/fd/%s", (long)pid,
			 de->d_name);
		if ((len = readlink(path, link, sizeof link - 1)) <= 0)
			continue;
		link[len] = '\0';
		for (i = 0; i < nino && !found; i++) {
			snprintf(want, sizeof want, "socket:[%lu]", ino[i]);
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* Append the processes of the roots marked in want, parents first. */
static void
fu_tree_fill(const struct fu_snap *s, const int *want, struct fu_tree *t)
{
	size_t i;
	int depth, r, more = 1;
	char *authed;

	memset(t, 0, sizeof *t);
	if ((authed = calloc(s->n + 1, 1)) == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		if (want[i])
			t->sessions++;
		/* A connection past authentication has the unprivileged
		 * child, titled "sshd: USER@notty" (or @pts). */
		r = s->p[i].root;
		if (r >= 0 && (strstr(s->p[i].cmd, "@notty") != NULL ||
			       strstr(s->p[i].cmd, "@pts") != NULL))
			authed[r] = 1;
	}
	for (depth = 0; more && depth < FU_MAX_DEPTH; depth++) {
		more = 0;
		for (i = 0; i < s->n; i++) {
			r = s->p[i].root;
			if (r < 0 || !want[r])
				continue;
			if (s->p[i].depth > depth)
				more = 1;
			if (s->p[i].depth != depth || t->n == FU_MAX_TREE)
				continue;
			t->pid[t->n] = s->p[i].pid;
			t->is_sshd[t->n] = strcmp(s->p[i].comm, "sshd") == 0;
			t->authed[t->n] = authed[r];
			t->n++;
		}
	}
	free(authed);
}

static size_t
fu_listeners(const char *dir, pid_t *out, size_t max)
{
	char names[FU_MAX_INSTANCES][32];
	size_t i, n, nl = 0;
	pid_t pid;

	n = fu_instances(dir, names, FU_MAX_INSTANCES);
	for (i = 0; i < n && nl < max; i++)
		if ((pid = fu_listener(dir, names[i])) > 0)
			out[nl++] = pid;
	return nl;
}

int
fu_host_tree(const char *dir, const char *addr, int port, struct fu_tree *t,
	     char *err, size_t errlen)
{
	pid_t listeners[FU_MAX_INSTANCES];
	unsigned long ino[FU_MAX_INODES];
	struct fu_snap s;
	size_t nl, nino, i;
	int *want;

	memset(t, 0, sizeof *t);
	if ((nl = fu_listeners(dir, listeners, FU_MAX_INSTANCES)) == 0) {
		snprintf(err, errlen, "no sshd listener of the fleet in %s",
			 dir);
		return -1;
	}
	if (fu_snap_take(&s, err, errlen) == -1)
		return -1;
	fu_snap_roots(&s, listeners, nl);
	nino = fu_inodes(addr, port, ino, FU_MAX_INODES);
	if ((want = calloc(s.n + 1, sizeof *want)) == NULL) {
		fu_snap_free(&s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; nino > 0 && i < s.n; i++) {
		if (s.p[i].root < 0 || want[s.p[i].root] ||
		    strcmp(s.p[i].comm, "sshd") != 0)
			continue;
		if (fu_holds_socket(s.p[i].pid, ino, nino))
			want[s.p[i].root] = 1;
	}
	fu_tree_fill(&s, want, t);
	free(want);
	fu_snap_free(&s);
	return (int)t->sessions;
}

int
fu_instance_tree(const char *dir, const char *n, struct fu_tree *t, char *err,
		 size_t errlen)
{
	struct fu_snap s;
	pid_t listener;
	size_t i;
	int *want;

	memset(t, 0, sizeof *t);
	if ((listener = fu_listener(dir, n)) == 0) {
		snprintf(err, errlen, "sshd instance %s of %s is not running",
			 n, dir);
		return -1;
	}
	if (fu_snap_take(&s, err, errlen) == -1)
		return -1;
	fu_snap_roots(&s, &listener, 1);
	if ((want = calloc(s.n + 1, sizeof *want)) == NULL) {
		fu_snap_free(&s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < s.n; i++)
		if (s.p[i].root >= 0)
			want[s.p[i].root] = 1;
	fu_tree_fill(&s, want, t);
	free(want);
	fu_snap_free(&s);
	/* The listener goes first: killed first, it forks no more. */
	memmove(&t->pid[1], &t->pid[0],
		(t->n < FU_MAX_TREE ? t->n : FU_MAX_TREE - 1) *
		    sizeof t->pid[0]);
	memmove(&t->is_sshd[1], &t->is_sshd[0],
		(t->n < FU_MAX_TREE ? t->n : FU_MAX_TREE - 1) *
		    sizeof t->is_sshd[0]);
	memmove(&t->authed[1], &t->authed[0],
		(t->n < FU_MAX_TREE ? t->n : FU_MAX_TREE - 1) *
		    sizeof t->authed[0]);
	t->pid[0] = listener;
	t->is_sshd[0] = 1;
	t->authed[0] = 0;
	if (t->n < FU_MAX_TREE)
		t->n++;
	return 0;
}

int
fu_signal(const struct fu_tree *t, int sig, int sshd_only)
{
	size_t i;
	int n = 0;

	for (i = 0; i < t->n; i++) {
		if (sshd_only && !t->is_sshd[i])
			continue;
		if (kill(t->pid[i], sig) == 0)
			n++;
	}
	return n;
}

static int
fu_alive(pid_t pid)
{
	struct fu_proc p;

	return fu_proc_read(pid, &p) == 0 && p.state != 'Z';
}

int
fu_wait_gone(const struct fu_tree *t, int timeout_ms)
{
	long long deadline = testutil_now_ms() + timeout_ms;
	size_t i;
	int alive;

	for (;;) {
		alive = 0;
		for (i = 0; i < t->n; i++)
			if (fu_alive(t->pid[i]))
				alive++;
		if (alive == 0)
			return 0;
		if (testutil_now_ms() > deadline)
			return -1;
		usleep(FU_POLL_MS * 1000);
	}
}

/* The ListenAddress lines and the Port of one instance's sshd_config. */
static size_t
fu_conf_addrs(const char *dir, const char *n, char addrs[][64], size_t max,
	      int *port)
{
	char path[PATH_MAX], line[512], val[256];
	size_t count = 0;
	FILE *fp;

	*port = 0;
	snprintf(path, sizeof path, "%s/sshd.%s.conf", dir, n);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (sscanf(line, "ListenAddress %255s", val) == 1 &&
		    count < max)
			snprintf(addrs[count++], 64, "%.63s", val);
		else if (sscanf(line, "Port %255s", val) == 1)
			*port = atoi(val);
	}
	fclose(fp);
	return count;
}

int
fu_instance_of(const char *dir, const char *addr, char *name, size_t namelen)
{
	char names[FU_MAX_INSTANCES][32], addrs[FU_MAX_ADDRS][64];
	size_t i, k, n, na;
	int port;

	n = fu_instances(dir, names, FU_MAX_INSTANCES);
	for (i = 0; i < n; i++) {
		na = fu_conf_addrs(dir, names[i], addrs, FU_MAX_ADDRS, &port);
		for (k = 0; k < na; k++) {
			if (strcmp(addrs[k], addr) == 0) {
				snprintf(name, namelen, "%s", names[i]);
				return 0;
			}
		}
	}
	return -1;
}

static int
fu_accepts(const char *addr, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, ok;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		len = sizeof *sin6;
	} else
		return 0;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return ok;
}

int
fu_instance_start(const char *dir, const char *n, char *err, size_t errlen)
{
	char conf[PATH_MAX], log[PATH_MAX], addrs[FU_MAX_ADDRS][64];
	long long deadline;
	size_t na, i, ready;
	pid_t pid;
	int st, port, fd;

	snprintf(conf, sizeof conf, "%s/sshd.%s.conf", dir, n);
	snprintf(log, sizeof log, "%s/sshd.%s.log", dir, n);
	na = fu_conf_addrs(dir, n, addrs, FU_MAX_ADDRS, &port);
	if (na == 0 || port <= 0) {
		snprintf(err, errlen, "%s: no ListenAddress or Port", conf);
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		/* sshd closes every other descriptor itself at start. */
		execl(FU_SSHD, FU_SSHD, "-f", conf, "-E", log, (char *)NULL);
		_exit(127);
	}
	/* sshd daemonizes: the process we started exits at once. */
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "%s -f %s failed (status 0x%x), see %s",
			 FU_SSHD, conf, st, log);
		return -1;
	}
	deadline = testutil_now_ms() + FU_START_WAIT_MS;
	for (;;) {
		for (i = 0, ready = 0; i < na; i++)
			ready += fu_accepts(addrs[i], port);
		if (ready == na)
			return 0;
		if (testutil_now_ms() > deadline) {
			snprintf(err, errlen,
				 "sshd instance %s: %zu of %zu addresses "
				 "accept after %d ms, see %s",
				 n, ready, na, FU_START_WAIT_MS, log);
			return -1;
		}
		usleep(FU_POLL_MS * 1000);
	}
}

int
fu_fleet_heal(const char *dir, char *err, size_t errlen)
{
	char names[FU_MAX_INSTANCES][32];
	pid_t listeners[FU_MAX_INSTANCES];
	struct fu_snap s;
	size_t i, n, nl;

	n = fu_instances(dir, names, FU_MAX_INSTANCES);
	if (n == 0) {
		snprintf(err, errlen, "no sshd configuration in %s", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (fu_listener(dir, names[i]) != 0)
			continue;
		fprintf(stderr, "fleet instance %s was down: starting it\n",
			names[i]);
		if (fu_instance_start(dir, names[i], err, errlen) == -1)
			return -1;
	}
	nl = fu_listeners(dir, listeners, FU_MAX_INSTANCES);
	if (fu_snap_take(&s, err, errlen) == -1)
		return -1;
	fu_snap_roots(&s, listeners, nl);
	for (i = 0; i < s.n; i++) {
		if (s.p[i].root < 0 || s.p[i].state != 'T')
			continue;
		kill(s.p[i].pid, SIGKILL);
		kill(s.p[i].pid, SIGCONT);
	}
	fu_snap_free(&s);
	return 0;
}

int
fu_count_cmd(uid_t uid, const char *cmd)
{
	struct fu_proc p;
	struct dirent *de;
	char *end;
	long pid;
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (fu_proc_read((pid_t)pid, &p) == -1)
			continue;
		if (p.uid == uid && p.state != 'Z' && strcmp(p.cmd, cmd) == 0)
			n++;
	}
	closedir(d);
	return n;
}

long long
fu_wait_cmd_gone(uid_t uid, const char *cmd, int timeout_ms)
{
	long long t0 = testutil_now_ms(), deadline = t0 + timeout_ms;

	for (;;) {
		if (fu_count_cmd(uid, cmd) == 0)
			return testutil_now_ms() - t0;
		if (testutil_now_ms() > deadline)
			return -1;
		usleep(FU_POLL_MS * 1000);
	}
}
