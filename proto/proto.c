/*
 * The sshpool v1 wire codec: strict request parsing on top of json-c, fast
 * hand-written event encoding, event decoding for clients and host specs
 * (base64 is in proto_b64.c).  json-c alone is too lenient for a protocol boundary (it keeps the
 * last of duplicate keys, clamps huge numbers, accepts lone surrogates), so
 * every line first goes through a small strict scanner that checks the
 * grammar, UTF-8, depth and NUL escapes and counts the keys of each object;
 * the tree json-c builds is then compared against those counts, which
 * catches duplicate keys however they were spelled.  Nothing here does I/O
 * or touches global mutable state.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"

#define PROTO_MAX_CLIENT 128  /* bytes of the hello "client" member */
#define PROTO_MAX_VERSIONS 16 /* entries of the hello "versions" list */
#define PROTO_MAX_VERSION_NUM 65535
#define PROTO_MAX_TIMEOUT_S (PROTO_MAX_TIMEOUT_MS / 1000)
#define PROTO_MAX_SAFE_INT ((1LL << 53) - 1) /* exact in a double */
#define PROTO_MAX_SIGNAL 32
#define PROTO_MSG_NAME 64  /* bytes of a user-supplied name in a message */
#define PROTO_PATH_MAX 128 /* bytes of a member path in a message */
#define PROTO_BUF_MIN 256
#define PROTO_MAX_GROUP_NAME 64 /* bytes of a host group name after "@" */

static const char *const proto_code_names[PROTO_E_COUNT] = {
    [PROTO_E_NONE] = "none",
    [PROTO_E_BAD_REQUEST] = "bad_request",
    [PROTO_E_UNSUPPORTED_VERSION] = "unsupported_version",
    [PROTO_E_RESOLVE_FAILED] = "resolve_failed",
    [PROTO_E_CONNECT_FAILED] = "connect_failed",
    [PROTO_E_CONNECT_TIMEOUT] = "connect_timeout",
    [PROTO_E_HOSTKEY_UNKNOWN] = "hostkey_unknown",
    [PROTO_E_HOSTKEY_MISMATCH] = "hostkey_mismatch",
    [PROTO_E_AUTH_FAILED] = "auth_failed",
    [PROTO_E_CHANNEL_FAILED] = "channel_failed",
    [PROTO_E_CONNECTION_LOST] = "connection_lost",
    [PROTO_E_TIMEOUT] = "timeout",
    [PROTO_E_CANCELLED] = "cancelled",
    [PROTO_E_HOST_DOWN] = "host_down",
    [PROTO_E_FORBIDDEN] = "forbidden",
    [PROTO_E_LIMIT] = "limit",
    [PROTO_E_SHUTDOWN] = "shutdown",
    [PROTO_E_INTERNAL] = "internal",
};

static const char *const proto_event_names[PROTO_EV_COUNT] = {
    [PROTO_EV_HELLO] = "hello",
    [PROTO_EV_START] = "start",
    [PROTO_EV_STDOUT] = "stdout",
    [PROTO_EV_STDERR] = "stderr",
    [PROTO_EV_EXIT] = "exit",
    [PROTO_EV_ERROR] = "error",
    [PROTO_EV_CONNECTED] = "connected",
    [PROTO_EV_DONE] = "done",
    [PROTO_EV_CANCEL] = "cancel",
    [PROTO_EV_STATUS] = "status",
    [PROTO_EV_DISCONNECTED] = "disconnected",
};

static int proto_fail(struct proto_error *, enum proto_code, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
proto_fail(struct proto_error *err, enum proto_code code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

static void
proto_error_clear(struct proto_error *err)
{
	err->code = PROTO_E_NONE;
	err->message[0] = '\0';
	err->id[0] = '\0';
}

const char *
proto_code_name(enum proto_code code)
{
	if ((unsigned)code >= PROTO_E_COUNT)
		return "unknown";
	return proto_code_names[code];
}

enum proto_code
proto_code_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return PROTO_E_NONE;
	for (i = PROTO_E_NONE + 1; i < PROTO_E_COUNT; i++) {
		if (strcmp(proto_code_names[i], name) == 0)
			return (enum proto_code)i;
	}
	return PROTO_E_NONE;
}

const char *
proto_event_name(enum proto_event_type type)
{
	if ((unsigned)type >= PROTO_EV_COUNT)
		return "unknown";
	return proto_event_names[type];
}

void
proto_limits_default(struct proto_limits *lim)
{
	lim->max_line = PROTO_DEFAULT_MAX_LINE;
	lim->max_hosts = PROTO_DEFAULT_MAX_HOSTS;
	lim->max_stdin = PROTO_DEFAULT_MAX_STDIN;
	lim->max_env = PROTO_MAX_ENV;
	lim->max_depth = PROTO_MAX_DEPTH;
}

/* ---- UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0. */
static size_t
proto_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		if (avail < 2 || (p[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xf0) {
		if (avail < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0) /* overlong */
			return 0;
		if (c == 0xed && p[1] >= 0xa0) /* surrogate */
			return 0;
		return 3;
	}
	if (c < 0xf5) {
		if (avail < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90) /* overlong */
			return 0;
		if (c == 0xf4 && p[1] >= 0x90) /* above U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

static int
proto_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = proto_utf8_len(p + i, n - i)) == 0)
			return 0;
		i += l;
	}
	return 1;
}

/* ---- Output buffer ---- */

void
proto_buf_init(struct proto_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
proto_buf_reset(struct proto_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	proto_buf_init(b);
}

/* Room for n more bytes plus a terminating NUL, which keeps the buffer
 * printable for callers that log it. */
static int
proto_buf_reserve(struct proto_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->cap > b->len && n < b->cap - b->len)
		return 0;
	if (n > SIZE_MAX - b->len - 1) {
		errno = ENOMEM;
		return -1;
	}
	need = b->len + n + 1;
	cap = b->cap != 0 ? b->cap : PROTO_BUF_MIN;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
proto_buf_append(struct proto_buf *b, const void *p, size_t n)
{
	if (proto_buf_reserve(b, n) == -1)
		return -1;
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/*
 * Encoding goes through a sticky error: every put is a no-op after the first
 * failure, and enc_end rolls the buffer back so a failed encoder leaves it
 * unchanged.
 */
struct enc {
	struct proto_buf *b;
	size_t start;
	int err;
};

static void
enc_begin(struct enc *e, struct proto_buf *b)
{
	e->b = b;
	e->start = b->len;
	e->err = 0;
}

static int
enc_end(struct enc *e)
{
	if (e->err == 0)
		return 0;
	e->b->len = e->start;
	if (e->b->data != NULL)
		e->b->data[e->start] = '\0';
	errno = e->err;
	return -1;
}

static void
enc_raw(struct enc *e, const void *p, size_t n)
{
	if (e->err != 0)
		return;
	if (proto_buf_append(e->b, p, n) == -1)
		e->err = ENOMEM;
}

#define enc_lit(e, s) enc_raw((e), (s), sizeof(s) - 1)

static void
enc_u64(struct enc *e, unsigned long long v)
{
	char tmp[24], *p = tmp + sizeof tmp;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	enc_raw(e, p, (size_t)(tmp + sizeof tmp - p));
}

static void
enc_i64(struct enc *e, long long v)
{
	if (v < 0) {
		enc_lit(e, "-");
		enc_u64(e, 0ULL - (unsigned long long)v);
	} else
		enc_u64(e, (unsigned long long)v);
}

/*
 * A quoted JSON string.  Invalid UTF-8 becomes U+FFFD (one per bad byte)
 * unless strict, where it fails the encoding with EINVAL instead: requests
 * must not be silently altered, events must always be valid JSON.
 */
static void
enc_str(struct enc *e, const char *s, size_t n, int strict)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	const unsigned char *run = p;
	char esc[6];
	size_t l;

	enc_lit(e, "\"");
	while (p < end) {
		unsigned char c = *p;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			p++;
			continue;
		}
		if (c >= 0x80 && (l = proto_utf8_len(p, end - p)) != 0) {
			p += l;
			continue;
		}
		enc_raw(e, run, p - run);
		if (c >= 0x80) {
			if (strict && e->err == 0)
				e->err = EINVAL;
			enc_lit(e, "\xef\xbf\xbd");
		} else {
			esc[0] = '\\';
			switch (c) {
			case '"':
			case '\\':
				esc[1] = (char)c;
				enc_raw(e, esc, 2);
				break;
			case '\n':
				enc_lit(e, "\\n");
				break;
			case '\r':
				enc_lit(e, "\\r");
				break;
			case '\t':
				enc_lit(e, "\\t");
				break;
			case '\b':
				enc_lit(e, "\\b");
				break;
			case '\f':
				enc_lit(e, "\\f");
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				enc_raw(e, esc, 6);
				break;
			}
		}
		run = ++p;
	}
	enc_raw(e, run, p - run);
	enc_lit(e, "\"");
}

static void
enc_cstr(struct enc *e, const char *s)
{
	enc_str(e, s, strlen(s), 0);
}

/* A message, cut to PROTO_MAX_MESSAGE - 1 bytes on a character boundary. */
static void
enc_message(struct enc *e, const char *s)
{
	size_t n = strlen(s);

	if (n >= PROTO_MAX_MESSAGE) {
		n = PROTO_MAX_MESSAGE - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	enc_str(e, s, n, 0);
}

/* {"v":1,"id":<id>,"event":"<name>" */
static void
enc_head(struct enc *e, const char *id, const char *key, const char *name)
{
	enc_lit(e, "{\"v\":1,\"id\":");
	if (id == NULL || *id == '\0')
		enc_lit(e, "null");
	else
		enc_raw(e, id, strlen(id));
	enc_lit(e, ",\"");
	enc_raw(e, key, strlen(key));
	enc_lit(e, "\":\"");
	enc_raw(e, name, strlen(name));
	enc_lit(e, "\"");
}

static void
enc_key(struct enc *e, const char *key)
{
	enc_lit(e, ",\"");
	enc_raw(e, key, strlen(key));
	enc_lit(e, "\":");
}

static void
enc_host(struct enc *e, const char *host)
{
	if (host != NULL) {
		enc_key(e, "host");
		enc_cstr(e, host);
	}
}

/* ---- Host specs ---- */

static int
proto_user_check(const char *u, size_t n, struct proto_error *err)
{
	size_t i;

	if (n == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "empty user name");
	if (n > PROTO_MAX_USER)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "user name too long (max %d)",
				  PROTO_MAX_USER);
	if (u[0] == '-')
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "user name must not start with '-'");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c == 0x7f)
			return proto_fail(
			    err, PROTO_E_BAD_REQUEST,
			    "user name contains a space or control character");
	}
	if (!proto_utf8_valid(u, n))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "user name is not valid UTF-8");
	return 0;
}

