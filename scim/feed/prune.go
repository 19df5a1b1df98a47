package feed

import (
	"context"
	"fmt"
	"time"

	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// pruneBatch bounds the events one DELETE removes, so that a large prune
// never holds SQLite's single writer (or PostgreSQL's row locks) for long.
const pruneBatch = 1000

// Prune deletes the events older than olderThan, with one exception: an
// event that a durable cursor of its tenant has not passed yet (its seq is
// above the cursor's) is kept, until it is also older than f.MaxAge (when
// MaxAge is set). So a webhook receiver that is down for a day loses
// nothing, and one that never comes back does not keep events forever.
// It returns how many events it deleted. The head rows stay: seqs are
// never reused.
func (f *Feed) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	cut := sqlstore.FormatTime(olderThan)
	hard := "" // no stored time sorts below "": held events are kept
	if f.MaxAge > 0 {
		h := f.now().Add(-f.MaxAge)
		if h.After(olderThan) {
			h = olderThan
		}
		hard = sqlstore.FormatTime(h)
	}
	if f.dialect == sqlfilter.SQLite {
		// On SQLite a tenant's last seq is its highest stored event
		// (appendSQLite): remember it in the head row before deleting, so
		// a seq is never handed out twice.
		_, err := f.db.ExecContext(ctx, `INSERT INTO scimforge_event_heads (tenant_id, seq) SELECT tenant_id, MAX(seq) FROM scimforge_events GROUP BY tenant_id `+
			`ON CONFLICT (tenant_id) DO UPDATE SET seq = MAX(scimforge_event_heads.seq, excluded.seq)`)
		if err != nil {
			return 0, fmt.Errorf("feed: prune: %w", err)
		}
	}
	var total int64
	for {
		res, err := f.db.ExecContext(ctx, `DELETE FROM scimforge_events WHERE (tenant_id, seq) IN (`+
			`SELECT e.tenant_id, e.seq FROM scimforge_events e WHERE e.at < ? AND (e.at < ? OR NOT EXISTS (`+
			`SELECT 1 FROM scimforge_event_cursors c WHERE c.tenant_id = e.tenant_id AND c.seq < e.seq)) `+
			`ORDER BY e.at LIMIT ?)`, cut, hard, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("feed: prune: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
