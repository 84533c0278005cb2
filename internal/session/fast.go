package session

import (
	"context"
	"errors"

	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// fastQuery is a query on a registered connection that runs on the
// backend's thread, the way contrib drives libpq: each Next sends what the
// socket takes, parses what has arrived and returns the next item, or
// Pending with the socket to wait on, however large the result. No
// goroutine and no thread hand-off is involved unless the backend lets go
// before the end (Release, Discard, SkipResult), when a goroutine reads
// the rest.
type fastQuery struct {
	s    *Session
	e    *entry
	sql  string
	mode conn.Mode
	// async: a query of dblink_send_query, read one result per
	// dblink_get_result as libpq reads it: items are not merged, and its
	// errors are not those of a caller waiting for the result
	// (pgerr.EndedByServer)
	async bool
	q     *conn.Run // nil until the connection was free
	// sent: the whole query went out at start (see FirstWait)
	sent bool
	done bool // the final item went out, or the backend let go
	// reader: the goroutine reading the rest after SkipResult; Next then
	// forwards to it
	reader *goOp
	next   *conn.Event // an event lookAhead took and could not add
	last   *Item       // the final item lookAhead found, for the next call
}

var errFinished = errors.New("operation already finished")

// startFast runs sql on e's connection on the backend's thread; it stays
// in progress for the backend's other calls until the backend lets go of
// the query.
func (s *Session) startFast(e *entry, sql string, mode conn.Mode) *fastQuery {
	f := s.newFast(e, sql, mode, false)
	e.hold(f)
	return f
}

// newFast starts sql on e's connection; the caller marks it in progress.
func (s *Session) newFast(e *entry, sql string, mode conn.Mode, async bool) *fastQuery {
	f := &fastQuery{s: s, e: e, sql: sql, mode: mode, async: async}
	// send at once: the remote works while the backend returns from this
	// call and asks for the first item
	if q, ok := e.c.TryStart(sql, mode); ok {
		f.q = q
		f.sent = q.Send()
	}
	return f
}

// FirstWait returns the socket to wait on before the first poll of p when
// p is a query that went out whole at its start: its answer cannot have
// arrived yet, so a read would only find nothing. Otherwise nil.
func FirstWait(p Operation) *Wait {
	f, ok := p.(*fastQuery)
	if !ok || !f.sent {
		return nil
	}
	f.sent = false
	fd, id := f.e.c.WaitSocket()
	if fd < 0 {
		return nil
	}
	return &Wait{FD: fd, ID: id}
}

// pollAgain is the Pending item of work on the backend's thread that
// stopped at its bound on work with input left: the shim polls again at
// once, after serving interrupts.
func pollAgain() Item { return Item{Kind: Pending, Wait: &Wait{FD: -1, Again: true}} }

// pendingOn is the Pending item of work on the backend's thread that waits
// for c's socket (to become writable too when write is set), or that asks
// to be polled again at once when q's poll stopped at its bound on work.
func pendingOn(c *conn.Conn, q *conn.Run, write bool) Item {
	if q.Yielded() {
		return pollAgain()
	}
	fd, id := c.WaitSocket()
	return Item{Kind: Pending, Wait: &Wait{FD: fd, Write: write, ID: id}}
}

// Next returns the query's next item without blocking.
func (f *fastQuery) Next() Item {
	if it := f.last; it != nil {
		f.last = nil
		return *it
	}
	if f.done {
		return Item{Kind: Failed, Err: errFinished}
	}
	if f.reader != nil {
		return f.reader.Next()
	}
	if f.q == nil {
		q, ok := f.e.c.TryStart(f.sql, f.mode)
		if !ok {
			// an earlier operation still reads its end: its release
			// wakes the notify fd
			return Item{Kind: Pending}
		}
		f.q = q
	}
	ev, ok, write := f.poll()
	if !ok {
		return pendingOn(f.e.c, f.q, write)
	}
	var it Item
	switch ev.Kind {
	case conn.EvRows:
		it = Item{Kind: Rows, ResultNo: ev.ResultNo, Payload: f.s.enc.Encode(ev.Batch)}
	case conn.EvCommand:
		it = Item{Kind: Command, ResultNo: ev.ResultNo, Text: ev.Tag}
	case conn.EvResultEnd:
		return Item{Kind: ResultEnd, ResultNo: ev.ResultNo}
	default:
		return f.end()
	}
	if !f.async {
		f.lookAhead(&it)
	}
	return it
}

// SkipResult throws away the rest of result n, its rows and its end
// (dblink_get_result stopped reading it on a local error). The rest is
// read on a goroutine at once, as libpq would have read the whole result
// already: the remote statement is not held up, and the results after it
// are kept for the next dblink_get_result.
func (f *fastQuery) SkipResult(n int) {
	if f.reader == nil {
		if f.q == nil || f.done {
			return
		}
		f.handOver()
	}
	f.reader.SkipResult(n)
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
func (f *fastQuery) lookAhead(it *Item) {
	for {
		ev, ok, _ := f.q.Poll()
		switch {
		case !ok:
			return
		case ev.Kind == conn.EvResultEnd && it.Kind == Rows && it.Ends == 0 && ev.ResultNo == it.ResultNo:
			it.Ends |= EndsResult
			continue
		case ev.Kind == conn.EvDone:
			end := f.end()
			if end.Kind != Done {
				f.last = &end // a failure goes out on its own
				return
			}
			it.Ends |= EndsQuery
			it.HadRows, it.DateStyle, it.IntervalStyle = end.HadRows, end.DateStyle, end.IntervalStyle
		default:
			f.next = &ev // Rows: its batch is not reused before it is taken
		}
		return
	}
}

// end finishes the query after EvDone and returns its final item.
func (f *fastQuery) end() Item {
	out, err := f.q.Result()
	f.e.c.Finish(f.q)
	f.done = true
	end := Item{Kind: Done, Text: out.Tag, HadRows: out.HadRows}
	if f.mode == conn.ModeRows {
		// what converting rows needs (dblink_exec converts none)
		end.DateStyle, end.IntervalStyle = out.Styles.DateStyle, out.Styles.IntervalStyle
	}
	return f.failure(end, err)
}

// failure turns end into the query's failure when err is set.
func (f *fastQuery) failure(end Item, err error) Item {
	if err == nil {
		return end
	}
	if !f.async {
		err = pgerr.EndedByServer(err)
	}
	f.e.noteError(err, f.sql)
	end.Kind, end.Err, end.Text, end.HadRows = Failed, err, "", false
	return end
}

// Release ends the backend's interest; a query still running is
// cancelled, remote side included.
func (f *fastQuery) Release() { f.letGo(true) }

// Discard ends the backend's interest after a local error: the remote
// statement runs to its end and its output is thrown away.
func (f *fastQuery) Discard() { f.letGo(false) }

// handOver gives the rest of the query to a reader goroutine.
func (f *fastQuery) handOver() {
	q := f.q
	f.reader = f.s.startHooks(f.s.hooks(nil), func(ctx context.Context, emit emitFunc) Item {
		out, err := f.e.c.Continue(ctx, q, sink{emit: emit, enc: f.s.enc})
		return f.failure(Item{Kind: Done, Text: out.Tag, HadRows: out.HadRows,
			DateStyle: out.Styles.DateStyle, IntervalStyle: out.Styles.IntervalStyle}, err)
	})
}

func (f *fastQuery) letGo(cancel bool) {
	f.e.letGo(f)
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
		f.e.c.Abandon(f.q, cancel)
	}
}

// finished returns an operation whose items are all known now.
func (s *Session) finished(items ...Item) Operation { return fixedItems(s.abandon, items...) }

func (s *Session) failed(err error) Operation { return s.finished(Item{Kind: Failed, Err: err}) }
