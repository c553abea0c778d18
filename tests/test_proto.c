/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the wire codec: request and event round trips, every
 * validation rule of a request line, host specs, base64, and the guarantee
 * that every emitted line is valid JSON whatever bytes went in.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_int.h"
#include "testutil.h"

#define APPEND(b, lit) proto_buf_append((b), (lit), strlen(lit))

static struct proto_request *
parse_ok(const char *line)
{
	struct proto_request *req = NULL;
	struct proto_error err;

	if (proto_request_parse(line, strlen(line), NULL, &req, &err) != 0)
		ck_abort_msg("rejected %s: %s", line, err.message);
	ck_assert_ptr_nonnull(req);
	return req;
}

/* Encode, check the line ends with exactly one newline, parse it back. */
static struct proto_request *
reencode(const struct proto_request *req)
{
	struct proto_buf b;
	struct proto_request *back = NULL;
	struct proto_error err;

	proto_buf_init(&b);
	ck_assert_int_eq(proto_request_encode(&b, req), 0);
	ck_assert_uint_gt(b.len, 1);
	ck_assert_int_eq(b.data[b.len - 1], '\n');
	ck_assert_ptr_null(memchr(b.data, '\n', b.len - 1));
	if (proto_request_parse(b.data, b.len - 1, NULL, &back, &err) != 0)
		ck_abort_msg("re-parse of %s failed: %s", b.data, err.message);
	proto_buf_free(&b);
	return back;
}

static struct proto_event *
event_ok(const struct proto_buf *b)
{
	struct proto_event *ev = NULL;
	struct proto_error err;

	ck_assert_uint_gt(b->len, 1);
	ck_assert_int_eq(b->data[b->len - 1], '\n');
	ck_assert_ptr_null(memchr(b->data, '\n', b->len - 1));
	if (proto_event_parse(b->data, b->len - 1, &ev, &err) != 0)
		ck_abort_msg("event %s rejected: %s", b->data, err.message);
	return ev;
}

/* Valid JSON for a strict third party: json-c with UTF-8 validation. */
static void
assert_valid_json(const char *s, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	ck_assert_msg(o != NULL, "not valid JSON: %.*s", (int)len, s);
	ck_assert_int_eq(json_tokener_get_error(tok), json_tokener_success);
	ck_assert(json_object_is_type(o, json_type_object));
	json_object_put(o);
	json_tokener_free(tok);
}

/* ---- Request round trips ---- */

START_TEST(test_req_hello_roundtrip)
{
	struct proto_request *req, *back;

	req = parse_ok("{\"v\":1,\"id\":1,\"op\":\"hello\",\"versions\":[1],"
		       "\"client\":\"sshpool/0.1.0\"}");
	ck_assert_int_eq(req->op, PROTO_OP_HELLO);
	ck_assert_str_eq(req->id, "1");
	ck_assert_int_eq(req->version_min, 1);
	ck_assert_int_eq(req->version_max, 1);
	ck_assert_str_eq(req->client, "sshpool/0.1.0");
	back = reencode(req);
	ck_assert_int_eq(back->op, PROTO_OP_HELLO);
	ck_assert_str_eq(back->id, "1");
	ck_assert_int_eq(back->version_min, 1);
	ck_assert_str_eq(back->client, "sshpool/0.1.0");
	proto_request_free(back);
	proto_request_free(req);

	req = parse_ok("{\"v\":1,\"id\":\"h\",\"op\":\"hello\"}");
	ck_assert_int_eq(req->version_min, 1);
	ck_assert_int_eq(req->version_max, 1);
	ck_assert_ptr_null(req->client);
	proto_request_free(req);

	req = parse_ok(
	    "{\"v\":1,\"id\":2,\"op\":\"hello\",\"versions\":[3,1,2]}");
	ck_assert_int_eq(req->version_min, 1);
	ck_assert_int_eq(req->version_max, 3);
	back = reencode(req);
	ck_assert_int_eq(back->version_min, 1);
	ck_assert_int_eq(back->version_max, 3);
	proto_request_free(back);
	proto_request_free(req);
}
END_TEST

START_TEST(test_req_run_roundtrip)
{
	struct proto_request *req, *back;
	const char *line =
	    "{\"v\":1,\"id\":\"r1\",\"op\":\"run\",\"hosts\":[\"web1\","
	    "\"root@10.0.0.5:2222\",\"[::1]:22\",\"::1\"],\"command\":"
	    "\"uptime; echo \\\"\\u00e9\\\"\\n\",\"user\":\"deploy\","
	    "\"timeout\":30,\"idle_timeout\":2.25,"
	    "\"env\":{\"LANG\":\"C\",\"_X1\":\"a b\"},"
	    "\"pty\":true,\"stdin\":\"AAEC/w==\"}";
	size_t i;

	req = parse_ok(line);
	ck_assert_int_eq(req->op, PROTO_OP_RUN);
	ck_assert_str_eq(req->id, "\"r1\"");
	ck_assert_uint_eq(req->nhosts, 4);
	ck_assert_str_eq(req->hosts[1], "root@10.0.0.5:2222");
	ck_assert_str_eq(req->hosts[3], "::1");
	ck_assert_str_eq(req->command, "uptime; echo \"\xc3\xa9\"\n");
	ck_assert_str_eq(req->user, "deploy");
	ck_assert_int_eq(req->timeout_ms, 30000);
	ck_assert_int_eq(req->idle_timeout_ms, 2250);
	ck_assert_uint_eq(req->nenv, 2);
	ck_assert_str_eq(req->env[0].name, "LANG");
	ck_assert_str_eq(req->env[1].value, "a b");
	ck_assert_int_eq(req->pty, 1);
	ck_assert_uint_eq(req->stdin_len, 4);
	ck_assert_mem_eq(req->stdin_data, "\x00\x01\x02\xff", 4);

	back = reencode(req);
	ck_assert_int_eq(back->op, PROTO_OP_RUN);
	ck_assert_str_eq(back->id, req->id);
	ck_assert_uint_eq(back->nhosts, req->nhosts);
	for (i = 0; i < req->nhosts; i++)
		ck_assert_str_eq(back->hosts[i], req->hosts[i]);
	ck_assert_str_eq(back->command, req->command);
	ck_assert_str_eq(back->user, req->user);
	ck_assert_int_eq(back->timeout_ms, req->timeout_ms);
	ck_assert_int_eq(back->idle_timeout_ms, 2250);
	ck_assert_uint_eq(back->nenv, 2);
	for (i = 0; i < req->nenv; i++) {
		ck_assert_str_eq(back->env[i].name, req->env[i].name);
		ck_assert_str_eq(back->env[i].value, req->env[i].value);
	}
	ck_assert_int_eq(back->pty, 1);
	ck_assert_uint_eq(back->stdin_len, 4);
	ck_assert_mem_eq(back->stdin_data, req->stdin_data, 4);
	proto_request_free(back);
	proto_request_free(req);

	/* Minimal run: defaults. */
	req = parse_ok("{\"v\":1,\"id\":0,\"op\":\"run\",\"hosts\":[\"h\"],"
		       "\"command\":\"true\"}");
	ck_assert_str_eq(req->id, "0");
	ck_assert_ptr_null(req->user);
	ck_assert_int_eq(req->timeout_ms, 0);
	ck_assert_int_eq(req->idle_timeout_ms, 0);
	ck_assert_int_eq(req->pty, 0);
	ck_assert_uint_eq(req->nenv, 0);
	ck_assert_ptr_null(req->stdin_data);
	back = reencode(req);
	ck_assert_ptr_null(back->stdin_data);
	ck_assert_int_eq(back->timeout_ms, 0);
	ck_assert_int_eq(back->idle_timeout_ms, 0);
	proto_request_free(back);
	proto_request_free(req);

	/* Empty stdin is present but empty. */
	req = parse_ok("{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"h\"],"
		       "\"command\":\"cat\",\"stdin\":\"\"}");
	ck_assert_ptr_nonnull(req->stdin_data);
	ck_assert_uint_eq(req->stdin_len, 0);
	back = reencode(req);
	ck_assert_ptr_nonnull(back->stdin_data);
	ck_assert_uint_eq(back->stdin_len, 0);
	proto_request_free(back);
	proto_request_free(req);
}
END_TEST

START_TEST(test_req_timeout_fractions)
{
	static const struct {
		const char *text;
		long long ms;
	} cases[] = {
	    {"0.001", 1},
	    {"1.5", 1500},
	    {"0.0001", 1},
	    {"1e-9", 1},
	    {"604799.999", 604799999},
	    {"604800", 604800000},
	    {"604800.0", 604800000},
	    {"2.5e1", 25000},
	    {"0.0015", 2},
	};
	struct proto_request *req, *back;
	char line[256];
	size_t i;

	/* idle_timeout is set alone so a mix-up of the two would show. */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(line, sizeof line,
			 "{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"h\"],"
			 "\"command\":\"c\",\"timeout\":%s}",
			 cases[i].text);
		req = parse_ok(line);
		ck_assert_msg(req->timeout_ms == cases[i].ms,
			      "%s -> %lld, want %lld", cases[i].text,
			      req->timeout_ms, cases[i].ms);
		ck_assert_int_eq(req->idle_timeout_ms, 0);
		back = reencode(req);
		ck_assert_int_eq(back->timeout_ms, req->timeout_ms);
		ck_assert_int_eq(back->idle_timeout_ms, 0);
		proto_request_free(back);
		proto_request_free(req);

		snprintf(line, sizeof line,
			 "{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"h\"],"
			 "\"command\":\"c\",\"idle_timeout\":%s}",
			 cases[i].text);
		req = parse_ok(line);
		ck_assert_msg(req->idle_timeout_ms == cases[i].ms,
			      "idle %s -> %lld, want %lld", cases[i].text,
			      req->idle_timeout_ms, cases[i].ms);
		ck_assert_int_eq(req->timeout_ms, 0);
		back = reencode(req);
		ck_assert_int_eq(back->idle_timeout_ms, req->idle_timeout_ms);
		ck_assert_int_eq(back->timeout_ms, 0);
		proto_request_free(back);
		proto_request_free(req);
	}
}
END_TEST

START_TEST(test_req_connect_cancel_status_roundtrip)
{
	struct proto_request *req, *back;

	req = parse_ok("{\"v\":1,\"id\":\"w1\",\"op\":\"connect\",\"hosts\":"
		       "[\"a\",\"u@b:2\"],\"user\":\"deploy\"}");
	ck_assert_int_eq(req->op, PROTO_OP_CONNECT);
	ck_assert_uint_eq(req->nhosts, 2);
	ck_assert_ptr_null(req->command);
	back = reencode(req);
	ck_assert_int_eq(back->op, PROTO_OP_CONNECT);
	ck_assert_uint_eq(back->nhosts, 2);
	ck_assert_str_eq(back->hosts[1], "u@b:2");
	ck_assert_str_eq(back->user, "deploy");
	proto_request_free(back);
	proto_request_free(req);

	req = parse_ok(
	    "{\"v\":1,\"id\":\"c1\",\"op\":\"cancel\",\"target\":\"r1\"}");
	ck_assert_int_eq(req->op, PROTO_OP_CANCEL);
	ck_assert_str_eq(req->target, "\"r1\"");
	back = reencode(req);
	ck_assert_str_eq(back->target, "\"r1\"");
	proto_request_free(back);
	proto_request_free(req);

	req =
	    parse_ok("{\"v\":1,\"id\":\"c2\",\"op\":\"cancel\",\"target\":42}");
	ck_assert_str_eq(req->target, "42");
	back = reencode(req);
	ck_assert_str_eq(back->target, "42");
	proto_request_free(back);
	proto_request_free(req);

	req = parse_ok("{\"v\":1,\"id\":9007199254740991,\"op\":\"status\"}");
	ck_assert_int_eq(req->op, PROTO_OP_STATUS);
	ck_assert_str_eq(req->id, "9007199254740991");
	back = reencode(req);
	ck_assert_int_eq(back->op, PROTO_OP_STATUS);
	ck_assert_str_eq(back->id, "9007199254740991");
	proto_request_free(back);
	proto_request_free(req);

	/* Whitespace around members and a trailing CR are fine. */
	req = parse_ok(" { \"op\" : \"status\" , \"id\" : \"s\" , \"v\" : 1 "
		       "} \r");
	ck_assert_str_eq(req->id, "\"s\"");
	proto_request_free(req);
}
END_TEST

