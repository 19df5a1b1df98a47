package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// authFixture: tenant acme has the opaque token "acme-token-0123456789"
// and accepts the JWT "h.p.s"; everything else is refused.
func authFixture(o AuthOptions) (http.Handler, *string) {
	o.Tokens = AuthenticatorFunc(func(ctx context.Context, tn, tok string) (string, bool, error) {
		if tn == "acme" && tok == "acme-token-0123456789" {
			return "tok1", true, nil
		}
		if tok == "other-tenant-token-000" {
			return "", false, fmt.Errorf("%w: token of tenant other", ErrRefused)
		}
		return "", false, nil
	})
	if o.JWT != nil {
		o.JWT = AuthenticatorFunc(func(ctx context.Context, tn, tok string) (string, bool, error) {
			if tok == "aGVhZA.cGF5bG9hZA.c2ln" {
				return "oauth:sub", true, nil
			}
			return "", false, fmt.Errorf("%w: bad signature", ErrRefused)
		})
	}
	var id string
	return Tenants(TenancyPath, Auth(o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = TokenID(r.Context())
		w.WriteHeader(204)
	}))), &id
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type authCase struct {
	name, header, value string
	want                int
	id                  string
}

func runAuth(t *testing.T, h http.Handler, id *string, cases []authCase) (bodies map[string]bool, challenges [][]string) {
	t.Helper()
	bodies = map[string]bool{}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/t/acme/scim/v2/Users", nil)
		if c.header != "" {
			r.Header.Set(c.header, c.value)
		}
		*id = ""
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, rec.Code, c.want, rec.Body)
			continue
		}
		if c.want == 204 && *id != c.id {
			t.Errorf("%s: token id %q, want %q", c.name, *id, c.id)
		}
		if c.want == 401 {
			bodies[rec.Body.String()] = true
			challenges = append(challenges, rec.Header().Values("WWW-Authenticate"))
		}
	}
	return bodies, challenges
}

// TestAuthSchemes: each enabled scheme opens the tenant with a token;
// disabled ones are ignored; every failure gets one body and the same
// challenges.
func TestAuthSchemes(t *testing.T) {
	h, id := authFixture(AuthOptions{Bearer: true, Basic: true, BasicUser: "scim-{tenant}", Header: "X-Api-Key", JWT: AuthenticatorFunc(nil)})
	bodies, challenges := runAuth(t, h, id, []authCase{
		{"bearer", "Authorization", "Bearer acme-token-0123456789", 204, "tok1"},
		{"bearer, any case", "Authorization", "bEaReR acme-token-0123456789", 204, "tok1"},
		{"basic", "Authorization", basic("scim-acme", "acme-token-0123456789"), 204, "tok1"},
		{"header", "X-Api-Key", "acme-token-0123456789", 204, "tok1"},
		{"jwt as bearer", "Authorization", "Bearer aGVhZA.cGF5bG9hZA.c2ln", 204, "oauth:sub"},
		{"jwt in the header", "X-Api-Key", "aGVhZA.cGF5bG9hZA.c2ln", 204, "oauth:sub"},
		{"nothing", "", "", 401, ""},
		{"unknown bearer", "Authorization", "Bearer nope-0123456789", 401, ""},
		{"another tenant's", "Authorization", "Bearer other-tenant-token-000", 401, ""},
		{"bad jwt", "Authorization", "Bearer aGVhZA.cGF5bG9hZA.YmFk", 401, ""},
		{"basic, wrong user", "Authorization", basic("scim", "acme-token-0123456789"), 401, ""},
		{"basic, other tenant's user", "Authorization", basic("scim-other", "acme-token-0123456789"), 401, ""},
		{"basic, wrong password", "Authorization", basic("scim-acme", "nope"), 401, ""},
		{"basic, malformed", "Authorization", "Basic !!!", 401, ""},
		{"basic, empty password", "Authorization", basic("scim-acme", ""), 401, ""},
		{"header, wrong", "X-Api-Key", "nope", 401, ""},
		{"other scheme", "Authorization", "Digest username=x", 401, ""},
	})
	if len(bodies) != 1 {
		t.Errorf("401 bodies differ: %v", bodies)
	}
	for b := range bodies {
		for _, leak := range []string{"tenant", "signature", "revoked", "user name", "expired"} {
			if strings.Contains(b, leak) {
				t.Errorf("401 body says %q: %s", leak, b)
			}
		}
		if !strings.Contains(b, "X-Api-Key") || !strings.Contains(b, "Basic") {
			t.Errorf("401 detail does not name the configured schemes: %s", b)
		}
	}
	want := []string{`Bearer realm="scim"`, `Basic realm="scim", charset="UTF-8"`, `ApiKey realm="scim", header="X-Api-Key"`}
	for _, c := range challenges {
		if !slices.Equal(c, want) {
			t.Errorf("WWW-Authenticate %q, want %q", c, want)
		}
	}
}

