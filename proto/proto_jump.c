/* SPDX-License-Identifier: ISC */
/*
 * Jump host chains (ProxyJump): host specs joined by commas, or "none".
 * Pure syntax, shared by the daemon's configuration, the request codec and
 * the client library, so all three accept and refuse the same text.
 */
#include <string.h>

#include "proto.h"
#include "proto_int.h"

int
proto_jump_parse(const char *spec, struct proto_jump *j,
		 struct proto_error *err)
{
	struct proto_error dummy, herr;
	char hop[PROTO_MAX_HOSTSPEC + 1];
	const char *cp, *comma;
	size_t len;

	if (err == NULL)
		err = &dummy;
	proto_error_clear(err);
	memset(j, 0, sizeof(*j));
	if (spec == NULL || *spec == '\0')
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "empty jump host list");
	if (strcmp(spec, "none") == 0)
		return 0;
	for (cp = spec;; cp = comma + 1) {
		comma = strchr(cp, ',');
		len = comma != NULL ? (size_t)(comma - cp) : strlen(cp);
		if (j->n == PROTO_MAX_JUMP_HOPS)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "too many jump hosts (max %d)",
					       PROTO_MAX_JUMP_HOPS);
		if (len == 0)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "jump host %zu: empty",
					       j->n + 1);
		if (len > PROTO_MAX_HOSTSPEC)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "jump host %zu: longer than %d bytes", j->n + 1,
			    PROTO_MAX_HOSTSPEC);
		memcpy(hop, cp, len);
		hop[len] = '\0';
		/* "none" is the whole value or nothing: as a hop it would
		 * be a host of that name, which is surely a mistake. */
		if (strcmp(hop, "none") == 0 || hop[0] == '@')
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "jump host %zu: \"%s\" is not a host", j->n + 1,
			    hop);
		if (proto_hostspec_parse(hop, &j->hops[j->n], &herr) == -1)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "jump host %zu \"%s\": %s",
					       j->n + 1, hop, herr.message);
		j->n++;
		if (comma == NULL)
			return 0;
	}
}