static int
proto_ipv6_check(const char *h, size_t n, struct proto_error *err)
{
	char tmp[PROTO_MAX_HOST + 1];
	unsigned char addr[16];
	const char *pct;
	size_t alen, i;

	pct = memchr(h, '%', n);
	alen = pct != NULL ? (size_t)(pct - h) : n;
	memcpy(tmp, h, alen);
	tmp[alen] = '\0';
	if (inet_pton(AF_INET6, tmp, addr) != 1)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "invalid IPv6 address \"%s\"", tmp);
	if (pct == NULL)
		return 0;
	if (alen + 1 == n)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "empty IPv6 zone after '%%'");
	for (i = alen + 1; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "invalid IPv6 zone");
	}
	return 0;
}

static int
proto_host_check(const char *h, size_t n, struct proto_error *err)
{
	size_t i;
	int colons = 0;

	if (n == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "empty host name");
	if (n > PROTO_MAX_HOST)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "host name too long (max %d)",
				  PROTO_MAX_HOST);
	if (h[0] == '-')
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "host name must not start with '-'");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= 0x20 || c == 0x7f)
			return proto_fail(
			    err, PROTO_E_BAD_REQUEST,
			    "host name contains a space or control character");
		if (c == '/' || c == '@' || c == '[' || c == ']')
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "host name contains '%c'", c);
		if (c == ':')
			colons++;
	}
	if (colons > 0)
		return proto_ipv6_check(h, n, err);
	return 0;
}

static int
proto_port_parse(const char *p, size_t n, int *port, struct proto_error *err)
{
	size_t i;
	long v = 0;

	if (n == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "empty port");
	if (n > 5)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "port out of range (1..65535)");
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "port is not a number");
		v = v * 10 + (p[i] - '0');
	}
	if (v < 1 || v > 65535)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "port out of range (1..65535)");
	*port = (int)v;
	return 0;
}

int
proto_hostspec_parse(const char *spec, struct proto_hostspec *hs,
		     struct proto_error *err)
{
	struct proto_error dummy;
	const char *h, *end, *at, *close, *colon, *port = NULL;
	const char *hstart, *hend;
	size_t len;

	if (err == NULL)
		err = &dummy;
	proto_error_clear(err);
	memset(hs, 0, sizeof *hs);
	if (spec == NULL || *spec == '\0')
		return proto_fail(err, PROTO_E_BAD_REQUEST, "empty host spec");
	len = strlen(spec);
	if (len > PROTO_MAX_HOSTSPEC)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "host spec too long (max %d)",
				  PROTO_MAX_HOSTSPEC);
	if (!proto_utf8_valid(spec, len))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "host spec is not valid UTF-8");
	end = spec + len;
	h = spec;
	/* The last '@' splits, as in ssh(1): user names may contain '@'. */
	if ((at = strrchr(spec, '@')) != NULL) {
		if (proto_user_check(spec, at - spec, err) == -1)
			return -1;
		memcpy(hs->user, spec, at - spec);
		hs->user[at - spec] = '\0';
		h = at + 1;
	}
	if (*h == '[') {
		if ((close = memchr(h, ']', end - h)) == NULL)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "missing ']' in host spec");
		hstart = h + 1;
		hend = close;
		if (close + 1 < end) {
			if (close[1] != ':')
				return proto_fail(err, PROTO_E_BAD_REQUEST,
						  "unexpected text after ']'");
			port = close + 2;
		}
	} else {
		hstart = h;
		hend = end;
		/* One colon separates the port; more make a bare IPv6
		 * address, which cannot carry a port without brackets. */
		colon = memchr(h, ':', end - h);
		if (colon != NULL &&
		    memchr(colon + 1, ':', end - colon - 1) == NULL) {
			hend = colon;
			port = colon + 1;
		}
	}
	if (proto_host_check(hstart, hend - hstart, err) == -1)
		return -1;
	memcpy(hs->host, hstart, hend - hstart);
	hs->host[hend - hstart] = '\0';
	if (port != NULL &&
	    proto_port_parse(port, end - port, &hs->port, err) == -1)
		return -1;
	return 0;
}

/* ---- Host sets ---- */

struct hostset_item {
	unsigned long lo, hi;
	int width; /* zero-pad to this many digits, 0 = none */
};

struct hostset_range {
	const char *lit; /* literal text before the range */
	size_t litlen;
	size_t first, n; /* items[first .. first + n) */
};

struct hostset {
	struct hostset_range ranges[PROTO_MAX_HOSTSET_RANGES];
	size_t nranges;
	struct hostset_item *items;
	size_t nitems;
	const char *tail; /* literal text after the last range */
	size_t taillen;
};

/* A bracket is a range only when it holds nothing but digits, ',' and '-':
 * an IPv6 literal always has a ':'. */
static int
hostset_is_range(const char *p, size_t n)
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
hostset_number(const char *p, size_t n, unsigned long *v,
	       struct proto_error *err)
{
	size_t i;

	if (n == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "empty number in a range");
	if (n > PROTO_MAX_RANGE_DIGITS)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "range bound longer than %d digits",
				  PROTO_MAX_RANGE_DIGITS);
	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "malformed range bound \"%.*s\"",
					  (int)n, p);
		*v = *v * 10 + (unsigned long)(p[i] - '0');
	}
	return 0;
}

/* One "N" or "N-M" of a range list. */
static int
hostset_item_parse(const char *p, size_t n, struct hostset_item *it,
		   struct proto_error *err)
{
	const char *dash = memchr(p, '-', n);
	size_t lolen = dash != NULL ? (size_t)(dash - p) : n;

	if (hostset_number(p, lolen, &it->lo, err) == -1)
		return -1;
	it->hi = it->lo;
	if (dash != NULL &&
	    hostset_number(dash + 1, n - lolen - 1, &it->hi, err) == -1)
		return -1;
	if (it->hi < it->lo)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "range %.*s goes down", (int)n, p);
	it->width = lolen > 1 && p[0] == '0' ? (int)lolen : 0;
	return 0;
}

