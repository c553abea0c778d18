/* SPDX-License-Identifier: ISC */
/*
 * Strict JSON reading.  json-c alone is too lenient for a protocol boundary
 * (it keeps the last of duplicate keys, clamps huge numbers, accepts lone
 * surrogates), so every line first goes through a small strict scanner
 * that checks the grammar, UTF-8, depth and NUL escapes and counts the keys
 * of each object; the tree json-c builds is then compared against those
 * counts, which catches duplicate keys however they were spelled.  Typed
 * access to members of the tree lives here too.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_int.h"

/*
 * The scanner walks the raw text once.  It records the number of keys of
 * every object in document order; json-c's objects iterate in insertion
 * order, so a pre-order walk of its tree meets the same objects in the same
 * order, and the first object with fewer members than keys seen holds a
 * duplicate.  A second, targeted pass then names the duplicate key.
 */
struct proto_json_scan {
	const unsigned char *base;
	const unsigned char *p;
	const unsigned char *end;
	int depth;
	int max_depth; /* deepest nesting allowed */
	int too_deep;  /* the error is max_depth being crossed */
	size_t *keys;  /* keys per object, in document order */
	size_t nobj;
	size_t cap;
	const char *why; /* first error, static text */
	int nomem;
	/* Duplicate search: the object to inspect and the keys seen. */
	size_t dup_obj;
	json_object *dup_seen;
	char dup_key[PROTO_MSG_NAME + 1];
	int dup_found;
};

static int proto_json_scan_value(struct proto_json_scan *);

static int
proto_json_scan_err(struct proto_json_scan *s, const char *why)
{
	if (s->why == NULL)
		s->why = s->p < s->end ? why : "unexpected end of line";
	return -1;
}

static void
proto_json_scan_ws(struct proto_json_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
proto_json_scan_hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
proto_json_scan_string(struct proto_json_scan *s)
{
	unsigned u, lo;
	size_t l;

	s->p++; /* opening quote */
	for (;;) {
		if (s->p >= s->end)
			return proto_json_scan_err(s, "unterminated string");
		if (*s->p == '"') {
			s->p++;
			return 0;
		}
		if (*s->p < 0x20)
			return proto_json_scan_err(
			    s, "control character in string");
		if (*s->p >= 0x80) {
			if ((l = proto_utf8_len(s->p, s->end - s->p)) == 0)
				return proto_json_scan_err(s, "invalid UTF-8");
			s->p += l;
			continue;
		}
		if (*s->p != '\\') {
			s->p++;
			continue;
		}
		if (s->end - s->p < 2)
			return proto_json_scan_err(s, "unterminated string");
		switch (s->p[1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			s->p += 2;
			continue;
		case 'u':
			break;
		default:
			return proto_json_scan_err(s,
						   "invalid escape in string");
		}
		if (s->end - s->p < 6 ||
		    proto_json_scan_hex4(s->p + 2, &u) == -1)
			return proto_json_scan_err(s, "invalid \\u escape");
		s->p += 6;
		if (u == 0)
			return proto_json_scan_err(s, "NUL in string");
		if (u >= 0xdc00 && u <= 0xdfff)
			return proto_json_scan_err(s,
						   "lone surrogate in string");
		if (u >= 0xd800 && u <= 0xdbff) {
			if (s->end - s->p < 6 || s->p[0] != '\\' ||
			    s->p[1] != 'u' ||
			    proto_json_scan_hex4(s->p + 2, &lo) == -1 ||
			    lo < 0xdc00 || lo > 0xdfff)
				return proto_json_scan_err(
				    s, "lone surrogate in string");
			s->p += 6;
		}
	}
}

static int
proto_json_scan_digits(struct proto_json_scan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start ? 0 : proto_json_scan_err(s, "invalid number");
}

static int
proto_json_scan_number(struct proto_json_scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0') {
		s->p++;
		if (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			return proto_json_scan_err(s, "leading zero in number");
	} else if (proto_json_scan_digits(s) == -1)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (proto_json_scan_digits(s) == -1)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (proto_json_scan_digits(s) == -1)
			return -1;
	}
	return 0;
}

static int
proto_json_scan_word(struct proto_json_scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return proto_json_scan_err(s, "unexpected character");
	s->p += n;
	return 0;
}

/* The duplicate search: decode one key with json-c and look it up. */
static void
proto_json_scan_dup_key(struct proto_json_scan *s, const unsigned char *k,
			size_t n)
{
	json_tokener *tok;
	json_object *str;
	const char *key;

	if (s->dup_found || (tok = json_tokener_new()) == NULL)
		return;
	str = json_tokener_parse_ex(tok, (const char *)k, (int)n);
	json_tokener_free(tok);
	if (str == NULL)
		return;
	key = json_object_get_string(str);
	if (json_object_object_get_ex(s->dup_seen, key, NULL)) {
		snprintf(s->dup_key, sizeof s->dup_key, "%s", key);
		s->dup_found = 1;
	} else
		json_object_object_add(s->dup_seen, key, NULL);
	json_object_put(str);
}

static int
proto_json_scan_object(struct proto_json_scan *s)
{
	const unsigned char *k;
	size_t idx, *nk;

	if (s->nobj == s->cap) {
		size_t cap = s->cap != 0 ? s->cap * 2 : 16;

		if ((nk = realloc(s->keys, cap * sizeof *nk)) == NULL) {
			s->nomem = 1;
			return proto_json_scan_err(s, "out of memory");
		}
		s->keys = nk;
		s->cap = cap;
	}
	idx = s->nobj++;
	s->keys[idx] = 0;
	s->p++; /* '{' */
	proto_json_scan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		proto_json_scan_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return proto_json_scan_err(
			    s, "expected a double-quoted key");
		k = s->p;
		if (proto_json_scan_string(s) == -1)
			return -1;
		s->keys[idx]++;
		if (s->dup_seen != NULL && idx == s->dup_obj)
			proto_json_scan_dup_key(s, k, s->p - k);
		proto_json_scan_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return proto_json_scan_err(s, "expected ':'");
		s->p++;
		if (proto_json_scan_value(s) == -1)
			return -1;
		proto_json_scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return proto_json_scan_err(s, "expected ',' or '}'");
	}
}

