/* SPDX-License-Identifier: ISC */
/*
 * The live output mode (the default): every complete line of a host's
 * output as "host: line" as it arrives, standard error on standard error;
 * the partial last line when the host ends.  With -o or -e the streams
 * that go to files are not shown, and each host gets the -i header line
 * when it ends.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
out_live_line(struct cli *cli, FILE *f, const char *host, const char *a,
	      size_t alen, const char *b, size_t blen)
{
	cli_progress_clear(cli);
	cli_output_host(f, f == stdout ? cli->color_out : cli->color_err, host);
	fputs(": ", f);
	/* An empty part may be a NULL buffer, which fwrite must not get. */
	if (alen > 0)
		fwrite(a, 1, alen, f);
	if (blen > 0)
		fwrite(b, 1, blen, f);
	fputc('\n', f);
	if (cli->progress)
		fflush(f);
}

/* Print every complete line of data with the host prefix; keep the rest
 * until more data or the host's end. */
static void
out_live_print(struct cli *cli, FILE *f, const char *host, struct cli_buf *b,
	       const char *data, size_t len)
{
	const char *nl;
	size_t n;

	while ((nl = memchr(data, '\n', len)) != NULL) {
		n = (size_t)(nl - data);
		out_live_line(cli, f, host, b->data, b->len, data, n);
		b->len = 0;
		data += n + 1;
		len -= n + 1;
	}
	cli_buf_add(b, data, len);
	if (b->len > CLI_MAX_PARTIAL) {
		out_live_line(cli, f, host, b->data, b->len, "", 0);
		b->len = 0;
	}
}

static void
out_live_flush(struct cli *cli, struct cli_host *h)
{
	if (h->out.len > 0)
		out_live_line(cli, stdout, h->name, h->out.data, h->out.len, "",
			      0);
	if (h->err.len > 0)
		out_live_line(cli, stderr, h->name, h->err.data, h->err.len, "",
			      0);
	h->out.len = h->err.len = 0;
}

static void
out_live_data(struct cli *cli, struct cli_host *h, int is_err, const void *data,
	      size_t len)
{
	if ((is_err ? cli->errdir : cli->outdir) != NULL)
		return;
	out_live_print(cli, is_err ? stderr : stdout, h->name,
		       is_err ? &h->err : &h->out, data, len);
}

static void
out_live_done(struct cli *cli, struct cli_host *h)
{
	out_live_flush(cli, h);
	if (cli->outdir != NULL || cli->errdir != NULL)
		out_inline_print(cli, h, 0);
}

const struct cli_out out_live = {
    .name = "live",
    .data = out_live_data,
    .done = out_live_done,
};
