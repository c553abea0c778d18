/* SPDX-License-Identifier: ISC */
/*
 * Tests of the access policy: AllowUsers/AllowGroups admission, the
 * UserHosts/GroupHosts decisions per host, the kind of rule named in
 * messages, and when account lookups happen: once per configuration, none
 * per client request or host.  A client's view follows a new policy (a
 * reload).  Configuration files live in a fresh mkdtemp directory.
 */
#include <sys/types.h>

#include <check.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control/policy.h"
#include "jump.h"
#include "testutil.h"

#define TEST_NOBODY "nobody"
#define TEST_HOSTS 10000
#define TEST_UNKNOWN_GROUPS 20

static char tmpdir[64];
static char conf_path[PATH_MAX];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_policy.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(conf_path, sizeof(conf_path), "%s/sshpoold.conf", tmpdir);
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("STATE_DIRECTORY");
}

static void
teardown(void)
{
	/* Tests that dropped privileges get them back to clean up. */
	if (seteuid(getuid()) != 0)
		return;
	unlink(conf_path);
	rmdir(tmpdir);
}

/* Load text that must load cleanly. */
static struct config *
load_ok(const char *text)
{
	struct config_errors errs = {NULL, 0};
	struct config *cfg;
	FILE *f = fopen(conf_path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
	cfg = config_load(conf_path, &errs);
	if (errs.n > 0)
		ck_abort_msg("unexpected error: %s", errs.lines[0]);
	ck_assert_ptr_nonnull(cfg);
	config_errors_free(&errs);
	return cfg;
}

/*
 * A stand-in for the account databases that counts its calls: "alice" is
 * uid 4242, "ops" gid 4343, every other name is unknown.
 */
static size_t lookups;

static int
count_lookup(const char *name, int is_group, unsigned long long *id)
{
	lookups++;
	if (!is_group && strcmp(name, "alice") == 0) {
		*id = 4242;
		return 0;
	}
	if (is_group && strcmp(name, "ops") == 0) {
		*id = 4343;
		return 0;
	}
	return -1;
}

/*
 * A client as the daemon sees it: uid 4242 is "alice", nobody's uid
 * "nobody", any other uid "u<uid>"; gid 4343 is "ops", any other gid
 * "g<gid>".  The names live until the next call but one.
 */
static const struct policy_client *
cl(uid_t uid, const gid_t *gids, size_t ngids)
{
	static struct policy_client c[2];
	static char users[2][32], names[2][16][32];
	static char *groups[2][16];
	static int n;
	struct passwd *pw = getpwnam(TEST_NOBODY);
	size_t i;

	n = !n;
	ck_assert_uint_le(ngids, 16);
	if (uid == 4242)
		snprintf(users[n], sizeof(users[n]), "alice");
	else if (pw != NULL && uid == pw->pw_uid)
		snprintf(users[n], sizeof(users[n]), TEST_NOBODY);
	else
		snprintf(users[n], sizeof(users[n]), "u%u", (unsigned)uid);
	for (i = 0; i < ngids; i++) {
		if (gids[i] == 4343)
			snprintf(names[n][i], sizeof(names[n][i]), "ops");
		else
			snprintf(names[n][i], sizeof(names[n][i]), "g%u",
				 (unsigned)gids[i]);
		groups[n][i] = names[n][i];
	}
	c[n].uid = uid;
	c[n].user = users[n];
	c[n].gids = gids;
	c[n].groups = groups[n];
	c[n].ngids = ngids;
	c[n].groups_partial = 0;
	return &c[n];
}

/* A host decision for a request naming no user. */
static int
host_ok(const struct policy *pol, const struct policy_view *v, const char *host)
{
	return policy_allows(pol, v, host, "deploy", "deploy") == POLICY_OK;
}

/* One decision for a client of its own: a fresh view, used once. */
static int
allows(const struct policy *pol, uid_t uid, const gid_t *gids, size_t ngids,
       const char *host)
{
	struct policy_view *view = NULL;
	int ok;

	ok = host_ok(pol, policy_view_update(&view, pol, cl(uid, gids, ngids)),
		     host);
	policy_view_free(view);
	return ok;
}

static const char *
kind(const struct policy *pol, uid_t uid, const gid_t *gids, size_t ngids)
{
	struct policy_view *view = NULL;
	const char *k;

	k = policy_view_kind(
	    policy_view_update(&view, pol, cl(uid, gids, ngids)));
	policy_view_free(view);
	return k;
}

/* The uid of "nobody". */
static uid_t
nobody_uid(void)
{
	struct passwd *pw = getpwnam(TEST_NOBODY);

	return pw != NULL ? pw->pw_uid : (uid_t)-1;
}

START_TEST(test_policy_allows)
{
	struct config *cfg;
	struct policy *pol;
	uid_t nobody = nobody_uid();
	gid_t g4343[] = {4343}, both[] = {1, 4343}, none[] = {7};

	/* No rules: everyone everywhere. */
	cfg = load_ok("Port 22\n");
	pol = policy_new(cfg, NULL);
	ck_assert_int_eq(allows(pol, 5000, NULL, 0, "x"), 1);
	policy_free(pol);
	config_free(cfg);

	ck_assert_uint_ne(nobody, (uid_t)-1);
	cfg = load_ok("UserHosts " TEST_NOBODY " web-* !web-test\n"
		      "UserHosts 4242 db*\n"
		      "GroupHosts 4343 cache*\n"
		      "UserHosts 0 nothing\n"
		      "UserHosts no-such-user-sshpool web*\n"
		      "GroupHosts no-such-group-sshpool web*\n");
	pol = policy_new(cfg, NULL);
	/* By name. */
	ck_assert_int_eq(allows(pol, nobody, NULL, 0, "web-1"), 1);
	ck_assert_int_eq(allows(pol, nobody, NULL, 0, "WEB-2"), 1);
	ck_assert_int_eq(allows(pol, nobody, NULL, 0, "web-test"), 0);
	ck_assert_int_eq(allows(pol, nobody, NULL, 0, "db1"), 0);
	ck_assert_int_eq(allows(pol, nobody, NULL, 0, "other"), 0);
	/* By number; rules of the user and its groups add up. */
	ck_assert_int_eq(allows(pol, 4242, none, 1, "db1"), 1);
	ck_assert_int_eq(allows(pol, 4242, none, 1, "web-1"), 0);
	ck_assert_int_eq(allows(pol, 4242, both, 2, "cache1"), 1);
	ck_assert_int_eq(allows(pol, 4242, both, 2, "db2"), 1);
	ck_assert_int_eq(allows(pol, 4242, both, 2, "web"), 0);
	ck_assert_int_eq(allows(pol, 5000, g4343, 1, "cache"), 1);
	ck_assert_int_eq(allows(pol, 5000, g4343, 1, "db1"), 0);
	/* Not named (unknown names match nobody): no limit. */
	ck_assert_int_eq(allows(pol, 5000, none, 1, "db1"), 1);
	ck_assert_int_eq(allows(pol, 5000, NULL, 0, "a"), 1);
	/* Root and the daemon's own user are never limited. */
	ck_assert_int_eq(allows(pol, 0, NULL, 0, "db1"), 1);
	ck_assert_int_eq(allows(pol, geteuid(), NULL, 0, "anything"), 1);
	policy_free(pol);
	config_free(cfg);

	/* Group names, and the daemon's own user when it is not root. */
	if (getgrnam("nogroup") != NULL) {
		gid_t ng[] = {getgrnam("nogroup")->gr_gid};

		cfg = load_ok("GroupHosts nogroup gw*\n");
		pol = policy_new(cfg, NULL);
		ck_assert_int_eq(allows(pol, 5000, ng, 1, "gw1"), 1);
		ck_assert_int_eq(allows(pol, 5000, ng, 1, "x"), 0);
		ck_assert_int_eq(allows(pol, 5000, none, 1, "x"), 1);
		policy_free(pol);
		config_free(cfg);
	}
	if (geteuid() == 0) {
		cfg = load_ok("UserHosts 4242 db*\n");
		pol = policy_new(cfg, NULL);
		ck_assert_int_eq(allows(pol, 4242, NULL, 0, "x"), 0);
		ck_assert_int_eq(seteuid(4242), 0);
		ck_assert_int_eq(allows(pol, 4242, NULL, 0, "x"), 1);
		ck_assert_int_eq(seteuid(0), 0);
		policy_free(pol);
		config_free(cfg);
	}
}
END_TEST

/*
 * Rules match the name a request gives, never the HostName it connects
 * to: allowing a name allows its HostName's machine by that name only.
 */
START_TEST(test_policy_hostname)
{
	struct config *cfg;
	struct policy *pol;

	cfg = load_ok("UserHosts 4242 web1 *.prod\n"
		      "Host web1\n"
		      "\tHostName 10.0.0.9\n"
		      "Host *.prod\n"
		      "\tHostName %h.example.net\n");
	pol = policy_new(cfg, NULL);
	ck_assert_int_eq(allows(pol, 4242, NULL, 0, "web1"), 1);
	ck_assert_int_eq(allows(pol, 4242, NULL, 0, "10.0.0.9"), 0);
	ck_assert_int_eq(allows(pol, 4242, NULL, 0, "a.prod"), 1);
	ck_assert_int_eq(allows(pol, 4242, NULL, 0, "a.prod.example.net"), 0);
	policy_free(pol);
	config_free(cfg);
}
END_TEST

/*
 * Jump hosts pass the rules as targets do: a chain is allowed only when
 * every hop is, logging in as the hop's user; the first refused hop is
 * named.
 */
START_TEST(test_policy_hops)
{
	struct jump_hop hops[3];
	struct policy_view *view = NULL;
	const struct policy_view *v;
	struct config *cfg;
	struct policy *pol;
	size_t which = 99;

	memset(hops, 0, sizeof(hops));
	snprintf(hops[0].host, sizeof(hops[0].host), "bastion");
	snprintf(hops[0].user, sizeof(hops[0].user), "jumper");
	hops[0].def_user = "jumper";
	snprintf(hops[1].host, sizeof(hops[1].host), "gw2");
	snprintf(hops[1].user, sizeof(hops[1].user), "deploy");
	hops[1].def_user = "deploy";
	snprintf(hops[2].host, sizeof(hops[2].host), "inner-gw");
	snprintf(hops[2].user, sizeof(hops[2].user), "root");
	hops[2].def_user = "deploy";

	cfg = load_ok("UserHosts 4242 web* bastion gw*\n"
		      "UserHosts 4242 inner-gw users=deploy\n");
	pol = policy_new(cfg, NULL);
	v = policy_view_update(&view, pol, cl(4242, NULL, 0));
	ck_assert_int_eq(policy_allows_hops(pol, v, hops, 0, &which),
			 POLICY_OK);
	ck_assert_int_eq(policy_allows_hops(pol, v, hops, 2, &which),
			 POLICY_OK);
	ck_assert_uint_eq(which, 99);
	/* inner-gw as root: its rule allows only deploy. */
	ck_assert_int_eq(policy_allows_hops(pol, v, hops, 3, &which),
			 POLICY_USER);
	ck_assert_uint_eq(which, 2);
	/* A hop no rule allows, whatever comes after it. */
	snprintf(hops[1].host, sizeof(hops[1].host), "db-gw");
	ck_assert_int_eq(policy_allows_hops(pol, v, hops, 3, &which),
			 POLICY_HOST);
	ck_assert_uint_eq(which, 1);
	policy_view_free(view);
	view = NULL;

	/* A client no rule names, and root: every hop. */
	v = policy_view_update(&view, pol, cl(5000, NULL, 0));
	ck_assert_int_eq(policy_allows_hops(pol, v, hops, 3, &which),
			 POLICY_OK);
	policy_view_free(view);
	view = NULL;
	v = policy_view_update(&view, pol, cl(0, NULL, 0));
	ck_assert_int_eq(policy_allows_hops(pol, v, hops, 3, &which),
			 POLICY_OK);
	policy_view_free(view);
	policy_free(pol);
	config_free(cfg);
}
END_TEST

/* policy_access_allows on a policy compiled from text. */
static int
access_c(const char *text, const struct policy_client *c)
{
	struct config *cfg = load_ok(text);
	struct policy *pol = policy_new(cfg, NULL);
	char why[128] = "";
	int ok = policy_access_allows(pol, c, why, sizeof(why));

	ck_assert_msg(ok || why[0] != '\0', "refused without a reason");
	policy_free(pol);
	config_free(cfg);
	return ok;
}

static int
access_allows(const char *text, uid_t uid, const gid_t *gids, size_t ngids)
{
	return access_c(text, cl(uid, gids, ngids));
}

/*
 * sshd_config's meaning: DenyUsers, AllowUsers, DenyGroups, AllowGroups in
 * that order, a client must pass every list that is set; entries are
 * patterns with "*" and "?" (numeric entries are ids).
 */
START_TEST(test_access_allows)
{
	static const char lists[] =
	    "AllowUsers " TEST_NOBODY " 4242\nAllowGroups 4343\n";
	static const char unknown[] = "AllowUsers no-such-user-sshpool\n"
				      "AllowGroups no-such-group-sshpool\n";
	uid_t nobody = nobody_uid();
	gid_t g4343[] = {4343}, some[] = {1, 2, 3}, both[] = {1, 4343};
	struct policy_client c;

	ck_assert_uint_ne(nobody, (uid_t)-1);
	ck_assert_int_eq(access_allows("Port 22\n", 5000, NULL, 0), 1);
	ck_assert_int_eq(access_allows("Port 22\n", nobody, some, 3), 1);

	/* Both lists set: a user must match both. */
	ck_assert_int_eq(access_allows(lists, nobody, g4343, 1), 1);
	ck_assert_int_eq(access_allows(lists, 4242, both, 2), 1);
	ck_assert_int_eq(access_allows(lists, nobody, NULL, 0), 0);
	ck_assert_int_eq(access_allows(lists, 4242, some, 3), 0);
	ck_assert_int_eq(access_allows(lists, 5000, g4343, 1), 0);
	ck_assert_int_eq(access_allows(lists, 0, NULL, 0), 1);
	ck_assert_int_eq(access_allows(lists, geteuid(), NULL, 0), 1);

	/* Patterns, case-sensitive as sshd's. */
	ck_assert_int_eq(access_allows("AllowUsers al*\n", 4242, NULL, 0), 1);
	ck_assert_int_eq(access_allows("AllowUsers al?ce\n", 4242, NULL, 0), 1);
	ck_assert_int_eq(access_allows("AllowUsers Al*\n", 4242, NULL, 0), 0);
	ck_assert_int_eq(access_allows("AllowGroups o*\n", 5000, both, 2), 1);
	ck_assert_int_eq(access_allows("AllowGroups o*\n", 5000, some, 3), 0);

	/* Deny first, and it wins over Allow. */
	ck_assert_int_eq(
	    access_allows("DenyUsers alice\nAllowUsers *\n", 4242, NULL, 0), 0);
	ck_assert_int_eq(
	    access_allows("DenyUsers alice\nAllowUsers *\n", 5000, NULL, 0), 1);
	ck_assert_int_eq(access_allows("DenyUsers u*\n", 5000, NULL, 0), 0);
	ck_assert_int_eq(access_allows("DenyUsers 5000\n", 5000, NULL, 0), 0);
	ck_assert_int_eq(access_allows("DenyGroups ops\n", 5000, both, 2), 0);
	ck_assert_int_eq(access_allows("DenyGroups ops\n", 5000, some, 3), 1);
	ck_assert_int_eq(
	    access_allows("DenyGroups ops\nAllowGroups ops\n", 5000, both, 2),
	    0);
	ck_assert_int_eq(access_allows("DenyGroups 4343\n", 5000, both, 2), 0);

	/* Names that do not resolve let nobody in. */
	ck_assert_int_eq(access_allows(unknown, 5000, some, 3), 0);
	ck_assert_int_eq(access_allows(unknown, nobody, NULL, 0), 0);

	/* An account that cannot be looked up is refused by any list; a
	 * group without a name cannot be cleared by DenyGroups. */
	c = *cl(5000, some, 3);
	c.user = NULL;
	ck_assert_int_eq(access_c("DenyUsers nobody-else\n", &c), 0);
	ck_assert_int_eq(access_c("AllowUsers 5000\n", &c), 0);
	ck_assert_int_eq(access_c("Port 22\n", &c), 1);
	c = *cl(5000, some, 3);
	c.groups = NULL;
	ck_assert_int_eq(access_c("DenyGroups ops\n", &c), 0);
	ck_assert_int_eq(access_c("DenyGroups 4343\n", &c), 1);
	ck_assert_int_eq(access_c("AllowGroups g1\n", &c), 0);
	ck_assert_int_eq(access_c("AllowGroups 1\n", &c), 1);
	/* A group list cut short: DenyGroups cannot clear it. */
	c = *cl(5000, some, 3);
	c.groups_partial = 1;
	ck_assert_int_eq(access_c("DenyGroups ops\n", &c), 0);
	ck_assert_int_eq(access_c("AllowGroups g1\n", &c), 1);
	ck_assert_int_eq(access_c("AllowUsers u5000\n", &c), 1);

	/* The daemon's own user, when it is not root. */
	if (geteuid() == 0) {
		struct config *cfg = load_ok("AllowUsers 1\n");
		struct policy *pol = policy_new(cfg, NULL);
		char why[128];

		ck_assert_int_eq(policy_access_allows(pol, cl(nobody, NULL, 0),
						      why, sizeof(why)),
				 0);
		ck_assert_str_eq(why, "not listed in AllowUsers");
		ck_assert_int_eq(seteuid(nobody), 0);
		ck_assert_int_eq(policy_access_allows(pol, cl(nobody, NULL, 0),
						      why, sizeof(why)),
				 1);
		ck_assert_int_eq(seteuid(0), 0);
		policy_free(pol);
		config_free(cfg);
	}
}
END_TEST

/* The rules of the 10,000-host test: 20 unknown groups, then ops. */
static struct config *
load_unknown_groups(void)
{
	char *text = malloc((TEST_UNKNOWN_GROUPS + 1) * 64);
	struct config *cfg;
	size_t i, off = 0;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < TEST_UNKNOWN_GROUPS; i++)
		off += (size_t)sprintf(
		    text + off, "GroupHosts no-such-group-%zu web*\n", i);
	sprintf(text + off, "GroupHosts ops cache*\n");
	cfg = load_ok(text);
	free(text);
	return cfg;
}

