package session

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// asyncQuery is a query sent with dblink_send_query. As with libpq, its
// results are read when the backend asks for them (dblink_is_busy,
// dblink_get_result), on the backend's thread, a batch at a time, so a
// big result is never held whole in memory. While it is not read to its
// end it holds the connection (entry.busy), and it is an Operation so
// that whatever ends an entry's operation ends it too.
type asyncQuery struct {
	s   *Session
	src resultSource
	// peeked: an item taken from src by IsBusy, handed out next
	peeked *Item
	// failed: the query's error was handed out as its last result; one
	// more dblink_get_result returns the empty set that ends the query
	failed bool
}

// resultSource is what an asyncQuery reads: a query on the backend's
// thread (fastQuery), or any op in tests.
type resultSource interface {
	Operation
	SkipResult(resultNo int)
}

// forget drops what the session kept for a connection being closed; a
// query still pending on it is cancelled.
func (s *Session) forget(e *entry) {
	s.detach(e)
	if a := e.sent(); a != nil {
		e.busy = nil
		a.Release()
	}
}

// sendStart is PQsendQuery's start on a registered connection. It fails
// when the connection is in progress (an async query is pending and not
// being read: for dblink() rowsCall its results are then discarded, as
// contrib's cleanup does; or a call of the backend still uses it, and this
// call is nested in its conversion, which goes on unharmed) or when the
// connection is known to be lost; the
// returned operation carries contrib's error. Otherwise libpq's error text
// is reset and nil is returned.
func (s *Session) sendStart(e *entry, rowsCall bool) Operation {
	text := e.sendCheck()
	if text == "" {
		return nil
	}
	if !rowsCall {
		return s.failed(&pgerr.Error{SQLState: "08006", Message: text, Remote: true})
	}
	if a, ok := e.busy.(*asyncQuery); ok {
		e.busy = nil
		a.Discard()
	}
	return s.failed(&pgerr.Error{SQLState: "XX000", Message: "could not send query: " + text})
}

// SendQuery is dblink_send_query: it starts sql on the named connection
// and returns "" once sent, or contrib's NOTICE text when it could not be
// sent. The query then runs on its own; its results wait for GetResult.
func (s *Session) SendQuery(name, sql string) (notice string, err error) {
	e := s.reg.get(&name)
	if e == nil {
		return "", errNotAvailable
	}
	if text := e.sendCheck(); text != "" {
		return "could not send query: " + text, nil
	}
	e.hold(&asyncQuery{s: s, src: s.newFast(e, sql, conn.ModeRows, true)})
	return "", nil
}

// IsBusy is dblink_is_busy: as PQconsumeInput then PQisBusy, it reads
// what has arrived without waiting and answers true while a query is
// pending and has nothing ready to take. A result counts as ready as soon
// as its first rows are, so a loop waiting on IsBusy cannot deadlock
// against a result bigger than the socket's buffers.
func (s *Session) IsBusy(name string) bool {
	var a *asyncQuery
	if e := s.reg.get(&name); e != nil {
		if a = e.sent(); a == nil {
			e.consumeInput()
		}
	}
	if a == nil || a.failed || a.peeked != nil {
		return false
	}
	it := a.src.Next()
	if it.Kind == Pending {
		return true
	}
	a.peeked = &it
	return false
}

// Next is the query's next item without blocking.
func (a *asyncQuery) Next() Item {
	if a.peeked != nil {
		it := *a.peeked
		a.peeked = nil
		return it
	}
	return a.src.Next()
}

// Release drops the query and cancels it, remote side included.
func (a *asyncQuery) Release() {
	if a.peeked != nil {
		a.s.abandon(*a.peeked)
		a.peeked = nil
	}
	a.src.Release()
}

// Discard drops the query: it runs to its end remotely and its results are
// thrown away (contrib's dblink() reads and discards them).
func (a *asyncQuery) Discard() {
	if a.peeked != nil {
		a.s.abandon(*a.peeked)
		a.peeked = nil
	}
	a.src.Discard()
}

// GetResult is dblink_get_result: a reader of the next result of the query
// pending on the named connection, or nil when none is pending. The reader
// yields the result's items up to its end (ResultEnd, Command), the
// query's error (Failed), or Done when no result is left, which makes
// the connection idle. A call nested in the conversion of another of its
// results fails: the two would share one stream of rows.
func (s *Session) GetResult(name string) Operation {
	e := s.reg.get(&name)
	if e == nil {
		return nil
	}
	a, ok := e.busy.(*asyncQuery)
	if !ok {
		if e.sent() != nil {
			return s.failed(errInUse(&name))
		}
		return nil
	}
	r := &ResultReader{e: e, a: a}
	e.hold(r) // its rows are converted meanwhile: nothing may close it
	return r
}

// finish marks the read over: the connection goes back to the query, or
// is free once the query has ended.
func (r *ResultReader) finish(ended bool) {
	r.boundary = true
	if r.e.busy != Operation(r) {
		return
	}
	r.e.busy = nil
	if !ended {
		r.e.busy = r.a
	}
}

// ResultReader reads one result of a pending async query (see GetResult).
type ResultReader struct {
	e        *entry
	a        *asyncQuery
	boundary bool // the result (or the end) was handed out in full
	resultNo int  // the result being read, once its first item came
}

var errResultTaken = errors.New("dblink result already read")