START_TEST(test_req_encode_rejects_invalid_utf8)
{
	struct proto_request *req;
	struct proto_buf b;

	req = parse_ok("{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"h\"],"
		       "\"command\":\"c\"}");
	free(req->command);
	req->command = strdup("bad \xff byte");
	proto_buf_init(&b);
	ck_assert_int_eq(APPEND(&b, "keep"), 0);
	errno = 0;
	ck_assert_int_eq(proto_request_encode(&b, req), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* A failed encoder leaves the buffer as it was. */
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq(b.data, "keep");
	proto_buf_free(&b);
	proto_request_free(req);
}
END_TEST

START_TEST(test_req_many_hosts)
{
	struct proto_buf b;
	struct proto_request *req = NULL;
	struct proto_error err;
	char tmp[64];
	int i;

	proto_buf_init(&b);
	ck_assert_int_eq(
	    APPEND(&b, "{\"v\":1,\"id\":1,\"op\":\"connect\",\"hosts\":["), 0);
	for (i = 0; i < PROTO_DEFAULT_MAX_HOSTS; i++) {
		snprintf(tmp, sizeof tmp, "%s\"u@h%d.example:%d\"",
			 i ? "," : "", i, 1 + i % 65535);
		ck_assert_int_eq(proto_buf_append(&b, tmp, strlen(tmp)), 0);
	}
	ck_assert_int_eq(APPEND(&b, "]}"), 0);
	ck_assert_int_eq(proto_request_parse(b.data, b.len, NULL, &req, &err),
			 0);
	ck_assert_uint_eq(req->nhosts, PROTO_DEFAULT_MAX_HOSTS);
	ck_assert_str_eq(req->hosts[9999], "u@h9999.example:10000");
	proto_request_free(req);
	proto_buf_free(&b);
}
END_TEST

/* ---- Request validation: each rule has a failing line ---- */

struct bad_case {
	const char *line;
	enum proto_code code;
	const char *msg; /* substring of the message */
	const char *id;  /* expected err->id */
};

#define RUN_HEAD "{\"v\":1,\"id\":\"r\",\"op\":\"run\","
#define RUN_OK RUN_HEAD "\"hosts\":[\"h\"],\"command\":\"c\""

static const struct bad_case bad_cases[] = {
    /* Framing and JSON. */
    {"", PROTO_E_BAD_REQUEST, "expected a JSON object", ""},
    {"[1]", PROTO_E_BAD_REQUEST, "expected a JSON object", ""},
    {"\"x\"", PROTO_E_BAD_REQUEST, "expected a JSON object", ""},
    {"{\"v\":1,\"id\":1,\"op\":\"status\"", PROTO_E_BAD_REQUEST,
     "unexpected end", ""},
    {"{'v':1,'id':1,'op':'status'}", PROTO_E_BAD_REQUEST, "double-quoted", ""},
    {"{\"v\":1,\"id\":'a',\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "single quotes", ""},
    {"{\"v\":1,\"id\":1,\"op\":\"status\"} x", PROTO_E_BAD_REQUEST,
     "trailing data", ""},
    {"{\"v\":1,\"id\":1,\"op\":\"status\"}{}", PROTO_E_BAD_REQUEST,
     "trailing data", ""},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",}", PROTO_E_BAD_REQUEST,
     "double-quoted", ""},
    {"{\"v\":01,\"id\":1,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "leading zero", ""},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"x\":NaN}", PROTO_E_BAD_REQUEST,
     "unexpected character", ""},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"x\":tru}", PROTO_E_BAD_REQUEST,
     "unexpected character", ""},
    {"{\"v\":1,\"id\":\"a\\u0000b\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "NUL", ""},
    {"{\"v\":1,\"id\":\"ab\",\"op\":\"status\",\"x\":\"\\ud800\"}",
     PROTO_E_BAD_REQUEST, "surrogate", ""},
    {"{\"v\":1,\"id\":\"ab\",\"op\":\"status\",\"x\":\"\\q\"}",
     PROTO_E_BAD_REQUEST, "invalid escape", ""},
    {"{\"v\":1,\"id\":\"a\tb\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "control character", ""},
    {"{\"v\":1,\"id\":\"\xc3\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "invalid UTF-8", ""},
    {"{\"v\":1,\"id\":\"\xc0\xaf\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "invalid UTF-8", ""},
    {"{\"v\":1,\"id\":\"\xed\xa0\x80\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "invalid UTF-8", ""},
    {"{\"v\":1,\"id\":\"\xf4\x90\x80\x80\",\"op\":\"status\"}",
     PROTO_E_BAD_REQUEST, "invalid UTF-8", ""},
    /* Duplicate keys, also spelled differently. */
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"op\":\"status\"}",
     PROTO_E_BAD_REQUEST, "duplicate key \"op\"", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"id\":2}", PROTO_E_BAD_REQUEST,
     "duplicate key \"id\"", ""},
    {RUN_OK ",\"env\":{\"A\":\"1\",\"\\u0041\":\"2\"}}", PROTO_E_BAD_REQUEST,
     "env: duplicate key \"A\"", "\"r\""},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"x\":[{},{\"a\":1,\"a\":2}]}",
     PROTO_E_BAD_REQUEST, "x[1]: duplicate key \"a\"", "1"},
    /* id. */
    {"{\"v\":1,\"op\":\"status\"}", PROTO_E_BAD_REQUEST, "id: missing", ""},
    {"{\"v\":1,\"id\":null,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: expected a string or an integer", ""},
    {"{\"v\":1,\"id\":1.5,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: expected a string or an integer", ""},
    {"{\"v\":1,\"id\":1.0,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: expected a string or an integer", ""},
    {"{\"v\":1,\"id\":true,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: expected", ""},
    {"{\"v\":1,\"id\":-1,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: integer out of range", ""},
    {"{\"v\":1,\"id\":9007199254740992,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: integer out of range", ""},
    {"{\"v\":1,\"id\":99999999999999999999,\"op\":\"status\"}",
     PROTO_E_BAD_REQUEST, "id: integer out of range", ""},
    {"{\"v\":1,\"id\":-99999999999999999999,\"op\":\"status\"}",
     PROTO_E_BAD_REQUEST, "id: integer out of range", ""},
    {"{\"v\":1,\"id\":1e400,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: expected", ""},
    {"{\"v\":1,\"id\":\"\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: empty", ""},
    {"{\"v\":1,\"id\":\"0123456789012345678901234567890123456789"
     "01234567890123456789012345\",\"op\":\"status\"}",
     PROTO_E_BAD_REQUEST, "id: too long (max 64", ""},
    {"{\"v\":1,\"id\":\"a\\\"b\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: only printable ASCII", ""},
    {"{\"v\":1,\"id\":\"\xc3\xa9\",\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "id: only printable ASCII", ""},
    /* v. */
    {"{\"id\":1,\"op\":\"status\"}", PROTO_E_BAD_REQUEST, "v: missing", "1"},
    {"{\"v\":\"1\",\"id\":1,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "v: expected an integer", "1"},
    {"{\"v\":1.0,\"id\":1,\"op\":\"status\"}", PROTO_E_BAD_REQUEST,
     "v: expected an integer", "1"},
    {"{\"v\":2,\"id\":1,\"op\":\"status\"}", PROTO_E_UNSUPPORTED_VERSION,
     "supported: 1", "1"},
    {"{\"v\":0,\"id\":1,\"op\":\"status\"}", PROTO_E_UNSUPPORTED_VERSION,
     "supported: 1", "1"},
    {"{\"v\":99999999999999999999,\"id\":1,\"op\":\"status\"}",
     PROTO_E_BAD_REQUEST, "v: out of range", "1"},
    /* op and keys. */
    {"{\"v\":1,\"id\":1}", PROTO_E_BAD_REQUEST, "op: missing", "1"},
    {"{\"v\":1,\"id\":1,\"op\":3}", PROTO_E_BAD_REQUEST,
     "op: expected a string", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"reboot\"}", PROTO_E_BAD_REQUEST,
     "op: unknown operation \"reboot\"", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"x\":1}", PROTO_E_BAD_REQUEST,
     "unknown key \"x\"", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"hosts\":[\"a\"]}",
     PROTO_E_BAD_REQUEST, "hosts: not allowed in status", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"connect\",\"hosts\":[\"a\"],"
     "\"command\":\"c\"}",
     PROTO_E_BAD_REQUEST, "command: not allowed in connect", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"connect\",\"hosts\":[\"a\"],"
     "\"idle_timeout\":5}",
     PROTO_E_BAD_REQUEST, "idle_timeout: not allowed in connect", "1"},
    /* fds: descriptors passed with the request. */
    {"{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"a\"],\"command\":\"c\","
     "\"fds\":\"key\"}",
     PROTO_E_BAD_REQUEST, "fds: expected an array of roles", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"a\"],\"command\":\"c\","
     "\"fds\":[\"key\",1]}",
     PROTO_E_BAD_REQUEST, "fds[1]: expected a role string", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"connect\",\"hosts\":[\"a\"],"
     "\"fds\":[\"password\"]}",
     PROTO_E_BAD_REQUEST, "fds[0]: unknown role \"password\"", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"connect\",\"hosts\":[\"a\"],"
     "\"fds\":[\"KEY\"]}",
     PROTO_E_BAD_REQUEST, "fds[0]: unknown role \"KEY\"", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"connect\",\"hosts\":[\"a\"],"
     "\"fds\":[\"key\",\"key\",\"key\",\"key\",\"key\",\"key\",\"key\","
     "\"key\",\"key\",\"key\",\"key\",\"key\",\"key\",\"key\",\"key\","
     "\"key\",\"key\"]}",
     PROTO_E_BAD_REQUEST, "fds: 17 descriptors, at most 16", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"cancel\",\"target\":2,"
     "\"fds\":[]}",
     PROTO_E_BAD_REQUEST, "fds: not allowed in cancel", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"password\":\"x\"}",
     PROTO_E_BAD_REQUEST, "password: not allowed in status", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"a\"],"
     "\"command\":\"true\",\"password\":\"\"}",
     PROTO_E_BAD_REQUEST, "password: 1..1024 bytes without NUL", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"fds\":[\"agent\"]}",
     PROTO_E_BAD_REQUEST, "fds: not allowed in status", "1"},
    /* A key file named by path: the daemon opens none. */
    {"{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"a\"],\"command\":\"c\","
     "\"identity_file\":\"/root/.ssh/id_ed25519\"}",
     PROTO_E_BAD_REQUEST,
     "identity_file: the daemon opens no file named by a client; pass the "
     "open key as a descriptor (fds: [\"key\"])",
     "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"connect\",\"hosts\":[\"a\"],"
     "\"key_file\":\"k\"}",
     PROTO_E_BAD_REQUEST, "key_file: the daemon opens no file named", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"status\",\"identity\":\"k\"}",
     PROTO_E_BAD_REQUEST, "identity: the daemon opens no file named", "1"},
    /* hello. */
    {"{\"v\":1,\"id\":1,\"op\":\"hello\",\"versions\":1}", PROTO_E_BAD_REQUEST,
     "versions: expected an array", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"hello\",\"versions\":[\"1\"]}",
     PROTO_E_BAD_REQUEST, "versions[0]: expected an integer", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"hello\",\"versions\":[1,0]}",
     PROTO_E_BAD_REQUEST, "versions[1]: out of range", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"hello\",\"versions\":[2,3]}",
     PROTO_E_UNSUPPORTED_VERSION, "supported: 1", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"hello\",\"versions\":[]}",
     PROTO_E_UNSUPPORTED_VERSION, "supported: 1", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"hello\",\"client\":7}", PROTO_E_BAD_REQUEST,
     "client: expected a string", "1"},
    /* hosts. */
    {RUN_HEAD "\"command\":\"c\"}", PROTO_E_BAD_REQUEST, "hosts: missing",
     "\"r\""},
    {RUN_HEAD "\"hosts\":[],\"command\":\"c\"}", PROTO_E_BAD_REQUEST,
     "hosts: empty", "\"r\""},
    {RUN_HEAD "\"hosts\":\"h\",\"command\":\"c\"}", PROTO_E_BAD_REQUEST,
     "hosts: expected an array of strings", "\"r\""},
    {RUN_HEAD "\"hosts\":[\"a\",1],\"command\":\"c\"}", PROTO_E_BAD_REQUEST,
     "hosts[1]: expected a string", "\"r\""},
    {RUN_HEAD "\"hosts\":[\"a\",\"b c\"],\"command\":\"c\"}",
     PROTO_E_BAD_REQUEST, "hosts[1]: host name contains a space", "\"r\""},
    {RUN_HEAD "\"hosts\":[\"a\",\"b\",\"a:1\",\"b\"],\"command\":\"c\"}",
     PROTO_E_BAD_REQUEST, "hosts[3]: duplicate of hosts[1]", "\"r\""},
    {RUN_HEAD "\"hosts\":[\"h:0\"],\"command\":\"c\"}", PROTO_E_BAD_REQUEST,
     "hosts[0]: port out of range", "\"r\""},
    /* command. */
    {RUN_HEAD "\"hosts\":[\"h\"]}", PROTO_E_BAD_REQUEST, "command: missing",
     "\"r\""},
    {RUN_HEAD "\"hosts\":[\"h\"],\"command\":\"\"}", PROTO_E_BAD_REQUEST,
     "command: empty", "\"r\""},
    {RUN_HEAD "\"hosts\":[\"h\"],\"command\":[\"ls\"]}", PROTO_E_BAD_REQUEST,
     "command: expected a string", "\"r\""},
    /* user. */
    {RUN_OK ",\"user\":\"\"}", PROTO_E_BAD_REQUEST, "user: empty user name",
     "\"r\""},
    {RUN_OK ",\"user\":\"a b\"}", PROTO_E_BAD_REQUEST,
     "user: user name contains a space", "\"r\""},
    {RUN_OK ",\"user\":\"-oProxy\"}", PROTO_E_BAD_REQUEST,
     "user: user name must not start with '-'", "\"r\""},
    {RUN_OK ",\"user\":1}", PROTO_E_BAD_REQUEST, "user: expected a string",
     "\"r\""},
    /* timeout. */
    {RUN_OK ",\"timeout\":0}", PROTO_E_BAD_REQUEST, "timeout: out of range",
     "\"r\""},
    {RUN_OK ",\"timeout\":-1}", PROTO_E_BAD_REQUEST, "timeout: out of range",
     "\"r\""},
    {RUN_OK ",\"timeout\":-0.5}", PROTO_E_BAD_REQUEST, "timeout: out of range",
     "\"r\""},
    {RUN_OK ",\"timeout\":604801}", PROTO_E_BAD_REQUEST,
     "timeout: out of range", "\"r\""},
    {RUN_OK ",\"timeout\":604800.001}", PROTO_E_BAD_REQUEST,
     "timeout: out of range", "\"r\""},
    {RUN_OK ",\"timeout\":1e400}", PROTO_E_BAD_REQUEST, "timeout: out of range",
     "\"r\""},
    {RUN_OK ",\"timeout\":-1e400}", PROTO_E_BAD_REQUEST,
     "timeout: out of range", "\"r\""},
    {RUN_OK ",\"timeout\":99999999999999999999}", PROTO_E_BAD_REQUEST,
     "timeout: out of range", "\"r\""},
    {RUN_OK ",\"timeout\":1e-400}", PROTO_E_BAD_REQUEST,
     "timeout: out of range", "\"r\""},
    {RUN_OK ",\"timeout\":\"30\"}", PROTO_E_BAD_REQUEST,
     "timeout: expected a number", "\"r\""},
    /* idle_timeout: the same rules as timeout. */
    {RUN_OK ",\"idle_timeout\":0}", PROTO_E_BAD_REQUEST,
     "idle_timeout: out of range", "\"r\""},
    {RUN_OK ",\"idle_timeout\":-2.5}", PROTO_E_BAD_REQUEST,
     "idle_timeout: out of range (0 < idle_timeout <= 604800 seconds)",
     "\"r\""},
    {RUN_OK ",\"idle_timeout\":604801}", PROTO_E_BAD_REQUEST,
     "idle_timeout: out of range", "\"r\""},
    {RUN_OK ",\"idle_timeout\":604800.001}", PROTO_E_BAD_REQUEST,
     "idle_timeout: out of range", "\"r\""},
    {RUN_OK ",\"idle_timeout\":1e400}", PROTO_E_BAD_REQUEST,
     "idle_timeout: out of range", "\"r\""},
    {RUN_OK ",\"idle_timeout\":99999999999999999999}", PROTO_E_BAD_REQUEST,
     "idle_timeout: out of range", "\"r\""},
    {RUN_OK ",\"idle_timeout\":\"5\"}", PROTO_E_BAD_REQUEST,
     "idle_timeout: expected a number of seconds", "\"r\""},
    {RUN_OK ",\"idle_timeout\":null}", PROTO_E_BAD_REQUEST,
     "idle_timeout: expected a number", "\"r\""},
    {RUN_OK ",\"idle_timeout\":1,\"idle_timeout\":2}", PROTO_E_BAD_REQUEST,
     "duplicate key", "\"r\""},
    /* env. */
    {RUN_OK ",\"env\":[]}", PROTO_E_BAD_REQUEST, "env: expected an object",
     "\"r\""},
    {RUN_OK ",\"env\":{\"1A\":\"x\"}}", PROTO_E_BAD_REQUEST,
     "env: invalid variable name \"1A\"", "\"r\""},
    {RUN_OK ",\"env\":{\"A-B\":\"x\"}}", PROTO_E_BAD_REQUEST,
     "env: invalid variable name", "\"r\""},
    {RUN_OK ",\"env\":{\"\":\"x\"}}", PROTO_E_BAD_REQUEST,
     "env: invalid variable name", "\"r\""},
    {RUN_OK ",\"env\":{\"A=B\":\"x\"}}", PROTO_E_BAD_REQUEST,
     "env: invalid variable name", "\"r\""},
    {RUN_OK ",\"env\":{\"A\":1}}", PROTO_E_BAD_REQUEST,
     "env.A: expected a string", "\"r\""},
    {RUN_OK ",\"env\":{\"A\":null}}", PROTO_E_BAD_REQUEST,
     "env.A: expected a string", "\"r\""},
    /* pty, stdin. */
    {RUN_OK ",\"pty\":1}", PROTO_E_BAD_REQUEST, "pty: expected true or false",
     "\"r\""},
    {RUN_OK ",\"pty\":\"true\"}", PROTO_E_BAD_REQUEST,
     "pty: expected true or false", "\"r\""},
    {RUN_OK ",\"stdin\":\"abc\"}", PROTO_E_BAD_REQUEST, "stdin: invalid base64",
     "\"r\""},
    {RUN_OK ",\"stdin\":\"ab!=\"}", PROTO_E_BAD_REQUEST,
     "stdin: invalid base64", "\"r\""},
    {RUN_OK ",\"stdin\":\"YQ\"}", PROTO_E_BAD_REQUEST, "stdin: invalid base64",
     "\"r\""},
    {RUN_OK ",\"stdin\":5}", PROTO_E_BAD_REQUEST,
     "stdin: expected a base64 string", "\"r\""},
    /* cancel. */
    {"{\"v\":1,\"id\":1,\"op\":\"cancel\"}", PROTO_E_BAD_REQUEST,
     "target: missing", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"cancel\",\"target\":[1]}", PROTO_E_BAD_REQUEST,
     "target: expected a string or an integer", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"cancel\",\"target\":null}",
     PROTO_E_BAD_REQUEST, "target: expected a string or an integer", "1"},
    {"{\"v\":1,\"id\":1,\"op\":\"cancel\",\"target\":-5}", PROTO_E_BAD_REQUEST,
     "target: integer out of range", "1"},
};

START_TEST(test_req_invalid)
{
	const struct bad_case *c = &bad_cases[_i];
	struct proto_request *req = (void *)1;
	struct proto_error err;
	int rc;

	rc = proto_request_parse(c->line, strlen(c->line), NULL, &req, &err);
	ck_assert_msg(rc == -1, "accepted: %s", c->line);
	ck_assert_ptr_null(req);
	ck_assert_msg(err.code == c->code, "%s: code %s, want %s", c->line,
		      proto_code_name(err.code), proto_code_name(c->code));
	ck_assert_msg(strstr(err.message, c->msg) != NULL,
		      "%s: message \"%s\" lacks \"%s\"", c->line, err.message,
		      c->msg);
	ck_assert_msg(strcmp(err.id, c->id) == 0, "%s: id '%s', want '%s'",
		      c->line, err.id, c->id);
}
END_TEST

START_TEST(test_req_fds)
{
	struct proto_request *req, *back;
	struct proto_buf b;

	/* Roles in order; an empty list announces none. */
	req =
	    parse_ok("{\"v\":1,\"id\":1,\"op\":\"run\",\"hosts\":[\"a\"],"
		     "\"command\":\"c\",\"fds\":[\"agent\",\"key\",\"key\"]}");
	ck_assert_uint_eq(req->nfds, 3);
	ck_assert_int_eq(req->fds[0], PROTO_FD_AGENT);
	ck_assert_int_eq(req->fds[1], PROTO_FD_KEY);
	ck_assert_int_eq(req->fds[2], PROTO_FD_KEY);
	back = reencode(req);
	ck_assert_uint_eq(back->nfds, 3);
	ck_assert_int_eq(back->fds[0], PROTO_FD_AGENT);
	ck_assert_int_eq(back->fds[2], PROTO_FD_KEY);
	proto_request_free(back);
	proto_request_free(req);

	req = parse_ok("{\"v\":1,\"id\":2,\"op\":\"connect\",\"hosts\":[\"a\"],"
		       "\"fds\":[\"key\"]}");
	ck_assert_uint_eq(req->nfds, 1);
	proto_buf_init(&b);
	ck_assert_int_eq(proto_request_encode(&b, req), 0);
	ck_assert_ptr_nonnull(strstr(b.data, ",\"fds\":[\"key\"]"));
	proto_buf_free(&b);
	proto_request_free(req);

	req = parse_ok("{\"v\":1,\"id\":3,\"op\":\"connect\",\"hosts\":[\"a\"],"
		       "\"fds\":[]}");
	ck_assert_uint_eq(req->nfds, 0);
	proto_buf_init(&b);
	ck_assert_int_eq(proto_request_encode(&b, req), 0);
	ck_assert_ptr_null(strstr(b.data, "fds"));
	proto_buf_free(&b);
	proto_request_free(req);

	ck_assert_str_eq(proto_fd_role_name(PROTO_FD_AGENT), "agent");
	ck_assert_str_eq(proto_fd_role_name(PROTO_FD_KEY), "key");
	ck_assert_str_eq(proto_fd_role_name(PROTO_FD_ROLE_COUNT), "unknown");
}
END_TEST

START_TEST(test_req_depth)
{
	char line[256];
	struct proto_request *req = NULL;
	struct proto_error err;
	int depth, i, n;

	/* The request object is level 1; "x" adds 15 or 16 more. */
	for (depth = 16; depth <= 17; depth++) {
		n = snprintf(line, sizeof line,
			     "{\"v\":1,\"id\":1,\"op\":\"status\",\"x\":");
		for (i = 1; i < depth; i++)
			line[n++] = '[';
		for (i = 1; i < depth; i++)
			line[n++] = ']';
		line[n++] = '}';
		line[n] = '\0';
		ck_assert_int_eq(proto_request_parse(line, n, NULL, &req, &err),
				 -1);
		if (depth == 16)
			ck_assert_str_eq(err.message, "unknown key \"x\"");
		else
			ck_assert_ptr_nonnull(
			    strstr(err.message, "nesting deeper than 16"));
	}
}
END_TEST

START_TEST(test_req_limits)
{
	struct proto_limits lim;
	struct proto_request *req = NULL;
	struct proto_error err;
	const char *three = RUN_HEAD "\"hosts\":[\"a\",\"b\",\"c\"],"
				     "\"command\":\"c\"}";
	const char *in5 = RUN_OK ",\"stdin\":\"MTIzNDU=\"}"; /* 12345 */
	const char *in4 = RUN_OK ",\"stdin\":\"MTIzNA==\"}"; /* 1234 */

	proto_limits_default(&lim);
	ck_assert_uint_eq(lim.max_line, PROTO_DEFAULT_MAX_LINE);
	ck_assert_uint_eq(lim.max_hosts, PROTO_DEFAULT_MAX_HOSTS);
	ck_assert_uint_eq(lim.max_stdin, PROTO_DEFAULT_MAX_STDIN);
	ck_assert_uint_eq(lim.max_env, PROTO_MAX_ENV);
	ck_assert_int_eq(lim.max_depth, PROTO_MAX_DEPTH);

	lim.max_hosts = 2;
	ck_assert_int_eq(
	    proto_request_parse(three, strlen(three), &lim, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	ck_assert_str_eq(err.message,
			 "hosts: 3 hosts exceed MaxHostsPerRequest (2)");
	ck_assert_str_eq(err.id, "\"r\"");
	lim.max_hosts = 3;
	ck_assert_int_eq(
	    proto_request_parse(three, strlen(three), &lim, &req, &err), 0);
	proto_request_free(req);

	lim.max_stdin = 4;
	ck_assert_int_eq(
	    proto_request_parse(in5, strlen(in5), &lim, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	ck_assert_str_eq(err.message,
			 "stdin: 5 bytes exceed MaxStdinBytes (4)");
	ck_assert_str_eq(err.id, "\"r\"");
	ck_assert_int_eq(
	    proto_request_parse(in4, strlen(in4), &lim, &req, &err), 0);
	ck_assert_uint_eq(req->stdin_len, 4);
	ck_assert_mem_eq(req->stdin_data, "1234", 4);
	proto_request_free(req);

	lim.max_line = strlen(three) - 1;
	ck_assert_int_eq(
	    proto_request_parse(three, strlen(three), &lim, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_ptr_nonnull(strstr(err.message, "line too long"));
	ck_assert_str_eq(err.id, "");
}
END_TEST

/* MaxEnvEntries: n allowed, n + 1 is a "limit" error naming the key. */
START_TEST(test_req_env_limit)
{
	struct proto_limits lim;
	struct proto_request *req = NULL;
	struct proto_error err;
	const char *two = RUN_OK ",\"env\":{\"A\":\"1\",\"B\":\"2\"}}";
	const char *one = RUN_OK ",\"env\":{\"A\":\"1\"}}";

	proto_limits_default(&lim);
	lim.max_env = 1;
	ck_assert_int_eq(
	    proto_request_parse(one, strlen(one), &lim, &req, &err), 0);
	ck_assert_uint_eq(req->nenv, 1);
	proto_request_free(req);
	ck_assert_int_eq(
	    proto_request_parse(two, strlen(two), &lim, &req, &err), -1);
	ck_assert_ptr_null(req);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	ck_assert_str_eq(err.message,
			 "env: 2 entries exceed MaxEnvEntries (1)");
	ck_assert_str_eq(err.id, "\"r\"");
	/* An empty env is within any limit. */
	ck_assert_int_eq(proto_request_parse(RUN_OK ",\"env\":{}}",
					     strlen(RUN_OK ",\"env\":{}}"),
					     &lim, &req, &err),
			 0);
	ck_assert_uint_eq(req->nenv, 0);
	proto_request_free(req);
	/* 0 refuses every entry; values above the codec's cap are capped. */
	lim.max_env = 0;
	ck_assert_int_eq(
	    proto_request_parse(one, strlen(one), &lim, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	lim.max_env = 1000;
	ck_assert_int_eq(
	    proto_request_parse(two, strlen(two), &lim, &req, &err), 0);
	proto_request_free(req);
}
END_TEST

/* MaxJsonDepth: a lower depth refuses what the default accepts. */
START_TEST(test_req_depth_limit)
{
	struct proto_limits lim;
	struct proto_request *req = NULL;
	struct proto_error err;
	/* The hosts array and the env object are level 2. */
	const char *env = RUN_OK ",\"env\":{\"A\":\"1\"}}";
	const char *deep = "{\"v\":1,\"id\":1,\"op\":\"status\",\"x\":[[[1]]]}";
	const char *flat = "{\"v\":1,\"id\":2,\"op\":\"status\"}";

	proto_limits_default(&lim);
	lim.max_depth = 2;
	ck_assert_int_eq(
	    proto_request_parse(env, strlen(env), &lim, &req, &err), 0);
	proto_request_free(req);
	lim.max_depth = 1;
	ck_assert_int_eq(
	    proto_request_parse(env, strlen(env), &lim, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_str_eq(err.message, "malformed JSON at byte 35: nesting "
				      "deeper than 1");
	ck_assert_int_eq(
	    proto_request_parse(flat, strlen(flat), &lim, &req, &err), 0);
	proto_request_free(req);

	/* Level 4 ("x" holds three arrays): refused under 4, and the
	 * message names the configured depth. */
	lim.max_depth = 3;
	ck_assert_int_eq(
	    proto_request_parse(deep, strlen(deep), &lim, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_ptr_nonnull(strstr(err.message, "nesting deeper than 3"));
	lim.max_depth = 4;
	ck_assert_int_eq(
	    proto_request_parse(deep, strlen(deep), &lim, &req, &err), -1);
	ck_assert_str_eq(err.message, "unknown key \"x\"");
	/* 0 (and anything above the cap) means PROTO_MAX_DEPTH. */
	lim.max_depth = 0;
	ck_assert_int_eq(
	    proto_request_parse(deep, strlen(deep), &lim, &req, &err), -1);
	ck_assert_str_eq(err.message, "unknown key \"x\"");
	lim.max_depth = 100;
	ck_assert_int_eq(
	    proto_request_parse(deep, strlen(deep), &lim, &req, &err), -1);
	ck_assert_str_eq(err.message, "unknown key \"x\"");
}
END_TEST

/* "@NAME" names one of the daemon's host groups. */
/* Found by fuzzing: a group reference must not let the expansion bound
 * wrap around, and an expanded host must not be a pattern itself. */
START_TEST(test_req_hostset_bounds)
{
	static const char *const lines[] = {
	    RUN_HEAD "\"hosts\":[\"h[1-2]\",\"@g\"],\"command\":\"c\"}",
	    RUN_HEAD "\"hosts\":[\"h[1-3]\",\"@g\",\"x[1-100000]\"],"
		     "\"command\":\"c\"}",
	};
	struct proto_limits lim;
	struct proto_request *req;
	struct proto_error err;
	const char *re = "{\"v\":1,\"id\":1,\"op\":\"connect\","
			 "\"hosts\":[\"[[1]]:22\"]}";
	size_t i;

	proto_limits_default(&lim);
	lim.max_hosts = 2;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		lim.max_hosts = 2 + i;
		req = NULL;
		ck_assert_int_eq(proto_request_parse(lines[i], strlen(lines[i]),
						     &lim, &req, &err),
				 -1);
		ck_assert_int_eq(err.code, PROTO_E_LIMIT);
		ck_assert_ptr_null(req);
	}
	req = NULL;
	ck_assert_int_eq(proto_request_parse(re, strlen(re), NULL, &req, &err),
			 -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_msg(strstr(err.message, "itself a range pattern") != NULL,
		      "%s", err.message);
}
END_TEST

START_TEST(test_req_group_refs)
{
	static const char *const bad[] = {
	    "@",
	    "@a b",
	    "@a@b",
	    "@a:1",
	    "@a/b",
	    "@\u00e9",
	    "@xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "x",
	};
	struct proto_request *req, *back;
	struct proto_error err;
	char line[256];
	size_t i;

	req = parse_ok(RUN_HEAD "\"hosts\":[\"@web\",\"web1\",\"@A.b_c-9\"],"
				"\"command\":\"c\"}");
	ck_assert_uint_eq(req->nhosts, 3);
	ck_assert_str_eq(req->hosts[0], "@web");
	ck_assert_str_eq(req->hosts[2], "@A.b_c-9");
	back = reencode(req);
	ck_assert_str_eq(back->hosts[0], "@web");
	proto_request_free(back);
	proto_request_free(req);
	/* 64 bytes of name are fine. */
	req =
	    parse_ok(RUN_HEAD "\"hosts\":[\"@xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"],"
			      "\"command\":\"c\"}");
	ck_assert_uint_eq(strlen(req->hosts[0]), 65);
	proto_request_free(req);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof line,
			 RUN_HEAD "\"hosts\":[\"h\",\"%s\"],\"command\":\"c\"}",
			 bad[i]);
		req = NULL;
		ck_assert_int_eq(
		    proto_request_parse(line, strlen(line), NULL, &req, &err),
		    -1);
		ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
		ck_assert_msg(strstr(err.message, "hosts[1]: bad host group "
						  "name") != NULL,
			      "%s: %s", bad[i], err.message);
	}
	/* The same group twice is a duplicate like any host. */
	snprintf(line, sizeof line,
		 RUN_HEAD "\"hosts\":[\"@g\",\"@g\"],\"command\":\"c\"}");
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "hosts[1]: duplicate of hosts[0]");
	/* proto_hostspec_parse itself still refuses an empty user. */
	ck_assert_int_eq(
	    proto_hostspec_parse("@web", &(struct proto_hostspec){0}, &err),
	    -1);
}
END_TEST

START_TEST(test_req_field_limits)
{
	struct proto_buf b;
	struct proto_request *req = NULL;
	struct proto_error err;
	char *big;
	size_t i;

	big = malloc(PROTO_MAX_COMMAND + 2);
	memset(big, 'x', PROTO_MAX_COMMAND + 1);
	big[PROTO_MAX_COMMAND + 1] = '\0';
	proto_buf_init(&b);

	/* command: max ok, max + 1 rejected. */
	for (i = 0; i < 2; i++) {
		proto_buf_reset(&b);
		APPEND(&b, RUN_HEAD "\"hosts\":[\"h\"],\"command\":\"");
		proto_buf_append(&b, big, PROTO_MAX_COMMAND + i);
		APPEND(&b, "\"}");
		ck_assert_int_eq(
		    proto_request_parse(b.data, b.len, NULL, &req, &err),
		    i == 0 ? 0 : -1);
		if (i == 0) {
			ck_assert_uint_eq(strlen(req->command),
					  PROTO_MAX_COMMAND);
			proto_request_free(req);
		} else
			ck_assert_str_eq(err.message,
					 "command: too long (max 65536 bytes)");
	}

	/* password: max ok (and a copy the request owns), max + 1
	 * rejected, never echoed. */
	for (i = 0; i < 2; i++) {
		proto_buf_reset(&b);
		APPEND(&b, RUN_OK ",\"password\":\"");
		proto_buf_append(&b, big, PROTO_MAX_PASSWORD + i);
		APPEND(&b, "\"}");
		ck_assert_int_eq(
		    proto_request_parse(b.data, b.len, NULL, &req, &err),
		    i == 0 ? 0 : -1);
		if (i == 0) {
			ck_assert_uint_eq(strlen(req->password),
					  PROTO_MAX_PASSWORD);
			proto_request_free(req);
		} else
			ck_assert_str_eq(err.message,
					 "password: 1..1024 bytes without NUL");
	}

	/* env value: 4096 ok, 4097 rejected. */
	for (i = 0; i < 2; i++) {
		proto_buf_reset(&b);
		APPEND(&b, RUN_OK ",\"env\":{\"V\":\"");
		proto_buf_append(&b, big, PROTO_MAX_ENV_VALUE + i);
		APPEND(&b, "\"}}");
		ck_assert_int_eq(
		    proto_request_parse(b.data, b.len, NULL, &req, &err),
		    i == 0 ? 0 : -1);
		if (i == 0)
			proto_request_free(req);
		else
			ck_assert_str_eq(
			    err.message,
			    "env.V: value too long (max 4096 bytes)");
	}

	/* env name: 128 ok, 129 rejected. */
	for (i = 0; i < 2; i++) {
		proto_buf_reset(&b);
		APPEND(&b, RUN_OK ",\"env\":{\"");
		proto_buf_append(&b, big, PROTO_MAX_ENV_NAME + i);
		APPEND(&b, "\":\"v\"}}");
		ck_assert_int_eq(
		    proto_request_parse(b.data, b.len, NULL, &req, &err),
		    i == 0 ? 0 : -1);
		if (i == 0)
			proto_request_free(req);
		else
			ck_assert_ptr_nonnull(
			    strstr(err.message, "env: invalid variable name"));
	}

	/* env entries: 64 ok, 65 rejected. */
	for (i = 0; i < 2; i++) {
		size_t k;
		char tmp[32];

		proto_buf_reset(&b);
		APPEND(&b, RUN_OK ",\"env\":{");
		for (k = 0; k < PROTO_MAX_ENV + i; k++) {
			snprintf(tmp, sizeof tmp, "%s\"V%zu\":\"x\"",
				 k ? "," : "", k);
			proto_buf_append(&b, tmp, strlen(tmp));
		}
		APPEND(&b, "}}");
		ck_assert_int_eq(
		    proto_request_parse(b.data, b.len, NULL, &req, &err),
		    i == 0 ? 0 : -1);
		if (i == 0) {
			ck_assert_uint_eq(req->nenv, PROTO_MAX_ENV);
			proto_request_free(req);
		} else {
			ck_assert_int_eq(err.code, PROTO_E_LIMIT);
			ck_assert_str_eq(
			    err.message,
			    "env: 65 entries exceed MaxEnvEntries (64)");
		}
	}

	/* client: 128 ok, 129 rejected. */
	for (i = 0; i < 2; i++) {
		proto_buf_reset(&b);
		APPEND(&b, "{\"v\":1,\"id\":1,\"op\":\"hello\",\"client\":\"");
		proto_buf_append(&b, big, 128 + i);
		APPEND(&b, "\"}");
		ck_assert_int_eq(
		    proto_request_parse(b.data, b.len, NULL, &req, &err),
		    i == 0 ? 0 : -1);
		if (i == 0)
			proto_request_free(req);
		else
			ck_assert_str_eq(err.message,
					 "client: too long (max 128 bytes)");
	}

	/* host spec: 320 bytes ok, 321 rejected. */
	for (i = 0; i < 2; i++) {
		proto_buf_reset(&b);
		APPEND(&b, RUN_HEAD "\"hosts\":[\"h\",\"");
		proto_buf_append(&b, big, 64);
		APPEND(&b, "@");
		proto_buf_append(&b, big, 249 + i);
		APPEND(&b, ":65535\"],\"command\":\"c\"}");
		ck_assert_int_eq(
		    proto_request_parse(b.data, b.len, NULL, &req, &err),
		    i == 0 ? 0 : -1);
		if (i == 0)
			proto_request_free(req);
		else
			ck_assert_str_eq(
			    err.message,
			    "hosts[1]: host spec too long (max 320)");
	}
	proto_buf_free(&b);
	free(big);
}
END_TEST

START_TEST(test_id_helpers)
{
	char id[PROTO_MAX_ID + 3];
	struct proto_error err;
	char s65[66];

	proto_id_from_u64(id, 0);
	ck_assert_str_eq(id, "0");
	proto_id_from_u64(id, 9007199254740991ULL);
	ck_assert_str_eq(id, "9007199254740991");
	ck_assert_int_eq(proto_id_from_string(id, "job-1 x", &err), 0);
	ck_assert_str_eq(id, "\"job-1 x\"");
	ck_assert_int_eq(proto_id_from_string(id, "", &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_int_eq(proto_id_from_string(id, "a\"b", &err), -1);
	ck_assert_int_eq(proto_id_from_string(id, "a\\b", &err), -1);
	ck_assert_int_eq(proto_id_from_string(id, "a\nb", &err), -1);
	memset(s65, 'a', 65);
	s65[65] = '\0';
	ck_assert_int_eq(proto_id_from_string(id, s65, &err), -1);
	s65[64] = '\0';
	ck_assert_int_eq(proto_id_from_string(id, s65, &err), 0);
	ck_assert_uint_eq(strlen(id), 66);
}
END_TEST

START_TEST(test_names)
{
	int i;

	for (i = PROTO_E_NONE + 1; i < PROTO_E_COUNT; i++)
		ck_assert_int_eq(proto_code_from_name(proto_code_name(i)), i);
	ck_assert_str_eq(proto_code_name(PROTO_E_HOSTKEY_MISMATCH),
			 "hostkey_mismatch");
	ck_assert_int_eq(proto_code_from_name("nope"), PROTO_E_NONE);
	ck_assert_int_eq(proto_code_from_name(NULL), PROTO_E_NONE);
	ck_assert_str_eq(proto_op_name(PROTO_OP_CONNECT), "connect");
	ck_assert_str_eq(proto_event_name(PROTO_EV_CONNECTED), "connected");
	ck_assert_str_eq(proto_event_name(PROTO_EV_COUNT), "unknown");
}
END_TEST

/* ---- Host specs ---- */

static const struct {
	const char *spec;
	const char *user, *host;
	int port;
} good_specs[] = {
    {"web1", "", "web1", 0},
    {"web1:2222", "", "web1", 2222},
    {"root@10.0.0.5:2222", "root", "10.0.0.5", 2222},
    {"root@10.0.0.5", "root", "10.0.0.5", 0},
    {"[::1]:22", "", "::1", 22},
    {"[::1]", "", "::1", 0},
    {"::1", "", "::1", 0},
    {"fe80::1%eth0", "", "fe80::1%eth0", 0},
    {"2001:db8::2:1", "", "2001:db8::2:1", 0},
    {"user@[2001:db8::1]:65535", "user", "2001:db8::1", 65535},
    {"user@::ffff:127.0.0.1", "user", "::ffff:127.0.0.1", 0},
    {"a@b@host:1", "a@b", "host", 1},
    {"[web1]:22", "", "web1", 22},
    {"h\xc3\xa9.example", "", "h\xc3\xa9.example", 0},
    {"x.y-z_w", "", "x.y-z_w", 0},
};

START_TEST(test_hostspec_good)
{
	struct proto_hostspec hs;
	struct proto_error err;
	size_t i;

	for (i = 0; i < sizeof good_specs / sizeof good_specs[0]; i++) {
		ck_assert_msg(
		    proto_hostspec_parse(good_specs[i].spec, &hs, &err) == 0,
		    "%s: %s", good_specs[i].spec, err.message);
		ck_assert_str_eq(hs.user, good_specs[i].user);
		ck_assert_str_eq(hs.host, good_specs[i].host);
		ck_assert_int_eq(hs.port, good_specs[i].port);
	}
}
END_TEST

static const struct {
	const char *spec;
	const char *msg;
} bad_specs[] = {
    {"", "empty host spec"},
    {"@host", "empty user name"},
    {"user@", "empty host name"},
    {"host:", "empty port"},
    {"host:0", "port out of range"},
    {"host:65536", "port out of range"},
    {"host:123456", "port out of range"},
    {"host:22a", "port is not a number"},
    {"host:-1", "port is not a number"},
    {"host:+22", "port is not a number"},
    {"[::1", "missing ']'"},
    {"[::1]22", "unexpected text after ']'"},
    {"[::1]:", "empty port"},
    {"[]:22", "empty host name"},
    {"[::1]:99999", "port out of range"},
    {"a:b:c", "invalid IPv6 address"},
    {"[1:2]:22", "invalid IPv6 address"},
    {"fe80::1%", "empty IPv6 zone"},
    {"fe80::1%e/0", "host name contains '/'"},
    {"ho st", "host name contains a space"},
    {"host\t", "control character"},
    {"ho\x7fst", "control character"},
    {"a/b", "host name contains '/'"},
    {"-oProxyCommand=x", "host name must not start with '-'"},
    {"-u@h", "user name must not start with '-'"},
    {"u u@h", "user name contains a space"},
    {"u\x01@h", "user name contains a space or control character"},
    {"h\xff", "not valid UTF-8"},
    {"ab]c", "host name contains ']'"},
};

START_TEST(test_hostspec_bad)
{
	struct proto_hostspec hs;
	struct proto_error err;
	size_t i;

	for (i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++) {
		ck_assert_msg(
		    proto_hostspec_parse(bad_specs[i].spec, &hs, &err) == -1,
		    "accepted %s", bad_specs[i].spec);
		ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
		ck_assert_msg(strstr(err.message, bad_specs[i].msg) != NULL,
			      "%s: \"%s\" lacks \"%s\"", bad_specs[i].spec,
			      err.message, bad_specs[i].msg);
	}
}
END_TEST

START_TEST(test_hostspec_lengths)
{
	struct proto_hostspec hs;
	struct proto_error err;
	char spec[PROTO_MAX_HOSTSPEC + 8];

	/* user 64 ok, 65 too long. */
	memset(spec, 'u', 64);
	strcpy(spec + 64, "@h");
	ck_assert_int_eq(proto_hostspec_parse(spec, &hs, &err), 0);
	ck_assert_uint_eq(strlen(hs.user), 64);
	memset(spec, 'u', 65);
	strcpy(spec + 65, "@h");
	ck_assert_int_eq(proto_hostspec_parse(spec, &hs, &err), -1);
	ck_assert_str_eq(err.message, "user name too long (max 64)");

	/* host 255 ok, 256 too long. */
	memset(spec, 'h', 255);
	spec[255] = '\0';
	ck_assert_int_eq(proto_hostspec_parse(spec, &hs, &err), 0);
	ck_assert_uint_eq(strlen(hs.host), 255);
	memset(spec, 'h', 256);
	spec[256] = '\0';
	ck_assert_int_eq(proto_hostspec_parse(spec, &hs, &err), -1);
	ck_assert_str_eq(err.message, "host name too long (max 255)");

	memset(spec, 'h', PROTO_MAX_HOSTSPEC + 1);
	spec[PROTO_MAX_HOSTSPEC + 1] = '\0';
	ck_assert_int_eq(proto_hostspec_parse(spec, &hs, &err), -1);
	ck_assert_str_eq(err.message, "host spec too long (max 320)");
}
END_TEST

/* ---- Base64 ---- */

START_TEST(test_b64)
{
	static const char *const vec[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	static const char *const bad[] = {"Zg=",  "Zg",   "Z===",     "====",
					  "Zh==", "Zm9=", "Zg==Zg==", "Zm9v\n",
					  "Zm 9", "Zm-_"};
	char enc[16];
	unsigned char dec[16];
	size_t i;
	long n;

	for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		size_t len = strlen(vec[i][0]);

		ck_assert_uint_eq(proto_b64_len(len), strlen(vec[i][1]));
		proto_b64_encode(enc, (const unsigned char *)vec[i][0], len);
		ck_assert_str_eq(enc, vec[i][1]);
		n = proto_b64_decode(dec, enc, strlen(enc));
		ck_assert_int_eq(n, (long)len);
		ck_assert_mem_eq(dec, vec[i][0], len);
		ck_assert_uint_ge(proto_b64_maxdecoded(strlen(enc)), len);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(proto_b64_decode(dec, bad[i], strlen(bad[i])) ==
				  -1,
			      "accepted %s", bad[i]);
}
END_TEST

/* A fixed pseudo-random byte stream (xorshift), the same on every run. */
static void
b64_fill(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (unsigned char)(seed >> 11);
	}
}

/* The vector coder (where the processor has one) against the scalar one,
 * on every length up to 1 KiB and a few large ones: the same text, and
 * decoding gives the input back. */
START_TEST(test_b64_vector_matches_scalar)
{
	static const size_t big[] = {4095, 4096, 65535, 65536, 98303};
	enum { MAXN = 98304 };
	unsigned char *src = malloc(MAXN), *dec = malloc(MAXN + 8);
	char *enc = malloc(MAXN / 3 * 4 + 8), *ref = malloc(MAXN / 3 * 4 + 8);
	size_t n, k, len;
	long got;

	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(dec);
	ck_assert_ptr_nonnull(enc);
	ck_assert_ptr_nonnull(ref);
	b64_fill(src, MAXN, 2463534242u);
	for (n = 0; n <= 1024 + sizeof big / sizeof big[0]; n++) {
		len = n <= 1024 ? n : big[n - 1025];
		proto_b64_encode(enc, src, len);
		proto_b64_encode_scalar(ref, src, len);
		ck_assert_uint_eq(strlen(enc), proto_b64_len(len));
		ck_assert_msg(strcmp(enc, ref) == 0, "encodings differ at %zu",
			      len);
		got = proto_b64_decode(dec, enc, strlen(enc));
		ck_assert_int_eq(got, (long)len);
		ck_assert_msg(memcmp(dec, src, len) == 0, "round trip %zu",
			      len);
		got = proto_b64_decode_scalar(dec, enc, strlen(enc));
		ck_assert_int_eq(got, (long)len);
		ck_assert_msg(memcmp(dec, src, len) == 0, "scalar %zu", len);
		ck_assert_int_eq(proto_b64_decoded_len(enc, strlen(enc)),
				 (long)len);
	}
	/* Output bytes that are not part of the result stay untouched. */
	memset(dec, 0xa5, MAXN + 8);
	proto_b64_encode(enc, src, 300);
	ck_assert_int_eq(proto_b64_decode(dec, enc, strlen(enc)), 300);
	for (k = 300; k < 308; k++)
		ck_assert_uint_eq(dec[k], 0xa5);
	free(src);
	free(dec);
	free(enc);
	free(ref);
}
END_TEST

/* A character outside the alphabet (or a '=' before the end) at any
 * position of any block is refused by both coders. */
START_TEST(test_b64_rejects_every_position)
{
	/* clang-format off */
	static const char bad[] = {'=', '-', '_', ' ', '\n', '"', '\\', '@',
				   '[', '`', '{', ':', 0, (char)0x80,
				   (char)0xff};
	/* clang-format on */
	unsigned char src[600], dec[600];
	char enc[804], saved;
	size_t len = 600, elen, pos, b;

	b64_fill(src, len, 88172645u);
	proto_b64_encode(enc, src, len);
	elen = strlen(enc);
	ck_assert_uint_eq(elen, 800);
	for (pos = 0; pos < elen; pos++) {
		saved = enc[pos];
		for (b = 0; b < sizeof bad; b++) {
			enc[pos] = bad[b];
			ck_assert_msg(proto_b64_decode(dec, enc, elen) == -1,
				      "accepted 0x%02x at %zu",
				      (unsigned char)bad[b], pos);
			ck_assert_msg(proto_b64_decode_scalar(dec, enc, elen) ==
					  -1,
				      "scalar accepted 0x%02x at %zu",
				      (unsigned char)bad[b], pos);
		}
		enc[pos] = saved;
	}
	ck_assert_int_eq(proto_b64_decode(dec, enc, elen), (long)len);
	ck_assert_mem_eq(dec, src, len);
}
END_TEST

/* ---- Events ---- */

START_TEST(test_ev_output_all_bytes)
{
	unsigned char data[256];
	struct proto_buf b;
	struct proto_event *ev;
	size_t i, len;

	for (i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	proto_buf_init(&b);
	/* Every length 0..256 covers each padding case and every byte. */
	for (len = 0; len <= 256; len++) {
		proto_buf_reset(&b);
		ck_assert_int_eq(proto_ev_output(&b, "\"r1\"", "web1", len % 2,
						 data + 256 - len, len),
				 0);
		assert_valid_json(b.data, b.len - 1);
		ev = event_ok(&b);
		ck_assert_int_eq(ev->type,
				 len % 2 ? PROTO_EV_STDERR : PROTO_EV_STDOUT);
		ck_assert_str_eq(ev->id, "\"r1\"");
		ck_assert_str_eq(ev->host, "web1");
		ck_assert_uint_eq(ev->len, len);
		if (len > 0)
			ck_assert_mem_eq(ev->data, data + 256 - len, len);
		proto_event_free(ev);
	}
	ck_assert_str_eq(b.data, "{\"v\":1,\"id\":\"r1\",\"event\":\"stdout\","
				 "\"host\":\"web1\",\"data\":\"AAECAwQF"
				 "BgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUm"
				 "JygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH"
				 "SElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdo"
				 "aWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJ"
				 "iouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq"
				 "q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrL"
				 "zM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs"
				 "7e7v8PHy8/T19vf4+fr7/P3+/w==\"}\n");
	proto_buf_free(&b);
}
END_TEST

START_TEST(test_ev_output_large_chunk)
{
	unsigned char *data = malloc(PROTO_MAX_CHUNK);
	struct proto_buf b;
	struct proto_event *ev;
	size_t i;

	for (i = 0; i < PROTO_MAX_CHUNK; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	proto_buf_init(&b);
	ck_assert_int_eq(APPEND(&b, "prev\n"), 0);
	ck_assert_int_eq(
	    proto_ev_output(&b, "7", "h", 0, data, PROTO_MAX_CHUNK), 0);
	ck_assert_mem_eq(b.data, "prev\n{", 6);
	b.data += 5; /* look at the second line only */
	b.len -= 5;
	ev = event_ok(&b);
	b.data -= 5;
	b.len += 5;
	ck_assert_uint_eq(ev->len, PROTO_MAX_CHUNK);
	ck_assert_mem_eq(ev->data, data, PROTO_MAX_CHUNK);
	proto_event_free(ev);
	proto_buf_free(&b);
	free(data);
}
END_TEST

START_TEST(test_ev_roundtrip)
{
	struct proto_buf b;
	struct proto_event *ev;
	struct proto_limits lim = {4096, 50, 77, 5, 3};
	struct proto_done done = {50, 48, 1, 1, 1234};

	proto_buf_init(&b);

	ck_assert_int_eq(proto_ev_hello(&b, "1", 1, "sshpoold/0.1.0", &lim), 0);
	ck_assert_str_eq(
	    b.data,
	    "{\"v\":1,\"id\":1,\"event\":\"hello\",\"version\":1,\"server\":"
	    "\"sshpoold/0.1.0\",\"limits\":{\"max_line\":4096,\"max_hosts\":"
	    "50,\"max_stdin\":77,\"max_env\":5,\"max_depth\":3}}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_HELLO);
	ck_assert_str_eq(ev->id, "1");
	ck_assert_int_eq(ev->version, 1);
	ck_assert_str_eq(ev->server, "sshpoold/0.1.0");
	ck_assert_uint_eq(ev->limits.max_line, 4096);
	ck_assert_uint_eq(ev->limits.max_hosts, 50);
	ck_assert_uint_eq(ev->limits.max_stdin, 77);
	ck_assert_uint_eq(ev->limits.max_env, 5);
	ck_assert_int_eq(ev->limits.max_depth, 3);
	proto_event_free(ev);

	/* The hello announces what is enforced: env 0 is none, depth 0 and
	 * values above the caps are the caps. */
	proto_buf_reset(&b);
	lim.max_env = 0;
	lim.max_depth = 0;
	ck_assert_int_eq(proto_ev_hello(&b, "1", 1, "s", &lim), 0);
	ck_assert_ptr_nonnull(
	    strstr(b.data, ",\"max_env\":0,\"max_depth\":16}}\n"));
	proto_buf_reset(&b);
	lim.max_env = 65;
	lim.max_depth = 17;
	ck_assert_int_eq(proto_ev_hello(&b, "1", 1, "s", &lim), 0);
	ck_assert_ptr_nonnull(
	    strstr(b.data, ",\"max_env\":64,\"max_depth\":16}}\n"));
	ev = event_ok(&b);
	ck_assert_uint_eq(ev->limits.max_env, 64);
	ck_assert_int_eq(ev->limits.max_depth, 16);
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_start(&b, "\"r1\"", "root@[::1]:22"), 0);
	ck_assert_str_eq(b.data, "{\"v\":1,\"id\":\"r1\",\"event\":\"start\","
				 "\"host\":\"root@[::1]:22\"}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_START);
	ck_assert_str_eq(ev->host, "root@[::1]:22");
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_exit(&b, "\"r1\"", "web1", 3, NULL, 12), 0);
	ck_assert_str_eq(b.data, "{\"v\":1,\"id\":\"r1\",\"event\":\"exit\","
				 "\"host\":\"web1\",\"status\":3,"
				 "\"duration_ms\":12}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_EXIT);
	ck_assert_int_eq(ev->status, 3);
	ck_assert_ptr_null(ev->signal);
	ck_assert_int_eq(ev->duration_ms, 12);
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_exit(&b, "\"r1\"", "web1", 0, "KILL", 13), 0);
	ck_assert_str_eq(b.data, "{\"v\":1,\"id\":\"r1\",\"event\":\"exit\","
				 "\"host\":\"web1\",\"signal\":\"KILL\","
				 "\"duration_ms\":13}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->status, -1);
	ck_assert_str_eq(ev->signal, "KILL");
	ck_assert_int_eq(ev->duration_ms, 13);
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_error(&b, "\"r1\"", "web2",
					PROTO_E_CONNECT_FAILED,
					"connection refused", 3),
			 0);
	ck_assert_str_eq(b.data,
			 "{\"v\":1,\"id\":\"r1\",\"event\":\"error\","
			 "\"host\":\"web2\",\"code\":\"connect_failed\","
			 "\"message\":\"connection refused\","
			 "\"duration_ms\":3}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_ERROR);
	ck_assert_str_eq(ev->host, "web2");
	ck_assert_int_eq(ev->code, PROTO_E_CONNECT_FAILED);
	ck_assert_str_eq(ev->message, "connection refused");
	ck_assert_int_eq(ev->duration_ms, 3);
	proto_event_free(ev);

	/* Request-level error with an unreadable id. */
	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_error(&b, NULL, NULL, PROTO_E_BAD_REQUEST,
					"line too long", -1),
			 0);
	ck_assert_str_eq(b.data, "{\"v\":1,\"id\":null,\"event\":\"error\","
				 "\"code\":\"bad_request\",\"message\":"
				 "\"line too long\"}\n");
	ev = event_ok(&b);
	ck_assert_str_eq(ev->id, "null");
	ck_assert_ptr_null(ev->host);
	ck_assert_int_eq(ev->code, PROTO_E_BAD_REQUEST);
	ck_assert_int_eq(ev->duration_ms, -1);
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_connected(&b, "\"w1\"", "web1", 2, 40), 0);
	ck_assert_str_eq(
	    b.data,
	    "{\"v\":1,\"id\":\"w1\",\"event\":\"connected\",\"host\":\"web1\","
	    "\"sessions\":2,\"duration_ms\":40}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_CONNECTED);
	ck_assert_int_eq(ev->sessions, 2);
	ck_assert_int_eq(ev->duration_ms, 40);
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_done(&b, "\"r1\"", &done), 0);
	ck_assert_str_eq(
	    b.data,
	    "{\"v\":1,\"id\":\"r1\",\"event\":\"done\",\"hosts\":50,\"ok\":48,"
	    "\"failed\":1,\"errors\":1,\"duration_ms\":1234}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_DONE);
	ck_assert_uint_eq(ev->done.hosts, 50);
	ck_assert_uint_eq(ev->done.ok, 48);
	ck_assert_uint_eq(ev->done.failed, 1);
	ck_assert_uint_eq(ev->done.errors, 1);
	ck_assert_int_eq(ev->duration_ms, 1234);
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_cancel(&b, "\"c1\"", "\"r1\"", 1), 0);
	ck_assert_str_eq(b.data, "{\"v\":1,\"id\":\"c1\",\"event\":\"cancel\","
				 "\"target\":\"r1\",\"found\":true}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_CANCEL);
	ck_assert_str_eq(ev->target, "\"r1\"");
	ck_assert_int_eq(ev->found, 1);
	proto_event_free(ev);

	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_cancel(&b, "5", "17", 0), 0);
	ev = event_ok(&b);
	ck_assert_str_eq(ev->target, "17");
	ck_assert_int_eq(ev->found, 0);
	proto_event_free(ev);

	proto_buf_free(&b);
}
END_TEST

START_TEST(test_ev_status)
{
	struct proto_buf b, hosts, workers;
	struct proto_event *ev;
	struct proto_status_host h = {
	    .host = "root@127.0.0.2:22",
	    .state = "up",
	    .worker = 1,
	    .sessions = 1,
	    .channels_max = 8,
	    .jobs = 5,
	    .connects = 1,
	    .reconnects = 2,
	    .lost = 3,
	    .rtt_ms = 4,
	    .retry_in_ms = -1,
	    .tunnels = -1,
	};
	struct proto_status_worker w = {
	    .index = 0, .hosts = 3, .sessions = 3, .heartbeat_age_ms = 12};
	json_object *root, *o, *e, *m;

	proto_buf_init(&b);
	proto_buf_init(&hosts);
	proto_buf_init(&workers);
	ck_assert_int_eq(proto_status_host(&hosts, &h), 0);
	ck_assert_str_eq(
	    hosts.data,
	    "{\"host\":\"root@127.0.0.2:22\",\"state\":\"up\",\"worker\":1,"
	    "\"sessions\":1,\"connecting\":0,\"channels_busy\":0,"
	    "\"channels_max\":8,\"queued\":0,\"jobs\":5,\"connects\":1,"
	    "\"failures\":0,\"reconnects\":2,\"lost\":3,\"rtt_ms\":4,"
	    "\"retry_in_ms\":null,\"last_error\":null,"
	    "\"credential\":\"daemon\",\"credential_uid\":null}");
	h.host = "web2";
	h.state = "down";
	h.rtt_ms = -1;
	h.retry_in_ms = 7420;
	h.failures = 18446744073709551615ULL;
	h.last_error = "refused \"x\"\n\xff";
	ck_assert_int_eq(proto_buf_append(&hosts, ",", 1), 0);
	ck_assert_int_eq(proto_status_host(&hosts, &h), 0);
	ck_assert_int_eq(proto_status_worker(&workers, &w), 0);
	ck_assert_str_eq(workers.data,
			 "{\"index\":0,\"hosts\":3,\"sessions\":3,\"jobs\":0,"
			 "\"heartbeat_age_ms\":12,\"stuck\":false}");
	w.index = 1;
	w.heartbeat_age_ms = 61000;
	w.stuck = 1;
	ck_assert_int_eq(proto_buf_append(&workers, ",", 1), 0);
	ck_assert_int_eq(proto_status_worker(&workers, &w), 0);
	ck_assert_ptr_nonnull(
	    strstr(workers.data, "\"heartbeat_age_ms\":61000,\"stuck\":true}"));

	ck_assert_int_eq(
	    proto_ev_status(&b, "\"s1\"", hosts.data, workers.data), 0);
	assert_valid_json(b.data, b.len - 1);
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_STATUS);
	ck_assert_str_eq(ev->id, "\"s1\"");
	ck_assert_uint_eq(strlen(ev->json), b.len - 1);
	ck_assert_mem_eq(ev->json, b.data, b.len - 1);

	root = json_tokener_parse(ev->json);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "hosts", &o));
	ck_assert_uint_eq(json_object_array_length(o), 2);
	e = json_object_array_get_idx(o, 1);
	ck_assert(json_object_object_get_ex(e, "state", &m));
	ck_assert_str_eq(json_object_get_string(m), "down");
	ck_assert(json_object_object_get_ex(e, "rtt_ms", &m));
	ck_assert(json_object_is_type(m, json_type_null));
	ck_assert(json_object_object_get_ex(e, "retry_in_ms", &m));
	ck_assert(json_object_is_type(m, json_type_int));
	ck_assert_int_eq(json_object_get_int64(m), 7420);
	ck_assert(json_object_object_get_ex(e, "failures", &m));
	ck_assert_uint_eq(json_object_get_uint64(m), 18446744073709551615ULL);
	ck_assert(json_object_object_get_ex(e, "last_error", &e));
	ck_assert_str_eq(json_object_get_string(e),
			 "refused \"x\"\n\xef\xbf\xbd");
	ck_assert(json_object_object_get_ex(root, "workers", &o));
	ck_assert_uint_eq(json_object_array_length(o), 2);
	e = json_object_array_get_idx(o, 1);
	ck_assert(json_object_object_get_ex(e, "stuck", &m));
	ck_assert(json_object_is_type(m, json_type_boolean));
	ck_assert(json_object_get_boolean(m));
	json_object_put(root);
	proto_event_free(ev);

	/* No hosts and no workers yet. */
	proto_buf_reset(&b);
	ck_assert_int_eq(proto_ev_status(&b, "1", "", ""), 0);
	ck_assert_str_eq(b.data, "{\"v\":1,\"id\":1,\"event\":\"status\","
				 "\"workers\":[],\"hosts\":[]}\n");
	ev = event_ok(&b);
	proto_event_free(ev);

	proto_buf_free(&b);
	proto_buf_free(&hosts);
	proto_buf_free(&workers);
}
END_TEST

START_TEST(test_ev_escape_controls)
{
	char msg[40];
	struct proto_buf b;
	struct proto_event *ev;
	int i;

	for (i = 1; i < 0x20; i++)
		msg[i - 1] = (char)i;
	msg[31] = '"';
	msg[32] = '\\';
	msg[33] = '/';
	msg[34] = 0x7f;
	msg[35] = '\0';
	proto_buf_init(&b);
	ck_assert_int_eq(proto_ev_error(&b, "1", "h", PROTO_E_INTERNAL, msg, 0),
			 0);
	ck_assert_ptr_nonnull(strstr(
	    b.data,
	    "\"message\":\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
	    "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013"
	    "\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
	    "\\u001d\\u001e\\u001f\\\"\\\\/\x7f\""));
	assert_valid_json(b.data, b.len - 1);
	ev = event_ok(&b);
	ck_assert_str_eq(ev->message, msg);
	proto_event_free(ev);
	proto_buf_free(&b);
}
END_TEST

START_TEST(test_ev_invalid_utf8)
{
	static const char *const bad[] = {
	    "\xff",
	    "a\x80z",
	    "\xc3",
	    "\xc3(",
	    "\xe2\x82",
	    "\xed\xa0\x80",
	    "\xf4\x90\x80\x80",
	    "\xc0\xaf",
	    "\xf0\x9f\x98",
	    "ok \xe2\x82\xac",
	};
	struct proto_buf b;
	struct proto_event *ev;
	char host[300];
	size_t i;
	int c;

	proto_buf_init(&b);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		proto_buf_reset(&b);
		ck_assert_int_eq(proto_ev_error(&b, "\"x\"", bad[i],
						PROTO_E_AUTH_FAILED, bad[i], 1),
				 0);
		assert_valid_json(b.data, b.len - 1);
		ev = event_ok(&b);
		if (i == sizeof bad / sizeof bad[0] - 1)
			ck_assert_str_eq(ev->message, "ok \xe2\x82\xac");
		else
			ck_assert_ptr_nonnull(
			    strstr(ev->message, "\xef\xbf\xbd"));
		proto_event_free(ev);
	}
	/* Every byte value in a host string still makes a valid line. */
	for (c = 1; c < 256; c++) {
		snprintf(host, sizeof host, "a%cb", c);
		proto_buf_reset(&b);
		ck_assert_int_eq(proto_ev_start(&b, "1", host), 0);
		assert_valid_json(b.data, b.len - 1);
		ev = event_ok(&b);
		if (c < 0x80)
			ck_assert_str_eq(ev->host, host);
		else
			ck_assert_str_eq(ev->host, "a\xef\xbf\xbd"
						   "b");
		proto_event_free(ev);
	}
	proto_buf_free(&b);
}
END_TEST

START_TEST(test_ev_message_truncated)
{
	char *msg = malloc(3000);
	struct proto_buf b;
	struct proto_event *ev;
	size_t i;

	/* Two-byte characters, so a naive cut would split one. */
	for (i = 0; i + 1 < 3000; i += 2) {
		msg[i] = '\xc3';
		msg[i + 1] = '\xa9';
	}
	msg[2999] = '\0';
	msg[2998] = 'x';
	proto_buf_init(&b);
	ck_assert_int_eq(proto_ev_error(&b, "1", NULL, PROTO_E_LIMIT, msg, -1),
			 0);
	ev = event_ok(&b);
	ck_assert_uint_lt(strlen(ev->message), PROTO_MAX_MESSAGE);
	ck_assert_uint_ge(strlen(ev->message), PROTO_MAX_MESSAGE - 2);
	ck_assert_ptr_null(strstr(ev->message, "\xef\xbf\xbd"));
	proto_event_free(ev);
	proto_buf_free(&b);
	free(msg);
}
END_TEST

START_TEST(test_ev_parse_rejects)
{
	static const char *const bad[] = {
	    "{\"v\":1,\"id\":1,\"event\":\"bogus\"}",
	    "{\"v\":2,\"id\":1,\"event\":\"start\",\"host\":\"h\"}",
	    "{\"v\":1,\"event\":\"start\",\"host\":\"h\"}",
	    "{\"v\":1,\"id\":1,\"event\":\"start\"}",
	    "{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	    "\"data\":\"%%%\"}",
	    "{\"v\":1,\"id\":1,\"event\":\"exit\",\"host\":\"h\"}",
	    "{\"v\":1,\"id\":1,\"event\":\"error\",\"message\":\"m\"}",
	    "{\"v\":1,\"id\":1,\"event\":\"done\",\"hosts\":1}",
	    "{\"v\":1,\"id\":1,\"event\":\"cancel\",\"target\":1}",
	    "{\"v\":1,\"id\":1,\"event\":\"status\",\"hosts\":[]}",
	    "{\"v\":1,\"id\":1,\"event\":\"start\",\"host\":\"h\","
	    "\"host\":\"i\"}",
	    "{\"v\":1,\"id\":1,\"event\":\"start\",\"host\":\"h\"} junk",
	    "{\"v\":1,\"id\":1,\"event\":\"hello\",\"version\":1,"
	    "\"limits\":{\"max_depth\":0}}",
	    "{\"v\":1,\"id\":1,\"event\":\"hello\",\"version\":1,"
	    "\"limits\":{\"max_depth\":17}}",
	    "{\"v\":1,\"id\":1,\"event\":\"hello\",\"version\":1,"
	    "\"limits\":{\"max_env\":-1}}",
	};
	const char *unknown = "{\"v\":1,\"id\":1,\"event\":\"error\","
			      "\"code\":\"new_code\",\"message\":\"m\","
			      "\"extra\":1}";
	struct proto_event *ev = (void *)1;
	struct proto_error err;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(
		    proto_event_parse(bad[i], strlen(bad[i]), &ev, &err) == -1,
		    "accepted %s", bad[i]);
		ck_assert_ptr_null(ev);
		ck_assert_int_ne(err.code, PROTO_E_NONE);
		ck_assert_str_ne(err.message, "");
	}
	/* Unknown members are ignored for forward compatibility, and an
	 * unknown error code reads as internal. */
	ck_assert_int_eq(proto_event_parse(unknown, strlen(unknown), &ev, &err),
			 0);
	ck_assert_int_eq(ev->code, PROTO_E_INTERNAL);
	proto_event_free(ev);
	/* A hello from an older daemon without max_env / max_depth. */
	unknown = "{\"v\":1,\"id\":1,\"event\":\"hello\",\"version\":1,"
		  "\"server\":\"s\",\"limits\":{\"max_line\":2048}}";
	ck_assert_int_eq(proto_event_parse(unknown, strlen(unknown), &ev, &err),
			 0);
	ck_assert_uint_eq(ev->limits.max_line, 2048);
	ck_assert_uint_eq(ev->limits.max_env, PROTO_MAX_ENV);
	ck_assert_int_eq(ev->limits.max_depth, PROTO_MAX_DEPTH);
	proto_event_free(ev);
}
END_TEST

/* Output lines take a split path (the base64 value is decoded apart from
 * the JSON); lines that only look like output lines must decode exactly as
 * the general parser decodes them. */
START_TEST(test_ev_output_split_path)
{
	/* clang-format off */
	static const struct {
		const char *line;
		const char *host; /* NULL: must be refused */
		const char *data;
	} cases[] = {
	    /* the daemon's own form */
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"data\":\"QUJD\"}", "h", "ABC"},
	    /* an escape inside the value: valid JSON, decoded in full */
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"data\":\"\\u0051UJD\"}", "h", "ABC"},
	    /* the key's text inside a string value (escaped quotes) */
	    {"{\"v\":1,\"id\":1,\"event\":\"stderr\","
	     "\"host\":\"a,\\\"data\\\":\\\"QQ==\",\"data\":\"Qg==\"}",
	     "a,\"data\":\"QQ==", "B"},
	    /* the key first, then another member */
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"data\":\"Qg==\","
	     "\"host\":\"h\"}", "h", "B"},
	    /* white space around the value */
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"data\": \"Qg==\" }", "h", "B"},
	    /* a duplicate key */
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"data\":\"QQ==\",\"data\":\"Qg==\"}", NULL, NULL},
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"data\":\"\","
	     "\"host\":\"h\",\"data\":\"Qg==\"}", NULL, NULL},
	    /* a string that ends right before the key */
	    {"{\"v\":1,\"id\":\"a,\"data\":\"Qg==\"}", NULL, NULL},
	    /* the key inside a nested object */
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"x\":{\"y\":1,\"data\":\"Qg==\"}", NULL, NULL},
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"x\":{\"y\":1,\"data\":\"Qg==\"}}", NULL, NULL},
	    /* bad base64, a bad version, a missing host */
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"data\":\"Qg=\"}", NULL, NULL},
	    {"{\"v\":2,\"id\":1,\"event\":\"stdout\",\"host\":\"h\","
	     "\"data\":\"Qg==\"}", NULL, NULL},
	    {"{\"v\":1,\"id\":1,\"event\":\"stdout\",\"data\":\"Qg==\"}", NULL,
	     NULL},
	    /* another event with a data member keeps its own meaning */
	    {"{\"v\":1,\"id\":1,\"event\":\"start\",\"host\":\"h\","
	     "\"data\":\"Qg==\"}", "h", ""},
	};
	/* clang-format on */
	struct proto_event *ev;
	struct proto_error err;
	size_t i;
	int r;

	/* The daemon's own form takes the split path. */
	ck_assert_int_eq(
	    proto_event_parse(cases[0].line, strlen(cases[0].line), &ev, &err),
	    0);
	ck_assert_uint_eq(ev->data_textlen, 4);
	proto_event_free(ev);
	/* A value with an escape takes the general path. */
	ck_assert_int_eq(
	    proto_event_parse(cases[1].line, strlen(cases[1].line), &ev, &err),
	    0);
	ck_assert_uint_eq(ev->data_textlen, 0);
	proto_event_free(ev);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = proto_event_parse(cases[i].line, strlen(cases[i].line), &ev,
				      &err);
		if (cases[i].host == NULL) {
			ck_assert_msg(r == -1, "accepted %s", cases[i].line);
			ck_assert_ptr_null(ev);
			ck_assert_str_ne(err.message, "");
			continue;
		}
		ck_assert_msg(r == 0, "refused %s: %s", cases[i].line,
			      err.message);
		ck_assert_str_eq(ev->host, cases[i].host);
		ck_assert_uint_eq(ev->len, strlen(cases[i].data));
		if (ev->len > 0)
			ck_assert_mem_eq(ev->data, cases[i].data, ev->len);
		if (ev->data_textlen > 0) {
			/* The split text is the data's one encoding, and the
			 * line ends right after it with "}. */
			char enc[64];

			proto_b64_encode(enc, ev->data, ev->len);
			ck_assert_uint_eq(strlen(enc), ev->data_textlen);
			ck_assert_mem_eq(cases[i].line + ev->data_off, enc,
					 ev->data_textlen);
			ck_assert_str_eq(cases[i].line + ev->data_off +
					     ev->data_textlen,
					 "\"}");
		}
		proto_event_free(ev);
	}
}
END_TEST

START_TEST(test_buf)
{
	struct proto_buf b;
	size_t i;

	proto_buf_init(&b);
	ck_assert_ptr_null(b.data);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(APPEND(&b, "0123456789"), 0);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_uint_ge(b.cap, b.len + 1);
	ck_assert_int_eq(b.data[b.len], '\0');
	proto_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_gt(b.cap, 0);
	ck_assert_int_eq(proto_ev_start(&b, NULL, "h"), 0);
	ck_assert_str_eq(
	    b.data,
	    "{\"v\":1,\"id\":null,\"event\":\"start\",\"host\":\"h\"}\n");
	proto_buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

/* ---- Host sets ---- */

struct hs_collect {
	char out[4096];
	size_t n;
	size_t stop_after; /* 0 = never stop */
};

static int
hs_emit(const char *host, void *arg)
{
	struct hs_collect *c = arg;

	if (c->n > 0)
		strncat(c->out, " ", sizeof c->out - strlen(c->out) - 1);
	strncat(c->out, host, sizeof c->out - strlen(c->out) - 1);
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static const struct {
	const char *pattern;
	const char *hosts;
} hostset_good[] = {
    {"web1", "web1"},
    {"web[1-3]", "web1 web2 web3"},
    {"web[01-03].example", "web01.example web02.example web03.example"},
    {"web[08-11]", "web08 web09 web10 web11"},
    {"n[1,3,5-7]", "n1 n3 n5 n6 n7"},
    {"n[7,1]", "n7 n1"},
    {"n[001-002]x", "n001x n002x"},
    {"n[0-1]", "n0 n1"},
    {"10.0.[0-1].[1-2]", "10.0.0.1 10.0.0.2 10.0.1.1 10.0.1.2"},
    {"root@h[1-2]:22", "root@h1:22 root@h2:22"},
    {"h:[2200-2201]", "h:2200 h:2201"},
    {"[::1]:22", "[::1]:22"},
    {"u@[2001:db8::[1-2]]:22", "u@[2001:db8::1]:22 u@[2001:db8::2]:22"},
    {"a[5]b", "a5b"},
    {"x[", "x["},
};

START_TEST(test_hostset_expand)
{
	struct hs_collect c;
	struct proto_error err;
	size_t i;
	int n;

	for (i = 0; i < sizeof hostset_good / sizeof hostset_good[0]; i++) {
		memset(&c, 0, sizeof c);
		n = proto_hostset_expand(hostset_good[i].pattern, hs_emit, &c,
					 100, &err);
		ck_assert_msg(n >= 0, "%s: %s", hostset_good[i].pattern,
			      err.message);
		ck_assert_int_eq((size_t)n, c.n);
		ck_assert_msg(strcmp(c.out, hostset_good[i].hosts) == 0,
			      "%s gave \"%s\"", hostset_good[i].pattern, c.out);
	}
	ck_assert_int_eq(proto_hostset_has_range("web[1-2]"), 1);
	ck_assert_int_eq(proto_hostset_has_range("[::1]:22"), 0);
	ck_assert_int_eq(proto_hostset_has_range("web1"), 0);
}
END_TEST

static const struct {
	const char *pattern;
	const char *why;
} hostset_bad[] = {
    {"", "empty host"},
    {"w[3-1]", "goes down"},
    {"w[1-]", "empty number"},
    {"w[-1]", "empty number"},
    {"w[1,]", "empty item"},
    {"w[,1]", "empty number"},
    {"w[1--2]", "malformed range bound"},
    {"w[1234567890]", "longer than 9 digits"},
    {"[1][2][3][4][5][6][7][8][9][1][2][3][4][5][6][7][8]",
     "more than 16 ranges"},
};

START_TEST(test_hostset_bad)
{
	struct hs_collect c;
	struct proto_error err;
	size_t i;

	for (i = 0; i < sizeof hostset_bad / sizeof hostset_bad[0]; i++) {
		memset(&c, 0, sizeof c);
		ck_assert_int_eq(proto_hostset_expand(hostset_bad[i].pattern,
						      hs_emit, &c, 100, &err),
				 -1);
		ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
		ck_assert_msg(strstr(err.message, hostset_bad[i].why) != NULL,
			      "%s: %s", hostset_bad[i].pattern, err.message);
		ck_assert_uint_eq(c.n, 0);
	}
}
END_TEST

START_TEST(test_hostset_bounds)
{
	struct hs_collect c;
	struct proto_error err;

	/* 4 * 254 = 1016 hosts: over a bound of 1000 nothing is emitted. */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(
	    proto_hostset_expand("10.0.[0-3].[1-254]", hs_emit, &c, 1000, &err),
	    -1);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(
	    proto_hostset_expand("10.0.[0-3].[1-254]", hs_emit, &c, 1016, &err),
	    1016);
	ck_assert_uint_eq(c.n, 1016);
	/* Products that overflow size_t are refused, not wrapped. */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(
	    proto_hostset_expand("[0-999999999][0-999999999][0-999999999]",
				 hs_emit, &c, SIZE_MAX, &err),
	    -1);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	/* The callback may stop the expansion. */
	memset(&c, 0, sizeof c);
	c.stop_after = 2;
	ck_assert_int_eq(proto_hostset_expand("h[1-9]", hs_emit, &c, 100, &err),
			 -1);
	ck_assert_int_eq(err.code, PROTO_E_NONE);
	ck_assert_uint_eq(c.n, 2);
}
END_TEST

START_TEST(test_hostspec_excluded)
{
	char *ex[] = {"web1", "root@db1:22", "cache*", "::1"};

	ck_assert_int_eq(proto_hostspec_excluded("web1", ex, 4), 1);
	ck_assert_int_eq(proto_hostspec_excluded("u@web1:2222", ex, 4), 1);
	ck_assert_int_eq(proto_hostspec_excluded("web10", ex, 4), 0);
	ck_assert_int_eq(proto_hostspec_excluded("root@db1:22", ex, 4), 1);
	ck_assert_int_eq(proto_hostspec_excluded("db1", ex, 4), 0);
	ck_assert_int_eq(proto_hostspec_excluded("u@cache7:1", ex, 4), 1);
	ck_assert_int_eq(proto_hostspec_excluded("[::1]:22", ex, 4), 1);
	ck_assert_int_eq(proto_hostspec_excluded("web1", ex, 0), 0);
}
END_TEST

/* Globs as fnmatch(3) without flags reads them, in the C locale. */
static const char *const glob_patterns[] = {
    "*",
    "?",
    "a*",
    "*a",
    "*a*",
    "a?c",
    "a*b*c",
    "*[ab]*",
    "[!a]*",
    "[^a]*",
    "[]a]*",
    "[]-a]*",
    "[a-]*",
    "[--0]*",
    "[z-a]*",
    "[\\]]*",
    "\\*a",
    "a\\",
    "*\\",
    "[a\\-z]*",
    "[[:digit:]]*",
    "[[:alpha:]-z]*",
    "[![:alnum:]]*",
    "[[:punct:]]*",
    "[[:a1:]]*",
    "[[:]*",
    "[[]*",
    "[*",
    "a[*",
    "[a*",
    "[[a*",
    "[!*",
    "[a-*",
    "[\\*",
    "[]*",
    "[!]*",
    "x[]]*",
    "*[[:space:][:upper:]]?",
    "[[:xdigit:]][[:lower:]]*",
    "[[:cntrl:]]*",
    "[[:print:][:graph:]]*",
    "[[:blank:]]*",
    "*a*a*a*b",
    "a**b",
    "*?*?",
    "[:a:]*",
    "[x[:a1:]]*",
    "[a-c-e]*",
    "\\[a]*",
    "[\\",
    "[a-\\",
    "[[",
    "[x[",
    "[A-za-",
    "[[a-",
    "[A-z\\",
    "*[[:punct:]a-",
    "[[*",
    "a*[\x8e"
    "a\x9a*[a",
};
static const char *const glob_texts[] = {
    "",
    "a",
    "b",
    "ab",
    "abc",
    "aXbYc",
    "]",
    "-",
    "z",
    "0",
    "5",
    "\\",
    "[",
    "[a",
    "[ab",
    "[a*",
    "a[",
    "[*",
    "*a",
    "a\\",
    "x]",
    "x[]",
    "A",
    " ",
    "\t",
    "\x01",
    "\x7f",
    "\x80",
    "\xff",
    "aaab",
    "aab",
    ":",
    "a:",
    "[:a:]",
    "!",
    "^",
    "d",
    "c-",
    "[]",
    "[!]",
    "[\\",
    "x",
    "xa1",
    "b9",
    "[[",
    "[x[",
    "[A-za-",
    "[[a-",
    "[A-z\\",
    "[[:punct:]a-",
    "[[a",
    "a]aab[\x8e"
    "a\x9a*[a",
};

START_TEST(test_glob_fnmatch)
{
	struct proto_glob *g;
	size_t i, k, steps;
	int unsupported;

	for (i = 0; i < sizeof glob_patterns / sizeof glob_patterns[0]; i++) {
		const char *p = glob_patterns[i];

		g = proto_glob_new(p, strlen(p), &unsupported);
		ck_assert_msg(g != NULL, "\"%s\" not compiled", p);
		for (k = 0; k < sizeof glob_texts / sizeof glob_texts[0]; k++) {
			const char *t = glob_texts[k];

			steps = 0;
			ck_assert_msg(
			    proto_glob_match(g, t, strlen(t), &steps) ==
				(fnmatch(p, t, 0) == 0),
			    "\"%s\" against \"%s\": fnmatch says %d", p, t,
			    fnmatch(p, t, 0));
		}
		proto_glob_free(g);
	}
	/* What the matcher does not take, fnmatch reads differently
	 * depending on the text. */
	ck_assert_ptr_null(proto_glob_new("[[=a=]]*", 8, &unsupported));
	ck_assert_int_eq(unsupported, 1);
	ck_assert_ptr_null(proto_glob_new("[[.a.]]*", 8, &unsupported));
	ck_assert_int_eq(unsupported, 1);
	ck_assert_ptr_null(proto_glob_new("[[:foo:]]*", 10, &unsupported));
	ck_assert_int_eq(unsupported, 1);
	ck_assert_ptr_null(proto_glob_new("[0-[]*", 6, &unsupported));
	ck_assert_int_eq(unsupported, 1);
}
END_TEST

/* Random short globs and texts from a small alphabet, against fnmatch. */
START_TEST(test_glob_random)
{
	static const char palpha[] = "ab*?[]!^-\\:";
	static const char talpha[] = "ab[]-!:\\";
	char p[12], t[10];
	struct proto_glob *g;
	unsigned int seed = 12345;
	size_t pl, tl, j, steps;
	int round, unsupported;

	for (round = 0; round < 200000; round++) {
		pl = (size_t)(rand_r(&seed) % 11);
		tl = (size_t)(rand_r(&seed) % 9);
		for (j = 0; j < pl; j++)
			p[j] = palpha[rand_r(&seed) % (sizeof palpha - 1)];
		p[pl] = '\0';
		for (j = 0; j < tl; j++)
			t[j] = talpha[rand_r(&seed) % (sizeof talpha - 1)];
		t[tl] = '\0';
		/* Half the texts are the pattern itself, read literally. */
		if (rand_r(&seed) % 2 && pl < sizeof t) {
			memcpy(t, p, pl + 1);
			tl = pl;
		}
		if ((g = proto_glob_new(p, pl, &unsupported)) == NULL) {
			ck_assert_int_eq(unsupported, 1);
			continue;
		}
		steps = 0;
		ck_assert_msg(proto_glob_match(g, t, tl, &steps) ==
				  (fnmatch(p, t, 0) == 0),
			      "\"%s\" against \"%s\": fnmatch says %d", p, t,
			      fnmatch(p, t, 0));
		ck_assert(steps <= (pl + 1) * (tl + 1));
		proto_glob_free(g);
	}
}
END_TEST

/* A backtracking glob costs at most name x pattern steps. */
START_TEST(test_glob_cost)
{
	char name[250], pat[64];
	struct proto_glob *g;
	size_t steps = 0, i, o = 0;
	int unsupported;

	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	for (i = 0; i < 12; i++) {
		pat[o++] = '*';
		pat[o++] = 'a';
	}
	memcpy(pat + o, "*b*", 4);
	o += 3;
	g = proto_glob_new(pat, o, &unsupported);
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(proto_glob_match(g, name, strlen(name), &steps), 0);
	ck_assert_msg(steps <= (o + 1) * sizeof name, "%zu steps", steps);
	/* A fixed head or tail rejects at once. */
	steps = 0;
	proto_glob_free(g);
	g = proto_glob_new("x*a*a*a*a*a*a*a*b", 17, &unsupported);
	ck_assert_int_eq(proto_glob_match(g, name, strlen(name), &steps), 0);
	ck_assert_uint_le(steps, 1);
	steps = 0;
	proto_glob_free(g);
	g = proto_glob_new("*a*a*a*a*a*a*a*b", 16, &unsupported);
	ck_assert_int_eq(proto_glob_match(g, name, strlen(name), &steps), 0);
	ck_assert_uint_le(steps, 1);
	proto_glob_free(g);
}
END_TEST

/* Exact entries are hashed, repeated globs compiled once; the steps of a
 * set grow with the hosts, not with hosts x entries. */
START_TEST(test_exclude_cost)
{
	struct proto_exclude *x;
	struct proto_error err;
	char **v, host[32];
	size_t i, n = 10000, steps;

	v = calloc(n, sizeof *v);
	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof host, "web%zu", i);
		v[i] = strdup(host);
	}
	ck_assert_int_eq(proto_exclude_new(v, n, SIZE_MAX, &x, &err), 0);
	ck_assert_uint_eq(proto_exclude_steps(x), 0);
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof host, "u@web%zu:22", i);
		ck_assert_int_eq(proto_exclude_match(x, host), 1);
	}
	ck_assert_int_eq(proto_exclude_match(x, "web10000"), 0);
	ck_assert_uint_eq(proto_exclude_steps(x), n + 1);
	proto_exclude_free(x);
	for (i = 0; i < n; i++) {
		free(v[i]);
		v[i] = strdup("db*");
	}
	ck_assert_int_eq(proto_exclude_new(v, n, SIZE_MAX, &x, &err), 0);
	steps = proto_exclude_steps(x);
	ck_assert_uint_le(steps, 64);
	ck_assert_int_eq(proto_exclude_match(x, "db1"), 1);
	ck_assert_int_eq(proto_exclude_match(x, "web1"), 0);
	ck_assert_uint_le(proto_exclude_steps(x) - steps, 8);
	proto_exclude_free(x);
	/* Over the budget: -1 from then on, a matching host included. */
	ck_assert_int_eq(proto_exclude_new(v, 1, 13, &x, &err), 0);
	for (i = 0; i < 20 && proto_exclude_match(x, "dz1") == 0; i++)
		;
	ck_assert_uint_lt(i, 20);
	ck_assert_int_eq(proto_exclude_match(x, "db1"), -1);
	ck_assert_int_eq(proto_exclude_match(x, "web1"), -1);
	proto_exclude_free(x);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
