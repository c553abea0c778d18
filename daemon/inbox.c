/* SPDX-License-Identifier: ISC */
/*
 * Per-thread mailboxes.  Any thread appends under the mutex and rings the
 * owner's persistent user event; the owner takes the whole list at once,
 * because event_active() coalesces many rings into one callback.
 */
#include <event2/event.h>
#include <stdlib.h>

#include "log.h"
#include "inbox.h"
#include "msg.h"

static void
inbox_ring(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *ib = arg;
	struct msg_list list;

	(void)fd;
	(void)what;
	TAILQ_INIT(&list);
	pthread_mutex_lock(&ib->lock);
	TAILQ_CONCAT(&list, &ib->msgs, entry);
	pthread_mutex_unlock(&ib->lock);
	if (!TAILQ_EMPTY(&list))
		ib->cb(&list, ib->arg);
}

void
inbox_init(struct inbox *ib, struct event_base *base,
	   void (*cb)(struct msg_list *, void *), void *arg)
{
	pthread_mutex_init(&ib->lock, NULL);
	TAILQ_INIT(&ib->msgs);
	ib->cb = cb;
	ib->arg = arg;
	ib->ev = event_new(base, -1, EV_PERSIST, inbox_ring, ib);
	if (ib->ev == NULL)
		fatalx("%s: event_new failed", __func__);
}

void
inbox_post_list(struct inbox *ib, struct msg_list *list)
{
	int was_empty;

	if (TAILQ_EMPTY(list))
		return;
	pthread_mutex_lock(&ib->lock);
	was_empty = TAILQ_EMPTY(&ib->msgs);
	TAILQ_CONCAT(&ib->msgs, list, entry);
	pthread_mutex_unlock(&ib->lock);
	/* A non-empty inbox has already been rung and not yet drained. */
	if (was_empty)
		event_active(ib->ev, EV_READ, 0);
}

void
inbox_post(struct inbox *ib, struct msg *m)
{
	struct msg_list one;

	TAILQ_INIT(&one);
	TAILQ_INSERT_TAIL(&one, m, entry);
	inbox_post_list(ib, &one);
}

void
inbox_destroy(struct inbox *ib)
{
	struct msg *m;

	if (ib->ev != NULL)
		event_free(ib->ev);
	ib->ev = NULL;
	while ((m = TAILQ_FIRST(&ib->msgs)) != NULL) {
		TAILQ_REMOVE(&ib->msgs, m, entry);
		msg_free(m);
	}
	pthread_mutex_destroy(&ib->lock);
}
