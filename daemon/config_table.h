/* SPDX-License-Identifier: ISC */
/*
 * The configuration keywords as data, shared by the files of the
 * configuration module (and its tests): one row per keyword with its scope,
 * kind, range, default and the member it sets.  Parsing, defaults, the
 * merging of Host blocks over the global section and freeing all read the
 * rows, so a keyword's default and range are written once, in its row.
 */
#ifndef SSHPOOL_CONFIG_TABLE_H
#define SSHPOOL_CONFIG_TABLE_H

#include <stddef.h>

#include "config.h"

#define CONFIG_MS_PER_S 1000
#define CONFIG_MS_PER_M (60 * CONFIG_MS_PER_S)
#define CONFIG_MS_PER_H (60 * CONFIG_MS_PER_M)
#define CONFIG_MAX_TIME_MS (24LL * CONFIG_MS_PER_H) /* any time value */
#define CONFIG_MAX_ARGS (CONFIG_MAX_LINE / 2 + 1)
#define CONFIG_MAX_NAME 64 /* bytes of a user, group or HostGroup name */

enum config_scope {
	CONFIG_SCOPE_GLOBAL, /* global section only; a struct config member */
	CONFIG_SCOPE_BOTH,   /* global section and Host blocks; a member of
				struct config_host_opts */
	CONFIG_SCOPE_ANY     /* Host itself */
};

enum config_kind {
	CONFIG_KIND_NUMBER, /* decimal integer in min..max */
	CONFIG_KIND_SIZE,   /* integer with an optional K, M or G suffix */
	CONFIG_KIND_TIME,   /* time value, stored in milliseconds */
	CONFIG_KIND_ENUM,   /* a name; parse maps it to a number in min..max */
	CONFIG_KIND_PATH,   /* absolute path or ~/... */
	CONFIG_KIND_STRING, /* free text that parse checks */
	CONFIG_KIND_NAME,   /* a user or group name or numeric id */
	CONFIG_KIND_PATHS,  /* list of paths, one a line, at most max; the
			       first line of a scope replaces the default */
	CONFIG_KIND_NAMES,  /* list of names, several a line, accumulated,
			       at most max */
	CONFIG_KIND_CUSTOM  /* parse does everything, several arguments */
};

/* C type of the member a number, size, time or enum keyword sets. */
enum config_ctype { CONFIG_CTYPE_OTHER, CONFIG_CTYPE_INT, CONFIG_CTYPE_SIZE };

/* A time keyword that also takes 0, which turns its feature off. */
#define CONFIG_F_ZERO_OFF 0x1
/* A list of names that also takes the patterns "*" and "?". */
#define CONFIG_F_PATTERNS 0x2

struct config_parser;
struct config_keyword;
typedef int config_parse_fn(struct config_parser *,
			    const struct config_keyword *, char **argv,
			    int argc, int apply);

/*
 * A row.  offset is the member's place in struct config (GLOBAL) or in
 * struct config_host_opts (BOTH), count that of a list's length.  parse,
 * when set, replaces the kind's parser: it checks argv and stores through
 * the config_set_* helpers when apply is set (the first value of the
 * keyword in its scope).  In Host blocks a number is unset at -1 when 0 is
 * one of its values, else at 0 (config_table_unset).
 */
struct config_keyword {
	const char *name;
	enum config_scope scope;
	enum config_kind kind;
	unsigned flags; /* CONFIG_F_* */
	unsigned long long min, max;
	unsigned long long def; /* default of a number, size, time or enum */
	size_t offset;
	enum config_ctype ctype;
	size_t count;
	config_parse_fn *parse;
};

/* Sorted case-insensitively by name; searched with bsearch. */
extern const struct config_keyword config_table[];
extern const size_t config_table_n;

const struct config_keyword *config_table_find(const char *name);
/* The value of a BOTH number member that a Host block left unset. */
long long config_table_unset(const struct config_keyword *);
/* 1 if the keyword takes several arguments. */
int config_table_many(const struct config_keyword *);
/* 1 for a number, size, time or enum: a member with a numeric default. */
int config_table_numeric(const struct config_keyword *);
/* The struct a row's member lives in: cfg (GLOBAL) or opts (BOTH). */
void *config_table_base(const struct config_keyword *, struct config *cfg,
			struct config_host_opts *opts);
/* Write / read a numeric member of base. */
void config_table_store(const struct config_keyword *, void *base, long long v);
long long config_table_load(const struct config_keyword *, const void *base);
/* Free the string or list a row's member of base holds, and clear it. */
void config_table_release(const struct config_keyword *, void *base);

struct config_parser {
	const char *path;
	int line;
	struct config *cfg;
	struct config_errors *errs;
	size_t nerrors;
	int stop; /* too many errors: give up */

	char *home;                     /* "~/" expands to this */
	struct config_host_opts *scope; /* global, a block or discard */
	int in_host;
	/* Per keyword (config_table order): the line where its value was
	 * taken, 0 when not yet, in the global section and in the current
	 * Host block. */
	int *global_lines;
	int *block_lines;
	struct config_host_opts discard; /* a Host block over the limit */
	int blocks_full;
	int global_done; /* the global section's checks were made */

	char buf[CONFIG_MAX_LINE + 1];
	char *argv[CONFIG_MAX_ARGS];
};

/* Shared by the kinds' parsers and the rows' own. */
void config_error(struct config_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void *config_grow(void *, size_t n, size_t size);
char *config_tilde(const char *home, const char *rest);
char *config_path(struct config_parser *, const struct config_keyword *,
		  const char *arg);
int config_account_ok(struct config_parser *, const struct config_keyword *,
		      const char *arg);
int config_add_patterns(struct config_parser *, const struct config_keyword *,
			char **argv, int argc, char ***patterns, size_t *n);
/* The end of the global section or of a Host block: its checks. */
void config_scope_end(struct config_parser *);
/* Store a number / take ownership of a string, when apply is set. */
void config_set_number(struct config_parser *, const struct config_keyword *,
		       unsigned long long v, int apply);
void config_set_string(struct config_parser *, const struct config_keyword *,
		       char *value, int apply);
/* The kinds' parser, used by every row without its own. */
int config_parse_kind(struct config_parser *, const struct config_keyword *,
		      char **argv, int argc, int apply);

/* config_host.c: a struct config_host_opts with every member unset. */
void config_host_opts_init(struct config_host_opts *);
void config_host_opts_free(struct config_host_opts *);

#endif
