package main

/*
#include <stdlib.h>
#include <string.h>
#include "dblink_go_abi.h"
*/
import "C"

import (
	"unsafe"

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

// alloc zeroes the block, so fields nobody sets are 0 / NULL; base stays
// NULL when malloc fails.
func (b *cBlock) alloc() { b.base = callocBytes(b.size) }

// callocBytes is calloc (which, unlike cgo's C.malloc, returns NULL rather
// than ending the process when memory is refused); a variable so that
// tests can make it fail.
var callocBytes = func(n uintptr) unsafe.Pointer { return C.calloc(1, C.size_t(n)) }

// cString copies s into a NUL-terminated calloc()ed string for the shim,
// or returns NULL when the memory is refused (cgo's C.CString would end
// the process instead).
func cString(s string) *C.char {
	p := callocBytes(uintptr(len(s)) + 1)
	if p == nil {
		return nil
	}
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	return (*C.char)(p)
}

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

// encodeBatch copies a batch into one malloc()ed DgBatch block, or returns
// a NULL one when malloc fails (a batch holds a value of any size the
// remote sent; the shim reports out of memory); it runs on the query's
// goroutine.
func encodeBatch(bt *session.Batch) any {
	var b cBlock
	hdr := b.reserve(unsafe.Sizeof(C.DgBatch{}))
	offs := b.reserve(uintptr(len(bt.Offsets)) * 4)
	data := b.reserve(uintptr(len(bt.Data)))
	ds := b.reserve(uintptr(len(bt.Styles.DateStyle) + 1))
	is := b.reserve(uintptr(len(bt.Styles.IntervalStyle) + 1))
	b.alloc()
	if b.base == nil {
		return b.base
	}
	cb := (*C.DgBatch)(b.at(hdr))
	cb.result_no = C.int32_t(bt.ResultNo)
	cb.ncols = C.int32_t(bt.NCols)
	cb.nrows = C.int32_t(bt.NRows)
	cb.noffsets = C.int64_t(len(bt.Offsets))
	cb.datalen = C.int64_t(len(bt.Data))
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
func cError(e *session.Error) *C.DgError {
	return cRecords(1, func(out []C.DgError, str stringAdder) {
		ce := &out[0]
		setSQLState(&ce.sqlstate, e.SQLState, "XX000")
		str(&ce.message, e.Message, true)
		str(&ce.detail, e.Detail, e.Detail != "" || e.DetailGiven)
		str(&ce.hint, e.Hint, e.Hint != "" || e.HintGiven)
		str(&ce.context, e.Context, e.Context != "")
		if e.Remote {
			ce.remote = 1
		}
	})
}

// cConnections copies the session's connections into one malloc()ed block:
// an array of DgConnInfo and, after it, every string they point to.
func cConnections(rows []session.Connection) *C.DgConnInfo {
	if len(rows) == 0 {
		return nil
	}
	return cRecords(len(rows), func(infos []C.DgConnInfo, str stringAdder) {
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
	})
}

// cNotices copies notices to relay into one malloc()ed block: an array of
// DgNotice and the strings they point to.
func cNotices(ns []session.Notice) *C.DgNotice {
	return cRecords(len(ns), func(out []C.DgNotice, str stringAdder) {
		for i, n := range ns {
			cn := &out[i]
			str(&cn.severity, n.Severity, true)
			str(&cn.message, n.Message, true)
			str(&cn.detail, n.Detail, n.Detail != "")
			str(&cn.hint, n.Hint, n.Hint != "")
			str(&cn.conname, n.Label, n.Named)
			setSQLState(&cn.sqlstate, n.SQLState, "00000")
		}
	})
}

// stringAdder places a string for a C field of a record (see cStrings.add).
type stringAdder func(dst **C.char, s string, present bool)

// cRecords lays out n records of type T and the strings fill gives their
// fields in one zeroed malloc() block (free it with free()), and returns
// the first record, or nil when malloc fails (the shim reports out of
// memory). fill sets the records' other fields itself.
func cRecords[T any](n int, fill func(recs []T, str stringAdder)) *T {
	var b cBlock
	arr := b.reserve(uintptr(n) * unsafe.Sizeof(*new(T)))
	strs := cStrings{b: &b}
	recs := make([]T, n)
	fill(recs, strs.add)
	b.alloc()
	if b.base == nil {
		return nil
	}
	strs.write()
	first := (*T)(b.at(arr))
	copy(unsafe.Slice(first, n), recs)
	return first
}

// setSQLState copies a five-character SQLSTATE and its NUL, or fallback
// when state is not five characters.
func setSQLState(dst *[6]C.char, state, fallback string) {
	if len(state) != 5 {
		state = fallback
	}
	for i := 0; i < 5; i++ {
		dst[i] = C.char(state[i])
	}
	dst[5] = 0
}
