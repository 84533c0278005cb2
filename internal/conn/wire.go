package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/pgerr"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// wire is the simple-query protocol on a connection pgconn made and handed
// over (PgConn.Hijack): framing, the asynchronous messages, and one query
// at a time as a state machine (Run) that either a goroutine drives with
// blocking reads or the backend's thread drives in non-blocking steps.
// Only the holder of the connection (Conn.sem) touches it.
type wire struct {
	pg     *pgconn.PgConn // hijacked; kept for CancelRequest only
	nc     net.Conn       // what pgconn talked through: a *sock or a TLS conn over one
	sk     *sock
	in     []byte  // received bytes; in[r:] not yet parsed
	big    *bigBuf // in's memory while a big message needs it, else nil
	r      int
	params map[string]string
	// tx: the transaction status of the last ReadyForQuery (atomic: also
	// read, for dblink_connections, while another goroutine holds the wire)
	tx      atomic.Uint32
	queries atomic.Int64 // Query messages sent
	// notify queues a notification for the backend
	notify func(Notification)
	// notice handles a NoticeResponse (see notices.go)
	notice func(*pgconn.Notice)
	id     uint64 // tells this socket from a later one with the same fd
	// limited: the backend's thread drives the wire, so a call parses at
	// most workPerCall bytes of messages (spent) before it returns and
	// lets the shim serve interrupts; yield says that happened
	limited bool
	spent   int
	yield   bool
	// decoded messages and the encoded output, reused from call to call
	// (the decoded ones emptied after each message, see reusable)
	rd   pgproto3.RowDescription
	dr   pgproto3.DataRow
	wbuf []byte
}

// workPerCall bounds what one call from the backend's thread parses: a
// server that sends notices, notifications or dropped rows without end
// cannot keep the backend in Go, where its signals wait. Each message
// counts its size plus msgCost, so tiny messages are bounded too.
const (
	workPerCall = 1 << 20
	msgCost     = 64
)

// budget starts a call's work on the backend's thread.
func (w *wire) budget() { w.limited, w.spent, w.yield = true, 0, false }

// unlimited ends the call's bound (goroutines block, and need none);
// yield stays for the caller to read.
func (w *wire) unlimited() { w.limited = false }

// wireIDs numbers wires.
var wireIDs atomic.Uint64

// maxMessageLen bounds a message's length word, as pgproto3 does: a hostile
// server cannot make us allocate more.
const maxMessageLen = 1 << 30

// messageLimit is the longest message of type typ taken, by libpq's rule:
// only the types that can be long (rows, copy data, errors, notices,
// notifications, row descriptions) may exceed 30000 bytes. Rows and copy
// data go up to maxMessageLen; the others, which are decoded into Go
// strings, up to 16 MB, which no server sends: a longer one would ask the
// Go heap for memory the remote chooses (see bigBuf).
func messageLimit(typ byte) int {
	switch typ {
	case 'D', 'd':
		return maxMessageLen
	case 'E', 'N', 'A', 'T':
		return 16 << 20
	}
	return 30000
}

// maxParams bounds the ParameterStatus settings kept per connection.
const maxParams = 1000

// readChunk is the input buffer's size for messages shorter than it; a
// read is made when at least a quarter of it is free.
const readChunk = 64 << 10

func newWire(pg *pgconn.PgConn, notify func(Notification), notice func(*pgconn.Notice)) (*wire, error) {
	hc, err := pg.Hijack()
	if err != nil {
		return nil, err
	}
	w := &wire{pg: pg, nc: hc.Conn, params: hc.ParameterStatuses, notify: notify, notice: notice, id: wireIDs.Add(1)}
	w.tx.Store(uint32(hc.TxStatus))
	nc := hc.Conn
	if _, plain := nc.(*sock); !plain {
		if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
			nc = u.NetConn() // a TLS connection's socket
		}
	}
	w.sk, _ = nc.(*sock)
	if w.sk == nil {
		// not dialed through Open's wrapper (tests): stay blocking
		w.sk = &sock{Conn: nc, fd: -1}
	}
	w.sk.detach()
	if w.params == nil {
		w.params = map[string]string{}
	}
	return w, nil
}

// fd is the socket the backend waits on, or -1.
func (w *wire) fd() int {
	if w.sk.fd < 0 || w.sk.isShut() {
		return -1 // a closed socket's number may be another file's now
	}
	return w.sk.fd
}

// message takes the next complete message off the input, or reports that
// more input is needed (ok false).
func (w *wire) message() (typ byte, body []byte, ok bool, err error) {
	b := w.in[w.r:]
	end, bad := frame(b)
	if end == 0 && !bad {
		return 0, nil, false, nil
	}
	if w.limited && w.spent >= workPerCall {
		w.yield = true
		return 0, nil, false, nil
	}
	if bad {
		return 0, nil, false, syncLost(b, "")
	}
	if len(b) < end {
		return 0, nil, false, nil
	}
	w.r += end
	w.spent += end + msgCost
	return b[0], b[5:end:end], true, nil
}

