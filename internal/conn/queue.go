package conn

import (
	"fmt"
	"os"
	"sync"
)

// boundedQueue holds what a remote server sends faster than the backend
// takes it (notifications, notices to relay), up to max bytes: Go cannot
// survive running out of memory, and libpq's queues have no bound. Past
// the bound it drops what comes, with one warning in the server log until
// the queue is taken.
type boundedQueue[T any] struct {
	mu      sync.Mutex
	items   []T
	bytes   int
	dropped bool
	max     int    // bytes
	what    string // for the warning: "unread notifications on a connection"
}

// push queues it, of about size bytes, unless the queue is full.
func (q *boundedQueue[T]) push(it T, size int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.bytes+size > q.max {
		if !q.dropped {
			q.dropped = true
			fmt.Fprintf(os.Stderr, "WARNING:  dblink: more than %d MB of %s; dropping further ones until they are read\n", q.max>>20, q.what)
		}
		return
	}
	q.bytes += size
	q.items = append(q.items, it)
}

// takeUpTo returns the first items, at most n of them and about max
// bytes (at least one), and leaves the rest queued.
func (q *boundedQueue[T]) takeUpTo(n, max int, size func(T) int) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	k, bytes := 0, 0
	for k < len(q.items) && k < n && (k == 0 || bytes < max) {
		bytes += size(q.items[k])
		k++
	}
	items := append([]T(nil), q.items[:k]...)
	clear(q.items[:k])
	q.items = q.items[k:]
	q.bytes -= bytes
	if len(q.items) == 0 {
		q.items, q.bytes, q.dropped = nil, 0, false
	}
	return items
}

// len is how many items wait.
func (q *boundedQueue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// take empties the queue and returns what it held, in arrival order.
func (q *boundedQueue[T]) take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items, q.bytes, q.dropped = nil, 0, false
	return items
}
