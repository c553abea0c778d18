/* SPDX-License-Identifier: ISC */
/*
 * The json output mode (--json): every event of our requests as the line
 * the daemon sent, one JSON object per line, and nothing else.
 */
#include <stdio.h>

#include "cli.h"

void
out_json_print(const sp_event *ev)
{
	size_t len;
	const char *line = sp_event_json(ev, &len);

	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
}

static void
out_json_event(struct cli *cli, const sp_event *ev)
{
	out_json_print(ev);
}

const struct cli_out out_json = {
    .name = "json",
    .event = out_json_event,
};
