package session

// This file runs the work that may block (a connect, a query on a
// connection opened for one call, the rest of a skipped result) on a
// goroutine, and hands what it produces to the backend one item at a time.
// The backend's thread never blocks inside Go: it polls with Next, which
// never blocks, and sleeps on its latch and the notify fd between polls;
// every time the goroutine has something new it calls notify, which wakes
// that wait. Release ends the backend's interest; work still running is
// cancelled through its context and cleans up in the background.

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// emitFunc hands an intermediate item to the backend. It blocks while the
// backend has not taken earlier items (bounding memory) and returns false
// once the operation is cancelled, after which the work function should return.
type emitFunc func(Item) bool

// workFunc is the body of a goOp. It returns the final item (Done or Failed).
type workFunc func(ctx context.Context, emit emitFunc) Item

// goOp is one unit of blocking work running on a goroutine.
type goOp struct {
	ctx     context.Context
	cancel  context.CancelFunc
	items   chan Item     // intermediate items, in order
	done    chan struct{} // closed once final is set
	final   Item
	taken   bool // the backend consumed final
	adopt   func(Item) Item
	abandon func(Item) // disposes of an untaken item's payload
	mu      sync.Mutex // guards taken and discarding against the goroutine
	// discarding: Discard was called; items are disposed of, not queued
	discarding bool
	// skipResult: SkipResult was called for this result; its rows and end
	// marker are disposed of, not queued
	skipResult int
	front      *Item // an item SkipResult took from the queue, handed out first
}

// queueDepth is how many intermediate items may wait for the backend: two
// lets the goroutine fill one batch while the backend converts another.
const queueDepth = 2

// goHooks connect a goOp to its owner.
type goHooks struct {
	// Notify is called whenever the goOp has something new for Next.
	Notify func()
	// Adopt, if set, runs in Next on the final item before it is returned,
	// on the caller's thread (for example to register a new connection).
	Adopt func(Item) Item
	// Abandon, if set, disposes of the payload of an item nobody took (for
	// example closes a connection opened after the backend gave up waiting).
	Abandon func(Item)
}

// Start runs work on a new goroutine.
func startGo(parent context.Context, h goHooks, work workFunc) *goOp {
	ctx, cancel := context.WithCancel(parent)
	notify := h.Notify
	o := &goOp{
		ctx:     ctx,
		cancel:  cancel,
		items:   make(chan Item, queueDepth),
		done:    make(chan struct{}),
		adopt:   h.Adopt,
		abandon: h.Abandon,
	}
	emit := func(it Item) bool {
		if o.drops(it) {
			o.dispose(it)
			return true
		}
		select {
		case o.items <- it:
			notify()
			return true
		case <-ctx.Done():
			o.dispose(it)
			return false
		}
	}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				o.final = Item{Kind: Failed, Err: fmt.Errorf("internal error in dblink's Go core: %v\n%s", r, debug.Stack())}
			}
			close(o.done)
			notify()
			o.mu.Lock()
			abandoned := (o.ctx.Err() != nil || o.discarding) && !o.taken
			o.mu.Unlock()
			if abandoned {
				o.drain()
			}
		}()
		o.final = work(ctx, emit)
	}()
	return o
}

