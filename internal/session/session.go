// Package session is the Go core's state in one backend: its dblink
// connections by name, each with the one operation running on it, and the
// items those operations hand the shim. Every method is called from the
// backend's main thread and returns quickly; work that may block runs on a
// goroutine (goroutine.go) the backend polls like any other operation.
package session

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// Target says which connection a query uses: a named one, a transient
// one opened from ConnStr for this call only (any string, "" included: as
// in contrib it is a connection string like any other), or else the
// unnamed one.
type Target struct {
	Name      string // when Named
	Named     bool
	ConnStr   string // when Transient
	Transient bool
	// Pool and LocalUser, when Transient: the pool's policy, and the local
	// role the connection is for (a pooled connection is never shared
	// between roles)
	Pool      PoolPolicy
	LocalUser uint32
	// IfExists: when the connection does not exist, Query starts nothing
	// and returns nil (the caller tries the name as something else)
	IfExists bool
}

// Encoder turns a batch into the form the backend takes (C memory), on the
// operation's goroutine; Free releases an encoded batch nobody took.
// NewDirect returns a zeroed conn.Direct in memory the shim can keep
// (nil when none: the shim then never drives a connection itself), and
// FreeDirect takes one back for reuse; backend's thread only.
type Encoder struct {
	Encode     func(*conn.Batch) any
	Free       func(any)
	NewDirect  func() *conn.Direct
	FreeDirect func(*conn.Direct)
}

// Session is one backend's dblink state.
type Session struct {
	notify func()
	enc    Encoder
	reg    registry // the connections and their state

	mu  sync.Mutex
	ops map[*goOp]struct{} // started and not yet finished, for Shutdown
	// unnamedCursors: the unnamed slot's cursor bookkeeping, which survives
	// replacing the unnamed connection (as in contrib); backend's thread only
	unnamedCursors cursorState
	// sockets: remote connections open or being opened (see sockets.go)
	sockets atomic.Int64
	// tokens numbers registrations for the shim (conn.Direct.Token)
	tokens uint64
	// checked: the plan of the last CheckPassword, for the connect after it
	checked checkedPlan
	// pool: one-shot connections kept for reuse (pool.go); backend's
	// thread only
	pool pool
}

// New returns an empty session; notify wakes the backend's wait.
func New(notify func(), enc Encoder) *Session {
	return &Session{notify: notify, enc: enc, reg: newRegistry(), ops: make(map[*goOp]struct{})}
}

var (
	errDuplicate    = &pgerr.Error{SQLState: "42710", Message: "duplicate connection name"}
	errNotAvailable = &pgerr.Error{SQLState: "08003", Message: "connection not available"}
)

// Connect opens a connection and, once the backend takes the result,
// registers it under name (or as the unnamed connection when name is nil,
// closing the one it replaces). As in contrib, the password rule is checked
// first, then whether the name is taken, and only then is the string
// turned into a config (files read) and the server reached.
//
// server labels the connection with the foreign server its string came
// from ("" for none), for Connections. With replace (a reconnect), a named
// connection replaces the one registered under its name as the unnamed
// one always does, once it is made.
func (s *Session) Connect(name *string, connstr, server string, set config.Settings, replace bool) Operation {
	// contrib checks the password rule (which parses the string), then
	// the name, then lets libpq parse and connect
	if old := s.reg.get(name); (name == nil || replace) && old != nil && old.inUse() {
		return s.failed(errInUse(name))
	}
	taken := name != nil && !replace && s.reg.get(name) != nil
	if taken && !set.RequirePassword {
		return s.failed(errDuplicate)
	}
	plan, err := s.plan(connstr, set)
	if err == nil && taken {
		err = errDuplicate
	}
	if err != nil {
		return s.failed(err)
	}
	adopt := func(it Item) Item {
		c, ok := it.Payload.(*conn.Conn)
		if !ok || it.Kind != Done {
			return it
		}
		it.Payload = nil
		e := &entry{c: c, server: server, connstr: connstr}
		if name != nil {
			c.SetLabel(*name, true)
		}
		if name == nil || replace {
			// not in use: checked at the start, and the backend ran no
			// other call while it waited for the connect
			if old := s.reg.remove(name); old != nil {
				s.forget(old)
				old.c.CloseSoon()
			}
		}
		if name == nil {
			s.reg.setUnnamed(e)
		} else if !s.reg.add(*name, e) {
			c.CloseSoon()
			return Item{Kind: Failed, Err: errDuplicate}
		}
		s.attach(e)
		return it
	}
	release := s.reserveSocket()
	return s.start(adopt, func(ctx context.Context, _ emitFunc) Item {
		c, err := openCounted(release, func() (*conn.Conn, error) { return conn.Open(ctx, plan) })
		if err != nil {
			return Item{Kind: Failed, Err: err}
		}
		c.SetWake(s.notify)
		return Item{Kind: Done, Text: "OK", Payload: c}
	})
}

