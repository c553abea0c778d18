/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of libsshpool and the CLI's host file parser, without a real
 * daemon: a scripted fake daemon speaks protocol lines over a socketpair or
 * a Unix socket, either inline (for byte-by-byte feeding) or in a thread
 * (for the blocking calls), and, to check whom the library trusts, one run
 * by nobody (setuid in a child) and socket directories gone wrong.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostfile.h"
#include "sshpool.h"
#include "testutil.h"

#define FAKE_MAX_STEPS 32
#define FAKE_MAX_IDS 16
#define FAKE_LINE 8192
#define FAKE_WAIT_MS 5000
#define OTHER_UID 65534 /* nobody: a local user the library must not trust */
#define STRANGER_WAIT_MS 1000 /* how long the stranger listens for bytes */

/* ---- Fake daemon ---- */

/*
 * A script is a list of steps: "<op" reads one request line and checks its
 * op (remembering its id as $1, $2, ... in order), ">text" writes text plus
 * a newline after replacing $N by the N-th id, "=text" writes text as it is
 * (a partial line), "x" closes the socket.
 */
struct fake {
	int fd;
	int listen_fd; /* accept one connection first if >= 0 */
	const char *steps[FAKE_MAX_STEPS];
	size_t nsteps, next;
	unsigned long long ids[FAKE_MAX_IDS];
	size_t nids;
	char lines[FAKE_MAX_IDS][FAKE_LINE]; /* request lines as read */
	char failure[256];
	pthread_t thread;
};

static const char hello_reply[] =
    ">{\"v\":1,\"id\":$1,\"event\":\"hello\",\"version\":1,"
    "\"server\":\"fake/1\",\"limits\":{\"max_line\":1048576,"
    "\"max_hosts\":3,\"max_stdin\":1048576}}";

static int
fake_read_line(struct fake *f, char *buf, size_t size)
{
	struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size) {
		if (poll(&pfd, 1, FAKE_WAIT_MS) != 1)
			return -1;
		if ((n = read(f->fd, buf + len, 1)) != 1)
			return -1;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return 0;
		}
		len++;
	}
	return -1;
}

