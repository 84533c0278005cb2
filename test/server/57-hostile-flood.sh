#!/usr/bin/env bash
# test/server/57-hostile-flood.sh — a remote server that floods the
# backend (issue 18), through the fake server fakepg.py.
#
#   (4) Instead of the answer, NoticeResponses (or ParameterStatus) without
#       end, as fast as the socket takes them: statement_timeout 300ms
#       ends dblink() (and dblink_get_result) with 57014 within 1 s;
#       pg_cancel_backend ends it within 500 ms, pg_terminate_backend the
#       backend within 500 ms; the next call on the connection fails
#       within 8 s (the cancelled query's drain gives up at its deadline
#       under the flood too).  Before: the backend ignored all three
#       while the flood went on (contrib 15 too: its libpq waits are not
#       interruptible; these are not run against it).
#   (2) While connecting, after AuthenticationOk, ParameterStatus messages
#       of distinct names and about 29,000 bytes each, without end, with
#       statement_timeout 3s, under a data size limit (ulimit -d, as in
#       55): a clean ERROR (could not establish connection, or 57014)
#       within 4 s, in the same backend, no crash.  Before: the Go runtime
#       ran out of memory ("fatal error: runtime: out of memory") and the
#       cluster crash-restarted.
#   (3) 20,000 NotificationResponses (7 bytes of payload each) that arrived
#       on a connection: dblink_get_notify returns them all within 1 s
#       (contrib 15: about 20 ms; before: 3 s, quadratic); 200,000: all
#       within 2 s or 57014 from statement_timeout 2s within 2.5 s; and
#       pg_terminate_backend ends such a call within 500 ms.  Before: 200,000
#       took minutes and the backend ignored pg_terminate_backend.
#   And the cluster's log has no crash.
#
# Run by test/run.sh (env STAGE, PGBIN, TMPDIR, DBLINK_REPO); starts and
# stops its own cluster.
set -uo pipefail

: "${STAGE:?}" "${TMPDIR:?}"
REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$REPO/test/server-lib.sh"
DATA_LIMIT_KB=600000
# a session whose backend crashed must not end the test
trap '' PIPE

own_cluster flood
if ! (ulimit -d "$DATA_LIMIT_KB" && restart_own_cluster); then
	notok "could not restart the cluster with a data size limit"
	exit 1
fi
hostile_setup flood

# terminated_within WHAT MS: one check that pg_terminate_backend ends the
# backend BPID within MS.
terminated_within() {
	local t0
	t0=$(now_ms)
	q "SELECT pg_terminate_backend($BPID)" >/dev/null
	wait_for "SELECT count(*) FROM pg_stat_activity WHERE pid = $BPID" 0 3000
	check "$1 within $2 ms (took $(( $(now_ms) - t0 )) ms)" [ $(( $(now_ms) - t0 )) -le "$2" ]
}

# start NAME: a session connected to the fake server as 'f'; BPID is its
# backend's pid.
start() {
	sess_open "$1" postgres
	sess_run "$1" "SELECT pg_backend_pid(); SELECT dblink_connect('f', '$FCONN dbname=x');" 20
	BPID=$(head -1 <<<"$SESS_OUT")
}
# finish NAME: close the session; a backend that is still there after 3 s
# (it ignored pg_terminate_backend) is killed, which restarts the cluster.
finish() {
	sess_close "$1"
	q "SELECT pg_terminate_backend($BPID)" >/dev/null
	if ! wait_for "SELECT count(*) FROM pg_stat_activity WHERE pid = $BPID" 0 3000; then
		notok "$1: backend $BPID still there 3 s after pg_terminate_backend: killed"
		kill -9 "$BPID"
		sleep 1
		wait_until 20 "$PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT"
	fi
}
# within WHAT MS: the last sess_wait ended within MS
ended() { check "$1 (took ${SESS_MS} ms: ${SESS_OUT//$'\n'/ | })" eval "(( rc == 0 && SESS_MS <= $2 ))"; }

