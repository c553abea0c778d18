/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the request side of the wire codec: the bytes a
 * client sends the daemon.  Each input is parsed as a request line under the
 * default limits and under tiny ones; a request that parses must encode and
 * parse back to the same request, and its encoding must be a fixed point.
 * The same bytes also go through the host spec parser, the host range
 * expander, the exclusion matcher (its globs also against fnmatch), the
 * base64 decoder and the string id
 * builder, whose results are checked for their invariants
 * (a strict base64 decoder accepts exactly one encoding per byte string).
 */
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Small enough that every limit is crossed by short inputs. */
#define FUZZ_TINY_LINE 512
#define FUZZ_TINY_HOSTS 2
#define FUZZ_TINY_STDIN 8
#define FUZZ_TINY_ENV 2
#define FUZZ_TINY_DEPTH 3
#define FUZZ_MAX_EXPAND 1000 /* hosts one pattern may expand to */
#define FUZZ_GLOB_MAX 64     /* bytes of a glob compared with fnmatch */
#define FUZZ_GLOB_STARS 4

/* A failed invariant: say which and abort so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static int
fuzz_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
fuzz_same_request(const struct proto_request *a, const struct proto_request *b)
{
	size_t i;

	FUZZ_CHECK(a->op == b->op);
	FUZZ_CHECK(strcmp(a->id, b->id) == 0);
	FUZZ_CHECK(a->version_min == b->version_min);
	FUZZ_CHECK(a->version_max == b->version_max);
	FUZZ_CHECK(fuzz_streq(a->client, b->client));
	FUZZ_CHECK(a->nhosts == b->nhosts);
	for (i = 0; i < a->nhosts; i++)
		FUZZ_CHECK(strcmp(a->hosts[i], b->hosts[i]) == 0);
	FUZZ_CHECK(a->nexclude == b->nexclude);
	for (i = 0; i < a->nexclude; i++)
		FUZZ_CHECK(strcmp(a->exclude[i], b->exclude[i]) == 0);
	FUZZ_CHECK(fuzz_streq(a->user, b->user));
	FUZZ_CHECK(fuzz_streq(a->command, b->command));
	FUZZ_CHECK(a->timeout_ms == b->timeout_ms);
	FUZZ_CHECK(a->idle_timeout_ms == b->idle_timeout_ms);
	FUZZ_CHECK(!a->pty == !b->pty);
	FUZZ_CHECK(a->nenv == b->nenv);
	for (i = 0; i < a->nenv; i++) {
		FUZZ_CHECK(strcmp(a->env[i].name, b->env[i].name) == 0);
		FUZZ_CHECK(strcmp(a->env[i].value, b->env[i].value) == 0);
	}
	FUZZ_CHECK((a->stdin_data == NULL) == (b->stdin_data == NULL));
	FUZZ_CHECK(a->stdin_len == b->stdin_len);
	if (a->stdin_len > 0)
		FUZZ_CHECK(memcmp(a->stdin_data, b->stdin_data, a->stdin_len) ==
			   0);
	FUZZ_CHECK(strcmp(a->target, b->target) == 0);
}

/* Invariants of any accepted request under limits lim. */
static void
fuzz_check_request(const struct proto_request *req,
		   const struct proto_limits *lim)
{
	struct proto_exclude *x = NULL;
	size_t i;

	FUZZ_CHECK((unsigned)req->op < PROTO_OP_COUNT);
	FUZZ_CHECK(req->id[0] != '\0');
	FUZZ_CHECK(strlen(req->id) <= PROTO_MAX_ID + 2);
	FUZZ_CHECK(req->nhosts <= lim->max_hosts);
	FUZZ_CHECK(req->stdin_len <= lim->max_stdin);
	FUZZ_CHECK(req->nenv <= PROTO_MAX_ENV);
	FUZZ_CHECK(req->timeout_ms >= 0 &&
		   req->timeout_ms <= PROTO_MAX_TIMEOUT_MS);
	FUZZ_CHECK(req->idle_timeout_ms >= 0 &&
		   req->idle_timeout_ms <= PROTO_MAX_TIMEOUT_MS);
	if (req->op == PROTO_OP_RUN || req->op == PROTO_OP_CONNECT ||
	    req->op == PROTO_OP_DISCONNECT)
		FUZZ_CHECK(req->nhosts >= 1);
	if (req->op == PROTO_OP_RUN) {
		FUZZ_CHECK(req->command != NULL);
		FUZZ_CHECK(strlen(req->command) >= 1 &&
			   strlen(req->command) <= PROTO_MAX_COMMAND);
	}
	if (req->nexclude > 0)
		FUZZ_CHECK(proto_exclude_new(req->exclude, req->nexclude,
					     SIZE_MAX, &x, NULL) == 0);
	for (i = 0; i < req->nhosts; i++) {
		struct proto_hostspec hs;

		/* Every accepted host is a group reference or a valid spec
		 * that no exclusion names (ranges are already expanded). */
		if (req->hosts[i][0] == '@') {
			FUZZ_CHECK(req->hosts[i][1] != '\0');
			continue;
		}
		FUZZ_CHECK(proto_hostspec_parse(req->hosts[i], &hs, NULL) == 0);
		FUZZ_CHECK(proto_exclude_match(x, req->hosts[i]) == 0);
	}
	proto_exclude_free(x);
	for (i = 0; i < req->nexclude; i++)
		FUZZ_CHECK(req->exclude[i] != NULL);
	for (i = 0; i < req->nenv; i++) {
		FUZZ_CHECK(strlen(req->env[i].name) >= 1 &&
			   strlen(req->env[i].name) <= PROTO_MAX_ENV_NAME);
		FUZZ_CHECK(strlen(req->env[i].value) <= PROTO_MAX_ENV_VALUE);
	}
	if (req->op == PROTO_OP_CANCEL)
		FUZZ_CHECK(req->target[0] != '\0');
}

