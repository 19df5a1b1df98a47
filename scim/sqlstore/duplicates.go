package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// Duplicated values. A unique index (userName, or any attribute the schema
// marks uniqueness "server") can meet stored data that breaks it in two
// ways: a migration makes an existing column unique (its CREATE UNIQUE
// INDEX fails at start), or a new unique column is added empty and filled
// by scimforge reindex (its writes fail). Either way the operator needs the
// values and the resources that share them, not the database's one-line
// error, so both paths list them with Duplicates.

// UniqueIndex is a unique index of the migration history.
type UniqueIndex struct {
	Name    string
	Table   string
	Columns []string // tenant_id first
	// Owner is the column naming the resource a row belongs to: "id" in a
	// resource's table, the parent column in a child table.
	Owner string
}

// UniqueIndexes are the unique indexes the migration history leaves.
func (db *DB) UniqueIndexes() []UniqueIndex { return db.unique }

// Duplicate is one value held by more than one resource of a tenant,
// against a unique index.
type Duplicate struct {
	Index   string   `json:"index"`
	Table   string   `json:"table"`
	Columns []string `json:"columns"` // without tenant_id
	Tenant  string   `json:"tenant"`
	Values  []string `json:"values"` // one per column
	Count   int      `json:"count"`
	IDs     []string `json:"ids"` // at most MaxDuplicateIDs, sorted
}

// Bounds of a duplicates report: the point is to show the operator what to
// fix, not to copy a broken table to the terminal.
const (
	MaxDuplicateIDs    = 20  // ids listed per value
	maxDuplicateGroups = 100 // values listed per index
)

