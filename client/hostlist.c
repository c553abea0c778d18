/* SPDX-License-Identifier: ISC */
/*
 * Host list folding for the CLI's gathered output.  Each name is cut into
 * alternating text and digit runs.  Names with the same text parts form a
 * family; within a family the last digit run that varies is the one folded,
 * and names equal in every other run share one bracket.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"

#define HOSTLIST_MAX_RUNS 16  /* digit runs considered per name */
#define HOSTLIST_MAX_DIGITS 9 /* longer runs are treated as text */

struct hostlist_name {
	const char *s;
	size_t nruns;
	size_t off[HOSTLIST_MAX_RUNS], len[HOSTLIST_MAX_RUNS];
	unsigned long val[HOSTLIST_MAX_RUNS];
	size_t fold; /* run folded on, nruns if none */
};

struct hostlist_out {
	char *s;
	size_t len, cap;
	int failed;
};

static void
hostlist_put(struct hostlist_out *o, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		cap = o->cap == 0 ? 256 : o->cap;
		while (cap < o->len + n + 1)
			cap *= 2;
		if ((p = realloc(o->s, cap)) == NULL) {
			o->failed = 1;
			return;
		}
		o->s = p;
		o->cap = cap;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
hostlist_split(struct hostlist_name *h, const char *s)
{
	size_t i = 0, start;

	memset(h, 0, sizeof *h);
	h->s = s;
	while (s[i] != '\0') {
		if (s[i] < '0' || s[i] > '9') {
			i++;
			continue;
		}
		start = i;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (i - start > HOSTLIST_MAX_DIGITS ||
		    h->nruns == HOSTLIST_MAX_RUNS)
			continue;
		h->off[h->nruns] = start;
		h->len[h->nruns] = i - start;
		h->val[h->nruns] = strtoul(s + start, NULL, 10);
		h->nruns++;
	}
	h->fold = h->nruns;
}

/* Compare the text between digit runs (the family). */
static int
hostlist_cmp_text(const struct hostlist_name *a, const struct hostlist_name *b)
{
	size_t i, pa = 0, pb = 0, la, lb;
	int c;

	if (a->nruns != b->nruns)
		return a->nruns < b->nruns ? -1 : 1;
	for (i = 0; i <= a->nruns; i++) {
		la = (i < a->nruns ? a->off[i] : strlen(a->s)) - pa;
		lb = (i < b->nruns ? b->off[i] : strlen(b->s)) - pb;
		if ((c = memcmp(a->s + pa, b->s + pb, la < lb ? la : lb)) != 0)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
		if (i < a->nruns) {
			pa = a->off[i] + a->len[i];
			pb = b->off[i] + b->len[i];
		}
	}
	return 0;
}

/* Zero-padded numbers keep their width: "01" and "1" never share a range
 * item.  Unpadded numbers of any length do ("9-10"). */
static size_t
hostlist_class(const struct hostlist_name *h, size_t i)
{
	return h->len[i] > 1 && h->s[h->off[i]] == '0' ? h->len[i] : 0;
}

static int
hostlist_cmp_run(const struct hostlist_name *a, const struct hostlist_name *b,
		 size_t i)
{
	size_t ca = hostlist_class(a, i), cb = hostlist_class(b, i);

	if (a->val[i] != b->val[i])
		return a->val[i] < b->val[i] ? -1 : 1;
	if (ca != cb)
		return ca > cb ? -1 : 1; /* "01" before "1" */
	return 0;
}

/* May b follow a range that starts at lo?  A padded range "08-10" holds
 * unpadded numbers of its width. */
static int
hostlist_fits(const struct hostlist_name *lo, const struct hostlist_name *b,
	      size_t i)
{
	size_t cl = hostlist_class(lo, i), cb = hostlist_class(b, i);

	if (cl == cb)
		return 1;
	return cl > 0 && cb == 0 && b->len[i] == cl;
}

/* Family, then every run but the folded one, then the folded run. */
static int
hostlist_cmp(const void *pa, const void *pb)
{
	const struct hostlist_name *a = pa, *b = pb;
	size_t i;
	int c;

	if ((c = hostlist_cmp_text(a, b)) != 0)
		return c;
	if (a->fold != b->fold)
		return a->fold < b->fold ? -1 : 1;
	for (i = 0; i < a->nruns; i++) {
		if (i != a->fold && (c = hostlist_cmp_run(a, b, i)) != 0)
			return c;
	}
	if (a->fold < a->nruns)
		return hostlist_cmp_run(a, b, a->fold);
	return strcmp(a->s, b->s);
}

/* Same bracket: same family, same fold run, equal in every other run. */
static int
hostlist_same_bracket(const struct hostlist_name *a,
		      const struct hostlist_name *b)
{
	size_t i;

	if (a->fold != b->fold || a->fold == a->nruns ||
	    hostlist_cmp_text(a, b) != 0)
		return 0;
	for (i = 0; i < a->nruns; i++) {
		if (i != a->fold && hostlist_cmp_run(a, b, i) != 0)
			return 0;
	}
	return 1;
}

static int
hostlist_cmp_family(const void *pa, const void *pb)
{
	const struct hostlist_name *a = pa, *b = pb;
	int c = hostlist_cmp_text(a, b);

	return c != 0 ? c : strcmp(a->s, b->s);
}

/* Brackets family v[i..j) needs when folded on its current fold run. */
static size_t
hostlist_count_brackets(struct hostlist_name *v, size_t i, size_t j)
{
	size_t k, n = 1;

	qsort(v + i, j - i, sizeof *v, hostlist_cmp);
	for (k = i + 1; k < j; k++) {
		if (!hostlist_same_bracket(&v[k - 1], &v[k]))
			n++;
	}
	return n;
}

/* Pick the folded run of each family: of the runs whose value varies, the
 * one that needs the fewest brackets (the last one on a tie). */
static void
hostlist_choose_folds(struct hostlist_name *v, size_t n)
{
	size_t i, j, k, r, best, best_n, cnt;

	qsort(v, n, sizeof *v, hostlist_cmp_family);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && hostlist_cmp_text(&v[i], &v[j]) == 0;
		     j++)
			;
		best = v[i].nruns > 0 ? v[i].nruns - 1 : v[i].nruns;
		best_n = SIZE_MAX;
		for (r = v[i].nruns; r-- > 0;) {
			for (k = i + 1; k < j; k++) {
				if (hostlist_cmp_run(&v[i], &v[k], r) != 0)
					break;
			}
			if (k == j)
				continue; /* does not vary */
			for (k = i; k < j; k++)
				v[k].fold = r;
			if ((cnt = hostlist_count_brackets(v, i, j)) < best_n) {
				best_n = cnt;
				best = r;
			}
		}
		for (k = i; k < j; k++)
			v[k].fold = best;
	}
}

