/* SPDX-License-Identifier: ISC */
/*
 * The access decisions of the control thread: DenyUsers, AllowUsers,
 * DenyGroups and AllowGroups when a client connects, with sshd_config's
 * meaning, and UserHosts and GroupHosts for every host of its requests.
 *
 * The connection lists match the client's login name and the names of its
 * groups against patterns ("*", "?", case-sensitive); a numeric entry
 * matches the id.  Deny comes first, then Allow, users then groups: a
 * client must pass every list that is set.
 *
 * A UserHosts or GroupHosts line names a client whose user (or one of
 * whose groups) has the line's name, or the id that name resolved to when
 * the configuration was loaded.  Everything fails closed: a client whose
 * account cannot be looked up is refused by any connection list and may
 * use no host while any host rule exists; a group without a name, or a
 * group list cut short, cannot be cleared by DenyGroups; a rule whose name did
 * not resolve still names whoever has that name when connecting.  Root and the
 * daemon's own user are never limited.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "jump.h"
#include "log.h"
#include "policy.h"
#include "xmalloc.h"

#define POLICY_PW_BUF_MIN 1024
#define POLICY_PW_BUF_MAX (1024 * 1024) /* getpwnam_r / getgrnam_r buffer */

/* One UserHosts or GroupHosts line. */
struct policy_rule {
	int is_group;
	int resolved; /* its name resolved to id when the policy was made */
	unsigned long long id;
	const char *name;
	char *const *patterns; /* the configuration's */
	size_t n_patterns;
	char *const *users; /* remote users allowed; none: the host's User */
	size_t n_users;
};

/* DenyUsers, AllowUsers, DenyGroups or AllowGroups. */
struct policy_list {
	char *const *entries; /* the configuration's */
	size_t n;
};

struct policy {
	/* Tells a view made under this policy from one made under an
	 * earlier policy that may have lived at the same address. */
	unsigned long generation;
	struct policy_rule *rules;
	size_t n_rules;
	int unresolved_groups; /* a GroupHosts name did not resolve */
	int group_rules;       /* a GroupHosts line exists */
	struct policy_list deny_users, allow_users, deny_groups, allow_groups;
};

struct policy_view {
	unsigned long generation; /* of the policy that made it */
	int privileged;
	int unknown;   /* who the client is cannot be told: no host */
	size_t *rules; /* indices of the rules that name the client */
	size_t n_rules;
	const char *kind;
};

static unsigned long policy_generations;

/* A numeric entry is an id; anything else is a name. */
static int
policy_is_id(const char *s, unsigned long long *id)
{
	const char *cp;

	for (cp = s; *cp != '\0'; cp++) {
		if (!isdigit((unsigned char)*cp))
			return 0;
	}
	if (cp == s)
		return 0;
	*id = strtoull(s, NULL, 10);
	return 1;
}

/* "*" and "?" against s, case-sensitive as account names are. */
static int
policy_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++resume;
		} else
			return 0;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int
policy_has_gid(unsigned long long id, const gid_t *gids, size_t ngids)
{
	size_t i;

	for (i = 0; i < ngids; i++) {
		if (id == (unsigned long long)gids[i])
			return 1;
	}
	return 0;
}