/*
 * Parse, check, encode, parse again, compare, and encode once more: the two
 * encodings must be identical.  The second parse lifts the line limit, since
 * escaping may lengthen the line.
 */
static void
fuzz_request(const char *line, size_t len, const struct proto_limits *lim)
{
	struct proto_request *req = NULL, *again = NULL;
	struct proto_limits lim2 = *lim;
	struct proto_error err;
	struct proto_buf b1, b2;

	if (proto_request_parse(line, len, lim, &req, &err) == -1) {
		FUZZ_CHECK(req == NULL);
		FUZZ_CHECK(err.code != PROTO_E_NONE);
		FUZZ_CHECK(strlen(err.message) < sizeof err.message);
		FUZZ_CHECK(strlen(err.id) <= PROTO_MAX_ID + 2);
		FUZZ_CHECK(proto_code_name(err.code) != NULL);
		return;
	}
	FUZZ_CHECK(req != NULL);
	fuzz_check_request(req, lim);

	proto_buf_init(&b1);
	proto_buf_init(&b2);
	FUZZ_CHECK(proto_request_encode(&b1, req) == 0);
	FUZZ_CHECK(b1.len > 0 && b1.data[b1.len - 1] == '\n');
	lim2.max_line = PROTO_MAX_LINE;
	if (proto_request_parse(b1.data, b1.len - 1, &lim2, &again, &err) !=
	    0) {
		fprintf(stderr, "re-parse failed: %s\nline: %.*s", err.message,
			(int)b1.len, b1.data);
		abort();
	}
	fuzz_same_request(req, again);
	FUZZ_CHECK(proto_request_encode(&b2, again) == 0);
	FUZZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	proto_buf_free(&b1);
	proto_buf_free(&b2);
	proto_request_free(again);
	proto_request_free(req);
}

/* A parsed spec, written back canonically, parses to the same fields. */
static void
fuzz_hostspec(const char *s)
{
	struct proto_hostspec hs, hs2;
	struct proto_error err;
	char spec[PROTO_MAX_HOSTSPEC * 2];
	int n, v6;

	if (proto_hostspec_parse(s, &hs, &err) == -1) {
		FUZZ_CHECK(err.code == PROTO_E_BAD_REQUEST);
		return;
	}
	FUZZ_CHECK(hs.host[0] != '\0');
	FUZZ_CHECK(strlen(hs.user) <= PROTO_MAX_USER);
	FUZZ_CHECK(strlen(hs.host) <= PROTO_MAX_HOST);
	FUZZ_CHECK(hs.port >= 0 && hs.port <= 65535);
	v6 = strchr(hs.host, ':') != NULL;
	n = snprintf(spec, sizeof spec, "%s%s%s%s%s", hs.user,
		     hs.user[0] != '\0' ? "@" : "", v6 && hs.port ? "[" : "",
		     hs.host, v6 && hs.port ? "]" : "");
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof spec);
	if (hs.port != 0)
		snprintf(spec + n, sizeof spec - n, ":%d", hs.port);
	if (strlen(spec) > PROTO_MAX_HOSTSPEC)
		return; /* brackets can push a spec over the limit */
	FUZZ_CHECK(proto_hostspec_parse(spec, &hs2, &err) == 0);
	FUZZ_CHECK(strcmp(hs.user, hs2.user) == 0);
	FUZZ_CHECK(strcmp(hs.host, hs2.host) == 0);
	FUZZ_CHECK(hs.port == hs2.port);
}

/* Strict base64: decoding then encoding gives back the input exactly, and
 * the vector and scalar coders agree on everything. */
