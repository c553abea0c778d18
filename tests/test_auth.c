/* SPDX-License-Identifier: ISC */
/*
 * User authentication against one OpenSSH server with a method set per
 * address (`fleet.sh auth-start`): PasswordFile with the password and
 * keyboard-interactive methods, AuthenticationMethods publickey,password
 * (partial success), certificates (CertificateFile), NumberOfPasswordPrompts,
 * the auth_failed message, the PasswordFile mode check of `sshpoold -n`, and
 * the password absent from the debug log and the status reply.  Each test
 * starts its own sshpoold (LogLevel DEBUG) on a configuration of its own.
 * It also prints, without asserting, the median connect and authentication
 * time with a key file and with a password.
 *
 * Root only (the fixture creates a system user and sets its password);
 * exits 77, a skip, otherwise.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
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

#define TA_SKIP 77
#define TA_EVENT_MS tclient_scaled_ms(20000)
#define TA_START_MS tclient_scaled_ms(10000)
#define TA_STOP_MS tclient_scaled_ms(10000)
#define TA_OUT_KEEP 63
#define TA_TIMING_RUNS 15
#define TA_CONF_MAX 16384
#define TA_PATH 512 /* bytes of the fixture's paths */

/* What auth.env records. */
static struct {
	char user[64], port[16];
	char password_file[TA_PATH], key[TA_PATH], cert_key[TA_PATH];
	char cert[TA_PATH], known_hosts[TA_PATH];
	char password_addr[32], kbdint_addr[32], partial_addr[32];
	char cert_addr[32], any_addr[32];
} env;
static char auth_dir[TA_PATH];
static char work_dir[TA_PATH + 8]; /* files the tests write */
static char password[1100];        /* the fixture's, to look for */

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

static void
env_value(const char *line, const char *name, char *out, size_t outlen)
{
	size_t ln = strlen(name), n;
	const char *v, *e;

	if (strncmp(line, name, ln) != 0 || strncmp(line + ln, "='", 2) != 0)
		return;
	v = line + ln + 2;
	if ((e = strchr(v, '\'')) == NULL || (n = (size_t)(e - v)) >= outlen)
		return;
	memcpy(out, v, n);
	out[n] = '\0';
}

#define ENV(f, name) env_value(line, name, env.f, sizeof env.f)

static int
env_load(void)
{
	char path[PATH_MAX + 16], line[PATH_MAX + 64];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s/auth.env", auth_dir);
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		ENV(user, "AUTH_USER");
		ENV(port, "AUTH_PORT");
		ENV(password_file, "AUTH_PASSWORD_FILE");
		ENV(key, "AUTH_KEY");
		ENV(cert_key, "AUTH_CERT_KEY");
		ENV(cert, "AUTH_CERT");
		ENV(known_hosts, "AUTH_KNOWN_HOSTS");
		ENV(password_addr, "AUTH_PASSWORD_ADDR");
		ENV(kbdint_addr, "AUTH_KBDINT_ADDR");
		ENV(partial_addr, "AUTH_PARTIAL_ADDR");
		ENV(cert_addr, "AUTH_CERT_ADDR");
		ENV(any_addr, "AUTH_ANY_ADDR");
	}
	fclose(fp);
	if (env.any_addr[0] == '\0' || env.port[0] == '\0' ||
	    (fp = fopen(env.password_file, "r")) == NULL) {
		fprintf(stderr, "incomplete %s\n", path);
		return -1;
	}
	if (fgets(password, sizeof password, fp) == NULL)
		password[0] = '\0';
	fclose(fp);
	n = strcspn(password, "\n");
	password[n] = '\0';
	if (n < 8) {
		fprintf(stderr, "the fixture's password is too short\n");
		return -1;
	}
	return 0;
}

/* ---- the daemon ---- */

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

static void
ta_prepare(void)
{
	memset(&dmn, 0, sizeof dmn);
	snprintf(dmn.dir, sizeof dmn.dir, "/tmp/sshpool-auth.XXXXXX");
	ck_assert(mkdtemp(dmn.dir) != NULL);
	snprintf(dmn.conf, sizeof dmn.conf, "%s/sshpoold.conf", dmn.dir);
	snprintf(dmn.sock, sizeof dmn.sock, "%s/sock", dmn.dir);
	snprintf(dmn.log, sizeof dmn.log, "%s/sshpoold.log", dmn.dir);
}

/* The configuration: the server's user, port and known_hosts, debug
 * logging, then extra (Host blocks and credentials). */
static void
ta_conf(const char *extra)
{
	char text[TA_CONF_MAX];

	snprintf(text, sizeof text,
		 "Socket %s\n%sLogLevel DEBUG\nUser %s\nPort %s\n"
		 "UserKnownHostsFile %s\nConnectTimeout 10\n%s\n",
		 dmn.sock,
		 strstr(extra, "Workers ") != NULL ? "" : "Workers 2\n",
		 env.user, env.port, env.known_hosts, extra);
	write_file(dmn.conf, text, 0600);
}

static struct tclient *
ta_start(const char *extra)
{
	const char *path = getenv("SSHPOOLD");
	struct tclient *c = NULL;
	long long end;
	int fd;

	ck_assert_msg(path != NULL, "SSHPOOLD unset");
	ta_prepare();
	ta_conf(extra);
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
	end = testutil_now_ms() + TA_START_MS;
	while (testutil_now_ms() < end &&
	       (c = tclient_connect(dmn.sock)) == NULL)
		usleep(20000);
	ck_assert_msg(c != NULL, "sshpoold did not start (see %s)", dmn.log);
	return c;
}

static void
ta_stop(struct tclient *c)
{
	long long end = testutil_now_ms() + TA_STOP_MS;
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
ta_cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dmn.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dmn.dir);
}