static int
fake_write(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static unsigned long long
fake_line_id(const char *line)
{
	const char *p = strstr(line, "\"id\"");

	if (p == NULL)
		return 0;
	p += 4;
	while (*p == ' ' || *p == ':')
		p++;
	return strtoull(p, NULL, 10);
}

static void
fake_expand(const struct fake *f, const char *text, char *out, size_t size)
{
	size_t len = 0;
	int n;

	while (*text != '\0' && len + 32 < size) {
		if (text[0] == '$' && text[1] >= '1' && text[1] <= '9') {
			n = snprintf(out + len, size - len, "%llu",
				     f->ids[text[1] - '1']);
			len += (size_t)n;
			text += 2;
		} else
			out[len++] = *text++;
	}
	out[len++] = '\n';
	out[len] = '\0';
}

/* Run one step; 0 or -1 with f->failure set. */
static int
fake_step(struct fake *f)
{
	const char *s = f->steps[f->next++];
	char line[FAKE_LINE], want[128];

	if (s[0] == '<') {
		if (fake_read_line(f, line, sizeof line) == -1) {
			snprintf(f->failure, sizeof f->failure,
				 "step %zu: no request line", f->next);
			return -1;
		}
		snprintf(want, sizeof want, "\"op\":\"%s\"", s + 1);
		if (strstr(line, want) == NULL) {
			snprintf(f->failure, sizeof f->failure,
				 "step %zu: expected %s in %.100s", f->next,
				 want, line);
			return -1;
		}
		if (f->nids < FAKE_MAX_IDS) {
			snprintf(f->lines[f->nids], FAKE_LINE, "%s", line);
			f->ids[f->nids++] = fake_line_id(line);
		}
	} else if (s[0] == '>') {
		fake_expand(f, s + 1, line, sizeof line);
		if (fake_write(f->fd, line, strlen(line)) == -1) {
			snprintf(f->failure, sizeof f->failure,
				 "step %zu: write failed", f->next);
			return -1;
		}
	} else if (s[0] == '=') {
		if (fake_write(f->fd, s + 1, strlen(s + 1)) == -1) {
			snprintf(f->failure, sizeof f->failure,
				 "step %zu: write failed", f->next);
			return -1;
		}
	} else if (s[0] == 'x') {
		close(f->fd);
		f->fd = -1;
	}
	return 0;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;

	if (f->listen_fd >= 0) {
		struct pollfd pfd = {.fd = f->listen_fd, .events = POLLIN};

		if (poll(&pfd, 1, FAKE_WAIT_MS) != 1 ||
		    (f->fd = accept(f->listen_fd, NULL, NULL)) == -1) {
			snprintf(f->failure, sizeof f->failure, "no client");
			return NULL;
		}
	}
	while (f->next < f->nsteps) {
		if (fake_step(f) == -1)
			break;
	}
	return NULL;
}

static struct fake *
fake_new(int fd, const char *const *steps)
{
	struct fake *f = calloc(1, sizeof *f);

	ck_assert_ptr_nonnull(f);
	f->fd = fd;
	f->listen_fd = -1;
	for (; *steps != NULL; steps++) {
		ck_assert_uint_lt(f->nsteps, FAKE_MAX_STEPS);
		f->steps[f->nsteps++] = *steps;
	}
	return f;
}

static void
fake_run_inline(struct fake *f, size_t upto)
{
	while (f->next < upto && f->next < f->nsteps) {
		if (fake_step(f) == -1)
			ck_abort_msg("fake daemon: %s", f->failure);
	}
}

static void
fake_start(struct fake *f)
{
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void
fake_finish(struct fake *f)
{
	pthread_join(f->thread, NULL);
	ck_assert_msg(f->failure[0] == '\0', "fake daemon: %s", f->failure);
	ck_assert_uint_eq(f->next, f->nsteps);
}

static void
fake_free(struct fake *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	free(f);
}

/* A client on one end of a socketpair; the fake gets the other end. */
static sp_client *
pair_client(int *peer)
{
	char err[256];
	sp_client *c;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = sp_adopt_fd(sv[0], err, sizeof err);
	ck_assert_msg(c != NULL, "adopt: %s", err);
	*peer = sv[1];
	return c;
}

/* Wait for and return the next event, failing the test if none comes. */
static sp_event *
next_event(sp_client *c)
{
	sp_event *ev = NULL;
	int r;

	r = sp_wait(c, FAKE_WAIT_MS);
	ck_assert_msg(r == 1, "sp_wait: %d (%s)", r, sp_client_error(c));
	ck_assert_int_eq(sp_next_event(c, &ev), 1);
	ck_assert_ptr_nonnull(ev);
	return ev;
}

/* Client past hello on a socketpair, fake run inline up to the hello. */
static sp_client *
hello_client(struct fake **fp, const char *const *steps)
{
	sp_client *c;
	sp_event *ev;
	int peer;

	c = pair_client(&peer);
	*fp = fake_new(peer, steps);
	fake_run_inline(*fp, 2); /* "<hello", hello reply */
	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_HELLO);
	sp_event_free(ev);
	return c;
}

static char *
listen_socket(int *fd, char *dir, size_t dirlen)
{
	struct sockaddr_un sun;
	static char path[108];

	snprintf(dir, dirlen, "/tmp/test_client.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.sock", dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	*fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(*fd, 0);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(*fd, 4), 0);
	return path;
}

/* ---- Run options ---- */

START_TEST(test_opts_hosts)
{
	sp_run_opts *o = sp_run_opts_new();

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(sp_run_opts_add_host(o, "web1"), 0);
	ck_assert_int_eq(sp_run_opts_add_hosts(o, " a ,b,\troot@[::1]:22 "), 0);
	ck_assert_uint_eq(sp_run_opts_nhosts(o), 4);
	ck_assert_str_eq(sp_run_opts_host(o, 1), "a");
	ck_assert_str_eq(sp_run_opts_host(o, 3), "root@[::1]:22");
	ck_assert_ptr_null(sp_run_opts_host(o, 4));

	/* A bad list adds nothing. */
	ck_assert_int_eq(sp_run_opts_add_hosts(o, "x,,y"), -1);
	ck_assert_str_ne(sp_run_opts_error(o), "");
	ck_assert_int_eq(sp_run_opts_add_hosts(o, "x,"), -1);
	ck_assert_uint_eq(sp_run_opts_nhosts(o), 4);
	ck_assert_int_eq(sp_run_opts_add_host(o, ""), -1);
	ck_assert_int_eq(sp_run_opts_add_host(o, "a,b"), -1);
	ck_assert_int_eq(sp_run_opts_add_host(o, NULL), -1);
	ck_assert_uint_eq(sp_run_opts_nhosts(o), 4);
	sp_run_opts_free(o);
}
END_TEST

START_TEST(test_opts_setters)
{
	sp_run_opts *o = sp_run_opts_new();
	char name[16];
	int i;

	ck_assert_int_eq(sp_run_opts_set_timeout(o, -1), -1);
	ck_assert_int_eq(sp_run_opts_set_timeout(o, 604800.5), -1);
	ck_assert_int_eq(sp_run_opts_set_timeout(o, NAN), -1);
	ck_assert_int_eq(sp_run_opts_set_timeout(o, 604800), 0);
	ck_assert_int_eq(sp_run_opts_set_timeout(o, 1.5), 0);
	ck_assert_int_eq(sp_run_opts_set_command(o, ""), -1);
	ck_assert_int_eq(sp_run_opts_set_command(o, NULL), -1);
	ck_assert_int_eq(sp_run_opts_set_command(o, "uptime"), 0);
	ck_assert_int_eq(sp_run_opts_set_user(o, ""), -1);
	ck_assert_int_eq(sp_run_opts_set_user(o, "deploy"), 0);
	ck_assert_int_eq(sp_run_opts_set_user(o, NULL), 0);
	ck_assert_int_eq(sp_run_opts_add_env(o, "1BAD", "x"), -1);
	ck_assert_int_eq(sp_run_opts_add_env(o, "A-B", "x"), -1);
	ck_assert_int_eq(sp_run_opts_add_env(o, "", "x"), -1);
	ck_assert_int_eq(sp_run_opts_add_env(o, "LANG", NULL), -1);
	ck_assert_int_eq(sp_run_opts_add_env(o, "LANG", "C"), 0);
	/* Replacing does not count against the limit. */
	ck_assert_int_eq(sp_run_opts_add_env(o, "LANG", "C.UTF-8"), 0);
	for (i = 1; i < 64; i++) {
		snprintf(name, sizeof name, "V%d", i);
		ck_assert_int_eq(sp_run_opts_add_env(o, name, "1"), 0);
	}
	ck_assert_int_eq(sp_run_opts_add_env(o, "ONE_TOO_MANY", "1"), -1);
	ck_assert_ptr_nonnull(strstr(sp_run_opts_error(o), "64"));
	ck_assert_int_eq(sp_run_opts_set_stdin(o, NULL, 3), -1);
	ck_assert_int_eq(sp_run_opts_set_stdin(o, "abc", 3), 0);
	ck_assert_int_eq(sp_run_opts_set_stdin(o, NULL, 0), 0);
	ck_assert_int_eq(sp_run_opts_set_pty(o, 7), 0);
	sp_run_opts_free(o);
}
END_TEST

/* sp_run_opts_set_jump: the daemon's syntax, checked here. */
START_TEST(test_opts_jump)
{
	sp_run_opts *o = sp_run_opts_new();

	ck_assert_int_eq(sp_run_opts_set_jump(o, "bastion"), 0);
	ck_assert_int_eq(sp_run_opts_set_jump(o, "ops@b1:2222,[::1]:22"), 0);
	ck_assert_int_eq(sp_run_opts_set_jump(o, "none"), 0);
	ck_assert_int_eq(sp_run_opts_set_jump(o, "a,b,c,d,e,f,g,h"), 0);
	ck_assert_int_eq(sp_run_opts_set_jump(o, "a,b,c,d,e,f,g,h,i"), -1);
	ck_assert_str_eq(sp_run_opts_error(o),
			 "jump: too many jump hosts (max 8)");
	ck_assert_int_eq(sp_run_opts_set_jump(o, "a,,b"), -1);
	ck_assert_str_eq(sp_run_opts_error(o), "jump: jump host 2: empty");
	ck_assert_int_eq(sp_run_opts_set_jump(o, "b:0"), -1);
	ck_assert_ptr_nonnull(strstr(sp_run_opts_error(o), "\"b:0\""));
	ck_assert_int_eq(sp_run_opts_set_jump(o, ""), -1);
	ck_assert_int_eq(sp_run_opts_set_jump(o, NULL), 0);
	sp_run_opts_free(o);
}
END_TEST

/* ---- Host files ---- */

struct hostlist {
	char *v[16];
	size_t n;
	int fail_at; /* make the callback fail on this host number */
};

static int
hostlist_add(void *arg, const char *host, char *err, size_t errlen)
{
	struct hostlist *l = arg;

	if (l->fail_at > 0 && (size_t)l->fail_at == l->n + 1) {
		snprintf(err, errlen, "rejected %s", host);
		return -1;
	}
	ck_assert_uint_lt(l->n, 16);
	l->v[l->n++] = strdup(host);
	return 0;
}

static void
hostlist_free(struct hostlist *l)
{
	while (l->n > 0)
		free(l->v[--l->n]);
}

START_TEST(test_hostfile_parse)
{
	static const char text[] = "# fleet\n"
				   "web1\n"
				   "\n"
				   "   root@10.0.0.5:2222   # db\r\n"
				   "\t[::1]:22\n"
				   "   \n"
				   "#web2\n"
				   "last";
	struct hostlist l = {.n = 0};
	char err[256] = "";

	ck_assert_int_eq(hostfile_parse(text, strlen(text), "f", hostlist_add,
					&l, err, sizeof err),
			 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.v[0], "web1");
	ck_assert_str_eq(l.v[1], "root@10.0.0.5:2222");
	ck_assert_str_eq(l.v[2], "[::1]:22");
	ck_assert_str_eq(l.v[3], "last");
	hostlist_free(&l);

	ck_assert_int_eq(
	    hostfile_parse("", 0, "f", hostlist_add, &l, err, sizeof err), 0);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(test_hostfile_errors)
{
	struct hostlist l = {.n = 0};
	char err[256], big[HOSTFILE_MAX_LINE + 10];

	ck_assert_int_eq(hostfile_parse("a\nb c\n", 6, "hosts", hostlist_add,
					&l, err, sizeof err),
			 -1);
	ck_assert_str_eq(err, "hosts:2: one host per line expected");
	hostlist_free(&l);

	ck_assert_int_eq(hostfile_parse("a\0b\n", 4, "hosts", hostlist_add, &l,
					err, sizeof err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	ck_assert_uint_eq(l.n, 0);

	memset(big, 'x', sizeof big);
	ck_assert_int_eq(hostfile_parse(big, sizeof big, "hosts", hostlist_add,
					&l, err, sizeof err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "hosts:1: line longer"));

	l.fail_at = 2;
	ck_assert_int_eq(hostfile_parse("a\n\nb\n", 5, "hosts", hostlist_add,
					&l, err, sizeof err),
			 -1);
	ck_assert_str_eq(err, "hosts:3: rejected b");
	hostlist_free(&l);
}
END_TEST

START_TEST(test_hostfile_read)
{
	char path[] = "/tmp/test_client_hosts.XXXXXX", err[256];
	struct hostlist l = {.n = 0};
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fake_write(fd, "h1\n# c\nh2\n", 10), 0);
	close(fd);
	ck_assert_int_eq(hostfile_read(path, hostlist_add, &l, err, sizeof err),
			 0);
	unlink(path);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[1], "h2");
	hostlist_free(&l);

	ck_assert_int_eq(hostfile_read(path, hostlist_add, &l, err, sizeof err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

/* ---- Library against a fake daemon ---- */

START_TEST(test_default_socket_path)
{
	char buf[256], small[8];
	size_t n;

	n = sp_default_socket_path(buf, sizeof buf);
	ck_assert_uint_eq(n, strlen(buf));
	if (geteuid() == 0)
		ck_assert_str_eq(buf, "/run/sshpool/sshpoold.sock");
	else
		ck_assert_ptr_nonnull(strstr(buf, "/sshpoold.sock"));
	/* snprintf semantics: the full length even when truncated. */
	ck_assert_uint_eq(sp_default_socket_path(small, sizeof small), n);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
}
END_TEST

START_TEST(test_hello_async)
{
	static const char *const steps[] = {"<hello", hello_reply, NULL};
	struct fake *f;
	sp_client *c;
	sp_event *ev;
	int peer;

	c = pair_client(&peer);
	ck_assert_ptr_null(sp_server_name(c));
	ck_assert_uint_eq(sp_pending(c), 1);
	ck_assert_int_eq(sp_next_event(c, &ev), 0);
	f = fake_new(peer, steps);
	fake_run_inline(f, f->nsteps);
	ck_assert_uint_eq(f->ids[0], 1);
	ck_assert_ptr_nonnull(strstr(f->lines[0], "\"versions\":[1]"));
	ck_assert_ptr_nonnull(strstr(f->lines[0], "\"client\":\"libsshpool/"));

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_HELLO);
	ck_assert_str_eq(sp_event_type_name(sp_event_type(ev)), "hello");
	ck_assert_uint_eq(sp_event_request_id(ev), 1);
	ck_assert_int_eq(sp_event_is_final(ev), 1);
	ck_assert_str_eq(sp_event_server(ev), "fake/1");
	ck_assert_int_eq(sp_event_version(ev), 1);
	ck_assert_ptr_null(sp_event_host(ev));
	sp_event_free(ev);
	ck_assert_str_eq(sp_server_name(c), "fake/1");
	ck_assert_uint_eq(sp_server_max_hosts(c), 3);
	ck_assert_uint_eq(sp_pending(c), 0);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_run_events)
{
	static const char *const steps[] = {
	    "<hello",
	    hello_reply,
	    "<run",
	    ">{\"v\":1,\"id\":$2,\"event\":\"start\",\"host\":\"web1\"}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"stdout\",\"host\":\"web1\","
	    "\"data\":\"AP9oaQo=\"}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"stderr\",\"host\":\"web1\","
	    "\"data\":\"\"}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"exit\",\"host\":\"web1\","
	    "\"status\":3,\"duration_ms\":12}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"exit\",\"host\":\"b:2222\","
	    "\"signal\":\"KILL\",\"duration_ms\":5}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"error\",\"host\":\"c\","
	    "\"code\":\"connect_failed\",\"message\":\"refused\","
	    "\"duration_ms\":3}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"done\",\"hosts\":3,\"ok\":0,"
	    "\"failed\":2,\"errors\":1,\"duration_ms\":20}",
	    NULL};
	static const unsigned char bytes[] = {0x00, 0xff, 'h', 'i', '\n'};
	struct fake *f;
	sp_client *c;
	sp_run_opts *o = sp_run_opts_new();
	sp_event *ev;
	uint64_t id = 0;
	size_t len, hosts, ok, failed, errors;
	const void *data;
	char want[256];

	c = hello_client(&f, steps);
	sp_run_opts_add_hosts(o, "web1,b:2222,c");
	sp_run_opts_set_command(o, "uptime");
	sp_run_opts_set_timeout(o, 1.5);
	sp_run_opts_add_env(o, "LANG", "C");
	sp_run_opts_set_pty(o, 1);
	ck_assert_int_eq(sp_send_run(c, o, &id), 0);
	ck_assert_uint_eq(id, 2);
	ck_assert_uint_eq(sp_pending(c), 1);
	fake_run_inline(f, f->nsteps);
	ck_assert_uint_eq(f->ids[1], 2);
	ck_assert_ptr_nonnull(
	    strstr(f->lines[1], "\"hosts\":[\"web1\",\"b:2222\",\"c\"]"));
	ck_assert_ptr_nonnull(strstr(f->lines[1], "\"timeout\":1.5"));
	ck_assert_ptr_nonnull(strstr(f->lines[1], "\"env\":{\"LANG\":\"C\"}"));
	ck_assert_ptr_nonnull(strstr(f->lines[1], "\"pty\":true"));

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_START);
	ck_assert_uint_eq(sp_event_request_id(ev), id);
	ck_assert_str_eq(sp_event_host(ev), "web1");
	ck_assert_int_eq(sp_event_is_final(ev), 0);
	ck_assert_ptr_null(sp_event_data(ev, &len));
	ck_assert_uint_eq(len, 0);
	sp_event_free(ev);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_STDOUT);
	data = sp_event_data(ev, &len);
	ck_assert_uint_eq(len, sizeof bytes);
	ck_assert_mem_eq(data, bytes, sizeof bytes);
	snprintf(want, sizeof want,
		 "{\"v\":1,\"id\":%llu,\"event\":\"stdout\","
		 "\"host\":\"web1\",\"data\":\"AP9oaQo=\"}",
		 (unsigned long long)id);
	ck_assert_str_eq(sp_event_json(ev, &len), want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(sp_event_json(ev, NULL), want); /* again */
	sp_event_free(ev);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_STDERR);
	ck_assert_ptr_nonnull(sp_event_data(ev, &len));
	ck_assert_uint_eq(len, 0);
	sp_event_free(ev);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_EXIT);
	ck_assert_int_eq(sp_event_exit_status(ev), 3);
	ck_assert_ptr_null(sp_event_signal(ev));
	ck_assert_int_eq(sp_event_duration_ms(ev), 12);
	ck_assert_ptr_null(sp_event_error_code(ev));
	sp_event_free(ev);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_EXIT);
	ck_assert_str_eq(sp_event_host(ev), "b:2222");
	ck_assert_int_eq(sp_event_exit_status(ev), -1);
	ck_assert_str_eq(sp_event_signal(ev), "KILL");
	sp_event_free(ev);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_ERROR);
	ck_assert_str_eq(sp_event_host(ev), "c");
	ck_assert_str_eq(sp_event_error_code(ev), "connect_failed");
	ck_assert_str_eq(sp_event_message(ev), "refused");
	ck_assert_int_eq(sp_event_is_final(ev), 0);
	ck_assert_int_eq(sp_event_done_counts(ev, NULL, NULL, NULL, NULL), -1);
	sp_event_free(ev);
	ck_assert_uint_eq(sp_pending(c), 1);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_DONE);
	ck_assert_int_eq(sp_event_is_final(ev), 1);
	ck_assert_int_eq(
	    sp_event_done_counts(ev, &hosts, &ok, &failed, &errors), 0);
	ck_assert_uint_eq(hosts, 3);
	ck_assert_uint_eq(ok, 0);
	ck_assert_uint_eq(failed, 2);
	ck_assert_uint_eq(errors, 1);
	ck_assert_int_eq(sp_event_duration_ms(ev), 20);
	sp_event_free(ev);
	ck_assert_uint_eq(sp_pending(c), 0);
	ck_assert_int_eq(sp_next_event(c, &ev), 0);

	sp_run_opts_free(o);
	sp_close(c);
	fake_free(f);
}
END_TEST

