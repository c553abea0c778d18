/* SPDX-License-Identifier: ISC */
/*
 * The connect subcommand: open pooled connections to hosts ahead of use.
 */
#include "cli.h"

static int
cli_connect_exec(struct cli *cli, int argc, char **argv)
{
	return cli_pool_exec(cli, argc, argv, sp_send_connect_opts,
			     "connected");
}

const struct cli_cmd cli_cmd_connect = {
    .name = "connect",
    .usage = "connect [-H hosts] [-h file] [-x hosts] [-l user] [-J jump] "
	     "[--json] [hosts ...]",
    .shortopts = "+H:h:x:l:J:v",
    .longopts = cli_pool_longopts,
    .exec = cli_connect_exec,
};
