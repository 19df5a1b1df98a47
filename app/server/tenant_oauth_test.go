package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/discovery"
	"github.com/scimforge/scimforge/internal/jwkstest"
	"github.com/scimforge/scimforge/scim/conformance"
	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

// Issuers of the per-tenant OAuth tests: Entra v1 issuers of two
// directories.
const (
	issAlpha = "https://sts.windows.net/aaaaaaaa-0000-4000-8000-00000000000a/"
	issBeta  = "https://sts.windows.net/bbbbbbbb-0000-4000-8000-00000000000b/"
)

// syncBuffer is a log destination safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tenantOAuthConfig: path tenancy, oauth beside stored bearer tokens, the
// global audience Entra's.
func tenantOAuthConfig() *config.Config {
	return &config.Config{Tenancy: web.TenancyPath, Auth: config.Auth{
		Schemes: []string{"oauth", "bearer"}, OAuthAudiences: []string{jwkstest.Audience}, OAuthLeeway: time.Minute,
	}}
}

// tenantOAuthServer serves cfg over dbURL on loopback, logging into log.
func tenantOAuthServer(t *testing.T, cfg *config.Config, dbURL string, log *syncBuffer) (*httpClient, *credential.Store) {
	t.Helper()
	db, creds, err := Open(context.Background(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, err := Handler(cfg, db, creds, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	set, err := discovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(conformance.FillRequiredHandler(set, config.BasePath, conformance.ShippedRequired, h))
	t.Cleanup(srv.Close)
	return newHTTPClient(t, srv.URL, ""), creds
}

func setIssuer(t *testing.T, creds *credential.Store, tenantName, issuer, jwksURL string, audiences ...string) {
	t.Helper()
	ctx := context.Background()
	if err := creds.EnsureTenant(ctx, tenantName); err != nil {
		t.Fatal(err)
	}
	if _, err := creds.SetIssuer(ctx, credential.Issuer{Tenant: tenantName, Issuer: issuer, JWKSURL: jwksURL, Audiences: audiences}); err != nil {
		t.Fatal(err)
	}
}

// claimsOf sets iss (and aud when not empty) in a token's claims.
func claimsOf(iss, aud string) func(jwt.MapClaims) {
	return func(c jwt.MapClaims) {
		c["iss"] = iss
		if aud != "" {
			c["aud"] = aud
		}
	}
}

// TestTenantOAuthOverHTTP: with path tenancy each tenant accepts JWTs
// from its own issuers only, over HTTP, on SQLite and PostgreSQL: another
// tenant's token, a token naming the right issuer but signed by another
// issuer's key, and a token for the global audience where the tenant
// stored its own are refused; keys rotate; tenants sharing a JWKS URL
// share one key set; a tenant whose JWKS is down is refused (reason
// logged) while the others work; a removed issuer stops at once.
func TestTenantOAuthOverHTTP(t *testing.T) {
	for name, db := range engines(t) {
		t.Run(name, func(t *testing.T) { testTenantOAuth(t, db()) })
	}
}

func testTenantOAuth(t *testing.T, dbURL string) {
	a, b := jwkstest.New(t), jwkstest.New(t)
	var log syncBuffer
	c, creds := tenantOAuthServer(t, tenantOAuthConfig(), dbURL, &log)
	setIssuer(t, creds, "alpha", issAlpha, a.JWKSURL())
	setIssuer(t, creds, "beta", issBeta, b.JWKSURL(), "api://beta")
	status := func(tenantName, token string) int {
		t.Helper()
		resp, _ := c.do("GET", "/t/"+tenantName+"/scim/v2/Users", hdr("Authorization", "Bearer "+token), "")
		return resp.StatusCode
	}
	want := func(what string, got, code int) {
		t.Helper()
		if got != code {
			t.Errorf("%s: %d, want %d", what, got, code)
		}
	}
	// A key set's first fetch (or the fetch an unknown kid starts) may
	// outlast the 1 s a request waits for keys on a loaded machine: the
	// first use of keys is retried, as a client would, until accepted.
	eventually := func(what, tenantName, token string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for code := status(tenantName, token); code != 200; code = status(tenantName, token) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d, want 200", what, code)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if a.Fetches.Load() != 0 || b.Fetches.Load() != 0 {
		t.Fatal("JWKS fetched before a token needed it")
	}
	tokA := a.Token(t, claimsOf(issAlpha, ""))
	tokB := b.Token(t, claimsOf(issBeta, "api://beta"))
	eventually("alpha's JWT at alpha", "alpha", tokA)
	eventually("beta's JWT at beta", "beta", tokB)
	want("alpha's JWT at beta", status("beta", tokA), 401)
	want("beta's JWT at alpha", status("alpha", tokB), 401)
	want("JWT at a tenant without issuers", status("default", tokA), 401)
	want("beta's issuer, signed with alpha's key, at beta", status("beta", a.Token(t, claimsOf(issBeta, "api://beta"))), 401)
	want("alpha's issuer, signed with beta's key, at alpha", status("alpha", b.Token(t, claimsOf(issAlpha, ""))), 401)
	want("beta's issuer with the global audience (beta stored its own)", status("beta", b.Token(t, claimsOf(issBeta, ""))), 401)
	want("alpha's JWT, expired", status("alpha", a.Token(t, func(c jwt.MapClaims) {
		c["iss"] = issAlpha
		c["exp"] = time.Now().Add(-time.Hour).Unix()
	})), 401)
	stored, _ := mustToken(t, creds, "alpha")
	want("alpha's stored bearer token beside oauth", status("alpha", stored), 200)
	if !strings.Contains(log.String(), "which tenant \\\"beta\\\" does not trust") {
		t.Errorf("the cross-tenant refusal's reason is not logged:\n%s", log.String())
	}

	// authenticationSchemes lists oauth, without the tenant's issuers.
	resp, body := c.do("GET", "/t/alpha/scim/v2/ServiceProviderConfig", hdr("Authorization", "Bearer "+tokA), "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"type":"oauth2"`) || !strings.Contains(body, "an issuer this tenant trusts") || strings.Contains(body, "sts.windows.net") || strings.Contains(body, a.URL) {
		t.Errorf("ServiceProviderConfig: %d %s", resp.StatusCode, body)
	}

	// Rotation: alpha's issuer withdraws its key; a token under the new
	// kid is accepted at once (unknown kid: one fetch), the old key's not.
	a.Rotate(t)
	tokA2 := a.Token(t, claimsOf(issAlpha, ""))
	eventually("alpha's JWT under the rotated key", "alpha", tokA2)
	want("alpha's JWT under the withdrawn key", status("alpha", tokA), 401)

	// Two tenants whose issuers publish keys at one URL share one key set.
	shared := jwkstest.New(t)
	setIssuer(t, creds, "gamma", "https://issuer.example/gamma/", shared.JWKSURL())
	setIssuer(t, creds, "delta", "https://issuer.example/delta/", shared.JWKSURL())
	eventually("gamma", "gamma", shared.Token(t, claimsOf("https://issuer.example/gamma/", "")))
	eventually("delta", "delta", shared.Token(t, claimsOf("https://issuer.example/delta/", "")))
	want("gamma's JWT at delta", status("delta", shared.Token(t, claimsOf("https://issuer.example/gamma/", ""))), 401)
	if n := shared.Fetches.Load(); n != 1 {
		t.Errorf("the shared JWKS was fetched %d times, want once", n)
	}

	// A tenant whose JWKS is down gets 401, with the reason in the log;
	// the others are unaffected.
	down := jwkstest.New(t)
	down.SetDown(true)
	setIssuer(t, creds, "epsilon", "https://issuer.example/epsilon/", down.JWKSURL())
	want("epsilon, JWKS down", status("epsilon", down.Token(t, claimsOf("https://issuer.example/epsilon/", ""))), 401)
	want("beta while epsilon's JWKS is down", status("beta", tokB), 200)
	if !strings.Contains(log.String(), "JWKS") || !strings.Contains(log.String(), "epsilon") {
		t.Errorf("the JWKS failure is not logged:\n%s", log.String())
	}

	// Removal: at once in this process.
	if err := creds.RemoveIssuer(context.Background(), "alpha", issAlpha); err != nil {
		t.Fatal(err)
	}
	want("alpha's JWT after its issuer's removal", status("alpha", tokA2), 401)
	if err := creds.RemoveTenant(context.Background(), "beta", nil); err != nil {
		t.Fatal(err)
	}
	want("beta's JWT after the tenant's removal", status("beta", tokB), 401)
	if list, err := creds.Issuers(context.Background(), ""); err != nil || len(list) != 3 {
		t.Errorf("issuers left: %+v %v", list, err)
	}
}

// TestTenantIssuerRemovalWithinTTL: an issuer removed by another instance
// (the command line tool, another server) stops working once the store's
// cache TTL has passed, without a restart; before that a request costs no
// query for the issuers.
func TestTenantIssuerRemovalWithinTTL(t *testing.T) {
	db, creds, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "r.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const ttl = 200 * time.Millisecond
	creds.SetCacheTTL(ttl)
	h, err := Handler(tenantOAuthConfig(), db, creds, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a := jwkstest.New(t)
	setIssuer(t, creds, "alpha", issAlpha, a.JWKSURL())
	tok := a.Token(t, claimsOf(issAlpha, ""))
	for deadline := time.Now().Add(10 * time.Second); as(h, tok, "", "GET", "/t/alpha/scim/v2/Users", "").Code != 200; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) { // the first fetch may outlast a request's 1 s wait
			t.Fatal("alpha's JWT never accepted")
		}
	}
	other := credential.New(db.Write)
	if err := other.RemoveIssuer(context.Background(), "alpha", issAlpha); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rec := as(h, tok, "", "GET", "/t/alpha/scim/v2/Users", "")
	if time.Since(start) < ttl/2 && rec.Code != 200 {
		t.Fatalf("the cached issuers were not used within the TTL: %d", rec.Code)
	}
	time.Sleep(ttl + 20*time.Millisecond)
	expect(t, as(h, tok, "", "GET", "/t/alpha/scim/v2/Users", ""), 401, "after removal and TTL")
}

// TestReadyzSkipsTenantKeys: with path tenancy and oauth the server is
// ready without any tenant's keys (they load on first use), even when a
// tenant's JWKS is down.
func TestReadyzSkipsTenantKeys(t *testing.T) {
	issuer := jwkstest.New(t)
	issuer.SetDown(true)
	cfg := tenantOAuthConfig()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "r.db")
	s, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	setIssuer(t, s.Creds, "alpha", issAlpha, issuer.JWKSURL())
	srv := httptest.NewServer(s.HTTP.Handler)
	defer srv.Close()
	c := newHTTPClient(t, srv.URL, "")
	if resp, body := c.do("GET", "/readyz", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	if resp, _ := c.do("GET", "/t/alpha/scim/v2/Users", hdr("Authorization", "Bearer "+issuer.Token(t, claimsOf(issAlpha, ""))), ""); resp.StatusCode != 401 {
		t.Fatalf("a JWT whose keys cannot load: %d", resp.StatusCode)
	}
	if resp, body := c.do("GET", "/readyz", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("readyz after a tenant's key fetch failed: %d %s", resp.StatusCode, body)
	}
}
