package conn

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sock is the net.Conn pgconn dials through (see dialer.DialContext). It is
// a plain socket until the engine switches it to non-blocking mode, in
// which the backend's thread drives it without ever parking: Read does one
// raw read and reports "would block" as a temporary timeout (which neither
// the engine nor crypto/tls treats as fatal), and Write queues what the
// socket does not take at once, to be flushed when the socket is writable.
// A TLS connection wraps a sock, so the same holds under TLS.
//
// Once pgconn hands the connection over, detach takes the socket out of
// Go's netpoller: there an idle runtime thread waiting for a timer woke on
// every packet the remote sent to the backend's thread (9 % of the
// backend's CPU for a million rows). Blocking reads and writes, which only
// goroutines make after that (cancel, close), wait in poll(2). While
// pgconn connects the netpoller stays: a goroutine blocked in poll(2) per
// message cost 2.6 times the context switches per connect.
type sock struct {
	net.Conn
	// fd is the socket's descriptor, -1 for a connection without one
	// (tests' pipes), which stays a blocking net.Conn
	fd       int
	detached atomic.Bool // fd is a duplicate of Conn's, which is closed
	nonblock atomic.Bool
	out      []byte // queued output, non-blocking mode only
	// deadlines of blocking reads and writes (Unix nanoseconds, 0 for
	// none), kept for wait once detached: set by a goroutine that watches
	// the one reading or writing
	rdl, wdl atomic.Int64
	// mu orders raw reads and writes on fd against Close: once the socket
	// is closed its number may belong to another file at once (a new
	// connection, a relation file), and a raw write then would land there
	mu   sync.Mutex
	shut bool // closed: fd is not ours any more
	// onShut, if set, runs once the socket is closed, whoever closed it
	// and why (see Conn.OnClose); set before the socket is shared
	onShut func()
	// bytes moved, for dblink_connections (read while another goroutine
	// may hold the connection)
	sent, received atomic.Int64
}

// errWouldBlock is a non-blocking read that found no input, or a write the
// socket could not take. Timeout and Temporary are true: crypto/tls keeps a
// tls.Conn usable after such an error.
var errWouldBlock = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "operation would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// newSock wraps c; a connection without a raw fd (tests' pipes) stays
// blocking.
func newSock(c net.Conn) *sock {
	s := &sock{Conn: c, fd: -1}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { s.fd = int(fd) })
		}
	}
	return s
}

// detach takes the socket out of Go's netpoller: the poller's
// descriptor is closed after a duplicate took its place (the socket stays
// open, and no FIN is sent, while one descriptor refers to it). If the
// duplicate cannot be made the socket stays as it was, which works as well.
func (s *sock) detach() {
	if s.fd < 0 || s.detached.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return
	}
	fd, err := unix.FcntlInt(uintptr(s.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return
	}
	_ = s.Conn.Close() // takes its descriptor out of the poller first
	s.fd = fd
	s.detached.Store(true)
}

// Close closes the socket; raw reads and writes fail from then on. Every
// close of a connection's socket ends here (a TLS connection's Close too),
// so onShut runs whatever path gave the connection up.
func (s *sock) Close() error {
	s.mu.Lock()
	if s.shut {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.shut = true
	var err error
	if s.detached.Load() {
		err = unix.Close(s.fd)
	} else {
		err = s.Conn.Close()
	}
	s.mu.Unlock()
	if s.onShut != nil {
		s.onShut()
	}
	return err
}

// isShut reports whether the socket was closed.
func (s *sock) isShut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shut
}

// rawIO runs f on the socket's fd unless the socket is closed.
func (s *sock) rawIO(f func(fd int) (int, error)) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return 0, net.ErrClosed
	}
	return f(s.fd)
}

// setNonblock switches modes; only the holder of the connection calls it.
func (s *sock) setNonblock(on bool) { s.nonblock.Store(on && s.fd >= 0) }

// Read is net.Conn's Read, or one raw read in non-blocking mode.
func (s *sock) Read(p []byte) (int, error) {
	if s.nonblock.Load() {
		return s.readNow(p)
	}
	if !s.detached.Load() {
		n, err := s.Conn.Read(p)
		s.received.Add(int64(n))
		return n, err
	}
	for {
		// a deadline ends a read even when input keeps coming, as Go's
		// poller has it: a server that floods must not hold a goroutine
		if expired(&s.rdl) {
			return 0, os.ErrDeadlineExceeded
		}
		n, err := s.readNow(p)
		if err != errWouldBlock {
			return n, err
		}
		if err := s.wait(unix.POLLIN, &s.rdl); err != nil {
			return 0, err
		}
	}
}

