package session

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

func newCountingSession() *Session {
	return New(func() {}, Encoder{Encode: func(b *conn.Batch) any { return b }, Free: func(any) {}})
}

// waitSockets waits up to 5 s for s.Sockets() to be want.
func waitSockets(t *testing.T, s *Session, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Sockets() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Sockets() = %d, want %d", s.Sockets(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSocketsNotCountedForABadString(t *testing.T) {
	s := newCountingSession()
	name := "a"
	o := s.Connect(&name, "no_such_option=1", "", config.Settings{}, false)
	if s.Sockets() != 0 {
		t.Fatalf("Sockets() = %d after a connect that failed before the network", s.Sockets())
	}
	if it := finish(t, o); it.Kind != Failed {
		t.Fatalf("got %v, want a failure", it.Kind)
	}
	o.Release()
}

func TestSocketsCountAConnectUntilItFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close() // nothing listens there now: the connect is refused
	s := newCountingSession()
	name := "a"
	connstr := "host=127.0.0.1 dbname=x user=x port=" + strconv.Itoa(addr.Port)
	o := s.Connect(&name, connstr, "", config.Settings{}, false)
	if it := finish(t, o); it.Kind != Failed {
		t.Fatalf("got %v, want a failure", it.Kind)
	}
	o.Release()
	waitSockets(t, s, 0)

	q := s.Query(Target{ConnStr: connstr}, "SELECT 1", conn.ModeRows, config.Settings{})
	if it := finish(t, q); it.Kind != Failed {
		t.Fatalf("transient: got %v, want a failure", it.Kind)
	}
	q.Release()
	waitSockets(t, s, 0)
}

func TestSocketsCountAnInterruptedConnect(t *testing.T) {
	// A listener that never accepts: the kernel completes the handshake
	// and the connect waits for an answer that never comes.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := newCountingSession()
	name := "a"
	o := s.Connect(&name, "host=127.0.0.1 dbname=x user=x port="+strconv.Itoa(l.Addr().(*net.TCPAddr).Port), "", config.Settings{}, false)
	if s.Sockets() != 1 {
		t.Fatalf("Sockets() = %d while connecting, want 1", s.Sockets())
	}
	o.Release() // the backend gave up (an interrupt)
	waitSockets(t, s, 0)
}

func TestOpenCountedReleasesOnFailureAndPanic(t *testing.T) {
	s := newCountingSession()
	release := s.reserveSocket()
	if _, err := openCounted(release, func() (*conn.Conn, error) { return nil, errors.New("no") }); err == nil {
		t.Fatal("want the error")
	}
	release() // once only
	waitSockets(t, s, 0)

	release = s.reserveSocket()
	func() {
		defer func() { _ = recover() }()
		openCounted(release, func() (*conn.Conn, error) { panic("boom") })
	}()
	waitSockets(t, s, 0)
}

func TestCheckPassword(t *testing.T) {
	s := New(func() {}, Encoder{})
	rule := config.Settings{RequirePassword: true}
	if err := s.CheckPassword("dbname=x", rule); err == nil || pgerr.AsError(err).SQLState != "2F003" {
		t.Fatalf("no password under the rule: got %v", err)
	}
	if s.prepared("dbname=x", rule) != nil {
		t.Fatal("a refused string left a plan")
	}
	if err := s.CheckPassword("dbname=x password=y", rule); err != nil {
		t.Fatalf("with a password: got %v", err)
	}
	// the plan serves the connect that follows, once, for the same string
	// and settings only
	if s.prepared("dbname=x password=z", rule) != nil || s.prepared("dbname=x password=y", rule) != nil {
		t.Fatal("a plan served another string, or outlived its first use")
	}
	s.CheckPassword("dbname=x password=y", rule)
	if s.prepared("dbname=x password=y", config.Settings{RequirePassword: true, ConnectTimeout: 3}) != nil {
		t.Fatal("a plan served other settings")
	}
	s.CheckPassword("dbname=x password=y", rule)
	if s.prepared("dbname=x password=y", rule) == nil {
		t.Fatal("the checked plan was not kept for the connect")
	}
	if err := s.CheckPassword("dbname=x port=bad password=y", rule); err != nil {
		t.Fatalf("other problems are the connect's to report: got %v", err)
	}
	if err := s.CheckPassword("dbname=x", config.Settings{}); err != nil || s.prepared("dbname=x", config.Settings{}) != nil {
		t.Fatalf("superuser: got %v, or a plan", err)
	}
}
