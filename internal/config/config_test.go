package config

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// cleanEnv keeps the caller's PG* environment out of a test.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGAPPNAME",
		"PGOPTIONS", "PGSSLMODE", "PGSERVICE", "PGCLIENTENCODING", "PGTZ", "PGDATESTYLE", "PGGEQO",
		"PGCONNECT_TIMEOUT", "PGTARGETSESSIONATTRS", "PGREQUIREAUTH", "PGSSLCERTMODE"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
	t.Setenv("PGPASSFILE", "/nonexistent/pgpass")
}

// build parses s and builds its config, failing the test on error.
func build(t *testing.T, s string, set Settings) *pgconn.Config {
	t.Helper()
	o, err := ParseConnInfo(s)
	if err != nil {
		t.Fatalf("ParseConnInfo(%q): %v", s, err)
	}
	cfg, err := BuildConfig(o, set)
	if err != nil {
		t.Fatalf("BuildConfig(%q): %v", s, err)
	}
	return cfg
}

func TestBuildConfig(t *testing.T) {
	cleanEnv(t)
	tests := []struct {
		in       string
		set      Settings
		host     string
		port     uint16
		user, db string
		params   map[string]string
	}{
		{
			in:   "host=h1 port=5433 user=u dbname=d password=p",
			set:  Settings{ClientEncoding: "UTF8"},
			host: "h1", port: 5433, user: "u", db: "d",
			params: map[string]string{"client_encoding": "UTF8"},
		},
		{
			in:   "host=/tmp/s user=u application_name=app fallback_application_name=fb options='-c x=1' client_encoding=LATIN1",
			set:  Settings{ClientEncoding: "SQL_ASCII"},
			host: "/tmp/s", port: 5432, user: "u",
			params: map[string]string{"application_name": "app", "options": "-c x=1", "client_encoding": "SQL_ASCII"},
		},
		{
			in:   "host=/tmp/s user=u fallback_application_name=fb application_name=''",
			host: "/tmp/s", port: 5432, user: "u",
			params: map[string]string{"application_name": "fb"},
		},
		{
			in:   "host=localhost hostaddr=127.0.0.1 port=' 6000 ' user=u",
			host: "127.0.0.1", port: 6000, user: "u",
			params: map[string]string{},
		},
		{
			in:   "postgresql://u:pw@[::1]:7000/db?application_name=a%20b",
			set:  Settings{ClientEncoding: "UTF8"},
			host: "::1", port: 7000, user: "u", db: "db",
			params: map[string]string{"application_name": "a b", "client_encoding": "UTF8"},
		},
	}
	for _, tt := range tests {
		cfg := build(t, tt.in, tt.set)
		if cfg.Host != tt.host || cfg.Port != tt.port || cfg.User != tt.user || cfg.Database != tt.db {
			t.Errorf("%q: host=%q port=%d user=%q db=%q, want %q %d %q %q",
				tt.in, cfg.Host, cfg.Port, cfg.User, cfg.Database, tt.host, tt.port, tt.user, tt.db)
		}
		if !maps.Equal(cfg.RuntimeParams, tt.params) {
			t.Errorf("%q: RuntimeParams = %v, want %v", tt.in, cfg.RuntimeParams, tt.params)
		}
	}
}

// TestBuildConfigOnlyServerSettings sets every libpq keyword and checks
// that only server settings become startup parameters.
func TestBuildConfigOnlyServerSettings(t *testing.T) {
	cleanEnv(t)
	values := map[string]string{
		"port": "5432", "connect_timeout": "10", "hostaddr": "127.0.0.1", "host": "localhost",
		"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "5", "keepalives_count": "3",
		"tcp_user_timeout": "1000", "sslmode": "disable", "sslcompression": "1", "sslcert": "", "sslkey": "",
		"sslrootcert": "", "sslcrl": "", "sslcrldir": "", "sslsni": "1", "requirepeer": "postgres",
		"ssl_min_protocol_version": "TLSv1.2", "ssl_max_protocol_version": "TLSv1.3", "gssencmode": "disable",
		"krbsrvname": "postgres", "gsslib": "gssapi", "replication": "off", "target_session_attrs": "any",
		"channel_binding": "prefer", "passfile": "/nonexistent", "sslpassword": "x", "password": "p",
	}
	var b strings.Builder
	for _, k := range Keywords {
		if k.Name == "service" || k.Since > ServerMajor() {
			continue // needs a service file; not in this major's libpq
		}
		v, ok := values[k.Name]
		if !ok {
			v = "v"
		}
		fmt.Fprintf(&b, "%s=%s ", k.Name, quoteConnInfoValue(v))
	}
	cfg := build(t, b.String(), Settings{ClientEncoding: "UTF8"})
	// replication is no setting but a startup option the server reads, as libpq sends it
	allowed := map[string]bool{"application_name": true, "options": true, "client_encoding": true, "replication": true}
	for k := range cfg.RuntimeParams {
		if !allowed[k] {
			t.Errorf("startup parameter %q is not a server setting", k)
		}
	}
	if cfg.RuntimeParams["client_encoding"] != "UTF8" {
		t.Errorf("client_encoding = %q, want UTF8", cfg.RuntimeParams["client_encoding"])
	}
	if cfg.ConnectTimeout != 10*time.Second {
		t.Errorf("ConnectTimeout = %v", cfg.ConnectTimeout)
	}
	if cfg.AfterNetConnect == nil {
		t.Error("requirepeer: no AfterNetConnect")
	}
}

