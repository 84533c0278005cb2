#!/usr/bin/env bash
# test/server/30-password.sh — the non-superuser password rules against real
# authentication methods, and no password ever reaching the server log.
# See docs/DESIGN.md, "Foreign servers and the password rule".
#
# pg_hba.conf gets one 127.0.0.1 line per test role (trust, md5, password,
# scram-sha-256) in front of the cluster's own lines; it is restored (and the
# configuration reloaded) on exit.  Every dblink call runs as a non-superuser
# (SET ROLE regress_pw_caller) through foreign servers whose user mappings
# hold the passwords, so no password is ever part of a statement the test
# sends to be logged: the sessions that set passwords run with
# log_statement=none and log_min_error_statement=panic, every other session
# (local and remote) with log_statement=all and verbose debug logging, and
# log_connections is on.  Any occurrence of a password in the server log is
# then a leak.
#
#   (a) trust: 2F003 "does not request a password" (+ HINT) although the
#       mapping has a password; nothing registered; the remote backend is gone
#   (b) md5 (the role's password stored as md5): connects
#   (c) password (cleartext): connects
#   (d) scram-sha-256: connects, also with quotes/spaces/backslashes
#   (e) a wrong password: 08001 "password authentication failed"
#   (f) a passfile of the server's OS user that holds the right password:
#       2F003 "must provide a password" for a non-superuser, in the string or
#       as a server option; a wrong password in the string is not rescued by
#       it; a superuser does connect with it (so the file is good)
#   (g) no password appears in the server log or in any client message
#   (h) a superuser's malformed connection strings: the password is not
#       echoed in the error (our build; stock contrib echoes it in some libpq
#       URI errors, shown as a note only)
#   (i) strings where libpq reads the password as another value (a value
#       that swallowed "password=...", a URI password with "/", a quoted
#       URI with ?password=), as superuser and non-superuser, in
#       dblink_connect and dblink(): neither the error nor the server log
#       shows the password (our build; contrib's echoes are notes only)
#
# Run by test/run.sh with PGHOST, PGPORT, STAGE, LOGFILE, TMPDIR (and PGBIN,
# PGDATA, DBLINK_STAGE_KIND) in the environment.  Exits non-zero when a check
# fails.
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${LOGFILE:?}" "${TMPDIR:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
export PGUSER=postgres
unset PGDATABASE PGOPTIONS PGPASSWORD PGPASSFILE PGSERVICE
DB=dblink_password
PG_OS_USER=postgres

# Every client message of the test, to be searched for passwords at the end.
CLIENT_LOG=$TMPDIR/client.log
: >"$CLIENT_LOG"

# q SQL: one statement in a fresh superuser psql on the socket, values only.
q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${QDB:-$DB}" -c "$1" 2>>"$CLIENT_LOG"; }

# quiet_sql [psql -v args...] <<SQL: a superuser session whose statements are
# never logged, even when they fail; SQL on stdin, so :'var' works.
quiet_sql() {
	PGOPTIONS='-c log_statement=none -c log_min_error_statement=panic -c log_min_messages=panic -c client_min_messages=warning' \
		"$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${QDB:-$DB}" "$@" -f - 2>>"$CLIENT_LOG"
}

# as_caller SQL...: run the statements as the non-superuser caller, in one
# session (logged with log_statement=all and debug messages); OUT gets
# stdout and stderr (VERBOSITY=verbose: "ERROR:  SQLSTATE: message").
as_caller() {
	local args=() s
	for s in "$@"; do args+=( -c "$s" ); done
	OUT=$(PGOPTIONS='-c log_statement=all -c log_min_messages=debug5 -c log_min_error_statement=debug5' \
		"$PSQL" -X -q -At -v VERBOSITY=verbose -d "$DB" \
		-c "SET ROLE regress_pw_caller" "${args[@]}" 2>&1)
	printf '%s\n' "$OUT" >>"$CLIENT_LOG"
}
# as_super SQL...: the same as the superuser.
as_super() {
	local args=() s
	for s in "$@"; do args+=( -c "$s" ); done
	OUT=$(PGOPTIONS='-c log_statement=all -c log_min_messages=debug5 -c log_min_error_statement=debug5' \
		"$PSQL" -X -q -At -v VERBOSITY=verbose -d "$DB" "${args[@]}" 2>&1)
	printf '%s\n' "$OUT" >>"$CLIENT_LOG"
}
has() { grep -qF -- "$1" <<<"$OUT"; }
first() { printf '%s' "${OUT%%$'\n'*}"; }

# tcp_login ROLE: psql over 127.0.0.1 as ROLE with no password at all.
tcp_login() {
	"$PSQL" -X -q -At -w -h 127.0.0.1 -p "$PGPORT" -U "$1" -d "$DB" -c 'SELECT 1' >/dev/null 2>&1
}

# --- secrets -----------------------------------------------------------------
# Each password carries a random token; the log is searched for the tokens,
# so escaped forms of a password are found too.
tok() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }
T_TRUST=trustpw$(tok) T_MD5=md5pw$(tok) T_CLEAR=clearpw$(tok)
T_SCRAM=scrampw$(tok) T_ODD=oddpw$(tok) T_WRONG=wrongpw$(tok)
T_MD5WRONG=md5wrongpw$(tok)
PW_TRUST=$T_TRUST
PW_MD5=$T_MD5
PW_CLEAR=$T_CLEAR
PW_SCRAM=$T_SCRAM
PW_ODD=" a'b\\c d=$T_ODD '' "
PW_WRONG=$T_WRONG
PW_MD5WRONG=$T_MD5WRONG
TOKENS=( "$T_TRUST" "$T_MD5" "$T_CLEAR" "$T_SCRAM" "$T_ODD" "$T_WRONG" "$T_MD5WRONG" )

