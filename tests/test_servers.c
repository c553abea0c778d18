/* SPDX-License-Identifier: ISC */
/*
 * sshpoold against SSH servers other than OpenSSH.  TinySSH (Debian's
 * tinysshd, run per connection by tcpserver from ucspi-tcp; started by
 * `fleet.sh tinyssh-start`, as root or through sudo -n) answers the
 * keepalive@openssh.com request with SSH_MSG_UNIMPLEMENTED, which libssh
 * 0.10 takes for no answer: its request stays pending and later
 * ssh_send_keepalive() calls send nothing.
 *
 * Dropbear (dropbear-bin, `fleet.sh dropbear-start`) runs a command and
 * keeps an idle session.
 *
 * The test program exits 77 (CTest: skipped) only when tinysshd, dropbear
 * or tcpserver is not installed; scripts/deps.sh installs them.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tclient.h"
#include "tcollect.h"
#include "tstatus.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

#define TS_SKIP 77
#define TS_TINYSSHD "/usr/sbin/tinysshd"
#define TS_DROPBEAR "/usr/sbin/dropbear"
#define TS_EVENT_MS tclient_scaled_ms(15000)
#define TS_POLL_MS 50
#define TS_OUT_KEEP 63 /* stdout bytes kept */
/* Idle: a short interval, dead after two silent ones. */
#define TS_IDLE_ALIVE_MS 300
#define TS_IDLE_CONF "ServerAliveInterval 300ms\nServerAliveCountMax 2\n"
#define TS_IDLE_WAIT_MS 4000 /* more than 13 intervals */
/*
 * Busy: output every 1.6 s on a 1 s interval.  A keepalive that was not
 * sent, timed against the next output, would read as 350 ms or more; a
 * real answer on loopback comes in a few.
 */
#define TS_BUSY_CONF "ServerAliveInterval 1s\nServerAliveCountMax 3\n"
#define TS_BUSY_CMD "for i in 1 2 3; do sleep 1.6; echo x; done"
#define TS_RTT_MAX_MS 250

static struct tfleet fleet;
static struct tdaemon daemon_;
static char errbuf[2048];
static char tiny_dir[PATH_MAX];
static char tiny_host[160];
static char dropbear_host[160];

void
testutil_failed(void)
{
	static int failing;

	if (failing++ == 0 && daemon_.pid > 0)
		tdaemon_dump_log(&daemon_);
}

/* Run fleet.sh with the arguments given, as root (sudo -n otherwise). */
static int
fleet_sh(const char *args)
{
	const char *src = getenv("SSHPOOL_FLEET_SH");
	char cmd[PATH_MAX * 3];

	if (src == NULL)
		return -1;
	if (snprintf(cmd, sizeof cmd, "%sbash '%s' %s",
		     geteuid() == 0 ? "" : "sudo -n ", src,
		     args) >= (int)sizeof cmd)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

/* The value of PREFIX NAME='value' in line, into out. */
static void
env_value(const char *line, const char *prefix, const char *name, char *out,
	  size_t outlen)
{
	size_t lp = strlen(prefix), ln = strlen(name), n;
	const char *v, *e;

	if (strncmp(line, prefix, lp) != 0 ||
	    strncmp(line + lp, name, ln) != 0 ||
	    strncmp(line + lp + ln, "='", 2) != 0)
		return;
	v = line + lp + ln + 2;
	if ((e = strchr(v, '\'')) == NULL || (n = (size_t)(e - v)) >= outlen)
		return;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* Start a host with fleet.sh KIND-start; host gets "user@127.0.0.1:port". */
static void
srv_start(const char *kind, const char *prefix, char *host, size_t hostlen)
{
	char args[PATH_MAX * 3], path[PATH_MAX + 16], line[256];
	char user[64] = "", port[16] = "";
	FILE *fp;

	snprintf(args, sizeof args, "%s-start '%s' '%s.pub'", kind, tiny_dir,
		 fleet.key);
	ck_assert_msg(fleet_sh(args) == 0, "fleet.sh %s failed", args);
	snprintf(path, sizeof path, "%s/%s.env", tiny_dir, kind);
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, fp) != NULL) {
		env_value(line, prefix, "_USER", user, sizeof user);
		env_value(line, prefix, "_PORT", port, sizeof port);
	}
	fclose(fp);
	ck_assert_msg(user[0] != '\0' && port[0] != '\0', "bad %s", path);
	snprintf(host, hostlen, "%s@127.0.0.1:%s", user, port);
}

