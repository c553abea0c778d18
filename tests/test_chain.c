/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of jump host chains on the control side (daemon/jump.c and
 * the chain in daemon/host_params.c): which hops a target goes through,
 * each hop's own settings, the pool key naming the chain, and dup, equal
 * and free following it.  Configurations are written to a fresh mkdtemp
 * directory.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "jump.h"
#include "msg.h"
#include "testutil.h"

static char tmpdir[64];
static char conf_path[PATH_MAX];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sshpool-chain-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(conf_path, sizeof(conf_path), "%s/sshpoold.conf", tmpdir);
}

static void
teardown(void)
{
	unlink(conf_path);
	rmdir(tmpdir);
}

static struct config *
load(const char *text)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;
	FILE *f = fopen(conf_path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	cfg = config_load(conf_path, &errs);
	if (errs.n > 0)
		ck_abort_msg("unexpected error: %s", errs.lines[0]);
	ck_assert_ptr_nonnull(cfg);
	config_errors_free(&errs);
	return cfg;
}

static const char conf[] = "User u\n"
			   "ProxyJump global-gw\n"
			   "Host direct.prod\n"
			   "\tProxyJump none\n"
			   "Host inner.prod\n"
			   "\tProxyJump ops@b1:2222,bastion\n"
			   "Host *.prod\n"
			   "\tProxyJump bastion\n"
			   "Host bastion\n"
			   "\tHostName 203.0.113.10\n"
			   "\tUser jumper\n"
			   "\tPort 2200\n"
			   "\tIdentityFile /k/bastion\n"
			   "\tUserKnownHostsFile /k/bastion_known\n"
			   "\tMaxTunnelsPerSession 7\n"
			   "\tProxyJump not-followed\n"
			   "Host b1\n"
			   "\tMaxTunnelsPerSession 3\n";

/* The target's parameters as the control thread builds them. */
static struct host_params *
target(const struct config *cfg, const char *host, const char *req_jump)
{
	struct config_host_opts o;
	struct host_params *p;

	config_host(cfg, host, &o);
	p = host_params_new(&o, o.user, host, o.port);
	jump_chain(cfg, req_jump, p);
	return p;
}

/* One hop through a Host block of its own: HostName, User, Port, keys,
 * known_hosts and MaxTunnelsPerSession of the hop, its ProxyJump not
 * followed. */
START_TEST(test_one_hop)
{
	struct config *cfg = load(conf);
	struct host_params *p = target(cfg, "a.prod", NULL), *h;
	char *text;

	ck_assert_str_eq(p->key, "u@a.prod:22");
	ck_assert_str_eq(p->pool, "u@a.prod:22 via jumper@bastion:2200");
	ck_assert_ptr_nonnull(h = p->via);
	ck_assert_ptr_null(h->via);
	ck_assert_str_eq(h->host, "bastion");
	ck_assert_str_eq(h->hostname, "203.0.113.10");
	ck_assert_str_eq(h->user, "jumper");
	ck_assert_int_eq(h->port, 2200);
	ck_assert_uint_eq(h->n_identity_files, 1);
	ck_assert_str_eq(h->identity_files[0], "/k/bastion");
	ck_assert_str_eq(h->known_hosts_file, "/k/bastion_known");
	ck_assert_int_eq(h->max_tunnels, 7);
	ck_assert_ptr_null(h->cred);
	ck_assert_str_eq(h->pool, "jumper@bastion:2200");
	ck_assert_int_eq(p->max_tunnels, 64);
	text = host_params_jump_text(p);
	ck_assert_str_eq(text, "jumper@bastion:2200");
	free(text);
	ck_assert_ptr_null(host_params_jump_text(h));
	host_params_free(p);
	config_free(cfg);
}
END_TEST

/* Two hops: target->via is the last, its via the first; user and port of
 * the hop spec win over the hop's Host block. */
START_TEST(test_two_hops)
{
	struct config *cfg = load(conf);
	struct host_params *p = target(cfg, "inner.prod", NULL);
	char *text;

	ck_assert_str_eq(p->pool, "u@inner.prod:22 via jumper@bastion:2200 "
				  "via ops@b1:2222");
	ck_assert_str_eq(p->via->host, "bastion");
	ck_assert_str_eq(p->via->via->host, "b1");
	ck_assert_str_eq(p->via->via->user, "ops");
	ck_assert_int_eq(p->via->via->port, 2222);
	ck_assert_int_eq(p->via->via->max_tunnels, 3);
	ck_assert_ptr_null(p->via->via->via);
	text = host_params_jump_text(p);
	ck_assert_str_eq(text, "ops@b1:2222,jumper@bastion:2200");
	free(text);
	host_params_free(p);
	config_free(cfg);
}
END_TEST

/* none in a Host block beats the later global value; the request's jump
 * beats the configuration both ways. */
