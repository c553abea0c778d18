#!/bin/bash
# SPDX-License-Identifier: ISC
#
# A fleet of real OpenSSH servers on loopback for the integration tests.
#
#   fleet.sh start DIR [--hosts N] [--instances K]
#   fleet.sh stop DIR
#   fleet.sh env DIR          (prints "export NAME='value'" lines for eval)
#   fleet.sh tinyssh-start DIR PUBKEY
#   fleet.sh tinyssh-stop DIR
#   fleet.sh dropbear-start DIR PUBKEY
#   fleet.sh dropbear-stop DIR
#   fleet.sh auth-start DIR
#   fleet.sh auth-stop DIR
#   fleet.sh jump-start DIR [--targets N]
#   fleet.sh jump-stop DIR
#
# start creates DIR (mode 0711) with host keys (ed25519, ecdsa, rsa), a user
# key pair allowed by DIR/auth/authorized_keys, a second user key that is not
# allowed, a second set of host keys for "changed key" tests, a known_hosts
# file naming every fleet address as "[127.0.0.X]:PORT", and one sshd_config
# per sshd process.  Hosts are the addresses 127.0.0.2, 127.0.0.3, ... all on
# one free high port; one sshd process listens on at most 16 addresses, so N
# hosts need at least ceil(N/16) instances.  One more sshd, on a port of its
# own, listens on the IPv6 loopback ::1 with the same host keys (known_hosts
# names it "[::1]:PORT6"); on a machine without IPv6 it is left out and
# FLEET_V6_PORT is empty.  One more sshd, on 127.0.0.253 and the fleet's
# port, allows one session per connection (MaxSessions 1) and logs at INFO,
# so tests can read how each connection ended (FLEET_MS1_HOST).  Every sshd runs as the invoking user.  Started by
# root, the fleet is logged into as the system user sshpool-fleet (created
# on first use, shell /bin/sh); started by another user, sshd can only log
# that user in.  When every address accepts TCP and a real ssh login
# succeeds, DIR/fleet.env records the fleet for the tests.
#
# stop signals exactly the processes named by the pid files start wrote
# (after checking that each still is that sshd), waits for them, and removes
# nothing else.
#
# tinyssh-start (root only; off unless asked for) starts one TinySSH host:
# tcpserver on 127.0.0.1 and a free port runs tinysshd per connection as
# the system user sshpool-tinyssh, whose home /var/lib/sshpool-tinyssh
# (outside /tmp: tinysshd refuses keys under a world-writable path) holds .ssh/
# authorized_keys with PUBKEY (tinysshd reads only that file).  Its host key
# (ed25519, from tinysshd-makekey) is in DIR/keys; DIR/tinyssh.env records
# TINYSSH_USER, TINYSSH_ADDR and TINYSSH_PORT.  tinyssh-stop ends that
# tcpserver and the tinysshd processes of its connections.
# dropbear-start (root only) starts one Dropbear host (dropbear -F -E -s) on
# 127.0.0.1 and a free port for the same user and home, its ed25519 host
# key in DIR/dropbear_key; DIR/dropbear.env records DROPBEAR_USER,
# DROPBEAR_ADDR and DROPBEAR_PORT.  dropbear-stop ends it and its sessions.
# auth-start (root only) starts one more OpenSSH sshd for the
# authentication tests on 127.0.0.240-244 and a free port, one method set
# per address (Match LocalAddress): .240 password only, .241
# keyboard-interactive only, .242 publickey then password
# (AuthenticationMethods publickey,password), .243 certificates signed by a
# CA made here only (no authorized_keys), .244 publickey or password.  Its
# login user sshpool-auth (created on first use) gets a new random password
# each start (chpasswd), written to DIR/password (0600).  sshd runs with
# PAM (keyboard-interactive needs it) under the service name of the link
# DIR/sshpool-auth-sshd, whose /etc/pam.d file auth-start writes and
# auth-stop removes: pam_unix only, so nothing of the system's sshd stack
# (pam_loginuid and the like, which fail in containers) is involved.
# DIR/auth.env records the rest; auth-stop ends the sshd named by its pid
# file and its sessions.
# jump-start (root only) builds jump hosts: a network namespace of its own,
# sshpool-jump-PID (named in DIR/jump.netns), with loopback up and a veth
# pair spjPIDr (root side, DIR/jump.veth) / spjPIDn on a /30 of 10.231.X.0
# that no address or route of the root namespace mentions: .1 the root
# side, .2 the namespace's.  Inside it run, as sshd processes of their own
# (DIR/jump-sshd.NAME.{conf,pid,log}, LogLevel VERBOSE, so each log names
# the client address of every connection): the bastion on .2 and a free
# port (AllowTcpForwarding yes), hop 2 on the namespace's 127.0.0.2 and the
# same port (reachable from inside only), a bastion without forwarding on
# .2 and the next port, and N targets (default 3, at most 200) on
# 127.0.0.3, 127.0.0.4, ... and that port, which nothing of the root
# namespace listens on: from there a target is refused, and a target's log
# shows connections from namespace addresses.  The bastions share a host
# key and authorize the bastion user key; the targets share another host
# key and authorize the target user key.  The login user is the fleet's
# (sshpool-fleet).  DIR/jump_known_hosts names every sshd as
# "[ADDR]:PORT", DIR/jump_ssh_config holds what an OpenSSH client needs
# (ProxyJump passes only -F on to the jump's ssh) and DIR/jump.env records
# the rest.  A login through the bastion on the first and the last target
# ends the start.  jump-stop ends the sshd processes named by the pid files
# (after checking each still is that sshd), their sessions and whatever
# else runs in the namespace, then deletes the veth pair and the namespace;
# it does nothing a second time, and a failed start runs it.
#
# Exit status: 0 ok, 1 error, 2 usage, 3 sshd runs but refuses the login
# (typically a locked account: with UsePAM no, a password field starting
# with "!" is refused; "*" works).

set -euo pipefail

readonly SSHD=/usr/sbin/sshd
readonly ADDRS_PER_SSHD=16	# one sshd process listens on at most 16
readonly FIRST_OCTET=2		# 127.0.0.2 is the first host
readonly DEAD_OCTET=254		# an address where nothing listens
readonly MS1_OCTET=253		# the MaxSessions 1 host
readonly MS1_INSTANCE=ms1	# names its sshd.ms1.{conf,pid,log}
readonly V6_ADDR=::1		# the IPv6 host
readonly V6_INSTANCE=v6		# names its sshd.v6.{conf,pid,log}
# As root the fleet is logged into as this system user, whose shell is
# /bin/sh: a command then costs what it costs, not the start-up files of
# root's interactive shell (which sshd's bash sources).
readonly FLEET_LOGIN=sshpool-fleet
readonly MAX_HOSTS=$((MS1_OCTET - FIRST_OCTET))
readonly PORT_MIN=22000
readonly PORT_SPAN=8000
readonly PORT_TRIES=50
readonly START_TRIES=3
readonly READY_WAIT_S=10
readonly STOP_WAIT_S=10