END_TEST

/* PROTO_MAX_EXCLUDE_STEPS bounds one request's exclusions. */
START_TEST(test_req_exclude_budget)
{
	struct proto_request *req;
	struct proto_error err;
	const char *line;

	/* 100 globs against 10000 hosts fit. */
	line = RUN_HEAD "\"hosts\":[\"h[0-9999]\"],\"exclude\":[\"x*[0-99]\","
			"\"h1*\"],\"command\":\"c\"}";
	ck_assert_msg(
	    proto_request_parse(line, strlen(line), NULL, &req, &err) == 0,
	    "%s", err.message);
	ck_assert_uint_eq(req->nhosts, 10000 - 1111);
	ck_assert_uint_le(proto_exclude_steps(req->exclude_set),
			  PROTO_MAX_EXCLUDE_STEPS);
	proto_request_free(req);
	/* Globs that start with another byte cost nothing. */
	line = RUN_HEAD "\"hosts\":[\"h[0-9999]\"],\"exclude\":[\"x*[0-9998]\","
			"\"h*\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_str_eq(err.message, "hosts: every host is excluded");
	/* 9999 that every host must try do not fit. */
	line =
	    RUN_HEAD "\"hosts\":[\"h[0-9999]\"],\"exclude\":[\"h*[0-9998]x\","
		     "\"h*\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	ck_assert_msg(strstr(err.message, "steps") != NULL, "%s", err.message);
	/* Brackets fnmatch reads by the text are refused. */
	line = RUN_HEAD "\"hosts\":[\"h1\"],\"exclude\":[\"[[=a=]]*\"],"
			"\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_msg(strstr(err.message, "bracket") != NULL, "%s",
		      err.message);
	/* The same glob still excludes with the library call. */
	{
		char *ex[] = {"[[=h=]]*"};

		ck_assert_int_eq(proto_hostspec_excluded("h1", ex, 1), 1);
		ck_assert_int_eq(proto_hostspec_excluded("g1", ex, 1), 0);
	}
}
END_TEST

