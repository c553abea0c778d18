/* SPDX-License-Identifier: ISC */
/*
 * sshpoold as a service, against the loopback fleet (the CTest fixture
 * "fleet"): the systemd notification protocol seen from a fake service
 * manager (a datagram socket named by NOTIFY_SOCKET), the watchdog withheld
 * while a worker is stuck (the SSHPOOL_TEST_HOOKS=1 SIGUSR2 hook), socket
 * activation through systemd-socket-activate, reload on SIGHUP with a
 * changed and with a broken configuration while commands run, and with a
 * new HostName for a pooled host, the graceful stop on SIGTERM with
 * running and with quick jobs, a socket
 * directory that is a symbolic link or another user's, a client that
 * half-closes its socket, and a hostile server's text in the log.
 *
 * Every test starts its own daemon through tclient (the environment it sets
 * is inherited by the daemon) and checks that it exits with status 0.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tclient.h"
#include "tcollect.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

#define SV_MS(ms) tclient_scaled_ms(ms)
#define SV_TIMEOUT_S 60            /* Check timeout of one test */
#define SV_EVENT_MS SV_MS(15000)   /* longest wait for one event */
#define SV_NOTIFY_MS SV_MS(5000)   /* longest wait for one notification */
#define SV_MAX_NOTES 512           /* notifications kept */
#define SV_OUT_MAX 256             /* output bytes kept per host */
#define SV_WATCHDOG_USEC "1000000" /* pings every 500 ms */
#define SV_PING_GAP_MS 900         /* longest gap between healthy pings */
#define SV_STUCK_MS 5000           /* WORKER_STUCK_MS of the daemon */
#define SV_STALL_MS 8000           /* how long the hook blocks worker 0 */
#define SV_STOP_HOSTS 20
#define SV_STATUS_MS SV_MS(8000) /* a STATUS= refresh must come by then */
#define SV_OTHER_UID 65534       /* nobody: another local user */
#define SV_HOSTILE_WAIT_MS 2000  /* the hostile server waits for EOF */
#define SV_HOSTILE_QUIET_MS 200  /* the client has said its piece */
#define SV_SSH_MSG_DISCONNECT 1
#define SV_SSH_DISCONNECT_PROTOCOL_ERROR 2

/* One datagram from the daemon, with its arrival time. */
struct note {
	long long t;
	char text[512];
};

/* The fake service manager's end of NOTIFY_SOCKET. */
struct notes {
	int fd;
	char path[PATH_MAX];
	struct note v[SV_MAX_NOTES];
	size_t n;
};

static struct tfleet fleet;
static struct tdaemon daemon_;
static struct notes notes_;
static char errbuf[2048];

/* ---- the daemon ---- */

void
testutil_failed(void)
{
	if (daemon_.pid <= 0)
		return;
	kill(daemon_.pid, SIGKILL);
	waitpid(daemon_.pid, NULL, 0);
	fprintf(stderr, "test failed; sshpoold's files are in %s\n",
		daemon_.dir);
	tdaemon_dump_log(&daemon_);
	daemon_.pid = 0;
}

static void
sv_prepare(void)
{
	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ck_assert_msg(
	    tdaemon_prepare(&daemon_, &fleet, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
}

static void
sv_launch(const char *extra)
{
	struct tdaemon_opts o;

	memset(&o, 0, sizeof o);
	o.extra = extra;
	ck_assert_msg(
	    tdaemon_start(&daemon_, &fleet, &o, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
}

static struct tclient *
sv_connect(void)
{
	struct tclient *c = tclient_connect(daemon_.sock);

	ck_assert_msg(c != NULL, "connect %s failed", daemon_.sock);
	return c;
}

/* Wait (bounded) for the daemon to exit on its own, without reaping it:
 * tdaemon_stop then collects the status.  Returns the time it took. */
static long long
sv_wait_exit(int timeout_ms)
{
	long long start = testutil_now_ms();
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof si);
		ck_assert_msg(waitid(P_PID, (id_t)daemon_.pid, &si,
				     WEXITED | WNOHANG | WNOWAIT) == 0,
			      "waitid: %s", strerror(errno));
		if (si.si_pid == daemon_.pid)
			return testutil_now_ms() - start;
		ck_assert_msg(testutil_now_ms() - start < timeout_ms,
			      "sshpoold still runs %d ms after SIGTERM",
			      timeout_ms);
		usleep(5 * 1000);
	}
}

/* Collect the exit status of a daemon that exited: it must be 0. */
static void
sv_assert_exit0(void)
{
	int st = tdaemon_stop(&daemon_);

	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "sshpoold exit status 0x%x", st);
}

static void
sv_end(void)
{
	sv_assert_exit0();
	tdaemon_cleanup(&daemon_);
}

/* 1 if the daemon's log has a line containing text. */
static int
sv_log_has(const char *text)
{
	return tdaemon_log_count(&daemon_, text) > 0;
}

/* Append text to the daemon's configuration file. */
static void
sv_conf_append(const char *text)
{
	FILE *fp = fopen(daemon_.conf, "a");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Remote processes of the fleet's user whose command line has pattern. */
static int
sv_remote_count(const char *pattern)
{
	char cmd[256];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "pgrep -c -u %s -f '%s'", fleet.user,
		 pattern);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	ck_assert_msg(n >= 0, "pgrep gave no count");
	return n;
}

/* ---- the fake service manager ---- */

static void
notes_open(void)
{
	struct sockaddr_un sun;

	memset(&notes_, 0, sizeof notes_);
	snprintf(notes_.path, sizeof notes_.path, "%s/notify", daemon_.dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert(strlen(notes_.path) < sizeof sun.sun_path);
	strcpy(sun.sun_path, notes_.path);
	notes_.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(notes_.fd, 0);
	ck_assert_msg(bind(notes_.fd, (struct sockaddr *)&sun, sizeof sun) == 0,
		      "bind %s: %s", notes_.path, strerror(errno));
	setenv("NOTIFY_SOCKET", notes_.path, 1);
}

/* Receive one notification within timeout_ms; NULL on timeout. */
static const struct note *
notes_recv(int timeout_ms)
{
	struct pollfd pfd = {notes_.fd, POLLIN, 0};
	struct note *nt;
	ssize_t n;

	ck_assert_msg(notes_.n < SV_MAX_NOTES, "too many notifications");
	if (poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms) <= 0)
		return NULL;
	nt = &notes_.v[notes_.n];
	n = recv(notes_.fd, nt->text, sizeof nt->text - 1, 0);
	ck_assert_msg(n > 0, "recv notification: %s", strerror(errno));
	nt->text[n] = '\0';
	nt->t = testutil_now_ms();
	notes_.n++;
	return nt;
}

/* 1 if the datagram has the assignment line (e.g. "READY=1"), or a line
 * starting with it when it ends with '='. */
static int
note_has(const struct note *nt, const char *line)
{
	size_t len = strlen(line);
	const char *p = nt->text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, line, len) == 0 &&
		    (line[len - 1] == '=' || p[len] == '\n' || p[len] == '\0'))
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

