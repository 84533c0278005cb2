// Package pgerr is the one shape of an error the Go core hands the shim (a
// SQLSTATE and the fields of a PostgreSQL error report), and libpq's words
// for an error after a query. Every package of the core returns errors
// that AsError turns into an *Error.
package pgerr

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Error is an error as the shim reports it: a SQLSTATE and the fields of a
// PostgreSQL error report. Remote errors keep the remote's fields.
type Error struct {
	SQLState string
	Message  string // "" when the remote sent none
	Detail   string
	Hint     string
	Context  string // remote CONTEXT lines
	// Remote marks errors of a running query (remote errors, a lost
	// connection): they get dblink's CONTEXT line and honor fail_on_error.
	Remote bool
	// DetailGiven, HintGiven: the server sent the field, perhaps empty
	// (contrib then prints an empty DETAIL: or HINT: line)
	DetailGiven, HintGiven bool
}

func (e *Error) Error() string { return e.Message }

// serverError is an ErrorResponse as the server sent it: pgconn's PgError
// cannot tell an empty DETAIL or HINT from an absent one.
type serverError struct {
	pg           *pgconn.PgError
	detail, hint bool // the fields were present
}

func (e *serverError) Error() string { return e.pg.Error() }
func (e *serverError) Unwrap() error { return e.pg }

// FromServer is the error of an ErrorResponse m decoded from body; it
// unwraps to a *pgconn.PgError.
func FromServer(m *pgproto3.ErrorResponse, body []byte) error {
	e := &serverError{pg: pgconn.ErrorResponseToPgError(m)}
	// fields: a type byte and a NUL-terminated string each, then a NUL
	for len(body) > 0 && body[0] != 0 {
		switch body[0] {
		case 'D':
			e.detail = true
		case 'H':
			e.hint = true
		}
		end := bytes.IndexByte(body[1:], 0)
		if end < 0 {
			break
		}
		body = body[end+2:]
	}
	return e
}

// LostConnection is contrib's report of a connection that broke mid-use,
// in libpq's words.
var LostConnection = &Error{
	SQLState: "08006",
	Remote:   true,
	Message: "server closed the connection unexpectedly\n" +
		"\tThis probably means the server terminated abnormally\n" +
		"\tbefore or while processing the request.",
}

// EndedByServer is how libpq reports, to a caller waiting for a query's
// result (PQexec, PQgetResult in a loop), a FATAL error after which the
// server closed the connection (pg_terminate_backend, a shutdown): no
// SQLSTATE of the server's (08006), the FATAL line and then libpq's lines
// for the lost connection. Other errors are returned as they are. A result
// read with dblink_get_result keeps the server's error, as in contrib.
func EndedByServer(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Severity != "FATAL" {
		return err
	}
	return &Error{SQLState: "08006", Remote: true,
		Message: "FATAL:  " + pgErr.Message + "\n" + LostConnection.Message + "\ninvalid socket"}
}

// AsError turns any error of the core (or a stray one) into an *Error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		e := &Error{SQLState: pgErr.Code, Message: pgErr.Message, Detail: pgErr.Detail, Hint: pgErr.Hint, Context: pgErr.Where, Remote: true}
		var se *serverError
		if errors.As(err, &se) {
			e.DetailGiven, e.HintGiven = se.detail, se.hint
		}
		return e
	}
	if errors.Is(err, context.Canceled) {
		return &Error{SQLState: "57014", Message: "canceling statement due to user request"}
	}
	var netErr net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) || errors.Is(err, net.ErrClosed) {
		return LostConnection
	}
	return &Error{SQLState: "XX000", Message: err.Error()}
}
