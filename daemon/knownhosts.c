/* SPDX-License-Identifier: ISC */
/*
 * known_hosts files in the OpenSSH sshd(8) format: looking a host key up
 * (plain and hashed names, patterns, markers) and appending learnt keys.
 * Plain file I/O with no libssh session, so it runs on the blocking-work
 * threads.  The only shared state is the mutex that serializes appends
 * within the process; flock(2) does the same across processes.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "knownhosts.h"
#include "log.h"
#include "xmalloc.h"

#define KNOWNHOSTS_DEFAULT_PORT 22
#define KNOWNHOSTS_MAX_PORT 65535
#define KNOWNHOSTS_MAX_HOST 1025 /* NI_MAXHOST */
#define KNOWNHOSTS_HASH_MAGIC "|1|"
#define KNOWNHOSTS_HASH_LEN SHA_DIGEST_LENGTH /* salt and HMAC-SHA1 */
#define KNOWNHOSTS_FP_PREFIX "SHA256:"
#define KNOWNHOSTS_FP_SIZE 64 /* "SHA256:" + 43 characters + NUL fits */
#define KNOWNHOSTS_DIR_MODE 0700
#define KNOWNHOSTS_FILE_MODE 0600
#define KNOWNHOSTS_BLANKS " \t"

/*
 * Host key types and the signature algorithms a client offers for each, in
 * the names libssh and OpenSSH use.  An RSA key signs with SHA-2 only.
 */
static const struct {
	const char *type;
	const char *algs;
} knownhosts_algs[] = {
    {"ssh-ed25519", "ssh-ed25519"},
    {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"},
    {"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"},
    {"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"},
    {"sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519@openssh.com"},
    {"sk-ecdsa-sha2-nistp256@openssh.com",
     "sk-ecdsa-sha2-nistp256@openssh.com"},
    {"ssh-rsa", "rsa-sha2-512,rsa-sha2-256"},
};
#define KNOWNHOSTS_NALGS (sizeof(knownhosts_algs) / sizeof(knownhosts_algs[0]))

/* What is being looked up, in the form it is compared in. */
struct knownhosts_query {
	char *name;          /* lower case "host" or "[host]:port" */
	const char *type;    /* canonical key type name; NULL: list types */
	unsigned char *blob; /* decoded key */
	size_t bloblen;
	const char *b64; /* as given, already validated */
};

/* What the lines matching the host said about the key. */
struct knownhosts_state {
	int ok;
	int revoked;
	int mismatch;
	int other_type;
	char fp[KNOWNHOSTS_FP_SIZE]; /* first key of the type, on mismatch */
	/* Listing: knownhosts_algs indexes in order of first appearance. */
	size_t order[KNOWNHOSTS_NALGS];
	size_t ntypes;
};

static pthread_mutex_t knownhosts_lock = PTHREAD_MUTEX_INITIALIZER;

static void knownhosts_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
knownhosts_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ASCII only: host names must not change meaning with the locale. */
static int
knownhosts_lower(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

static int
knownhosts_is_b64char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * Strict base64 decoding.  EVP_DecodeBlock alone skips surrounding blanks
 * and returns padding as zero bytes, so the input is checked first and the
 * padding taken off the length.
 */
static unsigned char *
knownhosts_b64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out;
	size_t i, pad = 0;
	int n;

	if (len == 0 || len % 4 != 0 || len > INT_MAX)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i < len - 2)
				return NULL;
			pad++;
		} else if (pad > 0 || !knownhosts_is_b64char(s[i]))
			return NULL;
	}
	out = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)n - pad;
	return out;
}

/* RSA signature algorithm names all stand for the one "ssh-rsa" key type. */
static const char *
knownhosts_canon_type(const char *type)
{
	if (strcmp(type, "rsa-sha2-256") == 0 ||
	    strcmp(type, "rsa-sha2-512") == 0)
		return "ssh-rsa";
	return type;
}

