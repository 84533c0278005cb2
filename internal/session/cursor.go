package session

import (
	"strconv"
	"strings"

	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/op"
)

// cursorState is contrib's cursor bookkeeping of one connection slot: when
// dblink_open finds the remote idle it sends BEGIN and counts the cursors
// opened in that transaction; closing the last one sends COMMIT. A
// transaction the user began is left alone. Guarded by Session.mu.
type cursorState struct {
	began bool // dblink began the remote transaction
	count int  // cursors opened in it and not yet closed
	// open: every cursor dblink_open opened and dblink_close has not
	// closed, in any transaction (for dblink_connections; a transaction's
	// end closes them all)
	open int
}

// errNoCommandResult: DECLARE or CLOSE (with odd cursor names) ended in a
// row result; contrib reports it as a remote error without a message.
var errNoCommandResult = &conn.Error{SQLState: "08006", Remote: true}

// cursorSlot returns the connection of a slot (unnamed when name is nil)
// and its bookkeeping; the connection is nil when the slot is empty.
func (s *Session) cursorSlot(name *string) (*conn.Conn, *cursorState) {
	var c *conn.Conn
	if name == nil {
		c = s.reg.Unnamed()
	} else {
		c = s.reg.Get(*name)
	}
	if c == nil {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == nil {
		return c, &s.unnamedCursors
	}
	return c, &s.linkLocked(c).cursors
}

// internalError is contrib's dblink_res_internalerror: "<what>: " followed
// by libpq's error text, SQLSTATE XX000, no dblink CONTEXT.
func (s *Session) internalError(c *conn.Conn, what string, err error, query string) error {
	s.noteError(c, err, query)
	return &conn.Error{SQLState: "XX000", Message: what + ": " + strings.TrimRight(conn.ErrorText(err, query), "\n")}
}

// commandError is how a statement that must end in a command result
// (DECLARE, CLOSE) failed, or nil.
func (s *Session) commandError(c *conn.Conn, sql string, out conn.Outcome, err error) error {
	err = conn.EndedByServer(err)
	if err == nil && out.HadRows {
		err = errNoCommandResult
	}
	if err != nil {
		s.noteError(c, err, sql)
	}
	return err
}

func failed(err error) op.Item { return op.Item{Kind: op.Failed, Err: err} }

var cursorOK = op.Item{Kind: op.Done, Text: "OK"}

// OpenCursor is dblink_open: "DECLARE <cur> CURSOR FOR <sql>" on a slot,
// after BEGIN when the remote is idle, with nothing in between. Its text
// result is "OK".
func (s *Session) OpenCursor(name *string, cur, sql string) Polled {
	c, st := s.cursorSlot(name)
	if c == nil {
		return s.failed(errNotAvailable)
	}
	s.mu.Lock()
	if s.linkLocked(c).inProgressLocked() && st.began {
		// contrib counts the cursor before its DECLARE fails
		st.count++
	}
	s.mu.Unlock()
	if busy := s.sendStart(c, false); busy != nil {
		return busy
	}
	declare := "DECLARE " + cur + " CURSOR FOR " + sql
	var last string
	return s.startSteps(c, func(out conn.Outcome, err error) (string, op.Item) {
		switch last {
		case "": // the connection is free: is the remote in a transaction?
			if c.TxStatus() == 'I' {
				s.mu.Lock()
				st.open = 0 // no transaction: no cursor is left
				s.mu.Unlock()
				if !c.IsClosed() {
					last = "BEGIN"
					return last, op.Item{}
				}
			}
		case "BEGIN":
			if err != nil {
				return "", failed(s.internalError(c, "begin error", err, "BEGIN"))
			}
			s.mu.Lock()
			st.began, st.count = true, 0
			s.mu.Unlock()
		default: // the DECLARE ended
			if err := s.commandError(c, declare, out, err); err != nil {
				return "", failed(err)
			}
			s.mu.Lock()
			st.open++
			s.mu.Unlock()
			return "", cursorOK
		}
		s.mu.Lock()
		if st.began {
			st.count++
		}
		s.mu.Unlock()
		last = declare
		return last, op.Item{}
	})
}

// CloseCursor is dblink_close: "CLOSE <cur>", then COMMIT when it was the
// last cursor of a transaction dblink began, with nothing in between. Its
// text result is "OK".
func (s *Session) CloseCursor(name *string, cur string) Polled {
	c, st := s.cursorSlot(name)
	if c == nil {
		return s.failed(errNotAvailable)
	}
	if busy := s.sendStart(c, false); busy != nil {
		return busy
	}
	closeSQL := "CLOSE " + cur
	var last string
	return s.startSteps(c, func(out conn.Outcome, err error) (string, op.Item) {
		switch last {
		case "":
			last = closeSQL
			return last, op.Item{}
		case closeSQL:
			if err := s.commandError(c, closeSQL, out, err); err != nil {
				return "", failed(err)
			}
			s.mu.Lock()
			st.open = max(st.open-1, 0)
			commit := false
			if st.began {
				st.count--
				if st.count == 0 {
					st.began = false
					commit = true
				}
			}
			s.mu.Unlock()
			if commit {
				last = "COMMIT"
				return last, op.Item{}
			}
		case "COMMIT":
			if err != nil {
				return "", failed(s.internalError(c, "commit error", err, "COMMIT"))
			}
		}
		return "", cursorOK
	})
}

// FetchCursor is dblink_fetch: the rows of "FETCH <count> FROM <cur>",
// streamed as a query in conn.ModeRows (Done.HadRows false: the last
// result was a command, contrib's "cursor does not exist").
func (s *Session) FetchCursor(name *string, cur string, count int) Polled {
	c, _ := s.cursorSlot(name)
	if c == nil {
		return s.failed(errNotAvailable)
	}
	if busy := s.sendStart(c, false); busy != nil {
		return busy
	}
	return s.startFast(c, "FETCH "+strconv.Itoa(count)+" FROM "+cur, conn.ModeRows)
}
