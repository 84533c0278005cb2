package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/dblink-go/dblink/internal/pgerr"
	"github.com/jackc/pgx/v5/pgproto3"
)

// chunkConn is a net.Conn whose reads return the given chunks in turn,
// then EOF; writes are accepted and dropped.
type chunkConn struct {
	net.Conn // nil: only Read, Write, Close and deadlines are used
	chunks   [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	for len(c.chunks) > 0 && len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	return n, nil
}
func (c *chunkConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *chunkConn) Close() error                     { return nil }
func (c *chunkConn) SetDeadline(time.Time) error      { return nil }
func (c *chunkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chunkConn) SetWriteDeadline(time.Time) error { return nil }

func testWire(nc net.Conn) *wire {
	sk := newSock(nc)
	sk.detach() // as newWire does
	return &wire{nc: sk, sk: sk, params: map[string]string{"DateStyle": "ISO, MDY"}}
}

// encode lays messages out as a server sends them.
func encode(t *testing.T, msgs ...pgproto3.BackendMessage) []byte {
	t.Helper()
	var buf []byte
	var err error
	for _, m := range msgs {
		if buf, err = m.Encode(buf); err != nil {
			t.Fatal(err)
		}
	}
	return buf
}

// batchRows reads a batch's rows back: each value quoted, or NULL.
func batchRows(b *Batch) (rows [][]string) {
	for r := 0; r < b.NRows; r++ {
		var row []string
		for c := 0; c < b.NCols; c++ {
			off := b.Offsets[r*b.NCols+c]
			if off < 0 {
				row = append(row, "NULL")
				continue
			}
			end := off
			for b.Data[end] != 0 {
				end++
			}
			row = append(row, "'"+string(b.Data[off:end])+"'")
		}
		rows = append(rows, row)
	}
	return rows
}

// response is a server's answer to "SELECT 1, NULL" with asynchronous
// messages mixed in.
func response(t *testing.T) []byte {
	t.Helper()
	return encode(t,
		&pgproto3.ParameterStatus{Name: "IntervalStyle", Value: "postgres"},
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a")}, {Name: []byte("b")}}},
		&pgproto3.NotificationResponse{PID: 7, Channel: "ch", Payload: "p"},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1"), nil}},
		&pgproto3.DataRow{Values: [][]byte{{}, []byte("x")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 2")},
		&pgproto3.CommandComplete{CommandTag: []byte("SET")},
		&pgproto3.ReadyForQuery{TxStatus: 'T'},
	)
}

// runChunks runs a query over a connection delivering chunks.
func runChunks(t *testing.T, chunks [][]byte) (events []Event, rows [][]string, w *wire, q *Run) {
	t.Helper()
	var notes []Notification
	w = testWire(&chunkConn{chunks: chunks})
	w.notify = func(n Notification) { notes = append(notes, n) }
	q = w.newRun("SELECT 1, NULL; SET x = 1", ModeRows)
	q.runBlocking(context.Background(), func(ev Event) bool {
		if ev.Batch != nil {
			rows = append(rows, batchRows(ev.Batch)...)
			ev.Batch = nil
		}
		events = append(events, ev)
		return true
	})
	if len(notes) != 1 || notes[0] != (Notification{Channel: "ch", PID: 7, Payload: "p"}) {
		t.Errorf("notifications %+v", notes)
	}
	return events, rows, w, q
}

func TestWireSplitAtEveryByte(t *testing.T) {
	resp := response(t)
	wantEvents := []Event{
		{Kind: EvRows, ResultNo: 1},
		{Kind: EvResultEnd, ResultNo: 1},
		{Kind: EvCommand, ResultNo: 2, Tag: "SET"},
	}
	wantRows := [][]string{{"'1'", "NULL"}, {"''", "'x'"}}
	for k := 0; k <= len(resp); k++ {
		a, b := append([]byte{}, resp[:k]...), append([]byte{}, resp[k:]...)
		events, rows, w, q := runChunks(t, [][]byte{a, b})
		out, err := q.Result()
		if err != nil || !reflect.DeepEqual(events, wantEvents) || !reflect.DeepEqual(rows, wantRows) {
			t.Fatalf("split at %d: err %v events %+v rows %v", k, err, events, rows)
		}
		if out.Tag != "SET" || out.HadRows || out.Styles.IntervalStyle != "postgres" || w.tx.Load() != 'T' {
			t.Fatalf("split at %d: outcome %+v tx %c", k, out, w.tx.Load())
		}
	}
}

func TestWireOneByteReads(t *testing.T) {
	resp := response(t)
	var chunks [][]byte
	for i := range resp {
		chunks = append(chunks, []byte{resp[i]})
	}
	if _, _, _, q := runChunks(t, chunks); q.err != nil {
		t.Fatal(q.err)
	}
}

func TestWireTruncatedIsLostConnection(t *testing.T) {
	resp := response(t)
	w := testWire(&chunkConn{chunks: [][]byte{resp[:len(resp)-3]}})
	q := w.newRun("SELECT 1", ModeExec)
	q.runBlocking(context.Background(), func(Event) bool { return true })
	if _, err := q.Result(); err != pgerr.LostConnection || !q.Broken() {
		t.Fatalf("err %v broken %v", err, q.Broken())
	}
}

// A length word out of bounds for its message type is libpq's lost
// synchronization, before any buffer grows for it: over 1 GB for a row,
// over 30000 bytes for a type that is never long, over 16 MB for a notice.
func TestWireRefusesOversizedMessage(t *testing.T) {
	for _, c := range []struct {
		typ    byte
		length uint32
	}{{'D', maxMessageLen + 1}, {'S', 30001}, {'C', 1 << 20}, {'N', 16<<20 + 1}, {'D', 3}} {
		msg := []byte{c.typ, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(msg[1:], c.length)
		w := testWire(&chunkConn{chunks: [][]byte{msg}})
		q := w.newRun("SELECT 1", ModeRows)
		q.runBlocking(context.Background(), func(Event) bool { return true })
		_, err := q.Result()
		want := fmt.Sprintf("lost synchronization with server: got message type \"%c\", length %d\ninvalid socket", c.typ, c.length)
		var e *pgerr.Error
		if !errors.As(err, &e) || e.SQLState != "08006" || e.Message != want || !q.Broken() {
			t.Errorf("%c %d: err %v broken %v", c.typ, c.length, err, q.Broken())
		}
		if cap(w.in) > 1<<20 {
			t.Errorf("%c %d: buffer grew to %d bytes", c.typ, c.length, cap(w.in))
		}
	}
	// the bounds themselves are taken
	for _, c := range []struct {
		typ  byte
		body int
	}{{'S', 30000 - 4}, {'N', 16<<20 - 4}} {
		msg := make([]byte, 5+c.body)
		msg[0] = c.typ
		binary.BigEndian.PutUint32(msg[1:], uint32(4+c.body))
		w := testWire(&chunkConn{chunks: [][]byte{msg}})
		if err := w.fill(); err != nil {
			t.Fatal(err)
		}
		for len(w.in)-w.r < len(msg) {
			if err := w.fill(); err != nil {
				t.Fatal(err)
			}
		}
		if typ, _, ok, err := w.message(); !ok || err != nil || typ != c.typ {
			t.Errorf("%c of %d bytes refused: %v", c.typ, len(msg)-1, err)
		}
	}
}

func TestWireServerError(t *testing.T) {
	buf := encode(t,
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a")}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1")}},
		&pgproto3.ErrorResponse{Severity: "ERROR", Code: "22012", Message: "division by zero", Detail: ""},
		&pgproto3.ReadyForQuery{TxStatus: 'I'},
	)
	w := testWire(&chunkConn{chunks: [][]byte{buf}})
	q := w.newRun("SELECT 1/0", ModeRows)
	var kinds []EventKind
	q.runBlocking(context.Background(), func(ev Event) bool { kinds = append(kinds, ev.Kind); return true })
	_, err := q.Result()
	if e := pgerr.AsError(err); e.SQLState != "22012" || !e.Remote || q.Broken() {
		t.Fatalf("err %+v broken %v", e, q.Broken())
	}
	// the row before the error is handed over, with no result end
	if !reflect.DeepEqual(kinds, []EventKind{EvRows}) {
		t.Fatalf("events %v", kinds)
	}
}

// TestWirePollNonBlocking drives a query over a real TCP socket, without
// TLS, the way the backend's thread does: Poll never blocks and says when
// to wait.
func TestWirePollNonBlocking(t *testing.T) {
	nc, sc := tcpPair(t)
	w := testWire(nc)
	defer w.sk.Close()
	if w.fd() < 0 {
		t.Fatal("no socket fd")
	}
	q := w.newRun("SELECT 1", ModeExec)
	if _, ok, _ := q.Poll(); ok {
		t.Fatal("Poll returned an event before any input")
	}
	// the Query message went out
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(sc, hdr); err != nil || hdr[0] != 'Q' {
		t.Fatalf("server read %q, %v", hdr, err)
	}
	resp := response(t)
	half := len(resp) / 2
	sc.Write(resp[:half])
	deadline := time.Now().Add(5 * time.Second)
	pollUntil := func() (Event, bool) {
		for time.Now().Before(deadline) {
			if ev, ok, _ := q.Poll(); ok {
				return ev, true
			}
			time.Sleep(time.Millisecond)
		}
		return Event{}, false
	}
	time.Sleep(20 * time.Millisecond)
	if ev, ok, _ := q.Poll(); ok && ev.Kind == EvDone {
		t.Fatal("done with half a response")
	}
	sc.Write(resp[half:])
	ev, ok := pollUntil()
	if !ok || ev.Kind != EvDone {
		t.Fatalf("got %+v %v", ev, ok)
	}
	if out, err := q.Result(); err != nil || out.Tag != "SET" {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	sc.Close()
	q = w.newRun("SELECT 1", ModeExec)
	ev, ok = pollUntil()
	if _, err := q.Result(); !ok || ev.Kind != EvDone || !errors.Is(err, pgerr.LostConnection) {
		t.Fatalf("after the server closed: %+v %v", ev, err)
	}
}

// Streaming a large result makes little garbage whatever its size: the
// batch and the input buffer are sized once and reused (the batch used to
// grow in append's 1.25x steps and the input buffer a step per read, about
// 1.7 MB of garbage for a million rows, all of it resident until a GC).
func TestWireLargeResultGarbage(t *testing.T) {
	garbage := func(rows int) uint64 {
		var body []byte
		var err error
		if body, err = (&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a")}, {Name: []byte("b")}}}).Encode(body); err != nil {
			t.Fatal(err)
		}
		row := &pgproto3.DataRow{Values: [][]byte{[]byte("123456"), []byte("0123456789abcdef0123456789abcdef")}}
		for i := 0; i < rows; i++ {
			body, _ = row.Encode(body)
		}
		body, _ = (&pgproto3.CommandComplete{CommandTag: []byte("SELECT")}).Encode(body)
		body, _ = (&pgproto3.ReadyForQuery{TxStatus: 'I'}).Encode(body)
		var chunks [][]byte
		for len(body) > 0 { // reads of a socket's size, cut anywhere
			n := min(len(body), 60001)
			chunks = append(chunks, body[:n])
			body = body[n:]
		}
		w := testWire(&chunkConn{chunks: chunks})
		q := w.newRun("SELECT", ModeRows)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		got := 0
		q.runBlocking(context.Background(), func(ev Event) bool {
			if ev.Batch != nil {
				got += ev.Batch.NRows
			}
			return true
		})
		runtime.ReadMemStats(&after)
		if got != rows {
			t.Fatalf("%d rows of %d", got, rows)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := garbage(20_000), garbage(200_000)
	if large > 400<<10 || large > small+64<<10 {
		t.Errorf("allocated %d kB for 20,000 rows and %d kB for 200,000: want under 400 kB, flat in the row count", small>>10, large>>10)
	}
}

// A server that sends asynchronous messages or rows nobody keeps without
// end cannot hold a call: each call parses about workPerCall and returns,
// and the calls together take everything, in order.
func TestWireBoundedWorkPerCall(t *testing.T) {
	const n = 50000
	var msgs []pgproto3.BackendMessage
	for i := 0; i < n; i++ {
		msgs = append(msgs, &pgproto3.NotificationResponse{PID: uint32(i), Channel: "c", Payload: "p"})
	}
	w := testWire(&chunkConn{chunks: [][]byte{encode(t, msgs...)}})
	got := 0
	w.notify = func(m Notification) {
		if int(m.PID) != got {
			t.Fatalf("notification %d came as %d", m.PID, got)
		}
		got++
	}
	calls := 0
	for more := true; more; calls++ {
		_, more = w.readIdle()
		if w.spent > workPerCall+100 {
			t.Fatalf("a call parsed %d bytes", w.spent)
		}
	}
	if got != n || calls < 2 {
		t.Fatalf("%d notifications in %d calls", got, calls)
	}

	// dblink_exec drops rows: the same bound holds, and the run ends
	rows := []pgproto3.BackendMessage{&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a")}}}}
	for i := 0; i < n; i++ {
		rows = append(rows, &pgproto3.DataRow{Values: [][]byte{[]byte("x")}})
	}
	rows = append(rows, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 50000")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	w = testWire(&chunkConn{chunks: [][]byte{encode(t, rows...)}})
	q := w.newRun("q", ModeExec)
	yields := 0
	for {
		ev, ok, _ := q.Poll()
		if w.spent > workPerCall+100 {
			t.Fatalf("a poll parsed %d bytes", w.spent)
		}
		if !ok {
			if !q.Yielded() {
				t.Fatal("a poll that neither ended nor yielded")
			}
			yields++
			continue
		}
		if ev.Kind == EvDone {
			break
		}
	}
	if out, err := q.Result(); err != nil || out.Tag != "SELECT 50000" || yields < 2 {
		t.Fatalf("%+v %v after %d yields", out, err, yields)
	}
}

// Reading idle input (dblink_is_busy, dblink_get_notify) happens on the
// backend's thread, which is not waiting: it must not wake the backend's
// next wait through the eventfd for nothing.
func TestConsumeInputWakesNobody(t *testing.T) {
	c := &Conn{sem: make(chan struct{}, 1), w: testWire(&chunkConn{})}
	woken := 0
	c.SetWake(func() { woken++ })
	c.ConsumeInput()
	if woken != 0 {
		t.Fatalf("woken %d times", woken)
	}
	if !c.tryAcquire() {
		t.Fatal("ConsumeInput kept the connection")
	}
}

// The decoded messages a wire keeps for reuse point into no input once
// their message is handled (a later read reuses the input, or unmaps a big
// message's), and the room a row description wider than PostgreSQL allows
// asked for is not kept.
func TestDecodedMessagesKeepNothing(t *testing.T) {
	_, _, w, _ := runChunks(t, [][]byte{response(t)})
	if cap(w.dr.Values) == 0 || cap(w.rd.Fields) == 0 {
		t.Fatal("the decoded messages were not kept for reuse")
	}
	for i, v := range w.dr.Values[:cap(w.dr.Values)] {
		if v != nil {
			t.Fatalf("value %d still points into the input", i)
		}
	}
	for i, f := range w.rd.Fields[:cap(w.rd.Fields)] {
		if f.Name != nil {
			t.Fatalf("field %d's name still points into the input", i)
		}
	}

	wide := make([]pgproto3.FieldDescription, maxColumns+1)
	for i := range wide {
		wide[i] = pgproto3.FieldDescription{Name: []byte("c"), DataTypeOID: 25}
	}
	w = testWire(&chunkConn{chunks: [][]byte{encode(t,
		&pgproto3.RowDescription{Fields: wide},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 0")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})}})
	q := w.newRun("SELECT wide", ModeRows)
	q.runBlocking(context.Background(), func(Event) bool { return true })
	if out, err := q.Result(); err != nil || out.Tag != "SELECT 0" {
		t.Fatalf("the wide result: %+v %v", out, err)
	}
	if cap(w.rd.Fields) != 0 {
		t.Fatalf("kept room for %d fields", cap(w.rd.Fields))
	}
}
