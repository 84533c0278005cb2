package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The expected texts below are what libpq 15 (PQconnectdb, then
// PQerrorMessage without the final newline) printed for the same strings.

const (
	tcpHint  = "\n\tIs the server running on that host and accepting TCP/IP connections?"
	unixHint = "\n\tIs the server running locally and accepting connections on that socket?"
)

// connectMessage builds a config from s, connects, and returns the libpq
// wording of the failure ("" on success).
func connectMessage(t *testing.T, s string, set Settings) (string, error) {
	t.Helper()
	o, err := ParseConnInfo(s)
	if err != nil {
		return ConnectErrorMessage(err), err
	}
	cfg, err := BuildConfig(o, set)
	if err != nil {
		return ConnectErrorMessage(err), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return ConnectErrorMessage(err), err
	}
	pc.Close(ctx)
	return "", nil
}

// freePort returns a 127.0.0.1 port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// refusal is a connection string and libpq's message for its failure.
type refusal struct{ conninfo, want string }

// checkRefusals checks that each string fails to connect with its message.
func checkRefusals(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		got, err := connectMessage(t, tt.conninfo, Settings{ClientEncoding: "UTF8"})
		if err == nil {
			t.Errorf("%q: connected", tt.conninfo)
			continue
		}
		if got != tt.want {
			t.Errorf("%q:\n got: %q\nwant: %q", tt.conninfo, got, tt.want)
		}
	}
}

func TestConnectErrorMessageNoServer(t *testing.T) {
	p1, p2 := freePort(t), freePort(t)
	dir := t.TempDir()
	tests := []refusal{
		{
			fmt.Sprintf("host=127.0.0.1 port=%d", p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint, p1),
		},
		{
			fmt.Sprintf("host=127.0.0.1 port=%d sslmode=disable", p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint, p1),
		},
		{
			fmt.Sprintf("host=%s port=5999", dir),
			fmt.Sprintf(`connection to server on socket "%s/.s.PGSQL.5999" failed: No such file or directory`+unixHint, dir),
		},
		{
			fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d", p1, p2),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint+"\n"+
				`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint, p1, p2),
		},
		{
			fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d", p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint, p1),
		},
		{
			fmt.Sprintf("host=%s hostaddr=127.0.0.1 port=%d", dir, p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint, p1),
		},
		{
			fmt.Sprintf("host=127.0.0.1 port=%d keepalives=x", p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: invalid integer value "x" for connection option "keepalives"`, p1),
		},
		{
			fmt.Sprintf("host=127.0.0.1 port=%d keepalives=1 keepalives_idle=x tcp_user_timeout=y", p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: invalid integer value "x" for connection option "keepalives_idle"`, p1),
		},
		{
			// keepalives=0: libpq does not look at the others.
			fmt.Sprintf("host=127.0.0.1 port=%d keepalives=0 tcp_user_timeout=x", p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint, p1),
		},
		{
			// Nothing to connect to: the bad connect_timeout is never read.
			fmt.Sprintf("host=127.0.0.1 port=%d connect_timeout=x", p1),
			fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: Connection refused`+tcpHint, p1),
		},
		{"host=/tmp/zz port=abc", `invalid integer value "abc" for connection option "port"`},
		{"host=/tmp/zz port=12x", `invalid integer value "12x" for connection option "port"`},
		{"host=/tmp/zz port=99999", `invalid port number: "99999"`},
		{"host=/tmp/zz port=0", `invalid port number: "0"`},
		{"host=/tmp/zz port=-1", `invalid port number: "-1"`},
		{"host=/tmp/zz sslmode=foo", `invalid sslmode value: "foo"`},
		{"host=/tmp/zz gssencmode=foo", `invalid gssencmode value: "foo"`},
		{"host=/tmp/zz target_session_attrs=foo", `invalid target_session_attrs value: "foo"`},
		{"host=/tmp/zz channel_binding=foo", `invalid channel_binding value: "foo"`},
		{"host=/tmp/zz ssl_max_protocol_version=x", `invalid ssl_max_protocol_version value: "x"`},
		{"host=/tmp/zz ssl_min_protocol_version=foo", `invalid ssl_min_protocol_version value: "foo"`},
		{"host=/tmp/zz ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=tlsv1.2", `invalid SSL protocol version range`},
		{"host=/tmp/zz hostaddr=x", `could not parse network address "x": Name or service not known`},
		{"host=127.0.0.1 hostaddr=127.0.0.1,127.0.0.1", `could not match 1 host names to 2 hostaddr values`},
		{"host=/tmp/zz port=1,2,3", `could not match 3 port numbers to 1 hosts`},
		{"host=127.0.0.1 port=99999,5999", `could not match 2 port numbers to 1 hosts`},
		{"foo", `missing "=" after "foo" in connection info string`},
		{"a=", `invalid connection option "a"`},
		{"host=x port='5", `unterminated quoted string in connection info string`},
		{"postgresql://h?x=1", `invalid URI query parameter: "x"`},
		// Not libpq: this core's refusals.
		{"host=/tmp/zz gssencmode=require", `gssencmode value "require" invalid when GSSAPI support is not compiled in`},
	}
	checkRefusals(t, tests)
}

