// Package config turns a libpq connection string into a connected
// pgconn.PgConn under libpq's rules and in libpq's words: the conninfo
// parser and its keywords per major, the files a connection reads (service
// file, password file, TLS certificates), the password rule for
// non-superusers, SCRAM with the login's keys, and contrib's wording of
// every failure, with passwords hidden. A connection string is hostile
// input: nothing here trusts it.
package config

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Plan is a connection string checked by Prepare, to be connected by
// Plan.Connect.
type Plan struct {
	opts    Options
	set     Settings
	secrets secrets // hidden in Connect's messages
}

// Prepare parses a connection string and applies the password rule,
// without touching a file or the network: the part of contrib's connect
// sequence that runs before the duplicate-name check, on the backend's
// thread.
func Prepare(connstr string, s Settings) (*Plan, error) {
	opts, err := ParseConnInfo(connstr)
	sec := secretsOf(connstr, opts)
	if err != nil {
		if s.RequirePassword {
			// contrib: an unparsable string never reaches libpq for a non-superuser
			return nil, errPasswordNotGiven()
		}
		return nil, connectFailed(err.Error(), sec)
	}
	if s.RequirePassword && !opts.HasPassword() && !s.scramPassthrough(opts) {
		return nil, errPasswordNotGiven()
	}
	return &Plan{opts: opts, set: s, secrets: sec}, nil
}

// Hooks are what the opener of a connection adds to pgconn's config.
type Hooks struct {
	OnNotice       pgconn.NoticeHandler
	OnNotification pgconn.NotificationHandler
	// WrapConn, if set, wraps each socket pgconn dials (under TLS, if any)
	WrapConn func(net.Conn) net.Conn
}

// Connect builds p's config (reading the files it needs) and connects
// with h; it returns the connection and the config it was made from, or
// the failure in contrib's words (passwords hidden). A cancelled ctx ends
// the attempt and is returned as ctx.Err().
func (p *Plan) Connect(ctx context.Context, h Hooks) (*pgconn.PgConn, *pgconn.Config, error) {
	s := p.set
	cfg, skipped, err := buildConfig(p.opts, s)
	if err != nil {
		return nil, nil, connectFailed(err.Error(), p.secrets)
	}
	cfg.OnNotice, cfg.OnNotification = h.OnNotice, h.OnNotification
	if wrap, dial := h.WrapConn, cfg.DialFunc; wrap != nil {
		cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return wrap(c), nil
		}
	}
	pg, err := connect(ctx, cfg, s)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		// the password rule's refusal, unless the list was the string's own
		// require_auth (then it is libpq's failure, as contrib reports it)
		if s.RequirePassword && cfg.RequireAuth != p.opts["require_auth"] && isPolicyFailure(err, cfg.RequireAuth) {
			return nil, nil, errPasswordNotRequested()
		}
		return nil, nil, connectFailed(strings.Join(append(skipped, connectErrorMessage(err)), "\n"), p.secrets)
	}
	return pg, cfg, nil
}

// Failed is contrib's error for a connection that failed after pgconn made
// it (err is the reason, in libpq's words), passwords hidden.
func (p *Plan) Failed(err error) error { return connectFailed(err.Error(), p.secrets) }

// endsAttempts reports a server error after which neither libpq nor pgconn
// tries the next host: a wrong password, a missing database, no CONNECT
// privilege.
func endsAttempts(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "28P01", "3D000", "42501":
		return true
	}
	return false
}

// attemptErrors are the failures of the hosts tried one by one by connect.
type attemptErrors []error

func (a attemptErrors) Error() string { return connectErrorMessage(a) }

func connectErrorMessage(err error) string {
	if a, ok := err.(attemptErrors); ok {
		msgs := make([]string, len(a))
		for i, e := range a {
			msgs[i] = ConnectErrorMessage(e)
		}
		return strings.Join(msgs, "\n")
	}
	return ConnectErrorMessage(err)
}

// connect is pgconn.ConnectConfig, except under the password rule with
// several hosts: a server that does not ask for the password ends the
// attempt there, as in contrib (libpq connects to that host and dblink then
// refuses the connection), where pgconn would move on to the next host.
func connect(ctx context.Context, cfg *pgconn.Config, s Settings) (*pgconn.PgConn, error) {
	if !s.RequirePassword || len(cfg.Fallbacks) == 0 {
		return pgconn.ConnectConfig(ctx, cfg)
	}
	attempts := append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...)
	var failed attemptErrors
	for i, a := range attempts {
		one := cfg.Copy()
		one.Host, one.Port, one.TLSConfig, one.Fallbacks = a.Host, a.Port, a.TLSConfig, nil
		pg, err := pgconn.ConnectConfig(ctx, one)
		if err == nil {
			return pg, nil
		}
		if ctx.Err() != nil || isPolicyFailure(err, cfg.RequireAuth) {
			return nil, err
		}
		// sslmode=prefer tries a host with TLS, then without: as libpq,
		// report only how the host's last attempt failed
		if i > 0 && attempts[i-1].Host == a.Host && attempts[i-1].Port == a.Port {
			failed = failed[:len(failed)-1]
		}
		failed = append(failed, err)
		if endsAttempts(err) {
			break
		}
	}
	return nil, failed
}
