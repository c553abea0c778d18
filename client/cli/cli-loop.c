/* SPDX-License-Identifier: ISC */
/*
 * The event loop of run, connect and disconnect: it drives libsshpool's
 * non-blocking core from poll() together with the interrupt pipe, keeps
 * requests flowing, turns events into host results and hands output and
 * results to the active output modes.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A host reached its terminal event. */
static void
cli_loop_host_done(struct cli *cli, struct cli_host *h)
{
	cli->ndone++;
	if (!cli_host_ok(h))
		cli->nfailed++;
	cli_output_done(cli, h);
	if (cli->stop_on_error && !cli_host_ok(h) && !cli->stopping)
		cli_req_stop(cli);
}

static struct cli_host *
cli_loop_event_host(struct cli *cli, const sp_event *ev)
{
	const char *name = sp_event_host(ev);

	if (name == NULL)
		return NULL;
	/* Members of groups are learnt from their events. */
	return &cli->hosts.v[cli_host_add(&cli->hosts, name)];
}

static void
cli_loop_event(struct cli *cli, const sp_event *ev)
{
	struct cli_host *h = cli_loop_event_host(cli, ev);
	const void *data;
	size_t len;

	if (h == NULL) {
		if (sp_event_type(ev) == SP_EV_ERROR)
			cli_req_error(cli, ev);
		return;
	}
	if (cli_host_finished(h) && h->state != HOST_SKIPPED)
		return; /* a protocol breach; keep the first result */
	switch (sp_event_type(ev)) {
	case SP_EV_START:
		h->state = HOST_STARTED;
		cli_output_start(cli, h);
		break;
	case SP_EV_STDOUT:
	case SP_EV_STDERR:
		data = sp_event_data(ev, &len);
		cli_output_data(cli, h, sp_event_type(ev) == SP_EV_STDERR, data,
				len);
		break;
	case SP_EV_EXIT:
		if (sp_event_signal(ev) != NULL) {
			h->state = HOST_SIGNAL;
			free(h->code);
			h->code = cli_xstrdup(sp_event_signal(ev));
		} else {
			h->state = HOST_EXIT;
			h->status = sp_event_exit_status(ev);
		}
		h->duration_ms = sp_event_duration_ms(ev);
		cli_loop_host_done(cli, h);
		break;
	case SP_EV_ERROR:
		cli_host_set_error(h, ev);
		cli_loop_host_done(cli, h);
		break;
	case SP_EV_CONNECTED:
		h->state = HOST_CONNECTED;
		h->sessions = sp_event_sessions(ev);
		h->duration_ms = sp_event_duration_ms(ev);
		cli_loop_host_done(cli, h);
		break;
	case SP_EV_DISCONNECTED:
		h->state = HOST_DISCONNECTED;
		h->sessions = sp_event_sessions(ev);
		h->draining = sp_event_draining(ev);
		h->duration_ms = sp_event_duration_ms(ev);
		cli_loop_host_done(cli, h);
		break;
	default:
		break;
	}
}

/*
 * Run until every request got its final event.  The first interrupt
 * cancels what runs and keeps waiting for the hosts to end; a second one
 * quits.
 */
void
cli_loop_run(struct cli *cli, cli_req_sender send)
{
	struct pollfd pfd[2];
	struct cli_req *r;
	sp_event *ev;
	int r_ev, interrupts = 0, timeout;

	for (;;) {
		if (cli_req_send_more(cli, send) == -1) {
			cli_warnx("%s", sp_client_error(cli->c));
			cli->lost = 1;
			cli_req_stop(cli);
			return;
		}
		while ((r_ev = sp_next_event(cli->c, &ev)) == 1) {
			r = cli_req_by_id(cli, sp_event_request_id(ev));
			if (r != NULL)
				cli_output_event(cli, ev);
			if (r != NULL && r->state == REQ_SENT) {
				cli_loop_event(cli, ev);
				if (sp_event_is_final(ev)) {
					r->state = REQ_DONE;
					cli->inflight--;
					cli->reqs_done++;
				}
			}
			sp_event_free(ev);
		}
		if (!cli->progress)
			fflush(stdout);
		if (cli->reqs_done == cli->nreqs)
			return;
		if (r_ev == -1) {
			cli_progress_clear(cli);
			cli_warnx("%s", sp_client_error(cli->c));
			cli->lost = 1;
			return;
		}
		if (cli_req_send_more(cli, send) == -1)
			continue;
		cli_progress_draw(cli, 0);
		pfd[0].fd = sp_fd(cli->c);
		pfd[0].events = POLLIN | (sp_want_write(cli->c) ? POLLOUT : 0);
		pfd[1].fd = cli_signal_fd();
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		timeout = cli->progress ? CLI_PROGRESS_MS : -1;
		if (poll(pfd, cli_signal_fd() != -1 ? 2 : 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			cli_warnx("poll: %s", strerror(errno));
			cli->lost = 1;
			return;
		}
		if (pfd[1].revents & POLLIN) {
			cli_signal_drain();
			cli_progress_clear(cli);
			if (++interrupts > 1) {
				cli_warnx("interrupted");
				exit(CLI_EXIT_INTERRUPTED);
			}
			cli_req_stop(cli);
			cli_warnx("cancelling (interrupt again to quit)");
		}
		if (pfd[0].revents & POLLOUT)
			(void)sp_flush(cli->c);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			(void)sp_consume(cli->c);
	}
}
