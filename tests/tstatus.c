/* SPDX-License-Identifier: ISC */
/*
 * Reading back a running daemon's status and known_hosts in tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TESTUTIL_FAILURE_HOOK
#include "testutil.h"
#include "tstatus.h"

json_object *
tstatus_host(json_object *root, const char *host)
{
	json_object *hosts, *h, *name;
	char suffix[80];
	const char *s;
	size_t i, n, ls, lh;

	ck_assert_msg(json_object_object_get_ex(root, "hosts", &hosts) &&
			  json_object_is_type(hosts, json_type_array),
		      "status without hosts array");
	snprintf(suffix, sizeof suffix, "@%s", host);
	ls = strlen(suffix);
	n = json_object_array_length(hosts);
	for (i = 0; i < n; i++) {
		h = json_object_array_get_idx(hosts, i);
		if (!json_object_object_get_ex(h, "host", &name))
			continue;
		s = json_object_get_string(name);
		lh = strlen(s);
		if (strcmp(s, host) == 0 ||
		    (lh >= ls && strcmp(s + lh - ls, suffix) == 0))
			return h;
	}
	return NULL;
}

long long
tstatus_int(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v),
		      "status host without %s", key);
	return json_object_get_int64(v);
}

const char *
tstatus_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return "";
	return json_object_get_string(v);
}

int
tstatus_known_hosts(const char *path, const char *addr, int port)
{
	char prefix[64], *line = NULL;
	size_t cap = 0;
	FILE *in;
	int n = 0;

	snprintf(prefix, sizeof prefix, "[%s]:%d ", addr, port);
	ck_assert_ptr_nonnull(in = fopen(path, "r"));
	while (getline(&line, &cap, in) != -1)
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			n++;
	free(line);
	fclose(in);
	return n;
}
