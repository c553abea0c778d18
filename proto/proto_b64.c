/* SPDX-License-Identifier: ISC */
/*
 * Base64 (RFC 4648, standard alphabet, padded) for the wire codec.  Every
 * byte of command output crosses the socket as base64, so this is the
 * codec's hot loop: a table-driven scalar coder, and on x86-64 processors
 * with AVX2 a vector coder that handles 24 input bytes (32 characters) per
 * step and leaves the tail and every malformed block to the scalar code.
 * Both produce identical output and accept exactly the same inputs; the
 * tests compare them on every length and on every corrupted position.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define PROTO_B64_AVX2 1
#include <immintrin.h>
#endif

#define PROTO_B64_BAD 0xff /* decode table: not in the alphabet */

static const char proto_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Character to 6-bit value; PROTO_B64_BAD elsewhere (including '='). */
/* clang-format off */
#define B64_X PROTO_B64_BAD
#define B64_X16 B64_X, B64_X, B64_X, B64_X, B64_X, B64_X, B64_X, B64_X, \
    B64_X, B64_X, B64_X, B64_X, B64_X, B64_X, B64_X, B64_X
static const unsigned char proto_b64_values[256] = {
	B64_X16, B64_X16,
	/* 0x20: '+' 62, '/' 63 */
	B64_X, B64_X, B64_X, B64_X, B64_X, B64_X, B64_X, B64_X,
	B64_X, B64_X, B64_X, 62, B64_X, B64_X, B64_X, 63,
	/* 0x30: '0'-'9' */
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
	B64_X, B64_X, B64_X, B64_X, B64_X, B64_X,
	/* 0x40: 'A'-'O' */
	B64_X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	/* 0x50: 'P'-'Z' */
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
	B64_X, B64_X, B64_X, B64_X, B64_X,
	/* 0x60: 'a'-'o' */
	B64_X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	/* 0x70: 'p'-'z' */
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
	B64_X, B64_X, B64_X, B64_X, B64_X,
	B64_X16, B64_X16, B64_X16, B64_X16, B64_X16, B64_X16, B64_X16, B64_X16,
};
/* clang-format on */
#undef B64_X16
#undef B64_X

size_t
proto_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
proto_b64_maxdecoded(size_t n)
{
	return (n + 3) / 4 * 3;
}

long
proto_b64_decoded_len(const char *src, size_t n)
{
	size_t d;

	if (n % 4 != 0 || n / 4 * 3 > LONG_MAX)
		return -1;
	d = n / 4 * 3;
	if (n > 0 && src[n - 1] == '=')
		d--;
	if (n > 1 && src[n - 2] == '=')
		d--;
	return (long)d;
}

/* ---- Scalar ---- */

/* Encodes whole 3-byte groups from src[*i]; returns the output pointer. */
static char *
proto_b64_encode_groups(char *dst, const unsigned char *src, size_t n,
			size_t *i)
{
	const char *t = proto_b64_alphabet;
	uint32_t v;
	size_t k = *i;

	for (; k + 3 <= n; k += 3) {
		v = (uint32_t)src[k] << 16 | (uint32_t)src[k + 1] << 8 |
		    src[k + 2];
		dst[0] = t[v >> 18];
		dst[1] = t[(v >> 12) & 63];
		dst[2] = t[(v >> 6) & 63];
		dst[3] = t[v & 63];
		dst += 4;
	}
	*i = k;
	return dst;
}

