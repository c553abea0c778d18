/* SPDX-License-Identifier: ISC */
/*
 * Integration tests of the sshpool CLI: the real binary ($SSHPOOL_CLI) run
 * against a real sshpoold ($SSHPOOLD) and the loopback OpenSSH fleet
 * (tests/fleet/fleet.sh, the CTest fixture "fleet").  Each test starts its
 * own daemon through tclient, runs the CLI as a child process with its
 * standard streams captured, and checks the output, the files it writes
 * and its exit status.  The progress line needs a terminal: that test
 * drives the CLI inside a private tmux server.  The sudo test writes a
 * sudoers entry for the fleet's user when run as root and removes it
 * before asserting anything.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostlist.h"
#include "tagent.h"
#include "tclient.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

#define CT_TIMEOUT_S 60 /* Check timeout of one test */
#define CT_RUN_MS 30000 /* longest run of one CLI invocation */
#define CT_MAX_ARGS 64
#define CT_MAX_OUT (4u * 1024 * 1024)
#define CT_STOP_MS 4000 /* --stop-on-error must end the run by then */
#define CT_TMUX_WAIT_MS 20000
#define CT_SUDOERS "/etc/sudoers.d/sshpool-cli-test"

struct ct_result {
	int status; /* exit status, or -1 when killed or timed out */
	char *out, *err;
	size_t outlen, errlen;
	long long ms;
};

static struct tfleet fleet;
static struct tdaemon daemon_;
static char errbuf[2048];
static char port[16];

void
testutil_failed(void)
{
	if (daemon_.pid > 0)
		tdaemon_dump_log(&daemon_);
}

static void ct_fmt(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf that fails the test instead of truncating. */
static void
ct_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < size, "text too long: %s", buf);
}

static const char *
ct_cli(void)
{
	const char *p = getenv("SSHPOOL_CLI");

	ck_assert_msg(p != NULL, "SSHPOOL_CLI is not set");
	return p;
}

static void
ct_begin_extra(const char *extra)
{
	struct tdaemon_opts o;

	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ck_assert_msg(fleet.nhosts >= 8, "the fleet needs 8 hosts");
	ck_assert_msg(
	    tdaemon_prepare(&daemon_, &fleet, errbuf, sizeof errbuf) == 0, "%s",
	    errbuf);
	memset(&o, 0, sizeof o);
	o.extra = extra;
	ck_assert_msg(
	    tdaemon_start(&daemon_, &fleet, &o, errbuf, sizeof errbuf) == 0,
	    "%s", errbuf);
	ct_fmt(port, sizeof port, "%d", fleet.port);
	setenv("SSHPOOL_SOCKET", daemon_.sock, 1);
}

static void
ct_begin(void)
{
	ct_begin_extra(NULL);
}

static void
ct_end(void)
{
	int st = tdaemon_stop(&daemon_);

	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "daemon exit status %d", st);
	tdaemon_cleanup(&daemon_);
}

static void
ct_result_free(struct ct_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}

static void
ct_append(char **buf, size_t *len, const char *data, size_t n)
{
	if (*len + n > CT_MAX_OUT)
		n = CT_MAX_OUT - *len;
	*buf = realloc(*buf, *len + n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * Run the CLI with argv (NULL-terminated, without the program name),
 * standard input from the file in_path (NULL: /dev/null), and collect both
 * outputs.  Never asserts, so callers may clean up first.
 */
static void
ct_exec(struct ct_result *r, const char *in_path, const char *const *argv)
{
	int outp[2], errp[2], in, st, open_fds;
	struct pollfd pfd[2];
	char buf[65536];
	long long t0 = testutil_now_ms(), left;
	ssize_t n;
	size_t i;
	pid_t pid;

	memset(r, 0, sizeof *r);
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	if (pipe(outp) == -1 || pipe(errp) == -1) {
		r->status = -1;
		return;
	}
	if ((pid = fork()) == 0) {
		in = open(in_path != NULL ? in_path : "/dev/null", O_RDONLY);
		if (in == -1)
			_exit(126);
		dup2(in, 0);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]);
		close(errp[0]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	pfd[0].fd = outp[0];
	pfd[1].fd = errp[0];
	pfd[0].events = pfd[1].events = POLLIN;
	open_fds = 2;
	while (open_fds > 0) {
		left = t0 + tclient_scaled_ms(CT_RUN_MS) - testutil_now_ms();
		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(pfd, 2, (int)left) == -1 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 ||
			    !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, sizeof buf);
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0)
				ct_append(&r->out, &r->outlen, buf, (size_t)n);
			else
				ct_append(&r->err, &r->errlen, buf, (size_t)n);
		}
	}
	for (i = 0; i < 2; i++) {
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->ms = testutil_now_ms() - t0;
}

