package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

// Reindexing. The stored document is the truth; the search columns and the
// child rows are derived from it when a resource is written. When the way
// they are derived changes (an attribute becomes caseExact false and its
// column must hold the folded value, a new attribute gets a column or a
// child table, uniqueness is added), the rows already stored keep the old
// derivation until rewritten. Reindex rewrites them from the documents,
// for every tenant, without changing any resource: version, ETag and
// lastModified stay, since the representation does not change.

// Reindexer is a resource type's service as scimforge reindex uses it;
// *Service[T] implements it, so callers reach it through the generated
// api.Server's Endpoints() with a type assertion.
type Reindexer interface {
	Type() *schema.ResourceType
	Reindex(ctx context.Context, check bool) (*ReindexReport, error)
}

var _ Reindexer = (*Service[struct{}])(nil)

// ReindexReport is what Reindex did (or, with Check, would do) to one
// resource type.
type ReindexReport struct {
	Type  string `json:"type"`
	Check bool   `json:"check"` // rolled back: nothing was written
	// Resources is the number of resources read and rewritten.
	Resources int `json:"resources"`
	// Docs counts the stored documents that were not in canonical form
	// (e.g. written before a returned:"never" attribute was left out) and
	// were re-encoded.
	Docs int `json:"docs"`
	// Changed counts the resources whose search columns or child rows
	// differed from what their document derives; Sample names a few.
	Changed int                    `json:"changed"`
	Sample  []string               `json:"sample,omitempty"`
	Tables  []sqlstore.TableChange `json:"tables,omitempty"`
	// Duplicates, when set, are values that more than one resource of a
	// tenant would hold in a unique column: the rewrite was rolled back
	// and nothing was changed.
	Duplicates []sqlstore.Duplicate `json:"duplicates,omitempty"`
	Elapsed    time.Duration        `json:"elapsed"`
}

// reindexBatch is how many rows one keyset read of the rewrite takes.
const reindexBatch = 500

// sampleSize bounds ReindexReport.Sample.
const sampleSize = 10

// errRollback ends a transaction whose work is to be undone (--check, or
// the search for duplicates).
var errRollback = errors.New("rolled back on purpose")

