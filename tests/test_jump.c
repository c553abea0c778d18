/* SPDX-License-Identifier: ISC */
/*
 * Jump hosts (`fleet.sh jump-start`): a network namespace of the fixture's
 * own holds a bastion reachable from here over a veth pair, a second
 * bastion (hop 2) reachable only from inside, a bastion that refuses TCP
 * forwarding and targets reachable only from inside.  OpenSSH's own client
 * proves the fixture: a direct connection to a target is refused, one
 * through the bastion (ssh -J) gets there and the target's log shows it
 * came from the namespace, two hops get there too, and the bastion without
 * forwarding refuses the channel.  A daemon of the test's own (LogLevel
 * DEBUG, a configuration per test) reaches the bastion directly and is
 * refused by a target, as any client without a jump host is.
 *
 * Root only (network namespaces, a system user); exits 77, a skip,
 * otherwise and when `ip netns add` or a veth pair is not permitted.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
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

#define TJ_SKIP 77
#define TJ_EVENT_MS tclient_scaled_ms(20000)
#define TJ_START_MS tclient_scaled_ms(10000)
#define TJ_STOP_MS tclient_scaled_ms(10000)
#define TJ_OUT_KEEP 63
#define TJ_CONF_MAX 16384
#define TJ_PATH 512        /* bytes of the fixture's paths */
#define TJ_MAX_TARGETS 200 /* fleet.sh's JUMP_MAX_TARGETS */
#define TJ_SSH_TARGETS 3   /* reached with OpenSSH's ssh -J, one by one */
#define TJ_TARGETS 100     /* started, for the fan-out through one bastion */
#define TJ_ENV_LINE 131072 /* the longest line of jump.env */
#define TJ_SSH_OUT 8192    /* bytes of ssh's output kept */
#define TJ_LOG_MAX 4194304 /* bytes of an sshd log read */

/* What jump.env records. */
static struct {
	char dir[TJ_PATH], user[64], netns[64];
	char root_addr[32], ns_addr[32];
	char bastion_addr[32], bastion_port[16];
	char hop2_addr[32], hop2_port[16];
	char nofwd_addr[32], nofwd_port[16];
	char target_port[16];
	char bastion_key[TJ_PATH], target_key[TJ_PATH];
	char known_hosts[TJ_PATH], ssh_config[TJ_PATH];
	char bastion_log[TJ_PATH], hop2_log[TJ_PATH], nofwd_log[TJ_PATH];
	size_t ntargets;
	char targets[TJ_MAX_TARGETS][32]; /* "127.0.0.3" */
	char target_logs[TJ_MAX_TARGETS][TJ_PATH];
} env;
static char jump_dir[TJ_PATH];

/* One daemon of a test. */
static struct {
	pid_t pid;
	char dir[TCLIENT_MAX_DIR], conf[PATH_MAX], sock[PATH_MAX];
	char log[PATH_MAX];
} dmn;

void
testutil_failed(void)
{
	static int failing;
	char cmd[PATH_MAX + 32];

	if (failing++ == 0 && dmn.pid > 0) {
		snprintf(cmd, sizeof cmd, "tail -n 40 '%s' >&2", dmn.log);
		if (system(cmd) != 0)
			fprintf(stderr, "no daemon log\n");
	}
}

static int
fleet_sh(const char *args)
{
	const char *src = getenv("SSHPOOL_FLEET_SH");
	char cmd[PATH_MAX * 3];

	if (src == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "bash '%s' %s", src, args);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- jump.env ---- */

/* The value of NAME='value' in line into out; 1 if line sets name. */
static int
env_value(const char *line, const char *name, char *out, size_t outlen)
{
	size_t ln = strlen(name), n;
	const char *v, *e;

	if (strncmp(line, name, ln) != 0 || strncmp(line + ln, "='", 2) != 0)
		return 0;
	v = line + ln + 2;
	if ((e = strchr(v, '\'')) == NULL || (n = (size_t)(e - v)) >= outlen)
		return 0;
	memcpy(out, v, n);
	out[n] = '\0';
	return 1;
}

/* Split the space-separated words of text into rows of a table. */
static size_t
split_words(const char *text, char *rows, size_t rowlen, size_t maxrows)
{
	const char *p = text;
	size_t n = 0, len;

	while (*p != '\0' && n < maxrows) {
		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		if (len < rowlen) {
			memcpy(rows + n * rowlen, p, len);
			rows[n * rowlen + len] = '\0';
			n++;
		}
		p += len;
	}
	return n;
}

#define ENV(f, name) env_value(line, name, env.f, sizeof env.f)

static int
env_load(void)
{
	static char line[TJ_ENV_LINE], words[TJ_ENV_LINE];
	char path[TJ_PATH + 16];
	size_t nlogs = 0;
	FILE *fp;

	snprintf(path, sizeof path, "%s/jump.env", jump_dir);
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		ENV(dir, "JUMP_DIR");
		ENV(user, "JUMP_USER");
		ENV(netns, "JUMP_NETNS");
		ENV(root_addr, "JUMP_ROOT_ADDR");
		ENV(ns_addr, "JUMP_NS_ADDR");
		ENV(bastion_addr, "JUMP_BASTION_ADDR");
		ENV(bastion_port, "JUMP_BASTION_PORT");
		ENV(hop2_addr, "JUMP_HOP2_ADDR");
		ENV(hop2_port, "JUMP_HOP2_PORT");
		ENV(nofwd_addr, "JUMP_NOFWD_ADDR");
		ENV(nofwd_port, "JUMP_NOFWD_PORT");
		ENV(target_port, "JUMP_TARGET_PORT");
		ENV(bastion_key, "JUMP_BASTION_KEY");
		ENV(target_key, "JUMP_TARGET_KEY");
		ENV(known_hosts, "JUMP_KNOWN_HOSTS");
		ENV(ssh_config, "JUMP_SSH_CONFIG");
		ENV(bastion_log, "JUMP_BASTION_LOG");
		ENV(hop2_log, "JUMP_HOP2_LOG");
		ENV(nofwd_log, "JUMP_NOFWD_LOG");
		if (env_value(line, "JUMP_TARGET_ADDRS", words, sizeof words))
			env.ntargets =
			    split_words(words, &env.targets[0][0],
					sizeof env.targets[0], TJ_MAX_TARGETS);
		if (env_value(line, "JUMP_TARGET_LOGS", words, sizeof words))
			nlogs = split_words(words, &env.target_logs[0][0],
					    sizeof env.target_logs[0],
					    TJ_MAX_TARGETS);
	}
	fclose(fp);
	if (env.ntargets == 0 || nlogs != env.ntargets ||
	    env.bastion_port[0] == '\0' || env.hop2_port[0] == '\0' ||
	    env.nofwd_port[0] == '\0' || env.root_addr[0] == '\0' ||
	    env.ssh_config[0] == '\0' || env.target_key[0] == '\0') {
		fprintf(stderr, "incomplete %s\n", path);
		return -1;
	}
	return 0;
}

