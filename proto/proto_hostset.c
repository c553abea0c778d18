/* SPDX-License-Identifier: ISC */
/*
 * Host sets: host patterns with bracketed numeric ranges ("web[01-20]"),
 * their parsing and their expansion into one host at a time, bounded
 * before anything is emitted.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

struct proto_hostset_item {
	unsigned long lo, hi;
	int width; /* zero-pad to this many digits, 0 = none */
};

struct proto_hostset_range {
	const char *lit; /* literal text before the range */
	size_t litlen;
	size_t first, n; /* items[first .. first + n) */
};

struct proto_hostset {
	struct proto_hostset_range ranges[PROTO_MAX_HOSTSET_RANGES];
	size_t nranges;
	struct proto_hostset_item *items;
	size_t nitems;
	const char *tail; /* literal text after the last range */
	size_t taillen;
};

/* A bracket is a range only when it holds nothing but digits, ',' and '-':
 * an IPv6 literal always has a ':'. */
static int
proto_hostset_is_range(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || p[i] == ',' ||
		      p[i] == '-'))
			return 0;
	}
	return 1;
}

static int
proto_hostset_number(const char *p, size_t n, unsigned long *v,
		     struct proto_error *err)
{
	size_t i;

	if (n == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "empty number in a range");
	if (n > PROTO_MAX_RANGE_DIGITS)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "range bound longer than %d digits",
				       PROTO_MAX_RANGE_DIGITS);
	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "malformed range bound \"%.*s\"",
					       (int)n, p);
		*v = *v * 10 + (unsigned long)(p[i] - '0');
	}
	return 0;
}

/* One "N" or "N-M" of a range list. */
static int
proto_hostset_item_parse(const char *p, size_t n, struct proto_hostset_item *it,
			 struct proto_error *err)
{
	const char *dash = memchr(p, '-', n);
	size_t lolen = dash != NULL ? (size_t)(dash - p) : n;

	if (proto_hostset_number(p, lolen, &it->lo, err) == -1)
		return -1;
	it->hi = it->lo;
	if (dash != NULL &&
	    proto_hostset_number(dash + 1, n - lolen - 1, &it->hi, err) == -1)
		return -1;
	if (it->hi < it->lo)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "range %.*s goes down", (int)n, p);
	it->width = lolen > 1 && p[0] == '0' ? (int)lolen : 0;
	return 0;
}

static int
proto_hostset_parse(const char *pat, struct proto_hostset *hs,
		    struct proto_error *err)
{
	const char *p = pat, *lit = pat, *open, *close, *q, *comma, *end;
	struct proto_hostset_range *r;
	size_t n, maxitems;

	memset(hs, 0, sizeof *hs);
	n = strlen(pat);
	if (n == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST, "empty host");
	if (n > PROTO_MAX_HOSTPATTERN)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "host pattern too long (max %d)",
				       PROTO_MAX_HOSTPATTERN);
	/* Every item takes at least two bytes ("1,"). */
	maxitems = n / 2 + 1;
	while ((open = strchr(p, '[')) != NULL) {
		if ((close = strchr(open + 1, ']')) == NULL)
			break;
		/* Not a range: a range may still sit inside, as in
		 * "[2001:db8::[1-9]]:22". */
		if (!proto_hostset_is_range(open + 1,
					    (size_t)(close - open - 1))) {
			p = open + 1;
			continue;
		}
		if (hs->nranges == PROTO_MAX_HOSTSET_RANGES) {
			free(hs->items);
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "more than %d ranges in a host",
					       PROTO_MAX_HOSTSET_RANGES);
		}
		if (hs->items == NULL &&
		    (hs->items = calloc(maxitems, sizeof *hs->items)) == NULL)
			return proto_error_set(err, PROTO_E_INTERNAL,
					       "out of memory");
		r = &hs->ranges[hs->nranges++];
		r->lit = lit;
		r->litlen = (size_t)(open - lit);
		r->first = hs->nitems;
		for (q = open + 1; q < close; q = end + 1) {
			comma = memchr(q, ',', (size_t)(close - q));
			end = comma != NULL ? comma : close;
			if (proto_hostset_item_parse(q, (size_t)(end - q),
						     &hs->items[hs->nitems],
						     err) == -1) {
				free(hs->items);
				hs->items = NULL;
				return -1;
			}
			hs->nitems++;
			r->n++;
			if (end == close)
				break;
			if (end + 1 == close) {
				free(hs->items);
				hs->items = NULL;
				return proto_error_set(err, PROTO_E_BAD_REQUEST,
						       "empty item in a range");
			}
		}
		p = lit = close + 1;
	}
	hs->tail = lit;
	hs->taillen = strlen(lit);
	return 0;
}

