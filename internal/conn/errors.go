package conn

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

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

// serverError is an ErrorResponse as the server sent it: pgconn's PgError
// cannot tell an empty DETAIL or HINT from an absent one.
type serverError struct {
	pg           *pgconn.PgError
	detail, hint bool // the fields were present
}

func (e *serverError) Error() string { return e.pg.Error() }
func (e *serverError) Unwrap() error { return e.pg }

// newServerError decodes an ErrorResponse body that m was decoded from.
func newServerError(m *pgproto3.ErrorResponse, body []byte) *serverError {
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

func (e *Error) Error() string { return e.Message }

// errPasswordNotGiven is contrib's error for a non-superuser's string
// without a password, in the words of the current major's contrib (16
// added GSSAPI credential delegation to the rule and to its wording).
func errPasswordNotGiven() *Error {
	if ServerMajor() >= 16 {
		return &Error{
			SQLState: "2F003",
			Message:  "password or GSSAPI delegated credentials required",
			Detail:   "Non-superusers must provide a password in the connection string or send delegated GSSAPI credentials.",
		}
	}
	return &Error{
		SQLState: "2F003",
		Message:  "password is required",
		Detail:   "Non-superusers must provide a password in the connection string.",
	}
}

// errPasswordNotRequested is contrib's error for a non-superuser's
// connection whose server did not ask for the password.
func errPasswordNotRequested() *Error {
	if ServerMajor() >= 16 {
		return &Error{
			SQLState: "2F003",
			Message:  "password or GSSAPI delegated credentials required",
			Detail:   "Non-superusers may only connect using credentials they provide, eg: password in connection string or delegated GSSAPI credentials",
			Hint:     "Ensure provided credentials match target server's authentication method.",
		}
	}
	return &Error{
		SQLState: "2F003",
		Message:  "password is required",
		Detail:   "Non-superuser cannot connect if the server does not request a password.",
		Hint:     "Target server's authentication method must be changed.",
	}
}

// connectFailed is contrib's error for a connection that could not be made;
// detail is libpq's message. Every connection-time failure comes here, so
// this is where the string's passwords are hidden.
func connectFailed(detail string, sec secrets) *Error {
	return &Error{SQLState: "08001", Message: "could not establish connection", Detail: strings.TrimRight(sec.redact(detail), "\n")}
}

// lostConnection is contrib's report of a connection that broke mid-use, in
// libpq's words.
var lostConnection = &Error{
	SQLState: "08006",
	Remote:   true,
	Message: "server closed the connection unexpectedly\n" +
		"\tThis probably means the server terminated abnormally\n" +
		"\tbefore or while processing the request.",
}

// syncLost is libpq's report of a message it cannot take, whose header
// (type byte, length word) begins hdr: a length out of bounds for its type,
// or, with why, an input buffer that cannot grow to it (libpq then counts
// the length without the length word itself). libpq gives the connection
// up, and contrib adds the socket it then lacks.
func syncLost(hdr []byte, why string) *Error {
	n := int(binary.BigEndian.Uint32(hdr[1:5]))
	if why != "" {
		n -= 4
	}
	return &Error{SQLState: "08006", Remote: true, Message: fmt.Sprintf(
		"%slost synchronization with server: got message type \"%c\", length %d\ninvalid socket", why, hdr[0], n)}
}

// protocolViolation is the error of a message out of protocol order or
// malformed, after which the connection is given up (see Run.violation).
func protocolViolation(format string, args ...any) *Error {
	return &Error{SQLState: "08006", Remote: true, Message: fmt.Sprintf(format, args...)}
}

// errCopyOut ends a COPY TO STDOUT, whose data dblink has nowhere to put:
// it is read and dropped, and the connection goes on.
var errCopyOut = &Error{SQLState: "0A000", Remote: true, Message: "COPY TO STDOUT is not supported by dblink"}

// errResultMemory is libpq's report of a row it has no memory for; the
// connection goes on.
var errResultMemory = &Error{SQLState: "08006", Remote: true, Message: "out of memory for query result"}

// lost is the error a run reports when reading broke off with err.
func lost(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return lostConnection
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
		Message: "FATAL:  " + pgErr.Message + "\n" + lostConnection.Message + "\ninvalid socket"}
}

// AsError turns any error of this package (or a stray one) into an *Error.
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
		return lostConnection
	}
	return &Error{SQLState: "XX000", Message: err.Error()}
}
