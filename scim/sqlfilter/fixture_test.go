package sqlfilter

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

const (
	coreURN = "urn:ietf:params:scim:schemas:core:2.0:User"
	entURN  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	acmeURN = "urn:example:params:scim:schemas:extension:acme:1.0:User"
)

// newUserMapping returns a mapping shaped like the generated SCIM User one.
func newUserMapping() *Mapping {
	emails := &Child{Table: "scim_user_emails", ParentColumn: "user_id"}
	groups := &Child{Table: "scim_group_members", ParentColumn: "member_id"}
	tags := &Child{Table: "scim_user_tags", ParentColumn: "user_id", OrderColumn: "ord"}
	return &Mapping{
		Table:    "scim_users",
		IDColumn: "id",
		Schemas:  []string{coreURN, entURN, acmeURN},
		Attributes: []Attribute{
			{Path: "id", Type: "string", CaseExact: true, Column: "id"},
			{Path: "externalId", Type: "string", CaseExact: true, Column: "external_id"},
			{Path: "userName", Type: "string", Folded: true, Column: "user_name"},
			{Path: "displayName", Type: "string", Folded: true, Column: "display_name"},
			{Path: "title", Type: "string", Folded: true, Column: "title"},
			{Path: "active", Type: "boolean", Column: "active"},
			{Path: "name.familyName", Type: "string", Folded: true, Column: "name_family_name"},
			{Path: "name.givenName", Type: "string", Folded: true, Column: "name_given_name"},
			{Path: "profileUrl", Type: "reference", CaseExact: true, Column: "profile_url"},
			{Path: "emails.value", Type: "string", Folded: true, Column: "value", Child: emails},
			{Path: "emails.type", Type: "string", Folded: true, Column: "type", Child: emails},
			{Path: "emails.primary", Type: "boolean", Column: "primary", Child: emails},
			{Path: "groups.value", Type: "string", CaseExact: true, Column: "group_id", Child: groups},
			// Written as is, not folded, like the membership table's
			// member_type ("User"): Compile folds the column in SQL.
			{Path: "groups.type", Type: "string", Column: "member_type", Child: groups},
			{Path: "meta.created", Type: "dateTime", Column: "meta_created"},
			{Path: "meta.lastModified", Type: "dateTime", Column: "meta_last_modified"},
			{Path: entURN + ":employeeNumber", Type: "string", Folded: true, Column: "ent_employee_number"},
			{Path: entURN + ":manager.value", Type: "string", CaseExact: true, Column: "ent_manager_value"},
			{Path: acmeURN + ":employeeNumber", Type: "string", CaseExact: true, Column: "acme_employee_number"},
			{Path: acmeURN + ":level", Type: "integer", Column: "acme_level"},
			{Path: acmeURN + ":score", Type: "decimal", Column: "acme_score"},
			{Path: acmeURN + ":badge", Type: "binary", Column: "acme_badge"},
			{Path: acmeURN + ":tags", Type: "string", Folded: true, Column: "value", Child: tags},
		},
	}
}

// SQLite DDL following the storage design: NOCASE on caseExact=false text.
const sqliteDDL = `
CREATE TABLE scim_users (
	id TEXT PRIMARY KEY,
	external_id TEXT,
	user_name TEXT COLLATE NOCASE NOT NULL,
	display_name TEXT COLLATE NOCASE,
	title TEXT COLLATE NOCASE,
	active INTEGER,
	name_family_name TEXT COLLATE NOCASE,
	name_given_name TEXT COLLATE NOCASE,
	profile_url TEXT,
	meta_created TEXT,
	meta_last_modified TEXT,
	ent_employee_number TEXT COLLATE NOCASE,
	ent_manager_value TEXT,
	acme_employee_number TEXT,
	acme_level INTEGER,
	acme_score REAL,
	acme_badge TEXT
);
CREATE TABLE scim_user_emails (user_id TEXT NOT NULL REFERENCES scim_users(id), value TEXT COLLATE NOCASE, type TEXT COLLATE NOCASE, "primary" INTEGER);
CREATE TABLE scim_user_tags (user_id TEXT NOT NULL REFERENCES scim_users(id), ord INTEGER NOT NULL, value TEXT COLLATE NOCASE);
CREATE TABLE scim_group_members (group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_type TEXT NOT NULL);
CREATE INDEX scim_users_user_name ON scim_users(user_name);
CREATE INDEX scim_user_emails_user ON scim_user_emails(user_id);
`

type email struct {
	value, typ any // string or nil
	primary    any // bool or nil
}

// seedUser is one row of scim_users plus its child rows. nil means NULL.
type seedUser struct {
	id, externalID, userName, displayName, title any
	active                                       any
	family, given, profileURL                    any
	created, lastModified                        any // SQLite text layout
	empNo, manager, acmeEmp                      any
	level, score, badge                          any
	emails                                       []email
	tags                                         []string
	groups                                       []string
}