/* Receive until a notification with line arrives; it is returned. */
static const struct note *
notes_wait(const char *line, int timeout_ms)
{
	long long deadline = testutil_now_ms() + timeout_ms;
	const struct note *nt;

	for (;;) {
		nt = notes_recv((int)(deadline - testutil_now_ms()));
		ck_assert_msg(nt != NULL, "no %s from sshpoold within %d ms",
			      line, timeout_ms);
		if (note_has(nt, line))
			return nt;
	}
}

/* The value of STATUS= in a notification, or NULL. */
static const char *
note_status(const struct note *nt)
{
	const char *p = strstr(nt->text, "STATUS=");

	if (p == NULL || (p != nt->text && p[-1] != '\n'))
		return NULL;
	return p + strlen("STATUS=");
}

/* ---- requests and events ---- */

static void
sv_coll(struct tcollect *k)
{
	tcollect_init(k);
	k->keep = SV_OUT_MAX;
}

/* 1 if an event line arrived within timeout_ms (it is dropped). */
static int
sv_next_event(struct tclient *c, int timeout_ms)
{
	struct proto_event *ev;

	if (tclient_next(c, timeout_ms, &ev, NULL) == -1)
		return 0;
	proto_event_free(ev);
	return 1;
}

/* Read until request id (JSON text) ended; the wire rules must hold. */
static struct tcollect_req *
sv_wait_end(struct tclient *c, struct tcollect *k, const char *id,
	    int timeout_ms)
{
	struct tcollect_req *d = tcollect_wait_end(c, k, id, timeout_ms);

	tcollect_check(k);
	return d;
}

/* Read until every host of request id has started. */
static void
sv_wait_starts(struct tclient *c, struct tcollect *k, const char *id,
	       size_t from, size_t n)
{
	long long deadline = testutil_now_ms() + SV_EVENT_MS;
	size_t i;

	for (i = from; i < from + n; i++)
		tcollect_wait_start(c, k, id, fleet.hosts[i],
				    (int)(deadline - testutil_now_ms()));
}

static const char *
q(const char *id)
{
	static char buf[4][PROTO_MAX_ID + 3];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof buf[n], "\"%s\"", id);
	return buf[n];
}

/* A JSON array of the fleet hosts [from, from + n). */
static char *
hosts_json(size_t from, size_t n)
{
	size_t i, cap = 4 + n * 40, o = 0;
	char *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(from + n <= fleet.nhosts, "fleet has %zu hosts, need %zu",
		      fleet.nhosts, from + n);
	out[o++] = '[';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s\"%s\"",
				      i ? "," : "", fleet.hosts[from + i]);
	out[o++] = ']';
	out[o] = '\0';
	return out;
}

/* Run command (no quotes or backslashes in it) on hosts [from, from+n). */
static void
send_run(struct tclient *c, const char *id, size_t from, size_t n,
	 const char *command)
{
	char *hosts = hosts_json(from, n);

	ck_assert_msg(tclient_send(c,
				   "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
				   "\"hosts\":%s,\"command\":\"%s\"}",
				   id, hosts, command) == 0,
		      "send: %s", tclient_error(c));
	free(hosts);
}

/* Every host of the request exited with status 0 and printed want. */
static void
assert_all_ok(struct tcollect *k, const char *id, size_t from, size_t n,
	      const char *want)
{
	struct tcollect_req *d = tcollect_req(k, id);
	struct tcollect_host *h;
	size_t i;

	ck_assert_msg(d != NULL && d->ends == 1 && !d->reqerr,
		      "request %s: no single done", id);
	ck_assert_msg(d->done.hosts == n && d->done.ok == n,
		      "request %s: done hosts %zu ok %zu failed %zu errors "
		      "%zu, expected %zu ok",
		      id, d->done.hosts, d->done.ok, d->done.failed,
		      d->done.errors, n);
	for (i = from; i < from + n; i++) {
		h = tcollect_host(k, id, fleet.hosts[i]);
		ck_assert_msg(h != NULL, "%s: no events for %s", id,
			      fleet.hosts[i]);
		ck_assert_msg(h->starts == 1 && h->terminals == 1 &&
				  h->exited && h->status == 0,
			      "%s on %s: starts %d terminals %d exit %d "
			      "status %d code %s",
			      id, h->host, h->starts, h->terminals, h->exited,
			      h->status, proto_code_name(h->code));
		if (want != NULL)
			ck_assert_msg(h->outlen == strlen(want) &&
					  memcmp(h->out, want, h->outlen) == 0,
				      "%s on %s: output '%.*s', expected '%s'",
				      id, h->host, (int)h->outlen, h->out,
				      want);
	}
}

/* The max_hosts a new connection's hello announces. */
static size_t
hello_max_hosts(void)
{
	struct tclient *c = sv_connect();
	struct tcollect k;
	size_t v;

	sv_coll(&k);
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"h\",\"op\":\"hello\"}") ==
		  0);
	while (k.hellos == 0)
		tcollect_read(c, &k, SV_EVENT_MS);
	v = k.hello.limits.max_hosts;
	tcollect_free(&k);
	tclient_close(c);
	return v;
}

/* connects of fleet host i in a status reply. */
static long long
status_connects(const char *status, size_t i)
{
	json_object *root, *hosts, *h, *v;
	char suffix[64];
	const char *s;
	long long connects = -1;
	size_t j, n, ls, lh;

	root = json_tokener_parse(status);
	ck_assert_msg(root != NULL, "status is not JSON");
	ck_assert(json_object_object_get_ex(root, "hosts", &hosts));
	snprintf(suffix, sizeof suffix, "@%s", fleet.hosts[i]);
	ls = strlen(suffix);
	n = json_object_array_length(hosts);
	for (j = 0; j < n; j++) {
		h = json_object_array_get_idx(hosts, j);
		if (!json_object_object_get_ex(h, "host", &v))
			continue;
		s = json_object_get_string(v);
		lh = strlen(s);
		if (lh < ls || strcmp(s + lh - ls, suffix) != 0)
			continue;
		ck_assert(json_object_object_get_ex(h, "connects", &v));
		connects = json_object_get_int64(v);
	}
	json_object_put(root);
	ck_assert_msg(connects >= 0, "status does not list %s", fleet.hosts[i]);
	return connects;
}

