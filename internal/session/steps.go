package session

import (
	"github.com/dblink-go/dblink/internal/conn"
)

// steps runs a short sequence of statements on the backend's thread with
// nothing in between, as contrib does with libpq: dblink_open's BEGIN and
// DECLARE, dblink_close's CLOSE and COMMIT. The connection is taken once
// for the whole sequence, and the choice of each statement is made when the
// previous one has ended (or, for the first, once the connection is free,
// so that it sees the remote's current transaction status).
type steps struct {
	e     *entry
	next  chooser
	q     *conn.Run // the statement running, or nil
	taken bool
	done  bool
}

// chooser returns the next statement from how the last one ended (the
// zero Outcome and nil before the first), or "" and the final item.
type chooser func(out conn.Outcome, err error) (sql string, final Item)

// startSteps runs a sequence on e's connection; it stays in progress for
// the backend's other calls until the backend lets go of the sequence.
func startSteps(e *entry, next chooser) *steps {
	st := &steps{e: e, next: next}
	e.hold(st)
	return st
}

// Next returns Pending (with the socket to wait on) until the sequence
// ends, then its final item.
func (st *steps) Next() Item {
	if st.done {
		return Item{Kind: Failed, Err: errFinished}
	}
	if !st.taken {
		if !st.e.c.TryTake() {
			return Item{Kind: Pending} // its release wakes the notify fd
		}
		st.taken = true
		if it, over := st.choose(conn.Outcome{}, nil); over {
			return it
		}
	}
	for {
		ev, ok, write := st.q.Poll()
		if !ok {
			return pendingOn(st.e.c, st.q, write)
		}
		if ev.Kind != conn.EvDone {
			continue // ModeExec streams nothing before its end
		}
		out, err := st.q.Result()
		st.e.c.End(st.q)
		st.q = nil
		if it, over := st.choose(out, err); over {
			return it
		}
	}
}

// choose starts the next statement, or ends the sequence.
func (st *steps) choose(out conn.Outcome, err error) (Item, bool) {
	sql, final := st.next(out, err)
	if sql != "" {
		st.q = st.e.c.Start(sql, conn.ModeExec)
		return Item{}, false
	}
	st.finish()
	return final, true
}

func (st *steps) finish() {
	st.done = true
	st.e.letGo(st)
	if st.taken {
		st.e.c.Let()
	}
}

// Release ends the backend's interest; a statement still running is
// cancelled, remote side included.
func (st *steps) Release() { st.letGo(true) }

// Discard ends the backend's interest after a local error; a statement
// still running goes on to its end.
func (st *steps) Discard() { st.letGo(false) }

func (st *steps) letGo(cancel bool) {
	if st.done {
		return
	}
	if q := st.q; q != nil {
		st.done, st.q = true, nil
		st.e.letGo(st)
		st.e.c.Abandon(q, cancel) // lets go of the connection when read
		return
	}
	st.finish()
}