/* "user@addr:port" of a server address. */
static const char *
hostspec(const char *addr)
{
	static char buf[4][160];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof buf[0], "%s@%s:%s", env.user, addr, env.port);
	return b;
}

/* Run command (NULL: connect) on host; the host's result. */
static struct tcollect_host *
ta_run(struct tclient *c, struct tcollect *k, const char *host, const char *id,
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
	r = tcollect_wait_end(c, k, jid, TA_EVENT_MS);
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

static void
assert_denied(const struct tcollect_host *h, const char *what,
	      const char *const *parts)
{
	ck_assert_msg(h->code == PROTO_E_AUTH_FAILED, "%s: %s (%s)", what,
		      proto_code_name(h->code), h->message);
	for (; *parts != NULL; parts++)
		ck_assert_msg(strstr(h->message, *parts) != NULL,
			      "%s: message lacks \"%s\": %s", what, *parts,
			      h->message);
	ck_assert_msg(strstr(h->message, password) == NULL,
		      "%s: the password is in the message", what);
}

/* A file of the tests' own directory, written with mode. */
static const char *
work_file(const char *name, const char *text, mode_t mode)
{
	static char path[4][TA_PATH * 2 + 8];
	static int i;
	char *p = path[i++ % 4];

	snprintf(p, sizeof path[0], "%s/%s", work_dir, name);
	write_file(p, text, mode);
	return p;
}

/* Lines of the daemon's log that contain text. */
static int
log_count(const char *text)
{
	char line[8192];
	FILE *fp = fopen(dmn.log, "r");
	int n = 0;

	ck_assert_msg(fp != NULL, "%s: %s", dmn.log, strerror(errno));
	while (fgets(line, sizeof line, fp) != NULL)
		if (strstr(line, text) != NULL)
			n++;
	fclose(fp);
	return n;
}

/* Does the file at path contain text anywhere (lines or not)? */
static int
file_has(const char *path, const char *text)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;
	int found;

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	buf = malloc(16 * 1024 * 1024 + 1);
	ck_assert(buf != NULL);
	n = fread(buf, 1, 16 * 1024 * 1024, fp);
	fclose(fp);
	buf[n] = '\0';
	found = memmem(buf, n, text, strlen(text)) != NULL;
	free(buf);
	return found;
}

#define CONF_PASSWORD "PasswordFile %s\n"
#define RUN_OK "echo ok"

/* ---- tests ---- */

/*
 * PasswordFile: the password-only and the keyboard-interactive-only
 * addresses run a command with no key configured, and the debug log says
 * which method did it.
 */
START_TEST(test_password_and_kbdint)
{
	char extra[TA_CONF_MAX];
	struct tcollect k;
	struct tclient *c;

	snprintf(extra, sizeof extra, "IdentityFile %s/none\n" CONF_PASSWORD,
		 work_dir, env.password_file);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(ta_run(c, &k, hostspec(env.password_addr), "pw", RUN_OK),
		   "password");
	assert_ran(ta_run(c, &k, hostspec(env.kbdint_addr), "kbd", RUN_OK),
		   "keyboard-interactive");
	ck_assert_msg(log_count("authenticated with password") == 1 &&
			  log_count("authenticated with "
				    "keyboard-interactive") == 1,
		      "the log does not say which method authenticated");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
}
END_TEST

/*
 * A wrong password: auth_failed, whose message names the methods tried and
 * what the server offers; on the publickey-or-password address the key,
 * not authorized there, counts as tried too.
 */
START_TEST(test_wrong_password)
{
	static const char *const pw_parts[] = {"password: denied",
					       "server offers password", NULL};
	static const char *const kbd_parts[] = {
	    "keyboard-interactive", "server offers keyboard-interactive", NULL};
	static const char *const any_parts[] = {
	    "publickey (1 key tried), password: denied",
	    "server offers publickey,password", NULL};
	char extra[TA_CONF_MAX];
	struct tcollect k;
	struct tclient *c;

	snprintf(extra, sizeof extra, "IdentityFile %s\n" CONF_PASSWORD,
		 env.cert_key,
		 work_file("wrong-password", "not-the-password\n", 0600));
	c = ta_start(extra);
	tcollect_init(&k);
	assert_denied(ta_run(c, &k, hostspec(env.password_addr), "pw", RUN_OK),
		      "password", pw_parts);
	assert_denied(ta_run(c, &k, hostspec(env.kbdint_addr), "kbd", RUN_OK),
		      "keyboard-interactive", kbd_parts);
	assert_denied(ta_run(c, &k, hostspec(env.any_addr), "any", RUN_OK),
		      "publickey or password", any_parts);
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
}
END_TEST

/*
 * NumberOfPasswordPrompts 0: the right password is never sent, and
 * PreferredAuthentications leaves out what it does not name.
 */
START_TEST(test_prompts_and_preference)
{
	static const char *const none_parts[] = {"password (no tries left)",
						 NULL};
	static const char *const pref_parts[] = {
	    "no preferred method the server offers",
	    "server offers keyboard-interactive", NULL};
	char extra[TA_CONF_MAX];
	struct tcollect k;
	struct tclient *c;

	snprintf(extra, sizeof extra,
		 "IdentityFile %s/none\n" CONF_PASSWORD "Host %s\n"
		 "\tNumberOfPasswordPrompts 0\n"
		 "Host %s\n\tPreferredAuthentications publickey,password\n",
		 work_dir, env.password_file, env.password_addr,
		 env.kbdint_addr);
	c = ta_start(extra);
	tcollect_init(&k);
	assert_denied(ta_run(c, &k, hostspec(env.password_addr), "pw", RUN_OK),
		      "NumberOfPasswordPrompts 0", none_parts);
	assert_denied(ta_run(c, &k, hostspec(env.kbdint_addr), "kbd", RUN_OK),
		      "PreferredAuthentications", pref_parts);
	ck_assert_msg(log_count("trying keyboard-interactive") == 0,
		      "keyboard-interactive tried though not preferred");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
}
END_TEST

