/* SPDX-License-Identifier: ISC */
/*
 * Events: decoding the first complete input line into an sp_event, what
 * the library itself learns from events (the daemon's limits, finished
 * requests, why the daemon closed the connection), and the sp_event_*
 * accessors, including the line as received for sp_event_json.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-int.h"

/* Request ids we assign are decimal integers; anything else is not ours. */
static uint64_t
client_event_parse_id(const char *text)
{
	uint64_t v = 0;
	const char *p;

	if (text == NULL || *text == '\0')
		return 0;
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

static enum sp_event_type
client_event_map_type(enum proto_event_type t)
{
	switch (t) {
	case PROTO_EV_HELLO:
		return SP_EV_HELLO;
	case PROTO_EV_START:
		return SP_EV_START;
	case PROTO_EV_STDOUT:
		return SP_EV_STDOUT;
	case PROTO_EV_STDERR:
		return SP_EV_STDERR;
	case PROTO_EV_EXIT:
		return SP_EV_EXIT;
	case PROTO_EV_CONNECTED:
		return SP_EV_CONNECTED;
	case PROTO_EV_DONE:
		return SP_EV_DONE;
	case PROTO_EV_CANCEL:
		return SP_EV_CANCEL;
	case PROTO_EV_STATUS:
		return SP_EV_STATUS;
	case PROTO_EV_DISCONNECTED:
		return SP_EV_DISCONNECTED;
	case PROTO_EV_ERROR:
	default:
		return SP_EV_ERROR;
	}
}

static int
client_event_check_status(sp_client *c, struct sp_event *ev)
{
	struct json_tokener *tok;
	json_object *hosts, *workers;

	if ((tok = json_tokener_new_ex(PROTO_MAX_DEPTH)) == NULL) {
		client_seterr(c->err, sizeof c->err, "out of memory");
		return -1;
	}
	ev->status = json_tokener_parse_ex(tok, ev->line, (int)ev->linelen);
	json_tokener_free(tok);
	if (ev->status == NULL ||
	    !json_object_is_type(ev->status, json_type_object) ||
	    !json_object_object_get_ex(ev->status, "hosts", &hosts) ||
	    !json_object_is_type(hosts, json_type_array) ||
	    !json_object_object_get_ex(ev->status, "workers", &workers) ||
	    !json_object_is_type(workers, json_type_array)) {
		client_seterr(c->err, sizeof c->err,
			      "daemon sent a malformed status event");
		return -1;
	}
	return 0;
}

/* "code: message" of an error about the connection as a whole. */
static void
client_event_conn_error(const struct proto_event *pe, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s", proto_code_name(pe->code),
		 pe->message != NULL ? pe->message : "");
}

/*
 * Why the daemon ended the connection, if it said so: its last line was
 * an error without a request id (a refusal at accept, say).  The line may
 * have been decoded already or still wait, unclaimed, in the input buffer;
 * it stays there for sp_next_event either way.  1 with the text in buf,
 * else 0.
 */