static int
hostset_parse(const char *pat, struct hostset *hs, struct proto_error *err)
{
	const char *p = pat, *lit = pat, *open, *close, *q, *comma, *end;
	struct hostset_range *r;
	size_t n, maxitems;

	memset(hs, 0, sizeof *hs);
	n = strlen(pat);
	if (n == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "empty host");
	if (n > PROTO_MAX_HOSTPATTERN)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "host pattern too long (max %d)",
				  PROTO_MAX_HOSTPATTERN);
	/* Every item takes at least two bytes ("1,"). */
	maxitems = n / 2 + 1;
	while ((open = strchr(p, '[')) != NULL) {
		if ((close = strchr(open + 1, ']')) == NULL)
			break;
		/* Not a range: a range may still sit inside, as in
		 * "[2001:db8::[1-9]]:22". */
		if (!hostset_is_range(open + 1, (size_t)(close - open - 1))) {
			p = open + 1;
			continue;
		}
		if (hs->nranges == PROTO_MAX_HOSTSET_RANGES) {
			free(hs->items);
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "more than %d ranges in a host",
					  PROTO_MAX_HOSTSET_RANGES);
		}
		if (hs->items == NULL &&
		    (hs->items = calloc(maxitems, sizeof *hs->items)) == NULL)
			return proto_fail(err, PROTO_E_INTERNAL,
					  "out of memory");
		r = &hs->ranges[hs->nranges++];
		r->lit = lit;
		r->litlen = (size_t)(open - lit);
		r->first = hs->nitems;
		for (q = open + 1; q < close; q = end + 1) {
			comma = memchr(q, ',', (size_t)(close - q));
			end = comma != NULL ? comma : close;
			if (hostset_item_parse(q, (size_t)(end - q),
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
				return proto_fail(err, PROTO_E_BAD_REQUEST,
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
		if (hostset_is_range(open + 1, (size_t)(close - open - 1)))
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
	struct hostset hs;
	struct hostset_item *it;
	size_t idx[PROTO_MAX_HOSTSET_RANGES];
	unsigned long val[PROTO_MAX_HOSTSET_RANGES];
	size_t i, k, total = 1, count, len, cap;
	char *buf;
	int r;

	if (err == NULL)
		err = &dummy;
	proto_error_clear(err);
	if (pattern == NULL)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "empty host");
	if (hostset_parse(pattern, &hs, err) == -1)
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
			return proto_fail(err, PROTO_E_LIMIT,
					  "\"%.*s\" expands to more than %zu "
					  "hosts",
					  PROTO_MSG_NAME, pattern, max);
		}
		total *= count;
	}
	if (total > max) {
		free(hs.items);
		return proto_fail(err, PROTO_E_LIMIT,
				  "\"%.*s\" expands to more than %zu hosts",
				  PROTO_MSG_NAME, pattern, max);
	}
	/* Each range adds at most PROTO_MAX_RANGE_DIGITS digits. */
	cap = strlen(pattern) + hs.nranges * (PROTO_MAX_RANGE_DIGITS + 1) + 1;
	if ((buf = malloc(cap)) == NULL) {
		free(hs.items);
		return proto_fail(err, PROTO_E_INTERNAL, "out of memory");
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

static int
hostset_glob(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

int
proto_hostspec_excluded(const char *spec, char *const *exclude, size_t nexclude)
{
	struct proto_hostspec hs;
	const char *host = spec;
	size_t i;

	if (nexclude == 0)
		return 0;
	if (proto_hostspec_parse(spec, &hs, NULL) == 0)
		host = hs.host;
	for (i = 0; i < nexclude; i++) {
		if (hostset_glob(exclude[i])) {
			if (fnmatch(exclude[i], spec, 0) == 0 ||
			    fnmatch(exclude[i], host, 0) == 0)
				return 1;
		} else if (strcmp(exclude[i], spec) == 0 ||
			   strcmp(exclude[i], host) == 0)
			return 1;
	}
	return 0;
}

/* ---- Ids ---- */

static int
proto_id_check_string(const char *s, size_t n, const char *what,
		      struct proto_error *err)
{
	size_t i;

	if (n == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "%s: empty string",
				  what);
	if (n > PROTO_MAX_ID)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "%s: too long (max %d bytes)", what,
				  PROTO_MAX_ID);
	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return proto_fail(
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
static int
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
			return proto_fail(
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
	return proto_fail(err, PROTO_E_BAD_REQUEST,
			  "%s: expected a string or an integer", what);
}

/* ---- Strict JSON scanning ---- */

/*
 * The scanner walks the raw text once.  It records the number of keys of
 * every object in document order; json-c's objects iterate in insertion
 * order, so a pre-order walk of its tree meets the same objects in the same
 * order, and the first object with fewer members than keys seen holds a
 * duplicate.  A second, targeted pass then names the duplicate key.
 */
struct jscan {
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

static int jscan_value(struct jscan *);

static int
jscan_err(struct jscan *s, const char *why)
{
	if (s->why == NULL)
		s->why = s->p < s->end ? why : "unexpected end of line";
	return -1;
}

static void
jscan_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
jscan_hex4(const unsigned char *p, unsigned *out)
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
jscan_string(struct jscan *s)
{
	unsigned u, lo;
	size_t l;

	s->p++; /* opening quote */
	for (;;) {
		if (s->p >= s->end)
			return jscan_err(s, "unterminated string");
		if (*s->p == '"') {
			s->p++;
			return 0;
		}
		if (*s->p < 0x20)
			return jscan_err(s, "control character in string");
		if (*s->p >= 0x80) {
			if ((l = proto_utf8_len(s->p, s->end - s->p)) == 0)
				return jscan_err(s, "invalid UTF-8");
			s->p += l;
			continue;
		}
		if (*s->p != '\\') {
			s->p++;
			continue;
		}
		if (s->end - s->p < 2)
			return jscan_err(s, "unterminated string");
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
			return jscan_err(s, "invalid escape in string");
		}
		if (s->end - s->p < 6 || jscan_hex4(s->p + 2, &u) == -1)
			return jscan_err(s, "invalid \\u escape");
		s->p += 6;
		if (u == 0)
			return jscan_err(s, "NUL in string");
		if (u >= 0xdc00 && u <= 0xdfff)
			return jscan_err(s, "lone surrogate in string");
		if (u >= 0xd800 && u <= 0xdbff) {
			if (s->end - s->p < 6 || s->p[0] != '\\' ||
			    s->p[1] != 'u' || jscan_hex4(s->p + 2, &lo) == -1 ||
			    lo < 0xdc00 || lo > 0xdfff)
				return jscan_err(s, "lone surrogate in string");
			s->p += 6;
		}
	}
}

static int
jscan_digits(struct jscan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start ? 0 : jscan_err(s, "invalid number");
}

static int
jscan_number(struct jscan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0') {
		s->p++;
		if (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			return jscan_err(s, "leading zero in number");
	} else if (jscan_digits(s) == -1)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (jscan_digits(s) == -1)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (jscan_digits(s) == -1)
			return -1;
	}
	return 0;
}

static int
jscan_word(struct jscan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return jscan_err(s, "unexpected character");
	s->p += n;
	return 0;
}

/* The duplicate search: decode one key with json-c and look it up. */
static void
jscan_dup_key(struct jscan *s, const unsigned char *k, size_t n)
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
jscan_object(struct jscan *s)
{
	const unsigned char *k;
	size_t idx, *nk;

	if (s->nobj == s->cap) {
		size_t cap = s->cap != 0 ? s->cap * 2 : 16;

		if ((nk = realloc(s->keys, cap * sizeof *nk)) == NULL) {
			s->nomem = 1;
			return jscan_err(s, "out of memory");
		}
		s->keys = nk;
		s->cap = cap;
	}
	idx = s->nobj++;
	s->keys[idx] = 0;
	s->p++; /* '{' */
	jscan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		jscan_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return jscan_err(s, "expected a double-quoted key");
		k = s->p;
		if (jscan_string(s) == -1)
			return -1;
		s->keys[idx]++;
		if (s->dup_seen != NULL && idx == s->dup_obj)
			jscan_dup_key(s, k, s->p - k);
		jscan_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return jscan_err(s, "expected ':'");
		s->p++;
		if (jscan_value(s) == -1)
			return -1;
		jscan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return jscan_err(s, "expected ',' or '}'");
	}
}

static int
jscan_array(struct jscan *s)
{
	s->p++; /* '[' */
	jscan_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (jscan_value(s) == -1)
			return -1;
		jscan_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return jscan_err(s, "expected ',' or ']'");
	}
}

static int
jscan_value(struct jscan *s)
{
	int r;

	jscan_ws(s);
	if (s->p >= s->end)
		return jscan_err(s, "unexpected end of line");
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > s->max_depth) {
			if (s->why == NULL)
				s->too_deep = 1;
			return jscan_err(s, "nesting too deep");
		}
		r = *s->p == '{' ? jscan_object(s) : jscan_array(s);
		s->depth--;
		return r;
	case '"':
		return jscan_string(s);
	case 't':
		return jscan_word(s, "true");
	case 'f':
		return jscan_word(s, "false");
	case 'n':
		return jscan_word(s, "null");
	case '\'':
		return jscan_err(s, "single quotes are not JSON");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return jscan_number(s);
		return jscan_err(s, "unexpected character");
	}
}

/* Pre-order walk comparing member counts; returns the first object whose
 * json-c member count is short, with its path for the message. */
static int
jscan_count_check(json_object *o, const size_t *keys, size_t n, size_t *i,
		  char *path, size_t pathlen, size_t *bad)
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
			if (jscan_count_check(val, keys, n, i, path, pathlen,
					      bad) == -1)
				return -1;
			path[plen] = '\0';
		}
		return 0;
	case json_type_array:
		len = json_object_array_length(o);
		for (k = 0; k < len; k++) {
			snprintf(path + plen, pathlen - plen, "[%zu]", k);
			if (jscan_count_check(json_object_array_get_idx(o, k),
					      keys, n, i, path, pathlen,
					      bad) == -1)
				return -1;
			path[plen] = '\0';
		}
		return 0;
	default:
		return 0;
	}
}

/* Outcome of proto_json_parse besides success. */
enum {
	PROTO_JSON_BAD = -1,   /* no tree */
	PROTO_JSON_DUP = -2,   /* tree, but a duplicate key; err filled */
	PROTO_JSON_DUP_ID = -3 /* as above, and the key is the top "id" */
};

static int
proto_json_parse(const char *line, size_t len, int max_depth, json_object **out,
		 struct proto_error *err)
{
	struct jscan s;
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
	jscan_ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		proto_fail(err, PROTO_E_BAD_REQUEST,
			   "malformed line: expected a JSON object");
		goto out;
	}
	if (jscan_value(&s) == -1) {
		if (s.too_deep)
			proto_fail(err, PROTO_E_BAD_REQUEST,
				   "malformed JSON at byte %zu: nesting deeper "
				   "than %d",
				   (size_t)(s.p - s.base), max_depth);
		else
			proto_fail(err,
				   s.nomem ? PROTO_E_INTERNAL
					   : PROTO_E_BAD_REQUEST,
				   "malformed JSON at byte %zu: %s",
				   (size_t)(s.p - s.base), s.why);
		goto out;
	}
	objlen = s.p - s.base;
	jscan_ws(&s);
	if (s.p != s.end) {
		proto_fail(
		    err, PROTO_E_BAD_REQUEST,
		    "malformed JSON at byte %zu: trailing data after the "
		    "object",
		    (size_t)(s.p - s.base));
		goto out;
	}
	if (objlen > INT_MAX ||
	    (tok = json_tokener_new_ex(PROTO_MAX_DEPTH + 1)) == NULL) {
		proto_fail(err, PROTO_E_INTERNAL, "cannot parse line");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, line, (int)objlen);
	if (root == NULL) {
		proto_fail(
		    err, PROTO_E_BAD_REQUEST, "malformed JSON: %s",
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		goto out;
	}
	json_tokener_free(tok);
	*out = root;

	path[0] = '\0';
	if (jscan_count_check(root, s.keys, s.nobj, &i, path, sizeof path,
			      &bad) == 0)
		goto done;
	/* Second pass over the text to name the key. */
	ret = PROTO_JSON_DUP;
	s.p = s.base;
	s.nobj = 0;
	s.depth = 0;
	s.dup_obj = bad;
	s.dup_seen = json_object_new_object();
	if (s.dup_seen != NULL)
		(void)jscan_value(&s);
	json_object_put(s.dup_seen);
	if (!s.dup_found)
		proto_fail(err, PROTO_E_BAD_REQUEST, "%s%sduplicate key", path,
			   path[0] != '\0' ? ": " : "");
	else {
		proto_fail(err, PROTO_E_BAD_REQUEST, "%s%sduplicate key \"%s\"",
			   path, path[0] != '\0' ? ": " : "", s.dup_key);
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

static const char *
proto_str(json_object *o, size_t *len)
{
	*len = (size_t)json_object_get_string_len(o);
	return json_object_get_string(o);
}

/* An integer member in [min, max]; 0, or -1 with a message. */
static int
proto_get_int(json_object *o, const char *what, long long min, long long max,
	      long long *out, struct proto_error *err)
{
	int64_t v;

	*out = 0; /* defined on failure too */
	if (!json_object_is_type(o, json_type_int))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "%s: expected an integer", what);
	/* json-c saturates huge literals; the range check catches them as
	 * long as max is below INT64_MAX. */
	v = json_object_get_int64(o);
	if (v < min || v > max)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "%s: out of range (%lld..%lld)", what, min,
				  max);
	*out = v;
	return 0;
}

