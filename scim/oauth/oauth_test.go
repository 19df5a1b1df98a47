package oauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scimforge/scimforge/internal/jwkstest"
)

func newVerifier(t *testing.T, s *jwkstest.Server, edit func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{Issuer: jwkstest.Issuer, Audiences: []string{jwkstest.Audience}, JWKSURL: s.JWKSURL(), Leeway: 30 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, v)
	return v
}

func waitReady(t *testing.T, v *Verifier) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for v.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("keys not loaded: %v", v.Ready(context.Background()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for busy(v) { // the fetch that stored them is still finishing
		time.Sleep(time.Millisecond)
	}
}

// TestVerifyClaims: exactly the tokens of the configured issuer, for the
// configured audience, inside their validity, signed with RS256/ES256 by
// a published key pass.
func TestVerifyClaims(t *testing.T) {
	s := jwkstest.New(t)
	ec := s.AddEC(t)
	rk := s.Rotate(t) // ec is withdrawn: only a new RSA key is published
	v := newVerifier(t, s, nil)
	ctx := context.Background()
	now := time.Now()
	ok := func(name, tok string) {
		t.Helper()
		if sub, err := v.Verify(ctx, tok); err != nil || sub != "provisioning-agent" {
			t.Errorf("%s refused: %v", name, err)
		}
	}
	bad := func(name, tok, why string) {
		t.Helper()
		_, err := v.Verify(ctx, tok)
		if err == nil {
			t.Errorf("%s accepted", name)
		} else if !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v (want %q in it)", name, err, why)
		}
	}
	ok("valid", s.Token(t, nil))
	ok("aud array", s.Token(t, func(c jwt.MapClaims) { c["aud"] = []string{"other", jwkstest.Audience} }))
	ok("within leeway", s.Token(t, func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }))
	bad("wrong aud", s.Token(t, func(c jwt.MapClaims) { c["aud"] = "api://someone-else" }), "audience")
	bad("aud array without ours", s.Token(t, func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} }), "audience")
	bad("wrong iss", s.Token(t, func(c jwt.MapClaims) {
		c["iss"] = "https://login.microsoftonline.com/00000000-0000-4000-8000-000000000001/v2.0"
	}), "issuer")
	bad("expired", s.Token(t, func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), "expired")
	bad("nbf in the future", s.Token(t, func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), "not valid yet")
	bad("iat in the future", s.Token(t, func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() }), "used before issued")
	bad("missing exp", s.Token(t, func(c jwt.MapClaims) { delete(c, "exp") }), "exp")

	// ES256 with a P-256 key the JWKS no longer has: refused; published: accepted.
	bad("withdrawn EC key", jwkstest.Sign(t, ec, jwkstest.Claims()), `"kid-2"`)
	ec2 := s.AddEC(t)
	v2 := newVerifier(t, s, nil)
	if _, err := v2.Verify(ctx, jwkstest.Sign(t, ec2, jwkstest.Claims())); err != nil {
		t.Errorf("ES256: %v", err)
	}

	// alg none, with and without a kid.
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwkstest.Claims())
	none.Header["kid"] = rk.ID
	noneTok, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	bad("alg none", noneTok, "signing method none is invalid")

	// HS256 keyed with the RSA public key (the classic alg confusion), as
	// PEM and as the raw modulus.
	pub := rk.Priv.Public().(*rsa.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	for name, secret := range map[string][]byte{
		"HS256 with the PEM public key": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"HS256 with the modulus as key": pub.N.Bytes(),
		"HS256 with the DER public key": der,
	} {
		h := jwt.NewWithClaims(jwt.SigningMethodHS256, jwkstest.Claims())
		h.Header["kid"] = rk.ID
		tok, err := h.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		bad(name, tok, "signing method HS256 is invalid")
	}

	// A signature by a key that is not published under the kid it names.
	forged := jwkstest.Sign(t, jwkstest.Key{ID: rk.ID, Priv: ec.Priv}, jwkstest.Claims())
	bad("ES256 under an RSA key's kid", forged, "")
	tampered := jwkstest.Sign(t, rk, jwkstest.Claims())
	parts := strings.Split(tampered, ".")
	other := strings.Split(jwkstest.Sign(t, rk, jwt.MapClaims{"iss": jwkstest.Issuer, "aud": jwkstest.Audience, "sub": "someone-else", "exp": time.Now().Add(time.Hour).Unix()}), ".")
	bad("payload swapped", parts[0]+"."+other[1]+"."+parts[2], "signature")
}

// TestKeyRotation: a token signed with a key published after the cache was
// filled is accepted after one fetch; unknown kids beyond that fetch no
// more than once per UnknownKIDEvery and never wait longer than KeyWait.
func TestKeyRotation(t *testing.T) {
	s := jwkstest.New(t)
	v := newVerifier(t, s, func(c *Config) { c.UnknownKIDEvery = time.Hour; c.KeyWait = 300 * time.Millisecond })
	ctx := context.Background()
	if _, err := v.Verify(ctx, s.Token(t, nil)); err != nil {
		t.Fatal(err)
	}
	before := s.Fetches.Load()
	s.Rotate(t)
	if _, err := v.Verify(ctx, s.Token(t, nil)); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if got := s.Fetches.Load() - before; got != 1 {
		t.Errorf("the rotation took %d fetches, want 1", got)
	}
	// Made-up kids: the limiter allows no further fetch within the hour.
	for i := 0; i < 20; i++ {
		k := jwkstest.Key{ID: "made-up", Priv: s.Key().Priv}
		start := time.Now()
		if _, err := v.Verify(ctx, jwkstest.Sign(t, k, jwkstest.Claims())); err == nil {
			t.Fatal("an unknown kid was accepted")
		}
		if d := time.Since(start); d > 300*time.Millisecond+100*time.Millisecond {
			t.Fatalf("an unknown kid blocked %s", d)
		}
	}
	if got := s.Fetches.Load() - before; got != 1 {
		t.Errorf("unknown kids caused %d fetches, want none beyond the rotation's", got-1)
	}
}

