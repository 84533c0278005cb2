package config

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dblink-go/dblink/internal/pgerr"
)

// connectDetail runs the whole connect sequence (Prepare, then Open) and
// returns the DETAIL the shim would report.
func connectDetail(t *testing.T, connstr string, s Settings) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := testConnect(ctx, connstr, s)
	if err == nil {
		c.Close(ctx)
		t.Fatalf("%q: connected", connstr)
	}
	e := pgerr.AsError(err)
	return e.Message + "\n" + e.Detail + "\n" + e.Hint
}

// TestPasswordsNeverEchoed runs the strings that used to echo a password
// through every path (parse, config, connect), for passwords of every
// length: the message is libpq's with "********" where the password was.
func TestPasswordsNeverEchoed(t *testing.T) {
	l := silentListener(t) // accepts, never answers
	port := l.Addr().String()[strings.LastIndexByte(l.Addr().String(), ':')+1:]
	closed := fmt.Sprint(freePort(t))
	tests := []struct {
		path    string
		connstr string // {PW} stands for the password, P for the listener's port
		want    string // the DETAIL for a superuser
	}{
		{"connect, a value swallowed password=", "host=127.0.0.1 port={P} user=postgres connect_timeout= password={PW}",
			`connection to server at "127.0.0.1", port {P} failed: invalid integer value "password=********" for connection option "connect_timeout"`},
		{"connect, host swallowed password=", "host= password={PW}",
			`could not translate host name "password=********" to address: Name or service not known`},
		{"connect, a TCP option swallowed password=", "host=127.0.0.1 port={P} user=postgres keepalives_idle= password={PW}",
			`connection to server at "127.0.0.1", port {P} failed: invalid integer value "password=********" for connection option "keepalives_idle"`},
		{"config, a URI password with / read as the port", "postgresql://postgres:{PW}/tail@127.0.0.1:{P}/postgres",
			`invalid integer value "********" for connection option "port"`},
		{"parse, a quoted URI with ?password=", "postgresql://[::1?password={PW}",
			`end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1?password=********"`},
		{"parse, a quoted URI with &password=", "postgresql://[::1?user=u&password={PW}",
			`end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1?user=u&password=********"`},
		{"parse, a quoted URI with sslpassword=", "postgresql://[::1?sslpassword={PW}",
			`end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1?sslpassword=********"`},
		{"parse, a quoted URI with userinfo", "postgresql://u:{PW}@[::1",
			`end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://u:********@[::1"`},
		{"parse, the word after a swallowed password=", "host= password=x {PW}",
			`missing "=" after "********" in connection info string`},
		{"config, sslpassword swallowed", "host=127.0.0.1 port= sslpassword={PW}",
			`invalid integer value "sslpassword=********" for connection option "port"`},
		{"config, a keyword value", "host=127.0.0.1 port={PW} password={PW}",
			`invalid integer value "********" for connection option "port"`},
		{"config, a URI userinfo password as the port", "postgresql://u:{PW}@127.0.0.1:{PW}/db",
			`invalid integer value "********" for connection option "port"`},
	}
	for _, pw := range []string{"Sekr1tPw", "s", "se", "sec", "password"} {
		for _, tt := range tests {
			t.Run(tt.path+"/"+pw, func(t *testing.T) {
				connstr := strings.ReplaceAll(strings.ReplaceAll(tt.connstr, "{PW}", pw), "{P}", port)
				want := "could not establish connection\n" + strings.ReplaceAll(tt.want, "{P}", port) + "\n"
				got := connectDetail(t, connstr, Settings{})
				if got != want && !strings.HasPrefix(got, want) { // DNS failures repeat per attempt
					t.Errorf("%q:\n got: %q\nwant: %q", connstr, got, want)
				}
				if !strings.Contains(connstr, "password=") {
					return // no password for a non-superuser: nothing to check
				}
				got = connectDetail(t, connstr, Settings{RequirePassword: true})
				if strings.Contains(got, "="+pw) || strings.Contains(got, `"`+pw+`"`) {
					t.Errorf("%q, non-superuser: the message shows the password: %q", connstr, got)
				}
			})
		}
	}
	// A numeric password read as the port of a URI ends in the connect
	// message's identity line.
	connstr := "postgresql://127.0.0.1:" + closed + "/tail@x/db?sslmode=disable"
	got := connectDetail(t, connstr, Settings{})
	if want := `connection to server at "127.0.0.1", port ******** failed: Connection refused` + tcpHint; got != "could not establish connection\n"+want+"\n" {
		t.Errorf("%q:\n got: %q\nwant: %q", connstr, got, want)
	}
}

// TestRedactKeepsLibpqWording checks that redaction touches only a
// password shown as a value, however short the password.
func TestRedactKeepsLibpqWording(t *testing.T) {
	tests := []struct {
		secrets []string
		msg     string
		want    string
	}{
		{[]string{"a"}, `server does not support SSL, but SSL was required`, `server does not support SSL, but SSL was required`},
		{[]string{"a"}, `invalid integer value "a" for connection option "port"`, `invalid integer value "********" for connection option "port"`},
		{[]string{"password"}, `FATAL:  password authentication failed for user "u"`, `FATAL:  password authentication failed for user "u"`},
		{[]string{"5432"}, `connection to server at "h" (127.0.0.1), port 5432 failed: Connection refused`, `connection to server at "h" (127.0.0.1), port ******** failed: Connection refused`},
		{[]string{"5432"}, `connection to server at "127.0.0.1", port 54321 failed: x`, `connection to server at "127.0.0.1", port 54321 failed: x`},
		{[]string{"tail"}, `FATAL:  database "tail@h:5/db" does not exist`, `FATAL:  database "********@h:5/db" does not exist`},
		{[]string{"se\"cret"}, `invalid integer value "se"cret" for connection option "port"`, `invalid integer value "********" for connection option "port"`},
		{nil, `could not translate host name "password='se cret'" to address`, `could not translate host name "password=********" to address`},
		{nil, `could not translate host name "PassWord = x" to address`, `could not translate host name "PassWord = ********" to address`},
		{nil, `FATAL:  database "postgresql://u:pw@h/db" does not exist`, `FATAL:  database "postgresql://u:********@h/db" does not exist`},
	}
	for _, tt := range tests {
		if got := secrets(tt.secrets).redact(tt.msg); got != tt.want {
			t.Errorf("%q in %q:\n got: %q\nwant: %q", tt.secrets, tt.msg, got, tt.want)
		}
	}
}

func TestSecretsOf(t *testing.T) {
	tests := []struct {
		connstr string
		want    []string
	}{
		{"password=pw sslpassword=spw", []string{"spw", "pw"}},
		{"postgresql://u:SE/CR%45T@h", []string{"SE/CR%45T", "SE/CRET", "CR%45T", "CRET", "SE"}},
		{"postgresql://h/db?passw%6Frd=x&user=u", []string{"x"}},
		{"postgresql://[::1]:5432/d@x", nil}, // a whole IPv6 host is no user name
		{"postgresql://h:5432/db?user=me@example.com", nil},
		{"host=h", nil},
	}
	for _, tt := range tests {
		o, _ := ParseConnInfo(tt.connstr)
		got := secretsOf(tt.connstr, o)
		if fmt.Sprint(got) != fmt.Sprint(secrets(tt.want)) {
			t.Errorf("secretsOf(%q) = %q, want %q", tt.connstr, got, tt.want)
		}
	}
}
