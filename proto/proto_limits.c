/* SPDX-License-Identifier: ISC */
/*
 * The limits a request is parsed under: the defaults, and the effective
 * values when the conf configures its own (never above the codec's hard
 * caps).  A stdin or env limit of 0 is a limit of none.
 */
#include "proto.h"
#include "proto_int.h"

void
proto_limits_default(struct proto_limits *lim)
{
	lim->max_line = PROTO_DEFAULT_MAX_LINE;
	lim->max_hosts = PROTO_DEFAULT_MAX_HOSTS;
	lim->max_stdin = PROTO_DEFAULT_MAX_STDIN;
	lim->max_env = PROTO_MAX_ENV;
	lim->max_depth = PROTO_MAX_DEPTH;
}

void
proto_limits_resolve(struct proto_limits *lim, const struct proto_limits *conf)
{
	proto_limits_default(lim);
	if (conf != NULL) {
		if (conf->max_line != 0)
			lim->max_line = conf->max_line;
		if (conf->max_hosts != 0)
			lim->max_hosts = conf->max_hosts;
		lim->max_stdin = conf->max_stdin;
		lim->max_env = conf->max_env;
		if (conf->max_depth > 0)
			lim->max_depth = conf->max_depth;
	}
	if (lim->max_line > PROTO_MAX_LINE)
		lim->max_line = PROTO_MAX_LINE;
	if (lim->max_env > PROTO_MAX_ENV)
		lim->max_env = PROTO_MAX_ENV;
	if (lim->max_depth > PROTO_MAX_DEPTH)
		lim->max_depth = PROTO_MAX_DEPTH;
}
