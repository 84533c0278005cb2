package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"syscall"
	"testing"

	"github.com/dblink-go/dblink/internal/pgerr"
	"github.com/jackc/pgx/v5/pgproto3"
)

// oneTextColumn describes a result of one text column.
var oneTextColumn = pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1}}}

// hugeHeader is the start of a response whose DataRow says it is about
// 1 GB long; the rest never comes.
func hugeHeader(t *testing.T) []byte {
	t.Helper()
	d := []byte{'D', 0, 0, 0, 0, 0, 1}
	binary.BigEndian.PutUint32(d[1:5], 0x3FFFFFF0)
	return append(encode(t, &oneTextColumn), d...)
}

// A message's length word no longer sizes a Go allocation: the 1 GB the
// header asks for is mapped (and never touched), the Go heap stays small,
// and a message that stops short is a lost connection as before.
func TestWireBigMessageOffHeap(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := testWire(&chunkConn{chunks: [][]byte{hugeHeader(t)}})
	q := w.newRun("SELECT 1", ModeRows)
	q.runBlocking(context.Background(), func(Event) bool { return true })
	runtime.ReadMemStats(&after)
	if _, err := q.Result(); err != pgerr.LostConnection || !q.Broken() {
		t.Fatalf("err %v broken %v", err, q.Broken())
	}
	if grown := int64(after.HeapSys) - int64(before.HeapSys); grown > 64<<20 {
		t.Fatalf("the Go heap grew by %d MB for a message that never came", grown>>20)
	}
	if w.big == nil || cap(w.in) < 0x3FFFFFF0 {
		t.Fatalf("the input buffer was not mapped: cap %d", cap(w.in))
	}
	w.big.release()
}

// When the system refuses the memory, the run reports libpq's words for
// it (contrib 15 under a data size limit) and gives the connection up,
// instead of the Go runtime ending the process.
func TestWireBigMessageRefused(t *testing.T) {
	defer func(f func(int) ([]byte, error)) { mapBytes = f }(mapBytes)
	mapBytes = func(int) ([]byte, error) { return nil, syscall.ENOMEM }
	w := testWire(&chunkConn{chunks: [][]byte{hugeHeader(t)}})
	q := w.newRun("SELECT 1", ModeRows)
	q.runBlocking(context.Background(), func(Event) bool { return true })
	_, err := q.Result()
	var e *pgerr.Error
	want := "cannot allocate memory for input buffer\n" +
		"lost synchronization with server: got message type \"D\", length 1073741804\ninvalid socket"
	if !errors.As(err, &e) || e.SQLState != "08006" || e.Message != want || !q.Broken() {
		t.Fatalf("err %#v broken %v", err, q.Broken())
	}
}

// A big message that did come is read whole, and its mapping goes back
// once it has been parsed.
func TestWireBigMessageReleased(t *testing.T) {
	value := make([]byte, 3*bigSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	resp := encode(t,
		&oneTextColumn,
		&pgproto3.DataRow{Values: [][]byte{value}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("small")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 2")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'},
	)
	w := testWire(&chunkConn{chunks: [][]byte{resp}})
	q := w.newRun("SELECT 1", ModeRows)
	var got [][]string
	q.runBlocking(context.Background(), func(ev Event) bool {
		if ev.Batch != nil {
			got = append(got, batchRows(ev.Batch)...)
		}
		return true
	})
	if _, err := q.Result(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][0] != "'"+string(value)+"'" || got[1][0] != "'small'" {
		t.Fatalf("got %d rows", len(got))
	}
	if w.big == nil || w.big.b != nil || cap(w.in) > 4*readChunk {
		t.Fatalf("the big input buffer was kept: cap %d", cap(w.in))
	}
	if q.b == nil || q.b.big == nil || q.b.big.b != nil || cap(q.b.Data) > bigSize {
		t.Fatal("the big batch was kept")
	}
}

// A big value that arrived but whose copy into a batch the system refuses
// is libpq's "out of memory for query result": the rows before it are
// handed over (as before a server error), the rest of the response is read
// and dropped, and the connection goes on.
func TestWireBigValueRefused(t *testing.T) {
	defer func(f func(int) ([]byte, error)) { mapBytes = f }(mapBytes)
	calls := 0
	mapBytes = func(n int) ([]byte, error) {
		if calls++; calls > 1 { // the input buffer is granted, the batch not
			return nil, syscall.ENOMEM
		}
		return make([]byte, n), nil
	}
	resp := encode(t,
		&oneTextColumn,
		&pgproto3.DataRow{Values: [][]byte{[]byte("before")}},
		&pgproto3.DataRow{Values: [][]byte{make([]byte, 2*bigSize)}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("after")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 3")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'},
	)
	w := testWire(&chunkConn{chunks: [][]byte{resp}})
	w.big = &bigBuf{} // its memory is the Go heap's here: nothing to unmap
	q := w.newRun("SELECT 1", ModeRows)
	var rows int
	var kinds []EventKind
	q.runBlocking(context.Background(), func(ev Event) bool {
		kinds = append(kinds, ev.Kind)
		if ev.Batch != nil {
			rows += ev.Batch.NRows
		}
		return true
	})
	_, err := q.Result()
	if err != errResultMemory || q.Broken() {
		t.Fatalf("err %v broken %v", err, q.Broken())
	}
	if rows != 1 || len(kinds) != 1 || kinds[0] != EvRows {
		t.Fatalf("events %v with %d rows, want the row before the big value alone", kinds, rows)
	}
	if w.tx.Load() != 'I' {
		t.Fatal("the response was not read to its end")
	}
}
