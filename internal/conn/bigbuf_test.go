package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// oneTextColumn describes a result of one text column.
var oneTextColumn = pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1}}}

// hugeHeader is the start of a response whose DataRow says it is about
// 1 GB long; the rest never comes.
func hugeHeader(t *testing.T) []byte {
	t.Helper()
	head, err := (&oneTextColumn).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := []byte{'D', 0, 0, 0, 0, 0, 1}
	binary.BigEndian.PutUint32(d[1:5], 0x3FFFFFF0)
	return append(head, d...)
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
	if _, err := q.Result(); err != lostConnection || !q.Broken() {
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
	var e *Error
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
	var resp []byte
	var err error
	for _, m := range []pgproto3.BackendMessage{
		&oneTextColumn,
		&pgproto3.DataRow{Values: [][]byte{value}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("small")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 2")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'},
	} {
		if resp, err = m.Encode(resp); err != nil {
			t.Fatal(err)
		}
	}
	w := testWire(&chunkConn{chunks: [][]byte{resp}})
	q := w.newRun("SELECT 1", ModeRows)
	var got [][]byte
	q.runBlocking(context.Background(), func(ev Event) bool {
		if b := ev.Batch; b != nil {
			for r := 0; r < b.NRows; r++ {
				off := b.Offsets[r]
				end := off
				for b.Data[end] != 0 {
					end++
				}
				got = append(got, append([]byte(nil), b.Data[off:end]...))
			}
		}
		return true
	})
	if _, err := q.Result(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0]) != string(value) || string(got[1]) != "small" {
		t.Fatalf("got %d rows", len(got))
	}
	if w.big == nil || w.big.b != nil || cap(w.in) > 4*readChunk {
		t.Fatalf("the big input buffer was kept: cap %d", cap(w.in))
	}
}
