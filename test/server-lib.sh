# test/server-lib.sh — helpers shared by the server-level tests in
# test/server/*.sh (sourced, not run): TAP-like ok/not ok lines counted in
# FAILS, a millisecond clock, long-lived psql sessions and polling.
# Sessions need TMPDIR set by the sourcing script.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The staged installation's programs (run.sh passes PGBIN; by hand, STAGE).
PGBIN=${PGBIN:-${STAGE:?}/usr/lib/postgresql/15/bin}
PSQL=$PGBIN/psql
KIND=$(stage_kind "$STAGE")

FAILS=0
ok() { printf 'ok - %s\n' "$*"; }
notok() { printf 'not ok - %s\n' "$*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }

# sess_open NAME DB   sess_send NAME SQL   sess_wait NAME SECS   sess_run NAME SQL [SECS]
# After sess_wait/sess_run, SESS_OUT holds what psql printed for the command
# (values, NOTICE/ERROR lines with SQLSTATE) and SESS_MS how long it took
# from the send.
declare -A S_FD=() S_PID=() S_OUT=() S_SEQ=() S_OFF=() S_T0=()
sess_open() {
	local name=$1 db=$2 fifo=$TMPDIR/$1.in fd
	rm -f "$fifo"
	mkfifo "$fifo"
	S_OUT[$name]=$TMPDIR/$name.out
	: >"${S_OUT[$name]}"
	stdbuf -o0 -e0 "$PSQL" -X -q -At -v VERBOSITY=verbose -d "$db" \
		<"$fifo" >"${S_OUT[$name]}" 2>&1 &
	S_PID[$name]=$!
	exec {fd}>"$fifo"
	S_FD[$name]=$fd
	S_SEQ[$name]=0
	S_OFF[$name]=0
}
sess_send() {
	local name=$1 sql=$2
	S_SEQ[$name]=$(( S_SEQ[$name] + 1 ))
	S_T0[$name]=$(now_ms)
	printf '%s\n\\echo @@%d@@\n' "$sql" "${S_SEQ[$name]}" >&"${S_FD[$name]}"
}
sess_wait() {
	local name=$1 secs=${2:-10} deadline marker out size
	marker="@@${S_SEQ[$name]}@@"
	deadline=$(( $(now_ms) + secs * 1000 ))
	while :; do
		out=$(tail -c +$(( S_OFF[$name] + 1 )) "${S_OUT[$name]}")
		if [[ $'\n'$out$'\n' == *$'\n'"$marker"$'\n'* ]]; then
			SESS_MS=$(( $(now_ms) - S_T0[$name] ))
			SESS_OUT=${out%%"$marker"*}
			SESS_OUT=${SESS_OUT%$'\n'}
			size=${#out}
			S_OFF[$name]=$(( S_OFF[$name] + $(printf '%s' "${out%%"$marker"*}$marker" | wc -c) + 1 ))
			return 0
		fi
		if ! kill -0 "${S_PID[$name]}" 2>/dev/null; then
			SESS_MS=$(( $(now_ms) - S_T0[$name] ))
			SESS_OUT=$out
			return 2
		fi
		if (( $(now_ms) > deadline )); then
			SESS_MS=$(( $(now_ms) - S_T0[$name] ))
			SESS_OUT=$out
			return 1
		fi
		sleep 0.01
	done
}
sess_run() { sess_send "$1" "$2" && sess_wait "$1" "${3:-10}"; }
sess_close() {
	local name=$1
	[[ -n ${S_FD[$name]:-} ]] || return 0
	local fd=${S_FD[$name]}
	exec {fd}>&-
	# psql exits at end of input; make sure it does.
	local i
	for ((i = 0; i < 50; i++)); do kill -0 "${S_PID[$name]}" 2>/dev/null || break; sleep 0.05; done
	kill "${S_PID[$name]}" 2>/dev/null
	wait "${S_PID[$name]}" 2>/dev/null
	unset "S_FD[$name]"
}

# wait_until SECS CMD...: poll CMD every 20 ms.
wait_until() {
	local secs=$1 deadline
	shift
	deadline=$(( $(now_ms) + secs * 1000 ))
	until "$@"; do
		(( $(now_ms) > deadline )) && return 1
		sleep 0.02
	done
}

# wait_for SQL WANT TIMEOUT_MS: poll the scripts' q function until SQL
# (returning one value, e.g. a count) returns WANT; WAITED is how long it took.
wait_for() {
	local sql=$1 want=$2 limit=$3 t0 n
	t0=$(now_ms)
	while :; do
		n=$(q "$sql")
		[[ $n == "$want" ]] && { WAITED=$(( $(now_ms) - t0 )); return 0; }
		(( $(now_ms) - t0 > limit )) && { WAITED=$(( $(now_ms) - t0 )); return 1; }
		sleep 0.02
	done
}

# check_no_crash WHAT LOGFILE OFFSET: one check that the server log, from
# byte OFFSET on, has no crash or crash-restart line (log_has_crash).
check_no_crash() {
	local crash
	if crash=$(log_has_crash "$2" "$3"); then
		notok "$1: ${crash//$'\n'/ | }"
	else
		ok "$1"
	fi
}

# own_cluster NAME: start a cluster of the test's own under $TMPDIR (not
# with tmp_init, whose trap would remove run.sh's temp dir), stopped on
# exit together with every process in HELPER_PIDS; exits when it cannot.
HELPER_PIDS=()
own_cluster() {
	DBLINK_TMP=$TMPDIR
	trap 'kill "${HELPER_PIDS[@]}" 2>/dev/null; cluster_stop '"$1"' >/dev/null 2>&1' EXIT
	if ! cluster_start "$1" "$STAGE" auto >/dev/null 2>&1; then
		notok "could not start a cluster"
		exit 1
	fi
}

# restart_own_cluster: restart it (after a configuration change, or under
# other limits).
restart_own_cluster() {
	as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOGFILE" -w -t 60 restart >/dev/null 2>&1
}

# fakepg_start: start test/server/fakepg.py (a fake PostgreSQL server whose
# answers are scripts, see there) on 127.0.0.1; sets FPORT, its port,
# FEVENTS, its event log, and FCONN, a connection string to it (dbname x);
# it ends with the test (HELPER_PIDS).
fakepg_start() {
	local dir=${TMPDIR:?}
	rm -f "$dir/fakepg.port"
	FEVENTS=$dir/fakepg.events
	: >"$FEVENTS"
	chmod 666 "$FEVENTS"
	"$(command -v python3)" -u "$(dirname "${BASH_SOURCE[0]}")/server/fakepg.py" \
		"$dir/fakepg.port" "$FEVENTS" "${1:-600}" >"$dir/fakepg.err" 2>&1 &
	HELPER_PIDS+=($!)
	if ! wait_until 10 test -s "$dir/fakepg.port"; then
		notok "the fake server did not start: $(cat "$dir/fakepg.err")"
		exit 1
	fi
	FPORT=$(head -1 "$dir/fakepg.port")
	FCONN="host=127.0.0.1 port=$FPORT user=x sslmode=disable"
}

# q SQL: one statement in a new session of the current cluster; its output.
q() { "$PSQL" -X -q -At -d postgres -c "$1" 2>&1; }

# sq: the SQL on stdin in a new session; what psql printed, also in OUT.
# val KEY: the value of OUT's first line "KEY|value"; has TEXT: OUT has it.
sq() {
	OUT=$(timeout 60 "$PSQL" -X -q -At -v VERBOSITY=default -d postgres 2>&1)
	printf '%s\n' "$OUT"
}
val() { sed -n "s/^$1|//p" <<<"$OUT" | head -n1; }
has() { [[ $OUT == *"$1"* ]]; }

# hostile_setup NAME: for a test on its own cluster NAME (own_cluster) that
# plays a hostile server: log_off (where the cluster's log stands now), the
# fake server (fakepg_start), dblink created, and an exit trap that also
# closes the test's psql sessions.
hostile_setup() {
	log_off=$(stat -c %s "$LOGFILE")
	fakepg_start
	q 'CREATE EXTENSION dblink' >/dev/null
	trap 'for s in "${!S_FD[@]}"; do sess_close "$s"; done; kill "${HELPER_PIDS[@]}" 2>/dev/null; cluster_stop '"$1"' >/dev/null 2>&1' EXIT
}
