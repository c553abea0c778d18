/* SPDX-License-Identifier: ISC */
/*
 * Identity keys (keys.c): loaded once on the control thread, each worker
 * gets its own deep copy, reference counted so a connection authenticating
 * across a reload keeps the copy it started with.
 */
#ifndef SSHPOOL_KEYS_H
#define SSHPOOL_KEYS_H

/* Bytes of a PasswordFile's password. */
#define KEYS_MAX_PASSWORD 1024

struct config;
struct config_errors;
struct keystore;
struct ssh_key_struct;

struct keystore *keystore_load(const struct config *,
			       struct config_errors *warnings);
struct keystore *keystore_dup(const struct keystore *); /* one reference */
void keystore_free(struct keystore *);
struct keystore *keystore_ref(struct keystore *);
void keystore_unref(struct keystore *);
/* The key loaded from path, or NULL with the load error in *why. */
struct ssh_key_struct *keystore_find(const struct keystore *, const char *path,
				     const char **why);

/* The identity at identity_path with the certificate of cert_path
 * attached, or NULL when that certificate does not certify it. */
struct ssh_key_struct *keystore_find_cert(const struct keystore *,
					  const char *cert_path,
					  const char *identity_path);
/* The password PasswordFile path held, or NULL (not read at start-up). */
const char *keystore_password(const struct keystore *, const char *path);

#endif
