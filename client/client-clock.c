/* SPDX-License-Identifier: ISC */
/*
 * The client side's monotonic clock: deadlines in libsshpool, the CLI's
 * progress line, elapsed times and round-trip times.
 */
#include <time.h>

#include "client-clock.h"

long long
client_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long long
client_clock_ms(void)
{
	return client_clock_ns() / 1000000;
}
