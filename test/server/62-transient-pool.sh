#!/usr/bin/env bash
# test/server/62-transient-pool.sh — one-shot connections kept for reuse
# (dblink.transient_pool_size, dblink.transient_idle_timeout; issue 21).
#
#   (1) At the default (0) every one-shot call is its own remote session,
#       closed after the call, as in contrib.
#   (2) With a pool, the next one-shot call with the same string takes the
#       connection (same remote pid); dblink_connections() shows it with no
#       name, status "pooled" and the calls it served.
#   (3) The reset: a SET, a temporary table, a prepared statement, an
#       advisory lock and a LISTEN made in one call are gone in the next.
#   (4) Local roles never share: after SET ROLE the same string gets a
#       connection of its own, and RESET ROLE finds the first one again.
#   (5) The password rule for a plain role: its string with a password is
#       pooled and reused; the same string without one is refused (2F003).
#   (6) The least recently used connection goes first at the size limit.
#   (7) An idle connection is closed after dblink.transient_idle_timeout.
#   (8) A pooled connection whose remote backend was terminated is replaced
#       unseen: the next call succeeds, without an error or a NOTICE.
#   (9) The autonomous-transaction promise: a one-shot INSERT inside a local
#       transaction that rolls back stays committed on the remote.
#  (10) A one-shot call that leaves its remote session in a transaction
#       (BEGIN) is not kept.
#  (11) Setting the size to 0 closes the pooled connections, and so does the
#       end of the session.
#   And the cluster's log has no crash.
#
# Run by test/run.sh (env STAGE, PGBIN, TMPDIR, DBLINK_REPO); starts and
# stops its own cluster.
set -uo pipefail

: "${STAGE:?}" "${TMPDIR:?}"
REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$REPO/test/server-lib.sh"

own_cluster pool
q "CREATE EXTENSION dblink" >/dev/null
# remote_left(pattern): the remote backends whose application_name is LIKE
# pattern, once they are gone or after 5 s; a closed connection's backend
# exits a moment after our Terminate, so a single look can still see it.
q "CREATE FUNCTION remote_left(app text) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
	FOR i IN 1..250 LOOP
		SELECT count(*) INTO n FROM pg_stat_activity WHERE application_name LIKE app AND pid <> pg_backend_pid();
		EXIT WHEN n = 0;
		PERFORM pg_sleep(0.02);
		PERFORM pg_stat_clear_snapshot(); -- else the loop sees one snapshot
	END LOOP;
	RETURN n;
END \$\$" >/dev/null
log_off=$(stat -c %s "$LOGFILE")