/*
 * Names are looked up when the policy is compiled, once each; clients'
 * views and every host decision after that look nothing up.
 */
START_TEST(test_lookups_once)
{
	struct config *cfg = load_unknown_groups();
	struct policy_view *outsider = NULL, *member = NULL;
	const struct policy_view *v;
	gid_t none[] = {7}, ops[] = {7, 4343};
	struct policy *pol;
	char host[32];
	size_t i;

	lookups = 0;
	pol = policy_new(cfg, count_lookup);
	ck_assert_uint_eq(lookups, TEST_UNKNOWN_GROUPS + 1);
	lookups = 0;
	for (i = 0; i < TEST_HOSTS; i++) {
		snprintf(host, sizeof(host), "%s-%zu",
			 i % 2 == 0 ? "web" : "cache", i);
		/* Each request asks for the view again, as the daemon does. */
		v = policy_view_update(&outsider, pol, cl(5000, none, 1));
		ck_assert_int_eq(policy_view_limited(v), 0);
		ck_assert_int_eq(host_ok(pol, v, host), 1);
		v = policy_view_update(&member, pol, cl(5000, ops, 2));
		ck_assert_int_eq(policy_view_limited(v), 1);
		ck_assert_int_eq(host_ok(pol, v, host), i % 2 != 0);
	}
	ck_assert_uint_eq(lookups, 0);
	ck_assert_str_eq(policy_view_kind(member), "GroupHosts");
	policy_view_free(outsider);
	policy_view_free(member);
	policy_free(pol);

	/* The account databases agree: the unknown groups name nobody. */
	pol = policy_new(cfg, NULL);
	ck_assert_int_eq(allows(pol, 5000, none, 1, "web-1"), 1);
	policy_free(pol);
	config_free(cfg);
}
END_TEST

