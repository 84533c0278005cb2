#!/usr/bin/env bash
# test/server/58-hostile-nesting.sh — late cancels, a disconnect nested in
# a conversion, notifications behind a pending result (issue 18).
#
#   (6) Against a real remote (this cluster, dbname=postgres), 60 times:
#       SET statement_timeout just above a remote pg_sleep's duration, the
#       dblink() of that pg_sleep, RESET, then a plain dblink() statement:
#       the plain statement never fails with 57014 (a late cancel request
#       that hit the next statement).  Contrib 15 sends no cancel: 0.
#   (6b) The same, made certain with the fake server: its cancel requests
#       take effect 400 ms after they arrive (a busy postmaster), and only
#       then is the request's socket closed. statement_timeout cancels a
#       statement that then ends on its own at 200 ms; the next statement
#       runs 150-650 ms. Before a cancel request was waited for, the
#       connection was handed back at 200 ms and the late cancel (500 ms)
#       hit the next statement; now the next one starts after it, when the
#       session is idle and the fake server drops it, as PostgreSQL does.
#   (7) dblink_disconnect('c') from a domain CHECK (a plpgsql function)
#       while dblink() converts a result of c, a small one and one of
#       100,000 rows: an ERROR (contrib 15: "out of memory", with its
#       CONTEXT; the socket must not be closed under the reader), and the
#       session goes on: SELECT 1 and a new
#       dblink to this cluster work.
#   (8) dblink_send_query pending on a connection whose remote sent a
#       row, a NotificationResponse, then the end of the result:
#       dblink_get_notify returns the notification (as contrib: libpq
#       parses all that arrived), and dblink_get_result then returns the
#       row.  (A notification after the whole result is not seen by
#       contrib 15 either: libpq stops parsing at a complete result.)
#   And the cluster's log has no crash.
#
# Run by test/run.sh (env STAGE, PGBIN, TMPDIR, DBLINK_REPO); starts and
# stops its own cluster.
set -uo pipefail

: "${STAGE:?}" "${TMPDIR:?}"
REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$REPO/test/server-lib.sh"

own_cluster nesting
hostile_setup nesting
sq() {
	wait_until 20 "$PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT"
	OUT=$(timeout 60 "$PSQL" -X -q -At -v VERBOSITY=default -d postgres 2>&1)
}
sq <<'SQL'
CREATE FUNCTION plain() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM * FROM dblink('r', 'SELECT 1') AS t(a int);
	RETURN 'fine';
EXCEPTION WHEN query_canceled THEN
	RETURN 'spurious: ' || SQLERRM;
END $$;
CREATE FUNCTION disc() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
	IF 'c' = ANY (dblink_get_connections()) THEN
		PERFORM dblink_disconnect('c');
	END IF;
	RETURN true;
END $$;
CREATE DOMAIN dd AS text CHECK (disc());
SQL

# --- (6) late cancels -----------------------------------------------------------
{
	echo "SELECT dblink_connect('r', 'dbname=postgres');"
	for ((i = 0; i < 60; i++)); do
		ms=$(( 20 + i % 4 ))
		printf "SET statement_timeout = '%dms';\nSELECT * FROM dblink('r', 'SELECT pg_sleep(0.0%02d)') AS t(a text);\nRESET statement_timeout;\nSELECT plain();\n" \
			$(( ms + 1 + i % 3 )) "$ms"
	done
} >"$TMPDIR/late-cancel.sql"
sq <"$TMPDIR/late-cancel.sql"
n=$(grep -c '^spurious' <<<"$OUT")
check "(6) no late cancel hit the next statement in 60 rounds ($n did: $(grep -m1 '^spurious' <<<"$OUT"))" [ "$n" = 0 ]
check "(6) every plain statement ran ($(grep -c '^fine' <<<"$OUT") of 60)" [ "$(grep -c -e '^fine' -e '^spurious' <<<"$OUT")" = 60 ]

# --- (6b) a late cancel made certain -----------------------------------------------
sq <<-SQL
SELECT dblink_connect('s', '$FCONN dbname=''s:auth params key slowcancel:400 Z''');
SET statement_timeout = '100ms';
SELECT 'first', * FROM dblink('s', 's:T1 D:a sleep:200 checkcancel C Z') AS t(a text);
RESET statement_timeout;
SELECT 'next', * FROM dblink('s', 's:T1 D:b sleep:150 checkcancel sleep:500 checkcancel C Z') AS t(a text);
SQL
check "(6b) a cancel that arrived late did not hit the next statement (${OUT//$'\n'/ | })" \
	grep -qx 'next|b' <<<"$OUT"
check "(6b) ... and the first statement was cancelled" grep -q 'canceling statement due to statement timeout' <<<"$OUT"
check "(6b) ... and the cancel request reached the server, late ($(grep '^cancel-applied' "$FEVENTS" | head -n1))" \
	grep -q '^cancel-applied' "$FEVENTS"

# --- (7) dblink_disconnect nested in a conversion ----------------------------------
for rows in 3 100000; do
	sq <<-SQL
	SET statement_timeout = '20s';
	SELECT dblink_connect('c', 'dbname=postgres');
	SELECT 'rows', count(*) FROM dblink('c', 'SELECT g::text FROM generate_series(1, $rows) g') AS t(a dd);
	SELECT 'alive', 1;
	SELECT 'local', * FROM dblink('dbname=postgres', 'SELECT 2') AS t(a int);
	SQL
	check "(7) dblink_disconnect in a conversion of $rows rows: an ERROR (${OUT//$'\n'/ | })" \
		eval 'grep -q "^ERROR:" <<<"$OUT" && ! grep -q "^rows|" <<<"$OUT"'
	check "(7) ... and the session goes on" eval 'grep -qx "alive|1" <<<"$OUT" && grep -qx "local|2" <<<"$OUT"'
done

# --- (8) a notification behind a pending result ------------------------------------
sq <<-SQL
SET statement_timeout = '10s';
SELECT dblink_connect('a', '$FCONN dbname=x');
SELECT 'send', dblink_send_query('a', 's:T1 D:r A C Z');
SELECT pg_sleep(0.3);
SELECT 'notify', notify_name, extra FROM dblink_get_notify('a');
SELECT 'result', * FROM dblink_get_result('a') AS t(a text);
SQL
check "(8) dblink_get_notify returns the notification behind a pending result (${OUT//$'\n'/ | })" \
	grep -qx 'notify|c|payload' <<<"$OUT"
check "(8) ... and dblink_get_result the row" grep -qx 'result|r' <<<"$OUT"

check_no_crash "no crash in the cluster's log" "$LOGFILE" "$log_off"
exit $(( FAILS > 0 ))
