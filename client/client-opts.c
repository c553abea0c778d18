/* SPDX-License-Identifier: ISC */
/*
 * Run options (sp_run_opts): hosts, exclusions, command, user, timeouts,
 * environment, pseudo-terminal, standard input and passed descriptors of
 * a run, connect or disconnect request, each checked against the
 * protocol's limits as it is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-int.h"

sp_run_opts *
sp_run_opts_new(void)
{
	return calloc(1, sizeof(sp_run_opts));
}

void
sp_run_opts_free(sp_run_opts *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nhosts; i++)
		free(o->hosts[i]);
	free(o->hosts);
	for (i = 0; i < o->nexclude; i++)
		free(o->exclude[i]);
	free(o->exclude);
	for (i = 0; i < o->nenv; i++) {
		free(o->env[i].name);
		free(o->env[i].value);
	}
	free(o->env);
	free(o->command);
	free(o->user);
	free(o->jump);
	if (o->password != NULL) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
	}
	free(o->stdin_data);
	for (i = 0; i < o->nfds; i++)
		close(o->fds[i]);
	free(o);
}

int
sp_run_opts_add_fd(sp_run_opts *o, enum sp_fd_role role, int fd)
{
	int dup;

	if (role != SP_FD_AGENT && role != SP_FD_KEY) {
		client_seterr(o->err, sizeof o->err, "unknown descriptor role");
		return -1;
	}
	if (o->nfds >= PROTO_MAX_FDS) {
		client_seterr(o->err, sizeof o->err, "more than %d descriptors",
			      PROTO_MAX_FDS);
		return -1;
	}
	if (fd < 0 || (dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		client_seterr(o->err, sizeof o->err, "descriptor %d: %s", fd,
			      fd < 0 ? "invalid" : strerror(errno));
		return -1;
	}
	o->fds[o->nfds] = dup;
	o->fd_roles[o->nfds] =
	    role == SP_FD_AGENT ? PROTO_FD_AGENT : PROTO_FD_KEY;
	o->nfds++;
	return 0;
}

size_t
sp_run_opts_nfds(const sp_run_opts *o)
{
	return o->nfds;
}

const char *
sp_run_opts_error(const sp_run_opts *o)
{
	return o->err;
}

/* A comma outside brackets separates list items; inside it separates the
 * items of a range ("web[1,3]"). */
static const char *
client_opts_list_end(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth > 0)
			depth--;
		else if (*p == ',' && depth == 0)
			return p;
	}
	return p;
}

static int
client_opts_push(sp_run_opts *o, char ***v, size_t *n, size_t *capp,
		 const char *s, size_t len, const char *what)
{
	char **p, *copy;
	size_t cap;

	if (len == 0) {
		client_seterr(o->err, sizeof o->err, "empty %s", what);
		return -1;
	}
	if (len > PROTO_MAX_HOSTPATTERN) {
		client_seterr(o->err, sizeof o->err, "%s longer than %d bytes",
			      what, PROTO_MAX_HOSTPATTERN);
		return -1;
	}
	if (memchr(s, '\0', len) != NULL || client_opts_list_end(s) < s + len) {
		client_seterr(o->err, sizeof o->err,
			      "%s contains a comma outside brackets", what);
		return -1;
	}
	if (*n >= SP_MAX_HOSTS_OPTS) {
		client_seterr(o->err, sizeof o->err, "too many hosts");
		return -1;
	}
	if (*n == *capp) {
		cap = *capp == 0 ? 16 : *capp * 2;
		if ((p = realloc(*v, cap * sizeof *p)) == NULL) {
			client_seterr(o->err, sizeof o->err, "out of memory");
			return -1;
		}
		*v = p;
		*capp = cap;
	}
	if ((copy = strndup(s, len)) == NULL) {
		client_seterr(o->err, sizeof o->err, "out of memory");
		return -1;
	}
	(*v)[(*n)++] = copy;
	return 0;
}

static int
client_opts_add_host_len(sp_run_opts *o, const char *host, size_t len)
{
	return client_opts_push(o, &o->hosts, &o->nhosts, &o->hosts_cap, host,
				len, "host");
}

