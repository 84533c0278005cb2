package session

// What the shim sees of the session: operations, and the items they hand
// over one per poll (csrc/dblink_go_abi.h mirrors them).

// Operation is what the backend polls, whatever runs it: a query or a
// sequence of statements the backend's thread drives itself (fastQuery,
// steps, ResultReader), work on a goroutine (goOp: a connect, a query on a
// connection opened for one call, the rest of a skipped result), or items
// known at its start (fixedOp). Next never blocks. The backend ends its
// interest with the final item (Done or Failed), or earlier with Release
// (a running remote statement is cancelled) or Discard (it runs to its end
// and its output is thrown away).
type Operation interface {
	Next() Item
	Release()
	Discard()
}

// FailedOp is an operation that fails with err at its first poll.
func FailedOp(err error) Operation { return fixedItems(nil, Item{Kind: Failed, Err: err}) }

// Kind says what an Item carries. The values match DgItemKind in
// csrc/dblink_go_abi.h.
type Kind int

const (
	Pending Kind = 0 // nothing new yet
	Rows    Kind = 1 // Item.Payload holds rows of a row result
	Command Kind = 2 // Item.Text holds the tag of a command result
	Done    Kind = 3 // the operation finished; Item.Text is its text result
	Failed  Kind = 4 // the operation finished with Item.Err
	// ResultEnd marks the end of one row result (Item.ResultNo), so that
	// dblink_get_result knows where a result stops.
	ResultEnd Kind = 5
)

// Item is one thing an operation produced.
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

// fixedOp is an operation whose items were all known at its start (an
// error found before anything was sent, notifications already received):
// no goroutine runs and nothing waits. The last item should be Done or
// Failed.
type fixedOp struct {
	items   []Item
	abandon func(Item)
}

// fixedItems returns a fixedOp that hands out items in turn; abandon, if set,
// disposes of the payloads of those nobody took.
func fixedItems(abandon func(Item), items ...Item) *fixedOp {
	return &fixedOp{items: items, abandon: abandon}
}

// Next returns the next item, or an error once all were taken.
func (x *fixedOp) Next() Item {
	if len(x.items) == 0 {
		return Item{Kind: Failed, Err: errFinished}
	}
	it := x.items[0]
	x.items = x.items[1:]
	return it
}

// Release disposes of the items nobody took.
func (x *fixedOp) Release() {
	for _, it := range x.items {
		if x.abandon != nil && it.Payload != nil {
			x.abandon(it)
		}
	}
	x.items = nil
}

// Discard is Release: there is nothing left to run.
func (x *fixedOp) Discard() { x.Release() }
