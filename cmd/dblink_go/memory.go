package main

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

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

// Even so the heap keeps about its goal resident (some 1.3 MB after
// thousands of connects, 0.3-0.5 MB of it live) until the next cycles.
// A backend that has held no connection for idleRelease runs one GC and
// gives every free page back (debug.FreeOSMemory, on a goroutine of its
// own): bench row (k') measured 0.3-0.4 MB less RssAnon 2 s after the
// last of 30,000 connects. A backend with a connection open never does,
// so a call on it never meets that work. A variable for the test.
var idleRelease = time.Second

var (
	// open is the number of connections the memory limit was last set
	// for (-1: none yet); the release timer's goroutine reads it too
	open        atomic.Int64
	releaseIdle *time.Timer
)

// tuneMemory sets the policy; dg_init calls it.
func tuneMemory() {
	debug.SetGCPercent(gcPercent)
	releaseIdle = time.AfterFunc(idleRelease, releaseIfIdle)
	open.Store(-1)
	fitMemoryLimit(0)
}

// releaseIfIdle gives the free heap back if still no connection is open.
func releaseIfIdle() {
	if open.Load() == 0 {
		debug.FreeOSMemory()
	}
}

// fitMemoryLimit sets the limit for conns connections open, when that
// number changed since the last call (cheap enough for every poll), and
// arms or stops the idle release.
func fitMemoryLimit(conns int) {
	if conns < 0 || open.Swap(int64(conns)) == int64(conns) {
		return
	}
	debug.SetMemoryLimit(memoryLimitBase + int64(conns)*memoryLimitPerConn)
	if conns == 0 {
		releaseIdle.Reset(idleRelease)
	} else {
		releaseIdle.Stop()
	}
}
