// Package jwkstest is an OAuth issuer for tests: a JWKS served on
// 127.0.0.1 (httptest) with generated keys, shaped like Entra ID's (no
// "alg", "use":"sig"), that can rotate keys and go down, and signs tokens.
package jwkstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer and Audience are the claims Token puts in by default (Entra's
// shapes: a v1 issuer and the provisioning service's audience).
const (
	Issuer   = "https://sts.windows.net/00000000-0000-4000-8000-000000000001/"
	Audience = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
)

// Key is a signing key and its kid.
type Key struct {
	ID   string
	Priv crypto.Signer
}

// Server serves a JWK Set.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []Key
	extra   []map[string]string
	n       int
	down    bool
	hold    chan struct{}
	Fetches atomic.Int64
}

// New starts a JWKS server with one RSA key; it stops at the test's end.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	s.AddRSA(t)
	return s
}

// URL of the key set.
func (s *Server) JWKSURL() string { return s.URL + "/keys" }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.Fetches.Add(1)
	s.mu.Lock()
	down, hold := s.down, s.hold
	keys := append([]Key(nil), s.keys...)
	extra := append([]map[string]string(nil), s.extra...)
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if down || r.URL.Path != "/keys" {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	var out []map[string]string
	for _, k := range keys {
		out = append(out, jwk(k))
	}
	out = append(out, extra...)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"keys": out})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwk(k Key) map[string]string {
	switch pub := k.Priv.Public().(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "use": "sig", "kid": k.ID, "n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		b := make([]byte, 32)
		x, y := pub.X.FillBytes(b), pub.Y.FillBytes(make([]byte, 32))
		return map[string]string{"kty": "EC", "use": "sig", "kid": k.ID, "crv": "P-256", "x": b64(x), "y": b64(y)}
	}
	panic("key type")
}

// AddRSA publishes a new RSA key and returns it.
func (s *Server) AddRSA(t testing.TB) Key {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return s.add(priv)
}

// AddRSABits publishes a new RSA key of the given size (weak ones too).
func (s *Server) AddRSABits(t testing.TB, bits int) Key {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return s.add(priv)
}

// AddRaw publishes a JWK as given (other key types).
func (s *Server) AddRaw(jwk map[string]string) {
	s.mu.Lock()
	s.extra = append(s.extra, jwk)
	s.mu.Unlock()
}

// AddEC publishes a new P-256 key and returns it.
func (s *Server) AddEC(t testing.TB) Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s.add(priv)
}

func (s *Server) add(priv crypto.Signer) Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	k := Key{ID: "kid-" + strconv.Itoa(s.n), Priv: priv}
	s.keys = append(s.keys, k)
	return k
}

// Rotate replaces every published key with a new RSA key (a rotation
// where the old key is withdrawn) and returns it.
func (s *Server) Rotate(t testing.TB) Key {
	t.Helper()
	s.mu.Lock()
	s.keys = nil
	s.mu.Unlock()
	return s.AddRSA(t)
}

// Key returns the newest published key.
func (s *Server) Key() Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[len(s.keys)-1]
}

// SetDown makes the server answer 503 (true) or serve again (false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// Hold makes requests wait until release is called (a JWKS that hangs).
func (s *Server) Hold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Claims returns valid claims for an hour from now.
func Claims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": Issuer, "aud": Audience, "sub": "provisioning-agent",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// Sign signs claims with k (RS256 or ES256 by the key's type) and k's kid.
func Sign(t testing.TB, k Key, claims jwt.MapClaims) string {
	t.Helper()
	m := jwt.SigningMethod(jwt.SigningMethodRS256)
	if _, ok := k.Priv.(*ecdsa.PrivateKey); ok {
		m = jwt.SigningMethodES256
	}
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = k.ID
	s, err := tok.SignedString(k.Priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Token is Sign with the newest key and Claims edited by edit (nil: as is).
func (s *Server) Token(t testing.TB, edit func(jwt.MapClaims)) string {
	t.Helper()
	c := Claims()
	if edit != nil {
		edit(c)
	}
	return Sign(t, s.Key(), c)
}
