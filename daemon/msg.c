/* SPDX-License-Identifier: ISC */
/*
 * Messages between threads.  A message has one owner at a time; whatever it
 * carries (a job spec, a flow reference, buffers, keys) moves with it and is
 * freed with it when the recipient does not take it out.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "msg.h"
#include "xmalloc.h"

struct msg *
msg_new(enum msg_type type)
{
	struct msg *m = xcalloc(1, sizeof(*m));

	m->type = type;
	m->worker = -1;
	m->fd = -1;
	proto_buf_init(&m->buf);
	proto_buf_init(&m->buf2);
	return m;
}

void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	job_spec_free(m->job);
	if (m->flow != NULL)
		flow_unref(m->flow);
	proto_buf_free(&m->buf);
	proto_buf_free(&m->buf2);
	if (m->keys != NULL)
		keystore_unref(m->keys);
	tunnel_req_free(m->tunnel);
	if (m->fd != -1)
		close(m->fd);
	free(m);
}

void
tunnel_req_free(struct tunnel_req *t)
{
	if (t == NULL)
		return;
	host_params_free(t->hop);
	free(t->host);
	free(t->target);
	free(t);
}
