// Package oauth verifies OAuth 2.0 bearer tokens that are JWTs (what
// Microsoft Entra ID sends when a provisioning app has no secret token):
// signed with RS256 or ES256 by a key the issuer publishes at a JWKS URL,
// with the configured issuer and audience, within exp and nbf.
//
// Keys are cached in memory. A background-free design keeps the
// package's lifetime that of its Verifier value (no goroutine to stop):
// requests and readiness probes start a refresh when one is due (hourly,
// or after a failure with a growing backoff), and a token whose kid is
// unknown starts one at most once per UnknownKIDEvery (a key rotation is
// seen at once; a stream of made-up kids costs one fetch a minute). A
// request waits for keys at most KeyWait; a fetch runs on its own
// deadline, so a client that gives up does not abort it for the others.
// A failed fetch keeps the keys already cached.
package oauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Algorithms are the only signature algorithms accepted: asymmetric, so
// that the public keys of the JWKS cannot be used as an HMAC secret, and
// never "none".
var Algorithms = []string{"RS256", "ES256"}

// Config configures a Verifier. Issuer, Audiences and JWKSURL are required.
type Config struct {
	// Issuer is the exact "iss" a token must carry, e.g.
	// https://sts.windows.net/<directory id>/ for Entra ID.
	Issuer string
	// Audiences are accepted "aud" values; a token must name at least one
	// of them (its aud may be a string or an array).
	Audiences []string
	// JWKSURL serves the issuer's signing keys (a JWK Set).
	JWKSURL string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
	// Client fetches the JWKS; nil: a client with FetchTimeout.
	Client *http.Client
	// FetchTimeout bounds one JWKS fetch (default 10 s).
	FetchTimeout time.Duration
	// RefreshInterval is how often the keys are fetched again while they
	// are in use (default 1 h).
	RefreshInterval time.Duration
	// UnknownKIDEvery is the least time between two fetches started by a
	// token whose kid is not cached (default 1 min).
	UnknownKIDEvery time.Duration
	// KeyWait is the longest a request waits for a fetch (default 1 s).
	KeyWait time.Duration
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
	// Log receives fetch failures; nil: discarded.
	Log *slog.Logger
}

// Verifier checks JWTs against one issuer's keys.
type Verifier struct {
	parser *jwt.Parser
	keys   *KeySet
}

// New returns a Verifier and starts the first fetch of the keys (New does
// not wait for it: Ready reports when keys are loaded).
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" || len(cfg.Audiences) == 0 || cfg.JWKSURL == "" {
		return nil, errors.New("oauth: issuer, audience and JWKS URL are required")
	}
	keys, err := NewKeySet(cfg)
	if err != nil {
		return nil, err
	}
	return &Verifier{keys: keys, parser: keys.parser(cfg.Issuer, cfg.Audiences)}, nil
}

// Verify checks a JWT and returns its subject ("sub", may be empty). The
// error says why a token was refused; it is for the log, not the caller.
func (v *Verifier) Verify(ctx context.Context, token string) (string, error) {
	return v.keys.verify(ctx, token, v.parser)
}

// Ready is nil once signing keys are cached. Before that it starts a
// fetch when one is due (so probes retry a JWKS that was down at start)
// and returns why there are no keys.
func (v *Verifier) Ready(ctx context.Context) error { return v.keys.Ready(ctx) }

// KeySet is the cached signing keys of one JWKS URL, which any number of
// issuers may share (per-tenant issuers: see Pool). Config.Issuer and
// Config.Audiences are not used: each Verify names them.
type KeySet struct {
	cfg  Config
	keys *keyCache
	kf   keyfunc.Keyfunc
}

// NewKeySet returns the key set of cfg.JWKSURL and starts its first fetch
// without waiting for it.
func NewKeySet(cfg Config) (*KeySet, error) {
	if cfg.JWKSURL == "" {
		return nil, errors.New("oauth: a JWKS URL is required")
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Hour
	}
	if cfg.UnknownKIDEvery <= 0 {
		cfg.UnknownKIDEvery = time.Minute
	}
	if cfg.KeyWait <= 0 {
		cfg.KeyWait = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.FetchTimeout}
	}
	ks := &KeySet{cfg: cfg}
	ks.keys = &keyCache{
		Storage:    jwkset.NewMemoryStorage(),
		cfg:        &ks.cfg,
		unknownKID: rate.NewLimiter(rate.Every(cfg.UnknownKIDEvery), 1),
	}
	kf, err := keyfunc.New(keyfunc.Options{
		Storage: ks.keys,
		// Entra's keys say "use":"sig"; a key without "use" is allowed, an
		// encryption key is not.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, jwkset.USE("")},
	})
	if err != nil {
		return nil, err
	}
	ks.kf = kf
	ks.keys.start()
	return ks, nil
}

// parser checks the algorithm, iss exactly, aud, exp (required), nbf and
// iat within the leeway.
func (k *KeySet) parser(issuer string, audiences []string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods(Algorithms),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audiences...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(k.cfg.Leeway),
		jwt.WithTimeFunc(k.cfg.Now),
	)
}

// Verify checks a JWT signed by a key of this set, from issuer and for
// one of audiences (both required), and returns its subject.
func (k *KeySet) Verify(ctx context.Context, token, issuer string, audiences []string) (string, error) {
	if issuer == "" || len(audiences) == 0 {
		return "", errors.New("no issuer or no audience to check the token against")
	}
	return k.verify(ctx, token, k.parser(issuer, audiences))
}