static int
access_ok(const struct policy *pol, uid_t uid, const gid_t *gids, size_t ngids)
{
	char why[128];

	return policy_access_allows(pol, cl(uid, gids, ngids), why,
				    sizeof(why));
}

/* Names resolve through the lookup, ids without it. */
START_TEST(test_names_resolved)
{
	struct config *cfg;
	struct policy *pol;
	gid_t ops[] = {4343}, none[] = {7};

	cfg = load_ok("UserHosts alice db*\nUserHosts 5000 app*\n"
		      "GroupHosts ops cache*\nAllowUsers alice 5000\n"
		      "AllowGroups ops\n");
	lookups = 0;
	pol = policy_new(cfg, count_lookup);
	/* alice and ops of the host rules; access lists match names */
	ck_assert_uint_eq(lookups, 2);
	ck_assert_int_eq(allows(pol, 4242, none, 1, "db1"), 1);
	ck_assert_int_eq(allows(pol, 4242, none, 1, "cache1"), 0);
	ck_assert_int_eq(allows(pol, 4242, ops, 1, "cache1"), 1);
	ck_assert_int_eq(allows(pol, 5000, none, 1, "app1"), 1);
	ck_assert_int_eq(allows(pol, 5000, none, 1, "db1"), 0);
	ck_assert_int_eq(access_ok(pol, 4242, ops, 1), 1);
	ck_assert_int_eq(access_ok(pol, 5000, ops, 1), 1);
	ck_assert_int_eq(access_ok(pol, 4242, none, 1), 0);
	ck_assert_int_eq(access_ok(pol, 6000, ops, 1), 0);
	ck_assert_uint_eq(lookups, 2);
	policy_free(pol);
	config_free(cfg);
}
END_TEST

