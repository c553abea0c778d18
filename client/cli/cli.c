/* SPDX-License-Identifier: ISC */
/*
 * sshpool: command line client of sshpoold.  Runs a command on many hosts
 * and shows the results; also warms up and drops pooled connections, pings
 * the daemon and shows the pool's status.  This file owns main: the global
 * options and the table of subcommands (one file each, cli-<name>.c), and
 * the small pieces every file uses: warnings, allocation that exits on
 * out of memory, byte buffers, string vectors, hashing and connecting to
 * the daemon.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_progname = "sshpool";

/* In the order of the usage text. */
const struct cli_cmd *const cli_commands[] = {
    &cli_cmd_run,    &cli_cmd_connect, &cli_cmd_disconnect,
    &cli_cmd_status, &cli_cmd_ping,
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_nomem(void)
{
	cli_warnx("out of memory");
	exit(CLI_EXIT_FAILED);
}

void *
cli_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		cli_nomem();
	return p;
}

void *
cli_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		cli_nomem();
	return p;
}

char *
cli_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		cli_nomem();
	return p;
}

void
cli_buf_add(struct cli_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (b->len + len > b->cap) {
		b->cap = b->len + len < 4096 ? 4096 : 2 * (b->len + len);
		b->data = cli_xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void
cli_strv_add(struct cli_strv *sv, const char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap == 0 ? 16 : sv->cap * 2;
		sv->v = cli_xrealloc(sv->v, sv->cap * sizeof *sv->v);
	}
	sv->v[sv->n++] = cli_xstrdup(s);
}

void
cli_strv_free(struct cli_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof *sv);
}

size_t
cli_hash_bytes(size_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

size_t
cli_hash(const char *s)
{
	return cli_hash_bytes(14695981039346656037ull, s, strlen(s));
}

int
cli_connect(struct cli *cli)
{
	char err[512];

	cli->c = sp_connect(cli->socket, err, sizeof err);
	if (cli->c == NULL) {
		cli_warnx("cannot reach sshpoold: %s", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	struct cli cli;
	size_t i;
	int ch, rc;

	memset(&cli, 0, sizeof cli);
	while ((ch = getopt_long(argc, argv, "+s:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			cli.socket = optarg;
			break;
		case 'V':
			printf("sshpool %s\n", SSHPOOL_VERSION);
			return CLI_EXIT_OK;
		case OPT_HELP:
			cli_usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; i < cli_ncommands; i++) {
		if (strcmp(argv[optind], cli_commands[i]->name) == 0)
			break;
	}
	if (i == cli_ncommands) {
		cli_warnx("unknown command: %s", argv[optind]);
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cli.cmd = cli_commands[i];
	cli.cmdname = cli.cmd->name;
	rc = cli.cmd->exec(&cli, argc - optind, argv + optind);
	sp_close(cli.c);
	cli_host_clear(&cli.hosts);
	cli_req_clear(&cli);
	cli_strv_free(&cli.groups);
	cli_strv_free(&cli.exclude);
	cli_strv_free(&cli.exclude_expanded);
	cli_strv_free(&cli.env);
	free(cli.req_error);
	return rc;
}