static int
proto_strdup(const char *s, size_t n, char **out, struct proto_error *err)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return proto_fail(err, PROTO_E_INTERNAL, "out of memory");
	memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	return 0;
}

/* ---- Requests ---- */

#define OPF(op) (1u << (op))

static const struct proto_key {
	const char *name;
	unsigned ops;
} proto_keys[] = {
    {"v", ~0u},
    {"id", ~0u},
    {"op", ~0u},
    {"versions", OPF(PROTO_OP_HELLO)},
    {"client", OPF(PROTO_OP_HELLO)},
    {"hosts",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"user",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"exclude",
     OPF(PROTO_OP_RUN) | OPF(PROTO_OP_CONNECT) | OPF(PROTO_OP_DISCONNECT)},
    {"command", OPF(PROTO_OP_RUN)},
    {"timeout", OPF(PROTO_OP_RUN)},
    {"idle_timeout", OPF(PROTO_OP_RUN)},
    {"env", OPF(PROTO_OP_RUN)},
    {"pty", OPF(PROTO_OP_RUN)},
    {"stdin", OPF(PROTO_OP_RUN)},
    {"target", OPF(PROTO_OP_CANCEL)},
};

struct proto_opdef {
	const char *name;
	int (*parse)(json_object *, const struct proto_limits *,
		     struct proto_request *, struct proto_error *);
};

static int proto_parse_hello(json_object *, const struct proto_limits *,
			     struct proto_request *, struct proto_error *);
static int proto_parse_run(json_object *, const struct proto_limits *,
			   struct proto_request *, struct proto_error *);
static int proto_parse_connect(json_object *, const struct proto_limits *,
			       struct proto_request *, struct proto_error *);
static int proto_parse_cancel(json_object *, const struct proto_limits *,
			      struct proto_request *, struct proto_error *);
static int proto_parse_status(json_object *, const struct proto_limits *,
			      struct proto_request *, struct proto_error *);

static const struct proto_opdef proto_ops[PROTO_OP_COUNT] = {
    [PROTO_OP_HELLO] = {"hello", proto_parse_hello},
    [PROTO_OP_RUN] = {"run", proto_parse_run},
    [PROTO_OP_CONNECT] = {"connect", proto_parse_connect},
    [PROTO_OP_CANCEL] = {"cancel", proto_parse_cancel},
    [PROTO_OP_STATUS] = {"status", proto_parse_status},
    [PROTO_OP_DISCONNECT] = {"disconnect", proto_parse_connect},
};

const char *
proto_op_name(enum proto_op op)
{
	if ((unsigned)op >= PROTO_OP_COUNT)
		return "unknown";
	return proto_ops[op].name;
}

static int
proto_parse_hello(json_object *root, const struct proto_limits *lim,
		  struct proto_request *req, struct proto_error *err)
{
	json_object *o;
	size_t n, i, len;
	long long v;
	const char *s;
	char what[32];
	int has_current = 0;

	req->version_min = req->version_max = PROTO_VERSION;
	if (json_object_object_get_ex(root, "versions", &o)) {
		if (!json_object_is_type(o, json_type_array))
			return proto_fail(
			    err, PROTO_E_BAD_REQUEST,
			    "versions: expected an array of integers");
		n = json_object_array_length(o);
		if (n > PROTO_MAX_VERSIONS)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "versions: too many entries (max %d)",
					  PROTO_MAX_VERSIONS);
		req->version_min = INT_MAX;
		req->version_max = 0;
		for (i = 0; i < n; i++) {
			snprintf(what, sizeof what, "versions[%zu]", i);
			if (proto_get_int(json_object_array_get_idx(o, i), what,
					  1, PROTO_MAX_VERSION_NUM, &v,
					  err) == -1)
				return -1;
			if (v < req->version_min)
				req->version_min = (int)v;
			if (v > req->version_max)
				req->version_max = (int)v;
			if (v == PROTO_VERSION)
				has_current = 1;
		}
		if (!has_current)
			return proto_fail(
			    err, PROTO_E_UNSUPPORTED_VERSION,
			    "versions: no common version (supported: %d)",
			    PROTO_VERSION);
	}
	if (json_object_object_get_ex(root, "client", &o)) {
		if (!json_object_is_type(o, json_type_string))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "client: expected a string");
		s = proto_str(o, &len);
		if (len > PROTO_MAX_CLIENT)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "client: too long (max %d bytes)",
					  PROTO_MAX_CLIENT);
		if (proto_strdup(s, len, &req->client, err) == -1)
			return -1;
	}
	return 0;
}

struct proto_hostref {
	const char *s;
	size_t i;
};

static int
proto_hostref_cmp(const void *a, const void *b)
{
	const struct proto_hostref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* "@NAME", NAME of [A-Za-z0-9._-]: one of the daemon's host groups. */
static int
proto_group_ref_ok(const char *s, size_t len)
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
struct proto_hostacc {
	char **v;
	size_t n, cap;
	size_t *origin; /* hosts: index of the entry each host came from */
	size_t entry;   /* the entry being expanded */
	size_t max;     /* bound on the expanded count */
	size_t raw;     /* hosts expanded so far, excluded ones included */
	int validate;   /* hosts: each must be a valid host spec */
	char *const *exclude;
	size_t nexclude;
	struct proto_error *err;
	const char *what; /* "hosts" or "exclude" */
};

static int
proto_hostacc_push(struct proto_hostacc *a, const char *s)
{
	char **v;
	size_t *o, cap;

	if (a->n == a->cap) {
		cap = a->cap == 0 ? 16 : a->cap * 2;
		if ((v = realloc(a->v, cap * sizeof *v)) == NULL)
			return proto_fail(a->err, PROTO_E_INTERNAL,
					  "out of memory");
		a->v = v;
		if ((o = realloc(a->origin, cap * sizeof *o)) == NULL)
			return proto_fail(a->err, PROTO_E_INTERNAL,
					  "out of memory");
		a->origin = o;
		a->cap = cap;
	}
	if (proto_strdup(s, strlen(s), &a->v[a->n], a->err) == -1)
		return -1;
	a->origin[a->n++] = a->entry;
	return 0;
}

static int
proto_hostacc_emit(const char *host, void *arg)
{
	struct proto_hostacc *a = arg;
	struct proto_hostspec hs;
	struct proto_error herr;

	a->raw++;
	/* An expansion is final: a result that is a pattern itself would
	 * name other hosts when a client sends it back. */
	if (proto_hostset_has_range(host))
		return proto_fail(a->err, PROTO_E_BAD_REQUEST,
				  "%s[%zu]: expands to \"%s\", itself a "
				  "range pattern",
				  a->what, a->entry, host);
	if (a->validate) {
		if (proto_hostspec_parse(host, &hs, &herr) == -1)
			return proto_fail(a->err, PROTO_E_BAD_REQUEST,
					  "%s[%zu]: %s", a->what, a->entry,
					  herr.message);
		if (proto_hostspec_excluded(host, a->exclude, a->nexclude))
			return 0;
	} else if (strlen(host) > PROTO_MAX_HOSTSPEC)
		return proto_fail(a->err, PROTO_E_BAD_REQUEST,
				  "%s[%zu]: longer than %d bytes", a->what,
				  a->entry, PROTO_MAX_HOSTSPEC);
	return proto_hostacc_push(a, host);
}

static void
proto_hostacc_free(struct proto_hostacc *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->origin);
}

/* Expand one array entry into the accumulator, bounded by a->max. */
static int
proto_hostacc_entry(struct proto_hostacc *a, const char *s, size_t len,
		    const char *limit_key)
{
	struct proto_error xerr;
	size_t i;

	if (len == 0)
		return proto_fail(a->err, PROTO_E_BAD_REQUEST, "%s[%zu]: empty",
				  a->what, a->entry);
	if (len > PROTO_MAX_HOSTPATTERN)
		return proto_fail(a->err, PROTO_E_BAD_REQUEST,
				  "%s[%zu]: longer than %d bytes", a->what,
				  a->entry, PROTO_MAX_HOSTPATTERN);
	if (!proto_utf8_valid(s, len))
		return proto_fail(a->err, PROTO_E_BAD_REQUEST,
				  "%s[%zu]: not valid UTF-8", a->what,
				  a->entry);
	/* Hosts are checked as specs once expanded, for precise messages. */
	for (i = 0; !a->validate && i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f)
			return proto_fail(a->err, PROTO_E_BAD_REQUEST,
					  "%s[%zu]: contains a space or "
					  "control character",
					  a->what, a->entry);
	}
	/* A full request takes no more: the bound must never wrap. */
	if (a->raw >= a->max)
		return proto_fail(a->err, PROTO_E_LIMIT,
				  "%s[%zu]: more than %zu hosts in the "
				  "request (%s)",
				  a->what, a->entry, a->max, limit_key);
	if (proto_hostset_expand(s, proto_hostacc_emit, a, a->max - a->raw,
				 &xerr) != -1)
		return 0;
	if (xerr.code == PROTO_E_NONE)
		return -1; /* emit failed and said why */
	if (xerr.code == PROTO_E_LIMIT)
		return proto_fail(a->err, PROTO_E_LIMIT,
				  "%s[%zu]: more than %zu hosts in the "
				  "request (%s)",
				  a->what, a->entry, a->max, limit_key);
	return proto_fail(a->err, xerr.code, "%s[%zu]: %s", a->what, a->entry,
			  xerr.message);
}

/* "exclude": optional array of host patterns, expanded. */
static int
proto_parse_exclude(json_object *root, const struct proto_limits *lim,
		    struct proto_request *req, struct proto_error *err)
{
	struct proto_hostacc a;
	json_object *arr, *o;
	const char *s;
	size_t n, i, len;

