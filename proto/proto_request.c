/* SPDX-License-Identifier: ISC */
/*
 * Requests (client -> daemon): the table of operations, each with the
 * parser and the encoder of its members, the allowed keys per operation,
 * parsing a line into a validated struct proto_request and encoding one
 * back into a line.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_int.h"

#define OPF(op) (1u << (op))

static const struct proto_request_key {
	const char *name;
	unsigned ops;
} proto_request_keys[] = {
    {"v", ~0u},
    {"id", ~0u},
    {"op", ~0u},
    {"versions", OPF(PROTO_OP_HELLO)},
    {"client", OPF(PROTO_OP_HELLO)},
    {"hosts",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"user",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"password",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"exclude",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"jump",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"command", OPF(PROTO_OP_RUN)},
    {"timeout", OPF(PROTO_OP_RUN)},
    {"idle_timeout", OPF(PROTO_OP_RUN)},
    {"env", OPF(PROTO_OP_RUN)},
    {"pty", OPF(PROTO_OP_RUN)},
    {"forward_agent", OPF(PROTO_OP_RUN)},
    {"stdin", OPF(PROTO_OP_RUN)},
    {"target", OPF(PROTO_OP_CANCEL)},
    {"fds",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
};

/* One row per operation: its wire name, the parser of its own members
 * and the encoder of them (NULL: the operation has none). */
struct proto_request_op {
	const char *name;
	int (*parse)(json_object *, const struct proto_limits *,
		     struct proto_request *, struct proto_error *);
	void (*encode)(struct proto_enc *, const struct proto_request *);
};

static int proto_request_parse_hello(json_object *, const struct proto_limits *,
				     struct proto_request *,
				     struct proto_error *);
static int proto_request_parse_run(json_object *, const struct proto_limits *,
				   struct proto_request *,
				   struct proto_error *);
static int proto_request_parse_connect(json_object *,
				       const struct proto_limits *,
				       struct proto_request *,
				       struct proto_error *);
static int proto_request_parse_cancel(json_object *,
				      const struct proto_limits *,
				      struct proto_request *,
				      struct proto_error *);
static int proto_request_parse_status(json_object *,
				      const struct proto_limits *,
				      struct proto_request *,
				      struct proto_error *);

static void proto_request_encode_hello(struct proto_enc *,
				       const struct proto_request *);
static void proto_request_encode_run(struct proto_enc *,
				     const struct proto_request *);
static void proto_request_encode_hosts(struct proto_enc *,
				       const struct proto_request *);
static void proto_request_encode_cancel(struct proto_enc *,
					const struct proto_request *);

static const struct proto_request_op proto_request_ops[PROTO_OP_COUNT] = {
    [PROTO_OP_HELLO] = {"hello", proto_request_parse_hello,
			proto_request_encode_hello},
    [PROTO_OP_RUN] = {"run", proto_request_parse_run, proto_request_encode_run},
    [PROTO_OP_CONNECT] = {"connect", proto_request_parse_connect,
			  proto_request_encode_hosts},
    [PROTO_OP_CANCEL] = {"cancel", proto_request_parse_cancel,
			 proto_request_encode_cancel},
    [PROTO_OP_STATUS] = {"status", proto_request_parse_status, NULL},
    [PROTO_OP_DISCONNECT] = {"disconnect", proto_request_parse_connect,
			     proto_request_encode_hosts},
};

const char *
proto_op_name(enum proto_op op)
{
	if ((unsigned)op >= PROTO_OP_COUNT)
		return "unknown";
	return proto_request_ops[op].name;
}

static int
proto_request_parse_hello(json_object *root, const struct proto_limits *lim,
			  struct proto_request *req, struct proto_error *err)
{
	json_object *o;
	size_t n, i, len;
	long long v;
	const char *s;
	char what[32];
	int has_current = 0;

