#!/usr/bin/env python3
# test/server/fakepg.py — a fake PostgreSQL server for the server tests
# (not a test itself: run.sh runs only test/server/*.sh).
#
#   python3 fakepg.py PORTFILE EVENTLOG [LIFETIME_SECS]
#
# Listens on 127.0.0.1 on a port the kernel picks and writes it to PORTFILE.
# Exits when its parent exits, or after LIFETIME_SECS (default 300).  Every
# connection is served by a thread; SSL and GSS requests are refused ('N'),
# a startup packet needs no password.  EVENTLOG gets one line per event:
#   startup <pid> <dbname>     a session began (pid = its BackendKeyData pid)
#   query <pid> <text>         a simple Query arrived
#   cancel <pid> <key>         a CancelRequest arrived
#   msg <pid> <type>           another frontend message arrived
#   end <pid> <how>            the session ended (X, eof, closed)
#
# What the server sends is a script of space-separated tokens:
#   - after the startup packet, the dbname when it begins with "s:"
#     (e.g. dbname='s:auth @y params key Z'), else "auth params key Z";
#   - for a Query, the text from "s:" on when it holds "s:", else a plain
#     answer: one text column `a` and the row 'fake' ("T1 D:fake C Z");
#     BEGIN, COMMIT, ROLLBACK, CLOSE and DECLARE ... CURSOR FOR <q> get their
#     command tags (and the transaction status) and the FETCH of a cursor
#     runs the script of the query it was declared for.
# Tokens:
#   auth       AuthenticationOk            params   the usual ParameterStatus set
#   key        BackendKeyData              Z        ReadyForQuery (the session's
#   Z:c        ReadyForQuery with status c          transaction status, I or T)
#   T<n>       RowDescription of n text columns a, b, c...
#   D:v1,v2    DataRow of these values ("D:" has none; \N in a value is NULL)
#   D+:v1      the same with 4 bytes after the last value
#   Dlen:n     a DataRow of 1 value whose length word says n, then the
#              DataRow's own bytes only (a first value probing disclosure)
#   C          CommandComplete SELECT 1    C:tag    CommandComplete tag
#   E          ErrorResponse ERROR 42000 "fake error"
#   FATAL      ErrorResponse FATAL 57P01 "fake fatal", then the socket closes
#   N          a NoticeResponse            A        a NotificationResponse
#   A<n>       n NotificationResponses (channel c, 7 bytes of payload)
#   N*, S*, A* such messages without end (ParameterStatus of distinct names
#              and about 29,000 bytes), until the client goes away or 60 s
#   @X         a message of type X with a plausible body; @X:HEX that body
#   stall      the first 5 bytes of a DataRow of 100 bytes, then nothing
#   hang       nothing more, until the client goes away
#   close      close the socket
#   sleep:ms   wait
#   waitcancel wait (at most 10 s) for a CancelRequest for this session
#   waitmsg    wait for the next frontend message (e.g. CopyFail)
import os
import socket
import struct
import sys
import threading
import time

LOCK = threading.Lock()
CANCELS = {}  # pid -> threading.Event
NEXT_PID = [1000]


def log(line):
    with LOCK:
        with open(EVENTLOG, 'a') as f:
            f.write(line.replace('\n', '\\n') + '\n')


def msg(t, body):
    return t.encode() + struct.pack('!I', len(body) + 4) + body


def cstr(s):
    return s.encode() + b'\0'


def fields(sev, code, text):
    return (b'S' + cstr(sev) + b'V' + cstr(sev) + b'C' + cstr(code) +
            b'M' + cstr(text) + b'\0')


def rowdesc(n):
    b = struct.pack('!H', n)
    for i in range(n):
        b += cstr(chr(ord('a') + i)) + struct.pack('!IHIhih', 0, 0, 25, -1, -1, 0)
    return msg('T', b)


def datarow(vals, trail=b''):
    b = struct.pack('!H', len(vals))
    for v in vals:
        if v == '\\N':
            b += struct.pack('!i', -1)
        else:
            b += struct.pack('!I', len(v.encode())) + v.encode()
    return msg('D', b + trail)