// frame is the length of the message that begins b (its type byte and
// length word included), or 0 while its 5-byte header has not all arrived;
// bad when its length word is out of bounds for its type.
func frame(b []byte) (end int, bad bool) {
	if len(b) < 5 {
		return 0, false
	}
	n := binary.BigEndian.Uint32(b[1:5])
	if n < 4 || n > uint32(messageLimit(b[0])) {
		return 0, true
	}
	return 1 + int(n), false
}

// compact moves the input not yet parsed to the front of its buffer, and
// gives the buffer back once a big message has gone through it.
func (w *wire) compact() {
	if w.r == 0 {
		return
	}
	n := copy(w.in, w.in[w.r:])
	w.in, w.r = w.in[:n], 0
	if n == 0 && cap(w.in) > 4*readChunk {
		w.in = nil
		if w.big != nil {
			w.big.release()
		}
	}
}

// fill reads once, appending to the input; a non-blocking socket gives
// errWouldBlock when nothing has arrived.
func (w *wire) fill() error {
	w.compact()
	need := readChunk / 4 // the least free space worth a read
	// room for the whole of a long message at once
	if end, bad := frame(w.in); !bad && end-len(w.in) > need {
		need = end - len(w.in)
	}
	if cap(w.in)-len(w.in) < need {
		if err := w.grow(len(w.in) + max(need, readChunk)); err != nil {
			return err
		}
	}
	n, err := w.nc.Read(w.in[len(w.in):cap(w.in)])
	w.in = w.in[:len(w.in)+n]
	if n > 0 {
		return nil
	}
	return err
}

// grow gives the input room for n bytes: from the Go heap while small,
// else mapped (see bigBuf), where a refusal is libpq's lost
// synchronization: the connection cannot go on.
func (w *wire) grow(n int) error {
	if n < bigSize {
		grown := make([]byte, len(w.in), n)
		copy(grown, w.in)
		w.in = grown
		return nil
	}
	if w.big == nil {
		w.big = newBigBuf(w)
	}
	grown, err := w.big.grow(w.in, n)
	if err != nil {
		return syncLost(w.in, "cannot allocate memory for input buffer\n")
	}
	w.in = grown
	return nil
}

// recv returns the next message of a response; ParameterStatus,
// NoticeResponse and NotificationResponse are handled on the way, as they
// may come at any time.
func (w *wire) recv() (typ byte, body []byte, ok bool, err error) {
	for {
		typ, body, ok, err = w.message()
		if !ok || err != nil {
			return
		}
		switch typ {
		case 'S':
			var m pgproto3.ParameterStatus
			// a server reports a few dozen settings; a hostile one
			// cannot make the map grow without bound
			if m.Decode(body) == nil && (len(w.params) < maxParams || w.params[m.Name] != "") {
				w.params[m.Name] = m.Value
			}
		case 'N':
			var m pgproto3.NoticeResponse
			if m.Decode(body) == nil {
				w.handleNotice((*pgconn.Notice)(pgconn.ErrorResponseToPgError((*pgproto3.ErrorResponse)(&m))))
			}
		case 'A':
			var m pgproto3.NotificationResponse
			if m.Decode(body) == nil && w.notify != nil {
				w.notify(Notification{Channel: m.Channel, PID: m.PID, Payload: m.Payload})
			}
		default:
			return
		}
	}
}

// consumeInput reads what has arrived without waiting, as PQconsumeInput:
// notifications and parameter changes are taken; a FATAL error, a message
// that answers no query or a broken socket closes the connection
// (reported by closed true). It parses at most workPerCall; more reports
// that input may be left for another call.
func (w *wire) consumeInput() (closed, more bool) {
	if w.sk.fd < 0 {
		return false, false
	}
	w.sk.setNonblock(true)
	defer w.sk.setNonblock(false)
	return w.readIdle()
}

// readIdle is consumeInput's loop: parse, then read, until nothing more
// has arrived or the call's work is done.
func (w *wire) readIdle() (closed, more bool) {
	w.budget()
	defer w.unlimited()
	for {
		if err := w.idle(); err != nil {
			return true, false
		}
		if w.yield {
			return false, true
		}
		if err := w.fill(); err != nil {
			return !errors.Is(err, errWouldBlock), false
		}
	}
}

// idle takes the complete messages that arrived while no query is
// outstanding. A server may send only asynchronous messages then, and an
// error before it closes the connection (FATAL, which ends it here; any
// other is logged as libpq's notice processor would); anything else is a
// violation, and the connection cannot go on.
func (w *wire) idle() error {
	for {
		typ, body, ok, err := w.recv()
		if err != nil || !ok {
			return err
		}
		if typ != 'E' {
			return protocolViolation("message type 0x%02x arrived from server while idle", typ)
		}
		var m pgproto3.ErrorResponse
		if m.Decode(body) != nil || m.Severity == "FATAL" {
			return pgerr.LostConnection
		}
		w.handleNotice((*pgconn.Notice)(pgconn.ErrorResponseToPgError(&m)))
	}
}

