#!/usr/bin/env bash
# test/matrix.sh — build and test this project against PostgreSQL 17 and 18
# in throwaway Debian root file systems (the host has PostgreSQL 15).
#
#   bash test/matrix.sh [--oracle] [--build-only] [17|18 ...]   (default: 17 18)
#
# For each major: a root file system of Debian `trixie` (17) or `sid` (18)
# with postgresql-N and postgresql-server-dev-N, built with mmdebstrap from
# Debian's archive (the mirror of the host's apt sources) and cached under
# $DBLINK_MATRIX_CACHE (default /var/cache/dblink-matrix/<suite>), so reruns
# skip it. The host's Go toolchain (/usr/local/go) and the module cache are
# copied in: nothing inside needs the network. Then, inside it (as root;
# clusters run as the `postgres` OS user on ports 55400-55499, 127.0.0.1
# only, sockets under a temp dir):
#   - a clean copy of this tree is built with `make PG_CONFIG=...` (-Werror),
#   - our pg_regress suite runs (test/regress; where the contrib dblink of
#     16 and later gives other output than 15's, test/regress/expected/16plus/
#     holds it, one file for every major >= 16),
#   - PostgreSQL's own dblink regression test of that major runs against our
#     build: contrib/dblink/sql/dblink.sql and expected/dblink.out are taken
#     from Debian's source package of that major (`apt-get source`, fetched
#     when the root file system is built and kept beside it).
# --oracle runs the same tests against that major's stock contrib dblink
# (the facts our expected files must match). --build-only stops after the
# build. /proc, /dev and /dev/shm are bind-mounted for the run and always
# unmounted (trap); one run per root file system at a time (flock).
# The host's apt sources are never changed. Last line: `N passed, N failed`.
set -uo pipefail

REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CACHE=${DBLINK_MATRIX_CACHE:-/var/cache/dblink-matrix}
export DEBIAN_FRONTEND=noninteractive

KIND=ours BUILD_ONLY=0 MAJORS=()
while (( $# )); do
	case $1 in
	--oracle) KIND=contrib ;;
	--build-only) BUILD_ONLY=1 ;;
	17|18) MAJORS+=( "$1" ) ;;
	-h|--help) sed -n '2,27p' "$0"; exit 0 ;;
	*) echo "matrix.sh: unknown argument $1 (majors: 17 18)" >&2; exit 2 ;;
	esac
	shift
