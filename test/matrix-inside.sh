#!/usr/bin/env bash
# test/matrix-inside.sh — the part of test/matrix.sh that runs inside the
# root file system of one PostgreSQL major (called by matrix.sh, as root,
# from a clean copy of the tree; not meant to be run by hand).
#
#   bash test/matrix-inside.sh MAJOR ours|contrib BUILD_ONLY
#
# Steps, each counted: build with `make PG_CONFIG=...` (-Werror), stage
# install, pg_regress over test/regress/tests (the expected files are 15's;
# for 16 and later, whose contrib dblink gives other output in a few
# tests, test/regress/expected/16plus/ replaces those files), PostgreSQL's
# own dblink test of this major (test/upstream.sh with the files from
# Debian's source package under /opt/upstream, when the mirror serves it). Clusters run
# as `postgres` on ports 55400-55449 (17) or 55450-55499 (18), 127.0.0.1.
# Last line: `N passed, N failed`.
set -uo pipefail

MAJOR=$1 KIND=$2 BUILD_ONLY=${3:-0}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DBLINK_REPO=$REPO DBLINK_PG_MAJOR=$MAJOR
case $MAJOR in
17) export DBLINK_PORT_MIN=55400 DBLINK_PORT_MAX=55449 ;;
18) export DBLINK_PORT_MIN=55450 DBLINK_PORT_MAX=55499 ;;
*) echo "matrix-inside.sh: unknown major $MAJOR" >&2; exit 2 ;;
esac
# shellcheck source=lib.sh
source "$REPO/test/lib.sh"

# Debian's PGXS builds LLVM bitcode when the server has JIT; the root file
# system has no clang, and the bitcode is optional (command-line variables
# in MAKEFLAGS reach every make, upstream.sh's helper included).
clang=$(sed -n 's/^CLANG *= *//p' "$PG_SYS_LIB/lib/pgxs/src/Makefile.global")
[[ -n $clang && -x $clang ]] || export MAKEFLAGS="with_llvm=no ${MAKEFLAGS:-}"

