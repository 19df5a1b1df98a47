package store

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/scim/schema"
)

// The storage plan is the database shape the model needs. The generator
// keeps the plan of the last migration in migrations/<dialect>/plan.json;
// on each run it compares the model's plan with it and, when they differ,
// appends the next numbered migration. Migrations are never rewritten, so a
// database created by an older schema is brought forward in place.

type plan struct {
	Tables []*table `json:"tables"`
}

type table struct {
	Name       string   `json:"name"`
	Columns    []column `json:"columns"`
	PrimaryKey []string `json:"primaryKey"`
	References *ref     `json:"references,omitempty"`
	Indexes    []index  `json:"indexes,omitempty"`
}

type ref struct {
	Column string `json:"column"`
	Table  string `json:"table"`
}

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type index struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Unique  bool     `json:"unique,omitempty"`
}

// sqliteType is the declared type of a column holding attribute a.
// Strings of caseExact=false attributes get COLLATE NOCASE, so equality,
// ordering and unique indexes on them ignore case (RFC 7643 §2.2).
func sqliteType(a *schema.Attribute) string {
	switch a.Type {
	case schema.Boolean:
		return "BOOLEAN"
	case schema.Integer:
		return "INTEGER"
	case schema.Decimal:
		return "REAL"
	case schema.DateTime:
		return "TEXT" // UTC, fixed width: see sqlstore.TimeFormat
	case schema.String, schema.Reference:
		if !a.CaseExact {
			return "TEXT COLLATE NOCASE"
		}
	}
	return "TEXT"
}

// sqlitePlan is the plan of the model for SQLite.
func sqlitePlan(m *model.Model) *plan {
	p := &plan{}
	for _, r := range m.Resources {
		t := &table{Name: r.Table, PrimaryKey: []string{"id"}, Columns: []column{
			{"id", "TEXT NOT NULL"}, {"version", "INTEGER NOT NULL"}, {"created", "TEXT NOT NULL"},
			{"last_modified", "TEXT NOT NULL"}, {"doc", "TEXT NOT NULL"},
		}}
		t.Indexes = append(t.Indexes, index{Name: r.Table + "_created_idx", Columns: []string{"created", "id"}})
		for _, c := range r.Columns {
			typ := sqliteType(c.Attr)
			if c.Secret {
				typ = "TEXT"
			}
			t.Columns = append(t.Columns, column{c.Name, typ})
			switch {
			case c.Unique:
				t.Indexes = append(t.Indexes, index{Name: r.Table + "_" + c.Name + "_key", Columns: []string{c.Name}, Unique: true})
			case c.Index:
				t.Indexes = append(t.Indexes, index{Name: r.Table + "_" + c.Name + "_idx", Columns: []string{c.Name}})
			}
		}
		p.Tables = append(p.Tables, t)
		for _, ch := range r.Children {
			ct := &table{Name: ch.Table, PrimaryKey: []string{ch.ParentColumn, "ord"},
				References: &ref{Column: ch.ParentColumn, Table: r.Table},
				Columns:    []column{{ch.ParentColumn, "TEXT NOT NULL"}, {"ord", "INTEGER NOT NULL"}}}
			for _, c := range ch.Columns {
				ct.Columns = append(ct.Columns, column{c.Name, sqliteType(c.Attr)})
			}
			for _, ix := range ch.Index {
				ct.Indexes = append(ct.Indexes, index{Name: ch.Table + "_" + ix + "_idx", Columns: []string{ix}})
			}
			p.Tables = append(p.Tables, ct)
		}
	}
	if ms := m.Membership; ms != nil {
		p.Tables = append(p.Tables, &table{
			Name: ms.Table, PrimaryKey: []string{"group_id", "member_id"},
			References: &ref{Column: "group_id", Table: ms.Group.Table},
			Columns:    []column{{"group_id", "TEXT NOT NULL"}, {"member_id", "TEXT NOT NULL"}, {"member_type", "TEXT NOT NULL"}, {"display", "TEXT"}},
			Indexes:    []index{{Name: ms.Table + "_member_idx", Columns: []string{"member_id"}}},
		})
	}
	return p
}

func quoteList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = strconv.Quote(c)
	}
	return strings.Join(q, ", ")
}

func createTable(t *table) []string {
	var defs []string
	for _, c := range t.Columns {
		d := fmt.Sprintf("%q %s", c.Name, c.Type)
		if len(t.PrimaryKey) == 1 && t.PrimaryKey[0] == c.Name {
			d += " PRIMARY KEY"
		}
		if t.References != nil && t.References.Column == c.Name {
			d += fmt.Sprintf(` REFERENCES %q ("id") ON DELETE CASCADE`, t.References.Table)
		}
		defs = append(defs, d)
	}
	if len(t.PrimaryKey) > 1 {
		defs = append(defs, "PRIMARY KEY ("+quoteList(t.PrimaryKey)+")")
	}
	out := []string{fmt.Sprintf("CREATE TABLE %q (\n  %s\n);", t.Name, strings.Join(defs, ",\n  "))}
	for _, ix := range t.Indexes {
		out = append(out, createIndex(t.Name, ix))
	}
	return out
}

