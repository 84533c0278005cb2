package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
)

// newTestSession returns a session with a named connection "a" (never
// connected: the tests below do not touch the network) whose pending async
// query is the scripted op work.
func newTestSession(t *testing.T, work workFunc) (*Session, *goOp) {
	t.Helper()
	s := New(func() {}, Encoder{Encode: func(b *conn.Batch) any { return b }, Free: func(any) {}})
	o := s.start(nil, work)
	if !s.reg.add("a", &entry{c: &conn.Conn{}, busy: &asyncQuery{s: s, src: o}}) {
		t.Fatal("name taken")
	}
	return s, o
}

// script emits items in order, then ends with final.
func script(final Item, items ...Item) workFunc {
	return func(ctx context.Context, emit emitFunc) Item {
		for _, it := range items {
			if !emit(it) {
				return Item{Kind: Failed, Err: ctx.Err()}
			}
		}
		return final
	}
}

// next waits for the reader's next item.
func next(t *testing.T, r Operation) Item {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		it := r.Next()
		if it.Kind != Pending {
			return it
		}
		if time.Now().After(deadline) {
			t.Fatal("no item within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// read takes one result and returns the kinds of its items.
func read(t *testing.T, s *Session) []Kind {
	t.Helper()
	r := s.GetResult("a")
	if r == nil {
		return nil
	}
	defer r.Release()
	var kinds []Kind
	for {
		it := next(t, r)
		kinds = append(kinds, it.Kind)
		if it.Kind != Rows {
			return kinds
		}
	}
}

func equalKinds(a, b []Kind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func rows(n int) Item { return Item{Kind: Rows, Payload: n} }
func end(n int) Item  { return Item{Kind: ResultEnd, ResultNo: n} }

// rowsOf is a batch of rows (payload n) of result res.
func rowsOf(res, n int) Item { return Item{Kind: Rows, ResultNo: res, Payload: n} }
func command(n int) Item     { return Item{Kind: Command, ResultNo: n, Text: "SET"} }

// One call, one result; then one Done that makes the connection idle.
func TestGetResultOnePerCall(t *testing.T) {
	s, _ := newTestSession(t, script(Item{Kind: Done},
		rows(1), rows(2), end(1), command(2), rows(3), end(3)))
	for i, want := range [][]Kind{
		{Rows, Rows, ResultEnd},
		{Command},
		{Rows, ResultEnd},
		{Done},
		nil, // idle: nothing pending
	} {
		if got := read(t, s); !equalKinds(got, want) {
			t.Fatalf("call %d: got %v, want %v", i+1, got, want)
		}
	}
}

// The query's error is a result of its own, then one Done.
func TestGetResultError(t *testing.T) {
	s, _ := newTestSession(t, script(Item{Kind: Failed, Err: errors.New("boom")}, rows(1), end(1)))
	for i, want := range [][]Kind{
		{Rows, ResultEnd},
		{Failed},
		{Done},
		nil,
	} {
		if got := read(t, s); !equalKinds(got, want) {
			t.Fatalf("call %d: got %v, want %v", i+1, got, want)
		}
		if i == 1 && s.IsBusy("a") {
			t.Error("busy after the error")
		}
	}
}

// A local error in the middle of a result skips the rest of that result.
func TestGetResultDiscardSkipsResult(t *testing.T) {
	s, _ := newTestSession(t, script(Item{Kind: Done},
		rowsOf(1, 1), rowsOf(1, 2), rowsOf(1, 3), end(1), rowsOf(2, 4), end(2)))
	r := s.GetResult("a")
	if it := next(t, r); it.Kind != Rows || it.Payload != 1 {
		t.Fatalf("first item %+v", it)
	}
	r.Discard()
	r = s.GetResult("a")
	if it := next(t, r); it.Kind != Rows || it.Payload != 4 {
		t.Fatalf("after the skipped result: %+v", it)
	}
	if it := next(t, r); it.Kind != ResultEnd {
		t.Fatalf("got %+v", it)
	}
	r.Release()
	if got := read(t, s); !equalKinds(got, []Kind{Done}) {
		t.Fatalf("got %v", got)
	}
}

// An interrupt in the middle of a result cancels the query; the
// connection is idle.
func TestGetResultReleaseCancels(t *testing.T) {
	cancelled := make(chan struct{})
	s, o := newTestSession(t, func(ctx context.Context, emit emitFunc) Item {
		emit(rows(1))
		<-ctx.Done()
		close(cancelled)
		return Item{Kind: Failed, Err: ctx.Err()}
	})
	r := s.GetResult("a")
	if it := next(t, r); it.Kind != Rows {
		t.Fatalf("got %+v", it)
	}
	r.Release()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the query was not cancelled")
	}
	o.Wait(context.Background())
	if s.GetResult("a") != nil {
		t.Error("still pending after the cancel")
	}
}

// IsBusy is true until something is ready, and what it peeked at is handed
// out next.
func TestIsBusy(t *testing.T) {
	release := make(chan struct{})
	s, _ := newTestSession(t, func(ctx context.Context, emit emitFunc) Item {
		<-release
		emit(rows(7))
		emit(end(1))
		return Item{Kind: Done}
	})
	if !s.IsBusy("a") {
		t.Fatal("not busy while nothing is ready")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for s.IsBusy("a") {
		if time.Now().After(deadline) {
			t.Fatal("still busy 5 s after a result was ready")
		}
		time.Sleep(time.Millisecond)
	}
	if s.IsBusy("a") {
		t.Fatal("busy again after a peek")
	}
	r := s.GetResult("a")
	if it := next(t, r); it.Kind != Rows || it.Payload != 7 {
		t.Fatalf("peeked item lost: %+v", it)
	}
	r.Release()
}

func TestNotifyBatch(t *testing.T) {
	b, err := notifyBatch([]conn.Notification{{Channel: "c", PID: 42, Payload: ""}, {Channel: "d", PID: 7, Payload: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if b.NCols != 3 || b.NRows != 2 {
		t.Fatalf("shape %d x %d", b.NRows, b.NCols)
	}
	val := func(i int) string {
		off := b.Offsets[i]
		if off < 0 {
			return "<NULL>"
		}
		end := off
		for b.Data[end] != 0 {
			end++
		}
		return string(b.Data[off:end])
	}
	want := []string{"c", "42", "", "d", "7", "x"}
	for i, w := range want {
		if got := val(i); got != w {
			t.Errorf("value %d: got %q, want %q", i, got, w)
		}
	}
}

// After a local error, the skipped result streams on without the backend
// reading it: the remote statement is not held up by a full queue.
func TestGetResultDiscardDoesNotStall(t *testing.T) {
	items := []Item{rowsOf(1, 0)}
	for i := 1; i <= 50; i++ {
		items = append(items, rowsOf(1, i))
	}
	items = append(items, end(1), rowsOf(2, 99), end(2))
	s, o := newTestSession(t, script(Item{Kind: Done}, items...))
	r := s.GetResult("a")
	if it := next(t, r); it.Kind != Rows || it.Payload != 0 {
		t.Fatalf("first item %+v", it)
	}
	r.Discard()
	// Only the next result's two items may wait in the queue now: the
	// goroutine gets through the 50 skipped batches on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Operations != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	o.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatal("the query stalled behind the skipped result")
	}
	r = s.GetResult("a")
	if it := next(t, r); it.Kind != Rows || it.Payload != 99 {
		t.Fatalf("after the skipped result: %+v", it)
	}
}

// While one result of an async query is read (its rows converted), the
// connection is in use: a nested dblink_get_result fails rather than take
// rows of the same stream, a nested dblink() fails without discarding the
// query under the reader, and the outer read ends whole. Between results
// the query alone holds the connection: it may be closed then.
func TestNestedCallsDuringAsyncRead(t *testing.T) {
	s, _ := newTestSession(t, script(Item{Kind: Done},
		rowsOf(1, 1), rowsOf(1, 2), end(1), rowsOf(2, 3), end(2)))
	name := "a"
	e := s.reg.get(&name)
	r := s.GetResult("a")
	if it := next(t, r); it.Kind != Rows || it.Payload != 1 {
		t.Fatalf("first item %+v", it)
	}
	if !e.inUse() {
		t.Fatal("not in use while a result is read")
	}
	nested := s.GetResult("a")
	if nested == nil {
		t.Fatal("nested dblink_get_result found no query")
	}
	if it := nested.Next(); it.Kind != Failed || AsError(it.Err).SQLState != "55006" {
		t.Fatalf("nested dblink_get_result: %+v", it)
	}
	if it := poll(t, s.Query(Target{Name: "a", Named: true}, "SELECT 1", conn.ModeRows, config.Settings{})); it.Kind != Failed {
		t.Fatalf("nested dblink(): %+v", it)
	}
	if it := next(t, r); it.Kind != Rows || it.Payload != 2 {
		t.Fatalf("outer read after the nested calls: %+v", it)
	}
	if it := next(t, r); it.Kind != ResultEnd {
		t.Fatalf("outer read's end: %+v", it)
	}
	r.Release()
	if e.inUse() || !e.inProgress() || e.sent() == nil {
		t.Fatal("between results the query should hold the connection, not a read")
	}
	if got := read(t, s); !equalKinds(got, []Kind{Rows, ResultEnd}) {
		t.Fatalf("second result: %v", got)
	}
	if got := read(t, s); !equalKinds(got, []Kind{Done}) {
		t.Fatalf("the end: %v", got)
	}
	if e.inProgress() {
		t.Fatal("busy after the query's end")
	}
}