/* Lines arriving one byte at a time become events only when complete. */
START_TEST(test_partial_bytes)
{
	static const char *const steps[] = {"<hello", hello_reply, NULL};
	static const char line[] = "{\"v\":1,\"id\":7,\"event\":\"stdout\","
				   "\"host\":\"h\",\"data\":\"aGk=\"}\n"
				   "{\"v\":1,\"id\":7,\"event\":\"start\","
				   "\"host\":\"g\"}\n";
	size_t first = strchr(line, '\n') - line, i, len;
	struct fake *f;
	sp_client *c;
	sp_event *ev = NULL;

	c = hello_client(&f, steps);
	for (i = 0; i < sizeof line - 1; i++) {
		ck_assert_int_eq(fake_write(f->fd, line + i, 1), 0);
		ck_assert_int_eq(sp_consume(c), 0);
		if (i == first) {
			ck_assert_int_eq(sp_next_event(c, &ev), 1);
			ck_assert_int_eq(sp_event_type(ev), SP_EV_STDOUT);
			ck_assert_uint_eq(sp_event_request_id(ev), 7);
			ck_assert_mem_eq(sp_event_data(ev, &len), "hi", 2);
			ck_assert_uint_eq(len, 2);
			sp_event_free(ev);
		} else if (i == sizeof line - 2) {
			ck_assert_int_eq(sp_next_event(c, &ev), 1);
			ck_assert_str_eq(sp_event_host(ev), "g");
			sp_event_free(ev);
		} else
			ck_assert_int_eq(sp_next_event(c, &ev), 0);
	}
	ck_assert_int_eq(sp_next_event(c, &ev), 0);
	ck_assert_int_eq(sp_wait(c, 0), 0);
	sp_close(c);
	fake_free(f);
}
END_TEST

