/* SPDX-License-Identifier: ISC */
/*
 * The ssh-agent codec on crafted messages (truncated, oversized, lying
 * lengths), and the agent broker against a real ssh-agent(1) holding a key
 * made by ssh-keygen(1) and loaded with ssh-add(1): listings and signatures
 * through a relay (the signature checked with OpenSSL), forwarding's
 * filter checked with "ssh-add -l" afterwards, and agents that hang, close
 * or answer once and then go quiet, while another relay keeps answering.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/evp.h>

#include "tagent.h"
#include "tclient.h"
#include "agent.h"
#include "agentmsg.h"
#include "config.h"
#include "inbox.h"
#include "msg.h"
#include "testutil.h"

#define TEST_TIMEOUT_MS 500 /* AgentTimeout of these tests */
#define TEST_SLACK_MS 400   /* what a loaded machine may add */
#define TEST_FAST_MS 200    /* a live agent's round trip at worst */
#define TEST_WAIT_MS 5000   /* any answer that should come at all */
#define TEST_ROUNDS 20      /* round trips timed on the live relay */
#define TEST_RELAYS 64      /* live relays asking at once */
#define TEST_MAX_MSG 65536
#define TEST_ED25519_PUB 32
#define TEST_ED25519_SIG 64
#define TEST_SHARED 4    /* relays on one shared link */
#define TEST_PIPELINED 3 /* listing and signature pairs per relay */
#define TEST_BURST 4     /* one relay's requests at once */
#define TEST_SETTLE_US 200000

/* Made once in the parent, inherited by the forked tests. */
static char dir[64];
static char sock[128];
static pid_t agent_pid = -1;
static uint8_t blob[1024]; /* the key's public blob */
static size_t blob_len;

