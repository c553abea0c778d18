/* SPDX-License-Identifier: ISC */
/*
 * Agent forwarding (ForwardAgent) against the test fleet: a real
 * ssh-agent(1) holding the fleet's user key is the daemon's IdentityAgent;
 * on a host with ForwardAgent yes, `ssh-add -l` run there lists that key,
 * several agent channels in turn on one connection work, and `ssh-add -D`
 * there is refused by the broker's forwarding filter (the agent still holds
 * the key afterwards); the agent signs for the remote side, and a burst of
 * requests larger than the bridge's buffers goes through; on a host with
 * ForwardAgent no the command sees no agent at all (ssh-add exits 2), and
 * neither has it on a server that refuses to forward, where the command runs
 * all the same.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tagent.h"
#include "tclient.h"
#include "tcollect.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

#define TF_EVENT_MS tclient_scaled_ms(20000)
#define TF_OUT_KEEP 4096
#define TF_CONF_MAX 2048
/* Requests of test_forward_burst, 5 bytes each, and their answers, about
 * 100 bytes each: far past the bridge's BRIDGE_BUF_MAX (32 KiB) buffers. */
#define TF_BURST 10000
/* FORWARD_MAX_PER_CONN: agent channels one connection carries at once. */
#define TF_MAX_CHANNELS 8
#define TF_AGENT_WAIT_TRIES 250 /* of 20 ms, for the agent's socket */

static struct tfleet fleet;
static struct tdaemon daemon_;
static char errbuf[2048];
static char dir[64], agent_sock[128];
static pid_t agent_pid = -1;
static char fingerprint[128]; /* SHA256:... of the fleet's key */

void
testutil_failed(void)
{
	static int failing;

	if (failing++ == 0 && daemon_.pid > 0)
		tdaemon_dump_log(&daemon_);
}

