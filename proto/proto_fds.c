/* SPDX-License-Identifier: ISC */
/*
 * Descriptors passed with a request: the table of their roles, the "fds"
 * member that announces them and its encoding, and the members that would
 * name a credential file by path, which the daemon refuses: it opens no
 * file a client names (PROTOCOL.md section 1.8).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_int.h"

/* One row per role, in enum order. */
static const struct proto_fd_role_row {
	enum proto_fd_role role;
	const char *name;
} proto_fd_roles[PROTO_FD_ROLE_COUNT] = {
    {PROTO_FD_AGENT, "agent"},
    {PROTO_FD_KEY, "key"},
};

/* Request members a client might use to name a key file. */
static const char *const proto_fd_path_members[] = {
    "identity_file",
    "key_file",
    "identity",
};

const char *
proto_fd_role_name(enum proto_fd_role role)
{
	if ((unsigned)role >= PROTO_FD_ROLE_COUNT)
		return "unknown";
	return proto_fd_roles[role].name;
}

static int
proto_fd_role_find(const char *s, size_t len, enum proto_fd_role *out)
{
	size_t i;

	for (i = 0; i < PROTO_FD_ROLE_COUNT; i++) {
		if (strlen(proto_fd_roles[i].name) == len &&
		    memcmp(proto_fd_roles[i].name, s, len) == 0) {
			*out = proto_fd_roles[i].role;
			return 0;
		}
	}
	return -1;
}

int
proto_fds_path_member(const char *key, struct proto_error *err)
{
	size_t i;

	for (i = 0;
	     i < sizeof proto_fd_path_members / sizeof proto_fd_path_members[0];
	     i++) {
		if (strcmp(key, proto_fd_path_members[i]) == 0)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "%s: the daemon opens no file named by a client; "
			    "pass the open key as a descriptor (fds: "
			    "[\"key\"])",
			    key);
	}
	return 0;
}

int
proto_fds_parse(json_object *root, struct proto_request *req,
		struct proto_error *err)
{
	json_object *o, *e;
	const char *s;
	size_t n, i, len;

	if (!json_object_object_get_ex(root, "fds", &o))
		return 0;
	if (!json_object_is_type(o, json_type_array))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "fds: expected an array of roles");
	n = json_object_array_length(o);
	if (n > PROTO_MAX_FDS)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "fds: %zu descriptors, at most %d", n,
				       PROTO_MAX_FDS);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(o, i);
		if (!json_object_is_type(e, json_type_string))
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "fds[%zu]: expected a role string", i);
		s = proto_json_str(e, &len);
		if (proto_fd_role_find(s, len, &req->fds[i]) == -1)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "fds[%zu]: unknown role \"%.*s\"", i,
			    PROTO_MSG_NAME, s);
	}
	req->nfds = n;
	return 0;
}

void
proto_fds_encode(struct proto_enc *e, const struct proto_request *req)
{
	size_t i;

	if (req->nfds == 0)
		return;
	proto_enc_lit(e, ",\"fds\":[");
	for (i = 0; i < req->nfds && i < PROTO_MAX_FDS; i++) {
		if (i > 0)
			proto_enc_lit(e, ",");
		proto_enc_cstr(e, proto_fd_role_name(req->fds[i]));
	}
	proto_enc_lit(e, "]");
}
