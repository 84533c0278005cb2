package session

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// Dropping a connection whose async query dblink_is_busy peeked into frees
// every batch the query produced, the peeked one included.
func TestForgetFreesPeekedBatch(t *testing.T) {
	var freed atomic.Int32
	s, o := newTestSession(t, func(ctx context.Context, emit emitFunc) Item {
		for i := 1; i <= 3; i++ {
			if !emit(rows(i)) {
				break
			}
		}
		<-ctx.Done()
		return Item{Kind: Failed, Err: ctx.Err()}
	})
	s.enc.Free = func(any) { freed.Add(1) }
	for deadline := time.Now().Add(5 * time.Second); s.IsBusy("a"); {
		if time.Now().After(deadline) {
			t.Fatal("still busy 5 s after a batch was ready")
		}
		time.Sleep(time.Millisecond)
	}
	name := "a"
	s.forget(s.reg.get(&name))
	o.Wait(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for freed.Load() != 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := freed.Load(); n != 3 {
		t.Fatalf("freed %d batches of 3", n)
	}
}

// An operation the backend started on a connection keeps it in progress
// until the backend releases it, finished or not: a nested call fails at
// once (it would otherwise wait for the outer call, or run in its middle).
func TestStartedOperationKeepsConnectionBusy(t *testing.T) {
	s := New(func() {}, Encoder{Encode: func(b *conn.Batch) any { return b }, Free: func(any) {}})
	e := &entry{c: &conn.Conn{}}
	if !s.reg.add("a", e) {
		t.Fatal("name taken")
	}
	// finished, not yet released: the backend converts its rows
	outer := s.finished(rowsOf(1, 1), end(1), Item{Kind: Done})
	e.hold(outer)
	var tc0 Operation
	for _, tc := range []struct {
		name  string
		start func() Operation
		code  string
	}{
		{"dblink", func() Operation {
			return s.Query(Target{Name: "a", Named: true}, "SELECT 1", conn.ModeRows, config.Settings{})
		}, "XX000"},
		{"dblink_exec", func() Operation {
			return s.Query(Target{Name: "a", Named: true}, "SELECT 1", conn.ModeExec, config.Settings{})
		}, "08006"},
		{"dblink_fetch", func() Operation { name := "a"; return s.FetchCursor(&name, "c", 1) }, "08006"},
	} {
		o := tc.start()
		tc0 = o
		got := poll(t, o)
		e, ok := got.Err.(*pgerr.Error)
		if got.Kind != Failed || !ok || e.SQLState != tc.code {
			t.Errorf("%s nested: got %+v, want a %s error", tc.name, got, tc.code)
		}
		o.Release()
	}
	if notice, err := s.SendQuery("a", "SELECT 1"); err != nil || notice == "" {
		t.Errorf("dblink_send_query nested: notice %q, err %v", notice, err)
	}
	if msg, _ := s.ErrorMessage("a"); msg != "another command is already in progress\nanother command is already in progress\nanother command is already in progress\nanother command is already in progress" {
		t.Errorf("error text %q", msg)
	}
	e.letGo(tc0)
	if e.busy != outer {
		t.Error("another operation's end made the connection free")
	}
	e.letGo(outer)
	if e.busy != nil {
		t.Error("still in progress after the release")
	}
}

// A connection whose operation is converting rows cannot be closed or
// replaced by a nested call; once released it can.
func TestConnectionInUseIsNotClosed(t *testing.T) {
	s := New(func() {}, Encoder{Encode: func(b *conn.Batch) any { return b }, Free: func(any) {}})
	e := &entry{c: &conn.Conn{}}
	if !s.reg.add("a", e) {
		t.Fatal("name taken")
	}
	outer := s.finished(rowsOf(1, 1), Item{Kind: Done})
	e.hold(outer)
	name := "a"
	if found, err := s.Disconnect(&name); !found || pgerr.AsError(err).SQLState != "55006" {
		t.Fatalf("disconnect while in use: %v %v", found, err)
	}
	if !s.Has(&name) {
		t.Fatal("the connection in use was dropped")
	}
	// nor can the unnamed connection be replaced while it is read
	u := &entry{c: &conn.Conn{}}
	s.reg.setUnnamed(u)
	u.hold(outer)
	if it := s.Connect(nil, "dbname=x", "", config.Settings{}, false).Next(); it.Kind != Failed || pgerr.AsError(it.Err).SQLState != "55006" {
		t.Fatalf("unnamed connect while in use: %+v", it)
	}
	if s.reg.get(nil) != u {
		t.Fatal("the unnamed connection in use was replaced")
	}
	e.letGo(outer)
	s.reg.remove(&name) // a stand-in connection cannot be closed for real
	if found, err := s.Disconnect(&name); found || err != nil {
		t.Fatalf("disconnect after: %v %v", found, err)
	}
}

// An operation that panicked is dropped with its connection: the name is
// free again, nothing stays busy.
func TestAbortFreesTheConnection(t *testing.T) {
	s := New(func() {}, Encoder{Encode: func(b *conn.Batch) any { return b }, Free: func(any) {}})
	e := &entry{c: &conn.Conn{}}
	if !s.reg.add("a", e) {
		t.Fatal("name taken")
	}
	p := s.finished(Item{Kind: Done})
	e.hold(p)
	s.Abort(p)
	name := "a"
	if s.Has(&name) || !e.c.IsClosed() || e.busy != nil {
		t.Fatal("the connection of an aborted operation stayed")
	}
}
