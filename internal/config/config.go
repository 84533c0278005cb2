package config

// This file turns parsed libpq options into a pgconn.Config. pgconn parses
// only the keywords it understands (and sends any other one to the server
// as a startup parameter), so the libpq-only keywords are checked here with
// libpq's messages and applied to the Config by hand.

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Settings are what the backend decides about every connection.
type Settings struct {
	// ClientEncoding is the local database encoding name, e.g. "UTF8". It
	// is always sent as client_encoding, overriding the string.
	ClientEncoding string

	// RequirePassword (non-superusers) makes the connection fail unless the
	// server asks for a password; see isPolicyFailure.
	RequirePassword bool

	// ConnectTimeout (seconds, dblink.connect_timeout) applies when the
	// string sets no connect_timeout; 0: libpq's default.
	ConnectTimeout int

	// ScramKeys (18's use_scram_passthrough; nil: none) are the login's
	// SCRAM keys: a server that asks for SCRAM-SHA-256 is answered with
	// them, as libpq 18 does with scram_client_key and scram_server_key.
	// With require_auth=scram-sha-256 they satisfy the password rule.
	ScramKeys *ScramKeys
}

// Equal reports whether s and o would make the same connection.
func (s Settings) Equal(o Settings) bool {
	if s.ClientEncoding != o.ClientEncoding || s.RequirePassword != o.RequirePassword || s.ConnectTimeout != o.ConnectTimeout {
		return false
	}
	a, b := s.ScramKeys, o.ScramKeys
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.ClientKey, b.ClientKey) && bytes.Equal(a.ServerKey, b.ServerKey)
}

// scramPassthrough reports whether the login's SCRAM keys stand in for the
// password under the password rule: contrib 18's
// dblink_connstr_has_required_scram_options (the keys, and require_auth
// still exactly scram-sha-256, as dblink set it before the options of the
// foreign server and user mapping).
func (s Settings) scramPassthrough(o Options) bool {
	return s.ScramKeys.valid() && o["require_auth"] == "scram-sha-256"
}

const (
	// passwordAuthPolicy is the pgconn require_auth list that refuses trust,
	// peer, GSS and anything else that is not a password exchange.
	passwordAuthPolicy = "password,md5,scram-sha-256"

	// noPasswordPolicy refuses a password exchange before it starts: used
	// when we have no password, so the failure can be worded as libpq's
	// "fe_sendauth: no password supplied".
	noPasswordPolicy = "!password,!md5,!scram-sha-256"

	// CancelDeadlineDelay is how long a cancelled operation waits for the
	// server to act on the cancel request before the socket is given up.
	CancelDeadlineDelay = 5 * time.Second

	// tcpUserTimeoutOpt is Linux's TCP_USER_TIMEOUT, absent from syscall.
	tcpUserTimeoutOpt = 0x12
)

// pgconnKeys are the keywords handed to pgconn's own parser as they are.
// Everything else is applied by BuildConfig or refused.
var pgconnKeys = []string{
	"user", "password", "channel_binding", "dbname", "host", "port",
	"sslmode", "sslsni", "krbsrvname", "target_session_attrs",
}

// fileKeys name files pgconn would read itself, at once and whole: they go
// to its parser empty (which also overrides the environment and the
// defaults), and files.go reads them under libpq's rules instead.
var fileKeys = []string{"passfile", "sslcert", "sslkey", "sslrootcert"}

// BuildConfig turns parsed options into a pgconn.Config: the service's
// settings, libpq's checks and messages, then pgconn's parser for the
// keywords it shares with libpq, then the libpq-only keywords and the
// files the connection needs applied to the Config. The Config sends only
// real server settings as startup parameters. It reads files: call it
// where a connection is made, never on the backend's thread.
func BuildConfig(o Options, s Settings) (*pgconn.Config, error) {
	cfg, _, err := buildConfig(o, s)
	return cfg, err
}

