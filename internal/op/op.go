// Package op runs the Go core's blocking work (connect, query, cancel) on
// goroutines and hands what it produces to the backend one item at a time.
//
// The backend's main thread must never block inside Go: it polls an Op with
// Next, which never blocks, and sleeps on its latch and the notify fd between
// polls. Every time an Op has something new it calls the notify function,
// which wakes that wait. Release ends the backend's interest in an Op; an Op
// that is still running is cancelled through its context and cleans up in the
// background. An operation whose items are all known at its start is a
// Fixed, which needs no goroutine.
package op

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// Kind says what an Item carries. The values match DgItemKind in
// csrc/dblink_go_abi.h.
type Kind int

const (
	Pending Kind = 0 // nothing new yet
	Rows    Kind = 1 // Item.Payload holds rows of a row result
	Command Kind = 2 // Item.Text holds the tag of a command result
	Done    Kind = 3 // the Op finished; Item.Text is its text result
	Failed  Kind = 4 // the Op finished with Item.Err
	// ResultEnd marks the end of one row result (Item.ResultNo), so that
	// dblink_get_result knows where a result stops.
	ResultEnd Kind = 5
)

// Item is one thing an Op produced.
type Item struct {
	Kind     Kind
	ResultNo int    // Command: which result of the query string
	HadRows  bool   // Done of an exec: the last result returned rows
	Text     string // Command, Done
	Err      error  // Failed
	Payload  any    // Rows: the batch; Done: a value the caller adopts (e.g. a new connection)
	// Done and Failed of a query: the remote's DateStyle and IntervalStyle
	// when the query string ended
	DateStyle, IntervalStyle string
	// Wait, with Pending: the socket to wait on besides the notify fd, for
	// work the backend's thread drives itself; nil for the notify fd only
	Wait *Wait
	// Ends, with Rows or Command: what the item also ends, when that had
	// arrived already (one call of the backend instead of three for a
	// small result). With EndsQuery the item also carries Done's HadRows
	// and styles, and the operation is over.
	Ends Ends
}

// Ends are the ends an item carries besides its own content.
type Ends int

const (
	EndsResult Ends = 1 // the row result of the Rows item ended
	EndsQuery  Ends = 2 // the query string ended without error
)

// Wait is a socket a Pending item asks the backend to wait on.
type Wait struct {
	FD    int
	Write bool   // wait until writable too
	ID    uint64 // tells this socket from a later one with the same fd
	// Again: do not wait; poll again at once, after serving interrupts
	// (the call stopped at its bound on work, with input left to parse)
	Again bool
}

// Emit hands an intermediate item to the backend. It blocks while the
// backend has not taken earlier items (bounding memory) and returns false
// once the Op is cancelled, after which the work function should return.
type Emit func(Item) bool

// Work is the body of an Op. It returns the final item (Done or Failed).
type Work func(ctx context.Context, emit Emit) Item

// Op is one unit of blocking work running on a goroutine.
type Op struct {
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

// Hooks connect an Op to its owner.
type Hooks struct {
	// Notify is called whenever the Op has something new for Next.
	Notify func()
	// Adopt, if set, runs in Next on the final item before it is returned,
	// on the caller's thread (for example to register a new connection).
	Adopt func(Item) Item
	// Abandon, if set, disposes of the payload of an item nobody took (for
	// example closes a connection opened after the backend gave up waiting).
	Abandon func(Item)
}

// Start runs work on a new goroutine.
func Start(parent context.Context, h Hooks, work Work) *Op {
	ctx, cancel := context.WithCancel(parent)
	notify := h.Notify
	o := &Op{
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
func (o *Op) Next() Item {
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
func (o *Op) take() (Item, bool) {
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

// Release ends the backend's interest in the Op. A running Op is cancelled
// and finishes in the background; whatever it produced and nobody took is
// disposed of.
func (o *Op) Release() {
	o.letGo()
	o.cancel()
	select {
	case <-o.done:
		o.drain()
	default:
		// The goroutine drains when it finishes (see Start).
	}
}

// Discard ends the backend's interest in the Op without cancelling it: the
// work runs to its end (a remote query completes) and whatever it produced
// or still produces is disposed of.
func (o *Op) Discard() {
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
func (o *Op) letGo() {
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
func (o *Op) drops(it Item) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.discarding || len(o.items) == 0 && o.skippedLocked(it)
}

// skippedLocked reports whether it belongs to the skipped result, and ends
// the skipping at that result's end marker. Caller holds o.mu.
func (o *Op) skippedLocked(it Item) bool {
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
func (o *Op) SkipResult(n int) {
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

// Fixed is an operation whose items were all known at its start (an
// error found before anything was sent, notifications already received):
// no goroutine runs and nothing waits. The last item should be Done or
// Failed.
type Fixed struct {
	items   []Item
	abandon func(Item)
}

// Finished returns a Fixed that hands out items in turn; abandon, if set,
// disposes of the payloads of those nobody took.
func Finished(abandon func(Item), items ...Item) *Fixed {
	return &Fixed{items: items, abandon: abandon}
}

// Next returns the next item, or an error once all were taken.
func (x *Fixed) Next() Item {
	if len(x.items) == 0 {
		return Item{Kind: Failed, Err: errAllTaken}
	}
	it := x.items[0]
	x.items = x.items[1:]
	return it
}

// Release disposes of the items nobody took.
func (x *Fixed) Release() {
	for _, it := range x.items {
		if x.abandon != nil && it.Payload != nil {
			x.abandon(it)
		}
	}
	x.items = nil
}

// Discard is Release: there is nothing left to run.
func (x *Fixed) Discard() { x.Release() }

var errAllTaken = errors.New("operation already finished")

// Wait blocks until the Op's goroutine has finished or ctx ends.
func (o *Op) Wait(ctx context.Context) {
	select {
	case <-o.done:
	case <-ctx.Done():
	}
}

// drain disposes of every item nobody will take. Runs after done is closed.
func (o *Op) drain() {
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

func (o *Op) dispose(it Item) {
	if o.abandon != nil && it.Payload != nil {
		o.abandon(it)
	}
}
