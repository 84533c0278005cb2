#!/usr/bin/env bash
# test/server/25-connection-files.sh — files a connection string names are
# read under libpq's rules, and hostile ones cannot hurt the backend.
#
# A second throwaway cluster with ssl = on (a CA and a server certificate
# for "localhost" made here with openssl) is the remote; the main cluster's
# backends connect to it over 127.0.0.1.  As a plain role (the password
# rule applies), each case runs with statement_timeout = 10s:
#   - sslmode=disable never opens sslrootcert: /dev/zero, a FIFO nobody
#     writes to and a file the server cannot read all connect at once;
#   - sslmode=require with a missing root certificate connects with TLS,
#     without verification; verify-ca needs the file; a root certificate
#     that exists is verified against (require with the wrong CA fails);
#     verify-full checks the host name;
#   - /dev/zero or a FIFO as the root certificate of a TLS connection is a
#     clean ERROR at once (ours; contrib is not run on these: OpenSSL would
#     read /dev/zero until memory runs out);
# and as the superuser:
#   - a password file group or others can read is ignored, with libpq's
#     warning in the server log; once 0600 it is used;
#   - PGSERVICEFILE set with setenv() in the backend after dblink is loaded
#     is read at the next connect (a small C function built here into the
#     stage calls setenv()).
# The backend survives everything (run.sh checks the log for crashes).
set -uo pipefail

: "${PGHOST:?}" "${PGPORT:?}" "${STAGE:?}" "${TMPDIR:?}" "${DBLINK_REPO:?}" "${LOGFILE:?}"
source "$(dirname "${BASH_SOURCE[0]}")/../server-lib.sh"
M_HOST=$PGHOST M_PORT=$PGPORT M_LOG=$LOGFILE

# our clusters live under $TMPDIR: never tmp_init (its trap would remove
# run.sh's temp dir); stop the remote on any exit
DBLINK_TMP=$TMPDIR
trap 'cluster_stop tls >/dev/null 2>&1' EXIT

