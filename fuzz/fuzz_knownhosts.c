/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the known_hosts parser.  Each input is the contents
 * of a known_hosts file, read from memory through the same code as a file
 * (knownhosts_check_buf, knownhosts_types_buf), and looked up for a few
 * plain, bracketed and mixed-case names with keys of each type.  The
 * answers must agree: a host with recorded key types is never unknown, and
 * a key that verifies has its type in the list.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* Blobs that carry their type's name; the rest of each is filler. */
static const struct {
	const char *type;
	const char *alg; /* first algorithm offered for the type */
	const char *b64;
} fuzz_keys[] = {
    {"ssh-ed25519", "ssh-ed25519",
     "AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"},
    {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256",
     "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAABAgMEBQYHCAkKCw"
     "wNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"
     "="},
    {"ssh-rsa", "rsa-sha2-512",
     "AAAAB3NzaC1yc2EAAAADAQABAAAAgQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR"
     "4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFS"
     "U1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gA=="},
};

static const struct {
	const char *host;
	int port;
} fuzz_names[] = {
    {"host1", 22},    {"HOST1", 0},  {"host2", 2222},
    {"10.0.0.5", 22}, {"::1", 2222}, {"a.example.com", 22},
};

#define FUZZ_N(a) (sizeof(a) / sizeof((a)[0]))

/* Every item of a non-empty list is one of the known algorithms. */
static void
fuzz_check_list(const char *algs, int n)
{
	static const char *const known[] = {
	    "ssh-ed25519",
	    "ecdsa-sha2-nistp256",
	    "ecdsa-sha2-nistp384",
	    "ecdsa-sha2-nistp521",
	    "sk-ssh-ed25519@openssh.com",
	    "sk-ecdsa-sha2-nistp256@openssh.com",
	    "rsa-sha2-512",
	    "rsa-sha2-256",
	};
	char copy[KNOWNHOSTS_MAX_ALGS], *cp = copy, *alg;
	size_t i;
	int items = 0;

	FUZZ_CHECK(strlen(algs) < KNOWNHOSTS_MAX_ALGS);
	FUZZ_CHECK((n == 0) == (algs[0] == '\0'));
	snprintf(copy, sizeof(copy), "%s", algs);
	while (n > 0 && (alg = strsep(&cp, ",")) != NULL) {
		for (i = 0; i < FUZZ_N(known); i++) {
			if (strcmp(alg, known[i]) == 0)
				break;
		}
		FUZZ_CHECK(i < FUZZ_N(known));
		items++;
	}
	FUZZ_CHECK(items >= n && items <= 2 * n);
}

/* ",list," holds ",alg,". */
static int
fuzz_listed(const char *algs, const char *alg)
{
	char list[KNOWNHOSTS_MAX_ALGS + 2], needle[64];

	snprintf(list, sizeof(list), ",%s,", algs);
	snprintf(needle, sizeof(needle), ",%s,", alg);
	return strstr(list, needle) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char algs[KNOWNHOSTS_MAX_ALGS], fp[128], err[KNOWNHOSTS_MAX_ERR];
	enum knownhosts_result res;
	size_t i, k;
	int n;

	for (i = 0; i < FUZZ_N(fuzz_names); i++) {
		n = knownhosts_types_buf(buf, size, fuzz_names[i].host,
					 fuzz_names[i].port, algs, sizeof(algs),
					 err, sizeof(err));
		FUZZ_CHECK(n >= -1 && n <= 8);
		if (n == -1)
			continue;
		fuzz_check_list(algs, n);
		for (k = 0; k < FUZZ_N(fuzz_keys); k++) {
			res = knownhosts_check_buf(
			    buf, size, fuzz_names[i].host, fuzz_names[i].port,
			    fuzz_keys[k].type, fuzz_keys[k].b64, fp, sizeof(fp),
			    err, sizeof(err));
			FUZZ_CHECK(res >= KNOWNHOSTS_OK &&
				   res <= KNOWNHOSTS_ERROR);
			FUZZ_CHECK(res != KNOWNHOSTS_ERROR);
			if (n > 0)
				FUZZ_CHECK(res != KNOWNHOSTS_UNKNOWN);
			if (res == KNOWNHOSTS_OK)
				FUZZ_CHECK(fuzz_listed(algs, fuzz_keys[k].alg));
			if (res == KNOWNHOSTS_MISMATCH)
				FUZZ_CHECK(strncmp(fp, "SHA256:", 7) == 0 ||
					   fp[0] == '\0');
			else
				FUZZ_CHECK(fp[0] == '\0');
		}
	}
	return 0;
}
