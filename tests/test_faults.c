/* SPDX-License-Identifier: ISC */
/*
 * Fault-injection tests of sshpoold against the real OpenSSH fleet
 * (tests/fleet/fleet.sh, CTest fixture "fleet"): sessions whose sshd
 * processes are stopped or killed, a whole sshd instance restarted, ports
 * that refuse, drop SYNs or never speak SSH, commands stopped by timeout,
 * idle timeout, cancel or a vanished client, request lines built to cost
 * the control thread as much as they can, a soak run under random session
 * kills, and a resolver that never answers (the daemon in a mount namespace
 * whose resolv.conf names only the test's own loopback address).  Each test
 * starts its own daemon with short keepalive and backoff settings, checks the
 * wire rules (per host: start, output, exactly one terminal event; one done per
 * request) and the daemon's clean exit.
 *
 * Measured times are printed on lines starting with "FAULTS:".  Every wait
 * is stretched by SSHPOOL_TEST_SLOWDOWN (see tclient.h); the comparisons
 * that only hold at full speed (latency during a stall, the handshake rate)
 * are left out when it is above 1.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faultutil.h"
#include "tclient.h"
#include "tcollect.h"
#include "tstatus.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

#define FT_MS(ms) tclient_scaled_ms(ms)
#define FT_TIMEOUT_S 60 /* Check timeout of one test */
#define FT_SOAK_TIMEOUT_S 120
#define FT_HOSTILE_TIMEOUT_S 150
#define FT_EVENT_MS FT_MS(15000) /* longest wait for a single event */
#define FT_OUT_KEEP 63           /* stdout bytes kept per host */
#define FT_MAX_HOSTS 320         /* hosts of one request */
#define FT_POLL_MS 20

/* The daemon's settings in these tests, and the limits derived from them. */
#define FT_ALIVE_MS 1000 /* ServerAliveInterval */
#define FT_ALIVE_COUNT 3 /* ServerAliveCountMax */
#define FT_GRACE_MS 1000 /* StopGraceTime */
#define FT_CONNECT_TIMEOUT_MS 1000
#define FT_BASE_CONF                                                           \
	"ServerAliveInterval 1s\n"                                             \
	"ServerAliveCountMax 3\n"                                              \
	"ReconnectBaseDelay 200ms\n"                                           \
	"ReconnectMaxDelay 2s\n"                                               \
	"StopGraceTime 1s\n"
/* A dead peer is found within interval x count, plus a second of slack. */
#define FT_DEAD_MS (FT_ALIVE_MS * FT_ALIVE_COUNT + 1000)
/* A stopped command is gone within the grace time plus a second. */
#define FT_GONE_MS (FT_GRACE_MS + 1000)

/* keepalive_stall */
#define FT_STALL_OTHERS 20
#define FT_ROUNDS_BEFORE 8
#define FT_MIN_ROUNDS_DURING 3
#define FT_MAX_ROUNDS 1000 /* bounds the rounds during the stall */
/* restart_instance */
#define FT_RATE 5 /* MaxHandshakeRate, also the burst */
#define FT_RESTART_UP_MS 15000
/* connect_errors */
#define FT_FAST_FAIL_MS 1000
#define FT_FILL_TRIES 8
#define FT_FILL_WAIT_MS 300
/* soak */
#define FT_SOAK_HOSTS 50
#define FT_SOAK_REQUESTS 100
#define FT_SOAK_CLIENTS 4
#define FT_SOAK_WINDOW 3     /* requests in flight per client */
#define FT_SOAK_MAX_KILLS 40 /* the killer stops by itself after these */
#define FT_SOAK_KILL_MIN_MS 100
#define FT_SOAK_KILL_SPAN_MS 200
#define FT_SOAK_LIMIT_MS 60000 /* the whole soak */
#define FT_SOAK_CONF                                                           \
	"ConnectionAttempts 3\n"                                               \
	"HostDownAfter 10\n"                                                   \
	"ReconnectBaseDelay 50ms\n"                                            \
	"ReconnectMaxDelay 500ms\n"

/* ---- Event collection ---- */

static struct tfleet fleet;
static struct tdaemon daemon_;
static char errbuf[2048];
static uid_t fleet_uid;

/* What a failing test must undo so the fleet serves the next one. */
static struct fu_tree stopped; /* SIGSTOPped, not yet resumed */
static char instance_down[32]; /* an sshd instance killed, "" if none */
static pid_t killer_pid;       /* the soak's killer process */
static pid_t relay_pid;        /* the auth-cut relay, 0 when none */
static int failing;
static const char *ft_strict; /* StrictHostKeyChecking of ft_begin, NULL: yes */

static void
fc_init(struct tcollect *k)
{
	tcollect_init(k);
	k->keep = FT_OUT_KEEP;
	k->known_ids = 1;
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

/* A JSON string body: the commands here need only quotes escaped. */
static char *
json_str(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n * 2 + 1);

	ck_assert_ptr_nonnull(out);
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			out[o++] = '\\';
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* Send a run (or a connect when command is NULL) and record it. */
static struct tcollect_req *
fc_send(struct tclient *c, struct tcollect *k, const char *id,
	const char *const *hosts, size_t n, const char *command,
	const char *more)
{
	char list[FT_MAX_HOSTS * 72], *cmd;
	struct tcollect_req *r;
	size_t i, o = 0;
	int rc;

	ck_assert_msg(n > 0 && n <= FT_MAX_HOSTS, "%zu hosts", n);
	list[o++] = '[';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"",
				      i ? "," : "", hosts[i]);
	list[o++] = ']';
	list[o] = '\0';
	r = tcollect_expect(k, q(id), hosts, n);
	if (command == NULL) {
		rc = tclient_send(c,
				  "{\"v\":1,\"id\":\"%s\",\"op\":\"connect\","
				  "\"hosts\":%s}",
				  id, list);
	} else {
		cmd = json_str(command);
		rc = tclient_send(c,
				  "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
				  "\"hosts\":%s,\"command\":\"%s\"%s}",
				  id, list, cmd, more ? more : "");
		free(cmd);
	}
	ck_assert_msg(rc == 0, "send: %s", tclient_error(c));
	return r;
}

static void
assert_done(const struct tcollect_req *r, size_t ok, size_t failed,
	    size_t errors)
{
	ck_assert_msg(!r->reqerr, "request %s failed: %s (%s)", r->id,
		      proto_code_name(r->code), r->message);
	ck_assert_msg(r->ends == 1, "%d ends of %s", r->ends, r->id);
	ck_assert_msg(r->done.hosts == r->nhosts && r->done.ok == ok &&
			  r->done.failed == failed && r->done.errors == errors,
		      "done %s: hosts %zu ok %zu failed %zu errors %zu, "
		      "expected %zu/%zu/%zu/%zu",
		      r->id, r->done.hosts, r->done.ok, r->done.failed,
		      r->done.errors, r->nhosts, ok, failed, errors);
}

static void
assert_exit_out(const struct tcollect_host *h, const char *out)
{
	ck_assert_msg(h->terminals == 1, "%s: %d terminal events", h->host,
		      h->terminals);
	ck_assert_msg(h->exited && h->status == 0,
		      "%s: expected exit 0, got %s %d %s (%s)", h->host,
		      h->exited ? "exit" : proto_code_name(h->code), h->status,
		      h->signal, h->message);
	ck_assert_msg(strcmp(h->out, out) == 0,
		      "%s: stdout '%s', expected '%s'", h->host, h->out, out);
}

static void
assert_error(const struct tcollect_host *h, enum proto_code code)
{
	ck_assert_msg(h->terminals == 1, "%s: %d terminal events", h->host,
		      h->terminals);
	ck_assert_msg(!h->exited && !h->connected && h->code == code,
		      "%s: expected error %s, got %s (%s)", h->host,
		      proto_code_name(code),
		      h->exited ? "exit" : proto_code_name(h->code),
		      h->message);
}

/* ---- Status ---- */

static json_object *
ft_status(struct tclient *c, struct tcollect *k, const char *id)
{
	json_object *root;

	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"%s\",\"op\":\"status\"}",
			       id) == 0);
	tcollect_wait_status(c, k, q(id), FT_EVENT_MS);
	root = json_tokener_parse(k->status);
	ck_assert_msg(root != NULL, "status is not JSON: %.200s", k->status);
	return root;
}

/* ---- Test set-up ---- */

/* Undo the faults of a failed test and show the daemon's log. */
void
testutil_failed(void)
{
	char err[512];

	if (failing++)
		return;
	if (killer_pid > 0) {
		kill(killer_pid, SIGKILL);
		waitpid(killer_pid, NULL, 0);
		killer_pid = 0;
	}
	if (relay_pid > 0) {
		kill(relay_pid, SIGKILL);
		waitpid(relay_pid, NULL, 0);
		relay_pid = 0;
	}
	if (stopped.n > 0) {
		fu_signal(&stopped, SIGKILL, 0);
		fu_signal(&stopped, SIGCONT, 0);
		stopped.n = 0;
	}
	if (instance_down[0] != '\0' &&
	    fu_instance_start(fleet.dir, instance_down, err, sizeof err) == -1)
		fprintf(stderr, "restarting the fleet: %s\n", err);
	instance_down[0] = '\0';
	if (daemon_.pid > 0) {
		kill(daemon_.pid, SIGKILL);
		waitpid(daemon_.pid, NULL, 0);
		fprintf(stderr, "test failed; sshpoold's files are in %s\n",
			daemon_.dir);
		tdaemon_dump_log(&daemon_);
		daemon_.pid = 0;
	}
}

static void
ft_load(void)
{
	struct passwd *pw;

	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	/* An earlier test that died half-way may have left faults behind. */
	ck_assert_msg(fu_fleet_heal(fleet.dir, errbuf, sizeof errbuf) == 0,
		      "%s", errbuf);
	ck_assert_msg((pw = getpwnam(fleet.user)) != NULL, "no user %s",
		      fleet.user);
	fleet_uid = pw->pw_uid;
}

/* Start a daemon: the test's own lines first, since the first value of a
 * keyword wins, then the common short timers. */
