/* SPDX-License-Identifier: ISC */
/*
 * A thread's mailbox (inbox.c): any thread posts, the owner drains the whole
 * list in its loop.  event_active() coalesces, so the callback must drain
 * all.  The inbox is the only handle one thread holds on another.
 */
#ifndef SSHPOOL_INBOX_H
#define SSHPOOL_INBOX_H

#include <sys/queue.h>

#include <pthread.h>

struct event;
struct event_base;
struct msg;
TAILQ_HEAD(msg_list, msg);

struct inbox {
	pthread_mutex_t lock;
	struct msg_list msgs;
	struct event *ev;
	void (*cb)(struct msg_list *, void *);
	void *arg;
};
void inbox_init(struct inbox *, struct event_base *,
		void (*cb)(struct msg_list *, void *), void *arg);
void inbox_post(struct inbox *, struct msg *);
void inbox_post_list(struct inbox *, struct msg_list *); /* empties it */
void inbox_destroy(struct inbox *); /* frees undelivered messages */

#endif