int
sp_run_opts_add_host(sp_run_opts *o, const char *host)
{
	if (host == NULL) {
		client_seterr(o->err, sizeof o->err, "host is NULL");
		return -1;
	}
	return client_opts_add_host_len(o, host, strlen(host));
}

int
sp_run_opts_add_hosts(sp_run_opts *o, const char *list)
{
	const char *p, *end, *s, *e;
	size_t before = o->nhosts;

	if (list == NULL) {
		client_seterr(o->err, sizeof o->err, "host list is NULL");
		return -1;
	}
	for (p = list;; p = end + 1) {
		end = client_opts_list_end(p);
		for (s = p; s < end && (*s == ' ' || *s == '\t'); s++)
			;
		for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (client_opts_add_host_len(o, s, (size_t)(e - s)) == -1) {
			/* All or nothing. */
			while (o->nhosts > before)
				free(o->hosts[--o->nhosts]);
			return -1;
		}
		if (*end == '\0')
			return 0;
	}
}

int
sp_run_opts_add_exclude(sp_run_opts *o, const char *pattern)
{
	if (pattern == NULL) {
		client_seterr(o->err, sizeof o->err, "exclude pattern is NULL");
		return -1;
	}
	return client_opts_push(o, &o->exclude, &o->nexclude, &o->exclude_cap,
				pattern, strlen(pattern), "exclude pattern");
}

size_t
sp_run_opts_nexclude(const sp_run_opts *o)
{
	return o->nexclude;
}

size_t
sp_run_opts_nhosts(const sp_run_opts *o)
{
	return o->nhosts;
}

const char *
sp_run_opts_host(const sp_run_opts *o, size_t i)
{
	return i < o->nhosts ? o->hosts[i] : NULL;
}