// TestConnectErrorMessageTimeout uses a listener that never answers.
func TestConnectErrorMessageTimeout(t *testing.T) {
	l := silentListener(t)
	port := l.Addr().(*net.TCPAddr).Port
	start := time.Now()
	got, _ := connectMessage(t, fmt.Sprintf("host=127.0.0.1 port=%d connect_timeout=1 sslmode=disable", port), Settings{})
	want := fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: timeout expired`, port)
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// libpq's minimum is 2 seconds.
	if d := time.Since(start); d < 2*time.Second || d > 10*time.Second {
		t.Errorf("connect_timeout=1 waited %v, want about 2s", d)
	}
}

func TestConnectErrorMessageNeverShowsPassword(t *testing.T) {
	for _, s := range []string{
		"password=se cret host=/tmp/zz",
		"password='se'cret=1",
		"postgresql://u:se%zzcret@h",
		"postgresql://u:secret@[::1x",
		"postgresql://u:secret@[::1",
		"postgresql://h?password=se%zzcret",
	} {
		got, err := connectMessage(t, s, Settings{})
		if err == nil {
			t.Fatalf("%q: connected", s)
		}
		if strings.Contains(got, "cret") {
			t.Errorf("%q: message shows the password: %q", s, got)
		}
	}
}

func TestPolicyFailureFalse(t *testing.T) {
	if isPolicyFailure(nil, passwordAuthPolicy) || isPolicyFailure(errors.New("x"), passwordAuthPolicy) {
		t.Error("isPolicyFailure true for an unrelated error")
	}
}

// liveServer returns the test server's host and port, or skips.
func liveServer(t *testing.T) (host, port, role string) {
	t.Helper()
	host, port = os.Getenv("DBLINK_TEST_PGHOST"), os.Getenv("DBLINK_TEST_PGPORT")
	if host == "" || port == "" {
		t.Skip("DBLINK_TEST_PGHOST/DBLINK_TEST_PGPORT not set")
	}
	role = os.Getenv("DBLINK_TEST_PGUSER")
	if role == "" {
		role = "postgres"
	}
	return host, port, role
}

// identityOf is libpq's "connection to server ... failed: " for host/port.
func identityOf(host, port string) string {
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf(`connection to server on socket "%s/.s.PGSQL.%s" failed: `, host, port)
	}
	return fmt.Sprintf(`connection to server at "%s", port %s failed: `, host, port)
}

func TestConnectErrorMessageLive(t *testing.T) {
	host, port, role := liveServer(t)
	base := fmt.Sprintf("host=%s port=%s user=%s", host, port, role)
	id := identityOf(host, port)
	tests := []refusal{
		{base + " dbname=nope", id + `FATAL:  database "nope" does not exist`},
		{base + " connect_timeout=x", id + `invalid integer value "x" for connection option "connect_timeout"`},
		{base + " connect_timeout='5 x'", id + `invalid integer value "5 x" for connection option "connect_timeout"`},
		{base + " options=-cdblink_nonexistent_guc=1", id + `FATAL:  unrecognized configuration parameter "dblink_nonexistent_guc"`},
	}
	if !strings.HasPrefix(host, "/") {
		// Over a socket, pg_hba's peer method may answer first.
		tests = append(tests, refusal{
			base + " user=dblink_no_such_role", id + `FATAL:  role "dblink_no_such_role" does not exist`,
		})
		// One line per host tried, as libpq.
		p := freePort(t)
		tests = append(tests, refusal{
			fmt.Sprintf("host=%s,%s port=%d,%s user=%s dbname=nope", host, host, p, port, role),
			identityOf(host, strconv.Itoa(p)) + "Connection refused" + tcpHint + "\n" + id + `FATAL:  database "nope" does not exist`,
		})
		if got, err := connectMessage(t, base+" sslmode=require", Settings{}); err != nil {
			if want := id + "server does not support SSL, but SSL was required"; got != want {
				t.Errorf("sslmode=require: got %q, want %q", got, want)
			}
		}
	}
	checkRefusals(t, tests)
	// libpq accepts blanks around integers.
	if got, err := connectMessage(t, base+" connect_timeout=' 5 ' port=' "+port+"'", Settings{}); err != nil {
		t.Errorf("blanks around integers: %s", got)
	}
}

// TestRequirePeerLive needs the server on a Unix-domain socket.
func TestRequirePeerLive(t *testing.T) {
	host, port, role := liveServer(t)
	if !strings.HasPrefix(host, "/") {
		t.Skip("server is not on a Unix-domain socket")
	}
	var st syscall.Stat_t
	sock := fmt.Sprintf("%s/.s.PGSQL.%s", host, port)
	if err := syscall.Stat(sock, &st); err != nil {
		t.Fatal(err)
	}
	owner, err := user.LookupId(strconv.Itoa(int(st.Uid)))
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("host=%s port=%s user=%s", host, port, role)
	got, err := connectMessage(t, base+" requirepeer=dblink_nobody", Settings{})
	want := identityOf(host, port) + `requirepeer specifies "dblink_nobody", but actual peer user name is "` + owner.Username + `"`
	if err == nil || got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, err := connectMessage(t, base+" requirepeer="+owner.Username, Settings{}); err != nil {
		t.Errorf("requirepeer=%s: %s", owner.Username, got)
	}
}

// TestRequirePasswordLive: a server that lets the test role in without a
// password (trust or peer) must fail RequirePassword recognizably.
func TestRequirePasswordLive(t *testing.T) {
	host, port, role := liveServer(t)
	base := fmt.Sprintf("host=%s port=%s user=%s", host, port, role)
	if got, err := connectMessage(t, base, Settings{}); err != nil {
		t.Skipf("test role cannot connect without a password: %s", got)
	}
	_, err := connectMessage(t, base+" password=unused", Settings{RequirePassword: true})
	if err == nil || !isPolicyFailure(err, passwordAuthPolicy) {
		t.Errorf("RequirePassword against trust/peer: err = %v, want a password-not-requested error", err)
	}
}

// TestPasswordAuthLive needs DBLINK_TEST_PWUSER, a role the server
// authenticates with a password (DBLINK_TEST_PWPASS) over the test host.
func TestPasswordAuthLive(t *testing.T) {
	host, port, _ := liveServer(t)
	pwUser, pwPass := os.Getenv("DBLINK_TEST_PWUSER"), os.Getenv("DBLINK_TEST_PWPASS")
	if pwUser == "" || pwPass == "" {
		t.Skip("DBLINK_TEST_PWUSER/DBLINK_TEST_PWPASS not set")
	}
	t.Setenv("PGPASSFILE", "/nonexistent") // a passfile must not supply the password
	base := fmt.Sprintf("host=%s port=%s user=%s dbname=postgres", host, port, pwUser)
	id := identityOf(host, port)

	got, err := connectMessage(t, base, Settings{})
	if want := id + "fe_sendauth: no password supplied"; err == nil || got != want {
		t.Errorf("no password: got %q, want %q", got, want)
	}
	got, err = connectMessage(t, base+" password=dblink_wrong_secret", Settings{})
	if want := id + `FATAL:  password authentication failed for user "` + pwUser + `"`; err == nil || got != want {
		t.Errorf("wrong password: got %q, want %q", got, want)
	}
	if strings.Contains(got, "dblink_wrong_secret") {
		t.Errorf("message shows the password: %q", got)
	}
	if got, err := connectMessage(t, base+" password="+quoteConnInfoValue(pwPass), Settings{RequirePassword: true}); err != nil {
		t.Errorf("right password with RequirePassword: %s", got)
	}
}

// silentListener accepts TCP connections on 127.0.0.1 and never answers:
// a server that hangs. It and its connections close when the test ends.
func silentListener(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return l
}
