#!/usr/bin/env bash
# test/server/70-load.sh — dblink under concurrent load, and no leak over
# thousands of connections in one backend.
#
#   (a) load: 20 psql workers (20 local backends, each with at most one remote
#       connection open at a time: 40 backends; the test cluster's
#       max_connections is 60, for the remote backends still exiting after a
#       disconnect) run connect/query/disconnect loops against the cluster itself
#       for LOAD_S seconds (10; 60 with DBLINK_LONG=1), each worker in a few
#       successive sessions (so backends with dblink loaded also start and
#       exit under load).  An iteration is one of: a named connection, the
#       unnamed connection, a transient connection string (dblink and
#       dblink_exec), a remote error with fail_on_error=false (no ERROR,
#       dblink_error_message tells it, dblink_exec returns 'ERROR'), a remote
#       error with fail_on_error=true (the remote SQLSTATE, the connection
#       still answers).  Every iteration is counted as ok / soft (remote error
#       with fail_on_error=false, as expected) / expected (the expected ERROR)
#       / unexpected; any unexpected error, wrong result, failed session or
#       hang fails the test.  Afterwards no remote backend of the workers is
#       left, no backend was killed by a signal, and the postmaster is the
#       same process.
#   (b) leaks in one backend: CYCLES (3000) dblink_connect/dblink_disconnect
#       cycles in one plpgsql call, then CYCLES dblink() calls with a
#       transient connection string, each after a warm-up of WARM (100)
#       cycles: VmRSS of the backend grows by at most RSS_MAX_KB (1 MB), its
#       open fd count is unchanged and (our build, through
#       dblink_debug_state(), declared here) the Go core is back to its
#       baseline goroutine count with connections=0 operations=0 within 2 s.
#       Our build warms up longer, 50 cycles at a time until VmRSS stops
#       growing (twice in a row): its VmRSS grows by 2-3 MB over the first
#       few hundred connections (the Go runtime's heap and threads settling)
#       and is flat from then on (+280 kB over 3000 more), which is no leak.
#       Each phase stops after LEAK_BUDGET_S (8 s; 600 s with DBLINK_LONG=1): a
#       busy 2-core machine makes 15-30 connections a second, so the default
#       run may do fewer than CYCLES (the count is printed).  Against the
#       oracle (DBLINK_STAGE_KIND=contrib) only RSS and fds are checked.
#
# Run by test/run.sh with PGHOST, PGPORT, STAGE, LOGFILE, TMPDIR (and PGBIN,
# PGDATA, DBLINK_LONG, DBLINK_STAGE_KIND) in the environment, as root (the
# backend's /proc entries are read from the shell).  Exits non-zero when a
# check fails.
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${LOGFILE:?}" "${TMPDIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
export PGUSER=postgres
unset PGDATABASE PGOPTIONS PGAPPNAME
DB=dblink_load
WORKERS=${LOAD_WORKERS:-20}
LOAD_S=${LOAD_S:-10}
[[ ${DBLINK_LONG:-0} == 1 ]] && LOAD_S=60
SESSION_S=3             # each worker's psql sessions last about this long
CYCLES=${LEAK_CYCLES:-3000}
LEAK_BUDGET_S=8         # each leak phase stops after this long (a slow machine)
WARM=100
WARM_MAX=1000           # our build: warm-up cycles at most (see leak_phase)
WARM_BUDGET_S=15
if [[ ${DBLINK_LONG:-0} == 1 ]]; then LEAK_BUDGET_S=600 WARM_BUDGET_S=120; fi
RSS_MAX_KB=1024

# q SQL: one statement in a fresh psql, values only.
q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${QDB:-$DB}" -c "$1"; }

WORKER_PIDS=()
cleanup() {
	local n p
	for p in "${WORKER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${WORKER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${!S_FD[@]}"; do sess_close "$n"; done
	QDB=postgres q "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LOG_OFF=$(stat -c %s "$LOGFILE")
PM_BEFORE=$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || echo unknown)
echo "# stage $KIND, $WORKERS workers for $LOAD_S s, $CYCLES leak cycles"

# --- set-up ------------------------------------------------------------------
PGOPTIONS='-c client_min_messages=warning' QDB=postgres q "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
QDB=postgres q "CREATE DATABASE $DB" || { echo "cannot create database $DB"; exit 1; }
q "CREATE EXTENSION dblink" || exit 1
if [[ $KIND == ours ]]; then
	q "CREATE FUNCTION dblink_debug_state() RETURNS text AS '\$libdir/dblink', 'dblink_debug_state' LANGUAGE C" || exit 1
fi

# --- (a) load ----------------------------------------------------------------
# worker_sql W S END_MS: one session's DO block: iterations for SESSION_S
# seconds but not past END_MS (epoch ms), at least one; a RESULT warning with
# the counts at the end, an UNEXPECTED warning for each unexpected error or
# wrong result.
worker_sql() {
	local w=$1 s=$2 end=$3
	cat <<-SQL
	SET client_min_messages = warning;
	SET statement_timeout = '$(( SESSION_S + 30 ))s';
	DO \$load\$
	DECLARE
	  w int := $w;
	  sess int := $s;
	  deadline timestamptz := least(to_timestamp($end / 1000.0), clock_timestamp() + interval '$SESSION_S s');
	  cn text := 'w$w';
	  cs text := 'dbname=postgres application_name=load_w$w';
	  q5 text := 'SELECT g, md5(g::text) FROM generate_series(1, 5) g';
	  i int := 0; k int; n int; t text; r record; expect text;
	  n_ok int := 0; n_soft int := 0; n_exp int := 0; n_bad int := 0;
	  named_open bool := false; unnamed_open bool := false; det text;
	BEGIN
	  LOOP
	    i := i + 1;
	    k := (i * 7 + w) % 20;
	    expect := NULL;
	    BEGIN
	      IF k < 8 THEN
	        -- a named connection
	        PERFORM dblink_connect(cn, cs); named_open := true;
	        SELECT count(*) AS n, sum(g) AS s, bool_and(h = md5(g::text)) AS good INTO r
	          FROM dblink(cn, q5) AS x(g int, h text);
	        IF r.n <> 5 OR r.s <> 15 OR NOT r.good THEN RAISE EXCEPTION 'wrong rows from dblink: %', r; END IF;
	        t := dblink_exec(cn, 'SET work_mem = ''5MB''');
	        IF t <> 'SET' THEN RAISE EXCEPTION 'dblink_exec returned %', t; END IF;
	        SELECT v INTO t FROM dblink(cn, 'SHOW work_mem') AS x(v text);
	        IF t <> '5MB' THEN RAISE EXCEPTION 'remote work_mem is %', t; END IF;
	        t := dblink_disconnect(cn); named_open := false;
	        IF t <> 'OK' THEN RAISE EXCEPTION 'dblink_disconnect returned %', t; END IF;
	        n_ok := n_ok + 1;
	      ELSIF k < 12 THEN
	        -- the unnamed connection
	        PERFORM dblink_connect(cs); unnamed_open := true;
	        SELECT count(*) AS n, sum(g) AS s, bool_and(h = md5(g::text)) AS good INTO r
	          FROM dblink(q5) AS x(g int, h text);
	        IF r.n <> 5 OR r.s <> 15 OR NOT r.good THEN RAISE EXCEPTION 'wrong rows from dblink: %', r; END IF;
	        t := dblink_exec('CREATE TEMP TABLE tt AS SELECT 1 AS x');
	        IF t <> 'SELECT 1' THEN RAISE EXCEPTION 'dblink_exec returned %', t; END IF;
	        t := dblink_disconnect(); unnamed_open := false;
	        IF t <> 'OK' THEN RAISE EXCEPTION 'dblink_disconnect returned %', t; END IF;
	        n_ok := n_ok + 1;
	      ELSIF k < 14 THEN
	        -- dblink() on a transient connection string
	        SELECT count(*) AS n, sum(g) AS s, bool_and(h = md5(g::text)) AS good INTO r
	          FROM dblink(cs, q5) AS x(g int, h text);
	        IF r.n <> 5 OR r.s <> 15 OR NOT r.good THEN RAISE EXCEPTION 'wrong rows from dblink: %', r; END IF;
	        n_ok := n_ok + 1;
	      ELSIF k = 14 THEN
	        -- dblink_exec() on a transient connection string
	        t := dblink_exec(cs, 'CREATE TEMP TABLE tt (x int)');
	        IF t <> 'CREATE TABLE' THEN RAISE EXCEPTION 'dblink_exec returned %', t; END IF;
	        n_ok := n_ok + 1;
	      ELSIF k = 15 THEN
	        -- remote errors with fail_on_error=false on a named connection
	        PERFORM dblink_connect(cn, cs); named_open := true;
	        SELECT count(*) INTO n FROM dblink(cn, 'SELECT 1/0', false) AS x(v int);
	        IF n <> 0 THEN RAISE EXCEPTION 'dblink(..., false) on a remote error returned % rows', n; END IF;
	        t := dblink_error_message(cn);
	        IF t NOT LIKE '%division by zero%' THEN RAISE EXCEPTION 'dblink_error_message is %', t; END IF;
	        t := dblink_exec(cn, 'SELECT * FROM no_such_table_load', false);
	        IF t <> 'ERROR' THEN RAISE EXCEPTION 'dblink_exec(..., false) on a remote error returned %', t; END IF;
	        t := dblink_error_message(cn);
	        IF t NOT LIKE '%no_such_table_load%' THEN RAISE EXCEPTION 'dblink_error_message is %', t; END IF;
	        SELECT v INTO n FROM dblink(cn, 'SELECT 42') AS x(v int);
	        IF n IS DISTINCT FROM 42 THEN RAISE EXCEPTION 'after remote errors: got %', n; END IF;
	        t := dblink_disconnect(cn); named_open := false;
	        n_soft := n_soft + 1;
	      ELSIF k = 16 THEN
	        -- a remote error with fail_on_error=true on the unnamed connection
	        PERFORM dblink_connect(cs); unnamed_open := true;
	        expect := '22012';
	        PERFORM * FROM dblink('SELECT 1/0') AS x(v int);
	        expect := NULL;
	        RAISE EXCEPTION 'no ERROR for a remote division by zero';
	      ELSIF k = 17 THEN
	        -- a remote error with fail_on_error=true on a transient connection string
	        expect := '42P01';
	        PERFORM * FROM dblink(cs, 'SELECT * FROM no_such_table_load') AS x(v int);
	        expect := NULL;
	        RAISE EXCEPTION 'no ERROR for a remote missing table';
	      ELSE
	        -- a remote error in dblink_exec with fail_on_error=true, named
	        PERFORM dblink_connect(cn, cs); named_open := true;
	        expect := '22012';
	        PERFORM dblink_exec(cn, 'SELECT 1/0', true);
	        expect := NULL;
	        RAISE EXCEPTION 'no ERROR for a remote division by zero in dblink_exec';
	      END IF;
	    EXCEPTION WHEN OTHERS THEN
	      IF expect IS NOT NULL AND SQLSTATE = expect THEN
	        n_exp := n_exp + 1;
	      ELSE
	        n_bad := n_bad + 1;
	        GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
	        RAISE WARNING 'UNEXPECTED w=% s=% i=% k=% %: % (%)', w, sess, i, k, SQLSTATE, SQLERRM, det;
	      END IF;
	    END;
	    -- after an expected ERROR the connection answers, then goes
	    BEGIN
	      IF named_open THEN
	        SELECT v INTO n FROM dblink(cn, 'SELECT 7') AS x(v int);
	        IF n IS DISTINCT FROM 7 THEN RAISE EXCEPTION 'after a remote error: got %', n; END IF;
	        named_open := false;
	        PERFORM dblink_disconnect(cn);
	      END IF;
	      IF unnamed_open THEN
	        SELECT v INTO n FROM dblink('SELECT 7') AS x(v int);
	        IF n IS DISTINCT FROM 7 THEN RAISE EXCEPTION 'after a remote error: got %', n; END IF;
	        unnamed_open := false;
	        PERFORM dblink_disconnect();
	      END IF;
	    EXCEPTION WHEN OTHERS THEN
	      n_bad := n_bad + 1;
	      RAISE WARNING 'UNEXPECTED w=% s=% i=% k=% (after the iteration) %: %', w, sess, i, k, SQLSTATE, SQLERRM;
	      BEGIN PERFORM dblink_disconnect(cn); EXCEPTION WHEN OTHERS THEN NULL; END;
	      BEGIN PERFORM dblink_disconnect(); EXCEPTION WHEN OTHERS THEN NULL; END;
	      named_open := false; unnamed_open := false;
	    END;
	    EXIT WHEN clock_timestamp() >= deadline;
	  END LOOP;
	  RAISE WARNING 'RESULT w=% s=% iterations=% ok=% soft=% expected=% unexpected=%', w, sess, i, n_ok, n_soft, n_exp, n_bad;
	END
	\$load\$;
	SQL
}

# worker W END_MS: sessions of about SESSION_S seconds until END_MS.
worker() {
	local w=$1 end=$2 s=0 rc out=$TMPDIR/w$1.out
	: >"$out"
	while (( $(now_ms) < end )); do
		s=$((s + 1))
		worker_sql "$w" "$s" "$end" |
			PGAPPNAME=load_local_w$w "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -f - >>"$out" 2>&1
		rc=$?
		echo "SESSION w=$w s=$s rc=$rc" >>"$out"
	done
}

t0=$(now_ms)
END_MS=$(( t0 + LOAD_S * 1000 ))
for ((w = 1; w <= WORKERS; w++)); do
	worker "$w" "$END_MS" &
	WORKER_PIDS+=( $! )
done
# The workers end at END_MS; a hung dblink call would be ended by the
# statement_timeout (SESSION_S + 30 s), so give them that long.
hung=0
limit=$(( END_MS + (SESSION_S + 40) * 1000 ))
for p in "${WORKER_PIDS[@]}"; do
	while kill -0 "$p" 2>/dev/null && (( $(now_ms) < limit )); do sleep 0.1; done
	if kill -0 "$p" 2>/dev/null; then
		hung=$((hung + 1))
		pkill -TERM -P "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	fi
	wait "$p" 2>/dev/null
done
WORKER_PIDS=()
load_ms=$(( $(now_ms) - t0 ))
check "(a) all $WORKERS workers ended (after $load_ms ms)" [ "$hung" -eq 0 ]

sessions=0 bad_sessions=0 results=0 iters=0 n_ok=0 n_soft=0 n_exp=0 n_bad=0
for ((w = 1; w <= WORKERS; w++)); do
	out=$TMPDIR/w$w.out
	[[ -f $out ]] || continue
	while IFS= read -r line; do
		case $line in
		SESSION\ *)
			sessions=$((sessions + 1))
			[[ $line == *' rc=0' ]] || bad_sessions=$((bad_sessions + 1)) ;;
		*'RESULT w='*)
			results=$((results + 1))
			[[ $line =~ iterations=([0-9]+)\ ok=([0-9]+)\ soft=([0-9]+)\ expected=([0-9]+)\ unexpected=([0-9]+) ]] || continue
			iters=$((iters + BASH_REMATCH[1])); n_ok=$((n_ok + BASH_REMATCH[2])); n_soft=$((n_soft + BASH_REMATCH[3]))
			n_exp=$((n_exp + BASH_REMATCH[4])); n_bad=$((n_bad + BASH_REMATCH[5])) ;;
		esac
	done <"$out"
