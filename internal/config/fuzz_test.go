package config

import (
	"bufio"
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/dblink-go/dblink/internal/pgerr"
)

// parserSeeds are connection strings that exercise every branch of the
// conninfo parser; the fuzz target starts from them and the libpq oracle
// test compares each with libpq.
var parserSeeds = []string{
	"",
	"   ",
	"host=a port=5432 dbname=db user=u",
	"host = a  port= 5 dbname =db",
	`password='a\'b\\c' user=x`,
	`application_name='it''s'`,
	`host=a\ b`,
	`host=a\`,
	`host='a\`,
	`host='unterminated`,
	`host='a'port=5`,
	"host= port=5",
	"host=",
	"host=''",
	" =x",
	"foo",
	"foo bar=1",
	"Host=a",
	"require_auth=password",
	"sslcertmode=allow",
	"requiressl=1",
	"requiressl=0",
	"dbname='host=a port=3'",
	"host=a\tport=5\nuser=u",
	"host=a,b,c port=1,2,3",
	"host=a,,b port=,5,",
	"postgresql://",
	"postgresql:///",
	"postgres://h",
	"postgresql://u:p@h1,h2:5/db?application_name=x",
	"postgresql://u:p%20w@h/db",
	"postgresql://u@h",
	"postgresql://:pw@h",
	"postgresql://a:b:c@h",
	"postgresql://host?user=a@b/db",
	"postgresql://[::1]:5432/db?sslmode=disable",
	"postgresql://[::1]",
	"postgresql://[::1",
	"postgresql://[]",
	"postgresql://[::1]x",
	"postgresql://[fe80::1%25eth0]:5/d",
	"postgresql://h:5,:6,[::1]:7/d",
	"postgresql://h,/d",
	"postgresql://%2Ftmp%2Fsock/d",
	"postgresql://h/%64b",
	"postgresql://%zz",
	"postgresql://h?dbname=a%2",
	"postgresql://h?dbname=%00",
	"postgresql://h?dbname=%",
	"postgresql://h?x",
	"postgresql://h?x=1",
	"postgresql://h?a=b=c",
	"postgresql://h?&a=b",
	"postgresql://h?",
	"postgresql://h?port=5&host=x",
	"postgresql://h?ssl=true",
	"postgresql://h?ssl=false",
	"postgresql://h?requiressl=1",
	"postgresql://h?%70ort=5",
	"postgresql://h/db?password=se%zzcret",
	"postgresql://u:se%zzcret@h",
	"postgresql://u:secret@[::1x",
	"POSTGRESQL://h",
	"postgresql:/h",
}

// FuzzParseConnInfo checks that the parser never panics, fails only with
// *ConnInfoError, and that a parsed result survives String and a re-parse.
func FuzzParseConnInfo(f *testing.F) {
	for _, s := range parserSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseConnInfo(s)
		if err != nil {
			var cie *ConnInfoError
			if !errors.As(err, &cie) {
				t.Fatalf("ParseConnInfo(%q): error %T, want *ConnInfoError", s, err)
			}
			return
		}
		again, err := ParseConnInfo(o.String())
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", o.String(), s, err)
		}
		if !maps.Equal(o, again) {
			t.Fatalf("round trip of %q: %v, then %v", s, o, again)
		}
	})
}

// TestParseConnInfoMatchesLibpq compares the parser with libpq's
// PQconninfoParse through a helper program (see oracleSource) named by
// DBLINK_TEST_LIBPQ_ORACLE.
func TestParseConnInfoMatchesLibpq(t *testing.T) {
	oracle := os.Getenv("DBLINK_TEST_LIBPQ_ORACLE")
	if oracle == "" {
		t.Skip("DBLINK_TEST_LIBPQ_ORACLE not set")
	}
	var inputs []string
	for _, s := range append(parserSeeds, randomConnStrings(20000)...) {
		if !strings.ContainsAny(s, "\n\x00") {
			inputs = append(inputs, s)
		}
	}
	want := runOracle(t, oracle, inputs)
	hidden := 0
	for i, s := range inputs {
		got := describeParse(ParseConnInfo(s))
		if got == want[i] {
			continue
		}
		if strings.Contains(got, redacted) && strings.HasPrefix(want[i], "ERR:") {
			hidden++ // libpq quoted (part of) a password; we do not
			continue
		}
		t.Errorf("ParseConnInfo(%q)\n got: %s\nwant: %s", s, got, want[i])
	}
	t.Logf("%d inputs agree with libpq, %d differ only by a hidden password", len(inputs)-hidden, hidden)
}

