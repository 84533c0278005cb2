package main

/*
#include <stdlib.h>
#include "dblink_go_abi.h"
*/
import "C"

import (
	"github.com/dblink-go/dblink/internal/session"
)

// The C ABI of cursors, async queries and notifications; see
// internal/session/cursor.go and async.go.

// dg_cursor_open starts DECLARE (after BEGIN when the remote is idle) on a
// connection (unnamed when name is NULL).
//
//export dg_cursor_open
func dg_cursor_open(name, cursor, sql *C.const_char) (h C.DgOp) {
	defer recoverOp(&h)
	return handle(sess.OpenCursor(optString(name), C.GoString(cursor), C.GoString(sql)))
}

// dg_cursor_fetch starts FETCH count FROM cursor; its rows stream as a
// DG_MODE_ROWS query's do.
//
//export dg_cursor_fetch
func dg_cursor_fetch(name, cursor *C.const_char, count C.int) (h C.DgOp) {
	defer recoverOp(&h)
	return handle(sess.FetchCursor(optString(name), C.GoString(cursor), int(count)))
}

// dg_cursor_close starts CLOSE (then COMMIT after the last cursor of a
// transaction dblink began).
//
//export dg_cursor_close
func dg_cursor_close(name, cursor *C.const_char) (h C.DgOp) {
	defer recoverOp(&h)
	return handle(sess.CloseCursor(optString(name), C.GoString(cursor)))
}

// dg_send_query sends sql on a named connection without waiting; returns
// 1, or 0 with *notice set (malloc()ed) when it could not be sent, or -1
// with *err set when the connection does not exist.
//
//export dg_send_query
func dg_send_query(name, sql *C.const_char, notice **C.char, err **C.DgError) (rc C.int) {
	*notice, *err = nil, nil
	defer recoverTo(func(msg string) { *err = cError(&session.Error{SQLState: "XX000", Message: msg}); rc = -1 })
	text, e := sess.SendQuery(C.GoString(name), C.GoString(sql))
	if e != nil {
		*err = cError(session.AsError(e))
		return -1
	}
	if text != "" {
		*notice = cString(text)
		return 0
	}
	return 1
}

// dg_is_busy returns 1 while the query sent on a named connection has
// nothing ready to take.
//
//export dg_is_busy
func dg_is_busy(name *C.const_char) (busy C.int) {
	defer recoverTo(func(string) {})
	if sess.IsBusy(C.GoString(name)) {
		return 1
	}
	return 0
}

// dg_get_result returns a reader of the next result of the query sent on
// a named connection (poll it with dg_op_next: DG_ROWS... DG_RESULT_END, a
// DG_COMMAND, the query's DG_ERROR, or DG_DONE when no result is left), or
// 0 when no query is pending.
//
//export dg_get_result
func dg_get_result(name *C.const_char) (h C.DgOp) {
	defer recoverOp(&h)
	r := sess.GetResult(C.GoString(name))
	if r == nil {
		return 0
	}
	return handle(r)
}

// dg_cancel_query starts a cancel request; its DG_DONE text is "OK" or why
// it failed.
//
//export dg_cancel_query
func dg_cancel_query(name *C.const_char) (h C.DgOp) {
	defer recoverOp(&h)
	return handle(sess.CancelQuery(C.GoString(name)))
}

// dg_error_message returns libpq's last error text of a named connection
// (malloc()ed), "OK" when none.
//
//export dg_error_message
func dg_error_message(name *C.const_char) (text *C.char) {
	defer recoverTo(func(msg string) { text = cString(msg) })
	msg, err := sess.ErrorMessage(C.GoString(name))
	if err != nil {
		msg = session.AsError(err).Message
	}
	return cString(msg)
}

// dg_get_notify starts reading the notifications of a connection (unnamed
// when name is NULL): one DG_ROWS batch of (notify_name, be_pid, extra)
// when there are any, then DG_DONE.
//
//export dg_get_notify
func dg_get_notify(name *C.const_char) (h C.DgOp) {
	defer recoverOp(&h)
	return handle(sess.GetNotify(optString(name)))
}