static void
get_status(struct tclient *c, struct tcollect *k, const char *id)
{
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"%s\",\"op\":\"status\"}",
			       id) == 0);
	tcollect_wait_status(c, k, NULL, SV_EVENT_MS);
}

/* ---- tests ---- */

/*
 * READY=1 once the socket accepts, with a STATUS= line; STATUS= refreshed
 * when hosts come up; WATCHDOG=1 at half of WATCHDOG_USEC; RELOADING=1 then
 * READY=1 on SIGHUP; STOPPING=1 on SIGTERM.
 */
START_TEST(test_notify_protocol)
{
	const struct note *nt, *ready;
	const char *st;
	struct tclient *c, *probe;
	struct tcollect k;
	long long last, t0;
	size_t i, first, pings = 0;
	int reloading = 0;

	sv_prepare();
	notes_open();
	setenv("WATCHDOG_USEC", SV_WATCHDOG_USEC, 1);
	sv_launch(NULL);

	ready = notes_wait("READY=1", SV_NOTIFY_MS);
	/* Ready means ready: a client is served right away. */
	probe = sv_connect();
	st = note_status(ready);
	ck_assert_msg(st != NULL &&
			  strncmp(st, "0 hosts up, 0 jobs running, ", 28) == 0,
		      "READY without the status line: %s", ready->text);
	ck_assert_msg(!sv_log_has("socket activation"),
		      "not socket-activated, yet the log says so");

	/* Pings at 500 ms, never 900 ms apart. */
	last = ready->t;
	t0 = testutil_now_ms();
	while (pings < 4) {
		nt = notes_wait("WATCHDOG=1", SV_PING_GAP_MS);
		ck_assert_msg(nt->t - last < SV_PING_GAP_MS,
			      "watchdog pings %lld ms apart", nt->t - last);
		last = nt->t;
		pings++;
	}
	ck_assert_msg(last - t0 >= 1000, "4 pings in %lld ms: too fast",
		      last - t0);

	/* Three hosts come up: the status says so. */
	c = sv_connect();
	sv_coll(&k);
	send_run(c, "r", 0, 3, "echo up");
	sv_wait_end(c, &k, q("r"), SV_EVENT_MS);
	assert_all_ok(&k, q("r"), 0, 3, "up\n");
	t0 = testutil_now_ms();
	for (;;) {
		nt = notes_wait("STATUS=", SV_STATUS_MS);
		if (strcmp(note_status(nt),
			   "3 hosts up, 0 jobs running, 2 clients") == 0)
			break;
		ck_assert_msg(testutil_now_ms() - t0 < SV_STATUS_MS,
			      "no status with 3 hosts up and 2 clients; last: "
			      "%s",
			      nt->text);
	}

	/* Reload: RELOADING=1, then READY=1 again. */
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	for (;;) {
		nt = notes_recv(SV_NOTIFY_MS);
		ck_assert_msg(nt != NULL, "no READY=1 after the reload");
		if (note_has(nt, "RELOADING=1")) {
			ck_assert_msg(note_has(nt, "MONOTONIC_USEC="),
				      "RELOADING=1 without MONOTONIC_USEC");
			reloading = 1;
		}
		if (note_has(nt, "READY=1"))
			break;
	}
	ck_assert_msg(reloading, "READY=1 without RELOADING=1 before it");
	ck_assert_msg(sv_log_has("reloaded "), "no reload in the log");

	/* Stop: STOPPING=1 first, and never READY=1 after it. */
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	nt = notes_wait("STOPPING=1", SV_NOTIFY_MS);
	first = (size_t)(nt - notes_.v);
	sv_wait_exit(SV_MS(5000));
	while (notes_recv(0) != NULL)
		;
	for (i = first + 1; i < notes_.n; i++)
		ck_assert_msg(!note_has(&notes_.v[i], "READY=1"),
			      "READY=1 after STOPPING=1");
	tclient_close(probe);
	tclient_close(c);
	tcollect_free(&k);
	sv_end();
}
END_TEST

/*
 * The watchdog speaks for the workers: while worker 0 is blocked (the test
 * hook) its heartbeat goes stale after WORKER_STUCK_MS, the pings stop, and
 * they resume when it runs again.
 */
START_TEST(test_watchdog_stuck_worker)
{
	const struct note *nt;
	long long t0, last, gap = 0, gap_start = 0, gap_end = 0;
	int before = 0;

	sv_prepare();
	notes_open();
	setenv("WATCHDOG_USEC", SV_WATCHDOG_USEC, 1);
	setenv("SSHPOOL_TEST_HOOKS", "1", 1);
	sv_launch(NULL);
	notes_wait("READY=1", SV_NOTIFY_MS);
	last = notes_wait("WATCHDOG=1", SV_PING_GAP_MS)->t;

	t0 = testutil_now_ms();
	ck_assert_int_eq(kill(daemon_.pid, SIGUSR2), 0);
	/* Collect pings until they came back after a long gap. */
	while (gap_end == 0) {
		nt = notes_recv(SV_STALL_MS);
		ck_assert_msg(nt != NULL,
			      "no watchdog ping for %d ms after the stall "
			      "began %lld ms ago",
			      SV_STALL_MS, testutil_now_ms() - t0);
		if (!note_has(nt, "WATCHDOG=1"))
			continue;
		if (nt->t - last > 2 * SV_PING_GAP_MS) {
			gap = nt->t - last;
			gap_start = last - t0;
			gap_end = nt->t - t0;
		} else if (gap_end == 0)
			before++;
		last = nt->t;
	}
	/* Fresh until the heartbeat is WORKER_STUCK_MS old (the last beat
	 * came up to a second before the stall), silent until the stall
	 * ends, then pinging again. */
	ck_assert_msg(gap_start >= SV_STUCK_MS - 1000 - SV_PING_GAP_MS &&
			  gap_start <= SV_STUCK_MS + SV_PING_GAP_MS,
		      "pings stopped %lld ms into the stall", gap_start);
	/* The worker's heartbeat timer fires up to a tick after the stall. */
	ck_assert_msg(gap_end >= SV_STALL_MS && gap_end <= SV_STALL_MS + 2500,
		      "pings resumed %lld ms into an %d ms stall", gap_end,
		      SV_STALL_MS);
	ck_assert_msg(before >= 6, "only %d pings before the gap", before);
	notes_wait("WATCHDOG=1", SV_PING_GAP_MS);
	ck_assert_msg(sv_log_has("withholding the watchdog ping"),
		      "withheld pings not logged");
	ck_assert_msg(sv_log_has("watchdog pings resume"),
		      "resumed pings not logged");
	fprintf(stderr,
		"watchdog: pings stopped %lld ms into the stall, resumed "
		"after %lld ms (gap %lld ms)\n",
		gap_start, gap_end, gap);
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	sv_wait_exit(SV_MS(5000));
	sv_end();
}
END_TEST

