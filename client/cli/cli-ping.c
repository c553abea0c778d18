/* SPDX-License-Identifier: ISC */
/*
 * The ping subcommand: hello round trips to the daemon, with their times.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "cli.h"

static int
cli_ping_exec(struct cli *cli, int argc, char **argv)
{
	sp_event *ev;
	uint64_t id;
	long long t0, t1;
	double ms, min = 0, max = 0, sum = 0;
	int r, i, count = 1, version = 0;
	char server[256];

	if ((r = cli_opt_parse(cli, argc, argv, cli_opt_simple, &count)) != -1)
		return r;
	if (optind < argc) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_connect(cli) == -1)
		return CLI_EXIT_USAGE;
	snprintf(server, sizeof server, "%s",
		 sp_server_name(cli->c) != NULL ? sp_server_name(cli->c) : "?");
	for (i = 0; i < count; i++) {
		t0 = client_clock_ns();
		if (sp_send_hello(cli->c, &id) == -1) {
			cli_warnx("ping: %s", sp_client_error(cli->c));
			return CLI_EXIT_FAILED;
		}
		if (cli_req_wait_reply(cli, id, &ev) == -1)
			return CLI_EXIT_FAILED;
		t1 = client_clock_ns();
		ms = (double)(t1 - t0) / 1e6;
		if (sp_event_type(ev) != SP_EV_HELLO) {
			cli_warnx("ping: %s: %s", sp_event_error_code(ev),
				  sp_event_message(ev));
			sp_event_free(ev);
			return CLI_EXIT_FAILED;
		}
		version = sp_event_version(ev);
		if (sp_event_server(ev) != NULL)
			snprintf(server, sizeof server, "%s",
				 sp_event_server(ev));
		sp_event_free(ev);
		if (i == 0 || ms < min)
			min = ms;
		if (ms > max)
			max = ms;
		sum += ms;
		if (cli->json) {
			json_object *o = json_object_new_object();
			char num[32];

			json_object_object_add(o, "server",
					       json_object_new_string(server));
			json_object_object_add(o, "version",
					       json_object_new_int(version));
			snprintf(num, sizeof num, "%.3f", ms);
			json_object_object_add(
			    o, "rtt_ms", json_object_new_double_s(ms, num));
			printf("%s\n",
			       json_object_to_json_string_ext(
				   o, JSON_C_TO_STRING_PLAIN |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		}
	}
	if (cli->json)
		return CLI_EXIT_OK;
	if (count == 1)
		printf("%s protocol %d: %.3f ms\n", server, version, sum);
	else
		printf("%s protocol %d: %d round trips, min/avg/max "
		       "%.3f/%.3f/%.3f ms\n",
		       server, version, count, min, sum / count, max);
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_ping = {
    .name = "ping",
    .usage = "ping [-c count] [--json]",
    .shortopts = "+c:",
    .longopts = cli_opt_simple_longopts,
    .exec = cli_ping_exec,
};
