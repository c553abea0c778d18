/*
 * Access policy: who may connect (AllowUsers, AllowGroups) and on which
 * hosts a client may work (UserHosts, GroupHosts).  A struct policy is the
 * rules of one configuration with every user and group name resolved; a
 * struct policy_view is what one policy says about one client.  Used from
 * the control thread only.
 */
#ifndef SSHPOOL_POLICY_H
#define SSHPOOL_POLICY_H

#include <sys/types.h>

#include <stddef.h>

struct config;
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
 * The rules of cfg, each name resolved once, here, with lookup (NULL: the
 * account databases); a name that does not resolve names nobody.  The
 * policy borrows cfg's patterns: free it before cfg.
 */
struct policy *policy_new(const struct config *cfg, policy_lookup_fn *lookup);
void policy_free(struct policy *);

/* 1 if a client (uid, its gids) may connect under AllowUsers and
 * AllowGroups; root and the daemon's own user always may. */
int policy_access_allows(const struct policy *, uid_t uid, const gid_t *gids,
			 size_t ngids);

/*
 * The view of a client under pol: *view is kept when pol made it, else
 * (first use, or a policy of a reload) replaced by a new one.  Returns
 * *view.
 */
const struct policy_view *policy_view_update(struct policy_view **view,
					     const struct policy *pol,
					     uid_t uid, const gid_t *gids,
					     size_t ngids);
void policy_view_free(struct policy_view *);

/* 0 if the client may use every host: no rule names it, or it is root or
 * the daemon's own user. */
int policy_view_limited(const struct policy_view *);

/* 1 if the client of view may work on host under pol's UserHosts and
 * GroupHosts, 0 if a rule names the client and none of those rules'
 * patterns matches the host.  view must be pol's. */
int policy_allows(const struct policy *pol, const struct policy_view *view,
		  const char *host);

/* "UserHosts", "GroupHosts" or "UserHosts/GroupHosts": the kinds of rule
 * that name the client, for messages. */
const char *policy_view_kind(const struct policy_view *);

#endif
