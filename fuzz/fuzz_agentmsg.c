/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the ssh-agent codec.  Each input is read twice: as a
 * stream of framed messages (what a relay reads from an agent or a
 * forwarded peer), and as one message body behind a length that fits, so
 * the parsers see deep inputs without the fuzzer having to guess lengths.
 * What parses must stay inside the message and within the limits, and must
 * encode back to exactly the bytes it was parsed from.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* [p, p + n) lies in [msg, msg + len). */
static int
fuzz_inside(const uint8_t *p, size_t n, const uint8_t *msg, size_t len)
{
	return p >= msg && n <= len && (size_t)(p - msg) <= len - n;
}

static void
fuzz_identities(const uint8_t *msg, size_t len)
{
	struct agentmsg_identities ids;
	char err[AGENTMSG_MAX_ERR];
	uint8_t *out;
	size_t i, olen;

	if (agentmsg_parse_identities(msg, len, &ids, err, sizeof(err)) == -1) {
		FUZZ_CHECK(ids.n == 0 && ids.v == NULL);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	FUZZ_CHECK(ids.n <= AGENTMSG_MAX_IDENTITIES);
	for (i = 0; i < ids.n; i++) {
		FUZZ_CHECK(ids.v[i].blob_len > 0 &&
			   ids.v[i].blob_len <= AGENTMSG_MAX_BLOB);
		FUZZ_CHECK(ids.v[i].comment_len <= AGENTMSG_MAX_COMMENT);
		FUZZ_CHECK(
		    fuzz_inside(ids.v[i].blob, ids.v[i].blob_len, msg, len));
		FUZZ_CHECK(fuzz_inside(ids.v[i].comment, ids.v[i].comment_len,
				       msg, len));
	}
	FUZZ_CHECK(agentmsg_build_identities(&ids, &out, &olen) == 0);
	FUZZ_CHECK(olen == len && memcmp(out, msg, len) == 0);
	free(out);
	agentmsg_identities_free(&ids);
}

static void
fuzz_sign(const uint8_t *msg, size_t len)
{
	struct agentmsg_sign_request sr;
	char err[AGENTMSG_MAX_ERR];
	const uint8_t *sig;
	uint8_t *out;
	size_t olen, slen;

	if (agentmsg_parse_sign_request(msg, len, &sr, err, sizeof(err)) == 0) {
		FUZZ_CHECK(sr.blob_len > 0 && sr.blob_len <= AGENTMSG_MAX_BLOB);
		FUZZ_CHECK(fuzz_inside(sr.blob, sr.blob_len, msg, len));
		FUZZ_CHECK(fuzz_inside(sr.data, sr.data_len, msg, len));
		FUZZ_CHECK(agentmsg_build_sign_request(&sr, &out, &olen) == 0);
		FUZZ_CHECK(olen == len && memcmp(out, msg, len) == 0);
		free(out);
	}
	if (agentmsg_parse_sign_response(msg, len, &sig, &slen, err,
					 sizeof(err)) == 0) {
		FUZZ_CHECK(slen > 0 && fuzz_inside(sig, slen, msg, len));
		FUZZ_CHECK(agentmsg_type(msg, len) == AGENTMSG_SIGN_RESPONSE);
	}
}

static void
fuzz_one(const uint8_t *msg, size_t len)
{
	enum agentmsg_class c = agentmsg_classify(msg, len);

	FUZZ_CHECK(c >= AGENTMSG_C_LIST && c <= AGENTMSG_C_OTHER);
	FUZZ_CHECK(agentmsg_class_name(c) != NULL);
	if (agentmsg_type(msg, len) == AGENTMSG_REQUEST_IDENTITIES)
		FUZZ_CHECK(c == AGENTMSG_C_LIST);
	fuzz_identities(msg, len);
	fuzz_sign(msg, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, flen;
	uint8_t *msg;

	/* A stream. */
	while (agentmsg_frame(data + off, size - off, &flen) ==
	       AGENTMSG_FRAME_OK) {
		FUZZ_CHECK(flen >= AGENTMSG_HEADER && flen <= size - off);
		FUZZ_CHECK(flen <= AGENTMSG_MAX_LEN + 4);
		fuzz_one(data + off, flen);
		off += flen;
	}

	/* One body. */
	if (size == 0 || size > AGENTMSG_MAX_LEN)
		return 0;
	msg = malloc(size + 4);
	msg[0] = (uint8_t)(size >> 24);
	msg[1] = (uint8_t)(size >> 16);
	msg[2] = (uint8_t)(size >> 8);
	msg[3] = (uint8_t)size;
	memcpy(msg + 4, data, size);
	FUZZ_CHECK(agentmsg_frame(msg, size + 4, &flen) == AGENTMSG_FRAME_OK);
	FUZZ_CHECK(flen == size + 4);
	fuzz_one(msg, size + 4);
	free(msg);
	return 0;
}
