package pgtest

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// The package's shared server, started by the first Shared call.
var shared struct {
	mu      sync.Mutex
	inMain  bool
	started bool
	srv     *Server
	err     error
}

// Main runs the package's tests (call it from TestMain) and stops the
// shared server afterwards, if a test started one.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
		shared.srv = nil
	}
	return code
}

// Shared returns the package's server, starting it on first use. When
// PostgreSQL cannot be started the test fails, unless
// SCIMFORGE_TEST_POSTGRES=skip, which skips it.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	switch mode := os.Getenv(EnvMode); mode {
	case "":
	case "skip":
		tb.Skip(EnvMode + "=skip: not testing PostgreSQL")
	default:
		tb.Fatalf("%s=%q: the only value is \"skip\"", EnvMode, mode)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		tb.Fatal("pgtest.Shared needs TestMain to call pgtest.Main (it stops the server)")
	}
	if !shared.started {
		shared.started = true
		shared.srv, shared.err = Start()
	}
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.srv
}