HBA=
HBA_SAVED=$TMPDIR/pg_hba.conf.orig
PASSFILE=$TMPDIR/pgpass

reload() { QDB=postgres q "SELECT pg_reload_conf()" >/dev/null; }

cleanup() {
	if [[ -n $HBA && -f $HBA_SAVED ]]; then
		cat "$HBA_SAVED" >"$HBA" && rm -f "$HBA_SAVED"
	fi
	QDB=postgres q "ALTER SYSTEM RESET log_connections" >/dev/null 2>&1
	reload >/dev/null 2>&1
	PGOPTIONS='-c client_min_messages=warning' QDB=postgres q "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	local r
	for r in regress_pw_caller regress_pw_trust regress_pw_md5 regress_pw_clear regress_pw_scram regress_pw_odd; do
		QDB=postgres q "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
	done
	rm -f "$PASSFILE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LOG_OFF=$(stat -c %s "$LOGFILE")
echo "# stage $KIND, port $PGPORT"

# --- set-up ------------------------------------------------------------------
cleanup
QDB=postgres q "CREATE DATABASE $DB" || { echo "cannot create database $DB"; exit 1; }
q "CREATE EXTENSION dblink" || exit 1
q "CREATE TABLE t (v text); INSERT INTO t VALUES ('remote row')" || exit 1

QDB=postgres quiet_sql -v pw_trust="$PW_TRUST" -v pw_md5="$PW_MD5" -v pw_clear="$PW_CLEAR" \
	-v pw_scram="$PW_SCRAM" -v pw_odd="$PW_ODD" <<'EOF' || { echo "cannot create the roles"; exit 1; }
CREATE ROLE regress_pw_caller NOLOGIN;
CREATE ROLE regress_pw_trust LOGIN PASSWORD :'pw_trust';
CREATE ROLE regress_pw_clear LOGIN PASSWORD :'pw_clear';
CREATE ROLE regress_pw_scram LOGIN PASSWORD :'pw_scram';
CREATE ROLE regress_pw_odd LOGIN PASSWORD :'pw_odd';
SET password_encryption = 'md5';
CREATE ROLE regress_pw_md5 LOGIN PASSWORD :'pw_md5';
EOF
for r in regress_pw_trust regress_pw_md5 regress_pw_clear regress_pw_scram regress_pw_odd; do
	QDB=postgres q "ALTER ROLE $r SET log_statement = 'all'" >/dev/null
	QDB=postgres q "ALTER ROLE $r SET log_min_messages = 'debug1'" >/dev/null
	q "GRANT SELECT ON t TO $r" >/dev/null
done
check "(b) regress_pw_md5's password is stored as md5" \
	[ "$(QDB=postgres q "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'regress_pw_md5'")" = md5 ]
check "(d) regress_pw_scram's password is stored as SCRAM" \
	[ "$(QDB=postgres q "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'regress_pw_scram'")" = SCRAM-SHA-256\$ ]

# servers: one per target role, all on 127.0.0.1
srv() { q "CREATE SERVER $1 FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host '127.0.0.1', port '$PGPORT', dbname '$DB'${2:+, $2})" >/dev/null; }
srv srv_trust
srv srv_md5
srv srv_md5_wrong
srv srv_clear
srv srv_scram
srv srv_odd
srv srv_wrong
srv srv_passfile "passfile '$PASSFILE'"
q "GRANT USAGE ON FOREIGN SERVER srv_trust, srv_md5, srv_md5_wrong, srv_clear, srv_scram, srv_odd, srv_wrong, srv_passfile TO regress_pw_caller" >/dev/null

quiet_sql -v pw_trust="$PW_TRUST" -v pw_md5="$PW_MD5" -v pw_clear="$PW_CLEAR" -v pw_scram="$PW_SCRAM" \
	-v pw_odd="$PW_ODD" -v pw_wrong="$PW_WRONG" -v pw_md5wrong="$PW_MD5WRONG" <<'EOF' || { echo "cannot create the user mappings"; exit 1; }
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_trust OPTIONS (user 'regress_pw_trust', password :'pw_trust');
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_md5 OPTIONS (user 'regress_pw_md5', password :'pw_md5');
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_md5_wrong OPTIONS (user 'regress_pw_md5', password :'pw_md5wrong');
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_clear OPTIONS (user 'regress_pw_clear', password :'pw_clear');
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_scram OPTIONS (user 'regress_pw_scram', password :'pw_scram');
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_odd OPTIONS (user 'regress_pw_odd', password :'pw_odd');
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_wrong OPTIONS (user 'regress_pw_scram', password :'pw_wrong');
CREATE USER MAPPING FOR regress_pw_caller SERVER srv_passfile OPTIONS (user 'regress_pw_scram');
-- the superuser uses the passfile server too
CREATE USER MAPPING FOR postgres SERVER srv_passfile OPTIONS (user 'regress_pw_scram');
EOF

# the server OS user's passfile, holding the right password for regress_pw_scram
# (":" and "\" would need escaping; the scram password has neither)
( umask 077; printf '127.0.0.1:%s:*:regress_pw_scram:%s\n' "$PGPORT" "$PW_SCRAM" >"$PASSFILE" )
chown "$PG_OS_USER:" "$PASSFILE"
chmod 600 "$PASSFILE"

# --- pg_hba.conf -------------------------------------------------------------
HBA=$(QDB=postgres q "SHOW hba_file")
if [[ -z $HBA || ! -f $HBA ]]; then
	notok "hba_file: '$HBA'"
	exit 1
fi
cp -p "$HBA" "$HBA_SAVED"
{
	echo "# --- 30-password.sh (temporary) ---"
	echo "host all regress_pw_trust 127.0.0.1/32 trust"
	echo "host all regress_pw_md5   127.0.0.1/32 md5"
	echo "host all regress_pw_clear 127.0.0.1/32 password"
	echo "host all regress_pw_scram 127.0.0.1/32 scram-sha-256"
	echo "host all regress_pw_odd   127.0.0.1/32 scram-sha-256"
	echo "# --- end of 30-password.sh ---"
	cat "$HBA_SAVED"
} >"$HBA"
QDB=postgres q "ALTER SYSTEM SET log_connections = on" >/dev/null
reload
check "pg_hba.conf parses with the test lines" \
	[ "$(QDB=postgres q "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")" = 0 ]
check "pg_hba.conf reloaded: regress_pw_trust logs in over 127.0.0.1 without a password" wait_until 10 tcp_login regress_pw_trust
if tcp_login regress_pw_scram; then
	notok "regress_pw_scram logs in over 127.0.0.1 without a password"
else
	ok "regress_pw_scram needs a password over 127.0.0.1"
fi

# --- (a) trust ---------------------------------------------------------------
NOREQ='DETAIL:  Non-superuser cannot connect if the server does not request a password.'
NOREQ_HINT="HINT:  Target server's authentication method must be changed."
MUSTPW='DETAIL:  Non-superusers must provide a password in the connection string.'

as_caller "SELECT dblink_connect('c', 'srv_trust')" "SELECT dblink_get_connections() IS NULL"
check "(a) trust, named: 2F003 password is required (got: $(first))" has 'ERROR:  2F003: password is required'
check "(a) trust, named: DETAIL does not request a password" has "$NOREQ"
check "(a) trust, named: HINT authentication method must be changed" has "$NOREQ_HINT"
as_caller "SELECT dblink_connect('srv_trust')"
check "(a) trust, unnamed: 2F003 does not request a password" has "$NOREQ"
as_caller "SELECT * FROM dblink('srv_trust', 'SELECT 1') AS x(a int)"
check "(a) trust, dblink() transient: 2F003 does not request a password" has "$NOREQ"
as_caller "SELECT dblink_exec('srv_trust', 'SELECT 1')"
check "(a) trust, dblink_exec() transient: 2F003 does not request a password" has "$NOREQ"
as_caller "DO \$\$BEGIN PERFORM dblink_connect('c', 'srv_trust'); EXCEPTION WHEN OTHERS THEN NULL; END\$\$" \
	"SELECT coalesce(dblink_get_connections()::text, 'none')"
check "(a) trust: nothing registered after the failure (got: $(first))" [ "$OUT" = none ]
trust_gone() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE usename = 'regress_pw_trust'")" = 0 ]; }
check "(a) trust: the remote backend was closed" wait_until 5 trust_gone
# a superuser may use trust
as_super "SELECT * FROM dblink('host=127.0.0.1 port=$PGPORT dbname=$DB user=regress_pw_trust', 'SELECT current_user') AS x(u name)"
check "(a) trust: a superuser connects (got: $(first))" [ "$OUT" = regress_pw_trust ]

