package pgerr

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrorText is err as libpq's PQerrorMessage words it after running query:
// for a server error the severity, the message, a LINE/caret display of the
// error position, then DETAIL, HINT, QUERY and CONTEXT lines; every line
// ends with a newline.
func ErrorText(err error, query string) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		e := AsError(err)
		if e.SQLState == "57014" && !e.Remote {
			return "ERROR:  " + e.Message + "\n"
		}
		return strings.TrimRight(e.Message, "\n") + "\n"
	}
	var b strings.Builder
	if pgErr.Severity != "" {
		b.WriteString(pgErr.Severity + ":  ")
	}
	b.WriteString(pgErr.Message)
	posQuery, pos := "", 0
	if pgErr.Position > 0 {
		posQuery, pos = query, int(pgErr.Position)
	} else if pgErr.InternalPosition > 0 {
		if pgErr.InternalQuery != "" {
			posQuery, pos = pgErr.InternalQuery, int(pgErr.InternalPosition)
		} else {
			b.WriteString(" at character " + strconv.Itoa(int(pgErr.InternalPosition)))
		}
	}
	b.WriteByte('\n')
	if posQuery != "" {
		writeErrorPosition(&b, posQuery, pos)
	}
	var given serverError // the fields the server sent, even empty
	if se := (*serverError)(nil); errors.As(err, &se) {
		given = *se
	}
	for _, f := range []struct {
		label, text string
		given       bool
	}{
		{"DETAIL", pgErr.Detail, given.detail}, {"HINT", pgErr.Hint, given.hint},
		{"QUERY", pgErr.InternalQuery, false}, {"CONTEXT", pgErr.Where, false},
	} {
		if f.text != "" || f.given {
			b.WriteString(f.label + ":  " + f.text + "\n")
		}
	}
	return b.String()
}

// libpq's limits for the LINE display: screen columns, and how far the cut
// stays from the error position.
const (
	positionDisplaySize = 60
	positionMinRightCut = 10
)

// writeErrorPosition is libpq's reportErrorPosition: the line of query
// holding character loc (1-based), cut to fit the screen, and a caret under
// the position.
func writeErrorPosition(b *strings.Builder, query string, loc int) {
	loc--
	if loc < 0 {
		return
	}
	w := []byte(query)
	var qidx, scridx []int
	qoffset, scroffset, locLine, ibeg, iend := 0, 0, 1, 0, -1
	cno := 0
	for ; qoffset < len(w); cno++ {
		ch := w[qoffset]
		qidx = append(qidx, qoffset)
		scridx = append(scridx, scroffset)
		if ch == '\t' {
			w[qoffset] = ' '
		} else if ch == '\r' || ch == '\n' {
			if cno < loc {
				if ch == '\r' || cno == 0 || w[qidx[cno-1]] != '\r' {
					locLine++
				}
				ibeg = cno + 1
			} else {
				iend = cno
				break
			}
		}
		r, size := utf8.DecodeRune(w[qoffset:])
		scroffset += displayWidth(r)
		qoffset += size
	}
	if iend < 0 {
		iend = cno
		qidx = append(qidx, qoffset)
		scridx = append(scridx, scroffset)
	}
	if loc > cno {
		return
	}
	begTrunc, endTrunc := false, false
	if scridx[iend]-scridx[ibeg] > positionDisplaySize {
		if scridx[ibeg]+positionDisplaySize >= scridx[loc]+positionMinRightCut {
			for scridx[iend]-scridx[ibeg] > positionDisplaySize {
				iend--
			}
			endTrunc = true
		} else {
			for scridx[loc]+positionMinRightCut < scridx[iend] {
				iend--
				endTrunc = true
			}
			for scridx[iend]-scridx[ibeg] > positionDisplaySize {
				ibeg++
				begTrunc = true
			}
		}
	}
	prefix := "LINE " + strconv.Itoa(locLine) + ": "
	if begTrunc {
		prefix += "..."
	}
	b.WriteString(prefix)
	b.Write(w[qidx[ibeg]:qidx[iend]])
	if endTrunc {
		b.WriteString("...")
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", len(prefix)+scridx[loc]-scridx[ibeg]))
	b.WriteString("^\n")
}

// displayWidth approximates libpq's pg_encoding_dsplen for UTF-8: two
// columns for East Asian wide characters, one otherwise.
func displayWidth(r rune) int {
	switch {
	case r >= 0x1100 && (r <= 0x115f || r == 0x2329 || r == 0x232a ||
		(r >= 0x2e80 && r <= 0xa4cf && r != 0x303f) ||
		(r >= 0xac00 && r <= 0xd7a3) ||
		(r >= 0xf900 && r <= 0xfaff) ||
		(r >= 0xfe30 && r <= 0xfe6f) ||
		(r >= 0xff00 && r <= 0xff5f) ||
		(r >= 0xffe0 && r <= 0xffe6) ||
		(r >= 0x20000 && r <= 0x2ffff)):
		return 2
	}
	return 1
}
