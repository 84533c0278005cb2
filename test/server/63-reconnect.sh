#!/usr/bin/env bash
# test/server/63-reconnect.sh — named and unnamed connections that survive
# the loss of their remote session (dblink.reconnect; issue 21).
#
#   (1) A lost connection's socket is never used again: after the loss was
#       noticed (dblink_get_notify read the FATAL), a new connection may get
#       the same descriptor number, and closing the lost one must not touch
#       it.
#   (2) With dblink.reconnect off (the default), a call on a connection
#       whose remote backend was terminated fails as contrib's does.
#   (3) With it on, the call succeeds on a new remote backend, after a
#       NOTICE; so do dblink_exec, the unnamed connection, dblink_open and
#       dblink_send_query.
#   (4) It does not reconnect when something depended on the remote
#       session: a remote transaction (dblink_exec BEGIN), a cursor
#       (dblink_open), an async query (dblink_send_query): the call fails.
#   (5) A connection opened through a foreign server is reopened through it:
#       the server's options as they are now, and the user mapping.
#   (6) A non-superuser's connection is reopened under the password rule.
#   (7) After a restart of the remote cluster, the next call succeeds.
#   And the clusters' logs have no crash.
#
# Run by test/run.sh (env STAGE, PGBIN, TMPDIR, DBLINK_REPO); starts and
# stops its own clusters.
set -uo pipefail

: "${STAGE:?}" "${TMPDIR:?}"
REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$REPO/test/server-lib.sh"

own_cluster reconnect
q "CREATE EXTENSION dblink" >/dev/null
log_off=$(stat -c %s "$LOGFILE")

# kill APP: terminate the remote backends with application_name APP, and
# wait until they are gone
kill_remote() {
	echo "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$1';"
	echo "DO \$\$ BEGIN FOR i IN 1..100 LOOP EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '$1'); PERFORM pg_sleep(0.02); PERFORM pg_stat_clear_snapshot(); END LOOP; END \$\$;"
}
LOST='server closed the connection unexpectedly'

# --- (1) a lost connection's socket ------------------------------------------------
sq >/dev/null <<SQL
SELECT dblink_connect('a', 'dbname=postgres application_name=rc_a');
$(kill_remote rc_a)
SELECT count(*) FROM dblink_get_notify('a');
SELECT dblink_connect('b', 'dbname=postgres application_name=rc_b');
SELECT dblink_disconnect('a');
SELECT 'b|' || x FROM dblink('b', 'SELECT 42') AS t(x int);
SQL
check "(1) closing a lost connection leaves the next one's socket alone ($(val b))" eval '[[ $(val b) == 42 ]]'

# --- (2) off: contrib's failure ---------------------------------------------------
sq >/dev/null <<SQL
SELECT dblink_connect('c', 'dbname=postgres application_name=rc_c');
$(kill_remote rc_c)
SELECT 'x|' || x FROM dblink('c', 'SELECT 1') AS t(x int);
SQL
check "(2) with dblink.reconnect off a lost connection fails the call" eval 'has "$LOST" && [[ -z $(val x) ]] && ! has reconnecting'

if [[ $KIND != ours ]]; then
	ok "reconnecting is ours alone # contrib has none: (3)-(7) not checked"
	check_no_crash "no crash in the cluster's log" "$LOGFILE" "$log_off"
	exit $((FAILS > 0))
fi

# --- (3) on: reconnected ------------------------------------------------------------
sq >/dev/null <<SQL
SET dblink.reconnect = on;
SELECT dblink_connect('c', 'dbname=postgres application_name=rc_c');
SELECT 'p0|' || x FROM dblink('c', 'SELECT pg_backend_pid()') AS t(x int);
$(kill_remote rc_c)
SELECT 'p1|' || x FROM dblink('c', 'SELECT pg_backend_pid()') AS t(x int);
$(kill_remote rc_c)
SELECT 'exec|' || dblink_exec('c', 'SET x.y = 1');
SELECT dblink_connect('dbname=postgres application_name=rc_u');
$(kill_remote rc_u)
SELECT 'unnamed|' || dblink_exec('SET x.y = 1');
$(kill_remote rc_c)
SELECT 'open|' || dblink_open('c', 'cur', 'SELECT 7');
SELECT 'fetch|' || x FROM dblink_fetch('c', 'cur', 1) AS t(x int);
SELECT 'close|' || dblink_close('c', 'cur');
$(kill_remote rc_c)
SELECT 'send|' || dblink_send_query('c', 'SELECT 8');
SELECT 'got|' || x FROM dblink_get_result('c') AS t(x int);
SQL
n=$(grep -c 'dblink connection "c" was lost, reconnecting' <<<"$OUT")
check "(3) dblink() on a lost connection succeeds on a new remote backend ($(val p0) $(val p1))" \
	eval '[[ -n $(val p1) && $(val p1) != "$(val p0)" ]]'
check "(3) dblink_exec too ($(val exec))" eval '[[ $(val exec) == SET ]]'
check "(3) the unnamed connection too ($(val unnamed))" eval '[[ $(val unnamed) == SET ]] && has "the unnamed dblink connection was lost, reconnecting"'
check "(3) dblink_open too ($(val open) $(val fetch) $(val close))" eval '[[ $(val open) == OK && $(val fetch) == 7 && $(val close) == OK ]]'
check "(3) dblink_send_query too ($(val send) $(val got))" eval '[[ $(val send) == 1 && $(val got) == 8 ]]'
check "(3) each reconnect said so in a NOTICE ($n of 4)" eval '[[ $n == 4 ]]'