/*
 * AuthenticationMethods publickey,password: the key is a partial success,
 * the password completes it; without a PasswordFile the key alone is
 * accepted but not enough.
 */
START_TEST(test_partial_success)
{
	static const char *const parts[] = {"publickey (1 key tried) accepted",
					    "password (no PasswordFile)",
					    "server offers password", NULL};
	char extra[TA_CONF_MAX];
	struct tcollect k;
	struct tclient *c;

	snprintf(extra, sizeof extra,
		 "Host %s\n\tIdentityFile %s\n\tPasswordFile %s\n"
		 "Host *\n\tIdentityFile %s\n",
		 env.partial_addr, env.key, env.password_file, env.key);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(ta_run(c, &k, hostspec(env.partial_addr), "both", RUN_OK),
		   "publickey,password");
	ck_assert_msg(log_count("publickey accepted, more authentication "
				"required") == 1,
		      "no partial success in the log");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();

	snprintf(extra, sizeof extra, "IdentityFile %s\n", env.key);
	c = ta_start(extra);
	tcollect_init(&k);
	assert_denied(ta_run(c, &k, hostspec(env.partial_addr), "key", RUN_OK),
		      "publickey alone", parts);
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
}
END_TEST

/*
 * Certificates only (no authorized_keys on that address): the certified
 * key with its CertificateFile logs in; the same key without it, or a
 * certificate of another key, does not.
 */
START_TEST(test_certificate)
{
	static const char *const parts[] = {"publickey (1 key tried): denied",
					    "server offers publickey", NULL};
	char extra[TA_CONF_MAX];
	struct tcollect k;
	struct tclient *c;

	snprintf(extra, sizeof extra, "IdentityFile %s\nCertificateFile %s\n",
		 env.cert_key, env.cert);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(ta_run(c, &k, hostspec(env.cert_addr), "cert", RUN_OK),
		   "certificate");
	ck_assert_msg(log_count("with certificate") >= 1,
		      "the certificate was not offered");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();

	snprintf(extra, sizeof extra, "IdentityFile %s\n", env.cert_key);
	c = ta_start(extra);
	tcollect_init(&k);
	assert_denied(ta_run(c, &k, hostspec(env.cert_addr), "nocert", RUN_OK),
		      "no CertificateFile", parts);
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();

	/* The certificate does not certify this key: not attached. */
	snprintf(extra, sizeof extra, "IdentityFile %s\nCertificateFile %s\n",
		 env.key, env.cert);
	c = ta_start(extra);
	tcollect_init(&k);
	assert_denied(ta_run(c, &k, hostspec(env.cert_addr), "other", RUN_OK),
		      "certificate of another key", parts);
	ck_assert_msg(log_count("certifies none of the identities") == 1,
		      "a certificate of another key was not reported");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
}
END_TEST

/* sshpoold -n on a configuration; its exit status, stderr into out. */
static int
check_conf(const char *extra, char *out, size_t outlen)
{
	char cmd[PATH_MAX * 2 + 64], errf[PATH_MAX + 16];
	FILE *fp;
	size_t n;
	int rc;

	ta_prepare();
	ta_conf(extra);
	snprintf(errf, sizeof errf, "%s/check.err", dmn.dir);
	snprintf(cmd, sizeof cmd, "'%s' -n -f '%s' 2>'%s'", getenv("SSHPOOLD"),
		 dmn.conf, errf);
	rc = system(cmd);
	fp = fopen(errf, "r");
	ck_assert(fp != NULL);
	n = fread(out, 1, outlen - 1, fp);
	out[n] = '\0';
	fclose(fp);
	ta_cleanup();
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/*
 * A PasswordFile others can read is refused by `sshpoold -n`, with the
 * file and its mode named; the same file at 0600 passes.  An empty one is
 * refused too.
 */
START_TEST(test_password_file_checked)
{
	char extra[TA_CONF_MAX], err[4096];
	const char *path;
	int rc;

	path = work_file("open-password", "secret-of-nobody\n", 0644);
	snprintf(extra, sizeof extra, CONF_PASSWORD, path);
	rc = check_conf(extra, err, sizeof err);
	ck_assert_msg(rc != 0 && strstr(err, path) != NULL &&
			  strstr(err, "permissions 0644") != NULL,
		      "0644 PasswordFile: exit %d: %s", rc, err);
	ck_assert_msg(strstr(err, "secret-of-nobody") == NULL,
		      "the password is in the error");
	ck_assert(chmod(path, 0600) == 0);
	rc = check_conf(extra, err, sizeof err);
	ck_assert_msg(rc == 0, "0600 PasswordFile: exit %d: %s", rc, err);
	path = work_file("empty-password", "", 0600);
	snprintf(extra, sizeof extra, CONF_PASSWORD, path);
	rc = check_conf(extra, err, sizeof err);
	ck_assert_msg(rc != 0 && strstr(err, path) != NULL,
		      "empty PasswordFile: exit %d: %s", rc, err);
}
END_TEST

/*
 * The new keywords' syntax and ranges, as `sshpoold -n` sees them: each
 * bad line is refused with the keyword named, the good ones pass.
 */
START_TEST(test_keywords_checked)
{
	static const struct {
		const char *line, *keyword;
	} bad[] = {
	    {"PreferredAuthentications publickey,,password\n",
	     "PreferredAuthentications"},
	    {"PreferredAuthentications ,password\n",
	     "PreferredAuthentications"},
	    {"PreferredAuthentications Password\n", "PreferredAuthentications"},
	    {"NumberOfPasswordPrompts 101\n", "NumberOfPasswordPrompts"},
	    {"CertificateFile relative-cert.pub\n", "CertificateFile"},
	};
	char err[4096];
	size_t i;
	int rc;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = check_conf(bad[i].line, err, sizeof err);
		ck_assert_msg(rc != 0 && strstr(err, bad[i].keyword) != NULL,
			      "%s-> exit %d: %s", bad[i].line, rc, err);
	}
	rc = check_conf("PreferredAuthentications "
			"gssapi-with-mic,hostbased,password\n"
			"NumberOfPasswordPrompts 0\n",
			err, sizeof err);
	ck_assert_msg(rc == 0, "good keywords refused: %s", err);
}
END_TEST

