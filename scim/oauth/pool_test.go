package oauth

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimforge/scimforge/internal/jwkstest"
)

// TestPool: one key set per JWKS URL, made on first use and shared by
// every caller of that URL; at most Size are kept, the least recently
// used dropped first (and fetched again when needed again); issuer and
// audience are those of each Verify call.
func TestPool(t *testing.T) {
	ctx := context.Background()
	a, b, c := jwkstest.New(t), jwkstest.New(t), jwkstest.New(t)
	p := NewPool(Config{Leeway: time.Minute}, 2)
	if p.Len() != 0 || a.Fetches.Load() != 0 {
		t.Fatal("the pool fetched before first use")
	}
	ka, err := p.Keys(a.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := p.Keys(a.JWKSURL()); again != ka {
		t.Fatal("a second key set for one URL")
	}
	const issA = "https://issuer-a.example/"
	tok := a.Token(t, func(c jwt.MapClaims) { c["iss"] = issA })
	if _, err := ka.Verify(ctx, tok, issA, []string{jwkstest.Audience}); err != nil {
		t.Fatalf("A's token: %v", err)
	}
	if _, err := ka.Verify(ctx, tok, "https://issuer-b.example/", []string{jwkstest.Audience}); err == nil {
		t.Fatal("A's token accepted for another issuer")
	}
	if _, err := ka.Verify(ctx, tok, issA, []string{"api://other"}); err == nil {
		t.Fatal("A's token accepted for another audience")
	}
	if _, err := ka.Verify(ctx, tok, issA, nil); err == nil {
		t.Fatal("verified without an audience")
	}
	// B's key is not in A's set.
	if _, err := ka.Verify(ctx, b.Token(t, func(c jwt.MapClaims) { c["iss"] = issA }), issA, []string{jwkstest.Audience}); err == nil {
		t.Fatal("a token signed by B's key accepted with A's keys")
	}
	if _, err := p.Keys(b.JWKSURL()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Keys(a.JWKSURL()); err != nil { // a is now the most recent
		t.Fatal(err)
	}
	if _, err := p.Keys(c.JWKSURL()); err != nil { // evicts b
		t.Fatal(err)
	}
	if p.Len() != 2 {
		t.Fatalf("pool holds %d key sets, want at most 2", p.Len())
	}
	if again, _ := p.Keys(a.JWKSURL()); again != ka {
		t.Fatal("the recently used key set was evicted")
	}
	fetched := b.Fetches.Load()
	if _, err := p.Keys(b.JWKSURL()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Fetches.Load() == fetched {
		if time.Now().After(deadline) {
			t.Fatal("an evicted key set was not fetched again")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
