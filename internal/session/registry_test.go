package session

import (
	"reflect"
	"testing"
)

func TestRegistryNamedConnections(t *testing.T) {
	r := newRegistry()
	a, b := &entry{server: "a"}, &entry{server: "b"}
	if !r.add("a", a) {
		t.Fatal("first add(a) refused")
	}
	if r.add("a", b) {
		t.Fatal("second add(a) accepted")
	}
	name := "a"
	if got := r.get(&name); got != a {
		t.Fatalf("get(a) = %v, want the first connection", got)
	}
	if !r.add("=ü b", b) {
		t.Fatal("add refused a free name")
	}
	if got := r.names(); !reflect.DeepEqual(got, []string{"=ü b", "a"}) {
		t.Fatalf("names() = %q", got)
	}
	if got := r.remove(&name); got != a {
		t.Fatalf("remove(a) = %v", got)
	}
	if r.get(&name) != nil || r.remove(&name) != nil {
		t.Fatal("a still registered after remove")
	}
}

func TestRegistryUnnamedIsReplaced(t *testing.T) {
	r := newRegistry()
	first, second := &entry{}, &entry{}
	if old := r.setUnnamed(first); old != nil {
		t.Fatalf("setUnnamed on an empty slot returned %v", old)
	}
	if old := r.setUnnamed(second); old != first {
		t.Fatalf("setUnnamed returned %v, want the replaced connection", old)
	}
	if r.get(nil) != second {
		t.Fatal("get(nil) is not the latest connection")
	}
	empty := ""
	if r.get(&empty) != nil {
		t.Fatal("the unnamed connection must not be reachable as a named one")
	}
	if r.remove(nil) != second || r.get(nil) != nil {
		t.Fatal("remove(nil) did not clear the unnamed slot")
	}
}

func TestRegistryClearReturnsEverything(t *testing.T) {
	r := newRegistry()
	r.setUnnamed(&entry{})
	for _, n := range []string{"b", "c", "d"} {
		r.add(n, &entry{})
	}
	if got := r.count(); got != 4 {
		t.Fatalf("count() = %d, want 4", got)
	}
	if got := len(r.clear()); got != 4 {
		t.Fatalf("clear returned %d connections, want 4", got)
	}
	if r.get(nil) != nil || r.count() != 0 {
		t.Fatal("registry not empty after clear")
	}
}
