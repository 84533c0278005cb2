#!/usr/bin/env bash
# test/server/55-hostile-server.sh — a remote server that lies about the
# size of what it sends.
#
# A fake PostgreSQL server (python3, 127.0.0.1, a port the kernel picks)
# accepts any startup without a password (for dbname=hugeauth it answers
# with an authentication request whose length word says about 1 GB, then
# nothing) and answers each query with one text row, except:
#   'huge'       a DataRow whose length word says about 1 GB, then nothing;
#   'big N'      a row whose one value is N bytes of 'x';
#   'longparam'  first a ParameterStatus of 40,000 bytes, a type libpq
#                never takes longer than 30,000.
# The local cluster is our own, its postmaster started with a data size
# limit (ulimit -d) that leaves room for the backend's usual needs but not
# for 1 GB, the way strict overcommit or a container's limit refuses
# memory.  Every expected line was taken from contrib 15 under the same
# limit.  Before messages and values of 1 MB or more were kept outside the
# Go heap, (2) and (4) made the Go runtime die ("fatal error: runtime: out
# of memory") and the postmaster restart every session.
#   (1) dblink() through the fake server returns its row.
#   (2) 'huge' is an ERROR 08006 with libpq's words for an input buffer
#       that cannot grow, in the same backend; the connection is then
#       gone: the next query fails as contrib's does.
#   (3) 'big 30000000' returns its 30 MB value intact.
#   (4) 'big 400000000' arrives (400 MB fit) but its copy does not: ERROR
#       08006 "out of memory for query result", and the same connection
#       answers the next query.
#   (5) 'longparam' is libpq's lost synchronization; the connection is gone.
#   (6) dbname=hugeauth: ERROR 08001 could not establish connection (the
#       DETAIL is pgconn's, not libpq's "expected authentication request
#       from server, but received R"); this too crashed the cluster, from
#       any role, as pgconn's reader took the 1 GB into the Go heap.
#   (7) the log of the cluster has no crash.
#
# Run by test/run.sh (env STAGE, PGBIN, TMPDIR, DBLINK_REPO); starts and
# stops its own cluster.
set -uo pipefail