static void
ct_runv(struct ct_result *r, const char *in_path, const char *const *args)
{
	const char *argv[CT_MAX_ARGS + 2];
	size_t i;

	argv[0] = ct_cli();
	for (i = 0; args[i] != NULL && i < CT_MAX_ARGS; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	ct_exec(r, in_path, argv);
}

/* ct_run(&r, stdin_path, "run", "-H", h, NULL) */
static void
ct_run(struct ct_result *r, const char *in_path, ...)
{
	const char *args[CT_MAX_ARGS + 1];
	va_list ap;
	size_t n = 0;

	va_start(ap, in_path);
	while (n < CT_MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	ct_runv(r, in_path, args);
}

#define CT_EXPECT(r, want)                                                     \
	ck_assert_msg((r)->status == (want),                                   \
		      "exit %d, expected %d\nstdout:\n%s\nstderr:\n%s",        \
		      (r)->status, (want), (r)->out, (r)->err)

static void
ct_has(const char *text, const char *what, const char *needle)
{
	ck_assert_msg(strstr(text, needle) != NULL, "%s lacks \"%s\":\n%s",
		      what, needle, text);
}

static void
ct_lacks(const char *text, const char *what, const char *needle)
{
	ck_assert_msg(strstr(text, needle) == NULL, "%s has \"%s\":\n%s", what,
		      needle, text);
}

static size_t
ct_count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

static size_t
ct_lines(const char *text)
{
	return ct_count(text, "\n");
}

/* "127.0.0.N:PORT" of fleet host i. */
static const char *
ct_host(size_t i)
{
	return fleet.hosts[i];
}

/* A file in the daemon's private directory. */
static void
ct_path(char *buf, size_t size, const char *name)
{
	ct_fmt(buf, size, "%s/%s", daemon_.dir, name);
}

static void
ct_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
ct_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* "127.0.0.[A-B]:PORT" for fleet hosts lo..hi (indexes). */
static void
ct_range(char *buf, size_t size, size_t lo, size_t hi)
{
	ct_fmt(buf, size, "127.0.0.[%.3s-%.3s]:%d", fleet.addrs[lo] + 8,
	       fleet.addrs[hi] + 8, fleet.port);
}

/* ---- Host selection ---- */

START_TEST(test_ranges_and_lists)
{
	struct ct_result r;
	char range[64], list[256];

	ct_begin();
	ct_range(range, sizeof range, 0, 3);
	ct_run(&r, NULL, "run", "-H", range, "--", "echo hi", NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": hi\n"), 4);
	ct_has(r.out, "stdout", ct_host(0));
	ct_has(r.out, "stdout", ct_host(3));
	ct_lacks(r.out, "stdout", ct_host(4));
	ct_has(r.err, "stderr", "4 hosts: 4 ok, 0 failed, 0 errors");
	ct_lacks(r.out, "stdout", "\033[");
	ct_result_free(&r);

	/* Comma lists with range lists inside brackets, and duplicates. */
	ct_fmt(list, sizeof list, "127.0.0.[%s,%s]:%d,%s", fleet.addrs[0] + 8,
	       fleet.addrs[2] + 8, fleet.port, ct_host(0));
	ct_run(&r, NULL, "run", "-H", list, "-H", ct_host(2), "--", "echo x",
	       NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_lines(r.out), 2);
	ct_has(r.err, "stderr", "2 hosts: 2 ok");
	ct_result_free(&r);

	/* A malformed range is a usage error, nothing runs. */
	ct_run(&r, NULL, "run", "-H", "web[3-1]", "--", "true", NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "goes down");
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_hostfile_exclude)
{
	struct ct_result r;
	char path[PATH_MAX], text[1024], range[64], ex[64];

	ct_begin();
	ct_range(range, sizeof range, 0, 5);
	ct_path(path, sizeof path, "hosts.txt");
	ct_fmt(text, sizeof text, "# fleet\n%s   # six hosts\n\n%s\n", range,
	       ct_host(1));
	ct_write(path, text);
	/* -x with a range and a glob on the host name. */
	ct_fmt(ex, sizeof ex, "127.0.0.[%s-%s]", fleet.addrs[1] + 8,
	       fleet.addrs[2] + 8);
	ct_run(&r, NULL, "run", "-h", path, "-x", ex, "-x", fleet.addrs[5],
	       "--", "echo ok", NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": ok\n"), 3);
	ct_has(r.out, "stdout", ct_host(0));
	ct_has(r.out, "stdout", ct_host(3));
	ct_has(r.out, "stdout", ct_host(4));
	ct_lacks(r.out, "stdout", ct_host(1));
	ct_lacks(r.out, "stdout", ct_host(5));
	ct_result_free(&r);

	ct_run(&r, NULL, "run", "-h", path, "-x", "127.0.0.*", "--", "true",
	       NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "no hosts");
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* @groups are expanded by the daemon, less the -x exclusions. */
START_TEST(test_groups)
{
	struct ct_result r;
	char extra[256];

	/* The group names fleet hosts: load the fleet first. */
	ck_assert_msg(tfleet_load(&fleet, errbuf, sizeof errbuf) == 0, "%s",
		      errbuf);
	ct_fmt(extra, sizeof extra, "HostGroup cligrp %s %s %s\n", ct_host(0),
	       ct_host(1), ct_host(2));
	ct_begin_extra(extra);
	ct_run(&r, NULL, "run", "-H", "@cligrp", "-x", fleet.addrs[1], "--",
	       "echo g", NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": g\n"), 2);
	ct_has(r.out, "stdout", ct_host(0));
	ct_lacks(r.out, "stdout", ct_host(1));
	ct_has(r.out, "stdout", ct_host(2));
	ct_result_free(&r);

	/* An unknown group is the request's error. */
	ct_run(&r, NULL, "run", "-H", "@nosuchgroup", "--", "true", NULL);
	CT_EXPECT(&r, 255);
	ct_has(r.err, "stderr", "unknown host group");
	ct_result_free(&r);

	/* Per-host commands cannot be rendered for a daemon-side group. */
	ct_run(&r, NULL, "run", "-H", "@cligrp", "--", "echo {host}", NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "explicit hosts");
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* ---- Per-host arguments, sudo, shell, pty, stdin ---- */

START_TEST(test_host_args)
{
	struct ct_result r;
	char path[PATH_MAX], text[1024], want[256];

	ct_begin();
	ct_path(path, sizeof path, "args.txt");
	ct_fmt(text, sizeof text, "%s alpha\n# skipped\n%s beta gamma\n",
	       ct_host(0), ct_host(1));
	ct_write(path, text);
	/* Without -H the file names the hosts. */
	ct_run(&r, NULL, "run", "-A", path, "--", "echo '{arg}' on {host}",
	       NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: alpha on %s\n", ct_host(0), ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want, "%s: beta gamma on %s\n", ct_host(1),
	       ct_host(1));
	ct_has(r.out, "stdout", want);
	ct_result_free(&r);

	/* With -H, every host needs a value. */
	ct_run(&r, NULL, "run", "-A", path, "-H", ct_host(2), "--",
	       "echo {arg}", NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "no argument for host");
	ct_result_free(&r);

	/* JSON map. */
	ct_path(path, sizeof path, "args.json");
	ct_fmt(text, sizeof text, "{\"%s\": \"one 'q'\", \"%s\": 2}",
	       ct_host(2), ct_host(3));
	ct_write(path, text);
	ct_run(&r, NULL, "run", "--host-args", path, "--", "echo \"{arg}\"",
	       NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: one 'q'\n", ct_host(2));
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want, "%s: 2\n", ct_host(3));
	ct_has(r.out, "stdout", want);
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_shell_and_sudo)
{
	struct ct_result r, r2, r3;
	char want[256];
	int root = geteuid() == 0, have_sudo;
	FILE *f;

	ct_begin();
	/* --shell: the command reaches the shell intact, quotes included. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--shell", "/bin/bash", "--",
	       "echo \"$0\" 'it'\"'\"'s'", NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: /bin/bash it's\n", ct_host(0));
	ck_assert_str_eq(r.out, want);
	ct_result_free(&r);

	have_sudo = access("/usr/bin/sudo", X_OK) == 0;
	ck_assert_msg(have_sudo, "sudo is not installed (Debian package sudo)");
	if (!root) {
		/* Without root no sudoers entry: only check the refusal. */
		ct_run(&r, NULL, "run", "-H", ct_host(0), "--sudo", "--",
		       "id -u", NULL);
		ck_assert_int_ne(r.status, 0);
		ct_result_free(&r);
		ct_end();
		return;
	}
	f = fopen(CT_SUDOERS, "w");
	ck_assert_msg(f != NULL, "%s: %s", CT_SUDOERS, strerror(errno));
	fprintf(f, "%s ALL=(ALL) NOPASSWD: ALL\n", fleet.user);
	fclose(f);
	chmod(CT_SUDOERS, 0440);
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--sudo", "--",
	       "id -un; echo \"it's $0\"", NULL);
	ct_run(&r2, NULL, "run", "-H", ct_host(1), "--sudo=nobody", "--",
	       "id -un", NULL);
	ct_run(&r3, NULL, "run", "-H", ct_host(1), "--sudo=nobody", "--shell",
	       "/bin/bash", "--", "echo $0", NULL);
	unlink(CT_SUDOERS);

	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: root\n%s: it's sh\n", ct_host(0),
	       ct_host(0));
	ck_assert_str_eq(r.out, want);
	CT_EXPECT(&r2, 0);
	ct_fmt(want, sizeof want, "%s: nobody\n", ct_host(1));
	ck_assert_str_eq(r2.out, want);
	CT_EXPECT(&r3, 0);
	ct_fmt(want, sizeof want, "%s: /bin/bash\n", ct_host(1));
	ck_assert_str_eq(r3.out, want);
	ct_result_free(&r);
	ct_result_free(&r2);
	ct_result_free(&r3);

	/* Without the sudoers entry sudo -n refuses instead of asking. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--sudo", "--", "id -u",
	       NULL);
	CT_EXPECT(&r, 1);
	ct_has(r.err, "stderr", "sudo");
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_pty_env)
{
	struct ct_result r;
	char want[256];

	ct_begin();
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--pty", "-E", "CT_X=a b",
	       "--", "test -t 0 && echo tty; echo \"$CT_X\"", NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: tty\r\n%s: a b\r\n", ct_host(0),
	       ct_host(0));
	ck_assert_str_eq(r.out, want);
	ct_result_free(&r);
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--", "test -t 0 || echo no",
	       NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: no\n", ct_host(0));
	ck_assert_str_eq(r.out, want);
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* --identity and --agent open the credential here and pass it to the
 * daemon as a descriptor, which checks its kind. */