	if (!json_object_object_get_ex(root, "exclude", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
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
			proto_hostacc_free(&a);
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "exclude[%zu]: expected a string", i);
		}
		s = proto_str(o, &len);
		if (proto_hostacc_entry(&a, s, len, "MaxHostsPerRequest") ==
		    -1) {
			proto_hostacc_free(&a);
			return -1;
		}
	}
	free(a.origin);
	req->exclude = a.v;
	req->nexclude = a.n;
	return 0;
}

/* Exact duplicates would make the per-host events ambiguous.  origin maps
 * each host to the array entry it was expanded from. */
static int
proto_hosts_unique(struct proto_request *req, const size_t *origin,
		   struct proto_error *err)
{
	struct proto_hostref *refs;
	size_t i, first = 0, later = SIZE_MAX;

	if (req->nhosts < 2)
		return 0;
	if ((refs = calloc(req->nhosts, sizeof *refs)) == NULL)
		return proto_fail(err, PROTO_E_INTERNAL, "out of memory");
	for (i = 0; i < req->nhosts; i++) {
		refs[i].s = req->hosts[i];
		refs[i].i = i;
	}
	qsort(refs, req->nhosts, sizeof *refs, proto_hostref_cmp);
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
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "hosts[%zu]: duplicate of hosts[%zu]",
				  origin[later], origin[first]);
	return proto_fail(err, PROTO_E_BAD_REQUEST,
			  "hosts[%zu]: \"%.*s\" appears twice", origin[later],
			  PROTO_MSG_NAME, req->hosts[later]);
}

static int
proto_parse_hosts(json_object *root, const struct proto_limits *lim,
		  struct proto_request *req, struct proto_error *err)
{
	struct proto_hostacc a;
	json_object *arr, *o;
	const char *s;
	size_t n, i, len, ngroups = 0;
	int rc = -1;

	if (!json_object_object_get_ex(root, "hosts", &arr))
		return proto_fail(err, PROTO_E_BAD_REQUEST, "hosts: missing");
	if (!json_object_is_type(arr, json_type_array))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "hosts: expected an array of strings");
	n = json_object_array_length(arr);
	if (n == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "hosts: empty");
	if (n > lim->max_hosts)
		return proto_fail(err, PROTO_E_LIMIT,
				  "hosts: %zu hosts exceed MaxHostsPerRequest "
				  "(%zu)",
				  n, lim->max_hosts);
	/* Exclusions first: they filter the expansion as it happens. */
	if (proto_parse_exclude(root, lim, req, err) == -1)
		return -1;
	memset(&a, 0, sizeof a);
	a.max = lim->max_hosts;
	a.validate = 1;
	a.exclude = req->exclude;
	a.nexclude = req->nexclude;
	a.err = err;
	a.what = "hosts";
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		a.entry = i;
		if (!json_object_is_type(o, json_type_string)) {
			proto_fail(err, PROTO_E_BAD_REQUEST,
				   "hosts[%zu]: expected a string", i);
			goto out;
		}
		s = proto_str(o, &len);
		if (len > 0 && s[0] == '@') {
			if (!proto_group_ref_ok(s, len)) {
				proto_fail(
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
				proto_fail(err, PROTO_E_LIMIT,
				    "hosts[%zu]: more than %zu hosts in the "
				    "request (MaxHostsPerRequest)", i, a.max);
				goto out;
			}
			a.raw++;
			if (proto_hostacc_push(&a, s) == -1)
				goto out;
			ngroups++;
			continue;
		}
		if (proto_hostacc_entry(&a, s, len, "MaxHostsPerRequest") == -1)
			goto out;
	}
	req->hosts = a.v;
	req->nhosts = a.n;
	a.v = NULL;
	a.n = 0;
	if (req->nhosts == 0 && ngroups == 0) {
		proto_fail(err, PROTO_E_BAD_REQUEST,
			   "hosts: every host is excluded");
		goto out;
	}
	rc = proto_hosts_unique(req, a.origin, err);
out:
	proto_hostacc_free(&a);
	return rc;
}

static int
proto_parse_user(json_object *root, struct proto_request *req,
		 struct proto_error *err)
{
	struct proto_error uerr;
	json_object *o;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(root, "user", &o))
		return 0;
	if (!json_object_is_type(o, json_type_string))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "user: expected a string");
	s = proto_str(o, &len);
	if (proto_user_check(s, len, &uerr) == -1)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "user: %s",
				  uerr.message);
	return proto_strdup(s, len, &req->user, err);
}

static int
proto_connect_members(json_object *root, const struct proto_limits *lim,
		      struct proto_request *req, struct proto_error *err)
{
	if (proto_parse_hosts(root, lim, req, err) == -1)
		return -1;
	return proto_parse_user(root, req, err);
}

static int
proto_parse_connect(json_object *root, const struct proto_limits *lim,
		    struct proto_request *req, struct proto_error *err)
{
	return proto_connect_members(root, lim, req, err);
}

static int
proto_env_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > PROTO_MAX_ENV_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

static int
proto_parse_env(json_object *root, const struct proto_limits *lim,
		struct proto_request *req, struct proto_error *err)
{
	json_object *e;
	struct json_object_iterator it, end;
	const char *name, *val;
	size_t n, i = 0, nlen, vlen;

	if (!json_object_object_get_ex(root, "env", &e))
		return 0;
	if (!json_object_is_type(e, json_type_object))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "env: expected an object of strings");
	n = (size_t)json_object_object_length(e);
	if (n > lim->max_env)
		return proto_fail(err, PROTO_E_LIMIT,
				  "env: %zu entries exceed MaxEnvEntries (%zu)",
				  n, lim->max_env);
	if (n == 0)
		return 0;
	if ((req->env = calloc(n, sizeof *req->env)) == NULL)
		return proto_fail(err, PROTO_E_INTERNAL, "out of memory");
	it = json_object_iter_begin(e);
	end = json_object_iter_end(e);
	for (; !json_object_iter_equal(&it, &end);
	     json_object_iter_next(&it), i++) {
		json_object *v = json_object_iter_peek_value(&it);

		name = json_object_iter_peek_name(&it);
		nlen = strlen(name);
		if (!proto_env_name_ok(name, nlen))
			return proto_fail(
			    err, PROTO_E_BAD_REQUEST,
			    "env: invalid variable name \"%.*s\" (expected "
			    "[A-Za-z_][A-Za-z0-9_]*, max %d bytes)",
			    PROTO_MSG_NAME, name, PROTO_MAX_ENV_NAME);
		if (!json_object_is_type(v, json_type_string))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "env.%s: expected a string", name);
		val = proto_str(v, &vlen);
		if (vlen > PROTO_MAX_ENV_VALUE)
			return proto_fail(
			    err, PROTO_E_BAD_REQUEST,
			    "env.%s: value too long (max %d bytes)", name,
			    PROTO_MAX_ENV_VALUE);
		if (proto_strdup(name, nlen, &req->env[i].name, err) == -1)
			return -1;
		req->nenv = i + 1;
		if (proto_strdup(val, vlen, &req->env[i].value, err) == -1)
			return -1;
	}
	return 0;
}

/* Seconds to milliseconds, rounding up so a tiny timeout never becomes
 * "none", but absorbing the representation error of decimal fractions
 * (0.001 * 1000 must be 1, not 2). */
static long long
proto_timeout_ms(double t)
{
	double ms = t * 1000.0, r = nearbyint(ms);
	long long v;

	v = fabs(ms - r) < 1e-6 ? (long long)r : (long long)ceil(ms);
	return v < 1 ? 1 : v;
}

/*
 * Optional duration member in seconds (an integer or a fraction), > 0 and
 * <= PROTO_MAX_TIMEOUT_S; *ms is left alone when the member is absent.
 */
static int
proto_get_seconds(json_object *root, const char *key, long long *ms,
		  struct proto_error *err)
{
	json_object *o;
	long long iv;
	double dv;

	if (!json_object_object_get_ex(root, key, &o))
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		if (proto_get_int(o, key, 1, PROTO_MAX_TIMEOUT_S, &iv, err) ==
		    -1)
			return -1;
		*ms = iv * 1000;
		return 0;
	}
	if (!json_object_is_type(o, json_type_double))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "%s: expected a number of seconds", key);
	dv = json_object_get_double(o);
	if (!isfinite(dv) || dv <= 0 || dv > (double)PROTO_MAX_TIMEOUT_S)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "%s: out of range (0 < %s <= %lld seconds)",
				  key, key, PROTO_MAX_TIMEOUT_S);
	*ms = proto_timeout_ms(dv);
	return 0;
}

static int
proto_parse_run(json_object *root, const struct proto_limits *lim,
		struct proto_request *req, struct proto_error *err)
{
	json_object *o;
	const char *s;
	size_t len;
	long dlen;

	if (proto_connect_members(root, lim, req, err) == -1)
		return -1;
	if (!json_object_object_get_ex(root, "command", &o))
		return proto_fail(err, PROTO_E_BAD_REQUEST, "command: missing");
	if (!json_object_is_type(o, json_type_string))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "command: expected a string");
	s = proto_str(o, &len);
	if (len == 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST, "command: empty");
	if (len > PROTO_MAX_COMMAND)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "command: too long (max %u bytes)",
				  PROTO_MAX_COMMAND);
	if (proto_strdup(s, len, &req->command, err) == -1)
		return -1;

	if (proto_get_seconds(root, "timeout", &req->timeout_ms, err) == -1 ||
	    proto_get_seconds(root, "idle_timeout", &req->idle_timeout_ms,
			      err) == -1)
		return -1;

	if (proto_parse_env(root, lim, req, err) == -1)
		return -1;

	if (json_object_object_get_ex(root, "pty", &o)) {
		if (!json_object_is_type(o, json_type_boolean))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "pty: expected true or false");
		req->pty = json_object_get_boolean(o) ? 1 : 0;
	}

	if (json_object_object_get_ex(root, "stdin", &o)) {
		if (!json_object_is_type(o, json_type_string))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "stdin: expected a base64 string");
		s = proto_str(o, &len);
		if ((dlen = proto_b64_decoded_len(s, len)) < 0)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "stdin: invalid base64");
		if ((size_t)dlen > lim->max_stdin)
			return proto_fail(
			    err, PROTO_E_LIMIT,
			    "stdin: %ld bytes exceed MaxStdinBytes "
			    "(%zu)",
			    dlen, lim->max_stdin);
		if ((req->stdin_data = malloc(proto_b64_maxdecoded(len) + 1)) ==
		    NULL)
			return proto_fail(err, PROTO_E_INTERNAL,
					  "out of memory");
		if ((dlen = proto_b64_decode(req->stdin_data, s, len)) < 0)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "stdin: invalid base64");
		req->stdin_len = (size_t)dlen;
	}
	return 0;
}

