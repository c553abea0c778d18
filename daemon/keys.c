/* SPDX-License-Identifier: ISC */
/*
 * The identity keys: every IdentityFile named by the configuration is read
 * once, on the control thread at start-up, with the passphrase of its scope.
 * Each worker gets its own deep copy (ssh_key_dup) before it starts, so no
 * key object is ever used by two threads.  A key that failed to load keeps
 * its error text, reported when a host needs it.  OpenSSH user
 * certificates (CertificateFile) are attached here to a copy of every
 * identity they certify, and passwords (PasswordFile) are read here too,
 * into memory left out of core dumps and wiped before it is freed.  A
 * password file that cannot be used fails the whole load: the
 * configuration named it, and the daemon would otherwise try the hosts
 * without it.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "log.h"
#include "keys.h"
#include "msg.h"
#include "xmalloc.h"
#include "../proto/proto.h"

#define KEYS_MAX_PASSPHRASE 1024

struct keystore_entry {
	char *path;
	ssh_key key; /* NULL if it could not be loaded */
	char *why;   /* load error, NULL if loaded */
};

/* An identity with a certificate attached: offered as one key. */
struct keystore_cert {
	char *cert_path;
	char *identity_path;
	char *b64;   /* the certificate, to attach again in each copy */
	int type;    /* its enum ssh_keytypes_e */
	ssh_key key; /* a copy of the identity, the certificate attached */
};

struct keystore_password {
	char *path;
	char *secret; /* a secret page: keys_secret_alloc */
};

struct keystore {
	struct keystore_entry *entries;
	size_t n;
	struct keystore_cert *certs;
	size_t ncerts;
	struct keystore_password *passwords;
	size_t npasswords;
	int refs; /* a worker's copy: the worker and conns authenticating */
};

static void
keys_warn(struct config_errors *warnings, const char *line)
{
	if (warnings == NULL)
		return;
	warnings->lines =
	    xreallocarray(warnings->lines, warnings->n + 1, sizeof(char *));
	warnings->lines[warnings->n++] = xstrdup(line);
}

/*
 * Memory for a password: whole pages, left out of core dumps, wiped by
 * keys_secret_free.  KEYS_SECRET_SIZE holds KEYS_MAX_PASSWORD bytes and
 * the terminating NUL.
 */
#define KEYS_SECRET_SIZE 4096
_Static_assert(KEYS_MAX_PASSWORD < KEYS_SECRET_SIZE, "password page");

static char *
keys_secret_alloc(void)
{
	void *p;

	p = mmap(NULL, KEYS_SECRET_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("%s: mmap", __func__);
	if (madvise(p, KEYS_SECRET_SIZE, MADV_DONTDUMP) == -1)
		log_warn("madvise(MADV_DONTDUMP) of a password");
	memset(p, 0, KEYS_SECRET_SIZE);
	return p;
}

static void
keys_secret_free(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, KEYS_SECRET_SIZE);
	munmap(p, KEYS_SECRET_SIZE);
}

/*
 * A secret readable by anyone but its owner is refused, as OpenSSH refuses
 * an unprotected private key: the daemon would otherwise lend it to every
 * user of the machine.  Checked on the open file, so it is the file read.
 */
static int
keys_private(int fd, const char *what, const char *path, char **why)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		xasprintf(why, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(why, "%s %s: not a regular file", what, path);
		return -1;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		xasprintf(why,
			  "%s %s: permissions %04o are too open: it must "
			  "not be accessible by others (chmod 600)",
			  what, path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static int
keys_read_passphrase(const char *path, char *buf, size_t len, char **why)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(why, "passphrase file %s: %s", path, strerror(errno));
		return -1;
	}
	if (keys_private(fileno(f), "passphrase file", path, why) == -1) {
		fclose(f);
		return -1;
	}
	if (fgets(buf, len, f) == NULL) {
		fclose(f);
		xasprintf(why, "passphrase file %s is empty", path);
		return -1;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

static void
keys_add(struct keystore *ks, const char *path, const char *passfile,
	 int is_default, struct config_errors *warnings)
{
	struct keystore_entry *e;
	char pass[KEYS_MAX_PASSPHRASE];
	struct stat st;
	size_t i;
	int fd, rc;

	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->entries[i].path, path) == 0)
			return;
	ks->entries = xreallocarray(ks->entries, ks->n + 1, sizeof(*e));
	e = &ks->entries[ks->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);

	if (stat(path, &st) == -1) {
		xasprintf(&e->why, "identity %s: %s", path, strerror(errno));
		/* Absent default identities are normal; named ones are not. */
		if (!is_default)
			keys_warn(warnings, e->why);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(&e->why, "identity %s: %s", path, strerror(errno));
		goto warn;
	}
	rc = keys_private(fd, "identity", path, &e->why);
	close(fd);
	if (rc == -1)
		goto warn;
	pass[0] = '\0';
	if (passfile != NULL &&
	    keys_read_passphrase(passfile, pass, sizeof(pass), &e->why) == -1)
		goto warn;
	rc = ssh_pki_import_privkey_file(path, pass[0] != '\0' ? pass : NULL,
					 NULL, NULL, &e->key);
	explicit_bzero(pass, sizeof(pass));
	if (rc != SSH_OK) {
		e->key = NULL;
		xasprintf(&e->why, "identity %s: cannot load the private key%s",
			  path,
			  passfile == NULL ? " (encrypted? set "
					     "IdentityPassphraseFile)"
					   : " (wrong passphrase?)");
		goto warn;
	}
	log_verbose("identity %s loaded (%s)", path,
		    ssh_key_type_to_char(ssh_key_type(e->key)));
	return;
warn:
	keys_warn(warnings, e->why);
}