func TestBuildConfigEnvironmentDefaults(t *testing.T) {
	cleanEnv(t)
	t.Setenv("PGTZ", "UTC")
	t.Setenv("PGDATESTYLE", "default")
	t.Setenv("PGAPPNAME", "fromenv")
	cfg := build(t, "host=/tmp/s user=u", Settings{})
	want := map[string]string{"timezone": "UTC", "application_name": "fromenv"}
	if !maps.Equal(cfg.RuntimeParams, want) {
		t.Errorf("RuntimeParams = %v, want %v", cfg.RuntimeParams, want)
	}
}

func TestBuildConfigErrors(t *testing.T) {
	cleanEnv(t)
	tests := []struct{ in, want string }{
		{"host=/tmp/s port=abc", `invalid integer value "abc" for connection option "port"`},
		{"host=/tmp/s port=99999", `invalid port number: "99999"`},
		{"host=/tmp/s sslmode=foo", `invalid sslmode value: "foo"`},
		{"host=a,b port=99999", `invalid port number: "99999"`},
		{"host=a,b port=99999,0", "invalid port number: \"99999\"\ninvalid port number: \"0\""},
		{"host=127.0.0.1 sslcrl=/x", `connection option "sslcrl" is not supported: certificate revocation lists cannot be checked`},
		{"host=127.0.0.1 sslcrldir=/x", `connection option "sslcrldir" is not supported: certificate revocation lists cannot be checked`},
		{"host=/tmp/s gssencmode=require", `gssencmode value "require" invalid when GSSAPI support is not compiled in`},
		{"host=a,b hostaddr=127.0.0.1", `could not match 2 host names to 1 hostaddr values`},
		{"host=/tmp/s service=dblink_no_such_service", `definition of service "dblink_no_such_service" not found`},
		{"host=/tmp/s service=''", `definition of service "" not found`},
	}
	for _, tt := range tests {
		o, err := ParseConnInfo(tt.in)
		if err != nil {
			t.Fatalf("ParseConnInfo(%q): %v", tt.in, err)
		}
		_, err = BuildConfig(o, Settings{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("BuildConfig(%q) error = %v, want %q", tt.in, err, tt.want)
		}
		var cie *ConnInfoError
		if !errors.As(err, &cie) {
			t.Errorf("BuildConfig(%q) error type %T", tt.in, err)
		}
	}
	for _, ok := range []string{"replication=0", "replication=off", "replication=false", "replication=''",
		"replication=database", "host=/tmp/s,/tmp/t port=99999,5432",
		"sslcrl=''", "sslcrl=/x", "sslmode=disable sslcrldir=/x", "gssencmode=prefer", "gssencmode=disable", "gssencmode=allow"} {
		o, err := ParseConnInfo("host=/tmp/s " + ok)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := BuildConfig(o, Settings{}); err != nil && !strings.Contains(err.Error(), "gssencmode value") {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestBuildConfigAuthPolicy(t *testing.T) {
	cleanEnv(t)
	tests := []struct {
		in   string
		set  Settings
		want string
	}{
		{"host=/tmp/s password=p", Settings{}, ""},
		{"host=/tmp/s", Settings{}, noPasswordPolicy},
		{"host=/tmp/s password=p", Settings{RequirePassword: true}, passwordAuthPolicy},
	}
	for _, tt := range tests {
		if got := build(t, tt.in, tt.set).RequireAuth; got != tt.want {
			t.Errorf("%q %+v: RequireAuth = %q, want %q", tt.in, tt.set, got, tt.want)
		}
	}
}

func TestBuildConfigCancelHandler(t *testing.T) {
	cleanEnv(t)
	cfg := build(t, "host=/tmp/s", Settings{})
	h, ok := cfg.BuildContextWatcherHandler(nil).(*pgconn.CancelRequestContextWatcherHandler)
	if !ok {
		t.Fatalf("handler is %T", cfg.BuildContextWatcherHandler(nil))
	}
	if h.CancelRequestDelay != 0 || h.DeadlineDelay != 5*time.Second {
		t.Errorf("delays = %v, %v", h.CancelRequestDelay, h.DeadlineDelay)
	}
}

func TestBuildConfigConnectTimeout(t *testing.T) {
	cleanEnv(t)
	for in, want := range map[string]time.Duration{
		"": 0, "connect_timeout=0": 0, "connect_timeout=-5": 0, "connect_timeout=1": 2 * time.Second,
		"connect_timeout=' 7 '": 7 * time.Second, "connect_timeout=+3": 3 * time.Second,
	} {
		if got := build(t, "host=/tmp/s "+in, Settings{}).ConnectTimeout; got != want {
			t.Errorf("%q: ConnectTimeout = %v, want %v", in, got, want)
		}
	}
}

func TestBuildConfigHostaddrAndTLS(t *testing.T) {
	cleanEnv(t)
	cfg := build(t, "host=a,b,/tmp/s hostaddr=127.0.0.1,127.0.0.2, port=1,2,3 sslmode=prefer ssl_max_protocol_version=TLSv1.2", Settings{})
	type attempt struct {
		host string
		port uint16
		tls  bool
		sni  string
	}
	got := []attempt{{cfg.Host, cfg.Port, cfg.TLSConfig != nil, serverName(cfg.TLSConfig)}}
	for _, fb := range cfg.Fallbacks {
		got = append(got, attempt{fb.Host, fb.Port, fb.TLSConfig != nil, serverName(fb.TLSConfig)})
	}
	want := []attempt{
		{"127.0.0.1", 1, true, "a"}, {"127.0.0.1", 1, false, ""},
		{"127.0.0.2", 2, true, "b"}, {"127.0.0.2", 2, false, ""},
		{"/tmp/s", 3, false, ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("attempts = %v, want %v", got, want)
	}
	if v := cfg.TLSConfig.MinVersion; v != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2 (libpq's default)", v)
	}
	if v := cfg.TLSConfig.MaxVersion; v != tls.VersionTLS12 {
		t.Errorf("MaxVersion = %x, want TLS 1.2", v)
	}
}

func serverName(c *tls.Config) string {
	if c == nil {
		return ""
	}
	return c.ServerName
}

// TestDialerSocketOptions dials a local listener and reads back the
// socket options libpq's keywords ask for.
func TestDialerSocketOptions(t *testing.T) {
	cleanEnv(t)
	l := silentListener(t)
	read := func(c net.Conn, level, opt int) int {
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), level, opt) })
		if gerr != nil {
			t.Fatal(gerr)
		}
		return v
	}
	tests := []struct {
		in                        string
		keepalive, idle, usertime int
	}{
		{"keepalives_idle=33 tcp_user_timeout=4000", 1, 33, 4000},
		{"keepalives=0 tcp_user_timeout=4000", 0, -1, 0},
	}
	for _, tt := range tests {
		cfg := build(t, "host=127.0.0.1 "+tt.in, Settings{})
		c, err := cfg.DialFunc(context.Background(), "tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if got := read(c, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); got != tt.keepalive {
			t.Errorf("%s: SO_KEEPALIVE = %d", tt.in, got)
		}
		if tt.idle >= 0 {
			if got := read(c, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE); got != tt.idle {
				t.Errorf("%s: TCP_KEEPIDLE = %d", tt.in, got)
			}
		}
		if got := read(c, syscall.IPPROTO_TCP, tcpUserTimeoutOpt); got != tt.usertime {
			t.Errorf("%s: TCP_USER_TIMEOUT = %d", tt.in, got)
		}
		c.Close()
	}
}

// TestBuildConfigLive connects and reads back what the server got.
func TestBuildConfigLive(t *testing.T) {
	host, port, role := liveServer(t)
	s := fmt.Sprintf("host=%s port=%s user=%s dbname=postgres fallback_application_name=fb client_encoding=LATIN1 "+
		"options='-c search_path=dblink_test' keepalives_idle=60 tcp_user_timeout=10000 gsslib=gssapi sslcompression=1", host, port, role)
	cfg := build(t, s, Settings{ClientEncoding: "SQL_ASCII"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(ConnectErrorMessage(err))
	}
	defer pc.Close(ctx)
	res, err := pc.Exec(ctx, "SELECT current_setting('application_name'), current_setting('client_encoding'), current_setting('search_path')").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	row := res[0].Rows[0]
	if got := fmt.Sprintf("%s|%s|%s", row[0], row[1], row[2]); got != "fb|SQL_ASCII|dblink_test" {
		t.Errorf("server settings = %s", got)
	}

	// A cancelled context sends a cancel request; the connection survives.
	qctx, qcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer qcancel()
	start := time.Now()
	_, err = pc.Exec(qctx, "SELECT pg_sleep(20)").ReadAll()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("cancelled query: %v, want 57014 query_canceled", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("cancel took %v", time.Since(start))
	}
	if _, err := pc.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
		t.Errorf("connection unusable after cancel: %v", err)
	}
}

// While pgconn connects, its reader takes no message longer than
// startupMessageLimit: an authentication request whose length word says
// 1 GB is an error, before anything is allocated for it.
func TestStartupMessageBounded(t *testing.T) {
	cleanEnv(t)
	cfg := build(t, "host=h user=u dbname=d password=p", Settings{})
	hdr := []byte{'R', 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:5], 0x3FFFFFF0)
	f := cfg.BuildFrontend(bytes.NewReader(hdr), io.Discard)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := f.Receive()
	runtime.ReadMemStats(&after)
	var tooLong *pgproto3.ExceededMaxBodyLenErr
	if !errors.As(err, &tooLong) {
		t.Fatalf("got %v", err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > startupMessageLimit {
		t.Fatalf("%d bytes allocated", grown)
	}
}
