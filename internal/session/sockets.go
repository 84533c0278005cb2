package session

import (
	"sync"

	"github.com/dblink-go/dblink/internal/conn"
)

// PostgreSQL caps a backend's file descriptors it does not manage itself
// (AcquireExternalFD), and contrib dblink counts each connection as one.
// The shim reserves a slot before every call that may connect and gives
// slots back while it holds more than Sockets: the session counts a
// connection from the moment its connect starts until the connect fails or
// the connection starts closing, whichever path closes it.

// reserveSocket counts one connection about to be opened; the function it
// returns uncounts it (once, however often it is called).
func (s *Session) reserveSocket() func() {
	s.sockets.Add(1)
	var once sync.Once
	return func() { once.Do(func() { s.sockets.Add(-1) }) }
}

// Sockets is the number of remote connections open or being opened.
func (s *Session) Sockets() int { return int(s.sockets.Load()) }

// openCounted runs open for a connection counted by reserveSocket: release
// runs when open fails (or panics), or later when the connection starts
// closing.
func openCounted(release func(), open func() (*conn.Conn, error)) (c *conn.Conn, err error) {
	defer func() {
		if c == nil {
			release()
		}
	}()
	c, err = open()
	if c != nil {
		c.OnClose(release)
	}
	return c, err
}
