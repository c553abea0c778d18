/* SPDX-License-Identifier: ISC */
/*
 * UTF-8 validation for the codec: the length of one well-formed sequence
 * (no overlongs, surrogates or code points above U+10FFFF) and the check of
 * a whole string.
 */
#include "proto.h"
#include "proto_int.h"

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0. */
size_t
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

int
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
