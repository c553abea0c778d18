/* SPDX-License-Identifier: ISC */
/*
 * User authentication of one connection, a state machine of its own that
 * conn.c drives in its AUTH state.  It asks for "none" first, which tells
 * the methods the server offers, then walks PreferredAuthentications:
 * each name stands for the rows of auth_methods with that name, tried in
 * table order, skipped when the server does not offer it.  A partial
 * success (AuthenticationMethods publickey,password) reads the server's
 * list again and goes on from the start of the preference order.  Every
 * call may return SSH_AUTH_AGAIN; the step then returns AUTH_AGAIN and
 * conn.c waits for the socket.  The password never reaches a log line or a
 * message: only method names, key paths and counts do.
 *
 * With an agent (the daemon's IdentityAgent, or the client's own, a
 * shared link of its request), publickey first offers the agent's keys.
 * libssh's agent client blocks, so it only ever talks to a relay of the
 * agent broker (agent.c); and before libssh is let at it, the agent's keys
 * are listed without blocking (agent_link_list): the step returns
 * AUTH_WAIT and conn.c hands the answer over with auth_agent_listed.  An
 * agent that does not answer is thus found out off the worker; one that
 * lists its keys but is slow to sign holds the worker for at most
 * AgentTimeout.  The keys are queried one by one without the agent; the
 * first the server accepts is signed through a relay pinned to it, so the
 * key that opened the session is known (a client agent's sessions serve
 * only requests whose agent holds it).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "agent.h"
#include "auth.h"
#include "keys.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

/* Keyboard-interactive rounds answered in one exchange (zero-prompt
 * rounds included) before the method is given up. */
#define AUTH_MAX_KBDINT_ROUNDS 16
/* Partial successes followed before the server is taken to loop. */
#define AUTH_MAX_PARTIAL 8
/* Rows of auth_methods; a bit each in a done mask. */
#define AUTH_MAX_ORDER 16

/* What one step of a method reached. */
enum auth_mstep {
	AUTH_M_AGAIN,
	AUTH_M_WAIT, /* for a message: the agent's listing */
	AUTH_M_SUCCESS,
	AUTH_M_PARTIAL, /* this method accepted, the server wants more */
	AUTH_M_DONE,    /* nothing more to try with this method */
	AUTH_M_ERROR
};

struct auth_method {
	const char *name; /* as in PreferredAuthentications */
	int bit;          /* SSH_AUTH_METHOD_* of ssh_userauth_list */
	enum auth_mstep (*step)(struct auth *);
	/* The outcome for the message, e.g. "publickey (2 keys tried)". */
	void (*report)(const struct auth *, char *, size_t);
};

/* One key an agent listed: its public blob. */
struct auth_pin {
	uint8_t *blob;
	size_t len;
};

/* The agent's part of publickey. */
enum auth_agent_phase {
	AUTH_AGENT_OFF,     /* no IdentityAgent */
	AUTH_AGENT_START,   /* to connect and list */
	AUTH_AGENT_LISTING, /* agent_list asked, its answer awaited */
	AUTH_AGENT_TRYING,  /* libssh offers the agent's keys */
	AUTH_AGENT_DONE
};

struct auth {
	/* A copy: a reload may replace the host's while this one runs. */
	struct host_params *p;
	struct keystore *keys;
	ssh_session s;
	unsigned long long conn_id;
	int asked_none;            /* "none" answered: offered is known */
	int offered;               /* SSH_AUTH_METHOD_* the server lists now */
	int order[AUTH_MAX_ORDER]; /* rows, in preference order */
	size_t norder;
	size_t next;          /* next entry of order to look at */
	int cur;              /* row running, -1 none */
	unsigned tried;       /* rows started since the last partial success */
	unsigned started;     /* rows ever started, for the message */
	int npartial;         /* partial successes so far */
	unsigned partial;     /* rows that were a partial success */
	int password_tries;   /* left, across password and kbdint */
	const char *password; /* borrowed from keys, NULL if none */

