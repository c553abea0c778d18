/* SPDX-License-Identifier: ISC */
/*
 * The identity keys: every IdentityFile named by the configuration is read
 * once, on the control thread at start-up, with the passphrase of its scope.
 * Each worker gets its own deep copy (ssh_key_dup) before it starts, so no
 * key object is ever used by two threads.  A key that failed to load keeps
 * its error text, reported when a host needs it.
 */
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

#define KEYS_MAX_PASSPHRASE 1024

struct keystore_entry {
	char *path;
	ssh_key key; /* NULL if it could not be loaded */
	char *why;   /* load error, NULL if loaded */
};

struct keystore {
	struct keystore_entry *entries;
	size_t n;
	int refs; /* a worker's copy: the worker and conns authenticating */
};

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
		if (!is_default && warnings != NULL) {
			warnings->lines = xreallocarray(
			    warnings->lines, warnings->n + 1, sizeof(char *));
			warnings->lines[warnings->n++] = xstrdup(e->why);
		}
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
	if (warnings != NULL) {
		warnings->lines = xreallocarray(
		    warnings->lines, warnings->n + 1, sizeof(char *));
		warnings->lines[warnings->n++] = xstrdup(e->why);
	}
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
	return ks;
}

struct keystore *
keystore_dup(const struct keystore *src)
{
	struct keystore *ks = xcalloc(1, sizeof(*ks));
	struct keystore_entry *e;
	size_t i;

	ks->refs = 1;
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