/* Ranges in "hosts" and "exclude" are expanded by the codec. */
START_TEST(test_req_hostsets)
{
	struct proto_request *req, *back;
	struct proto_limits lim;
	struct proto_error err;
	const char *line;

	req = parse_ok(RUN_HEAD "\"hosts\":[\"w[01-03]\",\"@g\",\"x\"],"
				"\"exclude\":[\"w02\",\"y[1-2]\"],"
				"\"command\":\"c\"}");
	ck_assert_uint_eq(req->nhosts, 4);
	ck_assert_str_eq(req->hosts[0], "w01");
	ck_assert_str_eq(req->hosts[1], "w03");
	ck_assert_str_eq(req->hosts[2], "@g");
	ck_assert_str_eq(req->hosts[3], "x");
	ck_assert_uint_eq(req->nexclude, 3);
	ck_assert_str_eq(req->exclude[0], "w02");
	ck_assert_str_eq(req->exclude[2], "y2");
	back = reencode(req);
	ck_assert_uint_eq(back->nhosts, 4);
	ck_assert_uint_eq(back->nexclude, 3);
	ck_assert_str_eq(back->exclude[1], "y1");
	proto_request_free(back);
	proto_request_free(req);

	/* The expansion counts against MaxHostsPerRequest. */
	proto_limits_default(&lim);
	lim.max_hosts = 5;
	line = RUN_HEAD "\"hosts\":[\"a\",\"w[1-5]\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), &lim, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_LIMIT);
	ck_assert_msg(strstr(err.message, "MaxHostsPerRequest") != NULL, "%s",
		      err.message);
	ck_assert_msg(strncmp(err.message, "hosts[1]: ", 10) == 0, "%s",
		      err.message);
	line = RUN_HEAD "\"hosts\":[\"w[1-5]\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), &lim, &req, &err), 0);
	ck_assert_uint_eq(req->nhosts, 5);
	proto_request_free(req);

	/* Overlapping expansions are duplicates. */
	line = RUN_HEAD "\"hosts\":[\"w[1-3]\",\"w2\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "hosts[1]: duplicate of hosts[0]");
	line = RUN_HEAD "\"hosts\":[\"w[1,1]\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "hosts[0]: \"w1\" appears twice");

	/* Every expanded host must be a valid spec. */
	line = RUN_HEAD "\"hosts\":[\"u@w[1-2]:[0-1]\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "hosts[0]: port out of range (1..65535)");
	line = RUN_HEAD "\"hosts\":[\"w[2-1]\"],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_msg(strstr(err.message, "hosts[0]: range 2-1 goes down") !=
			  NULL,
		      "%s", err.message);

	/* Excluding everything leaves nothing to run. */
	line = RUN_HEAD "\"hosts\":[\"w[1-2]\"],\"exclude\":[\"w*\"],"
			"\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "hosts: every host is excluded");
	/* ... unless a group may still bring hosts. */
	line = RUN_HEAD "\"hosts\":[\"w1\",\"@g\"],\"exclude\":[\"w1\"],"
			"\"command\":\"c\"}";
	req = parse_ok(line);
	ck_assert_uint_eq(req->nhosts, 1);
	ck_assert_str_eq(req->hosts[0], "@g");
	ck_assert_uint_eq(req->nexclude, 1);
	proto_request_free(req);

	/* exclude: type and content checks. */
	line =
	    RUN_HEAD "\"hosts\":[\"a\"],\"exclude\":\"a\",\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "exclude: expected an array of strings");
	line = RUN_HEAD "\"hosts\":[\"a\"],\"exclude\":[1],\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "exclude[0]: expected a string");
	line = RUN_HEAD "\"hosts\":[\"a\"],\"exclude\":[\"b\",\"\"],"
			"\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "exclude[1]: empty");
	line = RUN_HEAD "\"hosts\":[\"a\"],\"exclude\":[\"b c\"],"
			"\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message,
			 "exclude[0]: contains a space or control character");
	line = "{\"v\":1,\"id\":1,\"op\":\"status\",\"exclude\":[\"a\"]}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "exclude: not allowed in status");
}
END_TEST