static void
proto_b64_encode_tail(char *dst, const unsigned char *src, size_t n)
{
	const char *t = proto_b64_alphabet;
	uint32_t v;

	if (n == 1) {
		v = (uint32_t)src[0] << 16;
		*dst++ = t[v >> 18];
		*dst++ = t[(v >> 12) & 63];
		*dst++ = '=';
		*dst++ = '=';
	} else if (n == 2) {
		v = (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8;
		*dst++ = t[v >> 18];
		*dst++ = t[(v >> 12) & 63];
		*dst++ = t[(v >> 6) & 63];
		*dst++ = '=';
	}
	*dst = '\0';
}

void
proto_b64_encode_scalar(char *dst, const unsigned char *src, size_t n)
{
	size_t i = 0;

	dst = proto_b64_encode_groups(dst, src, n, &i);
	proto_b64_encode_tail(dst, src + i, n - i);
}

/*
 * Decodes whole unpadded 4-character groups from src[*i] while at least
 * `keep` characters remain after the group; stops early (before the bad
 * group) at a character outside the alphabet.  Returns the output pointer.
 */
static unsigned char *
proto_b64_decode_groups(unsigned char *dst, const unsigned char *src, size_t n,
			size_t keep, size_t *i)
{
	const unsigned char *t = proto_b64_values;
	unsigned a, b, c, d;
	size_t k = *i;

	for (; k + 4 + keep <= n; k += 4) {
		a = t[src[k]];
		b = t[src[k + 1]];
		c = t[src[k + 2]];
		d = t[src[k + 3]];
		if ((a | b | c | d) & 0x80)
			break;
		dst[0] = (unsigned char)(a << 2 | b >> 4);
		dst[1] = (unsigned char)(b << 4 | c >> 2);
		dst[2] = (unsigned char)(c << 6 | d);
		dst += 3;
	}
	*i = k;
	return dst;
}

/*
 * The last group, which may carry padding.  Strict: '=' only at the end,
 * and the bits the padding drops must be zero, so every byte string has
 * exactly one accepted encoding.  Returns the output pointer or NULL.
 */
static unsigned char *
proto_b64_decode_last(unsigned char *dst, const unsigned char *s)
{
	const unsigned char *t = proto_b64_values;
	unsigned a = t[s[0]], b = t[s[1]], c, d;

	if ((a | b) & 0x80)
		return NULL;
	if (s[2] == '=') {
		if (s[3] != '=' || (b & 0xf) != 0)
			return NULL;
		*dst++ = (unsigned char)(a << 2 | b >> 4);
		return dst;
	}
	if ((c = t[s[2]]) & 0x80)
		return NULL;
	if (s[3] == '=') {
		if ((c & 0x3) != 0)
			return NULL;
		*dst++ = (unsigned char)(a << 2 | b >> 4);
		*dst++ = (unsigned char)(b << 4 | c >> 2);
		return dst;
	}
	if ((d = t[s[3]]) & 0x80)
		return NULL;
	*dst++ = (unsigned char)(a << 2 | b >> 4);
	*dst++ = (unsigned char)(b << 4 | c >> 2);
	*dst++ = (unsigned char)(c << 6 | d);
	return dst;
}

/* Everything from src[i] (at a group boundary) to the end. */
static long
proto_b64_decode_rest(unsigned char *dst0, unsigned char *dst,
		      const unsigned char *src, size_t n, size_t i)
{
	dst = proto_b64_decode_groups(dst, src, n, 4, &i);
	if (n - i != 4)
		return -1; /* stopped at a bad character */
	if ((dst = proto_b64_decode_last(dst, src + i)) == NULL)
		return -1;
	return (long)(dst - dst0);
}

static int
proto_b64_decode_len_ok(size_t n)
{
	return n % 4 == 0 && n / 4 * 3 <= LONG_MAX;
}

long
proto_b64_decode_scalar(unsigned char *dst, const char *src, size_t n)
{
	if (!proto_b64_decode_len_ok(n))
		return -1;
	if (n == 0)
		return 0;
	return proto_b64_decode_rest(dst, dst, (const unsigned char *)src, n,
				     0);
}

/* ---- AVX2 ---- */

#ifdef PROTO_B64_AVX2

/*
 * Encoding, 24 bytes per step.  Each 128-bit lane takes 12 input bytes;
 * a shuffle puts every 3-byte group b0 b1 b2 into one 32-bit word as
 * b1 b0 b2 b1 so that two multiplies can move the four 6-bit fields to the
 * four bytes; a small table then maps each 6-bit value to its character by
 * adding the offset of its range (A-Z, a-z, 0-9, '+', '/').  The loads read
 * 4 bytes past the 24 they use, so the loop stops 28 bytes before the end.
 */
__attribute__((target("avx2"))) static size_t
proto_b64_encode_avx2(char *dst, const unsigned char *src, size_t n)
{
	/* clang-format off */
	const __m256i spread = _mm256_setr_epi8(
	    1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
	    1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	const __m256i mask_ac = _mm256_set1_epi32(0x0fc0fc00);
	const __m256i mul_ac = _mm256_set1_epi32(0x04000040);
	const __m256i mask_bd = _mm256_set1_epi32(0x003f03f0);
	const __m256i mul_bd = _mm256_set1_epi32(0x01000010);
	/* Offset by range: index 0 for a-z, 1-10 for 0-9, 11 '+', 12 '/',
	 * 13 for A-Z. */
	const __m256i offsets = _mm256_setr_epi8(
	    'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
	    '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62,
	    '/' - 63, 'A', 0, 0,
	    'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
	    '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62,
	    '/' - 63, 'A', 0, 0);
	/* clang-format on */
	const __m256i c51 = _mm256_set1_epi8(51);
	const __m256i c26 = _mm256_set1_epi8(26);
	const __m256i c13 = _mm256_set1_epi8(13);
	__m256i in, v, range;
	size_t i;

	for (i = 0; i + 28 <= n; i += 24) {
		in = _mm256_inserti128_si256(
		    _mm256_castsi128_si256(
			_mm_loadu_si128((const __m128i *)(src + i))),
		    _mm_loadu_si128((const __m128i *)(src + i + 12)), 1);
		in = _mm256_shuffle_epi8(in, spread);
		v = _mm256_or_si256(
		    _mm256_mulhi_epu16(_mm256_and_si256(in, mask_ac), mul_ac),
		    _mm256_mullo_epi16(_mm256_and_si256(in, mask_bd), mul_bd));
		/* 52..63 -> 1..12, 26..51 -> 0, 0..25 -> 13 */
		range = _mm256_subs_epu8(v, c51);
		range = _mm256_or_si256(
		    range, _mm256_and_si256(_mm256_cmpgt_epi8(c26, v), c13));
		v = _mm256_add_epi8(v, _mm256_shuffle_epi8(offsets, range));
		_mm256_storeu_si256((__m256i *)dst, v);
		dst += 32;
	}
	return i;
}

/*
 * Decoding, 32 characters per step.  A character is classified by its two
 * nibbles: the high nibble selects one bit, the low nibble a table of the
 * high-nibble bits for which it is not in the alphabet, and any overlap
 * marks the block bad (which includes '=' and every byte >= 0x80).  The
 * value is the character plus an offset chosen by the high nibble ('/'
 * needs its own).  Pairs and then quads of 6-bit values are merged by
 * multiply-adds, and the three bytes of each 32-bit word are gathered.
 * Each lane stores 16 bytes of which 12 are used, so the loop keeps 16
 * characters (at least 10 output bytes) after the block to absorb the
 * excess.  Returns the characters consumed; a bad block is left to the
 * scalar code, which finds and reports it.
 */
__attribute__((target("avx2"))) static size_t
proto_b64_decode_avx2(unsigned char *dst, const unsigned char *src, size_t n)
{
	/* clang-format off */
	const __m256i bad_lo = _mm256_setr_epi8(
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a,
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m256i bit_hi = _mm256_setr_epi8(
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	/* By high nibble; index 1 is '/' (high nibble 2, minus one). */
	const __m256i shift = _mm256_setr_epi8(
	    0, 63 - '/', 62 - '+', 52 - '0', 0 - 'A', 0 - 'A', 26 - 'a',
	    26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 63 - '/', 62 - '+', 52 - '0', 0 - 'A', 0 - 'A', 26 - 'a',
	    26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	const __m256i slash = _mm256_set1_epi8('/');
	const __m256i pair = _mm256_set1_epi32(0x01400140);
	const __m256i quad = _mm256_set1_epi32(0x00011000);
	const __m256i gather = _mm256_setr_epi8(
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	/* clang-format on */
	__m256i in, hi, lo, v;
	size_t i;

	for (i = 0; i + 32 + 16 <= n; i += 32) {
		in = _mm256_loadu_si256((const __m256i *)(src + i));
		hi = _mm256_and_si256(_mm256_srli_epi32(in, 4), nibble);
		lo = _mm256_and_si256(in, nibble);
		if (!_mm256_testz_si256(_mm256_shuffle_epi8(bad_lo, lo),
					_mm256_shuffle_epi8(bit_hi, hi)))
			break;
		v = _mm256_add_epi8(
		    in, _mm256_shuffle_epi8(
			    shift,
			    _mm256_add_epi8(_mm256_cmpeq_epi8(in, slash), hi)));
		v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, pair), quad);
		v = _mm256_shuffle_epi8(v, gather);
		_mm_storeu_si128((__m128i *)dst, _mm256_castsi256_si128(v));
		_mm_storeu_si128((__m128i *)(dst + 12),
				 _mm256_extracti128_si256(v, 1));
		dst += 24;
	}
	return i;
}

static int
proto_b64_have_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

#endif /* PROTO_B64_AVX2 */

/* ---- Dispatch ---- */

void
proto_b64_encode(char *dst, const unsigned char *src, size_t n)
{
	size_t i = 0;

#ifdef PROTO_B64_AVX2
	if (n >= 28 && proto_b64_have_avx2()) {
		i = proto_b64_encode_avx2(dst, src, n);
		dst += i / 3 * 4;
	}
#endif
	dst = proto_b64_encode_groups(dst, src, n, &i);
	proto_b64_encode_tail(dst, src + i, n - i);
}

long
proto_b64_decode(unsigned char *dst, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0;

	if (!proto_b64_decode_len_ok(n))
		return -1;
	if (n == 0)
		return 0;
#ifdef PROTO_B64_AVX2
	if (n >= 48 && proto_b64_have_avx2())
		i = proto_b64_decode_avx2(dst, s, n);
#endif
	return proto_b64_decode_rest(dst, dst + i / 4 * 3, s, n, i);
}
