# test/lib.sh — helpers sourced by test/run.sh, test/make-expected.sh,
# scripts/demo.sh and the server-level tests.
#
# Everything lives under one private temp dir ($DBLINK_TMP).  Nothing here
# ever writes below /usr: PostgreSQL is copied into a stage dir
# (stage_install) and clusters run from that copy as the unprivileged
# `postgres` OS user, on ports 54300-54319, listening on 127.0.0.1 only.
#
#   tmp_init                      create $DBLINK_TMP and install the cleanup trap
#   stage_install DIR ours|contrib
#   cluster_start NAME STAGE PORT|auto
#   cluster_use NAME              make NAME the cluster psql_as talks to
#   cluster_stop NAME
#   psql_as ROLE DB [psql args]   stage psql, ON_ERROR_STOP, no psqlrc
#   log_has_crash LOGFILE [OFFSET]
#
# After cluster_start/cluster_use these are exported for the current cluster:
#   PGHOST (socket dir)  PGPORT  PGUSER=postgres  PGDATA  LOGFILE  STAGE  PGBIN

# --- constants ---------------------------------------------------------------
# The PostgreSQL major and the port range; test/matrix-inside.sh sets them
# for another major inside its root file system.
PG_MAJOR=${DBLINK_PG_MAJOR:-15}
PG_SYS_LIB=/usr/lib/postgresql/$PG_MAJOR
PG_SYS_SHARE=/usr/share/postgresql/$PG_MAJOR
PG_CONFIG=$PG_SYS_LIB/bin/pg_config
PG_REGRESS=$PG_SYS_LIB/lib/pgxs/src/test/regress/pg_regress
PORT_MIN=${DBLINK_PORT_MIN:-54300}
PORT_MAX=${DBLINK_PORT_MAX:-54319}
PG_OS_USER=postgres

export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local
export HOME=${HOME:-/root}
export DEBIAN_FRONTEND=noninteractive

DBLINK_REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# Per-cluster state, keyed by cluster name.
declare -gA CL_PORT=() CL_SOCK=() CL_DATA=() CL_LOG=() CL_STAGE=()
declare -ga CL_RUNNING=()
# Background children to end on cleanup (see run_child).
declare -ga LIB_CHILDREN=()

lib_say() { printf '%s\n' "$*" >&2; }
lib_die() { printf 'ERROR: %s\n' "$*" >&2; return 1; }

# --- temp dir and cleanup ----------------------------------------------------

# tmp_init: make $DBLINK_TMP (mode 755, so `postgres` can traverse it) and
# arrange that every cluster started is stopped on exit, error or interrupt.
# DBLINK_KEEP_TMP=1 keeps the dir (its path is printed).
tmp_init() {
	if [[ -z ${DBLINK_TMP:-} ]]; then
		DBLINK_TMP=$(mktemp -d /tmp/dblink-test.XXXXXX) || return 1
		export DBLINK_TMP
	fi
	chmod 755 "$DBLINK_TMP"
	trap 'lib_cleanup' EXIT
	trap 'lib_cleanup; trap - INT; kill -INT $$' INT
	trap 'lib_cleanup; trap - TERM; kill -TERM $$' TERM
	trap 'lib_cleanup; trap - HUP; kill -HUP $$' HUP
}

lib_cleanup() {
	local rc=$? name pid
	for pid in "${LIB_CHILDREN[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	LIB_CHILDREN=()
	for name in "${CL_RUNNING[@]}"; do
		cluster_stop "$name" || true
	done
	CL_RUNNING=()
	if [[ -n ${DBLINK_TMP:-} && -d $DBLINK_TMP ]]; then
		if [[ ${DBLINK_KEEP_TMP:-0} == 1 ]]; then
			lib_say "kept test state in $DBLINK_TMP"
		else
			rm -rf -- "$DBLINK_TMP"
		fi
	fi
	return $rc
}

# run_child CMD...: run CMD in the background and wait for it, so that an
# INT/TERM reaches our trap at once (bash runs traps only between foreground
# commands) and the trap can end CMD.  Returns CMD's exit status.
run_child() {
	local pid rc
	"$@" &
	pid=$!
	LIB_CHILDREN+=( "$pid" )
	wait "$pid"
	rc=$?
	local keep=() p
	for p in "${LIB_CHILDREN[@]}"; do [[ $p == "$pid" ]] || keep+=( "$p" ); done
	LIB_CHILDREN=( "${keep[@]}" )
	return $rc
}

