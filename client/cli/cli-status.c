/* SPDX-License-Identifier: ISC */
/*
 * The status subcommand: the pool's hosts and the daemon's workers as a
 * table, or the status event as JSON.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The HOST column: the pool key, and its jump hosts when it has some
 * (the same host reached directly and through hops are two pools). */
static const char *
cli_status_host(const sp_event *ev, size_t i, char *buf, size_t size)
{
	const char *host = sp_status_host_str(ev, i, "host");
	const char *jump = sp_status_host_str(ev, i, "jump");

	if (host == NULL)
		return "?";
	if (jump == NULL)
		return host;
	snprintf(buf, size, "%s via %s", host, jump);
	return buf;
}

static void
cli_status_print(const sp_event *ev)
{
	size_t i, n = sp_status_nhosts(ev), len, w = 4;
	char buf[CLI_STATUS_HOST_WIDTH * 8];

	for (i = 0; i < n; i++) {
		len = strlen(cli_status_host(ev, i, buf, sizeof buf));
		if (len > w)
			w = len;
	}
	if (w > CLI_STATUS_HOST_WIDTH)
		w = CLI_STATUS_HOST_WIDTH;
	if (n == 0)
		printf("no hosts in the pool\n");
	else
		printf("%-*s %-10s %4s %9s %6s %8s %8s %8s %5s %6s  %s\n",
		       (int)w, "HOST", "STATE", "SESS", "CHANNELS", "QUEUED",
		       "JOBS", "CONNECTS", "FAILURES", "LOST", "RTT",
		       "LAST ERROR");
	for (i = 0; i < n; i++) {
		char chan[48], rtt[24];
		long long ms = sp_status_host_int(ev, i, "rtt_ms");
		const char *host = cli_status_host(ev, i, buf, sizeof buf);
		const char *state = sp_status_host_str(ev, i, "state");
		const char *last = sp_status_host_str(ev, i, "last_error");

		snprintf(chan, sizeof chan, "%lld/%lld",
			 sp_status_host_int(ev, i, "channels_busy"),
			 sp_status_host_int(ev, i, "channels_max"));
		if (ms >= 0)
			snprintf(rtt, sizeof rtt, "%lldms", ms);
		else
			snprintf(rtt, sizeof rtt, "-");
		printf("%-*s %-10s %4lld %9s %6lld %8lld %8lld %8lld %5lld "
		       "%6s  %s\n",
		       (int)w, host, state != NULL ? state : "?",
		       sp_status_host_int(ev, i, "sessions"), chan,
		       sp_status_host_int(ev, i, "queued"),
		       sp_status_host_int(ev, i, "jobs"),
		       sp_status_host_int(ev, i, "connects"),
		       sp_status_host_int(ev, i, "failures"),
		       sp_status_host_int(ev, i, "lost"), rtt,
		       last != NULL ? last : "-");
	}
	n = sp_status_nworkers(ev);
	for (i = 0; i < n; i++)
		printf("worker %lld: %lld hosts, %lld sessions, %lld jobs, "
		       "heartbeat %lld ms ago%s\n",
		       sp_status_worker_int(ev, i, "index"),
		       sp_status_worker_int(ev, i, "hosts"),
		       sp_status_worker_int(ev, i, "sessions"),
		       sp_status_worker_int(ev, i, "jobs"),
		       sp_status_worker_int(ev, i, "heartbeat_age_ms"),
		       sp_status_worker_int(ev, i, "stuck") == 1 ? " (STUCK)"
								 : "");
}

static int
cli_status_exec(struct cli *cli, int argc, char **argv)
{
	sp_event *ev;
	uint64_t id;
	int r, count = 1;

	if ((r = cli_opt_parse(cli, argc, argv, cli_opt_simple, &count)) != -1)
		return r;
	if (optind < argc) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_connect(cli) == -1)
		return CLI_EXIT_USAGE;
	if (sp_send_status(cli->c, &id) == -1) {
		cli_warnx("status: %s", sp_client_error(cli->c));
		return CLI_EXIT_FAILED;
	}
	if (cli_req_wait_reply(cli, id, &ev) == -1)
		return CLI_EXIT_FAILED;
	if (cli->json)
		out_json_print(ev);
	r = CLI_EXIT_OK;
	if (sp_event_type(ev) == SP_EV_ERROR) {
		cli_warnx("status: %s: %s", sp_event_error_code(ev),
			  sp_event_message(ev));
		r = CLI_EXIT_FAILED;
	} else if (!cli->json)
		cli_status_print(ev);
	sp_event_free(ev);
	return r;
}

const struct cli_cmd cli_cmd_status = {
    .name = "status",
    .usage = "status [--json]",
    .shortopts = "+",
    .longopts = cli_opt_simple_longopts,
    .exec = cli_status_exec,
};