func createIndex(tableName string, ix index) string {
	u := ""
	if ix.Unique {
		u = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX %q ON %q (%s);", u, ix.Name, tableName, quoteList(ix.Columns))
}

// diff returns the statements that take a database from old to new, and
// describes them. Only additions are applied automatically: removing or
// retyping a column would lose or reinterpret stored data, so the
// generator stops and says what to do instead.
func diff(old, new *plan) (stmts, notes []string, err error) {
	oldTables := map[string]*table{}
	for _, t := range old.Tables {
		oldTables[t.Name] = t
	}
	newTables := map[string]bool{}
	var problems []string
	for _, t := range new.Tables {
		newTables[t.Name] = true
		ot := oldTables[t.Name]
		if ot == nil {
			stmts = append(stmts, createTable(t)...)
			notes = append(notes, "new table "+t.Name)
			continue
		}
		oldCols := map[string]string{}
		for _, c := range ot.Columns {
			oldCols[c.Name] = c.Type
		}
		newCols := map[string]bool{}
		for _, c := range t.Columns {
			newCols[c.Name] = true
			typ, ok := oldCols[c.Name]
			switch {
			case !ok:
				stmts = append(stmts, fmt.Sprintf("ALTER TABLE %q ADD COLUMN %q %s;", t.Name, c.Name, c.Type))
				notes = append(notes, fmt.Sprintf("new column %s.%s", t.Name, c.Name))
			case typ != c.Type:
				problems = append(problems, fmt.Sprintf("column %s.%s would change from %s to %s", t.Name, c.Name, typ, c.Type))
			}
		}
		for _, c := range ot.Columns {
			if !newCols[c.Name] {
				problems = append(problems, fmt.Sprintf("column %s.%s would be removed (its attribute is gone or renamed)", t.Name, c.Name))
			}
		}
		oldIdx := map[string]index{}
		for _, ix := range ot.Indexes {
			oldIdx[ix.Name] = ix
		}
		for _, ix := range t.Indexes {
			if prev, ok := oldIdx[ix.Name]; ok {
				if prev.Unique != ix.Unique || strings.Join(prev.Columns, ",") != strings.Join(ix.Columns, ",") {
					stmts = append(stmts, fmt.Sprintf("DROP INDEX %q;", ix.Name), createIndex(t.Name, ix))
					notes = append(notes, "changed index "+ix.Name)
				}
				delete(oldIdx, ix.Name)
				continue
			}
			stmts = append(stmts, createIndex(t.Name, ix))
			notes = append(notes, "new index "+ix.Name)
		}
		var dropped []string
		for name := range oldIdx {
			dropped = append(dropped, name)
		}
		sort.Strings(dropped)
		for _, name := range dropped {
			stmts = append(stmts, fmt.Sprintf("DROP INDEX %q;", name))
			notes = append(notes, "dropped index "+name)
		}
	}
	for _, t := range old.Tables {
		if !newTables[t.Name] {
			problems = append(problems, fmt.Sprintf("table %s would be removed", t.Name))
		}
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("the schema change needs a migration scimforge does not write automatically:\n  %s\n"+
			"Stored data would be lost or reinterpreted. Keep the attribute (you may mark it deprecated in its description), "+
			"or, for a database you can recreate, delete generated/store/migrations and start from a fresh database",
			strings.Join(problems, "\n  "))
	}
	return stmts, notes, nil
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.tx\.up\.sql$`)

// migrations returns the migration files of a dialect: the existing ones,
// unchanged, plus a new one when the plan changed, plus the new plan.json.
func migrations(m *model.Model, prev fs.FS, dialect string, p *plan) ([]emit.File, error) {
	dir := "generated/store/migrations/" + dialect + "/"
	var files []emit.File
	last := 0
	old := &plan{}
	if prev != nil {
		entries, _ := fs.ReadDir(prev, path.Clean(dir))
		for _, e := range entries {
			name := e.Name()
			data, err := fs.ReadFile(prev, dir+name)
			if err != nil {
				return nil, err
			}
			switch {
			case name == "plan.json":
				if err := json.Unmarshal(data, old); err != nil {
					return nil, fmt.Errorf("%s%s: %w", dir, name, err)
				}
			case migrationName.MatchString(name):
				n, _ := strconv.Atoi(name[:4])
				last = max(last, n)
				files = append(files, emit.File{Path: dir + name, Data: data})
			}
		}
	}
	if last > 0 && len(old.Tables) == 0 {
		return nil, fmt.Errorf("%splan.json is missing or empty but migrations exist; restore it from version control", dir)
	}
	var stmts, notes []string
	if last == 0 {
		for _, t := range p.Tables {
			stmts = append(stmts, createTable(t)...)
		}
		notes = []string{"initial tables for the resource types in schemas/"}
	} else {
		var err error
		if stmts, notes, err = diff(old, p); err != nil {
			return nil, err
		}
	}
	if len(stmts) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "-- %s\n", emit.Header)
		for _, n := range notes {
			fmt.Fprintf(&b, "-- %s\n", n)
		}
		for _, s := range stmts {
			b.WriteString("--bun:split\n" + s + "\n")
		}
		name := "init"
		if last > 0 {
			name = "schema"
		}
		files = append(files, emit.File{Path: fmt.Sprintf("%s%04d_%s.tx.up.sql", dir, last+1, name), Data: []byte(b.String())})
	}
	snap, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(files, emit.File{Path: dir + "plan.json", Data: append(snap, '\n')}), nil
}
