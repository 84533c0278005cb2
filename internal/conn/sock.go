package conn

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// sock is the net.Conn pgconn dials through (see dialer.DialContext). It is
// a plain socket until the engine switches it to non-blocking mode, in
// which the backend's thread drives it without ever parking: Read does one
// raw read and reports "would block" as a temporary timeout (which neither
// the engine nor crypto/tls treats as fatal), and Write queues what the
// socket does not take at once, to be flushed when the socket is writable.
// A TLS connection wraps a sock, so the same holds under TLS.
type sock struct {
	net.Conn
	raw      syscall.RawConn
	fd       int
	nonblock atomic.Bool
	out      []byte // queued output, non-blocking mode only
	// mu orders raw reads and writes on fd against Close: once the socket
	// is closed its number may belong to another file at once (a new
	// connection, a relation file), and a raw write then would land there
	mu   sync.Mutex
	shut bool // closed: fd is not ours any more
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
			s.raw = raw
			_ = raw.Control(func(fd uintptr) { s.fd = int(fd) })
		}
	}
	return s
}

// Close closes the socket; raw reads and writes fail from then on.
func (s *sock) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shut = true
	return s.Conn.Close()
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
func (s *sock) setNonblock(on bool) { s.nonblock.Store(on && s.raw != nil) }

// Read is net.Conn's Read, or one raw read in non-blocking mode.
func (s *sock) Read(p []byte) (int, error) {
	if !s.nonblock.Load() {
		n, err := s.Conn.Read(p)
		s.received.Add(int64(n))
		return n, err
	}
	// a plain read(2) on the fd the holder owns: Go's poller would only add
	// locking, and must not park the backend's thread anyway
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
		if len(s.out) > 0 {
			n, err := s.Conn.Write(s.out)
			s.sent.Add(int64(n))
			if err != nil {
				return 0, err
			}
			s.out = s.out[:0]
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
