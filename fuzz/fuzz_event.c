/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the event side of the wire codec: the lines a client
 * library reads from the daemon.  A compromised or buggy daemon must not be
 * able to crash its clients, so any bytes must either parse or fail cleanly.
 * An event that parses is encoded again with the daemon's encoders and must
 * parse back to the same event.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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

/* The encoders take the id as JSON text, NULL for null. */
static const char *
fuzz_id(const struct proto_event *ev)
{
	return strcmp(ev->id, "null") == 0 ? NULL : ev->id;
}

/*
 * Encode ev again; returns 0 with the line in b, or -1 for types the
 * encoders cannot reproduce member for member (hello's limits and status,
 * which the daemon assembles from pieces).
 */
static int
fuzz_encode(struct proto_buf *b, const struct proto_event *ev)
{
	const char *id = fuzz_id(ev);

	switch (ev->type) {
	case PROTO_EV_START:
		return proto_ev_start(b, id, ev->host);
	case PROTO_EV_STDOUT:
	case PROTO_EV_STDERR:
		return proto_ev_output(b, id, ev->host,
				       ev->type == PROTO_EV_STDERR, ev->data,
				       ev->len);
	case PROTO_EV_EXIT:
		return proto_ev_exit(b, id, ev->host, ev->status, ev->signal,
				     ev->duration_ms);
	case PROTO_EV_ERROR:
		return proto_ev_error(b, id, ev->host, ev->code, ev->message,
				      ev->duration_ms);
	case PROTO_EV_CONNECTED:
		return proto_ev_connected(b, id, ev->host, ev->sessions,
					  ev->duration_ms);
	case PROTO_EV_DISCONNECTED:
		return proto_ev_disconnected(b, id, ev->host, ev->sessions,
					     ev->draining, ev->duration_ms);
	case PROTO_EV_DONE:
		return proto_ev_done(b, id, &ev->done);
	case PROTO_EV_CANCEL:
		return proto_ev_cancel(b, id, ev->target, ev->found);
	default:
		return -1;
	}
}

static void
fuzz_same_event(const struct proto_event *a, const struct proto_event *b)
{
	FUZZ_CHECK(a->type == b->type);
	FUZZ_CHECK(strcmp(a->id, b->id) == 0);
	FUZZ_CHECK(fuzz_streq(a->host, b->host));
	FUZZ_CHECK(a->len == b->len);
	if (a->len > 0)
		FUZZ_CHECK(memcmp(a->data, b->data, a->len) == 0);
	switch (a->type) {
	case PROTO_EV_EXIT:
		FUZZ_CHECK(fuzz_streq(a->signal, b->signal));
		if (a->signal == NULL)
			FUZZ_CHECK(a->status == b->status);
		FUZZ_CHECK(a->duration_ms == b->duration_ms);
		break;
	case PROTO_EV_ERROR:
		FUZZ_CHECK(a->code == b->code);
		/* Messages are cut to PROTO_MAX_MESSAGE - 1 bytes. */
		if (strlen(a->message) < PROTO_MAX_MESSAGE)
			FUZZ_CHECK(strcmp(a->message, b->message) == 0);
		FUZZ_CHECK(a->duration_ms == b->duration_ms);
		break;
	case PROTO_EV_CONNECTED:
		FUZZ_CHECK(a->sessions == b->sessions);
		break;
	case PROTO_EV_DISCONNECTED:
		FUZZ_CHECK(a->sessions == b->sessions);
		FUZZ_CHECK(a->draining == b->draining);
		break;
	case PROTO_EV_DONE:
		FUZZ_CHECK(a->done.hosts == b->done.hosts);
		FUZZ_CHECK(a->done.ok == b->done.ok);
		FUZZ_CHECK(a->done.failed == b->done.failed);
		FUZZ_CHECK(a->done.errors == b->done.errors);
		break;
	case PROTO_EV_CANCEL:
		FUZZ_CHECK(strcmp(a->target, b->target) == 0);
		FUZZ_CHECK(a->found == b->found);
		break;
	default:
		break;
	}
}

static void
fuzz_check_event(const struct proto_event *ev)
{
	FUZZ_CHECK((unsigned)ev->type < PROTO_EV_COUNT);
	FUZZ_CHECK(proto_event_name(ev->type) != NULL);
	FUZZ_CHECK(strlen(ev->id) <= PROTO_MAX_ID + 2);
	switch (ev->type) {
	case PROTO_EV_STDOUT:
	case PROTO_EV_STDERR:
		FUZZ_CHECK(ev->host != NULL);
		FUZZ_CHECK(ev->len == 0 || ev->data != NULL);
		break;
	case PROTO_EV_START:
	case PROTO_EV_CONNECTED:
	case PROTO_EV_DISCONNECTED:
		FUZZ_CHECK(ev->host != NULL);
		break;
	case PROTO_EV_EXIT:
		FUZZ_CHECK(ev->host != NULL);
		break;
	case PROTO_EV_ERROR:
		FUZZ_CHECK(ev->message != NULL);
		FUZZ_CHECK(ev->code > PROTO_E_NONE && ev->code < PROTO_E_COUNT);
		FUZZ_CHECK(proto_code_name(ev->code) != NULL);
		break;
	case PROTO_EV_CANCEL:
		FUZZ_CHECK(ev->target[0] != '\0');
		break;
	case PROTO_EV_STATUS:
		FUZZ_CHECK(ev->json != NULL);
		break;
	default:
		break;
	}
}

/* The split path's promise (proto.h): the text it decoded is the data's
 * one encoding and is followed by "} at the end of the line. */
static void
fuzz_check_split(const struct proto_event *ev, const char *line, size_t len)
{
	char *enc;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (ev->data_textlen == 0)
		return;
	FUZZ_CHECK(ev->type == PROTO_EV_STDOUT || ev->type == PROTO_EV_STDERR);
	FUZZ_CHECK(ev->data_off + ev->data_textlen + 2 == len);
	FUZZ_CHECK(memcmp(line + len - 2, "\"}", 2) == 0);
	enc = malloc(proto_b64_len(ev->len) + 1);
	FUZZ_CHECK(enc != NULL);
	proto_b64_encode(enc, ev->data, ev->len);
	FUZZ_CHECK(strlen(enc) == ev->data_textlen);
	FUZZ_CHECK(memcmp(enc, line + ev->data_off, ev->data_textlen) == 0);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_event *ev = NULL, *again = NULL;
	struct proto_error err;
	struct proto_buf b;

	/* libFuzzer's buffer is exactly size bytes and not terminated: ASan
	 * sees any read past the line. */
	if (proto_event_parse((const char *)data, size, &ev, &err) == -1) {
		FUZZ_CHECK(ev == NULL);
		FUZZ_CHECK(err.code != PROTO_E_NONE);
		FUZZ_CHECK(strlen(err.message) < sizeof err.message);
		return 0;
	}
	FUZZ_CHECK(ev != NULL);
	fuzz_check_event(ev);
	fuzz_check_split(ev, (const char *)data, size);

	proto_buf_init(&b);
	if (fuzz_encode(&b, ev) == 0) {
		FUZZ_CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
		if (proto_event_parse(b.data, b.len, &again, &err) != 0) {
			fprintf(stderr, "re-parse failed: %s\nline: %.*s",
				err.message, (int)b.len, b.data);
			abort();
		}
		fuzz_same_event(ev, again);
		proto_event_free(again);
	}
	proto_buf_free(&b);
	proto_event_free(ev);
	return 0;
}