/*
 * The password appears nowhere: not in the debug log of logins by
 * password, keyboard-interactive and partial success and of a refused
 * login, nor in the status reply.
 */
START_TEST(test_password_never_shown)
{
	static const char *const bad_parts[] = {"password: denied", NULL};
	char extra[TA_CONF_MAX];
	struct tcollect k;
	struct tclient *c;

	snprintf(extra, sizeof extra,
		 "IdentityFile %s\n" CONF_PASSWORD "Host %s\n"
		 "\tPasswordFile %s\n\tPreferredAuthentications password\n",
		 env.key, env.password_file, env.any_addr,
		 work_file("wrong-password", "not-the-password\n", 0600));
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(ta_run(c, &k, hostspec(env.password_addr), "pw", RUN_OK),
		   "password");
	assert_ran(ta_run(c, &k, hostspec(env.kbdint_addr), "kbd", RUN_OK),
		   "keyboard-interactive");
	assert_ran(ta_run(c, &k, hostspec(env.partial_addr), "both", RUN_OK),
		   "publickey,password");
	assert_denied(ta_run(c, &k, hostspec(env.any_addr), "bad", RUN_OK),
		      "wrong password", bad_parts);
	ck_assert(
	    tclient_send(c, "{\"v\":1,\"id\":\"st\",\"op\":\"status\"}") == 0);
	tcollect_wait_status(c, &k, "\"st\"", TA_EVENT_MS);
	ck_assert_msg(k.status != NULL &&
			  strstr(k.status, env.password_addr) != NULL,
		      "status lacks the hosts");
	ck_assert_msg(strstr(k.status, password) == NULL,
		      "the password is in the status reply");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	/* The log is the debug one, libssh's lines included. */
	ck_assert_msg(log_count("libssh:") > 0 &&
			  log_count("trying password") >= 2,
		      "the log is not at debug level");
	ck_assert_msg(!file_has(dmn.log, password),
		      "the password is in the daemon's log");
	ta_cleanup();
}
END_TEST

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Median connect time (handshake and authentication, as the daemon
 * reports it) of TA_TIMING_RUNS fresh sessions to host. */
static long long
median_connect(struct tclient *c, struct tcollect *k, const char *host,
	       char tag)
{
	long long t[TA_TIMING_RUNS];
	struct tcollect_host *h;
	char id[32];
	int i;

	for (i = 0; i < TA_TIMING_RUNS; i++) {
		snprintf(id, sizeof id, "c%c%d", tag, i);
		h = ta_run(c, k, host, id, NULL);
		ck_assert_msg(h->connected, "connect %s: %s (%s)", host,
			      proto_code_name(h->code), h->message);
		t[i] = h->duration_ms;
		snprintf(id, sizeof id, "d%c%d", tag, i);
		ck_assert(tclient_send(c,
				       "{\"v\":1,\"id\":\"%s\",\"op\":"
				       "\"disconnect\",\"hosts\":[\"%s\"]}",
				       id, host) == 0);
		snprintf(id, sizeof id, "\"d%c%d\"", tag, i);
		tcollect_wait_end(c, k, id, TA_EVENT_MS);
	}
	qsort(t, TA_TIMING_RUNS, sizeof t[0], cmp_ll);
	return t[TA_TIMING_RUNS / 2];
}

/* Printed, not asserted: a password login and an agent's against a key
 * file's. */
START_TEST(test_timing)
{
	char extra[TA_CONF_MAX], sock[TA_PATH * 2];
	struct tcollect k;
	struct tclient *c;
	long long key_ms, pw_ms, agent_ms;
	pid_t agent;

	snprintf(extra, sizeof extra, "IdentityFile %s\n" CONF_PASSWORD,
		 env.key, env.password_file);
	c = ta_start(extra);
	tcollect_init(&k);
	key_ms = median_connect(c, &k, hostspec(env.any_addr), 'k');
	pw_ms = median_connect(c, &k, hostspec(env.password_addr), 'p');
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();

	snprintf(sock, sizeof sock, "%s/timing-agent.sock", work_dir);
	agent = tagent_start(sock);
	ck_assert(tagent_add(sock, env.key) == 0);
	snprintf(extra, sizeof extra,
		 "IdentityFile %s/none\nIdentityAgent %s\n", work_dir, sock);
	c = ta_start(extra);
	tcollect_init(&k);
	agent_ms = median_connect(c, &k, hostspec(env.any_addr), 'a');
	fprintf(stderr,
		"AUTH: median connect+auth of %d sessions: key file %lld ms, "
		"password %lld ms, agent %lld ms\n",
		TA_TIMING_RUNS, key_ms, pw_ms, agent_ms);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
	tagent_stop(agent);
}
END_TEST

/* ---- the client's own password ---- */

