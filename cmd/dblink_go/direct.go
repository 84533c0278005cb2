package main

/*
#include <stddef.h>
#include <stdlib.h>
#include "dblink_go_abi.h"

// offsets as constants Go can read
#define DG_OFFSET(f) offsetof_DgDirect_##f = offsetof(DgDirect, f),
enum {
	DG_OFFSET(state) DG_OFFSET(fd) DG_OFFSET(wait_id) DG_OFFSET(token) DG_OFFSET(tx_status)
	DG_OFFSET(succeeded) DG_OFFSET(round_trips) DG_OFFSET(bytes_sent) DG_OFFSET(bytes_received)
	DG_OFFSET(last_used) DG_OFFSET(datestyle) DG_OFFSET(intervalstyle)
};
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/dblink-go/dblink/internal/session"
)

// directs are DgDirect records given back for reuse: the shim may keep a
// pointer to one past its connection's end (it checks the token first),
// so they are never freed. Backend's thread only.
var directs []*session.Direct

// newDirect returns a zeroed DgDirect, or nil when calloc refuses.
func newDirect() *session.Direct {
	if n := len(directs); n > 0 {
		d := directs[n-1]
		directs = directs[:n-1]
		*d = session.Direct{}
		return d
	}
	return (*session.Direct)(callocBytes(C.sizeof_DgDirect))
}

func freeDirect(d *session.Direct) { directs = append(directs, d) }

// checkDirectLayout makes sure session.Direct is DgDirect, field by field.
func checkDirectLayout() error {
	var d session.Direct
	type field struct {
		name  string
		goOff uintptr
		cOff  uintptr
	}
	for _, f := range []field{
		{"state", unsafe.Offsetof(d.State), C.offsetof_DgDirect_state},
		{"fd", unsafe.Offsetof(d.FD), C.offsetof_DgDirect_fd},
		{"wait_id", unsafe.Offsetof(d.WaitID), C.offsetof_DgDirect_wait_id},
		{"token", unsafe.Offsetof(d.Token), C.offsetof_DgDirect_token},
		{"tx_status", unsafe.Offsetof(d.Tx), C.offsetof_DgDirect_tx_status},
		{"succeeded", unsafe.Offsetof(d.Succeeded), C.offsetof_DgDirect_succeeded},
		{"round_trips", unsafe.Offsetof(d.RoundTrips), C.offsetof_DgDirect_round_trips},
		{"bytes_sent", unsafe.Offsetof(d.BytesSent), C.offsetof_DgDirect_bytes_sent},
		{"bytes_received", unsafe.Offsetof(d.BytesReceived), C.offsetof_DgDirect_bytes_received},
		{"last_used", unsafe.Offsetof(d.LastUsed), C.offsetof_DgDirect_last_used},
		{"datestyle", unsafe.Offsetof(d.DateStyle), C.offsetof_DgDirect_datestyle},
		{"intervalstyle", unsafe.Offsetof(d.IntervalStyle), C.offsetof_DgDirect_intervalstyle},
	} {
		if f.goOff != f.cOff {
			return fmt.Errorf("DgDirect.%s is at %d in C, %d in Go", f.name, f.cOff, f.goOff)
		}
	}
	if unsafe.Sizeof(d) != C.sizeof_DgDirect || session.StyleLen != C.DG_STYLE_LEN {
		return fmt.Errorf("DgDirect is %d bytes in C, %d in Go", C.sizeof_DgDirect, unsafe.Sizeof(d))
	}
	return nil
}

// dg_direct returns the DgDirect through which the shim drives a
// registered connection itself (unnamed when name is NULL), with the token
// of its registration in *token; NULL when the connection does not exist.
//
//export dg_direct
func dg_direct(name *C.const_char, token *C.uint64_t) (d *C.DgDirect) {
	*token = 0
	defer recoverTo(func(string) { d = nil })
	gd, t := sess.Direct(optString(name))
	*token = C.uint64_t(t)
	return (*C.DgDirect)(unsafe.Pointer(gd))
}

// dg_direct_adopt takes over a query the shim sent on a registered
// connection itself (its DgDirect BUSY) and could not finish alone: the
// part of the Query message the socket did not take, and what arrived of
// the answer. The operation goes on as one of dg_query's.
//
//export dg_direct_adopt
func dg_direct_adopt(name, sql *C.const_char, mode C.int, unsent *C.const_char, nunsent C.int32_t,
	received *C.const_char, nreceived C.int32_t) (h C.DgOp) {
	defer recoverOp(&h)
	return handle(sess.Adopt(optString(name), C.GoString(sql), session.Mode(mode),
		C.GoBytes(unsafe.Pointer(unsent), C.int(nunsent)), C.GoBytes(unsafe.Pointer(received), C.int(nreceived))))
}
