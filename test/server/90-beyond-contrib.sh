#!/usr/bin/env bash
# test/server/90-beyond-contrib.sh — what version 1.3 and the settings add:
#   - dblink_connections() shows `closed` for a connection whose remote
#     backend was terminated, before anything touches the connection;
#   - dblink.connect_timeout ends a connect to a listener that never
#     answers; a connect_timeout in the string wins over it;
#   - dblink.remote_notices = relay: a remote NOTICE reaches the psql user;
#   - a backend waiting on a remote server shows wait_event_type
#     'Extension' to a second session.
# Run by test/run.sh (env PGHOST, PGPORT, STAGE, PGBIN, TMPDIR, LOGFILE).
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${TMPDIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
if [[ $KIND != ours ]]; then
	echo "# contrib has no version 1.3 and no settings: nothing to check"
	exit 0
fi
DB=dblink_v13
q() { "$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -d "${QDB:-$DB}" "$@" 2>&1; }
QDB=postgres q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
q -c "CREATE EXTENSION dblink VERSION '1.3'" >/dev/null

# --- closed, seen without touching the connection -----------------------------
out=$(q <<-SQL
	SELECT dblink_connect('c', 'dbname=$DB') IS NULL;
	SELECT status FROM dblink_connections() WHERE name = 'c';
	SELECT pg_terminate_backend(remote_pid) FROM dblink_connections() WHERE name = 'c';
	SELECT pg_sleep(0.5);
	SELECT status FROM dblink_connections() WHERE name = 'c';
	SELECT * FROM dblink('c', 'SELECT 1') AS t(x int);
	SELECT status FROM dblink_connections() WHERE name = 'c';
SQL
)
check "closed: ok, then closed once the remote backend is gone (${out//$'\n'/ | })" \
	grep -qzP 'f\nok\nt\n\nclosed\n' <<<"$out"
check "  ... and the next query fails as a lost connection (08006/XX000), after which it is bad" \
	grep -qzP '(?s)ERROR:  (08006|XX000).*\nbad\n' <<<"$out"

# --- dblink.connect_timeout against a listener that never answers -----------------
LPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 - "$LPORT" <<-'PY' &
	import socket, sys, time
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", int(sys.argv[1])))
	s.listen(16)
	s.settimeout(0.2)
	held, end = [], time.time() + 30
	while time.time() < end:
	    try:
	        held.append(s.accept()[0])
	    except socket.timeout:
	        pass
PY
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null' EXIT
sleep 0.5
timed() {
	local t0
	t0=$(now_ms)
	TIMED_OUT=$(q -c "SET dblink.connect_timeout = 2" -c "$1")
	TIMED_MS=$(( $(now_ms) - t0 ))
}
timed "SELECT dblink_connect('s', 'host=127.0.0.1 port=$LPORT dbname=x')"
check "dblink.connect_timeout = 2 ends the connect: timeout expired after ${TIMED_MS} ms (${TIMED_OUT//$'\n'/ | })" \
	grep -q 'timeout expired' <<<"$TIMED_OUT"
check "  ... after about 2 s" [ "$TIMED_MS" -ge 1800 -a "$TIMED_MS" -lt 5000 ]
timed "SELECT dblink_connect('s', 'host=127.0.0.1 port=$LPORT dbname=x connect_timeout=4')"
check "the string's connect_timeout=4 wins over the setting (${TIMED_MS} ms)" \
	[ "$TIMED_MS" -ge 3800 -a "$TIMED_MS" -lt 8000 ]
kill $LISTENER 2>/dev/null

# --- relay ---------------------------------------------------------------------
out=$(q -c "SET dblink.remote_notices = relay" -c "\\set SHOW_CONTEXT always" \
	-c "SELECT * FROM dblink('dbname=$DB', \$q\$DO \$d\$ BEGIN RAISE NOTICE 'relayed to you'; END \$d\$\$q\$) AS t(x text)")
check "relay: the remote NOTICE reaches the client, naming the connection (${out//$'\n'/ | })" \
	grep -qzP '(?s)NOTICE:  00000: relayed to you\n.*CONTEXT:  remote message on unnamed dblink connection' <<<"$out"

# --- wait events, seen from a second session ------------------------------------------
q -c "SET application_name = dblink_waiter" \
	-c "SELECT * FROM dblink('dbname=$DB', 'SELECT pg_sleep(3)') AS t(x text)" >/dev/null &
WAITER=$!
seen=
for _ in $(seq 1 100); do
	seen=$(q -c "SELECT wait_event_type || '/' || coalesce(wait_event, '') FROM pg_stat_activity WHERE application_name = 'dblink_waiter' AND state = 'active'")
	[[ $seen == Extension/* ]] && break
	sleep 0.05
done
check "a backend waiting on its remote shows wait_event_type Extension to another session (got: ${seen:-nothing})" \
	[ "${seen%%/*}" = Extension ]
wait $WAITER

QDB=postgres q -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null
printf '# %d check(s) failed\n' "$FAILS"
(( FAILS == 0 ))