/* A run on host with the client's password (NULL: none). */
static struct tcollect_host *
ta_run_pw(struct tclient *c, struct tcollect *k, const char *host,
	  const char *id, const char *pw)
{
	const char *hosts[1] = {host};
	char jid[40], member[1200] = "";
	struct tcollect_req *r;

	snprintf(jid, sizeof jid, "\"%s\"", id);
	if (pw != NULL)
		snprintf(member, sizeof member, ",\"password\":\"%s\"", pw);
	tcollect_expect(k, jid, hosts, 1);
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"%s\",\"op\":\"run\","
			       "\"hosts\":[\"%s\"],\"command\":\"" RUN_OK
			       "\"%s}",
			       id, host, member) == 0);
	r = tcollect_wait_end(c, k, jid, TA_EVENT_MS);
	ck_assert_msg(!r->reqerr && r->nhosts == 1, "%s: request error %s", id,
		      r->message);
	return r->hosts[0];
}

/*
 * A password the client passes with its request (no PasswordFile): the
 * password-only and keyboard-interactive-only addresses log in with it; a
 * wrong one fails with auth_failed and a request without one does not use
 * the sessions it opened; status lists those pools as the client's
 * password, and neither status nor the debug log shows the password.
 */
START_TEST(test_client_password)
{
	static const char *const wrong_parts[] = {"password: denied", NULL};
	static const char *const none_parts[] = {"no PasswordFile", NULL};
	char extra[TA_CONF_MAX];
	struct tcollect k;
	struct tclient *c;

	snprintf(extra, sizeof extra, "IdentityFile %s/none\n", work_dir);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(
	    ta_run_pw(c, &k, hostspec(env.password_addr), "p1", password),
	    "password");
	assert_ran(ta_run_pw(c, &k, hostspec(env.kbdint_addr), "p2", password),
		   "keyboard-interactive");
	assert_denied(ta_run_pw(c, &k, hostspec(env.password_addr), "p3",
				"not-the-password"),
		      "a wrong password", wrong_parts);
	assert_denied(ta_run_pw(c, &k, hostspec(env.password_addr), "p4", NULL),
		      "no password", none_parts);
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"st\",\"op\":"
				  "\"status\"}") == 0);
	tcollect_wait_status(c, &k, NULL, TA_EVENT_MS);
	ck_assert_msg(strstr(k.status, "\"credential\":\"client password\"") !=
			  NULL,
		      "status: %.400s", k.status);
	ck_assert_msg(strstr(k.status, password) == NULL,
		      "the password is in status");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ck_assert_msg(log_count("authenticated with password") == 1,
		      "the log does not show the password login");
	ck_assert_msg(!file_has(dmn.log, password),
		      "the password is in the daemon's log");
	ta_cleanup();
}
END_TEST

/*
 * sshpool run --ask-pass asks once on the terminal (here a pty made by
 * script(1), fed the password) and the host logs in with it; a wrong
 * answer fails the run.
 */
START_TEST(test_ask_pass)
{
	const char *cli = getenv("SSHPOOL_CLI");
	char extra[TA_CONF_MAX], cmd[PATH_MAX * 3], out[PATH_MAX + 16];
	struct tclient *c;
	int st;

	ck_assert_msg(cli != NULL, "SSHPOOL_CLI unset");
	snprintf(extra, sizeof extra, "IdentityFile %s/none\n", work_dir);
	c = ta_start(extra);
	snprintf(out, sizeof out, "%s/ask.out", work_dir);
	snprintf(cmd, sizeof cmd,
		 "printf '%%s\\n' '%s' | script -qec \"'%s' -s '%s' run -H "
		 "'%s' --ask-pass -- echo ran-with-password\" /dev/null "
		 ">'%s' 2>&1",
		 password, cli, dmn.sock, hostspec(env.password_addr), out);
	st = system(cmd);
	ck_assert_msg(st == 0 && file_has(out, "ran-with-password") &&
			  file_has(out, "Password for the hosts"),
		      "--ask-pass: status %d", st);
	snprintf(cmd, sizeof cmd,
		 "printf 'wrong\\n' | script -qec \"'%s' -s '%s' run -H "
		 "'%s' --ask-pass -- echo ran\" /dev/null >'%s' 2>&1",
		 cli, dmn.sock, hostspec(env.password_addr), out);
	st = system(cmd);
	ck_assert_msg(st != 0 && file_has(out, "auth_failed"),
		      "--ask-pass with a wrong password: status %d", st);
	tclient_close(c);
	c = tclient_connect(dmn.sock);
	ck_assert(c != NULL);
	ta_stop(c);
	ck_assert_msg(!file_has(dmn.log, password),
		      "the password is in the daemon's log");
	ta_cleanup();
}
END_TEST

/* ---- agents ---- */

static void
ta_disconnect(struct tclient *c, const char *host, const char *id)
{
	struct tcollect own, *k = &own;
	char jid[40];

	snprintf(jid, sizeof jid, "\"%s\"", id);
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"%s\",\"op\":\"disconnect\","
			       "\"hosts\":[\"%s\"]}",
			       id, host) == 0);
	tcollect_init(k);
	tcollect_wait_end(c, k, jid, TA_EVENT_MS);
	tcollect_free(k);
}

/*
 * IdentityAgent: a key only in an ssh-agent (the identity file configured
 * is not authorized) logs in.  Once ssh-add -D emptied the agent, the
 * pooled session still runs commands, and a new connection fails with
 * auth_failed saying the agent had no keys.
 */
