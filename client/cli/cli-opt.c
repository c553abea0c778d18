/* SPDX-License-Identifier: ISC */
/*
 * Option parsing shared by the subcommands: the getopt_long loop driven by
 * a subcommand's argument spec, with --help and unknown options handled
 * the same way everywhere; the options every host command takes; the
 * options of status and ping; and seconds as option values.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct option cli_opt_simple_longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"count", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/*
 * Parse the options of cli->cmd, giving each to fn.  Returns -1 when the
 * subcommand goes on (its operands start at argv[optind]), else the exit
 * status: --help prints the usage, an unknown option prints it to stderr.
 */
int
cli_opt_parse(struct cli *cli, int argc, char **argv, cli_opt_fn fn,
	      void *state)
{
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, cli->cmd->shortopts,
				 cli->cmd->longopts, NULL)) != -1) {
		if ((r = fn(cli, state, ch, optarg)) == 1)
			continue;
		if (r == -1)
			return CLI_EXIT_USAGE;
		if (ch == OPT_HELP) {
			cli_usage(stdout);
			return CLI_EXIT_OK;
		}
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int
cli_opt_seconds(const char *opt, const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(*out) ||
	    *out <= 0 || *out > 604800) {
		cli_warnx("%s %s: expected seconds > 0 and <= 604800", opt,
			  arg);
		return -1;
	}
	return 0;
}

/* -J/--jump: checked now, so a bad hop is a usage error naming it. */
static int
cli_opt_jump(struct cli *cli, const char *arg)
{
	sp_run_opts *o;
	int rc;

	if ((o = sp_run_opts_new()) == NULL)
		cli_nomem();
	rc = sp_run_opts_set_jump(o, arg);
	if (rc == -1)
		cli_warnx("%s: -J %s: %s", cli->cmdname, arg,
			  sp_run_opts_error(o));
	else
		cli->jump = arg;
	sp_run_opts_free(o);
	return rc == -1 ? -1 : 1;
}

/* Options common to every host command; 1 if ch was one, -1 on error. */
int
cli_opt_host(struct cli *cli, int ch, const char *arg)
{
	switch (ch) {
	case 'H':
		return cli_hostset_split(arg, cli_hostset_add, cli) == -1 ? -1
									  : 1;
	case 'h':
		return cli_hostset_read(cli, arg) == -1 ? -1 : 1;
	case 'x':
		return cli_hostset_split(arg, cli_hostset_add_exclude, cli) ==
			       -1
			   ? -1
			   : 1;
	case 'l':
		cli->user = arg;
		return 1;
	case 'J':
		return cli_opt_jump(cli, arg);
	case OPT_JSON:
		cli->json = 1;
		return 1;
	case 'v':
		cli->verbose = 1;
		return 1;
	case OPT_FAILED_HOSTS:
		cli->failed_hosts = arg;
		return 1;
	default:
		return 0;
	}
}

/* status and ping: --json, and -c/--count (state is the count). */
int
cli_opt_simple(struct cli *cli, void *state, int ch, const char *arg)
{
	int *count = state;
	char *end;
	long v;

	switch (ch) {
	case OPT_JSON:
		cli->json = 1;
		return 1;
	case 'c':
		v = strtol(arg, &end, 10);
		if (*end != '\0' || v < 1 || v > CLI_MAX_PING) {
			cli_warnx("-c %s: expected 1..%d", arg, CLI_MAX_PING);
			return -1;
		}
		*count = (int)v;
		return 1;
	default:
		return 0;
	}
}
