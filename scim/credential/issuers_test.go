package credential

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIssuers: set (insert, then replace), list per tenant and for all,
// validation of URLs, removal, and the tenant's removal taking its issuers.
func TestIssuers(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, n := range []string{"acme", "beta"} {
		if err := s.AddTenant(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	const iss = "https://sts.windows.net/acme/"
	if _, err := s.SetIssuer(ctx, Issuer{Tenant: "acme", Issuer: iss, JWKSURL: "https://login.example.com/acme/keys"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SetIssuer(ctx, Issuer{Tenant: "acme", Issuer: iss, JWKSURL: "http://127.0.0.1:8080/keys", Audiences: []string{" api://a, api://b", "api://a"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.JWKSURL != "http://127.0.0.1:8080/keys" || !slices.Equal(got.Audiences, []string{"api://a", "api://b"}) {
		t.Fatalf("replaced issuer: %+v", got)
	}
	if _, err := s.SetIssuer(ctx, Issuer{Tenant: "beta", Issuer: "https://issuer.beta.example/", JWKSURL: "https://issuer.beta.example/keys"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Issuers(ctx, "acme")
	if err != nil || len(list) != 1 || list[0].Issuer != iss || !slices.Equal(list[0].Audiences, []string{"api://a", "api://b"}) || list[0].Created.IsZero() {
		t.Fatalf("acme's issuers: %+v %v", list, err)
	}
	if all, err := s.Issuers(ctx, ""); err != nil || len(all) != 2 || all[0].Tenant != "acme" || all[1].Tenant != "beta" || all[1].Audiences != nil {
		t.Fatalf("all issuers: %+v %v", all, err)
	}
	if _, err := s.Issuers(ctx, "nobody"); !errors.Is(err, ErrNoTenant) {
		t.Fatalf("issuers of an unknown tenant: %v", err)
	}
	for _, bad := range []Issuer{
		{Tenant: "acme", Issuer: "http://sts.windows.net/x/", JWKSURL: "https://k.example/keys"},
		{Tenant: "acme", Issuer: "sts", JWKSURL: "https://k.example/keys"},
		{Tenant: "acme", Issuer: "https://sts.example/", JWKSURL: "http://k.example/keys"},
		{Tenant: "acme", Issuer: "https://sts.example/", JWKSURL: ""},
		{Tenant: "acme", Issuer: "https://sts.example/", JWKSURL: "https://user:pw@k.example/keys"},
		{Tenant: "Bad Name", Issuer: "https://sts.example/", JWKSURL: "https://k.example/keys"},
	} {
		if _, err := s.SetIssuer(ctx, bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if _, err := s.SetIssuer(ctx, Issuer{Tenant: "nobody", Issuer: "https://sts.example/", JWKSURL: "https://k.example/keys"}); !errors.Is(err, ErrNoTenant) {
		t.Errorf("issuer of an unknown tenant: %v", err)
	}
	if err := s.RemoveIssuer(ctx, "beta", iss); !errors.Is(err, ErrNoIssuer) {
		t.Fatalf("removing another tenant's issuer: %v", err)
	}
	if err := s.RemoveIssuer(ctx, "acme", iss); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Issuers(ctx, "acme"); len(list) != 0 {
		t.Fatalf("after removal: %+v", list)
	}
	if err := s.RemoveTenant(ctx, "beta", nil); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Issuers(ctx, ""); len(all) != 0 {
		t.Fatalf("the removed tenant's issuers stay: %+v", all)
	}
}

// TestIssuersLimit: a tenant trusts at most maxIssuersPerTenant issuers;
// replacing one of them is still allowed.
func TestIssuersLimit(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.AddTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	for i := range maxIssuersPerTenant + 1 {
		_, err := s.SetIssuer(ctx, Issuer{Tenant: "acme", Issuer: "https://sts.example/" + strings.Repeat("x", i+1), JWKSURL: "https://k.example/keys"})
		if (err != nil) != (i == maxIssuersPerTenant) {
			t.Fatalf("issuer %d: %v", i, err)
		}
	}
	if _, err := s.SetIssuer(ctx, Issuer{Tenant: "acme", Issuer: "https://sts.example/x", JWKSURL: "https://k2.example/keys"}); err != nil {
		t.Fatalf("replacing at the limit: %v", err)
	}
}

// TestTenantIssuersCache: reads are cached for the TTL (a change made by
// another Store is seen once it passes), and this Store's own changes are
// seen at once.
func TestTenantIssuersCache(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	if err := s.AddTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if list, err := s.TenantIssuers(ctx, "acme"); err != nil || len(list) != 0 {
		t.Fatalf("no issuers: %+v %v", list, err)
	}
	in := Issuer{Tenant: "acme", Issuer: "https://sts.example/", JWKSURL: "https://k.example/keys"}
	if _, err := s.SetIssuer(ctx, in); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.TenantIssuers(ctx, "acme"); len(list) != 1 {
		t.Fatalf("own change not seen at once: %+v", list)
	}
	other := New(db)
	if err := other.RemoveIssuer(ctx, "acme", in.Issuer); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.TenantIssuers(ctx, "acme"); len(list) != 1 {
		t.Fatalf("cached list not used within the TTL: %+v", list)
	}
	now = now.Add(DefaultTTL)
	if list, _ := s.TenantIssuers(ctx, "acme"); len(list) != 0 {
		t.Fatalf("removal by another store not seen after the TTL: %+v", list)
	}
}
