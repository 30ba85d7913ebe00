# shellcheck shell=bash
# scripts/lib.sh -- helpers shared by the demo, test and benchmark scripts.
#
# Sourced, not run.  Everything here works on a fresh Debian 12 machine,
# as root (CI) or as an ordinary user with sudo.  PostgreSQL refuses to run
# as root, so when we are root every server and every test runs as the
# "postgres" OS user that the Debian packages create.

set -euo pipefail

UM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The PostgreSQL major to build and test against: the host's Debian 12
# server unless the caller (scripts/test-all, inside a chroot) names another.
UM_PG_MAJOR=${UM_PG_MAJOR:-15}
UM_PACKAGES="make gcc libc6-dev postgresql-$UM_PG_MAJOR postgresql-server-dev-$UM_PG_MAJOR postgresql-$UM_PG_MAJOR-pgaudit libipc-run-perl"

um_log() { printf '\n==> %s\n' "$*"; }

# Give up: the named script could not do its job at all (exit status 2).
um_die() {
	printf '%s: %s\n' "$(basename "$0")" "$*" >&2
	exit 2
}

# Run a command as root: directly when we are root, through sudo otherwise.
um_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install whichever of the Debian packages we need are missing.  The server
# and its development headers must also be the same release: a fresh
# Debian image may ship an older postgresql-15 than the security archive's
# postgresql-server-dev-15, and naming both upgrades the server with them.
# Extra packages may be named as arguments.
# shellcheck disable=SC2120
um_install_deps() {
	local missing=() p server_version dev_version
	for p in $UM_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	server_version=$(dpkg-query -W -f='${Version}' "postgresql-$UM_PG_MAJOR" 2>/dev/null || true)
	dev_version=$(dpkg-query -W -f='${Version}' "postgresql-server-dev-$UM_PG_MAJOR" 2>/dev/null || true)
	if [ "$server_version" != "$dev_version" ]; then
		missing+=("postgresql-$UM_PG_MAJOR" "postgresql-client-$UM_PG_MAJOR" "postgresql-server-dev-$UM_PG_MAJOR")
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		um_log "installing ${missing[*]}"
		um_root apt-get update -q
		um_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
	fi
	um_log "PostgreSQL $(dpkg-query -W -f='${Version}' "postgresql-$UM_PG_MAJOR")"
}

um_pg_config() { echo "/usr/lib/postgresql/$UM_PG_MAJOR/bin/pg_config"; }
um_bindir() { "$(um_pg_config)" --bindir; }

# Build and install the extension into the server's directories.
um_build_install() {
	um_log "building usermap"
	make -C "$UM_TOP" -s PG_CONFIG="$(um_pg_config)"
	um_root make -C "$UM_TOP" -s install PG_CONFIG="$(um_pg_config)"
}

# The OS user that runs servers and tests.
um_test_user() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Run a command as the test user, keeping the environment we pass along.
um_as_test_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- env PATH="$(um_bindir):$PATH" "$@"
	else
		env PATH="$(um_bindir):$PATH" "$@"
	fi
}

# A private, writable copy of the source tree owned by the test user, so
# that test output (results/, tmp_check/) never lands in the checkout and
# root-owned checkouts still work.
um_make_workdir() {
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/usermap-work.XXXXXX")
	tar -C "$UM_TOP" --exclude=.git --exclude='results' --exclude='tmp_check' \
		--exclude='output_iso' --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . |
		tar -C "$dir" -xf -
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
	echo "$dir"
}

# um_cluster_start DATADIR PORT [postgresql.conf lines...]
# initdb a throwaway cluster, listening only on a Unix socket inside
# DATADIR, with usermap preloaded unless a conf line overrides it.
um_cluster_start() {
	local data=$1 port=$2
	shift 2
	um_as_test_user initdb -D "$data" -U postgres -A trust --no-sync >/dev/null
	{
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$data'"
		echo "shared_preload_libraries = 'usermap'"
		echo "fsync = off"
		for line in "$@"; do echo "$line"; done
	} | um_as_test_user tee -a "$data/postgresql.conf" >/dev/null
	um_as_test_user pg_ctl -D "$data" -l "$data/server.log" -w start >/dev/null
}

um_cluster_stop() {
	local data=$1
	if [ -f "$data/postmaster.pid" ]; then
		um_as_test_user pg_ctl -D "$data" -m fast -w stop >/dev/null || true
	fi
}
