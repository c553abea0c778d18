/* SPDX-License-Identifier: ISC */
/*
 * The ssh-agent message codec: a uint32 length, a type byte and fields of
 * uint32s and length-prefixed strings (RFC 4251 encoding).  Parsing reads
 * through a cursor that refuses to step past the message, so a lying length
 * can only make a parse fail.  Nothing here allocates more than the limits
 * in agentmsg.h allow.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentmsg.h"
#include "xmalloc.h"

#define AGENTMSG_SESSION_BIND "session-bind@openssh.com"
/* Protocol 1's REMOVE_ALL_RSA_IDENTITIES: still a removal. */
#define AGENTMSG_V1_REMOVE_ALL 9

struct agentmsg_cursor {
	const uint8_t *p;
	size_t left;
};

static void agentmsg_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
agentmsg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t
agentmsg_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
agentmsg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int
agentmsg_u32(struct agentmsg_cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = agentmsg_get32(c->p);
	c->p += 4;
	c->left -= 4;
	return 0;
}

/* A string of at most max bytes. */
static int
agentmsg_string(struct agentmsg_cursor *c, size_t max, const uint8_t **s,
		size_t *len)
{
	uint32_t n;

	if (agentmsg_u32(c, &n) == -1 || n > c->left || n > max)
		return -1;
	*s = c->p;
	*len = n;
	c->p += n;
	c->left -= n;
	return 0;
}

enum agentmsg_frame_result
agentmsg_frame(const uint8_t *buf, size_t len, size_t *frame_len)
{
	uint32_t n;

	if (len < 4)
		return AGENTMSG_FRAME_MORE;
	n = agentmsg_get32(buf);
	if (n == 0 || n > AGENTMSG_MAX_LEN)
		return AGENTMSG_FRAME_BAD;
	if (len - 4 < n)
		return AGENTMSG_FRAME_MORE;
	*frame_len = (size_t)n + 4;
	return AGENTMSG_FRAME_OK;
}

int
agentmsg_type(const uint8_t *msg, size_t len)
{
	return len < AGENTMSG_HEADER ? -1 : msg[4];
}

/* The body after the type byte of a message of type want. */
static int
agentmsg_body(const uint8_t *msg, size_t len, int want,
	      struct agentmsg_cursor *c, char *err, size_t errlen)
{
	size_t flen;

	if (agentmsg_frame(msg, len, &flen) != AGENTMSG_FRAME_OK ||
	    flen != len) {
		agentmsg_err(err, errlen, "bad message length");
		return -1;
	}
	if (msg[4] != want) {
		agentmsg_err(err, errlen, "message type %d, expected %d",
			     msg[4], want);
		return -1;
	}
	c->p = msg + AGENTMSG_HEADER;
	c->left = len - AGENTMSG_HEADER;
	return 0;
}

static enum agentmsg_class
agentmsg_classify_extension(const uint8_t *msg, size_t len)
{
	struct agentmsg_cursor c = {msg + AGENTMSG_HEADER,
				    len - AGENTMSG_HEADER};
	const uint8_t *name;
	size_t n;

	if (agentmsg_string(&c, AGENTMSG_MAX_EXT_NAME, &name, &n) == -1)
		return AGENTMSG_C_OTHER;
	if (n == strlen(AGENTMSG_SESSION_BIND) &&
	    memcmp(name, AGENTMSG_SESSION_BIND, n) == 0)
		return AGENTMSG_C_SESSION_BIND;
	return AGENTMSG_C_EXTENSION;
}

