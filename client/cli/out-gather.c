/* SPDX-License-Identifier: ISC */
/*
 * The gather output mode (-b, as clush -b): output kept per host and,
 * after the last event, one block per distinct output and result, headed
 * by the folded list of its hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hostlist.h"

struct out_gather_block {
	size_t first; /* host index of the first member */
	size_t *members;
	size_t n, cap;
};

static int
out_gather_same(const struct cli_host *a, const struct cli_host *b)
{
	char ra[128], rb[128];

	cli_host_result(a, ra, sizeof ra);
	cli_host_result(b, rb, sizeof rb);
	return strcmp(ra, rb) == 0 && a->out.len == b->out.len &&
	       a->err.len == b->err.len &&
	       (a->out.len == 0 ||
		memcmp(a->out.data, b->out.data, a->out.len) == 0) &&
	       (a->err.len == 0 ||
		memcmp(a->err.data, b->err.data, a->err.len) == 0);
}

static size_t
out_gather_hash(const struct cli_host *h)
{
	char r[128];
	size_t x;

	cli_host_result(h, r, sizeof r);
	x = cli_hash(r);
	x = cli_hash_bytes(x, h->out.data, h->out.len);
	return cli_hash_bytes(x ^ 1, h->err.data, h->err.len);
}

static void
out_gather_end(struct cli *cli)
{
	struct out_gather_block *blocks = NULL, *b;
	size_t nblocks = 0, i, k, tabsize, *tab, slot, hash;
	const char **names;
	struct cli_host *h, *f;
	char result[128], *list;

	tabsize = 64;
	while (tabsize < 2 * cli->hosts.n)
		tabsize *= 2;
	tab = cli_xcalloc(tabsize, sizeof *tab);
	blocks = cli_xcalloc(cli->hosts.n + 1, sizeof *blocks);
	for (i = 0; i < cli->hosts.n; i++) {
		h = &cli->hosts.v[i];
		if (!cli_host_finished(h) || h->state == HOST_SKIPPED)
			continue;
		/* Quiet successes print nothing, as clush -b. */
		if (cli_host_ok(h) && h->out.len == 0 && h->err.len == 0)
			continue;
		hash = out_gather_hash(h);
		for (slot = hash & (tabsize - 1); tab[slot] != 0;
		     slot = (slot + 1) & (tabsize - 1)) {
			f = &cli->hosts.v[blocks[tab[slot] - 1].first];
			if (out_gather_same(f, h))
				break;
		}
		if (tab[slot] == 0) {
			blocks[nblocks].first = i;
			tab[slot] = ++nblocks;
		}
		b = &blocks[tab[slot] - 1];
		if (b->n == b->cap) {
			b->cap = b->cap == 0 ? 4 : b->cap * 2;
			b->members = cli_xrealloc(b->members,
						  b->cap * sizeof *b->members);
		}
		b->members[b->n++] = i;
	}
	for (i = 0; i < nblocks; i++) {
		names = cli_xcalloc(blocks[i].n, sizeof *names);
		for (k = 0; k < blocks[i].n; k++)
			names[k] = cli->hosts.v[blocks[i].members[k]].name;
		if ((list = hostlist_fold(names, blocks[i].n)) == NULL)
			cli_nomem();
		f = &cli->hosts.v[blocks[i].first];
		printf("---------------\n");
		cli_output_host(stdout, cli->color_out, list);
		printf(" (%zu)", blocks[i].n);
		if (!cli_host_ok(f)) {
			cli_host_result(f, result, sizeof result);
			printf(" %s", result);
		}
		printf("\n---------------\n");
		if (f->out.len > 0) {
			fwrite(f->out.data, 1, f->out.len, stdout);
			if (f->out.data[f->out.len - 1] != '\n')
				putchar('\n');
		}
		fflush(stdout);
		if (f->err.len > 0) {
			fwrite(f->err.data, 1, f->err.len, stderr);
			if (f->err.data[f->err.len - 1] != '\n')
				fputc('\n', stderr);
			fflush(stderr);
		}
		free(list);
		free(names);
		free(blocks[i].members);
	}
	free(blocks);
	free(tab);
}

static void
out_gather_data(struct cli *cli, struct cli_host *h, int is_err,
		const void *data, size_t len)
{
	cli_host_keep(h, is_err ? &h->err : &h->out, data, len);
}

const struct cli_out out_gather = {
    .name = "gather",
    .data = out_gather_data,
    .end = out_gather_end,
};
