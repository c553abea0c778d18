/* SPDX-License-Identifier: ISC */
/* The daemon's monotonic clock (clock.c). */
#ifndef SSHPOOL_CLOCK_H
#define SSHPOOL_CLOCK_H

/* Monotonic milliseconds: for deadlines and ages, never for wall time. */
long long clock_ms(void);
/* The same in microseconds (systemd's MONOTONIC_USEC). */
long long clock_us(void);

#endif
