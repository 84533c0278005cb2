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
