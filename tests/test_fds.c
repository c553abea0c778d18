/* SPDX-License-Identifier: ISC */
/*
 * Descriptors passed with a request (PROTOCOL.md section 1.8) against a
 * real sshpoold and the loopback fleet: raw clients sendmsg request lines
 * with SCM_RIGHTS ancillary data.  A line whose descriptors match its
 * "fds" is served; any other count, a descriptor of the wrong kind, a path
 * member, an overlong or empty line, more descriptors than the daemon's
 * queue holds: refused or dropped, and none of the descriptors stays open
 * in the daemon (its /proc/PID/fd is counted before and after) while
 * another client keeps being served.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tclient.h"
#include "tcollect.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

#define F_TIMEOUT_S 120
#define F_EVENT_MS tclient_scaled_ms(15000)
#define F_SETTLE_MS tclient_scaled_ms(5000)
#define F_MAX_SEND 64     /* descriptors one test sendmsg carries */
#define F_PIPELINE 40     /* lines with descriptors sent back to back */
#define F_PIPELINE_FDS 16 /* ... each with this many */
#define F_KEY_BIG (65 * 1024)
#define F_GLUED 20         /* plain lines each followed by one with a key */
#define F_STEADY_SAMPLES 3 /* equal counts 100 ms apart */

static struct tfleet fleet;
static struct tdaemon dmn;
static char errbuf[4096];

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

/*
 * The first LogLevel of a file wins and tclient writes VERBOSE: switch the
 * running daemon to DEBUG with a reload, to see "fds accepted".
 */
static void
f_debug_log(void)
{
	char *text, *at;
	long long deadline;
	size_t len;
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(dmn.conf, "r"));
	text = calloc(1, 65536);
	ck_assert_ptr_nonnull(text);
	len = fread(text, 1, 65535, fp);
	fclose(fp);
	text[len] = '\0';
	ck_assert_ptr_nonnull(at = strstr(text, "LogLevel VERBOSE"));
	memcpy(at, "LogLevel DEBUG  ", 16);
	ck_assert_ptr_nonnull(fp = fopen(dmn.conf, "w"));
	ck_assert(fwrite(text, 1, len, fp) == len);
	fclose(fp);
	free(text);
	ck_assert(kill(dmn.pid, SIGHUP) == 0);
	deadline = testutil_now_ms() + F_EVENT_MS;
	while (tdaemon_log_count(&dmn, "reloaded") < 1) {
		ck_assert_msg(testutil_now_ms() < deadline, "no reload");
		usleep(20000);
	}
}

static void
f_begin(void)
{
	struct tdaemon_opts o = {0};

	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ck_assert_msg(tdaemon_prepare(&dmn, &fleet, errbuf, sizeof errbuf) == 0,
		      "%s", errbuf);
	ck_assert_msg(tdaemon_start(&dmn, &fleet, &o, errbuf, sizeof errbuf) ==
			  0,
		      "%s", errbuf);
	f_debug_log();
}

static void
f_end(void)
{
	int st = tdaemon_stop(&dmn);

	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "sshpoold did not exit cleanly: status 0x%x", st);
	tdaemon_cleanup(&dmn);
}

static struct tclient *
f_connect(void)
{
	struct tclient *c = tclient_connect(dmn.sock);

	ck_assert_msg(c != NULL, "connect %s: %s", dmn.sock, strerror(errno));
	return c;
}

/* Wait (bounded) until the daemon holds at most n descriptors. */
static int
fd_settle(int n)
{
	long long deadline = testutil_now_ms() + F_SETTLE_MS;
	int now;

	while ((now = tdaemon_fd_count(dmn.pid)) > n &&
	       testutil_now_ms() < deadline)
		usleep(20000);
	return now;
}

/* The daemon's descriptor count once it held still for a while (sessions
 * the pool opened have finished their handshakes). */
static int
fd_steady(void)
{
	int last = -1, now, same = 0;

	while (same < F_STEADY_SAMPLES) {
		usleep(100000);
		now = tdaemon_fd_count(dmn.pid);
		same = now == last ? same + 1 : 0;
		last = now;
	}
	return last;
}

/* One sendmsg of len bytes with n descriptors (n may be 0). */
static void
send_with_fds(struct tclient *c, const char *data, size_t len, const int *fds,
	      size_t n)
{
	ck_assert(n <= F_MAX_SEND);
	ck_assert_msg(tclient_send_fds(c, data, len, fds, n) == 0, "%s",
		      tclient_error(c));
}

