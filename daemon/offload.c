/* SPDX-License-Identifier: ISC */
/*
 * Offload threads: a small pool that runs the blocking calls the workers
 * must never make on their loops (getaddrinfo, known_hosts file I/O).  A
 * task runs fn(arg) here, then travels back to the inbox it came with, where
 * done(arg) runs on the submitting thread.
 */
#include <signal.h>
#include <stdlib.h>

#include <pthread.h>

#include "inbox.h"
#include "log.h"
#include "msg.h"
#include "offload.h"
#include "xmalloc.h"

#define OFFLOAD_MAX_THREADS 16

struct offload_task {
	TAILQ_ENTRY(offload_task) entry;
	struct inbox *reply;
	void (*fn)(void *);
	void (*done)(void *);
	void *arg;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	TAILQ_HEAD(, offload_task) tasks;
	pthread_t threads[OFFLOAD_MAX_THREADS];
	int nthreads;
	int stopping;
} offload = {.lock = PTHREAD_MUTEX_INITIALIZER,
	     .cond = PTHREAD_COND_INITIALIZER};

static void *
offload_main(void *arg)
{
	struct offload_task *t;
	struct msg *m;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&offload.lock);
		while (TAILQ_EMPTY(&offload.tasks) && !offload.stopping)
			pthread_cond_wait(&offload.cond, &offload.lock);
		if ((t = TAILQ_FIRST(&offload.tasks)) == NULL) {
			pthread_mutex_unlock(&offload.lock);
			return NULL;
		}
		TAILQ_REMOVE(&offload.tasks, t, entry);
		pthread_mutex_unlock(&offload.lock);

		t->fn(t->arg);
		m = msg_new(MSG_OFFLOAD_DONE);
		m->done = t->done;
		m->arg = t->arg;
		inbox_post(t->reply, m);
		free(t);
	}
}

int
offload_start(int nthreads)
{
	sigset_t all, old;
	int i;

	if (nthreads < 1 || nthreads > OFFLOAD_MAX_THREADS)
		return -1;
	TAILQ_INIT(&offload.tasks);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&offload.threads[i], NULL, offload_main,
				   NULL) != 0)
			fatalx("%s: pthread_create failed", __func__);
		offload.nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/* Called after the workers have stopped: no task can be submitted any more
 * and none is waited for. */
void
offload_stop(void)
{
	struct offload_task *t;
	int i;

	pthread_mutex_lock(&offload.lock);
	offload.stopping = 1;
	while ((t = TAILQ_FIRST(&offload.tasks)) != NULL) {
		TAILQ_REMOVE(&offload.tasks, t, entry);
		free(t);
	}
	pthread_cond_broadcast(&offload.cond);
	pthread_mutex_unlock(&offload.lock);
	for (i = 0; i < offload.nthreads; i++)
		pthread_join(offload.threads[i], NULL);
	offload.nthreads = 0;
}

void
offload_submit(struct inbox *reply, void (*fn)(void *), void (*done)(void *),
	       void *arg)
{
	struct offload_task *t = xcalloc(1, sizeof(*t));

	t->reply = reply;
	t->fn = fn;
	t->done = done;
	t->arg = arg;
	pthread_mutex_lock(&offload.lock);
	TAILQ_INSERT_TAIL(&offload.tasks, t, entry);
	pthread_cond_signal(&offload.cond);
	pthread_mutex_unlock(&offload.lock);
}
