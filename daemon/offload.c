/* SPDX-License-Identifier: ISC */
/*
 * Offload threads: small pools that run the blocking calls the workers must
 * never make on their loops.  Each queue (name resolution, known_hosts file
 * I/O) has its own bounded FIFO and its own threads, so a resolver that
 * never answers holds only resolver threads.  A task runs fn(arg) here, then
 * travels back to the inbox it came with, where done(arg) runs on the
 * submitting thread.
 *
 * A task whose caller set its cancel flag is not run, only returned.  A
 * worker that stops abandons its tasks: queued ones are dropped at once,
 * running ones end with discard(arg) on their offload thread, so nothing is
 * posted to an inbox that is gone.  The threads are detached: offload_stop()
 * waits a bounded time for them and leaves a thread stuck in getaddrinfo
 * behind for the process exit to end.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <pthread.h>

#include "inbox.h"
#include "log.h"
#include "msg.h"
#include "offload.h"
#include "xmalloc.h"

#define OFFLOAD_MAX_THREADS 16

struct offload_task {
	TAILQ_ENTRY(offload_task) entry;
	struct inbox *reply; /* NULL once abandoned */
	void (*fn)(void *);
	void (*done)(void *);
	void (*discard)(void *);
	void *arg;
	const atomic_int *cancel;
};

TAILQ_HEAD(offload_tasks, offload_task);

struct offload_queue_s {
	pthread_cond_t cond;
	struct offload_tasks waiting;
	struct offload_tasks running;
	int nwaiting;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t gone; /* a thread ended */
	struct offload_queue_s q[OFFLOAD_NQUEUES];
	int alive; /* threads not yet ended */
	int stopping;
} offload = {.lock = PTHREAD_MUTEX_INITIALIZER,
	     .gone = PTHREAD_COND_INITIALIZER};

/* The task's result goes home; called with the lock held. */
static void
offload_return(struct offload_task *t)
{
	struct msg *m = msg_new(MSG_OFFLOAD_DONE);

	m->done = t->done;
	m->arg = t->arg;
	inbox_post(t->reply, m);
	free(t);
}

static void
offload_run(struct offload_queue_s *q, struct offload_task *t)
{
	struct inbox *reply;

	if (!atomic_load(t->cancel))
		t->fn(t->arg);
	pthread_mutex_lock(&offload.lock);
	TAILQ_REMOVE(&q->running, t, entry);
	reply = t->reply;
	if (reply != NULL)
		offload_return(t);
	pthread_mutex_unlock(&offload.lock);
	if (reply == NULL) {
		t->discard(t->arg);
		free(t);
	}
}

static void *
offload_main(void *arg)
{
	struct offload_queue_s *q = arg;
	struct offload_task *t;

	pthread_mutex_lock(&offload.lock);
	for (;;) {
		while (TAILQ_EMPTY(&q->waiting) && !offload.stopping)
			pthread_cond_wait(&q->cond, &offload.lock);
		if (offload.stopping)
			break;
		t = TAILQ_FIRST(&q->waiting);
		TAILQ_REMOVE(&q->waiting, t, entry);
		q->nwaiting--;
		TAILQ_INSERT_TAIL(&q->running, t, entry);
		pthread_mutex_unlock(&offload.lock);
		offload_run(q, t);
		pthread_mutex_lock(&offload.lock);
	}
	offload.alive--;
	pthread_cond_broadcast(&offload.gone);
	pthread_mutex_unlock(&offload.lock);
	return NULL;
}

