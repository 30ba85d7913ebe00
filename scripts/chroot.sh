# shellcheck shell=bash
# scripts/chroot.sh -- Debian chroots holding a newer PostgreSQL major.
#
# Sourced after lib.sh, not run.  PostgreSQL 17 comes from Debian 13
# (trixie), 18 from Debian sid and 19 from Debian experimental, in a sid
# chroot where only the postgresql-19 packages come from experimental;
# their binaries need a newer glibc than Debian 12 has, so each lives in a
# debootstrap chroot of its suite with the server, its development files,
# pgaudit, a compiler and IPC::Run.
# Each also gets PostgreSQL 15 from Debian 12 (bookworm), pinned so that
# nothing else comes from there, as the old cluster of pg_upgrade tests;
# the 19 chroot gets sid's 18 as well, a second old cluster.
# A chroot for 15 itself (bookworm) exists for UM_CHROOT_ALL=1 runs, which
# keep a machine's own installation untouched.
# The mirror is whatever the machine's apt configuration uses for Debian
# itself, read at run time: it is never written into this repository.

UM_CHROOT_BASE=${UM_CHROOT_BASE:-/var/tmp/usermap-chroot}
# Bumped whenever what a chroot holds changes, so that chroots made by an
# older recipe are made again.
UM_CHROOT_RECIPE=2

# The Debian suite that carries a given PostgreSQL major.
um_suite_for_major() {
	case $1 in
	15) echo bookworm ;;
	17) echo trixie ;;
	18 | 19) echo sid ;;
	*) um_die "no Debian suite reachable here carries PostgreSQL $1" ;;
	esac
}

um_chroot_dir() { echo "$UM_CHROOT_BASE-$1"; }

