package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimforge/scimforge/scim/exchange"
	"github.com/scimforge/scimforge/scim/tenant"
)

// TestProxies: X-Forwarded-* are believed from trusted peers only, the
// client is the rightmost untrusted hop, and the base URL follows.
func TestProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name, peer   string
		xff          []string
		proto, host  string
		client, base string
	}{
		{name: "no proxy", peer: "198.51.100.7:5555", client: "198.51.100.7", base: "http://scim.test/scim/v2"},
		{name: "untrusted peer's headers ignored", peer: "198.51.100.7:5555", xff: []string{"203.0.113.9"}, proto: "https", host: "evil.test",
			client: "198.51.100.7", base: "http://scim.test/scim/v2"},
		{name: "trusted proxy", peer: "10.1.2.3:443", xff: []string{"203.0.113.9"}, proto: "https", host: "scim.example.com",
			client: "203.0.113.9", base: "https://scim.example.com/scim/v2"},
		{name: "client's own XFF entry is not believed", peer: "10.1.2.3:443", xff: []string{"1.2.3.4, 203.0.113.9"},
			client: "203.0.113.9", base: "http://scim.test/scim/v2"},
		{name: "chain of trusted proxies", peer: "10.1.2.3:443", xff: []string{"1.2.3.4", "203.0.113.9, 10.9.9.9"},
			client: "203.0.113.9", base: "http://scim.test/scim/v2"},
		{name: "IPv6 trusted peer", peer: "[::1]:8080", xff: []string{"2001:db8::5"}, proto: "HTTPS",
			client: "2001:db8::5", base: "https://scim.test/scim/v2"},
		{name: "only proxies", peer: "10.1.2.3:443", xff: []string{"10.7.7.7"}, client: "10.7.7.7", base: "http://scim.test/scim/v2"},
		{name: "garbage hop stops the walk", peer: "10.1.2.3:443", xff: []string{"not-an-ip, 10.7.7.7"}, client: "10.7.7.7", base: "http://scim.test/scim/v2"},
		{name: "host with a path refused", peer: "10.1.2.3:443", host: "evil.test/x?", proto: "ftp",
			client: "10.1.2.3", base: "http://scim.test/scim/v2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var client, base string
			inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				client = ClientAddr(r)
				base = exchange.BaseURL(r.Context())
			})
			h := Proxies(trusted, Tenants(TenancyNone, Edge("", "/scim/v2", slog.New(slog.DiscardHandler), inner)))
			req := httptest.NewRequest("GET", "http://scim.test/scim/v2/Users", nil)
			req.RemoteAddr = c.peer
			for _, v := range c.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if c.proto != "" {
				req.Header.Set("X-Forwarded-Proto", c.proto)
			}
			if c.host != "" {
				req.Header.Set("X-Forwarded-Host", c.host)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if client != c.client || base != c.base {
				t.Errorf("client %q base %q; want %q %q", client, base, c.client, c.base)
			}
		})
	}
	// Without Proxies, ClientAddr is the peer.
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	if got := ClientAddr(req); got != "192.0.2.1" {
		t.Errorf("ClientAddr without Proxies: %q", got)
	}
}

// TestHostTenancyBehindProxy: a trusted proxy's X-Forwarded-Host names the
// tenant with host tenancy; an untrusted client's does not.
func TestHostTenancyBehindProxy(t *testing.T) {
	var got string
	h := Proxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Tenants(TenancyHost, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = tenant.From(r.Context())
	})))
	for peer, want := range map[string]string{"10.0.0.1:1": "acme", "192.0.2.1:1": "internal"} {
		req := httptest.NewRequest("GET", "http://internal:8080/scim/v2/Users", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-Host", "acme.scim.example.com")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got != want {
			t.Errorf("peer %s: tenant %q, want %q", peer, got, want)
		}
	}
}

func limited(l *RateLimiter, tenantName, tokenID string) *httptest.ResponseRecorder {
	h := RateLimit(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	ctx := context.WithValue(tenant.With(req.Context(), tenantName), tokenIDKey{}, tokenID)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	return rec
}

// TestRateLimit: a credential's burst is served, the next request is a 429
// SCIM error with Retry-After in whole seconds; another tenant and another
// credential of the same tenant are not affected.
func TestRateLimit(t *testing.T) {
	l := NewRateLimiter(0.5, 3) // a token every 2 s
	refused := 0
	l.OnLimited = func() { refused++ }
	for i := range 3 {
		if rec := limited(l, "acme", "tok1"); rec.Code != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, rec.Code)
		}
	}
	rec := limited(l, "acme", "tok1")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("over the burst: %d", rec.Code)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2 (a token every 2 s, rounded up)", ra)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") || !strings.Contains(rec.Body.String(), `"status":"429"`) {
		t.Errorf("429 is not a SCIM error: %s %s", ct, rec.Body)
	}
	for range 5 {
		if rec := limited(l, "acme", "tok1"); rec.Code != 429 {
			t.Fatalf("refused requests must not refill the bucket: %d", rec.Code)
		}
	}
	if refused != 6 {
		t.Errorf("OnLimited called %d times, want 6", refused)
	}
	for i := range 3 {
		if rec := limited(l, "globex", "tok1"); rec.Code != 200 {
			t.Fatalf("another tenant, request %d: %d (one tenant's limit affected another)", i+1, rec.Code)
		}
		if rec := limited(l, "acme", "tok2"); rec.Code != 200 {
			t.Fatalf("another credential, request %d: %d", i+1, rec.Code)
		}
	}
	if NewRateLimiter(0, 10) != nil {
		t.Error("rate 0 must disable the limiter")
	}
}

