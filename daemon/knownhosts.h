/* SPDX-License-Identifier: ISC */
/*
 * known_hosts verification and learning, independent of libssh sessions so
 * it can run on the blocking-work threads (offload.c) instead of a worker
 * loop.  Understands the OpenSSH format: comma-separated host patterns with
 * "*", "?" and "!" negation, "[host]:port" for non-22 ports, hashed names
 * ("|1|salt|hash", HMAC-SHA1), "@revoked" and "@cert-authority" markers
 * (certificate authorities are not trusted for plain keys), comments.
 *
 * All functions are thread-safe.  Keys are compared as (type name, base64
 * blob) as printed by ssh_pki_export_pubkey_base64().
 */
#ifndef SSHPOOL_KNOWNHOSTS_H
#define SSHPOOL_KNOWNHOSTS_H

#include <stddef.h>

enum knownhosts_result {
	KNOWNHOSTS_OK,         /* an entry for this host has exactly this key */
	KNOWNHOSTS_UNKNOWN,    /* no entry for this host (or no file) */
	KNOWNHOSTS_MISMATCH,   /* entries exist, with other keys of this type */
	KNOWNHOSTS_OTHER_TYPE, /* entries exist, only of other key types */
	KNOWNHOSTS_REVOKED,    /* the key is marked @revoked */
	KNOWNHOSTS_ERROR       /* the file could not be read */
};

#define KNOWNHOSTS_MAX_ERR 256
#define KNOWNHOSTS_MAX_LINE 16384 /* longer lines are skipped */
#define KNOWNHOSTS_MAX_ALGS 256   /* room for every algorithm list */

/*
 * Look host (as in "[host]:port" when port != 22) up in path.  On MISMATCH,
 * known_fp receives the SHA256 fingerprint ("SHA256:...", OpenSSH style, no
 * padding) of the first recorded key of that type; known_fp_len >= 64.
 */
enum knownhosts_result knownhosts_check(const char *path, const char *host,
					int port, const char *keytype,
					const char *b64, char *known_fp,
					size_t known_fp_len, char *err,
					size_t errlen);

/*
 * The host key algorithms to offer host first, in SSH names (libssh's
 * SSH_OPTIONS_HOSTKEYS): one for each key type recorded for it, in the
 * order of the file, "rsa-sha2-512,rsa-sha2-256" for an ssh-rsa key.
 * @revoked and @cert-authority lines and key types without a signature
 * algorithm are left out.  Returns the number of key types (0 with an empty
 * list when the host or the file is unknown), -1 with err set when the file
 * cannot be read.  algslen >= KNOWNHOSTS_MAX_ALGS always has room.
 */
int knownhosts_types(const char *path, const char *host, int port, char *algs,
		     size_t algslen, char *err, size_t errlen);

/* The two lookups over file contents in memory (fuzzing, tests). */
enum knownhosts_result
knownhosts_check_buf(const char *buf, size_t len, const char *host, int port,
		     const char *keytype, const char *b64, char *known_fp,
		     size_t known_fp_len, char *err, size_t errlen);
int knownhosts_types_buf(const char *buf, size_t len, const char *host,
			 int port, char *algs, size_t algslen, char *err,
			 size_t errlen);

/*
 * Append "host keytype b64" (host as "[host]:port" when port != 22) to path,
 * creating the file (0600) and its directory (0700) if needed.  Appends are
 * serialized across threads and processes (flock) and the line is written
 * with one write(2) followed by fsync; if another writer added a key for the
 * host meanwhile, the file is re-checked under the lock and the call returns
 * the result of that check instead of appending.  Returns KNOWNHOSTS_OK when
 * the key is recorded.
 */
enum knownhosts_result knownhosts_add(const char *path, const char *host,
				      int port, const char *keytype,
				      const char *b64, char *err,
				      size_t errlen);

/* SHA256 fingerprint of a base64 key blob, "SHA256:" + unpadded base64. */
int knownhosts_fingerprint(const char *b64, char *out, size_t outlen);

#endif
