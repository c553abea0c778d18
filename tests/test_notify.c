/* SPDX-License-Identifier: ISC */
/*
 * notify.c against a real notification listener (a datagram socket in a
 * temporary directory, and one in the abstract namespace) and real passed
 * sockets.  Datagrams are compared byte for byte with what systemd would
 * read.  Socket-activation cases run in a forked child that owns fds 3 and
 * up, since Check keeps its own descriptors there; the child reports the
 * first failed step through a pipe.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "testutil.h"

#define TEST_THREADS 4
#define TEST_PER_THREAD 200
#define TEST_POLL_MS 5000
#define TEST_REPORT_FD 200 /* the child's end of the report pipe */
#define TEST_MAX_REPORT 512

static char tmpdir[64];
static char sockpath[128];
static char err[NOTIFY_MAX_ERR];

static void
test_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(sockpath, sizeof(sockpath), "%s/notify", tmpdir);
}

static void
test_rmtmp(void)
{
	unlink(sockpath);
	rmdir(tmpdir);
}

/* A listener like systemd's: SOCK_DGRAM, bound to path or "@name". */
static int
test_listener(const char *addr)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(addr), sizeof(sun.sun_path));
	memcpy(sun.sun_path, addr, strlen(addr));
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr));
	if (addr[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

/* The next datagram, NUL-terminated; its length, or -1 after timeout. */
static ssize_t
test_recv(int fd, char *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	n = recv(fd, buf, size - 1, MSG_DONTWAIT);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static void
test_expect(int fd, const char *want)
{
	char buf[NOTIFY_MAX_DATAGRAM + 16];
	ssize_t n;

	n = test_recv(fd, buf, sizeof(buf), TEST_POLL_MS);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_str_eq(buf, want);
}

static void
test_expect_none(int fd)
{
	char buf[64];

	ck_assert_int_eq(test_recv(fd, buf, sizeof(buf), 50), -1);
}

static void
test_clearenv(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

START_TEST(test_no_socket)
{
	test_clearenv();
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	ck_assert_int_eq(notify_enabled(), 0);
	ck_assert_int_eq(notify_send("READY=1"), 0);
	ck_assert_uint_eq(notify_watchdog_usec(), 0);
	/* Without init at all, too. */
	notify_close();
	ck_assert_int_eq(notify_send("STOPPING=1"), 0);
}
END_TEST

START_TEST(test_path_socket)
{
	char pid[32];
	int fd;

	test_clearenv();
	test_tmpdir();
	fd = test_listener(sockpath);
	setenv("NOTIFY_SOCKET", sockpath, 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	ck_assert_int_eq(notify_enabled(), 1);
	/* Children must not inherit the socket. */
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));

	ck_assert_int_eq(notify_send("READY=1\nSTATUS=%d hosts up, %d jobs "
				     "running",
				     12, 3),
			 1);
	test_expect(fd, "READY=1\nSTATUS=12 hosts up, 3 jobs running");
	ck_assert_int_eq(notify_send("RELOADING=1"), 1);
	test_expect(fd, "RELOADING=1");
	ck_assert_int_eq(notify_send("WATCHDOG=1"), 1);
	test_expect(fd, "WATCHDOG=1");
	ck_assert_int_eq(notify_send("STOPPING=1\nSTATUS=%s", "stopping"), 1);
	test_expect(fd, "STOPPING=1\nSTATUS=stopping");
	ck_assert_int_eq(notify_send("MAINPID=%ld", (long)getpid()), 1);
	snprintf(pid, sizeof(pid), "MAINPID=%ld", (long)getpid());
	test_expect(fd, pid);
	test_expect_none(fd);
	notify_close();
	ck_assert_int_eq(notify_enabled(), 0);
	ck_assert_int_eq(notify_send("READY=1"), 0);
	test_expect_none(fd);
	close(fd);
	test_rmtmp();
}
END_TEST

START_TEST(test_abstract_socket)
{
	char name[64];
	int fd;

	test_clearenv();
	snprintf(name, sizeof(name), "@sshpool-test-notify-%ld-%ld",
		 (long)getpid(), (long)time(NULL));
	fd = test_listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	ck_assert_int_eq(notify_send("READY=1\nSTATUS=ready"), 1);
	test_expect(fd, "READY=1\nSTATUS=ready");
	close(fd);
	/* Nobody listens any more: an error, not a crash or a hang. */
	errno = 0;
	ck_assert_int_eq(notify_send("WATCHDOG=1"), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
}
END_TEST

START_TEST(test_too_long)
{
	char big[NOTIFY_MAX_DATAGRAM + 1];
	int fd;

	test_clearenv();
	test_tmpdir();
	fd = test_listener(sockpath);
	setenv("NOTIFY_SOCKET", sockpath, 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	/* The longest that fits, then one byte more. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "STATUS=", 7);
	big[NOTIFY_MAX_DATAGRAM - 1] = '\0';
	ck_assert_int_eq(notify_send("%s", big), 1);
	test_expect(fd, big);
	big[NOTIFY_MAX_DATAGRAM - 1] = 'x';
	big[NOTIFY_MAX_DATAGRAM] = '\0';
	errno = 0;
	ck_assert_int_eq(notify_send("%s", big), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	test_expect_none(fd);
	close(fd);
	test_rmtmp();
}
END_TEST

START_TEST(test_bad_socket_values)
{
	static const char *bad[] = {
	    "relative/notify", "", "@", "/", "vsock:2:1234",
	};
	char longpath[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_clearenv();
		setenv("NOTIFY_SOCKET", bad[i], 1);
		err[0] = '\0';
		ck_assert_int_eq(notify_init(err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "NOTIFY_SOCKET") != NULL,
			      "value \"%s\": %s", bad[i], err);
		ck_assert_int_eq(notify_enabled(), 0);
		ck_assert_int_eq(notify_send("READY=1"), 0);
	}
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bytes"));
}
END_TEST

START_TEST(test_watchdog)
{
	char pid[32];

	test_clearenv();
	setenv("WATCHDOG_USEC", "30000000", 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	ck_assert_uint_eq(notify_watchdog_usec(), 30000000);
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));

	/* For this process. */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_USEC", "2500000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	ck_assert_uint_eq(notify_watchdog_usec(), 2500000);
	ck_assert_ptr_null(getenv("WATCHDOG_PID"));

	/* For another process (e.g. inherited from a parent). */
	snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	setenv("WATCHDOG_USEC", "2500000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	ck_assert_uint_eq(notify_watchdog_usec(), 0);

	/* The largest value there is. */
	test_clearenv();
	setenv("WATCHDOG_USEC", "18446744073709551615", 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	ck_assert_uint_eq(notify_watchdog_usec(), UINT64_MAX);
}
END_TEST

START_TEST(test_watchdog_bad)
{
	static const char *bad_usec[] = {
	    "",
	    "0",
	    "-5",
	    "abc",
	    "12x",
	    " 12",
	    "+12",
	    "1e6",
	    "18446744073709551616",
	    "99999999999999999999999",
	};
	static const char *bad_pid[] = {"", "0", "-1", "x1", "4294967296"};
	size_t i;

	for (i = 0; i < sizeof(bad_usec) / sizeof(bad_usec[0]); i++) {
		test_clearenv();
		setenv("WATCHDOG_USEC", bad_usec[i], 1);
		ck_assert_msg(notify_init(err, sizeof(err)) == -1,
			      "WATCHDOG_USEC=\"%s\" accepted", bad_usec[i]);
		ck_assert_ptr_nonnull(strstr(err, "WATCHDOG_USEC"));
		ck_assert_uint_eq(notify_watchdog_usec(), 0);
	}
	for (i = 0; i < sizeof(bad_pid) / sizeof(bad_pid[0]); i++) {
		test_clearenv();
		setenv("WATCHDOG_USEC", "1000000", 1);
		setenv("WATCHDOG_PID", bad_pid[i], 1);
		ck_assert_msg(notify_init(err, sizeof(err)) == -1,
			      "WATCHDOG_PID=\"%s\" accepted", bad_pid[i]);
		ck_assert_ptr_nonnull(strstr(err, "WATCHDOG_PID"));
		ck_assert_uint_eq(notify_watchdog_usec(), 0);
	}
}
END_TEST

struct test_sender {
	pthread_t thread;
	int index;
	int failures;
};

static void *
test_send_thread(void *arg)
{
	struct test_sender *s = arg;
	struct timespec pause = {0, 100000};
	int i, rc;

	for (i = 0; i < TEST_PER_THREAD; i++) {
		/* A full queue is EAGAIN (never a block): retry it. */
		while ((rc = notify_send("WATCHDOG=1\nSTATUS=thread %d "
					 "message %d",
					 s->index, i)) == -1 &&
		       errno == EAGAIN)
			nanosleep(&pause, NULL);
		if (rc != 1)
			s->failures++;
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct test_sender senders[TEST_THREADS];
	int seen[TEST_THREADS][TEST_PER_THREAD];
	char buf[256];
	int fd, i, t, m, got = 0;
	ssize_t n;

	test_clearenv();
	test_tmpdir();
	fd = test_listener(sockpath);
	setenv("NOTIFY_SOCKET", sockpath, 1);
	ck_assert_int_eq(notify_init(err, sizeof(err)), 0);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < TEST_THREADS; i++) {
		senders[i].index = i;
		senders[i].failures = 0;
		ck_assert_int_eq(pthread_create(&senders[i].thread, NULL,
						test_send_thread, &senders[i]),
				 0);
	}
	while (got < TEST_THREADS * TEST_PER_THREAD) {
		n = test_recv(fd, buf, sizeof(buf), TEST_POLL_MS);
		ck_assert_int_gt(n, 0);
		/* Each datagram whole and unmixed. */
		ck_assert_int_eq(sscanf(buf,
					"WATCHDOG=1\nSTATUS=thread %d "
					"message %d",
					&t, &m),
				 2);
		ck_assert(t >= 0 && t < TEST_THREADS);
		ck_assert(m >= 0 && m < TEST_PER_THREAD);
		snprintf(err, sizeof(err),
			 "WATCHDOG=1\nSTATUS=thread %d message %d", t, m);
		ck_assert_str_eq(buf, err);
		ck_assert_int_eq(seen[t][m], 0);
		seen[t][m] = 1;
		got++;
	}
	for (i = 0; i < TEST_THREADS; i++) {
		ck_assert_int_eq(pthread_join(senders[i].thread, NULL), 0);
		ck_assert_int_eq(senders[i].failures, 0);
	}
	test_expect_none(fd);
	close(fd);
	test_rmtmp();
}
END_TEST

/*
 * Socket activation.  The child puts the sockets made by setup at fds 3...,
 * sets the variables and returns the step that failed, with a message on
 * the report pipe; 0 when every step passed.
 */
struct test_act {
	int nfds;                         /* passed at fds 3.. */
	int kinds[NOTIFY_MAX_LISTEN_FDS]; /* enum test_kind */
	const char *listen_pid;           /* NULL: this process; "": unset */
	const char *listen_fds;           /* NULL: nfds */
	const char *names;                /* LISTEN_FDNAMES, NULL: unset */
	size_t max;
	int want;             /* return value */
	const char *want_err; /* substring of the error */
	const char *want_names[NOTIFY_MAX_LISTEN_FDS];
};

enum test_kind {
	TEST_UNIX_LISTENER,
	TEST_SOCKETPAIR, /* AF_UNIX stream, not listening */
	TEST_UNIX_DGRAM,
	TEST_INET_LISTENER,
	TEST_PIPE,
};

static void test_report(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static void
test_report(const char *fmt, ...)
{
	char buf[TEST_MAX_REPORT];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(TEST_REPORT_FD, buf,
			     (size_t)n < sizeof(buf) ? (size_t)n
						     : sizeof(buf) - 1);
}

static int
test_make(enum test_kind kind, const char *dir, int i)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	int fd, sv[2];

	switch (kind) {
	case TEST_UNIX_LISTENER:
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/l%d", dir, i);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd == -1 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
		    listen(fd, 8) == -1)
			return -1;
		return fd;
	case TEST_SOCKETPAIR:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			return -1;
		return sv[0]; /* sv[1] stays open: no EOF games */
	case TEST_UNIX_DGRAM:
		return socket(AF_UNIX, SOCK_DGRAM, 0);
	case TEST_INET_LISTENER:
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd == -1 ||
		    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    listen(fd, 8) == -1)
			return -1;
		return fd;
	case TEST_PIPE:
		if (pipe(sv) == -1)
			return -1;
		return sv[0];
	}
	return -1;
}

static int
test_act_child(const struct test_act *a, const char *dir)
{
	struct notify_listen_fd fds[NOTIFY_MAX_LISTEN_FDS];
	char msg[NOTIFY_MAX_ERR], num[32];
	int made[NOTIFY_MAX_LISTEN_FDS];
	int i, n, fl, fdfl;

	/* Make them all first: fds 3.. may be among the new ones. */
	for (i = 0; i < a->nfds; i++) {
		made[i] = test_make(a->kinds[i], dir, i);
		if (made[i] == -1) {
			test_report("making socket %d: %s", i, strerror(errno));
			return 1;
		}
		made[i] = fcntl(made[i], F_DUPFD, 100);
	}
	for (i = 0; i < a->nfds; i++) {
		if (dup2(made[i], NOTIFY_LISTEN_FDS_START + i) == -1) {
			test_report("dup2: %s", strerror(errno));
			return 2;
		}
		close(made[i]);
		/* systemd passes them without CLOEXEC, blocking. */
		fcntl(NOTIFY_LISTEN_FDS_START + i, F_SETFD, 0);
	}
	for (i = a->nfds; i < NOTIFY_MAX_LISTEN_FDS; i++)
		close(NOTIFY_LISTEN_FDS_START + i);

	test_clearenv();
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	if (a->listen_pid == NULL)
		setenv("LISTEN_PID", num, 1);
	else if (a->listen_pid[0] != '\0')
		setenv("LISTEN_PID", a->listen_pid, 1);
	snprintf(num, sizeof(num), "%d", a->nfds);
	setenv("LISTEN_FDS", a->listen_fds != NULL ? a->listen_fds : num, 1);
	if (a->names != NULL)
		setenv("LISTEN_FDNAMES", a->names, 1);

	msg[0] = '\0';
	n = notify_listen_fds(fds, a->max, msg, sizeof(msg));
	if (n != a->want) {
		test_report("returned %d, want %d (%s)", n, a->want, msg);
		return 3;
	}
	if (getenv("LISTEN_PID") != NULL || getenv("LISTEN_FDS") != NULL ||
	    getenv("LISTEN_FDNAMES") != NULL) {
		test_report("variables left in the environment");
		return 4;
	}
	if (a->want_err != NULL && strstr(msg, a->want_err) == NULL) {
		test_report("error \"%s\" lacks \"%s\"", msg, a->want_err);
		return 5;
	}
	for (i = 0; i < n; i++) {
		if (fds[i].fd != NOTIFY_LISTEN_FDS_START + i) {
			test_report("fd %d is %d", i, fds[i].fd);
			return 6;
		}
		fdfl = fcntl(fds[i].fd, F_GETFD);
		fl = fcntl(fds[i].fd, F_GETFL);
		if (fdfl == -1 || !(fdfl & FD_CLOEXEC) || fl == -1 ||
		    !(fl & O_NONBLOCK)) {
			test_report("fd %d: CLOEXEC or O_NONBLOCK not set",
				    fds[i].fd);
			return 7;
		}
		if (a->want_names[i] != NULL &&
		    strcmp(fds[i].name, a->want_names[i]) != 0) {
			test_report("name %d is \"%s\", want \"%s\"", i,
				    fds[i].name, a->want_names[i]);
			return 8;
		}
		/* Usable: a connection to it is accepted. */
		if (a->kinds[i] == TEST_UNIX_LISTENER) {
			struct sockaddr_un sun;
			int c, s;

			memset(&sun, 0, sizeof(sun));
			sun.sun_family = AF_UNIX;
			snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/l%d",
				 dir, i);
			c = socket(AF_UNIX, SOCK_STREAM, 0);
			if (c == -1 ||
			    connect(c, (struct sockaddr *)&sun, sizeof(sun)) ==
				-1 ||
			    (s = accept(fds[i].fd, NULL, NULL)) == -1) {
				test_report("fd %d: connect/accept: %s",
					    fds[i].fd, strerror(errno));
				return 9;
			}
			close(s);
			close(c);
		}
	}
	return 0;
}

static void
test_activation(const struct test_act *a)
{
	char report[TEST_MAX_REPORT];
	int p[2], status, i;
	ssize_t n;
	pid_t pid;

	test_tmpdir();
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], TEST_REPORT_FD) == -1)
			_exit(100);
		close(p[1]);
		_exit(test_act_child(a, tmpdir));
	}
	close(p[1]);
	n = read(p[0], report, sizeof(report) - 1);
	report[n > 0 ? n : 0] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	for (i = 0; i < a->nfds; i++) {
		char path[160];

		snprintf(path, sizeof(path), "%s/l%d", tmpdir, i);
		unlink(path);
	}
	test_rmtmp();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child step %d: %s",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1, report);
}

