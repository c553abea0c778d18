/* SPDX-License-Identifier: ISC */
/*
 * The ssh-agent protocol's messages (agentmsg.c), as a pure codec: framing,
 * the identity listing, signing requests and replies, and the class of every
 * request type for filtering.  No I/O.  Everything parsed here may come from
 * a hostile peer (an agent's replies; for forwarding, a remote host's
 * requests), so every length is checked against the limits below.
 */
#ifndef SSHPOOL_AGENTMSG_H
#define SSHPOOL_AGENTMSG_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one message after its 4-byte length, as OpenSSH's agent. */
#define AGENTMSG_MAX_LEN (256 * 1024)
/* The length and the type byte. */
#define AGENTMSG_HEADER 5
/* Identities of one listing; more make the listing malformed. */
#define AGENTMSG_MAX_IDENTITIES 1024
/* Bytes of one public key blob (a certificate included). */
#define AGENTMSG_MAX_BLOB (16 * 1024)
/* Bytes of one key's comment. */
#define AGENTMSG_MAX_COMMENT 1024
/* Bytes of an extension's name. */
#define AGENTMSG_MAX_EXT_NAME 256
/* Room for an error text of this module. */
#define AGENTMSG_MAX_ERR 128

/* Message numbers (draft-miller-ssh-agent, section 5.1). */
enum agentmsg_type {
	AGENTMSG_FAILURE = 5,
	AGENTMSG_SUCCESS = 6,
	AGENTMSG_REQUEST_IDENTITIES = 11,
	AGENTMSG_IDENTITIES_ANSWER = 12,
	AGENTMSG_SIGN_REQUEST = 13,
	AGENTMSG_SIGN_RESPONSE = 14,
	AGENTMSG_ADD_IDENTITY = 17,
	AGENTMSG_REMOVE_IDENTITY = 18,
	AGENTMSG_REMOVE_ALL_IDENTITIES = 19,
	AGENTMSG_ADD_SMARTCARD_KEY = 20,
	AGENTMSG_REMOVE_SMARTCARD_KEY = 21,
	AGENTMSG_LOCK = 22,
	AGENTMSG_UNLOCK = 23,
	AGENTMSG_ADD_ID_CONSTRAINED = 25,
	AGENTMSG_ADD_SMARTCARD_KEY_CONSTRAINED = 26,
	AGENTMSG_EXTENSION = 27,
	AGENTMSG_EXTENSION_FAILURE = 28
};

/* What a request asks for, which is what filtering decides on. */
enum agentmsg_class {
	AGENTMSG_C_LIST,         /* REQUEST_IDENTITIES */
	AGENTMSG_C_SIGN,         /* SIGN_REQUEST */
	AGENTMSG_C_ADD,          /* ADD_IDENTITY and its variants */
	AGENTMSG_C_REMOVE,       /* REMOVE_IDENTITY, REMOVE_SMARTCARD_KEY */
	AGENTMSG_C_REMOVE_ALL,   /* REMOVE_ALL_IDENTITIES (and protocol 1's) */
	AGENTMSG_C_LOCK,         /* LOCK */
	AGENTMSG_C_UNLOCK,       /* UNLOCK */
	AGENTMSG_C_SESSION_BIND, /* EXTENSION session-bind@openssh.com */
	AGENTMSG_C_EXTENSION,    /* any other EXTENSION */
	AGENTMSG_C_REPLY,        /* a reply type: never a request */
	AGENTMSG_C_OTHER         /* protocol 1, unassigned, malformed */
};

/* agentmsg_frame(): is a whole message at the start of a buffer? */
enum agentmsg_frame_result {
	AGENTMSG_FRAME_BAD = -1, /* length 0 or over AGENTMSG_MAX_LEN */
	AGENTMSG_FRAME_MORE = 0, /* not all there yet */
	AGENTMSG_FRAME_OK = 1
};

/* One key of a listing; pointers into the parsed message. */
struct agentmsg_identity {
	const uint8_t *blob;
	size_t blob_len;
	const uint8_t *comment; /* not terminated, may hold any byte */
	size_t comment_len;
};

struct agentmsg_identities {
	size_t n;
	struct agentmsg_identity *v; /* n entries, allocated */
};

/* A SIGN_REQUEST's fields; pointers into the parsed message. */
struct agentmsg_sign_request {
	const uint8_t *blob;
	size_t blob_len;
	const uint8_t *data;
	size_t data_len;
	uint32_t flags;
};

/*
 * The message at the start of buf (len bytes): AGENTMSG_FRAME_OK with
 * *frame_len = its bytes, the length field included; MORE; or BAD, which
 * no more bytes can cure.  A message is its length, its type byte and a
 * body; "msg" below is one whole message as framed here.
 */
enum agentmsg_frame_result agentmsg_frame(const uint8_t *buf, size_t len,
					  size_t *frame_len);
/* The type byte of a framed message. */
int agentmsg_type(const uint8_t *msg, size_t len);
/* What a framed request asks for. */
enum agentmsg_class agentmsg_classify(const uint8_t *msg, size_t len);
/* "sign", "add", ... for logs; never NULL. */
const char *agentmsg_class_name(enum agentmsg_class);

/*
 * IDENTITIES_ANSWER: 0 and out filled (free with agentmsg_identities_free;
 * its pointers borrow from msg), or -1 and a reason in err.  Trailing bytes,
 * counts over the limits and lengths past the message are refused.
 */
int agentmsg_parse_identities(const uint8_t *msg, size_t len,
			      struct agentmsg_identities *out, char *err,
			      size_t errlen);
void agentmsg_identities_free(struct agentmsg_identities *);
/* SIGN_REQUEST: 0, or -1 and a reason in err. */
int agentmsg_parse_sign_request(const uint8_t *msg, size_t len,
				struct agentmsg_sign_request *out, char *err,
				size_t errlen);
/* SIGN_RESPONSE: 0 with the signature blob, or -1 and a reason in err. */
int agentmsg_parse_sign_response(const uint8_t *msg, size_t len,
				 const uint8_t **sig, size_t *sig_len,
				 char *err, size_t errlen);

/* A message without a body (FAILURE, SUCCESS, REQUEST_IDENTITIES) into
 * out; returns AGENTMSG_HEADER. */
size_t agentmsg_build_simple(uint8_t out[AGENTMSG_HEADER], uint8_t type);
/* A SIGN_REQUEST, allocated into *out; 0, or -1 if over the limits. */
int agentmsg_build_sign_request(const struct agentmsg_sign_request *,
				uint8_t **out, size_t *out_len);
/* An IDENTITIES_ANSWER of ids, allocated into *out; 0, or -1 if over the
 * limits. */
int agentmsg_build_identities(const struct agentmsg_identities *, uint8_t **out,
			      size_t *out_len);

#endif