static int
client_opts_replace(sp_run_opts *o, char **slot, const char *s)
{
	char *copy = NULL;

	if (s != NULL && (copy = strdup(s)) == NULL) {
		client_seterr(o->err, sizeof o->err, "out of memory");
		return -1;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

int
sp_run_opts_set_command(sp_run_opts *o, const char *command)
{
	size_t len;

	if (command == NULL || (len = strlen(command)) == 0) {
		client_seterr(o->err, sizeof o->err, "empty command");
		return -1;
	}
	if (len > PROTO_MAX_COMMAND) {
		client_seterr(o->err, sizeof o->err,
			      "command longer than %u bytes",
			      PROTO_MAX_COMMAND);
		return -1;
	}
	return client_opts_replace(o, &o->command, command);
}

int
sp_run_opts_set_user(sp_run_opts *o, const char *user)
{
	if (user != NULL && (*user == '\0' || strlen(user) > PROTO_MAX_USER)) {
		client_seterr(o->err, sizeof o->err, "user must be 1..%d bytes",
			      PROTO_MAX_USER);
		return -1;
	}
	return client_opts_replace(o, &o->user, user);
}

int
sp_run_opts_set_jump(sp_run_opts *o, const char *spec)
{
	struct proto_error err;
	struct proto_jump j;

	/* Checked as the daemon checks it, so a typo fails here with the
	 * hop it is in rather than as the reply to a request. */
	if (spec != NULL && (strlen(spec) > PROTO_MAX_JUMP ||
			     proto_jump_parse(spec, &j, &err) == -1)) {
		client_seterr(o->err, sizeof o->err, "jump: %s",
			      strlen(spec) > PROTO_MAX_JUMP ? "too long"
							    : err.message);
		return -1;
	}
	return client_opts_replace(o, &o->jump, spec);
}

int
sp_run_opts_set_password(sp_run_opts *o, const void *password, size_t len)
{
	char *p = NULL;

	if (password != NULL && (len == 0 || len > PROTO_MAX_PASSWORD ||
				 memchr(password, '\0', len) != NULL)) {
		client_seterr(o->err, sizeof o->err,
			      "password must be 1..%d bytes without NUL",
			      PROTO_MAX_PASSWORD);
		return -1;
	}
	if (password != NULL) {
		if ((p = malloc(len + 1)) == NULL) {
			client_seterr(o->err, sizeof o->err, "out of memory");
			return -1;
		}
		memcpy(p, password, len);
		p[len] = '\0';
	}
	if (o->password != NULL) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
	}
	o->password = p;
	return 0;
}

/* Seconds (fractions allowed) to milliseconds; a positive value never
 * rounds down to 0 ("none"). */
static int
client_opts_seconds(sp_run_opts *o, const char *what, double seconds,
		    long long *out)
{
	double max = (double)PROTO_MAX_TIMEOUT_MS / 1000;
	long long ms;

	/* Written so that NaN fails too. */
	if (!(seconds >= 0 && seconds <= max)) {
		client_seterr(o->err, sizeof o->err,
			      "%s must be 0..%.0f seconds", what, max);
		return -1;
	}
	ms = (long long)(seconds * 1000 + 0.5);
	if (seconds > 0 && ms == 0)
		ms = 1;
	*out = ms;
	return 0;
}

int
sp_run_opts_set_timeout(sp_run_opts *o, double seconds)
{
	return client_opts_seconds(o, "timeout", seconds, &o->timeout_ms);
}

int
sp_run_opts_set_idle_timeout(sp_run_opts *o, double seconds)
{
	return client_opts_seconds(o, "idle timeout", seconds,
				   &o->idle_timeout_ms);
}

static int
client_opts_env_name_ok(const char *name)
{
	const char *p;

	if (!((*name >= 'A' && *name <= 'Z') ||
	      (*name >= 'a' && *name <= 'z') || *name == '_'))
		return 0;
	for (p = name + 1; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	}
	return p - name <= PROTO_MAX_ENV_NAME;
}

int
sp_run_opts_add_env(sp_run_opts *o, const char *name, const char *value)
{
	struct proto_env *p;
	char *n, *v;
	size_t i;

	if (name == NULL || !client_opts_env_name_ok(name)) {
		client_seterr(o->err, sizeof o->err,
			      "bad environment name \"%s\"",
			      name != NULL ? name : "(null)");
		return -1;
	}
	if (value == NULL || strlen(value) > PROTO_MAX_ENV_VALUE) {
		client_seterr(o->err, sizeof o->err,
			      "environment value of %s missing or longer "
			      "than %d bytes",
			      name, PROTO_MAX_ENV_VALUE);
		return -1;
	}
	for (i = 0; i < o->nenv; i++) {
		if (strcmp(o->env[i].name, name) == 0)
			return client_opts_replace(o, &o->env[i].value, value);
	}
	if (o->nenv >= PROTO_MAX_ENV) {
		client_seterr(o->err, sizeof o->err,
			      "more than %d environment variables",
			      PROTO_MAX_ENV);
		return -1;
	}
	if ((p = realloc(o->env, (o->nenv + 1) * sizeof *p)) == NULL) {
		client_seterr(o->err, sizeof o->err, "out of memory");
		return -1;
	}
	o->env = p;
	n = strdup(name);
	v = strdup(value);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		client_seterr(o->err, sizeof o->err, "out of memory");
		return -1;
	}
	o->env[o->nenv].name = n;
	o->env[o->nenv].value = v;
	o->nenv++;
	return 0;
}

int
sp_run_opts_set_forward_agent(sp_run_opts *o, int on)
{
	o->forward_agent = on != 0;
	return 0;
}

int
sp_run_opts_set_pty(sp_run_opts *o, int on)
{
	o->pty = on != 0;
	return 0;
}

int
sp_run_opts_set_stdin(sp_run_opts *o, const void *data, size_t len)
{
	unsigned char *copy = NULL;

	if (len > SP_MAX_STDIN) {
		client_seterr(o->err, sizeof o->err,
			      "stdin larger than %u bytes", SP_MAX_STDIN);
		return -1;
	}
	if (len > 0) {
		if (data == NULL) {
			client_seterr(o->err, sizeof o->err,
				      "stdin data is NULL");
			return -1;
		}
		if ((copy = malloc(len)) == NULL) {
			client_seterr(o->err, sizeof o->err, "out of memory");
			return -1;
		}
		memcpy(copy, data, len);
	}
	free(o->stdin_data);
	o->stdin_data = copy;
	o->stdin_len = len;
	return 0;
}
