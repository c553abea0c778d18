#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Checks of what gets installed, run by ctest (label "packaging"):
#
#   packaging.sh docs SRCDIR BUILDDIR
#	the manual pages lint clean (mandoc), sshpoold.conf(5) and the example
#	configuration name every keyword of the parser and no other, and the
#	systemd units pass "systemd-analyze verify" and rate at most
#	SECURITY_MAX in "systemd-analyze security".
#   packaging.sh deb SRCDIR WORKDIR
#	configures and builds a /usr-prefix tree in WORKDIR, makes the .deb with
#	cpack, and checks its file list, control data, maintainer scripts,
#	binaries, units and (when lintian is installed) that lintian reports no
#	error.
#
# Exits 77 (skipped) when a required tool is missing.

set -eu

# systemd-analyze security exposure, in tenths (1.2 today; "OK" ends at 4.9).
SECURITY_MAX=20
SKIP=77

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || {
		echo "SKIP: $1 is not installed" >&2
		exit $SKIP
	}
}

# Keywords of the parser's table, one row each: {"Keyword", ...
parser_keywords() {
	sed -n 's/^[[:space:]]*{"\([A-Za-z]*\)",.*/\1/p' \
	    "$1/daemon/config_table.c" | sort -u
}

# Units with ExecStart pointing at a given binary, in a scratch directory.
check_units() {
	unitdir=$1 sbin=$2 manpath=$3 scratch=$4
	command -v systemd-analyze >/dev/null 2>&1 || {
		echo "note: systemd-analyze missing, units not verified" >&2
		return 0
	}
	rm -rf "$scratch" && mkdir -p "$scratch"
	sed "s|/usr/sbin/sshpoold|$sbin|" "$unitdir/sshpoold.service" \
	    >"$scratch/sshpoold.service"
	cp "$unitdir/sshpoold.socket" "$scratch/"
	# Documentation=man:... is checked only against installed pages.
	if [ -n "$manpath" ]; then
		man="--man=yes"
	else
		man="--man=no"
	fi
	(cd "$scratch" && MANPATH=$manpath systemd-analyze verify $man \
	    ./sshpoold.socket ./sshpoold.service) ||
	    fail "systemd-analyze verify"
	out=$(cd "$scratch" && systemd-analyze security --offline=yes \
	    --threshold=$SECURITY_MAX ./sshpoold.service) ||
	    fail "exposure above $SECURITY_MAX/10: $(echo "$out" | tail -n 1)"
	echo "$out" | tail -n 1
	rm -rf "$scratch"
}

docs() {
	src=$1 build=$2
	for page in "$src"/man/*.[1-8]; do
		if command -v mandoc >/dev/null 2>&1; then
			out=$(mandoc -T lint -W warning "$page" 2>&1) ||
			    fail "mandoc: $out"
			[ -z "$out" ] || fail "mandoc: $out"
		fi
		MANWIDTH=80 man -l "$page" >/dev/null 2>&1 ||
		    fail "man -l $page"
	done

	parser_keywords "$src" >"$build/kw.parser"
	[ "$(wc -l <"$build/kw.parser")" -ge 40 ] ||
	    fail "found only $(wc -l <"$build/kw.parser") keywords in config_table.c"
	sed -n 's/^\.It Cm \([A-Z][A-Za-z]*\).*/\1/p' \
	    "$src/man/sshpoold.conf.5" | sort -u >"$build/kw.man"
	# The manual may name the values yes / accept-new too: only keywords
	# of the parser's spelling count.
	missing=$(comm -23 "$build/kw.parser" "$build/kw.man")
	extra=$(comm -13 "$build/kw.parser" "$build/kw.man")
	[ -z "$missing" ] || fail "sshpoold.conf.5 lacks: $missing"
	[ -z "$extra" ] || fail "sshpoold.conf.5 documents unknown: $extra"
	while read -r kw; do
		grep -Eqi "^#?[[:space:]]*$kw([[:space:]]|=|\$)" \
		    "$src/conf/sshpoold.conf" ||
		    fail "conf/sshpoold.conf does not mention $kw"
	done <"$build/kw.parser"
	rm -f "$build/kw.parser" "$build/kw.man"

	[ -x "$build/daemon/sshpoold" ] || fail "no $build/daemon/sshpoold"
	check_units "$src/systemd" "$build/daemon/sshpoold" "" \
	    "$build/units-check"
	echo "docs: ok"
}

# Regular files and links the package must hold, as regexes over
# "dpkg-deb -c" paths; each must match exactly one entry, and nothing else
# may be there.
EXPECTED='
^\./etc/sshpool/sshpoold\.conf$
^\./(usr/)?lib/systemd/system/sshpoold\.service$
^\./(usr/)?lib/systemd/system/sshpoold\.socket$
^\./usr/lib/sysusers\.d/sshpool\.conf$
^\./usr/lib/tmpfiles\.d/sshpool\.conf$
^\./usr/sbin/sshpoold$
^\./usr/bin/sshpool$
^\./usr/include/sshpool\.h$
^\./usr/lib/[a-z0-9_-]+/libsshpool\.so\.0\.[0-9]+\.[0-9]+$
^\./usr/lib/[a-z0-9_-]+/libsshpool\.so\.0$
^\./usr/lib/[a-z0-9_-]+/libsshpool\.so$
^\./usr/lib/[a-z0-9_-]+/libsshpool\.a$
^\./usr/lib/[a-z0-9_-]+/pkgconfig/sshpool\.pc$
^\./usr/share/doc/sshpool/copyright$
^\./usr/share/doc/sshpool/changelog\.gz$
^\./usr/share/doc/sshpool/README\.md$
^\./usr/share/doc/sshpool/sshpoold\.conf$
^\./usr/share/man/man1/sshpool\.1\.gz$
^\./usr/share/man/man3/libsshpool\.3\.gz$
^\./usr/share/man/man5/sshpoold\.conf\.5\.gz$
^\./usr/share/man/man8/sshpoold\.8\.gz$
^\./usr/share/bash-completion/completions/sshpool$
'

