/* SPDX-License-Identifier: ISC */
/*
 * Request groups: the hosts that share a command and stdin go out as one
 * request.  Grouping, sending while few enough are in flight, stopping
 * (--stop-on-error and interrupts), the run options of a request, and
 * waiting for the one reply of a single-reply request.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_req *
cli_req_by_id(struct cli *cli, uint64_t id)
{
	size_t i;

	/* Requests in flight are few; scan from the newest sent. */
	for (i = cli->next_req; i-- > 0;) {
		if (cli->reqs[i].id == id && cli->reqs[i].state != REQ_QUEUED)
			return &cli->reqs[i];
	}
	return NULL;
}

static size_t
cli_req_hash(const char *command, const unsigned char *data, size_t len,
	     int has_stdin)
{
	size_t h = cli_hash(command);

	h = cli_hash_bytes(h, &has_stdin, sizeof has_stdin);
	return cli_hash_bytes(h, data, len);
}

/* The group of hosts sharing command and stdin (created if new). */
size_t
cli_req_group(struct cli *cli, char *command, unsigned char *data, size_t len,
	      int has_stdin)
{
	struct cli_req *r;
	size_t h, i, slot;

	if (cli->reqhashsize == 0) {
		cli->reqhashsize = 1024;
		cli->reqhash =
		    cli_xcalloc(cli->reqhashsize, sizeof *cli->reqhash);
	}
	h = cli_req_hash(command, data, len, has_stdin) &
	    (cli->reqhashsize - 1);
	for (slot = cli->reqhash[h]; slot != 0; slot = r->hash_next) {
		r = &cli->reqs[slot - 1];
		if (r->has_stdin == has_stdin && r->stdin_len == len &&
		    strcmp(r->command, command) == 0 &&
		    (len == 0 || memcmp(r->stdin_data, data, len) == 0)) {
			free(command);
			free(data);
			return slot - 1;
		}
	}
	if (cli->nreqs == cli->reqcap) {
		cli->reqcap = cli->reqcap == 0 ? 16 : cli->reqcap * 2;
		cli->reqs =
		    cli_xrealloc(cli->reqs, cli->reqcap * sizeof *cli->reqs);
	}
	i = cli->nreqs++;
	r = &cli->reqs[i];
	memset(r, 0, sizeof *r);
	r->command = command;
	r->stdin_data = data;
	r->stdin_len = len;
	r->has_stdin = has_stdin;
	r->hash_next = cli->reqhash[h];
	cli->reqhash[h] = i + 1;
	return i;
}

void
cli_req_add_host(struct cli_req *r, size_t host)
{
	if (r->nhosts == r->cap) {
		r->cap = r->cap == 0 ? 16 : r->cap * 2;
		r->hosts = cli_xrealloc(r->hosts, r->cap * sizeof *r->hosts);
	}
	r->hosts[r->nhosts++] = host;
}

void
cli_req_clear(struct cli *cli)
{
	size_t i;

	for (i = 0; i < cli->nreqs; i++) {
		free(cli->reqs[i].command);
		free(cli->reqs[i].stdin_data);
		free(cli->reqs[i].hosts);
	}
	free(cli->reqs);
	free(cli->reqhash);
}

void
cli_req_error(struct cli *cli, const sp_event *ev)
{
	char why[1200];

	snprintf(why, sizeof why, "%s: %s", sp_event_error_code(ev),
		 sp_event_message(ev));
	if (cli->req_error == NULL)
		cli->req_error = cli_xstrdup(why);
}

/* --stop-on-error and interrupts: cancel what runs, send nothing more. */
void
cli_req_stop(struct cli *cli)
{
	struct cli_req *r;
	size_t i, k;
	uint64_t cancel_id;

	cli->stopping = 1;
	for (i = 0; i < cli->nreqs; i++) {
		r = &cli->reqs[i];
		if (r->state == REQ_SENT)
			(void)sp_send_cancel(cli->c, r->id, &cancel_id);
		else if (r->state == REQ_QUEUED) {
			r->state = REQ_DONE;
			cli->reqs_done++;
			for (k = 0; k < r->nhosts; k++)
				cli->hosts.v[r->hosts[k]].state = HOST_SKIPPED;
		}
	}
	cli->next_req = cli->nreqs;
}

/* Send queued requests while fewer than CLI_MAX_INFLIGHT run. */
int
cli_req_send_more(struct cli *cli, cli_req_sender send)
{
	struct cli_req *r;

	while (!cli->stopping && cli->next_req < cli->nreqs &&
	       cli->inflight < CLI_MAX_INFLIGHT) {
		r = &cli->reqs[cli->next_req++];
		if (send(cli, r) == -1)
			return -1;
		r->state = REQ_SENT;
		cli->inflight++;
	}
	return 0;
}

/* Options with hosts, exclusions (for groups), user and jump hosts; NULL
 * on error. */
sp_run_opts *
cli_req_opts(struct cli *cli, const struct cli_req *r)
{
	sp_run_opts *o;
	size_t i;

	if ((o = sp_run_opts_new()) == NULL)
		cli_nomem();
	if (r != NULL) {
		for (i = 0; i < r->nhosts; i++) {
			if (sp_run_opts_add_host(
				o, cli->hosts.v[r->hosts[i]].name) == -1)
				goto fail;
		}
	}
	/* Groups go with the first request; the daemon expands them. */
	if (r == NULL || r == &cli->reqs[0]) {
		for (i = 0; i < cli->groups.n; i++) {
			if (sp_run_opts_add_host(o, cli->groups.v[i]) == -1)
				goto fail;
		}
		for (i = 0; cli->groups.n > 0 && i < cli->exclude.n; i++) {
			if (sp_run_opts_add_exclude(o, cli->exclude.v[i]) == -1)
				goto fail;
		}
	}
	if (cli->user != NULL && sp_run_opts_set_user(o, cli->user) == -1)
		goto fail;
	if (cli->jump != NULL && sp_run_opts_set_jump(o, cli->jump) == -1)
		goto fail;
	for (i = 0; i < cli->npass; i++) {
		if (sp_run_opts_add_fd(o, cli->pass_roles[i],
				       cli->pass_fds[i]) == -1)
			goto fail;
	}
	if (cli->password != NULL &&
	    sp_run_opts_set_password(o, cli->password, strlen(cli->password)) ==
		-1)
		goto fail;
	return o;
fail:
	cli_warnx("%s", sp_run_opts_error(o));
	sp_run_opts_free(o);
	return NULL;
}

/* Wait for the reply to a single-reply request; other events are
 * dropped. */
int
cli_req_wait_reply(struct cli *cli, uint64_t id, sp_event **out)
{
	sp_event *ev;
	int r;

	for (;;) {
		while ((r = sp_next_event(cli->c, &ev)) == 1) {
			if (sp_event_request_id(ev) == id) {
				*out = ev;
				return 0;
			}
			sp_event_free(ev);
		}
		if (r == -1 || sp_wait(cli->c, -1) == -1) {
			cli_warnx("%s", sp_client_error(cli->c));
			return -1;
		}
	}
}
