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
// on our own terms every few milliseconds of a busy stretch shows sysmon
// a scheduled P, and the storm stops (0.6 futex calls per round trip).
//
// A yield of the locked callback goroutine is itself a hand-off to
// another thread and back, so it is made only within a busy stretch:
// calls spaced further apart than busyGap (a job logging a step now and
// then) never yield. Yielding there cost 1.2 ms of CPU per call spaced
// 12 ms apart, against 0.4 ms without (bench row (i)).

// yieldEvery is well under forcePreemptNS (10 ms).
const yieldEvery = 5 * time.Millisecond

// busyGap is the longest pause between polls that still counts as one
// busy stretch: the backend converting a batch of a large result pauses
// 1-3 ms, and must keep yielding (without, sysmon's storm cost 20 % more
// CPU for a million rows); a pause of 10 ms or more lets sysmon take the
// P back whatever we do.
const busyGap = yieldEvery

var lastYield, lastPoll time.Time

// keepScheduled yields the backend's goroutine if it has been busy for
// yieldEvery without a yield. Called on every poll of an operation.
func keepScheduled() {
	now := time.Now()
	busy := now.Sub(lastPoll) < busyGap
	lastPoll = now
	if !busy {
		lastYield = now // a stretch begins
		return
	}
	if now.Sub(lastYield) > yieldEvery {
		lastYield = now
		runtime.Gosched()
	}
}
