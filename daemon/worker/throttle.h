/* SPDX-License-Identifier: ISC */
/* Daemon-wide pacing of SSH handshakes, shared by every worker (throttle.c). */
#ifndef SSHPOOL_THROTTLE_H
#define SSHPOOL_THROTTLE_H

void throttle_init(int per_second);
/* 0 when a handshake may start now, else the milliseconds to wait. */
long long throttle_take(void);

#endif
