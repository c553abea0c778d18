/* SPDX-License-Identifier: ISC */
/*
 * Keepalive of a ready connection (ServerAliveInterval/CountMax): the
 * silence of the server is measured from the last packet received, on a
 * timer ticking every quarter interval; a silent session gets keepalive
 * requests and is closed as lost once silent for CountMax intervals.
 */
#include <sys/ioctl.h>

#include <linux/sockios.h> /* SIOCOUTQ */
#include <stdio.h>

#include <event2/event.h>
#include <libssh/libssh.h>
#include <libssh/server.h> /* ssh_send_keepalive */

#include "alive.h"
#include "clock.h"
#include "conn.h"
#include "host.h"
#include "log.h"
#include "worker.h"

/* Note traffic from the server: it proves the session alive. */
void
alive_saw_packets(struct conn *c)
{
	long long now;

	if (c->packets.in_packets == c->rx_seen)
		return;
	now = clock_ms();
	c->rx_seen = c->packets.in_packets;
	c->last_rx_ms = now;
	if (c->ka_outstanding) {
		host_rtt(c->host, now - c->ka_sent_ms);
		c->ka_outstanding = 0;
	}
}

int
alive_tick(const struct conn *c)
{
	int tick = c->host->params->alive_interval_ms / 4;

	return tick > 0 ? tick : 1;
}

/*
 * An SSH_MSG_IGNORE probe is answered when the server's TCP has taken every
 * byte sent: nothing is left in the socket's send queue.
 */
static void
alive_saw_ack(struct conn *c)
{
	int fd = ssh_get_fd(c->session), queued;

	/* Through a tunnel the socket's queue empties into the hop's
	 * bridge, which proves nothing of the target. */
	if (c->host->params->via != NULL)
		return;
	if (!c->ka_probe || fd == -1 || fd != c->fd)
		return;
	if (ioctl(fd, SIOCOUTQ, &queued) == -1 || queued > 0)
		return;
	c->ka_probe = 0;
	c->last_rx_ms = clock_ms();
}

/*
 * Send a keepalive.  A keepalive@openssh.com request goes out through
 * ssh_send_keepalive(), which in non-blocking mode sends only on every other
 * call (the other one collects the reply).  A server that answers it with
 * SSH_MSG_UNIMPLEMENTED (TinySSH) leaves libssh's request pending for good:
 * no later call sends anything.  Such a session is probed with
 * SSH_MSG_IGNORE instead, answered by the server's TCP acknowledging it:
 * that proves the path and the server's host, not the server process, and
 * gives no round trip time.
 */
static void
alive_send(struct conn *c, long long now)
{
	uint64_t out = c->packets.out_packets;

	ssh_send_keepalive(c->session);
	if (c->packets.out_packets == out)
		ssh_send_keepalive(c->session);
	if (c->packets.out_packets != out) {
		c->ka_sent_ms = now;
		c->ka_outstanding = 1;
		return;
	}
	/* Nothing went out.  With nothing received since the last request
	 * it is simply unanswered; with packets received, the server
	 * answered in a way libssh does not take for a reply. */
	if (c->ka_outstanding)
		return;
	if (!c->ka_stuck)
		log_verbose("host=%s conn=%llu: keepalive@openssh.com gets no "
			    "reply libssh accepts: keepalives are "
			    "SSH_MSG_IGNORE probes",
			    c->host->params->key, c->id);
	c->ka_stuck = 1;
	if (ssh_send_ignore(c->session, "") == SSH_OK &&
	    c->packets.out_packets != out) {
		c->ka_sent_ms = now;
		c->ka_probe = 1;
	}
}

/*
 * ServerAliveInterval/CountMax: a session silent for an interval gets a
 * keepalive request, and another each interval after; silent for CountMax
 * intervals, it is dead (OpenSSH: "approximately interval x count").
 */
void
alive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct host_params *p = c->host->params;
	long long now = clock_ms(), silence;
	char why[256];

	(void)fd;
	(void)what;
	if (c->state != CONN_READY)
		return;
	alive_saw_packets(c);
	alive_saw_ack(c);
	/* Held, silence is not a dead peer.  Not polled either: one poll
	 * would take in what TCP holds, up to the paused channels' windows.
	 * (A server's ClientAlive requests then go unanswered too; see
	 * ClientQueueHardTime in sshpoold.conf(5).) */
	if (c->held) {
		c->last_rx_ms = now;
		worker_timer_add(c->w, c->alive, alive_tick(c), 1);
		return;
	}
	silence = now - c->last_rx_ms;
	if (silence >= (long long)p->alive_interval_ms * p->alive_count_max) {
		snprintf(
		    why, sizeof(why),
		    "no answer from the server for %lld "
		    "ms (ServerAliveInterval %d ms, ServerAliveCountMax %d)",
		    silence, p->alive_interval_ms, p->alive_count_max);
		conn_close(c, PROTO_E_CONNECTION_LOST, why);
		conn_finish(c);
		return;
	}
	if (silence >= p->alive_interval_ms &&
	    now - c->ka_sent_ms >= p->alive_interval_ms) {
		alive_send(c, now);
		/* The calls may have read packets for some channel. */
		conn_poke(c);
	}
	worker_timer_add(c->w, c->alive, alive_tick(c), 1);
}