/*
 * systemd-socket-activate binds the socket and execs the daemon in place on
 * the first connection.  The socket's directory is writable by anyone, which
 * a self-binding daemon refuses: the daemon must serve the passed socket
 * without touching the directory or the file, and leave it at exit.
 */
START_TEST(test_socket_activation)
{
	const char *activate = getenv("SSHPOOL_SOCKET_ACTIVATE");
	char wrapper[PATH_MAX * 2], dir[TCLIENT_MAX_DIR + 16];
	struct stat before, after;
	struct tclient *c;
	struct tcollect k;
	pid_t pid;

	ck_assert_msg(activate != NULL && *activate != '\0' &&
			  access(activate, X_OK) == 0,
		      "systemd-socket-activate not found (package systemd)");
	sv_prepare();
	snprintf(dir, sizeof dir, "%s/activated", daemon_.dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	snprintf(daemon_.sock, sizeof daemon_.sock, "%s/sock", dir);
	snprintf(wrapper, sizeof wrapper, "%s -l %s", activate, daemon_.sock);
	setenv("SSHPOOL_TEST_WRAPPER", wrapper, 1);
	sv_launch(NULL);
	pid = daemon_.pid;

	c = sv_connect();
	sv_coll(&k);
	send_run(c, "r", 0, 1, "echo activated");
	sv_wait_end(c, &k, q("r"), SV_EVENT_MS);
	assert_all_ok(&k, q("r"), 0, 1, "activated\n");
	ck_assert_msg(sv_log_has("socket activation: serving fd 3"),
		      "the daemon did not take the passed socket");
	ck_assert_msg(!sv_log_has("removed stale socket"),
		      "the daemon removed the socket");
	ck_assert_int_eq(daemon_.pid, pid);
	ck_assert_int_eq(stat(daemon_.sock, &before), 0);
	ck_assert(S_ISSOCK(before.st_mode));
	tcollect_free(&k);
	tclient_close(c);

	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	sv_wait_exit(SV_MS(5000));
	sv_assert_exit0();
	/* The same socket file is still there; the directory as it was. */
	ck_assert_msg(stat(daemon_.sock, &after) == 0,
		      "the daemon removed %s at exit", daemon_.sock);
	ck_assert(after.st_ino == before.st_ino);
	ck_assert_int_eq(stat(dir, &after), 0);
	ck_assert_int_eq(after.st_mode & 07777, 0777);
	tdaemon_cleanup(&daemon_);
}
END_TEST

/*
 * SIGHUP with a changed configuration while commands run: they finish,
 * later commands work, hosts whose settings changed get new sessions and
 * the others keep theirs; new connections see new limits, an open one keeps
 * its own.
 */
START_TEST(test_reload_changed)
{
	const struct note *nt;
	struct tclient *c;
	struct tcollect k;
	char text[256];
	long long t0;

	sv_prepare();
	notes_open();
	sv_launch(NULL);
	notes_wait("READY=1", SV_NOTIFY_MS);
	c = sv_connect();
	sv_coll(&k);

	/* Sessions up on four hosts, then a command that outlives the
	 * reload. */
	send_run(c, "warm", 0, 4, "true");
	sv_wait_end(c, &k, q("warm"), SV_EVENT_MS);
	assert_all_ok(&k, q("warm"), 0, 4, NULL);
	send_run(c, "long", 0, 4, "sleep 2; echo long");
	sv_wait_starts(c, &k, q("long"), 0, 4);

	snprintf(text, sizeof text,
		 "MaxHostsPerRequest 3\n"
		 "Host %s %s\n"
		 "\tServerAliveInterval 7\n"
		 "\tMaxChannelsPerSession 5\n",
		 fleet.addrs[0], fleet.addrs[1]);
	sv_conf_append(text);
	t0 = testutil_now_ms();
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	nt = notes_wait("READY=1", SV_NOTIFY_MS);
	ck_assert_msg(sv_log_has("reloaded "), "reload not logged");
	fprintf(stderr, "reload: READY=1 %lld ms after SIGHUP\n", nt->t - t0);

	/* The running command was not touched. */
	sv_wait_end(c, &k, q("long"), SV_EVENT_MS);
	assert_all_ok(&k, q("long"), 0, 4, "long\n");

	/* Later commands work; changed hosts reconnect, the others reuse
	 * their sessions. */
	send_run(c, "after", 0, 4, "echo after");
	sv_wait_end(c, &k, q("after"), SV_EVENT_MS);
	assert_all_ok(&k, q("after"), 0, 4, "after\n");
	get_status(c, &k, "st");
	ck_assert_int_eq(status_connects(k.status, 0), 2);
	ck_assert_int_eq(status_connects(k.status, 1), 2);
	ck_assert_int_eq(status_connects(k.status, 2), 1);
	ck_assert_int_eq(status_connects(k.status, 3), 1);

	/* MaxHostsPerRequest: new connections only. */
	ck_assert_uint_eq(hello_max_hosts(), 3);
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"h\",\"op\":\"hello\"}") ==
		  0);
	k.hellos = 0;
	while (k.hellos == 0)
		tcollect_read(c, &k, SV_EVENT_MS);
	ck_assert_uint_eq(k.hello.limits.max_hosts, PROTO_DEFAULT_MAX_HOSTS);

	tclient_close(c);
	tcollect_free(&k);
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	sv_wait_exit(SV_MS(5000));
	sv_end();
}
END_TEST

/*
 * SIGHUP that gives a host a HostName: the pool keeps its name, its
 * session to the old address is replaced, and the next command runs on
 * the new address.
 */
