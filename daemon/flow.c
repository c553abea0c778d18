/* SPDX-License-Identifier: ISC */
/*
 * The reference-counted flow counters between one client connection and the
 * workers: workers add what they post for the client, the control thread
 * subtracts what it has written.  The only mutable state threads share.
 */
#include <stdlib.h>

#include "msg.h"
#include "xmalloc.h"

struct flow *
flow_new(size_t high, size_t low)
{
	struct flow *f = xcalloc(1, sizeof(*f));

	f->high = high;
	f->low = low < high ? low : high;

	atomic_init(&f->queued, 0);
	atomic_init(&f->closed, 0);
	atomic_init(&f->refs, 1);
	return f;
}

struct flow *
flow_ref(struct flow *f)
{
	atomic_fetch_add(&f->refs, 1);
	return f;
}

void
flow_unref(struct flow *f)
{
	if (f != NULL && atomic_fetch_sub(&f->refs, 1) == 1)
		free(f);
}

int
flow_paused(struct flow *f)
{
	return atomic_load(&f->queued) >= f->high && !atomic_load(&f->closed);
}
