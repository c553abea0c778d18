/* SPDX-License-Identifier: ISC */
/*
 * Event decoding (client side): the table of event types, one row per type
 * with its name and decoder, and parsing one line into a struct
 * proto_event, with a fast path that decodes the base64 of output events
 * without a JSON parser.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_int.h"

void
proto_event_free(struct proto_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->host);
	free(ev->data);
	free(ev->signal);
	free(ev->message);
	free(ev->server);
	free(ev->json);
	free(ev);
}

/* Optional string member: 0 absent, 1 copied, -1 error. */
static int
proto_event_get_str(json_object *root, const char *key, int required,
		    char **out, struct proto_error *err)
{
	json_object *o;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(root, key, &o)) {
		if (required)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "%s: missing", key);
		return 0;
	}
	if (!json_object_is_type(o, json_type_string))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "%s: expected a string", key);
	s = proto_json_str(o, &len);
	if (proto_json_strdup(s, len, out, err) == -1)
		return -1;
	return 1;
}

/* Integer member; 0 absent (and not required), 1 set, -1 error. */
static int
proto_event_get_int(json_object *root, const char *key, int required,
		    long long min, long long max, long long *out,
		    struct proto_error *err)
{
	json_object *o;

	if (!json_object_object_get_ex(root, key, &o)) {
		if (required)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "%s: missing", key);
		return 0;
	}
	if (proto_json_int(o, key, min, max, out, err) == -1)
		return -1;
	return 1;
}

static int
proto_event_get_count(json_object *root, const char *key, size_t *out,
		      struct proto_error *err)
{
	long long v;

	if (proto_event_get_int(root, key, 1, 0, PROTO_MAX_SAFE_INT, &v, err) ==
	    -1)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int
proto_event_get_limits(json_object *root, struct proto_limits *lim,
		       struct proto_error *err)
{
	json_object *o;
	long long v;

