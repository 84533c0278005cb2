#!/usr/bin/env bash
# test/server/35-service-file.sh — connection service files, as libpq 15
# reads them (PGSERVICEFILE in the server's environment):
#   - a service's keywords are used;
#   - a service that is only an LDAP lookup nobody answers: an LDAP-enabled
#     libpq (Debian's) gives up on it and connects with the rest of the
#     string, one without LDAP calls it a syntax error (PostgreSQL's own
#     dblink test accepts either);
#   - a nested `service=` and an unknown keyword are errors naming the file
#     and line;
#   - keywords before the first section are ignored.
# Expected: what contrib does.
#
# Run by test/run.sh (env PGHOST, PGPORT, STAGE, PGBIN, TMPDIR, DBLINK_REPO).
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${TMPDIR:?}" "${DBLINK_REPO:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"

export DBLINK_TMP=$TMPDIR/clusters
mkdir -p "$DBLINK_TMP"
# shellcheck source=../lib.sh
source "$DBLINK_REPO/test/lib.sh"
tmp_init

svc=$TMPDIR/services.conf
cat >"$svc" <<'EOF'
dbname=nosuchdb
[good]
dbname=postgres
application_name=from_service
[unreachable_ldap]
ldap://127.0.0.1:9/base?attribute?one?filter
[nested]
service=good
[badkey]
nosuchkeyword=1
EOF
chmod a+r "$svc"

if ! cluster_start svc "$STAGE" >/dev/null 2>&1; then
	notok "could not start a cluster"
	exit 1
fi
# Restart it with the service file in the postmaster's environment.
as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PGSERVICEFILE="$svc" \
	"$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOGFILE" -w -t 60 restart >/dev/null 2>&1
log_off=$(stat -c %s "$LOGFILE")   # the restart's own shutdown lines are not a crash
q() { "$PGBIN/psql" -X -q -At -d postgres -c "$1" 2>&1; }
q "CREATE EXTENSION dblink" >/dev/null

got=$(q "SELECT * FROM dblink('service=good', 'SELECT current_database() || '' '' || current_setting(''application_name'')') AS t(x text)")
check "service=good: its keywords are used (got: $got)" [ "$got" = "postgres from_service" ]

got=$(q "SELECT * FROM dblink('service=unreachable_ldap dbname=postgres', 'SELECT 42') AS t(x int)")
if [[ $got == 42 || $got == *"DETAIL:  syntax error in service file \"$svc\", line 6"* ]]; then
	ok "an LDAP-only service: skipped, or a syntax error (got: ${got//$'\n'/ })"
else
	notok "an LDAP-only service: want 42 or a syntax error at line 6, got: ${got//$'\n'/ }"
fi

got=$(q "SELECT * FROM dblink('service=nested', 'SELECT 1') AS t(x int)")
want="DETAIL:  nested service specifications not supported in service file \"$svc\", line 8"
check "a nested service is refused (got: ${got//$'\n'/ })" grep -qF "$want" <<<"$got"

got=$(q "SELECT * FROM dblink('service=badkey', 'SELECT 1') AS t(x int)")
want="DETAIL:  syntax error in service file \"$svc\", line 10"
check "an unknown keyword is a syntax error (got: ${got//$'\n'/ })" grep -qF "$want" <<<"$got"

got=$(q "SELECT * FROM dblink('service=nosuch', 'SELECT 1') AS t(x int)")
check "an unknown service (got: ${got//$'\n'/ })" grep -qF 'DETAIL:  definition of service "nosuch" not found' <<<"$got"

check_no_crash "no crash line in the log" "$LOGFILE" "$log_off"
cluster_stop svc >/dev/null 2>&1

printf '# %d check(s) failed\n' "$FAILS"
(( FAILS == 0 ))