	req->version_min = req->version_max = PROTO_VERSION;
	if (json_object_object_get_ex(root, "versions", &o)) {
		if (!json_object_is_type(o, json_type_array))
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "versions: expected an array of integers");
		n = json_object_array_length(o);
		if (n > PROTO_MAX_VERSIONS)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "versions: too many entries (max %d)",
			    PROTO_MAX_VERSIONS);
		req->version_min = INT_MAX;
		req->version_max = 0;
		for (i = 0; i < n; i++) {
			snprintf(what, sizeof what, "versions[%zu]", i);
			if (proto_json_int(json_object_array_get_idx(o, i),
					   what, 1, PROTO_MAX_VERSION_NUM, &v,
					   err) == -1)
				return -1;
			if (v < req->version_min)
				req->version_min = (int)v;
			if (v > req->version_max)
				req->version_max = (int)v;
			if (v == PROTO_VERSION)
				has_current = 1;
		}
		if (!has_current)
			return proto_error_set(
			    err, PROTO_E_UNSUPPORTED_VERSION,
			    "versions: no common version (supported: %d)",
			    PROTO_VERSION);
	}
	if (json_object_object_get_ex(root, "client", &o)) {
		if (!json_object_is_type(o, json_type_string))
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "client: expected a string");
		s = proto_json_str(o, &len);
		if (len > PROTO_MAX_CLIENT)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "client: too long (max %d bytes)",
			    PROTO_MAX_CLIENT);
		if (proto_json_strdup(s, len, &req->client, err) == -1)
			return -1;
	}
	return 0;
}

static int
proto_request_parse_user(json_object *root, struct proto_request *req,
			 struct proto_error *err)
{
	struct proto_error uerr;
	json_object *o;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(root, "user", &o))
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "user: expected a string");
	s = proto_json_str(o, &len);
	if (proto_hostspec_check_user(s, len, &uerr) == -1)
		return proto_error_set(err, PROTO_E_BAD_REQUEST, "user: %s",
				       uerr.message);
	return proto_json_strdup(s, len, &req->user, err);
}

/* "jump": a ProxyJump chain or "none", checked here as the daemon's
 * configuration checks its ProxyJump lines. */
static int
proto_request_parse_jump(json_object *root, struct proto_request *req,
			 struct proto_error *err)
{
	struct proto_error jerr;
	struct proto_jump j;
	json_object *o;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(root, "jump", &o))
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "jump: expected a string");
	s = proto_json_str(o, &len);
	if (len > PROTO_MAX_JUMP || strlen(s) != len)
		return proto_error_set(
		    err, PROTO_E_BAD_REQUEST,
		    "jump: longer than %d bytes or holds NUL", PROTO_MAX_JUMP);
	if (proto_jump_parse(s, &j, &jerr) == -1)
		return proto_error_set(err, PROTO_E_BAD_REQUEST, "jump: %s",
				       jerr.message);
	return proto_json_strdup(s, len, &req->jump, err);
}

/* The client's own password: never echoed in an error message. */
static int
proto_request_parse_password(json_object *root, struct proto_request *req,
			     struct proto_error *err)
{
	json_object *o;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(root, "password", &o))
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "password: expected a string");
	s = proto_json_str(o, &len);
	if (len == 0 || len > PROTO_MAX_PASSWORD || memchr(s, '\0', len))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "password: 1..%d bytes without NUL",
				       PROTO_MAX_PASSWORD);
	return proto_json_strdup(s, len, &req->password, err);
}

static int
proto_request_connect_members(json_object *root, const struct proto_limits *lim,
			      struct proto_request *req,
			      struct proto_error *err)
{
	if (proto_hostlist_parse(root, lim, req, err) == -1 ||
	    proto_request_parse_user(root, req, err) == -1 ||
	    proto_request_parse_jump(root, req, err) == -1 ||
	    proto_request_parse_password(root, req, err) == -1)
		return -1;
	/* run, connect and disconnect (a key names the pools it opened). */
	return proto_fds_parse(root, req, err);
}

static int
proto_request_parse_connect(json_object *root, const struct proto_limits *lim,
			    struct proto_request *req, struct proto_error *err)
{
	return proto_request_connect_members(root, lim, req, err);
}

static int
proto_request_env_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > PROTO_MAX_ENV_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