START_TEST(test_req_disconnect)
{
	struct proto_request *req, *back;
	struct proto_error err;
	const char *line;

	req = parse_ok("{\"v\":1,\"id\":\"d\",\"op\":\"disconnect\","
		       "\"hosts\":[\"a[1-2]\",\"@g\"],\"user\":\"u\","
		       "\"exclude\":[\"a2\"]}");
	ck_assert_int_eq(req->op, PROTO_OP_DISCONNECT);
	ck_assert_str_eq(proto_op_name(req->op), "disconnect");
	ck_assert_uint_eq(req->nhosts, 2);
	ck_assert_str_eq(req->hosts[0], "a1");
	ck_assert_str_eq(req->user, "u");
	back = reencode(req);
	ck_assert_int_eq(back->op, PROTO_OP_DISCONNECT);
	ck_assert_str_eq(back->hosts[1], "@g");
	ck_assert_str_eq(back->exclude[0], "a2");
	proto_request_free(back);
	proto_request_free(req);
	line = "{\"v\":1,\"id\":\"d\",\"op\":\"disconnect\",\"hosts\":[\"a\"],"
	       "\"command\":\"c\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "command: not allowed in disconnect");
	line = "{\"v\":1,\"id\":\"d\",\"op\":\"disconnect\"}";
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "hosts: missing");
}
END_TEST