/* ---- files ---- */

/* Write text to path with mode. */
static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	ssize_t n = (ssize_t)strlen(text);

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert(write(fd, text, (size_t)n) == n);
	ck_assert(fchmod(fd, mode) == 0);
	close(fd);
}

/* The size of a log now: where the next test's lines begin. */
static long
log_mark(const char *path)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	return (long)st.st_size;
}

/* The text of a log from offset on (malloc'ed, NUL-terminated). */
static char *
log_since(const char *path, long offset)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fseek(fp, offset, SEEK_SET) == 0);
	buf = malloc(TJ_LOG_MAX + 1);
	ck_assert(buf != NULL);
	n = fread(buf, 1, TJ_LOG_MAX, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

/*
 * The client addresses of sshd's "Connection from ADDR port N on ..."
 * lines in text, space-separated into out; their number.
 */
static int
connections_from(const char *text, char *out, size_t outlen)
{
	static const char tag[] = "Connection from ";
	const char *p = text;
	size_t len, used = 0;
	int n = 0;

	out[0] = '\0';
	while ((p = strstr(p, tag)) != NULL) {
		p += sizeof tag - 1;
		len = strcspn(p, " \n");
		if (used + len + 2 < outlen) {
			memcpy(out + used, p, len);
			used += len;
			out[used++] = ' ';
			out[used] = '\0';
		}
		n++;
	}
	return n;
}

/*
 * The log at path got connections since mark and each came from one of
 * the namespace's own addresses (its loopback or its veth end), never from
 * the root namespace's end of the veth pair.
 */
static void
assert_from_namespace(const char *path, long mark, const char *what)
{
	char addrs[1024], word[64];
	char *text = log_since(path, mark);
	const char *p;
	int n = connections_from(text, addrs, sizeof addrs);
	size_t len;

	free(text);
	ck_assert_msg(n > 0, "%s: no connection in %s", what, path);
	for (p = addrs; *p != '\0'; p += len + 1) {
		len = strcspn(p, " ");
		ck_assert(len < sizeof word);
		memcpy(word, p, len);
		word[len] = '\0';
		ck_assert_msg(strcmp(word, env.root_addr) != 0,
			      "%s: a connection from the root namespace (%s)",
			      what, word);
		ck_assert_msg(strncmp(word, "127.", 4) == 0 ||
				  strcmp(word, env.ns_addr) == 0,
			      "%s: a connection from %s, not the namespace",
			      what, word);
	}
}

/* The log at path got a connection from the root side since mark. */
static void
assert_from_root(const char *path, long mark, const char *what)
{
	char addrs[1024], want[48];
	char *text = log_since(path, mark);

	connections_from(text, addrs, sizeof addrs);
	free(text);
	snprintf(want, sizeof want, "%s ", env.root_addr);
	ck_assert_msg(strstr(addrs, want) != NULL,
		      "%s: no connection from %s in %s (from: %s)", what,
		      env.root_addr, path, addrs);
}

/* ---- OpenSSH's client ---- */

/*
 * Run `ssh -F JUMP_SSH_CONFIG ARGS` (args: shell words) with stdin from
 * /dev/null; its exit status, or -1; its stdout and stderr into out.
 */
static int
ssh_run(char *out, size_t outlen, const char *fmt, ...)
{
	char args[4096], cmd[8192];
	va_list ap;
	FILE *fp;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "ssh -F '%s' %s </dev/null 2>&1",
		 env.ssh_config, args);
	fp = popen(cmd, "r");
	ck_assert_msg(fp != NULL, "popen: %s", strerror(errno));
	n = fread(out, 1, outlen - 1, fp);
	out[n] = '\0';
	st = pclose(fp);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "user@addr:port", as -J and the daemon's ProxyJump take a jump host. */
static const char *
jump_spec(const char *addr, const char *port)
{
	static char buf[4][160];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof buf[0], "%s@%s:%s", env.user, addr, port);
	return b;
}

/* ---- the daemon ---- */

static void
jd_prepare(void)
{
	memset(&dmn, 0, sizeof dmn);
	snprintf(dmn.dir, sizeof dmn.dir, "/tmp/sshpool-jump.XXXXXX");
	ck_assert(mkdtemp(dmn.dir) != NULL);
	snprintf(dmn.conf, sizeof dmn.conf, "%s/sshpoold.conf", dmn.dir);
	snprintf(dmn.sock, sizeof dmn.sock, "%s/sock", dmn.dir);
	snprintf(dmn.log, sizeof dmn.log, "%s/sshpoold.log", dmn.dir);
}

/*
 * The configuration: the fixture's user, both of its keys (the bastions'
 * and the targets'), its known_hosts, debug logging, then extra (Host
 * blocks, ProxyJump and the like).
 */