func (k *KeySet) verify(ctx context.Context, token string, p *jwt.Parser) (string, error) {
	k.keys.maybeRefresh()
	ctx, cancel := context.WithTimeout(ctx, k.cfg.KeyWait)
	defer cancel()
	tok, err := p.Parse(token, k.kf.KeyfuncCtx(ctx))
	if err != nil {
		return "", err
	}
	sub, _ := tok.Claims.GetSubject()
	return sub, nil
}

// Ready is nil once signing keys are cached; see Verifier.Ready.
func (k *KeySet) Ready(ctx context.Context) error {
	all, err := k.keys.Storage.KeyReadAll(ctx)
	if err == nil && len(all) > 0 {
		return nil
	}
	k.keys.maybeRefresh()
	if last := k.keys.lastError(); last != nil {
		return fmt.Errorf("no signing keys loaded from the JWKS URL: %w", last)
	}
	return errors.New("no signing keys loaded from the JWKS URL yet")
}

// keyCache is the JWK storage keyfunc reads: memory, with KeyRead
// refreshing on an unknown kid (rate-limited, bounded by the request's
// deadline).
type keyCache struct {
	jwkset.Storage
	cfg        *Config
	unknownKID *rate.Limiter

	mu       sync.Mutex
	inflight chan struct{} // closed when the running fetch ends; nil: none
	next     time.Time     // when the next scheduled fetch is due
	failures int           // consecutive failed fetches
	err      error         // the last fetch's error
}

func (k *keyCache) start() {
	k.mu.Lock()
	k.fetchLocked()
	k.mu.Unlock()
}

// KeyRead returns the cached key, or fetches the JWKS once when kid is
// unknown and the unknown-kid limiter allows it. A fetch already running
// (scheduled, or started by another request) is waited for first; if it
// was not ours and the key is still missing, one of our own may follow.
func (k *keyCache) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	jwk, err := k.Storage.KeyRead(ctx, kid)
	for attempt := 0; attempt < 2 && errors.Is(err, jwkset.ErrKeyNotFound); attempt++ {
		k.mu.Lock()
		done, ours := k.inflight, false
		if done == nil {
			if !k.unknownKID.AllowN(k.cfg.Now(), 1) {
				k.mu.Unlock()
				return jwkset.JWK{}, fmt.Errorf("key %q not in the JWKS (refreshed less than %s ago)", kid, k.cfg.UnknownKIDEvery)
			}
			done, ours = k.fetchLocked(), true
		}
		k.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return jwkset.JWK{}, fmt.Errorf("key %q: waiting for the JWKS: %w", kid, ctx.Err())
		}
		jwk, err = k.Storage.KeyRead(ctx, kid)
		if ours {
			break
		}
	}
	return jwk, err
}

// maybeRefresh starts a fetch when one is due and none runs.
func (k *keyCache) maybeRefresh() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.inflight == nil && !k.cfg.Now().Before(k.next) {
		k.fetchLocked()
	}
}

func (k *keyCache) lastError() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// fetchLocked starts a fetch (k.mu held) and returns its done channel.
func (k *keyCache) fetchLocked() chan struct{} {
	if k.inflight != nil {
		return k.inflight
	}
	done := make(chan struct{})
	k.inflight = done
	go func() {
		err := k.fetch()
		k.mu.Lock()
		k.inflight, k.err = nil, err
		now := k.cfg.Now()
		if err == nil {
			k.failures = 0
			k.next = now.Add(k.cfg.RefreshInterval)
		} else {
			// 1 s, 2 s, 4 s … at most a minute; the cached keys stay.
			k.failures++
			k.next = now.Add(min(time.Second<<min(k.failures-1, 6), time.Minute))
			k.cfg.Log.Warn("oauth: fetching the JWKS failed; the keys already loaded stay in use", "url", k.cfg.JWKSURL, "err", err, "failures", k.failures)
		}
		k.mu.Unlock()
		close(done)
	}()
	return done
}

// maxJWKS bounds the JWKS document read (Entra's is about 10 KiB).
const maxJWKS = 1 << 20

func (k *keyCache) fetch() error {
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.cfg.JWKSURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	var set jwkset.JWKSMarshal
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKS)).Decode(&set); err != nil {
		return fmt.Errorf("not a JWK Set: %w", err)
	}
	keys := make([]jwkset.JWK, 0, len(set.Keys))
	for _, m := range set.Keys {
		// Only the key types of the accepted algorithms: a symmetric
		// ("oct") key in the set must never become a verification key.
		if m.KTY != jwkset.KtyRSA && m.KTY != jwkset.KtyEC {
			k.cfg.Log.Debug("oauth: skipping a JWKS key of another type", "kid", m.KID, "kty", m.KTY)
			continue
		}
		// Public parts only; a key the library cannot use (a bad
		// encoding) is skipped, not fatal for the others.
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			k.cfg.Log.Debug("oauth: skipping a JWKS key", "kid", m.KID, "err", err)
			continue
		}
		if pub, ok := jwk.Key().(*rsa.PublicKey); ok && pub.N.BitLen() < 2048 {
			k.cfg.Log.Debug("oauth: skipping an RSA key under 2048 bits", "kid", m.KID, "bits", pub.N.BitLen())
			continue
		}
		keys = append(keys, jwk)
	}
	if len(keys) == 0 {
		return errors.New("the JWK Set has no usable key")
	}
	return k.Storage.KeyReplaceAll(ctx, keys)
}
