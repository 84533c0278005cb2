#!/usr/bin/env bash
# test/server/45-async-quiet.sh — what the async functions leave behind.
#
#   (1) dblink_get_notify sends nothing to the remote (libpq's
#       PQconsumeInput, which contrib calls, only reads what has arrived):
#       the remote backend's pg_stat_activity query, query_start and
#       state_change stay as they were, also inside a remote transaction
#       (whose idle-in-transaction timer must not restart); a notification
#       sent to the remote is still delivered.
#   (2) A batch that dblink_is_busy looked ahead at is freed when the
#       connection is dropped: 200 rounds of connect, send_query of a 1 MB
#       result, is_busy, disconnect grow the backend's VmRSS by less than
#       RSS_LIMIT_KB (contrib: ~40 kB; a leak of one batch per round: ~40 MB).
#   (3) dblink_is_busy answers at once, as PQconsumeInput + PQisBusy do:
#       300 calls while the remote sleeps 3 s all say 1 and take well under
#       the sleep (a 10 ms wait per call would take 3 s), then the result
#       is there.
#
# Run by test/run.sh with PGHOST, PGPORT, STAGE, LOGFILE, TMPDIR set.
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${LOGFILE:?}" "${TMPDIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
export PGUSER=postgres PGDATABASE=postgres
unset PGOPTIONS
RSS_LIMIT_KB=${RSS_LIMIT_KB:-8192}

q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
off=$(stat -c %s "$LOGFILE")

q "CREATE EXTENSION IF NOT EXISTS dblink" >/dev/null 2>&1

# --- (1) dblink_get_notify is quiet ------------------------------------------
remote="FROM pg_stat_activity WHERE application_name = 'aq_notify'"
out=$("$PSQL" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose 2>&1 <<-SQL
	SET statement_timeout = '20s';
	SELECT dblink_connect('g', 'dbname=postgres application_name=aq_notify');
	SELECT dblink_exec('g', 'LISTEN aq_chan');
	SELECT query AS q0, query_start AS t0, state_change AS s0 $remote \gset
	SELECT count(*) FROM dblink_get_notify('g');
	SELECT count(*) FROM dblink_get_notify('g');
	SELECT pg_stat_clear_snapshot();
	SELECT 'IDLE', query = :'q0', query_start = :'t0', state_change = :'s0', state $remote;
	NOTIFY aq_chan, 'hello';
	DO \$\$
	DECLARE n int;
	BEGIN
		FOR i IN 1..300 LOOP
			SELECT count(*) INTO n FROM dblink_get_notify('g') WHERE notify_name = 'aq_chan' AND extra = 'hello';
			EXIT WHEN n > 0;
			PERFORM pg_sleep(0.01);
		END LOOP;
		RAISE NOTICE 'DELIVERED %', n;
	END \$\$;
	SELECT dblink_exec('g', 'BEGIN');
	SELECT query AS q1, query_start AS t1, state_change AS s1 $remote \gset
	SELECT count(*) FROM dblink_get_notify('g');
	SELECT count(*) FROM dblink_get_notify('g');
	SELECT pg_stat_clear_snapshot();
	SELECT 'INXACT', query = :'q1', query_start = :'t1', state_change = :'s1', state $remote;
	SELECT dblink_exec('g', 'COMMIT');
	SELECT dblink_disconnect('g');
SQL
)
if grep -qx 'IDLE|t|t|t|idle' <<<"$out"; then
	ok "dblink_get_notify on an idle connection sent nothing"
else
	notok "dblink_get_notify on an idle connection changed the remote's pg_stat_activity: $out"
fi
if grep -qx 'INXACT|t|t|t|idle in transaction' <<<"$out"; then
	ok "dblink_get_notify in a remote transaction sent nothing"
else
	notok "dblink_get_notify in a remote transaction changed the remote's pg_stat_activity: $out"
fi
if grep -q 'NOTICE:  00000: DELIVERED 1' <<<"$out"; then
	ok "a notification is delivered"
else
	notok "the notification was not delivered: $out"
fi

# --- (2) no leak when a connection is dropped after dblink_is_busy ------------
rounds() {
	cat <<-SQL
		DO \$\$
		BEGIN
			FOR i IN 1..$1 LOOP
				PERFORM dblink_connect('p', 'dbname=postgres application_name=aq_leak');
				PERFORM dblink_send_query('p', 'SELECT repeat(''x'', 100000) FROM generate_series(1, 10)');
				PERFORM pg_sleep(0.02);
				PERFORM dblink_is_busy('p');
				PERFORM dblink_disconnect('p');
			END LOOP;
		END \$\$;
		SELECT substring(pg_read_file('/proc/self/status') FROM 'VmRSS:\s+(\d+) kB');
	SQL
}
out=$( { echo "SET statement_timeout = '120s';"; rounds 30; rounds 200; } |
	"$PSQL" -X -q -At -v ON_ERROR_STOP=1 2>&1)
mapfile -t rss < <(grep -E '^[0-9]+$' <<<"$out")
if (( ${#rss[@]} != 2 )); then
	notok "RSS not measured: $out"
else
	growth=$(( rss[1] - rss[0] ))
	if (( growth < RSS_LIMIT_KB )); then
		ok "200 rounds of send_query, is_busy, disconnect: VmRSS +${growth} kB (${rss[0]} -> ${rss[1]} kB)"
	else
		notok "200 rounds of send_query, is_busy, disconnect: VmRSS +${growth} kB (${rss[0]} -> ${rss[1]} kB), limit ${RSS_LIMIT_KB} kB"
	fi
fi

# --- (3) dblink_is_busy does not wait -------------------------------------
out=$("$PSQL" -X -q -At -v ON_ERROR_STOP=1 2>&1 <<-SQL
	SET statement_timeout = '30s';
	SELECT dblink_connect('b', 'dbname=postgres');
	SELECT dblink_send_query('b', 'SELECT pg_sleep(3), 42');
	SELECT clock_timestamp() AS t0 \gset
	SELECT 'BUSY', sum(dblink_is_busy('b')) FROM generate_series(1, 300);
	SELECT 'MS', (extract(epoch FROM clock_timestamp() - :'t0') * 1000)::int;
	DO \$\$ BEGIN WHILE dblink_is_busy('b') = 1 LOOP PERFORM pg_sleep(0.01); END LOOP; END \$\$;
	SELECT 'RESULT', x FROM dblink_get_result('b') AS t(s text, x int);
	SELECT dblink_disconnect('b');
	SQL
)
ms=$(sed -n 's/^MS|//p' <<<"$out")
if grep -qx 'BUSY|300' <<<"$out" && [[ -n $ms ]] && (( ms < 1500 )) && grep -qx 'RESULT|42' <<<"$out"; then
	ok "300 dblink_is_busy calls on a sleeping remote: all 1, in $ms ms; then the result"
else
	notok "dblink_is_busy waited or answered wrong: $(tr '\n' ' ' <<<"$out")"
fi

check_no_crash "no backend crash" "$LOGFILE" "$off"
printf '# %d check(s) failed\n' "$FAILS"
(( FAILS == 0 ))
