package store

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/scim/schema"
)

// The storage plan is the database shape the model needs, written once for
// every SQL engine: column types are the engine-neutral kinds below, and
// each dialect renders them (see render.go). Every table's primary key,
// unique keys and foreign keys lead with tenant_id, so one database holds
// many tenants and a deployment can later distribute tables by tenant
// (docs/DESIGN.md, "Past one database").

// TenantColumn is the leading key column of every table.
const TenantColumn = "tenant_id"

type plan struct {
	Tables []*table `json:"tables"`
}

type table struct {
	Name       string   `json:"name"`
	Columns    []column `json:"columns"`
	PrimaryKey []string `json:"primaryKey"`
	References *ref     `json:"references,omitempty"`
	Indexes    []index  `json:"indexes,omitempty"`
	// Trigrams are the substring indexes of the table (see trigram).
	Trigrams []trigram `json:"trigramIndexes,omitempty"`
}

// ref is a foreign key: Columns of this table reference Key of Table,
// deleting this table's rows with the referenced row.
type ref struct {
	Columns []string `json:"columns"`
	Table   string   `json:"table"`
	Key     []string `json:"key"`
}

// Column kinds. A kind says what a column holds; each dialect picks the
// SQL type (render.go).
const (
	kText     = "text"     // text compared exactly (ids, caseExact strings)
	kFolded   = "folded"   // case-folded text of caseExact=false strings
	kInteger  = "integer"  // 64-bit integer
	kDecimal  = "decimal"  // double precision
	kBoolean  = "boolean"  // boolean
	kDateTime = "datetime" // UTC text in sqlstore.TimeFormat (text order is time order)
	kJSON     = "json"     // a JSON document stored byte for byte
)

type column struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	NotNull bool   `json:"notNull,omitempty"`
}

type index struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Unique  bool     `json:"unique,omitempty"`
}

// trigram is a substring index over one folded column, which serves the
// filter operators co and ew (a btree serves eq and sw, not a substring).
// PostgreSQL: a GIN index with pg_trgm's gin_trgm_ops, which serves
// "col LIKE '%x%'" as is. SQLite: an FTS5 table with the trigram
// tokenizer over the column (external content, kept by triggers), which
// the filter compiler queries itself (sqlfilter.Attribute.Trigram).
//
// The rule: every folded column that has an index of its own (an
// attribute with uniqueness "server" or listed under indexes in
// codegen.yaml) gets one, i.e. userName, displayName and emails.value
// with the shipped schemas. An index says clients filter on the
// attribute, and identity providers search those with co; a folded column
// because co on caseExact values is rare and a case-exact substring index
// would be a second kind to maintain.
type trigram struct {
	Name   string `json:"name"`
	Column string `json:"column"`
}

// trigramName names the trigram index of a column.
func trigramName(tableName, col string) string { return tableName + "_" + col + "_trgm" }

// kindOf is the kind of a column holding attribute a.
func kindOf(a *schema.Attribute) string {
	switch a.Type {
	case schema.Boolean:
		return kBoolean
	case schema.Integer:
		return kInteger
	case schema.Decimal:
		return kDecimal
	case schema.DateTime:
		return kDateTime
	case schema.String, schema.Reference:
		if !a.CaseExact {
			return kFolded
		}
	}
	return kText
}

// hasTrigram reports whether a main-table column gets a trigram index
// (see trigram for the rule).
func hasTrigram(c *model.Column) bool {
	return (c.Unique || c.Index) && !c.Secret && kindOf(c.Attr) == kFolded
}

// childHasTrigram reports whether column col of child table ch gets a
// trigram index.
func childHasTrigram(ch *model.Child, col string) bool {
	for _, ix := range ch.Index {
		if ix != col {
			continue
		}
		for _, c := range ch.Columns {
			if c.Name == col {
				return kindOf(c.Attr) == kFolded
			}
		}
	}
	return false
}

func key(cols ...string) []string { return append([]string{TenantColumn}, cols...) }