// Next returns the result's next item without blocking.
func (r *ResultReader) Next() Item {
	if r.boundary {
		return Item{Kind: Failed, Err: errResultTaken}
	}
	if r.a.failed {
		r.finish(true)
		return Item{Kind: Done}
	}
	it := r.a.Next()
	if it.ResultNo != 0 {
		r.resultNo = it.ResultNo
	}
	switch it.Kind {
	case ResultEnd, Command:
		r.finish(false)
	case Done:
		r.finish(true)
	case Failed:
		r.finish(false)
		r.a.failed = true
	}
	return it
}

// Release ends the read. Interrupted in the middle of a result (cancel,
// statement_timeout), it cancels the query, remote side included, and the
// connection becomes idle once the remote has stopped.
func (r *ResultReader) Release() {
	if r.boundary {
		return
	}
	r.finish(true)
	r.a.Release()
}

// Discard ends a read that a local error stopped in the middle of a
// result: the rest of that result is skipped, the query goes on.
func (r *ResultReader) Discard() {
	if r.boundary {
		return
	}
	r.finish(false)
	if p := r.a.peeked; p != nil && p.ResultNo == r.resultNo && (p.Kind == Rows || p.Kind == ResultEnd) {
		r.a.peeked = nil
		r.a.s.abandon(*p)
		if p.Kind == ResultEnd {
			return
		}
	}
	if r.resultNo != 0 {
		r.a.src.SkipResult(r.resultNo)
	}
}

// cancelTimeout bounds dblink_cancel_query's cancel request.
const cancelTimeout = 5 * time.Second

// CancelQuery is dblink_cancel_query: a cancel request for whatever the
// named connection runs, bounded by cancelTimeout. Its text result is "OK"
// or libpq-like words for the failure.
func (s *Session) CancelQuery(name string) Operation {
	e := s.reg.get(&name)
	if e == nil {
		return s.failed(errNotAvailable)
	}
	c := e.c
	if c.IsClosed() {
		return s.finished(Item{Kind: Done, Text: "PQcancel() -- no cancel object supplied"})
	}
	return s.start(nil, func(ctx context.Context, _ emitFunc) Item {
		ctx, cancel := context.WithTimeout(ctx, cancelTimeout)
		defer cancel()
		if err := c.CancelRequest(ctx); err != nil {
			return Item{Kind: Done, Text: "PQcancel() -- " + err.Error() + "\n"}
		}
		return Item{Kind: Done, Text: "OK"}
	})
}

// ErrorMessage is dblink_error_message: libpq's last error text on the
// named connection without its trailing newline, or "OK" when empty.
func (s *Session) ErrorMessage(name string) (string, error) {
	e := s.reg.get(&name)
	if e == nil {
		return "", errNotAvailable
	}
	text := e.lastError()
	if text == "" {
		return "OK", nil
	}
	return text, nil
}

// GetNotify is dblink_get_notify: first the input that has arrived on the
// socket is read, on the backend's thread without waiting (nothing is
// sent; while dblink_send_query's result waits unread, only the
// notifications are taken out of it, as libpq parses all that has
// arrived), then every notification received and not yet returned comes
// out, in arrival order, as rows (notify_name, be_pid, extra).
func (s *Session) GetNotify(name *string) Operation {
	e := s.entryOf(name)
	if e == nil {
		return s.failed(errNotAvailable)
	}
	e.consumeInput()
	if f := e.pendingFast(); f != nil {
		f.q.SkimNotifications()
		return &notifyReader{s: s, c: e.c, left: e.c.Notifications()}
	}
	return &notifyReader{s: s, c: e.c, reading: true}
}

// pendingFast is the query of dblink_send_query that the backend's thread
// reads on this connection, or nil.
func (e *entry) pendingFast() *fastQuery {
	a := e.sent()
	if a == nil {
		return nil
	}
	f, ok := a.src.(*fastQuery)
	if !ok || f.q == nil || f.reader != nil || f.done {
		return nil
	}
	return f
}

// notifyReader hands a connection's notifications out a batch per call,
// each taken off the queue only when its batch is: the work of a call is
// bounded, and what an interrupted call did not take stays queued. It
// hands out at most the notifications there were at its start.
type notifyReader struct {
	s       *Session
	c       *conn.Conn
	reading bool // input that has arrived is still being read
	left    int
}

// notifyRows is how many notifications a batch holds at most.
const notifyRows = 2048

func (n *notifyReader) Next() Item {
	if n.reading {
		if n.c.ConsumeInput() {
			return pollAgain()
		}
		n.reading, n.left = false, n.c.Notifications()
	}
	if n.left <= 0 {
		return Item{Kind: Done}
	}
	ns := n.c.TakeNotifications(min(n.left, notifyRows))
	if len(ns) == 0 {
		n.left = 0
		return n.Next()
	}
	n.left -= len(ns)
	b, err := notifyBatch(ns)
	if err != nil {
		n.left = 0
		return Item{Kind: Failed, Err: err}
	}
	return Item{Kind: Rows, ResultNo: 1, Payload: n.s.enc.Encode(b)}
}

func (n *notifyReader) Release() {}
func (n *notifyReader) Discard() {}

// notifyBatch lays notifications out as rows of (text, int4, text).
func notifyBatch(ns []conn.Notification) (*conn.Batch, error) {
	b := &conn.Batch{ResultNo: 1, NCols: 3}
	for _, n := range ns {
		if err := b.Add([][]byte{[]byte(n.Channel), strconv.AppendUint(nil, uint64(n.PID), 10), []byte(n.Payload)}); err != nil {
			return nil, err
		}
	}
	return b, nil
}
