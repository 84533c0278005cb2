package session

import (
	"strconv"
	"strings"

	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// cursorState is contrib's cursor bookkeeping of one connection slot: when
// dblink_open finds the remote idle it sends BEGIN and counts the cursors
// opened in that transaction; closing the last one sends COMMIT. A
// transaction the user began is left alone. Backend's thread only.
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
var errNoCommandResult = &pgerr.Error{SQLState: "08006", Remote: true}

// cursorSlot returns the connection of a slot (unnamed when name is nil)
// and its bookkeeping; the entry is nil when the slot is empty.
func (s *Session) cursorSlot(name *string) (*entry, *cursorState) {
	e := s.entryOf(name)
	switch {
	case e == nil:
		return nil, nil
	case name == nil:
		return e, &s.unnamedCursors
	}
	return e, &e.cursors
}

// internalError is contrib's dblink_res_internalerror: "<what>: " followed
// by libpq's error text, SQLSTATE XX000, no dblink CONTEXT.
func internalError(e *entry, what string, err error, query string) error {
	e.noteError(err, query)
	return &pgerr.Error{SQLState: "XX000", Message: what + ": " + strings.TrimRight(pgerr.ErrorText(err, query), "\n")}
}

// commandError is how a statement that must end in a command result
// (DECLARE, CLOSE) failed, or nil.
func commandError(e *entry, sql string, out conn.Outcome, err error) error {
	err = pgerr.EndedByServer(err)
	if err == nil && out.HadRows {
		err = errNoCommandResult
	}
	if err != nil {
		e.noteError(err, sql)
	}
	return err
}

func failed(err error) Item { return Item{Kind: Failed, Err: err} }

var cursorOK = Item{Kind: Done, Text: "OK"}

// OpenCursor is dblink_open: "DECLARE <cur> CURSOR FOR <sql>" on a slot,
// after BEGIN when the remote is idle, with nothing in between. Its text
// result is "OK".
func (s *Session) OpenCursor(name *string, cur, sql string) Operation {
	e, st := s.cursorSlot(name)
	if e == nil {
		return s.failed(errNotAvailable)
	}
	if e.inProgress() && st.began {
		st.count++ // contrib counts the cursor before its DECLARE fails
	}
	if busy := s.sendStart(e, false); busy != nil {
		return busy
	}
	declare := "DECLARE " + cur + " CURSOR FOR " + sql
	var last string
	return startSteps(e, func(out conn.Outcome, err error) (string, Item) {
		switch last {
		case "": // the connection is free: is the remote in a transaction?
			if e.c.TxStatus() == 'I' {
				st.open = 0 // no transaction: no cursor is left
				if !e.c.IsClosed() {
					last = "BEGIN"
					return last, Item{}
				}
			}
		case "BEGIN":
			if err != nil {
				return "", failed(internalError(e, "begin error", err, "BEGIN"))
			}
			st.began, st.count = true, 0
		default: // the DECLARE ended
			if err := commandError(e, declare, out, err); err != nil {
				return "", failed(err)
			}
			st.open++
			return "", cursorOK
		}
		if st.began {
			st.count++
		}
		last = declare
		return last, Item{}
	})
}

// CloseCursor is dblink_close: "CLOSE <cur>", then COMMIT when it was the
// last cursor of a transaction dblink began, with nothing in between. Its
// text result is "OK".
func (s *Session) CloseCursor(name *string, cur string) Operation {
	e, st := s.cursorSlot(name)
	if e == nil {
		return s.failed(errNotAvailable)
	}
	if busy := s.sendStart(e, false); busy != nil {
		return busy
	}
	closeSQL := "CLOSE " + cur
	var last string
	return startSteps(e, func(out conn.Outcome, err error) (string, Item) {
		switch last {
		case "":
			last = closeSQL
			return last, Item{}
		case closeSQL:
			if err := commandError(e, closeSQL, out, err); err != nil {
				return "", failed(err)
			}
			st.open = max(st.open-1, 0)
			if st.began {
				st.count--
				if st.count == 0 {
					st.began = false
					last = "COMMIT"
					return last, Item{}
				}
			}
		case "COMMIT":
			if err != nil {
				return "", failed(internalError(e, "commit error", err, "COMMIT"))
			}
		}
		return "", cursorOK
	})
}

// FetchCursor is dblink_fetch: the rows of "FETCH <count> FROM <cur>",
// streamed as a query in conn.ModeRows (Done.HadRows false: the last
// result was a command, contrib's "cursor does not exist").
func (s *Session) FetchCursor(name *string, cur string, count int) Operation {
	e, _ := s.cursorSlot(name)
	if e == nil {
		return s.failed(errNotAvailable)
	}
	if busy := s.sendStart(e, false); busy != nil {
		return busy
	}
	return s.startFast(e, "FETCH "+strconv.Itoa(count)+" FROM "+cur, conn.ModeRows)
}
