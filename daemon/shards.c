/* SPDX-License-Identifier: ISC */
/*
 * Posting to the workers through the handle workers_start() returned: the
 * control thread's only way to reach them.  A pool key always maps to the
 * same shard, so every object of one host lives on one thread.
 */
#include <stdlib.h>

#include "clock.h"
#include "msg.h"

/* FNV-1a: stable and cheap; the key is short. */
unsigned long long
shards_hash(const char *key)
{
	unsigned long long h = 14695981039346656037ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return h;
}

int
shards_index(const struct shards *s, const char *key)
{
	return (int)(shards_hash(key) % (unsigned long long)s->n);
}

void
shards_post(const struct shards *s, int index, struct msg *m)
{
	m->worker = index;
	inbox_post(s->v[index].inbox, m);
}

void
shards_broadcast(const struct shards *s, enum msg_type type,
		 struct request *req)
{
	struct msg *m;
	int k;

	for (k = 0; k < s->n; k++) {
		m = msg_new(type);
		m->req = req;
		shards_post(s, k, m);
	}
}

long long
shards_heartbeat_age_ms(const struct shards *s, int index)
{
	return clock_ms() - atomic_load(&s->v[index].heartbeat);
}

void
shards_stats(const struct shards *s, int *hosts_up, int *jobs)
{
	int k;

	*hosts_up = *jobs = 0;
	for (k = 0; k < s->n; k++) {
		*hosts_up += atomic_load(&s->v[k].hosts_up);
		*jobs += atomic_load(&s->v[k].jobs);
	}
}
