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

static char **
host_params_paths(char *const *src, size_t n)
{
	char **dst;
	size_t i;

	if (n == 0)
		return NULL;
	dst = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		dst[i] = xstrdup(src[i]);
	return dst;
}

static void
host_params_paths_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
host_params_paths_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

static void
host_params_key(struct host_params *p)
{
	free(p->key);
	free(p->pool);
	if (strchr(p->host, ':') != NULL)
		xasprintf(&p->key, "%s@[%s]:%d", p->user, p->host, p->port);
	else
		xasprintf(&p->key, "%s@%s:%d", p->user, p->host, p->port);
	/* Reached through hops, the pool names them: the same target
	 * directly and through a bastion are different connections. */
	if (p->cred != NULL && p->via != NULL)
		xasprintf(&p->pool, "%s %s via %s", p->key, p->cred->id,
			  p->via->pool);
	else if (p->cred != NULL)
		xasprintf(&p->pool, "%s %s", p->key, p->cred->id);
	else if (p->via != NULL)
		xasprintf(&p->pool, "%s via %s", p->key, p->via->pool);
	else
		p->pool = xstrdup(p->key);
}

void
host_params_set_via(struct host_params *p, struct host_params *via)
{
	host_params_free(p->via);
	p->via = via;
	host_params_key(p);
}

char *
host_params_jump_text(const struct host_params *p)
{
	const struct host_params *h;
	size_t len = 0, k;
	char *out;

	if (p->via == NULL)
		return NULL;
	for (h = p->via; h != NULL; h = h->via)
		len += strlen(h->key) + 1; /* and its "," or the NUL */
	out = xmalloc(len);
	/* The chain runs from the last hop back; the text, like ProxyJump,
	 * from the first hop on: written from the end. */
	out[--len] = '\0';
	for (h = p->via; h != NULL; h = h->via) {
		k = strlen(h->key);
		len -= k;
		memcpy(out + len, h->key, k);
		if (h->via != NULL)
			out[--len] = ',';
	}
	return out;
}

void
host_params_set_cred(struct host_params *p, struct cred *c)
{
	cred_unref(p->cred);
	p->cred = cred_ref(c);
	/* The daemon's agent is forwarded only to sessions its own
	 * credentials opened, never to a client's. */
	if (c != NULL)
		p->forward_agent = 0;
	host_params_key(p);
}

struct host_params *
host_params_new(const struct config_host_opts *o, const char *user,
		const char *host, int port)
{
	struct host_params *p = xcalloc(1, sizeof(*p));

	p->user = xstrdup(user);
	p->host = xstrdup(host);
	/* Expanded once here, so the worker only reads the result. */
	p->hostname = config_hostname(o->hostname, host);
	p->port = port;
	p->n_identity_files = o->n_identity_files;
	p->identity_files =
	    host_params_paths(o->identity_files, o->n_identity_files);
	p->n_certificate_files = o->n_certificate_files;
	p->certificate_files =
	    host_params_paths(o->certificate_files, o->n_certificate_files);
	if (o->password_file != NULL)
		p->password_file = xstrdup(o->password_file);
	if (o->identity_agent != NULL && strcmp(o->identity_agent, "none") != 0)
		p->identity_agent = xstrdup(o->identity_agent);
	/* Forwarding relays to IdentityAgent: without one there is none. */
	p->forward_agent = o->forward_agent == 1 && p->identity_agent != NULL;
	p->identities_only = o->identities_only == 1;
	p->preferred_auth =
	    xstrdup(o->preferred_auth != NULL ? o->preferred_auth
					      : CONFIG_DEFAULT_PREFERRED_AUTH);
	p->password_prompts = o->password_prompts >= 0
				  ? o->password_prompts
				  : CONFIG_DEFAULT_PASSWORD_PROMPTS;
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
	p->max_tunnels = o->max_tunnels > 0
			     ? o->max_tunnels
			     : CONFIG_DEFAULT_TUNNELS_PER_SESSION;
	host_params_key(p);
	return p;
}

struct host_params *
host_params_dup(const struct host_params *o)
{
	struct config_host_opts opts;
	struct host_params *p;

	memset(&opts, 0, sizeof(opts));
	if (o->n_identity_files > CONFIG_MAX_IDENTITY_FILES ||
	    o->n_certificate_files > CONFIG_MAX_CERTIFICATE_FILES)
		fatalx("%s: too many identity files", __func__);
	/* An empty list is NULL, which memcpy must not be given. */
	if (o->n_identity_files > 0)
		memcpy(opts.identity_files, o->identity_files,
		       o->n_identity_files * sizeof(char *));
	opts.n_identity_files = o->n_identity_files;
	if (o->n_certificate_files > 0)
		memcpy(opts.certificate_files, o->certificate_files,
		       o->n_certificate_files * sizeof(char *));
	opts.n_certificate_files = o->n_certificate_files;
	opts.password_file = o->password_file;
	opts.preferred_auth = o->preferred_auth;
	opts.identity_agent = o->identity_agent;
	opts.forward_agent = o->forward_agent;
	opts.identities_only = o->identities_only;
	opts.password_prompts = o->password_prompts;
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
	opts.max_tunnels = o->max_tunnels;
	p = host_params_new(&opts, o->user, o->host, o->port);
	/* The expanded name, not the value it came from. */
	free(p->hostname);
	p->hostname = xstrdup(o->hostname);
	if (o->cred != NULL)
		host_params_set_cred(p, o->cred);
	if (o->via != NULL)
		host_params_set_via(p, host_params_dup(o->via));
	return p;
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
	if (!host_params_paths_equal(a->identity_files, a->n_identity_files,
				     b->identity_files, b->n_identity_files) ||
	    !host_params_paths_equal(
		a->certificate_files, a->n_certificate_files,
		b->certificate_files, b->n_certificate_files))
		return 0;
	return host_params_streq(a->pool, b->pool) &&
	       host_params_streq(a->hostname, b->hostname) &&
	       host_params_streq(a->password_file, b->password_file) &&
	       host_params_streq(a->preferred_auth, b->preferred_auth) &&
	       host_params_streq(a->identity_agent, b->identity_agent) &&
	       a->forward_agent == b->forward_agent &&
	       a->identities_only == b->identities_only &&
	       a->password_prompts == b->password_prompts &&
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
	       a->max_pools == b->max_pools &&
	       a->max_tunnels == b->max_tunnels &&
	       /* The hops' settings are the connection's too. */
	       (a->via == NULL) == (b->via == NULL) &&
	       (a->via == NULL || host_params_equal(a->via, b->via));
}

void
host_params_free(struct host_params *p)
{
	if (p == NULL)
		return;
	host_params_free(p->via);
	cred_unref(p->cred);
	free(p->pool);
	host_params_paths_free(p->identity_files, p->n_identity_files);
	host_params_paths_free(p->certificate_files, p->n_certificate_files);
	free(p->password_file);
	free(p->preferred_auth);
	free(p->identity_agent);
	free(p->user);
	free(p->host);
	free(p->hostname);
	free(p->key);
	free(p->known_hosts_file);
	free(p);
}