/* The status of sh -c cmd (its exit status, or -1). */
static int
tf_sh(const char *cmd)
{
	int st = system(cmd);

	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The SHA256 fingerprint ssh-keygen gives the fleet's key. */
static void
tf_fingerprint(void)
{
	char cmd[PATH_MAX + 32], line[512], *sp, *end;
	FILE *p;

	snprintf(cmd, sizeof cmd, "ssh-keygen -lf '%s.pub'", fleet.key);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
	pclose(p);
	/* "256 SHA256:... comment (ED25519)" */
	sp = strchr(line, ' ');
	ck_assert_ptr_nonnull(sp);
	end = strchr(sp + 1, ' ');
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	ck_assert_msg(strncmp(sp + 1, "SHA256:", 7) == 0, "fingerprint %s",
		      sp + 1);
	snprintf(fingerprint, sizeof fingerprint, "%s", sp + 1);
}

/* A real ssh-agent on agent_sock, holding the fleet's key. */
static void
setup(void)
{
	char cmd[PATH_MAX + 256];

	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ck_assert_msg(fleet.nhosts >= 2, "the fleet has %zu hosts",
		      fleet.nhosts);
	snprintf(dir, sizeof dir, "/tmp/test_forward.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(agent_sock, sizeof agent_sock, "%s/agent.sock", dir);
	agent_pid = tagent_start(agent_sock);
	snprintf(cmd, sizeof cmd, "'%s'", fleet.key);
	ck_assert_int_eq(tagent_add(agent_sock, cmd), 0);
	tf_fingerprint();
}

static void
teardown(void)
{
	char cmd[128];

	tdaemon_cleanup(&daemon_);
	tagent_stop(agent_pid);
	agent_pid = -1;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (dir[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/*
 * A daemon whose IdentityAgent is the test's agent, with ForwardAgent yes
 * for the fleet's first host and no for its second.  Its identity file
 * names nothing, so it logs in with the agent's key.
 */
static struct tclient *
tf_begin(const char *strict)
{
	char conf[TF_CONF_MAX], none[sizeof dir + 8];
	struct tdaemon_opts o = {
	    .identity = none, .strict = strict, .extra = conf};
	struct tclient *c;

	snprintf(none, sizeof none, "%s/none", dir);
	snprintf(conf, sizeof conf,
		 "IdentityAgent %s\n"
		 "Host %s\n\tForwardAgent yes\n"
		 "Host %s\n\tForwardAgent no\n",
		 agent_sock, fleet.addrs[0], fleet.addrs[1]);
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
tf_end(struct tclient *c, struct tcollect *k)
{
	tcollect_check(k);
	tcollect_free(k);
	tclient_close(c);
	ck_assert_msg(tdaemon_stop(&daemon_) == 0, "daemon exit not clean");
}

/* A script for the fleet's user to run, in dir; its path in path. */
static void
tf_script(char *path, size_t len, const char *name, const char *text)
{
	FILE *fp;

	snprintf(path, len, "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(dir, 0711), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
}

/* Run command on host; the host's record, which must have exited. */
static struct tcollect_host *
tf_run(struct tclient *c, struct tcollect *k, const char *host, const char *id,
       const char *command)
{
	const char *hosts[1] = {host};
	struct tcollect_req *r;
	char jid[40];

	snprintf(jid, sizeof jid, "\"%s\"", id);
	tcollect_expect(k, jid, hosts, 1);
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
			       "\"hosts\":[\"%s\"],\"command\":\"%s\"}",
			       id, host, command) == 0);
	r = tcollect_wait_end(c, k, jid, TF_EVENT_MS);
	ck_assert_msg(!r->reqerr && r->nhosts == 1 && r->hosts[0]->exited,
		      "%s on %s did not exit: %s (%s)", id, host,
		      r->nhosts > 0 ? proto_code_name(r->hosts[0]->code) : "-",
		      r->nhosts > 0 ? r->hosts[0]->message : "");
	return r->hosts[0];
}

/* The forwarded agent lists the key, again and again on one connection. */
START_TEST(test_forward_lists_key)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_host *h;

	tcollect_init(&k);
	k.keep = TF_OUT_KEEP;
	c = tf_begin(NULL);
	h = tf_run(c, &k, fleet.hosts[0], "l1", "ssh-add -l");
	ck_assert_msg(h->status == 0, "ssh-add -l: status %d: %s", h->status,
		      h->err);
	ck_assert_msg(strstr(h->out, fingerprint) != NULL,
		      "ssh-add -l lists no %s: %s", fingerprint, h->out);
	/* Five agent channels in turn, each bridged and closed. */
	h = tf_run(c, &k, fleet.hosts[0], "l5",
		   "for i in 1 2 3 4 5; do ssh-add -l || exit 9; done");
	ck_assert_msg(h->status == 0, "five ssh-add -l: status %d: %s",
		      h->status, h->err);
	ck_assert_int_ge(tdaemon_log_count(&daemon_, "forwarded to"), 6);
	tf_end(c, &k);
}
END_TEST

/* The remote side cannot remove the agent's keys. */
START_TEST(test_forward_refuses_remove)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_host *h;
	char cmd[sizeof agent_sock + sizeof fingerprint + 64];

	tcollect_init(&k);
	k.keep = TF_OUT_KEEP;
	c = tf_begin(NULL);
	h = tf_run(c, &k, fleet.hosts[0], "d", "ssh-add -D");
	/* 1: the agent said no; 2 would be no agent at all. */
	ck_assert_msg(h->status == 1, "ssh-add -D: status %d: %s%s", h->status,
		      h->out, h->err);
	snprintf(cmd, sizeof cmd, "SSH_AUTH_SOCK=%s ssh-add -l | grep -qF '%s'",
		 agent_sock, fingerprint);
	ck_assert_msg(tf_sh(cmd) == 0, "the agent lost the key");
	/* The forwarded agent still lists it, too. */
	h = tf_run(c, &k, fleet.hosts[0], "l", "ssh-add -l");
	ck_assert_msg(h->status == 0 && strstr(h->out, fingerprint) != NULL,
		      "ssh-add -l after -D: status %d: %s", h->status, h->out);
	ck_assert_int_ge(tdaemon_log_count(&daemon_, "refused a forwarded"), 1);
	tf_end(c, &k);
}
END_TEST

/*
 * The forwarded agent signs: ssh-keygen -Y sign given the public key has
 * the agent sign with it.
 */
START_TEST(test_forward_signs)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_host *h;
	char cmd[PATH_MAX + 128];

	tcollect_init(&k);
	k.keep = TF_OUT_KEEP;
	c = tf_begin(NULL);
	snprintf(
	    cmd, sizeof cmd,
	    "echo data | ssh-keygen -q -Y sign -n sshpool-test -f '%s.pub'",
	    fleet.key);
	h = tf_run(c, &k, fleet.hosts[0], "s", cmd);
	ck_assert_msg(h->status == 0, "ssh-keygen -Y sign: status %d: %s",
		      h->status, h->err);
	ck_assert_msg(strstr(h->out, "BEGIN SSH SIGNATURE") != NULL,
		      "no signature: %s", h->out);
	tf_end(c, &k);
}
END_TEST

/*
 * Many requests written at once, read back only afterwards: their answers
 * (about 100 bytes each) are several times what the bridge buffers hold,
 * so both directions wait for each other's flow control and must go on.
 */
START_TEST(test_forward_burst)
{
	static const char script[] =
	    "import os, socket, struct, sys\n"
	    "n = int(sys.argv[1])\n"
	    "s = socket.socket(socket.AF_UNIX)\n"
	    "s.connect(os.environ['SSH_AUTH_SOCK'])\n"
	    "s.sendall(b'\\0\\0\\0\\1\\x0b' * n)\n"
	    "f = s.makefile('rb')\n"
	    "for i in range(n):\n"
	    "    m = f.read(struct.unpack('>I', f.read(4))[0])\n"
	    "    if m[0] != 12 or struct.unpack('>I', m[1:5])[0] < 1:\n"
	    "        sys.exit('answer %d: type %d' % (i, m[0]))\n"
	    "print('answers', n)\n";
	struct tcollect k;
	struct tclient *c;
	struct tcollect_host *h;
	char path[sizeof dir + 16], cmd[sizeof path + 64];

	tf_script(path, sizeof path, "burst.py", script);
	tcollect_init(&k);
	k.keep = TF_OUT_KEEP;
	c = tf_begin(NULL);
	snprintf(cmd, sizeof cmd, "python3 %s %d", path, TF_BURST);
	h = tf_run(c, &k, fleet.hosts[0], "b", cmd);
	ck_assert_msg(h->status == 0, "burst: status %d: %s%s", h->status,
		      h->out, h->err);
	snprintf(cmd, sizeof cmd, "answers %d", TF_BURST);
	ck_assert_msg(strstr(h->out, cmd) != NULL, "burst: %s", h->out);
	tf_end(c, &k);
}
END_TEST

/*
 * One more agent connection than a connection's agent channels
 * (FORWARD_MAX_PER_CONN), all held open at once: the one past the limit is
 * refused, the others answer; once they closed, a new one answers again.
 */
START_TEST(test_forward_limit)
{
	static const char script[] =
	    "import os, socket, sys\n"
	    "socks = []\n"
	    "for i in range(int(sys.argv[1])):\n"
	    "    s = socket.socket(socket.AF_UNIX)\n"
	    "    s.connect(os.environ['SSH_AUTH_SOCK'])\n"
	    "    socks.append(s)\n"
	    "ok = 0\n"
	    "for s in socks:\n"
	    "    s.settimeout(10)\n"
	    "    try:\n"
	    "        s.sendall(b'\\0\\0\\0\\1\\x0b')\n"
	    "        ok += len(s.recv(5)) > 0\n"
	    "    except OSError:\n"
	    "        pass\n"
	    "print('answered', ok)\n";
	struct tcollect k;
	struct tclient *c;
	struct tcollect_host *h;
	char path[sizeof dir + 16], cmd[sizeof path + 64];

	tf_script(path, sizeof path, "limit.py", script);
	tcollect_init(&k);
	k.keep = TF_OUT_KEEP;
	c = tf_begin(NULL);
	snprintf(cmd, sizeof cmd, "python3 %s %d", path, TF_MAX_CHANNELS + 1);
	h = tf_run(c, &k, fleet.hosts[0], "m", cmd);
	ck_assert_msg(h->status == 0, "limit: status %d: %s%s", h->status,
		      h->out, h->err);
	snprintf(cmd, sizeof cmd, "answered %d\n", TF_MAX_CHANNELS);
	ck_assert_msg(strcmp(h->out, cmd) == 0, "limit: %s", h->out);
	ck_assert_int_ge(
	    tdaemon_log_count(&daemon_, "too many agent channels open"), 1);
	h = tf_run(c, &k, fleet.hosts[0], "l", "ssh-add -l");
	ck_assert_msg(h->status == 0, "ssh-add -l after the limit: status %d",
		      h->status);
	tf_end(c, &k);
}
END_TEST

/*
 * An sshd of its own on the fleet's first address, the fleet's settings
 * but AllowAgentForwarding no; its port in *port, its pid returned.
 */
static pid_t
tf_sshd_refusing(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	char src[PATH_MAX + 16], conf[sizeof dir + 16], line[PATH_MAX + 64];
	FILE *in, *out;
	pid_t pid;
	int fd, i;

	/* A free port: taken, then let go for sshd. */
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, fleet.addrs[0], &sa.sin_addr), 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	*port = ntohs(sa.sin_port);
	snprintf(src, sizeof src, "%s/sshd.0.conf", fleet.dir);
	snprintf(conf, sizeof conf, "%s/sshd.conf", dir);
	in = fopen(src, "r");
	ck_assert_msg(in != NULL, "%s: %s", src, strerror(errno));
	out = fopen(conf, "w");
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof line, in) != NULL)
		if (strncmp(line, "Port ", 5) != 0 &&
		    strncmp(line, "ListenAddress ", 14) != 0 &&
		    strncmp(line, "PidFile ", 8) != 0)
			fputs(line, out);
	fclose(in);
	fprintf(out,
		"Port %d\nListenAddress %s\nPidFile none\n"
		"AllowAgentForwarding no\n",
		*port, fleet.addrs[0]);
	ck_assert_int_eq(fclose(out), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-f", conf,
		      "-E", "/dev/null", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < TF_AGENT_WAIT_TRIES; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ck_assert_int_ge(fd, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(fd);
			return pid;
		}
		close(fd);
		usleep(20000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	ck_abort_msg("sshd on port %d did not start", *port);
	return -1;
}

/*
 * A server that refuses agent forwarding: the command runs anyway, without
 * an agent (ssh-add exits 2), and no agent channel comes.  (The request
 * wants no reply, as ssh(1)'s: the refusal itself is not heard.)
 */
START_TEST(test_forward_server_refuses)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_host *h;
	char host[64];
	pid_t sshd;
	int port;

	sshd = tf_sshd_refusing(&port);
	snprintf(host, sizeof host, "%s:%d", fleet.addrs[0], port);
	tcollect_init(&k);
	k.keep = TF_OUT_KEEP;
	c = tf_begin("accept-new");
	h = tf_run(c, &k, host, "r", "ssh-add -l");
	kill(sshd, SIGTERM);
	waitpid(sshd, NULL, 0);
	ck_assert_msg(h->status == 2, "ssh-add -l: status %d: %s%s", h->status,
		      h->out, h->err);
	ck_assert_int_eq(tdaemon_log_count(&daemon_, "forwarded to"), 0);
	tf_end(c, &k);
}
END_TEST

