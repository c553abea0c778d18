/* SPDX-License-Identifier: ISC */
/*
 * Recording and checking the events of raw-protocol requests in the tests
 * (see tcollect.h).  Records are allocated one by one, so a pointer to a
 * request or host stays valid while more events arrive, until
 * tcollect_free.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tclient.h"
#include "tcollect.h"
#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"

void
tcollect_init(struct tcollect *k)
{
	memset(k, 0, sizeof *k);
}

void
tcollect_free(struct tcollect *k)
{
	struct tcollect_req *r;
	size_t i, j;

	for (i = 0; i < k->nreqs; i++) {
		r = k->reqs[i];
		for (j = 0; j < r->nhosts; j++) {
			free(r->hosts[j]->out);
			free(r->hosts[j]->err);
			free(r->hosts[j]);
		}
		free(r->hosts);
		free(r);
	}
	free(k->reqs);
	free(k->status);
	memset(k, 0, sizeof *k);
}

static void tcollect_problem(struct tcollect *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
tcollect_problem(struct tcollect *k, const char *fmt, ...)
{
	va_list ap;

	if (k->problem[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(k->problem, sizeof k->problem, fmt, ap);
	va_end(ap);
}

struct tcollect_req *
tcollect_req(const struct tcollect *k, const char *id)
{
	size_t i;

	for (i = 0; i < k->nreqs; i++)
		if (strcmp(k->reqs[i]->id, id) == 0)
			return k->reqs[i];
	return NULL;
}

struct tcollect_host *
tcollect_req_host(const struct tcollect_req *r, const char *host)
{
	size_t i;

	for (i = 0; i < r->nhosts; i++)
		if (strcmp(r->hosts[i]->host, host) == 0)
			return r->hosts[i];
	return NULL;
}

struct tcollect_host *
tcollect_host(const struct tcollect *k, const char *id, const char *host)
{
	const struct tcollect_req *r = tcollect_req(k, id);

	return r == NULL ? NULL : tcollect_req_host(r, host);
}

static struct tcollect_req *
tcollect_req_new(struct tcollect *k, const char *id)
{
	struct tcollect_req *r;

	if (k->nreqs == k->capreqs) {
		k->capreqs = k->capreqs ? k->capreqs * 2 : 16;
		k->reqs = realloc(k->reqs, k->capreqs * sizeof *k->reqs);
		ck_assert_ptr_nonnull(k->reqs);
	}
	r = calloc(1, sizeof *r);
	ck_assert_ptr_nonnull(r);
	snprintf(r->id, sizeof r->id, "%s", id);
	k->reqs[k->nreqs++] = r;
	return r;
}

static struct tcollect_host *
tcollect_host_new(struct tcollect *k, struct tcollect_req *r, const char *host)
{
	struct tcollect_host *h;

	if (r->nhosts == r->caphosts) {
		r->caphosts = r->caphosts ? r->caphosts * 2 : 8;
		r->hosts = realloc(r->hosts, r->caphosts * sizeof *r->hosts);
		ck_assert_ptr_nonnull(r->hosts);
	}
	h = calloc(1, sizeof *h);
	ck_assert_ptr_nonnull(h);
	h->out = calloc(1, 1);
	h->err = calloc(1, 1);
	ck_assert(h->out != NULL && h->err != NULL);
	snprintf(h->id, sizeof h->id, "%s", r->id);
	snprintf(h->host, sizeof h->host, "%s", host);
	h->status = -2;
	r->hosts[r->nhosts++] = h;
	k->nhosts++;
	return h;
}

struct tcollect_req *
tcollect_expect(struct tcollect *k, const char *id, const char *const *hosts,
		size_t n)
{
	struct tcollect_req *r;
	size_t i;

	ck_assert_msg(tcollect_req(k, id) == NULL, "id %s reused", id);
	r = tcollect_req_new(k, id);
	r->expected = 1;
	for (i = 0; i < n; i++)
		tcollect_host_new(k, r, hosts[i]);
	r->t_sent = testutil_now_ms();
	return r;
}

/* Keep the first k->keep bytes of a stream, NUL-terminated. */
static void
tcollect_keep(const struct tcollect *k, char **buf, size_t *len,
	      const unsigned char *data, size_t n)
{
	if (*len + n > k->keep)
		n = *len < k->keep ? k->keep - *len : 0;
	if (n == 0)
		return;
	*buf = realloc(*buf, *len + n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
tcollect_host_event(struct tcollect *k, struct tcollect_req *r,
		    const struct proto_event *ev)
{
	const char *name = proto_event_name(ev->type);
	struct tcollect_host *h = tcollect_req_host(r, ev->host);

	if (h == NULL && r->expected) {
		tcollect_problem(k, "%s for unknown host %s of %s", name,
				 ev->host, r->id);
		return;
	}
	if (h == NULL)
		h = tcollect_host_new(k, r, ev->host);
	if (h->terminals > 0) {
		tcollect_problem(k, "%s after the terminal event on %s of %s",
				 name, ev->host, r->id);
		return;
	}
	switch (ev->type) {
	case PROTO_EV_START:
		if (h->starts++ > 0)
			tcollect_problem(k, "second start on %s of %s",
					 ev->host, r->id);
		break;
	case PROTO_EV_STDOUT:
	case PROTO_EV_STDERR:
		if (h->starts == 0)
			tcollect_problem(k, "%s before start on %s of %s", name,
					 ev->host, r->id);
		if (ev->len > PROTO_MAX_CHUNK)
			tcollect_problem(k, "%s chunk over 64 KiB on %s of %s",
					 name, ev->host, r->id);
		if (ev->type == PROTO_EV_STDOUT) {
			if (h->outbytes == 0)
				h->t_first_out = testutil_now_ms();
			h->outbytes += ev->len;
			tcollect_keep(k, &h->out, &h->outlen, ev->data,
				      ev->len);
		} else {
			h->errbytes += ev->len;
			tcollect_keep(k, &h->err, &h->errlen, ev->data,
				      ev->len);
		}
		break;
	case PROTO_EV_EXIT:
		if (h->starts == 0)
			tcollect_problem(k, "exit before start on %s of %s",
					 ev->host, r->id);
		h->terminals++;
		h->exited = 1;
		h->status = ev->status;
		if (ev->signal != NULL)
			snprintf(h->signal, sizeof h->signal, "%s", ev->signal);
		h->duration_ms = ev->duration_ms;
		h->t_terminal = testutil_now_ms();
		break;
	case PROTO_EV_ERROR:
		h->terminals++;
		h->code = ev->code;
		snprintf(h->message, sizeof h->message, "%s",
			 ev->message ? ev->message : "");
		h->duration_ms = ev->duration_ms;
		h->t_terminal = testutil_now_ms();
		break;
	case PROTO_EV_CONNECTED:
		h->terminals++;
		h->connected = 1;
		h->sessions = ev->sessions;
		h->duration_ms = ev->duration_ms;
		h->t_terminal = testutil_now_ms();
		break;
	default:
		break;
	}
}

/* A done or request-level error of r. */
static void
tcollect_end(struct tcollect *k, struct tcollect_req *r,
	     const struct proto_event *ev)
{
	size_t i;

	if (r->ends++ > 0)
		tcollect_problem(k, "second end of %s", r->id);
	k->nends++;
	r->t_end = testutil_now_ms();
	if (ev->type == PROTO_EV_ERROR) {
		r->reqerr = 1;
		r->code = ev->code;
		snprintf(r->message, sizeof r->message, "%s",
			 ev->message ? ev->message : "");
		return;
	}
	r->done = ev->done;
	if (!r->expected)
		return;
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i]->terminals != 1)
			tcollect_problem(k, "done of %s before the end of %s",
					 r->id, r->hosts[i]->host);
}

