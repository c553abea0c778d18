/* SPDX-License-Identifier: ISC */
/*
 * Offload threads for blocking calls (offload.c): name resolution and
 * known_hosts file I/O, which the worker loops must never wait for.
 */
#ifndef SSHPOOL_OFFLOAD_H
#define SSHPOOL_OFFLOAD_H

#include <stdatomic.h>

struct inbox;

/* Each queue has its own threads: a hung resolver never delays the
 * known_hosts reads of connections to other hosts. */
enum offload_queue { OFFLOAD_Q_RESOLVE, OFFLOAD_Q_FILES, OFFLOAD_NQUEUES };

/* Tasks that may wait in one queue; a task past it is refused. */
#define OFFLOAD_QUEUE_MAX 256
/* How long offload_stop() waits for threads still inside a blocking call
 * (a getaddrinfo that does not return); they are then left behind. */
#define OFFLOAD_STOP_WAIT_MS 500

int offload_start(int resolve_threads, int file_threads);
void offload_stop(void);
/*
 * Run fn(arg) on a thread of queue q, then post MSG_OFFLOAD_DONE to reply,
 * whose owner runs done(arg).  fn is skipped when *cancel is set before the
 * task starts; done still runs.  The caller keeps arg alive until done or
 * discard runs.  0, or -1 when the queue is full or stopping (nothing was
 * queued and nothing will run).
 */
int offload_submit(enum offload_queue q, struct inbox *reply,
		   void (*fn)(void *), void (*done)(void *),
		   void (*discard)(void *), void *arg,
		   const atomic_int *cancel);
/*
 * The owner of reply stops waiting for its tasks: those still queued are
 * dropped, those running have discard(arg) run on their offload thread
 * when their call returns, instead of done.  Returns the number of tasks
 * that will never come back to reply; results already posted still do.
 */
int offload_abandon(struct inbox *reply);

#endif