/* ForwardAgent no: the command has no agent (ssh-add exits 2). */
START_TEST(test_forward_off)
{
	struct tcollect k;
	struct tclient *c;
	struct tcollect_host *h;

	tcollect_init(&k);
	k.keep = TF_OUT_KEEP;
	c = tf_begin(NULL);
	h = tf_run(c, &k, fleet.hosts[1], "n", "ssh-add -l");
	ck_assert_msg(h->status == 2,
		      "ssh-add -l without forwarding: "
		      "status %d: %s%s",
		      h->status, h->out, h->err);
	/* The host that forwards still does, from the same daemon. */
	h = tf_run(c, &k, fleet.hosts[0], "y", "ssh-add -l");
	ck_assert_msg(h->status == 0, "ssh-add -l: status %d: %s", h->status,
		      h->err);
	tf_end(c, &k);
}
END_TEST

/* `sshpoold -n` on text: its exit status; its output in out. */
static int
tf_check_conf(const char *text, char *out, size_t outlen)
{
	char conf[sizeof dir + 16], cmd[PATH_MAX + sizeof conf + 32];
	const char *bin = getenv("SSHPOOLD");
	size_t n;
	FILE *fp;
	int st;

	ck_assert_ptr_nonnull(bin);
	snprintf(conf, sizeof conf, "%s/check.conf", dir);
	fp = fopen(conf, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	snprintf(cmd, sizeof cmd, "'%s' -n -f '%s' 2>&1", bin, conf);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(out, 1, outlen - 1, fp);
	out[n] = '\0';
	st = pclose(fp);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ForwardAgent takes yes or no, globally and in Host blocks. */
START_TEST(test_forward_config)
{
	char out[4096];

	ck_assert_int_eq(tf_check_conf("IdentityAgent /run/a.sock\n"
				       "ForwardAgent yes\n"
				       "Host a\n\tForwardAgent no\n",
				       out, sizeof out),
			 0);
	ck_assert_int_ne(tf_check_conf("ForwardAgent maybe\n", out, sizeof out),
			 0);
	ck_assert_msg(strstr(out, "1: ForwardAgent: bad value \"maybe\" "
				  "(yes or no)") != NULL,
		      "%s", out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("forward");
	TCase *tc = tcase_create("agent");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_forward_config);
	tcase_add_test(tc, test_forward_lists_key);
	tcase_add_test(tc, test_forward_refuses_remove);
	tcase_add_test(tc, test_forward_signs);
	tcase_add_test(tc, test_forward_burst);
	tcase_add_test(tc, test_forward_limit);
	tcase_add_test(tc, test_forward_server_refuses);
	tcase_add_test(tc, test_forward_off);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
