#!/usr/bin/env bash
# test/upstream.sh — run PostgreSQL's own dblink regression test against our
# build (or, with --oracle, against the stock contrib dblink).  For 15 it is
# opt-in: fetch contrib/dblink/sql/dblink.sql and expected/dblink.out of
# PostgreSQL 15 yourself.  test/matrix.sh runs it for 17 and 18 with the
# files of Debian's source package.
#
#   bash test/upstream.sh [--oracle] PATH/dblink.sql PATH/dblink.out
#
# The upstream test relies on setenv(), wait_pid() (from PostgreSQL's
# regress.so, which Debian does not ship) and set_pgservicefile(), and on a
# service file with an LDAP entry.  This script builds a small helper
# library of its own with the two C functions, and a service file.  The
# test of 15 expects the functions to exist: a prelude of ours creates them
# and pg_regress runs `upstream_prelude dblink`.  The test of 17 and later
# creates them itself from `$PG_LIBDIR/regress`: the helper is also built
# as regress.so with the symbols it names (regress_setenv, wait_pid) in the
# --dlpath directory, and the test runs alone.  Exit status: pg_regress's.  The
# diffs are printed; DBLINK_KEEP_TMP=1 keeps the results.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DBLINK_REPO=$REPO
# shellcheck source=lib.sh
source "$REPO/test/lib.sh"

KIND=ours
if [[ ${1:-} == --oracle ]]; then KIND=contrib; shift; fi
(( $# == 2 )) || { sed -n '2,16p' "$0" >&2; exit 2; }
SQL=$(realpath "$1") OUT=$(realpath "$2")
[[ -f $SQL && -f $OUT ]] || { echo "upstream.sh: no such file: $SQL or $OUT" >&2; exit 2; }

tmp_init || exit 1
if [[ $KIND == ours ]]; then
	make -s -C "$REPO" PG_CONFIG="$PG_CONFIG" >/dev/null || exit 1
fi
stage_install "$DBLINK_TMP/stage" "$KIND" || exit 1

# --- helper library: setenv() and wait_pid() ---------------------------------
helper=$DBLINK_TMP/helper
mkdir -p "$helper"
cat >"$helper/upstream_helper.c" <<'EOF'
/* Test helpers for running PostgreSQL's dblink test outside its tree. */
#include "postgres.h"

#include <signal.h>
#include <stdlib.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_MODULE_MAGIC;

/* helper_setenv(name, value): set a variable in this backend's environment. */
PG_FUNCTION_INFO_V1(helper_setenv);
Datum
helper_setenv(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *value = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (!superuser())
		elog(ERROR, "helper_setenv is for superusers only");
	if (setenv(name, value, 1) != 0)
		elog(ERROR, "could not set \"%s\": %m", name);
	PG_RETURN_VOID();
}

/* The same under the names PostgreSQL's regress.so gives them. */
PG_FUNCTION_INFO_V1(regress_setenv);
Datum
regress_setenv(PG_FUNCTION_ARGS)
{
	return helper_setenv(fcinfo);
}

/* helper_wait_pid(pid): return once process pid is gone. */
PG_FUNCTION_INFO_V1(helper_wait_pid);
Datum
helper_wait_pid(PG_FUNCTION_ARGS)
{
	int			pid = PG_GETARG_INT32(0);

	if (!superuser())
		elog(ERROR, "helper_wait_pid is for superusers only");
	while (kill(pid, 0) == 0)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(50000);
	}
	if (errno != ESRCH)
		elog(ERROR, "could not check process %d: %m", pid);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(wait_pid);
Datum
wait_pid(PG_FUNCTION_ARGS)
{
	return helper_wait_pid(fcinfo);
}
EOF
cp "$helper/upstream_helper.c" "$helper/regress.c"
printf 'MODULES = upstream_helper regress\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' >"$helper/Makefile"
make -s -C "$helper" PG_CONFIG="$PG_CONFIG" >"$helper/build.log" 2>&1 || { cat "$helper/build.log"; exit 1; }

# --- inputs: our prelude, our service file, the upstream test ----------------
in=$DBLINK_TMP/upstream-in out=$DBLINK_TMP/upstream-out
mkdir -p "$in/sql" "$in/expected" "$out"
cat >"$in/sql/upstream_prelude.sql" <<'EOF'
-- Functions the upstream test expects to find (our own helper library).
\getenv libdir PG_LIBDIR
\getenv srcdir PG_ABS_SRCDIR
\set helperlib :libdir '/upstream_helper'
CREATE FUNCTION setenv(text, text) RETURNS void
  AS :'helperlib', 'helper_setenv' LANGUAGE C STRICT;
CREATE FUNCTION wait_pid(int) RETURNS void
  AS :'helperlib', 'helper_wait_pid' LANGUAGE C STRICT;
\set svcbody 'SELECT setenv(''PGSERVICEFILE'', ' :'srcdir' ' || ''/'' || $1)'
CREATE FUNCTION set_pgservicefile(text) RETURNS void LANGUAGE SQL
  AS :'svcbody';
EOF
grep -v '^$' "$in/sql/upstream_prelude.sql" >"$in/expected/upstream_prelude.out"
# A service whose only entry is an LDAP lookup of an address where nothing
# answers: an LDAP-enabled libpq gives up on it and connects with the rest
# of the string; a libpq without LDAP calls it a syntax error.
cat >"$in/pg_service.conf" <<'EOF'
# service file for the upstream dblink test (LDAP lookup that cannot succeed)
[test_ldap]
ldap://127.0.0.1:9/base?attribute?one?filter
EOF
cp "$SQL" "$in/sql/dblink.sql"
cp "$OUT" "$in/expected/dblink.out"
chown -R "$PG_OS_USER:" "$in" "$out" "$helper"
chmod -R a+rX "$in" "$out" "$helper"

tests=( upstream_prelude dblink )
grep -q regress_setenv "$in/sql/dblink.sql" && tests=( dblink )

cluster_start upstream "$DBLINK_TMP/stage" auto || exit 1
timeout -k 10 300 "$PG_REGRESS" --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" \
	--inputdir="$in" --outputdir="$out" --dlpath="$helper" \
	--dbname=contrib_regression "${tests[@]}"
rc=$?
if [[ -s $out/regression.diffs ]]; then
	cat "$out/regression.diffs"
	echo "(diffs: $out/regression.diffs)"
fi
if crash=$(log_has_crash "$LOGFILE"); then
	echo "$crash"
	echo "the server log shows a crash: $LOGFILE"
	rc=1
fi
cluster_stop upstream
exit $rc
