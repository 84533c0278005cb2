package session

import (
	"sync"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
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

// CheckPassword is the password rule's check of a connection string that
// contrib makes before it reserves the connection's slot: the error a
// non-superuser gets for a string without a password (or one that does not
// parse), else nil. Any other problem of the string is reported by the
// connect itself, after the slot, as libpq reports it. The plan it made
// serves the connect that follows (prepared), so the string is parsed once.
func (s *Session) CheckPassword(connstr string, set config.Settings) error {
	s.checked = checkedPlan{}
	if !set.RequirePassword {
		return nil
	}
	plan, err := config.Prepare(connstr, set)
	if err != nil {
		// 2F003 is what Prepare returns for the password rule and nothing else
		if pgerr.AsError(err).SQLState == "2F003" {
			return err
		}
		return nil
	}
	s.checked = checkedPlan{connstr: connstr, set: set, plan: plan}
	return nil
}

// checkedPlan is the plan the last CheckPassword made.
type checkedPlan struct {
	connstr string
	set     config.Settings
	plan    *config.Plan
}

// prepared returns, once, the plan CheckPassword made for connstr and set,
// or nil.
func (s *Session) prepared(connstr string, set config.Settings) *config.Plan {
	c := s.checked
	s.checked = checkedPlan{}
	if c.plan == nil || c.connstr != connstr || !c.set.Equal(set) {
		return nil
	}
	return c.plan
}

// plan is the plan of connstr: the one CheckPassword made for it, or a
// new one.
func (s *Session) plan(connstr string, set config.Settings) (*config.Plan, error) {
	if p := s.prepared(connstr, set); p != nil {
		return p, nil
	}
	return config.Prepare(connstr, set)
}
