package conn

import (
	"errors"
	"sync/atomic"
	"time"
)

// Direct is a registered connection's DgDirect (csrc/dblink_go_abi.h): the
// part of it the shim reads and writes itself, in memory the shim can
// keep. While the connection is idle, the shim sends a small query and
// reads a plain answer (row descriptions, rows, command tags, then
// ReadyForQuery) on the socket itself, without a call into Go; anything
// else it hands back with Adopt. Only the backend's thread touches it, in
// C or in Go, one at a time (Succeeded excepted, see DirectSucceeded).
//
// The layout must be the C struct's; the exported ABI checks it at load.
type Direct struct {
	State         uint32 // DirectOff, DirectIdle or DirectBusy
	FD            int32
	WaitID        uint64
	Token         uint64 // the registration it stands for; 0: none
	Tx            uint32 // last ReadyForQuery's status
	Succeeded     uint32 // the shim made a round trip since Go last looked
	RoundTrips    int64
	BytesSent     int64
	BytesReceived int64
	LastUsed      int64 // Unix ns
	DateStyle     [StyleLen]byte
	IntervalStyle [StyleLen]byte
}

// The states of Direct.State, and the room for a style (DG_STYLE_LEN).
const (
	DirectOff  = 0 // Go drives the socket, or nobody may
	DirectIdle = 1 // the shim may take it
	DirectBusy = 2 // the shim drives it
	StyleLen   = 64
)

// Attach makes d, zeroed but for Token, c's shared state, published as
// idle when c can be driven by the shim. Backend's thread only.
func (c *Conn) Attach(d *Direct) {
	c.direct.Store(d)
	c.publish()
}

// Detach ends the shim's use of c (its registration is gone) and returns
// its Direct for reuse, or nil. The shim checks Token before it touches a
// Direct, so a stale copy of the pointer is harmless.
func (c *Conn) Detach() *Direct {
	d := c.direct.Swap(nil)
	if d != nil {
		d.State, d.Token = DirectOff, 0
	}
	return d
}

// DirectState is c's Direct, or nil.
func (c *Conn) DirectState() *Direct { return c.direct.Load() }

// DirectBusy reports whether the shim is in the middle of a round trip on
// c: a call now is nested in the conversion of its rows.
func (c *Conn) DirectBusy() bool {
	d := c.direct.Load()
	return d != nil && d.State == DirectBusy
}

// DirectSucceeded reports, once, whether the shim has made a round trip
// since the last call: libpq's error text is empty again then. It may run
// on a goroutine that adds the failure of a result it reads to that text.
func (c *Conn) DirectSucceeded() bool {
	d := c.direct.Load()
	return d != nil && atomic.SwapUint32(&d.Succeeded, 0) != 0
}

// publish lets the shim drive c while nobody else does: a plain socket
// whose input has all been parsed and whose output has all gone, on a
// live connection with styles that fit. The caller is letting go of c.
func (c *Conn) publish() {
	d, w := c.direct.Load(), c.w
	if d == nil || d.State == DirectBusy {
		return
	}
	d.State = DirectOff
	ds, is := w.params["DateStyle"], w.params["IntervalStyle"]
	if c.closed.Load() || w.sk.fd < 0 || w.nc != w.sk || w.r != len(w.in) ||
		len(w.sk.out) > 0 || len(ds) >= StyleLen || len(is) >= StyleLen {
		return
	}
	fd := w.fd()
	if fd < 0 {
		return
	}
	d.FD, d.WaitID, d.Tx = int32(fd), w.id, w.tx.Load()
	d.DateStyle[copy(d.DateStyle[:], ds)] = 0
	d.IntervalStyle[copy(d.IntervalStyle[:], is)] = 0
	d.State = DirectIdle
}

// take makes Go the driver of c again after the shim's round trips, if
// any: their transaction status becomes the wire's. False while the shim
// is in a round trip.
func (c *Conn) take() bool {
	d := c.direct.Load()
	if d == nil {
		return true
	}
	switch d.State {
	case DirectBusy:
		return false
	case DirectIdle:
		c.w.tx.Store(d.Tx)
		d.State = DirectOff
	}
	return true
}

var errNotDirect = errors.New("the connection is not driven by the shim")

// Adopt takes over a query the shim sent on c itself and could not finish
// alone: unsent is what of the Query message the socket has not taken,
// received what arrived of the answer. The run goes on from there as if
// Go had sent the query; end it as any other (Finish, Abandon).
func (c *Conn) Adopt(sql string, mode Mode, unsent, received []byte) (*Run, error) {
	d := c.direct.Load()
	if d == nil || d.State != DirectBusy {
		return nil, errNotDirect
	}
	select {
	case c.sem <- struct{}{}:
	default:
		return nil, errNotDirect // cannot be: published only when free
	}
	d.State = DirectOff
	c.w.tx.Store(d.Tx)
	c.lastUsed.Store(time.Now().UnixNano())
	w := c.w
	w.queries.Add(1)
	w.sk.out = append(w.sk.out[:0], unsent...)
	w.in, w.r = append(w.in[:0], received...), 0
	q := c.Start(sql, mode)
	q.sent = true
	return q, nil
}