# Print the URI of the machine's main Debian archive: the first "deb"
# entry (deb822 or one-line format) whose URI does not end in -security.
um_debian_mirror() {
	local SOURCEPARTS SOURCELIST uri
	eval "$(apt-config shell SOURCEPARTS Dir::Etc::sourceparts/d SOURCELIST Dir::Etc::sourcelist/f)"
	SOURCEPARTS=${SOURCEPARTS%/}
	uri=$(
		{
			# deb822: a stanza's URIs, when its Types include deb.
			for f in "$SOURCEPARTS"/*.sources; do
				[ -f "$f" ] || continue
				awk '
					function flush() { if (isdeb && uris != "") print uris; isdeb = 0; uris = "" }
					/^[ \t]*$/ { flush(); next }
					tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1 }
					tolower($1) == "uris:" { uris = $2 }
					END { flush() }
				' "$f"
			done
			# One-line: "deb [options] URI suite components".
			for f in "$SOURCELIST" "$SOURCEPARTS"/*.list; do
				[ -f "$f" ] || continue
				sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "$f"
			done
		} | grep -E '/debian/?$' | grep -v -- '-security' | head -n 1
	)
	[ -n "$uri" ] || um_die "no Debian archive found in the apt configuration"
	echo "${uri%/}"
}

# Mount what a server and its tests need inside the chroot (idempotent).
um_chroot_mount() {
	local root=$1
	mountpoint -q "$root/proc" || um_root mount -t proc proc "$root/proc"
	mountpoint -q "$root/dev" || um_root mount --rbind /dev "$root/dev"
	mountpoint -q "$root/dev/shm" || um_root mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
	um_root cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

um_chroot_umount() {
	local root=$1 m
	for m in "$root/work" "$root/dev/shm" "$root/dev" "$root/proc"; do
		mountpoint -q "$m" && um_root umount -l "$m"
	done
	return 0
}

# um_chroot_add_experimental ROOT MIRROR: let the sid chroot in ROOT take
# PostgreSQL 19's packages (19's release candidates) from experimental, and
# nothing else.  Experimental is NotAutomatic already; the pin lifts the
# postgresql-19 packages (the server, its client, its development files,
# pgaudit's) above sid, and with them the two they strictly need:
# postgresql-client-19 depends on libpq5 >= 19~rc1 and
# postgresql-server-dev-19 on libpq-dev >= 19~~, which sid's 18 does not
# satisfy.  Everything else of experimental's stays at priority 1.
um_chroot_add_experimental() {
	local root=$1 mirror=$2
	printf 'Types: deb deb-src\nURIs: %s\nSuites: experimental\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" | um_root tee "$root/etc/apt/sources.list.d/experimental.sources" >/dev/null
	printf '%s\n' \
		'Package: *' 'Pin: release a=experimental' 'Pin-Priority: 1' '' \
		'Package: postgresql-19 postgresql-client-19 postgresql-server-dev-19 postgresql-19-* libpq5 libpq-dev' \
		'Pin: release a=experimental' 'Pin-Priority: 500' |
		um_root tee "$root/etc/apt/preferences.d/experimental" >/dev/null
}

# um_chroot_ensure MAJOR: leave a ready chroot for PostgreSQL MAJOR, made
# on first use (about a minute) and reused afterwards.  A chroot is ready
# once its stamp file names the current recipe; an interrupted one, or one
# made by an older recipe, is made again.
um_chroot_ensure() {
	local major=$1 suite root mirror
	suite=$(um_suite_for_major "$major")
	root=$(um_chroot_dir "$major")
	if [ "$(cat "$root/.usermap-ready" 2>/dev/null)" = "$UM_CHROOT_RECIPE" ]; then
		um_chroot_mount "$root"
		return 0
	fi

	command -v debootstrap >/dev/null || {
		um_root apt-get update -q
		um_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
	}
	mirror=$(um_debian_mirror)
	um_chroot_umount "$root"
	# Never delete through a mount: /dev inside is the machine's own.
	if grep -q " $root/" /proc/mounts; then
		um_die "$root still has mounts; unmount them before it can be made again"
	fi
	um_root rm -rf --one-file-system "$root"
	um_log "making a $suite chroot for PostgreSQL $major in $root"
	um_root debootstrap --variant=minbase --include=ca-certificates \
		"$suite" "$root" "$mirror" >"${TMPDIR:-/tmp}/usermap-debootstrap-$major.log" 2>&1 || {
		tail -n 30 "${TMPDIR:-/tmp}/usermap-debootstrap-$major.log" >&2
		um_die "debootstrap of $suite failed"
	}
	# The chroot's own apt sources, with source packages for PostgreSQL's
	# test files; sid's Release file may look expired to apt.
	printf 'Types: deb deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" "$suite" | um_root tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null
	um_root rm -f "$root/etc/apt/sources.list"
	echo 'Acquire::Check-Valid-Until "false";' | um_root tee "$root/etc/apt/apt.conf.d/99usermap" >/dev/null
	# Debian's server packages would start a cluster of their own.
	printf '#!/bin/sh\nexit 101\n' | um_root tee "$root/usr/sbin/policy-rc.d" >/dev/null
	um_root chmod +x "$root/usr/sbin/policy-rc.d"
	um_chroot_mount "$root"
	local old=()
	if [ "$suite" != bookworm ]; then
		printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$mirror" | um_root tee "$root/etc/apt/sources.list.d/bookworm.sources" >/dev/null
		printf 'Package: *\nPin: release n=bookworm\nPin-Priority: 100\n' |
			um_root tee "$root/etc/apt/preferences.d/bookworm" >/dev/null
		old=(postgresql-15/bookworm postgresql-server-dev-15/bookworm)
	fi
	if [ "$major" = 19 ]; then
		um_chroot_add_experimental "$root" "$mirror"
		# sid's own 18, a second old server for the upgrade tests
		old+=(postgresql-18 postgresql-server-dev-18)
	fi
	um_root chroot "$root" apt-get update -q >/dev/null
	um_root chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends make gcc libc6-dev perl libipc-run-perl dpkg-dev \
		"postgresql-$major" "postgresql-server-dev-$major" "postgresql-$major-pgaudit" \
		postgresql-common "${old[@]}" >"${TMPDIR:-/tmp}/usermap-chroot-apt-$major.log" 2>&1 || {
		tail -n 30 "${TMPDIR:-/tmp}/usermap-chroot-apt-$major.log" >&2
		um_die "installing PostgreSQL $major into the $suite chroot failed"
	}
	echo "$UM_CHROOT_RECIPE" | um_root tee "$root/.usermap-ready" >/dev/null
}
