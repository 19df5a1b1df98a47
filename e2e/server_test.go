package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/scimforge/scimforge/internal/pgtest"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// token is the bearer token every test server is started with.
const token = "e2e-secret-token-0123456789abcdef"

// binPath is the server binary TestMain builds once per "go test" run.
var binPath string

// engine is the database the servers use: SCIMFORGE_E2E_ENGINE=sqlite
// (the default) or postgres (a throwaway PostgreSQL server on loopback,
// started by internal/pgtest; make test runs the suite on both).
var engine = os.Getenv("SCIMFORGE_E2E_ENGINE")

func TestMain(m *testing.M) {
	switch engine {
	case "", "sqlite":
		engine = "sqlite"
	case "postgres":
	default:
		fmt.Fprintf(os.Stderr, "e2e: SCIMFORGE_E2E_ENGINE=%q: want sqlite or postgres\n", engine)
		os.Exit(2)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "scimforge-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "scimforge")
	if err := build(binPath); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the server:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "e2e: database engine", engine)
	return pgtest.Main(m)
}

// build compiles ./app/cmd/scimforge of the module this package lives in.
func build(out string) error {
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("module root not found above the e2e folder: %w", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	cmd := exec.Command(goBin, "build", "-o", out, "./app/cmd/scimforge")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, b)
	}
	return nil
}

// lockedBuffer collects the server's output; the process writes to it while
// tests may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is one running scimforge process.
type server struct {
	root    string // http://127.0.0.1:PORT
	base    string // http://127.0.0.1:PORT/scim/v2
	dbPath  string
	cmd     *exec.Cmd
	logs    *lockedBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error
	client  *http.Client
}

// newServer starts a server over a fresh database.
func newServer(t *testing.T) *server {
	t.Helper()
	return startServer(t, newDatabase(t))
}

// newDatabase returns the SCIMFORGE_DATABASE_URL of a fresh database of
// the engine under test: a SQLite file in t's temp folder, or a new
// database on the shared PostgreSQL server.
func newDatabase(t *testing.T) string {
	t.Helper()
	if engine == "postgres" {
		return pgtest.Shared(t).NewDatabase(t)
	}
	return "sqlite://" + filepath.Join(t.TempDir(), "scim.db")
}

// startServer starts a server over the database at dbURL and stops it when t ends.
func startServer(t *testing.T, dbPath string) *server {
	t.Helper()
	return startServerEnv(t, dbPath)
}

// startServerEnv is startServer with more environment variables
// ("NAME=value").
func startServerEnv(t *testing.T, dbPath string, env ...string) *server {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := tryStart(t, dbPath, env)
		if err == nil {
			return s
		}
		lastErr = err // most likely the free port was taken meanwhile: retry
	}
	t.Fatalf("starting the server: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tryStart(t *testing.T, dbPath string, env []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &server{
		root:   "http://" + addr,
		base:   "http://" + addr + "/scim/v2",
		dbPath: dbPath,
		logs:   &lockedBuffer{},
		done:   make(chan struct{}),
		client: &http.Client{
			Timeout: 20 * time.Second,
			Transport: &http.Transport{
				Proxy:               nil, // only ever talk to 127.0.0.1 directly
				MaxIdleConnsPerHost: 16,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	cmd := exec.Command(binPath, "serve")
	cmd.Env = append(os.Environ(),
		// Tests send as fast as loopback allows with one token; the rate
		// limit has tests of its own (TestRateLimitOverHTTP sets it).
		"SCIMFORGE_RATE_LIMIT=0",
		// Contract tests send many refused credentials from 127.0.0.1; the
		// slow-down has tests of its own (app/server TestAuthFailuresSlowed).
		"SCIMFORGE_AUTH_MAX_FAILURES=0",
		"SCIMFORGE_LISTEN="+addr,
		"SCIMFORGE_DATABASE_URL="+dbPath,
		"SCIMFORGE_TOKEN="+token,
		"SCIMFORGE_BASE_URL=",
		"SCIMFORGE_ALLOWED_DOMAINS=",
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server log (%s):\n%s", s.base, tail(s.logs.String(), 60))
		}
	})
	if err := s.waitReady(15 * time.Second); err != nil {
		s.kill()
		return nil, fmt.Errorf("%v; server log:\n%s", err, tail(s.logs.String(), 30))
	}
	return s, nil
}

// waitReady polls GET /ServiceProviderConfig until it answers 200.
func (s *server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("server exited before it was ready: %v", s.waitErr)
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, s.base+"/ServiceProviderConfig", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := s.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("server not ready in time")
}

// kill ends the process this test started (by its PID) if it still runs.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop shuts the server down gracefully (SIGTERM) and waits for it to exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.client.CloseIdleConnections()
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("signal server: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.kill()
		t.Fatalf("server did not stop within 15 s after SIGINT")
	}
	if s.waitErr != nil {
		t.Errorf("server exited with %v after SIGINT; want a clean exit", s.waitErr)
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
