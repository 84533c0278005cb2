package main

import (
	"runtime"
	"testing"
	"time"
)

// With no connection open for idleRelease the free heap goes back (one GC
// runs); with one open, nothing runs.
func TestIdleRelease(t *testing.T) {
	defer func(d time.Duration) { idleRelease = d }(idleRelease)
	idleRelease = 20 * time.Millisecond
	gcs := func() uint32 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.NumGC
	}

	tuneMemory()
	fitMemoryLimit(1) // a connection opened before the timer fired
	before := gcs()
	time.Sleep(10 * idleRelease)
	if n := gcs(); n != before {
		t.Fatalf("%d GCs ran with a connection open", n-before)
	}

	fitMemoryLimit(0) // the last one closed
	deadline := time.Now().Add(5 * time.Second)
	for gcs() == before {
		if time.Now().After(deadline) {
			t.Fatal("no GC ran after the last connection closed")
		}
		time.Sleep(idleRelease)
	}
	releaseIdle.Stop()
}
