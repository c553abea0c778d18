/* SPDX-License-Identifier: ISC */
/*
 * The hosts of an invocation: the ordered list with its index by name,
 * and each host's result as events report it (state, exit status or
 * error, output kept for -i and -b).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

size_t
cli_host_find(const struct cli_hosts *hs, const char *name)
{
	size_t i, slot;

	if (hs->tabsize == 0)
		return SIZE_MAX;
	for (i = cli_hash(name) & (hs->tabsize - 1);;
	     i = (i + 1) & (hs->tabsize - 1)) {
		if ((slot = hs->tab[i]) == 0)
			return SIZE_MAX;
		if (strcmp(hs->v[slot - 1].name, name) == 0)
			return slot - 1;
	}
}

static void
cli_host_index(struct cli_hosts *hs, size_t idx)
{
	size_t i;

	i = cli_hash(hs->v[idx].name) & (hs->tabsize - 1);
	while (hs->tab[i] != 0)
		i = (i + 1) & (hs->tabsize - 1);
	hs->tab[i] = idx + 1;
}

/* Returns the host's index; duplicates map to the first occurrence. */
size_t
cli_host_add(struct cli_hosts *hs, const char *name)
{
	size_t idx, i;

	if ((idx = cli_host_find(hs, name)) != SIZE_MAX)
		return idx;
	if (hs->n == hs->cap) {
		hs->cap = hs->cap == 0 ? 64 : hs->cap * 2;
		hs->v = cli_xrealloc(hs->v, hs->cap * sizeof *hs->v);
	}
	/* Keep the table at most half full. */
	if (2 * (hs->n + 1) > hs->tabsize) {
		free(hs->tab);
		hs->tabsize = hs->tabsize == 0 ? 128 : hs->tabsize * 2;
		hs->tab = cli_xcalloc(hs->tabsize, sizeof *hs->tab);
		for (i = 0; i < hs->n; i++)
			cli_host_index(hs, i);
	}
	memset(&hs->v[hs->n], 0, sizeof hs->v[hs->n]);
	hs->v[hs->n].name = cli_xstrdup(name);
	hs->v[hs->n].group = SIZE_MAX;
	hs->v[hs->n].gather = SIZE_MAX;
	cli_host_index(hs, hs->n);
	return hs->n++;
}

void
cli_host_clear(struct cli_hosts *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		free(hs->v[i].name);
		free(hs->v[i].code);
		free(hs->v[i].message);
		free(hs->v[i].out.data);
		free(hs->v[i].err.data);
		free(hs->v[i].arg);
	}
	free(hs->v);
	free(hs->tab);
}

int
cli_host_finished(const struct cli_host *h)
{
	return h->state != HOST_PENDING && h->state != HOST_STARTED;
}

int
cli_host_ok(const struct cli_host *h)
{
	return (h->state == HOST_EXIT && h->status == 0) ||
	       h->state == HOST_CONNECTED || h->state == HOST_DISCONNECTED;
}

void
cli_host_result(const struct cli_host *h, char *buf, size_t size)
{
	switch (h->state) {
	case HOST_EXIT:
		snprintf(buf, size, "exit %d", h->status);
		break;
	case HOST_SIGNAL:
		snprintf(buf, size, "signal %s", h->code);
		break;
	case HOST_ERROR:
		snprintf(buf, size, "%s", h->code);
		break;
	case HOST_CONNECTED:
		snprintf(buf, size, "connected");
		break;
	case HOST_DISCONNECTED:
		snprintf(buf, size, "disconnected");
		break;
	case HOST_SKIPPED:
		snprintf(buf, size, "not started");
		break;
	default:
		snprintf(buf, size, "no result");
		break;
	}
}

void
cli_host_set_error(struct cli_host *h, const sp_event *ev)
{
	free(h->code);
	free(h->message);
	h->code = cli_xstrdup(sp_event_error_code(ev));
	h->message = cli_xstrdup(sp_event_message(ev));
	h->duration_ms = sp_event_duration_ms(ev);
	h->state = HOST_ERROR;
}

void
cli_host_keep(struct cli_host *h, struct cli_buf *b, const void *data,
	      size_t len)
{
	if (h->out.len + h->err.len + len > CLI_MAX_KEPT) {
		h->truncated = 1;
		return;
	}
	cli_buf_add(b, data, len);
}