static void
srv_stop(const char *kind)
{
	char args[PATH_MAX + 32];

	snprintf(args, sizeof args, "%s-stop '%s'", kind, tiny_dir);
	fleet_sh(args);
}

static struct tclient *
ts_begin(const char *conf)
{
	struct tdaemon_opts o = {.strict = "accept-new", .extra = conf};
	struct tclient *c;

	ck_assert_msg(
	    tdaemon_prepare(&daemon_, &fleet, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
	ck_assert_msg(
	    tdaemon_start(&daemon_, &fleet, &o, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
	c = tclient_connect(daemon_.sock);
	ck_assert_msg(c != NULL, "connect %s: %s", daemon_.sock,
		      strerror(errno));
	return c;
}

static void
ts_end(struct tclient *c, struct tcollect *k)
{
	tcollect_check(k);
	tcollect_free(k);
	tclient_close(c);
	ck_assert_msg(tdaemon_stop(&daemon_) == 0, "daemon exit not clean");
	tdaemon_cleanup(&daemon_);
}

static json_object *
ts_status(struct tclient *c, struct tcollect *k, const char *id)
{
	json_object *root;

	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"%s\",\"op\":\"status\"}",
			       id) == 0);
	tcollect_wait_status(c, k, NULL, TS_EVENT_MS);
	root = json_tokener_parse(k->status);
	ck_assert_msg(root != NULL, "status is not JSON: %.200s", k->status);
	return root;
}

/* Read events for ms milliseconds. */
static void
ts_idle(struct tclient *c, struct tcollect *k, int ms)
{
	long long end = testutil_now_ms() + ms;

	while (testutil_now_ms() < end)
		tcollect_poll(c, k, TS_POLL_MS);
}

static struct tcollect_req *
ts_request(struct tclient *c, struct tcollect *k, const char *host,
	   const char *id, const char *command)
{
	const char *hosts[1] = {host};
	char jid[40];
	struct tcollect_req *r;

	snprintf(jid, sizeof jid, "\"%s\"", id);
	tcollect_expect(k, jid, hosts, 1);
	if (command == NULL)
		ck_assert(tclient_send(c,
				       "{\"v\":1,\"id\":\"%s\",\"op\":"
				       "\"connect\",\"hosts\":[\"%s\"]}",
				       id, host) == 0);
	else
		ck_assert(tclient_send(c,
				       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
				       "\"hosts\":[\"%s\"],\"command\":\"%s\"}",
				       id, host, command) == 0);
	r = tcollect_wait_end(c, k, jid, TS_EVENT_MS);
	ck_assert_msg(!r->reqerr && r->done.ok == 1,
		      "%s on %s: ok %zu, %s (%s)", id, host, r->done.ok,
		      proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	return r;
}

/* A run with more request members (",\"env\":{...}"); no check of its
 * outcome. */
static struct tcollect_req *
ts_run(struct tclient *c, struct tcollect *k, const char *host, const char *id,
       const char *command, const char *more)
{
	const char *hosts[1] = {host};
	char jid[40];

	snprintf(jid, sizeof jid, "\"%s\"", id);
	tcollect_expect(k, jid, hosts, 1);
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
			       "\"hosts\":[\"%s\"],\"command\":\"%s\"%s}",
			       id, host, command, more) == 0);
	return tcollect_wait_end(c, k, jid, TS_EVENT_MS);
}

/* A server's missing feature is told without naming another server's
 * settings. */
static void
ts_assert_neutral(const char *message)
{
	ck_assert_msg(strstr(message, "sshd_config") == NULL &&
			  strstr(message, "AcceptEnv") == NULL &&
			  strstr(message, "OpenSSH") == NULL,
		      "message names OpenSSH settings: %s", message);
}

/*
 * A pooled TinySSH session left idle for many keepalive intervals stays
 * up: every keepalive gets an answer, none is taken for a loss.
 */
START_TEST(test_tinyssh_idle_keepalive)
{
	struct tcollect k;
	struct tclient *c;
	json_object *st, *h;
	long long lost, connects, rtt;

	tcollect_init(&k);
	c = ts_begin(TS_IDLE_CONF);
	ts_request(c, &k, tiny_host, "up", NULL);
	ts_idle(c, &k, tclient_scaled_ms(TS_IDLE_WAIT_MS));
	st = ts_status(c, &k, "st");
	h = tstatus_host(st, tiny_host);
	ck_assert_msg(h != NULL, "status lacks %s", tiny_host);
	lost = tstatus_int(h, "lost");
	connects = tstatus_int(h, "connects");
	rtt = tstatus_int(h, "rtt_ms");
	fprintf(stderr,
		"SERVERS: tinyssh idle %d ms at ServerAliveInterval %d ms: "
		"connects %lld lost %lld rtt_ms %lld\n",
		TS_IDLE_WAIT_MS, TS_IDLE_ALIVE_MS, connects, lost, rtt);
	ck_assert_msg(lost == 0 && connects == 1,
		      "idle TinySSH session: connects %lld lost %lld", connects,
		      lost);
	ck_assert_str_eq(tstatus_str(h, "state"), "up");
	ck_assert_msg(rtt >= 0 && rtt < TS_RTT_MAX_MS, "rtt_ms %lld", rtt);
	json_object_put(st);
	ts_end(c, &k);
}
END_TEST

/*
 * Output now and then on a TinySSH session: the round trip time comes from
 * keepalives that were sent and answered, never from one libssh did not
 * send, timed against the next output.
 */
START_TEST(test_tinyssh_rtt_sent_only)
{
	struct tcollect k;
	struct tclient *c;
	json_object *st, *h;
	long long rtt;

	tcollect_init(&k);
	c = ts_begin(TS_BUSY_CONF);
	ts_request(c, &k, tiny_host, "busy", TS_BUSY_CMD);
	st = ts_status(c, &k, "st");
	h = tstatus_host(st, tiny_host);
	ck_assert_msg(h != NULL, "status lacks %s", tiny_host);
	rtt = tstatus_int(h, "rtt_ms");
	fprintf(stderr, "SERVERS: tinyssh output every 1.6 s: rtt_ms %lld\n",
		rtt);
	ck_assert_msg(rtt < TS_RTT_MAX_MS,
		      "rtt_ms %lld: a keepalive that was not sent", rtt);
	json_object_put(st);
	ts_end(c, &k);
}
END_TEST

/*
 * Dropbear: a command runs, and an idle pooled session stays up across
 * keepalives (Dropbear answers keepalive@openssh.com with
 * SSH_MSG_REQUEST_FAILURE).
 */
START_TEST(test_dropbear_command)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_req *r;
	json_object *st, *h;

	tcollect_init(&k);
	k.keep = TS_OUT_KEEP;
	c = ts_begin(TS_IDLE_CONF);
	r = ts_request(c, &k, dropbear_host, "cmd", "echo hi");
	ck_assert_msg(r->hosts[0]->exited && r->hosts[0]->status == 0 &&
			  strcmp(r->hosts[0]->out, "hi\n") == 0,
		      "exit %d out '%s'", r->hosts[0]->status,
		      r->hosts[0]->out);
	ts_idle(c, &k, tclient_scaled_ms(TS_IDLE_WAIT_MS / 2));
	st = ts_status(c, &k, "st");
	h = tstatus_host(st, dropbear_host);
	ck_assert_msg(h != NULL, "status lacks %s", dropbear_host);
	fprintf(stderr,
		"SERVERS: dropbear idle %d ms: connects %lld lost %lld "
		"rtt_ms %lld\n",
		TS_IDLE_WAIT_MS / 2, tstatus_int(h, "connects"),
		tstatus_int(h, "lost"), tstatus_int(h, "rtt_ms"));
	ck_assert_msg(tstatus_int(h, "lost") == 0 &&
			  tstatus_int(h, "connects") == 1,
		      "idle Dropbear session: connects %lld lost %lld",
		      tstatus_int(h, "connects"), tstatus_int(h, "lost"));
	json_object_put(st);
	ts_end(c, &k);
}
END_TEST

