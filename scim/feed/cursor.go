package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

// A durable cursor is a consumer's position in one tenant's feed: the seq
// of the last event it has processed (0: none). It is a row of
// scimforge_event_cursors, so it survives restarts, and it registers the
// consumer with retention: Prune keeps the events a cursor has not passed
// (up to Feed.MaxAge). Delete the cursor of a consumer you retire.

// Cursor returns the position of cursor name in tenant's feed; 0 when the
// cursor does not exist (start from the oldest event kept).
func (f *Feed) Cursor(ctx context.Context, name, tenant string) (int64, error) {
	return Cursor(ctx, f.db, name, tenant)
}

// Commit moves cursor name of tenant to seq, creating it if needed. A
// cursor never moves back: committing a seq at or below its position
// changes nothing (so that a late, redelivered batch cannot rewind it).
func (f *Feed) Commit(ctx context.Context, name, tenant string, seq int64) error {
	return Commit(ctx, f.db, name, tenant, seq)
}

// DeleteCursor removes cursor name of tenant (it no longer holds events
// back from Prune). It is not an error if there is none.
func (f *Feed) DeleteCursor(ctx context.Context, name, tenant string) error {
	_, err := f.db.ExecContext(ctx, `DELETE FROM scimforge_event_cursors WHERE name = ? AND tenant_id = ?`, name, tenant)
	return err
}

// Cursor is Feed.Cursor on db (a store or a transaction).
func Cursor(ctx context.Context, db bun.IDB, name, tenant string) (int64, error) {
	var seq int64
	err := db.QueryRowContext(ctx, `SELECT seq FROM scimforge_event_cursors WHERE name = ? AND tenant_id = ?`, name, tenant).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("feed: cursor %s of %s: %w", name, tenant, err)
	}
	return seq, nil
}

// Commit is Feed.Commit on db: given the transaction in which a consumer
// writes what it did with the events, the cursor moves in the same commit
// (exactly-once processing).
func Commit(ctx context.Context, db bun.IDB, name, tenant string, seq int64) error {
	if name == "" || tenant == "" {
		return errors.New("feed: a cursor needs a name and a tenant")
	}
	if seq < 0 {
		return fmt.Errorf("feed: cursor %s of %s: negative seq %d", name, tenant, seq)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO scimforge_event_cursors (name, tenant_id, seq, updated) VALUES (?, ?, ?, ?) `+
		`ON CONFLICT (name, tenant_id) DO UPDATE SET seq = excluded.seq, updated = excluded.updated `+
		`WHERE scimforge_event_cursors.seq < excluded.seq`, name, tenant, seq, sqlstore.FormatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("feed: commit cursor %s of %s: %w", name, tenant, err)
	}
	return nil
}

// register creates cursor name at 0 for every tenant that has events but
// no such cursor, so that Prune keeps their events for this consumer from
// the start.
func (f *Feed) register(ctx context.Context, name string) error {
	_, err := f.db.ExecContext(ctx, `INSERT INTO scimforge_event_cursors (name, tenant_id, seq, updated) `+
		`SELECT ?, h.tenant_id, 0, ? FROM scimforge_event_heads h `+
		`WHERE NOT EXISTS (SELECT 1 FROM scimforge_event_cursors c WHERE c.name = ? AND c.tenant_id = h.tenant_id) `+
		`ON CONFLICT (name, tenant_id) DO NOTHING`, name, sqlstore.FormatTime(f.now()), name)
	return err
}

// PurgeTenant deletes tenant's events and cursors in tx, the transaction
// that removes the tenant (scimforge tenant remove). Its head row stays: a
// tenant added again under that name goes on numbering after it, so a
// consumer that kept its position never takes new events for old ones.
func PurgeTenant(ctx context.Context, tx bun.IDB, tenant string) error {
	// The head row keeps the last seq (on SQLite it lags, see
	// appendSQLite), so a tenant added again later never reuses one.
	last := `(SELECT COALESCE(MAX(seq), 0) FROM scimforge_events WHERE tenant_id = ?)`
	if _, err := tx.ExecContext(ctx, `UPDATE scimforge_event_heads SET seq = `+last+` WHERE tenant_id = ? AND seq < `+last, tenant, tenant, tenant); err != nil {
		return fmt.Errorf("feed: purge tenant %s: %w", tenant, err)
	}
	for _, q := range []string{
		`DELETE FROM scimforge_events WHERE tenant_id = ?`,
		`DELETE FROM scimforge_event_cursors WHERE tenant_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, tenant); err != nil {
			return fmt.Errorf("feed: purge tenant %s: %w", tenant, err)
		}
	}
	return nil
}