static int
proto_parse_cancel(json_object *root, const struct proto_limits *lim,
		   struct proto_request *req, struct proto_error *err)
{
	json_object *o;

	if (!json_object_object_get_ex(root, "target", &o))
		return proto_fail(err, PROTO_E_BAD_REQUEST, "target: missing");
	return proto_id_from_json(o, req->target, "target", 0, err);
}

static int
proto_parse_status(json_object *root, const struct proto_limits *lim,
		   struct proto_request *req, struct proto_error *err)
{
	return 0;
}

static int
proto_check_keys(json_object *root, enum proto_op op, struct proto_error *err)
{
	size_t i;

	json_object_object_foreach(root, key, val)
	{
		(void)val;
		for (i = 0; i < sizeof proto_keys / sizeof proto_keys[0]; i++) {
			if (strcmp(proto_keys[i].name, key) == 0)
				break;
		}
		if (i == sizeof proto_keys / sizeof proto_keys[0])
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "unknown key \"%.*s\"",
					  PROTO_MSG_NAME, key);
		if ((proto_keys[i].ops & OPF(op)) == 0)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "%s: not allowed in %s", key,
					  proto_ops[op].name);
	}
	return 0;
}

/* "v": 1 or an error; other small positive integers are a version this
 * codec does not speak. */
static int
proto_check_v(json_object *root, struct proto_error *err)
{
	json_object *o;
	long long v;

	if (!json_object_object_get_ex(root, "v", &o))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "v: missing (expected %d)", PROTO_VERSION);
	if (proto_get_int(o, "v", 0, INT_MAX, &v, err) == -1)
		return -1;
	if (v != PROTO_VERSION)
		return proto_fail(
		    err, PROTO_E_UNSUPPORTED_VERSION,
		    "v: version %lld not supported (supported: %d)", v,
		    PROTO_VERSION);
	return 0;
}

void
proto_request_free(struct proto_request *req)
{
	size_t i;

	if (req == NULL)
		return;
	free(req->client);
	for (i = 0; i < req->nhosts; i++)
		free(req->hosts[i]);
	free(req->hosts);
	for (i = 0; i < req->nexclude; i++)
		free(req->exclude[i]);
	free(req->exclude);
	free(req->user);
	free(req->command);
	for (i = 0; i < req->nenv; i++) {
		free(req->env[i].name);
		free(req->env[i].value);
	}
	free(req->env);
	free(req->stdin_data);
	free(req);
}

int
proto_request_parse(const char *line, size_t len,
		    const struct proto_limits *limits,
		    struct proto_request **out, struct proto_error *err)
{
	struct proto_error dummy;
	struct proto_limits lim;
	struct proto_request *req = NULL;
	json_object *root = NULL, *o;
	const char *s;
	size_t slen;
	int jr, op;

	if (err == NULL)
		err = &dummy;
	proto_error_clear(err);
	*out = NULL;
	proto_limits_default(&lim);
	if (limits != NULL) {
		if (limits->max_line != 0)
			lim.max_line = limits->max_line;
		if (limits->max_hosts != 0)
			lim.max_hosts = limits->max_hosts;
		lim.max_stdin = limits->max_stdin;
		if (limits->max_env != 0)
			lim.max_env = limits->max_env;
		if (limits->max_depth > 0)
			lim.max_depth = limits->max_depth;
	}
	if (lim.max_line > PROTO_MAX_LINE)
		lim.max_line = PROTO_MAX_LINE;
	if (lim.max_env > PROTO_MAX_ENV)
		lim.max_env = PROTO_MAX_ENV;
	if (lim.max_depth > PROTO_MAX_DEPTH)
		lim.max_depth = PROTO_MAX_DEPTH;
	if (len > lim.max_line)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "line too long (max %zu bytes)",
				  lim.max_line);

	if ((jr = proto_json_parse(line, len, lim.max_depth, &root, err)) ==
	    PROTO_JSON_BAD)
		return -1;
	if (jr == PROTO_JSON_DUP_ID)
		goto fail;
	if (!json_object_object_get_ex(root, "id", &o)) {
		if (jr == 0)
			proto_fail(err, PROTO_E_BAD_REQUEST, "id: missing");
		goto fail;
	}
	if (jr == 0) {
		if (proto_id_from_json(o, err->id, "id", 0, err) == -1) {
			err->id[0] = '\0';
			goto fail;
		}
	} else {
		/* Keep the duplicate-key message, name the id if valid. */
		struct proto_error iderr;

		if (proto_id_from_json(o, err->id, "id", 0, &iderr) == -1)
			err->id[0] = '\0';
		goto fail;
	}
	if (proto_check_v(root, err) == -1)
		goto fail;

	if (!json_object_object_get_ex(root, "op", &o)) {
		proto_fail(err, PROTO_E_BAD_REQUEST, "op: missing");
		goto fail;
	}
	if (!json_object_is_type(o, json_type_string)) {
		proto_fail(err, PROTO_E_BAD_REQUEST, "op: expected a string");
		goto fail;
	}
	s = proto_str(o, &slen);
	for (op = 0; op < PROTO_OP_COUNT; op++) {
		if (strcmp(proto_ops[op].name, s) == 0)
			break;
	}
	if (op == PROTO_OP_COUNT) {
		proto_fail(err, PROTO_E_BAD_REQUEST,
			   "op: unknown operation \"%.*s\"", PROTO_MSG_NAME, s);
		goto fail;
	}
	if (proto_check_keys(root, (enum proto_op)op, err) == -1)
		goto fail;

	if ((req = calloc(1, sizeof *req)) == NULL) {
		proto_fail(err, PROTO_E_INTERNAL, "out of memory");
		goto fail;
	}
	req->op = (enum proto_op)op;
	memcpy(req->id, err->id, sizeof req->id);
	if (proto_ops[op].parse(root, &lim, req, err) == -1)
		goto fail;
	json_object_put(root);
	*out = req;
	return 0;
fail:
	proto_request_free(req);
	json_object_put(root);
	return -1;
}

static void
enc_hosts(struct enc *e, const struct proto_request *req)
{
	size_t i;

	enc_lit(e, ",\"hosts\":[");
	for (i = 0; i < req->nhosts; i++) {
		if (i > 0)
			enc_lit(e, ",");
		enc_str(e, req->hosts[i], strlen(req->hosts[i]), 1);
	}
	enc_lit(e, "]");
	if (req->nexclude > 0) {
		enc_lit(e, ",\"exclude\":[");
		for (i = 0; i < req->nexclude; i++) {
			if (i > 0)
				enc_lit(e, ",");
			enc_str(e, req->exclude[i], strlen(req->exclude[i]), 1);
		}
		enc_lit(e, "]");
	}
	if (req->user != NULL) {
		enc_key(e, "user");
		enc_str(e, req->user, strlen(req->user), 1);
	}
}

/* A duration in seconds with millisecond precision; nothing if ms <= 0. */
static void
enc_seconds(struct enc *e, const char *key, long long ms)
{
	char frac[8];

	if (ms <= 0)
		return;
	enc_key(e, key);
	enc_i64(e, ms / 1000);
	if (ms % 1000 != 0) {
		snprintf(frac, sizeof frac, ".%03lld", ms % 1000);
		enc_raw(e, frac, strlen(frac));
	}
}

