package session

import (
	"sort"
	"strings"

	"github.com/dblink-go/dblink/internal/conn"
)

// Connection is one row of dblink_connections(): a registered connection
// as the session and the connection itself know it.
type Connection struct {
	Name        *string // nil for the unnamed connection
	Server      string  // the foreign server it was opened through, or ""
	Info        conn.Info
	Busy        bool   // a dblink_send_query result is still to be collected
	OpenCursors int    // opened with dblink_open and not closed
	LastError   string // libpq's last error text, or ""
}

// Connections lists the session's connections, the unnamed one first, then
// the named ones by name. Nothing is sent to any remote server.
func (s *Session) Connections() []Connection {
	type entry struct {
		name *string
		c    *conn.Conn
	}
	var entries []entry
	if c := s.reg.Unnamed(); c != nil {
		entries = append(entries, entry{nil, c})
	}
	names := s.reg.Names()
	sort.Strings(names)
	for _, n := range names {
		if c := s.reg.Get(n); c != nil {
			entries = append(entries, entry{&n, c})
		}
	}
	out := make([]Connection, 0, len(entries))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		row := Connection{Name: e.name, Info: e.c.Info()}
		if l := s.links[e.c]; l != nil {
			row.Server = l.server
			row.Busy = l.pending != nil
			row.LastError = strings.TrimRight(l.errText, "\n")
			row.OpenCursors = l.cursors.open
		}
		if e.name == nil {
			row.OpenCursors = s.unnamedCursors.open
		}
		if row.Info.Transaction == "idle" {
			row.OpenCursors = 0 // the transaction's end closed them
		}
		out = append(out, row)
	}
	return out
}