// Duplicates lists, for each of indexes, the values that more than one row
// of a tenant holds (rows with a NULL in the key are exempt, as they are
// from the index). Run it in tx, e.g. one in which the indexes were
// dropped and the rows rewritten.
func (db *DB) Duplicates(ctx context.Context, tx bun.Tx, indexes []UniqueIndex) ([]Duplicate, error) {
	return findDuplicates(ctx, tx.Tx, db.Dialect, indexes)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func findDuplicates(ctx context.Context, q queryer, dialect sqlfilter.Dialect, indexes []UniqueIndex) ([]Duplicate, error) {
	var out []Duplicate
	for _, ix := range indexes {
		d, err := duplicatesOf(ctx, q, dialect, ix)
		if err != nil {
			return nil, fmt.Errorf("look for duplicates of %s: %w", ix.Name, err)
		}
		out = append(out, d...)
	}
	return out, nil
}

func duplicatesOf(ctx context.Context, q queryer, dialect sqlfilter.Dialect, ix UniqueIndex) ([]Duplicate, error) {
	if len(ix.Columns) < 2 || ix.Columns[0] != TenantColumn || ix.Owner == "" {
		return nil, nil // not a per-tenant index of ours: nothing to say
	}
	cols := ix.Columns[1:]
	key := make([]string, len(ix.Columns))
	notNull := make([]string, len(cols))
	for i, c := range ix.Columns {
		key[i] = QuoteIdent(c)
	}
	for i, c := range cols {
		notNull[i] = QuoteIdent(c) + " IS NOT NULL"
	}
	agg := "group_concat(" + QuoteIdent(ix.Owner) + ", ',')"
	if dialect == sqlfilter.Postgres {
		agg = "string_agg(" + QuoteIdent(ix.Owner) + ", ',' ORDER BY " + QuoteIdent(ix.Owner) + ")"
	}
	text := fmt.Sprintf(`SELECT %s, count(*), %s FROM %s WHERE %s GROUP BY %s HAVING count(*) > 1 ORDER BY count(*) DESC, %s LIMIT %d`,
		strings.Join(key, ", "), agg, QuoteIdent(ix.Table), strings.Join(notNull, " AND "),
		strings.Join(key, ", "), strings.Join(key, ", "), maxDuplicateGroups)
	if dialect == sqlfilter.Postgres {
		text = rebindPostgres(text)
	}
	rows, err := q.QueryContext(ctx, text)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Duplicate
	for rows.Next() {
		vals := make([]any, len(ix.Columns))
		var count int
		var ids string
		dest := make([]any, 0, len(vals)+2)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &count, &ids)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		d := Duplicate{Index: ix.Name, Table: ix.Table, Columns: cols, Tenant: valueText(vals[0]), Count: count}
		for _, v := range vals[1:] {
			d.Values = append(d.Values, valueText(v))
		}
		d.IDs = strings.Split(ids, ",")
		sort.Strings(d.IDs)
		if len(d.IDs) > MaxDuplicateIDs {
			d.IDs = d.IDs[:MaxDuplicateIDs]
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// valueText renders a scanned column value.
func valueText(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	case nil:
		return "NULL"
	}
	return fmt.Sprint(v)
}

// FormatDuplicates renders dups one value a line, indented by indent.
func FormatDuplicates(dups []Duplicate, indent string) string {
	var b strings.Builder
	for _, d := range dups {
		vals := make([]string, len(d.Values))
		for i, v := range d.Values {
			vals[i] = fmt.Sprintf("%q", v)
		}
		more := ""
		if d.Count > len(d.IDs) {
			more = fmt.Sprintf(" (and %d more)", d.Count-len(d.IDs))
		}
		fmt.Fprintf(&b, "%s%s.%s = %s in tenant %q: %d rows, ids %s%s\n", indent, d.Table, strings.Join(d.Columns, ","),
			strings.Join(vals, ","), d.Tenant, d.Count, strings.Join(d.IDs, ", "), more)
	}
	return b.String()
}

// DuplicatesError is a migration that could not create a unique index
// because stored values break it. Nothing was changed: the migration
// rolled back and will run again at the next start.
type DuplicatesError struct {
	Err        error
	Duplicates []Duplicate
}

func (e *DuplicatesError) Error() string {
	return fmt.Sprintf("%v\nThe migration adds a unique index, but these stored values are held by more than one resource:\n%s"+
		"Nothing was changed. Make the values unique with the build that runs now (PATCH, PUT or DELETE the resources "+
		"through the API; the listed ids are SCIM ids), or keep the attribute's uniqueness \"none\", then start this build again.",
		e.Err, FormatDuplicates(e.Duplicates, "  "))
}

func (e *DuplicatesError) Unwrap() error { return e.Err }

// explainMigration turns a migration that failed on a unique violation
// into a DuplicatesError listing the stored duplicates of the history's
// unique indexes (those whose columns exist yet); any other error, or one
// it cannot explain, is returned as it is.
func explainMigration(ctx context.Context, sqldb *sql.DB, dialect sqlfilter.Dialect, migrations fs.FS, err error) error {
	if _, ok := UniqueViolation(err); !ok {
		return err
	}
	sh, herr := readHistory(migrations)
	if herr != nil {
		return err
	}
	var indexes []UniqueIndex
	for _, ix := range sh.uniqueIndexes() {
		have, cerr := tableColumns(ctx, sqldb, dialect, ix.Table)
		if cerr != nil {
			return err
		}
		if containsAll(have, append([]string{ix.Owner}, ix.Columns...)) {
			indexes = append(indexes, ix)
		}
	}
	dups, derr := findDuplicates(ctx, sqldb, dialect, indexes)
	if derr != nil || len(dups) == 0 {
		return err
	}
	return &DuplicatesError{Err: err, Duplicates: dups}
}

func containsAll(have, want []string) bool {
	set := map[string]bool{}
	for _, c := range have {
		set[c] = true
	}
	for _, c := range want {
		if !set[c] {
			return false
		}
	}
	return true
}

// tableColumns lists table's columns through q (nil when there is no such table).
func tableColumns(ctx context.Context, q queryer, dialect sqlfilter.Dialect, table string) ([]string, error) {
	text := "SELECT name FROM pragma_table_info(?)"
	if dialect == sqlfilter.Postgres {
		text = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
	}
	rows, err := q.QueryContext(ctx, text, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}
