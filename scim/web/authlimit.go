package web

import (
	"crypto/sha256"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// FailureLimiter slows clients that keep failing authentication: each
// client address has a bucket of Max failures that refills over Window;
// once it is empty, the address's requests are answered 429 with
// Retry-After before their credentials are looked at (neither the
// database nor a signature check is spent on them, and guessing runs at
// the refill rate).
//
// Counting is per address, so an attacker cannot lock out a client on
// another address. A client on the attacker's address (a shared NAT or
// egress) keeps working with a credential that succeeded within the last
// hour: such a credential (its hash with the tenant) bypasses the block
// and is checked as usual, which gives an attacker nothing as it needs a
// valid credential to begin with. A success does not refill the bucket:
// a client with a valid token of one tenant must not reset its count of
// guesses at another tenant's.
type FailureLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	by *buckets // failures per address
	// seen holds when each recently successful credential (tenant and
	// header, hashed) last succeeded (lru.Cache locks itself).
	seen *lru.Cache[[32]byte, time.Time]
}

// Bounds of the limiter's memory: addresses with recent failures (an
// evicted address starts again with a full bucket, so an attacker must
// spread over this many addresses to gain from eviction) and recently
// successful credentials. Plain LRUs: a full bucket left behind blocks
// nothing, and an old success is told by its time.
const (
	maxFailingAddrs = 65536
	maxGoodCreds    = 4096
	goodCredTTL     = time.Hour
)

// NewFailureLimiter allows max failures per window from one address.
func NewFailureLimiter(max int, window time.Duration) *FailureLimiter {
	seen, _ := lru.New[[32]byte, time.Time](maxGoodCreds)
	return &FailureLimiter{
		max: max, window: window, now: time.Now,
		by:   newBuckets(maxFailingAddrs, rate.Every(window/time.Duration(max)), max),
		seen: seen,
	}
}

// blocked reports whether addr has no failures left, and how long until
// it has one.
func (f *FailureLimiter) blocked(addr string) (time.Duration, bool) {
	lim, ok := f.by.peek(addr)
	if !ok {
		return 0, false
	}
	tokens := lim.TokensAt(f.now())
	if tokens >= 1 {
		return 0, false
	}
	return time.Duration((1 - tokens) * float64(f.window) / float64(f.max)), true
}

// fail counts a failure of addr.
func (f *FailureLimiter) fail(addr string) { f.by.get(addr).AllowN(f.now(), 1) }

func credKey(tn, raw string) [32]byte { return sha256.Sum256([]byte(tn + "\x00" + raw)) }

func (f *FailureLimiter) good(tn, raw string) {
	f.seen.Add(credKey(tn, raw), f.now())
}

func (f *FailureLimiter) recentlyGood(tn, raw string) bool {
	if raw == "" {
		return false
	}
	at, ok := f.seen.Peek(credKey(tn, raw))
	return ok && f.now().Sub(at) < goodCredTTL
}

// authClientAddr is the address failures are counted by: the client's
// (ClientAddr: the peer, or what a trusted proxy said), an IPv6 one as its
// /64 (one host usually has the whole prefix).
func authClientAddr(r *http.Request) string {
	a := clientAddr(r)
	if !a.IsValid() {
		return r.RemoteAddr
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
