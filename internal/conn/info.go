package conn

// This file is what dblink_connections() (extension version 1.3) shows of
// a connection. Reading it sends nothing to the remote server and takes
// no lock an operation holds: the backend may read it while a goroutine
// uses the connection.

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
)

// Info describes one open connection.
type Info struct {
	Host          string // the socket directory or address reached
	Port          int
	Database      string
	User          string
	PID           uint32 // the remote backend's
	ServerVersion string
	SSL           bool
	// Status is "ok", "closed" (the remote end has gone away; seen on the
	// socket without reading or sending) or "bad" (a failure broke it).
	Status string
	// Transaction is the remote transaction status as the last
	// ReadyForQuery reported it, or "active" while an operation runs.
	Transaction string
	OpenedAt    time.Time
	LastUsedAt  time.Time // zero until a statement went through it
	Queries     int64     // Query messages sent
	BytesSent   int64
	BytesRecvd  int64
}

// connMeta is what is known once a connection is made.
type connMeta struct {
	host          string
	port          int
	database      string
	user          string
	serverVersion string
	ssl           bool
	openedAt      time.Time
}

// newConnMeta reads the facts of a connection pgconn just made.
func newConnMeta(pg *pgconn.PgConn, cfg *pgconn.Config) connMeta {
	m := connMeta{database: cfg.Database, user: cfg.User, openedAt: time.Now()}
	nc := pg.Conn()
	_, m.ssl = nc.(*tls.Conn)
	switch a := nc.RemoteAddr().(type) {
	case *net.TCPAddr:
		m.host, m.port = a.IP.String(), a.Port
	case *net.UnixAddr:
		// <dir>/.s.PGSQL.<port>
		dir, file := filepath.Split(a.Name)
		m.host = strings.TrimSuffix(dir, "/")
		m.port, _ = strconv.Atoi(strings.TrimPrefix(file, ".s.PGSQL."))
	}
	return m
}

// Info returns what is known of c now.
func (c *Conn) Info() Info {
	in := Info{
		Host: c.meta.host, Port: c.meta.port, Database: c.meta.database, User: c.meta.user,
		ServerVersion: c.meta.serverVersion, SSL: c.meta.ssl, OpenedAt: c.meta.openedAt,
		PID:         c.w.pg.PID(),
		Queries:     c.w.queries.Load(),
		BytesSent:   c.w.sk.sent.Load(),
		BytesRecvd:  c.w.sk.received.Load(),
		Transaction: txStatusText(byte(c.w.tx.Load())),
		Status:      "ok",
	}
	last := c.lastUsed.Load()
	if d := c.direct.Load(); d != nil {
		// the shim's round trips (Info runs on the backend's thread)
		in.Queries += d.RoundTrips
		in.BytesSent += d.BytesSent
		in.BytesRecvd += d.BytesReceived
		in.Transaction = txStatusText(c.TxStatus())
		last = max(last, d.LastUsed)
	}
	if last != 0 {
		in.LastUsedAt = time.Unix(0, last)
	}
	if len(c.sem) > 0 {
		in.Transaction = "active"
	}
	switch {
	case c.closed.Load():
		in.Status = "bad"
	case peerGone(c.w.fd()):
		in.Status = "closed"
	}
	return in
}

// txStatusText names a ReadyForQuery transaction status.
func txStatusText(tx byte) string {
	switch tx {
	case 'T':
		return "in transaction"
	case 'E':
		return "failed transaction"
	}
	return "idle"
}

// Linux's poll(2) events beyond the syscall package's constants.
const (
	pollRDHUP = 0x2000
	pollERR   = 0x8
	pollHUP   = 0x10
)

// peerGone reports whether the remote end of the socket has closed it,
// without reading from it or writing to it: poll(2) with no wait, as
// postgres_fdw's connection check does.
func peerGone(fd int) bool {
	if fd < 0 {
		return false
	}
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(fd), events: pollRDHUP}
	n, _, errno := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&pfd)), 1, 0)
	return errno == 0 && n == 1 && pfd.revents&(pollRDHUP|pollHUP|pollERR) != 0
}