done
(( ${#MAJORS[@]} )) || MAJORS=( 17 18 )

say() { printf 'matrix: %s\n' "$*" >&2; }
die() { printf 'matrix: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root (mmdebstrap, chroot and mounts need it)"

suite_of() { case $1 in 17) echo trixie ;; 18) echo sid ;; esac; }

# The Debian mirror the host already uses (its deb822 or one-line sources).
host_mirror() {
	local m
	m=$(grep -rhoE '^URIs: *https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null |
		head -n 1 | sed -E 's/^URIs: *//')
	[[ -n $m ]] || m=$(grep -rhoE '^deb +https?://[^ ]+/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
		head -n 1 | awk '{ print $2 }')
	echo "${m:-http://deb.debian.org/debian}"
}

ensure_mmdebstrap() {
	command -v mmdebstrap >/dev/null && return 0
	say "installing mmdebstrap"
	apt-get install -y -qq mmdebstrap >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq mmdebstrap; } ||
		die "cannot install mmdebstrap"
}

# fetch_upstream MAJOR ROOT: PostgreSQL's own dblink test of this exact
# major, from Debian's source package of the installed server (the version
# of the binary package; the newest one as a fallback). contrib/dblink of
# the tarball is kept under ROOT/opt/upstream, with ORIGIN naming it.
fetch_upstream() {
	local major=$1 root=$2 ver orig rc
	say "fetching the dblink test of postgresql-$major from Debian's source package"
	ver=$(chroot "$root" dpkg-query -W -f='${Version}' "postgresql-$major")
	rm -rf -- "$root/opt/upstream-src" "$root/opt/upstream"
	mkdir -p "$root/opt/upstream-src" "$root/opt/upstream"
	mount_bind /proc "$root/proc" || return 1
	chroot "$root" sh -c "apt-get update -qq -o Acquire::Check-Valid-Until=false && cd /opt/upstream-src &&
		{ apt-get source -qq --download-only postgresql-$major=$ver ||
		  apt-get source -qq --download-only postgresql-$major; }" >/dev/null
	rc=$?
	umount_all
	(( rc == 0 )) || { say "apt-get source postgresql-$major failed"; return 1; }
	orig=$(ls "$root"/opt/upstream-src/postgresql-"$major"_*.orig.tar.* 2>/dev/null | head -n 1)
	[[ -f $orig ]] || { say "no orig tarball of postgresql-$major"; return 1; }
	tar -xf "$orig" -C "$root/opt/upstream" --strip-components=1 --wildcards '*/contrib/dblink/*' ||
		{ say "the orig tarball has no contrib/dblink"; return 1; }
	[[ -f $root/opt/upstream/contrib/dblink/sql/dblink.sql && -f $root/opt/upstream/contrib/dblink/expected/dblink.out ]] ||
		{ say "the orig tarball has no contrib/dblink test"; return 1; }
	echo "$(basename "$orig") (Debian source package postgresql-$major, binary version $ver)" >"$root/opt/upstream/ORIGIN"
	rm -rf -- "$root/opt/upstream-src"
}

# extra_packages MAJOR: what building the shim needs beyond the server's
# dev package: 18's libpq-be.h (for the login's SCRAM keys) includes
# <gssapi/gssapi.h>, which postgresql-server-dev-18 does not pull in.
extra_packages() { (( $1 >= 18 )) && echo libkrb5-dev || echo libc6-dev; }

# ensure_extra_packages MAJOR ROOT: install them into a root file system
# built before they were needed.
ensure_extra_packages() {
	local major=$1 root=$2 pkg rc
	pkg=$(extra_packages "$major")
	chroot "$root" dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' && return 0
	say "installing $pkg into the root file system of PostgreSQL $major"
	mount_bind /proc "$root/proc" || return 1
	chroot "$root" sh -c "apt-get update -qq -o Acquire::Check-Valid-Until=false && apt-get install -y -qq --no-install-recommends $pkg && apt-get clean" >/dev/null
	rc=$?
	umount_all
	return $rc
}

# build_rootfs MAJOR ROOT: create the root file system (into a temp dir
# renamed into place, so a half-built one is never used), with the source
# package's dblink test files under /opt/upstream.
build_rootfs() {
	local major=$1 root=$2 suite mirror tmp
	suite=$(suite_of "$major")
	mirror=$(host_mirror)
	ensure_mmdebstrap
	tmp=$root.new.$$
	rm -rf -- "$tmp"
	say "building the $suite root file system for PostgreSQL $major from $mirror (a few minutes)"
	if ! mmdebstrap --variant=apt --mode=root \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		--include="postgresql-$major,postgresql-server-dev-$major,postgresql-client-$major,$(extra_packages "$major"),gcc,make,libc6-dev,util-linux,procps,ca-certificates,bzip2,xz-utils" \
		"$suite" "$tmp" "deb $mirror $suite main" "deb-src $mirror $suite main"; then
		rm -rf -- "$tmp"
		die "mmdebstrap failed for $suite"
	fi
	fetch_upstream "$major" "$tmp" || say "no upstream test files yet for $major: tried again at the next run"
	chroot "$tmp" apt-get clean
	mv -- "$tmp" "$root"
	say "root file system ready: $root"
}

# --- mounts (always undone) ----------------------------------------------------
MOUNTED=()
umount_all() {
	local i
	for (( i = ${#MOUNTED[@]} - 1; i >= 0; i-- )); do
		umount -l -- "${MOUNTED[i]}" 2>/dev/null || true
	done
	MOUNTED=()
}
mount_bind() {
	local src=$1 dst=$2
	mkdir -p -- "$dst"
	mount --bind -- "$src" "$dst" || return 1
	MOUNTED+=( "$dst" )
}

# Background children (the chroot run) to end on an interrupt.
CHILD=
cleanup() {
	if [[ -n $CHILD ]]; then
		kill -TERM "$CHILD" 2>/dev/null && wait "$CHILD" 2>/dev/null
		CHILD=
	fi
	umount_all
}
trap 'cleanup' EXIT
trap 'cleanup; trap - INT; kill -INT $$' INT
trap 'cleanup; trap - TERM; kill -TERM $$' TERM
trap 'cleanup; trap - HUP; kill -HUP $$' HUP

# sync_go ROOT: the host's Go toolchain and module cache, copied in when
# they changed.
sync_go() {
	local root=$1 hostver modcache
	export PATH=/usr/local/go/bin:$PATH
	hostver=$(/usr/local/go/bin/go env GOVERSION 2>/dev/null) || die "no Go at /usr/local/go"
	if [[ $(cat "$root/usr/local/go/VERSION.host" 2>/dev/null) != "$hostver" ]]; then
		say "copying Go $hostver into the root file system"
		rm -rf -- "$root/usr/local/go"
		cp -a /usr/local/go "$root/usr/local/go" || die "copying Go failed"
		echo "$hostver" >"$root/usr/local/go/VERSION.host"
	fi
	(cd "$REPO" && GOTOOLCHAIN=local go mod download) || die "go mod download failed on the host"
	modcache=$(GOTOOLCHAIN=local go env GOMODCACHE)
	mkdir -p "$root/root/go/pkg/mod"
	cp -a -u "$modcache/." "$root/root/go/pkg/mod/" || die "copying the Go module cache failed"
}

PASSED=0 FAILED=0
FAILED_NAMES=()

# run_major MAJOR: everything for one major; returns non-zero on failure.
run_major() {
	local major=$1 suite root work rc
	suite=$(suite_of "$major")
	root=$CACHE/$suite
	mkdir -p "$CACHE"
	exec 9>"$CACHE/$suite.lock"
	flock 9
	[[ -x $root/usr/lib/postgresql/$major/bin/pg_config ]] || build_rootfs "$major" "$root"
	ensure_extra_packages "$major" "$root" || die "cannot install $(extra_packages "$major") for PostgreSQL $major"
	[[ -f $root/opt/upstream/ORIGIN ]] || fetch_upstream "$major" "$root" ||
		say "PostgreSQL $major: no source package; its upstream test will be skipped"
	sync_go "$root"
	# a clean copy of the tree (tracked and new files, not build products)
	work=$(mktemp -d "$root/tmp/dblink-src.XXXXXX")
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work") ||
		die "copying the tree failed"
	chmod -R a+rX "$work"
	mount_bind /proc "$root/proc" && mount_bind /dev "$root/dev" && mount_bind /dev/shm "$root/dev/shm" ||
		die "bind mounts failed"
	local args=( "$major" "$KIND" "$BUILD_ONLY" )
	chroot "$root" /usr/bin/env -i PATH=/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GONOSUMDB='*' GOSUMDB=off \
		bash "/tmp/${work##*/}/test/matrix-inside.sh" "${args[@]}" &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=
	[[ $BUILD_ONLY == 1 ]] || say "pg_regress results of PostgreSQL $major ($KIND): $root/tmp/dblink-matrix-results/$KIND"
	umount_all
	rm -rf -- "$work"
	flock -u 9
	return $rc
}

for major in "${MAJORS[@]}"; do
	printf '\n=== PostgreSQL %s (%s)\n' "$major" "$(suite_of "$major")"
	if run_major "$major"; then
		PASSED=$((PASSED + 1))
		printf 'ok      matrix/%s\n' "$major"
	else
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=( "matrix/$major" )
		printf 'FAILED  matrix/%s\n' "$major"
	fi
done
(( FAILED )) && printf 'failed: %s\n' "${FAILED_NAMES[*]}"
printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
(( FAILED == 0 ))
