package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// change is the part of a history file's change (migrations/history/*.json,
// written by the generator) that the store reads: tables and columns (to
// verify the database), indexes and foreign keys (to find the rows that
// break a unique index; see duplicates.go), trigram indexes (whose FTS5
// tables verify checks on SQLite).
type change struct {
	Op    string `json:"op"`
	Table string `json:"table"`
	Def   *struct {
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
		Indexes    []historyIndex `json:"indexes"`
		References *struct {
			Columns []string `json:"columns"`
		} `json:"references"`
		Trigrams []historyTrigram `json:"trigramIndexes"`
	} `json:"def"`
	Column *struct {
		Name string `json:"name"`
	} `json:"column"`
	Index   *historyIndex   `json:"index"`
	Trigram *historyTrigram `json:"trigram"`
}

// historyTrigram is a trigram index over one column: on SQLite an FTS5
// table of that name whose one column is named like the indexed one, on
// PostgreSQL a GIN index.
type historyTrigram struct {
	Name   string `json:"name"`
	Column string `json:"column"`
}

type historyIndex struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Unique  bool     `json:"unique"`
}

// shape is the database the migration history builds: every table's
// columns in order, its indexes as the last migration leaves them, and the
// column that names the resource a row belongs to.
type shape struct {
	tables  map[string][]string
	indexes map[string][]historyIndex
	owner   map[string]string // "id" for a resource table, the parent column for a child table
	order   []string          // tables in creation order
	// trigrams maps each trigram index the history leaves to its column.
	// They are not in tables: on SQLite they are FTS5 tables (with shadow
	// tables of their own), not tables holding rows of the resources.
	trigrams map[string]string
}

// readHistory applies the history files in name order.
func readHistory(migrations fs.FS) (*shape, error) {
	names, err := fs.Glob(migrations, "history/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	sh := &shape{tables: map[string][]string{}, indexes: map[string][]historyIndex{}, owner: map[string]string{}, trigrams: map[string]string{}}
	for _, name := range names {
		raw, err := fs.ReadFile(migrations, name)
		if err != nil {
			return nil, err
		}
		var h struct{ Changes []change }
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, c := range h.Changes {
			switch {
			case c.Op == "createTable" && c.Def != nil:
				if _, seen := sh.tables[c.Table]; !seen {
					sh.order = append(sh.order, c.Table)
				}
				for _, col := range c.Def.Columns {
					sh.tables[c.Table] = append(sh.tables[c.Table], col.Name)
					if col.Name == "id" {
						sh.owner[c.Table] = "id"
					}
				}
				if r := c.Def.References; r != nil && sh.owner[c.Table] == "" && len(r.Columns) > 0 {
					sh.owner[c.Table] = r.Columns[len(r.Columns)-1]
				}
				sh.indexes[c.Table] = append(sh.indexes[c.Table], c.Def.Indexes...)
				for _, tg := range c.Def.Trigrams {
					sh.trigrams[tg.Name] = tg.Column
				}
			case c.Op == "addColumn" && c.Column != nil:
				sh.tables[c.Table] = append(sh.tables[c.Table], c.Column.Name)
			case c.Op == "createIndex" && c.Index != nil:
				sh.indexes[c.Table] = append(dropIndex(sh.indexes[c.Table], c.Index.Name), *c.Index)
			case c.Op == "dropIndex" && c.Index != nil:
				sh.indexes[c.Table] = dropIndex(sh.indexes[c.Table], c.Index.Name)
			case c.Op == "createTrigramIndex" && c.Trigram != nil:
				sh.trigrams[c.Trigram.Name] = c.Trigram.Column
			case c.Op == "dropTrigramIndex" && c.Trigram != nil:
				delete(sh.trigrams, c.Trigram.Name)
			}
		}
	}
	return sh, nil
}

func dropIndex(ixs []historyIndex, name string) []historyIndex {
	out := ixs[:0:0]
	for _, ix := range ixs {
		if ix.Name != name {
			out = append(out, ix)
		}
	}
	return out
}

// uniqueIndexes are the unique indexes the history leaves, in table
// creation order.
func (sh *shape) uniqueIndexes() []UniqueIndex {
	var out []UniqueIndex
	for _, t := range sh.order {
		for _, ix := range sh.indexes[t] {
			if ix.Unique {
				out = append(out, UniqueIndex{Name: ix.Name, Table: t, Columns: ix.Columns, Owner: sh.owner[t]})
			}
		}
	}
	return out
}

// columns lists the columns of table as the database has them.
func (db *DB) columns(ctx context.Context, table string) ([]string, error) {
	var cols []string
	q := db.Write.NewRaw("SELECT name FROM pragma_table_info(?)", table)
	if db.Dialect == sqlfilter.Postgres {
		q = db.Write.NewRaw("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?", table)
	}
	err := q.Scan(ctx, &cols)
	return cols, err
}

// preTenancy stops a database created before tables had a tenant column
// (its history is the old generated/store/migrations, 0001_init...):
// applying today's migrations to it would fail half-way.
func (db *DB) preTenancy(ctx context.Context) error {
	cols, err := db.columns(ctx, "scim_users")
	if err != nil || len(cols) == 0 {
		return err
	}
	for _, c := range cols {
		if c == TenantColumn {
			return nil
		}
	}
	return fmt.Errorf("this database was created by a scimforge build from before tenants (its tables have no %s column); "+
		"export its users and groups (GET /Users, /Groups) and provision them into a new database, or move the file away to start afresh", TenantColumn)
}

// verify checks, after migrating, that every table and column the
// migration history creates exists. A database created by another build
// (for example one whose migrations/ folder was started afresh) would
// otherwise fail request by request with 500s; this stops the server at
// start with a message that says what is wrong.
func (db *DB) verify(ctx context.Context, migrations fs.FS) error {
	sh, err := readHistory(migrations)
	if err != nil {
		return err
	}
	want := sh.tables
	db.unique = sh.uniqueIndexes()
	if db.Dialect == sqlfilter.SQLite && sqlfilter.SQLiteTrigrams {
		// A trigram index's FTS5 table is what co filters query: without
		// it they would fail. (On PostgreSQL it is an index, not checked.)
		want = make(map[string][]string, len(sh.tables)+len(sh.trigrams))
		for t, cols := range sh.tables {
			want[t] = cols
		}
		for name, col := range sh.trigrams {
			want[name] = []string{col}
		}
	}
	names := make([]string, 0, len(want))
	for t := range want {
		names = append(names, t)
	}
	sort.Strings(names)
	var missing []string
	for _, t := range names {
		cols, err := db.columns(ctx, t)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			missing = append(missing, "table "+t)
			continue
		}
		have := map[string]bool{}
		for _, c := range cols {
			have[c] = true
		}
		for _, c := range want[t] {
			if !have[c] {
				missing = append(missing, "column "+t+"."+c)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the database does not match this build's migrations (missing %s): it was created by a build "+
			"whose migrations differ. Keep migrations/ under version control and never rewrite its files; "+
			"to start over, move the database away", strings.Join(missing, ", "))
	}
	return nil
}
