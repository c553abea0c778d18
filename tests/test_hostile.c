/* SPDX-License-Identifier: ISC */
/*
 * Security and hostile-input tests of sshpoold against the loopback fleet
 * (tests/fleet/fleet.sh, CTest fixture "fleet"): who may use the socket
 * (AllowUsers, AllowGroups, SocketGroup, MaxConnectionsPerUser, the socket
 * directory's modes), the per-user host policy, the audit log, every
 * request limit, hostile clients attacking the daemon while a well-behaved
 * client keeps running commands, slow readers, and the host key and
 * identity file checks.  Each test starts its own daemon in a fresh
 * directory through tclient.
 *
 * The access tests run clients as throwaway system users (sshpool-t1,
 * sshpool-t2, groups sshpool-tsock and sshpool-tallow), created on first use
 * and left in place; without root they are skipped.  A client connects with
 * the user's effective ids (setresuid/setresgid, then back to root):
 * SO_PEERCRED records the ids of the process at connect(2), so to the
 * daemon that connection is the user's.
 *
 * Figures worth a note (latencies, peak RSS, timings) are printed with the
 * prefix "HOSTILE:".  Under a sanitizer or SSHPOOL_TEST_SLOWDOWN the waits
 * and latency bounds are stretched, and the memory bound is left out under
 * ASan.  On a machine whose load average says other work owns it, a
 * latency over its bound is reported but does not fail the test; every run
 * of the well-behaved client must still succeed.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tagent.h"
#include "tclient.h"
#include "tcollect.h"
#include "tstatus.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define H_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H_ASAN 1
#endif
#endif
#ifdef H_ASAN
#define H_SAN_FACTOR 3 /* sanitized daemon: every wait stretched */
#else
#define H_SAN_FACTOR 1
#endif

#define H_MS(ms) tclient_scaled_ms((ms)*H_SAN_FACTOR)
#define H_TIMEOUT_S 60         /* Check timeout of one test */
#define H_EVENT_MS H_MS(15000) /* longest wait for one event */
#define H_EOF_MS H_MS(5000)    /* a refused client sees EOF by then */
#define H_OUT_KEEP 255         /* stdout bytes kept per host */

/* The throwaway users and groups of the access tests. */
#define H_USER1 "sshpool-t1"
#define H_USER2 "sshpool-t2"
#define H_GROUP_SOCK "sshpool-tsock"   /* both users: SocketGroup */
#define H_GROUP_ALLOW "sshpool-tallow" /* only t1: AllowGroups */
#define H_MAX_GROUPS 64

/* Hostile clients and the well-behaved one. */
#define H_ATTACK_MS 1500           /* quick attacks repeat this long */
#define H_BASELINE_MS 1000         /* well-behaved runs before an attack */
#define H_PROBE_PAUSE_US 20000     /* between its runs */
#define H_PROBE_MAX 4096           /* latencies kept */
#define H_PROBE_RUN_MS H_MS(15000) /* a probe run slower than this fails */
#define H_LAT_FACTOR 5             /* median under attack < 5 x before */
#define H_LAT_SLACK_MS (50 * H_SAN_FACTOR)
/* A 1-minute load average above this many times the CPU count means other
 * work owns the machine: latencies then say nothing about the daemon. */
#define H_OVERLOAD_PER_CPU 4
#define H_BIG_LINE (10u * 1024 * 1024)
#define H_BIG_LINE_PAUSE_US 100000 /* between 10 MB pieces of the line */
#define H_DEEP 1000
#define H_DEEP_PAUSE_US 10000 /* between batches of 100 deep lines */
#define H_BURST 100000
#define H_SLOWLORIS 20   /* connections */
#define H_SLOWLORIS_S 5  /* one byte a second this long */
#define H_CHURN 1000     /* connections opened and dropped */
#define H_CHURN_MS 10000 /* ... in at most this long */
#define H_CHURN_ROUND 100
#define H_FD_SETTLE_MS 3000

/* The slow reader: head -c 500M /dev/zero on 10 hosts, never read. */
#define H_SLOW_HOSTS 10
#define H_SLOW_HOLD_MS 3000
#define H_SLOW_START_MS H_MS(30000) /* its 10 commands run by then */
#define H_RSS_SAMPLE_MS 50
/* 4 MB high water plus what libssh holds for 10 channels (their windows)
 * and the daemon's own footprint, with room to spare. */
#define H_RSS_LIMIT_KB (150L * 1024)
#define H_HARD_DROP_MS H_MS(10000) /* hard limit 1 s: dropped by then */
#define H_GONE_MS H_MS(10000)      /* remote commands gone by then */
#define H_SLOW_DRAIN_MAX (64u * 1024 * 1024)
/* The wide slow reader: 4 runs on 50 hosts, 200 paused channels. */
#define H_WIDE_HOSTS 50
#define H_WIDE_RUNS 4
#define H_WIDE_HARD_S "5"
#define H_WIDE_DROP_MS H_MS(25000) /* HardTime 5 s: dropped by then */
/* The daemon's footprint, the 1 MB high water, and per paused channel a
 * few packets: a connection whose jobs are all paused stops reading its
 * socket (read up to their SSH windows, 1.28 MB each in libssh 0.10, the
 * 200 channels took 283 MB). */
#define H_WIDE_RSS_KB (32L * 1024 + 200L * 80)

struct tuser {
	char name[32];
	uid_t uid;
	gid_t gid;
	gid_t groups[H_MAX_GROUPS];
	int ngroups;
};

/* The well-behaved client: a child process running `true` in a loop. */
struct probe {
	pid_t pid;
	int stop;   /* write end: a byte asks it to stop */
	int result; /* read end: struct probe_result */
};

struct probe_result {
	int runs, failures;
	long long median_ms, max_ms;
	char failure[256];
};

static struct tfleet fleet;
static struct tdaemon dmn;
static char errbuf[4096];

/* ---- event collection ---- */

static void
h_coll(struct tcollect *k)
{
	tcollect_init(k);
	k->keep = H_OUT_KEEP;
	k->event_ms = H_EVENT_MS;
}

/* Read until request id (JSON text) ended; returns its record. */
static struct tcollect_req *
h_wait(struct tclient *c, struct tcollect *k, const char *id)
{
	return tcollect_wait_end(c, k, id, H_EVENT_MS);
}

static const char *
q(const char *id)
{
	static char buf[8][PROTO_MAX_ID + 3];
	static int n;

	n = (n + 1) % 8;
	snprintf(buf[n], sizeof buf[n], "\"%s\"", id);
	return buf[n];
}

static void
assert_done(const struct tcollect_req *r, size_t hosts, size_t ok,
	    size_t failed, size_t errors)
{
	ck_assert_msg(!r->reqerr, "request %s refused: %s (%s)", r->id,
		      proto_code_name(r->code), r->message);
	ck_assert_msg(r->ends == 1, "request %s ended %d times", r->id,
		      r->ends);
	ck_assert_msg(r->done.hosts == hosts && r->done.ok == ok &&
			  r->done.failed == failed && r->done.errors == errors,
		      "done %s: hosts %zu ok %zu failed %zu errors %zu, "
		      "expected %zu/%zu/%zu/%zu",
		      r->id, r->done.hosts, r->done.ok, r->done.failed,
		      r->done.errors, hosts, ok, failed, errors);
}

/* A request refused whole with code, its message naming what. */
static void
assert_refused(const struct tcollect_req *r, enum proto_code code,
	       const char *what)
{
	ck_assert_msg(r->reqerr && r->code == code,
		      "request %s: expected error %s, got %s%s (%s)", r->id,
		      proto_code_name(code), r->reqerr ? "error " : "done ",
		      r->reqerr ? proto_code_name(r->code) : "", r->message);
	ck_assert_msg(what == NULL || strstr(r->message, what) != NULL,
		      "request %s: message \"%s\" does not name %s", r->id,
		      r->message, what);
}

static void
assert_exit0(const struct tcollect *k, const char *id, const char *host)
{
	const struct tcollect_host *h = tcollect_host(k, id, host);

	ck_assert_msg(h != NULL, "%s: nothing for %s", id, host);
	ck_assert_msg(
	    h->terminals == 1 && h->starts == 1 && h->exited && h->status == 0,
	    "%s on %s: starts %d terminals %d, error %s (%s)", id, host,
	    h->starts, h->terminals,
	    h->exited ? "none" : proto_code_name(h->code), h->message);
}

/* ---- daemon ---- */

void
testutil_failed(void)
{
	if (dmn.pid <= 0)
		return;
	kill(dmn.pid, SIGKILL);
	waitpid(dmn.pid, NULL, 0);
	fprintf(stderr, "test failed; sshpoold's files are in %s\n", dmn.dir);
	tdaemon_dump_log(&dmn);
	dmn.pid = 0;
}

static void
h_prepare(void)
{
	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ck_assert_msg(fleet.nhosts >= 30, "the fleet has %zu hosts, need 30",
		      fleet.nhosts);
	ck_assert_msg(tdaemon_prepare(&dmn, &fleet, errbuf, sizeof errbuf) == 0,
		      "%s", errbuf);
}

static void
h_launch(const char *extra, const struct tdaemon_opts *base)
{
	struct tdaemon_opts o = {0};

	if (base != NULL)
		o = *base;
	o.extra = extra;
	ck_assert_msg(tdaemon_start(&dmn, &fleet, &o, errbuf, sizeof errbuf) ==
			  0,
		      "%s", errbuf);
}

static void
h_begin(const char *extra)
{
	h_prepare();
	h_launch(extra, NULL);
}

/* Stop the daemon, which must exit 0 on SIGTERM, and remove its files. */
static void
h_end(void)
{
	int st = tdaemon_stop(&dmn);

	if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
		tdaemon_dump_log(&dmn);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "sshpoold did not exit cleanly on SIGTERM: status 0x%x",
		      st);
	tdaemon_cleanup(&dmn);
}

static struct tclient *
h_connect(void)
{
	struct tclient *c = tclient_connect(dmn.sock);

	ck_assert_msg(c != NULL, "connect %s: %s", dmn.sock, strerror(errno));
	return c;
}

static void h_send(struct tclient *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
h_send(struct tclient *c, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0, "out of memory");
	ck_assert_msg(tclient_send(c, "%s", line) == 0, "send: %s",
		      tclient_error(c));
	free(line);
}

/* "["h0","h1",...]" of fleet hosts from..from+n-1. */
static char *
hosts_json(size_t from, size_t n)
{
	size_t i, cap = 4 + n * 40, o = 0;
	char *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(from + n <= fleet.nhosts, "fleet too small");
	out[o++] = '[';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s\"%s\"",
				      i ? "," : "", fleet.hosts[from + i]);
	out[o++] = ']';
	out[o] = '\0';
	return out;
}

static void
send_run(struct tclient *c, const char *id, const char *hosts,
	 const char *command, const char *more)
{
	h_send(c,
	       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":%s,"
	       "\"command\":\"%s\"%s}",
	       id, hosts, command, more ? more : "");
}

/* A run of `true` on one host that must succeed: the connection works. */
static void
assert_works(struct tclient *c, struct tcollect *k, const char *id)
{
	char *hosts = hosts_json(0, 1);

	send_run(c, id, hosts, "true", NULL);
	assert_done(h_wait(c, k, q(id)), 1, 1, 0, 0);
	free(hosts);
}

/* A hello that must be answered. */
static void
assert_hello(struct tclient *c, struct tcollect *k)
{
	long long deadline = testutil_now_ms() + H_EVENT_MS;
	int before = k->hellos;

	h_send(c, "{\"v\":1,\"id\":\"hi\",\"op\":\"hello\"}");
	while (k->hellos == before) {
		ck_assert_msg(testutil_now_ms() < deadline, "no hello reply");
		tcollect_read(c, k, H_EVENT_MS);
	}
}

/* The whole daemon log, NUL-terminated. */
static char *
log_read(void)
{
	char chunk[65536], *buf = NULL;
	size_t len = 0, n;
	FILE *fp, *mem;

	fp = fopen(dmn.log, "r");
	ck_assert_msg(fp != NULL, "%s: %s", dmn.log, strerror(errno));
	ck_assert_ptr_nonnull(mem = open_memstream(&buf, &len));
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(mem);
	fclose(fp);
	return buf;
}

/* Wait (bounded) until the daemon log contains text. */
static int
log_wait(const char *text, int ms)
{
	long long deadline = testutil_now_ms() + ms;
	char *log;
	int found;

	for (;;) {
		log = log_read();
		found = strstr(log, text) != NULL;
		free(log);
		if (found || testutil_now_ms() > deadline)
			return found;
		usleep(20000);
	}
}

/* ---- other users ---- */

