package sqlstore

import (
	"sync"
	"sync/atomic"
)

// Cache holds recently read resource rows so that a GET by id can skip the
// database. It is only correct when this process is the only writer of the
// database, so Open creates one only after taking the database's exclusive
// lock; every write goes through the engine, which invalidates what it
// changed once the write has committed.
//
// Race: a reader may read a row, then a writer commits and invalidates, and
// only then the reader stores its (now stale) row. The epoch closes that
// gap: Put stores nothing if any invalidation happened since the reader's
// Begin.
//
// The cache is bounded by bytes, not rows: resources differ in size by two
// orders of magnitude (a bare user against one with hundreds of groups),
// and what an operator budgets is memory. Each entry's cost is the size the
// caller reports plus entryOverhead.
type Cache struct {
	mu    sync.RWMutex
	m     map[string]*cached
	max   int64 // bytes
	used  int64 // bytes, under mu
	epoch atomic.Uint64
}

type cached struct {
	row  any
	base string // the base URL the row's derived fragments were built with
	cost int64
}

// entryOverhead approximates what an entry costs beyond the row's own
// bytes: the map slot, the key string, the entry and row headers.
const entryOverhead = 200

// NewCache returns a cache that holds at most maxBytes of rows.
func NewCache(maxBytes int64) *Cache {
	return &Cache{m: make(map[string]*cached, 1024), max: maxBytes}
}

// Used is the number of bytes the cached rows are charged.
func (c *Cache) Used() int64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.used
}

func cacheKey(table, id string) string { return table + "\x00" + id }

// Get returns the row stored for table and id with the same base URL.
func (c *Cache) Get(table, id, base string) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e := c.m[cacheKey(table, id)]
	c.mu.RUnlock()
	if e == nil || e.base != base {
		return nil, false
	}
	return e.row, true
}

// Begin returns the epoch to pass to Put; call it before reading.
func (c *Cache) Begin() uint64 {
	if c == nil {
		return 0
	}
	return c.epoch.Load()
}

// Put stores a row of about size bytes read since Begin returned epoch,
// unless something was invalidated in between. The row must not be
// modified afterwards.
func (c *Cache) Put(table, id string, row any, size int, base string, epoch uint64) {
	if c == nil {
		return
	}
	key := cacheKey(table, id)
	cost := int64(size) + int64(len(key)+len(base)) + entryOverhead
	if cost > c.max/8 {
		return // one huge row must not flush everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if old := c.m[key]; old != nil {
		c.used -= old.cost
	}
	if c.used+cost > c.max {
		// Drop entries in map order (effectively random) down to 90% of
		// the budget, so eviction runs once per many Puts, not per Put.
		for k, e := range c.m {
			delete(c.m, k)
			c.used -= e.cost
			if c.used+cost <= c.max*9/10 {
				break
			}
		}
	}
	c.m[key] = &cached{row: row, base: base, cost: cost}
	c.used += cost
}

// drop removes key, under mu.
func (c *Cache) drop(key string) {
	if e := c.m[key]; e != nil {
		c.used -= e.cost
		delete(c.m, key)
	}
}

// Invalidate forgets rows of table; call it after the write commits.
func (c *Cache) Invalidate(table string, ids ...string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.epoch.Add(1)
	for _, id := range ids {
		c.drop(cacheKey(table, id))
	}
	c.mu.Unlock()
}

// InvalidateTable forgets every row of table. A group rename changes the
// derived "groups" of all its members; purging their table costs a scan
// of the cache instead of reading a possibly huge member list.
func (c *Cache) InvalidateTable(table string) {
	if c == nil {
		return
	}
	prefix := table + "\x00"
	c.mu.Lock()
	c.epoch.Add(1)
	for k := range c.m {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			c.drop(k)
		}
	}
	c.mu.Unlock()
}