static void
jd_conf(const char *extra)
{
	char text[TJ_CONF_MAX];

	snprintf(
	    text, sizeof text,
	    "Socket %s\n%sLogLevel DEBUG\nUser %s\nIdentityFile %s\n"
	    "IdentityFile %s\nIdentityAgent none\n"
	    "UserKnownHostsFile %s\nConnectTimeout 10\n%s\n",
	    dmn.sock, strstr(extra, "Workers ") != NULL ? "" : "Workers 2\n",
	    env.user, env.bastion_key, env.target_key, env.known_hosts, extra);
	write_file(dmn.conf, text, 0600);
}

/* Start `$SSHPOOLD -d -f CONF` on the configuration of jd_conf(extra);
 * a connection to its socket once it accepts. */
static struct tclient *
jd_start_in(const char *extra)
{
	const char *path = getenv("SSHPOOLD");
	struct tclient *c = NULL;
	long long end;
	int fd;

	ck_assert_msg(path != NULL, "SSHPOOLD unset");
	jd_conf(extra);
	dmn.pid = fork();
	ck_assert(dmn.pid != -1);
	if (dmn.pid == 0) {
		/* Dies with the test process, a failed one included. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
			_exit(126);
		fd = open(dmn.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd == -1)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(path, path, "-d", "-f", dmn.conf, (char *)NULL);
		_exit(127);
	}
	end = testutil_now_ms() + TJ_START_MS;
	while (testutil_now_ms() < end &&
	       (c = tclient_connect(dmn.sock)) == NULL)
		usleep(20000);
	ck_assert_msg(c != NULL, "sshpoold did not start (see %s)", dmn.log);
	return c;
}

/* The same in a fresh directory (jd_prepare). */
static struct tclient *
jd_start(const char *extra)
{
	jd_prepare();
	return jd_start_in(extra);
}

/* SIGTERM, a bounded wait, SIGKILL; the daemon must have exited 0. */
static void
jd_stop(struct tclient *c)
{
	long long end = testutil_now_ms() + TJ_STOP_MS;
	int status = 0;
	pid_t r = 0;

	tclient_close(c);
	kill(dmn.pid, SIGTERM);
	while (testutil_now_ms() < end &&
	       (r = waitpid(dmn.pid, &status, WNOHANG)) == 0)
		usleep(20000);
	if (r == 0) {
		kill(dmn.pid, SIGKILL);
		waitpid(dmn.pid, &status, 0);
	}
	dmn.pid = 0;
	ck_assert_msg(r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "sshpoold did not exit cleanly");
}

static void
jd_cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dmn.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dmn.dir);
}

/* Run command (NULL: connect) on host; the host's result. */
static struct tcollect_host *
jd_run(struct tclient *c, struct tcollect *k, const char *host, const char *id,
       const char *command)
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
	r = tcollect_wait_end(c, k, jid, TJ_EVENT_MS);
	ck_assert_msg(!r->reqerr && r->nhosts == 1, "%s: request error %s", id,
		      r->message);
	return r->hosts[0];
}

static void
assert_ran(const struct tcollect_host *h, const char *what)
{
	ck_assert_msg(h->code == PROTO_E_NONE && h->exited && h->status == 0 &&
			  strcmp(h->out, "ok\n") == 0,
		      "%s: %s (%s), exit %d, out '%s'", what,
		      proto_code_name(h->code), h->message, h->status, h->out);
}

#define RUN_OK "echo ok"

/* ---- tests ---- */

/*
 * From the root namespace a target is refused: nothing listens on its
 * address and port here, so only a way through the bastion reaches it.
 */
START_TEST(test_direct_blocked)
{
	char out[TJ_SSH_OUT];
	size_t i;
	int st;

	for (i = 0; i < env.ntargets; i++) {
		st = ssh_run(out, sizeof out, "-p %s '%s@%s' true",
			     env.target_port, env.user, env.targets[i]);
		ck_assert_msg(st == 255, "ssh to %s directly: exit %d: %s",
			      env.targets[i], st, out);
		ck_assert_msg(strstr(out, "Connection refused") != NULL ||
				  strstr(out, "unreachable") != NULL ||
				  strstr(out, "No route") != NULL,
			      "ssh to %s directly: %s", env.targets[i], out);
	}
}
END_TEST

/*
 * ssh -J bastion reaches the first targets; the bastion's log shows the client
 * from the root side of the veth pair, the target's log the bastion from
 * inside the namespace.
 */
START_TEST(test_one_hop)
{
	const char *bastion = jump_spec(env.bastion_addr, env.bastion_port);
	char out[TJ_SSH_OUT], what[64];
	long bmark, tmark;
	size_t i;
	int st;

	for (i = 0; i < env.ntargets && i < TJ_SSH_TARGETS; i++) {
		snprintf(what, sizeof what, "target %s", env.targets[i]);
		bmark = log_mark(env.bastion_log);
		tmark = log_mark(env.target_logs[i]);
		st =
		    ssh_run(out, sizeof out, "-J '%s' -p %s '%s@%s' 'echo ok'",
			    bastion, env.target_port, env.user, env.targets[i]);
		ck_assert_msg(st == 0 && strcmp(out, "ok\n") == 0,
			      "ssh -J %s to %s: exit %d: %s", bastion,
			      env.targets[i], st, out);
		assert_from_root(env.bastion_log, bmark, "the bastion");
		assert_from_namespace(env.target_logs[i], tmark, what);
	}
}
END_TEST

/*
 * ssh -J bastion,hop2: hop 2 (reachable only from inside) sees the
 * bastion from inside the namespace, and the target is reached.
 */
