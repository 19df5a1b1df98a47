package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/internal/jwkstest"
)

const staticToken = "static-token-0123456789abcdef"

// httpClient sends requests to a server over loopback from source address
// from ("" : any).
type httpClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newHTTPClient(t *testing.T, base, from string) *httpClient {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &httpClient{t: t, base: base, c: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}}
}

func (c *httpClient) do(method, path string, header http.Header, body string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// allSchemes enables every scheme, oauth against issuer.
func allSchemes(issuer *jwkstest.Server, order ...string) config.Auth {
	return config.Auth{
		Schemes: order, BasicUser: "okta", Header: "X-Api-Key",
		OAuthIssuer: jwkstest.Issuer, OAuthAudiences: []string{jwkstest.Audience}, OAuthJWKSURL: issuer.JWKSURL(), OAuthLeeway: time.Minute,
	}
}

// TestAuthSchemesOverHTTP: every configured scheme opens the API over
// HTTP, on SQLite and PostgreSQL; every refusal is the same 401 with a
// challenge per scheme; /ServiceProviderConfig and the served OpenAPI
// document list exactly the configured schemes.
func TestAuthSchemesOverHTTP(t *testing.T) {
	for name, db := range engines(t) {
		t.Run(name, func(t *testing.T) { testAuthSchemes(t, db()) })
	}
}

func testAuthSchemes(t *testing.T, dbURL string) {
	issuer := jwkstest.New(t)
	cfg := &config.Config{Token: staticToken, Auth: allSchemes(issuer, "oauth", "bearer", "basic", "header")}
	h, creds := tenantHandlerOn(t, cfg, dbURL)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newHTTPClient(t, srv.URL, "")
	stored, _ := mustToken(t, creds, "default")
	jwtTok := issuer.Token(t, nil)

	ok := []struct {
		name   string
		header http.Header
	}{
		{"oauth JWT", hdr("Authorization", "Bearer "+jwtTok)},
		{"stored bearer", hdr("Authorization", "Bearer "+stored)},
		{"static bearer", hdr("Authorization", "Bearer "+staticToken)},
		{"basic, stored token", hdr("Authorization", basicAuth("okta", stored))},
		{"basic, static token", hdr("Authorization", basicAuth("okta", staticToken))},
		{"header, stored token", hdr("X-Api-Key", stored)},
		{"header, JWT", hdr("X-Api-Key", jwtTok)},
	}
	for i, o := range ok {
		resp, body := c.do("POST", "/scim/v2/Users", o.header, userBody("user"+string(rune('a'+i))+"@example.com"))
		if resp.StatusCode != 201 {
			t.Errorf("%s: %d %s", o.name, resp.StatusCode, body)
		}
	}

	bad := []struct {
		name   string
		header http.Header
	}{
		{"none", nil},
		{"unknown bearer", hdr("Authorization", "Bearer sfg_default_"+strings.Repeat("A", 43))},
		{"expired JWT", hdr("Authorization", "Bearer "+issuer.Token(t, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))},
		{"JWT for another audience", hdr("Authorization", "Bearer "+issuer.Token(t, func(c jwt.MapClaims) { c["aud"] = "api://other" }))},
		{"JWT of another issuer", hdr("Authorization", "Bearer "+issuer.Token(t, func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/other/" }))},
		{"basic, wrong user", hdr("Authorization", basicAuth("scim", stored))},
		{"basic, wrong password", hdr("Authorization", basicAuth("okta", "nope"))},
		{"header, wrong", hdr("X-Api-Key", "nope")},
	}
	var body401 string
	wantChallenges := []string{`Bearer realm="scim"`, `Basic realm="scim", charset="UTF-8"`, `ApiKey realm="scim", header="X-Api-Key"`}
	for _, b := range bad {
		resp, body := c.do("GET", "/scim/v2/Users", b.header, "")
		if resp.StatusCode != 401 {
			t.Errorf("%s: %d %s", b.name, resp.StatusCode, body)
			continue
		}
		if got := resp.Header.Values("WWW-Authenticate"); !slices.Equal(got, wantChallenges) {
			t.Errorf("%s: WWW-Authenticate %q", b.name, got)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/scim+json") || !strings.Contains(body, `"status":"401"`) {
			t.Errorf("%s: not a SCIM error: %s", b.name, body)
		}
		if body401 == "" {
			body401 = body
		} else if body != body401 {
			t.Errorf("%s: 401 body %s differs from %s", b.name, body, body401)
		}
	}

	// Discovery needs credentials by default.
	if resp, _ := c.do("GET", "/scim/v2/ServiceProviderConfig", nil, ""); resp.StatusCode != 401 {
		t.Errorf("discovery without credentials: %d", resp.StatusCode)
	}
	resp, body := c.do("GET", "/scim/v2/ServiceProviderConfig", hdr("Authorization", "Bearer "+stored), "")
	if resp.StatusCode != 200 {
		t.Fatalf("ServiceProviderConfig: %d %s", resp.StatusCode, body)
	}
	var spc struct {
		AuthenticationSchemes []struct {
			Type, Name, Description, SpecURI, DocumentationURI string
			Primary                                            bool
		}
	}
	if err := json.Unmarshal([]byte(body), &spc); err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, s := range spc.AuthenticationSchemes {
		types = append(types, s.Type)
		if s.Primary != (i == 0) || s.Name == "" || s.Description == "" || s.DocumentationURI == "" {
			t.Errorf("scheme %d: %+v", i, s)
		}
		if strings.Contains(s.Description, staticToken) || strings.Contains(s.Description, stored) || strings.Contains(s.Description, "00000000-0000-4000-8000-000000000001") {
			t.Errorf("scheme %d shows a secret or the issuer's directory: %+v", i, s)
		}
	}
	if !slices.Equal(types, []string{"oauth2", "oauthbearertoken", "httpbasic", "apikey"}) {
		t.Errorf("authenticationSchemes types %v", types)
	}

	// The served OpenAPI document declares the same schemes.
	resp, body = c.do("GET", "/scim/v2/openapi.json", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served document invalid: %v", err)
	}
	var names []string
	for _, req := range doc.Security {
		for n := range req {
			names = append(names, n)
		}
	}
	if !slices.Equal(names, []string{"oauthJWT", "bearerAuth", "basicAuth", "headerAuth"}) {
		t.Errorf("security %v", names)
	}
	ss := doc.Components.SecuritySchemes
	if len(ss) != 4 || ss["basicAuth"].Value.Scheme != "basic" || ss["headerAuth"].Value.Name != "X-Api-Key" || ss["headerAuth"].Value.In != "header" ||
		ss["oauthJWT"].Value.BearerFormat != "JWT" || ss["bearerAuth"].Value.Scheme != "bearer" {
		t.Errorf("securitySchemes %v", ss)
	}
}

// TestAuthDefaultsUnchanged: with no auth settings the server takes
// bearer tokens only, as before: Basic and headers are not looked at.
func TestAuthDefaultsUnchanged(t *testing.T) {
	h, creds := tenantHandler(t, &config.Config{Token: staticToken})
	stored, _ := mustToken(t, creds, "default")
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newHTTPClient(t, srv.URL, "")
	if resp, body := c.do("GET", "/scim/v2/Users", hdr("Authorization", "Bearer "+stored), ""); resp.StatusCode != 200 {
		t.Fatalf("bearer: %d %s", resp.StatusCode, body)
	}
	for _, hd := range []http.Header{hdr("Authorization", basicAuth("scim", stored)), hdr("X-Api-Key", stored)} {
		resp, _ := c.do("GET", "/scim/v2/Users", hd, "")
		if resp.StatusCode != 401 || !slices.Equal(resp.Header.Values("WWW-Authenticate"), []string{`Bearer realm="scim"`}) {
			t.Errorf("%v: %d %q", hd, resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
	}
	_, body := c.do("GET", "/scim/v2/ServiceProviderConfig", hdr("Authorization", "Bearer "+stored), "")
	if !strings.Contains(body, `"authenticationSchemes":[{`) || strings.Count(body, `"type":"`) != 1 || !strings.Contains(body, `"oauthbearertoken"`) {
		t.Errorf("default authenticationSchemes: %s", body)
	}
}

// TestPublicDiscovery: with the setting, discovery answers without
// credentials (any case, Microsoft's alias), the rest still needs them,
// and the served OpenAPI document marks those operations open.
func TestPublicDiscovery(t *testing.T) {
	h, _ := tenantHandler(t, &config.Config{Token: staticToken, Auth: config.Auth{PublicDiscovery: true}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newHTTPClient(t, srv.URL, "")
	for _, p := range []string{"/ServiceProviderConfig", "/schemas", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/ResourceTypes/User", "/serviceConfiguration"} {
		if resp, body := c.do("GET", "/scim/v2"+p, nil, ""); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	for _, p := range []struct{ method, path string }{{"GET", "/Users"}, {"POST", "/Schemas"}, {"GET", "/Groups"}, {"POST", "/.search"}} {
		if resp, _ := c.do(p.method, "/scim/v2"+p.path, nil, ""); resp.StatusCode != 401 {
			t.Errorf("%s %s: %d", p.method, p.path, resp.StatusCode)
		}
	}
	_, body := c.do("GET", "/scim/v2/openapi.json", nil, "")
	doc, err := openapi3.NewLoader().LoadFromData([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if op := doc.Paths.Find("/ServiceProviderConfig").Get; op.Security == nil || len(*op.Security) != 0 {
		t.Errorf("ServiceProviderConfig security %v, want []", op.Security)
	}
	if op := doc.Paths.Find("/Users").Get; op.Security != nil {
		t.Errorf("Users security %v, want the document's", op.Security)
	}
}

// TestBasicTenantUser: with path tenancy and SCIMFORGE_BASIC_USER={tenant},
// the user name is the tenant's name and the password one of its tokens.
func TestBasicTenantUser(t *testing.T) {
	h, creds := tenantHandler(t, &config.Config{Tenancy: "path", Auth: config.Auth{Schemes: []string{"basic"}, BasicUser: "{tenant}"}})
	a, _ := mustToken(t, creds, "alpha")
	mustToken(t, creds, "beta")
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newHTTPClient(t, srv.URL, "")
	for _, x := range []struct {
		path, user, pass string
		want             int
	}{
		{"/t/alpha/scim/v2/Users", "alpha", a, 200},
		{"/t/alpha/scim/v2/Users", "beta", a, 401},
		{"/t/beta/scim/v2/Users", "beta", a, 401},
		{"/t/alpha/scim/v2/Users", "alpha", "", 401},
	} {
		resp, body := c.do("GET", x.path, hdr("Authorization", basicAuth(x.user, x.pass)), "")
		if resp.StatusCode != x.want {
			t.Errorf("%s as %s: %d %s", x.path, x.user, resp.StatusCode, body)
		}
		if x.want == 401 && resp.Header.Get("WWW-Authenticate") != `Basic realm="scim", charset="UTF-8"` {
			t.Errorf("challenge %q", resp.Header.Values("WWW-Authenticate"))
		}
	}
}

// TestAuthFailuresSlowed: over HTTP, one address past its failures gets
// 429 with Retry-After while a client on another loopback address goes on.
func TestAuthFailuresSlowed(t *testing.T) {
	h, creds := tenantHandler(t, &config.Config{Auth: config.Auth{MaxFailures: 5, FailureWindow: time.Minute}})
	good, _ := mustToken(t, creds, "default")
	srv := httptest.NewServer(h)
	defer srv.Close()
	attacker, client := newHTTPClient(t, srv.URL, "127.0.0.1"), newHTTPClient(t, srv.URL, "127.0.0.2")
	codes := map[int]int{}
	for i := 0; i < 30; i++ {
		resp, _ := attacker.do("GET", "/scim/v2/Users", hdr("Authorization", "Bearer guess-"+string(rune('a'+i))), "")
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[401] != 5 || codes[429] != 25 {
		t.Errorf("attacker's answers %v, want 5×401 then 429", codes)
	}
	if resp, body := client.do("GET", "/scim/v2/Users", hdr("Authorization", "Bearer "+good), ""); resp.StatusCode != 200 {
		t.Errorf("the client on another address: %d %s", resp.StatusCode, body)
	}
	if resp, _ := client.do("GET", "/scim/v2/Users", hdr("Authorization", "Bearer wrong"), ""); resp.StatusCode != 401 {
		t.Errorf("the other address's first failure: %d", resp.StatusCode)
	}
}

// TestReadyzWaitsForOAuthKeys: a server whose JWKS has never answered is
// not ready (and says why only in general terms); it becomes ready, and
// takes JWTs, once the JWKS answers.
func TestReadyzWaitsForOAuthKeys(t *testing.T) {
	issuer := jwkstest.New(t)
	issuer.SetDown(true)
	cfg := &config.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "r.db"), Auth: allSchemes(issuer, "oauth")}
	s, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.HTTP.Handler)
	defer srv.Close()
	c := newHTTPClient(t, srv.URL, "")
	resp, body := c.do("GET", "/readyz", nil, "")
	if resp.StatusCode != 503 || !strings.Contains(body, "OAuth signing keys") || strings.Contains(body, issuer.URL) {
		t.Fatalf("readyz without keys: %d %s", resp.StatusCode, body)
	}
	if resp, _ := c.do("GET", "/scim/v2/Users", hdr("Authorization", "Bearer "+issuer.Token(t, nil)), ""); resp.StatusCode != 401 {
		t.Fatalf("a JWT without keys: %d", resp.StatusCode)
	}
	issuer.SetDown(false)
	deadline := time.Now().Add(10 * time.Second) // the retry backoff grows from 1 s
	for {
		resp, body = c.do("GET", "/readyz", nil, "")
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp, body := c.do("GET", "/scim/v2/Users", hdr("Authorization", "Bearer "+issuer.Token(t, nil)), ""); resp.StatusCode != 200 {
		t.Fatalf("a JWT once ready: %d %s", resp.StatusCode, body)
	}
}
