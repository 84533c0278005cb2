package conn

// This file decides what becomes of a NOTICE, WARNING or other message a
// remote server sends (the dblink.remote_notices setting): written to the
// server's log as libpq's default notice processor does under contrib
// dblink, dropped, or queued for the backend to raise in its own session.

import (
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
)

// NoticeMode is a dblink.remote_notices value; the numbers are the shim's.
type NoticeMode int32

const (
	NoticesLog    NoticeMode = 0
	NoticesRelay  NoticeMode = 1
	NoticesIgnore NoticeMode = 2
)

// Notice is a remote message to raise in the local session.
type Notice struct {
	Severity string // as the server sent it (not localized): NOTICE, WARNING, ...
	SQLState string
	Message  string
	Detail   string
	Hint     string
	Label    string // the connection's name, "" for the unnamed one
	Named    bool
}

// noticeModeOf reads the setting; the shim hands over a pointer to it.
var noticeModeOf atomic.Pointer[func() NoticeMode]

// SetNoticeMode makes mode the source of the setting's current value.
func SetNoticeMode(mode func() NoticeMode) { noticeModeOf.Store(&mode) }

func currentNoticeMode() NoticeMode {
	if f := noticeModeOf.Load(); f != nil {
		return (*f)()
	}
	return NoticesLog
}

// maxRelayedNotices bounds what a server can make the backend hold before
// it raises them.
const maxRelayedNotices = 16 << 20

// relayed holds the notices waiting for the backend, from every connection.
var relayed = boundedQueue[Notice]{max: maxRelayedNotices, what: "remote notices to relay"}

// handleNotice is what c does with a notice, now.
func (c *Conn) handleNotice(n *pgconn.Notice) {
	switch currentNoticeMode() {
	case NoticesIgnore:
	case NoticesRelay:
		label, named := c.Label()
		relayed.push(Notice{Severity: n.SeverityUnlocalized, SQLState: n.Code, Message: n.Message,
			Detail: n.Detail, Hint: n.Hint, Label: label, Named: named},
			len(n.Message)+len(n.Detail)+len(n.Hint)+64)
	default:
		logNotice(nil, n)
	}
}

// TakeNotices returns the notices waiting to be relayed, in arrival order.
func TakeNotices() []Notice { return relayed.take() }

// SetLabel names c for its relayed notices (once it is registered).
func (c *Conn) SetLabel(name string, named bool) {
	c.label.Store(&connLabel{name, named})
}

type connLabel struct {
	name  string
	named bool
}

// Label is c's name for relayed notices: a transient connection, or one
// not yet registered, is the unnamed one, as contrib's errors say.
func (c *Conn) Label() (name string, named bool) {
	if l := c.label.Load(); l != nil {
		return l.name, l.named
	}
	return "", false
}
