/* SPDX-License-Identifier: ISC */
/*
 * The inline output mode (-i, as pssh -i): each host's whole output, kept
 * until it ends, under a header line with its result.
 */
#include <stdio.h>
#include <time.h>

#include "cli.h"

/* pssh -i: "[N] HH:MM:SS [SUCCESS] host", then, with with_output, the
 * output. */
void
out_inline_print(struct cli *cli, struct cli_host *h, int with_output)
{
	char result[128], stamp[16];
	time_t t = time(NULL);
	struct tm tm;
	int ok = cli_host_ok(h), color = cli->color_out;

	cli_progress_clear(cli);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	printf("[%zu] %s %s[%s]%s ", ++cli->inline_seq, stamp,
	       color ? (ok ? "\033[32m" : "\033[31m") : "",
	       ok ? "SUCCESS" : "FAILURE", color ? CLI_COLOR_RESET : "");
	cli_output_host(stdout, color, h->name);
	if (!ok) {
		cli_host_result(h, result, sizeof result);
		printf(" %s", result);
		if (h->message != NULL && h->message[0] != '\0')
			printf(": %s", h->message);
	}
	putchar('\n');
	if (!with_output)
		return;
	if (h->out.len > 0) {
		fwrite(h->out.data, 1, h->out.len, stdout);
		if (h->out.data[h->out.len - 1] != '\n')
			putchar('\n');
	}
	if (h->err.len > 0) {
		fputs("Stderr: ", stdout);
		fwrite(h->err.data, 1, h->err.len, stdout);
		if (h->err.data[h->err.len - 1] != '\n')
			putchar('\n');
	}
	if (h->truncated)
		printf("(output truncated at %u bytes)\n", CLI_MAX_KEPT);
	fflush(stdout);
}

static void
out_inline_data(struct cli *cli, struct cli_host *h, int is_err,
		const void *data, size_t len)
{
	cli_host_keep(h, is_err ? &h->err : &h->out, data, len);
}

static void
out_inline_done(struct cli *cli, struct cli_host *h)
{
	out_inline_print(cli, h, 1);
}

const struct cli_out out_inline = {
    .name = "inline",
    .data = out_inline_data,
    .done = out_inline_done,
};
