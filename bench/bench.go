package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimforge/scimforge/internal/pgtest"
)

// bench holds one run's state. The fields from server to groupAdds are
// those of the engine being measured, reset for each engine.
type bench struct {
	o        options
	out, log io.Writer
	start    time.Time

	tmp    string
	client *http.Client
	token  string

	engine    string
	pg        *pgtest.Server
	serverLog string
	server    *child
	bare      *child
	bareStdin io.Closer
	base      string // http://127.0.0.1:PORT/scim/v2 of the SCIM server
	bareURL   string // http://127.0.0.1:PORT/scim/v2 of the bare server

	users      []loadedUser
	nextUser   int             // the userBody number of the next user to create
	active     []atomic.Uint32 // PATCH active: how many times each user was toggled
	groups     []string        // add-member phase: the groups' ids
	groupAdds  []atomic.Uint32 // add-member phase: members added to each group
	loadChunks []loadPoint     // the creates of the engine, chunk by chunk (the load rate as the database grows)

	engines       []*engineResult
	requestErrors int
}

// engineResult is what was measured on one storage engine.
type engineResult struct {
	engine  string
	db      string // what the database is, for the report
	create  *result
	phases  []phase
	results []*result
	bodyLen int     // bytes the bare handler served
	mem     memInfo // the scimforge process at the end of the engine's phases
	sync    *syncResult
	growth  *growthResult
	scale   *scaleResult
	// loadChunks are the measured creates chunk by chunk: the create rate
	// as the database grew.
	loadChunks []loadPoint
}

type loadedUser struct{ id, userName string }

// loadPoint is one chunk of creates and how many users existed before it.
type loadPoint struct {
	before int
	r      *result
}

func (b *bench) progress(format string, a ...any) {
	prefix := ""
	if b.engine != "" {
		prefix = b.engine + ": "
	}
	fmt.Fprintf(b.log, "[%5.1fs] %s%s\n", time.Since(b.start).Seconds(), prefix, fmt.Sprintf(format, a...))
}

func (b *bench) run(ctx context.Context) error {
	b.start = time.Now()
	b.client = newClient(b.o.concurrency)
	b.token = randomHex(16)
	var err error
	if b.tmp, err = os.MkdirTemp("", "scimforge-bench-"); err != nil {
		return setupError{err}
	}
	bin, err := b.serverBinary(ctx)
	if err != nil {
		return err
	}
	b.printHeader(bin)
	for _, engine := range b.o.engines {
		er, err := b.runEngine(ctx, bin, engine)
		if err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
		b.engines = append(b.engines, er)
		b.reportEngine(er)
	}
	b.engine = ""
	b.reportSummary()
	return nil
}

// runEngine starts the server on a fresh database of engine and runs the
// selected phases against it; the server (and PostgreSQL) are stopped
// before it returns, so engines never share the machine.
func (b *bench) runEngine(ctx context.Context, bin, engine string) (*engineResult, error) {
	b.engine = engine
	b.users, b.nextUser, b.active, b.groups, b.groupAdds, b.loadChunks = nil, 0, nil, nil, nil, nil
	defer b.stopServers()
	er := &engineResult{engine: engine}
	dir := filepath.Join(b.tmp, engine)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, setupError{err}
	}
	dbURL := "sqlite://" + filepath.Join(dir, "bench.db")
	er.db = "SQLite, " + filepath.Join(dir, "bench.db")
	if engine == enginePostgres {
		b.progress("starting PostgreSQL (internal/pgtest) ...")
		pg, err := pgtest.Start()
		if err != nil {
			return nil, setupError{err}
		}
		b.pg = pg
		if dbURL, err = pg.CreateDatabase(fmt.Sprintf("scimforge_bench_%d", os.Getpid())); err != nil {
			return nil, setupError{err}
		}
		er.db = fmt.Sprintf("PostgreSQL %s on 127.0.0.1:%d, started by internal/pgtest (fsync, synchronous_commit and full_page_writes off)", pg.Version(), pg.Port())
		b.progress("PostgreSQL %s on 127.0.0.1:%d", pg.Version(), pg.Port())
	}
	if err := b.startServer(ctx, bin, dir, dbURL); err != nil {
		return nil, err
	}

	var err error
	switch {
	case b.o.phases.sync:
		// On the fresh database: the sync's users are then the loaded users.
		if er.sync, err = b.runSync(ctx); err != nil {
			return nil, err
		}
	case b.o.phases.scale:
		if er.scale, err = b.runScale(ctx); err != nil {
			return nil, err
		}
	default:
		if er.create, err = b.loadN(ctx, b.o.users); err != nil {
			return nil, err
		}
		er.loadChunks = b.loadChunks
	}
	if b.o.phases.read || b.o.phases.patch || b.o.phases.groups || b.o.phases.sync {
		if err := b.runTimedPhases(ctx, er); err != nil {
			return nil, err
		}
	}
	if b.o.phases.groups {
		if er.growth, err = b.runGrowth(ctx); err != nil {
			return nil, err
		}
	}
	if er.scale != nil {
		er.mem = er.scale.mem // read at the large size, before anything else ran
	} else {
		er.mem = procMem(b.server.cmd.Process.Pid)
	}
	return er, nil
}

