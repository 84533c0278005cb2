package conn

import (
	"context"
)

// Mode says how Query treats the results of a query string.
type Mode int

const (
	// ModeRows streams the rows of every result (dblink()).
	ModeRows Mode = iota
	// ModeExec keeps only the last result's command tag (dblink_exec()).
	ModeExec
)

// Batch is a run of rows of one result in text format, packed for a single
// copy across the cgo boundary: value (r, c) is the NUL-terminated bytes at
// Data[Offsets[r*NCols+c]:], or SQL NULL when that offset is -1.
type Batch struct {
	ResultNo int // which result of the query string, from 1
	NCols    int
	NRows    int
	Offsets  []int32
	Data     []byte
	Styles   Styles // the remote's styles as reported when the result began
}

// Sink receives what a query streams. Each method returns false when the
// receiver has gone away; Query then stops (its ctx is cancelled too).
//
// Rows must not keep b after it returns: Query reuses its buffers for the
// next batch, so a big result makes no garbage.
type Sink interface {
	Rows(b *Batch) bool
	Command(resultNo int, tag string) bool
	// ResultEnd follows the last Rows of each row result.
	ResultEnd(resultNo int) bool
}

// Outcome is how a query string ended.
type Outcome struct {
	Tag     string // the last result's command tag
	HadRows bool   // the last result was a row result
	// Styles are the remote's DateStyle and IntervalStyle once the query
	// string ended. A server of version 14 or later reports a change only
	// then (before ReadyForQuery), so these, not those of Batch, are the
	// styles of a later result of a multi-statement string.
	Styles Styles
}

// Styles are the remote settings that shape date and interval output.
type Styles struct {
	DateStyle     string
	IntervalStyle string
}

// Batches are cut at whichever limit comes first, so a batch stays around a
// megabyte whatever the row width: two of them in flight bound memory.
const (
	batchBytes  = 128 << 10
	batchValues = 8 << 10
)

// Query runs sql (one or more statements, simple protocol, text results)
// and streams its results to sink. Cancelling ctx sends a cancel request to
// the remote server; the connection normally stays usable.
func (c *Conn) Query(ctx context.Context, sql string, mode Mode, sink Sink) (Outcome, error) {
	if err := c.acquire(ctx); err != nil {
		return Outcome{}, err
	}
	defer c.release()
	return c.query(ctx, sql, mode, sink)
}

// query is Query on a connection the caller holds.
func (c *Conn) query(ctx context.Context, sql string, mode Mode, sink Sink) (Outcome, error) {
	if c.pg.IsClosed() {
		return Outcome{}, lostConnection
	}

	var out Outcome
	resultNo := 0
	stopped := false
	mrr := c.pg.Exec(ctx, sql)
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		resultNo++
		fields := rr.FieldDescriptions()
		if fields == nil {
			tag, err := rr.Close()
			if err != nil {
				break
			}
			if tag.String() == "" {
				// An EmptyQueryResponse: contrib reports an empty query string
				// as a remote error without a message.
				mrr.Close()
				return Outcome{}, &Error{SQLState: "08006", Remote: true}
			}
			out = Outcome{Tag: tag.String()}
			if mode == ModeRows && !stopped && !sink.Command(resultNo, out.Tag) {
				stopped = true
			}
			continue
		}
		out = Outcome{HadRows: true}
		if mode == ModeExec || stopped {
			rr.Close()
			continue
		}
		b := c.newBatch(resultNo, len(fields))
		announced := false
		for rr.NextRow() {
			b.add(rr.Values())
			if len(b.Data) >= batchBytes || len(b.Offsets) >= batchValues {
				if !sink.Rows(b) {
					stopped = true
					break
				}
				announced = true
				b.reset()
			}
		}
		tag, err := rr.Close()
		if err != nil {
			// contrib returns the rows that arrived before a mid-result
			// error (with fail_on_error = false): hand them over too.
			if !stopped && b.NRows > 0 {
				sink.Rows(b)
			}
			break
		}
		out.Tag = tag.String()
		if !stopped && (b.NRows > 0 || !announced) && !sink.Rows(b) {
			stopped = true
		}
		if !stopped && !sink.ResultEnd(resultNo) {
			stopped = true
		}
	}
	err := mrr.Close()
	out.Styles = c.styles()
	if err != nil {
		return out, err
	}
	if stopped && ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, nil
}

func (c *Conn) newBatch(resultNo, ncols int) *Batch {
	return &Batch{ResultNo: resultNo, NCols: ncols, Styles: c.styles()}
}

// styles are the remote's styles as last reported.
func (c *Conn) styles() Styles {
	return Styles{DateStyle: c.pg.ParameterStatus("DateStyle"), IntervalStyle: c.pg.ParameterStatus("IntervalStyle")}
}

// reset empties b for the next rows of the same result, keeping its buffers.
func (b *Batch) reset() {
	b.NRows = 0
	b.Offsets = b.Offsets[:0]
	b.Data = b.Data[:0]
}

// add appends one row.
func (b *Batch) add(values [][]byte) {
	for _, v := range values {
		if v == nil {
			b.Offsets = append(b.Offsets, -1)
			continue
		}
		b.Offsets = append(b.Offsets, int32(len(b.Data)))
		b.Data = append(b.Data, v...)
		b.Data = append(b.Data, 0)
	}
	b.NRows++
}
