package sqlfilter

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/filter"
)

// The tables of TestTrigramMatchesScan, with trigram indexes as the
// generator renders them for SQLite (FTS5, external content, triggers).
const trigramDDL = `
CREATE TABLE tu (tenant_id TEXT NOT NULL, id TEXT NOT NULL, user_name TEXT COLLATE NOCASE, code TEXT,
  PRIMARY KEY (tenant_id, id));
CREATE TABLE te (tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, ord INTEGER NOT NULL, value TEXT COLLATE NOCASE,
  PRIMARY KEY (tenant_id, user_id, ord),
  FOREIGN KEY (tenant_id, user_id) REFERENCES tu (tenant_id, id) ON DELETE CASCADE);
CREATE VIRTUAL TABLE tu_user_name_trgm USING fts5(user_name, content='tu', content_rowid='rowid', tokenize='trigram case_sensitive 1', detail='none');
CREATE TRIGGER tu_ai AFTER INSERT ON tu BEGIN INSERT INTO tu_user_name_trgm(rowid, user_name) VALUES (new.rowid, new.user_name); END;
CREATE TRIGGER tu_ad AFTER DELETE ON tu BEGIN INSERT INTO tu_user_name_trgm(tu_user_name_trgm, rowid, user_name) VALUES ('delete', old.rowid, old.user_name); END;
CREATE TRIGGER tu_au AFTER UPDATE OF user_name ON tu BEGIN
  INSERT INTO tu_user_name_trgm(tu_user_name_trgm, rowid, user_name) VALUES ('delete', old.rowid, old.user_name);
  INSERT INTO tu_user_name_trgm(rowid, user_name) VALUES (new.rowid, new.user_name);
END;
CREATE VIRTUAL TABLE tu_code_trgm USING fts5(code, content='tu', content_rowid='rowid', tokenize='trigram case_sensitive 1', detail='none');
CREATE TRIGGER tuc_ai AFTER INSERT ON tu BEGIN INSERT INTO tu_code_trgm(rowid, code) VALUES (new.rowid, new.code); END;
CREATE TRIGGER tuc_ad AFTER DELETE ON tu BEGIN INSERT INTO tu_code_trgm(tu_code_trgm, rowid, code) VALUES ('delete', old.rowid, old.code); END;
CREATE VIRTUAL TABLE te_value_trgm USING fts5(value, content='te', content_rowid='rowid', tokenize='trigram case_sensitive 1', detail='none');
CREATE TRIGGER te_ai AFTER INSERT ON te BEGIN INSERT INTO te_value_trgm(rowid, value) VALUES (new.rowid, new.value); END;
CREATE TRIGGER te_ad AFTER DELETE ON te BEGIN INSERT INTO te_value_trgm(te_value_trgm, rowid, value) VALUES ('delete', old.rowid, old.value); END;
`

// trigramValues are stored (folded for the folded columns) and searched
// for: SQL and GLOB wildcards and escapes, quotes, non-ASCII letters whose
// UTF-8 is longer than one byte, and a value whose trigrams all occur in
// "abcxbcd" without "abcd" being a substring of it.
var trigramValues = []string{
	"alice@example.com", "Bob.Smith@Example.COM", "100%_sure!", "a*b?c[d]e", "o'brien", "Jürgen.Groß@example.de",
	"ÀÉÎÕÜ", "İstanbul", "abcxbcd", "x_y%z!!w", "[[*]]", "日本語テキスト", "ab", "", "under_score", "percent%sign",
}

func trigramMappings() (indexed, plain *Mapping) {
	mk := func(fts bool) *Mapping {
		emails := &Child{Table: "te", ParentColumn: "user_id", OrderColumn: "ord"}
		m := &Mapping{Table: "tu", IDColumn: "id", TenantColumn: "tenant_id", Schemas: []string{coreURN},
			Attributes: []Attribute{
				{Path: "id", Type: "string", CaseExact: true, Column: "id"},
				{Path: "userName", Type: "string", Folded: true, Column: "user_name"},
				{Path: "externalId", Type: "string", CaseExact: true, Column: "code"},
				{Path: "emails.value", Type: "string", Folded: true, Column: "value", Child: emails},
			}}
		if fts {
			m.Attributes[1].Trigram = "tu_user_name_trgm"
			m.Attributes[2].Trigram = "tu_code_trgm"
			m.Attributes[3].Trigram = "te_value_trgm"
		}
		return m
	}
	return mk(true), mk(false)
}