	proto_limits_default(lim);
	if (!json_object_object_get_ex(root, "limits", &o))
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "limits: expected an object");
	if (json_object_object_get_ex(o, "max_line", NULL) &&
	    proto_event_get_count(o, "max_line", &lim->max_line, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_hosts", NULL) &&
	    proto_event_get_count(o, "max_hosts", &lim->max_hosts, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_stdin", NULL) &&
	    proto_event_get_count(o, "max_stdin", &lim->max_stdin, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_env", NULL) &&
	    proto_event_get_count(o, "max_env", &lim->max_env, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_depth", NULL)) {
		if (proto_event_get_int(o, "max_depth", 1, 1, PROTO_MAX_DEPTH,
					&v, err) == -1)
			return -1;
		lim->max_depth = (int)v;
	}
	return 0;
}

/* An output event's base64 value when it was split off the line (see
 * proto_event_parse); the line itself then holds an empty string. */
struct proto_event_split {
	const char *text;
	size_t len;
};

static int
proto_event_get_data(json_object *root, struct proto_event *ev,
		     const struct proto_event_split *split,
		     struct proto_error *err)
{
	json_object *o;
	const char *s;
	size_t len;
	long n;

	if (!json_object_object_get_ex(root, "data", &o))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "data: missing");
	if (!json_object_is_type(o, json_type_string))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "data: expected a base64 string");
	s = proto_json_str(o, &len);
	if (split != NULL) {
		s = split->text;
		len = split->len;
	}
	if ((ev->data = malloc(proto_b64_maxdecoded(len) + 1)) == NULL)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	if ((n = proto_b64_decode(ev->data, s, len)) < 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "data: invalid base64");
	ev->len = (size_t)n;
	return 0;
}

/* What a decoder may read besides the tree: the line itself (status keeps
 * it) and the base64 split off an output event. */
struct proto_event_src {
	const char *line;
	size_t len;
	const struct proto_event_split *split;
};

static int
proto_event_parse_hello(json_object *root, struct proto_event *ev,
			const struct proto_event_src *src,
			struct proto_error *err)
{
	long long v;

	if (proto_event_get_int(root, "version", 1, 0, INT_MAX, &v, err) == -1)
		return -1;
	ev->version = (int)v;
	if (proto_event_get_str(root, "server", 0, &ev->server, err) == -1)
		return -1;
	return proto_event_get_limits(root, &ev->limits, err);
}

static int
proto_event_parse_start(json_object *root, struct proto_event *ev,
			const struct proto_event_src *src,
			struct proto_error *err)
{
	return proto_event_get_str(root, "host", 1, &ev->host, err) == -1 ? -1
									  : 0;
}

/* stdout and stderr. */
static int
proto_event_parse_output(json_object *root, struct proto_event *ev,
			 const struct proto_event_src *src,
			 struct proto_error *err)
{
	if (proto_event_get_str(root, "host", 1, &ev->host, err) == -1)
		return -1;
	return proto_event_get_data(root, ev, src->split, err);
}

static int
proto_event_parse_exit(json_object *root, struct proto_event *ev,
		       const struct proto_event_src *src,
		       struct proto_error *err)
{
	long long v;
	int r;

	if (proto_event_get_str(root, "host", 1, &ev->host, err) == -1)
		return -1;
	if ((r = proto_event_get_str(root, "signal", 0, &ev->signal, err)) ==
	    -1)
		return -1;
	if (r == 0) {
		if (proto_event_get_int(root, "status", 1, INT_MIN, INT_MAX, &v,
					err) == -1)
			return -1;
		ev->status = (int)v;
	}
	return 0;
}

static int
proto_event_parse_error(json_object *root, struct proto_event *ev,
			const struct proto_event_src *src,
			struct proto_error *err)
{
	char *code = NULL;

	if (proto_event_get_str(root, "host", 0, &ev->host, err) == -1 ||
	    proto_event_get_str(root, "code", 1, &code, err) == -1)
		return -1;
	/* Codes from a newer daemon are reported as internal. */
	ev->code = proto_code_from_name(code);
	if (ev->code == PROTO_E_NONE)
		ev->code = PROTO_E_INTERNAL;
	free(code);
	if (proto_event_get_str(root, "message", 0, &ev->message, err) == -1)
		return -1;
	if (ev->message == NULL &&
	    proto_json_strdup("", 0, &ev->message, err) == -1)
		return -1;
	return 0;
}

static int
proto_event_parse_connected(json_object *root, struct proto_event *ev,
			    const struct proto_event_src *src,
			    struct proto_error *err)
{
	long long v;
	int r;

	if (proto_event_get_str(root, "host", 1, &ev->host, err) == -1)
		return -1;
	if ((r = proto_event_get_int(root, "sessions", 0, 0, INT_MAX, &v,
				     err)) == -1)
		return -1;
	if (r == 1)
		ev->sessions = (int)v;
	return 0;
}

static int
proto_event_parse_disconnected(json_object *root, struct proto_event *ev,
			       const struct proto_event_src *src,
			       struct proto_error *err)
{
	long long v;
	int r;

	/* "disconnected" is "connected" plus the sessions left draining. */
	if (proto_event_parse_connected(root, ev, src, err) == -1)
		return -1;
	if ((r = proto_event_get_int(root, "draining", 0, 0, INT_MAX, &v,
				     err)) == -1)
		return -1;
	if (r == 1)
		ev->draining = (int)v;
	return 0;
}

static int
proto_event_parse_done(json_object *root, struct proto_event *ev,
		       const struct proto_event_src *src,
		       struct proto_error *err)
{
	if (proto_event_get_count(root, "hosts", &ev->done.hosts, err) == -1 ||
	    proto_event_get_count(root, "ok", &ev->done.ok, err) == -1 ||
	    proto_event_get_count(root, "failed", &ev->done.failed, err) ==
		-1 ||
	    proto_event_get_count(root, "errors", &ev->done.errors, err) == -1)
		return -1;
	return 0;
}

static int
proto_event_parse_cancel(json_object *root, struct proto_event *ev,
			 const struct proto_event_src *src,
			 struct proto_error *err)
{
	json_object *o;

	if (!json_object_object_get_ex(root, "target", &o))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "target: missing");
	if (proto_id_from_json(o, ev->target, "target", 1, err) == -1)
		return -1;
	if (!json_object_object_get_ex(root, "found", &o) ||
	    !json_object_is_type(o, json_type_boolean))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "found: expected true or false");
	ev->found = json_object_get_boolean(o) ? 1 : 0;
	return 0;
}

