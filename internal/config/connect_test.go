package config

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"
)

// testConnect runs the whole connect sequence (Prepare, then
// Plan.Connect), as conn.Connect does.
func testConnect(ctx context.Context, connstr string, s Settings) (*pgconn.PgConn, error) {
	p, err := Prepare(connstr, s)
	if err != nil {
		return nil, err
	}
	pg, _, err := p.Connect(ctx, Hooks{})
	return pg, err
}