// runTimedPhases starts the bare server with the bytes of a real GET
// /Users/{id} answer and runs the fixed-duration phases, each between two
// bare runs.
func (b *bench) runTimedPhases(ctx context.Context, er *engineResult) error {
	body, err := b.sampleBody(ctx)
	if err != nil {
		return err
	}
	if err := b.startBare(ctx, body); err != nil {
		return err
	}
	er.bodyLen = len(body)
	bare := b.getRequest(func() string { return b.bareURL })
	srvPID, barePID := b.server.cmd.Process.Pid, b.bare.cmd.Process.Pid
	bareP := phase{name: "bare", pid: barePID, next: bare, check: expectStatus(http.StatusOK), bare: true}
	phases := []phase{bareP}
	if b.o.phases.read {
		phases = append(phases,
			phase{name: "GET /Users/{id}", pid: srvPID, next: b.getRequest(func() string { return b.base }), check: expectStatus(http.StatusOK), target: targetGetByID},
			bareP,
			phase{name: `filter userName eq`, pid: srvPID, next: b.filterRequest(), check: checkOneResult, target: targetFilter},
			bareP)
	}
	if b.o.phases.patch {
		b.active = make([]atomic.Uint32, len(b.users))
		if err := b.createMemberGroups(ctx); err != nil {
			return err
		}
		phases = append(phases,
			phase{name: "PATCH active (Entra)", pid: srvPID, next: b.patchActiveRequest(), check: checkPatched},
			bareP,
			phase{name: "PATCH displayName", pid: srvPID, next: b.patchDisplayNameRequest(), check: checkPatched},
			bareP,
			phase{name: "PATCH add member", pid: srvPID, next: b.addMemberRequest(), check: checkPatched},
			bareP)
	}
	nbare := 0
	for _, p := range phases {
		name := p.name
		if p.bare {
			nbare++
			name = fmt.Sprintf("bare #%d", nbare)
		}
		b.progress("%-22s %s warm-up + %s measured, %d workers", name, b.o.warmup, b.o.duration, b.o.concurrency)
		r := runTimed(ctx, b.client, name, p.pid, b.o.concurrency, b.o.warmup, b.o.duration, p.next, p.check)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if b.server.exited() {
			return fmt.Errorf("the server exited during %s: %v\n%s", name, b.server.err, tail(b.serverLog, 2000))
		}
		er.results = append(er.results, r)
	}
	er.phases = phases
	return nil
}

// phase is one fixed-duration measurement.
type phase struct {
	name   string
	pid    int // the process whose CPU is measured
	next   requestFunc
	check  checkFunc
	bare   bool    // a run of the bare handler, the reference of its neighbours
	target float64 // minimum ratio to bare, 0: none
}

