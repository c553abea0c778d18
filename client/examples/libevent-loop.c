/* SPDX-License-Identifier: ISC */
/*
 * Embedding libsshpool in a libevent loop: run a command on the hosts given
 * as arguments and print each host's result as it ends.  The client's
 * socket is one persistent EV_READ event; an EV_WRITE event is added only
 * while the library has queued bytes (sp_want_write), and SIGINT cancels
 * the run from the same loop.  The loop ends when the run's final event
 * arrives.
 *
 *	libevent-loop 'uptime' host1 host2 ...
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include <event2/event.h>

#include "sshpool.h"

struct app {
	struct event_base *base;
	sp_client *c;
	struct event *rd, *wr, *sig;
	uint64_t id;
	int failed;
};

/* Keep the write event in step with the library's queue. */
static void
app_arm_write(struct app *a)
{
	if (sp_want_write(a->c))
		event_add(a->wr, NULL);
	else
		event_del(a->wr);
}

static void
app_event(struct app *a, const sp_event *ev)
{
	const char *host = sp_event_host(ev);
	const void *data;
	size_t len;

	switch (sp_event_type(ev)) {
	case SP_EV_STDOUT:
	case SP_EV_STDERR:
		data = sp_event_data(ev, &len);
		printf("%s: %.*s", host, (int)len, (const char *)data);
		break;
	case SP_EV_EXIT:
		if (sp_event_exit_status(ev) != 0)
			a->failed = 1;
		printf("%s: exit %d after %lld ms\n", host,
		       sp_event_exit_status(ev), sp_event_duration_ms(ev));
		break;
	case SP_EV_ERROR:
		a->failed = 1;
		printf("%s: %s: %s\n", host != NULL ? host : "request",
		       sp_event_error_code(ev), sp_event_message(ev));
		break;
	default:
		break;
	}
	if (sp_event_request_id(ev) == a->id && sp_event_is_final(ev))
		event_base_loopbreak(a->base);
}

static void
app_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;
	sp_event *ev;
	int r;

	(void)fd;
	(void)what;
	sp_consume(a->c);
	/* Drain every buffered event: the library reads no more while
	 * events wait unclaimed. */
	while ((r = sp_next_event(a->c, &ev)) == 1) {
		app_event(a, ev);
		sp_event_free(ev);
	}
	if (r == -1) {
		fprintf(stderr, "%s\n", sp_client_error(a->c));
		a->failed = 1;
		event_base_loopbreak(a->base);
	}
	app_arm_write(a);
}

static void
app_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;

	(void)fd;
	(void)what;
	sp_flush(a->c);
	app_arm_write(a);
}

static void
app_on_sigint(evutil_socket_t sig, short what, void *arg)
{
	struct app *a = arg;

	(void)sig;
	(void)what;
	fprintf(stderr, "cancelling\n");
	sp_send_cancel(a->c, a->id, NULL);
	app_arm_write(a);
}

int
main(int argc, char **argv)
{
	struct app a = {0};
	sp_run_opts *o;
	char err[256];
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s command host ...\n", argv[0]);
		return 2;
	}
	if ((a.c = sp_connect_start(NULL, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	o = sp_run_opts_new();
	sp_run_opts_set_command(o, argv[1]);
	for (i = 2; i < argc; i++) {
		if (sp_run_opts_add_hosts(o, argv[i]) == -1) {
			fprintf(stderr, "%s: %s\n", argv[i],
				sp_run_opts_error(o));
			return 2;
		}
	}
	if (sp_send_run(a.c, o, &a.id) == -1) {
		fprintf(stderr, "run: %s\n", sp_client_error(a.c));
		return 2;
	}
	sp_run_opts_free(o);

	a.base = event_base_new();
	a.rd = event_new(a.base, sp_fd(a.c), EV_READ | EV_PERSIST, app_on_read,
			 &a);
	a.wr = event_new(a.base, sp_fd(a.c), EV_WRITE | EV_PERSIST,
			 app_on_write, &a);
	a.sig = evsignal_new(a.base, SIGINT, app_on_sigint, &a);
	event_add(a.rd, NULL);
	event_add(a.sig, NULL);
	app_arm_write(&a);
	event_base_dispatch(a.base);

	event_free(a.rd);
	event_free(a.wr);
	event_free(a.sig);
	event_base_free(a.base);
	sp_close(a.c);
	return a.failed ? 1 : 0;
}
