/* SPDX-License-Identifier: ISC */
/*
 * Daemon-wide pacing of SSH handshakes: a token bucket shared by every
 * worker.  A fleet-wide blip must not turn into a connection storm: each
 * handshake costs the server a fork and both sides a key exchange, and
 * OpenSSH's MaxStartups drops unauthenticated connections beyond its limit.
 * The bucket holds one second's worth of tokens, so a cold start may burst
 * to MaxHandshakeRate at once and then proceeds at that rate.
 */
#include <pthread.h>

#include "clock.h"
#include "throttle.h"

static struct {
	pthread_mutex_t lock;
	double rate; /* tokens per millisecond */
	double burst;
	double tokens;
	long long last_ms;
} throttle = {.lock = PTHREAD_MUTEX_INITIALIZER};

void
throttle_init(int per_second)
{
	pthread_mutex_lock(&throttle.lock);
	throttle.rate = per_second / 1000.0;
	throttle.burst = per_second;
	throttle.tokens = throttle.burst;
	throttle.last_ms = clock_ms();
	pthread_mutex_unlock(&throttle.lock);
}

/* Take a token: 0 if one was taken, else the milliseconds to wait. */
long long
throttle_take(void)
{
	long long now = clock_ms(), wait = 0;

	pthread_mutex_lock(&throttle.lock);
	if (throttle.rate <= 0) {
		pthread_mutex_unlock(&throttle.lock);
		return 0;
	}
	throttle.tokens += (now - throttle.last_ms) * throttle.rate;
	if (throttle.tokens > throttle.burst)
		throttle.tokens = throttle.burst;
	throttle.last_ms = now;
	if (throttle.tokens >= 1.0)
		throttle.tokens -= 1.0;
	else
		wait = (long long)((1.0 - throttle.tokens) / throttle.rate) + 1;
	pthread_mutex_unlock(&throttle.lock);
	return wait;
}
