package registry

import (
	"errors"
	"reflect"
	"testing"
)

type fakeConn struct{ id int }

func TestNamedConnections(t *testing.T) {
	r := New[fakeConn]()
	a, b := &fakeConn{1}, &fakeConn{2}
	if err := r.Add("a", a); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("a", b); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second Add(a) = %v, want ErrDuplicate", err)
	}
	if got := r.Get("a"); got != a {
		t.Fatalf("Get(a) = %v, want the first connection", got)
	}
	if err := r.Add("=ü b", b); err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); !reflect.DeepEqual(got, []string{"=ü b", "a"}) {
		t.Fatalf("Names() = %q", got)
	}
	if got := r.Remove("a"); got != a {
		t.Fatalf("Remove(a) = %v", got)
	}
	if r.Get("a") != nil || r.Remove("a") != nil {
		t.Fatal("a still registered after Remove")
	}
}

func TestUnnamedIsReplaced(t *testing.T) {
	r := New[fakeConn]()
	first, second := &fakeConn{1}, &fakeConn{2}
	if old := r.SetUnnamed(first); old != nil {
		t.Fatalf("SetUnnamed on empty slot returned %v", old)
	}
	if old := r.SetUnnamed(second); old != first {
		t.Fatalf("SetUnnamed returned %v, want the replaced connection", old)
	}
	if r.Unnamed() != second {
		t.Fatal("Unnamed() is not the latest connection")
	}
	if r.Get("") != nil {
		t.Fatal("the unnamed connection must not be reachable as a named one")
	}
}

func TestClearReturnsEverything(t *testing.T) {
	r := New[fakeConn]()
	r.SetUnnamed(&fakeConn{0})
	for i := 1; i <= 3; i++ {
		if err := r.Add(string(rune('a'+i)), &fakeConn{i}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(r.Clear()); got != 4 {
		t.Fatalf("Clear returned %d connections, want 4", got)
	}
	if r.Unnamed() != nil || len(r.Names()) != 0 {
		t.Fatal("registry not empty after Clear")
	}
}