	/* publickey from the agent */
	enum auth_agent_phase agent;
	struct inbox *reply;   /* where the listing comes, cookie conn_id */
	uint64_t link;         /* the agent's link, 0 none */
	int link_owned;        /* the daemon's agent: this login's own link */
	struct auth_pin *pins; /* the listed keys to offer, in order */
	size_t npins;
	size_t pin;      /* offered now */
	uint64_t relay;  /* the relay pinned to it, 0 none */
	int libssh_fd;   /* the last relay end given to libssh, -1 none */
	int agent_keys;  /* identities the agent listed */
	int agent_tried; /* keys queried */
	ssh_key probe;   /* the key queried now, without the agent */
	int agent_keyed; /* a client's agent key authenticated: */
	unsigned char agent_key[AUTH_KEY_HASH]; /* its blob's SHA-256 */

	/* The client's own key (p->cred): with one, the daemon's identity
	 * files, agent and password are not used. */
	ssh_key client_key;
	int client_offered;

	/* publickey from files */
	size_t identity; /* identity being offered */
	size_t cert;     /* its certificates, then the plain key */
	ssh_key key;     /* offered now, borrowed from keys */
	int keys_tried;
	char note[256]; /* why an identity could not be used */

	/* password and keyboard-interactive */
	int pw_sent;
	int pw_done; /* answered: the same password again would fail again */
	int kbd_rounds;
	int kbd_sent;     /* answers given with the password */
	int kbd_declined; /* prompts not answered */
};

static enum auth_mstep auth_publickey(struct auth *);
static enum auth_mstep auth_kbdint(struct auth *);
static enum auth_mstep auth_password(struct auth *);
static void auth_publickey_report(const struct auth *, char *, size_t);
static void auth_kbdint_report(const struct auth *, char *, size_t);
static void auth_password_report(const struct auth *, char *, size_t);

static const struct auth_method auth_methods[] = {
    {"publickey", SSH_AUTH_METHOD_PUBLICKEY, auth_publickey,
     auth_publickey_report},
    {"keyboard-interactive", SSH_AUTH_METHOD_INTERACTIVE, auth_kbdint,
     auth_kbdint_report},
    {"password", SSH_AUTH_METHOD_PASSWORD, auth_password, auth_password_report},
};
#define AUTH_NMETHODS (sizeof(auth_methods) / sizeof(auth_methods[0]))
_Static_assert(AUTH_NMETHODS <= AUTH_MAX_ORDER, "too many methods");

/* Names of ssh_userauth_list bits, for the message. */
static const struct {
	int bit;
	const char *name;
} auth_offer_names[] = {
    {SSH_AUTH_METHOD_PUBLICKEY, "publickey"},
    {SSH_AUTH_METHOD_PASSWORD, "password"},
    {SSH_AUTH_METHOD_INTERACTIVE, "keyboard-interactive"},
    {SSH_AUTH_METHOD_HOSTBASED, "hostbased"},
    {SSH_AUTH_METHOD_GSSAPI_MIC, "gssapi-with-mic"},
};

/* PreferredAuthentications to rows; names not implemented are skipped,
 * as OpenSSH skips them. */
static void
auth_order(struct auth *a, const char *pref)
{
	const char *cp = pref;
	size_t len, i, k;

	while (*cp != '\0') {
		len = strcspn(cp, ",");
		for (i = 0; i < AUTH_NMETHODS; i++) {
			if (strlen(auth_methods[i].name) != len ||
			    strncmp(auth_methods[i].name, cp, len) != 0)
				continue;
			for (k = 0; k < a->norder; k++)
				if (a->order[k] == (int)i)
					break;
			if (k == a->norder && a->norder < AUTH_MAX_ORDER)
				a->order[a->norder++] = (int)i;
		}
		cp += len;
		if (*cp == ',')
			cp++;
	}
}

