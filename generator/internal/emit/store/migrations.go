package store

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// MigrationsDir holds the migration history. It is durable state, not
// generated output: make generate adds files to it and never rewrites or
// deletes one (generated/ may be deleted and rebuilt at will; this may not).
//
//	migrations/history/NAME.json         the changes of migration NAME
//	migrations/sqlite/NAME.tx.up.sql     those changes in SQLite's SQL
//	migrations/postgres/NAME.tx.up.sql   and in PostgreSQL's
//
// NAME is a UTC timestamp and a word ("20261202190000_schema"), so
// migrations added on two branches get different names and merge without
// renumbering; the plan a database has is every history file applied in
// name order, so the merged history holds both branches' changes.
const MigrationsDir = "migrations/"

// Dialects are the SQL engines migrations are written for.
var Dialects = []string{"sqlite", "postgres"}

var migrationName = regexp.MustCompile(`^(\d{14})_[a-z0-9_]+\.json$`)

// migrations returns the files of a new migration when the model's plan
// differs from the history's, or nothing. now names the new migration.
func migrations(m *model.Model, prev fs.FS, now time.Time) ([]emit.File, error) {
	p := buildPlan(m)
	old := &plan{}
	last := ""
	if prev != nil {
		entries, _ := fs.ReadDir(prev, MigrationsDir+"history")
		var names []string
		for _, e := range entries {
			if migrationName.MatchString(e.Name()) {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, name := range names {
			data, err := fs.ReadFile(prev, MigrationsDir+"history/"+name)
			if err != nil {
				return nil, err
			}
			var h history
			if err := json.Unmarshal(data, &h); err != nil {
				return nil, fmt.Errorf("%shistory/%s: %w", MigrationsDir, name, err)
			}
			if err := apply(old, h.Changes); err != nil {
				return nil, fmt.Errorf("%shistory/%s: %w (two merged branches changed the same thing: delete the later migration's three files and run make generate)", MigrationsDir, name, err)
			}
			last = strings.TrimSuffix(name, ".json")
		}
	}
	changes, err := diff(old, p)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, nil
	}
	word := "schema"
	if last == "" {
		word = "init"
	}
	name := nextName(now, last) + "_" + word
	h := history{Comment: emit.Header, Changes: changes}
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	files := []emit.File{{Path: MigrationsDir + "history/" + name + ".json", Data: append(data, '\n')}}
	for _, d := range Dialects {
		var b strings.Builder
		fmt.Fprintf(&b, "-- %s\n", emit.Header)
		for _, c := range changes {
			fmt.Fprintf(&b, "-- %s\n", c)
		}
		if d == "postgres" && needsTrgm(changes) {
			b.WriteString("--bun:split\n" + pgTrgmExtension + "\n")
		}
		for _, c := range changes {
			for _, s := range render(d, c) {
				b.WriteString("--bun:split\n" + s + "\n")
			}
		}
		files = append(files, emit.File{Path: MigrationsDir + d + "/" + name + ".tx.up.sql", Data: []byte(b.String())})
	}
	return files, nil
}

// history is the content of a history file.
type history struct {
	Comment string   `json:"comment"`
	Changes []change `json:"changes"`
}

// nextName is now as a 14-digit UTC timestamp, later than last.
func nextName(now time.Time, last string) string {
	s := now.UTC().Format("20060102150405")
	if last != "" && s <= last[:14] {
		n, _ := strconv.ParseInt(last[:14], 10, 64)
		s = strconv.FormatInt(n+1, 10)
	}
	return s
}

// render is one change in a dialect's SQL.
func render(dialect string, c change) []string {
	switch c.Op {
	case "createTable":
		return createTable(dialect, c.Def)
	case "addColumn":
		return []string{fmt.Sprintf("ALTER TABLE %q ADD COLUMN %s;", c.Table, columnDef(dialect, *c.Column))}
	case "createIndex":
		return []string{createIndex(c.Table, *c.Index)}
	case "dropIndex":
		return []string{fmt.Sprintf("DROP INDEX IF EXISTS %q;", c.Index.Name)}
	case "createTrigramIndex":
		return createTrigram(dialect, c.Table, *c.Trigram)
	case "dropTrigramIndex":
		return dropTrigram(dialect, *c.Trigram)
	}
	panic("store: unknown change " + c.Op)
}

// sqlType is the declared type of a column kind.
//
// SQLite: caseExact=false text is COLLATE NOCASE (the values are folded
// already; the collation keeps ORDER BY of a column written as is right).
// PostgreSQL: every text column is COLLATE "C": comparisons and ORDER BY
// are byte order, as in SQLite (the database's locale would otherwise
// decide the order of sortBy and cursors), and a plain btree index serves
// LIKE 'prefix%'. Folded columns need no lower(): their values are folded.
func sqlType(dialect, kind string) string {
	if dialect == "postgres" {
		switch kind {
		case kInteger:
			return "BIGINT"
		case kDecimal:
			return "DOUBLE PRECISION"
		case kBoolean:
			return "BOOLEAN"
		case kJSON:
			return "TEXT" // byte for byte: reads return it without re-encoding
		}
		return `TEXT COLLATE "C"`
	}
	switch kind {
	case kInteger:
		return "INTEGER"
	case kDecimal:
		return "REAL"
	case kBoolean:
		return "BOOLEAN"
	case kFolded:
		return "TEXT COLLATE NOCASE"
	}
	return "TEXT"
}

func columnDef(dialect string, c column) string {
	d := fmt.Sprintf("%q %s", c.Name, sqlType(dialect, c.Kind))
	if c.NotNull {
		d += " NOT NULL"
	}
	return d
}

func quoteList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = strconv.Quote(c)
	}
	return strings.Join(q, ", ")
}

