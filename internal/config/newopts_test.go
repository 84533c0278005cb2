package config

import (
	"strings"
	"testing"

	"github.com/dblink-go/dblink/internal/pgerr"
)

// withMajor runs the test as the Go core of a shim built for major.
func withMajor(t *testing.T, major int) {
	t.Helper()
	old := ServerMajor()
	SetServerMajor(major)
	t.Cleanup(func() { SetServerMajor(old) })
}

// The options libpq gained after 15 exist only from their major on.
func TestKeywordsPerMajor(t *testing.T) {
	cases := []struct {
		key   string
		since int
	}{
		{"require_auth", 16}, {"sslcertmode", 16}, {"load_balance_hosts", 16}, {"gssdelegation", 16},
		{"sslnegotiation", 17}, {"min_protocol_version", 18}, {"max_protocol_version", 18}, {"sslkeylogfile", 18},
	}
	for _, major := range []int{15, 16, 17, 18} {
		withMajor(t, major)
		for _, c := range cases {
			_, err := ParseConnInfo(c.key + "=x")
			if major < c.since {
				if err == nil || err.Error() != `invalid connection option "`+c.key+`"` {
					t.Errorf("major %d: %s: err = %v, want libpq's invalid connection option", major, c.key, err)
				}
			} else if err != nil {
				t.Errorf("major %d: %s: %v", major, c.key, err)
			}
		}
	}
}

// Each major's contrib words the password rule its own way.
func TestPasswordMessagesPerMajor(t *testing.T) {
	withMajor(t, 15)
	if m := errPasswordNotGiven().Message; m != "password is required" {
		t.Errorf("15: %q", m)
	}
	withMajor(t, 17)
	_, err := Prepare("dbname=x", Settings{RequirePassword: true})
	e, ok := err.(*pgerr.Error)
	if !ok || e.Message != "password or GSSAPI delegated credentials required" ||
		e.Detail != "Non-superusers must provide a password in the connection string or send delegated GSSAPI credentials." {
		t.Errorf("17: %#v", err)
	}
	if h := errPasswordNotRequested().Hint; h != "Ensure provided credentials match target server's authentication method." {
		t.Errorf("17: hint %q", h)
	}
}

// libpq's checks of the newer options, in its words.
func TestNewerOptionChecks(t *testing.T) {
	withMajor(t, 18)
	cases := map[string]string{
		"require_auth=scram-sha-256,!md5":  `negative require_auth method "md5" cannot be mixed with non-negative methods`,
		"require_auth=!md5,password":       `require_auth method "password" cannot be mixed with negative methods`,
		"require_auth=kerberos":            `invalid require_auth value: "kerberos"`,
		"require_auth=md5,md5":             `require_auth method "md5" is specified more than once`,
		"sslnegotiation=fast":              `invalid sslnegotiation value: "fast"`,
		"sslnegotiation=direct":            `weak sslmode "prefer" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`,
		"sslcertmode=maybe":                `invalid sslcertmode value: "maybe"`,
		"load_balance_hosts=roundrobin":    `invalid load_balance_hosts value: "roundrobin"`,
		"min_protocol_version=3.1":         `invalid min_protocol_version value: "3.1"`,
		"min_protocol_version=3.2":         `connection option "min_protocol_version" value "3.2" is not supported: dblink's connections use protocol version 3.0`,
		"oauth_issuer=https://example.com": `connection option "oauth_issuer" is not supported: dblink cannot authenticate with OAuth`,
		"scram_client_key=abc":             `connection option "scram_client_key" is not supported`,
	}
	for connstr, want := range cases {
		o, err := ParseConnInfo(connstr)
		if err != nil {
			t.Fatalf("%s: %v", connstr, err)
		}
		if err := checkConnectOptions(o); err == nil || err.Error() != want {
			t.Errorf("%s: err = %v, want %q", connstr, err, want)
		}
	}
	for _, ok := range []string{"require_auth=none", "require_auth=!password,!md5", "sslnegotiation=direct sslmode=require",
		"max_protocol_version=latest", "min_protocol_version=3.0", "sslcertmode=disable", "load_balance_hosts=random"} {
		o, _ := ParseConnInfo(ok)
		if err := checkConnectOptions(o); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// require_auth reaches pgconn as given; a non-superuser's is narrowed to
// the password methods it allows.
func TestRequireAuthPolicy(t *testing.T) {
	withMajor(t, 16)
	for _, c := range []struct {
		connstr, password string
		s                 Settings
		want              string
	}{
		{"require_auth=scram-sha-256", "", Settings{}, "scram-sha-256"},
		{"require_auth=!password", "p", Settings{}, "!password"},
		{"require_auth=none", "", Settings{RequirePassword: true}, "none"},
		{"require_auth=!password", "p", Settings{RequirePassword: true}, "md5,scram-sha-256"},
		{"require_auth=scram-sha-256,gss", "p", Settings{RequirePassword: true}, "scram-sha-256"},
		{"dbname=x", "p", Settings{RequirePassword: true}, passwordAuthPolicy},
	} {
		o, _ := ParseConnInfo(c.connstr)
		if got := requireAuthPolicy(o, c.password, c.s); got != c.want {
			t.Errorf("%s (%+v): %q, want %q", c.connstr, c.s, got, c.want)
		}
	}
}

// load_balance_hosts=random keeps every host, and a host's attempts together.
func TestLoadBalanceHosts(t *testing.T) {
	withMajor(t, 16)
	cleanEnv(t)
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		cfg := build(t, "host=a,b,c port=1,2,3 load_balance_hosts=random sslmode=disable", Settings{})
		order := []string{cfg.Host}
		for _, f := range cfg.Fallbacks {
			order = append(order, f.Host)
		}
		if len(order) != 3 {
			t.Fatalf("hosts %v", order)
		}
		seen[strings.Join(order, ",")] = true
	}
	if len(seen) < 2 {
		t.Errorf("50 shuffles gave one order: %v", seen)
	}
}