/* Several lines in one read, then EOF: all are delivered before -1. */
START_TEST(test_eof_after_events)
{
	static const char *const steps[] = {
	    "<hello",
	    hello_reply,
	    ">{\"v\":1,\"id\":2,\"event\":\"start\",\"host\":\"a\"}\n"
	    "{\"v\":1,\"id\":2,\"event\":\"start\",\"host\":\"b\"}",
	    "={\"v\":1,\"id\":2,\"event\":\"sta",
	    "x",
	    NULL};
	struct fake *f;
	sp_client *c;
	sp_event *ev;

	c = hello_client(&f, steps);
	fake_run_inline(f, f->nsteps);
	ck_assert_int_eq(sp_consume(c), -1);
	ck_assert_int_eq(sp_next_event(c, &ev), 1);
	ck_assert_str_eq(sp_event_host(ev), "a");
	sp_event_free(ev);
	ck_assert_int_eq(sp_next_event(c, &ev), 1);
	ck_assert_str_eq(sp_event_host(ev), "b");
	sp_event_free(ev);
	ck_assert_int_eq(sp_next_event(c, &ev), -1);
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "mid-line"));
	ck_assert_int_eq(sp_wait(c, 100), -1);
	/* Sending on a dead connection fails instead of raising SIGPIPE. */
	ck_assert_int_eq(sp_send_status(c, NULL), -1);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_send_after_peer_close)
{
	static const char *const steps[] = {"<hello", hello_reply, "x", NULL};
	struct fake *f;
	sp_client *c;

	c = hello_client(&f, steps);
	fake_run_inline(f, f->nsteps);
	/* The peer is gone: the write fails with EPIPE, not SIGPIPE. */
	ck_assert_int_eq(sp_send_status(c, NULL), -1);
	ck_assert_str_ne(sp_client_error(c), "");
	ck_assert_int_eq(sp_want_write(c), 0);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_line_too_long)
{
	static const char *const steps[] = {"<hello", hello_reply, NULL};
	char junk[2000];
	struct fake *f;
	sp_client *c;
	sp_event *ev;

	c = hello_client(&f, steps);
	ck_assert_int_eq(sp_set_max_line(c, 100), -1);
	ck_assert_int_eq(sp_set_max_line(c, (size_t)17 << 20), -1);
	ck_assert_int_eq(sp_set_max_line(c, 1024), 0);
	memset(junk, 'x', sizeof junk);
	ck_assert_int_eq(fake_write(f->fd, junk, sizeof junk), 0);
	ck_assert_int_eq(sp_wait(c, FAKE_WAIT_MS), -1);
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "longer than 1024"));
	ck_assert_int_eq(sp_next_event(c, &ev), -1);
	ck_assert_int_eq(sp_consume(c), -1);
	ck_assert_int_eq(sp_send_status(c, NULL), -1);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_bad_event_line)
{
	static const char *const steps[] = {
	    "<hello",
	    hello_reply,
	    ">{\"v\":1,\"id\":2,\"event\":\"start\",\"host\":\"a\"}",
	    ">{\"v\":1,\"id\":2,\"event\":\"nonsense\"}",
	    ">{\"v\":1,\"id\":2,\"event\":\"start\",\"host\":\"b\"}",
	    NULL};
	struct fake *f;
	sp_client *c;
	sp_event *ev;

	c = hello_client(&f, steps);
	fake_run_inline(f, f->nsteps);
	ev = next_event(c);
	ck_assert_str_eq(sp_event_host(ev), "a");
	sp_event_free(ev);
	ck_assert_int_eq(sp_next_event(c, &ev), -1);
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "bad event"));
	/* A daemon that broke the protocol is not trusted further. */
	ck_assert_int_eq(sp_next_event(c, &ev), -1);
	ck_assert_int_eq(sp_send_status(c, NULL), -1);
	sp_close(c);
	fake_free(f);
}
END_TEST

/* Bad requests fail locally with the daemon's rules and announced limits,
 * and do not use up ids. */