/* ---- Jump host chains ---- */

START_TEST(test_jump_parse)
{
	struct proto_jump j;
	struct proto_error err;

	ck_assert_int_eq(proto_jump_parse("none", &j, &err), 0);
	ck_assert_uint_eq(j.n, 0);
	ck_assert_int_eq(proto_jump_parse("bastion", &j, &err), 0);
	ck_assert_uint_eq(j.n, 1);
	ck_assert_str_eq(j.hops[0].host, "bastion");
	ck_assert_str_eq(j.hops[0].user, "");
	ck_assert_int_eq(j.hops[0].port, 0);
	ck_assert_int_eq(
	    proto_jump_parse("ops@b1:2222,b2,[::1]:22,u@[fe80::2]", &j, &err),
	    0);
	ck_assert_uint_eq(j.n, 4);
	ck_assert_str_eq(j.hops[0].user, "ops");
	ck_assert_str_eq(j.hops[0].host, "b1");
	ck_assert_int_eq(j.hops[0].port, 2222);
	ck_assert_str_eq(j.hops[1].host, "b2");
	ck_assert_str_eq(j.hops[2].host, "::1");
	ck_assert_int_eq(j.hops[2].port, 22);
	ck_assert_str_eq(j.hops[3].user, "u");
	ck_assert_str_eq(j.hops[3].host, "fe80::2");
	ck_assert_int_eq(j.hops[3].port, 0);
	/* PROTO_MAX_JUMP_HOPS hops, and one more. */
	ck_assert_int_eq(proto_jump_parse("a,b,c,d,e,f,g,h", &j, &err), 0);
	ck_assert_uint_eq(j.n, PROTO_MAX_JUMP_HOPS);
	ck_assert_int_eq(proto_jump_parse("a,b,c,d,e,f,g,h,i", &j, &err), -1);
	ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
	ck_assert_str_eq(err.message, "too many jump hosts (max 8)");

	ck_assert_int_eq(proto_jump_parse("", &j, &err), -1);
	ck_assert_str_eq(err.message, "empty jump host list");
	ck_assert_int_eq(proto_jump_parse(NULL, &j, &err), -1);
	ck_assert_int_eq(proto_jump_parse("a,,b", &j, &err), -1);
	ck_assert_str_eq(err.message, "jump host 2: empty");
	ck_assert_int_eq(proto_jump_parse("a:70000", &j, &err), -1);
	ck_assert_str_eq(err.message,
			 "jump host 1 \"a:70000\": port out of range "
			 "(1..65535)");
	ck_assert_int_eq(proto_jump_parse("a,none", &j, &err), -1);
	ck_assert_str_eq(err.message, "jump host 2: \"none\" is not a host");
	ck_assert_int_eq(proto_jump_parse("a b", &j, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.message, "jump host 1 \"a b\""));
	ck_assert_int_eq(proto_jump_parse("[::1]x", &j, &err), -1);
	ck_assert_int_eq(proto_jump_parse("@group", &j, &err), -1);
	/* err may be NULL. */
	ck_assert_int_eq(proto_jump_parse("a,,", &j, NULL), -1);
}
END_TEST

