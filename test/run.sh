#!/usr/bin/env bash
# test/run.sh — THE test command (`make test` runs it, CI runs it via .ci/run).
#
#   bash test/run.sh [--long] [--oracle] [--no-go]
#
#   --long    also run the long variants of the server tests (DBLINK_LONG=1)
#             and fuzz each Go fuzz target for 2 minutes instead of 10 s
#   --oracle  run the pg_regress and server tests against the stock contrib
#             dblink instead of ours (skips the build and the Go tests): a
#             check of the tests themselves
#   --no-go   skip go vet / go test / fuzzing (quick iterations on the C side)
#   --no-matrix  skip the PostgreSQL 17 and 18 runs (test/matrix.sh, which
#             builds and tests in Debian root file systems, cached under
#             /var/cache/dblink-matrix; the first run downloads them)
#
# Stages: setup.sh, make, go vet, go test -race, every Go fuzz target
# (`func FuzzX` in any package; one counted step each, fuzz/FuzzX, for
# DBLINK_FUZZTIME, default 10s, 2m with --long; a failing input is saved
# under the package's testdata/fuzz/FuzzX/ and replays in plain go test),
# stage install into a copy of
# PostgreSQL under a temp dir, start a throwaway cluster (as the `postgres` OS
# user, 127.0.0.1, port 54300-54319), pg_regress over test/regress/tests,
# every test/server/*.sh, stop the cluster, check its log for crashes.
# Nothing under /usr is changed.  The last line is `N passed, N failed`
# (`, N skipped` when something was skipped); the exit code is non-zero when
# anything failed.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DBLINK_REPO=$REPO
# shellcheck source=lib.sh
source "$REPO/test/lib.sh"

LONG=0 KIND=ours GO_TESTS=1 MATRIX=${DBLINK_MATRIX:-1}
while (( $# )); do
	case $1 in
	--long) LONG=1 ;;
	--no-matrix) MATRIX=0 ;;
	--oracle|--contrib) KIND=contrib ;;
	--no-go) GO_TESTS=0 ;;
	-h|--help) sed -n '2,26p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[[ ${CI:-} == true ]] && exec </dev/null

PASSED=0 FAILED=0 SKIPPED=0
FAILED_NAMES=()
T0=$SECONDS

now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
pass() { PASSED=$((PASSED + 1)); printf 'ok      %s%s\n' "$1" "${2:+ ($2)}"; }
fail() { FAILED=$((FAILED + 1)); FAILED_NAMES+=( "$1" ); printf 'FAILED  %s%s\n' "$1" "${2:+ ($2)}"; }
skip() { SKIPPED=$((SKIPPED + 1)); printf 'skip    %s%s\n' "$1" "${2:+ ($2)}"; }

# step NAME CMD...: run CMD, count it.  The steps that set up cluster state
# run in this shell; the others as a child, so an interrupt ends them at once.
step() {
	local name=$1 t rc
	shift
	printf '\n=== %s\n' "$name"
	t=$(now_ms)
	case $1 in
	stage_install|cluster_start|check_postmaster) "$@" ;;
	*) run_child "$@" ;;
	esac
	rc=$?
	t=$(( $(now_ms) - t ))
	if (( rc == 0 )); then pass "$name" "$((t / 1000)).$(printf '%03d' $((t % 1000)))s"; else fail "$name" "exit $rc"; fi
	return $rc
}

finish() {
	cluster_stop main >/dev/null 2>&1 || true
	printf '\n=== summary (%ss)\n' "$((SECONDS - T0))"
	if (( FAILED )); then
		printf 'failed: %s\n' "${FAILED_NAMES[*]}"
		DBLINK_KEEP_TMP=1
	fi
	if (( SKIPPED )); then
		printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	else
		printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	fi
	(( FAILED == 0 ))
	exit $?
}

tmp_init || { echo "cannot create a temp dir" >&2; exit 1; }

