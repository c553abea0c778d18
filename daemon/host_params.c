/* SPDX-License-Identifier: ISC */
/*
 * Host parameters: everything a worker needs to reach one host, resolved by
 * the control thread from the request and the configuration, then owned by
 * whoever holds the job spec or the pool that carries them.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "xmalloc.h"

static void
host_params_key(struct host_params *p)
{
	free(p->key);
	if (strchr(p->host, ':') != NULL)
		xasprintf(&p->key, "%s@[%s]:%d", p->user, p->host, p->port);
	else
		xasprintf(&p->key, "%s@%s:%d", p->user, p->host, p->port);
}

struct host_params *
host_params_new(const struct config_host_opts *o, const char *user,
		const char *host, int port)
{
	struct host_params *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->user = xstrdup(user);
	p->host = xstrdup(host);
	p->port = port;
	p->n_identity_files = o->n_identity_files;
	if (p->n_identity_files > 0) {
		p->identity_files =
		    xcalloc(p->n_identity_files, sizeof(char *));
		for (i = 0; i < p->n_identity_files; i++)
			p->identity_files[i] = xstrdup(o->identity_files[i]);
	}
	p->known_hosts_file = xstrdup(
	    o->known_hosts_file != NULL ? o->known_hosts_file : "/dev/null");
	p->strict = o->strict;
	p->connect_timeout_ms = o->connect_timeout_ms;
	p->max_sessions = o->max_sessions;
	p->max_channels = o->max_channels;
	p->alive_interval_ms = o->server_alive_interval_ms;
	p->alive_count_max = o->server_alive_count_max;
	p->connection_attempts = o->connection_attempts;
	p->reconnect_base_ms = o->reconnect_base_delay_ms;
	p->reconnect_max_ms = o->reconnect_max_delay_ms;
	if (p->reconnect_max_ms < p->reconnect_base_ms)
		p->reconnect_max_ms = p->reconnect_base_ms;
	p->host_down_after = o->host_down_after;
	p->stop_grace_ms = o->stop_grace_ms;
	p->idle_timeout_ms = o->idle_timeout_ms;
	p->max_pools = o->max_pools;
	host_params_key(p);
	return p;
}

struct host_params *
host_params_dup(const struct host_params *o)
{
	struct config_host_opts opts;

	memset(&opts, 0, sizeof(opts));
	if (o->n_identity_files > CONFIG_MAX_IDENTITY_FILES)
		fatalx("%s: too many identity files", __func__);
	memcpy(opts.identity_files, o->identity_files,
	       o->n_identity_files * sizeof(char *));
	opts.n_identity_files = o->n_identity_files;
	opts.known_hosts_file = o->known_hosts_file;
	opts.strict = o->strict;
	opts.connect_timeout_ms = o->connect_timeout_ms;
	opts.max_sessions = o->max_sessions;
	opts.max_channels = o->max_channels;
	opts.server_alive_interval_ms = o->alive_interval_ms;
	opts.server_alive_count_max = o->alive_count_max;
	opts.connection_attempts = o->connection_attempts;
	opts.reconnect_base_delay_ms = o->reconnect_base_ms;
	opts.reconnect_max_delay_ms = o->reconnect_max_ms;
	opts.host_down_after = o->host_down_after;
	opts.stop_grace_ms = o->stop_grace_ms;
	opts.idle_timeout_ms = o->idle_timeout_ms;
	opts.max_pools = o->max_pools;
	return host_params_new(&opts, o->user, o->host, o->port);
}

static int
host_params_streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
host_params_equal(const struct host_params *a, const struct host_params *b)
{
	size_t i;

	if (a->n_identity_files != b->n_identity_files)
		return 0;
	for (i = 0; i < a->n_identity_files; i++)
		if (strcmp(a->identity_files[i], b->identity_files[i]) != 0)
			return 0;
	return host_params_streq(a->key, b->key) &&
	       host_params_streq(a->known_hosts_file, b->known_hosts_file) &&
	       a->strict == b->strict &&
	       a->connect_timeout_ms == b->connect_timeout_ms &&
	       a->max_sessions == b->max_sessions &&
	       a->max_channels == b->max_channels &&
	       a->alive_interval_ms == b->alive_interval_ms &&
	       a->alive_count_max == b->alive_count_max &&
	       a->connection_attempts == b->connection_attempts &&
	       a->reconnect_base_ms == b->reconnect_base_ms &&
	       a->reconnect_max_ms == b->reconnect_max_ms &&
	       a->host_down_after == b->host_down_after &&
	       a->stop_grace_ms == b->stop_grace_ms &&
	       a->idle_timeout_ms == b->idle_timeout_ms &&
	       a->max_pools == b->max_pools;
}

void
host_params_free(struct host_params *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_identity_files; i++)
		free(p->identity_files[i]);
	free(p->identity_files);
	free(p->user);
	free(p->host);
	free(p->key);
	free(p->known_hosts_file);
	free(p);
}
