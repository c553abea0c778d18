/* SPDX-License-Identifier: ISC */
/*
 * The "hosts" and "exclude" members of a request: every entry expanded as a
 * host set, hosts checked as specs and filtered by the exclusions, "@NAME"
 * group references kept for the daemon, duplicates refused, and the whole
 * bounded by MaxHostsPerRequest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_int.h"

struct proto_hostlist_ref {
	const char *s;
	size_t i;
};

static int
proto_hostlist_ref_cmp(const void *a, const void *b)
{
	const struct proto_hostlist_ref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* "@NAME", NAME of [A-Za-z0-9._-]: one of the daemon's host groups. */
static int
proto_hostlist_group_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 2 || len > PROTO_MAX_GROUP_NAME + 1 || s[0] != '@')
		return 0;
	for (i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

/* What expanding the entries of "hosts" or "exclude" accumulates. */
struct proto_hostlist {
	char **v;
	size_t n, cap;
	size_t *origin; /* hosts: index of the entry each host came from */
	size_t entry;   /* the entry being expanded */
	size_t max;     /* bound on the expanded count */
	size_t raw;     /* hosts expanded so far, excluded ones included */
	int validate;   /* hosts: each must be a valid host spec */
	struct proto_exclude *exclude;
	struct proto_error *err;
	const char *what; /* "hosts" or "exclude" */
};

static int
proto_hostlist_push(struct proto_hostlist *a, const char *s)
{
	char **v;
	size_t *o, cap;

	if (a->n == a->cap) {
		cap = a->cap == 0 ? 16 : a->cap * 2;
		if ((v = realloc(a->v, cap * sizeof *v)) == NULL)
			return proto_error_set(a->err, PROTO_E_INTERNAL,
					       "out of memory");
		a->v = v;
		if ((o = realloc(a->origin, cap * sizeof *o)) == NULL)
			return proto_error_set(a->err, PROTO_E_INTERNAL,
					       "out of memory");
		a->origin = o;
		a->cap = cap;
	}
	if (proto_json_strdup(s, strlen(s), &a->v[a->n], a->err) == -1)
		return -1;
	a->origin[a->n++] = a->entry;
	return 0;
}

static int
proto_hostlist_emit(const char *host, void *arg)
{
	struct proto_hostlist *a = arg;
	struct proto_hostspec hs;
	struct proto_error herr;

	a->raw++;
	/* An expansion is final: a result that is a pattern itself would
	 * name other hosts when a client sends it back. */
	if (proto_hostset_has_range(host))
		return proto_error_set(a->err, PROTO_E_BAD_REQUEST,
				       "%s[%zu]: expands to \"%s\", itself a "
				       "range pattern",
				       a->what, a->entry, host);
	if (a->validate) {
		if (proto_hostspec_parse(host, &hs, &herr) == -1)
			return proto_error_set(a->err, PROTO_E_BAD_REQUEST,
					       "%s[%zu]: %s", a->what, a->entry,
					       herr.message);
		switch (proto_exclude_match_host(a->exclude, host, hs.host)) {
		case 1:
			return 0;
		case -1:
			return proto_error_set(a->err, PROTO_E_LIMIT,
					       "exclude: matching the patterns "
					       "takes more than %u steps",
					       PROTO_MAX_EXCLUDE_STEPS);
		}
	} else if (strlen(host) > PROTO_MAX_HOSTSPEC)
		return proto_error_set(a->err, PROTO_E_BAD_REQUEST,
				       "%s[%zu]: longer than %d bytes", a->what,
				       a->entry, PROTO_MAX_HOSTSPEC);
	return proto_hostlist_push(a, host);
}

static void
proto_hostlist_free(struct proto_hostlist *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->origin);
}

/* Expand one array entry into the accumulator, bounded by a->max. */
static int
proto_hostlist_entry(struct proto_hostlist *a, const char *s, size_t len,
		     const char *limit_key)
{
	struct proto_error xerr;
	size_t i;

	if (len == 0)
		return proto_error_set(a->err, PROTO_E_BAD_REQUEST,
				       "%s[%zu]: empty", a->what, a->entry);
	if (len > PROTO_MAX_HOSTPATTERN)
		return proto_error_set(a->err, PROTO_E_BAD_REQUEST,
				       "%s[%zu]: longer than %d bytes", a->what,
				       a->entry, PROTO_MAX_HOSTPATTERN);
	if (!proto_utf8_valid(s, len))
		return proto_error_set(a->err, PROTO_E_BAD_REQUEST,
				       "%s[%zu]: not valid UTF-8", a->what,
				       a->entry);
	/* Hosts are checked as specs once expanded, for precise messages. */
	for (i = 0; !a->validate && i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f)
			return proto_error_set(a->err, PROTO_E_BAD_REQUEST,
					       "%s[%zu]: contains a space or "
					       "control character",
					       a->what, a->entry);
	}
	/* A full request takes no more: the bound must never wrap. */
	if (a->raw >= a->max)
		return proto_error_set(a->err, PROTO_E_LIMIT,
				       "%s[%zu]: more than %zu hosts in the "
				       "request (%s)",
				       a->what, a->entry, a->max, limit_key);
	if (proto_hostset_expand(s, proto_hostlist_emit, a, a->max - a->raw,
				 &xerr) != -1)
		return 0;
	if (xerr.code == PROTO_E_NONE)
		return -1; /* emit failed and said why */
	if (xerr.code == PROTO_E_LIMIT)
		return proto_error_set(a->err, PROTO_E_LIMIT,
				       "%s[%zu]: more than %zu hosts in the "
				       "request (%s)",
				       a->what, a->entry, a->max, limit_key);
	return proto_error_set(a->err, xerr.code, "%s[%zu]: %s", a->what,
			       a->entry, xerr.message);
}

