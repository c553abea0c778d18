/* SPDX-License-Identifier: ISC */
/*
 * What the integration-style tests read back from a running daemon: entries
 * of a status event and lines of its known_hosts file.  Failed lookups fail
 * the test through the binary's testutil_failed() hook.
 */
#ifndef SSHPOOL_TSTATUS_H
#define SSHPOOL_TSTATUS_H

#include <json-c/json.h>

/* The status entry of a host given as the pool key ("user@addr:port") or as
 * its "addr:port" suffix, or NULL. */
json_object *tstatus_host(json_object *root, const char *host);
/* A member that must be there, as an integer. */
long long tstatus_int(json_object *o, const char *key);
/* A member as a string; "" when absent or null. */
const char *tstatus_str(json_object *o, const char *key);
/* Lines of a known_hosts file that name "[addr]:port". */
int tstatus_known_hosts(const char *path, const char *addr, int port);

#endif
