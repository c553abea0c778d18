/* SPDX-License-Identifier: ISC */
/*
 * The elements of a status event: one JSON object per pool host and per
 * worker thread, which the daemon joins into the event's arrays.
 */
#include <string.h>

#include "proto.h"
#include "proto_int.h"

/* A millisecond count that may be unknown: negative is JSON null. */
static void
proto_status_put_opt(struct proto_enc *e, long long ms)
{
	if (ms < 0)
		proto_enc_lit(e, "null");
	else
		proto_enc_i64(e, ms);
}

void
proto_status_host_init(struct proto_status_host *h)
{
	memset(h, 0, sizeof(*h));
	h->rtt_ms = -1;
	h->retry_in_ms = -1;
	h->credential_uid = -1;
	h->tunnels = -1;
}

int
proto_status_host(struct proto_buf *b, const struct proto_status_host *h)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_lit(&e, "{\"host\":");
	proto_enc_cstr(&e, h->host != NULL ? h->host : "");
	proto_enc_lit(&e, ",\"state\":");
	proto_enc_cstr(&e, h->state != NULL ? h->state : "");
	proto_enc_key(&e, "worker");
	proto_enc_i64(&e, h->worker);
	proto_enc_key(&e, "sessions");
	proto_enc_i64(&e, h->sessions);
	proto_enc_key(&e, "connecting");
	proto_enc_i64(&e, h->connecting);
	proto_enc_key(&e, "channels_busy");
	proto_enc_i64(&e, h->channels_busy);
	proto_enc_key(&e, "channels_max");
	proto_enc_i64(&e, h->channels_max);
	proto_enc_key(&e, "queued");
	proto_enc_i64(&e, h->queued);
	proto_enc_key(&e, "jobs");
	proto_enc_u64(&e, h->jobs);
	proto_enc_key(&e, "connects");
	proto_enc_u64(&e, h->connects);
	proto_enc_key(&e, "failures");
	proto_enc_u64(&e, h->failures);
	proto_enc_key(&e, "reconnects");
	proto_enc_u64(&e, h->reconnects);
	proto_enc_key(&e, "lost");
	proto_enc_u64(&e, h->lost);
	proto_enc_key(&e, "rtt_ms");
	proto_status_put_opt(&e, h->rtt_ms);
	proto_enc_key(&e, "retry_in_ms");
	proto_status_put_opt(&e, h->retry_in_ms);
	proto_enc_key(&e, "last_error");
	if (h->last_error != NULL)
		proto_enc_message(&e, h->last_error);
	else
		proto_enc_lit(&e, "null");
	if (h->hostname != NULL) {
		proto_enc_key(&e, "hostname");
		proto_enc_cstr(&e, h->hostname);
	}
	if (h->jump != NULL) {
		proto_enc_key(&e, "jump");
		proto_enc_cstr(&e, h->jump);
	}
	if (h->tunnels >= 0) {
		proto_enc_key(&e, "tunnels");
		proto_enc_i64(&e, h->tunnels);
	}
	proto_enc_key(&e, "credential");
	proto_enc_cstr(&e, h->credential != NULL ? h->credential : "daemon");
	proto_enc_key(&e, "credential_uid");
	proto_status_put_opt(&e,
			     h->credential != NULL ? h->credential_uid : -1);
	proto_enc_lit(&e, "}");
	return proto_enc_end(&e);
}

int
proto_status_worker(struct proto_buf *b, const struct proto_status_worker *w)
{
	struct proto_enc e;

	proto_enc_begin(&e, b);
	proto_enc_lit(&e, "{\"index\":");
	proto_enc_i64(&e, w->index);
	proto_enc_key(&e, "hosts");
	proto_enc_i64(&e, w->hosts);
	proto_enc_key(&e, "sessions");
	proto_enc_i64(&e, w->sessions);
	proto_enc_key(&e, "jobs");
	proto_enc_i64(&e, w->jobs);
	proto_enc_key(&e, "heartbeat_age_ms");
	proto_enc_i64(&e, w->heartbeat_age_ms);
	if (w->stuck)
		proto_enc_lit(&e, ",\"stuck\":true}");
	else
		proto_enc_lit(&e, ",\"stuck\":false}");
	return proto_enc_end(&e);
}
