package session

// Reconnecting a named or unnamed connection whose remote side went away
// while it was idle (dblink.reconnect). The shim asks at the start of a
// call; when the session depended on nothing of the remote session (no
// transaction open there, no cursor, no async query), it opens the
// connection again from its original string, resolving a foreign server
// and applying the password rule anew, and replaces the lost one
// (Connect with replace).

// Lost says what became of a connection's remote side.
type Lost int

// The values match DgLost in csrc/dblink_go_abi.h.
const (
	NotLost   Lost = 0 // alive, in use, depended on, or no such connection
	Reconnect Lost = 1 // gone while idle, and nothing depended on it
)

// LostState tells whether the connection (the unnamed one when name is
// nil) lost its remote side while idle and may be reopened, and if so the
// foreign server it came from ("" for none) and the string it was opened
// with. A connection something depends on is not even looked at: reading
// its input here would change how the call then fails.
func (s *Session) LostState(name *string) (server, connstr string, lost Lost) {
	e := s.entryOf(name)
	// dblink_open's cursors live in a remote transaction: an idle status
	// says none is open
	if e == nil || e.inProgress() || e.c.TxStatus() != 'I' || !e.c.Lost() {
		return "", "", NotLost
	}
	return e.server, e.connstr, Reconnect
}