done
echo "# load: $WORKERS workers, $sessions sessions, $iters iterations in $LOAD_S s ($(( iters * 1000 / (load_ms > 0 ? load_ms : 1) ))/s): ok=$n_ok soft=$n_soft expected=$n_exp unexpected=$n_bad"
check "(a) every session ended cleanly with its counts ($results counts, $sessions sessions, $bad_sessions failed)" \
	[ "$bad_sessions" -eq 0 -a "$results" -eq "$sessions" -a "$sessions" -ge "$WORKERS" ]
check "(a) every iteration ok or the expected error ($iters iterations, $n_bad unexpected)" \
	[ "$n_bad" -eq 0 -a "$iters" -eq $(( n_ok + n_soft + n_exp )) -a "$iters" -gt 0 ]
check "(a) the remote errors were exercised (soft=$n_soft expected=$n_exp)" [ "$n_soft" -gt 0 -a "$n_exp" -gt 0 ]
if (( n_bad || bad_sessions || results != sessions )); then
	echo "# first problems:"
	grep -h -v -e '^SESSION w=.* rc=0$' -e 'RESULT w=' "$TMPDIR"/w*.out | head -20 | sed 's/^/#   /'
fi
leftover() { [[ $(QDB=postgres q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'load\_%'") == 0 ]]; }
left_ok=1
for ((i = 0; i < 50; i++)); do leftover && break; sleep 0.1; done
leftover || left_ok=0
check "(a) no backend of the workers (local or remote) left after the load" [ "$left_ok" -eq 1 ]
(( left_ok )) || QDB=postgres q "SELECT pid, application_name, state, query FROM pg_stat_activity WHERE application_name LIKE 'load\_%'" | sed 's/^/#   /'

# --- (b) leaks in one backend ------------------------------------------------
sess_open B "$DB"
sess_run B "SET client_min_messages = warning; SELECT pg_backend_pid();" 30
BPID=$SESS_OUT
[[ $BPID =~ ^[0-9]+$ ]] || { notok "(b) backend pid (got: $BPID)"; BPID=; }

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$BPID/status"; }
anon_kb() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$BPID/status"; }
fd_count() { ls "/proc/$BPID/fd" | wc -l; }
thread_count() { ls "/proc/$BPID/task" | wc -l; }
# state: dblink_debug_state() into GO_STATE and its fields (our build).
state() {
	sess_run B "SELECT dblink_debug_state();" 10 || return 1
	GO_STATE=$SESS_OUT
	[[ $GO_STATE =~ goroutines=([0-9]+)\ connections=([0-9]+)\ operations=([0-9]+) ]] || return 1
	GO_G=${BASH_REMATCH[1]} GO_C=${BASH_REMATCH[2]} GO_O=${BASH_REMATCH[3]}
}
# settle [MAX_G]: poll (up to 2 s) until connections=0 operations=0 and at
# most MAX_G goroutines (without MAX_G: the same count twice in a row).
settle() {
	local max=${1:-} deadline prev=
	deadline=$(( $(now_ms) + 2000 ))
	while :; do
		state || return 1
		if (( GO_C == 0 && GO_O == 0 )); then
			if [[ -n $max ]]; then (( GO_G <= max )) && return 0
			elif [[ $prev == "$GO_G" ]]; then return 0
			fi
		fi
		prev=$GO_G
		(( $(now_ms) > deadline )) && return 1
		sleep 0.1
	done
}
# cycles KIND N BUDGET_S: run N cycles (connect: dblink_connect +
# dblink_disconnect; transient: dblink() with a connection string) in one
# call, stopping early after BUDGET_S seconds; CYCLES_DONE tells how many ran.
cycles() {
	CYCLES_DONE=0
	sess_run B "SELECT pg_temp.leak_cycles('$1', $2, $3);" $(( $3 + 120 )) || return 1
	[[ $SESS_OUT =~ ^[0-9]+$ ]] || return 1
	CYCLES_DONE=$SESS_OUT
}

# leak_phase KIND LABEL
# The warm-up is WARM cycles, then (our build) more, 50 at a time, until
# VmRSS stops growing: the Go heap grows to its first GC target (4 MB) over
# the first few hundred connections, which is no leak.
leak_phase() {
	local kind=$1 label=$2 rss0 rss1 anon0 anon1 fd0 fd1 th0 th1 g0 s0 ms warm prev r
	if ! cycles "$kind" "$WARM" "$WARM_BUDGET_S"; then
		notok "(b) $label: warm-up failed: $SESS_OUT"
		return
	fi
	warm=$CYCLES_DONE
	if [[ $KIND == ours ]]; then
		local t_warm flat=0
		t_warm=$(( $(now_ms) + WARM_BUDGET_S * 1000 ))
		prev=$(rss_kb)
		while (( warm < WARM_MAX && $(now_ms) < t_warm )); do
			cycles "$kind" 50 "$WARM_BUDGET_S" || { notok "(b) $label: warm-up failed: $SESS_OUT"; return; }
			warm=$(( warm + CYCLES_DONE ))
			r=$(rss_kb)
			if (( r - prev < 128 )); then flat=$((flat + 1)); else flat=0; fi
			(( flat >= 2 )) && break
			prev=$r
		done
		settle || notok "(b) $label: the Go core did not settle after the warm-up: $GO_STATE"
		g0=$GO_G s0=$GO_STATE
	fi
	rss0=$(rss_kb) anon0=$(anon_kb) fd0=$(fd_count) th0=$(thread_count)
	if ! cycles "$kind" "$CYCLES" "$LEAK_BUDGET_S"; then
		notok "(b) $label: failed after $SESS_MS ms: $SESS_OUT"
		return
	fi
	ms=$SESS_MS
	if [[ $KIND == ours ]]; then
		local t1 waited
		t1=$(now_ms)
		settle "$g0"
		waited=$(( $(now_ms) - t1 ))
		check "(b) $label: the Go core is back to its baseline (before: $s0; after: $GO_STATE; ${waited} ms after the block)" \
			[ "$GO_G" -le "$g0" -a "$GO_C" -eq 0 -a "$GO_O" -eq 0 ]
	fi
	rss1=$(rss_kb) anon1=$(anon_kb) fd1=$(fd_count) th1=$(thread_count)
	echo "# $label: warm-up $warm, then $CYCLES_DONE in $ms ms ($(( CYCLES_DONE * 1000 / (ms > 0 ? ms : 1) ))/s); VmRSS $rss0 -> $rss1 kB ($(( rss1 - rss0 )) kB), RssAnon $anon0 -> $anon1 kB, fds $fd0 -> $fd1, threads $th0 -> $th1"
	(( CYCLES_DONE < CYCLES )) && echo "# $label: only $CYCLES_DONE of $CYCLES cycles within the ${LEAK_BUDGET_S} s budget (a slow or busy machine)"
	check "(b) $label: VmRSS grew by $(( rss1 - rss0 )) kB over $CYCLES_DONE cycles (<= $RSS_MAX_KB)" [ $(( rss1 - rss0 )) -le "$RSS_MAX_KB" ]
	check "(b) $label: open fds unchanged ($fd0 -> $fd1)" [ "$fd0" -eq "$fd1" ]
}

if [[ -n $BPID ]]; then
	sess_run B "CREATE FUNCTION pg_temp.leak_cycles(kind text, n int, budget_s int) RETURNS int LANGUAGE plpgsql AS \$f\$
	DECLARE
	  cs text := 'dbname=postgres application_name=load_leak';
	  deadline timestamptz := clock_timestamp() + budget_s * interval '1 s';
	  i int := 0; v int;
	BEGIN
	  WHILE i < n LOOP
	    i := i + 1;
	    IF kind = 'connect' THEN
	      PERFORM dblink_connect('leak', cs);
	      PERFORM dblink_disconnect('leak');
	    ELSE
	      SELECT x INTO v FROM dblink(cs, 'SELECT 1') AS t(x int);
	      IF v IS DISTINCT FROM 1 THEN RAISE EXCEPTION 'dblink returned %', v; END IF;
	    END IF;
	    EXIT WHEN clock_timestamp() >= deadline;
	  END LOOP;
	  RETURN i;
	END
	\$f\$;" 10
	[[ -z $SESS_OUT ]] || notok "(b) cannot create the cycle function: $SESS_OUT"
	leak_phase connect "connect/disconnect"
	leak_phase transient "transient dblink()"
	sess_run B "SELECT 'alive';" 10
	check "(b) the backend is alive after the leak checks" [ "$SESS_OUT" = alive ]
fi
sess_close B

# --- the server --------------------------------------------------------------
PM_AFTER=$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || echo unknown)
check "the postmaster is the same process ($PM_BEFORE -> $PM_AFTER)" [ "$PM_BEFORE" = "$PM_AFTER" ]
check_no_crash "no crash or crash-restart in the server log" "$LOGFILE" "$LOG_OFF"

echo "# $FAILS check(s) failed"
(( FAILS == 0 ))