static void
user_lookup(struct tuser *u, const char *name)
{
	struct passwd *pw = getpwnam(name);

	ck_assert_msg(pw != NULL, "no user %s", name);
	memset(u, 0, sizeof *u);
	snprintf(u->name, sizeof u->name, "%s", name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->ngroups = H_MAX_GROUPS;
	ck_assert_msg(getgrouplist(name, pw->pw_gid, u->groups, &u->ngroups) !=
			  -1,
		      "%s is in more than %d groups", name, H_MAX_GROUPS);
}

/* Create the test users and groups once (root only); 0, or -1 to skip. */
static int
users_setup(struct tuser *t1, struct tuser *t2, const char *test)
{
	static const char script[] =
	    "set -e\n"
	    "for g in " H_GROUP_SOCK " " H_GROUP_ALLOW "; do\n"
	    "  getent group $g >/dev/null || groupadd --system $g\n"
	    "done\n"
	    "for u in " H_USER1 " " H_USER2 "; do\n"
	    "  id -u $u >/dev/null 2>&1 || useradd --system --user-group "
	    "--no-create-home --home-dir /nonexistent "
	    "--shell /usr/sbin/nologin $u\n"
	    "done\n"
	    "usermod -a -G " H_GROUP_SOCK "," H_GROUP_ALLOW " " H_USER1 "\n"
	    "usermod -a -G " H_GROUP_SOCK " " H_USER2 "\n";
	int rc;

	if (geteuid() != 0) {
		printf("HOSTILE: %s skipped: creating the test users needs "
		       "root\n",
		       test);
		return -1;
	}
	rc = system(script);
	ck_assert_msg(rc == 0, "creating the test users failed (0x%x)", rc);
	user_lookup(t1, H_USER1);
	user_lookup(t2, H_USER2);
	return 0;
}

static gid_t
group_gid(const char *name)
{
	struct group *gr = getgrnam(name);

	ck_assert_msg(gr != NULL, "no group %s", name);
	return gr->gr_gid;
}

/*
 * Connect to the daemon as user u: groups, gid, then uid become the user's
 * (the saved ids stay root), and everything goes back afterwards.  NULL with
 * errno when the connection fails.
 */
static struct tclient *
connect_as(const struct tuser *u)
{
	gid_t saved[H_MAX_GROUPS], egid = getegid();
	uid_t euid = geteuid();
	struct tclient *c;
	int n, err;

	n = getgroups(H_MAX_GROUPS, saved);
	ck_assert_msg(n >= 0, "getgroups: %s", strerror(errno));
	ck_assert_msg(setgroups((size_t)u->ngroups, u->groups) == 0,
		      "setgroups: %s", strerror(errno));
	ck_assert_msg(setresgid((gid_t)-1, u->gid, (gid_t)-1) == 0,
		      "setresgid: %s", strerror(errno));
	ck_assert_msg(setresuid((uid_t)-1, u->uid, (uid_t)-1) == 0,
		      "setresuid: %s", strerror(errno));
	c = tclient_connect(dmn.sock);
	err = errno;
	ck_assert_msg(setresuid((uid_t)-1, euid, (uid_t)-1) == 0,
		      "back to root: %s", strerror(errno));
	ck_assert(setresgid((gid_t)-1, egid, (gid_t)-1) == 0);
	ck_assert(setgroups((size_t)n, saved) == 0);
	errno = err;
	return c;
}

static struct tclient *
must_connect_as(const struct tuser *u)
{
	struct tclient *c = connect_as(u);

	ck_assert_msg(c != NULL, "connect %s as %s: %s", dmn.sock, u->name,
		      strerror(errno));
	return c;
}

/*
 * The connection gets exactly the line expected (the daemon's refusal) and
 * then end of file.
 */
static void
assert_refusal(struct tclient *c, const char *expected)
{
	struct proto_event *ev;
	char *line;

	ck_assert_msg(tclient_next(c, H_EVENT_MS, &ev, &line) == 0,
		      "no refusal line: %s", tclient_error(c));
	ck_assert_msg(strcmp(line, expected) == 0,
		      "refusal line\n  %s\nexpected\n  %s", line, expected);
	proto_event_free(ev);
	free(line);
	ck_assert_msg(tclient_next(c, H_EOF_MS, &ev, NULL) == -1,
		      "an event after the refusal");
	ck_assert_msg(strstr(tclient_error(c), "end of file") != NULL,
		      "no end of file after the refusal: %s", tclient_error(c));
}

/* ---- the well-behaved client ---- */

static int
probe_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* One run of `true`; its latency, or -1 with why. */
static long long
probe_once(struct tclient *c, int n, const char *host, char *why, size_t whylen)
{
	long long t0 = testutil_now_ms(), deadline = t0 + H_PROBE_RUN_MS;
	struct proto_event *ev;
	char id[32];
	int exited = 0, left;

	snprintf(id, sizeof id, "%d", n);
	if (tclient_send(c,
			 "{\"v\":1,\"id\":%d,\"op\":\"run\",\"hosts\":"
			 "[\"%s\"],\"command\":\"true\"}",
			 n, host) == -1) {
		snprintf(why, whylen, "send: %s", tclient_error(c));
		return -1;
	}
	for (;;) {
		left = (int)(deadline - testutil_now_ms());
		if (left <= 0 || tclient_next(c, left, &ev, NULL) == -1) {
			snprintf(why, whylen, "run %d: %s", n,
				 left <= 0 ? "too slow" : tclient_error(c));
			return -1;
		}
		if (strcmp(ev->id, id) != 0) {
			proto_event_free(ev);
			continue;
		}
		if (ev->type == PROTO_EV_EXIT && ev->status == 0)
			exited = 1;
		if (ev->type == PROTO_EV_ERROR && ev->host == NULL) {
			snprintf(why, whylen, "run %d: %s %s", n,
				 proto_code_name(ev->code),
				 ev->message ? ev->message : "");
			proto_event_free(ev);
			return -1;
		}
		if (ev->type == PROTO_EV_DONE) {
			int ok = ev->done.ok == 1 && exited;

			proto_event_free(ev);
			if (!ok) {
				snprintf(why, whylen, "run %d did not exit 0",
					 n);
				return -1;
			}
			return testutil_now_ms() - t0;
		}
		proto_event_free(ev);
	}
}

static void
probe_child(int stop, int result, const char *host)
{
	static long long lat[H_PROBE_MAX];
	struct probe_result r;
	struct pollfd pfd = {.fd = stop, .events = POLLIN};
	struct tclient *c;
	long long ms;
	int n = 0;

	memset(&r, 0, sizeof r);
	if ((c = tclient_connect(dmn.sock)) == NULL) {
		r.failures = 1;
		snprintf(r.failure, sizeof r.failure, "connect: %s",
			 strerror(errno));
	}
	while (c != NULL && poll(&pfd, 1, 0) == 0) {
		ms = probe_once(c, n++, host, r.failure, sizeof r.failure);
		if (ms < 0) {
			r.failures++;
			break; /* the connection's state is unknown now */
		}
		if (r.runs < H_PROBE_MAX)
			lat[r.runs] = ms;
		r.runs++;
		if (ms > r.max_ms)
			r.max_ms = ms;
		usleep(H_PROBE_PAUSE_US);
	}
	if (r.runs > 0) {
		n = r.runs < H_PROBE_MAX ? r.runs : H_PROBE_MAX;
		qsort(lat, (size_t)n, sizeof lat[0], probe_cmp);
		r.median_ms = lat[n / 2];
	}
	tclient_close(c);
	if (write(result, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(2);
	_exit(0);
}

static void
probe_start(struct probe *p, const char *host)
{
	int sp[2], rp[2];

	ck_assert(pipe2(sp, O_CLOEXEC) == 0 && pipe2(rp, O_CLOEXEC) == 0);
	fflush(stdout);
	fflush(stderr);
	p->pid = fork();
	ck_assert_msg(p->pid != -1, "fork: %s", strerror(errno));
	if (p->pid == 0) {
		close(sp[1]);
		close(rp[0]);
		probe_child(sp[0], rp[1], host);
	}
	close(sp[0]);
	close(rp[1]);
	p->stop = sp[1];
	p->result = rp[0];
}

static void
probe_stop(struct probe *p, struct probe_result *r)
{
	struct pollfd pfd = {.fd = p->result, .events = POLLIN};
	ssize_t n;
	int st;

	memset(r, 0, sizeof *r);
	ck_assert(write(p->stop, "x", 1) == 1);
	ck_assert_msg(poll(&pfd, 1, H_PROBE_RUN_MS + H_EVENT_MS) == 1,
		      "the well-behaved client does not stop");
	n = read(p->result, r, sizeof *r);
	waitpid(p->pid, &st, 0);
	close(p->stop);
	close(p->result);
	ck_assert_msg(n == (ssize_t)sizeof *r,
		      "no result from the well-behaved client (status 0x%x)",
		      st);
}

static const char *probe_host(void);

/* Runs of the well-behaved client on host for ms, nothing else going on. */
static void
probe_baseline(const char *host, int ms, struct probe_result *r)
{
	struct probe p;

	probe_start(&p, host);
	usleep((useconds_t)ms * 1000);
	probe_stop(&p, r);
	ck_assert_msg(r->failures == 0 && r->runs > 0,
		      "baseline: %d runs, %d failures: %s", r->runs,
		      r->failures, r->failure);
}

/* Is the machine too busy with other work for latencies to mean much? */
static int
h_overloaded(const char *what)
{
	double load;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *fp = fopen("/proc/loadavg", "r");
	int n;

	if (fp == NULL)
		return 0;
	n = fscanf(fp, "%lf", &load);
	fclose(fp);
	if (n != 1 || ncpu < 1 || load <= H_OVERLOAD_PER_CPU * ncpu)
		return 0;
	printf("HOSTILE: %s: over the latency bound, not failing: load average "
	       "%.1f on %ld CPUs\n",
	       what, load, ncpu);
	return 1;
}

/*
 * The well-behaved client kept working, about as fast as without the
 * attack.  The machine may be busy with other work, so "without" is the
 * slower of a baseline taken just before the attack and one just after it.
 */
static void
probe_judge(const char *attack, const struct probe_result *before,
	    const struct probe_result *r)
{
	struct probe_result after;
	long long ref, bound;

	probe_baseline(probe_host(), H_BASELINE_MS, &after);
	ref = before->median_ms > after.median_ms ? before->median_ms
						  : after.median_ms;
	bound = H_LAT_FACTOR * ref + H_LAT_SLACK_MS;
	bound = (long long)(bound * tclient_slowdown());
	printf("HOSTILE: %s: well-behaved client median %lld ms (max %lld, "
	       "%d runs) under attack; %lld ms before, %lld ms after "
	       "(%d, %d runs); bound %lld ms\n",
	       attack, r->median_ms, r->max_ms, r->runs, before->median_ms,
	       after.median_ms, before->runs, after.runs, bound);
	ck_assert_msg(r->failures == 0,
		      "%s: the well-behaved client failed: %s", attack,
		      r->failure);
	ck_assert_msg(r->runs >= 3, "%s: the well-behaved client ran %d times",
		      attack, r->runs);
	/* Over the bound on a machine other work owns proves nothing. */
	if (r->median_ms > bound && h_overloaded(attack))
		return;
	ck_assert_msg(r->median_ms <= bound,
		      "%s: median latency %lld ms, over %lld ms", attack,
		      r->median_ms, bound);
}

/* ---- 1. access ---- */

static void
expect_forbidden(struct tclient *c, const struct tuser *u, const char *why)
{
	char line[512];

	snprintf(line, sizeof line,
		 "{\"v\":1,\"id\":null,\"event\":\"error\",\"code\":"
		 "\"forbidden\",\"message\":\"user %s (uid %u) may not use "
		 "this daemon (%s)\"}",
		 u->name, (unsigned)u->uid, why);
	assert_refusal(c, line);
}

START_TEST(test_allow_users)
{
	struct tuser t1, t2, root;
	struct tclient *c;
	struct tcollect k;

	if (users_setup(&t1, &t2, "allow_users") == -1)
		return;
	user_lookup(&root, "root");
	h_begin("SocketGroup " H_GROUP_SOCK "\nAllowUsers " H_USER1);
	h_coll(&k);

	c = must_connect_as(&t1);
	assert_works(c, &k, "t1");
	tclient_close(c);

	c = must_connect_as(&t2);
	expect_forbidden(c, &t2, "not listed in AllowUsers");
	tclient_close(c);

	/* Root is always served, listed or not. */
	c = must_connect_as(&root);
	assert_works(c, &k, "root");
	tclient_close(c);
	tcollect_check(&k);
	ck_assert_msg(log_wait("refused (forbidden)", H_EVENT_MS),
		      "the refusal is not logged");
	tcollect_free(&k);
	h_end();
}
END_TEST

START_TEST(test_allow_groups)
{
	struct tuser t1, t2;
	struct tclient *c;
	struct tcollect k;

	if (users_setup(&t1, &t2, "allow_groups") == -1)
		return;
	/* t1 is in sshpool-tallow only as a supplementary group. */
	h_begin("SocketGroup " H_GROUP_SOCK "\nAllowGroups " H_GROUP_ALLOW);
	h_coll(&k);
	c = must_connect_as(&t1);
	assert_works(c, &k, "t1");
	tclient_close(c);
	c = must_connect_as(&t2);
	expect_forbidden(c, &t2, "no group listed in AllowGroups");
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

/*
 * As in sshd_config: with AllowUsers and AllowGroups both set a client
 * must match both, and DenyUsers refuses whoever its patterns match.
 */
START_TEST(test_allow_users_and_groups)
{
	struct tuser t1, t2;
	struct tclient *c;
	struct tcollect k;

	if (users_setup(&t1, &t2, "allow_users_and_groups") == -1)
		return;
	/* t2 is listed in AllowUsers but is not in sshpool-tallow. */
	h_begin("SocketGroup " H_GROUP_SOCK "\nAllowUsers " H_USER1 " " H_USER2
		"\nAllowGroups " H_GROUP_ALLOW "\nDenyUsers no-such-user-*");
	h_coll(&k);
	c = must_connect_as(&t1);
	assert_works(c, &k, "t1");
	tclient_close(c);
	c = must_connect_as(&t2);
	expect_forbidden(c, &t2, "no group listed in AllowGroups");
	tclient_close(c);
	h_end();

	h_begin("SocketGroup " H_GROUP_SOCK "\nDenyUsers " H_USER1 "*");
	c = must_connect_as(&t1);
	expect_forbidden(c, &t1, "listed in DenyUsers");
	tclient_close(c);
	c = must_connect_as(&t2);
	assert_works(c, &k, "t2");
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

START_TEST(test_max_connections_per_user)
{
	struct tuser t1, t2;
	struct tclient *a, *b, *c;
	struct tcollect ka, kb, kc;
	char line[512];
	long long deadline;
	int served = 0;

	if (users_setup(&t1, &t2, "max_connections_per_user") == -1)
		return;
	h_begin("SocketGroup " H_GROUP_SOCK "\nMaxConnectionsPerUser 2");
	h_coll(&ka);
	h_coll(&kb);
	a = must_connect_as(&t1);
	assert_hello(a, &ka);
	b = must_connect_as(&t1);
	assert_hello(b, &kb);
	c = must_connect_as(&t1);
	snprintf(line, sizeof line,
		 "{\"v\":1,\"id\":null,\"event\":\"error\",\"code\":"
		 "\"limit\",\"message\":\"user %s (uid %u) has too many "
		 "connections (MaxConnectionsPerUser 2)\"}",
		 t1.name, (unsigned)t1.uid);
	assert_refusal(c, line);
	tclient_close(c);

	/* Another user has a count of its own. */
	c = must_connect_as(&t2);
	h_coll(&kc);
	assert_hello(c, &kc);
	tclient_close(c);

	/* A closed connection frees its place (once the daemon saw it). */
	tclient_close(a);
	deadline = testutil_now_ms() + H_EVENT_MS;
	while (!served && testutil_now_ms() < deadline) {
		struct proto_event *ev;

		c = must_connect_as(&t1);
		h_send(c, "{\"v\":1,\"id\":\"again\",\"op\":\"hello\"}");
		ck_assert_msg(tclient_next(c, H_EVENT_MS, &ev, NULL) == 0,
			      "reconnect: %s", tclient_error(c));
		served = ev->type == PROTO_EV_HELLO;
		ck_assert_msg(served || ev->code == PROTO_E_LIMIT,
			      "reconnect: %s", proto_event_name(ev->type));
		proto_event_free(ev);
		tclient_close(c);
		if (!served)
			usleep(50000);
	}
	ck_assert_msg(served, "the closed connection's place was not freed");
	tclient_close(b);
	tcollect_free(&ka);
	tcollect_free(&kb);
	tcollect_free(&kc);
	h_end();
}
END_TEST

static void
assert_mode(const char *path, mode_t mode, gid_t gid)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	ck_assert_msg((st.st_mode & 07777) == mode && st.st_gid == gid,
		      "%s: mode %04o group %u, expected %04o group %u", path,
		      (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid,
		      (unsigned)mode, (unsigned)gid);
}

START_TEST(test_socket_modes)
{
	struct tuser t1, t2, other;
	struct tclient *c;
	struct tcollect k;
	char dir[256];
	gid_t gsock;

	if (users_setup(&t1, &t2, "socket_modes") == -1)
		return;
	gsock = group_gid(H_GROUP_SOCK);

	/* Without SocketGroup: 0700 directory (created), 0600 socket.  The
	 * directory above lets anyone through, so only these modes keep the
	 * other users out. */
	h_prepare();
	ck_assert(chmod(dmn.dir, 0711) == 0);
	snprintf(dir, sizeof dir, "%s/run", dmn.dir);
	snprintf(dmn.sock, sizeof dmn.sock, "%s/sock", dir);
	h_launch(NULL, NULL);
	assert_mode(dir, 0700, getegid());
	assert_mode(dmn.sock, 0600, getegid());
	ck_assert_msg(connect_as(&t1) == NULL && errno == EACCES,
		      "a private socket let %s in", t1.name);
	h_end();

	/* With it: 0750 directory and 0660 socket of that group; its
	 * members can connect, other users cannot reach the socket. */
	h_prepare();
	ck_assert(chmod(dmn.dir, 0711) == 0);
	snprintf(dir, sizeof dir, "%s/run", dmn.dir);
	snprintf(dmn.sock, sizeof dmn.sock, "%s/sock", dir);
	h_launch("SocketGroup " H_GROUP_SOCK, NULL);
	assert_mode(dir, 0750, gsock);
	assert_mode(dmn.sock, 0660, gsock);
	h_coll(&k);
	c = must_connect_as(&t2);
	assert_hello(c, &k);
	tclient_close(c);
	user_lookup(&other, fleet.user);
	ck_assert_msg(connect_as(&other) == NULL && errno == EACCES,
		      "%s, not in %s, reached the socket", other.name,
		      H_GROUP_SOCK);
	tcollect_free(&k);
	h_end();
}
END_TEST

/* A run of true on the first host passing fd as a descriptor of role
 * ("key", "agent"); fd is closed. */
static void
run_with_fd(struct tclient *c, const char *id, int fd, const char *role)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof line,
		     "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":[\"%s\"],"
		     "\"command\":\"true\",\"fds\":[\"%s\"]}\n",
		     id, fleet.hosts[0], role);
	ck_assert(n > 0 && (size_t)n < sizeof line);
	ck_assert_msg(tclient_send_fds(c, line, (size_t)n, &fd, 1) == 0, "%s",
		      tclient_error(c));
	close(fd);
}

/* A run of true on the fleet's first host with the key at path passed
 * by descriptor (the test opens it: the daemon never does). */
static void
run_with_key(struct tclient *c, const char *id, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	run_with_fd(c, id, fd, "key");
}

static int
count_of(const char *text, const char *what)
{
	int n = 0;

	while ((text = strstr(text, what)) != NULL) {
		n++;
		text += strlen(what);
	}
	return n;
}

/*
 * Two local users pass the same authorized key: each gets a pool of its
 * own (status lists both, one session each), so neither rides on the
 * other's session; the second user with an unauthorized key fails with
 * auth_failed although the first user's session to that host is up.
 */
START_TEST(test_users_own_keys)
{
	struct tuser t1, t2;
	struct tclient *c1, *c2;
	struct tcollect k1, k2;
	struct tcollect_req *r;
	char want[64];

	if (users_setup(&t1, &t2, "users_own_keys") == -1)
		return;
	h_begin("SocketGroup " H_GROUP_SOCK);
	h_coll(&k1);
	h_coll(&k2);
	c1 = must_connect_as(&t1);
	c2 = must_connect_as(&t2);
	run_with_key(c1, "a1", fleet.key);
	assert_done(h_wait(c1, &k1, q("a1")), 1, 1, 0, 0);
	run_with_key(c2, "b1", fleet.key);
	assert_done(h_wait(c2, &k2, q("b1")), 1, 1, 0, 0);
	run_with_key(c1, "a2", fleet.key);
	assert_done(h_wait(c1, &k1, q("a2")), 1, 1, 0, 0);
	run_with_key(c2, "b2", fleet.wrong_key);
	r = h_wait(c2, &k2, q("b2"));
	ck_assert_msg(r->nhosts == 1 &&
			  r->hosts[0]->code == PROTO_E_AUTH_FAILED,
		      "%s's unauthorized key: %s (%s)", t2.name,
		      proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	h_send(c1, "{\"v\":1,\"id\":\"st\",\"op\":\"status\"}");
	tcollect_wait_status(c1, &k1, NULL, H_EVENT_MS);
	printf("HOSTILE: two users' own keys: status %.400s\n", k1.status);
	snprintf(want, sizeof want, "\"credential_uid\":%u}", (unsigned)t1.uid);
	ck_assert_msg(count_of(k1.status, want) == 1, "%s's pools: %s", t1.name,
		      k1.status);
	snprintf(want, sizeof want, "\"credential_uid\":%u}", (unsigned)t2.uid);
	ck_assert_msg(count_of(k1.status, want) == 2, "%s's pools: %s", t2.name,
		      k1.status);
	ck_assert_msg(count_of(k1.status, "\"state\":\"up\",\"worker\"") >= 2,
		      "not both users' pools are up: %s", k1.status);
	tclient_close(c1);
	tclient_close(c2);
	tcollect_free(&k1);
	tcollect_free(&k2);
	h_end();
}
END_TEST

/* A run of true on the first host with a new connection to the agent at
 * sock passed (fds ["agent"]). */
static void
run_with_agent(struct tclient *c, const char *id, const char *sock)
{
	run_with_fd(c, id, tagent_connect(sock), "agent");
}

/*
 * Two local users, each passing an agent of their own: the first user's
 * agent holds the authorized key, the second's a key the hosts refuse.
 * The first runs; the second fails with auth_failed although the first
 * user's session to that host is up, since it is not the second user's;
 * once the second user's agent holds the authorized key too, it runs on a
 * session of its own: status lists one client-agent pool per user.
 */
START_TEST(test_users_own_agents)
{
	char sock1[256], sock2[256], want[64];
	struct tcollect k1, k2;
	struct tcollect_req *r;
	struct tclient *c1, *c2;
	struct tuser t1, t2;
	pid_t a1, a2;

	if (users_setup(&t1, &t2, "users_own_agents") == -1)
		return;
	h_begin("SocketGroup " H_GROUP_SOCK);
	snprintf(sock1, sizeof sock1, "%s/agent1.sock", dmn.dir);
	snprintf(sock2, sizeof sock2, "%s/agent2.sock", dmn.dir);
	a1 = tagent_start(sock1);
	a2 = tagent_start(sock2);
	ck_assert(tagent_add(sock1, fleet.key) == 0);
	ck_assert(tagent_add(sock2, fleet.wrong_key) == 0);
	h_coll(&k1);
	h_coll(&k2);
	c1 = must_connect_as(&t1);
	c2 = must_connect_as(&t2);
	run_with_agent(c1, "a1", sock1);
	assert_done(h_wait(c1, &k1, q("a1")), 1, 1, 0, 0);
	run_with_agent(c2, "b1", sock2);
	r = h_wait(c2, &k2, q("b1"));
	ck_assert_msg(
	    r->nhosts == 1 && r->hosts[0]->code == PROTO_E_AUTH_FAILED &&
		strstr(r->hosts[0]->message, "the client's agent") != NULL,
	    "%s's agent with a refused key: %s (%s)", t2.name,
	    proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	ck_assert(tagent_add(sock2, fleet.key) == 0);
	run_with_agent(c2, "b2", sock2);
	assert_done(h_wait(c2, &k2, q("b2")), 1, 1, 0, 0);
	run_with_agent(c1, "a2", sock1);
	assert_done(h_wait(c1, &k1, q("a2")), 1, 1, 0, 0);
	h_send(c1, "{\"v\":1,\"id\":\"st\",\"op\":\"status\"}");
	tcollect_wait_status(c1, &k1, NULL, H_EVENT_MS);
	printf("HOSTILE: two users' own agents: status %.400s\n", k1.status);
	ck_assert_msg(count_of(k1.status, "\"credential\":\"client agent\"") ==
			  2,
		      "not one client-agent pool per user: %s", k1.status);
	snprintf(want, sizeof want, "\"credential_uid\":%u}", (unsigned)t1.uid);
	ck_assert_msg(count_of(k1.status, want) == 1, "%s's pools: %s", t1.name,
		      k1.status);
	snprintf(want, sizeof want, "\"credential_uid\":%u}", (unsigned)t2.uid);
	ck_assert_msg(count_of(k1.status, want) == 1, "%s's pools: %s", t2.name,
		      k1.status);
	tclient_close(c1);
	tclient_close(c2);
	tcollect_free(&k1);
	tcollect_free(&k2);
	tagent_stop(a1);
	tagent_stop(a2);
	h_end();
}
END_TEST

/*
 * Run the daemon on a configuration, serving sock, or with sock NULL only
 * checking it (-n); its exit status, its output in out.
 */
static int
daemon_run(const char *conf, const char *sock, char *out, size_t outlen)
{
	const char *path = getenv("SSHPOOLD");
	char logpath[PATH_MAX];
	long long deadline;
	pid_t pid;
	ssize_t n;
	int fd, st;

	ck_assert_msg(path != NULL, "SSHPOOLD not set");
	snprintf(logpath, sizeof logpath, "%s/start.log", dmn.dir);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert(pid != -1);
	if (pid == 0) {
		fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd == -1)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (sock == NULL)
			execl(path, path, "-n", "-f", conf, (char *)NULL);
		else
			execl(path, path, "-d", "-f", conf, "-s", sock,
			      (char *)NULL);
		_exit(127);
	}
	deadline = testutil_now_ms() + H_EVENT_MS;
	while (waitpid(pid, &st, WNOHANG) != pid) {
		if (testutil_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ck_abort_msg("sshpoold -%s did not exit",
				     sock == NULL ? "n" : "d");
		}
		usleep(10000);
	}
	fd = open(logpath, O_RDONLY);
	ck_assert(fd != -1);
	n = read(fd, out, outlen - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	return st;
}

START_TEST(test_socket_dir_writable)
{
	static const mode_t modes[] = {0777, 0770, 0702};
	char dir[256], sock[300], conf[300], want[512];
	char out[4096];
	size_t i;
	FILE *fp;
	int st;

	h_prepare();
	snprintf(conf, sizeof conf, "%s/bad.conf", dmn.dir);
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		snprintf(dir, sizeof dir, "%s/open%zu", dmn.dir, i);
		snprintf(sock, sizeof sock, "%s/sock", dir);
		ck_assert(mkdir(dir, 0700) == 0 && chmod(dir, modes[i]) == 0);
		ck_assert_ptr_nonnull(fp = fopen(conf, "w"));
		fprintf(fp,
			"Socket %s\nUser %s\nPort %d\nIdentityFile %s\n"
			"UserKnownHostsFile %s\n",
			sock, fleet.user, fleet.port, fleet.key,
			dmn.known_hosts);
		ck_assert_int_eq(fclose(fp), 0);
		st = daemon_run(conf, sock, out, sizeof out);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
			      "mode %04o: status 0x%x, output: %s",
			      (unsigned)modes[i], st, out);
		snprintf(want, sizeof want,
			 "socket directory %s is writable by its group or by "
			 "others (mode %04o): refusing to use it",
			 dir, (unsigned)modes[i]);
		ck_assert_msg(strstr(out, want) != NULL,
			      "mode %04o: output \"%s\" lacks \"%s\"",
			      (unsigned)modes[i], out, want);
		ck_assert_msg(access(sock, F_OK) == -1,
			      "a socket was created in %s", dir);
	}
	tdaemon_cleanup(&dmn);
}
END_TEST

/*
 * sshpoold -n warns about each access-rule name that resolves to no
 * account, with the line of a host rule, and still accepts the file;
 * names that resolve, ids and patterns get no warning.
 */
START_TEST(test_check_unresolved_names)
{
	static const char *const wants[] = {
	    ":2: warning: UserHosts: \"no-such-user-sshpool\" does not "
	    "resolve to a user",
	    ":4: warning: GroupHosts: \"no-such-group-sshpool\" does not "
	    "resolve to a group",
	    ": warning: AllowUsers: \"no-such-user-sshpool\" does not resolve "
	    "to a user",
	    ": warning: DenyGroups: \"no-such-group-sshpool\" does not "
	    "resolve to a group",
	};
	char conf[300], out[4096], want[600];
	size_t i, n;
	const char *p;
	FILE *fp;
	int st;

	h_prepare();
	snprintf(conf, sizeof conf, "%s/check.conf", dmn.dir);
	ck_assert_ptr_nonnull(fp = fopen(conf, "w"));
	fprintf(fp,
		"IdentityFile %s\n"
		"UserHosts no-such-user-sshpool %s\n"
		"UserHosts root %s\n"
		"GroupHosts no-such-group-sshpool %s\n"
		"GroupHosts root %s\n"
		"UserHosts 4242 %s\n"
		"AllowUsers root no-such-user-sshpool al* 4242\n"
		"DenyGroups no-such-group-sshpool nogr?up\n",
		fleet.key, fleet.addrs[0], fleet.addrs[0], fleet.addrs[0],
		fleet.addrs[0], fleet.addrs[0]);
	ck_assert_int_eq(fclose(fp), 0);
	st = daemon_run(conf, NULL, out, sizeof out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "status 0x%x, output: %s", st, out);
	for (i = 0; i < sizeof wants / sizeof wants[0]; i++) {
		snprintf(want, sizeof want, "sshpoold: %s%s", conf, wants[i]);
		ck_assert_msg(strstr(out, want) != NULL,
			      "output \"%s\" lacks \"%s\"", out, want);
	}
	for (n = 0, p = out; (p = strstr(p, "warning")) != NULL; p++)
		n++;
	ck_assert_msg(n == 4, "%zu warnings, expected 4: %s", n, out);
	tdaemon_cleanup(&dmn);
}
END_TEST

/* ---- 2. host policy ---- */

static void
policy_run(const struct tuser *u, const char *id, enum proto_code *codes,
	   const char *kind)
{
	struct tclient *c = must_connect_as(u);
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *r;
	char *hosts = hosts_json(0, 2), want[256];
	size_t i, forbidden = 0;

	h_coll(&k);
	send_run(c, id, hosts, "true", NULL);
	r = h_wait(c, &k, q(id));
	for (i = 0; i < 2; i++)
		forbidden += codes[i] == PROTO_E_FORBIDDEN;
	assert_done(r, 2, 2 - forbidden, 0, forbidden);
	for (i = 0; i < 2; i++) {
		if (codes[i] == PROTO_E_NONE) {
			assert_exit0(&k, q(id), fleet.hosts[i]);
			continue;
		}
		h = tcollect_host(&k, q(id), fleet.hosts[i]);
		ck_assert_msg(h != NULL, "nothing for %s", fleet.hosts[i]);
		ck_assert_msg(h->terminals == 1 && h->starts == 0 &&
				  h->code == PROTO_E_FORBIDDEN,
			      "%s: starts %d, %s (%s) instead of forbidden",
			      fleet.hosts[i], h->starts,
			      h->exited ? "exit" : proto_code_name(h->code),
			      h->message);
		snprintf(want, sizeof want, "user %s may not run on %s (%s)",
			 u->name, fleet.addrs[i], kind);
		ck_assert_msg(strcmp(h->message, want) == 0,
			      "message \"%s\", expected \"%s\"", h->message,
			      want);
	}
	tcollect_check(&k);

	/* connect is held to the same rule. */
	if (codes[1] == PROTO_E_FORBIDDEN) {
		h_send(c,
		       "{\"v\":1,\"id\":\"w\",\"op\":\"connect\",\"hosts\":"
		       "[\"%s\"]}",
		       fleet.hosts[1]);
		r = h_wait(c, &k, q("w"));
		assert_done(r, 1, 0, 0, 1);
		h = tcollect_host(&k, q("w"), fleet.hosts[1]);
		ck_assert_msg(h != NULL && h->code == PROTO_E_FORBIDDEN,
			      "connect to a forbidden host was not refused");
	}
	free(hosts);
	tclient_close(c);
	tcollect_free(&k);
}

START_TEST(test_user_hosts)
{
	enum proto_code t1_codes[2] = {PROTO_E_NONE, PROTO_E_FORBIDDEN};
	enum proto_code all_ok[2] = {PROTO_E_NONE, PROTO_E_NONE};
	struct tuser t1, t2, root;
	char extra[256];

	if (users_setup(&t1, &t2, "user_hosts") == -1)
		return;
	user_lookup(&root, "root");
	h_prepare();
	snprintf(extra, sizeof extra, "SocketGroup %s\nUserHosts %s %s\n",
		 H_GROUP_SOCK, H_USER1, fleet.addrs[0]);
	h_launch(extra, NULL);
	policy_run(&t1, "p1", t1_codes, "UserHosts");
	/* Users no rule names are not limited, nor is root. */
	policy_run(&t2, "p2", all_ok, NULL);
	policy_run(&root, "p3", all_ok, NULL);
	ck_assert_msg(log_wait("forbidden=1", H_EVENT_MS),
		      "the audit log does not count the forbidden host");
	h_end();
}
END_TEST

START_TEST(test_group_hosts)
{
	enum proto_code t1_codes[2] = {PROTO_E_FORBIDDEN, PROTO_E_NONE};
	enum proto_code all_ok[2] = {PROTO_E_NONE, PROTO_E_NONE};
	struct tuser t1, t2;
	char extra[256];

	if (users_setup(&t1, &t2, "group_hosts") == -1)
		return;
	h_prepare();
	snprintf(extra, sizeof extra, "SocketGroup %s\nGroupHosts %s %s\n",
		 H_GROUP_SOCK, H_GROUP_ALLOW, fleet.addrs[1]);
	h_launch(extra, NULL);
	policy_run(&t1, "g1", t1_codes, "GroupHosts");
	policy_run(&t2, "g2", all_ok, NULL);
	h_end();
}
END_TEST

/*
 * A run of true on host (the rest of the request in more) is forbidden
 * because client who may not log in there as user.
 */
static void
assert_login_forbidden(struct tclient *c, struct tcollect *k, const char *id,
		       const char *host, const char *more, const char *user,
		       const char *who)
{
	struct tcollect_host *h;
	char want[256];

	h_send(c,
	       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":[\"%s\"],"
	       "\"command\":\"true\"%s}",
	       id, host, more);
	assert_done(h_wait(c, k, q(id)), 1, 0, 0, 1);
	h = tcollect_host(k, q(id), host);
	ck_assert_msg(h != NULL, "nothing for %s", host);
	ck_assert_msg(
	    h->terminals == 1 && h->starts == 0 && h->code == PROTO_E_FORBIDDEN,
	    "%s as %s: starts %d, %s (%s) instead of forbidden", host, user,
	    h->starts, h->exited ? "exit" : proto_code_name(h->code),
	    h->message);
	snprintf(want, sizeof want,
		 "user %s may not log in as %s on %s (UserHosts users=)", who,
		 user, fleet.addrs[0]);
	ck_assert_msg(strcmp(h->message, want) == 0,
		      "message \"%s\", expected \"%s\"", h->message, want);
}

/*
 * A client a host rule limits logs in only as the host's User: root@host,
 * "user":"root" and connect as root are forbidden and nothing starts; the
 * host's User, named or not, runs.  users= widens the choice to its list.
 */
START_TEST(test_user_hosts_login)
{
	struct tuser t1, t2;
	struct tclient *c;
	struct tcollect k;
	char extra[512], host[128], *hosts;

	if (users_setup(&t1, &t2, "user_hosts_login") == -1)
		return;
	h_prepare();
	snprintf(extra, sizeof extra,
		 "SocketGroup %s\nUserHosts %s %s\n"
		 "UserHosts %s %s users=nosuch*,%s\n",
		 H_GROUP_SOCK, H_USER1, fleet.addrs[0], H_USER2, fleet.addrs[0],
		 fleet.user);
	h_launch(extra, NULL);
	c = must_connect_as(&t1);
	h_coll(&k);
	snprintf(host, sizeof host, "root@%s", fleet.hosts[0]);
	assert_login_forbidden(c, &k, "l1", host, "", "root", t1.name);
	assert_login_forbidden(c, &k, "l2", fleet.hosts[0],
			       ",\"user\":\"root\"", "root", t1.name);
	h_send(c,
	       "{\"v\":1,\"id\":\"l3\",\"op\":\"connect\",\"hosts\":"
	       "[\"%s\"]}",
	       host);
	assert_done(h_wait(c, &k, q("l3")), 1, 0, 0, 1);
	/* The host's User, by default and by name, and no other host. */
	hosts = hosts_json(0, 1);
	send_run(c, "l4", hosts, "true", NULL);
	free(hosts);
	assert_done(h_wait(c, &k, q("l4")), 1, 1, 0, 0);
	snprintf(host, sizeof host, "%s@%s", fleet.user, fleet.hosts[0]);
	h_send(c,
	       "{\"v\":1,\"id\":\"l5\",\"op\":\"run\",\"hosts\":[\"%s\"],"
	       "\"command\":\"true\"}",
	       host);
	assert_done(h_wait(c, &k, q("l5")), 1, 1, 0, 0);
	tcollect_check(&k);
	tclient_close(c);
	tcollect_free(&k);

	/* users= allows its patterns and nobody else. */
	c = must_connect_as(&t2);
	h_coll(&k);
	h_send(c,
	       "{\"v\":1,\"id\":\"m1\",\"op\":\"run\",\"hosts\":[\"%s\"],"
	       "\"user\":\"%s\",\"command\":\"true\"}",
	       fleet.hosts[0], fleet.user);
	assert_done(h_wait(c, &k, q("m1")), 1, 1, 0, 0);
	snprintf(host, sizeof host, "root@%s", fleet.hosts[0]);
	assert_login_forbidden(c, &k, "m2", host, "", "root", t2.name);
	tcollect_check(&k);
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

/*
 * A run of true on fleet.hosts[0] with more in the request, forbidden
 * because of a jump host: nothing starts, and the message is want.
 */
static void
assert_hop_forbidden(struct tclient *c, struct tcollect *k, const char *id,
		     const char *more, const char *want)
{
	struct tcollect_host *h;

	h_send(c,
	       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":[\"%s\"],"
	       "\"command\":\"true\"%s}",
	       id, fleet.hosts[0], more);
	assert_done(h_wait(c, k, q(id)), 1, 0, 0, 1);
	h = tcollect_host(k, q(id), fleet.hosts[0]);
	ck_assert_msg(h != NULL, "nothing for %s", fleet.hosts[0]);
	ck_assert_msg(
	    h->terminals == 1 && h->starts == 0 && h->code == PROTO_E_FORBIDDEN,
	    "%s: starts %d, %s (%s) instead of forbidden", id, h->starts,
	    h->exited ? "exit" : proto_code_name(h->code), h->message);
	ck_assert_msg(strcmp(h->message, want) == 0,
		      "message \"%s\", expected \"%s\"", h->message, want);
}

/*
 * Jump hosts pass the host rules as the hosts behind them do: a hop the
 * client's rules do not allow, from the request's "jump" or from
 * ProxyJump, makes the host forbidden with the hop named; a hop it may
 * use only as another user likewise; "jump":"none" goes direct.
 */
START_TEST(test_user_hosts_jump)
{
	struct tuser t1, t2;
	struct tclient *c;
	struct tcollect k;
	char extra[512], want[256], more[128];

	if (users_setup(&t1, &t2, "user_hosts_jump") == -1)
		return;
	h_prepare();
	snprintf(extra, sizeof extra,
		 "SocketGroup %s\nUserHosts %s %s %s\n"
		 "Host %s\n\tProxyJump %s\n",
		 H_GROUP_SOCK, H_USER1, fleet.addrs[0], fleet.addrs[3],
		 fleet.addrs[0], fleet.addrs[1]);
	h_launch(extra, NULL);
	c = must_connect_as(&t1);
	h_coll(&k);
	/* ProxyJump's hop. */
	snprintf(want, sizeof want,
		 "user %s may not use jump host %s to reach %s (UserHosts)",
		 t1.name, fleet.addrs[1], fleet.addrs[0]);
	assert_hop_forbidden(c, &k, "j1", "", want);
	/* The request's hops replace it; the second one is refused. */
	snprintf(more, sizeof more, ",\"jump\":\"%s,%s\"", fleet.addrs[3],
		 fleet.addrs[2]);
	snprintf(want, sizeof want,
		 "user %s may not use jump host %s to reach %s (UserHosts)",
		 t1.name, fleet.addrs[2], fleet.addrs[0]);
	assert_hop_forbidden(c, &k, "j2", more, want);
	/* An allowed hop, but not as root. */
	snprintf(more, sizeof more, ",\"jump\":\"root@%s\"", fleet.addrs[3]);
	snprintf(want, sizeof want,
		 "user %s may not log in as root on jump host %s of %s "
		 "(UserHosts users=)",
		 t1.name, fleet.addrs[3], fleet.addrs[0]);
	assert_hop_forbidden(c, &k, "j3", more, want);
	/* Direct: the host itself is allowed. */
	h_send(c,
	       "{\"v\":1,\"id\":\"j4\",\"op\":\"run\",\"hosts\":[\"%s\"],"
	       "\"command\":\"true\",\"jump\":\"none\"}",
	       fleet.hosts[0]);
	assert_done(h_wait(c, &k, q("j4")), 1, 1, 0, 0);
	/* connect is held to the same rule. */
	h_send(c,
	       "{\"v\":1,\"id\":\"j5\",\"op\":\"connect\",\"hosts\":[\"%s\"]}",
	       fleet.hosts[0]);
	assert_done(h_wait(c, &k, q("j5")), 1, 0, 0, 1);
	tcollect_check(&k);
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

/* ---- 3. audit ---- */

START_TEST(test_audit_log)
{
	static const char secret[] = "SECRET123";
	static const char payload[] = "STDIN-PAYLOAD-4d1e";
	/* base64 of the payload */
	static const char payload64[] = "U1RESU4tUEFZTE9BRC00ZDFl";
	/* JSON text of: cat >/dev/null; test -n "$HOSTILE_ENV" && : 0123... */
	const char *command =
	    "cat >/dev/null; test -n \\\"$HOSTILE_ENV\\\" && : "
	    "0123456789abcdefghijklmnopqrstuvwxyz";
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *r;
	char *hosts, *log, want[512], more[256];

	h_begin("AuditCommandLength 40");
	c = h_connect();
	h_coll(&k);
	hosts = hosts_json(0, 2);
	snprintf(more, sizeof more,
		 ",\"env\":{\"HOSTILE_ENV\":\"%s\",\"OTHER\":\"x\"},"
		 "\"stdin\":\"%s\"",
		 secret, payload64);
	send_run(c, "aud", hosts, command, more);
	r = h_wait(c, &k, q("aud"));
	assert_done(r, 2, 2, 0, 0);
	/* A request refused by the daemon (not by the codec) is audited. */
	h_send(c,
	       "{\"v\":1,\"id\":\"aud2\",\"op\":\"run\",\"hosts\":[\"%s\","
	       "\"@nosuchgroup\"],\"command\":\"true\"}",
	       fleet.hosts[0]);
	r = h_wait(c, &k, q("aud2"));
	assert_refused(r, PROTO_E_BAD_REQUEST, "unknown host group");
	tclient_close(c);

	snprintf(want, sizeof want, "audit: done uid=%u pid=%ld id=\"aud\"",
		 (unsigned)geteuid(), (long)getpid());
	ck_assert_msg(log_wait(want, H_EVENT_MS), "no \"%s\" in the log", want);
	log = log_read();
	/* The command cut to 40 bytes (quotes escaped), then "...". */
	snprintf(want, sizeof want,
		 "audit: client uid=%u pid=%ld id=\"aud\" op=run hosts=2 "
		 "command=\"cat >/dev/null; test -n \\\"$HOSTILE_ENV\\\" "
		 "&...\" env=2 stdin_bytes=%zu forbidden=0",
		 (unsigned)geteuid(), (long)getpid(), strlen(payload));
	ck_assert_msg(strstr(log, want) != NULL,
		      "no audit line \"%s\" in the log", want);
	snprintf(want, sizeof want,
		 "audit: done uid=%u pid=%ld id=\"aud\" hosts=2 ok=2 "
		 "failed=0 errors=0 forbidden=0 duration_ms=",
		 (unsigned)geteuid(), (long)getpid());
	ck_assert_msg(strstr(log, want) != NULL,
		      "no done line \"%s\" in the log", want);
	snprintf(want, sizeof want,
		 "audit: refused uid=%u pid=%ld id=\"aud2\" op=run hosts=2 "
		 "code=bad_request",
		 (unsigned)geteuid(), (long)getpid());
	ck_assert_msg(strstr(log, want) != NULL,
		      "no refusal line \"%s\" in the log", want);
	ck_assert_msg(strstr(log, secret) == NULL,
		      "an env value is in the log");
	ck_assert_msg(strstr(log, payload) == NULL &&
			  strstr(log, payload64) == NULL,
		      "stdin is in the log");
	ck_assert_msg(strstr(log, "0123456789abcdef") == NULL,
		      "the command was not cut at AuditCommandLength");
	free(log);
	free(hosts);
	tcollect_free(&k);
	h_end();
}
END_TEST

/* ---- 4. limits ---- */

/* Send a malformed line; it must get bad_request and the connection must
 * stay usable. */
static void
bad_line(struct tclient *c, struct tcollect *k, const void *line, size_t len,
	 const char *what, const char *msg_part)
{
	long long deadline = testutil_now_ms() + H_EVENT_MS;
	int before = k->nullerrors, hellos = k->hellos;
	struct tcollect_req *r;

	ck_assert_msg(tclient_send_raw(c, line, len) == 0 &&
			  tclient_send_raw(c, "\n", 1) == 0,
		      "%s: send: %s", what, tclient_error(c));
	h_send(c, "{\"v\":1,\"id\":\"hi\",\"op\":\"hello\"}");
	while (k->hellos == hellos) {
		ck_assert_msg(testutil_now_ms() < deadline, "%s: no reply",
			      what);
		tcollect_read(c, k, H_EVENT_MS);
	}
	/* Replies come in order: the error came first. */
	if (k->nullerrors > before) {
		ck_assert_msg(k->nullcode == PROTO_E_BAD_REQUEST &&
				  (msg_part == NULL ||
				   strstr(k->nullmsg, msg_part) != NULL),
			      "%s: %s (%s)", what, proto_code_name(k->nullcode),
			      k->nullmsg);
		return;
	}
	r = tcollect_req(k, q("bad"));
	ck_assert_msg(r != NULL && r->ends == 1, "%s: no error at all", what);
	assert_refused(r, PROTO_E_BAD_REQUEST, msg_part);
	r->ends = 0; /* the id is reused */
	r->reqerr = 0;
}

START_TEST(test_limits_malformed)
{
	static const char *const lines[] = {
	    /* invalid UTF-8: a stray byte, an overlong '/', a surrogate */
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"run\",\"hosts\":[\"h\"],"
	    "\"command\":\"\xff\xfe\"}",
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"run\",\"hosts\":[\"h\"],"
	    "\"command\":\"\xc0\xaf\"}",
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"run\",\"hosts\":[\"h\"],"
	    "\"command\":\"\xed\xa0\x80\"}",
	    /* duplicate keys, however spelled */
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"status\",\"op\":\"status\"}",
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"status\",\"\\u006fp\":"
	    "\"status\"}",
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"run\",\"hosts\":[\"h\"],"
	    "\"command\":\"true\",\"env\":{\"A\":\"1\",\"A\":\"2\"}}",
	    /* huge numbers */
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"run\",\"hosts\":[\"h\"],"
	    "\"command\":\"true\",\"timeout\":1e400}",
	    "{\"v\":1,\"id\":\"bad\",\"op\":\"run\",\"hosts\":[\"h\"],"
	    "\"command\":\"true\",\"timeout\":99999999999999999999}",
	    "{\"v\":1,\"id\":99999999999999999999,\"op\":\"status\"}",
	    "{\"v\":1,\"id\":1e400,\"op\":\"status\"}",
	    "{\"v\":99999999999999999999,\"id\":\"bad\",\"op\":\"status\"}",
	};
	static const char *const parts[] = {
	    "UTF-8",
	    "UTF-8",
	    "UTF-8",
	    "duplicate key",
	    "duplicate key",
	    "duplicate key",
	    NULL,
	    NULL,
	    NULL,
	    NULL,
	    NULL,
	};
	struct tclient *c;
	struct tcollect k;
	char *big, *deep;
	size_t i, n;

	h_begin(NULL);
	c = h_connect();
	h_coll(&k);

	/* MaxLineLength: 10 MB without a newline is refused before its end,
	 * once, and the line is skipped up to its newline. */
	big = malloc(H_BIG_LINE);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', H_BIG_LINE);
	bad_line(c, &k, big, H_BIG_LINE, "10 MB line", "MaxLineLength");
	ck_assert_int_eq(k.nullerrors, 1);
	free(big);

	/* MaxJsonDepth: 1000 levels. */
	deep = malloc(2 * H_DEEP + 64);
	ck_assert_ptr_nonnull(deep);
	n = (size_t)sprintf(deep, "{\"v\":1,\"id\":\"bad\",\"op\":\"status\","
				  "\"x\":");
	memset(deep + n, '[', H_DEEP);
	memset(deep + n + H_DEEP, ']', H_DEEP);
	n += 2 * H_DEEP;
	deep[n++] = '}';
	bad_line(c, &k, deep, n, "1000-deep nesting", "nesting deeper than");
	free(deep);

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		bad_line(c, &k, lines[i], strlen(lines[i]), lines[i], parts[i]);
	assert_works(c, &k, "after");
	tcollect_check(&k);
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

/* Base64 of n zero bytes. */
static void
b64_zeros(size_t n, char *out)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3, out += 4)
		memcpy(out, "AAAA", 4);
	if (n % 3 == 1)
		memcpy(out, "AA==", 4);
	else if (n % 3 == 2)
		memcpy(out, "AAA=", 4);
	out[n % 3 ? 4 : 0] = '\0';
}

START_TEST(test_limits_request)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	char *hosts, stdin64[2048], more[2100];

	h_begin("MaxHostsPerRequest 5\nMaxStdinBytes 1024\n"
		"MaxEnvEntries 2");
	c = h_connect();
	h_coll(&k);

	hosts = hosts_json(0, 6);
	send_run(c, "hosts", hosts, "true", NULL);
	assert_refused(h_wait(c, &k, q("hosts")), PROTO_E_LIMIT,
		       "MaxHostsPerRequest");
	free(hosts);
	hosts = hosts_json(0, 5);
	send_run(c, "hosts5", hosts, "true", NULL);
	assert_done(h_wait(c, &k, q("hosts5")), 5, 5, 0, 0);
	free(hosts);

	hosts = hosts_json(0, 1);
	b64_zeros(1025, stdin64);
	snprintf(more, sizeof more, ",\"stdin\":\"%s\"", stdin64);
	send_run(c, "stdin", hosts, "cat >/dev/null", more);
	assert_refused(h_wait(c, &k, q("stdin")), PROTO_E_LIMIT,
		       "MaxStdinBytes");
	b64_zeros(1024, stdin64);
	snprintf(more, sizeof more, ",\"stdin\":\"%s\"", stdin64);
	send_run(c, "stdin2", hosts, "wc -c", more);
	assert_done(h_wait(c, &k, q("stdin2")), 1, 1, 0, 0);
	h = tcollect_host(&k, q("stdin2"), fleet.hosts[0]);
	ck_assert_msg(h != NULL && strncmp(h->out, "1024", 4) == 0,
		      "stdin of 1024 bytes arrived as \"%s\"",
		      h != NULL ? h->out : "");

	send_run(c, "env", hosts, "true",
		 ",\"env\":{\"A\":\"1\",\"B\":\"2\",\"C\":\"3\"}");
	assert_refused(h_wait(c, &k, q("env")), PROTO_E_LIMIT, "MaxEnvEntries");
	send_run(c, "env2", hosts, "true",
		 ",\"env\":{\"A\":\"1\",\"B\":\"2\"}");
	assert_done(h_wait(c, &k, q("env2")), 1, 1, 0, 0);
	tcollect_check(&k);
	free(hosts);
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

/*
 * 0 means none: with MaxStdinBytes 0 and MaxEnvEntries 0 the hello
 * announces 0, one byte of stdin and one env entry are refused with
 * "limit", and with AuditCommandLength 0 the audit line gives the command's
 * length but none of its text.
 */
START_TEST(test_limits_zero)
{
	static const char marker[] = "ZERO-AUDIT-MARKER";
	struct tclient *c;
	struct tcollect k;
	char *hosts, *log, want[256];

	h_begin("MaxStdinBytes 0\nMaxEnvEntries 0\nAuditCommandLength 0");
	c = h_connect();
	h_coll(&k);
	assert_hello(c, &k);
	ck_assert_msg(k.hello.limits.max_stdin == 0 &&
			  k.hello.limits.max_env == 0,
		      "hello announces max_stdin %zu, max_env %zu",
		      k.hello.limits.max_stdin, k.hello.limits.max_env);
	hosts = hosts_json(0, 1);
	send_run(c, "stdin", hosts, "cat >/dev/null", ",\"stdin\":\"AA==\"");
	assert_refused(h_wait(c, &k, q("stdin")), PROTO_E_LIMIT,
		       "MaxStdinBytes (0)");
	send_run(c, "env", hosts, "true", ",\"env\":{\"A\":\"1\"}");
	assert_refused(h_wait(c, &k, q("env")), PROTO_E_LIMIT,
		       "MaxEnvEntries (0)");
	send_run(c, "cmd", hosts, ": ZERO-AUDIT-MARKER", NULL);
	assert_done(h_wait(c, &k, q("cmd")), 1, 1, 0, 0);
	tcollect_check(&k);
	tclient_close(c);

	snprintf(want, sizeof want, "audit: done uid=%u pid=%ld id=\"cmd\"",
		 (unsigned)geteuid(), (long)getpid());
	ck_assert_msg(log_wait(want, H_EVENT_MS), "no \"%s\" in the log", want);
	log = log_read();
	snprintf(want, sizeof want,
		 "id=\"cmd\" op=run hosts=1 command_bytes=%zu env=0 "
		 "stdin_bytes=0 forbidden=0",
		 strlen(marker) + 2);
	ck_assert_msg(strstr(log, want) != NULL, "no audit line \"%s\"", want);
	ck_assert_msg(strstr(log, marker) == NULL,
		      "the command's text is in the log");
	free(log);
	free(hosts);
	tcollect_free(&k);
	h_end();
}
END_TEST

/*
 * MaxRequestsPerClient 2, MaxJobsPerClient 3, MaxJobs 4.  Runs of sleep 1
 * hold their jobs while the refusals, which are immediate, are checked.
 */
START_TEST(test_limits_inflight)
{
	struct tclient *a, *b;
	struct tcollect ka, kb;
	char *h1, *h2, *h3, *h4, *h5;

	h_begin("MaxRequestsPerClient 2\nMaxJobsPerClient 3\nMaxJobs 4");
	a = h_connect();
	b = h_connect();
	h_coll(&ka);
	h_coll(&kb);
	h1 = hosts_json(2, 1);
	h2 = hosts_json(0, 2);
	h3 = hosts_json(0, 3);
	h4 = hosts_json(0, 4);
	h5 = hosts_json(5, 2);

	/* 4 hosts in one request never fit MaxJobsPerClient 3. */
	send_run(a, "j4", h4, "true", NULL);
	assert_refused(h_wait(a, &ka, q("j4")), PROTO_E_LIMIT,
		       "MaxJobsPerClient");
	/* 2 jobs running: 2 more do not fit, 1 does. */
	send_run(a, "s2", h2, "sleep 1", NULL);
	send_run(a, "j2", h5, "true", NULL);
	assert_refused(h_wait(a, &ka, q("j2")), PROTO_E_LIMIT,
		       "MaxJobsPerClient");
	send_run(a, "s1", h1, "sleep 1", NULL);
	/* 2 requests in flight: a third is refused before its jobs count. */
	send_run(a, "r3", h1, "true", NULL);
	assert_refused(h_wait(a, &ka, q("r3")), PROTO_E_LIMIT,
		       "MaxRequestsPerClient");
	/* 3 jobs of a running: another client's 2 cross MaxJobs, 1 fits. */
	send_run(b, "b2", h5, "true", NULL);
	assert_refused(h_wait(b, &kb, q("b2")), PROTO_E_LIMIT, "(MaxJobs 4)");
	send_run(b, "b1", h1, "true", NULL);
	assert_done(h_wait(b, &kb, q("b1")), 1, 1, 0, 0);
	assert_done(h_wait(a, &ka, q("s2")), 2, 2, 0, 0);
	assert_done(h_wait(a, &ka, q("s1")), 1, 1, 0, 0);
	/* Everything is free again. */
	send_run(a, "j3", h3, "true", NULL);
	assert_done(h_wait(a, &ka, q("j3")), 3, 3, 0, 0);
	send_run(b, "b2ok", h5, "true", NULL);
	assert_done(h_wait(b, &kb, q("b2ok")), 2, 2, 0, 0);
	tcollect_check(&ka);
	tcollect_check(&kb);
	free(h1);
	free(h2);
	free(h3);
	free(h4);
	free(h5);
	tclient_close(a);
	tclient_close(b);
	tcollect_free(&ka);
	tcollect_free(&kb);
	h_end();
}
END_TEST

/* ---- 5. hostile clients ---- */

/* The configuration of an attacked daemon: one user's many connections
 * are the attack, not a reason to refuse them. */
#define H_ATTACK_CONF "MaxConnectionsPerUser 4096"

static const char *
probe_host(void)
{
	return fleet.hosts[20];
}

/* Daemon up, the probe host's session warm, a baseline measured. */
static void
attack_begin(const char *extra, struct probe_result *base)
{
	struct tclient *c;
	struct tcollect k;
	char hosts[64];

	h_begin(extra != NULL ? extra : H_ATTACK_CONF);
	c = h_connect();
	h_coll(&k);
	snprintf(hosts, sizeof hosts, "[\"%s\"]", probe_host());
	send_run(c, "warm", hosts, "true", NULL);
	assert_done(h_wait(c, &k, q("warm")), 1, 1, 0, 0);
	tclient_close(c);
	probe_baseline(probe_host(), H_BASELINE_MS, base);
	tcollect_free(&k);
}

/* Count complete reply lines in buf (carry keeps a partial one). */
struct tally {
	char carry[4096];
	size_t carrylen;
	long lines, hellos, bad;
};

static void
tally_line(struct tally *t, const char *line, size_t len)
{
	t->lines++;
	if (memmem(line, len, "\"event\":\"hello\"", 15) != NULL)
		t->hellos++;
	else if (memmem(line, len, "\"code\":\"bad_request\"", 20) != NULL)
		t->bad++;
}

static void
tally_feed(struct tally *t, const char *buf, size_t n)
{
	const char *p = buf, *nl;

	while ((nl = memchr(p, '\n', n - (size_t)(p - buf))) != NULL) {
		size_t len = (size_t)(nl - p);

		if (t->carrylen > 0) {
			size_t room = sizeof t->carry - t->carrylen;

			memcpy(t->carry + t->carrylen, p,
			       len < room ? len : room);
			tally_line(t, t->carry,
				   t->carrylen + (len < room ? len : room));
			t->carrylen = 0;
		} else
			tally_line(t, p, len);
		p = nl + 1;
	}
	n -= (size_t)(p - buf);
	if (n > sizeof t->carry - t->carrylen)
		n = sizeof t->carry - t->carrylen;
	memcpy(t->carry + t->carrylen, p, n);
	t->carrylen += n;
}

/*
 * Write out[0..len) to fd while reading and counting the replies, until
 * everything is written and `replies` lines came back (bounded).
 */
static void
pump(int fd, const char *out, size_t len, long replies, struct tally *t, int ms)
{
	long long deadline = testutil_now_ms() + ms;
	struct pollfd pfd = {.fd = fd};
	char buf[65536];
	size_t off = 0;
	ssize_t n;
	int left;

	while (off < len || t->lines < replies) {
		left = (int)(deadline - testutil_now_ms());
		ck_assert_msg(left > 0,
			      "attack stalled: %zu of %zu bytes sent, %ld of "
			      "%ld replies",
			      off, len, t->lines, replies);
		pfd.events = POLLIN | (off < len ? POLLOUT : 0);
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (pfd.revents & POLLIN) {
			n = read(fd, buf, sizeof buf);
			ck_assert_msg(n > 0,
				      "the daemon closed the attacker "
				      "(read %zd)",
				      n);
			tally_feed(t, buf, (size_t)n);
		}
		if (off < len && (pfd.revents & POLLOUT)) {
			n = send(fd, out + off, len - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			ck_assert_msg(n > 0 || errno == EAGAIN, "send: %s",
				      strerror(errno));
			if (n > 0)
				off += (size_t)n;
		}
	}
}

START_TEST(test_attack_long_line)
{
	struct probe_result base, r;
	struct probe p;
	struct tclient *c;
	struct tcollect k;
	char *big;
	long long t0;
	int lines = 0;

	attack_begin(NULL, &base);
	c = h_connect();
	h_coll(&k);
	big = malloc(H_BIG_LINE);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', H_BIG_LINE);
	probe_start(&p, probe_host());
	t0 = testutil_now_ms();
	/* One endless line: 10 MB, then 10 MB more now and then. */
	while (lines < 1 || testutil_now_ms() - t0 < H_ATTACK_MS) {
		ck_assert(tclient_send_raw(c, big, H_BIG_LINE) == 0);
		lines++;
		usleep(H_BIG_LINE_PAUSE_US);
	}
	probe_stop(&p, &r);
	printf("HOSTILE: long line: %d MB without a newline in %lld ms\n",
	       lines * 10, testutil_now_ms() - t0);
	free(big);
	ck_assert(tclient_send_raw(c, "\n", 1) == 0);
	assert_hello(c, &k);
	ck_assert_msg(k.nullerrors == 1 && k.nullcode == PROTO_E_BAD_REQUEST,
		      "%d errors (%s) for one overlong line", k.nullerrors,
		      proto_code_name(k.nullcode));
	assert_works(c, &k, "after");
	tclient_close(c);
	probe_judge("10 MB line", &base, &r);
	tcollect_free(&k);
	h_end();
}
END_TEST

START_TEST(test_attack_deep_nesting)
{
	struct probe_result base, r;
	struct tally t = {0};
	struct probe p;
	struct tclient *c;
	struct tcollect k;
	char *line, *batch;
	size_t n, len, i, per = 100;
	long long t0;
	long sent = 0;

	attack_begin(NULL, &base);
	c = h_connect();
	line = malloc(2 * H_DEEP + 64);
	ck_assert_ptr_nonnull(line);
	n = (size_t)sprintf(line, "{\"v\":1,\"id\":\"d\",\"op\":\"status\","
				  "\"x\":");
	memset(line + n, '[', H_DEEP);
	memset(line + n + H_DEEP, ']', H_DEEP);
	n += 2 * H_DEEP;
	line[n++] = '}';
	line[n++] = '\n';
	batch = malloc(n * per);
	ck_assert_ptr_nonnull(batch);
	for (i = 0, len = 0; i < per; i++, len += n)
		memcpy(batch + len, line, n);
	probe_start(&p, probe_host());
	t0 = testutil_now_ms();
	while (testutil_now_ms() - t0 < H_ATTACK_MS) {
		sent += (long)per;
		pump(tclient_fd(c), batch, len, sent, &t, H_EVENT_MS);
		usleep(H_DEEP_PAUSE_US);
	}
	probe_stop(&p, &r);
	printf("HOSTILE: deep nesting: %ld lines of %d levels in %lld ms\n",
	       sent, H_DEEP, testutil_now_ms() - t0);
	ck_assert_msg(t.bad == sent, "%ld bad_request for %ld lines", t.bad,
		      sent);
	h_coll(&k);
	assert_works(c, &k, "after");
	tclient_close(c);
	free(line);
	free(batch);
	probe_judge("1000-deep nesting", &base, &r);
	tcollect_free(&k);
	h_end();
}
END_TEST

START_TEST(test_attack_burst)
{
	/* After {"v":1,"id":N: hello, and four kinds of bad request. */
	static const char *const kinds[] = {
	    ",\"op\":\"hello\"}\n",
	    ",\"op\":\"status\",\"op\":\"status\"}\n",
	    ",\"op\":\"run\",\"hosts\":[\"h\"],\"command\":\"\xff\"}\n",
	    ",\"op\":\"run\",\"hosts\":[\"h\"],\"command\":\"true\","
	    "\"timeout\":1e400}\n",
	    ",\"op\":\"frobnicate\"}\n",
	};
	const size_t nkinds = sizeof kinds / sizeof kinds[0];
	struct probe_result base, r;
	struct tally t;
	struct probe p;
	struct tclient *c;
	struct tcollect k;
	char *buf;
	size_t len = 0, cap = (size_t)H_BURST * 120;
	long i;
	long long t0, t1;
	int bursts = 0;

	attack_begin(NULL, &base);
	c = h_connect();
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < H_BURST; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"{\"v\":1,\"id\":%ld%s", i,
					kinds[(size_t)i % nkinds]);
	probe_start(&p, probe_host());
	/* Bursts, one after the other, for as long as a quick attack. */
	t0 = testutil_now_ms();
	do {
		t1 = testutil_now_ms();
		memset(&t, 0, sizeof t);
		pump(tclient_fd(c), buf, len, H_BURST, &t, H_MS(60000));
		printf("HOSTILE: burst %d: %d requests (%zu bytes) answered "
		       "in %lld ms\n",
		       ++bursts, H_BURST, len, testutil_now_ms() - t1);
		ck_assert_msg(t.lines == H_BURST && t.hellos == H_BURST / 5 &&
				  t.bad == H_BURST - H_BURST / 5,
			      "%ld replies: %ld hello, %ld bad_request",
			      t.lines, t.hellos, t.bad);
	} while (testutil_now_ms() - t0 < H_ATTACK_MS);
	probe_stop(&p, &r);
	h_coll(&k);
	assert_works(c, &k, "after");
	tclient_close(c);
	free(buf);
	probe_judge("100000-request burst", &base, &r);
	tcollect_free(&k);
	h_end();
}
END_TEST

START_TEST(test_attack_slowloris)
{
	static const char req[] = "{\"v\":1,\"id\":\"slow\",\"op\":\"hello\"}";
	struct tclient *c[H_SLOWLORIS];
	struct probe_result base, r;
	struct probe p;
	struct tcollect k;
	int i, s;

	attack_begin(NULL, &base);
	for (i = 0; i < H_SLOWLORIS; i++)
		c[i] = h_connect();
	probe_start(&p, probe_host());
	for (s = 0; s < H_SLOWLORIS_S; s++) {
		for (i = 0; i < H_SLOWLORIS; i++)
			ck_assert_msg(tclient_send_raw(c[i], req + s, 1) == 0,
				      "slowloris %d dropped: %s", i,
				      tclient_error(c[i]));
		sleep(1);
	}
	probe_stop(&p, &r);
	/* Finished at last, every slow line is served. */
	for (i = 0; i < H_SLOWLORIS; i++) {
		ck_assert(tclient_send_raw(c[i], req + H_SLOWLORIS_S,
					   strlen(req) - H_SLOWLORIS_S) == 0 &&
			  tclient_send_raw(c[i], "\n", 1) == 0);
		h_coll(&k);
		while (k.hellos == 0)
			tcollect_read(c[i], &k, H_EVENT_MS);
		tcollect_free(&k);
		tclient_close(c[i]);
	}
	probe_judge("slowloris", &base, &r);
	h_end();
}
END_TEST

START_TEST(test_attack_connection_churn)
{
	static const char half[] = "{\"v\":1,\"id\":\"x\",\"op\":";
	static const char whole[] = "{\"v\":1,\"id\":\"x\",\"op\":\"hello\"}\n";
	struct probe_result base, r;
	struct probe p;
	struct tclient *c;
	struct tcollect k;
	long long t0, busy = 0, deadline;
	int i, fds0, fds;

	attack_begin(NULL, &base);
	fds0 = tdaemon_fd_count(dmn.pid);
	ck_assert(fds0 > 0);
	probe_start(&p, probe_host());
	/* In rounds at full speed, spread over a quick attack's time. */
	t0 = testutil_now_ms();
	for (i = 0; i < H_CHURN; i++) {
		c = h_connect();
		if (i % 3 == 1)
			(void)tclient_send_raw(c, half, sizeof half - 1);
		else if (i % 3 == 2)
			(void)tclient_send_raw(c, whole, sizeof whole - 1);
		tclient_close(c);
		if ((i + 1) % H_CHURN_ROUND == 0) {
			busy += testutil_now_ms() - t0;
			usleep(H_ATTACK_MS * 1000 / (H_CHURN / H_CHURN_ROUND));
			t0 = testutil_now_ms();
		}
	}
	probe_stop(&p, &r);
	printf("HOSTILE: connection churn: %d connections opened and "
	       "dropped in %lld ms (in rounds of %d)\n",
	       H_CHURN, busy, H_CHURN_ROUND);
	ck_assert_msg(busy < H_MS(H_CHURN_MS), "%d connections took %lld ms",
		      H_CHURN, busy);
	/* Every one of them is gone from the daemon (one more is the
	 * probe's connection, closed as well). */
	deadline = testutil_now_ms() + H_MS(H_FD_SETTLE_MS);
	while ((fds = tdaemon_fd_count(dmn.pid)) > fds0 &&
	       testutil_now_ms() < deadline)
		usleep(20000);
	ck_assert_msg(fds <= fds0, "sshpoold holds %d descriptors, %d before",
		      fds, fds0);
	c = h_connect();
	h_coll(&k);
	assert_works(c, &k, "after");
	tclient_close(c);
	probe_judge("connection churn", &base, &r);
	tcollect_free(&k);
	h_end();
}
END_TEST

/* ---- the slow reader ---- */

/* Processes whose environment holds marker (remote commands of a run). */
static int
remote_procs(const char *marker, pid_t *pids, int max)
{
	char path[300], buf[8192];
	struct dirent *de;
	DIR *d;
	ssize_t n;
	int fd, found = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc"));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/environ", de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		n = read(fd, buf, sizeof buf);
		close(fd);
		if (n <= 0 ||
		    memmem(buf, (size_t)n, marker, strlen(marker)) == NULL)
			continue;
		if (found < max)
			pids[found] = (pid_t)atol(de->d_name);
		found++;
	}
	closedir(d);
	return found;
}

/* Wait (bounded) until no process carries marker; the time it took. */
static long long
remote_gone(const char *marker)
{
	long long t0 = testutil_now_ms();
	pid_t pids[64];
	int n;

	while ((n = remote_procs(marker, pids, 64)) > 0) {
		ck_assert_msg(testutil_now_ms() - t0 < H_GONE_MS,
			      "%d remote processes of the slow reader still "
			      "run (pid %ld ...)",
			      n, (long)pids[0]);
		usleep(50000);
	}
	return testutil_now_ms() - t0;
}

/* A client starts head -c 500M /dev/zero on 10 hosts and reads nothing. */
static struct tclient *
slow_reader_start(char *marker, size_t markerlen)
{
	struct tclient *c = h_connect();
	char more[128], *hosts = hosts_json(0, H_SLOW_HOSTS);
	pid_t pids[64];
	long long deadline = testutil_now_ms() + H_SLOW_START_MS;

	snprintf(marker, markerlen, "HOSTILE_SLOW=%ld-%lld", (long)getpid(),
		 testutil_now_ms());
	snprintf(more, sizeof more, ",\"env\":{\"HOSTILE_SLOW\":\"%s\"}",
		 strchr(marker, '=') + 1);
	send_run(c, "slow", hosts, "head -c 500M /dev/zero", more);
	free(hosts);
	while (remote_procs(marker, pids, 64) < H_SLOW_HOSTS) {
		ck_assert_msg(testutil_now_ms() < deadline,
			      "the slow reader's commands did not start");
		usleep(20000);
	}
	return c;
}

START_TEST(test_slow_reader_memory)
{
	struct probe_result base, r;
	struct probe p;
	struct tclient *c;
	char marker[64];
	long long t0, gone;
	long rss, peak = 0, rss0;

	attack_begin(H_ATTACK_CONF "\nClientQueueLowWater 1M\n"
				   "ClientQueueHighWater 4M\n"
				   "ClientQueueHardLimit 64M\n"
				   "ClientQueueHardTime 60s",
		     &base);
	rss0 = tdaemon_rss_kb(dmn.pid);
	probe_start(&p, probe_host());
	c = slow_reader_start(marker, sizeof marker);
	t0 = testutil_now_ms();
	while (testutil_now_ms() - t0 < H_SLOW_HOLD_MS) {
		rss = tdaemon_rss_kb(dmn.pid);
		if (rss > peak)
			peak = rss;
		usleep(H_RSS_SAMPLE_MS * 1000);
	}
	probe_stop(&p, &r);
	printf("HOSTILE: slow reader (10 x head -c 500M, high water 4M): "
	       "sshpoold peak RSS %ld KiB (%ld KiB before), bound %ld KiB%s\n",
	       peak, rss0, H_RSS_LIMIT_KB,
#ifdef H_ASAN
	       " (not checked under ASan)"
#else
	       ""
#endif
	);
	ck_assert_msg(peak > 0, "RSS never sampled");
#ifndef H_ASAN
	ck_assert_msg(peak < H_RSS_LIMIT_KB, "peak RSS %ld KiB over %ld KiB",
		      peak, H_RSS_LIMIT_KB);
#endif
	/* Held back, not finished: the remote commands still run. */
	ck_assert_msg(remote_procs(marker, (pid_t[64]){0}, 64) > 0,
		      "the slow reader's commands ended: no backpressure?");
	/* The client goes away: its jobs are cancelled. */
	tclient_close(c);
	gone = remote_gone(marker);
	printf("HOSTILE: slow reader closed: remote commands gone in %lld "
	       "ms\n",
	       gone);
	probe_judge("slow reader", &base, &r);
	h_end();
}
END_TEST

START_TEST(test_slow_reader_hard_limit)
{
	struct probe_result base, r;
	struct probe p;
	struct tclient *c;
	char marker[64], buf[65536];
	struct pollfd pfd;
	long long t0, dropped, gone, deadline;
	size_t drained = 0;
	ssize_t n;

	/* The hard limit just above high water: the output the workers read
	 * before they saw the high water mark is over it, for good. */
	attack_begin(H_ATTACK_CONF "\nClientQueueLowWater 256K\n"
				   "ClientQueueHighWater 1M\n"
				   "ClientQueueHardLimit 1048577\n"
				   "ClientQueueHardTime 1s",
		     &base);
	probe_start(&p, probe_host());
	c = slow_reader_start(marker, sizeof marker);
	t0 = testutil_now_ms();
	ck_assert_msg(log_wait("over ClientQueueHardLimit 1048577 for 1000 ms",
			       H_HARD_DROP_MS),
		      "the slow reader was not disconnected");
	dropped = testutil_now_ms() - t0;
	gone = remote_gone(marker);
	probe_stop(&p, &r);
	printf("HOSTILE: slow reader over ClientQueueHardLimit 1M+1 for 1 "
	       "s: disconnected after %lld ms, remote commands gone %lld ms "
	       "later\n",
	       dropped, gone);
	/* What the socket still held, then end of file. */
	pfd.fd = tclient_fd(c);
	pfd.events = POLLIN;
	deadline = testutil_now_ms() + H_EVENT_MS;
	for (;;) {
		ck_assert_msg(testutil_now_ms() < deadline,
			      "no end of file for the dropped client");
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(pfd.fd, buf, sizeof buf);
		if (n <= 0)
			break;
		drained += (size_t)n;
		ck_assert_msg(drained < H_SLOW_DRAIN_MAX,
			      "the dropped client still gets output");
	}
	printf("HOSTILE: dropped slow reader: %zu bytes left in its socket\n",
	       drained);
	tclient_close(c);
	probe_judge("slow reader over the hard limit", &base, &r);
	h_end();
}
END_TEST

/* ---- 6. host keys and file checks ---- */

START_TEST(test_identity_mode)
{
	struct tdaemon_opts o = {0};
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	char key[PATH_MAX], cmd[2 * PATH_MAX + 16], *hosts;

	h_prepare();
	snprintf(key, sizeof key, "%s/id_open", dmn.dir);
	snprintf(cmd, sizeof cmd, "cp %s %s", fleet.key, key);
	ck_assert(system(cmd) == 0);
	ck_assert(chmod(key, 0644) == 0);
	o.identity = key;
	h_launch(NULL, &o);
	c = h_connect();
	h_coll(&k);
	hosts = hosts_json(0, 1);
	send_run(c, "open", hosts, "true", NULL);
	assert_done(h_wait(c, &k, q("open")), 1, 0, 0, 1);
	h = tcollect_host(&k, q("open"), fleet.hosts[0]);
	ck_assert_msg(h != NULL && h->code == PROTO_E_AUTH_FAILED,
		      "an identity others can read was used");
	ck_assert_msg(strstr(h->message, key) != NULL &&
			  strstr(h->message, "permissions 0644") != NULL,
		      "auth_failed message does not name the file and its "
		      "permissions: %s",
		      h->message);
	free(hosts);
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

/* Lines of the daemon's known_hosts that name this fleet address. */
static int
kh_count(const char *addr)
{
	return tstatus_known_hosts(dmn.known_hosts, addr, fleet.port);
}

/* Rewrite known_hosts without the lines of addresses [0, n); how many
 * lines went. */
static int
kh_drop(size_t n)
{
	char prefix[64], *line = NULL, tmp[PATH_MAX + 8];
	size_t cap = 0, i;
	FILE *in, *out;
	int keep, dropped = 0;

	snprintf(tmp, sizeof tmp, "%s.new", dmn.known_hosts);
	ck_assert_ptr_nonnull(in = fopen(dmn.known_hosts, "r"));
	ck_assert_ptr_nonnull(out = fopen(tmp, "w"));
	while (getline(&line, &cap, in) != -1) {
		keep = 1;
		for (i = 0; i < n; i++) {
			snprintf(prefix, sizeof prefix, "[%.15s]:%d ",
				 fleet.addrs[i], fleet.port);
			if (strncmp(line, prefix, strlen(prefix)) == 0)
				keep = 0;
		}
		if (keep)
			fputs(line, out);
		else
			dropped++;
	}
	free(line);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_int_eq(rename(tmp, dmn.known_hosts), 0);
	return dropped;
}

static char *
file_read(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	ck_assert_msg((fd = open(path, O_RDONLY)) != -1, "%s: %s", path,
		      strerror(errno));
	ck_assert(fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert(read(fd, buf, (size_t)st.st_size) == st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

START_TEST(test_accept_new_concurrent)
{
	struct tdaemon_opts o = {.strict = "accept-new", .workers = 4};
	const size_t n = 10;
	struct tclient *c;
	struct tcollect k;
	char *hosts, *text, *p;
	size_t len, lines = 0, before = 0, i, dropped;
	struct dirent *de;
	DIR *d;

	h_prepare();
	text = file_read(dmn.known_hosts, &len);
	for (p = text; *p != '\0'; p++)
		before += *p == '\n';
	free(text);
	dropped = (size_t)kh_drop(n);
	ck_assert_msg(dropped >= n, "%zu known_hosts lines for %zu hosts",
		      dropped, n);
	h_launch(NULL, &o);
	c = h_connect();
	h_coll(&k);
	hosts = hosts_json(0, n);
	/* Ten first contacts at once, over four workers. */
	send_run(c, "learn", hosts, "true", NULL);
	assert_done(h_wait(c, &k, q("learn")), n, n, 0, 0);
	for (i = 0; i < n; i++)
		ck_assert_msg(kh_count(fleet.addrs[i]) == 1,
			      "%s recorded %d times", fleet.addrs[i],
			      kh_count(fleet.addrs[i]));
	/* Nothing else was lost or added, and every line is whole. */
	text = file_read(dmn.known_hosts, &len);
	ck_assert_msg(len > 0 && text[len - 1] == '\n',
		      "known_hosts does not end with a newline");
	for (p = text; *p != '\0'; p++)
		lines += *p == '\n';
	ck_assert_msg(lines == before - dropped + n,
		      "known_hosts has %zu lines, expected %zu", lines,
		      before - dropped + n);
	free(text);
	/* A second contact finds the keys; nothing is added. */
	send_run(c, "again", hosts, "true", NULL);
	assert_done(h_wait(c, &k, q("again")), n, n, 0, 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(kh_count(fleet.addrs[i]), 1);
	/* No temporary file was left next to it. */
	ck_assert_ptr_nonnull(d = opendir(dmn.dir));
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(strncmp(de->d_name, "known_hosts", 11) != 0 ||
				  strcmp(de->d_name, "known_hosts") == 0,
			      "left behind: %s", de->d_name);
	closedir(d);
	free(hosts);
	tclient_close(c);
	tcollect_free(&k);
	h_end();
}
END_TEST

/* "SHA256:..." of a public key file, by ssh-keygen. */
static void
fingerprint(const char *pub, char *out, size_t outlen)
{
	char cmd[PATH_MAX + 64], line[512], *fp, *end;
	FILE *p;

	snprintf(cmd, sizeof cmd, "ssh-keygen -E sha256 -lf %s", pub);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	ck_assert_msg(fgets(line, sizeof line, p) != NULL, "%s", cmd);
	pclose(p);
	ck_assert_msg((fp = strstr(line, "SHA256:")) != NULL, "%s: %s", cmd,
		      line);
	end = fp + strcspn(fp, " \n");
	*end = '\0';
	snprintf(out, outlen, "%s", fp);
}

START_TEST(test_hostkey_changed)
{
	struct tdaemon_opts o = {.strict = "accept-new"};
	char fp[3][128], wrong[3][128], *before, *after, *hosts, *line = NULL;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	size_t lb, la, cap = 0;
	struct stat st0, st1;
	FILE *in, *out;
	int i, named = 0;

	h_prepare();
	for (i = 0; i < 3; i++) {
		fingerprint(fleet.hostkeys[i], fp[i], sizeof fp[i]);
		fingerprint(fleet.wrong_hostkeys[i], wrong[i], sizeof wrong[i]);
	}
	/* The first host's keys replaced by unrelated ones. */
	kh_drop(1);
	ck_assert_ptr_nonnull(out = fopen(dmn.known_hosts, "a"));
	for (i = 0; i < 3; i++) {
		char *sp;

		ck_assert_ptr_nonnull(in = fopen(fleet.wrong_hostkeys[i], "r"));
		ck_assert(getline(&line, &cap, in) > 0);
		fclose(in);
		if ((sp = strchr(line, ' ')) != NULL &&
		    (sp = strchr(sp + 1, ' ')) != NULL)
			*sp = '\0';
		line[strcspn(line, "\n")] = '\0';
		fprintf(out, "[%s]:%d %s\n", fleet.addrs[0], fleet.port, line);
	}
	free(line);
	ck_assert_int_eq(fclose(out), 0);
	before = file_read(dmn.known_hosts, &lb);
	ck_assert(stat(dmn.known_hosts, &st0) == 0);

	/* Even accept-new refuses a changed key, and never rewrites it. */
	h_launch(NULL, &o);
	c = h_connect();
	h_coll(&k);
	hosts = hosts_json(0, 2);
	send_run(c, "changed", hosts, "true", NULL);
	assert_done(h_wait(c, &k, q("changed")), 2, 1, 0, 1);
	assert_exit0(&k, q("changed"), fleet.hosts[1]);
	h = tcollect_host(&k, q("changed"), fleet.hosts[0]);
	ck_assert_msg(h != NULL && h->code == PROTO_E_HOSTKEY_MISMATCH,
		      "a changed host key was not refused");
	for (i = 0; i < 3; i++)
		if (strstr(h->message, fp[i]) != NULL &&
		    strstr(h->message, wrong[i]) != NULL)
			named = 1;
	ck_assert_msg(named,
		      "hostkey_mismatch does not name both fingerprints: %s",
		      h->message);
	after = file_read(dmn.known_hosts, &la);
	ck_assert(stat(dmn.known_hosts, &st1) == 0);
	ck_assert_msg(la == lb && memcmp(before, after, la) == 0 &&
			  st0.st_ino == st1.st_ino &&
			  st0.st_mtim.tv_sec == st1.st_mtim.tv_sec &&
			  st0.st_mtim.tv_nsec == st1.st_mtim.tv_nsec,
		      "known_hosts was changed");
	tclient_close(c);
	tcollect_free(&k);
	h_end();
	free(before);
	free(after);
	free(hosts);
}
END_TEST

/*
 * The slow reader at scale: head -c 500M /dev/zero on H_WIDE_HOSTS hosts,
 * H_WIDE_RUNS runs each (one channel per host and run), never read.  The
 * connections, all of whose jobs are paused, stop reading their sockets,
 * so the output waits in TCP and not in the daemon; the client keeps the
 * jobs paused, so it is disconnected after ClientQueueHardTime even though
 * its queue never reaches the hard limit.
 */
START_TEST(test_slow_reader_wide)
{
	struct probe_result base, r;
	struct probe p;
	struct tclient *c;
	char marker[64], more[128], id[16], *hosts;
	long long t0, dropped = -1, gone;
	long rss, peak = 0, rss0;
	int i, procs, most = 0;

	attack_begin(H_ATTACK_CONF "\nClientQueueLowWater 256K\n"
				   "ClientQueueHighWater 1M\n"
				   "ClientQueueHardLimit 64M\n"
				   "ClientQueueHardTime " H_WIDE_HARD_S "s",
		     &base);
	rss0 = tdaemon_rss_kb(dmn.pid);
	probe_start(&p, probe_host());
	c = h_connect();
	snprintf(marker, sizeof marker, "HOSTILE_WIDE=%ld-%lld", (long)getpid(),
		 testutil_now_ms());
	snprintf(more, sizeof more, ",\"env\":{\"HOSTILE_WIDE\":\"%s\"}",
		 strchr(marker, '=') + 1);
	hosts = hosts_json(0, H_WIDE_HOSTS);
	t0 = testutil_now_ms();
	for (i = 0; i < H_WIDE_RUNS; i++) {
		snprintf(id, sizeof id, "wide%d", i);
		send_run(c, id, hosts, "head -c 500M /dev/zero", more);
	}
	free(hosts);
	while (dropped < 0) {
		ck_assert_msg(testutil_now_ms() - t0 < H_WIDE_DROP_MS,
			      "the slow reader was not disconnected "
			      "(%d remote processes, peak RSS %ld KiB)",
			      most, peak);
		rss = tdaemon_rss_kb(dmn.pid);
		if (rss > peak)
			peak = rss;
		procs = remote_procs(marker, (pid_t[64]){0}, 64);
		if (procs > most)
			most = procs;
		if (log_wait("jobs paused over ClientQueueHighWater 1048576 "
			     "for " H_WIDE_HARD_S "000 ms",
			     0))
			dropped = testutil_now_ms() - t0;
		usleep(H_RSS_SAMPLE_MS * 1000);
	}
	gone = remote_gone(marker);
	probe_stop(&p, &r);
	printf(
	    "HOSTILE: wide slow reader (%d x head -c 500M, %d remote "
	    "processes): sshpoold peak RSS %ld KiB (%ld KiB before), bound %ld "
	    "KiB%s; disconnected after %lld ms (HardTime %s s), remote "
	    "commands gone %lld ms later\n",
	    H_WIDE_HOSTS * H_WIDE_RUNS, most, peak, rss0, H_WIDE_RSS_KB,
#ifdef H_ASAN
	    " (not checked under ASan)",
#else
	    "",
#endif
	    dropped, H_WIDE_HARD_S, gone);
	ck_assert_msg(most >= H_WIDE_HOSTS * H_WIDE_RUNS * 9 / 10,
		      "only %d processes for %d commands before the disconnect",
		      most, H_WIDE_HOSTS * H_WIDE_RUNS);
	ck_assert_msg(dropped >= atoi(H_WIDE_HARD_S) * 1000,
		      "disconnected after %lld ms, before HardTime", dropped);
#ifndef H_ASAN
	ck_assert_msg(peak < H_WIDE_RSS_KB, "peak RSS %ld KiB over %ld KiB",
		      peak, H_WIDE_RSS_KB);
#endif
	tclient_close(c);
	probe_judge("wide slow reader", &base, &r);
	h_end();
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	struct {
		const char *name;
		const TTest *test;
	} tests[] = {
	    {"allow_users", test_allow_users},
	    {"allow_groups", test_allow_groups},
	    {"allow_users_and_groups", test_allow_users_and_groups},
	    {"max_connections_per_user", test_max_connections_per_user},
	    {"socket_modes", test_socket_modes},
	    {"users_own_keys", test_users_own_keys},
	    {"users_own_agents", test_users_own_agents},
	    {"socket_dir_writable", test_socket_dir_writable},
	    {"user_hosts", test_user_hosts},
	    {"group_hosts", test_group_hosts},
	    {"user_hosts_login", test_user_hosts_login},
	    {"user_hosts_jump", test_user_hosts_jump},
	    {"check_unresolved_names", test_check_unresolved_names},
	    {"audit_log", test_audit_log},
	    {"limits_malformed", test_limits_malformed},
	    {"limits_request", test_limits_request},
	    {"limits_zero", test_limits_zero},
	    {"limits_inflight", test_limits_inflight},
	    {"attack_long_line", test_attack_long_line},
	    {"attack_deep_nesting", test_attack_deep_nesting},
	    {"attack_burst", test_attack_burst},
	    {"attack_slowloris", test_attack_slowloris},
	    {"attack_connection_churn", test_attack_connection_churn},
	    {"slow_reader_memory", test_slow_reader_memory},
	    {"slow_reader_hard_limit", test_slow_reader_hard_limit},
	    {"identity_mode", test_identity_mode},
	    {"accept_new_concurrent", test_accept_new_concurrent},
	    {"hostkey_changed", test_hostkey_changed},
	    {"slow_reader_wide", test_slow_reader_wide},
	};
	size_t i;

	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);

		tcase_set_timeout(tc, H_TIMEOUT_S * H_SAN_FACTOR *
					  tclient_slowdown());
		tcase_add_test(tc, tests[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return testutil_run(hostile_suite());
}