/* The kind of rule that names a client, for "forbidden" messages. */
START_TEST(test_kind)
{
	struct config *cfg;
	struct policy *pol;
	gid_t ops[] = {4343}, none[] = {7};
	struct policy_view *view = NULL;

	cfg = load_ok("UserHosts alice db*\nGroupHosts ops cache*\n");
	pol = policy_new(cfg, count_lookup);
	ck_assert_str_eq(kind(pol, 4242, none, 1), "UserHosts");
	ck_assert_str_eq(kind(pol, 5000, ops, 1), "GroupHosts");
	ck_assert_str_eq(kind(pol, 4242, ops, 1), "UserHosts/GroupHosts");
	ck_assert_str_eq(kind(pol, 5000, none, 1), "UserHosts/GroupHosts");
	/* Root is named but never limited. */
	policy_view_update(&view, pol, cl(0, NULL, 0));
	ck_assert_int_eq(policy_view_limited(view), 0);
	policy_view_free(view);
	policy_free(pol);
	config_free(cfg);
}
END_TEST

/*
 * A reload compiles a new policy: a client's view made under the old one is
 * made again, even when the new policy has the old one's address; under the
 * same policy it is kept.
 */
START_TEST(test_reload_view)
{
	struct config *cfg;
	struct policy *pol;
	struct policy_view *view = NULL;
	const struct policy_view *v, *kept;
	gid_t ops[] = {4343};

	cfg = load_ok("UserHosts alice db*\n");
	pol = policy_new(cfg, count_lookup);
	v = policy_view_update(&view, pol, cl(4242, ops, 1));
	ck_assert_int_eq(host_ok(pol, v, "db1"), 1);
	ck_assert_int_eq(host_ok(pol, v, "web1"), 0);
	ck_assert_str_eq(policy_view_kind(v), "UserHosts");
	kept = policy_view_update(&view, pol, cl(4242, ops, 1));
	ck_assert_ptr_eq(kept, v);
	policy_free(pol);
	config_free(cfg);

	cfg = load_ok("GroupHosts ops web*\n");
	pol = policy_new(cfg, count_lookup);
	v = policy_view_update(&view, pol, cl(4242, ops, 1));
	ck_assert_int_eq(host_ok(pol, v, "db1"), 0);
	ck_assert_int_eq(host_ok(pol, v, "web1"), 1);
	ck_assert_str_eq(policy_view_kind(v), "GroupHosts");
	policy_free(pol);
	config_free(cfg);

	/* Rules dropped by a reload limit nobody. */
	cfg = load_ok("Port 22\n");
	pol = policy_new(cfg, count_lookup);
	v = policy_view_update(&view, pol, cl(4242, ops, 1));
	ck_assert_int_eq(policy_view_limited(v), 0);
	ck_assert_int_eq(host_ok(pol, v, "db1"), 1);
	policy_view_free(view);
	policy_free(pol);
	config_free(cfg);
}
END_TEST