// serverBinary builds the server into the temp folder, or checks -server-bin.
func (b *bench) serverBinary(ctx context.Context) (string, error) {
	if b.o.serverBin != "" {
		bin, err := filepath.Abs(b.o.serverBin)
		if err != nil {
			return "", setupError{err}
		}
		if st, err := os.Stat(bin); err != nil || st.IsDir() {
			return "", setupf("-server-bin %s: not a file", b.o.serverBin)
		}
		return bin, nil
	}
	b.progress("building ./app/cmd/scimforge ...")
	bin, err := buildServer(ctx, b.tmp)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", setupError{err}
	}
	return bin, nil
}

func (b *bench) printHeader(bin string) {
	serverGo := "unknown"
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		serverGo = bi.GoVersion
	}
	fmt.Fprintln(b.out, "scimforge bench")
	fmt.Fprintf(b.out, "machine:    %s/%s, %s, NumCPU %d, GOMAXPROCS %d (client)", runtime.GOOS, runtime.GOARCH, cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		fmt.Fprintf(b.out, ", GOMAXPROCS=%s in the environment (servers inherit it)", v)
	}
	fmt.Fprintln(b.out)
	if la := loadAvg(); la != "" {
		fmt.Fprintf(b.out, "load avg:   %s (before the run)\n", la)
	}
	fmt.Fprintf(b.out, "go:         client %s, server %s\n", runtime.Version(), serverGo)
	fmt.Fprintf(b.out, "parameters: -engines %s -phases %s -concurrency %d -warmup %s -duration %s -users %d",
		strings.Join(b.o.engines, ","), b.o.phases, b.o.concurrency, b.o.warmup, b.o.duration, b.o.users)
	if b.o.phases.scale {
		fmt.Fprintf(b.out, " -scale-from %d -request-timeout %s", b.o.scaleFrom, b.o.reqTimeout)
		if b.o.loadBulk {
			fmt.Fprint(b.out, " -load-bulk")
		}
	}
	if b.o.rowCache != "" {
		fmt.Fprintf(b.out, " -row-cache %s", b.o.rowCache)
	}
	fmt.Fprintf(b.out, "; keep-alive, MaxIdleConnsPerHost %d\n", b.o.concurrency)
	fmt.Fprintf(b.out, "server:     %s\n", bin)
	fmt.Fprintf(b.out, "temp:       %s (per engine: ENGINE/server.log; sqlite/bench.db)\n", b.tmp)
}