START_TEST(test_agent_identity)
{
	static const char *const parts[] = {"publickey", "agent", "no keys",
					    NULL};
	char extra[TA_CONF_MAX], sock[TA_PATH * 2];
	struct tcollect k;
	struct tclient *c;
	const char *host = hostspec(env.any_addr);
	pid_t agent;

	snprintf(sock, sizeof sock, "%s/agent.sock", work_dir);
	agent = tagent_start(sock);
	ck_assert_msg(tagent_add(sock, env.key) == 0, "ssh-add %s", env.key);
	snprintf(extra, sizeof extra,
		 "IdentityFile %s/none\nIdentityAgent %s\n", work_dir, sock);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(ta_run(c, &k, host, "a1", RUN_OK), "agent key");
	ck_assert_msg(log_count("lists 1 keys") == 1 &&
			  log_count("authenticated with publickey") == 1,
		      "the log does not show the agent's key at work");
	ck_assert(tagent_add(sock, "-D") == 0);
	assert_ran(ta_run(c, &k, host, "a2", RUN_OK), "the pooled session");
	ta_disconnect(c, host, "d");
	assert_denied(ta_run(c, &k, host, "a3", RUN_OK), "an empty agent",
		      parts);
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
	tagent_stop(agent);
}
END_TEST

/* Run RUN_OK on host with a connection to the agent at sock passed
 * (fds ["agent"]) and the extra members; the host's result, or NULL
 * and the request error's message in k's request. */
static struct tcollect_req *
ta_run_agent(struct tclient *c, struct tcollect *k, const char *host,
	     const char *id, const char *sock, const char *members)
{
	const char *hosts[1] = {host};
	char jid[40], line[1024];
	int fd = tagent_connect(sock), n;

	snprintf(jid, sizeof jid, "\"%s\"", id);
	n = snprintf(line, sizeof line,
		     "{\"v\":1,\"id\":\"%s\",\"op\":\"run\",\"hosts\":[\"%s\"],"
		     "\"command\":\"" RUN_OK "\",\"fds\":[\"agent\"]%s}\n",
		     id, host, members);
	tcollect_expect(k, jid, hosts, 1);
	ck_assert(tclient_send_fds(c, line, (size_t)n, &fd, 1) == 0);
	close(fd);
	return tcollect_wait_end(c, k, jid, TA_EVENT_MS);
}

static struct tcollect_host *
ta_agent_host(struct tcollect_req *r, const char *id)
{
	ck_assert_msg(!r->reqerr && r->nhosts == 1, "%s: request error %s", id,
		      r->message);
	return r->hosts[0];
}

/*
 * The client's own agent (a descriptor passed with each request), with no
 * key of the daemon's: the key only in that agent logs in and status says
 * "client agent"; a later request with a new connection to the same agent
 * reuses the session.  After ssh-add -D the next request may not use that
 * session (its agent no longer holds the key that opened it) and fails with
 * auth_failed, while the session stays pooled; once the key is back, the
 * next request is served by the same session, with no new login.  An agent
 * holding only another key gets a session of its own, refused here.
 * forward_agent without an agent is a bad request.
 */
START_TEST(test_client_agent)
{
	static const char *const empty_parts[] = {"the client's agent",
						  "no keys", NULL};
	char extra[TA_CONF_MAX], sock[TA_PATH * 2], other[TA_PATH * 2];
	char cmd[TA_PATH * 4];
	struct tcollect k;
	struct tcollect_req *r;
	struct tclient *c;
	const char *host = hostspec(env.any_addr);
	pid_t agent, agent2;

	snprintf(sock, sizeof sock, "%s/cagent.sock", work_dir);
	snprintf(other, sizeof other, "%s/cagent2.sock", work_dir);
	agent = tagent_start(sock);
	agent2 = tagent_start(other);
	ck_assert(tagent_add(sock, env.key) == 0);
	snprintf(cmd, sizeof cmd,
		 "rm -f '%s/other' '%s/other.pub' && ssh-keygen -q -t ed25519 "
		 "-N '' -f '%s/other'",
		 work_dir, work_dir, work_dir);
	ck_assert(system(cmd) == 0);
	snprintf(cmd, sizeof cmd, "%s/other", work_dir);
	ck_assert(tagent_add(other, cmd) == 0);
	snprintf(extra, sizeof extra, "IdentityFile %s/none\n", work_dir);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(
	    ta_agent_host(ta_run_agent(c, &k, host, "c1", sock, ""), "c1"),
	    "the client's agent");
	assert_ran(
	    ta_agent_host(ta_run_agent(c, &k, host, "c2", sock, ""), "c2"),
	    "the client's agent again");
	ck_assert_msg(log_count("session up") == 1,
		      "a second request of the same agent made a new session");
	ck_assert(tclient_send(c, "{\"v\":1,\"id\":\"st\",\"op\":"
				  "\"status\"}") == 0);
	tcollect_wait_status(c, &k, NULL, TA_EVENT_MS);
	ck_assert_msg(strstr(k.status, "\"credential\":\"client agent\"") !=
			  NULL,
		      "status: %.400s", k.status);
	/* The agent no longer holds the key: the session is not its. */
	ck_assert(tagent_add(sock, "-D") == 0);
	assert_denied(
	    ta_agent_host(ta_run_agent(c, &k, host, "c3", sock, ""), "c3"),
	    "an emptied client agent", empty_parts);
	ck_assert(tagent_add(sock, env.key) == 0);
	assert_ran(
	    ta_agent_host(ta_run_agent(c, &k, host, "c4", sock, ""), "c4"),
	    "the key back in the agent");
	ck_assert_msg(log_count("session up") == 1,
		      "the key back in the agent did not reuse the session");
	/* Another key, which the server refuses: a login of its own. */
	assert_denied(
	    ta_agent_host(ta_run_agent(c, &k, host, "c5", other, ""), "c5"),
	    "another agent's key", (const char *const[]){"1 of 1 key", NULL});
	r = ta_run_agent(c, &k, host, "c6", sock, ",\"forward_agent\":true");
	assert_ran(ta_agent_host(r, "c6"), "forward_agent with the agent");
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"c7\",\"op\":\"run\","
			       "\"hosts\":[\"%s\"],\"command\":\"true\","
			       "\"forward_agent\":true}",
			       host) == 0);
	r = tcollect_wait_end(c, &k, "\"c7\"", TA_EVENT_MS);
	ck_assert_msg(r->reqerr && r->code == PROTO_E_BAD_REQUEST &&
			  strstr(r->message, "forward_agent") != NULL,
		      "forward_agent without an agent: %s", r->message);
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
	tagent_stop(agent);
	tagent_stop(agent2);
}
END_TEST