static int
proto_request_parse_env(json_object *root, const struct proto_limits *lim,
			struct proto_request *req, struct proto_error *err)
{
	json_object *e;
	struct json_object_iterator it, end;
	const char *name, *val;
	size_t n, i = 0, nlen, vlen;

	if (!json_object_object_get_ex(root, "env", &e))
		return 0;
	if (!json_object_is_type(e, json_type_object))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "env: expected an object of strings");
	n = (size_t)json_object_object_length(e);
	if (n > lim->max_env)
		return proto_error_set(
		    err, PROTO_E_LIMIT,
		    "env: %zu entries exceed MaxEnvEntries (%zu)", n,
		    lim->max_env);
	if (n == 0)
		return 0;
	if ((req->env = calloc(n, sizeof *req->env)) == NULL)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	it = json_object_iter_begin(e);
	end = json_object_iter_end(e);
	for (; !json_object_iter_equal(&it, &end);
	     json_object_iter_next(&it), i++) {
		json_object *v = json_object_iter_peek_value(&it);

		name = json_object_iter_peek_name(&it);
		nlen = strlen(name);
		if (!proto_request_env_name_ok(name, nlen))
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "env: invalid variable name \"%.*s\" (expected "
			    "[A-Za-z_][A-Za-z0-9_]*, max %d bytes)",
			    PROTO_MSG_NAME, name, PROTO_MAX_ENV_NAME);
		if (!json_object_is_type(v, json_type_string))
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "env.%s: expected a string",
					       name);
		val = proto_json_str(v, &vlen);
		if (vlen > PROTO_MAX_ENV_VALUE)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "env.%s: value too long (max %d bytes)", name,
			    PROTO_MAX_ENV_VALUE);
		if (proto_json_strdup(name, nlen, &req->env[i].name, err) == -1)
			return -1;
		req->nenv = i + 1;
		if (proto_json_strdup(val, vlen, &req->env[i].value, err) == -1)
			return -1;
	}
	return 0;
}

/* Seconds to milliseconds, rounding up so a tiny timeout never becomes
 * "none", but absorbing the representation error of decimal fractions
 * (0.001 * 1000 must be 1, not 2). */
static long long
proto_request_timeout_ms(double t)
{
	double ms = t * 1000.0, r = nearbyint(ms);
	long long v;

	v = fabs(ms - r) < 1e-6 ? (long long)r : (long long)ceil(ms);
	return v < 1 ? 1 : v;
}

/*
 * Optional duration member in seconds (an integer or a fraction), > 0 and
 * <= PROTO_MAX_TIMEOUT_S; *ms is left alone when the member is absent.
 */
static int
proto_request_seconds(json_object *root, const char *key, long long *ms,
		      struct proto_error *err)
{
	json_object *o;
	long long iv;
	double dv;

	if (!json_object_object_get_ex(root, key, &o))
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		if (proto_json_int(o, key, 1, PROTO_MAX_TIMEOUT_S, &iv, err) ==
		    -1)
			return -1;
		*ms = iv * 1000;
		return 0;
	}
	if (!json_object_is_type(o, json_type_double))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "%s: expected a number of seconds", key);
	dv = json_object_get_double(o);
	if (!isfinite(dv) || dv <= 0 || dv > (double)PROTO_MAX_TIMEOUT_S)
		return proto_error_set(
		    err, PROTO_E_BAD_REQUEST,
		    "%s: out of range (0 < %s <= %lld seconds)", key, key,
		    PROTO_MAX_TIMEOUT_S);
	*ms = proto_request_timeout_ms(dv);
	return 0;
}

static int
proto_request_parse_run(json_object *root, const struct proto_limits *lim,
			struct proto_request *req, struct proto_error *err)
{
	json_object *o;
	const char *s;
	size_t len;
	long dlen;

