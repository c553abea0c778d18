/* SPDX-License-Identifier: ISC */
/*
 * known_hosts lookups and appends against real keys made by ssh-keygen(1),
 * with hashed files produced by "ssh-keygen -H" and fingerprints compared
 * with "ssh-keygen -lf", so the format is checked against OpenSSH itself
 * rather than against our own reading of it.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "knownhosts.h"
#include "testutil.h"

#define TEST_MAX_B64 4096
#define TEST_MAX_DIR 64
#define TEST_THREADS 8
#define TEST_PROCS 4
#define TEST_PROC_HOSTS 8
#define TEST_LOCK_WAIT_US 200000

struct test_key {
	char path[2 * TEST_MAX_DIR]; /* private key; public key at path.pub */
	char type[64];
	char b64[TEST_MAX_B64];
	char fp[128]; /* as printed by ssh-keygen -lf */
};

/* Made once per test case in the parent, inherited by the forked tests. */
static char keydir[TEST_MAX_DIR];
static struct test_key ed1, ed2, ed3, ecdsa, rsa;

/* Per test. */
static char work[2 * TEST_MAX_DIR];
static char kh[4 * TEST_MAX_DIR];
static char err[KNOWNHOSTS_MAX_ERR];
static char fp[KNOWNHOSTS_MAX_ERR];

