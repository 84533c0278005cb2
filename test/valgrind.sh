#!/usr/bin/env bash
# test/valgrind.sh — the pg_regress suite with every backend under valgrind
# memcheck.  NOT part of test/run.sh (slow: minutes, not seconds); run it by
# hand after changes to csrc/ or to the C/Go boundary.
#
#   bash test/valgrind.sh [TEST...]     default: every test in test/regress/tests
#
# What it does: make; stage ours into a copy of PostgreSQL (test/lib.sh);
# rebuild the staged dblink_go.so with `-tags valgrind` (Go >= 1.25: the
# runtime then describes its heap and stacks to memcheck) and RDTSCP off (see
# below), same flags as the Makefile otherwise; initdb and start a cluster
# with the real postgres, stop it, replace the staged `postgres` with a
# wrapper that execs
#   valgrind --trace-children=yes --track-origins=no --leak-check=no -s
#            --num-callers=40 --error-limit=no
#            --suppressions=$DBLINK_TMP/valgrind/dblink.supp
#            --log-file=$DBLINK_TMP/valgrind/vg.%p.log postgres.real "$@"
# (PostgreSQL's recipe: the postmaster runs under memcheck and every backend
# is a fork of it, so each process writes vg.<pid>.log; not --quiet, so each
# log ends with its error summary and used suppressions), start it again,
# run pg_regress over the tests, stop it and sort every memcheck error by
# where it happened:
#   ours      a frame in dblink.so (csrc/*.c): printed in full, with file:line
#   boundary  in our exported Go functions (main.dg_*, _cgoexp_*), i.e. Go
#             reading or writing memory the shim passed: printed in full
#             (memcheck does not unwind from a cgo callback into the C
#             frames below it)
#   go        elsewhere in dblink_go.so (Go runtime, our Go code): counted,
#             first one printed
#   postgres  the rest (PostgreSQL itself, libc): counted, first one printed
# The exit code is 1 when there is any error of the first two kinds.
#
# Suppressed before that (dblink.supp, written below, our own): the
# uninitialised padding PostgreSQL writes to WAL, the relcache init file and
# the stats collector; undefined values in the Go runtime's own machinery
# (fun:runtime.* at the top: GC, scheduler; none seen with -tags valgrind,
# kept as a safety net); and Go's vectorised string scan (indexbytebody, under
# C.GoString), which reads aligned words past the NUL as glibc's strlen does.
# The counts of every suppression used are printed.
#
# --error-exitcode (the recipe's way to turn an error into a backend crash)
# is off by default: Debian's postgres is stripped of its static functions'
# names, so its own benign reports (padding written to files) cannot all be
# suppressed by name, and each one would crash-restart the cluster in the
# middle of the suite.  VALGRIND_ERROR_EXITCODE=128 turns it on.
#
# Limits: Debian's postgres is not built with USE_VALGRIND, so memcheck sees
# palloc memory only as malloc'd blocks: palloc chunk overruns and
# use-after-pfree inside a context are invisible; malloc/free (all memory the
# Go core hands to C), uninitialised reads and syscall params are checked.
# Timing-sensitive expected output may differ under valgrind: pg_regress
# failures are shown but do not fail this script.
#
# State stays in $DBLINK_TMP (printed) when something was found.  Ports and
# clusters as in test/lib.sh; nothing under /usr is changed.
# VALGRIND_TIMEOUT (seconds, default 1500) bounds the pg_regress run.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DBLINK_REPO=$REPO
# shellcheck source=lib.sh
source "$REPO/test/lib.sh"

case ${1:-} in -h|--help) sed -n '2,56p' "$0"; exit 0 ;; esac
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