// Disconnect closes a connection (the unnamed one when name is nil) and
// reports whether there was one.
func (s *Session) Disconnect(name *string) (bool, error) {
	e := s.entryOf(name)
	if e == nil {
		return false, nil
	}
	if e.inUse() {
		return true, errInUse(name)
	}
	s.reg.remove(name)
	s.forget(e)
	e.c.CloseSoon()
	return true, nil
}

// errInUse refuses to close or replace a connection while an operation
// the backend started on it has not ended: a nested call (a type input
// function, a domain check, a trigger) would close the socket under the
// reader that is converting its rows.
func errInUse(name *string) error {
	what := "the unnamed dblink connection"
	if name != nil {
		what = fmt.Sprintf("dblink connection %q", *name)
	}
	return &pgerr.Error{SQLState: "55006", Message: what + " is in use",
		Detail: "A dblink call reading from it has not finished; it cannot be closed or replaced until then."}
}

// Abort gives up the connection that p ran on, after p panicked: p's
// state is unknown, so rather than leave the connection busy for the rest
// of the session it is cut and its name freed (a later call finds no such
// connection, and a new one may take the name).
func (s *Session) Abort(p Operation) {
	drop := func(e *entry) bool {
		if e == nil {
			return false
		}
		if a := e.sent(); e.busy != p && (a == nil || a.src != p) {
			return false
		}
		e.busy = nil
		s.detach(e)
		e.c.Cut()
		return true
	}
	if drop(s.reg.get(nil)) {
		s.reg.setUnnamed(nil)
	}
	for _, name := range s.reg.names() {
		if drop(s.reg.get(&name)) {
			s.reg.remove(&name)
		}
	}
}

// entryOf returns a registered connection (the unnamed one when name is
// nil), or nil.
func (s *Session) entryOf(name *string) *entry {
	return s.reg.get(name)
}

// Has reports whether a connection exists (the unnamed one when name is nil).
func (s *Session) Has(name *string) bool { return s.entryOf(name) != nil }

// Stats are a session's counters, for leak tests.
type Stats struct {
	Connections int // registered, named and unnamed
	Operations  int // started and not finished
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Connections: s.reg.count(), Operations: len(s.ops)}
}

// Names lists the named connections.
func (s *Session) Names() []string { return s.reg.names() }

// Query runs sql on the target and streams its results (see conn.Query);
// nil when t.IfExists and the connection does not exist.
func (s *Session) Query(t Target, sql string, mode conn.Mode, set config.Settings) Operation {
	if t.Transient {
		return s.oneShot(t, sql, mode, set)
	}
	var e *entry
	if t.Named {
		e = s.reg.get(&t.Name)
	} else {
		e = s.reg.get(nil)
	}
	switch {
	case e == nil && t.IfExists:
		return nil
	case e == nil:
		return s.failed(errNotAvailable)
	}
	if busy := s.sendStart(e, mode == conn.ModeRows); busy != nil {
		return busy
	}
	return s.startFast(e, sql, mode)
}

// attach lets the shim drive e's connection itself while it is idle.
func (s *Session) attach(e *entry) {
	if s.enc.NewDirect == nil {
		return
	}
	if d := s.enc.NewDirect(); d != nil {
		s.tokens++
		d.Token = s.tokens
		e.c.Attach(d)
	}
}

// detach ends that when e's registration goes.
func (s *Session) detach(e *entry) {
	if d := e.c.Detach(); d != nil && s.enc.FreeDirect != nil {
		s.enc.FreeDirect(d)
	}
}

