/* SPDX-License-Identifier: ISC */
/*
 * Offload threads for blocking calls (offload.c): name resolution and
 * known_hosts file I/O, which the worker loops must never wait for.
 */
#ifndef SSHPOOL_OFFLOAD_H
#define SSHPOOL_OFFLOAD_H

struct inbox;

int offload_start(int nthreads);
void offload_stop(void);
/* Run fn(arg) on an offload thread, then post MSG_OFFLOAD_DONE to reply,
 * whose owner runs done(arg).  The caller keeps arg alive until done runs. */
void offload_submit(struct inbox *reply, void (*fn)(void *),
		    void (*done)(void *), void *arg);

#endif