# as_pg CMD...: run CMD as the unprivileged postgres OS user, from a dir it
# can read (the repo may live where postgres cannot go).
as_pg() {
	(cd "${DBLINK_TMP:-/tmp}" && runuser -u "$PG_OS_USER" -- "$@")
}

# --- staging -----------------------------------------------------------------

# stage_install DIR ours|contrib
# Copies the system PostgreSQL tree (a real copy of the postgres binary, so it
# finds share/ and lib/ relative to itself) into DIR, then for `ours`
# installs this project over it with make install DESTDIR=DIR.  `contrib`
# leaves the stock contrib dblink: the oracle.
stage_install() {
	local dir=$1 kind=$2
	[[ $dir == /* && $dir != / ]] || { lib_die "stage_install: DIR must be absolute and not /: '$dir'"; return 1; }
	case $kind in ours|contrib) ;; *) lib_die "stage_install: kind must be ours or contrib"; return 1 ;; esac
	[[ -x $PG_SYS_LIB/bin/postgres ]] || { lib_die "no PostgreSQL $PG_MAJOR at $PG_SYS_LIB (run scripts/setup.sh)"; return 1; }
	mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" || return 1
	rm -rf -- "$dir/usr/lib/postgresql/$PG_MAJOR" "$dir/usr/share/postgresql/$PG_MAJOR"
	cp -a "$PG_SYS_LIB" "$dir/usr/lib/postgresql/" || return 1
	cp -a "$PG_SYS_SHARE" "$dir/usr/share/postgresql/" || return 1
	if [[ $kind == ours ]]; then
		make -s -C "$DBLINK_REPO" install DESTDIR="$dir" PG_CONFIG="$PG_CONFIG" || return 1
		[[ -f $dir$PG_SYS_LIB/lib/dblink.so ]] || { lib_die "make install did not install dblink.so"; return 1; }
	fi
	echo "$kind" > "$dir/.stage-kind"
	chmod 755 "$dir"
	lib_say "staged $kind PostgreSQL in $dir"
}

# stage_kind STAGE: which dblink a stage holds, ours or contrib (the
# oracle); DBLINK_STAGE_KIND, when set, says so instead.
stage_kind() {
	echo "${DBLINK_STAGE_KIND:-$(cat "$1/.stage-kind" 2>/dev/null || echo ours)}"
}

# stage_bin STAGE: the bin dir of a stage.
stage_bin() { printf '%s\n' "$1$PG_SYS_LIB/bin"; }

# --- clusters ----------------------------------------------------------------

# port_busy PORT: true when something listens on 127.0.0.1:PORT.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# cluster_start NAME STAGE PORT|auto
# initdb (trust on the socket, scram-sha-256 on TCP, superuser postgres),
# socket dir under $DBLINK_TMP, listen on 127.0.0.1, log to a file, and
# PGHOST/PGPORT in the postmaster's environment so that a dblink connection
# string `dbname=postgres` reaches the cluster itself.  With PORT=auto a free
# port in 54300-54319 is picked (and the next one tried if bind races).
cluster_start() {
	local name=$1 stage=$2 want=${3:-auto}
	[[ -n ${DBLINK_TMP:-} ]] || tmp_init || return 1
	local base=$DBLINK_TMP/$name bin
	bin=$(stage_bin "$stage")
	[[ -x $bin/postgres ]] || { lib_die "cluster_start: no postgres in stage $stage"; return 1; }
	rm -rf -- "$base"
	mkdir -p "$base/sock" || return 1
	chown -R "$PG_OS_USER:" "$base"
	chmod 755 "$base"
	chmod 700 "$base/sock"
	if ! as_pg "$bin/initdb" -D "$base/data" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync \
		>"$base/initdb.log" 2>&1; then
		cat "$base/initdb.log" >&2
		lib_die "initdb failed for cluster $name"
		return 1
	fi

	local ports=() p i start
	if [[ $want == auto ]]; then
		start=$(( PORT_MIN + ($$ + RANDOM) % (PORT_MAX - PORT_MIN + 1) ))
		for ((i = 0; i <= PORT_MAX - PORT_MIN; i++)); do
			ports+=( $(( PORT_MIN + (start - PORT_MIN + i) % (PORT_MAX - PORT_MIN + 1) )) )
		done
	else
		(( want >= PORT_MIN && want <= PORT_MAX )) || { lib_die "port $want outside $PORT_MIN-$PORT_MAX"; return 1; }
		ports=( "$want" )
	fi

	local log=$base/postmaster.log started=
	for p in "${ports[@]}"; do
		port_busy "$p" && continue
		cat >>"$base/data/postgresql.conf" <<-EOF

		# --- dblink test harness ---
		port = $p
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$base/sock'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 60
		shared_buffers = 32MB
		lc_messages = 'C'
		log_line_prefix = '%m [%p] '
		log_min_messages = warning
		EOF
		: >"$log"
		chown "$PG_OS_USER:" "$log"
		if as_pg env -u PGDATABASE -u PGUSER -u PGOPTIONS -u PGSERVICE -u PGPASSFILE \
			PGHOST="$base/sock" PGPORT="$p" \
			"$bin/pg_ctl" -D "$base/data" -l "$log" -w -t 60 start >"$base/pg_ctl.log" 2>&1; then
			started=$p
			break
		fi
		if grep -q -e 'could not bind' -e 'Address already in use' -e 'could not create any TCP/IP sockets' "$log"; then
			lib_say "port $p was taken, trying another"
			as_pg "$bin/pg_ctl" -D "$base/data" -m immediate stop >/dev/null 2>&1 || true
			continue
		fi
		cat "$base/pg_ctl.log" "$log" >&2
		lib_die "could not start cluster $name"
		return 1
	done
	[[ -n $started ]] || { lib_die "no free port in $PORT_MIN-$PORT_MAX for cluster $name"; return 1; }

	CL_PORT[$name]=$started
	CL_SOCK[$name]=$base/sock
	CL_DATA[$name]=$base/data
	CL_LOG[$name]=$log
	CL_STAGE[$name]=$stage
	CL_RUNNING+=( "$name" )
	cluster_use "$name"
	lib_say "started cluster $name (port $started, socket $base/sock, log $log)"
}

# cluster_use NAME: export the connection environment of cluster NAME.
cluster_use() {
	local name=$1
	[[ -n ${CL_PORT[$name]:-} ]] || { lib_die "no cluster named $name"; return 1; }
	export PGHOST=${CL_SOCK[$name]} PGPORT=${CL_PORT[$name]} PGUSER=postgres
	export PGDATA=${CL_DATA[$name]} LOGFILE=${CL_LOG[$name]} STAGE=${CL_STAGE[$name]}
	export PGBIN
	PGBIN=$(stage_bin "$STAGE")
	unset PGDATABASE PGOPTIONS PGSERVICE PGPASSWORD
}

# cluster_stop NAME: fast shutdown, immediate if that hangs.
cluster_stop() {
	local name=$1 bin
	[[ -n ${CL_DATA[$name]:-} ]] || return 0
	bin=$(stage_bin "${CL_STAGE[$name]}")
	if [[ -f ${CL_DATA[$name]}/postmaster.pid ]]; then
		as_pg "$bin/pg_ctl" -D "${CL_DATA[$name]}" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_pg "$bin/pg_ctl" -D "${CL_DATA[$name]}" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			lib_say "WARNING: could not stop cluster $name"
	fi
	local keep=() n
	for n in "${CL_RUNNING[@]}"; do [[ $n == "$name" ]] || keep+=( "$n" ); done
	CL_RUNNING=( "${keep[@]}" )
	lib_say "stopped cluster $name"
}

# psql_as ROLE DB [psql args...]: psql from the stage against the current
# cluster; no psqlrc, stops at the first error.
psql_as() {
	local role=$1 db=$2
	shift 2
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$role" -d "$db" "$@"
}

# postmaster_pid DATADIR: the first line of postmaster.pid.
postmaster_pid() {
	head -n 1 "$1/postmaster.pid" 2>/dev/null
}

# log_has_crash LOGFILE [OFFSET]: true (and prints the lines) when the server
# log, from byte OFFSET on, shows a backend killed by a signal, one that
# exited with a status other than 0 or 1 (a Go `fatal error` exits with 2;
# 1 is a normal exit, e.g. the logical replication launcher's at shutdown),
# or a crash-restart of the postmaster.  The one list of crash lines.
log_has_crash() {
	local log=$1 off=${2:-0}
	tail -c +$((off + 1)) "$log" | grep -E \
		-e 'terminated by signal' \
		-e 'exited with exit code ([2-9]|[1-9][0-9])' \
		-e 'server process .* was terminated' \
		-e 'terminating any other active server processes' \
		-e 'reinitializing' \
		-e 'PANIC:'
}