// buildConfig is BuildConfig, and also returns libpq's lines for the hosts
// it left out because their port is out of range: libpq goes on with the
// next host and reports them if no host connects.
func buildConfig(o Options, s Settings) (*pgconn.Config, []string, error) {
	o, serviceFile, err := withService(o)
	if err != nil {
		return nil, nil, err
	}
	if err := checkConnectOptions(o); err != nil {
		return nil, nil, err
	}
	hosts, hostaddrs := hostLists(o)
	ports, err := parsePorts(o["port"])
	if err != nil {
		return nil, nil, err
	}
	hosts, hostaddrs, ports, skipped := skipBadPorts(hosts, hostaddrs, ports)
	if len(skipped) > 0 && len(ports) == 0 {
		return nil, nil, &ConnInfoError{Msg: strings.Join(skipped, "\n")}
	}
	d := newDialer(o, s)

	pgOpts := pgconnOptions(o, hosts, hostaddrs, ports)
	for _, k := range fileKeys {
		pgOpts[k] = ""
	}
	connString := pgOpts.String()
	if _, given := o["service"]; serviceFile != "" && !given {
		// PGSERVICE reaches pgconn's parser through the environment (which
		// it shares with the backend, so it cannot be hidden): let it find
		// the same service in the same checked file, beneath the settings
		// above, which already hold that service's. pgconn's reader is
		// stricter than libpq's (see the README).
		connString += " servicefile=" + quoteConnInfoValue(serviceFile)
	}
	allowed := append(append([]string{"servicefile"}, pgconnKeys...), fileKeys...)
	cfg, err := pgconn.ParseConfigWithOptions(connString, pgconn.ParseConfigOptions{ConnStringAllowedKeys: allowed})
	if err != nil {
		return nil, nil, pgconnParseError(o, err)
	}
	if err := applyTLSFiles(cfg, o); err != nil {
		return nil, nil, err
	}
	if cfg.Password == "" {
		cfg.Password = passwordFromFile(o, cfg)
	}

	cfg.ConnectTimeout = d.connectTimeout
	cfg.DialFunc = d.DialContext
	cfg.BuildFrontend = buildFrontend
	if s.ScramKeys.valid() {
		if cfg.Password == "" {
			cfg.Password = dummyScramPassword()
		}
		cfg.BuildFrontend = scramKeysFrontend(*s.ScramKeys, cfg.Password)
	}
	cfg.RuntimeParams = runtimeParams(o, s)
	cfg.KerberosSpn = ""
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{
			Conn:               pc,
			CancelRequestDelay: 0,
			DeadlineDelay:      CancelDeadlineDelay,
		}
	}
	cfg.RequireAuth = requireAuthPolicy(o, cfg.Password, s)
	if cfg.RequireAuth == noPasswordPolicy && setting(o, "channel_binding", "") == "require" {
		// libpq checks channel binding before it looks for a password
		cfg.RequireAuth = ""
	}
	if peer := o["requirepeer"]; peer != "" {
		cfg.AfterNetConnect = requirePeer(peer)
	}
	if err := setTLSVersions(cfg, o); err != nil {
		return nil, nil, err
	}
	if err := applyHostaddrs(cfg, hosts, hostaddrs); err != nil {
		return nil, nil, err
	}
	if err := applyNewerOptions(cfg, o); err != nil {
		return nil, nil, err
	}
	return cfg, skipped, nil
}

// checkConnectOptions makes libpq's connectOptions2 checks, in its order.
func checkConnectOptions(o Options) error {
	if err := checkListLengths(o); err != nil {
		return err
	}
	enums := []struct {
		key   string
		valid []string
	}{
		{"channel_binding", []string{"disable", "prefer", "require"}},
		{"sslmode", []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}},
	}
	for _, e := range enums {
		if err := checkEnum(o, e.key, e.valid); err != nil {
			return err
		}
	}
	minV, err := tlsVersion(o, "ssl_min_protocol_version")
	if err != nil {
		return err
	}
	maxV, err := tlsVersion(o, "ssl_max_protocol_version")
	if err != nil {
		return err
	}
	if minV != 0 && maxV != 0 && minV > maxV {
		return connInfoErrorf("invalid SSL protocol version range")
	}
	if err := checkEnum(o, "gssencmode", []string{"disable", "prefer", "require"}); err != nil {
		return err
	}
	if o["gssencmode"] == "require" {
		// The Go core has no GSSAPI encryption: libpq's wording for a build
		// without it.
		return connInfoErrorf(`gssencmode value "require" invalid when GSSAPI support is not compiled in`)
	}
	if err := checkEnum(o, "target_session_attrs", []string{"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}); err != nil {
		return err
	}
	return checkNewerOptions(o)
}

