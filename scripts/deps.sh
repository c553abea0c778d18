#!/bin/sh
# SPDX-License-Identifier: ISC
# Install the Debian 12 packages sshpool needs to build, test and demo, and
# the peers its benchmark compares against.
# Run as root.  Used by the README's quick start and by .ci/run.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential cmake pkg-config \
	libssh-dev libevent-dev libjson-c-dev libssl-dev check \
	openssh-server openssh-client \
	python3 procps iproute2 valgrind lintian mandoc tmux sudo \
	clang libclang-rt-14-dev \
	pssh pdsh clustershell python3-paramiko python3-asyncssh >/dev/null