/*
 * Dropbear accepts no environment variables: the command does not run,
 * and the error names the variable and says the server refused it.  The
 * pooled session stays usable.
 */
START_TEST(test_dropbear_env)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_req *r;

	tcollect_init(&k);
	k.keep = TS_OUT_KEEP;
	c = ts_begin(TS_IDLE_CONF);
	r = ts_run(c, &k, dropbear_host, "env", "echo ran $TS_VAR",
		   ",\"env\":{\"TS_VAR\":\"x\"}");
	fprintf(stderr, "SERVERS: dropbear env: %s: %s\n",
		proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	ck_assert_msg(r->done.ok == 0 &&
			  r->hosts[0]->code == PROTO_E_CHANNEL_FAILED &&
			  strstr(r->hosts[0]->message, "TS_VAR") != NULL &&
			  strstr(r->hosts[0]->message, "refused") != NULL,
		      "env on Dropbear: ok %zu, %s (%s)", r->done.ok,
		      proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	ts_assert_neutral(r->hosts[0]->message);
	ck_assert_msg(strstr(r->hosts[0]->out, "ran") == NULL,
		      "the command ran: '%s'", r->hosts[0]->out);
	r = ts_request(c, &k, dropbear_host, "after", "echo after");
	ck_assert_str_eq(r->hosts[0]->out, "after\n");
	ts_end(c, &k);
}
END_TEST

/*
 * TinySSH takes no signal requests: a command past its timeout ends for
 * the client at the timeout all the same (the channel is closed after
 * StopGraceTime), the message is the timeout's, and the host serves the
 * next command.
 */
START_TEST(test_tinyssh_timeout)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_req *r;
	long long t0, took;

	tcollect_init(&k);
	k.keep = TS_OUT_KEEP;
	c = ts_begin(TS_IDLE_CONF "StopGraceTime 200ms\n");
	ts_request(c, &k, tiny_host, "up", NULL);
	t0 = testutil_now_ms();
	r = ts_run(c, &k, tiny_host, "slow", "sleep 3", ",\"timeout\":0.3");
	took = testutil_now_ms() - t0;
	fprintf(stderr,
		"SERVERS: tinyssh timeout 300 ms: ended after %lld "
		"ms: %s: %s\n",
		took, proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	ck_assert_msg(r->hosts[0]->code == PROTO_E_TIMEOUT,
		      "sleep 3 with timeout 300 ms: %s (%s)",
		      proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	ck_assert_msg(took < tclient_scaled_ms(2500),
		      "the timeout was told after %lld ms", took);
	ts_assert_neutral(r->hosts[0]->message);
	r = ts_request(c, &k, tiny_host, "after", "echo after");
	ck_assert_str_eq(r->hosts[0]->out, "after\n");
	ts_end(c, &k);
}
END_TEST

static void
setup(void)
{
	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	srv_start("tinyssh", "TINYSSH", tiny_host, sizeof tiny_host);
}

static void
teardown(void)
{
	srv_stop("tinyssh");
}

static void
setup_dropbear(void)
{
	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	srv_start("dropbear", "DROPBEAR", dropbear_host, sizeof dropbear_host);
}

static void
teardown_dropbear(void)
{
	srv_stop("dropbear");
}

static int
have_servers(void)
{
	if (access(TS_TINYSSHD, X_OK) == 0 && access(TS_DROPBEAR, X_OK) == 0 &&
	    system("command -v tcpserver >/dev/null 2>&1") == 0)
		return 1;
	fprintf(stderr,
		"test_servers: %s or tcpserver is missing "
		"(Debian: tinysshd ucspi-tcp): skipped\n",
		TS_TINYSSHD);
	return 0;
}

int
main(void)
{
	const char *dir = getenv("SSHPOOL_TINYSSH_DIR");
	Suite *s;
	TCase *tc;

	if (!have_servers())
		return TS_SKIP;
	if (dir == NULL || strlen(dir) >= sizeof tiny_dir) {
		fprintf(stderr, "SSHPOOL_TINYSSH_DIR unset or too long\n");
		return EXIT_FAILURE;
	}
	strcpy(tiny_dir, dir);
	s = suite_create("servers");
	tc = tcase_create("tinyssh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tinyssh_idle_keepalive);
	tcase_add_test(tc, test_tinyssh_rtt_sent_only);
	tcase_add_test(tc, test_tinyssh_timeout);
	suite_add_tcase(s, tc);
	tc = tcase_create("dropbear");
	tcase_add_checked_fixture(tc, setup_dropbear, teardown_dropbear);
	tcase_add_test(tc, test_dropbear_command);
	tcase_add_test(tc, test_dropbear_env);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
