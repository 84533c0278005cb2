package session

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Discard lets the work run to its end without cancelling it, and every
// item it produced is disposed of, queued or not.
func TestDiscard(t *testing.T) {
	var mu sync.Mutex
	disposed := 0
	finished := make(chan bool, 1)
	o := startGo(context.Background(), goHooks{
		Notify:  func() {},
		Abandon: func(Item) { mu.Lock(); disposed++; mu.Unlock() },
	}, func(ctx context.Context, emit emitFunc) Item {
		for i := 0; i < 10; i++ {
			if !emit(Item{Kind: Rows, Payload: i}) {
				finished <- false
				return Item{Kind: Failed, Err: ctx.Err()}
			}
		}
		finished <- ctx.Err() == nil
		return Item{Kind: Done, Payload: "final"}
	})
	// let the queue fill up: the work blocks on emit
	time.Sleep(20 * time.Millisecond)
	if it := o.Next(); it.Kind != Rows || it.Payload != 0 {
		t.Fatalf("first item: %+v", it)
	}
	o.Discard()
	select {
	case ok := <-finished:
		if !ok {
			t.Fatal("the work was cancelled")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the work did not run to its end")
	}
	o.Wait(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := disposed
		mu.Unlock()
		if n == 10 { // items 1..9 and the final item
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disposed of %d items, want 10", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Release cancels the work.
func TestReleaseCancels(t *testing.T) {
	o := startGo(context.Background(), goHooks{Notify: func() {}}, func(ctx context.Context, emit emitFunc) Item {
		<-ctx.Done()
		return Item{Kind: Failed, Err: ctx.Err()}
	})
	o.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatal("the work was not cancelled")
	}
}

// An item SkipResult took aside (the first of the next result) is
// disposed of when the backend lets go of the goOp: Release (a dropped
// connection) and Discard alike.
func TestLetGoDisposesFront(t *testing.T) {
	for _, how := range []string{"release", "discard"} {
		t.Run(how, func(t *testing.T) {
			var mu sync.Mutex
			var disposed []any
			o := startGo(context.Background(), goHooks{
				Notify:  func() {},
				Abandon: func(it Item) { mu.Lock(); disposed = append(disposed, it.Payload); mu.Unlock() },
			}, func(ctx context.Context, emit emitFunc) Item {
				emit(Item{Kind: Rows, ResultNo: 2, Payload: "batch"})
				<-ctx.Done()
				return Item{Kind: Failed, Err: ctx.Err()}
			})
			for deadline := time.Now().Add(5 * time.Second); o.front == nil; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no item within 5 s")
				}
				o.SkipResult(1)
			}
			if how == "release" {
				o.Release()
			} else {
				o.Discard()
				o.Release() // ends the work
			}
			o.Wait(context.Background())
			mu.Lock()
			defer mu.Unlock()
			if len(disposed) != 1 || disposed[0] != "batch" {
				t.Errorf("disposed of %v, want [batch]", disposed)
			}
		})
	}
}
