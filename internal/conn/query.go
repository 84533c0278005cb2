package conn

import (
	"context"

	"github.com/dblink-go/dblink/internal/pgerr"
)

// Mode says how Query treats the results of a query string.
type Mode int

const (
	// ModeRows streams the rows of every result (dblink()).
	ModeRows Mode = iota
	// ModeExec keeps only the last result's command tag (dblink_exec()).
	ModeExec
)

// Batch is a run of rows of one result in text format, packed for a single
// copy across the cgo boundary: value (r, c) is the NUL-terminated bytes at
// Data[Offsets[r*NCols+c]:], or SQL NULL when that offset is -1.
type Batch struct {
	ResultNo int // which result of the query string, from 1
	NCols    int
	NRows    int
	Offsets  []int32
	Data     []byte
	Styles   Styles  // the remote's styles as reported when the result began
	big      *bigBuf // Data's memory while a big value needs it, else nil
}

// Sink receives what a query streams. Each method returns false when the
// receiver has gone away; Query then stops (its ctx is cancelled too).
//
// Rows must not keep b after it returns: Query reuses its buffers for the
// next batch, so a big result makes no garbage.
type Sink interface {
	Rows(b *Batch) bool
	Command(resultNo int, tag string) bool
	// ResultEnd follows the last Rows of each row result.
	ResultEnd(resultNo int) bool
}

// Outcome is how a query string ended.
type Outcome struct {
	Tag     string // the last result's command tag
	HadRows bool   // the last result was a row result
	// Styles are the remote's DateStyle and IntervalStyle once the query
	// string ended. A server of version 14 or later reports a change only
	// then (before ReadyForQuery), so these, not those of Batch, are the
	// styles of a later result of a multi-statement string.
	Styles Styles
}

// Styles are the remote settings that shape date and interval output.
type Styles struct {
	DateStyle     string
	IntervalStyle string
}

// Batches are cut at whichever limit comes first, so a batch stays around a
// megabyte whatever the row width: two of them in flight bound memory.
const (
	batchBytes  = 128 << 10
	batchValues = 8 << 10
)

// Query runs sql (one or more statements, simple protocol, text results)
// and streams its results to sink. Cancelling ctx sends a cancel request to
// the remote server; the connection normally stays usable.
func (c *Conn) Query(ctx context.Context, sql string, mode Mode, sink Sink) (Outcome, error) {
	if err := c.acquire(ctx); err != nil {
		return Outcome{}, err
	}
	defer c.release()
	return c.query(ctx, sql, mode, sink)
}

// query is Query on a connection the caller holds.
// ResetOutcome says how the reset of a reused connection went (QueryReset).
type ResetOutcome int

const (
	// ResetDone: the session was reset, and the query ran after it.
	ResetDone ResetOutcome = iota
	// ResetBroken: the connection broke before the reset was answered;
	// the server ran neither, and the query may run elsewhere.
	ResetBroken
	// ResetRefused: the server refused the reset; the query ran all the
	// same (its answer is the outcome), and the connection must not be
	// reused. Also when the answer was not the reset's: the connection is
	// given up, and the error says so.
	ResetRefused
)

// resetSQL returns a remote session to what a new connection sees:
// temporary tables, prepared statements, advisory locks, LISTEN, session
// settings and the session user.
const resetSQL = "DISCARD ALL"

// QueryReset is Query on a connection kept for reuse: DISCARD ALL and
// then sql, both Query messages in one write and both answers read in
// turn, so that the reset costs no round trip of its own. Only sql counts
// as a query of the connection.
func (c *Conn) QueryReset(ctx context.Context, sql string, mode Mode, sink Sink) (Outcome, error, ResetOutcome) {
	if err := c.acquire(ctx); err != nil {
		return Outcome{}, err, ResetBroken
	}
	defer c.release()
	reset, q := c.w.newRun(resetSQL, ModeExec), c.w.newRun(sql, mode)
	reset.then = q
	rout, rerr := c.run(ctx, reset, discard{})
	if c.closed.Load() {
		return Outcome{}, rerr, ResetBroken
	}
	if rerr == nil && (rout.Tag != resetSQL || rout.HadRows) {
		// not the reset's answer: a server out of step (an answer it owed
		// from before, a ReadyForQuery too many) would have the call's
		// statement read the reset's answer as its own
		c.Cut()
		return Outcome{}, protocolViolation("server answered DISCARD ALL with %q", rout.Tag), ResetRefused
	}
	out, err := c.run(ctx, q, sink)
	if rerr != nil {
		return out, err, ResetRefused
	}
	return out, err, ResetDone
}