COPY_RESP = struct.pack('!bHH', 0, 1, 0)
DEFAULT_BODY = {
    'R': struct.pack('!I', 0),
    'K': struct.pack('!II', 4242, 99),
    'S': cstr('fake_setting') + cstr('on'),
    'N': fields('NOTICE', '00000', 'fake notice'),
    'A': struct.pack('!I', 4242) + cstr('c') + cstr('payload'),
    'T': rowdesc(1)[5:],
    'D': datarow(['v'])[5:],
    'C': cstr('SELECT 1'),
    'E': fields('ERROR', '42000', 'fake error'),
    'Z': b'I',
    'G': COPY_RESP, 'H': COPY_RESP, 'W': COPY_RESP,
    'd': b'x\n',
    't': struct.pack('!H', 0),
    'v': struct.pack('!II', 0, 0),
    'V': struct.pack('!i', -1),
}
PARAMS = (('server_version', '15.0'), ('server_encoding', 'UTF8'),
          ('client_encoding', 'UTF8'), ('DateStyle', 'ISO, MDY'),
          ('IntervalStyle', 'postgres'), ('integer_datetimes', 'on'),
          ('standard_conforming_strings', 'on'), ('TimeZone', 'UTC'))


class Closed(Exception):
    pass


def recvn(c, n):
    b = b''
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise Closed('eof')
        b += x
    return b


