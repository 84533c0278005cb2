package main

import "runtime/debug"

// The Go runtime's memory policy for a process that is mostly not Go.
// With Go's defaults (GOGC=100, a 4 MB minimum heap goal, no limit) a
// backend that connects now and then grew to 10.7 MB of private memory
// after 5,000 connect/disconnect cycles (contrib: 3.7 MB): each connect
// leaves ~28 KB of garbage (pgconn's config and buffers), the heap goal
// let it pile up, and the background scavenger returns it slowly. A low
// GC percentage keeps the goal near what is live, and a soft memory limit
// makes the runtime return freed pages at once. Measured after 5,000
// cycles, RssAnon in MB (contrib 3.7):
//
//	defaults 10.7, GOGC=25 7.3, limit 6 MiB 6.8, both 6.9;
//	a limit of 4-5 MiB, under what the runtime itself needs, made ten
//	GCs per connect.
//
// The limit grows with the connections open, so that their buffers (the
// input buffer and a batch of a result read in Go, up to ~450 KB each)
// never push the live heap over it: a soft limit under the live heap
// makes the GC run without end.
const (
	gcPercent          = 25
	memoryLimitBase    = 6 << 20
	memoryLimitPerConn = 512 << 10
)

// limitFor is the memory limit last set, by connections open.
var limitFor = -1

// tuneMemory sets the policy; dg_init calls it.
func tuneMemory() {
	debug.SetGCPercent(gcPercent)
	fitMemoryLimit(0)
}

// fitMemoryLimit sets the limit for conns connections open, when that
// number changed since the last call (cheap enough for every poll).
func fitMemoryLimit(conns int) {
	if conns == limitFor || conns < 0 {
		return
	}
	limitFor = conns
	debug.SetMemoryLimit(memoryLimitBase + int64(conns)*memoryLimitPerConn)
}