static int
proto_json_scan_array(struct proto_json_scan *s)
{
	s->p++; /* '[' */
	proto_json_scan_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (proto_json_scan_value(s) == -1)
			return -1;
		proto_json_scan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return proto_json_scan_err(s, "expected ',' or ']'");
	}
}

static int
proto_json_scan_value(struct proto_json_scan *s)
{
	int r;

	proto_json_scan_ws(s);
	if (s->p >= s->end)
		return proto_json_scan_err(s, "unexpected end of line");
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > s->max_depth) {
			if (s->why == NULL)
				s->too_deep = 1;
			return proto_json_scan_err(s, "nesting too deep");
		}
		r = *s->p == '{' ? proto_json_scan_object(s)
				 : proto_json_scan_array(s);
		s->depth--;
		return r;
	case '"':
		return proto_json_scan_string(s);
	case 't':
		return proto_json_scan_word(s, "true");
	case 'f':
		return proto_json_scan_word(s, "false");
	case 'n':
		return proto_json_scan_word(s, "null");
	case '\'':
		return proto_json_scan_err(s, "single quotes are not JSON");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return proto_json_scan_number(s);
		return proto_json_scan_err(s, "unexpected character");
	}
}

/* Pre-order walk comparing member counts; returns the first object whose
 * json-c member count is short, with its path for the message. */
static int
proto_json_scan_count_check(json_object *o, const size_t *keys, size_t n,
			    size_t *i, char *path, size_t pathlen, size_t *bad)
{
	size_t plen = strlen(path), k, len;

	switch (json_object_get_type(o)) {
	case json_type_object:
		if (*i >= n)
			return -1;
		if ((size_t)json_object_object_length(o) != keys[*i]) {
			*bad = *i;
			return -1;
		}
		(*i)++;
		json_object_object_foreach(o, key, val)
		{
			snprintf(path + plen, pathlen - plen, "%s%.*s",
				 plen > 0 ? "." : "", PROTO_MSG_NAME, key);
			if (proto_json_scan_count_check(val, keys, n, i, path,
							pathlen, bad) == -1)
				return -1;
			path[plen] = '\0';
		}
		return 0;
	case json_type_array:
		len = json_object_array_length(o);
		for (k = 0; k < len; k++) {
			snprintf(path + plen, pathlen - plen, "[%zu]", k);
			if (proto_json_scan_count_check(
				json_object_array_get_idx(o, k), keys, n, i,
				path, pathlen, bad) == -1)
				return -1;
			path[plen] = '\0';
		}
		return 0;
	default:
		return 0;
	}
}

int
proto_json_parse(const char *line, size_t len, int max_depth, json_object **out,
		 struct proto_error *err)
{
	struct proto_json_scan s;
	json_tokener *tok;
	json_object *root;
	char path[PROTO_PATH_MAX];
	size_t objlen, i = 0, bad = SIZE_MAX;
	int ret = 0;

