// Package conn is one remote connection of dblink: opening it from a libpq
// connection string, running queries on it with results streamed in
// batches, and closing it. It knows nothing about PostgreSQL's backend; the
// errors it returns carry everything the shim needs to report them the way
// contrib dblink does.
package conn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

	onClose   func()    // see OnClose
	closeOnce sync.Once // runs onClose once

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

// Plan is a connection string checked by Prepare, to be opened by Open.
type Plan struct {
	opts    Options
	set     Settings
	secrets secrets // hidden in Open's messages
}

// Prepare parses a connection string and applies the password rule,
// without touching a file or the network: the part of contrib's connect
// sequence that runs before the duplicate-name check, on the backend's
// thread.
func Prepare(connstr string, s Settings) (*Plan, error) {
	opts, err := ParseConnInfo(connstr)
	sec := secretsOf(connstr, opts)
	if err != nil {
		if s.RequirePassword {
			// contrib: an unparsable string never reaches libpq for a non-superuser
			return nil, errPasswordNotGiven()
		}
		return nil, connectFailed(err.Error(), sec)
	}
	if s.RequirePassword && !opts.HasPassword() && !s.scramPassthrough(opts) {
		return nil, errPasswordNotGiven()
	}
	return &Plan{opts: opts, set: s, secrets: sec}, nil
}

// Open builds the connection's config (reading the files it needs) and
// connects. A cancelled ctx ends the attempt.
func Open(ctx context.Context, p *Plan) (*Conn, error) {
	s := p.set
	cfg, skipped, err := buildConfig(p.opts, s)
	if err != nil {
		return nil, connectFailed(err.Error(), p.secrets)
	}
	c := &Conn{sem: make(chan struct{}, 1)}
	c.notifications.max, c.notifications.what = maxQueuedNotifications, "unread notifications on a connection"
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { c.handleNotice(n) }
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		c.queueNotification(Notification{Channel: n.Channel, PID: n.PID, Payload: n.Payload})
	}
	pg, err := connect(ctx, cfg, s)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// the password rule's refusal, unless the list was the string's own
		// require_auth (then it is libpq's failure, as contrib reports it)
		if s.RequirePassword && cfg.RequireAuth != p.opts["require_auth"] && isPolicyFailure(err, cfg.RequireAuth) {
			return nil, errPasswordNotRequested()
		}
		return nil, connectFailed(strings.Join(append(skipped, connectErrorMessage(err)), "\n"), p.secrets)
	}
	meta := newConnMeta(pg, cfg)
	if c.w, err = newWire(pg, c.queueNotification, c.handleNotice); err != nil {
		pg.Close(ctx)
		return nil, connectFailed(err.Error(), p.secrets)
	}
	meta.serverVersion = c.w.params["server_version"]
	c.meta = meta
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

// endsAttempts reports a server error after which neither libpq nor pgconn
// tries the next host: a wrong password, a missing database, no CONNECT
// privilege.
func endsAttempts(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "28P01", "3D000", "42501":
		return true
	}
	return false
}

// attemptErrors are the failures of the hosts tried one by one by connect.
type attemptErrors []error

func (a attemptErrors) Error() string { return connectErrorMessage(a) }

func connectErrorMessage(err error) string {
	if a, ok := err.(attemptErrors); ok {
		msgs := make([]string, len(a))
		for i, e := range a {
			msgs[i] = ConnectErrorMessage(e)
		}
		return strings.Join(msgs, "\n")
	}
	return ConnectErrorMessage(err)
}

// connect is pgconn.ConnectConfig, except under the password rule with
// several hosts: a server that does not ask for the password ends the
// attempt there, as in contrib (libpq connects to that host and dblink then
// refuses the connection), where pgconn would move on to the next host.
func connect(ctx context.Context, cfg *pgconn.Config, s Settings) (*pgconn.PgConn, error) {
	if !s.RequirePassword || len(cfg.Fallbacks) == 0 {
		return pgconn.ConnectConfig(ctx, cfg)
	}
	attempts := append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...)
	var failed attemptErrors
	for i, a := range attempts {
		one := cfg.Copy()
		one.Host, one.Port, one.TLSConfig, one.Fallbacks = a.Host, a.Port, a.TLSConfig, nil
		pg, err := pgconn.ConnectConfig(ctx, one)
		if err == nil {
			return pg, nil
		}
		if ctx.Err() != nil || isPolicyFailure(err, cfg.RequireAuth) {
			return nil, err
		}
		// sslmode=prefer tries a host with TLS, then without: as libpq,
		// report only how the host's last attempt failed
		if i > 0 && attempts[i-1].Host == a.Host && attempts[i-1].Port == a.Port {
			failed = failed[:len(failed)-1]
		}
		failed = append(failed, err)
		if endsAttempts(err) {
			break
		}
	}
	return nil, failed
}

// Connect is Prepare followed by Open.
func Connect(ctx context.Context, connstr string, s Settings) (*Conn, error) {
	p, err := Prepare(connstr, s)
	if err != nil {
		return nil, err
	}
	return Open(ctx, p)
}

// Close ends the session politely (a Terminate message) once no operation
// uses the connection, or abruptly when ctx ends first.
func (c *Conn) Close(ctx context.Context) {
	defer c.closing() // the socket is closed now
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
		c.closed.Store(true)
		c.w.sk.Close()
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
	if c.w != nil { // nil: a test's stand-in
		c.w.sk.Close()
	}
	c.closing()
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
		c.closing()
		return
	}
	go func() {
		defer recoverQuietly()
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		c.Close(ctx)
	}()
}

// OnClose sets f to run once, when c's socket has been closed (by Close or
// CloseSoon, perhaps on another goroutine): the owner's count of open
// connections drops then, and with it the external-FD slot the shim holds
// for it, not while the descriptor is still open. Set it before c is
// shared.
func (c *Conn) OnClose(f func()) { c.onClose = f }

func (c *Conn) closing() {
	c.closeOnce.Do(func() {
		if c.onClose != nil {
			c.onClose()
		}
	})
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

// TakeNotifications returns the oldest notifications received and not yet
// taken, in arrival order, each once: at most n of them and about a
// batch's bytes, so that handing them over is bounded work.
func (c *Conn) TakeNotifications(n int) []Notification {
	return c.notifications.takeUpTo(n, batchBytes, Notification.size)
}

// Notifications is how many notifications wait to be taken.
func (c *Conn) Notifications() int { return c.notifications.len() }