me=${0##*/}

die() {
	echo "$me: $*" >&2
	exit 1
}

usage() {
	echo "usage: $me start|stop|env DIR [--hosts N] [--instances K]" >&2
	echo "       $me jump-start DIR [--targets N] | jump-stop DIR" >&2
	exit 2
}

# Succeeds when PORT can be bound on every address given (SO_REUSEADDR, as
# sshd binds, so TIME_WAIT leftovers do not matter).
port_free() {
	python3 - "$@" <<'EOF'
import socket, sys
port = int(sys.argv[1])
for addr in sys.argv[2:]:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
}

# Succeeds when the machine has the IPv6 loopback: a socket binds to ::1.
have_v6() {
	python3 - "$V6_ADDR" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
try:
    s.bind((sys.argv[1], 0))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

# The command prefix wait_ready runs its probe under: empty for the root
# network namespace, "ip netns exec NAME" for another (see wait_ready_in).
ns_exec=()

# Waits (bounded) until every address accepts TCP on PORT.
wait_ready() {
	${ns_exec[@]+"${ns_exec[@]}"} python3 - "$READY_WAIT_S" "$@" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
port = int(sys.argv[2])
pending = list(sys.argv[3:])
while pending:
    left = []
    for addr in pending:
        try:
            socket.create_connection((addr, port), timeout=1).close()
        except OSError:
            left.append(addr)
    pending = left
    if pending:
        if time.monotonic() > deadline:
            print("not listening: " + " ".join(pending), file=sys.stderr)
            sys.exit(1)
        time.sleep(0.05)
EOF
}

# wait_ready inside the network namespace NS.
wait_ready_in() {
	local ns=$1 rc=0
	shift
	ns_exec=(ip netns exec "$ns")
	wait_ready "$@" || rc=$?
	ns_exec=()
	return $rc
}

# The pid in a pid file if that process still is the sshd started with the
# given config, else nothing: never signal a recycled pid.
fleet_pid() {
	local pidfile=$1 conf=$2 pid
	[ -r "$pidfile" ] || return 0
	pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 0
	if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-f $conf "; then
		echo "$pid"
	fi
}

# A zombie counts as dead: in a container whose init does not reap, a
# daemonized sshd stays a zombie after it exited.
pid_alive() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
	    "/proc/$1/status" 2>/dev/null || true)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Stops the sshd instance named (default: every instance) of the fleet.
fleet_stop() {
	local dir=$1 inst=${2:-*} pidfile n conf pid pids=() i
	for pidfile in "$dir"/sshd.$inst.pid; do
		[ -e "$pidfile" ] || continue
		n=${pidfile##*/sshd.}
		n=${n%.pid}
		conf=$dir/sshd.$n.conf
		pid=$(fleet_pid "$pidfile" "$conf")
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
	done
	if [ "$inst" = "*" ]; then
		fleet_remove_auth "$dir"
	fi
	[ ${#pids[@]} -gt 0 ] || return 0
	for ((i = 0; i < STOP_WAIT_S * 10; i++)); do
		local alive=()
		for pid in "${pids[@]}"; do
			pid_alive "$pid" && alive+=("$pid")
		done
		[ ${#alive[@]} -eq 0 ] && return 0
		pids=("${alive[@]}")
		sleep 0.1
	done
	echo "$me: sshd ${pids[*]} ignored SIGTERM, killing" >&2
	kill -KILL "${pids[@]}" 2>/dev/null || true
	return 0
}

# The authorized_keys directory start made outside DIR, if any.
fleet_remove_auth() {
	local dir=$1 auth
	[ -f "$dir/auth.path" ] || return 0
	auth=$(cat "$dir/auth.path")
	case $auth in
	/tmp/sshpool-fleet-auth.*) rm -rf "$auth" ;;
	esac
	rm -f "$dir/auth.path"
}

# The login user for a root fleet: created once, unlocked ("*": no password,
# but sshd with UsePAM no refuses a "!" locked account), shell /bin/sh.
login_user() {
	if ! id "$FLEET_LOGIN" >/dev/null 2>&1; then
		useradd --system --user-group --home-dir / --no-create-home \
		    --shell /bin/sh "$FLEET_LOGIN"
	fi
	case $(getent shadow "$FLEET_LOGIN" | cut -d: -f2) in
	!*) usermod -p '*' "$FLEET_LOGIN" ;;
	esac
}

keygen() {
	local type=$1 file=$2 comment=$3 bits=()
	[ "$type" = rsa ] && bits=(-b 2048)
	rm -f "$file" "$file.pub"
	ssh-keygen -q -t "$type" "${bits[@]}" -N '' -C "$comment" -f "$file"
}

# The caller may set max_sessions and log_level (defaults 10 and ERROR).
write_conf() {
	local dir=$1 n=$2 port=$3
	shift 3
	local conf=$dir/sshd.$n.conf addr type
	{
		echo "# sshpool test fleet, instance $n"
		echo "Port $port"
		for addr in "$@"; do
			echo "ListenAddress $addr"
		done
		for type in ed25519 ecdsa rsa; do
			echo "HostKey $dir/ssh_host_${type}_key"
		done
		cat <<EOF
AuthorizedKeysFile $authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
PidFile $dir/sshd.$n.pid
MaxStartups 200:30:400
MaxSessions ${max_sessions:-10}
AcceptEnv *
LogLevel ${log_level:-ERROR}
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
AllowTcpForwarding no
EOF
	} >"$conf"
	chmod 0600 "$conf"
}

# The IPv6 host: one more sshd on ::1 with the fleet's host keys and user
# key, on a port free there and other than the IPv4 fleet's, so a test can
# tell the two apart.  Sets port6 of the caller.
start_v6() {
	local dir=$1 port4=$2 try i p ok6=0
	local log=$dir/sshd.$V6_INSTANCE.log conf=$dir/sshd.$V6_INSTANCE.conf
	for ((try = 0; try < START_TRIES && !ok6; try++)); do
		port6=
		for ((i = 0; i < PORT_TRIES; i++)); do
			p=$((PORT_MIN + RANDOM % PORT_SPAN))
			if [ "$p" != "$port4" ] && port_free "$p" "$V6_ADDR"
			then
				port6=$p
				break
			fi
		done
		[ -n "$port6" ] || die "no free port found on $V6_ADDR"
		write_conf "$dir" "$V6_INSTANCE" "$port6" "$V6_ADDR"
		"$SSHD" -t -f "$conf" || die "sshd rejects $conf"
		: >"$log"
		"$SSHD" -f "$conf" -E "$log" ||
		    die "sshd $V6_INSTANCE failed to start, see $log"
		if wait_ready "$port6" "$V6_ADDR" &&
		    ! grep -q 'Bind to port' "$log"; then
			ok6=1
		else
			echo "$me: IPv6 host not ready on port $port6," \
			    "retrying" >&2
			fleet_stop "$dir" "$V6_INSTANCE"
		fi
	done
	[ "$ok6" = 1 ] || die "IPv6 host did not come up; see $log"
}

fleet_start() {
	local dir=$1 nhosts=$2 ninst=$3
	local user type f i n port addr authorized_keys
	user=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		login_user
		user=$FLEET_LOGIN
	fi

	[ -x "$SSHD" ] || die "$SSHD not found (install openssh-server)"
	command -v ssh-keygen >/dev/null || die "ssh-keygen not found"
	command -v python3 >/dev/null || die "python3 not found"

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	# sshd reads authorized_keys as the login user: let it through.
	chmod 0711 "$dir"
	# A failed start leaves no sshd behind.
	start_dir=$dir
	trap 'rc=$?; [ $rc -eq 0 ] || fleet_stop "$start_dir"; exit $rc' EXIT
	# A fleet left running in this directory by an earlier run goes first.
	fleet_stop "$dir"
	rm -f "$dir"/sshd.*.conf "$dir"/sshd.*.pid "$dir"/sshd.*.log \
	    "$dir"/fleet.env "$dir"/known_hosts "$dir"/auth/authorized_keys

	# Debian's sshd refuses to start without its privilege separation
	# directory; an unprivileged sshd does not need it.
	if [ "$(id -u)" = 0 ]; then
		mkdir -p /run/sshd
		chmod 0755 /run/sshd
	fi

	for type in ed25519 ecdsa rsa; do
		keygen "$type" "$dir/ssh_host_${type}_key" "fleet host key"
		keygen "$type" "$dir/wrong_host_${type}_key" "unrelated host key"
	done
	keygen ed25519 "$dir/id_ed25519" "fleet user key"
	keygen ed25519 "$dir/wrong_id_ed25519" "key not authorized"
	mkdir -p "$dir/auth"
	chmod 0755 "$dir/auth"
	authorized_keys=$dir/auth/authorized_keys
	cp "$dir/id_ed25519.pub" "$authorized_keys"
	chmod 0644 "$authorized_keys"
	# sshd reads the file as the login user; a parent directory such as
	# a private mktemp one may keep that user out.  Then the key goes to a
	# directory of its own, removed again by stop.
	if [ "$user" != "$(id -un)" ] &&
	    ! runuser -u "$user" -- test -r "$authorized_keys"; then
		f=$(mktemp -d /tmp/sshpool-fleet-auth.XXXXXX)
		chmod 0755 "$f"
		cp "$authorized_keys" "$f/authorized_keys"
		authorized_keys=$f/authorized_keys
		echo "$f" >"$dir/auth.path"
	fi

	local addrs=()
	for ((i = 0; i < nhosts; i++)); do
		addrs+=("127.0.0.$((FIRST_OCTET + i))")
	done
	local dead=127.0.0.$DEAD_OCTET ms1=127.0.0.$MS1_OCTET

	local try ok=0
	for ((try = 0; try < START_TRIES && !ok; try++)); do
		port=
		for ((i = 0; i < PORT_TRIES; i++)); do
			local p=$((PORT_MIN + RANDOM % PORT_SPAN))
			if port_free "$p" "${addrs[@]}" "$dead" "$ms1"; then
				port=$p
				break
			fi
		done
		[ -n "$port" ] || die "no free port found"

		for ((n = 0; n < ninst; n++)); do
			local first=$((n * nhosts / ninst))
			local last=$(((n + 1) * nhosts / ninst))
			write_conf "$dir" "$n" "$port" \
			    "${addrs[@]:first:last-first}"
			"$SSHD" -t -f "$dir/sshd.$n.conf" ||
			    die "sshd rejects $dir/sshd.$n.conf"
			: >"$dir/sshd.$n.log"
			"$SSHD" -f "$dir/sshd.$n.conf" -E "$dir/sshd.$n.log" ||
			    die "sshd $n failed to start, see $dir/sshd.$n.log"
		done
		n=$MS1_INSTANCE
		max_sessions=1 log_level=INFO write_conf "$dir" "$n" "$port" \
		    "$ms1"
		"$SSHD" -t -f "$dir/sshd.$n.conf" ||
		    die "sshd rejects $dir/sshd.$n.conf"
		: >"$dir/sshd.$n.log"
		"$SSHD" -f "$dir/sshd.$n.conf" -E "$dir/sshd.$n.log" ||
		    die "sshd $n failed to start, see $dir/sshd.$n.log"
		# Every address must be ours: an sshd that lost a bind race
		# still runs on the addresses it got, and another process
		# would answer on the rest.
		if wait_ready "$port" "${addrs[@]}" "$ms1" &&
		    ! grep -q 'Bind to port' "$dir"/sshd.*.log; then
			ok=1
		else
			# Lost a race for the port: start over on another.
			echo "$me: fleet not ready on port $port, retrying" >&2
			fleet_stop "$dir"
		fi
	done
	[ "$ok" = 1 ] || die "fleet did not come up; see $dir/sshd.*.log"

	local port6=
	if have_v6; then
		start_v6 "$dir" "$port"
	else
		echo "$me: no IPv6 loopback ($V6_ADDR): the fleet has no" \
		    "IPv6 host" >&2
	fi

	: >"$dir/known_hosts"
	for addr in "${addrs[@]}" "$ms1"; do
		for type in ed25519 ecdsa rsa; do
			printf '[%s]:%s %s\n' "$addr" "$port" \
			    "$(cut -d ' ' -f 1,2 \
			    "$dir/ssh_host_${type}_key.pub")" \
			    >>"$dir/known_hosts"
		done
	done
	if [ -n "$port6" ]; then
		for type in ed25519 ecdsa rsa; do
			printf '[%s]:%s %s\n' "$V6_ADDR" "$port6" \
			    "$(cut -d ' ' -f 1,2 \
			    "$dir/ssh_host_${type}_key.pub")" \
			    >>"$dir/known_hosts"
		done
	fi
	chmod 0600 "$dir/known_hosts"

	local hosts=() ports=()
	for addr in "${addrs[@]}"; do
		hosts+=("$addr:$port")
	done
	for ((n = 0; n < ninst; n++)); do
		ports+=("$port")
	done
	cat >"$dir/fleet.env" <<EOF
SSHPOOL_FLEET_DIR='$dir'
FLEET_USER='$user'
FLEET_PORT='$port'
FLEET_PORTS='${ports[*]}'
FLEET_NHOSTS='$nhosts'
FLEET_INSTANCES='$ninst'
FLEET_ADDRS='${addrs[*]}'
FLEET_HOSTS='${hosts[*]}'
FLEET_DEAD_HOST='$dead:$port'
FLEET_MS1_HOST='$ms1:$port'
FLEET_V6_ADDR='${port6:+$V6_ADDR}'
FLEET_V6_PORT='$port6'
FLEET_KEY='$dir/id_ed25519'
FLEET_WRONG_KEY='$dir/wrong_id_ed25519'
FLEET_KNOWN_HOSTS='$dir/known_hosts'
FLEET_HOSTKEYS='$dir/ssh_host_ed25519_key.pub $dir/ssh_host_ecdsa_key.pub $dir/ssh_host_rsa_key.pub'
FLEET_WRONG_HOSTKEYS='$dir/wrong_host_ed25519_key.pub $dir/wrong_host_ecdsa_key.pub $dir/wrong_host_rsa_key.pub'
EOF

	# A real login on the first and the last host (two sshd processes
	# when there are several) and on the IPv6 host with strict host key
	# checking: proves the keys, known_hosts and the account before any
	# test relies on them.
	local logins=("${addrs[0]}:$port" "${addrs[nhosts - 1]}:$port") p
	[ -z "$port6" ] || logins+=("$V6_ADDR:$port6")
	for addr in "${logins[@]}"; do
		p=${addr##*:}
		addr=${addr%:*}
		if ! ssh -F /dev/null -i "$dir/id_ed25519" -p "$p" \
		    -o BatchMode=yes -o IdentitiesOnly=yes \
		    -o StrictHostKeyChecking=yes \
		    -o UserKnownHostsFile="$dir/known_hosts" \
		    -o GlobalKnownHostsFile=/dev/null \
		    -o ConnectTimeout=10 "$user@$addr" true; then
			echo "$me: ssh login as $user to $addr port $p failed;" \
			    "a locked account ('!' password field) is refused" \
			    "with UsePAM no, '*' works" >&2
			exit 3
		fi
	done
	echo "$me: $nhosts hosts on port $port, $ninst sshd," \
	    "IPv6 host ${port6:+[$V6_ADDR]:}${port6:-none}, env in" \
	    "$dir/fleet.env"
}

readonly TINYSSH_LOGIN=sshpool-tinyssh
readonly TINYSSH_HOME=/var/lib/sshpool-tinyssh
readonly TINYSSH_ADDR=127.0.0.1

# The pid in DIR/tcpserver.pid if that process still is our tcpserver.
tinyssh_pid() {
	local dir=$1 pid
	[ -r "$dir/tcpserver.pid" ] || return 0
	pid=$(head -n 1 "$dir/tcpserver.pid" 2>/dev/null || true)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 0
	if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- " $dir/keys"; then
		echo "$pid"
	fi
}

# The login user of the TinySSH and Dropbear hosts, its home TINYSSH_HOME
# with .ssh/authorized_keys holding PUBKEY.  The home is outside DIR, which
# may be under /tmp: tinysshd refuses keys below a world-writable directory.
servers_user() {
	local dir=$1 pub=$2 home=$TINYSSH_HOME
	chmod 0711 "$dir"
	if ! id "$TINYSSH_LOGIN" >/dev/null 2>&1; then
		useradd --system --user-group --home-dir "$home" \
		    --no-create-home --shell /bin/sh "$TINYSSH_LOGIN"
	elif [ "$(getent passwd "$TINYSSH_LOGIN" | cut -d: -f6)" != "$home" ]; then
		usermod -d "$home" "$TINYSSH_LOGIN"
	fi
	case $(getent shadow "$TINYSSH_LOGIN" | cut -d: -f2) in
	!*) usermod -p '*' "$TINYSSH_LOGIN" ;;
	esac
	mkdir -p "$home/.ssh"
	cp "$pub" "$home/.ssh/authorized_keys"
	chown -R "$TINYSSH_LOGIN:" "$home"
	chmod 0755 "$home"
	chmod 0700 "$home/.ssh"
	chmod 0600 "$home/.ssh/authorized_keys"
}

# A port free on the servers' address.
servers_port() {
	local i port
	for ((i = 0; i < PORT_TRIES; i++)); do
		port=$((PORT_MIN + RANDOM % PORT_SPAN))
		if port_free "$port" "$TINYSSH_ADDR"; then
			echo "$port"
			return 0
		fi
	done
	die "no free port"
}

tinyssh_start() {
	local dir=$1 pub=$2 port
	[ "$(id -u)" = 0 ] || die "tinyssh-start must run as root"
	[ -r "$pub" ] || die "no public key $pub"
	command -v tcpserver >/dev/null || die "tcpserver missing (ucspi-tcp)"
	[ -x /usr/sbin/tinysshd ] || die "tinysshd missing (tinysshd)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	servers_user "$dir" "$pub"
	rm -rf "$dir/keys"
	tinysshd-makekey "$dir/keys" >/dev/null
	chown -R "$TINYSSH_LOGIN:" "$dir/keys"
	port=$(servers_port)
	tcpserver -HRl0 -u "$(id -u "$TINYSSH_LOGIN")" \
	    -g "$(id -g "$TINYSSH_LOGIN")" "$TINYSSH_ADDR" "$port" \
	    /usr/sbin/tinysshd -v "$dir/keys" \
	    </dev/null >>"$dir/tinyssh.log" 2>&1 &
	echo $! >"$dir/tcpserver.pid"
	wait_ready "$port" "$TINYSSH_ADDR" ||
	    die "tcpserver does not accept on $TINYSSH_ADDR port $port"
	cat >"$dir/tinyssh.env" <<EOF
TINYSSH_USER='$TINYSSH_LOGIN'
TINYSSH_ADDR='$TINYSSH_ADDR'
TINYSSH_PORT='$port'
EOF
}

tinyssh_stop() {
	local dir pid
	[ -d "$1" ] || return 0
	dir=$(cd "$1" && pwd -P)
	pid=$(tinyssh_pid "$dir")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	# The tinysshd processes of its connections are its children.
	pkill -TERM -P "$pid" 2>/dev/null || true
	rm -f "$dir/tcpserver.pid"
}

dropbear_start() {
	local dir=$1 pub=$2 port
	[ "$(id -u)" = 0 ] || die "dropbear-start must run as root"
	[ -r "$pub" ] || die "no public key $pub"
	[ -x /usr/sbin/dropbear ] || die "dropbear missing (dropbear-bin)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	servers_user "$dir" "$pub"
	rm -f "$dir/dropbear_key"
	dropbearkey -t ed25519 -f "$dir/dropbear_key" >/dev/null 2>&1 ||
	    die "dropbearkey failed"
	port=$(servers_port)
	/usr/sbin/dropbear -F -E -s -p "$TINYSSH_ADDR:$port" \
	    -r "$dir/dropbear_key" </dev/null >>"$dir/dropbear.log" 2>&1 &
	echo $! >"$dir/dropbear.pid"
	wait_ready "$port" "$TINYSSH_ADDR" ||
	    die "dropbear does not accept on $TINYSSH_ADDR port $port"
	cat >"$dir/dropbear.env" <<EOF
DROPBEAR_USER='$TINYSSH_LOGIN'
DROPBEAR_ADDR='$TINYSSH_ADDR'
DROPBEAR_PORT='$port'
EOF
}

dropbear_stop() {
	local dir pid
	[ -d "$1" ] || return 0
	dir=$(cd "$1" && pwd -P)
	[ -r "$dir/dropbear.pid" ] || return 0
	pid=$(head -n 1 "$dir/dropbear.pid" 2>/dev/null || true)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" |
	    grep -qF -- " $dir/dropbear_key"; then
		kill -TERM "$pid" 2>/dev/null || true
		# The sessions' dropbear processes are its children.
		pkill -TERM -P "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/dropbear.pid"
}

readonly AUTH_LOGIN=sshpool-auth
readonly AUTH_HOME=/var/lib/sshpool-auth
readonly AUTH_NET=127.0.0
readonly AUTH_OCTETS="240 241 242 243 244"
# PAM takes sshd's service name from its program name: the link's.
readonly AUTH_PAM_NAME=sshpool-auth-sshd
readonly AUTH_PAM_FILE=/etc/pam.d/$AUTH_PAM_NAME

# The login user of the authentication server, its authorized_keys (the
# plain user key) and a new random password, also in DIR/password.
auth_user() {
	local dir=$1 home=$AUTH_HOME
	if ! id "$AUTH_LOGIN" >/dev/null 2>&1; then
		useradd --system --user-group --home-dir "$home" \
		    --no-create-home --shell /bin/sh "$AUTH_LOGIN"
	fi
	mkdir -p "$home/.ssh"
	cp "$dir/id_ed25519.pub" "$home/.ssh/authorized_keys"
	chown -R "$AUTH_LOGIN:" "$home"
	chmod 0755 "$home"
	chmod 0700 "$home/.ssh"
	chmod 0600 "$home/.ssh/authorized_keys"
	(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' \
	    >"$dir/password")
	chmod 0600 "$dir/password"
	printf '%s:%s\n' "$AUTH_LOGIN" "$(cat "$dir/password")" | chpasswd
}

auth_conf() {
	local dir=$1 port=$2 o a=$AUTH_NET
	{
		echo "# sshpool authentication test server"
		echo "Port $port"
		for o in $AUTH_OCTETS; do
			echo "ListenAddress $a.$o"
		done
		cat <<EOF
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.auth.pid
UsePAM yes
PubkeyAuthentication no
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
AuthorizedKeysFile none
StrictModes no
MaxStartups 200:30:400
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
AllowTcpForwarding no
Match LocalAddress $a.240
	PasswordAuthentication yes
Match LocalAddress $a.241
	KbdInteractiveAuthentication yes
Match LocalAddress $a.242
	PubkeyAuthentication yes
	PasswordAuthentication yes
	AuthorizedKeysFile .ssh/authorized_keys
	AuthenticationMethods publickey,password
Match LocalAddress $a.243
	PubkeyAuthentication yes
	TrustedUserCAKeys $dir/ca.pub
Match LocalAddress $a.244
	PubkeyAuthentication yes
	PasswordAuthentication yes
	AuthorizedKeysFile .ssh/authorized_keys
EOF
	} >"$dir/sshd.auth.conf"
	chmod 0600 "$dir/sshd.auth.conf"
}

auth_keys() {
	local dir=$1
	keygen ed25519 "$dir/ssh_host_ed25519_key" "auth test host key"
	keygen ed25519 "$dir/id_ed25519" "auth test user key"
	keygen ed25519 "$dir/cert_id_ed25519" "auth test certified key"
	keygen ed25519 "$dir/ca" "auth test user CA"
	rm -f "$dir/cert_id_ed25519-cert.pub"
	ssh-keygen -q -s "$dir/ca" -I sshpool-auth-test -n "$AUTH_LOGIN" \
	    -V -5m:+1d "$dir/cert_id_ed25519.pub" ||
	    die "ssh-keygen cannot sign the user certificate"
}

auth_start() {
	local dir=$1 port= i p o addrs=()
	[ "$(id -u)" = 0 ] || die "auth-start must run as root"
	[ -x "$SSHD" ] || die "$SSHD not found (install openssh-server)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	chmod 0711 "$dir"
	auth_stop "$dir"
	for o in $AUTH_OCTETS; do
		addrs+=("$AUTH_NET.$o")
	done
	auth_keys "$dir"
	auth_user "$dir"
	cat >"$AUTH_PAM_FILE" <<EOF
# sshpool tests/fleet/fleet.sh auth-start wrote this; auth-stop removes it.
auth     required pam_unix.so nodelay
account  required pam_unix.so
session  required pam_permit.so
password required pam_deny.so
EOF
	ln -sfn "$SSHD" "$dir/$AUTH_PAM_NAME"
	mkdir -p /run/sshd
	chmod 0755 /run/sshd
	for ((i = 0; i < PORT_TRIES; i++)); do
		p=$((PORT_MIN + RANDOM % PORT_SPAN))
		if port_free "$p" "${addrs[@]}"; then
			port=$p
			break
		fi
	done
	[ -n "$port" ] || die "no free port found"
	auth_conf "$dir" "$port"
	: >"$dir/sshd.auth.log"
	"$dir/$AUTH_PAM_NAME" -t -f "$dir/sshd.auth.conf" ||
	    die "sshd rejects $dir/sshd.auth.conf"
	"$dir/$AUTH_PAM_NAME" -f "$dir/sshd.auth.conf" \
	    -E "$dir/sshd.auth.log" ||
	    die "sshd failed to start, see $dir/sshd.auth.log"
	wait_ready "$port" "${addrs[@]}" ||
	    die "auth sshd not listening; see $dir/sshd.auth.log"
	: >"$dir/known_hosts"
	for o in "${addrs[@]}"; do
		printf '[%s]:%s %s\n' "$o" "$port" \
		    "$(cut -d ' ' -f 1,2 "$dir/ssh_host_ed25519_key.pub")" \
		    >>"$dir/known_hosts"
	done
	chmod 0600 "$dir/known_hosts"
	cat >"$dir/auth.env" <<EOF
AUTH_USER='$AUTH_LOGIN'
AUTH_PORT='$port'
AUTH_PASSWORD_FILE='$dir/password'
AUTH_KEY='$dir/id_ed25519'
AUTH_CERT_KEY='$dir/cert_id_ed25519'
AUTH_CERT='$dir/cert_id_ed25519-cert.pub'
AUTH_KNOWN_HOSTS='$dir/known_hosts'
AUTH_PASSWORD_ADDR='$AUTH_NET.240'
AUTH_KBDINT_ADDR='$AUTH_NET.241'
AUTH_PARTIAL_ADDR='$AUTH_NET.242'
AUTH_CERT_ADDR='$AUTH_NET.243'
AUTH_ANY_ADDR='$AUTH_NET.244'
EOF
	# A real key login proves the account and the server.
	ssh -F /dev/null -i "$dir/id_ed25519" -p "$port" -o BatchMode=yes \
	    -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
	    -o UserKnownHostsFile="$dir/known_hosts" \
	    -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 \
	    "$AUTH_LOGIN@$AUTH_NET.244" true ||
	    die "ssh login as $AUTH_LOGIN failed; see $dir/sshd.auth.log"
}

auth_stop() {
	local dir pid i
	[ -d "$1" ] || return 0
	dir=$(cd "$1" && pwd -P)
	pid=$(fleet_pid "$dir/sshd.auth.pid" "$dir/sshd.auth.conf")
	if [ -n "$pid" ]; then
		# Its sessions are its children.
		pkill -TERM -P "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < STOP_WAIT_S * 10; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$dir/sshd.auth.pid" "$dir/auth.env" "$AUTH_PAM_FILE" \
	    "$dir/$AUTH_PAM_NAME"
}

readonly JUMP_NET=10.231		# the /30 veth subnets are 10.231.X.0/30
readonly JUMP_HOP2_ADDR=127.0.0.2	# hop 2, inside the namespace only
readonly JUMP_FIRST_TARGET=3		# targets are 127.0.0.3, 127.0.0.4, ...
readonly JUMP_MAX_TARGETS=200
# Far from the ports of the other fixtures (PORT_MIN..PORT_MIN+PORT_SPAN),
# so no server of the root namespace answers a target's address and port.
readonly JUMP_PORT_MIN=31000
readonly JUMP_PORT_SPAN=8000

# Succeeds when NAME is a network namespace that jump-start names.
jump_ns_name_ok() {
	case $1 in
	sshpool-jump-[0-9]*) [[ $1 =~ ^sshpool-jump-[0-9]+$ ]] ;;
	*) return 1 ;;
	esac
}

# Succeeds when NAME is a veth that jump-start names (root side).
jump_veth_name_ok() {
	[[ $1 =~ ^spj[0-9]+r$ ]]
}

# One sshd of the jump fixture: DIR/jump-sshd.NAME.{conf,pid,log}.
#   jump_conf DIR NAME PORT HOSTKEY AUTHKEYS FORWARDING ADDR...
jump_conf() {
	local dir=$1 n=$2 port=$3 hostkey=$4 authkeys=$5 fwd=$6 addr
	shift 6
	{
		echo "# sshpool jump fixture, $n"
		echo "Port $port"
		for addr in "$@"; do
			echo "ListenAddress $addr"
		done
		cat <<EOF
HostKey $hostkey
AuthorizedKeysFile $authkeys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
PidFile $dir/jump-sshd.$n.pid
MaxStartups 200:30:400
MaxSessions 10
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding $fwd
PermitOpen any
EOF
	} >"$dir/jump-sshd.$n.conf"
	chmod 0600 "$dir/jump-sshd.$n.conf"
}

# Starts the sshd NAME (its config written) inside the namespace NS.
jump_sshd() {
	local dir=$1 ns=$2 n=$3
	: >"$dir/jump-sshd.$n.log"
	ip netns exec "$ns" "$SSHD" -f "$dir/jump-sshd.$n.conf" \
	    -E "$dir/jump-sshd.$n.log" ||
	    die "sshd $n failed to start, see $dir/jump-sshd.$n.log"
}

# A /24 of JUMP_NET that no address or route of the root namespace
# mentions; its .0/30 is the veth pair's.
jump_subnet() {
	local i x used
	used=$(ip -4 -o addr show; ip -4 route show table all)
	for ((i = 0; i < PORT_TRIES; i++)); do
		x=$((1 + RANDOM % 254))
		if ! grep -qE "(^|[^0-9.])${JUMP_NET//./\\.}\\.$x\\." \
		    <<<"$used"; then
			echo "$x"
			return 0
		fi
	done
	die "no free $JUMP_NET.X.0/30 subnet"
}

# The directory of the user keys' authorized_keys files, one the login user
# can read (else one of its own under /tmp, removed by jump-stop).  Sets
# authdir of the caller.
jump_authdir() {
	local dir=$1 user=$2
	authdir=$dir/jumpauth
	mkdir -p "$authdir"
	chmod 0755 "$authdir"
	if ! runuser -u "$user" -- test -r "$authdir"; then
		authdir=$(mktemp -d /tmp/sshpool-jump-auth.XXXXXX)
		chmod 0755 "$authdir"
		echo "$authdir" >"$dir/jumpauth.path"
	fi
}

jump_start() {
	local dir=$1 ntargets=$2 user=$FLEET_LOGIN ns veth_r veth_n x
	local root_addr ns_addr port='' nofwd_port='' i p n authdir
	local targets=() target_logs=() hosts=() o
	[ "$(id -u)" = 0 ] || die "jump-start must run as root"
	[ -x "$SSHD" ] || die "$SSHD not found (install openssh-server)"
	command -v ip >/dev/null || die "ip not found (install iproute2)"
	command -v python3 >/dev/null || die "python3 not found"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	chmod 0711 "$dir"
	# An earlier start in DIR goes first.
	jump_stop "$dir"
	start_dir=$dir
	trap 'rc=$?; [ $rc -eq 0 ] || jump_stop "$start_dir"; exit $rc' EXIT
	trap 'exit 1' INT TERM HUP
	rm -f "$dir"/jump-sshd.* "$dir/jump.env" "$dir/jump_known_hosts" \
	    "$dir/jump_ssh_config"

	login_user
	mkdir -p /run/sshd
	chmod 0755 /run/sshd
	keygen ed25519 "$dir/jump_bastion_host_key" "jump bastion host key"
	keygen ed25519 "$dir/jump_target_host_key" "jump target host key"
	keygen ed25519 "$dir/jump_bastion_id" "jump bastion user key"
	keygen ed25519 "$dir/jump_target_id" "jump target user key"
	jump_authdir "$dir" "$user"
	cp "$dir/jump_bastion_id.pub" "$authdir/bastion_keys"
	cp "$dir/jump_target_id.pub" "$authdir/target_keys"
	chmod 0644 "$authdir/bastion_keys" "$authdir/target_keys"

	for ((i = 0; i < ntargets; i++)); do
		targets+=("127.0.0.$((JUMP_FIRST_TARGET + i))")
	done
	# A port nothing of the root namespace listens on at the targets'
	# addresses, so a direct connection there is refused.
	for ((i = 0; i < PORT_TRIES; i++)); do
		p=$((JUMP_PORT_MIN + RANDOM % JUMP_PORT_SPAN))
		if port_free "$p" "$JUMP_HOP2_ADDR" "${targets[@]}"; then
			port=$p
			break
		fi
	done
	[ -n "$port" ] || die "no free port found"
	nofwd_port=$((port + 1))

	# The names go to DIR before anything exists, so jump-stop finds
	# whatever a failed start left.
	ns=sshpool-jump-$$
	veth_r=spj$$r
	veth_n=spj$$n
	x=$(jump_subnet)
	root_addr=$JUMP_NET.$x.1
	ns_addr=$JUMP_NET.$x.2
	echo "$ns" >"$dir/jump.netns"
	echo "$veth_r" >"$dir/jump.veth"
	ip netns add "$ns" || die "ip netns add $ns failed"
	ip -n "$ns" link set lo up
	ip link add "$veth_r" type veth peer name "$veth_n" ||
	    die "cannot create the veth pair $veth_r/$veth_n"
	ip link set "$veth_n" netns "$ns"
	ip addr add "$root_addr/30" dev "$veth_r"
	# Another start that picked the same subnet meanwhile would share
	# its route: give up rather than answer for the other's namespace.
	[ "$(ip -4 -o addr show | grep -cF " $root_addr/")" = 1 ] ||
	    die "$JUMP_NET.$x.0/30 is in use twice"
	ip link set "$veth_r" up
	ip -n "$ns" addr add "$ns_addr/30" dev "$veth_n"
	ip -n "$ns" link set "$veth_n" up

	jump_conf "$dir" bastion "$port" "$dir/jump_bastion_host_key" \
	    "$authdir/bastion_keys" yes "$ns_addr"
	jump_conf "$dir" hop2 "$port" "$dir/jump_bastion_host_key" \
	    "$authdir/bastion_keys" yes "$JUMP_HOP2_ADDR"
	jump_conf "$dir" nofwd "$nofwd_port" "$dir/jump_bastion_host_key" \
	    "$authdir/bastion_keys" no "$ns_addr"
	for ((i = 0; i < ntargets; i++)); do
		jump_conf "$dir" "target$i" "$port" \
		    "$dir/jump_target_host_key" "$authdir/target_keys" no \
		    "${targets[i]}"
		target_logs+=("$dir/jump-sshd.target$i.log")
	done
	"$SSHD" -t -f "$dir/jump-sshd.bastion.conf" ||
	    die "sshd rejects $dir/jump-sshd.bastion.conf"
	"$SSHD" -t -f "$dir/jump-sshd.target0.conf" ||
	    die "sshd rejects $dir/jump-sshd.target0.conf"
	for n in bastion hop2 nofwd; do
		jump_sshd "$dir" "$ns" "$n"
	done
	for ((i = 0; i < ntargets; i++)); do
		jump_sshd "$dir" "$ns" "target$i"
	done
	# The bastions from the root namespace, the rest from inside.
	wait_ready "$port" "$ns_addr" ||
	    die "the bastion is not reachable on $ns_addr port $port"
	wait_ready "$nofwd_port" "$ns_addr" ||
	    die "the bastion without forwarding is not reachable"
	wait_ready_in "$ns" "$port" "$JUMP_HOP2_ADDR" "${targets[@]}" ||
	    die "hop 2 or targets not listening; see $dir/jump-sshd.*.log"
	! grep -q 'Bind to port' "$dir"/jump-sshd.*.log ||
	    die "an sshd could not bind; see $dir/jump-sshd.*.log"

	: >"$dir/jump_known_hosts"
	for o in "$ns_addr:$port" "$ns_addr:$nofwd_port" \
	    "$JUMP_HOP2_ADDR:$port"; do
		printf '[%s]:%s %s\n' "${o%:*}" "${o##*:}" \
		    "$(cut -d ' ' -f 1,2 "$dir/jump_bastion_host_key.pub")" \
		    >>"$dir/jump_known_hosts"
	done
	for o in "${targets[@]}"; do
		printf '[%s]:%s %s\n' "$o" "$port" \
		    "$(cut -d ' ' -f 1,2 "$dir/jump_target_host_key.pub")" \
		    >>"$dir/jump_known_hosts"
		hosts+=("$o:$port")
	done
	chmod 0600 "$dir/jump_known_hosts"
	# OpenSSH's ProxyJump passes only -F on to the ssh of the jump: the
	# keys and known_hosts go in a config file both of them read.
	cat >"$dir/jump_ssh_config" <<EOF
Host *
	User $user
	BatchMode yes
	IdentitiesOnly yes
	IdentityFile $dir/jump_bastion_id
	IdentityFile $dir/jump_target_id
	UserKnownHostsFile $dir/jump_known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	ConnectTimeout 10
EOF
	chmod 0600 "$dir/jump_ssh_config"
	cat >"$dir/jump.env" <<EOF
JUMP_DIR='$dir'
JUMP_USER='$user'
JUMP_NETNS='$ns'
JUMP_VETH='$veth_r'
JUMP_ROOT_ADDR='$root_addr'
JUMP_NS_ADDR='$ns_addr'
JUMP_BASTION_ADDR='$ns_addr'
JUMP_BASTION_PORT='$port'
JUMP_HOP2_ADDR='$JUMP_HOP2_ADDR'
JUMP_HOP2_PORT='$port'
JUMP_NOFWD_ADDR='$ns_addr'
JUMP_NOFWD_PORT='$nofwd_port'
JUMP_NTARGETS='$ntargets'
JUMP_TARGET_PORT='$port'
JUMP_TARGET_ADDRS='${targets[*]}'
JUMP_TARGETS='${hosts[*]}'
JUMP_BASTION_KEY='$dir/jump_bastion_id'
JUMP_TARGET_KEY='$dir/jump_target_id'
JUMP_KNOWN_HOSTS='$dir/jump_known_hosts'
JUMP_SSH_CONFIG='$dir/jump_ssh_config'
JUMP_BASTION_LOG='$dir/jump-sshd.bastion.log'
JUMP_HOP2_LOG='$dir/jump-sshd.hop2.log'
JUMP_NOFWD_LOG='$dir/jump-sshd.nofwd.log'
JUMP_TARGET_LOGS='${target_logs[*]}'
EOF
	# A real login on the first and the last target through the bastion
	# proves the keys, known_hosts, the account and the forwarding.
	for o in "${targets[0]}" "${targets[ntargets - 1]}"; do
		ssh -F "$dir/jump_ssh_config" -J "$user@$ns_addr:$port" \
		    -p "$port" "$user@$o" true ||
		    die "ssh -J $user@$ns_addr:$port to $o port $port" \
		    "failed; see $dir/jump-sshd.*.log"
	done
	echo "$me: netns $ns, bastion $ns_addr port $port, $ntargets" \
	    "targets on port $port, env in $dir/jump.env"
}

# The pids of the fixture's sshd listeners that still are ours.
jump_listeners() {
	local dir=$1 pidfile n
	for pidfile in "$dir"/jump-sshd.*.pid; do
		[ -e "$pidfile" ] || continue
		n=${pidfile%.pid}
		fleet_pid "$pidfile" "$n.conf"
	done
}

jump_stop() {
	local dir ns='' veth='' pids=() pid i alive auth
	[ -d "$1" ] || return 0
	dir=$(cd "$1" && pwd -P)
	[ -r "$dir/jump.netns" ] && ns=$(head -n 1 "$dir/jump.netns")
	[ -r "$dir/jump.veth" ] && veth=$(head -n 1 "$dir/jump.veth")
	if [ -n "$ns" ] && ! jump_ns_name_ok "$ns"; then
		echo "$me: $dir/jump.netns names '$ns', not ours; left" >&2
		ns=
	fi
	if [ -n "$veth" ] && ! jump_veth_name_ok "$veth"; then
		echo "$me: $dir/jump.veth names '$veth', not ours; left" >&2
		veth=
	fi
	for pid in $(jump_listeners "$dir"); do
		# Its connections are its children.
		pkill -TERM -P "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
	done
	# Whatever else runs in the namespace (sessions of the sshds that
	# outlived their listener) was started by this fixture.
	if [ -n "$ns" ] && ip netns list | grep -qE "^$ns( |$)"; then
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		done
	fi
	for ((i = 0; i < STOP_WAIT_S * 10 && ${#pids[@]} > 0; i++)); do
		alive=()
		for pid in "${pids[@]}"; do
			pid_alive "$pid" && alive+=("$pid")
		done
		pids=(${alive[@]+"${alive[@]}"})
		[ ${#pids[@]} -eq 0 ] || sleep 0.1
	done
	if [ ${#pids[@]} -gt 0 ]; then
		echo "$me: ${pids[*]} ignored SIGTERM, killing" >&2
		kill -KILL "${pids[@]}" 2>/dev/null || true
	fi
	# The namespace's end of the pair goes with the namespace; the root
	# end explicitly, in case the namespace outlives its name.
	if [ -n "$veth" ] && ip link show dev "$veth" >/dev/null 2>&1; then
		ip link del dev "$veth" 2>/dev/null || true
	fi
	if [ -n "$ns" ] && ip netns list | grep -qE "^$ns( |$)"; then
		ip netns del "$ns" ||
		    echo "$me: cannot delete netns $ns" >&2
	fi
	if [ -f "$dir/jumpauth.path" ]; then
		auth=$(cat "$dir/jumpauth.path")
		case $auth in
		/tmp/sshpool-jump-auth.*) rm -rf "$auth" ;;
		esac
		rm -f "$dir/jumpauth.path"
	fi
	rm -f "$dir/jump.netns" "$dir/jump.veth" "$dir"/jump-sshd.*.pid \
	    "$dir/jump.env"
	return 0
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
case $cmd in
tinyssh-start)
	[ $# -eq 1 ] || usage
	tinyssh_start "$dir" "$1"
	exit 0
	;;
tinyssh-stop)
	tinyssh_stop "$dir"
	exit 0
	;;
dropbear-start)
	[ $# -eq 1 ] || usage
	dropbear_start "$dir" "$1"
	exit 0
	;;
dropbear-stop)
	dropbear_stop "$dir"
	exit 0
	;;
auth-start)
	[ $# -eq 0 ] || usage
	auth_start "$dir"
	exit 0
	;;
auth-stop)
	auth_stop "$dir"
	exit 0
	;;
jump-start)
	ntargets=3
	if [ $# -gt 0 ]; then
		[ $# -eq 2 ] && [ "$1" = --targets ] || usage
		ntargets=$2
	fi
	case $ntargets in '' | *[!0-9]*) usage ;; esac
	[ "$ntargets" -ge 1 ] && [ "$ntargets" -le "$JUMP_MAX_TARGETS" ] ||
	    die "--targets must be 1..$JUMP_MAX_TARGETS"
	jump_start "$dir" "$ntargets"
	exit 0
	;;
jump-stop)
	jump_stop "$dir"
	exit 0
	;;
esac
nhosts=1
ninst=
while [ $# -gt 0 ]; do
	case $1 in
	--hosts)
		[ $# -ge 2 ] || usage
		nhosts=$2
		shift 2
		;;
	--instances)
		[ $# -ge 2 ] || usage
		ninst=$2
		shift 2
		;;
	*) usage ;;
	esac
done
case $nhosts in '' | *[!0-9]*) usage ;; esac
[ "$nhosts" -ge 1 ] && [ "$nhosts" -le "$MAX_HOSTS" ] ||
    die "--hosts must be 1..$MAX_HOSTS"
minst=$(((nhosts + ADDRS_PER_SSHD - 1) / ADDRS_PER_SSHD))
[ -n "$ninst" ] || ninst=$minst
case $ninst in '' | *[!0-9]*) usage ;; esac
[ "$ninst" -ge "$minst" ] && [ "$ninst" -le "$nhosts" ] ||
    die "--instances must be $minst..$nhosts for $nhosts hosts"

case $cmd in
start)
	fleet_start "$dir" "$nhosts" "$ninst"
	;;
stop)
	[ -d "$dir" ] || exit 0
	fleet_stop "$(cd "$dir" && pwd -P)"
	;;
env)
	[ -r "$dir/fleet.env" ] || die "no fleet in $dir"
	sed 's/^/export /' "$dir/fleet.env"
	;;
*)
	usage
	;;
esac