TESTS=( "$@" )
if (( ${#TESTS[@]} == 0 )); then
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[[ -n $line ]] && TESTS+=( "$line" )
	done <"$REPO/test/regress/tests"
fi

tmp_init || { echo "cannot create a temp dir" >&2; exit 1; }
T0=$SECONDS
VG=$DBLINK_TMP/valgrind
mkdir -p "$VG"
echo "valgrind state in $DBLINK_TMP; tests: ${TESTS[*]}"

# --- build and stage ---------------------------------------------------------
make -s -C "$REPO" PG_CONFIG="$PG_CONFIG" || exit 1
STAGE_DIR=$DBLINK_TMP/stage
stage_install "$STAGE_DIR" ours || exit 1
GOLIB=$STAGE_DIR$PG_SYS_LIB/lib/dblink_go.so
# RDTSCP: on a CPU without it (this VM, for one) valgrind's synthetic CPUID
# still offers it, then cannot decode it: the Go runtime's cputicks() dies of
# SIGILL in a backend.  GODEBUG=cpu.rdtscp=off in the server's environment
# did not reach the runtime in a backend (tried, also with
# update_process_title = off; it did reach it in a plain C program that
# dlopens dblink_go.so; docs/DESIGN.md saw the same for GODEBUG in a
# backend), so this build sees HasRDTSCP = false through a -overlay copy of
# internal/cpu/cpu_x86.go.  The runtime is rebuilt once: ~1 min.
CPUSRC=$(cd "$REPO" && go env GOROOT)/src/internal/cpu/cpu_x86.go
OVERLAY=()
if grep -q 'X86.HasRDTSCP = isSet(edxExt1, cpuid_RDTSCP)$' "$CPUSRC"; then
	sed 's/X86.HasRDTSCP = isSet(edxExt1, cpuid_RDTSCP)$/& \&\& false \/\/ test\/valgrind.sh: no RDTSCP/' \
		"$CPUSRC" >"$VG/cpu_x86.go"
	printf '{"Replace":{"%s":"%s"}}\n' "$CPUSRC" "$VG/cpu_x86.go" >"$VG/overlay.json"
	OVERLAY=( -overlay "$VG/overlay.json" )
else
	echo "WARNING: $CPUSRC changed; building without the RDTSCP overlay" >&2
fi
(cd "$REPO" && CGO_ENABLED=1 go build "${OVERLAY[@]}" -tags valgrind -buildmode=c-shared -trimpath \
	-ldflags=-X=runtime.godebugDefault=asyncpreemptoff=1 \
	-o "$GOLIB" ./cmd/dblink_go) || exit 1
rm -f "${GOLIB%.so}.h"

# --- suppressions ------------------------------------------------------------
cat >"$VG/dblink.supp" <<'EOF'
# PostgreSQL writes and sends raw structs whose padding is never set.
# (Memcheck compares a Param name exactly: one entry per syscall.)
{
	pg_stats_padding_send
	Memcheck:Param
	socketcall.send(msg)
	...
	fun:pgstat_*
}
{
	pg_stats_padding_sendto
	Memcheck:Param
	socketcall.sendto(msg)
	...
	fun:pgstat_*
}
{
	pg_stats_padding_write
	Memcheck:Param
	write(buf)
	...
	fun:pgstat_*
}
{
	pg_wal_padding_crc
	Memcheck:Value8
	fun:pg_comp_crc32c*
}
{
	pg_wal_padding_crc_cond
	Memcheck:Cond
	fun:pg_comp_crc32c*
}
{
	pg_wal_padding_pwrite
	Memcheck:Param
	pwrite64(buf)
	...
	fun:XLog*
}
{
	pg_wal_padding_write
	Memcheck:Param
	write(buf)
	...
	fun:XLog*
}
{
	pg_control_padding_write
	Memcheck:Param
	write(buf)
	...
	fun:*ControlFile*
}
{
	pg_relcache_init_padding
	Memcheck:Param
	write(buf)
	...
	fun:RelationCacheInitializePhase*
}
{
	pg_relmap_padding
	Memcheck:Param
	write(buf)
	...
	fun:write_relmap_file
}
{
	pg_atomic_u64_init
	Memcheck:Cond
	fun:pg_atomic_*u64*
}
# The Go runtime's own machinery (see the header of test/valgrind.sh):
# undefined values only.  No Addr* entries for runtime.*: an invalid read in
# runtime.memmove is how C.GoBytes of a freed C buffer would show.
{
	go_runtime_cond
	Memcheck:Cond
	fun:runtime.*
}
{
	go_runtime_value8
	Memcheck:Value8
	fun:runtime.*
}
# Go's vectorised string scans (C.GoString -> runtime.findnull) read whole
# aligned 16/32-byte words past the terminating NUL, as glibc's strlen does.
{
	go_indexbyte_overread32
	Memcheck:Addr32
	fun:indexbytebody
}
{
	go_indexbyte_overread16
	Memcheck:Addr16
	fun:indexbytebody
}
{
	go_indexbyte_cond
	Memcheck:Cond
	fun:indexbytebody
}
EOF

# --- cluster -----------------------------------------------------------------
# initdb and a first start with the real postgres (bootstrap under valgrind
# would take minutes), then swap in the wrapper and start again.
cluster_start main "$STAGE_DIR" auto || exit 1
BIN=$PGBIN
as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null || exit 1
cat >>"$PGDATA/postgresql.conf" <<EOF

# --- test/valgrind.sh ---
autovacuum = off
max_connections = 20
EOF
chown "$PG_OS_USER:" "$PGDATA/postgresql.conf"
mv "$BIN/postgres" "$BIN/postgres.real"
EXITCODE=
[[ ${VALGRIND_ERROR_EXITCODE:-0} != 0 ]] && EXITCODE=--error-exitcode=$VALGRIND_ERROR_EXITCODE
cat >"$BIN/postgres" <<EOF
#!/bin/sh
exec valgrind --trace-children=yes --track-origins=no --leak-check=no \\
	$EXITCODE --num-callers=40 --error-limit=no -s \\
	--suppressions=$VG/dblink.supp \\
	--log-file=$VG/vg.%p.log \\
	"$BIN/postgres.real" "\$@"
EOF
chmod 755 "$BIN/postgres"
chown "$PG_OS_USER:" "$VG"
: >"$LOGFILE.vg"
chown "$PG_OS_USER:" "$LOGFILE.vg"
if ! as_pg env -u PGDATABASE -u PGUSER -u PGOPTIONS -u PGSERVICE -u PGPASSFILE \
	PGHOST="$PGHOST" PGPORT="$PGPORT" \
	"$BIN/pg_ctl" -D "$PGDATA" -l "$LOGFILE.vg" -w -t 600 start >"$VG/pg_ctl.log" 2>&1; then
	cat "$VG/pg_ctl.log" "$LOGFILE.vg" >&2
	echo "valgrind.sh: the cluster did not start under valgrind" >&2
	DBLINK_KEEP_TMP=1
	exit 1
fi
LOGFILE=$LOGFILE.vg
CL_LOG[main]=$LOGFILE
echo "cluster under valgrind up after $((SECONDS - T0))s (port $PGPORT, log $LOGFILE)"

# --- pg_regress --------------------------------------------------------------
in=$DBLINK_TMP/regress-in out=$DBLINK_TMP/regress-out
mkdir -p "$in" "$out"
cp -a "$REPO/test/regress/." "$in/"
chown -R "$PG_OS_USER:" "$in" "$out"
chmod -R a+rX "$in" "$out"
t=$SECONDS
run_child timeout -k 10 "${VALGRIND_TIMEOUT:-1500}" "$PG_REGRESS" --bindir="$PGBIN" \
	--host="$PGHOST" --port="$PGPORT" --inputdir="$in" --outputdir="$out" \
	--dlpath="$STAGE$PG_SYS_LIB/lib" --dbname=contrib_regression "${TESTS[@]}" \
	>"$out/pg_regress.log" 2>&1
rc=$?
cat "$out/pg_regress.log"
(( rc == 124 )) && echo "pg_regress timed out after ${VALGRIND_TIMEOUT:-1500}s"
echo "pg_regress under valgrind: $((SECONDS - t))s, exit $rc"
if crash=$(log_has_crash "$LOGFILE"); then
	echo "server log shows crashes (with VALGRIND_ERROR_EXITCODE a memcheck error ends the process):"
	echo "$crash"
fi
cluster_stop main

# --- report ------------------------------------------------------------------
# Split every log into error blocks (valgrind separates them with an empty
# "==PID== " line) and sort each by the objects in its stack.
report() {
	awk -v usedf="$VG/used-suppressions.txt" -v ours="$VG/ours.txt" -v edge="$VG/boundary.txt" -v go="$VG/go.txt" -v pg="$VG/postgres.txt" '
	function flush() {
		if (blk == "") return
		# not an error: the preamble and summaries of a non-quiet log
		if (blk ~ /ERROR SUMMARY:/) {
			# (with -s it is printed twice: keep one per process)
			if (match(blk, /suppressed: [0-9]+ from [0-9]+/)) {
				split(substr(blk, RSTART, RLENGTH), a, " ")
				supp[file] = a[2]; suppctx[file] = a[4]
			}
			blk = ""; return
		}
		if (blk ~ /^\[[^]]*\] ([0-9]+ errors? in context [0-9]+ of|Warning: set address range perms|Memcheck, a memory error detector|HEAP SUMMARY:|For lists of detected|For a detailed leak|Use --track-origins|For counts of detected|All heap blocks|LEAK SUMMARY:|Rerun with)/) { blk = ""; return }
		if (blk ~ /dblink\.so|\((async|builders|connection|cursor|debug|foreign|gocore|query|report|wait)\.c:/) { print blk "\n" > ours; n_ours++ }
		else if (blk ~ /_cgoexp_|main\.dg_/) { print blk "\n" > edge; n_edge++ }
		else if (blk ~ /dblink_go\.so|\.go:[0-9]|_amd64\.s:|gcc_amd64\.S:|<autogenerated>/) { print blk "\n" > go; n_go++ }
		else { print blk "\n" > pg; n_pg++ }
		blk = ""
	}
	FNR == 1 { flush(); file = FILENAME; sub(/.*\//, "", file) }
	/^--[0-9]+-- used_suppression:/ { used[$4] += $3; next }
	/^==[0-9]+== *$/ { flush(); next }
	/^==[0-9]+== / { line = $0; sub(/^==[0-9]+== /, "", line)
		blk = blk (blk == "" ? "[" file "] " : "\n") line; next }
	END {
		flush()
		for (k in used) printf "%8d  %s\n", used[k], k > usedf
		for (k in supp) { ns += supp[k]; nc += suppctx[k] }
		printf "%d %d %d %d %d %d\n", n_ours + 0, n_edge + 0, n_go + 0, n_pg + 0, ns + 0, nc + 0
	}
	' "$VG"/vg.*.log
}
: >"$VG/used-suppressions.txt"; : >"$VG/ours.txt"; : >"$VG/boundary.txt"; : >"$VG/go.txt"; : >"$VG/postgres.txt"
shopt -s nullglob
logs=( "$VG"/vg.*.log )
read -r n_ours n_edge n_go n_pg n_supp n_suppctx < <(report)
printf '\n=== valgrind (%d process logs, %ss in all)\n' "${#logs[@]}" "$((SECONDS - T0))"
printf 'errors in our C (dblink.so): %d\nerrors in our exported Go functions (reading what C passed): %d\nerrors elsewhere in dblink_go.so: %d\nerrors elsewhere (PostgreSQL, libc): %d\n' \
	"$n_ours" "$n_edge" "$n_go" "$n_pg"
printf 'suppressed (dblink.supp: PostgreSQL padding, Go runtime): %d errors from %d contexts, summed over processes\n' \
	"$n_supp" "$n_suppctx"
sort -rn "$VG/used-suppressions.txt"
if (( n_edge )); then
	printf '\n--- errors in exported Go functions (%s)\n' "$VG/boundary.txt"
	cat "$VG/boundary.txt"
fi
if (( n_go )); then
	printf '\n--- first error in dblink_go.so (all in %s)\n' "$VG/go.txt"
	awk 'BEGIN { RS = "" } NR == 1 { print; exit }' "$VG/go.txt"
fi
if (( n_pg )); then
	printf '\n--- first error elsewhere (all in %s)\n' "$VG/postgres.txt"
	awk 'BEGIN { RS = "" } NR == 1 { print; exit }' "$VG/postgres.txt"
fi
if (( n_ours )); then
	printf '\n--- errors in our C\n'
	cat "$VG/ours.txt"
fi
if (( n_ours + n_edge )); then
	DBLINK_KEEP_TMP=1
	exit 1
fi
(( n_edge + n_go + n_pg )) && DBLINK_KEEP_TMP=1
exit 0