int
proto_hostset_has_range(const char *pattern)
{
	const char *p = pattern, *open, *close;

	while ((open = strchr(p, '[')) != NULL &&
	       (close = strchr(open + 1, ']')) != NULL) {
		if (proto_hostset_is_range(open + 1,
					   (size_t)(close - open - 1)))
			return 1;
		p = open + 1;
	}
	return 0;
}

int
proto_hostset_expand(const char *pattern,
		     int (*emit)(const char *host, void *arg), void *arg,
		     size_t max, struct proto_error *err)
{
	struct proto_error dummy;
	struct proto_hostset hs;
	struct proto_hostset_item *it;
	size_t idx[PROTO_MAX_HOSTSET_RANGES];
	unsigned long val[PROTO_MAX_HOSTSET_RANGES];
	size_t i, k, total = 1, count, len, cap;
	char *buf;
	int r;

	if (err == NULL)
		err = &dummy;
	proto_error_clear(err);
	if (pattern == NULL)
		return proto_error_set(err, PROTO_E_BAD_REQUEST, "empty host");
	if (proto_hostset_parse(pattern, &hs, err) == -1)
		return -1;
	/* Count first so that an oversized set emits nothing. */
	for (i = 0; i < hs.nranges; i++) {
		count = 0;
		for (k = 0; k < hs.ranges[i].n; k++) {
			it = &hs.items[hs.ranges[i].first + k];
			count += it->hi - it->lo + 1;
			if (count > max)
				break;
		}
		if (count > max || (count > 0 && total > max / count)) {
			free(hs.items);
			return proto_error_set(
			    err, PROTO_E_LIMIT,
			    "\"%.*s\" expands to more than %zu "
			    "hosts",
			    PROTO_MSG_NAME, pattern, max);
		}
		total *= count;
	}
	if (total > max) {
		free(hs.items);
		return proto_error_set(
		    err, PROTO_E_LIMIT,
		    "\"%.*s\" expands to more than %zu hosts", PROTO_MSG_NAME,
		    pattern, max);
	}
	/* Each range adds at most PROTO_MAX_RANGE_DIGITS digits. */
	cap = strlen(pattern) + hs.nranges * (PROTO_MAX_RANGE_DIGITS + 1) + 1;
	if ((buf = malloc(cap)) == NULL) {
		free(hs.items);
		return proto_error_set(err, PROTO_E_INTERNAL, "out of memory");
	}
	for (i = 0; i < hs.nranges; i++) {
		idx[i] = 0;
		val[i] = hs.items[hs.ranges[i].first].lo;
	}
	for (count = 0; count < total; count++) {
		len = 0;
		for (i = 0; i < hs.nranges; i++) {
			it = &hs.items[hs.ranges[i].first + idx[i]];
			memcpy(buf + len, hs.ranges[i].lit,
			       hs.ranges[i].litlen);
			len += hs.ranges[i].litlen;
			len += (size_t)snprintf(buf + len, cap - len, "%0*lu",
						it->width, val[i]);
		}
		memcpy(buf + len, hs.tail, hs.taillen);
		buf[len + hs.taillen] = '\0';
		if ((r = emit(buf, arg)) != 0)
			break;
		/* Odometer: the rightmost range moves fastest. */
		for (i = hs.nranges; i-- > 0;) {
			it = &hs.items[hs.ranges[i].first + idx[i]];
			if (val[i] < it->hi) {
				val[i]++;
				break;
			}
			if (idx[i] + 1 < hs.ranges[i].n) {
				idx[i]++;
				val[i] =
				    hs.items[hs.ranges[i].first + idx[i]].lo;
				break;
			}
			idx[i] = 0;
			val[i] = hs.items[hs.ranges[i].first].lo;
		}
	}
	free(buf);
	free(hs.items);
	if (count < total) {
		proto_error_clear(err);
		return -1;
	}
	return (int)(total > INT_MAX ? INT_MAX : total);
}