// checkListLengths matches hostaddr, host and port lists the way libpq
// counts them.
func checkListLengths(o Options) error {
	nhost := 1
	if ha := o["hostaddr"]; ha != "" {
		nhost = countElems(ha)
		if h := o["host"]; h != "" && countElems(h) != nhost {
			return connInfoErrorf("could not match %d host names to %d hostaddr values", countElems(h), nhost)
		}
	} else if h := o["host"]; h != "" {
		nhost = countElems(h)
	}
	if p := o["port"]; p != "" {
		if n := countElems(p); n != 1 && n != nhost {
			return connInfoErrorf("could not match %d port numbers to %d hosts", n, nhost)
		}
	}
	return nil
}

// countElems is count_comma_separated_elems.
func countElems(s string) int { return strings.Count(s, ",") + 1 }

// checkEnum refuses a value of key outside valid with libpq's message.
func checkEnum(o Options, key string, valid []string) error {
	v, ok := o[key]
	if !ok || v == "" {
		return nil
	}
	for _, ok := range valid {
		if v == ok {
			return nil
		}
	}
	return connInfoErrorf(`invalid %s value: "%s"`, key, v)
}

// tlsVersion parses an ssl_*_protocol_version option (case-insensitive, as
// libpq); 0 means not set.
func tlsVersion(o Options, key string) (uint16, error) {
	v := o[key]
	if v == "" {
		return 0, nil
	}
	versions := map[string]uint16{
		"tlsv1": tls.VersionTLS10, "tlsv1.1": tls.VersionTLS11,
		"tlsv1.2": tls.VersionTLS12, "tlsv1.3": tls.VersionTLS13,
	}
	if ver, ok := versions[strings.ToLower(v)]; ok {
		return ver, nil
	}
	return 0, connInfoErrorf(`invalid %s value: "%s"`, key, v)
}

// hostLists splits host and hostaddr into per-host slices of equal length
// (checkListLengths has matched them).
func hostLists(o Options) (hosts, hostaddrs []string) {
	if o["host"] != "" {
		hosts = strings.Split(o["host"], ",")
	}
	if o["hostaddr"] != "" {
		hostaddrs = strings.Split(o["hostaddr"], ",")
	}
	if hosts == nil && hostaddrs != nil {
		hosts = make([]string, len(hostaddrs))
	}
	return hosts, hostaddrs
}

// parsePorts checks each port as libpq does at connect time and returns
// them normalized (pgconn accepts only plain digits).
func parsePorts(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	ports := strings.Split(s, ",")
	for i, p := range ports {
		if p == "" {
			continue
		}
		n, err := parseIntParam(p, "port")
		if err != nil {
			return nil, err
		}
		if n < 1 || n > 65535 {
			continue // see skipBadPorts
		}
		ports[i] = strconv.Itoa(n)
	}
	return ports, nil
}

// skipBadPorts leaves out the hosts whose port is out of range, with
// libpq's line for each, as libpq moves on to the next host. One port for
// every host is either good or reported for the whole string.
func skipBadPorts(hosts, hostaddrs, ports []string) (h, ha, p, skipped []string) {
	for i, port := range ports {
		if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
			skipped = append(skipped, fmt.Sprintf(`invalid port number: "%s"`, port))
			if len(ports) == 1 {
				return hosts, hostaddrs, nil, skipped
			}
			continue
		}
		p = append(p, port)
		if i < len(hosts) {
			h = append(h, hosts[i])
		}
		if i < len(hostaddrs) {
			ha = append(ha, hostaddrs[i])
		}
	}
	if len(ports) == 0 {
		return hosts, hostaddrs, ports, nil
	}
	return h, ha, p, skipped
}

// parseIntParam is libpq's parse_int_param: strtol (leading blanks and a
// sign allowed), int range, trailing blanks only.
func parseIntParam(v, key string) (int, error) {
	bad := connInfoErrorf(`invalid integer value "%s" for connection option "%s"`, v, key)
	s := strings.TrimLeft(v, " \t\n\v\f\r")
	s = strings.TrimRight(s, " \t\n\v\f\r")
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" {
		return 0, bad
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, bad
	}
	return int(n), nil
}

