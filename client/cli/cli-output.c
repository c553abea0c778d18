/* SPDX-License-Identifier: ISC */
/*
 * Output modes: the table of them (live, inline, gather, outdir, json; one
 * file each, out-<name>.c), choosing the active ones with colors and the
 * progress line, calling their hooks, and host names in color.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_out *const cli_output_table[] = {
    &out_live, &out_inline, &out_gather, &out_outdir, &out_json,
};

static const char *const cli_output_colors[] = {
    "\033[1;31m", "\033[1;32m", "\033[1;33m",
    "\033[1;34m", "\033[1;35m", "\033[1;36m",
};

const struct cli_out *
cli_output_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof cli_output_table / sizeof cli_output_table[0];
	     i++) {
		if (strcmp(cli_output_table[i]->name, name) == 0)
			return cli_output_table[i];
	}
	return NULL;
}

void
cli_output_host(FILE *f, int color, const char *host)
{
	if (color)
		fprintf(f, "%s%s%s", cli_output_colors[cli_hash(host) % 6],
			host, CLI_COLOR_RESET);
	else
		fputs(host, f);
}

/* Colors and the progress line from --color and --no-progress, and the
 * active output modes: outdir with -o or -e, then json, or -i, -b, or
 * live. */
void
cli_output_setup(struct cli *cli, const char *color, int no_progress)
{
	int out_tty = isatty(STDOUT_FILENO), err_tty = isatty(STDERR_FILENO);

	if (color == NULL)
		color = "auto";
	if (strcmp(color, "always") == 0)
		cli->color_out = cli->color_err = 1;
	else if (strcmp(color, "auto") == 0) {
		cli->color_out = out_tty;
		cli->color_err = err_tty;
	}
	cli->progress = err_tty && !cli->json && !no_progress;
	if (cli->json)
		cli->color_out = cli->color_err = 0;
	cli->nouts = 0;
	if (cli->outdir != NULL || cli->errdir != NULL)
		cli->outs[cli->nouts++] = &out_outdir;
	if (cli->json)
		cli->outs[cli->nouts++] = &out_json;
	else
		cli->outs[cli->nouts++] =
		    cli->display != NULL ? cli->display : &out_live;
}

void
cli_output_start(struct cli *cli, struct cli_host *h)
{
	size_t i;

	for (i = 0; i < cli->nouts; i++) {
		if (cli->outs[i]->start != NULL)
			cli->outs[i]->start(cli, h);
	}
}

void
cli_output_event(struct cli *cli, const sp_event *ev)
{
	size_t i;

	for (i = 0; i < cli->nouts; i++) {
		if (cli->outs[i]->event != NULL)
			cli->outs[i]->event(cli, ev);
	}
}

void
cli_output_data(struct cli *cli, struct cli_host *h, int is_err,
		const void *data, size_t len)
{
	size_t i;

	for (i = 0; i < cli->nouts; i++) {
		if (cli->outs[i]->data != NULL)
			cli->outs[i]->data(cli, h, is_err, data, len);
	}
}

void
cli_output_done(struct cli *cli, struct cli_host *h)
{
	size_t i;

	for (i = 0; i < cli->nouts; i++) {
		if (cli->outs[i]->done != NULL)
			cli->outs[i]->done(cli, h);
	}
}

void
cli_output_end(struct cli *cli)
{
	size_t i;

	for (i = 0; i < cli->nouts; i++) {
		if (cli->outs[i]->end != NULL)
			cli->outs[i]->end(cli);
	}
}
