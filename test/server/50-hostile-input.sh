#!/usr/bin/env bash
# test/server/50-hostile-input.sh — random and hostile connection strings,
# connection names and SQL texts through the SQL functions: only clean
# ERRORs (never a crash or a hang), and no password ever echoed in a message.
#
# N cases (500; 5000 with DBLINK_LONG=1), generated in plpgsql from pieces of
# libpq's grammar (quotes, backslashes, '=', URIs, percent-encoding, unicode,
# unknown keywords, huge ports, very long values).  Every string carries a
# password made of the marker below; every message, DETAIL and HINT is
# searched for it, and so is the server log afterwards.  Hosts are only
# 127.0.0.1 and unix socket directories.
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${LOGFILE:?}" "${TMPDIR:?}"
PGBIN=${PGBIN:-$STAGE/usr/lib/postgresql/15/bin}
export PGUSER=postgres PGDATABASE=postgres
N=500
[[ ${DBLINK_LONG:-0} == 1 ]] && N=5000
MARK=Zq7pw0rd

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
log_start=$(stat -c %s "$LOGFILE")
out=$("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 2>&1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
SET log_min_error_statement = panic;   -- the test's own SQL is not a leak
SET log_min_messages = panic;
SELECT setseed(0.42);
DO \$\$
DECLARE
  pieces text[] := ARRAY[
    'host=127.0.0.1', 'host=$PGHOST', 'host=/nonexistent', 'port=' , 'port=99999999999', 'port=-1',
    'port=$PGPORT', 'dbname=postgres', 'dbname=''no such db''', 'user=nobody', 'user=''''',
    'password=$MARK', 'password=''$MARK x''', 'password=$MARK\\\\', 'connect_timeout=1',
    'sslmode=bogus', 'sslmode=disable', 'application_name=é漢字', 'options=''-c x=y''',
    'bogus_keyword=1', '=', '==', '''', '\\\\', '''unterminated', 'a', ' ', 'keepalives=x',
    'hostaddr=127.0.0.1', 'hostaddr=999.1.1.1', 'target_session_attrs=nope', 'replication=database',
    'postgresql://u:$MARK@127.0.0.1:1/db', 'postgres://:$MARK@/db?host=/nonexistent',
    'postgresql://[::1', 'postgresql://u:%zz$MARK@127.0.0.1/', 'postgresql://127.0.0.1:99999/x?password=$MARK',
    'service=nosuch', 'passfile=/nonexistent', 'client_encoding=LATIN1', 'gssencmode=require', 'sslcrl=/x'];
  sqls text[] := ARRAY['SELECT 1', '', ';', 'SELEC', 'COPY x TO STDOUT',
    'SELECT repeat(''x'', 100000)', E'SELECT \'\\\\x\'', 'SELECT 1/0'];
  i int; j int; s text; name text; msg text; det text; hnt text; leaks int := 0; errors int := 0; oks int := 0;
BEGIN
  FOR i IN 1..$N LOOP
    s := '';
    FOR j IN 1..(1 + floor(random() * 6))::int LOOP
      s := s || ' ' || pieces[1 + floor(random() * array_length(pieces, 1))::int];
      IF random() < 0.15 THEN s := s || (SELECT string_agg(chr(32 + floor(random() * 200)::int), '') FROM generate_series(1, (random() * 20)::int)); END IF;
    END LOOP;
    IF random() < 0.03 THEN s := s || ' application_name=' || repeat('x', 20000); END IF;
    s := s || ' password=$MARK connect_timeout=2';
    name := CASE (i % 5) WHEN 0 THEN 'n=' || i WHEN 1 THEN repeat('ü', 40) WHEN 2 THEN '' WHEN 3 THEN E'\\\\''"' || i ELSE 'n' || i END;
    BEGIN
      CASE i % 4
        WHEN 0 THEN PERFORM dblink_connect(name, s); PERFORM dblink_disconnect(name);
        WHEN 1 THEN PERFORM * FROM dblink(s, sqls[1 + floor(random() * array_length(sqls, 1))::int]) AS t(a text);
        WHEN 2 THEN PERFORM dblink_exec(s, sqls[1 + floor(random() * array_length(sqls, 1))::int], random() < 0.5);
        ELSE PERFORM dblink_connect(s); PERFORM * FROM dblink(sqls[1 + floor(random() * array_length(sqls, 1))::int], false) AS t(a text);
      END CASE;
      oks := oks + 1;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
      errors := errors + 1;
      IF position('$MARK' IN coalesce(msg, '') || coalesce(det, '') || coalesce(hnt, '')) > 0 THEN
        leaks := leaks + 1;
        RAISE WARNING 'password echoed: % / % / %', msg, det, hnt;
      END IF;
    END;
    BEGIN PERFORM dblink_disconnect(); EXCEPTION WHEN OTHERS THEN NULL; END;
  END LOOP;
  RAISE WARNING 'RESULT cases=% ok=% errors=% leaks=%', $N, oks, errors, leaks;
END
\$\$;
SELECT 'alive';
SQL
)
rc=$?
printf '%s\n' "$out" | grep -v '^WARNING:  password echoed' | tail -5
FAILS=0
if (( rc == 0 )) && grep -q '^alive$' <<<"$out"; then echo "ok - $N hostile cases ran, the backend survived"; else echo "not ok - the session failed (rc $rc)"; FAILS=$((FAILS+1)); fi
if grep -q 'leaks=0' <<<"$out"; then echo "ok - no password echoed in any message"; else echo "not ok - a password was echoed:"; grep 'password echoed' <<<"$out" | head -5; FAILS=$((FAILS+1)); fi
# the server log: nothing we emit may carry the password (the statements
# themselves were kept out of it above)
newlog=$(tail -c +$((log_start + 1)) "$LOGFILE")
if grep -q "$MARK" <<<"$newlog"; then
	echo "not ok - the password appears in the server log:"; grep "$MARK" <<<"$newlog" | head -3; FAILS=$((FAILS+1))
else
	echo "ok - the password never appears in the server log"
fi
if crash=$(log_has_crash "$LOGFILE" "$log_start"); then echo "not ok - crash in the server log: $crash"; FAILS=$((FAILS+1)); else echo "ok - no crash in the server log"; fi
printf '# %d check(s) failed\n' "$FAILS"
(( FAILS == 0 ))