/*
 * PasswordFile: the password on its first line, one trailing newline
 * stripped, at most KEYS_MAX_PASSWORD bytes.  Checked like an identity
 * (no access for others), read once with read(2) into a secret page, so
 * no stdio buffer keeps a copy.
 */
static int
keys_read_password(const char *path, char **out, char **why)
{
	char *buf;
	ssize_t r = 0;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(why, "password file %s: %s", path, strerror(errno));
		return -1;
	}
	if (keys_private(fd, "password file", path, why) == -1) {
		close(fd);
		return -1;
	}
	buf = keys_secret_alloc();
	while (len <= KEYS_MAX_PASSWORD + 2) {
		r = read(fd, buf + len, KEYS_SECRET_SIZE - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (r == -1) {
		xasprintf(why, "password file %s: %s", path, strerror(errno));
		goto fail;
	}
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0 || len > KEYS_MAX_PASSWORD || strlen(buf) != len ||
	    strchr(buf, '\n') != NULL) {
		xasprintf(why,
			  "password file %s: must hold one line of 1 to %d "
			  "bytes",
			  path, KEYS_MAX_PASSWORD);
		goto fail;
	}
	*out = buf;
	return 0;
fail:
	keys_secret_free(buf);
	return -1;
}

static int
keys_add_password(struct keystore *ks, const char *path,
		  struct config_errors *warnings)
{
	struct keystore_password *pw;
	char *secret, *why = NULL;
	size_t i;

	for (i = 0; i < ks->npasswords; i++)
		if (strcmp(ks->passwords[i].path, path) == 0)
			return 0;
	if (keys_read_password(path, &secret, &why) == -1) {
		keys_warn(warnings, why);
		free(why);
		return -1;
	}
	ks->passwords =
	    xreallocarray(ks->passwords, ks->npasswords + 1, sizeof(*pw));
	pw = &ks->passwords[ks->npasswords++];
	pw->path = xstrdup(path);
	pw->secret = secret;
	log_verbose("password file %s read", path);
	return 0;
}