static void test_run(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
test_run(const char *fmt, ...)
{
	char cmd[2 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

static void
test_key_make(struct test_key *k, const char *name, const char *args)
{
	char line[TEST_MAX_B64 + 256];
	FILE *f;

	snprintf(k->path, sizeof(k->path), "%s/%s", keydir, name);
	test_run("ssh-keygen -q %s -N '' -C test -f %s", args, k->path);

	snprintf(line, sizeof(line), "%s.pub", k->path);
	ck_assert_ptr_nonnull(f = fopen(line, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_int_eq(sscanf(line, "%63s %4095s", k->type, k->b64), 2);

	snprintf(line, sizeof(line), "ssh-keygen -lf %s.pub", k->path);
	ck_assert_ptr_nonnull(f = popen(line, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_int_eq(sscanf(line, "%*d %127s", k->fp), 1);
	ck_assert_msg(strncmp(k->fp, "SHA256:", 7) == 0, "%s", k->fp);
}

static void
keys_setup(void)
{
	snprintf(keydir, sizeof(keydir), "/tmp/test_knownhosts.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(keydir));
	test_key_make(&ed1, "ed1", "-t ed25519");
	test_key_make(&ed2, "ed2", "-t ed25519");
	test_key_make(&ed3, "ed3", "-t ed25519");
	test_key_make(&ecdsa, "ecdsa", "-t ecdsa -b 256");
	test_key_make(&rsa, "rsa", "-t rsa -b 2048");
}

static void
keys_teardown(void)
{
	if (keydir[0] != '\0')
		test_run("rm -rf %s", keydir);
}

static void
work_setup(void)
{
	/* Under keydir: a failed test skips its teardown, the parent's runs. */
	snprintf(work, sizeof(work), "%s/work.XXXXXX", keydir);
	ck_assert_ptr_nonnull(mkdtemp(work));
	snprintf(kh, sizeof(kh), "%s/known_hosts", work);
	err[0] = fp[0] = '\0';
	umask(022);
}

static void
work_teardown(void)
{
	test_run("rm -rf %s", work);
}

static void test_write(const char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
test_write(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
test_read(const char *path)
{
	struct stat sb;
	char *buf;
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_int_eq(fstat(fileno(f), &sb), 0);
	ck_assert_ptr_nonnull(buf = calloc(1, (size_t)sb.st_size + 1));
	ck_assert_uint_eq(fread(buf, 1, (size_t)sb.st_size, f),
			  (size_t)sb.st_size);
	fclose(f);
	return buf;
}

static int
test_count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static enum knownhosts_result
check(const char *host, int port, const struct test_key *k)
{
	return knownhosts_check(kh, host, port, k->type, k->b64, fp, sizeof(fp),
				err, sizeof(err));
}

START_TEST(test_ok_each_type)
{
	test_write(kh, "h1 %s %s\nh2 %s %s\nh3 %s %s\n", ed1.type, ed1.b64,
		   ecdsa.type, ecdsa.b64, rsa.type, rsa.b64);
	ck_assert_str_eq(ecdsa.type, "ecdsa-sha2-nistp256");
	ck_assert_int_eq(check("h1", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("h2", 22, &ecdsa), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("h3", 22, &rsa), KNOWNHOSTS_OK);
	ck_assert_str_eq(fp, "");
}
END_TEST

START_TEST(test_rsa_sha2_names)
{
	test_write(kh, "h %s %s\n", rsa.type, rsa.b64);
	ck_assert_str_eq(rsa.type, "ssh-rsa");
	ck_assert_int_eq(knownhosts_check(kh, "h", 22, "rsa-sha2-256", rsa.b64,
					  fp, sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_OK);
	ck_assert_int_eq(knownhosts_check(kh, "h", 22, "rsa-sha2-512", rsa.b64,
					  fp, sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_OK);
	/* An RSA name does not make another key type an RSA key. */
	ck_assert_int_eq(knownhosts_check(kh, "h", 22, "rsa-sha2-256", ed1.b64,
					  fp, sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
}
END_TEST

START_TEST(test_unknown)
{
	char path[PATH_MAX + 32];

	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	snprintf(path, sizeof(path), "%s/no/such/dir/known_hosts", work);
	ck_assert_int_eq(knownhosts_check(path, "h", 22, ed1.type, ed1.b64, fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(access(kh, F_OK), -1); /* check creates nothing */

	test_write(kh, "other %s %s\n", ed1.type, ed1.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("othe", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("others", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	test_write(kh, "%s", "");
	ck_assert_int_eq(check("other", 22, &ed1), KNOWNHOSTS_UNKNOWN);
}
END_TEST

START_TEST(test_mismatch)
{
	test_write(kh, "x %s %s\nh %s %s\nh %s %s\n", ed3.type, ed3.b64,
		   ed2.type, ed2.b64, ed3.type, ed3.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_MISMATCH);
	/* The first recorded key of the type, as ssh-keygen prints it. */
	ck_assert_str_eq(fp, ed2.fp);
	ck_assert_str_ne(ed2.fp, ed3.fp);

	/* Several keys per host are allowed: any one of them is enough. */
	ck_assert_int_eq(check("h", 22, &ed3), KNOWNHOSTS_OK);
	ck_assert_str_eq(fp, "");

	/* A key of another type next to it does not hide the mismatch. */
	test_write(kh, "h %s %s\nh %s %s\n", ecdsa.type, ecdsa.b64, ed2.type,
		   ed2.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_MISMATCH);
	ck_assert_str_eq(fp, ed2.fp);
}
END_TEST

START_TEST(test_other_type)
{
	test_write(kh, "h %s %s\nh %s %s\n", ecdsa.type, ecdsa.b64, rsa.type,
		   rsa.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OTHER_TYPE);
	ck_assert_str_eq(fp, "");
	ck_assert_int_eq(check("h", 22, &ecdsa), KNOWNHOSTS_OK);
}
END_TEST

START_TEST(test_revoked)
{
	test_write(kh, "h %s %s\n@revoked h %s %s\n", ed1.type, ed1.b64,
		   ed1.type, ed1.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_REVOKED);
	ck_assert_int_eq(check("g", 22, &ed1), KNOWNHOSTS_UNKNOWN);

	test_write(kh, "@revoked * %s %s\nh %s %s\n", ed1.type, ed1.b64,
		   ed1.type, ed1.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_REVOKED);
	ck_assert_int_eq(check("anything", 2222, &ed1), KNOWNHOSTS_REVOKED);

	/* Revoking another key says nothing about this one. */
	test_write(kh, "@revoked h %s %s\nh %s %s\n", ed2.type, ed2.b64,
		   ed1.type, ed1.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OK);
	test_write(kh, "@revoked h %s %s\n", ed2.type, ed2.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("h", 22, &ed2), KNOWNHOSTS_REVOKED);
}
END_TEST

START_TEST(test_hashed)
{
	char *s;

	test_write(kh, "host1 %s %s\n[host2]:2222 %s %s\n", ed1.type, ed1.b64,
		   ecdsa.type, ecdsa.b64);
	test_run("ssh-keygen -H -f %s >/dev/null 2>&1", kh);
	s = test_read(kh);
	ck_assert_ptr_null(strstr(s, "host"));
	ck_assert_ptr_nonnull(strstr(s, "|1|"));
	free(s);

	ck_assert_int_eq(check("host1", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("HOST1", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("host1", 2222, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("host1", 22, &ed2), KNOWNHOSTS_MISMATCH);
	ck_assert_str_eq(fp, ed1.fp);
	ck_assert_int_eq(check("host2", 2222, &ecdsa), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("host2", 22, &ecdsa), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("host2", 2223, &ecdsa), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("host3", 22, &ed1), KNOWNHOSTS_UNKNOWN);
}
END_TEST

START_TEST(test_ports)
{
	test_write(kh, "[h]:2222 %s %s\ng %s %s\n[g]:22 %s %s\n", ed1.type,
		   ed1.b64, ed2.type, ed2.b64, ed3.type, ed3.b64);
	ck_assert_int_eq(check("h", 2222, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("h", 222, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("g", 22, &ed2), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("g", 0, &ed2), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("g", 2222, &ed2), KNOWNHOSTS_UNKNOWN);
	/* Port 22 is always written bare, so "[g]:22" names nothing. */
	ck_assert_int_eq(check("g", 22, &ed3), KNOWNHOSTS_MISMATCH);
	ck_assert_int_eq(check("::1", 2222, &ed1), KNOWNHOSTS_UNKNOWN);

	test_write(kh, "[::1]:2222 %s %s\n[h]:* %s %s\n", ed1.type, ed1.b64,
		   ed2.type, ed2.b64);
	ck_assert_int_eq(check("::1", 2222, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("::1", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("h", 5000, &ed2), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("h", 22, &ed2), KNOWNHOSTS_UNKNOWN);

	ck_assert_int_eq(check("h", 65536, &ed1), KNOWNHOSTS_ERROR);
	ck_assert_int_eq(check("h", -1, &ed1), KNOWNHOSTS_ERROR);
}
END_TEST

START_TEST(test_negation)
{
	test_write(kh, "*.example.com,!bad.example.com %s %s\n", ed1.type,
		   ed1.b64);
	ck_assert_int_eq(check("good.example.com", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("bad.example.com", 22, &ed1),
			 KNOWNHOSTS_UNKNOWN);

	/* The veto holds whatever the order. */
	test_write(kh, "!bad.example.com,*.example.com %s %s\n", ed1.type,
		   ed1.b64);
	ck_assert_int_eq(check("good.example.com", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("bad.example.com", 22, &ed1),
			 KNOWNHOSTS_UNKNOWN);

	/* A negation alone matches nothing, and hides no other line. */
	test_write(kh, "!a %s %s\n!b %s %s\nb %s %s\n", ed1.type, ed1.b64,
		   ed2.type, ed2.b64, ed1.type, ed1.b64);
	ck_assert_int_eq(check("a", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("c", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("b", 22, &ed1), KNOWNHOSTS_OK);

	test_write(kh, "[*]:2222,![db*]:2222 %s %s\n", ed1.type, ed1.b64);
	ck_assert_int_eq(check("web", 2222, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("db1", 2222, &ed1), KNOWNHOSTS_UNKNOWN);
}
END_TEST

START_TEST(test_wildcards)
{
	test_write(kh, "web-?.example.org,*.Lab,HOST.Example.COM %s %s\n",
		   ed1.type, ed1.b64);
	ck_assert_int_eq(check("web-1.example.org", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("web-10.example.org", 22, &ed1),
			 KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("web-.example.org", 22, &ed1),
			 KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("a.b.lab", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check(".lab", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("lab", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("a.lab.com", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("host.example.com", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("Host.EXAMPLE.com", 22, &ed1), KNOWNHOSTS_OK);
	/* A portless pattern does not reach "[x.lab]:2222". */
	ck_assert_int_eq(check("x.lab", 2222, &ed1), KNOWNHOSTS_UNKNOWN);

	test_write(kh, "a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*r*s*t*z %s %s\n",
		   ed1.type, ed1.b64);
	ck_assert_int_eq(check("abcdefghijklmnopqrstuvwxyabcdefghijklmnopq"
			       "rstuvwxyabcdefghijklmnopqrstuvwxy",
			       22, &ed1),
			 KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("abcdefghijklmnopqrstz", 22, &ed1),
			 KNOWNHOSTS_OK);
}
END_TEST

START_TEST(test_cert_authority)
{
	test_write(kh, "@cert-authority h %s %s\n@cert-authority * %s %s\n",
		   ed1.type, ed1.b64, ed2.type, ed2.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("h", 22, &ed3), KNOWNHOSTS_UNKNOWN);
	test_write(kh, "@cert-authority h %s %s\nh %s %s\n", ed1.type, ed1.b64,
		   ed2.type, ed2.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_MISMATCH);
	ck_assert_str_eq(fp, ed2.fp);
}
END_TEST

START_TEST(test_comments)
{
	test_write(kh,
		   "# h %s %s\n"
		   "   # h %s %s\n"
		   "\n"
		   "   \t \n"
		   "\t h \t %s  %s   user@box some words # more\r\n"
		   "g %s %s\r\n",
		   ed2.type, ed2.b64, ed2.type, ed2.b64, ed1.type, ed1.b64,
		   ed1.type, ed1.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("g", 22, &ed1), KNOWNHOSTS_OK);
	/* The commented-out ed2 entries are not there. */
	ck_assert_int_eq(check("h", 22, &ed2), KNOWNHOSTS_MISMATCH);
	ck_assert_str_eq(fp, ed1.fp);
}
END_TEST

/* Lines that would be a mismatch for host "h" if they were read at all. */
static void
test_write_bad(FILE *f, const struct test_key *k)
{
	fprintf(f, "garbage\nh\nh %s\n", k->type);
	fprintf(f, "h %s !!!!%s\n", k->type, k->b64);
	fprintf(f, "h %s %s=\n", k->type, k->b64);
	fprintf(f, "h %s AAAA%s\n", k->type, k->b64);
	fprintf(f, "h ssh-rsa %s\n", k->b64);
	fprintf(f, "h 2048 35 12345\n");
	fprintf(f, "@foo h %s %s\n", k->type, k->b64);
	fprintf(f, "@revoked\n@revoked h\n");
	fprintf(f, "|1|bad|bad %s %s\n", k->type, k->b64);
	fprintf(f, "|1|AAAA|AAAA %s %s\n", k->type, k->b64);
	fprintf(f, "|2|c2FsdA==|aGFzaA== %s %s\n", k->type, k->b64);
	fprintf(f, "\x01\xff\xfe %s %s\n", k->type, k->b64);
}

START_TEST(test_bad_lines)
{
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(kh, "w"));
	test_write_bad(f, &ed2);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("h", 22, &ed2), KNOWNHOSTS_UNKNOWN);

	ck_assert_ptr_nonnull(f = fopen(kh, "w"));
	test_write_bad(f, &ed2);
	fprintf(f, "h %s %s\n", ed1.type, ed1.b64);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OK);
}
END_TEST

START_TEST(test_long_lines)
{
	size_t len, n;
	char *line;
	FILE *f;

	ck_assert_ptr_nonnull(line = malloc(KNOWNHOSTS_MAX_LINE + 2));

	/* Exactly the limit: still read. */
	n = (size_t)snprintf(line, KNOWNHOSTS_MAX_LINE + 1, "h %s %s ",
			     ed1.type, ed1.b64);
	memset(line + n, 'c', KNOWNHOSTS_MAX_LINE - n);
	line[KNOWNHOSTS_MAX_LINE] = '\0';
	ck_assert_uint_eq(strlen(line), KNOWNHOSTS_MAX_LINE);
	test_write(kh, "%s\n", line);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OK);
	test_write(kh, "%s", line); /* last line, no newline */
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OK);

	/* One more byte: skipped, with or without a newline. */
	line[KNOWNHOSTS_MAX_LINE] = 'c';
	line[KNOWNHOSTS_MAX_LINE + 1] = '\0';
	test_write(kh, "%s\ng %s %s\n", line, ed1.type, ed1.b64);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("g", 22, &ed1), KNOWNHOSTS_OK);
	test_write(kh, "%s", line);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_UNKNOWN);

	/* The rest of a long line is not taken for a line of its own. */
	memset(line, '#', KNOWNHOSTS_MAX_LINE + 1);
	ck_assert_ptr_nonnull(f = fopen(kh, "w"));
	len = KNOWNHOSTS_MAX_LINE + 1;
	ck_assert_uint_eq(fwrite(line, 1, len, f), len);
	fprintf(f, "t %s %s\n", ed1.type, ed1.b64);
	fprintf(f, "g %s %s\n", ed1.type, ed1.b64);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(check("t", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	ck_assert_int_eq(check("g", 22, &ed1), KNOWNHOSTS_OK);
	free(line);
}
END_TEST

START_TEST(test_errors)
{
	char path[PATH_MAX + 32];

	/* A directory opens but cannot be read. */
	ck_assert_int_eq(knownhosts_check(work, "h", 22, ed1.type, ed1.b64, fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_ptr_nonnull(strstr(err, work));
	ck_assert_ptr_nonnull(strstr(err, strerror(EISDIR)));

	test_write(kh, "h %s %s\n", ed1.type, ed1.b64);
	snprintf(path, sizeof(path), "%s/sub", kh);
	err[0] = '\0';
	ck_assert_int_eq(knownhosts_check(path, "h", 22, ed1.type, ed1.b64, fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, strerror(ENOTDIR)));

	/* Bad arguments are errors, never a verdict on the key. */
	ck_assert_int_eq(knownhosts_check(kh, "h", 22, ed1.type, "AAA", fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_int_eq(knownhosts_check(kh, "h", 22, ed1.type, "", fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_int_eq(knownhosts_check(kh, "h", 22, ecdsa.type, ed1.b64, fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_int_eq(knownhosts_check(kh, "h", 22, "", ed1.b64, fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_int_eq(knownhosts_check(kh, "h x", 22, ed1.type, ed1.b64, fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_int_eq(knownhosts_check(kh, "", 22, ed1.type, ed1.b64, fp,
					  sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	/* NULL buffers are allowed. */
	ck_assert_int_eq(
	    knownhosts_check(kh, "h", 22, ed1.type, ed1.b64, NULL, 0, NULL, 0),
	    KNOWNHOSTS_OK);
	ck_assert_int_eq(
	    knownhosts_check(kh, "h", 22, ed2.type, ed2.b64, NULL, 0, NULL, 0),
	    KNOWNHOSTS_MISMATCH);
}
END_TEST

START_TEST(test_fingerprint)
{
	const struct test_key *keys[] = {&ed1, &ecdsa, &rsa};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ck_assert_int_eq(
		    knownhosts_fingerprint(keys[i]->b64, out, sizeof(out)), 0);
		ck_assert_str_eq(out, keys[i]->fp);
	}
	ck_assert_int_eq(knownhosts_fingerprint(ed1.b64, out, 50), -1);
	ck_assert_int_eq(knownhosts_fingerprint(ed1.b64, out, 51), 0);
	ck_assert_str_eq(out, ed1.fp);
	ck_assert_int_eq(
	    knownhosts_fingerprint("not base64!", out, sizeof(out)), -1);
	ck_assert_int_eq(knownhosts_fingerprint("", out, sizeof(out)), -1);
}
END_TEST

START_TEST(test_add_creates)
{
	char dir[PATH_MAX + 8], path[PATH_MAX + 32], *s, *want;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/a", work);
	snprintf(path, sizeof(path), "%s/b/known_hosts", dir);
	ck_assert_int_eq(knownhosts_add(path, "Web1", 22, ed1.type, ed1.b64,
					err, sizeof(err)),
			 KNOWNHOSTS_OK);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0700);
	snprintf(dir, sizeof(dir), "%s/a/b", work);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);

	ck_assert_int_eq(knownhosts_add(path, "db", 2222, rsa.type, rsa.b64,
					err, sizeof(err)),
			 KNOWNHOSTS_OK);
	ck_assert_int_eq(knownhosts_add(path, "db", 22, "rsa-sha2-512", rsa.b64,
					err, sizeof(err)),
			 KNOWNHOSTS_OK);
	ck_assert_int_ne(asprintf(&want,
				  "web1 %s %s\n[db]:2222 %s %s\n"
				  "db ssh-rsa %s\n",
				  ed1.type, ed1.b64, rsa.type, rsa.b64,
				  rsa.b64),
			 -1);
	s = test_read(path);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);

	ck_assert_int_eq(knownhosts_check(path, "web1", 22, ed1.type, ed1.b64,
					  fp, sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_OK);
	ck_assert_int_eq(knownhosts_check(path, "db", 2222, rsa.type, rsa.b64,
					  fp, sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_OK);
	ck_assert_int_eq(knownhosts_check(path, "db", 22, "rsa-sha2-256",
					  rsa.b64, fp, sizeof(fp), err,
					  sizeof(err)),
			 KNOWNHOSTS_OK);

	/* OpenSSH reads what we wrote. */
	test_run("ssh-keygen -F '[db]:2222' -f %s >/dev/null", path);
	test_run("ssh-keygen -F web1 -f %s >/dev/null", path);
}
END_TEST

START_TEST(test_add_existing)
{
	char *before, *after;

	test_write(kh, "h %s %s\n", ed2.type, ed2.b64);
	before = test_read(kh);

	/* What a concurrent writer recorded wins over our key. */
	ck_assert_int_eq(
	    knownhosts_add(kh, "h", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_MISMATCH);
	ck_assert_int_eq(knownhosts_add(kh, "h", 22, ecdsa.type, ecdsa.b64, err,
					sizeof(err)),
			 KNOWNHOSTS_OTHER_TYPE);
	ck_assert_int_eq(
	    knownhosts_add(kh, "h", 22, ed2.type, ed2.b64, err, sizeof(err)),
	    KNOWNHOSTS_OK);
	after = test_read(kh);
	ck_assert_str_eq(before, after);
	free(after);

	test_write(kh, "@revoked * %s %s\n", ed3.type, ed3.b64);
	ck_assert_int_eq(
	    knownhosts_add(kh, "h", 22, ed3.type, ed3.b64, err, sizeof(err)),
	    KNOWNHOSTS_REVOKED);
	after = test_read(kh);
	ck_assert_int_eq(test_count_lines(after), 1);
	free(after);
	free(before);
}
END_TEST

START_TEST(test_add_no_newline)
{
	char *s, *want;

	test_write(kh, "g %s %s", ed2.type, ed2.b64);
	ck_assert_int_eq(
	    knownhosts_add(kh, "h", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_OK);
	ck_assert_int_ne(asprintf(&want, "g %s %s\nh %s %s\n", ed2.type,
				  ed2.b64, ed1.type, ed1.b64),
			 -1);
	s = test_read(kh);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	ck_assert_int_eq(check("g", 22, &ed2), KNOWNHOSTS_OK);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OK);

	/* An empty existing file gets no stray blank line. */
	test_write(kh, "%s", "");
	ck_assert_int_eq(
	    knownhosts_add(kh, "h", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_OK);
	s = test_read(kh);
	ck_assert_int_eq(s[0], 'h');
	ck_assert_int_eq(test_count_lines(s), 1);
	free(s);
}
END_TEST

START_TEST(test_add_errors)
{
	char path[PATH_MAX + 32], *s;

	test_write(kh, "%s", "");
	snprintf(path, sizeof(path), "%s/sub/known_hosts", kh);
	ck_assert_int_eq(
	    knownhosts_add(path, "h", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_ptr_nonnull(strstr(err, strerror(ENOTDIR)));

	/* Names that would read back as patterns or other lines. */
	ck_assert_int_eq(
	    knownhosts_add(kh, "a b", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_int_eq(
	    knownhosts_add(kh, "a\nb", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_int_eq(
	    knownhosts_add(kh, "a,b", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_int_eq(
	    knownhosts_add(kh, "*", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_int_eq(
	    knownhosts_add(kh, "!a", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_int_eq(
	    knownhosts_add(kh, "@a", 22, ed1.type, ed1.b64, err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_int_eq(knownhosts_add(kh, "h", 22, "ssh-ed25519 x", ed1.b64,
					err, sizeof(err)),
			 KNOWNHOSTS_ERROR);
	ck_assert_int_eq(
	    knownhosts_add(kh, "h", 22, ed1.type, "AAAA\nh", err, sizeof(err)),
	    KNOWNHOSTS_ERROR);
	ck_assert_int_eq(access(kh, F_OK), 0);
	s = test_read(kh);
	ck_assert_int_eq(test_count_lines(s), 0);
	free(s);
}
END_TEST

struct add_arg {
	pthread_barrier_t *barrier;
	int n;
	enum knownhosts_result res;
};

static void *
add_thread(void *arg)
{
	struct add_arg *a = arg;
	char host[32], e[KNOWNHOSTS_MAX_ERR];

	snprintf(host, sizeof(host), "host%d", a->n);
	pthread_barrier_wait(a->barrier);
	a->res = knownhosts_add(kh, host, 2200 + a->n, ed1.type, ed1.b64, e,
				sizeof(e));
	return NULL;
}

START_TEST(test_add_threads)
{
	pthread_t t[TEST_THREADS];
	struct add_arg a[TEST_THREADS];
	pthread_barrier_t barrier;
	char host[32], *s;
	int i;

	ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, TEST_THREADS), 0);
	for (i = 0; i < TEST_THREADS; i++) {
		a[i].barrier = &barrier;
		a[i].n = i;
		a[i].res = KNOWNHOSTS_ERROR;
		ck_assert_int_eq(pthread_create(&t[i], NULL, add_thread, &a[i]),
				 0);
	}
	for (i = 0; i < TEST_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(a[i].res, KNOWNHOSTS_OK);
	}
	pthread_barrier_destroy(&barrier);

	s = test_read(kh);
	ck_assert_int_eq(test_count_lines(s), TEST_THREADS);
	free(s);
	for (i = 0; i < TEST_THREADS; i++) {
		snprintf(host, sizeof(host), "host%d", i);
		ck_assert_int_eq(check(host, 2200 + i, &ed1), KNOWNHOSTS_OK);
		ck_assert_int_eq(check(host, 22, &ed1), KNOWNHOSTS_UNKNOWN);
	}
}
END_TEST

/* flock must serialize writers that do not share our mutex. */
START_TEST(test_add_processes)
{
	char host[32], *s;
	pid_t pid[TEST_PROCS];
	int i, j, status;

	for (i = 0; i < TEST_PROCS; i++) {
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] != 0)
			continue;
		for (j = 0; j < TEST_PROC_HOSTS; j++) {
			snprintf(host, sizeof(host), "p%d-%d", i, j);
			if (knownhosts_add(kh, host, 22, ed1.type, ed1.b64,
					   NULL, 0) != KNOWNHOSTS_OK)
				_exit(1);
			/* Everyone also races to add one shared host. */
			if (knownhosts_add(kh, "shared", 22, ed2.type, ed2.b64,
					   NULL, 0) != KNOWNHOSTS_OK)
				_exit(1);
		}
		_exit(0);
	}
	for (i = 0; i < TEST_PROCS; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = test_read(kh);
	ck_assert_int_eq(test_count_lines(s), TEST_PROCS * TEST_PROC_HOSTS + 1);
	free(s);
	for (i = 0; i < TEST_PROCS; i++) {
		for (j = 0; j < TEST_PROC_HOSTS; j++) {
			snprintf(host, sizeof(host), "p%d-%d", i, j);
			ck_assert_int_eq(check(host, 22, &ed1), KNOWNHOSTS_OK);
		}
	}
	ck_assert_int_eq(check("shared", 22, &ed2), KNOWNHOSTS_OK);
}
END_TEST

static void *
add_one_thread(void *arg)
{
	enum knownhosts_result *res = arg;

	*res = knownhosts_add(kh, "h", 22, ed1.type, ed1.b64, NULL, 0);
	return NULL;
}

/* Another program holding the lock (ssh-keygen does not, others may). */
START_TEST(test_add_waits_for_lock)
{
	enum knownhosts_result res = KNOWNHOSTS_ERROR;
	struct stat sb;
	pthread_t t;
	int fd;

	test_write(kh, "%s", "");
	ck_assert_int_ne(fd = open(kh, O_RDONLY), -1);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, add_one_thread, &res), 0);
	usleep(TEST_LOCK_WAIT_US);
	ck_assert_int_eq(stat(kh, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	ck_assert_int_eq(res, KNOWNHOSTS_ERROR);
	close(fd);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(res, KNOWNHOSTS_OK);
	ck_assert_int_eq(check("h", 22, &ed1), KNOWNHOSTS_OK);
}
END_TEST

/* The daemon passes what libssh exports; that must match the .pub files. */
START_TEST(test_libssh_keys)
{
	const struct test_key *keys[] = {&ed1, &ecdsa, &rsa};
	char pub[PATH_MAX + 8], host[32], *b64, *hex;
	unsigned char *hash;
	size_t i, hlen;
	ssh_key key;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(pub, sizeof(pub), "%s.pub", keys[i]->path);
		ck_assert_int_eq(ssh_pki_import_pubkey_file(pub, &key), SSH_OK);
		ck_assert_int_eq(ssh_pki_export_pubkey_base64(key, &b64),
				 SSH_OK);
		snprintf(host, sizeof(host), "k%zu", i);
		ck_assert_int_eq(
		    knownhosts_add(kh, host, 22,
				   ssh_key_type_to_char(ssh_key_type(key)), b64,
				   err, sizeof(err)),
		    KNOWNHOSTS_OK);
		ck_assert_int_eq(check(host, 22, keys[i]), KNOWNHOSTS_OK);

		ck_assert_int_eq(
		    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256,
					   &hash, &hlen),
		    0);
		hex = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
					       hlen);
		ck_assert_ptr_nonnull(hex);
		ck_assert_int_eq(knownhosts_fingerprint(b64, fp, sizeof(fp)),
				 0);
		ck_assert_str_eq(fp, hex);
		ssh_string_free_char(hex);
		ssh_clean_pubkey_hash(&hash);
		ssh_string_free_char(b64);
		ssh_key_free(key);
	}
}
END_TEST

/* ---- key types recorded for a host ---- */

#define TEST_RSA_ALGS "rsa-sha2-512,rsa-sha2-256"
#define TEST_DSA_B64 "AAAAB3NzaC1kc3MAAAABAQ==" /* a blob naming ssh-dss */
#define TEST_FOO_B64 "AAAAB2Zvby1iYXIAAAABAQ==" /* a blob naming foo-bar */

static char algs[KNOWNHOSTS_MAX_ALGS];

static int
types(const char *host, int port)
{
	return knownhosts_types(kh, host, port, algs, sizeof(algs), err,
				sizeof(err));
}

START_TEST(test_types_order)
{
	test_write(kh, "h %s %s\nh,g %s %s\n*h %s %s\nh %s %s\nh %s %s\n",
		   rsa.type, rsa.b64, ecdsa.type, ecdsa.b64, ed1.type, ed1.b64,
		   ed2.type, ed2.b64, rsa.type, rsa.b64);
	/* One entry per type, in the order of the file. */
	ck_assert_int_eq(types("h", 22), 3);
	ck_assert_str_eq(algs,
			 TEST_RSA_ALGS ",ecdsa-sha2-nistp256,ssh-ed25519");
	ck_assert_int_eq(types("H", 0), 3);
	ck_assert_int_eq(types("g", 22), 1);
	ck_assert_str_eq(algs, "ecdsa-sha2-nistp256");
	ck_assert_int_eq(types("xh", 22), 1);
	ck_assert_str_eq(algs, "ssh-ed25519");

	test_write(kh, "h %s %s\n", rsa.type, rsa.b64);
	ck_assert_int_eq(types("h", 22), 1);
	ck_assert_str_eq(algs, TEST_RSA_ALGS);
	/* An RSA key recorded under a signature name is still an RSA key. */
	test_write(kh, "h rsa-sha2-256 %s\n", rsa.b64);
	ck_assert_int_eq(types("h", 22), 1);
	ck_assert_str_eq(algs, TEST_RSA_ALGS);
}
END_TEST

START_TEST(test_types_unknown)
{
	ck_assert_int_eq(types("h", 22), 0); /* no file */
	ck_assert_str_eq(algs, "");
	test_write(kh, "g %s %s\n[h]:2222 %s %s\n", ed1.type, ed1.b64,
		   ecdsa.type, ecdsa.b64);
	ck_assert_int_eq(types("h", 22), 0);
	ck_assert_str_eq(algs, "");
	ck_assert_int_eq(types("h", 2222), 1);
	ck_assert_str_eq(algs, "ecdsa-sha2-nistp256");
	test_write(kh, "%s", "");
	ck_assert_int_eq(types("h", 22), 0);
}
END_TEST

START_TEST(test_types_hashed)
{
	test_write(kh, "host1 %s %s\n[host2]:2222 %s %s\nhost1 %s %s\n",
		   ecdsa.type, ecdsa.b64, rsa.type, rsa.b64, ed1.type, ed1.b64);
	test_run("ssh-keygen -H -f %s >/dev/null 2>&1", kh);
	ck_assert_int_eq(types("host1", 22), 2);
	ck_assert_str_eq(algs, "ecdsa-sha2-nistp256,ssh-ed25519");
	ck_assert_int_eq(types("HOST2", 2222), 1);
	ck_assert_str_eq(algs, TEST_RSA_ALGS);
	ck_assert_int_eq(types("host2", 22), 0);
	ck_assert_int_eq(types("host3", 22), 0);
}
END_TEST

START_TEST(test_types_markers)
{
	/* Neither a CA nor a revoked key is a reason to ask for its type. */
	test_write(kh,
		   "@cert-authority h %s %s\n"
		   "@revoked h %s %s\n"
		   "@bogus h %s %s\n"
		   "h %s %s\n",
		   rsa.type, rsa.b64, ecdsa.type, ecdsa.b64, ed2.type, ed2.b64,
		   ed1.type, ed1.b64);
	ck_assert_int_eq(types("h", 22), 1);
	ck_assert_str_eq(algs, "ssh-ed25519");
	test_write(kh, "@cert-authority * %s %s\n@revoked h %s %s\n", rsa.type,
		   rsa.b64, ecdsa.type, ecdsa.b64);
	ck_assert_int_eq(types("h", 22), 0);
	ck_assert_str_eq(algs, "");
}
END_TEST

START_TEST(test_types_patterns)
{
	test_write(kh, "*,!h %s %s\nh?,g* %s %s\n", ecdsa.type, ecdsa.b64,
		   rsa.type, rsa.b64);
	ck_assert_int_eq(types("h", 22), 0);
	ck_assert_int_eq(types("g", 22), 2);
	ck_assert_str_eq(algs, "ecdsa-sha2-nistp256," TEST_RSA_ALGS);
	ck_assert_int_eq(types("h1", 22), 2);
}
END_TEST

START_TEST(test_types_skipped)
{
	/* Types with no signature algorithm to offer, broken lines. */
	test_write(kh,
		   "h ssh-dss " TEST_DSA_B64 "\n"
		   "h foo-bar " TEST_FOO_B64 "\n"
		   "h %s " TEST_DSA_B64 "\n"
		   "h %s not-base64\n"
		   "h %s\n"
		   "|1|bad|hash %s %s\n"
		   "h %s %s\n",
		   ecdsa.type, ecdsa.type, rsa.type, ed1.type, ed1.b64,
		   rsa.type, rsa.b64);
	ck_assert_int_eq(types("h", 22), 1);
	ck_assert_str_eq(algs, TEST_RSA_ALGS);
}
END_TEST

START_TEST(test_types_errors)
{
	char small[8];

	ck_assert_int_eq(knownhosts_types(work, "h", 22, algs, sizeof(algs),
					  err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, work) != NULL, "%s", err);
	ck_assert_int_eq(types("bad host", 22), -1);
	ck_assert_int_eq(types("h", 70000), -1);
	ck_assert_int_eq(types(NULL, 22), -1);
	test_write(kh, "h %s %s\n", rsa.type, rsa.b64);
	ck_assert_int_eq(knownhosts_types(kh, "h", 22, small, sizeof(small),
					  err, sizeof(err)),
			 -1);
	ck_assert_str_eq(small, "");
	ck_assert_int_eq(
	    knownhosts_types(kh, "h", 22, algs, 0, err, sizeof(err)), -1);
}
END_TEST

/* The in-memory entry points read exactly as the file ones do. */
START_TEST(test_buffers)
{
	char buf[3 * TEST_MAX_B64];
	int n;

	n = snprintf(buf, sizeof(buf), "h %s %s\n@revoked g %s %s\ng %s %s",
		     ecdsa.type, ecdsa.b64, ed1.type, ed1.b64, ed1.type,
		     ed1.b64);
	ck_assert_int_lt(n, (int)sizeof(buf));
	ck_assert_int_eq(knownhosts_check_buf(buf, (size_t)n, "h", 22,
					      ecdsa.type, ecdsa.b64, fp,
					      sizeof(fp), err, sizeof(err)),
			 KNOWNHOSTS_OK);
	ck_assert_int_eq(knownhosts_check_buf(buf, (size_t)n, "h", 22, ed1.type,
					      ed1.b64, fp, sizeof(fp), err,
					      sizeof(err)),
			 KNOWNHOSTS_OTHER_TYPE);
	/* The last line has no newline and still counts. */
	ck_assert_int_eq(knownhosts_check_buf(buf, (size_t)n, "g", 22, ed1.type,
					      ed1.b64, fp, sizeof(fp), err,
					      sizeof(err)),
			 KNOWNHOSTS_REVOKED);
	ck_assert_int_eq(knownhosts_types_buf(buf, (size_t)n, "h", 22, algs,
					      sizeof(algs), err, sizeof(err)),
			 1);
	ck_assert_str_eq(algs, "ecdsa-sha2-nistp256");
	ck_assert_int_eq(knownhosts_types_buf(buf, (size_t)n, "g", 22, algs,
					      sizeof(algs), err, sizeof(err)),
			 1);
	ck_assert_str_eq(algs, "ssh-ed25519");
	/* Only len bytes are read; none at all is an empty file. */
	ck_assert_int_eq(knownhosts_types_buf(buf, 1, "h", 22, algs,
					      sizeof(algs), err, sizeof(err)),
			 0);
	ck_assert_int_eq(knownhosts_types_buf(buf, 0, "h", 22, algs,
					      sizeof(algs), err, sizeof(err)),
			 0);
	ck_assert_int_eq(knownhosts_check_buf(buf, 0, "h", 22, ecdsa.type,
					      ecdsa.b64, fp, sizeof(fp), err,
					      sizeof(err)),
			 KNOWNHOSTS_UNKNOWN);
}
END_TEST

static Suite *
knownhosts_suite(void)
{
	Suite *s = suite_create("knownhosts");
	TCase *tc;

	tc = tcase_create("check");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_checked_fixture(tc, work_setup, work_teardown);
	tcase_add_test(tc, test_ok_each_type);
	tcase_add_test(tc, test_rsa_sha2_names);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_mismatch);
	tcase_add_test(tc, test_other_type);
	tcase_add_test(tc, test_revoked);
	tcase_add_test(tc, test_hashed);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_negation);
	tcase_add_test(tc, test_wildcards);
	tcase_add_test(tc, test_cert_authority);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_fingerprint);
	suite_add_tcase(s, tc);

	tc = tcase_create("add");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_checked_fixture(tc, work_setup, work_teardown);
	tcase_add_test(tc, test_add_creates);
	tcase_add_test(tc, test_add_existing);
	tcase_add_test(tc, test_add_no_newline);
	tcase_add_test(tc, test_add_errors);
	tcase_add_test(tc, test_add_threads);
	tcase_add_test(tc, test_add_processes);
	tcase_add_test(tc, test_add_waits_for_lock);
	tcase_add_test(tc, test_libssh_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("types");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_checked_fixture(tc, work_setup, work_teardown);
	tcase_add_test(tc, test_types_order);
	tcase_add_test(tc, test_types_unknown);
	tcase_add_test(tc, test_types_hashed);
	tcase_add_test(tc, test_types_markers);
	tcase_add_test(tc, test_types_patterns);
	tcase_add_test(tc, test_types_skipped);
	tcase_add_test(tc, test_types_errors);
	tcase_add_test(tc, test_buffers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(knownhosts_suite());
}