// Reindex rewrites the search columns and child rows of every resource of
// this type, of every tenant, from its stored document, and re-encodes
// documents that are not canonical. It runs in one transaction, so a
// failure leaves the type as it was: on SQLite the server answers other
// requests after it (one connection); on PostgreSQL other writes of this
// type wait for it (its rows are locked as they are read) and reads do not.
// With check the transaction is always rolled back: the report says what
// would change. Group memberships are rows of their own, not derived from
// documents, and are left alone.
//
// A rewrite that breaks a unique index (a new unique column filled from
// documents that share a value) is rolled back, and the report lists the
// duplicates instead; the error is nil then.
func (s *Service[T]) Reindex(ctx context.Context, check bool) (*ReindexReport, error) {
	start := time.Now()
	rep := &ReindexReport{Type: s.d.Type.Name, Check: check}
	err := s.db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// PostgreSQL may run this again after a deadlock: start afresh.
		*rep = ReindexReport{Type: s.d.Type.Name, Check: check}
		snap, err := s.db.TakeSnapshot(ctx, tx, s.reindexTables())
		if err != nil {
			return err
		}
		if err := s.rewrite(ctx, tx, rep); err != nil {
			return err
		}
		tables, changed, err := snap.Changes(ctx, tx)
		if err != nil {
			return err
		}
		rep.Tables = tables
		rep.Changed = len(changed)
		rep.Sample = sample(changed)
		if check {
			return errRollback
		}
		return snap.Drop(ctx, tx)
	})
	if _, unique := sqlstore.UniqueViolation(err); unique {
		dups, derr := s.duplicates(ctx)
		if derr != nil {
			return nil, fmt.Errorf("%s: %w (and listing the duplicates failed: %v)", s.d.Type.Name, err, derr)
		}
		if len(dups) == 0 {
			return nil, fmt.Errorf("%s: %w", s.d.Type.Name, err)
		}
		*rep = ReindexReport{Type: s.d.Type.Name, Check: check, Duplicates: dups}
		err = errRollback
	}
	if err != nil && !errors.Is(err, errRollback) {
		return nil, fmt.Errorf("reindex %s: %w", s.d.Type.Name, err)
	}
	if err == nil {
		s.forgetCached()
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// reindexTables are the tables a rewrite writes: the main table (its doc
// compared apart) and the child tables, not the membership table.
func (s *Service[T]) reindexTables() []sqlstore.SnapshotTable {
	out := []sqlstore.SnapshotTable{{Name: s.d.Table, Owner: "id", Skip: []string{"doc"}}}
	seen := map[string]bool{s.d.Table: true}
	if ms := s.membership(); ms != nil {
		seen[ms.Table] = true
	}
	for _, a := range s.d.Mapping.Attributes {
		if c := a.Child; c != nil && !seen[c.Table] {
			seen[c.Table] = true
			out = append(out, sqlstore.SnapshotTable{Name: c.Table, Owner: c.ParentColumn})
		}
	}
	return out
}

type stored struct {
	tenant, id string
	doc        []byte
}

// rewrite reads every row of the main table in (tenant_id, id) order, in
// batches read inside tx, and writes each one again from its document.
func (s *Service[T]) rewrite(ctx context.Context, tx bun.Tx, rep *ReindexReport) error {
	q := `SELECT "tenant_id", "id", "doc" FROM "` + s.d.Table + `" WHERE ("tenant_id", "id") > (?, ?) ORDER BY "tenant_id", "id" LIMIT ` + fmt.Sprint(reindexBatch)
	if s.db.Dialect == sqlfilter.Postgres {
		// Lock each row as it is read: a request that changes it meanwhile
		// would otherwise have its document overwritten by the older one
		// read here. NO KEY, so that adding the resource to a group (which
		// takes KEY SHARE on it) does not wait.
		q += " FOR NO KEY UPDATE"
	}
	setDoc := `UPDATE "` + s.d.Table + `" SET "doc" = ? WHERE "tenant_id" = ? AND "id" = ?`
	var lastTenant, lastID string
	batch := make([]stored, 0, reindexBatch)
	for {
		batch = batch[:0]
		rows, err := sqlstore.QueryTx(ctx, tx, q, lastTenant, lastID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r stored
			if err := rows.Scan(&r.tenant, &r.id, &r.doc); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			rctx := tenant.With(ctx, r.tenant)
			v, err := s.d.Decode(r.doc)
			if err != nil {
				return fmt.Errorf("%s %s of tenant %s: %w", s.d.Type.Name, r.id, r.tenant, err)
			}
			doc, err := s.d.Encode(v)
			if err != nil {
				return fmt.Errorf("%s %s of tenant %s: %w", s.d.Type.Name, r.id, r.tenant, err)
			}
			if !bytes.Equal(doc, r.doc) {
				if err := sqlstore.Exec(rctx, tx, setDoc, string(doc), r.tenant, r.id); err != nil {
					return err
				}
				rep.Docs++
			}
			// No secrets: the stored password hash stays as it is.
			if err := s.d.Update(rctx, tx, nil, &Record[T]{ID: r.id, Doc: doc, Value: v}); err != nil {
				return err
			}
			rep.Resources++
		}
		last := batch[len(batch)-1]
		lastTenant, lastID = last.tenant, last.id
	}
}

// duplicates finds the values behind a unique violation of the rewrite:
// it drops this type's unique indexes in a transaction, rewrites every
// row, lists the values more than one resource of a tenant holds, and
// rolls everything back. On PostgreSQL the dropped index locks the table
// against reads too while this runs (only when duplicates exist).
func (s *Service[T]) duplicates(ctx context.Context) ([]sqlstore.Duplicate, error) {
	mine := map[string]bool{}
	for _, t := range s.reindexTables() {
		mine[t.Name] = true
	}
	var indexes []sqlstore.UniqueIndex
	for _, ix := range s.db.UniqueIndexes() {
		if mine[ix.Table] {
			indexes = append(indexes, ix)
		}
	}
	if len(indexes) == 0 {
		return nil, nil
	}
	var dups []sqlstore.Duplicate
	err := s.db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, ix := range indexes {
			if _, err := tx.Tx.ExecContext(ctx, "DROP INDEX IF EXISTS "+sqlstore.QuoteIdent(ix.Name)); err != nil {
				return err
			}
		}
		var scratch ReindexReport
		if err := s.rewrite(ctx, tx, &scratch); err != nil {
			return err
		}
		var err error
		dups, err = s.db.Duplicates(ctx, tx, indexes)
		if err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return nil, err
	}
	return dups, nil
}

// forgetCached empties the row cache of what a rewrite may have changed:
// this type's rows, and the rows that show this type's documents in their
// derived members or groups.
func (s *Service[T]) forgetCached() {
	s.db.Cache.InvalidateTable(s.d.Table)
	if s.d.Members != nil {
		for _, t := range s.d.Members.Types {
			s.db.Cache.InvalidateTable(t.Table)
		}
	}
	if s.d.GroupsOf != nil {
		s.db.Cache.InvalidateTable(s.d.GroupsOf.GroupTable)
	}
}

// sample names up to sampleSize of the changed resources, in order.
func sample(changed map[sqlstore.ResourceKey]bool) []string {
	keys := make([]string, 0, len(changed))
	for k := range changed {
		keys = append(keys, k.Tenant+"/"+k.ID)
	}
	sort.Strings(keys)
	if len(keys) > sampleSize {
		keys = keys[:sampleSize]
	}
	return keys
}
