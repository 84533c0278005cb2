#!/usr/bin/env bash
# bench/run.sh — stock contrib dblink vs ours, side by side, in one run.
#
#   bash bench/run.sh            (as root; see bench/README.md)
#
# Environment:
#   BENCH_RUNS=5      measurements per metric and side; the table shows medians
#   BENCH_SCALE=1     multiplies every row count and loop count (0.05 for a
#                     quick check of the script itself)
#   BENCH_DRY_RUN=1   stage the stock contrib dblink on BOTH sides (no build):
#                     checks the harness; every ratio should be about 1
#   BENCH_TIMEOUT=180 seconds one psql session may take before it counts as
#                     an error
#   BENCH_KEEP=1      keep the temp dir (stages, cluster logs, psql output)
#   BENCH_BUDGET=540  seconds: no new run starts when the previous runs say it
#                     would end past this (the table then says how many ran)
#   BENCH_ONLY="..."  only these jobs (bench/sql/*.sql basenames), e.g.
#                     BENCH_ONLY="a_persistent e_first_call"
#
# What it does: snapshot the working tree and `make` it, stage two copies of
# the PostgreSQL installation (test/lib.sh stage_install: one with the stock
# contrib dblink, one with ours), start one throwaway cluster on each (ports
# 54360-54369, sockets under a mktemp dir, stopped on exit), CREATE EXTENSION
# dblink on each, and then run every measurement BENCH_RUNS times,
# alternating the sides (odd runs contrib first, even runs ours first).  Each
# side's remote is its own cluster (`dbname=postgres` through the
# postmaster's PGHOST/PGPORT).  Times are taken inside the backend with
# clock_timestamp() around the measured statement (bench/sql/*.sql), so psql
# start-up is not in them.  A measurement that fails on one side is shown as
# "error" with its message, and is not retried on that side.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
export DBLINK_REPO=$REPO
# shellcheck source=../test/lib.sh
source "$REPO/test/lib.sh"
# Our own port range, away from the test suite's 54300-54319.
PORT_MIN=54360
PORT_MAX=54369

RUNS=${BENCH_RUNS:-5}
SCALE=${BENCH_SCALE:-1}
DRY=${BENCH_DRY_RUN:-0}
TIMEOUT=${BENCH_TIMEOUT:-180}
BUDGET=${BENCH_BUDGET:-540}
[[ ${BENCH_KEEP:-0} == 1 ]] && export DBLINK_KEEP_TMP=1
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be a positive integer" >&2; exit 2; }
[[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "BENCH_SCALE must be a positive number" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run as root (clusters run as the postgres OS user)" >&2; exit 2; }

# scaled N: N * BENCH_SCALE, rounded, at least 1.
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s + 0.5); print (v < 1 ? 1 : v) }'; }
N_A=$(scaled 1000000)
N_B=$(scaled 100000)
N_C=$(scaled 300)
N_D=$(scaled 3000)
N_S=$(scaled 200)
N_K=$(scaled 30000)
N_L=$(scaled 1000)
Q_A="SELECT i, md5(i::text), ARRAY[i,i+1,i+2] FROM generate_series(1,$N_A) i"
Q_B="SELECT repeat(md5(i::text), 32) FROM generate_series(1,$N_B) i"

say() { printf '%s\n' "$*" >&2; }
T_START=$SECONDS

DBLINK_TMP=$(mktemp -d /tmp/dblink-bench.XXXXXX) || exit 1
export DBLINK_TMP
tmp_init || exit 1
say "bench state in $DBLINK_TMP"

SIDES=(contrib ours)
declare -A SIDE_ERR=()   # side -> why the whole side is unusable
declare -A JOB_ERR=()    # side:job -> first error message of that job
declare -A VAL=()        # side:metric:run -> number

# --- build and stage ---------------------------------------------------------
# The build runs in a snapshot of the working tree: other people edit and
# build in the repo at the same time, and a half-written file must not end up
# in one stage and not the other.
OURS_KIND=ours
if [[ $DRY == 1 ]]; then
	OURS_KIND=contrib
	say "BENCH_DRY_RUN=1: the 'ours' side is the stock contrib dblink too"
