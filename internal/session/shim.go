package session

import (
	"github.com/dblink-go/dblink/internal/config"
	"github.com/dblink-go/dblink/internal/conn"
	"github.com/dblink-go/dblink/internal/pgerr"
)

// The types and settings of the core that the shim's ABI (cmd/dblink_go)
// passes through, under the session's name: the ABI knows one package.

type (
	// Error is an error as the shim reports it.
	Error = pgerr.Error
	// Settings are what a new connection takes from the backend.
	Settings = config.Settings
	// ScramKeys are the login's SCRAM keys (use_scram_passthrough).
	ScramKeys = config.ScramKeys
	// Mode says what a query streams: conn.ModeRows or conn.ModeExec.
	Mode = conn.Mode
	// Batch is rows of one result, as the shim's row store takes them.
	Batch = conn.Batch
	// Direct is what the shim reads and writes to drive an idle
	// registered connection itself.
	Direct = conn.Direct
	// Notice is a remote message to raise in the backend's session.
	Notice = conn.Notice
	// NoticeMode is the dblink.remote_notices setting.
	NoticeMode = conn.NoticeMode
)

// StyleLen is the room for a DateStyle or IntervalStyle in a Direct.
const StyleLen = conn.StyleLen

// AsError turns any error of the core into an *Error.
func AsError(err error) *Error { return pgerr.AsError(err) }

// SetNoticeMode sets how dblink.remote_notices is read when a remote
// message arrives.
func SetNoticeMode(mode func() NoticeMode) { conn.SetNoticeMode(mode) }

// TakeNotices returns the remote messages queued for the backend since
// the last call.
func TakeNotices() []Notice { return conn.TakeNotices() }

// SetServerMajor sets the major version whose libpq and contrib the
// connection strings and messages follow.
func SetServerMajor(major int) { config.SetServerMajor(major) }
