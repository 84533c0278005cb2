package conn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sockPair is a TCP connection wrapped in a sock, and the server's end.
func sockPair(t *testing.T) (*sock, net.Conn) {
	t.Helper()
	nc, peer := tcpPair(t)
	s := newSock(nc)
	t.Cleanup(func() { s.Close() })
	if s.fd < 0 {
		t.Fatal("a TCP connection has no descriptor")
	}
	return s, peer
}

// polledInodes returns the inodes of the files registered in this
// process's epoll instances (Go's netpoller is one), from /proc.
func polledInodes(t *testing.T) map[uint64]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, e := range ents {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			var tfd int
			var ev, data, pos, ino uint64
			if n, _ := fmt.Sscanf(line, "tfd: %d events: %x data: %x pos:%d ino:%x", &tfd, &ev, &data, &pos, &ino); n == 5 {
				seen[ino] = true
			}
		}
	}
	return seen
}

func inode(t *testing.T, fd int) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// After detach the socket is in no epoll instance of the process (before,
// Go's netpoller watched it), and it still works both ways.
func TestSockDetachLeavesNetpoller(t *testing.T) {
	s, peer := sockPair(t)
	ino := inode(t, s.fd)
	if !polledInodes(t)[ino] {
		t.Fatal("the dialed socket is not in Go's netpoller: the test cannot see a detach")
	}
	s.detach()
	if !s.detached.Load() || inode(t, s.fd) != ino {
		t.Fatalf("detach: detached %v, same socket %v", s.detached.Load(), inode(t, s.fd) == ino)
	}
	if polledInodes(t)[ino] {
		t.Fatal("the socket is still in an epoll instance after detach")
	}
	if _, err := s.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := peer.Read(buf); err != nil || string(buf) != "ping" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		peer.Write([]byte("pong"))
	}()
	n, err := s.Read(buf) // blocking: waits in poll(2)
	if err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("blocking read after detach: %q, %v", buf[:n], err)
	}
}

// A detached socket keeps net.Conn's deadlines, also one set while a read
// waits, and a read after Close fails instead of touching the number.
func TestSockDetachedDeadlines(t *testing.T) {
	s, _ := sockPair(t)
	s.detach()
	buf := make([]byte, 4)

	_ = s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err := s.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
		t.Fatalf("deadline of 50 ms took %v", d)
	}

	_ = s.SetDeadline(time.Time{})
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = s.SetDeadline(time.Now()) // as the cancel watch does
	}()
	start = time.Now()
	if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read whose deadline came while it waited: %v", err)
	}
	if d := time.Since(start); d > waitSlice+time.Second {
		t.Fatalf("a deadline set meanwhile took %v to end the read", d)
	}

	_ = s.SetDeadline(time.Time{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v (it must not close the number again)", err)
	}
}

// A deadline ends blocking reads even while the peer keeps sending, as on
// a net.Conn: a flooding server cannot hold a goroutine that drains it.
func TestSockDetachedDeadlineUnderFlood(t *testing.T) {
	s, peer := sockPair(t)
	s.detach()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		junk := make([]byte, 4096)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := peer.Write(junk); err != nil {
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond) // the socket's buffer fills
	_ = s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 1) // read slower than the peer writes
	start := time.Now()
	for {
		if _, err := s.Read(buf); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read under a flood: %v", err)
			}
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("reads under a flood ran past their deadline")
		}
	}
}

// The owner's count of a connection (and with it the shim's external-FD
// slot) goes back when its socket is really closed, whichever path closes
// it: here a query that finds the server gone, with no Close at all. It
// goes back once, and a hook set after the close runs at once.
func TestOnCloseRunsWhenTheSocketCloses(t *testing.T) {
	c, sc := tcpConn(t)
	c.w.sk.onShut = c.closing // as Open sets it
	closes := 0
	c.OnClose(func() { closes++ })
	q, ok := c.TryStart("SELECT 1", ModeExec)
	if !ok {
		t.Fatal("connection busy")
	}
	q.Send()
	sc.Close()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ev, ok, _ := q.Poll(); ok && ev.Kind == EvDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no end within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := q.Result(); err == nil || !q.Broken() {
		t.Fatalf("the run did not fail on the lost server: %v", err)
	}
	c.Finish(q)
	if closes != 1 || c.w.fd() >= 0 {
		t.Fatalf("after the broken read: %d closes, fd %d", closes, c.w.fd())
	}
	c.CloseSoon()
	c.Cut()
	if closes != 1 {
		t.Fatalf("closed %d times", closes)
	}
	late := false
	c.OnClose(func() { late = true })
	if !late {
		t.Fatal("a hook set after the close did not run")
	}
}
