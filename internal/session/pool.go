package session

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// The pool of one-shot connections (dblink.transient_pool_size): a
// connection opened for dblink(connstr, ...) or dblink_exec(connstr, ...)
// is kept idle after its call, and the next one-shot call with the same
// key takes it instead of connecting. The key is everything that decided
// the connection: the string as resolved (a foreign server's options and
// user mapping included), the local role the password rule was checked
// for, the settings applied at connect and the environment libpq reads.
// A reused connection is reset with DISCARD ALL, sent with the call's
// statement (conn.QueryReset); one that turns out broken is closed and a
// fresh connect takes its place, unseen by the caller. Backend's thread
// only; no timers: the policy is applied whenever a call brings it.

// PoolPolicy is the pool's settings, as the shim sends them with a call.
type PoolPolicy struct {
	Size        int           // connections kept at most; 0: none
	IdleTimeout time.Duration // an idle connection is closed after it
}

// pooled is a connection in the pool, or one a call took from it.
type pooled struct {
	key    string
	c      *conn.Conn
	idle   time.Time // when it went back to the pool
	reused int       // calls it served after its first
}

// pool holds idle one-shot connections, least recently used first.
type pool struct {
	idle   []*pooled
	policy PoolPolicy // the last one applied
}

// poolKey is the key of a one-shot connection to connstr made for the
// local role user with set.
func poolKey(connstr string, user uint32, set config.Settings) string {
	var b strings.Builder
	b.WriteString(connstr)
	b.WriteString("\x00role=" + strconv.FormatUint(uint64(user), 10))
	b.WriteString("\x00enc=" + set.ClientEncoding)
	b.WriteString("\x00pw=" + strconv.FormatBool(set.RequirePassword))
	b.WriteString("\x00timeout=" + strconv.Itoa(set.ConnectTimeout))
	if k := set.ScramKeys; k != nil {
		b.WriteString("\x00scram=" + string(k.ClientKey) + string(k.ServerKey))
	}
	for _, kv := range os.Environ() { // what libpq reads (PGHOST, HOME, ...)
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "HOME=") {
			b.WriteString("\x00" + kv)
		}
	}
	return b.String()
}

// apply closes what the policy no longer keeps: connections idle for too
// long, the least recently used beyond its size, all of them at size 0.
func (p *pool) apply(pol PoolPolicy, now time.Time) {
	p.policy = pol
	keep := p.idle[:0]
	for i, pc := range p.idle {
		over := len(p.idle)-i > pol.Size
		if over || now.Sub(pc.idle) >= pol.IdleTimeout {
			pc.c.CloseSoon()
			continue
		}
		keep = append(keep, pc)
	}
	clear(p.idle[len(keep):])
	p.idle = keep
}

// take removes and returns the most recently used connection with key,
// or nil.
func (p *pool) take(key string) *pooled {
	for i := len(p.idle) - 1; i >= 0; i-- {
		if pc := p.idle[i]; pc.key == key {
			p.idle = slices.Delete(p.idle, i, i+1)
			return pc
		}
	}
	return nil
}

// put keeps pc as the most recently used connection when the policy
// allows and the connection can serve another call; else it is closed.
func (p *pool) put(pc *pooled, now time.Time) {
	if p.policy.Size == 0 || !pc.c.Reusable() {
		pc.c.CloseSoon()
		return
	}
	pc.idle = now
	p.idle = append(p.idle, pc)
	p.apply(p.policy, now)
}

// closeAll empties the pool and returns its connections, for the caller
// to close (backend exit).
func (p *pool) closeAll() []*conn.Conn {
	all := make([]*conn.Conn, len(p.idle))
	for i, pc := range p.idle {
		all[i] = pc.c
	}
	p.idle = nil
	return all
}

// ApplyPool applies the pool's policy now: what it no longer keeps is
// closed.
func (s *Session) ApplyPool(pol PoolPolicy) { s.pool.apply(pol, time.Now()) }

// oneShot runs sql on a one-shot connection (t.Transient): a pooled one
// with the same key when the pool has it, reset first, else a new one.
// The final item carries the connection, which repool keeps or closes on
// the backend's thread.
func (s *Session) oneShot(t Target, sql string, mode conn.Mode, set config.Settings) Operation {
	s.ApplyPool(t.Pool)
	plan, err := s.plan(t.ConnStr, set)
	if err != nil {
		return s.failed(err)
	}
	var pc *pooled
	key := ""
	if t.Pool.Size > 0 {
		key = poolKey(t.ConnStr, t.LocalUser, set)
		if pc = s.pool.take(key); pc != nil && pc.c.Lost() {
			// gone, or something arrived while it was idle (a FATAL, an
			// answer it had no business sending): connect afresh
			pc.c.CloseSoon()
			pc = nil
		}
	}
	var release func()
	if pc == nil {
		// counted from now, as the shim holds a slot for it from now
		release = s.reserveSocket()
	}
	return s.start(s.repool, func(ctx context.Context, emit emitFunc) (it Item) {
		defer func() {
			if pc != nil && it.Payload == nil { // a panic: nobody else closes it
				pc.c.CloseSoon()
			}
		}()
		k := sink{emit: emit, enc: s.enc}
		if pc != nil {
			out, err, how := pc.c.QueryReset(ctx, sql, mode, k)
			switch how {
			case conn.ResetDone:
				pc.reused++
				return oneShotEnd(pc, out, err)
			case conn.ResetRefused:
				pc.c.CloseSoon()
				pc = nil
				return oneShotEnd(nil, out, err)
			}
			// broken before anything ran (the remote restarted, the socket
			// closed): connect afresh, unseen by the caller, counted before
			// the broken one stops counting
			release = s.reserveSocket()
			pc.c.CloseSoon()
			pc = nil
			if ctx.Err() != nil {
				release()
				return Item{Kind: Failed, Err: ctx.Err()}
			}
		}
		c, err := openCounted(release, func() (*conn.Conn, error) { return conn.Open(ctx, plan) })
		if err != nil {
			return Item{Kind: Failed, Err: err}
		}
		pc = &pooled{key: key, c: c}
		out, err := c.Query(ctx, sql, mode, k)
		return oneShotEnd(pc, out, err)
	})
}

// oneShotEnd is the final item of a one-shot call, carrying its
// connection (nil: closed already).
func oneShotEnd(pc *pooled, out conn.Outcome, err error) Item {
	it := Item{Kind: Done, Text: out.Tag, HadRows: out.HadRows,
		DateStyle: out.Styles.DateStyle, IntervalStyle: out.Styles.IntervalStyle}
	if err != nil {
		it = Item{Kind: Failed, Err: pgerr.EndedByServer(err)}
	}
	if pc != nil {
		it.Payload = pc
	}
	return it
}

// repool keeps the connection of a one-shot call's final item, or closes
// it (see pool.put).
func (s *Session) repool(it Item) Item {
	if pc, ok := it.Payload.(*pooled); ok {
		it.Payload = nil
		s.pool.put(pc, time.Now())
	}
	return it
}