// TestTrigramMatchesScan: co and ew served by the FTS5 trigram tables
// select exactly the rows the LIKE/GLOB scan selects, for every stored
// value and every substring of it (and the search values themselves),
// within one tenant, through updates and deletes; short values compile to
// the scan.
func TestTrigramMatchesScan(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(trigramDDL); err != nil {
		t.Fatal(err)
	}
	// Tenant t1 holds every value; t2 holds them too under other ids, so a
	// result leaking across tenants shows.
	for _, tn := range []string{"t1", "t2"} {
		for i, v := range trigramValues {
			id := fmt.Sprintf("%s-%02d", tn, i)
			if _, err := db.Exec(`INSERT INTO tu VALUES (?, ?, ?, ?)`, tn, id, Fold(v), v); err != nil {
				t.Fatal(err)
			}
			// Two emails: the value reversed too, so a user matches through
			// either of its rows.
			rev := []rune(v)
			for a, b := 0, len(rev)-1; a < b; a, b = a+1, b-1 {
				rev[a], rev[b] = rev[b], rev[a]
			}
			for ord, e := range []string{v, string(rev)} {
				if _, err := db.Exec(`INSERT INTO te VALUES (?, ?, ?, ?)`, tn, id, ord, Fold(e)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Rows changed after insertion: the triggers must keep up.
	if _, err := db.Exec(`UPDATE tu SET user_name = ? WHERE id = 't1-00'`, Fold("renamed.alice@example.org")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM tu WHERE id = 't1-01'`); err != nil { // cascades to te
		t.Fatal(err)
	}

	searches := map[string]bool{}
	for _, v := range append(trigramValues, "RENAMED", "bob.smith", "abcd", "ÜRGEN", "istanbul", "İST", "%", "_", "!", "*", "[", "'", "?", "]", "!!", "%_", "[*]", "テキ", "キスト") {
		r := []rune(v)
		for i := range r {
			for j := i + 1; j <= len(r) && j-i <= 6; j++ {
				searches[string(r[i:j])] = true
			}
		}
		searches[v] = true
	}
	var values []string
	for v := range searches {
		values = append(values, v)
	}
	sort.Strings(values)

	indexed, plain := trigramMappings()
	run := func(m *Mapping, f string) ([]string, string) {
		t.Helper()
		e, err := filter.Parse(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		where, args, err := m.Compile(e, SQLite)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rs, err := db.Query(`SELECT r.id FROM `+m.From()+` WHERE r.tenant_id = ? AND (`+where+`) ORDER BY r.id`, append([]any{"t1"}, args...)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, where)
		}
		defer rs.Close()
		var ids []string
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(id, "t1-") {
				t.Errorf("%s: another tenant's row %s", f, id)
			}
			ids = append(ids, id)
		}
		return ids, where
	}
	served, matched := 0, 0
	for _, v := range values {
		lit := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		for _, f := range []string{"userName co " + lit, "userName ew " + lit, "emails.value co " + lit, "emails.value ew " + lit,
			"externalId co " + lit, "not (userName co " + lit + ")", "emails[value co " + lit + "]"} {
			got, where := run(indexed, f)
			want, _ := run(plain, f)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: trigram index gives %v, scan %v\n%s", f, got, want, where)
			}
			long := false
			for _, run := range strings.FieldsFunc(v, func(r rune) bool { return r == '*' || r == '?' || r == '[' }) {
				long = long || len([]rune(Fold(run))) >= 3
			}
			if uses := strings.Contains(where, "_trgm"); uses != long {
				t.Errorf("%s: uses the trigram index: %v, want %v\n%s", f, uses, long, where)
			} else if uses {
				served++
				if len(got) > 0 {
					matched++
				}
			}
		}
	}
	if served < 1000 || matched < 300 {
		t.Errorf("only %d filters served by the index, %d of them matching", served, matched)
	}
}

// TestTrigramSQL pins the shape of the served filters: a rowid lookup in
// the FTS table for a main-table column; for a child column, the
// (tenant, parent) pairs of the matching child rows.
func TestTrigramSQL(t *testing.T) {
	indexed, _ := trigramMappings()
	for f, want := range map[string]string{
		`userName co "Ali%"`:     `r.rowid IN (SELECT rowid FROM "tu_user_name_trgm" WHERE "tu_user_name_trgm"."user_name" GLOB ?) [*ali%*]`,
		`userName ew "Ali*[?"`:   `r.rowid IN (SELECT rowid FROM "tu_user_name_trgm" WHERE "tu_user_name_trgm"."user_name" GLOB ?) [*ali[*][[][?]]`,
		`emails.value co "EXA"`:  `(r."tenant_id", r."id") IN (SELECT c1."tenant_id", c1."user_id" FROM "te" AS c1 WHERE c1.rowid IN (SELECT rowid FROM "te_value_trgm" WHERE "te_value_trgm"."value" GLOB ?)) [*exa*]`,
		`emails[value co "exa"]`: `EXISTS (SELECT 1 FROM "te" AS c1 WHERE c1."tenant_id" = r."tenant_id" AND c1."user_id" = r."id" AND c1.rowid IN (SELECT rowid FROM "te_value_trgm" WHERE "te_value_trgm"."value" GLOB ?)) [*exa*]`,
		`userName co "ab"`:       `r."user_name" LIKE ? ESCAPE '!' [%ab%]`,
		`userName sw "abc"`:      `r."user_name" LIKE ? ESCAPE '!' [abc%]`,
		`userName co "a*b"`:      `r."user_name" LIKE ? ESCAPE '!' [%a*b%]`,
	} {
		e, err := filter.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		where, args, err := indexed.Compile(e, SQLite)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(where, " ", args); got != want {
			t.Errorf("%s:\n got %s\nwant %s", f, got, want)
		}
		// PostgreSQL's pg_trgm index serves the LIKE itself.
		pg, _, err := indexed.Compile(e, Postgres)
		if err != nil || strings.Contains(pg, "_trgm") {
			t.Errorf("%s on PostgreSQL: %s %v", f, pg, err)
		}
	}
}
