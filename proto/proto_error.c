/* SPDX-License-Identifier: ISC */
/*
 * Errors as values: the table of stable error codes and their wire names,
 * and the helpers every parser of the codec uses to fill a struct
 * proto_error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

static const char *const proto_code_names[PROTO_E_COUNT] = {
    [PROTO_E_NONE] = "none",
    [PROTO_E_BAD_REQUEST] = "bad_request",
    [PROTO_E_UNSUPPORTED_VERSION] = "unsupported_version",
    [PROTO_E_RESOLVE_FAILED] = "resolve_failed",
    [PROTO_E_CONNECT_FAILED] = "connect_failed",
    [PROTO_E_CONNECT_TIMEOUT] = "connect_timeout",
    [PROTO_E_HOSTKEY_UNKNOWN] = "hostkey_unknown",
    [PROTO_E_HOSTKEY_MISMATCH] = "hostkey_mismatch",
    [PROTO_E_AUTH_FAILED] = "auth_failed",
    [PROTO_E_CHANNEL_FAILED] = "channel_failed",
    [PROTO_E_CONNECTION_LOST] = "connection_lost",
    [PROTO_E_TIMEOUT] = "timeout",
    [PROTO_E_CANCELLED] = "cancelled",
    [PROTO_E_HOST_DOWN] = "host_down",
    [PROTO_E_FORBIDDEN] = "forbidden",
    [PROTO_E_LIMIT] = "limit",
    [PROTO_E_SHUTDOWN] = "shutdown",
    [PROTO_E_INTERNAL] = "internal",
    [PROTO_E_PROXY_FAILED] = "proxy_failed",
    [PROTO_E_PROXY_REFUSED] = "proxy_refused",
};

int
proto_error_set(struct proto_error *err, enum proto_code code, const char *fmt,
		...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

void
proto_error_clear(struct proto_error *err)
{
	err->code = PROTO_E_NONE;
	err->message[0] = '\0';
	err->id[0] = '\0';
}

const char *
proto_code_name(enum proto_code code)
{
	if ((unsigned)code >= PROTO_E_COUNT)
		return "unknown";
	return proto_code_names[code];
}

enum proto_code
proto_code_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return PROTO_E_NONE;
	for (i = PROTO_E_NONE + 1; i < PROTO_E_COUNT; i++) {
		if (strcmp(proto_code_names[i], name) == 0)
			return (enum proto_code)i;
	}
	return PROTO_E_NONE;
}
