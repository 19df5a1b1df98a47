package sqlstore

import (
	"fmt"
	"testing"
)

// TestCacheBoundedByBytes: the cache never holds more bytes than its
// budget, whatever the row sizes, and stale Puts are refused.
func TestCacheBoundedByBytes(t *testing.T) {
	const budget = 1 << 20
	c := NewCache(budget)
	for i := range 20000 {
		size := 100 + (i%50)*300 // 100 B to 15 KB
		c.Put("users", fmt.Sprint(i), i, size, "http://x", c.Begin())
		if c.Used() > budget {
			t.Fatalf("after %d puts: %d bytes used, budget %d", i+1, c.Used(), budget)
		}
	}
	if c.Used() < budget/2 {
		t.Fatalf("only %d of %d bytes used: eviction drops too much", c.Used(), budget)
	}
	// The accounting matches the entries.
	var sum int64
	for _, e := range c.m {
		sum += e.cost
	}
	if sum != c.Used() {
		t.Fatalf("entries cost %d, Used says %d", sum, c.Used())
	}
	// Replacing and invalidating keep the accounting right.
	c.Put("users", "k", 1, 1000, "http://x", c.Begin())
	c.Put("users", "k", 2, 10, "http://x", c.Begin())
	if row, ok := c.Get("users", "k", "http://x"); !ok || row != 2 {
		t.Fatalf("Get after replace: %v %v", row, ok)
	}
	c.Invalidate("users", "k")
	c.InvalidateTable("users")
	if c.Used() != 0 || len(c.m) != 0 {
		t.Fatalf("after invalidating everything: %d bytes, %d entries", c.Used(), len(c.m))
	}
	// A row read before an invalidation is not stored.
	epoch := c.Begin()
	c.Invalidate("users", "other")
	c.Put("users", "late", 3, 10, "http://x", epoch)
	if _, ok := c.Get("users", "late", "http://x"); ok {
		t.Fatal("a row read before an invalidation was cached")
	}
	// One row larger than an eighth of the budget is not cached at all.
	c.Put("users", "huge", 4, budget/4, "http://x", c.Begin())
	if _, ok := c.Get("users", "huge", "http://x"); ok {
		t.Fatal("a huge row was cached")
	}
}