struct auth *
auth_new(const struct host_params *p, struct cred *cred, struct keystore *keys,
	 ssh_session s, unsigned long long conn_id, struct inbox *reply)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->p = host_params_dup(p);
	/* The job's credential: the same identity as the pool's, but its
	 * agent link is the one that lives now. */
	if (cred != a->p->cred)
		host_params_set_cred(a->p, cred);
	a->keys = keystore_ref(keys);
	a->s = s;
	a->conn_id = conn_id;
	a->cur = -1;
	a->reply = reply;
	a->libssh_fd = -1;
	a->agent =
	    a->p->identity_agent != NULL ? AUTH_AGENT_START : AUTH_AGENT_OFF;
	a->password_tries = a->p->password_prompts;
	if (a->p->cred != NULL) {
		/* A session opened with the client's credential is its
		 * alone: the daemon's credentials never help open it. */
		a->agent = a->p->cred->agent_link != 0 ? AUTH_AGENT_START
						       : AUTH_AGENT_OFF;
		a->password = a->p->cred->password;
		if (a->p->cred->key_bytes != NULL &&
		    (a->client_key = cred_key(a->p->cred)) == NULL)
			snprintf(a->note, sizeof(a->note),
				 "the client's key could not be loaded");
		auth_order(a, a->p->preferred_auth);
		return a;
	}
	if (a->p->password_file != NULL &&
	    (a->password = keystore_password(keys, a->p->password_file)) ==
		NULL)
		snprintf(a->note, sizeof(a->note),
			 "password file %s was not loaded",
			 a->p->password_file);
	auth_order(a, a->p->preferred_auth);
	return a;
}

static void auth_agent_end(struct auth *);

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	auth_agent_end(a);
	ssh_key_free(a->client_key);
	keystore_unref(a->keys);
	host_params_free(a->p);
	free(a);
}

const char *
auth_method_name(const struct auth *a)
{
	return a->cur >= 0 ? auth_methods[a->cur].name : "none";
}

/* A method's answer from libssh's, for the calls that end a method on
 * DENIED. */
static enum auth_mstep
auth_mstep_of(int rc)
{
	switch (rc) {
	case SSH_AUTH_AGAIN:
		return AUTH_M_AGAIN;
	case SSH_AUTH_SUCCESS:
		return AUTH_M_SUCCESS;
	case SSH_AUTH_PARTIAL:
		return AUTH_M_PARTIAL;
	case SSH_AUTH_DENIED:
		return AUTH_M_DONE;
	default:
		return AUTH_M_ERROR;
	}
}

/* ---- publickey from the agent ---- */

/* Why the agent could not be used, when nothing was noted before. */
static void
auth_agent_note(struct auth *a, const char *what)
{
	if (a->note[0] != '\0')
		return;
	if (a->link_owned)
		/* A socket path has at most 107 bytes. */
		snprintf(a->note, sizeof(a->note), "agent %.107s: %.120s",
			 a->p->identity_agent, what);
	else
		snprintf(a->note, sizeof(a->note), "the client's agent: %.120s",
			 what);
}

/* The relay of the key offered now closes (libssh's end then reads EOF;
 * libssh keeps that descriptor until the next relay replaces it). */
static void
auth_agent_unrelay(struct auth *a)
{
	if (a->relay != 0)
		agent_relay_close(a->relay);
	a->relay = 0;
}

/* Done with the agent: the relay closes, and the daemon's agent's link
 * of this login with it; a client's link is its request's. */
static void
auth_agent_end(struct auth *a)
{
	size_t i;

	auth_agent_unrelay(a);
	ssh_key_free(a->probe);
	a->probe = NULL;
	if (a->link_owned && a->link != 0)
		agent_link_close(a->link);
	a->link = 0;
	for (i = 0; i < a->npins; i++)
		free(a->pins[i].blob);
	free(a->pins);
	a->pins = NULL;
	a->npins = 0;
}

/* The daemon's agent, connected for this login alone; 0 (noted) when it
 * cannot be. */