START_TEST(test_listen_none)
{
	struct notify_listen_fd fds[NOTIFY_MAX_LISTEN_FDS];

	test_clearenv();
	ck_assert_int_eq(
	    notify_listen_fds(fds, NOTIFY_MAX_LISTEN_FDS, err, sizeof(err)), 0);
	/* LISTEN_FDS without LISTEN_PID is not activation either. */
	setenv("LISTEN_FDS", "2", 1);
	ck_assert_int_eq(
	    notify_listen_fds(fds, NOTIFY_MAX_LISTEN_FDS, err, sizeof(err)), 0);
	ck_assert_ptr_null(getenv("LISTEN_FDS"));
}
END_TEST

START_TEST(test_listen_one)
{
	struct test_act a = {
	    .nfds = 1,
	    .kinds = {TEST_UNIX_LISTENER},
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = 1,
	    .want_names = {"unknown"},
	};

	test_activation(&a);
}
END_TEST

START_TEST(test_listen_named)
{
	struct test_act a = {
	    .nfds = 3,
	    .kinds = {TEST_UNIX_LISTENER, TEST_UNIX_LISTENER,
		      TEST_UNIX_LISTENER},
	    .names = "sshpoold.socket:admin:x",
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = 3,
	    .want_names = {"sshpoold.socket", "admin", "x"},
	};

	test_activation(&a);
}
END_TEST

