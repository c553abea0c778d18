/* SPDX-License-Identifier: ISC */
/*
 * sshpoold configuration: the built-in defaults for the running user, the
 * sshd_config-style file reader and the parsers of the keyword kinds.  The
 * reader takes lines of bounded length, splits them into arguments (double
 * quotes group words, "#" at the start of an argument begins a comment),
 * finds the keyword's row in the table (config_table.c) with bsearch and
 * parses the arguments by the row's kind, or with the row's own function.
 * Every error is collected as "path:line: message" so one run reports them
 * all.  The loaded struct config starts from every row's default, so it is
 * complete: readers take its members as they are.
 *
 * Within one scope (the global section or one Host block) the first value of
 * a keyword wins, as in ssh_config; IdentityFile, AllowUsers, AllowGroups,
 * UserHosts, GroupHosts and HostGroup accumulate instead.  Later duplicates
 * are still checked, so a typo never hides behind a first value.
 *
 * It also answers the access questions the file settles (who may connect,
 * who may use which host), resolving account names when asked so that the
 * file parses the same whether or not the accounts exist yet.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "config_table.h"
#include "log.h"
#include "xmalloc.h"
#include "../proto/proto.h"

#define CONFIG_TIME_FORM "500ms, 15, 1.5s, 2m or 1h"
#define CONFIG_MAX_ID 4294967294ULL /* (uid_t)-1 is never an id */

#define CONFIG_ROOT_SOCKET "/run/sshpool/sshpoold.sock"
#define CONFIG_ROOT_DIR "/etc/sshpool"

/* Identity files tried when none is configured, in this order. */
static const char *const config_default_ids[] = {
    "id_ed25519",
    "id_ecdsa",
    "id_rsa",
};
#define CONFIG_N_DEFAULT_IDS                                                   \
	(sizeof(config_default_ids) / sizeof(config_default_ids[0]))
/* The credential directory's identities and the usual ones. */
_Static_assert(2 * CONFIG_N_DEFAULT_IDS <= CONFIG_MAX_IDENTITY_FILES,
	       "default identity list does not fit");

static void
config_errors_add(struct config_errors *errs, char *line)
{
	if (errs == NULL) {
		free(line);
		return;
	}
	errs->lines =
	    xreallocarray(errs->lines, errs->n + 1, sizeof(*errs->lines));
	errs->lines[errs->n++] = line;
}

void
config_errors_free(struct config_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->n = 0;
}

void
config_error(struct config_parser *p, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	if (p->stop)
		return;
	if (p->nerrors == CONFIG_MAX_ERRORS) {
		xasprintf(&line, "%s:%d: too many errors", p->path, p->line);
		config_errors_add(p->errs, line);
		p->nerrors++;
		p->stop = 1;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("config_error: out of memory");
	va_end(ap);
	if (p->line > 0)
		xasprintf(&line, "%s:%d: %s", p->path, p->line, msg);
	else
		xasprintf(&line, "%s: %s", p->path, msg);
	free(msg);
	config_errors_add(p->errs, line);
	p->nerrors++;
}

/*
 * Room for element n of an array that holds n: the capacity is the next
 * power of two, so long lists (HostGroup hosts) grow in O(n) copies.
 */
void *
config_grow(void *v, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return v;
	return xreallocarray(v, n == 0 ? 1 : n * 2, size);
}

static void
config_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	free(cfg->path);
	for (i = 0; i < config_table_n; i++) {
		if (config_table[i].scope == CONFIG_SCOPE_GLOBAL)
			config_table_release(&config_table[i], cfg);
	}
	for (i = 0; i < cfg->n_policies; i++) {
		free(cfg->policies[i].name);
		config_strings_free(cfg->policies[i].patterns,
				    cfg->policies[i].n_patterns);
		config_strings_free(cfg->policies[i].users,
				    cfg->policies[i].n_users);
	}
	free(cfg->policies);
	for (i = 0; i < cfg->n_groups; i++) {
		free(cfg->groups[i].name);
		config_strings_free(cfg->groups[i].hosts,
				    cfg->groups[i].n_hosts);
	}
	free(cfg->groups);
	config_host_opts_free(&cfg->global);
	for (i = 0; i < cfg->n_blocks; i++) {
		for (j = 0; j < cfg->blocks[i].n_patterns; j++)
			free(cfg->blocks[i].patterns[j]);
		free(cfg->blocks[i].patterns);
		config_host_opts_free(&cfg->blocks[i].opts);
	}
	free(cfg->blocks);
	free(cfg);
}

