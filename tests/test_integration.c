/* SPDX-License-Identifier: ISC */
/*
 * Integration tests of sshpoold against a real OpenSSH fleet on loopback
 * (tests/fleet/fleet.sh, started by the CTest fixture "fleet").  Each test
 * starts its own daemon in a fresh directory, talks the raw protocol to it
 * through tclient, checks the events against the wire format's rules (per
 * host: start, output, exactly one terminal event; one done per request)
 * and stops the daemon, which must then exit with status 0.
 *
 * With SSHPOOL_TEST_SLOWDOWN above 1 (the daemon runs under valgrind, see
 * tclient.h) every deadline is stretched by that factor, the big transfers
 * shrink to IT_BIG_BYTES_SLOW, and the assertions that only hold for a
 * daemon at full speed (memory bounds, a warm run beating a cold one) are
 * left out; every other assertion stays.
 */
#include <sys/wait.h>

#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tclient.h"
#include "tcollect.h"
#include "tstatus.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

/* A deadline of ms milliseconds at full speed. */
#define IT_MS(ms) tclient_scaled_ms(ms)
#define IT_TIMEOUT_S 60             /* Check timeout of one test */
#define IT_EVENT_MS IT_MS(15000)    /* longest wait for a single event */
#define IT_STORE_MAX (1024u * 1024) /* output bytes kept per host */
#define IT_MAX_RESULTS 256
#define IT_MAX_DONE 128
#define IT_BIG_BYTES 100000000LL
#define IT_BIG_BYTES_SLOW 10000000LL /* when slowed down */
#define IT_RSS_SAMPLE_MS 50
#define IT_SLOW_MS 3000 /* slow reading phase of the slow reader */
#define IT_SLOW_SLEEP_US (50 * 1000)
#define IT_SLOW_READ 16384
#define IT_FAST_FAIL_MS 2000      /* connection refused must be this fast */
#define IT_CANCEL_MS 5000         /* a cancel must end the request by then */
#define IT_KILL_GRACE_MS 2000     /* the daemon's TERM-to-KILL grace */
#define IT_DEFAULT_CHANNELS 8     /* MaxChannelsPerSession default */
#define IT_SERVER_MAX_SESSIONS 10 /* MaxSessions of the fleet's sshd */

#if defined(__SANITIZE_ADDRESS__)
#define IT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IT_ASAN 1
#endif
#endif
#ifdef IT_ASAN
/* ASan's shadow memory and quarantine dwarf the daemon's own buffers. */
#define IT_RSS_LIMIT_KB (512L * 1024)
#else
#define IT_RSS_LIMIT_KB (64L * 1024)
#endif

static struct tfleet fleet;
static struct tdaemon daemon_;
static char errbuf[2048];

/* ---- helpers ---- */

/* The daemon's RSS sampled, and reading slowed, while events are read. */
struct it_reader {
	pid_t rss_pid;
	long rss_peak_kb;
	long long rss_next;
	long long slow_until; /* sleep after each event until this time */
};

static void
it_on_event(struct tcollect *k, struct tclient *c, void *arg)
{
	struct it_reader *rd = arg;
	long long now;
	long rss;

	(void)k;
	if (rd->rss_pid > 0 && (now = testutil_now_ms()) >= rd->rss_next) {
		rss = tdaemon_rss_kb(rd->rss_pid);
		if (rss > rd->rss_peak_kb)
			rd->rss_peak_kb = rss;
		rd->rss_next = now + IT_RSS_SAMPLE_MS;
	}
	if (rd->slow_until > 0) {
		if (testutil_now_ms() < rd->slow_until) {
			usleep(IT_SLOW_SLEEP_US);
		} else {
			rd->slow_until = 0;
			tclient_set_read_size(c, 0);
		}
	}
}

/* A collector that keeps IT_STORE_MAX output bytes when store is set. */
static void
coll_init(struct tcollect *k, int store)
{
	tcollect_init(k);
	k->keep = store ? IT_STORE_MAX : 0;
	k->event_ms = IT_EVENT_MS;
}

/* JSON string body of s (no quotes), escaped. */
static char *
json_str(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n * 6 + 1);

	ck_assert_ptr_nonnull(out);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)sprintf(out + o, "\\u%04x", ch);
		} else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
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

static void
send_run(struct tclient *c, const char *id, const char *hosts,
	 const char *command, const char *more)
{
	char *cmd = json_str(command);

	ck_assert_msg(
	    tclient_send(c,
			 "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":%s,"
			 "\"command\":\"%s\"%s}",
			 id, hosts, cmd, more ? more : "") == 0,
	    "send: %s", tclient_error(c));
	free(cmd);
}

/* The daemon runs slowed down (under valgrind): see the top of the file. */
static int
it_slowed(void)
{
	return tclient_slowdown() > 1;
}