// pgconnOptions is the part of o handed to pgconn's parser. A host that is
// empty or a socket directory is replaced by its hostaddr (libpq then
// connects over TCP to hostaddr); a host name is kept, for TLS and the
// passfile, and redirected by applyHostaddrs.
func pgconnOptions(o Options, hosts, hostaddrs, ports []string) Options {
	out := Options{}
	for _, k := range pgconnKeys {
		if v, ok := o[k]; ok {
			out[k] = v
		}
	}
	if hostaddrs != nil {
		hs := make([]string, len(hosts))
		for i, h := range hosts {
			hs[i] = h
			if hostaddrs[i] != "" && (h == "" || strings.HasPrefix(h, "/")) {
				hs[i] = hostaddrs[i]
			}
		}
		out["host"] = strings.Join(hs, ",")
	}
	if ports != nil {
		out["port"] = strings.Join(ports, ",")
	}
	if v, ok := o["sslsni"]; ok {
		// libpq looks only at the first character.
		out["sslsni"] = "0"
		if strings.HasPrefix(v, "1") {
			out["sslsni"] = "1"
		}
	}
	return out
}

// pgconnParseError words a pgconn parse failure the way libpq would have.
func pgconnParseError(o Options, err error) error {
	msg := err.Error()
	if svc, given := o["service"]; given && strings.Contains(msg, "service") {
		return connInfoErrorf(`definition of service "%s" not found`, svc)
	}
	// pgconn's messages quote the string with passwords masked; keep only
	// its reason, which never contains the string.
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		if inner := errors.Unwrap(pce); inner != nil {
			return &ConnInfoError{Msg: inner.Error()}
		}
	}
	return &ConnInfoError{Msg: "invalid connection string"}
}

// runtimeParams builds the startup parameters: only server settings.
func runtimeParams(o Options, s Settings) map[string]string {
	rp := map[string]string{}
	// the string's value, else the environment's (files.go's setting)
	appName := setting(o, "application_name", o["fallback_application_name"])
	if appName != "" {
		rp["application_name"] = appName
	}
	if opts := setting(o, "options", ""); opts != "" {
		rp["options"] = opts
	}
	if v := o["replication"]; v != "" {
		// a walsender session (database: one that also runs SQL), as
		// libpq asks for it; the server checks the value
		rp["replication"] = v
	}
	enc := s.ClientEncoding
	if enc == "" {
		enc = setting(o, "client_encoding", "")
	}
	if enc != "" && !strings.EqualFold(enc, "auto") {
		rp["client_encoding"] = enc
	}
	// libpq's environment-driven session defaults.
	for env, guc := range map[string]string{"PGDATESTYLE": "datestyle", "PGTZ": "timezone", "PGGEQO": "geqo"} {
		if v, ok := os.LookupEnv(env); ok && !strings.EqualFold(v, "default") {
			rp[guc] = v
		}
	}
	return rp
}

// requireAuthFor picks the pgconn require_auth policy.
func requireAuthFor(password string, s Settings) string {
	switch {
	case s.RequirePassword:
		return passwordAuthPolicy
	case password == "":
		return noPasswordPolicy
	}
	return ""
}

// setTLSVersions applies ssl_min/max_protocol_version to every TLS
// attempt. libpq's default minimum is TLS 1.2.
func setTLSVersions(cfg *pgconn.Config, o Options) error {
	minV, err := tlsVersion(o, "ssl_min_protocol_version")
	if err != nil {
		return err
	}
	if minV == 0 {
		minV = tls.VersionTLS12
	}
	maxV, err := tlsVersion(o, "ssl_max_protocol_version")
	if err != nil {
		return err
	}
	apply := func(t *tls.Config) {
		if t != nil {
			t.MinVersion, t.MaxVersion = minV, maxV
		}
	}
	apply(cfg.TLSConfig)
	for _, fb := range cfg.Fallbacks {
		apply(fb.TLSConfig)
	}
	return nil
}

