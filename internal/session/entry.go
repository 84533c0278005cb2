package session

import (
	"strings"
	"sync"

	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// entry is a registered connection together with what libpq keeps in a
// PGconn beyond the socket (the query sent with dblink_send_query, the
// text PQerrorMessage returns) and contrib's bookkeeping of it. Only the
// backend's thread touches an entry, except errText, to which a reader
// goroutine may add the failure of a result it reads.
type entry struct {
	c      *conn.Conn
	server string // the foreign server it was opened through, or ""
	// connstr: the string it was opened with (the server's, resolved, when
	// server is set): what a reconnect opens again
	connstr string
	// busy: what holds the connection for the backend, nil when nothing
	// does (the shim's own round trip is in the shared record, see inUse):
	//   - an operation the backend runs on it (a query, a cursor's
	//     statements, the read of an async result), from its start until
	//     the backend lets go of it, the conversion of its rows included;
	//   - the *asyncQuery dblink_send_query sent, until it is read to its
	//     end (a read of one of its results holds the connection in its
	//     place and hands it back at the result's end).
	busy    Operation
	cursors cursorState // a named connection's cursor bookkeeping

	mu      sync.Mutex
	errText string // libpq's error message buffer, newlines included
}

const errInProgress = "another command is already in progress"

// inProgress reports whether the connection is busy for the backend:
// something holds it, or the shim is in a round trip of its own.
func (e *entry) inProgress() bool { return e.busy != nil || e.c.DirectBusy() }

// inUse reports whether a call of the backend is reading from the
// connection and has not finished (an async query sent and not being
// read does not count): a call now is nested in its conversion of rows.
func (e *entry) inUse() bool {
	if _, sent := e.busy.(*asyncQuery); sent {
		return false
	}
	return e.busy != nil || e.c.DirectBusy()
}

// hold marks p what holds the connection.
func (e *entry) hold(p Operation) { e.busy = p }

// letGo marks the connection free of p (a stale p changes nothing).
func (e *entry) letGo(p Operation) {
	if e.busy == p {
		e.busy = nil
	}
}

// sent returns the async query sent on the connection, being read or
// not, or nil.
func (e *entry) sent() *asyncQuery {
	switch b := e.busy.(type) {
	case *asyncQuery:
		return b
	case *ResultReader:
		return b.a
	}
	return nil
}

// setError replaces libpq's error text.
func (e *entry) setError(text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.syncError()
	e.errText = text
}

// addError appends to libpq's error text.
func (e *entry) addError(text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.syncError()
	e.errText += text
}

// lastError is libpq's error text without its trailing newline.
func (e *entry) lastError() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.syncError()
	return strings.TrimRight(e.errText, "\n")
}

// syncError empties the error text after a round trip the shim made on
// its own: a query resets libpq's error text. e.mu is held.
func (e *entry) syncError() {
	if e.c.DirectSucceeded() {
		e.errText = ""
	}
}

// noteError appends an error worded by libpq for the query that failed.
func (e *entry) noteError(err error, query string) { e.addError(pgerr.ErrorText(err, query)) }

// consumeInput is PQconsumeInput's only visible effect on the error text:
// on a lost connection it adds "connection not open".
func (e *entry) consumeInput() {
	if e.c.IsClosed() {
		e.addError("connection not open\n")
	}
}

// sendCheck is PQsendQuery's check before it sends: "" when the
// connection can take a query (libpq's error text is then reset), or the
// error text of why it cannot.
func (e *entry) sendCheck() string {
	switch {
	case e.inProgress():
		e.addError(errInProgress + "\n")
	case e.c.IsClosed():
		e.setError("no connection to the server\n")
	default:
		e.setError("")
		return ""
	}
	return e.lastError()
}