if [[ $KIND == ours ]]; then
	# --- (4) notices or settings without end -----------------------------------
	for flood in 'N*' 'S*'; do
		start f4
		sess_run f4 "SET statement_timeout = '300ms'; SELECT * FROM dblink('f', 's:$flood') AS t(a text);" 3; rc=$?
		ended "(4) $flood: statement_timeout ends dblink() within 1 s" 1000
		check "(4) $flood: ... with 57014" grep -q 'ERROR:  57014' <<<"$SESS_OUT"
		# the rest is drained on a goroutine, which gives up at the cancel's
		# deadline (5 s) even while the flood goes on: the next call on the
		# connection then fails, instead of waiting for a drain without end
		sess_run f4 "SET statement_timeout = '12s'; SELECT dblink_exec('f', 'SELECT 1');" 15; rc=$?
		check "(4) $flood: the next call on the connection fails within 8 s, not at its statement_timeout (took ${SESS_MS} ms: ${SESS_OUT//$'\n'/ | })" \
			eval '(( rc == 0 && SESS_MS <= 8000 )) && grep -q "ERROR:" <<<"$SESS_OUT" && ! grep -q 57014 <<<"$SESS_OUT"'
		finish f4
	done
	start f4
	sess_run f4 "SELECT dblink_send_query('f', 's:N*'); SET statement_timeout = '300ms'; SELECT * FROM dblink_get_result('f') AS t(a text);" 3; rc=$?
	ended "(4) N*: statement_timeout ends dblink_get_result within 1 s" 1000
	finish f4
	start f4
	sess_send f4 "SELECT * FROM dblink('f', 's:N*') AS t(a text);"
	sleep 0.5
	q "SELECT pg_cancel_backend($BPID)" >/dev/null
	S_T0[f4]=$(now_ms)
	sess_wait f4 3; rc=$?
	ended "(4) N*: pg_cancel_backend ends dblink() within 500 ms" 500
	check "(4) N*: ... with 57014" grep -q 'ERROR:  57014' <<<"$SESS_OUT"
	finish f4
	start f4
	sess_send f4 "SELECT * FROM dblink('f', 's:N*') AS t(a text);"
	sleep 0.5
	terminated_within "(4) N*: pg_terminate_backend ends the backend" 500
	finish f4

	# --- (2) settings without end while connecting ------------------------------
	sess_open f2 postgres
	sess_run f2 "SELECT pg_backend_pid();"
	BPID=$SESS_OUT
	sess_run f2 "SET statement_timeout = '3s'; SELECT dblink_connect('p', '$FCONN dbname=''s:auth S*''');" 6; rc=$?
	ended "(2) ParameterStatus without end while connecting: an ERROR within 4 s" 4000
	check "(2) ... could not establish connection or 57014" \
		grep -Eq 'ERROR:  (08001: could not establish connection|57014)' <<<"$SESS_OUT"
	sess_run f2 "SELECT pg_backend_pid();"
	check "(2) ... in the same backend" [ "$SESS_OUT" = "$BPID" ]
	finish f2
else
	echo "# (4) and (2): contrib 15's libpq waits are not interruptible: not run"
fi

# --- (3) many notifications ---------------------------------------------------
start f3
sess_run f3 "SELECT * FROM dblink('f', 's:C Z A20000') AS t(a text); SELECT pg_sleep(0.3);"
sess_run f3 "SELECT count(*), min(notify_name), max(extra) FROM dblink_get_notify('f');" 10; rc=$?
check "(3) 20,000 notifications: all of them (${SESS_OUT//$'\n'/ | })" grep -qx '20000|c|1234567' <<<"$SESS_OUT"
ended "(3) 20,000 notifications: within 1 s" 1000
finish f3
start f3
sess_run f3 "SELECT * FROM dblink('f', 's:C Z A200000') AS t(a text); SELECT pg_sleep(0.5);"
sess_run f3 "SET statement_timeout = '2s'; SELECT count(*) FROM dblink_get_notify('f');" 10; rc=$?
check "(3) 200,000 notifications: all within 2 s, or 57014 within 2.5 s (took $SESS_MS ms: ${SESS_OUT//$'\n'/ | })" \
	eval '(( rc == 0 )) && { { grep -qx 200000 <<<"$SESS_OUT" && (( SESS_MS <= 2000 )); } || { grep -q "ERROR:  57014" <<<"$SESS_OUT" && (( SESS_MS <= 2500 )); }; }'
finish f3
start f3
sess_run f3 "SELECT * FROM dblink('f', 's:C Z A200000') AS t(a text); SELECT pg_sleep(0.5);"
sess_send f3 "SELECT count(*) FROM dblink_get_notify('f');"
sleep 0.1
terminated_within "(3) 200,000 notifications: pg_terminate_backend ends dblink_get_notify" 500
finish f3

check_no_crash "no crash in the cluster's log" "$LOGFILE" "$log_off"
exit $(( FAILS > 0 ))