int
client_event_last_word(const sp_client *c, char *buf, size_t len)
{
	struct proto_event *pe = NULL;
	struct proto_error perr;
	const char *p, *end, *nl, *last = NULL;
	size_t lastlen = 0;
	int found = 0;

	p = c->in != NULL ? c->in + c->in_off : NULL;
	end = c->in != NULL ? c->in + c->in_len : NULL;
	while (p != NULL && p < end &&
	       (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		last = p;
		lastlen = (size_t)(nl - p);
		p = nl + 1;
	}
	if (last == NULL) {
		if (c->last_error[0] == '\0')
			return 0;
		snprintf(buf, len, "%s", c->last_error);
		return 1;
	}
	memset(&perr, 0, sizeof perr);
	if (proto_event_parse(last, lastlen, &pe, &perr) == -1)
		return 0;
	if (pe->type == PROTO_EV_ERROR && pe->host == NULL &&
	    client_event_parse_id(pe->id) == 0) {
		client_event_conn_error(pe, buf, len);
		found = 1;
	}
	proto_event_free(pe);
	return found;
}

/* Record what the library itself tracks: hello limits, finished ids, the
 * last error about the connection. */
static void
client_event_note(sp_client *c, struct sp_event *ev)
{
	struct proto_event *pe = ev->pe;

	if (ev->id != 0 && ev->id == c->hello_id) {
		if (ev->type == SP_EV_HELLO && c->server == NULL) {
			c->server =
			    strdup(pe->server != NULL ? pe->server : "");
			if (pe->limits.max_line > 0)
				c->limits = pe->limits;
		} else if (ev->type == SP_EV_ERROR && pe->host == NULL)
			client_seterr(c->err, sizeof c->err,
				      "daemon refused hello: %s: %s",
				      proto_code_name(pe->code),
				      pe->message != NULL ? pe->message : "");
	}
	if (ev->type == SP_EV_ERROR && ev->id == 0 && pe->host == NULL)
		client_event_conn_error(pe, c->last_error,
					sizeof c->last_error);
	else
		c->last_error[0] = '\0';
	if (sp_event_is_final(ev))
		client_send_remove_pending(c, ev->id);
}

/* Decode the first complete line: 1 with *out, 0 if none, -1 if none and
 * there never will be. */
int
client_event_parse_next(sp_client *c, struct sp_event **out)
{
	struct proto_error perr;
	struct sp_event *ev;
	const char *line;
	size_t len;

	*out = NULL;
	if (c->failed)
		return -1;
	if (!client_io_have_line(c))
		return c->closed ? -1 : 0;
	line = c->in + c->in_off;
	len = c->in_eol - c->in_off;
	c->in_off = c->in_eol + 1;
	c->in_scan = c->in_off;
	c->in_eol = SP_NONE;

	if ((ev = calloc(1, sizeof *ev)) == NULL ||
	    (ev->line = malloc(len + 1)) == NULL) {
		free(ev);
		client_seterr(c->err, sizeof c->err, "out of memory");
		c->failed = 1;
		return -1;
	}
	memset(&perr, 0, sizeof perr);
	if (proto_event_parse(line, len, &ev->pe, &perr) == -1) {
		client_seterr(c->err, sizeof c->err,
			      "daemon sent a bad event: %s", perr.message);
		c->failed = 1;
		sp_event_free(ev);
		return -1;
	}
	ev->linelen = len;
	if (ev->pe->data_textlen > 0) {
		/* Output carries nearly every byte: copy only the rest. */
		memcpy(ev->line, line, ev->pe->data_off);
		ev->line_pending = 1;
	} else {
		memcpy(ev->line, line, len);
		ev->line[len] = '\0';
	}
	ev->type = client_event_map_type(ev->pe->type);
	ev->id = client_event_parse_id(ev->pe->id);
	if (ev->type == SP_EV_CANCEL)
		ev->target = client_event_parse_id(ev->pe->target);
	if (ev->type == SP_EV_STATUS &&
	    client_event_check_status(c, ev) == -1) {
		c->failed = 1;
		sp_event_free(ev);
		return -1;
	}
	client_event_note(c, ev);
	*out = ev;
	return 1;
}

int
sp_next_event(sp_client *c, sp_event **out)
{
	struct sp_event *ev;

	if ((ev = c->deferred) != NULL) {
		c->deferred = ev->next;
		if (c->deferred == NULL)
			c->deferred_tail = NULL;
		ev->next = NULL;
		*out = ev;
		return 1;
	}
	return client_event_parse_next(c, out);
}

/* ---- Events ---- */

static const char *sp_event_names[] = {
    [SP_EV_HELLO] = "hello",
    [SP_EV_START] = "start",
    [SP_EV_STDOUT] = "stdout",
    [SP_EV_STDERR] = "stderr",
    [SP_EV_EXIT] = "exit",
    [SP_EV_ERROR] = "error",
    [SP_EV_CONNECTED] = "connected",
    [SP_EV_DONE] = "done",
    [SP_EV_CANCEL] = "cancel",
    [SP_EV_STATUS] = "status",
    [SP_EV_DISCONNECTED] = "disconnected",
};

const char *
sp_event_type_name(enum sp_event_type t)
{
	if ((size_t)t >= sizeof sp_event_names / sizeof sp_event_names[0])
		return "unknown";
	return sp_event_names[t];
}

enum sp_event_type
sp_event_type(const sp_event *ev)
{
	return ev->type;
}

uint64_t
sp_event_request_id(const sp_event *ev)
{
	return ev->id;
}

int
sp_event_is_final(const sp_event *ev)
{
	switch (ev->type) {
	case SP_EV_DONE:
	case SP_EV_CANCEL:
	case SP_EV_STATUS:
	case SP_EV_HELLO:
		return 1;
	case SP_EV_ERROR:
		return ev->pe->host == NULL;
	default:
		return 0;
	}
}

const char *
sp_event_host(const sp_event *ev)
{
	return ev->pe->host;
}

const void *
sp_event_data(const sp_event *ev, size_t *len)
{
	int output = ev->type == SP_EV_STDOUT || ev->type == SP_EV_STDERR;

	if (len != NULL)
		*len = output ? ev->pe->len : 0;
	if (!output)
		return NULL;
	/* Empty chunks still get a valid pointer. */
	return ev->pe->data != NULL ? (const void *)ev->pe->data : "";
}

int
sp_event_exit_status(const sp_event *ev)
{
	if (ev->type != SP_EV_EXIT || ev->pe->signal != NULL)
		return -1;
	return ev->pe->status;
}

const char *
sp_event_signal(const sp_event *ev)
{
	return ev->type == SP_EV_EXIT ? ev->pe->signal : NULL;
}

const char *
sp_event_error_code(const sp_event *ev)
{
	if (ev->type != SP_EV_ERROR)
		return NULL;
	return proto_code_name(ev->pe->code);
}

const char *
sp_event_message(const sp_event *ev)
{
	if (ev->type != SP_EV_ERROR)
		return NULL;
	return ev->pe->message != NULL ? ev->pe->message : "";
}

long long
sp_event_duration_ms(const sp_event *ev)
{
	switch (ev->type) {
	case SP_EV_EXIT:
	case SP_EV_ERROR:
	case SP_EV_CONNECTED:
	case SP_EV_DISCONNECTED:
	case SP_EV_DONE:
		return ev->pe->duration_ms;
	default:
		return -1;
	}
}

int
sp_event_sessions(const sp_event *ev)
{
	if (ev->type != SP_EV_CONNECTED && ev->type != SP_EV_DISCONNECTED)
		return -1;
	return ev->pe->sessions;
}

int
sp_event_draining(const sp_event *ev)
{
	return ev->type == SP_EV_DISCONNECTED ? ev->pe->draining : -1;
}

int
sp_event_done_counts(const sp_event *ev, size_t *hosts, size_t *ok,
		     size_t *failed, size_t *errors)
{
	if (ev->type != SP_EV_DONE)
		return -1;
	if (hosts != NULL)
		*hosts = ev->pe->done.hosts;
	if (ok != NULL)
		*ok = ev->pe->done.ok;
	if (failed != NULL)
		*failed = ev->pe->done.failed;
	if (errors != NULL)
		*errors = ev->pe->done.errors;
	return 0;
}

uint64_t
sp_event_cancel_target(const sp_event *ev)
{
	return ev->type == SP_EV_CANCEL ? ev->target : 0;
}

int
sp_event_cancel_found(const sp_event *ev)
{
	return ev->type == SP_EV_CANCEL ? ev->pe->found != 0 : 0;
}

const char *
sp_event_server(const sp_event *ev)
{
	return ev->type == SP_EV_HELLO ? ev->pe->server : NULL;
}

int
sp_event_version(const sp_event *ev)
{
	return ev->type == SP_EV_HELLO ? ev->pe->version : -1;
}

const char *
sp_event_json(const sp_event *ev, size_t *len)
{
	struct sp_event *e = (struct sp_event *)ev; /* filled in once */
	const struct proto_event *pe = ev->pe;

	if (e->line_pending) {
		/* What was received: the text, then "} (see proto.h). */
		proto_b64_encode(e->line + pe->data_off, pe->data, pe->len);
		memcpy(e->line + pe->data_off + pe->data_textlen, "\"}", 3);
		e->line_pending = 0;
	}
	if (len != NULL)
		*len = ev->linelen;
	return ev->line;
}

void
sp_event_free(sp_event *ev)
{
	if (ev == NULL)
		return;
	if (ev->pe != NULL)
		proto_event_free(ev->pe);
	if (ev->status != NULL)
		json_object_put(ev->status);
	free(ev->line);
	free(ev);
}