START_TEST(test_identity_agent)
{
	struct ct_result r;
	char agent[PATH_MAX];
	pid_t apid;

	ct_begin();
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--identity", fleet.key, "--",
	       "true", NULL);
	CT_EXPECT(&r, 0);
	ct_result_free(&r);
	/* Passed, not named: the daemon sees a character device. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--identity", "/dev/null",
	       "--", "true", NULL);
	ck_assert_msg(r.status != 0, "a character device was taken as a key");
	ct_has(r.err, "stderr", "fds[0] (key): not a regular file");
	ct_result_free(&r);
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--identity",
	       "/nonexistent/key", "--", "true", NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "--identity /nonexistent/key: No such file");
	ct_result_free(&r);

	unsetenv("SSH_AUTH_SOCK");
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--agent", "--", "true",
	       NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "--agent: SSH_AUTH_SOCK is not set");
	ct_result_free(&r);
	/* A real agent holding the fleet's key, passed with --agent: the
	 * host logs in with the key from that agent alone. */
	ct_path(agent, sizeof agent, "agent.sock");
	apid = tagent_start(agent);
	ck_assert(tagent_add(agent, fleet.key) == 0);
	setenv("SSH_AUTH_SOCK", agent, 1);
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--agent", "--", "echo",
	       "via-agent", NULL);
	CT_EXPECT(&r, 0);
	ct_has(r.out, "stdout", "via-agent");
	ct_result_free(&r);
	/* --forward-agent: the host lists the caller's key through it. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--forward-agent", "--",
	       "ssh-add", "-l", NULL);
	CT_EXPECT(&r, 0);
	ct_has(r.out, "stdout", "ED25519");
	ct_result_free(&r);
	/* Removing keys from the host is refused: the agent keeps its key. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--forward-agent", "--",
	       "ssh-add", "-D", NULL);
	unsetenv("SSH_AUTH_SOCK");
	ck_assert_msg(r.status != 0, "ssh-add -D through the forwarded agent "
				     "succeeded");
	ct_result_free(&r);
	ck_assert_msg(tagent_add(agent, "-l") == 0,
		      "the caller's agent lost its key");
	tagent_stop(apid);
	unlink(agent);
	ct_end();
}
END_TEST

START_TEST(test_stdin)
{
	struct ct_result r;
	char in[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], range[64], want[256];

	ct_begin();
	ct_path(in, sizeof in, "input");
	ct_write(in, "line one\nline two\n");
	ct_range(range, sizeof range, 0, 2);
	/* Broadcast the CLI's standard input. */
	ct_run(&r, in, "run", "-H", range, "--stdin", "--", "wc -l", NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": 2\n"), 3);
	ct_result_free(&r);
	/* From a file. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "--stdin-file", in, "--",
	       "tail -n 1", NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: line two\n", ct_host(0));
	ck_assert_str_eq(r.out, want);
	ct_result_free(&r);
	/* Without --stdin the command's input is empty. */
	ct_run(&r, in, "run", "-H", ct_host(0), "--", "wc -c", NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: 0\n", ct_host(0));
	ck_assert_str_eq(r.out, want);
	ct_result_free(&r);

	/* Per host from DIR/HOST. */
	ct_path(dir, sizeof dir, "in.d");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ct_fmt(path, sizeof path, "%s/%s", dir, ct_host(0));
	ct_write(path, "first\n");
	ct_fmt(path, sizeof path, "%s/%s", dir, ct_host(1));
	ct_write(path, "second\n");
	ct_run(&r, NULL, "run", "-H", ct_host(0), "-H", ct_host(1), "-I", dir,
	       "--", "cat", NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: first\n", ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want, "%s: second\n", ct_host(1));
	ct_has(r.out, "stdout", want);
	ct_result_free(&r);
	/* A host without its file is an error before anything runs. */
	ct_run(&r, NULL, "run", "-H", ct_host(2), "-I", dir, "--", "cat", NULL);
	CT_EXPECT(&r, 2);
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* ---- Output modes ---- */

START_TEST(test_output_live_inline)
{
	struct ct_result r;
	char range[64], want[256];

	ct_begin();
	ct_range(range, sizeof range, 0, 1);
	ct_run(&r, NULL, "run", "-H", range, "--", "printf 'a\\nb'; echo e >&2",
	       NULL);
	CT_EXPECT(&r, 0);
	/* The unterminated last line is printed at the host's end.  Live
	 * lines of different hosts may interleave: look at each. */
	ct_fmt(want, sizeof want, "%s: a\n", ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want, "%s: b\n", ct_host(0));
	ct_has(r.out, "stdout", want);
	ck_assert_uint_eq(ct_count(r.out, ": a\n"), 2);
	ck_assert_uint_eq(ct_count(r.out, ": b\n"), 2);
	ct_fmt(want, sizeof want, "%s: e\n", ct_host(1));
	ct_has(r.err, "stderr", want);
	ct_lacks(r.out, "stdout", ": e\n");
	ct_result_free(&r);

	ct_run(&r, NULL, "run", "-i", "-H", range, "--",
	       "echo out1; echo out2; echo err >&2; exit 3", NULL);
	CT_EXPECT(&r, 3);
	ck_assert_uint_eq(ct_count(r.out, "[FAILURE] "), 2);
	ct_fmt(want, sizeof want,
	       "[FAILURE] %s exit 3\nout1\nout2\nStderr: "
	       "err\n",
	       ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_has(r.out, "stdout", "[1] ");
	ct_has(r.out, "stdout", "[2] ");
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_output_gather)
{
	struct ct_result r;
	char range[64], want[256];

	ct_begin();
	ct_range(range, sizeof range, 0, 5);
	/* Two hosts differ (by their address's last digit parity). */
	ct_run(&r, NULL, "run", "-b", "-H", range, "--",
	       "case $SSH_CONNECTION in *\" 127.0.0.2 \"*|*\" 127.0.0.3 \"*) "
	       "echo special; exit 4;; *) echo same; echo line2;; esac",
	       NULL);
	CT_EXPECT(&r, 4);
	ct_fmt(want, sizeof want,
	       "---------------\n127.0.0.[2-3]:%d (2) exit 4\n"
	       "---------------\nspecial\n",
	       fleet.port);
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want,
	       "---------------\n127.0.0.[4-7]:%d (4)\n---------------\n"
	       "same\nline2\n",
	       fleet.port);
	ct_has(r.out, "stdout", want);
	ct_lacks(r.out, "stdout", "127.0.0.2:");
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_output_dirs)
{
	struct ct_result r;
	char range[64], od[PATH_MAX], ed[PATH_MAX], path[PATH_MAX], want[256];
	char *text;

	ct_begin();
	ct_range(range, sizeof range, 0, 1);
	ct_path(od, sizeof od, "out");
	ct_path(ed, sizeof ed, "err");
	ct_run(&r, NULL, "run", "-H", range, "-o", od, "-e", ed, "--",
	       "echo O; echo E >&2", NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, "[SUCCESS] "), 2);
	ct_lacks(r.out, "stdout", ": O");
	ct_fmt(path, sizeof path, "%s/%s", od, ct_host(1));
	text = ct_read(path);
	ck_assert_str_eq(text, "O\n");
	free(text);
	ct_fmt(path, sizeof path, "%s/%s", ed, ct_host(1));
	text = ct_read(path);
	ck_assert_str_eq(text, "E\n");
	free(text);
	ct_result_free(&r);
	/* Hosts with no output get empty files; the dirs are reused. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "-o", od, "--", "true", NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(path, sizeof path, "%s/%s", od, ct_host(0));
	text = ct_read(path);
	ck_assert_str_eq(text, "");
	free(text);
	ct_fmt(want, sizeof want, "[SUCCESS] %s\n", ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_output_json)
{
	struct ct_result r;
	json_object *o, *ev;
	char range[64], *line, *save = NULL;
	size_t n = 0, done = 0;

	ct_begin();
	ct_range(range, sizeof range, 0, 2);
	ct_run(&r, NULL, "run", "--json", "-H", range, "--", "echo j", NULL);
	CT_EXPECT(&r, 0);
	ck_assert_str_eq(r.err, "");
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		o = json_tokener_parse(line);
		ck_assert_msg(o != NULL, "not JSON: %s", line);
		ck_assert(json_object_object_get_ex(o, "event", &ev));
		if (strcmp(json_object_get_string(ev), "done") == 0)
			done++;
		json_object_put(o);
		n++;
	}
	/* 3 x (start, stdout, exit) + done. */
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(done, 1);
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* ---- Failures ---- */

START_TEST(test_exit_codes)
{
	struct ct_result r;
	char range[64];

	ct_begin();
	ct_range(range, sizeof range, 0, 2);
	/* The largest remote status wins (pdsh -S). */
	ct_run(&r, NULL, "run", "-H", range, "--",
	       "case $SSH_CONNECTION in *\" 127.0.0.2 \"*) exit 3;; "
	       "*\" 127.0.0.3 \"*) exit 7;; esac",
	       NULL);
	CT_EXPECT(&r, 7);
	ct_has(r.err, "stderr", "3 hosts: 1 ok, 2 failed, 0 errors");
	ct_has(r.err, "stderr", "HOST");
	ct_has(r.err, "stderr", "exit 7");
	ct_result_free(&r);
	/* A host error gives 255 and its code in the table. */
	ct_run(&r, NULL, "run", "-H", ct_host(0), "-H", fleet.dead_host, "--",
	       "exit 1", NULL);
	CT_EXPECT(&r, 255);
	ct_has(r.err, "stderr", "connect_failed");
	ct_result_free(&r);
	/* -v lists successful hosts too. */
	ct_run(&r, NULL, "run", "-v", "-H", ct_host(0), "--", "true", NULL);
	CT_EXPECT(&r, 0);
	ct_has(r.err, "stderr", "exit 0");
	ct_result_free(&r);
	/* Usage errors and an unreachable daemon are 2. */
	ct_run(&r, NULL, "run", "--no-such-option", NULL);
	CT_EXPECT(&r, 2);
	ct_result_free(&r);
	ct_run(&r, NULL, "-s", "/nonexistent/sock", "run", "-H", ct_host(0),
	       "--", "true", NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "cannot reach sshpoold");
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_stop_on_error)
{
	struct ct_result r;
	char range[64];

	ct_begin();
	ct_range(range, sizeof range, 0, 3);
	ct_run(&r, NULL, "run", "--stop-on-error", "-H", range, "--",
	       "case $SSH_CONNECTION in *\" 127.0.0.2 \"*) exit 5;; esac; "
	       "exec sleep 20",
	       NULL);
	ck_assert_msg(r.ms < tclient_scaled_ms(CT_STOP_MS), "took %lld ms:\n%s",
		      r.ms, r.err);
	CT_EXPECT(&r, 255);
	ct_has(r.err, "stderr", "exit 5");
	ck_assert_uint_eq(ct_count(r.err, "cancelled  cancelled"), 3);
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_failed_hosts_file)
{
	struct ct_result r;
	char range[64], path[PATH_MAX], want[256];
	char *text;

	ct_begin();
	ct_range(range, sizeof range, 0, 3);
	ct_path(path, sizeof path, "failed");
	ct_run(&r, NULL, "run", "--failed-hosts", path, "-H", range, "-H",
	       fleet.dead_host, "--",
	       "case $SSH_CONNECTION in *\" 127.0.0.3 \"*) exit 1;; esac",
	       NULL);
	CT_EXPECT(&r, 255);
	ct_result_free(&r);
	text = ct_read(path);
	ct_fmt(want, sizeof want, "%s\n%s\n", ct_host(1), fleet.dead_host);
	ck_assert_str_eq(text, want);
	free(text);
	/* A rerun of just those hosts is -h FILE. */
	ct_run(&r, NULL, "run", "-h", path, "-x", fleet.dead_host, "--",
	       "echo again", NULL);
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: again\n", ct_host(1));
	ck_assert_str_eq(r.out, want);
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* ---- Pool commands ---- */

START_TEST(test_pool_commands)
{
	struct ct_result r;
	char range[64];

	ct_begin();
	ct_run(&r, NULL, "ping", "-c", "3", NULL);
	CT_EXPECT(&r, 0);
	ct_has(r.out, "stdout", "sshpoold/");
	ct_has(r.out, "stdout", "3 round trips");
	ct_result_free(&r);

	ct_range(range, sizeof range, 0, 2);
	ct_run(&r, NULL, "connect", "-x", fleet.addrs[2], range, NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": connected ("), 2);
	ct_result_free(&r);
	ct_run(&r, NULL, "connect", ct_host(0), fleet.dead_host, NULL);
	CT_EXPECT(&r, 1);
	ct_has(r.out, "stdout", "error connect_failed");
	ct_result_free(&r);

	ct_run(&r, NULL, "status", NULL);
	CT_EXPECT(&r, 0);
	ct_has(r.out, "stdout", "STATE");
	ct_has(r.out, "stdout", fleet.addrs[1]);
	ct_result_free(&r);

	ct_run(&r, NULL, "disconnect", range, NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": disconnected ("), 3);
	ct_has(r.err, "stderr", "3 hosts: 3 disconnected");
	ct_result_free(&r);
	/* The sessions are gone. */
	ct_run(&r, NULL, "status", "--json", NULL);
	CT_EXPECT(&r, 0);
	ct_lacks(r.out, "stdout", "\"state\":\"up\"");
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* -J/--jump: checked before anything is sent; "none" reaches the host
 * directly through the daemon. */
START_TEST(test_jump_option)
{
	struct ct_result r;

	ct_begin();
	ct_run(&r, NULL, "run", "-J", "a,,b", "-H", ct_host(0), "--", "true",
	       NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "-J a,,b: jump: jump host 2: empty");
	ct_result_free(&r);
	ct_run(&r, NULL, "connect", "--jump=b:0", ct_host(0), NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "jump host 1 \"b:0\": port out of range");
	ct_result_free(&r);
	ct_run(&r, NULL, "run", "-J", "h1,h2,h3,h4,h5,h6,h7,h8,h9", "-H",
	       ct_host(0), "--", "true", NULL);
	CT_EXPECT(&r, 2);
	ct_has(r.err, "stderr", "too many jump hosts (max 8)");
	ct_result_free(&r);

	ct_run(&r, NULL, "run", "-J", "none", "-H", ct_host(0), "--",
	       "echo direct", NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": direct\n"), 1);
	ct_result_free(&r);
	ct_run(&r, NULL, "connect", "--jump", "none", ct_host(0), NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": connected ("), 1);
	ct_result_free(&r);
	ct_run(&r, NULL, "disconnect", "-J", "none", ct_host(0), NULL);
	CT_EXPECT(&r, 0);
	ck_assert_uint_eq(ct_count(r.out, ": disconnected ("), 1);
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* ---- The example clients ---- */

START_TEST(test_python_client)
{
	struct ct_result r;
	const char *script = getenv("SSHPOOL_PY_CLIENT");
	char want[256];

	ck_assert_msg(script != NULL, "SSHPOOL_PY_CLIENT is not set");
	ct_begin();
	ct_exec(&r, NULL,
		(const char *[]){"python3", script, daemon_.sock,
				 "echo py; echo pe >&2; exit 2", ct_host(0),
				 fleet.dead_host, NULL});
	CT_EXPECT(&r, 1);
	ct_fmt(want, sizeof want, "%s: py\n", ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want, "%s: pe\n", ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want, "%s: exit 2\n", ct_host(0));
	ct_has(r.out, "stdout", want);
	ct_fmt(want, sizeof want, "%s: error connect_failed", fleet.dead_host);
	ct_has(r.out, "stdout", want);
	ct_has(r.out, "stdout", "done: 0 ok, 1 failed, 1 errors\n");
	ct_result_free(&r);
	ct_exec(&r, NULL,
		(const char *[]){"python3", script, daemon_.sock, "echo ok",
				 ct_host(1), NULL});
	CT_EXPECT(&r, 0);
	ct_has(r.out, "stdout", "done: 1 ok, 0 failed, 0 errors\n");
	ct_result_free(&r);
	ct_end();
}
END_TEST

START_TEST(test_libevent_example)
{
	struct ct_result r;
	const char *prog = getenv("SSHPOOL_EXAMPLE_LIBEVENT");
	char range[64], want[256];

	ck_assert_msg(prog != NULL, "SSHPOOL_EXAMPLE_LIBEVENT is not set");
	ct_begin();
	ct_range(range, sizeof range, 0, 1);
	ct_exec(&r, NULL, (const char *[]){prog, "echo ev", range, NULL});
	CT_EXPECT(&r, 0);
	ct_fmt(want, sizeof want, "%s: ev\n", ct_host(1));
	ct_has(r.out, "stdout", want);
	ck_assert_uint_eq(ct_count(r.out, ": exit 0 after "), 2);
	ct_result_free(&r);
	ct_end();
}
END_TEST

/* ---- Terminal: progress line and colors, inside tmux ---- */

static int
ct_tmux(const char *sock, const char *const *args, char **out)
{
	const char *argv[CT_MAX_ARGS + 4];
	int p[2], st;
	char buf[65536];
	size_t i, len = 0;
	ssize_t n;
	pid_t pid;

	argv[0] = "tmux";
	argv[1] = "-S";
	argv[2] = sock;
	for (i = 0; args[i] != NULL && i < CT_MAX_ARGS; i++)
		argv[i + 3] = args[i];
	argv[i + 3] = NULL;
	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		/* A server started here would keep the pipe open forever. */
		if (out == NULL) {
			close(p[1]);
			p[1] = open("/dev/null", O_WRONLY);
		}
		dup2(p[1], 1);
		close(p[0]);
		execvp("tmux", (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	if (out != NULL)
		*out = calloc(1, 1);
	while ((n = read(p[0], buf, sizeof buf)) > 0) {
		if (out != NULL)
			ct_append(out, &len, buf, (size_t)n);
	}
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_progress_tty)
{
	char sock[PATH_MAX], cmd[3 * PATH_MAX], range[64], *pane = NULL;
	char *during = NULL, *final = NULL;
	long long deadline;
	int started;

	ct_begin();
	ck_assert_msg(access("/usr/bin/tmux", X_OK) == 0,
		      "tmux is not installed (Debian package tmux)");
	ct_path(sock, sizeof sock, "tmux.sock");
	ct_range(range, sizeof range, 0, 2);
	/* The host sleeping longest keeps the progress line up a while. */
	ct_fmt(cmd, sizeof cmd,
	       "SSHPOOL_SOCKET=%s %s run -H %s -- 'case $SSH_CONNECTION in "
	       "*\" 127.0.0.2 \"*) echo fast;; *) sleep 2; echo slow;; "
	       "esac'; echo EXIT=$?; sleep 60",
	       daemon_.sock, ct_cli(), range);
	started =
	    ct_tmux(sock,
		    (const char *[]){"-f", "/dev/null", "new-session", "-d",
				     "-x", "100", "-y", "20", cmd, NULL},
		    NULL);
	ck_assert_int_eq(started, 0);
	deadline = testutil_now_ms() + tclient_scaled_ms(CT_TMUX_WAIT_MS);
	while (testutil_now_ms() < deadline) {
		free(pane);
		pane = NULL;
		ct_tmux(sock,
			(const char *[]){"capture-pane", "-p", "-e", NULL},
			&pane);
		if (pane == NULL)
			continue;
		if (during == NULL && strstr(pane, "[1/3] 0 failed") != NULL)
			during = strdup(pane);
		if (strstr(pane, "EXIT=") != NULL) {
			final = strdup(pane);
			break;
		}
		usleep(50 * 1000);
	}
	free(pane);
	ct_tmux(sock, (const char *[]){"kill-server", NULL}, NULL);
	ck_assert_msg(during != NULL, "no progress line seen:\n%s",
		      final != NULL ? final : "(nothing)");
	ck_assert_msg(final != NULL, "the run did not end");
	/* The line is erased at the end, and output lines were not broken
	 * by it; host names are colored on a terminal. */
	ct_lacks(final, "final screen", "/3]");
	ct_has(final, "final screen", "3 hosts: 3 ok, 0 failed, 0 errors");
	ct_has(final, "final screen", "EXIT=0");
	ct_has(final, "final screen", "\033[");
	ct_has(during, "screen during the run", ": fast");
	free(during);
	free(final);
	ct_end();
}
END_TEST

/* ---- Host list folding (no daemon) ---- */

static const struct {
	const char *names[8];
	const char *folded;
} fold_cases[] = {
    {{"web1", "web2", "web3", NULL}, "web[1-3]"},
    {{"web3", "web1", "web2", "db1", NULL}, "db1,web[1-3]"},
    {{"n01", "n02", "n04", "n10", NULL}, "n[01-02,04,10]"},
    {{"n9", "n10", "n08", NULL}, "n[08,9-10]"},
    {{"n08", "n09", "n10", "n11", NULL}, "n[08-11]"},
    {{"n01", "n1", "n2", NULL}, "n[01,1-2]"},
    {{"10.0.0.1:22", "10.0.1.1:22", "10.0.1.2:22", NULL},
     "10.0.0.1:22,10.0.1.[1-2]:22"},
    {{"127.0.0.2:2200", "127.0.0.3:2200", "127.0.0.4:2201", NULL},
     "127.0.0.[2-3]:2200,127.0.0.4:2201"},
    {{"alpha", "beta", NULL}, "alpha,beta"},
    {{"h1", "h1", NULL}, "h1,h1"},
    {{"r1a", "r2a", "r1b", NULL}, "r[1-2]a,r1b"},
    {{NULL}, ""},
};

START_TEST(test_hostlist_fold)
{
	const char *const *names = fold_cases[_i].names;
	size_t n = 0;
	char *s;

	while (names[n] != NULL)
		n++;
	s = hostlist_fold(names, n);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strcmp(s, fold_cases[_i].folded) == 0,
		      "case %d: \"%s\", expected \"%s\"", _i, s,
		      fold_cases[_i].folded);
	free(s);
}
END_TEST

/* Every long option the help text names is known to the completion. */
START_TEST(test_help_completion)
{
	struct ct_result r;
	const char *path = getenv("SSHPOOL_COMPLETION");
	char *comp, *p, opt[64];
	size_t n, checked = 0;

	ck_assert_msg(path != NULL, "SSHPOOL_COMPLETION is not set");
	comp = ct_read(path);
	ct_run(&r, NULL, "--help", NULL);
	CT_EXPECT(&r, 0);
	for (p = r.out; (p = strstr(p, " --")) != NULL; p += n) {
		p++;
		n = strspn(p, "-abcdefghijklmnopqrstuvwxyz");
		ck_assert_uint_lt(n, sizeof opt);
		memcpy(opt, p, n);
		opt[n] = '\0';
		if (strcmp(opt, "--") == 0)
			continue;
		ck_assert_msg(strstr(comp, opt) != NULL,
			      "%s is not in the completion", opt);
		checked++;
	}
	ck_assert_uint_gt(checked, 25);
	ct_result_free(&r);
	/* The same text for "run --help". */
	ct_run(&r, NULL, "run", "--help", NULL);
	CT_EXPECT(&r, 0);
	ct_has(r.out, "run --help", "--stop-on-error");
	ct_result_free(&r);
	free(comp);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc;

	tc = tcase_create("units");
	tcase_add_test(tc, test_help_completion);
	tcase_add_loop_test(tc, test_hostlist_fold, 0,
			    (int)(sizeof fold_cases / sizeof fold_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("hosts");
	tcase_set_timeout(tc, CT_TIMEOUT_S);
	tcase_add_test(tc, test_ranges_and_lists);
	tcase_add_test(tc, test_hostfile_exclude);
	tcase_add_test(tc, test_groups);
	suite_add_tcase(s, tc);

	tc = tcase_create("commands");
	tcase_set_timeout(tc, CT_TIMEOUT_S);
	tcase_add_test(tc, test_host_args);
	tcase_add_test(tc, test_shell_and_sudo);
	tcase_add_test(tc, test_pty_env);
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_identity_agent);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_set_timeout(tc, CT_TIMEOUT_S);
	tcase_add_test(tc, test_output_live_inline);
	tcase_add_test(tc, test_output_gather);
	tcase_add_test(tc, test_output_dirs);
	tcase_add_test(tc, test_output_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_set_timeout(tc, CT_TIMEOUT_S);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_stop_on_error);
	tcase_add_test(tc, test_failed_hosts_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_set_timeout(tc, CT_TIMEOUT_S);
	tcase_add_test(tc, test_pool_commands);
	tcase_add_test(tc, test_jump_option);
	tcase_add_test(tc, test_progress_tty);
	tcase_add_test(tc, test_python_client);
	tcase_add_test(tc, test_libevent_example);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(cli_suite());
}