START_TEST(test_listen_zero)
{
	struct test_act a = {
	    .nfds = 0,
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = 0,
	};

	test_activation(&a);
}
END_TEST

START_TEST(test_listen_other_pid)
{
	struct test_act a = {
	    .nfds = 1,
	    .kinds = {TEST_UNIX_LISTENER},
	    .listen_pid = "1",
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = 0,
	};

	test_activation(&a);
}
END_TEST

START_TEST(test_listen_bad_pid)
{
	static const char *bad[] = {"abc", "-1", "0", "", "12 ", "99999999999"};
	struct test_act a = {
	    .nfds = 1,
	    .kinds = {TEST_UNIX_LISTENER},
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = -1,
	    .want_err = "LISTEN_PID",
	};

	a.listen_pid = bad[_i];
	if (a.listen_pid[0] == '\0') {
		/* Unset, not malformed: not activated. */
		a.want = 0;
		a.want_err = NULL;
	}
	test_activation(&a);
}
END_TEST

START_TEST(test_listen_bad_count)
{
	static const char *bad[] = {"abc", "-1", "",
				    "1x",  "+1", "99999999999999999999"};
	struct test_act a = {
	    .nfds = 1,
	    .kinds = {TEST_UNIX_LISTENER},
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = -1,
	    .want_err = "LISTEN_FDS",
	};

	a.listen_fds = bad[_i];
	test_activation(&a);
}
END_TEST

