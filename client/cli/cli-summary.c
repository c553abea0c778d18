/* SPDX-License-Identifier: ISC */
/*
 * The summary table on standard error: the hosts that did not succeed
 * (every host with -v), with result, code, time and message.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *
cli_summary_word(const struct cli_host *h)
{
	switch (h->state) {
	case HOST_EXIT:
		return h->status == 0 ? "ok" : "failed";
	case HOST_SIGNAL:
		return "failed";
	case HOST_CONNECTED:
	case HOST_DISCONNECTED:
		return "ok";
	case HOST_ERROR:
		return strcmp(h->code, "cancelled") == 0 ? "cancelled"
							 : "error";
	case HOST_SKIPPED:
		return "skipped";
	default:
		return "error";
	}
}

/* The table of hosts that did not succeed (all with -v), then counts. */
void
cli_summary_table(struct cli *cli)
{
	struct cli_host *h;
	size_t i, w = 4, len, shown = 0;
	char result[128], dur[32];

	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if ((cli->verbose || !cli_host_ok(h)) &&
		    (len = strlen(h->name)) > w)
			w = len;
	}
	if (w > CLI_SUMMARY_HOST_WIDTH)
		w = CLI_SUMMARY_HOST_WIDTH;
	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if (!cli->verbose && cli_host_ok(h))
			continue;
		if (shown++ == 0)
			fprintf(stderr, "%-*s  %-9s  %-16s  %8s  %s\n", (int)w,
				"HOST", "RESULT", "CODE", "TIME", "MESSAGE");
		cli_host_result(h, result, sizeof result);
		if (h->duration_ms >= 0 && cli_host_finished(h) &&
		    h->state != HOST_SKIPPED)
			snprintf(dur, sizeof dur, "%.3fs",
				 (double)h->duration_ms / 1000);
		else
			snprintf(dur, sizeof dur, "-");
		fprintf(stderr, "%-*s  %-9s  %-16s  %8s  %s\n", (int)w, h->name,
			cli_summary_word(h), result, dur,
			h->message != NULL ? h->message : "");
	}
}
