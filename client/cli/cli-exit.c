/* SPDX-License-Identifier: ISC */
/*
 * The end of a host command: the counts line, the --failed-hosts file and
 * the exit status (the largest remote exit status for run, 255 when a
 * host had an error or a signal, 1 for a failed connect or disconnect).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int
cli_exit_failed_hosts(struct cli *cli)
{
	FILE *f;
	size_t i;

	if ((f = fopen(cli->failed_hosts, "w")) == NULL) {
		cli_warnx("%s: %s", cli->failed_hosts, strerror(errno));
		return -1;
	}
	for (i = 0; i < cli->hosts.n; i++) {
		if (!cli_host_ok(&cli->hosts.v[i]))
			fprintf(f, "%s\n", cli->hosts.v[i].name);
	}
	if (fclose(f) == EOF) {
		cli_warnx("%s: %s", cli->failed_hosts, strerror(errno));
		return -1;
	}
	return 0;
}

/* Counts, the summary, the failed-hosts file; returns the exit status. */
int
cli_exit_finish(struct cli *cli, const char *okword, int is_run)
{
	size_t i, ok = 0, failed = 0, errors = 0;
	struct cli_host *h;
	int worst = 0;

	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if (cli_host_ok(h))
			ok++;
		else if (h->state == HOST_EXIT) {
			failed++;
			if (h->status > worst)
				worst = h->status;
		} else if (h->state == HOST_SIGNAL) {
			failed++;
			worst = CLI_EXIT_HOST_ERROR;
		} else {
			errors++;
			worst = CLI_EXIT_HOST_ERROR;
		}
	}
	if (cli->req_error != NULL || cli->lost)
		worst = CLI_EXIT_HOST_ERROR;
	cli_progress_clear(cli);
	fflush(stdout);
	if (cli->req_error != NULL)
		cli_warnx("%s", cli->req_error);
	if (!cli->json) {
		cli_summary_table(cli);
		fprintf(stderr, "%zu hosts: %zu %s, %zu failed, %zu errors\n",
			cli->hosts.n, ok, okword, failed, errors);
	}
	if (cli->failed_hosts != NULL && cli_exit_failed_hosts(cli) == -1 &&
	    worst == 0)
		worst = CLI_EXIT_FAILED;
	if (!is_run)
		return worst == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	if (worst > CLI_EXIT_HOST_ERROR || worst < 0)
		worst = CLI_EXIT_HOST_ERROR;
	return worst;
}
