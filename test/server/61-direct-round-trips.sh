#!/usr/bin/env bash
# test/server/61-direct-round-trips.sh — small queries whose round trip the
# shim makes itself (csrc/direct.c, issue 20), and every way out of it.
#
#   (1) dblink() and dblink_exec() on an idle plain connection are answered
#       without the Go core (dblink_debug_state's direct_answered counts
#       them), with the right rows, NULLs, empty strings, no rows, the last
#       of several results, a command's status row and dblink_exec's tag;
#       dblink_connections() counts them; a name disconnected and
#       connected again is answered on its new connection.
#   (2) What the Go core must learn afterwards: the transaction status (a
#       BEGIN made by the shim keeps dblink_open from opening one of its
#       own and dblink_close from committing it), libpq's error text (reset
#       to OK by a query the shim answered), the remote DateStyle (a change
#       is the Go core's to read; the shim's next answer converts dates
#       with it).
#   (3) Handed over to the Go core (direct_adopted): a remote error (with
#       fail_on_error false: a NOTICE, the connection goes on), a relayed
#       NOTICE, an answer longer than the shim reads (100 kB value, whole),
#       a notification behind ReadyForQuery (dblink_get_notify gets it), an
#       answer split over many packets stays the shim's, a query too long
#       for the shim; dblink_exec of a row result fails as contrib's and the
#       connection stays usable.
#   (4) A nested call on the connection while the shim converts its rows
#       (a domain check calling dblink) gets "another command is already in
#       progress", dblink_disconnect in it gets 55006, and the connection
#       is free again after the error.
#   (5) A TLS-less connection over TCP to the fake server, whose answer
#       arrives in pieces: the shim's reads add up; cancel while it waits
#       ends the call at once and cancels the remote statement.
#   (6) The cursor and async calls find a registered name in the shim's
#       cache: dblink_is_busy and dblink_error_message make one call into
#       the Go core each, not a lookup call before it; a name not
#       registered still fails as contrib's.
#   And the cluster's log has no crash.
#
# Run by test/run.sh (env STAGE, PGBIN, TMPDIR, DBLINK_REPO); starts and
# stops its own cluster.
set -uo pipefail

: "${STAGE:?}" "${TMPDIR:?}"
REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$REPO/test/server-lib.sh"
if [[ $KIND != ours ]]; then
	ok "the shim's own round trips are ours alone # contrib has none: not checked"
	exit 0
fi

own_cluster direct
hostile_setup direct
q "CREATE FUNCTION dblink_debug_state() RETURNS text AS '\$libdir/dblink', 'dblink_debug_state' LANGUAGE C" >/dev/null
q "ALTER EXTENSION dblink UPDATE TO '1.3'" >/dev/null