/* The blob starts with its own type name, which must agree with the line. */
static int
knownhosts_blob_type_ok(const unsigned char *blob, size_t len, const char *type)
{
	size_t n, tlen = strlen(type);

	if (len < 4)
		return 0;
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | (size_t)blob[3];
	if (n > len - 4 || n != tlen)
		return 0;
	return memcmp(blob + 4, type, tlen) == 0;
}

static int
knownhosts_fp_blob(const unsigned char *blob, size_t len, char *out,
		   size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char enc[((EVP_MAX_MD_SIZE + 2) / 3) * 4 + 1];
	unsigned int mdlen;
	size_t n;
	int elen;

	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	elen = EVP_EncodeBlock(enc, md, (int)mdlen);
	if (elen < 0)
		return -1;
	for (n = (size_t)elen; n > 0 && enc[n - 1] == '='; n--)
		enc[n - 1] = '\0';
	if (out == NULL || strlen(KNOWNHOSTS_FP_PREFIX) + n + 1 > outlen)
		return -1;
	snprintf(out, outlen, "%s%s", KNOWNHOSTS_FP_PREFIX, enc);
	return 0;
}

int
knownhosts_fingerprint(const char *b64, char *out, size_t outlen)
{
	unsigned char *blob;
	size_t len;
	int rc;

	if (b64 == NULL ||
	    (blob = knownhosts_b64_decode(b64, strlen(b64), &len)) == NULL)
		return -1;
	rc = knownhosts_fp_blob(blob, len, out, outlen);
	free(blob);
	return rc;
}

static int
knownhosts_char_match(char p, char s)
{
	return p == '?' ||
	       knownhosts_lower((unsigned char)p) == (unsigned char)s;
}

/*
 * Glob match of a lower case name against a pattern, case-insensitively.
 * Backtracking only to the last "*" keeps it O(n*m) on hostile patterns.
 */