/* Events that belong to a request: host events, done and its errors. */
static void
tcollect_req_event(struct tcollect *k, const struct proto_event *ev,
		   const char *line)
{
	const char *name = proto_event_name(ev->type);
	struct tcollect_req *r = tcollect_req(k, ev->id);
	int host_event = ev->type != PROTO_EV_DONE &&
			 (ev->type != PROTO_EV_ERROR || ev->host != NULL);

	if (k->known_ids && (r == NULL || !r->expected)) {
		tcollect_problem(k, "%s for unknown id %s: %.200s", name,
				 ev->id, line ? line : "");
		return;
	}
	if (r != NULL && r->expected && r->ends > 0) {
		tcollect_problem(k, "%s after the end of %s", name, r->id);
		return;
	}
	if (host_event && ev->host == NULL) {
		tcollect_problem(k, "%s without host, id %s", name, ev->id);
		return;
	}
	if (!host_event && ev->type == PROTO_EV_ERROR) {
		k->reqerrors++;
		k->reqcode = ev->code;
		if (strcmp(ev->id, "null") == 0) {
			k->nullerrors++;
			k->nullcode = ev->code;
			snprintf(k->nullmsg, sizeof k->nullmsg, "%s",
				 ev->message ? ev->message : "");
			return;
		}
	}
	if (r == NULL)
		r = tcollect_req_new(k, ev->id);
	if (host_event)
		tcollect_host_event(k, r, ev);
	else
		tcollect_end(k, r, ev);
}