# --- (4) not when something depended on the remote session --------------------------
sq >/dev/null <<SQL
SET dblink.reconnect = on;
SELECT dblink_connect('t', 'dbname=postgres application_name=rc_t');
SELECT dblink_exec('t', 'BEGIN');
$(kill_remote rc_t)
SELECT 'tx|' || x FROM dblink('t', 'SELECT 1') AS t(x int);
SQL
check "(4) not inside a remote transaction: the call fails" eval 'has "$LOST" && [[ -z $(val tx) ]] && ! has reconnecting'
sq >/dev/null <<SQL
SET dblink.reconnect = on;
SELECT dblink_connect('k', 'dbname=postgres application_name=rc_k');
SELECT dblink_open('k', 'cur', 'SELECT 1');
$(kill_remote rc_k)
SELECT 'cur|' || x FROM dblink('k', 'SELECT 1') AS t(x int);
SQL
check "(4) not with a cursor open: the call fails" eval 'has "$LOST" && [[ -z $(val cur) ]] && ! has reconnecting'
sq >/dev/null <<SQL
SET dblink.reconnect = on;
SELECT dblink_connect('s', 'dbname=postgres application_name=rc_s');
SELECT dblink_send_query('s', 'SELECT 1');
SELECT pg_sleep(0.2);
$(kill_remote rc_s)
SELECT 'async|' || x FROM dblink('s', 'SELECT 1') AS t(x int);
SQL
check "(4) not with an async query pending: the call fails" eval '[[ -z $(val async) ]] && ! has reconnecting'

# --- (5) a foreign server, (6) the password rule ----------------------------------------
q "CREATE ROLE regress_rc_user LOGIN PASSWORD 'rc_pw'" >/dev/null
q "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO regress_rc_user" >/dev/null
q "CREATE SERVER rc_srv FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host '127.0.0.1', port '$PGPORT', dbname 'postgres', application_name 'rc_f1')" >/dev/null
q "CREATE USER MAPPING FOR regress_rc_user SERVER rc_srv OPTIONS (user 'regress_rc_user', password 'rc_pw')" >/dev/null
q "GRANT USAGE ON FOREIGN SERVER rc_srv TO regress_rc_user" >/dev/null
sq >/dev/null <<SQL
SET ROLE regress_rc_user;
SET dblink.reconnect = on;
SELECT dblink_connect('f', 'rc_srv');
SELECT 'a1|' || x FROM dblink('f', 'SELECT current_setting(''application_name'') || '','' || current_user') AS t(x text);
RESET ROLE;
ALTER SERVER rc_srv OPTIONS (SET application_name 'rc_f2');
$(kill_remote rc_f1)
SET ROLE regress_rc_user;
SELECT 'a2|' || x FROM dblink('f', 'SELECT current_setting(''application_name'') || '','' || current_user') AS t(x text);
SQL
check "(5)(6) a plain role's connection through a foreign server ($(val a1))" eval '[[ $(val a1) == "rc_f1,regress_rc_user" ]]'
check "(5)(6) is reopened through the server as it is now, under its user mapping ($(val a2))" eval '[[ $(val a2) == "rc_f2,regress_rc_user" ]]'
q "ALTER USER MAPPING FOR regress_rc_user SERVER rc_srv OPTIONS (DROP password)" >/dev/null
sq >/dev/null <<SQL
SET ROLE regress_rc_user;
SET dblink.reconnect = on;
SELECT dblink_connect('g', 'host=127.0.0.1 port=$PGPORT dbname=postgres user=regress_rc_user password=rc_pw application_name=rc_g');
RESET ROLE;
$(kill_remote rc_g)
SET ROLE regress_rc_user;
SELECT 'g|' || x FROM dblink('g', 'SELECT 5') AS t(x int);
SELECT dblink_connect('h', 'rc_srv');
SQL
check "(6) a plain role's string with a password is reopened ($(val g))" eval '[[ $(val g) == 5 ]]'
check "(6) the password rule still holds for that role (2F003 without a password)" eval 'has "password is required"'

# --- (7) a restart of the remote cluster -----------------------------------------------
if cluster_start remote_rc "$STAGE" auto >/dev/null 2>&1; then
	trap 'cluster_stop remote_rc >/dev/null 2>&1; cluster_stop reconnect >/dev/null 2>&1' EXIT
	r_sock=${CL_SOCK[remote_rc]} r_port=${CL_PORT[remote_rc]} r_log=${CL_LOG[remote_rc]}
	r_off=$(stat -c %s "$r_log")
	cluster_use reconnect
	sess_open r postgres
	sess_run r "SET dblink.reconnect = on; SELECT dblink_connect('r', 'host=$r_sock port=$r_port dbname=postgres'); SELECT 'r1|' || x FROM dblink('r', 'SELECT 1') AS t(x int);"
	OUT=$SESS_OUT
	r1=$(val r1)
	as_pg "$PGBIN/pg_ctl" -D "${CL_DATA[remote_rc]}" -l "$r_log" -w -t 60 -m fast restart >/dev/null 2>&1
	sess_run r "SELECT 'r2|' || x FROM dblink('r', 'SELECT 2') AS t(x int);" 30
	OUT=$SESS_OUT
	sess_close r
	check "(7) after a restart of the remote cluster the next call succeeds ($r1 $(val r2))" \
		eval '[[ $r1 == 1 && $(val r2) == 2 ]] && has reconnecting'
	check_no_crash "no crash in the remote cluster's log" "$r_log" "$r_off"
	cluster_stop remote_rc >/dev/null 2>&1
	cluster_use reconnect
else
	notok "(7) could not start a remote cluster"
fi

q "DROP SERVER rc_srv CASCADE" >/dev/null 2>&1
q "DROP ROLE regress_rc_user" >/dev/null 2>&1
check_no_crash "no crash in the cluster's log" "$LOGFILE" "$log_off"
exit $((FAILS > 0))
