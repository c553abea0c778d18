/* SPDX-License-Identifier: ISC */
/*
 * A client's own credential (struct cred, msg.h): made by the control
 * thread from what a request passed, immutable after, shared by reference
 * between the request's jobs and the pools they open.  The secrets (a
 * private key's file, a password) are kept in whole pages left out of core
 * dumps and wiped when the last reference goes; the identity names them
 * without the secrets (the key's fingerprint, a keyed hash of the password
 * under a key drawn at start) and keys the pool, so a session opened with
 * one user's credential serves no other user and no other credential.
 */
#include <sys/mman.h>
#include <sys/random.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "log.h"
#include "msg.h"
#include "xmalloc.h"

/* The key of the password tags, drawn at start (cred_init). */
static unsigned char cred_hmac_key[32];

static size_t
cred_pages(size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t p = page > 0 ? (size_t)page : 4096;

	return (len + p) / p * p; /* room for a NUL */
}

/* Import the key in bytes: NULL and why when it cannot be used. */
static ssh_key
cred_import(const char *bytes, const char **why)
{
	ssh_key key = NULL;

	if (ssh_pki_import_privkey_base64(bytes, NULL, NULL, NULL, &key) !=
	    SSH_OK) {
		*why = "not an unencrypted private key (an encrypted one "
		       "is not taken by descriptor)";
		return NULL;
	}
	return key;
}

/* A copy of len bytes of secret in pages of its own, left out of core
 * dumps, NUL-terminated. */
static char *
cred_secret(const void *bytes, size_t len, size_t *size)
{
	char *p;

	*size = cred_pages(len);
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("%s: mmap", __func__);
	if (madvise(p, *size, MADV_DONTDUMP) == -1)
		log_warn("madvise(MADV_DONTDUMP) of a client's credential");
	memcpy(p, bytes, len);
	return p;
}

static void
cred_secret_free(char *p, size_t size)
{
	if (p == NULL)
		return;
	explicit_bzero(p, size);
	munmap(p, size);
}

/* The key's SHA256 fingerprint in fp, or -1 and why. */
static int
cred_key_fingerprint(const char *bytes, char *fp, size_t fplen,
		     const char **why)
{
	unsigned char *hash = NULL;
	char *text = NULL;
	size_t hlen = 0;
	ssh_key key, pub = NULL;
	int rc = -1;

	*why = "cannot read its key";
	if ((key = cred_import(bytes, why)) != NULL &&
	    ssh_pki_export_privkey_to_pubkey(key, &pub) == SSH_OK &&
	    ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash,
				   &hlen) == 0 &&
	    (text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
					     hlen)) != NULL) {
		snprintf(fp, fplen, "%s", text);
		rc = 0;
	}
	ssh_key_free(key);
	ssh_key_free(pub);
	ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(text);
	return rc;
}

/* A keyed hash of the password under the daemon's secret: it tells two
 * passwords apart without keeping or showing either. */
static void
cred_password_tag(const char *password, char *tag, size_t taglen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (HMAC(EVP_sha256(), cred_hmac_key, sizeof(cred_hmac_key),
		 (const unsigned char *)password, strlen(password), md,
		 &mdlen) == NULL)
		fatalx("%s: HMAC failed", __func__);
	for (i = 0; i < 8 && i < mdlen && 2 * i + 2 < taglen; i++)
		snprintf(tag + 2 * i, 3, "%02x", md[i]);
	explicit_bzero(md, sizeof(md));
}

void
cred_init(void)
{
	if (getrandom(cred_hmac_key, sizeof(cred_hmac_key), 0) !=
	    (ssize_t)sizeof(cred_hmac_key))
		fatal("getrandom");
}

struct cred *
cred_new(unsigned uid, const void *key, size_t key_len, const char *password,
	 uint64_t agent_link, char *why, size_t whylen)
{
	struct cred *c;
	const char *problem = NULL;
	char fp[96] = "", tag[20] = "";

	if (key != NULL && (key_len == 0 || key_len > CRED_MAX_KEY_BYTES)) {
		snprintf(why, whylen, "a key of %zu bytes (1 to %d)", key_len,
			 CRED_MAX_KEY_BYTES);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	atomic_init(&c->refs, 1);
	c->uid = uid;
	if (key != NULL) {
		c->key_bytes = cred_secret(key, key_len, &c->key_size);
		c->key_len = key_len;
		if (cred_key_fingerprint(c->key_bytes, fp, sizeof(fp),
					 &problem) == -1) {
			snprintf(why, whylen, "%s", problem);
			cred_unref(c);
			return NULL;
		}
	}
	if (password != NULL) {
		c->password =
		    cred_secret(password, strlen(password), &c->password_size);
		cred_password_tag(password, tag, sizeof(tag));
	}
	c->agent_link = agent_link;
	/* An agent's sessions share one pool per user: which of them a
	 * request may use depends on the keys its agent holds (the worker
	 * matches them), not on the agent connection it came with. */
	snprintf(c->id, sizeof(c->id), "uid %u%s%s%s%s%s", uid,
		 fp[0] ? " key " : "", fp, agent_link != 0 ? " agent" : "",
		 tag[0] ? " password " : "", tag);
	return c;
}

struct cred *
cred_ref(struct cred *c)
{
	if (c != NULL)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

void
cred_unref(struct cred *c)
{
	if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	cred_secret_free(c->key_bytes, c->key_size);
	cred_secret_free(c->password, c->password_size);
	free(c);
}

ssh_key
cred_key(const struct cred *c)
{
	const char *why;

	if (c == NULL || c->key_bytes == NULL)
		return NULL;
	return cred_import(c->key_bytes, &why);
}

const char *
cred_kind_name(const struct cred *c)
{
	/* Indexed by key | agent << 1 | password << 2. */
	static const char *const names[] = {
	    "client",
	    "client key",
	    "client agent",
	    "client key and agent",
	    "client password",
	    "client key and password",
	    "client agent and password",
	    "client key, agent and password",
	};

	if (c == NULL)
		return "daemon";
	return names[(c->key_bytes != NULL) | (c->agent_link != 0) << 1 |
		     (c->password != NULL) << 2];
}