	if (proto_request_connect_members(root, lim, req, err) == -1)
		return -1;
	if (!json_object_object_get_ex(root, "command", &o))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "command: missing");
	if (!json_object_is_type(o, json_type_string))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "command: expected a string");
	s = proto_json_str(o, &len);
	if (len == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "command: empty");
	if (len > PROTO_MAX_COMMAND)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "command: too long (max %u bytes)",
				       PROTO_MAX_COMMAND);
	if (proto_json_strdup(s, len, &req->command, err) == -1)
		return -1;

	if (proto_request_seconds(root, "timeout", &req->timeout_ms, err) ==
		-1 ||
	    proto_request_seconds(root, "idle_timeout", &req->idle_timeout_ms,
				  err) == -1)
		return -1;

	if (proto_request_parse_env(root, lim, req, err) == -1)
		return -1;

	if (json_object_object_get_ex(root, "pty", &o)) {
		if (!json_object_is_type(o, json_type_boolean))
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "pty: expected true or false");
		req->pty = json_object_get_boolean(o) ? 1 : 0;
	}
	if (json_object_object_get_ex(root, "forward_agent", &o)) {
		if (!json_object_is_type(o, json_type_boolean))
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "forward_agent: expected true or false");
		req->forward_agent = json_object_get_boolean(o) ? 1 : 0;
	}

	if (json_object_object_get_ex(root, "stdin", &o)) {
		if (!json_object_is_type(o, json_type_string))
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "stdin: expected a base64 string");
		s = proto_json_str(o, &len);
		if ((dlen = proto_b64_decoded_len(s, len)) < 0)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "stdin: invalid base64");
		if ((size_t)dlen > lim->max_stdin)
			return proto_error_set(
			    err, PROTO_E_LIMIT,
			    "stdin: %ld bytes exceed MaxStdinBytes "
			    "(%zu)",
			    dlen, lim->max_stdin);
		if ((req->stdin_data = malloc(proto_b64_maxdecoded(len) + 1)) ==
		    NULL)
			return proto_error_set(err, PROTO_E_INTERNAL,
					       "out of memory");
		if ((dlen = proto_b64_decode(req->stdin_data, s, len)) < 0)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "stdin: invalid base64");
		req->stdin_len = (size_t)dlen;
	}
	return 0;
}

static int
proto_request_parse_cancel(json_object *root, const struct proto_limits *lim,
			   struct proto_request *req, struct proto_error *err)
{
	json_object *o;

	if (!json_object_object_get_ex(root, "target", &o))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "target: missing");
	return proto_id_from_json(o, req->target, "target", 0, err);
}

static int
proto_request_parse_status(json_object *root, const struct proto_limits *lim,
			   struct proto_request *req, struct proto_error *err)
{
	return 0;
}

static int
proto_request_check_keys(json_object *root, enum proto_op op,
			 struct proto_error *err)
{
	size_t i;

	json_object_object_foreach(root, key, val)
	{
		(void)val;
		if (proto_fds_path_member(key, err) == -1)
			return -1;
		for (i = 0; i < sizeof proto_request_keys /
				    sizeof proto_request_keys[0];
		     i++) {
			if (strcmp(proto_request_keys[i].name, key) == 0)
				break;
		}
		if (i ==
		    sizeof proto_request_keys / sizeof proto_request_keys[0])
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "unknown key \"%.*s\"",
					       PROTO_MSG_NAME, key);
		if ((proto_request_keys[i].ops & OPF(op)) == 0)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "%s: not allowed in %s", key,
					       proto_request_ops[op].name);
	}
	return 0;
}

void
proto_request_free(struct proto_request *req)
{
	size_t i;

	if (req == NULL)
		return;
	free(req->client);
	for (i = 0; i < req->nhosts; i++)
		free(req->hosts[i]);
	free(req->hosts);
	proto_exclude_free(req->exclude_set);
	for (i = 0; i < req->nexclude; i++)
		free(req->exclude[i]);
	free(req->exclude);
	free(req->user);
	free(req->jump);
	if (req->password != NULL) {
		explicit_bzero(req->password, strlen(req->password));
		free(req->password);
	}
	free(req->command);
	for (i = 0; i < req->nenv; i++) {
		free(req->env[i].name);
		free(req->env[i].value);
	}
	free(req->env);
	free(req->stdin_data);
	free(req);
}

