/* SPDX-License-Identifier: ISC */
/*
 * Embedding libsshpool in a plain poll() loop: run "uptime" on the hosts
 * given as arguments and print every event as it arrives, while the loop
 * stays free to watch other descriptors (here: standard input, where any
 * line cancels the run).
 *
 *	poll-loop host1 host2 ...
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "sshpool.h"

static void
print_event(const sp_event *ev)
{
	const char *host = sp_event_host(ev);
	const char *data;
	size_t len;

	switch (sp_event_type(ev)) {
	case SP_EV_STDOUT:
	case SP_EV_STDERR:
		data = sp_event_data(ev, &len);
		printf("%s %s: %.*s", sp_event_type_name(sp_event_type(ev)),
		       host, (int)len, data);
		break;
	case SP_EV_EXIT:
		printf("%s: exit %d\n", host, sp_event_exit_status(ev));
		break;
	case SP_EV_ERROR:
		printf("%s: %s: %s\n", host != NULL ? host : "request",
		       sp_event_error_code(ev), sp_event_message(ev));
		break;
	default:
		printf("%s\n", sp_event_json(ev, NULL));
		break;
	}
}

int
main(int argc, char **argv)
{
	char err[256], line[256];
	sp_client *c;
	sp_run_opts *o;
	sp_event *ev;
	struct pollfd pfd[2];
	uint64_t id;
	int i, r, done = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s host ...\n", argv[0]);
		return 2;
	}
	/* The non-blocking start: hello is queued, its reply is an event. */
	if ((c = sp_connect_start(NULL, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	o = sp_run_opts_new();
	for (i = 1; i < argc; i++)
		sp_run_opts_add_host(o, argv[i]);
	sp_run_opts_set_command(o, "uptime");
	if (sp_send_run(c, o, &id) == -1) {
		fprintf(stderr, "run: %s\n", sp_client_error(c));
		return 1;
	}
	sp_run_opts_free(o);

	while (!done) {
		pfd[0].fd = sp_fd(c);
		pfd[0].events = POLLIN | (sp_want_write(c) ? POLLOUT : 0);
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1)
			continue;
		if ((pfd[1].revents & POLLIN) &&
		    read(STDIN_FILENO, line, sizeof line) > 0)
			sp_send_cancel(c, id, NULL);
		if (pfd[0].revents & POLLOUT)
			sp_flush(c);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			sp_consume(c);
		/* Drain every buffered event before polling again. */
		while ((r = sp_next_event(c, &ev)) == 1) {
			print_event(ev);
			if (sp_event_request_id(ev) == id &&
			    sp_event_is_final(ev))
				done = 1;
			sp_event_free(ev);
		}
		if (r == -1) {
			fprintf(stderr, "%s\n", sp_client_error(c));
			break;
		}
	}
	sp_close(c);
	return done ? 0 : 1;
}
