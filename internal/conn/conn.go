// Package conn is one remote connection of dblink once it is made: the
// wire protocol after pgconn's connect, queries with their results
// streamed in batches, the state the shim shares to drive an idle
// connection itself, and closing. Connection strings and configs are
// package config's. It knows nothing about PostgreSQL's backend; its
// errors are pgerr's.
package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/jackc/pgx/v5/pgconn"
)

// Conn is one open connection to a remote server. Operations on it are
// serialized: Query waits (interruptibly) for the previous one to finish,
// which matters after a cancelled query still draining in the background.
type Conn struct {
	w   *wire         // the protocol, after pgconn made the connection
	sem chan struct{} // held by the operation using w
	// closed: the connection is known to be gone, as the last operation
	// that used it left it (readable while another goroutine holds it)
	closed atomic.Bool
	// wake, if set, is called whenever an operation lets go of the
	// connection: a backend waiting for it polls again
	wake func()

	closeMu sync.Mutex
	onClose func() // see OnClose; nil once run
	shut    bool   // the socket is closed

	meta     connMeta                  // what dblink_connections shows, fixed at connect
	lastUsed atomic.Int64              // when an operation last took it, Unix ns
	label    atomic.Pointer[connLabel] // its name, for relayed notices

	// notifications received and not yet read by the backend
	notifications boundedQueue[Notification]

	// direct: what the shim reads and writes to drive c itself while it
	// is idle (see direct.go), or nil
	direct atomic.Pointer[Direct]
}

// Notification is one LISTEN/NOTIFY message received on a connection.
type Notification struct {
	Channel string
	PID     uint32
	Payload string
}

// Open connects as p says (reading the files it needs). A cancelled ctx
// ends the attempt.
func Open(ctx context.Context, p *config.Plan) (*Conn, error) {
	c := &Conn{sem: make(chan struct{}, 1)}
	c.notifications.max, c.notifications.what = maxQueuedNotifications, "unread notifications on a connection"
	pg, cfg, err := p.Connect(ctx, config.Hooks{
		OnNotice: func(_ *pgconn.PgConn, n *pgconn.Notice) { c.handleNotice(n) },
		OnNotification: func(_ *pgconn.PgConn, n *pgconn.Notification) {
			c.queueNotification(Notification{Channel: n.Channel, PID: n.PID, Payload: n.Payload})
		},
		// the backend's thread drives the socket without parking (sock.go)
		WrapConn: func(nc net.Conn) net.Conn { return newSock(nc) },
	})
	if err != nil {
		return nil, err
	}
	meta := newConnMeta(pg, cfg)
	if c.w, err = newWire(pg, c.queueNotification, c.handleNotice); err != nil {
		pg.Close(ctx)
		return nil, p.Failed(err)
	}
	meta.serverVersion = c.w.params["server_version"]
	c.meta = meta
	c.w.sk.onShut = c.closing
	return c, nil
}

// maxQueuedNotifications bounds what a remote server can make the
// backend hold by notifying faster than dblink_get_notify reads.
const maxQueuedNotifications = 64 << 20 // bytes of channel names and payloads

func (c *Conn) queueNotification(n Notification) {
	c.notifications.push(n, n.size())
}

// size is what a notification counts for in its queue.
func (n Notification) size() int { return len(n.Channel) + len(n.Payload) + 64 }

// SetWake sets the function called whenever an operation lets go of the
// connection. Call it before c is shared.
func (c *Conn) SetWake(f func()) { c.wake = f }

// Connect is config.Prepare followed by Open.
func Connect(ctx context.Context, connstr string, s config.Settings) (*Conn, error) {
	p, err := config.Prepare(connstr, s)
	if err != nil {
		return nil, err
	}
	return Open(ctx, p)
}

