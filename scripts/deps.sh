#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Install the Debian packages listed in deps/packages.debian: quiet and idempotent when all are
# present; installs the missing ones with apt-get when run as root, else prints the command.
set -eu
list="$(dirname "$0")/../deps/packages.debian"
missing=""
for pkg in $(grep -v '^#' "$list" | tr -s ' \n' ' '); do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "faxgate needs these Debian packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