int
proto_request_parse(const char *line, size_t len,
		    const struct proto_limits *limits,
		    struct proto_request **out, struct proto_error *err)
{
	struct proto_error dummy;
	struct proto_limits lim;
	struct proto_request *req = NULL;
	json_object *root = NULL, *o;
	const char *s;
	size_t slen;
	int jr, op;

	if (err == NULL)
		err = &dummy;
	proto_error_clear(err);
	*out = NULL;
	proto_limits_resolve(&lim, limits);
	if (len > lim.max_line)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "line too long (max %zu bytes)",
				       lim.max_line);

	if ((jr = proto_json_parse(line, len, lim.max_depth, &root, err)) ==
	    PROTO_JSON_BAD)
		return -1;
	if (jr == PROTO_JSON_DUP_ID)
		goto fail;
	if (!json_object_object_get_ex(root, "id", &o)) {
		if (jr == 0)
			proto_error_set(err, PROTO_E_BAD_REQUEST,
					"id: missing");
		goto fail;
	}
	if (jr == 0) {
		if (proto_id_from_json(o, err->id, "id", 0, err) == -1) {
			err->id[0] = '\0';
			goto fail;
		}
	} else {
		/* Keep the duplicate-key message, name the id if valid. */
		struct proto_error iderr;

		if (proto_id_from_json(o, err->id, "id", 0, &iderr) == -1)
			err->id[0] = '\0';
		goto fail;
	}
	if (proto_json_check_v(root, err) == -1)
		goto fail;

	if (!json_object_object_get_ex(root, "op", &o)) {
		proto_error_set(err, PROTO_E_BAD_REQUEST, "op: missing");
		goto fail;
	}
	if (!json_object_is_type(o, json_type_string)) {
		proto_error_set(err, PROTO_E_BAD_REQUEST,
				"op: expected a string");
		goto fail;
	}
	s = proto_json_str(o, &slen);
	for (op = 0; op < PROTO_OP_COUNT; op++) {
		if (strcmp(proto_request_ops[op].name, s) == 0)
			break;
	}
	if (op == PROTO_OP_COUNT) {
		proto_error_set(err, PROTO_E_BAD_REQUEST,
				"op: unknown operation \"%.*s\"",
				PROTO_MSG_NAME, s);
		goto fail;
	}
	if (proto_request_check_keys(root, (enum proto_op)op, err) == -1)
		goto fail;

	if ((req = calloc(1, sizeof *req)) == NULL) {
		proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		goto fail;
	}
	req->op = (enum proto_op)op;
	memcpy(req->id, err->id, sizeof req->id);
	if (proto_request_ops[op].parse(root, &lim, req, err) == -1)
		goto fail;
	json_object_put(root);
	*out = req;
	return 0;
fail:
	proto_request_free(req);
	json_object_put(root);
	return -1;
}

static void
proto_request_put_hosts(struct proto_enc *e, const struct proto_request *req)
{
	size_t i;

	proto_enc_lit(e, ",\"hosts\":[");
	for (i = 0; i < req->nhosts; i++) {
		if (i > 0)
			proto_enc_lit(e, ",");
		proto_enc_str(e, req->hosts[i], strlen(req->hosts[i]), 1);
	}
	proto_enc_lit(e, "]");
	if (req->nexclude > 0) {
		proto_enc_lit(e, ",\"exclude\":[");
		for (i = 0; i < req->nexclude; i++) {
			if (i > 0)
				proto_enc_lit(e, ",");
			proto_enc_str(e, req->exclude[i],
				      strlen(req->exclude[i]), 1);
		}
		proto_enc_lit(e, "]");
	}
	if (req->user != NULL) {
		proto_enc_key(e, "user");
		proto_enc_str(e, req->user, strlen(req->user), 1);
	}
	if (req->jump != NULL) {
		proto_enc_key(e, "jump");
		proto_enc_str(e, req->jump, strlen(req->jump), 1);
	}
	if (req->password != NULL) {
		proto_enc_key(e, "password");
		proto_enc_str(e, req->password, strlen(req->password), 1);
	}
}

