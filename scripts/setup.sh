#!/usr/bin/env bash
# scripts/setup.sh — make this Debian 12 machine ready to build and test.
#
# Idempotent and fast when everything is present.  It installs with apt-get
# only what is missing (running `apt-get update` only when a package cannot
# be found without it), pins postgresql-server-dev-15 to the exact version of
# the installed postgresql-15 (PGXS must match the server), checks Go >= 1.26
# at /usr/local/go and downloads the Go modules.  It never touches a
# PostgreSQL cluster.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local
export HOME=${HOME:-/root}
export DEBIAN_FRONTEND=noninteractive
GO_MIN=1.26

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
# Any command that fails without its own message still ends with one line
# that says where.
trap 'rc=$?; printf "setup: ERROR: line %s: \"%s\" exited %s\n" "$LINENO" "$BASH_COMMAND" "$rc" >&2; exit $rc' ERR

SUDO=
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || die "run as root (apt-get needs it)"
	SUDO=sudo
fi

# installed_version PKG: the installed version, empty when not installed.
# dpkg-query exits 1 for a package it has never seen: that is "not
# installed", not a failure (set -o pipefail would otherwise end the script).
installed_version() {
	{ dpkg-query -W -f='${db:Status-Abbrev}|${Version}' "$1" 2>/dev/null || true; } |
		awk -F'|' '$1 ~ /^ii/ { print $2 }'
}

APT_UPDATED=0
apt_update_once() {
	if [[ $APT_UPDATED -eq 0 ]]; then
		say "apt-get update"
		$SUDO apt-get update -qq
		APT_UPDATED=1
	fi
}

# candidate_known SPEC: apt knows how to install SPEC (pkg or pkg=version).
candidate_known() {
	local pkg=${1%%=*} ver=
	[[ $1 == *=* ]] && ver=${1#*=}
	if [[ -n $ver ]]; then
		apt-cache madison "$pkg" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$ver"
	else
		apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'
	fi
}

# apt_install SPEC...: install, updating the package lists first only when
# one of the specs is unknown to apt.
apt_install() {
	local s
	for s in "$@"; do
		if ! candidate_known "$s"; then
			apt_update_once
			break
		fi
	done
	for s in "$@"; do
		candidate_known "$s" || die "apt cannot find $s (even after apt-get update)"
	done
	say "apt-get install $*"
	$SUDO apt-get install -y -qq --no-install-recommends --allow-downgrades "$@"
}

# --- Debian packages ---------------------------------------------------------
# postgresql-15: the server the extension is built for (server + contrib on
# Debian 12).  Tools the build and the tests use: gcc/make/libc6-dev (PGXS),
# procps (ps), util-linux (runuser), coreutils (timeout, stdbuf), git,
# python3 (the fake and silent servers of the server tests).
missing=()
for pkg in postgresql-15 postgresql-client-15 gcc make libc6-dev procps util-linux coreutils git ca-certificates python3; do
	[[ -n $(installed_version "$pkg") ]] || missing+=( "$pkg" )
done
if (( ${#missing[@]} )); then
	apt_install "${missing[@]}"
else
	say "Debian packages present"
fi

pgver=$(installed_version postgresql-15)
[[ -n $pgver ]] || die "postgresql-15 is not installed"
devver=$(installed_version postgresql-server-dev-15)
if [[ $devver == "$pgver" ]]; then
	say "postgresql-server-dev-15 $devver matches postgresql-15"
else
	[[ -n $devver ]] && say "postgresql-server-dev-15 is $devver, postgresql-15 is $pgver: reinstalling pinned"
	candidate_known "postgresql-server-dev-15=$pgver" || apt_update_once
	if candidate_known "postgresql-server-dev-15=$pgver"; then
		apt_install "postgresql-server-dev-15=$pgver"
	else
		# the archive no longer has headers for the installed server: move
		# server, client and headers together to the version it has
		cand=$(apt-cache policy postgresql-server-dev-15 | awk '/Candidate:/ { print $2 }')
		[[ -n $cand && $cand != "(none)" ]] || die "no postgresql-server-dev-15 in apt"
		say "no headers for postgresql-15 $pgver: installing server and headers $cand together"
		apt_install "postgresql-15=$cand" "postgresql-client-15=$cand" "postgresql-server-dev-15=$cand"
	fi
fi
[[ -x /usr/lib/postgresql/15/bin/pg_config ]] || die "pg_config missing after install"
[[ -x /usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress ]] || die "pg_regress missing (postgresql-server-dev-15)"
id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (it comes with postgresql-common)"

# --- Go ----------------------------------------------------------------------
command -v go >/dev/null || die "Go not found at /usr/local/go/bin (need >= $GO_MIN; it cannot be downloaded here)"
gover=$(go env GOVERSION)             # e.g. go1.26.8
gover=${gover#go}
IFS=. read -r gmaj gmin _ <<<"$gover"
IFS=. read -r wmaj wmin <<<"$GO_MIN"
if (( gmaj < wmaj || (gmaj == wmaj && gmin < wmin) )); then
	die "Go $gover is too old (need >= $GO_MIN)"
fi
say "Go $gover"

if [[ -f $REPO/go.mod ]]; then
	say "go mod download"
	(cd "$REPO" && go mod download)
fi
say "ready"