static uint64_t
auth_agent_connect(struct auth *a)
{
	struct sockaddr_un sa;
	uint64_t link;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->p->identity_agent);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		auth_agent_note(a, strerror(errno));
		if (fd != -1)
			close(fd);
		return 0;
	}
	if ((link = agent_link_open(fd)) == 0)
		auth_agent_note(a,
				"no relay free (the daemon's agent broker is "
				"at its limit)");
	return link;
}

/* Ask the agent's link for its keys: 0 when the listing is on its way,
 * -1 (noted) when the agent cannot be used. */
static int
auth_agent_start(struct auth *a)
{
	if (a->p->cred != NULL && a->p->cred->agent_link != 0) {
		a->link = a->p->cred->agent_link;
		a->link_owned = 0;
	} else {
		a->link_owned = 1;
		if ((a->link = auth_agent_connect(a)) == 0)
			return -1;
	}
	if (agent_link_list(a->link, a->reply, a->conn_id) == -1) {
		auth_agent_note(a, "the broker is not running");
		auth_agent_end(a);
		return -1;
	}
	a->agent = AUTH_AGENT_LISTING;
	return 0;
}

/* With IdentitiesOnly, an agent's key is offered only when it is the
 * public half of an IdentityFile the daemon loaded (compared as the
 * base64 text of the blob, the form libssh exports). */
static int
auth_agent_key_allowed(const struct auth *a, const uint8_t *blob, size_t len)
{
	char *mine = NULL, *theirs;
	const char *why;
	ssh_key k;
	size_t i;
	int same = 0;

	if (!a->p->identities_only)
		return 1;
	theirs = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)theirs, blob, (int)len);
	for (i = 0; i < a->p->n_identity_files && !same; i++) {
		k = keystore_find(a->keys, a->p->identity_files[i], &why);
		if (k == NULL ||
		    ssh_pki_export_pubkey_base64(k, &mine) != SSH_OK)
			continue;
		same = strcmp(mine, theirs) == 0;
		ssh_string_free_char(mine);
		mine = NULL;
	}
	free(theirs);
	return same;
}

void
auth_agent_listed(struct auth *a, const struct msg *m)
{
	struct agentmsg_identities ids;
	char err[AGENT_MAX_ERR];
	size_t i;

	if (a->agent != AUTH_AGENT_LISTING)
		return;
	a->agent = AUTH_AGENT_DONE;
	if (agent_list_result(m, &ids, err, sizeof(err)) == -1) {
		auth_agent_note(a, err);
		auth_agent_end(a);
		return;
	}
	a->agent_keys = (int)ids.n;
	a->pins = xcalloc(ids.n > 0 ? ids.n : 1, sizeof(*a->pins));
	for (i = 0; i < ids.n; i++) {
		if (!auth_agent_key_allowed(a, ids.v[i].blob,
					    ids.v[i].blob_len))
			continue;
		a->pins[a->npins].blob = xmalloc(ids.v[i].blob_len);
		memcpy(a->pins[a->npins].blob, ids.v[i].blob,
		       ids.v[i].blob_len);
		a->pins[a->npins++].len = ids.v[i].blob_len;
	}
	agentmsg_identities_free(&ids);
	log_debug("host=%s conn=%llu: %s lists %d keys, %zu to offer",
		  a->p->key, a->conn_id,
		  a->link_owned ? a->p->identity_agent : "the client's agent",
		  a->agent_keys, a->npins);
	if (a->npins == 0) {
		auth_agent_note(a, a->agent_keys == 0
				       ? "no keys"
				       : "none of its keys is an IdentityFile "
					 "(IdentitiesOnly)");
		auth_agent_end(a);
		return;
	}
	a->pin = 0;
	a->agent = AUTH_AGENT_TRYING;
}

/* The key a login took, remembered when it is a client agent's: the
 * worker gives the session to a later request only when that request's
 * agent holds the same key. */
