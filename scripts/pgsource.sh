# shellcheck shell=bash
# scripts/pgsource.sh -- fetch PostgreSQL's source from the Debian source
# package, for the scripts that need its tests or tools (conformance runs
# its regression suite, valgrind-check uses its valgrind.supp).
#
# Sourced after lib.sh, not run.  The tree is cached outside the checkout.

# Unpacked PostgreSQL source tree of the major under test, to use or create.
PGSRC_DIR=${PGSRC_DIR:-/var/tmp/usermap-pgsrc-$UM_PG_MAJOR}
# Debian may have stopped serving the source of the installed minor release
# once a newer one is out; for 15 this one is known to be served for
# bookworm.  Other majors have no fallback.
case $UM_PG_MAJOR in
15) FALLBACK_SRC_VERSION=15.18-0+deb12u1 ;;
*) FALLBACK_SRC_VERSION= ;;
esac

# True when some apt source file asks for source packages, in either the
# one-line ("deb-src ...") or the deb822 ("Types: deb deb-src") format.
deb_src_configured() {
	grep -qsiE '^[[:space:]]*(deb-src[[:space:]]|types:(.*[[:space:]])?deb-src([[:space:]]|$))' \
		"$SOURCELIST" "$SOURCEPARTS"/*.list "$SOURCEPARTS"/*.sources
}

# True when apt has downloaded a source-package index (apt-get update has
# run since deb-src entries were configured).
sources_index_present() {
	# shellcheck disable=SC2016 # $(CREATED_BY) is apt's syntax, not ours
	apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -qx Sources
}

# Print a deb-src twin of every deb stanza of a deb822 .sources file.
# Stanzas end at a blank (or whitespace-only) line; field names are
# case-insensitive, and a stanza may list several types ("deb deb-src").
deb822_src_twin() {
	awk '
		function flush() {
			if (n > 0 && isdeb) {
				if (printed) print ""
				for (i = 1; i <= n; i++) print lines[i]
				printed = 1
			}
			n = 0; isdeb = 0
		}
		/^[ \t]*$/ { flush(); next }
		tolower($1) == "types:" {
			for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1
			$0 = "Types: deb-src"
		}
		{ lines[++n] = $0 }
		END { flush() }
	' "$1"
}

ensure_deb_src() {
	local SOURCEPARTS SOURCELIST main twin from

	# Ask apt where its sources live rather than assume /etc/apt.
	eval "$(apt-config shell SOURCEPARTS Dir::Etc::sourceparts/d SOURCELIST Dir::Etc::sourcelist/f)"
	SOURCEPARTS=${SOURCEPARTS%/}
	if ! deb_src_configured; then
		main=$SOURCEPARTS/debian.sources
		if [ -f "$main" ]; then
			from=$main
			twin=$SOURCEPARTS/usermap-deb-src.sources
			deb822_src_twin "$main" | um_root tee "$twin" >/dev/null
		elif [ -f "$SOURCELIST" ]; then
			# Older one-line format.
			from=$SOURCELIST
			twin=$SOURCEPARTS/usermap-deb-src.list
			sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$SOURCELIST" |
				um_root tee "$twin" >/dev/null
		else
			um_die "no apt sources to derive deb-src entries from"
		fi
		if [ ! -s "$twin" ]; then
			um_root rm -f "$twin"
			um_die "no deb entries in $from to derive deb-src entries from"
		fi
		um_log "added deb-src entries ($twin)"
	fi
	sources_index_present || um_root apt-get update -q
}

# The line of apt's log "$1" that says why it failed: its first error, or
# else its last line.
apt_failure() {
	grep -m1 '^E:' "$1" || tail -n 1 "$1"
}

# What fetching a source package into the cache directory "$1" needs
# first: dpkg-dev, deb-src entries, and the cache's parent directory.
prepare_source_fetch() {
	um_install_deps dpkg-dev
	ensure_deb_src
	mkdir -p "$(dirname "$1")"
}

# Leave an unpacked PostgreSQL source tree of the major under test in
# $PGSRC_DIR, or say why not and return 1.  The test files
# are never committed to this repository; they are fetched at test time.
um_fetch_pg_source() {
	local installed tmp tree v

	if [ -d "$PGSRC_DIR/src/test/regress" ]; then
		um_log "using PostgreSQL source in $PGSRC_DIR"
		return 0
	fi
	if [ -e "$PGSRC_DIR" ]; then
		rmdir "$PGSRC_DIR" 2>/dev/null ||
			um_die "$PGSRC_DIR exists but holds no src/test/regress; remove it or set PGSRC_DIR"
	fi

	prepare_source_fetch "$PGSRC_DIR"
	installed=$(dpkg-query -W -f='${Version}' "postgresql-$UM_PG_MAJOR")
	# A sibling of the cache, so the final mv is atomic and an interrupted
	# download never leaves a half-unpacked tree where we would trust it.
	tmp=$(mktemp -d "$PGSRC_DIR.tmp.XXXXXX")
	tree=
	for v in "$installed" $FALLBACK_SRC_VERSION; do
		[ -d "$tmp/$v" ] && continue # installed version is the fallback
		um_log "fetching source of postgresql-$UM_PG_MAJOR=$v"
		mkdir "$tmp/$v"
		# apt's chatter (and its 404s for a version no longer served)
		# goes to a log that is shown only if every attempt fails.
		if (cd "$tmp/$v" && apt-get source -q "postgresql-$UM_PG_MAJOR=$v") \
			>"$tmp/$v.log" 2>&1; then
			tree=$(find "$tmp/$v" -mindepth 1 -maxdepth 1 -type d \
				-name "postgresql-$UM_PG_MAJOR-*" | head -n 1)
			[ -n "$tree" ] && [ -d "$tree/src/test/regress" ] && break
		fi
		echo "    not available: $(apt_failure "$tmp/$v.log")"
		tree=
	done
	if [ -z "$tree" ]; then
		rm -rf "$tmp"
		echo "the archive serves no source of postgresql-$UM_PG_MAJOR for version $installed${FALLBACK_SRC_VERSION:+ or $FALLBACK_SRC_VERSION}" >&2
		return 1
	fi
	mv "$tree" "$PGSRC_DIR"
	rm -rf "$tmp"
}

# ---------------------------------------------------------------------------
# pgaudit's regression tests, for the conformance script.
#
# Debian's pgaudit source packages (pgaudit-1.7, pgaudit-17, pgaudit-18:
# one per major, as pgaudit's versions follow PostgreSQL's from 16 on)
# are reached through the binary package's name.  The archive may serve
# their orig tarball but not their debian.tar.xz, so that apt-get source
# fails to unpack; only the orig tarball is needed.  apt-get source
# --download-only fetches it from the machine's own apt sources and checks
# it against the Sources index, and keeps it when another file 404s.  Only
# the test files (sql/, expected/, the Makefile naming REGRESS and its
# options, pgaudit.conf) are kept, in a cache outside the checkout; the
# server runs the installed postgresql-NN-pgaudit's library.

PGAUDIT_SRC_DIR=${PGAUDIT_SRC_DIR:-/var/tmp/usermap-pgaudit-src-$UM_PG_MAJOR}

# The pgaudit version line that goes with the major: 1.7 for 15, the
# major itself from 16 on.
pgaudit_compat() {
	case $UM_PG_MAJOR in
	15) echo 1.7 ;;
	*) echo "$UM_PG_MAJOR" ;;
	esac
}

# default_version of a pgaudit.control file.
pgaudit_control_version() {
	sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$1" | head -n 1
}

# The installed pgaudit extension's version, as its control file names it.
pgaudit_installed_version() {
	local control
	control=$("$(um_pg_config)" --sharedir)/extension/pgaudit.control
	[ -f "$control" ] && pgaudit_control_version "$control"
}

# Leave pgaudit's test files for the installed postgresql-NN-pgaudit in
# $PGAUDIT_SRC_DIR, or say why not and return 1.
um_fetch_pgaudit_source() {
	local pkg=postgresql-$UM_PG_MAJOR-pgaudit compat installed ext tmp line
	local name sha tree tarver

	compat=$(pgaudit_compat)
	ext=$(pgaudit_installed_version || true)
	[ -n "$ext" ] || um_die "$pkg is not installed (no pgaudit.control)"
	case $ext in
	"$compat" | "$compat".*) ;;
	*) um_die "the installed pgaudit is $ext, which is not pgaudit $compat for PostgreSQL $UM_PG_MAJOR" ;;
	esac
	if [ -f "$PGAUDIT_SRC_DIR/sql/pgaudit.sql" ] &&
		[ "$(pgaudit_control_version "$PGAUDIT_SRC_DIR/pgaudit.control" 2>/dev/null)" = "$ext" ]; then
		um_log "using pgaudit's test files in $PGAUDIT_SRC_DIR ($(cat "$PGAUDIT_SRC_DIR/ORIGIN" 2>/dev/null))"
		return 0
	fi

	# A cache of another pgaudit version is replaced; anything else
	# there is not ours to remove.
	if [ -e "$PGAUDIT_SRC_DIR" ] && [ ! -f "$PGAUDIT_SRC_DIR/ORIGIN" ]; then
		rmdir "$PGAUDIT_SRC_DIR" 2>/dev/null ||
			um_die "$PGAUDIT_SRC_DIR exists but holds no pgaudit test files; remove it or set PGAUDIT_SRC_DIR"
	fi

	prepare_source_fetch "$PGAUDIT_SRC_DIR"
	installed=$(dpkg-query -W -f='${Version}' "$pkg")
	tmp=$(mktemp -d "$PGAUDIT_SRC_DIR.tmp.XXXXXX")
	um_log "fetching pgaudit's orig tarball for $pkg=$installed"
	if ! (cd "$tmp" && apt-get source --print-uris -q "$pkg=$installed") >"$tmp/uris" 2>&1; then
		echo "    not available: $(apt_failure "$tmp/uris")"
		rm -rf "$tmp"
		echo "the archive's Sources index has no source package of $pkg=$installed" >&2
		return 1
	fi
	# 'URI' NAME SIZE SHA256:HASH
	line=$(grep -E "^'[^']*\.orig\.tar\.[a-z0-9]+' " "$tmp/uris" | head -n 1)
	name=$(echo "$line" | awk '{print $2}')
	sha=$(echo "$line" | awk '{print $4}' | sed -n 's/^SHA256://p')
	if [ -z "$name" ] || [ -z "$sha" ]; then
		rm -rf "$tmp"
		echo "the source package of $pkg=$installed names no orig tarball with a SHA256 sum" >&2
		return 1
	fi
	# A 404 of the .dsc or the debian.tar.xz fails the command; the
	# tarball apt did fetch and verify stays.
	(cd "$tmp" && apt-get source --download-only -q "$pkg=$installed") >"$tmp/fetch.log" 2>&1 || true
	if [ ! -f "$tmp/$name" ]; then
		echo "    not available: $(grep -m1 -F "$name" "$tmp/fetch.log" | grep '^E:' ||
			apt_failure "$tmp/fetch.log")"
		rm -rf "$tmp"
		echo "the archive serves no $name, the orig tarball of $pkg=$installed" >&2
		return 1
	fi
	echo "$sha  $tmp/$name" | sha256sum --quiet -c - ||
		{ rm -rf "$tmp"; um_die "$name does not match the SHA256 sum of the Sources index"; }
	mkdir "$tmp/x"
	tar -C "$tmp/x" -xf "$tmp/$name"
	tree=$(find "$tmp/x" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	if [ -z "$tree" ] || [ ! -f "$tree/sql/pgaudit.sql" ] || [ ! -f "$tree/Makefile" ]; then
		rm -rf "$tmp"
		um_die "$name holds no sql/pgaudit.sql and Makefile"
	fi
	tarver=$(pgaudit_control_version "$tree/pgaudit.control")
	if [ "$tarver" != "$ext" ]; then
		rm -rf "$tmp"
		um_die "$name is pgaudit $tarver, the installed pgaudit is $ext"
	fi
	mkdir "$tmp/keep"
	cp -r "$tree/sql" "$tree/expected" "$tree/Makefile" "$tree/pgaudit.control" "$tmp/keep/"
	[ -f "$tree/pgaudit.conf" ] && cp "$tree/pgaudit.conf" "$tmp/keep/"
	echo "$name, pgaudit $tarver" >"$tmp/keep/ORIGIN"
	rm -rf "$PGAUDIT_SRC_DIR"
	mv "$tmp/keep" "$PGAUDIT_SRC_DIR"
	rm -rf "$tmp"
	um_log "pgaudit's test files from $name (pgaudit $tarver) in $PGAUDIT_SRC_DIR"
}
