/* SPDX-License-Identifier: ISC */
/*
 * An exclusion list compiled for matching many hosts: its exact entries
 * in a hash table, each distinct glob compiled once (proto_glob.c) and
 * filed by the byte it must start with, and a budget of match steps shared
 * by every host matched against it, so a request's exclusions cost at most
 * that much work however many hosts and patterns it names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

#define PROTO_EXCLUDE_KEYS 257 /* a first byte, or any */

struct proto_exclude {
	const char **slots; /* exact entries, open addressing */
	size_t mask;
	/* Globs by their first byte; [256] those that may start with
	 * any: globs[start[b] .. start[b + 1]). */
	struct proto_glob **globs;
	size_t nglobs;
	size_t start[PROTO_EXCLUDE_KEYS + 1];
	size_t steps, budget;
};

/* Eight bytes a round: names of 250 bytes, 10000 hosts per request. */
static uint64_t
proto_exclude_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL, w;
	size_t n = strlen(s);

	for (; n >= 8; n -= 8, s += 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	for (; n > 0; n--, s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ^ (h >> 32);
}

/* The slot of s: where it is, or the empty one where it would go. */
static size_t
proto_exclude_slot(const char *const *slots, size_t mask, const char *s)
{
	size_t i = (size_t)proto_exclude_hash(s) & mask;

	while (slots[i] != NULL && strcmp(slots[i], s) != 0)
		i = (i + 1) & mask;
	return i;
}

static int
proto_exclude_glob(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

void
proto_exclude_free(struct proto_exclude *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < x->nglobs; i++)
		proto_glob_free(x->globs[i]);
	free(x->globs);
	free(x->slots);
	free(x);
}

/* Compile glob s once: a repeat finds its slot taken. */
static int
proto_exclude_add_glob(struct proto_exclude *x, const char **seen, size_t mask,
		       const char *s, struct proto_error *err)
{
	struct proto_glob *g;
	size_t i = proto_exclude_slot(seen, mask, s);
	int unsupported;

	if (seen[i] != NULL)
		return 0;
	seen[i] = s;
	if ((g = proto_glob_new(s, strlen(s), &unsupported)) == NULL) {
		if (unsupported)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "exclude: \"%.*s\": unsupported bracket "
			    "expression (\"[=\", \"[.\", an unknown class or "
			    "a range ending in '[')",
			    PROTO_MSG_NAME, s);
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	}
	x->globs[x->nglobs++] = g;
	x->steps += proto_glob_cost(g);
	if (x->steps > x->budget)
		return proto_error_set(err, PROTO_E_LIMIT,
				       "exclude: the patterns take more than "
				       "%zu steps to match",
				       x->budget);
	return 0;
}

static size_t
proto_exclude_key(const struct proto_glob *g)
{
	int c = proto_glob_first(g);

	return c >= 0 ? (size_t)c : PROTO_EXCLUDE_KEYS - 1;
}

/* Sort the globs by key (counting sort, stable). */
static int
proto_exclude_file(struct proto_exclude *x)
{
	struct proto_glob **v;
	size_t i, k, at[PROTO_EXCLUDE_KEYS];

	memset(x->start, 0, sizeof x->start);
	if ((v = calloc(x->nglobs + 1, sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < x->nglobs; i++)
		x->start[proto_exclude_key(x->globs[i]) + 1]++;
	for (k = 0; k < PROTO_EXCLUDE_KEYS; k++)
		x->start[k + 1] += x->start[k];
	memcpy(at, x->start, sizeof at);
	for (i = 0; i < x->nglobs; i++)
		v[at[proto_exclude_key(x->globs[i])]++] = x->globs[i];
	free(x->globs);
	x->globs = v;
	return 0;
}

int
proto_exclude_new(char *const *v, size_t n, size_t budget,
		  struct proto_exclude **out, struct proto_error *err)
{
	struct proto_error dummy;
	struct proto_exclude *x;
	const char **seen = NULL;
	size_t i, size = 16;

	if (err == NULL)
		err = &dummy;
	*out = NULL;
	while (size < 2 * n)
		size *= 2;
	if ((x = calloc(1, sizeof *x)) == NULL)
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	x->budget = budget;
	x->mask = size - 1;
	x->slots = calloc(size, sizeof *x->slots);
	seen = calloc(size, sizeof *seen);
	x->globs = calloc(n + 1, sizeof *x->globs);
	if (x->slots == NULL || seen == NULL || x->globs == NULL) {
		proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (proto_exclude_glob(v[i])) {
			if (proto_exclude_add_glob(x, seen, x->mask, v[i],
						   err) == -1)
				goto fail;
			continue;
		}
		x->slots[proto_exclude_slot(x->slots, x->mask, v[i])] = v[i];
	}
	free(seen);
	if (proto_exclude_file(x) == -1) {
		proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
		proto_exclude_free(x);
		return -1;
	}
	*out = x;
	return 0;
fail:
	free(seen);
	proto_exclude_free(x);
	return -1;
}

static int
proto_exclude_has(const struct proto_exclude *x, const char *s)
{
	return x->slots[proto_exclude_slot(x->slots, x->mask, s)] != NULL;
}

/* The globs that may match name: those of its first byte, and those that
 * may start with any.  Each one tried costs a step besides its own. */
static int
proto_exclude_globs(struct proto_exclude *x, const char *name)
{
	size_t keys[2], i, k, len = strlen(name);

	keys[0] = (unsigned char)name[0];
	keys[1] = PROTO_EXCLUDE_KEYS - 1;
	for (k = 0; k < 2; k++) {
		for (i = x->start[keys[k]]; i < x->start[keys[k] + 1]; i++) {
			x->steps++;
			if (proto_glob_match(x->globs[i], name, len, &x->steps))
				return 1;
			if (x->steps > x->budget)
				return -1;
		}
	}
	return 0;
}

int
proto_exclude_match(struct proto_exclude *x, const char *spec)
{
	struct proto_hostspec hs;

	if (x == NULL)
		return 0;
	return proto_exclude_match_host(
	    x, spec,
	    proto_hostspec_parse(spec, &hs, NULL) == 0 ? hs.host : spec);
}

int
proto_exclude_match_host(struct proto_exclude *x, const char *spec,
			 const char *host)
{
	int r;

	if (x == NULL)
		return 0;
	if (x->steps > x->budget)
		return -1;
	if (strcmp(host, spec) == 0)
		host = NULL; /* one name to try, not two */
	x->steps++;
	if (proto_exclude_has(x, spec) ||
	    (host != NULL && proto_exclude_has(x, host)))
		return 1;
	if ((r = proto_exclude_globs(x, spec)) != 0 || host == NULL)
		return r;
	return proto_exclude_globs(x, host);
}

size_t
proto_exclude_steps(const struct proto_exclude *x)
{
	return x != NULL ? x->steps : 0;
}