// Direct returns the shared state through which the shim drives a
// registered connection itself (the unnamed one when name is nil), and
// the token of its registration; nil when there is none.
func (s *Session) Direct(name *string) (*conn.Direct, uint64) {
	e := s.entryOf(name)
	if e == nil {
		return nil, 0
	}
	d := e.c.DirectState()
	if d == nil {
		return nil, 0
	}
	return d, d.Token
}

// Adopt takes over a query the shim sent on a registered connection
// itself and could not finish alone (see conn.Conn.Adopt); it runs on the
// backend's thread like any query.
func (s *Session) Adopt(name *string, sql string, mode conn.Mode, unsent, received []byte) Operation {
	e := s.entryOf(name)
	if e == nil {
		return s.failed(errNotAvailable)
	}
	q, err := e.c.Adopt(sql, mode, unsent, received)
	if err != nil {
		return s.failed(err)
	}
	e.setError("") // PQsendQuery's reset
	f := &fastQuery{s: s, e: e, sql: sql, mode: mode, q: q}
	e.hold(f)
	return f
}

// sink forwards a query's stream to the operation, encoding batches on the
// way (on the query's goroutine, in parallel with the backend's work).
type sink struct {
	emit emitFunc
	enc  Encoder
}

func (k sink) Rows(b *conn.Batch) bool {
	return k.emit(Item{Kind: Rows, ResultNo: b.ResultNo, Payload: k.enc.Encode(b)})
}

func (k sink) Command(resultNo int, tag string) bool {
	return k.emit(Item{Kind: Command, ResultNo: resultNo, Text: tag})
}

func (k sink) ResultEnd(resultNo int) bool {
	return k.emit(Item{Kind: ResultEnd, ResultNo: resultNo})
}

// start runs work as an operation tracked for Shutdown. s.mu is held while
// the operation starts, so its goroutine cannot untrack it before it is
// tracked.
func (s *Session) start(adopt func(Item) Item, work workFunc) *goOp {
	return s.startHooks(s.hooks(adopt), work)
}

func (s *Session) startHooks(h goHooks, work workFunc) *goOp {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o *goOp
	o = startGo(context.Background(), h, func(ctx context.Context, emit emitFunc) Item {
		defer func() {
			s.mu.Lock()
			delete(s.ops, o)
			s.mu.Unlock()
		}()
		return work(ctx, emit)
	})
	s.ops[o] = struct{}{}
	return o
}

func (s *Session) hooks(adopt func(Item) Item) goHooks {
	return goHooks{Notify: s.notify, Adopt: adopt, Abandon: s.abandon}
}

// abandon disposes of what an operation produced that nobody took.
func (s *Session) abandon(it Item) {
	switch p := it.Payload.(type) {
	case *conn.Conn:
		p.CloseSoon()
	case *pooled:
		p.c.CloseSoon()
	case nil:
	default:
		s.enc.Free(p)
	}
}

// shutdownTimeout bounds how long a backend's exit waits for the remote
// servers: cancelled queries to end and Terminate messages to go out.
const shutdownTimeout = time.Second

// Shutdown cancels every running operation (and so its remote query) and
// closes every connection, within shutdownTimeout. It runs at backend exit.
func (s *Session) Shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	entries := s.reg.clear()
	idle := s.pool.closeAll()
	for _, e := range entries {
		// work on the backend's thread a FATAL exit never released, and
		// async queries nobody read to their end
		if b := e.busy; b != nil {
			e.busy = nil
			b.Release()
		}
		s.forget(e)
	}
	s.mu.Lock()
	running := make([]*goOp, 0, len(s.ops))
	for o := range s.ops {
		running = append(running, o)
	}
	s.mu.Unlock()
	for _, o := range running {
		o.Release()
	}
	var wg sync.WaitGroup
	for _, o := range running {
		wg.Add(1)
		go func() { defer wg.Done(); o.Wait(ctx) }() // waits only: cannot panic
	}
	for _, e := range entries {
		idle = append(idle, e.c)
	}
	for _, c := range idle {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { _ = recover() }() // see conn.recoverQuietly
			c.Close(ctx)
		}()
	}
	wg.Wait()
}
