package engine

import (
	"sync"
	"testing"
)

func TestKeyLocks(t *testing.T) {
	var k keyLocks
	var wg sync.WaitGroup
	var a, b int
	counters := map[string]*int{"a": &a, "b": &b} // read-only map
	for i := 0; i < 200; i++ {
		key := "a"
		if i%2 == 1 {
			key = "b"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer k.lock(key)()
			c := counters[key]
			n := *c // a data race (go test -race) unless serialised per key
			*c = n + 1
		}()
	}
	wg.Wait()
	if a != 100 || b != 100 {
		t.Errorf("counters %d, %d; want 100 each", a, b)
	}
	if len(k.m) != 0 {
		t.Errorf("%d lock entries left after use", len(k.m))
	}
}