START_TEST(test_reload_hostname)
{
	struct tclient *c;
	struct tcollect k;
	char text[256], want[64];

	sv_prepare();
	notes_open();
	sv_launch(NULL);
	notes_wait("READY=1", SV_NOTIFY_MS);
	c = sv_connect();
	sv_coll(&k);

	send_run(c, "before", 0, 1, "echo $SSH_CONNECTION | cut -d' ' -f3");
	sv_wait_end(c, &k, q("before"), SV_EVENT_MS);
	snprintf(want, sizeof want, "%s\n", fleet.addrs[0]);
	assert_all_ok(&k, q("before"), 0, 1, want);

	snprintf(text, sizeof text, "Host %s\n\tHostName %s\n", fleet.addrs[0],
		 fleet.addrs[1]);
	sv_conf_append(text);
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	notes_wait("READY=1", SV_NOTIFY_MS);

	send_run(c, "after", 0, 1, "echo $SSH_CONNECTION | cut -d' ' -f3");
	sv_wait_end(c, &k, q("after"), SV_EVENT_MS);
	snprintf(want, sizeof want, "%s\n", fleet.addrs[1]);
	assert_all_ok(&k, q("after"), 0, 1, want);
	get_status(c, &k, "st");
	ck_assert_int_eq(status_connects(k.status, 0), 2);

	tclient_close(c);
	tcollect_free(&k);
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	sv_wait_exit(SV_MS(5000));
	sv_end();
}
END_TEST

/*
 * SIGHUP with a broken configuration while a command runs: the errors are
 * logged with their lines, the running configuration stays, and commands
 * keep working.
 */
START_TEST(test_reload_broken)
{
	const struct note *nt;
	struct tclient *c;
	struct tcollect k;
	char want[PATH_MAX + 64];

	sv_prepare();
	notes_open();
	sv_launch("MaxHostsPerRequest 3");
	notes_wait("READY=1", SV_NOTIFY_MS);
	c = sv_connect();
	sv_coll(&k);
	send_run(c, "long", 0, 2, "sleep 1; echo long");
	sv_wait_starts(c, &k, q("long"), 0, 2);

	sv_conf_append("MaxHostsPerRequest 7\nNoSuchKeyword yes\n"
		       "Port notaport\n");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	notes_wait("RELOADING=1", SV_NOTIFY_MS);
	nt = notes_wait("READY=1", SV_NOTIFY_MS);
	ck_assert_msg(note_status(nt) != NULL, "READY=1 without STATUS=");
	snprintf(want, sizeof want, "%s:", daemon_.conf);
	ck_assert_msg(sv_log_has(want), "errors not logged as file:line");
	ck_assert_msg(sv_log_has("NoSuchKeyword"), "unknown keyword not "
						   "logged");
	ck_assert_msg(sv_log_has("notaport"), "bad port not logged");
	ck_assert_msg(sv_log_has("keeping the running configuration"),
		      "failed reload not logged");

	sv_wait_end(c, &k, q("long"), SV_EVENT_MS);
	assert_all_ok(&k, q("long"), 0, 2, "long\n");
	send_run(c, "after", 0, 2, "echo after");
	sv_wait_end(c, &k, q("after"), SV_EVENT_MS);
	assert_all_ok(&k, q("after"), 0, 2, "after\n");
	/* The old settings are in force, for new connections too. */
	ck_assert_uint_eq(hello_max_hosts(), 3);

	tclient_close(c);
	tcollect_free(&k);
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	sv_wait_exit(SV_MS(5000));
	sv_end();
}
END_TEST

/*
 * SIGTERM while a long command runs on 20 hosts, ShutdownTimeout 1s,
 * StopGraceTime 1s: new requests get "shutdown", every host ends with error
 * "shutdown", the requests get their done lines, and the daemon exits 0
 * leaving no remote process, not even the commands of the second half that
 * ignore TERM and need the KILL after StopGraceTime.
 */
START_TEST(test_stop_running_jobs)
{
	const struct note *stopping;
	const size_t half = SV_STOP_HOSTS / 2;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	struct tcollect_host *h;
	char cmd[64], stubborn[96];
	const char *id;
	long long t0, t_done = 0, t_exit;
	size_t i;
	int n;

	sv_prepare();
	notes_open();
	sv_launch("ShutdownTimeout 1\nStopGraceTime 1");
	notes_wait("READY=1", SV_NOTIFY_MS);
	c = sv_connect();
	sv_coll(&k);
	snprintf(cmd, sizeof cmd, "sleep 1000.%ld", (long)getpid());
	snprintf(stubborn, sizeof stubborn, "trap \\\"\\\" TERM; %s", cmd);
	send_run(c, "long", 0, half, cmd);
	send_run(c, "stubborn", half, SV_STOP_HOSTS - half, stubborn);
	sv_wait_starts(c, &k, q("long"), 0, half);
	sv_wait_starts(c, &k, q("stubborn"), half, SV_STOP_HOSTS - half);
	n = sv_remote_count(cmd);
	ck_assert_msg(n >= SV_STOP_HOSTS, "%d remote '%s' running", n, cmd);

	t0 = testutil_now_ms();
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	stopping = notes_wait("STOPPING=1", SV_NOTIFY_MS);
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"late\",\"op\":\"run\","
			       "\"hosts\":[\"%s\"],\"command\":\"true\"}",
			       fleet.hosts[0]) == 0);
	d = sv_wait_end(c, &k, q("late"), SV_EVENT_MS);
	ck_assert_msg(d->reqerr && d->code == PROTO_E_SHUTDOWN,
		      "a request after SIGTERM got %s",
		      d->reqerr ? proto_code_name(d->code) : "done");

	for (i = 0; i < SV_STOP_HOSTS; i++) {
		id = i < half ? q("long") : q("stubborn");
		d = sv_wait_end(c, &k, id, SV_EVENT_MS);
		ck_assert_msg(!d->reqerr && d->done.hosts == half &&
				  d->done.errors == half,
			      "done %s: hosts %zu errors %zu", id,
			      d->done.hosts, d->done.errors);
		if (d->t_end - t0 > t_done)
			t_done = d->t_end - t0;
		h = tcollect_host(&k, id, fleet.hosts[i]);
		ck_assert_msg(h != NULL && h->terminals == 1 && !h->exited &&
				  h->code == PROTO_E_SHUTDOWN,
			      "%s did not end with error shutdown",
			      fleet.hosts[i]);
	}
	/* Running requests were given ShutdownTimeout. */
	ck_assert_msg(t_done >= 900 && t_done <= SV_MS(1000 + 1000 + 2000),
		      "done %lld ms after SIGTERM", t_done);
	sv_wait_exit(SV_MS(8000));
	t_exit = testutil_now_ms() - t0;
	sv_assert_exit0();
	/* The daemon waited for the KILL of the stubborn commands. */
	ck_assert_msg(t_exit >= 1900, "exit %lld ms after SIGTERM", t_exit);
	/* The connection was closed after everything was written. */
	ck_assert_msg(!sv_next_event(c, SV_EVENT_MS), "an event after done");
	/* sshd may take a moment to reap what was killed. */
	for (i = 0; i < 20 && (n = sv_remote_count(cmd)) > 0; i++)
		usleep(100 * 1000);
	ck_assert_msg(n == 0, "%d remote '%s' left", n, cmd);
	fprintf(stderr,
		"stop with %d running jobs: STOPPING=1 after %lld ms, done "
		"after %lld ms, exit after %lld ms\n",
		SV_STOP_HOSTS, stopping->t - t0, t_done, t_exit);
	tclient_close(c);
	tcollect_free(&k);
	tdaemon_cleanup(&daemon_);
}
END_TEST

