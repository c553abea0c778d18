/* SPDX-License-Identifier: ISC */
/*
 * Job specs: one host's share of a request, built by the control thread and
 * handed to a worker inside MSG_JOB, and the command input all the jobs of
 * one run share read-only (reference counted, freed with its last job).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "xmalloc.h"

struct job_input *
job_input_new(struct proto_request *r)
{
	struct job_input *in = xcalloc(1, sizeof(*in));

	atomic_init(&in->refs, 1);
	in->command = r->command;
	in->timeout_ms = r->timeout_ms;
	in->idle_timeout_ms = r->idle_timeout_ms;
	in->pty = r->pty;
	in->forward_agent = r->forward_agent;
	in->env = r->env;
	in->nenv = r->nenv;
	in->stdin_data = r->stdin_data;
	in->stdin_len = r->stdin_len;
	r->command = NULL;
	r->env = NULL;
	r->nenv = 0;
	r->stdin_data = NULL;
	r->stdin_len = 0;
	return in;
}

struct job_input *
job_input_ref(struct job_input *in)
{
	atomic_fetch_add(&in->refs, 1);
	return in;
}

void
job_input_unref(struct job_input *in)
{
	size_t i;

	if (in == NULL || atomic_fetch_sub(&in->refs, 1) != 1)
		return;
	free(in->command);
	for (i = 0; i < in->nenv; i++) {
		free(in->env[i].name);
		free(in->env[i].value);
	}
	free(in->env);
	free(in->stdin_data);
	free(in);
}

void
job_spec_free(struct job_spec *s)
{
	if (s == NULL)
		return;
	if (s->flow != NULL)
		flow_unref(s->flow);
	job_input_unref(s->input);
	free(s->hostarg);
	host_params_free(s->params);
	free(s);
}
