/* SPDX-License-Identifier: ISC */
/*
 * The growable output buffer every encoder appends to.  It is always
 * NUL-terminated, and a failed append leaves it unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

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
int
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