static void
ft_begin(const char *extra, const char *host_blocks, int max_sessions)
{
	struct tdaemon_opts o = {0};
	char conf[4096];

	ft_load();
	snprintf(conf, sizeof conf, "%s%s%s", extra ? extra : "", FT_BASE_CONF,
		 host_blocks ? host_blocks : "");
	o.extra = conf;
	o.max_sessions = max_sessions;
	o.strict = ft_strict;
	ck_assert_msg(
	    tdaemon_prepare(&daemon_, &fleet, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
	ck_assert_msg(
	    tdaemon_start(&daemon_, &fleet, &o, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
}

static struct tclient *
ft_connect(void)
{
	struct tclient *c = tclient_connect(daemon_.sock);

	ck_assert_msg(c != NULL, "connect %s failed", daemon_.sock);
	return c;
}

/* Stop the daemon, which must exit on its own with status 0. */
static void
ft_end(void)
{
	int st = tdaemon_stop(&daemon_);

	if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
		tdaemon_dump_log(&daemon_);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "sshpoold did not exit cleanly on SIGTERM: status 0x%x",
		      st);
	tdaemon_cleanup(&daemon_);
}

static void ft_report(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* A measured value for the record, on a line of its own. */
static void
ft_report(const char *fmt, ...)
{
	va_list ap;

	printf("FAULTS: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int
ft_cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static long long
ft_median(long long *v, size_t n)
{
	qsort(v, n, sizeof *v, ft_cmp_ll);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The session trees of one fleet host; exactly want connections. */
static void
ft_host_tree(size_t host, struct fu_tree *t, size_t want)
{
	int n;

	n = fu_host_tree(fleet.dir, fleet.addrs[host], fleet.port, t, errbuf,
			 sizeof errbuf);
	ck_assert_msg(n >= 0, "%s", errbuf);
	ck_assert_msg((size_t)n == want && t->n >= 2,
		      "%s: %d sshd connections (%zu processes), expected %zu",
		      fleet.hosts[host], n, t->n, want);
}

/* ---- Tests ---- */

/*
 * A stalled server (its session's sshd processes stopped) is found by the
 * keepalive; the other hosts keep their latency meanwhile; the host works
 * again afterwards.
 */
START_TEST(test_keepalive_stall)
{
	const char *others[FT_STALL_OTHERS], *victim[1];
	long long before[FT_ROUNDS_BEFORE], during[FT_MAX_ROUNDS], t_stop;
	long long t_cont, detect, med_before, med_during;
	size_t i, nd = 0, nr = 0;
	char id[32], cmd[64];
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *r, *rv;
	struct tcollect_host *hv;
	json_object *st, *sh;

	ft_begin(NULL, NULL, 1);
	c = ft_connect();
	fc_init(&k);
	ck_assert_msg(fleet.nhosts > FT_STALL_OTHERS, "fleet too small");
	victim[0] = fleet.hosts[0];
	for (i = 0; i < FT_STALL_OTHERS; i++)
		others[i] = fleet.hosts[i + 1];

	r = fc_send(c, &k, "warm", victim, 1, NULL, NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_done(r, 1, 0, 0);
	r = fc_send(c, &k, "warm2", others, FT_STALL_OTHERS, NULL, NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_done(r, FT_STALL_OTHERS, 0, 0);
	for (i = 0; i < FT_ROUNDS_BEFORE; i++) {
		snprintf(id, sizeof id, "b%zu", i);
		r = fc_send(c, &k, id, others, FT_STALL_OTHERS, "true", NULL);
		tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
		assert_done(r, FT_STALL_OTHERS, 0, 0);
		before[i] = r->t_end - r->t_sent;
	}

	snprintf(cmd, sizeof cmd, "exec sleep 1000.%ld1", (long)getpid());
	rv = fc_send(c, &k, "victim", victim, 1, cmd, NULL);
	hv = tcollect_wait_start(c, &k, rv->id, victim[0], FT_EVENT_MS);
	ft_host_tree(0, &stopped, 1);
	t_stop = testutil_now_ms();
	ck_assert_msg(fu_signal(&stopped, SIGSTOP, 1) >= 2,
		      "could not stop the session's sshd processes");

	/* Rounds on the other hosts until the victim's job ends. */
	while (hv->terminals == 0 &&
	       testutil_now_ms() - t_stop < FT_MS(FT_DEAD_MS) + 2000) {
		ck_assert_msg(nr < FT_MAX_ROUNDS, "%zu rounds", nr);
		snprintf(id, sizeof id, "d%zu", nr++);
		r = fc_send(c, &k, id, others, FT_STALL_OTHERS, "true", NULL);
		tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
		assert_done(r, FT_STALL_OTHERS, 0, 0);
		if (hv->terminals == 0)
			during[nd++] = r->t_end - r->t_sent;
	}
	tcollect_wait_end(c, &k, rv->id, FT_MS(FT_DEAD_MS));
	detect = hv->t_terminal - t_stop;
	med_before = ft_median(before, FT_ROUNDS_BEFORE);
	med_during = nd ? ft_median(during, nd) : -1;
	ft_report("keepalive: stalled session found dead %lld ms after "
		  "SIGSTOP (interval %d ms x %d, limit %d ms)",
		  detect, FT_ALIVE_MS, FT_ALIVE_COUNT, FT_MS(FT_DEAD_MS));
	ft_report("keepalive: median run on %d other hosts %lld ms before, "
		  "%lld ms during the stall (%zu rounds)",
		  FT_STALL_OTHERS, med_before, med_during, nd);
	assert_error(hv, PROTO_E_CONNECTION_LOST);
	assert_done(rv, 0, 0, 1);
	ck_assert_msg(detect <= FT_MS(FT_DEAD_MS),
		      "dead session found after %lld ms", detect);
	ck_assert_msg(detect >= FT_ALIVE_MS,
		      "session declared dead after %lld ms, before one "
		      "keepalive interval",
		      detect);
	ck_assert_msg(nd >= FT_MIN_ROUNDS_DURING,
		      "only %zu rounds on other hosts during the stall", nd);
	if (tclient_slowdown() <= 1)
		ck_assert_msg(med_during < 3 * med_before + 50,
			      "other hosts slowed down by the stall: median "
			      "%lld ms before, %lld ms during",
			      med_before, med_during);

	st = ft_status(c, &k, "st");
	sh = tstatus_host(st, victim[0]);
	ck_assert_msg(sh != NULL, "status lacks %s", victim[0]);
	ck_assert_msg(tstatus_int(sh, "lost") == 1, "lost %lld",
		      tstatus_int(sh, "lost"));
	json_object_put(st);

	/* Resume and kill what was stopped: the command goes with it. */
	fu_signal(&stopped, SIGKILL, 0);
	fu_signal(&stopped, SIGCONT, 0);
	t_cont = testutil_now_ms();
	ck_assert_msg(fu_wait_gone(&stopped, FT_MS(5000)) == 0,
		      "stopped session processes still alive");
	stopped.n = 0;
	ck_assert_msg(fu_count_cmd(fleet_uid, cmd + 5) == 0, "'%s' still runs",
		      cmd + 5);

	r = fc_send(c, &k, "after", victim, 1, "echo back", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_exit_out(r->hosts[0], "back\n");
	assert_done(r, 1, 0, 0);
	ft_report("keepalive: stalled host ran a command again %lld ms after "
		  "its sshd processes were killed",
		  r->t_end - t_cont);
	st = ft_status(c, &k, "st2");
	sh = tstatus_host(st, victim[0]);
	ck_assert_ptr_nonnull(sh);
	ck_assert_msg(tstatus_int(sh, "connects") == 2 &&
			  tstatus_int(sh, "lost") == 1,
		      "connects %lld lost %lld", tstatus_int(sh, "connects"),
		      tstatus_int(sh, "lost"));
	ck_assert_str_eq(tstatus_str(sh, "state"), "up");
	json_object_put(st);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* A session killed under a running command: connection_lost at once, and
 * the next command runs on a fresh session. */
START_TEST(test_kill_session)
{
	const char *host[1];
	struct fu_tree t;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *r, *rl;
	struct tcollect_host *h;
	json_object *st, *sh;
	long long t_kill, lost_ms;
	char cmd[64];

	ft_begin(NULL, NULL, 1);
	c = ft_connect();
	fc_init(&k);
	host[0] = fleet.hosts[1];
	snprintf(cmd, sizeof cmd, "exec sleep 30.%ld2", (long)getpid());
	rl = fc_send(c, &k, "long", host, 1, cmd, NULL);
	h = tcollect_wait_start(c, &k, rl->id, host[0], FT_EVENT_MS);
	ft_host_tree(1, &t, 1);
	t_kill = testutil_now_ms();
	ck_assert_msg(fu_signal(&t, SIGKILL, 1) >= 2,
		      "could not kill the session's sshd processes");
	tcollect_wait_end(c, &k, rl->id, FT_MS(FT_DEAD_MS));
	lost_ms = h->t_terminal - t_kill;
	ft_report("kill: job on a killed session ended %lld ms after SIGKILL",
		  lost_ms);
	assert_error(h, PROTO_E_CONNECTION_LOST);
	assert_done(rl, 0, 0, 1);
	ck_assert_msg(lost_ms < FT_MS(1000), "connection_lost after %lld ms",
		      lost_ms);
	/* The orphaned command is no longer the daemon's: end it here. */
	fu_signal(&t, SIGKILL, 0);
	ck_assert(fu_wait_gone(&t, FT_MS(5000)) == 0);

	r = fc_send(c, &k, "next", host, 1, "echo again", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_exit_out(r->hosts[0], "again\n");
	assert_done(r, 1, 0, 0);
	st = ft_status(c, &k, "st");
	sh = tstatus_host(st, host[0]);
	ck_assert_msg(sh != NULL, "status lacks %s", host[0]);
	ck_assert_msg(tstatus_int(sh, "connects") == 2 &&
			  tstatus_int(sh, "lost") == 1,
		      "connects %lld lost %lld (expected 2 and 1)",
		      tstatus_int(sh, "connects"), tstatus_int(sh, "lost"));
	ck_assert_msg(tstatus_int(sh, "sessions") == 1, "sessions %lld",
		      tstatus_int(sh, "sessions"));
	json_object_put(st);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

static int
ft_state_is(json_object *sh, const char *s)
{
	return sh != NULL && strcmp(tstatus_str(sh, "state"), s) == 0;
}

/*
 * A whole sshd instance dies and comes back: its hosts leave "up", then
 * reconnect without any job, no faster than MaxHandshakeRate allows.
 */
START_TEST(test_restart_instance)
{
	const char *hosts[FT_MAX_HOSTS];
	long long t_kill, t_lost = 0, t_restart, t_listen, t_first = 0;
	long long t_last = 0, up_at[FT_MAX_HOSTS], connects, reconnects, lost;
	char name[32], rate[128], seen[128] = "";
	size_t i, n = 0, nup, nlost;
	struct fu_tree t;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *r;
	json_object *st, *sh;
	int down_seen = 0;

	snprintf(rate, sizeof rate,
		 "MaxHandshakeRate %d\n"
		 "ReconnectBaseDelay 50ms\n"
		 "ReconnectMaxDelay 300ms\n",
		 FT_RATE);
	ft_begin(rate, NULL, 1);
	c = ft_connect();
	fc_init(&k);
	ck_assert_msg(fu_instance_of(fleet.dir, fleet.addrs[fleet.nhosts / 2],
				     name, sizeof name) == 0,
		      "no sshd instance listens on %s",
		      fleet.addrs[fleet.nhosts / 2]);
	for (i = 0; i < fleet.nhosts && n < FT_MAX_HOSTS; i++) {
		char other[32];

		if (fu_instance_of(fleet.dir, fleet.addrs[i], other,
				   sizeof other) == 0 &&
		    strcmp(other, name) == 0)
			hosts[n++] = fleet.hosts[i];
	}
	ck_assert_msg(n > 2 * FT_RATE, "instance %s serves only %zu hosts",
		      name, n);
	r = fc_send(c, &k, "warm", hosts, n, NULL, NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_done(r, n, 0, 0);
	/* Let the handshake budget fill up again: a full burst. */
	usleep(1500 * 1000);

	ck_assert_msg(
	    fu_instance_tree(fleet.dir, name, &t, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
	ck_assert_msg(t.n >= 1 + 2 * n,
		      "instance %s: %zu processes for %zu "
		      "sessions",
		      name, t.n, n);
	snprintf(instance_down, sizeof instance_down, "%s", name);
	t_kill = testutil_now_ms();
	fu_signal(&t, SIGKILL, 0);
	ck_assert_msg(fu_wait_gone(&t, FT_MS(5000)) == 0,
		      "instance %s survived SIGKILL", name);

	/* Every host leaves "up"; watch the states while the server is
	 * away. */
	while (testutil_now_ms() - t_kill < FT_MS(FT_DEAD_MS) + 1500) {
		st = ft_status(c, &k, "s");
		for (i = 0, nlost = 0; i < n; i++) {
			sh = tstatus_host(st, hosts[i]);
			ck_assert_msg(sh != NULL, "status lacks %s", hosts[i]);
			if (tstatus_int(sh, "sessions") == 0 &&
			    !ft_state_is(sh, "up") &&
			    !ft_state_is(sh, "degraded"))
				nlost++;
			if (strstr(seen, tstatus_str(sh, "state")) == NULL &&
			    strlen(seen) + 12 < sizeof seen) {
				strcat(seen, " ");
				strcat(seen, tstatus_str(sh, "state"));
			}
			down_seen |= ft_state_is(sh, "down");
		}
		json_object_put(st);
		if (nlost == n && t_lost == 0)
			t_lost = testutil_now_ms();
		/* Stay down long enough for HostDownAfter (3) failures. */
		if (t_lost > 0 && down_seen)
			break;
		usleep(FT_POLL_MS * 1000);
	}
	ck_assert_msg(t_lost > 0, "hosts of the killed instance still up");
	ft_report("restart: all %zu hosts of the killed sshd left \"up\" "
		  "%lld ms after SIGKILL; states seen:%s",
		  n, t_lost - t_kill, seen);
	ck_assert_msg(t_lost - t_kill <= FT_MS(FT_DEAD_MS),
		      "loss found after %lld ms", t_lost - t_kill);
	ck_assert_msg(down_seen, "no host went down; states seen:%s", seen);

	t_restart = testutil_now_ms();
	ck_assert_msg(
	    fu_instance_start(fleet.dir, name, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
	instance_down[0] = '\0';
	t_listen = testutil_now_ms();
	for (i = 0; i < n; i++)
		up_at[i] = 0;
	for (nup = 0; nup < n;) {
		ck_assert_msg(testutil_now_ms() - t_restart <
				  FT_MS(FT_RESTART_UP_MS),
			      "%zu of %zu hosts up %d ms after the restart",
			      nup, n, FT_MS(FT_RESTART_UP_MS));
		usleep(FT_POLL_MS * 1000);
		st = ft_status(c, &k, "u");
		for (i = 0; i < n; i++) {
			sh = tstatus_host(st, hosts[i]);
			ck_assert_ptr_nonnull(sh);
			if (up_at[i] == 0 && tstatus_int(sh, "sessions") == 1) {
				up_at[i] = testutil_now_ms();
				nup++;
				if (t_first == 0)
					t_first = up_at[i];
				t_last = up_at[i];
			}
		}
		json_object_put(st);
	}
	st = ft_status(c, &k, "f");
	for (i = 0, connects = 0, reconnects = 0, lost = 0; i < n; i++) {
		sh = tstatus_host(st, hosts[i]);
		connects += tstatus_int(sh, "connects");
		reconnects += tstatus_int(sh, "reconnects");
		lost += tstatus_int(sh, "lost");
		ck_assert_msg(tstatus_int(sh, "jobs") == 0, "%s ran %lld jobs",
			      hosts[i], tstatus_int(sh, "jobs"));
	}
	json_object_put(st);
	ft_report("restart: sshd listening %lld ms after the restart; first "
		  "host up after %lld ms, all %zu after %lld ms; handshakes "
		  "%lld (rate limit %d/s, burst %d), reconnects %lld, lost "
		  "%lld",
		  t_listen - t_restart, t_first - t_restart, n,
		  t_last - t_restart, connects, FT_RATE, FT_RATE, reconnects,
		  lost);
	ck_assert_msg(connects == (long long)(2 * n),
		      "%lld handshakes for %zu hosts, expected %zu", connects,
		      n, 2 * n);
	ck_assert_msg(reconnects == (long long)n && lost == (long long)n,
		      "reconnects %lld lost %lld for %zu hosts", reconnects,
		      lost, n);
	/* The bucket holds at most FT_RATE tokens at the restart: the rest
	 * of the hosts come at FT_RATE per second.  Without the limit they
	 * would all be back within one ReconnectMaxDelay. */
	if (tclient_slowdown() <= 1)
		ck_assert_msg(t_last - t_restart >=
				  (long long)(n - FT_RATE) * 1000 / FT_RATE -
				      500,
			      "%zu hosts reconnected in %lld ms: faster than "
			      "%d handshakes per second",
			      n, t_last - t_restart, FT_RATE);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* A listening socket on addr (port chosen by the kernel); returns the fd
 * and sets *port. */
static int
ft_listen(const char *addr, int backlog, int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	ck_assert(inet_pton(AF_INET, addr, &sin.sin_addr) == 1);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0,
		      "bind %s: %s", addr, strerror(errno));
	ck_assert_msg(listen(fd, backlog) == 0, "listen: %s", strerror(errno));
	ck_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/*
 * Fill the accept queue of a listener that never accepts: once it is full
 * Linux drops further SYNs.  Returns when a connection attempt hangs.
 */
static void
ft_fill_queue(const char *addr, int port, int *fds, size_t *nfds)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	int fd, rc, soerr;
	socklen_t len;
	size_t i;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	ck_assert(inet_pton(AF_INET, addr, &sin.sin_addr) == 1);
	*nfds = 0;
	for (i = 0; i < FT_FILL_TRIES; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		ck_assert(fd != -1);
		fds[(*nfds)++] = fd;
		rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
		ck_assert_msg(rc == 0 || errno == EINPROGRESS, "connect: %s",
			      strerror(errno));
		if (rc == 0)
			continue;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, FT_FILL_WAIT_MS) == 0)
			return; /* the SYN went unanswered: the queue is full */
		len = sizeof soerr;
		ck_assert(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) ==
			  0);
		ck_assert_msg(soerr == 0, "connect: %s", strerror(soerr));
	}
	ck_assert_msg(0, "the accept queue of %s:%d never filled", addr, port);
}

/* Refused, dropped and silent destinations fail with the right code in
 * the right time. */
START_TEST(test_connect_errors)
{
	const char *drop_addr = "127.0.0.250", *mute_addr = "127.0.0.251";
	char hostbuf[3][64], blocks[256];
	const char *hosts[3];
	int lfd_drop, lfd_mute, port_drop, port_mute, fill[FT_FILL_TRIES];
	long long ms[3];
	size_t nfill, i;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *r;

	snprintf(blocks, sizeof blocks, "Host %s %s\n\tConnectTimeout 1\n",
		 drop_addr, mute_addr);
	ft_begin(NULL, blocks, 0);
	c = ft_connect();
	fc_init(&k);
	lfd_drop = ft_listen(drop_addr, 0, &port_drop);
	ft_fill_queue(drop_addr, port_drop, fill, &nfill);
	lfd_mute = ft_listen(mute_addr, 16, &port_mute);

	snprintf(hostbuf[0], sizeof hostbuf[0], "%s", fleet.dead_host);
	snprintf(hostbuf[1], sizeof hostbuf[1], "%s:%d", drop_addr, port_drop);
	snprintf(hostbuf[2], sizeof hostbuf[2], "%s:%d", mute_addr, port_mute);
	for (i = 0; i < 3; i++)
		hosts[i] = hostbuf[i];
	r = fc_send(c, &k, "bad", hosts, 3, "true", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	for (i = 0; i < 3; i++)
		ms[i] = r->hosts[i]->t_terminal - r->t_sent;
	ft_report("connect: refused port failed in %lld ms (%s), dropped SYNs "
		  "in %lld ms (%s), silent listener in %lld ms (%s); "
		  "ConnectTimeout %d ms",
		  ms[0], proto_code_name(r->hosts[0]->code), ms[1],
		  proto_code_name(r->hosts[1]->code), ms[2],
		  proto_code_name(r->hosts[2]->code), FT_CONNECT_TIMEOUT_MS);
	assert_error(r->hosts[0], PROTO_E_CONNECT_FAILED);
	assert_error(r->hosts[1], PROTO_E_CONNECT_TIMEOUT);
	assert_error(r->hosts[2], PROTO_E_CONNECT_TIMEOUT);
	assert_done(r, 0, 0, 3);
	ck_assert_msg(ms[0] <= FT_MS(FT_FAST_FAIL_MS), "refused after %lld ms",
		      ms[0]);
	for (i = 1; i < 3; i++) {
		ck_assert_msg(ms[i] <= FT_MS(FT_CONNECT_TIMEOUT_MS + 1000),
			      "%s: timeout after %lld ms", hosts[i], ms[i]);
		ck_assert_msg(ms[i] >= FT_CONNECT_TIMEOUT_MS - 100,
			      "%s: timeout after %lld ms, before "
			      "ConnectTimeout",
			      hosts[i], ms[i]);
	}
	tcollect_check(&k);
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	close(lfd_drop);
	close(lfd_mute);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* One stopped command of test_stop_commands. */
struct ft_stop {
	const char *id;
	char cmd[96];     /* as sent */
	char proc[64];    /* its process's command line */
	const char *more; /* request members */
	enum proto_code code;
	int cancel_at; /* cancel once started (1) or after output (2) */
	int cancelled;
	int output;       /* must produce output before the end */
	int ignores_term; /* only SIGKILL ends it */
	struct tcollect_req *r;
	long long gone_ms; /* after the terminal event; -1 while running */
	long long gone_at; /* testutil_now_ms() when it was seen gone */
};

/* The timeout of the TERM-proof command ("timeout":1 below): the daemon
 * stops it no earlier than this after the request was sent. */
#define FT_TRAP_TIMEOUT_MS 1000

/* timeout, idle_timeout and cancel stop the remote command for good. */
START_TEST(test_stop_commands)
{
	struct ft_stop s[] = {
	    {"t-sleep", "", "", ",\"timeout\":1", PROTO_E_TIMEOUT, 0, 0, 0, 0,
	     NULL, -1, 0},
	    {"i-sleep", "", "", ",\"idle_timeout\":1", PROTO_E_TIMEOUT, 0, 0, 0,
	     0, NULL, -1, 0},
	    {"c-sleep", "", "", NULL, PROTO_E_CANCELLED, 1, 0, 0, 0, NULL, -1,
	     0},
	    {"t-yes", "", "", ",\"timeout\":2,\"idle_timeout\":0.5",
	     PROTO_E_TIMEOUT, 0, 0, 1, 0, NULL, -1, 0},
	    {"c-yes", "", "", NULL, PROTO_E_CANCELLED, 2, 0, 1, 0, NULL, -1, 0},
	    {"t-trap", "", "", ",\"timeout\":1", PROTO_E_TIMEOUT, 0, 0, 0, 1,
	     NULL, -1, 0},
	};
	const size_t ns = sizeof s / sizeof s[0];
	const char *host[1];
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	long long t0, now;
	size_t i, left;
	long pid = (long)getpid();

	snprintf(s[0].proc, sizeof s[0].proc, "sleep 1000.%ld51", pid);
	snprintf(s[1].proc, sizeof s[1].proc, "sleep 1000.%ld52", pid);
	snprintf(s[2].proc, sizeof s[2].proc, "sleep 1000.%ld53", pid);
	snprintf(s[3].proc, sizeof s[3].proc, "yes yes-%ld54", pid);
	snprintf(s[4].proc, sizeof s[4].proc, "yes yes-%ld55", pid);
	snprintf(s[5].proc, sizeof s[5].proc, "sleep 1000.%ld56", pid);
	for (i = 0; i < ns; i++) {
		/* Through a copy: gcc cannot tell the two members apart. */
		char proc[sizeof s[i].proc];

		memcpy(proc, s[i].proc, sizeof proc);
		snprintf(s[i].cmd, sizeof s[i].cmd, "%sexec %s",
			 s[i].ignores_term ? "trap '' TERM; " : "", proc);
	}

	ft_begin(NULL, NULL, 0);
	c = ft_connect();
	fc_init(&k);
	t0 = testutil_now_ms();
	for (i = 0; i < ns; i++) {
		host[0] = fleet.hosts[i];
		s[i].r = fc_send(c, &k, s[i].id, host, 1, s[i].cmd, s[i].more);
	}
	for (left = ns; left > 0;) {
		now = testutil_now_ms();
		ck_assert_msg(now - t0 < FT_MS(20000),
			      "%zu commands not stopped after %lld ms", left,
			      now - t0);
		tcollect_poll(c, &k, FT_POLL_MS);
		for (i = 0, left = 0; i < ns; i++) {
			h = s[i].r->hosts[0];
			if (s[i].cancel_at && !s[i].cancelled &&
			    h->starts > 0 &&
			    (s[i].cancel_at == 1 || h->outbytes >= 65536)) {
				ck_assert(
				    tclient_send(c,
						 "{\"v\":1,\"id\":\"x%zu\","
						 "\"op\":\"cancel\","
						 "\"target\":\"%s\"}",
						 i, s[i].id) == 0);
				s[i].cancelled = 1;
			}
			if (s[i].gone_ms < 0 && h->terminals > 0 &&
			    fu_count_cmd(fleet_uid, s[i].proc) == 0) {
				s[i].gone_at = testutil_now_ms();
				s[i].gone_ms = s[i].gone_at - h->t_terminal;
			}
			if (s[i].gone_ms < 0 || s[i].r->ends == 0)
				left++;
		}
	}
	for (i = 0; i < ns; i++) {
		h = s[i].r->hosts[0];
		ft_report("stop: %-7s ended %s after %lld ms (%zu output "
			  "bytes), process gone %lld ms later",
			  s[i].id, proto_code_name(h->code),
			  h->t_terminal - s[i].r->t_sent, h->outbytes,
			  s[i].gone_ms);
	}
	for (i = 0; i < ns; i++) {
		h = s[i].r->hosts[0];
		assert_error(h, s[i].code);
		assert_done(s[i].r, 0, 0, 1);
		ck_assert_msg(h->starts == 1, "%s: no start", s[i].id);
		ck_assert_msg(s[i].gone_ms <= FT_MS(FT_GONE_MS),
			      "%s: '%s' gone %lld ms after the terminal event",
			      s[i].id, s[i].proc, s[i].gone_ms);
		if (s[i].output)
			ck_assert_msg(h->outbytes > 0 &&
					  h->t_first_out <= h->t_terminal,
				      "%s: no output before the end", s[i].id);
		/* Measured from the request, not from the terminal event:
		 * a busy client may read that event late. */
		if (s[i].ignores_term)
			ck_assert_msg(s[i].gone_at - s[i].r->t_sent -
					      FT_TRAP_TIMEOUT_MS >=
					  FT_GRACE_MS / 2,
				      "%s: TERM-proof command gone %lld ms "
				      "after its timeout: killed before "
				      "StopGraceTime",
				      s[i].id,
				      s[i].gone_at - s[i].r->t_sent -
					  FT_TRAP_TIMEOUT_MS);
	}
	/* idle_timeout fires for the silent command, not for "yes". */
	ck_assert_msg(strstr(s[1].r->hosts[0]->message, "idle") != NULL,
		      "idle stop without 'idle' in its message: %s",
		      s[1].r->hosts[0]->message);
	ck_assert_msg(s[3].r->hosts[0]->t_terminal - s[3].r->t_sent >= 1800,
		      "yes stopped after %lld ms: idle_timeout fired on a "
		      "command that writes",
		      s[3].r->hosts[0]->t_terminal - s[3].r->t_sent);
	ck_assert_msg(strstr(s[3].r->hosts[0]->message, "idle") == NULL,
		      "yes stopped as idle: %s", s[3].r->hosts[0]->message);
	ck_assert_msg(s[0].r->hosts[0]->t_terminal - s[0].r->t_sent <
			  FT_MS(1000 + 1500),
		      "timeout 1 s fired after %lld ms",
		      s[0].r->hosts[0]->t_terminal - s[0].r->t_sent);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* A client that goes away takes its remote commands with it, and no one
 * else's. */
START_TEST(test_client_gone)
{
	const char *three[3], *other[1];
	struct tclient *a, *b;
	struct tcollect ka, kb;
	struct tcollect_req *ra, *rb;
	long long t_close, gone, deadline;
	char proc[64], cmd[80];
	size_t i;

	ft_begin(NULL, NULL, 0);
	a = ft_connect();
	b = ft_connect();
	fc_init(&ka);
	fc_init(&kb);
	for (i = 0; i < 3; i++)
		three[i] = fleet.hosts[i];
	other[0] = fleet.hosts[3];
	snprintf(proc, sizeof proc, "sleep 1000.%ld456", (long)getpid());
	snprintf(cmd, sizeof cmd, "exec %s", proc);
	ra = fc_send(a, &ka, "a", three, 3, cmd, NULL);
	for (i = 0; i < 3; i++)
		tcollect_wait_start(a, &ka, ra->id, three[i], FT_EVENT_MS);
	deadline = testutil_now_ms() + FT_MS(5000);
	while (fu_count_cmd(fleet_uid, proc) < 3) {
		ck_assert_msg(testutil_now_ms() < deadline,
			      "'%s' runs %d times, expected 3", proc,
			      fu_count_cmd(fleet_uid, proc));
		usleep(FT_POLL_MS * 1000);
	}
	rb = fc_send(b, &kb, "b", other, 1, "sleep 2; echo b-ok", NULL);
	tcollect_wait_start(b, &kb, rb->id, other[0], FT_EVENT_MS);

	tclient_close(a);
	t_close = testutil_now_ms();
	gone = fu_wait_cmd_gone(fleet_uid, proc, FT_MS(FT_GONE_MS + 5000));
	ft_report("client gone: its 3 remote commands gone %lld ms after the "
		  "client closed (limit %d ms)",
		  gone < 0 ? -1 : testutil_now_ms() - t_close,
		  FT_MS(FT_GONE_MS));
	ck_assert_msg(gone >= 0, "'%s' still runs", proc);
	ck_assert_msg(testutil_now_ms() - t_close <= FT_MS(FT_GONE_MS),
		      "remote commands gone %lld ms after the client",
		      testutil_now_ms() - t_close);

	tcollect_wait_end(b, &kb, rb->id, FT_EVENT_MS);
	assert_exit_out(rb->hosts[0], "b-ok\n");
	assert_done(rb, 1, 0, 0);
	tcollect_check(&kb);
	tcollect_check(&ka);
	tcollect_free(&ka);
	tcollect_free(&kb);
	tclient_close(b);
	ft_end();
}
END_TEST

/* ---- One request against everyone ---- */

/*
 * A request line that is cheap to send and costly to serve: many hosts,
 * long names, many or backtracking exclusion globs, many exact ones.
 * Every line excludes all its hosts (or is refused), so nothing is
 * resolved or connected.  The long names are 245 letters 'a' and four
 * digits.
 */
#define FT_HOSTILE_NAME 245 /* letters before the 4 digits of a name */
#define FT_HOSTILE_LINE (256 * 1024)
/* The worst reply to a hello meanwhile; AddressSanitizer makes the
 * daemon's loops about three times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define FT_PING_MAX_MS 150
#else
#define FT_PING_MAX_MS 50
#endif
#define FT_HOSTILE_WAIT_MS 20000 /* the longest wait for one reply */

struct ft_hostile {
	const char *name;
	const char *hosts;   /* '$' stands for the long name */
	const char *exclude; /* the same */
	int lines;           /* sent at once */
};

static const struct ft_hostile ft_hostile[] = {
    {"short names, 9999 globs", "\"h[0-9999]\"", "\"x*[0-9998]\",\"h*\"", 1},
    {"short names, 9999 globs of their first byte", "\"h[0-9999]\"",
     "\"h*[0-9998]x\",\"h*\"", 1},
    {"long names, 9999 globs", "\"$[0-9999]\"", "\"a*[0-9998]x\",\"a*\"", 1},
    {"long names, 10000 exact", "\"$[0-9999]\"", "\"$[0-9999]\"", 1},
    {"long names, 9999 globs, two lines", "\"$[0-9999]\"",
     "\"a*[0-9998]x\",\"a*\"", 2},
    {"long names, backtracking glob", "\"$[0-9999]\"",
     "\"*a*a*a*a*a*a*a*a*a*a*a*a*b*\",\"a*\"", 1},
    {"long names, 10 scanning globs", "\"$[0-9999]\"", "\"*a*b[0-9]*\",\"a*\"",
     1},
};

/* s with every '$' replaced by name, into dst of cap bytes. */
static void
ft_subst(char *dst, size_t cap, const char *s, const char *name)
{
	size_t o = 0, n = strlen(name);

	for (; *s != '\0'; s++) {
		ck_assert(o + n + 1 < cap);
		if (*s == '$') {
			memcpy(dst + o, name, n);
			o += n;
		} else
			dst[o++] = *s;
	}
	dst[o] = '\0';
}

/* One hello answered on c: how long it took, in ms. */
static long long
ft_ping(struct tclient *c, int n)
{
	struct proto_event *ev;
	long long t0 = testutil_now_ms();

	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"p%d\",\"op\":\"hello\"}",
			       n) == 0);
	ck_assert_msg(tclient_next(c, FT_MS(FT_HOSTILE_WAIT_MS), &ev, NULL) ==
			  0,
		      "no hello reply within %d ms: %s",
		      FT_MS(FT_HOSTILE_WAIT_MS), tclient_error(c));
	ck_assert_int_eq(ev->type, PROTO_EV_HELLO);
	proto_event_free(ev);
	return testutil_now_ms() - t0;
}

/* Send hostile line h on a while b pings; the worst ping, in ms. */
static long long
ft_hostile_run(struct tclient *a, struct tcollect *k, struct tclient *b,
	       const struct ft_hostile *h, int num, int *pings)
{
	char name[FT_HOSTILE_NAME + 1], id[16], *line, *hosts, *exclude;
	struct tcollect_req *r[2];
	long long worst = 0, t, t0;
	size_t o = 0;
	int i, ended;

	memset(name, 'a', FT_HOSTILE_NAME);
	name[FT_HOSTILE_NAME] = '\0';
	line = malloc(FT_HOSTILE_LINE);
	hosts = malloc(FT_HOSTILE_LINE);
	exclude = malloc(FT_HOSTILE_LINE);
	ck_assert(line != NULL && hosts != NULL && exclude != NULL);
	ft_subst(hosts, FT_HOSTILE_LINE, h->hosts, name);
	ft_subst(exclude, FT_HOSTILE_LINE, h->exclude, name);
	for (i = 0; i < h->lines; i++) {
		snprintf(id, sizeof id, "s%d.%d", num, i);
		r[i] = tcollect_expect(k, q(id), NULL, 0);
		o += (size_t)snprintf(line + o, FT_HOSTILE_LINE - o,
				      "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
				      "\"hosts\":[%s],\"exclude\":[%s],"
				      "\"command\":\"true\"}\n",
				      id, hosts, exclude);
	}
	t0 = testutil_now_ms();
	ck_assert(tclient_send_raw(a, line, o) == 0);
	for (;;) {
		t = ft_ping(b, (*pings)++);
		if (t > worst)
			worst = t;
		while (tcollect_poll(a, k, 0))
			;
		for (i = ended = 0; i < h->lines; i++)
			ended += r[i]->ends;
		if (ended == h->lines)
			break;
		ck_assert_msg(testutil_now_ms() - t0 <
				  FT_MS(FT_HOSTILE_WAIT_MS),
			      "%s: no reply within %d ms", h->name,
			      FT_MS(FT_HOSTILE_WAIT_MS));
	}
	for (i = 0; i < h->lines; i++) {
		ck_assert_msg(r[i]->reqerr &&
				  (r[i]->code == PROTO_E_LIMIT ||
				   r[i]->code == PROTO_E_BAD_REQUEST),
			      "%s: expected a refusal, got %s (%s)", h->name,
			      proto_code_name(r[i]->code), r[i]->message);
		ft_report("hostile line \"%s\": %s (%s)", h->name,
			  proto_code_name(r[i]->code), r[i]->message);
	}
	ft_report("hostile line \"%s\" (%zu bytes): replied after %lld ms, "
		  "worst hello meanwhile %lld ms",
		  h->name, o, testutil_now_ms() - t0, worst);
	free(line);
	free(hosts);
	free(exclude);
	return worst;
}

/*
 * The control thread serves every client: no request line may hold it
 * for more than a few milliseconds, however its hosts and exclusions are
 * chosen within the limits.  A second client's hello answers quickly
 * while the first sends the costliest lines.
 */
START_TEST(test_hostile_request)
{
	struct tclient *a, *b;
	struct tcollect k;
	long long worst[sizeof ft_hostile / sizeof ft_hostile[0]];
	size_t i, n = sizeof ft_hostile / sizeof ft_hostile[0];
	int pings = 0;

	ft_begin(NULL, NULL, 0);
	a = ft_connect();
	b = ft_connect();
	fc_init(&k);
	ft_ping(b, pings++);
	for (i = 0; i < n; i++)
		worst[i] =
		    ft_hostile_run(a, &k, b, &ft_hostile[i], (int)i, &pings);
	for (i = 0; i < n; i++)
		ck_assert_msg(worst[i] <= FT_MS(FT_PING_MAX_MS),
			      "%s: a hello waited %lld ms (limit %d ms)",
			      ft_hostile[i].name, worst[i],
			      FT_MS(FT_PING_MAX_MS));
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(a);
	tclient_close(b);
	ft_end();
}
END_TEST

/* ---- Pool accounting ---- */

/* A disconnect of host on a connection of its own (the collector knows no
 * disconnected events): how many hosts it disconnected. */
static size_t
ft_disconnect(const char *id, const char *host)
{
	struct proto_event *ev = NULL;
	struct tclient *c = ft_connect();
	long long deadline = testutil_now_ms() + FT_EVENT_MS;
	size_t ok = 0;
	int done = 0;

	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"%s\",\"op\":\"disconnect\","
			       "\"hosts\":[\"%s\"]}",
			       id, host) == 0);
	while (!done) {
		ck_assert_msg(testutil_now_ms() < deadline &&
				  tclient_next(c, FT_EVENT_MS, &ev, NULL) == 0,
			      "disconnect %s: %s", id, tclient_error(c));
		if (ev->type == PROTO_EV_DONE) {
			done = 1;
			ok = ev->done.ok;
		}
		proto_event_free(ev);
	}
	tclient_close(c);
	return ok;
}

/*
 * Three pooled sessions lost at once made no failed attempt: the host is
 * not down, a disconnect leaves no backoff behind, and a job right after
 * runs.
 */
START_TEST(test_lost_not_failed)
{
	const char *host[1];
	struct tcollect_req *r[3], *ra;
	struct fu_tree t;
	struct tclient *c;
	struct tcollect k;
	json_object *st, *sh;
	char id[16], cmd[64], state[32];
	size_t i;

	/* Long pauses: the reconnects stay pending while the test looks. */
	ft_begin("MaxChannelsPerSession 1\nReconnectBaseDelay 5s\n"
		 "ReconnectMaxDelay 20s\n",
		 NULL, 3);
	c = ft_connect();
	fc_init(&k);
	host[0] = fleet.hosts[2];
	snprintf(cmd, sizeof cmd, "exec sleep 30.%ld7", (long)getpid());
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "l%zu", i);
		r[i] = fc_send(c, &k, id, host, 1, cmd, NULL);
	}
	for (i = 0; i < 3; i++)
		tcollect_wait_start(c, &k, r[i]->id, host[0], FT_EVENT_MS);
	ft_host_tree(2, &t, 3);
	ck_assert(fu_signal(&t, SIGKILL, 1) >= 2);
	for (i = 0; i < 3; i++) {
		tcollect_wait_end(c, &k, r[i]->id, FT_MS(FT_DEAD_MS));
		assert_error(r[i]->hosts[0], PROTO_E_CONNECTION_LOST);
	}
	fu_signal(&t, SIGKILL, 0);
	ck_assert(fu_wait_gone(&t, FT_MS(5000)) == 0);

	st = ft_status(c, &k, "st");
	sh = tstatus_host(st, host[0]);
	ck_assert_ptr_nonnull(sh);
	snprintf(state, sizeof state, "%s", tstatus_str(sh, "state"));
	ft_report("lost: 3 sessions lost at once: state %s, failures %lld, "
		  "lost %lld",
		  state, tstatus_int(sh, "failures"), tstatus_int(sh, "lost"));
	ck_assert_msg(strcmp(state, "down") != 0,
		      "host down after lost sessions: %s",
		      tstatus_str(sh, "last_error"));
	ck_assert_msg(tstatus_int(sh, "failures") == 0 &&
			  tstatus_int(sh, "lost") == 3,
		      "failures %lld lost %lld", tstatus_int(sh, "failures"),
		      tstatus_int(sh, "lost"));
	json_object_put(st);

	ck_assert(ft_disconnect("dc", host[0]) == 1);
	st = ft_status(c, &k, "st2");
	sh = tstatus_host(st, host[0]);
	ck_assert_ptr_nonnull(sh);
	ft_report("lost: after disconnect: state %s, retry_in_ms %lld",
		  tstatus_str(sh, "state"), tstatus_int(sh, "retry_in_ms"));
	ck_assert_msg(!ft_state_is(sh, "backoff") && !ft_state_is(sh, "down"),
		      "state %s after disconnect (retry_in_ms %lld)",
		      tstatus_str(sh, "state"), tstatus_int(sh, "retry_in_ms"));
	json_object_put(st);

	ra = fc_send(c, &k, "after", host, 1, "echo up", NULL);
	tcollect_wait_end(c, &k, ra->id, FT_EVENT_MS);
	assert_exit_out(ra->hosts[0], "up\n");
	assert_done(ra, 1, 0, 0);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* The end of the client's NEWKEYS packet in its first len bytes (the
 * banner line, then plaintext packets), or 0 before it is all there. */
static size_t
ft_newkeys_end(const unsigned char *b, size_t len)
{
	const unsigned char *nl = memchr(b, '\n', len);
	size_t off, plen;

	if (nl == NULL)
		return 0;
	for (off = (size_t)(nl - b) + 1; off + 6 <= len; off += 4 + plen) {
		plen = (size_t)b[off] << 24 | (size_t)b[off + 1] << 16 |
		       (size_t)b[off + 2] << 8 | b[off + 3];
		if (off + 4 + plen > len)
			return 0;
		if (b[off + 5] == 21) /* SSH_MSG_NEWKEYS */
			return off + 4 + plen;
	}
	return 0;
}

/* Relay one connection to addr:port; cut it at the client's first
 * encrypted packet (its ssh-userauth service request) if cut is set. */
static void
ft_relay_one(int cfd, const char *addr, int port, int cut)
{
	static unsigned char cbuf[65536];
	struct sockaddr_in sin;
	struct pollfd p[2];
	unsigned char buf[16384];
	size_t clen = 0, fwd = 0, end;
	ssize_t n;
	int sfd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, addr, &sin.sin_addr);
	sfd = socket(AF_INET, SOCK_STREAM, 0);
	if (sfd == -1 || connect(sfd, (struct sockaddr *)&sin, sizeof sin)) {
		close(cfd);
		if (sfd != -1)
			close(sfd);
		return;
	}
	for (;;) {
		p[0].fd = cfd;
		p[1].fd = sfd;
		p[0].events = p[1].events = POLLIN;
		if (poll(p, 2, -1) <= 0)
			break;
		if (p[1].revents) {
			if ((n = read(sfd, buf, sizeof buf)) <= 0 ||
			    write(cfd, buf, (size_t)n) != n)
				break;
		}
		if (!p[0].revents)
			continue;
		if (!cut || clen == sizeof cbuf) {
			if ((n = read(cfd, buf, sizeof buf)) <= 0 ||
			    write(sfd, buf, (size_t)n) != n)
				break;
			continue;
		}
		if ((n = read(cfd, cbuf + clen, sizeof cbuf - clen)) <= 0)
			break;
		clen += (size_t)n;
		end = ft_newkeys_end(cbuf, clen);
		if (write(sfd, cbuf + fwd, (end ? end : clen) - fwd) < 0)
			break;
		fwd = end ? end : clen;
		if (end && clen > end)
			break; /* the client went on to authentication */
	}
	close(cfd);
	close(sfd);
}

/* A relay on a fresh loopback listener to fleet host 0; the first cuts
 * connections are cut during authentication, later ones pass. */
static int
ft_relay_start(const char *addr, int cuts)
{
	int lfd, port, cfd;
	pid_t parent = getpid();

	lfd = ft_listen(addr, 16, &port);
	relay_pid = fork();
	ck_assert_msg(relay_pid != -1, "fork: %s", strerror(errno));
	if (relay_pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(0);
		while ((cfd = accept(lfd, NULL, NULL)) != -1)
			ft_relay_one(cfd, fleet.addrs[0], fleet.port,
				     cuts-- > 0);
		_exit(0);
	}
	close(lfd);
	return port;
}

/*
 * A connection cut after key exchange, while authenticating, is a failed
 * attempt (connect_failed) that the next attempt cures, not auth_failed.
 */
START_TEST(test_auth_cut)
{
	const char *relay_addr = "127.0.0.249", *host[1];
	struct tcollect_req *r;
	struct tclient *c;
	struct tcollect k;
	json_object *st, *sh;
	char hostbuf[64];

	ft_strict = "accept-new";
	ft_begin("ConnectionAttempts 2\n", NULL, 1);
	snprintf(hostbuf, sizeof hostbuf, "%s:%d", relay_addr,
		 ft_relay_start(relay_addr, 1));
	host[0] = hostbuf;
	c = ft_connect();
	fc_init(&k);
	r = fc_send(c, &k, "cut", host, 1, "echo through", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	st = ft_status(c, &k, "st");
	sh = tstatus_host(st, host[0]);
	ck_assert_ptr_nonnull(sh);
	ft_report("auth cut: job ended %s (%s); failures %lld, last error %s",
		  r->hosts[0]->exited ? "exit"
				      : proto_code_name(r->hosts[0]->code),
		  r->hosts[0]->message, tstatus_int(sh, "failures"),
		  tstatus_str(sh, "last_error"));
	assert_exit_out(r->hosts[0], "through\n");
	assert_done(r, 1, 0, 0);
	ck_assert_msg(tstatus_int(sh, "failures") == 1, "failures %lld",
		      tstatus_int(sh, "failures"));
	ck_assert_msg(tdaemon_log_count(&daemon_, "auth failed after") == 1 &&
			  tdaemon_log_count(&daemon_, "auth_failed") == 0,
		      "the cut attempt was not logged as connect_failed");
	json_object_put(st);
	kill(relay_pid, SIGKILL);
	waitpid(relay_pid, NULL, 0);
	relay_pid = 0;
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* The fleet's MaxSessions 1 host (fleet.sh), "127.0.0.253:PORT". */
#define FT_MS1_ADDR "127.0.0.253"
#define FT_REFUSED_JOBS 20

static void
ft_ms1_host(char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d", FT_MS1_ADDR, fleet.port);
}

/* Lines of the MaxSessions 1 host's sshd log that contain text. */
static int
ft_ms1_log_count(const char *text)
{
	char path[PATH_MAX + 32], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/sshd.ms1.log", fleet.dir);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s: %s", path,
		      strerror(errno));
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/* Wait (bounded) until the log has more than n lines with text. */
static int
ft_ms1_log_wait(const char *text, int n)
{
	long long deadline = testutil_now_ms() + FT_MS(3000);
	int now;

	while ((now = ft_ms1_log_count(text)) <= n &&
	       testutil_now_ms() < deadline)
		usleep(FT_POLL_MS * 1000);
	return now;
}

/*
 * A server with MaxSessions 1 frees a session slot a little after the
 * channel's CLOSE: an open refused while no other channel is open is
 * tried again, so concurrent commands all run.
 */
START_TEST(test_refused_alone)
{
	struct tcollect_req *r[FT_REFUSED_JOBS];
	const char *host[1];
	char hostbuf[64], id[16], cmd[32], want[16];
	struct tclient *c;
	struct tcollect k;
	json_object *st, *sh;
	size_t i, failed = 0;

	ft_begin(NULL, NULL, 0);
	ft_ms1_host(hostbuf, sizeof hostbuf);
	host[0] = hostbuf;
	c = ft_connect();
	fc_init(&k);
	for (i = 0; i < FT_REFUSED_JOBS; i++) {
		snprintf(id, sizeof id, "m%zu", i);
		snprintf(cmd, sizeof cmd, "echo %zu", i);
		r[i] = fc_send(c, &k, id, host, 1, cmd, NULL);
	}
	for (i = 0; i < FT_REFUSED_JOBS; i++) {
		tcollect_wait_end(c, &k, r[i]->id, FT_EVENT_MS);
		failed += !r[i]->hosts[0]->exited;
	}
	st = ft_status(c, &k, "st");
	sh = tstatus_host(st, host[0]);
	ck_assert_ptr_nonnull(sh);
	ft_report("refused: %d concurrent commands on a MaxSessions 1 "
		  "server: %zu failed; %lld handshakes, channels_max %lld",
		  FT_REFUSED_JOBS, failed, tstatus_int(sh, "connects"),
		  tstatus_int(sh, "channels_max"));
	json_object_put(st);
	for (i = 0; i < FT_REFUSED_JOBS; i++) {
		snprintf(want, sizeof want, "%zu\n", i);
		assert_exit_out(r[i]->hosts[0], want);
	}
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

#define FT_ONE_CHANNEL_RUNS 10
#define FT_ONE_CHANNEL_PAUSE_MS 100
/* A command that, like a server serving one channel per connection, has
 * its session's sshd exit once the command's exit status is out (a
 * moment after the shell was reaped). */
#define FT_ONE_CHANNEL_CMD                                                     \
	"echo %zu; w=$$; (while kill -0 $w 2>/dev/null; do sleep 0.01; "       \
	"done; sleep 0.05; kill -TERM $PPID) </dev/null >/dev/null 2>&1 &"

/*
 * A server that closes each connection after its one channel: the close
 * is orderly, not a lost session, and sequential commands do not wait out
 * a reconnect backoff.
 */
START_TEST(test_server_closes)
{
	const char *host[1];
	char hostbuf[64], id[16], cmd[160], want[16];
	struct tcollect_req *r;
	struct tclient *c;
	struct tcollect k;
	json_object *st, *sh;
	long long t0, elapsed;
	size_t i;

	ft_begin("ReconnectBaseDelay 1s\n", NULL, 0);
	ft_ms1_host(hostbuf, sizeof hostbuf);
	host[0] = hostbuf;
	c = ft_connect();
	fc_init(&k);
	t0 = testutil_now_ms();
	for (i = 0; i < FT_ONE_CHANNEL_RUNS; i++) {
		snprintf(id, sizeof id, "o%zu", i);
		snprintf(cmd, sizeof cmd, FT_ONE_CHANNEL_CMD, i);
		snprintf(want, sizeof want, "%zu\n", i);
		r = fc_send(c, &k, id, host, 1, cmd, NULL);
		tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
		assert_exit_out(r->hosts[0], want);
		/* The next command comes once the server has closed. */
		usleep(FT_ONE_CHANNEL_PAUSE_MS * 1000);
	}
	elapsed = testutil_now_ms() - t0;
	st = ft_status(c, &k, "st");
	sh = tstatus_host(st, host[0]);
	ck_assert_ptr_nonnull(sh);
	ft_report("one channel: %d sequential commands on a server closing "
		  "after each channel took %lld ms; %lld handshakes, %lld "
		  "lost",
		  FT_ONE_CHANNEL_RUNS, elapsed, tstatus_int(sh, "connects"),
		  tstatus_int(sh, "lost"));
	ck_assert_msg(tstatus_int(sh, "lost") == 0,
		      "%lld sessions counted lost: %s", tstatus_int(sh, "lost"),
		      tstatus_str(sh, "last_error"));
	ck_assert_msg(elapsed < FT_MS(FT_ONE_CHANNEL_RUNS *
				      (FT_ONE_CHANNEL_PAUSE_MS + 300)),
		      "%d commands took %lld ms", FT_ONE_CHANNEL_RUNS, elapsed);
	json_object_put(st);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/*
 * Sessions the daemon closes itself (a disconnect request, the shutdown)
 * end with SSH_MSG_DISCONNECT: sshd logs "Disconnected from user", not
 * "Connection closed".
 */
START_TEST(test_disconnect_message)
{
	const char *bye = "Disconnected from user", *cut = "Connection closed";
	const char *host[1];
	char hostbuf[64];
	struct tcollect_req *r;
	struct tclient *c;
	struct tcollect k;
	int byes, cuts, n;

	ft_begin(NULL, NULL, 0);
	ft_ms1_host(hostbuf, sizeof hostbuf);
	host[0] = hostbuf;
	c = ft_connect();
	fc_init(&k);
	byes = ft_ms1_log_count(bye);
	cuts = ft_ms1_log_count(cut);
	r = fc_send(c, &k, "w1", host, 1, NULL, NULL);
	assert_done(tcollect_wait_end(c, &k, r->id, FT_EVENT_MS), 1, 0, 0);
	ck_assert(ft_disconnect("d1", host[0]) == 1);
	n = ft_ms1_log_wait(bye, byes);
	ft_report("goodbye: after a disconnect request sshd logged %d "
		  "\"%s\" and %d \"%s\"",
		  n - byes, bye, ft_ms1_log_count(cut) - cuts, cut);
	ck_assert_msg(n == byes + 1 && ft_ms1_log_count(cut) == cuts,
		      "disconnect request: %d \"%s\", %d \"%s\"", n - byes, bye,
		      ft_ms1_log_count(cut) - cuts, cut);

	r = fc_send(c, &k, "w2", host, 1, NULL, NULL);
	assert_done(tcollect_wait_end(c, &k, r->id, FT_EVENT_MS), 1, 0, 0);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
	n = ft_ms1_log_wait(bye, byes + 1);
	ft_report("goodbye: after the shutdown sshd logged %d \"%s\" and %d "
		  "\"%s\"",
		  n - byes - 1, bye, ft_ms1_log_count(cut) - cuts, cut);
	ck_assert_msg(n == byes + 2 && ft_ms1_log_count(cut) == cuts,
		      "shutdown: %d \"%s\", %d \"%s\"", n - byes - 1, bye,
		      ft_ms1_log_count(cut) - cuts, cut);
}
END_TEST

/* ---- A pool that forgets ---- */

#define FT_IDLE_MS 1000 /* IdleTimeout of the idle tests */

/* Poll status until host is no longer listed; ms it took, or -1. */
static long long
ft_wait_forgotten(struct tclient *c, struct tcollect *k, const char *host,
		  int limit_ms, long long *failures)
{
	long long t0 = testutil_now_ms();
	json_object *st, *sh;
	int listed = 1;

	while (listed && testutil_now_ms() - t0 < limit_ms) {
		usleep(100 * 1000);
		st = ft_status(c, k, "fg");
		sh = tstatus_host(st, host);
		if ((listed = sh != NULL) && failures != NULL)
			*failures = tstatus_int(sh, "failures");
		json_object_put(st);
	}
	return listed ? -1 : testutil_now_ms() - t0;
}

/*
 * IdleTimeout closes a session without a command (with a disconnect
 * message) and forgets the pool, never a session in use; MaxPools refuses
 * a new pool past the limit until one expired.
 */
START_TEST(test_idle_timeout)
{
	const char *busy[1], *ms1[1], *third[1];
	const char *bye = "Disconnected from user";
	char ms1buf[64];
	struct tcollect_req *r;
	struct tclient *c;
	struct tcollect k;
	json_object *st, *sh;
	long long gone;
	int byes;

	ft_begin("IdleTimeout 1s\nMaxPools 2\n", NULL, 0);
	c = ft_connect();
	fc_init(&k);
	busy[0] = fleet.hosts[3];
	ft_ms1_host(ms1buf, sizeof ms1buf);
	ms1[0] = ms1buf;
	third[0] = fleet.hosts[4];
	byes = ft_ms1_log_count(bye);

	/* Busy for twice the IdleTimeout: kept. */
	r = fc_send(c, &k, "busy", busy, 1, "sleep 2; echo kept", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_exit_out(r->hosts[0], "kept\n");
	st = ft_status(c, &k, "st");
	sh = tstatus_host(st, busy[0]);
	ck_assert_ptr_nonnull(sh);
	ck_assert_msg(tstatus_int(sh, "sessions") == 1 &&
			  tstatus_int(sh, "connects") == 1 &&
			  tstatus_int(sh, "lost") == 0,
		      "busy session: sessions %lld connects %lld lost %lld",
		      tstatus_int(sh, "sessions"), tstatus_int(sh, "connects"),
		      tstatus_int(sh, "lost"));
	json_object_put(st);

	/* Two pools exist now: a third is refused. */
	r = fc_send(c, &k, "two", ms1, 1, "echo two", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_exit_out(r->hosts[0], "two\n");
	r = fc_send(c, &k, "three", third, 1, "echo three", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	ft_report("idle: a third pool with MaxPools 2: %s (%s)",
		  r->hosts[0]->exited ? "exit"
				      : proto_code_name(r->hosts[0]->code),
		  r->hosts[0]->message);
	assert_error(r->hosts[0], PROTO_E_LIMIT);

	gone = ft_wait_forgotten(c, &k, ms1[0], FT_MS(4000), NULL);
	ft_report("idle: idle pool forgotten %lld ms after its command "
		  "(IdleTimeout %d ms); sshd logged %d \"%s\"",
		  gone, FT_IDLE_MS, ft_ms1_log_wait(bye, byes) - byes, bye);
	ck_assert_msg(gone >= 0, "idle pool %s still listed", ms1[0]);
	ck_assert_msg(ft_ms1_log_count(bye) == byes + 1,
		      "idle expiry: %d \"%s\"", ft_ms1_log_count(bye) - byes,
		      bye);
	ck_assert(ft_wait_forgotten(c, &k, busy[0], FT_MS(4000), NULL) >= 0);

	r = fc_send(c, &k, "three2", third, 1, "echo three", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_exit_out(r->hosts[0], "three\n");
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/*
 * A host that went away for good after its session is probed only while
 * somebody used it within IdleTimeout, then forgotten.
 */
START_TEST(test_idle_forgets_dead)
{
	const char *relay_addr = "127.0.0.248", *host[1];
	long long failures = -1, gone;
	char hostbuf[64];
	struct tcollect_req *r;
	struct tclient *c;
	struct tcollect k;

	ft_strict = "accept-new";
	ft_begin("IdleTimeout 1s\nReconnectBaseDelay 100ms\n"
		 "ReconnectMaxDelay 300ms\n",
		 NULL, 0);
	snprintf(hostbuf, sizeof hostbuf, "%s:%d", relay_addr,
		 ft_relay_start(relay_addr, 0));
	host[0] = hostbuf;
	c = ft_connect();
	fc_init(&k);
	r = fc_send(c, &k, "once", host, 1, "echo once", NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	assert_exit_out(r->hosts[0], "once\n");
	/* Lose the session a little before it would expire: the host is
	 * then still in use and is probed for a while. */
	usleep(FT_IDLE_MS * 800);
	kill(relay_pid, SIGKILL);
	waitpid(relay_pid, NULL, 0);
	relay_pid = 0;
	gone = ft_wait_forgotten(c, &k, host[0], FT_MS(8000), &failures);
	ft_report("idle: host gone for good forgotten %lld ms after its loss, "
		  "after %lld failed attempts",
		  gone, failures);
	ck_assert_msg(gone >= 0, "dead host still listed, %lld failures",
		      failures);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* Descriptors the daemon of test_session_cap may hold: fewer than it needs
 * for a session to every fleet host. */
#define FT_NOFILE 64
#define FT_CAP_HOSTS 60

/*
 * A daemon short of descriptors: past its session cap (RLIMIT_NOFILE less
 * a reserve) a host gets the daemon's own limit error, never
 * connect_failed or hostkey_unknown, and no failure is counted against it.
 */
START_TEST(test_session_cap)
{
	const char *hosts[FT_CAP_HOSTS];
	struct rlimit rl = {FT_NOFILE, FT_NOFILE};
	size_t i, ok = 0, limited = 0, other = 0;
	long long failures = 0;
	struct tcollect_req *r;
	struct tcollect_host *h;
	char first[1600] = "";
	struct tclient *c;
	struct tcollect k;
	json_object *st, *sh;

	ft_load();
	ck_assert_msg(fleet.nhosts >= FT_CAP_HOSTS, "fleet has %zu hosts",
		      fleet.nhosts);
	/* This test's own process (Check forks one per test) and the daemon
	 * it starts. */
	ck_assert_msg(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit: %s",
		      strerror(errno));
	ft_begin(NULL, NULL, 1);
	c = ft_connect();
	fc_init(&k);
	for (i = 0; i < FT_CAP_HOSTS; i++)
		hosts[i] = fleet.hosts[i];
	r = fc_send(c, &k, "cap", hosts, FT_CAP_HOSTS, NULL, NULL);
	tcollect_wait_end(c, &k, r->id, FT_EVENT_MS);
	for (i = 0; i < r->nhosts; i++) {
		h = r->hosts[i];
		if (h->connected)
			ok++;
		else if (h->code == PROTO_E_LIMIT)
			limited++;
		else if (other++ == 0)
			snprintf(first, sizeof first, "%s: %s (%s)", h->host,
				 proto_code_name(h->code), h->message);
	}
	st = ft_status(c, &k, "st");
	for (i = 0; i < FT_CAP_HOSTS; i++)
		if ((sh = tstatus_host(st, hosts[i])) != NULL)
			failures += tstatus_int(sh, "failures");
	json_object_put(st);
	ft_report("fd cap: RLIMIT_NOFILE %d, %d hosts: %zu connected, %zu "
		  "limit, %zu other errors%s%s; %lld failures counted",
		  FT_NOFILE, FT_CAP_HOSTS, ok, limited, other,
		  other ? ", first: " : "", first, failures);
	ck_assert_msg(other == 0 && failures == 0,
		      "%zu hosts blamed (%lld failures); first: %s", other,
		      failures, first);
	ck_assert_msg(limited > 0 && ok > 0, "%zu connected, %zu limit", ok,
		      limited);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ft_end();
}
END_TEST

/* ---- Soak ---- */

static volatile sig_atomic_t killer_stop;

static void
ft_killer_term(int sig)
{
	(void)sig;
	killer_stop = 1;
}

/*
 * The soak's fault source, a child process: at random moments it kills the
 * sshd processes of an authenticated session of a random host, at most
 * FT_SOAK_MAX_KILLS times.  Exits with the number of kills.
 */
static void
ft_killer(pid_t parent, unsigned int seed)
{
	struct fu_tree t, one;
	char err[256];
	size_t i;
	int kills = 0, host;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	signal(SIGTERM, ft_killer_term);
	srandom(seed);
	while (!killer_stop && kills < FT_SOAK_MAX_KILLS) {
		usleep((useconds_t)(FT_SOAK_KILL_MIN_MS +
				    random() % FT_SOAK_KILL_SPAN_MS) *
		       1000);
		host = (int)(random() % FT_SOAK_HOSTS);
		if (fu_host_tree(fleet.dir, fleet.addrs[host], fleet.port, &t,
				 err, sizeof err) <= 0)
			continue;
		/* Only sessions past authentication: a handshake cut short
		 * is another fault (connect errors), tested elsewhere. */
		memset(&one, 0, sizeof one);
		for (i = 0; i < t.n; i++) {
			if (!t.is_sshd[i] || !t.authed[i])
				continue;
			one.pid[one.n] = t.pid[i];
			one.is_sshd[one.n++] = 1;
		}
		if (one.n > 0 && fu_signal(&one, SIGKILL, 1) > 0)
			kills++;
	}
	_exit(kills);
}

/* Results of the soak by kind: exit 0, then each error code. */
struct ft_tally {
	size_t ok;
	size_t codes[PROTO_E_COUNT];
	char first_bad[1024]; /* the first result that is neither */
};

/* Check a finished request of the soak and count its results. */
static void
ft_soak_check(struct tcollect_req *r, int num, struct ft_tally *t)
{
	char want[32];
	size_t i, nok = 0, nerr = 0;
	struct tcollect_host *h;

	snprintf(want, sizeof want, "%d\n", num);
	assert_done(r, r->done.ok, 0, r->done.errors);
	for (i = 0; i < r->nhosts; i++) {
		h = r->hosts[i];
		ck_assert_msg(h->terminals == 1, "%s on %s: %d terminal events",
			      r->id, h->host, h->terminals);
		if (h->exited) {
			assert_exit_out(h, want);
			nok++;
			continue;
		}
		nerr++;
		ck_assert_msg(h->code > PROTO_E_NONE && h->code < PROTO_E_COUNT,
			      "%s on %s: error code %d", r->id, h->host,
			      (int)h->code);
		t->codes[h->code]++;
		if (h->code != PROTO_E_CONNECTION_LOST &&
		    t->first_bad[0] == '\0')
			snprintf(t->first_bad, sizeof t->first_bad,
				 "%s on %s: error %s (%.200s)", r->id, h->host,
				 proto_code_name(h->code), h->message);
	}
	ck_assert_msg(r->done.ok == nok && r->done.errors == nerr,
		      "%s: done says ok %zu errors %zu, events say %zu/%zu",
		      r->id, r->done.ok, r->done.errors, nok, nerr);
	t->ok += nok;
}

/*
 * 5,000 jobs over 50 hosts, several requests in flight on a few clients,
 * while sessions are killed at random: every job ends exactly once, and
 * the daemon is left clean.
 */
START_TEST(test_soak)
{
	struct tclient *c[FT_SOAK_CLIENTS];
	struct tcollect k[FT_SOAK_CLIENTS];
	struct tcollect_req *inflight[FT_SOAK_CLIENTS][FT_SOAK_WINDOW];
	int num[FT_SOAK_CLIENTS][FT_SOAK_WINDOW];
	struct pollfd pfd[FT_SOAK_CLIENTS];
	const char *hosts[FT_SOAK_HOSTS];
	size_t i, j, sent = 0, finished = 0, other = 0, total;
	struct ft_tally tally;
	char codes[512] = "";
	long long t0, elapsed, busy, queued, lost, reconnects;
	char id[32], cmd[32];
	json_object *st, *sh;
	int status, kills, clean;
	pid_t parent = getpid();

	memset(&tally, 0, sizeof tally);
	ft_begin(FT_SOAK_CONF, NULL, 0);
	ck_assert_msg(fleet.nhosts >= FT_SOAK_HOSTS, "fleet has %zu hosts",
		      fleet.nhosts);
	for (i = 0; i < FT_SOAK_HOSTS; i++)
		hosts[i] = fleet.hosts[i];
	for (i = 0; i < FT_SOAK_CLIENTS; i++) {
		c[i] = ft_connect();
		fc_init(&k[i]);
		for (j = 0; j < FT_SOAK_WINDOW; j++)
			inflight[i][j] = NULL;
	}
	killer_pid = fork();
	ck_assert_msg(killer_pid != -1, "fork: %s", strerror(errno));
	if (killer_pid == 0)
		ft_killer(parent, (unsigned int)parent);

	t0 = testutil_now_ms();
	while (finished < FT_SOAK_REQUESTS) {
		elapsed = testutil_now_ms() - t0;
		ck_assert_msg(elapsed < FT_MS(FT_SOAK_LIMIT_MS),
			      "soak: %zu of %d requests done after %lld ms",
			      finished, FT_SOAK_REQUESTS, elapsed);
		for (i = 0; i < FT_SOAK_CLIENTS; i++) {
			for (j = 0; j < FT_SOAK_WINDOW; j++) {
				struct tcollect_req *r = inflight[i][j];

				if (r != NULL && r->ends > 0) {
					ft_soak_check(r, num[i][j], &tally);
					inflight[i][j] = r = NULL;
					finished++;
				}
				if (r != NULL || sent == FT_SOAK_REQUESTS)
					continue;
				snprintf(id, sizeof id, "s%zu", sent);
				snprintf(cmd, sizeof cmd, "echo %zu", sent);
				num[i][j] = (int)sent++;
				inflight[i][j] =
				    fc_send(c[i], &k[i], id, hosts,
					    FT_SOAK_HOSTS, cmd, NULL);
			}
			/* Take what is buffered, then wait on all. */
			while (tcollect_poll(c[i], &k[i], 0) == 1)
				;
			tcollect_check(&k[i]);
			pfd[i].fd = tclient_fd(c[i]);
			pfd[i].events = POLLIN;
		}
		if (finished < FT_SOAK_REQUESTS)
			poll(pfd, FT_SOAK_CLIENTS, 50);
	}
	elapsed = testutil_now_ms() - t0;
	kill(killer_pid, SIGTERM);
	ck_assert(waitpid(killer_pid, &status, 0) == killer_pid);
	killer_pid = 0;
	kills = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	/* Channels are released and no job waits; wait for the last
	 * channel closes to be counted. */
	for (clean = 0; !clean;) {
		st = ft_status(c[0], &k[0], "st");
		busy = queued = lost = reconnects = 0;
		for (i = 0; i < FT_SOAK_HOSTS; i++) {
			sh = tstatus_host(st, hosts[i]);
			ck_assert_msg(sh != NULL, "status lacks %s", hosts[i]);
			busy += tstatus_int(sh, "channels_busy");
			queued += tstatus_int(sh, "queued");
			lost += tstatus_int(sh, "lost");
			reconnects += tstatus_int(sh, "reconnects");
		}
		json_object_put(st);
		clean = busy == 0 && queued == 0;
		if (!clean) {
			ck_assert_msg(testutil_now_ms() - t0 - elapsed <
					  FT_MS(3000),
				      "after the soak: %lld channels busy, "
				      "%lld jobs queued",
				      busy, queued);
			usleep(50 * 1000);
		}
	}
	for (i = 0, total = tally.ok; i < PROTO_E_COUNT; i++) {
		total += tally.codes[i];
		if (tally.codes[i] == 0)
			continue;
		snprintf(codes + strlen(codes), sizeof codes - strlen(codes),
			 ", %zu %s", tally.codes[i],
			 proto_code_name((enum proto_code)i));
		if (i != PROTO_E_CONNECTION_LOST)
			other += tally.codes[i];
	}
	ft_report("soak: %d jobs in %lld ms: %zu exit 0%s; %d session kills, "
		  "%lld sessions lost, %lld reconnects",
		  FT_SOAK_REQUESTS * FT_SOAK_HOSTS, elapsed, tally.ok, codes,
		  kills, lost, reconnects);
	ck_assert_msg(total == FT_SOAK_REQUESTS * FT_SOAK_HOSTS,
		      "%zu results for %d jobs", total,
		      FT_SOAK_REQUESTS * FT_SOAK_HOSTS);
	ck_assert_msg(other == 0,
		      "%zu jobs ended neither with exit 0 nor "
		      "connection_lost; first: %s",
		      other, tally.first_bad);
	ck_assert_msg(kills > 0, "the killer killed nothing (status 0x%x)",
		      status);
	ck_assert_msg(lost > 0, "no session lost in status after %d kills",
		      kills);
	for (i = 0; i < FT_SOAK_CLIENTS; i++) {
		tcollect_check(&k[i]);
		tcollect_free(&k[i]);
		tclient_close(c[i]);
	}
	ft_end();
}
END_TEST

/* dead_resolver */
#define FT_DNS_NAMES 20        /* names queued behind a dead resolver */
#define FT_DNS_TIMEOUT_MS 2000 /* ConnectTimeout of the test */
#define FT_DNS_IP_MS 1000      /* an address host connects within */
#define FT_DNS_STOP_MS 3000    /* SIGTERM to exit, offload wait included */
/* More names at once than the name resolution queue holds (its 256 waiting
 * plus the two threads' lookups in hand). */
#define FT_DNS_FLOOD 300

/*
 * A resolver that never answers: a UDP socket on a loopback address of the
 * test's own, bound and never read.  The daemon runs in a mount namespace
 * whose /etc/resolv.conf names only that address, so no query can reach
 * the machine's resolver.  Returns the socket; addr gets its address.
 */
static int
ft_dead_resolver(char *addr, size_t len)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	snprintf(addr, len, "127.53.%d.%d", (int)(getpid() >> 8) & 255,
		 (int)getpid() & 255 ? (int)getpid() & 255 : 1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53);
	ck_assert(inet_pton(AF_INET, addr, &sin.sin_addr) == 1);
	ck_assert((fd = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0,
		      "bind %s:53: %s", addr, strerror(errno));
	return fd;
}

/* The queries that reached the dead resolver. */
static int
ft_dns_queries(int fd)
{
	char buf[512];
	int n = 0;

	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

static void
ft_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fputs(text, f) >= 0);
	ck_assert(fclose(f) == 0);
}

/* Start the daemon inside a mount namespace with resolv.conf pointing at
 * the dead resolver on addr. */
static void
ft_begin_dns(const char *addr, const char *blocks)
{
	struct tdaemon_opts o = {0};
	char conf[4096], resolv[PATH_MAX], script[PATH_MAX], wrap[3 * PATH_MAX];
	char old_copy[PATH_MAX];
	const char *old = getenv("SSHPOOL_TEST_WRAPPER");
	int st;

	ck_assert_msg(geteuid() == 0, "dead_resolver needs root (unshare -m)");
	ft_load();
	snprintf(conf, sizeof conf, "%s%s", FT_BASE_CONF, blocks);
	o.extra = conf;
	o.strict = ft_strict;
	ck_assert_msg(
	    tdaemon_prepare(&daemon_, &fleet, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
	snprintf(resolv, sizeof resolv, "%s/resolv.conf", daemon_.dir);
	snprintf(script, sizeof script, "%s/dnsns.sh", daemon_.dir);
	snprintf(conf, sizeof conf,
		 "nameserver %s\noptions timeout:30 attempts:5\n", addr);
	ft_write_file(resolv, conf);
	/* No mount, no daemon: a failed bind never falls back to the
	 * machine's resolver. */
	ft_write_file(script,
		      "mount --bind \"$1\" /etc/resolv.conf || exit 126\n"
		      "grep -qx \"nameserver $2\" /etc/resolv.conf || "
		      "exit 126\n"
		      "shift 2\nexec \"$@\"\n");
	snprintf(wrap, sizeof wrap,
		 "unshare -m --propagation private sh %s %s %s %s", script,
		 resolv, addr, old != NULL ? old : "");
	snprintf(old_copy, sizeof old_copy, "%s", old ? old : "");
	ck_assert(setenv("SSHPOOL_TEST_WRAPPER", wrap, 1) == 0);
	snprintf(conf, sizeof conf, "%s%s", FT_BASE_CONF, blocks);
	st = tdaemon_start(&daemon_, &fleet, &o, errbuf, sizeof errbuf);
	if (old != NULL)
		setenv("SSHPOOL_TEST_WRAPPER", old_copy, 1);
	else
		unsetenv("SSHPOOL_TEST_WRAPPER");
	ck_assert_msg(st == 0, "%s", errbuf);
}

/*
 * A resolver that never answers: names fail with resolve_failed within
 * ConnectTimeout, an address host queued behind 20 such lookups still
 * connects at once, and SIGTERM exits promptly although lookups are stuck.
 */
START_TEST(test_dead_resolver)
{
	char addr[32], extra[128], names[FT_DNS_NAMES][64];
	const char *hosts[FT_DNS_NAMES], *ip[1];
	long long ip_ms, worst = 0, t, stop_ms;
	struct tcollect_req *rn, *ri;
	struct tcollect k;
	struct tclient *c;
	int rfd, st, queries;
	size_t i;

	rfd = ft_dead_resolver(addr, sizeof addr);
	snprintf(extra, sizeof extra, "Host *\n\tConnectTimeout %dms\n",
		 FT_DNS_TIMEOUT_MS);
	ft_begin_dns(addr, extra);
	c = ft_connect();
	fc_init(&k);
	for (i = 0; i < FT_DNS_NAMES; i++) {
		snprintf(names[i], sizeof names[i], "dead-%zu.sshpool.test:%d",
			 i, fleet.port);
		hosts[i] = names[i];
	}
	rn = fc_send(c, &k, "names", hosts, FT_DNS_NAMES, "true", NULL);
	/* Let the lookups reach the offload threads first. */
	usleep(200 * 1000);
	ip[0] = fleet.hosts[0];
	ri = fc_send(c, &k, "ip", ip, 1, "true", NULL);
	tcollect_wait_end(c, &k, ri->id, FT_EVENT_MS);
	ip_ms = ri->hosts[0]->t_terminal - ri->t_sent;
	tcollect_wait_end(c, &k, rn->id, FT_EVENT_MS);
	for (i = 0; i < FT_DNS_NAMES; i++)
		if ((t = rn->hosts[i]->t_terminal - rn->t_sent) > worst)
			worst = t;
	queries = ft_dns_queries(rfd);
	t = testutil_now_ms();
	st = tdaemon_stop(&daemon_);
	stop_ms = testutil_now_ms() - t;
	ft_report("dead resolver: address host done in %lld ms (%s) behind %d "
		  "names; names failed within %lld ms (%s); ConnectTimeout %d "
		  "ms; %d queries reached the test's resolver; SIGTERM to exit "
		  "%lld ms",
		  ip_ms, proto_code_name(ri->hosts[0]->code), FT_DNS_NAMES,
		  worst, proto_code_name(rn->hosts[0]->code), FT_DNS_TIMEOUT_MS,
		  queries, stop_ms);
	ck_assert_msg(queries > 0, "no query reached the test's resolver");
	assert_done(ri, 1, 0, 0);
	ck_assert_msg(ip_ms <= FT_MS(FT_DNS_IP_MS),
		      "address host took %lld ms behind dead lookups", ip_ms);
	for (i = 0; i < FT_DNS_NAMES; i++)
		assert_error(rn->hosts[i], PROTO_E_RESOLVE_FAILED);
	assert_done(rn, 0, 0, FT_DNS_NAMES);
	ck_assert_msg(worst <= FT_MS(FT_DNS_TIMEOUT_MS + 1000),
		      "a name failed after %lld ms", worst);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
		tdaemon_dump_log(&daemon_);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "sshpoold did not exit cleanly on SIGTERM: status 0x%x",
		      st);
	ck_assert_msg(stop_ms <= FT_MS(FT_DNS_STOP_MS),
		      "SIGTERM to exit took %lld ms", stop_ms);
	tdaemon_cleanup(&daemon_);
	close(rfd);
}
END_TEST

/*
 * More lookups at once than the name resolution queue holds, behind a
 * resolver that never answers: the names past the queue's bound fail at
 * once with `limit`, naming the queue, the others with resolve_failed
 * within ConnectTimeout, and an address host still connects meanwhile.
 */
START_TEST(test_resolve_queue_full)
{
	static char names[FT_DNS_FLOOD][64];
	const char *hosts[FT_DNS_FLOOD], *ip[1];
	char addr[32], extra[160];
	struct tcollect_req *rn, *ri;
	struct tcollect_host *h;
	struct tcollect k;
	struct tclient *c;
	long long worst_limit = 0, t;
	int rfd, limits = 0, failed = 0;
	size_t i;

	rfd = ft_dead_resolver(addr, sizeof addr);
	snprintf(extra, sizeof extra,
		 "MaxHandshakeRate 100000\nHost *\n\tConnectTimeout %dms\n",
		 FT_DNS_TIMEOUT_MS);
	ft_begin_dns(addr, extra);
	c = ft_connect();
	fc_init(&k);
	for (i = 0; i < FT_DNS_FLOOD; i++) {
		snprintf(names[i], sizeof names[i], "flood-%zu.sshpool.test:%d",
			 i, fleet.port);
		hosts[i] = names[i];
	}
	rn = fc_send(c, &k, "flood", hosts, FT_DNS_FLOOD, "true", NULL);
	usleep(200 * 1000);
	ip[0] = fleet.hosts[0];
	ri = fc_send(c, &k, "ip", ip, 1, "true", NULL);
	tcollect_wait_end(c, &k, ri->id, FT_EVENT_MS);
	tcollect_wait_end(c, &k, rn->id, FT_EVENT_MS);
	for (i = 0; i < FT_DNS_FLOOD; i++) {
		h = rn->hosts[i];
		ck_assert_msg(h->terminals == 1, "%s: %d terminal events",
			      h->host, h->terminals);
		if (h->code == PROTO_E_LIMIT) {
			ck_assert_msg(strstr(h->message,
					     "name resolution "
					     "queue is full") != NULL,
				      "%s: %s", h->host, h->message);
			if ((t = h->t_terminal - rn->t_sent) > worst_limit)
				worst_limit = t;
			limits++;
		} else {
			ck_assert_msg(h->code == PROTO_E_RESOLVE_FAILED,
				      "%s: %s (%s)", h->host,
				      proto_code_name(h->code), h->message);
			failed++;
		}
	}
	ft_report("resolve queue full: %d names behind a dead resolver: %d "
		  "refused with limit (the last after %lld ms), %d "
		  "resolve_failed; address host %s in %lld ms",
		  FT_DNS_FLOOD, limits, worst_limit, failed,
		  proto_code_name(ri->hosts[0]->code),
		  ri->hosts[0]->t_terminal - ri->t_sent);
	ck_assert_msg(limits >= FT_DNS_FLOOD - 256 - 2 - 10,
		      "only %d of %d names refused by the full queue", limits,
		      FT_DNS_FLOOD);
	ck_assert_msg(worst_limit < FT_DNS_TIMEOUT_MS,
		      "a refusal came after %lld ms, not at once", worst_limit);
	assert_done(ri, 1, 0, 0);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	ck_assert_msg(tdaemon_stop(&daemon_) == 0, "daemon exit not clean");
	tdaemon_cleanup(&daemon_);
	close(rfd);
}
END_TEST

/*
 * A known_hosts file that never answers (a FIFO with no writer: opening
 * it blocks): the host whose Host block names it fails within its
 * ConnectTimeout, as the host key step has a deadline of its own, another
 * host connects meanwhile, and SIGTERM still exits at once although a
 * known_hosts thread is stuck.
 */
START_TEST(test_hostkey_stuck)
{
	char fifo[64], blocks[256], host[32], *colon;
	const char *stuck[1], *fine[1];
	struct tcollect_req *rs, *rf;
	struct tcollect k;
	struct tclient *c;
	long long stuck_ms, t, stop_ms;
	int st;

	ft_load();
	snprintf(fifo, sizeof fifo, "/tmp/sshpool-ft-fifo.%ld", (long)getpid());
	unlink(fifo);
	ck_assert_msg(mkfifo(fifo, 0600) == 0, "mkfifo %s: %s", fifo,
		      strerror(errno));
	snprintf(host, sizeof host, "%s", fleet.hosts[1]);
	if ((colon = strrchr(host, ':')) != NULL)
		*colon = '\0';
	snprintf(blocks, sizeof blocks,
		 "Host %s\n\tUserKnownHostsFile %s\n\tConnectTimeout %dms\n",
		 host, fifo, FT_DNS_TIMEOUT_MS);
	ft_begin(NULL, blocks, 0);
	c = ft_connect();
	fc_init(&k);
	stuck[0] = fleet.hosts[1];
	fine[0] = fleet.hosts[0];
	rs = fc_send(c, &k, "stuck", stuck, 1, "true", NULL);
	usleep(100 * 1000);
	rf = fc_send(c, &k, "fine", fine, 1, "true", NULL);
	tcollect_wait_end(c, &k, rf->id, FT_EVENT_MS);
	tcollect_wait_end(c, &k, rs->id, FT_EVENT_MS);
	stuck_ms = rs->hosts[0]->t_terminal - rs->t_sent;
	t = testutil_now_ms();
	st = tdaemon_stop(&daemon_);
	stop_ms = testutil_now_ms() - t;
	ft_report("stuck known_hosts: its host ended in %lld ms (%s: %s), "
		  "ConnectTimeout %d ms; another host %s in %lld ms; SIGTERM "
		  "to exit %lld ms",
		  stuck_ms, proto_code_name(rs->hosts[0]->code),
		  rs->hosts[0]->message, FT_DNS_TIMEOUT_MS,
		  proto_code_name(rf->hosts[0]->code),
		  rf->hosts[0]->t_terminal - rf->t_sent, stop_ms);
	assert_done(rf, 1, 0, 0);
	ck_assert_msg(rs->hosts[0]->terminals == 1 &&
			  rs->hosts[0]->code != PROTO_E_NONE,
		      "the host with a stuck known_hosts: %s",
		      proto_code_name(rs->hosts[0]->code));
	ck_assert_msg(strstr(rs->hosts[0]->message, "host key") != NULL ||
			  strstr(rs->hosts[0]->message, "known_hosts") != NULL,
		      "the error does not name the host key step: %s",
		      rs->hosts[0]->message);
	ck_assert_msg(stuck_ms <= FT_MS(FT_DNS_TIMEOUT_MS + 1000),
		      "the stuck host ended after %lld ms", stuck_ms);
	if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
		tdaemon_dump_log(&daemon_);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "sshpoold did not exit cleanly on SIGTERM: status 0x%x",
		      st);
	ck_assert_msg(stop_ms <= FT_MS(FT_DNS_STOP_MS),
		      "SIGTERM to exit took %lld ms", stop_ms);
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	tdaemon_cleanup(&daemon_);
	unlink(fifo);
}
END_TEST

static Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	struct {
		const char *name;
		const TTest *test;
		int timeout_s;
	} tests[] = {
	    {"keepalive_stall", test_keepalive_stall, FT_TIMEOUT_S},
	    {"kill_session", test_kill_session, FT_TIMEOUT_S},
	    {"restart_instance", test_restart_instance, FT_TIMEOUT_S},
	    {"connect_errors", test_connect_errors, FT_TIMEOUT_S},
	    {"stop_commands", test_stop_commands, FT_TIMEOUT_S},
	    {"client_gone", test_client_gone, FT_TIMEOUT_S},
	    {"hostile_request", test_hostile_request, FT_HOSTILE_TIMEOUT_S},
	    {"lost_not_failed", test_lost_not_failed, FT_TIMEOUT_S},
	    {"auth_cut", test_auth_cut, FT_TIMEOUT_S},
	    {"refused_alone", test_refused_alone, FT_TIMEOUT_S},
	    {"server_closes", test_server_closes, FT_TIMEOUT_S},
	    {"disconnect_message", test_disconnect_message, FT_TIMEOUT_S},
	    {"idle_timeout", test_idle_timeout, FT_TIMEOUT_S},
	    {"idle_forgets_dead", test_idle_forgets_dead, FT_TIMEOUT_S},
	    {"session_cap", test_session_cap, FT_TIMEOUT_S},
	    {"soak", test_soak, FT_SOAK_TIMEOUT_S},
	    {"dead_resolver", test_dead_resolver, FT_TIMEOUT_S},
	    {"resolve_queue_full", test_resolve_queue_full, FT_TIMEOUT_S},
	    {"hostkey_stuck", test_hostkey_stuck, FT_TIMEOUT_S},
	};
	size_t i;

	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);

		tcase_set_timeout(tc, tests[i].timeout_s * tclient_slowdown());
		tcase_add_test(tc, tests[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return testutil_run(faults_suite());
}