# remote APP: how many remote backends have application_name APP
remote() { q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'"; }
S="dbname=postgres application_name=pool_t"

# --- (1) the default: contrib's behaviour -----------------------------------------
sq >/dev/null <<SQL
SELECT 'p1|' || p FROM dblink('$S', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'p2|' || p FROM dblink('$S', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'left|' || remote_left('pool_t');
SQL
check "(1) at the default each one-shot call is its own remote session ($(val p1) $(val p2))" \
	eval '[[ -n $(val p1) && $(val p1) != "$(val p2)" ]]'
check "(1) and none is left open after the call ($(val left))" eval '[[ $(val left) == 0 ]]'

if [[ $KIND != ours ]]; then
	ok "the pool is ours alone # contrib has none: (2)-(11) not checked"
	check_no_crash "no crash in the cluster's log" "$LOGFILE" "$log_off"
	exit $((FAILS > 0))
fi
q "ALTER EXTENSION dblink UPDATE TO '1.3'" >/dev/null

# --- (2) reuse, (3) the reset --------------------------------------------------------
sq >/dev/null <<SQL
SET dblink.transient_pool_size = 4;
SELECT 'p1|' || p FROM dblink('$S', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'p2|' || p FROM dblink('$S', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'row|' || coalesce(name, '-') || ',' || status || ',' || transaction || ',' || queries || ',' || remote_pid FROM dblink_connections();
SELECT dblink_exec('$S', \$\$SET work_mem = '7MB'; CREATE TEMP TABLE tt (a int); PREPARE ps AS SELECT 1; SELECT pg_advisory_lock(4242); LISTEN pool_chan\$\$);
SELECT 'made|' || (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242);
SELECT 'reset|' || w || ',' || tmp || ',' || prep || ',' || listen || ',' || (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242)
  FROM dblink('$S', \$\$SELECT current_setting('work_mem'), (SELECT count(*) FROM pg_class WHERE relname = 'tt' AND relpersistence = 't'),
    (SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_listening_channels())\$\$) AS t(w text, tmp int, prep int, listen int);
SELECT 'p3|' || p FROM dblink('$S', 'SELECT pg_backend_pid()') AS t(p int);
SQL
p1=$(val p1)
check "(2) the second one-shot call reuses the first one's connection ($p1 $(val p2))" eval '[[ -n $p1 && $p1 == "$(val p2)" ]]'
check "(2) dblink_connections() shows it: no name, pooled, idle, 2 calls ($(val row))" eval '[[ $(val row) == "-,pooled,idle,2,$p1" ]]'
check "(3) the advisory lock was taken ($(val made))" eval '[[ $(val made) == 1 ]]'
check "(3) the next call sees a reset session: work_mem, temp table, prepared statement, LISTEN, advisory lock ($(val reset))" \
	eval '[[ $(val reset) == "4MB,0,0,0,0" ]]'
check "(3) still on the same connection ($(val p3))" eval '[[ $(val p3) == "$p1" ]]'
check "(11) the end of the session closed it ($(remote pool_t))" wait_until 5 bash -c "[[ \$($PSQL -X -At -d postgres -c \"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pool_t'\") == 0 ]]"

# --- (4) roles never share, (5) the password rule ---------------------------------
q "CREATE ROLE regress_pool_user LOGIN PASSWORD 'pool_pw'; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO regress_pool_user" >/dev/null
T="host=127.0.0.1 port=$PGPORT dbname=postgres user=regress_pool_user application_name=pool_u"
sq >/dev/null <<SQL
SET dblink.transient_pool_size = 4;
SELECT 'su|' || p FROM dblink('$T password=pool_pw', 'SELECT pg_backend_pid()') AS t(p int);
SET ROLE regress_pool_user;
SELECT 'u1|' || p FROM dblink('$T password=pool_pw', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'u2|' || p FROM dblink('$T password=pool_pw', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'nopw|' || p FROM dblink('$T', 'SELECT pg_backend_pid()') AS t(p int);
RESET ROLE;
SELECT 'su2|' || p FROM dblink('$T password=pool_pw', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'rows|' || count(*) FROM dblink_connections() WHERE status = 'pooled';
SQL
check "(4) after SET ROLE the same string gets its own connection ($(val su) $(val u1))" eval '[[ -n $(val su) && -n $(val u1) && $(val su) != "$(val u1)" ]]'
check "(5) a plain role's string with a password is reused ($(val u1) $(val u2))" eval '[[ $(val u1) == "$(val u2)" ]]'
check "(5) without a password it is refused (2F003's message)" grep -q 'password is required' <<<"$OUT"
check "(4) RESET ROLE finds the first connection again ($(val su2))" eval '[[ $(val su2) == "$(val su)" ]]'
check "(4) two pooled connections, one per role ($(val rows))" eval '[[ $(val rows) == 2 ]]'

# --- (6) LRU, (7) idle timeout, (8) a terminated remote, (10) BEGIN -------------------
sq >/dev/null <<SQL
SET dblink.transient_pool_size = 2;
SELECT 'a|' || p FROM dblink('dbname=postgres application_name=pool_a', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'b|' || p FROM dblink('dbname=postgres application_name=pool_b', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'c|' || p FROM dblink('dbname=postgres application_name=pool_c', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'kept|' || string_agg(a, ',' ORDER BY a) FROM dblink_connections() c JOIN pg_stat_activity s ON s.pid = c.remote_pid, LATERAL (SELECT s.application_name AS a) x;
SELECT 'c2|' || p FROM dblink('dbname=postgres application_name=pool_c', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'a2|' || p FROM dblink('dbname=postgres application_name=pool_a', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'term|' || pg_terminate_backend(p) FROM dblink('dbname=postgres application_name=pool_a', 'SELECT pg_backend_pid()') AS t(p int);
SELECT pg_sleep(0.3);
SELECT 'after|' || p FROM dblink('dbname=postgres application_name=pool_a', 'SELECT pg_backend_pid()') AS t(p int);
SELECT 'begin|' || dblink_exec('dbname=postgres application_name=pool_x', 'BEGIN');
SELECT 'xkept|' || count(*) FROM dblink_connections() c JOIN pg_stat_activity s ON s.pid = c.remote_pid WHERE s.application_name = 'pool_x';
SET dblink.transient_idle_timeout = 1;
SELECT 't1|' || p FROM dblink('dbname=postgres application_name=pool_c', 'SELECT pg_backend_pid()') AS t(p int);
SELECT pg_sleep(1.3);
SELECT 't2|' || p FROM dblink('dbname=postgres application_name=pool_c', 'SELECT pg_backend_pid()') AS t(p int);
SET dblink.transient_pool_size = 0;
SELECT 'zero|' || count(*) FROM dblink_connections();
SELECT 'gone|' || remote_left('pool_%');
SQL
check "(6) at the limit the least recently used went first ($(val kept))" eval '[[ $(val kept) == "pool_b,pool_c" ]]'
check "(6) the kept one is reused ($(val c) $(val c2))" eval '[[ -n $(val c) && $(val c) == "$(val c2)" ]]'
check "(6) the evicted one connects anew ($(val a) $(val a2))" eval '[[ -n $(val a2) && $(val a) != "$(val a2)" ]]'
check "(8) after its remote backend was terminated, the next call succeeds on a new one ($(val after))" \
	eval '[[ $(val term) == true && -n $(val after) && $(val after) != "$(val a2)" ]]'
check "(8) without an error or a NOTICE" eval '! grep -qiE "error|notice|warning|server closed" <<<"$OUT"'
check "(10) a one-shot BEGIN is not kept ($(val begin), $(val xkept))" eval '[[ $(val begin) == BEGIN && $(val xkept) == 0 ]]'
check "(7) after the idle timeout the connection was closed ($(val t1) $(val t2))" eval '[[ -n $(val t1) && $(val t1) != "$(val t2)" ]]'
check "(11) size 0 leaves nothing pooled ($(val zero)) and no remote backend ($(val gone))" eval '[[ $(val zero) == 0 && $(val gone) == 0 ]]'

# --- (9) the autonomous-transaction promise ------------------------------------------
q "CREATE TABLE pool_log (msg text)" >/dev/null
sq >/dev/null <<SQL
SET dblink.transient_pool_size = 4;
SELECT dblink_exec('$S', 'INSERT INTO pool_log VALUES (''warm'')');
BEGIN;
SELECT dblink_exec('$S', 'INSERT INTO pool_log VALUES (''kept'')');
ROLLBACK;
SELECT 'log|' || string_agg(msg, ',' ORDER BY msg) FROM pool_log;
SQL
check "(9) a pooled one-shot INSERT survives the local rollback ($(val log))" eval '[[ $(val log) == "kept,warm" ]]'

q "DROP ROLE regress_pool_user" >/dev/null 2>&1
check_no_crash "no crash in the cluster's log" "$LOGFILE" "$log_off"
exit $((FAILS > 0))