// TestAuthDisabledSchemes: with bearer only, Basic and the header are not
// looked at; with oauth only, an opaque bearer token is refused and Basic
// gets no challenge.
func TestAuthDisabledSchemes(t *testing.T) {
	h, id := authFixture(AuthOptions{Bearer: true})
	_, ch := runAuth(t, h, id, []authCase{
		{"basic off", "Authorization", basic("scim", "acme-token-0123456789"), 401, ""},
		{"header off", "X-Api-Key", "acme-token-0123456789", 401, ""},
		{"jwt off: goes to the token store", "Authorization", "Bearer aGVhZA.cGF5bG9hZA.c2ln", 401, ""},
	})
	for _, c := range ch {
		if !slices.Equal(c, []string{`Bearer realm="scim"`}) {
			t.Errorf("bearer only: challenges %q", c)
		}
	}
	h, id = authFixture(AuthOptions{JWT: AuthenticatorFunc(nil)})
	runAuth(t, h, id, []authCase{
		{"jwt", "Authorization", "Bearer aGVhZA.cGF5bG9hZA.c2ln", 204, "oauth:sub"},
		{"opaque bearer with oauth only", "Authorization", "Bearer acme-token-0123456789", 401, ""},
	})
}

func TestAuthPublic(t *testing.T) {
	h, id := authFixture(AuthOptions{Bearer: true, Public: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/Schemas") }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/t/acme/scim/v2/Schemas", nil))
	if rec.Code != 204 || *id != "" {
		t.Fatalf("public path: %d %q", rec.Code, *id)
	}
}

// TestFailureLimiter: past max failures an address gets 429 with
// Retry-After, without its credential being checked; another address is
// unaffected; a credential that succeeded before still opens the tenant
// from the blocked address; the bucket refills.
func TestFailureLimiter(t *testing.T) {
	f := NewFailureLimiter(5, time.Minute)
	now := time.Now()
	f.now = func() time.Time { return now }
	checked := 0
	o := AuthOptions{Bearer: true, Failures: f, Log: slog.New(slog.DiscardHandler)}
	o.Tokens = AuthenticatorFunc(func(ctx context.Context, tn, tok string) (string, bool, error) {
		checked++
		return "tok1", tok == "good-token-0123456789", nil
	})
	h := Tenants(TenancyNone, Auth(o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })))
	send := func(addr, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	const attacker, victim = "192.0.2.7:40000", "198.51.100.9:50000"
	if rec := send("192.0.2.7:39999", "good-token-0123456789"); rec.Code != 204 { // the legitimate client on the attacker's NAT, earlier
		t.Fatal(rec.Code)
	}
	for i := 0; i < 5; i++ {
		if rec := send(attacker, fmt.Sprintf("guess-%d", i)); rec.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, rec.Code)
		}
	}
	before := checked
	rec := send(attacker, "guess-x")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "12" || !strings.Contains(rec.Body.String(), "retry after 12 s") {
		t.Fatalf("6th failure: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec := send(attacker, "good-token-0123456789"); rec.Code != 204 {
		t.Fatalf("a credential that succeeded before, from the blocked address: %d", rec.Code)
	}
	if checked != before+1 {
		t.Errorf("the blocked guess was checked (%d checks)", checked-before)
	}
	if rec := send(attacker, "never-seen-good-token"); rec.Code != 429 {
		t.Fatalf("blocked address, unknown token: %d", rec.Code)
	}
	// Another address (and an IPv6 client in another /64) is unaffected.
	for _, addr := range []string{victim, "[2001:db8:1::1]:443"} {
		if rec := send(addr, "guess"); rec.Code != 401 {
			t.Errorf("%s: %d", addr, rec.Code)
		}
		if rec := send(addr, "good-token-0123456789"); rec.Code != 204 {
			t.Errorf("%s: %d", addr, rec.Code)
		}
	}
	// One /64 is one client.
	for i := 0; i < 5; i++ {
		send(fmt.Sprintf("[2001:db8:2::%x]:443", i+1), "guess")
	}
	if rec := send("[2001:db8:2::ffff]:443", "guess"); rec.Code != 429 {
		t.Errorf("same /64: %d", rec.Code)
	}
	// 12 s later one failure is allowed again, then blocked again.
	now = now.Add(12 * time.Second)
	if rec := send(attacker, "guess-y"); rec.Code != 401 {
		t.Fatalf("after the refill: %d", rec.Code)
	}
	if rec := send(attacker, "guess-z"); rec.Code != 429 {
		t.Fatalf("after one refilled failure: %d", rec.Code)
	}
}
func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": true,
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.":      true,
		"sfg_default_AbCdEf-_0123456789":            false,
		"a.b":                                       false,
		"a.b.c.d":                                   false,
		".b.c":                                      false,
		"a+b.c.d":                                   false,
		"a.b/c.d":                                   false,
	} {
		if got := LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v", s, got)
		}
	}
}