int
proto_request_encode(struct proto_buf *b, const struct proto_request *req)
{
	struct enc e;
	size_t i;
	int v, vmin, vmax;
	char *b64;

	if ((unsigned)req->op >= PROTO_OP_COUNT || req->id[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	enc_begin(&e, b);
	enc_head(&e, req->id, "op", proto_ops[req->op].name);
	switch (req->op) {
	case PROTO_OP_HELLO:
		vmin = req->version_min;
		vmax = req->version_max;
		if (vmin > 0 && vmax >= vmin) {
			enc_lit(&e, ",\"versions\":[");
			if (vmax - vmin >= PROTO_MAX_VERSIONS) {
				/* The list form is bounded: send the ends. */
				enc_i64(&e, vmin);
				enc_lit(&e, ",");
				enc_i64(&e, vmax);
			} else {
				for (v = vmin; v <= vmax; v++) {
					if (v > vmin)
						enc_lit(&e, ",");
					enc_i64(&e, v);
				}
			}
			enc_lit(&e, "]");
		}
		if (req->client != NULL) {
			enc_key(&e, "client");
			enc_str(&e, req->client, strlen(req->client), 1);
		}
		break;
	case PROTO_OP_RUN:
		enc_hosts(&e, req);
		enc_key(&e, "command");
		enc_str(&e, req->command != NULL ? req->command : "",
			req->command != NULL ? strlen(req->command) : 0, 1);
		enc_seconds(&e, "timeout", req->timeout_ms);
		enc_seconds(&e, "idle_timeout", req->idle_timeout_ms);
		if (req->nenv > 0) {
			enc_lit(&e, ",\"env\":{");
			for (i = 0; i < req->nenv; i++) {
				if (i > 0)
					enc_lit(&e, ",");
				enc_str(&e, req->env[i].name,
					strlen(req->env[i].name), 1);
				enc_lit(&e, ":");
				enc_str(&e, req->env[i].value,
					strlen(req->env[i].value), 1);
			}
			enc_lit(&e, "}");
		}
		if (req->pty)
			enc_lit(&e, ",\"pty\":true");
		if (req->stdin_data != NULL) {
			if ((b64 = malloc(proto_b64_len(req->stdin_len) + 1)) ==
			    NULL) {
				e.err = ENOMEM;
				break;
			}
			proto_b64_encode(b64, req->stdin_data, req->stdin_len);
			enc_key(&e, "stdin");
			enc_lit(&e, "\"");
			enc_raw(&e, b64, strlen(b64));
			enc_lit(&e, "\"");
			free(b64);
		}
		break;
	case PROTO_OP_CONNECT:
	case PROTO_OP_DISCONNECT:
		enc_hosts(&e, req);
		break;
	case PROTO_OP_CANCEL:
		enc_key(&e, "target");
		enc_raw(&e, req->target, strlen(req->target));
		break;
	case PROTO_OP_STATUS:
	case PROTO_OP_COUNT:
		break;
	}
	enc_lit(&e, "}\n");
	return enc_end(&e);
}

/* ---- Events: encoding ---- */

int
proto_ev_hello(struct proto_buf *b, const char *id, int version,
	       const char *server, const struct proto_limits *lim)
{
	struct proto_limits dl;
	struct enc e;
	size_t max_env;
	int max_depth;

	if (lim == NULL) {
		proto_limits_default(&dl);
		lim = &dl;
	}
	/* Announce what proto_request_parse enforces for these limits. */
	max_env = lim->max_env == 0 || lim->max_env > PROTO_MAX_ENV
		      ? PROTO_MAX_ENV
		      : lim->max_env;
	max_depth = lim->max_depth <= 0 || lim->max_depth > PROTO_MAX_DEPTH
			? PROTO_MAX_DEPTH
			: lim->max_depth;
	enc_begin(&e, b);
	enc_head(&e, id, "event", "hello");
	enc_key(&e, "version");
	enc_i64(&e, version);
	enc_key(&e, "server");
	enc_cstr(&e, server != NULL ? server : "");
	enc_lit(&e, ",\"limits\":{\"max_line\":");
	enc_u64(&e, lim->max_line);
	enc_lit(&e, ",\"max_hosts\":");
	enc_u64(&e, lim->max_hosts);
	enc_lit(&e, ",\"max_stdin\":");
	enc_u64(&e, lim->max_stdin);
	enc_lit(&e, ",\"max_env\":");
	enc_u64(&e, max_env);
	enc_lit(&e, ",\"max_depth\":");
	enc_i64(&e, max_depth);
	enc_lit(&e, "}}\n");
	return enc_end(&e);
}

int
proto_ev_start(struct proto_buf *b, const char *id, const char *host)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "start");
	enc_host(&e, host);
	enc_lit(&e, "}\n");
	return enc_end(&e);
}

int
proto_ev_output(struct proto_buf *b, const char *id, const char *host,
		int is_stderr, const void *data, size_t len)
{
	struct enc e;
	size_t n = proto_b64_len(len);

	enc_begin(&e, b);
	enc_head(&e, id, "event", is_stderr ? "stderr" : "stdout");
	enc_host(&e, host);
	enc_lit(&e, ",\"data\":\"");
	/* Encode in place: one reservation, no temporary copy. */
	if (e.err == 0 && proto_buf_reserve(b, n + 4) == -1)
		e.err = ENOMEM;
	if (e.err == 0) {
		proto_b64_encode(b->data + b->len, data, len);
		b->len += n;
	}
	enc_lit(&e, "\"}\n");
	return enc_end(&e);
}

int
proto_ev_exit(struct proto_buf *b, const char *id, const char *host, int status,
	      const char *signal, long long duration_ms)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "exit");
	enc_host(&e, host);
	if (signal != NULL) {
		enc_key(&e, "signal");
		enc_cstr(&e, signal);
	} else {
		enc_key(&e, "status");
		enc_i64(&e, status);
	}
	if (duration_ms >= 0) {
		enc_key(&e, "duration_ms");
		enc_i64(&e, duration_ms);
	}
	enc_lit(&e, "}\n");
	return enc_end(&e);
}

int
proto_ev_error(struct proto_buf *b, const char *id, const char *host,
	       enum proto_code code, const char *message, long long duration_ms)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "error");
	enc_host(&e, host);
	enc_lit(&e, ",\"code\":\"");
	enc_raw(&e, proto_code_name(code), strlen(proto_code_name(code)));
	enc_lit(&e, "\",\"message\":");
	enc_message(&e, message != NULL ? message : "");
	if (duration_ms >= 0) {
		enc_key(&e, "duration_ms");
		enc_i64(&e, duration_ms);
	}
	enc_lit(&e, "}\n");
	return enc_end(&e);
}

int
proto_ev_connected(struct proto_buf *b, const char *id, const char *host,
		   int sessions, long long duration_ms)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "connected");
	enc_host(&e, host);
	enc_key(&e, "sessions");
	enc_i64(&e, sessions);
	enc_key(&e, "duration_ms");
	enc_i64(&e, duration_ms < 0 ? 0 : duration_ms);
	enc_lit(&e, "}\n");
	return enc_end(&e);
}

int
proto_ev_disconnected(struct proto_buf *b, const char *id, const char *host,
		      int sessions, int draining, long long duration_ms)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "disconnected");
	enc_host(&e, host);
	enc_key(&e, "sessions");
	enc_i64(&e, sessions < 0 ? 0 : sessions);
	enc_key(&e, "draining");
	enc_i64(&e, draining < 0 ? 0 : draining);
	enc_key(&e, "duration_ms");
	enc_i64(&e, duration_ms < 0 ? 0 : duration_ms);
	enc_lit(&e, "}\n");
	return enc_end(&e);
}

int
proto_ev_done(struct proto_buf *b, const char *id, const struct proto_done *d)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "done");
	enc_key(&e, "hosts");
	enc_u64(&e, d->hosts);
	enc_key(&e, "ok");
	enc_u64(&e, d->ok);
	enc_key(&e, "failed");
	enc_u64(&e, d->failed);
	enc_key(&e, "errors");
	enc_u64(&e, d->errors);
	enc_key(&e, "duration_ms");
	enc_i64(&e, d->duration_ms < 0 ? 0 : d->duration_ms);
	enc_lit(&e, "}\n");
	return enc_end(&e);
}

int
proto_ev_cancel(struct proto_buf *b, const char *id, const char *target,
		int found)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "cancel");
	enc_key(&e, "target");
	if (target == NULL || *target == '\0')
		enc_lit(&e, "null");
	else
		enc_raw(&e, target, strlen(target));
	if (found)
		enc_lit(&e, ",\"found\":true}\n");
	else
		enc_lit(&e, ",\"found\":false}\n");
	return enc_end(&e);
}

/* A millisecond count that may be unknown: negative is JSON null. */
static void
enc_opt_ms(struct enc *e, long long ms)
{
	if (ms < 0)
		enc_lit(e, "null");
	else
		enc_i64(e, ms);
}

int
proto_status_host(struct proto_buf *b, const struct proto_status_host *h)
{
	struct enc e;

	enc_begin(&e, b);
	enc_lit(&e, "{\"host\":");
	enc_cstr(&e, h->host != NULL ? h->host : "");
	enc_lit(&e, ",\"state\":");
	enc_cstr(&e, h->state != NULL ? h->state : "");
	enc_key(&e, "worker");
	enc_i64(&e, h->worker);
	enc_key(&e, "sessions");
	enc_i64(&e, h->sessions);
	enc_key(&e, "connecting");
	enc_i64(&e, h->connecting);
	enc_key(&e, "channels_busy");
	enc_i64(&e, h->channels_busy);
	enc_key(&e, "channels_max");
	enc_i64(&e, h->channels_max);
	enc_key(&e, "queued");
	enc_i64(&e, h->queued);
	enc_key(&e, "jobs");
	enc_u64(&e, h->jobs);
	enc_key(&e, "connects");
	enc_u64(&e, h->connects);
	enc_key(&e, "failures");
	enc_u64(&e, h->failures);
	enc_key(&e, "reconnects");
	enc_u64(&e, h->reconnects);
	enc_key(&e, "lost");
	enc_u64(&e, h->lost);
	enc_key(&e, "rtt_ms");
	enc_opt_ms(&e, h->rtt_ms);
	enc_key(&e, "retry_in_ms");
	enc_opt_ms(&e, h->retry_in_ms);
	enc_key(&e, "last_error");
	if (h->last_error != NULL)
		enc_message(&e, h->last_error);
	else
		enc_lit(&e, "null");
	enc_lit(&e, "}");
	return enc_end(&e);
}

int
proto_status_worker(struct proto_buf *b, const struct proto_status_worker *w)
{
	struct enc e;

	enc_begin(&e, b);
	enc_lit(&e, "{\"index\":");
	enc_i64(&e, w->index);
	enc_key(&e, "hosts");
	enc_i64(&e, w->hosts);
	enc_key(&e, "sessions");
	enc_i64(&e, w->sessions);
	enc_key(&e, "jobs");
	enc_i64(&e, w->jobs);
	enc_key(&e, "heartbeat_age_ms");
	enc_i64(&e, w->heartbeat_age_ms);
	if (w->stuck)
		enc_lit(&e, ",\"stuck\":true}");
	else
		enc_lit(&e, ",\"stuck\":false}");
	return enc_end(&e);
}

int
proto_ev_status(struct proto_buf *b, const char *id, const char *hosts_json,
		const char *workers_json)
{
	struct enc e;

	enc_begin(&e, b);
	enc_head(&e, id, "event", "status");
	enc_lit(&e, ",\"workers\":[");
	if (workers_json != NULL)
		enc_raw(&e, workers_json, strlen(workers_json));
	enc_lit(&e, "],\"hosts\":[");
	if (hosts_json != NULL)
		enc_raw(&e, hosts_json, strlen(hosts_json));
	enc_lit(&e, "]}\n");
	return enc_end(&e);
}