void
tcollect_event(struct tcollect *k, const struct proto_event *ev,
	       const char *line)
{
	switch (ev->type) {
	case PROTO_EV_STATUS:
		k->statuses++;
		free(k->status);
		k->status = strdup(ev->json ? ev->json : line);
		ck_assert_ptr_nonnull(k->status);
		snprintf(k->status_id, sizeof k->status_id, "%s", ev->id);
		return;
	case PROTO_EV_CANCEL:
		k->cancels++;
		snprintf(k->cancel_target, sizeof k->cancel_target, "%s",
			 ev->target);
		k->cancel_found = ev->found;
		return;
	case PROTO_EV_HELLO:
		if (k->known_ids) {
			tcollect_problem(k, "hello for unknown id %s", ev->id);
			return;
		}
		k->hellos++;
		k->hello = *ev;
		k->hello.host = NULL;
		k->hello.data = NULL;
		k->hello.signal = k->hello.message = k->hello.json = NULL;
		k->hello.server = NULL;
		return;
	case PROTO_EV_START:
	case PROTO_EV_STDOUT:
	case PROTO_EV_STDERR:
	case PROTO_EV_EXIT:
	case PROTO_EV_CONNECTED:
	case PROTO_EV_ERROR:
	case PROTO_EV_DONE:
		tcollect_req_event(k, ev, line);
		return;
	default:
		tcollect_problem(k, "unexpected event %s (id %s)",
				 proto_event_name(ev->type), ev->id);
		return;
	}
}

static void
tcollect_record(struct tclient *c, struct tcollect *k, struct proto_event *ev,
		char *line)
{
	tcollect_event(k, ev, line);
	proto_event_free(ev);
	free(line);
	if (k->on_event != NULL)
		k->on_event(k, c, k->arg);
}

void
tcollect_read(struct tclient *c, struct tcollect *k, int timeout_ms)
{
	struct proto_event *ev;
	char *line;

	ck_assert_msg(tclient_next(c, timeout_ms, &ev, &line) == 0,
		      "reading events: %s", tclient_error(c));
	tcollect_record(c, k, ev, line);
}

int
tcollect_poll(struct tclient *c, struct tcollect *k, int timeout_ms)
{
	struct proto_event *ev;
	char *line;

	if (tclient_next(c, timeout_ms, &ev, &line) == -1) {
		ck_assert_msg(strstr(tclient_error(c), "timeout") != NULL,
			      "reading events: %s", tclient_error(c));
		return 0;
	}
	tcollect_record(c, k, ev, line);
	return 1;
}

/* The wait for the next event of a wait with left ms to go. */
static int
tcollect_next_ms(const struct tcollect *k, long long left)
{
	if (k->event_ms > 0 && left > k->event_ms)
		return k->event_ms;
	return (int)left;
}

struct tcollect_req *
tcollect_wait_end(struct tclient *c, struct tcollect *k, const char *id,
		  int timeout_ms)
{
	long long deadline = testutil_now_ms() + timeout_ms, left;
	struct tcollect_req *r;

	while ((r = tcollect_req(k, id)) == NULL || r->ends == 0) {
		left = deadline - testutil_now_ms();
		ck_assert_msg(left > 0, "request %s did not end within %d ms",
			      id, timeout_ms);
		tcollect_read(c, k, tcollect_next_ms(k, left));
	}
	return r;
}

struct tcollect_host *
tcollect_wait_start(struct tclient *c, struct tcollect *k, const char *id,
		    const char *host, int timeout_ms)
{
	long long deadline = testutil_now_ms() + timeout_ms, left;
	const struct tcollect_req *r;
	struct tcollect_host *h;

	while ((h = tcollect_host(k, id, host)) == NULL || h->starts == 0) {
		r = tcollect_req(k, id);
		ck_assert_msg(h != NULL || r == NULL || !r->expected,
			      "%s is not a host of %s", host, id);
		ck_assert_msg(h == NULL || h->terminals == 0,
			      "%s on %s ended before starting: %s (%s)", id,
			      host, proto_code_name(h->code), h->message);
		left = deadline - testutil_now_ms();
		ck_assert_msg(left > 0, "no start for %s on %s", id, host);
		tcollect_read(c, k, tcollect_next_ms(k, left));
	}
	return h;
}

void
tcollect_wait_status(struct tclient *c, struct tcollect *k, const char *id,
		     int timeout_ms)
{
	long long deadline = testutil_now_ms() + timeout_ms, left;

	free(k->status);
	k->status = NULL;
	while (k->status == NULL ||
	       (id != NULL && strcmp(k->status_id, id) != 0)) {
		left = deadline - testutil_now_ms();
		ck_assert_msg(left > 0, "no status reply");
		tcollect_read(c, k, tcollect_next_ms(k, left));
	}
}

void
tcollect_check(const struct tcollect *k)
{
	ck_assert_msg(k->problem[0] == '\0', "protocol violation: %s",
		      k->problem);
}