int
offload_start(int resolve_threads, int file_threads)
{
	int counts[OFFLOAD_NQUEUES] = {resolve_threads, file_threads};
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int i, k;

	for (k = 0; k < OFFLOAD_NQUEUES; k++) {
		if (counts[k] < 1 || counts[k] > OFFLOAD_MAX_THREADS)
			return -1;
		pthread_cond_init(&offload.q[k].cond, NULL);
		TAILQ_INIT(&offload.q[k].waiting);
		TAILQ_INIT(&offload.q[k].running);
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (k = 0; k < OFFLOAD_NQUEUES; k++)
		for (i = 0; i < counts[k]; i++) {
			pthread_mutex_lock(&offload.lock);
			offload.alive++;
			pthread_mutex_unlock(&offload.lock);
			if (pthread_create(&tid, &attr, offload_main,
					   &offload.q[k]) != 0)
				fatalx("%s: pthread_create failed", __func__);
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return 0;
}

/* Move the tasks of reply (any when NULL) that wait in q to list. */
static void
offload_take(struct offload_queue_s *q, const struct inbox *reply,
	     struct offload_tasks *list)
{
	struct offload_task *t, *next;

	for (t = TAILQ_FIRST(&q->waiting); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (reply != NULL && t->reply != reply)
			continue;
		TAILQ_REMOVE(&q->waiting, t, entry);
		q->nwaiting--;
		TAILQ_INSERT_TAIL(list, t, entry);
	}
}

static int
offload_discard_all(struct offload_tasks *list)
{
	struct offload_task *t;
	int n = 0;

	while ((t = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, t, entry);
		t->discard(t->arg);
		free(t);
		n++;
	}
	return n;
}

/*
 * Called after the workers have stopped: no task can be submitted any more
 * and none is waited for.  Threads still inside a blocking call after
 * OFFLOAD_STOP_WAIT_MS are left to the process exit.
 */
void
offload_stop(void)
{
	struct offload_tasks dropped = TAILQ_HEAD_INITIALIZER(dropped);
	struct timespec until;
	int k, left;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += OFFLOAD_STOP_WAIT_MS / 1000;
	until.tv_nsec += (long)(OFFLOAD_STOP_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&offload.lock);
	offload.stopping = 1;
	for (k = 0; k < OFFLOAD_NQUEUES; k++) {
		offload_take(&offload.q[k], NULL, &dropped);
		pthread_cond_broadcast(&offload.q[k].cond);
	}
	while (offload.alive > 0)
		if (pthread_cond_timedwait(&offload.gone, &offload.lock,
					   &until) == ETIMEDOUT)
			break;
	left = offload.alive;
	pthread_mutex_unlock(&offload.lock);
	offload_discard_all(&dropped);
	if (left > 0)
		log_warnx("%d offload threads still blocked after %d ms; "
			  "not waiting for them",
			  left, OFFLOAD_STOP_WAIT_MS);
}

/* Give back the queued tasks that nobody wants any more. */
static void
offload_purge(struct offload_queue_s *q)
{
	struct offload_task *t, *next;

	for (t = TAILQ_FIRST(&q->waiting); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (!atomic_load(t->cancel))
			continue;
		TAILQ_REMOVE(&q->waiting, t, entry);
		q->nwaiting--;
		offload_return(t);
	}
}

int
offload_submit(enum offload_queue qi, struct inbox *reply, void (*fn)(void *),
	       void (*done)(void *), void (*discard)(void *), void *arg,
	       const atomic_int *cancel)
{
	struct offload_queue_s *q = &offload.q[qi];
	struct offload_task *t;

	pthread_mutex_lock(&offload.lock);
	if (q->nwaiting >= OFFLOAD_QUEUE_MAX)
		offload_purge(q);
	if (offload.stopping || q->nwaiting >= OFFLOAD_QUEUE_MAX) {
		pthread_mutex_unlock(&offload.lock);
		return -1;
	}
	t = xcalloc(1, sizeof(*t));
	t->reply = reply;
	t->fn = fn;
	t->done = done;
	t->discard = discard;
	t->arg = arg;
	t->cancel = cancel;
	TAILQ_INSERT_TAIL(&q->waiting, t, entry);
	q->nwaiting++;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&offload.lock);
	return 0;
}

int
offload_abandon(struct inbox *reply)
{
	struct offload_tasks dropped = TAILQ_HEAD_INITIALIZER(dropped);
	struct offload_task *t;
	int k, n = 0;

	pthread_mutex_lock(&offload.lock);
	for (k = 0; k < OFFLOAD_NQUEUES; k++) {
		offload_take(&offload.q[k], reply, &dropped);
		TAILQ_FOREACH(t, &offload.q[k].running, entry)
		if (t->reply == reply) {
			t->reply = NULL;
			n++;
		}
	}
	pthread_mutex_unlock(&offload.lock);
	return n + offload_discard_all(&dropped);
}