# The system installation must come out of a run exactly as it went in.
system_fingerprint() {
	( cd / && ls -l --time-style=+%s "${PG_SYS_LIB#/}"/lib/dblink*.so "${PG_SYS_SHARE#/}"/extension/dblink* 2>/dev/null |
		awk '{ print $NF, $5, $6 }'
	  cd / && sha256sum "${PG_SYS_LIB#/}"/lib/dblink*.so 2>/dev/null )
}
SYSTEM_BEFORE=$(system_fingerprint)
echo "test state in $DBLINK_TMP; stage: $KIND; long: $LONG"

# --- build -------------------------------------------------------------------
step setup bash "$REPO/scripts/setup.sh" || finish

built=1
if [[ $KIND == ours ]]; then
	step build make -C "$REPO" PG_CONFIG="$PG_CONFIG" || built=0
fi

go_tests() {
	local race=() pkgs
	pkgs=$(cd "$REPO" && go list ./... 2>/dev/null)
	if [[ -z $pkgs ]]; then
		echo "no Go packages"
		return 0
	fi
	if [[ $(go env CGO_ENABLED) == 1 ]] && [[ $(go env GOOS)/$(go env GOARCH) =~ ^linux/(amd64|arm64|ppc64le|s390x)$ ]]; then
		race=( -race )
	fi
	(cd "$REPO" && go test "${race[@]}" -timeout 5m -count=1 ./...)
}
# fuzz_one TARGET TIME PKG: go test -fuzz for one target. Go 1.26's fuzz
# coordinator can end a run that found nothing with a bare "context
# deadline exceeded" when -fuzztime runs out mid-input (go.dev/issue/75804,
# fixed in Go 1.27): such a run, which wrote no failing input under
# testdata/fuzz, is run once more. A real failure writes its input there.
fuzz_one() {
	local target=$1 time=$2 pkg=$3 dir out rc before
	dir=$(cd "$REPO" && go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$target
	before=$(ls "$dir" 2>/dev/null)
	out=$(cd "$REPO" && go test -run '^$' -fuzz "^$target\$" -fuzztime "$time" "$pkg" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if (( rc != 0 )) && [[ $(ls "$dir" 2>/dev/null) == "$before" ]] &&
		grep -qx $'\tcontext deadline exceeded\|    context deadline exceeded' <<<"$out"; then
		echo "(go.dev/issue/75804: no failing input written; running once more)"
		(cd "$REPO" && go test -run '^$' -fuzz "^$target\$" -fuzztime "$time" "$pkg")
		rc=$?
	fi
	return $rc
}

# run_fuzz_targets: one step per Go fuzz target (go test takes one -fuzz
# target per run), each for $DBLINK_FUZZTIME.
run_fuzz_targets() {
	local fuzztime=${DBLINK_FUZZTIME:-10s} line pkg= targets=() t
	(( LONG )) && fuzztime=${DBLINK_FUZZTIME:-2m}
	# `go test -list` prints the matching names of a package, then
	# "ok  <package> ...".
	while IFS= read -r line; do
		if [[ $line =~ ^Fuzz[[:alnum:]_]*$ ]]; then
			targets+=( "$line" )
		elif [[ $line =~ ^ok[[:space:]]+([^[:space:]]+) ]]; then
			pkg=${BASH_REMATCH[1]}
			for t in "${targets[@]}"; do
				step "fuzz/$t" fuzz_one "$t" "$fuzztime" "$pkg"
			done
			targets=()
		fi
	done < <(cd "$REPO" && go test -list '^Fuzz' ./... 2>&1)
}
if [[ $KIND == ours && $GO_TESTS == 1 ]]; then
	if [[ -n $(cd "$REPO" && go list ./... 2>/dev/null) ]]; then
		step "go mod tidy" bash -c 'cd "$1" && go mod tidy -diff' _ "$REPO"
		step "gofmt" bash -c 'cd "$1" && out=$(gofmt -l cmd internal) && { [[ -z $out ]] || { echo "not gofmt-ed: $out"; false; }; }' _ "$REPO"
		step "go vet" bash -c 'cd "$1" && go vet ./...' _ "$REPO"
		step "go test" go_tests
		run_fuzz_targets
	else
		skip "go vet" "no Go packages yet"
		skip "go test" "no Go packages yet"
	fi
fi

if (( ! built )); then
	skip "stage install" "build failed"
	finish
fi

# --- cluster -----------------------------------------------------------------
STAGE_DIR=$DBLINK_TMP/stage
step "stage install ($KIND)" stage_install "$STAGE_DIR" "$KIND" || finish
step "cluster start" cluster_start main "$STAGE_DIR" auto || finish
MAIN_PID=$(postmaster_pid "$PGDATA")

# --- live Go tests -------------------------------------------------------------
# The Go tests named *Live run against a cluster of their own twice: over
# its unix socket (peer checks, a server that asks for no password) and over
# 127.0.0.1 (libpq's error texts; password authentication for one role,
# trust for the others). Each must pass in at least one of the two runs:
# none may only skip.
go_live_tests() {
	local race=() out=$DBLINK_TMP/go-live.out want passed rc=0
	[[ $(go env CGO_ENABLED) == 1 ]] && race=( -race )
	cluster_start live "$STAGE_DIR" auto || return 1
	local hba=$PGDATA/pg_hba.conf
	{ printf 'host all dblink_live_pw 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n'; cat "$hba"; } >"$hba.new"
	mv "$hba.new" "$hba"
	chown "$PG_OS_USER:" "$hba"
	as_pg "$PGBIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -d postgres -c "SELECT pg_reload_conf()" \
		-c "CREATE ROLE dblink_live_pw LOGIN PASSWORD 'live-pw'" >/dev/null || rc=1
	: >"$out"
	(( rc == 0 )) && { (cd "$REPO" && DBLINK_TEST_PGHOST=$PGHOST DBLINK_TEST_PGPORT=$PGPORT DBLINK_TEST_PGUSER=postgres \
		go test "${race[@]}" -count=1 -timeout 5m -run 'Live$' -v ./...) >>"$out" 2>&1 || rc=1; }
	(( rc == 0 )) && { (cd "$REPO" && DBLINK_TEST_PGHOST=127.0.0.1 DBLINK_TEST_PGPORT=$PGPORT DBLINK_TEST_PGUSER=postgres \
		DBLINK_TEST_PWUSER=dblink_live_pw DBLINK_TEST_PWPASS=live-pw \
		go test "${race[@]}" -count=1 -timeout 5m -run 'Live$' -v ./...) >>"$out" 2>&1 || rc=1; }
	cluster_stop live
	cluster_use main
	grep -E '^(--- |ok|FAIL|\s+\S+_test\.go)' "$out"
	(( rc == 0 )) || return 1
	want=$(cd "$REPO" && go test -list 'Live$' ./... | grep -E '^Test' | sort -u)
	passed=$(sed -n 's/^--- PASS: \(Test[^ ]*\).*/\1/p' "$out" | sort -u)
	if [[ -z $want || $want != "$passed" ]]; then
		echo "live tests that never passed: $(comm -23 <(echo "$want") <(echo "$passed") | xargs)"
		return 1
	fi
}
if [[ $KIND == ours && $GO_TESTS == 1 ]]; then
	step "go test (live, against the cluster)" go_live_tests
fi

# --- pg_regress --------------------------------------------------------------
run_regress() {
	local tests=() line name status
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[[ -n $line ]] && tests+=( "$line" )
	done <"$REPO/test/regress/tests"
	if (( ${#tests[@]} == 0 )); then
		skip "pg_regress" "test/regress/tests lists no test"
		return 0
	fi
	local in=$DBLINK_TMP/regress-in out=$DBLINK_TMP/regress-out
	rm -rf "$in" "$out"
	mkdir -p "$in" "$out"
	cp -a "$REPO/test/regress/." "$in/"
	chown -R "$PG_OS_USER:" "$in" "$out"
	chmod -R a+rX "$in" "$out"
	printf '\n=== pg_regress (%d tests)\n' "${#tests[@]}"
	# No --use-existing: like `make installcheck`, pg_regress drops and
	# re-creates contrib_regression on the running cluster, with its locale
	# and datestyle settings (--use-existing would skip creating it).
	run_child "$PG_REGRESS" --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" \
		--inputdir="$in" --outputdir="$out" --dlpath="$STAGE$PG_SYS_LIB/lib" \
		--dbname=contrib_regression "${tests[@]}" >"$out/pg_regress.log" 2>&1
	local rc=$? seen=0
	cat "$out/pg_regress.log"
	while IFS= read -r line; do
		if [[ $line =~ ^(test[[:space:]]+)?[[:space:]]*([^[:space:]]+)[[:space:]]+\.\.\.[[:space:]]+(ok|FAILED|failed) ]]; then
			name=${BASH_REMATCH[2]} status=${BASH_REMATCH[3]}
			seen=$((seen + 1))
			if [[ $status == ok ]]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); FAILED_NAMES+=( "regress/$name" ); fi
		fi
	done <"$out/pg_regress.log"
	if (( rc != 0 )); then
		if (( seen == 0 )); then fail "pg_regress" "exit $rc, no test ran"; fi
		if [[ -s $out/regression.diffs ]]; then
			printf '\n=== regression.diffs\n'
			cat "$out/regression.diffs"
			printf '=== end of regression.diffs (%s)\n' "$out/regression.diffs"
		fi
	fi
}
off=$(stat -c %s "$LOGFILE")
run_regress
if crash=$(log_has_crash "$LOGFILE" "$off"); then
	echo "$crash"
	fail "server stayed up during pg_regress" "see $LOGFILE"
fi

# --- server-level tests ------------------------------------------------------
shopt -s nullglob
for t in "$REPO"/test/server/*.sh; do
	name=server/$(basename "$t" .sh)
	if ! as_pg "$PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT"; then
		fail "$name" "cluster not accepting connections"
		continue
	fi
	tdir=$DBLINK_TMP/$name
	mkdir -p "$tdir"
	chown "$PG_OS_USER:" "$tdir"
	chmod 755 "$tdir"
	off=$(stat -c %s "$LOGFILE")
	limit=300
	(( LONG )) && limit=1800
	step "$name" env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
		PGDATA="$PGDATA" STAGE="$STAGE" PGBIN="$PGBIN" LOGFILE="$LOGFILE" \
		TMPDIR="$tdir" DBLINK_LONG="$LONG" DBLINK_STAGE_KIND="$KIND" \
		DBLINK_REPO="$REPO" \
		timeout -k 10 "$limit" bash "$t"
	if crash=$(log_has_crash "$LOGFILE" "$off"); then
		echo "$crash"
		fail "$name: no backend crash" "see $LOGFILE"
	fi
done

# --- shutdown ----------------------------------------------------------------
check_postmaster() {
	local pid
	pid=$(postmaster_pid "$PGDATA")
	if [[ $pid != "$MAIN_PID" ]]; then
		echo "postmaster pid changed: $MAIN_PID -> ${pid:-none}"
		return 1
	fi
	cluster_stop main
	if crash=$(log_has_crash "$LOGFILE"); then
		echo "$crash"
		return 1
	fi
}
step "cluster stop, log clean" check_postmaster
system_untouched() {
	[[ $(system_fingerprint) == "$SYSTEM_BEFORE" ]] && return 0
	echo "the system PostgreSQL installation changed during the run:"
	diff <(echo "$SYSTEM_BEFORE") <(system_fingerprint)
	return 1
}
step "system installation untouched" system_untouched

# --- other PostgreSQL majors ---------------------------------------------------
# The same tree built and tested against 17 and 18 (own clusters on ports
# 55400-55499 inside Debian root file systems); one counted step per major.
if [[ $KIND == ours && $MATRIX == 1 ]]; then
	for major in 17 18; do
		step "matrix/$major (PostgreSQL $major: build, pg_regress, upstream test)" bash "$REPO/test/matrix.sh" "$major"
	done
fi
finish