/* The account databases' answer for a user or group name. */
static int
policy_lookup_account(const char *name, int is_group, unsigned long long *id)
{
	struct passwd pw, *pwp;
	struct group gr, *grp;
	char *buf;
	long hint;
	size_t size;
	int rc;

	hint = sysconf(is_group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
	size = hint > POLICY_PW_BUF_MIN && hint <= POLICY_PW_BUF_MAX
		   ? (size_t)hint
		   : POLICY_PW_BUF_MIN;
	for (;;) {
		buf = xmalloc(size);
		if (is_group) {
			rc = getgrnam_r(name, &gr, buf, size, &grp);
			if (rc == 0 && grp != NULL)
				*id = gr.gr_gid;
		} else {
			rc = getpwnam_r(name, &pw, buf, size, &pwp);
			if (rc == 0 && pwp != NULL)
				*id = pw.pw_uid;
		}
		free(buf);
		if (rc == ERANGE && size < POLICY_PW_BUF_MAX) {
			size *= 2;
			continue;
		}
		if (rc != 0)
			return -1;
		return (is_group ? grp != NULL : pwp != NULL) ? 0 : -1;
	}
}

static int
policy_resolve(policy_lookup_fn *lookup, const char *name, int is_group,
	       unsigned long long *id)
{
	if (policy_is_id(name, id))
		return 0;
	return lookup(name, is_group, id);
}

struct policy *
policy_new(const struct config *cfg, policy_lookup_fn *lookup)
{
	const struct config_host_policy *p;
	struct policy_rule *r;
	struct policy *pol;
	size_t i;

	if (lookup == NULL)
		lookup = policy_lookup_account;
	pol = xcalloc(1, sizeof(*pol));
	pol->generation = ++policy_generations;
	pol->n_rules = cfg->n_policies;
	if (pol->n_rules > 0)
		pol->rules = xcalloc(pol->n_rules, sizeof(*pol->rules));
	for (i = 0; i < pol->n_rules; i++) {
		p = &cfg->policies[i];
		r = &pol->rules[i];
		r->is_group = p->is_group;
		r->name = p->name;
		r->resolved =
		    policy_resolve(lookup, p->name, p->is_group, &r->id) == 0;
		if (!r->resolved && r->is_group)
			pol->unresolved_groups = 1;
		if (r->is_group)
			pol->group_rules = 1;
		r->patterns = p->patterns;
		r->n_patterns = p->n_patterns;
		r->users = p->users;
		r->n_users = p->n_users;
	}
	pol->deny_users.entries = cfg->deny_users;
	pol->deny_users.n = cfg->n_deny_users;
	pol->allow_users.entries = cfg->allow_users;
	pol->allow_users.n = cfg->n_allow_users;
	pol->deny_groups.entries = cfg->deny_groups;
	pol->deny_groups.n = cfg->n_deny_groups;
	pol->allow_groups.entries = cfg->allow_groups;
	pol->allow_groups.n = cfg->n_allow_groups;
	return pol;
}

void
policy_free(struct policy *pol)
{
	if (pol == NULL)
		return;
	free(pol->rules);
	free(pol);
}

/* Root and the daemon's own user are never limited by the file. */
static int
policy_privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* 1 if an entry of l matches the name (NULL: none) or the id. */
static int
policy_list_match(const struct policy_list *l, const char *name,
		  unsigned long long id)
{
	unsigned long long n;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (policy_is_id(l->entries[i], &n)) {
			if (n == id)
				return 1;
		} else if (name != NULL && policy_glob(l->entries[i], name))
			return 1;
	}
	return 0;
}

/* 1 if l has an entry that only a name can match. */
static int
policy_list_has_names(const struct policy_list *l)
{
	unsigned long long id;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (!policy_is_id(l->entries[i], &id))
			return 1;
	}
	return 0;
}

/* Which of the client's groups l matches: 1 some, 0 none, -1 a group
 * without a name might. */
static int
policy_groups_match(const struct policy_list *l, const struct policy_client *c)
{
	int unknown = 0;
	size_t i;

	for (i = 0; i < c->ngids; i++) {
		if (policy_list_match(
			l, c->groups != NULL ? c->groups[i] : NULL, c->gids[i]))
			return 1;
		if (c->groups == NULL || c->groups[i] == NULL)
			unknown = 1;
	}
	return unknown && policy_list_has_names(l) ? -1 : 0;
}

static int
policy_refuse(char *why, size_t whylen, const char *text)
{
	snprintf(why, whylen, "%s", text);
	return 0;
}

