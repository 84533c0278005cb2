package main

import (
	"runtime"
	"time"
)

// The backend's thread enters Go through cgo callbacks, which the Go
// scheduler never schedules: to sysmon the callbacks' P looks like one
// goroutine running without a break. Once that has lasted 10 ms
// (forcePreemptNS), sysmon retakes the P every time the thread is back in
// C and starts a thread to look for work that does not exist, then asks
// the callback goroutine to yield, which parks the backend's thread on a
// futex. Measured on a loop of small dblink_exec calls: 5-6 futex and 3
// nanosleep calls per round trip, and round trips 10 % slower. Yielding
// on our own terms every few milliseconds shows sysmon a scheduled P, and
// the storm stops (0.6 futex calls per round trip).

// yieldEvery is well under forcePreemptNS (10 ms).
const yieldEvery = 5 * time.Millisecond

var lastYield time.Time

// keepScheduled yields the backend's goroutine if it has not for
// yieldEvery. Called on every poll of an operation.
func keepScheduled() {
	if now := time.Now(); now.Sub(lastYield) > yieldEvery {
		lastYield = now
		runtime.Gosched()
	}
}