# --- (b)-(d) password methods ------------------------------------------------
for m in md5 clear scram odd; do
	as_caller "SELECT dblink_connect('c', 'srv_$m')" \
		"SELECT * FROM dblink('c', 'SELECT current_user, v FROM t') AS x(u name, v text)" \
		"SELECT dblink_disconnect('c')"
	case $m in md5) tag='(b) md5' ;; clear) tag='(c) password' ;; scram) tag='(d) scram-sha-256' ;; odd) tag='(d) scram-sha-256, password with quotes, spaces, backslash, =' ;; esac
	check "$tag: connects and queries as regress_pw_$m (got: ${OUT//$'\n'/ / })" \
		[ "$OUT" = "OK"$'\n'"regress_pw_$m|remote row"$'\n'"OK" ]
	as_caller "SELECT * FROM dblink('srv_$m', 'SELECT current_user') AS x(u name)"
	check "$tag: dblink() transient (got: $(first))" [ "$OUT" = "regress_pw_$m" ]
done
as_caller "SELECT dblink_exec('srv_scram', 'SET work_mem = ''2MB''')"
check "(d) scram-sha-256: dblink_exec() transient (got: $(first))" [ "$OUT" = SET ]

# --- (e) wrong passwords -----------------------------------------------------
for s in srv_wrong srv_md5_wrong; do
	as_caller "SELECT dblink_connect('c', '$s')" "SELECT coalesce(dblink_get_connections()::text, 'none')"
	check "(e) $s: 08001 could not establish connection (got: $(first))" has 'ERROR:  08001: could not establish connection'
	check "(e) $s: DETAIL password authentication failed" has 'FATAL:  password authentication failed for user'
	check "(e) $s: nothing registered" [ "${OUT##*$'\n'}" = none ]