static int
knownhosts_match_pattern(const char *s, const char *p)
{
	const char *star = NULL, *mark = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p != '\0' && knownhosts_char_match(*p, *s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++mark;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/*
 * A comma-separated pattern list matches if some pattern does and no
 * negated one does: as in OpenSSH, a matching "!pattern" vetoes the line
 * whatever the order.
 */
static int
knownhosts_match_list(char *list, const char *name)
{
	char *pat;
	int neg, found = 0;

	while ((pat = strsep(&list, ",")) != NULL) {
		if ((neg = (*pat == '!')))
			pat++;
		if (*pat == '\0')
			continue;
		if (knownhosts_match_pattern(name, pat)) {
			if (neg)
				return 0;
			found = 1;
		}
	}
	return found;
}

/* "|1|base64(salt)|base64(HMAC-SHA1(salt, name))": 1 match, 0 not, -1 bad. */
static int
knownhosts_match_hashed(const char *field, const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE], *salt = NULL, *hash = NULL;
	const char *s, *sep;
	size_t saltlen, hashlen;
	const size_t magiclen = strlen(KNOWNHOSTS_HASH_MAGIC);
	unsigned int mdlen;
	int rc = -1;

	if (strncmp(field, KNOWNHOSTS_HASH_MAGIC, magiclen) != 0)
		return -1;
	s = field + magiclen;
	if ((sep = strchr(s, '|')) == NULL)
		return -1;
	salt = knownhosts_b64_decode(s, (size_t)(sep - s), &saltlen);
	hash = knownhosts_b64_decode(sep + 1, strlen(sep + 1), &hashlen);
	if (salt == NULL || saltlen != KNOWNHOSTS_HASH_LEN || hash == NULL ||
	    hashlen != KNOWNHOSTS_HASH_LEN)
		goto out;
	if (HMAC(EVP_sha1(), salt, (int)saltlen, (const unsigned char *)name,
		 strlen(name), md, &mdlen) == NULL)
		goto out;
	rc = CRYPTO_memcmp(md, hash, hashlen) == 0;
out:
	free(salt);
	free(hash);
	return rc;
}

/* Next blank-separated field, NUL-terminated in place; NULL at the end. */
static char *
knownhosts_field(char **cp)
{
	char *start;

	*cp += strspn(*cp, KNOWNHOSTS_BLANKS);
	if (**cp == '\0')
		return NULL;
	start = *cp;
	*cp += strcspn(*cp, KNOWNHOSTS_BLANKS);
	if (**cp != '\0')
		*(*cp)++ = '\0';
	return start;
}

/* A plain or @revoked entry of a line that names the host. */
struct knownhosts_entry {
	int revoked;
	const char *type; /* canonical */
	unsigned char *blob;
	size_t bloblen;
};

/*
 * Parse a line naming q->name into e (1), or say it is about something else
 * (0).  Malformed lines are skipped, as ssh(1) does.
 */
static int
knownhosts_parse(char *line, const char *path, unsigned long lineno,
		 const struct knownhosts_query *q, struct knownhosts_entry *e)
{
	char *cp = line, *hosts, *type, *b64;
	const char *why;
	int m;

	memset(e, 0, sizeof(*e));
	cp += strspn(cp, KNOWNHOSTS_BLANKS);
	if (*cp == '\0' || *cp == '#')
		return 0;
	if (*cp == '@') {
		hosts = knownhosts_field(&cp);
		/* A CA signs certificates; it never vouches as a plain key. */
		if (strcmp(hosts, "@cert-authority") == 0)
			return 0;
		if (strcmp(hosts, "@revoked") != 0) {
			why = "unknown marker";
			goto bad;
		}
		e->revoked = 1;
	}
	hosts = knownhosts_field(&cp);
	type = knownhosts_field(&cp);
	b64 = knownhosts_field(&cp);
	if (hosts == NULL || type == NULL || b64 == NULL) {
		why = "missing field";
		goto bad;
	}
	if (*hosts == '|') {
		if ((m = knownhosts_match_hashed(hosts, q->name)) == -1) {
			why = "bad hashed host name";
			goto bad;
		}
	} else
		m = knownhosts_match_list(hosts, q->name);
	if (!m)
		return 0;

	if ((e->blob = knownhosts_b64_decode(b64, strlen(b64), &e->bloblen)) ==
	    NULL) {
		why = "bad base64 key";
		goto bad;
	}
	e->type = knownhosts_canon_type(type);
	if (!knownhosts_blob_type_ok(e->blob, e->bloblen, e->type)) {
		free(e->blob);
		e->blob = NULL;
		why = "key type does not match the key";
		goto bad;
	}
	return 1;
bad:
	log_debug("%s:%lu: %s, line skipped", path, lineno, why);
	return 0;
}

/* What an entry says about the key looked up. */
static void
knownhosts_fold_check(const struct knownhosts_entry *e,
		      const struct knownhosts_query *q,
		      struct knownhosts_state *st)
{
	if (e->bloblen == q->bloblen &&
	    memcmp(e->blob, q->blob, e->bloblen) == 0) {
		if (e->revoked)
			st->revoked = 1;
		else
			st->ok = 1;
	} else if (e->revoked)
		; /* revokes some other key: says nothing about this one */
	else if (strcmp(e->type, q->type) != 0)
		st->other_type = 1;
	else if (!st->mismatch) {
		st->mismatch = 1;
		if (knownhosts_fp_blob(e->blob, e->bloblen, st->fp,
				       sizeof(st->fp)) == -1)
			st->fp[0] = '\0';
	}
}

/*
 * Note the entry's key type.  A revoked key is no reason to prefer its
 * type, and types no client algorithm signs with are left out.
 */
static void
knownhosts_fold_types(const struct knownhosts_entry *e,
		      struct knownhosts_state *st)
{
	size_t i, k;

	if (e->revoked)
		return;
	for (i = 0; i < KNOWNHOSTS_NALGS; i++) {
		if (strcmp(knownhosts_algs[i].type, e->type) != 0)
			continue;
		for (k = 0; k < st->ntypes; k++) {
			if (st->order[k] == i)
				return;
		}
		st->order[st->ntypes++] = i;
		return;
	}
}

/* Fold one line into st. */
static void
knownhosts_line(char *line, const char *path, unsigned long lineno,
		const struct knownhosts_query *q, struct knownhosts_state *st)
{
	struct knownhosts_entry e;

	if (!knownhosts_parse(line, path, lineno, q, &e))
		return;
	if (q->type == NULL)
		knownhosts_fold_types(&e, st);
	else
		knownhosts_fold_check(&e, q, st);
	free(e.blob);
}

static void
knownhosts_skip_rest(FILE *f)
{
	int c;

	while ((c = getc(f)) != EOF && c != '\n')
		;
}

/* Fold every line of f into st: 0, or -1 when f could not be read. */
static int
knownhosts_read(FILE *f, const char *path, const struct knownhosts_query *q,
		struct knownhosts_state *st, char *err, size_t errlen)
{
	const size_t size = KNOWNHOSTS_MAX_LINE + 2; /* line, '\n', NUL */
	unsigned long lineno = 0;
	char *buf;
	size_t len;

	memset(st, 0, sizeof(*st));
	buf = xmalloc(size);
	while (fgets(buf, (int)size, f) != NULL) {
		lineno++;
		len = strlen(buf);
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (len > KNOWNHOSTS_MAX_LINE) {
			knownhosts_skip_rest(f);
			log_debug("%s:%lu: line longer than %d bytes skipped",
				  path, lineno, KNOWNHOSTS_MAX_LINE);
			continue;
		}
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
		knownhosts_line(buf, path, lineno, q, st);
	}
	free(buf);
	if (ferror(f)) {
		knownhosts_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static enum knownhosts_result
knownhosts_scan(FILE *f, const char *path, const struct knownhosts_query *q,
		char *known_fp, size_t known_fp_len, char *err, size_t errlen)
{
	struct knownhosts_state st;

	if (knownhosts_read(f, path, q, &st, err, errlen) == -1)
		return KNOWNHOSTS_ERROR;
	if (st.revoked)
		return KNOWNHOSTS_REVOKED;
	if (st.ok)
		return KNOWNHOSTS_OK;
	if (st.mismatch) {
		if (known_fp != NULL && known_fp_len > 0)
			snprintf(known_fp, known_fp_len, "%s", st.fp);
		return KNOWNHOSTS_MISMATCH;
	}
	if (st.other_type)
		return KNOWNHOSTS_OTHER_TYPE;
	return KNOWNHOSTS_UNKNOWN;
}

/* The algorithms of the types in st, comma-separated, into out. */
static int
knownhosts_types_format(const struct knownhosts_state *st, char *out,
			size_t outlen, char *err, size_t errlen)
{
	size_t k, off = 0;
	int n;

	out[0] = '\0';
	for (k = 0; k < st->ntypes; k++) {
		n = snprintf(out + off, outlen - off, "%s%s", k > 0 ? "," : "",
			     knownhosts_algs[st->order[k]].algs);
		if (n < 0 || (size_t)n >= outlen - off) {
			out[0] = '\0';
			knownhosts_err(err, errlen, "algorithm list too long");
			return -1;
		}
		off += (size_t)n;
	}
	return (int)st->ntypes;
}

static int
knownhosts_types_scan(FILE *f, const char *path,
		      const struct knownhosts_query *q, char *out,
		      size_t outlen, char *err, size_t errlen)
{
	struct knownhosts_state st;

	if (knownhosts_read(f, path, q, &st, err, errlen) == -1)
		return -1;
	return knownhosts_types_format(&st, out, outlen, err, errlen);
}

/*
 * Refuse anything that would read back as something else once written:
 * blanks or control characters split or end the line, "," "*" "?" turn a
 * name into patterns, and a leading "!" "|" "#" "@" changes its meaning.
 */
static int
knownhosts_host_ok(const char *host)
{
	const char *cp;

	if (*host == '\0' || strlen(host) >= KNOWNHOSTS_MAX_HOST)
		return 0;
	if (strchr("!|#@", *host) != NULL)
		return 0;
	for (cp = host; *cp != '\0'; cp++) {
		if ((unsigned char)*cp <= ' ' || *cp == 0x7f)
			return 0;
		if (strchr(",*?", *cp) != NULL)
			return 0;
	}
	return 1;
}

static int
knownhosts_word_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > KNOWNHOSTS_MAX_LINE)
		return 0;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	}
	return 1;
}

