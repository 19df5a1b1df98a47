package sqlfilter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimforge/scimforge/scim/filter"
)

// The Postgres tests run the compiled SQL on a real server through psql
// (the module has no Postgres driver). They are skipped unless
// SCIMFORGE_TEST_PSQL holds psql connection options, for example
//
//	SCIMFORGE_TEST_PSQL="host=/tmp/pg port=5432 user=postgres dbname=postgres"
//
// The test creates and drops its own database.

type psql struct {
	t    *testing.T
	conn string
}

func newPsql(t *testing.T) *psql {
	conn := os.Getenv("SCIMFORGE_TEST_PSQL")
	if conn == "" {
		t.Skip("SCIMFORGE_TEST_PSQL not set")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql not installed")
	}
	admin := &psql{t: t, conn: conn}
	db := fmt.Sprintf("sqlfilter_test_%d", time.Now().UnixNano())
	admin.run("CREATE DATABASE " + db)
	t.Cleanup(func() { admin.run("DROP DATABASE IF EXISTS " + db) })
	return &psql{t: t, conn: conn + " dbname=" + db}
}

// run executes a script and returns stdout; any error fails the test.
func (p *psql) run(script string) string {
	p.t.Helper()
	out, err := p.exec(script, true)
	if err != nil {
		p.t.Fatalf("psql: %v\n%s", err, out)
	}
	return out
}

func (p *psql) exec(script string, stopOnError bool) (string, error) {
	args := []string{"-X", "-q", "-A", "-t", "-d", p.conn}
	if stopOnError {
		args = append(args, "-v", "ON_ERROR_STOP=1")
	}
	cmd := exec.Command("psql", args...)
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// literal renders a test value as a SQL literal (test data only).
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case bool:
		if v {
			return "TRUE"
		}
		return "FALSE"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return "'" + v.Format(time.RFC3339Nano) + "'"
	}
	panic(fmt.Sprintf("literal %T", v))
}

func seedPostgres(p *psql) {
	var b strings.Builder
	b.WriteString(pgDDL)
	for _, u := range seedUsers {
		vals := []any{u.id, u.externalID, u.userName, u.displayName, u.title, u.active, u.family, u.given, u.profileURL,
			u.created, u.lastModified, u.empNo, u.manager, u.acmeEmp, u.level, u.score, u.badge}
		lits := make([]string, len(vals))
		for i, v := range vals {
			lits[i] = literal(v)
		}
		fmt.Fprintf(&b, "INSERT INTO scim_users VALUES (%s);\n", strings.Join(lits, ","))
		for _, e := range u.emails {
			fmt.Fprintf(&b, "INSERT INTO scim_user_emails VALUES (%s,%s,%s,%s);\n", literal(u.id), literal(e.value), literal(e.typ), literal(e.primary))
		}
		for i, tg := range u.tags {
			fmt.Fprintf(&b, "INSERT INTO scim_user_tags VALUES (%s,%d,%s);\n", literal(u.id), i, literal(tg))
		}
		for _, g := range u.groups {
			fmt.Fprintf(&b, "INSERT INTO scim_group_members VALUES (%s,%s,%s);\n", literal(g), literal(u.id), literal(memberType(g)))
		}
	}
	p.run(b.String())
}

// TestExecPostgres runs every execution case on Postgres with server-side
// prepared statements, so placeholders and parameter typing are exercised.
func TestExecPostgres(t *testing.T) {
	p := newPsql(t)
	seedPostgres(p)
	m := newUserMapping()
	var script strings.Builder
	var cases []execCase
	for i, c := range append(execCases[:len(execCases):len(execCases)], longCases()...) {
		if c.sqliteOnly {
			continue
		}
		e, err := filter.Parse(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		where, args, err := m.Compile(e, Postgres)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		cases = append(cases, c)
		lits := make([]string, len(args))
		for j, a := range args {
			lits[j] = literal(a)
		}
		fmt.Fprintf(&script, "\\echo ==%d\n", len(cases)-1)
		fmt.Fprintf(&script, "PREPARE q%d AS SELECT r.id FROM %s WHERE %s ORDER BY length(r.id), r.id;\n", i, m.From(), where)
		if len(lits) > 0 {
			fmt.Fprintf(&script, "EXECUTE q%d(%s);\n", i, strings.Join(lits, ", "))
		} else {
			fmt.Fprintf(&script, "EXECUTE q%d;\n", i)
		}
	}
	out, _ := p.exec(script.String(), false)
	results := map[int][]string{}
	cur := -1
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "=="):
			cur, _ = strconv.Atoi(line[2:])
			results[cur] = []string{}
		case strings.Contains(line, "ERROR"):
			t.Errorf("case %d %q: %s", cur, cases[cur].filter, line)
		case line != "":
			results[cur] = append(results[cur], line)
		}
	}
	for i, c := range cases {
		want := ids(c.want)
		if want == nil {
			want = []string{}
		}
		if got := results[i]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", c.filter, got, want)
		}
	}
}

func TestOrderByPostgres(t *testing.T) {
	p := newPsql(t)
	seedPostgres(p)
	m := newUserMapping()
	for _, c := range []struct {
		path string
		desc bool
		want string
	}{
		{"meta.created", false, "u4 u1 u2 u3 u5 u6 u7 u8 u10 u9"},
		{"meta.created", true, "u9 u10 u8 u7 u6 u5 u3 u2 u1 u4"},
		{"level", false, "u5 u1 u2 u4 u10 u3 u6 u7 u8 u9"},
		{"emails", false, "u4 u1 u5 u2 u7 u10 u3 u6 u8 u9"},
		{"emails.type", false, "u5 u4 u1 u2 u9 u10 u3 u6 u7 u8"},
		{"groups.value", true, "u10 u3 u5 u6 u7 u8 u9 u4 u1 u2"},
		{"tags", false, "u2 u1 u10 u3 u4 u5 u6 u7 u8 u9"},
	} {
		ob, err := m.OrderBy(c.path, c.desc, Postgres)
		if err != nil {
			t.Fatal(err)
		}
		out := p.run("SELECT r.id FROM " + m.From() + " ORDER BY " + ob + ", r.id COLLATE \"C\";")
		if got := strings.Fields(out); !reflect.DeepEqual(got, strings.Fields(c.want)) {
			t.Errorf("sortBy=%s desc=%v: got %v, want %v\n%s", c.path, c.desc, got, c.want, ob)
		}
	}
}