// readNow is one raw read: a plain read(2) on the fd the holder owns (Go's
// poller would only add locking, and must not park the backend's thread
// anyway).
func (s *sock) readNow(p []byte) (int, error) {
	n, rerr := s.rawIO(func(fd int) (int, error) { return syscall.Read(fd, p) })
	if rerr == net.ErrClosed {
		return 0, rerr
	}
	if n < 0 {
		n = 0
	}
	switch {
	case rerr == syscall.EAGAIN || rerr == syscall.EINTR:
		return 0, errWouldBlock
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: rerr}
	case n == 0 && len(p) > 0:
		return 0, errEOF
	}
	s.received.Add(int64(n))
	return n, nil
}

// errEOF is the end of the stream seen by a raw read.
var errEOF = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("EOF")}

// Write is net.Conn's Write (after any queued output), or in non-blocking
// mode queues p and writes what the socket takes now: it always reports
// the whole of p written, so crypto/tls never sees a short write.
func (s *sock) Write(p []byte) (int, error) {
	if !s.nonblock.Load() {
		if err := s.flushBlocking(); err != nil {
			return 0, err
		}
		if s.detached.Load() {
			s.out = append(s.out, p...)
			if err := s.flushBlocking(); err != nil {
				return 0, err
			}
			return len(p), nil
		}
		n, err := s.Conn.Write(p)
		s.sent.Add(int64(n))
		return n, err
	}
	s.out = append(s.out, p...)
	if err := s.flush(); err != nil && err != errWouldBlock {
		return 0, err
	}
	return len(p), nil
}

// flushBlocking writes the queued output, waiting for the socket as long
// as the write deadline allows.
func (s *sock) flushBlocking() error {
	if !s.detached.Load() {
		if len(s.out) == 0 {
			return nil
		}
		n, err := s.Conn.Write(s.out)
		s.sent.Add(int64(n))
		s.out = s.out[:0]
		return err
	}
	for {
		if expired(&s.wdl) {
			return os.ErrDeadlineExceeded
		}
		err := s.flush()
		if err != errWouldBlock {
			return err
		}
		if err := s.wait(unix.POLLOUT, &s.wdl); err != nil {
			return err
		}
	}
}

// flush writes queued output without blocking; errWouldBlock when some is
// left.
func (s *sock) flush() error {
	for len(s.out) > 0 {
		n, werr := s.rawIO(func(fd int) (int, error) { return syscall.Write(fd, s.out) })
		if werr == net.ErrClosed {
			return werr
		}
		if werr == syscall.EAGAIN || werr == syscall.EINTR {
			return errWouldBlock
		}
		if werr != nil {
			return &net.OpError{Op: "write", Net: "tcp", Err: werr}
		}
		s.sent.Add(int64(n))
		s.out = s.out[:copy(s.out, s.out[n:])]
	}
	return nil
}

// NetConn returns the connection under s, as tls.Conn's does.
func (s *sock) NetConn() net.Conn { return s.Conn }

// waitSlice is the longest single poll(2) of a blocking read or write: a
// deadline set meanwhile, or a Close, takes effect within it.
const waitSlice = 100 * time.Millisecond

// wait blocks until the socket is ready for events, the deadline in dl
// passes (os.ErrDeadlineExceeded, a timeout as net.Conn's) or the socket
// is closed.
func (s *sock) wait(events int16, dl *atomic.Int64) error {
	for {
		slice := waitSlice
		if d := dl.Load(); d != 0 {
			left := time.Until(time.Unix(0, d))
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			slice = min(slice, left)
		}
		if s.isShut() {
			return net.ErrClosed
		}
		ms := int((slice + time.Millisecond - 1) / time.Millisecond)
		fds := []unix.PollFd{{Fd: int32(s.fd), Events: events}}
		n, err := unix.Poll(fds, ms)
		if n > 0 || (err != nil && err != unix.EINTR) {
			return nil // ready, or an error the next read or write reports
		}
	}
}

// SetDeadline is net.Conn's, kept for wait too.
func (s *sock) SetDeadline(t time.Time) error {
	s.rdl.Store(unixNano(t))
	s.wdl.Store(unixNano(t))
	return s.forward(func(c net.Conn) error { return c.SetDeadline(t) })
}

// SetReadDeadline is net.Conn's, kept for wait too.
func (s *sock) SetReadDeadline(t time.Time) error {
	s.rdl.Store(unixNano(t))
	return s.forward(func(c net.Conn) error { return c.SetReadDeadline(t) })
}

// SetWriteDeadline is net.Conn's, kept for wait too.
func (s *sock) SetWriteDeadline(t time.Time) error {
	s.wdl.Store(unixNano(t))
	return s.forward(func(c net.Conn) error { return c.SetWriteDeadline(t) })
}

// forward sets a deadline on the connection under s while it is still
// Go's (after detach it is closed).
func (s *sock) forward(set func(net.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detached.Load() || s.shut {
		return nil
	}
	return set(s.Conn)
}

// expired reports whether the deadline in dl has passed.
func expired(dl *atomic.Int64) bool {
	d := dl.Load()
	return d != 0 && time.Now().UnixNano() >= d
}

// unixNano is t for a deadline field: 0 for none.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
