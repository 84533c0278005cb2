package conn

import (
	"bufio"
	"errors"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
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