/* SIGTERM with quick jobs: they complete normally, then the daemon exits
 * without waiting for ShutdownTimeout. */
START_TEST(test_stop_quick_jobs)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	long long t0, t_done, t_exit;

	sv_prepare();
	notes_open();
	sv_launch("ShutdownTimeout 20");
	notes_wait("READY=1", SV_NOTIFY_MS);
	c = sv_connect();
	sv_coll(&k);
	send_run(c, "quick", 0, 5, "sleep 1; echo finished");
	sv_wait_starts(c, &k, q("quick"), 0, 5);
	t0 = testutil_now_ms();
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	notes_wait("STOPPING=1", SV_NOTIFY_MS);
	d = sv_wait_end(c, &k, q("quick"), SV_EVENT_MS);
	t_done = d->t_end - t0;
	assert_all_ok(&k, q("quick"), 0, 5, "finished\n");
	sv_wait_exit(SV_MS(5000));
	t_exit = testutil_now_ms() - t0;
	ck_assert_msg(t_exit < SV_MS(4000), "exit %lld ms after SIGTERM",
		      t_exit);
	sv_assert_exit0();
	fprintf(stderr,
		"stop with quick jobs: done after %lld ms, exit after %lld "
		"ms\n",
		t_done, t_exit);
	tclient_close(c);
	tcollect_free(&k);
	tdaemon_cleanup(&daemon_);
}
END_TEST

/* A second SIGTERM stops the jobs now instead of after ShutdownTimeout. */
START_TEST(test_stop_second_signal)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	char cmd[64];
	long long t0, t_done;
	int n, i;

	sv_prepare();
	notes_open();
	sv_launch("ShutdownTimeout 30\nStopGraceTime 1");
	notes_wait("READY=1", SV_NOTIFY_MS);
	c = sv_connect();
	sv_coll(&k);
	snprintf(cmd, sizeof cmd, "sleep 1001.%ld", (long)getpid());
	send_run(c, "long", 0, 2, cmd);
	sv_wait_starts(c, &k, q("long"), 0, 2);
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	notes_wait("STOPPING=1", SV_NOTIFY_MS);
	/* Still running: ShutdownTimeout is 30 s. */
	ck_assert(!sv_next_event(c, 500));
	d = tcollect_req(&k, q("long"));
	ck_assert(d == NULL || d->ends == 0);
	t0 = testutil_now_ms();
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	d = sv_wait_end(c, &k, q("long"), SV_EVENT_MS);
	t_done = d->t_end - t0;
	ck_assert_msg(!d->reqerr && d->done.errors == 2, "done errors %zu",
		      d->done.errors);
	ck_assert_msg(t_done < SV_MS(3000),
		      "done %lld ms after the second "
		      "SIGTERM",
		      t_done);
	sv_wait_exit(SV_MS(5000));
	sv_assert_exit0();
	for (i = 0; i < 30 && (n = sv_remote_count(cmd)) > 0; i++)
		usleep(100 * 1000);
	ck_assert_msg(n == 0, "%d remote '%s' left", n, cmd);
	ck_assert_msg(sv_log_has("again"), "second signal not logged");
	tclient_close(c);
	tcollect_free(&k);
	tdaemon_cleanup(&daemon_);
}
END_TEST

/* ---- the socket's directory ---- */

/* The daemon must not start; its log says why. */
static void
sv_launch_fails(const char *why)
{
	struct tdaemon_opts o;

	memset(&o, 0, sizeof o);
	ck_assert_msg(
	    tdaemon_start(&daemon_, &fleet, &o, errbuf, sizeof errbuf) == -1,
	    "sshpoold served %s", daemon_.sock);
	ck_assert_msg(sv_log_has(why), "log lacks \"%s\"", why);
}

/*
 * A symbolic link planted where the socket directory should be (another
 * user's /tmp/sshpool-UID) leads elsewhere: the daemon refuses it rather
 * than bind, chmod or chown through it; and a directory of another user is
 * refused as well.
 */
START_TEST(test_socket_dir_refused)
{
	char real[128], link[128], sock[160];
	struct stat st;

	sv_prepare();
	snprintf(real, sizeof real, "%s/real", daemon_.dir);
	snprintf(link, sizeof link, "%s/link", daemon_.dir);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, link), 0);
	snprintf(daemon_.sock, sizeof daemon_.sock, "%s/sock", link);
	sv_launch_fails("is a symbolic link");
	snprintf(sock, sizeof sock, "%s/sock", real);
	ck_assert_msg(lstat(sock, &st) == -1, "socket made behind the link");

	if (geteuid() == 0) {
		ck_assert_int_eq(unlink(link), 0);
		ck_assert_int_eq(chown(real, SV_OTHER_UID, SV_OTHER_UID), 0);
		snprintf(daemon_.sock, sizeof daemon_.sock, "%s", sock);
		sv_launch_fails("belongs to uid 65534");
	}
	tdaemon_cleanup(&daemon_);
}
END_TEST

/* ---- a client that half-closes ---- */

/*
 * shutdown(SHUT_WR) after the last request, as `printf | socat` does: the
 * requests run to their end, their events arrive, then the daemon closes.
 * A last line without its newline is a request too.
 */