static void
test_sh(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/* An ssh-agent on sock with one new ed25519 key. */
static void
agent_fixture_up(void)
{
	char cmd[512];

	snprintf(dir, sizeof(dir), "/tmp/test_agent.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/agent.sock", dir);
	snprintf(cmd, sizeof(cmd),
		 "ssh-keygen -q -t ed25519 -N '' -C test-key -f %s/id", dir);
	test_sh(cmd);
	agent_pid = tagent_start(sock);
	snprintf(cmd, sizeof(cmd), "%s/id", dir);
	ck_assert_int_eq(tagent_add(sock, cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/id.pub", dir);
	blob_len = tagent_pub_blob(cmd, blob, sizeof(blob));
}

static void
agent_fixture_down(void)
{
	char cmd[128];

	tagent_stop(agent_pid);
	agent_pid = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (dir[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static int
test_connect_agent(void)
{
	return tagent_connect(sock);
}

static void
test_write(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

/* One message from fd into buf: its length, 0 at EOF, -1 on timeout. */
static ssize_t
test_read_msg(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	long long until = testutil_now_ms() + timeout_ms;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t have = 0, want = 4;
	ssize_t n;
	int left;

	while (have < want) {
		left = (int)(until - testutil_now_ms());
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return -1;
		n = read(fd, buf + have, want - have);
		if (n <= 0)
			return 0;
		have += (size_t)n;
		if (have == 4) {
			want =
			    4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
				 (size_t)buf[2] << 8 | buf[3]);
			ck_assert_uint_le(want, cap);
		}
	}
	return (ssize_t)have;
}

static ssize_t
test_roundtrip(int fd, const uint8_t *req, size_t len, uint8_t *reply,
	       int timeout_ms)
{
	test_write(fd, req, len);
	return test_read_msg(fd, reply, TEST_MAX_MSG, timeout_ms);
}

static ssize_t
test_ask_list(int fd, uint8_t *reply, int timeout_ms)
{
	uint8_t req[AGENTMSG_HEADER];

	agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	return test_roundtrip(fd, req, sizeof(req), reply, timeout_ms);
}

/* The reply is exactly SSH_AGENT_FAILURE. */
static void
assert_failure(const uint8_t *reply, ssize_t n)
{
	ck_assert_int_eq(n, AGENTMSG_HEADER);
	ck_assert_int_eq(agentmsg_type(reply, (size_t)n), AGENTMSG_FAILURE);
}

/* The reply lists our key and nothing else. */
static void
assert_our_key(const uint8_t *reply, ssize_t n)
{
	struct agentmsg_identities ids;
	char err[AGENTMSG_MAX_ERR];

	ck_assert_int_gt(n, 0);
	ck_assert_msg(agentmsg_parse_identities(reply, (size_t)n, &ids, err,
						sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(ids.n, 1);
	ck_assert_uint_eq(ids.v[0].blob_len, blob_len);
	ck_assert_mem_eq(ids.v[0].blob, blob, blob_len);
	ck_assert_uint_eq(ids.v[0].comment_len, 8);
	agentmsg_identities_free(&ids);
}

static void
test_start(int timeout_ms)
{
	struct agent_limits lim = {timeout_ms, AGENT_MAX_RELAYS,
				   AGENT_MAX_QUEUED};

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	ck_assert_int_eq(agent_start(&lim), 0);
}

/* The test thread's own inbox, for the broker's MSG_AGENT_LIST. */
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
		ck_assert_int_eq(m->type, MSG_AGENT_LIST);
		ck_assert_ptr_null(tb->got);
		tb->got = m;
	}
}

static void
test_box_init(struct test_box *tb)
{
	ck_assert_ptr_nonnull(tb->base = event_base_new());
	inbox_init(&tb->ib, tb->base, test_box_cb, tb);
	tb->got = NULL;
}

static void
test_box_free(struct test_box *tb)
{
	msg_free(tb->got);
	inbox_destroy(&tb->ib);
	event_base_free(tb->base);
}

/* The next MSG_AGENT_LIST, within timeout_ms. */
static struct msg *
test_box_wait(struct test_box *tb, int timeout_ms)
{
	long long until = testutil_now_ms() + timeout_ms;
	struct timeval tv = {0, 10000};
	struct msg *m;

	while (tb->got == NULL && testutil_now_ms() < until) {
		event_base_loopexit(tb->base, &tv);
		event_base_dispatch(tb->base);
	}
	ck_assert_msg(tb->got != NULL, "no MSG_AGENT_LIST in %d ms",
		      timeout_ms);
	m = tb->got;
	tb->got = NULL;
	return m;
}

/* A listener that accepts and never answers: a hung agent.  Returns the
 * client end; *accepted is kept open by the caller. */
static int
test_hung_agent(int *listener, int *accepted)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/hung.%d.sock", dir,
		 (int)getpid());
	unlink(sun.sun_path);
	ck_assert_int_ne(*listener = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(*listener, (struct sockaddr *)&sun, sizeof(sun)),
			 0);
	ck_assert_int_eq(listen(*listener, 4), 0);
	fd = tagent_connect(sun.sun_path);
	ck_assert_int_ne(*accepted = accept(*listener, NULL, NULL), -1);
	return fd;
}

/* A listing and agent_list through an AUTH relay match ssh-add -L. */
START_TEST(test_list_through_relay)
{
	struct agentmsg_identities ids;
	char err[AGENT_MAX_ERR];
	uint8_t reply[TEST_MAX_MSG];
	struct test_box tb;
	struct msg *m;
	uint64_t id;
	int fd;

	test_start(TEST_TIMEOUT_MS);
	test_box_init(&tb);
	id = agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fd);
	ck_assert_uint_ne(id, 0);
	ck_assert_int_eq(agent_relays(), 1);
	assert_our_key(reply, test_ask_list(fd, reply, TEST_WAIT_MS));

	ck_assert_int_eq(agent_list(id, &tb.ib, 42), 0);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_uint_eq(m->cookie, 42);
	ck_assert_msg(agent_list_result(m, &ids, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_uint_eq(ids.n, 1);
	ck_assert_mem_eq(ids.v[0].blob, blob, blob_len);
	agentmsg_identities_free(&ids);
	msg_free(m);

	/* An unknown relay is an answer too, not silence. */
	ck_assert_int_eq(agent_list(id + 1000, &tb.ib, 43), 0);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_uint_eq(m->cookie, 43);
	ck_assert_int_eq(agent_list_result(m, &ids, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no such agent relay");
	msg_free(m);

	agent_relay_close(id);
	ck_assert_int_eq(test_read_msg(fd, reply, sizeof(reply), TEST_WAIT_MS),
			 0);
	close(fd);
	agent_stop();
	ck_assert_int_eq(agent_relays(), 0);
	test_box_free(&tb);
}
END_TEST

/* ed25519 key blob: string "ssh-ed25519", string key (32 bytes); the
 * signature blob alike with the 64-byte signature. */
static const uint8_t *
test_ed25519_part(const uint8_t *p, size_t len, size_t want)
{
	static const char type[] = "ssh-ed25519";
	size_t tl = sizeof(type) - 1;

	ck_assert_uint_eq(len, 4 + tl + 4 + want);
	ck_assert_int_eq(p[3], (int)tl);
	ck_assert_mem_eq(p + 4, type, tl);
	ck_assert_int_eq(p[4 + tl + 3], (int)want);
	return p + 4 + tl + 4;
}

static int
test_verify(const uint8_t *sig, const uint8_t *data, size_t len)
{
	const uint8_t *pub =
	    test_ed25519_part(blob, blob_len, TEST_ED25519_PUB);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY *key;
	int ok;

	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					  TEST_ED25519_PUB);
	ck_assert_ptr_nonnull(key);
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key), 1);
	ok = EVP_DigestVerify(ctx, sig, TEST_ED25519_SIG, data, len);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok == 1;
}

/* A SIGN_REQUEST through the relay gets a signature that verifies. */
START_TEST(test_sign_through_relay)
{
	static const uint8_t data[] = "session id and userauth request";
	struct agentmsg_sign_request sr = {blob, blob_len, data, sizeof(data),
					   0};
	uint8_t reply[TEST_MAX_MSG], *req, bad[sizeof(data)];
	const uint8_t *sig;
	size_t req_len, sig_len;
	char err[AGENTMSG_MAX_ERR];
	ssize_t n;
	int fd;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_uint_ne(
	    agent_relay_open(test_connect_agent(), AGENT_RELAY_FORWARD, &fd),
	    0);
	ck_assert_int_eq(agentmsg_build_sign_request(&sr, &req, &req_len), 0);
	n = test_roundtrip(fd, req, req_len, reply, TEST_WAIT_MS);
	free(req);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(agentmsg_type(reply, (size_t)n),
			 AGENTMSG_SIGN_RESPONSE);
	ck_assert_msg(agentmsg_parse_sign_response(reply, (size_t)n, &sig,
						   &sig_len, err,
						   sizeof(err)) == 0,
		      "%s", err);
	sig = test_ed25519_part(sig, sig_len, TEST_ED25519_SIG);
	ck_assert(test_verify(sig, data, sizeof(data)));
	memcpy(bad, data, sizeof(data));
	bad[0] ^= 1;
	ck_assert(!test_verify(sig, bad, sizeof(bad)));
	close(fd);
	agent_stop();
}
END_TEST

/* A FORWARD relay refuses what would change or lock the agent, without
 * the agent seeing it: the key is still there afterwards. */
START_TEST(test_forward_filter)
{
	static const uint8_t refused[][64] = {
	    /* ADD_IDENTITY with a (bogus) key */
	    {0, 0, 0, 10, AGENTMSG_ADD_IDENTITY, 0, 0, 0, 1, 'x', 0, 0, 0, 0},
	    {0, 0, 0, 1, AGENTMSG_REMOVE_ALL_IDENTITIES},
	    {0, 0, 0, 9, AGENTMSG_REMOVE_IDENTITY, 0, 0, 0, 4, 1, 2, 3, 4},
	    {0, 0, 0, 9, AGENTMSG_LOCK, 0, 0, 0, 4, 'p', 'a', 's', 's'},
	    {0,   0,   0,   29,  AGENTMSG_EXTENSION,
	     0,   0,   0,   24,  's',
	     'e', 's', 's', 'i', 'o',
	     'n', '-', 'b', 'i', 'n',
	     'd', '@', 'o', 'p', 'e',
	     'n', 's', 's', 'h', '.',
	     'c', 'o', 'm'},
	    {0, 0, 0, 1, 9}, /* protocol 1's remove-all */
	    {0, 0, 0, 1, 99},
	};
	uint8_t reply[TEST_MAX_MSG];
	char cmd[256];
	size_t i, len;
	int fd;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_uint_ne(
	    agent_relay_open(test_connect_agent(), AGENT_RELAY_FORWARD, &fd),
	    0);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		len = 4 + (size_t)refused[i][3];
		assert_failure(reply, test_roundtrip(fd, refused[i], len, reply,
						     TEST_WAIT_MS));
	}
	/* Pipelined: refusals and a listing answered in order. */
	test_write(fd, refused[1], 5);
	agentmsg_build_simple(reply, AGENTMSG_REQUEST_IDENTITIES);
	test_write(fd, reply, AGENTMSG_HEADER);
	test_write(fd, refused[1], 5);
	assert_failure(reply,
		       test_read_msg(fd, reply, sizeof(reply), TEST_WAIT_MS));
	assert_our_key(reply,
		       test_read_msg(fd, reply, sizeof(reply), TEST_WAIT_MS));
	assert_failure(reply,
		       test_read_msg(fd, reply, sizeof(reply), TEST_WAIT_MS));
	close(fd);
	agent_stop();
	snprintf(cmd, sizeof(cmd), "SSH_AUTH_SOCK=%s ssh-add -l >/dev/null",
		 sock);
	test_sh(cmd);
	/* The check can fail: through AUTH the same removal reaches the
	 * agent, which then has no key.  The key is added back after. */
	test_start(TEST_TIMEOUT_MS);
	ck_assert_uint_ne(
	    agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fd), 0);
	len = (size_t)test_roundtrip(fd, refused[1], 5, reply, TEST_WAIT_MS);
	ck_assert_int_eq(agentmsg_type(reply, len), AGENTMSG_SUCCESS);
	close(fd);
	agent_stop();
	ck_assert_int_ne(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "SSH_AUTH_SOCK=%s ssh-add -q %s/id", sock,
		 dir);
	test_sh(cmd);
}
END_TEST

/*
 * A hung agent: the request at it and the listing queued behind it fail
 * at AgentTimeout, later ones at once, and a relay to the live agent keeps
 * answering fast all along.
 */
START_TEST(test_hung_agent_bounded)
{
	uint8_t req[AGENTMSG_HEADER], reply[TEST_MAX_MSG];
	struct agentmsg_identities ids;
	char err[AGENT_MAX_ERR], want[AGENT_MAX_ERR];
	long long t0, took, worst = 0, t;
	int listener, accepted, hfd, lfd, i;
	uint64_t hung, live;
	struct test_box tb;
	struct msg *m;
	ssize_t n;

	test_start(TEST_TIMEOUT_MS);
	test_box_init(&tb);
	hung = agent_relay_open(test_hung_agent(&listener, &accepted),
				AGENT_RELAY_AUTH, &hfd);
	live = agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &lfd);
	ck_assert_uint_ne(hung, 0);
	ck_assert_uint_ne(live, 0);

	t0 = testutil_now_ms();
	agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	test_write(hfd, req, sizeof(req));
	ck_assert_int_eq(agent_list(hung, &tb.ib, 7), 0);
	for (i = 0; i < TEST_ROUNDS; i++) {
		t = testutil_now_ms();
		assert_our_key(reply, test_ask_list(lfd, reply, TEST_WAIT_MS));
		if (testutil_now_ms() - t > worst)
			worst = testutil_now_ms() - t;
	}
	ck_assert_msg(testutil_now_ms() - t0 < TEST_TIMEOUT_MS,
		      "live relay slowed down: %d rounds took %lld ms",
		      TEST_ROUNDS, testutil_now_ms() - t0);
	n = test_read_msg(hfd, reply, sizeof(reply), TEST_WAIT_MS);
	took = testutil_now_ms() - t0;
	assert_failure(reply, n);
	fprintf(stderr,
		"hung agent: FAILURE after %lld ms (AgentTimeout %d ms); "
		"live relay: %d round trips meanwhile, worst %lld ms\n",
		took, TEST_TIMEOUT_MS, TEST_ROUNDS, worst);
	ck_assert_int_ge(took, TEST_TIMEOUT_MS - 10);
	ck_assert_int_le(took, TEST_TIMEOUT_MS + TEST_SLACK_MS);
	ck_assert_int_le(worst, TEST_FAST_MS);

	m = test_box_wait(&tb, TEST_SLACK_MS);
	ck_assert_uint_eq(m->cookie, 7);
	ck_assert_int_eq(agent_list_result(m, &ids, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "agent did not answer within %d ms",
		 TEST_TIMEOUT_MS);
	ck_assert_str_eq(err, want);
	msg_free(m);

	/* Marked hung: the next request fails at once. */
	t0 = testutil_now_ms();
	assert_failure(reply, test_ask_list(hfd, reply, TEST_WAIT_MS));
	took = testutil_now_ms() - t0;
	fprintf(stderr, "hung agent, next request: FAILURE after %lld ms\n",
		took);
	ck_assert_int_lt(took, TEST_FAST_MS);
	/* What the hung agent never saw stays unread: it was closed. */
	ck_assert_int_eq(read(accepted, reply, sizeof(reply)), 5);
	ck_assert_int_eq(read(accepted, reply, sizeof(reply)), 0);

	assert_our_key(reply, test_ask_list(lfd, reply, TEST_WAIT_MS));
	close(hfd);
	close(lfd);
	close(accepted);
	close(listener);
	agent_stop();
	test_box_free(&tb);
}
END_TEST

/*
 * Many relays asking at once while one agent hangs: every live one is
 * answered, each well before the hung one's deadline.
 */
START_TEST(test_many_relays)
{
	uint8_t req[AGENTMSG_HEADER], reply[TEST_MAX_MSG];
	struct pollfd pfd[TEST_RELAYS];
	long long t0, ms[TEST_RELAYS], worst = 0, sum = 0;
	int listener, accepted, hfd, i, left;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_uint_ne(
	    agent_relay_open(test_hung_agent(&listener, &accepted),
			     AGENT_RELAY_AUTH, &hfd),
	    0);
	for (i = 0; i < TEST_RELAYS; i++) {
		ck_assert_uint_ne(agent_relay_open(test_connect_agent(),
						   AGENT_RELAY_AUTH,
						   &pfd[i].fd),
				  0);
		pfd[i].events = POLLIN;
		ms[i] = -1;
	}
	agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	t0 = testutil_now_ms();
	test_write(hfd, req, sizeof(req));
	for (i = 0; i < TEST_RELAYS; i++)
		test_write(pfd[i].fd, req, sizeof(req));
	for (left = TEST_RELAYS; left > 0;) {
		ck_assert_int_gt(poll(pfd, TEST_RELAYS, TEST_WAIT_MS), 0);
		for (i = 0; i < TEST_RELAYS; i++) {
			if (!(pfd[i].revents & POLLIN) || ms[i] != -1)
				continue;
			assert_our_key(reply, test_read_msg(pfd[i].fd, reply,
							    sizeof(reply),
							    TEST_WAIT_MS));
			ms[i] = testutil_now_ms() - t0;
			sum += ms[i];
			if (ms[i] > worst)
				worst = ms[i];
			pfd[i].events = 0;
			left--;
		}
	}
	fprintf(stderr,
		"%d live relays at once beside a hung one: mean %lld ms, "
		"worst %lld ms\n",
		TEST_RELAYS, sum / TEST_RELAYS, worst);
	ck_assert_int_lt(worst, TEST_TIMEOUT_MS);
	assert_failure(reply,
		       test_read_msg(hfd, reply, sizeof(reply), TEST_WAIT_MS));
	for (i = 0; i < TEST_RELAYS; i++)
		close(pfd[i].fd);
	close(hfd);
	close(accepted);
	close(listener);
	agent_stop();
}
END_TEST

/* Forwarded listings and signatures reach the agent only when they parse:
 * here the "agent" must see the good ones and nothing else. */
START_TEST(test_forward_malformed)
{
	static const uint8_t kb[] = {0, 0, 0, 1, 'k'};
	struct agentmsg_sign_request sr = {kb, sizeof(kb), (const uint8_t *)"d",
					   1, 0};
	uint8_t reply[TEST_MAX_MSG], *req, bad[64];
	struct pollfd pfd;
	size_t len;
	int sv[2], fd;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_uint_ne(agent_relay_open(sv[0], AGENT_RELAY_FORWARD, &fd), 0);
	ck_assert_int_eq(agentmsg_build_sign_request(&sr, &req, &len), 0);
	/* The signature request with a byte too many, then one too few. */
	memcpy(bad, req, len);
	bad[len] = 0;
	bad[3]++;
	assert_failure(reply,
		       test_roundtrip(fd, bad, len + 1, reply, TEST_WAIT_MS));
	bad[3] -= 2;
	assert_failure(reply,
		       test_roundtrip(fd, bad, len - 1, reply, TEST_WAIT_MS));
	/* A listing with a body. */
	assert_failure(reply,
		       test_roundtrip(fd, (const uint8_t *)"\0\0\0\2\x0b\0", 6,
				      reply, TEST_WAIT_MS));
	pfd.fd = sv[1];
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 50), 0);
	/* The well-formed one reaches the agent, byte for byte. */
	test_write(fd, req, len);
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    (ssize_t)len);
	ck_assert_mem_eq(reply, req, len);
	free(req);
	close(fd);
	close(sv[1]);
	agent_stop();
}
END_TEST