int
policy_access_allows(const struct policy *pol, const struct policy_client *c,
		     char *why, size_t whylen)
{
	int any, m;

	if (policy_privileged(c->uid))
		return 1;
	any = pol->deny_users.n + pol->allow_users.n + pol->deny_groups.n +
		  pol->allow_groups.n >
	      0;
	if (!any)
		return 1;
	if (c->user == NULL)
		return policy_refuse(why, whylen,
				     "its account cannot be looked up");
	if (policy_list_match(&pol->deny_users, c->user, c->uid))
		return policy_refuse(why, whylen, "listed in DenyUsers");
	if (pol->allow_users.n > 0 &&
	    !policy_list_match(&pol->allow_users, c->user, c->uid))
		return policy_refuse(why, whylen, "not listed in AllowUsers");
	if (pol->deny_groups.n > 0) {
		if (c->groups_partial)
			return policy_refuse(why, whylen,
					     "more groups than DenyGroups can "
					     "be checked against");
		m = policy_groups_match(&pol->deny_groups, c);
		if (m == 1)
			return policy_refuse(why, whylen,
					     "a group is listed in DenyGroups");
		if (m == -1)
			return policy_refuse(why, whylen,
					     "a group without a name: "
					     "DenyGroups cannot be checked");
	}
	if (pol->allow_groups.n > 0 &&
	    policy_groups_match(&pol->allow_groups, c) != 1)
		return policy_refuse(why, whylen,
				     "no group listed in AllowGroups");
	return 1;
}

/* 1 if rule r names the client. */
static int
policy_rule_names(const struct policy_rule *r, const struct policy_client *c)
{
	size_t i;

	if (!r->is_group)
		return (r->resolved && r->id == (unsigned long long)c->uid) ||
		       (c->user != NULL && strcmp(r->name, c->user) == 0);
	if (r->resolved && policy_has_gid(r->id, c->gids, c->ngids))
		return 1;
	for (i = 0; c->groups != NULL && i < c->ngids; i++) {
		if (c->groups[i] != NULL && strcmp(r->name, c->groups[i]) == 0)
			return 1;
	}
	return 0;
}

/* Who the client is cannot be told well enough for the rules. */
static int
policy_client_unknown(const struct policy *pol, const struct policy_client *c)
{
	size_t i;

	if (pol->n_rules == 0)
		return 0;
	if (c->user == NULL)
		return 1; /* nor its supplementary groups */
	if (c->groups_partial && pol->group_rules)
		return 1;
	for (i = 0; pol->unresolved_groups && i < c->ngids; i++) {
		if (c->groups == NULL || c->groups[i] == NULL)
			return 1;
	}
	return 0;
}

static struct policy_view *
policy_view_new(const struct policy *pol, const struct policy_client *c)
{
	struct policy_view *view;
	int user = 0, group = 0;
	size_t i, n = 0;

	view = xcalloc(1, sizeof(*view));
	view->generation = pol->generation;
	view->privileged = policy_privileged(c->uid);
	view->unknown = !view->privileged && policy_client_unknown(pol, c);
	/* Counted first: a client is named by few of many rules. */
	for (i = 0; i < pol->n_rules; i++)
		n += policy_rule_names(&pol->rules[i], c);
	if (n > 0)
		view->rules = xcalloc(n, sizeof(*view->rules));
	for (i = 0; i < pol->n_rules && view->n_rules < n; i++) {
		if (!policy_rule_names(&pol->rules[i], c))
			continue;
		view->rules[view->n_rules++] = i;
		if (pol->rules[i].is_group)
			group = 1;
		else
			user = 1;
	}
	if (user && !group)
		view->kind = "UserHosts";
	else if (group && !user)
		view->kind = "GroupHosts";
	else
		view->kind = "UserHosts/GroupHosts";
	return view;
}

const struct policy_view *
policy_view_update(struct policy_view **view, const struct policy *pol,
		   const struct policy_client *c)
{
	if (*view != NULL && (*view)->generation == pol->generation)
		return *view;
	policy_view_free(*view);
	*view = policy_view_new(pol, c);
	return *view;
}