else
	SRC=$DBLINK_TMP/src
	mkdir -p "$SRC"
	tar -C "$REPO" --exclude=./.git --exclude=./bench -cf - . | tar -C "$SRC" -xf - || exit 1
	DBLINK_REPO=$SRC
	say "make (snapshot of $REPO in $SRC)"
	if ! make -s -C "$SRC" PG_CONFIG="$PG_CONFIG" >"$DBLINK_TMP/make.log" 2>&1; then
		tail -n 30 "$DBLINK_TMP/make.log" >&2
		SIDE_ERR[ours]="build failed (make)"
	fi
fi

stage_install "$DBLINK_TMP/stage-contrib" contrib >/dev/null 2>&1 ||
	{ say "stage_install contrib failed"; exit 1; }
if [[ -z ${SIDE_ERR[ours]:-} ]]; then
	stage_install "$DBLINK_TMP/stage-ours" "$OURS_KIND" >"$DBLINK_TMP/stage-ours.log" 2>&1 ||
		{ cat "$DBLINK_TMP/stage-ours.log" >&2; SIDE_ERR[ours]="stage install failed (make install)"; }
fi

# psql_side SIDE ARGS...: psql as postgres to database postgres of SIDE's
# cluster; unaligned, tuples only, stops at the first error, time-limited.
psql_side() {
	local side=$1
	shift
	cluster_use "$side" || return 1
	timeout -k 5 "$TIMEOUT" "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
		-h "$PGHOST" -p "$PGPORT" -U postgres -d postgres "$@"
}

for side in "${SIDES[@]}"; do
	[[ -n ${SIDE_ERR[$side]:-} ]] && continue
	if ! cluster_start "$side" "$DBLINK_TMP/stage-$side" auto 2>"$DBLINK_TMP/start-$side.log"; then
		cat "$DBLINK_TMP/start-$side.log" >&2
		SIDE_ERR[$side]="cluster start failed"
		continue
	fi
	if ! out=$(psql_side "$side" -c 'CREATE EXTENSION dblink' 2>&1); then
		SIDE_ERR[$side]="CREATE EXTENSION failed: ${out//$'\n'/ }"
		continue
	fi
	say "cluster $side: port ${CL_PORT[$side]}, stage $(stage_kind "$DBLINK_TMP/stage-$side")"
done
[[ -n ${SIDE_ERR[contrib]:-} ]] && { say "contrib side unusable: ${SIDE_ERR[contrib]}"; exit 1; }

# --- measurements ------------------------------------------------------------
# median: the median of the numbers on stdin (whitespace-separated).
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f\n", m }'; }

# A job is one psql session running bench/sql/JOB.sql; it prints
# `@@ metric value` lines.  JOB_ARGS: its psql variables; JOB_ROWS: the
# row-count checks (metric=expected).
JOBS=(a_persistent a_transient b_wide c_connect d_exec d_query d_alternate d_pinned e_first_call f_spaced k_churn l_oneshot)
if [[ -n ${BENCH_ONLY:-} ]]; then
	for j in $BENCH_ONLY; do
		[[ -f $BENCH_DIR/sql/$j.sql ]] || { say "BENCH_ONLY: no job $j (one of: ${JOBS[*]})"; exit 2; }
	done
	JOBS=( $BENCH_ONLY )
fi
declare -A JOB_ARGS=(
	[a_persistent]="q" [a_transient]="q" [b_wide]="qb"
	[c_connect]="nc" [d_exec]="nd" [d_query]="nd" [d_alternate]="nd" [d_pinned]="nd" [e_first_call]=""
	[f_spaced]="fs" [k_churn]="nk" [l_oneshot]="nl"
)
declare -A JOB_ROWS=(
	[a_persistent]="a_rows=$N_A" [a_transient]="a2_rows=$N_A" [b_wide]="b_rows=$N_B"
	[l_oneshot]="l_rows=$N_L"
)
# JOB_REPS: sessions per measurement for jobs too short to trust one of
# (the recorded value is the median of those sessions).
declare -A JOB_REPS=( [e_first_call]=5 )
declare -A JOB_METRICS=(
	[a_persistent]="a f f0 g h" [a_transient]="a2" [b_wide]="b" [c_connect]="c"
	[d_exec]="d1" [d_query]="d2" [d_alternate]="d3" [d_pinned]="d1s d1x" [e_first_call]="e e0"
	[f_spaced]="i ic ir j jr" [k_churn]="k k2" [l_oneshot]="l lr"
)