/* ---- Events: decoding (client side) ---- */

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
proto_ev_str(json_object *root, const char *key, int required, char **out,
	     struct proto_error *err)
{
	json_object *o;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(root, key, &o)) {
		if (required)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "%s: missing", key);
		return 0;
	}
	if (!json_object_is_type(o, json_type_string))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "%s: expected a string", key);
	s = proto_str(o, &len);
	if (proto_strdup(s, len, out, err) == -1)
		return -1;
	return 1;
}

/* Integer member; 0 absent (and not required), 1 set, -1 error. */
static int
proto_ev_int(json_object *root, const char *key, int required, long long min,
	     long long max, long long *out, struct proto_error *err)
{
	json_object *o;

	if (!json_object_object_get_ex(root, key, &o)) {
		if (required)
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "%s: missing", key);
		return 0;
	}
	if (proto_get_int(o, key, min, max, out, err) == -1)
		return -1;
	return 1;
}

static int
proto_ev_count(json_object *root, const char *key, size_t *out,
	       struct proto_error *err)
{
	long long v;

	if (proto_ev_int(root, key, 1, 0, PROTO_MAX_SAFE_INT, &v, err) == -1)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int
proto_ev_limits(json_object *root, struct proto_limits *lim,
		struct proto_error *err)
{
	json_object *o;
	long long v;

	proto_limits_default(lim);
	if (!json_object_object_get_ex(root, "limits", &o))
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "limits: expected an object");
	if (json_object_object_get_ex(o, "max_line", NULL) &&
	    proto_ev_count(o, "max_line", &lim->max_line, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_hosts", NULL) &&
	    proto_ev_count(o, "max_hosts", &lim->max_hosts, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_stdin", NULL) &&
	    proto_ev_count(o, "max_stdin", &lim->max_stdin, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_env", NULL) &&
	    proto_ev_count(o, "max_env", &lim->max_env, err) == -1)
		return -1;
	if (json_object_object_get_ex(o, "max_depth", NULL)) {
		if (proto_ev_int(o, "max_depth", 1, 1, PROTO_MAX_DEPTH, &v,
				 err) == -1)
			return -1;
		lim->max_depth = (int)v;
	}
	return 0;
}

/* An output event's base64 value when it was split off the line (see
 * proto_event_parse); the line itself then holds an empty string. */
struct proto_ev_b64 {
	const char *text;
	size_t len;
};

static int
proto_ev_data(json_object *root, struct proto_event *ev,
	      const struct proto_ev_b64 *split, struct proto_error *err)
{
	json_object *o;
	const char *s;
	size_t len;
	long n;

	if (!json_object_object_get_ex(root, "data", &o))
		return proto_fail(err, PROTO_E_BAD_REQUEST, "data: missing");
	if (!json_object_is_type(o, json_type_string))
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "data: expected a base64 string");
	s = proto_str(o, &len);
	if (split != NULL) {
		s = split->text;
		len = split->len;
	}
	if ((ev->data = malloc(proto_b64_maxdecoded(len) + 1)) == NULL)
		return proto_fail(err, PROTO_E_INTERNAL, "out of memory");
	if ((n = proto_b64_decode(ev->data, s, len)) < 0)
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "data: invalid base64");
	ev->len = (size_t)n;
	return 0;
}

static int
proto_ev_members(json_object *root, struct proto_event *ev, const char *line,
		 size_t len, const struct proto_ev_b64 *split,
		 struct proto_error *err)
{
	json_object *o;
	char *code = NULL;
	long long v;
	int r;

	switch (ev->type) {
	case PROTO_EV_HELLO:
		if (proto_ev_int(root, "version", 1, 0, INT_MAX, &v, err) == -1)
			return -1;
		ev->version = (int)v;
		if (proto_ev_str(root, "server", 0, &ev->server, err) == -1)
			return -1;
		return proto_ev_limits(root, &ev->limits, err);
	case PROTO_EV_START:
		return proto_ev_str(root, "host", 1, &ev->host, err) == -1 ? -1
									   : 0;
	case PROTO_EV_STDOUT:
	case PROTO_EV_STDERR:
		if (proto_ev_str(root, "host", 1, &ev->host, err) == -1)
			return -1;
		return proto_ev_data(root, ev, split, err);
	case PROTO_EV_EXIT:
		if (proto_ev_str(root, "host", 1, &ev->host, err) == -1)
			return -1;
		if ((r = proto_ev_str(root, "signal", 0, &ev->signal, err)) ==
		    -1)
			return -1;
		if (r == 0) {
			if (proto_ev_int(root, "status", 1, INT_MIN, INT_MAX,
					 &v, err) == -1)
				return -1;
			ev->status = (int)v;
		}
		break;
	case PROTO_EV_ERROR:
		if (proto_ev_str(root, "host", 0, &ev->host, err) == -1 ||
		    proto_ev_str(root, "code", 1, &code, err) == -1)
			return -1;
		/* Codes from a newer daemon are reported as internal. */
		ev->code = proto_code_from_name(code);
		if (ev->code == PROTO_E_NONE)
			ev->code = PROTO_E_INTERNAL;
		free(code);
		if (proto_ev_str(root, "message", 0, &ev->message, err) == -1)
			return -1;
		if (ev->message == NULL &&
		    proto_strdup("", 0, &ev->message, err) == -1)
			return -1;
		break;
	case PROTO_EV_CONNECTED:
		if (proto_ev_str(root, "host", 1, &ev->host, err) == -1)
			return -1;
		if ((r = proto_ev_int(root, "sessions", 0, 0, INT_MAX, &v,
				      err)) == -1)
			return -1;
		if (r == 1)
			ev->sessions = (int)v;
		break;
	case PROTO_EV_DISCONNECTED:
		if (proto_ev_str(root, "host", 1, &ev->host, err) == -1)
			return -1;
		if ((r = proto_ev_int(root, "sessions", 0, 0, INT_MAX, &v,
				      err)) == -1)
			return -1;
		if (r == 1)
			ev->sessions = (int)v;
		if ((r = proto_ev_int(root, "draining", 0, 0, INT_MAX, &v,
				      err)) == -1)
			return -1;
		if (r == 1)
			ev->draining = (int)v;
		break;
	case PROTO_EV_DONE:
		if (proto_ev_count(root, "hosts", &ev->done.hosts, err) == -1 ||
		    proto_ev_count(root, "ok", &ev->done.ok, err) == -1 ||
		    proto_ev_count(root, "failed", &ev->done.failed, err) ==
			-1 ||
		    proto_ev_count(root, "errors", &ev->done.errors, err) == -1)
			return -1;
		break;
	case PROTO_EV_CANCEL:
		if (!json_object_object_get_ex(root, "target", &o))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "target: missing");
		if (proto_id_from_json(o, ev->target, "target", 1, err) == -1)
			return -1;
		if (!json_object_object_get_ex(root, "found", &o) ||
		    !json_object_is_type(o, json_type_boolean))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "found: expected true or false");
		ev->found = json_object_get_boolean(o) ? 1 : 0;
		return 0;
	case PROTO_EV_STATUS:
		if (!json_object_object_get_ex(root, "workers", &o) ||
		    !json_object_is_type(o, json_type_array))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "workers: expected an array");
		if (!json_object_object_get_ex(root, "hosts", &o) ||
		    !json_object_is_type(o, json_type_array))
			return proto_fail(err, PROTO_E_BAD_REQUEST,
					  "hosts: expected an array");
		return proto_strdup(line, len, &ev->json, err);
	case PROTO_EV_COUNT:
		break;
	}
	if (proto_ev_int(root, "duration_ms", 0, 0, PROTO_MAX_SAFE_INT, &v,
			 err) == -1)
		return -1;
	if (json_object_object_get_ex(root, "duration_ms", NULL))
		ev->duration_ms = v;
	return 0;
}

/* Decodes one event line (length already checked, newline removed). */
static int
proto_event_decode(const char *line, size_t len,
		   const struct proto_ev_b64 *split, struct proto_event **out,
		   struct proto_error *err)
{
	struct proto_event *ev = NULL;
	json_object *root = NULL, *o;
	const char *name;
	size_t nlen;
	int t;

	*out = NULL;
	if (proto_json_parse(line, len, PROTO_MAX_DEPTH, &root, err) != 0)
		goto fail;
	if ((ev = calloc(1, sizeof *ev)) == NULL) {
		proto_fail(err, PROTO_E_INTERNAL, "out of memory");
		goto fail;
	}
	ev->duration_ms = -1;
	if (!json_object_object_get_ex(root, "id", &o)) {
		proto_fail(err, PROTO_E_BAD_REQUEST, "id: missing");
		goto fail;
	}
	if (proto_id_from_json(o, ev->id, "id", 1, err) == -1)
		goto fail;
	if (strcmp(ev->id, "null") != 0)
		memcpy(err->id, ev->id, sizeof err->id);
	if (proto_check_v(root, err) == -1)
		goto fail;
	if (!json_object_object_get_ex(root, "event", &o) ||
	    !json_object_is_type(o, json_type_string)) {
		proto_fail(err, PROTO_E_BAD_REQUEST,
			   "event: expected a string");
		goto fail;
	}
	name = proto_str(o, &nlen);
	for (t = 0; t < PROTO_EV_COUNT; t++) {
		if (strcmp(proto_event_names[t], name) == 0)
			break;
	}
	if (t == PROTO_EV_COUNT) {
		proto_fail(err, PROTO_E_BAD_REQUEST,
			   "event: unknown event \"%.*s\"", PROTO_MSG_NAME,
			   name);
		goto fail;
	}
	ev->type = (enum proto_event_type)t;
	ev->status = -1;
	if (proto_ev_members(root, ev, line, len, split, err) == -1)
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
proto_event_parse_split(const char *line, size_t len,
			struct proto_event **out)
{
	static const char key[] = ",\"data\":\"";
	struct proto_error ignored;
	struct proto_ev_b64 split;
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
		return proto_fail(err, PROTO_E_BAD_REQUEST,
				  "line too long (max %u bytes)",
				  PROTO_MAX_LINE);
	if (proto_event_parse_split(line, len, out) == 0)
		return 0;
	return proto_event_decode(line, len, NULL, out, err);
}
