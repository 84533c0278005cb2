#!/usr/bin/env bash
# test/make-expected.sh — run pg_regress tests against the ORACLE (the stock
# contrib dblink in a staged copy of PostgreSQL) and keep their output.
#
#   bash test/make-expected.sh [NAME...]
#
# With no NAME, every test listed in test/regress/tests.  For each NAME the
# output of test/regress/sql/NAME.sql is written to
# test/regress/results-oracle/NAME.out.  Nothing is copied to expected/:
# read every line of the oracle output (it must show what contrib does and
# nothing machine-specific: paths, ports, PIDs, times), then copy it yourself.
#
# The throwaway cluster takes a free port in the project's range 54300-54319
# (test/lib.sh; another port is tried if one is taken meanwhile).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DBLINK_REPO=$REPO
# shellcheck source=lib.sh
source "$REPO/test/lib.sh"

tests=( "$@" )
if (( ${#tests[@]} == 0 )); then
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[[ -n $line ]] && tests+=( "$line" )
	done <"$REPO/test/regress/tests"
fi
(( ${#tests[@]} )) || { echo "make-expected.sh: no test given or listed" >&2; exit 2; }
for name in "${tests[@]}"; do
	[[ -f $REPO/test/regress/sql/$name.sql ]] || { echo "make-expected.sh: no test/regress/sql/$name.sql" >&2; exit 2; }
done

tmp_init || exit 1
stage_install "$DBLINK_TMP/stage" contrib || exit 1
cluster_start oracle "$DBLINK_TMP/stage" auto || exit 1

in=$DBLINK_TMP/regress-in out=$DBLINK_TMP/regress-out
mkdir -p "$in/sql" "$in/expected" "$out"
for name in "${tests[@]}"; do
	cp "$REPO/test/regress/sql/$name.sql" "$in/sql/"
	if [[ -f $REPO/test/regress/expected/$name.out ]]; then
		cp "$REPO/test/regress/expected/$name.out" "$in/expected/"
	else
		: >"$in/expected/$name.out"   # pg_regress needs one to diff against
	fi
done
chown -R "$PG_OS_USER:" "$in" "$out"
chmod -R a+rX "$in" "$out"

# Same invocation as test/run.sh, so the database and settings match.
"$PG_REGRESS" --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" \
	--inputdir="$in" --outputdir="$out" --dlpath="$STAGE$PG_SYS_LIB/lib" \
	--dbname=contrib_regression "${tests[@]}"
echo "(pg_regress compares with the current expected/ files; a failure only means they differ)"

rc=0
mkdir -p "$REPO/test/regress/results-oracle"
for name in "${tests[@]}"; do
	if [[ -f $out/results/$name.out ]]; then
		cp "$out/results/$name.out" "$REPO/test/regress/results-oracle/$name.out"
		echo "wrote test/regress/results-oracle/$name.out"
	else
		echo "no output for $name" >&2
		rc=1
	fi
done
cluster_stop oracle
exit $rc
