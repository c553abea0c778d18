/* SPDX-License-Identifier: ISC */
/*
 * A client's own credential (struct cred, msg.h): made by the control
 * thread from what a request passed, immutable after, shared by reference
 * between the request's jobs and the pools they open.  The secret (a
 * private key's file) is kept in whole pages left out of core dumps and
 * wiped when the last reference goes; the identity names it without the
 * secret and keys the pool, so a session opened with one user's
 * credential serves no other user and no other credential.
 */
#include <sys/mman.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "log.h"
#include "msg.h"
#include "xmalloc.h"

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
		*why = "not an unencrypted private key (an encrypted key can "
		       "be passed through an agent)";
		return NULL;
	}
	return key;
}

struct cred *
cred_new_key(unsigned uid, const void *bytes, size_t len, char *why,
	     size_t whylen)
{
	struct cred *c;
	const char *problem = NULL;
	unsigned char *hash = NULL;
	char *fp = NULL;
	size_t hlen = 0;
	ssh_key key, pub = NULL;

	if (len == 0 || len > CRED_MAX_KEY_BYTES) {
		snprintf(why, whylen, "a key of %zu bytes (1 to %d)", len,
			 CRED_MAX_KEY_BYTES);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->secret_size = cred_pages(len);
	if (posix_memalign((void **)&c->key_bytes, 4096, c->secret_size) != 0)
		fatalx("%s: out of memory", __func__);
	if (madvise(c->key_bytes, c->secret_size, MADV_DONTDUMP) == -1)
		log_warn("madvise(MADV_DONTDUMP) of a client's key");
	memset(c->key_bytes, 0, c->secret_size);
	memcpy(c->key_bytes, bytes, len);
	c->key_len = len;
	if ((key = cred_import(c->key_bytes, &problem)) == NULL ||
	    ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK ||
	    ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash,
				   &hlen) != 0 ||
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
					   hlen)) == NULL) {
		snprintf(why, whylen, "%s",
			 problem != NULL ? problem : "cannot read its key");
		ssh_key_free(key);
		ssh_key_free(pub);
		ssh_clean_pubkey_hash(&hash);
		atomic_init(&c->refs, 1);
		cred_unref(c);
		return NULL;
	}
	c->kind = CRED_KEY;
	c->uid = uid;
	snprintf(c->id, sizeof(c->id), "uid %u key %s", uid, fp);
	ssh_key_free(key);
	ssh_key_free(pub);
	ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(fp);
	atomic_init(&c->refs, 1);
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
	if (c->key_bytes != NULL) {
		explicit_bzero(c->key_bytes, c->secret_size);
		free(c->key_bytes);
	}
	free(c);
}

ssh_key
cred_key(const struct cred *c)
{
	const char *why;

	if (c == NULL || c->kind != CRED_KEY)
		return NULL;
	return cred_import(c->key_bytes, &why);
}

const char *
cred_kind_name(const struct cred *c)
{
	return c == NULL ? "daemon" : "client key";
}
