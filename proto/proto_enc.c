/* SPDX-License-Identifier: ISC */
/*
 * The encoding primitives shared by request and event encoders: a sticky
 * error over a struct proto_buf, integers, JSON strings (escaped, and
 * either strict or repaired UTF-8), messages and the common line head.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

void
proto_enc_begin(struct proto_enc *e, struct proto_buf *b)
{
	e->b = b;
	e->start = b->len;
	e->err = 0;
}

int
proto_enc_end(struct proto_enc *e)
{
	if (e->err == 0)
		return 0;
	e->b->len = e->start;
	if (e->b->data != NULL)
		e->b->data[e->start] = '\0';
	errno = e->err;
	return -1;
}

void
proto_enc_raw(struct proto_enc *e, const void *p, size_t n)
{
	if (e->err != 0)
		return;
	if (proto_buf_append(e->b, p, n) == -1)
		e->err = ENOMEM;
}

void
proto_enc_u64(struct proto_enc *e, unsigned long long v)
{
	char tmp[24], *p = tmp + sizeof tmp;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	proto_enc_raw(e, p, (size_t)(tmp + sizeof tmp - p));
}

void
proto_enc_i64(struct proto_enc *e, long long v)
{
	if (v < 0) {
		proto_enc_lit(e, "-");
		proto_enc_u64(e, 0ULL - (unsigned long long)v);
	} else
		proto_enc_u64(e, (unsigned long long)v);
}

/*
 * A quoted JSON string.  Invalid UTF-8 becomes U+FFFD (one per bad byte)
 * unless strict, where it fails the encoding with EINVAL instead: requests
 * must not be silently altered, events must always be valid JSON.
 */
void
proto_enc_str(struct proto_enc *e, const char *s, size_t n, int strict)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	const unsigned char *run = p;
	char esc[6];
	size_t l;

	proto_enc_lit(e, "\"");
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
		proto_enc_raw(e, run, p - run);
		if (c >= 0x80) {
			if (strict && e->err == 0)
				e->err = EINVAL;
			proto_enc_lit(e, "\xef\xbf\xbd");
		} else {
			esc[0] = '\\';
			switch (c) {
			case '"':
			case '\\':
				esc[1] = (char)c;
				proto_enc_raw(e, esc, 2);
				break;
			case '\n':
				proto_enc_lit(e, "\\n");
				break;
			case '\r':
				proto_enc_lit(e, "\\r");
				break;
			case '\t':
				proto_enc_lit(e, "\\t");
				break;
			case '\b':
				proto_enc_lit(e, "\\b");
				break;
			case '\f':
				proto_enc_lit(e, "\\f");
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				proto_enc_raw(e, esc, 6);
				break;
			}
		}
		run = ++p;
	}
	proto_enc_raw(e, run, p - run);
	proto_enc_lit(e, "\"");
}

void
proto_enc_cstr(struct proto_enc *e, const char *s)
{
	proto_enc_str(e, s, strlen(s), 0);
}

/* A message, cut to PROTO_MAX_MESSAGE - 1 bytes on a character boundary. */
void
proto_enc_message(struct proto_enc *e, const char *s)
{
	size_t n = strlen(s);

	if (n >= PROTO_MAX_MESSAGE) {
		n = PROTO_MAX_MESSAGE - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	proto_enc_str(e, s, n, 0);
}

/* {"v":1,"id":<id>,"event":"<name>" */
void
proto_enc_head(struct proto_enc *e, const char *id, const char *key,
	       const char *name)
{
	proto_enc_lit(e, "{\"v\":1,\"id\":");
	if (id == NULL || *id == '\0')
		proto_enc_lit(e, "null");
	else
		proto_enc_raw(e, id, strlen(id));
	proto_enc_lit(e, ",\"");
	proto_enc_raw(e, key, strlen(key));
	proto_enc_lit(e, "\":\"");
	proto_enc_raw(e, name, strlen(name));
	proto_enc_lit(e, "\"");
}

void
proto_enc_key(struct proto_enc *e, const char *key)
{
	proto_enc_lit(e, ",\"");
	proto_enc_raw(e, key, strlen(key));
	proto_enc_lit(e, "\":");
}