/*
 * IdentitiesOnly yes: of the daemon agent's keys only those that are the
 * public half of an IdentityFile are offered.  The agent holds the
 * authorized key and another; with the other as the only IdentityFile the
 * authorized key is never offered and the login fails with one of the
 * agent's two keys tried; with the authorized key's file it is the one key
 * offered.
 */
START_TEST(test_identities_only)
{
	static const char *const parts[] = {"agent: 1 of 2 keys tried", NULL};
	char extra[TA_CONF_MAX], sock[TA_PATH * 2], other[TA_PATH * 2];
	char cmd[TA_PATH * 8];
	struct tcollect k;
	struct tclient *c;
	const char *host = hostspec(env.any_addr);
	pid_t agent;

	snprintf(sock, sizeof sock, "%s/io-agent.sock", work_dir);
	snprintf(other, sizeof other, "%s/io-other", work_dir);
	snprintf(
	    cmd, sizeof cmd,
	    "rm -f '%s' '%s.pub' && ssh-keygen -q -t ed25519 -N '' -f '%s'",
	    other, other, other);
	ck_assert(system(cmd) == 0);
	agent = tagent_start(sock);
	ck_assert(tagent_add(sock, other) == 0);
	ck_assert(tagent_add(sock, env.key) == 0);
	snprintf(extra, sizeof extra,
		 "IdentitiesOnly yes\nIdentityAgent %s\nHost %s\n"
		 "\tIdentityFile %s\n",
		 sock, env.any_addr, other);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_denied(ta_run(c, &k, host, "i1", RUN_OK),
		      "the agent's key not an IdentityFile", parts);
	ck_assert_msg(log_count("lists 2 keys, 1 to offer") == 1,
		      "the log does not show the agent's keys filtered");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
	snprintf(extra, sizeof extra,
		 "IdentitiesOnly yes\nIdentityAgent %s\nIdentityFile %s\n",
		 sock, env.key);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	assert_ran(ta_run(c, &k, host, "i2", RUN_OK), "the IdentityFile's key");
	ck_assert_msg(log_count("lists 2 keys, 1 to offer") == 1,
		      "the agent's keys were not filtered to the IdentityFile");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
	tagent_stop(agent);
}
END_TEST

/*
 * MaxAgentsPerUser 1: while one request of the user holds its agent, a
 * second request with an agent is refused with limit naming the keyword;
 * once the first is done, the next one runs.
 */
START_TEST(test_agents_per_user)
{
	const char *host = hostspec(env.any_addr), *hosts[1] = {host};
	char extra[TA_CONF_MAX], sock[TA_PATH * 2], line[512];
	struct tcollect_req *r;
	struct tcollect k;
	struct tclient *c;
	pid_t agent;
	int fd, n;

	snprintf(sock, sizeof sock, "%s/max-agent.sock", work_dir);
	agent = tagent_start(sock);
	ck_assert(tagent_add(sock, env.key) == 0);
	snprintf(extra, sizeof extra,
		 "IdentityFile %s/none\nMaxAgentsPerUser 1\n", work_dir);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	fd = tagent_connect(sock);
	n = snprintf(line, sizeof line,
		     "{\"v\":1,\"id\":\"hold\",\"op\":\"run\",\"hosts\":"
		     "[\"%s\"],\"command\":\"sleep 2\",\"fds\":[\"agent\"]}\n",
		     host);
	tcollect_expect(&k, "\"hold\"", hosts, 1);
	ck_assert(tclient_send_fds(c, line, (size_t)n, &fd, 1) == 0);
	close(fd);
	r = ta_run_agent(c, &k, host, "over", sock, "");
	ck_assert_msg(r->reqerr && r->code == PROTO_E_LIMIT &&
			  strstr(r->message, "MaxAgentsPerUser") != NULL,
		      "a second agent over MaxAgentsPerUser 1: %s",
		      r->reqerr ? r->message : "ran");
	r = tcollect_wait_end(c, &k, "\"hold\"", TA_EVENT_MS);
	ck_assert_msg(!r->reqerr && r->hosts[0]->exited,
		      "the request holding the agent: %s", r->message);
	assert_ran(ta_agent_host(ta_run_agent(c, &k, host, "after", sock, ""),
				 "after"),
		   "an agent once the first was released");
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
	tagent_stop(agent);
}
END_TEST

#define TA_HUNG_TIMEOUT_MS 1000
#define TA_HUNG_RUNS 20

/* A Unix socket that accepts and never answers: a hung agent. */
static int
hung_agent(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	ck_assert_msg(strlen(path) < sizeof sa.sun_path, "%s: too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(fd != -1);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
			  listen(fd, 16) == 0,
		      "%s: %s", path, strerror(errno));
	return fd; /* the kernel accepts into the backlog; nobody reads */
}

/* Median of n latencies. */
static long long
median_of(long long *t, int n)
{
	qsort(t, (size_t)n, sizeof t[0], cmp_ll);
	return t[n / 2];
}

