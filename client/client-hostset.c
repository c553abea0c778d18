/* SPDX-License-Identifier: ISC */
/*
 * Host sets for callers: expanding a host pattern (ranges) one host at a
 * time and matching a host against exclusion patterns, both with the
 * daemon's own rules from the codec.
 */
#include <stdint.h>

#include "client-int.h"

struct client_hostset_cb {
	sp_host_cb cb;
	void *arg;
};

static int
client_hostset_emit(const char *host, void *arg)
{
	struct client_hostset_cb *h = arg;

	return h->cb(host, h->arg);
}

long
sp_hostset_expand(const char *pattern, sp_host_cb cb, void *arg, size_t max,
		  char *err, size_t errlen)
{
	struct client_hostset_cb h;
	struct proto_error perr;
	int n;

	if (pattern == NULL || cb == NULL) {
		client_seterr(err, errlen, "no pattern or callback");
		return -1;
	}
	h.cb = cb;
	h.arg = arg;
	if ((n = proto_hostset_expand(pattern, client_hostset_emit, &h, max,
				      &perr)) == -1) {
		client_seterr(err, errlen, "%s",
			      perr.code == PROTO_E_NONE ? "stopped by callback"
							: perr.message);
		return -1;
	}
	return n;
}

int
sp_host_excluded(const char *spec, const char *const *exclude, size_t n)
{
	if (spec == NULL || exclude == NULL)
		return 0;
	/* The codec only reads the strings. */
	return proto_hostspec_excluded(spec, (char *const *)(uintptr_t)exclude,
				       n);
}
