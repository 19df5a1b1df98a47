package sqlstore

import (
	"strconv"
	"strings"
)

// TEMPORARY until the PostgreSQL helpers (pg.go) land: numbers "?"
// placeholders outside quotes.
func rebindPostgres(q string) string {
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