/* What agent_list says after the fake agent at sv1 wrote bytes. */
static void
test_list_error(uint64_t id, int sv1, const uint8_t *bytes, size_t len,
		const char *want)
{
	struct agentmsg_identities ids;
	uint8_t buf[TEST_MAX_MSG];
	char err[AGENT_MAX_ERR];
	struct test_box tb;
	struct msg *m;

	test_box_init(&tb);
	ck_assert_int_eq(agent_list(id, &tb.ib, 5), 0);
	ck_assert_int_eq(test_read_msg(sv1, buf, sizeof(buf), TEST_WAIT_MS),
			 AGENTMSG_HEADER);
	test_write(sv1, bytes, len);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_int_eq(agent_list_result(m, &ids, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
	msg_free(m);
	test_box_free(&tb);
}

/*
 * A hostile agent: a bad listing fails that listing only; a broken length
 * or an answer nobody asked for drops the agent, and the relay's client
 * then gets FAILURE at once.
 */
START_TEST(test_agent_garbage)
{
	static const uint8_t badlist[] = {0, 0, 0, 5, 12, 0, 0, 0x10, 0};
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 12};
	static const uint8_t extra[] = {0, 0, 0, 1, 6, 0, 0, 0, 1, 6};
	uint8_t reply[TEST_MAX_MSG];
	uint64_t a, b;
	int sa[2], sb[2], fa, fb;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sa), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sb), 0);
	a = agent_relay_open(sa[0], AGENT_RELAY_AUTH, &fa);
	b = agent_relay_open(sb[0], AGENT_RELAY_AUTH, &fb);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_ne(b, 0);

	test_list_error(a, sa[1], badlist, sizeof(badlist),
			"agent sent a bad listing: identities: bad count 4096");
	/* Still asked: the next request reaches the agent. */
	agentmsg_build_simple(reply, AGENTMSG_REQUEST_IDENTITIES);
	test_write(fa, reply, AGENTMSG_HEADER);
	ck_assert_int_eq(
	    test_read_msg(sa[1], reply, sizeof(reply), TEST_WAIT_MS),
	    AGENTMSG_HEADER);
	test_write(sa[1], huge, sizeof(huge));
	assert_failure(reply,
		       test_read_msg(fa, reply, sizeof(reply), TEST_WAIT_MS));
	assert_failure(reply, test_ask_list(fa, reply, TEST_WAIT_MS));
	ck_assert_int_eq(
	    test_read_msg(sa[1], reply, sizeof(reply), TEST_WAIT_MS), 0);

	/* Two answers to one question. */
	test_list_error(
	    b, sb[1], extra, sizeof(extra),
	    "agent sent a bad listing: message type 6, expected 12");
	assert_failure(reply, test_ask_list(fb, reply, TEST_WAIT_MS));
	ck_assert_int_eq(
	    test_read_msg(sb[1], reply, sizeof(reply), TEST_WAIT_MS), 0);
	close(fa);
	close(fb);
	close(sa[1]);
	close(sb[1]);
	agent_stop();
}
END_TEST

/* An agent that closes: FAILURE, and agent_list says why. */
START_TEST(test_agent_eof)
{
	uint8_t reply[TEST_MAX_MSG];
	struct agentmsg_identities ids;
	char err[AGENT_MAX_ERR];
	struct test_box tb;
	struct msg *m;
	uint64_t id;
	int sv[2], fd;

	test_start(TEST_TIMEOUT_MS);
	test_box_init(&tb);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	id = agent_relay_open(sv[0], AGENT_RELAY_AUTH, &fd);
	ck_assert_uint_ne(id, 0);
	ck_assert_int_eq(agent_list(id, &tb.ib, 1), 0);
	/* The listing reached the "agent", which hangs up on it. */
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    AGENTMSG_HEADER);
	close(sv[1]);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_int_eq(agent_list_result(m, &ids, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "agent closed the connection");
	msg_free(m);
	assert_failure(reply, test_ask_list(fd, reply, TEST_WAIT_MS));
	close(fd);
	agent_stop();
	test_box_free(&tb);
}
END_TEST

/*
 * After agent_list, libssh's own REQUEST_IDENTITIES is answered from the
 * listing: here the "agent" answers the listing once and then hangs, and
 * the relay's listing still comes at once while a signature times out.
 */