// applyHostaddrs points each host name that has a hostaddr at that
// address. pgconn lists one attempt per host and TLS mode, in host order;
// two attempts belong to the same host only when they name the same host
// and differ in whether they use TLS (sslmode prefer/allow).
func applyHostaddrs(cfg *pgconn.Config, hosts, hostaddrs []string) error {
	if hostaddrs == nil {
		return nil
	}
	for i, a := range hostaddrs {
		if a == "" {
			continue
		}
		ip, ok := numericHost(a)
		if !ok {
			return connInfoErrorf(`could not parse network address "%s": Name or service not known`, a)
		}
		hostaddrs[i] = ip
	}
	attempts := append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...)
	hostNo := 0
	prevHost := ""
	for i, a := range attempts {
		if i > 0 {
			prev := attempts[i-1]
			if a.Host != prevHost || (a.TLSConfig == nil) == (prev.TLSConfig == nil) {
				hostNo++
			}
		}
		prevHost = a.Host
		if hostNo >= len(hostaddrs) {
			return fmt.Errorf("internal error: %d connection attempts for %d hosts", len(attempts), len(hostaddrs))
		}
		if addr := hostaddrs[hostNo]; addr != "" {
			a.Host = addr
		}
	}
	cfg.Host = attempts[0].Host
	return nil
}

// numericHost reads a hostaddr as getaddrinfo with AI_NUMERICHOST does:
// an IPv6 or IPv4 address, the latter also in inet_aton's forms (127.1,
// 0x7f.1, 2130706433: decimal, octal or hex parts, the last one filling the
// remaining bytes). It returns the address in the usual notation.
func numericHost(s string) (string, bool) {
	if ip := net.ParseIP(s); ip != nil {
		return ip.String(), true
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return "", false
	}
	var ip [4]byte
	for i, p := range parts {
		v, ok := inetAtonPart(p)
		last := i == len(parts)-1
		room := uint64(0xff)
		if last {
			room = 1<<(8*uint(4-i)) - 1
		}
		if !ok || v > room {
			return "", false
		}
		if !last {
			ip[i] = byte(v)
			continue
		}
		for b := 3; b >= i; b-- {
			ip[b] = byte(v)
			v >>= 8
		}
	}
	return net.IP(ip[:]).String(), true
}

// inetAtonPart is one part of an inet_aton address: decimal, octal with a
// leading 0, or hex with 0x.
func inetAtonPart(p string) (uint64, bool) {
	base, digits := 10, p
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, digits = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, base, 32)
	return v, err == nil
}

// dialer dials the way libpq sets up its sockets.
type dialer struct {
	connectTimeout time.Duration
	lateErr        error // reported once connected (libpq parses connect_timeout then)
	tcpErr         error // reported for TCP before connecting (libpq's socket setup)
	keepAlive      net.KeepAliveConfig
	noKeepAlive    bool
	userTimeout    int // TCP_USER_TIMEOUT in ms; 0 leaves the OS default
}

// newDialer reads connect_timeout (the string's own, else the
// dblink.connect_timeout setting when not 0, else PGCONNECT_TIMEOUT),
// keepalives* and tcp_user_timeout.
func newDialer(o Options, s Settings) *dialer {
	d := &dialer{keepAlive: net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}}
	v, ok := o["connect_timeout"]
	if !ok && s.ConnectTimeout > 0 {
		v, ok = strconv.Itoa(s.ConnectTimeout), true
	}
	if !ok {
		v, ok = os.LookupEnv("PGCONNECT_TIMEOUT")
	}
	if ok && v != "" {
		n, err := parseIntParam(v, "connect_timeout")
		switch {
		case err != nil:
			d.lateErr = err
		case n == 1:
			d.connectTimeout = 2 * time.Second // libpq's minimum
		case n > 1:
			d.connectTimeout = time.Duration(n) * time.Second
		}
	}
	d.tcpErr = d.readTCPOptions(o)
	return d
}

// readTCPOptions applies the keepalive options in libpq's order; as in
// libpq, with keepalives=0 the others are not even parsed.
func (d *dialer) readTCPOptions(o Options) error {
	intOpt := func(key string) (int, bool, error) {
		v, ok := o[key]
		if !ok || v == "" {
			return 0, false, nil
		}
		n, err := parseIntParam(v, key)
		return n, err == nil, err
	}
	on, set, err := intOpt("keepalives")
	if err != nil {
		return err
	}
	if set && on == 0 {
		d.noKeepAlive = true
		return nil
	}
	seconds := func(n int) time.Duration {
		if n <= 0 {
			return -1 // leave the OS default, as libpq does for 0
		}
		return time.Duration(n) * time.Second
	}
	if n, set, err := intOpt("keepalives_idle"); err != nil {
		return err
	} else if set {
		d.keepAlive.Idle = seconds(n)
	}
	if n, set, err := intOpt("keepalives_interval"); err != nil {
		return err
	} else if set {
		d.keepAlive.Interval = seconds(n)
	}
	if n, set, err := intOpt("keepalives_count"); err != nil {
		return err
	} else if set && n > 0 {
		d.keepAlive.Count = n
	}
	if n, set, err := intOpt("tcp_user_timeout"); err != nil {
		return err
	} else if set && n > 0 {
		d.userTimeout = n
	}
	return nil
}