START_TEST(test_local_validation)
{
	static const char *const steps[] = {"<hello", hello_reply, "<status",
					    NULL};
	const char *const bad[] = {"ok", "a b"};
	struct fake *f;
	sp_client *c;
	sp_run_opts *o = sp_run_opts_new();
	uint64_t id = 0;

	c = hello_client(&f, steps);
	ck_assert_int_eq(sp_send_run(c, o, &id), -1); /* no hosts */
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "no hosts"));
	sp_run_opts_add_hosts(o, "a,b,c,d");
	ck_assert_int_eq(sp_send_run(c, o, &id), -1); /* no command */
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "no command"));
	sp_run_opts_set_command(o, "true");
	ck_assert_int_eq(sp_send_run(c, o, &id), -1); /* max_hosts is 3 */
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "hosts"));
	ck_assert_int_eq(sp_send_connect(c, bad, 2, NULL, &id), -1);
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "hosts"));
	ck_assert_int_eq(sp_send_connect(c, bad, 0, NULL, &id), -1);
	ck_assert_int_eq(sp_send_cancel(c, 0, &id), -1);
	ck_assert_uint_eq(id, 0);
	ck_assert_uint_eq(sp_pending(c), 0);
	ck_assert_int_eq(sp_want_write(c), 0);

	ck_assert_int_eq(sp_send_status(c, &id), 0);
	ck_assert_uint_eq(id, 2);
	fake_run_inline(f, f->nsteps);
	ck_assert_uint_eq(f->ids[1], 2);
	sp_run_opts_free(o);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_cancel_status_errors)
{
	static const char *const steps[] = {
	    "<hello",
	    hello_reply,
	    "<cancel",
	    "<status",
	    "<connect",
	    ">{\"v\":1,\"id\":$2,\"event\":\"cancel\",\"target\":5,"
	    "\"found\":false}",
	    ">{\"v\":1,\"id\":$3,\"event\":\"status\",\"workers\":[{\"index\""
	    ":0,\"hosts\":1,\"sessions\":1,\"jobs\":0,\"heartbeat_age_ms\":"
	    "12}],\"hosts\":[{\"host\":\"root@127.0.0.2:22\",\"state\":"
	    "\"up\",\"worker\":0,\"sessions\":1,\"connecting\":0,"
	    "\"channels_busy\":2,\"channels_max\":8,\"queued\":0,\"jobs\":5,"
	    "\"connects\":1,\"failures\":0,\"last_error\":null}]}",
	    ">{\"v\":1,\"id\":$4,\"event\":\"connected\",\"host\":\"h\","
	    "\"sessions\":2,\"duration_ms\":40}",
	    ">{\"v\":1,\"id\":$4,\"event\":\"error\",\"code\":\"shutdown\","
	    "\"message\":\"daemon stopping\"}",
	    ">{\"v\":1,\"id\":null,\"event\":\"error\",\"code\":"
	    "\"bad_request\",\"message\":\"line too long\"}",
	    NULL};
	const char *const hosts[] = {"h"};
	struct fake *f;
	sp_client *c;
	sp_event *ev;
	uint64_t id;

	c = hello_client(&f, steps);
	ck_assert_int_eq(sp_send_cancel(c, 5, &id), 0);
	ck_assert_int_eq(sp_send_status(c, &id), 0);
	ck_assert_int_eq(sp_send_connect(c, hosts, 1, "deploy", &id), 0);
	ck_assert_uint_eq(sp_pending(c), 3);
	fake_run_inline(f, f->nsteps);
	ck_assert_ptr_nonnull(strstr(f->lines[1], "\"target\":5"));
	ck_assert_ptr_nonnull(strstr(f->lines[3], "\"user\":\"deploy\""));

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_CANCEL);
	ck_assert_uint_eq(sp_event_cancel_target(ev), 5);
	ck_assert_int_eq(sp_event_cancel_found(ev), 0);
	ck_assert_int_eq(sp_event_is_final(ev), 1);
	ck_assert_uint_eq(sp_status_nhosts(ev), 0);
	sp_event_free(ev);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_STATUS);
	ck_assert_uint_eq(sp_status_nhosts(ev), 1);
	ck_assert_str_eq(sp_status_host_str(ev, 0, "host"),
			 "root@127.0.0.2:22");
	ck_assert_str_eq(sp_status_host_str(ev, 0, "state"), "up");
	ck_assert_int_eq(sp_status_host_int(ev, 0, "channels_busy"), 2);
	ck_assert_int_eq(sp_status_host_int(ev, 0, "jobs"), 5);
	ck_assert_ptr_null(sp_status_host_str(ev, 0, "last_error"));
	ck_assert_ptr_null(sp_status_host_str(ev, 0, "sessions"));
	ck_assert_int_eq(sp_status_host_int(ev, 0, "state"), -1);
	ck_assert_int_eq(sp_status_host_int(ev, 0, "nosuch"), -1);
	ck_assert_ptr_null(sp_status_host_str(ev, 1, "host"));
	ck_assert_uint_eq(sp_status_nworkers(ev), 1);
	ck_assert_int_eq(sp_status_worker_int(ev, 0, "heartbeat_age_ms"), 12);
	sp_event_free(ev);

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_CONNECTED);
	ck_assert_int_eq(sp_event_sessions(ev), 2);
	ck_assert_int_eq(sp_event_duration_ms(ev), 40);
	sp_event_free(ev);
	ck_assert_uint_eq(sp_pending(c), 1);

	ev = next_event(c); /* request-level error ends the request */
	ck_assert_int_eq(sp_event_type(ev), SP_EV_ERROR);
	ck_assert_ptr_null(sp_event_host(ev));
	ck_assert_int_eq(sp_event_is_final(ev), 1);
	ck_assert_str_eq(sp_event_error_code(ev), "shutdown");
	ck_assert_int_eq(sp_event_duration_ms(ev), -1);
	sp_event_free(ev);
	ck_assert_uint_eq(sp_pending(c), 0);

	ev = next_event(c);
	ck_assert_uint_eq(sp_event_request_id(ev), 0);
	ck_assert_str_eq(sp_event_message(ev), "line too long");
	sp_event_free(ev);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_wait_timeout)
{
	static const char *const steps[] = {"<hello", hello_reply, NULL};
	struct fake *f;
	sp_client *c;
	long long t0, ms;

	c = hello_client(&f, steps);
	t0 = testutil_now_ms();
	ck_assert_int_eq(sp_wait(c, 50), 0);
	ms = testutil_now_ms() - t0;
	ck_assert_int_ge(ms, 45);
	sp_close(c);
	fake_free(f);
}
END_TEST

struct collected {
	enum sp_event_type types[16];
	uint64_t ids[16];
	size_t n;
	size_t stop_after; /* 0 = never stop */
};

static int
collect_cb(const sp_event *ev, void *arg)
{
	struct collected *col = arg;

	if (col->n < 16) {
		col->types[col->n] = sp_event_type(ev);
		col->ids[col->n] = sp_event_request_id(ev);
	}
	col->n++;
	return col->stop_after != 0 && col->n >= col->stop_after;
}

/* sp_run_wait gets only its own events; others stay queued in order. */
START_TEST(test_run_wait_interleaved)
{
	static const char *const steps[] = {
	    "<hello",
	    hello_reply,
	    "<connect",
	    "<run",
	    ">{\"v\":1,\"id\":$2,\"event\":\"connected\",\"host\":"
	    "\"a\",\"sessions\":1,\"duration_ms\":1}",
	    ">{\"v\":1,\"id\":$3,\"event\":\"start\",\"host\":\"b\"}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"done\",\"hosts\":1,\"ok\":1,"
	    "\"failed\":0,\"errors\":0,\"duration_ms\":2}",
	    ">{\"v\":1,\"id\":$3,\"event\":\"stdout\",\"host\":\"b\","
	    "\"data\":\"eA==\"}",
	    ">{\"v\":1,\"id\":$3,\"event\":\"exit\",\"host\":\"b\","
	    "\"status\":0,\"duration_ms\":3}",
	    ">{\"v\":1,\"id\":$3,\"event\":\"done\",\"hosts\":1,\"ok\":1,"
	    "\"failed\":0,\"errors\":0,\"duration_ms\":4}",
	    NULL};
	const char *const hosts[] = {"a"};
	struct collected col = {.n = 0};
	struct fake *f;
	sp_client *c;
	sp_run_opts *o = sp_run_opts_new();
	sp_event *ev;
	uint64_t cid;

	c = hello_client(&f, steps);
	ck_assert_int_eq(sp_send_connect(c, hosts, 1, NULL, &cid), 0);
	fake_start(f);
	sp_run_opts_add_host(o, "b");
	sp_run_opts_set_command(o, "echo x");
	ck_assert_int_eq(sp_run_wait(c, o, collect_cb, &col), 0);
	fake_finish(f);
	ck_assert_uint_eq(col.n, 4);
	ck_assert_int_eq(col.types[0], SP_EV_START);
	ck_assert_int_eq(col.types[1], SP_EV_STDOUT);
	ck_assert_int_eq(col.types[2], SP_EV_EXIT);
	ck_assert_int_eq(col.types[3], SP_EV_DONE);
	ck_assert_uint_eq(col.ids[0], 3);
	ck_assert_uint_eq(col.ids[3], 3);

	ck_assert_int_eq(sp_wait(c, 0), 1);
	ck_assert_int_eq(sp_next_event(c, &ev), 1);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_CONNECTED);
	ck_assert_uint_eq(sp_event_request_id(ev), cid);
	sp_event_free(ev);
	ck_assert_int_eq(sp_next_event(c, &ev), 1);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_DONE);
	ck_assert_uint_eq(sp_event_request_id(ev), cid);
	sp_event_free(ev);
	ck_assert_int_eq(sp_next_event(c, &ev), 0);
	ck_assert_uint_eq(sp_pending(c), 0);
	/* Finished or unknown ids cannot be waited for. */
	ck_assert_int_eq(sp_request_wait(c, cid, NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "not in flight"));
	ck_assert_int_eq(sp_request_wait(c, 99, NULL, NULL), -1);
	sp_run_opts_free(o);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_run_wait_stop_and_lost)
{
	static const char *const steps[] = {
	    "<hello",
	    hello_reply,
	    "<run",
	    ">{\"v\":1,\"id\":$2,\"event\":\"start\",\"host\":\"a\"}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"start\",\"host\":\"b\"}",
	    "<run",
	    ">{\"v\":1,\"id\":$3,\"event\":\"start\",\"host\":\"a\"}",
	    "x",
	    NULL};
	struct collected col = {.stop_after = 1};
	struct fake *f;
	sp_client *c;
	sp_run_opts *o = sp_run_opts_new();

	c = hello_client(&f, steps);
	fake_start(f);
	sp_run_opts_add_hosts(o, "a,b");
	sp_run_opts_set_command(o, "sleep 1");
	ck_assert_int_eq(sp_run_wait(c, o, collect_cb, &col), 1);
	ck_assert_uint_eq(col.n, 1);
	/* The first run's remaining event is left for sp_next_event. */
	col.n = 0;
	col.stop_after = 0;
	ck_assert_int_eq(sp_run_wait(c, o, collect_cb, &col), -1);
	fake_finish(f);
	ck_assert_uint_eq(col.n, 1);
	ck_assert_uint_eq(col.ids[0], 3);
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "closed"));
	ck_assert_uint_eq(sp_pending(c), 2);
	sp_run_opts_free(o);
	sp_close(c);
	fake_free(f);
}
END_TEST

