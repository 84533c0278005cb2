package config

// This file words pgconn's connect errors the way libpq 15's
// PQerrorMessage does, one "connection to server ... failed: " line per
// failed attempt, so that contrib dblink's DETAIL texts come out unchanged.

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// ConnectErrorMessage renders an error returned by pgconn.ConnectConfig (or
// by BuildConfig) the way libpq 15 words it in PQerrorMessage, without the
// trailing newline, e.g.
//
//	connection to server at "127.0.0.1", port 5999 failed: Connection refused
//		Is the server running on that host and accepting TCP/IP connections?
//
// It never contains a password.
func ConnectErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var cie *ConnInfoError
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		if errors.As(err, &cie) {
			return cie.Msg
		}
		return attemptReason(err, false)
	}
	var lines []string
	prev := attempt{}
	attempts := connectAttempts(ce)
	for i, a := range attempts {
		// sslmode=prefer/allow: pgconn retries the same address with the
		// other TLS setting; libpq reports only the attempt that counts.
		if i+1 < len(attempts) && attempts[i+1].address == a.address && isTLSRefused(a.err) {
			continue
		}
		line := a.render()
		if a.address != "" && a.address == prev.address && line == lines[len(lines)-1] {
			continue
		}
		lines = append(lines, line)
		prev = a
	}
	if len(lines) == 0 {
		return attemptReason(errors.Unwrap(ce), false)
	}
	return strings.Join(lines, "\n")
}

// isPolicyFailure reports whether err is pgconn's refusal of the server's
// authentication request under the require_auth list policy: with
// passwordAuthPolicy, the server let us in (trust, peer, ...) or offered a
// method other than a password exchange.
func isPolicyFailure(err error, policy string) bool {
	return err != nil && policy != "" && strings.Contains(err.Error(), `authentication method requirement "`+policy+`" failed`)
}

// attempt is one failed connection attempt as pgconn reports it.
type attempt struct {
	address  string // "host:port" or a socket path; "" when unknown
	hostname string // the host as configured
	err      error  // pgconn's reason, wrapped with its context
}

// connectAttempts splits a ConnectError into its attempts. pgconn joins
// one error per attempt; each reads "address (hostname): context: cause".
func connectAttempts(ce *pgconn.ConnectError) []attempt {
	inner := errors.Unwrap(ce)
	var errs []error
	if j, ok := inner.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if inner != nil {
		// "hostname resolving error: %w" around a join.
		if j, ok := errors.Unwrap(inner).(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{inner}
		}
	}
	hosts := configuredHosts(ce.Config)
	out := make([]attempt, 0, len(errs))
	for _, e := range errs {
		out = append(out, splitAttempt(e, hosts))
	}
	return out
}

// configuredHosts lists every host of a config, longest first so that a
// host that ends another one is tried after it.
func configuredHosts(cfg *pgconn.Config) []string {
	if cfg == nil {
		return nil
	}
	hosts := []string{cfg.Host}
	for _, fb := range cfg.Fallbacks {
		hosts = append(hosts, fb.Host)
	}
	return hosts
}

// splitAttempt recovers address and hostname from pgconn's per-attempt
// error, whose text is "address (hostname): " + the text of what it wraps.
func splitAttempt(e error, hosts []string) attempt {
	cause := errors.Unwrap(e)
	if cause == nil {
		return attempt{err: e}
	}
	prefix, ok := strings.CutSuffix(e.Error(), cause.Error())
	if !ok {
		return attempt{err: e}
	}
	prefix, ok = strings.CutSuffix(prefix, "): ")
	if !ok {
		return attempt{err: e}
	}
	for _, h := range hosts {
		if addr, ok := strings.CutSuffix(prefix, " ("+h); ok {
			return attempt{address: addr, hostname: h, err: cause}
		}
	}
	return attempt{err: cause}
}

// render is one attempt as libpq words it.
func (a attempt) render() string {
	var cie *ConnInfoError
	if errors.As(a.err, &cie) && a.address == "" {
		return cie.Msg
	}
	var dnsErr *net.DNSError
	if errors.As(a.err, &dnsErr) && a.address == "" {
		return `could not translate host name "` + dnsErr.Name + `" to address: ` + gaiStrerror(dnsErr)
	}
	unix := strings.HasPrefix(a.address, "/")
	reason := attemptReason(a.err, unix)
	if a.address == "" {
		return reason
	}
	return a.identity() + reason
}

