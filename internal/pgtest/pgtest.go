// Package pgtest gives tests a throwaway PostgreSQL server on 127.0.0.1.
//
// Start runs initdb into a temporary folder and starts postgres from the
// installed binaries (pg_config --bindir, else the highest
// /usr/lib/postgresql/*/bin) as a child process that it alone stops. With
// SCIMFORGE_TEST_POSTGRES_URL set (an admin URL of an existing server), Start
// uses that server instead and starts nothing.
//
// A package's tests share one server, started on first use:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		url := pgtest.Shared(t).NewDatabase(t) // a fresh, empty database
//		...
//	}
//
// A missing PostgreSQL installation fails such tests; it skips them only
// when SCIMFORGE_TEST_POSTGRES=skip says so explicitly, so that CI can never
// pass by silently not testing PostgreSQL.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables that steer the tests.
const (
	// EnvURL names an existing server (admin URL, e.g.
	// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to use
	// instead of starting one.
	EnvURL = "SCIMFORGE_TEST_POSTGRES_URL"
	// EnvMode set to "skip" skips the tests that need PostgreSQL.
	EnvMode = "SCIMFORGE_TEST_POSTGRES"
)

// ErrNotInstalled is returned (wrapped) by Start when no PostgreSQL server
// binaries are found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, postgres) not found; install the postgresql package, set " +
	EnvURL + " to an existing server, or set " + EnvMode + "=skip")

// startTimeout bounds the wait for a started server to accept connections.
const startTimeout = 30 * time.Second

// Server is a running PostgreSQL server.
type Server struct {
	host    string
	port    int
	admin   *url.URL // URL of the maintenance database "postgres"
	version string   // server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)"

	// Only for a server this package started:
	dir  string              // temporary folder: data/, socket, log
	proc *os.Process         // the postmaster, our child
	done chan struct{}       // closed once the postmaster has exited
	wait error               // its exit status, valid after done
	unlk func()              // releases the OS thread the postmaster was started from
	logf string              // server log file
	cred *syscall.Credential // run as this user (root cannot run postgres)

	mu      sync.Mutex
	created []string // databases made by CreateDatabase (dropped on Stop of an external server)
	seq     int
	stopped bool
}

// Start starts a fresh server, or connects to the one named by
// SCIMFORGE_TEST_POSTGRES_URL. Call Stop when done.
func Start() (*Server, error) {
	if raw := os.Getenv(EnvURL); raw != "" {
		return external(raw)
	}
	bin, err := binDir("/usr/lib/postgresql")
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{host: "127.0.0.1", dir: dir, cred: cred, logf: filepath.Join(dir, "postgres.log")}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: hand %s to the postgres user: %w", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
		"--no-sync", "-E", "UTF8", "--locale=C", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	// A free port can be taken by someone else between our probe and
	// postgres binding it: try a few.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		err = s.launch(bin, data, port)
		if err == nil {
			return s, nil
		}
		if attempt < 4 && errors.Is(err, errPortTaken) {
			continue
		}
		os.RemoveAll(dir)
		return nil, err
	}
}

var errPortTaken = errors.New("port taken")

// launch starts the postmaster on port and waits until it accepts
// connections. On failure nothing is left running.
func (s *Server) launch(bin, data string, port int) error {
	logFile, err := os.OpenFile(s.logf, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child holds its own copy
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: s.cred,
		// If the test binary dies without calling Stop (a timeout panic, a
		// kill), the kernel stops the server too instead of leaving it
		// running. The signal follows the thread that started the child,
		// hence the locked thread below.
		Pdeathsig: syscall.SIGINT,
	}
	started := make(chan error)
	release := make(chan struct{})
	s.done = make(chan struct{})
	go func() {
		// Keep this goroutine on its OS thread until Stop: Pdeathsig
		// fires when the thread that forked the child exits, and Go may
		// retire idle threads.
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		s.wait = cmd.Wait()
		close(s.done)
		<-release
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		close(release)
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.proc = cmd.Process
	s.unlk = sync.OnceFunc(func() { close(release) })
	s.port = port
	s.admin = &url.URL{Scheme: "postgres", User: url.User("postgres"),
		Host: net.JoinHostPort(s.host, strconv.Itoa(port)), Path: "/postgres", RawQuery: "sslmode=disable"}

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.admin.String())
		if err == nil {
			s.version = conn.PgConn().ParameterStatus("server_version")
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-s.done:
			s.unlk()
			log := s.log()
			if strings.Contains(log, "could not bind") || strings.Contains(log, "Address already in use") {
				return fmt.Errorf("%w: %d", errPortTaken, port)
			}
			return fmt.Errorf("pgtest: postgres exited at start (%v):\n%s", s.wait, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("pgtest: postgres did not accept connections within %v: %v\n%s", startTimeout, err, s.log())
		}
	}
}