static void
hostlist_put_item(struct hostlist_out *o, const struct hostlist_name *lo,
		  const struct hostlist_name *hi)
{
	size_t f = lo->fold;

	hostlist_put(o, lo->s + lo->off[f], lo->len[f]);
	if (hi != lo) {
		hostlist_put(o, "-", 1);
		hostlist_put(o, hi->s + hi->off[f], hi->len[f]);
	}
}

/* Emit v[i..j), one bracket of names differing in the fold run only. */
static void
hostlist_put_bracket(struct hostlist_out *o, const struct hostlist_name *v,
		     size_t i, size_t j)
{
	const struct hostlist_name *a = &v[i];
	size_t f = a->fold, k, start;

	if (j - i == 1) {
		hostlist_put(o, a->s, strlen(a->s));
		return;
	}
	hostlist_put(o, a->s, a->off[f]);
	hostlist_put(o, "[", 1);
	for (k = start = i; k < j; k++) {
		/* A run of consecutive values of one width is one item. */
		if (k + 1 < j && hostlist_fits(&v[start], &v[k + 1], f) &&
		    v[k + 1].val[f] == v[k].val[f] + 1)
			continue;
		if (start > i)
			hostlist_put(o, ",", 1);
		hostlist_put_item(o, &v[start], &v[k]);
		start = k + 1;
	}
	hostlist_put(o, "]", 1);
	hostlist_put(o, a->s + a->off[f] + a->len[f],
		     strlen(a->s + a->off[f] + a->len[f]));
}

char *
hostlist_fold(const char *const *names, size_t n)
{
	struct hostlist_name *v;
	struct hostlist_out o;
	size_t i, j;

	memset(&o, 0, sizeof o);
	hostlist_put(&o, "", 0);
	if (n == 0 || o.failed)
		return o.s;
	if ((v = calloc(n, sizeof *v)) == NULL) {
		free(o.s);
		return NULL;
	}
	for (i = 0; i < n; i++)
		hostlist_split(&v[i], names[i]);
	hostlist_choose_folds(v, n);
	qsort(v, n, sizeof *v, hostlist_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && hostlist_same_bracket(&v[i], &v[j]) &&
				strcmp(v[j - 1].s, v[j].s) != 0;
		     j++)
			;
		if (i > 0)
			hostlist_put(&o, ",", 1);
		hostlist_put_bracket(&o, v, i, j);
	}
	free(v);
	if (o.failed) {
		free(o.s);
		return NULL;
	}
	return o.s;
}
