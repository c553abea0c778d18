/* SPDX-License-Identifier: ISC */
/*
 * The blocking convenience calls built on the non-blocking core: waiting
 * for input, and waiting for one request's events while the events of
 * other requests are set aside in arrival order for sp_next_event.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "client-int.h"

/* Like sp_next_event, for one request: other requests' events are set
 * aside in arrival order. */
static int
client_wait_next_for(sp_client *c, uint64_t id, struct sp_event **out)
{
	struct sp_event *ev, **pp, *prev = NULL;
	int r;

	for (pp = &c->deferred; (ev = *pp) != NULL; pp = &ev->next) {
		if (ev->id == id) {
			*pp = ev->next;
			if (c->deferred_tail == ev)
				c->deferred_tail = prev;
			ev->next = NULL;
			*out = ev;
			return 1;
		}
		prev = ev;
	}
	while ((r = client_event_parse_next(c, &ev)) == 1) {
		if (ev->id == id) {
			*out = ev;
			return 1;
		}
		if (c->deferred_tail != NULL)
			c->deferred_tail->next = ev;
		else
			c->deferred = ev;
		c->deferred_tail = ev;
	}
	return r;
}

/* Wait for a complete line (or, with deferred, a set-aside event). */
static int
client_wait_poll(sp_client *c, int timeout_ms, int deferred)
{
	struct pollfd pfd;
	long long deadline = 0, left;
	int r, wait;

	if (timeout_ms >= 0)
		deadline = client_clock_ms() + timeout_ms;
	for (;;) {
		if ((deferred && c->deferred != NULL) || client_io_have_line(c))
			return 1;
		if (c->failed || c->closed)
			return -1;
		if (sp_want_write(c) && sp_flush(c) == -1)
			return -1;
		wait = -1;
		if (timeout_ms >= 0) {
			left = deadline - client_clock_ms();
			wait = left < 0 ? 0 : (int)left;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN | (sp_want_write(c) ? POLLOUT : 0);
		pfd.revents = 0;
		r = poll(&pfd, 1, wait);
		if (r == -1) {
			if (errno == EINTR)
				return 0;
			client_seterr(c->err, sizeof c->err, "poll: %s",
				      strerror(errno));
			return -1;
		}
		if (r == 0)
			return 0;
		if ((pfd.revents & POLLOUT) && sp_flush(c) == -1)
			return -1;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			(void)sp_consume(c);
	}
}

int
sp_wait(sp_client *c, int timeout_ms)
{
	return client_wait_poll(c, timeout_ms, 1);
}

/* Waiting is only sound for a request whose final event is still to
 * come, or already set aside; anything else would block forever. */
static int
client_wait_waitable(const sp_client *c, uint64_t id)
{
	const struct sp_event *ev;
	size_t i;

	for (i = 0; i < c->npending; i++) {
		if (c->pending[i].id == id)
			return 1;
	}
	for (ev = c->deferred; ev != NULL; ev = ev->next) {
		if (ev->id == id)
			return 1;
	}
	return 0;
}

int
sp_request_wait(sp_client *c, uint64_t id, sp_event_cb cb, void *arg)
{
	struct sp_event *ev;
	int r, final, stop;
	long long deadline = 0;

	if (!client_wait_waitable(c, id)) {
		client_seterr(c->err, sizeof c->err,
			      "request %llu is not in flight",
			      (unsigned long long)id);
		return -1;
	}
	/* Only the hello has a deadline: it guards sp_connect against a
	 * socket that is not an sshpoold. */
	if (id == c->hello_id)
		deadline = client_clock_ms() + SP_HELLO_TIMEOUT_MS;
	for (;;) {
		r = client_wait_next_for(c, id, &ev);
		if (r == -1)
			return -1;
		if (r == 1) {
			final = sp_event_is_final(ev);
			stop = cb != NULL ? cb(ev, arg) : 0;
			sp_event_free(ev);
			if (final)
				return 0;
			if (stop)
				return 1;
			continue;
		}
		if (deadline != 0) {
			long long left = deadline - client_clock_ms();

			if (left <= 0) {
				client_seterr(c->err, sizeof c->err,
					      "no reply from daemon within "
					      "%d ms",
					      SP_HELLO_TIMEOUT_MS);
				return -1;
			}
			r = client_wait_poll(c, (int)left, 0);
		} else
			r = client_wait_poll(c, -1, 0);
		if (r == -1) {
			/* Lines buffered before the end are still ours. */
			if (client_io_have_line(c) && !c->failed)
				continue;
			if (c->err[0] == '\0')
				client_seterr(c->err, sizeof c->err,
					      "connection closed");
			return -1;
		}
	}
}

int
sp_run_wait(sp_client *c, const sp_run_opts *o, sp_event_cb cb, void *arg)
{
	uint64_t id;

	if (sp_send_run(c, o, &id) == -1)
		return -1;
	return sp_request_wait(c, id, cb, arg);
}
