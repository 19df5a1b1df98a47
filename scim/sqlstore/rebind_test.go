package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/internal/pgrebind"
)

var rebindCases = []struct{ in, want string }{
	{"SELECT 1", "SELECT 1"},
	{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
	{"?", "$1"},
	{"??", "$1 $2"},
	{"a?", "a $1"},
	{"?1", "$1 1"},
	{"x=?$$?$$", "x=$1 $$?$$"},
	{"WHERE name = '?' AND x = ?", "WHERE name = '?' AND x = $1"},
	{"WHERE name = 'it''s ?' AND x = ?", "WHERE name = 'it''s ?' AND x = $1"},
	{`SELECT "we?ird", "a""?" FROM t WHERE a = ?`, `SELECT "we?ird", "a""?" FROM t WHERE a = $1`},
	{"-- what?\nSELECT ?", "-- what?\nSELECT $1"},
	{"SELECT ? -- trailing ?", "SELECT $1 -- trailing ?"},
	{"SELECT 5 - -? ", "SELECT 5 - -$1 "},
	{"/* a ? /* nested ? */ still ? */ SELECT ?", "/* a ? /* nested ? */ still ? */ SELECT $1"},
	{"SELECT 4/?*2", "SELECT 4/$1*2"},
	// Standard strings take no backslash escapes: '\' is one backslash.
	{`WHERE a LIKE ? ESCAPE '\' AND b = ?`, `WHERE a LIKE $1 ESCAPE '\' AND b = $2`},
	{`SELECT E'it\'s ?', e'\\', ?`, `SELECT E'it\'s ?', e'\\', $1`},
	{`SELECT WHERE'it\'s ?'`, `SELECT WHERE'it\'s $1'`}, // not an E-string: the quote closes after the backslash
	{`SELECT 1E'\'?', ?`, `SELECT 1E'\'?', $1`},         // 1 then E'...'
	{"SELECT 1$$?$$, ?", "SELECT 1$$?$$, $1"},           // 1 then $$...$$
	{"?$$?$$", "$1 $$?$$"},                              // after a parameter too
	{"SELECT $$ ? $$, ?", "SELECT $$ ? $$, $1"},
	{"SELECT $fn$ it's ? $x$ $fn$, ?", "SELECT $fn$ it's ? $x$ $fn$, $1"},
	{"SELECT a$b$, ? FROM t", "SELECT a$b$, $1 FROM t"}, // a$b$ is an identifier
	{"SELECT '?", "SELECT '?"},                          // unterminated: the rest is the literal
	{"SELECT ? /* ?", "SELECT $1 /* ?"},
	{"INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"},
	{"SELECT 'é?', ?, \"ü?\"", "SELECT 'é?', $1, \"ü?\""},
}

func TestRebindPostgres(t *testing.T) {
	for _, c := range rebindCases {
		if got := rebindPostgres(c.in); got != c.want {
			t.Errorf("rebindPostgres(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		if got := rebindPostgres(c.in); got != c.want { // from the memo
			t.Errorf("rebindPostgres(%q) second call = %q", c.in, got)
		}
	}
	if _, ok := rebound.Load(rebindCases[1].in); !ok {
		t.Error("rebound text not memoised")
	}
	// The memo stays bounded however many texts pass through it.
	for i := range maxRebound + 100 {
		q := fmt.Sprintf("SELECT ? FROM t WHERE id IN (%d)", i)
		if got := rebindPostgres(q); !strings.HasPrefix(got, "SELECT $1 ") {
			t.Fatalf("rebindPostgres(%q) = %q", q, got)
		}
	}
	if n := nrebound.Load(); n > maxRebound {
		t.Errorf("memo holds %d texts; bound %d", n, maxRebound)
	}
}

// TestRebindOnServer runs rebound texts on PostgreSQL: the server must see
// exactly the parameters we bind, and the quoted "?" as text.
func TestRebindOnServer(t *testing.T) {
	db, _ := pgDB(t, 2)
	q := rebindPostgres(`SELECT ?::int + ?::int, '?''?', "?", $$?$$ /* ? */ FROM (SELECT ?::text AS "?") s -- ?`)
	var sum int
	var lit, ident, dollar string
	if err := db.QueryRowContext(context.Background(), q, 1, 2, "x").Scan(&sum, &lit, &ident, &dollar); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if sum != 3 || lit != "?'?" || ident != "x" || dollar != "?" {
		t.Errorf("%s = %d, %q, %q, %q", q, sum, lit, ident, dollar)
	}
	q = rebindPostgres(`SELECT 'a_b' LIKE ? ESCAPE '\', E'\'?'`)
	var like bool
	if err := db.QueryRowContext(context.Background(), q, `a\_b`).Scan(&like, &lit); err != nil || !like || lit != "'?" {
		t.Errorf("%s = %v, %q, %v", q, like, lit, err)
	}
}

func FuzzRebindPostgres(f *testing.F) {
	for _, c := range rebindCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := pgrebind.Rebind(q)
		at := refPlaceholders(q)
		// got is q with exactly the unquoted '?' (by an independent
		// scanner) replaced by $1, $2, ... in order.
		var want strings.Builder
		last := 0
		word := func(c byte) bool {
			return c == '_' || c == '$' || c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		}
		for k, i := range at {
			want.WriteString(q[last:i])
			if i > 0 && word(q[i-1]) {
				want.WriteByte(' ') // "a?" must not become the identifier a$1
			}
			want.WriteString("$" + strconv.Itoa(k+1))
			if i+1 < len(q) && (word(q[i+1]) || q[i+1] == '?') {
				want.WriteByte(' ') // "?1" must not become $11, nor "??" $1$2
			}
			last = i + 1
		}
		want.WriteString(q[last:])
		if got != want.String() {
			t.Fatalf("Rebind(%q)\n got %q\nwant %q", q, got, want.String())
		}
		// No unquoted '?' is left over; the $n count is the '?' count.
		if left := refPlaceholders(got); len(left) != 0 {
			t.Fatalf("Rebind(%q) = %q leaves an unquoted ? at %v", q, got, left)
		}
	})
}