/* Kill the daemon of a failed test and show its log; keep its files. */
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
it_prepare(void)
{
	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ck_assert_msg(
	    tdaemon_prepare(&daemon_, &fleet, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
}

static void
it_launch(const struct tdaemon_opts *o)
{
	ck_assert_msg(
	    tdaemon_start(&daemon_, &fleet, o, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
}

static void
it_begin(const struct tdaemon_opts *o)
{
	it_prepare();
	it_launch(o);
}

static struct tclient *
it_connect(void)
{
	struct tclient *c = tclient_connect(daemon_.sock);

	ck_assert_msg(c != NULL, "connect %s failed", daemon_.sock);
	return c;
}

/* Stop the daemon, which must exit on its own with status 0. */
static void
it_halt(void)
{
	int st = tdaemon_stop(&daemon_);

	if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
		tdaemon_dump_log(&daemon_);
	ck_assert_msg(
	    st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "sshpoold did not exit cleanly on SIGTERM: status 0x%x%s%s", st,
	    tclient_wrapper() ? "; it ran under " : "",
	    tclient_wrapper() ? tclient_wrapper() : "");
}

static void
it_end(void)
{
	it_halt();
	tdaemon_cleanup(&daemon_);
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

static void
assert_ok_exit(const struct tcollect_host *h, int status)
{
	ck_assert_msg(h->terminals == 1, "%s: %d terminal events", h->host,
		      h->terminals);
	ck_assert_msg(h->exited, "%s: error %s (%s) instead of exit", h->host,
		      proto_code_name(h->code), h->message);
	ck_assert_msg(h->status == status && h->signal[0] == '\0',
		      "%s: exit status %d signal '%s', expected %d", h->host,
		      h->status, h->signal, status);
	ck_assert_msg(h->starts == 1, "%s: %d starts", h->host, h->starts);
}

static void
assert_error(const struct tcollect_host *h, enum proto_code code)
{
	ck_assert_msg(h != NULL, "no result");
	ck_assert_msg(h->terminals == 1, "%s: %d terminal events", h->host,
		      h->terminals);
	ck_assert_msg(!h->exited && !h->connected && h->code == code,
		      "%s: expected error %s, got %s%s (%s)", h->host,
		      proto_code_name(code), h->exited ? "exit " : "",
		      h->exited ? "" : proto_code_name(h->code), h->message);
}

static void
assert_done(const struct tcollect_req *d, size_t hosts, size_t ok,
	    size_t failed, size_t errors)
{
	ck_assert_msg(!d->reqerr, "request %s failed: %s (%s)", d->id,
		      proto_code_name(d->code), d->message);
	ck_assert_msg(d->ends == 1, "%d done events", d->ends);
	ck_assert_msg(
	    d->done.hosts == hosts && d->done.ok == ok &&
		d->done.failed == failed && d->done.errors == errors,
	    "done %s: hosts %zu ok %zu failed %zu errors %zu, expected "
	    "%zu/%zu/%zu/%zu",
	    d->id, d->done.hosts, d->done.ok, d->done.failed, d->done.errors,
	    hosts, ok, failed, errors);
	ck_assert_msg(d->done.duration_ms >= 0, "done without duration");
}

static json_object *
get_status(struct tclient *c, struct tcollect *k, const char *id)
{
	json_object *root;

	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"%s\",\"op\":\"status\"}",
			       id) == 0);
	tcollect_wait_status(c, k, q(id), IT_EVENT_MS);
	root = json_tokener_parse(k->status);
	ck_assert_msg(root != NULL, "status is not JSON: %.200s", k->status);
	return root;
}

/* Rewrite the daemon's known_hosts without the lines of one address. */
static void
kh_drop(const char *addr)
{
	char prefix[64], *line = NULL, tmp[PATH_MAX + 8];
	size_t cap = 0;
	FILE *in, *out;
	int dropped = 0;

	snprintf(prefix, sizeof prefix, "[%s]:%d ", addr, fleet.port);
	snprintf(tmp, sizeof tmp, "%s.new", daemon_.known_hosts);
	ck_assert_ptr_nonnull(in = fopen(daemon_.known_hosts, "r"));
	ck_assert_ptr_nonnull(out = fopen(tmp, "w"));
	while (getline(&line, &cap, in) != -1) {
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			dropped++;
		else
			fputs(line, out);
	}
	free(line);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_msg(dropped > 0, "no known_hosts line for %s", prefix);
	ck_assert_int_eq(rename(tmp, daemon_.known_hosts), 0);
}

/* Lines of the daemon's known_hosts that name this fleet address. */
static int
kh_count(const char *addr)
{
	return tstatus_known_hosts(daemon_.known_hosts, addr, fleet.port);
}

/* Append "[addr]:port type blob" for each unrelated host key. */
static void
kh_add_wrong(const char *addr)
{
	char *line = NULL, *sp;
	size_t cap = 0;
	FILE *out, *in;
	int i;

	ck_assert_ptr_nonnull(out = fopen(daemon_.known_hosts, "a"));
	for (i = 0; i < 3; i++) {
		ck_assert_msg(fleet.wrong_hostkeys[i][0] != '\0',
			      "fleet without unrelated host keys");
		ck_assert_ptr_nonnull(in = fopen(fleet.wrong_hostkeys[i], "r"));
		ck_assert(getline(&line, &cap, in) > 0);
		fclose(in);
		/* keep "type blob", drop the comment */
		if ((sp = strchr(line, ' ')) != NULL &&
		    (sp = strchr(sp + 1, ' ')) != NULL)
			*sp = '\0';
		line[strcspn(line, "\n")] = '\0';
		fprintf(out, "[%s]:%d %s\n", addr, fleet.port, line);
	}
	free(line);
	ck_assert_int_eq(fclose(out), 0);
}

/* ---- tests ---- */

START_TEST(test_hello)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	ck_assert(tclient_send(
		      c, "{\"v\":1,\"id\":1,\"op\":\"hello\","
			 "\"versions\":[1],\"client\":\"test_integration\"}") ==
		  0);
	while (k.hellos == 0)
		tcollect_read(c, &k, IT_EVENT_MS);
	ck_assert_str_eq(k.hello.id, "1");
	ck_assert_int_eq(k.hello.version, 1);
	ck_assert_uint_eq(k.hello.limits.max_line, PROTO_DEFAULT_MAX_LINE);
	ck_assert_uint_eq(k.hello.limits.max_hosts, PROTO_DEFAULT_MAX_HOSTS);
	ck_assert_uint_eq(k.hello.limits.max_stdin, PROTO_DEFAULT_MAX_STDIN);

	/* A client that only speaks version 2 is told so. */
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":2,\"op\":\"hello\","
				  "\"versions\":[2]}") == 0);
	d = tcollect_wait_end(c, &k, "2", IT_EVENT_MS);
	ck_assert_msg(d->reqerr && d->code == PROTO_E_UNSUPPORTED_VERSION,
		      "hello versions [2]: %s", proto_code_name(d->code));
	ck_assert(tclient_send(c, "{\"v\":2,\"id\":3,\"op\":\"status\"}") == 0);
	d = tcollect_wait_end(c, &k, "3", IT_EVENT_MS);
	ck_assert_msg(d->reqerr && d->code == PROTO_E_UNSUPPORTED_VERSION,
		      "v 2: %s", proto_code_name(d->code));
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_run_one_host)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	char *hosts, want[128];

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	send_run(c, "one", hosts,
		 "echo out $SSH_CONNECTION; echo err >&2; exit 3", NULL);
	d = tcollect_wait_end(c, &k, q("one"), IT_EVENT_MS);
	assert_done(d, 1, 0, 1, 0);
	tcollect_check(&k);
	h = tcollect_host(&k, q("one"), fleet.hosts[0]);
	ck_assert_msg(h != NULL, "no events for %s", fleet.hosts[0]);
	assert_ok_exit(h, 3);
	ck_assert_msg(h->duration_ms >= 0, "exit without duration");
	/* $SSH_CONNECTION = client addr, client port, server addr, port */
	snprintf(want, sizeof want, " %s %d\n", fleet.addrs[0], fleet.port);
	ck_assert_msg(h->outlen > 4 && memcmp(h->out, "out ", 4) == 0 &&
			  h->outlen > strlen(want) &&
			  memcmp(h->out + h->outlen - strlen(want), want,
				 strlen(want)) == 0,
		      "stdout '%.*s' does not end with '%s'", (int)h->outlen,
		      h->out, want);
	ck_assert_msg(h->errlen == 4 && memcmp(h->err, "err\n", 4) == 0,
		      "stderr '%.*s'", (int)h->errlen, h->err);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_run_50_hosts)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	char *hosts, want[64];
	size_t i, ok = 0, failed = 0;
	int octet;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 50);
	/* Output and status depend on the address the host was reached at. */
	send_run(c, "fifty", hosts,
		 "a=$(echo $SSH_CONNECTION | cut -d' ' -f3); echo $a; "
		 "echo e$a >&2; exit $((${a##*.} % 4))",
		 NULL);
	d = tcollect_wait_end(c, &k, q("fifty"), IT_MS(60000));
	tcollect_check(&k);
	for (i = 0; i < 50; i++) {
		h = tcollect_host(&k, q("fifty"), fleet.hosts[i]);
		ck_assert_msg(h != NULL, "no events for %s", fleet.hosts[i]);
		octet = atoi(strrchr(fleet.addrs[i], '.') + 1);
		assert_ok_exit(h, octet % 4);
		if (octet % 4 == 0)
			ok++;
		else
			failed++;
		snprintf(want, sizeof want, "%s\n", fleet.addrs[i]);
		ck_assert_msg(h->outlen == strlen(want) &&
				  memcmp(h->out, want, h->outlen) == 0,
			      "%s: stdout '%.*s'", h->host, (int)h->outlen,
			      h->out);
		snprintf(want, sizeof want, "e%s\n", fleet.addrs[i]);
		ck_assert_msg(h->errlen == strlen(want) &&
				  memcmp(h->err, want, h->errlen) == 0,
			      "%s: stderr '%.*s'", h->host, (int)h->errlen,
			      h->err);
	}
	ck_assert_uint_eq(k.nhosts, 50);
	assert_done(d, 50, ok, failed, 0);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_binary_output)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	char fmt[256 * 4 + 1], cmd[sizeof fmt * 3 + 64], *hosts;
	unsigned char want[512];
	int i;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	for (i = 0; i < 256; i++) {
		snprintf(fmt + i * 4, 5, "\\%03o", i);
		want[i] = want[256 + i] = (unsigned char)i;
	}
	snprintf(cmd, sizeof cmd, "printf '%s%s'; printf '%s' >&2", fmt, fmt,
		 fmt);
	hosts = hosts_json(0, 2);
	send_run(c, "bin", hosts, cmd, NULL);
	d = tcollect_wait_end(c, &k, q("bin"), IT_EVENT_MS);
	assert_done(d, 2, 2, 0, 0);
	tcollect_check(&k);
	for (i = 0; i < 2; i++) {
		h = tcollect_host(&k, q("bin"), fleet.hosts[i]);
		ck_assert_ptr_nonnull(h);
		assert_ok_exit(h, 0);
		ck_assert_uint_eq(h->outlen, 512);
		ck_assert_msg(memcmp(h->out, want, 512) == 0,
			      "stdout bytes differ");
		ck_assert_uint_eq(h->errlen, 256);
		ck_assert_msg(memcmp(h->err, want, 256) == 0,
			      "stderr bytes differ");
	}
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_env_stdin)
{
	static const char input[] = "line one\nline two\n";
	char b64[64], *hosts;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	/* AcceptEnv * on the fleet lets the variable through. */
	send_run(c, "env", hosts, "echo \"[$SSHPOOL_TEST_VAR]\"",
		 ",\"env\":{\"SSHPOOL_TEST_VAR\":\"a b\"}");
	d = tcollect_wait_end(c, &k, q("env"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	h = tcollect_host(&k, q("env"), fleet.hosts[0]);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(h->outlen == 6 && memcmp(h->out, "[a b]\n", 6) == 0,
		      "env: stdout '%.*s'", (int)h->outlen, h->out);

	proto_b64_encode(b64, (const unsigned char *)input, strlen(input));
	snprintf(errbuf, sizeof errbuf, ",\"stdin\":\"%s\"", b64);
	send_run(c, "stdin", hosts, "cat; echo end", errbuf);
	d = tcollect_wait_end(c, &k, q("stdin"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	h = tcollect_host(&k, q("stdin"), fleet.hosts[0]);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(h->outlen == strlen(input) + 4 &&
			  memcmp(h->out, input, strlen(input)) == 0 &&
			  memcmp(h->out + strlen(input), "end\n", 4) == 0,
		      "stdin: stdout '%.*s'", (int)h->outlen, h->out);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/*
 * 100 MB through one channel; the daemon's memory must not follow.  Slowed
 * down, 10 MB, and the memory is the wrapper's as much as the daemon's: not
 * bounded then.
 */
static void
big_output(int slow)
{
	const long long bytes = it_slowed() ? IT_BIG_BYTES_SLOW : IT_BIG_BYTES;
	struct tclient *c;
	struct it_reader rd = {0};
	struct tcollect *k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	char *hosts, cmd[64];
	long long t0;

	it_begin(NULL);
	c = it_connect();
	k = malloc(sizeof *k);
	ck_assert_ptr_nonnull(k);
	coll_init(k, 0);
	rd.rss_pid = daemon_.pid;
	k->on_event = it_on_event;
	k->arg = &rd;
	hosts = hosts_json(0, 1);
	snprintf(cmd, sizeof cmd, "head -c %lld /dev/zero", bytes);
	t0 = testutil_now_ms();
	if (slow) {
		rd.slow_until = t0 + IT_SLOW_MS;
		tclient_set_read_size(c, IT_SLOW_READ);
	}
	send_run(c, "big", hosts, cmd, NULL);
	d = tcollect_wait_end(c, k, q("big"), IT_MS(45000));
	printf("%s: %lld bytes in %lld ms, sshpoold peak RSS %ld KiB "
	       "(limit %ld)\n",
	       slow ? "slow reader" : "fast reader", bytes,
	       testutil_now_ms() - t0, rd.rss_peak_kb, IT_RSS_LIMIT_KB);
	fflush(stdout);
	assert_done(d, 1, 1, 0, 0);
	tcollect_check(k);
	h = tcollect_host(k, q("big"), fleet.hosts[0]);
	ck_assert_ptr_nonnull(h);
	assert_ok_exit(h, 0);
	ck_assert_msg(h->outbytes == (size_t)bytes, "got %zu bytes of %lld",
		      h->outbytes, bytes);
	ck_assert_uint_eq(h->errbytes, 0);
	ck_assert_msg(rd.rss_peak_kb > 0, "RSS never sampled");
	if (!it_slowed())
		ck_assert_msg(rd.rss_peak_kb < IT_RSS_LIMIT_KB,
			      "sshpoold RSS peaked at %ld KiB (limit %ld KiB)",
			      rd.rss_peak_kb, IT_RSS_LIMIT_KB);
	free(hosts);
	tcollect_free(k);
	free(k);
	tclient_close(c);
	it_end();
}

START_TEST(test_big_output_fast)
{
	big_output(0);
}
END_TEST

START_TEST(test_big_output_slow_reader)
{
	big_output(1);
}
END_TEST

/* 30 commands at once on one host whose sshd allows 10 sessions per
 * connection: refused channel opens must be retried, never reported. */
static void
many_channels(int max_channels)
{
	struct tdaemon_opts o = {.max_channels = max_channels};
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	json_object *st, *sh;
	char *hosts, id[16], cmd[64], want[16];
	long long t0, sessions, chmax;
	int i, cap;

	it_begin(&o);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	t0 = testutil_now_ms();
	for (i = 0; i < 30; i++) {
		snprintf(id, sizeof id, "c%d", i);
		snprintf(cmd, sizeof cmd, "sleep 0.5; echo %d", i);
		send_run(c, id, hosts, cmd, NULL);
	}
	for (i = 0; i < 30; i++) {
		snprintf(id, sizeof id, "c%d", i);
		d = tcollect_wait_end(c, &k, q(id), IT_MS(30000));
		h = tcollect_host(&k, q(id), fleet.hosts[0]);
		ck_assert_msg(h != NULL, "%s: no host events", id);
		assert_ok_exit(h, 0);
		assert_done(d, 1, 1, 0, 0);
		snprintf(want, sizeof want, "%d\n", i);
		ck_assert_msg(h->outlen == strlen(want) &&
				  memcmp(h->out, want, h->outlen) == 0,
			      "%s: stdout '%.*s'", id, (int)h->outlen, h->out);
	}
	printf("30 x sleep 0.5 with MaxChannelsPerSession %d: %lld ms\n",
	       max_channels ? max_channels : IT_DEFAULT_CHANNELS,
	       testutil_now_ms() - t0);
	fflush(stdout);
	tcollect_check(&k);

	/*
	 * With a cap above the server's 10, a session that was refused a
	 * channel must have lowered its cap: not every session can still
	 * allow 16.  With the default 8 no cap ever exceeds 8.
	 */
	st = get_status(c, &k, "st");
	sh = tstatus_host(st, fleet.hosts[0]);
	ck_assert_msg(sh != NULL, "status does not list %s: %.300s",
		      fleet.hosts[0], k.status);
	sessions = tstatus_int(sh, "sessions");
	chmax = tstatus_int(sh, "channels_max");
	printf("pool of %s: %lld sessions, %lld channels allowed\n",
	       fleet.hosts[0], sessions, chmax);
	fflush(stdout);
	cap = max_channels ? max_channels : IT_DEFAULT_CHANNELS;
	ck_assert_msg(sessions >= 1, "no session left");
	if (cap > IT_SERVER_MAX_SESSIONS)
		ck_assert_msg(chmax < sessions * cap,
			      "%lld sessions still allow %lld channels: the "
			      "refusals did not lower the cap",
			      sessions, chmax);
	else
		ck_assert_msg(chmax <= sessions * cap,
			      "%lld sessions allow %lld channels", sessions,
			      chmax);
	ck_assert_msg(tstatus_int(sh, "jobs") >= 30, "jobs %lld",
		      tstatus_int(sh, "jobs"));
	json_object_put(st);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}

START_TEST(test_channels_over_server_limit)
{
	many_channels(16);
}
END_TEST

START_TEST(test_channels_default)
{
	many_channels(0);
}
END_TEST

START_TEST(test_connect_failed)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	char hosts[256];
	long long t0;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	snprintf(hosts, sizeof hosts, "[\"%s\",\"%s\",\"%s\"]", fleet.hosts[0],
		 fleet.dead_host, fleet.hosts[1]);
	t0 = testutil_now_ms();
	send_run(c, "dead", hosts, "echo alive", NULL);
	d = tcollect_wait_end(c, &k, q("dead"), IT_EVENT_MS);
	assert_done(d, 3, 2, 0, 1);
	tcollect_check(&k);
	h = tcollect_host(&k, q("dead"), fleet.dead_host);
	assert_error(h, PROTO_E_CONNECT_FAILED);
	ck_assert_msg(h->starts == 0, "start on a host never reached");
	ck_assert_msg(h->t_terminal - t0 < IT_MS(IT_FAST_FAIL_MS),
		      "connection refused reported after %lld ms",
		      h->t_terminal - t0);
	ck_assert_msg(h->duration_ms >= 0 &&
			  h->duration_ms < IT_MS(IT_FAST_FAIL_MS),
		      "duration_ms %lld", h->duration_ms);
	ck_assert_msg(h->message[0] != '\0', "error without message");
	h = tcollect_host(&k, q("dead"), fleet.hosts[0]);
	ck_assert_ptr_nonnull(h);
	assert_ok_exit(h, 0);
	h = tcollect_host(&k, q("dead"), fleet.hosts[1]);
	ck_assert_ptr_nonnull(h);
	assert_ok_exit(h, 0);
	ck_assert_msg(h->outlen == 6 && memcmp(h->out, "alive\n", 6) == 0,
		      "stdout '%.*s'", (int)h->outlen, h->out);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_auth_failed)
{
	struct tdaemon_opts o = {0};
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	char *hosts;

	ck_assert_int_eq(tfleet_load(&fleet, errbuf, sizeof errbuf), 0);
	o.identity = fleet.wrong_key;
	it_begin(&o);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	send_run(c, "auth", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("auth"), IT_EVENT_MS);
	assert_done(d, 1, 0, 0, 1);
	tcollect_check(&k);
	assert_error(tcollect_host(&k, q("auth"), fleet.hosts[0]),
		     PROTO_E_AUTH_FAILED);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_hostkey_unknown)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	struct tcollect_host *h;
	char *hosts;

	it_prepare();
	kh_drop(fleet.addrs[0]);
	it_launch(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 2);
	send_run(c, "unknown", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("unknown"), IT_EVENT_MS);
	assert_done(d, 2, 1, 0, 1);
	tcollect_check(&k);
	assert_error(tcollect_host(&k, q("unknown"), fleet.hosts[0]),
		     PROTO_E_HOSTKEY_UNKNOWN);
	h = tcollect_host(&k, q("unknown"), fleet.hosts[1]);
	ck_assert_ptr_nonnull(h);
	assert_ok_exit(h, 0);
	/* Strict checking never learns. */
	ck_assert_int_eq(kh_count(fleet.addrs[0]), 0);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_hostkey_mismatch)
{
	struct tdaemon_opts o = {.strict = "accept-new"};
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	char *hosts;

	it_prepare();
	kh_drop(fleet.addrs[0]);
	kh_add_wrong(fleet.addrs[0]);
	/* Even accept-new refuses a changed key. */
	it_launch(&o);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	send_run(c, "changed", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("changed"), IT_EVENT_MS);
	assert_done(d, 1, 0, 0, 1);
	tcollect_check(&k);
	assert_error(tcollect_host(&k, q("changed"), fleet.hosts[0]),
		     PROTO_E_HOSTKEY_MISMATCH);
	ck_assert_int_eq(kh_count(fleet.addrs[0]), 3);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_accept_new)
{
	struct tdaemon_opts o = {.strict = "accept-new"};
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	char *hosts;

	it_prepare();
	kh_drop(fleet.addrs[0]);
	it_launch(&o);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	send_run(c, "learn", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("learn"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	ck_assert_msg(kh_count(fleet.addrs[0]) >= 1,
		      "the key was not written to %s", daemon_.known_hosts);
	tclient_close(c);
	it_halt();

	/* A fresh daemon with strict checking trusts what was learnt. */
	it_launch(NULL);
	c = it_connect();
	send_run(c, "again", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("again"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_pooled_session_reuse)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	json_object *st, *sh;
	char *hosts;
	long long t0, first, second;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	t0 = testutil_now_ms();
	send_run(c, "first", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("first"), IT_EVENT_MS);
	first = testutil_now_ms() - t0;
	assert_done(d, 1, 1, 0, 0);
	t0 = testutil_now_ms();
	send_run(c, "second", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("second"), IT_EVENT_MS);
	second = testutil_now_ms() - t0;
	assert_done(d, 1, 1, 0, 0);
	printf("first run %lld ms (with handshake), second %lld ms\n", first,
	       second);
	fflush(stdout);
	/* Slowed down, the handshake's share of the time is not known; the
	 * counters below still prove the reuse. */
	if (!it_slowed())
		ck_assert_msg(second < first,
			      "second run (%lld ms) not faster than "
			      "the first (%lld ms)",
			      second, first);

	st = get_status(c, &k, "st");
	sh = tstatus_host(st, fleet.hosts[0]);
	ck_assert_msg(sh != NULL, "status does not list %s: %.300s",
		      fleet.hosts[0], k.status);
	ck_assert_msg(tstatus_int(sh, "connects") == 1 &&
			  tstatus_int(sh, "jobs") == 2,
		      "connects %lld jobs %lld", tstatus_int(sh, "connects"),
		      tstatus_int(sh, "jobs"));
	ck_assert_msg(tstatus_int(sh, "failures") == 0, "failures %lld",
		      tstatus_int(sh, "failures"));
	ck_assert_str_eq(tstatus_str(sh, "state"), "up");
	json_object_put(st);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/* Every malformed line is answered with bad_request and the connection
 * stays usable. */
START_TEST(test_malformed_requests)
{
	static const char *const bad[] = {
	    "this is not json",
	    "[1,2,3]",
	    "{\"v\":1,\"id\":\"m1\",\"op\":\"run\",\"hosts\":\"HOST\","
	    "\"command\":\"true\"}",
	    "{\"v\":1,\"id\":\"m2\",\"op\":\"run\",\"hosts\":[\"HOST\"],"
	    "\"command\":42}",
	    "{\"v\":1,\"id\":\"m3\",\"op\":\"frobnicate\"}",
	    "{\"v\":1,\"id\":\"m4\",\"op\":\"status\",\"colour\":\"blue\"}",
	    "{\"v\":1,\"id\":\"m5\",\"op\":\"run\",\"hosts\":[\"HOST\","
	    "\"HOST\"],\"command\":\"true\"}",
	    "{\"v\":1,\"id\":\"m6\",\"op\":\"run\",\"hosts\":[],"
	    "\"command\":\"true\"}",
	    "{\"v\":1,\"id\":\"m7\",\"op\":\"run\",\"hosts\":[\"HOST\"],"
	    "\"command\":\"true\",\"timeout\":-1}",
	    "{\"v\":1,\"id\":\"m8\",\"op\":\"status\",\"op\":\"status\"}",
	    "{\"v\":1,\"id\":{},\"op\":\"status\"}",
	    "{\"v\":1,\"op\":\"status\"}",
	};
	struct tclient *c, *other;
	struct tcollect k, ko;
	struct tcollect_req *d;
	char line[512], okid[16], *hosts;
	const char *p;
	size_t i;
	int before;

	it_begin(NULL);
	c = it_connect();
	other = it_connect();
	coll_init(&k, 1);
	coll_init(&ko, 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* substitute the fleet host for HOST */
		line[0] = '\0';
		for (p = bad[i]; *p != '\0'; p++) {
			if (strncmp(p, "HOST", 4) == 0) {
				strcat(line, fleet.hosts[0]);
				p += 3;
			} else
				strncat(line, p, 1);
		}
		before = k.reqerrors;
		ck_assert(tclient_send(c, "%s", line) == 0);
		snprintf(okid, sizeof okid, "ok%zu", i);
		ck_assert(tclient_send(c,
				       "{\"v\":1,\"id\":\"%s\","
				       "\"op\":\"status\"}",
				       okid) == 0);
		tcollect_wait_status(c, &k, q(okid), IT_EVENT_MS);
		/* Lines are answered in order: the error came first. */
		ck_assert_msg(k.reqerrors == before + 1, "%d errors for: %s",
			      k.reqerrors - before, line);
		ck_assert_msg(k.reqcode == PROTO_E_BAD_REQUEST, "%s for: %s",
			      proto_code_name(k.reqcode), line);
	}

	/* The other client was served meanwhile, and so is this one. */
	ck_assert(tclient_send(other, "{\"v\":1,\"id\":\"o\","
				      "\"op\":\"status\"}") == 0);
	tcollect_wait_status(other, &ko, q("o"), IT_EVENT_MS);
	hosts = hosts_json(0, 1);
	send_run(c, "good", hosts, "echo fine", NULL);
	d = tcollect_wait_end(c, &k, q("good"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	tcollect_check(&k);

	/* Two requests in flight with one id. */
	send_run(c, "dup", hosts, "sleep 1", NULL);
	send_run(c, "dup", hosts, "sleep 1", NULL);
	d = tcollect_wait_end(c, &k, q("dup"), IT_EVENT_MS);
	ck_assert_msg(d->reqerr && d->code == PROTO_E_BAD_REQUEST,
		      "duplicate id in flight: %s", proto_code_name(d->code));
	d->ends = 0;
	d->reqerr = 0;
	d = tcollect_wait_end(c, &k, q("dup"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	free(hosts);
	tcollect_free(&k);
	tcollect_free(&ko);
	tclient_close(other);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_oversized_line)
{
	const size_t big = PROTO_DEFAULT_MAX_LINE + 1024 * 1024;
	struct tclient *c, *other;
	struct tcollect k, ko;
	struct tcollect_req *d;
	char *junk, *hosts;

	it_begin(NULL);
	c = it_connect();
	other = it_connect();
	coll_init(&k, 1);
	coll_init(&ko, 1);
	hosts = hosts_json(0, 1);
	junk = malloc(big);
	ck_assert_ptr_nonnull(junk);
	memset(junk, 'x', big);
	ck_assert_msg(tclient_send_raw(c, junk, big) == 0, "%s",
		      tclient_error(c));
	free(junk);
	/* The limit is known before the line ends. */
	while (k.nullerrors == 0 && k.nends == 0)
		tcollect_read(c, &k, IT_EVENT_MS);
	ck_assert_msg(k.nends == 0 && k.nullcode == PROTO_E_BAD_REQUEST,
		      "oversized line: %s", proto_code_name(k.nullcode));

	/* A half-sent line on one connection does not hold up another. */
	send_run(other, "o", hosts, "echo other", NULL);
	d = tcollect_wait_end(other, &ko, q("o"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);

	/* End the long line; the next request runs. */
	ck_assert(tclient_send_raw(c, "xxxx\n", 5) == 0);
	send_run(c, "after", hosts, "echo after", NULL);
	d = tcollect_wait_end(c, &k, q("after"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tcollect_free(&ko);
	tclient_close(other);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_connect_and_status)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	json_object *st, *sh;
	char *hosts;
	int i;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 5);
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"w\",\"op\":\"connect\","
			       "\"hosts\":%s}",
			       hosts) == 0);
	d = tcollect_wait_end(c, &k, q("w"), IT_EVENT_MS);
	assert_done(d, 5, 5, 0, 0);
	tcollect_check(&k);
	for (i = 0; i < 5; i++) {
		h = tcollect_host(&k, q("w"), fleet.hosts[i]);
		ck_assert_msg(h != NULL && h->connected, "%s: not connected",
			      fleet.hosts[i]);
		ck_assert_msg(h->sessions >= 1, "%s: sessions %d",
			      fleet.hosts[i], h->sessions);
	}

	st = get_status(c, &k, "st");
	for (i = 0; i < 5; i++) {
		sh = tstatus_host(st, fleet.hosts[i]);
		ck_assert_msg(sh != NULL, "status does not list %s: %.300s",
			      fleet.hosts[i], k.status);
		ck_assert_str_eq(tstatus_str(sh, "state"), "up");
		ck_assert_msg(tstatus_int(sh, "sessions") >= 1, "no session");
		ck_assert_msg(tstatus_int(sh, "connects") == 1, "connects %lld",
			      tstatus_int(sh, "connects"));
	}
	ck_assert_msg(tstatus_host(st, fleet.hosts[5]) == NULL,
		      "status lists a host never used");
	json_object_put(st);

	/* The warm session serves the run: no new handshake. */
	send_run(c, "r", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("r"), IT_EVENT_MS);
	assert_done(d, 5, 5, 0, 0);
	st = get_status(c, &k, "st2");
	sh = tstatus_host(st, fleet.hosts[0]);
	ck_assert_ptr_nonnull(sh);
	ck_assert_msg(tstatus_int(sh, "connects") == 1 &&
			  tstatus_int(sh, "jobs") >= 1,
		      "connects %lld jobs %lld", tstatus_int(sh, "connects"),
		      tstatus_int(sh, "jobs"));
	json_object_put(st);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_cancel)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	char *hosts;
	long long t0;
	int i;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 2);
	send_run(c, "long", hosts, "sleep 30", NULL);
	for (i = 0; i < 2; i++)
		tcollect_wait_start(c, &k, q("long"), fleet.hosts[i],
				    IT_EVENT_MS);
	t0 = testutil_now_ms();
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"c\",\"op\":\"cancel\","
				  "\"target\":\"long\"}") == 0);
	d = tcollect_wait_end(c, &k, q("long"), IT_EVENT_MS);
	printf("cancel took %lld ms\n", testutil_now_ms() - t0);
	fflush(stdout);
	ck_assert_msg(testutil_now_ms() - t0 < IT_MS(IT_CANCEL_MS),
		      "cancel took %lld ms", testutil_now_ms() - t0);
	assert_done(d, 2, 0, 0, 2);
	for (i = 0; i < 2; i++)
		assert_error(tcollect_host(&k, q("long"), fleet.hosts[i]),
			     PROTO_E_CANCELLED);
	while (k.cancels == 0)
		tcollect_read(c, &k, IT_EVENT_MS);
	ck_assert_str_eq(k.cancel_target, q("long"));
	ck_assert_int_eq(k.cancel_found, 1);

	/* Unknown target. */
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"c2\",\"op\":\"cancel\","
				  "\"target\":\"nope\"}") == 0);
	while (k.cancels < 2)
		tcollect_read(c, &k, IT_EVENT_MS);
	ck_assert_str_eq(k.cancel_target, q("nope"));
	ck_assert_int_eq(k.cancel_found, 0);

	/* The pool survived: the host still runs commands. */
	send_run(c, "after", hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q("after"), IT_EVENT_MS);
	assert_done(d, 2, 2, 0, 0);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/*
 * A cancel reaches only the workers that run the request's jobs: one host,
 * four workers, one worker asked.
 */
START_TEST(test_cancel_reaches_its_shard)
{
	struct tdaemon_opts o = {.workers = 4};
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	char *hosts;

	it_begin(&o);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	send_run(c, "one", hosts, "sleep 30", NULL);
	tcollect_wait_start(c, &k, q("one"), fleet.hosts[0], IT_EVENT_MS);
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"c\",\"op\":\"cancel\","
				  "\"target\":\"one\"}") == 0);
	d = tcollect_wait_end(c, &k, q("one"), IT_EVENT_MS);
	assert_done(d, 1, 0, 0, 1);
	/* The worker logs the cancel before it posts the job's end. */
	ck_assert_int_eq(tdaemon_log_count(&daemon_, ": cancel of id="), 1);
	ck_assert_int_eq(tdaemon_log_count(
			     &daemon_, ": cancel of id=\"one\" stopped 1 jobs"),
			 1);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

START_TEST(test_timeout_and_signal)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	char *hosts;
	long long t0;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	t0 = testutil_now_ms();
	send_run(c, "slow", hosts, "sleep 30", ",\"timeout\":1");
	d = tcollect_wait_end(c, &k, q("slow"), IT_EVENT_MS);
	ck_assert_msg(testutil_now_ms() - t0 <
			  1000 + IT_MS(IT_KILL_GRACE_MS + 2000),
		      "timeout 1 s took %lld ms", testutil_now_ms() - t0);
	assert_done(d, 1, 0, 0, 1);
	assert_error(tcollect_host(&k, q("slow"), fleet.hosts[0]),
		     PROTO_E_TIMEOUT);

	send_run(c, "killed", hosts, "kill -KILL $$", NULL);
	d = tcollect_wait_end(c, &k, q("killed"), IT_EVENT_MS);
	assert_done(d, 1, 0, 1, 0);
	h = tcollect_host(&k, q("killed"), fleet.hosts[0]);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(h->exited && strcmp(h->signal, "KILL") == 0,
		      "expected exit by signal KILL, got status %d signal '%s'",
		      h->status, h->signal);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/*
 * Whether the fleet has its IPv6 host; without IPv6 on the machine the
 * IPv6 tests pass with a message, as there is nothing to test against.
 */
static int
it_have_v6(const char *test)
{
	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	if (fleet.v6_port > 0)
		return 1;
	printf("%s: skipped, the fleet has no IPv6 host (FLEET_V6_PORT is "
	       "empty: no ::1 on this machine)\n",
	       test);
	fflush(stdout);
	return 0;
}

/* Status entries whose host name contains s. */
static int
status_count(json_object *root, const char *s)
{
	json_object *hosts, *name;
	size_t i, n;
	int count = 0;

	ck_assert_msg(json_object_object_get_ex(root, "hosts", &hosts) &&
			  json_object_is_type(hosts, json_type_array),
		      "status without hosts array");
	n = json_object_array_length(hosts);
	for (i = 0; i < n; i++)
		if (json_object_object_get_ex(
			json_object_array_get_idx(hosts, i), "host", &name) &&
		    strstr(json_object_get_string(name), s) != NULL)
			count++;
	return count;
}

/* Stdout of a host must be "ADDR PORT\n" of the server it reached. */
static void
assert_reached(const struct tcollect_host *h, const char *addr, int port)
{
	char want[96];

	snprintf(want, sizeof want, "%s %d\n", addr, port);
	ck_assert_msg(h->outlen == strlen(want) &&
			  memcmp(h->out, want, h->outlen) == 0,
		      "%s: stdout '%.*s', expected '%s'", h->host,
		      (int)h->outlen, h->out, want);
}

/* The server's address and port as the command sees them. */
#define IT_WHERE "echo $SSH_CONNECTION | cut -d' ' -f3,4"

START_TEST(test_ipv6_run)
{
	char spec[2][160], hosts[400], key[160];
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	json_object *st, *sh;
	int i;

	if (!it_have_v6("ipv6_run"))
		return;
	snprintf(spec[0], sizeof spec[0], "[%s]:%d", fleet.v6_addr,
		 fleet.v6_port);
	snprintf(spec[1], sizeof spec[1], "%s@[%s]:%d", fleet.user,
		 fleet.v6_addr, fleet.v6_port);
	snprintf(hosts, sizeof hosts, "[\"%s\",\"%s\"]", spec[0], spec[1]);
	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 1);
	send_run(c, "v6", hosts, IT_WHERE, NULL);
	d = tcollect_wait_end(c, &k, q("v6"), IT_EVENT_MS);
	tcollect_check(&k);
	for (i = 0; i < 2; i++) {
		h = tcollect_host(&k, q("v6"), spec[i]);
		ck_assert_msg(h != NULL, "no events for %s", spec[i]);
		assert_ok_exit(h, 0);
		assert_reached(h, fleet.v6_addr, fleet.v6_port);
	}
	assert_done(d, 2, 2, 0, 0);

	/* Both specs name one host: one pool, keyed "user@[::1]:PORT". */
	st = get_status(c, &k, "st");
	snprintf(key, sizeof key, "%s@[%s]:%d", fleet.user, fleet.v6_addr,
		 fleet.v6_port);
	sh = tstatus_host(st, key);
	ck_assert_msg(sh != NULL, "status does not list %s: %.300s", key,
		      k.status);
	ck_assert_str_eq(tstatus_str(sh, "host"), key);
	ck_assert_str_eq(tstatus_str(sh, "state"), "up");
	ck_assert_msg(tstatus_int(sh, "jobs") == 2, "jobs %lld",
		      tstatus_int(sh, "jobs"));
	ck_assert_msg(status_count(st, fleet.v6_addr) == 1,
		      "%d status entries for %s: %.300s",
		      status_count(st, fleet.v6_addr), fleet.v6_addr, k.status);
	json_object_put(st);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/* A bare IPv6 address takes its port from a "Host ::1" block. */
START_TEST(test_ipv6_host_block)
{
	struct tdaemon_opts o = {0};
	char extra[128], hosts[128], key[160];
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	json_object *st, *sh;

	if (!it_have_v6("ipv6_host_block"))
		return;
	snprintf(extra, sizeof extra, "Host %s\n\tPort %d", fleet.v6_addr,
		 fleet.v6_port);
	o.extra = extra;
	it_begin(&o);
	c = it_connect();
	coll_init(&k, 1);
	snprintf(hosts, sizeof hosts, "[\"%s\"]", fleet.v6_addr);
	send_run(c, "bare", hosts, IT_WHERE, NULL);
	d = tcollect_wait_end(c, &k, q("bare"), IT_EVENT_MS);
	h = tcollect_host(&k, q("bare"), fleet.v6_addr);
	ck_assert_msg(h != NULL, "no events for %s", fleet.v6_addr);
	assert_ok_exit(h, 0);
	assert_reached(h, fleet.v6_addr, fleet.v6_port);
	assert_done(d, 1, 1, 0, 0);

	/* The block is for ::1 only: an IPv4 host keeps the global Port. */
	snprintf(hosts, sizeof hosts, "[\"%s\"]", fleet.addrs[0]);
	send_run(c, "v4", hosts, IT_WHERE, NULL);
	d = tcollect_wait_end(c, &k, q("v4"), IT_EVENT_MS);
	h = tcollect_host(&k, q("v4"), fleet.addrs[0]);
	ck_assert_msg(h != NULL, "no events for %s", fleet.addrs[0]);
	assert_ok_exit(h, 0);
	assert_reached(h, fleet.addrs[0], fleet.port);
	assert_done(d, 1, 1, 0, 0);
	tcollect_check(&k);

	st = get_status(c, &k, "st");
	snprintf(key, sizeof key, "%s@[%s]:%d", fleet.user, fleet.v6_addr,
		 fleet.v6_port);
	sh = tstatus_host(st, key);
	ck_assert_msg(sh != NULL, "status does not list %s: %.300s", key,
		      k.status);
	ck_assert_str_eq(tstatus_str(sh, "host"), key);
	ck_assert_str_eq(tstatus_str(sh, "state"), "up");
	json_object_put(st);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/* Append "[addr]:port type blob" of the fleet's own host key number i. */
static void
kh_add_fleet(const char *addr, int i)
{
	char *line = NULL, *sp;
	size_t cap = 0;
	FILE *out, *in;

	ck_assert_msg(fleet.hostkeys[i][0] != '\0', "fleet without host key %d",
		      i);
	ck_assert_ptr_nonnull(in = fopen(fleet.hostkeys[i], "r"));
	ck_assert(getline(&line, &cap, in) > 0);
	fclose(in);
	if ((sp = strchr(line, ' ')) != NULL &&
	    (sp = strchr(sp + 1, ' ')) != NULL)
		*sp = '\0';
	line[strcspn(line, "\n")] = '\0';
	ck_assert_ptr_nonnull(out = fopen(daemon_.known_hosts, "a"));
	fprintf(out, "[%s]:%d %s\n", addr, fleet.port, line);
	free(line);
	ck_assert_int_eq(fclose(out), 0);
}

/* One run of "true" on host 0, which must exit 0. */
static void
it_run_true_host0(const char *id)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	struct tcollect_host *h;
	char *hosts;

	c = it_connect();
	coll_init(&k, 1);
	hosts = hosts_json(0, 1);
	send_run(c, id, hosts, "true", NULL);
	d = tcollect_wait_end(c, &k, q(id), IT_EVENT_MS);
	tcollect_check(&k);
	h = tcollect_host(&k, q(id), fleet.hosts[0]);
	ck_assert_ptr_nonnull(h);
	assert_ok_exit(h, 0);
	assert_done(d, 1, 1, 0, 0);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
}

/*
 * A host recorded with only its ECDSA key, or only its RSA key, is offered
 * that key type first and connects, as with ssh(1); accept-new learns
 * nothing more about it.
 */
START_TEST(test_hostkey_one_type)
{
	struct tdaemon_opts o = {.strict = "accept-new"};
	static const int types[] = {1, 2}; /* ecdsa, rsa in fleet.hostkeys */
	size_t i;

	it_prepare();
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		kh_drop(fleet.addrs[0]);
		kh_add_fleet(fleet.addrs[0], types[i]);
		it_launch(NULL);
		it_run_true_host0(i == 0 ? "ecdsa" : "rsa");
		it_halt();
		ck_assert_int_eq(kh_count(fleet.addrs[0]), 1);

		it_launch(&o);
		it_run_true_host0(i == 0 ? "ecdsa-new" : "rsa-new");
		it_halt();
		ck_assert_int_eq(kh_count(fleet.addrs[0]), 1);
	}
	tdaemon_cleanup(&daemon_);
}
END_TEST

/* The hosts of request id that had exited when the first cancel reply
 * came (on_event hook); -1 until then. */
struct it_cancel_seen {
	const char *id;
	long exited;
};

static void
it_note_cancel(struct tcollect *k, struct tclient *c, void *arg)
{
	struct it_cancel_seen *seen = arg;
	const struct tcollect_req *r;
	size_t i;

	(void)c;
	if (k->cancels == 0 || seen->exited >= 0)
		return;
	seen->exited = 0;
	if ((r = tcollect_req(k, seen->id)) == NULL)
		return;
	for (i = 0; i < r->nhosts; i++)
		seen->exited += r->hosts[i]->exited;
}

/*
 * A cancel that races the commands' ends: hosts whose command ended before
 * the cancel reached their worker keep their real exit, also when it
 * arrives after the cancel reply (PROTOCOL.md 2.5); every other host ends
 * with cancelled, and each host ends exactly once.
 */
START_TEST(test_cancel_racing_exits)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	struct tcollect_host *h;
	struct it_cancel_seen seen;
	size_t i, n, exits = 0, late = 0, cancelled = 0;
	char *hosts, cmd[64];
	int round;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 0);
	k.on_event = it_note_cancel;
	k.arg = &seen;
	n = fleet.nhosts < 20 ? fleet.nhosts : 20;
	hosts = hosts_json(0, n);
	/* Warm the pool so that the commands start together. */
	send_run(c, "warm", hosts, "true", NULL);
	tcollect_wait_end(c, &k, q("warm"), IT_EVENT_MS);
	for (round = 0; round < 5; round++) {
		char id[16], cid[16], qid[24];

		snprintf(id, sizeof(id), "race%d", round);
		snprintf(cid, sizeof(cid), "c%d", round);
		snprintf(cmd, sizeof(cmd), "sleep 0.%d", 2 + round % 3);
		send_run(c, id, hosts, cmd, NULL);
		for (i = 0; i < n; i++)
			tcollect_wait_start(c, &k, q(id), fleet.hosts[i],
					    IT_EVENT_MS);
		usleep((useconds_t)(200 + 100 * (round % 3)) * 1000);
		snprintf(qid, sizeof(qid), "\"%s\"", id);
		seen.id = qid;
		seen.exited = -1;
		k.cancels = 0;
		ck_assert(tclient_send(c,
				       "{\"v\":1,\"id\":\"%s\",\"op\":"
				       "\"cancel\",\"target\":\"%s\"}",
				       cid, id) == 0);
		d = tcollect_wait_end(c, &k, q(id), IT_EVENT_MS);
		while (k.cancels == 0)
			tcollect_read(c, &k, IT_EVENT_MS);
		/* A slow run (valgrind) may end before the cancel reaches
		 * the daemon: then it is not found, and every host exited. */
		if (!k.cancel_found)
			ck_assert_uint_eq(d->done.ok, n);
		ck_assert_int_eq(d->ends, 1);
		ck_assert_uint_eq(d->done.hosts, n);
		ck_assert_uint_eq(d->done.failed, 0);
		for (i = 0; i < n; i++) {
			h = tcollect_host(&k, q(id), fleet.hosts[i]);
			ck_assert_ptr_nonnull(h);
			ck_assert_int_eq(h->terminals, 1);
			if (h->exited) {
				ck_assert_int_eq(h->status, 0);
				exits++;
			} else {
				assert_error(h, PROTO_E_CANCELLED);
				cancelled++;
			}
		}
		ck_assert_uint_eq(d->done.ok + d->done.errors, n);
		ck_assert_int_ge(seen.exited, 0);
		late += (size_t)(d->done.ok - (size_t)seen.exited);
	}
	printf("cancel race: %zu exits (%zu after the cancel reply), %zu "
	       "cancelled\n",
	       exits, late, cancelled);
	fflush(stdout);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/* Just past its timeout a command ends with timeout; well inside a long one
 * it ends with its exit. */
START_TEST(test_timeout_edge)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *d;
	char *hosts;

	it_begin(NULL);
	c = it_connect();
	coll_init(&k, 0);
	hosts = hosts_json(0, 1);
	send_run(c, "over", hosts, "sleep 1.2", ",\"timeout\":1");
	d = tcollect_wait_end(c, &k, q("over"), IT_EVENT_MS);
	assert_done(d, 1, 0, 0, 1);
	assert_error(tcollect_host(&k, q("over"), fleet.hosts[0]),
		     PROTO_E_TIMEOUT);
	send_run(c, "inside", hosts, "true", ",\"timeout\":600");
	d = tcollect_wait_end(c, &k, q("inside"), IT_EVENT_MS);
	assert_done(d, 1, 1, 0, 0);
	tcollect_check(&k);
	free(hosts);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

#ifdef IT_ASAN
/* ASan's quarantine keeps what libssh frees. */
#define IT_STDIN_GROWTH_KB (512L * 1024)
#else
#define IT_STDIN_GROWTH_KB (32L * 1024)
#endif

/*
 * 100 channels (two requests over the fleet) each fed the whole default
 * MaxStdinBytes, which fits the default MaxLineLength: the input is held
 * once per request and queued to libssh a bounded piece at a time, so the
 * daemon's memory does not grow with hosts x stdin.
 */
START_TEST(test_stdin_100_hosts)
{
	const size_t len = PROTO_DEFAULT_MAX_STDIN;
	size_t na, nb;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *da, *db;
	struct tcollect_host *h;
	unsigned char *in;
	char *b64, *more, *ha, *hb, want[32];
	long rss, peak = 0, base;
	size_t i;

	it_begin(NULL);
	na = fleet.nhosts < 60 ? fleet.nhosts : 60;
	nb = 100 - na < fleet.nhosts ? 100 - na : fleet.nhosts;
	c = it_connect();
	coll_init(&k, 1);
	ha = hosts_json(0, na);
	hb = hosts_json(0, nb);
	/* Sessions first, so that only the stdin shows in the peak. */
	send_run(c, "warm", ha, "true", NULL);
	tcollect_wait_end(c, &k, q("warm"), IT_EVENT_MS);
	base = tdaemon_rss_kb(daemon_.pid);
	in = malloc(len);
	b64 = malloc(proto_b64_len(len) + 1);
	more = malloc(proto_b64_len(len) + 32);
	ck_assert(in != NULL && b64 != NULL && more != NULL);
	for (i = 0; i < len; i++)
		in[i] = (unsigned char)(i * 7 + i / 251);
	proto_b64_encode(b64, in, len);
	snprintf(more, proto_b64_len(len) + 32, ",\"stdin\":\"%s\"", b64);
	send_run(c, "a", ha, "sleep 1; wc -c", more);
	send_run(c, "b", hb, "sleep 1; wc -c", more);
	while (tcollect_req(&k, q("a")) == NULL ||
	       tcollect_req(&k, q("a"))->ends == 0 ||
	       tcollect_req(&k, q("b")) == NULL ||
	       tcollect_req(&k, q("b"))->ends == 0) {
		tcollect_poll(c, &k, 20);
		if ((rss = tdaemon_rss_kb(daemon_.pid)) > peak)
			peak = rss;
	}
	da = tcollect_req(&k, q("a"));
	db = tcollect_req(&k, q("b"));
	printf("stdin of %zu bytes to %zu channels: sshpoold RSS %ld KiB "
	       "before, peak %ld KiB\n",
	       len, na + nb, base, peak);
	fflush(stdout);
	assert_done(da, na, na, 0, 0);
	assert_done(db, nb, nb, 0, 0);
	snprintf(want, sizeof(want), "%zu\n", len);
	for (i = 0; i < nb; i++) {
		h = tcollect_host(&k, q("b"), fleet.hosts[i]);
		ck_assert_ptr_nonnull(h);
		ck_assert_msg(strcmp(h->out, want) == 0, "%s got '%s'", h->host,
			      h->out);
	}
	if (!it_slowed())
		ck_assert_msg(peak - base < IT_STDIN_GROWTH_KB,
			      "sshpoold RSS grew by %ld KiB for the stdin "
			      "(limit %ld KiB)",
			      peak - base, IT_STDIN_GROWTH_KB);
	tcollect_check(&k);
	free(in);
	free(b64);
	free(more);
	free(ha);
	free(hb);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

/*
 * HostName: names that would never resolve (.invalid) reach the address
 * their Host block gives, and a one-character name becomes an address
 * through %h, without any name lookup.  Each name given is a pool of its
 * own in status; the host key is found under the address in known_hosts;
 * a failure to connect names the address the name stands for; an IPv6
 * address with a Port of its block works too, when the fleet has one.
 */
START_TEST(test_hostname_alias)
{
	static const char *const alias[] = {"nosuch-alias.invalid",
					    "other-alias.invalid"};
	struct tdaemon_opts o = {0};
	char extra[512], hosts[256], key[160], dead[32], *colon, *octet;
	struct tclient *c;
	struct tcollect k;
	struct tcollect_host *h;
	struct tcollect_req *d;
	json_object *st, *sh;
	size_t i, n;

	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ck_assert_uint_ge(fleet.nhosts, 2);
	snprintf(dead, sizeof dead, "%s", fleet.dead_host);
	ck_assert_ptr_nonnull(colon = strrchr(dead, ':'));
	*colon = '\0';
	/* The last octet of the second host, one digit on this fleet. */
	octet = strrchr(fleet.addrs[1], '.') + 1;
	ck_assert_msg(strncmp(fleet.addrs[1], "127.0.0.", 8) == 0 &&
			  strlen(octet) == 1,
		      "second fleet host %s", fleet.addrs[1]);
	n = (size_t)snprintf(extra, sizeof extra,
			     "Host %s %s\n\tHostName %s\n"
			     "Host %s\n\tHostName 127.0.0.%%h\n"
			     "Host dead-alias.invalid\n\tHostName %s\n",
			     alias[0], alias[1], fleet.addrs[0], octet, dead);
	/* An IPv6 address as HostName, on its own port. */
	if (fleet.v6_port > 0)
		snprintf(extra + n, sizeof extra - n,
			 "Host v6-alias.invalid\n\tHostName %s\n\tPort %d",
			 fleet.v6_addr, fleet.v6_port);
	o.extra = extra;
	it_begin(&o);
	c = it_connect();
	coll_init(&k, 1);
	snprintf(hosts, sizeof hosts, "[\"%s\",\"%s\",\"%s\"]", alias[0],
		 alias[1], octet);
	send_run(c, "alias", hosts, IT_WHERE, NULL);
	d = tcollect_wait_end(c, &k, q("alias"), IT_EVENT_MS);
	tcollect_check(&k);
	for (i = 0; i < 2; i++) {
		h = tcollect_host(&k, q("alias"), alias[i]);
		ck_assert_msg(h != NULL, "no events for %s", alias[i]);
		assert_ok_exit(h, 0);
		assert_reached(h, fleet.addrs[0], fleet.port);
	}
	h = tcollect_host(&k, q("alias"), octet);
	ck_assert_msg(h != NULL, "no events for %s", octet);
	assert_ok_exit(h, 0);
	assert_reached(h, fleet.addrs[1], fleet.port);
	assert_done(d, 3, 3, 0, 0);

	/* Status shows the names given, one pool each, not the address. */
	st = get_status(c, &k, "st");
	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof key, "%s@%s:%d", fleet.user, alias[i],
			 fleet.port);
		sh = tstatus_host(st, key);
		ck_assert_msg(sh != NULL, "status does not list %s: %.300s",
			      key, k.status);
		ck_assert_str_eq(tstatus_str(sh, "state"), "up");
		ck_assert_msg(tstatus_int(sh, "jobs") == 1, "%s: jobs %lld",
			      key, tstatus_int(sh, "jobs"));
		ck_assert_msg(tdaemon_log_count(&daemon_, key) > 0,
			      "the log never names %s", key);
	}
	snprintf(key, sizeof key, "%s@%s:%d", fleet.user, octet, fleet.port);
	ck_assert_msg(tstatus_host(st, key) != NULL,
		      "status does not list %s: %.300s", key, k.status);
	ck_assert_msg(status_count(st, fleet.addrs[0]) == 0 &&
			  status_count(st, fleet.addrs[1]) == 0,
		      "status lists an address: %.300s", k.status);
	json_object_put(st);
	/* The keys were known under the addresses only: nothing learnt. */
	ck_assert_int_eq(
	    tstatus_known_hosts(daemon_.known_hosts, alias[0], fleet.port), 0);

	/* Nothing listens at the dead address: the error says where. */
	send_run(c, "dead", "[\"dead-alias.invalid\"]", "true", NULL);
	d = tcollect_wait_end(c, &k, q("dead"), IT_EVENT_MS);
	h = tcollect_host(&k, q("dead"), "dead-alias.invalid");
	assert_error(h, PROTO_E_CONNECT_FAILED);
	snprintf(key, sizeof key, "connect to %s port %d", dead, fleet.port);
	ck_assert_msg(strstr(h->message, key) != NULL,
		      "message \"%s\" does not say \"%s\"", h->message, key);
	assert_done(d, 1, 0, 0, 1);

	if (fleet.v6_port > 0) {
		send_run(c, "v6", "[\"v6-alias.invalid\"]", IT_WHERE, NULL);
		d = tcollect_wait_end(c, &k, q("v6"), IT_EVENT_MS);
		h = tcollect_host(&k, q("v6"), "v6-alias.invalid");
		ck_assert_msg(h != NULL, "no events for v6-alias.invalid");
		assert_ok_exit(h, 0);
		assert_reached(h, fleet.v6_addr, fleet.v6_port);
		assert_done(d, 1, 1, 0, 0);
	}
	tcollect_check(&k);
	tcollect_free(&k);
	tclient_close(c);
	it_end();
}
END_TEST

static Suite *
integration_suite(void)
{
	Suite *s = suite_create("integration");
	struct {
		const char *name;
		const TTest *test;
	} tests[] = {
	    {"hello", test_hello},
	    {"run_one_host", test_run_one_host},
	    {"run_50_hosts", test_run_50_hosts},
	    {"binary_output", test_binary_output},
	    {"env_stdin", test_env_stdin},
	    {"big_output_fast", test_big_output_fast},
	    {"big_output_slow_reader", test_big_output_slow_reader},
	    {"channels_over_server_limit", test_channels_over_server_limit},
	    {"channels_default", test_channels_default},
	    {"connect_failed", test_connect_failed},
	    {"auth_failed", test_auth_failed},
	    {"hostkey_unknown", test_hostkey_unknown},
	    {"hostkey_mismatch", test_hostkey_mismatch},
	    {"accept_new", test_accept_new},
	    {"pooled_session_reuse", test_pooled_session_reuse},
	    {"malformed_requests", test_malformed_requests},
	    {"oversized_line", test_oversized_line},
	    {"connect_and_status", test_connect_and_status},
	    {"cancel", test_cancel},
	    {"cancel_reaches_its_shard", test_cancel_reaches_its_shard},
	    {"timeout_and_signal", test_timeout_and_signal},
	    {"ipv6_run", test_ipv6_run},
	    {"ipv6_host_block", test_ipv6_host_block},
	    {"hostname_alias", test_hostname_alias},
	    {"hostkey_one_type", test_hostkey_one_type},
	    {"cancel_racing_exits", test_cancel_racing_exits},
	    {"timeout_edge", test_timeout_edge},
	    {"stdin_100_hosts", test_stdin_100_hosts},
	};
	size_t i;

	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);

		tcase_set_timeout(tc, IT_TIMEOUT_S * tclient_slowdown());
		tcase_add_test(tc, tests[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return testutil_run(integration_suite());
}
