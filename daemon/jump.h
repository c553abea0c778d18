/* SPDX-License-Identifier: ISC */
/*
 * Jump hosts (ProxyJump): which hops a host is reached through, and its
 * host parameters chained through theirs.  Pure functions of the
 * configuration and the request's "jump", for the control thread.
 *
 * A request's "jump" overrides the target's ProxyJump; "none" (in either)
 * means direct.  Each hop is resolved through its own Host blocks (User,
 * Port, HostName, IdentityFile, UserKnownHostsFile, ...), the user and
 * port of the hop spec winning; a hop's own ProxyJump is not followed: the
 * chain is the list given.  Hops always log in with the daemon's own
 * credentials: a client's passed key, agent or password is for the target
 * only.
 */
#ifndef SSHPOOL_JUMP_H
#define SSHPOOL_JUMP_H

#include <stddef.h>

#include "config.h"

struct host_params;

/* One hop as it logs in: the user after its Host blocks, and the one its
 * configuration gives (what a policy's rule without users= allows). */
struct jump_hop {
	char user[PROTO_MAX_USER + 1];
	const char *def_user; /* borrowed from the config */
	char host[PROTO_MAX_HOST + 1];
	int port;
};

/*
 * The effective chain of target: the request's jump (NULL: none given)
 * or else target's ProxyJump.  Fills hops[0..n), the first hop first,
 * and returns n, 0 for direct.  Both sources were checked when read; a
 * value that does not parse is taken as direct.
 */
size_t jump_hops(const struct config *, const char *req_jump,
		 const char *target,
		 struct jump_hop hops[CONFIG_MAX_JUMP_HOPS]);

/*
 * Chain target's parameters through its hops (jump_hops): target->via is
 * the last hop, whose via is the one before, and so on to the first
 * (via NULL); the pool key of target is renamed for the chain.
 */
void jump_chain(const struct config *, const char *req_jump,
		struct host_params *target);

#endif
