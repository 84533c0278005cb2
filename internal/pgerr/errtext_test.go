package pgerr

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// position is the server's error position of word in query: 1-based, in
// characters.
func position(query, word string) int32 {
	return int32(utf8.RuneCountInString(query[:strings.Index(query, word)]) + 1)
}

// The expected texts are psql's (libpq's reportErrorPosition) for the same
// statements.
func TestErrorTextPosition(t *testing.T) {
	long1 := "SELECT 1 FROM pg_class WHERE relname = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AND nosuch = 1 AND relkind = 'r' AND relnamespace = 11"
	long2 := "SELECT 1 FROM pg_class WHERE nosuch = 1 AND relname = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AND relkind = 'r'"
	wide := "SELECT\t1,\t'日本語日本語', nosuch"
	lines := "SELECT 1\nFROM pg_class\nWHERE nosuch = 1"
	for _, tc := range []struct {
		name, query, want string
	}{
		{"short", "SELECT nosuch FROM pg_class",
			"ERROR:  column \"nosuch\" does not exist\n" +
				"LINE 1: SELECT nosuch FROM pg_class\n" +
				"               ^\n"},
		{"cut both sides", long1,
			"ERROR:  column \"nosuch\" does not exist\n" +
				"LINE 1: ...aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AND nosuch = 1...\n" +
				"                                                             ^\n"},
		{"cut right", long2,
			"ERROR:  column \"nosuch\" does not exist\n" +
				"LINE 1: SELECT 1 FROM pg_class WHERE nosuch = 1 AND relname = 'aaaaa...\n" +
				"                                     ^\n"},
		{"tabs and wide characters", wide,
			"ERROR:  column \"nosuch\" does not exist\n" +
				"LINE 1: SELECT 1, '日本語日本語', nosuch\n" +
				"                                  ^\n"},
		{"third line", lines,
			"ERROR:  column \"nosuch\" does not exist\n" +
				"LINE 3: WHERE nosuch = 1\n" +
				"              ^\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := &pgconn.PgError{Severity: "ERROR", Code: "42703", Message: `column "nosuch" does not exist`, Position: position(tc.query, "nosuch")}
			if got := ErrorText(err, tc.query); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestErrorTextFields(t *testing.T) {
	err := &pgconn.PgError{Severity: "ERROR", Code: "23505", Message: "duplicate key value violates unique constraint \"k\"",
		Detail: "Key (id)=(1) already exists.", Hint: "h", Where: "SQL function \"f\""}
	want := "ERROR:  duplicate key value violates unique constraint \"k\"\nDETAIL:  Key (id)=(1) already exists.\nHINT:  h\nCONTEXT:  SQL function \"f\"\n"
	if got := ErrorText(err, "COMMIT"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := ErrorText(LostConnection, "x"), LostConnection.Message+"\n"; got != want {
		t.Errorf("lost connection: got %q, want %q", got, want)
	}
	if got, want := ErrorText(context.Canceled, "x"), "ERROR:  canceling statement due to user request\n"; got != want {
		t.Errorf("cancelled: got %q, want %q", got, want)
	}
	if got := ErrorText(errors.New("boom"), "x"); got != "boom\n" {
		t.Errorf("other: got %q", got)
	}
}
