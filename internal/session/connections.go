package session

import "github.com/dblink-go/dblink/internal/conn"

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
// the named ones by name, then the pooled one-shot connections (no name,
// status "pooled", most recently used last). Nothing is sent to any
// remote server.
func (s *Session) Connections() []Connection {
	type slot struct {
		name *string
		e    *entry
	}
	var slots []slot
	if e := s.reg.get(nil); e != nil {
		slots = append(slots, slot{nil, e})
	}
	for _, n := range s.reg.names() {
		if e := s.reg.get(&n); e != nil {
			slots = append(slots, slot{&n, e})
		}
	}
	out := make([]Connection, 0, len(slots))
	for _, sl := range slots {
		e := sl.e
		row := Connection{Name: sl.name, Info: e.c.Info(), Server: e.server,
			Busy: e.sent() != nil, LastError: e.lastError(), OpenCursors: e.cursors.open}
		if sl.name == nil {
			row.OpenCursors = s.unnamedCursors.open
		}
		if row.Info.Transaction == "idle" {
			row.OpenCursors = 0 // the transaction's end closed them
		}
		out = append(out, row)
	}
	for _, pc := range s.pool.idle {
		row := Connection{Info: pc.c.Info()}
		if row.Info.Status == "ok" {
			row.Info.Status = "pooled"
		}
		out = append(out, row)
	}
	return out
}
