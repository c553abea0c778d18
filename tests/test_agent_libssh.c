/* SPDX-License-Identifier: ISC */
/*
 * libssh's own, blocking agent client talking to the broker's relays
 * (ssh_set_agent_socket), against an sshd of the test fleet: a login with
 * the fleet's key held by a real ssh-agent(1), with and without a listing
 * made beforehand by agent_list; and logins whose agent hangs, at once or
 * after listing its key, which must fail within AgentTimeout instead of
 * blocking the caller.  Logins on threads at once through relays of one
 * shared link, pinned to the key that logs in or to one that cannot.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <libssh/libssh.h>

#include "tagent.h"
#include "tclient.h"
#include "agent.h"
#include "agentmsg.h"
#include "inbox.h"
#include "log.h"
#include "msg.h"
#include "testutil.h"

#define TEST_TIMEOUT_MS 500 /* AgentTimeout of these tests */
#define TEST_SLACK_MS 1000  /* a login's own round trips, on a busy box */
#define TEST_WAIT_MS 5000
#define TEST_MAX 4096
#define TEST_LOGINS 2 /* pinned logins at once on one link */

/* From the fleet's fleet.env, read once in the parent. */
static struct tfleet fleet;
static char fleet_err[2048];
static char dir[64], sock[128];
static pid_t agent_pid = -1;
static uint8_t blob[1024]; /* the fleet key's public blob */
static size_t blob_len;

static void
fixture_up(void)
{
	char cmd[PATH_MAX + 8];

	ck_assert_msg(tfleet_load(&fleet, fleet_err, sizeof(fleet_err)) == 0,
		      "%s", fleet_err);
	snprintf(dir, sizeof(dir), "/tmp/test_agent_libssh.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/agent.sock", dir);
	agent_pid = tagent_start(sock);
	ck_assert_int_eq(tagent_add(sock, fleet.key), 0);
	snprintf(cmd, sizeof(cmd), "%s.pub", fleet.key);
	blob_len = tagent_pub_blob(cmd, blob, sizeof(blob));
}