done

# --- (f) the server OS user's passfile ---------------------------------------
PFSTR="host=127.0.0.1 port=$PGPORT dbname=$DB user=regress_pw_scram passfile=$PASSFILE"
as_super "SELECT * FROM dblink('$PFSTR', 'SELECT current_user') AS x(u name)"
check "(f) the passfile is good: a superuser connects with it (got: $(first))" [ "$OUT" = regress_pw_scram ]
as_super "SELECT * FROM dblink('srv_passfile', 'SELECT current_user') AS x(u name)"
check "(f) a superuser connects through a server with the passfile option (got: $(first))" [ "$OUT" = regress_pw_scram ]
as_caller "SELECT dblink_connect('c', '$PFSTR')"
check "(f) non-superuser, passfile in the string: 2F003 (got: $(first))" has 'ERROR:  2F003: password is required'
check "(f) non-superuser, passfile in the string: DETAIL must provide a password" has "$MUSTPW"
as_caller "SELECT * FROM dblink('$PFSTR', 'SELECT 1') AS x(a int)"
check "(f) non-superuser, passfile in a dblink() string: 2F003 must provide a password" has "$MUSTPW"
as_caller "SELECT dblink_exec('$PFSTR', 'SELECT 1')"
check "(f) non-superuser, passfile in a dblink_exec() string: 2F003 must provide a password" has "$MUSTPW"
as_caller "SELECT dblink_connect('c', 'srv_passfile')"
check "(f) non-superuser, passfile as a server option: 2F003 must provide a password (got: $(first))" has "$MUSTPW"
as_caller "SELECT dblink_connect('c', 'postgresql://regress_pw_scram@127.0.0.1:$PGPORT/$DB?passfile=$PASSFILE')"
check "(f) non-superuser, passfile in a URI: 2F003 must provide a password (got: $(first))" has "$MUSTPW"
as_caller "SELECT dblink_connect('c', '$PFSTR password=notthepassword')" "SELECT coalesce(dblink_get_connections()::text, 'none')"
check "(f) non-superuser, a wrong password is not rescued by the passfile: 08001 (got: $(first))" \
	has 'FATAL:  password authentication failed for user "regress_pw_scram"'