static void
knownhosts_query_free(struct knownhosts_query *q)
{
	free(q->name);
	free(q->blob);
	q->name = NULL;
	q->blob = NULL;
}

/* The name host is recorded under, lower case. */
static int
knownhosts_query_host(struct knownhosts_query *q, const char *host, int port,
		      char *err, size_t errlen)
{
	char *cp;

	memset(q, 0, sizeof(*q));
	if (host == NULL || !knownhosts_host_ok(host)) {
		knownhosts_err(err, errlen, "invalid host name");
		return -1;
	}
	if (port < 0 || port > KNOWNHOSTS_MAX_PORT) {
		knownhosts_err(err, errlen, "%s: invalid port %d", host, port);
		return -1;
	}
	/* Port 0 means the default, like OpenSSH's put_host_port(). */
	if (port == 0 || port == KNOWNHOSTS_DEFAULT_PORT)
		q->name = xstrdup(host);
	else
		xasprintf(&q->name, "[%s]:%d", host, port);
	for (cp = q->name; *cp != '\0'; cp++)
		*cp = (char)knownhosts_lower((unsigned char)*cp);
	return 0;
}

static int
knownhosts_query_init(struct knownhosts_query *q, const char *host, int port,
		      const char *keytype, const char *b64, char *err,
		      size_t errlen)
{
	if (knownhosts_query_host(q, host, port, err, errlen) == -1)
		return -1;
	if (keytype == NULL || !knownhosts_word_ok(keytype)) {
		knownhosts_err(err, errlen, "%s: invalid key type", host);
		goto bad;
	}
	q->type = knownhosts_canon_type(keytype);
	if (b64 == NULL || (q->blob = knownhosts_b64_decode(
				b64, strlen(b64), &q->bloblen)) == NULL) {
		knownhosts_err(err, errlen, "%s: invalid base64 key", host);
		goto bad;
	}
	if (!knownhosts_blob_type_ok(q->blob, q->bloblen, q->type)) {
		knownhosts_err(err, errlen, "%s: key is not of type %s", host,
			       keytype);
		goto bad;
	}
	q->b64 = b64;
	return 0;
bad:
	knownhosts_query_free(q);
	return -1;
}

