package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// newClient is the one HTTP client every phase uses, against either server:
// keep-alive, one idle connection kept per worker, no proxy, no gzip.
func newClient(concurrency int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxErrorSamples bounds the error messages a phase keeps for the report.
const maxErrorSamples = 3

// result is one phase's measurement.
type result struct {
	name     string
	ok       int             // requests that succeeded within the window
	window   time.Duration   // measured time
	lat      []time.Duration // latencies of those requests, sorted
	errors   int             // failed requests, warm-up included
	timeouts int             // requests that ran past -request-timeout (scale probes only)
	samples  []string        // the first few error messages
	cpu      cpuMeter        // CPU used by the serving process and the client in the window
}

// cpuPerOp is the CPU time per successful request of the serving process
// (server) or of the client; ok is false when it could not be measured.
func (r *result) cpuPerOp(server bool) (time.Duration, bool) {
	d, ok := r.cpu.client, r.cpu.cliOK
	if server {
		d, ok = r.cpu.server, r.cpu.srvOK
	}
	if !ok || r.ok == 0 {
		return 0, false
	}
	return d / time.Duration(r.ok), true
}

func (r *result) opsPerSec() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.ok) / r.window.Seconds()
}

func (r *result) p(q float64) time.Duration { return percentile(r.lat, q) }

// percentile is the nearest-rank q-quantile (0 < q <= 1) of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// worker is one client goroutine's state.
type worker struct {
	rng     *rand.Rand
	buf     bytes.Buffer
	lat     []time.Duration
	errors  int
	samples []string
}

func (w *worker) fail(format string, a ...any) {
	w.errors++
	if len(w.samples) < maxErrorSamples {
		w.samples = append(w.samples, fmt.Sprintf(format, a...))
	}
}

// request builds the next request of a phase.
type requestFunc func(ctx context.Context, w *worker) (*http.Request, error)

// checkFunc validates a response (status and body) beyond the transport.
type checkFunc func(status int, body []byte) error

// do sends one request and reads the whole body into w.buf; it reports
// whether the request succeeded (errors are recorded on w).
func do(ctx context.Context, c *http.Client, w *worker, next requestFunc, check checkFunc) bool {
	req, err := next(ctx, w)
	if err != nil {
		w.fail("build request: %v", err)
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.fail("%s %s: %v", req.Method, req.URL.Path, err)
		}
		return false
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		if ctx.Err() == nil {
			w.fail("%s %s: reading body: %v", req.Method, req.URL.Path, err)
		}
		return false
	}
	if err := check(resp.StatusCode, w.buf.Bytes()); err != nil {
		w.fail("%s %s: %v", req.Method, req.URL.RequestURI(), err)
		return false
	}
	return true
}

// runTimed runs a phase: concurrency workers send requests back to back for
// warmup+duration; requests completed in the last duration are measured,
// and so is the CPU time of process pid (the server) and of the client.
func runTimed(ctx context.Context, c *http.Client, name string, pid, concurrency int, warmup, duration time.Duration, next requestFunc, check checkFunc) *result {
	start := time.Now()
	from, end := start.Add(warmup), start.Add(warmup+duration)
	meter := cpuMeter{pid: pid}
	meterDone := make(chan struct{})
	go func() {
		defer close(meterDone)
		for _, at := range []time.Time{from, end} {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(at)):
			}
			if at == from {
				meter.begin()
			} else {
				meter.end()
			}
		}
	}()
	workers := make([]*worker, concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
		w.lat = make([]time.Duration, 0, 1<<14)
		workers[i] = w
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				ok := do(ctx, c, w, next, check)
				t1 := time.Now()
				if ok && !t1.Before(from) && !t1.After(end) {
					w.lat = append(w.lat, t1.Sub(t0))
				}
			}
		})
	}
	wg.Wait()
	<-meterDone
	r := collect(name, duration, workers)
	r.cpu = meter
	return r
}

func collect(name string, window time.Duration, workers []*worker) *result {
	r := &result{name: name, window: window}
	for _, w := range workers {
		r.lat = append(r.lat, w.lat...)
		r.errors += w.errors
		for _, s := range w.samples {
			if len(r.samples) < maxErrorSamples {
				r.samples = append(r.samples, s)
			}
		}
	}
	slices.Sort(r.lat)
	r.ok = len(r.lat)
	return r
}

// merge combines results of consecutive runs of one kind (chunks of a
// load) as if measured in one window: the windows, CPU times and counts
// add up, the latencies are pooled.
func merge(name string, parts ...*result) *result {
	r := &result{name: name}
	if len(parts) > 0 {
		r.cpu.srvOK, r.cpu.cliOK = true, true
	}
	for _, p := range parts {
		if r.name == "" {
			r.name = p.name
		}
		r.ok += p.ok
		r.window += p.window
		r.lat = append(r.lat, p.lat...)
		r.errors += p.errors
		for _, s := range p.samples {
			if len(r.samples) < maxErrorSamples {
				r.samples = append(r.samples, s)
			}
		}
		r.cpu.server += p.cpu.server
		r.cpu.client += p.cpu.client
		r.cpu.srvOK = r.cpu.srvOK && p.cpu.srvOK
		r.cpu.cliOK = r.cpu.cliOK && p.cpu.cliOK
	}
	slices.Sort(r.lat)
	return r
}

// expectStatus is a check that only looks at the status code.
func expectStatus(want int) checkFunc {
	return func(status int, body []byte) error {
		if status != want {
			return statusError(status, want, body)
		}
		return nil
	}
}

func statusError(status, want int, body []byte) error {
	const max = 200
	b := bytes.TrimSpace(body)
	if len(b) > max {
		b = append(b[:max:max], "..."...)
	}
	return fmt.Errorf("status %d, want %d: %s", status, want, b)
}

// totalResults reads "totalResults":N from a ListResponse without decoding
// the whole body (the bare handler's client does not decode either).
func totalResults(body []byte) (int, bool) {
	key := []byte(`"totalResults"`)
	i := bytes.Index(body, key)
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(body[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return 0, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	n, digits := 0, 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return n, digits > 0
}

// drain reads and closes a body so the connection can be reused.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, r)
	r.Close()
}
