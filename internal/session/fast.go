package session

import (
	"context"
	"errors"

	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/op"
)

// Polled is an operation the backend polls: an *op.Op (work on a
// goroutine) or a query the backend's thread runs itself (fastQuery).
type Polled interface {
	Next() op.Item
	Release()
	Discard()
}

// fastQuery is a query on a registered connection that runs on the
// backend's thread, the way contrib drives libpq: each Next sends what the
// socket takes, parses what has arrived and returns the next item, or
// Pending with the socket to wait on. No goroutine and no thread hand-off
// is involved unless the backend lets go before the end (Release,
// Discard), when a goroutine reads the rest.
type fastQuery struct {
	s    *Session
	c    *conn.Conn
	sql  string
	mode conn.Mode
	q    *conn.Run // nil until the connection was free
	done bool      // the final item went out, or the backend let go
	// reader: the goroutine reading the rest of a large result, once
	// handed over; Next then forwards to it
	reader *op.Op
	next   *conn.Event // an event lookAhead took and could not add
	last   *op.Item    // the final item lookAhead found, for the next call
}

var errFinished = errors.New("operation already finished")

// startFast runs sql on c on the backend's thread; c stays in progress for
// the backend's other calls until the backend lets go of the query.
func (s *Session) startFast(c *conn.Conn, sql string, mode conn.Mode) *fastQuery {
	f := &fastQuery{s: s, c: c, sql: sql, mode: mode}
	s.mu.Lock()
	s.linkLocked(c).active = f
	s.mu.Unlock()
	// send at once: the remote works while the backend returns from this
	// call and asks for the first item
	if q, ok := c.TryStart(sql, mode); ok {
		f.q = q
		q.Send()
	}
	return f
}

// Next returns the query's next item without blocking.
func (f *fastQuery) Next() op.Item {
	if it := f.last; it != nil {
		f.last = nil
		return *it
	}
	if f.done {
		return op.Item{Kind: op.Failed, Err: errFinished}
	}
	if f.reader != nil {
		return f.reader.Next()
	}
	if f.q == nil {
		q, ok := f.c.TryStart(f.sql, f.mode)
		if !ok {
			// an earlier operation still reads its end: its release
			// wakes the notify fd
			return op.Item{Kind: op.Pending}
		}
		f.q = q
	}
	ev, ok, write := f.poll()
	if !ok {
		fd, id := f.c.WaitSocket()
		return op.Item{Kind: op.Pending, Wait: &op.Wait{FD: fd, Write: write, ID: id}}
	}
	var it op.Item
	switch ev.Kind {
	case conn.EvRows:
		it = op.Item{Kind: op.Rows, ResultNo: ev.ResultNo, Payload: f.s.enc.Encode(ev.Batch)}
		if ev.Large() {
			f.handOver()
			return it
		}
	case conn.EvCommand:
		it = op.Item{Kind: op.Command, ResultNo: ev.ResultNo, Text: ev.Tag}
	case conn.EvResultEnd:
		return op.Item{Kind: op.ResultEnd, ResultNo: ev.ResultNo}
	default:
		return f.end()
	}
	f.lookAhead(&it)
	return it
}

// poll is Run.Poll after the event lookAhead kept back, if any.
func (f *fastQuery) poll() (conn.Event, bool, bool) {
	if ev := f.next; ev != nil {
		f.next = nil
		return *ev, true, false
	}
	return f.q.Poll()
}

// lookAhead adds to it the end of its result and the end of the query
// string when they have arrived already, so that a small result costs the
// backend one call instead of three. An event it cannot add is kept for
// the next call.
func (f *fastQuery) lookAhead(it *op.Item) {
	for {
		ev, ok, _ := f.q.Poll()
		switch {
		case !ok:
			return
		case ev.Kind == conn.EvResultEnd && it.Kind == op.Rows && it.Ends == 0 && ev.ResultNo == it.ResultNo:
			it.Ends |= op.EndsResult
			continue
		case ev.Kind == conn.EvDone:
			end := f.end()
			if end.Kind != op.Done {
				f.last = &end // a failure goes out on its own
				return
			}
			it.Ends |= op.EndsQuery
			it.HadRows, it.DateStyle, it.IntervalStyle = end.HadRows, end.DateStyle, end.IntervalStyle
		default:
			f.next = &ev // Rows: its batch is not reused before it is taken
		}
		return
	}
}

// end finishes the query after EvDone and returns its final item.
func (f *fastQuery) end() op.Item {
	out, err := f.q.Result()
	f.c.Finish(f.q)
	f.done = true
	end := op.Item{Kind: op.Done, Text: out.Tag, HadRows: out.HadRows}
	if f.mode == conn.ModeRows {
		// what converting rows needs (dblink_exec converts none)
		end.DateStyle, end.IntervalStyle = out.Styles.DateStyle, out.Styles.IntervalStyle
	}
	if err != nil {
		err = conn.EndedByServer(err)
		f.s.noteError(f.c, err, f.sql)
		end.Kind, end.Err, end.Text, end.HadRows = op.Failed, err, "", false
	}
	return end
}

// Release ends the backend's interest; a query still running is
// cancelled, remote side included.
func (f *fastQuery) Release() { f.letGo(true) }

// Discard ends the backend's interest after a local error: the remote
// statement runs to its end and its output is thrown away.
func (f *fastQuery) Discard() { f.letGo(false) }

// handOver gives the rest of a large result to a reader goroutine: it
// reads the next batch while the backend converts this one, which measures
// faster than reading on the backend's thread (see docs/DESIGN.md).
func (f *fastQuery) handOver() {
	q := f.q
	f.reader = f.s.startHooks(f.s.hooks(nil), func(ctx context.Context, emit op.Emit) op.Item {
		out, err := f.c.Continue(ctx, q, sink{emit: emit, enc: f.s.enc})
		end := op.Item{Kind: op.Done, Text: out.Tag, HadRows: out.HadRows,
			DateStyle: out.Styles.DateStyle, IntervalStyle: out.Styles.IntervalStyle}
		if err != nil {
			err = conn.EndedByServer(err)
			f.s.noteError(f.c, err, f.sql)
			end.Kind, end.Err, end.Text, end.HadRows = op.Failed, err, "", false
		}
		return end
	})
}

func (f *fastQuery) letGo(cancel bool) {
	f.s.mu.Lock()
	if l := f.s.links[f.c]; l != nil && l.active == f {
		l.active = nil
	}
	f.s.mu.Unlock()
	if f.reader != nil {
		if cancel {
			f.reader.Release()
		} else {
			f.reader.Discard()
		}
		f.reader, f.done = nil, true
		return
	}
	if f.done {
		return
	}
	f.done = true
	if f.q != nil {
		f.c.Abandon(f.q, cancel)
	}
}