/* path for reading; NULL with *missing set when it does not exist. */
static FILE *
knownhosts_open(const char *path, int *missing, char *err, size_t errlen)
{
	FILE *f;

	*missing = 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			*missing = 1;
		else
			knownhosts_err(err, errlen, "%s: %s", path,
				       strerror(errno));
	}
	return f;
}

/* File contents in memory, read through the same stdio code. */
static FILE *
knownhosts_open_buf(const char *buf, size_t len, int *missing, char *err,
		    size_t errlen)
{
	FILE *f;

	*missing = 0;
	if (len == 0) {
		*missing = 1;
		return NULL;
	}
	if ((f = fmemopen((void *)(uintptr_t)buf, len, "r")) == NULL)
		knownhosts_err(err, errlen, "fmemopen: %s", strerror(errno));
	return f;
}

static enum knownhosts_result
knownhosts_check_f(FILE *f, int missing, const char *path, const char *host,
		   int port, const char *keytype, const char *b64,
		   char *known_fp, size_t known_fp_len, char *err,
		   size_t errlen)
{
	struct knownhosts_query q;
	enum knownhosts_result res;

	if (known_fp != NULL && known_fp_len > 0)
		known_fp[0] = '\0';
	if (knownhosts_query_init(&q, host, port, keytype, b64, err, errlen) ==
	    -1)
		res = KNOWNHOSTS_ERROR;
	else {
		if (f == NULL)
			res = missing ? KNOWNHOSTS_UNKNOWN : KNOWNHOSTS_ERROR;
		else
			res = knownhosts_scan(f, path, &q, known_fp,
					      known_fp_len, err, errlen);
		knownhosts_query_free(&q);
	}
	if (f != NULL)
		fclose(f);
	return res;
}

