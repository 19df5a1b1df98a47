package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// Snapshot tells what a rewrite of tables changed: it copies them into
// temporary tables in the rewrite's transaction, and Changes compares the
// copies with the tables afterwards, set against set (EXCEPT), so that the
// comparison costs two scans instead of a query per row. scimforge reindex
// uses it to report which search columns and child rows were stale.
type Snapshot struct {
	db     *DB
	tables []snapTable
}

// SnapshotTable is one table to compare.
type SnapshotTable struct {
	Name string
	// Owner is the column naming the resource a row belongs to ("id", or
	// the parent column of a child table).
	Owner string
	// Skip lists columns left out of the comparison (e.g. doc, which the
	// caller compares itself).
	Skip []string
}

type snapTable struct {
	SnapshotTable
	copy string   // the temporary table
	cols []string // compared columns, quoted, with the collation that compares bytes
}

// TableChange counts the rows of one table that a rewrite added and
// removed (an updated row is one of each).
type TableChange struct {
	Table   string `json:"table"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
}

// ResourceKey names one resource: its tenant and id.
type ResourceKey struct{ Tenant, ID string }

// TakeSnapshot copies tables (every tenant's rows) in tx.
func (db *DB) TakeSnapshot(ctx context.Context, tx bun.Tx, tables []SnapshotTable) (*Snapshot, error) {
	s := &Snapshot{db: db}
	for i, t := range tables {
		have, err := tableColumns(ctx, tx.Tx, db.Dialect, t.Name)
		if err != nil {
			return nil, err
		}
		st := snapTable{SnapshotTable: t, copy: fmt.Sprintf("scimforge_snapshot_%d", i)}
		for _, c := range have {
			if slices.Contains(t.Skip, c) {
				continue
			}
			q := QuoteIdent(c)
			if db.Dialect == sqlfilter.SQLite {
				// A NOCASE column would compare "Alice" and "alice" as
				// equal, hiding exactly the folding fixes to report.
				q += " COLLATE BINARY AS " + QuoteIdent(c)
			}
			st.cols = append(st.cols, q)
		}
		create := "CREATE TEMP TABLE " + QuoteIdent(st.copy)
		if db.Dialect == sqlfilter.Postgres {
			create += " ON COMMIT DROP"
		}
		create += " AS SELECT " + strings.Join(st.cols, ", ") + " FROM " + QuoteIdent(t.Name)
		if _, err := tx.Tx.ExecContext(ctx, create); err != nil {
			return nil, fmt.Errorf("snapshot of %s: %w", t.Name, err)
		}
		s.tables = append(s.tables, st)
	}
	return s, nil
}

// Changes compares each table with its copy: the rows added and removed
// per table, and the resources any of them belong to.
func (s *Snapshot) Changes(ctx context.Context, tx bun.Tx) ([]TableChange, map[ResourceKey]bool, error) {
	changed := map[ResourceKey]bool{}
	var out []TableChange
	for _, t := range s.tables {
		list := strings.Join(t.cols, ", ")
		now := "SELECT " + list + " FROM " + QuoteIdent(t.Name)
		before := "SELECT " + list + " FROM " + QuoteIdent(t.copy)
		owner := QuoteIdent(TenantColumn) + ", " + QuoteIdent(t.Owner)
		q := "SELECT 1, " + owner + " FROM (" + now + " EXCEPT " + before + ") AS a UNION ALL " +
			"SELECT 0, " + owner + " FROM (" + before + " EXCEPT " + now + ") AS r"
		rows, err := tx.Tx.QueryContext(ctx, q)
		if err != nil {
			return nil, nil, fmt.Errorf("compare %s: %w", t.Name, err)
		}
		tc := TableChange{Table: t.Name}
		for rows.Next() {
			var added int
			var k ResourceKey
			if err := rows.Scan(&added, &k.Tenant, &k.ID); err != nil {
				rows.Close()
				return nil, nil, err
			}
			if added == 1 {
				tc.Added++
			} else {
				tc.Removed++
			}
			changed[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		out = append(out, tc)
	}
	return out, changed, nil
}

// Drop removes the copies (on PostgreSQL they go with the transaction
// anyway; SQLite keeps temporary tables for the connection's life).
func (s *Snapshot) Drop(ctx context.Context, tx bun.Tx) error {
	for _, t := range s.tables {
		if _, err := tx.Tx.ExecContext(ctx, "DROP TABLE "+QuoteIdent(t.copy)); err != nil {
			return err
		}
	}
	return nil
}