static void
send_line_fds(struct tclient *c, const char *line, const int *fds, size_t n)
{
	char buf[4096];
	int len = snprintf(buf, sizeof buf, "%s\n", line);

	ck_assert(len > 0 && (size_t)len < sizeof buf);
	send_with_fds(c, buf, (size_t)len, fds, n);
}

/* n descriptors of /dev/null, open for reading (regular enough for no
 * role: a character device). */
static void
open_nulls(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert((fds[i] = open("/dev/null", O_RDONLY)) >= 0);
}

static void
close_all(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* A regular file of size bytes, unlinked: its descriptor is all. */
static int
junk_file(size_t size)
{
	char path[] = "/tmp/sshpool-fds-XXXXXX";
	int fd = mkstemp(path);

	ck_assert(fd >= 0);
	unlink(path);
	ck_assert(ftruncate(fd, (off_t)size) == 0);
	return fd;
}

/* A copy of the key at src, unlinked: nothing names it, so only its
 * descriptor can bring it to the daemon. */
static int
key_file_of(const char *src)
{
	char path[] = "/tmp/sshpool-fds-XXXXXX", buf[16384];
	int fd = mkstemp(path), in = open(src, O_RDONLY);
	ssize_t n;

	ck_assert(fd >= 0 && in >= 0);
	unlink(path);
	n = read(in, buf, sizeof buf);
	ck_assert(n > 0 && write(fd, buf, (size_t)n) == n);
	close(in);
	return fd;
}

/* The fleet's authorized key, so. */
static int
key_file(void)
{
	return key_file_of(fleet.key);
}

static int
agent_end(int *other)
{
	int sv[2];

	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	*other = sv[1];
	return sv[0];
}

static struct tcollect_req *
f_wait(struct tclient *c, struct tcollect *k, const char *id)
{
	return tcollect_wait_end(c, k, id, F_EVENT_MS);
}

static void
assert_ok(struct tcollect_req *r)
{
	ck_assert_msg(!r->reqerr, "request %s refused: %s (%s)", r->id,
		      proto_code_name(r->code), r->message);
	ck_assert_msg(r->done.hosts == 1 && r->done.ok == 1,
		      "request %s: %zu hosts, %zu ok", r->id, r->done.hosts,
		      r->done.ok);
}

static void
assert_bad(struct tcollect_req *r, const char *what)
{
	ck_assert_msg(r->reqerr && r->code == PROTO_E_BAD_REQUEST,
		      "request %s: expected bad_request, got %s (%s)", r->id,
		      r->reqerr ? proto_code_name(r->code) : "done",
		      r->message);
	ck_assert_msg(strstr(r->message, what) != NULL,
		      "request %s: message \"%s\" lacks \"%s\"", r->id,
		      r->message, what);
}

/* A run of true on the fleet's first host, announcing roles. */
static void
run_line(char *buf, size_t len, const char *id, const char *roles)
{
	snprintf(buf, len,
		 "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":[\"%s\"],"
		 "\"command\":\"true\"%s%s%s}",
		 id, fleet.hosts[0], roles ? ",\"fds\":[" : "",
		 roles ? roles : "", roles ? "]" : "");
}

/* Another client, served between the hostile lines. */
static void
assert_other_served(struct tclient *o, struct tcollect *k, const char *id)
{
	char line[512], qid[80];

	run_line(line, sizeof line, id, NULL);
	ck_assert(tclient_send(o, "%s", line) == 0);
	snprintf(qid, sizeof qid, "\"%s\"", id);
	assert_ok(f_wait(o, k, qid));
}

START_TEST(test_fds_rules)
{
	struct tclient *c, *o;
	struct tcollect k, ko;
	char line[1024];
	int fds[F_MAX_SEND], peer_end, peer_end2, fds0, now;

	f_begin();
	o = f_connect();
	tcollect_init(&ko);
	assert_other_served(o, &ko, "o0");
	c = f_connect();
	tcollect_init(&k);
	/* Warm the pools first (the daemon's and the one of the client's
	 * key) so the count below holds their sessions. */
	run_line(line, sizeof line, "warm", NULL);
	ck_assert(tclient_send(c, "%s", line) == 0);
	assert_ok(f_wait(c, &k, "\"warm\""));
	fds[0] = key_file();
	run_line(line, sizeof line, "warmkey", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_ok(f_wait(c, &k, "\"warmkey\""));
	fds0 = fd_steady();
	ck_assert(fds0 > 0);

	/* Matching: a key file; two agent sockets are one too many. */
	fds[0] = key_file();
	run_line(line, sizeof line, "ok", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_ok(f_wait(c, &k, "\"ok\""));
	ck_assert_msg(tdaemon_log_count(&dmn, "fds accepted: key") >= 1,
		      "no debug line naming the roles");
	fds[0] = agent_end(&peer_end);
	fds[1] = agent_end(&peer_end2);
	run_line(line, sizeof line, "agent", "\"agent\",\"agent\"");
	send_line_fds(c, line, fds, 2);
	close_all(fds, 2);
	assert_bad(f_wait(c, &k, "\"agent\""),
		   "fds[1] (agent): one per request");
	close(peer_end);
	close(peer_end2);
	/* A file that is no key. */
	fds[0] = junk_file(400);
	run_line(line, sizeof line, "junk", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_bad(f_wait(c, &k, "\"junk\""),
		   "fds[0] (key): not an unencrypted private key");
	/* Two keys. */
	fds[0] = key_file();
	fds[1] = key_file();
	run_line(line, sizeof line, "twokeys", "\"key\",\"key\"");
	send_line_fds(c, line, fds, 2);
	close_all(fds, 2);
	assert_bad(f_wait(c, &k, "\"twokeys\""),
		   "fds[1] (key): one per request");

	/* A connect takes them too. */
	fds[0] = key_file();
	snprintf(line, sizeof line,
		 "{\"v\":1,\"id\":\"w\",\"op\":\"connect\",\"hosts\":[\"%s\"],"
		 "\"fds\":[\"key\"]}",
		 fleet.hosts[0]);
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_ok(f_wait(c, &k, "\"w\""));

	/* Fewer and more than announced. */
	fds[0] = key_file();
	run_line(line, sizeof line, "few", "\"key\",\"key\"");
	send_line_fds(c, line, fds, 1);
	assert_bad(f_wait(c, &k, "\"few\""),
		   "request announces 2 descriptors, 1 arrived with it");
	fds[1] = key_file();
	run_line(line, sizeof line, "more", "\"key\"");
	send_line_fds(c, line, fds, 2);
	close_all(fds, 2);
	assert_bad(f_wait(c, &k, "\"more\""),
		   "request announces 1 descriptors, 2 arrived with it");

	/* Descriptors with a line that announces none. */
	open_nulls(fds, 3);
	run_line(line, sizeof line, "none", NULL);
	send_line_fds(c, line, fds, 3);
	close_all(fds, 3);
	assert_bad(f_wait(c, &k, "\"none\""),
		   "request announces 0 descriptors, 3 arrived with it");
	assert_other_served(o, &ko, "o1");

	/* 17: more than any request takes (the line announces 16). */
	open_nulls(fds, 17);
	run_line(line, sizeof line, "many",
		 "\"key\",\"key\",\"key\",\"key\",\"key\",\"key\",\"key\","
		 "\"key\",\"key\",\"key\",\"key\",\"key\",\"key\",\"key\","
		 "\"key\",\"key\"");
	send_line_fds(c, line, fds, 17);
	assert_bad(f_wait(c, &k, "\"many\""),
		   "request announces 16 descriptors, 17 arrived with it");
	/* 40: the kernel cuts them off (MSG_CTRUNC). */
	open_nulls(fds + 17, 23);
	run_line(line, sizeof line, "cut", "\"key\"");
	send_line_fds(c, line, fds, 40);
	close_all(fds, 40);
	assert_bad(f_wait(c, &k, "\"cut\""),
		   "request announces 1 descriptors, more than 17 arrived");

	/* The wrong kind for the role. */
	ck_assert(pipe(fds) == 0);
	run_line(line, sizeof line, "pipe", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close_all(fds, 2);
	assert_bad(f_wait(c, &k, "\"pipe\""),
		   "fds[0] (key): not a regular file");
	fds[0] = junk_file(F_KEY_BIG);
	run_line(line, sizeof line, "big", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_bad(f_wait(c, &k, "\"big\""), "fds[0] (key): 66560 bytes");
	fds[0] = key_file();
	run_line(line, sizeof line, "agentfile", "\"agent\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_bad(f_wait(c, &k, "\"agentfile\""),
		   "fds[0] (agent): not a socket");

	/* A path member, with and without descriptors. */
	fds[0] = key_file();
	snprintf(line, sizeof line,
		 "{\"v\":1,\"id\":\"path\",\"op\":\"run\",\"hosts\":[\"%s\"],"
		 "\"command\":\"true\",\"identity_file\":\"/etc/passwd\"}",
		 fleet.hosts[0]);
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_bad(f_wait(c, &k, "\"path\""),
		   "the daemon opens no file named by a client");
	/* A malformed line's descriptors are closed too. */
	open_nulls(fds, 2);
	send_line_fds(c, "{\"v\":1,\"id\":\"j\",", fds, 2);
	close_all(fds, 2);
	/* And an empty line's. */
	open_nulls(fds, 2);
	send_line_fds(c, "", fds, 2);
	close_all(fds, 2);
	assert_other_served(o, &ko, "o2");
	/* The connection still works. */
	run_line(line, sizeof line, "after", NULL);
	ck_assert(tclient_send(c, "%s", line) == 0);
	assert_ok(f_wait(c, &k, "\"after\""));

	now = fd_settle(fds0);
	ck_assert_msg(now == fds0, "sshpoold holds %d descriptors, %d before",
		      now, fds0);
	tclient_close(c);
	tclient_close(o);
	tcollect_free(&k);
	tcollect_free(&ko);
	f_end();
}
END_TEST

/*
 * Descriptors split from their line's newline, sent in pieces, on an
 * overlong line, in many batches for one line (more than the daemon
 * queues), and many lines with descriptors back to back (the queue fills
 * and reading waits): each line gets exactly its own.
 */
/* Put line first in the daemon's configuration and reload it. */
static void
f_reload_with(const char *line, int reloads)
{
	char *text;
	long long deadline;
	size_t len, n = strlen(line);
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(dmn.conf, "r"));
	text = calloc(1, 65536 + n);
	ck_assert_ptr_nonnull(text);
	memcpy(text, line, n);
	len = n + fread(text + n, 1, 65535, fp);
	fclose(fp);
	ck_assert_ptr_nonnull(fp = fopen(dmn.conf, "w"));
	ck_assert(fwrite(text, 1, len, fp) == len);
	fclose(fp);
	free(text);
	ck_assert(kill(dmn.pid, SIGHUP) == 0);
	deadline = testutil_now_ms() + F_EVENT_MS;
	while (tdaemon_log_count(&dmn, "reloaded") < reloads) {
		ck_assert_msg(testutil_now_ms() < deadline, "no reload");
		usleep(20000);
	}
}

/* Occurrences of what in text. */
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

/* Sessions of the pools with credential cred in a status reply. */
static long long
pool_sessions(const char *status, const char *cred)
{
	json_object *root, *hosts, *h, *v;
	long long n = 0;
	size_t i;

	root = json_tokener_parse(status);
	ck_assert_msg(root != NULL &&
			  json_object_object_get_ex(root, "hosts", &hosts),
		      "status is not JSON: %.200s", status);
	for (i = 0; i < json_object_array_length(hosts); i++) {
		h = json_object_array_get_idx(hosts, i);
		if (json_object_object_get_ex(h, "credential", &v) &&
		    strcmp(json_object_get_string(v), cred) == 0 &&
		    json_object_object_get_ex(h, "sessions", &v))
			n += json_object_get_int64(v);
	}
	json_object_put(root);
	return n;
}

/*
 * A key passed by descriptor is the hosts' only credential, and its
 * sessions are its own: the authorized key logs in (a second request with
 * it reuses its session); the unauthorized one fails with auth_failed
 * although the daemon's own key and the first key's session would both
 * log in; a request without a key still uses the daemon's pool; status
 * lists the three pools apart, none showing a secret; a disconnect with the
 * key closes that key's session and not the daemon's.  With
 * AllowClientCredentials no, a key is refused with forbidden.
 */
START_TEST(test_fds_own_key)
{
	struct tclient *c;
	struct tcollect k;
	struct tcollect_req *r;
	char line[1024], cmd[PATH_MAX + 64], fp_text[256];
	int fds[1];
	FILE *pp;

	f_begin();
	c = f_connect();
	tcollect_init(&k);
	fds[0] = key_file();
	run_line(line, sizeof line, "mine", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_ok(f_wait(c, &k, "\"mine\""));
	fds[0] = key_file();
	run_line(line, sizeof line, "again", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	assert_ok(f_wait(c, &k, "\"again\""));
	fds[0] = key_file_of(fleet.wrong_key);
	run_line(line, sizeof line, "wrong", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	r = f_wait(c, &k, "\"wrong\"");
	ck_assert_msg(!r->reqerr && r->done.ok == 0 && r->nhosts == 1 &&
			  r->hosts[0]->code == PROTO_E_AUTH_FAILED &&
			  strstr(r->hosts[0]->message, "the client's key") !=
			      NULL,
		      "the unauthorized key: %s (%s)",
		      proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	run_line(line, sizeof line, "daemons", NULL);
	ck_assert(tclient_send(c, "%s", line) == 0);
	assert_ok(f_wait(c, &k, "\"daemons\""));

	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"st\",\"op\":"
				  "\"status\"}") == 0);
	tcollect_wait_status(c, &k, NULL, F_EVENT_MS);
	fprintf(stderr, "FDS: status: %.600s\n", k.status);
	ck_assert_msg(count_of(k.status, "\"credential\":\"client key\","
					 "\"credential_uid\":0") == 2 &&
			  count_of(k.status, "\"credential\":\"daemon\"") == 1,
		      "status does not list the pools apart: %s", k.status);
	/* The pool of the authorized key connected once for two requests. */
	ck_assert_msg(count_of(k.status, "\"connects\":1,") >= 2,
		      "a pool connected more than once: %s", k.status);
	/* No key material, not even the fingerprint, in status. */
	snprintf(cmd, sizeof cmd, "ssh-keygen -lf '%s' | cut -d' ' -f2",
		 fleet.key);
	ck_assert_ptr_nonnull(pp = popen(cmd, "r"));
	ck_assert(fgets(fp_text, sizeof fp_text, pp) != NULL);
	pclose(pp);
	fp_text[strcspn(fp_text, "\n")] = '\0';
	ck_assert(strlen(fp_text) > 10);
	ck_assert_msg(strstr(k.status, fp_text) == NULL,
		      "status shows the key's fingerprint");
	ck_assert_int_eq(pool_sessions(k.status, "client key"), 1);

	fds[0] = key_file();
	snprintf(line, sizeof line,
		 "{\"v\":1,\"id\":\"dk\",\"op\":\"disconnect\",\"hosts\":"
		 "[\"%s\"],\"fds\":[\"key\"]}",
		 fleet.hosts[0]);
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	{
		struct tcollect own;

		/* "disconnected" is a status event the collector does not
		 * take: a collector of its own. */
		tcollect_init(&own);
		tcollect_wait_end(c, &own, "\"dk\"", F_EVENT_MS);
		tcollect_free(&own);
	}
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"st2\",\"op\":"
				  "\"status\"}") == 0);
	tcollect_wait_status(c, &k, NULL, F_EVENT_MS);
	ck_assert_msg(pool_sessions(k.status, "client key") == 0 &&
			  pool_sessions(k.status, "daemon") == 1,
		      "after the key's disconnect: %s", k.status);

	f_reload_with("AllowClientCredentials no\n", 2);
	fds[0] = key_file();
	run_line(line, sizeof line, "nokeys", "\"key\"");
	send_line_fds(c, line, fds, 1);
	close(fds[0]);
	r = f_wait(c, &k, "\"nokeys\"");
	ck_assert_msg(r->reqerr && r->code == PROTO_E_FORBIDDEN &&
			  strstr(r->message, "AllowClientCredentials no") !=
			      NULL,
		      "AllowClientCredentials no: %s (%s)",
		      proto_code_name(r->code), r->message);
	tclient_close(c);
	tcollect_free(&k);
	f_end();
}
END_TEST

START_TEST(test_fds_streams)
{
	struct tclient *c;
	struct tcollect k;
	char line[1024], id[32], qid[40], *big;
	int fds[F_MAX_SEND], fds0, now, i;
	size_t bigsz = 3u * 1024 * 1024;

	f_begin();
	c = f_connect();
	tcollect_init(&k);
	run_line(line, sizeof line, "warm", NULL);
	ck_assert(tclient_send(c, "%s", line) == 0);
	assert_ok(f_wait(c, &k, "\"warm\""));
	/* A plain line right before each line with a descriptor: the
	 * daemon often reads both at once, and the descriptor still goes
	 * to the second. */
	for (i = 0; i < F_GLUED; i++) {
		snprintf(id, sizeof id, "g%d", i);
		run_line(line, sizeof line, id, NULL);
		ck_assert(tclient_send(c, "%s", line) == 0);
		snprintf(id, sizeof id, "k%d", i);
		run_line(line, sizeof line, id, "\"key\"");
		fds[0] = key_file();
		send_line_fds(c, line, fds, 1);
		close(fds[0]);
	}
	for (i = 0; i < F_GLUED; i++) {
		snprintf(qid, sizeof qid, "\"g%d\"", i);
		assert_ok(f_wait(c, &k, qid));
		snprintf(qid, sizeof qid, "\"k%d\"", i);
		assert_ok(f_wait(c, &k, qid));
	}

	/* Those runs may have opened more sessions: count from here. */
	fds0 = fd_steady();

	/* The descriptors with the line's first bytes, the rest after. */
	fds[0] = key_file();
	run_line(line, sizeof line, "split", "\"key\"");
	send_with_fds(c, line, 10, fds, 1);
	close(fds[0]);
	usleep(50000);
	ck_assert(tclient_send(c, "%s", line + 10) == 0);
	assert_ok(f_wait(c, &k, "\"split\""));

	/* Three batches of 16 for one line. */
	run_line(line, sizeof line, "batches", "\"key\"");
	for (i = 0; i < 3; i++) {
		open_nulls(fds, 16);
		send_with_fds(c, line + i * 5, 5, fds, 16);
		close_all(fds, 16);
		usleep(20000);
	}
	ck_assert(tclient_send(c, "%s", line + 15) == 0);
	assert_bad(f_wait(c, &k, "\"batches\""),
		   "request announces 1 descriptors, 48 arrived with it");

	/* An overlong line with descriptors. */
	big = malloc(bigsz + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', bigsz);
	big[bigsz] = '\n';
	open_nulls(fds, 4);
	send_with_fds(c, big, 4096, fds, 4);
	close_all(fds, 4);
	ck_assert(tclient_send_raw(c, big + 4096, bigsz + 1 - 4096) == 0);
	free(big);
	tcollect_read(c, &k, F_EVENT_MS);
	ck_assert_msg(k.nullerrors == 1, "no error for the overlong line");

	/* Many lines, each with its own, back to back. */
	for (i = 0; i < F_PIPELINE; i++) {
		snprintf(id, sizeof id, "p%d", i);
		open_nulls(fds, F_PIPELINE_FDS);
		snprintf(line, sizeof line,
			 "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":"
			 "[\"%s\"],\"command\":\"true\",\"fds\":[%s]}",
			 id, fleet.hosts[0],
			 "\"key\",\"key\",\"key\",\"key\",\"key\",\"key\","
			 "\"key\",\"key\",\"key\",\"key\",\"key\",\"key\","
			 "\"key\",\"key\",\"key\",\"key\"");
		send_line_fds(c, line, fds, F_PIPELINE_FDS);
		close_all(fds, F_PIPELINE_FDS);
	}
	/* Every one counted right: /dev/null is no key, so each is refused
	 * for its kind, not for its count. */
	for (i = 0; i < F_PIPELINE; i++) {
		snprintf(qid, sizeof qid, "\"p%d\"", i);
		assert_bad(f_wait(c, &k, qid),
			   "fds[0] (key): not a regular file");
	}
	run_line(line, sizeof line, "after", NULL);
	ck_assert(tclient_send(c, "%s", line) == 0);
	assert_ok(f_wait(c, &k, "\"after\""));
	now = fd_settle(fds0);
	ck_assert_msg(now == fds0, "sshpoold holds %d descriptors, %d before",
		      now, fds0);

	/* A client that goes away with descriptors queued leaks none. */
	open_nulls(fds, 8);
	send_with_fds(c, "{\"v\":1,", 7, fds, 8);
	close_all(fds, 8);
	usleep(50000);
	tclient_close(c);
	now = fd_settle(fds0 - 1);
	ck_assert_msg(now == fds0 - 1,
		      "sshpoold holds %d descriptors, %d expected", now,
		      fds0 - 1);
	tcollect_free(&k);
	f_end();
}
END_TEST

static Suite *
fds_suite(void)
{
	Suite *s = suite_create("fds");
	TCase *tc = tcase_create("fds");

	tcase_set_timeout(tc, F_TIMEOUT_S);
	tcase_add_test(tc, test_fds_rules);
	tcase_add_test(tc, test_fds_streams);
	tcase_add_test(tc, test_fds_own_key);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(fds_suite());
}
