/*
 * The access decisions of the control thread: AllowUsers and AllowGroups
 * when a client connects, UserHosts and GroupHosts for every host of its
 * requests.  The rules are compiled once per configuration: every user and
 * group name is looked up in the account databases when the configuration
 * is loaded or reloaded, and a name that does not resolve names nobody, so
 * an account created later counts from the next reload.  What the rules
 * say about one client (which rules name it) is worked out once per client
 * and policy; a request then only matches host names against patterns.
 * Root and the daemon's own user are never limited.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "policy.h"
#include "xmalloc.h"

#define POLICY_PW_BUF_MIN 1024
#define POLICY_PW_BUF_MAX (1024 * 1024) /* getpwnam_r / getgrnam_r buffer */

/* One UserHosts or GroupHosts line. */
struct policy_rule {
	int is_group;
	int resolved; /* 0: the name is unknown, the rule names nobody */
	unsigned long long id;
	char *const *patterns; /* the configuration's */
	size_t n_patterns;
};

struct policy {
	/* Tells a view made under this policy from one made under an
	 * earlier policy that may have lived at the same address. */
	unsigned long generation;
	struct policy_rule *rules;
	size_t n_rules;
	int allow_all; /* neither AllowUsers nor AllowGroups is set */
	unsigned long long *allow_uids, *allow_gids; /* resolved names only */
	size_t n_allow_uids, n_allow_gids;
};

struct policy_view {
	unsigned long generation; /* of the policy that made it */
	int privileged;
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

/* The ids of the names of an AllowUsers or AllowGroups list that resolve. */
static size_t
policy_resolve_list(policy_lookup_fn *lookup, char *const *names, size_t n,
		    int is_group, unsigned long long **ids)
{
	size_t i, k = 0;

	*ids = n > 0 ? xcalloc(n, sizeof(**ids)) : NULL;
	for (i = 0; i < n; i++) {
		if (policy_resolve(lookup, names[i], is_group, &(*ids)[k]) == 0)
			k++;
	}
	return k;
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
		r->resolved =
		    policy_resolve(lookup, p->name, p->is_group, &r->id) == 0;
		r->patterns = p->patterns;
		r->n_patterns = p->n_patterns;
	}
	pol->allow_all = cfg->n_allow_users == 0 && cfg->n_allow_groups == 0;
	pol->n_allow_uids = policy_resolve_list(
	    lookup, cfg->allow_users, cfg->n_allow_users, 0, &pol->allow_uids);
	pol->n_allow_gids =
	    policy_resolve_list(lookup, cfg->allow_groups, cfg->n_allow_groups,
				1, &pol->allow_gids);
	return pol;
}

void
policy_free(struct policy *pol)
{
	if (pol == NULL)
		return;
	free(pol->rules);
	free(pol->allow_uids);
	free(pol->allow_gids);
	free(pol);
}

/* Root and the daemon's own user are never limited by the file. */
static int
policy_privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
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

/*
 * With neither list set every local user may connect; otherwise a client
 * is let in when its user is in AllowUsers or one of its groups is in
 * AllowGroups.
 */
int
policy_access_allows(const struct policy *pol, uid_t uid, const gid_t *gids,
		     size_t ngids)
{
	size_t i;

	if (policy_privileged(uid) || pol->allow_all)
		return 1;
	for (i = 0; i < pol->n_allow_uids; i++) {
		if (pol->allow_uids[i] == (unsigned long long)uid)
			return 1;
	}
	for (i = 0; i < pol->n_allow_gids; i++) {
		if (policy_has_gid(pol->allow_gids[i], gids, ngids))
			return 1;
	}
	return 0;
}

static int
policy_rule_names(const struct policy_rule *r, uid_t uid, const gid_t *gids,
		  size_t ngids)
{
	if (!r->resolved)
		return 0;
	if (!r->is_group)
		return r->id == (unsigned long long)uid;
	return policy_has_gid(r->id, gids, ngids);
}

static struct policy_view *
policy_view_new(const struct policy *pol, uid_t uid, const gid_t *gids,
		size_t ngids)
{
	struct policy_view *view;
	int user = 0, group = 0;
	size_t i, n = 0;

	view = xcalloc(1, sizeof(*view));
	view->generation = pol->generation;
	view->privileged = policy_privileged(uid);
	/* Counted first: a client is named by few of many rules. */
	for (i = 0; i < pol->n_rules; i++)
		n += policy_rule_names(&pol->rules[i], uid, gids, ngids);
	if (n > 0)
		view->rules = xcalloc(n, sizeof(*view->rules));
	for (i = 0; i < pol->n_rules && view->n_rules < n; i++) {
		if (!policy_rule_names(&pol->rules[i], uid, gids, ngids))
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
		   uid_t uid, const gid_t *gids, size_t ngids)
{
	if (*view != NULL && (*view)->generation == pol->generation)
		return *view;
	policy_view_free(*view);
	*view = policy_view_new(pol, uid, gids, ngids);
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
	return !view->privileged && view->n_rules > 0;
}

int
policy_allows(const struct policy *pol, const struct policy_view *view,
	      const char *host)
{
	const struct policy_rule *r;
	size_t i;

	if (view->generation != pol->generation)
		fatalx("policy: a client's view of another policy");
	if (!policy_view_limited(view))
		return 1;
	for (i = 0; i < view->n_rules; i++) {
		r = &pol->rules[view->rules[i]];
		if (config_match_patterns(r->patterns, r->n_patterns, host))
			return 1;
	}
	return 0;
}

const char *
policy_view_kind(const struct policy_view *view)
{
	return view->kind;
}