static int
proto_event_parse_status(json_object *root, struct proto_event *ev,
			 const struct proto_event_src *src,
			 struct proto_error *err)
{
	json_object *o;

	if (!json_object_object_get_ex(root, "workers", &o) ||
	    !json_object_is_type(o, json_type_array))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "workers: expected an array");
	if (!json_object_object_get_ex(root, "hosts", &o) ||
	    !json_object_is_type(o, json_type_array))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "hosts: expected an array");
	return proto_json_strdup(src->line, src->len, &ev->json, err);
}

/* The optional "duration_ms" member; ev->duration_ms stays -1 if absent. */
static int
proto_event_get_duration(json_object *root, struct proto_event *ev,
			 struct proto_error *err)
{
	long long v;

	if (proto_event_get_int(root, "duration_ms", 0, 0, PROTO_MAX_SAFE_INT,
				&v, err) == -1)
		return -1;
	if (json_object_object_get_ex(root, "duration_ms", NULL))
		ev->duration_ms = v;
	return 0;
}

/*
 * One row per event type: its wire name, the decoder of its own members,
 * and whether it carries "duration_ms".  The decoder runs once the common
 * members (v, id, event) are read.
 */
static const struct proto_event_def {
	const char *name;
	int (*parse)(json_object *, struct proto_event *,
		     const struct proto_event_src *, struct proto_error *);
	int duration;
} proto_event_defs[PROTO_EV_COUNT] = {
    [PROTO_EV_HELLO] = {"hello", proto_event_parse_hello, 0},
    [PROTO_EV_START] = {"start", proto_event_parse_start, 0},
    [PROTO_EV_STDOUT] = {"stdout", proto_event_parse_output, 0},
    [PROTO_EV_STDERR] = {"stderr", proto_event_parse_output, 0},
    [PROTO_EV_EXIT] = {"exit", proto_event_parse_exit, 1},
    [PROTO_EV_ERROR] = {"error", proto_event_parse_error, 1},
    [PROTO_EV_CONNECTED] = {"connected", proto_event_parse_connected, 1},
    [PROTO_EV_DONE] = {"done", proto_event_parse_done, 1},
    [PROTO_EV_CANCEL] = {"cancel", proto_event_parse_cancel, 0},
    [PROTO_EV_STATUS] = {"status", proto_event_parse_status, 0},
    [PROTO_EV_DISCONNECTED] = {"disconnected", proto_event_parse_disconnected,
			       1},
};

const char *
proto_event_name(enum proto_event_type type)
{
	if ((unsigned)type >= PROTO_EV_COUNT)
		return "unknown";
	return proto_event_defs[type].name;
}

/* Decodes one event line (length already checked, newline removed). */
static int
proto_event_decode(const char *line, size_t len,
		   const struct proto_event_split *split,
		   struct proto_event **out, struct proto_error *err)
{
	struct proto_event_src src = {line, len, split};
	struct proto_event *ev = NULL;
	json_object *root = NULL, *o;
	const char *name;
	size_t nlen;
	int t;