# run_job SIDE JOB RUN: one measurement; records VAL or JOB_ERR.
run_job() {
	local side=$1 job=$2 run=$3 out args=() a line key value chk want got off t0
	[[ -n ${SIDE_ERR[$side]:-} || -n ${JOB_ERR[$side:$job]:-} ]] && return 0
	for a in ${JOB_ARGS[$job]}; do
		case $a in
		q) args+=( -v "q=$Q_A" ) ;;
		qb) args+=( -v "q=$Q_B" ) ;;
		nc) args+=( -v "n=$N_C" ) ;;
		nd) args+=( -v "n=$N_D" ) ;;
		fs) args+=( -v "ns=$N_S" -v "nd=$N_D" ) ;;
		nk) args+=( -v "n=$N_K" ) ;;
		nl) args+=( -v "n=$N_L" ) ;;
		esac
	done
	out=$DBLINK_TMP/out-$side-$job-$run.txt
	off=$(stat -c %s "${CL_LOG[$side]}")
	t0=$EPOCHREALTIME
	local rep rc=0
	: >"$out"
	for ((rep = 1; rep <= ${JOB_REPS[$job]:-1}; rep++)); do
		psql_side "$side" "${args[@]}" -f "$BENCH_DIR/sql/$job.sql" >>"$out" 2>&1 || { rc=$?; break; }
	done
	local wall
	wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	if log_has_crash "${CL_LOG[$side]}" "$off" >/dev/null; then
		JOB_ERR[$side:$job]="backend crashed (server log: ${CL_LOG[$side]})"
		# Let the postmaster finish its crash restart before the next job.
		local i
		for ((i = 0; i < 60; i++)); do
			psql_side "$side" -c 'SELECT 1' >/dev/null 2>&1 && break
			sleep 1
		done
	elif (( rc == 124 || rc == 137 )); then
		JOB_ERR[$side:$job]="timed out after ${TIMEOUT}s"
	elif (( rc != 0 )); then
		line=$(grep -m1 -E 'ERROR|FATAL|PANIC|server closed|could not' "$out" || tail -n 1 "$out")
		JOB_ERR[$side:$job]="psql exit $rc: ${line:-no output}"
	fi
	if [[ -z ${JOB_ERR[$side:$job]:-} ]]; then
		for chk in ${JOB_ROWS[$job]:-}; do
			want=${chk#*=}
			got=$(awk -v k="${chk%%=*}" '$1 == "@@" && $2 == k { print $3 }' "$out")
			[[ $got == "$want" ]] || JOB_ERR[$side:$job]="returned ${got:-no} rows, expected $want"
		done
	fi
	if [[ -n ${JOB_ERR[$side:$job]:-} ]]; then
		say "  run $run $side $job: ERROR ${JOB_ERR[$side:$job]}"
		return 0
	fi
	for key in ${JOB_METRICS[$job]}; do
		value=$(awk -v k="$key" '$1 == "@@" && $2 == k && $3 ~ /^[0-9]+(\.[0-9]+)?$/ { print $3 }' "$out" | median)
		[[ -n $value ]] && VAL[$side:$key:$run]=$value
	done
	local shown=()
	for key in ${JOB_METRICS[$job]}; do shown+=( "$key=${VAL[$side:$key:$run]:-?}" ); done
	say "  run $run $side $job: ${shown[*]} (session ${wall}s)"
}

# One warm-up session per side (page cache for the libraries; discarded).
for side in "${SIDES[@]}"; do
	[[ -n ${SIDE_ERR[$side]:-} ]] && continue
	psql_side "$side" -c "SELECT dblink_connect('w', 'dbname=postgres'); SELECT count(*) FROM dblink('w', 'SELECT 1') AS t(x int)" >/dev/null 2>&1 || true