// Close ends the session politely (a Terminate message) once no operation
// uses the connection, or abruptly when ctx ends first.
func (c *Conn) Close(ctx context.Context) {
	select {
	case c.sem <- struct{}{}:
		deadline := time.Now().Add(closeTimeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		c.w.terminate(deadline)
		c.closed.Store(true)
		<-c.sem
	case <-ctx.Done():
		// An operation still holds the connection (its query was cancelled
		// and has not ended): cut the socket.
		c.Cut()
	}
}

// PID is the remote backend's process ID.
func (c *Conn) PID() uint32 { return c.w.pg.PID() }

// CancelRequest asks the remote server to cancel whatever the connection is
// running, on a separate connection, as libpq's PQcancel does (pgconn's
// request, made from the handed-over connection's address and keys).
func (c *Conn) CancelRequest(ctx context.Context) error {
	if !c.w.cancellable() {
		return errNoCancelKey
	}
	return c.w.pg.CancelRequest(ctx)
}

// errNoCancelKey: the server sent no BackendKeyData, so no cancel request
// can name its session (libpq would send pid 0 and key 0).
var errNoCancelKey = errors.New("server sent no cancel key")

// acquire waits for the connection to be free.
func (c *Conn) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		c.lastUsed.Store(time.Now().UnixNano())
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release lets go of the connection, first noting whether the operation
// found it lost.
func (c *Conn) release() {
	<-c.sem
	if c.wake != nil {
		c.wake()
	}
}

// tryAcquire takes the connection if no operation uses it (and the shim
// is not in a round trip on it). Backend's thread only.
func (c *Conn) tryAcquire() bool {
	select {
	case c.sem <- struct{}{}:
		if !c.take() {
			<-c.sem
			return false
		}
		c.lastUsed.Store(time.Now().UnixNano())
		return true
	default:
		return false
	}
}

// logNotice writes a remote NOTICE or WARNING to the server's log the way
// libpq's default notice processor does under contrib dblink (during the
// connect; the wire logs the later ones).
func logNotice(_ *pgconn.PgConn, n *pgconn.Notice) {
	fmt.Fprintf(os.Stderr, "%s:  %s\n", n.Severity, n.Message)
}

// closeTimeout bounds a polite close; past it the socket is cut.
const closeTimeout = 2 * time.Second

// Cut closes c's socket at once, whoever holds it (an operation that
// holds it fails on its next read); for a connection whose state is
// unknown.
func (c *Conn) Cut() {
	c.closed.Store(true)
	if c.w == nil { // a test's stand-in
		c.closing()
		return
	}
	c.w.sk.Close()
}

// CloseSoon closes c without waiting: at once when no operation holds it,
// else in the background once the holder lets go (or cut after
// closeTimeout).
func (c *Conn) CloseSoon() {
	if c.tryAcquire() {
		// idle: closed at once, as PQfinish does, so the slot is free
		// for the backend's next connect
		c.w.terminateNow()
		c.closed.Store(true)
		c.Let()
		return
	}
	go func() {
		defer recoverQuietly()
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		c.Close(ctx)
	}()
}

// OnClose sets f to run once, when c's socket has been closed, whoever
// closed it (Close, CloseSoon, Cut, or a read that found the connection
// broken; perhaps on another goroutine), or at once if it is closed
// already: the owner's count of open connections drops then, and with it
// the external-FD slot the shim holds for it, not while the descriptor is
// still open.
func (c *Conn) OnClose(f func()) {
	c.closeMu.Lock()
	shut := c.shut
	if !shut {
		c.onClose = f
	}
	c.closeMu.Unlock()
	if shut {
		f()
	}
}

// closing runs when c's socket has been closed (sock.onShut).
func (c *Conn) closing() {
	c.closeMu.Lock()
	f := c.onClose
	c.onClose, c.shut = nil, true
	c.closeMu.Unlock()
	if f != nil {
		f()
	}
}

// recoverQuietly ends a panic in a goroutine of ours that has nobody to
// report to: a panic that escapes a goroutine aborts the process, which
// makes the postmaster crash-restart every session of the cluster.
func recoverQuietly() { _ = recover() }

// IsClosed reports whether the connection is known to be gone, as the last
// operation that used it left it. Safe while another goroutine uses it.
func (c *Conn) IsClosed() bool { return c.closed.Load() }

// ConsumeInput reads what the server sent while the connection was idle
// (notifications, parameter changes, a FATAL before it went away) without
// waiting, as PQconsumeInput does: nothing is sent. It does nothing while
// an operation uses the connection (that operation reads it anyway). A
// FATAL error or a broken socket marks the connection closed, as it would
// for libpq. A call does bounded work: more reports that input is left,
// for another call after the backend has served its interrupts.
func (c *Conn) ConsumeInput() (more bool) {
	if c.closed.Load() || !c.tryAcquire() {
		return false
	}
	defer c.Let() // the backend's thread held it: nobody waits to be woken
	closed, more := c.w.consumeInput()
	if closed {
		c.closed.Store(true)
		c.w.nc.Close()
	}
	return more
}

// Lost reports whether the remote side of an idle connection is gone: the
// socket closed or reset, or the server sent a FATAL error while idle (read
// here, with whatever else arrived). A connection in use is not judged.
func (c *Conn) Lost() bool {
	c.ConsumeInput()
	return c.closed.Load() || peerGone(c.w.fd())
}

// TakeNotifications returns the oldest notifications received and not yet
// taken, in arrival order, each once: at most n of them and about a
// batch's bytes, so that handing them over is bounded work.
func (c *Conn) TakeNotifications(n int) []Notification {
	return c.notifications.takeUpTo(n, batchBytes, Notification.size)
}

// Notifications is how many notifications wait to be taken.
func (c *Conn) Notifications() int { return c.notifications.len() }
