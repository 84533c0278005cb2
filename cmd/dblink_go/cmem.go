package main

/*
#include <stdlib.h>
#include <string.h>
#include "dblink_go_abi.h"
*/
import "C"

import (
	"unsafe"

	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/session"
)

// cBlock lays out one malloc() block: reserve sizes first, then copy in.
type cBlock struct {
	base unsafe.Pointer
	size uintptr
	off  uintptr
}

func (b *cBlock) reserve(n uintptr) uintptr {
	at := b.size
	b.size += (n + 7) &^ 7 // keep every part 8-byte aligned
	return at
}

// alloc zeroes the block, so fields nobody sets are 0 / NULL.
func (b *cBlock) alloc() { b.base = C.calloc(1, C.size_t(b.size)) }

func (b *cBlock) at(off uintptr) unsafe.Pointer { return unsafe.Add(b.base, off) }

// putString copies s with a NUL at off and returns its C pointer.
func (b *cBlock) putString(off uintptr, s string) *C.char {
	dst := unsafe.Slice((*byte)(b.at(off)), len(s)+1)
	copy(dst, s)
	dst[len(s)] = 0
	return (*C.char)(b.at(off))
}

// cStrings places strings in a cBlock: add reserves each while the block
// is sized, write copies them in and points their C fields at them once it
// is allocated.
type cStrings struct {
	b      *cBlock
	fields []cStringField
}

type cStringField struct {
	dst **C.char
	s   string
	off uintptr
}

// add reserves s for *dst, when present (else *dst stays NULL).
func (cs *cStrings) add(dst **C.char, s string, present bool) {
	if present {
		cs.fields = append(cs.fields, cStringField{dst, s, cs.b.reserve(uintptr(len(s) + 1))})
	}
}

func (cs *cStrings) write() {
	for _, f := range cs.fields {
		*f.dst = cs.b.putString(f.off, f.s)
	}
}

// encodeBatch copies a batch into one malloc()ed DgBatch block; it runs on
// the query's goroutine.
func encodeBatch(bt *conn.Batch) any {
	var b cBlock
	hdr := b.reserve(unsafe.Sizeof(C.DgBatch{}))
	offs := b.reserve(uintptr(len(bt.Offsets)) * 4)
	data := b.reserve(uintptr(len(bt.Data)))
	ds := b.reserve(uintptr(len(bt.Styles.DateStyle) + 1))
	is := b.reserve(uintptr(len(bt.Styles.IntervalStyle) + 1))
	b.alloc()
	cb := (*C.DgBatch)(b.at(hdr))
	cb.result_no = C.int32_t(bt.ResultNo)
	cb.ncols = C.int32_t(bt.NCols)
	cb.nrows = C.int32_t(bt.NRows)
	cb.offsets = (*C.int32_t)(b.at(offs))
	copy(unsafe.Slice((*int32)(b.at(offs)), len(bt.Offsets)), bt.Offsets)
	cb.data = (*C.char)(b.at(data))
	copy(unsafe.Slice((*byte)(b.at(data)), len(bt.Data)), bt.Data)
	cb.datestyle = b.putString(ds, bt.Styles.DateStyle)
	cb.intervalstyle = b.putString(is, bt.Styles.IntervalStyle)
	return b.base
}

// cError copies an error into one malloc()ed DgError block; absent fields
// stay NULL.
func cError(e *conn.Error) *C.DgError {
	var b cBlock
	hdr := b.reserve(unsafe.Sizeof(C.DgError{}))
	msg := b.reserve(uintptr(len(e.Message) + 1))
	field := func(s string, given bool) uintptr {
		if s == "" && !given {
			return 0
		}
		return b.reserve(uintptr(len(s) + 1))
	}
	det, hint, ctx := field(e.Detail, e.DetailGiven), field(e.Hint, e.HintGiven), field(e.Context, false)
	b.alloc()
	ce := (*C.DgError)(b.at(hdr))
	state := e.SQLState
	if len(state) != 5 {
		state = "XX000"
	}
	for i := 0; i < 5; i++ {
		ce.sqlstate[i] = C.char(state[i])
	}
	ce.sqlstate[5] = 0
	ce.message = b.putString(msg, e.Message)
	if e.Remote {
		ce.remote = 1
	}
	put := func(off uintptr, s string) *C.char {
		if off == 0 {
			return nil
		}
		return b.putString(off, s)
	}
	ce.detail, ce.hint, ce.context = put(det, e.Detail), put(hint, e.Hint), put(ctx, e.Context)
	return ce
}

// cConnections copies the session's connections into one malloc()ed block:
// an array of DgConnInfo and, after it, every string they point to.
func cConnections(rows []session.Connection) *C.DgConnInfo {
	if len(rows) == 0 {
		return nil
	}
	var b cBlock
	arr := b.reserve(uintptr(len(rows)) * unsafe.Sizeof(C.DgConnInfo{}))
	strs := cStrings{b: &b}
	str := strs.add
	infos := make([]C.DgConnInfo, len(rows))
	for i, r := range rows {
		in := r.Info
		ci := &infos[i]
		if r.Name != nil {
			str(&ci.name, *r.Name, true)
		}
		str(&ci.server, r.Server, r.Server != "")
		str(&ci.host, in.Host, in.Host != "")
		str(&ci.dbname, in.Database, in.Database != "")
		str(&ci.user, in.User, in.User != "")
		str(&ci.server_version, in.ServerVersion, in.ServerVersion != "")
		str(&ci.status, in.Status, true)
		str(&ci.transaction, in.Transaction, true)
		str(&ci.last_error, r.LastError, r.LastError != "")
		ci.port = C.int32_t(in.Port)
		ci.remote_pid = C.int32_t(in.PID)
		if in.SSL {
			ci.ssl = 1
		}
		if r.Busy {
			ci.busy = 1
		}
		ci.open_cursors = C.int32_t(r.OpenCursors)
		ci.opened_at = C.int64_t(in.OpenedAt.UnixMicro())
		if !in.LastUsedAt.IsZero() {
			ci.last_used_at = C.int64_t(in.LastUsedAt.UnixMicro())
		}
		ci.queries = C.int64_t(in.Queries)
		ci.bytes_sent = C.int64_t(in.BytesSent)
		ci.bytes_received = C.int64_t(in.BytesRecvd)
	}
	b.alloc()
	strs.write()
	copy(unsafe.Slice((*C.DgConnInfo)(b.at(arr)), len(rows)), infos)
	return (*C.DgConnInfo)(b.at(arr))
}

// cNotices copies notices to relay into one malloc()ed block: an array of
// DgNotice and the strings they point to.
func cNotices(ns []conn.Notice) *C.DgNotice {
	var b cBlock
	arr := b.reserve(uintptr(len(ns)) * unsafe.Sizeof(C.DgNotice{}))
	strs := cStrings{b: &b}
	str := strs.add
	out := make([]C.DgNotice, len(ns))
	for i, n := range ns {
		cn := &out[i]
		str(&cn.severity, n.Severity, true)
		str(&cn.message, n.Message, true)
		str(&cn.detail, n.Detail, n.Detail != "")
		str(&cn.hint, n.Hint, n.Hint != "")
		str(&cn.conname, n.Label, n.Named)
		state := n.SQLState
		if len(state) != 5 {
			state = "00000"
		}
		for j := 0; j < 5; j++ {
			cn.sqlstate[j] = C.char(state[j])
		}
	}
	b.alloc()
	strs.write()
	copy(unsafe.Slice((*C.DgNotice)(b.at(arr)), len(ns)), out)
	return (*C.DgNotice)(b.at(arr))
}
