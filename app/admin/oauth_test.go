package admin_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimforge/scimforge/app/admin"
	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/internal/jwkstest"
	"github.com/scimforge/scimforge/scim/web"
)

// TestTenantOAuthThroughSocket: with path tenancy and oauth, a tenant's
// issuer set through the running server's socket opens the tenant to its
// JWTs (and no other tenant), list shows it, remove stops it at once, and
// removing the tenant takes its issuers.
func TestTenantOAuthThroughSocket(t *testing.T) {
	issuer := jwkstest.New(t)
	srv := startWith(t, &config.Config{Tenancy: web.TenancyPath, Auth: config.Auth{
		Schemes: []string{"bearer", "oauth"}, OAuthAudiences: []string{jwkstest.Audience}, OAuthLeeway: time.Minute,
	}})
	run := func(args ...string) string {
		t.Helper()
		out, _, err := cli(t, srv.url, web.TenancyPath, false, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		if _, _, err := cli(t, srv.url, web.TenancyPath, false, args...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want an error with %q", args, err, want)
		}
	}
	run("tenant", "add", "acme")
	run("tenant", "add", "other")
	const iss = "https://sts.windows.net/acme-directory/"
	out := run("tenant", "oauth", "set", "--tenant", "acme", "--issuer", iss, "--jwks-url", issuer.JWKSURL())
	if !strings.Contains(out, iss) || !strings.Contains(out, "SCIMFORGE_OAUTH_AUDIENCE") {
		t.Fatalf("set: %q", out)
	}
	tok := issuer.Token(t, func(c jwt.MapClaims) { c["iss"] = iss })
	deadline := time.Now().Add(10 * time.Second) // the keys load on first use
	for get(srv.h, tok, "/t/acme/scim/v2/Users") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("acme's JWT never accepted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := get(srv.h, tok, "/t/other/scim/v2/Users"); code != 401 {
		t.Fatalf("acme's JWT at another tenant: %d", code)
	}
	// Replaced with an audience of its own: the global one no longer opens it.
	run("tenant", "oauth", "set", "--tenant", "acme", "--issuer", iss, "--jwks-url", issuer.JWKSURL(), "--audience", "api://acme, api://acme2")
	if code := get(srv.h, tok, "/t/acme/scim/v2/Users"); code != 401 {
		t.Fatalf("a JWT for the global audience after acme set its own: %d", code)
	}
	tok = issuer.Token(t, func(c jwt.MapClaims) { c["iss"], c["aud"] = iss, "api://acme2" })
	if code := get(srv.h, tok, "/t/acme/scim/v2/Users"); code != 200 {
		t.Fatalf("a JWT for acme's audience: %d", code)
	}
	list := run("tenant", "oauth", "list", "--tenant", "acme")
	if !strings.Contains(list, "ISSUER") || !strings.Contains(list, iss) || !strings.Contains(list, issuer.JWKSURL()) || !strings.Contains(list, "api://acme,api://acme2") {
		t.Fatalf("list: %q", list)
	}
	if all := run("tenant", "oauth", "list"); !strings.Contains(all, "acme") || strings.Count(all, "\n") != 2 {
		t.Fatalf("list of every tenant: %q", all)
	}
	refused("https://", "tenant", "oauth", "set", "--tenant", "acme", "--issuer", iss, "--jwks-url", "http://keys.example.com/keys")
	refused("no such tenant", "tenant", "oauth", "set", "--tenant", "nobody", "--issuer", iss, "--jwks-url", issuer.JWKSURL())
	refused("no such OAuth issuer", "tenant", "oauth", "remove", "--tenant", "other", "--issuer", iss)
	run("tenant", "oauth", "remove", "--tenant", "acme", "--issuer", iss)
	if code := get(srv.h, tok, "/t/acme/scim/v2/Users"); code != 401 {
		t.Fatalf("a JWT after its issuer's removal: %d", code)
	}
	run("tenant", "oauth", "set", "--tenant", "acme", "--issuer", iss, "--jwks-url", issuer.JWKSURL())
	run("tenant", "remove", "acme")
	if all := run("tenant", "oauth", "list"); strings.Contains(all, "acme") {
		t.Fatalf("the removed tenant's issuers are listed: %q", all)
	}
}

// TestTenantOAuthDirect: without a server the commands open the database
// themselves; with tenancy none they are refused; mistakes are usage
// errors.
func TestTenantOAuthDirect(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "o.db")
	if _, _, err := cli(t, url, web.TenancyHost, true, "tenant", "add", "acme"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli(t, url, web.TenancyHost, true, "tenant", "oauth", "set", "--tenant", "acme", "--issuer", "https://idp.example/", "--jwks-url", "https://idp.example/keys"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := cli(t, url, web.TenancyHost, true, "tenant", "oauth", "list", "--tenant", "acme"); err != nil || !strings.Contains(out, "https://idp.example/keys") {
		t.Fatalf("list: %q %v", out, err)
	}
	if _, _, err := cli(t, url, web.TenancyNone, true, "tenant", "oauth", "list"); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_OAUTH_ISSUER") {
		t.Fatalf("tenancy none: %v", err)
	}
	for _, args := range [][]string{
		{"tenant", "oauth"},
		{"tenant", "oauth", "nope"},
		{"tenant", "oauth", "set", "--tenant", "acme", "--issuer", "https://idp.example/"},
		{"tenant", "oauth", "set", "--issuer", "https://idp.example/", "--jwks-url", "https://idp.example/keys"},
		{"tenant", "oauth", "remove", "--tenant", "acme"},
		{"tenant", "oauth", "list", "extra"},
	} {
		_, _, err := cli(t, url, web.TenancyHost, true, args...)
		var ue *admin.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