func createTable(dialect string, t *table) []string {
	var defs []string
	for _, c := range t.Columns {
		defs = append(defs, columnDef(dialect, c))
	}
	defs = append(defs, "PRIMARY KEY ("+quoteList(t.PrimaryKey)+")")
	if r := t.References; r != nil {
		defs = append(defs, fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %q (%s) ON DELETE CASCADE", quoteList(r.Columns), r.Table, quoteList(r.Key)))
	}
	out := []string{fmt.Sprintf("CREATE TABLE %q (\n  %s\n);", t.Name, strings.Join(defs, ",\n  "))}
	for _, ix := range t.Indexes {
		out = append(out, createIndex(t.Name, ix))
	}
	for _, tg := range t.Trigrams {
		out = append(out, createTrigram(dialect, t.Name, tg)...)
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

// pgTrgmExtension is the first statement of a PostgreSQL migration that
// creates a trigram index. pg_trgm is a trusted extension (PostgreSQL
// 13+): the database's owner, or a role with CREATE on it, may create it;
// sqlstore explains the failure when the migration role may not.
const pgTrgmExtension = "CREATE EXTENSION IF NOT EXISTS pg_trgm;"

func needsTrgm(changes []change) bool {
	for _, c := range changes {
		if c.Op == "createTrigramIndex" || c.Op == "createTable" && len(c.Def.Trigrams) > 0 {
			return true
		}
	}
	return false
}

// createTrigram renders a trigram index (see trigram).
//
// SQLite: an FTS5 table with the trigram tokenizer whose content is the
// indexed column of the table (external content: the text is not stored
// twice), rows matched by rowid (every table here is a rowid table: its
// primary key is text). case_sensitive 1 indexes the folded text exactly
// as stored, so the compiler's GLOB (which FTS5 serves with this
// tokenizer; its LIKE would not be served with an ESCAPE clause) compares
// bytes, exactly as the LIKE scan over folded text does. detail='none'
// keeps the index small: FTS5 rechecks every candidate row against the
// pattern, so positions are not needed. Triggers keep it in step with
// every write (an UPDATE only when it sets the column: the generated
// writers set search columns only when one changed); "rebuild" indexes
// the rows an existing table already has.
//
// Rowids are stable for these tables: VACUUM (and VACUUM INTO) keep them
// for tables that have an index, and every table here has its primary
// key's. Should an index ever drift, INSERT INTO t(t) VALUES('rebuild')
// restores it.
//
// The SQLite rendering is kept but not used: maintained by triggers, the
// FTS5 tables made creates fall from ~1600/s to 150/s by 200k users (make
// bench-1m: merging the doclists of the trigrams every e-mail shares grows
// with the table). Until they are maintained off the write path, SQLite
// answers co/ew with a LIKE scan and gets no trigram index (sqlfilter.SQLiteTrigrams).
func createTrigram(dialect, tableName string, tg trigram) []string {
	n, col := tg.Name, tg.Column
	if dialect == "postgres" {
		return []string{fmt.Sprintf("CREATE INDEX %q ON %q USING gin (%q gin_trgm_ops);", n, tableName, col)}
	}
	if !sqlfilter.SQLiteTrigrams {
		return nil
	}
	ins := fmt.Sprintf("INSERT INTO %q(rowid, %q) VALUES (new.rowid, new.%q);", n, col, col)
	del := fmt.Sprintf("INSERT INTO %q(%q, rowid, %q) VALUES ('delete', old.rowid, old.%q);", n, n, col, col)
	return []string{
		fmt.Sprintf("CREATE VIRTUAL TABLE %q USING fts5(%q, content=%s, content_rowid='rowid', tokenize='trigram case_sensitive 1', detail='none');",
			n, col, sqlString(tableName)),
		fmt.Sprintf("CREATE TRIGGER %q AFTER INSERT ON %q BEGIN\n  %s\nEND;", n+"_ai", tableName, ins),
		fmt.Sprintf("CREATE TRIGGER %q AFTER DELETE ON %q BEGIN\n  %s\nEND;", n+"_ad", tableName, del),
		// WHEN: the writers set every search column when any of them
		// changes (a PATCH of active rewrites user_name with its own
		// value); re-indexing an unchanged value would double the cost
		// of such a write.
		fmt.Sprintf("CREATE TRIGGER %q AFTER UPDATE OF %q ON %q WHEN old.%q IS NOT new.%q BEGIN\n  %s\n  %s\nEND;", n+"_au", col, tableName, col, col, del, ins),
		fmt.Sprintf("INSERT INTO %q(%q) VALUES ('rebuild');", n, n),
	}
}

func dropTrigram(dialect string, tg trigram) []string {
	if dialect == "postgres" {
		return []string{fmt.Sprintf("DROP INDEX IF EXISTS %q;", tg.Name)}
	}
	if !sqlfilter.SQLiteTrigrams {
		return nil
	}
	return []string{
		fmt.Sprintf("DROP TRIGGER IF EXISTS %q;", tg.Name+"_ai"),
		fmt.Sprintf("DROP TRIGGER IF EXISTS %q;", tg.Name+"_ad"),
		fmt.Sprintf("DROP TRIGGER IF EXISTS %q;", tg.Name+"_au"),
		fmt.Sprintf("DROP TABLE IF EXISTS %q;", tg.Name),
	}
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