var seedUsers = []seedUser{
	{id: "u1", externalID: "EXT-1", userName: "bjensen", displayName: "Barbara Jensen", title: "Tour Guide", active: true,
		family: "Jensen", given: "Barbara", profileURL: "https://example.com/bjensen",
		created: "2024-01-01T00:00:00.000000000Z", lastModified: "2024-06-01T12:00:00.000000000Z",
		empNo: "701984", manager: "u2", acmeEmp: "A-1", level: int64(3), score: 4.5, badge: "QUJD",
		emails: []email{{"bjensen@example.com", "work", true}, {"babs@jensen.org", "home", false}},
		tags:   []string{"vip", "remote"}, groups: []string{"g1"}},
	{id: "u2", externalID: "ext-2", userName: "jsmith", displayName: "John Smith", active: false,
		family: "Smith", given: "John",
		created: "2024-02-01T00:00:00.000000000Z", lastModified: "2024-02-15T08:30:00.500000000Z",
		empNo: "701985", level: int64(5), score: 3.25,
		emails: []email{{"john@EXAMPLE.com", "work", nil}},
		tags:   []string{"remote"}, groups: []string{"g1", "g2"}},
	{id: "u3", externalID: "jyoung", userName: "JYoung", displayName: "Jane Young", title: "",
		family:  "Young",
		created: "2024-03-01T00:00:00.000000000Z", lastModified: "2024-03-01T00:00:00.000000000Z"},
	{id: "u4", externalID: "EXT-4", userName: "alice_x", title: "Engineer", active: true,
		created: "2023-12-31T23:59:59.999000000Z", lastModified: "2023-12-31T23:59:59.999000000Z",
		empNo: "701986", level: int64(10), score: -1.0,
		emails: []email{{"a%b@x.com", "other", true}}, groups: []string{"g2", "g3"}},
	{id: "u5", externalID: "Ext-5", userName: "100%real", displayName: "Percent", title: "engineer", active: true,
		created: "2024-05-05T05:05:05.000000000Z", level: int64(0), score: 0.0,
		emails: []email{{"five@example.org", "work", false}, {"five@home.example", "home", true}}},
	{id: "u6", externalID: "ülrich-ext", userName: "Ülrich", displayName: "Ülrich Ümlaut", active: true,
		created: "2024-06-01T00:00:00.000000000Z"},
	{id: "u7", externalID: "EXT-7", userName: "o'brien", displayName: "Pat O'Brien", title: "Tour Guide", active: false,
		created: "2024-07-01T00:00:00.000000000Z",
		emails:  []email{{"ob@x.com", nil, nil}}},
	{id: "u8", externalID: "a*b?c[d]", userName: "globber", active: true,
		created: "2024-08-01T00:00:00.000000000Z"},
	{id: "u9", externalID: "EXT-9", userName: "nullmail", active: true,
		emails: []email{{nil, "work", false}}},
	{id: "u10", externalID: "EXT-10", userName: "deactivated", title: "Manager", active: false,
		created: "2024-10-01T00:00:00.000000000Z"},
}

// memberType is the member type stored for a membership, as written
// ("User"); in group g3 it is spelt "USER" to show the column is not folded.
func memberType(group string) string {
	if group == "g3" {
		return "USER"
	}
	return "User"
}

// openSQLite creates and seeds a fresh SQLite database in a temp dir.
func openSQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", filepath.Join(tb.TempDir(), "scim.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(sqliteDDL); err != nil {
		tb.Fatal(err)
	}
	b := func(v any) any {
		if x, ok := v.(bool); ok {
			if x {
				return int64(1)
			}
			return int64(0)
		}
		return v
	}
	for _, u := range seedUsers {
		_, err := db.Exec(`INSERT INTO scim_users VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			u.id, u.externalID, u.userName, u.displayName, u.title, b(u.active), u.family, u.given, u.profileURL,
			u.created, u.lastModified, u.empNo, u.manager, u.acmeEmp, u.level, u.score, u.badge)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range u.emails {
			if _, err := db.Exec(`INSERT INTO scim_user_emails VALUES (?,?,?,?)`, u.id, e.value, e.typ, b(e.primary)); err != nil {
				tb.Fatal(err)
			}
		}
		for i, t := range u.tags {
			if _, err := db.Exec(`INSERT INTO scim_user_tags VALUES (?,?,?)`, u.id, i, t); err != nil {
				tb.Fatal(err)
			}
		}
		for _, g := range u.groups {
			if _, err := db.Exec(`INSERT INTO scim_group_members VALUES (?,?,?)`, g, u.id, memberType(g)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return db
}

// queryIDs runs the compiled filter and returns the matching ids, sorted.
func queryIDs(db *sql.DB, m *Mapping, where string, args []any) ([]string, error) {
	rows, err := db.Query("SELECT r.id FROM "+m.From()+" WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	sortIDs(ids)
	return ids, rows.Err()
}

// sortIDs sorts "u2" before "u10".
func sortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		if len(ids[i]) != len(ids[j]) {
			return len(ids[i]) < len(ids[j])
		}
		return ids[i] < ids[j]
	})
}

// ids expands "1 2 10" to [u1 u2 u10].
func ids(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		out = append(out, "u"+f)
	}
	return out
}

func fmtIDs(ids []string) string { return fmt.Sprint(ids) }