static void
auth_agent_took(struct auth *a, const uint8_t *blob, size_t len)
{
	if (a->link_owned)
		return;
	SHA256(blob, len, a->agent_key);
	a->agent_keyed = 1;
}

int
auth_agent_key(const struct auth *a, unsigned char out[AUTH_KEY_HASH])
{
	if (!a->agent_keyed)
		return 0;
	memcpy(out, a->agent_key, AUTH_KEY_HASH);
	return 1;
}

/* A relay pinned to the next key, given to libssh: 0, or -1 (noted). */
static int
auth_agent_relay(struct auth *a)
{
	int fd;

	a->relay =
	    agent_relay_attach(a->link, AGENT_RELAY_AUTH, a->pins[a->pin].blob,
			       a->pins[a->pin].len, &fd);
	if (a->relay == 0) {
		auth_agent_note(a, "no relay free (the daemon's agent broker "
				   "is at its limit, or the agent is gone)");
		return -1;
	}
	if (ssh_set_agent_socket(a->s, fd) != SSH_OK) {
		close(fd);
		auth_agent_note(a, "libssh did not take the relay");
		return -1;
	}
	/* libssh does not close the descriptor it replaces; the last one
	 * is libssh's, which ssh_free closes. */
	if (a->libssh_fd != -1)
		close(a->libssh_fd);
	a->libssh_fd = fd;
	return 0;
}

/* The public key of an agent's blob, for a query; NULL if libssh cannot
 * read it (the key is then skipped). */
static ssh_key
auth_pin_key(const struct auth_pin *pin)
{
	char name[64], *b64;
	ssh_key key = NULL;
	size_t nlen;

	if (pin->len < 4)
		return NULL;
	nlen = (size_t)pin->blob[0] << 24 | (size_t)pin->blob[1] << 16 |
	       (size_t)pin->blob[2] << 8 | (size_t)pin->blob[3];
	if (nlen == 0 || nlen >= sizeof(name) || nlen > pin->len - 4)
		return NULL;
	memcpy(name, pin->blob + 4, nlen);
	name[nlen] = '\0';
	b64 = xmalloc(4 * ((pin->len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, pin->blob, (int)pin->len);
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(name),
					 &key) != SSH_OK)
		key = NULL;
	free(b64);
	return key;
}

/* Query the server for the next key until one is acceptable (PK_OK):
 * AUTH_M_SUCCESS then, AUTH_M_DONE when none is. */
static enum auth_mstep
auth_agent_probe(struct auth *a)
{
	int rc;

	while (a->pin < a->npins) {
		if (a->probe == NULL &&
		    (a->probe = auth_pin_key(&a->pins[a->pin])) == NULL) {
			a->pin++;
			continue;
		}
		rc = ssh_userauth_try_publickey(a->s, NULL, a->probe);
		if (rc == SSH_AUTH_AGAIN)
			return AUTH_M_AGAIN;
		ssh_key_free(a->probe);
		a->probe = NULL;
		a->agent_tried++;
		if (rc == SSH_AUTH_SUCCESS)
			return AUTH_M_SUCCESS;
		if (rc != SSH_AUTH_DENIED)
			return AUTH_M_ERROR;
		a->pin++;
	}
	return AUTH_M_DONE;
}

/*
 * The agent's keys.  Each is first queried without the agent; the first
 * the server accepts is the one libssh logs in with, through a relay that
 * shows it that key alone, so the key a login took is known.  libssh's
 * agent client lists the agent once per call and 0.10 leaks the listing
 * of every call but the last on a session, so it is called once.
 * AUTH_M_DONE when no key was taken (the identity files come next).
 */
