/* SPDX-License-Identifier: ISC */
/*
 * The remote command of run: the words joined as ssh joins them, {host}
 * and {arg} replaced, and the --sudo and --shell wrapping with POSIX
 * shell quoting.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Join the command words with spaces, as ssh does. */
char *
cli_command_join(int argc, char **argv)
{
	struct cli_buf b;
	int i;

	memset(&b, 0, sizeof b);
	for (i = 0; i < argc; i++) {
		if (i > 0)
			cli_buf_add(&b, " ", 1);
		cli_buf_add(&b, argv[i], strlen(argv[i]));
	}
	cli_buf_add(&b, "", 1);
	return b.data;
}

/* Replace {host} and {arg}. */
char *
cli_command_render(const char *tmpl, const char *host, const char *arg)
{
	struct cli_buf b;
	const char *p = tmpl, *q;

	memset(&b, 0, sizeof b);
	while ((q = strchr(p, '{')) != NULL) {
		cli_buf_add(&b, p, (size_t)(q - p));
		if (strncmp(q, "{host}", 6) == 0) {
			cli_buf_add(&b, host, strlen(host));
			p = q + 6;
		} else if (arg != NULL && strncmp(q, "{arg}", 5) == 0) {
			cli_buf_add(&b, arg, strlen(arg));
			p = q + 5;
		} else {
			cli_buf_add(&b, "{", 1);
			p = q + 1;
		}
	}
	cli_buf_add(&b, p, strlen(p) + 1);
	return b.data;
}

/* Single-quote for a POSIX shell: ' becomes '\''. */
static void
cli_command_quote(struct cli_buf *b, const char *s)
{
	const char *q;

	cli_buf_add(b, "'", 1);
	while ((q = strchr(s, '\'')) != NULL) {
		cli_buf_add(b, s, (size_t)(q - s));
		cli_buf_add(b, "'\\''", 4);
		s = q + 1;
	}
	cli_buf_add(b, s, strlen(s));
	cli_buf_add(b, "'", 1);
}

/* --sudo and --shell: sudo -n -u USER -- SHELL -c 'CMD'. */
char *
cli_command_wrap(const struct cli_runopts *ro, char *cmd)
{
	struct cli_buf b;

	if (!ro->sudo && ro->shell == NULL)
		return cmd;
	memset(&b, 0, sizeof b);
	if (ro->sudo) {
		cli_buf_add(&b, "sudo -n -u ", 11);
		cli_command_quote(&b, ro->sudo_user != NULL ? ro->sudo_user
							    : "root");
		cli_buf_add(&b, " -- ", 4);
	}
	if (ro->shell != NULL)
		cli_command_quote(&b, ro->shell);
	else
		cli_buf_add(&b, "sh", 2);
	cli_buf_add(&b, " -c ", 4);
	cli_command_quote(&b, cmd);
	cli_buf_add(&b, "", 1);
	free(cmd);
	return b.data;
}