PASSED=0 FAILED=0 FAILED_NAMES=()
pass() { PASSED=$((PASSED + 1)); printf 'ok      %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); FAILED_NAMES+=( "$1" ); printf 'FAILED  %s\n' "$1"; }
finish() {
	cluster_stop main >/dev/null 2>&1 || true
	(( FAILED )) && printf 'failed (PostgreSQL %s): %s\n' "$MAJOR" "${FAILED_NAMES[*]}"
	printf 'PostgreSQL %s: %d passed, %d failed\n' "$MAJOR" "$PASSED" "$FAILED"
	(( FAILED == 0 ))
	exit $?
}

tmp_init || exit 1
echo "PostgreSQL $MAJOR ($(cat /etc/debian_version)), $("$PG_CONFIG" --version); stage: $KIND; state in $DBLINK_TMP"

if [[ $KIND == ours ]]; then
	printf '\n=== build (PostgreSQL %s)\n' "$MAJOR"
	if make -C "$REPO" PG_CONFIG="$PG_CONFIG" >"$DBLINK_TMP/build.log" 2>&1; then
		# -Werror makes a warning fail; say so if one slipped through anyway
		if grep -E '(^|[^-])warning:' "$DBLINK_TMP/build.log"; then
			fail "build/$MAJOR (warnings)"
		else
			pass "build/$MAJOR"
		fi
	else
		cat "$DBLINK_TMP/build.log"
		fail "build/$MAJOR"
		finish
	fi
fi
(( BUILD_ONLY )) && finish

stage_install "$DBLINK_TMP/stage" "$KIND" || { fail "stage install"; finish; }
cluster_start main "$DBLINK_TMP/stage" auto || { fail "cluster start"; finish; }

# --- our pg_regress suite ------------------------------------------------------
run_regress() {
	local tests=() line in=$DBLINK_TMP/regress-in out=$DBLINK_TMP/regress-out rc name status
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[[ -n $line ]] && tests+=( "$line" )
	done < <(cat "$REPO/test/regress/tests"
		(( MAJOR >= 17 )) && cat "$REPO/test/regress/tests-17plus"
		(( MAJOR >= 18 )) && cat "$REPO/test/regress/tests-18plus")
	rm -rf "$in" "$out"
	mkdir -p "$in" "$out"
	cp -a "$REPO/test/regress/." "$in/"
	# the output of 16 and later, where their contrib dblink differs from
	# 15's (the changes came with 16; 17 and 18 give the same output)
	if (( MAJOR >= 16 )); then
		cp -a "$REPO/test/regress/expected/16plus/." "$in/expected/"
	fi
	chown -R "$PG_OS_USER:" "$in" "$out"
	chmod -R a+rX "$in" "$out"
	printf '\n=== pg_regress (%d tests, PostgreSQL %s)\n' "${#tests[@]}" "$MAJOR"
	local off
	off=$(stat -c %s "$LOGFILE")
	timeout -k 10 600 "$PG_REGRESS" --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" \
		--inputdir="$in" --outputdir="$out" --dlpath="$STAGE$PG_SYS_LIB/lib" \
		--dbname=contrib_regression "${tests[@]}" >"$out/pg_regress.log" 2>&1
	rc=$?
	cat "$out/pg_regress.log"
	local seen=0
	# pg_regress 15/16 print "test NAME ... ok"; 17+ print TAP-like
	# "ok N - NAME" / "not ok N - NAME".
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ +[0-9]+\ +[-+]\ +([a-z0-9_]+) ]]; then
			name=${BASH_REMATCH[2]}
			seen=$((seen + 1))
			if [[ -z ${BASH_REMATCH[1]} ]]; then pass "regress/$name"; else fail "regress/$name"; fi
		elif [[ $line =~ ^(test[[:space:]]+)?[[:space:]]*([a-z0-9_]+)[[:space:]]+\.\.\.[[:space:]]+(ok|FAILED|failed) ]]; then
			name=${BASH_REMATCH[2]} status=${BASH_REMATCH[3]}
			seen=$((seen + 1))
			if [[ $status == ok ]]; then pass "regress/$name"; else fail "regress/$name"; fi
		fi
	done <"$out/pg_regress.log"
	(( seen == ${#tests[@]} )) || fail "pg_regress (ran $seen of ${#tests[@]} tests, exit $rc)"
	# kept for the developer (matrix.sh names the place on the host): the
	# facts a per-major expected file is made from
	local keep=/tmp/dblink-matrix-results/$KIND
	rm -rf "$keep"
	mkdir -p "$keep"
	cp -a "$out/results/." "$keep/" 2>/dev/null
	[[ -f $out/regression.diffs ]] && cp "$out/regression.diffs" "$keep/"
	if (( rc != 0 )) && [[ -s $out/regression.diffs ]]; then
		printf '\n=== regression.diffs (PostgreSQL %s)\n' "$MAJOR"
		cat "$out/regression.diffs"
	fi
	if log_has_crash "$LOGFILE" "$off"; then
		fail "regress: no backend crash"
	fi
}
run_regress
cluster_stop main

# --- PostgreSQL's own dblink test of this major ----------------------------------
# From Debian's source package of this major (fetched by matrix.sh); the
# project keeps no copy of PostgreSQL's files. Without it the test is
# skipped, and said so.
up_dir=/opt/upstream/contrib/dblink up_origin=$(cat /opt/upstream/ORIGIN 2>/dev/null)
if [[ -f $up_dir/sql/dblink.sql && -f $up_dir/expected/dblink.out ]]; then
	printf '\n=== upstream dblink test of PostgreSQL %s (%s)\n' "$MAJOR" "$up_origin"
	up=( "$REPO/test/upstream.sh" )
	[[ $KIND == contrib ]] && up+=( --oracle )
	if DBLINK_TMP= bash "${up[@]}" "$up_dir/sql/dblink.sql" "$up_dir/expected/dblink.out"; then
		pass "upstream/$MAJOR"
	else
		fail "upstream/$MAJOR"
	fi
else
	SKIPPED_UPSTREAM=1
	printf 'skip    upstream/%s (no copy of PostgreSQL %s'"'"'s contrib/dblink test: the archive mirror did not serve the source package)\n' "$MAJOR" "$MAJOR"
fi
finish