// handleNotice passes a notice on, or logs it.
func (w *wire) handleNotice(n *pgconn.Notice) {
	if w.notice != nil {
		w.notice(n)
	} else {
		logNotice(nil, n)
	}
}

// send writes a frontend message.
func (w *wire) send(msg pgproto3.FrontendMessage) error {
	buf, err := msg.Encode(w.wbuf[:0])
	if err != nil {
		return err
	}
	return w.write(buf)
}

// sendQueries sends a Query message, and a second one in the same write
// unless then is "", without allocating on the way.
func (w *wire) sendQueries(sql, then string) error {
	m := pgproto3.Query{String: sql}
	buf, err := m.Encode(w.wbuf[:0])
	if err == nil && then != "" {
		m.String = then
		buf, err = m.Encode(buf)
	}
	if err != nil {
		return err
	}
	return w.write(buf)
}

// write writes buf, which send and sendQueries encoded into w.wbuf, and
// keeps its memory for the next send.
func (w *wire) write(buf []byte) error {
	_, err := w.nc.Write(buf) // copies what it does not write at once
	if cap(buf) <= maxKeptOutput {
		w.wbuf = buf[:0]
	}
	return err
}

// reusable returns s emptied for the next message's decode. Its elements
// are cleared, so nothing kept points into the input, which a later read
// reuses, or unmaps when it held a big message. It is nil when longer than
// the columns PostgreSQL allows a row (1,664): only a server that lies
// asks for more, and that memory is not kept.
func reusable[T any](s []T) []T {
	if cap(s) > maxColumns {
		return nil
	}
	clear(s)
	return s[:0]
}

// maxColumns is PostgreSQL's MaxTupleAttributeNumber.
const maxColumns = 1664

// maxKeptOutput bounds the output buffer a wire keeps between calls: a
// long query string's is let go.
const maxKeptOutput = 64 << 10

// terminate sends Terminate (within a short deadline) and closes.
func (w *wire) terminate(deadline time.Time) {
	w.sk.setNonblock(false)
	_ = w.nc.SetDeadline(deadline)
	if w.sk.flushBlocking() == nil {
		_ = w.send(&pgproto3.Terminate{})
	}
	w.nc.Close()
}

// terminateNow sends Terminate if the socket takes it at once, and
// closes: the backend's thread never waits on a remote to close. The
// socket stays non-blocking through the close, so a TLS close_notify that
// the socket does not take is dropped rather than waited for.
func (w *wire) terminateNow() {
	w.sk.setNonblock(true)
	if w.sk.flush() == nil {
		_ = w.send(&pgproto3.Terminate{})
	}
	w.nc.Close()
}

// styles are the remote's styles as last reported.
func (w *wire) styles() Styles {
	return Styles{DateStyle: w.params["DateStyle"], IntervalStyle: w.params["IntervalStyle"]}
}

// watch makes ctx's end cancel the running query as pgconn does: a cancel
// request right away, and the socket given up config.CancelDeadlineDelay later.
// The returned function stops watching and reports whether ctx fired; it
// returns only once the cancel request is over, as postgres_fdw waits for
// its cancel: a request still on its way could cancel the connection's
// next statement instead.
func (w *wire) watch(ctx context.Context) func() bool {
	if ctx.Done() == nil {
		return func() bool { return false }
	}
	var mu sync.Mutex
	ended, fired := false, false
	var sent <-chan struct{}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if ended {
			return
		}
		fired = true
		sent = w.cancelSoon()
		_ = w.sk.SetDeadline(time.Now().Add(config.CancelDeadlineDelay))
	})
	return func() bool {
		stop()
		mu.Lock()
		defer mu.Unlock()
		ended = true
		if fired {
			_ = w.sk.SetDeadline(time.Time{})
			<-sent
		}
		return fired
	}
}

// cancelTimeoutBound bounds a cancel request sent in the background.
const cancelTimeoutBound = 10 * time.Second

// cancelSoon sends a cancel request on a goroutine; the channel closes
// when it is over. A server that sent no BackendKeyData gets none: there
// is nothing to name the session by.
func (w *wire) cancelSoon() <-chan struct{} {
	done := make(chan struct{})
	if !w.cancellable() {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		ctx, cancel := context.WithTimeout(context.Background(), cancelTimeoutBound)
		defer cancel()
		_ = w.pg.CancelRequest(ctx)
	}()
	return done
}

// cancellable reports whether the server gave a key to cancel with.
func (w *wire) cancellable() bool { return w.pg.PID() != 0 || len(w.pg.SecretKey()) != 0 }
