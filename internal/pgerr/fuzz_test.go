package pgerr

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// errorTextSeeds are queries for FuzzErrorText: several lines with every
// line ending, tabs, wide and multibyte characters, long lines that the
// LINE display cuts on the left, the right or both, and invalid UTF-8.
var errorTextSeeds = []string{
	"",
	"x",
	"SELECT 1",
	"SELECT\n1\r\n+\rfoo",
	"\n\n\n",
	"\r\n\r\n",
	"\tSELECT\t1",
	"SELECT 'ä', 'é' FROM ö",
	"SELECT '日本語のテキスト' || 漢字 FROM 表",
	"SELECT '😀😀😀', '\u200b'",
	"SELECT " + strings.Repeat("abcdefghij", 20) + " FROM t",
	strings.Repeat("日本", 60) + " x",
	"a\n" + strings.Repeat("x", 100) + "\nb",
	"\xff\xfe SELECT \xc3",
	"SELECT \xe6\x97",
}

// FuzzErrorText checks that ErrorText never panics whatever the error
// position and query (positions out of range, negative, past the end, in
// the middle of a multibyte character's line, internal positions with and
// without an internal query), that every line ends with a newline, that a
// LINE display is followed by a caret line, and that valid UTF-8 in gives
// valid UTF-8 out (the display is cut only between characters).
func FuzzErrorText(f *testing.F) {
	for i, q := range errorTextSeeds {
		n := int32(utf8.RuneCountInString(q))
		f.Add(q, int32(1), "", int32(0), "syntax error")
		f.Add(q, n, "", int32(0), "x")
		f.Add(q, n+1, "", int32(0), "x")
		f.Add(q, n+2, "", int32(0), "x")
		f.Add(q, int32(i*7%(int(n)+1)), q, int32(i), "m\nmore")
		f.Add("SELECT f()", int32(0), q, n/2+1, "internal")
		f.Add("SELECT f()", int32(0), "", n, "no internal query")
		f.Add(q, int32(-5), q, int32(-1), "")
	}
	f.Fuzz(func(t *testing.T, query string, pos int32, internalQuery string, internalPos int32, msg string) {
		e := &pgconn.PgError{
			Severity: "ERROR", Code: "42601", Message: msg,
			Position: pos, InternalPosition: internalPos, InternalQuery: internalQuery,
			Detail: "d", Where: "w",
		}
		out := ErrorText(e, query)
		if !strings.HasSuffix(out, "\n") {
			t.Fatalf("ErrorText(pos %d, %q; ipos %d, %q) = %q: no final newline", pos, query, internalPos, internalQuery, out)
		}
		if utf8.ValidString(query) && utf8.ValidString(internalQuery) && utf8.ValidString(msg) && !utf8.ValidString(out) {
			t.Fatalf("ErrorText(pos %d, %q; ipos %d, %q) = %q: invalid UTF-8 from valid input", pos, query, internalPos, internalQuery, out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, "LINE ") || strings.Contains(msg+internalQuery, "LINE ") || i == 0 {
				continue
			}
			if i+1 >= len(lines) || strings.TrimLeft(lines[i+1], " ") != "^" {
				t.Fatalf("ErrorText(pos %d, %q; ipos %d, %q) = %q: LINE display without a caret line", pos, query, internalPos, internalQuery, out)
			}
			break
		}
		// Wrapped, the same error must word the same way.
		if again := ErrorText(fmt.Errorf("wrapped: %w", e), query); again != out {
			t.Fatalf("ErrorText of a wrapped error differs: %q vs %q", again, out)
		}
	})
}