// startupMessageLimit bounds each message pgconn reads while it connects
// (authentication, settings, a start-up error): its reader would take one
// as long as the server says, up to 1 GB, into the Go heap (see bigBuf).
// libpq takes at most 30,000 bytes there.
const startupMessageLimit = 1 << 20

// startupBytesLimit bounds all that pgconn reads while it connects: a
// server that sends settings or notices without end would grow pgconn's
// map of settings until the Go heap gave out (a fatal error, which
// crash-restarts the cluster). A real start-up is a few kB.
const startupBytesLimit = 8 << 20

// errStartupTooLong ends a connect whose server would not stop talking.
var errStartupTooLong = fmt.Errorf("server sent more than %d MB while the connection was being established", startupBytesLimit>>20)

// buildFrontend is pgconn's reader with startupMessageLimit, over at most
// startupBytesLimit of the connection (the wire reads it directly once
// pgconn hands it over).
func buildFrontend(r io.Reader, w io.Writer) *pgproto3.Frontend {
	f := pgproto3.NewFrontend(&startupReader{r: r, left: startupBytesLimit}, w)
	f.SetMaxBodyLen(startupMessageLimit)
	return f
}

// scramKeysFrontend is buildFrontend over a scramKeysProxy that
// authenticates with keys where pgconn would use password.
func scramKeysFrontend(keys ScramKeys, password string) pgconn.BuildFrontendFunc {
	return func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		p := newScramKeysProxy(keys, password, r, w)
		return buildFrontend(p, p)
	}
}

// startupReader is a reader that fails after its first left bytes.
type startupReader struct {
	r    io.Reader
	left int
}

func (s *startupReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, errStartupTooLong
	}
	if len(p) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= n
	return n, err
}

// DialContext is the pgconn DialFunc.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	isTCP := strings.HasPrefix(network, "tcp")
	if isTCP && d.tcpErr != nil {
		return nil, d.tcpErr
	}
	nd := &net.Dialer{Timeout: d.connectTimeout}
	if isTCP {
		if d.noKeepAlive {
			nd.KeepAlive = -1
		} else {
			nd.KeepAliveConfig = d.keepAlive
		}
		if d.userTimeout > 0 {
			nd.Control = setUserTimeout(d.userTimeout)
		}
	}
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.lateErr != nil {
		c.Close()
		return nil, d.lateErr
	}
	return c, nil
}

// setUserTimeout returns a Dialer.Control setting TCP_USER_TIMEOUT.
func setUserTimeout(ms int) func(string, string, syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeoutOpt, ms)
		})
		if err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("setsockopt(TCP_USER_TIMEOUT) failed: %w", serr)
		}
		return nil
	}
}

// requirePeer returns an AfterNetConnect hook that checks, on Unix-domain
// sockets only (as libpq), that the server process runs as user want. On
// failure it still returns c: pgconn closes whatever the hook returns.
func requirePeer(want string) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	return func(_ context.Context, _ *pgconn.Config, c net.Conn) (net.Conn, error) {
		raw := c
		if w, ok := c.(interface{ NetConn() net.Conn }); ok {
			raw = w.NetConn() // under the opener's wrapper (Hooks.WrapConn)
		}
		uc, ok := raw.(*net.UnixConn)
		if !ok {
			return c, nil
		}
		uid, err := peerUID(uc)
		if err != nil {
			return c, connInfoErrorf("could not get peer credentials: %s", strerror(err))
		}
		u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
		if err != nil {
			return c, connInfoErrorf("could not look up local user ID %d: %s", uid, err)
		}
		if u.Username != want {
			return c, connInfoErrorf(`requirepeer specifies "%s", but actual peer user name is "%s"`, want, u.Username)
		}
		return c, nil
	}
}

// peerUID reads SO_PEERCRED of a Unix-domain socket.
func peerUID(uc *net.UnixConn) (uint32, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *syscall.Ucred
	var serr error
	if err := rc.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, serr
	}
	return cred.Uid, nil
}