static void
fixture_down(void)
{
	char cmd[128];

	tagent_stop(agent_pid);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (dir[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* A connected, host-verified blocking session to the fleet's first host,
 * not yet authenticated. */
static ssh_session
test_session(void)
{
	ssh_session s = ssh_new();
	int no = 0;

	ck_assert_ptr_nonnull(s);
	ssh_options_set(s, SSH_OPTIONS_HOST, fleet.addrs[0]);
	ssh_options_set(s, SSH_OPTIONS_PORT, &fleet.port);
	ssh_options_set(s, SSH_OPTIONS_USER, fleet.user);
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, fleet.known_hosts);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ck_assert_msg(ssh_connect(s) == SSH_OK, "%s", ssh_get_error(s));
	ck_assert_int_eq(ssh_session_is_known_server(s), SSH_KNOWN_HOSTS_OK);
	return s;
}

/* The test thread's inbox for MSG_AGENT_LIST. */
struct test_box {
	struct event_base *base;
	struct inbox ib;
	struct msg *got;
};

static void
test_box_cb(struct msg_list *list, void *arg)
{
	struct test_box *tb = arg;
	struct msg *m;

	while ((m = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, m, entry);
		tb->got = m;
	}
}

static struct msg *
test_box_wait(struct test_box *tb)
{
	long long until = testutil_now_ms() + TEST_WAIT_MS;
	struct timeval tv = {0, 10000};
	struct msg *m;

	while (tb->got == NULL && testutil_now_ms() < until) {
		event_base_loopexit(tb->base, &tv);
		event_base_dispatch(tb->base);
	}
	ck_assert_ptr_nonnull(m = tb->got);
	tb->got = NULL;
	return m;
}

static void
test_start(struct test_box *tb)
{
	struct agent_limits lim = {TEST_TIMEOUT_MS, AGENT_MAX_RELAYS,
				   AGENT_MAX_QUEUED};

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	ck_assert_int_eq(agent_start(&lim), 0);
	ck_assert_ptr_nonnull(tb->base = event_base_new());
	inbox_init(&tb->ib, tb->base, test_box_cb, tb);
	tb->got = NULL;
}

static void
test_stop(struct test_box *tb)
{
	agent_stop();
	inbox_destroy(&tb->ib);
	event_base_free(tb->base);
}

/* agent_list on relay id must succeed with the fleet key. */
static void
test_list_ok(struct test_box *tb, uint64_t id)
{
	struct agentmsg_identities ids;
	char err[AGENT_MAX_ERR];
	struct msg *m;

	ck_assert_int_eq(agent_list(id, &tb->ib, id), 0);
	m = test_box_wait(tb);
	ck_assert_uint_eq(m->cookie, id);
	ck_assert_msg(agent_list_result(m, &ids, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_uint_eq(ids.n, 1);
	ck_assert_mem_eq(ids.v[0].blob, blob, blob_len);
	agentmsg_identities_free(&ids);
	msg_free(m);
}

/* Log in through relay fd; returns the result, *ms the time taken. */
static int
test_login(ssh_session s, int fd, long long *ms)
{
	long long t0 = testutil_now_ms();
	int rc;

	ck_assert_int_eq(ssh_set_agent_socket(s, fd), SSH_OK);
	rc = ssh_userauth_agent(s, NULL);
	*ms = testutil_now_ms() - t0;
	return rc;
}

START_TEST(test_libssh_login)
{
	struct test_box tb;
	ssh_session s;
	long long ms;
	uint64_t id;
	int fd, pass;

	test_start(&tb);
	for (pass = 0; pass < 2; pass++) {
		id =
		    agent_relay_open(tagent_connect(sock), AGENT_RELAY_AUTH, &fd);
		ck_assert_uint_ne(id, 0);
		/* Pass 1 lists first: libssh's listing then comes from it. */
		if (pass == 1)
			test_list_ok(&tb, id);
		s = test_session();
		ck_assert_int_eq(test_login(s, fd, &ms), SSH_AUTH_SUCCESS);
		fprintf(stderr, "libssh login through a relay%s: %lld ms\n",
			pass == 1 ? " after agent_list" : "", ms);
		ssh_disconnect(s);
		ssh_free(s);
		/* libssh closed the relay's end with the session. */
		ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
		ck_assert_int_eq(errno, EBADF);
	}
	test_stop(&tb);
}
END_TEST

/* An agent that accepts and never answers: the login fails in time. */
START_TEST(test_libssh_hung_agent)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int listener, accepted, fd;
	struct test_box tb;
	ssh_session s;
	long long ms;

	test_start(&tb);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/hung.%d.sock", dir,
		 (int)getpid());
	ck_assert_int_ne(listener = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(listener, (struct sockaddr *)&sun, sizeof(sun)),
			 0);
	ck_assert_int_eq(listen(listener, 1), 0);
	ck_assert_uint_ne(
	    agent_relay_open(tagent_connect(sun.sun_path), AGENT_RELAY_AUTH, &fd),
	    0);
	ck_assert_int_ne(accepted = accept(listener, NULL, NULL), -1);
	s = test_session();
	ck_assert_int_ne(test_login(s, fd, &ms), SSH_AUTH_SUCCESS);
	fprintf(stderr, "libssh login, hung agent: refused after %lld ms\n",
		ms);
	ck_assert_int_ge(ms, TEST_TIMEOUT_MS - 10);
	ck_assert_int_le(ms, TEST_TIMEOUT_MS + TEST_SLACK_MS);
	ssh_disconnect(s);
	ssh_free(s);
	close(accepted);
	close(listener);
	test_stop(&tb);
}
END_TEST

/*
 * An agent that lists its key and then hangs: the listing comes from
 * agent_list's cache, the server accepts the key, and the signature fails
 * within AgentTimeout.
 */
START_TEST(test_libssh_sign_hangs)
{
	struct agentmsg_identity one = {blob, blob_len, NULL, 0};
	struct agentmsg_identities ids = {1, &one};
	uint8_t buf[TEST_MAX], *answer;
	struct pollfd pfd;
	struct test_box tb;
	ssh_session s;
	long long ms;
	size_t alen;
	uint64_t id;
	int sv[2], fd;

	test_start(&tb);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	id = agent_relay_open(sv[0], AGENT_RELAY_AUTH, &fd);
	ck_assert_uint_ne(id, 0);
	ck_assert_int_eq(agent_list(id, &tb.ib, 1), 0);
	pfd.fd = sv[1];
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, TEST_WAIT_MS), 1);
	ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), AGENTMSG_HEADER);
	ck_assert_int_eq(agentmsg_build_identities(&ids, &answer, &alen), 0);
	ck_assert_int_eq(write(sv[1], answer, alen), (ssize_t)alen);
	free(answer);
	msg_free(test_box_wait(&tb));

	s = test_session();
	ck_assert_int_ne(test_login(s, fd, &ms), SSH_AUTH_SUCCESS);
	fprintf(stderr,
		"libssh login, agent hangs on the signature: "
		"refused after %lld ms\n",
		ms);
	ck_assert_int_ge(ms, TEST_TIMEOUT_MS - 10);
	ck_assert_int_le(ms, TEST_TIMEOUT_MS + TEST_SLACK_MS);
	/* The agent saw the signing request: the key was offered. */
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_gt(read(sv[1], buf, sizeof(buf)), AGENTMSG_HEADER);
	ck_assert_int_eq(buf[4], AGENTMSG_SIGN_REQUEST);
	ssh_disconnect(s);
	ssh_free(s);
	close(sv[1]);
	test_stop(&tb);
}
END_TEST