START_TEST(test_half_close)
{
	static const char last[] = "{\"v\":1,\"id\":\"tail\",\"op\":\"run\","
				   "\"hosts\":[\"%s\"],\"command\":\"echo "
				   "tail\"}";
	struct proto_event *ev;
	struct tclient *c;
	struct tcollect k;
	char line[256];
	long long t0;

	sv_prepare();
	sv_launch(NULL);
	c = sv_connect();
	sv_coll(&k);
	send_run(c, "half", 0, 3, "sleep 1; echo finished");
	ck_assert_int_eq(shutdown(tclient_fd(c), SHUT_WR), 0);
	sv_wait_end(c, &k, q("half"), SV_EVENT_MS);
	assert_all_ok(&k, q("half"), 0, 3, "finished\n");
	t0 = testutil_now_ms();
	ck_assert_int_eq(tclient_next(c, SV_EVENT_MS, &ev, NULL), -1);
	ck_assert_msg(strstr(tclient_error(c), "end of file") != NULL,
		      "after the last event: %s", tclient_error(c));
	ck_assert_int_lt(testutil_now_ms() - t0, SV_MS(2000));
	tclient_close(c);
	tcollect_free(&k);

	c = sv_connect();
	sv_coll(&k);
	snprintf(line, sizeof line, last, fleet.hosts[0]);
	ck_assert_int_eq(tclient_send_raw(c, line, strlen(line)), 0);
	ck_assert_int_eq(shutdown(tclient_fd(c), SHUT_WR), 0);
	sv_wait_end(c, &k, q("tail"), SV_EVENT_MS);
	assert_all_ok(&k, q("tail"), 0, 1, "tail\n");
	ck_assert_int_eq(tclient_next(c, SV_EVENT_MS, &ev, NULL), -1);
	tclient_close(c);
	tcollect_free(&k);

	/* Nothing asked: closed at once. */
	c = sv_connect();
	ck_assert_int_eq(shutdown(tclient_fd(c), SHUT_WR), 0);
	t0 = testutil_now_ms();
	ck_assert_int_eq(tclient_next(c, SV_EVENT_MS, &ev, NULL), -1);
	ck_assert_int_lt(testutil_now_ms() - t0, SV_MS(2000));
	tclient_close(c);
	sv_end();
}
END_TEST

/* A client that closes its socket altogether is gone: its jobs stop. */
START_TEST(test_full_close_cancels)
{
	static const char cmd[] = "sleep 37";
	struct tclient *c;
	struct tcollect k;
	int i, n = -1;

	sv_prepare();
	sv_launch(NULL);
	c = sv_connect();
	sv_coll(&k);
	send_run(c, "gone", 0, 1, cmd);
	sv_wait_starts(c, &k, q("gone"), 0, 1);
	tclient_close(c);
	for (i = 0; i < 50 && (n = sv_remote_count(cmd)) > 0; i++)
		usleep(100 * 1000);
	ck_assert_msg(n == 0, "'%s' still runs after its client left", cmd);
	tcollect_free(&k);
	sv_end();
}
END_TEST

/* ---- a hostile server's words in the log ---- */

static void
sv_put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* SSH_MSG_DISCONNECT with text, as an unencrypted binary packet. */
static size_t
sv_disconnect_packet(unsigned char *pkt, size_t size, const char *text)
{
	size_t tlen = strlen(text), payload = 1 + 4 + 4 + tlen + 4, pad, o;

	pad = 8 - (4 + 1 + payload) % 8;
	if (pad < 4)
		pad += 8;
	ck_assert_uint_le(4 + 1 + payload + pad, size);
	sv_put32(pkt, (uint32_t)(1 + payload + pad));
	pkt[4] = (unsigned char)pad;
	pkt[5] = SV_SSH_MSG_DISCONNECT;
	sv_put32(pkt + 6, SV_SSH_DISCONNECT_PROTOCOL_ERROR);
	sv_put32(pkt + 10, (uint32_t)tlen);
	memcpy(pkt + 14, text, tlen);
	o = 14 + tlen;
	sv_put32(pkt + o, 0); /* language tag */
	o += 4;
	memset(pkt + o, 0, pad);
	return o + pad;
}

/*
 * A server on 127.0.0.1 that answers every connection with its banner and,
 * in the clear before key exchange, SSH_MSG_DISCONNECT carrying text.
 * Returns its pid (SIGKILL it); *port is where it listens.
 */
static pid_t
sv_hostile_server(const char *text, int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	static const char banner[] = "SSH-2.0-hostile\r\n";
	unsigned char pkt[1024], buf[512];
	struct pollfd pfd;
	size_t plen = sv_disconnect_packet(pkt, sizeof pkt, text);
	pid_t pid, parent = getpid();
	int lfd, fd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(1);
		for (;;) {
			if ((fd = accept(lfd, NULL, NULL)) == -1)
				continue;
			(void)!write(fd, banner, sizeof banner - 1);
			pfd.fd = fd;
			pfd.events = POLLIN;
			/* The client's banner and KEXINIT first: then it is
			 * waiting for ours, and reads the DISCONNECT as the
			 * answer. */
			while (poll(&pfd, 1, SV_HOSTILE_QUIET_MS) == 1 &&
			       read(fd, buf, sizeof buf) > 0)
				;
			(void)!write(fd, pkt, plen);
			while (poll(&pfd, 1, SV_HOSTILE_WAIT_MS) == 1 &&
			       read(fd, buf, sizeof buf) > 0)
				;
			close(fd);
		}
	}
	close(lfd);
	return pid;
}

/* Lines of the daemon's log that begin with prefix. */
static int
sv_log_lines_starting(const char *prefix)
{
	char line[4096];
	FILE *fp = fopen(daemon_.log, "r");
	int n = 0;

	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof line, fp) != NULL)
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(fp);
	return n;
}

