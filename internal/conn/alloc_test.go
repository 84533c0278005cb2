package conn

import (
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// A small query on the backend's thread allocates its run, its batch (the
// struct, its offsets and its data) and its command tag, nothing more: the
// Query message, the decoded RowDescription and DataRow and the queue of
// events reuse the wire's memory from call to call.
func TestSmallQueryAllocations(t *testing.T) {
	c, sc := tcpConn(t)
	resp := encode(t,
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a"), DataTypeOID: 25}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'},
	)
	go func() { // answers every Query message
		buf := make([]byte, 256) // (its allocations count too)
		for {
			if _, err := io.ReadFull(sc, buf[:5]); err != nil {
				return
			}
			n := int(buf[1])<<24 | int(buf[2])<<16 | int(buf[3])<<8 | int(buf[4])
			if n-4 > len(buf) {
				return
			}
			if _, err := io.ReadFull(sc, buf[:n-4]); err != nil {
				return
			}
			if _, err := sc.Write(resp); err != nil {
				return
			}
		}
	}()
	failed := ""
	query := func() {
		q, ok := c.TryStart("SELECT 1", ModeRows)
		if !ok {
			failed = "connection busy"
			return
		}
		q.Send()
		rows := 0
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			ev, ok, _ := q.Poll()
			if !ok {
				time.Sleep(20 * time.Microsecond)
				continue
			}
			if ev.Kind == EvRows {
				rows += ev.Batch.NRows
			}
			if ev.Kind == EvDone {
				break
			}
		}
		if out, err := q.Result(); err != nil || out.Tag != "SELECT 1" || rows != 1 {
			failed = "wrong outcome"
		}
		c.Finish(q)
	}
	query() // the wire's buffers grow once
	allocs := testing.AllocsPerRun(100, query)
	if failed != "" {
		t.Fatal(failed)
	}
	if allocs > 5 {
		t.Fatalf("%v allocations per small query, want at most 5", allocs)
	}
}
