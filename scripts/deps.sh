#!/bin/sh
# SPDX-License-Identifier: ISC
# Install the Debian 12 packages sshpool needs to build, test and demo, and
# the peers its benchmark compares against, and the SSH servers other than
# OpenSSH that the tests run against (TinySSH under tcpserver, Dropbear).
# Run as root.  Used by the README's quick start and by .ci/run.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential cmake pkg-config \
	libssh-dev libevent-dev libjson-c-dev libssl-dev check \
	openssh-server openssh-client tinysshd ucspi-tcp dropbear-bin \
	python3 procps iproute2 valgrind lintian mandoc tmux sudo \
	clang libclang-rt-14-dev \
	pssh pdsh clustershell python3-paramiko python3-asyncssh >/dev/null
# The tinysshd package enables a socket unit on port 22; the tests start
# their own TinySSH host and OpenSSH keeps port 22.
if [ -d /run/systemd/system ]; then
	systemctl disable --now tinysshd.socket >/dev/null 2>&1 || true
fi
