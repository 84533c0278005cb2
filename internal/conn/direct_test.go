package conn

import (
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair is a connected pair of TCP sockets: ours and the server's end.
func tcpPair(t *testing.T) (nc, sc net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	server := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			server <- c
		}
	}()
	if nc, err = net.Dial("tcp", l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	sc = <-server
	t.Cleanup(func() { sc.Close(); nc.Close() })
	return nc, sc
}

// tcpConn is a Conn over a real socket and the server's end of it.
func tcpConn(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	nc, sc := tcpPair(t)
	c := &Conn{sem: make(chan struct{}, 1), w: testWire(nc)}
	c.w.tx.Store('I')
	return c, sc
}

// The shim may drive a connection only while Go does not: published idle
// when Go lets go of it with nothing pending, taken back when Go needs it,
// never taken from the shim in the middle of its round trip.
func TestDirectPublishAndTake(t *testing.T) {
	c, _ := tcpConn(t)
	d := &Direct{Token: 7}
	c.Attach(d)
	if d.State != DirectIdle || int(d.FD) != c.w.fd() || d.WaitID != c.w.id || string(d.DateStyle[:8]) != "ISO, MDY" || d.DateStyle[8] != 0 {
		t.Fatalf("attached: %+v", d)
	}
	if !c.tryAcquire() || d.State != DirectOff {
		t.Fatalf("taken: %v", d.State)
	}
	c.Let()
	if d.State != DirectIdle {
		t.Fatalf("let go: %v", d.State)
	}

	// the shim's round trips: their status becomes the wire's
	d.State, d.Tx = DirectBusy, 'T'
	if c.tryAcquire() {
		t.Fatal("taken from the shim in its round trip")
	}
	if !c.DirectBusy() {
		t.Fatal("not busy")
	}
	d.State = DirectIdle
	if c.TxStatus() != 'T' || !c.tryAcquire() || c.w.tx.Load() != 'T' {
		t.Fatalf("status %c, wire %c", c.TxStatus(), c.w.tx.Load())
	}

	// input not yet parsed stays Go's
	c.w.in = append(c.w.in[:0], 'A', 0, 0)
	c.Let()
	if d.State != DirectOff {
		t.Fatal("published with input pending")
	}
	c.w.in, c.w.r = c.w.in[:0], 0

	// a style too long for the shim's room
	c.w.params["DateStyle"] = string(make([]byte, StyleLen))
	c.tryAcquire()
	c.Let()
	if d.State != DirectOff {
		t.Fatal("published with a style that does not fit")
	}
	delete(c.w.params, "DateStyle")
	c.tryAcquire()
	c.Let()
	if d.State != DirectIdle || d.DateStyle[0] != 0 {
		t.Fatal("not published again")
	}

	// a lost connection, and a detached one, are never the shim's
	c.tryAcquire()
	c.closed.Store(true)
	c.Let()
	if d.State != DirectOff {
		t.Fatal("published a lost connection")
	}
	if got := c.Detach(); got != d || d.Token != 0 || c.DirectState() != nil {
		t.Fatalf("detached: %+v", d)
	}
}

// A query the shim sent and could not finish goes on in Go from the bytes
// the shim read, with what the socket did not take sent first.
func TestDirectAdopt(t *testing.T) {
	c, sc := tcpConn(t)
	d := &Direct{Token: 1}
	c.Attach(d)
	if _, err := c.Adopt("SELECT 1", ModeRows, nil, nil); err == nil {
		t.Fatal("adopted a query the shim did not start")
	}
	d.State, d.Tx = DirectBusy, 'I'
	resp := response(t)
	cut := len(resp) / 3
	q, err := c.Adopt("SELECT 1, NULL; SET x = 1", ModeRows, []byte("Qrest"), resp[:cut])
	if err != nil {
		t.Fatal(err)
	}
	if d.State != DirectOff || c.tryAcquire() {
		t.Fatal("the connection is not Go's")
	}
	got := make([]byte, 5)
	sc.Write(resp[cut:])
	var rows [][]string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ev, ok, _ := q.Poll()
		if !ok {
			time.Sleep(time.Millisecond)
			continue
		}
		if ev.Kind == EvRows {
			rows = append(rows, batchRows(ev.Batch)...)
		}
		if ev.Kind == EvDone {
			break
		}
	}
	if out, err := q.Result(); err != nil || out.Tag != "SET" || len(rows) != 2 || rows[0][0] != "'1'" {
		t.Fatalf("outcome %+v %v, rows %v", out, err, rows)
	}
	if _, err := io.ReadFull(sc, got); err != nil || string(got) != "Qrest" {
		t.Fatalf("the unsent part: %q %v", got, err)
	}
	c.Finish(q)
	if d.State != DirectIdle || d.Tx != 'T' {
		t.Fatalf("after the adopted query: %+v", d)
	}
}
