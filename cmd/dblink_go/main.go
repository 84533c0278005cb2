// Command dblink_go is the Go core of dblink, built as a c-shared library
// that the C shim dlopens. This file is only the C ABI of
// csrc/dblink_go_abi.h: each export converts arguments, recovers panics and
// calls into internal/session. Nothing here blocks.
package main

/*
// no undefined symbols: entry_points.c refers to every listed function
#cgo LDFLAGS: -Wl,--no-undefined
#include <stdlib.h>
#include <string.h>
// a symlink to csrc/dblink_go_abi.h: Go's build cache notices changes only
// to headers in the package directory (go doc cmd/cgo)
#include "dblink_go_abi.h"

// The list as prototypes: cgo copies this preamble into _cgo_export.h ahead
// of its own declarations of the exports, so an export whose Go signature
// differs from the list is a C compile error.
#define DG_PROTOTYPE(ret, name, params) extern ret name params;
DG_ENTRY_POINTS(DG_PROTOTYPE)
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/dblink-go/dblink/internal/session"
)

func main() {}

// sess is this backend's state; notifyFD is the shim's eventfd.
var (
	sess     *session.Session
	notifyFD int
)

// dg_init prepares the core; notify_fd is an eventfd the shim waits on and
// envp the backend's environment (the copy the Go runtime took at load time
// is unusable: the postmaster overwrote that memory with its ps display).
// Returns 0, or -1 with *errmsg set (malloc()ed).
//
// remote_notices points at the shim's dblink.remote_notices setting, read
// whenever a remote message arrives.
//
//export dg_init
func dg_init(notify_fd C.int, envp **C.char, remote_notices *C.int32_t, errmsg **C.char) (rc C.int) {
	defer recoverTo(func(msg string) { *errmsg = cString(msg); rc = -1 })
	notifyFD = int(notify_fd)
	session.SetNoticeMode(func() session.NoticeMode {
		return session.NoticeMode(atomic.LoadInt32((*int32)(unsafe.Pointer(remote_notices))))
	})
	syncEnvironment(envp)
	tuneMemory()
	if err := checkDirectLayout(); err != nil {
		*errmsg, rc = cString(err.Error()), -1
		return rc
	}
	sess = session.New(notify, session.Encoder{Encode: encodeBatch, Free: func(p any) { C.free(p.(unsafe.Pointer)) },
		NewDirect: newDirect, FreeDirect: freeDirect})
	return 0
}

// notify wakes the shim's wait: an eventfd counts writes, so none is lost.
func notify() {
	one := [8]byte{1}
	syscall.Write(notifyFD, one[:])
}

// dg_connect starts opening a connection named name (unnamed when NULL).
//
//export dg_connect
func dg_connect(name, connstr *C.const_char, opts *C.const_DgConnectOptions) (h C.DgOp) {
	defer recoverOp(&h)
	sess.ApplyPool(poolPolicy(&opts.pool))
	return handle(sess.Connect(optString(name), C.GoString(connstr), C.GoString(opts.server), settings(opts), opts.replace != 0))
}

// dg_query starts a query on a target; mode is a DgQueryMode. When the
// query went out whole on the backend's thread, *first is the DG_PENDING
// item its first dg_op_next would return (its answer cannot have arrived
// yet): the shim waits on the socket at once instead of making that call.
// Otherwise first->kind is -1.
//
//export dg_query
func dg_query(target *C.const_DgTarget, sql *C.const_char, mode C.int, opts *C.const_DgConnectOptions, first *C.DgItem) (h C.DgOp) {
	*first = C.DgItem{kind: -1, wait_fd: -1}
	defer recoverOp(&h)
	t := session.Target{}
	var set session.Settings
	if target.connstr != nil {
		// only a transient connection connects: the environment matters
		t.Transient, t.ConnStr = true, C.GoString(target.connstr)
		set = settings(opts)
		t.Pool, t.LocalUser = poolPolicy(&opts.pool), uint32(opts.local_user)
	} else if target.name != nil {
		t.Named, t.Name = true, C.GoString(target.name)
	}
	t.IfExists = target.if_exists != 0
	p := sess.Query(t, C.GoString(sql), session.Mode(mode), set)
	if p == nil {
		return 0
	}
	if w := session.FirstWait(p); w != nil {
		*first = C.DgItem{kind: C.DG_PENDING, sockets: sockets()}
		setWait(first, w)
	}
	return handle(p)
}

// setWait names the socket a DG_PENDING item waits on.
func setWait(item *C.DgItem, w *session.Wait) {
	if w.Again {
		item.wait_events = C.DG_WAIT_AGAIN
		return
	}
	item.wait_fd = C.int32_t(w.FD)
	item.wait_id = C.uint64_t(w.ID)
	item.wait_events = C.DG_WAIT_READ
	if w.Write {
		item.wait_events |= C.DG_WAIT_WRITE
	}
}

// sockets is the number of remote connections open or being opened, for
// the shim's external-FD slots; the Go runtime's memory limit follows it.
func sockets() C.int32_t {
	n := sess.Sockets()
	fitMemoryLimit(n)
	return C.int32_t(n)
}

// dg_op_next fills *item with what the operation has next, without
// blocking, and returns item->kind.
//
//export dg_op_next
func dg_op_next(h C.DgOp, item *C.DgItem) (kind C.int) {
	*item = C.DgItem{wait_fd: -1}
	defer recoverTo(func(msg string) {
		abortOp(h)
		*item = C.DgItem{kind: C.DG_ERROR, error: cError(&session.Error{SQLState: "XX000", Message: msg}), wait_fd: -1, sockets: -1}
		kind = C.DG_ERROR
	})
	keepScheduled()
	p := ops.get(uint64(h))
	if p == nil {
		panic("no such operation")
	}
	it := p.Next()
	item.kind = C.int32_t(it.Kind)
	item.ends = C.int32_t(it.Ends)
	if it.Kind == session.Done || it.Kind == session.Failed {
		// the shim's interest ends with the final item: no further call
		ops.drop(uint64(h))
		p.Release()
	}
	item.sockets = sockets()
	if ns := session.TakeNotices(); len(ns) > 0 {
		if item.notices = cNotices(ns); item.notices != nil {
			item.nnotices = C.int32_t(len(ns))
		}
	}
	switch it.Kind {
	case session.Pending:
		if w := it.Wait; w != nil && (w.FD >= 0 || w.Again) {
			setWait(item, w)
		}
	case session.ResultEnd:
		item.result_no = C.int32_t(it.ResultNo)
	case session.Rows:
		item.batch = (*C.DgBatch)(it.Payload.(unsafe.Pointer))
	case session.Command:
		item.result_no = C.int32_t(it.ResultNo)
		item.text = cString(it.Text)
	case session.Done:
		item.text = cString(it.Text)
	case session.Failed:
		item.error = cError(session.AsError(it.Err))
	}
	if it.HadRows {
		item.had_rows = 1
	}
	if it.DateStyle != "" {
		item.datestyle = cString(it.DateStyle)
	}
	if it.IntervalStyle != "" {
		item.intervalstyle = cString(it.IntervalStyle)
	}
	if (it.Kind == session.Command || it.Kind == session.Done) && item.text == nil ||
		it.DateStyle != "" && item.datestyle == nil || it.IntervalStyle != "" && item.intervalstyle == nil {
		// refused: the shim reports a DG_ERROR without its record as out
		// of memory, and the operation ends with it
		freeItem(item)
		if it.Kind != session.Done && it.Kind != session.Failed { // those released it already
			abortOp(h)
		}
		*item = C.DgItem{kind: C.DG_ERROR, wait_fd: -1, sockets: sockets()}
	}
	return C.int(item.kind)
}

// abortOp ends an operation whose poll panicked (or whose item could
// not be copied for the shim): the shim takes the DG_ERROR it gets
// as final and never releases it, so the operation must not stay behind
// holding its connection.
func abortOp(h C.DgOp) {
	defer func() { _ = recover() }()
	if p := ops.drop(uint64(h)); p != nil {
		sess.Abort(p)
	}
}

// freeItem frees what an item holds for the shim.
func freeItem(item *C.DgItem) {
	for _, p := range []unsafe.Pointer{unsafe.Pointer(item.batch), unsafe.Pointer(item.text), unsafe.Pointer(item.error),
		unsafe.Pointer(item.datestyle), unsafe.Pointer(item.intervalstyle), unsafe.Pointer(item.notices)} {
		C.free(p)
	}
}

// dg_op_release ends the shim's interest in an operation, cancelling it
// (and its remote query) if it is still running.
//
//export dg_op_release
func dg_op_release(h C.DgOp) {
	defer recoverTo(func(string) {})
	if p := ops.drop(uint64(h)); p != nil {
		p.Release()
	}
}

// dg_op_discard ends the shim's interest in an operation after a local
// error without cancelling it: the remote statement runs to its end and its
// output is thrown away (for a dg_get_result reader: the rest of the result
// is skipped).
//
//export dg_op_discard
func dg_op_discard(h C.DgOp) {
	defer recoverTo(func(string) {})
	if p := ops.drop(uint64(h)); p != nil {
		p.Discard()
	}
}

// dg_disconnect closes a connection (unnamed when name is NULL); returns 1
// if there was one, 0 if not, or -1 with *err set (malloc()ed) when it
// cannot be closed now.
//
//export dg_disconnect
func dg_disconnect(name *C.const_char, err **C.DgError) (found C.int) {
	*err = nil
	defer recoverTo(func(string) {})
	ok, e := sess.Disconnect(optString(name))
	sockets()
	switch {
	case e != nil:
		*err = cError(session.AsError(e))
		return -1
	case ok:
		return 1
	}
	return 0
}

// dg_has_connection returns 1 if the connection exists (unnamed when NULL).
//
//export dg_has_connection
func dg_has_connection(name *C.const_char) (found C.int) {
	defer recoverTo(func(string) {})
	if sess.Has(optString(name)) {
		return 1
	}
	return 0
}

// dg_lost returns a DgLost for the connection (unnamed when name is
// NULL); with DG_LOST_RECONNECT, *server (NULL for none) and *connstr are
// what it was opened from (malloc()ed), to be opened again.
//
//export dg_lost
func dg_lost(name *C.const_char, server, connstr **C.char) (lost C.int) {
	*server, *connstr = nil, nil
	defer recoverTo(func(string) { lost = C.DG_NOT_LOST })
	srv, cs, st := sess.LostState(optString(name))
	if st != session.Reconnect {
		return C.int(st)
	}
	if *connstr = cString(cs); *connstr == nil {
		return C.DG_NOT_LOST // refused: the call goes on and fails as it would
	}
	if srv != "" {
		if *server = cString(srv); *server == nil {
			C.free(unsafe.Pointer(*connstr))
			*connstr = nil
			return C.DG_NOT_LOST
		}
	}
	return C.DG_LOST_RECONNECT
}

// dg_connection_names returns the named connections as one malloc()ed block
// of NUL-terminated names, and their number in *count; NULL when none, and
// a count of -1 when malloc failed.
//
//export dg_connection_names
func dg_connection_names(count *C.int) (block *C.char) {
	*count = 0
	defer recoverTo(func(string) { block = nil })
	names := sess.Names()
	if len(names) == 0 {
		return nil
	}
	size := 0
	for _, n := range names {
		size += len(n) + 1
	}
	if block = (*C.char)(callocBytes(uintptr(size))); block == nil {
		*count = -1
		return nil
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(block)), size)
	off := 0
	for _, n := range names {
		off += copy(buf[off:], n)
		buf[off] = 0
		off++
	}
	*count = C.int(len(names))
	return block
}

// dg_connections returns the session's connections for
// dblink_connections() (version 1.3) as one malloc()ed block, their number
// in *count; NULL when none, and a count of -1 when malloc failed. Nothing
// is sent to any remote.
//
//export dg_connections
func dg_connections(pool *C.const_DgPool, count *C.int32_t) (infos *C.DgConnInfo) {
	*count = 0
	defer recoverTo(func(string) { infos = nil; *count = 0 })
	sess.ApplyPool(poolPolicy(pool))
	rows := sess.Connections()
	infos = cConnections(rows)
	*count = C.int32_t(len(rows))
	if infos == nil && len(rows) > 0 {
		*count = -1
	}
	return infos
}

// dg_debug_state returns the core's counters (goroutines, connections,
// running operations, Go heap, bytes allocated so far, GC cycles) as one
// malloc()ed line, for leak tests.
//
//export dg_debug_state
func dg_debug_state() (line *C.char) {
	defer recoverTo(func(msg string) { line = cString(msg) })
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := sess.Stats()
	return cString(fmt.Sprintf("goroutines=%d connections=%d operations=%d heap_inuse_kb=%d gomaxprocs=%d total_alloc_kb=%d gcs=%d",
		runtime.NumGoroutine(), st.Connections, st.Operations, ms.HeapInuse/1024, runtime.GOMAXPROCS(0), ms.TotalAlloc/1024, ms.NumGC))
}

// dg_remote_sockets returns how many remote connections are open or being
// opened: the shim holds as many of PostgreSQL's external-FD slots.
//
//export dg_remote_sockets
func dg_remote_sockets() (n C.int) {
	defer recoverTo(func(string) { n = -1 })
	if sess == nil {
		return 0
	}
	return C.int(sess.Sockets())
}

// dg_check_password returns the error of the password rule's check of a
// connection string (NULL when it passes or does not apply), which the shim
// makes before it reserves the connection's file descriptor slot.
//
//export dg_check_password
func dg_check_password(connstr *C.const_char, opts *C.const_DgConnectOptions) (e *C.DgError) {
	defer recoverTo(func(string) { e = nil }) // the connect checks again
	if err := sess.CheckPassword(C.GoString(connstr), settings(opts)); err != nil {
		return cError(session.AsError(err))
	}
	return nil
}

// dg_shutdown cancels running queries and closes every connection; the
// shim calls it at backend exit. Bounded in time.
//
//export dg_shutdown
func dg_shutdown() {
	defer recoverTo(func(string) {})
	if sess != nil {
		sess.Shutdown()
	}
}

// syncEnvironment makes the Go copy of the environment the backend's own
// (envp: its environ now), as libpq reads it at every connect: the copy the
// runtime took at load time is unusable (the postmaster wrote its ps
// display over that memory), and a backend may setenv() at any time.
// Variables are set only where the copies differ and removed only where
// the backend has none; since the Go runtime mirrors both into the C
// environment, the backend's own environment never changes.
func syncEnvironment(envp **C.char) {
	if envp == nil {
		return
	}
	backend := map[string]string{}
	for _, kv := range unsafe.Slice(envp, 1<<20) {
		if kv == nil {
			break
		}
		if k, v, ok := strings.Cut(C.GoString(kv), "="); ok && k != "" {
			backend[k] = v
		}
	}
	for k, v := range backend {
		if cur, set := os.LookupEnv(k); !set || cur != v {
			os.Setenv(k, v)
		}
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") {
			if _, keep := backend[k]; !keep {
				os.Unsetenv(k)
			}
		}
	}
}

// settings are a new connection's settings; they bring the environment up
// to date first.
func settings(o *C.DgConnectOptions) session.Settings {
	syncEnvironment(o.environ)
	if o.server_version_num != 0 {
		session.SetServerMajor(int(o.server_version_num) / 10000)
	}
	return session.Settings{
		ClientEncoding:  C.GoString(o.client_encoding),
		RequirePassword: o.require_password != 0,
		ConnectTimeout:  int(o.connect_timeout),
		ScramKeys:       scramKeys(o),
	}
}

// poolPolicy is the pool's policy as the shim sent it.
func poolPolicy(p *C.DgPool) session.PoolPolicy {
	return session.PoolPolicy{Size: int(p.size), IdleTimeout: time.Duration(p.idle_timeout) * time.Second}
}

// scramKeys copies the login's SCRAM keys (use_scram_passthrough), or nil.
func scramKeys(o *C.DgConnectOptions) *session.ScramKeys {
	if o.scram_client_key == nil || o.scram_server_key == nil {
		return nil
	}
	return &session.ScramKeys{
		ClientKey: C.GoBytes(unsafe.Pointer(o.scram_client_key), C.DG_SCRAM_KEY_LEN),
		ServerKey: C.GoBytes(unsafe.Pointer(o.scram_server_key), C.DG_SCRAM_KEY_LEN),
	}
}

func optString(s *C.char) *string {
	if s == nil {
		return nil
	}
	g := C.GoString(s)
	return &g
}

func handle(o session.Operation) C.DgOp { return C.DgOp(ops.hold(o)) }

// recoverTo turns a panic into a call of fail with its text, so no panic
// ever unwinds into C.
func recoverTo(fail func(msg string)) {
	if r := recover(); r != nil {
		fail(fmt.Sprintf("internal error in dblink's Go core: %v", r))
	}
}

// recoverOp turns a panic while starting an operation into a failed one.
func recoverOp(h *C.DgOp) {
	if r := recover(); r != nil {
		err := &session.Error{SQLState: "XX000", Message: fmt.Sprintf("internal error in dblink's Go core: %v", r)}
		*h = handle(session.FailedOp(err))
	}
}
