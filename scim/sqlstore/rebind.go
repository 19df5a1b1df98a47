package sqlstore

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scimforge/scimforge/internal/pgrebind"
)

// SQL texts are written once with "?" placeholders; PostgreSQL wants $1, $2,
// ... The same few hundred texts repeat on every request, so each is
// rewritten once and remembered.
var (
	rebound  sync.Map // query text -> rewritten text
	nrebound atomic.Int64
)

// maxRebound bounds the memo: texts whose shape comes from the request (an
// IN list's length, a filter's shape) must not grow it without limit.
// Past the bound texts are still rewritten, just not remembered.
const maxRebound = 4096

// rebindPostgres is pgrebind.Rebind, remembered per query text.
func rebindPostgres(query string) string {
	if strings.IndexByte(query, '?') < 0 {
		return query
	}
	if r, ok := rebound.Load(query); ok {
		return r.(string)
	}
	r := pgrebind.Rebind(query)
	if nrebound.Load() < maxRebound {
		if _, loaded := rebound.LoadOrStore(query, r); !loaded {
			nrebound.Add(1)
		}
	}
	return r
}
