#!/usr/bin/env bash
# test/server/12-quickdie.sh — PostgreSQL's SIGQUIT handler runs on the Go
# runtime's signal stack.
#
# Loaded as a c-shared library, the Go runtime adds SA_ONSTACK to every
# handler PostgreSQL installed and leaves its own 32 kB signal stack as the
# backend's alternate stack between calls, so PostgreSQL's handlers run on
# it. Most only set a flag; quickdie (SIGQUIT, sent by the postmaster when
# another backend crashed, or at an immediate shutdown) sends a WARNING to
# the client first, the deepest of them. A handler that overran that
# stack would be a SIGSEGV instead of quickdie's exit code 2.
#   (1) a backend that used dblink and waits in a dblink call gets SIGQUIT:
#       its client gets quickdie's WARNING;
#   (2) the postmaster saw exit code 2, not a signal.
# The postmaster then restarts the cluster, as it does for any SIGQUIT'ed
# backend: this test has a cluster of its own.
#
# Run by test/run.sh (env STAGE, PGBIN, TMPDIR, DBLINK_REPO).
set -uo pipefail

: "${STAGE:?}" "${TMPDIR:?}"
REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$REPO/test/server-lib.sh"

own_cluster quickdie
log_off=$(stat -c %s "$LOGFILE")

sess_open s postgres
sess_run s "CREATE EXTENSION IF NOT EXISTS dblink; SELECT dblink_connect('q', 'dbname=postgres'); SELECT pg_backend_pid();"
pid=$(tail -n1 <<<"$SESS_OUT")
sess_send s "SELECT * FROM dblink('q', 'SELECT pg_sleep(30)') AS t(a text);"
wait_until 5 bash -c "$PSQL -X -At -d postgres -c \"SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'\" | grep -qx 1"
kill -QUIT "$pid"
sess_wait s 10
check "(1) quickdie's WARNING reached the client (${SESS_OUT//$'\n'/ | })" \
	grep -q 'terminating connection because of unexpected SIGQUIT signal' <<<"$SESS_OUT"
sess_close s

wait_until 10 grep -q "PID $pid" <(tail -c +$((log_off + 1)) "$LOGFILE")
line=$(tail -c +$((log_off + 1)) "$LOGFILE" | grep "(PID $pid)" | head -n1)
check "(2) the backend exited with code 2, not by a signal ($line)" \
	eval '[[ $line == *"exited with exit code 2"* ]]'
exit $((FAILS > 0))