/* Latencies of TA_HUNG_RUNS commands on a warm host, in t. */
static void
warm_runs(struct tclient *c, struct tcollect *k, const char *host, char tag,
	  long long *t)
{
	struct tcollect_host *h;
	char id[32];
	long long t0;
	int i;

	for (i = 0; i < TA_HUNG_RUNS; i++) {
		snprintf(id, sizeof id, "w%c%d", tag, i);
		t0 = testutil_now_ms();
		h = ta_run(c, k, host, id, "true");
		ck_assert_msg(h->exited && h->status == 0, "%s: %s (%s)", id,
			      proto_code_name(h->code), h->message);
		t[i] = testutil_now_ms() - t0;
	}
}

/*
 * A hung agent (accepts, never answers), on a daemon with one worker: the
 * host that uses it fails with auth_failed naming the agent within
 * AgentTimeout and a little, and another host on the same worker keeps
 * its command latency meanwhile: the agent's keys are listed off the
 * worker, which never blocks on it.
 */
START_TEST(test_agent_hung)
{
	static const char *const parts[] = {"agent", "did not answer", NULL};
	char extra[TA_CONF_MAX], sock[TA_PATH * 2], jid[16];
	const char *hung = hostspec(env.any_addr), *hosts[1];
	const char *other = hostspec(env.password_addr);
	long long before[TA_HUNG_RUNS], during[TA_HUNG_RUNS], t0, took;
	long long mb, md;
	struct tcollect_req *r;
	struct tcollect k;
	struct tclient *c;
	int lfd;

	snprintf(sock, sizeof sock, "%s/hung.sock", work_dir);
	lfd = hung_agent(sock);
	snprintf(extra, sizeof extra,
		 "Workers 1\nAgentTimeout %dms\nIdentityFile %s/none\n"
		 "Host %s\n\tPasswordFile %s\nHost %s\n\tIdentityAgent %s\n",
		 TA_HUNG_TIMEOUT_MS, work_dir, env.password_addr,
		 env.password_file, env.any_addr, sock);
	c = ta_start(extra);
	tcollect_init(&k);
	k.keep = TA_OUT_KEEP;
	warm_runs(c, &k, other, 'b', before);
	hosts[0] = hung;
	snprintf(jid, sizeof jid, "\"hung\"");
	tcollect_expect(&k, jid, hosts, 1);
	t0 = testutil_now_ms();
	ck_assert(tclient_send(c,
			       "{\"v\":1,\"id\":\"hung\",\"op\":\"connect\","
			       "\"hosts\":[\"%s\"]}",
			       hung) == 0);
	warm_runs(c, &k, other, 'd', during);
	r = tcollect_wait_end(c, &k, jid, TA_EVENT_MS);
	took = r->hosts[0]->t_terminal - t0;
	mb = median_of(before, TA_HUNG_RUNS);
	md = median_of(during, TA_HUNG_RUNS);
	fprintf(stderr,
		"AUTH: hung agent (AgentTimeout %d ms): its host failed after "
		"%lld ms; another host on the same worker: median %lld ms "
		"before, %lld ms during (%d commands each)\n",
		TA_HUNG_TIMEOUT_MS, took, mb, md, TA_HUNG_RUNS);
	assert_denied(r->hosts[0], "the hung agent's host", parts);
	ck_assert_msg(took <= tclient_scaled_ms(TA_HUNG_TIMEOUT_MS + 1500),
		      "the hung agent's host failed after %lld ms", took);
	ck_assert_msg(md <= mb * 3 + tclient_scaled_ms(50),
		      "other host's median %lld ms during, %lld ms before", md,
		      mb);
	tcollect_check(&k);
	tcollect_free(&k);
	ta_stop(c);
	ta_cleanup();
	close(lfd);
	unlink(sock);
}
END_TEST

int
main(int argc, char **argv)
{
	const char *dir = getenv("SSHPOOL_AUTH_DIR");
	char args[PATH_MAX + 32], cmd[PATH_MAX + 16];
	Suite *s;
	TCase *tc;
	int rc;

	(void)argc;
	(void)argv;
	if (geteuid() != 0) {
		fprintf(stderr, "test_auth: needs root (the fixture creates "
				"a user): skipped\n");
		return TA_SKIP;
	}
	if (dir == NULL || strlen(dir) >= sizeof auth_dir - 64 ||
	    getenv("SSHPOOLD") == NULL) {
		fprintf(stderr, "SSHPOOL_AUTH_DIR or SSHPOOLD unset\n");
		return EXIT_FAILURE;
	}
	strcpy(auth_dir, dir);
	snprintf(args, sizeof args, "auth-start '%s'", auth_dir);
	if (fleet_sh(args) != 0 || env_load() != 0) {
		fprintf(stderr, "fleet.sh %s failed\n", args);
		snprintf(args, sizeof args, "auth-stop '%s'", auth_dir);
		fleet_sh(args);
		return EXIT_FAILURE;
	}
	snprintf(work_dir, sizeof work_dir, "%s/work", auth_dir);
	mkdir(work_dir, 0700);
	s = suite_create("auth");
	tc = tcase_create("auth");
	tcase_add_test(tc, test_password_and_kbdint);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_prompts_and_preference);
	tcase_add_test(tc, test_partial_success);
	tcase_add_test(tc, test_certificate);
	tcase_add_test(tc, test_password_file_checked);
	tcase_add_test(tc, test_keywords_checked);
	tcase_add_test(tc, test_password_never_shown);
	tcase_add_test(tc, test_timing);
	tcase_add_test(tc, test_agent_identity);
	tcase_add_test(tc, test_client_agent);
	tcase_add_test(tc, test_identities_only);
	tcase_add_test(tc, test_agents_per_user);
	tcase_add_test(tc, test_client_password);
	tcase_add_test(tc, test_ask_pass);
	tcase_add_test(tc, test_agent_hung);
	suite_add_tcase(s, tc);
	rc = testutil_run(s);
	snprintf(args, sizeof args, "auth-stop '%s'", auth_dir);
	fleet_sh(args);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", work_dir);
	return rc;
}
