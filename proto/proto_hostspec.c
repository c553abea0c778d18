/* SPDX-License-Identifier: ISC */
/*
 * Host specs: parsing and checking "[user@]host[:port]" (with bracketed or
 * bare IPv6 addresses), and matching a spec against an exclusion list.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

int
proto_hostspec_check_user(const char *u, size_t n, struct proto_error *err)
{
	size_t i;

	if (n == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "empty user name");
	if (n > PROTO_MAX_USER)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "user name too long (max %d)",
				       PROTO_MAX_USER);
	if (u[0] == '-')
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "user name must not start with '-'");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c == 0x7f)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "user name contains a space or control character");
	}
	if (!proto_utf8_valid(u, n))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "user name is not valid UTF-8");
	return 0;
}

static int
proto_hostspec_check_ipv6(const char *h, size_t n, struct proto_error *err)
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
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "invalid IPv6 address \"%s\"", tmp);
	if (pct == NULL)
		return 0;
	if (alen + 1 == n)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "empty IPv6 zone after '%%'");
	for (i = alen + 1; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "invalid IPv6 zone");
	}
	return 0;
}

static int
proto_hostspec_check_host(const char *h, size_t n, struct proto_error *err)
{
	size_t i;
	int colons = 0;

	if (n == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "empty host name");
	if (n > PROTO_MAX_HOST)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "host name too long (max %d)",
				       PROTO_MAX_HOST);
	if (h[0] == '-')
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "host name must not start with '-'");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= 0x20 || c == 0x7f)
			return proto_error_set(
			    err, PROTO_E_BAD_REQUEST,
			    "host name contains a space or control character");
		if (c == '/' || c == '@' || c == '[' || c == ']')
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "host name contains '%c'", c);
		if (c == ':')
			colons++;
	}
	if (colons > 0)
		return proto_hostspec_check_ipv6(h, n, err);
	return 0;
}

static int
proto_hostspec_parse_port(const char *p, size_t n, int *port,
			  struct proto_error *err)
{
	size_t i;
	long v = 0;

	if (n == 0)
		return proto_error_set(err, PROTO_E_BAD_REQUEST, "empty port");
	if (n > 5)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "port out of range (1..65535)");
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "port is not a number");
		v = v * 10 + (p[i] - '0');
	}
	if (v < 1 || v > 65535)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
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
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "empty host spec");
	len = strlen(spec);
	if (len > PROTO_MAX_HOSTSPEC)
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "host spec too long (max %d)",
				       PROTO_MAX_HOSTSPEC);
	if (!proto_utf8_valid(spec, len))
		return proto_error_set(err, PROTO_E_BAD_REQUEST,
				       "host spec is not valid UTF-8");
	end = spec + len;
	h = spec;
	/* The last '@' splits, as in ssh(1): user names may contain '@'. */
	if ((at = strrchr(spec, '@')) != NULL) {
		if (proto_hostspec_check_user(spec, at - spec, err) == -1)
			return -1;
		memcpy(hs->user, spec, at - spec);
		hs->user[at - spec] = '\0';
		h = at + 1;
	}
	if (*h == '[') {
		if ((close = memchr(h, ']', end - h)) == NULL)
			return proto_error_set(err, PROTO_E_BAD_REQUEST,
					       "missing ']' in host spec");
		hstart = h + 1;
		hend = close;
		if (close + 1 < end) {
			if (close[1] != ':')
				return proto_error_set(
				    err, PROTO_E_BAD_REQUEST,
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
	if (proto_hostspec_check_host(hstart, hend - hstart, err) == -1)
		return -1;
	memcpy(hs->host, hstart, hend - hstart);
	hs->host[hend - hstart] = '\0';
	if (port != NULL &&
	    proto_hostspec_parse_port(port, end - port, &hs->port, err) == -1)
		return -1;
	return 0;
}

/* fnmatch(3) for the globs the compiled matcher does not take. */
static int
proto_hostspec_excluded_fnmatch(const char *spec, const char *host,
				char *const *exclude, size_t nexclude)
{
	size_t i;

	for (i = 0; i < nexclude; i++) {
		if (strpbrk(exclude[i], "*?") != NULL) {
			if (fnmatch(exclude[i], spec, 0) == 0 ||
			    fnmatch(exclude[i], host, 0) == 0)
				return 1;
		} else if (strcmp(exclude[i], spec) == 0 ||
			   strcmp(exclude[i], host) == 0)
			return 1;
	}
	return 0;
}

int
proto_hostspec_excluded(const char *spec, char *const *exclude, size_t nexclude)
{
	struct proto_exclude *x;
	struct proto_hostspec hs;
	int r;

	if (nexclude == 0)
		return 0;
	if (proto_exclude_new(exclude, nexclude, SIZE_MAX, &x, NULL) == 0) {
		r = proto_exclude_match(x, spec);
		proto_exclude_free(x);
		return r == 1;
	}
	return proto_hostspec_excluded_fnmatch(
	    spec, proto_hostspec_parse(spec, &hs, NULL) == 0 ? hs.host : spec,
	    exclude, nexclude);
}