START_TEST(test_connect_path)
{
	static const char *const steps[] = {"<hello", hello_reply, "<status",
					    NULL};
	char dir[64], err[256];
	struct fake *f;
	sp_client *c;
	char *path;
	int lfd;

	path = listen_socket(&lfd, dir, sizeof dir);
	f = fake_new(-1, steps);
	f->listen_fd = lfd;
	fake_start(f);
	/* NULL path: $SSHPOOL_SOCKET (the test runs in its own process). */
	setenv("SSHPOOL_SOCKET", path, 1);
	c = sp_connect(NULL, err, sizeof err);
	ck_assert_msg(c != NULL, "connect: %s", err);
	ck_assert_str_eq(sp_server_name(c), "fake/1");
	ck_assert_str_eq(sp_client_error(c), "");
	ck_assert_int_ge(sp_fd(c), 0);
	ck_assert_int_eq(sp_send_status(c, NULL), 0);
	fake_finish(f);
	sp_close(c);
	fake_free(f);
	unlink(path);
	rmdir(dir);
}
END_TEST

static void
connect_fails(const char *const *steps, const char *want)
{
	char dir[64], err[256];
	struct fake *f;
	char *path;
	int lfd;

	path = listen_socket(&lfd, dir, sizeof dir);
	f = fake_new(-1, steps);
	f->listen_fd = lfd;
	fake_start(f);
	ck_assert_ptr_null(sp_connect(path, err, sizeof err));
	fake_finish(f);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"",
		      err, want);
	fake_free(f);
	unlink(path);
	rmdir(dir);
}

START_TEST(test_connect_refused)
{
	static const char *const refused[] = {
	    "<hello",
	    ">{\"v\":1,\"id\":$1,\"event\":\"error\",\"code\":"
	    "\"unsupported_version\",\"message\":\"supported: 2\"}",
	    NULL};
	static const char *const garbage[] = {"<hello", ">hello there", NULL};
	static const char *const closes[] = {"<hello", "x", NULL};
	char err[256];

	connect_fails(refused, "unsupported_version: supported: 2");
	connect_fails(garbage, "bad event");
	connect_fails(closes, "closed");

	ck_assert_ptr_null(
	    sp_connect("/nonexistent/dir/s.sock", err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/s.sock"));
	ck_assert_ptr_null(sp_adopt_fd(-1, err, sizeof err));
}
END_TEST

/* ---- Whom the library talks to ---- */

/* Nothing may have reached the socket: not even a connection. */
static void
assert_untouched(int lfd)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};

	ck_assert_msg(poll(&pfd, 1, 0) == 0,
		      "the library connected to an untrusted socket");
}

static void
assert_refused(const char *path, const char *want)
{
	char err[512];

	ck_assert_msg(sp_connect(path, err, sizeof err) == NULL,
		      "connected to %s", path);
	ck_assert_msg(strstr(err, want) != NULL && strstr(err, "refusing"),
		      "error \"%s\" lacks \"%s\"", err, want);
}

/* A socket directory that others may write to, or that is a symbolic link
 * (the planted /tmp/sshpool-UID), or that belongs to another user. */
START_TEST(test_untrusted_socket_dir)
{
	char dir[64], link[128], lpath[160];
	const char *path;
	int lfd;

	path = listen_socket(&lfd, dir, sizeof dir);
	ck_assert_int_eq(chmod(dir, 01777), 0);
	assert_refused(path, "writable by its group or by others (mode 1777)");
	ck_assert_int_eq(chmod(dir, 0700), 0);

	snprintf(link, sizeof link, "%s.link", dir);
	ck_assert_int_eq(symlink(dir, link), 0);
	snprintf(lpath, sizeof lpath, "%s/s.sock", link);
	assert_refused(lpath, "is a symbolic link");
	unlink(link);

	if (geteuid() == 0) {
		ck_assert_int_eq(chown(dir, OTHER_UID, OTHER_UID), 0);
		assert_refused(path, "belongs to uid 65534");
	}
	assert_untouched(lfd);
	close(lfd);
	unlink(path);
	rmdir(dir);
}
END_TEST

/*
 * A stranger's process listening in a directory we trust: the child binds
 * the socket as root, becomes nobody and only then listens, so SO_PEERCRED
 * names nobody.  It exits 2 if the client sent it anything.
 */
static pid_t
stranger_start(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct pollfd pfd = {.events = POLLIN};
	int ready[2], lfd;
	char buf[4096];
	ssize_t got = 0;
	pid_t pid;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd == -1 ||
		    bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
		    setgid(OTHER_UID) == -1 || setuid(OTHER_UID) == -1 ||
		    listen(lfd, 4) == -1 || write(ready[1], "r", 1) != 1)
			_exit(1);
		pfd.fd = lfd;
		if (poll(&pfd, 1, FAKE_WAIT_MS) == 1 &&
		    (pfd.fd = accept(lfd, NULL, NULL)) != -1)
			while (poll(&pfd, 1, STRANGER_WAIT_MS) == 1 &&
			       read(pfd.fd, buf, sizeof buf) > 0)
				got++;
		_exit(got > 0 ? 2 : 0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], buf, 1), 1);
	close(ready[0]);
	return pid;
}

