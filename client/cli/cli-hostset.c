/* SPDX-License-Identifier: ISC */
/*
 * The host set of an invocation as the options give it: comma lists of
 * hosts and patterns (-H and operands), host files (-h), groups passed on
 * to the daemon, and exclusions (-x) applied to the explicit hosts here
 * and sent along with groups.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hostfile.h"

/* Split a comma list outside brackets ("web[1,3],db1") and call fn on each
 * trimmed, non-empty item. */
int
cli_hostset_split(const char *list, int (*fn)(struct cli *, const char *),
		  struct cli *cli)
{
	char *copy = cli_xstrdup(list), *p = copy, *item, *end;
	int depth = 0, last = 0, rc = 0;

	for (item = p;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth > 0)
			depth--;
		else if ((*p == ',' && depth == 0) || *p == '\0') {
			last = *p == '\0';
			*p = '\0';
			while (*item == ' ' || *item == '\t')
				item++;
			end = item + strlen(item);
			while (end > item &&
			       (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			if (*item != '\0' && fn(cli, item) == -1) {
				rc = -1;
				break;
			}
			if (last)
				break;
			item = p + 1;
		}
	}
	free(copy);
	return rc;
}

static int
cli_hostset_expand_one(const char *host, void *arg)
{
	struct cli *cli = arg;

	cli_host_add(&cli->hosts, host);
	return 0;
}

/* One -H item: a group is passed through, a pattern expanded here so that
 * every host is known before the request (for progress and templates). */
int
cli_hostset_add(struct cli *cli, const char *item)
{
	char err[600];

	if (item[0] == '@') {
		cli_strv_add(&cli->groups, item);
		return 0;
	}
	if (sp_hostset_expand(item, cli_hostset_expand_one, cli, CLI_MAX_EXPAND,
			      err, sizeof err) == -1) {
		cli_warnx("%s: %s", item, err);
		return -1;
	}
	return 0;
}

int
cli_hostset_add_exclude(struct cli *cli, const char *item)
{
	cli_strv_add(&cli->exclude, item);
	return 0;
}

static int
cli_hostset_file_add(void *arg, const char *host, char *err, size_t errlen)
{
	struct cli *cli = arg;

	(void)err;
	(void)errlen;
	return cli_hostset_add(cli, host);
}

int
cli_hostset_read(struct cli *cli, const char *path)
{
	char err[600];

	err[0] = '\0';
	if (hostfile_read(path, cli_hostset_file_add, cli, err, sizeof err) ==
	    -1) {
		if (err[0] != '\0')
			cli_warnx("%s", err);
		return -1;
	}
	return 0;
}

static int
cli_hostset_exclude_one(const char *host, void *arg)
{
	cli_strv_add(arg, host);
	return 0;
}

/* Drop the excluded hosts from the explicit list, keeping the order. */
int
cli_hostset_exclude(struct cli *cli)
{
	struct cli_hosts kept;
	char err[600];
	size_t i, j;

	if (cli->exclude.n == 0)
		return 0;
	for (i = 0; i < cli->exclude.n; i++) {
		if (sp_hostset_expand(cli->exclude.v[i],
				      cli_hostset_exclude_one,
				      &cli->exclude_expanded, CLI_MAX_EXPAND,
				      err, sizeof err) == -1) {
			cli_warnx("-x %s: %s", cli->exclude.v[i], err);
			return -1;
		}
	}
	memset(&kept, 0, sizeof kept);
	for (i = 0; i < cli->hosts.n; i++) {
		if (sp_host_excluded(
			cli->hosts.v[i].name,
			(const char *const *)cli->exclude_expanded.v,
			cli->exclude_expanded.n))
			continue;
		j = cli_host_add(&kept, cli->hosts.v[i].name);
		kept.v[j].arg = cli->hosts.v[i].arg;
		cli->hosts.v[i].arg = NULL;
	}
	cli_host_clear(&cli->hosts);
	cli->hosts = kept;
	return 0;
}
