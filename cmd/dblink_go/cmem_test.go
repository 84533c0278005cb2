package main

import (
	"testing"
	"unsafe"

	"github.com/dblink-go/dblink/internal/session"
)

// A batch holds values of any size the remote sent: when malloc refuses
// the copy for the shim, encodeBatch hands over NULL (the shim reports out
// of memory) instead of writing through a NULL block, and so do the other
// records.
func TestCopiesForTheShimSurviveMallocFailing(t *testing.T) {
	defer func(f func(uintptr) unsafe.Pointer) { callocBytes = f }(callocBytes)
	callocBytes = func(uintptr) unsafe.Pointer { return nil }
	b := &session.Batch{ResultNo: 1, NCols: 1}
	if err := b.Add([][]byte{[]byte("x")}); err != nil {
		t.Fatal(err)
	}
	if p := encodeBatch(b); p.(unsafe.Pointer) != nil {
		t.Fatal("encodeBatch returned a block")
	}
	if e := cError(&session.Error{SQLState: "XX000", Message: "m"}); e != nil {
		t.Fatal("cError returned a block")
	}
	if n := cNotices([]session.Notice{{}}); n != nil {
		t.Fatal("cNotices returned a block")
	}
}