START_TEST(test_cached_listing)
{
	static const uint8_t kb[] = {0, 0, 0, 3, 'k', 'e', 'y'};
	struct agentmsg_identity one = {kb, sizeof(kb), (const uint8_t *)"c",
					1};
	struct agentmsg_identities ids = {1, &one}, got;
	struct agentmsg_sign_request sr = {kb, sizeof(kb), (const uint8_t *)"d",
					   1, 0};
	uint8_t reply[TEST_MAX_MSG], *answer, *req;
	size_t alen, rlen;
	char err[AGENT_MAX_ERR];
	struct test_box tb;
	long long t0, took;
	struct msg *m;
	uint64_t id;
	int sv[2], fd;

	test_start(TEST_TIMEOUT_MS);
	test_box_init(&tb);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	id = agent_relay_open(sv[0], AGENT_RELAY_AUTH, &fd);
	ck_assert_uint_ne(id, 0);
	ck_assert_int_eq(agent_list(id, &tb.ib, 9), 0);
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    AGENTMSG_HEADER);
	ck_assert_int_eq(agentmsg_build_identities(&ids, &answer, &alen), 0);
	test_write(sv[1], answer, alen);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_msg(agent_list_result(m, &got, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_uint_eq(got.n, 1);
	ck_assert_mem_eq(got.v[0].blob, kb, sizeof(kb));
	agentmsg_identities_free(&got);
	msg_free(m);

	t0 = testutil_now_ms();
	ck_assert_int_eq(test_ask_list(fd, reply, TEST_WAIT_MS), (ssize_t)alen);
	ck_assert_mem_eq(reply, answer, alen);
	took = testutil_now_ms() - t0;
	ck_assert_int_lt(took, TEST_FAST_MS);
	free(answer);

	ck_assert_int_eq(agentmsg_build_sign_request(&sr, &req, &rlen), 0);
	t0 = testutil_now_ms();
	assert_failure(reply,
		       test_roundtrip(fd, req, rlen, reply, TEST_WAIT_MS));
	took = testutil_now_ms() - t0;
	free(req);
	ck_assert_int_ge(took, TEST_TIMEOUT_MS - 10);
	/* The listing still comes from the cache once the agent is gone. */
	ck_assert_int_eq(test_ask_list(fd, reply, TEST_WAIT_MS), (ssize_t)alen);
	close(fd);
	close(sv[1]);
	agent_stop();
	test_box_free(&tb);
}
END_TEST

/* agent_stop does not wait for a hung agent; the relay's end sees EOF. */
START_TEST(test_stop_with_pending)
{
	uint8_t req[AGENTMSG_HEADER], reply[TEST_MAX_MSG];
	int listener, accepted, fd;
	struct test_box tb;
	long long t0, took;

	test_start(AGENT_DEFAULT_TIMEOUT_MS);
	test_box_init(&tb);
	ck_assert_uint_ne(
	    agent_relay_open(test_hung_agent(&listener, &accepted),
			     AGENT_RELAY_AUTH, &fd),
	    0);
	agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	test_write(fd, req, sizeof(req));
	/* The request is at the agent once the agent has its bytes. */
	ck_assert_int_eq(
	    test_read_msg(accepted, reply, sizeof(reply), TEST_WAIT_MS),
	    AGENTMSG_HEADER);
	t0 = testutil_now_ms();
	agent_stop();
	took = testutil_now_ms() - t0;
	fprintf(stderr, "agent_stop with a request pending: %lld ms\n", took);
	ck_assert_int_lt(took, TEST_FAST_MS);
	ck_assert_int_eq(agent_relays(), 0);
	ck_assert_int_eq(test_read_msg(fd, reply, sizeof(reply), TEST_WAIT_MS),
			 0);
	ck_assert_int_eq(read(accepted, reply, sizeof(reply)), 0);
	/* Calls after the stop are refused, not queued. */
	ck_assert_int_eq(agent_list(1, &tb.ib, 1), -1);
	ck_assert_uint_eq(
	    agent_relay_open(dup(accepted), AGENT_RELAY_AUTH, &fd), 0);
	ck_assert_int_eq(fd, -1);
	close(accepted);
	close(listener);
	test_box_free(&tb);
}
END_TEST

/* max_relays, and a relay closed makes room again. */
START_TEST(test_relay_limit)
{
	struct agent_limits lim = {TEST_TIMEOUT_MS, 2, 1};
	uint64_t a, b;
	int fa, fb, fc, i;

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	ck_assert_int_eq(agent_start(&lim), 0);
	ck_assert_int_eq(agent_start(&lim), -1);
	a = agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fa);
	b = agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fb);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_ne(b, 0);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(
	    agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fc), 0);
	ck_assert_int_eq(agent_relays(), 2);
	agent_relay_close(a);
	for (i = 0; i < 100 && agent_relays() > 1; i++)
		usleep(10000);
	ck_assert_int_eq(agent_relays(), 1);
	ck_assert_uint_ne(
	    agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fc), 0);
	close(fa);
	close(fb);
	close(fc);
	agent_stop();
	lim.max_relays = AGENT_MAX_RELAYS + 1;
	ck_assert_int_eq(agent_start(&lim), -1);
}
END_TEST

/*
 * A client that breaks framing (a length over AGENTMSG_MAX_LEN) loses its
 * relay; with max_queued 1, requests sent in a burst are all answered in
 * order all the same.
 */
START_TEST(test_bad_client)
{
	static const uint8_t huge[] = {0x00, 0x04, 0x00, 0x01, 11};
	uint8_t req[AGENTMSG_HEADER], reply[TEST_MAX_MSG];
	struct agent_limits lim = {TEST_TIMEOUT_MS, 4, 1};
	int fd, i;

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	ck_assert_int_eq(agent_start(&lim), 0);
	ck_assert_uint_ne(
	    agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fd), 0);
	agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	for (i = 0; i < 4; i++)
		test_write(fd, req, sizeof(req));
	for (i = 0; i < 4; i++)
		assert_our_key(reply, test_read_msg(fd, reply, sizeof(reply),
						    TEST_WAIT_MS));
	test_write(fd, huge, sizeof(huge));
	ck_assert_int_eq(test_read_msg(fd, reply, sizeof(reply), TEST_WAIT_MS),
			 0);
	close(fd);
	for (i = 0; i < 100 && agent_relays() > 0; i++)
		usleep(10000);
	ck_assert_int_eq(agent_relays(), 0);
	agent_stop();
}
END_TEST

/* ---- Shared links and pinned relays ---- */

/* Poll until agent_relays() and agent_links() are back to relays, links. */
static void
test_wait_counts(int relays, int links)
{
	int i;

	for (i = 0;
	     i < 200 && (agent_relays() != relays || agent_links() != links);
	     i++)
		usleep(10000);
	ck_assert_int_eq(agent_relays(), relays);
	ck_assert_int_eq(agent_links(), links);
}

static int
test_attach(uint64_t link, const uint8_t *pin, size_t pin_len)
{
	int fd;

	ck_assert_uint_ne(
	    agent_relay_attach(link, AGENT_RELAY_AUTH, pin, pin_len, &fd), 0);
	ck_assert_int_ne(fd, -1);
	return fd;
}

/* A SIGN_REQUEST for key over data, framed (free it). */
static uint8_t *
test_sign_req(const uint8_t *key, size_t key_len, const uint8_t *data,
	      size_t data_len, size_t *len)
{
	struct agentmsg_sign_request sr = {key, key_len, data, data_len, 0};
	uint8_t *req;

	ck_assert_int_eq(agentmsg_build_sign_request(&sr, &req, len), 0);
	return req;
}

/* The reply is a SIGN_RESPONSE by our key over data. */
static void
assert_signed(const uint8_t *reply, ssize_t n, const uint8_t *data, size_t len)
{
	char err[AGENTMSG_MAX_ERR];
	const uint8_t *sig;
	size_t sig_len;

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(agentmsg_type(reply, (size_t)n),
			 AGENTMSG_SIGN_RESPONSE);
	ck_assert_msg(agentmsg_parse_sign_response(reply, (size_t)n, &sig,
						   &sig_len, err,
						   sizeof(err)) == 0,
		      "%s", err);
	sig = test_ed25519_part(sig, sig_len, TEST_ED25519_SIG);
	ck_assert(test_verify(sig, data, len));
}

/* Nothing reached the fake agent at fd within ms. */
static void
assert_agent_quiet(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	ck_assert_int_eq(poll(&pfd, 1, ms), 0);
}

/*
 * Relays on one shared link, each with listings and signatures pipelined,
 * all written before any is read: every answer is right and in its relay's
 * order, and the link's listing matches ssh-add -L.
 */