deb() {
	src=$1 work=$2
	need cpack
	need dpkg-deb
	mkdir -p "$work"
	cmake -S "$src" -B "$work/build" -DCMAKE_INSTALL_PREFIX=/usr \
	    -DSSHPOOL_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$work/build" -j2 >/dev/null
	rm -rf "$work/out"
	(cd "$work/build" && cpack -G DEB -B "$work/out" >/dev/null)
	set -- "$work"/out/sshpool_*.deb
	[ $# -eq 1 ] && [ -f "$1" ] || fail "cpack made no single .deb"
	pkg=$1
	echo "package: $pkg"

	dpkg-deb -c "$pkg" | awk '$1 !~ /^d/ { print $6 }' >"$work/files"
	n=0
	for re in $EXPECTED; do
		n=$((n + 1))
		c=$(grep -Ec "$re" "$work/files" || true)
		[ "$c" -eq 1 ] || fail "$c entries match $re"
	done
	[ "$(wc -l <"$work/files")" -eq $n ] ||
	    fail "unexpected files: $(cat "$work/files")"

	[ "$(dpkg-deb -f "$pkg" Package)" = sshpool ] || fail "Package"
	deps=$(dpkg-deb -f "$pkg" Depends)
	for d in libssh-4 'libevent-(core-)?2\.1-7' libevent-pthreads-2.1-7 \
	    libjson-c5 libssl3 openssh-client procps; do
		echo "$deps" | grep -Eq "(^|, )$d( |,|\$)" ||
		    fail "Depends lacks $d: $deps"
	done
	rm -rf "$work/control" "$work/root"
	dpkg-deb -e "$pkg" "$work/control"
	grep -qx /etc/sshpool/sshpoold.conf "$work/control/conffiles" ||
	    fail "conffiles: $(cat "$work/control/conffiles")"
	for s in postinst prerm postrm; do
		[ -x "$work/control/$s" ] || fail "$s missing or not executable"
		sh -n "$work/control/$s" || fail "$s: syntax"
		! grep -q '@[A-Z_]*@' "$work/control/$s" ||
		    fail "$s: unsubstituted variable"
	done
	grep -q 'systemd-sysusers /usr/lib/sysusers.d/sshpool.conf' \
	    "$work/control/postinst" || fail "postinst: sysusers path"

	dpkg-deb -x "$pkg" "$work/root"
	root=$work/root
	copyright=$root/usr/share/doc/sshpool/copyright
	grep -qx 'License: ISC' "$copyright" || fail "copyright: no ISC licence"
	grep -q '^ Permission to use, copy, modify' "$copyright" ||
	    fail "copyright: no licence text"
	v=$("$root/usr/sbin/sshpoold" -V) || fail "sshpoold -V"
	echo "$v" | grep -q '^sshpoold [0-9]' || fail "sshpoold -V: $v"
	libdir=$(dirname "$(ls "$root"/usr/lib/*/libsshpool.so.0)")
	v=$(LD_LIBRARY_PATH=$libdir "$root/usr/bin/sshpool" -V) ||
	    fail "sshpool -V"
	echo "$v" | grep -q '^sshpool [0-9]' || fail "sshpool -V: $v"
	LD_LIBRARY_PATH=$libdir ldd "$root/usr/bin/sshpool" |
	    grep -q "libsshpool.so.0 => $libdir/" || fail "sshpool: library"
	unitdir=$(dirname "$(ls "$root"/lib/systemd/system/sshpoold.service \
	    "$root"/usr/lib/systemd/system/sshpoold.service 2>/dev/null |
	    head -n 1)")
	grep -q '^ExecStart=/usr/sbin/sshpoold ' "$unitdir/sshpoold.service" ||
	    fail "ExecStart"
	check_units "$unitdir" "$root/usr/sbin/sshpoold" "$root/usr/share/man" \
	    "$work/units"
	if command -v mandoc >/dev/null 2>&1; then
		for page in "$root"/usr/share/man/man*/*.gz; do
			out=$(mandoc -T lint -W warning "$page" 2>&1) ||
			    fail "mandoc $page: $out"
		done
	fi

	if command -v lintian >/dev/null 2>&1; then
		lintian "$pkg" >"$work/lintian" 2>&1 || true
		cat "$work/lintian"
		! grep -q '^E:' "$work/lintian" || fail "lintian errors"
	else
		echo "note: lintian missing, not run" >&2
	fi
	echo "deb: ok"
}

[ $# -eq 3 ] || {
	echo "usage: $0 docs|deb SRCDIR DIR" >&2
	exit 2
}
case $1 in
docs) docs "$2" "$3" ;;
deb) deb "$2" "$3" ;;
*) fail "unknown mode $1" ;;
esac
