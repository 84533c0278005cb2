package conn

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// rowsSink collects a query's rows.
type rowsSink struct{ rows [][]string }

func (k *rowsSink) Rows(b *Batch) bool       { k.rows = append(k.rows, batchRows(b)...); return true }
func (k *rowsSink) Command(int, string) bool { return true }
func (k *rowsSink) ResultEnd(int) bool       { return true }

// A reused connection's reset and the call's statement go out in one
// write, DISCARD ALL first, and both answers are read in turn: how the
// reset ends decides whether the connection may be kept (ResetDone), must
// be dropped after the statement ran (ResetRefused; also when the answer
// is not the reset's), or broke before either ran (ResetBroken).
func TestQueryReset(t *testing.T) {
	sent, _ := (&pgproto3.Query{String: "DISCARD ALL"}).Encode(nil)
	sent, _ = (&pgproto3.Query{String: "SELECT 1"}).Encode(sent)
	resetOK := encode(t, &pgproto3.CommandComplete{CommandTag: []byte("DISCARD ALL")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	resetRefused := encode(t, &pgproto3.ErrorResponse{Severity: "ERROR", Code: "25001", Message: "no"}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	answer := encode(t,
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("a")}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("1")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
	for _, tc := range []struct {
		name  string
		reply []byte // nil: the server hangs up
		want  ResetOutcome
		rows  int
	}{
		{"done", append(append([]byte{}, resetOK...), answer...), ResetDone, 1},
		{"refused", append(append([]byte{}, resetRefused...), answer...), ResetRefused, 1},
		{"broken", nil, ResetBroken, 0},
		// a server out of step: a row answer where the reset's belongs
		// (one it owed from before) must not become the statement's
		{"out of step", append(append([]byte{}, answer...), resetOK...), ResetRefused, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sc := tcpConn(t)
			go func() {
				got := make([]byte, len(sent))
				if _, err := io.ReadFull(sc, got); err != nil || !bytes.Equal(got, sent) {
					t.Errorf("the server read %q (%v), want both queries", got, err)
				}
				if tc.reply == nil {
					sc.Close()
					return
				}
				sc.Write(tc.reply)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var k rowsSink
			out, err, how := c.QueryReset(ctx, "SELECT 1", ModeRows, &k)
			if how != tc.want || len(k.rows) != tc.rows {
				t.Fatalf("outcome %v, rows %v, want %v and %d rows (%+v, %v)", how, k.rows, tc.want, tc.rows, out, err)
			}
			switch {
			case tc.rows == 0 && how != ResetBroken:
				if err == nil || !c.IsClosed() {
					t.Fatalf("out of step: error %v, closed %v", err, c.IsClosed())
				}
			case how != ResetBroken && (err != nil || out.Tag != "SELECT 1"):
				t.Fatalf("the statement's outcome: %+v %v", out, err)
			}
			if reusable := how == ResetDone && c.TxStatus() == 'I' && !c.IsClosed(); reusable != (tc.want == ResetDone) {
				t.Fatalf("reusable %v after %v", reusable, how)
			}
		})
	}
}
