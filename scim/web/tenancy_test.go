package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/exchange"
	"github.com/scimforge/scimforge/scim/tenant"
)

// TestTenants routes each mode's requests: the tenant reaches the context,
// the path loses the path-tenancy prefix, and meta.location's base keeps it.
func TestTenants(t *testing.T) {
	type seen struct{ tenant, path, base string }
	var got seen
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := tenant.From(r.Context())
		got = seen{name, r.URL.Path, exchange.BaseURL(r.Context())}
		w.WriteHeader(204)
	})
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		mode       Tenancy
		configured string
		host, path string
		status     int
		want       seen
	}{
		{TenancyNone, "", "x.example.com", "/scim/v2/Users", 204, seen{tenant.Default, "/scim/v2/Users", "http://x.example.com/scim/v2"}},
		{TenancyNone, "https://pub/scim/v2", "x", "/scim/v2/Users", 204, seen{tenant.Default, "/scim/v2/Users", "https://pub/scim/v2"}},
		{TenancyPath, "", "x:8080", "/t/acme/scim/v2/Users/1", 204, seen{"acme", "/scim/v2/Users/1", "http://x:8080/t/acme/scim/v2"}},
		{TenancyPath, "https://pub/t/{tenant}/scim/v2", "x", "/t/acme/scim/v2/Users", 204, seen{"acme", "/scim/v2/Users", "https://pub/t/acme/scim/v2"}},
		{TenancyPath, "", "x", "/scim/v2/Users", 404, seen{}},
		{TenancyPath, "", "x", "/t/Acme/scim/v2/Users", 404, seen{}},
		{TenancyPath, "", "x", "/t/a_b/scim/v2/Users", 404, seen{}},
		{TenancyPath, "", "x", "/t/", 404, seen{}},
		{TenancyHost, "", "Acme.scim.example.com:8443", "/scim/v2/Users", 204, seen{"acme", "/scim/v2/Users", "http://Acme.scim.example.com:8443/scim/v2"}},
		{TenancyHost, "https://{tenant}.pub/scim/v2", "beta.x", "/scim/v2/Users", 204, seen{"beta", "/scim/v2/Users", "https://beta.pub/scim/v2"}},
		{TenancyHost, "", "a_b.example.com", "/scim/v2/Users", 404, seen{}},
		{TenancyHost, "", "[::1]:80", "/scim/v2/Users", 404, seen{}},
	} {
		got = seen{}
		h := Tenants(c.mode, Edge(c.configured, "/scim/v2", log, inner))
		r := httptest.NewRequest("GET", c.path, nil)
		r.Host = c.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != c.status || got != c.want {
			t.Errorf("%s %s%s: %d %+v, want %d %+v (%s)", c.mode, c.host, c.path, rec.Code, got, c.status, c.want, rec.Body)
		}
		if c.status == 404 && !strings.Contains(rec.Body.String(), `"status":"404"`) {
			t.Errorf("%s %s: 404 is not a SCIM error: %s", c.mode, c.path, rec.Body)
		}
	}
}

func TestParseTenancy(t *testing.T) {
	for in, want := range map[string]Tenancy{"": TenancyNone, "none": TenancyNone, "PATH": TenancyPath, " host ": TenancyHost} {
		if got, err := ParseTenancy(in); err != nil || got != want {
			t.Errorf("ParseTenancy(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseTenancy("subdomain"); err == nil {
		t.Error("ParseTenancy accepted subdomain")
	}
}

// TestAccessLogTenant: the access log names the tenant and the token id,
// never the token.
func TestAccessLogTenant(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	h := AccessLog(log, Tenants(TenancyPath, BearerAuth(AuthenticatorFunc(func(ctx context.Context, tn, tok string) (string, bool, error) {
		return "tok42", true, nil
	}), log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))))
	r := httptest.NewRequest("GET", "/t/acme/scim/v2/Users", nil)
	r.Header.Set("Authorization", "Bearer sfg_acme_supersecret")
	h.ServeHTTP(httptest.NewRecorder(), r)
	line := buf.String()
	if !strings.Contains(line, "tenant=acme") || !strings.Contains(line, "token_id=tok42") || strings.Contains(line, "supersecret") {
		t.Fatalf("access log line: %s", line)
	}
}