enum agentmsg_class
agentmsg_classify(const uint8_t *msg, size_t len)
{
	switch (agentmsg_type(msg, len)) {
	case AGENTMSG_REQUEST_IDENTITIES:
		return AGENTMSG_C_LIST;
	case AGENTMSG_SIGN_REQUEST:
		return AGENTMSG_C_SIGN;
	case AGENTMSG_ADD_IDENTITY:
	case AGENTMSG_ADD_ID_CONSTRAINED:
	case AGENTMSG_ADD_SMARTCARD_KEY:
	case AGENTMSG_ADD_SMARTCARD_KEY_CONSTRAINED:
		return AGENTMSG_C_ADD;
	case AGENTMSG_REMOVE_IDENTITY:
	case AGENTMSG_REMOVE_SMARTCARD_KEY:
		return AGENTMSG_C_REMOVE;
	case AGENTMSG_REMOVE_ALL_IDENTITIES:
	case AGENTMSG_V1_REMOVE_ALL:
		return AGENTMSG_C_REMOVE_ALL;
	case AGENTMSG_LOCK:
		return AGENTMSG_C_LOCK;
	case AGENTMSG_UNLOCK:
		return AGENTMSG_C_UNLOCK;
	case AGENTMSG_EXTENSION:
		return agentmsg_classify_extension(msg, len);
	case AGENTMSG_FAILURE:
	case AGENTMSG_SUCCESS:
	case AGENTMSG_IDENTITIES_ANSWER:
	case AGENTMSG_SIGN_RESPONSE:
	case AGENTMSG_EXTENSION_FAILURE:
		return AGENTMSG_C_REPLY;
	default:
		return AGENTMSG_C_OTHER;
	}
}

const char *
agentmsg_class_name(enum agentmsg_class c)
{
	static const char *const names[] = {
	    [AGENTMSG_C_LIST] = "list",
	    [AGENTMSG_C_SIGN] = "sign",
	    [AGENTMSG_C_ADD] = "add",
	    [AGENTMSG_C_REMOVE] = "remove",
	    [AGENTMSG_C_REMOVE_ALL] = "remove-all",
	    [AGENTMSG_C_LOCK] = "lock",
	    [AGENTMSG_C_UNLOCK] = "unlock",
	    [AGENTMSG_C_SESSION_BIND] = "session-bind",
	    [AGENTMSG_C_EXTENSION] = "extension",
	    [AGENTMSG_C_REPLY] = "reply",
	    [AGENTMSG_C_OTHER] = "other",
	};

	if ((unsigned)c >= sizeof(names) / sizeof(names[0]))
		return "other";
	return names[c];
}

int
agentmsg_parse_identities(const uint8_t *msg, size_t len,
			  struct agentmsg_identities *out, char *err,
			  size_t errlen)
{
	struct agentmsg_cursor c;
	struct agentmsg_identity *id;
	uint32_t n, i;

	out->n = 0;
	out->v = NULL;
	if (agentmsg_body(msg, len, AGENTMSG_IDENTITIES_ANSWER, &c, err,
			  errlen) == -1)
		return -1;
	if (agentmsg_u32(&c, &n) == -1) {
		agentmsg_err(err, errlen, "identities: no count");
		return -1;
	}
	/* Each key takes at least its two lengths: a count the message cannot
	 * hold is refused before anything is allocated. */
	if (n > AGENTMSG_MAX_IDENTITIES || n > c.left / 8) {
		agentmsg_err(err, errlen, "identities: bad count %u", n);
		return -1;
	}
	out->v = n > 0 ? xcalloc(n, sizeof(*out->v)) : NULL;
	for (i = 0; i < n; i++) {
		id = &out->v[i];
		if (agentmsg_string(&c, AGENTMSG_MAX_BLOB, &id->blob,
				    &id->blob_len) == -1 ||
		    id->blob_len == 0) {
			agentmsg_err(err, errlen, "identities: bad key %u", i);
			goto bad;
		}
		if (agentmsg_string(&c, AGENTMSG_MAX_COMMENT, &id->comment,
				    &id->comment_len) == -1) {
			agentmsg_err(err, errlen, "identities: bad comment %u",
				     i);
			goto bad;
		}
	}
	if (c.left != 0) {
		agentmsg_err(err, errlen, "identities: %zu trailing bytes",
			     c.left);
		goto bad;
	}
	out->n = n;
	return 0;
bad:
	agentmsg_identities_free(out);
	return -1;
}

void
agentmsg_identities_free(struct agentmsg_identities *ids)
{
	free(ids->v);
	ids->v = NULL;
	ids->n = 0;
}