static enum auth_mstep
auth_agent(struct auth *a)
{
	enum auth_mstep r;
	int rc;

	if (a->agent == AUTH_AGENT_START && auth_agent_start(a) == -1)
		a->agent = AUTH_AGENT_DONE;
	if (a->agent == AUTH_AGENT_LISTING)
		return AUTH_M_WAIT;
	if (a->agent != AUTH_AGENT_TRYING)
		return AUTH_M_DONE;
	if (a->relay == 0) {
		if ((r = auth_agent_probe(a)) == AUTH_M_AGAIN)
			return r;
		if (r != AUTH_M_SUCCESS || auth_agent_relay(a) == -1) {
			a->agent = AUTH_AGENT_DONE;
			auth_agent_end(a);
			return r == AUTH_M_ERROR ? r : AUTH_M_DONE;
		}
	}
	rc = ssh_userauth_agent(a->s, NULL);
	if (rc == SSH_AUTH_AGAIN)
		return AUTH_M_AGAIN;
	if (rc == SSH_AUTH_SUCCESS || rc == SSH_AUTH_PARTIAL)
		auth_agent_took(a, a->pins[a->pin].blob, a->pins[a->pin].len);
	a->agent = AUTH_AGENT_DONE;
	auth_agent_end(a);
	if (rc == SSH_AUTH_DENIED)
		auth_agent_note(a, "the server took the key, then refused "
				   "its signature");
	return rc == SSH_AUTH_DENIED ? AUTH_M_DONE : auth_mstep_of(rc);
}

/* ---- publickey ---- */

/* The next key to offer: each identity's certificates first, as OpenSSH
 * offers them, then the identity itself.  NULL when all were offered. */
static ssh_key
auth_next_key(struct auth *a)
{
	const struct host_params *p = a->p;
	const char *path, *why = NULL;
	ssh_key k;

	if (p->cred != NULL) {
		if (a->client_offered || a->client_key == NULL)
			return NULL;
		a->client_offered = 1;
		log_debug("host=%s conn=%llu: offering the client's key (%s)",
			  p->key, a->conn_id, p->cred->id);
		return a->client_key;
	}
	while (a->identity < p->n_identity_files) {
		path = p->identity_files[a->identity];
		if (a->cert < p->n_certificate_files) {
			k = keystore_find_cert(
			    a->keys, p->certificate_files[a->cert++], path);
			if (k != NULL) {
				log_debug("host=%s conn=%llu: offering %s "
					  "with certificate %s",
					  p->key, a->conn_id, path,
					  p->certificate_files[a->cert - 1]);
				return k;
			}
			continue;
		}
		a->identity++;
		a->cert = 0;
		if ((k = keystore_find(a->keys, path, &why)) != NULL) {
			log_debug("host=%s conn=%llu: offering %s", p->key,
				  a->conn_id, path);
			return k;
		}
		if (a->note[0] == '\0')
			snprintf(a->note, sizeof(a->note), "%s", why);
	}
	return NULL;
}

static enum auth_mstep
auth_publickey(struct auth *a)
{
	enum auth_mstep r;
	int rc;

	if (a->agent != AUTH_AGENT_OFF && a->agent != AUTH_AGENT_DONE &&
	    (r = auth_agent(a)) != AUTH_M_DONE)
		return r;
	for (;;) {
		if (a->key == NULL && (a->key = auth_next_key(a)) == NULL)
			return AUTH_M_DONE;
		rc = ssh_userauth_publickey(a->s, NULL, a->key);
		if (rc == SSH_AUTH_AGAIN)
			return AUTH_M_AGAIN;
		a->key = NULL;
		if (rc == SSH_AUTH_ERROR)
			return AUTH_M_ERROR;
		a->keys_tried++;
		if (rc == SSH_AUTH_SUCCESS)
			return AUTH_M_SUCCESS;
		if (rc == SSH_AUTH_PARTIAL)
			return AUTH_M_PARTIAL;
	}
}