// Next returns the next item without blocking: an intermediate item, then
// the final one, or Pending when nothing new is ready.
func (o *goOp) Next() Item {
	if it := o.front; it != nil {
		o.front = nil
		return *it
	}
	if it, ok := o.take(); ok {
		return it
	}
	select {
	case <-o.done:
		// Items queued just before the goroutine finished come first.
		if it, ok := o.take(); ok {
			return it
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.taken {
			return Item{Kind: Failed, Err: fmt.Errorf("operation already finished")}
		}
		o.taken = true
		if o.adopt != nil {
			return o.adopt(o.final)
		}
		return o.final
	default:
		return Item{Kind: Pending}
	}
}

// take returns the next queued item, without blocking. Items of a result
// SkipResult is skipping are disposed of here too: the goroutine may have
// checked before SkipResult began, and queued one after it drained.
func (o *goOp) take() (Item, bool) {
	for {
		o.mu.Lock()
		select {
		case it := <-o.items:
			skipped := o.skippedLocked(it)
			o.mu.Unlock()
			if skipped {
				o.dispose(it)
				continue
			}
			return it, true
		default:
			o.mu.Unlock()
			return Item{}, false
		}
	}
}

// Release ends the backend's interest in the goOp. A running goOp is cancelled
// and finishes in the background; whatever it produced and nobody took is
// disposed of.
func (o *goOp) Release() {
	o.letGo()
	o.cancel()
	select {
	case <-o.done:
		o.drain()
	default:
		// The goroutine drains when it finishes (see Start).
	}
}

// Discard ends the backend's interest in the goOp without cancelling it: the
// work runs to its end (a remote query completes) and whatever it produced
// or still produces is disposed of.
func (o *goOp) Discard() {
	o.letGo()
	o.mu.Lock()
	o.discarding = true
	o.mu.Unlock()
	select {
	case <-o.done:
		o.drain()
	default:
		// Make room for an emit blocked on a full queue; later emits dispose
		// of their items and the goroutine drains the rest when it finishes.
		for {
			select {
			case it := <-o.items:
				o.dispose(it)
				continue
			default:
			}
			break
		}
	}
}

// letGo is the backend's side of Release and Discard: the item SkipResult
// kept aside is disposed of (the goroutine's drain cannot see it).
func (o *goOp) letGo() {
	if it := o.front; it != nil {
		o.front = nil
		o.dispose(*it)
	}
}

// drops reports whether emit throws it away: everything after Discard,
// and the rest of a result passed to SkipResult.
//
// A skipped item is dropped here only when nothing is queued before it: the
// end marker of the skipped result ends the skipping, and dropping it ahead
// of rows still queued would let those rows through to the next reader.
// Receivers take an item and judge it under o.mu (take, SkipResult), so an
// empty queue seen here has no item in flight either.
func (o *goOp) drops(it Item) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.discarding || len(o.items) == 0 && o.skippedLocked(it)
}

// skippedLocked reports whether it belongs to the skipped result, and ends
// the skipping at that result's end marker. Caller holds o.mu.
func (o *goOp) skippedLocked(it Item) bool {
	if o.skipResult == 0 || it.ResultNo != o.skipResult || (it.Kind != Rows && it.Kind != ResultEnd) {
		return false
	}
	if it.Kind == ResultEnd {
		o.skipResult = 0
	}
	return true
}

// SkipResult throws away the rest of result n, its rows and its end
// marker, whether queued already or still to come, so that the goroutine
// streams on without the backend (a local error stopped the backend's
// reading; the next result is kept). Called by the backend's thread.
func (o *goOp) SkipResult(n int) {
	o.mu.Lock()
	o.skipResult = n
	if it := o.front; it != nil {
		if !o.skippedLocked(*it) {
			o.mu.Unlock()
			return
		}
		o.front = nil
		ended := o.skipResult == 0
		o.mu.Unlock()
		o.dispose(*it)
		if ended {
			return
		}
	} else {
		o.mu.Unlock()
	}
	for {
		o.mu.Lock()
		select {
		case it := <-o.items:
			skipped := o.skippedLocked(it)
			ended := o.skipResult == 0
			o.mu.Unlock()
			if !skipped {
				o.front = &it
				return
			}
			o.dispose(it)
			if ended {
				return
			}
		default:
			o.mu.Unlock()
			return
		}
	}
}

// Wait blocks until the goOp's goroutine has finished or ctx ends.
func (o *goOp) Wait(ctx context.Context) {
	select {
	case <-o.done:
	case <-ctx.Done():
	}
}

// drain disposes of every item nobody will take. Runs after done is closed.
func (o *goOp) drain() {
	for {
		select {
		case it := <-o.items:
			o.dispose(it)
		default:
			o.mu.Lock()
			untaken := !o.taken
			o.taken = true
			o.mu.Unlock()
			if untaken {
				o.dispose(o.final)
			}
			return
		}
	}
}

func (o *goOp) dispose(it Item) {
	if o.abandon != nil && it.Payload != nil {
		o.abandon(it)
	}
}