# --- certificates and files ----------------------------------------------
F=$TMPDIR/files
mkdir -p "$F"
(
	cd "$F" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dblink-test-ca \
		-keyout ca.key -out ca.crt
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dblink-other-ca \
		-keyout other.key -out other.crt
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
	printf 'subjectAltName=DNS:localhost\n' >san.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.ext -out server.crt
) >"$TMPDIR/openssl.log" 2>&1 || { cat "$TMPDIR/openssl.log"; notok "openssl could not make certificates"; exit 1; }
mkfifo "$F/fifo"
echo secret >"$F/root-only"
chmod 600 "$F/root-only"
chmod 755 "$F"
chown postgres: "$F"/*.crt "$F"/*.key "$F/fifo"
chmod 600 "$F/server.key"
chown root: "$F/root-only"

# --- the remote: TLS on ----------------------------------------------------
cluster_start tls "$STAGE" auto >/dev/null 2>&1 || { notok "could not start the TLS cluster"; exit 1; }
cat >>"${CL_DATA[tls]}/postgresql.conf" <<EOF
ssl = on
ssl_cert_file = '$F/server.crt'
ssl_key_file = '$F/server.key'
EOF
as_pg "$PGBIN/pg_ctl" -D "${CL_DATA[tls]}" -l "${CL_LOG[tls]}" -w -t 60 restart >/dev/null 2>&1 ||
	{ notok "the TLS cluster did not restart with ssl = on"; cat "${CL_LOG[tls]}"; exit 1; }
P=${CL_PORT[tls]}
"$PGBIN/psql" -X -q -d postgres -c "CREATE ROLE u LOGIN PASSWORD 'pw'; ALTER ROLE postgres PASSWORD 'pgpw'" ||
	{ notok "could not create roles on the TLS cluster"; exit 1; }
export PGHOST=$M_HOST PGPORT=$M_PORT LOGFILE=$M_LOG

# the local side: a plain role that must give a password
"$PGBIN/psql" -X -q -d postgres -c "CREATE EXTENSION IF NOT EXISTS dblink" \
	-c "DROP ROLE IF EXISTS regress_files_plain" -c "CREATE ROLE regress_files_plain LOGIN" >/dev/null 2>&1

# try ROLE CONNSTR [SQL]: connect (named "c"), run SQL through it (default:
# is the connection encrypted?), disconnect; prints the value or the
# error's SQLSTATE and text, and how long it took in ms.
try() {
	local role=$1 connstr=$2 sql=${3:-"SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"} t0 out
	t0=$(now_ms)
	out=$("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d postgres 2>&1 <<-SQL
		SET statement_timeout = '10s';
		SET ROLE $role;
		SELECT dblink_connect('c', \$c\$$connstr\$c\$) AS connected \gset
		SELECT * FROM dblink('c', \$q\$$sql\$q\$) AS t(v text);
		SELECT dblink_disconnect('c') AS disconnected \gset
	SQL
	)
	TRY_MS=$(( $(now_ms) - t0 ))
	TRY_OUT=$out
}
plain() { try regress_files_plain "$@"; }
base="host=127.0.0.1 port=$P dbname=postgres user=u password=pw"

# --- sslmode=disable never opens the root certificate ----------------------
for f in /dev/zero "$F/fifo" "$F/root-only"; do
	plain "$base sslmode=disable sslrootcert=$f"
	check "sslmode=disable sslrootcert=$f connects without reading it (${TRY_MS} ms: ${TRY_OUT//$'\n'/ | })" \
		[ "$TRY_OUT" = f -a "$TRY_MS" -lt 5000 ]
done

# --- TLS -----------------------------------------------------------------------
plain "$base"
check "sslmode=prefer, no root certificate: encrypted" [ "$TRY_OUT" = t ]
plain "$base sslmode=require sslrootcert=/nonexistent/root.crt"
check "sslmode=require with a missing root certificate connects, encrypted (${TRY_OUT//$'\n'/ | })" [ "$TRY_OUT" = t ]
plain "$base sslmode=verify-ca sslrootcert=/nonexistent/root.crt"
check "sslmode=verify-ca needs the root certificate (${TRY_OUT//$'\n'/ | })" \
	grep -q 'ERROR:  08001.*DETAIL:.*root certificate file "/nonexistent/root.crt" does not exist' <<<"${TRY_OUT//$'\n'/ }"
plain "$base sslmode=verify-ca sslrootcert=$F/ca.crt"
check "sslmode=verify-ca with the right CA connects" [ "$TRY_OUT" = t ]
plain "$base sslmode=require sslrootcert=$F/other.crt"
check "sslmode=require verifies against a root certificate that exists (${TRY_OUT//$'\n'/ | })" \
	grep -q 'ERROR:  08001.*DETAIL:.*certificate verify failed' <<<"${TRY_OUT//$'\n'/ }"
plain "$base sslmode=verify-full sslrootcert=$F/ca.crt"
check "sslmode=verify-full checks the host name (127.0.0.1 is not localhost: ${TRY_OUT//$'\n'/ | })" \
	grep -q 'ERROR:  08001.*DETAIL:.*server certificate for "localhost" (and 1 other name) does not match host name "127.0.0.1"' <<<"${TRY_OUT//$'\n'/ }"
plain "host=localhost hostaddr=127.0.0.1 port=$P dbname=postgres user=u password=pw sslmode=verify-full sslrootcert=$F/ca.crt"
check "sslmode=verify-full with the certificate's host name connects" [ "$TRY_OUT" = t ]

# hostile files where TLS would read them: a clean ERROR at once (ours only)
if [[ $KIND == ours ]]; then
	for f in /dev/zero "$F/fifo"; do
		plain "$base sslmode=require sslrootcert=$f"
		check "sslrootcert=$f with TLS: a clean ERROR within 5 s (${TRY_MS} ms: ${TRY_OUT//$'\n'/ | })" \
			grep -qi 'ERROR:  08001.*not a regular file' <<<"${TRY_OUT//$'\n'/ }"
		check "  ... and in time" [ "$TRY_MS" -lt 5000 ]
		plain "$base sslmode=require sslcert=$f sslkey=$f"
		check "sslcert=$f with TLS, the server asking for no certificate: connects (${TRY_OUT//$'\n'/ | })" [ "$TRY_OUT" = t ]
	done
fi

# --- the password file ---------------------------------------------------------
PASSFILE=$TMPDIR/pgpass
printf '127.0.0.1:%s:*:postgres:pgpw\n' "$P" >"$PASSFILE"
chown postgres: "$PASSFILE"
chmod 644 "$PASSFILE"
off=$(stat -c %s "$M_LOG")
try postgres "host=127.0.0.1 port=$P dbname=postgres user=postgres passfile=$PASSFILE sslmode=disable" "SELECT 'in'"
check "a password file others can read is ignored (${TRY_OUT//$'\n'/ | })" \
	grep -q 'no password supplied' <<<"$TRY_OUT"
check "  ... with libpq's warning in the server log" \
	grep -q "password file \"$PASSFILE\" has group or world access" <(tail -c +$((off + 1)) "$M_LOG")
chmod 600 "$PASSFILE"
try postgres "host=127.0.0.1 port=$P dbname=postgres user=postgres passfile=$PASSFILE sslmode=disable" "SELECT 'in'"
check "a password file with mode 0600 is used" [ "$TRY_OUT" = in ]
try postgres "host=127.0.0.1 port=$P dbname=postgres user=postgres passfile=/dev/zero sslmode=disable" "SELECT 'in'"
check "passfile=/dev/zero is not a plain file: ignored at once (${TRY_MS} ms)" \
	grep -q 'no password supplied' <<<"$TRY_OUT"

# --- the environment is read at every connect ----------------------------------
# regress_setenv(name, value) calls setenv() in the backend; built into the stage
LIBDIR=$("$PGBIN/pg_config" --pkglibdir)    # the stage's (pg_config is relocatable)
cat >"$TMPDIR/regress_setenv.c" <<'EOF'
#include "postgres.h"
#include <stdlib.h>
#include "fmgr.h"
#include "utils/builtins.h"
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(regress_setenv);
Datum
regress_setenv(PG_FUNCTION_ARGS)
{
	setenv(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)), 1);
	PG_RETURN_VOID();
}
EOF
if gcc -shared -fPIC -O2 -I"$(/usr/lib/postgresql/15/bin/pg_config --includedir-server)" \
	-o "$LIBDIR/regress_setenv.so" "$TMPDIR/regress_setenv.c" 2>"$TMPDIR/gcc.log"; then
	cat >"$TMPDIR/svc.conf" <<-EOF
		[dblink_files_svc]
		host=127.0.0.1
		port=$P
		dbname=postgres
		user=u
		password=pw
	EOF
	chmod 644 "$TMPDIR/svc.conf"
	out=$("$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -d postgres 2>&1 <<-SQL
		SET statement_timeout = '10s';
		CREATE OR REPLACE FUNCTION regress_setenv(text, text) RETURNS void
		  AS '$LIBDIR/regress_setenv.so' LANGUAGE C STRICT;
		SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(x int);
		SELECT regress_setenv('PGSERVICEFILE', '$TMPDIR/svc.conf');
		SELECT * FROM dblink('service=dblink_files_svc', 'SELECT current_setting(''port'')') AS t(p text);
		DROP FUNCTION regress_setenv(text, text);
	SQL
	)
	check "PGSERVICEFILE set in the backend after loading is read at the next connect (${out//$'\n'/ | })" \
		grep -qx "$P" <<<"$out"
else
	notok "could not build the setenv helper: $(cat "$TMPDIR/gcc.log")"
fi

"$PGBIN/psql" -X -q -d postgres -c "DROP ROLE regress_files_plain" >/dev/null 2>&1
printf '# %d check(s) failed\n' "$FAILS"
(( FAILS == 0 ))