// refPlaceholders is a second, deliberately plain scanner: a state machine
// over bytes, listing the offsets of '?' outside literals, quoted
// identifiers and comments.
func refPlaceholders(q string) []int {
	const (
		normal = iota
		single
		escaped // E'...'
		double
		line
		block
		dollar
	)
	var at []int
	state, depth, tag := normal, 0, ""
	inWord, wordStart := false, 0 // an unquoted identifier or keyword is running
	isIdentStart := func(c byte) bool {
		return c == '_' || c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	isIdent := func(c byte) bool { return isIdentStart(c) || c == '$' || c >= '0' && c <= '9' }
	for i := 0; i < len(q); i++ {
		c := q[i]
		next := byte(0)
		if i+1 < len(q) {
			next = q[i+1]
		}
		switch state {
		case normal:
			if inWord && isIdent(c) {
				continue
			}
			wordE := inWord && wordStart == i-1 && (q[i-1] == 'E' || q[i-1] == 'e')
			inWord = false
			switch {
			case c == '?':
				at = append(at, i)
			case c == '\'':
				state = single
				if wordE {
					state = escaped
				}
			case c == '"':
				state = double
			case c == '-' && next == '-':
				state, i = line, i+1
			case c == '/' && next == '*':
				state, depth, i = block, 1, i+1
			case c == '$':
				// $tag$ where tag is empty or an identifier without '$'
				k := i + 1
				if k < len(q) && isIdentStart(q[k]) {
					for k < len(q) && isIdent(q[k]) && q[k] != '$' {
						k++
					}
				}
				if k < len(q) && q[k] == '$' {
					state, tag, i = dollar, q[i:k+1], k
				}
			case isIdentStart(c):
				inWord, wordStart = true, i
			}
		case single, double:
			quote := byte('\'')
			if state == double {
				quote = '"'
			}
			if c == quote {
				if next == quote {
					i++
				} else {
					state = normal
				}
			}
		case escaped:
			switch {
			case c == '\\':
				i++
			case c == '\'' && next == '\'':
				i++
			case c == '\'':
				state = normal
			}
		case line:
			if c == '\n' {
				state = normal
			}
		case block:
			switch {
			case c == '/' && next == '*':
				depth, i = depth+1, i+1
			case c == '*' && next == '/':
				depth, i = depth-1, i+1
				if depth == 0 {
					state = normal
				}
			}
		case dollar:
			if strings.HasPrefix(q[i:], tag) {
				state, i = normal, i+len(tag)-1
			}
		}
	}
	return at
}