// randomConnStrings builds n strings from fragments the parser treats
// specially, deterministically.
func randomConnStrings(n int) []string {
	frags := []string{
		"postgresql://", "postgres://", "host", "port", "dbname", "user", "password",
		"sslmode", "requiressl", "ssl", "x", "=", "==", " ", "\t", "'", "\\", "\\'",
		"@", ":", "/", "?", "&", ",", "[", "]", "::1", "%", "%2", "%25", "%41", "%00",
		"%zz", "1", "true", "a b", "h1", "5432", "requirepeer", "Host",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		out[i] = b.String()
	}
	return out
}

// describeParse renders a parse result as the oracle prints it.
func describeParse(o Options, err error) string {
	if err != nil {
		return "ERR:" + err.Error()
	}
	var kv []string
	for _, k := range Keywords {
		if v, ok := o[k.Name]; ok {
			kv = append(kv, k.Name+"="+v)
		}
	}
	return "OK" + strings.Join(append([]string{""}, kv...), "\x1f")
}

// runOracle feeds inputs to the oracle, one per line, and returns its
// answers ("ERR:<message>" or "OK" followed by \x1f-separated key=value).
func runOracle(t *testing.T, oracle string, inputs []string) []string {
	t.Helper()
	cmd := exec.Command(oracle, "parse")
	cmd.Stdin = strings.NewReader(strings.Join(inputs, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	var answers []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := strings.Index(string(data), "\n\x1e\n"); i >= 0 {
			return i + 3, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), nil, errors.New("truncated oracle output")
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		answers = append(answers, strings.TrimSuffix(sc.Text(), "\n"))
	}
	if len(answers) != len(inputs) {
		t.Fatalf("oracle answered %d of %d inputs", len(answers), len(inputs))
	}
	return answers
}

// oracleSource is the helper for TestParseConnInfoMatchesLibpq; build it
// with: cc -o oracle oracle.c -I$(pg_config --includedir) -lpq
const oracleSource = `
#include <stdio.h>
#include <string.h>
#include <libpq-fe.h>
int main(int argc, char **argv) {
  char *line = NULL; size_t cap = 0; ssize_t n;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    char *err = NULL;
    PQconninfoOption *o;
    if (line[n-1] == '\n') line[--n] = 0;
    o = PQconninfoParse(line, &err);
    if (!o) { printf("ERR:%s\x1e\n", err); PQfreemem(err); continue; }
    printf("OK");
    for (PQconninfoOption *p = o; p->keyword; p++)
      if (p->val) printf("\x1f%s=%s", p->keyword, p->val);
    printf("\n\x1e\n");
    PQconninfoFree(o);
  }
  return 0;
}
`

// FuzzBuildConfig checks that turning any parsed connection string into a
// pgconn.Config never panics, fails only with *ConnInfoError, and that a
// failure's message never contains the password (when the password is
// not also the text of another option, which the message may quote).
// Options that make pgconn read files (service, passfile, ssl files) are
// dropped, so the target touches no filesystem or network.
func FuzzBuildConfig(f *testing.F) {
	for _, s := range parserSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		"host=a hostaddr=127.0.0.1 port=5432 password=Sekr1tPw",
		"host=a,b hostaddr=1.2.3.4, port=1,2 password=Sekr1tPw",
		"port=99999 password=Sekr1tPw",
		"port=' +12 ' connect_timeout=-1 password=Sekr1tPw",
		"keepalives_idle=x password=Sekr1tPw",
		"sslmode=bogus password=Sekr1tPw",
		"ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2",
		"target_session_attrs=any gssencmode=require",
		"replication=database",
		"sslcrl=x",
		"options='-c work_mem=1MB' application_name=a fallback_application_name=b",
		"requirepeer=postgres host=/tmp",
		"postgresql://u:Sekr1tPw@h1:5,h2:x/db?connect_timeout=3",
	} {
		f.Add(s)
	}
	drop := []string{"service", "passfile", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir", "sslpassword", "sslmode"}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseConnInfo(s)
		if err != nil {
			return
		}
		for _, k := range drop {
			delete(o, k)
		}
		_, err = BuildConfig(o, Settings{ClientEncoding: "UTF8", RequirePassword: true})
		if err == nil {
			return
		}
		var cie *ConnInfoError
		if !errors.As(err, &cie) {
			t.Fatalf("BuildConfig(%q): error %T (%v), want *ConnInfoError", o.String(), err, err)
		}
		pw := o["password"]
		if len(pw) < 4 || !strings.Contains(err.Error(), pw) {
			return
		}
		// the password's letters in the message come from elsewhere when
		// the same string with another password gets the same message (a
		// password "addr" in "could not parse network address", or `"000`
		// in a port shown as "0000")
		other := Options{}
		for k, v := range o {
			other[k] = v
		}
		other["password"] = "\x01another password\x01"
		if _, err2 := BuildConfig(other, Settings{ClientEncoding: "UTF8", RequirePassword: true}); err2 != nil && err2.Error() == err.Error() {
			return
		}
		t.Fatalf("BuildConfig(%q): the message %q shows the password", o.String(), err.Error())
	})
}