enum knownhosts_result
knownhosts_check(const char *path, const char *host, int port,
		 const char *keytype, const char *b64, char *known_fp,
		 size_t known_fp_len, char *err, size_t errlen)
{
	FILE *f;
	int missing;

	f = knownhosts_open(path, &missing, err, errlen);
	return knownhosts_check_f(f, missing, path, host, port, keytype, b64,
				  known_fp, known_fp_len, err, errlen);
}

enum knownhosts_result
knownhosts_check_buf(const char *buf, size_t len, const char *host, int port,
		     const char *keytype, const char *b64, char *known_fp,
		     size_t known_fp_len, char *err, size_t errlen)
{
	FILE *f;
	int missing;

	f = knownhosts_open_buf(buf, len, &missing, err, errlen);
	return knownhosts_check_f(f, missing, "(buffer)", host, port, keytype,
				  b64, known_fp, known_fp_len, err, errlen);
}

static int
knownhosts_types_f(FILE *f, int missing, const char *path, const char *host,
		   int port, char *algs, size_t algslen, char *err,
		   size_t errlen)
{
	struct knownhosts_query q;
	int n;

	if (algs != NULL && algslen > 0)
		algs[0] = '\0';
	if (algs == NULL || algslen == 0) {
		knownhosts_err(err, errlen, "no room for the algorithms");
		n = -1;
	} else if (knownhosts_query_host(&q, host, port, err, errlen) == -1)
		n = -1;
	else {
		if (f == NULL)
			n = missing ? 0 : -1;
		else
			n = knownhosts_types_scan(f, path, &q, algs, algslen,
						  err, errlen);
		knownhosts_query_free(&q);
	}
	if (f != NULL)
		fclose(f);
	return n;
}

int
knownhosts_types(const char *path, const char *host, int port, char *algs,
		 size_t algslen, char *err, size_t errlen)
{
	FILE *f;
	int missing;

	f = knownhosts_open(path, &missing, err, errlen);
	return knownhosts_types_f(f, missing, path, host, port, algs, algslen,
				  err, errlen);
}

int
knownhosts_types_buf(const char *buf, size_t len, const char *host, int port,
		     char *algs, size_t algslen, char *err, size_t errlen)
{
	FILE *f;
	int missing;

	f = knownhosts_open_buf(buf, len, &missing, err, errlen);
	return knownhosts_types_f(f, missing, "(buffer)", host, port, algs,
				  algslen, err, errlen);
}

