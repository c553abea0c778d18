/* SPDX-License-Identifier: ISC */
/*
 * The client side's monotonic clock, shared by libsshpool and the CLI.
 */
#ifndef SSHPOOL_CLIENT_CLOCK_H
#define SSHPOOL_CLIENT_CLOCK_H

long long client_clock_ns(void);
long long client_clock_ms(void);

#endif