START_TEST(test_untrusted_daemon_uid)
{
	char dir[64], path[96], err[512];
	int st;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "not root: no other user to serve a socket\n");
		return;
	}
	snprintf(dir, sizeof dir, "/tmp/test_client.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.sock", dir);
	pid = stranger_start(path);
	ck_assert_msg(sp_connect(path, err, sizeof err) == NULL,
		      "connected to a socket served by nobody");
	ck_assert_msg(strstr(err, "is served by uid 65534") != NULL &&
			  strstr(err, "refusing") != NULL,
		      "error \"%s\"", err);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the stranger got bytes (status 0x%x)", st);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* ---- A daemon that refuses the client ---- */

static const char forbidden_line[] =
    "{\"v\":1,\"id\":null,\"event\":\"error\",\"code\":\"forbidden\","
    "\"message\":\"user nobody (uid 65534) may not use this daemon "
    "(AllowUsers/AllowGroups)\"}";
static const char forbidden_text[] =
    "forbidden: user nobody (uid 65534) may not use this daemon";

/* The refusal is waiting when the hello's write fails: it is the error. */
START_TEST(test_refusal_before_write)
{
	char err[512], line[sizeof forbidden_line + 1];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	snprintf(line, sizeof line, "%s\n", forbidden_line);
	ck_assert_int_eq(fake_write(sv[1], line, strlen(line)), 0);
	close(sv[1]);
	ck_assert_ptr_null(sp_adopt_fd(sv[0], err, sizeof err));
	ck_assert_msg(strstr(err, forbidden_text) != NULL, "error \"%s\"", err);
}
END_TEST

/* The refusal arrives with the end of file: it is the error, not "closed
 * mid-line". */
START_TEST(test_refusal_at_eof)
{
	char step[sizeof forbidden_line + 2];
	const char *steps[] = {step, "x", NULL};

	snprintf(step, sizeof step, ">%s", forbidden_line);
	connect_fails(steps, forbidden_text);
}
END_TEST

/* An id-less error followed by other events is not the reason of a later
 * close. */
START_TEST(test_old_error_not_reason)
{
	static const char *const steps[] = {
	    "<hello",
	    ">{\"v\":1,\"id\":null,\"event\":\"error\",\"code\":\"bad_"
	    "request\","
	    "\"message\":\"line exceeds MaxLineLength\"}",
	    hello_reply, "x", NULL};
	struct fake *f;
	sp_client *c;
	sp_event *ev;
	int peer, n = 0;

	c = pair_client(&peer);
	f = fake_new(peer, steps);
	fake_run_inline(f, f->nsteps);
	while (sp_wait(c, FAKE_WAIT_MS) == 1 && sp_next_event(c, &ev) == 1) {
		n++;
		sp_event_free(ev);
	}
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(sp_client_error(c), "daemon closed the connection");
	sp_close(c);
	fake_free(f);
}
END_TEST

/* ---- Host sets, exclusion, disconnect ---- */

struct expand_acc {
	char out[512];
	size_t n;
};

static int
expand_cb(const char *host, void *arg)
{
	struct expand_acc *a = arg;

	if (a->n++ > 0)
		strcat(a->out, ",");
	strcat(a->out, host);
	return a->n == 100; /* stop a runaway expansion */
}