// startServer starts `scimforge serve` in dir on the fresh database dbURL
// and waits until it answers GET /ServiceProviderConfig.
func (b *bench) startServer(ctx context.Context, bin, dir, dbURL string) error {
	port, err := freePort()
	if err != nil {
		return setupError{err}
	}
	b.base = fmt.Sprintf("http://127.0.0.1:%d%s", port, basePath)
	b.serverLog = filepath.Join(dir, "server.log")
	logf, err := os.Create(b.serverLog)
	if err != nil {
		return setupError{err}
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(withoutScimforgeEnv(os.Environ()),
		fmt.Sprintf("SCIMFORGE_LISTEN=127.0.0.1:%d", port),
		"SCIMFORGE_DATABASE_URL="+dbURL,
		"SCIMFORGE_TOKEN="+b.token,
		// The bench measures what one server can do; the per-credential
		// rate limit (250/s by default, docs/operations.md) would measure
		// the limit instead.
		"SCIMFORGE_RATE_LIMIT=0",
	)
	if b.o.rowCache != "" {
		cmd.Env = append(cmd.Env, "SCIMFORGE_ROW_CACHE="+b.o.rowCache)
	}
	if b.o.cpuProfile != "" {
		prof, err := filepath.Abs(b.o.cpuProfile)
		if err != nil {
			return setupError{err}
		}
		if len(b.o.engines) > 1 {
			// One profile per engine: prof.sqlite, prof.postgres.
			prof += "." + b.engine
		}
		cmd.Env = append(cmd.Env, "SCIMFORGE_CPUPROFILE="+prof)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if b.server, err = startChild("scimforge", cmd); err != nil {
		return setupError{err}
	}
	b.progress("started scimforge (pid %d) on 127.0.0.1:%d", cmd.Process.Pid, port)
	if err := b.waitReady(ctx, b.server, b.base+"/ServiceProviderConfig", 60*time.Second); err != nil {
		return setupf("scimforge did not start: %v\n--- %s ---\n%s", err, b.serverLog, tail(b.serverLog, 2000))
	}
	return nil
}

// stopServers stops the engine's bare server, scimforge and PostgreSQL
// (each by the PID this bench started), and drops idle connections.
func (b *bench) stopServers() {
	if b.bareStdin != nil {
		b.bareStdin.Close()
		b.bareStdin = nil
	}
	b.bare.stop(5 * time.Second)
	b.server.stop(25 * time.Second) // the server drains for up to 20 s
	b.bare, b.server = nil, nil
	if b.pg != nil {
		if err := b.pg.Stop(); err != nil {
			fmt.Fprintln(b.log, "bench: stopping PostgreSQL:", err)
		}
		b.pg = nil
	}
	b.client.CloseIdleConnections()
}

// withoutScimforgeEnv drops inherited SCIMFORGE_* variables (a base URL or
// a domain policy from the shell would change what is measured).
func withoutScimforgeEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SCIMFORGE_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitReady polls url (with the bearer token) until it answers 200.
func (b *bench) waitReady(ctx context.Context, c *child, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if c.exited() {
			return fmt.Errorf("process exited: %v", c.err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+b.token)
		resp, err := b.client.Do(req)
		if err == nil {
			drain(resp.Body)
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %v", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// loadChunk is how many user bodies createUsers prepares at a time: a
// million bodies at once would take the client about 600 MB.
const loadChunk = 20000

// createUsers POSTs users lo..hi-1 (userBody numbering) with -concurrency
// workers, appends the created ones to b.users, and measures the whole.
// The bodies are prepared a chunk at a time, outside the measured windows;
// each chunk's result is also kept in b.loadChunks.
func (b *bench) createUsers(ctx context.Context, lo, hi int) *result {
	var parts []*result
	next := lo + 5*loadChunk // progress every 100,000 users on long loads
	for from := lo; from < hi && ctx.Err() == nil; from += loadChunk {
		to := min(from+loadChunk, hi)
		before := len(b.users)
		r := b.createChunk(ctx, from, to)
		parts = append(parts, r)
		b.loadChunks = append(b.loadChunks, loadPoint{before: before, r: r})
		if hi-lo > 2*5*loadChunk && to >= next && to < hi {
			m := merge("", parts...)
			b.progress("  %d of %d users created (%.0f/s so far, last %d at %.0f/s)", to-lo, hi-lo, m.opsPerSec(), to-from, r.opsPerSec())
			next += 5 * loadChunk
		}
	}
	return merge("create POST /Users", parts...)
}

// createChunk creates users lo..hi-1 in one runN.
func (b *bench) createChunk(ctx context.Context, lo, hi int) *result {
	rng := rand.New(rand.NewPCG(1, uint64(lo)))
	names := make([]string, hi-lo)
	bodies := make([][]byte, hi-lo)
	for i := range bodies {
		names[i], bodies[i] = userBody(lo+i, rng)
	}
	ids := make([]string, hi-lo)
	r := b.runN(ctx, "create POST /Users", hi-lo, func(w *worker, i int) bool {
		id, ok := b.create(ctx, w, bodies[i])
		ids[i] = id
		return ok
	})
	b.nextUser = max(b.nextUser, hi)
	for i, id := range ids {
		if id != "" {
			b.users = append(b.users, loadedUser{id: id, userName: names[i]})
		}
	}
	return r
}

// create POSTs one user and returns its id.
func (b *bench) create(ctx context.Context, w *worker, body []byte) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/Users", bytes.NewReader(body))
	if err != nil {
		w.fail("build request: %v", err)
		return "", false
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Accept", "application/scim+json")
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.fail("POST /Users: %v", err)
		}
		return "", false
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		w.fail("POST /Users: reading body: %v", err)
		return "", false
	}
	if resp.StatusCode != http.StatusCreated {
		w.fail("POST /Users: %v", statusError(resp.StatusCode, http.StatusCreated, w.buf.Bytes()))
		return "", false
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(w.buf.Bytes(), &created); err != nil || created.ID == "" {
		w.fail("POST /Users: 201 without an id (%v)", err)
		return "", false
	}
	return created.ID, true
}

// sampleBody fetches one real GET /Users/{id} response for the bare server.
func (b *bench) sampleBody(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/Users/"+b.users[0].id, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Accept", "application/scim+json")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /Users/{id}: %v", statusError(resp.StatusCode, http.StatusOK, body))
	}
	return body, nil
}

// startBare re-executes this binary as the bare server.
func (b *bench) startBare(ctx context.Context, body []byte) error {
	self, err := os.Executable()
	if err != nil {
		return setupError{err}
	}
	bodyFile := filepath.Join(b.tmp, b.engine, "bare-body.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return setupError{err}
	}
	cmd := exec.Command(self, bareServerCmd, bodyFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return setupError{err}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return setupError{err}
	}
	cmd.Stderr = os.Stderr
	if b.bare, err = startChild("bare-server", cmd); err != nil {
		return setupError{err}
	}
	b.bareStdin = stdin
	line, err := readLine(stdout, 30*time.Second)
	addr, ok := strings.CutPrefix(line, "listening ")
	if err != nil || !ok {
		return setupf("bare server did not start: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	b.bareURL = "http://" + addr + basePath
	b.progress("started bare server (pid %d) on %s", cmd.Process.Pid, addr)
	if err := b.waitReady(ctx, b.bare, b.bareURL+"/Users/x", 30*time.Second); err != nil {
		return setupf("bare server did not answer: %v", err)
	}
	return nil
}

// getRequest builds GET {base}/Users/{random loaded id}; the bare phases
// use it too (the bare server answers any path), so the client does the
// same work in both.
func (b *bench) getRequest(base func() string) requestFunc {
	return func(ctx context.Context, w *worker) (*http.Request, error) {
		u := b.users[w.rng.IntN(len(b.users))]
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base()+"/Users/"+u.id, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+b.token)
		req.Header.Set("Accept", "application/scim+json")
		return req, nil
	}
}

// filterRequest builds GET /Users?filter=userName eq "<random loaded
// userName, case mixed>", URL-encoded as Entra ID sends it.
func (b *bench) filterRequest() requestFunc {
	return func(ctx context.Context, w *worker) (*http.Request, error) {
		u := b.users[w.rng.IntN(len(b.users))]
		q := url.Values{"filter": {`userName eq "` + mixCase(u.userName, w.rng) + `"`}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/Users?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+b.token)
		req.Header.Set("Accept", "application/scim+json")
		return req, nil
	}
}

// checkOneResult wants 200 and exactly one match: each filter names one
// loaded user, whatever the case of the value.
func checkOneResult(status int, body []byte) error {
	if status != http.StatusOK {
		return statusError(status, http.StatusOK, body)
	}
	n, ok := totalResults(body)
	if !ok {
		return fmt.Errorf("200 without totalResults")
	}
	if n != 1 {
		return fmt.Errorf("totalResults %d, want 1 (the userName match must ignore case)", n)
	}
	return nil
}

// cleanup stops whatever is still running (after an error or Ctrl-C) and
// removes the temp folder unless -keep.
func (b *bench) cleanup() {
	if b.client != nil {
		b.stopServers()
	}
	if b.tmp == "" {
		return
	}
	if b.o.keep {
		fmt.Fprintf(b.log, "kept %s\n", b.tmp)
		return
	}
	if err := os.RemoveAll(b.tmp); err != nil {
		fmt.Fprintln(b.log, "bench:", err)
	}
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "cpu unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "cpu unknown"
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