// TestAuthLogsReasonNotSecret: the log says why a credential failed and
// never contains the credential.
func TestAuthLogsReasonNotSecret(t *testing.T) {
	var buf strings.Builder
	h, id := authFixture(AuthOptions{Bearer: true, Basic: true, BasicUser: "scim", JWT: AuthenticatorFunc(nil), Log: slog.New(slog.NewTextHandler(&buf, nil))})
	runAuth(t, h, id, []authCase{
		{"another tenant's", "Authorization", "Bearer other-tenant-token-000", 401, ""},
		{"bad jwt", "Authorization", "Bearer aGVhZA.cGF5bG9hZA.YmFk", 401, ""},
		{"basic, wrong user", "Authorization", basic("mallory", "secret-password-xyz"), 401, ""},
	})
	log := buf.String()
	for _, want := range []string{"token of tenant other", "bad signature", "wrong Basic user name", "client=192.0.2.1", "tenant=acme"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range []string{"other-tenant-token-000", "YmFk", "secret-password-xyz", base64.StdEncoding.EncodeToString([]byte("mallory:secret-password-xyz"))} {
		if strings.Contains(log, secret) {
			t.Errorf("log shows %q:\n%s", secret, log)
		}
	}
}

// TestFailureLimiterBehindProxy: behind a trusted proxy the failures are
// counted per client (X-Forwarded-For), not for the proxy's address; an
// untrusted peer's X-Forwarded-For is ignored.
func TestFailureLimiterBehindProxy(t *testing.T) {
	o := AuthOptions{Bearer: true, Failures: NewFailureLimiter(2, time.Minute)}
	o.Tokens = AuthenticatorFunc(func(ctx context.Context, tn, tok string) (string, bool, error) {
		return "t", tok == "good-token-0123456789", nil
	})
	h := Proxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Tenants(TenancyNone, Auth(o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))))
	send := func(peer, xff, token string) int {
		r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	for i := 0; i < 3; i++ {
		send("10.0.0.1:1234", "203.0.113.66", "guess")
	}
	if code := send("10.0.0.1:1234", "203.0.113.66", "guess"); code != 429 {
		t.Errorf("the attacker behind the proxy: %d", code)
	}
	if code := send("10.0.0.1:1234", "198.51.100.5", "good-token-0123456789"); code != 204 {
		t.Errorf("another client behind the same proxy: %d", code)
	}
	// An untrusted peer cannot pick a fresh address per request.
	for i := 0; i < 3; i++ {
		send("192.0.2.9:1", fmt.Sprintf("203.0.113.%d", i), "guess")
	}
	if code := send("192.0.2.9:1", "203.0.113.99", "guess"); code != 429 {
		t.Errorf("X-Forwarded-For of an untrusted peer was believed: %d", code)
	}
}