int
agentmsg_parse_sign_request(const uint8_t *msg, size_t len,
			    struct agentmsg_sign_request *out, char *err,
			    size_t errlen)
{
	struct agentmsg_cursor c;

	if (agentmsg_body(msg, len, AGENTMSG_SIGN_REQUEST, &c, err, errlen) ==
	    -1)
		return -1;
	if (agentmsg_string(&c, AGENTMSG_MAX_BLOB, &out->blob,
			    &out->blob_len) == -1 ||
	    out->blob_len == 0) {
		agentmsg_err(err, errlen, "sign request: bad key");
		return -1;
	}
	if (agentmsg_string(&c, AGENTMSG_MAX_LEN, &out->data, &out->data_len) ==
	    -1) {
		agentmsg_err(err, errlen, "sign request: bad data");
		return -1;
	}
	if (agentmsg_u32(&c, &out->flags) == -1 || c.left != 0) {
		agentmsg_err(err, errlen, "sign request: bad flags");
		return -1;
	}
	return 0;
}

int
agentmsg_parse_sign_response(const uint8_t *msg, size_t len,
			     const uint8_t **sig, size_t *sig_len, char *err,
			     size_t errlen)
{
	struct agentmsg_cursor c;

	if (agentmsg_body(msg, len, AGENTMSG_SIGN_RESPONSE, &c, err, errlen) ==
	    -1)
		return -1;
	if (agentmsg_string(&c, AGENTMSG_MAX_LEN, sig, sig_len) == -1 ||
	    *sig_len == 0 || c.left != 0) {
		agentmsg_err(err, errlen, "sign response: bad signature");
		return -1;
	}
	return 0;
}

size_t
agentmsg_build_simple(uint8_t out[AGENTMSG_HEADER], uint8_t type)
{
	agentmsg_put32(out, 1);
	out[4] = type;
	return AGENTMSG_HEADER;
}

static uint8_t *
agentmsg_put_string(uint8_t *p, const uint8_t *s, size_t n)
{
	agentmsg_put32(p, (uint32_t)n);
	if (n > 0)
		memcpy(p + 4, s, n);
	return p + 4 + n;
}

int
agentmsg_build_sign_request(const struct agentmsg_sign_request *req,
			    uint8_t **out, size_t *out_len)
{
	size_t body;
	uint8_t *p;

	if (req->blob_len == 0 || req->blob_len > AGENTMSG_MAX_BLOB ||
	    req->data_len > AGENTMSG_MAX_LEN)
		return -1;
	body = 1 + 4 + req->blob_len + 4 + req->data_len + 4;
	if (body > AGENTMSG_MAX_LEN)
		return -1;
	*out = p = xmalloc(body + 4);
	*out_len = body + 4;
	agentmsg_put32(p, (uint32_t)body);
	p[4] = AGENTMSG_SIGN_REQUEST;
	p = agentmsg_put_string(p + AGENTMSG_HEADER, req->blob, req->blob_len);
	p = agentmsg_put_string(p, req->data, req->data_len);
	agentmsg_put32(p, req->flags);
	return 0;
}

int
agentmsg_build_identities(const struct agentmsg_identities *ids, uint8_t **out,
			  size_t *out_len)
{
	size_t body = 1 + 4, i;
	uint8_t *p;

	if (ids->n > AGENTMSG_MAX_IDENTITIES)
		return -1;
	for (i = 0; i < ids->n; i++) {
		if (ids->v[i].blob_len == 0 ||
		    ids->v[i].blob_len > AGENTMSG_MAX_BLOB ||
		    ids->v[i].comment_len > AGENTMSG_MAX_COMMENT)
			return -1;
		body += 8 + ids->v[i].blob_len + ids->v[i].comment_len;
	}
	if (body > AGENTMSG_MAX_LEN)
		return -1;
	*out = p = xmalloc(body + 4);
	*out_len = body + 4;
	agentmsg_put32(p, (uint32_t)body);
	p[4] = AGENTMSG_IDENTITIES_ANSWER;
	agentmsg_put32(p + AGENTMSG_HEADER, (uint32_t)ids->n);
	p += AGENTMSG_HEADER + 4;
	for (i = 0; i < ids->n; i++) {
		p = agentmsg_put_string(p, ids->v[i].blob, ids->v[i].blob_len);
		p = agentmsg_put_string(p, ids->v[i].comment,
					ids->v[i].comment_len);
	}
	return 0;
}