START_TEST(test_two_hops)
{
	const char *bastion = jump_spec(env.bastion_addr, env.bastion_port);
	const char *hop2 = jump_spec(env.hop2_addr, env.hop2_port);
	size_t last = env.ntargets - 1;
	char out[TJ_SSH_OUT];
	long bmark, hmark, tmark;
	int st;

	bmark = log_mark(env.bastion_log);
	hmark = log_mark(env.hop2_log);
	tmark = log_mark(env.target_logs[last]);
	st = ssh_run(out, sizeof out, "-J '%s,%s' -p %s '%s@%s' 'echo ok'",
		     bastion, hop2, env.target_port, env.user,
		     env.targets[last]);
	ck_assert_msg(st == 0 && strcmp(out, "ok\n") == 0,
		      "ssh -J %s,%s: exit %d: %s", bastion, hop2, st, out);
	assert_from_root(env.bastion_log, bmark, "the bastion");
	assert_from_namespace(env.hop2_log, hmark, "hop 2");
	assert_from_namespace(env.target_logs[last], tmark, "the target");
	/* Hop 2 is not reachable from the root namespace itself. */
	st = ssh_run(out, sizeof out, "-p %s '%s@%s' true", env.hop2_port,
		     env.user, env.hop2_addr);
	ck_assert_msg(st == 255 && strstr(out, "Connection refused") != NULL,
		      "ssh to hop 2 directly: exit %d: %s", st, out);
}
END_TEST

/*
 * The bastion with AllowTcpForwarding no lets the client log in but
 * refuses the direct-tcpip channel to the target.
 */
START_TEST(test_no_forwarding)
{
	const char *nofwd = jump_spec(env.nofwd_addr, env.nofwd_port);
	char out[TJ_SSH_OUT];
	long tmark;
	int st;

	tmark = log_mark(env.target_logs[0]);
	st = ssh_run(out, sizeof out, "-J '%s' -p %s '%s@%s' true", nofwd,
		     env.target_port, env.user, env.targets[0]);
	ck_assert_msg(st != 0, "ssh -J %s succeeded: %s", nofwd, out);
	ck_assert_msg(strstr(out, "administratively prohibited") != NULL ||
			  strstr(out, "open failed") != NULL,
		      "ssh -J %s: exit %d: %s", nofwd, st, out);
	ck_assert_msg(log_mark(env.target_logs[0]) == tmark,
		      "the target got a connection through %s", nofwd);
}
END_TEST

/*
 * The daemon, configured with the fixture's keys and no jump host,
 * answers status, runs a command on the bastion (its log shows the root
 * side) and is refused by a target, which only a jump host reaches.
 */