// discard is a Sink that drops everything (the reset's answer).
type discard struct{}

func (discard) Rows(*Batch) bool         { return true }
func (discard) Command(int, string) bool { return true }
func (discard) ResultEnd(int) bool       { return true }

func (c *Conn) query(ctx context.Context, sql string, mode Mode, sink Sink) (Outcome, error) {
	return c.run(ctx, c.w.newRun(sql, mode), sink)
}

// run streams q's results on a connection not known to be lost, and
// notes a connection q broke.
func (c *Conn) run(ctx context.Context, q *Run, sink Sink) (Outcome, error) {
	if c.closed.Load() {
		return Outcome{}, pgerr.LostConnection
	}
	out, err := c.stream(ctx, q, sink)
	if q.Broken() {
		c.closed.Store(true)
	}
	return out, err
}

// stream drives q with blocking reads and hands its events to sink.
func (c *Conn) stream(ctx context.Context, q *Run, sink Sink) (Outcome, error) {
	stopped := false
	q.runBlocking(ctx, func(ev Event) bool {
		ok := true
		switch ev.Kind {
		case EvRows:
			ok = sink.Rows(ev.Batch)
		case EvCommand:
			ok = sink.Command(ev.ResultNo, ev.Tag)
		case EvResultEnd:
			ok = sink.ResultEnd(ev.ResultNo)
		}
		stopped = stopped || !ok
		return ok
	})
	out, err := q.Result()
	if err == nil && stopped && ctx.Err() != nil {
		err = ctx.Err()
	}
	return out, err
}

// reset empties b for the next rows of the same result, keeping its buffers.
func (b *Batch) reset() {
	b.NRows = 0
	b.Offsets = b.Offsets[:0]
	b.Data = b.Data[:0]
	b.dropBig()
}

// dropBig gives back the memory a big value needed, once the batch has
// been taken.
func (b *Batch) dropBig() {
	if b.big != nil && b.big.b != nil {
		b.big.release()
		b.Data = nil
	}
}

// Add appends one row of text values (nil = SQL NULL) to a batch built
// outside a query, such as notifications; an error when the system refused
// the memory for it.
func (b *Batch) Add(values [][]byte) error {
	if !b.add(values) {
		return errResultMemory
	}
	return nil
}

// add appends one row; false when the system refused the memory for it
// (see bigBuf).
func (b *Batch) add(values [][]byte) bool {
	size := 0
	for _, v := range values {
		size += len(v) + 1
	}
	if need := len(b.Data) + size; need > cap(b.Data) && need >= bigSize {
		if b.big == nil {
			b.big = newBigBuf(b)
		}
		data, err := b.big.grow(b.Data, need)
		if err != nil {
			return false
		}
		b.Data = data
	}
	b.Data = grow(b.Data, size, batchBytes)
	b.Offsets = grow(b.Offsets, len(values), batchValues)
	for _, v := range values {
		if v == nil {
			b.Offsets = append(b.Offsets, -1)
			continue
		}
		b.Offsets = append(b.Offsets, int32(len(b.Data)))
		b.Data = append(b.Data, v...)
		b.Data = append(b.Data, 0)
	}
	b.NRows++
	return true
}

// grow returns s with room for n more elements. It doubles while s is
// small, then goes straight to a batch's size: a large result's first
// batch makes no more garbage than itself (append's 1.25x steps made five
// times as much), and a small result stays small. Past a batch's size
// (one value longer than a batch) it doubles again, so growing stays
// linear.
func grow[T any](s []T, n, limit int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	c := max(2*cap(s), 64)
	if c > limit/16 && cap(s) < limit {
		c = limit + limit/8
	}
	g := make([]T, len(s), max(c, len(s)+n))
	copy(g, s)
	return g
}

