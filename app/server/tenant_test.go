package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/discovery"
	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/conformance"
	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
	"github.com/uptrace/bun"
)

// tenantHandler serves cfg over a fresh database and returns the handler
// and its credential store.
func tenantHandler(t testing.TB, cfg *config.Config) (http.Handler, *credential.Store) {
	t.Helper()
	return tenantHandlerOn(t, cfg, "sqlite://"+filepath.Join(t.TempDir(), "t.db"))
}

// tenantHandlerOn is tenantHandler over the database at dbURL.
func tenantHandlerOn(t testing.TB, cfg *config.Config, dbURL string) (http.Handler, *credential.Store) {
	t.Helper()
	db, creds, err := Open(context.Background(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, err := Handler(cfg, db, creds, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// These tests create users with a userName alone; an app whose
	// schema requires more gets sample values for it in each request.
	set, err := discovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	return conformance.FillRequiredHandler(set, config.BasePath, conformance.ShippedRequired, h), creds
}

// as sends one request with token as the bearer token and host as Host.
func as(h http.Handler, token, host, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustToken(t *testing.T, creds *credential.Store, tenantName string) (string, credential.TokenInfo) {
	t.Helper()
	ctx := context.Background()
	if err := creds.EnsureTenant(ctx, tenantName); err != nil {
		t.Fatal(err)
	}
	tok, info, err := creds.CreateToken(ctx, tenantName, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok, info
}

func userBody(name string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `"}`
}

func expect(t *testing.T, rec *httptest.ResponseRecorder, want int, what string) map[string]any {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("%s: %d, want %d: %s", what, rec.Code, want, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); rec.Body.Len() > 0 && !strings.HasPrefix(ct, "application/scim+json") {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	var v map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	return v
}

// TestPathTenancyAuth: each tenant's tokens open its own base path only,
// the unprefixed base is gone, and locations carry the tenant prefix.
func TestPathTenancyAuth(t *testing.T) {
	h, creds := tenantHandler(t, &config.Config{Tenancy: web.TenancyPath, Token: fuzzToken})
	a, _ := mustToken(t, creds, "alpha")
	b, _ := mustToken(t, creds, "beta")

	u := expect(t, as(h, a, "", "POST", "/t/alpha/scim/v2/Users", userBody("ann")), 201, "create in alpha")
	loc := u["meta"].(map[string]any)["location"].(string)
	if !strings.HasPrefix(loc, "http://example.com/t/alpha/scim/v2/Users/") {
		t.Fatalf("location %q lacks the tenant prefix", loc)
	}
	expect(t, as(h, a, "", "GET", "/t/alpha/scim/v2/users/", ""), 200, "alpha list (any case, trailing slash)")
	expect(t, as(h, b, "", "GET", "/t/beta/scim/v2/Users", ""), 200, "beta list")
	expect(t, as(h, b, "", "GET", "/t/beta/scim/v2/ServiceProviderConfig", ""), 200, "beta discovery")
	// Bulk under a tenant prefix: its own body limit and route apply, and
	// the created resource's location carries the prefix.
	bulk := expect(t, as(h, b, "", "POST", "/t/beta/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"1","data":`+userBody("bob")+`}]}`), 200, "beta bulk")
	if ops := bulk["Operations"].([]any); len(ops) != 1 || !strings.Contains(ops[0].(map[string]any)["location"].(string), "/t/beta/scim/v2/Users/") {
		t.Fatalf("bulk in beta: %v", bulk)
	}

	// Another tenant's token, an unknown tenant, SCIMFORGE_TOKEN (ignored
	// with path tenancy), no token: 401 with one body for every bad token.
	bad := expect(t, as(h, a, "", "GET", "/t/beta/scim/v2/Users", ""), 401, "alpha token on beta")
	for _, c := range []struct{ token, path string }{
		{b, "/t/alpha/scim/v2/Users/" + u["id"].(string)},
		{a, "/t/gamma/scim/v2/Users"},
		{fuzzToken, "/t/default/scim/v2/Users"},
		{strings.Replace(a, "alpha", "beta", 1), "/t/beta/scim/v2/Users"},
	} {
		got := expect(t, as(h, c.token, "", "GET", c.path, ""), 401, c.path)
		if got["detail"] != bad["detail"] {
			t.Errorf("%s: 401 detail %q differs from %q", c.path, got["detail"], bad["detail"])
		}
	}
	expect(t, as(h, "", "", "GET", "/t/alpha/scim/v2/Users", ""), 401, "no token")
	expect(t, as(h, b, "", "POST", "/t/alpha/scim/v2/Users", userBody("mallory")), 401, "beta token creates in alpha")
	expect(t, as(h, b, "", "POST", "/t/alpha/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[]}`), 401, "beta token bulk in alpha")

	// Routing: the unprefixed base and bad tenant names are SCIM 404s.
	expect(t, as(h, a, "", "GET", "/scim/v2/Users", ""), 404, "unprefixed base")
	expect(t, as(h, a, "", "GET", "/t/Alpha/scim/v2/Users", ""), 404, "upper-case tenant")
	expect(t, as(h, a, "", "GET", "/t/al_pha/scim/v2/Users", ""), 404, "invalid tenant")
	expect(t, as(h, a, "", "GET", "/t/alpha/nope", ""), 404, "unknown endpoint under a tenant")
}

// TestHostTenancyAuth: the tenant is the host's first label.
func TestHostTenancyAuth(t *testing.T) {
	h, creds := tenantHandler(t, &config.Config{Tenancy: web.TenancyHost})
	a, _ := mustToken(t, creds, "alpha")
	b, _ := mustToken(t, creds, "beta")
	u := expect(t, as(h, a, "Alpha.scim.example.com:8443", "POST", "/scim/v2/Users", userBody("ann")), 201, "create in alpha")
	if loc := u["meta"].(map[string]any)["location"].(string); !strings.HasPrefix(loc, "http://Alpha.scim.example.com:8443/scim/v2/Users/") {
		t.Fatalf("location %q", loc)
	}
	expect(t, as(h, b, "beta.scim.example.com", "GET", "/scim/v2/Users", ""), 200, "beta list")
	expect(t, as(h, a, "beta.scim.example.com", "GET", "/scim/v2/Users", ""), 401, "alpha token on beta host")
	expect(t, as(h, a, "al_pha.scim.example.com", "GET", "/scim/v2/Users", ""), 404, "invalid host label")
}

// TestNoneTenancyAuth: SCIMFORGE_TOKEN and stored tokens of the default
// tenant open /scim/v2; other tenants' tokens do not.
func TestNoneTenancyAuth(t *testing.T) {
	h, creds := tenantHandler(t, &config.Config{Token: fuzzToken})
	d, _ := mustToken(t, creds, "default")
	other, _ := mustToken(t, creds, "acme")
	expect(t, as(h, fuzzToken, "", "GET", "/scim/v2/Users", ""), 200, "SCIMFORGE_TOKEN")
	expect(t, as(h, d, "", "GET", "/scim/v2/Users", ""), 200, "stored default token")
	expect(t, as(h, other, "", "GET", "/scim/v2/Users", ""), 401, "another tenant's token")
	expect(t, as(h, fuzzToken+"x", "", "GET", "/scim/v2/Users", ""), 401, "wrong static token")
	expect(t, as(h, d, "", "GET", "/t/default/scim/v2/Users", ""), 404, "path prefix in none mode")

	// Without SCIMFORGE_TOKEN, stored tokens alone authenticate.
	h2, creds2 := tenantHandler(t, &config.Config{})
	d2, _ := mustToken(t, creds2, "default")
	expect(t, as(h2, d2, "", "GET", "/scim/v2/Users", ""), 200, "stored token, no SCIMFORGE_TOKEN")
	expect(t, as(h2, "", "", "GET", "/scim/v2/Users", ""), 401, "no token")
}

// TestStartNeedsAuthentication: none mode without SCIMFORGE_TOKEN starts
// only when a live stored token exists.
func TestStartNeedsAuthentication(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	_, creds := tenantHandler(t, &config.Config{})
	if err := checkAuth(ctx, &config.Config{}, creds, log); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_TOKEN") {
		t.Fatalf("no token, nothing stored: %v", err)
	}
	if err := checkAuth(ctx, &config.Config{Token: fuzzToken}, creds, log); err != nil {
		t.Fatal(err)
	}
	if err := checkAuth(ctx, &config.Config{Tenancy: web.TenancyPath}, creds, log); err != nil {
		t.Fatal(err)
	}
	_, info := mustToken(t, creds, "default")
	if err := checkAuth(ctx, &config.Config{}, creds, log); err != nil {
		t.Fatalf("stored token: %v", err)
	}
	if err := creds.RevokeToken(ctx, "default", info.ID); err != nil {
		t.Fatal(err)
	}
	if err := checkAuth(ctx, &config.Config{}, creds, log); err == nil {
		t.Fatal("started with only a revoked token")
	}
}

// TestRevocationWithinTTL: a token revoked by another instance (another
// Store on the same database, as the command line tool or a second server)
// stops working once the cache TTL has passed, without a restart.
func TestRevocationWithinTTL(t *testing.T) {
	db, creds, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "r.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const ttl = 100 * time.Millisecond
	creds.SetCacheTTL(ttl)
	h, err := Handler(&config.Config{Tenancy: web.TenancyPath}, db, creds, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tok, info := mustToken(t, creds, "alpha")
	expect(t, as(h, tok, "", "GET", "/t/alpha/scim/v2/Users", ""), 200, "before revocation")
	other := credential.New(db.Write)
	if err := other.RevokeToken(context.Background(), "alpha", info.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 20*time.Millisecond)
	expect(t, as(h, tok, "", "GET", "/t/alpha/scim/v2/Users", ""), 401, "after revocation and TTL")
	// Revoked through the server's own store: at once.
	tok2, info2 := mustToken(t, creds, "alpha")
	expect(t, as(h, tok2, "", "GET", "/t/alpha/scim/v2/Users", ""), 200, "second token")
	if err := creds.RevokeToken(context.Background(), "alpha", info2.ID); err != nil {
		t.Fatal(err)
	}
	expect(t, as(h, tok2, "", "GET", "/t/alpha/scim/v2/Users", ""), 401, "revoked in process")
}

// engines are the databases the isolation tests run on: a SQLite file
// and a fresh database on the test PostgreSQL server.
func engines(t *testing.T) map[string]func() string {
	return map[string]func() string{
		"sqlite":   func() string { return "sqlite://" + filepath.Join(t.TempDir(), "t.db") },
		"postgres": func() string { return pgtest.Shared(t).NewDatabase(t) },
	}
}

// TestTenantIsolation: nothing of tenant alpha is visible or writable
// through tenant beta, and userName is unique per tenant, on both engines.
func TestTenantIsolation(t *testing.T) {
	for name, db := range engines(t) {
		t.Run(name, func(t *testing.T) { testTenantIsolation(t, db()) })
	}
}

func testTenantIsolation(t *testing.T, dbURL string) {
	h, creds := tenantHandlerOn(t, &config.Config{Tenancy: web.TenancyPath}, dbURL)
	a, _ := mustToken(t, creds, "alpha")
	b, _ := mustToken(t, creds, "beta")
	const A, B = "/t/alpha/scim/v2", "/t/beta/scim/v2"
	uid := expect(t, as(h, a, "", "POST", A+"/Users", userBody("ann@example.com")), 201, "alpha user")["id"].(string)
	gid := expect(t, as(h, a, "", "POST", A+"/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[{"value":"`+uid+`"}]}`), 201, "alpha group")["id"].(string)

	// The same userName and displayName are free in beta.
	buid := expect(t, as(h, b, "", "POST", B+"/Users", userBody("ann@example.com")), 201, "same userName in beta")["id"].(string)
	expect(t, as(h, b, "", "POST", B+"/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng"}`), 201, "same group name in beta")

	// Every endpoint by id: 404 in beta.
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Ann"}]}`
	for _, c := range []struct{ method, path, body string }{
		{"GET", B + "/Users/" + uid, ""},
		{"PUT", B + "/Users/" + uid, userBody("ann@example.com")},
		{"PATCH", B + "/Users/" + uid, patch},
		{"DELETE", B + "/Users/" + uid, ""},
		{"GET", B + "/Groups/" + gid, ""},
		{"PUT", B + "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng"}`},
		{"PATCH", B + "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + buid + `"}]}]}`},
		{"DELETE", B + "/Groups/" + gid, ""},
	} {
		expect(t, as(h, b, "", c.method, c.path, c.body), 404, c.method+" "+c.path)
	}
	// A beta group cannot take alpha's user as a member.
	expect(t, as(h, b, "", "POST", B+"/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"X","members":[{"value":"`+uid+`"}]}`), 400, "alpha member in beta group")

	// Lists, filters, searches and counts see beta's resources only.
	for _, c := range []struct{ method, path, body string }{
		{"GET", B + "/Users", ""},
		{"GET", B + "/Users?filter=" + `userName%20eq%20%22ann@example.com%22`, ""},
		{"GET", B + "/Users?filter=" + `id%20eq%20%22` + uid + `%22`, ""},
		{"GET", B + "/Users?sortBy=userName&startIndex=1&count=10", ""},
		{"POST", B + "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName pr"}`},
		{"POST", B + "/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`},
		{"GET", B + "/Groups?filter=" + `members.value%20eq%20%22` + uid + `%22`, ""},
		{"GET", B + "/Groups?sortBy=displayName&count=50", ""},
		{"GET", B + "/Groups?filter=displayName%20eq%20%22Eng%22&attributes=members", ""},
		{"GET", B + "/Users?count=0", ""},
		{"GET", B + "/Users?cursor&count=1", ""},
		{"POST", B + "/Groups/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"members pr"}`},
	} {
		body := expect(t, as(h, b, "", c.method, c.path, c.body), 200, c.method+" "+c.path)
		raw, _ := json.Marshal(body)
		if strings.Contains(string(raw), uid) || strings.Contains(string(raw), gid) {
			t.Errorf("%s %s shows alpha's resources: %s", c.method, c.path, raw)
		}
	}
	// Bulk in beta cannot reach alpha's user.
	bulk := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"DELETE","path":"/Users/` + uid + `"}]}`
	res := expect(t, as(h, b, "", "POST", B+"/Bulk", bulk), 200, "bulk delete in beta")
	raw, _ := json.Marshal(res)
	if !strings.Contains(string(raw), `"status":"404"`) {
		t.Errorf("bulk delete of alpha's user through beta: %s", raw)
	}
	// Alpha still has everything, its group still has its member.
	g := expect(t, as(h, a, "", "GET", A+"/Groups/"+gid, ""), 200, "alpha group after beta's attempts")
	if ms, _ := g["members"].([]any); len(ms) != 1 {
		t.Errorf("alpha group members %v", g["members"])
	}
	expect(t, as(h, a, "", "GET", A+"/Users/"+uid, ""), 200, "alpha user after beta's attempts")
}

// TestRemoveTenantPurgesData: removing a tenant deletes its resources
// (the purge function the lead passes to credential.Store.RemoveTenant).
func TestRemoveTenantPurgesData(t *testing.T) {
	h, creds := tenantHandler(t, &config.Config{Tenancy: web.TenancyPath})
	a, _ := mustToken(t, creds, "alpha")
	expect(t, as(h, a, "", "POST", "/t/alpha/scim/v2/Users", userBody("ann")), 201, "create")
	if err := creds.RemoveTenant(context.Background(), "alpha", func(ctx context.Context, tx bun.Tx) error { return PurgeTenant(ctx, tx, "alpha") }); err != nil {
		t.Fatal(err)
	}
	a2, _ := mustToken(t, creds, "alpha")
	list := expect(t, as(h, a2, "", "GET", "/t/alpha/scim/v2/Users", ""), 200, "list after re-adding alpha")
	if list["totalResults"] != float64(0) {
		t.Fatalf("a removed tenant's users survive: %v", list)
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
