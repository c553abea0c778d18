/* SPDX-License-Identifier: ISC */
/*
 * Request ids: the canonical JSON text of a string or integer id, built
 * from a client's value or read from a parsed line.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_int.h"

static int
proto_id_check_string(const char *s, size_t n, const char *what,
		      struct proto_error *err)
{
	size_t i;

	if (n == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "%s: empty string", what);
	if (n > PROTO_MAX_ID)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "%s: too long (max %d bytes)", what,
				       PROTO_MAX_ID);
	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "%s: only printable ASCII without '\"' or '\\' "
			    "allowed",
			    what);
	}
	return 0;
}

void
proto_id_from_u64(char id[PROTO_MAX_ID + 3], uint64_t v)
{
	snprintf(id, PROTO_MAX_ID + 3, "%llu", (unsigned long long)v);
}

int
proto_id_from_string(char id[PROTO_MAX_ID + 3], const char *s,
		     struct proto_error *err)
{
	struct proto_error dummy;
	size_t n;

	if (err == NULL)
		err = &dummy;
	n = strlen(s);
	if (proto_id_check_string(s, n, "id", err) == -1)
		return -1;
	id[0] = '"';
	memcpy(id + 1, s, n);
	id[n + 1] = '"';
	id[n + 2] = '\0';
	return 0;
}

/* An id (or cancel target) member as canonical JSON text. */
int
proto_id_from_json(json_object *o, char id[PROTO_MAX_ID + 3], const char *what,
		   int allow_null, struct proto_error *err)
{
	const char *s;
	int64_t v;
	size_t n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		s = json_object_get_string(o);
		n = (size_t)json_object_get_string_len(o);
		if (proto_id_check_string(s, n, what, err) == -1)
			return -1;
		id[0] = '"';
		memcpy(id + 1, s, n);
		id[n + 1] = '"';
		id[n + 2] = '\0';
		return 0;
	case json_type_int:
		/* Huge literals are clamped by json-c, which still lands
		 * outside the range. */
		v = json_object_get_int64(o);
		if (v < 0 || v > PROTO_MAX_SAFE_INT)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "%s: integer out of range (0..2^53-1)", what);
		proto_id_from_u64(id, (uint64_t)v);
		return 0;
	case json_type_null:
		if (allow_null) {
			strcpy(id, "null");
			return 0;
		}
		break;
	default:
		break;
	}
	return proto_error_set(err, PROTO_E_BAD_REQUEST,
			       "%s: expected a string or an integer", what);
}