// TestSlowJWKSBoundsTheRequest: a JWKS that hangs costs a request at most
// KeyWait; the fetch goes on and the next request gets the key.
func TestSlowJWKSBoundsTheRequest(t *testing.T) {
	s := jwkstest.New(t)
	v := newVerifier(t, s, func(c *Config) { c.KeyWait = 200 * time.Millisecond })
	release := s.Hold()
	s.Rotate(t)
	tok := s.Token(t, nil)
	start := time.Now()
	if _, err := v.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("while the JWKS hangs: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("the request waited %s", d)
	}
	release()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(context.Background(), tok)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fetch started by the first request never completed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestJWKSDown: keys loaded once stay in use while the JWKS is down; a
// verifier that never loaded keys is not ready, and becomes ready when the
// JWKS answers (its readiness probes drive the retries).
func TestJWKSDown(t *testing.T) {
	s := jwkstest.New(t)
	now := time.Now()
	var skew atomic.Int64
	v := newVerifier(t, s, func(c *Config) {
		c.RefreshInterval = time.Minute
		c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	})
	// The first fetch stores the keys before it schedules the next one:
	// wait for it to end, or the skew below would move that schedule too.
	for v.keys.keys.lastError() != nil || busy(v) {
		time.Sleep(time.Millisecond)
	}
	s.SetDown(true)
	fetched := s.Fetches.Load()
	skew.Store(int64(2 * time.Minute)) // the refresh is due
	tok := s.Token(t, func(c jwt.MapClaims) { c["iat"], c["nbf"] = now.Unix(), now.Unix() })
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("with the JWKS down, a cached key was refused: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); s.Fetches.Load() == fetched; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no refresh was tried while the JWKS was down")
		}
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after a failed refresh, a cached key was refused: %v", err)
	}
	if err := v.Ready(context.Background()); err != nil {
		t.Fatalf("cached keys but not ready: %v", err)
	}

	down := jwkstest.New(t)
	down.SetDown(true)
	v2, err := New(Config{Issuer: jwkstest.Issuer, Audiences: []string{jwkstest.Audience}, JWKSURL: down.JWKSURL()})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := v2.Ready(context.Background())
		if err == nil {
			t.Fatal("ready without keys")
		}
		if strings.Contains(err.Error(), "503") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness does not say why: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := v2.Verify(context.Background(), down.Token(t, nil)); err == nil {
		t.Fatal("a token was accepted without keys")
	}
	down.SetDown(false)
	deadline = time.Now().Add(5 * time.Second) // the backoff after one failure is 1 s
	for v2.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("never became ready: %v", v2.Ready(context.Background()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUnusableKeysSkipped: a symmetric key and a weak RSA key in the JWKS
// are never used, and do not stop the others from loading.
func TestUnusableKeysSkipped(t *testing.T) {
	s := jwkstest.New(t)
	secret := []byte("a-shared-secret-that-must-not-verify")
	s.AddRaw(map[string]string{"kty": "oct", "kid": "sym", "k": base64.RawURLEncoding.EncodeToString(secret)})
	weak := s.AddRSABits(t, 1024)
	strong := s.AddRSA(t)
	v := newVerifier(t, s, nil)
	ctx := context.Background()
	if _, err := v.Verify(ctx, jwkstest.Sign(t, strong, jwkstest.Claims())); err != nil {
		t.Fatalf("the good key: %v", err)
	}
	if _, err := v.Verify(ctx, jwkstest.Sign(t, weak, jwkstest.Claims())); err == nil {
		t.Error("a 1024-bit RSA key was used")
	}
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodRS256} {
		tok := jwt.NewWithClaims(m, jwkstest.Claims())
		tok.Header["kid"] = "sym"
		var key any = secret
		if m == jwt.SigningMethodRS256 {
			key = strong.Priv
		}
		raw, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, raw); err == nil {
			t.Errorf("%s under the symmetric key's kid was accepted", m.Alg())
		}
	}
}

func busy(v *Verifier) bool {
	v.keys.keys.mu.Lock()
	defer v.keys.keys.mu.Unlock()
	return v.keys.keys.inflight != nil
}

// BenchmarkVerify: the cost a JWT adds to a request (keys cached).
func BenchmarkVerify(b *testing.B) {
	s := jwkstest.New(b)
	for _, k := range []jwkstest.Key{s.Key(), s.AddEC(b)} {
		cfg := Config{Issuer: jwkstest.Issuer, Audiences: []string{jwkstest.Audience}, JWKSURL: s.JWKSURL()}
		v, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		tok := jwkstest.Sign(b, k, jwkstest.Claims())
		for v.Ready(context.Background()) != nil {
			time.Sleep(time.Millisecond)
		}
		name := "RS256"
		if strings.HasPrefix(k.ID, "kid-2") {
			name = "ES256"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