/* A base64 key blob, decoded; NULL if it is not base64. */
static unsigned char *
keys_blob(const char *b64, size_t *len)
{
	unsigned char *buf = xmalloc(proto_b64_maxdecoded(strlen(b64)) + 1);
	long n = proto_b64_decode(buf, b64, strlen(b64));

	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* Skip one SSH string (uint32 length, bytes) at *off; -1 if it overruns. */
static int
keys_skip_string(const unsigned char *b, size_t len, size_t *off)
{
	size_t n;

	if (len - *off < 4)
		return -1;
	n = (size_t)b[*off] << 24 | (size_t)b[*off + 1] << 16 |
	    (size_t)b[*off + 2] << 8 | b[*off + 3];
	if (len - *off - 4 < n)
		return -1;
	*off += 4 + n;
	return 0;
}

/*
 * Does the certificate (base64 blob) certify identity?  libssh 0.10's
 * ssh_pki_copy_cert_to_privkey does not check, and ssh_key_cmp refuses a
 * certificate and a plain key outright.  A plain key's blob is its type
 * name and its public fields; a certificate's (PROTOCOL.certkeys) is its
 * type name, a nonce and the same public fields, then the rest.
 */
static int
keys_cert_matches(ssh_key identity, const char *cert_b64)
{
	unsigned char *kb = NULL, *cb = NULL;
	size_t klen = 0, clen = 0, koff = 0, coff = 0;
	char *key_b64 = NULL;
	int ok = 0;

	if (ssh_pki_export_pubkey_base64(identity, &key_b64) != SSH_OK)
		return 0;
	kb = keys_blob(key_b64, &klen);
	cb = keys_blob(cert_b64, &clen);
	if (kb != NULL && cb != NULL &&
	    keys_skip_string(kb, klen, &koff) == 0 &&
	    keys_skip_string(cb, clen, &coff) == 0 &&
	    keys_skip_string(cb, clen, &coff) == 0 &&
	    clen - coff >= klen - koff &&
	    memcmp(kb + koff, cb + coff, klen - koff) == 0)
		ok = 1;
	ssh_string_free_char(key_b64);
	free(kb);
	free(cb);
	return ok;
}

/* The identity with the certificate attached, or NULL if it is not the
 * key the certificate certifies. */
static ssh_key
keys_certify(ssh_key identity, const char *b64, int type)
{
	ssh_key cert = NULL, key;

	if (!keys_cert_matches(identity, b64))
		return NULL;

	if (ssh_pki_import_cert_base64(b64, type, &cert) != SSH_OK)
		return NULL;
	if ((key = ssh_key_dup(identity)) == NULL)
		fatalx("%s: ssh_key_dup failed", __func__);
	if (ssh_pki_copy_cert_to_privkey(cert, key) != SSH_OK) {
		ssh_key_free(key);
		key = NULL;
	}
	ssh_key_free(cert);
	return key;
}

/* CertificateFile: attach the certificate to every identity it certifies;
 * identities of every scope are loaded by then. */
static void
keys_add_cert(struct keystore *ks, const char *path,
	      struct config_errors *warnings)
{
	struct keystore_cert *kc;
	ssh_key cert = NULL, key;
	char *b64 = NULL, *why;
	size_t i, matched = 0;
	int type;

	for (i = 0; i < ks->ncerts; i++)
		if (strcmp(ks->certs[i].cert_path, path) == 0)
			return;
	if (ssh_pki_import_cert_file(path, &cert) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(cert, &b64) != SSH_OK) {
		xasprintf(&why, "certificate %s: cannot load it", path);
		keys_warn(warnings, why);
		free(why);
		ssh_key_free(cert);
		return;
	}
	type = ssh_key_type(cert);
	ssh_key_free(cert);
	for (i = 0; i < ks->n; i++) {
		if (ks->entries[i].key == NULL ||
		    (key = keys_certify(ks->entries[i].key, b64, type)) == NULL)
			continue;
		ks->certs =
		    xreallocarray(ks->certs, ks->ncerts + 1, sizeof(*kc));
		kc = &ks->certs[ks->ncerts++];
		kc->cert_path = xstrdup(path);
		kc->identity_path = xstrdup(ks->entries[i].path);
		kc->b64 = xstrdup(b64);
		kc->type = type;
		kc->key = key;
		matched++;
		log_verbose("certificate %s attached to identity %s", path,
			    kc->identity_path);
	}
	if (matched == 0) {
		xasprintf(&why,
			  "certificate %s certifies none of the identities",
			  path);
		keys_warn(warnings, why);
		free(why);
	}
	ssh_string_free_char(b64);
}

static void
keys_add_scope(struct keystore *ks, const struct config_host_opts *o,
	       const char *fallback_passfile, int is_default,
	       struct config_errors *warnings)
{
	const char *passfile;
	size_t i;

	passfile = o->identity_passphrase_file != NULL
		       ? o->identity_passphrase_file
		       : fallback_passfile;
	for (i = 0; i < o->n_identity_files; i++)
		keys_add(ks, o->identity_files[i], passfile, is_default,
			 warnings);
}

/* A scope's certificates and password, once its identities are in. */
static int
keys_add_creds(struct keystore *ks, const struct config_host_opts *o,
	       struct config_errors *warnings)
{
	size_t i;

	for (i = 0; i < o->n_certificate_files; i++)
		keys_add_cert(ks, o->certificate_files[i], warnings);
	if (o->password_file != NULL &&
	    keys_add_password(ks, o->password_file, warnings) == -1)
		return -1;
	return 0;
}

struct keystore *
keystore_load(const struct config *cfg, struct config_errors *warnings)
{
	struct keystore *ks = xcalloc(1, sizeof(*ks));
	size_t i;

	/* Identities of the built-in defaults are optional: the file did
	 * not name them. */
	keys_add_scope(ks, &cfg->global, NULL, cfg->path == NULL, warnings);
	for (i = 0; i < cfg->n_blocks; i++)
		keys_add_scope(ks, &cfg->blocks[i].opts,
			       cfg->global.identity_passphrase_file, 0,
			       warnings);
	if (keys_add_creds(ks, &cfg->global, warnings) == -1)
		goto fail;
	for (i = 0; i < cfg->n_blocks; i++)
		if (keys_add_creds(ks, &cfg->blocks[i].opts, warnings) == -1)
			goto fail;
	return ks;
fail:
	keystore_free(ks);
	return NULL;
}

static void
keys_dup_creds(struct keystore *ks, const struct keystore *src)
{
	const struct keystore_cert *from;
	struct keystore_cert *kc;
	const char *why;
	ssh_key plain;
	size_t i;

	if (src->ncerts > 0)
		ks->certs = xcalloc(src->ncerts, sizeof(*ks->certs));
	for (i = 0; i < src->ncerts; i++) {
		from = &src->certs[i];
		kc = &ks->certs[ks->ncerts++];
		kc->cert_path = xstrdup(from->cert_path);
		kc->identity_path = xstrdup(from->identity_path);
		kc->b64 = xstrdup(from->b64);
		kc->type = from->type;
		/* The certificate again, on a fresh copy of the plain
		 * identity: nothing of the source is shared. */
		plain = keystore_find(src, from->identity_path, &why);
		if (plain == NULL ||
		    (kc->key = keys_certify(plain, from->b64, from->type)) ==
			NULL)
			fatalx("%s: certificate copy failed", __func__);
	}
	if (src->npasswords > 0)
		ks->passwords =
		    xcalloc(src->npasswords, sizeof(*ks->passwords));
	for (i = 0; i < src->npasswords; i++) {
		ks->passwords[i].path = xstrdup(src->passwords[i].path);
		ks->passwords[i].secret = keys_secret_alloc();
		memcpy(ks->passwords[i].secret, src->passwords[i].secret,
		       KEYS_SECRET_SIZE);
	}
	ks->npasswords = src->npasswords;
}

struct keystore *
keystore_dup(const struct keystore *src)
{
	struct keystore *ks = xcalloc(1, sizeof(*ks));
	struct keystore_entry *e;
	size_t i;

	ks->refs = 1;
	keys_dup_creds(ks, src);
	if (src->n == 0)
		return ks;
	ks->entries = xcalloc(src->n, sizeof(*ks->entries));
	ks->n = src->n;
	for (i = 0; i < src->n; i++) {
		e = &ks->entries[i];
		e->path = xstrdup(src->entries[i].path);
		if (src->entries[i].why != NULL)
			e->why = xstrdup(src->entries[i].why);
		if (src->entries[i].key != NULL &&
		    (e->key = ssh_key_dup(src->entries[i].key)) == NULL)
			fatalx("%s: ssh_key_dup failed", __func__);
	}
	return ks;
}

void
keystore_free(struct keystore *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++) {
		ssh_key_free(ks->entries[i].key);
		free(ks->entries[i].path);
		free(ks->entries[i].why);
	}
	free(ks->entries);
	for (i = 0; i < ks->ncerts; i++) {
		ssh_key_free(ks->certs[i].key);
		free(ks->certs[i].cert_path);
		free(ks->certs[i].identity_path);
		free(ks->certs[i].b64);
	}
	free(ks->certs);
	for (i = 0; i < ks->npasswords; i++) {
		keys_secret_free(ks->passwords[i].secret);
		free(ks->passwords[i].path);
	}
	free(ks->passwords);
	free(ks);
}