	*out = NULL;
	memset(&s, 0, sizeof s);
	s.base = s.p = (const unsigned char *)line;
	s.end = s.base + len;
	s.max_depth = max_depth;
	proto_json_scan_ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		proto_error_set(err, PROTO_E_BAD_REQUEST,
				"malformed line: expected a JSON object");
		goto out;
	}
	if (proto_json_scan_value(&s) == -1) {
		if (s.too_deep)
			proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "malformed JSON at byte %zu: nesting deeper "
			    "than %d",
			    (size_t)(s.p - s.base), max_depth);
		else
			proto_error_set(err,
					s.nomem ? PROTO_E_INTERNAL
						: PROTO_E_BAD_REQUEST,
					"malformed JSON at byte %zu: %s",
					(size_t)(s.p - s.base), s.why);
		goto out;
	}
	objlen = s.p - s.base;
	proto_json_scan_ws(&s);
	if (s.p != s.end) {
		proto_error_set(
		    err, PROTO_E_BAD_REQUEST,
		    "malformed JSON at byte %zu: trailing data after the "
		    "object",
		    (size_t)(s.p - s.base));
		goto out;
	}
	if (objlen > INT_MAX ||
	    (tok = json_tokener_new_ex(PROTO_MAX_DEPTH + 1)) == NULL) {
		proto_error_set(err, PROTO_E_INTERNAL, "cannot parse line");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, line, (int)objlen);
	if (root == NULL) {
		proto_error_set(
		    err, PROTO_E_BAD_REQUEST, "malformed JSON: %s",
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		goto out;
	}
	json_tokener_free(tok);
	*out = root;

	path[0] = '\0';
	if (proto_json_scan_count_check(root, s.keys, s.nobj, &i, path,
					sizeof path, &bad) == 0)
		goto done;
	/* Second pass over the text to name the key. */
	ret = PROTO_JSON_DUP;
	s.p = s.base;
	s.nobj = 0;
	s.depth = 0;
	s.dup_obj = bad;
	s.dup_seen = json_object_new_object();
	if (s.dup_seen != NULL)
		(void)proto_json_scan_value(&s);
	json_object_put(s.dup_seen);
	if (!s.dup_found)
		proto_error_set(err, PROTO_E_BAD_REQUEST, "%s%sduplicate key",
				path, path[0] != '\0' ? ": " : "");
	else {
		proto_error_set(err, PROTO_E_BAD_REQUEST,
				"%s%sduplicate key \"%s\"", path,
				path[0] != '\0' ? ": " : "", s.dup_key);
		if (bad == 0 && strcmp(s.dup_key, "id") == 0)
			ret = PROTO_JSON_DUP_ID;
	}
	goto done;
out:
	ret = PROTO_JSON_BAD;
done:
	free(s.keys);
	return ret;
}

/* ---- Typed member access ---- */

const char *
proto_json_str(json_object *o, size_t *len)
{
	*len = (size_t)json_object_get_string_len(o);
	return json_object_get_string(o);
}

/* An integer member in [min, max]; 0, or -1 with a message. */
int
proto_json_int(json_object *o, const char *what, long long min, long long max,
	       long long *out, struct proto_error *err)
{
	int64_t v;

	*out = 0; /* defined on failure too */
	if (!json_object_is_type(o, json_type_int))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "%s: expected an integer", what);
	/* json-c saturates huge literals; the range check catches them as
	 * long as max is below INT64_MAX. */
	v = json_object_get_int64(o);
	if (v < min || v > max)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "%s: out of range (%lld..%lld)", what,
				       min, max);
	*out = v;
	return 0;
}

int
proto_json_strdup(const char *s, size_t n, char **out, struct proto_error *err)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	return 0;
}

/* "v": 1 or an error; other small positive integers are a version this
 * codec does not speak. */
int
proto_json_check_v(json_object *root, struct proto_error *err)
{
	json_object *o;
	long long v;

	if (!json_object_object_get_ex(root, "v", &o))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "v: missing (expected %d)",
				       PROTO_VERSION);
	if (proto_json_int(o, "v", 0, INT_MAX, &v, err) == -1)
		return -1;
	if (v != PROTO_VERSION)
		return proto_error_set(
		    err, PROTO_E_UNSUPPORTED_VERSION,
		    "v: version %lld not supported (supported: %d)", v,
		    PROTO_VERSION);
	return 0;
}
