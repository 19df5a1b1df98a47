package server

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/discovery"
	"github.com/scimforge/scimforge/scim/conformance"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

// opsServer is the handler New serves (limits, metrics, probes) over a
// fresh SQLite database, logging to log.
func opsServer(t testing.TB, cfg *config.Config, log *slog.Logger) (http.Handler, *Ops) {
	t.Helper()
	db, creds, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "ops.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ops := NewOps(cfg, db, log)
	h, err := HandlerWith(cfg, db, creds, log, Parts{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	set, err := discovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	h = conformance.FillRequiredHandler(set, config.BasePath, conformance.ShippedRequired, h)
	return ops.serveOps(withHealth(h, db, ops.Draining)), ops
}

// lockedLog is a log output tests read while handlers write.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// scrape returns GET /metrics as series → value ("name{labels}" as the
// text format writes them, labels in name order).
func scrape(t *testing.T, h http.Handler, token string) map[string]float64 {
	t.Helper()
	rec := as(h, token, "", "GET", "/metrics", "")
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetrics: after a few requests the scrape has the counts by route
// template, operation and status, latency histograms, database timings,
// pool stats, auth failures, rate-limited requests and the feed backlog;
// no raw path (ids) and no tenant in any series.
func TestMetrics(t *testing.T) {
	const tok = "metrics-test-token-0123"
	cfg := &config.Config{Token: tok, WebhookURL: "http://127.0.0.1:9/hook", WebhookSecret: "0123456789abcdef"}
	cfg.RateLimit, cfg.RateBurst = 0.01, 7 // no refill during the test
	h, _ := opsServer(t, cfg, slog.New(slog.DiscardHandler))

	id := expect(t, as(h, tok, "", "POST", "/scim/v2/Users", userBody("ada@example.com")), 201, "create")["id"].(string)
	expect(t, as(h, tok, "", "GET", "/scim/v2/Users/"+id, ""), 200, "get")
	expect(t, as(h, tok, "", "GET", "/scim/v2/users/"+id, ""), 200, "get in another case")
	expect(t, as(h, tok, "", "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "ada@example.com"`), ""), 200, "list")
	expect(t, as(h, tok, "", "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`), 204, "patch")
	expect(t, as(h, "wrong-token-0123456789", "", "GET", "/scim/v2/Users", ""), 401, "bad token")
	expect(t, as(h, tok, "", "GET", "/scim/v2/Nope", ""), 404, "unknown route")
	// The burst of 7 is spent by 6 requests above with the token (the 401
	// did not count: the limit applies after authentication) and the next;
	// the one after is refused.
	expect(t, as(h, tok, "", "GET", "/scim/v2/ServiceProviderConfig", ""), 200, "discovery")
	rl := as(h, tok, "", "GET", "/scim/v2/ServiceProviderConfig", "")
	expect(t, rl, 429, "over the rate")

	m := scrape(t, h, "")
	want := map[string]float64{
		`scimforge_http_requests_total{code="201",operation="create",route="/scim/v2/Users"}`:                    1,
		`scimforge_http_requests_total{code="200",operation="get",route="/scim/v2/Users/{id}"}`:                  2,
		`scimforge_http_requests_total{code="200",operation="list",route="/scim/v2/Users"}`:                      1,
		`scimforge_http_requests_total{code="204",operation="patch",route="/scim/v2/Users/{id}"}`:                1,
		`scimforge_http_requests_total{code="401",operation="list",route="/scim/v2/Users"}`:                      1,
		`scimforge_http_requests_total{code="404",operation="other",route="/"}`:                                  1,
		`scimforge_http_requests_total{code="429",operation="discovery",route="/scim/v2/ServiceProviderConfig"}`: 1,
		`scimforge_http_request_duration_seconds_count{class="2xx",operation="get",route="/scim/v2/Users/{id}"}`: 2,
		`scimforge_auth_failures_total`:     1,
		`scimforge_rate_limited_total`:      1,
		`scimforge_overloaded_total`:        0,
		`scimforge_feed_events_waiting`:     2, // the create and the PATCH, not delivered
		`scimforge_http_requests_in_flight`: 0,
	}
	for series, v := range want {
		if got, ok := m[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	if m[`scimforge_db_transaction_duration_seconds_count`] < 2 {
		t.Errorf("write transactions timed: %v, want ≥ 2", m[`scimforge_db_transaction_duration_seconds_count`])
	}
	if m[`scimforge_db_read_duration_seconds_count`] < 1 { // the list (the GETs may come from the row cache)
		t.Errorf("reads timed: %v", m[`scimforge_db_read_duration_seconds_count`])
	}
	if _, ok := m[`go_sql_open_connections{db_name="main"}`]; !ok {
		t.Error("no database pool statistics")
	}
	if _, ok := m[`scimforge_feed_oldest_waiting_seconds`]; !ok {
		t.Error("no oldest-waiting age")
	}
	if _, ok := m[`process_resident_memory_bytes`]; !ok {
		t.Error("no process metrics")
	}
	for series := range m {
		if strings.Contains(series, id) || strings.Contains(series, "default") || strings.Contains(series, "/users") || strings.Contains(series, "ada") {
			t.Errorf("a series carries a raw path, id, tenant or value: %s", series)
		}
	}
}

// TestMetricsToken: with SCIMFORGE_METRICS_TOKEN, /metrics needs it; the
// probes never need anything.
func TestMetricsToken(t *testing.T) {
	cfg := &config.Config{Token: "scim-token-0123456789"}
	cfg.MetricsToken = "metrics-token-0123456789"
	h, _ := opsServer(t, cfg, slog.New(slog.DiscardHandler))
	for _, tok := range []string{"", "scim-token-0123456789"} {
		if rec := as(h, tok, "", "GET", "/metrics", ""); rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("metrics with token %q: %d", tok, rec.Code)
		}
	}
	if m := scrape(t, h, "metrics-token-0123456789"); len(m) == 0 {
		t.Error("empty scrape")
	}
	if rec := as(h, "", "", "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("healthz: %d", rec.Code)
	}
}

// TestReadyzDraining: once a shutdown begins /readyz is 503 while the
// API still serves.
func TestReadyzDraining(t *testing.T) {
	h, ops := opsServer(t, &config.Config{Token: "scim-token-0123456789"}, slog.New(slog.DiscardHandler))
	if rec := as(h, "", "", "GET", "/readyz", ""); rec.Code != 200 {
		t.Fatalf("readyz: %d", rec.Code)
	}
	ops.Drain()
	if rec := as(h, "", "", "GET", "/readyz", ""); rec.Code != 503 || !strings.Contains(rec.Body.String(), "draining") {
		t.Errorf("readyz while draining: %d %s", rec.Code, rec.Body)
	}
	expect(t, as(h, "scim-token-0123456789", "", "GET", "/scim/v2/Users", ""), 200, "the API while draining")
}

// TestAccessLogKeepsSecretsOut: at the default level, nothing a client
// sent as a credential, password, filter or attribute value reaches the
// log; the route template and operation do.
func TestAccessLogKeepsSecretsOut(t *testing.T) {
	const tok = "scim-token-SECRET-0123456789"
	var out lockedLog
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := &config.Config{Token: tok}
	h, _ := opsServer(t, cfg, log)
	secrets := []string{tok, "sfg_default_WRONGTOKENVALUE", "Pa55word-SECRET!", "grace.SECRET@example.com", "Hopper-SECRET", "filter", "SECRET"}
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace.SECRET@example.com","password":"Pa55word-SECRET!","name":{"familyName":"Hopper-SECRET"}}`
	id := expect(t, as(h, tok, "", "POST", "/scim/v2/Users", body), 201, "create")["id"].(string)
	expect(t, as(h, tok, "", "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "grace.SECRET@example.com"`), ""), 200, "filter")
	expect(t, as(h, tok, "", "POST", "/scim/v2/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"name.familyName eq \"Hopper-SECRET\""}`), 200, "search")
	expect(t, as(h, tok, "", "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"Pa55word-SECRET!"}]}`), 204, "patch password")
	expect(t, as(h, "sfg_default_WRONGTOKENVALUE", "", "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "grace.SECRET@example.com"`), ""), 401, "bad token")
	expect(t, as(h, tok, "", "POST", "/scim/v2/Users", body), 409, "duplicate")
	logs := out.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains %q:\n%s", s, logs)
		}
	}
	for _, s := range []string{"route=/scim/v2/Users/{id} op=patch", "route=/scim/v2/Users op=list status=401", "route=/scim/v2/Users/.search op=search", "client=192.0.2.1"} {
		if !strings.Contains(logs, s) {
			t.Errorf("the log lacks %q:\n%s", s, logs)
		}
	}
}

// BenchmarkMetricsOverhead compares GET /Users/{id} through the handler
// with and without metrics (route lookup, counters, histogram, in-flight
// gauge); the access log goes to a discarding handler in both.
func BenchmarkMetricsOverhead(b *testing.B) {
	const tok = "bench-token-0123456789"
	for _, withMetrics := range []bool{false, true} {
		name := "plain"
		if withMetrics {
			name = "metrics"
		}
		b.Run(name, func(b *testing.B) {
			log := slog.New(slog.DiscardHandler)
			db, creds, err := Open(context.Background(), "sqlite://"+filepath.Join(b.TempDir(), "b.db"), sqlstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			cfg := &config.Config{Token: tok}
			var ops *Ops
			if withMetrics {
				ops = NewOps(cfg, db, log)
			}
			h, err := HandlerWith(cfg, db, creds, log, Parts{Ops: ops})
			if err != nil {
				b.Fatal(err)
			}
			rec := as(h, tok, "", "POST", "/scim/v2/Users", userBody("bench@example.com"))
			if rec.Code != 201 {
				b.Fatalf("create: %d %s", rec.Code, rec.Body)
			}
			loc := rec.Header().Get("Location")
			path := loc[strings.Index(loc, "/scim/v2"):]
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if rec := as(h, tok, "", "GET", path, ""); rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

// BenchmarkObserve is what recording one request's metrics costs.
func BenchmarkObserve(b *testing.B) {
	m := NewMetrics(nil)
	r := httptest.NewRequest("GET", "/scim/v2/Users/x", nil)
	o := web.Outcome{Route: "/scim/v2/Users/{id}", Operation: "get", Method: "GET", Status: 200, Duration: 3 * time.Millisecond}
	for b.Loop() {
		m.observe(r, o)
	}
}