static void
auth_publickey_report(const struct auth *a, char *buf, size_t len)
{
	const struct cred *c = a->p->cred;
	int n;

	if (a->agent_tried || (c != NULL && c->agent_link != 0))
		n = snprintf(buf, len, "publickey (%s: %d of %d key%s tried",
			     a->link_owned || c == NULL ? "agent"
							: "the client's agent",
			     a->agent_tried, a->agent_keys,
			     a->agent_keys == 1 ? "" : "s");
	else
		n = snprintf(buf, len, "publickey (");
	if (n < 0 || (size_t)n >= len)
		return;
	if (c != NULL && c->key_bytes != NULL)
		snprintf(buf + n, len - (size_t)n, "%sthe client's key, %s)",
			 a->agent_tried || c->agent_link ? "; " : "", c->id);
	else if (c != NULL && c->agent_link != 0)
		snprintf(buf + n, len - (size_t)n, ")");
	else if (c != NULL)
		snprintf(buf + n, len - (size_t)n,
			 "no key: the client passed none)");
	else
		snprintf(buf + n, len - (size_t)n, "%s%d key%s tried%s)",
			 a->agent_tried ? "; " : "", a->keys_tried,
			 a->keys_tried == 1 ? "" : "s",
			 a->agent_tried ? " from files" : "");
}

/* ---- password ---- */

/* Why there is no password to send. */
static const char *
auth_no_password(const struct auth *a)
{
	return a->p->cred != NULL ? "no password: the client passed none"
				  : "no PasswordFile";
}

static enum auth_mstep
auth_password(struct auth *a)
{
	int rc;

	if (a->password == NULL || a->pw_done ||
	    (!a->pw_sent && a->password_tries <= 0))
		return AUTH_M_DONE;
	if (!a->pw_sent) {
		a->pw_sent = 1;
		a->password_tries--;
	}
	/* The same password again would fail again: one try. */
	rc = ssh_userauth_password(a->s, NULL, a->password);
	if (rc != SSH_AUTH_AGAIN)
		a->pw_done = 1;
	return auth_mstep_of(rc);
}

static void
auth_password_report(const struct auth *a, char *buf, size_t len)
{
	if (a->password == NULL)
		snprintf(buf, len, "password (%s)", auth_no_password(a));
	else if (!a->pw_sent)
		snprintf(buf, len, "password (no tries left)");
	else
		snprintf(buf, len, "password");
}

/* ---- keyboard-interactive ---- */

/*
 * One round of prompts: a single prompt that does not echo is taken for
 * the password prompt and answered with the password while tries are
 * left; a round without prompts is answered empty; anything else is
 * declined.  0 answered, -1 declined.
 */
static int
auth_kbdint_answer(struct auth *a)
{
	char echo = 0;
	int n;

	n = ssh_userauth_kbdint_getnprompts(a->s);
	if (n == 0)
		return 0;
	if (n == 1 && a->password != NULL && a->password_tries > 0 &&
	    ssh_userauth_kbdint_getprompt(a->s, 0, &echo) != NULL && !echo &&
	    ssh_userauth_kbdint_setanswer(a->s, 0, a->password) == 0) {
		a->password_tries--;
		a->kbd_sent++;
		return 0;
	}
	a->kbd_declined += n > 0 ? n : 1;
	return -1;
}

static enum auth_mstep
auth_kbdint(struct auth *a)
{
	int rc;

	if (a->password == NULL)
		return AUTH_M_DONE;
	for (;;) {
		rc = ssh_userauth_kbdint(a->s, NULL, NULL);
		if (rc != SSH_AUTH_INFO)
			return auth_mstep_of(rc);
		if (++a->kbd_rounds > AUTH_MAX_KBDINT_ROUNDS ||
		    auth_kbdint_answer(a) == -1)
			return AUTH_M_DONE;
	}
}

static void
auth_kbdint_report(const struct auth *a, char *buf, size_t len)
{
	if (a->password == NULL)
		snprintf(buf, len, "keyboard-interactive (%s)",
			 auth_no_password(a));
	else if (a->kbd_declined > 0)
		snprintf(buf, len,
			 "keyboard-interactive (%d prompt%s declined)",
			 a->kbd_declined, a->kbd_declined == 1 ? "" : "s");
	else
		snprintf(buf, len, "keyboard-interactive");
}