/* Every name unknown: the account databases are down. */
static int
fail_lookup(const char *name, int is_group, unsigned long long *id)
{
	(void)name;
	(void)is_group;
	(void)id;
	return -1;
}

/*
 * Fail closed: a rule whose name did not resolve at load still names the
 * client of that name; a client whose account or groups cannot be looked
 * up may use no host; a restricted client logs in only as the host's User
 * unless users= allows more.
 */
START_TEST(test_fail_closed)
{
	struct config *cfg;
	struct policy *pol;
	struct policy_view *view = NULL;
	struct policy_client c;
	gid_t ops[] = {4343}, none[] = {7};

	cfg = load_ok("UserHosts alice web*\nGroupHosts ops cache*\n");
	pol = policy_new(cfg, fail_lookup);
	ck_assert_int_eq(allows(pol, 4242, none, 1, "web1"), 1);
	ck_assert_int_eq(allows(pol, 4242, none, 1, "db1"), 0);
	ck_assert_int_eq(allows(pol, 5000, ops, 1, "cache1"), 1);
	ck_assert_int_eq(allows(pol, 5000, ops, 1, "db1"), 0);
	ck_assert_int_eq(allows(pol, 5000, none, 1, "db1"), 1);
	/* No account: no host. */
	c = *cl(5000, none, 1);
	c.user = NULL;
	policy_view_update(&view, pol, &c);
	ck_assert_int_eq(policy_view_limited(view), 1);
	ck_assert_int_eq(policy_allows(pol, view, "web1", "d", "d"),
			 POLICY_UNKNOWN);
	policy_view_free(view);
	view = NULL;
	/* A group without a name, while a GroupHosts name is unresolved. */
	c = *cl(5000, none, 1);
	c.groups = NULL;
	policy_view_update(&view, pol, &c);
	ck_assert_int_eq(policy_allows(pol, view, "db1", "d", "d"),
			 POLICY_UNKNOWN);
	policy_view_free(view);
	view = NULL;
	policy_free(pol);
	config_free(cfg);

	/* A group list cut short, while a GroupHosts line exists; without
	 * one it does not matter. */
	cfg = load_ok("GroupHosts ops cache*\n");
	pol = policy_new(cfg, count_lookup);
	c = *cl(5000, none, 1);
	c.groups_partial = 1;
	policy_view_update(&view, pol, &c);
	ck_assert_int_eq(policy_allows(pol, view, "cache1", "d", "d"),
			 POLICY_UNKNOWN);
	policy_view_free(view);
	view = NULL;
	policy_free(pol);
	config_free(cfg);
	cfg = load_ok("UserHosts alice web*\n");
	pol = policy_new(cfg, count_lookup);
	policy_view_update(&view, pol, &c);
	ck_assert_int_eq(policy_view_limited(view), 0);
	policy_view_free(view);
	view = NULL;
	policy_free(pol);
	config_free(cfg);

	cfg = load_ok("UserHosts alice web* users=deploy,ww?\n"
		      "UserHosts alice db*\n");
	pol = policy_new(cfg, count_lookup);
	policy_view_update(&view, pol, cl(4242, none, 1));
	ck_assert_int_eq(policy_allows(pol, view, "web1", "deploy", "x"),
			 POLICY_OK);
	ck_assert_int_eq(policy_allows(pol, view, "web1", "www", "x"),
			 POLICY_OK);
	ck_assert_int_eq(policy_allows(pol, view, "web1", "root", "x"),
			 POLICY_USER);
	ck_assert_int_eq(policy_allows(pol, view, "db1", "x", "x"), POLICY_OK);
	ck_assert_int_eq(policy_allows(pol, view, "db1", "root", "x"),
			 POLICY_USER);
	ck_assert_int_eq(policy_allows(pol, view, "other", "x", "x"),
			 POLICY_HOST);
	policy_view_free(view);
	policy_free(pol);
	config_free(cfg);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_policy_allows);
	tcase_add_test(tc, test_policy_hostname);
	tcase_add_test(tc, test_policy_hops);
	tcase_add_test(tc, test_access_allows);
	tcase_add_test(tc, test_lookups_once);
	tcase_add_test(tc, test_names_resolved);
	tcase_add_test(tc, test_kind);
	tcase_add_test(tc, test_reload_view);
	tcase_add_test(tc, test_fail_closed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(policy_suite());
}
