/* SPDX-License-Identifier: ISC */
/*
 * Compact host lists for the sshpool CLI: fold names that differ in one
 * number into bracketed ranges ("web1,web2,web3" -> "web[1-3]"), the form
 * clush -b and dshbak -c print.  The result is itself a valid host pattern,
 * so it can be pasted back into -H.
 */
#ifndef SSHPOOL_HOSTLIST_H
#define SSHPOOL_HOSTLIST_H

#include <stddef.h>

/*
 * Fold n names into one comma-separated string (malloc'ed; NULL when out of
 * memory).  Names that share everything but one run of digits become one
 * range; zero-padded numbers keep their width.  Output order is sorted.
 */
char *hostlist_fold(const char *const *names, size_t n);

#endif
