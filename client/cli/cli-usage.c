/* SPDX-License-Identifier: ISC */
/*
 * The usage text: one line per subcommand, read from the subcommand
 * table, then the options of all of them.
 */
#include <stdio.h>

#include "cli.h"

void
cli_usage(FILE *f)
{
	size_t i;

	for (i = 0; i < cli_ncommands; i++)
		fprintf(f, "%s %s [-s socket] %s\n",
			i == 0 ? "usage:" : "      ", cli_progname,
			cli_commands[i]->usage);
	fprintf(f, "       %s --help | -V\n", cli_progname);
	fputs("\n"
	      "  -s, --socket PATH     the daemon's socket (default "
	      "$SSHPOOL_SOCKET, else the\n"
	      "                        daemon's default path)\n"
	      "  -V, --version         print the version\n"
	      "\n"
	      "Hosts (run, connect, disconnect):\n"
	      "  -H, --host LIST       hosts, comma-separated; repeatable. "
	      "[user@]host[:port],\n"
	      "                        ranges web[01-20].example, "
	      "10.0.[0-3].[1-254], groups @NAME\n"
	      "  -h, --hosts FILE      one host (or pattern, or @group) per "
	      "line, # comments\n"
	      "  -x, --exclude LIST    leave out these hosts (ranges, globs "
	      "web*); repeatable\n"
	      "  -l, --user USER       user for hosts given without user@\n"
	      "  -J, --jump SPEC       jump hosts [user@]host[:port][,...] "
	      "(ssh -J), or none\n"
	      "                        to connect directly; replaces the "
	      "daemon's ProxyJump\n"
	      "\n"
	      "Run options:\n"
	      "  -t, --timeout SEC     stop each command after SEC seconds\n"
	      "      --idle-timeout SEC  stop a command silent for SEC "
	      "seconds\n"
	      "  -E, --env NAME=VALUE  environment variable; repeatable\n"
	      "      --pty             allocate a pseudo-terminal\n"
	      "      --sudo[=USER]     run as USER (default root): sudo -n -u "
	      "USER -- sh -c CMD\n"
	      "      --shell SHELL     run SHELL -c CMD\n"
	      "      --stdin           send this program's standard input "
	      "to every host\n"
	      "      --stdin-file FILE send FILE to every host's standard "
	      "input\n"
	      "  -I, --stdin-dir DIR   send DIR/HOST to each host's standard "
	      "input\n"
	      "  -A, --args-file FILE  per-host values, lines \"host value\": "
	      "{arg} in the command\n"
	      "      --host-args FILE  per-host values as a JSON object "
	      "{\"host\": \"value\"}\n"
	      "                        ({host} in the command is always "
	      "replaced by the host)\n"
	      "\n"
	      "Credentials (opened here, passed to the daemon as "
	      "descriptors):\n"
	      "      --identity FILE   pass the private key FILE\n"
	      "      --agent           pass a connection to $SSH_AUTH_SOCK\n"
	      "      --forward-agent   --agent, forwarded to the hosts (ssh "
	      "-A)\n"
	      "      --ask-pass        ask for the hosts' password once\n"
	      "\n"
	      "Output:\n"
	      "  (default)             live \"host: line\" output\n"
	      "  -i, --inline          each host's whole output when it "
	      "finishes (pssh -i)\n"
	      "  -b, --gather          fold hosts with identical output "
	      "(clush -b)\n"
	      "  -o, --outdir DIR      standard output per host in DIR/HOST\n"
	      "  -e, --errdir DIR      standard error per host in DIR/HOST\n"
	      "      --json            protocol events, one JSON object per "
	      "line\n"
	      "      --color WHEN      color host names: auto (on a tty), "
	      "always, never\n"
	      "      --no-progress     no progress line on a terminal\n"
	      "  -v, --verbose         summary table of every host, not "
	      "only failed ones\n"
	      "\n"
	      "Failures:\n"
	      "      --stop-on-error   cancel the rest when a host fails\n"
	      "      --failed-hosts FILE  write the hosts that did not "
	      "succeed, one per line\n"
	      "\n"
	      "run exits with the largest remote exit status (0 when every "
	      "host exited 0),\n"
	      "255 when a host had an error or was killed by a signal, 2 on "
	      "usage errors or\n"
	      "when the daemon cannot be reached.  The socket defaults to "
	      "$SSHPOOL_SOCKET,\n"
	      "else the daemon's default path.\n",
	      f);
}