/* A server's disconnect text with newlines cannot forge audit lines. */
START_TEST(test_log_server_text)
{
	static const char forged[] = "audit: client uid=0 pid=1 id=\"x\" "
				     "op=run hosts=1 command=\"forged\"";
	char text[256];
	struct tclient *c;
	long long deadline;
	pid_t srv;
	int port;

	snprintf(text, sizeof text, "bye\n%s\r\n%s", forged, forged);
	sv_prepare();
	sv_launch(NULL);
	srv = sv_hostile_server(text, &port);
	c = sv_connect();
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"h\",\"op\":\"run\",\"hosts\":"
			       "[\"127.0.0.1:%d\"],\"command\":\"true\"}",
			       port) == 0);
	deadline = testutil_now_ms() + SV_EVENT_MS;
	while (tdaemon_log_count(&daemon_, "command=\"forged\"") < 1 &&
	       testutil_now_ms() < deadline)
		usleep(50 * 1000);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	ck_assert_msg(tdaemon_log_count(&daemon_, "command=\"forged\"") >= 1,
		      "the server's text never reached the log");
	ck_assert_msg(sv_log_lines_starting("audit: client uid=0 pid=1 id=") ==
			  0,
		      "a server forged an audit line");
	ck_assert_msg(tdaemon_log_count(&daemon_, "bye\\naudit: client") >= 1,
		      "newline not escaped as \\n");
	ck_assert(tdaemon_log_count(&daemon_, "\\r\\naudit: client") >= 1);
	tclient_close(c);
	sv_end();
}
END_TEST

/*
 * A command's exit that the worker reads only after the command's deadline
 * ends with timeout, whatever the worker handles first: worker 0 (the only
 * one) is blocked by the test hook while the command exits in time and then
 * its timeout passes; both are due when the worker runs again.
 */
START_TEST(test_exit_after_deadline_is_timeout)
{
	struct tdaemon_opts o;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;

	sv_prepare();
	setenv("SSHPOOL_TEST_HOOKS", "1", 1);
	memset(&o, 0, sizeof o);
	o.workers = 1;
	ck_assert_msg(
	    tdaemon_start(&daemon_, &fleet, &o, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
	c = sv_connect();
	sv_coll(&k);
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"late\",\"op\":\"run\","
			       "\"hosts\":[\"%s\"],\"command\":\"sleep 1\","
			       "\"timeout\":3}",
			       fleet.hosts[0]) == 0);
	tcollect_wait_start(c, &k, q("late"), fleet.hosts[0], SV_EVENT_MS);
	ck_assert_int_eq(kill(daemon_.pid, SIGUSR2), 0);
	sv_wait_end(c, &k, q("late"), SV_EVENT_MS + SV_STALL_MS);
	h = tcollect_host(&k, q("late"), fleet.hosts[0]);
	ck_assert_msg(h != NULL && h->terminals == 1, "no single result");
	ck_assert_msg(!h->exited && h->code == PROTO_E_TIMEOUT,
		      "an exit read after the deadline ended with %s",
		      h->exited ? "exit" : proto_code_name(h->code));
	fprintf(stderr, "exit after the deadline: %s after %lld ms\n",
		proto_code_name(h->code), h->duration_ms);
	tclient_close(c);
	tcollect_free(&k);
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	sv_wait_exit(SV_MS(5000));
	sv_end();
}
END_TEST

/*
 * A status request answered without a stuck worker's part is over for the
 * client: a shutdown while that worker is still stuck sends nothing more
 * for its id, and the id may be used again at once.
 */
START_TEST(test_status_stuck_then_stop)
{
	struct tclient *c;
	struct proto_event *ev;
	int replies = 0, errors = 0, reuse = 0;

	sv_prepare();
	setenv("SSHPOOL_TEST_HOOKS", "1", 1);
	sv_launch(NULL);
	c = sv_connect();
	ck_assert_int_eq(kill(daemon_.pid, SIGUSR2), 0);
	usleep(200 * 1000);
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"s\",\"op\":\"status\"}") ==
		  0);
	/* The reply comes after the status wait, worker 0 marked stuck. */
	while (replies == 0) {
		ck_assert_msg(tclient_next(c, SV_EVENT_MS, &ev, NULL) == 0,
			      "no status reply: %s", tclient_error(c));
		if (strcmp(ev->id, "\"s\"") == 0)
			replies += ev->type == PROTO_EV_STATUS;
		proto_event_free(ev);
	}
	/* Reusing the answered id is allowed: the second request's reply
	 * also comes (the worker is still stuck). */
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"s\",\"op\":\"status\"}") ==
		  0);
	while (reuse == 0) {
		ck_assert_msg(tclient_next(c, SV_EVENT_MS, &ev, NULL) == 0,
			      "no reply to the reused id: %s",
			      tclient_error(c));
		if (strcmp(ev->id, "\"s\"") == 0) {
			ck_assert_msg(ev->type == PROTO_EV_STATUS,
				      "the reused id was refused: %s",
				      ev->message ? ev->message : "");
			reuse++;
		}
		proto_event_free(ev);
	}
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	/* Everything up to the close of the connection. */
	while (tclient_next(c, SV_EVENT_MS + SV_STALL_MS, &ev, NULL) == 0) {
		if (strcmp(ev->id, "\"s\"") == 0) {
			if (ev->type == PROTO_EV_STATUS)
				replies++;
			else
				errors++;
		}
		proto_event_free(ev);
	}
	ck_assert_msg(replies == 1 && errors == 0,
		      "after its reply, status id s got %d more replies and %d "
		      "errors",
		      replies - 1, errors);
	tclient_close(c);
	sv_wait_exit(SV_MS(5000) + SV_STALL_MS);
	sv_end();
}
END_TEST

static Suite *
service_suite(void)
{
	Suite *s = suite_create("service");
	struct {
		const char *name;
		const TTest *test;
	} tests[] = {
	    {"notify_protocol", test_notify_protocol},
	    {"watchdog_stuck_worker", test_watchdog_stuck_worker},
	    {"socket_activation", test_socket_activation},
	    {"reload_changed", test_reload_changed},
	    {"reload_hostname", test_reload_hostname},
	    {"reload_broken", test_reload_broken},
	    {"stop_running_jobs", test_stop_running_jobs},
	    {"stop_quick_jobs", test_stop_quick_jobs},
	    {"stop_second_signal", test_stop_second_signal},
	    {"socket_dir_refused", test_socket_dir_refused},
	    {"half_close", test_half_close},
	    {"full_close_cancels", test_full_close_cancels},
	    {"log_server_text", test_log_server_text},
	    {"exit_after_deadline_is_timeout",
	     test_exit_after_deadline_is_timeout},
	    {"status_stuck_then_stop", test_status_stuck_then_stop},
	};
	size_t i;

	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);

		tcase_set_timeout(tc, SV_TIMEOUT_S * tclient_slowdown());
		tcase_add_test(tc, tests[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* Only the tests that are about them set these. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("SSHPOOL_TEST_HOOKS");
	return testutil_run(service_suite());
}