/* References to a worker's copy; not atomic: one thread owns it. */
struct keystore *
keystore_ref(struct keystore *ks)
{
	ks->refs++;
	return ks;
}

void
keystore_unref(struct keystore *ks)
{
	if (ks != NULL && --ks->refs <= 0)
		keystore_free(ks);
}

struct ssh_key_struct *
keystore_find(const struct keystore *ks, const char *path, const char **why)
{
	size_t i;

	for (i = 0; i < ks->n; i++) {
		if (strcmp(ks->entries[i].path, path) != 0)
			continue;
		*why = ks->entries[i].why;
		return ks->entries[i].key;
	}
	*why = "identity not loaded at start-up (restart to load new keys)";
	return NULL;
}

struct ssh_key_struct *
keystore_find_cert(const struct keystore *ks, const char *cert_path,
		   const char *identity_path)
{
	size_t i;

	for (i = 0; i < ks->ncerts; i++) {
		if (strcmp(ks->certs[i].cert_path, cert_path) == 0 &&
		    strcmp(ks->certs[i].identity_path, identity_path) == 0)
			return ks->certs[i].key;
	}
	return NULL;
}

const char *
keystore_password(const struct keystore *ks, const char *path)
{
	size_t i;

	for (i = 0; i < ks->npasswords; i++) {
		if (strcmp(ks->passwords[i].path, path) == 0)
			return ks->passwords[i].secret;
	}
	return NULL;
}
