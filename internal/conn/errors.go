package conn

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dblink-go/dblink/internal/pgerr"
)

// syncLost is libpq's report of a message it cannot take, whose header
// (type byte, length word) begins hdr: a length out of bounds for its type,
// or, with why, an input buffer that cannot grow to it (libpq then counts
// the length without the length word itself). libpq gives the connection
// up, and contrib adds the socket it then lacks.
func syncLost(hdr []byte, why string) *pgerr.Error {
	n := int(binary.BigEndian.Uint32(hdr[1:5]))
	if why != "" {
		n -= 4
	}
	return &pgerr.Error{SQLState: "08006", Remote: true, Message: fmt.Sprintf(
		"%slost synchronization with server: got message type \"%c\", length %d\ninvalid socket", why, hdr[0], n)}
}

// protocolViolation is the error of a message out of protocol order or
// malformed, after which the connection is given up (see Run.violation).
func protocolViolation(format string, args ...any) *pgerr.Error {
	return &pgerr.Error{SQLState: "08006", Remote: true, Message: fmt.Sprintf(format, args...)}
}

// errCopyOut ends a COPY TO STDOUT, whose data dblink has nowhere to put:
// it is read and dropped, and the connection goes on.
var errCopyOut = &pgerr.Error{SQLState: "0A000", Remote: true, Message: "COPY TO STDOUT is not supported by dblink"}

// errResultMemory is libpq's report of a row it has no memory for; the
// connection goes on.
var errResultMemory = &pgerr.Error{SQLState: "08006", Remote: true, Message: "out of memory for query result"}

// lost is the error a run reports when reading broke off with err.
func lost(err error) error {
	var e *pgerr.Error
	if errors.As(err, &e) {
		return e
	}
	return pgerr.LostConnection
}
