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
)

// bench holds one run's state.
type bench struct {
	o        options
	out, log io.Writer
	start    time.Time

	tmp       string
	serverLog string
	server    *child
	bare      *child
	bareStdin io.Closer

	client  *http.Client
	token   string
	base    string // http://127.0.0.1:PORT/scim/v2 of the SCIM server
	bareURL string // http://127.0.0.1:PORT/scim/v2 of the bare server

	users         []loadedUser
	nextUser      int             // the userBody number of the next user to create
	active        []atomic.Uint32 // PATCH active: how many times each user was toggled
	requestErrors int

	sync   *syncResult
	growth *growthResult
}

type loadedUser struct{ id, userName string }

func (b *bench) progress(format string, a ...any) {
	fmt.Fprintf(b.log, "[%5.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, a...))
}

func (b *bench) run(ctx context.Context) error {
	b.start = time.Now()
	b.client = newClient(b.o.concurrency)
	var err error
	if b.tmp, err = os.MkdirTemp("", "scimforge-bench-"); err != nil {
		return setupError{err}
	}
	bin, err := b.serverBinary(ctx)
	if err != nil {
		return err
	}
	b.printHeader(bin)
	if err := b.startServer(ctx, bin); err != nil {
		return err
	}

	var create *result
	if b.o.phases.sync {
		// On the fresh database: the sync's users are then the loaded users.
		if b.sync, err = b.runSync(ctx); err != nil {
			return err
		}
	} else {
		if create, err = b.load(ctx); err != nil {
			return err
		}
	}
	body, err := b.sampleBody(ctx)
	if err != nil {
		return err
	}
	if err := b.startBare(ctx, body); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "bare:       this binary re-executed (%s) serving the %d bytes of a real GET /Users/{id} response\n", bareServerCmd, len(body))

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
		phases = append(phases,
			phase{name: "PATCH active (Entra)", pid: srvPID, next: b.patchActiveRequest(), check: checkPatched},
			bareP,
			phase{name: "PATCH displayName", pid: srvPID, next: b.patchDisplayNameRequest(), check: checkPatched},
			bareP)
	}
	results := make([]*result, 0, len(phases))
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
		results = append(results, r)
	}
	if b.o.phases.groups {
		if b.growth, err = b.runGrowth(ctx); err != nil {
			return err
		}
	}
	b.report(create, phases, results)
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
	fmt.Fprintf(b.out, "parameters: -phases %s -concurrency %d -warmup %s -duration %s -users %d; keep-alive, MaxIdleConnsPerHost %d\n",
		b.o.phases, b.o.concurrency, b.o.warmup, b.o.duration, b.o.users, b.o.concurrency)
	fmt.Fprintf(b.out, "server:     %s\n", bin)
	fmt.Fprintf(b.out, "temp:       %s (database bench.db, server log server.log)\n", b.tmp)
}

// startServer starts `scimforge serve` on a fresh database and waits until
// it answers GET /ServiceProviderConfig.
func (b *bench) startServer(ctx context.Context, bin string) error {
	port, err := freePort()
	if err != nil {
		return setupError{err}
	}
	b.token = randomHex(16)
	b.base = fmt.Sprintf("http://127.0.0.1:%d%s", port, basePath)
	b.serverLog = filepath.Join(b.tmp, "server.log")
	logf, err := os.Create(b.serverLog)
	if err != nil {
		return setupError{err}
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "serve")
	cmd.Dir = b.tmp
	cmd.Env = append(withoutScimforgeEnv(os.Environ()),
		fmt.Sprintf("SCIMFORGE_LISTEN=127.0.0.1:%d", port),
		"SCIMFORGE_DATABASE_URL=sqlite://"+filepath.Join(b.tmp, "bench.db"),
		"SCIMFORGE_TOKEN="+b.token,
	)
	if b.o.rowCache != "" {
		cmd.Env = append(cmd.Env, "SCIMFORGE_ROW_CACHE="+b.o.rowCache)
	}
	if b.o.cpuProfile != "" {
		prof, err := filepath.Abs(b.o.cpuProfile)
		if err != nil {
			return setupError{err}
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

// load creates the users: a few unmeasured warm-up creates (connections,
// prepared statements), then -users measured ones. It returns the measured
// creates as the "create" figure.
func (b *bench) load(ctx context.Context) (*result, error) {
	warm := 2 * b.o.concurrency
	b.progress("loading %d users (POST /Users, %d workers; %d warm-up creates first) ...", b.o.users, b.o.concurrency, warm)
	warmRes := b.createUsers(ctx, 0, warm)
	res := b.createUsers(ctx, warm, warm+b.o.users)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res.errors += warmRes.errors
	res.samples = append(warmRes.samples, res.samples...)
	b.progress("loaded %d of %d users in %s", len(b.users), warm+b.o.users, res.window.Round(time.Millisecond))
	if len(b.users) == 0 {
		return nil, fmt.Errorf("no user could be created: %s", strings.Join(res.samples, "; "))
	}
	return res, nil
}

// createUsers POSTs users lo..hi-1 (userBody numbering) with -concurrency
// workers, appends the created ones to b.users, and measures the whole.
func (b *bench) createUsers(ctx context.Context, lo, hi int) *result {
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
	bodyFile := filepath.Join(b.tmp, "bare-body.json")
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

// cleanup stops both servers by PID and removes the temp folder unless -keep.
func (b *bench) cleanup() {
	if b.bareStdin != nil {
		b.bareStdin.Close()
	}
	b.bare.stop(5 * time.Second)
	b.server.stop(25 * time.Second) // the server drains for up to 20 s
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