/* "jump" on run, connect and disconnect: parsed, checked, encoded. */
START_TEST(test_req_jump)
{
	static const char *const ops[] = {"run", "connect", "disconnect"};
	struct proto_request *req, *back;
	struct proto_error err;
	char line[512];
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"v\":1,\"id\":\"j\",\"op\":\"%s\",\"hosts\":"
			 "[\"t\"],%s\"jump\":\"ops@b1:2222,[::1]:22\"}",
			 ops[i], i == 0 ? "\"command\":\"c\"," : "");
		req = parse_ok(line);
		ck_assert_str_eq(req->jump, "ops@b1:2222,[::1]:22");
		back = reencode(req);
		ck_assert_str_eq(back->jump, "ops@b1:2222,[::1]:22");
		proto_request_free(back);
		proto_request_free(req);
	}
	req = parse_ok("{\"v\":1,\"id\":\"j\",\"op\":\"connect\",\"hosts\":"
		       "[\"t\"],\"jump\":\"none\"}");
	ck_assert_str_eq(req->jump, "none");
	back = reencode(req);
	ck_assert_str_eq(back->jump, "none");
	proto_request_free(back);
	proto_request_free(req);
	/* Absent: NULL, and not encoded. */
	req = parse_ok("{\"v\":1,\"id\":\"j\",\"op\":\"connect\",\"hosts\":"
		       "[\"t\"]}");
	ck_assert_ptr_null(req->jump);
	back = reencode(req);
	ck_assert_ptr_null(back->jump);
	proto_request_free(back);
	proto_request_free(req);

	static const struct {
		const char *member, *msg;
	} bad[] = {
	    {"\"jump\":1", "jump: expected a string"},
	    {"\"jump\":null", "jump: expected a string"},
	    {"\"jump\":\"\"", "jump: empty jump host list"},
	    {"\"jump\":\"a,,b\"", "jump: jump host 2: empty"},
	    {"\"jump\":\"a,b,c,d,e,f,g,h,i\"",
	     "jump: too many jump hosts (max 8)"},
	    {"\"jump\":\"h:0\"",
	     "jump: jump host 1 \"h:0\": port out of range (1..65535)"},
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"v\":1,\"id\":\"j\",\"op\":\"connect\",\"hosts\":"
			 "[\"t\"],%s}",
			 bad[i].member);
		req = (void *)1;
		ck_assert_int_eq(
		    proto_request_parse(line, strlen(line), NULL, &req, &err),
		    -1);
		ck_assert_ptr_null(req);
		ck_assert_int_eq(err.code, PROTO_E_BAD_REQUEST);
		ck_assert_msg(strstr(err.message, bad[i].msg) != NULL,
			      "%s: \"%s\" lacks \"%s\"", line, err.message,
			      bad[i].msg);
		ck_assert_str_eq(err.id, "\"j\"");
	}
	snprintf(line, sizeof(line),
		 "{\"v\":1,\"id\":\"j\",\"op\":\"status\",\"jump\":\"a\"}");
	ck_assert_int_eq(
	    proto_request_parse(line, strlen(line), NULL, &req, &err), -1);
	ck_assert_str_eq(err.message, "jump: not allowed in status");
}
END_TEST