// identity is libpq's emitHostIdentityInfo.
func (a attempt) identity() string {
	if strings.HasPrefix(a.address, "/") {
		return `connection to server on socket "` + a.address + `" failed: `
	}
	ip, port, err := net.SplitHostPort(a.address)
	if err != nil {
		return `connection to server at "` + a.address + `" failed: `
	}
	host := a.hostname
	if host == "" || host == ip {
		return `connection to server at "` + ip + `", port ` + port + ` failed: `
	}
	return `connection to server at "` + host + `" (` + ip + `), port ` + port + ` failed: `
}

// attemptReason words why one attempt failed.
func attemptReason(err error, unix bool) string {
	var cie *ConnInfoError
	var pgErr *pgconn.PgError
	var errno syscall.Errno
	switch {
	case errors.As(err, &cie):
		return cie.Msg
	case strings.Contains(err.Error(), "channel binding required but server does not support SCRAM-SHA-256-PLUS"):
		// a server offers SCRAM-SHA-256-PLUS over every TLS connection
		return "channel binding required, but SSL not in use"
	case strings.Contains(err.Error(), "channel binding required but server did not authenticate using channel binding"):
		return "channel binding required, but server authenticated client without channel binding"
	case errors.Is(err, errIncorrectServerSignature):
		// use_scram_passthrough: the server does not know the login's ServerKey
		return errIncorrectServerSignature.Error()
	case errors.Is(err, pgconn.ErrReadOnlyConnection):
		return "session is read-only"
	case errors.Is(err, pgconn.ErrReadWriteConnection):
		return "session is not read-only"
	case errors.Is(err, pgconn.ErrStandbyConnection):
		return "server is in hot standby mode"
	case errors.Is(err, pgconn.ErrPrimaryConnection):
		return "server is not in hot standby mode"
	case errors.As(err, &pgErr):
		return pgErrorMessage(pgErr)
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return "timeout expired"
	case errors.Is(err, context.Canceled):
		return "canceling connection attempt"
	case isTLSRefused(err):
		return "server does not support SSL, but SSL was required"
	case isNoPassword(err):
		return "fe_sendauth: no password supplied"
	case isDialError(err) && errors.As(err, &errno):
		return connectFailureMessage(errno, unix)
	case errors.As(err, &errno):
		return strerror(errno)
	}
	return pgconnReason(err)
}

// connectFailureMessage is libpq's connectFailureMessage: strerror and a
// hint about where the server should be.
func connectFailureMessage(errno syscall.Errno, unix bool) string {
	if unix {
		return strerror(errno) + "\n\tIs the server running locally and accepting connections on that socket?"
	}
	return strerror(errno) + "\n\tIs the server running on that host and accepting TCP/IP connections?"
}

// isDialError reports whether err happened in connect(2).
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// isTLSRefused reports pgconn's "server refused TLS connection".
func isTLSRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server refused TLS connection")
}

// isNoPassword reports the noPasswordPolicy refusal: the server asked for a
// password we do not have.
func isNoPassword(err error) bool {
	return err != nil && strings.Contains(err.Error(), `authentication method requirement "`+noPasswordPolicy+`" failed`)
}

// pgErrorMessage is a server error as libpq's default verbosity shows it.
func pgErrorMessage(e *pgconn.PgError) string {
	var b strings.Builder
	b.WriteString(e.Severity + ":  " + e.Message)
	for _, f := range []struct{ label, text string }{
		{"DETAIL", e.Detail}, {"HINT", e.Hint}, {"CONTEXT", e.Where},
	} {
		if f.text != "" {
			b.WriteString("\n" + f.label + ":  " + f.text)
		}
	}
	return b.String()
}

// pgconnReason is pgconn's own text for a failure libpq has no words for,
// without pgconn's "context: " layers that only repeat what failed.
func pgconnReason(err error) string {
	msg := err.Error()
	for _, p := range []string{"dial error: ", "failed to receive message: ", "AfterNetConnect failed: ", "tls error: ", "require_auth check failed: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// strerror is glibc's text for an errno: Go's text with a capital letter.
func strerror(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// gaiStrerror is gai_strerror for the usual resolver failures.
func gaiStrerror(e *net.DNSError) string {
	switch {
	case e.IsNotFound:
		return "Name or service not known"
	case e.IsTemporary:
		return "Temporary failure in name resolution"
	}
	return e.Err
}