/* ---- the walk ---- */

/* The next row to start: preferred, offered, not tried since the last
 * partial success; -1 when none is left. */
static int
auth_pick(struct auth *a)
{
	int row;

	while (a->next < a->norder) {
		row = a->order[a->next++];
		if ((a->offered & auth_methods[row].bit) == 0 ||
		    (a->tried & (1u << row)) != 0)
			continue;
		a->tried |= 1u << row;
		a->started |= 1u << row;
		return row;
	}
	return -1;
}

static void
auth_offered(struct auth *a)
{
	a->offered = ssh_userauth_list(a->s, NULL);
}

/* A method ended with a partial success: the server lists what it wants
 * now, and the walk starts over among those. */
static void
auth_partial(struct auth *a)
{
	log_verbose("host=%s conn=%llu: %s accepted, more authentication "
		    "required",
		    a->p->key, a->conn_id, auth_methods[a->cur].name);
	a->partial |= 1u << a->cur;
	a->npartial++;
	a->cur = -1;
	a->next = 0;
	/* Any method may come again (publickey,publickey): each goes on
	 * from where it stopped, keys already offered are not again. */
	a->tried = 0;
	auth_offered(a);
}

enum auth_result
auth_step(struct auth *a)
{
	enum auth_mstep r;
	int rc;

	if (!a->asked_none) {
		rc = ssh_userauth_none(a->s, NULL);
		if (rc == SSH_AUTH_AGAIN)
			return AUTH_AGAIN;
		if (rc == SSH_AUTH_SUCCESS)
			return AUTH_SUCCESS;
		if (rc == SSH_AUTH_ERROR)
			return AUTH_ERROR;
		a->asked_none = 1;
		auth_offered(a);
	}
	for (;;) {
		if (a->cur == -1) {
			if ((a->cur = auth_pick(a)) == -1)
				return AUTH_DENIED;
			log_debug("host=%s conn=%llu: trying %s", a->p->key,
				  a->conn_id, auth_methods[a->cur].name);
		}
		r = auth_methods[a->cur].step(a);
		switch (r) {
		case AUTH_M_AGAIN:
			return AUTH_AGAIN;
		case AUTH_M_WAIT:
			return AUTH_WAIT;
		case AUTH_M_SUCCESS:
			return AUTH_SUCCESS;
		case AUTH_M_ERROR:
			return AUTH_ERROR;
		case AUTH_M_PARTIAL:
			auth_partial(a);
			if (a->npartial > AUTH_MAX_PARTIAL)
				return AUTH_DENIED;
			break;
		case AUTH_M_DONE:
			a->cur = -1;
			auth_offered(a);
			break;
		}
	}
}

static void
auth_append(char *buf, size_t len, const char *sep, const char *s)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, "%s%s", used > 0 ? sep : "",
			 s);
}

void
auth_message(const struct auth *a, char *buf, size_t len)
{
	char tried[512] = "", offers[128] = "", one[128];
	size_t i;
	int row;

	for (i = 0; i < a->norder; i++) {
		row = a->order[i];
		if ((a->started & (1u << row)) == 0)
			continue;
		auth_methods[row].report(a, one, sizeof(one));
		if ((a->partial & (1u << row)) != 0)
			auth_append(one, sizeof(one), " ", "accepted");
		auth_append(tried, sizeof(tried), ", ", one);
	}
	for (i = 0; i < sizeof(auth_offer_names) / sizeof(auth_offer_names[0]);
	     i++)
		if ((a->offered & auth_offer_names[i].bit) != 0)
			auth_append(offers, sizeof(offers), ",",
				    auth_offer_names[i].name);
	snprintf(buf, len, "%s@%s: %s: denied; server offers %s%s%s",
		 a->p->user, a->p->host,
		 tried[0] != '\0' ? tried
				  : "no preferred method the server offers",
		 offers[0] != '\0' ? offers : "nothing", a->note[0] ? "; " : "",
		 a->note);
}