/* A login on a thread of its own, as the daemon's workers do. */
struct test_login_job {
	ssh_session s;
	int fd;
	int rc;
	long long ms;
};

static void *
test_login_thread(void *arg)
{
	struct test_login_job *j = arg;
	long long t0 = testutil_now_ms();

	j->rc = SSH_AUTH_ERROR;
	if (ssh_set_agent_socket(j->s, j->fd) == SSH_OK)
		j->rc = ssh_userauth_agent(j->s, NULL);
	j->ms = testutil_now_ms() - t0;
	return NULL;
}

/*
 * One agent connection, a shared link, holding the fleet's key and a key
 * the server does not accept: logins on two threads at once through relays
 * pinned to the fleet's key succeed, one pinned to the other key is
 * denied, though the agent holds both and the link lists both.
 */
START_TEST(test_libssh_pinned)
{
	struct test_login_job job[TEST_LOGINS + 1];
	struct agentmsg_identities ids;
	uint8_t wrong[1024];
	char err[AGENT_MAX_ERR], cmd[PATH_MAX + 8];
	pthread_t th[TEST_LOGINS + 1];
	size_t wrong_len;
	struct test_box tb;
	struct msg *m;
	uint64_t link;
	int i;

	ck_assert_int_eq(tagent_add(sock, fleet.wrong_key), 0);
	snprintf(cmd, sizeof(cmd), "%s.pub", fleet.wrong_key);
	wrong_len = tagent_pub_blob(cmd, wrong, sizeof(wrong));
	test_start(&tb);
	ck_assert_uint_ne(link = agent_link_open(tagent_connect(sock)), 0);
	ck_assert_int_eq(agent_link_list(link, &tb.ib, 1), 0);
	m = test_box_wait(&tb);
	ck_assert_msg(agent_list_result(m, &ids, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_uint_eq(ids.n, 2);
	agentmsg_identities_free(&ids);
	msg_free(m);
	for (i = 0; i <= TEST_LOGINS; i++) {
		job[i].s = test_session();
		ck_assert_uint_ne(
		    agent_relay_attach(
			link, AGENT_RELAY_AUTH, i < TEST_LOGINS ? blob : wrong,
			i < TEST_LOGINS ? blob_len : wrong_len, &job[i].fd),
		    0);
	}
	ck_assert_int_eq(agent_relays(), TEST_LOGINS + 1);
	ck_assert_int_eq(agent_links(), 1);
	for (i = 0; i <= TEST_LOGINS; i++)
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, test_login_thread, &job[i]),
		    0);
	for (i = 0; i <= TEST_LOGINS; i++) {
		pthread_join(th[i], NULL);
		fprintf(stderr,
			"libssh login through a relay pinned to the %s key "
			"on a shared link: %s after %lld ms\n",
			i < TEST_LOGINS ? "fleet's" : "wrong",
			job[i].rc == SSH_AUTH_SUCCESS ? "in" : "denied",
			job[i].ms);
		ck_assert_int_eq(job[i].rc, i < TEST_LOGINS ? SSH_AUTH_SUCCESS
							    : SSH_AUTH_DENIED);
		ssh_disconnect(job[i].s);
		ssh_free(job[i].s);
	}
	agent_link_close(link);
	for (i = 0; i < 200 && (agent_relays() > 0 || agent_links() > 0); i++)
		usleep(10000);
	ck_assert_int_eq(agent_relays(), 0);
	ck_assert_int_eq(agent_links(), 0);
	test_stop(&tb);
	snprintf(cmd, sizeof(cmd), "-d %s", fleet.wrong_key);
	ck_assert_int_eq(tagent_add(sock, cmd), 0);
}
END_TEST

static Suite *
agent_libssh_suite(void)
{
	Suite *s = suite_create("agent_libssh");
	TCase *tc = tcase_create("fleet");

	tcase_add_unchecked_fixture(tc, fixture_up, fixture_down);
	tcase_add_test(tc, test_libssh_login);
	tcase_add_test(tc, test_libssh_hung_agent);
	tcase_add_test(tc, test_libssh_sign_hangs);
	tcase_add_test(tc, test_libssh_pinned);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ssh_init();
	if (getenv("TEST_DEBUG") != NULL)
		log_setlevel(LOG_LEVEL_DEBUG);
	return testutil_run(agent_libssh_suite());
}
