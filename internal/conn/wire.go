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
}

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
	if len(b) < 5 {
		return 0, nil, false, nil
	}
	n := binary.BigEndian.Uint32(b[1:5])
	if n < 4 || n > uint32(messageLimit(b[0])) {
		return 0, nil, false, syncLost(b, "")
	}
	end := 1 + int(n)
	if len(b) < end {
		return 0, nil, false, nil
	}
	w.r += end
	return b[0], b[5:end:end], true, nil
}

// fill reads once, appending to the input; a non-blocking socket gives
// errWouldBlock when nothing has arrived.
func (w *wire) fill() error {
	if w.r > 0 {
		n := copy(w.in, w.in[w.r:])
		w.in, w.r = w.in[:n], 0
		if n == 0 && cap(w.in) > 4*readChunk {
			// a big message went through: give its buffer back
			w.in = nil
			if w.big != nil {
				w.big.release()
			}
		}
	}
	need := readChunk / 4 // the least free space worth a read
	if len(w.in) >= 5 {
		// room for the whole of a long message at once
		if n := 1 + int(binary.BigEndian.Uint32(w.in[1:5])); n <= messageLimit(w.in[0])+1 && n-len(w.in) > need {
			need = n - len(w.in)
		}
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
				e := pgconn.ErrorResponseToPgError((*pgproto3.ErrorResponse)(&m))
				if w.notice != nil {
					w.notice((*pgconn.Notice)(e))
				} else {
					logNotice(nil, (*pgconn.Notice)(e))
				}
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
// notifications and parameter changes are taken; a FATAL error or a
// broken socket closes the connection (reported by closed true).
func (w *wire) consumeInput() (closed bool) {
	if w.sk.raw == nil {
		return false
	}
	w.sk.setNonblock(true)
	defer w.sk.setNonblock(false)
	for {
		for {
			typ, body, ok, err := w.recv()
			if err != nil {
				return true
			}
			if !ok {
				break
			}
			if typ == 'E' {
				var m pgproto3.ErrorResponse
				if m.Decode(body) == nil && m.Severity == "FATAL" {
					return true
				}
			}
		}
		if err := w.fill(); err != nil {
			return !errors.Is(err, errWouldBlock)
		}
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

// styles are the remote's styles as last reported.
func (w *wire) styles() Styles {
	return Styles{DateStyle: w.params["DateStyle"], IntervalStyle: w.params["IntervalStyle"]}
}

// watch makes ctx's end cancel the running query as pgconn does: a cancel
// request right away, and the socket given up cancelDeadlineDelay later.
// The returned function stops watching and reports whether ctx fired.
func (w *wire) watch(ctx context.Context) func() bool {
	if ctx.Done() == nil {
		return func() bool { return false }
	}
	var mu sync.Mutex
	ended, fired := false, false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if ended {
			return
		}
		fired = true
		w.cancelSoon()
		_ = w.sk.SetDeadline(time.Now().Add(cancelDeadlineDelay))
	})
	return func() bool {
		stop()
		mu.Lock()
		defer mu.Unlock()
		ended = true
		if fired {
			_ = w.sk.SetDeadline(time.Time{})
		}
		return fired
	}
}

// cancelTimeoutBound bounds a cancel request sent in the background.
const cancelTimeoutBound = 10 * time.Second

// cancelSoon sends a cancel request on a goroutine.
func (w *wire) cancelSoon() {
	go func() {
		defer func() { _ = recover() }()
		ctx, cancel := context.WithTimeout(context.Background(), cancelTimeoutBound)
		defer cancel()
		_ = w.pg.CancelRequest(ctx)
	}()
}

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
	resultNo  int
	inRows    bool
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
	if q.inRows && q.collecting() && q.b != nil && q.b.NRows > 0 {
		q.emit(Event{Kind: EvRows, ResultNo: q.resultNo, Batch: q.b})
	}
	q.inRows = false
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
// needed.
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

// handle applies one message of the response.
func (q *Run) handle(typ byte, body []byte) {
	switch typ {
	case 'T': // RowDescription
		var m pgproto3.RowDescription
		if m.Decode(body) != nil {
			q.fail(lostConnection)
			return
		}
		q.resultNo++
		q.out = Outcome{HadRows: true}
		q.inRows = true
		if q.collecting() {
			q.b = &Batch{ResultNo: q.resultNo, NCols: len(m.Fields), Styles: q.w.styles()}
			q.announced = false
		}
	case 'D': // DataRow
		if !q.inRows || !q.collecting() || q.b == nil {
			return
		}
		if q.dr.Decode(body) != nil {
			q.fail(lostConnection)
			return
		}
		if !q.b.add(q.dr.Values) {
			q.stopRows(errResultMemory)
			return
		}
		if len(q.b.Data) >= batchBytes || len(q.b.Offsets) >= batchValues {
			q.announced = true
			q.emit(Event{Kind: EvRows, ResultNo: q.resultNo, Batch: q.b})
		}
	case 'C': // CommandComplete
		var m pgproto3.CommandComplete
		if m.Decode(body) != nil {
			q.fail(lostConnection)
			return
		}
		tag := string(m.CommandTag)
		if q.inRows {
			q.inRows = false
			q.out.Tag = tag
			if q.collecting() && q.b != nil {
				if q.b.NRows > 0 || !q.announced {
					q.emit(Event{Kind: EvRows, ResultNo: q.resultNo, Batch: q.b})
				}
				q.emit(Event{Kind: EvResultEnd, ResultNo: q.resultNo})
			}
			return
		}
		q.resultNo++
		q.out = Outcome{Tag: tag}
		if q.collecting() {
			q.emit(Event{Kind: EvCommand, ResultNo: q.resultNo, Tag: tag})
		}
	case 'I': // EmptyQueryResponse: contrib reports a remote error without a message
		if q.err == nil {
			q.err = &Error{SQLState: "08006", Remote: true}
		}
		q.out = Outcome{}
		q.Stop()
	case 'E': // ErrorResponse
		var m pgproto3.ErrorResponse
		if m.Decode(body) != nil {
			q.fail(lostConnection)
			return
		}
		q.stopRows(newServerError(&m, body))
		if m.Severity == "FATAL" {
			// the server closes the connection after a FATAL error
			q.broken, q.finished = true, true
			q.w.nc.Close()
		}
	case 'Z': // ReadyForQuery
		var m pgproto3.ReadyForQuery
		if m.Decode(body) == nil {
			q.w.tx.Store(uint32(m.TxStatus))
		}
		q.out.Styles = q.w.styles()
		q.finished = true
	case 'G': // CopyInResponse: there is no data to send
		_ = q.w.send(&pgproto3.CopyFail{Message: "COPY FROM STDIN is not supported by dblink"})
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
// when it must wait for the socket (writable too when write is true).
func (q *Run) Poll() (ev Event, ok bool, write bool) {
	w := q.w
	w.sk.setNonblock(true)
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
		// try a read before any wait: TLS may hold decrypted bytes
		if err := w.fill(); err != nil {
			if errors.Is(err, errWouldBlock) {
				return Event{}, false, len(w.sk.out) > 0
			}
			q.fail(lost(err))
		}
	}
}

// Send sends the query without blocking (what the socket does not take is
// flushed by Poll), so that the remote works while the caller does other
// things; Poll would send it otherwise. It reports whether all of it went
// out.
func (q *Run) Send() bool {
	q.w.sk.setNonblock(true)
	q.sendQuery()
	return !q.finished && q.w.sk.flush() == nil
}