START_TEST(test_link_shared)
{
	uint8_t reply[TEST_MAX_MSG], lreq[AGENTMSG_HEADER];
	uint8_t data[TEST_SHARED][16];
	struct agentmsg_identities ids;
	int fd[TEST_SHARED], i, k;
	char err[AGENT_MAX_ERR];
	size_t len[TEST_SHARED];
	uint8_t *sreq[TEST_SHARED];
	struct test_box tb;
	struct msg *m;
	uint64_t link;

	test_start(TEST_TIMEOUT_MS);
	test_box_init(&tb);
	link = agent_link_open(test_connect_agent());
	ck_assert_uint_ne(link, 0);
	memset(data, 0, sizeof(data));
	for (i = 0; i < TEST_SHARED; i++) {
		fd[i] = test_attach(link, NULL, 0);
		snprintf((char *)data[i], sizeof(data[i]), "relay %d", i);
		sreq[i] = test_sign_req(blob, blob_len, data[i],
					sizeof(data[i]), &len[i]);
	}
	ck_assert_int_eq(agent_relays(), TEST_SHARED);
	ck_assert_int_eq(agent_links(), 1);
	agentmsg_build_simple(lreq, AGENTMSG_REQUEST_IDENTITIES);
	for (k = 0; k < TEST_PIPELINED; k++)
		for (i = 0; i < TEST_SHARED; i++) {
			test_write(fd[i], lreq, sizeof(lreq));
			test_write(fd[i], sreq[i], len[i]);
		}
	for (k = 0; k < TEST_PIPELINED; k++)
		for (i = 0; i < TEST_SHARED; i++) {
			assert_our_key(reply, test_read_msg(fd[i], reply,
							    sizeof(reply),
							    TEST_WAIT_MS));
			assert_signed(reply,
				      test_read_msg(fd[i], reply, sizeof(reply),
						    TEST_WAIT_MS),
				      data[i], sizeof(data[i]));
		}
	ck_assert_int_eq(agent_link_list(link, &tb.ib, 3), 0);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_uint_eq(m->cookie, 3);
	ck_assert_msg(agent_list_result(m, &ids, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_uint_eq(ids.n, 1);
	ck_assert_uint_eq(ids.v[0].blob_len, blob_len);
	ck_assert_mem_eq(ids.v[0].blob, blob, blob_len);
	agentmsg_identities_free(&ids);
	msg_free(m);
	for (i = 0; i < TEST_SHARED; i++) {
		free(sreq[i]);
		close(fd[i]);
	}
	test_wait_counts(0, 1);
	agent_link_close(link);
	test_wait_counts(0, 0);
	agent_stop();
	test_box_free(&tb);
}
END_TEST

/*
 * Relays take turns: one relay's burst does not hold back another's
 * request, which the (fake) agent sees second, not after the burst.
 */
START_TEST(test_link_turns)
{
	static const uint8_t kb[] = {0, 0, 0, 1, 'k'};
	uint8_t reply[TEST_MAX_MSG], ok[AGENTMSG_HEADER],
	    *req[AGENT_MAX_QUEUED];
	size_t len[AGENT_MAX_QUEUED], blen;
	uint8_t *breq, tag[AGENT_MAX_QUEUED][2];
	int sv[2], fa, fb, i;
	uint64_t link;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_uint_ne(link = agent_link_open(sv[0]), 0);
	fa = test_attach(link, NULL, 0);
	fb = test_attach(link, NULL, 0);
	for (i = 0; i < TEST_BURST; i++) {
		tag[i][0] = 'a';
		tag[i][1] = (uint8_t)('0' + i);
		req[i] = test_sign_req(kb, sizeof(kb), tag[i], 2, &len[i]);
		test_write(fa, req[i], len[i]);
	}
	/* The burst is queued before b asks. */
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    (ssize_t)len[0]);
	ck_assert_mem_eq(reply, req[0], len[0]);
	breq = test_sign_req(kb, sizeof(kb), (const uint8_t *)"b", 1, &blen);
	test_write(fb, breq, blen);
	/* Time for the broker to queue it, on a loaded machine too. */
	usleep(TEST_SETTLE_US);
	agentmsg_build_simple(ok, AGENTMSG_SUCCESS);
	test_write(sv[1], ok, sizeof(ok));
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    (ssize_t)blen);
	ck_assert_mem_eq(reply, breq, blen);
	test_write(sv[1], ok, sizeof(ok));
	for (i = 1; i < TEST_BURST; i++) {
		ck_assert_int_eq(
		    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
		    (ssize_t)len[i]);
		ck_assert_mem_eq(reply, req[i], len[i]);
		test_write(sv[1], ok, sizeof(ok));
	}
	for (i = 0; i < TEST_BURST; i++) {
		ck_assert_int_eq(
		    test_read_msg(fa, reply, sizeof(reply), TEST_WAIT_MS),
		    AGENTMSG_HEADER);
		ck_assert_int_eq(reply[4], AGENTMSG_SUCCESS);
		free(req[i]);
	}
	ck_assert_int_eq(test_read_msg(fb, reply, sizeof(reply), TEST_WAIT_MS),
			 AGENTMSG_HEADER);
	ck_assert_int_eq(reply[4], AGENTMSG_SUCCESS);
	free(breq);
	close(fa);
	close(fb);
	agent_link_close(link);
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS), 0);
	close(sv[1]);
	test_wait_counts(0, 0);
	agent_stop();
}
END_TEST

/*
 * A pinned relay: its listing is the pin alone, without a comment, and
 * never asks the agent; a signature for another key and any other request
 * are refused here; one for the pin reaches the agent byte for byte.
 */