done

RUNS_DONE=0
T_RUNS=$SECONDS
for ((run = 1; run <= RUNS; run++)); do
	if (( run > 1 )); then
		per_run=$(( (SECONDS - T_RUNS) / (run - 1) ))
		if (( SECONDS - T_START + per_run > BUDGET )); then
			say "stopping after $RUNS_DONE runs: one more (~${per_run}s) would pass BENCH_BUDGET=${BUDGET}s"
			break
		fi
	fi
	if (( run % 2 )); then order=(contrib ours); else order=(ours contrib); fi
	say "run $run/$RUNS (${order[0]} first)"
	for job in "${JOBS[@]}"; do
		for side in "${order[@]}"; do
			run_job "$side" "$job" "$run"
		done
	done
	RUNS_DONE=$run
done

# --- report ------------------------------------------------------------------

# values SIDE METRIC: the recorded values, space-separated.
values() {
	local r vs=()
	for ((r = 1; r <= RUNS; r++)); do
		[[ -n ${VAL[$1:$2:$r]:-} ]] && vs+=( "${VAL[$1:$2:$r]}" )
	done
	echo "${vs[*]}"
}
# pair_ratios METRIC: ours/contrib for each run where both sides have a value.
pair_ratios() {
	local r vs=()
	for ((r = 1; r <= RUNS; r++)); do
		if [[ -n ${VAL[contrib:$1:$r]:-} && -n ${VAL[ours:$1:$r]:-} ]]; then
			vs+=( "$(awk -v o="${VAL[ours:$1:$r]}" -v c="${VAL[contrib:$1:$r]}" 'BEGIN { if (c > 0) printf "%.6f", o / c }')" )
		fi
	done
	echo "${vs[*]}"
}
# metric_job METRIC: the job that measures it.
metric_job() {
	local j
	for j in "${JOBS[@]}"; do
		[[ " ${JOB_METRICS[$j]} " == *" $1 "* ]] && { echo "$j"; return; }
	done
}
side_error() {
	local side=$1 job=$2
	[[ -n ${SIDE_ERR[$side]:-} ]] && { echo "${SIDE_ERR[$side]}"; return; }
	echo "${JOB_ERR[$side:$job]:-}"
}

# metric|label|unit (ms, us, or kB shown as MB)|check (ratio:X, plus:X, info)
METRICS=(
	"a|(a) ${N_A} rows (int,text,int[]), persistent conn|ms|ratio:0.8"
	"a2|(a') same, transient conn (connect+query)|ms|info"
	"b|(b) ${N_B} rows x 1 KB text|ms|ratio:0.9"
	"c|(c) ${N_C} x dblink_connect+dblink_disconnect|ms|ratio:1.0"
	"d1|(d) ${N_D} x dblink_exec('SET ...')|ms|ratio:1.0"
	"d2|(d) ${N_D} x dblink('SELECT 1')|ms|ratio:1.0"
	"d3|(d'') ${N_D} x dblink_exec, two connections in turn|ms|ratio:1.0"
	"d1s|(d') dblink_exec, both backends on CPU 0|ms|info"
	"d1x|(d') dblink_exec, backends on CPUs 0 and 1|ms|info"
	"e|(e) first dblink_connect in a fresh backend|ms|plus:2"
	"e0|(e') second dblink_connect, same backend|ms|info"
	"f|(f) backend VmHWM after (a)|kB|plus:8"
	"f0|(f') backend VmRSS at session start|kB|info"
	"g|(g) backend RssAnon after (a)|kB|plus:3"
	"h|(h) backend CPU time (all threads) for (a)|ms|info"
	"i|(i) dblink('SELECT 1') 12 ms after the last, per call|us|ratio:1.0"
	"ic|(i) our backend's CPU per spaced call|us|ratio:0.8"
	"ir|(i) remote backend's CPU per spaced call|us|ratio:1.0"
	"j|(j) our backend's CPU per call, 3,000 in a row|us|ratio:0.8"
	"jr|(j) remote backend's CPU per call, 3,000 in a row|us|ratio:1.0"
	"k|(k) backend RssAnon after ${N_K} connect+disconnect|kB|plus:3"
	"k2|(k') the same, 2 s later (no connection open)|kB|info"
	"l|(l) ${N_L} one-shot INSERTs, TCP+scram, pooled|ms|ratio:0.1"
	"lr|(l') remote sessions that served (l)|n|info"
)

