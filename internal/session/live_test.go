package session

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
)

// liveSession returns a session with a named connection "a" to the test
// server (DBLINK_TEST_PGHOST, DBLINK_TEST_PGPORT, DBLINK_TEST_PGUSER), or
// skips.
func liveSession(t *testing.T) *Session {
	t.Helper()
	host, port := os.Getenv("DBLINK_TEST_PGHOST"), os.Getenv("DBLINK_TEST_PGPORT")
	if host == "" || port == "" {
		t.Skip("DBLINK_TEST_PGHOST/DBLINK_TEST_PGPORT not set")
	}
	user := os.Getenv("DBLINK_TEST_PGUSER")
	if user == "" {
		user = "postgres"
	}
	s := New(func() {}, Encoder{Encode: func(b *conn.Batch) any { return b.NRows }, Free: func(any) {}})
	t.Cleanup(s.Shutdown)
	name := "a"
	connstr := fmt.Sprintf("host='%s' port='%s' user='%s' dbname=postgres application_name=dblink_go_live", host, port, user)
	if it := finish(t, s.Connect(&name, connstr, "", config.Settings{}, false)); it.Kind != Done {
		t.Fatalf("connect: %v", it.Err)
	}
	return s
}

// finish polls an operation to its final item and releases it.
func finish(t *testing.T, o Operation) Item {
	t.Helper()
	defer o.Release()
	for {
		switch it := poll(t, o); it.Kind {
		case Done, Failed:
			return it
		}
	}
}

// A connection made by Open is one the backend's thread can drive: its
// socket is non-blocking and named for the shim's wait (a plain socket
// left blocking would make every wait uninterruptible).
func TestConnectionIsDrivableLive(t *testing.T) {
	s := liveSession(t)
	name := "a"
	if fd, _ := s.reg.get(&name).c.WaitSocket(); fd < 0 {
		t.Fatal("the connection has no socket for the backend to wait on")
	}
	if p := s.Query(Target{Name: "a", Named: true}, "SELECT 1", conn.ModeRows, config.Settings{}); FirstWait(p) == nil {
		t.Fatal("a query that went out whole has no first wait")
	} else {
		finish(t, p)
	}
}

// The backend's thread asks whether a connection is lost (sending a query,
// a cancel request) while a goroutine uses the same PgConn: an async query
// running, or one being discarded. Under -race this finds any read of
// pgconn's state outside the goroutine that holds the connection.
func TestIsClosedWhileInUseLive(t *testing.T) {
	s := liveSession(t)
	a := Target{Name: "a", Named: true}
	for i := 0; i < 3; i++ {
		if notice, err := s.SendQuery("a", "SELECT pg_sleep(0.05)"); notice != "" || err != nil {
			t.Fatalf("send: %q %v", notice, err)
		}
		// dblink_cancel_query checks the connection while the query runs
		if it := finish(t, s.CancelQuery("a")); it.Kind != Done || it.Text != "OK" {
			t.Fatalf("cancel: %+v", it)
		}
		if notice, err := s.SendQuery("a", "SELECT 1"); notice == "" || err != nil {
			t.Fatalf("second send while pending: %q %v", notice, err)
		}
		// dblink() discards the pending query, which goes on in the
		// background; the next call checks the connection meanwhile
		if it := finish(t, s.Query(a, "SELECT 1", conn.ModeRows, config.Settings{})); it.Kind != Failed {
			t.Fatalf("dblink() while pending: %+v", it)
		}
		s.IsBusy("a")
		if it := finish(t, s.Query(a, "SELECT 2", conn.ModeExec, config.Settings{})); it.Kind != Done {
			t.Fatalf("dblink_exec after the discard: %+v", it)
		}
	}
	// a query interrupted in the middle of its result goes on draining
	// while notifications are read and new queries are sent
	o := s.Query(a, "SELECT g, pg_sleep(0.001) FROM generate_series(1, 200) g", conn.ModeRows, config.Settings{})
	poll(t, o)
	o.Discard()
	name := "a"
	finish(t, s.GetNotify(&name))
	if notice, err := s.SendQuery("a", "SELECT 3"); notice != "" || err != nil {
		t.Fatalf("send after the discard: %q %v", notice, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.IsBusy("a") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if r := s.GetResult("a"); r == nil {
		t.Fatal("no result pending")
	} else {
		r.Release()
	}
}

// poll waits for the operation's next item.
func poll(t *testing.T, o Operation) Item {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if it := o.Next(); it.Kind != Pending {
			return it
		}
		if time.Now().After(deadline) {
			t.Fatal("no item within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