void
policy_view_free(struct policy_view *view)
{
	if (view == NULL)
		return;
	free(view->rules);
	free(view);
}

int
policy_view_limited(const struct policy_view *view)
{
	return !view->privileged && (view->unknown || view->n_rules > 0);
}

/* 1 if rule r lets the client log in as user (def_user: the host's). */
static int
policy_rule_user(const struct policy_rule *r, const char *user,
		 const char *def_user)
{
	size_t i;

	if (r->n_users == 0)
		return def_user != NULL && strcmp(user, def_user) == 0;
	for (i = 0; i < r->n_users; i++) {
		if (policy_glob(r->users[i], user))
			return 1;
	}
	return 0;
}

enum policy_verdict
policy_allows(const struct policy *pol, const struct policy_view *view,
	      const char *host, const char *user, const char *def_user)
{
	const struct policy_rule *r;
	enum policy_verdict v = POLICY_HOST;
	size_t i;

	if (view->generation != pol->generation)
		fatalx("policy: a client's view of another policy");
	if (!policy_view_limited(view))
		return POLICY_OK;
	if (view->unknown)
		return POLICY_UNKNOWN;
	for (i = 0; i < view->n_rules; i++) {
		r = &pol->rules[view->rules[i]];
		if (!config_match_patterns(r->patterns, r->n_patterns, host))
			continue;
		if (policy_rule_user(r, user, def_user))
			return POLICY_OK;
		v = POLICY_USER;
	}
	return v;
}

enum policy_verdict
policy_allows_hops(const struct policy *pol, const struct policy_view *view,
		   const struct jump_hop *hops, size_t n, size_t *which)
{
	enum policy_verdict v;
	size_t i;

	/* A hop is a host the client's request logs in to, under the
	 * daemon's credentials: the same rules, or a bastion would open
	 * every host behind it to anyone. */
	for (i = 0; i < n; i++) {
		v = policy_allows(pol, view, hops[i].host, hops[i].user,
				  hops[i].def_user);
		if (v != POLICY_OK) {
			*which = i;
			return v;
		}
	}
	return POLICY_OK;
}

const char *
policy_view_kind(const struct policy_view *view)
{
	return view->kind;
}

static void
policy_check_list(const struct policy_list *l, const char *keyword,
		  int is_group, policy_lookup_fn *lookup,
		  void (*warn)(const char *, const char *, int, void *),
		  void *arg)
{
	unsigned long long id;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strpbrk(l->entries[i], "*?") != NULL)
			continue;
		if (policy_resolve(lookup, l->entries[i], is_group, &id) != 0)
			warn(keyword, l->entries[i], 0, arg);
	}
}

void
policy_check_names(const struct config *cfg, policy_lookup_fn *lookup,
		   void (*warn)(const char *keyword, const char *name, int line,
				void *arg),
		   void *arg)
{
	const struct config_host_policy *p;
	const struct policy_list deny_users = {cfg->deny_users,
					       cfg->n_deny_users},
				 allow_users = {cfg->allow_users,
						cfg->n_allow_users},
				 deny_groups = {cfg->deny_groups,
						cfg->n_deny_groups},
				 allow_groups = {cfg->allow_groups,
						 cfg->n_allow_groups};
	unsigned long long id;
	size_t i;

	if (lookup == NULL)
		lookup = policy_lookup_account;
	for (i = 0; i < cfg->n_policies; i++) {
		p = &cfg->policies[i];
		if (policy_resolve(lookup, p->name, p->is_group, &id) != 0)
			warn(p->is_group ? "GroupHosts" : "UserHosts", p->name,
			     p->line, arg);
	}
	policy_check_list(&deny_users, "DenyUsers", 0, lookup, warn, arg);
	policy_check_list(&allow_users, "AllowUsers", 0, lookup, warn, arg);
	policy_check_list(&deny_groups, "DenyGroups", 1, lookup, warn, arg);
	policy_check_list(&allow_groups, "AllowGroups", 1, lookup, warn, arg);
}
