package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzAuthHeaders drives the headers a client controls before any handler
// runs (Authorization in every scheme, the custom header, X-Forwarded-*)
// through Proxies, Tenants and Auth with every scheme enabled. Invariants:
// never a panic; only the valid credentials open the tenant; every refusal
// is a 401 SCIM error with a challenge per scheme, or a 429 with
// Retry-After; no answer repeats what the client presented.
func FuzzAuthHeaders(f *testing.F) {
	for _, s := range [][5]string{
		{"Bearer acme-token-0123456789", "", "", "", ""},
		{basic("scim", "acme-token-0123456789"), "", "203.0.113.9", "https", "scim.example.com"},
		{basic("acme", "acme-token-0123456789"), "", "", "", ""},
		{"", "acme-token-0123456789", "10.0.0.1, 1.2.3.4", "", ""},
		{"Bearer aGVhZA.cGF5bG9hZA.c2ln", "", "", "", ""},
		{"Bearer aGVhZA.cGF5bG9hZA.", "", "::1", "ftp", "evil.test/x"},
		{"Basic !!!", "x", "garbage", "HTTPS", "a..b"},
		{"bearer  other-tenant-token-000 ", "", "", "", ""},
		{"Negotiate abc", "", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], uint8(7))
	}
	h, id := authFixture(AuthOptions{
		Bearer: true, Basic: true, BasicUser: "scim", Header: "X-Api-Key",
		JWT:      AuthenticatorFunc(nil), // replaced by the fixture's
		Failures: NewFailureLimiter(1000000, 60e9),
	})
	h = Proxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")}, h)
	f.Fuzz(func(t *testing.T, authz, apiKey, xff, xfp, xfh string, peer uint8) {
		r := httptest.NewRequest("GET", "/t/acme/scim/v2/Users", nil)
		r.RemoteAddr = netip.AddrFrom4([4]byte{10, 0, 0, peer}).String() + ":5555"
		if peer%2 == 1 {
			r.RemoteAddr = "198.51.100." + string(rune('0'+peer%10)) + ":5555"
		}
		set := func(k, v string) {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		set("Authorization", authz)
		set("X-Api-Key", apiKey)
		set("X-Forwarded-For", xff)
		set("X-Forwarded-Proto", xfp)
		set("X-Forwarded-Host", xfh)
		*id = ""
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case http.StatusNoContent:
			// The fixture's authenticators name a credential only for the
			// exact valid token; Basic must also have carried the user name.
			if *id != "tok1" && *id != "oauth:sub" {
				t.Fatalf("204 with credential id %q (Authorization %q, X-Api-Key %q)", *id, authz, apiKey)
			}
			if scheme, _, _ := strings.Cut(authz, " "); strings.EqualFold(scheme, "Basic") {
				if user, _, ok := r.BasicAuth(); !ok || user != "scim" {
					t.Fatalf("Basic opened the tenant with user %q", user)
				}
			}
		case http.StatusUnauthorized:
			if len(rec.Header().Values("WWW-Authenticate")) != 3 {
				t.Fatalf("401 with challenges %q, want one per scheme", rec.Header().Values("WWW-Authenticate"))
			}
		case http.StatusTooManyRequests:
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code != http.StatusNoContent {
			var e struct {
				Schemas []string
				Status  string
				Detail  string
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || len(e.Schemas) != 1 || e.Status == "" {
				t.Fatalf("not a SCIM error: %s", rec.Body)
			}
			for _, v := range []string{authz, apiKey} {
				if len(v) >= 8 && strings.Contains(rec.Body.String(), v) {
					t.Fatalf("the answer repeats the credential %q: %s", v, rec.Body)
				}
			}
		}
	})
}