/* "exclude": optional array of host patterns, expanded. */
static int
proto_hostlist_exclude(json_object *root, const struct proto_limits *lim,
		       struct proto_request *req, struct proto_error *err)
{
	struct proto_hostlist a;
	json_object *arr, *o;
	const char *s;
	size_t n, i, len;

	if (!json_object_object_get_ex(root, "exclude", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "exclude: expected an array of strings");
	memset(&a, 0, sizeof a);
	a.max = lim->max_hosts;
	a.err = err;
	a.what = "exclude";
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		a.entry = i;
		if (!json_object_is_type(o, json_type_string)) {
			proto_hostlist_free(&a);
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "exclude[%zu]: expected a string", i);
		}
		s = proto_json_str(o, &len);
		if (proto_hostlist_entry(&a, s, len, "MaxHostsPerRequest") ==
		    -1) {
			proto_hostlist_free(&a);
			return -1;
		}
	}
	free(a.origin);
	req->exclude = a.v;
	req->nexclude = a.n;
	if (a.n == 0)
		return 0;
	/* Compiled once, and with one budget for every host of the
	 * request, the daemon's group members included. */
	return proto_exclude_new(req->exclude, req->nexclude,
				 PROTO_MAX_EXCLUDE_STEPS, &req->exclude_set,
				 err);
}

/* Exact duplicates would make the per-host events ambiguous.  origin maps
 * each host to the array entry it was expanded from. */
static int
proto_hostlist_unique(struct proto_request *req, const size_t *origin,
		      struct proto_error *err)
{
	struct proto_hostlist_ref *refs;
	size_t i, first = 0, later = SIZE_MAX;

	if (req->nhosts < 2)
		return 0;
	if ((refs = calloc(req->nhosts, sizeof *refs)) == NULL)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	for (i = 0; i < req->nhosts; i++) {
		refs[i].s = req->hosts[i];
		refs[i].i = i;
	}
	qsort(refs, req->nhosts, sizeof *refs, proto_hostlist_ref_cmp);
	for (i = 1; i < req->nhosts; i++) {
		if (strcmp(refs[i - 1].s, refs[i].s) == 0 &&
		    refs[i].i < later) {
			later = refs[i].i;
			first = refs[i - 1].i;
		}
	}
	free(refs);
	if (later == SIZE_MAX)
		return 0;
	if (origin[later] != origin[first])
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "hosts[%zu]: duplicate of hosts[%zu]",
				       origin[later], origin[first]);
	return proto_error_set(
	    err, PROTO_E_BAD_REQUEST, "hosts[%zu]: \"%.*s\" appears twice",
	    origin[later], PROTO_MSG_NAME, req->hosts[later]);
}

int
proto_hostlist_parse(json_object *root, const struct proto_limits *lim,
		     struct proto_request *req, struct proto_error *err)
{
	struct proto_hostlist a;
	json_object *arr, *o;
	const char *s;
	size_t n, i, len, ngroups = 0;
	int rc = -1;

	if (!json_object_object_get_ex(root, "hosts", &arr))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "hosts: missing");
	if (!json_object_is_type(arr, json_type_array))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "hosts: expected an array of strings");
	n = json_object_array_length(arr);
	if (n == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "hosts: empty");
	if (n > lim->max_hosts)
		return proto_error_set(
		    err, PROTO_E_LIMIT,
		    "hosts: %zu hosts exceed MaxHostsPerRequest "
		    "(%zu)",
		    n, lim->max_hosts);
	/* Exclusions first: they filter the expansion as it happens. */
	if (proto_hostlist_exclude(root, lim, req, err) == -1)
		return -1;
	memset(&a, 0, sizeof a);
	a.max = lim->max_hosts;
	a.validate = 1;
	a.exclude = req->exclude_set;
	a.err = err;
	a.what = "hosts";
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		a.entry = i;
		if (!json_object_is_type(o, json_type_string)) {
			proto_error_set(err, PROTO_E_BAD_REQUEST,
					"hosts[%zu]: expected a string", i);
			goto out;
		}
		s = proto_json_str(o, &len);
		if (len > 0 && s[0] == '@') {
			if (!proto_hostlist_group_ok(s, len)) {
				proto_error_set(
				    err, PROTO_E_BAD_REQUEST,
				    "hosts[%zu]: bad host group name (expected "
				    "\"@\" and 1..%d letters, digits, \".\", "
				    "\"_\" or \"-\")",
				    i, PROTO_MAX_GROUP_NAME);
				goto out;
			}
			/* A group counts as one host until the daemon
			 * expands it (and checks the limit again). */
			if (a.raw >= a.max) {
				proto_error_set(
				    err, PROTO_E_LIMIT,
				    "hosts[%zu]: more than %zu hosts in the "
				    "request (MaxHostsPerRequest)",
				    i, a.max);
				goto out;
			}
			a.raw++;
			if (proto_hostlist_push(&a, s) == -1)
				goto out;
			ngroups++;
			continue;
		}
		if (proto_hostlist_entry(&a, s, len, "MaxHostsPerRequest") ==
		    -1)
			goto out;
	}
	req->hosts = a.v;
	req->nhosts = a.n;
	a.v = NULL;
	a.n = 0;
	if (req->nhosts == 0 && ngroups == 0) {
		proto_error_set(err, PROTO_E_BAD_REQUEST,
				"hosts: every host is excluded");
		goto out;
	}
	rc = proto_hostlist_unique(req, a.origin, err);
out:
	proto_hostlist_free(&a);
	return rc;
}
