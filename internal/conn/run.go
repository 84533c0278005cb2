package conn

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/dblink-go/dblink/internal/pgerr"
	"github.com/jackc/pgx/v5/pgproto3"
)

// This file is one simple Query on a wire as a state machine (Run): the
// protocol's states enforced message by message, driven either by a
// goroutine with blocking reads or by the backend's thread in
// non-blocking steps.

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
	// evbuf: queued's memory while few events wait (a call's usual
	// rows, command and end), so a run allocates no queue of its own
	evbuf    [4]Event
	out      Outcome
	err      error
	finished bool
	broken   bool // the connection is unusable
	// then: a query sent in the same write as this one (its Query message
	// right after this one's), whose answer follows this one's: input
	// after this one's ReadyForQuery is that answer, not an idle
	// connection's
	then *Run
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
	q := &Run{w: w, sql: sql, mode: mode}
	q.queued = q.evbuf[:0]
	return q
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
	q.w.queries.Add(1) // with a then, one query of the caller's
	then := ""
	if q.then != nil {
		q.then.sent = true
		then = q.then.sql
	}
	if err := q.w.sendQueries(q.sql, then); err != nil {
		q.fail(pgerr.LostConnection)
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
			if len(q.queued) == 0 {
				q.queued = q.evbuf[:0] // emptied: start at its front again
			}
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
			q.err = &pgerr.Error{SQLState: "08006", Remote: true}
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
		q.fail(pgerr.LostConnection)
		return
	}
	if m.Severity == "FATAL" {
		// the server closes the connection after a FATAL error
		q.stopRows(pgerr.FromServer(&m, body))
		q.broken, q.finished = true, true
		q.w.nc.Close()
		return
	}
	if q.state == stErrored {
		q.violation(`unexpected response from server; first received character was "E"`)
		return
	}
	q.stopRows(pgerr.FromServer(&m, body))
	q.state = stErrored
}

// rowDescription begins a row result.
func (q *Run) rowDescription(body []byte) {
	m := &q.w.rd
	defer func() { m.Fields = reusable(m.Fields) }()
	if m.Decode(body) != nil {
		q.fail(pgerr.LostConnection)
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
	dr := &q.w.dr
	defer func() { dr.Values = reusable(dr.Values) }()
	if dr.Decode(body) != nil {
		q.fail(pgerr.LostConnection)
		return
	}
	used := 2
	for _, v := range dr.Values {
		used += 4 + len(v)
	}
	if used != len(body) {
		q.violation(`message contents do not agree with length in message type "D"`)
		return
	}
	if !q.b.add(dr.Values) {
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
	if q.then != nil {
		return
	}
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
	if err := w.sk.flushBlocking(); err != nil {
		q.fail(pgerr.LostConnection)
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
			q.fail(pgerr.LostConnection)
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
