/* SPDX-License-Identifier: ISC */
/*
 * Jump hosts: the hops of a target and their host parameters, chained.
 */
#include <stdio.h>
#include <string.h>

#include "jump.h"
#include "log.h"
#include "msg.h"

size_t
jump_hops(const struct config *cfg, const char *req_jump, const char *target,
	  struct jump_hop hops[CONFIG_MAX_JUMP_HOPS])
{
	struct config_host_opts opts;
	struct proto_error err;
	struct proto_jump j;
	const char *spec = req_jump;
	size_t i;

	if (spec == NULL) {
		config_host(cfg, target, &opts);
		spec = opts.proxy_jump;
	}
	if (spec == NULL)
		return 0;
	if (proto_jump_parse(spec, &j, &err) == -1) {
		log_warnx("jump hosts of %s: %s", target, err.message);
		return 0;
	}
	for (i = 0; i < j.n; i++) {
		config_host(cfg, j.hops[i].host, &opts);
		memcpy(hops[i].host, j.hops[i].host, sizeof(hops[i].host));
		hops[i].def_user = opts.user;
		if (j.hops[i].user[0] != '\0')
			memcpy(hops[i].user, j.hops[i].user,
			       sizeof(hops[i].user));
		else
			snprintf(hops[i].user, sizeof(hops[i].user), "%s",
				 opts.user);
		hops[i].port = j.hops[i].port != 0 ? j.hops[i].port : opts.port;
	}
	return j.n;
}

static void
jump_no_learning(struct host_params *p)
{
	if (p->strict == CONFIG_STRICT_ACCEPT_NEW)
		p->strict = CONFIG_STRICT_YES;
}

void
jump_chain(const struct config *cfg, const char *req_jump,
	   struct host_params *target)
{
	struct jump_hop hops[CONFIG_MAX_JUMP_HOPS];
	struct config_host_opts opts;
	struct host_params *via = NULL, *hop;
	size_t i, n;

	n = jump_hops(cfg, req_jump, target->host, hops);
	/* A hop a client names could route the channel anywhere: through a
	 * chain of the request's, host keys are checked, never learnt. */
	if (n > 0 && req_jump != NULL)
		jump_no_learning(target);
	for (i = 0; i < n; i++) {
		config_host(cfg, hops[i].host, &opts);
		hop = host_params_new(&opts, hops[i].user, hops[i].host,
				      hops[i].port);
		if (req_jump != NULL)
			jump_no_learning(hop);
		/* Each hop goes through the one before; the first is
		 * direct.  The daemon's credentials: no set_cred. */
		host_params_set_via(hop, via);
		via = hop;
	}
	host_params_set_via(target, via);
}