// log returns the server's log, for error messages.
func (s *Server) log() string {
	b, _ := os.ReadFile(s.logf)
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}

// kill stops the postmaster this Server started: SIGINT is PostgreSQL's
// fast shutdown (disconnect clients, stop); SIGKILL if it hangs.
func (s *Server) kill() error {
	if s.proc == nil {
		return nil
	}
	_ = s.proc.Signal(syscall.SIGINT)
	var err error
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.proc.Kill()
		<-s.done
		err = errors.New("pgtest: postgres ignored SIGINT for 15s; killed")
	}
	s.unlk()
	return err
}

// Stop stops the server Start started and removes its folder. For an
// external server it drops the databases CreateDatabase made.
func (s *Server) Stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	created := s.created
	s.mu.Unlock()
	if s.proc == nil {
		var errs []error
		for _, name := range created {
			errs = append(errs, s.admExec("DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"))
		}
		return errors.Join(errs...)
	}
	err := s.kill()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Port is the server's TCP port on 127.0.0.1 (or the external server's).
func (s *Server) Port() int { return s.port }

// URL is the connection URL of database db (no password; trust auth).
func (s *Server) URL(db string) string {
	u := *s.admin
	u.Path = "/" + db
	return u.String()
}

// Version is the server's server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)".
func (s *Server) Version() string { return s.version }

// major is the server's major version (0 if unknown).
func (s *Server) major() int {
	v := s.version
	if i := strings.IndexAny(v, ". "); i >= 0 {
		v = v[:i]
	}
	n, _ := strconv.Atoi(v)
	return n
}

// AdminURL is the URL of the maintenance database "postgres".
func (s *Server) AdminURL() string { return s.admin.String() }

var dbName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreateDatabase creates the empty database name (lower-case letters,
// digits, underscores) and returns its URL. It fails if name exists.
func (s *Server) CreateDatabase(name string) (string, error) {
	if !dbName.MatchString(name) {
		return "", fmt.Errorf("pgtest: database name %q: want [a-z_][a-z0-9_]*, at most 63 bytes", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock() // CREATE DATABASE copies template1; one at a time
	if s.stopped {
		return "", errors.New("pgtest: server stopped")
	}
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if s.major() >= 15 {
		// Copying template1's files is about twice as fast as the default
		// WAL_LOG strategy for a tiny database (measured: 75 vs 150 ms).
		create += " STRATEGY FILE_COPY"
	}
	if err := s.admExec(create); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	s.created = append(s.created, name)
	return s.URL(name), nil
}

// NewDatabase creates a database with a fresh name derived from the test's
// and returns its URL; it fails the test on error.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	base := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(tb.Name()), "_"), "_")
	suffix := fmt.Sprintf("_%d_%d", os.Getpid(), n) // unique on a shared external server too
	if len(base) > 63-len(suffix)-2 {
		base = base[:63-len(suffix)-2]
	}
	u, err := s.CreateDatabase("t_" + base + suffix)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

func (s *Server) admExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.admin.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// external uses an existing server from its admin URL.
func external(raw string) (*Server, error) {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %s: %w", EnvURL, err)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("pgtest: %s must be a postgres:// URL", EnvURL)
	}
	s := &Server{host: cfg.Host, port: int(cfg.Port), admin: u}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("pgtest: connect to %s: %w", EnvURL, err)
	}
	s.version = conn.PgConn().ParameterStatus("server_version")
	conn.Close(ctx)
	return s, nil
}

// binDir finds the folder holding initdb and postgres: pg_config's, else
// the highest version's under root (Debian's layout, root/<version>/bin).
func binDir(root string) (string, error) {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		// Debian's pg_config comes with libpq-dev and names the server's
		// folder even when the server is not installed: check for initdb.
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	found, _ := filepath.Glob(filepath.Join(root, "*", "bin"))
	sort.Slice(found, func(i, j int) bool { return pgMajor(found[i]) > pgMajor(found[j]) })
	dirs = append(dirs, found...)
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgtest: %w", ErrNotInstalled)
}

// pgMajor reads the version from /usr/lib/postgresql/<version>/bin.
func pgMajor(dir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// credential is the postgres user's when running as root (PostgreSQL
// refuses to run as root), else nil. Setting it on the child directly,
// rather than going through runuser or su, keeps the postmaster our direct
// child: its PID is the one Stop signals, and SIGINT reaches it unchanged
// (runuser forks, waits, and forwards a SIGINT as SIGTERM, which is
// PostgreSQL's slow "smart" shutdown).
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs a postgres user to run the server as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: postgres user has uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