check "(f) nothing registered" [ "${OUT##*$'\n'}" = none ]

# --- (g) no password in the log or in any message ----------------------------
sleep 0.5   # let the logging collector-less postmaster and backends flush
leaks=()
for t in "${TOKENS[@]}"; do
	if n=$(tail -c +$((LOG_OFF + 1)) "$LOGFILE" | grep -cF -- "$t") && (( n > 0 )); then
		leaks+=( "$t ($n lines)" )
		tail -c +$((LOG_OFF + 1)) "$LOGFILE" | grep -F -- "$t" | head -n 3 | sed 's/^/#   log: /'
	fi
done
check "(g) no password in the server log (${#TOKENS[@]} secrets; leaked: ${leaks[*]:-none})" [ ${#leaks[@]} -eq 0 ]
leaks=()
for t in "${TOKENS[@]}"; do
	if grep -qF -- "$t" "$CLIENT_LOG"; then
		leaks+=( "$t" )
		grep -F -- "$t" "$CLIENT_LOG" | head -n 3 | sed 's/^/#   client: /'
	fi
done
check "(g) no password in any client message (leaked: ${leaks[*]:-none})" [ ${#leaks[@]} -eq 0 ]
# the log did record what was done: the checks above searched real entries
check "(g) the server log has the logged dblink statements" \
	grep -qF "dblink_connect('c', 'srv_scram')" <(tail -c +$((LOG_OFF + 1)) "$LOGFILE")
check "(g) the server log has the remote sessions' connections" \
	grep -qF 'connection authorized: user=regress_pw_scram' <(tail -c +$((LOG_OFF + 1)) "$LOGFILE")

# --- (h) malformed strings that carry a password ----------------------------
# Run as the superuser (a non-superuser gets 2F003 for any unparsable
# string) with statement logging off, so only the error itself is logged.
H_LOG_OFF=$(stat -c %s "$LOGFILE")
h_tok() { printf 'hpw%s' "$(tok)"; }
H1=$(h_tok) H2=$(h_tok) H3=$(h_tok) H4=$(h_tok) H5=$(h_tok) H6=$(h_tok)
H_CASES=(
	"$H1|postgresql://u:$H1@[::1/db"
	"$H2|postgresql://u:$H2%zz@127.0.0.1/db"
	"$H3|postgresql://u:$H3%00@127.0.0.1/db"
	"$H4|postgresql://127.0.0.1/db?password=$H4%zz"
	"$H5|postgresql://127.0.0.1/db?user=u&password=$H5%g1&sslmode=disable"
	"$H6|host=127.0.0.1 password='$H6 port=5432"
)
for c in "${H_CASES[@]}"; do
	t=${c%%|*} str=${c#*|}
	OUT=$(PGOPTIONS='-c log_statement=none -c log_min_error_statement=panic' \
		"$PSQL" -X -q -At -v VERBOSITY=verbose -d "$DB" -c "SELECT dblink_connect('h', \$s\$$str\$s\$)" 2>&1)
	shown=$(grep -v "^LOCATION:" <<<"$OUT")
	shown=${shown//$'\n'/ | }
	shown=${shown//$t/<PASSWORD>}
	if ! has 'ERROR:  08001: could not establish connection'; then
		notok "(h) superuser, malformed string: 08001 (got: $shown)"
	elif grep -qF -- "$t" <<<"$OUT"; then
		if [[ $KIND == ours ]]; then
			notok "(h) superuser, malformed string: the error echoes the password ($shown)"
		else
			echo "# (h) stock contrib echoes the password: $shown"
		fi
	else
		ok "(h) superuser, malformed string: the error does not echo the password ($shown)"
	fi
done
sleep 0.3
h_leaks=()
for c in "${H_CASES[@]}"; do
	t=${c%%|*}
	tail -c +$((H_LOG_OFF + 1)) "$LOGFILE" | grep -qF -- "$t" && h_leaks+=( "$t" )
done
if [[ $KIND == ours ]]; then
	check "(h) no password of a malformed string in the server log (leaked: ${h_leaks[*]:-none})" [ ${#h_leaks[@]} -eq 0 ]
else
	echo "# (h) stock contrib: ${#h_leaks[@]} of ${#H_CASES[@]} malformed-string passwords in the server log"
fi

# --- (i) strings where a password ends up in another value ------------------
# Each string, as a superuser and as a non-superuser in dblink_connect and in
# dblink(connstr, sql): the client's message and the server log never show
# the password (statement logging off, as in (h)).
I_LOG_OFF=$(stat -c %s "$LOGFILE")
I1=$(h_tok) I2=$(h_tok) I3=$(h_tok) I4=$(h_tok) I5=$(h_tok)
I_CASES=(
	"$I1|host=127.0.0.1 port=$PGPORT user=postgres connect_timeout= password=$I1"
	"$I2|host= password=$I2"
	"$I3|host=127.0.0.1 port=$PGPORT user=postgres keepalives_idle= password=$I3"
	"$I4|postgresql://postgres:$I4/tail@127.0.0.1:$PGPORT/postgres"
	"$I5|postgresql://[::1?password=$I5"
)
i_no=0
for c in "${I_CASES[@]}"; do
	t=${c%%|*} str=${c#*|}
	i_no=$((i_no + 1))
	for who in superuser non-superuser; do
		role=
		[[ $who == non-superuser ]] && role="SET ROLE regress_pw_caller;"
		for call in "SELECT dblink_connect('i', \$s\$$str\$s\$)" \
			"SELECT * FROM dblink(\$s\$$str\$s\$, 'SELECT 1') AS x(a int)"; do
			OUT=$(PGOPTIONS='-c log_statement=none -c log_min_error_statement=panic' \
				"$PSQL" -X -q -At -v VERBOSITY=verbose -d "$DB" -c "$role $call" 2>&1)
			shown=$(grep -v "^LOCATION:" <<<"$OUT")
			shown=${shown//$'\n'/ | }
			shown=${shown//$t/<PASSWORD>}
			what="(i) string $i_no, $who, ${call%%(*}"
			if [[ $who == superuser ]] && ! has 'ERROR:  08001: could not establish connection'; then
				notok "$what: 08001 (got: $shown)"
			elif [[ $who == non-superuser ]] && ! has 'ERROR:  2F003: password is required'; then
				notok "$what: 2F003 (got: $shown)"
			elif grep -qF -- "$t" <<<"$OUT"; then
				if [[ $KIND == ours ]]; then
					notok "$what: the error echoes the password ($shown)"
				else
					echo "# $what: stock contrib echoes the password: $shown"
				fi
			else
				ok "$what: the error does not echo the password ($shown)"
			fi
		done
	done
done
sleep 0.3
i_leaks=()
for c in "${I_CASES[@]}"; do
	t=${c%%|*}
	if tail -c +$((I_LOG_OFF + 1)) "$LOGFILE" | grep -qF -- "$t"; then
		i_leaks+=( "$t" )
		tail -c +$((I_LOG_OFF + 1)) "$LOGFILE" | grep -F -- "$t" | head -n 2 | sed 's/^/#   log: /'
	fi
done
if [[ $KIND == ours ]]; then
	check "(i) no password of these strings in the server log (leaked: ${i_leaks[*]:-none})" [ ${#i_leaks[@]} -eq 0 ]
else
	echo "# (i) stock contrib: ${#i_leaks[@]} of ${#I_CASES[@]} passwords in the server log"
fi
# the log did record the errors: the search above looked at real entries
check "(i) the server log has the errors of these strings" \
	grep -qF 'could not establish connection' <(tail -c +$((I_LOG_OFF + 1)) "$LOGFILE")

# --- restore -----------------------------------------------------------------
cat "$HBA_SAVED" >"$HBA" && rm -f "$HBA_SAVED"
QDB=postgres q "ALTER SYSTEM RESET log_connections" >/dev/null
reload
trust_refused() { ! tcp_login regress_pw_trust; }
check "pg_hba.conf restored: regress_pw_trust needs a password again" wait_until 10 trust_refused

echo "# $FAILS check(s) failed"
(( FAILS == 0 ))
