package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}
func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestWritesWithoutATimer: a line reaches the output without anyone
// flushing (no 100 ms window to lose on kill -9), and Close drains.
func TestWritesWithoutATimer(t *testing.T) {
	var out syncBuf
	w := New(&out)
	w.Write([]byte("one\n"))
	deadline := time.Now().Add(2 * time.Second)
	for out.String() != "one\n" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	if out.String() != "one\n" {
		t.Fatalf("not written: %q", out.String())
	}
	w.Write([]byte("two\n"))
	w.Close()
	if out.String() != "one\ntwo\n" {
		t.Fatalf("not drained on close: %q", out.String())
	}
	w.Write([]byte("three\n")) // after Close: straight through
	if out.String() != "one\ntwo\nthree\n" {
		t.Fatalf("after close: %q", out.String())
	}
}

// slowOut takes a while per write, as a terminal or a full pipe does.
type slowOut struct{ syncBuf }

func (s *slowOut) Write(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	return s.syncBuf.Write(p)
}

// TestCoalescesUnderLoad: lines written while the output is busy go out
// together, whole and in order per writer.
func TestCoalescesUnderLoad(t *testing.T) {
	var out slowOut
	w := New(&out)
	var wg sync.WaitGroup
	const writers, lines = 8, 200
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	next := make([]int, writers)
	for _, l := range got {
		var g, i int
		if _, err := fmt.Sscanf(l, "g%d line %d", &g, &i); err != nil || i != next[g] {
			t.Fatalf("line %q out of order or torn (want g%d line %d)", l, g, next[g])
		}
		next[g]++
	}
	if out.writes >= writers*lines/4 {
		t.Errorf("%d writes for %d lines: not coalesced", out.writes, writers*lines)
	}
	w.Close()
}