static void
fuzz_b64(const char *s, size_t n)
{
	unsigned char *dst, *ref;
	char *enc, *enc_ref;
	long got;

	dst = malloc(proto_b64_maxdecoded(n) + 1);
	ref = malloc(proto_b64_maxdecoded(n) + 1);
	FUZZ_CHECK(dst != NULL && ref != NULL);
	got = proto_b64_decode(dst, s, n);
	FUZZ_CHECK(proto_b64_decode_scalar(ref, s, n) == got);
	if (got >= 0) {
		FUZZ_CHECK((size_t)got <= proto_b64_maxdecoded(n));
		FUZZ_CHECK(memcmp(dst, ref, (size_t)got) == 0);
		enc = malloc(proto_b64_len((size_t)got) + 1);
		enc_ref = malloc(proto_b64_len((size_t)got) + 1);
		FUZZ_CHECK(enc != NULL && enc_ref != NULL);
		proto_b64_encode(enc, dst, (size_t)got);
		proto_b64_encode_scalar(enc_ref, dst, (size_t)got);
		FUZZ_CHECK(strlen(enc) == n && memcmp(enc, s, n) == 0);
		FUZZ_CHECK(strcmp(enc, enc_ref) == 0);
		free(enc);
		free(enc_ref);
	}
	free(dst);
	free(ref);
}

struct fuzz_emit {
	const char *pattern;
	int n;
};

static int
fuzz_emit(const char *host, void *arg)
{
	struct fuzz_emit *fe = arg;

	FUZZ_CHECK(host != NULL);
	/* Expansion only replaces ranges by at most 9 digits each. */
	FUZZ_CHECK(strlen(host) <=
		   strlen(fe->pattern) +
		       PROTO_MAX_HOSTSET_RANGES * PROTO_MAX_RANGE_DIGITS);
	fe->n++;
	return 0;
}

/*
 * Range expansion: the count returned is the count emitted, a pattern
 * without ranges yields itself, and a spec is excluded by itself.
 */
static void
fuzz_hostset(const char *s)
{
	struct proto_error err;
	struct fuzz_emit fe = {s, 0};
	char *self[1];
	int n;

	n = proto_hostset_expand(s, fuzz_emit, &fe, FUZZ_MAX_EXPAND, &err);
	if (n >= 0) {
		FUZZ_CHECK(n == fe.n);
		FUZZ_CHECK(n <= FUZZ_MAX_EXPAND);
		if (!proto_hostset_has_range(s))
			FUZZ_CHECK(n == 1);
	} else
		FUZZ_CHECK(err.code == PROTO_E_BAD_REQUEST ||
			   err.code == PROTO_E_LIMIT);
	self[0] = (char *)s;
	if (s[0] != '\0' && strpbrk(s, "*?") == NULL)
		FUZZ_CHECK(proto_hostspec_excluded(s, self, 1) == 1);
	FUZZ_CHECK(proto_hostspec_excluded(s, self, 0) == 0);
}

/*
 * The compiled glob against fnmatch(3): "PATTERN\nTEXT", both short and
 * with few '*' so that fnmatch's backtracking stays quick.
 */
static void
fuzz_glob(const char *s)
{
	const char *nl = strchr(s, '\n'), *p;
	struct proto_glob *g;
	char pat[FUZZ_GLOB_MAX + 1];
	size_t plen, steps = 0, stars = 0;
	int unsupported;

	if (nl == NULL || (plen = (size_t)(nl - s)) > FUZZ_GLOB_MAX ||
	    strlen(nl + 1) > FUZZ_GLOB_MAX)
		return;
	for (p = s; p < nl; p++)
		stars += *p == '*';
	if (stars > FUZZ_GLOB_STARS)
		return;
	memcpy(pat, s, plen);
	pat[plen] = '\0';
	if ((g = proto_glob_new(pat, plen, &unsupported)) == NULL) {
		FUZZ_CHECK(unsupported);
		return;
	}
	FUZZ_CHECK(proto_glob_match(g, nl + 1, strlen(nl + 1), &steps) ==
		   (fnmatch(pat, nl + 1, 0) == 0));
	FUZZ_CHECK(steps <= (plen + 1) * (strlen(nl + 1) + 1));
	proto_glob_free(g);
}

static void
fuzz_id(const char *s)
{
	char id[PROTO_MAX_ID + 3];
	struct proto_error err;

	if (proto_id_from_string(id, s, &err) == 0) {
		FUZZ_CHECK(strlen(id) == strlen(s) + 2);
		FUZZ_CHECK(id[0] == '"');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_limits def, tiny;
	char *s;

	proto_limits_default(&def);
	memset(&tiny, 0, sizeof tiny);
	tiny.max_line = FUZZ_TINY_LINE;
	tiny.max_hosts = FUZZ_TINY_HOSTS;
	tiny.max_stdin = FUZZ_TINY_STDIN;
	tiny.max_env = FUZZ_TINY_ENV;
	tiny.max_depth = FUZZ_TINY_DEPTH;

	/* libFuzzer's buffer is exactly size bytes: ASan sees any read
	 * past the line. */
	fuzz_request((const char *)data, size, &def);
	fuzz_request((const char *)data, size, &tiny);

	/* The string functions take NUL-terminated text. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_hostspec(s);
	fuzz_id(s);
	fuzz_hostset(s);
	fuzz_glob(s);
	fuzz_b64(s, size);
	free(s);
	return 0;
}