/*
 * The daemon user's login name and home directory.  The password database
 * is the authority because a service may run with a stale or empty
 * environment; the environment is only the fallback for a uid without an
 * entry (containers with an arbitrary uid).
 */
static void
config_whoami(char **user, char **home)
{
	struct passwd *pw;
	const char *s;
	uid_t uid = geteuid();

	pw = getpwuid(uid);
	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name != '\0')
		*user = xstrdup(pw->pw_name);
	else if ((s = getenv("USER")) != NULL && *s != '\0')
		*user = xstrdup(s);
	else if ((s = getenv("LOGNAME")) != NULL && *s != '\0')
		*user = xstrdup(s);
	else
		xasprintf(user, "%lu", (unsigned long)uid);

	if (pw != NULL && pw->pw_dir != NULL && *pw->pw_dir == '/')
		*home = xstrdup(pw->pw_dir);
	else if ((s = getenv("HOME")) != NULL && *s == '/')
		*home = xstrdup(s);
	else
		*home = xstrdup("/");
}

/*
 * A directory systemd hands the service through the environment
 * (CREDENTIALS_DIRECTORY, STATE_DIRECTORY): absolute, and only the first of
 * a colon-separated list.  NULL when unset or unusable.
 */
static char *
config_systemd_dir(const char *name)
{
	const char *s = getenv(name);
	size_t len;

	if (s == NULL || *s != '/')
		return NULL;
	len = strcspn(s, ":");
	while (len > 1 && s[len - 1] == '/')
		len--;
	return xstrndup(s, len);
}

/* "~/rest" under home, without doubling the slash when home is "/". */
char *
config_tilde(const char *home, const char *rest)
{
	size_t len = strlen(home);
	char *out;

	while (len > 0 && home[len - 1] == '/')
		len--;
	xasprintf(&out, "%.*s/%s", (int)len, home, rest);
	return out;
}

/*
 * The defaults that depend on the running user and its environment:
 * Socket, User, IdentityFile and UserKnownHostsFile.
 */
static void
config_default_env(struct config *cfg)
{
	char *user, *home, *dir, *sysdir;
	const char *xdg;
	size_t i, n;

	config_whoami(&user, &home);
	if (geteuid() == 0) {
		cfg->socket_path = xstrdup(CONFIG_ROOT_SOCKET);
		dir = xstrdup(CONFIG_ROOT_DIR);
	} else {
		/* XDG: a relative XDG_RUNTIME_DIR is invalid and ignored. */
		xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg != NULL && *xdg == '/')
			xasprintf(&cfg->socket_path, "%s/sshpool/sshpoold.sock",
				  xdg);
		else
			xasprintf(&cfg->socket_path,
				  "/tmp/sshpool-%lu/sshpoold.sock",
				  (unsigned long)geteuid());
		dir = config_tilde(home, ".ssh");
	}

	cfg->global.user = user;
	/* Under systemd the key comes as a credential (LoadCredential=): it
	 * is tried first, the usual files after it. */
	n = 0;
	if ((sysdir = config_systemd_dir("CREDENTIALS_DIRECTORY")) != NULL) {
		for (i = 0; i < CONFIG_N_DEFAULT_IDS; i++)
			xasprintf(&cfg->global.identity_files[n++], "%s/%s",
				  sysdir, config_default_ids[i]);
		free(sysdir);
	}
	for (i = 0; i < CONFIG_N_DEFAULT_IDS; i++)
		xasprintf(&cfg->global.identity_files[n++], "%s/%s", dir,
			  config_default_ids[i]);
	cfg->global.n_identity_files = n;
	/* StateDirectory= is the service's only writable place for the host
	 * keys it learns. */
	if ((sysdir = config_systemd_dir("STATE_DIRECTORY")) != NULL) {
		xasprintf(&cfg->global.known_hosts_file, "%s/known_hosts",
			  sysdir);
		free(sysdir);
	} else
		xasprintf(&cfg->global.known_hosts_file, "%s/known_hosts", dir);

	free(dir);
	free(home);
}

/* Every row's default, then those of the environment. */
struct config *
config_default(void)
{
	const struct config_keyword *kw;
	struct config *cfg;
	size_t i;

	cfg = xcalloc(1, sizeof(*cfg));
	config_host_opts_init(&cfg->global);
	for (i = 0; i < config_table_n; i++) {
		kw = &config_table[i];
		if (kw->scope != CONFIG_SCOPE_ANY && config_table_numeric(kw))
			config_table_store(
			    kw, config_table_base(kw, cfg, &cfg->global),
			    (long long)kw->def);
	}
	config_default_env(cfg);
	return cfg;
}

