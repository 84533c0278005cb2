#!/usr/bin/env bash
# test/server/20-remote-interrupts.sh — a remote query in dblink() is
# interruptible, and the remote side is cancelled too (issue: remote queries).
#
# For pg_cancel_backend, statement_timeout and pg_terminate_backend while
# dblink() waits on a remote pg_sleep(30):
#   - the local statement ends within LOCAL_MS (200 ms asked; the check
#     allows scheduling noise on a loaded 2-core machine, the figure is
#     printed),
#   - the remote query is gone from pg_stat_activity within 1 s,
#   - (cancel, timeout) the named connection answers the next query,
#   - no crash-restart of the postmaster.
# Then a remote backend terminated mid-query gives a clean ERROR and a fresh
# dblink_connect works.
#
# Run by test/run.sh with PGHOST, PGPORT, STAGE, LOGFILE, TMPDIR set.
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${LOGFILE:?}" "${TMPDIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
export PGUSER=postgres PGDATABASE=postgres
unset PGOPTIONS
LOCAL_MS=${LOCAL_MS:-1000}

q() { "$PSQL" -X -q -At -c "$1"; }

q "CREATE EXTENSION IF NOT EXISTS dblink" >/dev/null 2>&1
pm_before=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null || echo unknown)
log_off=$(stat -c %s "$LOGFILE")

remote_active() { echo "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1' AND query LIKE '%pg_sleep(30)%'"; }

# run_case NAME HOW: HOW is cancel | timeout | terminate.
run_case() {
	local how=$1 app=rq_$1 local_app=lq_$1 out=$TMPDIR/rq_$1.out opts=""
	[[ $how == timeout ]] && opts="-c statement_timeout=1500"
	PGAPPNAME=$local_app PGOPTIONS="$opts" "$PSQL" -X -At -v VERBOSITY=verbose >"$out" 2>&1 <<-SQL &
		SELECT dblink_connect('c', 'dbname=postgres application_name=$app');
		SELECT 'STARTED', (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
		SELECT * FROM dblink('c', 'SELECT pg_sleep(30)') AS t(x text);
		SELECT 'ENDED', (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
		SELECT * FROM dblink('c', 'SELECT 42') AS t(x int);
	SQL
	local bg=$! t0 lpid
	if ! wait_for "$(remote_active "$app")" 1 5000; then
		notok "$how: the remote query never started"; kill $bg 2>/dev/null; wait $bg; return
	fi
	lpid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = '$local_app'")
	# server-side clock readings: when the interrupt was sent, when the
	# local session ran its next statement
	case $how in
	cancel) t0=$(q "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM pg_cancel_backend($lpid)") ;;
	terminate) t0=$(q "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM pg_terminate_backend($lpid)") ;;
	timeout) t0=$(( $(sed -n 's/^STARTED|//p' "$out") + 1500 )) ;;
	esac
	local waited=0 ms
	while (( waited < 5000 )) && ! grep -q -e '^ENDED|' -e 57P01 "$out"; do sleep 0.01; waited=$((waited + 10)); done
	if [[ $how == terminate ]]; then
		# the session is gone: measure from this side
		ms=$(( $(now_ms) - t0 ))
	else
		ms=$(( $(sed -n 's/^ENDED|//p' "$out") - t0 ))
	fi
	if [[ $how == timeout ]]; then
		# statement_timeout counts from the statement's start, just after STARTED
		if grep -q '^ENDED|' "$out" && (( ms < LOCAL_MS )); then ok "$how: local statement ended ${ms} ms after its 1500 ms timeout"; else notok "$how: local statement did not end in time (${ms} ms): $(cat "$out")"; fi
	else
		if grep -q -e '^ENDED|' -e 57P01 "$out" && (( ms < LOCAL_MS )); then ok "$how: local statement ended ${ms} ms after the interrupt"; else notok "$how: local statement did not end within ${LOCAL_MS} ms (${ms} ms): $(cat "$out")"; fi
	fi
	if wait_for "$(remote_active "$app")" 0 1000; then
		ok "$how: remote query gone after ${WAITED} ms"
	else
		notok "$how: remote query still running after 1 s"
	fi
	wait $bg
	case $how in
	cancel|timeout)
		if grep -qx 42 "$out"; then ok "$how: the connection answers the next query"; else notok "$how: the connection is not usable afterwards: $(cat "$out")"; fi ;;
	terminate)
		if grep -q 57P01 "$out"; then ok "$how: the client got 57P01"; else notok "$how: no 57P01: $(cat "$out")"; fi ;;
	esac
}

run_case cancel
run_case timeout
run_case terminate

# a remote backend terminated mid-query
out=$TMPDIR/rq_kill.out
"$PSQL" -X -At -v VERBOSITY=verbose >"$out" 2>&1 <<-SQL &
	SELECT dblink_connect('k', 'dbname=postgres application_name=rq_victim');
	SELECT * FROM dblink('k', 'SELECT pg_sleep(30)') AS t(x text);
	SELECT dblink_get_connections();
	SELECT dblink_disconnect('k');
	SELECT dblink_connect('k', 'dbname=postgres application_name=rq_victim');
	SELECT * FROM dblink('k', 'SELECT 43') AS t(x int);
SQL
bg=$!
if wait_for "$(remote_active rq_victim)" 1 5000; then
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rq_victim'" >/dev/null
fi
wait $bg
if grep -q '^ERROR:  57P01: terminating connection due to administrator command' "$out" || grep -q '^ERROR:  08006' "$out"; then
	ok "remote backend killed mid-query: clean ERROR"
else
	notok "remote backend killed mid-query: no clean ERROR: $(cat "$out")"
fi
if grep -qx 43 "$out"; then ok "a fresh dblink_connect works afterwards"; else notok "reconnect failed: $(cat "$out")"; fi

pm_after=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null || echo unknown)
check "no postmaster restart" [ "$pm_before" = "$pm_after" ]
check_no_crash "no crash line in the server log" "$LOGFILE" "$log_off"

printf '# %d check(s) failed\n' "$FAILS"
(( FAILS == 0 ))