START_TEST(test_none_and_request)
{
	struct config *cfg = load(conf);
	struct host_params *p;

	p = target(cfg, "direct.prod", NULL);
	ck_assert_ptr_null(p->via);
	ck_assert_str_eq(p->pool, "u@direct.prod:22");
	host_params_free(p);

	p = target(cfg, "elsewhere", NULL);
	ck_assert_str_eq(p->pool, "u@elsewhere:22 via u@global-gw:22");
	host_params_free(p);

	p = target(cfg, "a.prod", "none");
	ck_assert_ptr_null(p->via);
	ck_assert_str_eq(p->pool, "u@a.prod:22");
	host_params_free(p);

	p = target(cfg, "direct.prod", "x@[::1]:2022,bastion:23");
	ck_assert_str_eq(p->pool, "u@direct.prod:22 via jumper@bastion:23 "
				  "via x@[::1]:2022");
	ck_assert_str_eq(p->via->via->host, "::1");
	ck_assert_str_eq(p->via->hostname, "203.0.113.10");
	host_params_free(p);
	config_free(cfg);
}
END_TEST

/* jump_hops: the chain with each hop's login and configured user. */
START_TEST(test_hops)
{
	struct config *cfg = load(conf);
	struct jump_hop hops[CONFIG_MAX_JUMP_HOPS];

	ck_assert_uint_eq(jump_hops(cfg, NULL, "inner.prod", hops), 2);
	ck_assert_str_eq(hops[0].host, "b1");
	ck_assert_str_eq(hops[0].user, "ops");
	ck_assert_str_eq(hops[0].def_user, "u");
	ck_assert_int_eq(hops[0].port, 2222);
	ck_assert_str_eq(hops[1].host, "bastion");
	ck_assert_str_eq(hops[1].user, "jumper");
	ck_assert_str_eq(hops[1].def_user, "jumper");
	ck_assert_int_eq(hops[1].port, 2200);
	ck_assert_uint_eq(jump_hops(cfg, NULL, "direct.prod", hops), 0);
	ck_assert_uint_eq(jump_hops(cfg, "none", "inner.prod", hops), 0);
	ck_assert_uint_eq(jump_hops(cfg, "a,b,c,d,e,f,g,h", "x", hops), 8);
	ck_assert_str_eq(hops[7].host, "h");
	/* Checked on the way in; should one not parse, it is direct. */
	ck_assert_uint_eq(jump_hops(cfg, "a,,b", "x", hops), 0);
	config_free(cfg);
}
END_TEST

/* A client's credential is the target's only: the hops keep the daemon's,
 * and the pool key names both. */
START_TEST(test_cred_target_only)
{
	struct config *cfg = load(conf);
	struct host_params *p, *d;
	struct cred *c;
	char why[128];

	cred_init();
	c = cred_new(1000, NULL, 0, "secret", 0, why, sizeof(why));
	ck_assert_msg(c != NULL, "%s", why);
	p = target(cfg, "a.prod", NULL);
	host_params_set_cred(p, c);
	ck_assert_ptr_null(p->via->cred);
	ck_assert_ptr_nonnull(strstr(p->pool, c->id));
	ck_assert_ptr_nonnull(strstr(p->pool, " via jumper@bastion:2200"));
	ck_assert_int_eq(strncmp(p->pool, "u@a.prod:22 ", 12), 0);
	d = host_params_dup(p);
	ck_assert_str_eq(d->pool, p->pool);
	ck_assert_ptr_eq(d->cred, c);
	ck_assert_ptr_null(d->via->cred);
	ck_assert(host_params_equal(p, d));
	host_params_free(d);
	host_params_free(p);
	cred_unref(c);
	config_free(cfg);
}
END_TEST

/* dup copies the chain deeply; equal compares it. */
START_TEST(test_dup_equal_free)
{
	struct config *cfg = load(conf);
	struct host_params *p = target(cfg, "inner.prod", NULL), *d, *q;

	d = host_params_dup(p);
	ck_assert_ptr_ne(d->via, p->via);
	ck_assert_ptr_ne(d->via->via, p->via->via);
	ck_assert_str_eq(d->pool, p->pool);
	ck_assert_str_eq(d->via->pool, p->via->pool);
	ck_assert_str_eq(d->via->hostname, "203.0.113.10");
	ck_assert_int_eq(d->via->max_tunnels, 7);
	ck_assert_int_eq(d->via->via->max_tunnels, 3);
	ck_assert(host_params_equal(p, d));

	/* A setting of a hop differs: the chain differs. */
	d->via->via->connect_timeout_ms++;
	ck_assert(!host_params_equal(p, d));
	d->via->via->connect_timeout_ms--;
	ck_assert(host_params_equal(p, d));
	d->via->max_tunnels = 8;
	ck_assert(!host_params_equal(p, d));
	host_params_free(d);

	/* Direct and through hops differ, both ways. */
	q = target(cfg, "inner.prod", "none");
	ck_assert(!host_params_equal(p, q));
	ck_assert(!host_params_equal(q, p));
	ck_assert_str_ne(p->pool, q->pool);
	host_params_free(q);
	/* Replacing the chain frees the old one. */
	host_params_set_via(p, NULL);
	ck_assert_str_eq(p->pool, "u@inner.prod:22");
	host_params_free(p);
	host_params_free(NULL);
	config_free(cfg);
}
END_TEST

static Suite *
chain_suite(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("chain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_one_hop);
	tcase_add_test(tc, test_two_hops);
	tcase_add_test(tc, test_none_and_request);
	tcase_add_test(tc, test_hops);
	tcase_add_test(tc, test_cred_target_only);
	tcase_add_test(tc, test_dup_equal_free);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(chain_suite());
}
