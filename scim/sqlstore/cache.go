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
type Cache struct {
	mu    sync.RWMutex
	m     map[string]*cached
	max   int
	epoch atomic.Uint64
}

type cached struct {
	row  any
	base string // the base URL the row's derived fragments were built with
}

// NewCache returns a cache of at most max rows.
func NewCache(max int) *Cache { return &Cache{m: make(map[string]*cached, 1024), max: max} }

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

// Put stores a row read since Begin returned epoch, unless something was
// invalidated in between. The row must not be modified afterwards.
func (c *Cache) Put(table, id string, row any, base string, epoch uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if len(c.m) >= c.max {
		// Drop about a tenth, in map order (effectively random).
		n := c.max / 10
		for k := range c.m {
			delete(c.m, k)
			if n--; n <= 0 {
				break
			}
		}
	}
	c.m[cacheKey(table, id)] = &cached{row: row, base: base}
}

// Invalidate forgets rows of table; call it after the write commits.
func (c *Cache) Invalidate(table string, ids ...string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.epoch.Add(1)
	for _, id := range ids {
		delete(c.m, cacheKey(table, id))
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
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}
