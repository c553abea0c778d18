/* SPDX-License-Identifier: ISC */
/*
 * What the files of the wire codec share among themselves and nobody else
 * sees: internal limits, error helpers, UTF-8 checks, the encoding
 * primitives, strict JSON reading and typed member access.  proto.h stays
 * the codec's only public header.
 */
#ifndef SSHPOOL_PROTO_INT_H
#define SSHPOOL_PROTO_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "proto.h"

#define PROTO_MAX_CLIENT 128  /* bytes of the hello "client" member */
#define PROTO_MAX_VERSIONS 16 /* entries of the hello "versions" list */
#define PROTO_MAX_VERSION_NUM 65535
#define PROTO_MAX_TIMEOUT_S (PROTO_MAX_TIMEOUT_MS / 1000)
#define PROTO_MAX_SAFE_INT ((1LL << 53) - 1) /* exact in a double */
#define PROTO_MAX_SIGNAL 32
#define PROTO_MSG_NAME 64  /* bytes of a user-supplied name in a message */
#define PROTO_PATH_MAX 128 /* bytes of a member path in a message */
#define PROTO_BUF_MIN 256
#define PROTO_MAX_GROUP_NAME 64 /* bytes of a host group name after "@" */

/* proto_error.c: fill err and return -1; clear all of it. */
int proto_error_set(struct proto_error *, enum proto_code, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void proto_error_clear(struct proto_error *);

/* proto_limits.c: the limits a request is parsed under, from the daemon's
 * (NULL for the defaults). */
void proto_limits_resolve(struct proto_limits *, const struct proto_limits *);

/* proto_utf8.c */
size_t proto_utf8_len(const unsigned char *, size_t);
int proto_utf8_valid(const char *, size_t);

/* proto_buf.c: room for n more bytes plus the terminating NUL. */
int proto_buf_reserve(struct proto_buf *, size_t n);

/*
 * proto_enc.c.  Encoding goes through a sticky error: every put is a no-op
 * after the first failure, and proto_enc_end rolls the buffer back so a
 * failed encoder leaves it unchanged.
 */
struct proto_enc {
	struct proto_buf *b;
	size_t start;
	int err;
};

void proto_enc_begin(struct proto_enc *, struct proto_buf *);
int proto_enc_end(struct proto_enc *);
void proto_enc_raw(struct proto_enc *, const void *, size_t);
#define proto_enc_lit(e, s) proto_enc_raw((e), (s), sizeof(s) - 1)
void proto_enc_u64(struct proto_enc *, unsigned long long);
void proto_enc_i64(struct proto_enc *, long long);
void proto_enc_str(struct proto_enc *, const char *, size_t, int strict);
void proto_enc_cstr(struct proto_enc *, const char *);
void proto_enc_message(struct proto_enc *, const char *);
void proto_enc_head(struct proto_enc *, const char *id, const char *key,
		    const char *name);
void proto_enc_key(struct proto_enc *, const char *);

/* proto_hostspec.c: a user name as a host spec allows it. */
int proto_hostspec_check_user(const char *, size_t, struct proto_error *);

/* proto_id.c: an id (or cancel target) member as canonical JSON text. */
int proto_id_from_json(json_object *, char id[PROTO_MAX_ID + 3],
		       const char *what, int allow_null, struct proto_error *);

/* proto_json.c: outcome of proto_json_parse besides success. */
enum {
	PROTO_JSON_BAD = -1,   /* no tree */
	PROTO_JSON_DUP = -2,   /* tree, but a duplicate key; err filled */
	PROTO_JSON_DUP_ID = -3 /* as above, and the key is the top "id" */
};
int proto_json_parse(const char *, size_t, int max_depth, json_object **,
		     struct proto_error *);
const char *proto_json_str(json_object *, size_t *);
int proto_json_int(json_object *, const char *what, long long min,
		   long long max, long long *, struct proto_error *);
int proto_json_strdup(const char *, size_t, char **, struct proto_error *);
int proto_json_check_v(json_object *, struct proto_error *);

/*
 * proto_glob.c: a shell glob compiled.  new returns NULL when out of
 * memory, or with *unsupported set for a construct it does not take.
 * match adds the elements it compared to *steps; cost is what compiling
 * took in the same units; first is the byte every match starts with.
 */
struct proto_glob;
struct proto_glob *proto_glob_new(const char *, size_t, int *unsupported);
int proto_glob_match(const struct proto_glob *, const char *, size_t,
		     size_t *steps);
size_t proto_glob_cost(const struct proto_glob *);
int proto_glob_first(const struct proto_glob *); /* a byte, or -1 */
void proto_glob_free(struct proto_glob *);

/* proto_exclude.c: proto_exclude_match with spec already parsed (host is
 * its host name, or spec itself if it does not parse). */
int proto_exclude_match_host(struct proto_exclude *, const char *spec,
			     const char *host);

/* proto_hostlist.c: the "hosts" (and "exclude") members of a request. */
int proto_hostlist_parse(json_object *, const struct proto_limits *,
			 struct proto_request *, struct proto_error *);

/* proto_fds.c: the "fds" member of run and connect; -1 with err for a
 * member naming a credential file by path. */
int proto_fds_parse(json_object *, struct proto_request *,
		    struct proto_error *);
void proto_fds_encode(struct proto_enc *, const struct proto_request *);
int proto_fds_path_member(const char *key, struct proto_error *);

#endif
