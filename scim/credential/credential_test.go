package credential

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/scimforge/scimforge/scim/tenant"
)

// newStore opens a fresh SQLite file with the migrations applied.
func newStore(t *testing.T) (*Store, *bun.DB) {
	t.Helper()
	sqldb, err := sql.Open(sqliteshim.ShimName, "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db := bun.NewDB(sqldb, sqlitedialect.New())
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := Migrate(ctx, db, "sqlite"); err != nil {
		t.Fatal(err)
	}
	// Applying them again changes nothing.
	if err := Migrate(ctx, db, "sqlite"); err != nil {
		t.Fatal(err)
	}
	return New(db), db
}

func TestMigrationsBothDialects(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		entries, err := Migrations.ReadDir("migrations/" + d)
		if err != nil || len(entries) == 0 {
			t.Fatalf("%s: %v %v", d, entries, err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".tx.up.sql") || len(strings.SplitN(e.Name(), "_", 2)[0]) != 14 {
				t.Errorf("%s/%s: want NNNNNNNNNNNNNN_name.tx.up.sql", d, e.Name())
			}
		}
	}
	if err := Migrate(context.Background(), nil, "oracle"); err == nil {
		t.Error("unknown dialect accepted")
	}
}

func TestTenants(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.EnsureTenant(ctx, tenant.Default); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTenant(ctx, tenant.Default); err != nil {
		t.Fatal("EnsureTenant not idempotent:", err)
	}
	if err := s.AddTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTenant(ctx, "acme"); !errors.Is(err, ErrTenantExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := s.AddTenant(ctx, "Bad_Name"); err == nil {
		t.Fatal("invalid name accepted")
	}
	ts, err := s.Tenants(ctx)
	if err != nil || len(ts) != 2 || ts[0].Name != "acme" || ts[1].Name != "default" || ts[0].Created.IsZero() {
		t.Fatalf("Tenants = %+v, %v", ts, err)
	}
	if ok, _ := s.HasTenant(ctx, "acme"); !ok {
		t.Fatal("HasTenant(acme) false")
	}
	if err := s.RemoveTenant(ctx, tenant.Default, nil); err == nil {
		t.Fatal("removed the default tenant")
	}
	if err := s.RemoveTenant(ctx, "nope", nil); !errors.Is(err, ErrNoTenant) {
		t.Fatalf("remove unknown: %v", err)
	}
}

func TestTokenLifecycle(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	for _, n := range []string{"acme", "beta"} {
		if err := s.AddTenant(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateToken(ctx, "nope", ""); !errors.Is(err, ErrNoTenant) {
		t.Fatalf("token for unknown tenant: %v", err)
	}
	tok, info, err := s.CreateToken(ctx, "acme", "okta")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "sfg_acme_") || len(tok) != len("sfg_acme_")+43 || info.ID == "" || info.Label != "okta" {
		t.Fatalf("token %q info %+v", tok, info)
	}
	// Only the hash is stored.
	var stored []string
	if err := db.NewSelect().Table("scimforge_tokens").Column("hash").Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || strings.Contains(tok, stored[0]) || stored[0] != hashOf(tok) {
		t.Fatalf("stored %v", stored)
	}
	tn, id, ok, err := s.Authenticate(ctx, tok)
	if err != nil || !ok || tn != "acme" || id != info.ID {
		t.Fatalf("Authenticate = %q %q %v %v", tn, id, ok, err)
	}
	last := "A"
	if strings.HasSuffix(tok, "A") {
		last = "B"
	}
	for _, bad := range []string{"", "sfg_acme_", tok + "x", tok[:len(tok)-1] + last, strings.Replace(tok, "acme", "beta", 1), "Bearer " + tok, "sfg_Acme_" + tok[9:]} {
		if _, _, ok, err := s.Authenticate(ctx, bad); ok || err != nil {
			t.Errorf("Authenticate(%q) = %v, %v", bad, ok, err)
		}
	}
	list, err := s.Tokens(ctx, "acme")
	if err != nil || len(list) != 1 || list[0].ID != info.ID || list[0].LastUsed == nil || list[0].Revoked != nil {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}
	if l, _ := s.Tokens(ctx, "beta"); len(l) != 0 {
		t.Fatalf("beta has tokens %+v", l)
	}
	if err := s.RevokeToken(ctx, "beta", info.ID); !errors.Is(err, ErrNoToken) {
		t.Fatalf("revoke another tenant's token: %v", err)
	}
	if err := s.RevokeToken(ctx, "acme", info.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "acme", info.ID); err != nil {
		t.Fatal("revoke twice:", err)
	}
	// This process forgets the token at once.
	if _, _, ok, _ := s.Authenticate(ctx, tok); ok {
		t.Fatal("revoked token accepted")
	}
	if has, _ := s.HasActiveTokens(ctx, "acme"); has {
		t.Fatal("HasActiveTokens after revoke")
	}
	if list, _ := s.Tokens(ctx, "acme"); len(list) != 1 || list[0].Revoked == nil {
		t.Fatalf("after revoke: %+v", list)
	}
}

// TestCacheAcrossInstances: two stores on one database stand for two
// server instances. A revocation through one reaches the other within the
// TTL, and until then the other serves from its cache without reading.
func TestCacheAcrossInstances(t *testing.T) {
	a, db := newStore(t)
	b := New(db)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return clock }
	ctx := context.Background()
	if err := a.AddTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	tok, info, err := a.CreateToken(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := b.Authenticate(ctx, tok); !ok {
		t.Fatal("b refused a live token")
	}
	if err := a.RevokeToken(ctx, "acme", info.ID); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(DefaultTTL - time.Millisecond)
	if _, _, ok, _ := b.Authenticate(ctx, tok); !ok {
		t.Fatal("b read the database inside the TTL")
	}
	clock = clock.Add(time.Millisecond)
	if _, _, ok, _ := b.Authenticate(ctx, tok); ok {
		t.Fatal("b accepted a token revoked more than a TTL ago")
	}
	// A negative answer is cached too: a token created after b's miss is
	// seen by b only after the TTL. (A new token never has a cached miss,
	// since its secret is fresh; the same holds for an unknown token.)
	unknown := "sfg_acme_" + strings.Repeat("A", 43)
	if _, _, ok, _ := b.Authenticate(ctx, unknown); ok {
		t.Fatal("unknown token accepted")
	}
	b.mu.Lock()
	_, cachedMiss := b.cache[hashOf(unknown)]
	b.mu.Unlock()
	if !cachedMiss {
		t.Fatal("miss not cached")
	}
}

// TestLastUsedOncePerMinute: last_used moves at most once a minute.
func TestLastUsedOncePerMinute(t *testing.T) {
	s, _ := newStore(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	s.SetCacheTTL(0)
	ctx := context.Background()
	if err := s.AddTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateToken(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		l, err := s.Tokens(ctx, "acme")
		if err != nil || l[0].LastUsed == nil {
			t.Fatalf("%+v %v", l, err)
		}
		return *l[0].LastUsed
	}
	s.Authenticate(ctx, tok)
	first := lastUsed()
	clock = clock.Add(30 * time.Second)
	s.Authenticate(ctx, tok)
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last_used moved after 30 s: %v -> %v", first, got)
	}
	clock = clock.Add(31 * time.Second)
	s.Authenticate(ctx, tok)
	if got := lastUsed(); !got.Equal(clock) {
		t.Fatalf("last_used %v, want %v", got, clock)
	}
}

func TestRemoveTenantPurgesInOneTx(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	if err := s.AddTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateToken(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := s.Authenticate(ctx, tok); !ok {
		t.Fatal("token refused")
	}
	// A failing purge removes nothing.
	boom := errors.New("boom")
	if err := s.RemoveTenant(ctx, "acme", func(ctx context.Context, tx bun.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("purge error lost: %v", err)
	}
	if ok, _ := s.HasTenant(ctx, "acme"); !ok {
		t.Fatal("tenant gone after failed purge")
	}
	called := false
	if err := s.RemoveTenant(ctx, "acme", func(ctx context.Context, tx bun.Tx) error {
		called = true
		return nil
	}); err != nil || !called {
		t.Fatalf("remove: %v, purge called %v", err, called)
	}
	if _, _, ok, _ := s.Authenticate(ctx, tok); ok {
		t.Fatal("token of a removed tenant accepted")
	}
	n, err := db.NewSelect().Table("scimforge_tokens").Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("%d tokens left, %v", n, err)
	}
}
