// Package pgrebind numbers "?" placeholders for PostgreSQL. SQL texts in
// scimforge are written once with "?" (SQLite's style); the store rewrites
// them for PostgreSQL (scim/sqlstore, which memoises), and tests that run
// compiled SQL on PostgreSQL directly use the same rewrite. Its tests and
// fuzzer are scim/sqlstore's rebind_test.go (they also cover the memo).
package pgrebind

import (
	"strconv"
	"strings"
)

// Rebind turns the "?" placeholders of q into $1..$n in order. A "?"
// inside a string literal ('...', E'...', $tag$...$tag$), a quoted
// identifier ("...") or a comment (-- ..., /* ... */, nested) is left
// alone. PostgreSQL's jsonb operators ? ?| ?& cannot be written in such a
// text (they would become parameters); use jsonb_exists() and friends.
func Rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); {
		j := i + 1 // end of the token starting at i
		switch c := q[i]; {
		case c == '?':
			n++
			// A '?' touching a word would fuse with it: "a?" as "a$1"
			// is the identifier a$1, "?1" as "$11" the wrong parameter,
			// "??" as "$1$2" trailing junk after a parameter (PostgreSQL 15+).
			// A space keeps the parameter a token of its own.
			if i > 0 && identByte(q[i-1]) {
				b.WriteByte(' ')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			if i+1 < len(q) && (identByte(q[i+1]) || q[i+1] == '?') {
				b.WriteByte(' ')
			}
			i++
			continue
		case c == '\'':
			j = skipQuoted(q, i, '\'', false)
		case c == '"':
			j = skipQuoted(q, i, '"', false)
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			if k := strings.IndexByte(q[i:], '\n'); k >= 0 {
				j = i + k + 1
			} else {
				j = len(q)
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j = skipBlockComment(q, i)
		case c == '$':
			// Words are consumed whole below, so a '$' here starts a
			// token: a dollar quote, or a parameter like $1.
			j = skipDollarQuoted(q, i)
		case identStart(c):
			// Walk over the whole word: a '$' inside it (legal in
			// identifiers: a$b$) does not open a dollar quote.
			for j < len(q) && identByte(q[j]) {
				j++
			}
			// The word E (or e) right before a quote makes an E'...'
			// string, which takes backslash escapes.
			if j == i+1 && (c == 'E' || c == 'e') && j < len(q) && q[j] == '\'' {
				j = skipQuoted(q, j, '\'', true)
			}
		}
		b.WriteString(q[i:j])
		i = j
	}
	return b.String()
}

// skipQuoted returns the index after the literal or identifier opened by
// the quote at i; a doubled quote stands for itself, and with esc a
// backslash escapes the next byte. Unterminated: the rest of q.
func skipQuoted(q string, i int, quote byte, esc bool) int {
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			if esc {
				j++
			}
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// skipBlockComment returns the index after the comment opened at i;
// PostgreSQL's block comments nest.
func skipBlockComment(q string, i int) int {
	depth := 0
	for j := i; j+1 < len(q); j++ {
		switch {
		case q[j] == '/' && q[j+1] == '*':
			depth++
			j++
		case q[j] == '*' && q[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(q)
}

// skipDollarQuoted returns the index after a $tag$...$tag$ string starting
// at i, or i+1 when the '$' opens none (a "$1" parameter, a stray '$').
func skipDollarQuoted(q string, i int) int {
	k := i + 1
	if k < len(q) && q[k] != '$' {
		if !identStart(q[k]) {
			return i + 1
		}
		for k < len(q) && identByte(q[k]) && q[k] != '$' {
			k++
		}
	}
	if k >= len(q) || q[k] != '$' {
		return i + 1
	}
	tag := q[i : k+1]
	if end := strings.Index(q[k+1:], tag); end >= 0 {
		return k + 1 + end + len(tag)
	}
	return len(q)
}

// identStart: a byte that may start an unquoted identifier (non-ASCII
// bytes count as letters, as in PostgreSQL's scanner).
func identStart(c byte) bool {
	return c == '_' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// identByte: a byte that may continue an unquoted identifier.
func identByte(c byte) bool {
	return identStart(c) || c == '$' || (c >= '0' && c <= '9')
}
