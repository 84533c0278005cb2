#!/usr/bin/env bash
# test/server/15-loading.sh — how the Go core is loaded.
#
#   - shared_preload_libraries = 'dblink' is harmless: the postmaster maps
#     dblink.so but never the Go core (a Go runtime does not survive fork),
#     backends load it on first use and work, and a terminated backend does
#     not make the postmaster crash-restart;
#   - a missing Go core gives a clear ERROR, not a crash, and the session
#     goes on;
#   - figures: the first call's time and the backend's RSS before/after
#     loading (printed, not asserted; bench/ compares them with contrib).
#
# Run by test/run.sh (env PGHOST, PGPORT, STAGE, PGBIN, TMPDIR, DBLINK_REPO).
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${TMPDIR:?}" "${DBLINK_REPO:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
q() { "$PGBIN/psql" -X -q -At -d postgres -c "$1" 2>&1; }

# --- figures on the main cluster ---------------------------------------------
fig=$("$PGBIN/psql" -X -q -At -d postgres 2>&1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1] AS before \gset
SELECT clock_timestamp() AS t0 \gset
SELECT dblink_connect('fig', 'dbname=postgres') \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1) AS ms \gset
SELECT :'before', (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1], :'ms';
SQL
)
IFS='|' read -r rss0 rss1 ms <<<"${fig##*$'\n'}"
echo "# first dblink_connect in a fresh backend: ${ms} ms; VmRSS ${rss0} kB before, ${rss1} kB after (+$(( ${rss1:-0} - ${rss0:-0} )) kB)"

# --- shared_preload_libraries ------------------------------------------------
export DBLINK_TMP=$TMPDIR/clusters
mkdir -p "$DBLINK_TMP"
# shellcheck source=../lib.sh
source "$DBLINK_REPO/test/lib.sh"
tmp_init
main_host=$PGHOST main_port=$PGPORT
if cluster_start preload "$STAGE" >/dev/null 2>&1; then
	echo "shared_preload_libraries = 'dblink'" >>"$PGDATA/postgresql.conf"
	as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOGFILE" -w -t 60 restart >/dev/null 2>&1
	pm=$(head -1 "$PGDATA/postmaster.pid")
	if [[ $(q "SHOW shared_preload_libraries") == dblink ]]; then ok "the cluster runs with shared_preload_libraries = 'dblink'"; else notok "shared_preload_libraries not set"; fi
	if grep -q '/dblink\.so' "/proc/$pm/maps"; then ok "the postmaster has dblink.so loaded"; else notok "dblink.so is not loaded in the postmaster"; fi
	if grep -q 'dblink_go\.so' "/proc/$pm/maps"; then notok "the postmaster loaded the Go core"; else ok "the postmaster did not load the Go core"; fi
	q "CREATE EXTENSION dblink" >/dev/null
	got=$(q "SELECT dblink_connect('p', 'dbname=postgres'); SELECT * FROM dblink('p', 'SELECT 40 + 2') AS t(x int)")
	if [[ $got == *42* ]]; then ok "a backend loads the Go core on first use and queries (got: ${got//$'\n'/ })"; else notok "dblink in a preloaded cluster: $got"; fi
	"$PGBIN/psql" -X -q -At -d postgres -c "SELECT dblink_connect('p', 'dbname=postgres')" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
	bg=$!
	sleep 1
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
	wait $bg
	sleep 0.5
	check "terminating a backend with the Go core loaded: the postmaster is the same" [ "$(head -1 "$PGDATA/postmaster.pid")" = "$pm" ]
	check_no_crash "no crash line in the preloaded cluster's log" "$LOGFILE" 0
	cluster_stop preload >/dev/null 2>&1
else
	notok "could not start a cluster with shared_preload_libraries = 'dblink'"
fi
export PGHOST=$main_host PGPORT=$main_port

# --- a missing Go core -------------------------------------------------------
if [[ $KIND == ours ]]; then
	lib=$STAGE/usr/lib/postgresql/15/lib/dblink_go.so
	mv "$lib" "$lib.hidden"
	trap 'mv -f "$lib.hidden" "$lib" 2>/dev/null; lib_cleanup' EXIT
	out=$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -d postgres -c "SELECT dblink_connect('m', 'dbname=postgres')" -c "SELECT 'alive'" 2>&1)
	mv -f "$lib.hidden" "$lib"
	if grep -q "could not load dblink's Go core" <<<"$out" && grep -qx alive <<<"$out"; then
		ok "a missing Go core: clear ERROR, the session goes on ($(grep -m1 ERROR <<<"$out"))"
	else
		notok "a missing Go core: $out"
	fi
	if [[ $(q "SELECT dblink_connect('m', 'dbname=postgres')") == OK ]]; then ok "once restored, a new backend loads it"; else notok "the Go core does not load after restoring it"; fi
fi

printf '# %d check(s) failed\n' "$FAILS"
(( FAILS == 0 ))