/* The jump errors' names, both ways. */
START_TEST(test_proxy_codes)
{
	ck_assert_str_eq(proto_code_name(PROTO_E_PROXY_FAILED), "proxy_failed");
	ck_assert_str_eq(proto_code_name(PROTO_E_PROXY_REFUSED),
			 "proxy_refused");
	ck_assert_int_eq(proto_code_from_name("proxy_failed"),
			 PROTO_E_PROXY_FAILED);
	ck_assert_int_eq(proto_code_from_name("proxy_refused"),
			 PROTO_E_PROXY_REFUSED);
}
END_TEST

/* hostname, jump and tunnels: shown when set, absent by default. */
START_TEST(test_status_jump_members)
{
	struct proto_status_host h;
	struct proto_buf b;
	json_object *root, *m;

	proto_status_host_init(&h);
	ck_assert_int_eq(h.tunnels, -1);
	ck_assert_int_eq(h.rtt_ms, -1);
	h.host = "root@web1:22";
	h.state = "up";
	proto_buf_init(&b);
	ck_assert_int_eq(proto_status_host(&b, &h), 0);
	ck_assert_ptr_null(strstr(b.data, "hostname"));
	ck_assert_ptr_null(strstr(b.data, "jump"));
	ck_assert_ptr_null(strstr(b.data, "tunnels"));
	assert_valid_json(b.data, b.len);

	proto_buf_reset(&b);
	h.hostname = "10.1.2.3";
	h.jump = "ops@b1:2222,root@[::1]:22";
	h.tunnels = 0;
	ck_assert_int_eq(proto_status_host(&b, &h), 0);
	assert_valid_json(b.data, b.len);
	root = json_tokener_parse(b.data);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "hostname", &m));
	ck_assert_str_eq(json_object_get_string(m), "10.1.2.3");
	ck_assert(json_object_object_get_ex(root, "jump", &m));
	ck_assert_str_eq(json_object_get_string(m),
			 "ops@b1:2222,root@[::1]:22");
	ck_assert(json_object_object_get_ex(root, "tunnels", &m));
	ck_assert(json_object_is_type(m, json_type_int));
	ck_assert_int_eq(json_object_get_int(m), 0);
	json_object_put(root);
	/* The credential members still end the object. */
	ck_assert_ptr_nonnull(strstr(b.data, "\"credential_uid\":null}"));
	proto_buf_free(&b);
}
END_TEST

START_TEST(test_ev_disconnected)
{
	struct proto_buf b;
	struct proto_event *ev;

	proto_buf_init(&b);
	ck_assert_int_eq(proto_ev_disconnected(&b, "\"d\"", "h1", 2, 1, 5), 0);
	ck_assert_str_eq(b.data,
			 "{\"v\":1,\"id\":\"d\",\"event\":\"disconnected\","
			 "\"host\":\"h1\",\"sessions\":2,\"draining\":1,"
			 "\"duration_ms\":5}\n");
	ev = event_ok(&b);
	ck_assert_int_eq(ev->type, PROTO_EV_DISCONNECTED);
	ck_assert_str_eq(ev->host, "h1");
	ck_assert_int_eq(ev->sessions, 2);
	ck_assert_int_eq(ev->draining, 1);
	ck_assert_int_eq(ev->duration_ms, 5);
	ck_assert_str_eq(proto_event_name(PROTO_EV_DISCONNECTED),
			 "disconnected");
	proto_event_free(ev);
	proto_buf_free(&b);
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc;

	tc = tcase_create("requests");
	tcase_add_test(tc, test_req_hello_roundtrip);
	tcase_add_test(tc, test_jump_parse);
	tcase_add_test(tc, test_req_jump);
	tcase_add_test(tc, test_proxy_codes);
	tcase_add_test(tc, test_status_jump_members);
	tcase_add_test(tc, test_req_run_roundtrip);
	tcase_add_test(tc, test_req_timeout_fractions);
	tcase_add_test(tc, test_req_connect_cancel_status_roundtrip);
	tcase_add_test(tc, test_req_encode_rejects_invalid_utf8);
	tcase_add_test(tc, test_req_many_hosts);
	tcase_add_test(tc, test_req_depth);
	tcase_add_test(tc, test_req_fds);
	tcase_add_test(tc, test_req_limits);
	tcase_add_test(tc, test_req_env_limit);
	tcase_add_test(tc, test_req_depth_limit);
	tcase_add_test(tc, test_req_group_refs);
	tcase_add_test(tc, test_req_hostset_bounds);
	tcase_add_test(tc, test_req_field_limits);
	tcase_add_test(tc, test_id_helpers);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("validation");
	tcase_add_loop_test(tc, test_req_invalid, 0,
			    (int)(sizeof bad_cases / sizeof bad_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("hostspec");
	tcase_add_test(tc, test_hostspec_good);
	tcase_add_test(tc, test_hostspec_bad);
	tcase_add_test(tc, test_hostspec_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostset");
	tcase_add_test(tc, test_hostset_expand);
	tcase_add_test(tc, test_hostset_bad);
	tcase_add_test(tc, test_hostset_bounds);
	tcase_add_test(tc, test_hostspec_excluded);
	tcase_add_test(tc, test_glob_fnmatch);
	tcase_add_test(tc, test_glob_random);
	tcase_add_test(tc, test_glob_cost);
	tcase_add_test(tc, test_exclude_cost);
	tcase_add_test(tc, test_req_exclude_budget);
	tcase_add_test(tc, test_req_hostsets);
	tcase_add_test(tc, test_req_disconnect);
	tcase_add_test(tc, test_ev_disconnected);
	suite_add_tcase(s, tc);

	tc = tcase_create("events");
	tcase_add_test(tc, test_b64);
	tcase_add_test(tc, test_b64_vector_matches_scalar);
	tcase_add_test(tc, test_b64_rejects_every_position);
	tcase_add_test(tc, test_ev_output_all_bytes);
	tcase_add_test(tc, test_ev_output_large_chunk);
	tcase_add_test(tc, test_ev_roundtrip);
	tcase_add_test(tc, test_ev_status);
	tcase_add_test(tc, test_ev_escape_controls);
	tcase_add_test(tc, test_ev_invalid_utf8);
	tcase_add_test(tc, test_ev_message_truncated);
	tcase_add_test(tc, test_ev_parse_rejects);
	tcase_add_test(tc, test_ev_output_split_path);
	tcase_add_test(tc, test_buf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(proto_suite());
}