/* Create the missing directories leading to path, mode 0700. */
static int
knownhosts_mkdirs(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	char *dir, *cp, saved;
	int rc = -1;

	dir = xstrdup(path);
	if ((cp = strrchr(dir, '/')) == NULL || cp == dir) {
		free(dir);
		return 0;
	}
	*cp = '\0';
	if (stat(dir, &sb) == 0) {
		rc = 0;
		goto out;
	}
	for (cp = dir + 1;; cp++) {
		if (*cp != '/' && *cp != '\0')
			continue;
		saved = *cp;
		*cp = '\0';
		if (stat(dir, &sb) == -1 &&
		    mkdir(dir, KNOWNHOSTS_DIR_MODE) == -1 && errno != EEXIST) {
			knownhosts_err(err, errlen, "%s: %s", dir,
				       strerror(errno));
			goto out;
		}
		*cp = saved;
		if (saved == '\0')
			break;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Make a new directory entry durable too, not just the file's data. */
static void
knownhosts_sync_dir(const char *path)
{
	char *dir, *cp;
	int fd;

	dir = xstrdup(path);
	if ((cp = strrchr(dir, '/')) == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (cp == dir)
		cp[1] = '\0';
	else
		*cp = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == -1)
			log_warn("fsync %s", dir);
		close(fd);
	}
	free(dir);
}

/* Re-read the locked file through its own descriptor. */
static enum knownhosts_result
knownhosts_recheck(int fd, const char *path, const struct knownhosts_query *q,
		   char *err, size_t errlen)
{
	enum knownhosts_result res;
	FILE *f;
	int rfd;

	if ((rfd = dup(fd)) == -1 || lseek(rfd, 0, SEEK_SET) == -1 ||
	    (f = fdopen(rfd, "r")) == NULL) {
		knownhosts_err(err, errlen, "%s: %s", path, strerror(errno));
		if (rfd != -1)
			close(rfd);
		return KNOWNHOSTS_ERROR;
	}
	res = knownhosts_scan(f, path, q, NULL, 0, err, errlen);
	fclose(f);
	return res;
}

/*
 * Append entry, which starts with a '\n' that is written only when the
 * file's last line lacks one (it would swallow the new entry otherwise).
 */
static int
knownhosts_write(int fd, const char *path, const char *entry, char *err,
		 size_t errlen)
{
	struct stat sb;
	size_t len, off = 1;
	ssize_t n;
	char last;

	if (fstat(fd, &sb) == -1) {
		knownhosts_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (sb.st_size > 0) {
		if (pread(fd, &last, 1, sb.st_size - 1) != 1) {
			knownhosts_err(err, errlen, "%s: %s", path,
				       strerror(errno));
			return -1;
		}
		if (last != '\n')
			off = 0;
	}
	len = strlen(entry);
	while (off < len) {
		if ((n = write(fd, entry + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto undo;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto undo;
	return 0;
undo:
	/* Leave no half line behind for the next reader. */
	knownhosts_err(err, errlen, "%s: %s", path, strerror(errno));
	if (ftruncate(fd, sb.st_size) == -1)
		log_warn("%s: truncate after failed write", path);
	return -1;
}

static enum knownhosts_result
knownhosts_add_locked(const char *path, const struct knownhosts_query *q,
		      char *err, size_t errlen)
{
	enum knownhosts_result res;
	char *buf;
	int fd, created = 1;
	const int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY;

	if (knownhosts_mkdirs(path, err, errlen) == -1)
		return KNOWNHOSTS_ERROR;
	fd = open(path, flags | O_CREAT | O_EXCL, KNOWNHOSTS_FILE_MODE);
	if (fd == -1 && errno == EEXIST) {
		created = 0;
		fd = open(path, flags);
	}
	if (fd == -1) {
		knownhosts_err(err, errlen, "%s: %s", path, strerror(errno));
		return KNOWNHOSTS_ERROR;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			knownhosts_err(err, errlen, "%s: lock: %s", path,
				       strerror(errno));
			close(fd);
			return KNOWNHOSTS_ERROR;
		}
	}

	/* Someone may have recorded a key for this host since our check. */
	res = knownhosts_recheck(fd, path, q, err, errlen);
	if (res == KNOWNHOSTS_UNKNOWN) {
		xasprintf(&buf, "\n%s %s %s\n", q->name, q->type, q->b64);
		if (knownhosts_write(fd, path, buf, err, errlen) == 0)
			res = KNOWNHOSTS_OK;
		else
			res = KNOWNHOSTS_ERROR;
		free(buf);
		if (created)
			knownhosts_sync_dir(path);
	}
	close(fd); /* releases the flock */
	return res;
}

enum knownhosts_result
knownhosts_add(const char *path, const char *host, int port,
	       const char *keytype, const char *b64, char *err, size_t errlen)
{
	struct knownhosts_query q;
	enum knownhosts_result res;

	if (knownhosts_query_init(&q, host, port, keytype, b64, err, errlen) ==
	    -1)
		return KNOWNHOSTS_ERROR;
	pthread_mutex_lock(&knownhosts_lock);
	res = knownhosts_add_locked(path, &q, err, errlen);
	pthread_mutex_unlock(&knownhosts_lock);
	knownhosts_query_free(&q);
	return res;
}