// TestRateLimiterRefills: after the wait Retry-After names, the request
// is served.
func TestRateLimiterRefills(t *testing.T) {
	l := NewRateLimiter(10, 1)
	now := time.Now()
	if _, ok := l.Allow("k", now); !ok {
		t.Fatal("first request refused")
	}
	wait, ok := l.Allow("k", now)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("second request: ok %v wait %v", ok, wait)
	}
	if retrySeconds(wait) != 1 {
		t.Errorf("Retry-After for %v: %d, want 1 (never 0)", wait, retrySeconds(wait))
	}
	if _, ok := l.Allow("k", now.Add(wait)); !ok {
		t.Error("refused after the wait it named")
	}
}

// TestMaxConcurrent: over the cap a request waits, and is served if a
// slot frees in time, else refused with 503 and Retry-After.
func TestMaxConcurrent(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	rejected := 0
	h := MaxConcurrent(1, 200*time.Millisecond, func() { rejected++ }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		if r.URL.Path == "/slow" {
			<-release
		}
	}))
	serve := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); serve("/slow") }()
	<-entered
	start := time.Now()
	rec := serve("/fast")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || rejected != 1 {
		t.Fatalf("over the cap: %d Retry-After %q rejected %d", rec.Code, rec.Header().Get("Retry-After"), rejected)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("refused after %v, want a wait of about 200 ms first", d)
	}
	// A slot that frees during the wait serves the waiting request.
	go func() { time.Sleep(50 * time.Millisecond); close(release) }()
	if rec := serve("/fast"); rec.Code != 200 {
		t.Errorf("with a slot freed during the wait: %d", rec.Code)
	}
	wg.Wait()
}

// TestRequestTimeout: work still running at the request's deadline is
// abandoned and answered 503 with Retry-After, logged as a timeout.
func TestRequestTimeout(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := RequestTimeout(50*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a slow query, abandoned by its context
		ResponseError(log)(w, r, errors.New("interrupted (9)"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/scim/v2/Users", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if !strings.Contains(logs.String(), "request timed out") {
		t.Errorf("log: %s", logs.String())
	}
	// Without a passed deadline an error stays a 500.
	rec = httptest.NewRecorder()
	ResponseError(log)(rec, httptest.NewRequest("GET", "/", nil), context.DeadlineExceeded)
	if rec.Code != 500 {
		t.Errorf("an error without the request's deadline passed: %d", rec.Code)
	}
}

func TestOperation(t *testing.T) {
	for _, c := range []struct{ method, route, want string }{
		{"POST", "/scim/v2/Users", "create"},
		{"GET", "/scim/v2/Users", "list"},
		{"GET", "/scim/v2/Users/{id}", "get"},
		{"PUT", "/scim/v2/Groups/{id}", "replace"},
		{"PATCH", "/scim/v2/Users/{id}", "patch"},
		{"DELETE", "/scim/v2/Users/{id}", "delete"},
		{"POST", "/scim/v2/Users/.search", "search"},
		{"POST", "/scim/v2/.search", "search"},
		{"POST", "/scim/v2/Bulk", "bulk"},
		{"GET", "/scim/v2/Schemas/{id}", "discovery"},
		{"GET", "/scim/v2/ServiceProviderConfig", "discovery"},
		{"GET", "/scim/v2/ResourceTypes", "discovery"},
		{"POST", "/scim/v2/Users/{id}", "other"},
		{"GET", "/", "other"},
		{"GET", "", "other"},
	} {
		if got := Operation(c.method, c.route); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.route, got, c.want)
		}
	}
}

// BenchmarkRoutes is the cost of looking the route template up a second
// time (ServeMux's r.Pattern is not visible outside it), with the shape of
// the server's mux.
func BenchmarkRoutes(b *testing.B) {
	mux := http.NewServeMux()
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, ep := range []string{"Users", "Groups"} {
		for _, m := range []string{"GET", "POST"} {
			mux.Handle(m+" /scim/v2/"+ep, nop)
		}
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			mux.Handle(m+" /scim/v2/"+ep+"/{id}", nop)
		}
		mux.Handle("POST /scim/v2/"+ep+"/.search", nop)
		mux.Handle("/scim/v2/"+ep, nop)
		mux.Handle("/scim/v2/"+ep+"/{id}", nop)
	}
	mux.Handle("/", nop)
	req := httptest.NewRequest("GET", "/scim/v2/Users/0190a3c4-1111-7222-8333-444455556666", nil)
	req = req.WithContext(context.WithValue(req.Context(), logNoteKey{}, &logNote{}))
	w := httptest.NewRecorder()
	b.Run("mux", func(b *testing.B) {
		for b.Loop() {
			mux.ServeHTTP(w, req)
		}
	})
	b.Run("routes+mux", func(b *testing.B) {
		h := Routes(mux, mux)
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
	})
}