START_TEST(test_listen_too_many)
{
	struct test_act a = {
	    .nfds = 3,
	    .kinds = {TEST_UNIX_LISTENER, TEST_UNIX_LISTENER,
		      TEST_UNIX_LISTENER},
	    .max = 2,
	    .want = -1,
	    .want_err = "at most 2",
	};

	test_activation(&a);
}
END_TEST

START_TEST(test_listen_not_passed)
{
	/* LISTEN_FDS counts more descriptors than are open. */
	struct test_act a = {
	    .nfds = 1,
	    .kinds = {TEST_UNIX_LISTENER},
	    .listen_fds = "2",
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = -1,
	    .want_err = "fd 4: Bad file descriptor",
	};

	test_activation(&a);
}
END_TEST

START_TEST(test_listen_wrong_kind)
{
	static const struct {
		enum test_kind kind;
		const char *err;
	} cases[] = {
	    {TEST_SOCKETPAIR, "not listening"},
	    {TEST_UNIX_DGRAM, "not a stream socket"},
	    {TEST_INET_LISTENER, "not an AF_UNIX socket"},
	    {TEST_PIPE, "not a socket"},
	};
	struct test_act a = {
	    .nfds = 2,
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = -1,
	};

	a.kinds[0] = TEST_UNIX_LISTENER;
	a.kinds[1] = cases[_i].kind;
	a.want_err = cases[_i].err;
	test_activation(&a);
}
END_TEST

