/* SPDX-License-Identifier: ISC */
/*
 * The progress line on a terminal's standard error: hosts done of all,
 * failures and elapsed time, redrawn at most every CLI_PROGRESS_MS and
 * cleared before anything else is printed.
 */
#include <stdio.h>

#include "cli.h"

void
cli_progress_clear(struct cli *cli)
{
	if (!cli->progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	cli->progress_shown = 0;
}

void
cli_progress_draw(struct cli *cli, int force)
{
	long long now = client_clock_ms();
	size_t total = cli->hosts.n;

	if (!cli->progress)
		return;
	if (!force && now - cli->last_draw_ms < CLI_PROGRESS_MS)
		return;
	cli->last_draw_ms = now;
	fflush(stdout);
	if (total < cli->ndone)
		total = cli->ndone;
	fprintf(stderr, "\r\033[K[%zu/%zu%s] %zu failed, %.1fs", cli->ndone,
		total,
		cli->groups.n > 0 && cli->reqs_done < cli->nreqs ? "+" : "",
		cli->nfailed, (double)(now - cli->start_ms) / 1000);
	fflush(stderr);
	cli->progress_shown = 1;
}