START_TEST(test_link_pinned)
{
	static const uint8_t pin[] = {0, 0, 0, 3, 'p', 'i', 'n'};
	static const uint8_t other[] = {0, 0, 0, 3, 'o', 't', 'h'};
	static const uint8_t sigok[] = {
	    0, 0, 0, 8, AGENTMSG_SIGN_RESPONSE, 0, 0, 0, 3, 'S', 'I', 'G'};
	static const uint8_t removeall[] = {0, 0, 0, 1,
					    AGENTMSG_REMOVE_ALL_IDENTITIES};
	struct agentmsg_identities ids;
	uint8_t reply[TEST_MAX_MSG], *req;
	char err[AGENTMSG_MAX_ERR];
	int sv[2], fd;
	uint64_t link;
	size_t len;
	ssize_t n;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_uint_ne(link = agent_link_open(sv[0]), 0);
	fd = test_attach(link, pin, sizeof(pin));
	ck_assert_int_gt(n = test_ask_list(fd, reply, TEST_WAIT_MS), 0);
	ck_assert_msg(agentmsg_parse_identities(reply, (size_t)n, &ids, err,
						sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(ids.n, 1);
	ck_assert_uint_eq(ids.v[0].blob_len, sizeof(pin));
	ck_assert_mem_eq(ids.v[0].blob, pin, sizeof(pin));
	ck_assert_uint_eq(ids.v[0].comment_len, 0);
	agentmsg_identities_free(&ids);

	req =
	    test_sign_req(other, sizeof(other), (const uint8_t *)"d", 1, &len);
	assert_failure(reply,
		       test_roundtrip(fd, req, len, reply, TEST_WAIT_MS));
	free(req);
	assert_failure(reply, test_roundtrip(fd, removeall, sizeof(removeall),
					     reply, TEST_WAIT_MS));
	assert_agent_quiet(sv[1], 50);

	req = test_sign_req(pin, sizeof(pin), (const uint8_t *)"d", 1, &len);
	test_write(fd, req, len);
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    (ssize_t)len);
	ck_assert_mem_eq(reply, req, len);
	free(req);
	test_write(sv[1], sigok, sizeof(sigok));
	ck_assert_int_eq(test_read_msg(fd, reply, sizeof(reply), TEST_WAIT_MS),
			 (ssize_t)sizeof(sigok));
	ck_assert_mem_eq(reply, sigok, sizeof(sigok));

	/* Pins past the limits are refused. */
	ck_assert_uint_eq(
	    agent_relay_attach(link, AGENT_RELAY_AUTH, pin, 0, &fd), 0);
	ck_assert_int_eq(fd, -1);
	close(sv[1]);
	agent_link_close(link);
	agent_stop();
	test_wait_counts(0, 0);
}
END_TEST

/* Through a real agent: a relay pinned to our key signs with it and
 * refuses another key; one pinned to another key cannot sign at all. */
START_TEST(test_link_pinned_real)
{
	static const uint8_t data[] = "pinned signature";
	static const uint8_t other[] = {0, 0, 0, 3, 'o', 't', 'h'};
	uint8_t reply[TEST_MAX_MSG], *req;
	uint64_t link;
	int fd, fo;
	size_t len;

	test_start(TEST_TIMEOUT_MS);
	ck_assert_uint_ne(link = agent_link_open(test_connect_agent()), 0);
	fd = test_attach(link, blob, blob_len);
	fo = test_attach(link, other, sizeof(other));
	req = test_sign_req(blob, blob_len, data, sizeof(data), &len);
	assert_signed(reply, test_roundtrip(fd, req, len, reply, TEST_WAIT_MS),
		      data, sizeof(data));
	assert_failure(reply,
		       test_roundtrip(fo, req, len, reply, TEST_WAIT_MS));
	free(req);
	req = test_sign_req(other, sizeof(other), data, sizeof(data), &len);
	assert_failure(reply,
		       test_roundtrip(fd, req, len, reply, TEST_WAIT_MS));
	free(req);
	close(fd);
	close(fo);
	agent_link_close(link);
	test_wait_counts(0, 0);
	agent_stop();
}
END_TEST

/*
 * agent_link_list: asked twice before the agent answers, the agent sees
 * one listing and both get it; later ones, and the REQUEST_IDENTITIES of
 * an unpinned relay of the link, come from it without the agent.
 */
START_TEST(test_link_list_once)
{
	static const uint8_t kb[] = {0, 0, 0, 3, 'k', 'e', 'y'};
	struct agentmsg_identity one = {kb, sizeof(kb), (const uint8_t *)"c",
					1};
	struct agentmsg_identities ids = {1, &one}, got;
	uint8_t reply[TEST_MAX_MSG], *answer;
	struct test_box tb[3];
	char err[AGENT_MAX_ERR];
	struct msg *m;
	uint64_t link;
	int sv[2], fd, i;
	size_t alen;

	test_start(TEST_TIMEOUT_MS);
	for (i = 0; i < 3; i++)
		test_box_init(&tb[i]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_uint_ne(link = agent_link_open(sv[0]), 0);
	ck_assert_int_eq(agent_link_list(link, &tb[0].ib, 10), 0);
	ck_assert_int_eq(agent_link_list(link, &tb[1].ib, 11), 0);
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    AGENTMSG_HEADER);
	ck_assert_int_eq(reply[4], AGENTMSG_REQUEST_IDENTITIES);
	/* The second waits for the first's answer, not for the agent. */
	assert_agent_quiet(sv[1], 50);
	ck_assert_int_eq(agentmsg_build_identities(&ids, &answer, &alen), 0);
	test_write(sv[1], answer, alen);
	for (i = 0; i < 2; i++) {
		m = test_box_wait(&tb[i], TEST_WAIT_MS);
		ck_assert_uint_eq(m->cookie, 10 + (uint64_t)i);
		ck_assert_msg(agent_list_result(m, &got, err, sizeof(err)) == 0,
			      "%s", err);
		ck_assert_uint_eq(got.n, 1);
		ck_assert_mem_eq(got.v[0].blob, kb, sizeof(kb));
		agentmsg_identities_free(&got);
		msg_free(m);
	}
	ck_assert_int_eq(agent_link_list(link, &tb[2].ib, 12), 0);
	m = test_box_wait(&tb[2], TEST_WAIT_MS);
	ck_assert_int_eq(m->buf.len, (int)alen);
	ck_assert_mem_eq(m->buf.data, answer, alen);
	msg_free(m);
	fd = test_attach(link, NULL, 0);
	ck_assert_int_eq(test_ask_list(fd, reply, TEST_WAIT_MS), (ssize_t)alen);
	ck_assert_mem_eq(reply, answer, alen);
	assert_agent_quiet(sv[1], 50);
	free(answer);

	/* An unknown link is an answer too. */
	ck_assert_int_eq(agent_link_list(link + 1000, &tb[2].ib, 13), 0);
	m = test_box_wait(&tb[2], TEST_WAIT_MS);
	ck_assert_int_eq(agent_list_result(m, &got, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no such agent link");
	msg_free(m);
	close(fd);
	close(sv[1]);
	agent_link_close(link);
	test_wait_counts(0, 0);
	agent_stop();
	for (i = 0; i < 3; i++)
		test_box_free(&tb[i]);
}
END_TEST

/*
 * agent_link_close: the agent connection closes at once, the link's
 * relays answer FAILURE and its listing says why, no relay attaches any
 * more, and once its relays close the link is gone with every descriptor.
 */
START_TEST(test_link_close)
{
	static const uint8_t kb[] = {0, 0, 0, 1, 'k'};
	struct agentmsg_identity one = {kb, sizeof(kb), NULL, 0};
	struct agentmsg_identities ids = {1, &one}, got;
	uint8_t reply[TEST_MAX_MSG], *answer, *req;
	char err[AGENT_MAX_ERR];
	int sv[2], fa, fb, fds0, fd;
	size_t alen, len;
	struct test_box tb;
	struct msg *m;
	uint64_t link, other;

	test_start(TEST_TIMEOUT_MS);
	test_box_init(&tb);
	fds0 = tdaemon_fd_count(getpid());
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_uint_ne(link = agent_link_open(sv[0]), 0);
	fa = test_attach(link, NULL, 0);
	fb = test_attach(link, kb, sizeof(kb));
	agentmsg_build_simple(reply, AGENTMSG_REQUEST_IDENTITIES);
	test_write(fa, reply, AGENTMSG_HEADER);
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS),
	    AGENTMSG_HEADER);
	ck_assert_int_eq(agentmsg_build_identities(&ids, &answer, &alen), 0);
	test_write(sv[1], answer, alen);
	ck_assert_int_eq(test_read_msg(fa, reply, sizeof(reply), TEST_WAIT_MS),
			 (ssize_t)alen);
	free(answer);

	agent_link_close(link);
	/* The agent is let go while relays are still open. */
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS), 0);
	close(sv[1]);
	assert_failure(reply, test_ask_list(fa, reply, TEST_WAIT_MS));
	req = test_sign_req(kb, sizeof(kb), (const uint8_t *)"d", 1, &len);
	assert_failure(reply,
		       test_roundtrip(fb, req, len, reply, TEST_WAIT_MS));
	free(req);
	ck_assert_int_eq(agent_link_list(link, &tb.ib, 4), 0);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_int_eq(agent_list_result(m, &got, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "the client's agent was released");
	msg_free(m);
	ck_assert_uint_eq(
	    agent_relay_attach(link, AGENT_RELAY_AUTH, NULL, 0, &fd), 0);
	ck_assert_int_eq(fd, -1);
	/* Closed twice, or never opened: ignored. */
	agent_link_close(link);
	agent_link_close(link + 1000);
	test_wait_counts(2, 1);
	close(fa);
	test_wait_counts(1, 1);
	close(fb);
	test_wait_counts(0, 0);

	/* A link without relays goes at once. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_uint_ne(other = agent_link_open(sv[0]), 0);
	ck_assert_uint_ne(other, link);
	test_wait_counts(0, 1);
	agent_link_close(other);
	ck_assert_int_eq(
	    test_read_msg(sv[1], reply, sizeof(reply), TEST_WAIT_MS), 0);
	close(sv[1]);
	test_wait_counts(0, 0);
	ck_assert_int_eq(tdaemon_fd_count(getpid()), fds0);
	agent_stop();
	test_box_free(&tb);
}
END_TEST

/*
 * A hung agent on a shared link: the request at it fails at AgentTimeout,
 * the other relay's queued behind it fails with it, and after that both
 * relays and the link's listing fail at once.
 */
START_TEST(test_link_hung)
{
	uint8_t req[AGENTMSG_HEADER], reply[TEST_MAX_MSG];
	struct agentmsg_identities ids;
	char err[AGENT_MAX_ERR], want[AGENT_MAX_ERR];
	int listener, accepted, fa, fb;
	long long t0, ta, tbm;
	struct test_box tb;
	struct msg *m;
	uint64_t link;

	test_start(TEST_TIMEOUT_MS);
	test_box_init(&tb);
	link = agent_link_open(test_hung_agent(&listener, &accepted));
	ck_assert_uint_ne(link, 0);
	fa = test_attach(link, NULL, 0);
	fb = test_attach(link, NULL, 0);
	agentmsg_build_simple(req, AGENTMSG_REQUEST_IDENTITIES);
	t0 = testutil_now_ms();
	test_write(fa, req, sizeof(req));
	test_write(fb, req, sizeof(req));
	assert_failure(reply,
		       test_read_msg(fa, reply, sizeof(reply), TEST_WAIT_MS));
	ta = testutil_now_ms() - t0;
	assert_failure(reply,
		       test_read_msg(fb, reply, sizeof(reply), TEST_WAIT_MS));
	tbm = testutil_now_ms() - t0;
	fprintf(stderr,
		"hung shared link: FAILURE after %lld ms and %lld ms "
		"(AgentTimeout %d ms)\n",
		ta, tbm, TEST_TIMEOUT_MS);
	ck_assert_int_ge(ta, TEST_TIMEOUT_MS - 10);
	ck_assert_int_le(ta, TEST_TIMEOUT_MS + TEST_SLACK_MS);
	ck_assert_int_le(tbm, TEST_TIMEOUT_MS + TEST_SLACK_MS);

	t0 = testutil_now_ms();
	assert_failure(reply, test_ask_list(fa, reply, TEST_WAIT_MS));
	assert_failure(reply, test_ask_list(fb, reply, TEST_WAIT_MS));
	ck_assert_int_eq(agent_link_list(link, &tb.ib, 8), 0);
	m = test_box_wait(&tb, TEST_WAIT_MS);
	ck_assert_int_lt(testutil_now_ms() - t0, TEST_FAST_MS);
	ck_assert_int_eq(agent_list_result(m, &ids, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "agent did not answer within %d ms",
		 TEST_TIMEOUT_MS);
	ck_assert_str_eq(err, want);
	msg_free(m);
	/* The agent saw the first request only, then was closed. */
	ck_assert_int_eq(read(accepted, reply, sizeof(reply)), AGENTMSG_HEADER);
	ck_assert_int_eq(read(accepted, reply, sizeof(reply)), 0);
	close(fa);
	close(fb);
	agent_link_close(link);
	test_wait_counts(0, 0);
	close(accepted);
	close(listener);
	agent_stop();
	test_box_free(&tb);
}
END_TEST

/* A link counts against max_relays, as a relay does; a closed one makes
 * room again. */
START_TEST(test_link_limit)
{
	struct agent_limits lim = {TEST_TIMEOUT_MS, 2, 1};
	uint64_t link, r;
	int fa, fd;

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	ck_assert_int_eq(agent_start(&lim), 0);
	ck_assert_uint_ne(link = agent_link_open(test_connect_agent()), 0);
	ck_assert_uint_ne(
	    r = agent_relay_attach(link, AGENT_RELAY_AUTH, NULL, 0, &fa), 0);
	ck_assert_uint_eq(
	    agent_relay_attach(link, AGENT_RELAY_AUTH, NULL, 0, &fd), 0);
	ck_assert_int_eq(fd, -1);
	ck_assert_uint_eq(agent_link_open(test_connect_agent()), 0);
	ck_assert_uint_eq(
	    agent_relay_open(test_connect_agent(), AGENT_RELAY_AUTH, &fd), 0);
	agent_relay_close(r);
	test_wait_counts(0, 1);
	ck_assert_uint_ne(
	    agent_relay_attach(link, AGENT_RELAY_AUTH, NULL, 0, &fd), 0);
	close(fa);
	close(fd);
	test_wait_counts(0, 1);
	/* After agent_stop nothing opens; a held link is freed by it. */
	agent_stop();
	ck_assert_int_eq(agent_links(), 0);
	ck_assert_uint_eq(agent_link_open(test_connect_agent()), 0);
	ck_assert_uint_eq(
	    agent_relay_attach(link, AGENT_RELAY_AUTH, NULL, 0, &fd), 0);
	ck_assert_int_eq(agent_link_list(link, NULL, 0), -1);
}
END_TEST

/* Framing at and around its limits. */
START_TEST(test_msg_frame)
{
	uint8_t b[8] = {0, 0, 0, 1, 5, 0xff};
	size_t len = 0;

	ck_assert_int_eq(agentmsg_frame(b, 0, &len), AGENTMSG_FRAME_MORE);
	ck_assert_int_eq(agentmsg_frame(b, 3, &len), AGENTMSG_FRAME_MORE);
	ck_assert_int_eq(agentmsg_frame(b, 4, &len), AGENTMSG_FRAME_MORE);
	ck_assert_int_eq(agentmsg_frame(b, 5, &len), AGENTMSG_FRAME_OK);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(agentmsg_frame(b, 6, &len), AGENTMSG_FRAME_OK);
	ck_assert_uint_eq(len, 5);
	b[3] = 0;
	ck_assert_int_eq(agentmsg_frame(b, 6, &len), AGENTMSG_FRAME_BAD);
	/* AGENTMSG_MAX_LEN is allowed, one more is not. */
	b[1] = 0x04;
	ck_assert_int_eq(agentmsg_frame(b, 6, &len), AGENTMSG_FRAME_MORE);
	b[3] = 1;
	ck_assert_int_eq(agentmsg_frame(b, 6, &len), AGENTMSG_FRAME_BAD);
	b[0] = 0xff;
	ck_assert_int_eq(agentmsg_frame(b, 6, &len), AGENTMSG_FRAME_BAD);
	ck_assert_int_eq(agentmsg_type(b, 4), -1);
}
END_TEST

/* Every request type's class. */
START_TEST(test_msg_classify)
{
	static const struct {
		uint8_t type;
		enum agentmsg_class cls;
	} t[] = {
	    {11, AGENTMSG_C_LIST},       {13, AGENTMSG_C_SIGN},
	    {17, AGENTMSG_C_ADD},        {25, AGENTMSG_C_ADD},
	    {20, AGENTMSG_C_ADD},        {26, AGENTMSG_C_ADD},
	    {18, AGENTMSG_C_REMOVE},     {21, AGENTMSG_C_REMOVE},
	    {19, AGENTMSG_C_REMOVE_ALL}, {9, AGENTMSG_C_REMOVE_ALL},
	    {22, AGENTMSG_C_LOCK},       {23, AGENTMSG_C_UNLOCK},
	    {5, AGENTMSG_C_REPLY},       {6, AGENTMSG_C_REPLY},
	    {12, AGENTMSG_C_REPLY},      {14, AGENTMSG_C_REPLY},
	    {28, AGENTMSG_C_REPLY},      {1, AGENTMSG_C_OTHER},
	    {0, AGENTMSG_C_OTHER},       {255, AGENTMSG_C_OTHER},
	    {27, AGENTMSG_C_OTHER}, /* an extension without a name */
	};
	static const uint8_t bind[] = {
	    0,   0,   0,   29,  27,  0,   0,   0,   24,  's', 'e',
	    's', 's', 'i', 'o', 'n', '-', 'b', 'i', 'n', 'd', '@',
	    'o', 'p', 'e', 'n', 's', 's', 'h', '.', 'c', 'o', 'm'};
	static const uint8_t query[] = {0, 0, 0,   10,  27,  0,   0,
					0, 5, 'q', 'u', 'e', 'r', 'y'};
	uint8_t m[AGENTMSG_HEADER];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		agentmsg_build_simple(m, t[i].type);
		ck_assert_msg(agentmsg_classify(m, sizeof(m)) == t[i].cls,
			      "type %d", t[i].type);
	}
	ck_assert_int_eq(agentmsg_classify(bind, sizeof(bind)),
			 AGENTMSG_C_SESSION_BIND);
	ck_assert_int_eq(agentmsg_classify(query, sizeof(query)),
			 AGENTMSG_C_EXTENSION);
	/* A name longer than the message is no extension. */
	ck_assert_int_eq(agentmsg_classify(query, sizeof(query) - 1),
			 AGENTMSG_C_OTHER);
	ck_assert_str_eq(agentmsg_class_name(AGENTMSG_C_REMOVE_ALL),
			 "remove-all");
	ck_assert_str_eq(agentmsg_class_name((enum agentmsg_class)99), "other");
}
END_TEST

/* A listing round-trips; every truncation of it and every lying length
 * is refused. */
START_TEST(test_msg_identities)
{
	static const uint8_t k1[] = {1, 2, 3}, k2[] = {4, 5, 6, 7};
	struct agentmsg_identity v[2] = {
	    {k1, sizeof(k1), NULL, 0},
	    {k2, sizeof(k2), (const uint8_t *)"two", 3}};
	struct agentmsg_identities in = {2, v}, out;
	char err[AGENTMSG_MAX_ERR];
	uint8_t *msg, *copy;
	size_t len, i;

	ck_assert_int_eq(agentmsg_build_identities(&in, &msg, &len), 0);
	ck_assert_int_eq(
	    agentmsg_parse_identities(msg, len, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_mem_eq(out.v[1].blob, k2, sizeof(k2));
	ck_assert_uint_eq(out.v[1].comment_len, 3);
	ck_assert_mem_eq(out.v[1].comment, "two", 3);
	agentmsg_identities_free(&out);

	/* Shorter: the length field is fixed to match, the content is cut. */
	copy = malloc(len + 1);
	for (i = AGENTMSG_HEADER; i < len; i++) {
		memcpy(copy, msg, i);
		copy[3] = (uint8_t)(i - 4);
		ck_assert_msg(agentmsg_parse_identities(copy, i, &out, err,
							sizeof(err)) == -1,
			      "cut at %zu accepted", i);
		ck_assert_ptr_null(out.v);
	}
	/* A byte more is trailing garbage. */
	memcpy(copy, msg, len);
	copy[len] = 0;
	copy[3]++;
	ck_assert_int_eq(
	    agentmsg_parse_identities(copy, len + 1, &out, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "identities: 1 trailing bytes");
	/* A count the message cannot hold. */
	memcpy(copy, msg, len);
	copy[8] = 200;
	ck_assert_int_eq(
	    agentmsg_parse_identities(copy, len, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "identities: bad count 200");
	/* A blob length past the end. */
	memcpy(copy, msg, len);
	copy[10] = 0xff;
	ck_assert_int_eq(
	    agentmsg_parse_identities(copy, len, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "identities: bad key 0");
	/* Not a listing at all. */
	ck_assert_int_eq(
	    agentmsg_parse_identities(msg, len - 1, &out, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "bad message length");
	free(copy);
	free(msg);
}
END_TEST

/* The identity, blob and comment limits. */
START_TEST(test_msg_limits)
{
	static uint8_t big[AGENTMSG_MAX_BLOB + 1];
	struct agentmsg_identity *v;
	struct agentmsg_identities in, out;
	char err[AGENTMSG_MAX_ERR];
	uint8_t *msg;
	size_t len, i;

	v = calloc(AGENTMSG_MAX_IDENTITIES + 1, sizeof(*v));
	for (i = 0; i <= AGENTMSG_MAX_IDENTITIES; i++) {
		v[i].blob = big;
		v[i].blob_len = 1;
	}
	in.v = v;
	in.n = AGENTMSG_MAX_IDENTITIES;
	ck_assert_int_eq(agentmsg_build_identities(&in, &msg, &len), 0);
	ck_assert_int_eq(
	    agentmsg_parse_identities(msg, len, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.n, AGENTMSG_MAX_IDENTITIES);
	agentmsg_identities_free(&out);
	/* One more, written by hand: the builder refuses it too. */
	in.n++;
	ck_assert_int_eq(agentmsg_build_identities(&in, &msg, &len), -1);
	in.n = 1;
	v[0].blob_len = AGENTMSG_MAX_BLOB + 1;
	ck_assert_int_eq(agentmsg_build_identities(&in, &msg, &len), -1);
	v[0].blob_len = 1;
	v[0].comment = big;
	v[0].comment_len = AGENTMSG_MAX_COMMENT + 1;
	ck_assert_int_eq(agentmsg_build_identities(&in, &msg, &len), -1);
	free(msg);

	/* Over the limits on the wire. */
	len = 4 + 1 + 4 + (AGENTMSG_MAX_IDENTITIES + 1) * 9;
	msg = calloc(1, len);
	msg[1] = (uint8_t)((len - 4) >> 16);
	msg[2] = (uint8_t)((len - 4) >> 8);
	msg[3] = (uint8_t)(len - 4);
	msg[4] = AGENTMSG_IDENTITIES_ANSWER;
	msg[7] = (AGENTMSG_MAX_IDENTITIES + 1) >> 8;
	msg[8] = (AGENTMSG_MAX_IDENTITIES + 1) & 0xff;
	for (i = 0; i <= AGENTMSG_MAX_IDENTITIES; i++)
		msg[9 + i * 9 + 3] = 1; /* blob of 1 byte, empty comment */
	ck_assert_int_eq(
	    agentmsg_parse_identities(msg, len, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "identities: bad count 1025");
	free(msg);
	free(v);
}
END_TEST

START_TEST(test_msg_sign)
{
	static const uint8_t key[] = {9, 9}, data[] = {1, 2, 3, 4, 5};
	struct agentmsg_sign_request in = {key, sizeof(key), data, sizeof(data),
					   4},
				     out;
	static const uint8_t resp[] = {0, 0, 0, 8,   14,  0,
				       0, 0, 3, 'S', 'I', 'G'};
	char err[AGENTMSG_MAX_ERR];
	const uint8_t *sig;
	uint8_t *msg;
	size_t len, slen;

	ck_assert_int_eq(agentmsg_build_sign_request(&in, &msg, &len), 0);
	ck_assert_uint_eq(len, 4 + 1 + 4 + 2 + 4 + 5 + 4);
	ck_assert_int_eq(
	    agentmsg_parse_sign_request(msg, len, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.flags, 4);
	ck_assert_uint_eq(out.data_len, sizeof(data));
	ck_assert_mem_eq(out.data, data, sizeof(data));
	/* Without its flags. */
	msg[3] -= 4;
	ck_assert_int_eq(
	    agentmsg_parse_sign_request(msg, len - 4, &out, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "sign request: bad flags");
	free(msg);
	in.blob_len = 0;
	ck_assert_int_eq(agentmsg_build_sign_request(&in, &msg, &len), -1);

	ck_assert_int_eq(agentmsg_parse_sign_response(resp, sizeof(resp), &sig,
						      &slen, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(slen, 3);
	ck_assert_mem_eq(sig, "SIG", 3);
	ck_assert_int_eq(agentmsg_parse_sign_response(resp, sizeof(resp) - 1,
						      &sig, &slen, err,
						      sizeof(err)),
			 -1);
	ck_assert_int_eq(agentmsg_parse_sign_request(resp, sizeof(resp), &out,
						     err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "message type 14, expected 13");
}
END_TEST

/* Write text to a config file in a new directory and load it. */
static struct config *
test_load(const char *text, struct config_errors *errs)
{
	char d[] = "/tmp/test_agent_conf.XXXXXX", path[64];
	struct config *cfg;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(d));
	snprintf(path, sizeof(path), "%s/c", d);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	cfg = config_load(path, errs);
	unlink(path);
	rmdir(d);
	return cfg;
}

/* AgentTimeout: its default is the broker's, its range is enforced. */
START_TEST(test_config_agent_timeout)
{
	static const struct {
		const char *text;
		int ms; /* -1: refused */
	} t[] = {
	    {"", AGENT_DEFAULT_TIMEOUT_MS}, {"AgentTimeout 2s\n", 2000},
	    {"AgentTimeout 100ms\n", 100},  {"AgentTimeout 10m\n", 600000},
	    {"AgentTimeout 99ms\n", -1},    {"AgentTimeout 601\n", -1},
	    {"AgentTimeout 0\n", -1},
	};
	struct config_errors errs = {NULL, 0};
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cfg = test_load(t[i].text, &errs);
		if (t[i].ms == -1) {
			ck_assert_msg(cfg == NULL, "%s accepted", t[i].text);
			ck_assert_uint_eq(errs.n, 1);
			ck_assert_ptr_nonnull(strstr(
			    errs.lines[0], "is out of range (100ms..10m)"));
		} else {
			ck_assert_msg(cfg != NULL, "%s: %s", t[i].text,
				      errs.n > 0 ? errs.lines[0] : "");
			ck_assert_int_eq(config_agent_timeout_ms(cfg), t[i].ms);
			config_free(cfg);
		}
		config_errors_free(&errs);
	}
}
END_TEST

static Suite *
agent_suite(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("msg"), *live = tcase_create("broker");

	tcase_add_test(tc, test_msg_frame);
	tcase_add_test(tc, test_msg_classify);
	tcase_add_test(tc, test_msg_identities);
	tcase_add_test(tc, test_msg_limits);
	tcase_add_test(tc, test_msg_sign);
	tcase_add_test(tc, test_config_agent_timeout);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(live, agent_fixture_up, agent_fixture_down);
	tcase_add_test(live, test_list_through_relay);
	tcase_add_test(live, test_sign_through_relay);
	tcase_add_test(live, test_forward_filter);
	tcase_add_test(live, test_hung_agent_bounded);
	tcase_add_test(live, test_forward_malformed);
	tcase_add_test(live, test_many_relays);
	tcase_add_test(live, test_agent_garbage);
	tcase_add_test(live, test_agent_eof);
	tcase_add_test(live, test_cached_listing);
	tcase_add_test(live, test_stop_with_pending);
	tcase_add_test(live, test_relay_limit);
	tcase_add_test(live, test_bad_client);
	tcase_add_test(live, test_link_shared);
	tcase_add_test(live, test_link_turns);
	tcase_add_test(live, test_link_pinned);
	tcase_add_test(live, test_link_pinned_real);
	tcase_add_test(live, test_link_list_once);
	tcase_add_test(live, test_link_close);
	tcase_add_test(live, test_link_hung);
	tcase_add_test(live, test_link_limit);
	suite_add_tcase(s, live);
	return s;
}

int
main(void)
{
	/* The relay's end may be closed under a write of a test. */
	signal(SIGPIPE, SIG_IGN);
	return testutil_run(agent_suite());
}