// TryStart takes the connection for a query the backend's thread runs in
// non-blocking steps (Run.Poll), if no operation uses it right now; ok is
// false otherwise (the connection's wake function runs when it is let go).
// End the run with Finish after EvDone, or Abandon before.
func (c *Conn) TryStart(sql string, mode Mode) (q *Run, ok bool) {
	if !c.TryTake() {
		return nil, false
	}
	return c.Start(sql, mode), true
}

// TryTake takes the connection for the backend's thread if no operation
// uses it right now, so that several statements run with nothing in
// between (Start each, End it after EvDone, Let go after the last).
func (c *Conn) TryTake() bool { return c.tryAcquire() }

// Start begins a run on a connection the caller has taken.
func (c *Conn) Start(sql string, mode Mode) *Run {
	q := c.w.newRun(sql, mode)
	if c.closed.Load() {
		q.err, q.finished, q.sent = pgerr.LostConnection, true, true
	}
	return q
}

// TxStatus is the remote transaction status of the last ReadyForQuery: 'I'
// idle, 'T' in a transaction block, 'E' in a failed one.
func (c *Conn) TxStatus() byte {
	if d := c.direct.Load(); d != nil && d.State != DirectOff {
		return byte(d.Tx) // the shim's round trips since Go let go
	}
	return byte(c.w.tx.Load())
}

// Reusable reports whether c may take another one-shot call: open (the
// remote has not hung up) and idle outside any transaction.
func (c *Conn) Reusable() bool {
	return !c.closed.Load() && c.TxStatus() == 'I' && !peerGone(c.w.fd())
}

// WaitSocket is the socket a pending Run.Poll waits on, and a number that
// tells this connection's socket from a later one with the same fd.
func (c *Conn) WaitSocket() (fd int, id uint64) { return c.w.fd(), c.w.id }

// Finish lets go of the connection after q's EvDone.
func (c *Conn) Finish(q *Run) {
	c.End(q)
	c.Let()
}

// End closes q after its EvDone, keeping the connection taken.
func (c *Conn) End(q *Run) {
	q.w.sk.setNonblock(false)
	if q.Broken() {
		c.closed.Store(true)
	}
}

// Let lets go of a connection the backend's thread took; the shim may
// drive it now.
func (c *Conn) Let() {
	c.publish()
	<-c.sem // nobody waits: the backend's thread took it
}

// Abandon lets go of q before its end: a goroutine reads the rest of the
// response in blocking mode and then lets go of the connection; later
// operations wait for it. With cancel, a cancel request goes to the remote
// server first, and the connection is given up if the server has not
// answered config.CancelDeadlineDelay later.
func (c *Conn) Abandon(q *Run, cancel bool) {
	if q.finished && len(q.queued) == 0 || !q.sent {
		c.Finish(q)
		return
	}
	ctx := context.Background()
	if cancel {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		stop()
	}
	q.Stop()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				q.broken = true
				q.w.nc.Close()
			}
			q.w.sk.setNonblock(false)
			if q.Broken() {
				c.closed.Store(true)
			}
			c.release() // wakes a backend waiting for the connection
		}()
		q.runBlocking(ctx, func(Event) bool { return false })
	}()
}

// full reports whether b was cut at a batch limit: its result is large.
func (b *Batch) full() bool { return len(b.Data) >= batchBytes || len(b.Offsets) >= batchValues }

// Continue runs the rest of q, taken with TryStart, on the calling
// goroutine with blocking reads, streaming to sink as Query does, and then
// lets go of the connection: the rest of a query the backend stopped
// reading (dblink_get_result's SkipResult).
func (c *Conn) Continue(ctx context.Context, q *Run, sink Sink) (Outcome, error) {
	defer func() {
		q.w.sk.setNonblock(false)
		if q.Broken() {
			c.closed.Store(true)
		}
		c.release()
	}()
	return c.stream(ctx, q, sink)
}