LINE_FMT='%-48s %12s %12s %8s %12s  %s\n'
report() {
	local spec metric label unit check cv ov cm om ratio target result diff job
	printf '\ndblink benchmark: contrib vs ours (%s)\n' "$([[ $DRY == 1 ]] && echo 'DRY RUN: contrib on both sides' || echo 'ours built from the working tree')"
	printf 'date %s; host %s, %s cores, load %s; runs %s%s (medians); scale %s\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$RUNS_DONE" "$( (( RUNS_DONE < RUNS )) && echo " of $RUNS asked (time budget)")" "$SCALE"
	printf 'commit %s%s; %s\n\n' "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')" \
		"$([[ -n $(git -C "$REPO" status --porcelain -- csrc cmd internal sql Makefile 2>/dev/null) ]] && echo ' + uncommitted changes')" \
		"$("$PG_SYS_LIB/bin/postgres" --version)"
	# shellcheck disable=SC2059
	printf "$LINE_FMT" metric contrib ours ours/con target result
	# shellcheck disable=SC2059
	printf "$LINE_FMT" "$(printf '%.0s-' {1..48})" ------------ ------------ -------- ------------ ------
	local notes=()
	for spec in "${METRICS[@]}"; do
		IFS='|' read -r metric label unit check <<<"$spec"
		job=$(metric_job "$metric")
		[[ -n $job ]] || continue
		cm=$(values contrib "$metric" | median)
		om=$(values ours "$metric" | median)
		ratio=$(pair_ratios "$metric" | median)
		local scale=1 u=$unit
		[[ $unit == kB ]] && { scale=1024; u=MB; }
		cv=error ov=error
		[[ -n $cm ]] && cv=$(awk -v v="$cm" -v s="$scale" -v u="$u" 'BEGIN { printf "%.1f %s", v / s, u }')
		[[ -n $om ]] && ov=$(awk -v v="$om" -v s="$scale" -v u="$u" 'BEGIN { printf "%.1f %s", v / s, u }')
		[[ -n $ratio ]] && ratio=$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r }') || ratio=-
		case $check in
		ratio:*) target="<= ${check#ratio:}x" ;;
		plus:*) target="<= +${check#plus:} $u" ;;
		*) target=- ;;
		esac
		if [[ -z $cm || -z $om ]]; then
			result=error
			[[ $check == info ]] && result="- (error)"
		elif [[ $check == ratio:* ]]; then
			result=$(awk -v r="$(pair_ratios "$metric" | median)" -v t="${check#ratio:}" 'BEGIN { print (r <= t ? "PASS" : "MISS") }')
		elif [[ $check == plus:* ]]; then
			diff=$(awk -v o="$om" -v c="$cm" -v s="$scale" 'BEGIN { printf "%+.1f", (o - c) / s }')
			result=$(awk -v d="$diff" -v t="${check#plus:}" 'BEGIN { print (d <= t ? "PASS" : "MISS") }')
			result="$result ($diff $u)"
		else
			result=-
		fi
		# shellcheck disable=SC2059
		printf "$LINE_FMT" "$label" "$cv" "$ov" "$ratio" "$target" "$result"
	done
	local side err
	for job in "${JOBS[@]}"; do
		for side in "${SIDES[@]}"; do
			err=$(side_error "$side" "$job")
			[[ -n $err ]] && notes+=( "$side $job: $err" )
		done
	done
	if (( ${#notes[@]} )); then
		printf '\nerrors (bench/sql/JOB.sql; a job that failed once is not retried on that side):\n'
		printf '  %s\n' "${notes[@]}"
	fi
	printf '\nours/con is the median of the per-run ratios; +X targets compare the medians.\n'
	printf 'total wall time %ss\n' "$((SECONDS - T_START))"
}
report
