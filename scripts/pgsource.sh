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

	um_install_deps dpkg-dev
	ensure_deb_src

	installed=$(dpkg-query -W -f='${Version}' "postgresql-$UM_PG_MAJOR")
	mkdir -p "$(dirname "$PGSRC_DIR")"
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
		echo "    not available: $(grep -m1 '^E:' "$tmp/$v.log" || tail -n 1 "$tmp/$v.log")"
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
