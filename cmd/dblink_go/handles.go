package main

import "github.com/dblink-go/dblink/internal/session"

// The operations the shim holds, by DgOp handle. Only the backend's
// thread calls the ABI, so a plain table does what cgo.Handle's sync.Map
// did, without a lock or an allocation per operation. A handle is a slot's
// index plus one (0 is "no operation") in its low 32 bits and the slot's
// generation above them: a stale handle (used after its final item or
// release) finds nothing rather than a later operation in the same slot.
type handleTable struct {
	slots []handleSlot
	free  []uint32 // indexes of empty slots
}

type handleSlot struct {
	op  session.Operation // nil when empty
	gen uint32
}

var ops handleTable

// hold gives o a handle.
func (t *handleTable) hold(o session.Operation) uint64 {
	var i uint32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		t.slots = append(t.slots, handleSlot{})
		i = uint32(len(t.slots) - 1)
	}
	s := &t.slots[i]
	s.gen++
	s.op = o
	return uint64(s.gen)<<32 | uint64(i+1)
}

// get returns the operation of h, or nil for a handle that holds none.
func (t *handleTable) get(h uint64) session.Operation {
	if s := t.slot(h); s != nil {
		return s.op
	}
	return nil
}

// drop forgets h and returns its operation, or nil.
func (t *handleTable) drop(h uint64) session.Operation {
	s := t.slot(h)
	if s == nil {
		return nil
	}
	o := s.op
	s.op = nil
	t.free = append(t.free, uint32(h)-1)
	return o
}

func (t *handleTable) slot(h uint64) *handleSlot {
	i := uint32(h)
	if i == 0 || int(i) > len(t.slots) {
		return nil
	}
	s := &t.slots[i-1]
	if s.op == nil || s.gen != uint32(h>>32) {
		return nil
	}
	return s
}
