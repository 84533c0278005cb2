package main

import (
	"testing"

	"github.com/dblink-go/dblink/internal/session"
)

// A handle finds its operation until it is dropped; a stale handle finds
// nothing, even once its slot holds a later operation.
func TestHandleTable(t *testing.T) {
	var tb handleTable
	a, b := session.FailedOp(nil), session.FailedOp(nil)
	ha := tb.hold(a)
	if ha == 0 || tb.get(ha) != a {
		t.Fatalf("hold(a) = %#x, get = %v", ha, tb.get(ha))
	}
	if tb.drop(ha) != a || tb.get(ha) != nil || tb.drop(ha) != nil {
		t.Fatal("a dropped handle still finds its operation")
	}
	hb := tb.hold(b) // reuses a's slot
	if hb == ha || uint32(hb) != uint32(ha) {
		t.Fatalf("hold(b) = %#x after %#x: want the same slot, a new generation", hb, ha)
	}
	if tb.get(ha) != nil || tb.drop(ha) != nil || tb.get(hb) != b {
		t.Fatal("the stale handle reached the slot's new operation")
	}
	for _, h := range []uint64{0, 1 << 32, 99} {
		if tb.get(h) != nil || tb.drop(h) != nil {
			t.Fatalf("handle %#x finds an operation", h)
		}
	}
}