// buildPlan is the plan of the model.
func buildPlan(m *model.Model) *plan {
	p := &plan{}
	for _, r := range m.Resources {
		t := &table{Name: r.Table, PrimaryKey: key("id"), Columns: []column{
			{TenantColumn, kText, true}, {"id", kText, true}, {"version", kInteger, true},
			{"created", kDateTime, true}, {"last_modified", kDateTime, true}, {"doc", kJSON, true},
		}}
		t.Indexes = append(t.Indexes, index{Name: r.Table + "_created_idx", Columns: key("created", "id")})
		for _, c := range r.Columns {
			kind := kindOf(c.Attr)
			if c.Secret {
				kind = kText
			}
			t.Columns = append(t.Columns, column{Name: c.Name, Kind: kind})
			switch {
			case c.Unique:
				t.Indexes = append(t.Indexes, index{Name: r.Table + "_" + c.Name + "_key", Columns: key(c.Name), Unique: true})
			case c.Index:
				t.Indexes = append(t.Indexes, index{Name: r.Table + "_" + c.Name + "_idx", Columns: key(c.Name)})
			}
			if hasTrigram(c) {
				t.Trigrams = append(t.Trigrams, trigram{Name: trigramName(r.Table, c.Name), Column: c.Name})
			}
		}
		p.Tables = append(p.Tables, t)
		for _, ch := range r.Children {
			ct := &table{Name: ch.Table, PrimaryKey: key(ch.ParentColumn, "ord"),
				References: &ref{Columns: key(ch.ParentColumn), Table: r.Table, Key: key("id")},
				Columns:    []column{{TenantColumn, kText, true}, {ch.ParentColumn, kText, true}, {"ord", kInteger, true}}}
			for _, c := range ch.Columns {
				ct.Columns = append(ct.Columns, column{Name: c.Name, Kind: kindOf(c.Attr)})
			}
			for _, ix := range ch.Index {
				ct.Indexes = append(ct.Indexes, index{Name: ch.Table + "_" + ix + "_idx", Columns: key(ix)})
				if childHasTrigram(ch, ix) {
					ct.Trigrams = append(ct.Trigrams, trigram{Name: trigramName(ch.Table, ix), Column: ix})
				}
			}
			p.Tables = append(p.Tables, ct)
		}
	}
	if ms := m.Membership; ms != nil {
		p.Tables = append(p.Tables, &table{
			Name: ms.Table, PrimaryKey: key("group_id", "member_id"),
			References: &ref{Columns: key("group_id"), Table: ms.Group.Table, Key: key("id")},
			Columns: []column{{TenantColumn, kText, true}, {"group_id", kText, true}, {"member_id", kText, true},
				{"member_type", kText, true}, {"display", kText, false}},
			Indexes: []index{{Name: ms.Table + "_member_idx", Columns: key("member_id")}},
		})
	}
	return p
}

// A change is one step of a migration. A migration's history file lists
// its changes; the plan a database has is the result of applying every
// history file in name order (apply), so two branches that each add an
// attribute add two files that merge without conflict.
type change struct {
	Op      string   `json:"op"` // createTable, addColumn, createIndex, dropIndex, createTrigramIndex, dropTrigramIndex
	Table   string   `json:"table"`
	Def     *table   `json:"def,omitempty"`     // createTable
	Column  *column  `json:"column,omitempty"`  // addColumn
	Index   *index   `json:"index,omitempty"`   // createIndex, dropIndex (name only)
	Trigram *trigram `json:"trigram,omitempty"` // createTrigramIndex, dropTrigramIndex
}

func (c change) String() string {
	switch c.Op {
	case "createTable":
		return "new table " + c.Table
	case "addColumn":
		return fmt.Sprintf("new column %s.%s", c.Table, c.Column.Name)
	case "createIndex":
		return "new index " + c.Index.Name
	case "dropIndex":
		return "dropped index " + c.Index.Name
	case "createTrigramIndex":
		return fmt.Sprintf("new trigram index %s on %s.%s", c.Trigram.Name, c.Table, c.Trigram.Column)
	case "dropTrigramIndex":
		return "dropped trigram index " + c.Trigram.Name
	}
	return c.Op
}

// apply applies changes to p. Conflicts (a column or table added twice,
// e.g. by two merged branches that added the same attribute) are errors
// naming what to remove.
func apply(p *plan, changes []change) error {
	find := func(name string) *table {
		for _, t := range p.Tables {
			if t.Name == name {
				return t
			}
		}
		return nil
	}
	for _, c := range changes {
		t := find(c.Table)
		switch c.Op {
		case "createTable":
			if t != nil {
				return fmt.Errorf("table %s is created twice", c.Table)
			}
			def := *c.Def
			def.Columns = append([]column(nil), def.Columns...)
			def.Indexes = append([]index(nil), def.Indexes...)
			def.Trigrams = append([]trigram(nil), def.Trigrams...)
			p.Tables = append(p.Tables, &def)
			continue
		}
		if t == nil {
			return fmt.Errorf("%s on table %s, which no earlier migration creates", c.Op, c.Table)
		}
		switch c.Op {
		case "addColumn":
			for _, col := range t.Columns {
				if col.Name == c.Column.Name {
					return fmt.Errorf("column %s.%s is added twice", c.Table, col.Name)
				}
			}
			t.Columns = append(t.Columns, *c.Column)
		case "createIndex":
			if slices.ContainsFunc(t.Indexes, func(ix index) bool { return ix.Name == c.Index.Name }) {
				return fmt.Errorf("index %s is created twice", c.Index.Name)
			}
			t.Indexes = append(t.Indexes, *c.Index)
		case "dropIndex":
			// Dropping an index that is not there is harmless (two
			// branches may drop the same one; the SQL says IF EXISTS).
			t.Indexes = slices.DeleteFunc(t.Indexes, func(ix index) bool { return ix.Name == c.Index.Name })
		case "createTrigramIndex":
			if slices.ContainsFunc(t.Trigrams, func(tg trigram) bool { return tg.Name == c.Trigram.Name }) {
				return fmt.Errorf("trigram index %s is created twice", c.Trigram.Name)
			}
			t.Trigrams = append(t.Trigrams, *c.Trigram)
		case "dropTrigramIndex":
			t.Trigrams = slices.DeleteFunc(t.Trigrams, func(tg trigram) bool { return tg.Name == c.Trigram.Name })
		default:
			return fmt.Errorf("unknown change %q", c.Op)
		}
	}
	return nil
}