// passwordForms are the places a connection string names a password;
// {H} and {T} are random text around it, {PW} the password.
var passwordForms = []string{
	"{H}password={PW}{T}",
	"{H}sslpassword={PW}{T}",
	"{H}password='{PW}'{T}",
	"postgresql://{H}:{PW}@{T}",
	"postgresql://{H}?password={PW}{T}",
	"postgresql://{H}?sslpassword={PW}{T}",
	"postgresql://{H}&password={PW}{T}",
}

// FuzzPasswordNeverShown puts a random password where a connection string
// names one, amid random text, and checks that no message of Prepare, or
// of Open against a local listener that hangs up at once, shows it.
// Strings that would read files (service, passfile, ssl files) or connect
// anywhere else are not opened.
func FuzzPasswordNeverShown(f *testing.F) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	seeds := []struct {
		head, tail string
		form       uint8
	}{
		{"host=127.0.0.1 port={P} user=postgres connect_timeout= ", "", 0},
		{"host= ", "", 0},
		{"host=127.0.0.1 port={P} user=postgres keepalives_idle= ", "", 0},
		{"postgres", "/tail@127.0.0.1:{P}/postgres", 3},
		{"[::1", "", 4},
		{"[::1?user=u", "", 6},
		{"host=127.0.0.1 port={P} ", " dbname=x", 0},
		{"host=127.0.0.1 port=", " x", 1},
		{"u", "127.0.0.1:{P}/db", 3},
		{"127.0.0.1:{P}/db", "&sslmode=disable", 4},
		{"host= ", " cret", 2},
	}
	for _, s := range seeds {
		f.Add(s.head, s.tail, s.form, "Sekr1t")
		f.Add(s.head, s.tail, s.form|0x80, "a/b:c,d")
	}
	f.Fuzz(func(t *testing.T, head, tail string, form uint8, pw string) {
		pw = "Zq" + strings.Map(func(c rune) rune {
			if c == 0 || unicode.IsSpace(c) {
				return -1
			}
			return c
		}, pw) + "x7"
		if strings.Contains(head+tail, pw) {
			return // the text around it quotes the same text
		}
		pattern := passwordForms[int(form&0x7f)%len(passwordForms)]
		if strings.Contains(pattern, ":{PW}@") {
			if strings.ContainsAny(head, "/?@") {
				return // not a user name: the URI has no userinfo to read
			}
			// libpq ends the userinfo at the first "@"; and a "?"
			// before a "/" makes a query of the rest
			pw = strings.NewReplacer("@", "", "?", "").Replace(pw)
		}
		connstr := strings.NewReplacer("{H}", head, "{T}", tail, "{PW}", pw).Replace(pattern)
		connstr = strings.ReplaceAll(connstr, "{P}", port)
		if o, err := ParseConnInfo(connstr); err == nil {
			for _, k := range []string{"service", "passfile", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir"} {
				if _, ok := o[k]; ok {
					return
				}
			}
		}
		set := Settings{ClientEncoding: "UTF8", RequirePassword: form&0x80 != 0}
		shows := func(err error) {
			e := pgerr.AsError(err)
			if strings.Contains(e.Message+e.Detail+e.Hint, pw) {
				t.Fatalf("%q: the message shows the password %q: %q / %q", connstr, pw, e.Message, e.Detail)
			}
		}
		p, err := Prepare(connstr, set)
		if err != nil {
			shows(err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Connect builds the same config: it fails before the network
		// with this error, else it may connect only to the listener
		cfg, err := BuildConfig(p.opts, p.set)
		if err != nil {
			_, _, err := p.Connect(ctx, Hooks{})
			shows(err)
			return
		}
		if cfg.Host != "127.0.0.1" || strconv.Itoa(int(cfg.Port)) != port || len(cfg.Fallbacks) > 1 ||
			(len(cfg.Fallbacks) == 1 && cfg.Fallbacks[0].Host != "127.0.0.1") {
			return
		}
		c, _, err := p.Connect(ctx, Hooks{})
		if err == nil {
			c.Close(ctx)
			t.Fatalf("%q: connected to a listener that hangs up", connstr)
		}
		shows(err)
	})
}
