/* SPDX-License-Identifier: ISC */
/*
 * Shell globs compiled once and matched without backtracking: the meaning
 * of fnmatch(3) without flags in the C locale ('*', '?', bracket
 * expressions with ranges, '!' or '^' negation and character classes,
 * backslash escapes), in time bounded by the product of the two lengths
 * instead of fnmatch's, which grows with the power of the number of '*'.
 * Every element compared counts as one step, so a caller can bound the
 * work of many matches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

enum proto_glob_kind {
	PROTO_GLOB_LIT,  /* one given byte */
	PROTO_GLOB_ANY,  /* '?': any byte */
	PROTO_GLOB_SET,  /* a bracket expression: a byte of sets[set] */
	PROTO_GLOB_STAR, /* '*': any run of bytes */
};

struct proto_glob_elem {
	unsigned char kind;
	unsigned char c;
	uint16_t set;
};

struct proto_glob_set {
	uint64_t bits[4];
};

struct proto_glob {
	struct proto_glob_elem *e;
	size_t n;
	struct proto_glob_set *sets;
	size_t nsets;
	size_t fixed; /* elements that take one byte each */
	size_t head;  /* elements before the first '*' */
	size_t tail;  /* elements after the last '*' */
	int star;     /* at least one '*' */
	int never;    /* a trailing backslash: nothing matches */
	int all;      /* nothing but '*' between head and tail */
};

/* How a bracket expression ends. */
enum {
	PROTO_GLOB_CLOSED = 0, /* at its ']' */
	PROTO_GLOB_OPEN = 1,   /* the pattern ended first */
	PROTO_GLOB_NONE = 2,   /* reaching this far matches nothing */
	PROTO_GLOB_UNSUP = -1, /* a construct the matcher does not take */
};

static void
proto_glob_add(struct proto_glob_set *s, unsigned lo, unsigned hi)
{
	unsigned c;

	for (c = lo; c <= hi; c++)
		s->bits[c >> 6] |= (uint64_t)1 << (c & 63);
}

static int
proto_glob_in(const struct proto_glob_set *s, unsigned char c)
{
	return (int)((s->bits[c >> 6] >> (c & 63)) & 1);
}

/* The classes of the C locale, which knows ASCII only. */
static int
proto_glob_class(struct proto_glob_set *s, const char *name, size_t n)
{
	static const char *const names[] = {
	    "alnum", "alpha", "blank", "cntrl", "digit", "graph",
	    "lower", "print", "punct", "space", "upper", "xdigit"};
	size_t k;

	for (k = 0; k < sizeof names / sizeof names[0]; k++)
		if (strlen(names[k]) == n && memcmp(names[k], name, n) == 0)
			break;
	switch (k) {
	case 0: /* alnum */
		proto_glob_add(s, '0', '9');
		proto_glob_add(s, 'A', 'Z');
		proto_glob_add(s, 'a', 'z');
		return 0;
	case 1: /* alpha */
		proto_glob_add(s, 'A', 'Z');
		proto_glob_add(s, 'a', 'z');
		return 0;
	case 2: /* blank */
		proto_glob_add(s, ' ', ' ');
		proto_glob_add(s, '\t', '\t');
		return 0;
	case 3: /* cntrl */
		proto_glob_add(s, 0, 0x1f);
		proto_glob_add(s, 0x7f, 0x7f);
		return 0;
	case 4: /* digit */
		proto_glob_add(s, '0', '9');
		return 0;
	case 5: /* graph */
		proto_glob_add(s, 0x21, 0x7e);
		return 0;
	case 6: /* lower */
		proto_glob_add(s, 'a', 'z');
		return 0;
	case 7: /* print */
		proto_glob_add(s, 0x20, 0x7e);
		return 0;
	case 8: /* punct */
		proto_glob_add(s, 0x21, 0x2f);
		proto_glob_add(s, 0x3a, 0x40);
		proto_glob_add(s, 0x5b, 0x60);
		proto_glob_add(s, 0x7b, 0x7e);
		return 0;
	case 9: /* space */
		proto_glob_add(s, '\t', '\r');
		proto_glob_add(s, ' ', ' ');
		return 0;
	case 10: /* upper */
		proto_glob_add(s, 'A', 'Z');
		return 0;
	case 11: /* xdigit */
		proto_glob_add(s, '0', '9');
		proto_glob_add(s, 'A', 'F');
		proto_glob_add(s, 'a', 'f');
		return 0;
	default:
		return -1;
	}
}

/*
 * "[:name:]" at p[j] (p[j] == '[', p[j + 1] == ':'): 1 with *next past it
 * when it is a class, 0 when the '[' is an ordinary member (the name holds
 * a byte outside 'a'..'y', as fnmatch reads it), -1 when unsupported.
 */
static int
proto_glob_class_at(const char *p, size_t len, size_t j, size_t *next,
		    struct proto_glob_set *s)
{
	size_t k;