// diff returns the changes that take a database from old to new. Only
// additions (and index changes) are applied automatically: removing or
// retyping a column would lose or reinterpret stored data, so the
// generator stops and says what to do instead.
func diff(old, new *plan) ([]change, error) {
	oldTables := map[string]*table{}
	for _, t := range old.Tables {
		oldTables[t.Name] = t
	}
	newTables := map[string]bool{}
	var changes []change
	var problems []string
	for _, t := range new.Tables {
		newTables[t.Name] = true
		ot := oldTables[t.Name]
		if ot == nil {
			changes = append(changes, change{Op: "createTable", Table: t.Name, Def: t})
			continue
		}
		if strings.Join(ot.PrimaryKey, ",") != strings.Join(t.PrimaryKey, ",") {
			problems = append(problems, fmt.Sprintf("table %s would change its primary key from (%s) to (%s)",
				t.Name, strings.Join(ot.PrimaryKey, ", "), strings.Join(t.PrimaryKey, ", ")))
		}
		oldCols := map[string]column{}
		for _, c := range ot.Columns {
			oldCols[c.Name] = c
		}
		newCols := map[string]bool{}
		for _, c := range t.Columns {
			newCols[c.Name] = true
			prev, ok := oldCols[c.Name]
			switch {
			case !ok:
				if c.NotNull {
					problems = append(problems, fmt.Sprintf("column %s.%s is new and NOT NULL: existing rows have no value for it", t.Name, c.Name))
					continue
				}
				col := c
				changes = append(changes, change{Op: "addColumn", Table: t.Name, Column: &col})
			case prev != c:
				problems = append(problems, fmt.Sprintf("column %s.%s would change from %s to %s", t.Name, c.Name, describe(prev), describe(c)))
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
			ix := ix
			if prev, ok := oldIdx[ix.Name]; ok {
				if prev.Unique != ix.Unique || strings.Join(prev.Columns, ",") != strings.Join(ix.Columns, ",") {
					changes = append(changes, change{Op: "dropIndex", Table: t.Name, Index: &index{Name: ix.Name}},
						change{Op: "createIndex", Table: t.Name, Index: &ix})
				}
				delete(oldIdx, ix.Name)
				continue
			}
			changes = append(changes, change{Op: "createIndex", Table: t.Name, Index: &ix})
		}
		var dropped []string
		for name := range oldIdx {
			dropped = append(dropped, name)
		}
		sort.Strings(dropped)
		for _, name := range dropped {
			changes = append(changes, change{Op: "dropIndex", Table: t.Name, Index: &index{Name: name}})
		}
		changes = append(changes, diffTrigrams(t.Name, ot.Trigrams, t.Trigrams)...)
	}
	for _, t := range old.Tables {
		if !newTables[t.Name] {
			problems = append(problems, fmt.Sprintf("table %s would be removed", t.Name))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the schema change needs a migration scimforge does not write automatically:\n  %s\n"+
			"Stored data would be lost or reinterpreted. Keep the attribute (you may mark it deprecated in its description), "+
			"or, for a database you can recreate, delete the migrations/ folder and start from a fresh database",
			strings.Join(problems, "\n  "))
	}
	return changes, nil
}

func describe(c column) string {
	s := c.Kind
	if c.NotNull {
		s += " not null"
	}
	return s
}

// diffTrigrams returns the changes from table's trigram indexes old to new.
func diffTrigrams(tableName string, old, new []trigram) []change {
	var changes []change
	prev := map[string]trigram{}
	for _, tg := range old {
		prev[tg.Name] = tg
	}
	for _, tg := range new {
		tg := tg
		if p, ok := prev[tg.Name]; ok {
			if p != tg {
				changes = append(changes, change{Op: "dropTrigramIndex", Table: tableName, Trigram: &p},
					change{Op: "createTrigramIndex", Table: tableName, Trigram: &tg})
			}
			delete(prev, tg.Name)
			continue
		}
		changes = append(changes, change{Op: "createTrigramIndex", Table: tableName, Trigram: &tg})
	}
	var dropped []string
	for name := range prev {
		dropped = append(dropped, name)
	}
	sort.Strings(dropped)
	for _, name := range dropped {
		tg := prev[name]
		changes = append(changes, change{Op: "dropTrigramIndex", Table: tableName, Trigram: &tg})
	}
	return changes
}