START_TEST(test_listen_bad_names)
{
	static const char *bad[] = {"a", "a:b:c", "a:", ":b", ""};
	struct test_act a = {
	    .nfds = 2,
	    .kinds = {TEST_UNIX_LISTENER, TEST_UNIX_LISTENER},
	    .max = NOTIFY_MAX_LISTEN_FDS,
	    .want = -1,
	    .want_err = "LISTEN_FDNAMES",
	};

	a.names = bad[_i];
	test_activation(&a);
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc;

	tc = tcase_create("notify");
	tcase_add_test(tc, test_no_socket);
	tcase_add_test(tc, test_path_socket);
	tcase_add_test(tc, test_abstract_socket);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_bad_socket_values);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_watchdog_bad);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen_fds");
	tcase_add_test(tc, test_listen_none);
	tcase_add_test(tc, test_listen_one);
	tcase_add_test(tc, test_listen_named);
	tcase_add_test(tc, test_listen_zero);
	tcase_add_test(tc, test_listen_other_pid);
	tcase_add_loop_test(tc, test_listen_bad_pid, 0, 6);
	tcase_add_loop_test(tc, test_listen_bad_count, 0, 6);
	tcase_add_test(tc, test_listen_too_many);
	tcase_add_test(tc, test_listen_not_passed);
	tcase_add_loop_test(tc, test_listen_wrong_kind, 0, 4);
	tcase_add_loop_test(tc, test_listen_bad_names, 0, 5);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(notify_suite());
}
