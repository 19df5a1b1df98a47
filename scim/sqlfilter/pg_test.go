package sqlfilter

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/scimforge/scimforge/internal/pgrebind"
	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/filter"
)

// The PostgreSQL tests run the compiled SQL on a real server that pgtest
// starts (or on SCIMFORGE_TEST_POSTGRES_URL); without PostgreSQL they fail
// unless SCIMFORGE_TEST_POSTGRES=skip says to skip them.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgDDL follows what the generator emits for PostgreSQL
// (generator/internal/emit/store/migrations.go, sqlType): every text column,
// dateTime included, is TEXT COLLATE "C" (byte order, as SQLite), integers
// BIGINT, decimals DOUBLE PRECISION, booleans BOOLEAN. Folded columns hold
// lower-cased text (see seedPostgres), so plain indexes serve them.
const pgDDL = `
CREATE TABLE scim_users (
	id TEXT COLLATE "C" PRIMARY KEY,
	external_id TEXT COLLATE "C",
	user_name TEXT COLLATE "C" NOT NULL,
	display_name TEXT COLLATE "C",
	title TEXT COLLATE "C",
	active BOOLEAN,
	name_family_name TEXT COLLATE "C",
	name_given_name TEXT COLLATE "C",
	profile_url TEXT COLLATE "C",
	meta_created TEXT COLLATE "C",
	meta_last_modified TEXT COLLATE "C",
	ent_employee_number TEXT COLLATE "C",
	ent_manager_value TEXT COLLATE "C",
	acme_employee_number TEXT COLLATE "C",
	acme_level BIGINT,
	acme_score DOUBLE PRECISION,
	acme_badge TEXT COLLATE "C"
);
CREATE TABLE scim_user_emails (user_id TEXT COLLATE "C" NOT NULL REFERENCES scim_users(id), value TEXT COLLATE "C", type TEXT COLLATE "C", "primary" BOOLEAN);
CREATE TABLE scim_user_tags (user_id TEXT COLLATE "C" NOT NULL REFERENCES scim_users(id), ord BIGINT NOT NULL, value TEXT COLLATE "C");
CREATE TABLE scim_group_members (group_id TEXT COLLATE "C" NOT NULL, member_id TEXT COLLATE "C" NOT NULL, member_type TEXT COLLATE "C" NOT NULL);
CREATE UNIQUE INDEX scim_users_user_name_key ON scim_users(user_name);
CREATE INDEX scim_user_emails_user ON scim_user_emails(user_id);
`

// openPostgres creates a fresh database on the shared server, creates the
// tables and seeds seedUsers the way the store writes them: the columns
// the mapping marks Folded hold Fold(value).
func openPostgres(t *testing.T, m *Mapping) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.Shared(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, pgDDL); err != nil {
		t.Fatal(err)
	}
	folded := map[string]bool{} // "table.column"
	for _, a := range m.Attributes {
		if a.Folded {
			table := m.Table
			if a.Child != nil {
				table = a.Child.Table
			}
			folded[table+"."+a.Column] = true
		}
	}
	insert := func(table string, cols []string, vals ...any) {
		t.Helper()
		ph := make([]string, len(cols))
		for i, c := range cols {
			ph[i] = "$" + strconv.Itoa(i+1)
			if s, ok := vals[i].(string); ok && folded[table+"."+c] {
				vals[i] = Fold(s)
			}
		}
		q := "INSERT INTO " + quoteIdent(table) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
		if _, err := conn.Exec(ctx, q, vals...); err != nil {
			t.Fatalf("%s %v: %v", q, vals, err)
		}
	}
	userCols := []string{"id", "external_id", "user_name", "display_name", "title", "active", "name_family_name", "name_given_name",
		"profile_url", "meta_created", "meta_last_modified", "ent_employee_number", "ent_manager_value", "acme_employee_number",
		"acme_level", "acme_score", "acme_badge"}
	for _, u := range seedUsers {
		insert("scim_users", userCols, u.id, u.externalID, u.userName, u.displayName, u.title, u.active, u.family, u.given,
			u.profileURL, u.created, u.lastModified, u.empNo, u.manager, u.acmeEmp, u.level, u.score, u.badge)
		for _, e := range u.emails {
			insert("scim_user_emails", []string{"user_id", "value", "type", `"primary"`}, u.id, e.value, e.typ, e.primary)
		}
		for i, tg := range u.tags {
			insert("scim_user_tags", []string{"user_id", "ord", "value"}, u.id, int64(i), tg)
		}
		for _, g := range u.groups {
			insert("scim_group_members", []string{"group_id", "member_id", "member_type"}, g, u.id, memberType(g))
		}
	}
	return conn
}

