/* SPDX-License-Identifier: ISC */
/*
 * Host settings: a struct config_host_opts with every member unset, its
 * freeing, and the resolution of one host name through the Host blocks
 * over the global section.  Every step walks the Host-scope rows of the
 * keyword table, so a new keyword needs nothing here.  Also the expansion
 * of a HostName value for the name a request gave, and the warnings of
 * settings that load but do nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_table.h"
#include "xmalloc.h"

void
config_host_opts_init(struct config_host_opts *o)
{
	const struct config_keyword *kw;
	size_t i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < config_table_n; i++) {
		kw = &config_table[i];
		if (kw->scope == CONFIG_SCOPE_BOTH && config_table_numeric(kw))
			config_table_store(kw, o, config_table_unset(kw));
	}
}

void
config_host_opts_free(struct config_host_opts *o)
{
	size_t i;

	for (i = 0; i < config_table_n; i++) {
		if (config_table[i].scope == CONFIG_SCOPE_BOTH)
			config_table_release(&config_table[i], o);
	}
	config_host_opts_init(o);
}

/* Take kw's member from o when out has it unset; pointers are borrowed. */
static void
config_host_fill_one(const struct config_keyword *kw,
		     struct config_host_opts *out,
		     const struct config_host_opts *o)
{
	char *to = (char *)out + kw->offset;
	const char *from = (const char *)o + kw->offset;
	size_t *n = (size_t *)(void *)((char *)out + kw->count);
	const size_t *on =
	    (const size_t *)(const void *)((const char *)o + kw->count);

	switch (kw->kind) {
	case CONFIG_KIND_PATH:
	case CONFIG_KIND_STRING:
	case CONFIG_KIND_NAME:
		if (*(char **)(void *)to == NULL)
			*(char **)(void *)to =
			    *(char *const *)(const void *)from;
		break;
	case CONFIG_KIND_PATHS:
		/* A list comes whole from one place, never mixed. */
		if (*n == 0 && *on > 0) {
			memcpy(to, from, *on * sizeof(char *));
			*n = *on;
		}
		break;
	default:
		if (config_table_numeric(kw) &&
		    config_table_load(kw, out) == config_table_unset(kw))
			config_table_store(kw, out, config_table_load(kw, o));
		break;
	}
}

/* Fill every unset member of out from o (one step of config_host). */
static void
config_host_fill(struct config_host_opts *out, const struct config_host_opts *o)
{
	size_t i;

	for (i = 0; i < config_table_n; i++) {
		if (config_table[i].scope == CONFIG_SCOPE_BOTH)
			config_host_fill_one(&config_table[i], out, o);
	}
}

void
config_host(const struct config *cfg, const char *host,
	    struct config_host_opts *out)
{
	size_t i;

	config_host_opts_init(out);
	for (i = 0; i < cfg->n_blocks; i++) {
		if (config_match_patterns(cfg->blocks[i].patterns,
					  cfg->blocks[i].n_patterns, host))
			config_host_fill(out, &cfg->blocks[i].opts);
	}
	config_host_fill(out, &cfg->global);
}

char *
config_hostname(const char *value, const char *host)
{
	size_t len = 0, hlen = strlen(host);
	const char *cp;
	char *out, *o;

	if (value == NULL)
		return xstrdup(host);
	/* The parser took "%h" and "%%" only; any other "%" stays as is. */
	for (cp = value; *cp != '\0'; cp++, len++) {
		if (cp[0] == '%' && cp[1] == 'h') {
			len += hlen - 1;
			cp++;
		} else if (cp[0] == '%' && cp[1] == '%')
			cp++;
	}
	o = out = xmalloc(len + 1);
	for (cp = value; *cp != '\0'; cp++) {
		if (cp[0] == '%' && cp[1] == 'h') {
			memcpy(o, host, hlen);
			o += hlen;
			cp++;
			continue;
		}
		if (cp[0] == '%' && cp[1] == '%')
			cp++;
		*o++ = *cp;
	}
	*o = '\0';
	return out;
}

/* An IdentityAgent that names an agent: set and not "none". */
static int
config_has_agent(const char *v)
{
	return v != NULL && strcmp(v, "none") != 0;
}

static void
config_warn(struct config_errors *warnings, const struct config *cfg, int line,
	    const char *where)
{
	char at[24] = "", *text;

	if (line > 0)
		snprintf(at, sizeof(at), ":%d", line);
	xasprintf(&text,
		  "%s%s: ForwardAgent yes%s: no IdentityAgent applies, so "
		  "nothing is forwarded (a client forwards its own agent "
		  "with --forward-agent)",
		  cfg->path != NULL ? cfg->path : "(defaults)", at, where);
	warnings->lines = xreallocarray(warnings->lines, warnings->n + 1,
					sizeof(*warnings->lines));
	warnings->lines[warnings->n++] = text;
}

void
config_warnings(const struct config *cfg, struct config_errors *warnings)
{
	int agents = config_has_agent(cfg->global.identity_agent);
	size_t i;

	/* Blocks combine per host; only a file with no agent at all is
	 * certain to forward nothing. */
	for (i = 0; i < cfg->n_blocks && !agents; i++)
		agents = config_has_agent(cfg->blocks[i].opts.identity_agent);
	if (agents)
		return;
	if (cfg->global.forward_agent == 1)
		config_warn(warnings, cfg, 0, " (global)");
	for (i = 0; i < cfg->n_blocks; i++) {
		if (cfg->blocks[i].opts.forward_agent == 1)
			config_warn(warnings, cfg, cfg->blocks[i].line,
				    " in this Host block");
	}
}
