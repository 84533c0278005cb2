package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

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
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = u.NetConn() // a TLS connection's socket
	}
	w.sk, _ = nc.(*sock)
	if w.sk == nil {
		w.sk = newSock(nc)
		if tc, ok := hc.Conn.(*sock); !ok || tc != w.sk {
			// not dialed through dialer.DialContext (tests): stay blocking
			w.sk.raw = nil
		}
	}
	if w.params == nil {
		w.params = map[string]string{}
	}
	return w, nil
}

// fd is the socket the backend waits on, or -1.
func (w *wire) fd() int {
	if w.sk.raw == nil {
		return -1
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
	if w.sk.raw == nil {
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
			return lostConnection
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
	buf, err := msg.Encode(nil)
	if err != nil {
		return err
	}
	_, err = w.nc.Write(buf)
	return err
}

// flushBlocking writes output a non-blocking step queued.
func (w *wire) flushBlocking() error {
	if len(w.sk.out) == 0 {
		return nil
	}
	n, err := w.sk.Conn.Write(w.sk.out)
	w.sk.sent.Add(int64(n))
	w.sk.out = w.sk.out[:0]
	return err
}

// terminate sends Terminate (within a short deadline) and closes.
func (w *wire) terminate(deadline time.Time) {
	w.sk.setNonblock(false)
	_ = w.nc.SetDeadline(deadline)
	if w.flushBlocking() == nil {
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
// request right away, and the socket given up cancelDeadlineDelay later.
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
		_ = w.sk.SetDeadline(time.Now().Add(cancelDeadlineDelay))
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

// EventKind says what a Run produced.
type EventKind int

const (
	// EvRows: Event.Batch holds rows; it is reused by the next step.
	EvRows EventKind = iota + 1
	// EvCommand: Event.Tag is the tag of command result Event.ResultNo.
	EvCommand
	// EvResultEnd: row result Event.ResultNo ended.
	EvResultEnd
	// EvDone: the query string ended (ReadyForQuery, or the connection
	// broke); see Run.Result.
	EvDone
)

// Event is one step of a query's stream.
type Event struct {
	Kind     EventKind
	ResultNo int
	Tag      string
	Batch    *Batch
}

// Run is one simple Query on a wire, from sending to ReadyForQuery.
type Run struct {
	w         *wire
	sql       string
	mode      Mode
	sent      bool
	stopped   bool // nothing more is emitted (the receiver went away)
	state     runState
	ncols     int // columns of the current row result
	resultNo  int
	announced bool // rows of the current result went out already
	b         *Batch
	reuse     bool // b was handed out: reset before adding
	queued    []Event
	dr        pgproto3.DataRow
	out       Outcome
	err       error
	finished  bool
	broken    bool // the connection is unusable
}

// runState is where a response stands in the simple-query protocol; a
// message that its state does not allow ends the connection (see
// violation). Asynchronous messages (ParameterStatus, NoticeResponse,
// NotificationResponse) may come in any state and never reach it.
type runState uint8

const (
	stFirst   runState = iota // nothing of the response yet
	stBetween                 // between results
	stRows                    // after a RowDescription: rows, then their end
	stCopyOut                 // COPY TO STDOUT: its data is read and dropped
	stCopyIn                  // COPY FROM STDIN refused: its error comes next
	stErrored                 // after an ErrorResponse: ReadyForQuery only
)

func (w *wire) newRun(sql string, mode Mode) *Run {
	return &Run{w: w, sql: sql, mode: mode}
}

// collecting reports whether rows go out.
func (q *Run) collecting() bool { return q.mode == ModeRows && !q.stopped }

// stopRows ends the response's rows with err, as a server error in the
// middle of a result does: contrib returns the rows that arrived before it
// (with fail_on_error = false), so they are handed over too, and the rest
// of the response is read and dropped.
func (q *Run) stopRows(err error) {
	if q.state == stRows && q.collecting() && q.b != nil && q.b.NRows > 0 {
		q.emit(Event{Kind: EvRows, ResultNo: q.resultNo, Batch: q.b})
	}
	q.stopped = true
	if q.err == nil {
		q.err = err
	}
}

// Stop makes the run emit nothing more but read on to its end.
func (q *Run) Stop() { q.stopped = true; q.queued = nil }

// fail ends the run on a broken connection.
func (q *Run) fail(err error) {
	if q.err == nil || !q.broken {
		q.err = err
	}
	q.broken, q.finished = true, true
	q.queued = nil
	q.w.nc.Close()
}

// violation ends the run on a message its state does not allow, or one
// whose contents disagree with its length, in libpq's words where it has
// them. The connection is given up: an answer out of step would otherwise
// be taken by a later query for its own.
func (q *Run) violation(format string, args ...any) {
	q.fail(protocolViolation(format, args...))
}

// Result is how the run ended, once it emitted EvDone.
func (q *Run) Result() (Outcome, error) { return q.out, q.err }

// Broken reports whether the connection broke during the run.
func (q *Run) Broken() bool { return q.broken }

// sendQuery queues (non-blocking mode) or writes the Query message.
func (q *Run) sendQuery() {
	if q.sent {
		return
	}
	q.sent = true
	q.w.queries.Add(1)
	if err := q.w.send(&pgproto3.Query{String: q.sql}); err != nil {
		q.fail(lostConnection)
	}
}

// step parses input into the next event; ok false when more input is
// needed, or when the call's work is done (w.yield).
func (q *Run) step() (ev Event, ok bool) {
	if q.reuse {
		q.b.reset()
		q.reuse = false
	}
	for {
		if len(q.queued) > 0 {
			ev = q.queued[0]
			q.queued = q.queued[1:]
			if ev.Kind == EvRows {
				q.reuse = true
			}
			return ev, true
		}
		if q.finished {
			if q.b != nil {
				q.b.dropBig() // its rows went out before
			}
			return Event{Kind: EvDone}, true
		}
		typ, body, have, err := q.w.recv()
		if err != nil {
			q.fail(lost(err))
			continue
		}
		if !have {
			return Event{}, false
		}
		q.handle(typ, body)
	}
}

func (q *Run) emit(ev Event) {
	if !q.stopped {
		q.queued = append(q.queued, ev)
	}
}

// handle applies one message of the response, in the state it is in.
func (q *Run) handle(typ byte, body []byte) {
	st := q.state
	between := st == stFirst || st == stBetween
	switch {
	case typ == 'E':
		q.errorResponse(body)
	case typ == 'D' && st == stRows:
		q.dataRow(body)
	case typ == 'D' && between:
		q.violation(`server sent data ("D" message) without prior row description ("T" message)`)
	case typ == 'T' && between:
		q.rowDescription(body)
	case typ == 'C' && (between || st == stRows || st == stCopyOut):
		q.commandComplete(body)
	case typ == 'I' && between:
		if len(body) != 0 {
			q.violation(`message contents do not agree with length in message type "I"`)
			return
		}
		// contrib reports a remote error without a message
		if q.err == nil {
			q.err = &Error{SQLState: "08006", Remote: true}
		}
		q.out = Outcome{}
		q.Stop()
		q.state = stBetween
	case typ == 'Z' && (st == stBetween || st == stErrored):
		q.readyForQuery(body)
	case typ == 'Z' && st == stFirst:
		q.violation(`server sent ReadyForQuery ("Z" message) before any response to the query`)
	case typ == 'G' && between: // CopyInResponse: there is no data to send
		q.state = stCopyIn
		_ = q.w.send(&pgproto3.CopyFail{Message: "COPY FROM STDIN is not supported by dblink"})
	case typ == 'H' && between: // CopyOutResponse: read and drop its data
		q.state = stCopyOut
		q.stopRows(errCopyOut)
	case (typ == 'd' || typ == 'c') && st == stCopyOut:
	default:
		q.violation(`unexpected response from server; first received character was "%c"`, typ)
	}
}

// errorResponse ends the statement with the server's error; only
// ReadyForQuery may follow, or after a FATAL error nothing.
func (q *Run) errorResponse(body []byte) {
	var m pgproto3.ErrorResponse
	if m.Decode(body) != nil {
		q.fail(lostConnection)
		return
	}
	if m.Severity == "FATAL" {
		// the server closes the connection after a FATAL error
		q.stopRows(newServerError(&m, body))
		q.broken, q.finished = true, true
		q.w.nc.Close()
		return
	}
	if q.state == stErrored {
		q.violation(`unexpected response from server; first received character was "E"`)
		return
	}
	q.stopRows(newServerError(&m, body))
	q.state = stErrored
}

// rowDescription begins a row result.
func (q *Run) rowDescription(body []byte) {
	var m pgproto3.RowDescription
	if m.Decode(body) != nil {
		q.fail(lostConnection)
		return
	}
	used := 2
	for _, f := range m.Fields {
		used += len(f.Name) + 1 + 18
	}
	if used != len(body) {
		q.violation(`message contents do not agree with length in message type "T"`)
		return
	}
	q.state, q.ncols = stRows, len(m.Fields)
	q.resultNo++
	q.out = Outcome{HadRows: true}
	if q.collecting() {
		q.b = &Batch{ResultNo: q.resultNo, NCols: q.ncols, Styles: q.w.styles()}
		q.announced = false
	}
}

// dataRow adds a row of the current result: exactly as many values as
// the RowDescription announced (the shim reads the batch by that count),
// and nothing after them.
func (q *Run) dataRow(body []byte) {
	if len(body) < 2 || int(binary.BigEndian.Uint16(body)) != q.ncols {
		q.violation(`unexpected field count in "D" message`)
		return
	}
	if !q.collecting() || q.b == nil {
		return
	}
	if q.dr.Decode(body) != nil {
		q.fail(lostConnection)
		return
	}
	used := 2
	for _, v := range q.dr.Values {
		used += 4 + len(v)
	}
	if used != len(body) {
		q.violation(`message contents do not agree with length in message type "D"`)
		return
	}
	if !q.b.add(q.dr.Values) {
		q.stopRows(errResultMemory)
		return
	}
	if q.b.full() {
		q.announced = true
		q.emit(Event{Kind: EvRows, ResultNo: q.resultNo, Batch: q.b})
	}
}

// commandComplete ends a row result, a COPY TO STDOUT, or is a command's
// result of its own.
func (q *Run) commandComplete(body []byte) {
	if len(body) == 0 || body[len(body)-1] != 0 {
		q.violation(`message contents do not agree with length in message type "C"`)
		return
	}
	tag := string(body[:len(body)-1])
	st := q.state
	q.state = stBetween
	switch st {
	case stRows:
		q.out.Tag = tag
		if q.collecting() && q.b != nil {
			if q.b.NRows > 0 || !q.announced {
				q.emit(Event{Kind: EvRows, ResultNo: q.resultNo, Batch: q.b})
			}
			q.emit(Event{Kind: EvResultEnd, ResultNo: q.resultNo})
		}
	case stCopyOut:
		q.resultNo++
		q.out = Outcome{Tag: tag}
	default:
		q.resultNo++
		q.out = Outcome{Tag: tag}
		if q.collecting() {
			q.emit(Event{Kind: EvCommand, ResultNo: q.resultNo, Tag: tag})
		}
	}
}

// readyForQuery ends the response. What came with it must be messages a
// server may send while idle: anything else is an answer to no query.
func (q *Run) readyForQuery(body []byte) {
	if len(body) != 1 || (body[0] != 'I' && body[0] != 'T' && body[0] != 'E') {
		q.violation(`server sent an invalid ReadyForQuery ("Z" message)`)
		return
	}
	q.w.tx.Store(uint32(body[0]))
	q.out.Styles = q.w.styles()
	q.finished = true
	if err := q.w.idle(); err != nil {
		q.fail(err)
	}
}

// runBlocking drives q to its end with blocking reads (on a goroutine);
// ctx's end cancels the remote query. Events go to on; on returning false
// stops the stream (the rest is read and dropped).
func (q *Run) runBlocking(ctx context.Context, on func(Event) bool) {
	w := q.w
	w.sk.setNonblock(false)
	fired := w.watch(ctx)
	if err := w.flushBlocking(); err != nil {
		q.fail(lostConnection)
	}
	q.sendQuery()
	for {
		ev, ok := q.step()
		if !ok {
			if err := w.fill(); err != nil {
				q.fail(lost(err))
			}
			continue
		}
		if ev.Kind == EvDone {
			break
		}
		if !on(ev) {
			q.Stop()
		}
	}
	if fired() && q.broken && ctx.Err() != nil {
		// given up after the cancel: report the cancel, as pgconn does
		q.err = ctx.Err()
	}
}

// Poll advances q on the backend's thread without blocking: it sends what
// it can, parses what has arrived and returns the next event, or ok false
// when it must wait for the socket (writable too when write is true), or
// when it parsed a call's worth of messages (Yielded), after which the
// caller must return to the shim before it polls again.
func (q *Run) Poll() (ev Event, ok bool, write bool) {
	w := q.w
	w.sk.setNonblock(true)
	w.budget()
	defer w.unlimited()
	if !q.sent {
		q.sendQuery()
	}
	for {
		if err := w.sk.flush(); err != nil && !errors.Is(err, errWouldBlock) {
			q.fail(lostConnection)
		}
		if ev, ok := q.step(); ok {
			return ev, true, false
		}
		if w.yield {
			return Event{}, false, false
		}
		// try a read before any wait: TLS may hold decrypted bytes
		if err := w.fill(); err != nil {
			if errors.Is(err, errWouldBlock) {
				return Event{}, false, len(w.sk.out) > 0
			}
			q.fail(lost(err))
		}
	}
}

// SkimNotifications reads what has arrived (into the room the input
// buffer has, without waiting) and takes the notifications out of the
// complete messages q has not parsed yet, leaving the rest in place: as
// libpq parses all that has arrived while a result waits to be fetched,
// dblink_get_notify returns a notification that came behind a pending
// result. Bounded like a poll.
func (q *Run) SkimNotifications() {
	w := q.w
	if q.finished {
		return
	}
	nonblock := w.sk.nonblock.Load()
	w.sk.setNonblock(true)
	defer w.sk.setNonblock(nonblock)
	w.compact()
	if cap(w.in) < readChunk {
		_ = w.grow(readChunk) // small: from the Go heap, never refused
	}
	if free := w.in[len(w.in):cap(w.in)]; len(free) > 0 {
		if n, _ := w.nc.Read(free); n > 0 {
			w.in = w.in[:len(w.in)+n]
		}
	}
	for pos, spent := 0, 0; spent < workPerCall; {
		b := w.in[pos:]
		end, bad := frame(b)
		if end == 0 || bad || len(b) < end {
			return // the run reports a bad length when it gets there
		}
		spent += end + msgCost
		if b[0] != 'A' {
			pos += end
			continue
		}
		var m pgproto3.NotificationResponse
		if m.Decode(b[5:end]) == nil && w.notify != nil {
			w.notify(Notification{Channel: m.Channel, PID: m.PID, Payload: m.Payload})
		}
		w.in = append(w.in[:pos], w.in[pos+end:]...)
	}
}

// Yielded reports whether the last Poll returned because it had done a
// call's worth of work: the shim should poll again at once, after it has
// served interrupts, without waiting on the socket.
func (q *Run) Yielded() bool { return q.w.yield }

// Send sends the query without blocking (what the socket does not take is
// flushed by Poll), so that the remote works while the caller does other
// things; Poll would send it otherwise. It reports whether all of it went
// out.
func (q *Run) Send() bool {
	q.w.sk.setNonblock(true)
	q.sendQuery()
	return !q.finished && q.w.sk.flush() == nil
}
