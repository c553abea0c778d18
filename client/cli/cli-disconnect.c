/* SPDX-License-Identifier: ISC */
/*
 * The disconnect subcommand: close hosts' pooled connections, letting
 * running commands finish.
 */
#include "cli.h"

static int
cli_disconnect_exec(struct cli *cli, int argc, char **argv)
{
	return cli_pool_exec(cli, argc, argv, sp_send_disconnect,
			     "disconnected");
}

const struct cli_cmd cli_cmd_disconnect = {
    .name = "disconnect",
    .usage = "disconnect [-H hosts] [-h file] [-x hosts] [-l user] "
	     "[-J jump] [--json] [hosts ...]",
    .shortopts = "+H:h:x:l:J:v",
    .longopts = cli_pool_longopts,
    .exec = cli_disconnect_exec,
};