line() { grep -qxF -- "$1" <<<"$OUT"; }
# counts: the shim's counters, as "answered adopted"
counts='SELECT $$counts|$$ || substring(dblink_debug_state() from $$direct_answered=(\d+)$$) || $$ $$ || substring(dblink_debug_state() from $$direct_adopted=(\d+)$$);'
# delta A B: OUT's counts lines A and B (1-based) differ by "answered adopted"
delta() {
	local a b
	a=$(grep '^counts|' <<<"$OUT" | sed -n "${1}p" | cut -d'|' -f2)
	b=$(grep '^counts|' <<<"$OUT" | sed -n "${2}p" | cut -d'|' -f2)
	[[ -n $a && -n $b ]] || return 1
	printf '%s %s\n' $(( ${b% *} - ${a% *} )) $(( ${b#* } - ${a#* } ))
}
ALL=

# --- (1) answered by the shim ----------------------------------------------------
sq >/dev/null <<SQL
SELECT dblink_connect('c', 'dbname=postgres');
SELECT 'warm', * FROM dblink('c', 'SELECT 1') AS t(a int);
$counts
SELECT 'one', * FROM dblink('c', 'SELECT 1, NULL::text, ''''') AS t(a int, b text, c text);
SELECT 'nulls', b IS NULL, c = '' FROM dblink('c', 'SELECT 1, NULL::text, ''''') AS t(a int, b text, c text);
SELECT 'none', count(*) FROM dblink('c', 'SELECT 1 WHERE false') AS t(a int);
SELECT 'last', * FROM dblink('c', 'SELECT 1, ''one''; SELECT 2, ''two''') AS t(a int, b text);
SELECT 'status', * FROM dblink('c', 'CREATE TEMP TABLE tt (a int)') AS t(s text);
SELECT 'exec', dblink_exec('c', 'INSERT INTO tt SELECT generate_series(1, 3)');
SELECT 'exec2', dblink_exec('c', 'INSERT INTO tt VALUES (4); DELETE FROM tt WHERE a = 1');
SELECT 'rows', * FROM dblink('c', 'SELECT a, a * 2 FROM tt ORDER BY a') AS t(a int, b int);
$counts
SELECT 'queries', queries FROM dblink_connections() WHERE name = 'c';
SELECT dblink_disconnect('c');
SELECT 'gone', * FROM dblink('c', 'SELECT 1') AS t(a int);
SELECT dblink_connect('c', 'dbname=postgres');
SELECT 'again', * FROM dblink('c', 'SELECT 5') AS t(a int);
$counts
SQL
ALL+="--- (1)"$'\n'"$OUT"$'\n'
check "(1) values: 1, NULL, '' (got: ${OUT//$'\n'/ | })" line 'one|1||'
check "(1) NULL is NULL, '' is ''" line 'nulls|t|t'
check "(1) no rows" line 'none|0'
check "(1) the last of two results" line 'last|2|two'
check "(1) a command's status row" line 'status|CREATE TABLE'
check "(1) dblink_exec's tag" line 'exec|INSERT 0 3'
check "(1) dblink_exec's tag of the last statement" line 'exec2|DELETE 1'
check "(1) rows of a table" eval 'grep -c "^rows|" <<<"$OUT" | grep -qx 3 && line "rows|4|8"'
check "(1) the 8 calls were answered by the shim, none handed over ($(delta 1 2))" [ "$(delta 1 2)" = "8 0" ]
check "(1) dblink_connections counts them" line 'queries|9'
check "(1) a disconnected name is a connection string again (got: ${OUT//$'\n'/ | })" has 'ERROR:  could not establish connection'
check "(1) the name connected again is the shim's again" eval 'line "again|5" && [ "$(delta 2 3)" = "1 0" ]'

# --- (2) what the Go core learns -------------------------------------------------
sq >/dev/null <<SQL
SELECT dblink_connect('c', 'dbname=postgres');
SELECT 'warm', * FROM dblink('c', 'SELECT 1') AS t(a int);
$counts
SELECT 'begin', dblink_exec('c', 'BEGIN');
SELECT 'tx', transaction FROM dblink_connections() WHERE name = 'c';
SELECT 'open', dblink_open('c', 'cur', 'SELECT 1');
SELECT 'close', dblink_close('c', 'cur');
SELECT 'tx2', transaction FROM dblink_connections() WHERE name = 'c';
SELECT 'commit', dblink_exec('c', 'COMMIT');
$counts
SELECT 'err', * FROM dblink('c', 'SELECT 1/0', false) AS t(a int);
SELECT 'msg', dblink_error_message('c') LIKE '%division by zero%';
SELECT 'again', * FROM dblink('c', 'SELECT 1') AS t(a int);
SELECT 'msg2', dblink_error_message('c');
SET DateStyle = 'ISO, MDY';
$counts
SELECT 'style', dblink_exec('c', 'SET DateStyle = ''SQL, DMY''');
$counts
SELECT 'date', * FROM dblink('c', 'SELECT ''2024-01-02''::date') AS t(d date);
$counts
SQL
ALL+="--- (2)"$'\n'"$OUT"$'\n'
check "(2) BEGIN answered by the shim: in transaction (got: ${OUT//$'\n'/ | })" line 'tx|in transaction'
check "(2) BEGIN and COMMIT were the shim's, the cursor calls the Go core's ($(delta 1 2))" [ "$(delta 1 2)" = "2 0" ]
check "(2) dblink_open/dblink_close left the user's transaction open" line 'tx2|in transaction'
check "(2) ... and COMMIT ends it" line 'commit|COMMIT'
check "(2) no remote NOTICE of a second BEGIN" eval '! grep -q "already a transaction" <<<"$OUT"'
check "(2) a remote error with fail_on_error false: contrib's NOTICE" has 'NOTICE:  division by zero'
check "(2) dblink_error_message holds the error" line 'msg|t'
check "(2) a query the shim answered resets it to OK" line 'msg2|OK'
check "(2) a remote DateStyle change is the Go core's to read ($(delta 3 4))" [ "$(delta 3 4)" = "0 1" ]
check "(2) the shim's next answer converts dates with it" line 'date|2024-01-02'
check "(2) ... and was the shim's ($(delta 4 5))" [ "$(delta 4 5)" = "1 0" ]

# --- (3) handed over ---------------------------------------------------------------
sq >/dev/null <<SQL
SELECT dblink_connect('c', 'dbname=postgres');
SELECT dblink_connect('f', '$FCONN dbname=x');
SELECT 'warm', * FROM dblink('c', 'SELECT 1') AS t(a int);
SELECT 'warm', * FROM dblink('f', 's:T1 D:w C Z') AS t(a text);
SET dblink.remote_notices = relay;
$counts
SELECT 'notice', dblink_exec('c', 'DO \$\$BEGIN RAISE NOTICE ''from afar''; END\$\$');
SELECT 'big', length(a) FROM dblink('c', 'SELECT repeat(''x'', 100000)') AS t(a text);
SELECT 'long', length(a) FROM dblink('c', 'SELECT ''' || repeat('y', 20000) || '''') AS t(a text);
SELECT 'behind', * FROM dblink('f', 's:T1 D:r C Z A') AS t(a text);
SELECT 'notify', notify_name FROM dblink_get_notify('f');
$counts
SELECT 'split', * FROM dblink('f', 's:T2 sleep:20 D:s1,s2 sleep:20 D:s3,\N sleep:20 C sleep:20 Z') AS t(a text, b text);
$counts
SELECT 'exec-rows', dblink_exec('c', 'SELECT 1');
SQL
ALL+="--- (3)"$'\n'"$OUT"$'\n'
check "(3) a relayed remote NOTICE (got: ${OUT//$'\n'/ | })" has 'NOTICE:  from afar'
check "(3) ... and the command's tag" line 'notice|DO'
check "(3) a 100 kB value, whole" line 'big|100000'
check "(3) a query too long for the shim" line 'long|20000'
check "(3) the row before a notification behind ReadyForQuery" line 'behind|r'
check "(3) ... and dblink_get_notify gets the notification" line 'notify|c'
check "(3) the notice, the long answer and the notification went to the Go core, the long query never to the shim ($(delta 1 2))" [ "$(delta 1 2)" = "0 3" ]
check "(3) an answer in pieces: both rows" eval 'line "split|s1|s2" && line "split|s3|"'
check "(3) ... answered by the shim ($(delta 2 3))" [ "$(delta 2 3)" = "1 0" ]
check "(3) dblink_exec of a row result: contrib's ERROR" has 'ERROR:  statement returning results not allowed'
sq >/dev/null <<SQL
SELECT dblink_connect('c', 'dbname=postgres');
SELECT 'err', dblink_exec('c', 'SELECT 1');
SELECT 'after', * FROM dblink('c', 'SELECT 7') AS t(a int);
SQL
check "(3) ... and the connection goes on (got: ${OUT//$'\n'/ | })" line 'after|7'

# --- (4) nested calls ----------------------------------------------------------------
sq >/dev/null <<'SQL'
CREATE FUNCTION nested_query(t text) RETURNS bool LANGUAGE sql
	AS $$ SELECT (SELECT a FROM dblink('c', 'SELECT 1') AS t(a int)) = 1 $$;
CREATE DOMAIN nq AS text CHECK (nested_query(VALUE));
CREATE FUNCTION nested_close(t text) RETURNS bool LANGUAGE sql
	AS $$ SELECT dblink_disconnect('c') = 'OK' $$;
CREATE DOMAIN nc AS text CHECK (nested_close(VALUE));
SQL
sq >/dev/null <<SQL
SELECT dblink_connect('c', 'dbname=postgres');
SELECT 'warm', * FROM dblink('c', 'SELECT 1') AS t(a int);
$counts
SELECT 'nested', * FROM dblink('c', 'SELECT ''x''') AS t(a nq);
SELECT 'nested2', * FROM dblink('c', 'SELECT ''x''') AS t(a nc);
SELECT 'free', * FROM dblink('c', 'SELECT 2') AS t(a int);
$counts
SQL
ALL+="--- (4)"$'\n'"$OUT"$'\n'
check "(4) a nested query on the connection: another command is already in progress (got: ${OUT//$'\n'/ | })" \
	has 'another command is already in progress'
check "(4) a nested dblink_disconnect: the connection is in use" has 'ERROR:  dblink connection "c" is in use'
check "(4) the connection is free again" line 'free|2'
check "(4) the outer calls were the shim's ($(delta 1 2))" [ "$(delta 1 2)" = "3 0" ]

# --- (5) cancel while the shim waits ---------------------------------------------------
sq >/dev/null <<SQL
SELECT dblink_connect('f', '$FCONN dbname=x');
SELECT 'warm', * FROM dblink('f', 's:T1 D:w C Z') AS t(a text);
SET statement_timeout = '300ms';
SELECT 'late', * FROM dblink('f', 's:waitcancel E Z') AS t(a text);
RESET statement_timeout;
SELECT 'next', * FROM dblink('f', 's:T1 D:n C Z') AS t(a text);
SQL
ALL+="--- (5)"$'\n'"$OUT"$'\n'
check "(5) statement_timeout ends the shim's wait (got: ${OUT//$'\n'/ | })" \
	has 'ERROR:  canceling statement due to statement timeout'
check "(5) ... the remote statement was cancelled" grep -q '^cancel ' "$FEVENTS"
check "(5) ... and the connection goes on" line 'next|n'

# --- (6) no lookup call before the cursor and async calls ---------------------------
calls='SELECT $$calls|$$ || substring(dblink_debug_state() from $$go_calls=(\d+)$$);'
sq >/dev/null <<SQL
SELECT dblink_connect('a6', 'dbname=postgres');
SELECT dblink_send_query('a6', 'SELECT 1');
$calls
SELECT 'busy', count(*) FROM (SELECT dblink_is_busy('a6') FROM generate_series(1, 10)) s;
SELECT 'msg', count(*) FROM (SELECT dblink_error_message('a6') FROM generate_series(1, 10)) s;
$calls
SELECT 'none', dblink_is_busy('nosuch');
SQL
ALL+="--- (6)"$'\n'"$OUT"$'\n'
c1=$(grep '^calls|' <<<"$OUT" | sed -n 1p | cut -d'|' -f2)
c2=$(grep '^calls|' <<<"$OUT" | sed -n 2p | cut -d'|' -f2)
made=none
# the first dblink_debug_state call itself is counted in c2
[[ -n $c1 && -n $c2 ]] && made=$(( c2 - c1 - 1 ))
check "(6) 20 cursor and async calls made 20 calls into Go (made $made)" [ "$made" = 20 ]
check "(6) ... with their results" line 'busy|10'
check "(6) a name not registered fails as contrib's" has 'ERROR:  connection "nosuch" not available'

check_no_crash "no crash in the cluster's log" "$LOGFILE" "$log_off"
(( FAILS == 0 )) || printf '%s' "$ALL" | sed 's/^/# /'
exit $(( FAILS > 0 ))