/* A duration in seconds with millisecond precision; nothing if ms <= 0. */
static void
proto_request_put_seconds(struct proto_enc *e, const char *key, long long ms)
{
	char frac[8];

	if (ms <= 0)
		return;
	proto_enc_key(e, key);
	proto_enc_i64(e, ms / 1000);
	if (ms % 1000 != 0) {
		snprintf(frac, sizeof frac, ".%03lld", ms % 1000);
		proto_enc_raw(e, frac, strlen(frac));
	}
}

static void
proto_request_encode_hello(struct proto_enc *e, const struct proto_request *req)
{
	int v, vmin, vmax;

	vmin = req->version_min;
	vmax = req->version_max;
	if (vmin > 0 && vmax >= vmin) {
		proto_enc_lit(e, ",\"versions\":[");
		if (vmax - vmin >= PROTO_MAX_VERSIONS) {
			/* The list form is bounded: send the ends. */
			proto_enc_i64(e, vmin);
			proto_enc_lit(e, ",");
			proto_enc_i64(e, vmax);
		} else {
			for (v = vmin; v <= vmax; v++) {
				if (v > vmin)
					proto_enc_lit(e, ",");
				proto_enc_i64(e, v);
			}
		}
		proto_enc_lit(e, "]");
	}
	if (req->client != NULL) {
		proto_enc_key(e, "client");
		proto_enc_str(e, req->client, strlen(req->client), 1);
	}
}

static void
proto_request_encode_run(struct proto_enc *e, const struct proto_request *req)
{
	size_t i;
	char *b64;

	proto_request_put_hosts(e, req);
	proto_fds_encode(e, req);
	proto_enc_key(e, "command");
	proto_enc_str(e, req->command != NULL ? req->command : "",
		      req->command != NULL ? strlen(req->command) : 0, 1);
	proto_request_put_seconds(e, "timeout", req->timeout_ms);
	proto_request_put_seconds(e, "idle_timeout", req->idle_timeout_ms);
	if (req->nenv > 0) {
		proto_enc_lit(e, ",\"env\":{");
		for (i = 0; i < req->nenv; i++) {
			if (i > 0)
				proto_enc_lit(e, ",");
			proto_enc_str(e, req->env[i].name,
				      strlen(req->env[i].name), 1);
			proto_enc_lit(e, ":");
			proto_enc_str(e, req->env[i].value,
				      strlen(req->env[i].value), 1);
		}
		proto_enc_lit(e, "}");
	}
	if (req->pty)
		proto_enc_lit(e, ",\"pty\":true");
	if (req->forward_agent)
		proto_enc_lit(e, ",\"forward_agent\":true");
	if (req->stdin_data != NULL) {
		if ((b64 = malloc(proto_b64_len(req->stdin_len) + 1)) == NULL) {
			e->err = ENOMEM;
			return;
		}
		proto_b64_encode(b64, req->stdin_data, req->stdin_len);
		proto_enc_key(e, "stdin");
		proto_enc_lit(e, "\"");
		proto_enc_raw(e, b64, strlen(b64));
		proto_enc_lit(e, "\"");
		free(b64);
	}
}

/* connect and disconnect. */
static void
proto_request_encode_hosts(struct proto_enc *e, const struct proto_request *req)
{
	proto_request_put_hosts(e, req);
	proto_fds_encode(e, req);
}

static void
proto_request_encode_cancel(struct proto_enc *e,
			    const struct proto_request *req)
{
	proto_enc_key(e, "target");
	proto_enc_raw(e, req->target, strlen(req->target));
}

int
proto_request_encode(struct proto_buf *b, const struct proto_request *req)
{
	struct proto_enc e;

	if ((unsigned)req->op >= PROTO_OP_COUNT || req->id[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	proto_enc_begin(&e, b);
	proto_enc_head(&e, req->id, "op", proto_request_ops[req->op].name);
	if (proto_request_ops[req->op].encode != NULL)
		proto_request_ops[req->op].encode(&e, req);
	proto_enc_lit(&e, "}\n");
	return proto_enc_end(&e);
}