	*out = NULL;
	if (proto_json_parse(line, len, PROTO_MAX_DEPTH, &root, err) != 0)
		goto fail;
	if ((ev = calloc(1, sizeof *ev)) == NULL) {
		proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		goto fail;
	}
	ev->duration_ms = -1;
	if (!json_object_object_get_ex(root, "id", &o)) {
		proto_error_set(err, PROTO_E_BAD_REQUEST, "id: missing");
		goto fail;
	}
	if (proto_id_from_json(o, ev->id, "id", 1, err) == -1)
		goto fail;
	if (strcmp(ev->id, "null") != 0)
		memcpy(err->id, ev->id, sizeof err->id);
	if (proto_json_check_v(root, err) == -1)
		goto fail;
	if (!json_object_object_get_ex(root, "event", &o) ||
	    !json_object_is_type(o, json_type_string)) {
		proto_error_set(err, PROTO_E_BAD_REQUEST,
				"event: expected a string");
		goto fail;
	}
	name = proto_json_str(o, &nlen);
	for (t = 0; t < PROTO_EV_COUNT; t++) {
		if (strcmp(proto_event_defs[t].name, name) == 0)
			break;
	}
	if (t == PROTO_EV_COUNT) {
		proto_error_set(err, PROTO_E_BAD_REQUEST,
				"event: unknown event \"%.*s\"", PROTO_MSG_NAME,
				name);
		goto fail;
	}
	ev->type = (enum proto_event_type)t;
	ev->status = -1;
	if (proto_event_defs[t].parse(root, ev, &src, err) == -1)
		goto fail;
	if (proto_event_defs[t].duration &&
	    proto_event_get_duration(root, ev, err) == -1)
		goto fail;
	json_object_put(root);
	*out = ev;
	return 0;
fail:
	proto_event_free(ev);
	json_object_put(root);
	return -1;
}

/*
 * Output events carry nearly every byte a client reads, so their base64
 * value is split off and decoded directly, and the JSON parsers see only the
 * short rest of the line.  A line that ends in ,"data":"B64"} is decoded as
 * the line with an empty value there ("head"), plus B64 as the value.  The
 * split key can only be the real key: inside a JSON string every '"' is
 * escaped, so ,"data":" cannot occur in one; if the head is valid JSON and
 * B64 holds only base64 characters (no '"' or '\\'), the whole line is valid
 * JSON with that value.  Anything else, including every error, takes the
 * general path, which then gives the message.
 */
static int
proto_event_parse_split(const char *line, size_t len, struct proto_event **out)
{
	static const char key[] = ",\"data\":\"";
	struct proto_error ignored;
	struct proto_event_split split;
	const char *k, *q;
	char stack[512], *head;
	size_t start;
	int r;

	if ((k = memmem(line, len, key, sizeof key - 1)) == NULL)
		return -1;
	start = (size_t)(k - line) + sizeof key - 1;
	q = memchr(line + start, '"', len - start);
	if (q == NULL || (size_t)(q - line) + 2 != len || q[1] != '}')
		return -1;
	split.text = line + start;
	split.len = (size_t)(q - split.text);
	head = start + 2 <= sizeof stack ? stack : malloc(start + 2);
	if (head == NULL)
		return -1;
	proto_error_clear(&ignored);
	memcpy(head, line, start);
	memcpy(head + start, "\"}", 2);
	r = proto_event_decode(head, start + 2, &split, out, &ignored);
	if (head != stack)
		free(head);
	if (r == -1)
		return -1;
	if ((*out)->type != PROTO_EV_STDOUT &&
	    (*out)->type != PROTO_EV_STDERR) {
		/* Not an output event: its "data" is not ours to replace. */
		proto_event_free(*out);
		*out = NULL;
		return -1;
	}
	(*out)->data_off = start;
	(*out)->data_textlen = split.len;
	return 0;
}

int
proto_event_parse(const char *line, size_t len, struct proto_event **out,
		  struct proto_error *err)
{
	struct proto_error dummy;

	if (err == NULL)
		err = &dummy;
	proto_error_clear(err);
	*out = NULL;
	/* Tolerate the line's own newline. */
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > PROTO_MAX_LINE)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "line too long (max %u bytes)",
				       PROTO_MAX_LINE);
	if (proto_event_parse_split(line, len, out) == 0)
		return 0;
	return proto_event_decode(line, len, NULL, out, err);
}
