package conformance

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
)

// Logger is a logger for the server under test: it keeps the records of
// level Warn and above and prints them when t fails, so that a 500 comes
// with its cause; a passing run prints nothing (the access log is noise).
func Logger(t testing.TB) *slog.Logger {
	b := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() && b.Len() > 0 {
			t.Logf("server log (warnings and errors):\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// lockedBuffer is written by the server's goroutines and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