START_TEST(test_hostsets)
{
	struct expand_acc a;
	char err[256];
	const char *const ex[] = {"web2", "db*"};
	sp_run_opts *o = sp_run_opts_new();

	memset(&a, 0, sizeof a);
	ck_assert_int_eq(sp_hostset_expand("web[01-03],x", expand_cb, &a, 10,
					   err, sizeof err),
			 3);
	ck_assert_str_eq(a.out, "web01,x,web02,x,web03,x");
	memset(&a, 0, sizeof a);
	ck_assert_int_eq(
	    sp_hostset_expand("h[1-20]", expand_cb, &a, 10, err, sizeof err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 10"));
	ck_assert_uint_eq(a.n, 0);
	ck_assert_int_eq(
	    sp_hostset_expand("h[2-1]", expand_cb, &a, 10, err, sizeof err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "goes down"));

	ck_assert_int_eq(sp_host_excluded("u@web2:22", ex, 2), 1);
	ck_assert_int_eq(sp_host_excluded("db7", ex, 2), 1);
	ck_assert_int_eq(sp_host_excluded("web1", ex, 2), 0);
	ck_assert_int_eq(sp_host_excluded("web2", ex, 0), 0);

	/* Commas inside brackets belong to the range. */
	ck_assert_int_eq(sp_run_opts_add_hosts(o, "web[1,3],db1 , @grp"), 0);
	ck_assert_uint_eq(sp_run_opts_nhosts(o), 3);
	ck_assert_str_eq(sp_run_opts_host(o, 0), "web[1,3]");
	ck_assert_str_eq(sp_run_opts_host(o, 2), "@grp");
	ck_assert_int_eq(sp_run_opts_add_host(o, "a,b[1,2]"), -1);
	ck_assert_int_eq(sp_run_opts_add_exclude(o, "web[3]"), 0);
	ck_assert_int_eq(sp_run_opts_add_exclude(o, ""), -1);
	ck_assert_int_eq(sp_run_opts_add_exclude(o, NULL), -1);
	ck_assert_uint_eq(sp_run_opts_nexclude(o), 1);
	sp_run_opts_free(o);
}
END_TEST

/* Open descriptors of this process. */
static int
self_fds(void)
{
	struct stat st;
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (lstat(path, &st) == 0)
			n++;
	}
	return n;
}

/*
 * Descriptors passed with a run: duplicated by the options, sent with the
 * run line in a sendmsg of its own (its data ends at that line's newline)
 * and closed by the library once sent; a disconnect whose options have
 * none passes none.
 */
START_TEST(test_pass_fds)
{
	char data[3 * FAKE_LINE], ctl[CMSG_SPACE(sizeof(int) * 16)], *nl;
	int peer, pfd[2], spair[2], got[16], ngot = 0, lines = 0, before, i;
	size_t len = 0, with_end = 0;
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov;
	struct stat st;
	sp_run_opts *o;
	sp_client *c;
	uint64_t id;
	ssize_t n;

	before = self_fds();
	c = pair_client(&peer);
	o = sp_run_opts_new();
	ck_assert_int_eq(sp_run_opts_add_host(o, "a"), 0);
	ck_assert_int_eq(sp_run_opts_set_command(o, "true"), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, spair), 0);
	ck_assert_int_eq(sp_run_opts_add_fd(o, SP_FD_KEY, pfd[0]), 0);
	ck_assert_int_eq(sp_run_opts_add_fd(o, SP_FD_AGENT, spair[0]), 0);
	ck_assert_int_eq(sp_run_opts_add_fd(o, SP_FD_KEY, -1), -1);
	ck_assert_int_eq(sp_run_opts_add_fd(o, (enum sp_fd_role)7, pfd[0]), -1);
	ck_assert_uint_eq(sp_run_opts_nfds(o), 2);
	/* The caller's own may go at once. */
	close(pfd[0]);
	close(spair[0]);
	ck_assert_int_eq(sp_send_run(c, o, &id), 0);
	sp_run_opts_free(o);
	o = sp_run_opts_new();
	ck_assert_int_eq(sp_run_opts_add_host(o, "a"), 0);
	ck_assert_int_eq(sp_send_disconnect(c, o, &id), 0);
	sp_run_opts_free(o);

	/* hello, run (with two), disconnect (with none). */
	while (lines < 3) {
		memset(&mh, 0, sizeof mh);
		iov.iov_base = data + len;
		iov.iov_len = sizeof data - len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof ctl;
		n = recvmsg(peer, &mh, 0);
		ck_assert_int_gt(n, 0);
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		     cm = CMSG_NXTHDR(&mh, cm)) {
			ck_assert_int_eq(cm->cmsg_type, SCM_RIGHTS);
			for (i = 0; (size_t)i <
				    (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			     i++)
				memcpy(&got[ngot++],
				       CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
			with_end = len + (size_t)n;
		}
		len += (size_t)n;
		for (lines = 0, nl = data;
		     (nl = memchr(nl, '\n', data + len - nl)); nl++)
			lines++;
	}
	ck_assert_int_eq(ngot, 2);
	ck_assert_int_eq(fstat(got[0], &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(fstat(got[1], &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	/* They came with data ending at the run line's newline. */
	nl = memchr(data, '\n', len);
	nl = memchr(nl + 1, '\n', data + len - nl - 1);
	ck_assert_uint_eq(with_end, (size_t)(nl - data) + 1);
	data[len] = '\0';
	ck_assert_ptr_nonnull(strstr(data, "\"fds\":[\"key\",\"agent\"]"));
	ck_assert_ptr_null(strstr(nl, "fds"));
	close(got[0]);
	close(got[1]);
	close(pfd[1]);
	close(spair[1]);
	sp_close(c);
	close(peer);
	ck_assert_int_eq(self_fds(), before);
}
END_TEST

START_TEST(test_disconnect_hello_exclude)
{
	static const char *const steps[] = {
	    "<hello",
	    hello_reply,
	    "<disconnect",
	    "<run",
	    "<hello",
	    ">{\"v\":1,\"id\":$2,\"event\":\"disconnected\",\"host\":\"a1\","
	    "\"sessions\":2,\"draining\":1,\"duration_ms\":0}",
	    ">{\"v\":1,\"id\":$2,\"event\":\"done\",\"hosts\":1,\"ok\":1,"
	    "\"failed\":0,\"errors\":0,\"duration_ms\":1}",
	    ">{\"v\":1,\"id\":$4,\"event\":\"hello\",\"version\":1,"
	    "\"server\":\"fake/2\"}",
	    NULL};
	struct fake *f;
	sp_client *c;
	sp_event *ev;
	sp_run_opts *o = sp_run_opts_new();
	uint64_t id;

	c = hello_client(&f, steps);
	ck_assert_int_eq(sp_run_opts_add_hosts(o, "a[1-2],@g"), 0);
	ck_assert_int_eq(sp_run_opts_add_exclude(o, "a2"), 0);
	ck_assert_int_eq(sp_send_disconnect(c, o, &id), 0);
	ck_assert_int_eq(sp_run_opts_set_command(o, "true"), 0);
	ck_assert_int_eq(sp_send_run(c, o, &id), 0);
	ck_assert_int_eq(sp_send_hello(c, &id), 0);
	/* Every host excluded: refused locally, nothing sent. */
	sp_run_opts_free(o);
	o = sp_run_opts_new();
	ck_assert_int_eq(sp_run_opts_add_hosts(o, "a[1-2]"), 0);
	ck_assert_int_eq(sp_run_opts_add_exclude(o, "a*"), 0);
	ck_assert_int_eq(sp_send_connect_opts(c, o, &id), -1);
	ck_assert_ptr_nonnull(strstr(sp_client_error(c), "excluded"));
	sp_run_opts_free(o);

	fake_run_inline(f, f->nsteps);
	ck_assert_ptr_nonnull(strstr(f->lines[1],
				     "\"hosts\":[\"a[1-2]\","
				     "\"@g\"],\"exclude\":[\"a2\"]"));
	ck_assert_ptr_nonnull(strstr(f->lines[2], "\"op\":\"run\""));
	ck_assert_ptr_nonnull(strstr(f->lines[2], "\"exclude\":[\"a2\"]"));

	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_DISCONNECTED);
	ck_assert_str_eq(sp_event_type_name(SP_EV_DISCONNECTED),
			 "disconnected");
	ck_assert_str_eq(sp_event_host(ev), "a1");
	ck_assert_int_eq(sp_event_sessions(ev), 2);
	ck_assert_int_eq(sp_event_draining(ev), 1);
	ck_assert_int_eq(sp_event_duration_ms(ev), 0);
	ck_assert_int_eq(sp_event_is_final(ev), 0);
	sp_event_free(ev);
	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_DONE);
	sp_event_free(ev);
	ev = next_event(c);
	ck_assert_int_eq(sp_event_type(ev), SP_EV_HELLO);
	ck_assert_str_eq(sp_event_server(ev), "fake/2");
	ck_assert_int_eq(sp_event_draining(ev), -1);
	sp_event_free(ev);
	sp_close(c);
	fake_free(f);
}
END_TEST

/* "jump" goes with run, connect and disconnect; absent when unset. */
START_TEST(test_jump_sent)
{
	static const char *const steps[] = {"<hello",   hello_reply,   "<run",
					    "<connect", "<disconnect", "<run",
					    NULL};
	struct fake *f;
	sp_client *c;
	sp_run_opts *o = sp_run_opts_new();
	uint64_t id;
	int i;

	c = hello_client(&f, steps);
	ck_assert_int_eq(sp_run_opts_add_hosts(o, "t1,t2"), 0);
	ck_assert_int_eq(sp_run_opts_set_command(o, "true"), 0);
	ck_assert_int_eq(sp_run_opts_set_jump(o, "ops@b1:2222,[::1]:22"), 0);
	ck_assert_int_eq(sp_send_run(c, o, &id), 0);
	ck_assert_int_eq(sp_send_connect_opts(c, o, &id), 0);
	ck_assert_int_eq(sp_send_disconnect(c, o, &id), 0);
	ck_assert_int_eq(sp_run_opts_set_jump(o, NULL), 0);
	ck_assert_int_eq(sp_send_run(c, o, &id), 0);
	sp_run_opts_free(o);
	fake_run_inline(f, f->nsteps);
	for (i = 1; i <= 3; i++)
		ck_assert_msg(strstr(f->lines[i], "\"jump\":\"ops@b1:2222,"
						  "[::1]:22\"") != NULL,
			      "line %d: %s", i, f->lines[i]);
	ck_assert_ptr_null(strstr(f->lines[4], "\"jump\""));
	sp_close(c);
	fake_free(f);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("opts");

	tcase_add_test(tc, test_opts_hosts);
	tcase_add_test(tc, test_opts_setters);
	tcase_add_test(tc, test_opts_jump);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostfile");
	tcase_add_test(tc, test_hostfile_parse);
	tcase_add_test(tc, test_hostfile_errors);
	tcase_add_test(tc, test_hostfile_read);
	suite_add_tcase(s, tc);

	tc = tcase_create("fake_daemon");
	tcase_add_test(tc, test_default_socket_path);
	tcase_add_test(tc, test_hello_async);
	tcase_add_test(tc, test_run_events);
	tcase_add_test(tc, test_partial_bytes);
	tcase_add_test(tc, test_eof_after_events);
	tcase_add_test(tc, test_send_after_peer_close);
	tcase_add_test(tc, test_line_too_long);
	tcase_add_test(tc, test_bad_event_line);
	tcase_add_test(tc, test_local_validation);
	tcase_add_test(tc, test_cancel_status_errors);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_run_wait_interleaved);
	tcase_add_test(tc, test_run_wait_stop_and_lost);
	tcase_add_test(tc, test_connect_path);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_disconnect_hello_exclude);
	tcase_add_test(tc, test_jump_sent);
	tcase_add_test(tc, test_pass_fds);
	tcase_add_test(tc, test_refusal_before_write);
	tcase_add_test(tc, test_refusal_at_eof);
	tcase_add_test(tc, test_old_error_not_reason);
	suite_add_tcase(s, tc);

	tc = tcase_create("trust");
	tcase_add_test(tc, test_untrusted_socket_dir);
	tcase_add_test(tc, test_untrusted_daemon_uid);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostsets");
	tcase_add_test(tc, test_hostsets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(client_suite());
}