	for (k = j + 2; k < len; k++) {
		if (p[k] == ':' && k + 1 < len && p[k + 1] == ']') {
			if (proto_glob_class(s, p + j + 2, k - j - 2) == -1)
				return -1;
			*next = k + 2;
			return 1;
		}
		if (p[k] < 'a' || p[k] >= 'z')
			return 0;
		if (k - j - 2 >= 16)
			return -1;
	}
	return 0;
}

/*
 * One member byte at p[*j], escaped or not; advances *j.  -1 at the end of
 * the pattern.
 */
static int
proto_glob_byte(const char *p, size_t len, size_t *j)
{
	unsigned char c;

	if (*j >= len)
		return -1;
	c = (unsigned char)p[(*j)++];
	if (c != '\\')
		return c;
	if (*j >= len)
		return -1;
	return (unsigned char)p[(*j)++];
}

/*
 * The bracket expression whose '[' is p[start]: its members into s, *neg
 * and *next (past the ']').  The members are read in order as fnmatch
 * reads them; stop, when given, is a byte that ends the reading as if the
 * pattern ended there, as soon as a member holds it.
 */
static int
proto_glob_bracket(const char *p, size_t len, size_t start,
		   struct proto_glob_set *s, int *neg, size_t *next, int stop)
{
	size_t j = start + 1, k;
	int lo, hi, first = 1, r;

	*neg = 0;
	if (j < len && (p[j] == '!' || p[j] == '^')) {
		*neg = 1;
		j++;
	}
	for (;;) {
		if (j >= len)
			return PROTO_GLOB_OPEN;
		if (p[j] == ']' && !first) {
			*next = j + 1;
			return PROTO_GLOB_CLOSED;
		}
		first = 0;
		if (p[j] == '[' && j + 1 < len &&
		    (p[j + 1] == '=' || p[j + 1] == '.'))
			return PROTO_GLOB_UNSUP;
		if (p[j] == '[' && j + 1 < len && p[j + 1] == ':') {
			if ((r = proto_glob_class_at(p, len, j, &k, s)) == -1)
				return PROTO_GLOB_UNSUP;
			if (r == 1) {
				j = k;
				if (stop >= 0 && proto_glob_in(s, stop))
					return PROTO_GLOB_OPEN;
				continue;
			}
		}
		if ((lo = proto_glob_byte(p, len, &j)) == -1)
			return PROTO_GLOB_NONE; /* a trailing backslash */
		hi = lo;
		/* fnmatch compares a member before it sees the range it
		 * starts, unless the range has an end. */
		if (stop == lo &&
		    !(j + 1 < len && p[j] == '-' && p[j + 1] != ']'))
			return PROTO_GLOB_OPEN;
		if (j < len && p[j] == '-' &&
		    (j + 1 == len || p[j + 1] != ']')) {
			k = j + 1;
			if (k < len && p[k] == '[')
				return PROTO_GLOB_UNSUP;
			if ((hi = proto_glob_byte(p, len, &k)) == -1)
				return PROTO_GLOB_NONE; /* "[a-" */
			j = k;
		}
		if (lo <= hi)
			proto_glob_add(s, (unsigned)lo, (unsigned)hi);
		if (stop >= 0 && proto_glob_in(s, stop))
			return PROTO_GLOB_OPEN;
	}
}

static void
proto_glob_push(struct proto_glob *g, int kind, int c, size_t set)
{
	struct proto_glob_elem *e = &g->e[g->n++];

	e->kind = (unsigned char)kind;
	e->c = (unsigned char)c;
	e->set = (uint16_t)set;
}

/* The next element from p[*i], advancing *i; -1 if unsupported. */
static int
proto_glob_element(struct proto_glob *g, const char *p, size_t len, size_t *i)
{
	struct proto_glob_set *s = &g->sets[g->nsets];
	size_t next;
	int neg, r, k;

	switch (p[*i]) {
	case '*':
		if (g->n == 0 || g->e[g->n - 1].kind != PROTO_GLOB_STAR)
			proto_glob_push(g, PROTO_GLOB_STAR, 0, 0);
		(*i)++;
		return 0;
	case '?':
		proto_glob_push(g, PROTO_GLOB_ANY, 0, 0);
		(*i)++;
		return 0;
	case '\\':
		if (*i + 1 == len) {
			g->never = 1;
			*i = len;
			return 0;
		}
		proto_glob_push(g, PROTO_GLOB_LIT, (unsigned char)p[*i + 1], 0);
		*i += 2;
		return 0;
	case '[':
		break;
	default:
		proto_glob_push(g, PROTO_GLOB_LIT, (unsigned char)p[*i], 0);
		(*i)++;
		return 0;
	}
	memset(s, 0, sizeof *s);
	r = proto_glob_bracket(p, len, *i, s, &neg, &next, -1);
	if (r == PROTO_GLOB_UNSUP)
		return -1;
	if (r == PROTO_GLOB_CLOSED) {
		if (neg)
			for (k = 0; k < 4; k++)
				s->bits[k] = ~s->bits[k];
		proto_glob_push(g, PROTO_GLOB_SET, 0, g->nsets++);
		*i = next;
		return 0;
	}
	/* No ']': fnmatch takes the '[' for itself and reads on after it,
	 * unless its reading of the members for a '[' (which stops at the
	 * first member holding one) meets a trailing backslash or a range
	 * without an end: then nothing matches here. */
	memset(s, 0, sizeof *s);
	r = proto_glob_bracket(p, len, *i, s, &neg, &next, '[');
	if (r == PROTO_GLOB_UNSUP)
		return -1;
	memset(s, 0, sizeof *s);
	if (r == PROTO_GLOB_OPEN)
		proto_glob_push(g, PROTO_GLOB_LIT, '[', 0);
	else
		proto_glob_push(g, PROTO_GLOB_SET, 0, g->nsets++);
	(*i)++;
	return 0;
}

