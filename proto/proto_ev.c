/* SPDX-License-Identifier: ISC */
/*
 * Event encoders (daemon -> client): one function per event type, each
 * appending one complete line to a buffer, fast and without a JSON tree.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"
#include "proto_int.h"

static void
proto_ev_put_host(struct proto_enc *e, const char *host)
{
	if (host != NULL) {
		proto_enc_key(e, "host");
		proto_enc_cstr(e, host);
	}
}

int
proto_ev_hello(struct proto_buf *b, const char *id, int version,
	       const char *server, const struct proto_limits *lim)
{
	struct proto_limits dl;
	struct proto_enc e;
	size_t max_env;
	int max_depth;

	if (lim == NULL) {
		proto_limits_default(&dl);
		lim = &dl;
	}
	/* Announce what proto_request_parse enforces for these limits. */
	max_env = lim->max_env > PROTO_MAX_ENV ? PROTO_MAX_ENV : lim->max_env;
	max_depth = lim->max_depth <= 0 || lim->max_depth > PROTO_MAX_DEPTH
			? PROTO_MAX_DEPTH
			: lim->max_depth;
	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "hello");
	proto_enc_key(&e, "version");
	proto_enc_i64(&e, version);
	proto_enc_key(&e, "server");
	proto_enc_cstr(&e, server != NULL ? server : "");
	proto_enc_lit(&e, ",\"limits\":{\"max_line\":");
	proto_enc_u64(&e, lim->max_line);
	proto_enc_lit(&e, ",\"max_hosts\":");
	proto_enc_u64(&e, lim->max_hosts);
	proto_enc_lit(&e, ",\"max_stdin\":");
	proto_enc_u64(&e, lim->max_stdin);
	proto_enc_lit(&e, ",\"max_env\":");
	proto_enc_u64(&e, max_env);
	proto_enc_lit(&e, ",\"max_depth\":");
	proto_enc_i64(&e, max_depth);
	proto_enc_lit(&e, "}}\n");
	return proto_enc_end(&e);
}

int
proto_ev_start(struct proto_buf *b, const char *id, const char *host)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "start");
	proto_ev_put_host(&e, host);
	proto_enc_lit(&e, "}\n");
	return proto_enc_end(&e);
}

int
proto_ev_output(struct proto_buf *b, const char *id, const char *host,
		int is_stderr, const void *data, size_t len)
{
	struct proto_enc e;
	size_t n = proto_b64_len(len);

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", is_stderr ? "stderr" : "stdout");
	proto_ev_put_host(&e, host);
	proto_enc_lit(&e, ",\"data\":\"");
	/* Encode in place: one reservation, no temporary copy. */
	if (e.err == 0 && proto_buf_reserve(b, n + 4) == -1)
		e.err = ENOMEM;
	if (e.err == 0) {
		proto_b64_encode(b->data + b->len, data, len);
		b->len += n;
	}
	proto_enc_lit(&e, "\"}\n");
	return proto_enc_end(&e);
}

int
proto_ev_exit(struct proto_buf *b, const char *id, const char *host, int status,
	      const char *signal, long long duration_ms)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "exit");
	proto_ev_put_host(&e, host);
	if (signal != NULL) {
		proto_enc_key(&e, "signal");
		proto_enc_cstr(&e, signal);
	} else {
		proto_enc_key(&e, "status");
		proto_enc_i64(&e, status);
	}
	if (duration_ms >= 0) {
		proto_enc_key(&e, "duration_ms");
		proto_enc_i64(&e, duration_ms);
	}
	proto_enc_lit(&e, "}\n");
	return proto_enc_end(&e);
}

int
proto_ev_error(struct proto_buf *b, const char *id, const char *host,
	       enum proto_code code, const char *message, long long duration_ms)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "error");
	proto_ev_put_host(&e, host);
	proto_enc_lit(&e, ",\"code\":\"");
	proto_enc_raw(&e, proto_code_name(code), strlen(proto_code_name(code)));
	proto_enc_lit(&e, "\",\"message\":");
	proto_enc_message(&e, message != NULL ? message : "");
	if (duration_ms >= 0) {
		proto_enc_key(&e, "duration_ms");
		proto_enc_i64(&e, duration_ms);
	}
	proto_enc_lit(&e, "}\n");
	return proto_enc_end(&e);
}

int
proto_ev_connected(struct proto_buf *b, const char *id, const char *host,
		   int sessions, long long duration_ms)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "connected");
	proto_ev_put_host(&e, host);
	proto_enc_key(&e, "sessions");
	proto_enc_i64(&e, sessions);
	proto_enc_key(&e, "duration_ms");
	proto_enc_i64(&e, duration_ms < 0 ? 0 : duration_ms);
	proto_enc_lit(&e, "}\n");
	return proto_enc_end(&e);
}

int
proto_ev_disconnected(struct proto_buf *b, const char *id, const char *host,
		      int sessions, int draining, long long duration_ms)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "disconnected");
	proto_ev_put_host(&e, host);
	proto_enc_key(&e, "sessions");
	proto_enc_i64(&e, sessions < 0 ? 0 : sessions);
	proto_enc_key(&e, "draining");
	proto_enc_i64(&e, draining < 0 ? 0 : draining);
	proto_enc_key(&e, "duration_ms");
	proto_enc_i64(&e, duration_ms < 0 ? 0 : duration_ms);
	proto_enc_lit(&e, "}\n");
	return proto_enc_end(&e);
}

int
proto_ev_done(struct proto_buf *b, const char *id, const struct proto_done *d)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "done");
	proto_enc_key(&e, "hosts");
	proto_enc_u64(&e, d->hosts);
	proto_enc_key(&e, "ok");
	proto_enc_u64(&e, d->ok);
	proto_enc_key(&e, "failed");
	proto_enc_u64(&e, d->failed);
	proto_enc_key(&e, "errors");
	proto_enc_u64(&e, d->errors);
	proto_enc_key(&e, "duration_ms");
	proto_enc_i64(&e, d->duration_ms < 0 ? 0 : d->duration_ms);
	proto_enc_lit(&e, "}\n");
	return proto_enc_end(&e);
}

int
proto_ev_cancel(struct proto_buf *b, const char *id, const char *target,
		int found)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "cancel");
	proto_enc_key(&e, "target");
	if (target == NULL || *target == '\0')
		proto_enc_lit(&e, "null");
	else
		proto_enc_raw(&e, target, strlen(target));
	if (found)
		proto_enc_lit(&e, ",\"found\":true}\n");
	else
		proto_enc_lit(&e, ",\"found\":false}\n");
	return proto_enc_end(&e);
}

int
proto_ev_status(struct proto_buf *b, const char *id, const char *hosts_json,
		const char *workers_json)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_head(&e, id, "event", "status");
	proto_enc_lit(&e, ",\"workers\":[");
	if (workers_json != NULL)
		proto_enc_raw(&e, workers_json, strlen(workers_json));
	proto_enc_lit(&e, "],\"hosts\":[");
	if (hosts_json != NULL)
		proto_enc_raw(&e, hosts_json, strlen(hosts_json));
	proto_enc_lit(&e, "]}\n");
	return proto_enc_end(&e);
}
