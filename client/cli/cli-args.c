/* SPDX-License-Identifier: ISC */
/*
 * Per-host values for {arg}: -A files of "host value" lines and
 * --host-args JSON objects.  Without -H or -h they also name the hosts.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"

/* -A FILE: "host value" lines; the value is the rest of the line. */
int
cli_args_load_file(struct cli *cli, const char *path, int add_hosts)
{
	char *text, *line, *next, *p, *host;
	size_t len, lineno = 0, idx;

	if (cli_file_read(path, CLI_MAX_FILE, &text, &len) == -1)
		return -1;
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((p = strchr(line, '\r')) != NULL && p[1] == '\0')
			*p = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		host = line;
		p = host + strcspn(host, " \t");
		if (*p != '\0') {
			*p++ = '\0';
			p += strspn(p, " \t");
		}
		if (add_hosts) {
			if (cli_hostset_add(cli, host) == -1)
				goto fail;
		}
		if ((idx = cli_host_find(&cli->hosts, host)) == SIZE_MAX)
			continue;
		free(cli->hosts.v[idx].arg);
		cli->hosts.v[idx].arg = cli_xstrdup(p);
	}
	free(text);
	return 0;
fail:
	cli_warnx("%s:%zu: bad host", path, lineno);
	free(text);
	return -1;
}

/* --host-args FILE: a JSON object {"host": "value", ...}. */
int
cli_args_load_json(struct cli *cli, const char *path, int add_hosts)
{
	json_tokener *tok;
	json_object *root;
	char *text;
	size_t len, idx;
	int rc = -1;

	if (cli_file_read(path, CLI_MAX_FILE, &text, &len) == -1)
		return -1;
	if (len > INT_MAX || (tok = json_tokener_new()) == NULL) {
		cli_warnx("%s: cannot parse", path);
		free(text);
		return -1;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		cli_warnx("%s: expected a JSON object {\"host\": \"value\"}",
			  path);
		goto out;
	}
	json_object_object_foreach(root, key, val)
	{
		const char *v;

		if (json_object_is_type(val, json_type_string) ||
		    json_object_is_type(val, json_type_int) ||
		    json_object_is_type(val, json_type_double))
			v = json_object_get_string(val);
		else {
			cli_warnx("%s: %s: expected a string", path, key);
			goto out;
		}
		if (add_hosts && cli_hostset_add(cli, key) == -1)
			goto out;
		if ((idx = cli_host_find(&cli->hosts, key)) == SIZE_MAX)
			continue;
		free(cli->hosts.v[idx].arg);
		cli->hosts.v[idx].arg = cli_xstrdup(v);
	}
	rc = 0;
out:
	json_object_put(root);
	json_tokener_free(tok);
	free(text);
	return rc;
}