// pgQueryIDs runs "SELECT r.id ... WHERE where" in the given execution mode
// and returns the ids, sorted like queryIDs.
func pgQueryIDs(conn *pgx.Conn, m *Mapping, mode pgx.QueryExecMode, where string, args []any) ([]string, error) {
	rows, err := conn.Query(context.Background(), pgrebind.Rebind("SELECT r.id FROM "+m.From()+" WHERE "+where),
		append([]any{mode}, args...)...)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if len(ids) == 0 {
		ids = nil // as queryIDs and ids("") return
	}
	sortIDs(ids)
	return ids, err
}

// TestExecPostgres runs every execution case on PostgreSQL, and its
// negation, which must select exactly the other resources. Each runs twice:
// as a cached prepared statement (the server infers the parameter types from
// the SQL) and in exec mode, as sqlstore runs queries (the parameter types
// follow the Go values: text, bool, int8, float8).
func TestExecPostgres(t *testing.T) {
	m := newUserMapping()
	conn := openPostgres(t, m)
	modes := []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec}
	all, err := pgQueryIDs(conn, m, modes[0], "TRUE", nil)
	if err != nil || len(all) != len(seedUsers) {
		t.Fatalf("all rows: %v %v", all, err)
	}
	for _, c := range append(execCases[:len(execCases):len(execCases)], longCases()...) {
		if c.sqliteOnly {
			continue
		}
		e, err := filter.Parse(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		want := ids(c.want)
		in := map[string]bool{}
		for _, id := range want {
			in[id] = true
		}
		var notWant []string
		for _, id := range all {
			if !in[id] {
				notWant = append(notWant, id)
			}
		}
		for _, neg := range []bool{false, true} {
			x, w, name := e, want, c.filter
			if neg {
				x, w, name = &filter.Not{X: e}, notWant, "not ("+c.filter+")"
			}
			where, args, err := m.Compile(x, Postgres)
			if err != nil {
				t.Fatalf("%.80s: %v", name, err)
			}
			for _, mode := range modes {
				got, err := pgQueryIDs(conn, m, mode, where, args)
				if err != nil {
					t.Errorf("%.80s (%v): %v\nSQL: %.300s\nargs: %#v", name, mode, err, where, args)
					continue
				}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("%.80s (%v): got %v, want %v\nSQL: %.300s\nargs: %#v", name, mode, got, w, where, args)
				}
			}
		}
	}
}

func TestOrderByPostgres(t *testing.T) {
	m := newUserMapping()
	conn := openPostgres(t, m)
	for _, c := range []struct {
		path string
		desc bool
		want string
	}{
		// The stored, folded values in byte order: "ülrich" after ASCII,
		// as in SQLite.
		{"userName", false, "u5 u4 u1 u10 u8 u2 u3 u9 u7 u6"},
		{"username", true, "u6 u7 u9 u3 u2 u8 u10 u1 u4 u5"},
		{"meta.created", false, "u4 u1 u2 u3 u5 u6 u7 u8 u10 u9"},
		{"meta.created", true, "u9 u10 u8 u7 u6 u5 u3 u2 u1 u4"},
		{"level", false, "u5 u1 u2 u4 u10 u3 u6 u7 u8 u9"},
		{"emails", false, "u4 u1 u5 u2 u7 u10 u3 u6 u8 u9"},
		{"emails.value", true, "u10 u3 u6 u8 u9 u7 u2 u5 u1 u4"},
		{"emails.type", false, "u5 u4 u1 u2 u9 u10 u3 u6 u7 u8"},
		{entURN + ":employeeNumber", false, "u1 u2 u4 u10 u3 u5 u6 u7 u8 u9"},
		{"groups.value", true, "u10 u3 u5 u6 u7 u8 u9 u4 u1 u2"},
		// member_type is stored as written ("USER" for g3, "User"
		// otherwise): lower() makes them equal, so the id decides.
		{"groups.type", false, "u1 u2 u4 u10 u3 u5 u6 u7 u8 u9"},
		{"tags", false, "u2 u1 u10 u3 u4 u5 u6 u7 u8 u9"},
		{"tags", true, "u10 u3 u4 u5 u6 u7 u8 u9 u1 u2"},
	} {
		ob, err := m.OrderBy(c.path, c.desc, Postgres)
		if err != nil {
			t.Fatal(err)
		}
		// r.id is COLLATE "C", so the tie-breaker is byte order as in SQLite.
		rows, err := conn.Query(context.Background(), "SELECT r.id FROM "+m.From()+" ORDER BY "+ob+", r.id")
		if err != nil {
			t.Fatalf("%s: %v", ob, err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", ob, err)
		}
		if !reflect.DeepEqual(got, strings.Fields(c.want)) {
			t.Errorf("sortBy=%s desc=%v: got %v, want %v\n%s", c.path, c.desc, got, c.want, ob)
		}
	}
}
