/* SPDX-License-Identifier: ISC */
/*
 * Access policy: who may connect (DenyUsers, AllowUsers, DenyGroups,
 * AllowGroups, as in sshd_config) and on which hosts, as which remote
 * users, a client may work (UserHosts, GroupHosts).  A struct policy is the
 * rules of one configuration; a struct policy_view is what one policy says
 * about one client.  Used from the control thread only.
 */
#ifndef SSHPOOL_POLICY_H
#define SSHPOOL_POLICY_H

#include <sys/types.h>

#include <stddef.h>

struct config;
struct jump_hop;
struct policy;
struct policy_view;

/*
 * Resolve a user (is_group 0) or group name to its id: 0 with *id, or -1
 * when the name is unknown or the lookup failed.  Numeric entries never
 * reach it: they are ids.
 */
typedef int policy_lookup_fn(const char *name, int is_group,
			     unsigned long long *id);

/*
 * Who a client is, as looked up once when it connected: user is its login
 * name, NULL when its account could not be found; groups[i] is the name
 * of gids[i], NULL when that group could not be found.  A client whose
 * groups are partial is refused by DenyGroups and may use no host while a
 * GroupHosts line exists.
 */
struct policy_client {
	uid_t uid;
	const char *user;
	const gid_t *gids;
	char *const *groups;
	size_t ngids;
	int groups_partial; /* it is in more groups than gids lists */
};

/*
 * The rules of cfg.  The names of UserHosts and GroupHosts lines are also
 * resolved to ids once, here, with lookup (NULL: the account databases);
 * a rule names a client whose name is the rule's name, or whose id is the
 * id its name resolved to.  The policy borrows cfg's strings: free it
 * before cfg.
 */
struct policy *policy_new(const struct config *cfg, policy_lookup_fn *lookup);
void policy_free(struct policy *);

/*
 * 1 if the client may connect; else 0 with why ("not in AllowUsers", ...)
 * in why.  Root and the daemon's own user always may.
 */
int policy_access_allows(const struct policy *, const struct policy_client *,
			 char *why, size_t whylen);

/*
 * The view of a client under pol: *view is kept when pol made it, else
 * (first use, or a policy of a reload) replaced by a new one.  Returns
 * *view.
 */
const struct policy_view *policy_view_update(struct policy_view **view,
					     const struct policy *pol,
					     const struct policy_client *);
void policy_view_free(struct policy_view *);

/* 0 if the client may use every host as any user: no rule names it, or it
 * is root or the daemon's own user. */
int policy_view_limited(const struct policy_view *);

enum policy_verdict {
	POLICY_OK,
	POLICY_HOST,    /* no rule naming the client matches the host */
	POLICY_USER,    /* rules match the host, none allows the user */
	POLICY_UNKNOWN, /* the client's account or groups are unknown */
};

/*
 * May the client of view work on host, logging in as user?  def_user is
 * the user the configuration gives the host (what a request gets when it
 * names none): a rule without "users=" allows only that one.  view must
 * be pol's.
 */
enum policy_verdict policy_allows(const struct policy *pol,
				  const struct policy_view *view,
				  const char *host, const char *user,
				  const char *def_user);

/*
 * The same for the jump hosts (jump.h) a job goes through, hops[0..n):
 * each must be allowed as a target would be, logging in as its user.
 * POLICY_OK, or the verdict on the first refused hop, its index in
 * *which.
 */
enum policy_verdict policy_allows_hops(const struct policy *pol,
				       const struct policy_view *view,
				       const struct jump_hop *hops, size_t n,
				       size_t *which);

/* "UserHosts", "GroupHosts" or "UserHosts/GroupHosts": the kinds of rule
 * that name the client, for messages. */
const char *policy_view_kind(const struct policy_view *);

/*
 * For "sshpoold -n": call warn once for each name of a UserHosts,
 * GroupHosts, AllowUsers, DenyUsers, AllowGroups or DenyGroups line that
 * is neither a number nor a pattern and that lookup (NULL: the account
 * databases) does not resolve.
 */
void policy_check_names(const struct config *cfg, policy_lookup_fn *lookup,
			void (*warn)(const char *keyword, const char *name,
				     int line, void *arg),
			void *arg);

#endif