/*
 * Decimal number with an optional K, M or G suffix (powers of 1024) when
 * suffixes is set.  Returns 0, -1 when it is not a number, -2 when it does
 * not fit.
 */
static int
config_number(const char *s, int suffixes, unsigned long long *out)
{
	unsigned long long v = 0, mult = 1;
	const char *cp = s;

	if (!isdigit((unsigned char)*cp))
		return -1;
	for (; isdigit((unsigned char)*cp); cp++) {
		if (v > (ULLONG_MAX - (unsigned)(*cp - '0')) / 10)
			return -2;
		v = v * 10 + (unsigned)(*cp - '0');
	}
	if (*cp != '\0') {
		if (!suffixes || cp[1] != '\0')
			return -1;
		if (*cp == 'K' || *cp == 'k')
			mult = 1024;
		else if (*cp == 'M' || *cp == 'm')
			mult = 1024 * 1024;
		else if (*cp == 'G' || *cp == 'g')
			mult = 1024 * 1024 * 1024;
		else
			return -1;
		if (v > ULLONG_MAX / mult)
			return -2;
		v *= mult;
	}
	*out = v;
	return 0;
}

static int
config_range(struct config_parser *p, const struct config_keyword *kw,
	     const char *arg, int suffixes, unsigned long long min,
	     unsigned long long max, unsigned long long *out)
{
	int rc;

	rc = config_number(arg, suffixes, out);
	if (rc == -1) {
		config_error(p, "%s: bad number \"%s\"", kw->name, arg);
		return -1;
	}
	if (rc == -2 || *out < min || *out > max) {
		config_error(p, "%s: %s is out of range (%llu..%llu)", kw->name,
			     arg, min, max);
		return -1;
	}
	return 0;
}

/*
 * A time value: digits with an optional fraction and an optional unit, "ms",
 * "s" (the default), "m" or "h", in any case.  A fraction must come to whole
 * milliseconds, so it is allowed with s (at most 3 digits), m and h but not
 * with ms.  Returns 0, -1 when it is not a time, -2 when it is above
 * CONFIG_MAX_TIME_MS.
 */
static int
config_time_ms(const char *s, long long *out)
{
	const char *cp = s;
	long long whole = 0, frac = 0, fscale = 1, unit;
	int ndigits = 0, nfrac = 0;

	for (; isdigit((unsigned char)*cp); cp++, ndigits++) {
		if (whole > CONFIG_MAX_TIME_MS)
			return -2; /* keep going would only overflow */
		whole = whole * 10 + (*cp - '0');
	}
	if (*cp == '.') {
		for (cp++; isdigit((unsigned char)*cp); cp++, nfrac++) {
			if (nfrac >= 9)
				return -1; /* more precision than ms */
			frac = frac * 10 + (*cp - '0');
			fscale *= 10;
		}
		if (nfrac == 0)
			return -1;
	}
	if (ndigits == 0)
		return -1;
	if (strcasecmp(cp, "ms") == 0)
		unit = 1;
	else if (*cp == '\0' || strcasecmp(cp, "s") == 0)
		unit = CONFIG_MS_PER_S;
	else if (strcasecmp(cp, "m") == 0)
		unit = CONFIG_MS_PER_M;
	else if (strcasecmp(cp, "h") == 0)
		unit = CONFIG_MS_PER_H;
	else
		return -1;
	if (whole > CONFIG_MAX_TIME_MS / unit)
		return -2;
	/* The fraction must be a whole number of milliseconds. */
	if (nfrac > 0 && (frac * unit) % fscale != 0)
		return -1;
	*out = whole * unit + frac * unit / fscale;
	if (*out > CONFIG_MAX_TIME_MS)
		return -2;
	return 0;
}

/* Milliseconds in the largest unit that shows them exactly. */
static const char *
config_time_str(long long ms, char *buf, size_t size)
{
	if (ms != 0 && ms % CONFIG_MS_PER_H == 0)
		snprintf(buf, size, "%lldh", ms / CONFIG_MS_PER_H);
	else if (ms != 0 && ms % CONFIG_MS_PER_M == 0)
		snprintf(buf, size, "%lldm", ms / CONFIG_MS_PER_M);
	else if (ms % CONFIG_MS_PER_S == 0)
		snprintf(buf, size, "%llds", ms / CONFIG_MS_PER_S);
	else
		snprintf(buf, size, "%lldms", ms);
	return buf;
}

