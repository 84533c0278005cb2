package config

import (
	"context"
	"maps"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dblink-go/dblink/internal/pgerr"
)

// Expected values and messages are libpq 15's PQconninfoParse output for
// the same strings.
func TestParseConnInfo(t *testing.T) {
	tests := []struct {
		in      string
		want    Options
		wantErr string
	}{
		{in: "", want: Options{}},
		{in: "host = a  port= 5 dbname =db", want: Options{"host": "a", "port": "5", "dbname": "db"}},
		{in: `x='a\'b\\c' y=d\ e`, wantErr: `invalid connection option "x"`},
		{in: `password='a\'b\\c' user=d\ e`, want: Options{"password": `a'b\c`, "user": "d e"}},
		{in: `host='a'port=5`, want: Options{"host": "a", "port": "5"}},
		{in: "host=", want: Options{"host": ""}},
		{in: "host= port=5", want: Options{"host": "port=5"}},
		{in: `host=a\`, want: Options{"host": "a"}},
		{in: `host='a\`, wantErr: "unterminated quoted string in connection info string"},
		{in: "host=x port='5", wantErr: "unterminated quoted string in connection info string"},
		{in: `application_name='it''s'`, wantErr: `missing "=" after "'s'" in connection info string`}, // '' is no escape
		{in: "host=a host=b", want: Options{"host": "b"}},
		// PQconnectdb does not expand dbname; only PQconnectdbParams does.
		{in: "dbname='host=a port=3' dbname=b", want: Options{"dbname": "b"}},
		{in: "host=a dbname='port=9 user=z'", want: Options{"host": "a", "dbname": "port=9 user=z"}},
		{in: "requiressl=1", want: Options{"sslmode": "require"}},
		{in: "requiressl=0", want: Options{"sslmode": "prefer"}},
		{in: "foo", wantErr: `missing "=" after "foo" in connection info string`},
		{in: "foo bar=1", wantErr: `missing "=" after "foo" in connection info string`},
		{in: "a=", wantErr: `invalid connection option "a"`},
		{in: " =x", wantErr: `invalid connection option ""`},
		{in: "Host=a", wantErr: `invalid connection option "Host"`},
		{in: "require_auth=password", wantErr: `invalid connection option "require_auth"`},
		{in: "sslcertmode=allow", wantErr: `invalid connection option "sslcertmode"`},

		{in: "postgresql://", want: Options{}},
		{in: "postgresql://u:p@h1,h2:5/db?application_name=a%20b", want: Options{"user": "u", "password": "p", "host": "h1,h2", "port": ",5", "dbname": "db", "application_name": "a b"}},
		{in: "postgresql://[::1]:5432/db?application_name=a%20b", want: Options{"host": "::1", "port": "5432", "dbname": "db", "application_name": "a b"}},
		{in: "postgresql://h:5,:6,[::1]:7/d", want: Options{"host": "h,,::1", "port": "5,6,7", "dbname": "d"}},
		{in: "postgresql://h,/d", want: Options{"host": "h,", "port": ",", "dbname": "d"}},
		{in: "postgresql://%2Ftmp%2Fh1/d", want: Options{"host": "/tmp/h1", "dbname": "d"}},
		{in: "postgresql://host?user=a@b/db", want: Options{"user": "host?user=a", "host": "b", "dbname": "db"}},
		{in: "postgresql://a:b:c@h", want: Options{"user": "a", "password": "b:c", "host": "h"}},
		{in: "postgresql://h/db?port=5&host=x", want: Options{"host": "x", "port": "5", "dbname": "db"}},
		{in: "postgresql://h?ssl=true", want: Options{"host": "h", "sslmode": "require"}},
		{in: "postgresql://h?requiressl=1", want: Options{"host": "h", "sslmode": "require"}},
		{in: "postgresql://h?x=1", wantErr: `invalid URI query parameter: "x"`},
		{in: "postgresql://h?ssl=false", wantErr: `invalid URI query parameter: "ssl"`},
		{in: "postgres://%zz", wantErr: `invalid percent-encoded token: "%zz"`},
		{in: "postgresql://h?dbname=a%2", wantErr: `invalid percent-encoded token: "a%2"`},
		{in: "postgresql://h?dbname=%00", wantErr: `forbidden value %00 in percent-encoded value: "%00"`},
		{in: "postgresql://[::1", wantErr: `end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1"`},
		{in: "postgresql://[]", wantErr: `IPv6 host address may not be empty in URI: "postgresql://[]"`},
		{in: "postgresql://[::1]x", wantErr: `unexpected character "x" at position 19 in URI (expected ":" or "/"): "postgresql://[::1]x"`},
		{in: "postgresql://h?a=b=c", wantErr: `extra key/value separator "=" in URI query parameter: "a"`},
		{in: "postgresql://h?x", wantErr: `missing key/value separator "=" in URI query parameter: "x"`},
		{in: "postgresql://h?&a=b", wantErr: `missing key/value separator "=" in URI query parameter: ""`},

		// Where libpq would quote (part of) a password, we do not.
		{in: "postgresql://u:p%zz@h", wantErr: `invalid percent-encoded token: "********"`},
		{in: "postgresql://h?password=p%zz", wantErr: `invalid percent-encoded token: "********"`},
		{in: "postgresql://u:secret@[::1", wantErr: `end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://u:********@[::1"`},
		{in: "password=se cret", wantErr: `missing "=" after "********" in connection info string`},
		{in: "password=se cret=x", wantErr: `invalid connection option "********"`},
	}
	for _, tt := range tests {
		got, err := ParseConnInfo(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseConnInfo(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			if _, ok := err.(*ConnInfoError); !ok {
				t.Errorf("ParseConnInfo(%q) error type %T, want *ConnInfoError", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseConnInfo(%q): %v", tt.in, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("ParseConnInfo(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestHasPassword(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"host=a", false},
		{"password=x", true},
		{"password=''", false},
		{"password=x password=''", false},
		{"sslpassword=x", false},
		{"postgresql://u:pw@h", true},
		{"postgresql://u:@h", false},
		{"postgresql://u@h", false},
		{"postgresql://h?password=pw", true},
		{"postgresql://h?password=", false},
		{"postgresql://u:pw@h?password=", false},
	}
	for _, tt := range tests {
		o, err := ParseConnInfo(tt.in)
		if err != nil {
			t.Fatalf("ParseConnInfo(%q): %v", tt.in, err)
		}
		if got := o.HasPassword(); got != tt.want {
			t.Errorf("%q: HasPassword() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestOptionsString(t *testing.T) {
	o := Options{"password": `a'b\c`, "host": "h", "application_name": ""}
	want := `password='a\'b\\c' host='h' application_name=''`
	if got := o.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestKeywords checks the Go keyword table against the C validator's
// (csrc/foreign.c), whose lists the fdw_validator regress test checks
// against contrib's: one fact, two tables, kept equal here.
func TestKeywords(t *testing.T) {
	src, err := os.ReadFile("../../csrc/foreign.c")
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`\{"([a-z_]+)", ([A-Z_| 0]+), ([0-9]+)\}`)
	var cNames, goNames []string
	for _, m := range entry.FindAllStringSubmatch(string(src), -1) {
		flags := m[2]
		m[1] += "/" + m[3]
		if strings.Contains(flags, "FOREIGN_OPT_USER_MAPPING") {
			m[1] += "/mapping"
		}
		if strings.Contains(flags, "FOREIGN_OPT_EXCLUDED") {
			m[1] += "/excluded"
		}
		cNames = append(cNames, m[1])
	}
	for _, k := range Keywords {
		name := k.Name + "/" + strconv.Itoa(k.Since)
		if k.UserMapping {
			name += "/mapping"
		}
		if k.Debug || k.NotForFDW || k.Name == "client_encoding" { // dblink sets it itself
			name += "/excluded"
		}
		goNames = append(goNames, name)
	}
	if got, want := strings.Join(goNames, " "), strings.Join(cNames, " "); got != want || len(cNames) < 30 {
		t.Errorf("Keywords =\n%s\ncsrc/foreign.c =\n%s", got, want)
	}
	for _, k := range Keywords {
		secret := k.Name == "password" || k.Name == "sslpassword" || k.Name == "oauth_client_secret" ||
			k.Name == "scram_client_key" || k.Name == "scram_server_key"
		if k.Secret != secret {
			t.Errorf("%s: Secret = %v", k.Name, k.Secret)
		}
	}
	if _, ok := LookupKeyword("Host"); ok {
		t.Error("LookupKeyword is case-insensitive")
	}
}

func TestURIShapedWordIsRedacted(t *testing.T) {
	for _, s := range []string{
		"host=x postgresql://u:s3cret@127.0.0.1/db",
		"sslmode=disable postgres://:s3cret@/db?host=/x",
		"dbname=a postgres://:s3cret@/db?host=1",
	} {
		_, err := ParseConnInfo(s)
		if err == nil {
			t.Fatalf("ParseConnInfo(%q) succeeded", s)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseConnInfo(%q) error echoes the password: %v", s, err)
		}
	}
}

func TestPrepareScrubsPasswordFromValueErrors(t *testing.T) {
	p, err := Prepare("port= password=s3cret dbname=x", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.Connect(context.Background(), Hooks{})
	if err == nil {
		t.Fatal("Connect accepted a non-numeric port")
	}
	e := pgerr.AsError(err)
	if strings.Contains(e.Message+e.Detail+e.Hint, "s3cret") {
		t.Fatalf("the error echoes the password: %q / %q", e.Message, e.Detail)
	}
	if !strings.Contains(e.Detail, `for connection option "port"`) {
		t.Fatalf("unexpected detail %q", e.Detail)
	}
}