struct proto_glob *
proto_glob_new(const char *pattern, size_t len, int *unsupported)
{
	struct proto_glob *g;
	size_t i = 0, k, nsets = 1;

	*unsupported = 0;
	for (k = 0; k < len; k++)
		nsets += pattern[k] == '[';
	if ((g = calloc(1, sizeof *g)) == NULL)
		return NULL;
	/* Every element takes at least one byte, every set a '['. */
	g->e = calloc(len + 1, sizeof *g->e);
	g->sets = calloc(nsets, sizeof *g->sets);
	if (g->e == NULL || g->sets == NULL) {
		proto_glob_free(g);
		return NULL;
	}
	while (i < len) {
		if (proto_glob_element(g, pattern, len, &i) == -1) {
			proto_glob_free(g);
			*unsupported = 1;
			return NULL;
		}
	}
	for (k = 0; k < g->n; k++)
		if (g->e[k].kind == PROTO_GLOB_STAR)
			g->star = 1;
		else
			g->fixed++;
	if (g->star) {
		while (g->e[g->head].kind != PROTO_GLOB_STAR)
			g->head++;
		while (g->e[g->n - 1 - g->tail].kind != PROTO_GLOB_STAR)
			g->tail++;
		g->all = g->head + g->tail + 1 == g->n;
	}
	return g;
}

/* The byte every match starts with, or -1 if there is none. */
int
proto_glob_first(const struct proto_glob *g)
{
	if (g->never || g->n == 0 || g->e[0].kind != PROTO_GLOB_LIT)
		return -1;
	return g->e[0].c;
}

/* What compiling cost, in the units of the match steps. */
size_t
proto_glob_cost(const struct proto_glob *g)
{
	return g->n + g->nsets * sizeof(struct proto_glob_set);
}

void
proto_glob_free(struct proto_glob *g)
{
	if (g == NULL)
		return;
	free(g->e);
	free(g->sets);
	free(g);
}

static int
proto_glob_one(const struct proto_glob *g, const struct proto_glob_elem *e,
	       unsigned char c)
{
	switch (e->kind) {
	case PROTO_GLOB_LIT:
		return e->c == c;
	case PROTO_GLOB_ANY:
		return 1;
	default:
		return proto_glob_in(&g->sets[e->set], c);
	}
}

/*
 * Between the first '*' and the last one: the classic loop that, on a
 * mismatch, lets the latest '*' take one more byte.  Every element holds
 * one byte, so the latest '*' is the only one worth retrying.
 */
static int
proto_glob_middle(const struct proto_glob *g, const unsigned char *s, size_t n,
		  size_t *steps)
{
	const struct proto_glob_elem *e = g->e;
	size_t pi = g->head, end = g->n - g->tail, ti = g->head;
	size_t tend = n - g->tail, sp = 0, st = 0;

	while (ti < tend) {
		(*steps)++;
		if (pi < end && e[pi].kind == PROTO_GLOB_STAR) {
			sp = ++pi;
			st = ti;
		} else if (pi < end && proto_glob_one(g, &e[pi], s[ti])) {
			pi++;
			ti++;
		} else {
			pi = sp;
			ti = ++st;
		}
	}
	while (pi < end && e[pi].kind == PROTO_GLOB_STAR)
		pi++;
	return pi == end;
}

int
proto_glob_match(const struct proto_glob *g, const char *str, size_t n,
		 size_t *steps)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i;

	if (g->never || n < g->fixed || (!g->star && n != g->fixed))
		return 0;
	if (!g->star) {
		for (i = 0; i < n; i++) {
			(*steps)++;
			if (!proto_glob_one(g, &g->e[i], s[i]))
				return 0;
		}
		return 1;
	}
	for (i = 0; i < g->head; i++) {
		(*steps)++;
		if (!proto_glob_one(g, &g->e[i], s[i]))
			return 0;
	}
	for (i = 0; i < g->tail; i++) {
		(*steps)++;
		if (!proto_glob_one(g, &g->e[g->n - g->tail + i],
				    s[n - g->tail + i]))
			return 0;
	}
	if (g->all)
		return 1;
	return proto_glob_middle(g, s, n, steps);
}