/*
 * A time value in min_ms..max_ms, or 0 when zero_ok (a switch that turns
 * the feature off).
 */
static int
config_time_range(struct config_parser *p, const struct config_keyword *kw,
		  const char *arg, int zero_ok, long long min_ms,
		  long long max_ms, int *out)
{
	char lo[32], hi[32];
	long long v;
	int rc;

	rc = config_time_ms(arg, &v);
	if (rc == -1) {
		config_error(p,
			     "%s: bad time \"%s\" (a number with an optional "
			     "unit ms, s, m or h, e.g. " CONFIG_TIME_FORM ")",
			     kw->name, arg);
		return -1;
	}
	if (rc == 0 && zero_ok && v == 0) {
		*out = 0;
		return 0;
	}
	if (rc == -2 || v < min_ms || v > max_ms) {
		config_error(p, "%s: %s is out of range (%s%s..%s)", kw->name,
			     arg, zero_ok ? "0 or " : "",
			     config_time_str(min_ms, lo, sizeof(lo)),
			     config_time_str(max_ms, hi, sizeof(hi)));
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* An absolute path, or "~/..." under the daemon user's home. */
char *
config_path(struct config_parser *p, const struct config_keyword *kw,
	    const char *arg)
{
	char *path;

	if (arg[0] == '/')
		path = xstrdup(arg);
	else if (arg[0] == '~' && arg[1] == '/')
		path = config_tilde(p->home, arg + 2);
	else {
		config_error(
		    p, "%s: \"%s\" is not an absolute path (use /... or ~/...)",
		    kw->name, arg);
		return NULL;
	}
	if (strlen(path) >= PATH_MAX) {
		config_error(p, "%s: path too long (max %d bytes)", kw->name,
			     PATH_MAX - 1);
		free(path);
		return NULL;
	}
	return path;
}

void
config_set_number(struct config_parser *p, const struct config_keyword *kw,
		  unsigned long long v, int apply)
{
	if (apply)
		config_table_store(kw, config_table_base(kw, p->cfg, p->scope),
				   (long long)v);
}

void
config_set_string(struct config_parser *p, const struct config_keyword *kw,
		  char *value, int apply)
{
	char **member;

	if (!apply) {
		free(value);
		return;
	}
	member =
	    (char **)(void *)((char *)config_table_base(kw, p->cfg, p->scope) +
			      kw->offset);
	free(*member);
	*member = value;
}

/*
 * Append the ssh_config patterns of argv, separated by whitespace and/or
 * commas, to *patterns.  Returns 0, or -1 after reporting an error.
 */
int
config_add_patterns(struct config_parser *p, const struct config_keyword *kw,
		    char **argv, int argc, char ***patterns, size_t *n)
{
	char *cp, *piece;
	int i, rc = 0, full = 0;

	for (i = 0; i < argc; i++) {
		cp = argv[i];
		while ((piece = strsep(&cp, ",")) != NULL) {
			if (*piece == '\0')
				continue;
			if (strcmp(piece, "!") == 0) {
				config_error(p, "%s: empty negated pattern",
					     kw->name);
				rc = -1;
				continue;
			}
			if (*n >= CONFIG_MAX_PATTERNS) {
				if (!full)
					config_error(
					    p, "%s: too many patterns (max %d)",
					    kw->name, CONFIG_MAX_PATTERNS);
				full = 1;
				rc = -1;
				continue;
			}
			*patterns = xreallocarray(*patterns, *n + 1,
						  sizeof(**patterns));
			(*patterns)[(*n)++] = xstrdup(piece);
		}
	}
	return rc;
}

/*
 * A user or group as AllowUsers, AllowGroups, SocketGroup, UserHosts and
 * GroupHosts take it: a name of letters, digits, ".", "_" and "-", or a
 * numeric id; a row with CONFIG_F_PATTERNS also takes "*" and "?".  Names are
 * not looked up here: the file must load the same whether or not the accounts
 * exist yet.
 */
int
config_account_ok(struct config_parser *p, const struct config_keyword *kw,
		  const char *arg)
{
	const char *cp;
	int digits = 1;

	if (*arg == '\0') {
		config_error(p, "%s: empty name", kw->name);
		return -1;
	}
	if (strlen(arg) > CONFIG_MAX_NAME) {
		config_error(p, "%s: name too long (max %d bytes)", kw->name,
			     CONFIG_MAX_NAME);
		return -1;
	}
	for (cp = arg; *cp != '\0'; cp++) {
		if (isdigit((unsigned char)*cp))
			continue;
		digits = 0;
		if ((kw->flags & CONFIG_F_PATTERNS) &&
		    (*cp == '*' || *cp == '?'))
			continue;
		if (!isalpha((unsigned char)*cp) && *cp != '.' && *cp != '_' &&
		    *cp != '-') {
			config_error(p,
				     "%s: bad name \"%s\" (letters, digits, "
				     "\".\", \"_\"%s, or a numeric id)",
				     kw->name, arg,
				     (kw->flags & CONFIG_F_PATTERNS)
					 ? ", \"-\", \"*\" and \"?\""
					 : " and \"-\"");
			return -1;
		}
	}
	if (digits && strtoull(arg, NULL, 10) > CONFIG_MAX_ID) {
		config_error(p, "%s: id %s is out of range (0..%llu)", kw->name,
			     arg, CONFIG_MAX_ID);
		return -1;
	}
	return 0;
}

/*
 * IdentityFile: one path a line.  The first line of a scope replaces the
 * list it had (the built-in one in the global section).
 */
static int
config_parse_paths(struct config_parser *p, const struct config_keyword *kw,
		   const char *arg, int apply)
{
	char *base = config_table_base(kw, p->cfg, p->scope), *path;
	char **list = (char **)(void *)(base + kw->offset);
	size_t *n = (size_t *)(void *)(base + kw->count);

	if ((path = config_path(p, kw, arg)) == NULL)
		return -1;
	if (apply)
		config_table_release(kw, base);
	if (*n >= kw->max) {
		config_error(p, "%s: too many files (max %d)", kw->name,
			     (int)kw->max);
		free(path);
		return -1;
	}
	list[(*n)++] = path;
	return 0;
}

/* AllowUsers / AllowGroups: every line adds its names to the list. */
static int
config_parse_names(struct config_parser *p, const struct config_keyword *kw,
		   char **argv, int argc)
{
	char *base = config_table_base(kw, p->cfg, p->scope);
	char ***list = (char ***)(void *)(base + kw->offset);
	size_t *n = (size_t *)(void *)(base + kw->count);
	int i, rc = 0;

	if (argc == 0) {
		config_error(p, "%s: missing value", kw->name);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (config_account_ok(p, kw, argv[i]) != 0) {
			rc = -1;
			continue;
		}
		if (*n >= kw->max) {
			config_error(p, "%s: too many names (max %d)", kw->name,
				     (int)kw->max);
			return -1;
		}
		*list = config_grow(*list, *n, sizeof(**list));
		(*list)[(*n)++] = xstrdup(argv[i]);
	}
	return rc;
}

int
config_parse_kind(struct config_parser *p, const struct config_keyword *kw,
		  char **argv, int argc, int apply)
{
	unsigned long long v;
	char *s;
	int ms;

	switch (kw->kind) {
	case CONFIG_KIND_NUMBER:
	case CONFIG_KIND_SIZE:
		if (config_range(p, kw, argv[0], kw->kind == CONFIG_KIND_SIZE,
				 kw->min, kw->max, &v) != 0)
			return -1;
		config_set_number(p, kw, v, apply);
		return 0;
	case CONFIG_KIND_TIME:
		if (config_time_range(
			p, kw, argv[0], (kw->flags & CONFIG_F_ZERO_OFF) != 0,
			(long long)kw->min, (long long)kw->max, &ms) != 0)
			return -1;
		config_set_number(p, kw, (unsigned long long)ms, apply);
		return 0;
	case CONFIG_KIND_PATH:
		if ((s = config_path(p, kw, argv[0])) == NULL)
			return -1;
		config_set_string(p, kw, s, apply);
		return 0;
	case CONFIG_KIND_NAME:
		if (config_account_ok(p, kw, argv[0]) != 0)
			return -1;
		config_set_string(p, kw, xstrdup(argv[0]), apply);
		return 0;
	case CONFIG_KIND_PATHS:
		return config_parse_paths(p, kw, argv[0], apply);
	case CONFIG_KIND_NAMES:
		return config_parse_names(p, kw, argv, argc);
	default:
		fatalx("%s: %s has no parser", __func__, kw->name);
	}
	return -1;
}

/* Bytes in the largest unit (G, M, K) that shows them exactly. */
static const char *
config_size_str(unsigned long long v, char *buf, size_t size)
{
	static const char units[] = "GMK";
	unsigned long long mult = 1024ULL * 1024 * 1024;
	size_t i;

	for (i = 0; i < sizeof(units) - 1; i++, mult /= 1024) {
		if (v != 0 && v % mult == 0) {
			snprintf(buf, size, "%llu%c", v / mult, units[i]);
			return buf;
		}
	}
	snprintf(buf, size, "%llu", v);
	return buf;
}

/* Where the named keyword was taken in a scope (0 = not given there). */
static int
config_line_of(const int *lines, const char *name)
{
	const struct config_keyword *kw = config_table_find(name);

	if (kw == NULL)
		fatalx("%s: no keyword %s", __func__, name);
	return lines[kw - config_table];
}

/*
 * When the global section ends (the first Host line or the end of the
 * file): the client queue thresholds must rise strictly.  The error names
 * the last line that set one of them.
 */
static void
config_check_queue(struct config_parser *p)
{
	const struct config *cfg = p->cfg;
	unsigned long long low, high, hard;
	char l[32], h[32], x[32];
	int line, saved = p->line, low_line, high_line, hard_line;

	low = cfg->client_queue_low;
	high = cfg->client_queue_high;
	hard = cfg->client_queue_hard;
	if (low < high && high < hard)
		return;
	low_line = config_line_of(p->global_lines, "ClientQueueLowWater");
	high_line = config_line_of(p->global_lines, "ClientQueueHighWater");
	hard_line = config_line_of(p->global_lines, "ClientQueueHardLimit");
	line = low_line;
	if (high_line > line)
		line = high_line;
	if (hard_line > line)
		line = hard_line;
	p->line = line;
	config_error(p,
		     "ClientQueueLowWater < ClientQueueHighWater < "
		     "ClientQueueHardLimit is required (%s, %s, %s)",
		     config_size_str(low, l, sizeof(l)),
		     config_size_str(high, h, sizeof(h)),
		     config_size_str(hard, x, sizeof(x)));
	p->line = saved;
}

/*
 * When a scope (the global section or a Host block) ends: its reconnect
 * delays, completed from the global section, must not be reversed.  The
 * error names the later line of the scope that set one.  Hosts that match
 * several blocks may still combine a base from one block with a maximum
 * from another; the daemon bounds the base by the maximum.
 */
static void
config_check_delays(struct config_parser *p)
{
	const struct config_host_opts *g = &p->cfg->global, *o = p->scope;
	const int *lines = p->in_host ? p->block_lines : p->global_lines;
	long long base, max;
	char b[32], m[32];
	int line, saved = p->line, base_line, max_line;

	base_line = config_line_of(lines, "ReconnectBaseDelay");
	max_line = config_line_of(lines, "ReconnectMaxDelay");
	if (base_line == 0 && max_line == 0)
		return;
	base = o->reconnect_base_delay_ms;
	max = o->reconnect_max_delay_ms;
	if (base == 0)
		base = g->reconnect_base_delay_ms;
	if (max == 0)
		max = g->reconnect_max_delay_ms;
	line = base_line > max_line ? base_line : max_line;
	if (base <= max)
		return;
	p->line = line;
	config_error(p,
		     "ReconnectBaseDelay must not exceed ReconnectMaxDelay "
		     "(%s > %s)",
		     config_time_str(base, b, sizeof(b)),
		     config_time_str(max, m, sizeof(m)));
	p->line = saved;
}

/*
 * When the global section ends: a request carrying MaxStdinBytes of stdin
 * (base64 in the line, section 1.1 of PROTOCOL.md) plus CONFIG_LINE_ROOM
 * for the rest of it must fit in MaxLineLength.  Without an explicit
 * MaxStdinBytes the default shrinks to what fits; an explicit one that
 * does not fit is an error naming both.
 */
static void
config_check_stdin(struct config_parser *p)
{
	struct config *cfg = p->cfg;
	size_t room, fits;
	char s[32], l[32], f[32];
	int saved = p->line, stdin_line, line_line;

	room = cfg->max_line > CONFIG_LINE_ROOM
		   ? cfg->max_line - CONFIG_LINE_ROOM
		   : 0;
	fits = room / 4 * 3;
	if (cfg->max_stdin <= fits)
		return;
	stdin_line = config_line_of(p->global_lines, "MaxStdinBytes");
	if (stdin_line == 0) {
		cfg->max_stdin = fits;
		return;
	}
	line_line = config_line_of(p->global_lines, "MaxLineLength");
	p->line = stdin_line > line_line ? stdin_line : line_line;
	config_error(p,
		     "MaxStdinBytes %s does not fit in MaxLineLength %s "
		     "(base64 and %uK for the rest of the request allow at "
		     "most %s)",
		     config_size_str(cfg->max_stdin, s, sizeof(s)),
		     config_size_str(cfg->max_line, l, sizeof(l)),
		     CONFIG_LINE_ROOM / 1024,
		     config_size_str(fits, f, sizeof(f)));
	p->line = saved;
}

void
config_scope_end(struct config_parser *p)
{
	config_check_delays(p);
	if (!p->global_done) {
		p->global_done = 1;
		config_check_queue(p);
		config_check_stdin(p);
	}
}

/*
 * Split line in place into the keyword and its arguments.  The keyword ends
 * at whitespace or "=" (one "=" may separate it from the value).  Double
 * quotes group words and are removed; "#" at the start of an argument ends
 * the line.  Returns the argument count (0 for a blank or comment line) or
 * -1 after reporting an error.
 */
static int
config_split(struct config_parser *p, char *line, char **argv)
{
	char *cp = line, *out;
	int argc = 0, quoted;

#define CONFIG_SPACE(c) ((c) == ' ' || (c) == '\t' || (c) == '\r')
	while (CONFIG_SPACE(*cp))
		cp++;
	if (*cp == '\0' || *cp == '#')
		return 0;

	argv[argc++] = cp;
	while (*cp != '\0' && !CONFIG_SPACE(*cp) && *cp != '=' && *cp != '"')
		cp++;
	if (*cp == '"') {
		config_error(p, "quote in keyword");
		return -1;
	}
	if (cp == argv[0]) {
		config_error(p, "missing keyword");
		return -1;
	}
	if (*cp != '\0') {
		if (*cp == '=') {
			*cp++ = '\0';
		} else {
			*cp++ = '\0';
			while (CONFIG_SPACE(*cp))
				cp++;
			if (*cp == '=')
				cp++;
		}
	}

	for (;;) {
		while (CONFIG_SPACE(*cp))
			cp++;
		if (*cp == '\0' || *cp == '#')
			break;
		argv[argc++] = out = cp;
		quoted = 0;
		while (*cp != '\0' && (quoted || !CONFIG_SPACE(*cp))) {
			if (*cp == '"') {
				quoted = !quoted;
				cp++;
				continue;
			}
			*out++ = *cp++;
		}
		if (quoted) {
			config_error(p, "unterminated quote");
			return -1;
		}
		if (*cp != '\0')
			cp++;
		*out = '\0';
	}
#undef CONFIG_SPACE
	return argc;
}

static void
config_line(struct config_parser *p, char *line)
{
	const struct config_keyword *kw;
	config_parse_fn *parse;
	int argc, *lines;
	size_t i;

	if ((argc = config_split(p, line, p->argv)) <= 0)
		return;
	if ((kw = config_table_find(p->argv[0])) == NULL) {
		config_error(p, "unknown keyword \"%s\"", p->argv[0]);
		return;
	}
	if (kw->scope == CONFIG_SCOPE_GLOBAL && p->in_host) {
		config_error(p, "%s is not allowed in a Host block", kw->name);
		return;
	}
	if (argc < 2 && !config_table_many(kw)) {
		config_error(p, "%s: missing value", kw->name);
		return;
	}
	if (argc > 2 && !config_table_many(kw)) {
		config_error(p, "%s: extra argument \"%s\"", kw->name,
			     p->argv[2]);
		return;
	}
	i = (size_t)(kw - config_table);
	lines = p->in_host ? p->block_lines : p->global_lines;
	parse = kw->parse != NULL ? kw->parse : config_parse_kind;
	if (parse(p, kw, p->argv + 1, argc - 1, lines[i] == 0) == 0 &&
	    lines[i] == 0)
		lines[i] = p->line;
}

/*
 * One line into p->buf.  Returns 1 for a line, 0 at end of file, -1 for a
 * line longer than CONFIG_MAX_LINE (skipped to its end), -2 on a read error.
 * Reading byte by byte keeps memory bounded whatever the file holds.
 */
static int
config_getline(FILE *f, char *buf, size_t *lenp)
{
	size_t len = 0;
	int c, toolong = 0;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (len == CONFIG_MAX_LINE)
			toolong = 1;
		else
			buf[len++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return -2;
	if (c == EOF && len == 0 && !toolong)
		return 0;
	buf[len] = '\0';
	*lenp = len;
	return toolong ? -1 : 1;
}

static void
config_parse_file(struct config_parser *p, FILE *f)
{
	size_t len;
	int rc;

	while (!p->stop) {
		p->line++;
		rc = config_getline(f, p->buf, &len);
		if (rc == 0)
			break;
		if (rc == -2) {
			config_error(p, "read error: %s", strerror(errno));
			break;
		}
		if (rc == -1) {
			config_error(p, "line too long (max %d bytes)",
				     CONFIG_MAX_LINE);
			continue;
		}
		if (strlen(p->buf) != len) {
			config_error(p, "NUL byte in line");
			continue;
		}
		config_line(p, p->buf);
	}
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct config_parser *p;
	struct config *cfg;
	FILE *f;
	char *user;
	size_t nerrors;

	cfg = config_default();
	cfg->path = xstrdup(path);

	p = xcalloc(1, sizeof(*p));
	p->path = path;
	p->cfg = cfg;
	p->errs = errs;
	p->scope = &cfg->global;
	p->global_lines = xcalloc(config_table_n, sizeof(*p->global_lines));
	p->block_lines = xcalloc(config_table_n, sizeof(*p->block_lines));
	config_host_opts_init(&p->discard);
	config_whoami(&user, &p->home);
	free(user);

	if ((f = fopen(path, "re")) == NULL)
		config_error(p, "%s", strerror(errno));
	else {
		config_parse_file(p, f);
		fclose(f);
		p->line = 0;
		config_scope_end(p);
	}

	nerrors = p->nerrors;
	config_host_opts_free(&p->discard);
	free(p->global_lines);
	free(p->block_lines);
	free(p->home);
	free(p);
	if (nerrors > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/*
 * Glob match of pat (len bytes, "*" and "?") against s, ignoring ASCII case
 * like ssh_config does for host names.  Iterative: a "*" only remembers
 * where to resume, so patterns like "*a*a*a*b" cannot explode.
 */
static int
config_glob(const char *pat, size_t len, const char *s)
{
	size_t pi = 0, star = (size_t)-1;
	const char *resume = NULL;

	while (*s != '\0') {
		if (pi < len && pat[pi] == '*') {
			star = pi++;
			resume = s;
		} else if (pi < len &&
			   (pat[pi] == '?' || tolower((unsigned char)pat[pi]) ==
						  tolower((unsigned char)*s))) {
			pi++;
			s++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			s = ++resume;
		} else
			return 0;
	}
	while (pi < len && pat[pi] == '*')
		pi++;
	return pi == len;
}

int
config_match_patterns(char *const *patterns, size_t n, const char *host)
{
	const char *cp, *end;
	size_t i, len;
	int matched = 0, negated;

	if (host == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		for (cp = patterns[i]; cp != NULL; cp = end) {
			if ((end = strchr(cp, ',')) != NULL)
				len = end++ - cp;
			else
				len = strlen(cp);
			negated = len > 0 && *cp == '!';
			if (negated) {
				cp++;
				len--;
			}
			if (len == 0 || !config_glob(cp, len, host))
				continue;
			/* A negated match excludes the host outright. */
			if (negated)
				return 0;
			matched = 1;
		}
	}
	return matched;
}

const char *
config_strict_name(int strict)
{
	switch (strict) {
	case CONFIG_STRICT_YES:
		return "yes";
	case CONFIG_STRICT_ACCEPT_NEW:
		return "accept-new";
	default:
		return "unknown";
	}
}

const struct config_group *
config_group_find(const struct config *cfg, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < cfg->n_groups; i++) {
		if (strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	}
	return NULL;
}

void
config_proto_limits(const struct config *cfg, struct proto_limits *lim)
{
	lim->max_line = cfg->max_line;
	lim->max_hosts = cfg->max_hosts;
	lim->max_stdin = cfg->max_stdin;
	lim->max_env = cfg->max_env;
	lim->max_depth = cfg->max_json_depth;
}

int
config_agent_timeout_ms(const struct config *cfg)
{
	return cfg->agent_timeout_ms;
}