: "${STAGE:?}" "${TMPDIR:?}"
REPO=${DBLINK_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$REPO/test/server-lib.sh"
# the usual backend needs well under this (ours about 130 MB of data
# mappings with the Go runtime); 1 GB does not fit
DATA_LIMIT_KB=600000

own_cluster hostile
if ! (ulimit -d "$DATA_LIMIT_KB" && restart_own_cluster); then
	notok "could not restart the cluster with a data size limit"
	exit 1
fi
log_off=$(stat -c %s "$LOGFILE")
limit=$(awk '/Max data size/ { print $4 }' "/proc/$(postmaster_pid "$PGDATA")/limits")
check "the postmaster runs with a data size limit of $DATA_LIMIT_KB kB (got: $limit bytes)" \
	[ "$limit" = $((DATA_LIMIT_KB * 1024)) ]

cat >"$TMPDIR/fake-server.py" <<'PY'
import os, socket, struct, threading, time

def msg(t, body):
    return t + struct.pack('!I', len(body) + 4) + body

def recvn(c, n):
    b = b''
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise EOFError
        b += x
    return b

def serve(c):
    try:
        while True:  # SSL and GSS requests are refused, cancels ignored
            n = struct.unpack('!I', recvn(c, 4))[0]
            body = recvn(c, n - 4)
            code = struct.unpack('!I', body[:4])[0]
            if code in (80877103, 80877104):
                c.sendall(b'N')
                continue
            if code == 80877102:
                return
            break
        params = body[4:].split(b'\0')
        if b'hugeauth' in params:
            c.sendall(b'R' + struct.pack('!II', 0x3FFFFFF0, 0))
            while c.recv(65536):
                pass
            return
        out = msg(b'R', struct.pack('!I', 0))
        for k, v in (('server_version', '15.0'), ('server_encoding', 'UTF8'),
                     ('client_encoding', 'UTF8'), ('DateStyle', 'ISO, MDY'),
                     ('IntervalStyle', 'postgres'), ('integer_datetimes', 'on'),
                     ('standard_conforming_strings', 'on')):
            out += msg(b'S', k.encode() + b'\0' + v.encode() + b'\0')
        c.sendall(out + msg(b'K', struct.pack('!II', 4242, 99)) + msg(b'Z', b'I'))
        while True:
            t = recvn(c, 1)
            body = recvn(c, struct.unpack('!I', recvn(c, 4))[0] - 4)
            if t == b'X':
                return
            if t != b'Q':
                continue
            # one text column named a
            rd = msg(b'T', struct.pack('!H', 1) + b'a\0' + struct.pack('!IHIhih', 0, 0, 25, -1, -1, 0))
            q = body.rstrip(b'\0')
            if q.startswith(b'big '):
                n = int(q[4:])
                c.sendall(rd + b'D' + struct.pack('!IHI', 4 + 2 + 4 + n, 1, n))
                chunk = b'x' * (1 << 20)
                while n > 0:
                    c.sendall(chunk[:n])
                    n -= len(chunk)
                c.sendall(msg(b'C', b'SELECT 1\0') + msg(b'Z', b'I'))
                continue
            if q == b'longparam':
                c.sendall(msg(b'S', b'x\0' + b'v' * 40000 + b'\0'))
            if q == b'huge':
                c.sendall(rd + b'D' + struct.pack('!IH', 0x3FFFFFF0, 1))
                while c.recv(65536):
                    pass
                return
            row = msg(b'D', struct.pack('!HI', 1, 4) + b'fake')
            c.sendall(rd + row + msg(b'C', b'SELECT 1\0') + msg(b'Z', b'I'))
    except (EOFError, OSError):
        pass
    finally:
        c.close()

s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(16)
s.settimeout(0.5)
print(s.getsockname()[1], flush=True)
parent, t0 = os.getppid(), time.time()
while os.getppid() == parent and time.time() - t0 < 300:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
"$(command -v python3)" -u "$TMPDIR/fake-server.py" >"$TMPDIR/fake-server.port" 2>&1 &
HELPER_PIDS+=($!)
wait_until 10 grep -q . "$TMPDIR/fake-server.port"
FPORT=$(head -1 "$TMPDIR/fake-server.port")
if ! [[ $FPORT =~ ^[0-9]+$ ]]; then
	notok "the fake server did not start: $(cat "$TMPDIR/fake-server.port")"
	exit 1
fi

out=$("$PGBIN/psql" -X -q -At -v VERBOSITY=default -d postgres 2>&1 <<SQL
CREATE EXTENSION dblink;
SET statement_timeout = '20s';
SELECT 'pid', pg_backend_pid();
SELECT 'connect', dblink_connect('h', 'host=127.0.0.1 port=$FPORT dbname=x user=x sslmode=disable');
SELECT 'row', a FROM dblink('h', 'SELECT 1') AS t(a text);
SELECT 'huge', a FROM dblink('h', 'huge') AS t(a text);
SELECT 'pid after', pg_backend_pid();
SELECT 'next', a FROM dblink('h', 'SELECT 1') AS t(a text);
SELECT 'connect', dblink_connect('b', 'host=127.0.0.1 port=$FPORT dbname=x user=x sslmode=disable');
SELECT 'big', length(a), a = repeat('x', 30000000) FROM dblink('b', 'big 30000000') AS t(a text);
SELECT 'bigger', length(a) FROM dblink('b', 'big 400000000') AS t(a text);
SELECT 'after bigger', a FROM dblink('b', 'SELECT 1') AS t(a text);
SELECT 'connect', dblink_connect('p', 'host=127.0.0.1 port=$FPORT dbname=x user=x sslmode=disable');
SELECT 'longparam', a FROM dblink('p', 'longparam') AS t(a text);
SELECT 'after longparam', a FROM dblink('p', 'SELECT 1') AS t(a text);
SELECT 'hugeauth', dblink_connect('a', 'host=127.0.0.1 port=$FPORT dbname=hugeauth user=x sslmode=disable');
SELECT 'pid at the end', pg_backend_pid();
SQL
)
pid=$(sed -n 's/^pid|//p' <<<"$out")
check "(1) dblink() through the fake server returns its row" grep -qx 'row|fake' <<<"$out"
want='ERROR:  cannot allocate memory for input buffer
lost synchronization with server: got message type "D", length 1073741804
invalid socket
CONTEXT:  while executing query on dblink connection named "h"'
check "(2) a DataRow that says 1 GB is libpq's ERROR for an input buffer that cannot grow" \
	grep -qF "$want" <<<"$out"
check "(2) the same backend goes on (pid $pid)" grep -qx "pid after|$pid" <<<"$out"
check "(2) the connection is gone: the next query fails as in contrib" \
	grep -qx 'ERROR:  could not send query: no connection to the server' <<<"$out"
check "(3) a 30 MB value arrives intact" grep -qx 'big|30000000|t' <<<"$out"
want='ERROR:  out of memory for query result
CONTEXT:  while executing query on dblink connection named "b"'
check "(4) a 400 MB value that does not fit twice is libpq's ERROR" grep -qF "$want" <<<"$out"
check "(4) ... and the connection goes on" grep -qx 'after bigger|fake' <<<"$out"
want='ERROR:  lost synchronization with server: got message type "S", length 40007
invalid socket
CONTEXT:  while executing query on dblink connection named "p"'
check "(5) a ParameterStatus of 40,000 bytes is libpq's lost synchronization" grep -qF "$want" <<<"$out"
check "(5) ... and the connection is gone" \
	[ "$(grep -c '^ERROR:  could not send query: no connection to the server$' <<<"$out")" = 2 ]
check "(6) an authentication request that says 1 GB: could not establish connection" \
	grep -qx 'ERROR:  could not establish connection' <<<"$out"
check "(6) the same backend all along" grep -qx "pid at the end|$pid" <<<"$out"
if crash=$(log_has_crash "$LOGFILE" "$log_off"); then
	notok "(7) no crash in the cluster's log: $crash"
else
	ok "(7) no crash in the cluster's log"
fi
(( FAILS == 0 )) || printf '%s\n' "$out" | sed 's/^/# /'
exit $(( FAILS > 0 ))
