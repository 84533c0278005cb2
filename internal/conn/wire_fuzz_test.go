package conn

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzWire feeds what a server could send, in any order and cut anywhere,
// through the reader in each state the backend reads it in, and checks what
// the shim relies on: every batch has the columns its RowDescription
// announced and exactly rows * columns offsets, each value starts and ends
// inside the batch's data, a call parses at most a call's worth of
// messages, and nothing panics or runs without end.
func FuzzWire(f *testing.F) {
	t := &testing.T{}
	row := func(vals ...string) *pgproto3.DataRow {
		d := &pgproto3.DataRow{}
		for _, v := range vals {
			d.Values = append(d.Values, []byte(v))
		}
		return d
	}
	two := &pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a")}, {Name: []byte("b")}}}
	seeds := [][]byte{
		response(t),
		encode(t, two, row("1"), &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}),
		encode(t, two, row("a1", "b1", "c1"), &pgproto3.ReadyForQuery{TxStatus: 'I'}),
		encode(t, row("x"), &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}),
		encode(t, &pgproto3.CommandComplete{CommandTag: []byte("SET")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}, &pgproto3.ReadyForQuery{TxStatus: 'I'}),
		encode(t, two, row("1", "2"), &pgproto3.ReadyForQuery{TxStatus: 'I'}, row("3", "4")),
		encode(t, &pgproto3.CopyOutResponse{}, &pgproto3.CopyData{Data: []byte("x\n")}, &pgproto3.CopyDone{},
			&pgproto3.CommandComplete{CommandTag: []byte("COPY 1")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}),
		encode(t, &pgproto3.NotificationResponse{PID: 1, Channel: "c", Payload: "p"}, &pgproto3.NoticeResponse{Severity: "NOTICE", Message: "n"},
			&pgproto3.ErrorResponse{Severity: "FATAL", Code: "57P01", Message: "bye"}),
		append(encode(t, two), 'D', 0, 0, 0, 12, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0),
		{'y', 0, 0, 0, 4, 'Z', 0, 0, 0, 5, 'X'},
	}
	for i, s := range seeds {
		for mode := range byte(3) {
			f.Add(mode, byte(i*7), s)
		}
	}
	f.Fuzz(func(t *testing.T, mode, cut byte, stream []byte) {
		// the stream arrives in two chunks, cut where the input says
		at := 0
		if len(stream) > 0 {
			at = int(cut) % (len(stream) + 1)
		}
		w := testWire(&chunkConn{chunks: [][]byte{bytes.Clone(stream[:at]), bytes.Clone(stream[at:])}})
		w.notify = func(Notification) {}
		w.notice = func(*pgconn.Notice) {}
		switch mode % 3 {
		case 0: // idle: what arrives between queries
			checkBounded(t, w, len(stream), func() bool { _, more := w.readIdle(); return more })
		case 1, 2: // a query, rows collected (dblink) or dropped (dblink_exec)
			q := w.newRun("q", Mode(mode%3-1))
			if mode%2 == 1 {
				q.SkimNotifications()
			}
			checkBounded(t, w, len(stream), func() bool {
				ev, ok, _ := q.Poll()
				if ok && ev.Batch != nil {
					checkBatch(t, ev.Batch, stream)
				}
				return !ok || ev.Kind != EvDone
			})
		}
	})
}

// checkBounded calls step until it reports the end, and fails when a call
// parsed more than a call's worth, or the calls do not end. No message is
// longer than the stream, of streamLen bytes.
func checkBounded(t *testing.T, w *wire, streamLen int, step func() (more bool)) {
	t.Helper()
	for calls := 0; ; calls++ {
		if calls > 1000 {
			t.Fatal("no end after 1000 calls")
		}
		more := step()
		// the bound is checked before each message is taken, so a call
		// ends at most one message past it
		if w.spent >= workPerCall+streamLen+msgCost {
			t.Fatalf("one call parsed %d bytes", w.spent)
		}
		if !more {
			return
		}
	}
}

// checkBatch checks a batch as the shim's query_check_batch does, and that
// its column count is one that a RowDescription in the stream announced.
func checkBatch(t *testing.T, b *Batch, stream []byte) {
	t.Helper()
	if b.NRows < 0 || len(b.Offsets) != b.NRows*b.NCols {
		t.Fatalf("%d offsets for %d rows of %d columns", len(b.Offsets), b.NRows, b.NCols)
	}
	if len(b.Data) > 0 && b.Data[len(b.Data)-1] != 0 {
		t.Fatal("data does not end with a NUL")
	}
	for _, off := range b.Offsets {
		if off < -1 || int(off) >= max(len(b.Data), 0) && off != -1 {
			t.Fatalf("offset %d outside %d bytes", off, len(b.Data))
		}
	}
	announced := false
	for i := bytes.IndexByte(stream, 'T'); i >= 0 && !announced; {
		if i+7 <= len(stream) && int(binary.BigEndian.Uint16(stream[i+5:])) == b.NCols {
			announced = true
		}
		next := bytes.IndexByte(stream[i+1:], 'T')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	if !announced {
		t.Fatalf("a batch of %d columns, which no RowDescription announced", b.NCols)
	}
}