START_TEST(test_daemon_without_jump)
{
	char bastion[160], target[160];
	struct tcollect_host *h;
	struct tcollect k;
	struct tclient *c;
	long bmark;

	snprintf(bastion, sizeof bastion, "%s",
		 jump_spec(env.bastion_addr, env.bastion_port));
	snprintf(target, sizeof target, "%s",
		 jump_spec(env.targets[0], env.target_port));
	c = jd_start("");
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	ck_assert(
	    tclient_send(c, "{\"v\":1,\"id\":\"st\",\"op\":\"status\"}") == 0);
	tcollect_wait_status(c, &k, "\"st\"", TJ_EVENT_MS);
	ck_assert_msg(k.status != NULL, "no status reply");
	bmark = log_mark(env.bastion_log);
	assert_ran(jd_run(c, &k, bastion, "b", RUN_OK), "the bastion");
	assert_from_root(env.bastion_log, bmark, "the bastion");
	h = jd_run(c, &k, target, "t", RUN_OK);
	ck_assert_msg(h->code == PROTO_E_CONNECT_FAILED,
		      "a target without a jump host: %s (%s)",
		      proto_code_name(h->code), h->message);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

/* ---- the daemon through jump hosts ---- */

/* The status entry of the pool named key ("user@addr:port"), from a new
 * status reply; NULL if absent.  The reply is kept in k. */
static json_object *
jd_status(struct tclient *c, struct tcollect *k, const char *key,
	  json_object **root)
{
	json_object *hosts, *h, *name;
	size_t i;

	ck_assert(
	    tclient_send(c, "{\"v\":1,\"id\":\"st\",\"op\":\"status\"}") == 0);
	tcollect_wait_status(c, k, "\"st\"", TJ_EVENT_MS);
	ck_assert_msg(k->status != NULL, "no status reply");
	json_object_put(*root);
	*root = json_tokener_parse(k->status);
	ck_assert_msg(*root != NULL, "status is not JSON: %.200s", k->status);
	if (!json_object_object_get_ex(*root, "hosts", &hosts))
		return NULL;
	for (i = 0; i < json_object_array_length(hosts); i++) {
		h = json_object_array_get_idx(hosts, i);
		if (json_object_object_get_ex(h, "host", &name) &&
		    strcmp(json_object_get_string(name), key) == 0)
			return h;
	}
	return NULL;
}

static long long
jd_int(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(o != NULL && json_object_object_get_ex(o, key, &v),
		      "status has no %s", key);
	return json_object_get_int64(v);
}

/* Send command for the first n targets in one request, expected in k. */
static void
jd_send_start(struct tclient *c, struct tcollect *k, const char *id, size_t n,
	      const char *command)
{
	static char specs[TJ_MAX_TARGETS][160];
	const char *hosts[TJ_MAX_TARGETS];
	char line[TJ_MAX_TARGETS * 170 + 256], jid[40];
	size_t i, off;

	off = (size_t)snprintf(line, sizeof line,
			       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
			       "\"command\":\"%s\",\"hosts\":[",
			       id, command);
	for (i = 0; i < n; i++) {
		snprintf(specs[i], sizeof specs[i], "%s",
			 jump_spec(env.targets[i], env.target_port));
		hosts[i] = specs[i];
		off += (size_t)snprintf(line + off, sizeof line - off,
					"%s\"%s\"", i > 0 ? "," : "", specs[i]);
	}
	snprintf(line + off, sizeof line - off, "]}");
	snprintf(jid, sizeof jid, "\"%s\"", id);
	tcollect_expect(k, jid, hosts, n);
	ck_assert(tclient_send(c, "%s", line) == 0);
}

/* Run command on the first n targets in one request; its record once
 * it ended. */
static struct tcollect_req *
jd_send_all(struct tclient *c, struct tcollect *k, const char *id, size_t n,
	    const char *command)
{
	char jid[40];
	struct tcollect_req *r;

	jd_send_start(c, k, id, n, command);
	snprintf(jid, sizeof jid, "\"%s\"", id);
	r = tcollect_wait_end(c, k, jid, TJ_EVENT_MS);
	ck_assert_msg(!r->reqerr && r->nhosts == n, "%s: request error %s", id,
		      r->message);
	return r;
}

/* Run RUN_OK on every target at once; each must succeed. */
static void
jd_run_all(struct tclient *c, struct tcollect *k, const char *id, size_t n)
{
	struct tcollect_req *r = jd_send_all(c, k, id, n, RUN_OK);
	size_t i;

	for (i = 0; i < n; i++)
		assert_ran(r->hosts[i], r->hosts[i]->host);
}

/* Config lines: targets (127.0.0.*) through the hops given. */
static const char *
jd_targets_via(const char *hops, const char *more)
{
	static char buf[8192];

	ck_assert(snprintf(buf, sizeof buf,
			   "Host 127.0.0.*\n\tProxyJump %s\n%s", hops,
			   more) < (int)sizeof buf);
	return buf;
}

/* Append the children of pid to pids (at most max in all); their number
 * now. */
static size_t
children_of(long pid, pid_t *pids, size_t n, size_t max)
{
	char cmd[64], line[64];
	FILE *fp;

	snprintf(cmd, sizeof cmd, "pgrep -P %ld", pid);
	ck_assert((fp = popen(cmd, "r")) != NULL);
	while (n < max && fgets(line, sizeof line, fp) != NULL)
		pids[n++] = (pid_t)atol(line);
	pclose(fp);
	return n;
}

/* The bastion sshd's listener. */
static long
bastion_listener(void)
{
	char path[TJ_PATH + 64];
	FILE *fp;
	long lpid = 0;

	snprintf(path, sizeof path, "%s/jump-sshd.bastion.pid", env.dir);
	if ((fp = fopen(path, "r")) == NULL || fscanf(fp, "%ld", &lpid) != 1)
		ck_abort_msg("%s: no pid", path);
	fclose(fp);
	return lpid;
}

/* Sessions the bastion's sshd serves: its children. */
static size_t
bastion_monitors(void)
{
	pid_t pids[64];

	return children_of(bastion_listener(), pids, 0, 64);
}

/* PIDs of the bastion sshd's session processes: its children (the
 * privileged monitors) and theirs (the network side, which holds the
 * connection). */
static size_t
bastion_sessions(pid_t *pids, size_t max)
{
	size_t i, n, monitors;

	n = monitors = children_of(bastion_listener(), pids, 0, max);
	for (i = 0; i < monitors; i++)
		n = children_of((long)pids[i], pids, n, max);
	return n;
}

/*
 * ProxyJump through the bastion: every target runs, its sshd saw the
 * connection come from inside the namespace, and ceil(targets / 64)
 * bastion sessions carry them all (status, and the bastion sshd's
 * processes: that many sessions, a tunnel per target; the
 * targets' entries name the hop).  The same targets again run on the warm
 * sessions: no new login to the bastion or the targets.
 */
START_TEST(test_daemon_one_hop)
{
	char bastion[160];
	json_object *root = NULL, *b, *t;
	struct tcollect k;
	struct tclient *c;
	/* ceil(n / MaxTunnelsPerSession's default) */
	size_t sessions = (env.ntargets + 63) / 64;
	long long end;
	size_t nmon;
	long mark;
	size_t n = env.ntargets;

	snprintf(bastion, sizeof bastion, "%s",
		 jump_spec(env.bastion_addr, env.bastion_port));
	c = jd_start(jd_targets_via(bastion, ""));
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	mark = log_mark(env.target_logs[0]);
	jd_run_all(c, &k, "cold", n);
	assert_from_namespace(env.target_logs[0], mark, "a target");
	jd_run_all(c, &k, "warm", n);
	fprintf(stderr,
		"JUMP: %zu targets through one bastion: cold %lld ms, warm "
		"%lld ms\n",
		n,
		tcollect_req(&k, "\"cold\"")->t_end -
		    tcollect_req(&k, "\"cold\"")->t_sent,
		tcollect_req(&k, "\"warm\"")->t_end -
		    tcollect_req(&k, "\"warm\"")->t_sent);
	b = jd_status(c, &k, bastion, &root);
	ck_assert_msg(b != NULL, "no status of the bastion: %.300s", k.status);
	ck_assert_msg(jd_int(b, "sessions") == (long long)sessions &&
			  jd_int(b, "connects") == (long long)sessions,
		      "%zu targets took %lld bastion sessions (%lld logins)", n,
		      jd_int(b, "sessions"), jd_int(b, "connects"));
	ck_assert_msg(jd_int(b, "tunnels") == (long long)n,
		      "the bastion carries %lld tunnels for %zu targets",
		      jd_int(b, "tunnels"), n);
	/* The bastion's sshd agrees: a session process (its monitor) each,
	 * once those of earlier tests' daemons have exited. */
	end = testutil_now_ms() + tclient_scaled_ms(3000);
	while ((nmon = bastion_monitors()) > sessions &&
	       testutil_now_ms() < end)
		usleep(50000);
	ck_assert_msg(nmon == sessions,
		      "the bastion's sshd serves %zu sessions, not %zu", nmon,
		      sessions);
	t = jd_status(c, &k, jump_spec(env.targets[0], env.target_port), &root);
	ck_assert_msg(t != NULL && jd_int(t, "connects") == 1,
		      "a target logged in again on the warm run");
	ck_assert_msg(strstr(k.status, "\"jump\":\"") != NULL,
		      "the targets' status does not name the hop: %.300s",
		      k.status);
	json_object_put(root);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

/*
 * MaxTunnelsPerSession 4: ceil(targets / 4) bastion sessions carry them.
 * With MaxSessionsPerHost 2 and MaxTunnelsPerSession 2 the bastion carries
 * 4 tunnels: 4 targets run and the others end with limit naming both.
 */
START_TEST(test_daemon_tunnels_per_session)
{
	char bastion[160], more[256];
	json_object *root = NULL, *b;
	struct tcollect_req *r;
	struct tcollect k;
	struct tclient *c;
	size_t i, n = env.ntargets, ok = 0, limited = 0;

	snprintf(bastion, sizeof bastion, "%s",
		 jump_spec(env.bastion_addr, env.bastion_port));
	snprintf(more, sizeof more,
		 "Host %s\n\tMaxTunnelsPerSession 4\n\tMaxSessionsPerHost 64\n",
		 env.bastion_addr);
	c = jd_start(jd_targets_via(bastion, more));
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	jd_run_all(c, &k, "r", n);
	b = jd_status(c, &k, bastion, &root);
	ck_assert_msg(b != NULL &&
			  jd_int(b, "sessions") == (long long)(n + 3) / 4,
		      "%zu targets, 4 tunnels a session: %lld sessions", n,
		      b != NULL ? jd_int(b, "sessions") : -1);
	json_object_put(root);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();

	snprintf(more, sizeof more,
		 "Host %s\n\tMaxTunnelsPerSession 2\n\tMaxSessionsPerHost 2\n",
		 env.bastion_addr);
	c = jd_start(jd_targets_via(bastion, more));
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	r = jd_send_all(c, &k, "lim", n, RUN_OK);
	for (i = 0; i < r->nhosts; i++) {
		if (r->hosts[i]->code == PROTO_E_NONE && r->hosts[i]->exited)
			ok++;
		else if (r->hosts[i]->code == PROTO_E_LIMIT &&
			 strstr(r->hosts[i]->message,
				"MaxTunnelsPerSession 2") != NULL)
			limited++;
	}
	ck_assert_msg(ok == 4 && limited == n - 4,
		      "a bastion of 4 tunnels: %zu ran, %zu limited of %zu", ok,
		      limited, n);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

/*
 * Two hops, every name an alias (HostName) with keys of its own Host
 * block: the bastion, then hop 2, which only the namespace reaches, then
 * the target; a request's own jump reaches another target.  A hop with a wrong
 * key fails the target with proxy_failed naming that hop; a bastion that
 * refuses forwarding gives proxy_refused.
 */
START_TEST(test_daemon_two_hops)
{
	char extra[TJ_CONF_MAX], want[200];
	struct tcollect_req *r;
	struct tcollect_host *h;
	struct tcollect k;
	struct tclient *c;
	long mark;

	snprintf(extra, sizeof extra,
		 "Host bastion\n\tHostName %s\n\tPort %s\n\tIdentityFile %s\n"
		 "Host hop2\n\tHostName %s\n\tPort %s\n\tIdentityFile %s\n"
		 "Host nofwd\n\tHostName %s\n\tPort %s\n"
		 "Host badhop\n\tHostName %s\n\tPort %s\n\tIdentityFile %s\n"
		 "Host web1\n\tHostName %s\n\tPort %s\n\tIdentityFile %s\n"
		 "\tProxyJump bastion,hop2\n"
		 "Host web2\n\tHostName %s\n\tPort %s\n\tProxyJump nofwd\n"
		 "Host web3\n\tHostName %s\n\tPort %s\n\tProxyJump badhop\n",
		 env.bastion_addr, env.bastion_port, env.bastion_key,
		 env.hop2_addr, env.hop2_port, env.bastion_key, env.nofwd_addr,
		 env.nofwd_port, env.bastion_addr, env.bastion_port,
		 env.target_key, env.targets[0], env.target_port,
		 env.target_key, env.targets[0], env.target_port,
		 env.targets[0], env.target_port);
	c = jd_start(extra);
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	mark = log_mark(env.hop2_log);
	assert_ran(jd_run(c, &k, "web1", "two", RUN_OK), "two hops");
	assert_from_namespace(env.hop2_log, mark, "hop 2");
	/* The request's own jump: the same target, through the bastion. */
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"rj\",\"op\":\"run\","
			       "\"hosts\":[\"%s\"],\"command\":\"" RUN_OK "\","
			       "\"jump\":\"bastion\"}",
			       jump_spec(env.targets[1], env.target_port)) ==
		  0);
	r = tcollect_wait_end(c, &k, "\"rj\"", TJ_EVENT_MS);
	ck_assert_msg(!r->reqerr && r->nhosts == 1, "jump member: %s",
		      r->message);
	assert_ran(r->hosts[0], "the request's jump");
	h = jd_run(c, &k, "web2", "refused", RUN_OK);
	ck_assert_msg(h->code == PROTO_E_PROXY_REFUSED &&
			  strstr(h->message, "nofwd") != NULL,
		      "a bastion without forwarding: %s (%s)",
		      proto_code_name(h->code), h->message);
	h = jd_run(c, &k, "web3", "badhop", RUN_OK);
	snprintf(want, sizeof want, "jump host %s@badhop", env.user);
	ck_assert_msg(h->code == PROTO_E_PROXY_FAILED &&
			  strstr(h->message, want) != NULL &&
			  strstr(h->message, "auth_failed") != NULL,
		      "a hop with a wrong key: %s (%s)",
		      proto_code_name(h->code), h->message);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

/* Read until each of the n hosts of request id wrote some output. */
static void
jd_wait_output(struct tclient *c, struct tcollect *k, const char *id, size_t n)
{
	long long end = testutil_now_ms() + TJ_EVENT_MS;
	struct tcollect_req *r;
	size_t i, have = 0;

	while (have < n && testutil_now_ms() < end) {
		tcollect_poll(c, k, 200);
		r = tcollect_req(k, id);
		for (i = have = 0; r != NULL && i < r->nhosts; i++)
			have += r->hosts[i]->outbytes > 0;
	}
	ck_assert_msg(have == n, "%zu of %zu hosts wrote output", have, n);
}

/*
 * The bastion's session dies under running commands: every target's job
 * ends with connection_lost, and the next run goes through a new bastion
 * session.
 */
START_TEST(test_daemon_hop_dies)
{
	char bastion[160], jid[16];
	json_object *root = NULL, *b;
	struct tcollect_req *r;
	struct tcollect k;
	struct tclient *c;
	pid_t pids[32];
	size_t i, n = env.ntargets < 4 ? env.ntargets : 4, np;

	snprintf(bastion, sizeof bastion, "%s",
		 jump_spec(env.bastion_addr, env.bastion_port));
	c = jd_start(jd_targets_via(bastion, ""));
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	jd_send_start(c, &k, "long", n, "echo up; sleep 60");
	snprintf(jid, sizeof jid, "\"long\"");
	/* Every command runs: its first line came. */
	jd_wait_output(c, &k, jid, n);
	np = bastion_sessions(pids, 32);
	ck_assert_msg(np >= 1, "no bastion session process");
	for (i = 0; i < np; i++)
		kill(pids[i], SIGKILL);
	r = tcollect_wait_end(c, &k, jid, TJ_EVENT_MS);
	for (i = 0; i < n; i++)
		ck_assert_msg(r->hosts[i]->code == PROTO_E_CONNECTION_LOST,
			      "%s: %s (%s)", r->hosts[i]->host,
			      proto_code_name(r->hosts[i]->code),
			      r->hosts[i]->message);
	jd_run_all(c, &k, "again", n);
	b = jd_status(c, &k, bastion, &root);
	ck_assert_msg(b != NULL && jd_int(b, "connects") == 2,
		      "the run after the loss did not log in to the bastion "
		      "again");
	json_object_put(root);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

/*
 * The bastion stops (SIGSTOP of its session's processes) under a running
 * command: the bastion session's keepalive (ServerAliveInterval 1 s,
 * CountMax 2) finds it dead within its bound, which closes the tunnels,
 * and the target's job ends with connection_lost.  Then the processes go
 * on and are killed, and the next run logs in to the bastion again.
 */
START_TEST(test_daemon_hop_stopped)
{
	char bastion[160], more[256];
	struct tcollect_req *r;
	struct tcollect k;
	struct tclient *c;
	pid_t pids[32];
	long long t0, took;
	size_t i, np;

	snprintf(bastion, sizeof bastion, "%s",
		 jump_spec(env.bastion_addr, env.bastion_port));
	snprintf(more, sizeof more,
		 "Host %s\n\tServerAliveInterval 1\n\tServerAliveCountMax 2\n",
		 env.bastion_addr);
	c = jd_start(jd_targets_via(bastion, more));
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	jd_send_start(c, &k, "stop", 1, "echo up; sleep 60");
	jd_wait_output(c, &k, "\"stop\"", 1);
	np = bastion_sessions(pids, 32);
	ck_assert_msg(np >= 1, "no bastion session process");
	t0 = testutil_now_ms();
	for (i = 0; i < np; i++)
		kill(pids[i], SIGSTOP);
	r = tcollect_wait_end(c, &k, "\"stop\"", TJ_EVENT_MS);
	took = testutil_now_ms() - t0;
	for (i = 0; i < np; i++) {
		kill(pids[i], SIGKILL);
		kill(pids[i], SIGCONT);
	}
	fprintf(stderr,
		"JUMP: a stopped bastion found dead after %lld ms "
		"(ServerAliveInterval 1 s, CountMax 2)\n",
		took);
	ck_assert_msg(r->hosts[0]->code == PROTO_E_CONNECTION_LOST,
		      "the target behind a stopped bastion: %s (%s)",
		      proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
	ck_assert_msg(took <= tclient_scaled_ms(4500),
		      "a stopped bastion was found dead after %lld ms", took);
	jd_run_all(c, &k, "after", 1);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

/*
 * A target behind the bastion whose known_hosts line holds another key:
 * hostkey_mismatch, as for a target reached directly.
 */
START_TEST(test_daemon_hostkey_behind_hop)
{
	char bastion[160], more[PATH_MAX + 64], kh[PATH_MAX + 16];
	char cmd[PATH_MAX * 4];
	struct tcollect_host *h;
	struct tcollect k;
	struct tclient *c;

	snprintf(bastion, sizeof bastion, "%s",
		 jump_spec(env.bastion_addr, env.bastion_port));
	jd_prepare();
	snprintf(kh, sizeof kh, "%s/changed_known_hosts", dmn.dir);
	/* The target's line holds the bastion's key. */
	snprintf(cmd, sizeof cmd,
		 "sed -n 's/^\\[%s\\]:%s /[%s]:%s /p' '%s' > '%s' && "
		 "test -s '%s'",
		 env.bastion_addr, env.bastion_port, env.targets[0],
		 env.target_port, env.known_hosts, kh, kh);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	snprintf(more, sizeof more, "\tUserKnownHostsFile %s\n", kh);
	c = jd_start_in(jd_targets_via(bastion, more));
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	h = jd_run(c, &k, jump_spec(env.targets[0], env.target_port), "mm",
		   RUN_OK);
	ck_assert_msg(h->code == PROTO_E_HOSTKEY_MISMATCH,
		      "a changed key behind the hop: %s (%s)",
		      proto_code_name(h->code), h->message);
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
#define TJ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TJ_ASAN 1
#endif
#endif
#define TJ_STREAM_MB 200
#define TJ_STREAM_RSS_MB 96

/* VmHWM of pid in KiB, or -1. */
static long
peak_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

/*
 * 200 MB from a target behind the bastion reach the client whole, and the
 * daemon's peak resident memory stays bounded (the bridge's buffers and
 * the channels' windows, not the stream).
 */
START_TEST(test_daemon_stream_through_hop)
{
	char bastion[160], cmd[128];
	struct tcollect_req *r;
	struct tcollect k;
	struct tclient *c;
	long long t0, ms;
	long rss;

	snprintf(bastion, sizeof bastion, "%s",
		 jump_spec(env.bastion_addr, env.bastion_port));
	c = jd_start(jd_targets_via(bastion, ""));
	tcollect_init(&k);
	k.keep = TJ_OUT_KEEP;
	jd_run_all(c, &k, "warm", 1);
	snprintf(cmd, sizeof cmd, "head -c %dM /dev/zero", TJ_STREAM_MB);
	t0 = testutil_now_ms();
	r = jd_send_all(c, &k, "big", 1, cmd);
	ms = testutil_now_ms() - t0;
	rss = peak_rss_kb(dmn.pid);
	fprintf(stderr,
		"JUMP: %d MB through the bastion in %lld ms; daemon peak RSS "
		"%ld KiB\n",
		TJ_STREAM_MB, ms, rss);
	ck_assert_msg(
	    r->hosts[0]->code == PROTO_E_NONE &&
		r->hosts[0]->outbytes == (size_t)TJ_STREAM_MB * 1024 * 1024,
	    "%zu of %d MB came: %s (%s)", r->hosts[0]->outbytes, TJ_STREAM_MB,
	    proto_code_name(r->hosts[0]->code), r->hosts[0]->message);
#ifndef TJ_ASAN
	/* A sanitized daemon's shadow memory and quarantine say nothing of
	 * its own buffers: the bound holds for the real one. */
	ck_assert_msg(rss > 0 && rss < TJ_STREAM_RSS_MB * 1024,
		      "the daemon's peak RSS was %ld KiB", rss);
#endif
	tcollect_check(&k);
	tcollect_free(&k);
	jd_stop(c);
	jd_cleanup();
}
END_TEST

/*
 * Can this process make network namespaces and veth pairs?  1 yes, 0 no
 * (why in err).  The probes are named after this process and removed.
 */
static int
netns_permitted(char *err, size_t errlen)
{
	char cmd[512], name[64], veth[16], peer[16];
	FILE *fp;
	size_t n;
	int st;

	snprintf(name, sizeof name, "sshpool-jump-probe-%ld", (long)getpid());
	snprintf(veth, sizeof veth, "spjp%ld", (long)getpid() % 10000000);
	snprintf(peer, sizeof peer, "spjq%ld", (long)getpid() % 10000000);
	snprintf(cmd, sizeof cmd,
		 "ip netns add %s 2>&1 && ip netns del %s 2>&1 && "
		 "ip link add %s type veth peer name %s 2>&1 && "
		 "ip link del %s 2>&1",
		 name, name, veth, peer, veth);
	if ((fp = popen(cmd, "r")) == NULL) {
		snprintf(err, errlen, "popen: %s", strerror(errno));
		return 0;
	}
	n = fread(err, 1, errlen - 1, fp);
	err[n] = '\0';
	st = pclose(fp);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (n == 0)
		snprintf(err, errlen, "ip failed (status %d)", st);
	err[strcspn(err, "\n")] = '\0';
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = getenv("SSHPOOL_JUMP_DIR");
	char args[PATH_MAX + 32], why[512];
	Suite *s;
	TCase *tc;
	int rc;

	(void)argc;
	(void)argv;
	if (geteuid() != 0) {
		fprintf(stderr, "test_jump: needs root (network namespaces, "
				"a system user): skipped\n");
		return TJ_SKIP;
	}
	if (dir == NULL || strlen(dir) >= sizeof jump_dir - 64 ||
	    getenv("SSHPOOLD") == NULL || getenv("SSHPOOL_FLEET_SH") == NULL) {
		fprintf(
		    stderr,
		    "SSHPOOL_JUMP_DIR, SSHPOOLD or SSHPOOL_FLEET_SH unset\n");
		return EXIT_FAILURE;
	}
	if (!netns_permitted(why, sizeof why)) {
		fprintf(stderr,
			"test_jump: cannot create a network namespace "
			"or a veth pair (%s): skipped\n",
			why);
		return TJ_SKIP;
	}
	strcpy(jump_dir, dir);
	snprintf(args, sizeof args, "jump-start '%s' --targets %d", jump_dir,
		 TJ_TARGETS);
	if (fleet_sh(args) != 0 || env_load() != 0) {
		fprintf(stderr, "fleet.sh %s failed\n", args);
		snprintf(args, sizeof args, "jump-stop '%s'", jump_dir);
		fleet_sh(args);
		return EXIT_FAILURE;
	}
	s = suite_create("jump");
	tc = tcase_create("jump");
	tcase_add_test(tc, test_direct_blocked);
	tcase_add_test(tc, test_one_hop);
	tcase_add_test(tc, test_two_hops);
	tcase_add_test(tc, test_no_forwarding);
	tcase_add_test(tc, test_daemon_without_jump);
	tcase_add_test(tc, test_daemon_one_hop);
	tcase_add_test(tc, test_daemon_tunnels_per_session);
	tcase_add_test(tc, test_daemon_two_hops);
	tcase_add_test(tc, test_daemon_hop_dies);
	tcase_add_test(tc, test_daemon_hop_stopped);
	tcase_add_test(tc, test_daemon_hostkey_behind_hop);
	tcase_add_test(tc, test_daemon_stream_through_hop);
	suite_add_tcase(s, tc);
	rc = testutil_run(s);
	snprintf(args, sizeof args, "jump-stop '%s'", jump_dir);
	if (fleet_sh(args) != 0) {
		fprintf(stderr, "fleet.sh %s failed\n", args);
		rc = EXIT_FAILURE;
	}
	return rc;
}
