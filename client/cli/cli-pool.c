/* SPDX-License-Identifier: ISC */
/*
 * What connect and disconnect share: their options (hosts, user, jump
 * hosts, --json), one request for all the hosts, the event loop and one
 * result line per host.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct option cli_pool_longopts[] = {
    {"host", required_argument, NULL, 'H'},
    {"hosts", required_argument, NULL, 'h'},
    {"exclude", required_argument, NULL, 'x'},
    {"user", required_argument, NULL, 'l'},
    {"jump", required_argument, NULL, 'J'},
    {"json", no_argument, NULL, OPT_JSON},
    {"verbose", no_argument, NULL, 'v'},
    {"failed-hosts", required_argument, NULL, OPT_FAILED_HOSTS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/* The request of the running subcommand: connect or disconnect. */
static int (*cli_pool_request)(sp_client *, const sp_run_opts *, uint64_t *);

static int
cli_pool_send(struct cli *cli, struct cli_req *r)
{
	sp_run_opts *o;
	int rc;

	if ((o = cli_req_opts(cli, r)) == NULL)
		return -1;
	rc = cli_pool_request(cli->c, o, &r->id);
	if (rc == -1)
		cli_warnx("%s: %s", cli->cmdname, sp_client_error(cli->c));
	sp_run_opts_free(o);
	return rc;
}

static int
cli_pool_option(struct cli *cli, void *state, int ch, const char *arg)
{
	return cli_opt_host(cli, ch, arg);
}

static void
cli_pool_results(struct cli *cli)
{
	struct cli_host *h;
	size_t i;

	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		cli_output_host(stdout, cli->color_out, h->name);
		switch (h->state) {
		case HOST_CONNECTED:
			printf(": connected (%d sessions, %lld ms)\n",
			       h->sessions, h->duration_ms);
			break;
		case HOST_DISCONNECTED:
			printf(": disconnected (%d closed, %d draining)\n",
			       h->sessions, h->draining);
			break;
		case HOST_ERROR:
			printf(": error %s: %s\n", h->code, h->message);
			break;
		default:
			printf(": no result\n");
			break;
		}
	}
}

int
cli_pool_exec(struct cli *cli, int argc, char **argv,
	      int (*send)(sp_client *, const sp_run_opts *, uint64_t *),
	      const char *okword)
{
	size_t i, g;
	int r;

	cli_pool_request = send;
	if ((r = cli_opt_parse(cli, argc, argv, cli_pool_option, NULL)) != -1)
		return r;
	for (; optind < argc; optind++) {
		if (cli_hostset_split(argv[optind], cli_hostset_add, cli) == -1)
			return CLI_EXIT_USAGE;
	}
	if (cli_hostset_exclude(cli) == -1)
		return CLI_EXIT_USAGE;
	if (cli->hosts.n == 0 && cli->groups.n == 0) {
		cli_warnx("%s: no hosts", cli->cmdname);
		return CLI_EXIT_USAGE;
	}
	g = cli_req_group(cli, cli_xstrdup(""), NULL, 0, 0);
	for (i = 0; i < cli->hosts.n; i++)
		cli_req_add_host(&cli->reqs[g], i);
	if (cli_connect(cli) == -1)
		return CLI_EXIT_USAGE;
	cli_output_setup(cli, NULL, 1);
	if (cli_signal_catch() == -1)
		return CLI_EXIT_FAILED;
	cli->start_ms = client_clock_ms();
	if (cli_req_send_more(cli, cli_pool_send) == -1)
		return CLI_EXIT_USAGE;
	cli_loop_run(cli, cli_pool_send);
	if (!cli->json)
		cli_pool_results(cli);
	return cli_exit_finish(cli, okword, 0);
}