class Session:
    def __init__(self, c):
        self.c = c
        self.tx = 'I'
        self.cursors = {}
        self.out = b''
        with LOCK:
            self.pid = NEXT_PID[0]
            NEXT_PID[0] += 1
            CANCELS[self.pid] = threading.Event()

    def send(self, b):
        # a script's messages go out together (one write, as a server
        # writes what it has), flushed before any wait and at its end
        self.out += b

    def flush(self):
        if self.out:
            b, self.out = self.out, b''
            self.c.sendall(b)

    def read_msg(self):
        t = recvn(self.c, 1).decode('latin1')
        n = struct.unpack('!I', recvn(self.c, 4))[0]
        return t, recvn(self.c, n - 4)

    def until_gone(self, secs=60):
        self.flush()
        self.c.settimeout(0.2)
        t0 = time.time()
        while time.time() - t0 < secs:
            try:
                if not self.c.recv(65536):
                    raise Closed('eof')
            except socket.timeout:
                pass

    def flood(self, make, same=False):
        # without end, as fast as the socket takes it: until the client
        # goes away (the send fails) or 60 s; blocks of about 256 kB, the
        # same block again when same (else made anew: distinct names)
        self.flush()
        t0, i, block = time.time(), 0, b''
        while time.time() - t0 < 60:
            if not block or not same:
                parts, size = [], 0
                while size < 262144:
                    m = make(i)
                    parts.append(m)
                    size += len(m)
                    i += 1
                block = b''.join(parts)
            self.c.sendall(block)

    def run(self, script):
        try:
            self.run1(script)
        finally:
            try:
                self.flush()
            except OSError:
                pass

    def run1(self, script):
        for tok in script.split():
            if tok in ('close', 'FATAL', 'waitcancel', 'waitmsg') or tok.startswith('sleep:'):
                self.flush()
            if tok == 'auth':
                self.send(msg('R', struct.pack('!I', 0)))
            elif tok == 'params':
                self.send(b''.join(msg('S', cstr(k) + cstr(v)) for k, v in PARAMS))
            elif tok == 'key':
                self.send(msg('K', struct.pack('!II', self.pid, 7777)))
            elif tok == 'Z':
                self.send(msg('Z', self.tx.encode()))
            elif tok.startswith('Z:'):
                self.send(msg('Z', tok[2:].encode()))
            elif tok[0] == 'T' and tok[1:].isdigit():
                self.send(rowdesc(int(tok[1:])))
            elif tok.startswith('D:'):
                self.send(datarow(tok[2:].split(',') if tok[2:] else []))
            elif tok.startswith('D+:'):
                self.send(datarow(tok[3:].split(','), b'\x01\x02\x03\x04'))
            elif tok.startswith('Dlen:'):
                n = int(tok[5:])
                self.send(b'D' + struct.pack('!IHI', 4 + 2 + 4, 1, n))
            elif tok == 'C':
                self.send(msg('C', cstr('SELECT 1')))
            elif tok.startswith('C:'):
                self.send(msg('C', cstr(tok[2:].replace('_', ' '))))
            elif tok == 'E':
                self.send(msg('E', DEFAULT_BODY['E']))
            elif tok == 'FATAL':
                self.send(msg('E', fields('FATAL', '57P01', 'fake fatal')))
                self.flush()
                raise Closed('closed')
            elif tok == 'N':
                self.send(msg('N', DEFAULT_BODY['N']))
            elif tok == 'A':
                self.send(msg('A', DEFAULT_BODY['A']))
            elif tok[0] == 'A' and tok[1:].isdigit():
                one = msg('A', struct.pack('!I', 4242) + cstr('c') + cstr('1234567'))
                self.send(one * int(tok[1:]))
            elif tok == 'N*':
                self.flood(lambda i: msg('N', fields('NOTICE', '00000', 'flood %d' % i)), True)
            elif tok == 'S*':
                self.flood(lambda i: msg('S', cstr('fake_%d' % i) + b'v' * 29000 + b'\0'))
            elif tok == 'A*':
                self.flood(lambda i: msg('A', struct.pack('!I', 4242) + cstr('c') + cstr('%07d' % (i % 10000000))), True)
            elif tok[0] == '@':
                t = tok[1]
                body = bytes.fromhex(tok[3:]) if tok[2:3] == ':' else DEFAULT_BODY.get(t, b'')
                self.send(msg(t, body))
            elif tok == 'stall':
                self.send(b'D' + struct.pack('!I', 100))
                self.until_gone()
                raise Closed('eof')
            elif tok == 'hang':
                self.until_gone()
                raise Closed('eof')
            elif tok == 'close':
                raise Closed('closed')
            elif tok.startswith('sleep:'):
                time.sleep(int(tok[6:]) / 1000)
            elif tok == 'waitcancel':
                CANCELS[self.pid].wait(10)
            elif tok == 'waitmsg':
                t, body = self.read_msg()
                log('msg %d %s' % (self.pid, t))
            else:
                raise ValueError('fakepg: unknown token %r' % tok)

    def answer(self, q):
        if 's:' in q:
            script = q[q.index('s:') + 2:]
        else:
            script = 'T1 D:fake C Z'
        w = q.split()
        u = [x.upper() for x in w]
        if u[:1] == ['BEGIN'] or u[:2] == ['START', 'TRANSACTION']:
            self.tx = 'T'
            script = 'C:BEGIN Z'
        elif u[:1] in (['COMMIT'], ['ROLLBACK'], ['END']):
            self.tx = 'I'
            script = 'C:%s Z' % u[0]
        elif u[:1] == ['CLOSE']:
            script = 'C:CLOSE_CURSOR Z'
        elif u[:1] == ['DECLARE'] and len(w) > 1:
            self.cursors[w[1]] = script
            script = 'C:DECLARE_CURSOR Z'
        elif u[:1] == ['FETCH'] and w[-1] in self.cursors:
            script = self.cursors[w[-1]]
        self.run(script)

    def serve(self):
        how = 'eof'
        try:
            while True:
                n = struct.unpack('!I', recvn(self.c, 4))[0]
                body = recvn(self.c, n - 4)
                code = struct.unpack('!I', body[:4])[0]
                if code in (80877103, 80877104):  # SSL, GSS
                    self.send(b'N')
                    continue
                if code == 80877102:
                    pid, key = struct.unpack('!II', body[4:12])
                    log('cancel %d %d' % (pid, key))
                    ev = CANCELS.get(pid)
                    if ev:
                        ev.set()
                    return
                break
            kv = body[4:].split(b'\0')
            params = dict(zip(kv[0::2], kv[1::2]))
            db = params.get(b'database', b'').decode()
            log('startup %d %s' % (self.pid, db))
            self.run(db[2:] if db.startswith('s:') else 'auth params key Z')
            while True:
                t, body = self.read_msg()
                if t == 'X':
                    how = 'X'
                    return
                if t != 'Q':
                    log('msg %d %s' % (self.pid, t))
                    continue
                q = body.rstrip(b'\0').decode()
                log('query %d %s' % (self.pid, q))
                self.answer(q)
        except Closed as e:
            how = str(e)
        except OSError:
            how = 'oserror'
        finally:
            log('end %d %s' % (self.pid, how))
            try:
                self.c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.c.close()


def main():
    global EVENTLOG
    portfile, EVENTLOG = sys.argv[1], sys.argv[2]
    life = float(sys.argv[3]) if len(sys.argv) > 3 else 300
    open(EVENTLOG, 'a').close()
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(64)
    s.settimeout(0.5)
    with open(portfile + '.tmp', 'w') as f:
        f.write('%d\n' % s.getsockname()[1])
    os.rename(portfile + '.tmp', portfile)
    parent, t0 = os.getppid(), time.time()
    while os.getppid() == parent and time.time() - t0 < life:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=Session(c).serve, daemon=True).start()


if __name__ == '__main__':
    main()
